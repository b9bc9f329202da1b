/* Unit tests for lib/store/journal.c, the transfer journal: every writer path
 * (merge creating and updating, delete, delist, the expiry sweep, --replace
 * removals) appends exactly the record it should, with the old values, in commit
 * order and with the zone's serial; an abort leaves nothing; a key changed twice
 * in one commit appears once with its value from before; overflow past the size,
 * pruning to the size (the newest kept), size 0; a schema 3 store read without a
 * journal and upgraded by a writer; damaged and restarted-id records. A fresh LMDB
 * store per test. */
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
#include <time.h>

#include <cmocka.h>
#include <lmdb.h>

#include "addr.h"
#include "dname.h"
#include "err.h"
#include "store.h"
#include "storetest.h"
#include "storeops.h"

#define MAXREC 64
#define MAXCH 64

/* A journal record as the test sees it: copied out of the snapshot. */
struct jchange {
	char key[ENTRY_KEY_TEXT_MAX];
	bool existed;
	uint8_t flags;
	uint32_t a, hits, expires;
	uint16_t source;
	char reason[STORE_REASON_MAX + 1];
};

struct jrec {
	uint64_t txn;
	uint32_t serial, time;
	bool overflow;
	uint32_t count;
	int n; /* changes store_journal_changes passed */
	int changes_rc;
	struct jchange ch[MAXCH];
};

struct jlist {
	int n;
	struct jrec rec[MAXREC];
};

static struct jlist JL; /* large: not on the stack */

static int change_cb(void *arg, const struct store_journal_change *c)
{
	struct jrec *r = arg;
	if (r->n == MAXCH)
		fail_msg("more than %d changes in one record", MAXCH);
	struct jchange *j = &r->ch[r->n++];
	memset(j, 0, sizeof(*j));
	entry_key_format(&c->key, 1, j->key, sizeof(j->key));
	j->existed = c->existed;
	if (c->existed) {
		j->flags = c->old.flags;
		j->a = c->old.a;
		j->hits = c->old.hits;
		j->expires = c->old.expires;
		j->source = c->old.source_id;
		memcpy(j->reason, c->old.reason, c->old.reason_len);
	}
	return 0;
}

static int rec_cb(void *arg, const struct store_journal_rec *rec)
{
	struct jlist *l = arg;
	if (l->n == MAXREC)
		fail_msg("more than %d records", MAXREC);
	struct jrec *r = &l->rec[l->n++];
	memset(r, 0, sizeof(*r));
	r->txn = rec->txn;
	r->serial = rec->serial;
	r->time = rec->time;
	r->overflow = rec->overflow;
	r->count = rec->count;
	r->changes_rc = store_journal_changes(rec, change_cb, r);
	return 0;
}

/* Reads zone's journal, newest first, into JL; returns the walk's result. */
static int jwalk(const char *zone)
{
	struct store_reader *r = rnew();
	rbegin(r);
	struct store_zone z = zget(r, zone);
	memset(&JL, 0, sizeof(JL));
	int rc = store_journal_walk(r, &z, rec_cb, &JL);
	store_reader_end(r);
	store_reader_free(r);
	return rc;
}

/* jwalk that must succeed, every record's changes decoding. Returns JL.n. */
static int jread(const char *zone)
{
	int rc = jwalk(zone);
	if (rc != 0)
		fail_msg("store_journal_walk(%s) = %d (%s)", zone, rc, dnsbl_strerror(rc));
	for (int i = 0; i < JL.n; i++) {
		if (JL.rec[i].changes_rc != 0)
			fail_msg("record %d: store_journal_changes = %d", i, JL.rec[i].changes_rc);
		assert_int_equal(JL.rec[i].n, (int)JL.rec[i].count);
		if (i > 0)
			assert_true(JL.rec[i].txn < JL.rec[i - 1].txn);
	}
	return JL.n;
}

static const struct jchange *find_change(const struct jrec *r, const char *key)
{
	for (int i = 0; i < r->n; i++)
		if (strcmp(r->ch[i].key, key) == 0)
			return &r->ch[i];
	fail_msg("no change of %s in the record", key);
	return NULL;
}

static void expect_created(const struct jrec *r, int i, const char *key)
{
	assert_true(i < r->n);
	assert_string_equal(r->ch[i].key, key);
	assert_false(r->ch[i].existed);
}

static void expect_old(const struct jrec *r, int i, const char *key, uint32_t a)
{
	assert_true(i < r->n);
	assert_string_equal(r->ch[i].key, key);
	assert_true(r->ch[i].existed);
	assert_int_equal(r->ch[i].a, a);
}

static int setup(void **state)
{
	(void)state;
	return storetest_open("/tmp/dnsbl-test-store-journal-XXXXXX") < 0 ? -1 : 0;
}

static int teardown(void **state)
{
	(void)state;
	return storetest_close();
}

/* A plain listing with A 127.0.0.a. */
#define PA(x) (&(struct putspec){ .flags = STORE_F_A, .a = A127(x), .hits = 1 })

/* --- each writer path --- */

static void test_merge_created_updated(void **state)
{
	(void)state;
	uint32_t t0 = (uint32_t)time(NULL);
	struct store_writer *w = wbegin();
	struct store_zone *z = wzone(w, "bl.example");
	merge_ok(w, z, "192.0.2.1/32", PA(1));
	merge_ok(w, z, "10.0.0.0/8", PA(2));
	merge_ok(w, z, "192.0.2.0/24", PA(3));
	wcommit(w);
	assert_int_equal(jread("bl.example"), 1);
	struct jrec *r = &JL.rec[0];
	assert_false(r->overflow);
	assert_int_equal(r->count, 3);
	/* in the order the commit made them */
	expect_created(r, 0, "192.0.2.1");
	expect_created(r, 1, "10.0.0.0/8");
	expect_created(r, 2, "192.0.2.0/24");
	assert_int_equal(r->serial, serial_of("bl.example"));
	assert_true(r->time >= t0 && r->time <= (uint32_t)time(NULL));
	uint64_t txn1 = r->txn;

	w = wbegin();
	z = wzone(w, "bl.example");
	merge_ok(w, z, "10.0.0.0/8", &(struct putspec){ .flags = STORE_F_A, .a = A127(9),
							.hits = 2, .reason = "again" });
	merge_ok(w, z, "172.16.0.0/12", PA(4));
	wcommit(w);
	assert_int_equal(jread("bl.example"), 2);
	r = &JL.rec[0];
	assert_true(r->txn > txn1);
	assert_int_equal(JL.rec[1].txn, txn1);
	assert_int_equal(r->serial, serial_of("bl.example"));
	assert_int_equal(r->serial, JL.rec[1].serial + 1);
	assert_int_equal(r->count, 2);
	expect_old(r, 0, "10.0.0.0/8", A127(2));
	assert_int_equal(r->ch[0].hits, 1);
	assert_int_equal(r->ch[0].flags, STORE_F_A);
	assert_string_equal(r->ch[0].reason, "");
	expect_created(r, 1, "172.16.0.0/12");
}

static void test_delete_and_delist(void **state)
{
	(void)state;
	struct store_writer *w = wbegin();
	struct store_zone *z = wzone(w, "bl.example");
	uint16_t oper = wsource(w, "operator:alice");
	merge_ok(w, z, "192.0.2.1/32", &(struct putspec){ .flags = STORE_F_A, .a = A127(1),
							  .hits = 1, .reason = "spam" });
	merge_ok(w, z, "192.0.2.2/32", PA(2));
	merge_ok(w, z, "192.0.2.3/32", PA(3));
	wcommit(w);

	w = wbegin();
	z = wzone(w, "bl.example");
	del_ok(w, z, "192.0.2.1/32");
	struct entry_key p = PFX("192.0.2.9/32");
	assert_int_equal(store_delete(w, z, &p), DNSBL_ENOTFOUND);
	p = PFX("192.0.2.2/32");
	assert_int_equal(store_delist(w, z, &p, oper, "fp", 2, NOW), 0);
	wcommit(w);
	assert_int_equal(jread("bl.example"), 2);
	struct jrec *r = &JL.rec[0];
	assert_int_equal(r->count, 2); /* the missing key is no change */
	expect_old(r, 0, "192.0.2.1", A127(1));
	assert_string_equal(r->ch[0].reason, "spam");
	expect_old(r, 1, "192.0.2.2", A127(2));
	assert_int_equal(r->serial, serial_of("bl.example"));
}

static void test_expire_sweep(void **state)
{
	(void)state;
	struct store_writer *w = wbegin();
	struct store_zone *z = wzone(w, "bl.example");
	merge_ok(w, z, "192.0.2.1/32", &(struct putspec){ .flags = STORE_F_A, .a = A127(1),
							  .hits = 1, .expires = NOW - 50 });
	merge_ok(w, z, "192.0.2.2/32", &(struct putspec){ .flags = STORE_F_A, .a = A127(2),
							  .hits = 1, .expires = NOW + 50 });
	merge_ok(w, z, "192.0.2.3/32", &(struct putspec){ .flags = STORE_F_A, .a = A127(3),
							  .hits = 1, .expires = NOW - 1 });
	wcommit(w);
	struct store_expire_result res = { 0 };
	assert_int_equal(store_expire(S, "bl.example", NOW, 0, 100, &res), 0);
	assert_int_equal(res.expired, 2);
	assert_int_equal(jread("bl.example"), 2);
	struct jrec *r = &JL.rec[0];
	assert_int_equal(r->count, 2);
	expect_old(r, 0, "192.0.2.1", A127(1));
	assert_int_equal(r->ch[0].expires, NOW - 50);
	expect_old(r, 1, "192.0.2.3", A127(3));
	assert_int_equal(r->serial, serial_of("bl.example"));

	/* batches: one record per committed batch */
	w = wbegin();
	z = wzone(w, "bl.example");
	for (int i = 10; i < 15; i++) {
		char pfx[32];
		snprintf(pfx, sizeof(pfx), "198.51.100.%d/32", i);
		merge_ok(w, z, pfx, &(struct putspec){ .flags = STORE_F_A, .a = A127(i), .hits = 1,
						       .expires = NOW - 5 });
	}
	wcommit(w);
	memset(&res, 0, sizeof(res));
	assert_int_equal(store_expire(S, "bl.example", NOW, 0, 2, &res), 0);
	assert_int_equal(res.expired, 5);
	assert_int_equal(jread("bl.example"), 6); /* 2 + 2 + 1 and the three before */
	assert_int_equal(JL.rec[0].count, 1);
	assert_int_equal(JL.rec[1].count, 2);
	assert_int_equal(JL.rec[2].count, 2);
	expect_old(&JL.rec[0], 0, "198.51.100.14", A127(14));
	expect_old(&JL.rec[2], 0, "198.51.100.10", A127(10));
	assert_int_equal(JL.rec[0].serial, serial_of("bl.example"));
	assert_int_equal(JL.rec[2].serial + 2, JL.rec[0].serial);
}

static void test_replace_removals(void **state)
{
	(void)state;
	struct store_writer *w = wbegin();
	struct store_zone *z = wzone(w, "bl.example");
	uint16_t A = wsource(w, "feed-a"), B = wsource(w, "feed-b");
	merge_ok(w, z, "1.1.1.1/32", &(struct putspec){ .source = A, .hits = 1 });
	merge_ok(w, z, "1.1.1.2/32", &(struct putspec){ .source = A, .hits = 1 });
	merge_ok(w, z, "1.1.1.3/32", &(struct putspec){ .source = A, .hits = 1 });
	merge_ok(w, z, "1.1.1.4/32", &(struct putspec){ .source = B, .hits = 1 });
	wcommit(w);

	w = wbegin();
	z = wzone(w, "bl.example");
	assert_int_equal(store_replace_begin(w, z, A), 0);
	merge_ok(w, z, "1.1.1.2/32", &(struct putspec){ .source = A, .hits = 1 });
	merge_ok(w, z, "1.1.1.5/32", &(struct putspec){ .source = A, .hits = 1 });
	uint64_t removed = 0;
	assert_int_equal(store_replace_finish(w, &removed), 0);
	assert_int_equal(removed, 2);
	wcommit(w);
	assert_int_equal(jread("bl.example"), 2);
	struct jrec *r = &JL.rec[0];
	assert_int_equal(r->count, 4);
	const struct jchange *c = find_change(r, "1.1.1.2");
	assert_true(c->existed);
	assert_int_equal(c->hits, 1);
	assert_false(find_change(r, "1.1.1.5")->existed);
	c = find_change(r, "1.1.1.1");
	assert_true(c->existed);
	assert_int_equal(c->source, A);
	assert_true(find_change(r, "1.1.1.3")->existed);
	for (int i = 0; i < r->n; i++)
		assert_string_not_equal(r->ch[i].key, "1.1.1.4");
}

static void test_key_twice_in_one_commit(void **state)
{
	(void)state;
	struct store_writer *w = wbegin();
	struct store_zone *z = wzone(w, "bl.example");
	merge_ok(w, z, "192.0.2.1/32", PA(1));
	wcommit(w);

	w = wbegin();
	z = wzone(w, "bl.example");
	merge_ok(w, z, "192.0.2.1/32", PA(2));
	merge_ok(w, z, "192.0.2.1/32", PA(3));
	del_ok(w, z, "192.0.2.1/32");
	merge_ok(w, z, "192.0.2.1/32", PA(4));
	merge_ok(w, z, "192.0.2.7/32", PA(7)); /* created, then changed, then deleted */
	merge_ok(w, z, "192.0.2.7/32", PA(8));
	del_ok(w, z, "192.0.2.7/32");
	wcommit(w);
	assert_int_equal(jread("bl.example"), 2);
	struct jrec *r = &JL.rec[0];
	assert_int_equal(r->count, 2);
	expect_old(r, 0, "192.0.2.1", A127(1));
	expect_created(r, 1, "192.0.2.7");
}

static void test_abort_leaves_nothing(void **state)
{
	(void)state;
	struct store_writer *w = wbegin();
	struct store_zone *z = wzone(w, "bl.example");
	merge_ok(w, z, "192.0.2.1/32", PA(1));
	wcommit(w);
	assert_int_equal(jread("bl.example"), 1);
	uint64_t txn = JL.rec[0].txn;

	w = wbegin();
	z = wzone(w, "bl.example");
	merge_ok(w, z, "192.0.2.2/32", PA(2));
	del_ok(w, z, "192.0.2.1/32");
	store_writer_abort(w);
	assert_int_equal(jread("bl.example"), 1);
	assert_int_equal(JL.rec[0].txn, txn);

	/* a commit that changes nothing writes nothing */
	w = wbegin();
	wzone(w, "bl.example");
	wcommit(w);
	assert_int_equal(jread("bl.example"), 1);
}

static void test_zones_apart(void **state)
{
	(void)state;
	struct store_writer *w = wbegin();
	struct store_zone *a = wzone(w, "a.example"), *b = wzone(w, "b.example");
	merge_ok(w, a, "192.0.2.1/32", PA(1));
	merge_ok(w, b, "192.0.2.1/32", PA(2));
	merge_ok(w, b, "192.0.2.2/32", PA(3));
	wcommit(w);
	w = wbegin();
	b = wzone(w, "b.example");
	merge_ok(w, b, "192.0.2.1/32", PA(5));
	wcommit(w);
	assert_int_equal(jread("a.example"), 1);
	assert_int_equal(JL.rec[0].count, 1);
	uint64_t txn = JL.rec[0].txn;
	assert_int_equal(JL.rec[0].serial, serial_of("a.example"));
	assert_int_equal(jread("b.example"), 2);
	assert_int_equal(JL.rec[1].txn, txn); /* one commit, one txn id */
	assert_int_equal(JL.rec[1].count, 2);
	expect_old(&JL.rec[0], 0, "192.0.2.1", A127(2));
	assert_int_equal(JL.rec[0].serial, serial_of("b.example"));
}

static void test_names(void **state)
{
	(void)state;
	uint8_t buf[DNAME_KEY_MAX];
	struct entry_key k;
	struct store_put put;
	struct store_writer *w = wbegin();
	struct store_zone *z = wzone(w, "dbl.example");
	const char *names[] = { "spam.example.com", "*.phish.example", ".tree.example" };
	for (int i = 0; i < 3; i++) {
		assert_int_equal(dname_parse(names[i], strlen(names[i]), buf, &k), 0);
		memset(&put, 0, sizeof(put));
		put.flags = STORE_F_A;
		put.a = A127((uint32_t)i);
		put.seen = put.now = NOW - 100;
		assert_int_equal(store_merge(w, z, &k, &put, NULL), 0);
	}
	wcommit(w);
	w = wbegin();
	z = wzone(w, "dbl.example");
	assert_int_equal(dname_parse(names[1], strlen(names[1]), buf, &k), 0);
	assert_int_equal(store_delete(w, z, &k), 0);
	wcommit(w);
	assert_int_equal(jread("dbl.example"), 2);
	expect_old(&JL.rec[0], 0, "*.phish.example", A127(1));
	expect_created(&JL.rec[1], 0, "spam.example.com");
	expect_created(&JL.rec[1], 1, "*.phish.example");
	expect_created(&JL.rec[1], 2, ".tree.example");
}

/* --- the size: overflow, pruning --- */

/* Commits n new /32s under 10.x.y.z in zone "bl.example", from *next on. */
static void commit_new(int n, uint32_t *next)
{
	struct store_writer *w = wbegin();
	struct store_zone *z = wzone(w, "bl.example");
	for (int i = 0; i < n; i++) {
		struct entry_key p;
		prefix4_make(&p, 0x0a000000u + (*next)++, 32);
		struct store_put put;
		memset(&put, 0, sizeof(put));
		put.seen = put.now = NOW - 100;
		assert_int_equal(store_merge(w, z, &p, &put, NULL), 0);
	}
	wcommit(w);
}

static uint64_t stored_changes(void)
{
	uint64_t sum = 0;
	for (int i = 0; i < JL.n; i++)
		sum += JL.rec[i].count;
	return sum;
}

static void test_overflow(void **state)
{
	(void)state;
	uint32_t next = 1;
	store_set_journal_size(S, 5);
	commit_new(3, &next);
	commit_new(5, &next); /* exactly the size: kept */
	assert_int_equal(jread("bl.example"), 1); /* 3 + 5 > 5: the older pruned */
	assert_false(JL.rec[0].overflow);
	assert_int_equal(JL.rec[0].count, 5);
	commit_new(6, &next);
	assert_int_equal(jread("bl.example"), 1);
	assert_true(JL.rec[0].overflow);
	assert_int_equal(JL.rec[0].count, 0);
	assert_int_equal(JL.rec[0].n, 0);
	assert_int_equal(JL.rec[0].serial, serial_of("bl.example"));
	/* records after an overflow are kept again; the overflow stays as the wall */
	commit_new(2, &next);
	commit_new(2, &next);
	assert_int_equal(jread("bl.example"), 3);
	assert_true(JL.rec[2].overflow);
	assert_int_equal(stored_changes(), 4);
	/* an update of an existing key counts as a change too */
	struct store_writer *w = wbegin();
	struct store_zone *z = wzone(w, "bl.example");
	merge_ok(w, z, "10.0.0.1/32", PA(1));
	wcommit(w);
	assert_int_equal(jread("bl.example"), 4);
	assert_int_equal(stored_changes(), 5);
	expect_old(&JL.rec[0], 0, "10.0.0.1", 0);
}

static void test_prune_keeps_newest(void **state)
{
	(void)state;
	uint32_t next = 1;
	store_set_journal_size(S, 10);
	uint64_t txns[8];
	for (int i = 0; i < 8; i++) {
		commit_new(3, &next);
		jread("bl.example");
		txns[i] = JL.rec[0].txn;
		assert_true(stored_changes() <= 10);
	}
	assert_int_equal(jread("bl.example"), 3); /* 9 of 10 */
	for (int i = 0; i < 3; i++)
		assert_int_equal(JL.rec[i].txn, txns[7 - i]);
	/* the newest record is always kept, even when it alone fills the size */
	commit_new(10, &next);
	assert_int_equal(jread("bl.example"), 1);
	assert_int_equal(JL.rec[0].count, 10);
	commit_new(1, &next);
	assert_int_equal(jread("bl.example"), 1);
	assert_int_equal(JL.rec[0].count, 1);
	/* a smaller size takes effect at the next commit */
	commit_new(4, &next);
	commit_new(4, &next);
	assert_int_equal(jread("bl.example"), 3);
	store_set_journal_size(S, 4);
	commit_new(1, &next);
	assert_int_equal(jread("bl.example"), 1);
	assert_int_equal(stored_changes(), 1);
}

static void test_size_zero(void **state)
{
	(void)state;
	uint32_t next = 1;
	store_set_journal_size(S, 0);
	for (int i = 0; i < 4; i++) {
		commit_new(1 + i, &next);
		assert_int_equal(jread("bl.example"), 1);
		assert_true(JL.rec[0].overflow);
		assert_int_equal(JL.rec[0].count, 0);
		assert_int_equal(JL.rec[0].serial, serial_of("bl.example"));
	}
	/* back to a size: records again */
	store_set_journal_size(S, STORE_JOURNAL_DEFAULT);
	commit_new(2, &next);
	assert_int_equal(jread("bl.example"), 2);
	assert_false(JL.rec[0].overflow);
	assert_int_equal(JL.rec[0].count, 2);
}

struct count {
	uint32_t n, created;
};

static int count_change_cb(void *arg, const struct store_journal_change *c)
{
	struct count *cnt = arg;
	cnt->n++;
	cnt->created += !c->existed;
	return 0;
}

static int rec_count_cb(void *arg, const struct store_journal_rec *rec)
{
	return store_journal_changes(rec, count_change_cb, arg);
}

/* A large commit: the collecting table grows, and every change is there once. */
static void test_many_changes(void **state)
{
	(void)state;
	uint32_t next = 1;
	enum { N = 5000 };
	commit_new(N, &next);
	struct store_reader *r = rnew();
	rbegin(r);
	struct store_zone z = zget(r, "bl.example");
	struct count cnt = { 0, 0 };
	int rc = store_journal_walk(r, &z, rec_count_cb, &cnt);
	assert_int_equal(rc, 0);
	assert_int_equal(cnt.n, N);
	assert_int_equal(cnt.created, N);
	store_reader_end(r);
	store_reader_free(r);
}

/* --- schema 3 stores, damage --- */

static MDB_env *raw_env(void)
{
	MDB_env *env = NULL;
	assert_int_equal(mdb_env_create(&env), 0);
	mdb_env_set_maxdbs(env, 12);
	mdb_env_set_mapsize(env, 64ull << 30);
	int rc = mdb_env_open(env, dbdir, MDB_NOTLS, 0644);
	if (rc != 0)
		fail_msg("mdb_env_open(%s) = %s", dbdir, mdb_strerror(rc));
	return env;
}

/* Makes the closed store a schema 3 one: no journal database. */
static void raw_to_schema3(void)
{
	MDB_env *env = raw_env();
	MDB_txn *txn;
	MDB_dbi meta, j;
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "meta", 0, &meta), 0);
	assert_int_equal(mdb_dbi_open(txn, "journal", 0, &j), 0);
	assert_int_equal(mdb_drop(txn, j, 1), 0);
	uint32_t three = 3;
	MDB_val k = { 6, "schema" }, v = { sizeof(three), &three };
	assert_int_equal(mdb_put(txn, meta, &k, &v, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

/* The closed store's schema version and whether it has a journal database. */
static uint32_t raw_schema(bool *has_journal)
{
	MDB_env *env = raw_env();
	MDB_txn *txn;
	MDB_dbi meta, j;
	MDB_val k = { 6, "schema" }, v;
	uint32_t version = 0;
	assert_int_equal(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "meta", 0, &meta), 0);
	assert_int_equal(mdb_get(txn, meta, &k, &v), 0);
	memcpy(&version, v.mv_data, sizeof(version));
	*has_journal = mdb_dbi_open(txn, "journal", 0, &j) == 0;
	mdb_txn_abort(txn);
	mdb_env_close(env);
	return version;
}

/* Puts a raw journal record for zone zid under txn id txn. */
static void raw_journal_put(uint16_t zid, uint64_t txnid, const void *val, size_t n)
{
	MDB_env *env = raw_env();
	MDB_txn *txn;
	MDB_dbi j;
	uint8_t kb[10] = { (uint8_t)(zid >> 8), (uint8_t)zid };
	for (int i = 0; i < 8; i++)
		kb[2 + i] = (uint8_t)(txnid >> (56 - 8 * i));
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "journal", 0, &j), 0);
	MDB_val k = { sizeof(kb), kb }, v = { n, (void *)val };
	assert_int_equal(mdb_put(txn, j, &k, &v, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

static void reopen(unsigned flags)
{
	if (S)
		store_close(S);
	S = NULL;
	int rc = store_open(&S, dbdir, flags);
	if (rc != 0)
		fail_msg("store_open(%#x) = %d (%s)", flags, rc, dnsbl_strerror(rc));
}

static void test_schema3_upgrade(void **state)
{
	(void)state;
	struct store_writer *w = wbegin();
	struct store_zone *z = wzone(w, "bl.example");
	merge_ok(w, z, "192.0.2.1/32", PA(1));
	wcommit(w);
	store_close(S);
	S = NULL;
	raw_to_schema3();
	bool has_journal = true;
	assert_int_equal(raw_schema(&has_journal), 3);
	assert_false(has_journal);

	/* dnsbld's ways: no journal, nothing upgraded, lookups as before */
	unsigned ro[2] = { STORE_RDONLY, STORE_RDONLY | STORE_CREATE };
	for (int i = 0; i < 2; i++) {
		reopen(ro[i]);
		assert_int_equal(jwalk("bl.example"), 0);
		assert_int_equal(JL.n, 0);
		struct store_reader *r = rnew();
		rbegin(r);
		struct store_zone zz = zget(r, "bl.example");
		expect_match(r, &zz, "192.0.2.1", NOW, "192.0.2.1/32", A127(1));
		store_reader_end(r);
		store_reader_free(r);
		store_close(S);
		S = NULL;
		assert_int_equal(raw_schema(&has_journal), 3);
		assert_false(has_journal);
	}

	/* a writer opened without STORE_CREATE writes as schema 3 did: no journal */
	reopen(0);
	w = wbegin();
	z = wzone(w, "bl.example");
	merge_ok(w, z, "192.0.2.2/32", PA(2));
	wcommit(w);
	assert_int_equal(jwalk("bl.example"), 0);
	assert_int_equal(JL.n, 0);

	/* any writer with STORE_CREATE upgrades: no records for the past */
	reopen(STORE_CREATE);
	assert_int_equal(jread("bl.example"), 0);
	w = wbegin();
	z = wzone(w, "bl.example");
	merge_ok(w, z, "192.0.2.1/32", PA(3));
	wcommit(w);
	assert_int_equal(jread("bl.example"), 1);
	expect_old(&JL.rec[0], 0, "192.0.2.1", A127(1));
	assert_int_equal(JL.rec[0].serial, serial_of("bl.example"));
	store_close(S);
	S = NULL;
	assert_int_equal(raw_schema(&has_journal), STORE_SCHEMA_VERSION);
	assert_true(has_journal);

	/* and dnsbld then finds the journal */
	reopen(STORE_RDONLY);
	assert_int_equal(jread("bl.example"), 1);
}

static void test_damaged_record(void **state)
{
	(void)state;
	struct store_writer *w = wbegin();
	struct store_zone *z = wzone(w, "bl.example");
	merge_ok(w, z, "192.0.2.1/32", PA(1));
	wcommit(w);
	struct store_reader *r = rnew();
	rbegin(r);
	uint16_t zid = zget(r, "bl.example").id;
	store_reader_end(r);
	store_reader_free(r);
	assert_int_equal(jread("bl.example"), 1);
	uint64_t txn = JL.rec[0].txn;
	store_close(S);
	S = NULL;

	/* a count larger than the changes can hold */
	uint8_t bad[13 + 8] = { 0 };
	bad[9] = 200;
	raw_journal_put(zid, txn - 1, bad, sizeof(bad));
	reopen(STORE_RDONLY);
	assert_int_equal(jwalk("bl.example"), DNSBL_ESTORE);
	assert_int_equal(JL.n, 1); /* the newest came first */

	/* a change whose lengths run past the record */
	store_close(S);
	S = NULL;
	uint8_t trunc[13 + 8] = { 0 };
	trunc[9] = 1;
	trunc[13] = 200; /* key length */
	raw_journal_put(zid, txn - 1, trunc, sizeof(trunc));
	reopen(STORE_RDONLY);
	assert_int_equal(jwalk("bl.example"), 0);
	assert_int_equal(JL.n, 2);
	assert_int_equal(JL.rec[1].changes_rc, DNSBL_ESTORE);
}

/* Transaction ids that started again (a compacting copy): the zone's journal,
 * whose ids are now ahead, is dropped and an overflow record written. */
static void test_restarted_ids(void **state)
{
	(void)state;
	struct store_writer *w = wbegin();
	struct store_zone *z = wzone(w, "bl.example");
	struct store_zone *other = wzone(w, "other.example");
	merge_ok(w, z, "192.0.2.1/32", PA(1));
	merge_ok(w, other, "192.0.2.1/32", PA(1));
	wcommit(w);
	struct store_reader *r = rnew();
	rbegin(r);
	uint16_t zid = zget(r, "bl.example").id;
	store_reader_end(r);
	store_reader_free(r);
	store_close(S);
	S = NULL;
	uint8_t empty[13] = { 0 };
	raw_journal_put(zid, 1000000, empty, sizeof(empty));
	reopen(STORE_CREATE);
	assert_int_equal(jread("bl.example"), 2);
	assert_int_equal(JL.rec[0].txn, 1000000);

	w = wbegin();
	z = wzone(w, "bl.example");
	merge_ok(w, z, "192.0.2.2/32", PA(2));
	wcommit(w);
	assert_int_equal(jread("bl.example"), 1);
	assert_true(JL.rec[0].overflow);
	assert_true(JL.rec[0].txn < 1000000);
	assert_int_equal(JL.rec[0].serial, serial_of("bl.example"));
	assert_int_equal(jread("other.example"), 1); /* other zones untouched */
	/* and the next commit journals again */
	w = wbegin();
	z = wzone(w, "bl.example");
	merge_ok(w, z, "192.0.2.3/32", PA(3));
	wcommit(w);
	assert_int_equal(jread("bl.example"), 2);
	assert_false(JL.rec[0].overflow);
	expect_created(&JL.rec[0], 0, "192.0.2.3");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_merge_created_updated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delete_and_delist, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expire_sweep, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replace_removals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_key_twice_in_one_commit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_abort_leaves_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_zones_apart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_overflow, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prune_keeps_newest, setup, teardown),
		cmocka_unit_test_setup_teardown(test_size_zero, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_changes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_schema3_upgrade, setup, teardown),
		cmocka_unit_test_setup_teardown(test_damaged_record, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restarted_ids, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
