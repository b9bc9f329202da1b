/* The fixture shared by the answer tests (header only: the Makefile compiles only
 * tests/unit/test_*.c): a config file and a store in a temporary directory, and a
 * reader, zone table and answer context over them. Everything is static so each test
 * binary gets its own copy. Include after cmocka.h and the project headers. */
#ifndef DNSBL_ANSWERTEST_H
#define DNSBL_ANSWERTEST_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "answer.h"
#include "config.h"
#include "store.h"
#include "testutil.h"
#include "zone.h"

static char dir[256];
static char conf_path[400];
static struct config cfg;
static struct store *S;
static struct store_reader *R;
static struct zone_table zt;
static struct answer_ctx ctx;
static uint32_t now0;
static struct guard_buf gb;

static int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p);
}

/* Makes the directory (named after tag) and starts its config file with the [server]
 * section; the caller writes the zones and closes it. Returns NULL on failure. */
static FILE *fixture_config_begin(const char *tag)
{
	now0 = (uint32_t)time(NULL);
	if (guard_init(&gb, 70000) != 0)
		return NULL;
	snprintf(dir, sizeof(dir), "/tmp/dnsbl-test-%s-XXXXXX", tag);
	if (mkdtemp(dir) == NULL)
		return NULL;
	snprintf(conf_path, sizeof(conf_path), "%s/dnsbl.conf", dir);
	FILE *f = fopen(conf_path, "w");
	if (f != NULL)
		fprintf(f, "[server]\ndb = db\nlisten = 127.0.0.1:5300\n");
	return f;
}

/* Loads the config written and opens (creates) its store. */
static int fixture_store_open(void)
{
	char err[4096] = "";
	int rc = config_load(conf_path, &cfg, err, sizeof(err));
	if (rc != 0) {
		print_error("config_load: %d %s\n", rc, err);
		return -1;
	}
	rc = store_open(&S, cfg.db, STORE_CREATE);
	if (rc != 0) {
		print_error("store_open(%s): %d\n", cfg.db, rc);
		return -1;
	}
	return 0;
}

/* After the entries are committed: the reader, zone table and answer context. */
static int fixture_answer_ready(void)
{
	if (store_reader_new(S, &R) != 0 || zone_table_init(&zt, &cfg) != 0 ||
	    answer_ctx_init(&ctx, &zt, R) != 0)
		return -1;
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	answer_ctx_free(&ctx);
	zone_table_free(&zt);
	if (R)
		store_reader_free(R);
	if (S)
		store_close(S);
	config_free(&cfg);
	nftw(dir, rm_cb, 8, FTW_DEPTH | FTW_PHYS);
	guard_free(&gb);
	return 0;
}

#endif
