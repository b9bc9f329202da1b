/* Unit tests for the listing lifecycle of lib/store.h: expiry (expire_after, ttl,
 * explicit expiries, stale listings, re-listing of expired entries), the list
 * threshold and window (pending entries), operator delistings (tombstones,
 * suppression, relisting), MANUAL entries, merge rules for feed hits, the history
 * (scan filters, counts, --replace removals) and the expiry sweep (store_expire:
 * batches, serials, pending entries, history pruning). A fresh LMDB store per test;
 * every put carries explicit seen and now times around the fixed NOW. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "addr.h"
#include "err.h"
#include "store.h"
#include "storetest.h"

#define NOW 1700000000u
#define ZONE "bl.example"
#define ZONE2 "other.example"
#define A127(x) (0x7f000000u | (x))


/* Created by setup in the first transaction. */
static uint16_t ZID, ZID2;          /* zone ids of ZONE and ZONE2 */
static uint16_t FEED, FEED2, OPER;  /* sources "feed-a", "feed-b", "operator:alice" */

static int setup(void **state)
{
	(void)state;
	if (storetest_open("/tmp/dnsbl-test-life-XXXXXX") < 0)
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

static int teardown(void **state)
{
	(void)state;
	return storetest_close();
}

/* --- helpers --- */

/* A feed's put: one hit from src at seen, written at now = seen. */
static struct store_put fput(uint16_t src, uint32_t seen, const struct store_lifecycle *life)
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
static struct store_put oput(uint32_t seen, const struct store_lifecycle *life)
{
	struct store_put put = fput(OPER, seen, life);
	put.actor = STORE_ACTOR_OPERATOR;
	return put;
}

static void put_reason(struct store_put *put, const char *reason)
{
	put->reason = reason;
	put->reason_len = reason ? strlen(reason) : 0;
}

/* Merges one put into zone in its own transaction; returns the outcome. */
static int merge_in(const char *zone, const char *prefix, const struct store_put *put)
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

static int merge1(const char *prefix, const struct store_put *put)
{
	return merge_in(ZONE, prefix, put);
}

/* Delists prefix in ZONE as OPER in its own transaction; returns store_delist's rc. */
static int delist1(const char *prefix, const char *reason, uint32_t now)
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

static void ent_copy(struct ent *o, const struct store_entry *e)
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

static int ent_cb(const struct entry_key *p, const struct store_entry *e, void *arg)
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
static struct ent ent_get_in(const char *zone, const char *prefix)
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

static struct ent ent_get(const char *prefix)
{
	return ent_get_in(ZONE, prefix);
}

/* store_lookup of addr in ZONE at now: the rc, *e and the matched prefix text. */
static int look(const char *addr, uint32_t now, struct ent *e, char *matched)
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

static void expect_listed(const char *addr, uint32_t now, const char *want_prefix)
{
	char m[64];
	struct ent e;
	int rc = look(addr, now, &e, m);
	if (rc != 0)
		fail_msg("lookup %s at %u: %d (%s), want match %s", addr, now, rc,
			 dnsbl_strerror(rc), want_prefix);
	if (strcmp(m, want_prefix) != 0)
		fail_msg("lookup %s matched %s, want %s", addr, m, want_prefix);
	assert_false(e.flags & STORE_F_EXCLUDE);
	assert_false(e.flags & STORE_F_PENDING);
}

static void expect_unlisted(const char *addr, uint32_t now)
{
	char m[64];
	int rc = look(addr, now, NULL, m);
	if (rc != DNSBL_ENOTFOUND)
		fail_msg("lookup %s at %u: %d matched '%s', want DNSBL_ENOTFOUND", addr, now, rc,
			 m);
}

static int within(const char *prefix, uint32_t now)
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

static uint32_t serial_of(const char *zone)
{
	struct store_reader *r = rnew();
	rbegin(r);
	struct store_zone z = zget(r, zone);
	store_reader_end(r);
	store_reader_free(r);
	return z.serial;
}

enum count_kind { C_ENTRIES, C_TOMBS, C_HISTORY };

static uint64_t count_of(const char *zone, enum count_kind kind)
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
static int tomb_read(const char *prefix, uint32_t *when, uint16_t *actor, char *reason)
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

static int hist_cb(const struct store_event_rec *ev, void *arg)
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
static int hist(uint16_t zone_id, const char *prefix, uint32_t since, struct hlist *l)
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

static void hist_ok(uint16_t zone_id, const char *prefix, uint32_t since, struct hlist *l)
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

static void expect_rec(const struct hrec *h, uint8_t event, uint8_t actor, uint16_t actor_id,
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

/* --- expiry --- */

static void test_expire_after(void **state)
{
	(void)state;
	struct store_put put = fput(FEED, NOW - 100, &LIFE_EXP);
	assert_int_equal(merge1("1.2.3.4/32", &put), STORE_CREATED);
	struct ent e = ent_get("1.2.3.4/32");
	assert_true(e.found);
	assert_int_equal(e.expires, NOW - 100 + 3600);

	/* a later hit: expires follows the last seen */
	put = fput(FEED, NOW - 50, &LIFE_EXP);
	assert_int_equal(merge1("1.2.3.4/32", &put), STORE_UPDATED);
	e = ent_get("1.2.3.4/32");
	assert_int_equal(e.last_seen, NOW - 50);
	assert_int_equal(e.expires, NOW - 50 + 3600);

	/* an older hit delivered late: the last seen, and so expires, stay */
	put = fput(FEED, NOW - 200, &LIFE_EXP);
	put.now = NOW;
	assert_int_equal(merge1("1.2.3.4/32", &put), STORE_UPDATED);
	e = ent_get("1.2.3.4/32");
	assert_int_equal(e.first_seen, NOW - 200);
	assert_int_equal(e.last_seen, NOW - 50);
	assert_int_equal(e.expires, NOW - 50 + 3600);

	expect_listed("1.2.3.4", NOW, "1.2.3.4/32");
	expect_listed("1.2.3.4", NOW - 50 + 3599, "1.2.3.4/32");
	expect_unlisted("1.2.3.4", NOW - 50 + 3600);

	/* no expire_after: never */
	static const struct store_lifecycle forever = {.list_threshold = 1};
	put = fput(FEED, NOW, &forever);
	assert_int_equal(merge1("1.2.3.5/32", &put), STORE_CREATED);
	assert_int_equal(ent_get("1.2.3.5/32").expires, 0);
	/* no lifecycle at all: never */
	put = fput(FEED, NOW, NULL);
	assert_int_equal(merge1("1.2.3.6/32", &put), STORE_CREATED);
	assert_int_equal(ent_get("1.2.3.6/32").expires, 0);
}

static void test_expire_ttl(void **state)
{
	(void)state;
	struct store_put put = fput(FEED, NOW - 10, &LIFE_EXP);
	put.ttl = 60;
	put.now = NOW;
	assert_int_equal(merge1("1.2.3.4/32", &put), STORE_CREATED);
	assert_int_equal(ent_get("1.2.3.4/32").expires, NOW - 10 + 60);
	expect_listed("1.2.3.4", NOW + 49, "1.2.3.4/32");
	expect_unlisted("1.2.3.4", NOW + 50);

	/* ttl without a lifecycle */
	put = fput(FEED, NOW, NULL);
	put.ttl = 600;
	assert_int_equal(merge1("1.2.3.5/32", &put), STORE_CREATED);
	assert_int_equal(ent_get("1.2.3.5/32").expires, NOW + 600);
}

static void test_expire_explicit(void **state)
{
	(void)state;
	/* an explicit expiry wins over ttl and expire_after */
	struct store_put put = fput(FEED, NOW, &LIFE_EXP);
	put.ttl = 60;
	put.expires = NOW + 10;
	assert_int_equal(merge1("1.2.3.4/32", &put), STORE_CREATED);
	assert_int_equal(ent_get("1.2.3.4/32").expires, NOW + 10);

	/* expires_set with 0: never, despite ttl and expire_after */
	put = fput(FEED, NOW, &LIFE_EXP);
	put.ttl = 60;
	put.expires = 0;
	put.expires_set = true;
	assert_int_equal(merge1("1.2.3.5/32", &put), STORE_CREATED);
	assert_int_equal(ent_get("1.2.3.5/32").expires, 0);
	expect_listed("1.2.3.5", NOW + 100000000u, "1.2.3.5/32");

	/* expires_set on an existing expiring entry: taken as it is */
	put = fput(FEED, NOW, &LIFE_EXP);
	assert_int_equal(merge1("1.2.3.6/32", &put), STORE_CREATED);
	assert_int_equal(ent_get("1.2.3.6/32").expires, NOW + 3600);
	put = fput(FEED, NOW + 1, &LIFE_EXP);
	put.expires = 0;
	put.expires_set = true;
	assert_int_equal(merge1("1.2.3.6/32", &put), STORE_UPDATED);
	assert_int_equal(ent_get("1.2.3.6/32").expires, 0);
	put = fput(FEED, NOW + 2, &LIFE_EXP);
	put.expires = NOW + 20;
	put.expires_set = true;
	assert_int_equal(merge1("1.2.3.6/32", &put), STORE_UPDATED);
	assert_int_equal(ent_get("1.2.3.6/32").expires, NOW + 20);

	/* operators without an expiry: never, despite expire_after */
	put = oput(NOW, &LIFE_EXP);
	assert_int_equal(merge1("1.2.3.7/32", &put), STORE_CREATED);
	assert_int_equal(ent_get("1.2.3.7/32").expires, 0);
	/* with one: that one */
	put = oput(NOW, &LIFE_EXP);
	put.expires = NOW + 77;
	assert_int_equal(merge1("1.2.3.8/32", &put), STORE_CREATED);
	assert_int_equal(ent_get("1.2.3.8/32").expires, NOW + 77);
}

static void test_stale_new_listing(void **state)
{
	(void)state;
	uint32_t serial = serial_of(ZONE);
	static const struct store_lifecycle short_life = {.expire_after = 100,
							  .list_threshold = 1};

	/* last seen + expire_after already passed at put.now */
	struct store_put put = fput(FEED, NOW - 200, &short_life);
	put.now = NOW;
	assert_int_equal(merge1("1.2.3.4/32", &put), STORE_STALE);
	/* exactly at the expiry is expired too */
	put = fput(FEED, NOW - 100, &short_life);
	put.now = NOW;
	assert_int_equal(merge1("1.2.3.5/32", &put), STORE_STALE);
	/* by ttl */
	put = fput(FEED, NOW - 200, NULL);
	put.ttl = 50;
	put.now = NOW;
	assert_int_equal(merge1("1.2.3.6/32", &put), STORE_STALE);
	/* by an explicit expiry */
	put = fput(FEED, NOW - 200, NULL);
	put.expires = NOW - 1;
	put.now = NOW;
	assert_int_equal(merge1("1.2.3.7/32", &put), STORE_STALE);

	/* nothing written */
	assert_int_equal(count_of(ZONE, C_ENTRIES), 0);
	assert_int_equal(count_of(ZONE, C_HISTORY), 0);
	assert_int_equal(serial_of(ZONE), serial);
	assert_false(ent_get("1.2.3.4/32").found);
	expect_unlisted("1.2.3.4", NOW - 150);

	/* one second before its expiry it is still listed */
	put = fput(FEED, NOW - 99, &short_life);
	put.now = NOW;
	assert_int_equal(merge1("1.2.3.4/32", &put), STORE_CREATED);
	assert_int_equal(ent_get("1.2.3.4/32").expires, NOW + 1);
}

static void test_expired_entry_relisted_afresh(void **state)
{
	(void)state;
	static const struct store_lifecycle short_life = {.expire_after = 100,
							  .list_threshold = 1};
	struct store_put put = fput(FEED, NOW - 1000, &short_life);
	put.hits = 5;
	put_reason(&put, "old");
	assert_int_equal(merge1("1.2.3.4/32", &put), STORE_CREATED);
	expect_unlisted("1.2.3.4", NOW);

	put = fput(FEED, NOW, &short_life);
	int outcome = merge1("1.2.3.4/32", &put);
	assert_true(outcome == STORE_CREATED);
	struct ent e = ent_get("1.2.3.4/32");
	assert_true(e.found);
	assert_int_equal(e.first_seen, NOW);
	assert_int_equal(e.last_seen, NOW);
	assert_int_equal(e.hits, 1);
	assert_int_equal(e.expires, NOW + 100);
	expect_listed("1.2.3.4", NOW, "1.2.3.4/32");

	/* history, newest first: list, expire, (the first) list */
	struct hlist l = {0};
	hist_ok(ZID, "1.2.3.4/32", 0, &l);
	assert_int_equal(l.n, 3);
	expect_rec(&l.r[0], STORE_EV_LIST, STORE_ACTOR_SOURCE, FEED, "1.2.3.4/32");
	assert_int_equal(l.r[0].time, NOW);
	expect_rec(&l.r[1], STORE_EV_EXPIRE, STORE_ACTOR_EXPIRE, 0, "1.2.3.4/32");
	expect_rec(&l.r[2], STORE_EV_LIST, STORE_ACTOR_SOURCE, FEED, "1.2.3.4/32");
	assert_int_equal(l.r[2].time, NOW - 1000);
	assert_string_equal(l.r[2].reason, "old");
}

/* --- list threshold and window --- */

static void test_threshold_window(void **state)
{
	(void)state;
	const uint32_t t = NOW;
	struct store_put put = fput(FEED, t, &LIFE_THR);
	assert_int_equal(merge1("1.2.3.4/32", &put), STORE_PENDING);
	expect_unlisted("1.2.3.4", t);
	assert_int_equal(within("1.2.3.0/24", t), 0);
	struct ent e = ent_get("1.2.3.4/32");
	assert_true(e.found);
	assert_true(e.flags & STORE_F_PENDING);

	put = fput(FEED, t + 50, &LIFE_THR);
	assert_int_equal(merge1("1.2.3.4/32", &put), STORE_PENDING);
	expect_unlisted("1.2.3.4", t + 50);
	assert_int_equal(within("1.2.3.0/24", t + 50), 0);
	assert_int_equal(within("1.2.3.4/32", t + 50), 0);
	e = ent_get("1.2.3.4/32");
	assert_true(e.flags & STORE_F_PENDING);
	assert_int_equal(e.hits, 2);
	/* pending entries are not in the history */
	assert_int_equal(count_of(ZONE, C_HISTORY), 0);

	put = fput(FEED, t + 90, &LIFE_THR);
	assert_int_equal(merge1("1.2.3.4/32", &put), STORE_CREATED);
	expect_listed("1.2.3.4", t + 90, "1.2.3.4/32");
	assert_int_equal(within("1.2.3.0/24", t + 90), 1);
	e = ent_get("1.2.3.4/32");
	assert_false(e.flags & STORE_F_PENDING);
	assert_int_equal(e.hits, 3);
	assert_int_equal(e.first_seen, t);
	assert_int_equal(e.last_seen, t + 90);
	assert_int_equal(e.expires, 0); /* expire_after 0 */

	struct hlist l = {0};
	hist_ok(ZID, NULL, 0, &l);
	assert_int_equal(l.n, 1);
	expect_rec(&l.r[0], STORE_EV_LIST, STORE_ACTOR_SOURCE, FEED, "1.2.3.4/32");
	assert_int_equal(l.r[0].time, t + 90);

	/* further hits: updates, no more history */
	put = fput(FEED, t + 95, &LIFE_THR);
	assert_int_equal(merge1("1.2.3.4/32", &put), STORE_UPDATED);
	assert_int_equal(count_of(ZONE, C_HISTORY), 1);
}

static void test_threshold_spread_stays_pending(void **state)
{
	(void)state;
	const uint32_t t = NOW;
	/* every two consecutive hits are within the window, never three */
	static const uint32_t offs[] = {0, 60, 120, 180, 240, 300};
	for (size_t i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
		struct store_put put = fput(FEED, t + offs[i], &LIFE_THR);
		int outcome = merge1("1.2.3.4/32", &put);
		if (outcome != STORE_PENDING)
			fail_msg("hit %zu at t+%u: outcome %d, want STORE_PENDING", i, offs[i],
				 outcome);
		expect_unlisted("1.2.3.4", t + offs[i]);
	}
	/* hits far apart */
	for (uint32_t i = 0; i < 4; i++) {
		struct store_put put = fput(FEED, t + 1000 * i, &LIFE_THR);
		assert_int_equal(merge1("1.2.3.5/32", &put), STORE_PENDING);
	}
	expect_unlisted("1.2.3.5", t + 3000);
	assert_int_equal(count_of(ZONE, C_HISTORY), 0);
}

static void test_threshold_out_of_order(void **state)
{
	(void)state;
	const uint32_t t = NOW;
	/* a feed delivers the hits late and out of order, all written at t + 91 */
	static const uint32_t offs[] = {90, 0, 50};
	static const int want[] = {STORE_PENDING, STORE_PENDING, STORE_CREATED};
	for (int i = 0; i < 3; i++) {
		struct store_put put = fput(FEED, t + offs[i], &LIFE_THR);
		put.now = t + 91;
		int outcome = merge1("1.2.3.4/32", &put);
		if (outcome != want[i])
			fail_msg("hit %d at t+%u: outcome %d, want %d", i, offs[i], outcome,
				 want[i]);
	}
	expect_listed("1.2.3.4", t + 91, "1.2.3.4/32");
	struct ent e = ent_get("1.2.3.4/32");
	assert_int_equal(e.first_seen, t);
	assert_int_equal(e.last_seen, t + 90);
	assert_int_equal(e.hits, 3);

	/* the same, with the newest hit last but the oldest first */
	static const uint32_t offs2[] = {0, 90, 50};
	for (int i = 0; i < 3; i++) {
		struct store_put put = fput(FEED, t + offs2[i], &LIFE_THR);
		put.now = t + 91;
		assert_int_equal(merge1("1.2.3.5/32", &put), want[i]);
	}
	expect_listed("1.2.3.5", t + 91, "1.2.3.5/32");
}

static void test_threshold_hits_at_once(void **state)
{
	(void)state;
	struct store_put put = fput(FEED, NOW, &LIFE_THR);
	put.hits = 3;
	assert_int_equal(merge1("1.2.3.4/32", &put), STORE_CREATED);
	expect_listed("1.2.3.4", NOW, "1.2.3.4/32");
	assert_int_equal(ent_get("1.2.3.4/32").hits, 3);

	put = fput(FEED, NOW, &LIFE_THR);
	put.hits = 10;
	assert_int_equal(merge1("1.2.3.5/32", &put), STORE_CREATED);
	assert_int_equal(ent_get("1.2.3.5/32").hits, 10);

	/* two hits then two more on a pending entry */
	put = fput(FEED, NOW, &LIFE_THR);
	put.hits = 2;
	assert_int_equal(merge1("1.2.3.6/32", &put), STORE_PENDING);
	put = fput(FEED, NOW + 10, &LIFE_THR);
	put.hits = 2;
	assert_int_equal(merge1("1.2.3.6/32", &put), STORE_CREATED);
	assert_int_equal(ent_get("1.2.3.6/32").hits, 4);

	struct hlist l = {0};
	hist_ok(ZID, NULL, 0, &l);
	assert_int_equal(l.n, 3);
	for (int i = 0; i < 3; i++)
		assert_int_equal(l.r[i].event, STORE_EV_LIST);
}

static void test_threshold_exclusion_not_pending(void **state)
{
	(void)state;
	struct store_put put = fput(FEED, NOW, &LIFE_THR);
	put.flags = STORE_F_EXCLUDE;
	assert_int_equal(merge1("1.2.3.4/32", &put), STORE_CREATED);
	struct ent e = ent_get("1.2.3.4/32");
	assert_false(e.flags & STORE_F_PENDING);
	assert_true(e.flags & STORE_F_EXCLUDE);
	/* answered (as an exclusion) */
	char m[64];
	struct ent le;
	assert_int_equal(look("1.2.3.4", NOW, &le, m), 0);
	assert_true(le.flags & STORE_F_EXCLUDE);
	assert_string_equal(m, "1.2.3.4/32");
}

static void test_threshold_operator_not_pending(void **state)
{
	(void)state;
	struct store_put put = oput(NOW, &LIFE_THR);
	put_reason(&put, "seen it myself");
	assert_int_equal(merge1("1.2.3.4/32", &put), STORE_CREATED);
	struct ent e = ent_get("1.2.3.4/32");
	assert_false(e.flags & STORE_F_PENDING);
	assert_true(e.flags & STORE_F_MANUAL);
	assert_int_equal(e.source_id, OPER);
	expect_listed("1.2.3.4", NOW, "1.2.3.4/32");

	struct hlist l = {0};
	hist_ok(ZID, "1.2.3.4/32", 0, &l);
	assert_int_equal(l.n, 1);
	expect_rec(&l.r[0], STORE_EV_LIST, STORE_ACTOR_OPERATOR, OPER, "1.2.3.4/32");
	assert_string_equal(l.r[0].reason, "seen it myself");

	/* an operator listing a pending entry lists it at once */
	put = fput(FEED, NOW, &LIFE_THR);
	assert_int_equal(merge1("1.2.3.5/32", &put), STORE_PENDING);
	put = oput(NOW + 1, &LIFE_THR);
	int outcome = merge1("1.2.3.5/32", &put);
	assert_true(outcome == STORE_UPDATED || outcome == STORE_CREATED);
	e = ent_get("1.2.3.5/32");
	assert_false(e.flags & STORE_F_PENDING);
	assert_true(e.flags & STORE_F_MANUAL);
	expect_listed("1.2.3.5", NOW + 1, "1.2.3.5/32");
}

/* --- tombstones --- */

static void test_delist(void **state)
{
	(void)state;
	struct store_put put = fput(FEED, NOW - 100, NULL);
	put.flags = STORE_F_A;
	put.a = A127(3);
	assert_int_equal(merge1("1.2.3.4/32", &put), STORE_CREATED);
	uint32_t serial = serial_of(ZONE);

	struct entry_key p = PFX("1.2.3.4/32");
	struct store_writer *w = wbegin();
	struct store_zone *z = wzone(w, ZONE);
	assert_int_equal(store_delist(w, z, &p, OPER, "false positive", 14, NOW), 0);
	/* readable inside the transaction */
	struct store_tomb t;
	memset(&t, 0, sizeof(t));
	assert_int_equal(store_writer_tomb_get(w, z, &p, &t), 0);
	assert_int_equal(t.time, NOW);
	assert_int_equal(t.actor_id, OPER);
	assert_int_equal(t.reason_len, 14);
	assert_memory_equal(t.reason, "false positive", 14);
	wcommit(w);

	expect_unlisted("1.2.3.4", NOW);
	assert_false(ent_get("1.2.3.4/32").found);
	assert_int_equal(count_of(ZONE, C_ENTRIES), 0);
	assert_int_equal(serial_of(ZONE), serial + 1);

	uint32_t tt = 0;
	uint16_t actor = 0;
	char reason[STORE_REASON_MAX + 1];
	assert_int_equal(tomb_read("1.2.3.4/32", &tt, &actor, reason), 0);
	assert_int_equal(tt, NOW);
	assert_int_equal(actor, OPER);
	assert_string_equal(reason, "false positive");
	assert_int_equal(count_of(ZONE, C_TOMBS), 1);
	assert_int_equal(count_of(ZONE2, C_TOMBS), 0);
	/* only the exact prefix has a tombstone */
	assert_int_equal(tomb_read("1.2.3.0/24", NULL, NULL, NULL), DNSBL_ENOTFOUND);

	struct hlist l = {0};
	hist_ok(ZID, "1.2.3.4/32", 0, &l);
	assert_int_equal(l.n, 2);
	expect_rec(&l.r[0], STORE_EV_DELIST, STORE_ACTOR_OPERATOR, OPER, "1.2.3.4/32");
	assert_int_equal(l.r[0].time, NOW);
	assert_string_equal(l.r[0].reason, "false positive");
	assert_int_equal(l.r[0].a, A127(3));
	expect_rec(&l.r[1], STORE_EV_LIST, STORE_ACTOR_SOURCE, FEED, "1.2.3.4/32");
}

static void test_delist_absent(void **state)
{
	(void)state;
	struct store_put put = fput(FEED, NOW - 100, NULL);
	assert_int_equal(merge1("1.2.3.0/24", &put), STORE_CREATED);
	uint32_t serial = serial_of(ZONE);
	uint64_t nhist = count_of(ZONE, C_HISTORY);

	struct entry_key p = PFX("1.2.3.4/32");
	struct store_writer *w = wbegin();
	struct store_zone *z = wzone(w, ZONE);
	/* a covering entry is not the exact prefix */
	assert_int_equal(store_delist(w, z, &p, OPER, "x", 1, NOW), DNSBL_ENOTFOUND);
	struct store_tomb t;
	assert_int_equal(store_writer_tomb_get(w, z, &p, &t), DNSBL_ENOTFOUND);
	wcommit(w);

	assert_int_equal(serial_of(ZONE), serial);
	assert_int_equal(count_of(ZONE, C_TOMBS), 0);
	assert_int_equal(count_of(ZONE, C_HISTORY), nhist);
	assert_int_equal(tomb_read("1.2.3.4/32", NULL, NULL, NULL), DNSBL_ENOTFOUND);
	expect_listed("1.2.3.4", NOW, "1.2.3.0/24");
}

static void test_tomb_suppresses_older_hits(void **state)
{
	(void)state;
	static const struct store_lifecycle life0 = {.list_threshold = 1};
	struct store_put put = fput(FEED, NOW - 100, &life0);
	assert_int_equal(merge1("1.2.3.4/32", &put), STORE_CREATED);
	assert_int_equal(delist1("1.2.3.4/32", "fp", NOW), 0);
	uint32_t serial = serial_of(ZONE);
	uint64_t nhist = count_of(ZONE, C_HISTORY);

	/* hits seen before or at the delisting, delivered after it */
	put = fput(FEED, NOW - 10, &life0);
	put.now = NOW + 5;
	assert_int_equal(merge1("1.2.3.4/32", &put), STORE_SUPPRESSED);
	put = fput(FEED, NOW, &life0);
	put.now = NOW + 5;
	assert_int_equal(merge1("1.2.3.4/32", &put), STORE_SUPPRESSED);
	put = fput(FEED2, NOW, &life0);
	put.hits = 10;
	assert_int_equal(merge1("1.2.3.4/32", &put), STORE_SUPPRESSED);

	/* nothing written */
	assert_int_equal(serial_of(ZONE), serial);
	assert_int_equal(count_of(ZONE, C_ENTRIES), 0);
	assert_int_equal(count_of(ZONE, C_HISTORY), nhist);
	assert_int_equal(count_of(ZONE, C_TOMBS), 1);
	assert_false(ent_get("1.2.3.4/32").found);
	expect_unlisted("1.2.3.4", NOW + 5);

	/* relist_after 0: one second later relists */
	put = fput(FEED, NOW + 1, &life0);
	assert_int_equal(merge1("1.2.3.4/32", &put), STORE_RELISTED);
	expect_listed("1.2.3.4", NOW + 1, "1.2.3.4/32");
	assert_int_equal(tomb_read("1.2.3.4/32", NULL, NULL, NULL), DNSBL_ENOTFOUND);
	assert_int_equal(count_of(ZONE, C_TOMBS), 0);
	struct hlist l = {0};
	hist_ok(ZID, "1.2.3.4/32", 0, &l);
	assert_int_equal(l.n, 3);
	expect_rec(&l.r[0], STORE_EV_RELIST, STORE_ACTOR_SOURCE, FEED, "1.2.3.4/32");
	expect_rec(&l.r[1], STORE_EV_DELIST, STORE_ACTOR_OPERATOR, OPER, "1.2.3.4/32");

	/* without a tombstone any more, older hits merge again */
	put = fput(FEED, NOW - 50, &life0);
	put.now = NOW + 2;
	assert_int_equal(merge1("1.2.3.4/32", &put), STORE_UPDATED);
	assert_int_equal(ent_get("1.2.3.4/32").first_seen, NOW - 50);
}

static void test_tomb_relist_after(void **state)
{
	(void)state;
	static const struct store_lifecycle life = {.list_threshold = 1, .relist_after = 1000};
	const uint32_t T = NOW;
	struct store_put put = fput(FEED, T - 100, &life);
	assert_int_equal(merge1("1.2.3.4/32", &put), STORE_CREATED);
	assert_int_equal(merge1("1.2.3.5/32", &put), STORE_CREATED);
	assert_int_equal(delist1("1.2.3.4/32", NULL, T), 0);
	assert_int_equal(delist1("1.2.3.5/32", "r", T), 0);
	assert_int_equal(count_of(ZONE, C_TOMBS), 2);

	put = fput(FEED, T + 500, &life);
	assert_int_equal(merge1("1.2.3.4/32", &put), STORE_SUPPRESSED);
	put = fput(FEED, T + 999, &life);
	assert_int_equal(merge1("1.2.3.4/32", &put), STORE_SUPPRESSED);
	assert_int_equal(count_of(ZONE, C_TOMBS), 2);
	expect_unlisted("1.2.3.4", T + 999);

	put = fput(FEED, T + 1000, &life);
	assert_int_equal(merge1("1.2.3.4/32", &put), STORE_RELISTED);
	expect_listed("1.2.3.4", T + 1000, "1.2.3.4/32");
	assert_int_equal(tomb_read("1.2.3.4/32", NULL, NULL, NULL), DNSBL_ENOTFOUND);
	struct ent e = ent_get("1.2.3.4/32");
	assert_int_equal(e.first_seen, T + 1000);
	assert_int_equal(e.hits, 1);

	put = fput(FEED2, T + 5000, &life);
	assert_int_equal(merge1("1.2.3.5/32", &put), STORE_RELISTED);
	assert_int_equal(count_of(ZONE, C_TOMBS), 0);

	struct hlist l = {0};
	hist_ok(ZID, "1.2.3.4/32", 0, &l);
	assert_int_equal(l.n, 3);
	expect_rec(&l.r[0], STORE_EV_RELIST, STORE_ACTOR_SOURCE, FEED, "1.2.3.4/32");
	assert_int_equal(l.r[0].time, T + 1000);
	hist_ok(ZID, "1.2.3.5/32", 0, &l);
	assert_int_equal(l.n, 3);
	expect_rec(&l.r[0], STORE_EV_RELIST, STORE_ACTOR_SOURCE, FEED2, "1.2.3.5/32");
}

static void test_tomb_operator_relists(void **state)
{
	(void)state;
	static const struct store_lifecycle life = {.list_threshold = 3, .list_window = 100,
						    .relist_after = 100000};
	struct store_put put = fput(FEED, NOW - 100, NULL);
	assert_int_equal(merge1("1.2.3.4/32", &put), STORE_CREATED);
	assert_int_equal(delist1("1.2.3.4/32", "fp", NOW), 0);

	/* even seen before the delisting, and within relist_after */
	put = oput(NOW - 50, &life);
	put.now = NOW + 1;
	put_reason(&put, "it is back");
	assert_int_equal(merge1("1.2.3.4/32", &put), STORE_RELISTED);
	expect_listed("1.2.3.4", NOW + 1, "1.2.3.4/32");
	assert_int_equal(tomb_read("1.2.3.4/32", NULL, NULL, NULL), DNSBL_ENOTFOUND);
	assert_int_equal(count_of(ZONE, C_TOMBS), 0);
	struct ent e = ent_get("1.2.3.4/32");
	assert_true(e.flags & STORE_F_MANUAL);
	assert_false(e.flags & STORE_F_PENDING);

	struct hlist l = {0};
	hist_ok(ZID, "1.2.3.4/32", 0, &l);
	assert_int_equal(l.n, 3);
	expect_rec(&l.r[0], STORE_EV_RELIST, STORE_ACTOR_OPERATOR, OPER, "1.2.3.4/32");
	assert_string_equal(l.r[0].reason, "it is back");
}

/* --- MANUAL entries and merge rules --- */

static void test_manual_feed_hit(void **state)
{
	(void)state;
	struct store_put put = oput(NOW - 100, NULL);
	put.flags = STORE_F_A | STORE_F_TXT;
	put.a = A127(5);
	put.txt = "manual $";
	put.txt_len = 8;
	put.expires = NOW + 5000;
	put_reason(&put, "op reason");
	assert_int_equal(merge1("1.2.3.4/32", &put), STORE_CREATED);

	put = fput(FEED, NOW, &LIFE_EXP);
	put.flags = STORE_F_A | STORE_F_NOTXT;
	put.a = A127(9);
	put.hits = 2;
	put.ttl = 10;
	put_reason(&put, "feed reason");
	assert_int_equal(merge1("1.2.3.4/32", &put), STORE_UPDATED);
	/* an older hit moves the first seen */
	put = fput(FEED2, NOW - 500, &LIFE_EXP);
	put.expires = NOW + 1;
	put.now = NOW + 1;
	assert_int_equal(merge1("1.2.3.4/32", &put), STORE_UPDATED);

	struct ent e = ent_get("1.2.3.4/32");
	assert_int_equal(e.flags, STORE_F_MANUAL | STORE_F_A | STORE_F_TXT);
	assert_int_equal(e.a, A127(5));
	assert_string_equal(e.txt, "manual $");
	assert_string_equal(e.reason, "op reason");
	assert_int_equal(e.source_id, OPER);
	assert_int_equal(e.expires, NOW + 5000);
	assert_int_equal(e.first_seen, NOW - 500);
	assert_int_equal(e.last_seen, NOW);
	assert_int_equal(e.hits, 4);
	expect_listed("1.2.3.4", NOW + 4999, "1.2.3.4/32");
	/* feed hits on it write no history */
	assert_int_equal(count_of(ZONE, C_HISTORY), 1);
}

static void test_merge_feed_rules(void **state)
{
	(void)state;
	struct store_put put = fput(FEED, NOW - 100, NULL);
	put_reason(&put, "r1");
	put.flags = STORE_F_A;
	put.a = A127(2);
	assert_int_equal(merge1("1.2.3.4/32", &put), STORE_CREATED);

	/* an older hit, delivered late, with no reason and 2 hits */
	put = fput(FEED, NOW - 300, NULL);
	put.now = NOW;
	put.hits = 2;
	put.flags = STORE_F_A;
	put.a = A127(2);
	assert_int_equal(merge1("1.2.3.4/32", &put), STORE_UPDATED);
	struct ent e = ent_get("1.2.3.4/32");
	assert_int_equal(e.first_seen, NOW - 300);
	assert_int_equal(e.last_seen, NOW - 100);
	assert_int_equal(e.hits, 3);
	assert_string_equal(e.reason, "r1");

	/* a newer one; hits 0 counts as 1 */
	put = fput(FEED, NOW, NULL);
	put.hits = 0;
	put.flags = STORE_F_A;
	put.a = A127(2);
	assert_int_equal(merge1("1.2.3.4/32", &put), STORE_UPDATED);
	e = ent_get("1.2.3.4/32");
	assert_int_equal(e.first_seen, NOW - 300);
	assert_int_equal(e.last_seen, NOW);
	assert_int_equal(e.hits, 4);
	assert_string_equal(e.reason, "r1");

	/* put.first_seen earlier than seen counts as the first seen */
	put = fput(FEED, NOW + 10, NULL);
	put.first_seen = NOW - 1000;
	put.flags = STORE_F_A;
	put.a = A127(2);
	assert_int_equal(merge1("1.2.3.4/32", &put), STORE_UPDATED);
	e = ent_get("1.2.3.4/32");
	assert_int_equal(e.first_seen, NOW - 1000);
	assert_int_equal(e.last_seen, NOW + 10);
	assert_int_equal(e.hits, 5);

	/* a reason given replaces it; values come from the put */
	put = fput(FEED2, NOW + 20, NULL);
	put_reason(&put, "r2");
	put.flags = STORE_F_A;
	put.a = A127(7);
	assert_int_equal(merge1("1.2.3.4/32", &put), STORE_UPDATED);
	e = ent_get("1.2.3.4/32");
	assert_string_equal(e.reason, "r2");
	assert_int_equal(e.a, A127(7));
	assert_int_equal(e.source_id, FEED2);
	assert_int_equal(e.hits, 6);
	assert_false(e.flags & STORE_F_MANUAL);
	/* updates of a listed entry by feeds write no history */
	assert_int_equal(count_of(ZONE, C_HISTORY), 1);
}

/* --- history --- */

static void test_history_scan(void **state)
{
	(void)state;
	struct store_put put = fput(FEED, NOW - 500, NULL);
	assert_int_equal(merge1("1.1.1.1/32", &put), STORE_CREATED);
	put = fput(FEED, NOW - 400, NULL);
	assert_int_equal(merge1("1.1.1.0/24", &put), STORE_CREATED);
	put = fput(FEED2, NOW - 300, NULL);
	assert_int_equal(merge_in(ZONE2, "1.1.1.1/32", &put), STORE_CREATED);
	assert_int_equal(delist1("1.1.1.1/32", "x", NOW - 200), 0);
	put = fput(FEED, NOW - 100, NULL);
	assert_int_equal(merge1("2.2.2.2/32", &put), STORE_CREATED);

	struct hlist l = {0};
	/* every zone */
	hist_ok(0, NULL, 0, &l);
	assert_int_equal(l.n, 5);
	expect_rec(&l.r[0], STORE_EV_LIST, STORE_ACTOR_SOURCE, FEED, "2.2.2.2/32");
	assert_int_equal(l.r[0].time, NOW - 100);
	expect_rec(&l.r[1], STORE_EV_DELIST, STORE_ACTOR_OPERATOR, OPER, "1.1.1.1/32");
	assert_int_equal(l.r[1].zone_id, ZID);
	expect_rec(&l.r[2], STORE_EV_LIST, STORE_ACTOR_SOURCE, FEED2, "1.1.1.1/32");
	assert_int_equal(l.r[2].zone_id, ZID2);
	expect_rec(&l.r[3], STORE_EV_LIST, STORE_ACTOR_SOURCE, FEED, "1.1.1.0/24");
	expect_rec(&l.r[4], STORE_EV_LIST, STORE_ACTOR_SOURCE, FEED, "1.1.1.1/32");
	assert_int_equal(l.r[4].time, NOW - 500);

	/* one zone */
	hist_ok(ZID, NULL, 0, &l);
	assert_int_equal(l.n, 4);
	for (int i = 0; i < l.n; i++)
		assert_int_equal(l.r[i].zone_id, ZID);
	hist_ok(ZID2, NULL, 0, &l);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.r[0].zone_id, ZID2);

	/* exactly one prefix: not the covering /24, not the other zone's */
	hist_ok(ZID, "1.1.1.1/32", 0, &l);
	assert_int_equal(l.n, 2);
	expect_rec(&l.r[0], STORE_EV_DELIST, STORE_ACTOR_OPERATOR, OPER, "1.1.1.1/32");
	expect_rec(&l.r[1], STORE_EV_LIST, STORE_ACTOR_SOURCE, FEED, "1.1.1.1/32");
	hist_ok(ZID, "1.1.1.0/24", 0, &l);
	assert_int_equal(l.n, 1);
	expect_rec(&l.r[0], STORE_EV_LIST, STORE_ACTOR_SOURCE, FEED, "1.1.1.0/24");
	hist_ok(ZID2, "1.1.1.1/32", 0, &l);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.r[0].actor_id, FEED2);
	hist_ok(ZID, "1.1.0.0/16", 0, &l);
	assert_int_equal(l.n, 0);
	hist_ok(ZID, "3.3.3.3/32", 0, &l);
	assert_int_equal(l.n, 0);

	/* since */
	hist_ok(0, NULL, NOW - 300, &l);
	assert_int_equal(l.n, 3);
	assert_int_equal(l.r[2].time, NOW - 300);
	hist_ok(ZID, NULL, NOW - 300, &l);
	assert_int_equal(l.n, 2);
	hist_ok(ZID, "1.1.1.1/32", NOW - 250, &l);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.r[0].event, STORE_EV_DELIST);
	hist_ok(0, NULL, NOW, &l);
	assert_int_equal(l.n, 0);

	/* fn's non-zero result stops the scan and is returned */
	l.stop_at = 2;
	assert_int_equal(hist(0, NULL, 0, &l), 42);
	assert_int_equal(l.n, 2);
	l.stop_at = 1;
	assert_int_equal(hist(ZID, "1.1.1.1/32", 0, &l), 42);
	assert_int_equal(l.n, 1);

	/* counts per zone */
	assert_int_equal(count_of(ZONE, C_HISTORY), 4);
	assert_int_equal(count_of(ZONE2, C_HISTORY), 1);
}

static void test_history_replace_remove(void **state)
{
	(void)state;
	struct store_put put = fput(FEED, NOW - 100, NULL);
	put.flags = STORE_F_A;
	put.a = A127(4);
	assert_int_equal(merge1("1.1.1.1/32", &put), STORE_CREATED);
	assert_int_equal(merge1("1.1.1.2/32", &put), STORE_CREATED);
	put = fput(FEED2, NOW - 100, NULL);
	assert_int_equal(merge1("1.1.1.3/32", &put), STORE_CREATED);

	struct store_writer *w = wbegin();
	struct store_zone *z = wzone(w, ZONE);
	assert_int_equal(store_replace_begin(w, z, FEED), 0);
	struct entry_key p = PFX("1.1.1.2/32");
	put = fput(FEED, NOW, NULL);
	assert_int_equal(store_merge(w, z, &p, &put, NULL), 0);
	uint64_t removed = 0;
	assert_int_equal(store_replace_finish(w, &removed), 0);
	assert_int_equal(removed, 1);
	wcommit(w);

	assert_false(ent_get("1.1.1.1/32").found);
	struct hlist l = {0};
	hist_ok(ZID, "1.1.1.1/32", 0, &l);
	assert_int_equal(l.n, 2);
	expect_rec(&l.r[0], STORE_EV_REMOVE, STORE_ACTOR_SOURCE, FEED, "1.1.1.1/32");
	assert_int_equal(l.r[0].zone_id, ZID);
	assert_int_equal(l.r[0].a, A127(4));
	expect_rec(&l.r[1], STORE_EV_LIST, STORE_ACTOR_SOURCE, FEED, "1.1.1.1/32");
	/* the kept and the other source's entries got no remove record */
	hist_ok(ZID, "1.1.1.2/32", 0, &l);
	assert_int_equal(l.n, 1);
	hist_ok(ZID, "1.1.1.3/32", 0, &l);
	assert_int_equal(l.n, 1);
	assert_int_equal(count_of(ZONE, C_HISTORY), 4);
}

/* --- the expiry sweep --- */

static void test_expire_sweep(void **state)
{
	(void)state;
	static const struct store_lifecycle short_life = {.expire_after = 100,
							  .list_threshold = 1};
	struct store_put put = fput(FEED, NOW - 1000, &short_life);
	put.flags = STORE_F_A;
	put.a = A127(6);
	assert_int_equal(merge1("1.0.0.1/32", &put), STORE_CREATED); /* expires NOW-900 */
	put = fput(FEED, NOW - 50, &short_life);
	assert_int_equal(merge1("1.0.0.2/32", &put), STORE_CREATED); /* expires NOW+50 */
	put = fput(FEED, NOW - 5000, NULL);
	assert_int_equal(merge1("1.0.0.3/32", &put), STORE_CREATED); /* never */
	put = fput(FEED, NOW - 500, &LIFE_THR);
	assert_int_equal(merge1("1.0.0.4/32", &put), STORE_PENDING); /* window passed */
	put = fput(FEED, NOW - 10, &LIFE_THR);
	assert_int_equal(merge1("1.0.0.5/32", &put), STORE_PENDING); /* window open */
	/* another zone's expired entry is left alone */
	put = fput(FEED, NOW - 1000, &short_life);
	assert_int_equal(merge_in(ZONE2, "1.0.0.1/32", &put), STORE_CREATED);

	uint32_t serial = serial_of(ZONE), serial2 = serial_of(ZONE2);
	uint64_t nhist = count_of(ZONE, C_HISTORY);
	struct store_expire_result res;
	memset(&res, 0, sizeof(res));
	assert_int_equal(store_expire(S, ZONE, NOW, 0, 100, &res), 0);
	assert_int_equal(res.expired, 1);
	assert_int_equal(res.pending_dropped, 1);
	assert_int_equal(res.history_pruned, 0);

	assert_false(ent_get("1.0.0.1/32").found);
	assert_true(ent_get("1.0.0.2/32").found);
	assert_true(ent_get("1.0.0.3/32").found);
	assert_false(ent_get("1.0.0.4/32").found);
	assert_true(ent_get("1.0.0.5/32").found);
	assert_int_equal(count_of(ZONE, C_ENTRIES), 3);
	assert_true(ent_get_in(ZONE2, "1.0.0.1/32").found);
	assert_int_equal(serial_of(ZONE), serial + 1);
	assert_int_equal(serial_of(ZONE2), serial2);

	struct hlist l = {0};
	hist_ok(ZID, "1.0.0.1/32", 0, &l);
	assert_int_equal(l.n, 2);
	expect_rec(&l.r[0], STORE_EV_EXPIRE, STORE_ACTOR_EXPIRE, 0, "1.0.0.1/32");
	assert_int_equal(l.r[0].time, NOW);
	assert_int_equal(l.r[0].a, A127(6));
	hist_ok(ZID, "1.0.0.4/32", 0, &l);
	assert_int_equal(l.n, 0);
	assert_int_equal(count_of(ZONE, C_HISTORY), nhist + 1);

	/* a second sweep finds nothing and changes nothing */
	memset(&res, 0, sizeof(res));
	assert_int_equal(store_expire(S, ZONE, NOW, 0, 100, &res), 0);
	assert_int_equal(res.expired, 0);
	assert_int_equal(res.pending_dropped, 0);
	assert_int_equal(serial_of(ZONE), serial + 1);
	assert_int_equal(count_of(ZONE, C_HISTORY), nhist + 1);

	/* later, the rest that expires goes too; counts add up in res */
	assert_int_equal(store_expire(S, ZONE, NOW + 1000, 0, 100, &res), 0);
	assert_int_equal(res.expired, 1);         /* 1.0.0.2 */
	assert_int_equal(res.pending_dropped, 1); /* 1.0.0.5 */
	assert_int_equal(count_of(ZONE, C_ENTRIES), 1);
	assert_true(ent_get("1.0.0.3/32").found);
}

static void test_expire_batches(void **state)
{
	(void)state;
	static const struct store_lifecycle short_life = {.expire_after = 100,
							  .list_threshold = 1};
	/* 7 expired and 3 live entries, interleaved in key order (written in time
	 * order, so the history stays in time order) */
	char pfx[32];
	for (int pass = 0; pass < 2; pass++) {
		for (int i = 1; i <= 10; i++) {
			bool live = i % 3 == 0;
			if (live != (pass == 1))
				continue;
			snprintf(pfx, sizeof(pfx), "10.0.0.%d/32", i);
			struct store_put put = fput(FEED, live ? NOW : NOW - 1000, &short_life);
			assert_int_equal(merge1(pfx, &put), STORE_CREATED);
		}
	}
	uint32_t serial = serial_of(ZONE);
	struct store_expire_result res;
	memset(&res, 0, sizeof(res));
	assert_int_equal(store_expire(S, ZONE, NOW, 0, 2, &res), 0);
	assert_int_equal(res.expired, 7);
	assert_int_equal(res.pending_dropped, 0);
	assert_int_equal(count_of(ZONE, C_ENTRIES), 3);
	for (int i = 1; i <= 10; i++) {
		snprintf(pfx, sizeof(pfx), "10.0.0.%d/32", i);
		assert_int_equal(ent_get(pfx).found, i % 3 == 0);
	}
	/* at most 2 deletions per transaction, each transaction bumps the serial */
	uint32_t after = serial_of(ZONE);
	if (after < serial + 4)
		fail_msg("serial %u -> %u: want at least 4 bumps", serial, after);

	struct hlist l = {0};
	hist_ok(ZID, NULL, 0, &l);
	int expires = 0;
	for (int i = 0; i < l.n; i++)
		if (l.r[i].event == STORE_EV_EXPIRE) {
			assert_int_equal(l.r[i].actor, STORE_ACTOR_EXPIRE);
			expires++;
		}
	assert_int_equal(expires, 7);

	/* batch 1 works as well */
	for (int i = 20; i < 25; i++) {
		snprintf(pfx, sizeof(pfx), "10.0.0.%d/32", i);
		struct store_put put = fput(FEED, NOW - 1000, &short_life);
		assert_int_equal(merge1(pfx, &put), STORE_CREATED);
	}
	memset(&res, 0, sizeof(res));
	assert_int_equal(store_expire(S, ZONE, NOW, 0, 1, &res), 0);
	assert_int_equal(res.expired, 5);
	assert_int_equal(count_of(ZONE, C_ENTRIES), 3);
}

static void test_expire_unknown_zone(void **state)
{
	(void)state;
	struct store_expire_result res;
	memset(&res, 0, sizeof(res));
	assert_int_equal(store_expire(S, "nope.example", NOW, 0, 10, &res), 0);
	assert_int_equal(res.expired, 0);
	assert_int_equal(res.pending_dropped, 0);
	assert_int_equal(res.history_pruned, 0);
	/* and it was not created */
	struct store_reader *r = rnew();
	rbegin(r);
	struct store_zone z;
	assert_int_equal(store_zone_get(r, "nope.example", &z), DNSBL_ENOTFOUND);
	store_reader_end(r);
	store_reader_free(r);
}

static void test_expire_history_prune(void **state)
{
	(void)state;
	struct store_put put = fput(FEED, NOW - 1000, NULL);
	assert_int_equal(merge1("1.1.1.1/32", &put), STORE_CREATED);
	put = fput(FEED, NOW - 900, NULL);
	assert_int_equal(merge1("1.1.1.2/32", &put), STORE_CREATED);
	put = fput(FEED, NOW - 800, NULL);
	assert_int_equal(merge_in(ZONE2, "1.1.1.1/32", &put), STORE_CREATED);
	put = fput(FEED, NOW - 100, NULL);
	assert_int_equal(merge1("1.1.1.3/32", &put), STORE_CREATED);
	put = fput(FEED, NOW - 50, NULL);
	assert_int_equal(merge_in(ZONE2, "1.1.1.3/32", &put), STORE_CREATED);
	assert_int_equal(count_of(ZONE, C_HISTORY), 3);
	assert_int_equal(count_of(ZONE2, C_HISTORY), 2);

	struct store_expire_result res;
	memset(&res, 0, sizeof(res));
	/* batch 1: several prune transactions; other zones' records go too */
	assert_int_equal(store_expire(S, ZONE, NOW, NOW - 500, 1, &res), 0);
	assert_int_equal(res.history_pruned, 3);
	assert_int_equal(res.expired, 0);

	assert_int_equal(count_of(ZONE, C_HISTORY), 1);
	assert_int_equal(count_of(ZONE2, C_HISTORY), 1);
	struct hlist l = {0};
	hist_ok(0, NULL, 0, &l);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.r[0].time, NOW - 50);
	assert_int_equal(l.r[1].time, NOW - 100);
	hist_ok(ZID, "1.1.1.1/32", 0, &l);
	assert_int_equal(l.n, 0);
	hist_ok(ZID, "1.1.1.2/32", 0, &l);
	assert_int_equal(l.n, 0);
	hist_ok(ZID2, "1.1.1.1/32", 0, &l);
	assert_int_equal(l.n, 0);
	hist_ok(ZID, "1.1.1.3/32", 0, &l);
	assert_int_equal(l.n, 1);
	/* the entries themselves stay */
	assert_int_equal(count_of(ZONE, C_ENTRIES), 3);

	/* a cutoff older than every record prunes nothing */
	memset(&res, 0, sizeof(res));
	assert_int_equal(store_expire(S, ZONE, NOW, NOW - 5000, 10, &res), 0);
	assert_int_equal(res.history_pruned, 0);
	assert_int_equal(count_of(ZONE, C_HISTORY), 1);

	/* the record exactly at the cutoff stays (only older ones go) */
	assert_int_equal(store_expire(S, ZONE, NOW, NOW - 100, 10, &res), 0);
	assert_int_equal(res.history_pruned, 0);
	assert_int_equal(count_of(ZONE, C_HISTORY), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_expire_after, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expire_ttl, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expire_explicit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stale_new_listing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expired_entry_relisted_afresh, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_threshold_window, setup, teardown),
		cmocka_unit_test_setup_teardown(test_threshold_spread_stays_pending, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_threshold_out_of_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_threshold_hits_at_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_threshold_exclusion_not_pending, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_threshold_operator_not_pending, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_delist, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delist_absent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tomb_suppresses_older_hits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tomb_relist_after, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tomb_operator_relists, setup, teardown),
		cmocka_unit_test_setup_teardown(test_manual_feed_hit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_merge_feed_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_history_scan, setup, teardown),
		cmocka_unit_test_setup_teardown(test_history_replace_remove, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expire_sweep, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expire_batches, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expire_unknown_zone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expire_history_prune, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
