/* Differential tests of lib/wire.h against ldns in both directions: ldns builds
 * thousands of random queries that dns_query_parse must read as ldns does, and
 * answers built with the wire_out helpers must read back in ldns as the records that
 * were written. Parsed packets sit right before a guard page (testutil.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <ldns/ldns.h>

#include "err.h"
#include "testutil.h"
#include "wire.h"

static struct guard_buf gb;

static int setup(void **state)
{
	(void)state;
	return guard_init(&gb, 70000);
}

static int teardown(void **state)
{
	(void)state;
	guard_free(&gb);
	return 0;
}

static size_t random_name(uint8_t *wire, unsigned *labels)
{
	size_t n = 0;
	unsigned nl = 0;
	int want = (int)(random() % 12);
	if (random() % 8 == 0)
		want = 200; /* as long as possible */
	for (int i = 0; i < want; i++) {
		size_t ll = 1 + (size_t)(random() % 63);
		if (random() % 3 == 0)
			ll = 1 + (size_t)(random() % 4);
		if (n + 1 + ll + 1 > DNS_NAME_MAX) {
			if (n + 3 > DNS_NAME_MAX)
				break;
			ll = DNS_NAME_MAX - n - 2;
		}
		wire[n++] = (uint8_t)ll;
		for (size_t k = 0; k < ll; k++) {
			long r = random();
			switch (r & 3) {
			case 0: wire[n++] = (uint8_t)('a' + (r >> 2) % 26); break;
			case 1: wire[n++] = (uint8_t)('A' + (r >> 2) % 26); break;
			case 2: wire[n++] = (uint8_t)('0' + (r >> 2) % 10); break;
			default: wire[n++] = (uint8_t)(r >> 2); break; /* any byte */
			}
		}
		nl++;
	}
	wire[n++] = 0;
	*labels = nl;
	return n;
}

static void test_ldns_queries(void **state)
{
	(void)state;
	srandom(0x5eed);
	static const uint16_t udps[] = {512, 1232, 1400, 4096};
	for (int iter = 0; iter < 4000; iter++) {
		uint8_t name[DNS_NAME_MAX + 1];
		unsigned nl;
		size_t nlen = random_name(name, &nl);
		uint16_t qtype = (uint16_t)(1 + random() % 65535);
		if (qtype == DNS_T_OPT || iter % 3 == 0)
			qtype = (uint16_t)((const uint16_t[]){DNS_T_A, DNS_T_TXT, DNS_T_AAAA,
							      DNS_T_SOA, DNS_T_NS, DNS_T_ANY}[iter % 6]);
		uint16_t qclass = (uint16_t)(iter % 4 == 0 ? 1 + random() % 65535 : DNS_C_IN);
		uint16_t id = (uint16_t)random();
		bool rd = random() & 1, cd = random() & 1, ad = random() & 1;
		bool edns = random() & 1, dobit = random() & 1;
		uint16_t udp = (random() & 1) ? udps[random() % 4]
					      : (uint16_t)(512 + random() % (65535 - 512));

		ldns_rdf *qname = ldns_rdf_new_frm_data(LDNS_RDF_TYPE_DNAME, nlen, name);
		assert_non_null(qname);
		assert_int_equal(ldns_dname_label_count(qname), nl);
		ldns_pkt *pkt = ldns_pkt_query_new(qname, (ldns_rr_type)qtype,
						   (ldns_rr_class)qclass, 0);
		assert_non_null(pkt);
		ldns_pkt_set_id(pkt, id);
		ldns_pkt_set_rd(pkt, rd);
		ldns_pkt_set_cd(pkt, cd);
		ldns_pkt_set_ad(pkt, ad);
		if (edns) {
			ldns_pkt_set_edns_udp_size(pkt, udp);
			ldns_pkt_set_edns_do(pkt, dobit);
			ldns_pkt_set_edns_version(pkt, 0);
		}
		uint8_t *wire = NULL;
		size_t wlen = 0;
		assert_int_equal(ldns_pkt2wire(&wire, pkt, &wlen), LDNS_STATUS_OK);

		struct dns_query q;
		memset(&q, 0xa5, sizeof(q));
		const uint8_t *g = guard_put(&gb, wire, wlen);
		enum dns_parse_result r = dns_query_parse(g, wlen, &q);
		if (r != DNS_PARSE_OK)
			fail_msg("iteration %d: ldns query of %zu bytes (qtype %u qclass %u edns %d) "
				 "parsed as %d rcode %d",
				 iter, wlen, qtype, qclass, edns, r, q.rcode);
		assert_int_equal(q.id, ldns_pkt_id(pkt));
		assert_int_equal(q.flags, wire_get_u16(wire + 2));
		assert_int_equal(!!(q.flags & DNS_F_RD), ldns_pkt_rd(pkt));
		assert_int_equal(!!(q.flags & DNS_F_CD), ldns_pkt_cd(pkt));
		assert_int_equal(!!(q.flags & DNS_F_AD), ldns_pkt_ad(pkt));
		assert_int_equal(!!(q.flags & DNS_F_QR), 0);
		assert_int_equal(DNS_OPCODE(q.flags), 0);
		assert_int_equal(q.qdcount, 1);
		assert_true(q.has_question);

		ldns_rr *qrr = ldns_rr_list_rr(ldns_pkt_question(pkt), 0);
		ldns_rdf *owner = ldns_rr_owner(qrr);
		assert_int_equal(q.qname_len, ldns_rdf_size(owner));
		assert_int_equal(dns_name_equal(g + 12, ldns_rdf_data(owner), q.qname_len), 1);
		assert_memory_equal(g + 12, ldns_rdf_data(owner), q.qname_len);
		assert_int_equal(q.nlabels, ldns_dname_label_count(owner));
		/* label offsets walk the name */
		size_t off = 0;
		for (unsigned i = 0; i < q.nlabels; i++) {
			assert_int_equal(q.label_off[i], off);
			off += 1u + g[12 + off];
		}
		assert_int_equal(g[12 + off], 0);
		assert_int_equal(q.qtype, ldns_rr_get_type(qrr));
		assert_int_equal(q.qclass, ldns_rr_get_class(qrr));
		assert_int_equal(q.question_end, 12 + nlen + 4);
		assert_int_equal(q.edns, ldns_pkt_edns(pkt));
		if (edns) {
			assert_true(q.edns);
			assert_int_equal(q.edns_udp_size, ldns_pkt_edns_udp_size(pkt));
			assert_int_equal(q.edns_do, ldns_pkt_edns_do(pkt));
			assert_int_equal(q.edns_version, 0);
		}

		/* and ldns agrees with itself when it reads the bytes back */
		ldns_pkt *back = NULL;
		assert_int_equal(ldns_wire2pkt(&back, wire, wlen), LDNS_STATUS_OK);
		assert_int_equal(ldns_pkt_edns(back), q.edns);
		ldns_pkt_free(back);

		free(wire);
		ldns_pkt_free(pkt);
	}
}

/* Builds answers with the wire_out helpers; ldns must read the same records. */
static void test_ldns_answers(void **state)
{
	(void)state;
	static uint8_t buf[8192];
	static char text[1100];
	srandom(0xa115);
	for (int iter = 0; iter < 2000; iter++) {
		uint8_t name[DNS_NAME_MAX + 1];
		unsigned nl;
		size_t nlen = random_name(name, &nl);
		uint16_t id = (uint16_t)random();
		uint32_t ttl = (uint32_t)random();
		uint32_t a = (uint32_t)random() << 1 ^ (uint32_t)random();
		size_t tlen = (size_t)(random() % 1001);
		for (size_t i = 0; i < tlen; i++)
			text[i] = (char)random();
		/* the apex: the last k labels of the qname (k <= nl), at its label offset */
		unsigned k = nl ? (unsigned)(random() % (nl + 1)) : 0;
		size_t apex_off = 0;
		for (unsigned i = 0; i < nl - k; i++)
			apex_off += 1u + name[apex_off];

		struct wire_out w;
		wire_out_init(&w, buf, sizeof(buf));
		wire_put_u16(&w, id);
		wire_put_u16(&w, DNS_F_QR | DNS_F_AA | DNS_F_RD);
		wire_put_u16(&w, 1);
		wire_put_u16(&w, 2);
		wire_put_u16(&w, 1);
		wire_put_u16(&w, 0);
		wire_put_bytes(&w, name, nlen);
		wire_put_u16(&w, DNS_T_A);
		wire_put_u16(&w, DNS_C_IN);
		/* A */
		wire_put_ptr(&w, 12);
		wire_put_u16(&w, DNS_T_A);
		wire_put_u16(&w, DNS_C_IN);
		wire_put_u32(&w, ttl);
		wire_put_u16(&w, 4);
		wire_put_u32(&w, a);
		/* TXT */
		wire_put_ptr(&w, 12);
		wire_put_u16(&w, DNS_T_TXT);
		wire_put_u16(&w, DNS_C_IN);
		wire_put_u32(&w, ttl);
		wire_put_txt_rdata(&w, text, tlen);
		/* SOA at the apex (a pointer into the question, or the root) */
		if (apex_off + 1 < nlen)
			wire_put_ptr(&w, 12 + apex_off);
		else
			wire_put_u8(&w, 0);
		wire_put_u16(&w, DNS_T_SOA);
		wire_put_u16(&w, DNS_C_IN);
		wire_put_u32(&w, 120);
		size_t rdlen_at = w.pos;
		wire_put_u16(&w, 0);
		size_t rd_start = w.pos;
		wire_put_bytes(&w, "\003ns1\007example\000", 13);
		wire_put_bytes(&w, "\012hostmaster", 11);
		wire_put_ptr(&w, rd_start + 4); /* -> example. inside mname */
		wire_put_u32(&w, 2024010101u);
		wire_put_u32(&w, 3600);
		wire_put_u32(&w, 600);
		wire_put_u32(&w, 86400);
		wire_put_u32(&w, 120);
		wire_set_u16(&w, rdlen_at, (uint16_t)(w.pos - rd_start));
		assert_int_equal(w.err, 0);

		ldns_pkt *pkt = NULL;
		ldns_status st = ldns_wire2pkt(&pkt, buf, w.pos);
		if (st != LDNS_STATUS_OK)
			fail_msg("iteration %d: ldns_wire2pkt: %s", iter, ldns_get_errorstr_by_id(st));
		assert_int_equal(ldns_pkt_id(pkt), id);
		assert_true(ldns_pkt_qr(pkt));
		assert_true(ldns_pkt_aa(pkt));
		assert_true(ldns_pkt_rd(pkt));
		assert_int_equal(ldns_pkt_qdcount(pkt), 1);
		assert_int_equal(ldns_pkt_ancount(pkt), 2);
		assert_int_equal(ldns_pkt_nscount(pkt), 1);

		ldns_rr_list *an = ldns_pkt_answer(pkt);
		ldns_rr *rra = ldns_rr_list_rr(an, 0), *rrt = ldns_rr_list_rr(an, 1);
		ldns_rdf *o = ldns_rr_owner(rra);
		assert_int_equal(ldns_rdf_size(o), nlen);
		assert_memory_equal(ldns_rdf_data(o), name, nlen);
		assert_int_equal(ldns_rr_get_type(rra), LDNS_RR_TYPE_A);
		assert_int_equal(ldns_rr_ttl(rra), ttl);
		assert_int_equal(ldns_rr_rd_count(rra), 1);
		assert_int_equal(ldns_rdf_size(ldns_rr_rdf(rra, 0)), 4);
		assert_int_equal(wire_get_u32(ldns_rdf_data(ldns_rr_rdf(rra, 0))), a);

		o = ldns_rr_owner(rrt);
		assert_int_equal(ldns_rdf_size(o), nlen);
		assert_memory_equal(ldns_rdf_data(o), name, nlen);
		assert_int_equal(ldns_rr_get_type(rrt), LDNS_RR_TYPE_TXT);
		size_t want_chunks = tlen == 0 ? 1 : (tlen + 254) / 255;
		assert_int_equal(ldns_rr_rd_count(rrt), want_chunks);
		static char joined[1200];
		size_t jl = 0;
		for (size_t i = 0; i < ldns_rr_rd_count(rrt); i++) {
			ldns_rdf *s = ldns_rr_rdf(rrt, i);
			const uint8_t *d = ldns_rdf_data(s);
			assert_int_equal(ldns_rdf_size(s), 1u + d[0]);
			memcpy(joined + jl, d + 1, d[0]);
			jl += d[0];
		}
		assert_int_equal(jl, tlen);
		if (tlen)
			assert_memory_equal(joined, text, tlen);

		ldns_rr *soa = ldns_rr_list_rr(ldns_pkt_authority(pkt), 0);
		assert_int_equal(ldns_rr_get_type(soa), LDNS_RR_TYPE_SOA);
		o = ldns_rr_owner(soa);
		assert_int_equal(ldns_rdf_size(o), nlen - apex_off);
		assert_memory_equal(ldns_rdf_data(o), name + apex_off, nlen - apex_off);
		assert_int_equal(ldns_rr_rd_count(soa), 7);
		assert_int_equal(ldns_rdf_size(ldns_rr_rdf(soa, 0)), 13);
		assert_memory_equal(ldns_rdf_data(ldns_rr_rdf(soa, 0)), "\003ns1\007example\000", 13);
		assert_int_equal(ldns_rdf_size(ldns_rr_rdf(soa, 1)), 20);
		assert_memory_equal(ldns_rdf_data(ldns_rr_rdf(soa, 1)),
				    "\012hostmaster\007example\000", 20);
		assert_int_equal(ldns_rdf2native_int32(ldns_rr_rdf(soa, 2)), 2024010101u);
		assert_int_equal(ldns_rdf2native_int32(ldns_rr_rdf(soa, 6)), 120);

		/* and our own parser sees a response */
		struct dns_query q;
		assert_int_equal(dns_query_parse(buf, w.pos, &q), DNS_PARSE_DROP);
		ldns_pkt_free(pkt);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ldns_queries),
		cmocka_unit_test(test_ldns_answers),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
