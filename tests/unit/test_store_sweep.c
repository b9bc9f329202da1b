/* Unit tests for lib/store/sweep.c: the replacement of a source's entries
 * (store_replace_begin/finish: what is kept, removed, aborted, the history's remove
 * records) and the expiry sweep (store_expire: expired and pending entries, batches,
 * serials, an unknown zone, history pruning). A fresh LMDB store per test; the
 * lifecycle tests start with the zones and sources of lifetest.h. */
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
	return storetest_open("/tmp/dnsbl-test-store-sweep-XXXXXX") < 0 ? -1 : 0;
}

/* A store with ZONE, ZONE2 and the sources FEED, FEED2 and OPER (lifetest.h). */
static int setup_zones(void **state)
{
	(void)state;
	return lifetest_open("/tmp/dnsbl-test-store-sweep-XXXXXX") < 0 ? -1 : 0;
}

static int teardown(void **state)
{
	(void)state;
	return storetest_close();
}

/* --- replacement --- */

static void test_replace(void **state)
{
	(void)state;
	struct store_writer *w = wbegin();
	struct store_zone *z = wzone(w, "bl.example");
	struct store_zone *other = wzone(w, "other.example");
	uint16_t A = wsource(w, "feed-a"), B = wsource(w, "feed-b");
	merge_ok(w, z, "1.1.1.1/32", &(struct putspec){.source = A, .hits = 1});
	merge_ok(w, z, "1.1.1.2/32", &(struct putspec){.source = A, .hits = 1});
	merge_ok(w, z, "1.1.1.3/32", &(struct putspec){.source = A, .hits = 1});
	merge_ok(w, z, "1.1.1.4/32", &(struct putspec){.source = B, .hits = 1});
	merge_ok(w, other, "1.1.1.1/32", &(struct putspec){.source = A, .hits = 1});
	wcommit(w);
	uint32_t serial = serial_of("bl.example"), oserial = serial_of("other.example");

	w = wbegin();
	z = wzone(w, "bl.example");
	assert_int_equal(store_replace_begin(w, z, A), 0);
	merge_ok(w, z, "1.1.1.2/32", &(struct putspec){.source = A, .hits = 1});
	merge_ok(w, z, "1.1.1.5/32", &(struct putspec){.source = A, .hits = 1});
	uint64_t removed = 999;
	assert_int_equal(store_replace_finish(w, &removed), 0);
	assert_int_equal(removed, 2);
	wcommit(w);

	struct store_reader *r = rnew();
	struct seen_list s;
	memset(&s, 0, sizeof(s));
	collect(r, "bl.example", &s);
	assert_int_equal(s.n, 3);
	assert_string_equal(s.p[0], "1.1.1.2/32");
	assert_int_equal(s.src[0], A);
	assert_string_equal(s.p[1], "1.1.1.4/32");
	assert_int_equal(s.src[1], B);
	assert_string_equal(s.p[2], "1.1.1.5/32");
	assert_int_equal(s.src[2], A);
	/* the other zone's entry of the same source is untouched */
	memset(&s, 0, sizeof(s));
	collect(r, "other.example", &s);
	assert_int_equal(s.n, 1);
	assert_int_equal(serial_of("bl.example"), serial + 1);
	assert_int_equal(serial_of("other.example"), oserial);

	/* a replacement with nothing merged removes every entry of the source */
	w = wbegin();
	z = wzone(w, "bl.example");
	assert_int_equal(store_replace_begin(w, z, A), 0);
	assert_int_equal(store_replace_finish(w, NULL), 0);
	wcommit(w);
	memset(&s, 0, sizeof(s));
	collect(r, "bl.example", &s);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.p[0], "1.1.1.4/32");

	/* an aborted replacement removes nothing */
	w = wbegin();
	z = wzone(w, "bl.example");
	assert_int_equal(store_replace_begin(w, z, B), 0);
	removed = 0;
	assert_int_equal(store_replace_finish(w, &removed), 0);
	assert_int_equal(removed, 1);
	store_writer_abort(w);
	memset(&s, 0, sizeof(s));
	collect(r, "bl.example", &s);
	assert_int_equal(s.n, 1);
	store_reader_free(r);
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
		cmocka_unit_test_setup_teardown(test_replace, setup, teardown),
		cmocka_unit_test_setup_teardown(test_history_replace_remove, setup_zones, teardown),
		cmocka_unit_test_setup_teardown(test_expire_sweep, setup_zones, teardown),
		cmocka_unit_test_setup_teardown(test_expire_batches, setup_zones, teardown),
		cmocka_unit_test_setup_teardown(test_expire_unknown_zone, setup_zones, teardown),
		cmocka_unit_test_setup_teardown(test_expire_history_prune, setup_zones, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
