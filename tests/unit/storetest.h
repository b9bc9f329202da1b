/* Shared fixtures of the store unit tests: a fresh LMDB store per test in a
 * temporary directory, and helpers that fail the test on any store error.
 * Include after <cmocka.h>; inline so that each test file uses what it needs. */
#ifndef DNSBL_STORETEST_H
#define DNSBL_STORETEST_H

#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "addr.h"
#include "err.h"
#include "store.h"

static char basedir[256]; /* from mkdtemp */
static char dbdir[300];   /* basedir/db: created by store_open */
static struct store *S;

static inline int storetest_rm(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p);
}

/* Creates a temporary directory from template tmpl ("...XXXXXX") and a store in it. */
static inline int storetest_open(const char *tmpl)
{
	snprintf(basedir, sizeof(basedir), "%s", tmpl);
	if (mkdtemp(basedir) == NULL)
		return -1;
	snprintf(dbdir, sizeof(dbdir), "%s/db", basedir);
	S = NULL;
	int rc = store_open(&S, dbdir, STORE_CREATE);
	if (rc != 0) {
		print_error("store_open(%s, STORE_CREATE) = %d (%s)\n", dbdir, rc,
			    dnsbl_strerror(rc));
		return -1;
	}
	return 0;
}

/* Closes the store and removes the directory. */
static inline int storetest_close(void)
{
	if (S)
		store_close(S);
	S = NULL;
	nftw(basedir, storetest_rm, 8, FTW_DEPTH | FTW_PHYS);
	return 0;
}

static inline struct entry_key PFX(const char *s)
{
	struct entry_key p;
	int rc = prefix4_parse(s, strlen(s), &p);
	if (rc != 0)
		fail_msg("test bug: prefix4_parse(\"%s\") = %d", s, rc);
	return p;
}

static inline struct store_writer *wbegin(void)
{
	struct store_writer *w = NULL;
	int rc = store_writer_begin(S, &w);
	if (rc != 0)
		fail_msg("store_writer_begin = %d (%s)", rc, dnsbl_strerror(rc));
	assert_non_null(w);
	return w;
}

static inline void wcommit(struct store_writer *w)
{
	int rc = store_writer_commit(w);
	if (rc != 0)
		fail_msg("store_writer_commit = %d (%s)", rc, dnsbl_strerror(rc));
}

static inline struct store_zone *wzone(struct store_writer *w, const char *name)
{
	struct store_zone *z = NULL;
	int rc = store_writer_zone(w, name, &z);
	if (rc != 0)
		fail_msg("store_writer_zone(%s) = %d (%s)", name, rc, dnsbl_strerror(rc));
	assert_non_null(z);
	return z;
}

static inline struct store_reader *rnew(void)
{
	struct store_reader *r = NULL;
	assert_int_equal(store_reader_new(S, &r), 0);
	assert_non_null(r);
	return r;
}

static inline void rbegin(struct store_reader *r)
{
	int rc = store_reader_begin(r);
	if (rc != 0)
		fail_msg("store_reader_begin = %d", rc);
}

static inline struct store_zone zget(struct store_reader *r, const char *name)
{
	struct store_zone z;
	memset(&z, 0, sizeof(z));
	int rc = store_zone_get(r, name, &z);
	if (rc != 0)
		fail_msg("store_zone_get(%s) = %d (%s)", name, rc, dnsbl_strerror(rc));
	return z;
}

#endif
