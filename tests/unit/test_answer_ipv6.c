/* Unit tests for dnsbld's answers in IPv6 zones: nibble names, label forms, partial
 * names, the test points and IPv4-mapped addresses, through the real answer_query on
 * a real store (tests/unit/answerzones.h). */
#include "answerzones.h"

/* ------------------------------------------------------------------------------ */
/* IPv6 nibble names */

static void test_v6_listed(void **state)
{
	(void)state;
	char name[400];

	/* a listed /128 */
	nibble_name("2001:db8::5", 32, "ip6.example", name);
	expect_a(name, A4(127, 0, 0, 2));
	expect_txt(name, "v6 2001:db8::5");
	nibble_name("2001:db8::4", 32, "ip6.example", name);
	expect_nxdomain(name);
	nibble_name("2001:db8::5:0", 32, "ip6.example", name);
	expect_nxdomain(name);

	/* addresses inside a listed /48, with "$" the queried address */
	static const char *const inside[] = {"2001:db8:abcd::", "2001:db8:abcd::1",
					     "2001:db8:abcd:1::9", "2001:db8:abcd:ffff:ffff:ffff:ffff:ffff",
					     NULL};
	for (int i = 0; inside[i]; i++) {
		char want[100];
		nibble_name(inside[i], 32, "ip6.example", name);
		expect_a(name, A4(127, 0, 0, 3));
		snprintf(want, sizeof(want), "v6 %s", inside[i]);
		expect_txt(name, want);
	}
	nibble_name("2001:db8:abce::1", 32, "ip6.example", name);
	expect_nxdomain(name);
	nibble_name("2001:db8:abcc:ffff::1", 32, "ip6.example", name);
	expect_nxdomain(name);
	/* an exclusion inside it */
	nibble_name("2001:db8:abcd:ffff::9", 32, "ip6.example", name);
	expect_nxdomain(name);
	nibble_name("2001:db8:abcd:ffff::8", 32, "ip6.example", name);
	expect_a(name, A4(127, 0, 0, 3));
	/* a listed /128 inside an excluded /64 inside the listed /48 */
	nibble_name("2001:db8:abcd:eeee::1", 32, "ip6.example", name);
	expect_a(name, A4(127, 0, 0, 6));
	nibble_name("2001:db8:abcd:eeee::2", 32, "ip6.example", name);
	expect_nxdomain(name);
	nibble_name("2001:db8:abcd:eeee::", 20, "ip6.example", name);
	expect_nodata(name);
	nibble_name("2001:db8:abcd:eeee:1::", 20, "ip6.example", name);
	expect_nxdomain(name);
	/* an own TXT with "$" */
	nibble_name("2001:db8:beef::1", 32, "ip6.example", name);
	expect_txt(name, "own 2001:db8:beef::1 text");
	/* expired */
	nibble_name("2001:db8:dead::1", 32, "ip6.example", name);
	expect_nxdomain(name);

	/* other types: NODATA */
	nibble_name("2001:db8::5", 32, "ip6.example", name);
	expect_nodata_type(name, DNS_T_AAAA);
}

static void test_v6_label_forms(void **state)
{
	(void)state;
	char name[400], other[500];

	/* upper-case hex nibbles */
	nibble_name("2001:db8:abcd::fe", 32, "ip6.example", name);
	for (char *c = name; *c && c < name + 64; c++)
		if (*c >= 'a' && *c <= 'f')
			*c = (char)(*c - 32);
	assert_non_null(strstr(name, "E.F.0"));
	expect_a(name, A4(127, 0, 0, 3));
	expect_txt(name, "v6 2001:db8:abcd::fe");

	/* 33 labels: no address, and nothing below it */
	nibble_name("2001:db8::5", 32, "ip6.example", name);
	snprintf(other, sizeof(other), "0.%s", name);
	expect_nxdomain(other);
	snprintf(other, sizeof(other), "f.%s", name);
	expect_nxdomain(other);
	snprintf(other, sizeof(other), "x.%s", name);
	expect_nxdomain(other);

	/* one label of two characters, or a non-hex one */
	nibble_name("2001:db8::5", 32, "ip6.example", name);
	memcpy(other, "ab", 2);
	strcpy(other + 2, name + 1); /* "ab." + the other 31 labels */
	expect_nxdomain(other);
	strcpy(other, name);
	other[0] = 'g';
	expect_nxdomain(other);
	strcpy(other, name);
	other[20] = 'G'; /* a label in the middle */
	assert_int_equal(other[21], '.');
	expect_nxdomain(other);
	strcpy(other, name);
	other[0] = '-';
	expect_nxdomain(other);
	/* an empty-looking label: a byte 0 or a dot inside */
	snprintf(other, sizeof(other), "\\000.%s", name + 2);
	expect_nxdomain(other);
	snprintf(other, sizeof(other), "\\..%s", name + 2);
	expect_nxdomain(other);
	/* 31 labels plus one of two characters ("05"): 32 labels, still no address */
	snprintf(other, sizeof(other), "05.%s", name + 2);
	expect_nxdomain(other);
}

static void test_v6_partial(void **state)
{
	(void)state;
	char name[400];

	/* above listed prefixes: empty non-terminals */
	nibble_name("2001:db8::", 8, "ip6.example", name);
	assert_string_equal(name, "8.b.d.0.1.0.0.2.ip6.example");
	expect_nodata(name);
	nibble_name("2001:db8::", 4, "ip6.example", name);
	expect_nodata(name);
	nibble_name("2001:db8::", 1, "ip6.example", name);
	expect_nodata(name);
	nibble_name("2001:db8:abcd::", 11, "ip6.example", name);
	expect_nodata(name);
	/* the /48 itself and inside it */
	nibble_name("2001:db8:abcd::", 12, "ip6.example", name);
	expect_nodata(name);
	nibble_name("2001:db8:abcd:1::", 16, "ip6.example", name);
	expect_nodata(name);
	nibble_name("2001:db8:abcd:1::", 31, "ip6.example", name);
	expect_nodata(name);
	/* above the /128 */
	nibble_name("2001:db8::5", 31, "ip6.example", name);
	expect_nodata(name);
	nibble_name("2001:db8::", 20, "ip6.example", name);
	expect_nodata(name);

	/* beside them */
	nibble_name("2001:db9::", 8, "ip6.example", name);
	expect_nxdomain(name);
	nibble_name("2001:db8:abce::", 12, "ip6.example", name);
	expect_nxdomain(name);
	nibble_name("2001:db8::6", 31, "ip6.example", name);
	expect_nodata(name); /* 2001:db8::0/124 holds ::5 */
	nibble_name("2001:db8::16", 31, "ip6.example", name);
	expect_nxdomain(name);
	nibble_name("3000::", 1, "ip6.example", name);
	expect_nxdomain(name);
	/* only an exclusion or an expired entry below */
	nibble_name("2001:db8:dead::1", 20, "ip6.example", name);
	expect_nxdomain(name);

	/* above the IPv6 test point ::ffff:127.0.0.2 */
	nibble_name("::", 1, "ip6.example", name);
	expect_nodata(name);
	nibble_name("::ffff:127.0.0.0", 28, "ip6.example", name);
	expect_nodata(name);
	nibble_name("::ffff:127.0.0.0", 31, "ip6.example", name);
	expect_nodata(name);
}

static void test_v6_test_points(void **state)
{
	(void)state;
	char name[400];
	nibble_name("::ffff:127.0.0.2", 32, "ip6.example", name);
	expect_a(name, A4(127, 0, 0, 2));
	expect_txt(name, "v6 127.0.0.2");
	nibble_name("::ffff:127.0.0.1", 32, "ip6.example", name);
	expect_nxdomain(name);
	/* in every IP zone */
	nibble_name("::ffff:127.0.0.2", 32, "allow.example", name);
	expect_a(name, A4(127, 0, 15, 3));
	nibble_name("::ffff:127.0.0.1", 32, "allow.example", name);
	expect_nxdomain(name);
	/* and only the mapped form: ::127.0.0.2 (IPv4-compatible) is not the test point */
	nibble_name("::127.0.0.2", 32, "ip6.example", name);
	expect_nxdomain(name);
}

static void test_v6_mapped(void **state)
{
	(void)state;
	char name[400];
	/* ::ffff:192.0.2.1 answers like 192.0.2.1, "$" in IPv4 form */
	nibble_name("::ffff:192.0.2.1", 32, "ip6.example", name);
	expect_a(name, A4(127, 0, 0, 9));
	expect_txt(name, "v6 192.0.2.1");
	expect_a("1.2.0.192.ip6.example", A4(127, 0, 0, 9));
	expect_txt("1.2.0.192.ip6.example", "v6 192.0.2.1");
	nibble_name("::ffff:192.0.2.2", 32, "ip6.example", name);
	expect_nxdomain(name);
}

/* The mapped name of a listed IPv4 address exists (it answers A), so its parents are
 * empty non-terminals, not NXDOMAIN: a resolver that trusts NXDOMAIN for everything
 * below (RFC 8020) would otherwise never ask for the listed name. */
static void test_v6_mapped_partial(void **state)
{
	(void)state;
	char name[400];
	nibble_name("::ffff:192.0.2.1", 32, "ip6.example", name);
	expect_a(name, A4(127, 0, 0, 9));
	static const unsigned nibbles[] = {31, 30, 28, 24, 0};
	for (int i = 0; nibbles[i]; i++) {
		nibble_name("::ffff:192.0.2.0", nibbles[i], "ip6.example", name);
		expect_nodata(name);
	}
	nibble_name("::ffff:192.0.3.0", 30, "ip6.example", name);
	expect_nxdomain(name);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v6_listed),
		cmocka_unit_test(test_v6_label_forms),
		cmocka_unit_test(test_v6_partial),
		cmocka_unit_test(test_v6_test_points),
		cmocka_unit_test(test_v6_mapped),
		cmocka_unit_test(test_v6_mapped_partial),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
