/* Unit tests for dnsbld/answer.h through its public functions: a config and a
 * store in a temporary directory, queries built by hand (so case and bytes are
 * exact), responses read back with ldns and checked against the DNS behaviour
 * checklist of the design (listed, NXDOMAIN with SOA, NODATA, empty
 * non-terminals, apex, REFUSED, test points, EDNS, TC, NOTIMP, FORMERR, ANY,
 * exclusions, expiry, exemptions, immediate delisting). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <ftw.h>
#include <unistd.h>

#include <cmocka.h>
#include <ldns/ldns.h>

#include "addr.h"
#include "answer.h"
#include "config.h"
#include "err.h"
#include "store.h"
#include "answertest.h"
#include "testutil.h"
#include "wire.h"
#include "zone.h"


#define LONG_TXT_LEN 600
static char long_txt[LONG_TXT_LEN + 1];


static int put_entry(struct store_writer *w, struct store_zone *z, const char *prefix,
		     uint8_t flags, uint32_t a, const char *txt, uint32_t expires)
{
	struct entry_key p;
	struct store_put put;
	if (prefix4_parse(prefix, strlen(prefix), &p) != 0)
		return -100;
	memset(&put, 0, sizeof(put));
	put.flags = flags;
	put.a = a;
	put.seen = now0;
	put.hits = 1;
	put.expires = expires;
	/* a feed's listing that has already expired is not stored at all (STALE): an
	 * operator's is, and answered as not listed, which is what these tests need */
	if (expires != 0 && expires <= now0)
		put.actor = STORE_ACTOR_OPERATOR;
	put.txt = txt;
	put.txt_len = txt ? strlen(txt) : 0;
	int outcome = 0, rc = store_merge(w, z, &p, &put, &outcome);
	return rc < 0 ? rc : outcome == STORE_STALE ? -101 : 0;
}

/* Lists the IPv6 prefix text/len (the loader takes IPv6 in its own issue). */
static int put_entry6(struct store_writer *w, struct store_zone *z, const char *text,
		      unsigned len, uint8_t flags, const char *txt)
{
	struct entry_key p = {.family = ADDR_FAMILY_V6, .len = (uint8_t)len};
	struct store_put put = {.flags = flags, .seen = now0, .hits = 1, .txt = txt,
				.txt_len = txt ? strlen(txt) : 0};
	if (inet_pton(AF_INET6, text, p.addr) != 1)
		return -100;
	return store_merge(w, z, &p, &put, NULL);
}

/* The nibble-reversed name of IPv6 address text under zone, first nibbles only
 * (nibbles = 32 for the full address). */
static void nibble_name(const char *text, unsigned nibbles, const char *zone, char *out)
{
	uint8_t a[16];
	size_t n = 0;
	assert_int_equal(inet_pton(AF_INET6, text, a), 1);
	for (int i = (int)nibbles - 1; i >= 0; i--) {
		unsigned v = i % 2 ? a[i / 2] & 15 : a[i / 2] >> 4;
		n += (size_t)sprintf(out + n, "%x.", v);
	}
	strcpy(out + n, zone);
}

static int group_setup(void **state)
{
	(void)state;
	FILE *f = fixture_config_begin("answer");
	if (f == NULL)
		return -1;
	fprintf(f, ""
		   "[zone bl.example]\n"
		   "type = ip\n"
		   "policy = block\n"
		   "exempt = wl.example\n"
		   "ttl = 300\n"
		   "a = 127.0.0.2\n"
		   "txt = Listed, see https://bl.example/lookup?ip=$\n"
		   "soa = ns1.bl.example. hostmaster.bl.example. 3600 600 86400 120\n"
		   "ns = ns1.bl.example. ns2.bl.example.\n"
		   "[zone wl.example]\n"
		   "type = ip\n"
		   "policy = allow\n"
		   "ttl = 600\n"
		   "a = 127.0.0.10\n"
		   "soa = ns1.wl.example. hostmaster.wl.example. 3600 600 86400 900\n"
		   "ns = ns1.wl.example.\n");
	fclose(f);
	if (fixture_store_open() != 0)
		return -1;
	struct store_writer *w;
	struct store_zone *bl, *wl;
	if (store_writer_begin(S, &w) || store_writer_zone(w, "bl.example", &bl) ||
	    store_writer_zone(w, "wl.example", &wl))
		return -1;
	memset(long_txt, 'L', LONG_TXT_LEN);
	int bad = 0;
	bad |= put_entry(w, bl, "192.0.2.1/32", 0, 0, NULL, 0);
	bad |= put_entry(w, bl, "192.0.2.2/32", STORE_F_A | STORE_F_TXT, 0x7f000003,
			 "Open relay at $", 0);
	bad |= put_entry(w, bl, "192.0.2.4/32", STORE_F_A | STORE_F_NOTXT, 0x7f000005, NULL, 0);
	bad |= put_entry(w, bl, "192.0.2.9/32", 0, 0, NULL, now0 - 1000);
	bad |= put_entry(w, bl, "192.0.2.10/32", STORE_F_TXT, 0, long_txt, 0);
	bad |= put_entry(w, bl, "192.0.2.11/32", STORE_F_TXT, 0, "cost $$5 for $", 0);
	bad |= put_entry(w, bl, "192.0.2.50/32", 0, 0, NULL, 0);
	bad |= put_entry(w, bl, "198.51.100.0/24", STORE_F_A, 0x7f000003, NULL, 0);
	bad |= put_entry(w, bl, "198.51.100.7/32", STORE_F_EXCLUDE, 0, NULL, 0);
	bad |= put_entry(w, bl, "203.0.113.0/24", 0, 0, NULL, 0);
	bad |= put_entry(w, bl, "192.0.5.5/32", 0, 0, NULL, now0 - 1000);
	bad |= put_entry(w, wl, "192.0.2.50/32", 0, 0, NULL, 0);
	bad |= put_entry6(w, bl, "2001:db8::", 32, STORE_F_TXT, "v6 $ listed");
	bad |= put_entry6(w, bl, "2001:db8:1::1", 128, STORE_F_EXCLUDE, NULL);
	if (bad) {
		store_writer_abort(w);
		return -1;
	}
	if (store_writer_commit(w) != 0)
		return -1;
	return fixture_answer_ready();
}

/* --- queries --- */

struct qopt {
	uint16_t id;
	uint16_t flags;     /* header flags word (opcode included) */
	uint16_t qdcount;   /* 0 = 1 */
	bool edns;
	uint16_t udp;
	uint8_t version;
	bool two_opts;
	bool tcp;
	size_t outcap;      /* 0 = 65535 */
};

static size_t name_to_wire(const char *text, uint8_t *out)
{
	size_t n = 0;
	const char *p = text;
	while (*p) {
		const char *dot = strchr(p, '.');
		size_t l = dot ? (size_t)(dot - p) : strlen(p);
		out[n++] = (uint8_t)l;
		memcpy(out + n, p, l);
		n += l;
		p += l;
		if (*p == '.')
			p++;
	}
	out[n++] = 0;
	return n;
}

static size_t build_query(uint8_t *b, const char *name, uint16_t qtype, const struct qopt *o)
{
	struct wire_out w;
	wire_out_init(&w, b, 1024);
	wire_put_u16(&w, o->id);
	wire_put_u16(&w, o->flags);
	wire_put_u16(&w, o->qdcount ? o->qdcount : 1);
	wire_put_u16(&w, 0);
	wire_put_u16(&w, 0);
	wire_put_u16(&w, o->edns ? (o->two_opts ? 2 : 1) : 0);
	uint8_t nw[300];
	size_t nl = name_to_wire(name, nw);
	wire_put_bytes(&w, nw, nl);
	wire_put_u16(&w, qtype);
	wire_put_u16(&w, DNS_C_IN);
	for (int i = 0; o->edns && i < (o->two_opts ? 2 : 1); i++) {
		wire_put_u8(&w, 0);
		wire_put_u16(&w, DNS_T_OPT);
		wire_put_u16(&w, o->udp ? o->udp : 4096);
		wire_put_u8(&w, 0);
		wire_put_u8(&w, o->version);
		wire_put_u16(&w, 0);
		wire_put_u16(&w, 0);
	}
	assert_int_equal(w.err, 0);
	return w.pos;
}

static uint8_t qbuf[1024], rbuf[65536];
static size_t qlen, rlen;

/* Answers the query in one batch; returns the ldns packet (NULL if dropped). */
static ldns_pkt *ask(const char *name, uint16_t qtype, const struct qopt *o)
{
	static const struct qopt dflt = {.id = 0x2b2b, .flags = DNS_F_RD};
	if (o == NULL)
		o = &dflt;
	qlen = build_query(qbuf, name, qtype, o);
	answer_batch_begin(&ctx);
	rlen = answer_query(&ctx, guard_put(&gb, qbuf, qlen), qlen, rbuf,
			    o->outcap ? o->outcap : sizeof(rbuf), o->tcp);
	answer_batch_end(&ctx);
	if (rlen == 0)
		return NULL;
	ldns_pkt *p = NULL;
	ldns_status st = ldns_wire2pkt(&p, rbuf, rlen);
	if (st != LDNS_STATUS_OK)
		fail_msg("%s/%u: response of %zu bytes does not parse: %s", name, qtype, rlen,
			 ldns_get_errorstr_by_id(st));
	/* always: our id, QR, the question echoed byte for byte */
	assert_int_equal(ldns_pkt_id(p), o->id);
	assert_true(ldns_pkt_qr(p));
	assert_int_equal(wire_get_u16(rbuf + 2) & DNS_F_RD, o->flags & DNS_F_RD);
	assert_false(ldns_pkt_ra(p)); /* authoritative only */
	return p;
}

static void assert_question_echoed(void)
{
	struct dns_query q;
	assert_int_equal(dns_query_parse(qbuf, qlen, &q), DNS_PARSE_OK);
	assert_true(rlen >= q.question_end);
	assert_memory_equal(rbuf + 12, qbuf + 12, q.question_end - 12);
	assert_int_equal(wire_get_u16(rbuf + 4), 1);
}

static uint32_t store_serial(const char *zone)
{
	struct store_reader *r;
	struct store_zone z;
	assert_int_equal(store_reader_new(S, &r), 0);
	assert_int_equal(store_reader_begin(r), 0);
	assert_int_equal(store_zone_get(r, zone, &z), 0);
	store_reader_end(r);
	store_reader_free(r);
	return z.serial;
}

static void assert_neg_soa(ldns_pkt *p, const char *apex, uint32_t ttl, const char *zone)
{
	ldns_rr_list *ns = ldns_pkt_authority(p);
	assert_int_equal(ldns_rr_list_rr_count(ns), 1);
	ldns_rr *soa = ldns_rr_list_rr(ns, 0);
	assert_int_equal(ldns_rr_get_type(soa), LDNS_RR_TYPE_SOA);
	assert_int_equal(ldns_rr_ttl(soa), ttl);
	ldns_rdf *want = ldns_dname_new_frm_str(apex);
	assert_int_equal(ldns_dname_compare(ldns_rr_owner(soa), want), 0);
	ldns_rdf_deep_free(want);
	assert_int_equal(ldns_rdf2native_int32(ldns_rr_rdf(soa, 2)), store_serial(zone));
}

static void assert_a(ldns_pkt *p, uint32_t a, uint32_t ttl)
{
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	assert_true(ldns_pkt_aa(p));
	ldns_rr_list *an = ldns_pkt_answer(p);
	assert_int_equal(ldns_rr_list_rr_count(an), 1);
	ldns_rr *rr = ldns_rr_list_rr(an, 0);
	assert_int_equal(ldns_rr_get_type(rr), LDNS_RR_TYPE_A);
	assert_int_equal(ldns_rr_get_class(rr), LDNS_RR_CLASS_IN);
	assert_int_equal(ldns_rr_ttl(rr), ttl);
	assert_int_equal(wire_get_u32(ldns_rdf_data(ldns_rr_rdf(rr, 0))), a);
	/* the owner is the query name as sent */
	struct dns_query q;
	assert_int_equal(dns_query_parse(qbuf, qlen, &q), DNS_PARSE_OK);
	assert_int_equal(ldns_rdf_size(ldns_rr_owner(rr)), q.qname_len);
	assert_memory_equal(ldns_rdf_data(ldns_rr_owner(rr)), qbuf + 12, q.qname_len);
}

/* The TXT of the only answer record, strings concatenated; also the string count. */
static size_t txt_of(ldns_pkt *p, char *out, size_t size, size_t *nstrings)
{
	ldns_rr_list *an = ldns_pkt_answer(p);
	assert_int_equal(ldns_rr_list_rr_count(an), 1);
	ldns_rr *rr = ldns_rr_list_rr(an, 0);
	assert_int_equal(ldns_rr_get_type(rr), LDNS_RR_TYPE_TXT);
	size_t n = 0;
	for (size_t i = 0; i < ldns_rr_rd_count(rr); i++) {
		const uint8_t *d = ldns_rdf_data(ldns_rr_rdf(rr, i));
		assert_true(n + d[0] < size);
		memcpy(out + n, d + 1, d[0]);
		n += d[0];
	}
	out[n] = 0;
	if (nstrings)
		*nstrings = ldns_rr_rd_count(rr);
	return n;
}

static void expect_nxdomain(const char *name, uint16_t qtype)
{
	ldns_pkt *p = ask(name, qtype, NULL);
	assert_non_null(p);
	int rcode = ldns_pkt_get_rcode(p);
	if (rcode != LDNS_RCODE_NXDOMAIN) {
		ldns_pkt_free(p);
		fail_msg("%s/%u: rcode %d, want NXDOMAIN", name, qtype, rcode);
	}
	assert_true(ldns_pkt_aa(p));
	assert_int_equal(ldns_pkt_ancount(p), 0);
	assert_neg_soa(p, strstr(name, "wl.example") ? "wl.example." : "bl.example.",
		       strstr(name, "wl.example") ? 600 : 120,
		       strstr(name, "wl.example") ? "wl.example" : "bl.example");
	assert_question_echoed();
	ldns_pkt_free(p);
}

static void expect_nodata(const char *name, uint16_t qtype)
{
	ldns_pkt *p = ask(name, qtype, NULL);
	assert_non_null(p);
	int rcode = ldns_pkt_get_rcode(p);
	unsigned an = ldns_pkt_ancount(p);
	if (rcode != LDNS_RCODE_NOERROR || an != 0) {
		ldns_pkt_free(p);
		fail_msg("%s/%u: rcode %d ancount %u, want NODATA (NOERROR, no answer)", name,
			 qtype, rcode, an);
	}
	assert_true(ldns_pkt_aa(p));
	assert_neg_soa(p, "bl.example.", 120, "bl.example");
	ldns_pkt_free(p);
}

static void expect_a(const char *name, uint32_t a, uint32_t ttl)
{
	ldns_pkt *p = ask(name, DNS_T_A, NULL);
	assert_non_null(p);
	int rcode = ldns_pkt_get_rcode(p);
	if (rcode != LDNS_RCODE_NOERROR) {
		ldns_pkt_free(p);
		fail_msg("%s A: rcode %d, want NOERROR", name, rcode);
	}
	assert_a(p, a, ttl);
	assert_question_echoed();
	ldns_pkt_free(p);
}

/* --- tests --- */

/* IPv6 names: 32 nibble labels, longest-prefix match with exclusions, "$" as the
 * compressed address, empty non-terminals, IPv4-mapped addresses answered like IPv4. */
static void test_ipv6_names(void **state)
{
	(void)state;
	char name[300], t[512];

	nibble_name("2001:db8::5", 32, "bl.example", name);
	expect_a(name, 0x7f000002, 300);
	ldns_pkt *p = ask(name, DNS_T_TXT, NULL);
	assert_non_null(p);
	txt_of(p, t, sizeof(t), NULL);
	assert_string_equal(t, "v6 2001:db8::5 listed");
	ldns_pkt_free(p);

	nibble_name("2001:db8:1::1", 32, "bl.example", name);
	expect_nxdomain(name, DNS_T_A);            /* excluded */
	nibble_name("2001:db9::5", 32, "bl.example", name);
	expect_nxdomain(name, DNS_T_A);            /* outside the /32 */
	nibble_name("2001:db8::", 8, "bl.example", name);
	expect_nodata(name, DNS_T_A);              /* 8.b.d.0.1.0.0.2: listed below */
	nibble_name("2001:db9::", 8, "bl.example", name);
	expect_nxdomain(name, DNS_T_A);
	nibble_name("2001:db8::", 12, "bl.example", name);
	expect_nodata(name, DNS_T_A);              /* inside the listed /32 */

	/* hex nibbles in any case */
	nibble_name("2001:db8::abcd", 32, "bl.example", name);
	for (char *c = name; *c; c++)
		if (*c >= 'a' && *c <= 'f')
			*c = (char)(*c - 32);
	expect_a(name, 0x7f000002, 300);

	/* ::ffff:192.0.2.1 answers like 192.0.2.1, "$" in IPv4 form */
	nibble_name("::ffff:192.0.2.1", 32, "bl.example", name);
	expect_a(name, 0x7f000002, 300);
	p = ask(name, DNS_T_TXT, NULL);
	assert_non_null(p);
	txt_of(p, t, sizeof(t), NULL);
	assert_string_equal(t, "Listed, see https://bl.example/lookup?ip=192.0.2.1");
	ldns_pkt_free(p);
	nibble_name("::ffff:192.0.2.3", 32, "bl.example", name);
	expect_nxdomain(name, DNS_T_A);

	/* 33 nibbles, two-character labels, non-hex: not an address */
	nibble_name("2001:db8::5", 32, "bl.example", name);
	char longer[320];
	snprintf(longer, sizeof(longer), "0.%s", name);
	expect_nxdomain(longer, DNS_T_A);
	expect_nxdomain("10.8.b.d.0.1.0.0.2.bl.example", DNS_T_A);
	expect_nxdomain("g.8.b.d.0.1.0.0.2.bl.example", DNS_T_A);
}

static void test_listed_a(void **state)
{
	(void)state;
	expect_a("1.2.0.192.bl.example", 0x7f000002, 300);  /* zone default A */
	expect_a("2.2.0.192.bl.example", 0x7f000003, 300);  /* own A */
	expect_a("4.2.0.192.bl.example", 0x7f000005, 300);
	expect_a("9.100.51.198.bl.example", 0x7f000003, 300); /* inside the /24 */
	expect_a("200.113.0.203.bl.example", 0x7f000002, 300);
	/* the name's case is echoed as sent */
	expect_a("1.2.0.192.BL.Example", 0x7f000002, 300);
	expect_a("1.2.0.192.bL.eXAMPLE", 0x7f000002, 300);
}

static void test_listed_txt(void **state)
{
	(void)state;
	char t[2048];
	ldns_pkt *p = ask("1.2.0.192.bl.example", DNS_T_TXT, NULL);
	assert_non_null(p);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	assert_true(ldns_pkt_aa(p));
	txt_of(p, t, sizeof(t), NULL);
	assert_string_equal(t, "Listed, see https://bl.example/lookup?ip=192.0.2.1");
	assert_int_equal(ldns_rr_ttl(ldns_rr_list_rr(ldns_pkt_answer(p), 0)), 300);
	ldns_pkt_free(p);

	p = ask("2.2.0.192.bl.example", DNS_T_TXT, NULL);
	assert_non_null(p);
	txt_of(p, t, sizeof(t), NULL);
	assert_string_equal(t, "Open relay at 192.0.2.2");
	ldns_pkt_free(p);

	/* "$$" is a dollar sign */
	p = ask("11.2.0.192.bl.example", DNS_T_TXT, NULL);
	assert_non_null(p);
	txt_of(p, t, sizeof(t), NULL);
	assert_string_equal(t, "cost $5 for 192.0.2.11");
	ldns_pkt_free(p);

	/* an entry without TXT: NODATA for TXT, still listed for A */
	expect_nodata("4.2.0.192.bl.example", DNS_T_TXT);

	/* over 255 bytes: several strings in one record (TCP, so it fits) */
	struct qopt o = {.id = 7, .tcp = true};
	p = ask("10.2.0.192.bl.example", DNS_T_TXT, &o);
	assert_non_null(p);
	assert_false(ldns_pkt_tc(p));
	size_t ns = 0;
	size_t n = txt_of(p, t, sizeof(t), &ns);
	assert_int_equal(n, LONG_TXT_LEN);
	assert_memory_equal(t, long_txt, LONG_TXT_LEN);
	assert_int_equal(ns, 3);
	ldns_pkt_free(p);
}

static void test_not_listed(void **state)
{
	(void)state;
	expect_nxdomain("3.2.0.192.bl.example", DNS_T_A);
	expect_nxdomain("3.2.0.192.bl.example", DNS_T_TXT);
	expect_nxdomain("1.1.1.1.bl.example", DNS_T_A);
	/* excluded */
	expect_nxdomain("7.100.51.198.bl.example", DNS_T_A);
	expect_nxdomain("7.100.51.198.bl.example", DNS_T_TXT);
	expect_a("8.100.51.198.bl.example", 0x7f000003, 300);
	/* expired */
	expect_nxdomain("9.2.0.192.bl.example", DNS_T_A);
	/* malformed address labels, wrong label counts */
	expect_nxdomain("256.2.0.192.bl.example", DNS_T_A);
	expect_nxdomain("01.2.0.192.bl.example", DNS_T_A);
	expect_nxdomain("1.02.0.192.bl.example", DNS_T_A);
	expect_nxdomain("a.2.0.192.bl.example", DNS_T_A);
	expect_nxdomain("-1.2.0.192.bl.example", DNS_T_A);
	expect_nxdomain("1.1.2.0.192.bl.example", DNS_T_A);
	expect_nxdomain("www.bl.example", DNS_T_A);
	expect_nxdomain("x.1.2.0.192.bl.example", DNS_T_A);
}

static void test_other_types(void **state)
{
	(void)state;
	/* listed name, another type: NODATA */
	expect_nodata("1.2.0.192.bl.example", DNS_T_AAAA);
	expect_nodata("1.2.0.192.bl.example", 15 /* MX */);
}

static void test_empty_non_terminals(void **state)
{
	(void)state;
	/* entries below: NODATA (RFC 8020) */
	expect_nodata("2.0.192.bl.example", DNS_T_A);
	expect_nodata("0.192.bl.example", DNS_T_A);
	expect_nodata("192.bl.example", DNS_T_A);
	expect_nodata("100.51.198.bl.example", DNS_T_A); /* the /24 itself */
	expect_nodata("113.0.203.bl.example", DNS_T_TXT);
	/* nothing below: NXDOMAIN */
	expect_nxdomain("3.0.192.bl.example", DNS_T_A);
	expect_nxdomain("1.192.bl.example", DNS_T_A);
	expect_nxdomain("10.bl.example", DNS_T_A);
	/* only an expired entry below */
	expect_nxdomain("5.0.192.bl.example", DNS_T_A);
	expect_nxdomain("5.5.0.192.bl.example", DNS_T_A);
	/* malformed partial names */
	expect_nxdomain("256.bl.example", DNS_T_A);
	expect_nxdomain("01.bl.example", DNS_T_A);
}

static void test_apex(void **state)
{
	(void)state;
	ldns_pkt *p = ask("bl.example", DNS_T_SOA, NULL);
	assert_non_null(p);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	assert_true(ldns_pkt_aa(p));
	assert_int_equal(ldns_pkt_ancount(p), 1);
	ldns_rr *soa = ldns_rr_list_rr(ldns_pkt_answer(p), 0);
	assert_int_equal(ldns_rr_get_type(soa), LDNS_RR_TYPE_SOA);
	ldns_rdf *mname = ldns_dname_new_frm_str("ns1.bl.example.");
	ldns_rdf *rname = ldns_dname_new_frm_str("hostmaster.bl.example.");
	assert_int_equal(ldns_dname_compare(ldns_rr_rdf(soa, 0), mname), 0);
	assert_int_equal(ldns_dname_compare(ldns_rr_rdf(soa, 1), rname), 0);
	ldns_rdf_deep_free(mname);
	ldns_rdf_deep_free(rname);
	assert_int_equal(ldns_rdf2native_int32(ldns_rr_rdf(soa, 2)), store_serial("bl.example"));
	assert_int_equal(ldns_rdf2native_int32(ldns_rr_rdf(soa, 3)), 3600);
	assert_int_equal(ldns_rdf2native_int32(ldns_rr_rdf(soa, 4)), 600);
	assert_int_equal(ldns_rdf2native_int32(ldns_rr_rdf(soa, 5)), 86400);
	assert_int_equal(ldns_rdf2native_int32(ldns_rr_rdf(soa, 6)), 120);
	ldns_pkt_free(p);

	p = ask("BL.example", DNS_T_NS, NULL);
	assert_non_null(p);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	assert_true(ldns_pkt_aa(p));
	ldns_rr_list *an = ldns_pkt_answer(p);
	assert_int_equal(ldns_rr_list_rr_count(an), 2);
	ldns_rdf *ns1 = ldns_dname_new_frm_str("ns1.bl.example.");
	ldns_rdf *ns2 = ldns_dname_new_frm_str("ns2.bl.example.");
	for (int i = 0; i < 2; i++) {
		ldns_rr *rr = ldns_rr_list_rr(an, (size_t)i);
		assert_int_equal(ldns_rr_get_type(rr), LDNS_RR_TYPE_NS);
		ldns_rdf *t = ldns_rr_rdf(rr, 0);
		assert_true(ldns_dname_compare(t, ns1) == 0 || ldns_dname_compare(t, ns2) == 0);
		assert_int_equal(ldns_rdf_size(ldns_rr_owner(rr)), 12);
		assert_memory_equal(ldns_rdf_data(ldns_rr_owner(rr)), "\002BL\007example", 12);
	}
	ldns_rdf_deep_free(ns1);
	ldns_rdf_deep_free(ns2);
	ldns_pkt_free(p);

	/* apex, another type: NODATA */
	expect_nodata("bl.example", DNS_T_A);
	expect_nodata("bl.example", DNS_T_TXT);
}

static void test_refused(void **state)
{
	(void)state;
	static const char *const names[] = {"example", "example.com", "xbl.example",
					    "bl.example.com", "", NULL};
	for (int i = 0; names[i]; i++) {
		ldns_pkt *p = ask(names[i], DNS_T_A, NULL);
		assert_non_null(p);
		if (ldns_pkt_get_rcode(p) != LDNS_RCODE_REFUSED)
			fail_msg("'%s': rcode %d, want REFUSED", names[i], ldns_pkt_get_rcode(p));
		assert_int_equal(ldns_pkt_ancount(p), 0);
		assert_false(ldns_pkt_aa(p)); /* not our zone: not authoritative */
		ldns_pkt_free(p);
	}
}

static void test_test_points(void **state)
{
	(void)state;
	expect_a("2.0.0.127.bl.example", 0x7f000002, 300);
	expect_nxdomain("1.0.0.127.bl.example", DNS_T_A);
	expect_a("2.0.0.127.wl.example", 0x7f00000a, 600);
	expect_nxdomain("1.0.0.127.wl.example", DNS_T_A);
	ldns_pkt *p = ask("2.0.0.127.bl.example", DNS_T_TXT, NULL);
	assert_non_null(p);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	ldns_pkt_free(p);
}

static void test_allowlist_zone(void **state)
{
	(void)state;
	expect_a("50.2.0.192.wl.example", 0x7f00000a, 600);
	expect_nxdomain("1.2.0.192.wl.example", DNS_T_A);
}

/* bl.example has "exempt = wl.example": 192.0.2.50 is in both, so bl.example
 * must not answer it as listed (design: "an allowlist zone whose entries are
 * never answered as listed here"). */
static void test_exempt(void **state)
{
	(void)state;
	expect_nxdomain("50.2.0.192.bl.example", DNS_T_A);
	expect_nxdomain("50.2.0.192.bl.example", DNS_T_TXT);
	/* the rest of bl.example is unaffected */
	expect_a("1.2.0.192.bl.example", 0x7f000002, 300);
}

/* Walks the response by hand (ldns hides the OPT record) and reports its OPT. */
static void opt_of(const uint8_t *pkt, size_t len, uint16_t *udp, uint8_t *ext_rcode,
		   uint8_t *version, int *count)
{
	size_t pos = 12;
	uint16_t counts[4] = {wire_get_u16(pkt + 4), wire_get_u16(pkt + 6),
			      wire_get_u16(pkt + 8), wire_get_u16(pkt + 10)};
	*count = 0;
	for (int s = 0; s < 4; s++) {
		for (unsigned i = 0; i < counts[s]; i++) {
			assert_int_equal(dns_name_parse(pkt, len, &pos, NULL, NULL), 0);
			if (s == 0) {
				pos += 4;
				continue;
			}
			assert_true(pos + 10 <= len);
			uint16_t type = wire_get_u16(pkt + pos);
			if (type == DNS_T_OPT) {
				(*count)++;
				*udp = wire_get_u16(pkt + pos + 2);
				*ext_rcode = pkt[pos + 4];
				*version = pkt[pos + 5];
				assert_int_equal(s, 3);
			}
			pos += 10 + wire_get_u16(pkt + pos + 8);
		}
	}
	assert_int_equal(pos, len);
}

static void test_edns(void **state)
{
	(void)state;
	uint16_t udp = 0;
	uint8_t ext = 0, ver = 0;
	int n = 0;

	/* no OPT in, no OPT out */
	ldns_pkt *p = ask("1.2.0.192.bl.example", DNS_T_A, NULL);
	assert_non_null(p);
	opt_of(rbuf, rlen, &udp, &ext, &ver, &n);
	assert_int_equal(n, 0);
	ldns_pkt_free(p);

	/* OPT echoed with our size */
	struct qopt o = {.id = 1, .edns = true, .udp = 4096};
	p = ask("1.2.0.192.bl.example", DNS_T_A, &o);
	assert_non_null(p);
	assert_a(p, 0x7f000002, 300);
	opt_of(rbuf, rlen, &udp, &ext, &ver, &n);
	assert_int_equal(n, 1);
	assert_int_equal(udp, ANSWER_EDNS_UDP_SIZE);
	assert_int_equal(ext, 0);
	assert_int_equal(ver, 0);
	ldns_pkt_free(p);

	/* version 1: BADVERS (extended rcode 1 in the OPT, 0 in the header) */
	o.version = 1;
	p = ask("1.2.0.192.bl.example", DNS_T_A, &o);
	assert_non_null(p);
	opt_of(rbuf, rlen, &udp, &ext, &ver, &n);
	assert_int_equal(n, 1);
	assert_int_equal((ext << 4) | (rbuf[3] & 0x0f), DNS_R_BADVERS);
	assert_int_equal(ver, 0);
	assert_int_equal(ldns_pkt_ancount(p), 0);
	ldns_pkt_free(p);

	/* two OPTs: FORMERR */
	o.version = 0;
	o.two_opts = true;
	p = ask("1.2.0.192.bl.example", DNS_T_A, &o);
	assert_non_null(p);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_FORMERR);
	assert_int_equal(ldns_pkt_ancount(p), 0);
	ldns_pkt_free(p);
}

static void test_truncation(void **state)
{
	(void)state;
	/* 600 bytes of TXT do not fit in 512 without EDNS: TC, no partial record */
	struct qopt o = {.id = 3};
	ldns_pkt *p = ask("10.2.0.192.bl.example", DNS_T_TXT, &o);
	assert_non_null(p);
	assert_true(ldns_pkt_tc(p));
	assert_true(rlen <= 512);
	assert_int_equal(ldns_pkt_ancount(p), 0);
	assert_question_echoed();
	ldns_pkt_free(p);

	/* with EDNS 4096 they fit in our 1232 */
	o.edns = true;
	o.udp = 4096;
	p = ask("10.2.0.192.bl.example", DNS_T_TXT, &o);
	assert_non_null(p);
	assert_false(ldns_pkt_tc(p));
	assert_int_equal(ldns_pkt_ancount(p), 1);
	assert_true(rlen <= ANSWER_EDNS_UDP_SIZE);
	ldns_pkt_free(p);

	/* the client's size between 512 and ours is the limit; the OPT stays */
	o.udp = 600;
	p = ask("10.2.0.192.bl.example", DNS_T_TXT, &o);
	assert_non_null(p);
	assert_true(ldns_pkt_tc(p));
	assert_true(rlen <= 600);
	{
		uint16_t u = 0;
		uint8_t e = 0, v = 0;
		int cnt = 0;
		opt_of(rbuf, rlen, &u, &e, &v, &cnt);
		assert_int_equal(cnt, 1);
	}
	ldns_pkt_free(p);

	/* an EDNS size below 512 counts as 512 */
	o.udp = 100;
	p = ask("10.2.0.192.bl.example", DNS_T_TXT, &o);
	assert_non_null(p);
	assert_true(ldns_pkt_tc(p));
	assert_true(rlen <= 512);
	ldns_pkt_free(p);

	/* a small answer always fits */
	p = ask("1.2.0.192.bl.example", DNS_T_TXT, &o);
	assert_non_null(p);
	assert_false(ldns_pkt_tc(p));
	ldns_pkt_free(p);

	/* the caller's buffer is a hard limit over TCP too */
	struct qopt t = {.id = 4, .tcp = true, .outcap = 300};
	p = ask("10.2.0.192.bl.example", DNS_T_TXT, &t);
	assert_true(rlen <= 300);
	if (p) {
		assert_true(ldns_pkt_tc(p));
		ldns_pkt_free(p);
	}
}

static void test_header_errors(void **state)
{
	(void)state;
	/* opcode NOTIFY: NOTIMP */
	struct qopt o = {.id = 5, .flags = 4 << 11};
	ldns_pkt *p = ask("1.2.0.192.bl.example", DNS_T_A, &o);
	assert_non_null(p);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NOTIMPL);
	assert_int_equal(ldns_pkt_ancount(p), 0);
	ldns_pkt_free(p);

	/* QR=1: dropped */
	o.flags = DNS_F_QR;
	qlen = build_query(qbuf, "1.2.0.192.bl.example", DNS_T_A, &o);
	answer_batch_begin(&ctx);
	assert_int_equal(answer_query(&ctx, qbuf, qlen, rbuf, sizeof(rbuf), false), 0);
	/* too short: dropped */
	assert_int_equal(answer_query(&ctx, qbuf, 11, rbuf, sizeof(rbuf), false), 0);
	answer_batch_end(&ctx);

	/* qdcount 2: FORMERR */
	o.flags = 0;
	o.qdcount = 2;
	qlen = build_query(qbuf, "1.2.0.192.bl.example", DNS_T_A, &o);
	answer_batch_begin(&ctx);
	rlen = answer_query(&ctx, qbuf, qlen, rbuf, sizeof(rbuf), false);
	answer_batch_end(&ctx);
	assert_true(rlen >= 12);
	assert_int_equal(wire_get_u16(rbuf), 5);
	assert_int_equal(rbuf[3] & 0x0f, DNS_R_FORMERR);
	assert_true(rbuf[2] & 0x80);

	/* a truncated question: FORMERR, never a crash */
	o.qdcount = 1;
	qlen = build_query(qbuf, "1.2.0.192.bl.example", DNS_T_A, &o);
	for (size_t len = 12; len < qlen; len++) {
		answer_batch_begin(&ctx);
		rlen = answer_query(&ctx, guard_put(&gb, qbuf, len), len, rbuf, sizeof(rbuf), false);
		answer_batch_end(&ctx);
		assert_true(rlen >= 12);
		assert_int_equal(rbuf[3] & 0x0f, DNS_R_FORMERR);
		ldns_pkt *pp = NULL;
		assert_int_equal(ldns_wire2pkt(&pp, rbuf, rlen), LDNS_STATUS_OK);
		ldns_pkt_free(pp);
	}
}

static void test_any(void **state)
{
	(void)state;
	ldns_pkt *p = ask("2.2.0.192.bl.example", DNS_T_ANY, NULL);
	assert_non_null(p);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	assert_true(ldns_pkt_ancount(p) >= 1 && ldns_pkt_ancount(p) <= 2);
	assert_true(rlen < 512);
	ldns_pkt_free(p);
	p = ask("10.2.0.192.bl.example", DNS_T_ANY, NULL);
	assert_non_null(p);
	assert_true(rlen < 512); /* never the 600-byte TXT */
	assert_false(ldns_pkt_tc(p));
	ldns_pkt_free(p);
}

/* A delisting is answered by the next batch. */
static void test_delist_immediate(void **state)
{
	(void)state;
	expect_a("200.113.0.203.bl.example", 0x7f000002, 300);
	uint32_t serial = store_serial("bl.example");

	struct store_writer *w;
	struct store_zone *z;
	assert_int_equal(store_writer_begin(S, &w), 0);
	assert_int_equal(store_writer_zone(w, "bl.example", &z), 0);
	struct entry_key pfx;
	prefix4_make(&pfx, 0xcb007100u, 24);
	assert_int_equal(store_delete(w, z, &pfx), 0);
	assert_int_equal(put_entry(w, z, "203.0.113.200/32", STORE_F_A, 0x7f000009, NULL, 0), 0);
	assert_int_equal(store_writer_commit(w), 0);

	expect_nxdomain("199.113.0.203.bl.example", DNS_T_A);
	expect_a("200.113.0.203.bl.example", 0x7f000009, 300);
	assert_int_equal(store_serial("bl.example"), serial + 1);
	ldns_pkt *p = ask("bl.example", DNS_T_SOA, NULL);
	assert_non_null(p);
	assert_int_equal(ldns_rdf2native_int32(ldns_rr_rdf(ldns_rr_list_rr(ldns_pkt_answer(p), 0), 2)),
			 serial + 1);
	ldns_pkt_free(p);
}

/* Mutated queries: never a crash, the output stays in the buffer, and what comes
 * out is a DNS message ldns can read. */
static void test_random_queries(void **state)
{
	(void)state;
	static const char *const names[] = {"1.2.0.192.bl.example", "bl.example",
					    "2.0.192.bl.example", "x.wl.example"};
	srandom(777);
	for (int iter = 0; iter < 20000; iter++) {
		struct qopt o = {.id = (uint16_t)random(), .edns = random() & 1};
		qlen = build_query(qbuf, names[iter % 4], (uint16_t)(random() % 300), &o);
		int flips = 1 + (int)(random() % 4);
		for (int f = 0; f < flips; f++)
			qbuf[random() % qlen] = (uint8_t)random();
		size_t len = (iter % 5 == 0) ? (size_t)(random() % (qlen + 1)) : qlen;
		size_t cap = (iter % 7 == 0) ? 12 + (size_t)(random() % 600) : sizeof(rbuf);
		answer_batch_begin(&ctx);
		rlen = answer_query(&ctx, guard_put(&gb, qbuf, len), len, rbuf, cap, iter & 1);
		answer_batch_end(&ctx);
		assert_true(rlen <= cap);
		if (rlen == 0)
			continue;
		assert_true(rlen >= 12);
		assert_int_equal(wire_get_u16(rbuf), wire_get_u16(qbuf));
		assert_true(rbuf[2] & 0x80);
		ldns_pkt *p = NULL;
		ldns_status st = ldns_wire2pkt(&p, rbuf, rlen);
		if (st != LDNS_STATUS_OK)
			fail_msg("iteration %d: response of %zu bytes unreadable: %s", iter, rlen,
				 ldns_get_errorstr_by_id(st));
		ldns_pkt_free(p);
	}
}

/* Longest apex match on label boundaries, any case. */
static void test_zone_table_find(void **state)
{
	(void)state;
	char path[400];
	snprintf(path, sizeof(path), "%s/nested.conf", dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	static const char *const zones[] = {"example", "bl.example", "x.bl.example", "other.test"};
	fprintf(f, "[server]\ndb = db\n");
	for (int i = 0; i < 4; i++)
		fprintf(f, "[zone %s]\ntype = ip\nttl = 60\na = 127.0.0.2\n"
			   "soa = ns1.example. hm.example. 1 2 3 4\nns = ns1.example.\n",
			zones[i]);
	fclose(f);
	struct config c2;
	char err[2048] = "";
	int rc = config_load(path, &c2, err, sizeof(err));
	if (rc != 0)
		fail_msg("config_load: %d %s", rc, err);
	struct zone_table t2;
	assert_int_equal(zone_table_init(&t2, &c2), 0);
	assert_int_equal(t2.count, 4);

	static const struct {
		const char *name;
		const char *zone; /* NULL: none */
	} cases[] = {
		{"1.2.3.4.x.bl.example", "x.bl.example"},
		{"x.bl.example", "x.bl.example"},
		{"X.BL.Example", "x.bl.example"},
		{"1.2.3.4.bl.example", "bl.example"},
		{"bl.example", "bl.example"},
		{"y.bl.example", "bl.example"},
		{"xx.bl.example", "bl.example"},
		{"xbl.example", "example"},
		{"foo.example", "example"},
		{"example", "example"},
		{"EXAMPLE", "example"},
		{"a.other.test", "other.test"},
		{"test", NULL},
		{"example.com", NULL},
		{"bl.example.com", NULL},
		{"", NULL},
		{"other.test.example", "example"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct qopt o = {.id = 1};
		struct dns_query q;
		qlen = build_query(qbuf, cases[i].name, DNS_T_A, &o);
		const uint8_t *g = guard_put(&gb, qbuf, qlen);
		assert_int_equal(dns_query_parse(g, qlen, &q), DNS_PARSE_OK);
		int zi = zone_table_find(&t2, g + 12, q.label_off, q.nlabels);
		const char *got = zi < 0 ? NULL : t2.zones[zi].cfg->name;
		if ((got == NULL) != (cases[i].zone == NULL) ||
		    (got && strcmp(got, cases[i].zone) != 0))
			fail_msg("zone_table_find(%s) = %s, want %s", cases[i].name,
				 got ? got : "none", cases[i].zone ? cases[i].zone : "none");
	}
	zone_table_free(&t2);
	config_free(&c2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_listed_a),
		cmocka_unit_test(test_ipv6_names),
		cmocka_unit_test(test_listed_txt),
		cmocka_unit_test(test_not_listed),
		cmocka_unit_test(test_other_types),
		cmocka_unit_test(test_empty_non_terminals),
		cmocka_unit_test(test_apex),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_test_points),
		cmocka_unit_test(test_allowlist_zone),
		cmocka_unit_test(test_exempt),
		cmocka_unit_test(test_edns),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_header_errors),
		cmocka_unit_test(test_any),
		cmocka_unit_test(test_delist_immediate),
		cmocka_unit_test(test_random_queries),
		cmocka_unit_test(test_zone_table_find),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
