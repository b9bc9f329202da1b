#include "answer.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "addr.h"
#include "err.h"
#include "listing.h"
#include "txt.h"
#include "wire.h"

/* RFC 5782 test points: 127.0.0.2 is listed, 127.0.0.1 is not, in every IP zone;
 * for IPv6 they are the IPv4-mapped ::ffff:127.0.0.2 and ::ffff:127.0.0.1. */
static const uint8_t v4_mapped_prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

int answer_ctx_init(struct answer_ctx *ctx, const struct zone_table *zones,
		    struct store_reader *reader)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->zones = zones;
	ctx->reader = reader;
	ctx->zstate = calloc(zones->count ? zones->count : 1, sizeof(*ctx->zstate));
	return ctx->zstate == NULL ? DNSBL_ENOMEM : 0;
}

void answer_ctx_free(struct answer_ctx *ctx)
{
	free(ctx->zstate);
	ctx->zstate = NULL;
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

/* What the answer is made of, decided before anything is written. */
enum outcome {
	OUT_LISTED,   /* NOERROR with A/TXT */
	OUT_NODATA,   /* NOERROR, SOA in authority */
	OUT_NXDOMAIN, /* NXDOMAIN, SOA in authority */
	OUT_APEX,     /* apex: SOA/NS */
	OUT_SERVFAIL,
};

struct listing {
	uint32_t a;
	const char *txt;       /* template; NULL = none */
	size_t txt_len;
	struct entry_key addr; /* the address or name as answered, for "$" */
};

struct response {
	struct wire_out w;
	uint16_t ancount, nscount, arcount;
};

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

/* Whether listing i repeats an earlier one's A (or, with txt, its TXT template):
 * an RRset holds each record once, and combined zones' members often share the
 * test point's 127.0.0.2. */
static bool repeats(const struct listing *l, unsigned i, bool txt)
{
	for (unsigned j = 0; j < i; j++) {
		if (!txt && l[j].a == l[i].a)
			return true;
		if (txt && l[j].txt != NULL && l[j].txt_len == l[i].txt_len &&
		    memcmp(l[j].txt, l[i].txt, l[i].txt_len) == 0)
			return true;
	}
	return false;
}

/* Writes the A or TXT records of the n listings (one, or a combined zone's members
 * that list the name), each value once; *nodata when there is none of qtype. */
static void put_listings(struct answer_ctx *ctx, struct response *r, const struct zone *z,
			 const struct listing *l, unsigned n, uint16_t qtype, bool *nodata)
{
	uint16_t before = r->ancount;

	for (unsigned i = 0; i < n; i++) {
		if (qtype == DNS_T_A || qtype == DNS_T_ANY) {
			/* ANY gets the A records alone: small on purpose (RFC 8482) */
			if (repeats(l, i, false))
				continue;
			rr_begin(r, DNS_HEADER_SIZE, DNS_T_A, z->ttl);
			wire_put_u16(&r->w, 4);
			wire_put_u32(&r->w, l[i].a);
			r->ancount++;
		} else if (qtype == DNS_T_TXT && l[i].txt != NULL && !repeats(l, i, true)) {
			char subst[DNAME_TEXT_MAX];
			size_t slen = l[i].addr.family == ADDR_FAMILY_NAME
					      ? dname_format(&l[i].addr, 0, subst, sizeof(subst))
					      : addr_format(&l[i].addr, subst, sizeof(subst));
			size_t tlen = txt_expand(l[i].txt, l[i].txt_len, subst, slen, ctx->txt,
						 sizeof(ctx->txt));
			rr_begin(r, DNS_HEADER_SIZE, DNS_T_TXT, z->ttl);
			wire_put_txt_rdata(&r->w, ctx->txt, tlen);
			r->ancount++;
		}
	}
	*nodata = r->ancount == before;
}

/* Listed in zone zi at the full address or name a, with the value to answer? The decision
 * (test points, exclusions, expiry, the zone's exemption list) is lib/listing's, the
 * same that dnsbl-api reports. */
static enum outcome addr_lookup(struct answer_ctx *ctx, unsigned zi, const struct entry_key *a,
				struct listing *l)
{
	const struct zone *z = &ctx->zones->zones[zi];
	const struct store_zone *allow = NULL;
	struct listing_match m;

	l->addr = *a;
	l->a = z->a;
	l->txt = z->txt_len ? z->txt : NULL;
	l->txt_len = z->txt_len;
	if (z->exempt >= 0)
		allow = zone_state_get(ctx, (unsigned)z->exempt);
	int v = listing_decide(ctx->reader, zone_state_get(ctx, zi), allow, a, ctx->now, &m);
	if (v == LISTING_TEST_LISTED)
		return OUT_LISTED;
	if (v != LISTING_LISTED) {
		if (v >= 0)
			return OUT_NXDOMAIN;
		ctx->stats.store_errors++;
		return OUT_SERVFAIL;
	}
	if (m.entry.flags & STORE_F_A)
		l->a = m.entry.a;
	if (m.entry.flags & STORE_F_NOTXT) {
		l->txt = NULL;
	} else if (m.entry.flags & STORE_F_TXT) {
		/* points into the snapshot, which lives until the batch ends */
		l->txt = m.entry.txt;
		l->txt_len = m.entry.txt_len;
	}
	return OUT_LISTED;
}

/* 1 when something in zone zi lies below the partial name for prefix p, or below
 * the name p (an empty non-terminal, RFC 8020), 0 when nothing does, negative on a
 * store error. */
static int below(struct answer_ctx *ctx, unsigned zi, const struct entry_key *p)
{
	struct entry_key test;

	prefix4_make(&test, LISTING_TEST_LISTED4, 32);
	if (p->family == ADDR_FAMILY_V6) {
		test.family = ADDR_FAMILY_V6;
		test.len = 128;
		memcpy(test.addr, v4_mapped_prefix, 12);
		test.addr[12] = 127;
		test.addr[13] = test.addr[14] = 0;
		test.addr[15] = 2;
	}
	if (prefix_contains(p, &test))
		return 1;
	const struct store_zone *zrec = zone_state_get(ctx, zi);
	if (zrec == NULL)
		return 0;
	int rc = store_any_listed_within(ctx->reader, zrec, p, ctx->now);
	int allow = ctx->zones->zones[zi].exempt;
	if (rc == 1 && p->family == ADDR_FAMILY_NAME && allow >= 0 &&
	    zone_state_get(ctx, (unsigned)allow) != NULL) {
		/* the exempt allowlist covers every name below: none of them is listed */
		int covered = store_name_covers_subdomains(
			ctx->reader, zone_state_get(ctx, (unsigned)allow), p, ctx->now);
		rc = covered < 0 ? covered : !covered;
	}
	if (rc == 0 && p->family == ADDR_FAMILY_V6) {
		/* IPv4-mapped names below p answer from the IPv4 entries */
		struct entry_key mapped = { .family = ADDR_FAMILY_V6, .len = 96 }, v4;
		memcpy(mapped.addr, v4_mapped_prefix, 12);
		if (prefix_contains(p, &mapped))
			prefix4_make(&v4, 0, 0);
		else if (prefix_contains(&mapped, p))
			prefix4_make(&v4, wire_get_u32(p->addr + 12), p->len - 96u);
		else
			return 0;
		rc = store_any_listed_within(ctx->reader, zrec, &v4, ctx->now);
	}
	if (rc < 0)
		ctx->stats.store_errors++;
	return rc;
}

/* Reads k labels as reversed IPv4 octets into *addr (host order, left-aligned). */
static bool labels_v4(const uint8_t *qname, const struct dns_query *q, unsigned k,
		      uint32_t *addr)
{
	*addr = 0;
	for (unsigned j = 0; j < k; j++) {
		const uint8_t *lab = qname + q->label_off[k - 1 - j]; /* first label = last octet */
		int o = addr4_octet_parse((const char *)lab + 1, lab[0]);
		if (o < 0)
			return false;
		*addr |= (uint32_t)o << (24 - 8 * j);
	}
	return true;
}

/* Reads k labels as reversed IPv6 nibbles into addr[16] (zero-filled). */
static bool labels_v6(const uint8_t *qname, const struct dns_query *q, unsigned k,
		      uint8_t *addr)
{
	memset(addr, 0, 16);
	for (unsigned j = 0; j < k; j++) {
		const uint8_t *lab = qname + q->label_off[k - 1 - j];
		if (lab[0] != 1)
			return false;
		uint8_t c = lab[1], v;
		if (c >= '0' && c <= '9')
			v = (uint8_t)(c - '0');
		else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
			v = (uint8_t)((c | 0x20) - 'a' + 10);
		else
			return false;
		addr[j / 2] |= (uint8_t)(j % 2 ? v : v << 4);
	}
	return true;
}

/* Decides an IP zone's answer for the k labels below the apex: reversed IPv4
 * (1-4 labels) or nibble-reversed IPv6 (1-32 labels). A short name may read both
 * ways; it is an empty non-terminal if something lies below it either way. */
static enum outcome ip_zone_lookup(struct answer_ctx *ctx, unsigned zi, const uint8_t *qname,
				   const struct dns_query *q, unsigned k, struct listing *l)
{
	struct entry_key p4, p6;
	uint32_t a4 = 0;
	bool v4 = k <= 4 && labels_v4(qname, q, k, &a4);
	bool v6 = k <= 32 && labels_v6(qname, q, k, p6.addr);
	enum outcome oc;
	int rc;

	if (!v4 && !v6)
		return OUT_NXDOMAIN;
	if (ctx->reader != NULL && !ctx->store_ok)
		return OUT_SERVFAIL;
	if (v4) {
		prefix4_make(&p4, a4, 8 * k);
		if (k == 4 && (oc = addr_lookup(ctx, zi, &p4, l)) != OUT_NXDOMAIN)
			return oc;
		if (k < 4 && (rc = below(ctx, zi, &p4)) != 0)
			return rc < 0 ? OUT_SERVFAIL : OUT_NODATA;
	}
	if (v6) {
		p6.family = ADDR_FAMILY_V6;
		p6.len = (uint8_t)(4 * k);
		if (k == 32) {
			if (memcmp(p6.addr, v4_mapped_prefix, 12) == 0) {
				/* ::ffff:a.b.c.d answers like a.b.c.d */
				struct entry_key m;
				prefix4_make(&m, wire_get_u32(p6.addr + 12), 32);
				return addr_lookup(ctx, zi, &m, l);
			}
			return addr_lookup(ctx, zi, &p6, l);
		}
		if ((rc = below(ctx, zi, &p6)) != 0)
			return rc < 0 ? OUT_SERVFAIL : OUT_NODATA;
	}
	return OUT_NXDOMAIN;
}

/* Decides a domain zone's answer for the k labels below the apex. */
static enum outcome name_zone_lookup(struct answer_ctx *ctx, unsigned zi, const uint8_t *qname,
				     const struct dns_query *q, unsigned k, struct listing *l)
{
	struct entry_key name;
	enum outcome oc;
	int rc;

	if (dname_from_wire(qname, q->label_off, k, ctx->qkey, &name) < 0)
		return OUT_NXDOMAIN; /* a byte no entry can hold */
	if (ctx->reader != NULL && !ctx->store_ok)
		return OUT_SERVFAIL;
	if ((oc = addr_lookup(ctx, zi, &name, l)) != OUT_NXDOMAIN)
		return oc;
	if ((rc = below(ctx, zi, &name)) != 0)
		return rc < 0 ? OUT_SERVFAIL : OUT_NODATA;
	return OUT_NXDOMAIN;
}

/* Decides zone zi's answer (an ip or name zone) for the k labels below its apex. */
static enum outcome zone_lookup(struct answer_ctx *ctx, unsigned zi, const uint8_t *qname,
				const struct dns_query *q, unsigned k, struct listing *l)
{
	if (ctx->zones->zones[zi].cfg->type == ZONE_TYPE_NAME)
		return name_zone_lookup(ctx, zi, qname, q, k, l);
	return ip_zone_lookup(ctx, zi, qname, q, k, l);
}

/* A combined zone: every member that lists the name adds its listing to l (*n of
 * them). Listed when one member lists it; else an empty non-terminal when one
 * member has something below it; else NXDOMAIN. */
static enum outcome combined_lookup(struct answer_ctx *ctx, const struct zone *z,
				    const uint8_t *qname, const struct dns_query *q, unsigned k,
				    struct listing *l, unsigned *n)
{
	bool below_some = false;

	*n = 0;
	for (unsigned i = 0; i < z->member_count; i++) {
		enum outcome oc = zone_lookup(ctx, z->members[i], qname, q, k, &l[*n]);
		if (oc == OUT_SERVFAIL)
			return OUT_SERVFAIL;
		if (oc == OUT_LISTED)
			(*n)++;
		else if (oc == OUT_NODATA)
			below_some = true;
	}
	return *n > 0 ? OUT_LISTED : below_some ? OUT_NODATA : OUT_NXDOMAIN;
}

/* The serial of zone zi's SOA: its store serial; for a combined zone the sum of its
 * members' (which grows whenever one of them changes). */
static uint32_t zone_serial(struct answer_ctx *ctx, unsigned zi)
{
	const struct zone *z = &ctx->zones->zones[zi];
	uint32_t serial = 0;

	if (z->cfg->type != ZONE_TYPE_COMBINED) {
		const struct store_zone *zrec = zone_state_get(ctx, zi);
		return zrec != NULL ? zrec->serial : 0;
	}
	for (unsigned i = 0; i < z->member_count; i++)
		serial += zone_serial(ctx, z->members[i]);
	return serial;
}

/* Writes header and question of the response; returns false if they do not fit. */
static bool response_start(struct response *r, const uint8_t *pkt, const struct dns_query *q,
			   uint8_t *out, size_t cap)
{
	wire_out_init(&r->w, out, cap);
	r->ancount = r->nscount = r->arcount = 0;
	wire_put_u16(&r->w, q->id);
	wire_put_u16(&r->w, 0); /* flags, set at the end */
	wire_put_u16(&r->w, q->has_question ? 1 : 0);
	wire_put_u16(&r->w, 0);
	wire_put_u16(&r->w, 0);
	wire_put_u16(&r->w, 0);
	if (q->has_question)
		wire_put_bytes(&r->w, pkt + DNS_HEADER_SIZE, q->question_end - DNS_HEADER_SIZE);
	return r->w.err == 0;
}

static size_t response_finish(struct response *r, const struct dns_query *q, uint16_t flags,
			      int rcode, bool edns)
{
	if (edns) {
		/* room for this was kept out of w.cap by the caller */
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

size_t answer_query(struct answer_ctx *ctx, const uint8_t *pkt, size_t len, uint8_t *out,
		    size_t outcap, bool tcp)
{
	struct dns_query q;
	struct response r;
	enum dns_parse_result pr;
	size_t limit, reserve;
	uint16_t flags = 0;
	int rcode;

	ctx->stats.queries++;
	pr = dns_query_parse(pkt, len, &q);
	if (pr == DNS_PARSE_DROP || outcap < DNS_HEADER_SIZE + DNS_OPT_RR_SIZE) {
		ctx->stats.dropped++;
		return 0;
	}
	if (tcp)
		limit = outcap > 0xffff ? 0xffff : outcap;
	else if (q.edns)
		limit = q.edns_udp_size < ANSWER_EDNS_UDP_SIZE ? q.edns_udp_size : ANSWER_EDNS_UDP_SIZE;
	else
		limit = DNS_UDP_NO_EDNS;
	if (limit > outcap)
		limit = outcap;
	reserve = q.edns ? DNS_OPT_RR_SIZE : 0;

	if (!response_start(&r, pkt, &q, out, limit - reserve)) {
		/* the question does not fit the caller's buffer (never with ours: a
		 * question is at most 259 bytes): the header alone, with TC */
		q.has_question = false;
		response_start(&r, pkt, &q, out, limit - reserve);
		ctx->stats.truncated++;
		return response_finish(&r, &q, DNS_F_TC, DNS_R_NOERROR, q.edns);
	}
	if (pr == DNS_PARSE_ERROR) {
		count_rcode(&ctx->stats, q.rcode);
		return response_finish(&r, &q, 0, q.rcode, q.edns);
	}
	if (q.qclass != DNS_C_IN || q.qtype == DNS_T_AXFR || q.qtype == DNS_T_IXFR) {
		count_rcode(&ctx->stats, DNS_R_REFUSED);
		return response_finish(&r, &q, 0, DNS_R_REFUSED, q.edns);
	}
	const uint8_t *qname = pkt + DNS_HEADER_SIZE;
	int zi = zone_table_find(ctx->zones, qname, q.label_off, q.nlabels);
	if (zi < 0) {
		count_rcode(&ctx->stats, DNS_R_REFUSED);
		return response_finish(&r, &q, 0, DNS_R_REFUSED, q.edns);
	}

	const struct zone *z = &ctx->zones->zones[zi];
	unsigned k = q.nlabels - z->apex_labels;
	size_t apex_off = DNS_HEADER_SIZE + q.label_off[k];
	struct listing l[CONFIG_MAX_MEMBERS];
	unsigned nlistings = 1;
	enum outcome oc;

	if (k == 0)
		oc = OUT_APEX;
	else if (z->cfg->type == ZONE_TYPE_COMBINED)
		oc = combined_lookup(ctx, z, qname, &q, k, l, &nlistings);
	else
		oc = zone_lookup(ctx, (unsigned)zi, qname, &q, k, &l[0]);

	uint32_t serial = oc == OUT_SERVFAIL ? 0 : zone_serial(ctx, (unsigned)zi);
	bool nodata = false;
	flags = DNS_F_AA;
	rcode = DNS_R_NOERROR;
	switch (oc) {
	case OUT_LISTED:
		put_listings(ctx, &r, z, l, nlistings, q.qtype, &nodata);
		break;
	case OUT_APEX:
		if (q.qtype == DNS_T_SOA || q.qtype == DNS_T_ANY) {
			put_soa(&r, z, apex_off, serial, z->ttl);
			r.ancount++;
		} else if (q.qtype == DNS_T_NS) {
			for (unsigned i = 0; i < z->ns_count; i++) {
				rr_begin(&r, apex_off, DNS_T_NS, z->ttl);
				wire_put_u16(&r.w, z->ns[i].len);
				wire_put_bytes(&r.w, z->ns[i].wire, z->ns[i].len);
				r.ancount++;
			}
		} else {
			nodata = true;
		}
		break;
	case OUT_NODATA:
		nodata = true;
		break;
	case OUT_NXDOMAIN:
		rcode = DNS_R_NXDOMAIN;
		nodata = true;
		break;
	case OUT_SERVFAIL:
		flags = 0;
		rcode = DNS_R_SERVFAIL;
		break;
	}
	if (nodata) {
		put_soa(&r, z, apex_off, serial, z->neg_ttl);
		r.nscount++;
	}
	if (r.w.err != 0) {
		/* does not fit: the question alone, with TC, so the client retries on TCP */
		r.w.err = 0;
		r.w.pos = q.question_end;
		r.ancount = r.nscount = 0;
		flags |= DNS_F_TC;
		ctx->stats.truncated++;
	}
	count_rcode(&ctx->stats, rcode);
	return response_finish(&r, &q, flags, rcode, q.edns);
}
