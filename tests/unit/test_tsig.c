/* Unit tests for lib/tsig.h (RFC 8945): malformed TSIG records are rejected in
 * bounds, and ldns, an independent implementation, agrees with us both ways: a
 * request ldns signs verifies here, the responses and transfer messages we sign
 * verify with ldns, and tampering breaks either. Every algorithm ldns has. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <ldns/ldns.h>
#include <openssl/evp.h>

#include "config.h"
#include "err.h"
#include "testutil.h"
#include "tsig.h"
#include "wire.h"

static const char *const ldns_alg_names[] = {
	[KEY_HMAC_MD5] = "hmac-md5.sig-alg.reg.int.", [KEY_HMAC_SHA1] = "hmac-sha1.",
	[KEY_HMAC_SHA224] = "hmac-sha224.",           [KEY_HMAC_SHA256] = "hmac-sha256.",
	[KEY_HMAC_SHA384] = "hmac-sha384.",           [KEY_HMAC_SHA512] = "hmac-sha512.",
};
/* ldns 1.8 has no hmac-sha224 and hmac-sha384: tests/e2e/test_xfr_tsig.py checks
 * those against dnspython. */
static const enum key_algorithm all_algorithms[] = {
	KEY_HMAC_MD5, KEY_HMAC_SHA1, KEY_HMAC_SHA256, KEY_HMAC_SHA512,
};
#define NALG (sizeof(all_algorithms) / sizeof(all_algorithms[0]))

struct fixture {
	struct tsig_ctx *ctx;
	struct key_config key;
	char b64[256];
};

static void key_make(struct key_config *k, char *b64, size_t b64size, const char *name,
		     enum key_algorithm alg, uint8_t seed)
{
	memset(k, 0, sizeof(*k));
	snprintf(k->name, sizeof(k->name), "%s", name);
	assert_int_equal(dname_from_text(name, &k->wire), 0);
	k->algorithm = alg;
	k->algorithm_set = true;
	k->secret_len = 32;
	for (size_t i = 0; i < k->secret_len; i++)
		k->secret[i] = (uint8_t)(seed + i * 7);
	assert_true(b64size > 4 * ((k->secret_len + 2) / 3));
	assert_true(EVP_EncodeBlock((unsigned char *)b64, k->secret, (int)k->secret_len) > 0);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	if (f == NULL || tsig_ctx_new(&f->ctx) != 0)
		return -1;
	key_make(&f->key, f->b64, sizeof(f->b64), "xfr.key", KEY_HMAC_SHA256, 1);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	tsig_ctx_free(f->ctx);
	free(f);
	return 0;
}

/* An AXFR request for bl.example, signed by ldns with key k (fudge 300). */
static ldns_pkt *ldns_request(const struct key_config *k, const char *b64, ldns_rr_type type)
{
	ldns_pkt *p = NULL;
	char kname[300];

	snprintf(kname, sizeof(kname), "%s.", k->name);
	assert_int_equal(ldns_pkt_query_new_frm_str(&p, "bl.example.", type, LDNS_RR_CLASS_IN, 0),
			 LDNS_STATUS_OK);
	ldns_pkt_set_id(p, 0x1234);
	assert_int_equal(ldns_pkt_tsig_sign(p, kname, b64, 300, ldns_alg_names[k->algorithm], NULL),
			 LDNS_STATUS_OK);
	return p;
}

static size_t to_wire(ldns_pkt *p, uint8_t *buf, size_t cap)
{
	uint8_t *w = NULL;
	size_t n = 0;

	assert_int_equal(ldns_pkt2wire(&w, p, &n), LDNS_STATUS_OK);
	assert_true(n <= cap);
	memcpy(buf, w, n);
	free(w);
	return n;
}

/* ---- requests signed by ldns ---- */

static void test_ldns_request_verifies_each_algorithm(void **state)
{
	struct fixture *f = *state;
	uint8_t buf[1024];
	struct tsig_rr t;

	for (size_t a = 0; a < NALG; a++) {
		struct key_config k;
		char b64[256];
		key_make(&k, b64, sizeof(b64), "xfr.key", all_algorithms[a], (uint8_t)(3 + a));
		ldns_pkt *p = ldns_request(&k, b64, LDNS_RR_TYPE_AXFR);
		size_t n = to_wire(p, buf, sizeof(buf));
		assert_int_equal(tsig_find(buf, n, &t), 1);
		assert_int_equal(t.mac_len, tsig_mac_size(k.algorithm));
		assert_int_equal(t.original_id, 0x1234);
		assert_int_equal(t.fudge, 300);
		uint64_t now = (uint64_t)time(NULL);
		assert_int_equal(tsig_verify(f->ctx, buf, n, &t, &k, now), TSIG_OK);
		/* the context stays keyed: a second verification with it still works */
		assert_int_equal(tsig_verify(f->ctx, buf, n, &t, &k, now), TSIG_OK);
		/* a byte of the question changed: BADSIG */
		buf[14] ^= 0x20;
		assert_int_equal(tsig_verify(f->ctx, buf, n, &t, &k, now), TSIG_BADSIG);
		buf[14] ^= 0x20;
		/* the same name and algorithm with another secret: BADSIG */
		struct key_config other = k;
		other.secret[0] ^= 1;
		assert_int_equal(tsig_verify(f->ctx, buf, n, &t, &other, now), TSIG_BADSIG);
		/* and with this one's again (the context re-keys) */
		assert_int_equal(tsig_verify(f->ctx, buf, n, &t, &k, now), TSIG_OK);
		ldns_pkt_free(p);
	}
}

static void test_request_badkey_badtime(void **state)
{
	struct fixture *f = *state;
	uint8_t buf[1024];
	struct tsig_rr t;
	ldns_pkt *p = ldns_request(&f->key, f->b64, LDNS_RR_TYPE_SOA);
	size_t n = to_wire(p, buf, sizeof(buf));
	uint64_t now = (uint64_t)time(NULL);

	assert_int_equal(tsig_find(buf, n, &t), 1);
	assert_int_equal(tsig_verify(f->ctx, buf, n, &t, &f->key, now), TSIG_OK);
	/* no key expected (a zone without transfer_key) */
	assert_int_equal(tsig_verify(f->ctx, buf, n, &t, NULL, now), TSIG_BADKEY);
	/* another key name, same secret */
	struct key_config k = f->key;
	assert_int_equal(dname_from_text("other.key", &k.wire), 0);
	assert_int_equal(tsig_verify(f->ctx, buf, n, &t, &k, now), TSIG_BADKEY);
	/* the algorithm the key does not have */
	k = f->key;
	k.algorithm = KEY_HMAC_SHA512;
	assert_int_equal(tsig_verify(f->ctx, buf, n, &t, &k, now), TSIG_BADKEY);
	/* time: inside the fudge on either side, outside it past */
	assert_int_equal(tsig_verify(f->ctx, buf, n, &t, &f->key, t.time_signed + 300), TSIG_OK);
	assert_int_equal(tsig_verify(f->ctx, buf, n, &t, &f->key, t.time_signed - 300), TSIG_OK);
	assert_int_equal(tsig_verify(f->ctx, buf, n, &t, &f->key, t.time_signed + 301),
			 TSIG_BADTIME);
	assert_int_equal(tsig_verify(f->ctx, buf, n, &t, &f->key, t.time_signed - 3600),
			 TSIG_BADTIME);
	/* a bad MAC is BADSIG even when the time is off too (MAC first, RFC 8945 5.2) */
	t.mac[0] ^= 1;
	assert_int_equal(tsig_verify(f->ctx, buf, n, &t, &f->key, now + 3600), TSIG_BADSIG);
	ldns_pkt_free(p);
}

/* ---- malformed records ---- */

/* A raw query for bl.example A with a hand-made TSIG record (sha256 names) as the
 * last additional record; rdata from its parts. */
struct raw {
	uint8_t b[1024];
	size_t n;
};

static void raw_put(struct raw *r, const void *p, size_t n)
{
	memcpy(r->b + r->n, p, n);
	r->n += n;
}

static void raw_u16(struct raw *r, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };
	raw_put(r, b, 2);
}

static const uint8_t QNAME[] = "\x02" "bl" "\x07" "example";
static const uint8_t KEYNAME[] = "\x03" "xfr" "\x03" "key";
static const uint8_t ALG[] = "\x0b" "hmac-sha256";

/* header with an, ar counts; question */
static void raw_head(struct raw *r, uint16_t an, uint16_t ar)
{
	r->n = 0;
	raw_u16(r, 0x4242);
	raw_u16(r, 0);
	raw_u16(r, 1);
	raw_u16(r, an);
	raw_u16(r, 0);
	raw_u16(r, ar);
	raw_put(r, QNAME, sizeof(QNAME));
	raw_u16(r, DNS_T_A);
	raw_u16(r, DNS_C_IN);
}

static void raw_tsig(struct raw *r, uint16_t klass, uint32_t ttl, uint16_t mac_len,
		     int rdlen_delta)
{
	raw_put(r, KEYNAME, sizeof(KEYNAME));
	raw_u16(r, DNS_T_TSIG);
	raw_u16(r, klass);
	raw_u16(r, (uint16_t)(ttl >> 16));
	raw_u16(r, (uint16_t)ttl);
	raw_u16(r, (uint16_t)((int)sizeof(ALG) + 16 + mac_len + rdlen_delta));
	raw_put(r, ALG, sizeof(ALG));
	raw_u16(r, 0);
	raw_u16(r, 0x6000);
	raw_u16(r, 0);
	raw_u16(r, 300);
	raw_u16(r, mac_len);
	for (unsigned i = 0; i < mac_len; i++)
		r->b[r->n++] = (uint8_t)i;
	raw_u16(r, 0x4242);
	raw_u16(r, 0);
	raw_u16(r, 0);
}

static void raw_a(struct raw *r)
{
	raw_u16(r, 0xc000 | DNS_HEADER_SIZE);
	raw_u16(r, DNS_T_A);
	raw_u16(r, DNS_C_IN);
	raw_u16(r, 0);
	raw_u16(r, 60);
	raw_u16(r, 4);
	raw_u16(r, 0x7f00);
	raw_u16(r, 0x0002);
}

/* tsig_find of r copied to the very end of a guarded buffer. */
static int guarded_find(const struct raw *r, struct tsig_rr *t)
{
	struct guard_buf g = { 0 };
	assert_int_equal(guard_init(&g, sizeof(r->b)), 0);
	const uint8_t *p = guard_put(&g, r->b, r->n);
	int rc = tsig_find(p, r->n, t);
	guard_free(&g);
	return rc;
}

static void test_malformed(void **state)
{
	(void)state;
	struct raw r;
	struct tsig_rr t;
	struct dns_query q;

	/* the well-formed baseline parses */
	raw_head(&r, 0, 1);
	raw_tsig(&r, DNS_C_ANY, 0, 32, 0);
	assert_int_equal(guarded_find(&r, &t), 1);
	assert_int_equal(t.mac_len, 32);
	assert_int_equal(t.time_signed, 0x60000000ull);
	assert_int_equal(t.key_name_len, sizeof(KEYNAME));
	assert_memory_equal(t.key_name, KEYNAME, sizeof(KEYNAME));
	assert_int_equal(dns_query_parse(r.b, r.n, &q), DNS_PARSE_OK);
	assert_true(q.tsig);

	/* truncated anywhere inside the record */
	size_t full = r.n;
	for (size_t cut = full - 1; cut > full - 80; cut--) {
		r.n = cut;
		assert_int_equal(guarded_find(&r, &t), DNSBL_ESYNTAX);
	}
	/* wrong class, TTL not 0 */
	raw_head(&r, 0, 1);
	raw_tsig(&r, DNS_C_IN, 0, 32, 0);
	assert_int_equal(guarded_find(&r, &t), DNSBL_ESYNTAX);
	raw_head(&r, 0, 1);
	raw_tsig(&r, DNS_C_ANY, 5, 32, 0);
	assert_int_equal(guarded_find(&r, &t), DNSBL_ESYNTAX);
	/* not last: an A record after it */
	raw_head(&r, 0, 2);
	raw_tsig(&r, DNS_C_ANY, 0, 32, 0);
	raw_a(&r);
	assert_int_equal(guarded_find(&r, &t), DNSBL_ESYNTAX);
	assert_int_equal(dns_query_parse(r.b, r.n, &q), DNS_PARSE_ERROR);
	assert_int_equal(q.rcode, DNS_R_FORMERR);
	/* in the answer section, not the additional */
	raw_head(&r, 1, 0);
	raw_tsig(&r, DNS_C_ANY, 0, 32, 0);
	assert_int_equal(guarded_find(&r, &t), DNSBL_ESYNTAX);
	assert_int_equal(dns_query_parse(r.b, r.n, &q), DNS_PARSE_ERROR);
	/* twice */
	raw_head(&r, 0, 2);
	raw_tsig(&r, DNS_C_ANY, 0, 32, 0);
	raw_tsig(&r, DNS_C_ANY, 0, 32, 0);
	assert_int_equal(guarded_find(&r, &t), DNSBL_ESYNTAX);
	/* rdlength not what the fields take, either way */
	raw_head(&r, 0, 1);
	raw_tsig(&r, DNS_C_ANY, 0, 32, 1);
	assert_int_equal(guarded_find(&r, &t), DNSBL_ESYNTAX);
	raw_head(&r, 0, 1);
	raw_tsig(&r, DNS_C_ANY, 0, 32, -1);
	assert_int_equal(guarded_find(&r, &t), DNSBL_ESYNTAX);
	/* bad key name: a forward compression pointer */
	raw_head(&r, 0, 1);
	raw_tsig(&r, DNS_C_ANY, 0, 32, 0);
	size_t owner = DNS_HEADER_SIZE + sizeof(QNAME) + 4;
	r.b[owner] = 0xc0;
	r.b[owner + 1] = 0xff;
	assert_int_equal(guarded_find(&r, &t), DNSBL_ESYNTAX);
	/* bad algorithm name: a label running past the record */
	raw_head(&r, 0, 1);
	raw_tsig(&r, DNS_C_ANY, 0, 32, 0);
	r.b[owner + sizeof(KEYNAME) + 10] = 63;
	assert_int_equal(guarded_find(&r, &t), DNSBL_ESYNTAX);
	/* a MAC longer than any hash */
	raw_head(&r, 0, 1);
	raw_tsig(&r, DNS_C_ANY, 0, TSIG_MAC_MAX + 1, 0);
	assert_int_equal(guarded_find(&r, &t), DNSBL_ESYNTAX);
}

static void test_mac_length(void **state)
{
	struct fixture *f = *state;
	struct raw r;
	struct tsig_rr t;

	/* longer than sha256's 32 (but no longer than a hash): FORMERR */
	raw_head(&r, 0, 1);
	raw_tsig(&r, DNS_C_ANY, 0, 33, 0);
	assert_int_equal(tsig_find(r.b, r.n, &t), 1);
	assert_int_equal(tsig_verify(f->ctx, r.b, r.n, &t, &f->key, 0x60000000ull), TSIG_FORMERR);
	/* shorter than max(10, 32 / 2): FORMERR; an empty one too */
	raw_head(&r, 0, 1);
	raw_tsig(&r, DNS_C_ANY, 0, 15, 0);
	assert_int_equal(tsig_find(r.b, r.n, &t), 1);
	assert_int_equal(tsig_verify(f->ctx, r.b, r.n, &t, &f->key, 0x60000000ull), TSIG_FORMERR);
	raw_head(&r, 0, 1);
	raw_tsig(&r, DNS_C_ANY, 0, 0, 0);
	assert_int_equal(tsig_find(r.b, r.n, &t), 1);
	assert_int_equal(tsig_verify(f->ctx, r.b, r.n, &t, &f->key, 0x60000000ull), TSIG_FORMERR);
	assert_int_equal(tsig_result_rcode(TSIG_FORMERR), DNS_R_FORMERR);
}

/* A request ldns signed, then its MAC truncated to 16 octets (and re-signed by us is
 * not possible: ldns cannot truncate), so the truncated MAC is the prefix of the
 * real one: valid but truncated, which our policy answers BADTRUNC. */
static void test_truncated_mac_badtrunc(void **state)
{
	struct fixture *f = *state;
	uint8_t buf[1024];
	struct tsig_rr t;
	ldns_pkt *p = ldns_request(&f->key, f->b64, LDNS_RR_TYPE_AXFR);
	size_t n = to_wire(p, buf, sizeof(buf));

	assert_int_equal(tsig_find(buf, n, &t), 1);
	t.mac_len = 16;
	assert_int_equal(tsig_verify(f->ctx, buf, n, &t, &f->key, t.time_signed), TSIG_BADTRUNC);
	t.mac[3] ^= 1;
	assert_int_equal(tsig_verify(f->ctx, buf, n, &t, &f->key, t.time_signed), TSIG_BADSIG);
	ldns_pkt_free(p);
}

/* ---- responses we sign, checked by ldns ---- */

/* Builds a response to the request (wire req), n answer A records, without TSIG,
 * into buf. */
static size_t response_wire(const uint8_t *req, size_t reqlen, unsigned first, unsigned n,
			    uint8_t *buf, size_t cap)
{
	ldns_pkt *q = NULL;
	assert_int_equal(ldns_wire2pkt(&q, req, reqlen), LDNS_STATUS_OK);
	ldns_pkt *p = ldns_pkt_new();
	ldns_pkt_set_id(p, ldns_pkt_id(q));
	ldns_pkt_set_qr(p, true);
	ldns_pkt_set_aa(p, true);
	ldns_pkt_push_rr(p, LDNS_SECTION_QUESTION,
			 ldns_rr_clone(ldns_rr_list_rr(ldns_pkt_question(q), 0)));
	for (unsigned i = first; i < first + n; i++) {
		char text[128];
		ldns_rr *rr = NULL;
		snprintf(text, sizeof(text), "%u.bl.example. 300 IN A 127.0.0.%u", i, 2 + i % 200);
		assert_int_equal(ldns_rr_new_frm_str(&rr, text, 0, NULL, NULL), LDNS_STATUS_OK);
		ldns_pkt_push_rr(p, LDNS_SECTION_ANSWER, rr);
	}
	size_t len = to_wire(p, buf, cap);
	ldns_pkt_free(p);
	ldns_pkt_free(q);
	return len;
}

/* ldns's verdict on wire (signed by us) given the prior MAC as an rdf. */
static bool ldns_verifies(const uint8_t *wire, size_t len, const struct key_config *k,
			  const char *b64, const ldns_rdf *prior, int timers_only,
			  ldns_rdf **mac_out)
{
	ldns_pkt *p = NULL;
	char kname[300];

	snprintf(kname, sizeof(kname), "%s.", k->name);
	assert_int_equal(ldns_wire2pkt(&p, wire, len), LDNS_STATUS_OK);
	assert_non_null(ldns_pkt_tsig(p));
	bool ok = ldns_pkt_tsig_verify_next(p, wire, len, kname, b64, prior, timers_only);
	if (mac_out != NULL)
		*mac_out = ldns_rdf_clone(ldns_rr_rdf(ldns_pkt_tsig(p), 3));
	ldns_pkt_free(p);
	return ok;
}

static void test_response_verifies_with_ldns_each_algorithm(void **state)
{
	struct fixture *f = *state;
	uint8_t req[1024], buf[4096];
	struct tsig_rr t;

	for (size_t a = 0; a < NALG; a++) {
		struct key_config k;
		char b64[256];
		key_make(&k, b64, sizeof(b64), "transfer.key.example", all_algorithms[a],
			 (uint8_t)(40 + a));
		ldns_pkt *qp = ldns_request(&k, b64, LDNS_RR_TYPE_SOA);
		size_t qlen = to_wire(qp, req, sizeof(req));
		ldns_rdf *qmac = ldns_rr_rdf(ldns_pkt_tsig(qp), 3);
		assert_int_equal(tsig_find(req, qlen, &t), 1);
		assert_int_equal(tsig_verify(f->ctx, req, qlen, &t, &k, (uint64_t)time(NULL)),
				 TSIG_OK);

		struct tsig_signer s;
		struct wire_out w;
		tsig_signer_start(&s, f->ctx, &k, &t);
		wire_out_init(&w, buf, sizeof(buf));
		w.pos = response_wire(req, qlen, 0, 3, buf, sizeof(buf));
		size_t before = w.pos;
		assert_int_equal(tsig_sign(&s, &w, (uint64_t)time(NULL), 0, NULL, 0), 0);
		assert_true(w.pos - before <= tsig_rr_size_max(&k));
		assert_int_equal(wire_get_u16(buf + 10), 1);
		assert_true(ldns_verifies(buf, w.pos, &k, b64, qmac, 0, NULL));
		/* one answer byte changed: ldns rejects it */
		buf[w.pos - (w.pos - before) - 1] ^= 1;
		assert_false(ldns_verifies(buf, w.pos, &k, b64, qmac, 0, NULL));
		buf[w.pos - (w.pos - before) - 1] ^= 1;
		/* without the request's MAC in the digest, or another secret: rejected */
		assert_false(ldns_verifies(buf, w.pos, &k, b64, NULL, 0, NULL));
		assert_false(ldns_verifies(buf, w.pos, &k, f->b64, qmac, 0, NULL));
		ldns_pkt_free(qp);
	}
}

/* A three-message transfer: the first signed with every variable, the others with
 * the timers only, each chained to the MAC before it (RFC 8945 5.3.1). */
static void test_transfer_messages_verify_with_ldns(void **state)
{
	struct fixture *f = *state;
	uint8_t req[1024], msg[3][4096];
	size_t len[3];
	struct tsig_rr t;
	ldns_pkt *qp = ldns_request(&f->key, f->b64, LDNS_RR_TYPE_AXFR);
	size_t qlen = to_wire(qp, req, sizeof(req));
	struct tsig_signer s;

	assert_int_equal(tsig_find(req, qlen, &t), 1);
	tsig_signer_start(&s, f->ctx, &f->key, &t);
	for (unsigned m = 0; m < 3; m++) {
		struct wire_out w;
		wire_out_init(&w, msg[m], sizeof(msg[m]));
		w.pos = response_wire(req, qlen, m * 10, 10, msg[m], sizeof(msg[m]));
		assert_int_equal(tsig_sign(&s, &w, (uint64_t)time(NULL), 0, NULL, 0), 0);
		len[m] = w.pos;
	}
	ldns_rdf *prior = ldns_rdf_clone(ldns_rr_rdf(ldns_pkt_tsig(qp), 3));
	for (unsigned m = 0; m < 3; m++) {
		ldns_rdf *mac = NULL;
		assert_true(ldns_verifies(msg[m], len[m], &f->key, f->b64, prior, m > 0, &mac));
		ldns_rdf_deep_free(prior);
		prior = mac;
	}
	ldns_rdf_deep_free(prior);

	/* a later message checked as a first one (all variables) fails, and the third
	 * chained to the first's MAC instead of the second's fails */
	ldns_rdf *mac0 = NULL, *mac1 = NULL;
	ldns_rdf *qmac = ldns_rr_rdf(ldns_pkt_tsig(qp), 3);
	assert_true(ldns_verifies(msg[0], len[0], &f->key, f->b64, qmac, 0, &mac0));
	assert_false(ldns_verifies(msg[1], len[1], &f->key, f->b64, mac0, 0, NULL));
	assert_true(ldns_verifies(msg[1], len[1], &f->key, f->b64, mac0, 1, &mac1));
	assert_false(ldns_verifies(msg[2], len[2], &f->key, f->b64, mac0, 1, NULL));
	/* a record of the second message changed */
	msg[1][40] ^= 1;
	assert_false(ldns_verifies(msg[1], len[1], &f->key, f->b64, mac0, 1, NULL));
	ldns_rdf_deep_free(mac0);
	ldns_rdf_deep_free(mac1);
	ldns_pkt_free(qp);
}

/* Errors: BADTIME signed, with the request's time and ours as Other Data; BADKEY and
 * BADSIG unsigned with an empty MAC. */
static void test_error_answers(void **state)
{
	struct fixture *f = *state;
	uint8_t req[1024], buf[4096];
	struct tsig_rr t, rt;
	ldns_pkt *qp = ldns_request(&f->key, f->b64, LDNS_RR_TYPE_SOA);
	size_t qlen = to_wire(qp, req, sizeof(req));
	ldns_rdf *qmac = ldns_rr_rdf(ldns_pkt_tsig(qp), 3);
	uint64_t now = (uint64_t)time(NULL) + 1000;

	assert_int_equal(tsig_find(req, qlen, &t), 1);
	assert_int_equal(tsig_verify(f->ctx, req, qlen, &t, &f->key, now), TSIG_BADTIME);
	struct tsig_signer s;
	struct wire_out w;
	uint8_t other[6] = { (uint8_t)(now >> 40), (uint8_t)(now >> 32), (uint8_t)(now >> 24),
			     (uint8_t)(now >> 16), (uint8_t)(now >> 8), (uint8_t)now };
	tsig_signer_start(&s, f->ctx, &f->key, &t);
	wire_out_init(&w, buf, sizeof(buf));
	w.pos = response_wire(req, qlen, 0, 0, buf, sizeof(buf));
	assert_int_equal(tsig_sign(&s, &w, t.time_signed, TSIG_E_BADTIME, other, 6), 0);
	assert_true(ldns_verifies(buf, w.pos, &f->key, f->b64, qmac, 0, NULL));
	assert_int_equal(tsig_find(buf, w.pos, &rt), 1);
	assert_int_equal(rt.error, TSIG_E_BADTIME);
	assert_int_equal(rt.other_len, 6);
	assert_memory_equal(rt.other, other, 6);
	assert_int_equal(rt.time_signed, t.time_signed);

	wire_out_init(&w, buf, sizeof(buf));
	w.pos = response_wire(req, qlen, 0, 0, buf, sizeof(buf));
	assert_int_equal(tsig_append_unsigned(&w, &t, now, TSIG_E_BADKEY), 0);
	assert_int_equal(tsig_find(buf, w.pos, &rt), 1);
	assert_int_equal(rt.error, TSIG_E_BADKEY);
	assert_int_equal(rt.mac_len, 0);
	assert_int_equal(rt.original_id, 0x1234);
	assert_memory_equal(rt.key_name, t.key_name, t.key_name_len);
	ldns_pkt *rp = NULL;
	assert_int_equal(ldns_wire2pkt(&rp, buf, w.pos), LDNS_STATUS_OK);
	assert_non_null(ldns_pkt_tsig(rp));
	assert_int_equal(ldns_rdf2native_int16(ldns_rr_rdf(ldns_pkt_tsig(rp), 5)), TSIG_E_BADKEY);
	ldns_pkt_free(rp);

	/* no room for the record: ENOSPC, the message as it was */
	wire_out_init(&w, buf, 40);
	w.pos = 30;
	assert_int_equal(tsig_sign(&s, &w, now, 0, NULL, 0), DNSBL_ENOSPC);
	assert_int_equal(w.pos, 30);
	assert_int_equal(tsig_result_rcode(TSIG_BADSIG), DNS_R_NOTAUTH);
	assert_int_equal(tsig_result_error(TSIG_BADSIG), TSIG_E_BADSIG);
	assert_int_equal(tsig_result_error(TSIG_BADKEY), TSIG_E_BADKEY);
	ldns_pkt_free(qp);
}

/* tsig_answer picks the record each verification result calls for. */
static void test_tsig_answer(void **state)
{
	struct fixture *f = *state;
	uint8_t req[1024], buf[4096];
	struct tsig_rr t, rt;
	ldns_pkt *qp = ldns_request(&f->key, f->b64, LDNS_RR_TYPE_SOA);
	size_t qlen = to_wire(qp, req, sizeof(req));
	ldns_rdf *qmac = ldns_rr_rdf(ldns_pkt_tsig(qp), 3);
	uint64_t now = (uint64_t)time(NULL);
	struct wire_out w;
	static const struct {
		enum tsig_result r;
		int found;           /* a TSIG record in the answer */
		uint16_t error;
		bool mac;            /* signed */
	} cases[] = {
		{ TSIG_OK, 1, TSIG_E_NONE, true },       { TSIG_BADTIME, 1, TSIG_E_BADTIME, true },
		{ TSIG_BADTRUNC, 1, TSIG_E_BADTRUNC, true }, { TSIG_BADSIG, 1, TSIG_E_BADSIG, false },
		{ TSIG_BADKEY, 1, TSIG_E_BADKEY, false }, { TSIG_FORMERR, 0, 0, false },
	};

	assert_int_equal(tsig_find(req, qlen, &t), 1);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		wire_out_init(&w, buf, sizeof(buf));
		w.pos = response_wire(req, qlen, 0, 1, buf, sizeof(buf));
		assert_int_equal(tsig_answer(f->ctx, &f->key, &t, cases[i].r, &w, now + 1000), 0);
		assert_int_equal(tsig_find(buf, w.pos, &rt), cases[i].found);
		if (!cases[i].found)
			continue;
		assert_int_equal(rt.error, cases[i].error);
		assert_int_equal(rt.mac_len, cases[i].mac ? 32 : 0);
		assert_int_equal(rt.time_signed, cases[i].r == TSIG_BADTIME ? t.time_signed : now + 1000);
		assert_int_equal(rt.other_len, cases[i].r == TSIG_BADTIME ? 6 : 0);
		if (cases[i].mac)
			assert_true(ldns_verifies(buf, w.pos, &f->key, f->b64, qmac, 0, NULL));
	}
	ldns_pkt_free(qp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ldns_request_verifies_each_algorithm),
		cmocka_unit_test(test_request_badkey_badtime),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_mac_length),
		cmocka_unit_test(test_truncated_mac_badtrunc),
		cmocka_unit_test(test_response_verifies_with_ldns_each_algorithm),
		cmocka_unit_test(test_transfer_messages_verify_with_ldns),
		cmocka_unit_test(test_error_answers),
		cmocka_unit_test(test_tsig_answer),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
