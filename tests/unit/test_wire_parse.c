/* Unit tests for the reading side of lib/wire.h: dns_query_parse on hand-built
 * packets (truncation at every length, header checks, question rules, EDNS, other
 * sections), dns_name_parse with compression (loops, pointers out of range, 255 and
 * 256 byte names), random bytes, and dns_name_equal. Every packet sits right before
 * a guard page (testutil.h), so a read past its end crashes the test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

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

/* --- a tiny packet builder for hand-made queries --- */

struct pkt {
	uint8_t b[4096];
	size_t n;
};

static void put8(struct pkt *p, uint8_t v)
{
	assert_true(p->n < sizeof(p->b));
	p->b[p->n++] = v;
}

static void put16(struct pkt *p, uint16_t v)
{
	put8(p, (uint8_t)(v >> 8));
	put8(p, (uint8_t)v);
}

static void put32(struct pkt *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p, (uint16_t)v);
}

static void putbytes(struct pkt *p, const void *d, size_t n)
{
	assert_true(p->n + n <= sizeof(p->b));
	memcpy(p->b + p->n, d, n);
	p->n += n;
}

static void header(struct pkt *p, uint16_t id, uint16_t flags, uint16_t qd, uint16_t an,
		   uint16_t ns, uint16_t ar)
{
	p->n = 0;
	put16(p, id);
	put16(p, flags);
	put16(p, qd);
	put16(p, an);
	put16(p, ns);
	put16(p, ar);
}

/* An OPT record: root owner, udp size, ext rcode 0, version, DO. */
static void opt(struct pkt *p, uint16_t udp, uint8_t version, bool dobit)
{
	put8(p, 0);
	put16(p, DNS_T_OPT);
	put16(p, udp);
	put8(p, 0);
	put8(p, version);
	put16(p, dobit ? 0x8000 : 0);
	put16(p, 0);
}

#define WWW_EXAMPLE_COM "\003www\007example\003com" /* + root from the literal */

/* www.example.com A IN, RD, optionally with an OPT record. */
static void normal_query(struct pkt *p, bool edns)
{
	header(p, 0x1234, DNS_F_RD, 1, 0, 0, edns ? 1 : 0);
	putbytes(p, WWW_EXAMPLE_COM, sizeof(WWW_EXAMPLE_COM));
	put16(p, DNS_T_A);
	put16(p, DNS_C_IN);
	if (edns)
		opt(p, 4096, 0, true);
}

static enum dns_parse_result parse(const struct pkt *p, struct dns_query *q)
{
	memset(q, 0xa5, sizeof(*q));
	return dns_query_parse(guard_put(&gb, p->b, p->n), p->n, q);
}

static void expect_error(const struct pkt *p, int rcode, const char *what)
{
	struct dns_query q;
	enum dns_parse_result r = parse(p, &q);
	if (r != DNS_PARSE_ERROR || q.rcode != rcode)
		fail_msg("%s: result %d rcode %d, want ERROR rcode %d", what, r,
			 r == DNS_PARSE_ERROR ? q.rcode : -1, rcode);
}

/* --- dns_query_parse --- */

static void test_parse_normal(void **state)
{
	struct pkt p;
	struct dns_query q;
	(void)state;

	normal_query(&p, false);
	assert_int_equal(parse(&p, &q), DNS_PARSE_OK);
	assert_int_equal(q.id, 0x1234);
	assert_int_equal(q.flags, DNS_F_RD);
	assert_int_equal(q.qdcount, 1);
	assert_true(q.has_question);
	assert_int_equal(q.qname_len, sizeof(WWW_EXAMPLE_COM));
	assert_int_equal(q.nlabels, 3);
	assert_int_equal(q.label_off[0], 0);
	assert_int_equal(q.label_off[1], 4);
	assert_int_equal(q.label_off[2], 12);
	assert_int_equal(q.qtype, DNS_T_A);
	assert_int_equal(q.qclass, DNS_C_IN);
	assert_int_equal(q.question_end, 12 + sizeof(WWW_EXAMPLE_COM) + 4);
	assert_false(q.edns);

	/* a root question */
	header(&p, 7, 0, 1, 0, 0, 0);
	put8(&p, 0);
	put16(&p, DNS_T_SOA);
	put16(&p, DNS_C_IN);
	assert_int_equal(parse(&p, &q), DNS_PARSE_OK);
	assert_int_equal(q.qname_len, 1);
	assert_int_equal(q.nlabels, 0);
	assert_int_equal(q.qtype, DNS_T_SOA);
	assert_int_equal(q.question_end, 17);

	/* the flags word is kept as sent (CD, AD, RD; opcode 0) */
	header(&p, 0xffff, DNS_F_RD | DNS_F_CD | DNS_F_AD, 1, 0, 0, 0);
	putbytes(&p, WWW_EXAMPLE_COM, sizeof(WWW_EXAMPLE_COM));
	put16(&p, DNS_T_TXT);
	put16(&p, DNS_C_CH);
	assert_int_equal(parse(&p, &q), DNS_PARSE_OK);
	assert_int_equal(q.id, 0xffff);
	assert_int_equal(q.flags, DNS_F_RD | DNS_F_CD | DNS_F_AD);
	assert_int_equal(q.qtype, DNS_T_TXT);
	assert_int_equal(q.qclass, DNS_C_CH);

	/* 127 one-byte labels: a 255-byte name */
	header(&p, 1, 0, 1, 0, 0, 0);
	for (int i = 0; i < 127; i++) {
		put8(&p, 1);
		put8(&p, (uint8_t)('a' + i % 26));
	}
	put8(&p, 0);
	put16(&p, DNS_T_A);
	put16(&p, DNS_C_IN);
	assert_int_equal(parse(&p, &q), DNS_PARSE_OK);
	assert_int_equal(q.qname_len, 255);
	assert_int_equal(q.nlabels, 127);
	assert_int_equal(q.label_off[126], 252);
}

static void test_parse_edns(void **state)
{
	struct pkt p;
	struct dns_query q;
	(void)state;

	normal_query(&p, true);
	assert_int_equal(parse(&p, &q), DNS_PARSE_OK);
	assert_true(q.edns);
	assert_int_equal(q.edns_version, 0);
	assert_true(q.edns_do);
	assert_int_equal(q.edns_udp_size, 4096);
	assert_int_equal(q.question_end, 12 + sizeof(WWW_EXAMPLE_COM) + 4);

	header(&p, 1, 0, 1, 0, 0, 1);
	putbytes(&p, WWW_EXAMPLE_COM, sizeof(WWW_EXAMPLE_COM));
	put16(&p, DNS_T_A);
	put16(&p, DNS_C_IN);
	opt(&p, 1232, 0, false);
	assert_int_equal(parse(&p, &q), DNS_PARSE_OK);
	assert_true(q.edns);
	assert_false(q.edns_do);
	assert_int_equal(q.edns_udp_size, 1232);

	/* an OPT with options (a cookie) */
	header(&p, 1, 0, 1, 0, 0, 1);
	putbytes(&p, WWW_EXAMPLE_COM, sizeof(WWW_EXAMPLE_COM));
	put16(&p, DNS_T_A);
	put16(&p, DNS_C_IN);
	put8(&p, 0);
	put16(&p, DNS_T_OPT);
	put16(&p, 1400);
	put32(&p, 0);
	put16(&p, 12);
	put16(&p, 10); /* COOKIE */
	put16(&p, 8);
	put32(&p, 0x01020304);
	put32(&p, 0x05060708);
	assert_int_equal(parse(&p, &q), DNS_PARSE_OK);
	assert_true(q.edns);
	assert_int_equal(q.edns_udp_size, 1400);

	/* OPT whose rdlength runs past the end */
	p.b[p.n - 13] = 13;
	expect_error(&p, DNS_R_FORMERR, "OPT rdlength past the end");

	/* two OPTs */
	header(&p, 1, 0, 1, 0, 0, 2);
	putbytes(&p, WWW_EXAMPLE_COM, sizeof(WWW_EXAMPLE_COM));
	put16(&p, DNS_T_A);
	put16(&p, DNS_C_IN);
	opt(&p, 4096, 0, false);
	opt(&p, 4096, 0, false);
	expect_error(&p, DNS_R_FORMERR, "two OPTs");

	/* version 1 */
	header(&p, 1, 0, 1, 0, 0, 1);
	putbytes(&p, WWW_EXAMPLE_COM, sizeof(WWW_EXAMPLE_COM));
	put16(&p, DNS_T_A);
	put16(&p, DNS_C_IN);
	opt(&p, 4096, 1, false);
	expect_error(&p, DNS_R_BADVERS, "OPT version 1");
	assert_true(parse(&p, &q) == DNS_PARSE_ERROR && q.has_question);
	p.b[p.n - 5] = 255;
	expect_error(&p, DNS_R_BADVERS, "OPT version 255");

	/* non-root owner */
	header(&p, 1, 0, 1, 0, 0, 1);
	putbytes(&p, WWW_EXAMPLE_COM, sizeof(WWW_EXAMPLE_COM));
	put16(&p, DNS_T_A);
	put16(&p, DNS_C_IN);
	put8(&p, 3);
	putbytes(&p, "com", 3);
	put8(&p, 0);
	put16(&p, DNS_T_OPT);
	put16(&p, 4096);
	put32(&p, 0);
	put16(&p, 0);
	expect_error(&p, DNS_R_FORMERR, "OPT with a non-root owner");

	/* non-root owner given as a pointer to the question name */
	header(&p, 1, 0, 1, 0, 0, 1);
	putbytes(&p, WWW_EXAMPLE_COM, sizeof(WWW_EXAMPLE_COM));
	put16(&p, DNS_T_A);
	put16(&p, DNS_C_IN);
	put16(&p, 0xc00c);
	put16(&p, DNS_T_OPT);
	put16(&p, 4096);
	put32(&p, 0);
	put16(&p, 0);
	expect_error(&p, DNS_R_FORMERR, "OPT with a compressed non-root owner");
}

/* Truncated at every length: never crash, never read past len; DROP below the
 * header size, FORMERR otherwise. */
static void test_parse_truncated(void **state)
{
	struct pkt p, full;
	struct dns_query q;
	(void)state;

	for (int variant = 0; variant < 3; variant++) {
		if (variant < 2) {
			normal_query(&full, variant == 1);
		} else {
			/* with an answer, an authority record and an OPT */
			header(&full, 9, 0, 1, 1, 1, 1);
			putbytes(&full, WWW_EXAMPLE_COM, sizeof(WWW_EXAMPLE_COM));
			put16(&full, DNS_T_A);
			put16(&full, DNS_C_IN);
			put16(&full, 0xc00c);
			put16(&full, DNS_T_A);
			put16(&full, DNS_C_IN);
			put32(&full, 60);
			put16(&full, 4);
			put32(&full, 0x7f000002);
			put16(&full, 0xc010);
			put16(&full, DNS_T_NS);
			put16(&full, DNS_C_IN);
			put32(&full, 60);
			put16(&full, 6);
			putbytes(&full, "\003ns1\300\020", 6);
			opt(&full, 512, 0, false);
		}
		assert_int_equal(parse(&full, &q), DNS_PARSE_OK);
		size_t qend = q.question_end;
		for (size_t len = 0; len < full.n; len++) {
			memcpy(p.b, full.b, len);
			p.n = len;
			enum dns_parse_result r = parse(&p, &q);
			if (len < DNS_HEADER_SIZE) {
				if (r != DNS_PARSE_DROP)
					fail_msg("variant %d, %zu bytes: result %d, want DROP", variant,
						 len, r);
				continue;
			}
			if (r != DNS_PARSE_ERROR || q.rcode != DNS_R_FORMERR)
				fail_msg("variant %d, truncated to %zu of %zu bytes: result %d rcode %d, "
					 "want ERROR/FORMERR",
					 variant, len, full.n, r, r == DNS_PARSE_ERROR ? q.rcode : -1);
			/* the question can be echoed once it is complete, not before */
			if (len < qend)
				assert_false(q.has_question);
			else
				assert_true(q.has_question);
		}
	}
}

static void test_parse_header_checks(void **state)
{
	struct pkt p;
	struct dns_query q;
	(void)state;

	/* QR=1: a response, dropped */
	normal_query(&p, false);
	p.b[2] |= 0x80;
	assert_int_equal(parse(&p, &q), DNS_PARSE_DROP);
	/* QR=1 even when it is otherwise malformed */
	header(&p, 1, DNS_F_QR, 0, 0, 0, 0);
	assert_int_equal(parse(&p, &q), DNS_PARSE_DROP);

	/* opcodes other than QUERY: NOTIMP */
	static const unsigned opcodes[] = {1, 2, 4, 5, 6, 15};
	for (size_t i = 0; i < sizeof(opcodes) / sizeof(opcodes[0]); i++) {
		normal_query(&p, false);
		p.b[2] = (uint8_t)(p.b[2] | opcodes[i] << 3);
		char what[32];
		snprintf(what, sizeof(what), "opcode %u", opcodes[i]);
		expect_error(&p, DNS_R_NOTIMP, what);
	}
	normal_query(&p, false);
	p.b[2] |= 4 << 3;
	assert_int_equal(parse(&p, &q), DNS_PARSE_ERROR);
	assert_int_equal(q.id, 0x1234);
	assert_int_equal(DNS_OPCODE(q.flags), 4);

	/* qdcount 0 */
	header(&p, 1, 0, 0, 0, 0, 0);
	expect_error(&p, DNS_R_FORMERR, "qdcount 0");
	assert_int_equal(parse(&p, &q), DNS_PARSE_ERROR);
	assert_false(q.has_question);

	/* qdcount 2 with two questions */
	header(&p, 1, 0, 2, 0, 0, 0);
	for (int i = 0; i < 2; i++) {
		putbytes(&p, WWW_EXAMPLE_COM, sizeof(WWW_EXAMPLE_COM));
		put16(&p, DNS_T_A);
		put16(&p, DNS_C_IN);
	}
	expect_error(&p, DNS_R_FORMERR, "qdcount 2");
	/* qdcount 2 with one question */
	normal_query(&p, false);
	p.b[5] = 2;
	expect_error(&p, DNS_R_FORMERR, "qdcount 2, one question");
	/* qdcount 65535 */
	normal_query(&p, false);
	p.b[4] = 0xff;
	p.b[5] = 0xff;
	expect_error(&p, DNS_R_FORMERR, "qdcount 65535");
}

static void test_parse_bad_question(void **state)
{
	struct pkt p;
	(void)state;

	/* compression pointer in the question */
	header(&p, 1, 0, 1, 0, 0, 0);
	putbytes(&p, "\003www", 4);
	put16(&p, 0xc00c);
	put16(&p, DNS_T_A);
	put16(&p, DNS_C_IN);
	expect_error(&p, DNS_R_FORMERR, "pointer in the question");
	/* a pointer as the whole name */
	header(&p, 1, 0, 1, 0, 0, 0);
	put16(&p, 0xc000);
	put16(&p, DNS_T_A);
	put16(&p, DNS_C_IN);
	expect_error(&p, DNS_R_FORMERR, "pointer as question name");

	/* label length running past the end */
	header(&p, 1, 0, 1, 0, 0, 0);
	put8(&p, 63);
	putbytes(&p, "abc", 3);
	expect_error(&p, DNS_R_FORMERR, "label past the end");
	header(&p, 1, 0, 1, 0, 0, 0);
	put8(&p, 10);
	putbytes(&p, "abcdefghi", 9);
	expect_error(&p, DNS_R_FORMERR, "label one byte short");

	/* name longer than 255: four 63-byte labels */
	header(&p, 1, 0, 1, 0, 0, 0);
	for (int i = 0; i < 4; i++) {
		put8(&p, 63);
		for (int k = 0; k < 63; k++)
			put8(&p, 'x');
	}
	put8(&p, 0);
	put16(&p, DNS_T_A);
	put16(&p, DNS_C_IN);
	expect_error(&p, DNS_R_FORMERR, "name of 257 bytes");
	/* 256 bytes: 63,63,63,62 */
	header(&p, 1, 0, 1, 0, 0, 0);
	for (int i = 0; i < 4; i++) {
		int l = i < 3 ? 63 : 62;
		put8(&p, (uint8_t)l);
		for (int k = 0; k < l; k++)
			put8(&p, 'x');
	}
	put8(&p, 0);
	put16(&p, DNS_T_A);
	put16(&p, DNS_C_IN);
	expect_error(&p, DNS_R_FORMERR, "name of 256 bytes");
	/* 128 one-byte labels: 257 bytes, and more labels than DNS_MAX_LABELS allows */
	header(&p, 1, 0, 1, 0, 0, 0);
	for (int i = 0; i < 128; i++) {
		put8(&p, 1);
		put8(&p, 'a');
	}
	put8(&p, 0);
	put16(&p, DNS_T_A);
	put16(&p, DNS_C_IN);
	expect_error(&p, DNS_R_FORMERR, "128 labels");

	/* reserved label types 0x40 and 0x80 */
	static const uint8_t types[] = {0x40, 0x80, 0x41, 0xbf};
	for (size_t i = 0; i < sizeof(types); i++) {
		header(&p, 1, 0, 1, 0, 0, 0);
		putbytes(&p, "\003www", 4);
		put8(&p, types[i]);
		putbytes(&p, "abc", 3);
		put8(&p, 0);
		put16(&p, DNS_T_A);
		put16(&p, DNS_C_IN);
		char what[32];
		snprintf(what, sizeof(what), "label type 0x%02x", types[i]);
		expect_error(&p, DNS_R_FORMERR, what);
	}

	/* trailing garbage after a complete query */
	normal_query(&p, false);
	put8(&p, 0);
	expect_error(&p, DNS_R_FORMERR, "one trailing byte");
	normal_query(&p, true);
	putbytes(&p, "garbage", 7);
	expect_error(&p, DNS_R_FORMERR, "trailing garbage after OPT");
}

static void test_parse_other_sections(void **state)
{
	struct pkt p;
	struct dns_query q;
	(void)state;

	/* an answer (compressed owner), an authority record, then the OPT */
	header(&p, 0x4242, 0, 1, 1, 1, 1);
	putbytes(&p, WWW_EXAMPLE_COM, sizeof(WWW_EXAMPLE_COM));
	put16(&p, DNS_T_A);
	put16(&p, DNS_C_IN);
	put16(&p, 0xc00c);
	put16(&p, DNS_T_A);
	put16(&p, DNS_C_IN);
	put32(&p, 300);
	put16(&p, 4);
	put32(&p, 0x7f000002);
	putbytes(&p, "\007example\003com", 13); /* the literal's NUL is the root */
	put16(&p, DNS_T_NS);
	put16(&p, DNS_C_IN);
	put32(&p, 300);
	put16(&p, 6);
	putbytes(&p, "\003ns1\300\020", 6);
	opt(&p, 2048, 0, true);
	assert_int_equal(parse(&p, &q), DNS_PARSE_OK);
	assert_true(q.edns);
	assert_int_equal(q.edns_udp_size, 2048);
	assert_true(q.edns_do);
	assert_int_equal(q.question_end, 12 + sizeof(WWW_EXAMPLE_COM) + 4);

	/* an answer whose rdlength runs past the end */
	header(&p, 1, 0, 1, 1, 0, 0);
	putbytes(&p, WWW_EXAMPLE_COM, sizeof(WWW_EXAMPLE_COM));
	put16(&p, DNS_T_A);
	put16(&p, DNS_C_IN);
	put16(&p, 0xc00c);
	put16(&p, DNS_T_A);
	put16(&p, DNS_C_IN);
	put32(&p, 300);
	put16(&p, 5);
	put32(&p, 0x7f000002);
	expect_error(&p, DNS_R_FORMERR, "rdlength past the end");

	/* ancount says 2, one record present */
	p.b[p.n - 5] = 4;
	p.b[7] = 2;
	expect_error(&p, DNS_R_FORMERR, "ancount larger than the records");

	/* a record whose owner is a forward pointer */
	header(&p, 1, 0, 1, 1, 0, 0);
	putbytes(&p, WWW_EXAMPLE_COM, sizeof(WWW_EXAMPLE_COM));
	put16(&p, DNS_T_A);
	put16(&p, DNS_C_IN);
	put16(&p, (uint16_t)(0xc000 | (p.n + 2)));
	put16(&p, DNS_T_A);
	put16(&p, DNS_C_IN);
	put32(&p, 300);
	put16(&p, 4);
	put32(&p, 0x7f000002);
	expect_error(&p, DNS_R_FORMERR, "forward pointer in an owner");

	/* arcount 1 with an ordinary record and no OPT: no EDNS */
	header(&p, 1, 0, 1, 0, 0, 1);
	putbytes(&p, WWW_EXAMPLE_COM, sizeof(WWW_EXAMPLE_COM));
	put16(&p, DNS_T_A);
	put16(&p, DNS_C_IN);
	put16(&p, 0xc00c);
	put16(&p, DNS_T_TXT);
	put16(&p, DNS_C_IN);
	put32(&p, 0);
	put16(&p, 3);
	putbytes(&p, "\002hi", 3);
	assert_int_equal(parse(&p, &q), DNS_PARSE_OK);
	assert_false(q.edns);
}

/* --- dns_name_parse --- */

static void test_name_parse(void **state)
{
	uint8_t msg[600];
	uint8_t out[DNS_NAME_MAX + 8];
	size_t pos, outlen;
	(void)state;

	memset(msg, 0, sizeof(msg));
	/* 12: "\1a\0"  15: "\1b" ptr(12)  19: "\1c" ptr(15) */
	memcpy(msg + 12, "\001a\000", 3);
	memcpy(msg + 15, "\001b\300\014", 4);
	memcpy(msg + 19, "\001c\300\017", 4);
	size_t len = 23;

	pos = 19;
	assert_int_equal(dns_name_parse(guard_put(&gb, msg, len), len, &pos, out, &outlen), 0);
	assert_int_equal(pos, 23);
	assert_int_equal(outlen, 7);
	assert_memory_equal(out, "\001c\001b\001a\000", 7);

	pos = 12;
	assert_int_equal(dns_name_parse(guard_put(&gb, msg, len), len, &pos, out, &outlen), 0);
	assert_int_equal(pos, 15);
	assert_int_equal(outlen, 3);

	/* out == NULL: only advance */
	pos = 15;
	assert_int_equal(dns_name_parse(guard_put(&gb, msg, len), len, &pos, NULL, NULL), 0);
	assert_int_equal(pos, 19);

	/* a pointer to itself */
	memcpy(msg + 23, "\300\027", 2);
	pos = 23;
	assert_int_equal(dns_name_parse(guard_put(&gb, msg, 25), 25, &pos, out, &outlen),
			 DNSBL_ESYNTAX);
	/* a label then a pointer back to that label (a loop through a backward pointer) */
	memcpy(msg + 23, "\001x\300\027", 4);
	pos = 23;
	assert_int_equal(dns_name_parse(guard_put(&gb, msg, 27), 27, &pos, out, &outlen),
			 DNSBL_ESYNTAX);
	/* two pointers pointing at each other: 30 -> 32, 32 -> 30 */
	memcpy(msg + 30, "\300\040\300\036", 4);
	pos = 32;
	assert_int_equal(dns_name_parse(guard_put(&gb, msg, 34), 34, &pos, out, &outlen),
			 DNSBL_ESYNTAX);
	pos = 30;
	assert_int_equal(dns_name_parse(guard_put(&gb, msg, 34), 34, &pos, out, &outlen),
			 DNSBL_ESYNTAX);
	/* a forward pointer to a valid name */
	memcpy(msg + 40, "\300\052\001z\000", 5);
	pos = 40;
	assert_int_equal(dns_name_parse(guard_put(&gb, msg, 45), 45, &pos, out, &outlen),
			 DNSBL_ESYNTAX);
	/* a pointer past the end */
	memcpy(msg + 40, "\300\377", 2);
	pos = 40;
	assert_int_equal(dns_name_parse(guard_put(&gb, msg, 42), 42, &pos, out, &outlen),
			 DNSBL_ESYNTAX);
	/* half a pointer at the end */
	msg[40] = 0xc0;
	pos = 40;
	assert_int_equal(dns_name_parse(guard_put(&gb, msg, 41), 41, &pos, out, &outlen),
			 DNSBL_ESYNTAX);
	/* reserved label types */
	memcpy(msg + 40, "\100abc\000", 5);
	pos = 40;
	assert_int_equal(dns_name_parse(guard_put(&gb, msg, 45), 45, &pos, out, &outlen),
			 DNSBL_ESYNTAX);
	memcpy(msg + 40, "\200abc\000", 5);
	pos = 40;
	assert_int_equal(dns_name_parse(guard_put(&gb, msg, 45), 45, &pos, out, &outlen),
			 DNSBL_ESYNTAX);
	/* a name without its root label before the end */
	memcpy(msg + 40, "\003abc", 4);
	pos = 40;
	assert_int_equal(dns_name_parse(guard_put(&gb, msg, 44), 44, &pos, out, &outlen),
			 DNSBL_ESYNTAX);
	/* pos at or past the end */
	pos = 44;
	assert_int_equal(dns_name_parse(guard_put(&gb, msg, 44), 44, &pos, out, &outlen),
			 DNSBL_ESYNTAX);
}

static void test_name_parse_255(void **state)
{
	uint8_t msg[700];
	uint8_t out[DNS_NAME_MAX + 8];
	size_t pos, outlen, n = 0;
	(void)state;

	/* uncompressed: 63+63+63+61 label bytes = 255 ok */
	memset(msg, 0, sizeof(msg));
	n = 12;
	for (int i = 0; i < 4; i++) {
		int l = i < 3 ? 63 : 61;
		msg[n++] = (uint8_t)l;
		memset(msg + n, 'a' + i, (size_t)l);
		n += (size_t)l;
	}
	msg[n++] = 0;
	assert_int_equal(n - 12, 255);
	pos = 12;
	memset(out, 0xee, sizeof(out));
	assert_int_equal(dns_name_parse(guard_put(&gb, msg, n), n, &pos, out, &outlen), 0);
	assert_int_equal(outlen, 255);
	assert_int_equal(pos, n);
	assert_memory_equal(out, msg + 12, 255);
	assert_int_equal(out[255], 0xee); /* at most 255 bytes written */

	/* 256 rejected */
	n = 12;
	for (int i = 0; i < 4; i++) {
		int l = i < 3 ? 63 : 62;
		msg[n++] = (uint8_t)l;
		memset(msg + n, 'a' + i, (size_t)l);
		n += (size_t)l;
	}
	msg[n++] = 0;
	pos = 12;
	memset(out, 0xee, sizeof(out));
	assert_int_equal(dns_name_parse(guard_put(&gb, msg, n), n, &pos, out, &outlen),
			 DNSBL_ESYNTAX);
	for (size_t i = 255; i < sizeof(out); i++)
		assert_int_equal(out[i], 0xee);

	/* compressed: 192-byte suffix at 12, then a 62-byte label + pointer = 255 */
	n = 12;
	for (int i = 0; i < 3; i++) {
		msg[n++] = 63;
		memset(msg + n, 'a' + i, 63);
		n += 63;
	}
	msg[n++] = 0; /* 12..204: 193 bytes */
	size_t second = n;
	msg[n++] = 61;
	memset(msg + n, 'z', 61);
	n += 61;
	msg[n++] = 0xc0;
	msg[n++] = 12;
	pos = second;
	assert_int_equal(dns_name_parse(guard_put(&gb, msg, n), n, &pos, out, &outlen), 0);
	assert_int_equal(outlen, 62 + 193);
	assert_int_equal(pos, n);
	/* one byte more through the pointer: 256, rejected */
	n = second;
	msg[n++] = 62;
	memset(msg + n, 'z', 62);
	n += 62;
	msg[n++] = 0xc0;
	msg[n++] = 12;
	pos = second;
	assert_int_equal(dns_name_parse(guard_put(&gb, msg, n), n, &pos, out, &outlen),
			 DNSBL_ESYNTAX);
	pos = second;
	assert_int_equal(dns_name_parse(guard_put(&gb, msg, n), n, &pos, NULL, NULL),
			 DNSBL_ESYNTAX);
}

/* Random bytes: dns_name_parse and dns_query_parse never crash or read past len. */
static void test_parse_random(void **state)
{
	uint8_t buf[300];
	uint8_t out[DNS_NAME_MAX + 1];
	struct dns_query q;
	(void)state;

	srandom(2024);
	for (int iter = 0; iter < 200000; iter++) {
		size_t n = (size_t)(random() % sizeof(buf));
		for (size_t i = 0; i < n; i++) {
			long r = random();
			/* bias towards small label lengths and pointers */
			buf[i] = (r & 3) == 0 ? (uint8_t)(r >> 8 & 7)
				 : (r & 3) == 1 ? (uint8_t)(0xc0 | (r >> 8 & 1))
						: (uint8_t)(r >> 8);
		}
		if (n >= 12 && (iter & 1)) {
			buf[2] &= 0x07; /* QR=0, opcode 0 */
			buf[4] = 0;
			buf[5] = 1;
		}
		const uint8_t *g = guard_put(&gb, buf, n);
		enum dns_parse_result r = dns_query_parse(g, n, &q);
		if (r == DNS_PARSE_OK) {
			assert_true(q.has_question);
			assert_true(q.question_end <= n);
			assert_true(q.qname_len >= 1);
			assert_true(12u + q.qname_len + 4u == q.question_end);
			assert_true(q.nlabels < DNS_MAX_LABELS);
		}
		size_t pos = n ? (size_t)(random() % n) : 0, outlen = 0;
		if (dns_name_parse(g, n, &pos, out, &outlen) == 0) {
			assert_true(outlen >= 1 && outlen <= DNS_NAME_MAX);
			assert_true(pos <= n);
			assert_int_equal(out[outlen - 1], 0);
		}
	}
}

static void test_name_equal(void **state)
{
	(void)state;
	assert_int_equal(dns_name_equal((const uint8_t *)"\003FOO\003Bar\000",
					(const uint8_t *)"\003foo\003bAR\000", 9),
			 1);
	assert_int_equal(dns_name_equal((const uint8_t *)"\003foo\000",
					(const uint8_t *)"\003fop\000", 5),
			 0);
	/* only letters fold: '[' (0x5b) is not '{' (0x7b), '@' is not '`' */
	assert_int_equal(dns_name_equal((const uint8_t *)"\001[\000", (const uint8_t *)"\001{\000", 3),
			 0);
	assert_int_equal(dns_name_equal((const uint8_t *)"\001@\000", (const uint8_t *)"\001`\000", 3),
			 0);
	assert_int_equal(dns_name_equal((const uint8_t *)"\001Z\000", (const uint8_t *)"\001z\000", 3),
			 1);
	/* a length byte differs */
	assert_int_equal(dns_name_equal((const uint8_t *)"\002ab\001c\000",
					(const uint8_t *)"\001a\002bc\000", 7),
			 0);
	/* all 256 byte values against themselves and their case twin */
	for (int c = 0; c < 256; c++) {
		uint8_t a[3] = {1, (uint8_t)c, 0}, b[3] = {1, (uint8_t)c, 0};
		assert_int_equal(dns_name_equal(a, b, 3), 1);
		if (c >= 'A' && c <= 'Z')
			b[1] = (uint8_t)(c + 32);
		else if (c >= 'a' && c <= 'z')
			b[1] = (uint8_t)(c - 32);
		else
			b[1] = (uint8_t)(c ^ 0x20);
		int want = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
		if (dns_name_equal(a, b, 3) != want)
			fail_msg("dns_name_equal folds 0x%02x and 0x%02x: %d", c, b[1], !want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_normal),
		cmocka_unit_test(test_parse_edns),
		cmocka_unit_test(test_parse_truncated),
		cmocka_unit_test(test_parse_header_checks),
		cmocka_unit_test(test_parse_bad_question),
		cmocka_unit_test(test_parse_other_sections),
		cmocka_unit_test(test_name_parse),
		cmocka_unit_test(test_name_parse_255),
		cmocka_unit_test(test_parse_random),
		cmocka_unit_test(test_name_equal),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
