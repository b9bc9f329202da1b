/* Unit tests for loader/feed_jsonl.c: members as csv columns, JSON types, limits and
 * robustness, with IP and domain keys. Written from feed.h and README.md ("### Formats"). */
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

/* scratch for long lines */
static char big[2u << 20];

static int setup(void **state)
{
	(void)state;
	return guard_init(&gb, sizeof(big) + 64);
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

static void js_rec(const char *line)
{
	want_kind_as("jsonl", line, js(line), FEED_LINE_RECORD);
}

static void js_err(const char *line)
{
	want_kind_as("jsonl", line, js(line), FEED_LINE_ERROR);
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
		want_kind_as("jsonl", "empty source", k, FEED_LINE_ERROR);
}

static void test_jsonl_blank(void **state)
{
	(void)state;
	want_kind_as("jsonl", "", js(""), FEED_LINE_SKIP);
}

static void test_jsonl_embedded_nul(void **state)
{
	(void)state;
	/* a raw NUL byte after a complete object */
	static const char l1[] = "{\"ip\":\"1.2.3.4\"}\0";
	want_kind_as("jsonl", "{...}\\0", jsn(l1, sizeof(l1) - 1), FEED_LINE_ERROR);
	/* a raw NUL byte inside the object */
	static const char l2[] = "{\"ip\":\"1.2.3.4\"\0,\"x\":1}";
	want_kind_as("jsonl", "{\"ip\":..\\0..}", jsn(l2, sizeof(l2) - 1), FEED_LINE_ERROR);
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
		want_kind_as("jsonl", l3, k, FEED_LINE_ERROR);
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
	want_kind_as("jsonl", "{4000 B}", jsn(big, n), FEED_LINE_RECORD);
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
		want_kind_as("jsonl", "{1 MiB}", k, FEED_LINE_ERROR);

	/* a 100 KB reason */
	n = (size_t)snprintf(big, sizeof(big), "{\"ip\":\"1.2.3.4\",\"reason\":\"");
	memset(big + n, 'r', 100000);
	n += 100000;
	n += (size_t)snprintf(big + n, sizeof(big) - n, "\"}");
	want_kind_as("jsonl", "{100 KB reason}", jsn(big, n), FEED_LINE_ERROR);

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

/* ------------------------------------------------------------------------------ */
/* jsonl, IPv6 and domain keys */

static void test_jsonl(void **state)
{
	(void)state;
	want_key(P_JSONL_NAME, "{\"name\": \"Example.COM\"}", ADDR_FAMILY_NAME, "example.com",
		 false);
	want_key(P_JSONL_NAME, "{\"ip\": \"*.example.com\", \"reason\": \"r\"}", ADDR_FAMILY_NAME,
		 "*.example.com", false);
	assert_string_equal(rec.reason, "r");
	want_key(P_JSONL_NAME, "{\"name\": \"!.example.com\", \"code\": 3}", ADDR_FAMILY_NAME,
		 ".example.com", true);
	want_key(P_JSONL_NAME,
		 "{\"name\": \"spam.example\", \"code\": \"127.0.0.9\", \"txt\": \"see $\"}",
		 ADDR_FAMILY_NAME, "spam.example", false);
	assert_int_equal(rec.flags, STORE_F_A | STORE_F_TXT);
	assert_int_equal(rec.a, A4(127, 0, 0, 9));
	want_txt("see $");
	want_key(P_JSONL_NAME, "{\"name\": \"1.2.3.4\"}", ADDR_FAMILY_NAME, "1.2.3.4", false);
	static const char *const bad_names[] = {
		"{\"name\": \"a..b\"}", "{\"name\": \"1.2.3.0/24\"}", "{\"name\": \"\"}",
		"{\"name\": 5}", "{\"reason\": \"no key\"}", "{}", "{\"name\": \"a\\u0000b\"}",
		"{\"name\": \"exa mple.com\"}", "[\"example.com\"]", "{\"name\": \"x\"", NULL,
	};
	for (int i = 0; bad_names[i]; i++)
		expect(P_JSONL_NAME, bad_names[i], FEED_LINE_ERROR);

	want_key(P_JSONL_IP, "{\"ip\": \"2001:db8::1\"}", ADDR_FAMILY_V6, "2001:db8::1", false);
	want_key(P_JSONL_IP, "{\"name\": \"2001:db8::/48\", \"hits\": 2}", ADDR_FAMILY_V6,
		 "2001:db8::/48", false);
	assert_int_equal(rec.hits, 2);
	want_v4(P_JSONL_IP, "{\"ip\": \"::ffff:1.2.3.4\"}", A4(1, 2, 3, 4), A4(1, 2, 3, 4), false);
	expect(P_JSONL_IP, "{\"ip\": \"example.com\"}", FEED_LINE_ERROR);
	expect(P_JSONL_IP, "{\"ip\": \"2001:db8::1/64\"}", FEED_LINE_ERROR);
	expect(P_JSONL_NAME, "   ", FEED_LINE_SKIP);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
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
		cmocka_unit_test(test_jsonl),
	};
	return cmocka_run_group_tests(tests, setup, feedtest_teardown);
}
