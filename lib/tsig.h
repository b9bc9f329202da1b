/* TSIG (RFC 8945): parsing the TSIG record of a message, verifying a request against
 * a configured key, and signing responses, alone or as the messages of a transfer.
 * HMACs come from OpenSSL 3's EVP_MAC, through a struct tsig_ctx made once per
 * thread (a worker, a transfer) and reused for every message: nothing here allocates
 * after tsig_ctx_new. Not for the per-query path of unsigned queries: dnsbld diverts
 * the rare signed query here (dns_query.tsig). */
#ifndef DNSBL_TSIG_H
#define DNSBL_TSIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "wire.h"

#define TSIG_MAC_MAX 64    /* hmac-sha512's output, the longest */
#define TSIG_OTHER_MAX 16  /* Other Data we accept: 6 octets (a BADTIME time) in practice */
#define TSIG_FUDGE 300     /* what we sign with (RFC 8945 10 recommends 300 s) */

/* The TSIG error field (RFC 8945 3). */
enum tsig_error {
	TSIG_E_NONE = 0, TSIG_E_BADSIG = 16, TSIG_E_BADKEY = 17, TSIG_E_BADTIME = 18,
	TSIG_E_BADTRUNC = 22,
};

/* What tsig_verify found. */
enum tsig_result {
	TSIG_OK = 0,    /* signed with the key, in time */
	TSIG_FORMERR,   /* the MAC is longer than the hash, or shorter than allowed */
	TSIG_BADKEY,    /* not the expected key name or algorithm (or no key expected) */
	TSIG_BADSIG,    /* the MAC does not match */
	TSIG_BADTIME,   /* signed more than fudge seconds from now */
	TSIG_BADTRUNC,  /* a valid but truncated MAC: we accept full-length MACs only */
};

/* A message's TSIG record, copied out of the message (it stays valid after). */
struct tsig_rr {
	size_t offset;            /* where the record starts: what was signed ends here */
	uint8_t key_name[DNS_NAME_MAX]; /* uncompressed, lower case */
	uint8_t key_name_len;
	uint8_t algorithm[DNS_NAME_MAX]; /* uncompressed, lower case */
	uint8_t algorithm_len;
	uint64_t time_signed;     /* 48 bits, seconds since the epoch */
	uint16_t fudge;
	uint16_t mac_len;
	uint8_t mac[TSIG_MAC_MAX];
	uint16_t original_id;
	uint16_t error;
	uint16_t other_len;
	uint8_t other[TSIG_OTHER_MAX];
};

/* Finds the TSIG record of message msg[0..len) and copies it into *t. Returns 1 when
 * there is one (the last record of the additional section, class ANY, TTL 0, well
 * formed), 0 when the message has none, DNSBL_ESYNTAX when the message or the
 * record is malformed (truncated, a TSIG elsewhere or twice, bad class or TTL, bad
 * names, a MAC over TSIG_MAC_MAX or Other Data over TSIG_OTHER_MAX octets). */
int tsig_find(const uint8_t *msg, size_t len, struct tsig_rr *t);

/* The RCODE and TSIG error a response carries for result r (NOTAUTH and the error,
 * or FORMERR; NOERROR and no error for TSIG_OK). */
int tsig_result_rcode(enum tsig_result r);
enum tsig_error tsig_result_error(enum tsig_result r);

/* Returns a static name for r ("BADSIG", ...), for log lines. */
const char *tsig_result_name(enum tsig_result r);

/* Returns the HMAC output length of algorithm a in octets. */
size_t tsig_mac_size(enum key_algorithm a);

/* The most octets the TSIG record signing a response with key takes. */
size_t tsig_rr_size_max(const struct key_config *key);

/* An HMAC context for one thread, reused for every message (opaque). */
struct tsig_ctx;

/* Fetches OpenSSL's HMAC once and makes a context. Returns 0 and *out (the caller
 * frees it with tsig_ctx_free), DNSBL_ENOMEM or DNSBL_EIO (OpenSSL failed). */
int tsig_ctx_new(struct tsig_ctx **out);

/* Frees c (NULL is fine). */
void tsig_ctx_free(struct tsig_ctx *c);

/* Verifies request msg[0..len) whose TSIG record is t against key (NULL: the zone
 * has none, so any key is unknown) at time now: key name and algorithm, the MAC over
 * the request as RFC 8945 4.3.3 has it, then the time against the fudge. */
enum tsig_result tsig_verify(struct tsig_ctx *c, const uint8_t *msg, size_t len,
			     const struct tsig_rr *t, const struct key_config *key, uint64_t now);

/* Signing state of one answer: a response, or every message of a transfer. Lives on
 * the caller's stack or in its transfer job; holds the MAC of the last message. */
struct tsig_signer {
	struct tsig_ctx *ctx;        /* not owned */
	const struct key_config *key; /* not owned */
	bool first;                  /* the next message is the first of the answer */
	uint16_t original_id;
	uint8_t prior_mac[TSIG_MAC_MAX]; /* the request's MAC, then each message's */
	uint16_t prior_mac_len;
};

/* Starts signing the answer to request (its verified TSIG record) with key. */
void tsig_signer_start(struct tsig_signer *s, struct tsig_ctx *ctx,
		       const struct key_config *key, const struct tsig_rr *request);

/* Starts signing a request of ours with message id id (a NOTIFY): its MAC covers
 * no prior MAC (RFC 8945 4.3.1). */
void tsig_signer_start_request(struct tsig_signer *s, struct tsig_ctx *ctx,
			       const struct key_config *key, uint16_t id);

/* Signs the message in w->buf[0..w->pos) (ARCOUNT not counting a TSIG record yet) and
 * appends its TSIG record, adding one to ARCOUNT. The first message's MAC covers the
 * request MAC, the message and every TSIG variable; each later one's the prior MAC,
 * the message and the timers (RFC 8945 5.3.1). error and other[0..other_len) go into
 * the record (a BADTIME answer: the request's time_signed and our time as other).
 * time_signed is now, except for BADTIME. Returns 0, DNSBL_ENOSPC when the record
 * does not fit w (w->err set) or DNSBL_EIO (OpenSSL failed). */
int tsig_sign(struct tsig_signer *s, struct wire_out *w, uint64_t time_signed,
	      uint16_t error, const uint8_t *other, size_t other_len);

/* Appends the unsigned TSIG record of a BADKEY or BADSIG answer to request t (its key
 * and algorithm names, an empty MAC, the error; RFC 8945 5.3.2) to the message in w
 * and adds one to ARCOUNT. Returns 0 or DNSBL_ENOSPC. */
int tsig_append_unsigned(struct wire_out *w, const struct tsig_rr *t, uint64_t now,
			 uint16_t error);

/* Appends to the one-message answer in w the TSIG record that request (verified as r
 * against key) calls for (RFC 8945 5.2, 5.3.2): signed for TSIG_OK, TSIG_BADTIME (the
 * request's time, ours in Other Data) and TSIG_BADTRUNC; unsigned with the error for
 * TSIG_BADKEY and TSIG_BADSIG; none for TSIG_FORMERR. ctx serves the HMAC. Returns 0,
 * DNSBL_ENOSPC or DNSBL_EIO. */
int tsig_answer(struct tsig_ctx *ctx, const struct key_config *key,
		const struct tsig_rr *request, enum tsig_result r, struct wire_out *w,
		uint64_t now);

#endif
