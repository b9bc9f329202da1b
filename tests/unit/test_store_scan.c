/* Unit tests for lib/store/scan.c: store_foreach (key order, zones kept apart, the
 * callback stopping the walk), store_zone_count, and store_history_scan (every zone,
 * one zone, one exact prefix, since, the callback stopping the scan) with the
 * history counts. A fresh LMDB store per test; the history test starts with the
 * zones and sources of lifetest.h. */
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
	return storetest_open("/tmp/dnsbl-test-store-scan-XXXXXX") < 0 ? -1 : 0;
}

/* A store with ZONE, ZONE2 and the sources FEED, FEED2 and OPER (lifetest.h). */
static int setup_zones(void **state)
{
	(void)state;
	return lifetest_open("/tmp/dnsbl-test-store-scan-XXXXXX") < 0 ? -1 : 0;
}

static int teardown(void **state)
{
	(void)state;
	return storetest_close();
}

/* --- walks and counts --- */

static void test_foreach_order_count(void **state)
{
	(void)state;
	static const char *const insert[] = {
		"10.0.0.0/8",   "9.0.0.0/8",   "10.1.2.3/32", "10.1.2.0/24", "1.2.3.4/32",
		"0.0.0.0/0",    "200.0.0.0/8", "10.1.3.0/24", "128.0.0.0/1", "255.255.255.255/32",
	};
	static const char *const want[] = {
		"0.0.0.0/0",   "128.0.0.0/1", "9.0.0.0/8",   "10.0.0.0/8",  "200.0.0.0/8",
		"10.1.2.0/24", "10.1.3.0/24", "1.2.3.4/32",  "10.1.2.3/32", "255.255.255.255/32",
	};
	struct store_writer *w = wbegin();
	struct store_zone *z = wzone(w, "bl.example");
	struct store_zone *o = wzone(w, "aaa.example");
	for (size_t i = 0; i < sizeof(insert) / sizeof(insert[0]); i++)
		merge_ok(w, z, insert[i], &(struct putspec){.hits = 1});
	merge_ok(w, o, "5.5.5.5/32", &(struct putspec){.hits = 1});
	wcommit(w);

	struct store_reader *r = rnew();
	struct seen_list s;
	memset(&s, 0, sizeof(s));
	collect(r, "bl.example", &s);
	assert_int_equal(s.n, 10);
	for (int i = 0; i < 10; i++)
		if (strcmp(s.p[i], want[i]) != 0)
			fail_msg("foreach entry %d is %s, want %s", i, s.p[i], want[i]);

	/* fn's non-zero result stops the walk */
	memset(&s, 0, sizeof(s));
	s.stop_at = 3;
	collect(r, "bl.example", &s);
	assert_int_equal(s.n, 3);

	rbegin(r);
	struct store_zone zz = zget(r, "bl.example"), oo = zget(r, "aaa.example");
	assert_int_equal(store_zone_count(r, &zz), 10);
	assert_int_equal(store_zone_count(r, &oo), 1);
	store_reader_end(r);

	/* zones are separate: the other zone's entry does not answer here */
	rbegin(r);
	zz = zget(r, "bl.example");
	oo = zget(r, "aaa.example");
	expect_match(r, &oo, "5.5.5.5", NOW, "5.5.5.5/32", 0);
	expect_match(r, &zz, "5.5.5.5", NOW, "0.0.0.0/0", 0);
	store_reader_end(r);
	store_reader_free(r);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_foreach_order_count, setup, teardown),
		cmocka_unit_test_setup_teardown(test_history_scan, setup_zones, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
