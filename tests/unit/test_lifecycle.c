/* Unit tests for lib/lifecycle.h: the listing rules as a table, one row per rule,
 * each row an old entry (or none), a tombstone (or none), a put, the zone's rules
 * and the time, and what lifecycle_apply must decide. No store: the rules are pure.
 * (tests/unit/test_store_merge.c checks the same rules through store_merge.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "lifecycle.h"
#include "store.h"

#define NOW 1700000000u
#define DAY 86400u
#define A127(x) (0x7f000000u | (x))

/* The zone rules the rows use. */
static const struct store_lifecycle l_expire = { 7 * DAY, 1, 0, 0 };
static const struct store_lifecycle l_threshold = { 7 * DAY, 3, 3600, 0 };
static const struct store_lifecycle l_narrow = { 7 * DAY, 3, 1000, 0 };
static const struct store_lifecycle l_relist = { 7 * DAY, 1, 0, DAY };

struct old_entry {
	bool present;
	uint8_t flags;
	uint32_t a, first, last, hits, expires;
	const char *reason;
	uint8_t nrecent;
	uint32_t recent[3];
};

struct want {
	bool write;
	int outcome, event;
	bool expired_old, drop_tomb;
	uint8_t flags;
	uint32_t a, first, last, hits, expires;
	const char *reason; /* NULL: none */
	uint8_t nrecent;
};

struct row {
	const char *rule;
	struct old_entry old;
	bool tomb;
	uint32_t tomb_time;
	struct store_put put; /* reason as a C string in put_reason */
	const char *put_reason;
	struct want want;
};

#define FEED .actor = STORE_ACTOR_SOURCE, .source_id = 2
#define OPERATOR .actor = STORE_ACTOR_OPERATOR, .source_id = 3

static const struct row rows[] = {
	{ "a new feed hit is listed at once without rules; 0 hits count as 1",
	  .put = { FEED, .seen = NOW, .hits = 0 },
	  .want = { true, STORE_CREATED, STORE_EV_LIST, .first = NOW, .last = NOW, .hits = 1 } },
	{ "a new feed listing expires expire_after after its hit",
	  .put = { FEED, .seen = NOW, .life = &l_expire },
	  .want = { true, STORE_CREATED, STORE_EV_LIST, .first = NOW, .last = NOW, .hits = 1,
		    .expires = NOW + 7 * DAY } },
	{ "a ttl on the hit sets the expiry to seen + ttl",
	  .put = { FEED, .seen = NOW, .ttl = 3600, .life = &l_expire },
	  .want = { true, STORE_CREATED, STORE_EV_LIST, .first = NOW, .last = NOW, .hits = 1,
		    .expires = NOW + 3600 } },
	{ "an explicit expiry of 0 (expires_set) means never",
	  .put = { FEED, .seen = NOW, .expires_set = true, .life = &l_expire },
	  .want = { true, STORE_CREATED, STORE_EV_LIST, .first = NOW, .last = NOW, .hits = 1 } },
	{ "a new entry takes the put's earlier first seen",
	  .put = { FEED, .seen = NOW, .first_seen = NOW - DAY, .hits = 4 },
	  .want = { true, STORE_CREATED, STORE_EV_LIST, .first = NOW - DAY, .last = NOW,
		    .hits = 4 } },
	{ "the A value is taken only with STORE_F_A",
	  .put = { FEED, .seen = NOW, .a = A127(5) },
	  .want = { true, STORE_CREATED, STORE_EV_LIST, .first = NOW, .last = NOW, .hits = 1 } },
	{ "a feed hit below the list threshold starts pending for one window",
	  .put = { FEED, .seen = NOW, .life = &l_threshold },
	  .want = { true, STORE_PENDING, 0, .flags = STORE_F_PENDING, .first = NOW, .last = NOW,
		    .hits = 1, .expires = NOW + 3600, .nrecent = 1 } },
	{ "an exclusion never waits for the threshold",
	  .put = { FEED, .flags = STORE_F_EXCLUDE, .seen = NOW, .life = &l_threshold },
	  .want = { true, STORE_CREATED, STORE_EV_LIST, .flags = STORE_F_EXCLUDE, .first = NOW,
		    .last = NOW, .hits = 1, .expires = NOW + 7 * DAY } },
	{ "an operator's listing is listed at once, MANUAL, and never expires by rule",
	  .put = { OPERATOR, .flags = STORE_F_A, .a = A127(4), .seen = NOW, .life = &l_threshold },
	  .put_reason = "confirmed",
	  .want = { true, STORE_CREATED, STORE_EV_LIST, .flags = STORE_F_MANUAL | STORE_F_A,
		    .a = A127(4), .first = NOW, .last = NOW, .hits = 1, .reason = "confirmed" } },
	{ "a feed listing that would already have expired is stale",
	  .put = { FEED, .seen = NOW - 8 * DAY, .life = &l_expire },
	  .want = { false, STORE_STALE } },
	{ "a tombstone suppresses a feed hit at or before the delisting",
	  .tomb = true, .tomb_time = NOW - 100,
	  .put = { FEED, .seen = NOW - 200, .life = &l_expire },
	  .want = { false, STORE_SUPPRESSED } },
	{ "a tombstone suppresses a feed hit within relist_after",
	  .tomb = true, .tomb_time = NOW - 3600,
	  .put = { FEED, .seen = NOW, .life = &l_relist },
	  .want = { false, STORE_SUPPRESSED } },
	{ "a feed hit after relist_after relists and removes the tombstone",
	  .tomb = true, .tomb_time = NOW - 2 * DAY,
	  .put = { FEED, .seen = NOW, .life = &l_relist },
	  .want = { true, STORE_RELISTED, STORE_EV_RELIST, .drop_tomb = true, .first = NOW,
		    .last = NOW, .hits = 1, .expires = NOW + 7 * DAY } },
	{ "an operator's listing always removes the tombstone",
	  .tomb = true, .tomb_time = NOW - 100,
	  .put = { OPERATOR, .seen = NOW - 200, .life = &l_relist },
	  .want = { true, STORE_RELISTED, STORE_EV_RELIST, .drop_tomb = true,
		    .flags = STORE_F_MANUAL, .first = NOW - 200, .last = NOW - 200, .hits = 1 } },
	{ "a pending relisting removes the tombstone and records nothing yet",
	  .tomb = true, .tomb_time = NOW - 100,
	  .put = { FEED, .seen = NOW, .life = &l_threshold },
	  .want = { true, STORE_PENDING, 0, .drop_tomb = true, .flags = STORE_F_PENDING,
		    .first = NOW, .last = NOW, .hits = 1, .expires = NOW + 3600, .nrecent = 1 } },
	{ "a hit on a listed entry adds hits, keeps first seen, moves last seen and expiry",
	  .old = { true, 0, 0, NOW - DAY, NOW - DAY, 5, NOW + 6 * DAY, "trap" },
	  .put = { FEED, .seen = NOW, .hits = 2, .life = &l_expire },
	  .want = { true, STORE_UPDATED, 0, .first = NOW - DAY, .last = NOW, .hits = 7,
		    .expires = NOW + 7 * DAY, .reason = "trap" } },
	{ "a late old hit moves first seen back, not last seen, and no expiry shortens",
	  .old = { true, 0, 0, NOW - DAY, NOW - DAY, 1, NOW + 6 * DAY, "trap" },
	  .put = { FEED, .seen = NOW - 2 * DAY, .life = &l_expire },
	  .want = { true, STORE_UPDATED, 0, .first = NOW - 2 * DAY, .last = NOW - DAY,
		    .hits = 2, .expires = NOW + 6 * DAY, .reason = "trap" } },
	{ "hits saturate at 2^32 - 1",
	  .old = { true, 0, 0, NOW - DAY, NOW - DAY, UINT32_MAX - 1, 0, "trap" },
	  .put = { FEED, .seen = NOW, .hits = 5 },
	  .want = { true, STORE_UPDATED, 0, .first = NOW - DAY, .last = NOW, .hits = UINT32_MAX,
		    .reason = "trap" } },
	{ "a feed hit gives a reason when it has one",
	  .old = { true, 0, 0, NOW - DAY, NOW - DAY, 1, 0, "trap" },
	  .put = { FEED, .seen = NOW }, .put_reason = "spamtrap 2",
	  .want = { true, STORE_UPDATED, 0, .first = NOW - DAY, .last = NOW, .hits = 2,
		    .reason = "spamtrap 2" } },
	{ "a feed hit changes nothing of a MANUAL entry but hits and times",
	  .old = { true, STORE_F_MANUAL | STORE_F_A, A127(9), NOW - DAY, NOW - DAY, 1, 0, "manual" },
	  .put = { FEED, .flags = STORE_F_A | STORE_F_EXCLUDE, .a = A127(2), .seen = NOW,
		   .life = &l_expire },
	  .put_reason = "trap",
	  .want = { true, STORE_UPDATED, 0, .flags = STORE_F_MANUAL | STORE_F_A, .a = A127(9),
		    .first = NOW - DAY, .last = NOW, .hits = 2, .reason = "manual" } },
	{ "an operator's put on a feed listing makes it MANUAL (update event)",
	  .old = { true, 0, 0, NOW - DAY, NOW - DAY, 1, NOW + 6 * DAY, "trap" },
	  .put = { OPERATOR, .flags = STORE_F_A, .a = A127(4), .seen = NOW, .life = &l_expire },
	  .put_reason = "confirmed",
	  .want = { true, STORE_UPDATED, STORE_EV_UPDATE, .flags = STORE_F_MANUAL | STORE_F_A,
		    .a = A127(4), .first = NOW - DAY, .last = NOW, .hits = 2,
		    .reason = "confirmed" } },
	{ "an operator's put on a pending entry lists it at once",
	  .old = { true, STORE_F_PENDING, 0, NOW - 100, NOW - 100, 1, NOW + 3500, "", 1,
		   { NOW - 100 } },
	  .put = { OPERATOR, .seen = NOW, .life = &l_threshold },
	  .want = { true, STORE_CREATED, STORE_EV_LIST, .flags = STORE_F_MANUAL,
		    .first = NOW - 100, .last = NOW, .hits = 2, .reason = "" } },
	{ "a pending entry is listed when threshold hits fall within one window",
	  .old = { true, STORE_F_PENDING, 0, NOW - 100, NOW - 50, 2, NOW + 3550, "", 2,
		   { NOW - 100, NOW - 50 } },
	  .put = { FEED, .seen = NOW, .life = &l_threshold },
	  .want = { true, STORE_CREATED, STORE_EV_LIST, .first = NOW - 100, .last = NOW,
		    .hits = 3, .expires = NOW + 7 * DAY, .reason = "" } },
	{ "a pending entry below the threshold waits one window after its latest hit",
	  .old = { true, STORE_F_PENDING, 0, NOW - 100, NOW - 100, 1, NOW + 3500, "", 1,
		   { NOW - 100 } },
	  .put = { FEED, .seen = NOW, .life = &l_threshold },
	  .want = { true, STORE_PENDING, 0, .flags = STORE_F_PENDING, .first = NOW - 100,
		    .last = NOW, .hits = 2, .expires = NOW + 3600, .reason = "", .nrecent = 2 } },
	{ "hits spread wider than the window keep an entry pending",
	  .old = { true, STORE_F_PENDING, 0, NOW - 1500, NOW - 500, 2, NOW + 500, "", 2,
		   { NOW - 1500, NOW - 500 } },
	  .put = { FEED, .seen = NOW, .life = &l_narrow },
	  .want = { true, STORE_PENDING, 0, .flags = STORE_F_PENDING, .first = NOW - 1500,
		    .last = NOW, .hits = 3, .expires = NOW + 1000, .reason = "", .nrecent = 2 } },
	{ "an exclusion on a pending entry lists it at once",
	  .old = { true, STORE_F_PENDING, 0, NOW - 100, NOW - 100, 1, NOW + 3500, "", 1,
		   { NOW - 100 } },
	  .put = { FEED, .flags = STORE_F_EXCLUDE, .seen = NOW, .life = &l_threshold },
	  .want = { true, STORE_CREATED, STORE_EV_LIST, .flags = STORE_F_EXCLUDE,
		    .first = NOW - 100, .last = NOW, .hits = 2, .expires = NOW + 7 * DAY,
		    .reason = "" } },
	{ "a computed expiry never shortens a feed listing's",
	  .old = { true, 0, 0, NOW - DAY, NOW - DAY, 1, NOW + 30 * DAY, "trap" },
	  .put = { FEED, .seen = NOW, .life = &l_expire },
	  .want = { true, STORE_UPDATED, 0, .first = NOW - DAY, .last = NOW, .hits = 2,
		    .expires = NOW + 30 * DAY, .reason = "trap" } },
	{ "an explicit expiry is taken as it is, even a shorter one",
	  .old = { true, 0, 0, NOW - DAY, NOW - DAY, 1, NOW + 30 * DAY, "trap" },
	  .put = { FEED, .seen = NOW, .expires = NOW + DAY, .life = &l_expire },
	  .want = { true, STORE_UPDATED, 0, .first = NOW - DAY, .last = NOW, .hits = 2,
		    .expires = NOW + DAY, .reason = "trap" } },
	{ "an expired listing is recorded as expired and listed afresh",
	  .old = { true, STORE_F_A, A127(3), NOW - 9 * DAY, NOW - 8 * DAY, 4, NOW - 1, "old" },
	  .put = { FEED, .seen = NOW, .life = &l_expire },
	  .want = { true, STORE_CREATED, STORE_EV_LIST, .expired_old = true, .first = NOW,
		    .last = NOW, .hits = 1, .expires = NOW + 7 * DAY } },
	{ "an expired pending entry starts afresh without an expiry record",
	  .old = { true, STORE_F_PENDING, 0, NOW - 9000, NOW - 9000, 1, NOW - 1, "", 1,
		   { NOW - 9000 } },
	  .put = { FEED, .seen = NOW, .life = &l_expire },
	  .want = { true, STORE_CREATED, STORE_EV_LIST, .first = NOW, .last = NOW, .hits = 1,
		    .expires = NOW + 7 * DAY } },
};

/* The stored entry of a row, as store_entry_decode would give it. */
static void old_make(const struct old_entry *o, struct store_entry *e, uint8_t *recent)
{
	memset(e, 0, sizeof(*e));
	e->flags = o->flags;
	e->source_id = 1;
	e->a = o->a;
	e->first_seen = o->first;
	e->last_seen = o->last;
	e->hits = o->hits;
	e->expires = o->expires;
	e->reason = o->reason != NULL ? o->reason : "";
	e->reason_len = strlen(e->reason);
	e->nrecent = o->nrecent;
	memcpy(recent, o->recent, 4 * (size_t)o->nrecent);
	e->recent = o->nrecent > 0 ? recent : NULL; /* as store_entry_decode leaves it */
}

static void check_row(const struct row *r)
{
	struct store_entry old;
	uint8_t recent[4 * 3];
	struct store_tomb tomb = { .time = r->tomb_time, .actor_id = 3 };
	struct store_put put = r->put;
	struct lifecycle_result res;
	const struct want *w = &r->want;

	put.now = NOW;
	if (r->put_reason != NULL) {
		put.reason = r->put_reason;
		put.reason_len = strlen(r->put_reason);
	}
	if (r->old.present)
		old_make(&r->old, &old, recent);
	lifecycle_apply(r->old.present ? &old : NULL, r->tomb ? &tomb : NULL, &put, NOW, &res);
	print_message("rule: %s\n", r->rule);
	assert_int_equal(res.write, w->write);
	assert_int_equal(res.outcome, w->outcome);
	if (!w->write)
		return;
	assert_int_equal(res.event, w->event);
	assert_int_equal(res.expired_old, w->expired_old);
	assert_int_equal(res.drop_tomb, w->drop_tomb);
	assert_int_equal(res.entry.flags, w->flags);
	assert_int_equal(res.entry.a, w->a);
	assert_int_equal(res.entry.first_seen, w->first);
	assert_int_equal(res.entry.last_seen, w->last);
	assert_int_equal(res.entry.hits, w->hits);
	assert_int_equal(res.entry.expires, w->expires);
	assert_int_equal(res.entry.nrecent, w->nrecent);
	if (w->reason == NULL) {
		assert_int_equal(res.entry.reason_len, 0);
	} else {
		assert_int_equal(res.entry.reason_len, strlen(w->reason));
		assert_memory_equal(res.entry.reason, w->reason, res.entry.reason_len);
	}
	/* a feed hit keeps a MANUAL entry's source (the old entry's is 1) */
	bool keeps = r->old.present && (r->old.flags & STORE_F_MANUAL) &&
		     put.actor != STORE_ACTOR_OPERATOR;
	assert_int_equal(res.entry.source_id, keeps ? 1 : put.source_id);
}

static void test_rules(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		check_row(&rows[i]);
}

/* The recent hit times of a pending entry: the newest threshold-1, sorted, and
 * the entry's pointer is into the result (so the caller may drop its old copy). */
static void test_recent_times(void **state)
{
	struct store_put put = { FEED, .seen = NOW, .life = &l_threshold, .now = NOW };
	struct old_entry o = { true, STORE_F_PENDING, 0, NOW - 300, NOW - 200, 1, NOW + 3400, "", 1,
			       { NOW - 200 } };
	struct store_entry old;
	uint8_t recent[12];
	struct lifecycle_result res;
	uint32_t t[2];

	(void)state;
	old_make(&o, &old, recent);
	put.seen = NOW - 250; /* between: sorted in */
	lifecycle_apply(&old, NULL, &put, NOW, &res);
	assert_int_equal(res.outcome, STORE_PENDING);
	assert_int_equal(res.entry.nrecent, 2);
	assert_ptr_equal(res.entry.recent, (const uint8_t *)res.recent);
	memcpy(t, res.entry.recent, sizeof(t));
	assert_int_equal(t[0], NOW - 250);
	assert_int_equal(t[1], NOW - 200);
	assert_int_equal(res.entry.expires, NOW - 200 + 3600);
}

/* A tombstone is read only for a new listing. */
static void test_starts_new(void **state)
{
	struct store_entry e = { .expires = NOW };

	(void)state;
	assert_true(lifecycle_starts_new(NULL, NOW));
	assert_true(lifecycle_starts_new(&e, NOW));
	assert_false(lifecycle_starts_new(&e, NOW - 1));
	e.expires = 0;
	assert_false(lifecycle_starts_new(&e, NOW));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rules),
		cmocka_unit_test(test_recent_times),
		cmocka_unit_test(test_starts_new),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
