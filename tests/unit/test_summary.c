/* Unit tests for lib/summary.h (the IPv4 summary's pure functions) and its use in
 * lib/store.c (schema 3): store_lookup of an IPv4 address consults the zone's
 * summary, store_writer_lookup never does, so the writer is an oracle for the
 * reader. Covered: the word arithmetic, random merges / deletes / delistings /
 * aborts against a brute-force model and the writer, deleting everything,
 * replacement, the expiry sweep, the upgrade from schema 2 (and refusing newer
 * or garbage schemas), and the reader's per-snapshot chunk cache.
 *
 * The raw LMDB helpers (raw_*) close the store first: LMDB must not have one
 * environment open twice in a process. */
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
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <lmdb.h>

#include "addr.h"
#include "err.h"
#include "store.h"
#include "storetest.h"
#include "summary.h"

#define NOW 1700000000u
#define A127(x) (0x7f000000u | (x))
#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))

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

/* --- a small deterministic PRNG (xorshift32) --- */

static uint32_t rng_state = 1;

static void rng_seed(uint32_t s)
{
	rng_state = s ? s : 1;
}

static uint32_t rnd(void)
{
	uint32_t x = rng_state;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return rng_state = x;
}

static uint32_t mask4(unsigned len)
{
	return len == 0 ? 0 : ~0u << (32 - len);
}

static const char *fmt4(uint32_t a, unsigned len, char *buf)
{
	snprintf(buf, 24, "%u.%u.%u.%u/%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255,
		 len);
	return buf;
}

/* ====================================================================== */
/* 1. Pure functions                                                       */
/* ====================================================================== */

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

/* ====================================================================== */
/* Raw LMDB access (the store closed meanwhile)                             */
/* ====================================================================== */

static void store_pause(void)
{
	if (S)
		store_close(S);
	S = NULL;
}

static void store_resume(void)
{
	int rc = store_open(&S, dbdir, STORE_CREATE);
	if (rc != 0)
		fail_msg("store_open(STORE_CREATE) = %d (%s)", rc, dnsbl_strerror(rc));
}

static MDB_env *raw_env(bool rdonly)
{
	MDB_env *env = NULL;
	assert_int_equal(mdb_env_create(&env), 0);
	mdb_env_set_maxdbs(env, 12);
	mdb_env_set_mapsize(env, 64ull << 30);
	int rc = mdb_env_open(env, dbdir, MDB_NOTLS | (rdonly ? MDB_RDONLY : 0), 0644);
	if (rc != 0)
		fail_msg("mdb_env_open(%s) = %s", dbdir, mdb_strerror(rc));
	return env;
}

struct rawsum {
	bool db;          /* the summary database exists */
	bool schema_ok;   /* meta "schema" is a u32 */
	uint32_t schema;
	size_t total;     /* keys in the summary database */
	size_t zone_keys; /* keys of the zone asked about */
	bool chunk[SUMMARY_CHUNKS];
	bool malformed;   /* some key not 4 bytes or value not 128 KiB */
	bool word_found;  /* the chunk of the /24 asked about exists */
	uint16_t word;    /* its word */
};

/* Reads the summary database of the closed store: zone zid's chunks, and the word
 * of /24 t24 (host order /24 index). */
static void raw_read(uint16_t zid, uint32_t t24, struct rawsum *rs)
{
	memset(rs, 0, sizeof(*rs));
	MDB_env *env = raw_env(true);
	MDB_txn *txn;
	MDB_dbi meta, sum;
	MDB_val k, v;
	assert_int_equal(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "meta", 0, &meta), 0);
	k.mv_size = 6;
	k.mv_data = "schema";
	if (mdb_get(txn, meta, &k, &v) == 0 && v.mv_size == 4) {
		rs->schema_ok = true;
		memcpy(&rs->schema, v.mv_data, 4);
	}
	int rc = mdb_dbi_open(txn, "summary", 0, &sum);
	if (rc == 0) {
		rs->db = true;
		MDB_cursor *cur;
		assert_int_equal(mdb_cursor_open(txn, sum, &cur), 0);
		for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
		     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
			const uint8_t *kb = k.mv_data;
			rs->total++;
			if (k.mv_size != 4 || v.mv_size != SUMMARY_CHUNK_BYTES) {
				rs->malformed = true;
				continue;
			}
			if ((uint16_t)(kb[0] << 8 | kb[1]) != zid)
				continue;
			uint32_t c = (uint32_t)(kb[2] << 8 | kb[3]);
			rs->zone_keys++;
			if (c < SUMMARY_CHUNKS)
				rs->chunk[c] = true;
			else
				rs->malformed = true;
			if (c == t24 >> SUMMARY_CHUNK_SHIFT) {
				rs->word_found = true;
				memcpy(&rs->word,
				       (const uint8_t *)v.mv_data +
					       2 * (t24 & (SUMMARY_CHUNK_WORDS - 1)),
				       2);
			}
		}
		assert_int_equal(rc, MDB_NOTFOUND);
		mdb_cursor_close(cur);
	} else {
		assert_int_equal(rc, MDB_NOTFOUND);
	}
	mdb_txn_abort(txn);
	mdb_env_close(env);
}

/* Makes the closed store look like schema version 2: no summary database, meta
 * "schema" = 2. */
static void raw_downgrade(void)
{
	MDB_env *env = raw_env(false);
	MDB_txn *txn;
	MDB_dbi meta, sum;
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "meta", 0, &meta), 0);
	int rc = mdb_dbi_open(txn, "summary", 0, &sum);
	if (rc == 0)
		assert_int_equal(mdb_drop(txn, sum, 1), 0);
	else
		assert_int_equal(rc, MDB_NOTFOUND);
	uint32_t two = 2;
	MDB_val k = { 6, "schema" }, v = { sizeof(two), &two };
	assert_int_equal(mdb_put(txn, meta, &k, &v, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

/* Puts raw bytes as meta "schema" of the closed store. */
static void raw_set_schema(const void *bytes, size_t n)
{
	MDB_env *env = raw_env(false);
	MDB_txn *txn;
	MDB_dbi meta;
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "meta", 0, &meta), 0);
	MDB_val k = { 6, "schema" }, v = { n, (void *)bytes };
	assert_int_equal(mdb_put(txn, meta, &k, &v, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

static struct rawsum RS; /* large: not on the stack */

/* raw_read with the store closed around it. */
static const struct rawsum *summary_of(uint16_t zid, uint32_t t24)
{
	store_pause();
	raw_read(zid, t24, &RS);
	store_resume();
	return &RS;
}

/* ====================================================================== */
/* The model                                                                */
/* ====================================================================== */

#define MAXE 2048

struct ment {
	uint32_t addr;
	uint8_t len;
	bool present;
	uint8_t flags;
	uint32_t a, expires;
};

struct model {
	const char *zone;
	int n;
	struct ment e[MAXE];
};

static bool ment_active(const struct ment *m, uint32_t now)
{
	return m->present && !(m->flags & STORE_F_PENDING) && !(m->expires != 0 && m->expires <= now);
}

static int model_find(const struct model *m, uint32_t addr, unsigned len)
{
	addr &= mask4(len);
	for (int i = 0; i < m->n; i++)
		if (m->e[i].len == len && m->e[i].addr == addr)
			return i;
	return -1;
}

static int model_slot(struct model *m, uint32_t addr, unsigned len)
{
	int i = model_find(m, addr, len);
	if (i >= 0)
		return i;
	if (m->n == MAXE)
		fail_msg("test bug: model full");
	i = m->n++;
	memset(&m->e[i], 0, sizeof(m->e[i]));
	m->e[i].addr = addr & mask4(len);
	m->e[i].len = (uint8_t)len;
	return i;
}

/* The longest active entry containing q, or -1. */
static int model_best(const struct model *m, uint32_t q, uint32_t now)
{
	int best = -1;
	for (int i = 0; i < m->n; i++) {
		const struct ment *x = &m->e[i];
		if (!ment_active(x, now) || (q & mask4(x->len)) != x->addr)
			continue;
		if (best < 0 || x->len > m->e[best].len)
			best = i;
	}
	return best;
}

/* Compares one lookup result with the model. */
static void expect_model(const char *who, const struct model *m, uint32_t q, uint32_t now,
			 int rc, const struct store_entry *e, const struct entry_key *mk)
{
	char b1[24], b2[24], b3[24];
	int best = model_best(m, q, now);
	if (best < 0) {
		if (rc != DNSBL_ENOTFOUND)
			fail_msg("%s %s: lookup %s at now%+d = %d (matched %s), want DNSBL_ENOTFOUND",
				 who, m->zone, fmt4(q, 32, b1), (int)(now - NOW), rc,
				 rc == 0 ? fmt4(prefix4_addr(mk), mk->len, b2) : "-");
		return;
	}
	const struct ment *x = &m->e[best];
	if (rc != 0)
		fail_msg("%s %s: lookup %s at now%+d = %d (%s), want match %s", who, m->zone,
			 fmt4(q, 32, b1), (int)(now - NOW), rc, dnsbl_strerror(rc),
			 fmt4(x->addr, x->len, b2));
	if (mk->family != ADDR_FAMILY_V4 || mk->len != x->len || prefix4_addr(mk) != x->addr)
		fail_msg("%s %s: lookup %s at now%+d matched %s, want %s", who, m->zone,
			 fmt4(q, 32, b1), (int)(now - NOW), fmt4(prefix4_addr(mk), mk->len, b2),
			 fmt4(x->addr, x->len, b3));
	if ((e->flags & (STORE_F_EXCLUDE | STORE_F_A | STORE_F_PENDING)) !=
		    (x->flags & (STORE_F_EXCLUDE | STORE_F_A | STORE_F_PENDING)) ||
	    e->a != x->a || e->expires != x->expires)
		fail_msg("%s %s: lookup %s matched %s with flags %#x a %#x expires %u, want "
			 "flags %#x a %#x expires %u",
			 who, m->zone, fmt4(q, 32, b1), fmt4(x->addr, x->len, b2), e->flags, e->a,
			 e->expires, x->flags, x->a, x->expires);
}

struct query {
	uint8_t zone; /* index into the models */
	uint32_t addr, now;
};

/* Checks every query against the model with a reader (the summary's path). */
static void check_with_reader(struct model **ms, int nm, const struct query *qs, int nq)
{
	struct store_zone rz[8];
	assert_true(nm <= 8);
	struct store_reader *r = rnew();
	rbegin(r);
	for (int i = 0; i < nm; i++)
		rz[i] = zget(r, ms[i]->zone);
	for (int i = 0; i < nq; i++) {
		struct entry_key q, mk;
		struct store_entry e;
		prefix4_make(&q, qs[i].addr, 32);
		memset(&mk, 0, sizeof(mk));
		memset(&e, 0, sizeof(e));
		int rc = store_lookup(r, &rz[qs[i].zone], &q, qs[i].now, &e, &mk);
		expect_model("reader", ms[qs[i].zone], qs[i].addr, qs[i].now, rc, &e, &mk);
	}
	store_reader_end(r);
	store_reader_free(r);
}

/* Checks every query against the model with a reader (summary), then with a fresh
 * writer (no summary) that is aborted. */
static void check_queries(struct model **ms, int nm, const struct query *qs, int nq)
{
	check_with_reader(ms, nm, qs, nq);

	struct store_writer *w = wbegin();
	struct store_zone *wz[8];
	for (int i = 0; i < nm; i++)
		wz[i] = wzone(w, ms[i]->zone);
	for (int i = 0; i < nq; i++) {
		struct entry_key q, mk;
		struct store_entry e;
		prefix4_make(&q, qs[i].addr, 32);
		memset(&mk, 0, sizeof(mk));
		memset(&e, 0, sizeof(e));
		int rc = store_writer_lookup(w, wz[qs[i].zone], &q, qs[i].now, &e, &mk);
		expect_model("writer", ms[qs[i].zone], qs[i].addr, qs[i].now, rc, &e, &mk);
	}
	store_writer_abort(w);
}

/* Every address of the model's entries, the ones just around them, and the first and
 * last address of each /27 of their /24s, at time now. Returns the count. */
static int edge_queries(const struct model *m, uint8_t zone, uint32_t now, struct query *qs,
			int max)
{
	int n = 0;
	for (int i = 0; i < m->n && n + 20 <= max; i++) {
		uint32_t a = m->e[i].addr, last = a | ~mask4(m->e[i].len);
		uint32_t pts[4] = { a, last, a - 1, last + 1 };
		for (int j = 0; j < 4; j++)
			qs[n++] = (struct query){ zone, pts[j], now };
		uint32_t s24 = a & 0xffffff00u;
		for (uint32_t j = 0; j < 8; j++) {
			qs[n++] = (struct query){ zone, s24 | (j << 5), now };
			qs[n++] = (struct query){ zone, s24 | (j << 5) | 31, now };
		}
	}
	return n;
}

static void model_check_edges(struct model **ms, int nm, uint32_t now)
{
	static struct query qs[MAXE * 20 * 2];
	int n = 0;
	for (int i = 0; i < nm; i++)
		n += edge_queries(ms[i], (uint8_t)i, now, qs + n, (int)(sizeof(qs) / sizeof(qs[0])) - n);
	check_queries(ms, nm, qs, n);
}

/* Merges addr/len into zone z and records the result in the model (from the stored
 * entry: store_merge's semantics are test_store.c's business). */
static void model_merge(struct store_writer *w, struct store_zone *z, struct model *m,
			uint32_t addr, unsigned len, const struct store_put *put)
{
	struct entry_key p;
	struct store_entry e;
	char b[24];
	int outcome = -1, i = model_slot(m, addr, len);
	bool was = m->e[i].present;
	prefix4_make(&p, addr, len);
	int rc = store_merge(w, z, &p, put, &outcome);
	if (rc != 0)
		fail_msg("store_merge(%s) = %d (%s)", fmt4(addr, len, b), rc, dnsbl_strerror(rc));
	rc = store_writer_entry_get(w, z, &p, &e);
	if (rc == DNSBL_ENOTFOUND) {
		if (was || (outcome != STORE_SUPPRESSED && outcome != STORE_STALE))
			fail_msg("store_merge(%s): outcome %d but no entry", fmt4(addr, len, b),
				 outcome);
		m->e[i].present = false;
		return;
	}
	assert_int_equal(rc, 0);
	m->e[i].present = true;
	m->e[i].flags = e.flags;
	m->e[i].a = e.a;
	m->e[i].expires = e.expires;
}

static void model_delete(struct store_writer *w, struct store_zone *z, struct model *m, int i)
{
	struct entry_key p;
	char b[24];
	prefix4_make(&p, m->e[i].addr, m->e[i].len);
	int rc = store_delete(w, z, &p);
	if (m->e[i].present ? rc != 0 : rc != DNSBL_ENOTFOUND)
		fail_msg("store_delete(%s) = %d, entry %s", fmt4(m->e[i].addr, m->e[i].len, b),
			 rc, m->e[i].present ? "present" : "absent");
	m->e[i].present = false;
}

static void put_init(struct store_put *put, uint32_t seen)
{
	memset(put, 0, sizeof(*put));
	put->seen = seen;
	put->now = seen;
	put->hits = 1;
}

/* ====================================================================== */
/* 2. Random model                                                          */
/* ====================================================================== */

static const unsigned LENS[] = { 8, 12, 16, 20, 23, 24, 25, 26, 27, 28, 30, 31, 32 };
#define NLENS (sizeof(LENS) / sizeof(LENS[0]))
static const uint32_t HOT24[] = { 0x0a010200, 0x0a010300, 0x0a02c800, 0xc0a80700 };
static const uint32_t HOT16[] = { 0x0a010000, 0x0a020000, 0xc0a80000 };

static uint32_t entry_addr(void)
{
	unsigned k = rnd() % 100;
	if (k < 35)
		return HOT24[rnd() % 4] | (rnd() & 0xff);
	if (k < 65)
		return HOT16[rnd() % 3] | (rnd() & 0xffff);
	if (k < 90)
		return 0x0a000000u | (rnd() & 0xffffff);
	return 0xac100000u | (rnd() & 0xfffff); /* 172.16/12 */
}

static uint32_t query_addr(void)
{
	static const uint8_t edge[] = { 0, 1, 31, 32, 33, 63, 64, 95, 96, 127, 128, 159, 160, 191, 192, 223, 224, 254, 255 };
	unsigned k = rnd() % 100;
	if (k < 40)
		return HOT24[rnd() % 4] | (rnd() & 0xff);
	if (k < 50)
		return HOT24[rnd() % 4] | edge[rnd() % sizeof(edge)];
	if (k < 65)
		return HOT16[rnd() % 3] | (rnd() & 0xffff);
	if (k < 80)
		return 0x0a000000u | (rnd() & 0xffffff);
	if (k < 85)
		return 0xac100000u | (rnd() & 0xfffff);
	if (k < 92)
		return 0x0b000000u | (rnd() & 0xffffff); /* 11/8: nothing there */
	return rnd();
}

static const uint32_t QTIMES[] = { NOW, NOW - 5000, NOW + 4000 };

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

static void random_queries(struct model **ms, int nm, int nq)
{
	static struct query qs[20000];
	if (nq > 20000)
		nq = 20000;
	for (int i = 0; i < nq; i++) {
		qs[i].zone = (uint8_t)(nm > 1 && rnd() % 10 < 3 ? 1 : 0);
		qs[i].addr = query_addr();
		qs[i].now = QTIMES[rnd() % 3];
	}
	check_queries(ms, nm, qs, nq);
}

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

/* ====================================================================== */
/* 3. Deleting everything; repairing over-claims                           */
/* ====================================================================== */

static void plain_merge(struct store_writer *w, struct store_zone *z, struct model *m,
			uint32_t addr, unsigned len, uint32_t a)
{
	struct store_put put;
	put_init(&put, NOW - 100);
	put.flags = STORE_F_A;
	put.a = a;
	model_merge(w, z, m, addr, len, &put);
}

static uint16_t zone_id(const char *name)
{
	struct store_reader *r = rnew();
	rbegin(r);
	struct store_zone z = zget(r, name);
	store_reader_end(r);
	store_reader_free(r);
	return z.id;
}

static void check_random_and_edges(struct model **ms, int nm, int nq)
{
	random_queries(ms, nm, nq);
	model_check_edges(ms, nm, NOW);
}

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

/* ====================================================================== */
/* 4. Replace                                                               */
/* ====================================================================== */

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

/* ====================================================================== */
/* 5. Expiry                                                                */
/* ====================================================================== */

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

/* ====================================================================== */
/* 6. Upgrade from schema 2; newer schemas refused                          */
/* ====================================================================== */

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
	assert_int_equal(RS.schema, 3);
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
	/* and it keeps working as schema 3 */
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
	assert_int_equal(RS.schema, 3);
	assert_true(RS.chunk[15]);
	store_resume();
}

static void test_schema_refused(void **state)
{
	(void)state;
	rng_seed(3);
	fill_two_zones();
	store_pause();
	uint32_t four = 4;
	raw_set_schema(&four, 4);
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
	/* back to 3: opens again */
	uint32_t three = 3;
	raw_set_schema(&three, 4);
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

static int rlook(struct store_reader *r, const char *zone, uint32_t addr, struct entry_key *mk)
{
	struct store_zone z = zget(r, zone);
	struct entry_key q;
	struct store_entry e;
	prefix4_make(&q, addr, 32);
	return store_lookup(r, &z, &q, NOW, &e, mk);
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

/* ====================================================================== */
/* 7. The reader's snapshot cache                                           */
/* ====================================================================== */

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
		cmocka_unit_test(test_pure_word_add),
		cmocka_unit_test(test_pure_span),
		cmocka_unit_test(test_pure_lens),
		cmocka_unit_test_setup_teardown(test_random_model, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delete_everything, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replace, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expire_sweep, setup, teardown),
		cmocka_unit_test_setup_teardown(test_upgrade_from_schema2, setup, teardown),
		cmocka_unit_test_setup_teardown(test_schema_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_upgrade_many_zones, setup, teardown),
		cmocka_unit_test_setup_teardown(test_upgrade_while_schema2_writer_open, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_snapshot_cache, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cache_slot_sharing, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
