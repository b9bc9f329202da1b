/* Unit tests for loader/feed_column.c through the csv parser: what each column's value
 * may be (the key, times, code, txt, reason, source, ttl, hits, expires, no_txt), and
 * rows with every column. Written from feed.h and README.md ("### Formats"). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "feedtest.h"

static int setup(void **state)
{
	(void)state;
	return guard_init(&gb, 16384);
}

/* ============================================================================== */
/* csv: column values */

/* no_txt = 1 is rbldnsd's ":A:" (an entry that answers no TXT), as export writes it */
static void test_csv_no_txt(void **state)
{
	(void)state;
	csv_hdr("ip,no_txt,code");
	csv_rec("192.0.2.1,1,127.0.0.3");
	assert_true(rec.flags & STORE_F_NOTXT);
	assert_true(rec.flags & STORE_F_A);
	csv_rec("192.0.2.2,0,");
	assert_false(rec.flags & STORE_F_NOTXT);
	csv_rec("192.0.2.3,,");
	assert_false(rec.flags & STORE_F_NOTXT);
	csv_err("192.0.2.4,2,");
	csv_err("192.0.2.4,yes,");
	csv_err("192.0.2.4,11,");
}

static void test_csv_ip_address(void **state)
{
	(void)state;
	csv_hdr("ip");
	csv_rec("192.0.2.1");
	want_range("192.0.2.1", A4(192, 0, 2, 1), A4(192, 0, 2, 1), false);
	csv_rec("0.0.0.0");
	want_range("0.0.0.0", 0, 0, false);
	csv_rec("255.255.255.255");
	want_range("255.255.255.255", U32MAX, U32MAX, false);
}

static void test_csv_ip_cidr(void **state)
{
	(void)state;
	csv_hdr("ip");
	csv_rec("10.0.0.0/8");
	want_range("10.0.0.0/8", A4(10, 0, 0, 0), A4(10, 255, 255, 255), false);
	csv_rec("172.16.0.0/12");
	want_range("172.16.0.0/12", A4(172, 16, 0, 0), A4(172, 31, 255, 255), false);
	csv_rec("198.51.100.0/24");
	want_range("198.51.100.0/24", A4(198, 51, 100, 0), A4(198, 51, 100, 255), false);
	csv_rec("198.51.100.6/31");
	want_range("198.51.100.6/31", A4(198, 51, 100, 6), A4(198, 51, 100, 7), false);
	csv_rec("1.2.3.4/32");
	want_range("1.2.3.4/32", A4(1, 2, 3, 4), A4(1, 2, 3, 4), false);
	csv_rec("0.0.0.0/0");
	want_range("0.0.0.0/0", 0, U32MAX, false);
	csv_rec("128.0.0.0/1");
	want_range("128.0.0.0/1", A4(128, 0, 0, 0), U32MAX, false);
}

static void test_csv_ip_exclusion(void **state)
{
	(void)state;
	csv_hdr("ip,reason");
	csv_rec("!198.51.100.7,whitelisted");
	want_range("!198.51.100.7", A4(198, 51, 100, 7), A4(198, 51, 100, 7), true);
	csv_rec("!10.0.0.0/24,");
	want_range("!10.0.0.0/24", A4(10, 0, 0, 0), A4(10, 0, 0, 255), true);
	csv_rec("\"!10.0.1.0/24\",");
	want_range("\"!10.0.1.0/24\"", A4(10, 0, 1, 0), A4(10, 0, 1, 255), true);
	/* the next row is not an exclusion */
	csv_rec("10.0.0.1,");
	want_range("10.0.0.1", A4(10, 0, 0, 1), A4(10, 0, 0, 1), false);
}

static void test_csv_ip_host_bits(void **state)
{
	(void)state;
	csv_err_with("ip", "10.1.2.3/8");
	csv_err_with("ip", "192.0.2.1/24");
	csv_err_with("ip", "198.51.100.7/31");
	csv_err_with("ip", "!10.0.0.1/24");
}

/* Sets a fresh state with header hdr, then expects line to give the IPv6 key want
 * (text as prefix_format writes it) or, with want NULL, an error. */
static void csv_v6_with(const char *hdr, const char *line, const char *want)
{
	char got[ENTRY_KEY_TEXT_MAX];
	csv_state_init(&cst, FEED_KEYS_IP);
	csv_hdr(hdr);
	if (want == NULL) {
		csv_err(line);
		return;
	}
	csv_rec(line);
	if (rec.family == ADDR_FAMILY_V4) {
		snprintf(got, sizeof(got), "v4 0x%08x-0x%08x", rec.lo, rec.hi);
	} else {
		assert_int_equal(rec.family, ADDR_FAMILY_V6);
		entry_key_format(&rec.key, 0, got, sizeof(got));
	}
	if (strcmp(got, want) != 0)
		fail_msg("\"%s\": key %s, want %s", line, got, want);
}

/* IPv6 keys in feeds: addresses and prefixes; a mapped address is the IPv4 one */
static void test_csv_ip_ipv6(void **state)
{
	(void)state;
	csv_v6_with("ip", "2001:db8::1", "2001:db8::1/128");
	csv_v6_with("ip", "::1", "::1/128");
	csv_v6_with("ip", "::ffff:1.2.3.4", "v4 0x01020304-0x01020304");
	csv_v6_with("ip", "2001:db8::/32", "2001:db8::/32");
	csv_v6_with("ip", "!2001:DB8:0:0::7", "2001:db8::7/128");
	assert_true(rec.exclude);
	csv_v6_with("ip,reason", "\"2001:db8::1\",x", "2001:db8::1/128");
	csv_v6_with("ip", "2001:db8::1/129", NULL);
	csv_v6_with("ip", "2001:db8::1/64", NULL); /* host bits */
	csv_v6_with("ip", "2001:db8:::1", NULL);
	csv_v6_with("ip", "2001:db8::g", NULL);
	csv_v6_with("ip", "1:2:3:4:5:6:7:8:9", NULL);
	csv_v6_with("ip", "2001:db8", NULL); /* rbldnsd's leading-groups form is not a feed's */
}

static void test_csv_ip_bad(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"\"\"", "garbage", "256.0.0.1", "1.2.3.256", "1.2.3", "1.2.3.4.5", "1.2.3.4/",
		"1.2.3.4/33", "1.2.3.4/-1", "1.2.3.4x", "!", "!!1.2.3.4", "1.2.3.4-1.2.3.5",
		"01.2.3.4", "1..2.3", "-1.2.3.4", NULL,
	};
	for (int i = 0; bad[i]; i++)
		csv_err_with("ip", bad[i]);
	/* an empty ip with other fields present */
	csv_err_with("ip,reason", ",spam");
}

static void test_csv_timestamp_forms(void **state)
{
	(void)state;
	csv_hdr("ip,timestamp");
	csv_rec("1.2.3.4,2026-11-23T10:00:00Z");
	want_have("ts rfc3339", FEED_HAVE_TIME);
	want_u32("ts rfc3339", "time", rec.time, T_20261123_10);
	csv_rec("1.2.3.4,1732350000");
	want_have("ts unix", FEED_HAVE_TIME);
	want_u32("ts unix", "time", rec.time, 1732350000u);
	csv_rec("1.2.3.4,2026-11-23T10:00:00-05:30");
	want_u32("ts -05:30", "time", rec.time, T_20261123_10 + 19800);
	csv_rec("1.2.3.4,2026-11-23 10:00:00.5+01:00");
	want_u32("ts space", "time", rec.time, T_20261123_10 - 3600);
	csv_rec("1.2.3.4,\"2026-11-23T10:00:00Z\"");
	want_u32("ts quoted", "time", rec.time, T_20261123_10);
	csv_rec("1.2.3.4,0");
	want_have("ts 0", FEED_HAVE_TIME);
	want_u32("ts 0", "time", rec.time, 0);
}

static void test_csv_timestamp_bad(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"1.2.3.4,yesterday", "1.2.3.4,2026-13-01T00:00:00Z", "1.2.3.4,2026-11-23T10:00:00",
		"1.2.3.4,-1", "1.2.3.4,4294967296", "1.2.3.4,1969-12-31T23:59:59Z",
		"1.2.3.4,2026-11-23T10:00:00 Z", NULL,
	};
	for (int i = 0; bad[i]; i++)
		csv_err_with("ip,timestamp", bad[i]);
}

static void test_csv_code_address(void **state)
{
	(void)state;
	csv_hdr("ip,code");
	csv_rec("1.2.3.4,127.0.0.3");
	assert_int_equal(rec.flags, STORE_F_A);
	assert_int_equal(rec.a, A4(127, 0, 0, 3));
	csv_rec("1.2.3.4,127.1.2.3");
	assert_int_equal(rec.flags, STORE_F_A);
	assert_int_equal(rec.a, A4(127, 1, 2, 3));
	csv_rec("1.2.3.4,127.255.255.255");
	assert_int_equal(rec.a, A4(127, 255, 255, 255));
	want_have("code", 0);
}

static void test_csv_code_octet(void **state)
{
	(void)state;
	csv_hdr("ip,code");
	csv_rec("1.2.3.4,3");
	assert_int_equal(rec.flags, STORE_F_A);
	assert_int_equal(rec.a, A4(127, 0, 0, 3));
	csv_rec("1.2.3.4,2");
	assert_int_equal(rec.a, A4(127, 0, 0, 2));
	csv_rec("1.2.3.4,255");
	assert_int_equal(rec.a, A4(127, 0, 0, 255));
	csv_rec("1.2.3.4,\"10\"");
	assert_int_equal(rec.a, A4(127, 0, 0, 10));
}

static void test_csv_code_bad(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"1.2.3.4,10.0.0.1", "1.2.3.4,128.0.0.1", "1.2.3.4,126.255.255.255",
		"1.2.3.4,0.0.0.3", "1.2.3.4,256", "1.2.3.4,1000", "1.2.3.4,-1", "1.2.3.4,abc",
		"1.2.3.4,1.2.3", "1.2.3.4,127.0.0.256", "1.2.3.4,127.0.0.0/8", "1.2.3.4,3x",
		"1.2.3.4,::1", NULL,
	};
	for (int i = 0; bad[i]; i++)
		csv_err_with("ip,code", bad[i]);
}

static void test_csv_txt(void **state)
{
	(void)state;
	csv_hdr("ip,txt");
	csv_rec("1.2.3.4,Listed at $");
	assert_int_equal(rec.flags, STORE_F_TXT);
	want_txt("Listed at $");
	csv_rec("1.2.3.4,\"see https://bl.example/?q=$, thanks\"");
	want_txt("see https://bl.example/?q=$, thanks");
	csv_rec("1.2.3.4,\"costs $$5\"");
	want_txt("costs $$5");
	want_have("txt", 0);
}

static void test_csv_txt_length(void **state)
{
	(void)state;
	static char line[STORE_TXT_MAX + 64];
	csv_hdr("ip,txt");
	int n = snprintf(line, sizeof(line), "1.2.3.4,");
	memset(line + n, 'x', STORE_TXT_MAX);
	line[n + STORE_TXT_MAX] = 0;
	csv_rec(line);
	assert_int_equal(rec.txt_len, STORE_TXT_MAX);
	assert_int_equal(rec.txt[STORE_TXT_MAX - 1], 'x');
	line[n + STORE_TXT_MAX] = 'x';
	line[n + STORE_TXT_MAX + 1] = 0;
	csv_err(line);
}

static void test_csv_txt_substitutions(void **state)
{
	(void)state;
	char line[128];
	csv_hdr("ip,txt");
	/* TXT_SUBST_MAX (16) "$" are fine, one more is an error (README) */
	int n = snprintf(line, sizeof(line), "1.2.3.4,");
	for (int i = 0; i < 16; i++)
		n += snprintf(line + n, sizeof(line) - (size_t)n, "$ ");
	csv_rec(line);
	snprintf(line + n, sizeof(line) - (size_t)n, "$");
	csv_err(line);
}

static void test_csv_reason(void **state)
{
	(void)state;
	char line[STORE_REASON_MAX + 64];
	csv_hdr("ip,reason");
	csv_rec("1.2.3.4,spam trap hit");
	want_have("reason", FEED_HAVE_REASON);
	want_reason("spam trap hit");
	assert_int_equal(rec.flags, 0);

	int n = snprintf(line, sizeof(line), "1.2.3.4,");
	memset(line + n, 'r', STORE_REASON_MAX);
	line[n + STORE_REASON_MAX] = 0;
	csv_rec(line);
	assert_int_equal(rec.reason_len, STORE_REASON_MAX);
	assert_int_equal(rec.reason[STORE_REASON_MAX - 1], 'r');
	line[n + STORE_REASON_MAX] = 'r';
	line[n + STORE_REASON_MAX + 1] = 0;
	csv_err(line);
}

static void test_csv_source(void **state)
{
	(void)state;
	char line[FEED_SOURCE_MAX + 64];
	csv_hdr("ip,source");
	csv_rec("1.2.3.4,trap-eu-1");
	want_have("source", FEED_HAVE_SOURCE);
	want_source("trap-eu-1");
	csv_rec("1.2.3.4,x");
	want_source("x");

	int n = snprintf(line, sizeof(line), "1.2.3.4,");
	memset(line + n, 's', FEED_SOURCE_MAX);
	line[n + FEED_SOURCE_MAX] = 0;
	csv_rec(line);
	assert_int_equal(rec.source_len, FEED_SOURCE_MAX);
	line[n + FEED_SOURCE_MAX] = 's';
	line[n + FEED_SOURCE_MAX + 1] = 0;
	csv_err(line);
}

static void test_csv_ttl(void **state)
{
	(void)state;
	csv_hdr("ip,ttl");
	static const struct {
		const char *line;
		uint32_t want;
	} ok[] = {
		{"1.2.3.4,3600", 3600},   {"1.2.3.4,30m", 1800},    {"1.2.3.4,12h", 43200},
		{"1.2.3.4,7d", 604800},   {"1.2.3.4,2w", 1209600},  {"1.2.3.4,45s", 45},
		{"1.2.3.4,\"1d\"", 86400}, {"1.2.3.4,4294967295", U32MAX},
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		csv_rec(ok[i].line);
		want_have(ok[i].line, FEED_HAVE_TTL);
		want_u32(ok[i].line, "ttl", rec.ttl, ok[i].want);
	}
}

static void test_csv_ttl_bad(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"1.2.3.4,7x", "1.2.3.4,-1", "1.2.3.4,1.5h", "1.2.3.4,d", "1.2.3.4,7dd",
		"1.2.3.4,5000000000", "1.2.3.4,999999999w", "1.2.3.4,forever", NULL,
	};
	for (int i = 0; bad[i]; i++)
		csv_err_with("ip,ttl", bad[i]);
}

static void test_csv_first_last_seen(void **state)
{
	(void)state;
	csv_hdr("ip,first_seen,last_seen");
	const char *l1 = "1.2.3.4,1700000000,2026-11-23T10:00:00Z";
	csv_rec(l1);
	want_have(l1, FEED_HAVE_FIRST | FEED_HAVE_LAST);
	want_u32(l1, "first_seen", rec.first_seen, 1700000000u);
	want_u32(l1, "last_seen", rec.last_seen, T_20261123_10);
	const char *l2 = "1.2.3.4,2026-11-23T10:00:00+01:00,";
	csv_rec(l2);
	want_have(l2, FEED_HAVE_FIRST);
	want_u32(l2, "first_seen", rec.first_seen, T_20261123_10 - 3600);
	const char *l3 = "1.2.3.4,,1795428000";
	csv_rec(l3);
	want_have(l3, FEED_HAVE_LAST);
	want_u32(l3, "last_seen", rec.last_seen, T_20261123_10);
}

static void test_csv_hits(void **state)
{
	(void)state;
	csv_hdr("ip,hits");
	csv_rec("1.2.3.4,5");
	want_have("hits 5", FEED_HAVE_HITS);
	want_u32("hits 5", "hits", rec.hits, 5);
	csv_rec("1.2.3.4,1");
	want_u32("hits 1", "hits", rec.hits, 1);
	csv_rec("1.2.3.4,4294967295");
	want_u32("hits max", "hits", rec.hits, U32MAX);
}

static void test_csv_expires(void **state)
{
	(void)state;
	csv_hdr("ip,expires");
	/* 0 = never, and it is present */
	csv_rec("1.2.3.4,0");
	want_have("expires 0", FEED_HAVE_EXPIRES);
	want_u32("expires 0", "expires", rec.expires, 0);
	csv_rec("1.2.3.4,1800000000");
	want_have("expires n", FEED_HAVE_EXPIRES);
	want_u32("expires n", "expires", rec.expires, 1800000000u);
	csv_rec("1.2.3.4,2026-11-23T10:00:00Z");
	want_u32("expires rfc", "expires", rec.expires, T_20261123_10);
}

static void test_csv_facts_bad(void **state)
{
	(void)state;
	static const struct {
		const char *hdr, *line;
	} bad[] = {
		{"ip,hits", "1.2.3.4,abc"},
		{"ip,hits", "1.2.3.4,-1"},
		{"ip,hits", "1.2.3.4,1.5"},
		{"ip,hits", "1.2.3.4,4294967296"},
		{"ip,hits", "1.2.3.4,5x"},
		{"ip,hits", "1.2.3.4,99999999999999999999"},
		{"ip,first_seen", "1.2.3.4,x"},
		{"ip,first_seen", "1.2.3.4,2026-02-30T00:00:00Z"},
		{"ip,last_seen", "1.2.3.4,-5"},
		{"ip,last_seen", "1.2.3.4,4294967296"},
		{"ip,expires", "1.2.3.4,never"},
		{"ip,expires", "1.2.3.4,-1"},
		{"ip,expires", "1.2.3.4,7d"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		csv_err_with(bad[i].hdr, bad[i].line);
}

static void test_csv_empty_optional_fields(void **state)
{
	(void)state;
	csv_hdr(ALL_COLUMNS);
	const char *line = "192.0.2.1,,,,,,,,,,";
	csv_rec(line);
	want_range(line, A4(192, 0, 2, 1), A4(192, 0, 2, 1), false);
	want_have(line, 0);
	assert_int_equal(rec.flags, 0);
	/* quoted empties too */
	const char *l2 = "192.0.2.1,\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"\"";
	csv_rec(l2);
	want_have(l2, 0);
	assert_int_equal(rec.flags, 0);
}

static void test_csv_each_optional_alone(void **state)
{
	(void)state;
	static const struct {
		const char *line;
		unsigned have;
		uint8_t flags;
	} one[] = {
		{"1.2.3.4,1732350000,,,,,,,,,", FEED_HAVE_TIME, 0},
		{"1.2.3.4,,why,,,,,,,,", FEED_HAVE_REASON, 0},
		{"1.2.3.4,,,src,,,,,,,", FEED_HAVE_SOURCE, 0},
		{"1.2.3.4,,,,3,,,,,,", 0, STORE_F_A},
		{"1.2.3.4,,,,,T,,,,,", 0, STORE_F_TXT},
		{"1.2.3.4,,,,,,1h,,,,", FEED_HAVE_TTL, 0},
		{"1.2.3.4,,,,,,,1,,,", FEED_HAVE_FIRST, 0},
		{"1.2.3.4,,,,,,,,2,,", FEED_HAVE_LAST, 0},
		{"1.2.3.4,,,,,,,,,3,", FEED_HAVE_HITS, 0},
		{"1.2.3.4,,,,,,,,,,0", FEED_HAVE_EXPIRES, 0},
	};
	csv_hdr(ALL_COLUMNS);
	for (size_t i = 0; i < sizeof(one) / sizeof(one[0]); i++) {
		csv_rec(one[i].line);
		want_have(one[i].line, one[i].have);
		if (rec.flags != one[i].flags)
			fail_msg("\"%s\": flags 0x%x, want 0x%x", one[i].line, rec.flags,
				 one[i].flags);
	}
}

static void test_csv_full_row(void **state)
{
	(void)state;
	csv_hdr(ALL_COLUMNS);
	const char *line = "192.0.2.0/24,2026-11-23T10:00:00Z,\"spam, lots\",trap-1,127.0.0.3,"
			   "Listed $,7d,1700000000,2026-11-23T10:00:00+01:00,12,0";
	csv_rec(line);
	want_range(line, A4(192, 0, 2, 0), A4(192, 0, 2, 255), false);
	want_have(line, ALL_HAVE);
	assert_int_equal(rec.flags, STORE_F_A | STORE_F_TXT);
	assert_int_equal(rec.a, A4(127, 0, 0, 3));
	want_txt("Listed $");
	want_u32(line, "time", rec.time, T_20261123_10);
	want_reason("spam, lots");
	want_source("trap-1");
	want_u32(line, "ttl", rec.ttl, 604800);
	want_u32(line, "first_seen", rec.first_seen, 1700000000u);
	want_u32(line, "last_seen", rec.last_seen, T_20261123_10 - 3600);
	want_u32(line, "hits", rec.hits, 12);
	want_u32(line, "expires", rec.expires, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_csv_no_txt, reset_ip),
		cmocka_unit_test_setup(test_csv_ip_address, reset_ip),
		cmocka_unit_test_setup(test_csv_ip_cidr, reset_ip),
		cmocka_unit_test_setup(test_csv_ip_exclusion, reset_ip),
		cmocka_unit_test_setup(test_csv_ip_host_bits, reset_ip),
		cmocka_unit_test_setup(test_csv_ip_ipv6, reset_ip),
		cmocka_unit_test_setup(test_csv_ip_bad, reset_ip),
		cmocka_unit_test_setup(test_csv_timestamp_forms, reset_ip),
		cmocka_unit_test_setup(test_csv_timestamp_bad, reset_ip),
		cmocka_unit_test_setup(test_csv_code_address, reset_ip),
		cmocka_unit_test_setup(test_csv_code_octet, reset_ip),
		cmocka_unit_test_setup(test_csv_code_bad, reset_ip),
		cmocka_unit_test_setup(test_csv_txt, reset_ip),
		cmocka_unit_test_setup(test_csv_txt_length, reset_ip),
		cmocka_unit_test_setup(test_csv_txt_substitutions, reset_ip),
		cmocka_unit_test_setup(test_csv_reason, reset_ip),
		cmocka_unit_test_setup(test_csv_source, reset_ip),
		cmocka_unit_test_setup(test_csv_ttl, reset_ip),
		cmocka_unit_test_setup(test_csv_ttl_bad, reset_ip),
		cmocka_unit_test_setup(test_csv_first_last_seen, reset_ip),
		cmocka_unit_test_setup(test_csv_hits, reset_ip),
		cmocka_unit_test_setup(test_csv_expires, reset_ip),
		cmocka_unit_test_setup(test_csv_facts_bad, reset_ip),
		cmocka_unit_test_setup(test_csv_empty_optional_fields, reset_ip),
		cmocka_unit_test_setup(test_csv_each_optional_alone, reset_ip),
		cmocka_unit_test_setup(test_csv_full_row, reset_ip),
	};
	return cmocka_run_group_tests(tests, setup, feedtest_teardown);
}
