/* Unit tests for dnsbld/answer.h through its public functions, the protocol side:
 * EDNS (OPT, BADVERS, sizes), truncation (TC), header errors (NOTIMP, FORMERR,
 * dropped responses), ANY, a delisting answered at once, mutated queries, and the
 * zone table's lookup (tests/unit/answerip.h holds the fixture). */
#include "answerip.h"

/* Walks the response by hand (ldns hides the OPT record) and reports its OPT. */
static void opt_of(const uint8_t *pkt, size_t len, uint16_t *udp, uint8_t *ext_rcode,
		   uint8_t *version, int *count)
{
	size_t pos = 12;
	uint16_t counts[4] = {wire_get_u16(pkt + 4), wire_get_u16(pkt + 6),
			      wire_get_u16(pkt + 8), wire_get_u16(pkt + 10)};
	*count = 0;
	for (int s = 0; s < 4; s++) {
		for (unsigned i = 0; i < counts[s]; i++) {
			assert_int_equal(dns_name_parse(pkt, len, &pos, NULL, NULL), 0);
			if (s == 0) {
				pos += 4;
				continue;
			}
			assert_true(pos + 10 <= len);
			uint16_t type = wire_get_u16(pkt + pos);
			if (type == DNS_T_OPT) {
				(*count)++;
				*udp = wire_get_u16(pkt + pos + 2);
				*ext_rcode = pkt[pos + 4];
				*version = pkt[pos + 5];
				assert_int_equal(s, 3);
			}
			pos += 10 + wire_get_u16(pkt + pos + 8);
		}
	}
	assert_int_equal(pos, len);
}

static void test_edns(void **state)
{
	(void)state;
	uint16_t udp = 0;
	uint8_t ext = 0, ver = 0;
	int n = 0;

	/* no OPT in, no OPT out */
	ldns_pkt *p = ask("1.2.0.192.bl.example", DNS_T_A, NULL);
	assert_non_null(p);
	opt_of(rbuf, rlen, &udp, &ext, &ver, &n);
	assert_int_equal(n, 0);
	ldns_pkt_free(p);

	/* OPT echoed with our size */
	struct qopt o = {.id = 1, .edns = true, .udp = 4096};
	p = ask("1.2.0.192.bl.example", DNS_T_A, &o);
	assert_non_null(p);
	assert_a(p, 0x7f000002, 300);
	opt_of(rbuf, rlen, &udp, &ext, &ver, &n);
	assert_int_equal(n, 1);
	assert_int_equal(udp, ANSWER_EDNS_UDP_SIZE);
	assert_int_equal(ext, 0);
	assert_int_equal(ver, 0);
	ldns_pkt_free(p);

	/* version 1: BADVERS (extended rcode 1 in the OPT, 0 in the header) */
	o.version = 1;
	p = ask("1.2.0.192.bl.example", DNS_T_A, &o);
	assert_non_null(p);
	opt_of(rbuf, rlen, &udp, &ext, &ver, &n);
	assert_int_equal(n, 1);
	assert_int_equal((ext << 4) | (rbuf[3] & 0x0f), DNS_R_BADVERS);
	assert_int_equal(ver, 0);
	assert_int_equal(ldns_pkt_ancount(p), 0);
	ldns_pkt_free(p);

	/* two OPTs: FORMERR */
	o.version = 0;
	o.two_opts = true;
	p = ask("1.2.0.192.bl.example", DNS_T_A, &o);
	assert_non_null(p);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_FORMERR);
	assert_int_equal(ldns_pkt_ancount(p), 0);
	ldns_pkt_free(p);
}

static void test_truncation(void **state)
{
	(void)state;
	/* 600 bytes of TXT do not fit in 512 without EDNS: TC, no partial record */
	struct qopt o = {.id = 3};
	ldns_pkt *p = ask("10.2.0.192.bl.example", DNS_T_TXT, &o);
	assert_non_null(p);
	assert_true(ldns_pkt_tc(p));
	assert_true(rlen <= 512);
	assert_int_equal(ldns_pkt_ancount(p), 0);
	assert_question_echoed();
	ldns_pkt_free(p);

	/* with EDNS 4096 they fit in our 1232 */
	o.edns = true;
	o.udp = 4096;
	p = ask("10.2.0.192.bl.example", DNS_T_TXT, &o);
	assert_non_null(p);
	assert_false(ldns_pkt_tc(p));
	assert_int_equal(ldns_pkt_ancount(p), 1);
	assert_true(rlen <= ANSWER_EDNS_UDP_SIZE);
	ldns_pkt_free(p);

	/* the client's size between 512 and ours is the limit; the OPT stays */
	o.udp = 600;
	p = ask("10.2.0.192.bl.example", DNS_T_TXT, &o);
	assert_non_null(p);
	assert_true(ldns_pkt_tc(p));
	assert_true(rlen <= 600);
	{
		uint16_t u = 0;
		uint8_t e = 0, v = 0;
		int cnt = 0;
		opt_of(rbuf, rlen, &u, &e, &v, &cnt);
		assert_int_equal(cnt, 1);
	}
	ldns_pkt_free(p);

	/* an EDNS size below 512 counts as 512 */
	o.udp = 100;
	p = ask("10.2.0.192.bl.example", DNS_T_TXT, &o);
	assert_non_null(p);
	assert_true(ldns_pkt_tc(p));
	assert_true(rlen <= 512);
	ldns_pkt_free(p);

	/* a small answer always fits */
	p = ask("1.2.0.192.bl.example", DNS_T_TXT, &o);
	assert_non_null(p);
	assert_false(ldns_pkt_tc(p));
	ldns_pkt_free(p);

	/* the caller's buffer is a hard limit over TCP too */
	struct qopt t = {.id = 4, .tcp = true, .outcap = 300};
	p = ask("10.2.0.192.bl.example", DNS_T_TXT, &t);
	assert_true(rlen <= 300);
	if (p) {
		assert_true(ldns_pkt_tc(p));
		ldns_pkt_free(p);
	}
}

static void test_header_errors(void **state)
{
	(void)state;
	/* opcode NOTIFY: NOTIMP */
	struct qopt o = {.id = 5, .flags = 4 << 11};
	ldns_pkt *p = ask("1.2.0.192.bl.example", DNS_T_A, &o);
	assert_non_null(p);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NOTIMPL);
	assert_int_equal(ldns_pkt_ancount(p), 0);
	ldns_pkt_free(p);

	/* QR=1: dropped */
	o.flags = DNS_F_QR;
	qlen = build_query(qbuf, "1.2.0.192.bl.example", DNS_T_A, &o);
	answer_batch_begin(&ctx);
	assert_int_equal(answer_query(&ctx, qbuf, qlen, rbuf, sizeof(rbuf), false), 0);
	/* too short: dropped */
	assert_int_equal(answer_query(&ctx, qbuf, 11, rbuf, sizeof(rbuf), false), 0);
	answer_batch_end(&ctx);

	/* qdcount 2: FORMERR */
	o.flags = 0;
	o.qdcount = 2;
	qlen = build_query(qbuf, "1.2.0.192.bl.example", DNS_T_A, &o);
	answer_batch_begin(&ctx);
	rlen = answer_query(&ctx, qbuf, qlen, rbuf, sizeof(rbuf), false);
	answer_batch_end(&ctx);
	assert_true(rlen >= 12);
	assert_int_equal(wire_get_u16(rbuf), 5);
	assert_int_equal(rbuf[3] & 0x0f, DNS_R_FORMERR);
	assert_true(rbuf[2] & 0x80);

	/* a truncated question: FORMERR, never a crash */
	o.qdcount = 1;
	qlen = build_query(qbuf, "1.2.0.192.bl.example", DNS_T_A, &o);
	for (size_t len = 12; len < qlen; len++) {
		answer_batch_begin(&ctx);
		rlen = answer_query(&ctx, guard_put(&gb, qbuf, len), len, rbuf, sizeof(rbuf), false);
		answer_batch_end(&ctx);
		assert_true(rlen >= 12);
		assert_int_equal(rbuf[3] & 0x0f, DNS_R_FORMERR);
		ldns_pkt *pp = NULL;
		assert_int_equal(ldns_wire2pkt(&pp, rbuf, rlen), LDNS_STATUS_OK);
		ldns_pkt_free(pp);
	}
}

static void test_any(void **state)
{
	(void)state;
	ldns_pkt *p = ask("2.2.0.192.bl.example", DNS_T_ANY, NULL);
	assert_non_null(p);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	assert_true(ldns_pkt_ancount(p) >= 1 && ldns_pkt_ancount(p) <= 2);
	assert_true(rlen < 512);
	ldns_pkt_free(p);
	p = ask("10.2.0.192.bl.example", DNS_T_ANY, NULL);
	assert_non_null(p);
	assert_true(rlen < 512); /* never the 600-byte TXT */
	assert_false(ldns_pkt_tc(p));
	ldns_pkt_free(p);
}

/* Over UDP, AXFR is refused and an IXFR at the apex gets the SOA alone (RFC 1995 2:
 * use TCP), with the serial an SOA query gets; elsewhere IXFR is refused. */
static void test_transfer_types_over_udp(void **state)
{
	(void)state;
	ldns_pkt *soa = ask("bl.example", DNS_T_SOA, NULL);
	assert_non_null(soa);
	assert_int_equal(ldns_pkt_ancount(soa), 1);
	uint32_t serial = ldns_rdf2native_int32(
		ldns_rr_rdf(ldns_rr_list_rr(ldns_pkt_answer(soa), 0), 2));
	ldns_pkt_free(soa);

	ldns_pkt *p = ask("bl.example", DNS_T_IXFR, NULL);
	assert_non_null(p);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	assert_true(ldns_pkt_aa(p));
	assert_int_equal(ldns_pkt_ancount(p), 1);
	assert_int_equal(ldns_pkt_nscount(p), 0);
	ldns_rr *rr = ldns_rr_list_rr(ldns_pkt_answer(p), 0);
	assert_int_equal(ldns_rr_get_type(rr), LDNS_RR_TYPE_SOA);
	assert_int_equal(ldns_rdf2native_int32(ldns_rr_rdf(rr, 2)), serial);
	ldns_pkt_free(p);

	p = ask("bl.example", DNS_T_AXFR, NULL);
	assert_non_null(p);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_REFUSED);
	assert_int_equal(ldns_pkt_ancount(p), 0);
	ldns_pkt_free(p);
	p = ask("2.0.0.127.bl.example", DNS_T_IXFR, NULL);
	assert_non_null(p);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_REFUSED);
	ldns_pkt_free(p);
	p = ask("not-ours.example", DNS_T_IXFR, NULL);
	assert_non_null(p);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_REFUSED);
	ldns_pkt_free(p);
}

/* A delisting is answered by the next batch. */
static void test_delist_immediate(void **state)
{
	(void)state;
	expect_a("200.113.0.203.bl.example", 0x7f000002, 300);
	uint32_t serial = store_serial("bl.example");

	struct store_writer *w;
	struct store_zone *z;
	assert_int_equal(store_writer_begin(S, &w), 0);
	assert_int_equal(store_writer_zone(w, "bl.example", &z), 0);
	struct entry_key pfx;
	prefix4_make(&pfx, 0xcb007100u, 24);
	assert_int_equal(store_delete(w, z, &pfx), 0);
	assert_int_equal(put_entry(w, z, "203.0.113.200/32", STORE_F_A, 0x7f000009, NULL, 0), 0);
	assert_int_equal(store_writer_commit(w), 0);

	expect_nxdomain("199.113.0.203.bl.example", DNS_T_A);
	expect_a("200.113.0.203.bl.example", 0x7f000009, 300);
	assert_int_equal(store_serial("bl.example"), serial + 1);
	ldns_pkt *p = ask("bl.example", DNS_T_SOA, NULL);
	assert_non_null(p);
	assert_int_equal(ldns_rdf2native_int32(ldns_rr_rdf(ldns_rr_list_rr(ldns_pkt_answer(p), 0), 2)),
			 serial + 1);
	ldns_pkt_free(p);
}

/* Mutated queries: never a crash, the output stays in the buffer, and what comes
 * out is a DNS message ldns can read. */
static void test_random_queries(void **state)
{
	(void)state;
	static const char *const names[] = {"1.2.0.192.bl.example", "bl.example",
					    "2.0.192.bl.example", "x.wl.example"};
	srandom(777);
	for (int iter = 0; iter < 20000; iter++) {
		struct qopt o = {.id = (uint16_t)random(), .edns = random() & 1};
		qlen = build_query(qbuf, names[iter % 4], (uint16_t)(random() % 300), &o);
		int flips = 1 + (int)(random() % 4);
		for (int f = 0; f < flips; f++)
			qbuf[random() % qlen] = (uint8_t)random();
		size_t len = (iter % 5 == 0) ? (size_t)(random() % (qlen + 1)) : qlen;
		size_t cap = (iter % 7 == 0) ? 12 + (size_t)(random() % 600) : sizeof(rbuf);
		answer_batch_begin(&ctx);
		rlen = answer_query(&ctx, guard_put(&gb, qbuf, len), len, rbuf, cap, iter & 1);
		answer_batch_end(&ctx);
		assert_true(rlen <= cap);
		if (rlen == 0)
			continue;
		assert_true(rlen >= 12);
		assert_int_equal(wire_get_u16(rbuf), wire_get_u16(qbuf));
		assert_true(rbuf[2] & 0x80);
		ldns_pkt *p = NULL;
		ldns_status st = ldns_wire2pkt(&p, rbuf, rlen);
		if (st != LDNS_STATUS_OK)
			fail_msg("iteration %d: response of %zu bytes unreadable: %s", iter, rlen,
				 ldns_get_errorstr_by_id(st));
		ldns_pkt_free(p);
	}
}

/* Longest apex match on label boundaries, any case. */
static void test_zone_table_find(void **state)
{
	(void)state;
	char path[400];
	snprintf(path, sizeof(path), "%s/nested.conf", dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	static const char *const zones[] = {"example", "bl.example", "x.bl.example", "other.test"};
	fprintf(f, "[server]\ndb = db\n");
	for (int i = 0; i < 4; i++)
		fprintf(f, "[zone %s]\ntype = ip\nttl = 60\na = 127.0.0.2\n"
			   "soa = ns1.example. hm.example. 1 2 3 4\nns = ns1.example.\n",
			zones[i]);
	fclose(f);
	struct config c2;
	char err[2048] = "";
	int rc = config_load(path, &c2, err, sizeof(err));
	if (rc != 0)
		fail_msg("config_load: %d %s", rc, err);
	struct zone_table t2;
	assert_int_equal(zone_table_init(&t2, &c2), 0);
	assert_int_equal(t2.count, 4);

	static const struct {
		const char *name;
		const char *zone; /* NULL: none */
	} cases[] = {
		{"1.2.3.4.x.bl.example", "x.bl.example"},
		{"x.bl.example", "x.bl.example"},
		{"X.BL.Example", "x.bl.example"},
		{"1.2.3.4.bl.example", "bl.example"},
		{"bl.example", "bl.example"},
		{"y.bl.example", "bl.example"},
		{"xx.bl.example", "bl.example"},
		{"xbl.example", "example"},
		{"foo.example", "example"},
		{"example", "example"},
		{"EXAMPLE", "example"},
		{"a.other.test", "other.test"},
		{"test", NULL},
		{"example.com", NULL},
		{"bl.example.com", NULL},
		{"", NULL},
		{"other.test.example", "example"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct qopt o = {.id = 1};
		struct dns_query q;
		qlen = build_query(qbuf, cases[i].name, DNS_T_A, &o);
		const uint8_t *g = guard_put(&gb, qbuf, qlen);
		assert_int_equal(dns_query_parse(g, qlen, &q), DNS_PARSE_OK);
		int zi = zone_table_find(&t2, g + 12, q.label_off, q.nlabels);
		const char *got = zi < 0 ? NULL : t2.zones[zi].cfg->name;
		if ((got == NULL) != (cases[i].zone == NULL) ||
		    (got && strcmp(got, cases[i].zone) != 0))
			fail_msg("zone_table_find(%s) = %s, want %s", cases[i].name,
				 got ? got : "none", cases[i].zone ? cases[i].zone : "none");
	}
	zone_table_free(&t2);
	config_free(&c2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_edns),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_header_errors),
		cmocka_unit_test(test_any),
		cmocka_unit_test(test_transfer_types_over_udp),
		cmocka_unit_test(test_delist_immediate),
		cmocka_unit_test(test_random_queries),
		cmocka_unit_test(test_zone_table_find),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
