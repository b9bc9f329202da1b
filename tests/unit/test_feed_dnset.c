/* Unit tests for loader/feed_rbldnsd.c on dnset lines (FEED_KEYS_NAME): domains,
 * wildcards, their values and errors. */
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

static void test_rbname_forms(void **state)
{
	(void)state;
	want_key(P_RBL, "example.com", ADDR_FAMILY_NAME, "example.com", false);
	assert_int_equal(rec.key.kind, DNAME_EXACT);
	assert_int_equal(rec.key.name_len, 12);
	assert_memory_equal(rec.key.name, "\x03" "com" "\x07" "example", 12);
	assert_int_equal(rec.flags, 0);
	want_key(P_RBL, "*.example.com", ADDR_FAMILY_NAME, "*.example.com", false);
	assert_int_equal(rec.key.kind, DNAME_SUBS);
	want_key(P_RBL, ".example.com", ADDR_FAMILY_NAME, ".example.com", false);
	assert_int_equal(rec.key.kind, DNAME_TREE);
	want_key(P_RBL, "!ok.example.com", ADDR_FAMILY_NAME, "ok.example.com", true);
	want_key(P_RBL, "!.ok.example.com", ADDR_FAMILY_NAME, ".ok.example.com", true);
	want_key(P_RBL, "Mail.Example.COM.", ADDR_FAMILY_NAME, "mail.example.com", false);
	want_key(P_RBL, "localhost", ADDR_FAMILY_NAME, "localhost", false);
	want_key(P_RBL, "_dmarc.example.com", ADDR_FAMILY_NAME, "_dmarc.example.com", false);
	/* an address is a name of digits */
	want_key(P_RBL, "1.2.3.4", ADDR_FAMILY_NAME, "1.2.3.4", false);
	/* blanks and comments */
	want_key(P_RBL, "\t example.org \t", ADDR_FAMILY_NAME, "example.org", false);
	want_key(P_RBL, "example.net # comment", ADDR_FAMILY_NAME, "example.net", false);
	assert_int_equal(rec.flags, 0);
	want_key(P_RBL, "example.net;comment", ADDR_FAMILY_NAME, "example.net", false);
	assert_int_equal(rec.flags, 0);
}

static void test_rbname_values(void **state)
{
	(void)state;
	want_key(P_RBL, "Example.COM :127.0.0.3:txt $", ADDR_FAMILY_NAME, "example.com", false);
	assert_int_equal(rec.flags, STORE_F_A | STORE_F_TXT);
	assert_int_equal(rec.a, A4(127, 0, 0, 3));
	want_txt("txt $");
	/* the value glued with ':' */
	want_key(P_RBL, "example.com:3:x", ADDR_FAMILY_NAME, "example.com", false);
	assert_int_equal(rec.flags, STORE_F_A | STORE_F_TXT);
	assert_int_equal(rec.a, A4(127, 0, 0, 3));
	want_txt("x");
	want_key(P_RBL, "*.example.com:4", ADDR_FAMILY_NAME, "*.example.com", false);
	assert_int_equal(rec.flags, STORE_F_A);
	assert_int_equal(rec.a, A4(127, 0, 0, 4));
	want_key(P_RBL, ".example.com:5:", ADDR_FAMILY_NAME, ".example.com", false);
	assert_int_equal(rec.flags, STORE_F_A | STORE_F_NOTXT);
	want_key(P_RBL, "example.com.\tSpam domain", ADDR_FAMILY_NAME, "example.com", false);
	assert_int_equal(rec.flags, STORE_F_TXT);
	want_txt("Spam domain");
	want_key(P_RBL, "!excluded.example.com :3:ignored", ADDR_FAMILY_NAME,
		 "excluded.example.com", true);

	/* a default line and entries that take it */
	expect(P_RBL, ":127.0.1.2:text", FEED_LINE_SKIP);
	want_key(P_RBL, "spam.example", ADDR_FAMILY_NAME, "spam.example", false);
	assert_int_equal(rec.flags, STORE_F_A | STORE_F_TXT);
	assert_int_equal(rec.a, A4(127, 0, 1, 2));
	want_txt("text");
	want_key(P_RBL, "own.example own text", ADDR_FAMILY_NAME, "own.example", false);
	assert_int_equal(rec.a, A4(127, 0, 1, 2));
	want_txt("own text");

	/* variables */
	expect(P_RBL, "$1 https://dbl.example/q?d=", FEED_LINE_SKIP);
	want_key(P_RBL, "var.example $1$", ADDR_FAMILY_NAME, "var.example", false);
	want_txt("https://dbl.example/q?d=$");
}

static void test_rbname_comments(void **state)
{
	(void)state;
	static const char *const skips[] = {"", "  ", "#", "# a comment", "; x", ";", "\t# x",
					    NULL};
	for (int i = 0; skips[i]; i++)
		expect(P_RBL, skips[i], FEED_LINE_SKIP);
	static const char *const notices[] = {"$TTL 300", "$SOA 3600 ns. hm. 0 1 2 3 4",
					      "$NS 3600 ns1.example.", NULL};
	for (int i = 0; notices[i]; i++)
		expect(P_RBL, notices[i], FEED_LINE_NOTICE);
	expect(P_RBL, "$BOGUS x", FEED_LINE_ERROR);
	want_key(P_RBL, "after.example", ADDR_FAMILY_NAME, "after.example", false);
	assert_int_equal(rec.flags, 0);
}

static void test_rbname_errors(void **state)
{
	(void)state;
	char longname[400];
	for (int i = 0; i < 300; i++)
		longname[i] = (i % 50 == 49) ? '.' : 'a';
	longname[300] = '\0';

	static const char *bad[] = {
		"exa..mple.com", "*.", "*", ".", "..", "a..b", "bad!name", "bad@name.com",
		"*.*.example.com", "a.*.example.com", "!", "!*.", "!a..b", "é.example",
		"2001:db8::1", "1.2.3.0/24", "a/b", "exa%mple.com", "*example.com", NULL, NULL,
	};
	bad[sizeof(bad) / sizeof(bad[0]) - 2] = longname;
	for (int i = 0; bad[i]; i++) {
		rbldnsd_state_init(&st, FEED_KEYS_NAME);
		expect(P_RBL, bad[i], FEED_LINE_ERROR);
	}
	/* a bad value after a good name */
	expect(P_RBL, "example.com :300:x", FEED_LINE_ERROR);
	expect(P_RBL, "example.com :8.8.8.8:x", FEED_LINE_ERROR);
}

/* "exa mple..com": a name, then its value after the blank (dnset: "name value").
 * "exa" is a valid one-label name, so this is the entry exa with the TXT
 * "mple..com", not a malformed name. */
static void test_rbname_blank_splits(void **state)
{
	(void)state;
	want_key(P_RBL, "exa mple..com", ADDR_FAMILY_NAME, "exa", false);
	assert_int_equal(rec.flags, STORE_F_TXT);
	want_txt("mple..com");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_rbname_forms, reset_name),
		cmocka_unit_test_setup(test_rbname_values, reset_name),
		cmocka_unit_test_setup(test_rbname_comments, reset_name),
		cmocka_unit_test_setup(test_rbname_errors, reset_name),
		cmocka_unit_test_setup(test_rbname_blank_splits, reset_name),
	};
	return cmocka_run_group_tests(tests, setup, feedtest_teardown);
}
