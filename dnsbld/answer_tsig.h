/* The slow path of a query signed with TSIG (RFC 8945): control traffic such as a
 * secondary's SOA query, so that unsigned queries pay nothing for it. The TSIG must
 * carry the transfer_key of the zone asked about; then the answer is the one the
 * query would get unsigned, signed with that key. Otherwise NOTAUTH with the TSIG
 * error (BADKEY, BADSIG unsigned; BADTIME, BADTRUNC signed), or FORMERR. Never
 * allocates: the HMAC context is the worker's (answer_ctx.tsig). */
#ifndef DNSBLD_ANSWER_TSIG_H
#define DNSBLD_ANSWER_TSIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "answer.h"
#include "wire.h"

/* Answers query pkt[0..len) (parsed as q, DNS_PARSE_OK, q->tsig set) into
 * out[0..outcap) as answer_query does, verifying and signing. Counts a rejected
 * TSIG in ctx->stats.tsig_rejected. Returns the response length, or 0 to drop. */
size_t answer_signed(struct answer_ctx *ctx, const uint8_t *pkt, size_t len,
		     const struct dns_query *q, uint8_t *out, size_t outcap, bool tcp);

#endif
