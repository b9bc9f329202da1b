#include "answer_decide.h"

#include <stdbool.h>

#include "query_name.h"

/* The zone's store record for this batch; NULL when the store has none. */
static const struct store_zone *zone_state_get(struct answer_ctx *ctx, unsigned zi)
{
	struct zone_state *zs = &ctx->zstate[zi];

	if (zs->batch != ctx->batch) {
		zs->batch = ctx->batch;
		zs->present = ctx->store_ok &&
			      store_zone_get(ctx->reader, ctx->zones->zones[zi].cfg->name,
					     &zs->rec) == 0;
	}
	return zs->present ? &zs->rec : NULL;
}

/* Decides zone zi's (an ip or name zone) answer for key, with *val when listed. The
 * decision (test points, exclusions, expiry, the zone's exemption list, empty
 * non-terminals) is lib/listing's, the same that dnsbl-api reports. */
static enum answer_kind zone_decide(struct answer_ctx *ctx, unsigned zi,
				    const struct listing_key *key, struct answer_value *val)
{
	const struct zone *z = &ctx->zones->zones[zi];
	const struct listing_values def = { z->a, z->txt_len ? z->txt : NULL, z->txt_len };
	struct listing_result res;

	if (key->count == 0)
		return ANSWER_NXDOMAIN; /* labels no entry can match */
	if (ctx->reader != NULL && !ctx->store_ok)
		return ANSWER_SERVFAIL;
	const struct store_zone *allow =
		z->exempt >= 0 ? zone_state_get(ctx, (unsigned)z->exempt) : NULL;
	int v = listing_query(ctx->reader, zone_state_get(ctx, zi), allow, key, ctx->now, &res);
	switch (v) {
	case LISTING_LISTED:
	case LISTING_TEST_LISTED:
		listing_values_resolve(v, &res.match, &def, &val->v);
		val->key = res.key;
		return ANSWER_LISTED;
	case LISTING_EMPTY_NON_TERMINAL:
		return ANSWER_NODATA;
	default:
		if (v >= 0)
			return ANSWER_NXDOMAIN;
		ctx->stats.store_errors++;
		return ANSWER_SERVFAIL;
	}
}

/* A combined zone: every member that lists the name adds its value to the plan.
 * Listed when one member lists it; else an empty non-terminal when one member has
 * something below it; else NXDOMAIN. */
static enum answer_kind combined_decide(struct answer_ctx *ctx, const struct zone *z,
					const struct listing_key *key, struct answer_plan *plan)
{
	bool below_some = false;

	plan->nvalues = 0;
	for (unsigned i = 0; i < z->member_count; i++) {
		enum answer_kind kind =
			zone_decide(ctx, z->members[i], key, &plan->values[plan->nvalues]);
		if (kind == ANSWER_SERVFAIL)
			return ANSWER_SERVFAIL;
		if (kind == ANSWER_LISTED)
			plan->nvalues++;
		else if (kind == ANSWER_NODATA)
			below_some = true;
	}
	return plan->nvalues > 0 ? ANSWER_LISTED : below_some ? ANSWER_NODATA : ANSWER_NXDOMAIN;
}

/* The serial of zone zi's SOA: its store serial plus its exempt allowlist's, whose
 * changes change its answers too; for a combined zone the sum of its members' (which
 * grows whenever one of them changes). lib/zonemap's zonemap_serial is the same sum,
 * so that secondaries see the serial dnsbld answers. */
static uint32_t zone_serial(struct answer_ctx *ctx, unsigned zi)
{
	const struct zone *z = &ctx->zones->zones[zi];
	uint32_t serial = 0;

	if (z->cfg->type != ZONE_TYPE_COMBINED) {
		const struct store_zone *zrec = zone_state_get(ctx, zi);
		serial = zrec != NULL ? zrec->serial : 0;
		if (z->exempt >= 0) {
			const struct store_zone *erec = zone_state_get(ctx, (unsigned)z->exempt);
			serial += erec != NULL ? erec->serial : 0;
		}
		return serial;
	}
	for (unsigned i = 0; i < z->member_count; i++)
		serial += zone_serial(ctx, z->members[i]);
	return serial;
}

/* Decides zone zi's answer for the k labels below its apex (k > 0). */
static enum answer_kind labels_decide(struct answer_ctx *ctx, unsigned zi, const uint8_t *qname,
				    const struct dns_query *q, unsigned k,
				    struct answer_plan *plan)
{
	const struct zone *z = &ctx->zones->zones[zi];
	enum zone_type type = z->cfg->type == ZONE_TYPE_COMBINED ? z->member_type : z->cfg->type;
	struct listing_key key;

	/* a combined zone's members are all of one type: one key serves them all */
	if (type == ZONE_TYPE_NAME)
		query_name_domain_key(qname, q, k, ctx->qkey, &key);
	else
		query_name_ip_key(qname, q, k, &key);
	if (z->cfg->type == ZONE_TYPE_COMBINED)
		return combined_decide(ctx, z, &key, plan);
	plan->nvalues = 1;
	return zone_decide(ctx, zi, &key, &plan->values[0]);
}

static void plan_error(struct answer_plan *plan, int rcode)
{
	plan->kind = ANSWER_ERROR;
	plan->rcode = rcode;
	plan->zone = NULL;
	plan->apex_off = 0;
	plan->serial = 0;
	plan->nvalues = 0;
}

void answer_decide(struct answer_ctx *ctx, const uint8_t *pkt, const struct dns_query *q,
		   enum dns_parse_result pr, struct answer_plan *plan)
{
	const uint8_t *qname = pkt + DNS_HEADER_SIZE;

	if (pr == DNS_PARSE_ERROR) {
		plan_error(plan, q->rcode);
		return;
	}
	int zi = -1;
	/* AXFR is TCP only (dnsbld/xfr.c takes it there); an IXFR over UDP gets the SOA
	 * alone at the apex (RFC 1995 2: the difference never fits, ask over TCP) */
	if (q->qclass == DNS_C_IN && q->qtype != DNS_T_AXFR)
		zi = zone_table_find(ctx->zones, qname, q->label_off, q->nlabels);
	if (zi >= 0 && q->qtype == DNS_T_IXFR &&
	    q->nlabels != ctx->zones->zones[zi].apex_labels)
		zi = -1;
	if (zi < 0) {
		plan_error(plan, DNS_R_REFUSED); /* not ours, or not a query we answer */
		return;
	}

	const struct zone *z = &ctx->zones->zones[zi];
	unsigned k = q->nlabels - z->apex_labels;
	plan->zone = z;
	plan->apex_off = DNS_HEADER_SIZE + q->label_off[k];
	plan->nvalues = 0;
	plan->kind = k == 0 ? ANSWER_APEX : labels_decide(ctx, (unsigned)zi, qname, q, k, plan);
	plan->serial = plan->kind == ANSWER_SERVFAIL ? 0 : zone_serial(ctx, (unsigned)zi);
	plan->rcode = plan->kind == ANSWER_SERVFAIL  ? DNS_R_SERVFAIL
		      : plan->kind == ANSWER_NXDOMAIN ? DNS_R_NXDOMAIN
						      : DNS_R_NOERROR;
}
