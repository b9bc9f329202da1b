/* The summary's write side (lib/summary.h holds the word arithmetic, read.c the
 * read side): a writer's changes to each zone's IPv4 summary are kept in memory and
 * written once at commit, since an LMDB value is rewritten whole. */
#include "store_impl.h"

#include <stdlib.h>
#include <string.h>

#include "err.h"

static struct summary_zone *summary_zone_of(struct summary_set *ss, uint16_t zid)
{
	for (unsigned i = 0; i < ss->n; i++)
		if (ss->zones[i]->zid == zid)
			return ss->zones[i];
	if (ss->n == sizeof(ss->zones) / sizeof(ss->zones[0]))
		return NULL;
	struct summary_zone *sz = calloc(1, sizeof(*sz));
	if (sz == NULL)
		return NULL;
	sz->zid = zid;
	sz->lens4 = ~0ull;
	ss->zones[ss->n++] = sz;
	return sz;
}

static void summary_zone_clear(struct summary_zone *sz)
{
	for (uint32_t c = 0; c < SUMMARY_CHUNKS; c++) {
		free(sz->chunk[c]);
		sz->chunk[c] = NULL;
	}
	free(sz->recompute);
	sz->recompute = NULL;
}

void store_summary_free(struct summary_set *ss)
{
	for (unsigned i = 0; i < ss->n; i++) {
		summary_zone_clear(ss->zones[i]);
		free(ss->zones[i]);
	}
	ss->n = 0;
}

/* The writer's copy of chunk c (read from the store the first time), or NULL on
 * allocation or store failure. */
static uint16_t *summary_chunk(struct store *s, MDB_txn *txn, struct summary_zone *sz,
			       uint32_t c)
{
	if (sz->chunk[c] != NULL)
		return sz->chunk[c];
	uint16_t *words = calloc(SUMMARY_CHUNK_WORDS, sizeof(*words));
	if (words == NULL)
		return NULL;
	if (!sz->rewrite) {
		uint8_t kb[4];
		store_summary_key(kb, sz->zid, c);
		MDB_val k = { sizeof(kb), kb }, v;
		int rc = mdb_get(txn, s->summary, &k, &v);
		if (rc == 0 && v.mv_size == SUMMARY_CHUNK_BYTES) {
			memcpy(words, v.mv_data, SUMMARY_CHUNK_BYTES);
		} else if (rc != MDB_NOTFOUND && rc != 0) {
			map_mdb_error(rc, "summary");
			free(words);
			return NULL;
		}
	}
	sz->chunk[c] = words;
	return words;
}

/* Marks what IPv4 entry p of zone zid adds to the summary (other keys: nothing). */
int store_summary_add(struct store *s, MDB_txn *txn, struct summary_set *ss, uint16_t zid,
		       const struct entry_key *p)
{
	if (p->family != ADDR_FAMILY_V4 || !s->has_summary)
		return 0;
	struct summary_zone *sz = summary_zone_of(ss, zid);
	uint32_t addr = store_key4_addr(p), first, last;

	if (sz == NULL)
		return DNSBL_ENOMEM;
	summary_span(addr, p->len, &first, &last);
	for (uint32_t t = first;; t++) {
		uint16_t *words = summary_chunk(s, txn, sz, t >> SUMMARY_CHUNK_SHIFT);
		if (words == NULL)
			return DNSBL_ENOMEM;
		uint16_t *w = &words[t & (SUMMARY_CHUNK_WORDS - 1)];
		*w = summary_word_add(*w, addr, p->len);
		if (t == last)
			break;
	}
	return 0;
}

/* Notes that IPv4 entry p of zone zid is gone: its /24s are recomputed at commit.
 * Entries shorter than /16 leave their marks (a summary may claim too much). */
int store_summary_forget(struct store *s, struct summary_set *ss, uint16_t zid,
			  const struct entry_key *p)
{
	if (p->family != ADDR_FAMILY_V4 || !s->has_summary || p->len < 16)
		return 0;
	struct summary_zone *sz = summary_zone_of(ss, zid);
	uint32_t first, last;

	if (sz == NULL)
		return DNSBL_ENOMEM;
	if (sz->rewrite)
		return 0; /* being rebuilt from what remains */
	if (sz->recompute == NULL &&
	    (sz->recompute = calloc((1u << 24) / 64, sizeof(uint64_t))) == NULL)
		return DNSBL_ENOMEM;
	summary_span(store_key4_addr(p), p->len, &first, &last);
	for (uint32_t t = first; t <= last; t++)
		sz->recompute[t / 64] |= 1ull << (t % 64);
	return 0;
}

/* The IPv4 prefix of length len at the start of /24 t (key_encode masks it). */
static struct entry_key slash24_prefix(uint32_t t, unsigned len)
{
	struct entry_key p = { .family = ADDR_FAMILY_V4, .len = (uint8_t)len };

	p.addr[0] = (uint8_t)(t >> 16);
	p.addr[1] = (uint8_t)(t >> 8);
	p.addr[2] = (uint8_t)t;
	return p;
}

/* The word of /24 t of zone zid as the entries in txn make it. */
static int summary_word_compute(struct store *s, MDB_txn *txn, MDB_cursor *cur, uint16_t zid,
				uint64_t lens4, uint32_t t, uint16_t *out)
{
	uint8_t key[8];
	uint16_t w = 0;
	int rc;

	for (unsigned len = 25; len <= 32; len++) {
		if (!((lens4 >> len) & 1))
			continue;
		struct entry_key p = slash24_prefix(t, len);
		MDB_val k = { store_key_encode(key, zid, &p), key }, v;
		for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
		     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
			const uint8_t *kb = k.mv_data;
			if (k.mv_size != 8 || memcmp(kb, key, 7) != 0)
				break;
			w = summary_word_add(w, (t << 8) | kb[7], len);
		}
		if (rc != 0 && rc != MDB_NOTFOUND)
			return map_mdb_error(rc, "summary");
	}
	for (int len = 24; len >= 0; len--) {
		if (!((lens4 >> len) & 1))
			continue;
		struct entry_key p = slash24_prefix(t, (unsigned)len);
		MDB_val k = { store_key_encode(key, zid, &p), key }, v;
		rc = mdb_get(txn, s->entries, &k, &v);
		if (rc == 0) {
			w = summary_word_add(w, store_key4_addr(&p), (unsigned)len);
			break;
		}
		if (rc != MDB_NOTFOUND)
			return map_mdb_error(rc, "summary");
	}
	*out = w;
	return 0;
}

/* Writes one zone's summary changes into txn. */
static int summary_zone_flush(struct store *s, MDB_txn *txn, struct summary_zone *sz)
{
	MDB_cursor *cur;
	uint8_t kb[4];
	int rc;

	if (sz->rewrite) {
		if ((rc = mdb_cursor_open(txn, s->summary, &cur)) != 0)
			return map_mdb_error(rc, "summary");
		store_summary_key(kb, sz->zid, 0);
		MDB_val k = { sizeof(kb), kb }, v;
		for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
		     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
			const uint8_t *b = k.mv_data;
			if (k.mv_size != 4 || b[0] != kb[0] || b[1] != kb[1] ||
			    (rc = mdb_cursor_del(cur, 0)) != 0)
				break;
		}
		mdb_cursor_close(cur);
		if (rc != 0 && rc != MDB_NOTFOUND && rc != MDB_SUCCESS)
			return map_mdb_error(rc, "summary");
	}
	if (sz->recompute != NULL) {
		if ((rc = mdb_cursor_open(txn, s->entries, &cur)) != 0)
			return map_mdb_error(rc, "summary");
		for (uint32_t i = 0; i < (1u << 24) / 64 && rc == 0; i++) {
			for (uint64_t bits = sz->recompute[i]; bits != 0 && rc == 0; bits &= bits - 1) {
				uint32_t t = i * 64 + (uint32_t)__builtin_ctzll(bits);
				uint16_t *words = summary_chunk(s, txn, sz, t >> SUMMARY_CHUNK_SHIFT);
				if (words == NULL)
					rc = DNSBL_ENOMEM;
				else
					rc = summary_word_compute(s, txn, cur, sz->zid, sz->lens4, t,
								  &words[t & (SUMMARY_CHUNK_WORDS - 1)]);
			}
		}
		mdb_cursor_close(cur);
		if (rc < 0)
			return rc;
	}
	for (uint32_t c = 0; c < SUMMARY_CHUNKS; c++) {
		const uint16_t *words = sz->chunk[c];
		bool empty = true;
		if (words == NULL)
			continue;
		for (uint32_t i = 0; i < SUMMARY_CHUNK_WORDS && empty; i++)
			empty = words[i] == 0;
		store_summary_key(kb, sz->zid, c);
		MDB_val k = { sizeof(kb), kb }, v = { SUMMARY_CHUNK_BYTES, (void *)words };
		rc = empty ? mdb_del(txn, s->summary, &k, NULL) : mdb_put(txn, s->summary, &k, &v, 0);
		if (rc != 0 && !(empty && rc == MDB_NOTFOUND))
			return map_mdb_error(rc, "summary");
	}
	return 0;
}

int store_summary_flush(struct store *s, MDB_txn *txn, struct summary_set *ss)
{
	for (unsigned i = 0; i < ss->n; i++) {
		int rc = summary_zone_flush(s, txn, ss->zones[i]);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* Starts zone zid's summary afresh: the caller then adds every remaining entry. */
int store_summary_restart(struct store *s, struct summary_set *ss, uint16_t zid)
{
	if (!s->has_summary)
		return 0;
	struct summary_zone *sz = summary_zone_of(ss, zid);
	if (sz == NULL)
		return DNSBL_ENOMEM;
	summary_zone_clear(sz);
	sz->rewrite = true;
	return 0;
}

/* Builds the summary of every zone from the entries (the upgrade to schema 3). The
 * entries are in zone order, so one zone's chunks are in memory at a time. */
int store_summary_build_all(struct store *s, MDB_txn *txn)
{
	struct summary_set ss = { 0 };
	MDB_cursor *cur;
	MDB_val k, v;
	int rc;

	if ((rc = mdb_cursor_open(txn, s->entries, &cur)) != 0)
		return map_mdb_error(rc, "summary build");
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		struct entry_key p;
		const uint8_t *kb = k.mv_data;
		if (!store_key_decode(kb, k.mv_size, &p) || p.family != ADDR_FAMILY_V4)
			continue;
		uint16_t zid = (uint16_t)(kb[0] << 8 | kb[1]);
		if (ss.n > 0 && ss.zones[0]->zid != zid) {
			/* the previous zone is complete: write it, free it */
			rc = store_summary_flush(s, txn, &ss);
			store_summary_free(&ss);
			if (rc < 0)
				break;
		}
		struct summary_zone *sz = summary_zone_of(&ss, zid);
		if (sz == NULL) {
			rc = DNSBL_ENOMEM;
			break;
		}
		sz->rewrite = true;
		if ((rc = store_summary_add(s, txn, &ss, zid, &p)) < 0)
			break;
	}
	mdb_cursor_close(cur);
	if (rc == MDB_NOTFOUND)
		rc = store_summary_flush(s, txn, &ss);
	else if (rc > 0)
		rc = map_mdb_error(rc, "summary build");
	store_summary_free(&ss);
	return rc;
}
