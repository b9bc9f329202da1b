#include "answer_write.h"

#include <string.h>

#include "addr.h"
#include "dname.h"
#include "txt.h"

static void rr_begin(struct response *r, size_t owner_off, uint16_t type, uint32_t ttl)
{
	wire_put_ptr(&r->w, owner_off);
	wire_put_u16(&r->w, type);
	wire_put_u16(&r->w, DNS_C_IN);
	wire_put_u32(&r->w, ttl);
}

static void put_soa(struct response *r, const struct zone *z, size_t apex_off,
		    uint32_t serial, uint32_t ttl)
{
	rr_begin(r, apex_off, DNS_T_SOA, ttl);
	wire_put_u16(&r->w, (uint16_t)(z->soa_names_len + 20));
	wire_put_bytes(&r->w, z->soa_names, z->soa_names_len);
	wire_put_u32(&r->w, serial);
	wire_put_bytes(&r->w, z->soa_times, sizeof(z->soa_times));
}

/* Whether value i repeats an earlier one's A (or, with txt, its TXT template): an
 * RRset holds each record once, and combined zones' members often share the test
 * point's 127.0.0.2. */
static bool repeats(const struct answer_value *l, unsigned i, bool txt)
{
	for (unsigned j = 0; j < i; j++) {
		if (!txt && l[j].v.a == l[i].v.a)
			return true;
		if (txt && l[j].v.txt != NULL && l[j].v.txt_len == l[i].v.txt_len &&
		    memcmp(l[j].v.txt, l[i].v.txt, l[i].v.txt_len) == 0)
			return true;
	}
	return false;
}

/* Writes the TXT record of value l, its template expanded in ctx's scratch. */
static void put_txt(struct answer_ctx *ctx, struct response *r, const struct zone *z,
		    const struct answer_value *l)
{
	char subst[DNAME_TEXT_MAX];
	size_t slen = l->key.family == ADDR_FAMILY_NAME
			      ? dname_format(&l->key, 0, subst, sizeof(subst))
			      : addr_format(&l->key, subst, sizeof(subst));
	size_t tlen = txt_expand(l->v.txt, l->v.txt_len, subst, slen, ctx->txt, sizeof(ctx->txt));

	rr_begin(r, DNS_HEADER_SIZE, DNS_T_TXT, z->ttl);
	wire_put_txt_rdata(&r->w, ctx->txt, tlen);
	r->ancount++;
}

/* Writes the A or TXT records of the plan's values (one, or a combined zone's members
 * that list the name), each value once. Returns false when there is none of qtype. */
static bool put_values(struct answer_ctx *ctx, struct response *r,
		       const struct answer_plan *plan, uint16_t qtype)
{
	const struct answer_value *l = plan->values;
	uint16_t before = r->ancount;

	for (unsigned i = 0; i < plan->nvalues; i++) {
		if (qtype == DNS_T_A || qtype == DNS_T_ANY) {
			/* ANY gets the A records alone: small on purpose (RFC 8482) */
			if (repeats(l, i, false))
				continue;
			rr_begin(r, DNS_HEADER_SIZE, DNS_T_A, plan->zone->ttl);
			wire_put_u16(&r->w, 4);
			wire_put_u32(&r->w, l[i].v.a);
			r->ancount++;
		} else if (qtype == DNS_T_TXT && l[i].v.txt != NULL && !repeats(l, i, true)) {
			put_txt(ctx, r, plan->zone, &l[i]);
		}
	}
	return r->ancount != before;
}

/* Writes the apex's SOA or NS records. Returns false when there is none of qtype. */
static bool put_apex(struct response *r, const struct answer_plan *plan, uint16_t qtype)
{
	const struct zone *z = plan->zone;

	if (qtype == DNS_T_SOA || qtype == DNS_T_ANY || qtype == DNS_T_IXFR) {
		put_soa(r, z, plan->apex_off, plan->serial, z->ttl);
		r->ancount++;
		return true;
	}
	if (qtype != DNS_T_NS)
		return false;
	for (unsigned i = 0; i < z->ns_count; i++) {
		rr_begin(r, plan->apex_off, DNS_T_NS, z->ttl);
		wire_put_u16(&r->w, z->ns[i].len);
		wire_put_bytes(&r->w, z->ns[i].wire, z->ns[i].len);
		r->ancount++;
	}
	return true;
}

static void count_rcode(struct answer_stats *s, int rcode)
{
	switch (rcode) {
	case DNS_R_NOERROR: s->noerror++; break;
	case DNS_R_NXDOMAIN: s->nxdomain++; break;
	case DNS_R_REFUSED: s->refused++; break;
	case DNS_R_FORMERR: s->formerr++; break;
	case DNS_R_NOTIMP: s->notimp++; break;
	case DNS_R_SERVFAIL: s->servfail++; break;
	default: break;
	}
}

size_t response_limit(const struct dns_query *q, size_t outcap, bool tcp)
{
	size_t limit;

	if (tcp)
		limit = outcap > 0xffff ? 0xffff : outcap;
	else if (q->edns)
		limit = q->edns_udp_size < ANSWER_EDNS_UDP_SIZE ? q->edns_udp_size
								: ANSWER_EDNS_UDP_SIZE;
	else
		limit = DNS_UDP_NO_EDNS;
	return limit > outcap ? outcap : limit;
}

/* Writes the header, and the question when with_question, into out[0..cap). */
static bool header_start(struct response *r, const uint8_t *pkt, const struct dns_query *q,
			 bool with_question, uint8_t *out, size_t cap)
{
	wire_out_init(&r->w, out, cap);
	r->ancount = r->nscount = r->arcount = 0;
	wire_put_u16(&r->w, q->id);
	wire_put_u16(&r->w, 0); /* flags, set at the end */
	wire_put_u16(&r->w, with_question ? 1 : 0);
	wire_put_u16(&r->w, 0);
	wire_put_u16(&r->w, 0);
	wire_put_u16(&r->w, 0);
	if (with_question)
		wire_put_bytes(&r->w, pkt + DNS_HEADER_SIZE, q->question_end - DNS_HEADER_SIZE);
	return r->w.err == 0;
}

bool response_start(struct response *r, const uint8_t *pkt, const struct dns_query *q,
		    uint8_t *out, size_t limit)
{
	size_t reserve = q->edns ? DNS_OPT_RR_SIZE : 0;

	return header_start(r, pkt, q, q->has_question, out, limit - reserve);
}

/* Adds OPT (when q had EDNS) and sets the header's flags, rcode and counts. Returns
 * the response length, or 0 when something did not fit. */
static size_t response_finish(struct response *r, const struct dns_query *q, uint16_t flags,
			      int rcode)
{
	if (q->edns) {
		/* room for this was kept out of w.cap by response_start */
		r->w.cap += DNS_OPT_RR_SIZE;
		wire_put_u8(&r->w, 0);
		wire_put_u16(&r->w, DNS_T_OPT);
		wire_put_u16(&r->w, ANSWER_EDNS_UDP_SIZE);
		wire_put_u8(&r->w, (uint8_t)(rcode >> 4)); /* extended rcode */
		wire_put_u8(&r->w, 0);                     /* version */
		wire_put_u16(&r->w, q->edns_do ? 0x8000 : 0);
		wire_put_u16(&r->w, 0);
		r->arcount++;
	}
	flags |= DNS_F_QR | (q->flags & (0x7800 | DNS_F_RD | DNS_F_CD)) | (uint16_t)(rcode & 0xf);
	wire_set_u16(&r->w, 2, flags);
	wire_set_u16(&r->w, 6, r->ancount);
	wire_set_u16(&r->w, 8, r->nscount);
	wire_set_u16(&r->w, 10, r->arcount);
	return r->w.err ? 0 : r->w.pos;
}

size_t response_header_only(struct answer_ctx *ctx, struct response *r,
			    const struct dns_query *q)
{
	/* the question does not fit the caller's buffer (never with ours: a question
	 * is at most 259 bytes): the header alone, with TC */
	header_start(r, NULL, q, false, r->w.buf, r->w.cap);
	ctx->stats.truncated++;
	return response_finish(r, q, DNS_F_TC, DNS_R_NOERROR);
}

size_t response_write(struct answer_ctx *ctx, struct response *r, const struct dns_query *q,
		      const struct answer_plan *plan)
{
	uint16_t flags = DNS_F_AA;
	bool answered = false;

	switch (plan->kind) {
	case ANSWER_ERROR:
	case ANSWER_SERVFAIL:
		count_rcode(&ctx->stats, plan->rcode);
		return response_finish(r, q, 0, plan->rcode);
	case ANSWER_LISTED:
		answered = put_values(ctx, r, plan, q->qtype);
		break;
	case ANSWER_APEX:
		answered = put_apex(r, plan, q->qtype);
		break;
	case ANSWER_NODATA:
	case ANSWER_NXDOMAIN:
		break;
	}
	if (!answered) {
		put_soa(r, plan->zone, plan->apex_off, plan->serial, plan->zone->neg_ttl);
		r->nscount++;
	}
	if (r->w.err != 0) {
		/* does not fit: the question alone, with TC, so the client retries on TCP */
		r->w.err = 0;
		r->w.pos = q->question_end;
		r->ancount = r->nscount = 0;
		flags |= DNS_F_TC;
		ctx->stats.truncated++;
	}
	count_rcode(&ctx->stats, plan->rcode);
	return response_finish(r, q, flags, plan->rcode);
}
