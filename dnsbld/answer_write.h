/* Writing a response as an answer_plan describes it, over a copy of the query's
 * header and question (RFC 1035 4.1), with OPT (RFC 6891) and TC when the sections
 * do not fit: SOA, NS, A and TXT records from the zone's pre-packed data. Counts the
 * rcodes and truncations. Never allocates. */
#ifndef DNSBLD_ANSWER_WRITE_H
#define DNSBLD_ANSWER_WRITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "answer.h"
#include "answer_decide.h"
#include "wire.h"

/* A response being written. */
struct response {
	struct wire_out w; /* w.cap keeps room for OPT back when the query had EDNS */
	uint16_t ancount, nscount, arcount;
};

/* The most a response to q may take: for TCP outcap (at most 65535), for UDP 512, or
 * the client's EDNS size up to ANSWER_EDNS_UDP_SIZE, never more than outcap. */
size_t response_limit(const struct dns_query *q, size_t outcap, bool tcp);

/* Starts the response to q (parsed from pkt) in out[0..limit): header and question,
 * keeping room for OPT back. Returns false when the question does not fit. */
bool response_start(struct response *r, const uint8_t *pkt, const struct dns_query *q,
		    uint8_t *out, size_t limit);

/* Rewrites r, after response_start failed, as the header alone with TC and finishes
 * it; counts a truncation. Returns the response length. */
size_t response_header_only(struct answer_ctx *ctx, struct response *r,
			    const struct dns_query *q);

/* Writes plan's sections after the question (A/TXT of the values, SOA/NS at the apex,
 * SOA in authority when there is no answer), or the question alone with TC when they
 * do not fit; then OPT and the header's flags and counts. Uses ctx's TXT scratch and
 * counters. Returns the response length (0 only if the header could not be written). */
size_t response_write(struct answer_ctx *ctx, struct response *r, const struct dns_query *q,
		      const struct answer_plan *plan);

#endif
