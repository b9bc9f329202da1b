/* Helpers of the IPv4 summary tests (lib/summary.h and its use in lib/store/): a
 * deterministic PRNG; raw LMDB access to the summary database and the schema of a
 * closed store (store_pause, raw_*, summary_of: LMDB must not have one environment
 * open twice in a process); a brute-force model of zones' entries; and checks of
 * lookups against the model with a reader (store_lookup consults the summary) and
 * with a writer (store_writer_lookup never does, so the writer is an oracle for the
 * reader). Include after <cmocka.h>; static inline, so that each test file uses
 * what it needs. */
#ifndef DNSBL_SUMMARYTEST_H
#define DNSBL_SUMMARYTEST_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <lmdb.h>

#include "addr.h"
#include "err.h"
#include "store.h"
#include "storeops.h"
#include "storetest.h"
#include "summary.h"

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))

/* --- a small deterministic PRNG (xorshift32) --- */

static uint32_t rng_state = 1;

static inline void rng_seed(uint32_t s)
{
	rng_state = s ? s : 1;
}

static inline uint32_t rnd(void)
{
	uint32_t x = rng_state;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return rng_state = x;
}

static inline uint32_t mask4(unsigned len)
{
	return len == 0 ? 0 : ~0u << (32 - len);
}

static inline const char *fmt4(uint32_t a, unsigned len, char *buf)
{
	snprintf(buf, 24, "%u.%u.%u.%u/%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255,
		 len);
	return buf;
}

/* --- raw LMDB access (the store closed meanwhile) --- */

static inline void store_pause(void)
{
	if (S)
		store_close(S);
	S = NULL;
}

static inline void store_resume(void)
{
	int rc = store_open(&S, dbdir, STORE_CREATE);
	if (rc != 0)
		fail_msg("store_open(STORE_CREATE) = %d (%s)", rc, dnsbl_strerror(rc));
}

static inline MDB_env *raw_env(bool rdonly)
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
static inline void raw_read(uint16_t zid, uint32_t t24, struct rawsum *rs)
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
static inline void raw_downgrade(void)
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
static inline void raw_set_schema(const void *bytes, size_t n)
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
static inline const struct rawsum *summary_of(uint16_t zid, uint32_t t24)
{
	store_pause();
	raw_read(zid, t24, &RS);
	store_resume();
	return &RS;
}

/* --- the model --- */

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

static inline bool ment_active(const struct ment *m, uint32_t now)
{
	return m->present && !(m->flags & STORE_F_PENDING) && !(m->expires != 0 && m->expires <= now);
}

static inline int model_find(const struct model *m, uint32_t addr, unsigned len)
{
	addr &= mask4(len);
	for (int i = 0; i < m->n; i++)
		if (m->e[i].len == len && m->e[i].addr == addr)
			return i;
	return -1;
}

static inline int model_slot(struct model *m, uint32_t addr, unsigned len)
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
static inline int model_best(const struct model *m, uint32_t q, uint32_t now)
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
static inline void expect_model(const char *who, const struct model *m, uint32_t q, uint32_t now,
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
static inline void check_with_reader(struct model **ms, int nm, const struct query *qs, int nq)
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
static inline void check_queries(struct model **ms, int nm, const struct query *qs, int nq)
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
static inline int edge_queries(const struct model *m, uint8_t zone, uint32_t now, struct query *qs,
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

static inline void model_check_edges(struct model **ms, int nm, uint32_t now)
{
	static struct query qs[MAXE * 20 * 2];
	int n = 0;
	for (int i = 0; i < nm; i++)
		n += edge_queries(ms[i], (uint8_t)i, now, qs + n, (int)(sizeof(qs) / sizeof(qs[0])) - n);
	check_queries(ms, nm, qs, n);
}

/* Merges addr/len into zone z and records the result in the model (from the stored
 * entry: store_merge's semantics are test_store_merge.c's business). */
static inline void model_merge(struct store_writer *w, struct store_zone *z, struct model *m,
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

static inline void model_delete(struct store_writer *w, struct store_zone *z, struct model *m,
				int i)
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

static inline void put_init(struct store_put *put, uint32_t seen)
{
	memset(put, 0, sizeof(*put));
	put->seen = seen;
	put->now = seen;
	put->hits = 1;
}

/* --- random entries and queries --- */

static const unsigned LENS[] = { 8, 12, 16, 20, 23, 24, 25, 26, 27, 28, 30, 31, 32 };

#define NLENS (sizeof(LENS) / sizeof(LENS[0]))

static const uint32_t HOT24[] = { 0x0a010200, 0x0a010300, 0x0a02c800, 0xc0a80700 };

static const uint32_t HOT16[] = { 0x0a010000, 0x0a020000, 0xc0a80000 };

static inline uint32_t entry_addr(void)
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

static inline uint32_t query_addr(void)
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

static inline void random_queries(struct model **ms, int nm, int nq)
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

/* --- plain merges, zone ids, checks --- */

static inline void plain_merge(struct store_writer *w, struct store_zone *z, struct model *m,
			       uint32_t addr, unsigned len, uint32_t a)
{
	struct store_put put;
	put_init(&put, NOW - 100);
	put.flags = STORE_F_A;
	put.a = a;
	model_merge(w, z, m, addr, len, &put);
}

static inline uint16_t zone_id(const char *name)
{
	struct store_reader *r = rnew();
	rbegin(r);
	struct store_zone z = zget(r, name);
	store_reader_end(r);
	store_reader_free(r);
	return z.id;
}

static inline void check_random_and_edges(struct model **ms, int nm, int nq)
{
	random_queries(ms, nm, nq);
	model_check_edges(ms, nm, NOW);
}

static inline int rlook(struct store_reader *r, const char *zone, uint32_t addr,
			struct entry_key *mk)
{
	struct store_zone z = zget(r, zone);
	struct entry_key q;
	struct store_entry e;
	prefix4_make(&q, addr, 32);
	return store_lookup(r, &z, &q, NOW, &e, mk);
}

#endif
