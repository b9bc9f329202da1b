#include "lifecycle.h"

#include <stdlib.h>
#include <string.h>

/* What an absent lifecycle means: listed at the first hit, never expiring. */
static const struct store_lifecycle no_life = { 0, 1, 0, 0 };

static uint32_t add_sat(uint32_t a, uint32_t b)
{
	return a + b < a ? UINT32_MAX : a + b;
}

static bool expired_at(const struct store_entry *e, uint32_t now)
{
	return e->expires != 0 && e->expires <= now;
}

bool lifecycle_starts_new(const struct store_entry *old, uint32_t now)
{
	return old == NULL || expired_at(old, now);
}

/* The expiry a put gives a listing whose last hit is last_seen. */
static uint32_t put_expiry(const struct store_put *put, const struct store_lifecycle *life,
			   uint32_t last_seen)
{
	if (put->expires_set || put->expires != 0)
		return put->expires;
	if (put->ttl != 0)
		return add_sat(put->seen, put->ttl);
	if (put->actor == STORE_ACTOR_OPERATOR)
		return 0;
	if (life->expire_after != 0)
		return add_sat(last_seen, life->expire_after);
	return 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

/* Adds hits at time t to a pending entry's recent times (in/out, sorted, at most
 * threshold-1 kept). Returns whether threshold hits now fall within one window. */
static bool pending_hit(uint32_t *times, unsigned *n, uint32_t t, uint32_t hits,
			const struct store_lifecycle *life, unsigned threshold)
{
	uint32_t all[STORE_RECENT_MAX + STORE_THRESHOLD_MAX];
	unsigned count = *n, best = 0;

	memcpy(all, times, count * sizeof(*all));
	for (uint32_t i = 0; i < hits && i < threshold; i++)
		all[count++] = t;
	qsort(all, count, sizeof(*all), cmp_u32);
	for (unsigned i = 0, j = 0; j < count; j++) {
		while (all[j] - all[i] > life->list_window)
			i++;
		if (j - i + 1 > best)
			best = j - i + 1;
	}
	unsigned keep = count < threshold - 1 ? count : threshold - 1;
	memcpy(times, all + count - keep, keep * sizeof(*all));
	*n = keep;
	return best >= threshold;
}

/* The rules' shared inputs, worked out once. */
struct apply_ctx {
	const struct store_put *put;
	const struct store_lifecycle *life;
	bool operator;
	uint32_t now, hits, first;
	unsigned threshold;
	unsigned nrecent;
};

/* A put where no entry is listed (none, or an expired one). */
static void apply_new(struct apply_ctx *c, const struct store_tomb *tomb,
		      struct lifecycle_result *out)
{
	const struct store_put *put = c->put;
	struct store_entry *e = &out->entry;
	bool pending = !c->operator && !(e->flags & STORE_F_EXCLUDE) && c->threshold > 1 &&
		       c->hits < c->threshold;

	e->first_seen = c->first;
	e->last_seen = put->seen;
	e->hits = c->hits;
	if (c->operator)
		e->flags |= STORE_F_MANUAL;
	if (pending) {
		c->nrecent = 0;
		pending_hit(out->recent, &c->nrecent, put->seen, c->hits, c->life, c->threshold);
		e->flags |= STORE_F_PENDING;
		e->expires = add_sat(put->seen, c->life->list_window);
		out->outcome = STORE_PENDING;
	} else {
		e->expires = put_expiry(put, c->life, e->last_seen);
		out->outcome = STORE_CREATED;
		out->event = STORE_EV_LIST;
	}
	if (!c->operator && e->expires != 0 && e->expires <= c->now) {
		out->outcome = STORE_STALE;
		return;
	}
	if (tomb != NULL) {
		if (!c->operator &&
		    (put->seen <= tomb->time ||
		     (uint64_t)put->seen < (uint64_t)tomb->time + c->life->relist_after)) {
			out->outcome = STORE_SUPPRESSED;
			return;
		}
		out->drop_tomb = true;
		if (!pending) {
			out->event = STORE_EV_RELIST;
			out->outcome = STORE_RELISTED;
		}
	}
	out->write = true;
}

/* A feed hit or an operator's put on a listed or pending entry old (not MANUAL, or
 * the put is an operator's). */
static void apply_update(struct apply_ctx *c, const struct store_entry *old,
			 struct lifecycle_result *out)
{
	const struct store_put *put = c->put;
	struct store_entry *e = &out->entry;

	if (put->reason == NULL) {
		e->reason = old->reason;
		e->reason_len = old->reason_len;
	}
	if (c->operator) {
		e->flags |= STORE_F_MANUAL;
		e->expires = put_expiry(put, c->life, e->last_seen);
		out->event = (old->flags & STORE_F_PENDING) ? STORE_EV_LIST : STORE_EV_UPDATE;
		if (old->flags & STORE_F_PENDING)
			out->outcome = STORE_CREATED; /* listed only now */
	} else if (old->flags & STORE_F_PENDING) {
		if (pending_hit(out->recent, &c->nrecent, put->seen, c->hits, c->life,
				c->threshold) ||
		    (e->flags & STORE_F_EXCLUDE)) {
			e->expires = put_expiry(put, c->life, e->last_seen);
			out->event = STORE_EV_LIST;
			out->outcome = STORE_CREATED;
		} else {
			e->flags |= STORE_F_PENDING;
			e->expires = add_sat(out->recent[c->nrecent - 1], c->life->list_window);
			out->outcome = STORE_PENDING;
		}
	} else {
		uint32_t x = put_expiry(put, c->life, e->last_seen);
		/* an explicit expiry is taken as it is; a computed one never shortens
		 * the listing */
		e->expires = (x == 0 || put->expires_set || put->expires != 0 || old->expires == 0 ||
			      x > old->expires)
				     ? x
				     : old->expires;
	}
}

/* A put on an entry that stays listed or pending. */
static void apply_existing(struct apply_ctx *c, const struct store_entry *old,
			   struct lifecycle_result *out)
{
	struct store_entry *e = &out->entry;

	e->first_seen = old->first_seen < c->first ? old->first_seen : c->first;
	e->last_seen = old->last_seen > c->put->seen ? old->last_seen : c->put->seen;
	e->hits = add_sat(old->hits, c->hits);
	out->outcome = STORE_UPDATED;
	out->write = true;
	if ((old->flags & STORE_F_MANUAL) && !c->operator) {
		/* an operator's listing: feeds only count */
		e->flags = old->flags;
		e->a = old->a;
		e->txt = old->txt;
		e->txt_len = old->txt_len;
		e->source_id = old->source_id;
		e->expires = old->expires;
		e->reason = old->reason;
		e->reason_len = old->reason_len;
		return;
	}
	apply_update(c, old, out);
}

void lifecycle_apply(const struct store_entry *old, const struct store_tomb *tomb,
		     const struct store_put *put, uint32_t now, struct lifecycle_result *out)
{
	struct apply_ctx c = {
		.put = put,
		.life = put->life ? put->life : &no_life,
		.operator = put->actor == STORE_ACTOR_OPERATOR,
		.now = now,
		.hits = put->hits ? put->hits : 1,
		.first = put->first_seen && put->first_seen < put->seen ? put->first_seen
									: put->seen,
	};
	struct store_entry *e = &out->entry;

	memset(out, 0, sizeof(*out));
	c.threshold = c.life->list_threshold < 1 ? 1 : c.life->list_threshold;
	if (c.threshold > STORE_THRESHOLD_MAX)
		c.threshold = STORE_THRESHOLD_MAX;
	if (old != NULL && expired_at(old, now)) {
		/* answered as unlisted already: start afresh */
		out->expired_old = !(old->flags & STORE_F_PENDING);
		old = NULL;
	}
	if (old != NULL && old->nrecent > 0) {
		c.nrecent = old->nrecent <= STORE_RECENT_MAX ? old->nrecent : STORE_RECENT_MAX;
		memcpy(out->recent, old->recent, 4 * (size_t)c.nrecent);
	}
	e->source_id = put->source_id;
	e->flags = put->flags & (STORE_F_EXCLUDE | STORE_F_A | STORE_F_TXT | STORE_F_NOTXT);
	e->a = (e->flags & STORE_F_A) ? put->a : 0;
	e->txt = put->txt;
	e->txt_len = (e->flags & STORE_F_TXT) ? put->txt_len : 0;
	e->reason = put->reason;
	e->reason_len = put->reason != NULL ? put->reason_len : 0;
	if (old == NULL)
		apply_new(&c, tomb, out);
	else
		apply_existing(&c, old, out);
	if (e->flags & STORE_F_PENDING) {
		e->nrecent = (uint8_t)c.nrecent;
		e->recent = (const uint8_t *)out->recent;
	}
}
