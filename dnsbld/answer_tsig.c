#include "answer_tsig.h"

#include <time.h>

#include "answer_decide.h"
#include "answer_write.h"
#include "tsig.h"

/* The rcode-only plan of an error answer. */
static void plan_rcode(struct answer_plan *plan, int rcode)
{
	*plan = (struct answer_plan){ .kind = ANSWER_ERROR, .rcode = rcode };
}

size_t answer_signed(struct answer_ctx *ctx, const uint8_t *pkt, size_t len,
		     const struct dns_query *q, uint8_t *out, size_t outcap, bool tcp)
{
	struct tsig_rr t;
	struct response r;
	struct answer_plan plan;
	size_t limit = response_limit(q, outcap, tcp);

	if (tsig_find(pkt, len, &t) != 1) {
		/* dns_query_parse saw the record where it belongs, so it is damaged */
		ctx->stats.tsig_rejected++;
		plan_rcode(&plan, DNS_R_FORMERR);
		if (!response_start(&r, pkt, q, out, limit))
			return response_header_only(ctx, &r, q);
		return response_write(ctx, &r, q, &plan);
	}
	int zi = q->qclass == DNS_C_IN ? zone_table_find(ctx->zones, pkt + DNS_HEADER_SIZE,
							 q->label_off, q->nlabels)
				       : -1;
	const struct key_config *key = zi >= 0 ? ctx->zones->zones[zi].key : NULL;
	uint64_t now = (uint64_t)time(NULL);
	enum tsig_result v = tsig_verify(ctx->tsig, pkt, len, &t, key, now);
	bool sign = v == TSIG_OK || v == TSIG_BADTIME || v == TSIG_BADTRUNC;
	/* room for our TSIG record: signed with the key, or the request's names with an
	 * empty MAC */
	size_t reserve = sign ? tsig_rr_size_max(key)
			      : (size_t)t.key_name_len + 10 + t.algorithm_len + 16;
	if (v != TSIG_OK)
		ctx->stats.tsig_rejected++;
	if (limit < reserve + q->question_end + DNS_OPT_RR_SIZE) {
		ctx->stats.dropped++; /* names too long for a UDP answer: nothing fits */
		return 0;
	}
	if (!response_start(&r, pkt, q, out, limit - reserve))
		return response_header_only(ctx, &r, q);
	if (v == TSIG_OK)
		answer_decide(ctx, pkt, q, DNS_PARSE_OK, &plan);
	else
		plan_rcode(&plan, tsig_result_rcode(v));
	size_t n = response_write(ctx, &r, q, &plan);
	if (n == 0 || v == TSIG_FORMERR)
		return n;

	struct wire_out w;
	wire_out_init(&w, out, limit);
	w.pos = n;
	return tsig_answer(ctx->tsig, key, &t, v, &w, now) == 0 ? w.pos : 0;
}
