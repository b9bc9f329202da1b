/* Unit tests for loader/feed_rbldnsd.c (and the key forms of feed_key.c it reads):
 * ip4set/ip4trie lines, then ip6trie/ip6tset lines (FEED_KEYS_IP). dnset lines are in
 * test_feed_dnset.c. */
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

static enum feed_line rb(const char *line)
{
	size_t n = strlen(line);
	memset(&rec, 0xa5, sizeof(rec));
	msg = NULL;
	return rbldnsd_parse_line(&st, guard_put(&gb, line, n), n, &rec, &msg);
}

/* Parses an rbldnsd line expecting a record [lo, hi]. */
static void rb_range(const char *line, uint32_t lo, uint32_t hi)
{
	want_kind(line, rb(line), FEED_LINE_RECORD);
	if (rec.lo != lo || rec.hi != hi)
		fail_msg("line \"%s\": range 0x%08x-0x%08x, want 0x%08x-0x%08x", line, rec.lo,
			 rec.hi, lo, hi);
	assert_false(rec.exclude);
}

static void rb_error(const char *line)
{
	want_kind(line, rb(line), FEED_LINE_ERROR);
}

static void rb_skip(const char *line)
{
	want_kind(line, rb(line), FEED_LINE_SKIP);
}

/* --- address forms --- */

static void test_rb_forms_slash24(void **state)
{
	(void)state;
	const uint32_t lo = A4(127, 0, 0, 0), hi = A4(127, 0, 0, 255);
	rb_range("127.0.0.0/24", lo, hi);
	rb_range("127.0.0", lo, hi);
	rb_range("127/24", lo, hi);
	rb_range("127-127.0.0", lo, hi);
	rb_range("127.0.0.0-127.0.0.255", lo, hi);
	/* the man page lists this one too, but it starts at .1 */
	rb_range("127.0.0.1-255", A4(127, 0, 0, 1), hi);
}

static void test_rb_forms_slash12(void **state)
{
	(void)state;
	const uint32_t lo = A4(127, 16, 0, 0), hi = A4(127, 31, 255, 255);
	rb_range("127.16.0.0-127.31.255.255", lo, hi);
	rb_range("127.16.0-127.31.255", lo, hi);
	rb_range("127.16-127.31", lo, hi);
	rb_range("127.16-31", lo, hi);
	rb_range("127.16.0.0/12", lo, hi);
	rb_range("127.16.0/12", lo, hi);
	rb_range("127.16/12", lo, hi);
}

static void test_rb_forms_other(void **state)
{
	(void)state;
	rb_range("192.0.2.1", A4(192, 0, 2, 1), A4(192, 0, 2, 1));
	rb_range("0.0.0.0", 0, 0);
	rb_range("255.255.255.255", 0xffffffffu, 0xffffffffu);
	rb_range("127", A4(127, 0, 0, 0), A4(127, 255, 255, 255));
	rb_range("127.0", A4(127, 0, 0, 0), A4(127, 0, 255, 255));
	rb_range("10.0.0.0/8", A4(10, 0, 0, 0), A4(10, 255, 255, 255));
	rb_range("0.0.0.0/0", 0, 0xffffffffu);
	rb_range("198.51.100.6/31", A4(198, 51, 100, 6), A4(198, 51, 100, 7));
	rb_range("1.2.3.4/32", A4(1, 2, 3, 4), A4(1, 2, 3, 4));
	/* a single-octet suffix replaces the last given octet of the first bound */
	rb_range("127.16.0-31", A4(127, 16, 0, 0), A4(127, 16, 31, 255));
	rb_range("10.0.0.5-9", A4(10, 0, 0, 5), A4(10, 0, 0, 9));
	rb_range("198.18.0.0-198.18.0.15", A4(198, 18, 0, 0), A4(198, 18, 0, 15));
	/* a range that is no CIDR block */
	rb_range("10.0.0.1-10.0.0.9", A4(10, 0, 0, 1), A4(10, 0, 0, 9));
	rb_range("1.2.3.4-1.2.3.4", A4(1, 2, 3, 4), A4(1, 2, 3, 4));
	rb_range("0-255", 0, 0xffffffffu);
	/* blanks around the entry */
	rb_range("  192.0.2.9", A4(192, 0, 2, 9), A4(192, 0, 2, 9));
	rb_range("\t192.0.2.9 \t", A4(192, 0, 2, 9), A4(192, 0, 2, 9));
	assert_int_equal(rec.flags, 0);
}

/* --- values --- */

static void test_rb_values_no_default(void **state)
{
	(void)state;
	/* no default line seen: the zone's defaults apply, so no flags */
	rb_range("192.0.2.1", A4(192, 0, 2, 1), A4(192, 0, 2, 1));
	assert_int_equal(rec.flags, 0);

	rb_range("192.0.2.2 :127.0.0.3:Open relay at $", A4(192, 0, 2, 2), A4(192, 0, 2, 2));
	assert_int_equal(rec.flags, STORE_F_A | STORE_F_TXT);
	assert_int_equal(rec.a, A4(127, 0, 0, 3));
	want_txt("Open relay at $");

	rb_range("192.0.2.3 :4", A4(192, 0, 2, 3), A4(192, 0, 2, 3));
	assert_int_equal(rec.flags, STORE_F_A);
	assert_int_equal(rec.a, A4(127, 0, 0, 4));

	rb_range("192.0.2.4 :5:", A4(192, 0, 2, 4), A4(192, 0, 2, 4));
	assert_int_equal(rec.flags, STORE_F_A | STORE_F_NOTXT);
	assert_int_equal(rec.a, A4(127, 0, 0, 5));

	rb_range("192.0.2.5 Listed by the trap", A4(192, 0, 2, 5), A4(192, 0, 2, 5));
	assert_int_equal(rec.flags, STORE_F_TXT);
	want_txt("Listed by the trap");

	/* A as a full address, TXT with colons in it */
	rb_range("192.0.2.6 :127.20.30.40:see http://x.example:8080/$",
		 A4(192, 0, 2, 6), A4(192, 0, 2, 6));
	assert_int_equal(rec.flags, STORE_F_A | STORE_F_TXT);
	assert_int_equal(rec.a, A4(127, 20, 30, 40));
	want_txt("see http://x.example:8080/$");

	/* trailing blanks are not part of the TXT */
	rb_range("192.0.2.7 :3:some text \t ", A4(192, 0, 2, 7), A4(192, 0, 2, 7));
	want_txt("some text");
	rb_range("192.0.2.8   spaced text  ", A4(192, 0, 2, 8), A4(192, 0, 2, 8));
	want_txt("spaced text");

	/* value after a range and a CIDR, separated by a tab */
	rb_range("10.0.0.0/8\t:127.0.0.9:ten", A4(10, 0, 0, 0), A4(10, 255, 255, 255));
	assert_int_equal(rec.a, A4(127, 0, 0, 9));
	want_txt("ten");
	rb_range("10.0.0.1-10.0.0.9 :3:nine", A4(10, 0, 0, 1), A4(10, 0, 0, 9));
	assert_int_equal(rec.a, A4(127, 0, 0, 3));
	want_txt("nine");
}

static void test_rb_default_line(void **state)
{
	(void)state;
	rb_skip(":127.0.0.2:Listed $");
	assert_true(st.has_default);

	rb_range("192.0.2.1", A4(192, 0, 2, 1), A4(192, 0, 2, 1));
	assert_true(rec.flags & STORE_F_A);
	assert_int_equal(rec.a, A4(127, 0, 0, 2));
	want_txt("Listed $");
	assert_false(rec.flags & STORE_F_NOTXT);

	/* ":4" keeps the default TXT */
	rb_range("192.0.2.3 :4", A4(192, 0, 2, 3), A4(192, 0, 2, 3));
	assert_int_equal(rec.flags, STORE_F_A | STORE_F_TXT);
	assert_int_equal(rec.a, A4(127, 0, 0, 4));
	want_txt("Listed $");

	/* ":5:" has no TXT at all */
	rb_range("192.0.2.4 :5:", A4(192, 0, 2, 4), A4(192, 0, 2, 4));
	assert_int_equal(rec.flags, STORE_F_A | STORE_F_NOTXT);
	assert_int_equal(rec.a, A4(127, 0, 0, 5));

	/* "text" takes the default A */
	rb_range("192.0.2.5 own text", A4(192, 0, 2, 5), A4(192, 0, 2, 5));
	assert_int_equal(rec.flags, STORE_F_A | STORE_F_TXT);
	assert_int_equal(rec.a, A4(127, 0, 0, 2));
	want_txt("own text");

	/* a comment after the entry: the default value applies */
	rb_range("127/8 ; loopback", A4(127, 0, 0, 0), A4(127, 255, 255, 255));
	assert_int_equal(rec.a, A4(127, 0, 0, 2));
	want_txt("Listed $");
	rb_range("127/8 # loopback", A4(127, 0, 0, 0), A4(127, 255, 255, 255));
	want_txt("Listed $");

	/* a second default line replaces the first, for the lines after it */
	rb_skip(":3:Other $ reason");
	rb_range("192.0.2.7", A4(192, 0, 2, 7), A4(192, 0, 2, 7));
	assert_int_equal(rec.flags, STORE_F_A | STORE_F_TXT);
	assert_int_equal(rec.a, A4(127, 0, 0, 3));
	want_txt("Other $ reason");

	/* a default without TXT: entries answer no TXT */
	rb_skip(":127.0.0.8:");
	rb_range("192.0.2.8", A4(192, 0, 2, 8), A4(192, 0, 2, 8));
	assert_true(rec.flags & STORE_F_A);
	assert_int_equal(rec.a, A4(127, 0, 0, 8));
	assert_true(rec.flags & STORE_F_NOTXT);
	assert_false(rec.flags & STORE_F_TXT);

	/* a new file starts without the default */
	rbldnsd_state_init(&st, FEED_KEYS_IP);
	rb_range("192.0.2.9", A4(192, 0, 2, 9), A4(192, 0, 2, 9));
	assert_int_equal(rec.flags, 0);
}

static void test_rb_comments_blank(void **state)
{
	(void)state;
	rb_skip("");
	rb_skip("   ");
	rb_skip("\t");
	rb_skip("# a comment");
	rb_skip("; a comment");
	rb_skip("#");
	rb_skip(";");
	rb_skip("   # indented comment");
	rb_range("127/8 ; loopback", A4(127, 0, 0, 0), A4(127, 255, 255, 255));
	assert_int_equal(rec.flags, 0);
}

static void test_rb_exclusion(void **state)
{
	(void)state;
	want_kind("!198.51.100.7", rb("!198.51.100.7"), FEED_LINE_RECORD);
	assert_true(rec.exclude);
	assert_int_equal(rec.lo, A4(198, 51, 100, 7));
	assert_int_equal(rec.hi, A4(198, 51, 100, 7));

	want_kind("!10.0.0.0/24", rb("!10.0.0.0/24"), FEED_LINE_RECORD);
	assert_true(rec.exclude);
	assert_int_equal(rec.lo, A4(10, 0, 0, 0));
	assert_int_equal(rec.hi, A4(10, 0, 0, 255));

	want_kind("!10.0.1.0-10.0.1.9", rb("!10.0.1.0-10.0.1.9"), FEED_LINE_RECORD);
	assert_true(rec.exclude);
	assert_int_equal(rec.lo, A4(10, 0, 1, 0));
	assert_int_equal(rec.hi, A4(10, 0, 1, 9));

	want_kind("!127.0.1", rb("!127.0.1"), FEED_LINE_RECORD);
	assert_true(rec.exclude);
	assert_int_equal(rec.lo, A4(127, 0, 1, 0));
	assert_int_equal(rec.hi, A4(127, 0, 1, 255));

	/* a value after an exclusion is ignored, the entry stays an exclusion */
	want_kind("!10.0.2.1 :3:text", rb("!10.0.2.1 :3:text"), FEED_LINE_RECORD);
	assert_true(rec.exclude);
	assert_int_equal(rec.lo, A4(10, 0, 2, 1));
	assert_int_equal(rec.hi, A4(10, 0, 2, 1));

	/* the entry after an exclusion is not excluded */
	rb_range("10.0.0.1", A4(10, 0, 0, 1), A4(10, 0, 0, 1));
	rb_error("!");
	rb_error("!garbage");
}

static void test_rb_specials(void **state)
{
	(void)state;
	static const char *const notices[] = {
		"$SOA 3600 ns1.bl.example. hostmaster.bl.example. 0 3600 600 86400 120",
		"$NS 3600 ns1.bl.example.",
		"$TTL 300",
		NULL,
	};
	for (int i = 0; notices[i]; i++)
		want_kind(notices[i], rb(notices[i]), FEED_LINE_NOTICE);
	/* they change nothing */
	rb_range("192.0.2.1", A4(192, 0, 2, 1), A4(192, 0, 2, 1));
	assert_int_equal(rec.flags, 0);
}

static void test_rb_variables(void **state)
{
	(void)state;
	rb_skip("$1 See http://www.example.com/bl");
	rb_skip("$2 for details");
	rb_range("127.0.0.2  $1/spammer/$ $2", A4(127, 0, 0, 2), A4(127, 0, 0, 2));
	want_txt("See http://www.example.com/bl/spammer/$ for details");
	rb_range("127.0.0.3  $1/relay/$ $2", A4(127, 0, 0, 3), A4(127, 0, 0, 3));
	want_txt("See http://www.example.com/bl/relay/$ for details");

	/* in a value with its own A */
	rb_range("127.0.0.4 :7:$2 ($1)", A4(127, 0, 0, 4), A4(127, 0, 0, 4));
	assert_int_equal(rec.a, A4(127, 0, 0, 7));
	want_txt("for details (See http://www.example.com/bl)");

	/* "$$" stays as it is, for the responder */
	rb_range("127.0.0.5 costs $$5 at $", A4(127, 0, 0, 5), A4(127, 0, 0, 5));
	want_txt("costs $$5 at $");
	rb_range("127.0.0.6 $$1 is not $1", A4(127, 0, 0, 6), A4(127, 0, 0, 6));
	want_txt("$$1 is not See http://www.example.com/bl");

	/* variables in the default line */
	rb_skip(":2:$1/default/$");
	rb_range("127.0.0.7", A4(127, 0, 0, 7), A4(127, 0, 0, 7));
	want_txt("See http://www.example.com/bl/default/$");

	/* $0 and $9 work too */
	rb_skip("$0 zero");
	rb_skip("$9 nine");
	rb_range("127.0.0.8 $0-$9", A4(127, 0, 0, 8), A4(127, 0, 0, 8));
	want_txt("zero-nine");
}

static void test_rb_base_template(void **state)
{
	(void)state;
	rb_skip("$= Listed: $= (see https://bl.example/$)");
	assert_true(st.has_base);
	rb_range("192.0.2.1 :2:open relay", A4(192, 0, 2, 1), A4(192, 0, 2, 1));
	assert_int_equal(rec.a, A4(127, 0, 0, 2));
	want_txt("Listed: open relay (see https://bl.example/$)");
	rb_range("192.0.2.2 spam trap", A4(192, 0, 2, 2), A4(192, 0, 2, 2));
	want_txt("Listed: spam trap (see https://bl.example/$)");
}

/* --- malformed lines --- */

static void test_rb_errors(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"256.1.2.3",
		"1.2.3.256",
		"1.2.3.4/33",
		"1.2.3.4/",
		"garbage",
		"hello world",
		"10.1.2.3/8",       /* host bits set */
		"10.0.0.9-10.0.0.1", /* lo > hi */
		"10.0.0.9-1",       /* lo > hi, suffix form */
		"127.16-300",
		"1.2.3.4-",
		"-1.2.3.4",
		"1.2.3.4-1.2.3.256",
		"1.2.3.4.5",
		"01.2.3.4",
		"1..2.3",
		"1.2.3.4 :300:x",
		"1.2.3.4 :1.2.3:x",
		"1.2.3.4 :abc:x",
		":300:x",
		"1.2.3.4/24/",
		"1.2.3.4x",
		"2001:db8::1/129",
		"2001:zz::1",
		"fe80::1::2",
		"2001:db8::1-2001:db8::9",
		NULL,
	};
	for (int i = 0; bad[i]; i++) {
		rbldnsd_state_init(&st, FEED_KEYS_IP);
		rb_error(bad[i]);
	}

	/* a bad default line leaves the previous default in place */
	rbldnsd_state_init(&st, FEED_KEYS_IP);
	rb_skip(":127.0.0.2:good");
	rb_error(":300:bad");
	rb_range("1.2.3.4", A4(1, 2, 3, 4), A4(1, 2, 3, 4));
	assert_int_equal(rec.a, A4(127, 0, 0, 2));
	want_txt("good");
}

/* An empty A value (":" right after the leading colon) is none of the value
 * forms ":A:TXT", ":A", ":A:" (rbldnsd rejects it as an invalid A RR). A line
 * starting "::" is an IPv6 address ("::1", "::ffff:1.2.3.4" the IPv4 one) or an
 * error, never a new default TXT for every later entry. */
static void test_rb_empty_a(void **state)
{
	(void)state;
	rb_skip(":127.0.0.2:good default");
	static const char *const lines[] = {"::ffff:1.2.3.4", "::1", "::text", ":::1", NULL};
	static const enum feed_line want[] = {FEED_LINE_RECORD, FEED_LINE_RECORD,
					      FEED_LINE_ERROR, FEED_LINE_ERROR};
	for (int i = 0; lines[i]; i++) {
		enum feed_line k = rb(lines[i]);
		want_kind(lines[i], k, want[i]);
		if (i == 0)
			assert_int_equal(rec.family, ADDR_FAMILY_V4);
		if (i == 1)
			assert_int_equal(rec.family, ADDR_FAMILY_V6);
		const char *const *bad = lines;
		rb_range("1.2.3.4", A4(1, 2, 3, 4), A4(1, 2, 3, 4));
		if (rec.txt_len != 12 || memcmp(rec.txt, "good default", 12) != 0)
			fail_msg("after \"%s\" (%s) the default TXT became \"%.*s\"", bad[i],
				 kind_name(k), (int)rec.txt_len, rec.txt);
	}
	rb_error("1.2.3.4 ::text");
}

/* rbldnsd skips blanks after the colon that ends the A value, so
 * ":127.0.0.2: Listed" has the TXT "Listed" (rbldnsd_util.c parse_a_txt). */
static void test_rb_blank_after_colon(void **state)
{
	(void)state;
	rb_range("1.2.3.4 :127.0.0.3: Listed here", A4(1, 2, 3, 4), A4(1, 2, 3, 4));
	assert_int_equal(rec.a, A4(127, 0, 0, 3));
	want_txt("Listed here");
	rb_skip(":2:\tDefault text");
	rb_range("1.2.3.5", A4(1, 2, 3, 5), A4(1, 2, 3, 5));
	want_txt("Default text");
}

static void test_rb_txt_length(void **state)
{
	(void)state;
	static char line[STORE_TXT_MAX + 64];

	/* exactly STORE_TXT_MAX bytes of TXT */
	int n = snprintf(line, sizeof(line), "1.2.3.4 :2:");
	memset(line + n, 'x', STORE_TXT_MAX);
	line[n + STORE_TXT_MAX] = 0;
	rb_range(line, A4(1, 2, 3, 4), A4(1, 2, 3, 4));
	assert_int_equal(rec.txt_len, STORE_TXT_MAX);
	assert_int_equal(rec.txt[0], 'x');
	assert_int_equal(rec.txt[STORE_TXT_MAX - 1], 'x');

	/* one more is an error */
	line[n + STORE_TXT_MAX] = 'x';
	line[n + STORE_TXT_MAX + 1] = 0;
	rb_error(line);

	/* the same for a TXT-only value and a default line */
	memset(line, 'y', STORE_TXT_MAX + 1);
	memcpy(line, "1.2.3.4 ", 8);
	line[8 + STORE_TXT_MAX + 1] = 0;
	rb_error(line);
	line[0] = ':';
	line[1] = '2';
	line[2] = ':';
	memset(line + 3, 'z', STORE_TXT_MAX + 1);
	line[3 + STORE_TXT_MAX + 1] = 0;
	rb_error(line);

	/* expansion of variables past STORE_TXT_MAX is an error too, not an overflow */
	char var[260] = "$1 ";
	memset(var + 3, 'v', 250);
	var[253] = 0;
	rb_skip(var);
	n = snprintf(line, sizeof(line), "1.2.3.5 ");
	for (int i = 0; i < 6; i++)
		n += snprintf(line + n, sizeof(line) - (size_t)n, "$1");
	enum feed_line k = rb(line);
	if (k == FEED_LINE_RECORD)
		assert_true(rec.txt_len <= STORE_TXT_MAX);
	else
		want_kind(line, k, FEED_LINE_ERROR);
}

/* A line that is not NUL-terminated: only len bytes count. */
static void test_rb_length_bounded(void **state)
{
	(void)state;
	char buf[64];
	memcpy(buf, "10.0.0.1 :3:text", 17);
	/* only "10.0.0.1" */
	assert_int_equal(rbldnsd_parse_line(&st, buf, 8, &rec, &msg), FEED_LINE_RECORD);
	assert_int_equal(rec.lo, A4(10, 0, 0, 1));
	assert_int_equal(rec.hi, A4(10, 0, 0, 1));
	assert_int_equal(rec.flags, 0);
	/* "10.0.0.1 :3:te" */
	assert_int_equal(rbldnsd_parse_line(&st, buf, 14, &rec, &msg), FEED_LINE_RECORD);
	assert_int_equal(rec.a, A4(127, 0, 0, 3));
	assert_int_equal(rec.txt_len, 2);
	assert_memory_equal(rec.txt, "te", 2);
	/* "10.0.0" is a /24 */
	assert_int_equal(rbldnsd_parse_line(&st, buf, 6, &rec, &msg), FEED_LINE_RECORD);
	assert_int_equal(rec.lo, A4(10, 0, 0, 0));
	assert_int_equal(rec.hi, A4(10, 0, 0, 255));

	/* every prefix of a valid line parses without reading past the end */
	static const char *const lines[] = {
		"127.16.0.0-127.31.255.255 :127.0.0.3:Open relay $1 at $",
		"!198.51.100.0/24 ; comment",
		":127.0.0.2:Listed $",
		"$1 variable",
		"$SOA 3600 ns1. hm. 0 1 2 3 4",
		NULL,
	};
	for (int i = 0; lines[i]; i++) {
		size_t len = strlen(lines[i]);
		for (size_t n = 0; n <= len; n++) {
			struct rbldnsd_state s2;
			rbldnsd_state_init(&s2, FEED_KEYS_IP);
			enum feed_line k = rbldnsd_parse_line(&s2, guard_put(&gb, lines[i], n), n,
							       &rec, &msg);
			assert_true(k == FEED_LINE_RECORD || k == FEED_LINE_SKIP ||
				    k == FEED_LINE_NOTICE || k == FEED_LINE_ERROR);
			if (k == FEED_LINE_ERROR || k == FEED_LINE_NOTICE)
				assert_true(msg != NULL && msg[0] != '\0');
			if (k == FEED_LINE_RECORD) {
				assert_true(rec.lo <= rec.hi);
				assert_true(rec.txt_len <= STORE_TXT_MAX);
			}
		}
	}
}

/* Random bytes never crash, never read past len, and never give inconsistent
 * records. */
static void test_rb_random_garbage(void **state)
{
	(void)state;
	static const char alphabet[] = "0123456789./-:!$#; \tabcx=";
	char line[200];
	srandom(31337);
	for (int iter = 0; iter < 200000; iter++) {
		size_t n = (size_t)(random() % 40);
		for (size_t i = 0; i < n; i++)
			line[i] = (iter & 1) ? alphabet[random() % (sizeof(alphabet) - 1)]
					     : (char)(random() & 0xff);
		if (iter % 97 == 0)
			rbldnsd_state_init(&st, FEED_KEYS_IP);
		msg = NULL;
		enum feed_line k = rbldnsd_parse_line(&st, guard_put(&gb, line, n), n, &rec, &msg);
		if (k == FEED_LINE_RECORD) {
			if (rec.lo > rec.hi)
				fail_msg("line \"%.*s\": lo 0x%08x > hi 0x%08x", (int)n, line, rec.lo,
					 rec.hi);
			assert_true(rec.txt_len <= STORE_TXT_MAX);
		} else if (k == FEED_LINE_ERROR || k == FEED_LINE_NOTICE) {
			assert_non_null(msg);
			assert_true(msg[0] != '\0');
		} else {
			assert_int_equal(k, FEED_LINE_SKIP);
		}
		k = plain_parse_line(FEED_KEYS_IP, guard_put(&gb, line, n), n, &rec, &msg);
		if (k == FEED_LINE_RECORD)
			assert_true(rec.lo <= rec.hi);
	}
}

/* ------------------------------------------------------------------------------ */
/* rbldnsd ip6trie / ip6tset */

static void test_rb6_forms(void **state)
{
	(void)state;
	/* the rbldnsd man page's examples */
	want_key(P_RBL, "2001:21ab:c000/36", ADDR_FAMILY_V6, "2001:21ab:c000::/36", false);
	want_key(P_RBL, "2001:21ab:def7:4242", ADDR_FAMILY_V6, "2001:21ab:def7:4242::/64", false);
	want_key(P_RBL, "2605:6001:42::/52", ADDR_FAMILY_V6, "2605:6001:42::/52", false);
	want_key(P_RBL, "!2605:6001:42::bead", ADDR_FAMILY_V6, "2605:6001:42::bead", true);
	assert_int_equal(rec.key.len, 128);

	/* 16 bits per given group when there is no /len */
	want_key(P_RBL, "2001:db8", ADDR_FAMILY_V6, "2001:db8::/32", false);
	want_key(P_RBL, "2001:db8:1", ADDR_FAMILY_V6, "2001:db8:1::/48", false);
	want_key(P_RBL, "2001:db8:1:2:3", ADDR_FAMILY_V6, "2001:db8:1:2:3::/80", false);
	want_key(P_RBL, "2001:db8:1:2:3:4:5", ADDR_FAMILY_V6, "2001:db8:1:2:3:4:5:0/112", false);
	want_key(P_RBL, "2001:db8:1:2:3:4:5:6", ADDR_FAMILY_V6, "2001:db8:1:2:3:4:5:6", false);
	/* leading groups with an explicit length */
	want_key(P_RBL, "2001:db8/32", ADDR_FAMILY_V6, "2001:db8::/32", false);
	want_key(P_RBL, "2001:db8:8000/33", ADDR_FAMILY_V6, "2001:db8:8000::/33", false);
	/* compressed forms and full ones */
	want_key(P_RBL, "2001:db8::/32", ADDR_FAMILY_V6, "2001:db8::/32", false);
	want_key(P_RBL, "2001:DB8::AB", ADDR_FAMILY_V6, "2001:db8::ab", false);
	want_key(P_RBL, "2001:0db8:0000:0000:0000:0000:0000:0001", ADDR_FAMILY_V6, "2001:db8::1",
		 false);
	want_key(P_RBL, "fe80::/10", ADDR_FAMILY_V6, "fe80::/10", false);
	/* blanks around, a comment after */
	want_key(P_RBL, "  2001:db8::7\t", ADDR_FAMILY_V6, "2001:db8::7", false);
	want_key(P_RBL, "2001:db8::8 # eight", ADDR_FAMILY_V6, "2001:db8::8", false);
	assert_int_equal(rec.flags, 0);
	want_key(P_RBL, "2001:db8::9 ; nine", ADDR_FAMILY_V6, "2001:db8::9", false);
	assert_int_equal(rec.flags, 0);
	want_key(P_RBL, "! 2001:db8::10", ADDR_FAMILY_V6, "2001:db8::10", true);

	/* an IPv4-mapped address is the IPv4 one */
	want_v4(P_RBL, "!::ffff:1.2.3.5", A4(1, 2, 3, 5), A4(1, 2, 3, 5), true);
	want_v4(P_RBL, "0:0:0:0:0:ffff:1.2.3.6", A4(1, 2, 3, 6), A4(1, 2, 3, 6), false);
}

/* Addresses that start with "::" are entries, not ":A:TXT" default lines: rbldnsd's
 * ip6trie reads a line as a default only when it starts with ':' and not "::"
 * (ds_ip6trie_line: "::" "can be a valid beginning to an ip6 address (e.g. ::1)"). */
static void test_rb6_leading_colons(void **state)
{
	(void)state;
	expect(P_RBL, ":127.0.0.3:the default", FEED_LINE_SKIP);
	want_key(P_RBL, "::1", ADDR_FAMILY_V6, "::1", false);
	assert_int_equal(rec.key.len, 128);
	assert_int_equal(rec.a, A4(127, 0, 0, 3));
	want_key(P_RBL, "::/0", ADDR_FAMILY_V6, "::/0", false);
	want_key(P_RBL, "::1 :4:own", ADDR_FAMILY_V6, "::1", false);
	assert_int_equal(rec.a, A4(127, 0, 0, 4));
	want_txt("own");
	want_v4(P_RBL, "::ffff:1.2.3.4", A4(1, 2, 3, 4), A4(1, 2, 3, 4), false);
	want_v4(P_RBL, "::ffff:10.0.0.0/104", A4(10, 0, 0, 0), A4(10, 255, 255, 255), false);
	/* the default is still the one set above, and "::text" is no entry */
	expect(P_RBL, "::text", FEED_LINE_ERROR);
	want_v4(P_RBL, "192.0.2.1", A4(192, 0, 2, 1), A4(192, 0, 2, 1), false);
	assert_int_equal(rec.a, A4(127, 0, 0, 3));
	want_txt("the default");
}

static void test_rb6_values(void **state)
{
	(void)state;
	want_key(P_RBL, "2001:21ab:def7:4242 :127.0.1.3: This one smells funny", ADDR_FAMILY_V6,
		 "2001:21ab:def7:4242::/64", false);
	assert_int_equal(rec.flags, STORE_F_A | STORE_F_TXT);
	assert_int_equal(rec.a, A4(127, 0, 1, 3));
	want_txt("This one smells funny");

	want_key(P_RBL, "2001:db8::1\t:4", ADDR_FAMILY_V6, "2001:db8::1", false);
	assert_int_equal(rec.flags, STORE_F_A);
	assert_int_equal(rec.a, A4(127, 0, 0, 4));
	want_key(P_RBL, "2001:db8::2 :5:", ADDR_FAMILY_V6, "2001:db8::2", false);
	assert_int_equal(rec.flags, STORE_F_A | STORE_F_NOTXT);
	want_key(P_RBL, "2001:db8::3 text only $", ADDR_FAMILY_V6, "2001:db8::3", false);
	assert_int_equal(rec.flags, STORE_F_TXT);
	want_txt("text only $");
	/* an exclusion's value is ignored */
	want_key(P_RBL, "!2001:db8::4 :3:x", ADDR_FAMILY_V6, "2001:db8::4", true);

	/* the default line, then a bare entry takes it */
	expect(P_RBL, ":127.0.1.2: Listed, see http://example.com/lookup?$", FEED_LINE_SKIP);
	assert_true(st.has_default);
	want_key(P_RBL, "2001:db8::5", ADDR_FAMILY_V6, "2001:db8::5", false);
	assert_int_equal(rec.flags, STORE_F_A | STORE_F_TXT);
	assert_int_equal(rec.a, A4(127, 0, 1, 2));
	want_txt("Listed, see http://example.com/lookup?$");
	want_key(P_RBL, "2001:db8:5/48", ADDR_FAMILY_V6, "2001:db8:5::/48", false);
	assert_int_equal(rec.a, A4(127, 0, 1, 2));
	want_txt("Listed, see http://example.com/lookup?$");
	/* and IPv4 entries of the same file too */
	want_v4(P_RBL, "192.0.2.1", A4(192, 0, 2, 1), A4(192, 0, 2, 1), false);
	assert_int_equal(rec.a, A4(127, 0, 1, 2));
	want_txt("Listed, see http://example.com/lookup?$");
	/* an own A keeps the default TXT */
	want_key(P_RBL, "2001:db8::6 :9", ADDR_FAMILY_V6, "2001:db8::6", false);
	assert_int_equal(rec.a, A4(127, 0, 0, 9));
	want_txt("Listed, see http://example.com/lookup?$");
}

/* IPv4 lines in an IP file that also holds IPv6. */
static void test_rb6_ipv4_still(void **state)
{
	(void)state;
	want_v4(P_RBL, "10.0.0.0/8", A4(10, 0, 0, 0), A4(10, 255, 255, 255), false);
	want_v4(P_RBL, "127.0.0", A4(127, 0, 0, 0), A4(127, 0, 0, 255), false);
	want_v4(P_RBL, "10.0.0.1-10.0.0.9", A4(10, 0, 0, 1), A4(10, 0, 0, 9), false);
	want_v4(P_RBL, "!10.0.0.5", A4(10, 0, 0, 5), A4(10, 0, 0, 5), true);

	want_v4(P_RBL, "10 :2:txt", A4(10, 0, 0, 0), A4(10, 255, 255, 255), false);
	assert_int_equal(rec.flags, STORE_F_A | STORE_F_TXT);
	assert_int_equal(rec.a, A4(127, 0, 0, 2));
	want_txt("txt");
	/* the value glued to the address with its ':' */
	want_v4(P_RBL, "10:2:txt", A4(10, 0, 0, 0), A4(10, 255, 255, 255), false);
	assert_int_equal(rec.a, A4(127, 0, 0, 2));
	want_txt("txt");
	want_v4(P_RBL, "1.2.3.4:127.0.0.3:x", A4(1, 2, 3, 4), A4(1, 2, 3, 4), false);
	assert_int_equal(rec.flags, STORE_F_A | STORE_F_TXT);
	assert_int_equal(rec.a, A4(127, 0, 0, 3));
	want_txt("x");
	want_v4(P_RBL, "1.2.3.0/24:4", A4(1, 2, 3, 0), A4(1, 2, 3, 255), false);
	assert_int_equal(rec.flags, STORE_F_A);
	assert_int_equal(rec.a, A4(127, 0, 0, 4));
	want_v4(P_RBL, "1.2.3.5:127.0.0.6:see http://x.example:8080/$", A4(1, 2, 3, 5),
		A4(1, 2, 3, 5), false);
	want_txt("see http://x.example:8080/$");
}

static void test_rb6_errors(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"2001:db8::1/129",
		"2001:zz::1",
		"fe80::1::2",
		"2001:db8::1/64",  /* host bits */
		"2001:db8/16",     /* host bits, leading groups form */
		"2001:db8::1-2001:db8::9", /* no ranges in IPv6 */
		"2001:db8::/32-2001:db9::/32",
		"2001:db8::/",
		"2001:db8::/033",
		"2001:db8::/-1",
		"2001:db8:::1",
		"12345::1",
		"2001:db8::1%eth0",
		"::ffff:1.2.3.256",
		"::ffff:1.2.3.4/97", /* host bits of the mapped IPv4 */
		"!2001:zz::1",
		NULL,
	};
	for (int i = 0; bad[i]; i++) {
		rbldnsd_state_init(&st, FEED_KEYS_IP);
		expect(P_RBL, bad[i], FEED_LINE_ERROR);
	}
}

/* "1:2:3:4:5:6:7:8:9" has nine groups: no IPv6 address. Read the rbldnsd ip4set way
 * ("1" with the glued value ":2:3:4:5:6:7:8:9") it would list all of 1.0.0.0/8, which
 * in a file that holds IPv6 too is far more likely a mistyped IPv6 address. */
static void test_rb6_nine_groups(void **state)
{
	(void)state;
	enum feed_line k = run(P_RBL, "1:2:3:4:5:6:7:8:9", 17);
	if (k == FEED_LINE_RECORD)
		fail_msg("\"1:2:3:4:5:6:7:8:9\": RECORD family %u range 0x%08x-0x%08x a 0x%08x "
			 "txt \"%.*s\", want ERROR",
			 rec.family, rec.lo, rec.hi, rec.a, (int)rec.txt_len, rec.txt);
	want_kind("1:2:3:4:5:6:7:8:9", k, FEED_LINE_ERROR);
}

/* A trailing ':' ends no IPv6 group: rbldnsd's ip6prefix rejects "2001:db8:" (it
 * reads no group after the last ':'), and "2001:db8:" must not become 2001:db8::/48
 * (the leading-groups form counting the empty group). "10:3:" in an IP file is the
 * ip4set line 10/8 with the value ":3:" (or an error), never 10:3::/48. */
static void test_rb6_trailing_colon(void **state)
{
	(void)state;
	static const char *const bad[] = {"2001:db8:", "2001:db8:1:", "2001:db8:/32", NULL};
	for (int i = 0; bad[i]; i++) {
		enum feed_line k = run(P_RBL, bad[i], strlen(bad[i]));
		if (k == FEED_LINE_RECORD)
			fail_msg("\"%s\": RECORD %s, want ERROR", bad[i],
				 rec.family == ADDR_FAMILY_V6 ? key_text() : "(IPv4)");
		want_kind(bad[i], k, FEED_LINE_ERROR);
	}
	enum feed_line k = run(P_RBL, "10:3:", 5);
	if (k == FEED_LINE_RECORD && rec.family == ADDR_FAMILY_V6)
		fail_msg("\"10:3:\": the IPv6 prefix %s", key_text());
	if (k == FEED_LINE_RECORD) {
		assert_int_equal(rec.family, ADDR_FAMILY_V4);
		assert_int_equal(rec.lo, A4(10, 0, 0, 0));
		assert_int_equal(rec.a, A4(127, 0, 0, 3));
	}
}

/* A host-bits IPv6 line is reported as such (the message names the reason). */
static void test_rb6_hostbits_message(void **state)
{
	(void)state;
	expect(P_PLAIN_IP, "2001:db8::1/64", FEED_LINE_ERROR);
	assert_non_null(strstr(msg, "bits"));
	expect(P_RBL, "2001:db8::1/64", FEED_LINE_ERROR);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_rb_forms_slash24, reset_ip),
		cmocka_unit_test_setup(test_rb_forms_slash12, reset_ip),
		cmocka_unit_test_setup(test_rb_forms_other, reset_ip),
		cmocka_unit_test_setup(test_rb_values_no_default, reset_ip),
		cmocka_unit_test_setup(test_rb_default_line, reset_ip),
		cmocka_unit_test_setup(test_rb_comments_blank, reset_ip),
		cmocka_unit_test_setup(test_rb_exclusion, reset_ip),
		cmocka_unit_test_setup(test_rb_specials, reset_ip),
		cmocka_unit_test_setup(test_rb_variables, reset_ip),
		cmocka_unit_test_setup(test_rb_base_template, reset_ip),
		cmocka_unit_test_setup(test_rb_errors, reset_ip),
		cmocka_unit_test_setup(test_rb_empty_a, reset_ip),
		cmocka_unit_test_setup(test_rb_blank_after_colon, reset_ip),
		cmocka_unit_test_setup(test_rb_txt_length, reset_ip),
		cmocka_unit_test_setup(test_rb_length_bounded, reset_ip),
		cmocka_unit_test_setup(test_rb_random_garbage, reset_ip),
		cmocka_unit_test_setup(test_rb6_forms, reset_ip),
		cmocka_unit_test_setup(test_rb6_leading_colons, reset_ip),
		cmocka_unit_test_setup(test_rb6_values, reset_ip),
		cmocka_unit_test_setup(test_rb6_ipv4_still, reset_ip),
		cmocka_unit_test_setup(test_rb6_errors, reset_ip),
		cmocka_unit_test_setup(test_rb6_nine_groups, reset_ip),
		cmocka_unit_test_setup(test_rb6_trailing_colon, reset_ip),
		cmocka_unit_test_setup(test_rb6_hostbits_message, reset_ip),
	};
	return cmocka_run_group_tests(tests, setup, feedtest_teardown);
}
