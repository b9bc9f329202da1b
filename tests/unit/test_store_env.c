/* Unit tests for lib/store/env.c: opening and creating the store (a missing store,
 * read-only and read-write reopening), the schema check (newer or garbage schemas
 * refused) and the upgrade from schema 2, which builds the IPv4 summary (checked
 * against the model of summarytest.h, with many zones, and against a schema 2
 * writer still open in another process). A fresh LMDB store per test. */
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
#include <sys/wait.h>
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
	return storetest_open("/tmp/dnsbl-test-store-env-XXXXXX") < 0 ? -1 : 0;
}

static int teardown(void **state)
{
	(void)state;
	return storetest_close();
}

/* --- open and reopen --- */

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

/* --- the upgrade from schema 2; newer schemas refused --- */

static struct model MA, MB; /* the models of the two zones a test uses */

/* Checks ms with a reader only (a read-only store has no writer). */
static void check_reader_only(struct model **ms, int nm, int nq)
{
	static struct query qs[20000];
	int n = 0;
	for (int i = 0; i < nm; i++)
		n += edge_queries(ms[i], (uint8_t)i, NOW, qs + n, 20000 - nq - n);
	for (int i = 0; i < nq && n < 20000; i++)
		qs[n++] = (struct query){ (uint8_t)(rnd() % (uint32_t)nm), query_addr(),
					  QTIMES[rnd() % 3] };
	check_with_reader(ms, nm, qs, n);
}

static void fill_two_zones(void)
{
	memset(&MA, 0, sizeof(MA));
	memset(&MB, 0, sizeof(MB));
	MA.zone = "a.example";
	MB.zone = "b.example";
	struct store_writer *w = wbegin();
	struct store_zone *za = wzone(w, MA.zone), *zb = wzone(w, MB.zone);
	for (int i = 0; i < 150; i++) {
		struct store_put put;
		put_init(&put, NOW - 10000);
		put.flags = rnd() % 5 == 0 ? STORE_F_EXCLUDE : STORE_F_A;
		put.a = put.flags == STORE_F_A ? A127((uint32_t)i) : 0;
		if (rnd() % 4 == 0) {
			put.expires_set = true;
			put.expires = NOW - 5000 + rnd() % 10000;
		}
		model_merge(w, i % 3 == 0 ? zb : za, i % 3 == 0 ? &MB : &MA, entry_addr(),
			    LENS[rnd() % NLENS], &put);
	}
	/* an IPv6 entry and a name zone's entry are no business of the summary */
	struct entry_key p6;
	assert_int_equal(prefix_parse("2001:db8::/32", 13, &p6), 0);
	struct store_put put;
	put_init(&put, NOW - 100);
	assert_int_equal(store_merge(w, za, &p6, &put, NULL), 0);
	plain_merge(w, zb, &MB, IP(11, 0, 0, 0), 8, A127(11));
	plain_merge(w, za, &MA, IP(12, 1, 2, 3), 32, A127(12));
	wcommit(w);
}

static void test_upgrade_from_schema2(void **state)
{
	(void)state;
	rng_seed(2);
	fill_two_zones();
	struct model *ms[2] = { &MA, &MB };
	check_random_and_edges(ms, 2, 2000);
	uint16_t ida = zone_id(MA.zone), idb = zone_id(MB.zone);

	store_pause();
	raw_downgrade();
	raw_read(ida, 0, &RS);
	assert_false(RS.db);
	assert_true(RS.schema_ok);
	assert_int_equal(RS.schema, 2);

	/* read-only, no upgrade: lookups without a summary */
	int rc = store_open(&S, dbdir, STORE_RDONLY);
	if (rc != 0)
		fail_msg("store_open(schema 2, STORE_RDONLY) = %d (%s)", rc, dnsbl_strerror(rc));
	check_reader_only(ms, 2, 8000);
	store_pause();
	raw_read(ida, 0, &RS);
	assert_false(RS.db); /* the read-only open left it alone */
	assert_int_equal(RS.schema, 2);

	/* any writer upgrades */
	rc = store_open(&S, dbdir, STORE_CREATE);
	if (rc != 0)
		fail_msg("store_open(schema 2, STORE_CREATE) = %d (%s)", rc, dnsbl_strerror(rc));
	store_pause();
	raw_read(ida, IP(12, 1, 2, 3) >> 8, &RS);
	assert_true(RS.schema_ok);
	assert_int_equal(RS.schema, STORE_SCHEMA_VERSION);
	assert_true(RS.db);
	assert_false(RS.malformed);
	assert_true(RS.total > 0);
	assert_true(RS.chunk[10] && RS.chunk[12]);
	assert_true(RS.word_found);
	assert_int_equal(RS.word, 1);
	raw_read(idb, IP(11, 200, 3, 4) >> 8, &RS);
	assert_true(RS.chunk[11]);
	assert_int_equal(RS.word & 0x3f00, 9 << 8);
	store_resume();
	check_random_and_edges(ms, 2, 8000);
	/* and it keeps working as the current schema */
	struct store_writer *w = wbegin();
	plain_merge(w, wzone(w, MA.zone), &MA, IP(15, 1, 2, 3), 32, A127(15));
	model_delete(w, wzone(w, MA.zone), &MA, model_find(&MA, IP(12, 1, 2, 3), 32));
	wcommit(w);
	check_random_and_edges(ms, 2, 2000);
	assert_false(summary_of(ida, 0)->chunk[12]);

	/* dnsbld's way: STORE_RDONLY | STORE_CREATE upgrades, then reads with the summary */
	store_pause();
	raw_downgrade();
	rc = store_open(&S, dbdir, STORE_RDONLY | STORE_CREATE);
	if (rc != 0)
		fail_msg("store_open(schema 2, STORE_RDONLY | STORE_CREATE) = %d (%s)", rc,
			 dnsbl_strerror(rc));
	check_reader_only(ms, 2, 8000);
	store_pause();
	raw_read(ida, 0, &RS);
	assert_int_equal(RS.schema, STORE_SCHEMA_VERSION);
	assert_true(RS.chunk[15]);
	store_resume();
}

static void test_schema_refused(void **state)
{
	(void)state;
	rng_seed(3);
	fill_two_zones();
	store_pause();
	uint32_t newer = STORE_SCHEMA_VERSION + 1;
	raw_set_schema(&newer, 4);
	assert_int_equal(store_open(&S, dbdir, STORE_CREATE), DNSBL_EVERSION);
	assert_null(S);
	assert_int_equal(store_open(&S, dbdir, STORE_RDONLY), DNSBL_EVERSION);
	assert_int_equal(store_open(&S, dbdir, STORE_RDONLY | STORE_CREATE), DNSBL_EVERSION);
	assert_int_equal(store_open(&S, dbdir, 0), DNSBL_EVERSION);
	uint32_t big = 0xffffffffu;
	raw_set_schema(&big, 4);
	assert_int_equal(store_open(&S, dbdir, STORE_CREATE), DNSBL_EVERSION);
	raw_set_schema("xyz", 3);
	assert_int_equal(store_open(&S, dbdir, STORE_CREATE), DNSBL_EVERSION);
	assert_int_equal(store_open(&S, dbdir, STORE_RDONLY), DNSBL_EVERSION);
	raw_set_schema("\x02\x00\x00\x00\x00", 5);
	assert_int_equal(store_open(&S, dbdir, STORE_CREATE), DNSBL_EVERSION);
	uint32_t zero = 0;
	raw_set_schema(&zero, 4);
	assert_int_equal(store_open(&S, dbdir, STORE_CREATE), DNSBL_EVERSION);
	/* the refusals left the schema as it was put */
	raw_read(1, 0, &RS);
	assert_int_equal(RS.schema, 0);
	/* back to the current one: opens again */
	uint32_t current = STORE_SCHEMA_VERSION;
	raw_set_schema(&current, 4);
	store_resume();
	struct model *ms[2] = { &MA, &MB };
	check_random_and_edges(ms, 2, 2000);
}

/* A store with more zones than one writer may touch (64) upgrades too. */
static void test_upgrade_many_zones(void **state)
{
	(void)state;
	enum { NZ = 70 };
	char name[32];
	for (int part = 0; part < 2; part++) {
		struct store_writer *w = wbegin();
		for (int i = part * 35; i < (part + 1) * 35; i++) {
			snprintf(name, sizeof(name), "z%d.example", i);
			struct store_zone *z = wzone(w, name);
			struct entry_key p;
			prefix4_make(&p, IP(10, 0, i, 1), 32);
			struct store_put put;
			put_init(&put, NOW - 100);
			assert_int_equal(store_merge(w, z, &p, &put, NULL), 0);
		}
		wcommit(w);
	}
	store_pause();
	raw_downgrade();
	int rc = store_open(&S, dbdir, STORE_CREATE);
	if (rc != 0)
		fail_msg("upgrading a schema 2 store with %d zones that have IPv4 entries: "
			 "store_open(STORE_CREATE) = %d (%s), want 0",
			 NZ, rc, dnsbl_strerror(rc));
	struct store_reader *r = rnew();
	rbegin(r);
	for (int i = 0; i < NZ; i++) {
		snprintf(name, sizeof(name), "z%d.example", i);
		struct store_zone z = zget(r, name);
		struct entry_key q, mk;
		struct store_entry e;
		prefix4_make(&q, IP(10, 0, i, 1), 32);
		assert_int_equal(store_lookup(r, &z, &q, NOW, &e, &mk), 0);
		prefix4_make(&q, IP(10, 0, i, 2), 32);
		assert_int_equal(store_lookup(r, &z, &q, NOW, &e, &mk), DNSBL_ENOTFOUND);
	}
	store_reader_end(r);
	store_reader_free(r);
}

/* A process that opened a schema 2 store for writing without STORE_CREATE (so it
 * does not upgrade it and keeps no summary) tries to write after another process
 * upgraded the store: it is refused, so no entry is ever hidden from schema 3
 * readers by a missing summary mark. */
static void test_upgrade_while_schema2_writer_open(void **state)
{
	(void)state;
	struct store_writer *w = wbegin();
	struct store_zone *z = wzone(w, "bl.example");
	struct entry_key p;
	struct store_put put;
	put_init(&put, NOW - 100);
	prefix4_make(&p, IP(10, 9, 9, 9), 32);
	assert_int_equal(store_merge(w, z, &p, &put, NULL), 0);
	wcommit(w);
	store_pause();
	raw_downgrade();

	int to_child[2], to_parent[2];
	assert_int_equal(pipe(to_child), 0);
	assert_int_equal(pipe(to_parent), 0);
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* the child: open for writing without STORE_CREATE, wait, then write */
		struct store *cs = NULL;
		char c = 'x';
		alarm(20);
		int rc = store_open(&cs, dbdir, 0);
		if (write(to_parent[1], rc == 0 ? "o" : "e", 1) != 1 || rc != 0)
			_exit(2);
		if (read(to_child[0], &c, 1) != 1)
			_exit(3);
		/* writing without the summary would hide the entry from readers:
		 * the writer is refused instead */
		struct store_writer *cw = NULL;
		if (store_writer_begin(cs, &cw) != DNSBL_EVERSION || cw != NULL)
			_exit(4);
		store_close(cs);
		_exit(0);
	}
	char c = 0;
	assert_int_equal(read(to_parent[0], &c, 1), 1);
	assert_int_equal(c, 'o');
	/* the child has the store open as schema 2; now upgrade it */
	int rc = store_open(&S, dbdir, STORE_CREATE);
	assert_int_equal(rc, 0);
	assert_int_equal(write(to_child[1], "g", 1), 1);
	int status = 0;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	close(to_child[0]);
	close(to_child[1]);
	close(to_parent[0]);
	close(to_parent[1]);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);

	/* nothing was written behind the summary's back: writer and reader agree */
	w = wbegin();
	z = wzone(w, "bl.example");
	struct store_entry e;
	struct entry_key q, mk;
	prefix4_make(&q, IP(20, 1, 2, 3), 32);
	assert_int_equal(store_writer_lookup(w, z, &q, NOW, &e, &mk), DNSBL_ENOTFOUND);
	store_writer_abort(w);
	struct store_reader *r = rnew();
	rbegin(r);
	assert_int_equal(rlook(r, "bl.example", IP(10, 9, 9, 9), &mk), 0);
	assert_int_equal(rlook(r, "bl.example", IP(20, 1, 2, 3), &mk), DNSBL_ENOTFOUND);
	store_reader_end(r);
	store_reader_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open_missing_and_create, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rdonly_reopen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_upgrade_from_schema2, setup, teardown),
		cmocka_unit_test_setup_teardown(test_schema_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_upgrade_many_zones, setup, teardown),
		cmocka_unit_test_setup_teardown(test_upgrade_while_schema2_writer_open, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
