/* Unit tests for lib/listing.h: listing_query's whole outcome for one zone (listed,
 * excluded, exempt, expired, pending, the RFC 5782 test points, IPv4-mapped IPv6,
 * empty non-terminals below partial IPv4, IPv6 and IPv4-mapped names and below
 * domain names, an allowlist covering subdomains), its agreement with listing_decide
 * (what dnsbl-api reports), and listing_values_resolve. One store for all tests, in a
 * temporary directory, read in one snapshot. */
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

#include <cmocka.h>

#include "addr.h"
#include "dname.h"
#include "err.h"
#include "listing.h"
#include "store.h"
#include "storetest.h"

#define NOW 1700000000u
#define A4(a, b, c, d) \
	((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))

/* --- the store --- */

enum ent_state { ACTIVE, EXPIRED, PENDING };

struct ent {
	const char *key; /* as an operator writes it (entry_key_parse) */
	uint8_t flags;
	uint32_t a;
	const char *txt;
	enum ent_state state;
};

static const struct ent bl_entries[] = {
	{ "192.0.2.1", STORE_F_A | STORE_F_TXT, A4(127, 0, 0, 3), "own $" },
	{ "192.0.2.4", STORE_F_NOTXT },
	{ "192.0.2.50" }, /* and in wl: exempt */
	{ "198.51.100.0/24" },
	{ "198.51.100.7", STORE_F_EXCLUDE },
	{ "203.0.113.5", 0, 0, NULL, EXPIRED },
	{ "203.0.113.6", 0, 0, NULL, PENDING },
	{ "10.1.0.0/16" },
	{ "4.3.2.1", STORE_F_EXCLUDE },
	{ "2001:db8::/32" },
	{ "2001:db8:1::1", STORE_F_EXCLUDE },
	{ "4321::1" },
	{ NULL },
};

static const struct ent wl_entries[] = {
	{ "192.0.2.50" },
	{ NULL },
};

static const struct ent dbl_entries[] = {
	{ "exact.example" },
	{ "*.subs.example", STORE_F_A, A4(127, 0, 1, 3) },
	{ ".tree.example" },
	{ "ok.tree.example", STORE_F_EXCLUDE },
	{ "good.tree.example" }, /* and in dwl: exempt */
	{ "x.plain.example" },
	{ "a.cov.example" },     /* dwl's .cov.example covers it */
	{ "expired.example", 0, 0, NULL, EXPIRED },
	{ "pend.example", 0, 0, NULL, PENDING },
	{ "y.pendonly.example", 0, 0, NULL, PENDING },
	{ "z.expiredonly.example", 0, 0, NULL, EXPIRED },
	{ NULL },
};

static const struct ent dwl_entries[] = {
	{ "good.tree.example" },
	{ ".cov.example" },
	{ NULL },
};

static struct store_reader *R;
static struct store_zone bl, wl, dbl, dwl;

static void put_one(struct store_writer *w, struct store_zone *z, int names, const struct ent *e)
{
	static const struct store_lifecycle two_hits = { .list_threshold = 2, .list_window = 3600 };
	uint8_t buf[DNAME_KEY_MAX];
	struct entry_key k;
	int rc = entry_key_parse(names, e->key, strlen(e->key), buf, &k);
	if (rc != 0)
		fail_msg("test bug: entry_key_parse(\"%s\") = %d", e->key, rc);
	struct store_put put = { .flags = e->flags, .a = e->a, .seen = NOW, .hits = 1,
				 .now = NOW, .txt = e->txt,
				 .txt_len = e->txt ? strlen(e->txt) : 0 };
	if (e->state == EXPIRED) {
		/* an operator's listing may be written expired; a feed's would be STALE */
		put.actor = STORE_ACTOR_OPERATOR;
		put.seen = NOW - 5000;
		put.expires = NOW - 1000;
		put.expires_set = true;
	} else if (e->state == PENDING) {
		put.life = &two_hits;
	}
	int outcome = -1;
	rc = store_merge(w, z, &k, &put, &outcome);
	if (rc != 0 || outcome != (e->state == PENDING ? STORE_PENDING : STORE_CREATED))
		fail_msg("store_merge(\"%s\") = %d, outcome %d", e->key, rc, outcome);
}

static void put_all(struct store_writer *w, const char *zone, int names, const struct ent *e)
{
	struct store_zone *z = wzone(w, zone);
	for (; e->key != NULL; e++)
		put_one(w, z, names, e);
}

static int group_setup(void **state)
{
	(void)state;
	if (storetest_open("/tmp/dnsbl-test-listing-XXXXXX") != 0)
		return -1;
	struct store_writer *w = wbegin();
	put_all(w, "bl", 0, bl_entries);
	put_all(w, "wl", 0, wl_entries);
	put_all(w, "dbl", 1, dbl_entries);
	put_all(w, "dwl", 1, dwl_entries);
	wcommit(w);
	R = rnew();
	rbegin(R);
	bl = zget(R, "bl");
	wl = zget(R, "wl");
	dbl = zget(R, "dbl");
	dwl = zget(R, "dwl");
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	if (R != NULL)
		store_reader_free(R);
	return storetest_close();
}

/* --- keys --- */

/* Parses a query key: entry_key_parse's text, or with "6:" first an IPv6 address or
 * prefix taken as it is (entry_key_parse reads ::ffff:a.b.c.d as IPv4). The name's
 * key form goes into buf. */
static struct entry_key key_parse(int names, const char *s, uint8_t *buf)
{
	struct entry_key k;

	if (strncmp(s, "6:", 2) == 0) {
		char a[INET6_ADDRSTRLEN];
		const char *slash = strchr(s, '/');
		size_t n = slash ? (size_t)(slash - s - 2) : strlen(s + 2);
		memset(&k, 0, sizeof(k));
		snprintf(a, sizeof(a), "%.*s", (int)n, s + 2);
		k.family = ADDR_FAMILY_V6;
		k.len = (uint8_t)(slash ? atoi(slash + 1) : 128);
		if (inet_pton(AF_INET6, a, k.addr) != 1)
			fail_msg("test bug: inet_pton(\"%s\")", a);
		return k;
	}
	int rc = entry_key_parse(names, s, strlen(s), buf, &k);
	if (rc != 0)
		fail_msg("test bug: entry_key_parse(\"%s\") = %d", s, rc);
	return k;
}

static const char *key_text(const struct entry_key *k, char *buf)
{
	entry_key_format(k, 1, buf, ENTRY_KEY_TEXT_MAX);
	return buf;
}

static const char *verdict_name(int v)
{
	static const char *names[] = { "NOT_LISTED", "LISTED", "EXCLUDED", "EXEMPT",
				       "TEST_LISTED", "TEST_UNLISTED", "EMPTY_NON_TERMINAL" };
	return v >= 0 && v < 7 ? names[v] : dnsbl_strerror(v);
}

/* --- listing_query, one key at a time --- */

#define DEF_A A4(127, 0, 0, 2)
#define DEF_TXT "default $"
#define NOTXT "(none)"

struct row {
	const char *zone; /* "bl" or "dbl" (its allowlist: wl, dwl) */
	const char *key;  /* see key_parse */
	bool allow;       /* pass the zone's allowlist */
	int verdict;
	const char *decided; /* res.key as text; NULL: the key as asked */
	const char *matched; /* LISTED, EXCLUDED, EXEMPT: match.prefix as text */
	uint32_t a;          /* LISTED, TEST_LISTED: the A answered */
	const char *txt;     /* and its TXT template (NOTXT: none) */
};

#define L LISTING_LISTED
#define ENT LISTING_EMPTY_NON_TERMINAL
#define NOT LISTING_NOT_LISTED

static const struct row rows[] = {
	/* IPv4 addresses */
	{ "bl", "192.0.2.1", true, L, NULL, "192.0.2.1", A4(127, 0, 0, 3), "own $" },
	{ "bl", "192.0.2.4", true, L, NULL, "192.0.2.4", DEF_A, NOTXT },
	{ "bl", "198.51.100.9", true, L, NULL, "198.51.100.0/24", DEF_A, DEF_TXT },
	{ "bl", "198.51.100.7", true, LISTING_EXCLUDED, NULL, "198.51.100.7" },
	{ "bl", "192.0.2.50", true, LISTING_EXEMPT, NULL, "192.0.2.50" },
	{ "bl", "192.0.2.50", false, L, NULL, "192.0.2.50", DEF_A, DEF_TXT },
	{ "bl", "203.0.113.5", true, NOT },  /* expired */
	{ "bl", "203.0.113.6", true, NOT },  /* pending */
	{ "bl", "8.8.8.8", true, NOT },
	{ "bl", "127.0.0.2", true, LISTING_TEST_LISTED, NULL, NULL, DEF_A, DEF_TXT },
	{ "bl", "127.0.0.1", true, LISTING_TEST_UNLISTED },
	/* IPv6 addresses; IPv4-mapped ones answer as their IPv4 address */
	{ "bl", "2001:db8::5", true, L, NULL, "2001:db8::/32", DEF_A, DEF_TXT },
	{ "bl", "2001:db8:1::1", true, LISTING_EXCLUDED, NULL, "2001:db8:1::1" },
	{ "bl", "2001:db9::1", true, NOT },
	{ "bl", "6:::ffff:192.0.2.1", true, L, "192.0.2.1", "192.0.2.1", A4(127, 0, 0, 3),
	  "own $" },
	{ "bl", "6:::ffff:198.51.100.7", true, LISTING_EXCLUDED, "198.51.100.7", "198.51.100.7" },
	{ "bl", "6:::ffff:127.0.0.2", true, LISTING_TEST_LISTED, "127.0.0.2", NULL, DEF_A,
	  DEF_TXT },
	{ "bl", "6:::ffff:127.0.0.1", true, LISTING_TEST_UNLISTED, "127.0.0.1" },
	/* partial IPv4 names: empty non-terminals when something listed overlaps */
	{ "bl", "198.51.0.0/16", true, ENT },
	{ "bl", "198.51.100.0/24", true, ENT },
	{ "bl", "192.0.2.0/24", true, ENT },
	{ "bl", "10.1.2.0/24", true, ENT },  /* inside a listed /16 */
	{ "bl", "203.0.113.0/24", true, NOT }, /* only expired and pending inside */
	{ "bl", "8.0.0.0/8", true, NOT },
	{ "bl", "127.0.0.0/24", true, ENT }, /* the test point */
	{ "bl", "127.0.0.0/8", true, ENT },
	/* partial IPv6 names */
	{ "bl", "2001:db8::/32", true, ENT },
	{ "bl", "2001:db8:1::/48", true, ENT },
	{ "bl", "2001::/16", true, ENT },
	{ "bl", "2001:db9::/32", true, NOT },
	/* partial IPv4-mapped IPv6 names answer from the IPv4 entries */
	{ "bl", "6:::ffff:10.1.0.0/112", true, ENT },
	{ "bl", "6:::ffff:10.0.0.0/104", true, ENT },
	{ "bl", "6:::ffff:11.0.0.0/104", true, NOT },
	{ "bl", "6:::ffff:203.0.113.0/120", true, NOT },
	{ "bl", "6:::ffff:127.0.0.0/120", true, ENT }, /* the test point */
	{ "bl", "6:::/80", true, ENT },
	/* names */
	{ "dbl", "exact.example", true, L, NULL, "exact.example", DEF_A, DEF_TXT },
	{ "dbl", "sub.exact.example", true, NOT },
	{ "dbl", "a.subs.example", true, L, NULL, "*.subs.example", A4(127, 0, 1, 3), DEF_TXT },
	{ "dbl", "subs.example", true, ENT },
	{ "dbl", "tree.example", true, L, NULL, ".tree.example", DEF_A, DEF_TXT },
	{ "dbl", "deep.x.tree.example", true, L, NULL, ".tree.example", DEF_A, DEF_TXT },
	/* excluded or exempt itself, but the TREE above lists its subdomains */
	{ "dbl", "ok.tree.example", true, ENT },
	{ "dbl", "good.tree.example", true, ENT },
	{ "dbl", "plain.example", true, ENT },
	{ "dbl", "example", true, ENT },
	/* the allowlist's .cov.example covers every name below cov.example */
	{ "dbl", "cov.example", true, NOT },
	{ "dbl", "cov.example", false, ENT },
	{ "dbl", "a.cov.example", true, LISTING_EXEMPT, NULL, "a.cov.example" },
	{ "dbl", "a.cov.example", false, L, NULL, "a.cov.example", DEF_A, DEF_TXT },
	{ "dbl", "expired.example", true, NOT },
	{ "dbl", "pend.example", true, NOT },
	{ "dbl", "pendonly.example", true, NOT },
	{ "dbl", "expiredonly.example", true, NOT },
	{ "dbl", "other.example", true, NOT },
	{ "dbl", "TEST", true, LISTING_TEST_LISTED, "test", NULL, DEF_A, DEF_TXT },
	{ "dbl", "invalid", true, LISTING_TEST_UNLISTED },
	{ "dbl", "sub.test", true, NOT },
};

/* Checks the values row r's result answers with. */
static void check_values(const struct row *r, int v, const struct listing_result *res)
{
	const struct listing_values def = { DEF_A, DEF_TXT, strlen(DEF_TXT) };
	struct listing_values out;

	listing_values_resolve(v, &res->match, &def, &out);
	assert_int_equal(out.a, r->a);
	if (strcmp(r->txt, NOTXT) == 0) {
		assert_null(out.txt);
	} else {
		assert_non_null(out.txt);
		assert_int_equal(out.txt_len, strlen(r->txt));
		assert_memory_equal(out.txt, r->txt, out.txt_len);
	}
}

/* dnsbl-api asks listing_decide about full addresses and names: it must agree. */
static void check_decide(const struct store_zone *zone, const struct store_zone *allow,
			 const struct entry_key *k, int v, const struct listing_result *res)
{
	struct listing_match m;
	if (k->family != ADDR_FAMILY_NAME && k->len != (k->family == ADDR_FAMILY_V4 ? 32 : 128))
		return; /* a partial name: only dnsbld asks */
	int d = listing_decide(R, zone, allow, &res->key, NOW, &m);
	if (v == ENT)
		assert_true(d == NOT || d == LISTING_EXCLUDED || d == LISTING_EXEMPT ||
			    d == LISTING_TEST_UNLISTED);
	else
		assert_int_equal(d, v);
}

static void check_row(const struct row *r)
{
	bool names = strcmp(r->zone, "dbl") == 0;
	const struct store_zone *zone = names ? &dbl : &bl;
	const struct store_zone *allow = !r->allow ? NULL : names ? &dwl : &wl;
	uint8_t buf[DNAME_KEY_MAX];
	char t[ENTRY_KEY_TEXT_MAX];
	struct listing_key key = { .count = 1 };
	struct listing_result res;

	key.keys[0] = key_parse(names, r->key, buf);
	int v = listing_query(R, zone, allow, &key, NOW, &res);
	if (v != r->verdict)
		fail_msg("%s %s%s: %s, want %s", r->zone, r->key, r->allow ? "" : " (no allowlist)",
			 verdict_name(v), verdict_name(r->verdict));
	const char *want = r->decided ? r->decided : key_text(&key.keys[0], t);
	char got[ENTRY_KEY_TEXT_MAX];
	if (strcmp(key_text(&res.key, got), want) != 0)
		fail_msg("%s %s: decided %s, want %s", r->zone, r->key, got, want);
	if (r->matched != NULL && strcmp(key_text(&res.match.prefix, t), r->matched) != 0)
		fail_msg("%s %s: matched %s, want %s", r->zone, r->key, t, r->matched);
	if (v == LISTING_LISTED || v == LISTING_TEST_LISTED)
		check_values(r, v, &res);
	check_decide(zone, allow, &key.keys[0], v, &res);
}

static void test_query_one_key(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		check_row(&rows[i]);
}

/* The exemption names the allowlist's entry. */
static void test_exempt_match(void **state)
{
	(void)state;
	uint8_t buf[DNAME_KEY_MAX];
	char t[ENTRY_KEY_TEXT_MAX];
	struct listing_key key = { .count = 1 };
	struct listing_result res;

	key.keys[0] = key_parse(1, "a.cov.example", buf);
	assert_int_equal(listing_query(R, &dbl, &dwl, &key, NOW, &res), LISTING_EXEMPT);
	assert_string_equal(key_text(&res.match.allow_prefix, t), ".cov.example");
	key.keys[0] = key_parse(0, "192.0.2.50", buf);
	assert_int_equal(listing_query(R, &bl, &wl, &key, NOW, &res), LISTING_EXEMPT);
	assert_string_equal(key_text(&res.match.allow_prefix, t), "192.0.2.50");
}

/* A zone never written lists nothing but the test points, and needs no reader. */
static void test_query_no_zone(void **state)
{
	(void)state;
	static const struct {
		int names;
		const char *key;
		int verdict;
	} cases[] = {
		{ 0, "192.0.2.1", NOT },
		{ 0, "192.0.2.0/24", NOT },
		{ 0, "127.0.0.2", LISTING_TEST_LISTED },
		{ 0, "127.0.0.1", LISTING_TEST_UNLISTED },
		{ 0, "127.0.0.0/8", ENT },
		{ 0, "6:::ffff:127.0.0.2", LISTING_TEST_LISTED },
		{ 0, "6:::ffff:127.0.0.0/104", ENT },
		{ 0, "6:::ffff:10.0.0.0/104", NOT },
		{ 1, "exact.example", NOT },
		{ 1, "test", LISTING_TEST_LISTED },
		{ 1, "invalid", LISTING_TEST_UNLISTED },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t buf[DNAME_KEY_MAX];
		struct listing_key key = { .count = 1 };
		struct listing_result res;
		key.keys[0] = key_parse(cases[i].names, cases[i].key, buf);
		int v = listing_query(NULL, NULL, NULL, &key, NOW, &res);
		if (v != cases[i].verdict)
			fail_msg("%s: %s, want %s", cases[i].key, verdict_name(v),
				 verdict_name(cases[i].verdict));
	}
}

/* A name that reads as IPv4 and as IPv6: the first reading that answers decides,
 * else the first reading's verdict and findings stand. */
static void test_query_two_keys(void **state)
{
	(void)state;
	static const struct {
		const char *k0, *k1;
		int verdict;
		const char *decided, *matched;
	} cases[] = {
		{ "4.3.2.1", "4321::/16", ENT, "4321::/16", NULL },
		{ "4.3.2.1", "4322::/16", LISTING_EXCLUDED, "4.3.2.1", "4.3.2.1" },
		{ "192.0.2.1", "4321::/16", L, "192.0.2.1", "192.0.2.1" },
		{ "8.8.8.8", "4321::/16", ENT, "4321::/16", NULL },
		{ "8.8.8.0/24", "8888::/16", NOT, "8.8.8.0/24", NULL },
		{ "192.0.2.0/24", "4322::/16", ENT, "192.0.2.0/24", NULL },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t buf[DNAME_KEY_MAX];
		char t[ENTRY_KEY_TEXT_MAX];
		struct listing_key key = { .count = 2 };
		struct listing_result res;
		key.keys[0] = key_parse(0, cases[i].k0, buf);
		key.keys[1] = key_parse(0, cases[i].k1, buf);
		int v = listing_query(R, &bl, &wl, &key, NOW, &res);
		if (v != cases[i].verdict)
			fail_msg("%s + %s: %s, want %s", cases[i].k0, cases[i].k1,
				 verdict_name(v), verdict_name(cases[i].verdict));
		assert_string_equal(key_text(&res.key, t), cases[i].decided);
		if (cases[i].matched != NULL)
			assert_string_equal(key_text(&res.match.prefix, t), cases[i].matched);
	}
}

static void test_query_key_count(void **state)
{
	(void)state;
	struct listing_key key = { .count = 0 };
	struct listing_result res;

	assert_int_equal(listing_query(R, &bl, &wl, &key, NOW, &res), NOT);
	key.count = LISTING_KEYS_MAX + 1;
	assert_int_equal(listing_query(R, &bl, &wl, &key, NOW, &res), DNSBL_EINVAL);
}

/* Entries expire by the time asked about, in the same snapshot. */
static void test_query_time(void **state)
{
	(void)state;
	uint8_t buf[DNAME_KEY_MAX];
	struct listing_key key = { .count = 1 };
	struct listing_result res;

	key.keys[0] = key_parse(0, "203.0.113.5", buf);
	assert_int_equal(listing_query(R, &bl, &wl, &key, NOW - 2000, &res), L);
	key.keys[0] = key_parse(0, "203.0.113.0/24", buf);
	assert_int_equal(listing_query(R, &bl, &wl, &key, NOW - 2000, &res), ENT);
	key.keys[0] = key_parse(1, "expiredonly.example", buf);
	assert_int_equal(listing_query(R, &dbl, &dwl, &key, NOW - 2000, &res), ENT);
}

static void test_values_resolve(void **state)
{
	(void)state;
	const struct listing_values def = { DEF_A, DEF_TXT, strlen(DEF_TXT) };
	struct listing_match m;
	struct listing_values out;

	memset(&m, 0, sizeof(m));
	m.entry.flags = STORE_F_A | STORE_F_TXT;
	m.entry.a = A4(127, 0, 0, 9);
	m.entry.txt = "mine";
	m.entry.txt_len = 4;
	listing_values_resolve(LISTING_LISTED, &m, &def, &out);
	assert_int_equal(out.a, A4(127, 0, 0, 9));
	assert_ptr_equal(out.txt, m.entry.txt);
	assert_int_equal(out.txt_len, 4);
	/* the test point answers with the defaults whatever match holds */
	listing_values_resolve(LISTING_TEST_LISTED, &m, &def, &out);
	assert_int_equal(out.a, DEF_A);
	assert_ptr_equal(out.txt, def.txt);
	m.entry.flags = STORE_F_NOTXT | STORE_F_TXT;
	listing_values_resolve(LISTING_LISTED, &m, &def, &out);
	assert_int_equal(out.a, DEF_A);
	assert_null(out.txt);
	m.entry.flags = 0;
	listing_values_resolve(LISTING_LISTED, &m, &def, &out);
	assert_int_equal(out.a, DEF_A);
	assert_ptr_equal(out.txt, def.txt);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_query_one_key),
		cmocka_unit_test(test_exempt_match),
		cmocka_unit_test(test_query_no_zone),
		cmocka_unit_test(test_query_two_keys),
		cmocka_unit_test(test_query_key_count),
		cmocka_unit_test(test_query_time),
		cmocka_unit_test(test_values_resolve),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
