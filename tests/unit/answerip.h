/* The IP zones of the answer tests (header only: the Makefile compiles only
 * tests/unit/test_*.c): a config with block, allow and exempt zones, their entries
 * (IPv4 and IPv6, exclusions, expired entries, long TXT) written with store_merge
 * (group_setup), and query helpers that build queries by hand (so case and bytes
 * are exact) and read the responses back with ldns. Shared by test_answer.c and
 * test_answer_wire.c; everything is static so each binary has its own copy. */
#ifndef DNSBL_ANSWERIP_H
#define DNSBL_ANSWERIP_H

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


static inline int put_entry(struct store_writer *w, struct store_zone *z, const char *prefix,
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
static inline int put_entry6(struct store_writer *w, struct store_zone *z, const char *text,
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
static inline void nibble_name(const char *text, unsigned nibbles, const char *zone, char *out)
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

static inline int group_setup(void **state)
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

static inline size_t name_to_wire(const char *text, uint8_t *out)
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

static inline size_t build_query(uint8_t *b, const char *name, uint16_t qtype, const struct qopt *o)
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
static inline ldns_pkt *ask(const char *name, uint16_t qtype, const struct qopt *o)
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

static inline void assert_question_echoed(void)
{
	struct dns_query q;
	assert_int_equal(dns_query_parse(qbuf, qlen, &q), DNS_PARSE_OK);
	assert_true(rlen >= q.question_end);
	assert_memory_equal(rbuf + 12, qbuf + 12, q.question_end - 12);
	assert_int_equal(wire_get_u16(rbuf + 4), 1);
}

static inline uint32_t store_serial_own(const char *zone)
{
	struct store_reader *r;
	struct store_zone z;
	assert_int_equal(store_reader_new(S, &r), 0);
	assert_int_equal(store_reader_begin(r), 0);
	int rc = store_zone_get(r, zone, &z);
	store_reader_end(r);
	store_reader_free(r);
	return rc == 0 ? z.serial : 0;
}

/* The serial zone's SOA answers: its own plus its exempt allowlist's. */
static inline uint32_t store_serial(const char *zone)
{
	const struct zone_config *zc = config_zone(&cfg, zone);
	assert_non_null(zc);
	return store_serial_own(zone) + (zc->exempt[0] ? store_serial_own(zc->exempt) : 0);
}

static inline void assert_neg_soa(ldns_pkt *p, const char *apex, uint32_t ttl, const char *zone)
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

static inline void assert_a(ldns_pkt *p, uint32_t a, uint32_t ttl)
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
static inline size_t txt_of(ldns_pkt *p, char *out, size_t size, size_t *nstrings)
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

static inline void expect_nxdomain(const char *name, uint16_t qtype)
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

static inline void expect_nodata(const char *name, uint16_t qtype)
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

static inline void expect_a(const char *name, uint32_t a, uint32_t ttl)
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

#endif
