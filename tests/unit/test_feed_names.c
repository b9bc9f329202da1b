/* Unit tests for loader/feed.h with IPv6 and domain keys: the rbldnsd parser on
 * ip6trie/ip6tset lines (FEED_KEYS_IP) and dnset lines (FEED_KEYS_NAME), and the
 * plain, csv and jsonl parsers for both key types. Every line is handed over with its
 * exact length and without a NUL terminator, placed right before an unmapped page. */
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
#include "feed.h"
#include "store.h"
#include "testutil.h"

#define A4(a, b, c, d) \
	((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))

static struct guard_buf gb;
static struct rbldnsd_state st;
static struct csv_state cst;
static struct feed_record rec;
static const char *msg;

static int setup(void **state)
{
	(void)state;
	return guard_init(&gb, 16384);
}

static int teardown(void **state)
{
	(void)state;
	guard_free(&gb);
	return 0;
}

static int reset_ip(void **state)
{
	(void)state;
	rbldnsd_state_init(&st, FEED_KEYS_IP);
	csv_state_init(&cst, FEED_KEYS_IP);
	return 0;
}

static int reset_name(void **state)
{
	(void)state;
	rbldnsd_state_init(&st, FEED_KEYS_NAME);
	csv_state_init(&cst, FEED_KEYS_NAME);
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

/* The parsers, each fed line from the guard buffer into a scribbled record. */
enum parser { P_RBL, P_PLAIN_IP, P_PLAIN_NAME, P_CSV, P_JSONL_IP, P_JSONL_NAME };

static enum feed_line run(enum parser p, const char *line, size_t n)
{
	const char *g = guard_put(&gb, line, n);
	memset(&rec, 0xa5, sizeof(rec));
	msg = NULL;
	switch (p) {
	case P_RBL: return rbldnsd_parse_line(&st, g, n, &rec, &msg);
	case P_PLAIN_IP: return plain_parse_line(FEED_KEYS_IP, g, n, &rec, &msg);
	case P_PLAIN_NAME: return plain_parse_line(FEED_KEYS_NAME, g, n, &rec, &msg);
	case P_CSV: return csv_parse_line(&cst, g, n, &rec, &msg);
	case P_JSONL_IP: return jsonl_parse_line(FEED_KEYS_IP, g, n, &rec, &msg);
	case P_JSONL_NAME: return jsonl_parse_line(FEED_KEYS_NAME, g, n, &rec, &msg);
	}
	return FEED_LINE_ERROR;
}

static void want_kind(const char *line, enum feed_line got, enum feed_line want)
{
	if (got != want)
		fail_msg("line \"%.80s\": %s (msg: %s), want %s", line, kind_name(got),
			 msg ? msg : "-", kind_name(want));
	if (want == FEED_LINE_ERROR || want == FEED_LINE_NOTICE) {
		if (msg == NULL || msg[0] == '\0')
			fail_msg("line \"%.80s\": %s without a message", line, kind_name(got));
	}
}

static void expect(enum parser p, const char *line, enum feed_line want)
{
	want_kind(line, run(p, line, strlen(line)), want);
}

/* The record's key as text (entry_key_format with bare hosts). */
static const char *key_text(void)
{
	static char buf[ENTRY_KEY_TEXT_MAX];
	assert_true(rec.family == ADDR_FAMILY_V6 || rec.family == ADDR_FAMILY_NAME);
	assert_int_equal(rec.key.family, rec.family);
	if (rec.family == ADDR_FAMILY_NAME)
		assert_ptr_equal(rec.key.name, rec.name_buf);
	entry_key_format(&rec.key, 1, buf, sizeof(buf));
	return buf;
}

/* Parses line expecting a record keyed by an IPv6 prefix or a name (key as text). */
static void want_key(enum parser p, const char *line, uint8_t family, const char *key,
		     bool exclude)
{
	expect(p, line, FEED_LINE_RECORD);
	if (rec.family != family)
		fail_msg("line \"%s\": family %u, want %u", line, rec.family, family);
	const char *got = key_text();
	if (strcmp(got, key) != 0)
		fail_msg("line \"%s\": key \"%s\", want \"%s\"", line, got, key);
	if (rec.exclude != exclude)
		fail_msg("line \"%s\": exclude %d, want %d", line, rec.exclude, exclude);
}

static void want_v4(enum parser p, const char *line, uint32_t lo, uint32_t hi, bool exclude)
{
	expect(p, line, FEED_LINE_RECORD);
	if (rec.family != ADDR_FAMILY_V4)
		fail_msg("line \"%s\": family %u, want IPv4", line, rec.family);
	if (rec.lo != lo || rec.hi != hi)
		fail_msg("line \"%s\": range 0x%08x-0x%08x, want 0x%08x-0x%08x", line, rec.lo,
			 rec.hi, lo, hi);
	assert_int_equal(rec.exclude, exclude);
}

static void assert_txt(const char *want)
{
	assert_true(rec.flags & STORE_F_TXT);
	if (rec.txt_len != strlen(want) || memcmp(rec.txt, want, rec.txt_len) != 0)
		fail_msg("txt \"%.*s\" (len %zu), want \"%s\"", (int)rec.txt_len, rec.txt,
			 rec.txt_len, want);
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
	assert_txt("own");
	want_v4(P_RBL, "::ffff:1.2.3.4", A4(1, 2, 3, 4), A4(1, 2, 3, 4), false);
	want_v4(P_RBL, "::ffff:10.0.0.0/104", A4(10, 0, 0, 0), A4(10, 255, 255, 255), false);
	/* the default is still the one set above, and "::text" is no entry */
	expect(P_RBL, "::text", FEED_LINE_ERROR);
	want_v4(P_RBL, "192.0.2.1", A4(192, 0, 2, 1), A4(192, 0, 2, 1), false);
	assert_int_equal(rec.a, A4(127, 0, 0, 3));
	assert_txt("the default");
}

static void test_rb6_values(void **state)
{
	(void)state;
	want_key(P_RBL, "2001:21ab:def7:4242 :127.0.1.3: This one smells funny", ADDR_FAMILY_V6,
		 "2001:21ab:def7:4242::/64", false);
	assert_int_equal(rec.flags, STORE_F_A | STORE_F_TXT);
	assert_int_equal(rec.a, A4(127, 0, 1, 3));
	assert_txt("This one smells funny");

	want_key(P_RBL, "2001:db8::1\t:4", ADDR_FAMILY_V6, "2001:db8::1", false);
	assert_int_equal(rec.flags, STORE_F_A);
	assert_int_equal(rec.a, A4(127, 0, 0, 4));
	want_key(P_RBL, "2001:db8::2 :5:", ADDR_FAMILY_V6, "2001:db8::2", false);
	assert_int_equal(rec.flags, STORE_F_A | STORE_F_NOTXT);
	want_key(P_RBL, "2001:db8::3 text only $", ADDR_FAMILY_V6, "2001:db8::3", false);
	assert_int_equal(rec.flags, STORE_F_TXT);
	assert_txt("text only $");
	/* an exclusion's value is ignored */
	want_key(P_RBL, "!2001:db8::4 :3:x", ADDR_FAMILY_V6, "2001:db8::4", true);

	/* the default line, then a bare entry takes it */
	expect(P_RBL, ":127.0.1.2: Listed, see http://example.com/lookup?$", FEED_LINE_SKIP);
	assert_true(st.has_default);
	want_key(P_RBL, "2001:db8::5", ADDR_FAMILY_V6, "2001:db8::5", false);
	assert_int_equal(rec.flags, STORE_F_A | STORE_F_TXT);
	assert_int_equal(rec.a, A4(127, 0, 1, 2));
	assert_txt("Listed, see http://example.com/lookup?$");
	want_key(P_RBL, "2001:db8:5/48", ADDR_FAMILY_V6, "2001:db8:5::/48", false);
	assert_int_equal(rec.a, A4(127, 0, 1, 2));
	assert_txt("Listed, see http://example.com/lookup?$");
	/* and IPv4 entries of the same file too */
	want_v4(P_RBL, "192.0.2.1", A4(192, 0, 2, 1), A4(192, 0, 2, 1), false);
	assert_int_equal(rec.a, A4(127, 0, 1, 2));
	assert_txt("Listed, see http://example.com/lookup?$");
	/* an own A keeps the default TXT */
	want_key(P_RBL, "2001:db8::6 :9", ADDR_FAMILY_V6, "2001:db8::6", false);
	assert_int_equal(rec.a, A4(127, 0, 0, 9));
	assert_txt("Listed, see http://example.com/lookup?$");
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
	assert_txt("txt");
	/* the value glued to the address with its ':' */
	want_v4(P_RBL, "10:2:txt", A4(10, 0, 0, 0), A4(10, 255, 255, 255), false);
	assert_int_equal(rec.a, A4(127, 0, 0, 2));
	assert_txt("txt");
	want_v4(P_RBL, "1.2.3.4:127.0.0.3:x", A4(1, 2, 3, 4), A4(1, 2, 3, 4), false);
	assert_int_equal(rec.flags, STORE_F_A | STORE_F_TXT);
	assert_int_equal(rec.a, A4(127, 0, 0, 3));
	assert_txt("x");
	want_v4(P_RBL, "1.2.3.0/24:4", A4(1, 2, 3, 0), A4(1, 2, 3, 255), false);
	assert_int_equal(rec.flags, STORE_F_A);
	assert_int_equal(rec.a, A4(127, 0, 0, 4));
	want_v4(P_RBL, "1.2.3.5:127.0.0.6:see http://x.example:8080/$", A4(1, 2, 3, 5),
		A4(1, 2, 3, 5), false);
	assert_txt("see http://x.example:8080/$");
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

/* ------------------------------------------------------------------------------ */
/* rbldnsd dnset */

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
	assert_txt("txt $");
	/* the value glued with ':' */
	want_key(P_RBL, "example.com:3:x", ADDR_FAMILY_NAME, "example.com", false);
	assert_int_equal(rec.flags, STORE_F_A | STORE_F_TXT);
	assert_int_equal(rec.a, A4(127, 0, 0, 3));
	assert_txt("x");
	want_key(P_RBL, "*.example.com:4", ADDR_FAMILY_NAME, "*.example.com", false);
	assert_int_equal(rec.flags, STORE_F_A);
	assert_int_equal(rec.a, A4(127, 0, 0, 4));
	want_key(P_RBL, ".example.com:5:", ADDR_FAMILY_NAME, ".example.com", false);
	assert_int_equal(rec.flags, STORE_F_A | STORE_F_NOTXT);
	want_key(P_RBL, "example.com.\tSpam domain", ADDR_FAMILY_NAME, "example.com", false);
	assert_int_equal(rec.flags, STORE_F_TXT);
	assert_txt("Spam domain");
	want_key(P_RBL, "!excluded.example.com :3:ignored", ADDR_FAMILY_NAME,
		 "excluded.example.com", true);

	/* a default line and entries that take it */
	expect(P_RBL, ":127.0.1.2:text", FEED_LINE_SKIP);
	want_key(P_RBL, "spam.example", ADDR_FAMILY_NAME, "spam.example", false);
	assert_int_equal(rec.flags, STORE_F_A | STORE_F_TXT);
	assert_int_equal(rec.a, A4(127, 0, 1, 2));
	assert_txt("text");
	want_key(P_RBL, "own.example own text", ADDR_FAMILY_NAME, "own.example", false);
	assert_int_equal(rec.a, A4(127, 0, 1, 2));
	assert_txt("own text");

	/* variables */
	expect(P_RBL, "$1 https://dbl.example/q?d=", FEED_LINE_SKIP);
	want_key(P_RBL, "var.example $1$", ADDR_FAMILY_NAME, "var.example", false);
	assert_txt("https://dbl.example/q?d=$");
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
	assert_txt("mple..com");
}

/* ------------------------------------------------------------------------------ */
/* plain */

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

/* ------------------------------------------------------------------------------ */
/* csv and jsonl */

static void test_csv_names(void **state)
{
	(void)state;
	expect(P_CSV, "name,reason", FEED_LINE_SKIP);
	want_key(P_CSV, "Example.COM,spam", ADDR_FAMILY_NAME, "example.com", false);
	assert_int_equal(rec.have & FEED_HAVE_REASON, FEED_HAVE_REASON);
	assert_string_equal(rec.reason, "spam");
	want_key(P_CSV, "*.example.com,x", ADDR_FAMILY_NAME, "*.example.com", false);
	want_key(P_CSV, ".example.com,x", ADDR_FAMILY_NAME, ".example.com", false);
	want_key(P_CSV, "!ok.example.com,x", ADDR_FAMILY_NAME, "ok.example.com", true);
	want_key(P_CSV, "\" quoted.example \",q", ADDR_FAMILY_NAME, "quoted.example", false);
	want_key(P_CSV, "1.2.3.4,an address is a name", ADDR_FAMILY_NAME, "1.2.3.4", false);
	expect(P_CSV, "a..b,x", FEED_LINE_ERROR);
	expect(P_CSV, "1.2.3.0/24,x", FEED_LINE_ERROR);
	expect(P_CSV, "2001:db8::1,x", FEED_LINE_ERROR);
	expect(P_CSV, ",x", FEED_LINE_ERROR);
	expect(P_CSV, "example.com", FEED_LINE_ERROR); /* one field */

	/* "ip" is the key column of a name zone's csv too */
	csv_state_init(&cst, FEED_KEYS_NAME);
	expect(P_CSV, "ip,reason,code", FEED_LINE_SKIP);
	want_key(P_CSV, "spam.example,r,3", ADDR_FAMILY_NAME, "spam.example", false);
	assert_int_equal(rec.flags, STORE_F_A);
	assert_int_equal(rec.a, A4(127, 0, 0, 3));

	/* both "ip" and "name": two key columns */
	static const char *const headers[] = {"ip,name,reason", "name,reason,IP", "NAME,Name", NULL};
	for (int i = 0; headers[i]; i++) {
		csv_state_init(&cst, FEED_KEYS_NAME);
		expect(P_CSV, headers[i], FEED_LINE_ERROR);
		assert_false(cst.have_header);
	}
	csv_state_init(&cst, FEED_KEYS_NAME);
	expect(P_CSV, "reason,source", FEED_LINE_ERROR);
}

static void test_csv_ips(void **state)
{
	(void)state;
	expect(P_CSV, "ip,reason", FEED_LINE_SKIP);
	want_key(P_CSV, "2001:db8::1,v6", ADDR_FAMILY_V6, "2001:db8::1", false);
	want_key(P_CSV, "2001:db8::/32,v6 net", ADDR_FAMILY_V6, "2001:db8::/32", false);
	want_v4(P_CSV, "::ffff:192.0.2.1,mapped", A4(192, 0, 2, 1), A4(192, 0, 2, 1), false);
	want_v4(P_CSV, "192.0.2.2,v4", A4(192, 0, 2, 2), A4(192, 0, 2, 2), false);
	expect(P_CSV, "example.com,x", FEED_LINE_ERROR);
	expect(P_CSV, "2001:db8::1/64,x", FEED_LINE_ERROR);
	/* "name" as the key column of an IP csv */
	csv_state_init(&cst, FEED_KEYS_IP);
	expect(P_CSV, "name,reason", FEED_LINE_SKIP);
	want_key(P_CSV, "2001:db8::5,x", ADDR_FAMILY_V6, "2001:db8::5", false);
	csv_state_init(&cst, FEED_KEYS_IP);
	expect(P_CSV, "ip,name", FEED_LINE_ERROR);
}

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
	assert_txt("see $");
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
		cmocka_unit_test_setup(test_rb6_forms, reset_ip),
		cmocka_unit_test_setup(test_rb6_leading_colons, reset_ip),
		cmocka_unit_test_setup(test_rb6_values, reset_ip),
		cmocka_unit_test_setup(test_rb6_ipv4_still, reset_ip),
		cmocka_unit_test_setup(test_rb6_errors, reset_ip),
		cmocka_unit_test_setup(test_rb6_nine_groups, reset_ip),
		cmocka_unit_test_setup(test_rb6_trailing_colon, reset_ip),
		cmocka_unit_test_setup(test_rb6_hostbits_message, reset_ip),
		cmocka_unit_test_setup(test_rbname_forms, reset_name),
		cmocka_unit_test_setup(test_rbname_values, reset_name),
		cmocka_unit_test_setup(test_rbname_comments, reset_name),
		cmocka_unit_test_setup(test_rbname_errors, reset_name),
		cmocka_unit_test_setup(test_rbname_blank_splits, reset_name),
		cmocka_unit_test_setup(test_plain_names, reset_name),
		cmocka_unit_test_setup(test_plain_ips, reset_ip),
		cmocka_unit_test_setup(test_csv_names, reset_name),
		cmocka_unit_test_setup(test_csv_ips, reset_ip),
		cmocka_unit_test(test_jsonl),
		cmocka_unit_test_setup(test_prefixes, reset_ip),
		cmocka_unit_test_setup(test_random, reset_ip),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
