/* Unit tests for lib/addr.h: strict, bounded IPv4 address and prefix parsing,
 * range decomposition and formatting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "addr.h"
#include "err.h"
#include "testutil.h"

#define A4(a, b, c, d) \
	((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))

static struct guard_buf gb;

static int setup(void **state)
{
	(void)state;
	return guard_init(&gb, 4096);
}

static int teardown(void **state)
{
	(void)state;
	guard_free(&gb);
	return 0;
}

/* Parses s (strlen bytes) placed right before a guard page. */
static int parse4(const char *s, uint32_t *out)
{
	size_t n = strlen(s);
	return addr4_parse(guard_put(&gb, s, n), n, out);
}

static int parsep(const char *s, struct entry_key *out)
{
	size_t n = strlen(s);
	return prefix4_parse(guard_put(&gb, s, n), n, out);
}

static void test_addr4_parse_valid(void **state)
{
	static const struct {
		const char *s;
		uint32_t v;
	} ok[] = {
		{"0.0.0.0", 0},
		{"255.255.255.255", 0xffffffffu},
		{"1.2.3.4", A4(1, 2, 3, 4)},
		{"192.168.10.100", A4(192, 168, 10, 100)},
		{"10.0.0.1", A4(10, 0, 0, 1)},
		{"127.0.0.2", A4(127, 0, 0, 2)},
		{"199.99.9.0", A4(199, 99, 9, 0)},
		{"250.251.252.253", A4(250, 251, 252, 253)},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		uint32_t v = 0xdeadbeef;
		int rc = parse4(ok[i].s, &v);
		if (rc != 0 || v != ok[i].v)
			fail_msg("addr4_parse(\"%s\") = %d, 0x%08x; want 0, 0x%08x", ok[i].s,
				 rc, v, ok[i].v);
	}
}

static void test_addr4_parse_invalid(void **state)
{
	static const char *const bad[] = {
		"",            "256.0.0.0",   "1.2.3.256",   "1.2.300.4",  "999.1.1.1",
		"1000.1.1.1",  "01.2.3.4",    "1.2.3.04",    "1.02.3.4",   "00.1.2.3",
		"1.2.3.00",    "1..3.4",      ".1.2.3",      "1.2.3.",     "1.2.3.4.",
		"1.2.3.4.5",   "1.2.3",       "1.2",         "1",          "...",
		" 1.2.3.4",    "1.2.3.4 ",    "1. 2.3.4",    "1.2.3.4\n",  "\t1.2.3.4",
		"+1.2.3.4",    "-1.2.3.4",    "1.+2.3.4",    "1.2.3.-4",   "a.b.c.d",
		"1.2.3.4/8",   "0x1.2.3.4",   "1.2.3.0x4",   "1.2.3.4a",   "1,2,3,4",
		"1.2.3.4-5",   "4294967295",  "1.2.3.1234",  ".",          "1.2.3.4..",
	};
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint32_t v = 0;
		int rc = parse4(bad[i], &v);
		if (rc != DNSBL_ESYNTAX)
			fail_msg("addr4_parse(\"%s\") = %d (v=0x%08x); want DNSBL_ESYNTAX", bad[i],
				 rc, v);
	}
}

/* Parsers take (text, len), need no NUL and must never read past len. */
static void test_addr4_parse_length_bounded(void **state)
{
	const char *s = "1.2.3.45";
	uint32_t v = 0;
	int rc;
	(void)state;

	/* The first 7 bytes are "1.2.3.4": exactly that address, never 1.2.3.45. */
	rc = addr4_parse(guard_put(&gb, s, 7), 7, &v);
	assert_int_equal(rc, 0);
	assert_int_equal(v, A4(1, 2, 3, 4));

	/* Same with the rest of the string still present in memory after len. */
	char buf[16];
	memcpy(buf, "1.2.3.45", 9);
	v = 0;
	assert_int_equal(addr4_parse(buf, 7, &v), 0);
	assert_int_equal(v, A4(1, 2, 3, 4));

	/* Prefixes of "1.2.3.45" shorter than 7 are not addresses. */
	for (size_t n = 0; n < 7; n++) {
		rc = addr4_parse(guard_put(&gb, s, n), n, &v);
		if (rc != DNSBL_ESYNTAX)
			fail_msg("addr4_parse of first %zu bytes of \"%s\" = %d", n, s, rc);
	}
	/* "1.2.3." followed by a digit beyond len */
	assert_int_equal(addr4_parse(buf, 6, &v), DNSBL_ESYNTAX);

	/* Non-NUL-terminated input for every valid address length, at the guard. */
	const char *full = "255.255.255.255";
	rc = addr4_parse(guard_put(&gb, full, 15), 15, &v);
	assert_int_equal(rc, 0);
	assert_int_equal(v, 0xffffffffu);
	/* a huge len with an embedded NUL: the NUL is not a digit */
	char nul[] = {'1', '.', '2', '.', '3', '.', '4', '\0', '5'};
	assert_int_equal(addr4_parse(nul, sizeof(nul), &v), DNSBL_ESYNTAX);
}

/* a rejected octet: DNSBL_ESYNTAX, like every other parser */
#define BAD DNSBL_ESYNTAX
static void test_addr4_octet_parse(void **state)
{
	static const struct {
		const char *s;
		int v;
	} cases[] = {
		{"0", 0},     {"1", 1},     {"9", 9},     {"10", 10},  {"99", 99},
		{"100", 100}, {"199", 199}, {"255", 255}, {"256", BAD}, {"300", BAD},
		{"999", BAD},  {"01", BAD},   {"00", BAD},   {"000", BAD}, {"010", BAD},
		{"", BAD},     {"1000", BAD}, {"-1", BAD},   {"+1", BAD},  {" 1", BAD},
		{"1 ", BAD},   {"1a", BAD},   {"a", BAD},    {"0x1", BAD}, {"2555", BAD},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n = strlen(cases[i].s);
		int v = addr4_octet_parse(guard_put(&gb, cases[i].s, n), n);
		if (v != cases[i].v)
			fail_msg("addr4_octet_parse(\"%s\") = %d; want %d", cases[i].s, v,
				 cases[i].v);
	}
	/* length-bounded: only the first len bytes count */
	assert_int_equal(addr4_octet_parse("123", 2), 12);
	assert_int_equal(addr4_octet_parse("2567", 3), BAD);
	assert_int_equal(addr4_octet_parse("25x", 2), 25);
	assert_int_equal(addr4_octet_parse("1", 0), BAD);
	/* every value round-trips */
	for (int i = 0; i <= 255; i++) {
		char b[8];
		int n = snprintf(b, sizeof(b), "%d", i);
		assert_int_equal(addr4_octet_parse(guard_put(&gb, b, (size_t)n), (size_t)n), i);
	}
}

static void check_prefix(const char *s, uint32_t addr, unsigned len)
{
	struct entry_key p;
	memset(&p, 0xa5, sizeof(p));
	int rc = parsep(s, &p);
	if (rc != 0)
		fail_msg("prefix4_parse(\"%s\") = %d; want 0", s, rc);
	assert_int_equal(p.family, ADDR_FAMILY_V4);
	assert_int_equal(p.len, len);
	assert_int_equal(prefix4_addr(&p), addr);
	assert_int_equal(p.addr[0], addr >> 24);
	assert_int_equal(p.addr[1], (addr >> 16) & 0xff);
	assert_int_equal(p.addr[2], (addr >> 8) & 0xff);
	assert_int_equal(p.addr[3], addr & 0xff);
	/* bits past len are always zero: for IPv4 the unused bytes too */
	for (int i = 4; i < 16; i++)
		if (p.addr[i] != 0)
			fail_msg("prefix4_parse(\"%s\"): addr[%d] = 0x%02x, want 0", s, i,
				 p.addr[i]);
}

static void test_prefix4_parse_valid(void **state)
{
	(void)state;
	check_prefix("10.0.0.0/8", A4(10, 0, 0, 0), 8);
	check_prefix("1.2.3.4", A4(1, 2, 3, 4), 32);
	check_prefix("1.2.3.4/32", A4(1, 2, 3, 4), 32);
	check_prefix("0.0.0.0/0", 0, 0);
	check_prefix("128.0.0.0/1", A4(128, 0, 0, 0), 1);
	check_prefix("192.168.0.0/16", A4(192, 168, 0, 0), 16);
	check_prefix("172.16.0.0/12", A4(172, 16, 0, 0), 12);
	check_prefix("198.51.100.0/24", A4(198, 51, 100, 0), 24);
	check_prefix("198.51.100.6/31", A4(198, 51, 100, 6), 31);
	check_prefix("255.255.255.255/32", 0xffffffffu, 32);
	check_prefix("255.255.255.254/31", 0xfffffffeu, 31);
	check_prefix("10.0.0.0/9", A4(10, 0, 0, 0), 9);
	check_prefix("10.128.0.0/9", A4(10, 128, 0, 0), 9);
}

static void test_prefix4_parse_invalid(void **state)
{
	static const char *const bad[] = {
		"1.2.3.4/33",  "1.2.3.4/",    "/",          "/8",          "1.2.3.4//8",
		"1.2.3.4/-1",  "1.2.3.4/+8",  "1.2.3.4/ 8", "1.2.3.4/8 ",  "1.2.3.4 /8",
		"1.2.3.4/100", "1.2.3.4/3a",  "1.2.3/24",   "1.2.3.0/24/", "256.0.0.0/8",
		"01.0.0.0/8",  "1.2.3.4/a",   "",           "10.0.0.0/8/8", "1.2.3.4/128",
		"0.0.0.0/64",
	};
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct entry_key p;
		int rc = parsep(bad[i], &p);
		if (rc != DNSBL_ESYNTAX)
			fail_msg("prefix4_parse(\"%s\") = %d; want DNSBL_ESYNTAX", bad[i], rc);
	}
}

static void test_prefix4_parse_hostbits(void **state)
{
	struct entry_key p;
	(void)state;

	memset(&p, 0, sizeof(p));
	assert_int_equal(parsep("10.1.2.3/8", &p), DNSBL_EHOSTBITS);
	/* out is then masked */
	assert_int_equal(p.family, ADDR_FAMILY_V4);
	assert_int_equal(p.len, 8);
	assert_int_equal(prefix4_addr(&p), A4(10, 0, 0, 0));

	assert_int_equal(parsep("192.0.0.0/1", &p), DNSBL_EHOSTBITS);
	assert_int_equal(prefix4_addr(&p), A4(128, 0, 0, 0));
	assert_int_equal(p.len, 1);

	assert_int_equal(parsep("1.2.3.4/0", &p), DNSBL_EHOSTBITS);
	assert_int_equal(prefix4_addr(&p), 0);
	assert_int_equal(p.len, 0);

	assert_int_equal(parsep("198.51.100.7/31", &p), DNSBL_EHOSTBITS);
	assert_int_equal(prefix4_addr(&p), A4(198, 51, 100, 6));

	assert_int_equal(parsep("172.17.0.0/12", &p), DNSBL_EHOSTBITS);
	assert_int_equal(prefix4_addr(&p), A4(172, 16, 0, 0));
}

/* len bounded: "10.0.0.0/8" cut before "/8" is a /32, cut after "/2" of "/24" a /2. */
static void test_prefix4_parse_length_bounded(void **state)
{
	struct entry_key p;
	char buf[32];
	(void)state;

	memcpy(buf, "10.0.0.0/8", 11);
	assert_int_equal(prefix4_parse(buf, 8, &p), 0);
	assert_int_equal(p.len, 32);
	assert_int_equal(prefix4_addr(&p), A4(10, 0, 0, 0));

	memcpy(buf, "0.0.0.0/24", 11);
	assert_int_equal(prefix4_parse(buf, 9, &p), 0);
	assert_int_equal(p.len, 2);

	/* a '/' just past len must not be seen */
	memcpy(buf, "1.2.3.4/33", 11);
	assert_int_equal(prefix4_parse(buf, 7, &p), 0);
	assert_int_equal(p.len, 32);
	assert_int_equal(prefix4_addr(&p), A4(1, 2, 3, 4));

	/* cut right after '/' */
	assert_int_equal(prefix4_parse(guard_put(&gb, "1.2.3.0/", 8), 8, &p),
			 DNSBL_ESYNTAX);
	assert_int_equal(prefix4_parse(guard_put(&gb, "1.2.3.0/24", 10), 10, &p), 0);
	assert_int_equal(p.len, 24);
}

static void test_prefix4_mask_make(void **state)
{
	struct entry_key p;
	(void)state;

	assert_int_equal(prefix4_mask(0), 0);
	assert_int_equal(prefix4_mask(1), 0x80000000u);
	assert_int_equal(prefix4_mask(8), 0xff000000u);
	assert_int_equal(prefix4_mask(12), 0xfff00000u);
	assert_int_equal(prefix4_mask(24), 0xffffff00u);
	assert_int_equal(prefix4_mask(31), 0xfffffffeu);
	assert_int_equal(prefix4_mask(32), 0xffffffffu);
	for (unsigned l = 0; l <= 32; l++) {
		uint32_t m = prefix4_mask(l);
		unsigned bits = 0;
		for (uint32_t x = m; x; x <<= 1)
			bits++;
		assert_int_equal(bits, l);
	}

	memset(&p, 0xff, sizeof(p));
	prefix4_make(&p, A4(10, 1, 2, 3), 8);
	assert_int_equal(p.family, ADDR_FAMILY_V4);
	assert_int_equal(p.len, 8);
	assert_int_equal(prefix4_addr(&p), A4(10, 0, 0, 0));
	for (int i = 4; i < 16; i++)
		assert_int_equal(p.addr[i], 0);
	prefix4_make(&p, 0xffffffffu, 0);
	assert_int_equal(prefix4_addr(&p), 0);
	assert_int_equal(p.len, 0);
	prefix4_make(&p, 0xffffffffu, 32);
	assert_int_equal(prefix4_addr(&p), 0xffffffffu);
	prefix4_make(&p, A4(1, 2, 3, 255), 25);
	assert_int_equal(prefix4_addr(&p), A4(1, 2, 3, 128));
}

/* --- range4_to_prefixes --- */

#define MAXP 128
struct collect {
	unsigned n;
	struct entry_key p[MAXP];
	int stop_after; /* return this call's index+1 as non-zero when reached */
};

static int collect_fn(const struct entry_key *p, void *arg)
{
	struct collect *c = arg;
	if (c->n >= MAXP)
		return -1000;
	c->p[c->n++] = *p;
	if (c->stop_after && (int)c->n == c->stop_after)
		return 42;
	return 0;
}

static void expect_prefixes(uint32_t lo, uint32_t hi, unsigned n, const uint32_t *addrs,
			    const unsigned *lens)
{
	struct collect c;
	memset(&c, 0, sizeof(c));
	int rc = range4_to_prefixes(lo, hi, collect_fn, &c);
	assert_int_equal(rc, 0);
	if (c.n != n) {
		char b[32];
		for (unsigned i = 0; i < c.n; i++) {
			prefix_format(&c.p[i], 0, b, sizeof(b));
			print_message("  got %s\n", b);
		}
		fail_msg("range 0x%08x-0x%08x: %u prefixes, want %u", lo, hi, c.n, n);
	}
	for (unsigned i = 0; i < n; i++) {
		assert_int_equal(c.p[i].family, ADDR_FAMILY_V4);
		assert_int_equal(prefix4_addr(&c.p[i]), addrs[i]);
		assert_int_equal(c.p[i].len, lens[i]);
	}
}

static void test_range_whole_space(void **state)
{
	(void)state;
	uint32_t a[] = {0};
	unsigned l[] = {0};
	expect_prefixes(0, 0xffffffffu, 1, a, l);
}

static void test_range_small(void **state)
{
	(void)state;
	/* 10.0.0.1-10.0.0.9 = .1/32 .2/31 .4/30 .8/31 */
	uint32_t a[] = {A4(10, 0, 0, 1), A4(10, 0, 0, 2), A4(10, 0, 0, 4), A4(10, 0, 0, 8)};
	unsigned l[] = {32, 31, 30, 31};
	expect_prefixes(A4(10, 0, 0, 1), A4(10, 0, 0, 9), 4, a, l);

	uint32_t a2[] = {0xffffffffu};
	unsigned l2[] = {32};
	expect_prefixes(0xffffffffu, 0xffffffffu, 1, a2, l2);

	uint32_t a3[] = {0};
	unsigned l3[] = {32};
	expect_prefixes(0, 0, 1, a3, l3);

	/* a /24 written as a range */
	uint32_t a4[] = {A4(127, 0, 0, 0)};
	unsigned l4[] = {24};
	expect_prefixes(A4(127, 0, 0, 0), A4(127, 0, 0, 255), 1, a4, l4);

	/* 127.0.0.1-127.0.0.255: .1/32 .2/31 .4/30 .8/29 .16/28 .32/27 .64/26 .128/25 */
	uint32_t a5[] = {A4(127, 0, 0, 1),  A4(127, 0, 0, 2),  A4(127, 0, 0, 4),
			 A4(127, 0, 0, 8),  A4(127, 0, 0, 16), A4(127, 0, 0, 32),
			 A4(127, 0, 0, 64), A4(127, 0, 0, 128)};
	unsigned l5[] = {32, 31, 30, 29, 28, 27, 26, 25};
	expect_prefixes(A4(127, 0, 0, 1), A4(127, 0, 0, 255), 8, a5, l5);

	/* 127.16.0.0-127.31.255.255 is one /12 */
	uint32_t a6[] = {A4(127, 16, 0, 0)};
	unsigned l6[] = {12};
	expect_prefixes(A4(127, 16, 0, 0), A4(127, 31, 255, 255), 1, a6, l6);

	/* the whole space but the last address: 32 prefixes /1../32 */
	struct collect c;
	memset(&c, 0, sizeof(c));
	assert_int_equal(range4_to_prefixes(0, 0xfffffffeu, collect_fn, &c), 0);
	assert_int_equal(c.n, 32);
	uint32_t at = 0;
	for (unsigned i = 0; i < 32; i++) {
		assert_int_equal(c.p[i].len, i + 1);
		assert_int_equal(prefix4_addr(&c.p[i]), at);
		at += (uint32_t)(1ull << (31 - i));
	}
	/* the whole space but the first address */
	memset(&c, 0, sizeof(c));
	assert_int_equal(range4_to_prefixes(1, 0xffffffffu, collect_fn, &c), 0);
	assert_int_equal(c.n, 32);
	assert_int_equal(c.p[0].len, 32);
	assert_int_equal(prefix4_addr(&c.p[0]), 1);
	assert_int_equal(c.p[31].len, 1);
	assert_int_equal(prefix4_addr(&c.p[31]), 0x80000000u);
}

static void test_range_invalid_and_stop(void **state)
{
	struct collect c;
	(void)state;

	memset(&c, 0, sizeof(c));
	assert_int_equal(range4_to_prefixes(A4(10, 0, 0, 9), A4(10, 0, 0, 1), collect_fn, &c),
			 DNSBL_EINVAL);
	assert_int_equal(c.n, 0);
	assert_int_equal(range4_to_prefixes(1, 0, collect_fn, &c), DNSBL_EINVAL);
	assert_int_equal(range4_to_prefixes(0xffffffffu, 0, collect_fn, &c), DNSBL_EINVAL);
	assert_int_equal(c.n, 0);

	/* fn's first non-zero result stops the walk and is returned */
	memset(&c, 0, sizeof(c));
	c.stop_after = 2;
	assert_int_equal(range4_to_prefixes(A4(10, 0, 0, 1), A4(10, 0, 0, 9), collect_fn, &c),
			 42);
	assert_int_equal(c.n, 2);
}

/* Property check on random ranges: in order, disjoint, contiguous, exact cover,
 * aligned, and each block maximal (its parent block is not inside the range),
 * which together make it the unique smallest set. */
static void test_range_random(void **state)
{
	(void)state;
	srandom(12345);
	for (int iter = 0; iter < 20000; iter++) {
		uint32_t lo = (uint32_t)random() << 1 ^ (uint32_t)random();
		uint32_t hi;
		switch (iter % 4) {
		case 0: hi = lo + (uint32_t)(random() % 300); break;
		case 1: hi = lo + (uint32_t)(random() % 70000); break;
		case 2: hi = (uint32_t)random() << 1 ^ (uint32_t)random(); break;
		default: hi = lo; break;
		}
		if (hi < lo) {
			uint32_t t = lo;
			lo = hi;
			hi = t;
		}
		struct collect c;
		memset(&c, 0, sizeof(c));
		assert_int_equal(range4_to_prefixes(lo, hi, collect_fn, &c), 0);
		assert_true(c.n >= 1 && c.n <= 62);
		uint64_t next = lo;
		for (unsigned i = 0; i < c.n; i++) {
			const struct entry_key *p = &c.p[i];
			uint64_t start = prefix4_addr(p);
			uint64_t size = 1ull << (32 - p->len);
			assert_int_equal(p->family, ADDR_FAMILY_V4);
			assert_true(p->len <= 32);
			assert_int_equal(start, next);
			assert_int_equal(start & (size - 1), 0);
			/* maximal: the parent block sticks out of [lo, hi] */
			if (p->len > 0) {
				uint64_t psize = size * 2;
				uint64_t pstart = start & ~(psize - 1);
				assert_true(pstart < lo || pstart + psize - 1 > hi);
			}
			next = start + size;
		}
		assert_int_equal(next, (uint64_t)hi + 1);
	}
}

/* --- prefix_contains --- */

static struct entry_key P(const char *s)
{
	struct entry_key p;
	int rc = prefix4_parse(s, strlen(s), &p);
	if (rc != 0)
		fail_msg("test bug: prefix4_parse(\"%s\") = %d", s, rc);
	return p;
}

static void test_prefix_contains(void **state)
{
	(void)state;
	struct entry_key p8 = P("10.0.0.0/8"), p16 = P("10.1.0.0/16"), p32 = P("10.1.2.3"),
			 o8 = P("11.0.0.0/8"), all = P("0.0.0.0/0"), h9 = P("10.128.0.0/9"),
			 l9 = P("10.0.0.0/9"), x16 = P("10.200.0.0/16");

	assert_true(prefix_contains(&p8, &p16));
	assert_true(prefix_contains(&p8, &p32));
	assert_true(prefix_contains(&p16, &p32));
	assert_true(prefix_contains(&p8, &p8));
	assert_true(prefix_contains(&p32, &p32));
	assert_false(prefix_contains(&p16, &p8));
	assert_false(prefix_contains(&p32, &p16));
	assert_false(prefix_contains(&o8, &p16));
	assert_false(prefix_contains(&p8, &o8));
	assert_true(prefix_contains(&all, &p32));
	assert_true(prefix_contains(&all, &all));
	assert_true(prefix_contains(&all, &o8));
	assert_false(prefix_contains(&p8, &all));
	/* non-octet boundaries */
	assert_true(prefix_contains(&h9, &x16));
	assert_false(prefix_contains(&l9, &x16));
	assert_true(prefix_contains(&l9, &p16));
	assert_false(prefix_contains(&h9, &p16));
	struct entry_key a31 = P("1.2.3.6/31"), b32 = P("1.2.3.7"), c32 = P("1.2.3.8");
	assert_true(prefix_contains(&a31, &b32));
	assert_false(prefix_contains(&a31, &c32));

	/* different family */
	struct entry_key v6;
	memset(&v6, 0, sizeof(v6));
	v6.family = ADDR_FAMILY_V6;
	v6.len = 0;
	assert_false(prefix_contains(&v6, &p32));
	assert_false(prefix_contains(&all, &v6));
}

/* --- formatting --- */

static void test_addr4_format(void **state)
{
	char buf[16];
	(void)state;

	memset(buf, 'X', sizeof(buf));
	assert_int_equal(addr4_format(0, buf), 7);
	assert_string_equal(buf, "0.0.0.0");
	assert_int_equal(addr4_format(0xffffffffu, buf), 15);
	assert_string_equal(buf, "255.255.255.255");
	assert_int_equal(addr4_format(A4(10, 0, 0, 1), buf), 8);
	assert_string_equal(buf, "10.0.0.1");
	assert_int_equal(addr4_format(A4(192, 168, 100, 254), buf), 15);
	assert_string_equal(buf, "192.168.100.254");

	/* round trip with the parser */
	srandom(777);
	for (int i = 0; i < 10000; i++) {
		uint32_t a = (uint32_t)random() << 1 ^ (uint32_t)random(), b = 0;
		size_t n = addr4_format(a, buf);
		assert_int_equal(n, strlen(buf));
		assert_int_equal(addr4_parse(guard_put(&gb, buf, n), n, &b), 0);
		assert_int_equal(a, b);
	}
}

static void test_prefix_format(void **state)
{
	char buf[32];
	struct entry_key p;
	(void)state;

	p = P("10.0.0.0/8");
	assert_int_equal(prefix_format(&p, 0, buf, sizeof(buf)), 10);
	assert_string_equal(buf, "10.0.0.0/8");
	assert_int_equal(prefix_format(&p, 1, buf, sizeof(buf)), 10);
	assert_string_equal(buf, "10.0.0.0/8");

	p = P("1.2.3.4");
	assert_int_equal(prefix_format(&p, 1, buf, sizeof(buf)), 7);
	assert_string_equal(buf, "1.2.3.4");
	assert_int_equal(prefix_format(&p, 0, buf, sizeof(buf)), 10);
	assert_string_equal(buf, "1.2.3.4/32");

	p = P("0.0.0.0/0");
	assert_int_equal(prefix_format(&p, 1, buf, sizeof(buf)), 9);
	assert_string_equal(buf, "0.0.0.0/0");

	/* the longest IPv4 form fits in 19 bytes */
	char b19[19];
	p = P("255.255.255.255");
	assert_int_equal(prefix_format(&p, 0, b19, sizeof(b19)), 18);
	assert_string_equal(b19, "255.255.255.255/32");
	p = P("255.255.255.254/31");
	assert_int_equal(prefix_format(&p, 1, b19, sizeof(b19)), 18);
	assert_string_equal(b19, "255.255.255.254/31");

	/* round trip */
	srandom(4242);
	for (int i = 0; i < 5000; i++) {
		struct entry_key q, r;
		prefix4_make(&q, (uint32_t)random() << 1 ^ (uint32_t)random(),
			     (unsigned)(random() % 33));
		size_t n = prefix_format(&q, i & 1, buf, sizeof(buf));
		assert_int_equal(n, strlen(buf));
		assert_int_equal(prefix4_parse(guard_put(&gb, buf, n), n, &r), 0);
		assert_int_equal(r.len, q.len);
		assert_memory_equal(r.addr, q.addr, 4);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_addr4_parse_valid),
		cmocka_unit_test(test_addr4_parse_invalid),
		cmocka_unit_test(test_addr4_parse_length_bounded),
		cmocka_unit_test(test_addr4_octet_parse),
		cmocka_unit_test(test_prefix4_parse_valid),
		cmocka_unit_test(test_prefix4_parse_invalid),
		cmocka_unit_test(test_prefix4_parse_hostbits),
		cmocka_unit_test(test_prefix4_parse_length_bounded),
		cmocka_unit_test(test_prefix4_mask_make),
		cmocka_unit_test(test_range_whole_space),
		cmocka_unit_test(test_range_small),
		cmocka_unit_test(test_range_invalid_and_stop),
		cmocka_unit_test(test_range_random),
		cmocka_unit_test(test_prefix_contains),
		cmocka_unit_test(test_addr4_format),
		cmocka_unit_test(test_prefix_format),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
