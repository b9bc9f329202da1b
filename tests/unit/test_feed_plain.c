/* Unit tests for loader/feed_plain.c: plain lists of IPv4 addresses and prefixes, of
 * IPv6 ones and of domains. */
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

static enum feed_line pl(const char *line)
{
	size_t n = strlen(line);
	memset(&rec, 0xa5, sizeof(rec));
	msg = NULL;
	return plain_parse_line(FEED_KEYS_IP, guard_put(&gb, line, n), n, &rec, &msg);
}

static void pl_range(const char *line, uint32_t lo, uint32_t hi, bool exclude)
{
	want_kind(line, pl(line), FEED_LINE_RECORD);
	if (rec.lo != lo || rec.hi != hi)
		fail_msg("plain \"%s\": range 0x%08x-0x%08x, want 0x%08x-0x%08x", line, rec.lo,
			 rec.hi, lo, hi);
	assert_int_equal(rec.exclude, exclude);
	assert_int_equal(rec.flags, 0);
}

static void test_plain(void **state)
{
	(void)state;
	pl_range("10.0.0.0/8", A4(10, 0, 0, 0), A4(10, 255, 255, 255), false);
	pl_range("172.16.0.0/12", A4(172, 16, 0, 0), A4(172, 31, 255, 255), false);
	pl_range("100.64.0.1", A4(100, 64, 0, 1), A4(100, 64, 0, 1), false);
	pl_range("1.2.3.4/32", A4(1, 2, 3, 4), A4(1, 2, 3, 4), false);
	pl_range("0.0.0.0/0", 0, 0xffffffffu, false);
	pl_range("!172.16.0.1", A4(172, 16, 0, 1), A4(172, 16, 0, 1), true);
	pl_range("!10.0.0.0/24", A4(10, 0, 0, 0), A4(10, 0, 0, 255), true);
	pl_range("  192.0.2.1  ", A4(192, 0, 2, 1), A4(192, 0, 2, 1), false);
	pl_range("\t192.0.2.0/24\t", A4(192, 0, 2, 0), A4(192, 0, 2, 255), false);

	static const char *const skips[] = {"", "   ", "\t", "# comment", "; comment",
					    "#", "  # indented", NULL};
	for (int i = 0; skips[i]; i++)
		want_kind(skips[i], pl(skips[i]), FEED_LINE_SKIP);

	static const char *const bad[] = {
		"garbage",   "256.0.0.1", "1.2.3.4/33", "10.1.2.3/8", "1.2.3.4/",
		"1.2.3.4 x", "!",         "!!1.2.3.4",  "1.2.3",      "01.2.3.4",
		"1.2.3.4.5", "-",         "1.2.3.4-1.2.3.5", NULL,
	};
	for (int i = 0; bad[i]; i++)
		want_kind(bad[i], pl(bad[i]), FEED_LINE_ERROR);

	/* length-bounded */
	char buf[32];
	memcpy(buf, "10.0.0.0/8 junk", 16);
	assert_int_equal(plain_parse_line(FEED_KEYS_IP, buf, 10, &rec, &msg), FEED_LINE_RECORD);
	assert_int_equal(rec.lo, A4(10, 0, 0, 0));
	assert_int_equal(rec.hi, A4(10, 255, 255, 255));
	memcpy(buf, "1.2.3.45", 9);
	assert_int_equal(plain_parse_line(FEED_KEYS_IP, buf, 7, &rec, &msg), FEED_LINE_RECORD);
	assert_int_equal(rec.lo, A4(1, 2, 3, 4));
}

/* ------------------------------------------------------------------------------ */
/* plain, IPv6 and domain keys */

static void test_plain_names(void **state)
{
	(void)state;
	want_key(P_PLAIN_NAME, "example.com", ADDR_FAMILY_NAME, "example.com", false);
	assert_int_equal(rec.flags, 0);
	want_key(P_PLAIN_NAME, "*.Example.com.", ADDR_FAMILY_NAME, "*.example.com", false);
	want_key(P_PLAIN_NAME, ".example.com", ADDR_FAMILY_NAME, ".example.com", false);
	want_key(P_PLAIN_NAME, "!ok.example.com", ADDR_FAMILY_NAME, "ok.example.com", true);
	want_key(P_PLAIN_NAME, "  example.org  # comment", ADDR_FAMILY_NAME, "example.org", false);
	want_key(P_PLAIN_NAME, "example.org;comment", ADDR_FAMILY_NAME, "example.org", false);
	/* an address is a name only if it is a valid one */
	want_key(P_PLAIN_NAME, "1.2.3.4", ADDR_FAMILY_NAME, "1.2.3.4", false);
	assert_int_equal(dname_labels(rec.key.name, rec.key.name_len), 4);
	static const char *const bad[] = {
		"1.2.3.0/24", "2001:db8::1", "a..b", "*.", "example.com extra", "bad!name",
		"!", "!!example.com", "*.*.a", NULL,
	};
	for (int i = 0; bad[i]; i++)
		expect(P_PLAIN_NAME, bad[i], FEED_LINE_ERROR);
	static const char *const skips[] = {"", "  ", "# x", "; y", NULL};
	for (int i = 0; skips[i]; i++)
		expect(P_PLAIN_NAME, skips[i], FEED_LINE_SKIP);
}

static void test_plain_ips(void **state)
{
	(void)state;
	want_key(P_PLAIN_IP, "2001:db8::/32", ADDR_FAMILY_V6, "2001:db8::/32", false);
	want_key(P_PLAIN_IP, "2001:DB8::1", ADDR_FAMILY_V6, "2001:db8::1", false);
	want_key(P_PLAIN_IP, "!2001:db8::2", ADDR_FAMILY_V6, "2001:db8::2", true);
	want_key(P_PLAIN_IP, "2001:db8::3 # comment", ADDR_FAMILY_V6, "2001:db8::3", false);
	want_key(P_PLAIN_IP, "\t2001:db8::4;c", ADDR_FAMILY_V6, "2001:db8::4", false);
	want_v4(P_PLAIN_IP, "::ffff:1.2.3.4", A4(1, 2, 3, 4), A4(1, 2, 3, 4), false);
	want_v4(P_PLAIN_IP, "192.0.2.0/24", A4(192, 0, 2, 0), A4(192, 0, 2, 255), false);
	static const char *const bad[] = {
		"2001:db8::1/64", "2001:db8::1/129", "2001:zz::1", "fe80::1::2",
		"2001:db8::1 x", "example.com", "2001:db8", "2001:db8::1-2001:db8::9", NULL,
	};
	for (int i = 0; bad[i]; i++)
		expect(P_PLAIN_IP, bad[i], FEED_LINE_ERROR);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_plain, reset_ip),
		cmocka_unit_test_setup(test_plain_names, reset_name),
		cmocka_unit_test_setup(test_plain_ips, reset_ip),
	};
	return cmocka_run_group_tests(tests, setup, feedtest_teardown);
}
