/* Unit tests for lib/dname.h: domain names as entries of `type = name` zones (their
 * text forms, query names read from the wire, the key form the store sorts by), and
 * entry keys of either family (entry_key_parse / entry_key_format).
 *
 * Every input is handed over with its exact length and without a NUL, placed right
 * before an unmapped page; every output buffer of DNAME_KEY_MAX bytes is placed right
 * before another one, so reading or writing one byte too far crashes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "addr.h"
#include "dname.h"
#include "err.h"
#include "testutil.h"
#include "wire.h"

static struct guard_buf gin;  /* inputs */
static struct guard_buf gout; /* key form outputs: DNAME_KEY_MAX bytes before the guard */

static int setup(void **state)
{
	(void)state;
	if (guard_init(&gin, 4096) != 0)
		return -1;
	return guard_init(&gout, 4096);
}

static int teardown(void **state)
{
	(void)state;
	guard_free(&gin);
	guard_free(&gout);
	return 0;
}

/* The key form output buffer: exactly DNAME_KEY_MAX bytes before the guard page,
 * filled with a marker so that stale bytes are noticed. */
static uint8_t *outbuf(void)
{
	uint8_t *end = gout.map + gout.maplen - gout.page;
	memset(end - DNAME_KEY_MAX, 0xa5, DNAME_KEY_MAX);
	return end - DNAME_KEY_MAX;
}

/* dname_parse of s[0..n) from a guard buffer. */
static int parse_n(const char *s, size_t n, struct entry_key *k)
{
	memset(k, 0x5a, sizeof(*k));
	return dname_parse(guard_put(&gin, s, n), n, outbuf(), k);
}

static int parse(const char *s, struct entry_key *k)
{
	return parse_n(s, strlen(s), k);
}

static void dump_key(const uint8_t *p, size_t n, char *out, size_t size)
{
	size_t o = 0;
	out[0] = '\0';
	for (size_t i = 0; i < n && o + 5 < size; i++) {
		if (p[i] >= 0x21 && p[i] < 0x7f && p[i] != '\\')
			out[o++] = (char)p[i];
		else
			o += (size_t)snprintf(out + o, size - o, "\\x%02x", p[i]);
		out[o] = '\0';
	}
}

/* Parses s expecting success with key form want[0..wlen) and kind. */
static void parse_ok(const char *s, const char *want, size_t wlen, uint8_t kind)
{
	struct entry_key k;
	int rc = parse(s, &k);
	if (rc != 0)
		fail_msg("dname_parse(\"%s\") = %d (%s), want 0", s, rc, dnsbl_strerror(rc));
	assert_int_equal(k.family, ADDR_FAMILY_NAME);
	if (k.kind != kind)
		fail_msg("dname_parse(\"%s\"): kind %u, want %u", s, k.kind, kind);
	assert_ptr_equal(k.name, gout.map + gout.maplen - gout.page - DNAME_KEY_MAX);
	if (k.name_len != wlen || memcmp(k.name, want, wlen) != 0) {
		char got[1200], exp[1200];
		dump_key(k.name, k.name_len, got, sizeof(got));
		dump_key((const uint8_t *)want, wlen, exp, sizeof(exp));
		fail_msg("dname_parse(\"%s\"): key \"%s\" (%u bytes), want \"%s\" (%zu)", s, got,
			 k.name_len, exp, wlen);
	}
}

#define PARSE_OK(s, want, kind) parse_ok(s, want, sizeof(want) - 1, kind)

static void parse_bad_n(const char *s, size_t n)
{
	struct entry_key k;
	int rc = parse_n(s, n, &k);
	if (rc != DNSBL_ESYNTAX)
		fail_msg("dname_parse(\"%.*s\", %zu) = %d, want DNSBL_ESYNTAX", (int)n, s, n, rc);
}

static void parse_bad(const char *s)
{
	parse_bad_n(s, strlen(s));
}

/* --- dname_parse --- */

static void test_parse_basic(void **state)
{
	(void)state;
	PARSE_OK("example.com", "\x03" "com" "\x07" "example", DNAME_EXACT);
	PARSE_OK("example.com.", "\x03" "com" "\x07" "example", DNAME_EXACT);
	PARSE_OK("Example.COM.", "\x03" "com" "\x07" "example", DNAME_EXACT);
	PARSE_OK("EXAMPLE.COM", "\x03" "com" "\x07" "example", DNAME_EXACT);
	PARSE_OK("mail.Example.com", "\x03" "com" "\x07" "example" "\x04" "mail", DNAME_EXACT);
	PARSE_OK("a.b.c.d.e", "\x01" "e" "\x01" "d" "\x01" "c" "\x01" "b" "\x01" "a",
		 DNAME_EXACT);
	PARSE_OK("localhost", "\x09" "localhost", DNAME_EXACT);
	PARSE_OK("localhost.", "\x09" "localhost", DNAME_EXACT);
	PARSE_OK("x", "\x01" "x", DNAME_EXACT);
	PARSE_OK("X.", "\x01" "x", DNAME_EXACT);
	/* digits, hyphens, underscores: anywhere in a label */
	PARSE_OK("1.2.3.4", "\x01" "4" "\x01" "3" "\x01" "2" "\x01" "1", DNAME_EXACT);
	PARSE_OK("123-abc.example", "\x07" "example" "\x07" "123-abc", DNAME_EXACT);
	PARSE_OK("-a-.b-", "\x02" "b-" "\x03" "-a-", DNAME_EXACT);
	PARSE_OK("_dmarc.example.com", "\x03" "com" "\x07" "example" "\x06" "_dmarc",
		 DNAME_EXACT);
	PARSE_OK("_domainkey._tcp.Ex_Ample.com",
		 "\x03" "com" "\x08" "ex_ample" "\x04" "_tcp" "\x0a" "_domainkey", DNAME_EXACT);
	PARSE_OK("xn--bcher-kva.example", "\x07" "example" "\x0d" "xn--bcher-kva", DNAME_EXACT);
	/* all letters fold */
	PARSE_OK("ABCDEFGHIJKLMNOPQRSTUVWXYZ.abcdefghijklmnopqrstuvwxyz.0123456789",
		 "\x0a" "0123456789" "\x1a" "abcdefghijklmnopqrstuvwxyz"
		 "\x1a" "abcdefghijklmnopqrstuvwxyz",
		 DNAME_EXACT);
}

static void test_parse_kinds(void **state)
{
	(void)state;
	PARSE_OK("*.example.com", "\x03" "com" "\x07" "example", DNAME_SUBS);
	PARSE_OK("*.example.com.", "\x03" "com" "\x07" "example", DNAME_SUBS);
	PARSE_OK("*.EXAMPLE.com", "\x03" "com" "\x07" "example", DNAME_SUBS);
	PARSE_OK("*.com", "\x03" "com", DNAME_SUBS);
	PARSE_OK(".example.com", "\x03" "com" "\x07" "example", DNAME_TREE);
	PARSE_OK(".Example.Com.", "\x03" "com" "\x07" "example", DNAME_TREE);
	PARSE_OK(".com", "\x03" "com", DNAME_TREE);
	/* ".a." is ".a" with the one trailing dot the header allows: the tree of a */
	PARSE_OK(".a.", "\x01" "a", DNAME_TREE);
	PARSE_OK("*.a.", "\x01" "a", DNAME_SUBS);
}

static void test_parse_lengths(void **state)
{
	(void)state;
	char s[300], want[600];
	struct entry_key k;

	/* a label of 63 bytes, not 64 */
	memset(s, 'a', 63);
	memcpy(s + 63, ".com", 5);
	want[0] = 3;
	memcpy(want + 1, "com", 3);
	want[4] = 63;
	memset(want + 5, 'a', 63);
	parse_ok(s, want, 68, DNAME_EXACT);
	memset(s, 'a', 64);
	memcpy(s + 64, ".com", 5);
	parse_bad(s);
	memset(s, 'b', 64);
	s[64] = '\0';
	parse_bad(s);
	memset(s, 'b', 63);
	s[63] = '\0';
	assert_int_equal(parse(s, &k), 0);
	assert_int_equal(k.name_len, 64);

	/* 253 characters: labels 63.63.63.61 (key form 254 bytes = DNAME_KEY_MAX) */
	size_t n = 0;
	for (int l = 0; l < 4; l++) {
		size_t ll = l < 3 ? 63 : 61;
		memset(s + n, 'a' + l, ll);
		n += ll;
		s[n++] = '.';
	}
	s[--n] = '\0';
	assert_int_equal(strlen(s), 253);
	assert_int_equal(parse(s, &k), 0);
	assert_int_equal(k.name_len, DNAME_KEY_MAX);
	assert_int_equal(k.kind, DNAME_EXACT);
	assert_int_equal(k.name[0], 61);
	assert_int_equal(k.name[1], 'd');
	assert_int_equal(k.name[62], 63);
	assert_int_equal(k.name[DNAME_KEY_MAX - 1], 'a');
	assert_int_equal(dname_labels(k.name, k.name_len), 4);

	/* with a trailing dot (254 bytes of text), with "*." and "." */
	char t[700];
	snprintf(t, sizeof(t), "%s.", s);
	assert_int_equal(parse(t, &k), 0);
	assert_int_equal(k.name_len, DNAME_KEY_MAX);
	snprintf(t, sizeof(t), "*.%s", s);
	assert_int_equal(parse(t, &k), 0);
	assert_int_equal(k.kind, DNAME_SUBS);
	assert_int_equal(k.name_len, DNAME_KEY_MAX);
	snprintf(t, sizeof(t), ".%s.", s);
	assert_int_equal(parse(t, &k), 0);
	assert_int_equal(k.kind, DNAME_TREE);
	assert_int_equal(k.name_len, DNAME_KEY_MAX);

	/* 254 characters: too long, in every form */
	snprintf(t, sizeof(t), "x%s", s);
	assert_int_equal(strlen(t), 254);
	parse_bad(t);
	snprintf(t, sizeof(t), "x%s.", s);
	parse_bad(t);
	snprintf(t, sizeof(t), "*.x%s", s);
	parse_bad(t);
	snprintf(t, sizeof(t), ".x%s", s);
	parse_bad(t);
	snprintf(t, sizeof(t), "x.%s", s);
	parse_bad(t);

	/* 127 one-byte labels (253 characters), 128 not */
	n = 0;
	for (int l = 0; l < 127; l++) {
		s[n++] = 'z';
		s[n++] = '.';
	}
	s[--n] = '\0';
	assert_int_equal(strlen(s), 253);
	assert_int_equal(parse(s, &k), 0);
	assert_int_equal(k.name_len, DNAME_KEY_MAX);
	assert_int_equal(dname_labels(k.name, k.name_len), DNAME_LABELS_MAX);
	snprintf(t, sizeof(t), "z.%s", s);
	parse_bad(t);

	/* longer and longer names never overflow the output buffer */
	for (size_t len = 1; len < 520; len++) {
		for (size_t i = 0; i < len; i++)
			t[i] = (i % 3 == 2) ? '.' : 'q';
		int rc = parse_n(t, len, &k);
		if (rc == 0)
			assert_true(k.name_len <= DNAME_KEY_MAX);
		else
			assert_int_equal(rc, DNSBL_ESYNTAX);
		memset(t, 'r', len); /* one label: valid only up to 63 */
		rc = parse_n(t, len, &k);
		assert_int_equal(rc, len <= 63 ? 0 : DNSBL_ESYNTAX);
	}
}

static void test_parse_malformed(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"", ".", "*.", "*", "..", "...", "a..b", "..a", "a..", "*..a", "*.*.a",
		"a.*.b", "a.*", "*a.b", "a*.b", "**.a", ".*.a", "*.", "* .a", " a", "a ",
		"a b", "a/b", "a\\b", "a,b", "a!b", "!a", "a@b", "user@example.com",
		"a:b", "[::1]", "a%b", "a*b", "é.com", "a\tb", "a\nb", "a\rb", "a+b",
		"a=b", "a~b", "\"a\"", "a'b", "(a)", "a;b", "a#b", "a$b", "a&b", "a?b",
		"http://a.b", "a.b/", "a.b:80", "1.2.3.0/24", "2001:db8::1", "\x7f",
		"a\x7f.b", "a\x80", "\xff.com", NULL,
	};
	for (int i = 0; bad[i]; i++)
		parse_bad(bad[i]);
	/* ".a." and "a." are valid (one trailing dot); two are not */
	parse_bad("a..");
	parse_bad(".a..");
	/* a NUL inside, with the explicit length */
	parse_bad_n("a\0b", 3);
	parse_bad_n("example\0.com", 12);
	parse_bad_n("example.com\0", 12);
	parse_bad_n("\0", 1);
	/* every single byte other than letters, digits, '-', '_' makes a label bad */
	for (int c = 0; c < 256; c++) {
		char s[8] = {'a', (char)c, 'b', '.', 'c', 'o', 'm'};
		struct entry_key k;
		int rc = parse_n(s, 7, &k);
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			  (c >= '0' && c <= '9') || c == '-' || c == '_';
		if (c == '.')
			ok = true; /* "a.b.com" */
		if (ok != (rc == 0))
			fail_msg("dname_parse(\"a\\x%02xb.com\") = %d", c, rc);
	}
}

/* Every prefix of some names parses or fails cleanly, reading only its bytes. */
static void test_parse_prefixes(void **state)
{
	(void)state;
	static const char *const names[] = {
		"*.mail.Example.COM.", ".a-b_c.d.e.", "xn--bcher-kva.example.", NULL,
	};
	for (int i = 0; names[i]; i++) {
		size_t len = strlen(names[i]);
		for (size_t n = 0; n <= len; n++) {
			struct entry_key k;
			int rc = parse_n(names[i], n, &k);
			if (rc == 0) {
				assert_int_equal(k.family, ADDR_FAMILY_NAME);
				assert_true(k.name_len > 0 && k.name_len <= DNAME_KEY_MAX);
			} else {
				assert_int_equal(rc, DNSBL_ESYNTAX);
			}
		}
	}
}

/* --- dname_from_wire --- */

/* A wire name built from text labels, with label offsets like dns_query_parse's. */
struct wname {
	uint8_t wire[600];
	size_t len; /* without the root label */
	uint8_t off[DNS_MAX_LABELS];
	unsigned nlabels;
};

static void wname_build(struct wname *w, const char *const *labels, const size_t *lens)
{
	w->len = 0;
	w->nlabels = 0;
	for (unsigned i = 0; labels[i] != NULL; i++) {
		size_t l = lens ? lens[i] : strlen(labels[i]);
		assert_true(w->len < 256);
		w->off[w->nlabels++] = (uint8_t)w->len;
		w->wire[w->len++] = (uint8_t)l;
		memcpy(w->wire + w->len, labels[i], l);
		w->len += l;
	}
}

/* dname_from_wire over the first k labels; only those bytes are readable (the rest of
 * the name and its root are not copied: the next byte is the guard page). */
static int from_wire(const struct wname *w, unsigned k, struct entry_key *out)
{
	size_t upto = k < w->nlabels ? w->off[k] : w->len;
	const uint8_t *q = guard_put(&gin, w->wire, upto);
	memset(out, 0x5a, sizeof(*out));
	return dname_from_wire(q, w->off, k, outbuf(), out);
}

static void wire_ok(const char *const *labels, unsigned k, const char *want, size_t wlen)
{
	struct wname w;
	struct entry_key key;
	wname_build(&w, labels, NULL);
	int rc = from_wire(&w, k, &key);
	if (rc != 0)
		fail_msg("dname_from_wire(%s..., k=%u) = %d, want 0", labels[0], k, rc);
	assert_int_equal(key.family, ADDR_FAMILY_NAME);
	assert_int_equal(key.kind, DNAME_EXACT);
	if (key.name_len != wlen || memcmp(key.name, want, wlen) != 0) {
		char got[1200], exp[1200];
		dump_key(key.name, key.name_len, got, sizeof(got));
		dump_key((const uint8_t *)want, wlen, exp, sizeof(exp));
		fail_msg("dname_from_wire(%s..., k=%u): \"%s\", want \"%s\"", labels[0], k, got,
			 exp);
	}
}

#define WIRE_OK(labels, k, want) wire_ok(labels, k, want, sizeof(want) - 1)

static void test_from_wire(void **state)
{
	(void)state;
	static const char *const q1[] = {"mail", "Example", "COM", "dbl", "example", NULL};
	WIRE_OK(q1, 1, "\x04" "mail");
	WIRE_OK(q1, 2, "\x07" "example" "\x04" "mail");
	WIRE_OK(q1, 3, "\x03" "com" "\x07" "example" "\x04" "mail");
	WIRE_OK(q1, 5, "\x07" "example" "\x03" "dbl" "\x03" "com" "\x07" "example" "\x04" "mail");

	static const char *const q2[] = {"_DMARC", "x-Y_z", "0", NULL};
	WIRE_OK(q2, 3, "\x01" "0" "\x05" "x-y_z" "\x06" "_dmarc");

	static const char *const q3[] = {"TEST", "bl", NULL};
	WIRE_OK(q3, 1, "\x04" "test");

	/* the same name parsed from text gives the same key form */
	static const char *const q4[] = {"A", "b", "C", "dd", NULL};
	struct wname w;
	struct entry_key kw, kt;
	uint8_t save[DNAME_KEY_MAX];
	wname_build(&w, q4, NULL);
	assert_int_equal(from_wire(&w, 4, &kw), 0);
	memcpy(save, kw.name, kw.name_len);
	size_t wl = kw.name_len;
	assert_int_equal(parse("a.B.c.DD", &kt), 0);
	assert_int_equal(kt.name_len, wl);
	assert_memory_equal(kt.name, save, wl);

	/* k = 0: no name */
	assert_int_equal(from_wire(&w, 0, &kw), DNSBL_ESYNTAX);
}

static void test_from_wire_bad_bytes(void **state)
{
	(void)state;
	static const uint8_t badc[] = {0x00, '.', ' ', 0x80, 0xff, '*', '/', ':', '@', '!',
				       '%', 0x7f, '\t', '\\', '"', 0xc3};
	for (size_t i = 0; i < sizeof(badc); i++) {
		for (int pos = 0; pos < 3; pos++) {
			char lab[4] = "abc";
			lab[pos] = (char)badc[i];
			const char *labels[] = {"ok", lab, "com", NULL};
			size_t lens[] = {2, 3, 3};
			struct wname w;
			struct entry_key k;
			wname_build(&w, labels, lens);
			int rc = from_wire(&w, 3, &k);
			if (rc != DNSBL_ESYNTAX)
				fail_msg("label with 0x%02x at %d: %d, want DNSBL_ESYNTAX", badc[i],
					 pos, rc);
			/* the same label below the k labels read does not matter */
			assert_int_equal(from_wire(&w, 1, &k), 0);
			assert_int_equal(k.name_len, 3);
		}
	}
	/* every byte value, alone in a label */
	for (int c = 0; c < 256; c++) {
		char lab[1] = {(char)c};
		const char *labels[] = {lab, "x", NULL};
		size_t lens[] = {1, 1};
		struct wname w;
		struct entry_key k;
		wname_build(&w, labels, lens);
		int rc = from_wire(&w, 2, &k);
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			  (c >= '0' && c <= '9') || c == '-' || c == '_';
		if (ok != (rc == 0))
			fail_msg("label \\x%02x: %d", c, rc);
		if (ok) {
			assert_int_equal(k.name_len, 4);
			assert_int_equal(k.name[3], (c >= 'A' && c <= 'Z') ? c | 0x20 : c);
		}
	}
}

static void test_from_wire_lengths(void **state)
{
	(void)state;
	char l63[64], l61[62], l62[63];
	memset(l63, 'a', 63);
	l63[63] = 0;
	memset(l61, 'b', 61);
	l61[61] = 0;
	memset(l62, 'c', 62);
	l62[62] = 0;
	struct wname w;
	struct entry_key k;

	/* 63.63.63.61: key form 254 bytes, the most there is */
	const char *ok[] = {l63, l63, l63, l61, NULL};
	wname_build(&w, ok, NULL);
	assert_int_equal(from_wire(&w, 4, &k), 0);
	assert_int_equal(k.name_len, DNAME_KEY_MAX);
	assert_int_equal(k.name[0], 61);
	assert_int_equal(k.name[DNAME_KEY_MAX - 1], 'a');

	/* 63.63.63.62: 255 bytes, one too many */
	const char *over1[] = {l63, l63, l63, l62, NULL};
	wname_build(&w, over1, NULL);
	assert_int_equal(from_wire(&w, 4, &k), DNSBL_ESYNTAX);
	assert_int_equal(from_wire(&w, 3, &k), 0);
	assert_int_equal(k.name_len, 192);

	/* 63.63.63.63: 256 bytes */
	const char *over2[] = {l63, l63, l63, l63, NULL};
	wname_build(&w, over2, NULL);
	assert_int_equal(from_wire(&w, 4, &k), DNSBL_ESYNTAX);

	/* 127 one-byte labels: 254 bytes */
	const char *many[129];
	for (int i = 0; i < 127; i++)
		many[i] = "Q";
	many[127] = NULL;
	wname_build(&w, many, NULL);
	assert_int_equal(from_wire(&w, 127, &k), 0);
	assert_int_equal(k.name_len, 254);
	assert_int_equal(k.name[253], 'q');
	assert_int_equal(dname_labels(k.name, k.name_len), 127);

	/* a label length byte over 63 (a compression pointer or a reserved type) */
	uint8_t bad[8] = {0x40, 'a'};
	uint8_t off[2] = {0, 0};
	assert_int_equal(dname_from_wire(guard_put(&gin, bad, 2), off, 1, outbuf(), &k),
			 DNSBL_ESYNTAX);
	bad[0] = 0xc0;
	bad[1] = 0x0c;
	assert_int_equal(dname_from_wire(guard_put(&gin, bad, 2), off, 1, outbuf(), &k),
			 DNSBL_ESYNTAX);
	/* the root label as one of the k */
	bad[0] = 0;
	assert_int_equal(dname_from_wire(guard_put(&gin, bad, 1), off, 1, outbuf(), &k),
			 DNSBL_ESYNTAX);
}

/* --- dname_format, dname_labels, dname_ancestor_len --- */

static void format_ok(const char *in, int with_kind, const char *want)
{
	struct entry_key k;
	char buf[DNAME_TEXT_MAX];
	int rc = parse(in, &k);
	if (rc != 0)
		fail_msg("dname_parse(\"%s\") = %d", in, rc);
	memset(buf, 'Z', sizeof(buf));
	size_t n = dname_format(&k, with_kind, buf, sizeof(buf));
	if (n != strlen(want) || strcmp(buf, want) != 0)
		fail_msg("dname_format(\"%s\", %d) = \"%s\" (%zu), want \"%s\"", in, with_kind, buf,
			 n, want);
}

static void test_format(void **state)
{
	(void)state;
	format_ok("example.com", 0, "example.com");
	format_ok("example.com", 1, "example.com");
	format_ok("Mail.Example.COM.", 1, "mail.example.com");
	format_ok("*.example.com", 0, "example.com");
	format_ok("*.example.com", 1, "*.example.com");
	format_ok(".example.com", 0, "example.com");
	format_ok(".example.com", 1, ".example.com");
	format_ok("*.X", 1, "*.x");
	format_ok(".X.", 1, ".x");
	format_ok("localhost", 1, "localhost");
	format_ok("_dmarc.a-b.c_d.E", 1, "_dmarc.a-b.c_d.e");
	format_ok("1.2.3.4", 1, "1.2.3.4");

	/* a key form built by hand */
	struct entry_key k = {.family = ADDR_FAMILY_NAME, .kind = DNAME_TREE,
			      .name = (const uint8_t *)"\x03org\x01z", .name_len = 6};
	char buf[DNAME_TEXT_MAX];
	assert_int_equal(dname_format(&k, 1, buf, sizeof(buf)), 6);
	assert_string_equal(buf, ".z.org");
	assert_int_equal(entry_key_format(&k, 0, buf, sizeof(buf)), 6);
	assert_string_equal(buf, ".z.org");
}

/* Parse and format again, for many names: the text comes back lower case, without a
 * trailing dot, with its kind. */
static void test_round_trip(void **state)
{
	(void)state;
	static const char *const names[] = {
		"example.com", "*.example.com", ".example.com", "localhost", "*.x", ".x",
		"a.b.c.d.e.f.g", "_spf.example.org", "xn--80ak6aa92e.com", "0.1.2.3",
		"a-.-b._c", "www.example.co.uk", "*.co.uk", ".bad-domain.test", NULL,
	};
	char s[300], t[700], buf[DNAME_TEXT_MAX];
	struct entry_key k;
	for (int i = 0; names[i]; i++) {
		assert_int_equal(parse(names[i], &k), 0);
		size_t n = dname_format(&k, 1, buf, sizeof(buf));
		assert_int_equal(n, strlen(names[i]));
		assert_string_equal(buf, names[i]);
		/* upper case with a trailing dot: the same key and text */
		for (size_t j = 0; names[i][j]; j++)
			s[j] = (names[i][j] >= 'a' && names[i][j] <= 'z') ? (char)(names[i][j] - 32)
									  : names[i][j];
		s[strlen(names[i])] = '.';
		s[strlen(names[i]) + 1] = '\0';
		assert_int_equal(parse(s, &k), 0);
		dname_format(&k, 1, buf, sizeof(buf));
		assert_string_equal(buf, names[i]);
	}

	/* random valid names of up to 252 characters (the longest, 253, with "*." is
	 * test_format_fits_exactly's) */
	static const char alpha[] = "abcdefghijklmnopqrstuvwxyz0123456789-_";
	srandom(4242);
	for (int iter = 0; iter < 3000; iter++) {
		size_t n = 0;
		size_t target = 1 + (size_t)(random() % 252);
		while (n < target) {
			size_t l = 1 + (size_t)(random() % 63);
			if (n + l > target)
				l = target - n;
			if (l == 0)
				break;
			for (size_t j = 0; j < l; j++)
				s[n++] = alpha[random() % (sizeof(alpha) - 1)];
			if (n + 1 < target)
				s[n++] = '.';
			else
				break;
		}
		s[n] = '\0';
		int kind = (int)(random() % 3);
		snprintf(t, sizeof(t), "%s%s", kind == 1 ? "*." : kind == 2 ? "." : "", s);
		int rc = parse(t, &k);
		if (rc != 0)
			fail_msg("dname_parse(\"%s\") = %d", t, rc);
		assert_int_equal(k.kind, kind == 1 ? DNAME_SUBS : kind == 2 ? DNAME_TREE : DNAME_EXACT);
		assert_int_equal(k.name_len, strlen(s) + 1);
		memset(buf, 'Z', sizeof(buf));
		size_t fl = dname_format(&k, 1, buf, sizeof(buf));
		if (fl != strlen(t) || strcmp(buf, t) != 0)
			fail_msg("round trip of \"%s\" (%zu chars) gave \"%s\" (%zu)", t, strlen(t), buf,
				 fl);
		fl = dname_format(&k, 0, buf, sizeof(buf));
		assert_int_equal(fl, strlen(s));
		assert_string_equal(buf, s);
	}
}

/* The text fits a buffer of exactly its length + 1: the longest names with their
 * kind prefix fit DNAME_TEXT_MAX ("*." + 253 + NUL), as dname.h promises. */
static void test_format_fits_exactly(void **state)
{
	(void)state;
	struct entry_key k0;
	char b0[64];
	assert_int_equal(parse("*.mail.example.com", &k0), 0);
	for (int with_kind = 0; with_kind < 2; with_kind++) {
		const char *want = with_kind ? "*.mail.example.com" : "mail.example.com";
		size_t need = strlen(want) + 1;
		size_t n = dname_format(&k0, with_kind, b0, need);
		if (n != need - 1 || strcmp(b0, want) != 0)
			fail_msg("dname_format(with_kind %d) in %zu bytes: \"%s\", want \"%s\"",
				 with_kind, need, b0, want);
	}

	char s[300], t[300], buf[DNAME_TEXT_MAX];
	struct entry_key k;
	size_t n = 0;
	for (int l = 0; l < 4; l++) {
		size_t ll = l < 3 ? 63 : 61;
		memset(s + n, 'a' + l, ll);
		n += ll;
		s[n++] = '.';
	}
	s[--n] = '\0';
	assert_int_equal(strlen(s), 253);
	static const char *const prefixes[] = {"", ".", "*."};
	for (int i = 0; i < 3; i++) {
		snprintf(t, sizeof(t), "%s%s", prefixes[i], s);
		assert_int_equal(parse(t, &k), 0);
		memset(buf, 'Z', sizeof(buf));
		size_t fl = dname_format(&k, 1, buf, sizeof(buf));
		if (fl != strlen(t) || strcmp(buf, t) != 0)
			fail_msg("dname_format of the %zu-character \"%.4s...\" in %d bytes: %zu "
				 "characters, ending \"%s\"",
				 strlen(t), t, DNAME_TEXT_MAX, fl, fl > 8 ? buf + fl - 8 : buf);
		fl = entry_key_format(&k, 1, buf, sizeof(buf));
		assert_int_equal(fl, strlen(t));
	}
}

/* Small buffers: never written past size, always NUL-terminated. */
static void test_format_small_buffers(void **state)
{
	(void)state;
	struct entry_key k;
	assert_int_equal(parse("*.mail.example.com", &k), 0);
	char full[DNAME_TEXT_MAX];
	size_t fl = dname_format(&k, 1, full, sizeof(full));
	assert_string_equal(full, "*.mail.example.com");
	for (size_t size = 0; size <= fl + 2; size++) {
		for (int with_kind = 0; with_kind < 2; with_kind++) {
			/* buf ends right at the guard page */
			char *buf = (char *)gout.map + gout.maplen - gout.page - size;
			if (size > 0)
				memset(buf, 'Z', size);
			size_t n = dname_format(&k, with_kind, buf, size);
			if (size == 0) {
				assert_int_equal(n, 0);
				continue;
			}
			assert_true(n < size);
			assert_int_equal(buf[n], '\0');
			assert_int_equal(strlen(buf), n);
		}
	}
}

static void test_labels_ancestors(void **state)
{
	(void)state;
	struct entry_key k;
	assert_int_equal(parse("mail.example.com", &k), 0);
	assert_int_equal(dname_labels(k.name, k.name_len), 3);
	assert_int_equal(dname_labels(k.name, 0), 0);
	static const size_t want[] = {0, 4, 12, 17};
	for (unsigned n = 0; n <= 3; n++)
		assert_int_equal(dname_ancestor_len(k.name, k.name_len, n), want[n]);
	/* ancestors' key forms are prefixes: com, example.com */
	assert_memory_equal(k.name, "\x03" "com", 4);
	assert_memory_equal(k.name, "\x03" "com" "\x07" "example", 12);

	assert_int_equal(parse("x", &k), 0);
	assert_int_equal(dname_labels(k.name, k.name_len), 1);
	assert_int_equal(dname_ancestor_len(k.name, k.name_len, 0), 0);
	assert_int_equal(dname_ancestor_len(k.name, k.name_len, 1), 2);

	/* every ancestor of a deep name, against the parse of its text */
	const char *deep = "a.bb.ccc.dddd.eeeee.ffffff.g";
	assert_int_equal(parse(deep, &k), 0);
	uint8_t save[DNAME_KEY_MAX];
	size_t slen = k.name_len;
	memcpy(save, k.name, slen);
	unsigned labels = dname_labels(save, slen);
	assert_int_equal(labels, 7);
	for (unsigned n = 0; n <= labels; n++) {
		size_t al = dname_ancestor_len(save, slen, n);
		/* the ancestor with n labels is the last n labels of the text */
		const char *p = deep + strlen(deep);
		for (unsigned c = 0; c < n; c++) {
			p--;
			while (p > deep && p[-1] != '.')
				p--;
		}
		if (n == 0) {
			assert_int_equal(al, 0);
			continue;
		}
		struct entry_key a;
		assert_int_equal(parse(p, &a), 0);
		assert_int_equal(a.name_len, al);
		assert_memory_equal(a.name, save, al);
		assert_int_equal(dname_labels(save, al), n);
	}

	/* the longest name: 127 labels */
	char s[300];
	size_t len = 0;
	for (int i = 0; i < 127; i++) {
		s[len++] = (char)('a' + i % 26);
		s[len++] = '.';
	}
	s[--len] = '\0';
	assert_int_equal(parse(s, &k), 0);
	assert_int_equal(dname_labels(k.name, k.name_len), 127);
	for (unsigned n = 0; n <= 127; n++)
		assert_int_equal(dname_ancestor_len(k.name, k.name_len, n), 2 * n);
}

/* --- entry keys of either family --- */

static int ekey(int names, const char *s, struct entry_key *k)
{
	size_t n = strlen(s);
	memset(k, 0x5a, sizeof(*k));
	return entry_key_parse(names, guard_put(&gin, s, n), n, outbuf(), k);
}

static void ekey_text(int names, const char *s, int bare, const char *want)
{
	struct entry_key k;
	char buf[ENTRY_KEY_TEXT_MAX];
	int rc = ekey(names, s, &k);
	if (rc != 0)
		fail_msg("entry_key_parse(%d, \"%s\") = %d", names, s, rc);
	size_t n = entry_key_format(&k, bare, buf, sizeof(buf));
	if (n != strlen(want) || strcmp(buf, want) != 0)
		fail_msg("entry_key_format(\"%s\", bare %d) = \"%s\", want \"%s\"", s, bare, buf,
			 want);
}

static void test_entry_key_names(void **state)
{
	(void)state;
	struct entry_key k;
	assert_int_equal(ekey(1, "Example.COM", &k), 0);
	assert_int_equal(k.family, ADDR_FAMILY_NAME);
	assert_int_equal(k.kind, DNAME_EXACT);
	assert_int_equal(k.name_len, 12);
	assert_memory_equal(k.name, "\x03" "com" "\x07" "example", 12);
	assert_int_equal(ekey(1, "*.example.com", &k), 0);
	assert_int_equal(k.kind, DNAME_SUBS);
	assert_int_equal(ekey(1, ".example.com", &k), 0);
	assert_int_equal(k.kind, DNAME_TREE);
	/* an address is a name when it is one */
	assert_int_equal(ekey(1, "1.2.3.4", &k), 0);
	assert_int_equal(k.family, ADDR_FAMILY_NAME);
	assert_int_equal(k.name_len, 8);
	assert_int_equal(ekey(1, "1.2.3.0/24", &k), DNSBL_ESYNTAX);
	assert_int_equal(ekey(1, "2001:db8::1", &k), DNSBL_ESYNTAX);
	assert_int_equal(ekey(1, "", &k), DNSBL_ESYNTAX);
	assert_int_equal(ekey(1, "a..b", &k), DNSBL_ESYNTAX);

	ekey_text(1, "Example.COM.", 0, "example.com");
	ekey_text(1, "*.Example.COM", 1, "*.example.com");
	ekey_text(1, ".example.com.", 1, ".example.com");
}

static void test_entry_key_ips(void **state)
{
	(void)state;
	struct entry_key k;

	assert_int_equal(ekey(0, "192.0.2.1", &k), 0);
	assert_int_equal(k.family, ADDR_FAMILY_V4);
	assert_int_equal(k.len, 32);
	assert_memory_equal(k.addr, "\xc0\x00\x02\x01", 4);
	assert_int_equal(ekey(0, "10.0.0.0/8", &k), 0);
	assert_int_equal(k.family, ADDR_FAMILY_V4);
	assert_int_equal(k.len, 8);
	assert_int_equal(ekey(0, "2001:db8::1", &k), 0);
	assert_int_equal(k.family, ADDR_FAMILY_V6);
	assert_int_equal(k.len, 128);
	assert_memory_equal(k.addr, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01", 16);
	assert_int_equal(ekey(0, "2001:db8::/32", &k), 0);
	assert_int_equal(k.family, ADDR_FAMILY_V6);
	assert_int_equal(k.len, 32);
	/* IPv4-mapped: the IPv4 prefix it maps */
	assert_int_equal(ekey(0, "::ffff:1.2.3.4", &k), 0);
	assert_int_equal(k.family, ADDR_FAMILY_V4);
	assert_int_equal(k.len, 32);
	assert_memory_equal(k.addr, "\x01\x02\x03\x04", 4);
	assert_int_equal(ekey(0, "::ffff:1.2.3.0/120", &k), 0);
	assert_int_equal(k.family, ADDR_FAMILY_V4);
	assert_int_equal(k.len, 24);
	assert_int_equal(ekey(0, "::FFFF:102:304", &k), 0);
	assert_int_equal(k.family, ADDR_FAMILY_V4);
	assert_memory_equal(k.addr, "\x01\x02\x03\x04", 4);
	/* host bits past the length */
	assert_int_equal(ekey(0, "2001:db8::1/64", &k), DNSBL_EHOSTBITS);
	assert_int_equal(ekey(0, "10.1.2.3/8", &k), DNSBL_EHOSTBITS);
	assert_int_equal(ekey(0, "::ffff:1.2.3.4/120", &k), DNSBL_EHOSTBITS);
	/* names are no addresses */
	static const char *const bad[] = {
		"example.com", "*.example.com", ".example.com", "localhost", "", "1.2.3",
		"2001:db8::1/129", "2001:zz::1", "fe80::1::2", "fe80::1%eth0", "1:2:3:4:5:6:7:8:9",
		"2001:db8::1 ", " 10.0.0.1", "10.0.0.1/", NULL,
	};
	for (int i = 0; bad[i]; i++) {
		int rc = ekey(0, bad[i], &k);
		if (rc != DNSBL_ESYNTAX)
			fail_msg("entry_key_parse(0, \"%s\") = %d, want DNSBL_ESYNTAX", bad[i], rc);
	}

	/* formats: RFC 5952 for IPv6 */
	ekey_text(0, "2001:db8::/32", 0, "2001:db8::/32");
	ekey_text(0, "2001:DB8:0:0::/32", 1, "2001:db8::/32");
	ekey_text(0, "2001:0db8:0000:0000:0000:0000:0000:0001", 1, "2001:db8::1");
	ekey_text(0, "2001:db8::1", 0, "2001:db8::1/128");
	ekey_text(0, "2001:db8:0:0:1:0:0:1", 1, "2001:db8::1:0:0:1");
	ekey_text(0, "2001:0:0:1:0:0:0:1", 1, "2001:0:0:1::1");
	ekey_text(0, "2001:db8:0:1:1:1:1:1", 1, "2001:db8:0:1:1:1:1:1");
	ekey_text(0, "2605:6001:42::/52", 1, "2605:6001:42::/52");
	ekey_text(0, "::1", 1, "::1");
	ekey_text(0, "::/0", 1, "::/0");
	ekey_text(0, "::ffff:1.2.3.4", 1, "1.2.3.4");
	ekey_text(0, "::ffff:1.2.3.4", 0, "1.2.3.4/32");
	ekey_text(0, "192.0.2.0/24", 1, "192.0.2.0/24");
	ekey_text(0, "192.0.2.7", 1, "192.0.2.7");
	ekey_text(0, "192.0.2.7", 0, "192.0.2.7/32");
	ekey_text(0, "0.0.0.0/0", 1, "0.0.0.0/0");
}

/* A name and an address as the same text read differently by zone type. */
static void test_entry_key_both(void **state)
{
	(void)state;
	struct entry_key k;
	assert_int_equal(ekey(0, "1.2.3.4", &k), 0);
	assert_int_equal(k.family, ADDR_FAMILY_V4);
	assert_int_equal(ekey(1, "1.2.3.4", &k), 0);
	assert_int_equal(k.family, ADDR_FAMILY_NAME);
	assert_int_equal(ekey(0, "1.2.3.0/24", &k), 0);
	assert_int_equal(ekey(1, "1.2.3.0/24", &k), DNSBL_ESYNTAX);
	assert_int_equal(ekey(0, "abc.def", &k), DNSBL_ESYNTAX);
	assert_int_equal(ekey(1, "abc.def", &k), 0);
	/* "face" is a name and no address; "face::" an address and no name */
	assert_int_equal(ekey(1, "face", &k), 0);
	assert_int_equal(ekey(0, "face", &k), DNSBL_ESYNTAX);
	assert_int_equal(ekey(0, "face::", &k), 0);
	assert_int_equal(ekey(1, "face::", &k), DNSBL_ESYNTAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_basic),
		cmocka_unit_test(test_parse_kinds),
		cmocka_unit_test(test_parse_lengths),
		cmocka_unit_test(test_parse_malformed),
		cmocka_unit_test(test_parse_prefixes),
		cmocka_unit_test(test_from_wire),
		cmocka_unit_test(test_from_wire_bad_bytes),
		cmocka_unit_test(test_from_wire_lengths),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_format_fits_exactly),
		cmocka_unit_test(test_format_small_buffers),
		cmocka_unit_test(test_labels_ancestors),
		cmocka_unit_test(test_entry_key_names),
		cmocka_unit_test(test_entry_key_ips),
		cmocka_unit_test(test_entry_key_both),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
