/* Unit tests for lib/store/merge.c: store_merge's values (first and last seen, hits,
 * flags, reason, TXT, source; text limits and invalid keys) and the listing rules of
 * lib/lifecycle.h as store_merge applies them to stored entries: expiry
 * (expire_after, ttl, explicit expiries, stale listings, re-listing of expired
 * entries), the list threshold and window (pending entries), MANUAL entries and the
 * merge rules for feed hits. (tests/unit/test_lifecycle.c checks the rules alone.)
 * A fresh LMDB store per test; the lifecycle tests start with the zones and sources
 * of lifetest.h, every put carrying explicit seen and now times around NOW. */
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
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "addr.h"
#include "err.h"
#include "store.h"
#include "storetest.h"
#include "storeops.h"
#include "lifetest.h"

static int setup(void **state)
{
	(void)state;
	return storetest_open("/tmp/dnsbl-test-store-merge-XXXXXX") < 0 ? -1 : 0;
}

/* A store with ZONE, ZONE2 and the sources FEED, FEED2 and OPER (lifetest.h). */
static int setup_zones(void **state)
{
	(void)state;
	return lifetest_open("/tmp/dnsbl-test-store-merge-XXXXXX") < 0 ? -1 : 0;
}

static int teardown(void **state)
{
	(void)state;
	return storetest_close();
}

/* --- merge values --- */

static void test_merge_semantics(void **state)
{
	(void)state;
	struct store_writer *w = wbegin();
	struct store_zone *z = wzone(w, "bl.example");
	uint16_t s1 = wsource(w, "trap-one"), s2 = wsource(w, "trap-two");
	int created = -1;
	assert_int_equal(merge(w, z, "192.0.2.1/32",
			       &(struct putspec){.flags = STORE_F_A, .source = s1, .a = A127(2),
						 .seen = 1000, .hits = 1, .reason = "spam",
						 .expires = NOW + 1000},
			       &created),
			 0);
	assert_int_equal(created, 1);
	wcommit(w);

	/* later: last seen moves, hits add, first seen stays; values from the put */
	w = wbegin();
	z = wzone(w, "bl.example");
	created = -1;
	assert_int_equal(merge(w, z, "192.0.2.1/32",
			       &(struct putspec){.flags = STORE_F_A | STORE_F_TXT, .source = s2,
						 .a = A127(3), .seen = 2000, .hits = 2,
						 .txt = "again $", .expires = NOW + 5000},
			       &created),
			 0);
	assert_int_equal(created, 0);
	/* in the same transaction again, with an older time: last seen stays */
	created = -1;
	assert_int_equal(merge(w, z, "192.0.2.1/32",
			       &(struct putspec){.flags = STORE_F_A | STORE_F_TXT, .source = s2,
						 .a = A127(3), .seen = 1500, .hits = 1,
						 .txt = "again $", .expires = NOW + 5000},
			       &created),
			 0);
	assert_int_equal(created, 0);
	wcommit(w);

	struct store_reader *r = rnew();
	rbegin(r);
	struct store_zone zz = zget(r, "bl.example");
	struct store_entry e;
	char m[32];
	assert_int_equal(look(r, &zz, "192.0.2.1", NOW, &e, m), 0);
	assert_int_equal(e.first_seen, 1000);
	assert_int_equal(e.last_seen, 2000);
	assert_int_equal(e.hits, 4);
	assert_int_equal(e.flags, STORE_F_A | STORE_F_TXT);
	assert_int_equal(e.a, A127(3));
	assert_int_equal(e.source_id, s2);
	assert_int_equal(e.expires, NOW + 5000);
	assert_int_equal(e.txt_len, 7);
	assert_memory_equal(e.txt, "again $", 7);
	/* reason kept when the put gives none */
	assert_int_equal(e.reason_len, 4);
	assert_memory_equal(e.reason, "spam", 4);
	char name[80];
	assert_int_equal(store_source_name(r, s2, name, sizeof(name)), 0);
	assert_string_equal(name, "trap-two");
	store_reader_end(r);

	/* a new reason replaces it; flags without TXT drop the TXT */
	w = wbegin();
	z = wzone(w, "bl.example");
	merge_ok(w, z, "192.0.2.1/32",
		 &(struct putspec){.flags = STORE_F_A | STORE_F_NOTXT, .source = s1,
				   .a = A127(9), .seen = 3000, .hits = 1, .reason = "trap"});
	wcommit(w);
	rbegin(r);
	zz = zget(r, "bl.example");
	assert_int_equal(look(r, &zz, "192.0.2.1", NOW, &e, m), 0);
	assert_int_equal(e.first_seen, 1000);
	assert_int_equal(e.last_seen, 3000);
	assert_int_equal(e.hits, 5);
	assert_int_equal(e.flags, STORE_F_A | STORE_F_NOTXT);
	assert_int_equal(e.a, A127(9));
	assert_int_equal(e.expires, 0);
	assert_int_equal(e.txt_len, 0);
	assert_int_equal(e.reason_len, 4);
	assert_memory_equal(e.reason, "trap", 4);
	assert_int_equal(store_zone_count(r, &zz), 1);
	store_reader_end(r);
	store_reader_free(r);
}

/* "An existing one takes the earlier first seen": a later merge whose seen time is
 * earlier than the stored first seen moves first seen back (a feed delivering an old
 * hit late), and never moves last seen back. */
static void test_merge_earliest_first_seen(void **state)
{
	(void)state;
	struct store_writer *w = wbegin();
	struct store_zone *z = wzone(w, "bl.example");
	merge_ok(w, z, "192.0.2.1/32", &(struct putspec){.seen = 1000, .hits = 1});
	wcommit(w);
	w = wbegin();
	z = wzone(w, "bl.example");
	merge_ok(w, z, "192.0.2.1/32", &(struct putspec){.seen = 500, .hits = 1});
	wcommit(w);

	struct store_reader *r = rnew();
	rbegin(r);
	struct store_zone zz = zget(r, "bl.example");
	struct store_entry e;
	assert_int_equal(look(r, &zz, "192.0.2.1", NOW, &e, NULL), 0);
	uint32_t first = e.first_seen, last = e.last_seen, hits = e.hits;
	store_reader_end(r);
	store_reader_free(r);
	assert_int_equal(last, 1000);
	assert_int_equal(hits, 2);
	assert_int_equal(first, 500);
}

static void test_text_limits(void **state)
{
	(void)state;
	static char txt[STORE_TXT_MAX + 2], reason[STORE_REASON_MAX + 2];
	memset(txt, 't', sizeof(txt) - 1);
	memset(reason, 'r', sizeof(reason) - 1);

	struct store_writer *w = wbegin();
	struct store_zone *z = wzone(w, "bl.example");
	struct entry_key p = PFX("192.0.2.1");
	struct store_put put;
	memset(&put, 0, sizeof(put));
	put.flags = STORE_F_TXT;
	put.seen = NOW;
	put.hits = 1;
	put.txt = txt;
	put.txt_len = STORE_TXT_MAX + 1;
	assert_int_equal(store_merge(w, z, &p, &put, NULL), DNSBL_ERANGE);
	put.txt_len = STORE_TXT_MAX;
	put.reason = reason;
	put.reason_len = STORE_REASON_MAX + 1;
	assert_int_equal(store_merge(w, z, &p, &put, NULL), DNSBL_ERANGE);
	put.reason_len = STORE_REASON_MAX;
	assert_int_equal(store_merge(w, z, &p, &put, NULL), 0);
	/* a prefix length or family out of range is invalid */
	struct entry_key bad = p;
	bad.len = 33;
	assert_int_equal(store_merge(w, z, &bad, &put, NULL), DNSBL_EINVAL);
	bad = p;
	bad.family = 5;
	assert_int_equal(store_merge(w, z, &bad, &put, NULL), DNSBL_EINVAL);
	wcommit(w);

	struct store_reader *r = rnew();
	rbegin(r);
	struct store_zone zz = zget(r, "bl.example");
	struct store_entry e;
	assert_int_equal(look(r, &zz, "192.0.2.1", NOW, &e, NULL), 0);
	assert_int_equal(e.txt_len, STORE_TXT_MAX);
	assert_memory_equal(e.txt, txt, STORE_TXT_MAX);
	assert_int_equal(e.reason_len, STORE_REASON_MAX);
	assert_memory_equal(e.reason, reason, STORE_REASON_MAX);
	assert_int_equal(store_zone_count(r, &zz), 1);
	store_reader_end(r);
	store_reader_free(r);
}

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
	assert_int_equal(within1("1.2.3.0/24", t), 0);
	struct ent e = ent_get("1.2.3.4/32");
	assert_true(e.found);
	assert_true(e.flags & STORE_F_PENDING);

	put = fput(FEED, t + 50, &LIFE_THR);
	assert_int_equal(merge1("1.2.3.4/32", &put), STORE_PENDING);
	expect_unlisted("1.2.3.4", t + 50);
	assert_int_equal(within1("1.2.3.0/24", t + 50), 0);
	assert_int_equal(within1("1.2.3.4/32", t + 50), 0);
	e = ent_get("1.2.3.4/32");
	assert_true(e.flags & STORE_F_PENDING);
	assert_int_equal(e.hits, 2);
	/* pending entries are not in the history */
	assert_int_equal(count_of(ZONE, C_HISTORY), 0);

	put = fput(FEED, t + 90, &LIFE_THR);
	assert_int_equal(merge1("1.2.3.4/32", &put), STORE_CREATED);
	expect_listed("1.2.3.4", t + 90, "1.2.3.4/32");
	assert_int_equal(within1("1.2.3.0/24", t + 90), 1);
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
	assert_int_equal(look1("1.2.3.4", NOW, &le, m), 0);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_merge_semantics, setup, teardown),
		cmocka_unit_test_setup_teardown(test_merge_earliest_first_seen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_text_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expire_after, setup_zones, teardown),
		cmocka_unit_test_setup_teardown(test_expire_ttl, setup_zones, teardown),
		cmocka_unit_test_setup_teardown(test_expire_explicit, setup_zones, teardown),
		cmocka_unit_test_setup_teardown(test_stale_new_listing, setup_zones, teardown),
		cmocka_unit_test_setup_teardown(test_expired_entry_relisted_afresh, setup_zones,
						teardown),
		cmocka_unit_test_setup_teardown(test_threshold_window, setup_zones, teardown),
		cmocka_unit_test_setup_teardown(test_threshold_spread_stays_pending, setup_zones,
						teardown),
		cmocka_unit_test_setup_teardown(test_threshold_out_of_order, setup_zones, teardown),
		cmocka_unit_test_setup_teardown(test_threshold_hits_at_once, setup_zones, teardown),
		cmocka_unit_test_setup_teardown(test_threshold_exclusion_not_pending, setup_zones,
						teardown),
		cmocka_unit_test_setup_teardown(test_threshold_operator_not_pending, setup_zones,
						teardown),
		cmocka_unit_test_setup_teardown(test_manual_feed_hit, setup_zones, teardown),
		cmocka_unit_test_setup_teardown(test_merge_feed_rules, setup_zones, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
