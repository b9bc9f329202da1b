/* The zones of the IPv6, domain and combined answer tests (header only: the Makefile
 * compiles only tests/unit/test_*.c): a config with nibble, domain, combined and
 * exempt zones, their entries written with store_merge (group_setup), and query
 * helpers that build queries by hand (so case and bytes are exact) and read the
 * responses back with ldns. Shared by test_answer_ipv6.c, test_answer_names.c and
 * test_answer_combined.c; everything is static so each binary has its own copy. */
#ifndef DNSBL_ANSWERZONES_H
#define DNSBL_ANSWERZONES_H

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

static inline int put_one(struct store_writer *w, struct store_zone *z, int names, const struct ent *e)
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

static inline int put_all(struct store_writer *w, const char *zone, int names, const struct ent *e)
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

static inline int group_setup(void **state)
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
static inline size_t name_to_wire(const char *text, uint8_t *out)
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

static inline size_t build_query(uint8_t *b, const char *name, uint16_t qtype, uint16_t id)
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
static inline ldns_pkt *ask(const char *name, uint16_t qtype)
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

static inline uint32_t store_serial(const char *zone)
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

/* The zone a name is answered from, its SOA serial (its own plus its exempt
 * allowlist's; a combined zone's: the sum of its members') and its negative TTL. */
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

static inline uint32_t zone_serial(const struct zone_config *z)
{
	if (z->type != ZONE_TYPE_COMBINED)
		return store_serial(z->name) + (z->exempt[0] ? store_serial(z->exempt) : 0);
	uint32_t s = 0;
	for (unsigned i = 0; i < z->member_count; i++)
		s += zone_serial(config_zone(&cfg, z->members[i]));
	return s;
}

static inline void assert_neg_soa(ldns_pkt *p, const char *name)
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

static inline void expect_nxdomain(const char *name)
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
static inline void expect_nodata_type(const char *name, uint16_t qtype)
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

static inline void expect_nodata(const char *name)
{
	expect_nodata_type(name, DNS_T_A);
	expect_nodata_type(name, DNS_T_TXT);
}

static inline int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

/* The answer's records of type qtype, checked for owner (the query name as sent),
 * class, TTL; returns the packet for more checks. */
static inline ldns_pkt *expect_answers(const char *name, uint16_t qtype, size_t n)
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
static inline void expect_a_set(const char *name, size_t n, const uint32_t *want)
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

static inline void expect_a(const char *name, uint32_t a)
{
	expect_a_set(name, 1, &a);
}

static inline void expect_a2(const char *name, uint32_t a, uint32_t b)
{
	uint32_t v[2] = {a, b};
	expect_a_set(name, 2, v);
}

/* The text of TXT record i, strings concatenated. */
static inline void txt_of(ldns_pkt *p, size_t i, char *out, size_t size)
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
static inline void expect_txts(const char *name, size_t n, const char *const *want)
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

static inline void expect_txt(const char *name, const char *want)
{
	expect_txts(name, 1, &want);
}

/* The nibble-reversed name of IPv6 address text under zone, its first nibbles only
 * (32 for the whole address). */
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

#endif
