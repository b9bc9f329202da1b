/* Answer building: one query in, one response out, written into a caller's buffer
 * over a copy of the query's header and question. Never allocates; everything it
 * needs lives in a per-worker struct answer_ctx sized once at start-up. answer_query
 * first decides (answer_decide.h: labels to a key, lib/listing once per zone or
 * member), then writes what it decided (answer_write.h). */
#ifndef DNSBLD_ANSWER_H
#define DNSBLD_ANSWER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dname.h"
#include "store.h"
#include "tsig.h"
#include "txt.h"
#include "zone.h"

#define ANSWER_EDNS_UDP_SIZE 1232 /* what we advertise and send at most over UDP */

/* Counters kept per worker (no sharing, no atomics). */
struct answer_stats {
	uint64_t queries, dropped, noerror, nxdomain, refused, formerr, notimp, servfail,
		truncated, store_errors, tsig_rejected;
};

/* Per-zone store state, read once per store snapshot. */
struct zone_state {
	uint64_t batch;    /* batch in which rec was read */
	bool present;      /* the zone exists in the store */
	struct store_zone rec;
};

struct answer_ctx {
	const struct zone_table *zones;
	struct store_reader *reader; /* NULL: serve without a store (tests) */
	bool in_batch;
	bool store_ok;     /* the batch's read transaction began */
	uint64_t batch;    /* changes when zone records must be read again */
	uint64_t snapshot; /* the store snapshot of batch */
	uint32_t now;
	struct zone_state *zstate; /* one per zone, owned by the ctx */
	char txt[TXT_EXPANDED_MAX]; /* scratch for TXT expansion */
	uint8_t qkey[DNAME_KEY_MAX]; /* a name zone's query name in key form */
	struct tsig_ctx *tsig; /* HMACs for signed queries (rare: the slow path) */
	struct answer_stats stats;
};

/* Prepares ctx for zones, reading from reader (which the caller owns; may be NULL),
 * with an HMAC context for signed queries. Returns 0, DNSBL_ENOMEM or DNSBL_EIO. */
int answer_ctx_init(struct answer_ctx *ctx, const struct zone_table *zones,
		    struct store_reader *reader);

/* Frees what answer_ctx_init allocated (not the reader). */
void answer_ctx_free(struct answer_ctx *ctx);

/* Starts a batch: one store snapshot and one clock reading for the queries that
 * follow until answer_batch_end. */
void answer_batch_begin(struct answer_ctx *ctx);

/* Ends the batch and releases the snapshot. */
void answer_batch_end(struct answer_ctx *ctx);

/* Answers the query pkt[0..len) into out[0..outcap). tcp selects the size limit
 * (UDP: 512, or the client's EDNS size up to ANSWER_EDNS_UDP_SIZE; TCP: outcap).
 * Must be called between answer_batch_begin and answer_batch_end. A query signed
 * with TSIG takes the slow path of answer_tsig.h. Returns the response length, or 0
 * when the packet is to be dropped. */
size_t answer_query(struct answer_ctx *ctx, const uint8_t *pkt, size_t len, uint8_t *out,
		    size_t outcap, bool tcp);

#endif
