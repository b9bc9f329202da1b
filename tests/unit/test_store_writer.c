/* Unit tests for lib/store/writer.c: write transactions (zones, sources, serials,
 * abort), store_delete, and store_delist with the tombstones it leaves (read inside
 * the writer and with a reader, suppressing older feed hits, relist_after, an
 * operator relisting). A fresh LMDB store per test; the delisting tests start with
 * the zones and sources of lifetest.h. */
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
	return storetest_open("/tmp/dnsbl-test-store-writer-XXXXXX") < 0 ? -1 : 0;
}

/* A store with ZONE, ZONE2 and the sources FEED, FEED2 and OPER (lifetest.h). */
static int setup_zones(void **state)
{
	(void)state;
	return lifetest_open("/tmp/dnsbl-test-store-writer-XXXXXX") < 0 ? -1 : 0;
}

static int teardown(void **state)
{
	(void)state;
	return storetest_close();
}

/* --- zones, sources, serials, delete, abort --- */

static void test_zone_create_get(void **state)
{
	(void)state;
	struct store_writer *w = wbegin();
	struct store_zone *z = wzone(w, "bl.example");
	uint16_t id1 = z->id;
	struct store_zone *z2 = wzone(w, "pbl.example");
	assert_int_not_equal(z2->id, id1);
	uint16_t id2 = z2->id;
	/* the same zone again: the same id */
	z = wzone(w, "bl.example");
	assert_int_equal(z->id, id1);
	/* a bad name */
	struct store_zone *zz = NULL;
	assert_int_equal(store_writer_zone(w, "", &zz), DNSBL_EINVAL);
	wcommit(w);

	struct store_reader *r = rnew();
	rbegin(r);
	struct store_zone g1 = zget(r, "bl.example"), g2 = zget(r, "pbl.example");
	assert_int_equal(g1.id, id1);
	assert_int_equal(g2.id, id2);
	struct store_zone none;
	assert_int_equal(store_zone_get(r, "nope.example", &none), DNSBL_ENOTFOUND);
	assert_int_equal(store_zone_count(r, &g1), 0);
	store_reader_end(r);

	/* a later transaction finds the same ids */
	w = wbegin();
	assert_int_equal(wzone(w, "pbl.example")->id, id2);
	assert_int_equal(wzone(w, "bl.example")->id, id1);
	store_writer_abort(w);
	store_reader_free(r);
}

static void test_serial(void **state)
{
	(void)state;
	struct store_writer *w = wbegin();
	struct store_zone *a = wzone(w, "a.example");
	struct store_zone *b = wzone(w, "b.example");
	merge_ok(w, a, "10.0.0.1/32", &(struct putspec){.hits = 1});
	merge_ok(w, b, "10.0.0.1/32", &(struct putspec){.hits = 1});
	wcommit(w);
	uint32_t sa = serial_of("a.example"), sb = serial_of("b.example");

	/* many changes in one transaction: +1 */
	w = wbegin();
	a = wzone(w, "a.example");
	for (int i = 0; i < 100; i++) {
		char p[32];
		snprintf(p, sizeof(p), "10.1.0.%d/32", i);
		merge_ok(w, a, p, &(struct putspec){.hits = 1});
	}
	wcommit(w);
	assert_int_equal(serial_of("a.example"), sa + 1);
	assert_int_equal(serial_of("b.example"), sb);

	/* a transaction that changes only b */
	w = wbegin();
	a = wzone(w, "a.example"); /* looked up, not changed */
	b = wzone(w, "b.example");
	merge_ok(w, b, "10.0.0.2/32", &(struct putspec){.hits = 1});
	wcommit(w);
	assert_int_equal(serial_of("a.example"), sa + 1);
	assert_int_equal(serial_of("b.example"), sb + 1);

	/* a delete is a change */
	w = wbegin();
	b = wzone(w, "b.example");
	del_ok(w, b, "10.0.0.2/32");
	wcommit(w);
	assert_int_equal(serial_of("b.example"), sb + 2);

	/* a transaction without changes, and an aborted one: no bump */
	w = wbegin();
	wzone(w, "a.example");
	wzone(w, "b.example");
	wcommit(w);
	w = wbegin();
	a = wzone(w, "a.example");
	merge_ok(w, a, "10.9.9.9/32", &(struct putspec){.hits = 1});
	store_writer_abort(w);
	assert_int_equal(serial_of("a.example"), sa + 1);
	assert_int_equal(serial_of("b.example"), sb + 2);

	/* a failed delete (not found) changes nothing */
	w = wbegin();
	a = wzone(w, "a.example");
	struct entry_key p = PFX("10.99.0.0/16");
	assert_int_equal(store_delete(w, a, &p), DNSBL_ENOTFOUND);
	wcommit(w);
	assert_int_equal(serial_of("a.example"), sa + 1);

	/* the serial seen inside the writer is not what the next reader sees twice:
	 * two more committing transactions, two more */
	for (int i = 0; i < 2; i++) {
		w = wbegin();
		a = wzone(w, "a.example");
		merge_ok(w, a, "10.0.0.1/32", &(struct putspec){.hits = 1});
		wcommit(w);
	}
	assert_int_equal(serial_of("a.example"), sa + 3);
}

static void test_sources(void **state)
{
	(void)state;
	struct store_writer *w = wbegin();
	uint16_t a = wsource(w, "alpha"), b = wsource(w, "beta");
	assert_int_not_equal(a, b);
	assert_int_equal(wsource(w, "alpha"), a);
	uint16_t id;
	assert_int_equal(store_writer_source(w, "", &id), DNSBL_EINVAL);
	char n64[66];
	memset(n64, 's', 64);
	n64[64] = 0;
	uint16_t c = wsource(w, n64);
	n64[64] = 's';
	n64[65] = 0;
	assert_int_equal(store_writer_source(w, n64, &id), DNSBL_EINVAL);
	wcommit(w);

	w = wbegin();
	assert_int_equal(wsource(w, "beta"), b);
	store_writer_abort(w);

	struct store_reader *r = rnew();
	rbegin(r);
	char buf[80];
	assert_int_equal(store_source_name(r, a, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "alpha");
	assert_int_equal(store_source_name(r, b, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "beta");
	assert_int_equal(store_source_name(r, c, buf, sizeof(buf)), 0);
	assert_int_equal(strlen(buf), 64);
	assert_int_equal(store_source_name(r, a, buf, 5), DNSBL_ENOSPC);
	assert_int_equal(store_source_name(r, a, buf, 6), 0);
	assert_string_equal(buf, "alpha");
	uint16_t unknown = (uint16_t)(a + b + c + 100);
	assert_int_equal(store_source_name(r, unknown, buf, sizeof(buf)), DNSBL_ENOTFOUND);
	store_reader_end(r);
	store_reader_free(r);
}

static void test_delete(void **state)
{
	(void)state;
	struct store_writer *w = wbegin();
	struct store_zone *z = wzone(w, "bl.example");
	merge_ok(w, z, "10.0.0.0/8", &(struct putspec){.flags = STORE_F_A, .a = A127(2), .hits = 1});
	merge_ok(w, z, "10.1.2.3/32", &(struct putspec){.flags = STORE_F_A, .a = A127(4), .hits = 1});
	wcommit(w);

	w = wbegin();
	z = wzone(w, "bl.example");
	del_ok(w, z, "10.1.2.3/32");
	struct entry_key p = PFX("10.1.2.3");
	assert_int_equal(store_delete(w, z, &p), DNSBL_ENOTFOUND); /* already gone */
	p = PFX("10.1.0.0/16");
	assert_int_equal(store_delete(w, z, &p), DNSBL_ENOTFOUND); /* exact prefix only */
	p = PFX("10.0.0.0/9");
	assert_int_equal(store_delete(w, z, &p), DNSBL_ENOTFOUND);
	wcommit(w);

	struct store_reader *r = rnew();
	rbegin(r);
	struct store_zone zz = zget(r, "bl.example");
	expect_match(r, &zz, "10.1.2.3", NOW, "10.0.0.0/8", A127(2));
	assert_int_equal(store_zone_count(r, &zz), 1);
	store_reader_end(r);

	w = wbegin();
	z = wzone(w, "bl.example");
	del_ok(w, z, "10.0.0.0/8");
	wcommit(w);
	rbegin(r);
	zz = zget(r, "bl.example");
	expect_nomatch(r, &zz, "10.1.2.3", NOW);
	assert_int_equal(store_zone_count(r, &zz), 0);
	store_reader_end(r);
	store_reader_free(r);
}

static void test_abort(void **state)
{
	(void)state;
	struct store_writer *w = wbegin();
	struct store_zone *z = wzone(w, "bl.example");
	merge_ok(w, z, "10.0.0.0/8", &(struct putspec){.hits = 1});
	wcommit(w);
	uint32_t serial = serial_of("bl.example");

	w = wbegin();
	z = wzone(w, "bl.example");
	merge_ok(w, z, "192.0.2.0/24", &(struct putspec){.hits = 1});
	del_ok(w, z, "10.0.0.0/8");
	struct store_zone *nz = wzone(w, "new.example");
	merge_ok(w, nz, "192.0.2.1/32", &(struct putspec){.hits = 1});
	wsource(w, "never");
	store_writer_abort(w);

	struct store_reader *r = rnew();
	rbegin(r);
	struct store_zone zz = zget(r, "bl.example");
	assert_int_equal(zz.serial, serial);
	expect_match(r, &zz, "10.1.1.1", NOW, "10.0.0.0/8", 0);
	expect_nomatch(r, &zz, "192.0.2.1", NOW);
	assert_int_equal(store_zone_count(r, &zz), 1);
	struct store_zone none;
	assert_int_equal(store_zone_get(r, "new.example", &none), DNSBL_ENOTFOUND);
	store_reader_end(r);
	store_reader_free(r);
}

/* --- delistings and tombstones --- */

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_zone_create_get, setup, teardown),
		cmocka_unit_test_setup_teardown(test_serial, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sources, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_abort, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delist, setup_zones, teardown),
		cmocka_unit_test_setup_teardown(test_delist_absent, setup_zones, teardown),
		cmocka_unit_test_setup_teardown(test_tomb_suppresses_older_hits, setup_zones,
						teardown),
		cmocka_unit_test_setup_teardown(test_tomb_relist_after, setup_zones, teardown),
		cmocka_unit_test_setup_teardown(test_tomb_operator_relists, setup_zones, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
