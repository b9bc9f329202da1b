/* Unit tests for loader/feed.c (the feed.h functions of no one format) and for every
 * parser together: prefixes of valid lines and random lines, with IP and domain keys.
 * Each format's own tests are in test_feed_<format>.c. */
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
#include "timeutil.h"

static int setup(void **state)
{
	(void)state;
	return guard_init(&gb, 16384);
}

/* ------------------------------------------------------------------------------ */
/* feed.c */

static void test_format_parse(void **state)
{
	(void)state;
	static const struct {
		const char *name;
		enum feed_format format;
	} ok[] = {
		{ "plain", FEED_FORMAT_PLAIN },
		{ "rbldnsd", FEED_FORMAT_RBLDNSD },
		{ "csv", FEED_FORMAT_CSV },
		{ "jsonl", FEED_FORMAT_JSONL },
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		enum feed_format f = (enum feed_format)-1;
		assert_int_equal(feed_format_parse(ok[i].name, &f), 0);
		assert_int_equal(f, ok[i].format);
	}
	static const char *const bad[] = { "", "CSV", "json", "plain ", "rbldnsd6", "gzip", NULL };
	for (int i = 0; bad[i]; i++) {
		enum feed_format f;
		if (feed_format_parse(bad[i], &f) != DNSBL_EINVAL)
			fail_msg("feed_format_parse(\"%s\"): not DNSBL_EINVAL", bad[i]);
	}
}

/* feed_time_parse and feed_duration_parse are lib/timeutil.c's parsers (tested in
 * test_timeutil.c), the duration with a maximum of 2^32-1 seconds. */
static void test_time_duration_are_timeutil(void **state)
{
	(void)state;
	static const char *const texts[] = {
		"0", "1732350000", "4294967295", "4294967296", "2026-11-23T10:00:00Z",
		"2026-11-23 10:00:00.5+01:00", "1969-12-31T23:59:59Z", "2106-02-07T06:28:16Z",
		"3600", "90m", "2h", "7d", "1w", "7101w", "7102w", "", "-1", "1x", " 5", NULL,
	};
	for (int i = 0; texts[i]; i++) {
		size_t n = strlen(texts[i]);
		const char *g = guard_put(&gb, texts[i], n);
		uint32_t a = 0xdeadbeefu, b = 0xdeadbeefu;
		assert_int_equal(feed_time_parse(g, n, &a), time_parse(g, n, &b));
		assert_int_equal(a, b);
		a = b = 0xdeadbeefu;
		assert_int_equal(feed_duration_parse(g, n, &a), duration_parse(g, n, UINT32_MAX, &b));
		assert_int_equal(a, b);
	}
}

static void test_source_valid(void **state)
{
	(void)state;
	char name[FEED_SOURCE_MAX + 2];
	static const char *const ok[] = { "default", "a", "trap-1", "x.y_z-1+2@3", "Z9", NULL };
	for (int i = 0; ok[i]; i++)
		assert_true(feed_source_valid(ok[i], strlen(ok[i])));
	static const char *const bad[] = { "", "operator:alice", "a b", "a/b", "é", "a\tb", NULL };
	for (int i = 0; bad[i]; i++)
		if (feed_source_valid(bad[i], strlen(bad[i])))
			fail_msg("feed_source_valid(\"%s\") is true", bad[i]);
	memset(name, 'n', sizeof(name));
	assert_true(feed_source_valid(name, FEED_SOURCE_MAX));
	assert_false(feed_source_valid(name, FEED_SOURCE_MAX + 1));
	/* exactly len bytes: what follows does not count */
	assert_true(feed_source_valid("ok:x", 2));
}

/* ------------------------------------------------------------------------------ */
/* robustness */

static void check_any(enum parser p, const char *line, size_t n, enum feed_line k)
{
	(void)line;
	(void)n;
	assert_true(k == FEED_LINE_RECORD || k == FEED_LINE_SKIP || k == FEED_LINE_NOTICE ||
		    k == FEED_LINE_ERROR);
	if (k == FEED_LINE_ERROR || k == FEED_LINE_NOTICE)
		assert_true(msg != NULL && msg[0] != '\0');
	if (k != FEED_LINE_RECORD)
		return;
	assert_true(rec.txt_len <= STORE_TXT_MAX);
	if (rec.family == ADDR_FAMILY_V4) {
		assert_true(rec.lo <= rec.hi);
	} else if (rec.family == ADDR_FAMILY_V6) {
		assert_int_equal(rec.key.family, ADDR_FAMILY_V6);
		assert_true(rec.key.len <= 128);
	} else {
		assert_int_equal(rec.family, ADDR_FAMILY_NAME);
		assert_true(p != P_PLAIN_IP && p != P_JSONL_IP);
		assert_ptr_equal(rec.key.name, rec.name_buf);
		assert_true(rec.key.name_len > 0 && rec.key.name_len <= DNAME_KEY_MAX);
		assert_true(rec.key.kind >= DNAME_EXACT && rec.key.kind <= DNAME_TREE);
	}
}

/* Every prefix (length 0..n) of valid lines: nothing reads past the length. */
static void test_prefixes(void **state)
{
	(void)state;
	static const struct {
		enum parser p;
		int keys; /* FEED_KEYS_* for the states */
		const char *line;
	} lines[] = {
		{P_RBL, FEED_KEYS_IP, "2001:21ab:def7:4242 :127.0.1.3: This one smells funny"},
		{P_RBL, FEED_KEYS_IP, "!2605:6001:42::bead"},
		{P_RBL, FEED_KEYS_IP, "2001:21ab:c000/36"},
		{P_RBL, FEED_KEYS_IP, "!::ffff:192.0.2.1/128 # mapped"},
		{P_RBL, FEED_KEYS_IP, "1.2.3.4:127.0.0.3:x"},
		{P_RBL, FEED_KEYS_NAME, "*.Example.COM :127.0.0.3:txt $"},
		{P_RBL, FEED_KEYS_NAME, "!.ok.example.com ; comment"},
		{P_RBL, FEED_KEYS_NAME, "example.com:3:x"},
		{P_RBL, FEED_KEYS_NAME, ":127.0.1.2:text"},
		{P_PLAIN_IP, FEED_KEYS_IP, "!2001:db8::/32 # comment"},
		{P_PLAIN_NAME, FEED_KEYS_NAME, "!*.example.com # comment"},
		{P_JSONL_NAME, FEED_KEYS_NAME, "{\"name\": \"*.example.com\", \"code\": 3}"},
		{P_JSONL_IP, FEED_KEYS_IP, "{\"ip\": \"2001:db8::1\", \"reason\": \"x\"}"},
	};
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		size_t len = strlen(lines[i].line);
		for (size_t n = 0; n <= len; n++) {
			rbldnsd_state_init(&st, (enum feed_keys)lines[i].keys);
			enum feed_line k = run(lines[i].p, lines[i].line, n);
			check_any(lines[i].p, lines[i].line, n, k);
		}
		/* the whole line is a record (or a default line) */
		rbldnsd_state_init(&st, (enum feed_keys)lines[i].keys);
		enum feed_line k = run(lines[i].p, lines[i].line, len);
		if (k != FEED_LINE_RECORD && k != FEED_LINE_SKIP)
			fail_msg("\"%s\": %s (%s)", lines[i].line, kind_name(k), msg ? msg : "-");
	}
	/* csv: the header, then every prefix of a row */
	static const char *const rows[] = {"!*.example.com,\"spam, \"\"really\"\"\",3",
					   "2001:db8::/32,r,4"};
	for (int keys = 0; keys < 2; keys++) {
		size_t len = strlen(rows[keys]);
		for (size_t n = 0; n <= len; n++) {
			csv_state_init(&cst, keys ? FEED_KEYS_IP : FEED_KEYS_NAME);
			expect(P_CSV, keys ? "ip,reason,code" : "name,reason,code", FEED_LINE_SKIP);
			enum feed_line k = run(P_CSV, rows[keys], n);
			check_any(keys ? P_PLAIN_IP : P_PLAIN_NAME, rows[keys], n, k);
		}
	}
}

/* Random lines from an alphabet of names and addresses never crash any parser. */
static void test_random(void **state)
{
	(void)state;
	static const char alphabet[] = "0123456789abcdefABCDEF.:/-*!$#; \t_xyz=%@\"{},";
	char line[128];
	srandom(8086);
	for (int iter = 0; iter < 100000; iter++) {
		size_t n = (size_t)(random() % 48);
		for (size_t i = 0; i < n; i++)
			line[i] = (iter % 3) ? alphabet[random() % (sizeof(alphabet) - 1)]
					     : (char)(random() & 0xff);
		if (iter % 101 == 0) {
			rbldnsd_state_init(&st, (iter / 101) % 2 ? FEED_KEYS_NAME : FEED_KEYS_IP);
			csv_state_init(&cst, (iter / 101) % 2 ? FEED_KEYS_NAME : FEED_KEYS_IP);
		}
		enum parser ps[] = {P_RBL, P_PLAIN_IP, P_PLAIN_NAME, P_CSV};
		for (size_t j = 0; j < sizeof(ps) / sizeof(ps[0]); j++) {
			enum feed_line k = run(ps[j], line, n);
			enum parser as = ps[j];
			if (ps[j] == P_RBL || ps[j] == P_CSV)
				as = st.keys == FEED_KEYS_NAME ? P_PLAIN_NAME : P_PLAIN_IP;
			if (ps[j] == P_CSV)
				as = cst.keys == FEED_KEYS_NAME ? P_PLAIN_NAME : P_PLAIN_IP;
			check_any(as, line, n, k);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_parse),
		cmocka_unit_test(test_time_duration_are_timeutil),
		cmocka_unit_test(test_source_valid),
		cmocka_unit_test_setup(test_prefixes, reset_ip),
		cmocka_unit_test_setup(test_random, reset_ip),
	};
	return cmocka_run_group_tests(tests, setup, feedtest_teardown);
}
