/* Helpers of the store tests of the listing lifecycle (expiry, the list threshold,
 * delistings, history, the expiry sweep): a store with two zones (ZONE, ZONE2) and
 * three sources (FEED, FEED2, OPER) made by lifetest_open; puts with explicit seen
 * and now times around NOW, one transaction per merge or delisting; copies of stored
 * entries (pending and expired ones included); lookups in ZONE; counts; tombstones;
 * history scans. The ...1 helpers work on ZONE in their own transaction or reader.
 * Include after <cmocka.h>; static inline, so that each test file uses what it needs. */
#ifndef DNSBL_LIFETEST_H
#define DNSBL_LIFETEST_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "addr.h"
#include "err.h"
#include "store.h"
#include "storeops.h"
#include "storetest.h"

#define ZONE "bl.example"
#define ZONE2 "other.example"

/* Created by lifetest_open in the first transaction. */
static uint16_t ZID, ZID2;          /* zone ids of ZONE and ZONE2 */
static uint16_t FEED, FEED2, OPER;  /* sources "feed-a", "feed-b", "operator:alice" */

/* Creates a store in a temporary directory from tmpl (as storetest_open) with the
 * zones and sources above. */
static inline int lifetest_open(const char *tmpl)
{
	if (storetest_open(tmpl) < 0)
		return -1;
	struct store_writer *w = NULL;
	struct store_zone *z = NULL, *z2 = NULL;
	if (store_writer_begin(S, &w) != 0)
		return -1;
	if (store_writer_zone(w, ZONE, &z) != 0 || store_writer_zone(w, ZONE2, &z2) != 0 ||
	    store_writer_source(w, "feed-a", &FEED) != 0 ||
	    store_writer_source(w, "feed-b", &FEED2) != 0 ||
	    store_writer_source(w, "operator:alice", &OPER) != 0) {
		store_writer_abort(w);
		return -1;
	}
	ZID = z->id;
	ZID2 = z2->id;
	if (store_writer_commit(w) != 0)
		return -1;
	return 0;
}

/* A feed's put: one hit from src at seen, written at now = seen. */
static inline struct store_put fput(uint16_t src, uint32_t seen, const struct store_lifecycle *life)
{
	struct store_put put;
	memset(&put, 0, sizeof(put));
	put.actor = STORE_ACTOR_SOURCE;
	put.source_id = src;
	put.seen = seen;
	put.now = seen;
	put.hits = 1;
	put.life = life;
	return put;
}

/* An operator's listing (actor OPER) at seen, written at now = seen. */
static inline struct store_put oput(uint32_t seen, const struct store_lifecycle *life)
{
	struct store_put put = fput(OPER, seen, life);
	put.actor = STORE_ACTOR_OPERATOR;
	return put;
}

static inline void put_reason(struct store_put *put, const char *reason)
{
	put->reason = reason;
	put->reason_len = reason ? strlen(reason) : 0;
}

/* Merges one put into zone in its own transaction; returns the outcome. */
static inline int merge_in(const char *zone, const char *prefix, const struct store_put *put)
{
	struct entry_key p = PFX(prefix);
	struct store_writer *w = wbegin();
	struct store_zone *z = wzone(w, zone);
	int outcome = -1;
	int rc = store_merge(w, z, &p, put, &outcome);
	if (rc != 0) {
		store_writer_abort(w);
		fail_msg("store_merge(%s) = %d (%s)", prefix, rc, dnsbl_strerror(rc));
	}
	wcommit(w);
	return outcome;
}

static inline int merge1(const char *prefix, const struct store_put *put)
{
	return merge_in(ZONE, prefix, put);
}

/* Delists prefix in ZONE as OPER in its own transaction; returns store_delist's rc. */
static inline int delist1(const char *prefix, const char *reason, uint32_t now)
{
	struct entry_key p = PFX(prefix);
	struct store_writer *w = wbegin();
	struct store_zone *z = wzone(w, ZONE);
	int rc = store_delist(w, z, &p, OPER, reason, reason ? strlen(reason) : 0, now);
	wcommit(w);
	return rc;
}

/* A copy of one stored entry (pending and expired ones included). */
struct ent {
	bool found;
	uint8_t flags;
	uint16_t source_id;
	uint32_t a, first_seen, last_seen, hits, expires;
	char reason[STORE_REASON_MAX + 1];
	char txt[STORE_TXT_MAX + 1];
	uint8_t nrecent;
};

struct ent_find {
	const char *want;
	struct ent *out;
};

static inline void ent_copy(struct ent *o, const struct store_entry *e)
{
	memset(o, 0, sizeof(*o));
	o->found = true;
	o->flags = e->flags;
	o->source_id = e->source_id;
	o->a = e->a;
	o->first_seen = e->first_seen;
	o->last_seen = e->last_seen;
	o->hits = e->hits;
	o->expires = e->expires;
	memcpy(o->reason, e->reason, e->reason_len);
	memcpy(o->txt, e->txt, e->txt_len);
	o->nrecent = e->nrecent;
}

static inline int ent_cb(const struct entry_key *p, const struct store_entry *e, void *arg)
{
	struct ent_find *f = arg;
	char buf[64];
	prefix_format(p, 0, buf, sizeof(buf));
	if (strcmp(buf, f->want) == 0) {
		ent_copy(f->out, e);
		return 1;
	}
	return 0;
}

/* Reads the entry stored for exactly prefix in zone (found false when none). */
static inline struct ent ent_get_in(const char *zone, const char *prefix)
{
	struct ent out;
	memset(&out, 0, sizeof(out));
	struct ent_find f = {prefix, &out};
	struct store_reader *r = rnew();
	rbegin(r);
	struct store_zone z = zget(r, zone);
	int rc = store_foreach(r, &z, ent_cb, &f);
	assert_true(rc == 0 || rc == 1);
	store_reader_end(r);
	store_reader_free(r);
	return out;
}

static inline struct ent ent_get(const char *prefix)
{
	return ent_get_in(ZONE, prefix);
}

/* store_lookup of addr in ZONE at now: the rc, *e and the matched prefix text. */
static inline int look1(const char *addr, uint32_t now, struct ent *e, char *matched)
{
	struct entry_key a = PFX(addr), m;
	struct store_entry se;
	memset(&m, 0, sizeof(m));
	memset(&se, 0, sizeof(se));
	struct store_reader *r = rnew();
	rbegin(r);
	struct store_zone z = zget(r, ZONE);
	int rc = store_lookup(r, &z, &a, now, &se, &m);
	if (e) {
		memset(e, 0, sizeof(*e));
		if (rc == 0)
			ent_copy(e, &se);
	}
	if (matched) {
		matched[0] = 0;
		if (rc == 0)
			prefix_format(&m, 0, matched, 64);
	}
	store_reader_end(r);
	store_reader_free(r);
	return rc;
}

static inline void expect_listed(const char *addr, uint32_t now, const char *want_prefix)
{
	char m[64];
	struct ent e;
	int rc = look1(addr, now, &e, m);
	if (rc != 0)
		fail_msg("lookup %s at %u: %d (%s), want match %s", addr, now, rc,
			 dnsbl_strerror(rc), want_prefix);
	if (strcmp(m, want_prefix) != 0)
		fail_msg("lookup %s matched %s, want %s", addr, m, want_prefix);
	assert_false(e.flags & STORE_F_EXCLUDE);
	assert_false(e.flags & STORE_F_PENDING);
}

static inline void expect_unlisted(const char *addr, uint32_t now)
{
	char m[64];
	int rc = look1(addr, now, NULL, m);
	if (rc != DNSBL_ENOTFOUND)
		fail_msg("lookup %s at %u: %d matched '%s', want DNSBL_ENOTFOUND", addr, now, rc,
			 m);
}

static inline int within1(const char *prefix, uint32_t now)
{
	struct entry_key p = PFX(prefix);
	struct store_reader *r = rnew();
	rbegin(r);
	struct store_zone z = zget(r, ZONE);
	int rc = store_any_listed_within(r, &z, &p, now);
	store_reader_end(r);
	store_reader_free(r);
	return rc;
}

enum count_kind { C_ENTRIES, C_TOMBS, C_HISTORY };

static inline uint64_t count_of(const char *zone, enum count_kind kind)
{
	struct store_reader *r = rnew();
	rbegin(r);
	struct store_zone z = zget(r, zone);
	uint64_t n = kind == C_ENTRIES ? store_zone_count(r, &z)
		     : kind == C_TOMBS ? store_tomb_count(r, &z)
				       : store_history_count(r, &z);
	store_reader_end(r);
	store_reader_free(r);
	return n;
}

/* Reads the tombstone of prefix in ZONE with a reader; returns the rc. */
static inline int tomb_read(const char *prefix, uint32_t *when, uint16_t *actor, char *reason)
{
	struct entry_key p = PFX(prefix);
	struct store_tomb t;
	memset(&t, 0, sizeof(t));
	struct store_reader *r = rnew();
	rbegin(r);
	struct store_zone z = zget(r, ZONE);
	int rc = store_tomb_get(r, &z, &p, &t);
	if (rc == 0) {
		if (when)
			*when = t.time;
		if (actor)
			*actor = t.actor_id;
		if (reason) {
			memcpy(reason, t.reason, t.reason_len);
			reason[t.reason_len] = 0;
		}
	}
	store_reader_end(r);
	store_reader_free(r);
	return rc;
}

/* History records as scanned. */
struct hrec {
	uint64_t seq;
	uint32_t time;
	uint16_t zone_id;
	uint8_t event, actor;
	uint16_t actor_id;
	uint32_t a;
	char prefix[64];
	char reason[STORE_REASON_MAX + 1];
};

struct hlist {
	int n;
	int stop_at; /* non-zero: the callback returns 42 at this record */
	struct hrec r[64];
};

static inline int hist_cb(const struct store_event_rec *ev, void *arg)
{
	struct hlist *l = arg;
	if (l->n >= 64)
		return -1000;
	struct hrec *h = &l->r[l->n++];
	memset(h, 0, sizeof(*h));
	h->seq = ev->seq;
	h->time = ev->time;
	h->zone_id = ev->zone_id;
	h->event = ev->event;
	h->actor = ev->actor;
	h->actor_id = ev->actor_id;
	h->a = ev->a;
	prefix_format(&ev->prefix, 0, h->prefix, sizeof(h->prefix));
	memcpy(h->reason, ev->reason, ev->reason_len);
	if (l->stop_at && l->n == l->stop_at)
		return 42;
	return 0;
}

/* Scans the history (zone_id 0: all; prefix NULL: every prefix); returns the rc. */
static inline int hist(uint16_t zone_id, const char *prefix, uint32_t since, struct hlist *l)
{
	int stop = l->stop_at;
	memset(l, 0, sizeof(*l));
	l->stop_at = stop;
	struct entry_key p;
	memset(&p, 0, sizeof(p));
	if (prefix)
		p = PFX(prefix);
	struct store_reader *r = rnew();
	rbegin(r);
	int rc = store_history_scan(r, zone_id, prefix ? &p : NULL, since, hist_cb, l);
	store_reader_end(r);
	store_reader_free(r);
	return rc;
}

static inline void hist_ok(uint16_t zone_id, const char *prefix, uint32_t since, struct hlist *l)
{
	int rc = hist(zone_id, prefix, since, l);
	if (rc != 0)
		fail_msg("store_history_scan = %d (%s)", rc, dnsbl_strerror(rc));
	/* newest first, always */
	for (int i = 1; i < l->n; i++) {
		assert_true(l->r[i].seq < l->r[i - 1].seq);
		assert_true(l->r[i].time <= l->r[i - 1].time);
	}
}

static inline void expect_rec(const struct hrec *h, uint8_t event, uint8_t actor, uint16_t actor_id,
			      const char *prefix)
{
	if (h->event != event || h->actor != actor || h->actor_id != actor_id ||
	    strcmp(h->prefix, prefix) != 0)
		fail_msg("history record: event %u actor %u/%u %s, want event %u actor %u/%u %s",
			 h->event, h->actor, h->actor_id, h->prefix, event, actor, actor_id,
			 prefix);
}

static const struct store_lifecycle LIFE_EXP = {.expire_after = 3600, .list_threshold = 1};

static const struct store_lifecycle LIFE_THR = {.list_threshold = 3, .list_window = 100};

#endif
