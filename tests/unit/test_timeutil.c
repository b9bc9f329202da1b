/* Unit tests for lib/timeutil.c: time_parse, duration_parse (with the loader's
 * maximum, UINT32_MAX seconds) and time_format. Every input is handed over with its exact length and
 * without a NUL terminator (placed right before an unmapped page, see testutil.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "err.h"
#include "testutil.h"
#include "timeutil.h"

#define U32MAX 4294967295u
/* 2026-11-23T10:00:00Z */
#define T_20261123_10 1795428000u

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

static int tparse(const char *s, uint32_t *out)
{
	size_t n = strlen(s);
	return time_parse(guard_put(&gb, s, n), n, out);
}

static int dparse(const char *s, uint32_t *out)
{
	size_t n = strlen(s);
	return duration_parse(guard_put(&gb, s, n), n, UINT32_MAX, out);
}

static void time_ok(const char *s, uint32_t want)
{
	uint32_t v = 0xdeadbeefu;
	int r = tparse(s, &v);
	if (r != 0)
		fail_msg("time_parse(\"%s\") = %d (%s), want %u", s, r, dnsbl_strerror(r),
			 want);
	if (v != want)
		fail_msg("time_parse(\"%s\") gave %u, want %u", s, v, want);
}

/* Any rejection: DNSBL_ESYNTAX or DNSBL_ERANGE. */
static void time_bad(const char *s)
{
	uint32_t v = 0;
	int r = tparse(s, &v);
	if (r != DNSBL_ESYNTAX && r != DNSBL_ERANGE)
		fail_msg("time_parse(\"%s\") = %d (value %u), want ESYNTAX or ERANGE", s, r,
			 v);
}

static void time_erange(const char *s)
{
	uint32_t v = 0;
	int r = tparse(s, &v);
	if (r != DNSBL_ERANGE)
		fail_msg("time_parse(\"%s\") = %d (%s, value %u), want ERANGE", s, r,
			 dnsbl_strerror(r), v);
}

static void dur_ok(const char *s, uint32_t want)
{
	uint32_t v = 0xdeadbeefu;
	int r = dparse(s, &v);
	if (r != 0)
		fail_msg("duration_parse(\"%s\") = %d (%s), want %u", s, r,
			 dnsbl_strerror(r), want);
	if (v != want)
		fail_msg("duration_parse(\"%s\") gave %u, want %u", s, v, want);
}

static void dur_bad(const char *s)
{
	uint32_t v = 0;
	int r = dparse(s, &v);
	if (r != DNSBL_ESYNTAX && r != DNSBL_ERANGE)
		fail_msg("duration_parse(\"%s\") = %d (value %u), want ESYNTAX or ERANGE", s,
			 r, v);
}

static void dur_erange(const char *s)
{
	uint32_t v = 0;
	int r = dparse(s, &v);
	if (r != DNSBL_ERANGE)
		fail_msg("duration_parse(\"%s\") = %d (%s, value %u), want ERANGE", s, r,
			 dnsbl_strerror(r), v);
}

/* ============================================================================== */
/* time_parse */

static void test_time_unix_seconds(void **state)
{
	(void)state;
	time_ok("0", 0);
	time_ok("1", 1);
	time_ok("1732350000", 1732350000u);
	time_ok("1795428000", T_20261123_10);
	time_ok("4294967295", U32MAX);
}

static void test_time_unix_over_u32(void **state)
{
	(void)state;
	time_erange("4294967296");
	time_erange("5000000000");
	time_erange("18446744073709551616");    /* 2^64: must not wrap to 0 */
	time_erange("18446744073709551617");    /* 2^64+1: must not wrap to 1 */
	time_erange("99999999999999999999999"); /* far past any integer type */
}

static void test_time_rfc3339_z(void **state)
{
	(void)state;
	time_ok("2026-11-23T10:00:00Z", T_20261123_10);
	time_ok("1970-01-01T00:00:00Z", 0);
	time_ok("1970-01-01T00:00:01Z", 1);
	time_ok("2026-01-01T00:00:00Z", 1767225600u);
	time_ok("2026-12-31T23:59:59Z", 1798761599u);
	time_ok("2106-02-07T06:28:15Z", U32MAX);
}

static void test_time_rfc3339_plus_offset(void **state)
{
	(void)state;
	/* 10:00 at +01:00 is 09:00Z */
	time_ok("2026-11-23T10:00:00+01:00", T_20261123_10 - 3600);
	time_ok("2026-11-23T10:00:00+00:00", T_20261123_10);
	time_ok("2026-11-23T10:00:00+14:00", T_20261123_10 - 14 * 3600);
	/* crossing midnight backwards */
	time_ok("2026-11-24T00:30:00+01:00", T_20261123_10 + 13 * 3600 + 30 * 60);
}

static void test_time_rfc3339_minus_offset(void **state)
{
	(void)state;
	/* 10:00 at -05:30 is 15:30Z */
	time_ok("2026-11-23T10:00:00-05:30", T_20261123_10 + 5 * 3600 + 30 * 60);
	/* RFC 3339 4.3: -00:00 is the same instant as Z */
	time_ok("2026-11-23T10:00:00-00:00", T_20261123_10);
	/* crossing midnight forwards, and a year boundary */
	time_ok("2025-12-31T23:00:00-02:00", 1767225600u + 3600);
}

static void test_time_rfc3339_fraction(void **state)
{
	(void)state;
	/* fractional seconds are dropped, not rounded */
	time_ok("2026-11-23T10:00:00.5Z", T_20261123_10);
	time_ok("2026-11-23T10:00:00.999999999Z", T_20261123_10);
	time_ok("2026-11-23T10:00:00.0Z", T_20261123_10);
	time_ok("2026-11-23T10:00:00.123+01:00", T_20261123_10 - 3600);
	/* the header's own example */
	time_ok("2026-11-23 10:00:00.5+01:00", T_20261123_10 - 3600);
}

static void test_time_rfc3339_case_and_space(void **state)
{
	(void)state;
	time_ok("2026-11-23t10:00:00z", T_20261123_10);
	time_ok("2026-11-23T10:00:00z", T_20261123_10);
	time_ok("2026-11-23t10:00:00Z", T_20261123_10);
	time_ok("2026-11-23 10:00:00Z", T_20261123_10);
	time_ok("2026-11-23 10:00:00-05:30", T_20261123_10 + 5 * 3600 + 30 * 60);
}

static void test_time_leap_years(void **state)
{
	(void)state;
	time_ok("2024-02-29T00:00:00Z", 1709164800u);
	time_ok("2000-02-29T12:34:56Z", 951827696u);
	time_ok("2024-03-01T00:00:00Z", 1709164800u + 86400);
	time_bad("2023-02-29T00:00:00Z");
	time_bad("2100-02-29T00:00:00Z"); /* 2100 is no leap year */
	time_bad("2024-02-30T00:00:00Z");
}

static void test_time_bad_month_day(void **state)
{
	(void)state;
	time_bad("2026-13-01T00:00:00Z");
	time_bad("2026-00-01T00:00:00Z");
	time_bad("2026-01-00T00:00:00Z");
	time_bad("2026-01-32T00:00:00Z");
	time_bad("2026-02-30T00:00:00Z");
	time_bad("2026-04-31T00:00:00Z");
	time_bad("2026-06-31T00:00:00Z");
	time_bad("2026-09-31T00:00:00Z");
	time_bad("2026-11-31T00:00:00Z");
	time_bad("2026-99-99T00:00:00Z");
	time_ok("2026-04-30T00:00:00Z", 1777507200u);
}

static void test_time_bad_clock(void **state)
{
	(void)state;
	time_bad("2026-11-23T24:00:00Z");
	time_bad("2026-11-23T10:60:00Z");
	time_bad("2026-11-23T10:00:61Z");
	time_bad("2026-11-23T99:00:00Z");
	/* offsets: hours 00-23, minutes 00-59 */
	time_bad("2026-11-23T10:00:00+24:00");
	time_bad("2026-11-23T10:00:00+01:60");
	time_ok("2026-11-23T23:59:59Z", T_20261123_10 + 13 * 3600 + 59 * 60 + 59);
}

static void test_time_missing_zone(void **state)
{
	(void)state;
	time_bad("2026-11-23T10:00:00");
	time_bad("2026-11-23 10:00:00");
	time_bad("2026-11-23T10:00:00.5");
	time_bad("2026-11-23T10:00:00+01");
	time_bad("2026-11-23T10:00:00+1:00");
	time_bad("2026-11-23T10:00:00+");
}

static void test_time_syntax(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"",
		"garbage",
		"now",
		"2026-11-23",           /* a date alone */
		"10:00:00Z",            /* a time alone */
		"2026-11-23T10:00Z",    /* no seconds */
		"2026-11-23T10Z",
		"2026-11-23T",
		"2026-11-23T10:00:00.Z", /* a dot with no digits */
		"2026-11-23T10:00:00,5Z",
		"26-11-23T10:00:00Z",
		"2026-1-23T10:00:00Z",
		"2026-11-3T10:00:00Z",
		"2026-11-23T1:00:00Z",
		"2026/11/23T10:00:00Z",
		"2026-11-23X10:00:00Z",
		"2026-11-23T10.00.00Z",
		"2026-11-23TT10:00:00Z",
		"2026-11-23T10:00:00ZZ",
		"1e9",
		"0x10",
		"12 34",
		"-",
		"+",
		"Z",
		"T",
		NULL,
	};
	for (int i = 0; bad[i]; i++)
		time_bad(bad[i]);
}

static void test_time_trailing_junk(void **state)
{
	(void)state;
	time_bad("2026-11-23T10:00:00Zx");
	time_bad("2026-11-23T10:00:00Z0");
	time_bad("2026-11-23T10:00:00+01:00x");
	time_bad("2026-11-23T10:00:00+01:000");
	time_bad("1732350000x");
	time_bad("1732350000s");
	time_bad("1732350000.5");
}

static void test_time_blanks(void **state)
{
	(void)state;
	time_bad(" 1732350000");
	time_bad("1732350000 ");
	time_bad("\t1732350000");
	time_bad(" 2026-11-23T10:00:00Z");
	time_bad("2026-11-23T10:00:00Z ");
	time_bad("2026-11-23T10:00:00Z\n");
	time_bad("2026-11-23T10:00:00 Z");
	time_bad("2026-11-23  10:00:00Z");
}

static void test_time_negative(void **state)
{
	(void)state;
	time_bad("-1");
	time_bad("-0");
	time_bad("-1732350000");
}

static void test_time_before_1970(void **state)
{
	(void)state;
	time_erange("1969-12-31T23:59:59Z");
	time_erange("1900-01-01T00:00:00Z");
	time_erange("1970-01-01T00:00:00+00:01"); /* 1969-12-31T23:59:00Z */
	time_erange("1970-01-01T00:30:00+01:00");
	/* 1969 local time that is 1970 in UTC is fine */
	time_ok("1969-12-31T23:00:00-01:00", 0);
	time_ok("1969-12-31T19:00:01-05:00", 1);
}

static void test_time_after_2106(void **state)
{
	(void)state;
	time_erange("2106-02-07T06:28:16Z");
	time_erange("2107-01-01T00:00:00Z");
	time_erange("9999-12-31T23:59:59Z");
	time_erange("2106-02-07T06:28:15-00:01");
	/* local 2106-02-07T07:28:15+01:00 is the last second */
	time_ok("2106-02-07T07:28:15+01:00", U32MAX);
}

/* The parser reads exactly len bytes: what follows in memory does not count. */
static void test_time_length_bounded(void **state)
{
	(void)state;
	uint32_t v = 0;
	static const char s1[] = "2026-11-23T10:00:00Z123";
	assert_int_equal(time_parse(s1, 20, &v), 0);
	assert_int_equal(v, T_20261123_10);

	static const char s2[] = "17323500001";
	assert_int_equal(time_parse(s2, 10, &v), 0);
	assert_int_equal(v, 1732350000u);

	static const char s3[] = "2026-11-23T10:00:00+01:00";
	assert_int_not_equal(time_parse(s3, 24, &v), 0); /* "+01:0" */
	assert_int_not_equal(time_parse(s3, 0, &v), 0);

	/* every prefix, right before the guard page: no read past the end */
	static const char *const lines[] = {
		"2026-11-23T10:00:00.123456+01:00", "2026-11-23 10:00:00Z",
		"2026-11-23t10:00:00z", "4294967295", "18446744073709551616", NULL,
	};
	for (int i = 0; lines[i]; i++) {
		size_t len = strlen(lines[i]);
		for (size_t n = 0; n <= len; n++) {
			int r = time_parse(guard_put(&gb, lines[i], n), n, &v);
			assert_true(r == 0 || r == DNSBL_ESYNTAX || r == DNSBL_ERANGE);
		}
	}
	/* non-NUL-terminated: the byte after the date is a digit */
	char buf[32];
	memcpy(buf, "2026-11-23T10:00:00Z9999", 24);
	assert_int_equal(time_parse(guard_put(&gb, buf, 20), 20, &v), 0);
	assert_int_equal(v, T_20261123_10);
}

/* ============================================================================== */
/* duration_parse */

static void test_duration_plain_seconds(void **state)
{
	(void)state;
	dur_ok("3600", 3600);
	dur_ok("0", 0);
	dur_ok("1", 1);
	dur_ok("4294967295", U32MAX);
}

static void test_duration_suffixes(void **state)
{
	(void)state;
	dur_ok("45s", 45);
	dur_ok("30m", 1800);
	dur_ok("12h", 43200);
	dur_ok("7d", 604800);
	dur_ok("2w", 1209600);
	dur_ok("1w", 604800);
	dur_ok("0d", 0);
	dur_ok("0s", 0);
	dur_ok("365d", 31536000);
}

static void test_duration_syntax(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"", "7x", "d", "s", "-1", "-1d", "1.5h", "1.5", "7dd", "7d1", "7hd", "1d12h",
		" 7d", "7d ", "7 d", "\t3600", "+5", "0x10", "1e3", "h7", "7y", "abc",
		NULL,
	};
	for (int i = 0; bad[i]; i++)
		dur_bad(bad[i]);
}

static void test_duration_overflow(void **state)
{
	(void)state;
	dur_erange("5000000000");
	dur_erange("4294967296");
	dur_erange("999999999w");
	dur_erange("99999999999999999999");
	dur_erange("18446744073709551617s"); /* 2^64+1: must not wrap */
	dur_erange("18446744073709551616d");
	/* right at the edge, per suffix */
	dur_ok("71582788m", 4294967280u);
	dur_erange("71582789m");
	dur_ok("1193046h", 4294965600u);
	dur_erange("1193047h");
	dur_ok("49710d", 4294944000u);
	dur_erange("49711d");
	dur_ok("7101w", 4294684800u);
	dur_erange("7102w");
	dur_ok("4294967295s", U32MAX);
	dur_erange("4294967296s");
	/* multiplications that wrap 2^32 or 2^64 to exactly 0 */
	dur_erange("33554432w");          /* 2^25 weeks = 4725 * 2^32 s */
	dur_erange("144115188075855872w"); /* 2^57 weeks = 4725 * 2^64 s */
	dur_erange("4294967296s");
}

static void test_duration_length_bounded(void **state)
{
	(void)state;
	uint32_t v = 0;
	static const char s[] = "7dx";
	assert_int_equal(duration_parse(s, 2, UINT32_MAX, &v), 0);
	assert_int_equal(v, 604800);
	assert_int_equal(duration_parse(s, 1, UINT32_MAX, &v), 0);
	assert_int_equal(v, 7);
	assert_int_not_equal(duration_parse(s, 0, UINT32_MAX, &v), 0);
	static const char *const lines[] = {"4294967295s", "999999999w", "12h", NULL};
	for (int i = 0; lines[i]; i++) {
		size_t len = strlen(lines[i]);
		for (size_t n = 0; n <= len; n++) {
			int r = duration_parse(guard_put(&gb, lines[i], n), n, UINT32_MAX, &v);
			assert_true(r == 0 || r == DNSBL_ESYNTAX || r == DNSBL_ERANGE);
		}
	}
}

/* ============================================================================== */
/* time_format */

static void test_format(void **state)
{
	(void)state;
	static const struct {
		uint32_t t;
		const char *text;
	} cases[] = {
		{ 0, "1970-01-01T00:00:00Z" },
		{ T_20261123_10, "2026-11-23T10:00:00Z" },
		{ 951782400, "2000-02-29T00:00:00Z" },
		{ U32MAX, "2106-02-07T06:28:15Z" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char buf[TIME_TEXT_MAX];
		uint32_t back = 0;
		assert_int_equal(time_format(cases[i].t, buf), strlen(cases[i].text));
		assert_string_equal(buf, cases[i].text);
		assert_int_equal(time_parse(buf, strlen(buf), &back), 0);
		assert_int_equal(back, cases[i].t);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		/* time_parse */
		cmocka_unit_test(test_time_unix_seconds),
		cmocka_unit_test(test_time_unix_over_u32),
		cmocka_unit_test(test_time_rfc3339_z),
		cmocka_unit_test(test_time_rfc3339_plus_offset),
		cmocka_unit_test(test_time_rfc3339_minus_offset),
		cmocka_unit_test(test_time_rfc3339_fraction),
		cmocka_unit_test(test_time_rfc3339_case_and_space),
		cmocka_unit_test(test_time_leap_years),
		cmocka_unit_test(test_time_bad_month_day),
		cmocka_unit_test(test_time_bad_clock),
		cmocka_unit_test(test_time_missing_zone),
		cmocka_unit_test(test_time_syntax),
		cmocka_unit_test(test_time_trailing_junk),
		cmocka_unit_test(test_time_blanks),
		cmocka_unit_test(test_time_negative),
		cmocka_unit_test(test_time_before_1970),
		cmocka_unit_test(test_time_after_2106),
		cmocka_unit_test(test_time_length_bounded),
		/* duration_parse */
		cmocka_unit_test(test_duration_plain_seconds),
		cmocka_unit_test(test_duration_suffixes),
		cmocka_unit_test(test_duration_syntax),
		cmocka_unit_test(test_duration_overflow),
		cmocka_unit_test(test_duration_length_bounded),
		/* time_format */
		cmocka_unit_test(test_format),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
