/* Unit tests for lib/store/read.c: store_lookup (the longest prefix, every prefix
 * length, exclusions, expired entries, a random model of longest-prefix match),
 * store_any_listed_within, a reader's snapshot under a concurrent commit, and the
 * reader's per-snapshot cache of IPv4 summary chunks (zones sharing a cache slot).
 * A fresh LMDB store per test. */
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
#include <pthread.h>
#include <unistd.h>

#include <cmocka.h>

#include "addr.h"
#include "err.h"
#include "store.h"
#include "storetest.h"
#include "storeops.h"
#include "summarytest.h"

static int setup(void **state)
{
	(void)state;
	return storetest_open("/tmp/dnsbl-test-store-read-XXXXXX") < 0 ? -1 : 0;
}

static int teardown(void **state)
{
	(void)state;
	return storetest_close();
}

/* --- lookups --- */

/* /8, /24 and /32 inside each other plus an exclusion: the longest match decides. */
static void test_lookup_longest_prefix(void **state)
{
	(void)state;
	struct store_writer *w = wbegin();
	struct store_zone *z = wzone(w, "bl.example");
	uint16_t src = wsource(w, "test");
	merge_ok(w, z, "10.0.0.0/8", &(struct putspec){.flags = STORE_F_A, .source = src,
						       .a = A127(2), .hits = 1});
	merge_ok(w, z, "10.1.2.0/24", &(struct putspec){.flags = STORE_F_A | STORE_F_TXT,
							.source = src, .a = A127(3), .hits = 1,
							.txt = "range $", .reason = "snowshoe"});
	merge_ok(w, z, "10.1.2.3/32", &(struct putspec){.flags = STORE_F_A, .source = src,
							.a = A127(4), .hits = 1});
	merge_ok(w, z, "10.1.2.7/32", &(struct putspec){.flags = STORE_F_EXCLUDE,
							.source = src, .hits = 1});
	wcommit(w);

	struct store_reader *r = rnew();
	rbegin(r);
	struct store_zone zz = zget(r, "bl.example");
	assert_true(zz.lens.ip4 & (1ull << 8));
	assert_true(zz.lens.ip4 & (1ull << 24));
	assert_true(zz.lens.ip4 & (1ull << 32));

	expect_match(r, &zz, "10.1.2.3", NOW, "10.1.2.3/32", A127(4));
	expect_match(r, &zz, "10.1.2.4", NOW, "10.1.2.0/24", A127(3));
	expect_match(r, &zz, "10.1.2.0", NOW, "10.1.2.0/24", A127(3));
	expect_match(r, &zz, "10.1.2.255", NOW, "10.1.2.0/24", A127(3));
	expect_match(r, &zz, "10.1.3.0", NOW, "10.0.0.0/8", A127(2));
	expect_match(r, &zz, "10.255.255.255", NOW, "10.0.0.0/8", A127(2));
	expect_match(r, &zz, "10.0.0.0", NOW, "10.0.0.0/8", A127(2));
	expect_nomatch(r, &zz, "11.0.0.0", NOW);
	expect_nomatch(r, &zz, "9.255.255.255", NOW);
	expect_nomatch(r, &zz, "0.0.0.0", NOW);
	expect_nomatch(r, &zz, "255.255.255.255", NOW);

	/* values of the /24 */
	struct store_entry e;
	char m[32];
	assert_int_equal(look(r, &zz, "10.1.2.9", NOW, &e, m), 0);
	assert_int_equal(e.flags, STORE_F_A | STORE_F_TXT);
	assert_int_equal(e.source_id, src);
	assert_int_equal(e.txt_len, 7);
	assert_memory_equal(e.txt, "range $", 7);
	assert_int_equal(e.reason_len, 8);
	assert_memory_equal(e.reason, "snowshoe", 8);
	assert_int_equal(e.hits, 1);
	assert_int_equal(e.first_seen, NOW - 100);
	assert_int_equal(e.last_seen, NOW - 100);
	assert_int_equal(e.expires, 0);

	/* the exclusion is returned as the longest match, flagged */
	assert_int_equal(look(r, &zz, "10.1.2.7", NOW, &e, m), 0);
	assert_true(e.flags & STORE_F_EXCLUDE);
	assert_string_equal(m, "10.1.2.7/32");

	/* the matched pointer may be NULL */
	struct entry_key a = PFX("10.1.2.3");
	assert_int_equal(store_lookup(r, &zz, &a, NOW, &e, NULL), 0);
	assert_int_equal(e.a, A127(4));

	assert_int_equal(store_zone_count(r, &zz), 4);
	store_reader_end(r);
	store_reader_free(r);
}

/* Entries on every prefix length at once, and /0 and /31. */
static void test_lookup_all_lengths(void **state)
{
	(void)state;
	struct store_writer *w = wbegin();
	struct store_zone *z = wzone(w, "bl.example");
	/* 203.0.113.77 inside prefixes of every length 0..32, A = 127.0.0.len */
	uint32_t addr = 0xcb00714du;
	for (unsigned len = 0; len <= 32; len += (len < 20 ? 4 : 1)) {
		struct entry_key p;
		prefix4_make(&p, addr, len);
		struct store_put put;
		memset(&put, 0, sizeof(put));
		put.flags = STORE_F_A;
		put.a = A127(len);
		put.seen = NOW;
		put.hits = 1;
		assert_int_equal(store_merge(w, z, &p, &put, NULL), 0);
	}
	wcommit(w);

	struct store_reader *r = rnew();
	rbegin(r);
	struct store_zone zz = zget(r, "bl.example");
	struct store_entry e;
	struct entry_key m, q;
	/* for each length, an address that shares exactly that many leading bits */
	for (unsigned len = 0; len <= 32; len++) {
		uint32_t x = len == 32 ? addr : (addr ^ (0x80000000u >> len));
		prefix4_make(&q, x, 32);
		assert_int_equal(store_lookup(r, &zz, &q, NOW, &e, &m), 0);
		/* the longest stored length <= len */
		unsigned want = len >= 20 ? len : len / 4 * 4;
		assert_int_equal(m.len, want);
		assert_int_equal(e.a, A127(want));
	}
	store_reader_end(r);
	store_reader_free(r);
}

static void test_expired(void **state)
{
	(void)state;
	struct store_writer *w = wbegin();
	struct store_zone *z = wzone(w, "bl.example");
	merge_ok(w, z, "10.0.0.0/8", &(struct putspec){.flags = STORE_F_A, .a = A127(2), .hits = 1});
	merge_ok(w, z, "10.1.2.0/24", &(struct putspec){.flags = STORE_F_A, .a = A127(3), .hits = 1,
							.expires = NOW - 10});
	merge_ok(w, z, "10.1.2.3/32", &(struct putspec){.flags = STORE_F_A, .a = A127(4), .hits = 1,
							.expires = NOW + 10});
	merge_ok(w, z, "192.0.2.1/32", &(struct putspec){.flags = STORE_F_A, .a = A127(5),
							 .hits = 1, .seen = NOW - 3000, .expires = NOW - 1000});
	wcommit(w);

	struct store_reader *r = rnew();
	rbegin(r);
	struct store_zone zz = zget(r, "bl.example");
	/* the expired /24 is skipped: the /8 answers */
	expect_match(r, &zz, "10.1.2.4", NOW, "10.0.0.0/8", A127(2));
	/* before it expired, the /24 answered */
	expect_match(r, &zz, "10.1.2.4", NOW - 20, "10.1.2.0/24", A127(3));
	/* the /32 still lives */
	expect_match(r, &zz, "10.1.2.3", NOW, "10.1.2.3/32", A127(4));
	/* and later it is gone too, the /8 answers */
	expect_match(r, &zz, "10.1.2.3", NOW + 20, "10.0.0.0/8", A127(2));
	/* an expired entry with nothing behind it: not listed */
	expect_nomatch(r, &zz, "192.0.2.1", NOW);
	expect_match(r, &zz, "192.0.2.1", NOW - 2000, "192.0.2.1/32", A127(5));
	store_reader_end(r);
	store_reader_free(r);
}

static void test_any_listed_within(void **state)
{
	(void)state;
	struct store_writer *w = wbegin();
	struct store_zone *z = wzone(w, "bl.example");
	merge_ok(w, z, "10.1.2.3/32", &(struct putspec){.hits = 1});
	merge_ok(w, z, "172.16.0.0/12", &(struct putspec){.hits = 1});
	merge_ok(w, z, "192.0.2.9/32", &(struct putspec){.hits = 1, .expires = NOW - 5});
	merge_ok(w, z, "198.51.100.7/32", &(struct putspec){.flags = STORE_F_EXCLUDE, .hits = 1});
	wcommit(w);

	struct store_reader *r = rnew();
	rbegin(r);
	struct store_zone zz = zget(r, "bl.example");
	/* a listed entry inside p */
	assert_int_equal(within(r, &zz, "10.1.2.0/24", NOW), 1);
	assert_int_equal(within(r, &zz, "10.1.0.0/16", NOW), 1);
	assert_int_equal(within(r, &zz, "10.0.0.0/8", NOW), 1);
	assert_int_equal(within(r, &zz, "0.0.0.0/0", NOW), 1);
	assert_int_equal(within(r, &zz, "10.1.2.3/32", NOW), 1);
	/* nothing inside */
	assert_int_equal(within(r, &zz, "10.1.3.0/24", NOW), 0);
	assert_int_equal(within(r, &zz, "10.2.0.0/16", NOW), 0);
	assert_int_equal(within(r, &zz, "11.0.0.0/8", NOW), 0);
	assert_int_equal(within(r, &zz, "10.1.2.2/32", NOW), 0);
	/* p inside a listed entry */
	assert_int_equal(within(r, &zz, "172.20.0.0/16", NOW), 1);
	assert_int_equal(within(r, &zz, "172.20.1.0/24", NOW), 1);
	assert_int_equal(within(r, &zz, "172.0.0.0/8", NOW), 1);
	/* only an expired entry inside */
	assert_int_equal(within(r, &zz, "192.0.2.0/24", NOW), 0);
	assert_int_equal(within(r, &zz, "192.0.2.0/24", NOW - 10), 1);
	/* only an exclusion inside */
	assert_int_equal(within(r, &zz, "198.51.100.0/24", NOW), 0);
	store_reader_end(r);
	store_reader_free(r);
}

/* "Returns 1 when some address inside prefix p is listed": a listed /8 whose
 * /24 is entirely excluded has no listed address in that /24. */
static void test_any_listed_within_excluded(void **state)
{
	(void)state;
	struct store_writer *w = wbegin();
	struct store_zone *z = wzone(w, "bl.example");
	merge_ok(w, z, "10.0.0.0/8", &(struct putspec){.hits = 1});
	merge_ok(w, z, "10.1.2.0/24", &(struct putspec){.flags = STORE_F_EXCLUDE, .hits = 1});
	wcommit(w);

	struct store_reader *r = rnew();
	rbegin(r);
	struct store_zone zz = zget(r, "bl.example");
	assert_int_equal(within(r, &zz, "10.1.0.0/16", NOW), 1);
	int got = within(r, &zz, "10.1.2.0/24", NOW);
	store_reader_end(r);
	store_reader_free(r);
	if (got != 0)
		fail_msg("store_any_listed_within(10.1.2.0/24) = %d although the whole /24 is "
			 "excluded from the listed 10/8",
			 got);
}

/* --- snapshots --- */

/* A reader's snapshot does not change under it; the next begin sees the commit. */
struct writer_arg {
	int rc;
};

static void *writer_thread(void *arg)
{
	struct writer_arg *wa = arg;
	struct store_writer *w = NULL;
	struct store_zone *z = NULL;
	struct entry_key p;
	struct store_put put;
	wa->rc = store_writer_begin(S, &w);
	if (wa->rc)
		return NULL;
	wa->rc = store_writer_zone(w, "bl.example", &z);
	if (wa->rc) {
		store_writer_abort(w);
		return NULL;
	}
	prefix4_make(&p, 0xc0000201u, 32); /* 192.0.2.1 */
	memset(&put, 0, sizeof(put));
	put.seen = NOW;
	put.hits = 1;
	wa->rc = store_merge(w, z, &p, &put, NULL);
	if (wa->rc) {
		store_writer_abort(w);
		return NULL;
	}
	wa->rc = store_writer_commit(w);
	return NULL;
}

static void test_snapshot(void **state)
{
	(void)state;
	struct store_writer *w = wbegin();
	wzone(w, "bl.example");
	merge_ok(w, wzone(w, "bl.example"), "10.0.0.0/8", &(struct putspec){.hits = 1});
	wcommit(w);

	struct store_reader *r = rnew();
	rbegin(r);
	struct store_zone before = zget(r, "bl.example");

	pthread_t t;
	struct writer_arg wa = {-1};
	assert_int_equal(pthread_create(&t, NULL, writer_thread, &wa), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(wa.rc, 0);

	/* still the old snapshot */
	expect_nomatch(r, &before, "192.0.2.1", NOW);
	struct store_zone same = zget(r, "bl.example");
	assert_int_equal(same.serial, before.serial);
	store_reader_end(r);

	rbegin(r);
	struct store_zone after = zget(r, "bl.example");
	assert_int_equal(after.serial, before.serial + 1);
	expect_match(r, &after, "192.0.2.1", NOW, "192.0.2.1/32", 0);
	store_reader_end(r);
	store_reader_free(r);
}

/* --- a random model --- */

/* Many random entries against a brute-force model of longest-prefix match. */
static void test_lookup_random_model(void **state)
{
	(void)state;
	enum { N = 400 };
	static struct entry_key ps[N];
	static uint32_t as[N];
	static bool ex[N];
	int n = 0;
	srandom(8080);
	struct store_writer *w = wbegin();
	struct store_zone *z = wzone(w, "bl.example");
	static const unsigned lens[] = {8, 16, 20, 24, 28, 32};
	while (n < N) {
		/* addresses concentrated in 10.0.0.0/12 so that prefixes overlap */
		uint32_t addr = 0x0a000000u | ((uint32_t)random() & 0x000fffffu);
		unsigned len = lens[random() % 6];
		struct entry_key p;
		prefix4_make(&p, addr, len);
		bool dup = false;
		for (int i = 0; i < n; i++)
			if (ps[i].len == p.len && memcmp(ps[i].addr, p.addr, 4) == 0)
				dup = true;
		if (dup)
			continue;
		ps[n] = p;
		as[n] = A127((uint32_t)n);
		ex[n] = random() % 5 == 0;
		struct store_put put;
		memset(&put, 0, sizeof(put));
		put.flags = ex[n] ? STORE_F_EXCLUDE : STORE_F_A;
		put.a = as[n];
		put.seen = NOW;
		put.hits = 1;
		assert_int_equal(store_merge(w, z, &p, &put, NULL), 0);
		n++;
	}
	wcommit(w);

	struct store_reader *r = rnew();
	rbegin(r);
	struct store_zone zz = zget(r, "bl.example");
	assert_int_equal(store_zone_count(r, &zz), N);
	for (int iter = 0; iter < 20000; iter++) {
		uint32_t addr = 0x0a000000u | ((uint32_t)random() & 0x000fffffu);
		struct entry_key q;
		prefix4_make(&q, addr, 32);
		int best = -1;
		for (int i = 0; i < n; i++)
			if (prefix_contains(&ps[i], &q) && (best < 0 || ps[i].len > ps[best].len))
				best = i;
		struct store_entry e;
		struct entry_key m;
		int rc = store_lookup(r, &zz, &q, NOW, &e, &m);
		if (best < 0) {
			assert_int_equal(rc, DNSBL_ENOTFOUND);
			continue;
		}
		assert_int_equal(rc, 0);
		assert_int_equal(m.len, ps[best].len);
		assert_memory_equal(m.addr, ps[best].addr, 4);
		assert_int_equal(!!(e.flags & STORE_F_EXCLUDE), ex[best]);
		if (!ex[best])
			assert_int_equal(e.a, as[best]);
	}
	store_reader_end(r);
	store_reader_free(r);
}

/* --- the reader's snapshot cache of summary chunks --- */

static void test_snapshot_cache(void **state)
{
	(void)state;
	struct store_writer *w = wbegin();
	struct store_zone *z = wzone(w, "bl.example");
	struct entry_key p;
	struct store_put put;
	put_init(&put, NOW - 100);
	prefix4_make(&p, IP(10, 1, 2, 3), 32);
	assert_int_equal(store_merge(w, z, &p, &put, NULL), 0);
	wcommit(w);

	struct store_reader *r = rnew();
	struct entry_key mk;
	const uint32_t X = IP(20, 1, 2, 3); /* 20/8: no chunk yet */
	rbegin(r);
	uint64_t s1 = store_reader_snapshot(r);
	assert_int_equal(rlook(r, "bl.example", X, &mk), DNSBL_ENOTFOUND);
	assert_int_equal(rlook(r, "bl.example", IP(10, 1, 2, 3), &mk), 0);
	store_reader_end(r);

	/* no write in between: the same snapshot id, the same answers */
	rbegin(r);
	assert_true(store_reader_snapshot(r) == s1);
	assert_int_equal(rlook(r, "bl.example", X, &mk), DNSBL_ENOTFOUND);
	store_reader_end(r);
	/* an aborted writer changes nothing either */
	w = wbegin();
	z = wzone(w, "bl.example");
	prefix4_make(&p, X, 32);
	assert_int_equal(store_merge(w, z, &p, &put, NULL), 0);
	store_writer_abort(w);
	rbegin(r);
	assert_true(store_reader_snapshot(r) == s1);
	assert_int_equal(rlook(r, "bl.example", X, &mk), DNSBL_ENOTFOUND);
	store_reader_end(r);

	/* X listed in a new /8 */
	w = wbegin();
	z = wzone(w, "bl.example");
	prefix4_make(&p, X, 32);
	assert_int_equal(store_merge(w, z, &p, &put, NULL), 0);
	wcommit(w);
	rbegin(r);
	uint64_t s2 = store_reader_snapshot(r);
	assert_true(s2 != s1);
	if (rlook(r, "bl.example", X, &mk) != 0)
		fail_msg("20.1.2.3 listed in a new chunk after the reader cached its absence: not "
			 "found in the next snapshot");
	assert_int_equal(mk.len, 32);
	store_reader_end(r);

	/* a reader inside its snapshot does not see a commit; then it does */
	rbegin(r);
	assert_int_equal(rlook(r, "bl.example", X, &mk), 0);
	w = wbegin();
	z = wzone(w, "bl.example");
	prefix4_make(&p, X, 32);
	assert_int_equal(store_delete(w, z, &p), 0);
	wcommit(w);
	assert_int_equal(rlook(r, "bl.example", X, &mk), 0);
	assert_true(store_reader_snapshot(r) == s2);
	store_reader_end(r);
	/* the last entry of the chunk deleted: gone */
	rbegin(r);
	assert_true(store_reader_snapshot(r) != s2);
	if (rlook(r, "bl.example", X, &mk) != DNSBL_ENOTFOUND)
		fail_msg("20.1.2.3 deleted (the last entry of its chunk): still found");
	assert_int_equal(rlook(r, "bl.example", IP(10, 1, 2, 3), &mk), 0);
	uint64_t s3 = store_reader_snapshot(r);
	store_reader_end(r);
	rbegin(r);
	assert_true(store_reader_snapshot(r) == s3);
	store_reader_end(r);
	store_reader_free(r); /* the store is closed around summary_of */
	assert_false(summary_of(zone_id("bl.example"), 0)->chunk[20]);
	r = rnew();

	/* a chunk that existed and changes (the same /24, another /27) */
	w = wbegin();
	z = wzone(w, "bl.example");
	prefix4_make(&p, IP(10, 1, 2, 100), 32);
	assert_int_equal(store_merge(w, z, &p, &put, NULL), 0);
	wcommit(w);
	rbegin(r);
	assert_int_equal(rlook(r, "bl.example", IP(10, 1, 2, 100), &mk), 0);
	store_reader_end(r);
	w = wbegin();
	z = wzone(w, "bl.example");
	prefix4_make(&p, IP(10, 1, 2, 3), 32);
	assert_int_equal(store_delete(w, z, &p), 0);
	wcommit(w);
	rbegin(r);
	assert_int_equal(rlook(r, "bl.example", IP(10, 1, 2, 3), &mk), DNSBL_ENOTFOUND);
	assert_int_equal(rlook(r, "bl.example", IP(10, 1, 2, 100), &mk), 0);
	store_reader_end(r);
	store_reader_free(r);
}

/* Zones whose ids share a reader cache slot (1 and 9), looked up alternately within
 * one snapshot and across snapshots. */
static void test_cache_slot_sharing(void **state)
{
	(void)state;
	char name[32];
	struct store_writer *w = wbegin();
	for (int i = 1; i <= 9; i++) {
		snprintf(name, sizeof(name), "z%d.example", i);
		assert_int_equal(wzone(w, name)->id, i);
	}
	struct entry_key p;
	struct store_put put;
	put_init(&put, NOW - 100);
	prefix4_make(&p, IP(10, 1, 2, 3), 32);
	assert_int_equal(store_merge(w, wzone(w, "z1.example"), &p, &put, NULL), 0);
	prefix4_make(&p, IP(30, 0, 0, 0), 8);
	assert_int_equal(store_merge(w, wzone(w, "z9.example"), &p, &put, NULL), 0);
	wcommit(w);

	struct store_reader *r = rnew();
	struct entry_key mk;
	for (int cycle = 0; cycle < 3; cycle++) {
		rbegin(r);
		for (int i = 0; i < 4; i++) {
			assert_int_equal(rlook(r, "z1.example", IP(10, 1, 2, 3), &mk), 0);
			assert_int_equal(rlook(r, "z9.example", IP(10, 1, 2, 3), &mk), DNSBL_ENOTFOUND);
			assert_int_equal(rlook(r, "z1.example", IP(30, 1, 2, 3), &mk), DNSBL_ENOTFOUND);
			assert_int_equal(rlook(r, "z9.example", IP(30, 1, 2, 3), &mk), 0);
			assert_int_equal(mk.len, 8);
			assert_int_equal(rlook(r, "z5.example", IP(30, 1, 2, 3), &mk), DNSBL_ENOTFOUND);
		}
		store_reader_end(r);
	}
	/* swap the roles */
	w = wbegin();
	prefix4_make(&p, IP(10, 1, 2, 3), 32);
	assert_int_equal(store_delete(w, wzone(w, "z1.example"), &p), 0);
	assert_int_equal(store_merge(w, wzone(w, "z9.example"), &p, &put, NULL), 0);
	prefix4_make(&p, IP(30, 0, 0, 0), 8);
	assert_int_equal(store_merge(w, wzone(w, "z1.example"), &p, &put, NULL), 0);
	wcommit(w);
	rbegin(r);
	assert_int_equal(rlook(r, "z1.example", IP(10, 1, 2, 3), &mk), DNSBL_ENOTFOUND);
	assert_int_equal(rlook(r, "z9.example", IP(10, 1, 2, 3), &mk), 0);
	assert_int_equal(rlook(r, "z1.example", IP(30, 1, 2, 3), &mk), 0);
	assert_int_equal(rlook(r, "z9.example", IP(30, 1, 2, 3), &mk), 0);
	store_reader_end(r);
	store_reader_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_lookup_longest_prefix, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lookup_all_lengths, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expired, setup, teardown),
		cmocka_unit_test_setup_teardown(test_any_listed_within, setup, teardown),
		cmocka_unit_test_setup_teardown(test_any_listed_within_excluded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_snapshot, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lookup_random_model, setup, teardown),
		cmocka_unit_test_setup_teardown(test_snapshot_cache, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cache_slot_sharing, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
