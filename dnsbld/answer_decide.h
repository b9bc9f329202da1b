/* Deciding a query's answer before anything is written: which zone, and whether the
 * name is listed there (lib/listing's decision, per member of a combined zone), an
 * empty non-terminal, absent, the apex, or not ours to answer. The result is a plain
 * struct answer_plan that answer_write.h turns into sections. Never allocates. */
#ifndef DNSBLD_ANSWER_DECIDE_H
#define DNSBLD_ANSWER_DECIDE_H

#include <stddef.h>
#include <stdint.h>

#include "answer.h"
#include "config.h"
#include "listing.h"
#include "wire.h"
#include "zone.h"

/* What the answer is made of. */
enum answer_kind {
	ANSWER_LISTED,   /* NOERROR with the A/TXT of the plan's values */
	ANSWER_NODATA,   /* NOERROR, SOA in authority (an empty non-terminal) */
	ANSWER_NXDOMAIN, /* NXDOMAIN, SOA in authority */
	ANSWER_APEX,     /* the zone apex: SOA/NS */
	ANSWER_SERVFAIL, /* the store failed: the rcode alone */
	ANSWER_ERROR,    /* not answered (FORMERR, NOTIMP, BADVERS, REFUSED): the rcode alone */
};

/* One listing that answers: a zone's, or one member's of a combined zone. */
struct answer_value {
	struct listing_values v; /* A and TXT template (pointing into the snapshot) */
	struct entry_key key;    /* the address or name as answered, for "$" */
};

struct answer_plan {
	enum answer_kind kind;
	int rcode;               /* the response's rcode (extended bits in OPT) */
	const struct zone *zone; /* the zone answering; NULL with ANSWER_ERROR */
	size_t apex_off;         /* offset of the apex name in the question */
	uint32_t serial;         /* the SOA serial */
	unsigned nvalues;        /* ANSWER_LISTED: values[0..nvalues) */
	struct answer_value values[CONFIG_MAX_MEMBERS];
};

/* Decides the answer to query q (parsed from pkt, pr its dns_query_parse result, not
 * DNS_PARSE_DROP) into *plan, from ctx's batch snapshot; counts store errors. The
 * plan's TXT templates point into the snapshot (valid until the batch ends), a name
 * key into ctx->qkey (valid until the next query). */
void answer_decide(struct answer_ctx *ctx, const uint8_t *pkt, const struct dns_query *q,
		   enum dns_parse_result pr, struct answer_plan *plan);

#endif
