/* Unit tests for loader/feed.h: the time and duration parsers and the csv and jsonl
 * trap-feed line parsers. Written from feed.h and README.md ("### Formats"). Every
 * input is handed over with its exact length and without a NUL terminator (placed
 * right before an unmapped page, see testutil.h). */
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
#include "feed.h"
#include "store.h"
#include "testutil.h"

#define A4(a, b, c, d) \
	((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))

#define U32MAX 4294967295u
/* 2026-11-23T10:00:00Z */
#define T_20261123_10 1795428000u

#define ALL_HAVE                                                                        \
	(FEED_HAVE_TIME | FEED_HAVE_TTL | FEED_HAVE_FIRST | FEED_HAVE_LAST | FEED_HAVE_HITS | \
	 FEED_HAVE_EXPIRES | FEED_HAVE_REASON | FEED_HAVE_SOURCE)

#define ALL_COLUMNS "ip,timestamp,reason,source,code,txt,ttl,first_seen,last_seen,hits,expires"

static struct guard_buf gb;
static struct csv_state cst;
static struct feed_record rec;
static const char *msg;
/* scratch for long lines */
static char big[2u << 20];

static int setup(void **state)
{
	(void)state;
	return guard_init(&gb, sizeof(big) + 64);
}

static int teardown(void **state)
{
	(void)state;
	guard_free(&gb);
	return 0;
}

static int reset(void **state)
{
	(void)state;
	csv_state_init(&cst, FEED_KEYS_IP);
	return 0;
}

static const char *kind_name(enum feed_line k)
{
	switch (k) {
	case FEED_LINE_RECORD: return "RECORD";
	case FEED_LINE_SKIP: return "SKIP";
	case FEED_LINE_NOTICE: return "NOTICE";
	case FEED_LINE_ERROR: return "ERROR";
	}
	return "?";
}

/* ------------------------------------------------------------------------------ */
/* time and duration helpers */

static int tparse(const char *s, uint32_t *out)
{
	size_t n = strlen(s);
	return feed_time_parse(guard_put(&gb, s, n), n, out);
}

static int dparse(const char *s, uint32_t *out)
{
	size_t n = strlen(s);
	return feed_duration_parse(guard_put(&gb, s, n), n, out);
}

static void time_ok(const char *s, uint32_t want)
{
	uint32_t v = 0xdeadbeefu;
	int r = tparse(s, &v);
	if (r != 0)
		fail_msg("feed_time_parse(\"%s\") = %d (%s), want %u", s, r, dnsbl_strerror(r),
			 want);
	if (v != want)
		fail_msg("feed_time_parse(\"%s\") gave %u, want %u", s, v, want);
}

/* Any rejection: DNSBL_ESYNTAX or DNSBL_ERANGE. */
static void time_bad(const char *s)
{
	uint32_t v = 0;
	int r = tparse(s, &v);
	if (r != DNSBL_ESYNTAX && r != DNSBL_ERANGE)
		fail_msg("feed_time_parse(\"%s\") = %d (value %u), want ESYNTAX or ERANGE", s, r,
			 v);
}

static void time_erange(const char *s)
{
	uint32_t v = 0;
	int r = tparse(s, &v);
	if (r != DNSBL_ERANGE)
		fail_msg("feed_time_parse(\"%s\") = %d (%s, value %u), want ERANGE", s, r,
			 dnsbl_strerror(r), v);
}

static void dur_ok(const char *s, uint32_t want)
{
	uint32_t v = 0xdeadbeefu;
	int r = dparse(s, &v);
	if (r != 0)
		fail_msg("feed_duration_parse(\"%s\") = %d (%s), want %u", s, r,
			 dnsbl_strerror(r), want);
	if (v != want)
		fail_msg("feed_duration_parse(\"%s\") gave %u, want %u", s, v, want);
}

static void dur_bad(const char *s)
{
	uint32_t v = 0;
	int r = dparse(s, &v);
	if (r != DNSBL_ESYNTAX && r != DNSBL_ERANGE)
		fail_msg("feed_duration_parse(\"%s\") = %d (value %u), want ESYNTAX or ERANGE", s,
			 r, v);
}

static void dur_erange(const char *s)
{
	uint32_t v = 0;
	int r = dparse(s, &v);
	if (r != DNSBL_ERANGE)
		fail_msg("feed_duration_parse(\"%s\") = %d (%s, value %u), want ERANGE", s, r,
			 dnsbl_strerror(r), v);
}

/* ------------------------------------------------------------------------------ */
/* line helpers */

static enum feed_line csvn(const char *line, size_t n)
{
	memset(&rec, 0xa5, sizeof(rec));
	msg = NULL;
	return csv_parse_line(&cst, guard_put(&gb, line, n), n, &rec, &msg);
}

static enum feed_line csv(const char *line)
{
	return csvn(line, strlen(line));
}

static enum feed_line jsn(const char *line, size_t n)
{
	memset(&rec, 0xa5, sizeof(rec));
	msg = NULL;
	return jsonl_parse_line(FEED_KEYS_IP, guard_put(&gb, line, n), n, &rec, &msg);
}

static enum feed_line js(const char *line)
{
	return jsn(line, strlen(line));
}

static void want_kind(const char *what, const char *line, enum feed_line got,
		      enum feed_line want)
{
	if (got != want)
		fail_msg("%s \"%.100s\": %s (msg: %s), want %s", what, line, kind_name(got),
			 got == FEED_LINE_ERROR || got == FEED_LINE_NOTICE
				 ? (msg ? msg : "(null)")
				 : "-",
			 kind_name(want));
	if (want == FEED_LINE_ERROR || want == FEED_LINE_NOTICE) {
		if (msg == NULL || msg[0] == '\0')
			fail_msg("%s \"%.100s\": %s without a message", what, line, kind_name(got));
	}
}

static void csv_skip(const char *line)
{
	want_kind("csv", line, csv(line), FEED_LINE_SKIP);
}

static void csv_hdr(const char *line)
{
	want_kind("csv header", line, csv(line), FEED_LINE_SKIP);
	assert_true(cst.have_header);
}

static void csv_rec(const char *line)
{
	want_kind("csv", line, csv(line), FEED_LINE_RECORD);
}

static void csv_err(const char *line)
{
	want_kind("csv", line, csv(line), FEED_LINE_ERROR);
}

/* Sets a fresh state with header hdr, then expects line to be an error. */
static void csv_err_with(const char *hdr, const char *line)
{
	csv_state_init(&cst, FEED_KEYS_IP);
	csv_hdr(hdr);
	csv_err(line);
}

static void js_rec(const char *line)
{
	want_kind("jsonl", line, js(line), FEED_LINE_RECORD);
}

static void js_err(const char *line)
{
	want_kind("jsonl", line, js(line), FEED_LINE_ERROR);
}

static void want_range(const char *line, uint32_t lo, uint32_t hi, bool exclude)
{
	if (rec.lo != lo || rec.hi != hi)
		fail_msg("\"%.100s\": range 0x%08x-0x%08x, want 0x%08x-0x%08x", line, rec.lo,
			 rec.hi, lo, hi);
	if (rec.exclude != exclude)
		fail_msg("\"%.100s\": exclude %d, want %d", line, rec.exclude, exclude);
}

static void want_have(const char *line, unsigned have)
{
	if (rec.have != have)
		fail_msg("\"%.100s\": have 0x%02x, want 0x%02x", line, rec.have, have);
}

static void want_u32(const char *line, const char *field, uint32_t got, uint32_t want)
{
	if (got != want)
		fail_msg("\"%.100s\": %s %u, want %u", line, field, got, want);
}

static void want_txt(const char *want)
{
	assert_true(rec.flags & STORE_F_TXT);
	if (rec.txt_len != strlen(want) || memcmp(rec.txt, want, rec.txt_len) != 0)
		fail_msg("txt \"%.*s\" (len %zu), want \"%s\"", (int)rec.txt_len, rec.txt,
			 rec.txt_len, want);
}

static void want_reason(const char *want)
{
	assert_true(rec.have & FEED_HAVE_REASON);
	if (rec.reason_len != strlen(want) || memcmp(rec.reason, want, rec.reason_len) != 0)
		fail_msg("reason \"%.*s\" (len %zu), want \"%s\"", (int)rec.reason_len,
			 rec.reason, rec.reason_len, want);
}

static void want_source(const char *want)
{
	assert_true(rec.have & FEED_HAVE_SOURCE);
	if (rec.source_len != strlen(want) || memcmp(rec.source, want, rec.source_len) != 0)
		fail_msg("source \"%.*s\" (len %zu), want \"%s\"", (int)rec.source_len,
			 rec.source, rec.source_len, want);
}

/* Invariants every RECORD must satisfy. */
static void check_record_sane(const char *line, size_t n)
{
	if (rec.lo > rec.hi)
		fail_msg("\"%.*s\": lo 0x%08x > hi 0x%08x", (int)n, line, rec.lo, rec.hi);
	if (rec.have & ~(unsigned)ALL_HAVE)
		fail_msg("\"%.*s\": unknown have bits 0x%x", (int)n, line, rec.have);
	if (rec.flags & STORE_F_TXT)
		assert_true(rec.txt_len <= STORE_TXT_MAX);
	if (rec.flags & STORE_F_A)
		assert_int_equal(rec.a >> 24, 127);
	if (rec.have & FEED_HAVE_REASON)
		assert_true(rec.reason_len <= STORE_REASON_MAX);
	if (rec.have & FEED_HAVE_SOURCE)
		assert_true(rec.source_len >= 1 && rec.source_len <= FEED_SOURCE_MAX);
}

/* ============================================================================== */
/* feed_time_parse */

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
	assert_int_equal(feed_time_parse(s1, 20, &v), 0);
	assert_int_equal(v, T_20261123_10);

	static const char s2[] = "17323500001";
	assert_int_equal(feed_time_parse(s2, 10, &v), 0);
	assert_int_equal(v, 1732350000u);

	static const char s3[] = "2026-11-23T10:00:00+01:00";
	assert_int_not_equal(feed_time_parse(s3, 24, &v), 0); /* "+01:0" */
	assert_int_not_equal(feed_time_parse(s3, 0, &v), 0);

	/* every prefix, right before the guard page: no read past the end */
	static const char *const lines[] = {
		"2026-11-23T10:00:00.123456+01:00", "2026-11-23 10:00:00Z",
		"2026-11-23t10:00:00z", "4294967295", "18446744073709551616", NULL,
	};
	for (int i = 0; lines[i]; i++) {
		size_t len = strlen(lines[i]);
		for (size_t n = 0; n <= len; n++) {
			int r = feed_time_parse(guard_put(&gb, lines[i], n), n, &v);
			assert_true(r == 0 || r == DNSBL_ESYNTAX || r == DNSBL_ERANGE);
		}
	}
	/* non-NUL-terminated: the byte after the date is a digit */
	char buf[32];
	memcpy(buf, "2026-11-23T10:00:00Z9999", 24);
	assert_int_equal(feed_time_parse(guard_put(&gb, buf, 20), 20, &v), 0);
	assert_int_equal(v, T_20261123_10);
}

/* ============================================================================== */
/* feed_duration_parse */

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
	assert_int_equal(feed_duration_parse(s, 2, &v), 0);
	assert_int_equal(v, 604800);
	assert_int_equal(feed_duration_parse(s, 1, &v), 0);
	assert_int_equal(v, 7);
	assert_int_not_equal(feed_duration_parse(s, 0, &v), 0);
	static const char *const lines[] = {"4294967295s", "999999999w", "12h", NULL};
	for (int i = 0; lines[i]; i++) {
		size_t len = strlen(lines[i]);
		for (size_t n = 0; n <= len; n++) {
			int r = feed_duration_parse(guard_put(&gb, lines[i], n), n, &v);
			assert_true(r == 0 || r == DNSBL_ESYNTAX || r == DNSBL_ERANGE);
		}
	}
}

/* ============================================================================== */
/* csv: header */

static void test_csv_state_init(void **state)
{
	(void)state;
	struct csv_state s;
	memset(&s, 0x5a, sizeof(s));
	csv_state_init(&s, FEED_KEYS_IP);
	assert_false(s.have_header);
	for (int i = 0; i < FEED_COL_COUNT; i++)
		assert_int_equal(s.col[i], -1);
}

static void test_csv_header_ip_only(void **state)
{
	(void)state;
	csv_hdr("ip");
	assert_int_equal(cst.nfields, 1);
	assert_int_equal(cst.col[FEED_COL_IP], 0);
	for (int i = 1; i < FEED_COL_COUNT; i++)
		assert_int_equal(cst.col[i], -1);
	csv_rec("192.0.2.1");
	want_range("192.0.2.1", A4(192, 0, 2, 1), A4(192, 0, 2, 1), false);
	want_have("192.0.2.1", 0);
	assert_int_equal(rec.flags, 0);
}

static void test_csv_header_all_columns(void **state)
{
	(void)state;
	csv_hdr(ALL_COLUMNS);
	assert_int_equal(cst.nfields, 11);
	assert_int_equal(cst.col[FEED_COL_NO_TXT], -1);
	assert_int_equal(cst.col[FEED_COL_IP], 0);
	assert_int_equal(cst.col[FEED_COL_TIMESTAMP], 1);
	assert_int_equal(cst.col[FEED_COL_REASON], 2);
	assert_int_equal(cst.col[FEED_COL_SOURCE], 3);
	assert_int_equal(cst.col[FEED_COL_CODE], 4);
	assert_int_equal(cst.col[FEED_COL_TXT], 5);
	assert_int_equal(cst.col[FEED_COL_TTL], 6);
	assert_int_equal(cst.col[FEED_COL_FIRST_SEEN], 7);
	assert_int_equal(cst.col[FEED_COL_LAST_SEEN], 8);
	assert_int_equal(cst.col[FEED_COL_HITS], 9);
	assert_int_equal(cst.col[FEED_COL_EXPIRES], 10);
}

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

static void test_csv_header_case_insensitive(void **state)
{
	(void)state;
	csv_hdr("IP,TimeStamp,REASON,Source,cOdE,Txt,TTL,First_Seen,LAST_SEEN,Hits,EXPIRES");
	assert_int_equal(cst.col[FEED_COL_IP], 0);
	assert_int_equal(cst.col[FEED_COL_TIMESTAMP], 1);
	assert_int_equal(cst.col[FEED_COL_REASON], 2);
	assert_int_equal(cst.col[FEED_COL_SOURCE], 3);
	assert_int_equal(cst.col[FEED_COL_CODE], 4);
	assert_int_equal(cst.col[FEED_COL_TXT], 5);
	assert_int_equal(cst.col[FEED_COL_TTL], 6);
	assert_int_equal(cst.col[FEED_COL_FIRST_SEEN], 7);
	assert_int_equal(cst.col[FEED_COL_LAST_SEEN], 8);
	assert_int_equal(cst.col[FEED_COL_HITS], 9);
	assert_int_equal(cst.col[FEED_COL_EXPIRES], 10);
	const char *line = "192.0.2.1,1732350000,spam,trap,3,T $,1h,1,2,3,0";
	csv_rec(line);
	want_have(line, ALL_HAVE);
}

static void test_csv_header_any_order(void **state)
{
	(void)state;
	csv_hdr("reason,source,ip");
	assert_int_equal(cst.col[FEED_COL_IP], 2);
	assert_int_equal(cst.col[FEED_COL_REASON], 0);
	assert_int_equal(cst.col[FEED_COL_SOURCE], 1);
	const char *line = "spam run,trap-7,10.0.0.1";
	csv_rec(line);
	want_range(line, A4(10, 0, 0, 1), A4(10, 0, 0, 1), false);
	want_have(line, FEED_HAVE_REASON | FEED_HAVE_SOURCE);
	want_reason("spam run");
	want_source("trap-7");
}

static void test_csv_header_unknown_columns(void **state)
{
	(void)state;
	csv_hdr("country,ip,asn,note,ips,ip_address");
	assert_int_equal(cst.nfields, 6);
	assert_int_equal(cst.col[FEED_COL_IP], 1);
	for (int i = 1; i < FEED_COL_COUNT; i++)
		assert_int_equal(cst.col[i], -1);
	const char *line = "DE,198.51.100.7,AS64500,hello,x,y";
	csv_rec(line);
	want_range(line, A4(198, 51, 100, 7), A4(198, 51, 100, 7), false);
	want_have(line, 0);
	assert_int_equal(rec.flags, 0);
	/* an unknown column named twice is still ignored */
	csv_state_init(&cst, FEED_KEYS_IP);
	csv_hdr("ip,x,x,note,NOTE");
	csv_rec("1.2.3.4,a,b,c,d");
	want_range("1.2.3.4,a,b,c,d", A4(1, 2, 3, 4), A4(1, 2, 3, 4), false);
}

static void test_csv_header_missing_ip(void **state)
{
	(void)state;
	csv_err("timestamp,reason");
	csv_state_init(&cst, FEED_KEYS_IP);
	csv_err("address,reason");
	csv_state_init(&cst, FEED_KEYS_IP);
	csv_err("ipv4");
	csv_state_init(&cst, FEED_KEYS_IP);
	csv_err("i p");
	csv_state_init(&cst, FEED_KEYS_IP);
	csv_err("reason");
	/* a data line where the header should be has no "ip" column */
	csv_state_init(&cst, FEED_KEYS_IP);
	csv_err("192.0.2.1");
	csv_state_init(&cst, FEED_KEYS_IP);
	csv_err("192.0.2.1,spam");
}

static void test_csv_header_duplicate(void **state)
{
	(void)state;
	csv_err("ip,ip");
	csv_state_init(&cst, FEED_KEYS_IP);
	csv_err("ip,IP");
	csv_state_init(&cst, FEED_KEYS_IP);
	csv_err("ip,reason,REASON");
	csv_state_init(&cst, FEED_KEYS_IP);
	csv_err("ttl,ip,Ttl");
	csv_state_init(&cst, FEED_KEYS_IP);
	csv_err("ip,hits,expires,hits");
	csv_state_init(&cst, FEED_KEYS_IP);
	csv_err("ip,timestamp,first_seen,last_seen,timestamp");
}

static void test_csv_header_max_fields(void **state)
{
	(void)state;
	char line[2048];
	int n = snprintf(line, sizeof(line), "ip");
	for (int i = 1; i < CSV_MAX_FIELDS; i++)
		n += snprintf(line + n, sizeof(line) - (size_t)n, ",c%d", i);
	csv_hdr(line);
	assert_int_equal(cst.nfields, CSV_MAX_FIELDS);

	/* a row of CSV_MAX_FIELDS fields */
	char row[2048];
	int m = snprintf(row, sizeof(row), "1.2.3.4");
	for (int i = 1; i < CSV_MAX_FIELDS; i++)
		m += snprintf(row + m, sizeof(row) - (size_t)m, ",v");
	csv_rec(row);
	want_range(row, A4(1, 2, 3, 4), A4(1, 2, 3, 4), false);

	/* one field more in the header is an error */
	csv_state_init(&cst, FEED_KEYS_IP);
	snprintf(line + n, sizeof(line) - (size_t)n, ",extra");
	csv_err(line);
	/* and many more */
	csv_state_init(&cst, FEED_KEYS_IP);
	n = snprintf(line, sizeof(line), "ip");
	for (int i = 1; i < 300; i++)
		n += snprintf(line + n, sizeof(line) - (size_t)n, ",");
	csv_err(line);
}

static void test_csv_header_quoted_names(void **state)
{
	(void)state;
	csv_hdr("\"ip\",\"Reason\",\"some, other\"");
	assert_int_equal(cst.nfields, 3);
	assert_int_equal(cst.col[FEED_COL_IP], 0);
	assert_int_equal(cst.col[FEED_COL_REASON], 1);
	csv_rec("1.2.3.4,r,o");
	want_reason("r");
}

static void test_csv_comments_blank_before_header(void **state)
{
	(void)state;
	csv_skip("");
	assert_false(cst.have_header);
	csv_skip("#");
	csv_skip("# exported by trap-7");
	csv_skip("#ip,reason");
	assert_false(cst.have_header);
	csv_skip("");
	csv_hdr("ip,reason");
	assert_int_equal(cst.col[FEED_COL_REASON], 1);
	/* after the header too */
	csv_skip("");
	csv_skip("# comment between rows");
	csv_rec("1.2.3.4,x");
	want_reason("x");
}

static void test_csv_reinit_new_file(void **state)
{
	(void)state;
	csv_hdr("ip,reason");
	csv_rec("1.2.3.4,x");
	csv_state_init(&cst, FEED_KEYS_IP);
	assert_false(cst.have_header);
	/* the next line is a header again */
	csv_hdr("source,ip");
	assert_int_equal(cst.col[FEED_COL_IP], 1);
	assert_int_equal(cst.col[FEED_COL_REASON], -1);
	csv_rec("s,5.6.7.8");
	want_range("s,5.6.7.8", A4(5, 6, 7, 8), A4(5, 6, 7, 8), false);
	want_have("s,5.6.7.8", FEED_HAVE_SOURCE);
}

/* A rejected header leaves no trace: the next line is taken as the header. */
static void test_csv_header_error_then_header(void **state)
{
	(void)state;
	static const char *const bad[] = {"timestamp,reason", "ip,reason,REASON",
					  "reason,ip,reason", NULL};
	for (int i = 0; bad[i]; i++) {
		csv_state_init(&cst, FEED_KEYS_IP);
		csv_err(bad[i]);
		assert_false(cst.have_header);
		csv_hdr("reason,ip");
		assert_int_equal(cst.col[FEED_COL_IP], 1);
		assert_int_equal(cst.col[FEED_COL_REASON], 0);
		csv_rec("r,1.2.3.4");
		want_reason("r");
	}
}

/* Long lines within reason: a long ignored column, a TXT of doubled quotes. */
static void test_csv_long_fields(void **state)
{
	(void)state;
	csv_hdr("ip,note,txt");
	size_t n = (size_t)snprintf(big, sizeof(big), "1.2.3.4,");
	memset(big + n, 'n', 3000);
	n += 3000;
	big[n++] = ',';
	big[n++] = '"';
	for (int i = 0; i < STORE_TXT_MAX; i++) {
		big[n++] = '"';
		big[n++] = '"';
	}
	big[n++] = '"';
	want_kind("csv", "1.2.3.4,nnn...,\"\"\"\"...", csvn(big, n), FEED_LINE_RECORD);
	assert_int_equal(rec.txt_len, STORE_TXT_MAX);
	assert_int_equal(rec.txt[0], '"');
	assert_int_equal(rec.txt[STORE_TXT_MAX - 1], '"');

	/* 1 MiB: a record or an error with a reason, never a crash */
	n = (size_t)snprintf(big, sizeof(big), "1.2.3.4,");
	memset(big + n, 'n', 1u << 20);
	n += 1u << 20;
	n += (size_t)snprintf(big + n, sizeof(big) - n, ",x");
	enum feed_line k = csvn(big, n);
	if (k == FEED_LINE_RECORD)
		want_txt("x");
	else
		want_kind("csv", "1 MiB", k, FEED_LINE_ERROR);
}

/* csv: fields and quoting */

static void test_csv_quoted_comma(void **state)
{
	(void)state;
	csv_hdr("ip,reason");
	csv_rec("1.2.3.4,\"spam, lots of it\"");
	want_reason("spam, lots of it");
	csv_rec("1.2.3.4,\",\"");
	want_reason(",");
	csv_rec("1.2.3.4,\",,,\"");
	want_reason(",,,");
}

static void test_csv_quoted_doubled_quotes(void **state)
{
	(void)state;
	csv_hdr("ip,reason");
	csv_rec("1.2.3.4,\"said \"\"hi\"\"\"");
	want_reason("said \"hi\"");
	csv_rec("1.2.3.4,\"\"\"\"");
	want_reason("\"");
	csv_rec("1.2.3.4,\"a\"\"b,\"\"c\"");
	want_reason("a\"b,\"c");
}

static void test_csv_quoted_ip_and_empty(void **state)
{
	(void)state;
	csv_hdr("ip,reason,source");
	const char *l1 = "\"10.0.0.0/8\",\"x\",\"y\"";
	csv_rec(l1);
	want_range(l1, A4(10, 0, 0, 0), A4(10, 255, 255, 255), false);
	want_reason("x");
	want_source("y");
	/* an empty quoted field is empty */
	const char *l2 = "1.2.3.4,\"\",\"\"";
	csv_rec(l2);
	want_have(l2, 0);
}

static void test_csv_unterminated_quote(void **state)
{
	(void)state;
	csv_err_with("ip,reason", "1.2.3.4,\"spam");
	csv_err_with("ip,reason", "1.2.3.4,\"spam, more");
	csv_err_with("ip,reason", "\"1.2.3.4,spam");
	csv_err_with("ip,reason", "1.2.3.4,\"");
	csv_err_with("ip,reason", "1.2.3.4,\"ends with doubled\"\"");
	/* in a header */
	csv_state_init(&cst, FEED_KEYS_IP);
	csv_err("ip,\"reason");
}

static void test_csv_junk_after_quote(void **state)
{
	(void)state;
	csv_err_with("ip,reason", "1.2.3.4,\"spam\"x");
	csv_err_with("ip,reason", "1.2.3.4,\"spam\" ");
	csv_err_with("ip,reason", "\"1.2.3.4\"5,x");
}

static void test_csv_field_count(void **state)
{
	(void)state;
	csv_err_with("ip,reason", "1.2.3.4");
	csv_err_with("ip,reason", "1.2.3.4,a,b");
	csv_err_with("ip,reason", "1.2.3.4,a,");
	csv_err_with("ip,reason,source", "1.2.3.4,a");
	csv_err_with("ip", "1.2.3.4,");
	csv_err_with("ip", ",1.2.3.4");
	csv_err_with("ip", "1.2.3.4,\"a,b\"");
	/* a quoted comma is no separator: the count is right */
	csv_state_init(&cst, FEED_KEYS_IP);
	csv_hdr("ip,reason");
	csv_rec("1.2.3.4,\"a,b\"");
}

/* csv: column values */

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

/* The export format (README: ip,code,txt,reason,source,first_seen,last_seen,hits,
 * expires) reads back. */
static void test_csv_export_header(void **state)
{
	(void)state;
	csv_hdr("ip,code,txt,reason,source,first_seen,last_seen,hits,expires");
	const char *line = "!10.0.0.0/8,127.0.0.2,\"Listed, see $\",op,default,1700000000,"
			   "1700000100,3,1800000000";
	csv_rec(line);
	want_range(line, A4(10, 0, 0, 0), A4(10, 255, 255, 255), true);
	want_have(line, FEED_HAVE_REASON | FEED_HAVE_SOURCE | FEED_HAVE_FIRST | FEED_HAVE_LAST |
				FEED_HAVE_HITS | FEED_HAVE_EXPIRES);
}

/* A bad row does not disturb the state: the next row parses. */
static void test_csv_error_then_record(void **state)
{
	(void)state;
	csv_hdr("ip,reason");
	csv_err("1.2.3.4,\"unterminated");
	csv_err("1.2.3.4");
	csv_err("2001:db8::1/200,x");
	csv_rec("5.6.7.8,fine");
	want_range("5.6.7.8", A4(5, 6, 7, 8), A4(5, 6, 7, 8), false);
	want_reason("fine");
	assert_true(cst.have_header);
	assert_int_equal(cst.nfields, 2);
}

static void test_csv_length_bounded(void **state)
{
	(void)state;
	csv_hdr("ip,reason");
	char buf[64];
	memcpy(buf, "1.2.3.4,spam,extra", 18);
	/* only "1.2.3.4,spam" counts */
	msg = NULL;
	assert_int_equal(csv_parse_line(&cst, buf, 12, &rec, &msg), FEED_LINE_RECORD);
	want_reason("spam");
	/* "1.2.3.4,sp" */
	assert_int_equal(csv_parse_line(&cst, buf, 10, &rec, &msg), FEED_LINE_RECORD);
	want_reason("sp");

	/* every prefix of valid lines, right before the guard page */
	static const char *const lines[] = {
		ALL_COLUMNS,
		"192.0.2.0/24,2026-11-23T10:00:00Z,\"spam, \"\"lots\"\"\",trap-1,127.0.0.3,"
		"Listed $,7d,1700000000,2026-11-23T10:00:00+01:00,12,0",
		"!10.0.0.0/8,1,\"\",,,,,,,,",
		NULL,
	};
	for (int i = 0; lines[i]; i++) {
		size_t len = strlen(lines[i]);
		for (size_t n = 0; n <= len; n++) {
			csv_state_init(&cst, FEED_KEYS_IP);
			if (i > 0)
				csv_hdr(ALL_COLUMNS);
			msg = NULL;
			enum feed_line k = csvn(lines[i], n);
			if (k == FEED_LINE_ERROR || k == FEED_LINE_NOTICE)
				assert_true(msg != NULL && msg[0] != '\0');
			else if (k == FEED_LINE_RECORD)
				check_record_sane(lines[i], n);
			else
				assert_int_equal(k, FEED_LINE_SKIP);
		}
	}
}

/* Lines with a NUL byte inside: the parser must not stop early at the NUL and take
 * what came before it as the whole line. */
static void test_csv_embedded_nul(void **state)
{
	(void)state;
	csv_hdr("ip,reason");
	static const char l1[] = "1.2.3.4\0junk,x";
	enum feed_line k = csvn(l1, sizeof(l1) - 1);
	want_kind("csv", "1.2.3.4\\0junk,x", k, FEED_LINE_ERROR);
	static const char l2[] = "1.2.3.4,x\0,y";
	k = csvn(l2, sizeof(l2) - 1);
	/* three fields under a two-field header */
	want_kind("csv", "1.2.3.4,x\\0,y", k, FEED_LINE_ERROR);
}

static void test_csv_random_garbage(void **state)
{
	(void)state;
	static const char alphabet[] = "0123456789.,/\"!#: \t-TZzdhmsw$abcx";
	char line[160];
	srandom(4242);
	for (int iter = 0; iter < 100000; iter++) {
		if (iter % 50 == 0) {
			csv_state_init(&cst, FEED_KEYS_IP);
			if (iter % 100 == 0)
				csv_hdr(ALL_COLUMNS);
		}
		size_t n = (size_t)(random() % 80);
		for (size_t i = 0; i < n; i++)
			line[i] = (iter & 1) ? alphabet[random() % (sizeof(alphabet) - 1)]
					     : (char)(random() & 0xff);
		enum feed_line k = csvn(line, n);
		if (k == FEED_LINE_RECORD)
			check_record_sane(line, n);
		else if (k == FEED_LINE_ERROR || k == FEED_LINE_NOTICE)
			assert_true(msg != NULL && msg[0] != '\0');
		else
			assert_int_equal(k, FEED_LINE_SKIP);
	}
}

/* ============================================================================== */
/* jsonl */

static void test_jsonl_minimal(void **state)
{
	(void)state;
	const char *line = "{\"ip\":\"192.0.2.1\"}";
	js_rec(line);
	want_range(line, A4(192, 0, 2, 1), A4(192, 0, 2, 1), false);
	want_have(line, 0);
	assert_int_equal(rec.flags, 0);
}

static void test_jsonl_all_members(void **state)
{
	(void)state;
	const char *line =
		"{\"ip\":\"192.0.2.0/24\",\"timestamp\":\"2026-11-23T10:00:00Z\","
		"\"reason\":\"spam, \\\"lots\\\"\",\"source\":\"trap-1\",\"code\":\"127.0.0.3\","
		"\"txt\":\"Listed $\",\"ttl\":\"7d\",\"first_seen\":1700000000,"
		"\"last_seen\":\"2026-11-23T10:00:00+01:00\",\"hits\":12,\"expires\":0}";
	js_rec(line);
	want_range(line, A4(192, 0, 2, 0), A4(192, 0, 2, 255), false);
	want_have(line, ALL_HAVE);
	assert_int_equal(rec.flags, STORE_F_A | STORE_F_TXT);
	assert_int_equal(rec.a, A4(127, 0, 0, 3));
	want_txt("Listed $");
	want_u32(line, "time", rec.time, T_20261123_10);
	want_reason("spam, \"lots\"");
	want_source("trap-1");
	want_u32(line, "ttl", rec.ttl, 604800);
	want_u32(line, "first_seen", rec.first_seen, 1700000000u);
	want_u32(line, "last_seen", rec.last_seen, T_20261123_10 - 3600);
	want_u32(line, "hits", rec.hits, 12);
	want_u32(line, "expires", rec.expires, 0);
}

static void test_jsonl_exclusion(void **state)
{
	(void)state;
	const char *line = "{\"ip\":\"!10.0.0.0/24\"}";
	js_rec(line);
	want_range(line, A4(10, 0, 0, 0), A4(10, 0, 0, 255), true);
}

static void test_jsonl_timestamp_number_or_string(void **state)
{
	(void)state;
	const char *l1 = "{\"ip\":\"1.2.3.4\",\"timestamp\":1732350000}";
	js_rec(l1);
	want_have(l1, FEED_HAVE_TIME);
	want_u32(l1, "time", rec.time, 1732350000u);
	const char *l2 = "{\"ip\":\"1.2.3.4\",\"timestamp\":\"2026-11-23T10:00:00-05:30\"}";
	js_rec(l2);
	want_u32(l2, "time", rec.time, T_20261123_10 + 19800);
	const char *l3 = "{\"ip\":\"1.2.3.4\",\"timestamp\":0}";
	js_rec(l3);
	want_have(l3, FEED_HAVE_TIME);
	want_u32(l3, "time", rec.time, 0);
	const char *l4 = "{\"ip\":\"1.2.3.4\",\"timestamp\":4294967295}";
	js_rec(l4);
	want_u32(l4, "time", rec.time, U32MAX);
}

static void test_jsonl_code_number_or_string(void **state)
{
	(void)state;
	js_rec("{\"ip\":\"1.2.3.4\",\"code\":3}");
	assert_int_equal(rec.flags, STORE_F_A);
	assert_int_equal(rec.a, A4(127, 0, 0, 3));
	js_rec("{\"ip\":\"1.2.3.4\",\"code\":\"3\"}");
	assert_int_equal(rec.flags, STORE_F_A);
	assert_int_equal(rec.a, A4(127, 0, 0, 3));
	js_rec("{\"ip\":\"1.2.3.4\",\"code\":\"127.0.0.9\"}");
	assert_int_equal(rec.a, A4(127, 0, 0, 9));
	js_rec("{\"ip\":\"1.2.3.4\",\"code\":255}");
	assert_int_equal(rec.a, A4(127, 0, 0, 255));
}

static void test_jsonl_ttl_number_or_string(void **state)
{
	(void)state;
	const char *l1 = "{\"ip\":\"1.2.3.4\",\"ttl\":3600}";
	js_rec(l1);
	want_have(l1, FEED_HAVE_TTL);
	want_u32(l1, "ttl", rec.ttl, 3600);
	const char *l2 = "{\"ip\":\"1.2.3.4\",\"ttl\":\"2w\"}";
	js_rec(l2);
	want_u32(l2, "ttl", rec.ttl, 1209600);
	const char *l3 = "{\"ip\":\"1.2.3.4\",\"ttl\":\"3600\"}";
	js_rec(l3);
	want_u32(l3, "ttl", rec.ttl, 3600);
}

static void test_jsonl_seen_expires_forms(void **state)
{
	(void)state;
	const char *l1 = "{\"ip\":\"1.2.3.4\",\"first_seen\":\"2026-11-23T10:00:00Z\","
			 "\"last_seen\":1795428001,\"expires\":\"2026-11-24T10:00:00Z\"}";
	js_rec(l1);
	want_have(l1, FEED_HAVE_FIRST | FEED_HAVE_LAST | FEED_HAVE_EXPIRES);
	want_u32(l1, "first_seen", rec.first_seen, T_20261123_10);
	want_u32(l1, "last_seen", rec.last_seen, T_20261123_10 + 1);
	want_u32(l1, "expires", rec.expires, T_20261123_10 + 86400);
	const char *l2 = "{\"ip\":\"1.2.3.4\",\"expires\":0,\"hits\":1}";
	js_rec(l2);
	want_have(l2, FEED_HAVE_EXPIRES | FEED_HAVE_HITS);
	want_u32(l2, "expires", rec.expires, 0);
	want_u32(l2, "hits", rec.hits, 1);
}

static void test_jsonl_strings(void **state)
{
	(void)state;
	const char *l1 = "{\"ip\":\"1.2.3.4\",\"reason\":\"caf\\u00e9 \\/ tab\\t\",\"source\":\"s\","
			 "\"txt\":\"$ listed\"}";
	js_rec(l1);
	want_reason("caf\xc3\xa9 / tab\t");
	want_source("s");
	want_txt("$ listed");
	assert_int_equal(rec.flags, STORE_F_TXT);
}

static void test_jsonl_unknown_members(void **state)
{
	(void)state;
	const char *line = "{\"country\":\"DE\",\"ip\":\"1.2.3.4\",\"asn\":64500,"
			   "\"tags\":[1,\"two\",null],\"extra\":{\"ip\":\"9.9.9.9\"},\"ok\":true,"
			   "\"none\":null,\"f\":1.5}";
	js_rec(line);
	want_range(line, A4(1, 2, 3, 4), A4(1, 2, 3, 4), false);
	want_have(line, 0);
	assert_int_equal(rec.flags, 0);
}

static void test_jsonl_whitespace(void **state)
{
	(void)state;
	const char *line = " \t{ \"ip\" : \"1.2.3.4\" , \"hits\" : 2 } \t";
	js_rec(line);
	want_range(line, A4(1, 2, 3, 4), A4(1, 2, 3, 4), false);
	want_u32(line, "hits", rec.hits, 2);
	/* a CR left over from a CRLF file is JSON whitespace */
	js_rec("{\"ip\":\"1.2.3.4\"}\r");
}

static void test_jsonl_not_object(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"[]", "[{\"ip\":\"1.2.3.4\"}]", "\"1.2.3.4\"", "42", "1.5", "null", "true",
		"false", "\"\"", NULL,
	};
	for (int i = 0; bad[i]; i++)
		js_err(bad[i]);
}

static void test_jsonl_invalid_json(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"{",
		"}",
		"{\"ip\":}",
		"{\"ip\"}",
		"{ip:\"1.2.3.4\"}",
		"{'ip':'1.2.3.4'}",
		"{\"ip\":\"1.2.3.4\",}",
		"{\"ip\":\"1.2.3.4\"",
		"{\"ip\":\"1.2.3.4\"} x",
		"{\"ip\":\"1.2.3.4\"}{\"ip\":\"5.6.7.8\"}",
		"{\"ip\":\"1.2.3.4\"},",
		"{\"ip\":\"1.2.3.4\" \"hits\":1}",
		"{\"ip\":\"1.2.3.4\",\"hits\":01}",
		"{\"ip\":\"1.2.3.4\",\"hits\":NaN}",
		"{\"ip\":\"1.2.3.4\",\"reason\":\"\\x41\"}",
		"{\"ip\":\"1.2.3.4\",\"reason\":\"\xff\xfe\"}", /* not UTF-8 */
		"ip=1.2.3.4",
		"1.2.3.4",
		"# comment",
		NULL,
	};
	for (int i = 0; bad[i]; i++)
		js_err(bad[i]);
}

static void test_jsonl_ip_missing(void **state)
{
	(void)state;
	js_err("{}");
	js_err("{\"reason\":\"spam\"}");
	js_err("{\"addr\":\"1.2.3.4\",\"timestamp\":1}");
}

static void test_jsonl_ip_not_string(void **state)
{
	(void)state;
	js_err("{\"ip\":16909060}");
	js_err("{\"ip\":null}");
	js_err("{\"ip\":true}");
	js_err("{\"ip\":[\"1.2.3.4\"]}");
	js_err("{\"ip\":{\"v\":\"1.2.3.4\"}}");
	js_err("{\"ip\":1.5}");
}

static void test_jsonl_ip_bad(void **state)
{
	(void)state;
	js_err("{\"ip\":\"\"}");
	js_err("{\"ip\":\"2001:db8::1/33\"}");
	js_err("{\"ip\":\"::ffff:1.2.3.4/120\"}");
	js_err("{\"ip\":\"10.1.2.3/8\"}");
	js_err("{\"name\":\"example.com\"}"); /* a name in an ip zone's feed */
	js_err("{\"ip\":\"256.0.0.1\"}");
	js_err("{\"ip\":\"garbage\"}");
}

static void test_jsonl_bad_values(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"{\"ip\":\"1.2.3.4\",\"code\":300}",
		"{\"ip\":\"1.2.3.4\",\"code\":-1}",
		"{\"ip\":\"1.2.3.4\",\"code\":\"10.0.0.1\"}",
		"{\"ip\":\"1.2.3.4\",\"code\":\"abc\"}",
		"{\"ip\":\"1.2.3.4\",\"timestamp\":-1}",
		"{\"ip\":\"1.2.3.4\",\"timestamp\":4294967296}",
		"{\"ip\":\"1.2.3.4\",\"timestamp\":\"garbage\"}",
		"{\"ip\":\"1.2.3.4\",\"timestamp\":\"2026-11-23T10:00:00\"}",
		"{\"ip\":\"1.2.3.4\",\"timestamp\":\"1969-12-31T23:59:59Z\"}",
		"{\"ip\":\"1.2.3.4\",\"ttl\":\"7x\"}",
		"{\"ip\":\"1.2.3.4\",\"ttl\":-1}",
		"{\"ip\":\"1.2.3.4\",\"ttl\":4294967296}",
		"{\"ip\":\"1.2.3.4\",\"ttl\":\"999999999w\"}",
		"{\"ip\":\"1.2.3.4\",\"hits\":-1}",
		"{\"ip\":\"1.2.3.4\",\"hits\":4294967296}",
		"{\"ip\":\"1.2.3.4\",\"first_seen\":-1}",
		"{\"ip\":\"1.2.3.4\",\"last_seen\":\"x\"}",
		"{\"ip\":\"1.2.3.4\",\"expires\":-1}",
		"{\"ip\":\"1.2.3.4\",\"expires\":\"never\"}",
		"{\"ip\":\"1.2.3.4\",\"reason\":5}",
		"{\"ip\":\"1.2.3.4\",\"source\":[\"x\"]}",
		"{\"ip\":\"1.2.3.4\",\"txt\":{}}",
		"{\"ip\":\"1.2.3.4\",\"code\":[3]}",
		"{\"ip\":\"1.2.3.4\",\"timestamp\":true}",
		NULL,
	};
	for (int i = 0; bad[i]; i++)
		js_err(bad[i]);
}

static void test_jsonl_length_limits(void **state)
{
	(void)state;
	char line[2048];
	int n;

	/* reason: 255 ok, 256 not */
	n = snprintf(line, sizeof(line), "{\"ip\":\"1.2.3.4\",\"reason\":\"");
	memset(line + n, 'r', STORE_REASON_MAX);
	snprintf(line + n + STORE_REASON_MAX, sizeof(line) - (size_t)n - STORE_REASON_MAX,
		 "\"}");
	js_rec(line);
	assert_int_equal(rec.reason_len, STORE_REASON_MAX);
	memset(line + n, 'r', STORE_REASON_MAX + 1);
	snprintf(line + n + STORE_REASON_MAX + 1,
		 sizeof(line) - (size_t)n - STORE_REASON_MAX - 1, "\"}");
	js_err(line);

	/* source: 64 ok, 65 not */
	n = snprintf(line, sizeof(line), "{\"ip\":\"1.2.3.4\",\"source\":\"");
	memset(line + n, 's', FEED_SOURCE_MAX);
	snprintf(line + n + FEED_SOURCE_MAX, sizeof(line) - (size_t)n - FEED_SOURCE_MAX, "\"}");
	js_rec(line);
	assert_int_equal(rec.source_len, FEED_SOURCE_MAX);
	memset(line + n, 's', FEED_SOURCE_MAX + 1);
	snprintf(line + n + FEED_SOURCE_MAX + 1, sizeof(line) - (size_t)n - FEED_SOURCE_MAX - 1,
		 "\"}");
	js_err(line);

	/* txt: 1024 ok, 1025 not */
	n = snprintf(line, sizeof(line), "{\"ip\":\"1.2.3.4\",\"txt\":\"");
	memset(line + n, 't', STORE_TXT_MAX);
	snprintf(line + n + STORE_TXT_MAX, sizeof(line) - (size_t)n - STORE_TXT_MAX, "\"}");
	js_rec(line);
	assert_int_equal(rec.txt_len, STORE_TXT_MAX);
	memset(line + n, 't', STORE_TXT_MAX + 1);
	snprintf(line + n + STORE_TXT_MAX + 1, sizeof(line) - (size_t)n - STORE_TXT_MAX - 1,
		 "\"}");
	js_err(line);

	/* "source":"" is no source of 1-64 bytes */
	enum feed_line k = js("{\"ip\":\"1.2.3.4\",\"source\":\"\"}");
	if (k == FEED_LINE_RECORD)
		assert_false(rec.have & FEED_HAVE_SOURCE);
	else
		want_kind("jsonl", "empty source", k, FEED_LINE_ERROR);
}

static void test_jsonl_blank(void **state)
{
	(void)state;
	want_kind("jsonl", "", js(""), FEED_LINE_SKIP);
}

static void test_jsonl_embedded_nul(void **state)
{
	(void)state;
	/* a raw NUL byte after a complete object */
	static const char l1[] = "{\"ip\":\"1.2.3.4\"}\0";
	want_kind("jsonl", "{...}\\0", jsn(l1, sizeof(l1) - 1), FEED_LINE_ERROR);
	/* a raw NUL byte inside the object */
	static const char l2[] = "{\"ip\":\"1.2.3.4\"\0,\"x\":1}";
	want_kind("jsonl", "{\"ip\":..\\0..}", jsn(l2, sizeof(l2) - 1), FEED_LINE_ERROR);
	/* an escaped NUL must not cut the address short */
	js_err("{\"ip\":\"1.2.3.4\\u0000junk\"}");
	js_err("{\"ip\":\"1.2.3.4\\u0000\"}");
	/* in a reason: an error, or kept whole */
	const char *l3 = "{\"ip\":\"1.2.3.4\",\"reason\":\"a\\u0000b\"}";
	enum feed_line k = js(l3);
	if (k == FEED_LINE_RECORD) {
		assert_int_equal(rec.reason_len, 3);
		assert_memory_equal(rec.reason, "a\0b", 3);
	} else {
		want_kind("jsonl", l3, k, FEED_LINE_ERROR);
	}
	/* in a time string */
	js_err("{\"ip\":\"1.2.3.4\",\"timestamp\":\"1732350000\\u0000x\"}");
	js_err("{\"ip\":\"1.2.3.4\",\"ttl\":\"7d\\u0000x\"}");
	js_err("{\"ip\":\"1.2.3.4\",\"code\":\"3\\u0000x\"}");
}

static void test_jsonl_long_line(void **state)
{
	(void)state;
	/* a 4000-byte unknown member: longer than any known member may be */
	size_t n = (size_t)snprintf(big, sizeof(big), "{\"ip\":\"1.2.3.4\",\"junk\":\"");
	memset(big + n, 'j', 4000);
	n += 4000;
	n += (size_t)snprintf(big + n, sizeof(big) - n, "\",\"hits\":7}");
	want_kind("jsonl", "{4000 B}", jsn(big, n), FEED_LINE_RECORD);
	want_range("{4000 B}", A4(1, 2, 3, 4), A4(1, 2, 3, 4), false);
	want_u32("{4000 B}", "hits", rec.hits, 7);

	/* a 1 MiB line: the header sets no limit; a record, or an error with a reason */
	n = (size_t)snprintf(big, sizeof(big), "{\"ip\":\"1.2.3.4\",\"junk\":\"");
	memset(big + n, 'j', 1u << 20);
	n += 1u << 20;
	n += (size_t)snprintf(big + n, sizeof(big) - n, "\",\"hits\":7}");
	enum feed_line k = jsn(big, n);
	if (k == FEED_LINE_RECORD)
		want_u32("{1 MiB}", "hits", rec.hits, 7);
	else
		want_kind("jsonl", "{1 MiB}", k, FEED_LINE_ERROR);

	/* a 100 KB reason */
	n = (size_t)snprintf(big, sizeof(big), "{\"ip\":\"1.2.3.4\",\"reason\":\"");
	memset(big + n, 'r', 100000);
	n += 100000;
	n += (size_t)snprintf(big + n, sizeof(big) - n, "\"}");
	want_kind("jsonl", "{100 KB reason}", jsn(big, n), FEED_LINE_ERROR);

	/* deep nesting in an unknown member: an error or a record, never a crash */
	n = (size_t)snprintf(big, sizeof(big), "{\"ip\":\"1.2.3.4\",\"deep\":");
	memset(big + n, '[', 200000);
	n += 200000;
	memset(big + n, ']', 200000);
	n += 200000;
	big[n++] = '}';
	k = jsn(big, n);
	if (k == FEED_LINE_ERROR)
		assert_true(msg != NULL && msg[0] != '\0');
	else
		assert_int_equal(k, FEED_LINE_RECORD);
}

static void test_jsonl_length_bounded(void **state)
{
	(void)state;
	static const char buf[] = "{\"ip\":\"1.2.3.4\"}garbage";
	msg = NULL;
	assert_int_equal(jsonl_parse_line(FEED_KEYS_IP, buf, 16, &rec, &msg), FEED_LINE_RECORD);
	assert_int_equal(rec.lo, A4(1, 2, 3, 4));

	static const char *const lines[] = {
		"{\"ip\":\"192.0.2.0/24\",\"timestamp\":\"2026-11-23T10:00:00Z\",\"reason\":\"r\","
		"\"source\":\"s\",\"code\":3,\"txt\":\"T $\",\"ttl\":\"7d\",\"first_seen\":1,"
		"\"last_seen\":2,\"hits\":3,\"expires\":0}",
		NULL,
	};
	for (int i = 0; lines[i]; i++) {
		size_t len = strlen(lines[i]);
		for (size_t n = 0; n <= len; n++) {
			enum feed_line k = jsn(lines[i], n);
			if (k == FEED_LINE_RECORD)
				check_record_sane(lines[i], n);
			else if (k == FEED_LINE_ERROR || k == FEED_LINE_NOTICE)
				assert_true(msg != NULL && msg[0] != '\0');
			else
				assert_int_equal(k, FEED_LINE_SKIP);
			/* only the whole object is valid JSON */
			if (n > 0 && n < len && k != FEED_LINE_ERROR)
				fail_msg("jsonl prefix %zu of %zu: %s", n, len, kind_name(k));
		}
	}
}

static void test_jsonl_random_garbage(void **state)
{
	(void)state;
	static const char *const seeds[] = {
		"{\"ip\":\"1.2.3.4/32\",\"code\":3,\"ttl\":\"7d\",\"reason\":\"x\"}",
		"{\"ip\":\"!10.0.0.0/8\",\"timestamp\":\"2026-11-23T10:00:00Z\",\"hits\":5}",
	};
	char line[200];
	srandom(777);
	for (int iter = 0; iter < 30000; iter++) {
		const char *s = seeds[iter & 1];
		size_t n = strlen(s);
		memcpy(line, s, n);
		int muts = 1 + (int)(random() % 4);
		for (int m = 0; m < muts; m++)
			line[random() % n] = (char)(random() & 0xff);
		if (iter % 7 == 0)
			n = (size_t)(random() % (long)(n + 1));
		enum feed_line k = jsn(line, n);
		if (k == FEED_LINE_RECORD)
			check_record_sane(line, n);
		else if (k == FEED_LINE_ERROR || k == FEED_LINE_NOTICE)
			assert_true(msg != NULL && msg[0] != '\0');
		else
			assert_int_equal(k, FEED_LINE_SKIP);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		/* feed_time_parse */
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
		/* feed_duration_parse */
		cmocka_unit_test(test_duration_plain_seconds),
		cmocka_unit_test(test_duration_suffixes),
		cmocka_unit_test(test_duration_syntax),
		cmocka_unit_test(test_duration_overflow),
		cmocka_unit_test(test_duration_length_bounded),
		/* csv */
		cmocka_unit_test_setup(test_csv_state_init, reset),
		cmocka_unit_test_setup(test_csv_header_ip_only, reset),
		cmocka_unit_test_setup(test_csv_header_all_columns, reset),
		cmocka_unit_test_setup(test_csv_header_case_insensitive, reset),
		cmocka_unit_test_setup(test_csv_no_txt, reset),
		cmocka_unit_test_setup(test_csv_header_any_order, reset),
		cmocka_unit_test_setup(test_csv_header_unknown_columns, reset),
		cmocka_unit_test_setup(test_csv_header_missing_ip, reset),
		cmocka_unit_test_setup(test_csv_header_duplicate, reset),
		cmocka_unit_test_setup(test_csv_header_max_fields, reset),
		cmocka_unit_test_setup(test_csv_header_quoted_names, reset),
		cmocka_unit_test_setup(test_csv_comments_blank_before_header, reset),
		cmocka_unit_test_setup(test_csv_reinit_new_file, reset),
		cmocka_unit_test_setup(test_csv_header_error_then_header, reset),
		cmocka_unit_test_setup(test_csv_long_fields, reset),
		cmocka_unit_test_setup(test_csv_quoted_comma, reset),
		cmocka_unit_test_setup(test_csv_quoted_doubled_quotes, reset),
		cmocka_unit_test_setup(test_csv_quoted_ip_and_empty, reset),
		cmocka_unit_test_setup(test_csv_unterminated_quote, reset),
		cmocka_unit_test_setup(test_csv_junk_after_quote, reset),
		cmocka_unit_test_setup(test_csv_field_count, reset),
		cmocka_unit_test_setup(test_csv_ip_address, reset),
		cmocka_unit_test_setup(test_csv_ip_cidr, reset),
		cmocka_unit_test_setup(test_csv_ip_exclusion, reset),
		cmocka_unit_test_setup(test_csv_ip_host_bits, reset),
		cmocka_unit_test_setup(test_csv_ip_ipv6, reset),
		cmocka_unit_test_setup(test_csv_ip_bad, reset),
		cmocka_unit_test_setup(test_csv_timestamp_forms, reset),
		cmocka_unit_test_setup(test_csv_timestamp_bad, reset),
		cmocka_unit_test_setup(test_csv_code_address, reset),
		cmocka_unit_test_setup(test_csv_code_octet, reset),
		cmocka_unit_test_setup(test_csv_code_bad, reset),
		cmocka_unit_test_setup(test_csv_txt, reset),
		cmocka_unit_test_setup(test_csv_txt_length, reset),
		cmocka_unit_test_setup(test_csv_txt_substitutions, reset),
		cmocka_unit_test_setup(test_csv_reason, reset),
		cmocka_unit_test_setup(test_csv_source, reset),
		cmocka_unit_test_setup(test_csv_ttl, reset),
		cmocka_unit_test_setup(test_csv_ttl_bad, reset),
		cmocka_unit_test_setup(test_csv_first_last_seen, reset),
		cmocka_unit_test_setup(test_csv_hits, reset),
		cmocka_unit_test_setup(test_csv_expires, reset),
		cmocka_unit_test_setup(test_csv_facts_bad, reset),
		cmocka_unit_test_setup(test_csv_empty_optional_fields, reset),
		cmocka_unit_test_setup(test_csv_each_optional_alone, reset),
		cmocka_unit_test_setup(test_csv_full_row, reset),
		cmocka_unit_test_setup(test_csv_export_header, reset),
		cmocka_unit_test_setup(test_csv_error_then_record, reset),
		cmocka_unit_test_setup(test_csv_length_bounded, reset),
		cmocka_unit_test_setup(test_csv_embedded_nul, reset),
		cmocka_unit_test_setup(test_csv_random_garbage, reset),
		/* jsonl */
		cmocka_unit_test(test_jsonl_minimal),
		cmocka_unit_test(test_jsonl_all_members),
		cmocka_unit_test(test_jsonl_exclusion),
		cmocka_unit_test(test_jsonl_timestamp_number_or_string),
		cmocka_unit_test(test_jsonl_code_number_or_string),
		cmocka_unit_test(test_jsonl_ttl_number_or_string),
		cmocka_unit_test(test_jsonl_seen_expires_forms),
		cmocka_unit_test(test_jsonl_strings),
		cmocka_unit_test(test_jsonl_unknown_members),
		cmocka_unit_test(test_jsonl_whitespace),
		cmocka_unit_test(test_jsonl_not_object),
		cmocka_unit_test(test_jsonl_invalid_json),
		cmocka_unit_test(test_jsonl_ip_missing),
		cmocka_unit_test(test_jsonl_ip_not_string),
		cmocka_unit_test(test_jsonl_ip_bad),
		cmocka_unit_test(test_jsonl_bad_values),
		cmocka_unit_test(test_jsonl_length_limits),
		cmocka_unit_test(test_jsonl_blank),
		cmocka_unit_test(test_jsonl_embedded_nul),
		cmocka_unit_test(test_jsonl_long_line),
		cmocka_unit_test(test_jsonl_length_bounded),
		cmocka_unit_test(test_jsonl_random_garbage),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
