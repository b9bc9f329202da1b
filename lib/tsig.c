#include "tsig.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "err.h"

/* The algorithm names as they go on the wire (RFC 8945 6), and OpenSSL's digests. */
struct tsig_algorithm {
	const uint8_t *wire;
	uint8_t wire_len;
	const char *digest;
	uint8_t mac_size;
};

#define WIRE(s) (const uint8_t *)s, (uint8_t)(sizeof(s) - 1)
static const struct tsig_algorithm algorithms[] = {
	[KEY_HMAC_MD5] = { WIRE("\x08hmac-md5\x07sig-alg\x03reg\x03int\x00"), "MD5", 16 },
	[KEY_HMAC_SHA1] = { WIRE("\x09hmac-sha1\x00"), "SHA1", 20 },
	[KEY_HMAC_SHA224] = { WIRE("\x0bhmac-sha224\x00"), "SHA224", 28 },
	[KEY_HMAC_SHA256] = { WIRE("\x0bhmac-sha256\x00"), "SHA256", 32 },
	[KEY_HMAC_SHA384] = { WIRE("\x0bhmac-sha384\x00"), "SHA384", 48 },
	[KEY_HMAC_SHA512] = { WIRE("\x0bhmac-sha512\x00"), "SHA512", 64 },
};
#undef WIRE

struct tsig_ctx {
	EVP_MAC *mac;
	EVP_MAC_CTX *mctx;
	/* the key loaded into mctx: re-keying costs two hash blocks and a digest
	 * fetch, so a transfer keys once and restarts the HMAC per message */
	bool keyed;
	enum key_algorithm algorithm;
	size_t secret_len;
	uint8_t secret[CONFIG_KEY_SECRET_MAX];
};

size_t tsig_mac_size(enum key_algorithm a)
{
	return algorithms[a].mac_size;
}

size_t tsig_rr_size_max(const struct key_config *key)
{
	/* owner, type..rdlength, algorithm, time, fudge, MAC size and MAC, original ID,
	 * error, other len and a BADTIME time */
	return key->wire.len + 10u + algorithms[key->algorithm].wire_len + 6 + 2 + 2 +
	       algorithms[key->algorithm].mac_size + 2 + 2 + 2 + 6;
}

int tsig_result_rcode(enum tsig_result r)
{
	return r == TSIG_OK ? DNS_R_NOERROR : r == TSIG_FORMERR ? DNS_R_FORMERR : DNS_R_NOTAUTH;
}

enum tsig_error tsig_result_error(enum tsig_result r)
{
	switch (r) {
	case TSIG_BADKEY: return TSIG_E_BADKEY;
	case TSIG_BADSIG: return TSIG_E_BADSIG;
	case TSIG_BADTIME: return TSIG_E_BADTIME;
	case TSIG_BADTRUNC: return TSIG_E_BADTRUNC;
	default: return TSIG_E_NONE;
	}
}

const char *tsig_result_name(enum tsig_result r)
{
	static const char *const names[] = {
		[TSIG_OK] = "OK", [TSIG_FORMERR] = "FORMERR", [TSIG_BADKEY] = "BADKEY",
		[TSIG_BADSIG] = "BADSIG", [TSIG_BADTIME] = "BADTIME", [TSIG_BADTRUNC] = "BADTRUNC",
	};
	return (unsigned)r < sizeof(names) / sizeof(names[0]) ? names[r] : "?";
}

/* ---- parsing ---- */

static void name_lower(uint8_t *n, size_t len)
{
	/* label length bytes are below 64: folding them changes nothing */
	for (size_t i = 0; i < len; i++)
		if (n[i] >= 'A' && n[i] <= 'Z')
			n[i] = (uint8_t)(n[i] + 32);
}

/* Parses the TSIG record at msg[off..len), which must end exactly at len. */
static int tsig_parse(const uint8_t *msg, size_t len, size_t off, struct tsig_rr *t)
{
	size_t p = off, n;

	t->offset = off;
	if (dns_name_parse(msg, len, &p, t->key_name, &n) < 0)
		return DNSBL_ESYNTAX;
	t->key_name_len = (uint8_t)n;
	if (len - p < 10 || wire_get_u16(msg + p) != DNS_T_TSIG ||
	    wire_get_u16(msg + p + 2) != DNS_C_ANY || wire_get_u32(msg + p + 4) != 0)
		return DNSBL_ESYNTAX;
	size_t rdlen = wire_get_u16(msg + p + 8);
	p += 10;
	if (len - p != rdlen)
		return DNSBL_ESYNTAX; /* past the message, or not its last record */
	/* the algorithm name is never compressed (RFC 8945 4.2), but tolerate it:
	 * what counts is that it stays inside the record */
	size_t rdend = len;
	if (dns_name_parse(msg, rdend, &p, t->algorithm, &n) < 0)
		return DNSBL_ESYNTAX;
	t->algorithm_len = (uint8_t)n;
	if (rdend - p < 10)
		return DNSBL_ESYNTAX;
	t->time_signed = (uint64_t)wire_get_u16(msg + p) << 32 | wire_get_u32(msg + p + 2);
	t->fudge = wire_get_u16(msg + p + 6);
	t->mac_len = wire_get_u16(msg + p + 8);
	p += 10;
	if (t->mac_len > TSIG_MAC_MAX || rdend - p < t->mac_len)
		return DNSBL_ESYNTAX;
	memcpy(t->mac, msg + p, t->mac_len);
	p += t->mac_len;
	if (rdend - p < 6)
		return DNSBL_ESYNTAX;
	t->original_id = wire_get_u16(msg + p);
	t->error = wire_get_u16(msg + p + 2);
	t->other_len = wire_get_u16(msg + p + 4);
	p += 6;
	if (t->other_len > TSIG_OTHER_MAX || rdend - p != t->other_len)
		return DNSBL_ESYNTAX;
	memcpy(t->other, msg + p, t->other_len);
	name_lower(t->key_name, t->key_name_len);
	name_lower(t->algorithm, t->algorithm_len);
	return 0;
}

int tsig_find(const uint8_t *msg, size_t len, struct tsig_rr *t)
{
	if (len < DNS_HEADER_SIZE)
		return DNSBL_ESYNTAX;
	unsigned qd = wire_get_u16(msg + 4);
	unsigned rr = (unsigned)wire_get_u16(msg + 6) + wire_get_u16(msg + 8) +
		      wire_get_u16(msg + 10);
	unsigned before_ar = rr - wire_get_u16(msg + 10);
	size_t p = DNS_HEADER_SIZE;

	for (unsigned i = 0; i < qd; i++) {
		if (dns_name_parse(msg, len, &p, NULL, NULL) < 0 || len - p < 4)
			return DNSBL_ESYNTAX;
		p += 4;
	}
	for (unsigned i = 0; i < rr; i++) {
		size_t start = p;
		if (dns_name_parse(msg, len, &p, NULL, NULL) < 0 || len - p < 10)
			return DNSBL_ESYNTAX;
		uint16_t type = wire_get_u16(msg + p);
		size_t rdlen = wire_get_u16(msg + p + 8);
		p += 10;
		if (len - p < rdlen)
			return DNSBL_ESYNTAX;
		p += rdlen;
		if (type != DNS_T_TSIG)
			continue;
		/* the last record, in the additional section (RFC 8945 5.1) */
		if (i + 1 != rr || i < before_ar || p != len)
			return DNSBL_ESYNTAX;
		return tsig_parse(msg, len, start, t) < 0 ? DNSBL_ESYNTAX : 1;
	}
	return p == len ? 0 : DNSBL_ESYNTAX;
}

/* ---- HMAC ---- */

int tsig_ctx_new(struct tsig_ctx **out)
{
	struct tsig_ctx *c = calloc(1, sizeof(*c));

	*out = NULL;
	if (c == NULL)
		return DNSBL_ENOMEM;
	c->mac = EVP_MAC_fetch(NULL, OSSL_MAC_NAME_HMAC, NULL);
	c->mctx = c->mac != NULL ? EVP_MAC_CTX_new(c->mac) : NULL;
	if (c->mctx == NULL) {
		tsig_ctx_free(c);
		return DNSBL_EIO;
	}
	*out = c;
	return 0;
}

void tsig_ctx_free(struct tsig_ctx *c)
{
	if (c == NULL)
		return;
	EVP_MAC_CTX_free(c->mctx);
	EVP_MAC_free(c->mac);
	OPENSSL_cleanse(c->secret, sizeof(c->secret));
	free(c);
}

/* Starts an HMAC with key, keying the context only when the key changed. */
static int mac_begin(struct tsig_ctx *c, const struct key_config *key)
{
	if (c->keyed && c->algorithm == key->algorithm && c->secret_len == key->secret_len &&
	    CRYPTO_memcmp(c->secret, key->secret, key->secret_len) == 0)
		return EVP_MAC_init(c->mctx, NULL, 0, NULL) == 1 ? 0 : DNSBL_EIO;
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
						 (char *)algorithms[key->algorithm].digest, 0),
		OSSL_PARAM_construct_end(),
	};
	c->keyed = false;
	if (EVP_MAC_init(c->mctx, key->secret, key->secret_len, params) != 1)
		return DNSBL_EIO;
	c->keyed = true;
	c->algorithm = key->algorithm;
	c->secret_len = key->secret_len;
	memcpy(c->secret, key->secret, key->secret_len);
	return 0;
}

static void mac_u16(struct tsig_ctx *c, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };
	EVP_MAC_update(c->mctx, b, 2);
}

static void mac_bytes(struct tsig_ctx *c, const uint8_t *p, size_t n)
{
	if (n > 0)
		EVP_MAC_update(c->mctx, p, n);
}

/* The message header with ARCOUNT less one (its TSIG record left out) and the
 * original ID, then the rest of the message up to its TSIG record. */
static void mac_message(struct tsig_ctx *c, const uint8_t *msg, size_t end, uint16_t arcount,
			uint16_t id)
{
	mac_u16(c, id);
	mac_bytes(c, msg + 2, 8);
	mac_u16(c, arcount);
	mac_bytes(c, msg + DNS_HEADER_SIZE, end - DNS_HEADER_SIZE);
}

/* The timers: time signed (48 bits) and fudge. */
static void mac_timers(struct tsig_ctx *c, uint64_t time_signed, uint16_t fudge)
{
	uint8_t b[8] = { (uint8_t)(time_signed >> 40), (uint8_t)(time_signed >> 32),
			 (uint8_t)(time_signed >> 24), (uint8_t)(time_signed >> 16),
			 (uint8_t)(time_signed >> 8),  (uint8_t)time_signed,
			 (uint8_t)(fudge >> 8),        (uint8_t)fudge };
	mac_bytes(c, b, sizeof(b));
}

/* Every TSIG variable (RFC 8945 4.3.3): key name, class, TTL, algorithm, timers,
 * error, other data. */
static void mac_variables(struct tsig_ctx *c, const uint8_t *key_name, size_t key_name_len,
			  const uint8_t *alg, size_t alg_len, uint64_t time_signed, uint16_t fudge,
			  uint16_t error, const uint8_t *other, size_t other_len)
{
	static const uint8_t class_ttl[6] = { 0, DNS_C_ANY, 0, 0, 0, 0 };

	mac_bytes(c, key_name, key_name_len);
	mac_bytes(c, class_ttl, sizeof(class_ttl));
	mac_bytes(c, alg, alg_len);
	mac_timers(c, time_signed, fudge);
	mac_u16(c, error);
	mac_u16(c, (uint16_t)other_len);
	mac_bytes(c, other, other_len);
}

static int mac_end(struct tsig_ctx *c, uint8_t *out, size_t *outlen)
{
	return EVP_MAC_final(c->mctx, out, outlen, TSIG_MAC_MAX) == 1 ? 0 : DNSBL_EIO;
}

enum tsig_result tsig_verify(struct tsig_ctx *c, const uint8_t *msg, size_t len,
			     const struct tsig_rr *t, const struct key_config *key, uint64_t now)
{
	if (key == NULL || t->key_name_len != key->wire.len ||
	    memcmp(t->key_name, key->wire.wire, key->wire.len) != 0 ||
	    t->algorithm_len != algorithms[key->algorithm].wire_len ||
	    memcmp(t->algorithm, algorithms[key->algorithm].wire, t->algorithm_len) != 0)
		return TSIG_BADKEY;
	size_t full = algorithms[key->algorithm].mac_size;
	size_t least = full / 2 > 10 ? full / 2 : 10;
	/* longer than the hash, or under max(10, half of it): FORMERR (RFC 8945 5.2.2.1) */
	if (t->mac_len > full || t->mac_len < least)
		return TSIG_FORMERR;
	if (len < t->offset || t->offset < DNS_HEADER_SIZE || wire_get_u16(msg + 10) == 0)
		return TSIG_FORMERR;

	uint8_t mac[TSIG_MAC_MAX];
	size_t maclen = 0;
	if (mac_begin(c, key) < 0)
		return TSIG_BADSIG;
	mac_message(c, msg, t->offset, (uint16_t)(wire_get_u16(msg + 10) - 1), t->original_id);
	mac_variables(c, t->key_name, t->key_name_len, t->algorithm, t->algorithm_len,
		      t->time_signed, t->fudge, t->error, t->other, t->other_len);
	if (mac_end(c, mac, &maclen) < 0 || maclen != full ||
	    CRYPTO_memcmp(mac, t->mac, t->mac_len) != 0)
		return TSIG_BADSIG;
	uint64_t skew = now > t->time_signed ? now - t->time_signed : t->time_signed - now;
	if (skew > t->fudge)
		return TSIG_BADTIME;
	if (t->mac_len < full)
		return TSIG_BADTRUNC;
	return TSIG_OK;
}

/* ---- signing ---- */

void tsig_signer_start(struct tsig_signer *s, struct tsig_ctx *ctx,
		       const struct key_config *key, const struct tsig_rr *request)
{
	s->ctx = ctx;
	s->key = key;
	s->first = true;
	s->original_id = request->original_id;
	s->prior_mac_len = request->mac_len;
	memcpy(s->prior_mac, request->mac, request->mac_len);
}

void tsig_signer_start_request(struct tsig_signer *s, struct tsig_ctx *ctx,
			       const struct key_config *key, uint16_t id)
{
	s->ctx = ctx;
	s->key = key;
	s->first = true;
	s->original_id = id;
	s->prior_mac_len = 0;
}

/* Writes the TSIG record after the message in w: owner, class ANY, TTL 0 and RDATA. */
static void put_record(struct wire_out *w, const uint8_t *key_name, size_t key_name_len,
		       const uint8_t *alg, size_t alg_len, uint64_t time_signed, uint16_t fudge,
		       const uint8_t *mac, size_t mac_len, uint16_t original_id, uint16_t error,
		       const uint8_t *other, size_t other_len)
{
	wire_put_bytes(w, key_name, key_name_len);
	wire_put_u16(w, DNS_T_TSIG);
	wire_put_u16(w, DNS_C_ANY);
	wire_put_u32(w, 0);
	wire_put_u16(w, (uint16_t)(alg_len + 16 + mac_len + other_len));
	wire_put_bytes(w, alg, alg_len);
	wire_put_u16(w, (uint16_t)(time_signed >> 32));
	wire_put_u32(w, (uint32_t)time_signed);
	wire_put_u16(w, fudge);
	wire_put_u16(w, (uint16_t)mac_len);
	if (mac_len > 0) /* an error answer's MAC and most Other Data are empty (NULL) */
		wire_put_bytes(w, mac, mac_len);
	wire_put_u16(w, original_id);
	wire_put_u16(w, error);
	wire_put_u16(w, (uint16_t)other_len);
	if (other_len > 0)
		wire_put_bytes(w, other, other_len);
}

int tsig_sign(struct tsig_signer *s, struct wire_out *w, uint64_t time_signed,
	      uint16_t error, const uint8_t *other, size_t other_len)
{
	const struct key_config *key = s->key;
	const struct tsig_algorithm *alg = &algorithms[key->algorithm];
	struct tsig_ctx *c = s->ctx;
	size_t start = w->pos, maclen = 0;
	uint8_t mac[TSIG_MAC_MAX];

	if (w->err != 0 || start < DNS_HEADER_SIZE || other_len > TSIG_OTHER_MAX)
		return DNSBL_ENOSPC;
	if (mac_begin(c, key) < 0)
		return DNSBL_EIO;
	if (s->prior_mac_len > 0) {
		mac_u16(c, s->prior_mac_len);
		mac_bytes(c, s->prior_mac, s->prior_mac_len);
	}
	/* with the original ID in place of the message ID, should a forwarder have
	 * changed it (RFC 8945 4.3.2) */
	mac_u16(c, s->original_id);
	mac_bytes(c, w->buf + 2, start - 2);
	if (s->first)
		mac_variables(c, key->wire.wire, key->wire.len, alg->wire, alg->wire_len,
			      time_signed, TSIG_FUDGE, error, other, other_len);
	else
		mac_timers(c, time_signed, TSIG_FUDGE);
	if (mac_end(c, mac, &maclen) < 0)
		return DNSBL_EIO;
	put_record(w, key->wire.wire, key->wire.len, alg->wire, alg->wire_len, time_signed,
		   TSIG_FUDGE, mac, maclen, s->original_id, error, other, other_len);
	if (w->err != 0) {
		w->pos = start;
		return DNSBL_ENOSPC;
	}
	wire_set_u16(w, 10, (uint16_t)(wire_get_u16(w->buf + 10) + 1));
	s->first = false;
	memcpy(s->prior_mac, mac, maclen);
	s->prior_mac_len = (uint16_t)maclen;
	return 0;
}

int tsig_append_unsigned(struct wire_out *w, const struct tsig_rr *t, uint64_t now,
			 uint16_t error)
{
	size_t start = w->pos;

	if (w->err != 0 || start < DNS_HEADER_SIZE)
		return DNSBL_ENOSPC;
	put_record(w, t->key_name, t->key_name_len, t->algorithm, t->algorithm_len, now, TSIG_FUDGE,
		   NULL, 0, t->original_id, error, NULL, 0);
	if (w->err != 0) {
		w->pos = start;
		return DNSBL_ENOSPC;
	}
	wire_set_u16(w, 10, (uint16_t)(wire_get_u16(w->buf + 10) + 1));
	return 0;
}

int tsig_answer(struct tsig_ctx *ctx, const struct key_config *key,
		const struct tsig_rr *request, enum tsig_result r, struct wire_out *w,
		uint64_t now)
{
	uint16_t error = (uint16_t)tsig_result_error(r);
	uint8_t other[6];
	size_t other_len = 0;
	uint64_t signed_at = now;
	struct tsig_signer s;

	if (r == TSIG_FORMERR)
		return 0;
	if (r == TSIG_BADKEY || r == TSIG_BADSIG)
		return tsig_append_unsigned(w, request, now, error);
	if (r == TSIG_BADTIME) {
		/* so that the client can verify it whatever its clock says */
		for (int i = 0; i < 6; i++)
			other[i] = (uint8_t)(now >> (40 - 8 * i));
		other_len = 6;
		signed_at = request->time_signed;
	}
	tsig_signer_start(&s, ctx, key, request);
	return tsig_sign(&s, w, signed_at, error, other, other_len);
}
