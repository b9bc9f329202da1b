/* Unit tests for dnsbld/answer.h through its public functions, the listing answers:
 * listed (A, TXT, long TXT), NXDOMAIN with SOA, NODATA, empty non-terminals, IPv6
 * names, the apex, REFUSED, the test points, allowlist zones and exemptions. The
 * fixture (tests/unit/answerip.h): a config and a store in a temporary directory,
 * queries built by hand, responses read back with ldns and checked against the DNS
 * behaviour checklist of the design. */
#include "answerip.h"

/* --- tests --- */

/* IPv6 names: 32 nibble labels, longest-prefix match with exclusions, "$" as the
 * compressed address, empty non-terminals, IPv4-mapped addresses answered like IPv4. */
static void test_ipv6_names(void **state)
{
	(void)state;
	char name[300], t[512];

	nibble_name("2001:db8::5", 32, "bl.example", name);
	expect_a(name, 0x7f000002, 300);
	ldns_pkt *p = ask(name, DNS_T_TXT, NULL);
	assert_non_null(p);
	txt_of(p, t, sizeof(t), NULL);
	assert_string_equal(t, "v6 2001:db8::5 listed");
	ldns_pkt_free(p);

	nibble_name("2001:db8:1::1", 32, "bl.example", name);
	expect_nxdomain(name, DNS_T_A);            /* excluded */
	nibble_name("2001:db9::5", 32, "bl.example", name);
	expect_nxdomain(name, DNS_T_A);            /* outside the /32 */
	nibble_name("2001:db8::", 8, "bl.example", name);
	expect_nodata(name, DNS_T_A);              /* 8.b.d.0.1.0.0.2: listed below */
	nibble_name("2001:db9::", 8, "bl.example", name);
	expect_nxdomain(name, DNS_T_A);
	nibble_name("2001:db8::", 12, "bl.example", name);
	expect_nodata(name, DNS_T_A);              /* inside the listed /32 */

	/* hex nibbles in any case */
	nibble_name("2001:db8::abcd", 32, "bl.example", name);
	for (char *c = name; *c; c++)
		if (*c >= 'a' && *c <= 'f')
			*c = (char)(*c - 32);
	expect_a(name, 0x7f000002, 300);

	/* ::ffff:192.0.2.1 answers like 192.0.2.1, "$" in IPv4 form */
	nibble_name("::ffff:192.0.2.1", 32, "bl.example", name);
	expect_a(name, 0x7f000002, 300);
	p = ask(name, DNS_T_TXT, NULL);
	assert_non_null(p);
	txt_of(p, t, sizeof(t), NULL);
	assert_string_equal(t, "Listed, see https://bl.example/lookup?ip=192.0.2.1");
	ldns_pkt_free(p);
	nibble_name("::ffff:192.0.2.3", 32, "bl.example", name);
	expect_nxdomain(name, DNS_T_A);

	/* 33 nibbles, two-character labels, non-hex: not an address */
	nibble_name("2001:db8::5", 32, "bl.example", name);
	char longer[320];
	snprintf(longer, sizeof(longer), "0.%s", name);
	expect_nxdomain(longer, DNS_T_A);
	expect_nxdomain("10.8.b.d.0.1.0.0.2.bl.example", DNS_T_A);
	expect_nxdomain("g.8.b.d.0.1.0.0.2.bl.example", DNS_T_A);
}

static void test_listed_a(void **state)
{
	(void)state;
	expect_a("1.2.0.192.bl.example", 0x7f000002, 300);  /* zone default A */
	expect_a("2.2.0.192.bl.example", 0x7f000003, 300);  /* own A */
	expect_a("4.2.0.192.bl.example", 0x7f000005, 300);
	expect_a("9.100.51.198.bl.example", 0x7f000003, 300); /* inside the /24 */
	expect_a("200.113.0.203.bl.example", 0x7f000002, 300);
	/* the name's case is echoed as sent */
	expect_a("1.2.0.192.BL.Example", 0x7f000002, 300);
	expect_a("1.2.0.192.bL.eXAMPLE", 0x7f000002, 300);
}

static void test_listed_txt(void **state)
{
	(void)state;
	char t[2048];
	ldns_pkt *p = ask("1.2.0.192.bl.example", DNS_T_TXT, NULL);
	assert_non_null(p);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	assert_true(ldns_pkt_aa(p));
	txt_of(p, t, sizeof(t), NULL);
	assert_string_equal(t, "Listed, see https://bl.example/lookup?ip=192.0.2.1");
	assert_int_equal(ldns_rr_ttl(ldns_rr_list_rr(ldns_pkt_answer(p), 0)), 300);
	ldns_pkt_free(p);

	p = ask("2.2.0.192.bl.example", DNS_T_TXT, NULL);
	assert_non_null(p);
	txt_of(p, t, sizeof(t), NULL);
	assert_string_equal(t, "Open relay at 192.0.2.2");
	ldns_pkt_free(p);

	/* "$$" is a dollar sign */
	p = ask("11.2.0.192.bl.example", DNS_T_TXT, NULL);
	assert_non_null(p);
	txt_of(p, t, sizeof(t), NULL);
	assert_string_equal(t, "cost $5 for 192.0.2.11");
	ldns_pkt_free(p);

	/* an entry without TXT: NODATA for TXT, still listed for A */
	expect_nodata("4.2.0.192.bl.example", DNS_T_TXT);

	/* over 255 bytes: several strings in one record (TCP, so it fits) */
	struct qopt o = {.id = 7, .tcp = true};
	p = ask("10.2.0.192.bl.example", DNS_T_TXT, &o);
	assert_non_null(p);
	assert_false(ldns_pkt_tc(p));
	size_t ns = 0;
	size_t n = txt_of(p, t, sizeof(t), &ns);
	assert_int_equal(n, LONG_TXT_LEN);
	assert_memory_equal(t, long_txt, LONG_TXT_LEN);
	assert_int_equal(ns, 3);
	ldns_pkt_free(p);
}

static void test_not_listed(void **state)
{
	(void)state;
	expect_nxdomain("3.2.0.192.bl.example", DNS_T_A);
	expect_nxdomain("3.2.0.192.bl.example", DNS_T_TXT);
	expect_nxdomain("1.1.1.1.bl.example", DNS_T_A);
	/* excluded */
	expect_nxdomain("7.100.51.198.bl.example", DNS_T_A);
	expect_nxdomain("7.100.51.198.bl.example", DNS_T_TXT);
	expect_a("8.100.51.198.bl.example", 0x7f000003, 300);
	/* expired */
	expect_nxdomain("9.2.0.192.bl.example", DNS_T_A);
	/* malformed address labels, wrong label counts */
	expect_nxdomain("256.2.0.192.bl.example", DNS_T_A);
	expect_nxdomain("01.2.0.192.bl.example", DNS_T_A);
	expect_nxdomain("1.02.0.192.bl.example", DNS_T_A);
	expect_nxdomain("a.2.0.192.bl.example", DNS_T_A);
	expect_nxdomain("-1.2.0.192.bl.example", DNS_T_A);
	expect_nxdomain("1.1.2.0.192.bl.example", DNS_T_A);
	expect_nxdomain("www.bl.example", DNS_T_A);
	expect_nxdomain("x.1.2.0.192.bl.example", DNS_T_A);
}

static void test_other_types(void **state)
{
	(void)state;
	/* listed name, another type: NODATA */
	expect_nodata("1.2.0.192.bl.example", DNS_T_AAAA);
	expect_nodata("1.2.0.192.bl.example", 15 /* MX */);
}

static void test_empty_non_terminals(void **state)
{
	(void)state;
	/* entries below: NODATA (RFC 8020) */
	expect_nodata("2.0.192.bl.example", DNS_T_A);
	expect_nodata("0.192.bl.example", DNS_T_A);
	expect_nodata("192.bl.example", DNS_T_A);
	expect_nodata("100.51.198.bl.example", DNS_T_A); /* the /24 itself */
	expect_nodata("113.0.203.bl.example", DNS_T_TXT);
	/* nothing below: NXDOMAIN */
	expect_nxdomain("3.0.192.bl.example", DNS_T_A);
	expect_nxdomain("1.192.bl.example", DNS_T_A);
	expect_nxdomain("10.bl.example", DNS_T_A);
	/* only an expired entry below */
	expect_nxdomain("5.0.192.bl.example", DNS_T_A);
	expect_nxdomain("5.5.0.192.bl.example", DNS_T_A);
	/* malformed partial names */
	expect_nxdomain("256.bl.example", DNS_T_A);
	expect_nxdomain("01.bl.example", DNS_T_A);
}

static void test_apex(void **state)
{
	(void)state;
	ldns_pkt *p = ask("bl.example", DNS_T_SOA, NULL);
	assert_non_null(p);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	assert_true(ldns_pkt_aa(p));
	assert_int_equal(ldns_pkt_ancount(p), 1);
	ldns_rr *soa = ldns_rr_list_rr(ldns_pkt_answer(p), 0);
	assert_int_equal(ldns_rr_get_type(soa), LDNS_RR_TYPE_SOA);
	ldns_rdf *mname = ldns_dname_new_frm_str("ns1.bl.example.");
	ldns_rdf *rname = ldns_dname_new_frm_str("hostmaster.bl.example.");
	assert_int_equal(ldns_dname_compare(ldns_rr_rdf(soa, 0), mname), 0);
	assert_int_equal(ldns_dname_compare(ldns_rr_rdf(soa, 1), rname), 0);
	ldns_rdf_deep_free(mname);
	ldns_rdf_deep_free(rname);
	assert_int_equal(ldns_rdf2native_int32(ldns_rr_rdf(soa, 2)), store_serial("bl.example"));
	assert_int_equal(ldns_rdf2native_int32(ldns_rr_rdf(soa, 3)), 3600);
	assert_int_equal(ldns_rdf2native_int32(ldns_rr_rdf(soa, 4)), 600);
	assert_int_equal(ldns_rdf2native_int32(ldns_rr_rdf(soa, 5)), 86400);
	assert_int_equal(ldns_rdf2native_int32(ldns_rr_rdf(soa, 6)), 120);
	ldns_pkt_free(p);

	p = ask("BL.example", DNS_T_NS, NULL);
	assert_non_null(p);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	assert_true(ldns_pkt_aa(p));
	ldns_rr_list *an = ldns_pkt_answer(p);
	assert_int_equal(ldns_rr_list_rr_count(an), 2);
	ldns_rdf *ns1 = ldns_dname_new_frm_str("ns1.bl.example.");
	ldns_rdf *ns2 = ldns_dname_new_frm_str("ns2.bl.example.");
	for (int i = 0; i < 2; i++) {
		ldns_rr *rr = ldns_rr_list_rr(an, (size_t)i);
		assert_int_equal(ldns_rr_get_type(rr), LDNS_RR_TYPE_NS);
		ldns_rdf *t = ldns_rr_rdf(rr, 0);
		assert_true(ldns_dname_compare(t, ns1) == 0 || ldns_dname_compare(t, ns2) == 0);
		assert_int_equal(ldns_rdf_size(ldns_rr_owner(rr)), 12);
		assert_memory_equal(ldns_rdf_data(ldns_rr_owner(rr)), "\002BL\007example", 12);
	}
	ldns_rdf_deep_free(ns1);
	ldns_rdf_deep_free(ns2);
	ldns_pkt_free(p);

	/* apex, another type: NODATA */
	expect_nodata("bl.example", DNS_T_A);
	expect_nodata("bl.example", DNS_T_TXT);
}

static void test_refused(void **state)
{
	(void)state;
	static const char *const names[] = {"example", "example.com", "xbl.example",
					    "bl.example.com", "", NULL};
	for (int i = 0; names[i]; i++) {
		ldns_pkt *p = ask(names[i], DNS_T_A, NULL);
		assert_non_null(p);
		if (ldns_pkt_get_rcode(p) != LDNS_RCODE_REFUSED)
			fail_msg("'%s': rcode %d, want REFUSED", names[i], ldns_pkt_get_rcode(p));
		assert_int_equal(ldns_pkt_ancount(p), 0);
		assert_false(ldns_pkt_aa(p)); /* not our zone: not authoritative */
		ldns_pkt_free(p);
	}
}

static void test_test_points(void **state)
{
	(void)state;
	expect_a("2.0.0.127.bl.example", 0x7f000002, 300);
	expect_nxdomain("1.0.0.127.bl.example", DNS_T_A);
	expect_a("2.0.0.127.wl.example", 0x7f00000a, 600);
	expect_nxdomain("1.0.0.127.wl.example", DNS_T_A);
	ldns_pkt *p = ask("2.0.0.127.bl.example", DNS_T_TXT, NULL);
	assert_non_null(p);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	ldns_pkt_free(p);
}

static void test_allowlist_zone(void **state)
{
	(void)state;
	expect_a("50.2.0.192.wl.example", 0x7f00000a, 600);
	expect_nxdomain("1.2.0.192.wl.example", DNS_T_A);
}

/* bl.example has "exempt = wl.example": 192.0.2.50 is in both, so bl.example
 * must not answer it as listed (design: "an allowlist zone whose entries are
 * never answered as listed here"). */
static void test_exempt(void **state)
{
	(void)state;
	expect_nxdomain("50.2.0.192.bl.example", DNS_T_A);
	expect_nxdomain("50.2.0.192.bl.example", DNS_T_TXT);
	/* the rest of bl.example is unaffected */
	expect_a("1.2.0.192.bl.example", 0x7f000002, 300);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_listed_a),
		cmocka_unit_test(test_ipv6_names),
		cmocka_unit_test(test_listed_txt),
		cmocka_unit_test(test_not_listed),
		cmocka_unit_test(test_other_types),
		cmocka_unit_test(test_empty_non_terminals),
		cmocka_unit_test(test_apex),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_test_points),
		cmocka_unit_test(test_allowlist_zone),
		cmocka_unit_test(test_exempt),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
