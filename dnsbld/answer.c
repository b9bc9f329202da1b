#include "answer.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "answer_decide.h"
#include "answer_tsig.h"
#include "answer_write.h"
#include "err.h"
#include "wire.h"

int answer_ctx_init(struct answer_ctx *ctx, const struct zone_table *zones,
		    struct store_reader *reader)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->zones = zones;
	ctx->reader = reader;
	ctx->zstate = calloc(zones->count ? zones->count : 1, sizeof(*ctx->zstate));
	if (ctx->zstate == NULL)
		return DNSBL_ENOMEM;
	int rc = tsig_ctx_new(&ctx->tsig);
	if (rc < 0) {
		answer_ctx_free(ctx);
		return rc;
	}
	return 0;
}

void answer_ctx_free(struct answer_ctx *ctx)
{
	free(ctx->zstate);
	ctx->zstate = NULL;
	tsig_ctx_free(ctx->tsig);
	ctx->tsig = NULL;
}

void answer_batch_begin(struct answer_ctx *ctx)
{
	ctx->now = (uint32_t)time(NULL);
	ctx->store_ok = ctx->reader != NULL && store_reader_begin(ctx->reader) == 0;
	if (ctx->reader != NULL && !ctx->store_ok)
		ctx->stats.store_errors++;
	/* zone records read in an earlier batch stay good while nothing was written */
	uint64_t snap = ctx->store_ok ? store_reader_snapshot(ctx->reader) : 0;
	if (!ctx->store_ok || snap != ctx->snapshot || ctx->batch == 0) {
		ctx->batch++;
		ctx->snapshot = snap;
	}
	ctx->in_batch = true;
}

void answer_batch_end(struct answer_ctx *ctx)
{
	if (ctx->store_ok)
		store_reader_end(ctx->reader);
	ctx->store_ok = false;
	ctx->in_batch = false;
}

size_t answer_query(struct answer_ctx *ctx, const uint8_t *pkt, size_t len, uint8_t *out,
		    size_t outcap, bool tcp)
{
	struct dns_query q;
	struct response r;
	struct answer_plan plan;

	ctx->stats.queries++;
	enum dns_parse_result pr = dns_query_parse(pkt, len, &q);
	if (pr == DNS_PARSE_DROP || outcap < DNS_HEADER_SIZE + DNS_OPT_RR_SIZE) {
		ctx->stats.dropped++;
		return 0;
	}
	if (q.tsig && pr == DNS_PARSE_OK)
		return answer_signed(ctx, pkt, len, &q, out, outcap, tcp);
	if (!response_start(&r, pkt, &q, out, response_limit(&q, outcap, tcp)))
		return response_header_only(ctx, &r, &q);
	answer_decide(ctx, pkt, &q, pr, &plan);
	return response_write(ctx, &r, &q, &plan);
}
