/* Unit tests for lib/store.h: a fresh LMDB store per test in a temporary
 * directory; writer (zones, sources, merge, delete, replace, abort, commit and
 * serials) and reader (longest-prefix lookups, exclusions, expiry, empty
 * non-terminals, foreach, counts, snapshots). */
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
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "addr.h"
#include "err.h"
#include "store.h"
#include "storetest.h"

#define NOW 1700000000u


static int setup(void **state)
{
	(void)state;
	if (storetest_open("/tmp/dnsbl-test-store-XXXXXX") < 0)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return storetest_close();
}

/* --- helpers --- */

static uint16_t wsource(struct store_writer *w, const char *name)
{
	uint16_t id = 0xffff;
	int rc = store_writer_source(w, name, &id);
	if (rc != 0)
		fail_msg("store_writer_source(%s) = %d (%s)", name, rc, dnsbl_strerror(rc));
	return id;
}

struct putspec {
	uint8_t flags;
	uint16_t source;
	uint32_t a, seen, hits, expires;
	const char *reason, *txt;
};

static int merge(struct store_writer *w, struct store_zone *z, const char *prefix,
		 const struct putspec *ps, int *created)
{
	struct entry_key p = PFX(prefix);
	struct store_put put;
	memset(&put, 0, sizeof(put));
	put.flags = ps->flags;
	put.source_id = ps->source;
	put.a = ps->a;
	put.seen = ps->seen ? ps->seen : NOW - 100;
	put.now = put.seen; /* written when seen: expired-at-write listings are tested */
	put.hits = ps->hits;
	put.expires = ps->expires;
	put.reason = ps->reason;
	put.reason_len = ps->reason ? strlen(ps->reason) : 0;
	put.txt = ps->txt;
	put.txt_len = ps->txt ? strlen(ps->txt) : 0;
	return store_merge(w, z, &p, &put, created);
}

static void merge_ok(struct store_writer *w, struct store_zone *z, const char *prefix,
		     const struct putspec *ps)
{
	int rc = merge(w, z, prefix, ps, NULL);
	if (rc != 0)
		fail_msg("store_merge(%s) = %d (%s)", prefix, rc, dnsbl_strerror(rc));
}

static void del_ok(struct store_writer *w, struct store_zone *z, const char *prefix)
{
	struct entry_key p = PFX(prefix);
	int rc = store_delete(w, z, &p);
	if (rc != 0)
		fail_msg("store_delete(%s) = %d (%s)", prefix, rc, dnsbl_strerror(rc));
}

/* Looks addr up; returns the rc, fills e and the matched prefix text. */
static int look(struct store_reader *r, const struct store_zone *z, const char *addr,
		uint32_t now, struct store_entry *e, char *matched)
{
	struct entry_key a = PFX(addr), m;
	memset(e, 0, sizeof(*e));
	memset(&m, 0, sizeof(m));
	int rc = store_lookup(r, z, &a, now, e, &m);
	if (matched) {
		matched[0] = 0;
		if (rc == 0)
			prefix_format(&m, 0, matched, 32);
	}
	return rc;
}

static void expect_match(struct store_reader *r, const struct store_zone *z, const char *addr,
			 uint32_t now, const char *want_prefix, uint32_t want_a)
{
	struct store_entry e;
	char m[32];
	int rc = look(r, z, addr, now, &e, m);
	if (rc != 0)
		fail_msg("lookup %s: %d (%s), want match %s", addr, rc, dnsbl_strerror(rc),
			 want_prefix);
	if (strcmp(m, want_prefix) != 0)
		fail_msg("lookup %s matched %s, want %s", addr, m, want_prefix);
	assert_false(e.flags & STORE_F_EXCLUDE);
	if (want_a) {
		assert_true(e.flags & STORE_F_A);
		assert_int_equal(e.a, want_a);
	}
}

static void expect_nomatch(struct store_reader *r, const struct store_zone *z,
			   const char *addr, uint32_t now)
{
	struct store_entry e;
	char m[32];
	int rc = look(r, z, addr, now, &e, m);
	if (rc != DNSBL_ENOTFOUND)
		fail_msg("lookup %s: %d matched '%s', want DNSBL_ENOTFOUND", addr, rc, m);
}

static int within(struct store_reader *r, const struct store_zone *z, const char *prefix,
		  uint32_t now)
{
	struct entry_key p = PFX(prefix);
	return store_any_listed_within(r, z, &p, now);
}

#define A127(x) (0x7f000000u | (x))

/* --- tests --- */

static void test_open_missing_and_create(void **state)
{
	(void)state;
	struct store *s2 = NULL;
	char p[400];
	struct stat sb;

	snprintf(p, sizeof(p), "%s/missing", basedir);
	assert_int_equal(store_open(&s2, p, 0), DNSBL_ENOTFOUND);
	assert_int_equal(store_open(&s2, p, STORE_RDONLY), DNSBL_ENOTFOUND);
	assert_int_equal(stat(p, &sb), -1); /* nothing was created */

	/* the setup created dbdir, which did not exist before */
	assert_int_equal(stat(dbdir, &sb), 0);
	assert_true(S_ISDIR(sb.st_mode));
	assert_true(store_file_size(S) > 0);
}

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

static uint32_t serial_of(const char *zone)
{
	struct store_reader *r = rnew();
	rbegin(r);
	struct store_zone z = zget(r, zone);
	store_reader_end(r);
	store_reader_free(r);
	return z.serial;
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

struct seen_list {
	int n;
	char p[64][32];
	uint16_t src[64];
	int stop_at;
};

static int foreach_cb(const struct entry_key *p, const struct store_entry *e, void *arg)
{
	struct seen_list *s = arg;
	if (s->n >= 64)
		return -1000;
	prefix_format(p, 0, s->p[s->n], 32);
	s->src[s->n] = e->source_id;
	s->n++;
	if (s->stop_at && s->n == s->stop_at)
		return 77;
	return 0;
}

static void collect(struct store_reader *r, const char *zone, struct seen_list *s)
{
	rbegin(r);
	struct store_zone zz = zget(r, zone);
	int stop = s->stop_at;
	memset(s, 0, sizeof(*s));
	s->stop_at = stop;
	int rc = store_foreach(r, &zz, foreach_cb, s);
	assert_int_equal(rc, stop ? 77 : 0);
	store_reader_end(r);
}

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

static void test_rdonly_reopen(void **state)
{
	(void)state;
	struct store_writer *w = wbegin();
	struct store_zone *z = wzone(w, "bl.example");
	merge_ok(w, z, "192.0.2.0/24", &(struct putspec){.flags = STORE_F_A, .a = A127(7), .hits = 1});
	wcommit(w);
	store_close(S);
	S = NULL;

	/* read-only without STORE_CREATE on the existing store */
	assert_int_equal(store_open(&S, dbdir, STORE_RDONLY), 0);
	struct store_reader *r = rnew();
	rbegin(r);
	struct store_zone zz = zget(r, "bl.example");
	expect_match(r, &zz, "192.0.2.77", NOW, "192.0.2.0/24", A127(7));
	store_reader_end(r);
	store_reader_free(r);
	/* writing is refused */
	struct store_writer *w2 = NULL;
	int rc = store_writer_begin(S, &w2);
	if (rc == 0) {
		store_writer_abort(w2);
		fail_msg("store_writer_begin succeeded on a read-only store");
	}
	store_close(S);
	S = NULL;

	/* reopening read-write keeps the data */
	assert_int_equal(store_open(&S, dbdir, 0), 0);
	r = rnew();
	rbegin(r);
	zz = zget(r, "bl.example");
	expect_match(r, &zz, "192.0.2.1", NOW, "192.0.2.0/24", A127(7));
	store_reader_end(r);
	store_reader_free(r);
}

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open_missing_and_create, setup, teardown),
		cmocka_unit_test_setup_teardown(test_zone_create_get, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lookup_longest_prefix, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lookup_all_lengths, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expired, setup, teardown),
		cmocka_unit_test_setup_teardown(test_any_listed_within, setup, teardown),
		cmocka_unit_test_setup_teardown(test_any_listed_within_excluded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_serial, setup, teardown),
		cmocka_unit_test_setup_teardown(test_merge_semantics, setup, teardown),
		cmocka_unit_test_setup_teardown(test_merge_earliest_first_seen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_text_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sources, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replace, setup, teardown),
		cmocka_unit_test_setup_teardown(test_abort, setup, teardown),
		cmocka_unit_test_setup_teardown(test_foreach_order_count, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rdonly_reopen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_snapshot, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lookup_random_model, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
