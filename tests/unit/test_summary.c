/* Unit tests for lib/summary.h, the IPv4 summary's pure word arithmetic
 * (summary_word_add, summary_span, summary_lens), and ten rounds of random merges,
 * deletes, delistings and an aborted writer in two zones against the brute-force
 * model of summarytest.h, checked with a reader (which consults the summary) and a
 * writer (which does not). A fresh LMDB store for the random rounds. */
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
	return storetest_open("/tmp/dnsbl-test-summary-XXXXXX") < 0 ? -1 : 0;
}

static int teardown(void **state)
{
	(void)state;
	return storetest_close();
}

/* --- pure functions --- */

static void test_pure_word_add(void **state)
{
	(void)state;
	/* longer than /24: the /27s touched (bit i: the i-th /27 of the /24) */
	assert_int_equal(summary_word_add(0, IP(10, 1, 2, 3), 32), 0x0001);
	assert_int_equal(summary_word_add(0, IP(10, 1, 2, 31), 32), 0x0001);
	assert_int_equal(summary_word_add(0, IP(10, 1, 2, 32), 32), 0x0002);
	assert_int_equal(summary_word_add(0, IP(10, 1, 2, 200), 32), 0x0040);
	assert_int_equal(summary_word_add(0, IP(10, 1, 2, 255), 32), 0x0080);
	assert_int_equal(summary_word_add(0, IP(10, 1, 2, 254), 31), 0x0080);
	/* a /30 inside the second /27 */
	assert_int_equal(summary_word_add(0, IP(10, 1, 2, 36), 30), 0x0002);
	/* /27s themselves */
	assert_int_equal(summary_word_add(0, IP(10, 1, 2, 96), 27), 0x0008);
	assert_int_equal(summary_word_add(0, IP(10, 1, 2, 224), 27), 0x0080);
	/* /26 spans two /27s */
	assert_int_equal(summary_word_add(0, IP(10, 1, 2, 64), 26), 0x000c);
	assert_int_equal(summary_word_add(0, IP(10, 1, 2, 192), 26), 0x00c0);
	/* /25 spans four */
	assert_int_equal(summary_word_add(0, IP(10, 1, 2, 0), 25), 0x000f);
	assert_int_equal(summary_word_add(0, IP(10, 1, 2, 128), 25), 0x00f0);
	/* bits accumulate */
	uint16_t w = summary_word_add(0, IP(10, 1, 2, 3), 32);
	w = summary_word_add(w, IP(10, 1, 2, 128), 25);
	assert_int_equal(w, 0x00f1);
	/* /24 and shorter: the cover field, L + 1 */
	assert_int_equal(summary_word_add(0, IP(10, 1, 2, 0), 24), 25 << 8);
	assert_int_equal(summary_word_add(0, IP(10, 1, 0, 0), 23), 24 << 8);
	assert_int_equal(summary_word_add(0, IP(10, 1, 0, 0), 20), 21 << 8);
	assert_int_equal(summary_word_add(0, IP(10, 1, 0, 0), 16), 17 << 8);
	assert_int_equal(summary_word_add(0, IP(10, 0, 0, 0), 12), 13 << 8);
	assert_int_equal(summary_word_add(0, IP(10, 0, 0, 0), 8), 9 << 8);
	assert_int_equal(summary_word_add(0, 0, 0), 1 << 8);
	/* cover takes the max, in either order, keeping the /27 bits */
	w = summary_word_add(0, IP(10, 1, 0, 0), 16);
	w = summary_word_add(w, IP(10, 1, 2, 0), 24);
	assert_int_equal(w, 25 << 8);
	w = summary_word_add(0, IP(10, 1, 2, 0), 24);
	w = summary_word_add(w, IP(10, 1, 0, 0), 16);
	assert_int_equal(w, 25 << 8);
	w = summary_word_add(0, IP(10, 1, 2, 3), 32);
	w = summary_word_add(w, IP(10, 1, 0, 0), 20);
	w = summary_word_add(w, IP(10, 0, 0, 0), 8);
	w = summary_word_add(w, 0, 0);
	assert_int_equal(w, (21 << 8) | 0x0001);
	/* a long entry after a cover keeps the cover */
	w = summary_word_add(w, IP(10, 1, 2, 224), 27);
	assert_int_equal(w, (21 << 8) | 0x0081);
}

static void test_pure_span(void **state)
{
	(void)state;
	/* entry address, length, first and last /24 it touches */
	static const struct {
		uint32_t addr;
		unsigned len;
		uint32_t first, last;
	} spans[] = {
		{ IP(10, 1, 2, 3), 32, 0x0a0102, 0x0a0102 },
		{ IP(10, 1, 2, 36), 30, 0x0a0102, 0x0a0102 },
		{ IP(10, 1, 2, 128), 25, 0x0a0102, 0x0a0102 },
		{ IP(10, 1, 2, 0), 24, 0x0a0102, 0x0a0102 },
		{ IP(10, 1, 2, 0), 23, 0x0a0102, 0x0a0103 },
		{ IP(10, 1, 16, 0), 20, 0x0a0110, 0x0a011f },
		{ IP(10, 1, 0, 0), 16, 0x0a0100, 0x0a01ff },
		{ IP(10, 16, 0, 0), 12, 0x0a1000, 0x0a1fff },
		{ IP(10, 0, 0, 0), 8, 0x0a0000, 0x0affff },
		{ IP(255, 0, 0, 0), 8, 0xff0000, 0xffffff },
		{ 0, 0, 0, 0xffffff },
	};
	uint32_t f = 7, l = 7;
	assert_int_equal(summary_slash24(IP(10, 1, 2, 3)), 0x0a0102);
	for (size_t i = 0; i < sizeof(spans) / sizeof(spans[0]); i++) {
		summary_span(spans[i].addr, spans[i].len, &f, &l);
		if (f != spans[i].first || l != spans[i].last)
			fail_msg("summary_span(%08x/%u) = %06x..%06x, expected %06x..%06x",
				 spans[i].addr, spans[i].len, f, l, spans[i].first, spans[i].last);
	}
	/* a /8 is exactly one chunk */
	summary_span(IP(10, 0, 0, 0), 8, &f, &l);
	assert_int_equal(f >> SUMMARY_CHUNK_SHIFT, 10);
	assert_int_equal(l >> SUMMARY_CHUNK_SHIFT, 10);
	assert_int_equal(SUMMARY_CHUNKS, 256);
	assert_int_equal(SUMMARY_CHUNK_BYTES, 128 * 1024);
}

#define LB(n) (1ull << (n))

static void test_pure_lens(void **state)
{
	(void)state;
	const uint64_t all = (1ull << 33) - 1;
	const uint64_t lens4 = LB(8) | LB(16) | LB(24) | LB(26) | LB(30) | LB(32);

	/* nothing at all */
	assert_true(summary_lens(0, IP(10, 1, 2, 3), all) == 0);
	assert_true(summary_lens(0, IP(10, 1, 2, 3), lens4) == 0);
	/* a /32 in the first /27 */
	uint16_t w = summary_word_add(0, IP(10, 1, 2, 3), 32);
	assert_true(summary_lens(w, IP(10, 1, 2, 3), all) == (all & ~((1ull << 25) - 1)));
	assert_true(summary_lens(w, IP(10, 1, 2, 30), lens4) == (LB(26) | LB(30) | LB(32)));
	/* the neighbouring /27 is clear, and no cover: provably absent */
	assert_true(summary_lens(w, IP(10, 1, 2, 32), all) == 0);
	assert_true(summary_lens(w, IP(10, 1, 2, 255), all) == 0);
	/* lens4 without long lengths: nothing even where the bit is set */
	assert_true(summary_lens(w, IP(10, 1, 2, 3), LB(8) | LB(24)) == 0);
	/* a cover only: lengths up to L */
	w = summary_word_add(0, IP(10, 1, 0, 0), 16);
	assert_true(summary_lens(w, IP(10, 1, 2, 3), all) == ((1ull << 17) - 1));
	assert_true(summary_lens(w, IP(10, 1, 2, 3), lens4) == (LB(8) | LB(16)));
	/* the /27 bit clear but a cover: only lengths <= L, not 24 though lens4 has it */
	w = summary_word_add(w, IP(10, 1, 2, 3), 32);
	assert_true(summary_lens(w, IP(10, 1, 2, 100), lens4) == (LB(8) | LB(16)));
	assert_true(summary_lens(w, IP(10, 1, 2, 31), lens4) ==
		    (LB(8) | LB(16) | LB(26) | LB(30) | LB(32)));
	/* a /24 cover: everything up to 24 */
	w = summary_word_add(0, IP(10, 1, 2, 0), 24);
	assert_true(summary_lens(w, IP(10, 1, 2, 77), all) == ((1ull << 25) - 1));
	assert_true(summary_lens(w, IP(10, 1, 2, 77), lens4) == (LB(8) | LB(16) | LB(24)));
	/* a /0 cover: only /0 */
	w = summary_word_add(0, 0, 0);
	assert_true(summary_lens(w, IP(1, 2, 3, 4), all) == 1);
	assert_true(summary_lens(w, IP(1, 2, 3, 4), lens4) == 0);
	assert_true(summary_lens(w, IP(1, 2, 3, 4), lens4 | 1) == 1);
	/* a /25 and a /26 and a cover of /20, all three */
	w = summary_word_add(0, IP(10, 1, 2, 128), 25);
	w = summary_word_add(w, IP(10, 1, 2, 64), 26);
	w = summary_word_add(w, IP(10, 1, 0, 0), 20);
	assert_int_equal(w, (21 << 8) | 0xfc);
	assert_true(summary_lens(w, IP(10, 1, 2, 10), all) == ((1ull << 21) - 1));
	assert_true(summary_lens(w, IP(10, 1, 2, 70), all) ==
		    (((1ull << 21) - 1) | (all & ~((1ull << 25) - 1))));
	/* lens4 = 0: nothing to try */
	assert_true(summary_lens(w, IP(10, 1, 2, 70), 0) == 0);
}

/* --- random rounds against the model --- */

static const struct store_lifecycle LIFE_PENDING = { .expire_after = 0, .list_threshold = 2,
						     .list_window = 100000, .relist_after = 0 };

/* One random merge into model m. */
static void random_merge(struct store_writer *w, struct store_zone *z, struct model *m,
			 uint32_t seen, uint16_t src, uint16_t opsrc)
{
	uint32_t addr;
	unsigned len;
	if (m->n > 0 && rnd() % 100 < 30) {
		int i = (int)(rnd() % (uint32_t)m->n);
		addr = m->e[i].addr;
		len = m->e[i].len;
	} else {
		addr = entry_addr();
		len = LENS[rnd() % NLENS];
		/* in the hot /24s mostly long entries, so that the /27 bits decide */
		for (unsigned h = 0; h < 4; h++)
			if ((addr & 0xffffff00u) == HOT24[h] && rnd() % 10 < 8)
				len = LENS[5 + rnd() % 8];
	}
	struct store_put put;
	put_init(&put, seen);
	if (rnd() % 100 < 20) {
		put.flags = STORE_F_EXCLUDE;
	} else {
		put.flags = STORE_F_A;
		put.a = A127(rnd() & 0xffff);
	}
	if (rnd() % 100 < 7) {
		put.actor = STORE_ACTOR_OPERATOR;
		put.source_id = opsrc;
	} else {
		put.actor = STORE_ACTOR_SOURCE;
		put.source_id = src;
	}
	if (rnd() % 100 < 25)
		put.life = &LIFE_PENDING;
	switch (rnd() % 3) {
	case 0: /* expired by NOW, not at seen */
		put.expires_set = true;
		put.expires = NOW - 7000 + rnd() % 4000;
		break;
	case 1: /* expires after NOW */
		put.expires_set = true;
		put.expires = NOW + 2000 + rnd() % 4000;
		break;
	default:
		break;
	}
	model_merge(w, z, m, addr, len, &put);
}

/* Picks a present entry (or -1). */
static int random_present(const struct model *m)
{
	if (m->n == 0)
		return -1;
	for (int tries = 0; tries < 20; tries++) {
		int i = (int)(rnd() % (uint32_t)m->n);
		if (m->e[i].present)
			return i;
	}
	return -1;
}

static void random_ops(struct store_writer *w, struct store_zone *z, struct model *m, int nops,
		       uint32_t seen, uint16_t src, uint16_t opsrc)
{
	for (int op = 0; op < nops; op++) {
		unsigned k = rnd() % 100;
		if (k < 62) {
			random_merge(w, z, m, seen, src, opsrc);
		} else if (k < 85) {
			int i = random_present(m);
			if (i < 0 || rnd() % 10 == 0) {
				/* an absent key */
				if (m->n == 0)
					continue;
				i = (int)(rnd() % (uint32_t)m->n);
				if (m->e[i].present)
					continue;
			}
			model_delete(w, z, m, i);
		} else {
			int i = random_present(m);
			if (i < 0)
				continue;
			struct entry_key p;
			char b[24];
			prefix4_make(&p, m->e[i].addr, m->e[i].len);
			int rc = store_delist(w, z, &p, opsrc, "test", 4, seen);
			bool expired = !(m->e[i].flags & STORE_F_PENDING) && m->e[i].expires != 0 &&
				       m->e[i].expires <= seen;
			if (rc != (expired ? DNSBL_ENOTFOUND : 0))
				fail_msg("store_delist(%s) = %d", fmt4(m->e[i].addr, m->e[i].len, b),
					 rc);
			if (!expired)
				m->e[i].present = false;
		}
	}
}

static struct model MA, MB, SAVE_A, SAVE_B;

static void test_random_model(void **state)
{
	(void)state;
	rng_seed(20240611);
	memset(&MA, 0, sizeof(MA));
	memset(&MB, 0, sizeof(MB));
	MA.zone = "z1.example";
	MB.zone = "z9.example";

	/* zones 1..9, so that the model's zones 1 and 9 share a reader cache slot */
	struct store_writer *w = wbegin();
	char name[32];
	for (int i = 1; i <= 9; i++) {
		snprintf(name, sizeof(name), "z%d.example", i);
		struct store_zone *z = wzone(w, name);
		assert_int_equal(z->id, i);
	}
	uint16_t src = 0, opsrc = 0;
	assert_int_equal(store_writer_source(w, "feed", &src), 0);
	assert_int_equal(store_writer_source(w, "operator:tester", &opsrc), 0);
	wcommit(w);

	struct model *ms[2] = { &MA, &MB };
	enum { ROUNDS = 10 };
	for (int round = 0; round < ROUNDS; round++) {
		uint32_t seen = NOW - 10000 + (uint32_t)round * 10;
		bool abort_round = round == 5;
		if (abort_round) {
			memcpy(&SAVE_A, &MA, sizeof(MA));
			memcpy(&SAVE_B, &MB, sizeof(MB));
		}
		w = wbegin();
		struct store_zone *za = wzone(w, MA.zone), *zb = wzone(w, MB.zone);
		/* interleave the two zones' operations */
		for (int chunk = 0; chunk < 10; chunk++) {
			random_ops(w, za, &MA, 14, seen, src, opsrc);
			random_ops(w, zb, &MB, 6, seen, src, opsrc);
		}
		if (abort_round) {
			store_writer_abort(w);
			memcpy(&MA, &SAVE_A, sizeof(MA));
			memcpy(&MB, &SAVE_B, sizeof(MB));
		} else {
			wcommit(w);
		}
		random_queries(ms, 2, 20000);
		if (round % 3 == 2 || round == ROUNDS - 1)
			model_check_edges(ms, 2, QTIMES[round % 3]);
	}
	int present = 0;
	for (int i = 0; i < MA.n; i++)
		present += MA.e[i].present;
	/* the model is not trivially empty */
	assert_true(present > 50);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pure_word_add),
		cmocka_unit_test(test_pure_span),
		cmocka_unit_test(test_pure_lens),
		cmocka_unit_test_setup_teardown(test_random_model, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
