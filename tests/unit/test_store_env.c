/* Unit tests for lib/store/env.c: opening and creating the store (a missing store,
 * read-only and read-write reopening). A fresh LMDB store per test. */
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open_missing_and_create, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rdonly_reopen, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
