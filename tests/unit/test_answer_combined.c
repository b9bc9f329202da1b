/* Unit tests for dnsbld's answers in combined zones and IP zones with an exempt
 * allowlist, and mutated IPv6/domain/combined queries that must always get a readable
 * answer, through the real answer_query on a real store (tests/unit/answerzones.h). */
#include "answerzones.h"

/* ------------------------------------------------------------------------------ */
/* combined zones */

static void test_combined(void **state)
{
	(void)state;
	/* in both members: both codes, both TXTs */
	expect_a2("1.2.0.192.comb.example", A4(127, 0, 0, 2), A4(127, 0, 0, 4));
	static const char *const both[] = {"c1 says 192.0.2.1", "c2 says 192.0.2.1"};
	expect_txts("1.2.0.192.comb.example", 2, both);
	/* in one */
	expect_a("2.2.0.192.comb.example", A4(127, 0, 0, 2));
	expect_txt("2.2.0.192.comb.example", "c1 says 192.0.2.2");
	expect_a("3.2.0.192.comb.example", A4(127, 0, 0, 4));
	expect_txt("3.2.0.192.comb.example", "c2 says 192.0.2.3");
	/* in none */
	expect_nxdomain("4.2.0.192.comb.example");
	expect_nxdomain("1.1.1.1.comb.example");
	/* above entries of either member */
	expect_nodata("2.0.192.comb.example");
	expect_nxdomain("3.0.192.comb.example");
	/* the test points: every member's code */
	expect_a2("2.0.0.127.comb.example", A4(127, 0, 0, 2), A4(127, 0, 0, 4));
	static const char *const tp[] = {"c1 says 127.0.0.2", "c2 says 127.0.0.2"};
	expect_txts("2.0.0.127.comb.example", 2, tp);
	expect_nxdomain("1.0.0.127.comb.example");
	/* identical codes and TXT templates are given once */
	expect_a("5.2.0.192.comb.example", A4(127, 0, 0, 2));
	expect_txt("5.2.0.192.comb.example", "c1 says 192.0.2.5");
	/* IPv6: the /48 of c1 and the /128 of c2 */
	char name[400];
	nibble_name("2001:db8:c::1", 32, "comb.example", name);
	expect_a2(name, A4(127, 0, 0, 2), A4(127, 0, 0, 4));
	nibble_name("2001:db8:c::2", 32, "comb.example", name);
	expect_a(name, A4(127, 0, 0, 2));
	nibble_name("2001:db8:d::2", 32, "comb.example", name);
	expect_nxdomain(name);
	nibble_name("::ffff:127.0.0.2", 32, "comb.example", name);
	expect_a2(name, A4(127, 0, 0, 2), A4(127, 0, 0, 4));
	/* the members answer alone as before */
	expect_a("1.2.0.192.c1.example", A4(127, 0, 0, 2));
	expect_a("1.2.0.192.c2.example", A4(127, 0, 0, 4));
	expect_nxdomain("3.2.0.192.c1.example");
}

static void test_combined_apex(void **state)
{
	(void)state;
	ldns_pkt *p = expect_answers("comb.example", DNS_T_SOA, 1);
	ldns_rr *soa = ldns_rr_list_rr(ldns_pkt_answer(p), 0);
	assert_int_equal(ldns_rdf2native_int32(ldns_rr_rdf(soa, 2)),
			 store_serial("c1.example") + store_serial("c2.example"));
	ldns_pkt_free(p);
	expect_nodata("comb.example");
}

static void test_combined_names(void **state)
{
	(void)state;
	expect_a2("both.example.combn.example", A4(127, 0, 1, 2), A4(127, 0, 1, 5));
	static const char *const both[] = {
		"Listed both.example (see https://dbl.example/?d=both.example)",
		"second both.example"};
	expect_txts("Both.Example.combn.example", 2, both);
	expect_a("only2.example.combn.example", A4(127, 0, 1, 5));
	expect_a("a.tree.example.combn.example", A4(127, 0, 1, 4));
	expect_nodata("example.combn.example");
	expect_nxdomain("none.example.combn.example");
	expect_a2("test.combn.example", A4(127, 0, 1, 2), A4(127, 0, 1, 5));
	expect_nxdomain("invalid.combn.example");
	/* a member's exemption applies inside the combined zone too */
	ldns_pkt *p = ask("good.tree.example.combn.example", DNS_T_A);
	unsigned an = ldns_pkt_ancount(p);
	ldns_pkt_free(p);
	assert_int_equal(an, 0);
}

/* ------------------------------------------------------------------------------ */
/* exemption lists of IP zones */

static void test_exempt_ip(void **state)
{
	(void)state;
	char name[400];
	/* 192.0.2.0/24 is listed in blx, 192.0.2.7 in the allowlist */
	expect_a("8.2.0.192.blx.example", A4(127, 0, 0, 2));
	expect_txt("8.2.0.192.blx.example", "blocked 192.0.2.8");
	expect_nxdomain("7.2.0.192.blx.example");
	expect_a("7.2.0.192.allow.example", A4(127, 0, 15, 3));
	expect_txt("7.2.0.192.allow.example", "allowed 192.0.2.7");
	expect_nxdomain("8.2.0.192.allow.example");
	/* the same through the mapped IPv6 name */
	nibble_name("::ffff:192.0.2.7", 32, "blx.example", name);
	expect_nxdomain(name);
	nibble_name("::ffff:192.0.2.7", 32, "allow.example", name);
	expect_a(name, A4(127, 0, 15, 3));
	/* IPv6 */
	nibble_name("2001:db8:e::7", 32, "blx.example", name);
	expect_nxdomain(name);
	nibble_name("2001:db8:e::8", 32, "blx.example", name);
	expect_a(name, A4(127, 0, 0, 2));
	nibble_name("2001:db8:e::7", 32, "allow.example", name);
	expect_a(name, A4(127, 0, 15, 3));
	/* allowed but not listed: not listed either way */
	expect_nxdomain("1.0.0.10.blx.example");
	expect_a("1.0.0.10.allow.example", A4(127, 0, 15, 3));
	/* the test point stays listed */
	expect_a("2.0.0.127.blx.example", A4(127, 0, 0, 2));
}

/* Mutated name-zone and nibble queries: never a crash, always a readable answer. */
static void test_random_queries(void **state)
{
	(void)state;
	char v6[400];
	nibble_name("2001:db8:abcd::1", 32, "ip6.example", v6);
	const char *names[] = {"a.b.c.example.dbl.example", "x.ok.tree.example.dbl.example",
			       "1.2.0.192.comb.example", "both.example.combn.example", v6};
	srandom(5353);
	for (int iter = 0; iter < 20000; iter++) {
		qlen = build_query(qbuf, names[iter % 5], iter & 1 ? DNS_T_TXT : DNS_T_A,
				   (uint16_t)iter);
		int flips = 1 + (int)(random() % 3);
		for (int f = 0; f < flips; f++) {
			size_t at = 12 + (size_t)random() % (qlen - 16); /* inside the name */
			qbuf[at] = (random() & 1) ? (uint8_t)random() : (uint8_t)"aZ*.-_ \x80"[random() % 8];
		}
		answer_batch_begin(&ctx);
		rlen = answer_query(&ctx, guard_put(&gb, qbuf, qlen), qlen, rbuf, 512, false);
		answer_batch_end(&ctx);
		assert_true(rlen <= 512);
		if (rlen == 0)
			continue;
		ldns_pkt *p = NULL;
		ldns_status st = ldns_wire2pkt(&p, rbuf, rlen);
		if (st != LDNS_STATUS_OK)
			fail_msg("iteration %d: response of %zu bytes unreadable: %s", iter, rlen,
				 ldns_get_errorstr_by_id(st));
		ldns_pkt_free(p);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_combined),
		cmocka_unit_test(test_combined_apex),
		cmocka_unit_test(test_combined_names),
		cmocka_unit_test(test_exempt_ip),
		cmocka_unit_test(test_random_queries),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
