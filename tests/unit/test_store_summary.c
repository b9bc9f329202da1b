/* Unit tests for lib/store/summary_write.c: the IPv4 summary a writer keeps, checked
 * against the model of summarytest.h with a reader (which consults the summary) and
 * a writer (which does not) and in the raw summary database: deleting every entry
 * (no chunk left, over-claimed /27 bits repaired), replacing a source's entries
 * (sweep.c), and the expiry sweep. A fresh LMDB store per test. */
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
#include <unistd.h>

#include <cmocka.h>

#include "addr.h"
#include "err.h"
#include "store.h"
#include "storetest.h"
#include "summary.h"
#include "summarytest.h"

static int setup(void **state)
{
	(void)state;
	return storetest_open("/tmp/dnsbl-test-store-summary-XXXXXX") < 0 ? -1 : 0;
}

static int teardown(void **state)
{
	(void)state;
	return storetest_close();
}

static struct model MA, MB; /* the models of the two zones a test uses */

/* --- deleting everything; repairing over-claims --- */

static void test_delete_everything(void **state)
{
	(void)state;
	static const unsigned lens[] = { 16, 20, 23, 24, 25, 26, 27, 28, 30, 31, 32 };
	rng_seed(777);
	memset(&MA, 0, sizeof(MA));
	memset(&MB, 0, sizeof(MB));
	MA.zone = "bl.example";
	MB.zone = "keep.example";
	struct store_writer *w = wbegin();
	struct store_zone *z = wzone(w, MA.zone), *zk = wzone(w, MB.zone);
	for (int i = 0; i < 300; i++) {
		uint32_t addr = i % 5 == 0 ? 0x0c000000u | (rnd() & 0xffffff) : entry_addr();
		plain_merge(w, z, &MA, addr, lens[rnd() % 11], A127((uint32_t)i));
	}
	/* the other zone has entries in the same /24s and /8s */
	plain_merge(w, zk, &MB, IP(10, 1, 2, 77), 32, A127(1));
	plain_merge(w, zk, &MB, IP(12, 0, 0, 0), 16, A127(2));
	wcommit(w);
	uint16_t zid = zone_id(MA.zone), kid = zone_id(MB.zone);
	const struct rawsum *rs = summary_of(zid, 0);
	assert_true(rs->db);
	assert_false(rs->malformed);
	assert_true(rs->zone_keys >= 3);
	assert_true(rs->chunk[10] && rs->chunk[12]);
	struct model *ms[2] = { &MA, &MB };
	check_random_and_edges(ms, 2, 5000);

	/* delete every entry of bl.example */
	w = wbegin();
	z = wzone(w, MA.zone);
	for (int i = 0; i < MA.n; i++)
		if (MA.e[i].present)
			model_delete(w, z, &MA, i);
	wcommit(w);
	rs = summary_of(zid, 0);
	if (rs->zone_keys != 0) {
		for (unsigned c = 0; c < SUMMARY_CHUNKS; c++)
			if (rs->chunk[c])
				print_message("chunk %u of zone %u left\n", c, zid);
		fail_msg("after deleting every entry (all /16 or longer), the summary keeps %zu "
			 "chunk(s) of the zone",
			 rs->zone_keys);
	}
	/* the other zone's are untouched */
	rs = summary_of(kid, IP(10, 1, 2, 77) >> 8);
	assert_true(rs->chunk[10] && rs->chunk[12]);
	assert_true(rs->word_found);
	assert_int_equal(rs->word, 1u << (77 >> 5));
	check_random_and_edges(ms, 2, 5000);
	{
		struct store_reader *r = rnew();
		rbegin(r);
		struct store_zone zz = zget(r, MA.zone);
		assert_int_equal(store_zone_count(r, &zz), 0);
		store_reader_end(r);
		store_reader_free(r);
	}

	/* over-claims are repaired: two /32s in one /27, one in another */
	w = wbegin();
	z = wzone(w, MA.zone);
	plain_merge(w, z, &MA, IP(10, 1, 2, 3), 32, A127(3));
	plain_merge(w, z, &MA, IP(10, 1, 2, 5), 32, A127(5));
	plain_merge(w, z, &MA, IP(10, 1, 2, 200), 32, A127(200));
	plain_merge(w, z, &MA, IP(10, 1, 3, 0), 24, A127(24));
	wcommit(w);
	rs = summary_of(zid, IP(10, 1, 2, 0) >> 8);
	assert_true(rs->word_found);
	assert_int_equal(rs->word, 0x0041);
	rs = summary_of(zid, IP(10, 1, 3, 0) >> 8);
	assert_int_equal(rs->word, 25 << 8);

	w = wbegin();
	z = wzone(w, MA.zone);
	model_delete(w, z, &MA, model_find(&MA, IP(10, 1, 2, 3), 32));
	wcommit(w);
	rs = summary_of(zid, IP(10, 1, 2, 0) >> 8);
	assert_int_equal(rs->word, 0x0041); /* .5 is still in the first /27 */
	check_random_and_edges(ms, 2, 2000);

	w = wbegin();
	z = wzone(w, MA.zone);
	model_delete(w, z, &MA, model_find(&MA, IP(10, 1, 2, 200), 32));
	model_delete(w, z, &MA, model_find(&MA, IP(10, 1, 3, 0), 24));
	wcommit(w);
	rs = summary_of(zid, IP(10, 1, 2, 0) >> 8);
	if (rs->word != 0x0001)
		fail_msg("word of 10.1.2.0/24 after deleting 10.1.2.200/32: %#x, want 0x0001 "
			 "(recomputed)",
			 rs->word);
	rs = summary_of(zid, IP(10, 1, 3, 0) >> 8);
	assert_int_equal(rs->word, 0);
	check_random_and_edges(ms, 2, 2000);

	/* entries shorter than /16 may leave their marks, but lookups stay right */
	w = wbegin();
	z = wzone(w, MA.zone);
	plain_merge(w, z, &MA, IP(13, 0, 0, 0), 8, A127(8));
	plain_merge(w, z, &MA, IP(14, 16, 0, 0), 12, A127(12));
	plain_merge(w, z, &MA, IP(14, 17, 1, 1), 32, A127(32));
	wcommit(w);
	check_random_and_edges(ms, 2, 2000);
	w = wbegin();
	z = wzone(w, MA.zone);
	for (int i = 0; i < MA.n; i++)
		if (MA.e[i].present)
			model_delete(w, z, &MA, i);
	wcommit(w);
	check_random_and_edges(ms, 2, 2000);
	static const struct query q[] = {
		{ 0, IP(13, 1, 2, 3), NOW },   { 0, IP(14, 17, 1, 1), NOW },
		{ 0, IP(14, 16, 0, 0), NOW },  { 0, IP(10, 1, 2, 5), NOW },
		{ 0, IP(14, 31, 255, 255), NOW },
	};
	check_queries(ms, 2, q, 5);
	rs = summary_of(zid, IP(14, 17, 1, 1) >> 8);
	/* the /32's bit is gone (its /24 was recomputed); the /12's cover may stay */
	assert_int_equal(rs->word & 0xff, 0);
}

/* --- replace --- */

static void src_merge(struct store_writer *w, struct store_zone *z, struct model *m,
		      uint32_t addr, unsigned len, uint16_t src, uint32_t a)
{
	struct store_put put;
	put_init(&put, NOW - 100);
	put.flags = STORE_F_A;
	put.a = a;
	put.source_id = src;
	model_merge(w, z, m, addr, len, &put);
}

static uint16_t SRC_OF[MAXE]; /* the source of MA's entries */

static void test_replace(void **state)
{
	(void)state;
	rng_seed(4242);
	memset(&MA, 0, sizeof(MA));
	memset(&MB, 0, sizeof(MB));
	MA.zone = "bl.example";
	MB.zone = "other.example";
	uint16_t A, B;
	struct store_writer *w = wbegin();
	struct store_zone *z = wzone(w, MA.zone), *zo = wzone(w, MB.zone);
	assert_int_equal(store_writer_source(w, "feed-a", &A), 0);
	assert_int_equal(store_writer_source(w, "feed-b", &B), 0);
	/* A: random in 10/8 plus 11/8; B: random in 10/8 plus 12/8 */
	for (int i = 0; i < 120; i++) {
		uint32_t addr = entry_addr();
		unsigned len = LENS[rnd() % NLENS];
		if (model_find(&MA, addr, len) >= 0)
			continue;
		uint16_t s = i % 3 == 0 ? B : A;
		src_merge(w, z, &MA, addr, len, s, A127((uint32_t)i));
		SRC_OF[model_find(&MA, addr, len)] = s;
	}
	src_merge(w, z, &MA, IP(11, 5, 0, 0), 16, A, A127(1105));
	SRC_OF[model_find(&MA, IP(11, 5, 0, 0), 16)] = A;
	src_merge(w, z, &MA, IP(11, 6, 7, 8), 32, A, A127(1106));
	SRC_OF[model_find(&MA, IP(11, 6, 7, 8), 32)] = A;
	src_merge(w, z, &MA, IP(12, 0, 0, 0), 24, B, A127(1200));
	SRC_OF[model_find(&MA, IP(12, 0, 0, 0), 24)] = B;
	/* the other zone has a chunk 11 too */
	src_merge(w, zo, &MB, IP(11, 6, 7, 9), 32, A, A127(7));
	wcommit(w);
	uint16_t zid = zone_id(MA.zone), oid = zone_id(MB.zone);
	const struct rawsum *rs = summary_of(zid, 0);
	assert_true(rs->chunk[10] && rs->chunk[11] && rs->chunk[12]);
	struct model *ms[2] = { &MA, &MB };
	check_random_and_edges(ms, 2, 4000);

	/* replace A: keep about half of its entries, add some in 13/8 */
	w = wbegin();
	z = wzone(w, MA.zone);
	assert_int_equal(store_replace_begin(w, z, A), 0);
	uint64_t want_removed = 0;
	int n0 = MA.n;
	for (int i = 0; i < n0; i++) {
		if (!MA.e[i].present || SRC_OF[i] != A)
			continue;
		if (MA.e[i].addr >> 24 != 11 && rnd() % 2 == 0) {
			src_merge(w, z, &MA, MA.e[i].addr, MA.e[i].len, A, MA.e[i].a);
		} else {
			MA.e[i].present = false; /* to be removed by the finish */
			want_removed++;
		}
	}
	src_merge(w, z, &MA, IP(13, 1, 2, 3), 32, A, A127(1301));
	SRC_OF[model_find(&MA, IP(13, 1, 2, 3), 32)] = A;
	src_merge(w, z, &MA, IP(13, 9, 0, 0), 16, A, A127(1309));
	SRC_OF[model_find(&MA, IP(13, 9, 0, 0), 16)] = A;
	uint64_t removed = 0;
	assert_int_equal(store_replace_finish(w, &removed), 0);
	assert_int_equal(removed, want_removed);
	wcommit(w);
	check_random_and_edges(ms, 2, 4000);
	static const struct query q1[] = {
		{ 0, IP(11, 5, 1, 1), NOW }, { 0, IP(11, 6, 7, 8), NOW }, { 1, IP(11, 6, 7, 9), NOW },
		{ 0, IP(13, 1, 2, 3), NOW }, { 0, IP(13, 9, 3, 4), NOW }, { 0, IP(12, 0, 0, 9), NOW },
	};
	check_queries(ms, 2, q1, 6);
	rs = summary_of(zid, 0);
	if (rs->chunk[11])
		fail_msg("after the replacement removed every entry in 11/8, zone %u still has "
			 "summary chunk 11",
			 zid);
	assert_true(rs->chunk[10] && rs->chunk[12] && rs->chunk[13]);
	rs = summary_of(oid, IP(11, 6, 7, 9) >> 8);
	assert_true(rs->chunk[11]); /* the other zone's chunk stays */
	assert_int_equal(rs->word, 1u << (9 >> 5));

	/* a replacement followed, in the same writer, by deletions and merges */
	w = wbegin();
	z = wzone(w, MA.zone);
	assert_int_equal(store_replace_begin(w, z, B), 0);
	want_removed = 0;
	for (int i = 0; i < MA.n; i++) {
		if (!MA.e[i].present || SRC_OF[i] != B)
			continue;
		if (MA.e[i].addr >> 24 == 12 || rnd() % 4 == 0) {
			MA.e[i].present = false;
			want_removed++;
		} else {
			src_merge(w, z, &MA, MA.e[i].addr, MA.e[i].len, B, MA.e[i].a ^ 1);
		}
	}
	assert_int_equal(store_replace_finish(w, &removed), 0);
	assert_int_equal(removed, want_removed);
	int deleted = 0;
	for (int i = 0; i < MA.n && deleted < 5; i++)
		if (MA.e[i].present && SRC_OF[i] == A && MA.e[i].len >= 16) {
			model_delete(w, z, &MA, i);
			deleted++;
		}
	src_merge(w, z, &MA, IP(14, 1, 2, 3), 32, A, A127(1401));
	src_merge(w, z, &MA, IP(10, 1, 2, 250), 31, B, A127(1402));
	wcommit(w);
	check_random_and_edges(ms, 2, 4000);
	rs = summary_of(zid, 0);
	assert_false(rs->chunk[11]);
	if (rs->chunk[12])
		fail_msg("after the replacement removed every entry in 12/8, zone %u still has "
			 "summary chunk 12",
			 zid);
	assert_true(rs->chunk[14]);

	/* a replacement that removes everything: no chunk left */
	for (int round = 0; round < 2; round++) {
		w = wbegin();
		z = wzone(w, MA.zone);
		assert_int_equal(store_replace_begin(w, z, round == 0 ? A : B), 0);
		assert_int_equal(store_replace_finish(w, NULL), 0);
		wcommit(w);
	}
	for (int i = 0; i < MA.n; i++)
		MA.e[i].present = false;
	check_random_and_edges(ms, 2, 2000);
	rs = summary_of(zid, 0);
	assert_int_equal(rs->zone_keys, 0);
	rs = summary_of(oid, 0);
	assert_int_equal(rs->zone_keys, 1);
}

/* --- expiry --- */

static void test_expire_sweep(void **state)
{
	(void)state;
	rng_seed(99);
	memset(&MA, 0, sizeof(MA));
	MA.zone = "bl.example";
	uint64_t want_expired = 0, want_pending = 0;
	struct store_writer *w = wbegin();
	struct store_zone *z = wzone(w, MA.zone);
	for (int i = 0; i < 300; i++) {
		uint32_t addr = i % 6 == 0 ? 0x0d000000u | (rnd() & 0xffffff) : entry_addr();
		unsigned len = LENS[rnd() % NLENS];
		if (addr >> 24 == 13 && len < 16)
			len = 16 + rnd() % 17;
		if (model_find(&MA, addr, len) >= 0)
			continue;
		struct store_put put;
		put_init(&put, NOW - 10000);
		put.flags = rnd() % 5 == 0 ? STORE_F_EXCLUDE : STORE_F_A;
		put.a = put.flags == STORE_F_A ? A127((uint32_t)i) : 0;
		unsigned k = rnd() % 10;
		if (addr >> 24 == 13 || k < 4) {
			put.expires_set = true;
			put.expires = NOW - 100 - rnd() % 1000; /* expired at NOW */
		} else if (k < 6) {
			put.expires_set = true;
			put.expires = NOW + 1000;
		} else if (k < 7) {
			/* pending, its window over by NOW */
			static const struct store_lifecycle pl = { 0, 3, 5000, 0 };
			put.life = &pl;
			put.flags = STORE_F_A;
			put.a = A127((uint32_t)i);
		}
		model_merge(w, z, &MA, addr, len, &put);
	}
	wcommit(w);
	for (int i = 0; i < MA.n; i++) {
		const struct ment *x = &MA.e[i];
		if (!x->present || x->expires == 0 || x->expires > NOW)
			continue;
		if (x->flags & STORE_F_PENDING)
			want_pending++;
		else
			want_expired++;
	}
	assert_true(want_expired > 50);
	assert_true(want_pending > 5);
	uint16_t zid = zone_id(MA.zone);
	assert_true(summary_of(zid, 0)->chunk[13]);

	struct model *ms[1] = { &MA };
	static const uint32_t times[] = { NOW, NOW - 1200, NOW - 50, NOW + 2000 };
	for (int t = 0; t < 4; t++)
		model_check_edges(ms, 1, times[t]);
	random_queries(ms, 1, 5000);

	struct store_expire_result res;
	memset(&res, 0, sizeof(res));
	assert_int_equal(store_expire(S, MA.zone, NOW, 0, 7, &res), 0);
	assert_int_equal(res.expired, want_expired);
	assert_int_equal(res.pending_dropped, want_pending);
	for (int i = 0; i < MA.n; i++) {
		struct ment *x = &MA.e[i];
		if (x->present && x->expires != 0 && x->expires <= NOW)
			x->present = false;
	}
	for (int t = 0; t < 4; t++)
		model_check_edges(ms, 1, times[t]);
	random_queries(ms, 1, 5000);
	const struct rawsum *rs = summary_of(zid, 0);
	if (rs->chunk[13])
		fail_msg("after the sweep deleted every entry in 13/8 (all /16 or longer), zone %u "
			 "still has summary chunk 13",
			 zid);
	assert_true(rs->chunk[10]);

	/* a second sweep finds nothing */
	memset(&res, 0, sizeof(res));
	assert_int_equal(store_expire(S, MA.zone, NOW, 0, 7, &res), 0);
	assert_int_equal(res.expired, 0);
	model_check_edges(ms, 1, NOW);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_delete_everything, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replace, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expire_sweep, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
