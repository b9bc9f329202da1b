/* Unit tests for lib/txt.c: the template check (length and "$" count) and the
 * expansion of "$" and "$$". Templates are handed over with their exact length and
 * without a NUL terminator (placed right before an unmapped page, see testutil.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "err.h"
#include "testutil.h"
#include "txt.h"

static struct guard_buf gb;

static int setup(void **state)
{
	(void)state;
	return guard_init(&gb, TXT_EXPANDED_MAX + 64);
}

static int teardown(void **state)
{
	(void)state;
	guard_free(&gb);
	return 0;
}

static int check(const char *tpl, size_t len)
{
	return txt_template_check(guard_put(&gb, tpl, len), len);
}

/* Expands tpl with subst into a buffer of outsize bytes; wants text want. */
static void want_expand(const char *tpl, const char *subst, size_t outsize, const char *want)
{
	char out[64];
	size_t len = strlen(tpl);

	assert_true(outsize < sizeof(out));
	memset(out, '#', sizeof(out));
	size_t n = txt_expand(guard_put(&gb, tpl, len), len, subst, strlen(subst), out, outsize);
	if (n != strlen(want) || memcmp(out, want, n) != 0)
		fail_msg("txt_expand(\"%s\", \"%s\", %zu) = \"%.*s\", want \"%s\"", tpl, subst,
			 outsize, (int)n, out, want);
	assert_int_equal(out[n], '#'); /* no NUL added, nothing past the text */
}

static void test_check_length(void **state)
{
	(void)state;
	static char tpl[TXT_TEMPLATE_MAX + 1];
	memset(tpl, 'x', sizeof(tpl));
	assert_int_equal(check(tpl, 0), 0);
	assert_int_equal(check(tpl, TXT_TEMPLATE_MAX), 0);
	assert_int_equal(check(tpl, TXT_TEMPLATE_MAX + 1), DNSBL_ERANGE);
}

static void test_check_substitutions(void **state)
{
	(void)state;
	char tpl[128];
	size_t n = 0;
	for (int i = 0; i < TXT_SUBST_MAX; i++)
		n += (size_t)snprintf(tpl + n, sizeof(tpl) - n, "$ ");
	assert_int_equal(check(tpl, n), 0);
	tpl[n] = '$';
	assert_int_equal(check(tpl, n + 1), DNSBL_ERANGE);
	/* "$$" is a dollar sign, not a substitution */
	n = 0;
	for (int i = 0; i < 40; i++)
		n += (size_t)snprintf(tpl + n, sizeof(tpl) - n, "$$");
	assert_int_equal(check(tpl, n), 0);
	/* "$$$ ": a dollar sign, then a substitution ("$$$$" is two dollar signs) */
	n = 0;
	for (int i = 0; i < TXT_SUBST_MAX + 1; i++)
		n += (size_t)snprintf(tpl + n, sizeof(tpl) - n, "$$$ ");
	assert_int_equal(check(tpl, n), DNSBL_ERANGE);
	assert_int_equal(check(tpl, n - 4), 0);
	memset(tpl, '$', 2 * (TXT_SUBST_MAX + 1));
	assert_int_equal(check(tpl, 2 * (TXT_SUBST_MAX + 1)), 0);
}

static void test_expand(void **state)
{
	(void)state;
	want_expand("Listed $", "192.0.2.1", 60, "Listed 192.0.2.1");
	want_expand("$ and $", "x", 60, "x and x");
	want_expand("costs $$5", "x", 60, "costs $5");
	want_expand("a$$$b", "X", 60, "a$Xb");
	want_expand("$$", "x", 60, "$");
	want_expand("", "x", 60, "");
	want_expand("no subst", "", 60, "no subst");
	want_expand("$", "", 60, "");
}

/* Output past outsize is cut, in the template's text or in a substitution. */
static void test_expand_cut(void **state)
{
	(void)state;
	want_expand("abcdef", "x", 3, "abc");
	want_expand("ab$", "example.com", 6, "abexam");
	want_expand("$$$$", "x", 1, "$");
	want_expand("abc", "x", 0, "");
}

/* The longest template with TXT_SUBST_MAX substitutions of a 253-byte name fits
 * TXT_EXPANDED_MAX. */
static void test_expand_max(void **state)
{
	(void)state;
	static char tpl[TXT_TEMPLATE_MAX], name[253], out[TXT_EXPANDED_MAX];
	memset(tpl, 't', sizeof(tpl));
	for (int i = 0; i < TXT_SUBST_MAX; i++)
		tpl[i * 8] = '$';
	memset(name, 'n', sizeof(name));
	assert_int_equal(check(tpl, sizeof(tpl)), 0);
	size_t n = txt_expand(guard_put(&gb, tpl, sizeof(tpl)), sizeof(tpl), name, sizeof(name),
			      out, sizeof(out));
	assert_int_equal(n, sizeof(tpl) - TXT_SUBST_MAX + TXT_SUBST_MAX * sizeof(name));
	assert_true(n <= TXT_EXPANDED_MAX);
	assert_int_equal(out[0], 'n');
	assert_int_equal(out[n - 1], 't');
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_check_length),
		cmocka_unit_test(test_check_substitutions),
		cmocka_unit_test(test_expand),
		cmocka_unit_test(test_expand_cut),
		cmocka_unit_test(test_expand_max),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
