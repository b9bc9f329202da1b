/* Unit tests for dnsbld's answers in domain zones (type = name): exact, "*." and "."
 * entries, case, exclusions, empty non-terminals, expiry, the test points, bad bytes
 * and the exempt allowlist, through the real answer_query on a real store
 * (tests/unit/answerzones.h). */
#include "answerzones.h"

/* ------------------------------------------------------------------------------ */
/* domain zones */

static void test_name_exact(void **state)
{
	(void)state;
	expect_a("exact.example.dbl.example", A4(127, 0, 1, 2));
	expect_txt("exact.example.dbl.example",
		   "Listed exact.example (see https://dbl.example/?d=exact.example)");
	/* only the name itself */
	expect_nxdomain("sub.exact.example.dbl.example");
	expect_nxdomain("a.b.exact.example.dbl.example");
	expect_nxdomain("xexact.example.dbl.example");
	expect_nxdomain("exact.examples.dbl.example");
	/* its parent holds it: empty non-terminal */
	expect_nodata("example.dbl.example");
	/* other types */
	expect_nodata_type("exact.example.dbl.example", DNS_T_AAAA);
	/* a listed name with an own TXT, and one without TXT */
	expect_txt("own.example.dbl.example", "own text for own.example and own.example");
	expect_a("notxt.example.dbl.example", A4(127, 0, 1, 2));
	expect_nodata_type("notxt.example.dbl.example", DNS_T_TXT);
}

static void test_name_case(void **state)
{
	(void)state;
	/* the entry was written as "Example.COM" */
	expect_a("example.com.dbl.example", A4(127, 0, 1, 2));
	expect_a("ExAmPle.CoM.dbl.example", A4(127, 0, 1, 2));
	expect_a("EXAMPLE.COM.DBL.EXAMPLE", A4(127, 0, 1, 2));
	/* "$" is the queried name in lower case */
	expect_txt("ExAmPle.CoM.Dbl.Example",
		   "Listed example.com (see https://dbl.example/?d=example.com)");
	expect_txt("EXACT.Example.dbl.example",
		   "Listed exact.example (see https://dbl.example/?d=exact.example)");
	expect_nodata("COM.dbl.example");
}

static void test_name_subs(void **state)
{
	(void)state;
	expect_a("a.subs.example.dbl.example", A4(127, 0, 1, 3));
	expect_a("x.y.z.subs.example.dbl.example", A4(127, 0, 1, 3));
	expect_txt("Deep.A.subs.example.dbl.example",
		   "Listed deep.a.subs.example (see https://dbl.example/?d=deep.a.subs.example)");
	/* the name itself is not listed, but has listed names below it */
	expect_nodata("subs.example.dbl.example");
	expect_nodata("SUBS.example.dbl.example");
	expect_nxdomain("xsubs.example.dbl.example");
}

static void test_name_tree(void **state)
{
	(void)state;
	expect_a("tree.example.dbl.example", A4(127, 0, 1, 4));
	expect_a("a.tree.example.dbl.example", A4(127, 0, 1, 4));
	expect_a("a.b.c.d.tree.example.dbl.example", A4(127, 0, 1, 4));
	expect_txt("A.Tree.Example.dbl.example",
		   "Listed a.tree.example (see https://dbl.example/?d=a.tree.example)");
	expect_nxdomain("xtree.example.dbl.example");
	/* "ok.tree.example" is excluded, the names below it are not */
	expect_nodata("ok.tree.example.dbl.example");
	expect_a("x.ok.tree.example.dbl.example", A4(127, 0, 1, 4));
	/* ".no.tree.example" excludes the name and everything below it (but for
	 * z.x.no.tree.example: test_name_listed_inside_exclusion) */
	expect_nxdomain("w.no.tree.example.dbl.example");
	expect_nxdomain("y.w.no.tree.example.dbl.example");
	expect_a("xno.tree.example.dbl.example", A4(127, 0, 1, 4));
}

/* A name listed below an excluded tree: the longest match wins, and the names between
 * the exclusion and it are empty non-terminals (as for IP prefixes: a listed /128
 * inside an excluded /64 makes the nibble names between them NODATA). */
static void test_name_listed_inside_exclusion(void **state)
{
	(void)state;
	expect_a("z.x.no.tree.example.dbl.example", A4(127, 0, 1, 6));
	expect_nxdomain("y.x.no.tree.example.dbl.example");
	expect_nodata("x.no.tree.example.dbl.example");
	expect_nodata("no.tree.example.dbl.example");
}

static void test_name_ent(void **state)
{
	(void)state;
	/* an entry deep below: a.b.c.example */
	expect_a("a.b.c.example.dbl.example", A4(127, 0, 1, 2));
	expect_nodata("b.c.example.dbl.example");
	expect_nodata("c.example.dbl.example");
	expect_nodata("example.dbl.example");
	expect_nxdomain("x.c.example.dbl.example");
	expect_nxdomain("x.b.c.example.dbl.example");
	expect_nxdomain("x.a.b.c.example.dbl.example");
	expect_nxdomain("b.c.example2.dbl.example");
	expect_nxdomain("c.dbl.example");
}

static void test_name_expired(void **state)
{
	(void)state;
	/* the entries exist, expired */
	struct store_reader *r;
	struct store_zone z;
	struct store_entry e;
	uint8_t buf[DNAME_KEY_MAX];
	struct entry_key k;
	assert_int_equal(store_reader_new(S, &r), 0);
	assert_int_equal(store_reader_begin(r), 0);
	assert_int_equal(store_zone_get(r, "dbl.example", &z), 0);
	assert_int_equal(dname_parse("expired.example", 15, buf, &k), 0);
	assert_int_equal(store_entry_get(r, &z, &k, &e), 0);
	assert_int_equal(store_entry_state(&e, now0), STORE_STATE_EXPIRED);
	store_reader_end(r);
	store_reader_free(r);

	expect_nxdomain("expired.example.dbl.example");
	expect_nxdomain("old.expired2.example.dbl.example");
	/* an expired entry below makes no empty non-terminal */
	expect_nxdomain("expired2.example.dbl.example");
}

static void test_name_test_points(void **state)
{
	(void)state;
	static const char *const listed[] = {"test.dbl.example", "TEST.dbl.example",
					     "TeSt.DBL.example", NULL};
	for (int i = 0; listed[i]; i++)
		expect_a(listed[i], A4(127, 0, 1, 2));
	expect_txt("Test.dbl.example", "Listed test (see https://dbl.example/?d=test)");
	static const char *const unlisted[] = {"invalid.dbl.example", "INVALID.dbl.example",
					       "InValid.dbl.example", NULL};
	for (int i = 0; unlisted[i]; i++)
		expect_nxdomain(unlisted[i]);
	/* only the one-label names */
	expect_nxdomain("x.test.dbl.example");
	expect_nxdomain("test.x.dbl.example");
	/* in every name zone */
	expect_a("test.dwl.example", A4(127, 0, 15, 3));
	expect_nxdomain("invalid.dwl.example");
}

static void test_name_bad_bytes(void **state)
{
	(void)state;
	/* a byte no entry can have, anywhere in the name: NXDOMAIN, even below a tree */
	static const char *const bad[] = {
		"*.tree.example.dbl.example",
		"a\\*b.tree.example.dbl.example",
		"\\128.tree.example.dbl.example",
		"a\\255.exact.example.dbl.example",
		"a\\032b.tree.example.dbl.example",
		"a b.tree.example.dbl.example",
		"\\000.tree.example.dbl.example",
		"x\\.y.tree.example.dbl.example",
		"a.tr\\@ee.example.dbl.example",
		"exact.exam\\!ple.dbl.example",
		"*.subs.example.dbl.example",
		"\\128.dbl.example",
		NULL,
	};
	for (int i = 0; bad[i]; i++)
		expect_nxdomain(bad[i]);
	/* digits, hyphens and underscores are fine */
	expect_a("_dmarc.tree.example.dbl.example", A4(127, 0, 1, 4));
	expect_a("1-2.tree.example.dbl.example", A4(127, 0, 1, 4));
}

/* A name that is listed and on the exemption list: never answered as listed. */
static void test_name_exempt(void **state)
{
	(void)state;
	/* good.tree.example: listed (own entry and under .tree.example), but in dwl */
	ldns_pkt *p = ask("good.tree.example.dbl.example", DNS_T_A);
	int rcode = ldns_pkt_get_rcode(p);
	unsigned an = ldns_pkt_ancount(p);
	ldns_pkt_free(p);
	if (an != 0)
		fail_msg("good.tree.example: %u answers (rcode %d), want none", an, rcode);
	/* the allowlist answers its own code for it */
	expect_a("good.tree.example.dwl.example", A4(127, 0, 15, 3));
	expect_nxdomain("bad.tree.example.dwl.example");
	/* the names below it are not on the allowlist */
	expect_a("x.good.tree.example.dbl.example", A4(127, 0, 1, 4));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_name_exact),
		cmocka_unit_test(test_name_case),
		cmocka_unit_test(test_name_subs),
		cmocka_unit_test(test_name_tree),
		cmocka_unit_test(test_name_listed_inside_exclusion),
		cmocka_unit_test(test_name_ent),
		cmocka_unit_test(test_name_expired),
		cmocka_unit_test(test_name_test_points),
		cmocka_unit_test(test_name_bad_bytes),
		cmocka_unit_test(test_name_exempt),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
