/* Unit tests for dnsbld's answers about IPv6 nibble names, domain names (type = name
 * zones), combined zones and exemption lists, through the real answer_query on a
 * real store: a config file in a temporary directory, entries written with
 * store_merge, queries built by hand (so case and bytes are exact), responses read
 * back with ldns. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <ldns/ldns.h>

#include "addr.h"
#include "answer.h"
#include "config.h"
#include "dname.h"
#include "err.h"
#include "store.h"
#include "answertest.h"
#include "testutil.h"
#include "wire.h"
#include "zone.h"

#define A4(a, b, c, d) \
	((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))



/* --- writing entries --- */

struct ent {
	const char *key;  /* as an operator writes it (entry_key_parse) */
	uint8_t flags;    /* STORE_F_* */
	uint32_t a;
	const char *txt;
	bool expired;     /* written by an operator with an expiry in the past */
};

static int put_one(struct store_writer *w, struct store_zone *z, int names, const struct ent *e)
{
	uint8_t buf[DNAME_KEY_MAX];
	struct entry_key k;
	int rc = entry_key_parse(names, e->key, strlen(e->key), buf, &k);
	if (rc != 0) {
		print_error("test bug: entry_key_parse(%d, \"%s\") = %d\n", names, e->key, rc);
		return -100;
	}
	struct store_put put = {.flags = e->flags, .a = e->a, .seen = now0, .hits = 1,
				.txt = e->txt, .txt_len = e->txt ? strlen(e->txt) : 0};
	if (e->expired) {
		put.actor = STORE_ACTOR_OPERATOR;
		put.seen = now0 - 5000;
		put.expires = now0 - 1000;
		put.expires_set = true;
	}
	int outcome = -1;
	rc = store_merge(w, z, &k, &put, &outcome);
	if (rc != 0 || outcome != STORE_CREATED) {
		print_error("store_merge(\"%s\") = %d, outcome %d\n", e->key, rc, outcome);
		return -101;
	}
	return 0;
}

static int put_all(struct store_writer *w, const char *zone, int names, const struct ent *e)
{
	struct store_zone *z;
	if (store_writer_zone(w, zone, &z) != 0)
		return -1;
	for (; e->key != NULL; e++)
		if (put_one(w, z, names, e) != 0)
			return -1;
	return 0;
}

static const struct ent ip6_entries[] = {
	{"2001:db8::5"},
	{"2001:db8:abcd::/48", STORE_F_A, A4(127, 0, 0, 3)},
	{"2001:db8:abcd:ffff::9", STORE_F_EXCLUDE},
	{"2001:db8:beef::1", STORE_F_TXT, 0, "own $ text"},
	{"2001:db8:abcd:eeee::/64", STORE_F_EXCLUDE},
	{"2001:db8:abcd:eeee::1", STORE_F_A, A4(127, 0, 0, 6)},
	{"2001:db8:dead::1", 0, 0, NULL, true},
	{"192.0.2.1", STORE_F_A, A4(127, 0, 0, 9)},
	{NULL},
};

static const struct ent dbl_entries[] = {
	{"exact.example"},
	{"*.subs.example", STORE_F_A, A4(127, 0, 1, 3)},
	{".tree.example", STORE_F_A, A4(127, 0, 1, 4)},
	{"ok.tree.example", STORE_F_EXCLUDE},
	{".no.tree.example", STORE_F_EXCLUDE},
	{"z.x.no.tree.example", STORE_F_A, A4(127, 0, 1, 6)}, /* listed inside it */
	{"good.tree.example"}, /* and in dwl.example: exempt */
	{"Example.COM"},
	{"a.b.c.example"},
	{"own.example", STORE_F_TXT, 0, "own text for $ and $"},
	{"notxt.example", STORE_F_NOTXT},
	{"expired.example", 0, 0, NULL, true},
	{"old.expired2.example", 0, 0, NULL, true},
	{"both.example"}, /* and in dbl2.example */
	{NULL},
};

static const struct ent dbl2_entries[] = {
	{"both.example"},
	{"only2.example"},
	{NULL},
};

static const struct ent dwl_entries[] = {
	{"good.tree.example"},
	{NULL},
};

static const struct ent c1_entries[] = {
	{"192.0.2.1"},
	{"192.0.2.2"},
	{"192.0.2.5"},
	{"2001:db8:c::/48"},
	{NULL},
};

static const struct ent c2_entries[] = {
	{"192.0.2.1"},
	{"192.0.2.3"},
	/* the same code and TXT template as c1's: answered once */
	{"192.0.2.5", STORE_F_A | STORE_F_TXT, A4(127, 0, 0, 2), "c1 says $"},
	{"2001:db8:c::1"},
	{NULL},
};

static const struct ent blx_entries[] = {
	{"192.0.2.0/24"},
	{"2001:db8:e::/48"},
	{NULL},
};

static const struct ent allow_entries[] = {
	{"192.0.2.7"},
	{"2001:db8:e::7"},
	{"10.0.0.0/8"},
	{NULL},
};

static int group_setup(void **state)
{
	(void)state;
	FILE *f = fixture_config_begin("names-answer");
	if (f == NULL)
		return -1;
	static const struct {
		const char *name, *extra;
	} zones[] = {
		{"ip6.example", "type = ip\na = 127.0.0.2\ntxt = v6 $\n"},
		{"dbl.example", "type = name\nexempt = dwl.example\na = 127.0.1.2\n"
				"txt = Listed $ (see https://dbl.example/?d=$)\n"},
		{"dbl2.example", "type = name\na = 127.0.1.5\ntxt = second $\n"},
		{"dwl.example", "type = name\npolicy = allow\na = 127.0.15.3\n"},
		{"c1.example", "type = ip\na = 127.0.0.2\ntxt = c1 says $\n"},
		{"c2.example", "type = ip\na = 127.0.0.4\ntxt = c2 says $\n"},
		{"comb.example", "type = combined\nmembers = c1.example c2.example\nttl = 60\n"},
		{"combn.example", "type = combined\nmembers = dbl.example dbl2.example\n"},
		{"blx.example", "type = ip\nexempt = allow.example\ntxt = blocked $\n"},
		{"allow.example", "type = ip\npolicy = allow\na = 127.0.15.3\ntxt = allowed $\n"},
	};
	for (size_t i = 0; i < sizeof(zones) / sizeof(zones[0]); i++)
		fprintf(f,
			"[zone %s]\n%s"
			"soa = ns1.%s. hostmaster.%s. 3600 600 86400 120\n"
			"ns = ns1.%s.\n",
			zones[i].name, zones[i].extra, zones[i].name, zones[i].name, zones[i].name);
	fclose(f);
	if (fixture_store_open() != 0)
		return -1;
	struct store_writer *w;
	if (store_writer_begin(S, &w) != 0)
		return -1;
	if (put_all(w, "ip6.example", 0, ip6_entries) || put_all(w, "dbl.example", 1, dbl_entries) ||
	    put_all(w, "dbl2.example", 1, dbl2_entries) ||
	    put_all(w, "dwl.example", 1, dwl_entries) || put_all(w, "c1.example", 0, c1_entries) ||
	    put_all(w, "c2.example", 0, c2_entries) || put_all(w, "blx.example", 0, blx_entries) ||
	    put_all(w, "allow.example", 0, allow_entries)) {
		store_writer_abort(w);
		return -1;
	}
	if (store_writer_commit(w) != 0)
		return -1;
	return fixture_answer_ready();
}

/* --- queries --- */

/* Presentation text to a wire name: labels split at '.', "\." a dot inside a label,
 * "\DDD" any byte (decimal). */
static size_t name_to_wire(const char *text, uint8_t *out)
{
	size_t n = 0, lenpos = 0;
	bool open = false;
	for (const char *p = text; *p; p++) {
		if (!open) {
			lenpos = n++;
			out[lenpos] = 0;
			open = true;
		}
		if (*p == '.') {
			open = false;
			continue;
		}
		uint8_t c = (uint8_t)*p;
		if (*p == '\\' && p[1] >= '0' && p[1] <= '9') {
			c = (uint8_t)((p[1] - '0') * 100 + (p[2] - '0') * 10 + (p[3] - '0'));
			p += 3;
		} else if (*p == '\\' && p[1] != '\0') {
			c = (uint8_t)*++p;
		}
		out[n++] = c;
		out[lenpos]++;
	}
	out[n++] = 0;
	return n;
}

static uint8_t qbuf[1024], rbuf[65536];
static size_t qlen, rlen;

static size_t build_query(uint8_t *b, const char *name, uint16_t qtype, uint16_t id)
{
	struct wire_out w;
	wire_out_init(&w, b, 1024);
	wire_put_u16(&w, id);
	wire_put_u16(&w, DNS_F_RD);
	wire_put_u16(&w, 1);
	wire_put_u16(&w, 0);
	wire_put_u16(&w, 0);
	wire_put_u16(&w, 0);
	uint8_t nw[600];
	size_t nl = name_to_wire(name, nw);
	wire_put_bytes(&w, nw, nl);
	wire_put_u16(&w, qtype);
	wire_put_u16(&w, DNS_C_IN);
	assert_int_equal(w.err, 0);
	return w.pos;
}

/* Answers the query in one batch (over TCP, so size is no issue); the ldns packet. */
static ldns_pkt *ask(const char *name, uint16_t qtype)
{
	static uint16_t id = 0x100;
	id++;
	qlen = build_query(qbuf, name, qtype, id);
	answer_batch_begin(&ctx);
	rlen = answer_query(&ctx, guard_put(&gb, qbuf, qlen), qlen, rbuf, sizeof(rbuf), true);
	answer_batch_end(&ctx);
	if (rlen == 0)
		fail_msg("%s/%u: dropped", name, qtype);
	ldns_pkt *p = NULL;
	ldns_status st = ldns_wire2pkt(&p, rbuf, rlen);
	if (st != LDNS_STATUS_OK)
		fail_msg("%s/%u: response of %zu bytes does not parse: %s", name, qtype, rlen,
			 ldns_get_errorstr_by_id(st));
	assert_int_equal(ldns_pkt_id(p), id);
	assert_true(ldns_pkt_qr(p));
	/* the question is echoed byte for byte (the query name's case included) */
	struct dns_query q;
	assert_int_equal(dns_query_parse(qbuf, qlen, &q), DNS_PARSE_OK);
	assert_true(rlen >= q.question_end);
	assert_int_equal(wire_get_u16(rbuf + 4), 1);
	assert_memory_equal(rbuf + 12, qbuf + 12, q.question_end - 12);
	return p;
}

static uint32_t store_serial(const char *zone)
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

/* The zone a name is answered from, its SOA serial (a combined zone's: the sum of its
 * members') and its negative TTL. */
static const struct zone_config *zone_of(const char *name, char *apex, size_t size)
{
	const struct zone_config *best = NULL;
	size_t nl = strlen(name);
	for (unsigned i = 0; i < cfg.zone_count; i++) {
		const char *zn = cfg.zones[i].name;
		size_t zl = strlen(zn);
		if (zl > nl || strcasecmp(name + nl - zl, zn) != 0 ||
		    (zl < nl && name[nl - zl - 1] != '.'))
			continue;
		if (best == NULL || zl > strlen(best->name))
			best = &cfg.zones[i];
	}
	assert_non_null(best);
	snprintf(apex, size, "%s.", best->name);
	return best;
}

static uint32_t zone_serial(const struct zone_config *z)
{
	if (z->type != ZONE_TYPE_COMBINED)
		return store_serial(z->name);
	uint32_t s = 0;
	for (unsigned i = 0; i < z->member_count; i++)
		s += store_serial(z->members[i]);
	return s;
}

static void assert_neg_soa(ldns_pkt *p, const char *name)
{
	char apex[300];
	const struct zone_config *z = zone_of(name, apex, sizeof(apex));
	ldns_rr_list *ns = ldns_pkt_authority(p);
	if (ldns_rr_list_rr_count(ns) != 1)
		fail_msg("%s: %zu authority records, want the SOA", name, ldns_rr_list_rr_count(ns));
	ldns_rr *soa = ldns_rr_list_rr(ns, 0);
	assert_int_equal(ldns_rr_get_type(soa), LDNS_RR_TYPE_SOA);
	uint32_t neg = z->ttl < z->soa_minimum ? z->ttl : z->soa_minimum;
	assert_int_equal(ldns_rr_ttl(soa), neg);
	ldns_rdf *want = ldns_dname_new_frm_str(apex);
	assert_int_equal(ldns_dname_compare(ldns_rr_owner(soa), want), 0);
	ldns_rdf_deep_free(want);
	assert_int_equal(ldns_rdf2native_int32(ldns_rr_rdf(soa, 2)), zone_serial(z));
}

static void expect_nxdomain(const char *name)
{
	for (int t = 0; t < 2; t++) {
		uint16_t qtype = t ? DNS_T_TXT : DNS_T_A;
		ldns_pkt *p = ask(name, qtype);
		int rcode = ldns_pkt_get_rcode(p);
		if (rcode != LDNS_RCODE_NXDOMAIN) {
			unsigned an = ldns_pkt_ancount(p);
			ldns_pkt_free(p);
			fail_msg("%s/%u: rcode %d (%u answers), want NXDOMAIN", name, qtype, rcode, an);
		}
		assert_true(ldns_pkt_aa(p));
		assert_int_equal(ldns_pkt_ancount(p), 0);
		assert_neg_soa(p, name);
		ldns_pkt_free(p);
	}
}

/* NOERROR without an answer of qtype, the SOA in the authority section. */
static void expect_nodata_type(const char *name, uint16_t qtype)
{
	ldns_pkt *p = ask(name, qtype);
	int rcode = ldns_pkt_get_rcode(p);
	unsigned an = ldns_pkt_ancount(p);
	if (rcode != LDNS_RCODE_NOERROR || an != 0) {
		ldns_pkt_free(p);
		fail_msg("%s/%u: rcode %d ancount %u, want NODATA (NOERROR, no answer)", name,
			 qtype, rcode, an);
	}
	assert_true(ldns_pkt_aa(p));
	assert_neg_soa(p, name);
	ldns_pkt_free(p);
}

static void expect_nodata(const char *name)
{
	expect_nodata_type(name, DNS_T_A);
	expect_nodata_type(name, DNS_T_TXT);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

/* The answer's records of type qtype, checked for owner (the query name as sent),
 * class, TTL; returns the packet for more checks. */
static ldns_pkt *expect_answers(const char *name, uint16_t qtype, size_t n)
{
	ldns_pkt *p = ask(name, qtype);
	int rcode = ldns_pkt_get_rcode(p);
	size_t an = ldns_rr_list_rr_count(ldns_pkt_answer(p));
	if (rcode != LDNS_RCODE_NOERROR || an != n) {
		ldns_pkt_free(p);
		fail_msg("%s/%u: rcode %d, %zu answers, want NOERROR with %zu", name, qtype, rcode,
			 an, n);
	}
	assert_true(ldns_pkt_aa(p));
	assert_int_equal(ldns_rr_list_rr_count(ldns_pkt_authority(p)), 0);
	char apex[300];
	const struct zone_config *z = zone_of(name, apex, sizeof(apex));
	struct dns_query q;
	assert_int_equal(dns_query_parse(qbuf, qlen, &q), DNS_PARSE_OK);
	for (size_t i = 0; i < n; i++) {
		ldns_rr *rr = ldns_rr_list_rr(ldns_pkt_answer(p), i);
		assert_int_equal(ldns_rr_get_type(rr), qtype);
		assert_int_equal(ldns_rr_get_class(rr), LDNS_RR_CLASS_IN);
		assert_int_equal(ldns_rr_ttl(rr), z->ttl);
		assert_int_equal(ldns_rdf_size(ldns_rr_owner(rr)), q.qname_len);
		assert_memory_equal(ldns_rdf_data(ldns_rr_owner(rr)), qbuf + 12, q.qname_len);
	}
	return p;
}

/* Listed with exactly the A values given (any order), n of them. */
static void expect_a_set(const char *name, size_t n, const uint32_t *want)
{
	ldns_pkt *p = expect_answers(name, DNS_T_A, n);
	uint32_t got[16], w[16];
	for (size_t i = 0; i < n; i++) {
		ldns_rr *rr = ldns_rr_list_rr(ldns_pkt_answer(p), i);
		assert_int_equal(ldns_rdf_size(ldns_rr_rdf(rr, 0)), 4);
		got[i] = wire_get_u32(ldns_rdf_data(ldns_rr_rdf(rr, 0)));
		w[i] = want[i];
	}
	ldns_pkt_free(p);
	qsort(got, n, sizeof(got[0]), cmp_u32);
	qsort(w, n, sizeof(w[0]), cmp_u32);
	for (size_t i = 0; i < n; i++)
		if (got[i] != w[i])
			fail_msg("%s A #%zu: 0x%08x, want 0x%08x", name, i, got[i], w[i]);
}

static void expect_a(const char *name, uint32_t a)
{
	expect_a_set(name, 1, &a);
}

static void expect_a2(const char *name, uint32_t a, uint32_t b)
{
	uint32_t v[2] = {a, b};
	expect_a_set(name, 2, v);
}

/* The text of TXT record i, strings concatenated. */
static void txt_of(ldns_pkt *p, size_t i, char *out, size_t size)
{
	ldns_rr *rr = ldns_rr_list_rr(ldns_pkt_answer(p), i);
	size_t n = 0;
	for (size_t j = 0; j < ldns_rr_rd_count(rr); j++) {
		const uint8_t *d = ldns_rdf_data(ldns_rr_rdf(rr, j));
		assert_true(n + d[0] < size);
		memcpy(out + n, d + 1, d[0]);
		n += d[0];
	}
	out[n] = 0;
}

/* Listed with exactly the TXT texts given (any order). */
static void expect_txts(const char *name, size_t n, const char *const *want)
{
	ldns_pkt *p = expect_answers(name, DNS_T_TXT, n);
	bool used[16] = {false};
	for (size_t i = 0; i < n; i++) {
		char t[2048];
		txt_of(p, i, t, sizeof(t));
		size_t j;
		for (j = 0; j < n; j++)
			if (!used[j] && strcmp(t, want[j]) == 0)
				break;
		if (j == n) {
			ldns_pkt_free(p);
			fail_msg("%s TXT #%zu: \"%s\" is not one of the %zu wanted (first: \"%s\")",
				 name, i, t, n, want[0]);
		}
		used[j] = true;
	}
	ldns_pkt_free(p);
}

static void expect_txt(const char *name, const char *want)
{
	expect_txts(name, 1, &want);
}

/* The nibble-reversed name of IPv6 address text under zone, its first nibbles only
 * (32 for the whole address). */
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

/* ------------------------------------------------------------------------------ */
/* IPv6 nibble names */

static void test_v6_listed(void **state)
{
	(void)state;
	char name[400];

	/* a listed /128 */
	nibble_name("2001:db8::5", 32, "ip6.example", name);
	expect_a(name, A4(127, 0, 0, 2));
	expect_txt(name, "v6 2001:db8::5");
	nibble_name("2001:db8::4", 32, "ip6.example", name);
	expect_nxdomain(name);
	nibble_name("2001:db8::5:0", 32, "ip6.example", name);
	expect_nxdomain(name);

	/* addresses inside a listed /48, with "$" the queried address */
	static const char *const inside[] = {"2001:db8:abcd::", "2001:db8:abcd::1",
					     "2001:db8:abcd:1::9", "2001:db8:abcd:ffff:ffff:ffff:ffff:ffff",
					     NULL};
	for (int i = 0; inside[i]; i++) {
		char want[100];
		nibble_name(inside[i], 32, "ip6.example", name);
		expect_a(name, A4(127, 0, 0, 3));
		snprintf(want, sizeof(want), "v6 %s", inside[i]);
		expect_txt(name, want);
	}
	nibble_name("2001:db8:abce::1", 32, "ip6.example", name);
	expect_nxdomain(name);
	nibble_name("2001:db8:abcc:ffff::1", 32, "ip6.example", name);
	expect_nxdomain(name);
	/* an exclusion inside it */
	nibble_name("2001:db8:abcd:ffff::9", 32, "ip6.example", name);
	expect_nxdomain(name);
	nibble_name("2001:db8:abcd:ffff::8", 32, "ip6.example", name);
	expect_a(name, A4(127, 0, 0, 3));
	/* a listed /128 inside an excluded /64 inside the listed /48 */
	nibble_name("2001:db8:abcd:eeee::1", 32, "ip6.example", name);
	expect_a(name, A4(127, 0, 0, 6));
	nibble_name("2001:db8:abcd:eeee::2", 32, "ip6.example", name);
	expect_nxdomain(name);
	nibble_name("2001:db8:abcd:eeee::", 20, "ip6.example", name);
	expect_nodata(name);
	nibble_name("2001:db8:abcd:eeee:1::", 20, "ip6.example", name);
	expect_nxdomain(name);
	/* an own TXT with "$" */
	nibble_name("2001:db8:beef::1", 32, "ip6.example", name);
	expect_txt(name, "own 2001:db8:beef::1 text");
	/* expired */
	nibble_name("2001:db8:dead::1", 32, "ip6.example", name);
	expect_nxdomain(name);

	/* other types: NODATA */
	nibble_name("2001:db8::5", 32, "ip6.example", name);
	expect_nodata_type(name, DNS_T_AAAA);
}

static void test_v6_label_forms(void **state)
{
	(void)state;
	char name[400], other[500];

	/* upper-case hex nibbles */
	nibble_name("2001:db8:abcd::fe", 32, "ip6.example", name);
	for (char *c = name; *c && c < name + 64; c++)
		if (*c >= 'a' && *c <= 'f')
			*c = (char)(*c - 32);
	assert_non_null(strstr(name, "E.F.0"));
	expect_a(name, A4(127, 0, 0, 3));
	expect_txt(name, "v6 2001:db8:abcd::fe");

	/* 33 labels: no address, and nothing below it */
	nibble_name("2001:db8::5", 32, "ip6.example", name);
	snprintf(other, sizeof(other), "0.%s", name);
	expect_nxdomain(other);
	snprintf(other, sizeof(other), "f.%s", name);
	expect_nxdomain(other);
	snprintf(other, sizeof(other), "x.%s", name);
	expect_nxdomain(other);

	/* one label of two characters, or a non-hex one */
	nibble_name("2001:db8::5", 32, "ip6.example", name);
	memcpy(other, "ab", 2);
	strcpy(other + 2, name + 1); /* "ab." + the other 31 labels */
	expect_nxdomain(other);
	strcpy(other, name);
	other[0] = 'g';
	expect_nxdomain(other);
	strcpy(other, name);
	other[20] = 'G'; /* a label in the middle */
	assert_int_equal(other[21], '.');
	expect_nxdomain(other);
	strcpy(other, name);
	other[0] = '-';
	expect_nxdomain(other);
	/* an empty-looking label: a byte 0 or a dot inside */
	snprintf(other, sizeof(other), "\\000.%s", name + 2);
	expect_nxdomain(other);
	snprintf(other, sizeof(other), "\\..%s", name + 2);
	expect_nxdomain(other);
	/* 31 labels plus one of two characters ("05"): 32 labels, still no address */
	snprintf(other, sizeof(other), "05.%s", name + 2);
	expect_nxdomain(other);
}

static void test_v6_partial(void **state)
{
	(void)state;
	char name[400];

	/* above listed prefixes: empty non-terminals */
	nibble_name("2001:db8::", 8, "ip6.example", name);
	assert_string_equal(name, "8.b.d.0.1.0.0.2.ip6.example");
	expect_nodata(name);
	nibble_name("2001:db8::", 4, "ip6.example", name);
	expect_nodata(name);
	nibble_name("2001:db8::", 1, "ip6.example", name);
	expect_nodata(name);
	nibble_name("2001:db8:abcd::", 11, "ip6.example", name);
	expect_nodata(name);
	/* the /48 itself and inside it */
	nibble_name("2001:db8:abcd::", 12, "ip6.example", name);
	expect_nodata(name);
	nibble_name("2001:db8:abcd:1::", 16, "ip6.example", name);
	expect_nodata(name);
	nibble_name("2001:db8:abcd:1::", 31, "ip6.example", name);
	expect_nodata(name);
	/* above the /128 */
	nibble_name("2001:db8::5", 31, "ip6.example", name);
	expect_nodata(name);
	nibble_name("2001:db8::", 20, "ip6.example", name);
	expect_nodata(name);

	/* beside them */
	nibble_name("2001:db9::", 8, "ip6.example", name);
	expect_nxdomain(name);
	nibble_name("2001:db8:abce::", 12, "ip6.example", name);
	expect_nxdomain(name);
	nibble_name("2001:db8::6", 31, "ip6.example", name);
	expect_nodata(name); /* 2001:db8::0/124 holds ::5 */
	nibble_name("2001:db8::16", 31, "ip6.example", name);
	expect_nxdomain(name);
	nibble_name("3000::", 1, "ip6.example", name);
	expect_nxdomain(name);
	/* only an exclusion or an expired entry below */
	nibble_name("2001:db8:dead::1", 20, "ip6.example", name);
	expect_nxdomain(name);

	/* above the IPv6 test point ::ffff:127.0.0.2 */
	nibble_name("::", 1, "ip6.example", name);
	expect_nodata(name);
	nibble_name("::ffff:127.0.0.0", 28, "ip6.example", name);
	expect_nodata(name);
	nibble_name("::ffff:127.0.0.0", 31, "ip6.example", name);
	expect_nodata(name);
}

static void test_v6_test_points(void **state)
{
	(void)state;
	char name[400];
	nibble_name("::ffff:127.0.0.2", 32, "ip6.example", name);
	expect_a(name, A4(127, 0, 0, 2));
	expect_txt(name, "v6 127.0.0.2");
	nibble_name("::ffff:127.0.0.1", 32, "ip6.example", name);
	expect_nxdomain(name);
	/* in every IP zone */
	nibble_name("::ffff:127.0.0.2", 32, "allow.example", name);
	expect_a(name, A4(127, 0, 15, 3));
	nibble_name("::ffff:127.0.0.1", 32, "allow.example", name);
	expect_nxdomain(name);
	/* and only the mapped form: ::127.0.0.2 (IPv4-compatible) is not the test point */
	nibble_name("::127.0.0.2", 32, "ip6.example", name);
	expect_nxdomain(name);
}

static void test_v6_mapped(void **state)
{
	(void)state;
	char name[400];
	/* ::ffff:192.0.2.1 answers like 192.0.2.1, "$" in IPv4 form */
	nibble_name("::ffff:192.0.2.1", 32, "ip6.example", name);
	expect_a(name, A4(127, 0, 0, 9));
	expect_txt(name, "v6 192.0.2.1");
	expect_a("1.2.0.192.ip6.example", A4(127, 0, 0, 9));
	expect_txt("1.2.0.192.ip6.example", "v6 192.0.2.1");
	nibble_name("::ffff:192.0.2.2", 32, "ip6.example", name);
	expect_nxdomain(name);
}

/* The mapped name of a listed IPv4 address exists (it answers A), so its parents are
 * empty non-terminals, not NXDOMAIN: a resolver that trusts NXDOMAIN for everything
 * below (RFC 8020) would otherwise never ask for the listed name. */
static void test_v6_mapped_partial(void **state)
{
	(void)state;
	char name[400];
	nibble_name("::ffff:192.0.2.1", 32, "ip6.example", name);
	expect_a(name, A4(127, 0, 0, 9));
	static const unsigned nibbles[] = {31, 30, 28, 24, 0};
	for (int i = 0; nibbles[i]; i++) {
		nibble_name("::ffff:192.0.2.0", nibbles[i], "ip6.example", name);
		expect_nodata(name);
	}
	nibble_name("::ffff:192.0.3.0", 30, "ip6.example", name);
	expect_nxdomain(name);
}

/* ------------------------------------------------------------------------------ */
/* domain zones */

static void test_name_exact(void **state)
{
	(void)state;
	expect_a("exact.example.dbl.example", A4(127, 0, 1, 2));
	expect_txt("exact.example.dbl.example",
		   "Listed exact.example (see https://dbl.example/?d=exact.example)");
	/* only the name itself */
	expect_nxdomain("sub.exact.example.dbl.example");
	expect_nxdomain("a.b.exact.example.dbl.example");
	expect_nxdomain("xexact.example.dbl.example");
	expect_nxdomain("exact.examples.dbl.example");
	/* its parent holds it: empty non-terminal */
	expect_nodata("example.dbl.example");
	/* other types */
	expect_nodata_type("exact.example.dbl.example", DNS_T_AAAA);
	/* a listed name with an own TXT, and one without TXT */
	expect_txt("own.example.dbl.example", "own text for own.example and own.example");
	expect_a("notxt.example.dbl.example", A4(127, 0, 1, 2));
	expect_nodata_type("notxt.example.dbl.example", DNS_T_TXT);
}

static void test_name_case(void **state)
{
	(void)state;
	/* the entry was written as "Example.COM" */
	expect_a("example.com.dbl.example", A4(127, 0, 1, 2));
	expect_a("ExAmPle.CoM.dbl.example", A4(127, 0, 1, 2));
	expect_a("EXAMPLE.COM.DBL.EXAMPLE", A4(127, 0, 1, 2));
	/* "$" is the queried name in lower case */
	expect_txt("ExAmPle.CoM.Dbl.Example",
		   "Listed example.com (see https://dbl.example/?d=example.com)");
	expect_txt("EXACT.Example.dbl.example",
		   "Listed exact.example (see https://dbl.example/?d=exact.example)");
	expect_nodata("COM.dbl.example");
}

static void test_name_subs(void **state)
{
	(void)state;
	expect_a("a.subs.example.dbl.example", A4(127, 0, 1, 3));
	expect_a("x.y.z.subs.example.dbl.example", A4(127, 0, 1, 3));
	expect_txt("Deep.A.subs.example.dbl.example",
		   "Listed deep.a.subs.example (see https://dbl.example/?d=deep.a.subs.example)");
	/* the name itself is not listed, but has listed names below it */
	expect_nodata("subs.example.dbl.example");
	expect_nodata("SUBS.example.dbl.example");
	expect_nxdomain("xsubs.example.dbl.example");
}

static void test_name_tree(void **state)
{
	(void)state;
	expect_a("tree.example.dbl.example", A4(127, 0, 1, 4));
	expect_a("a.tree.example.dbl.example", A4(127, 0, 1, 4));
	expect_a("a.b.c.d.tree.example.dbl.example", A4(127, 0, 1, 4));
	expect_txt("A.Tree.Example.dbl.example",
		   "Listed a.tree.example (see https://dbl.example/?d=a.tree.example)");
	expect_nxdomain("xtree.example.dbl.example");
	/* "ok.tree.example" is excluded, the names below it are not */
	expect_nodata("ok.tree.example.dbl.example");
	expect_a("x.ok.tree.example.dbl.example", A4(127, 0, 1, 4));
	/* ".no.tree.example" excludes the name and everything below it (but for
	 * z.x.no.tree.example: test_name_listed_inside_exclusion) */
	expect_nxdomain("w.no.tree.example.dbl.example");
	expect_nxdomain("y.w.no.tree.example.dbl.example");
	expect_a("xno.tree.example.dbl.example", A4(127, 0, 1, 4));
}

/* A name listed below an excluded tree: the longest match wins, and the names between
 * the exclusion and it are empty non-terminals (as for IP prefixes: a listed /128
 * inside an excluded /64 makes the nibble names between them NODATA). */
static void test_name_listed_inside_exclusion(void **state)
{
	(void)state;
	expect_a("z.x.no.tree.example.dbl.example", A4(127, 0, 1, 6));
	expect_nxdomain("y.x.no.tree.example.dbl.example");
	expect_nodata("x.no.tree.example.dbl.example");
	expect_nodata("no.tree.example.dbl.example");
}

static void test_name_ent(void **state)
{
	(void)state;
	/* an entry deep below: a.b.c.example */
	expect_a("a.b.c.example.dbl.example", A4(127, 0, 1, 2));
	expect_nodata("b.c.example.dbl.example");
	expect_nodata("c.example.dbl.example");
	expect_nodata("example.dbl.example");
	expect_nxdomain("x.c.example.dbl.example");
	expect_nxdomain("x.b.c.example.dbl.example");
	expect_nxdomain("x.a.b.c.example.dbl.example");
	expect_nxdomain("b.c.example2.dbl.example");
	expect_nxdomain("c.dbl.example");
}

static void test_name_expired(void **state)
{
	(void)state;
	/* the entries exist, expired */
	struct store_reader *r;
	struct store_zone z;
	struct store_entry e;
	uint8_t buf[DNAME_KEY_MAX];
	struct entry_key k;
	assert_int_equal(store_reader_new(S, &r), 0);
	assert_int_equal(store_reader_begin(r), 0);
	assert_int_equal(store_zone_get(r, "dbl.example", &z), 0);
	assert_int_equal(dname_parse("expired.example", 15, buf, &k), 0);
	assert_int_equal(store_entry_get(r, &z, &k, &e), 0);
	assert_int_equal(store_entry_state(&e, now0), STORE_STATE_EXPIRED);
	store_reader_end(r);
	store_reader_free(r);

	expect_nxdomain("expired.example.dbl.example");
	expect_nxdomain("old.expired2.example.dbl.example");
	/* an expired entry below makes no empty non-terminal */
	expect_nxdomain("expired2.example.dbl.example");
}

static void test_name_test_points(void **state)
{
	(void)state;
	static const char *const listed[] = {"test.dbl.example", "TEST.dbl.example",
					     "TeSt.DBL.example", NULL};
	for (int i = 0; listed[i]; i++)
		expect_a(listed[i], A4(127, 0, 1, 2));
	expect_txt("Test.dbl.example", "Listed test (see https://dbl.example/?d=test)");
	static const char *const unlisted[] = {"invalid.dbl.example", "INVALID.dbl.example",
					       "InValid.dbl.example", NULL};
	for (int i = 0; unlisted[i]; i++)
		expect_nxdomain(unlisted[i]);
	/* only the one-label names */
	expect_nxdomain("x.test.dbl.example");
	expect_nxdomain("test.x.dbl.example");
	/* in every name zone */
	expect_a("test.dwl.example", A4(127, 0, 15, 3));
	expect_nxdomain("invalid.dwl.example");
}

static void test_name_bad_bytes(void **state)
{
	(void)state;
	/* a byte no entry can have, anywhere in the name: NXDOMAIN, even below a tree */
	static const char *const bad[] = {
		"*.tree.example.dbl.example",
		"a\\*b.tree.example.dbl.example",
		"\\128.tree.example.dbl.example",
		"a\\255.exact.example.dbl.example",
		"a\\032b.tree.example.dbl.example",
		"a b.tree.example.dbl.example",
		"\\000.tree.example.dbl.example",
		"x\\.y.tree.example.dbl.example",
		"a.tr\\@ee.example.dbl.example",
		"exact.exam\\!ple.dbl.example",
		"*.subs.example.dbl.example",
		"\\128.dbl.example",
		NULL,
	};
	for (int i = 0; bad[i]; i++)
		expect_nxdomain(bad[i]);
	/* digits, hyphens and underscores are fine */
	expect_a("_dmarc.tree.example.dbl.example", A4(127, 0, 1, 4));
	expect_a("1-2.tree.example.dbl.example", A4(127, 0, 1, 4));
}

/* A name that is listed and on the exemption list: never answered as listed. */
static void test_name_exempt(void **state)
{
	(void)state;
	/* good.tree.example: listed (own entry and under .tree.example), but in dwl */
	ldns_pkt *p = ask("good.tree.example.dbl.example", DNS_T_A);
	int rcode = ldns_pkt_get_rcode(p);
	unsigned an = ldns_pkt_ancount(p);
	ldns_pkt_free(p);
	if (an != 0)
		fail_msg("good.tree.example: %u answers (rcode %d), want none", an, rcode);
	/* the allowlist answers its own code for it */
	expect_a("good.tree.example.dwl.example", A4(127, 0, 15, 3));
	expect_nxdomain("bad.tree.example.dwl.example");
	/* the names below it are not on the allowlist */
	expect_a("x.good.tree.example.dbl.example", A4(127, 0, 1, 4));
}

/* ------------------------------------------------------------------------------ */
/* combined zones */

static void test_combined(void **state)
{
	(void)state;
	/* in both members: both codes, both TXTs */
	expect_a2("1.2.0.192.comb.example", A4(127, 0, 0, 2), A4(127, 0, 0, 4));
	static const char *const both[] = {"c1 says 192.0.2.1", "c2 says 192.0.2.1"};
	expect_txts("1.2.0.192.comb.example", 2, both);
	/* in one */
	expect_a("2.2.0.192.comb.example", A4(127, 0, 0, 2));
	expect_txt("2.2.0.192.comb.example", "c1 says 192.0.2.2");
	expect_a("3.2.0.192.comb.example", A4(127, 0, 0, 4));
	expect_txt("3.2.0.192.comb.example", "c2 says 192.0.2.3");
	/* in none */
	expect_nxdomain("4.2.0.192.comb.example");
	expect_nxdomain("1.1.1.1.comb.example");
	/* above entries of either member */
	expect_nodata("2.0.192.comb.example");
	expect_nxdomain("3.0.192.comb.example");
	/* the test points: every member's code */
	expect_a2("2.0.0.127.comb.example", A4(127, 0, 0, 2), A4(127, 0, 0, 4));
	static const char *const tp[] = {"c1 says 127.0.0.2", "c2 says 127.0.0.2"};
	expect_txts("2.0.0.127.comb.example", 2, tp);
	expect_nxdomain("1.0.0.127.comb.example");
	/* identical codes and TXT templates are given once */
	expect_a("5.2.0.192.comb.example", A4(127, 0, 0, 2));
	expect_txt("5.2.0.192.comb.example", "c1 says 192.0.2.5");
	/* IPv6: the /48 of c1 and the /128 of c2 */
	char name[400];
	nibble_name("2001:db8:c::1", 32, "comb.example", name);
	expect_a2(name, A4(127, 0, 0, 2), A4(127, 0, 0, 4));
	nibble_name("2001:db8:c::2", 32, "comb.example", name);
	expect_a(name, A4(127, 0, 0, 2));
	nibble_name("2001:db8:d::2", 32, "comb.example", name);
	expect_nxdomain(name);
	nibble_name("::ffff:127.0.0.2", 32, "comb.example", name);
	expect_a2(name, A4(127, 0, 0, 2), A4(127, 0, 0, 4));
	/* the members answer alone as before */
	expect_a("1.2.0.192.c1.example", A4(127, 0, 0, 2));
	expect_a("1.2.0.192.c2.example", A4(127, 0, 0, 4));
	expect_nxdomain("3.2.0.192.c1.example");
}

static void test_combined_apex(void **state)
{
	(void)state;
	ldns_pkt *p = expect_answers("comb.example", DNS_T_SOA, 1);
	ldns_rr *soa = ldns_rr_list_rr(ldns_pkt_answer(p), 0);
	assert_int_equal(ldns_rdf2native_int32(ldns_rr_rdf(soa, 2)),
			 store_serial("c1.example") + store_serial("c2.example"));
	ldns_pkt_free(p);
	expect_nodata("comb.example");
}

static void test_combined_names(void **state)
{
	(void)state;
	expect_a2("both.example.combn.example", A4(127, 0, 1, 2), A4(127, 0, 1, 5));
	static const char *const both[] = {
		"Listed both.example (see https://dbl.example/?d=both.example)",
		"second both.example"};
	expect_txts("Both.Example.combn.example", 2, both);
	expect_a("only2.example.combn.example", A4(127, 0, 1, 5));
	expect_a("a.tree.example.combn.example", A4(127, 0, 1, 4));
	expect_nodata("example.combn.example");
	expect_nxdomain("none.example.combn.example");
	expect_a2("test.combn.example", A4(127, 0, 1, 2), A4(127, 0, 1, 5));
	expect_nxdomain("invalid.combn.example");
	/* a member's exemption applies inside the combined zone too */
	ldns_pkt *p = ask("good.tree.example.combn.example", DNS_T_A);
	unsigned an = ldns_pkt_ancount(p);
	ldns_pkt_free(p);
	assert_int_equal(an, 0);
}

/* ------------------------------------------------------------------------------ */
/* exemption lists of IP zones */

static void test_exempt_ip(void **state)
{
	(void)state;
	char name[400];
	/* 192.0.2.0/24 is listed in blx, 192.0.2.7 in the allowlist */
	expect_a("8.2.0.192.blx.example", A4(127, 0, 0, 2));
	expect_txt("8.2.0.192.blx.example", "blocked 192.0.2.8");
	expect_nxdomain("7.2.0.192.blx.example");
	expect_a("7.2.0.192.allow.example", A4(127, 0, 15, 3));
	expect_txt("7.2.0.192.allow.example", "allowed 192.0.2.7");
	expect_nxdomain("8.2.0.192.allow.example");
	/* the same through the mapped IPv6 name */
	nibble_name("::ffff:192.0.2.7", 32, "blx.example", name);
	expect_nxdomain(name);
	nibble_name("::ffff:192.0.2.7", 32, "allow.example", name);
	expect_a(name, A4(127, 0, 15, 3));
	/* IPv6 */
	nibble_name("2001:db8:e::7", 32, "blx.example", name);
	expect_nxdomain(name);
	nibble_name("2001:db8:e::8", 32, "blx.example", name);
	expect_a(name, A4(127, 0, 0, 2));
	nibble_name("2001:db8:e::7", 32, "allow.example", name);
	expect_a(name, A4(127, 0, 15, 3));
	/* allowed but not listed: not listed either way */
	expect_nxdomain("1.0.0.10.blx.example");
	expect_a("1.0.0.10.allow.example", A4(127, 0, 15, 3));
	/* the test point stays listed */
	expect_a("2.0.0.127.blx.example", A4(127, 0, 0, 2));
}

/* Mutated name-zone and nibble queries: never a crash, always a readable answer. */
static void test_random_queries(void **state)
{
	(void)state;
	char v6[400];
	nibble_name("2001:db8:abcd::1", 32, "ip6.example", v6);
	const char *names[] = {"a.b.c.example.dbl.example", "x.ok.tree.example.dbl.example",
			       "1.2.0.192.comb.example", "both.example.combn.example", v6};
	srandom(5353);
	for (int iter = 0; iter < 20000; iter++) {
		qlen = build_query(qbuf, names[iter % 5], iter & 1 ? DNS_T_TXT : DNS_T_A,
				   (uint16_t)iter);
		int flips = 1 + (int)(random() % 3);
		for (int f = 0; f < flips; f++) {
			size_t at = 12 + (size_t)random() % (qlen - 16); /* inside the name */
			qbuf[at] = (random() & 1) ? (uint8_t)random() : (uint8_t)"aZ*.-_ \x80"[random() % 8];
		}
		answer_batch_begin(&ctx);
		rlen = answer_query(&ctx, guard_put(&gb, qbuf, qlen), qlen, rbuf, 512, false);
		answer_batch_end(&ctx);
		assert_true(rlen <= 512);
		if (rlen == 0)
			continue;
		ldns_pkt *p = NULL;
		ldns_status st = ldns_wire2pkt(&p, rbuf, rlen);
		if (st != LDNS_STATUS_OK)
			fail_msg("iteration %d: response of %zu bytes unreadable: %s", iter, rlen,
				 ldns_get_errorstr_by_id(st));
		ldns_pkt_free(p);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v6_listed),
		cmocka_unit_test(test_v6_label_forms),
		cmocka_unit_test(test_v6_partial),
		cmocka_unit_test(test_v6_test_points),
		cmocka_unit_test(test_v6_mapped),
		cmocka_unit_test(test_v6_mapped_partial),
		cmocka_unit_test(test_name_exact),
		cmocka_unit_test(test_name_case),
		cmocka_unit_test(test_name_subs),
		cmocka_unit_test(test_name_tree),
		cmocka_unit_test(test_name_listed_inside_exclusion),
		cmocka_unit_test(test_name_ent),
		cmocka_unit_test(test_name_expired),
		cmocka_unit_test(test_name_test_points),
		cmocka_unit_test(test_name_bad_bytes),
		cmocka_unit_test(test_name_exempt),
		cmocka_unit_test(test_combined),
		cmocka_unit_test(test_combined_apex),
		cmocka_unit_test(test_combined_names),
		cmocka_unit_test(test_exempt_ip),
		cmocka_unit_test(test_random_queries),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
