#include "store.h"

#include <errno.h>
#include <lmdb.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>

#include "dname.h"
#include "err.h"
#include "log.h"
#include "summary.h"

#define STORE_MAP_SIZE (64ull << 30) /* address space only; the file grows as needed */
#define STORE_MAX_READERS 512
/* zone id, family, then a prefix length and 16 address bytes, or a name's key form,
 * a 0 byte and its kind */
#define KEY_MAX (3 + DNAME_KEY_MAX + 2)
#define VALUE_FIXED 24
#define WRITER_ZONES 64
#define SOURCE_NAME_MAX 64
#define SEQ_BYTES 8
#define HIST_FIXED 16 /* history value bytes before the address (or name) */
#define TOMB_FIXED 6

struct store {
	MDB_env *env;
	MDB_dbi meta, entries, tombs, history, histkey, summary;
	bool rdonly;
	bool has_summary; /* schema 3: lookups of IPv4 addresses consult the summary */
	bool probing;     /* store_open trying read-only first: schema_open stays quiet */
	uint8_t *map;     /* where the data file is mapped, once store_prefault found it */
};

/* A writer's changes to one zone's IPv4 summary (lib/summary.h), applied at commit:
 * chunks read or made in this transaction, and the /24s whose words are to be
 * recomputed from the entries because an entry in them went away. */
struct summary_zone {
	uint16_t zid;
	bool rewrite;        /* the stored chunks are replaced wholesale (start from 0) */
	uint64_t lens4;      /* the zone's prefix lengths, for recomputing */
	uint64_t *recompute; /* one bit per /24, or NULL */
	uint16_t *chunk[SUMMARY_CHUNKS];
};

struct summary_set {
	unsigned n;
	struct summary_zone *zones[64];
};

/* The greatest key of a database as far as this writer knows: puts of greater keys
 * use MDB_APPEND (no search, full pages), which is what makes sorted imports fast. */
struct append_hint {
	bool known;
	size_t len;
	uint8_t key[KEY_MAX + SEQ_BYTES];
	MDB_cursor *cur; /* kept at the end of the database between appends, so an
			    append does not search the tree (closed with the txn) */
};

/* Where a zone's summary chunks are in the reader's snapshot (NULL: absent). */
#define READER_SUMMARY_ZONES 8
struct reader_summary {
	uint16_t zid;
	bool used;
	uint8_t known[SUMMARY_CHUNKS]; /* chunk[c] was looked up in this snapshot */
	const uint8_t *chunk[SUMMARY_CHUNKS];
};

struct store_reader {
	struct store *s;
	MDB_txn *txn;
	MDB_cursor *cur; /* kept across snapshots (renewed), so scans never allocate */
	bool active;
	/* The snapshot's transaction id. Pointers into a snapshot stay valid while no
	 * write commits (LMDB frees pages only after a newer commit), so what was found
	 * in an earlier snapshot with the same id is still right. */
	uint64_t txnid, cached_txnid;
	struct reader_summary sum[READER_SUMMARY_ZONES];
};

struct writer_zone {
	char name[256];
	struct store_zone z;
	bool changed;
};

struct store_writer {
	struct store *s;
	MDB_txn *txn;
	unsigned nzones;
	struct writer_zone zones[WRITER_ZONES];
	/* an active replacement */
	bool replacing;
	MDB_dbi replace_dbi;
	struct store_zone *replace_zone;
	uint16_t replace_source;
	/* history */
	bool seq_loaded, seq_dirty;
	uint64_t next_seq;
	struct append_hint history_hint;
	bool tombs_checked, tombs_any;
	struct append_hint entries_hint, histkey_hint;
	struct summary_set sum;
};

/* The zone record as stored (host byte order, fixed layout). */
struct zone_record {
	uint16_t id;
	uint16_t pad;
	uint32_t serial;
	uint32_t created;
	uint32_t pad2;
	uint64_t lens4;
	uint64_t lens6[3];
};
_Static_assert(sizeof(struct zone_record) == 48, "zone record layout");

static int map_mdb_error(int rc, const char *what)
{
	if (rc == 0)
		return 0;
	if (rc == MDB_NOTFOUND)
		return DNSBL_ENOTFOUND;
	if (rc == MDB_MAP_FULL) {
		log_err("store: %s: map full (%s)", what, mdb_strerror(rc));
		return DNSBL_EFULL;
	}
	log_err("store: %s: %s", what, mdb_strerror(rc));
	return DNSBL_ESTORE;
}

static size_t addr_bytes(uint8_t family)
{
	return family == ADDR_FAMILY_V6 ? 16 : 4;
}

static unsigned family_bits(uint8_t family)
{
	return family == ADDR_FAMILY_V6 ? 128 : 32;
}

/* Copies the first len bits of src into dst (addr_bytes long), zeroing the rest. */
static void mask_addr(uint8_t *dst, const uint8_t *src, unsigned len, size_t nbytes)
{
	size_t full = len / 8;
	unsigned rest = len % 8;

	memcpy(dst, src, full);
	memset(dst + full, 0, nbytes - full);
	if (rest)
		dst[full] = (uint8_t)(src[full] & (0xff << (8 - rest)));
}

static bool prefix_valid(const struct entry_key *p);

/* Writes the store key of entry key p in zone zid into key (KEY_MAX bytes), an IP
 * address masked to its length. p must be valid (prefix_valid). Returns the length. */
static size_t key_encode(uint8_t *key, uint16_t zid, const struct entry_key *p)
{
	key[0] = (uint8_t)(zid >> 8);
	key[1] = (uint8_t)zid;
	key[2] = p->family;
	if (p->family == ADDR_FAMILY_NAME) {
		memcpy(key + 3, p->name, p->name_len);
		key[3 + p->name_len] = 0;
		key[4 + p->name_len] = p->len;
		return 5 + (size_t)p->name_len;
	}
	key[3] = p->len;
	mask_addr(key + 4, p->addr, p->len, addr_bytes(p->family));
	return 4 + addr_bytes(p->family);
}

/* Whether name[0..len) is a well-formed key form. */
static bool name_form_valid(const uint8_t *name, size_t len)
{
	size_t i = 0;

	if (len == 0 || len > DNAME_KEY_MAX)
		return false;
	while (i < len) {
		if (name[i] == 0 || name[i] > 63 || i + 1 + name[i] > len)
			return false;
		i += 1u + name[i];
	}
	return true;
}

/* Reads the entry key of a store key kb[0..n) (entries or tombs). A name points
 * into kb. Returns false for a key that is not one of this schema. */
static bool key_decode(const uint8_t *kb, size_t n, struct entry_key *out)
{
	memset(out, 0, sizeof(*out));
	if (n < 4)
		return false;
	out->family = kb[2];
	if (kb[2] == ADDR_FAMILY_NAME) {
		if (n < 6 || kb[n - 2] != 0 || kb[n - 1] < DNAME_EXACT || kb[n - 1] > DNAME_TREE ||
		    !name_form_valid(kb + 3, n - 5))
			return false;
		out->len = kb[n - 1];
		out->name = kb + 3;
		out->name_len = (uint8_t)(n - 5);
		return true;
	}
	if ((kb[2] != ADDR_FAMILY_V4 && kb[2] != ADDR_FAMILY_V6) ||
	    n != 4 + addr_bytes(kb[2]) || kb[3] > family_bits(kb[2]))
		return false;
	out->len = kb[3];
	memcpy(out->addr, kb + 4, addr_bytes(kb[2]));
	return true;
}

static bool lens_has(const struct store_zone *z, uint8_t family, unsigned len)
{
	if (family == ADDR_FAMILY_V4)
		return (z->lens4 >> len) & 1;
	return (z->lens6[len / 64] >> (len % 64)) & 1;
}

/* The label-count bit of a name zone's summary (counts of 63 and more share one). */
static uint64_t name_level_bit(unsigned labels)
{
	return 1ull << (labels < 63 ? labels : 63);
}

/* Adds key p to a zone's summary of what lookups need to try. IP: the prefix
 * lengths in use (lens4, lens6). Names: lens4 holds the label counts of names with
 * EXACT or TREE entries (matching the name itself), lens6[0] those with SUBS or
 * TREE entries (matching subdomains). */
static void lens_add(uint64_t *lens4, uint64_t *lens6, const struct entry_key *p)
{
	if (p->family == ADDR_FAMILY_NAME) {
		uint64_t bit = name_level_bit(dname_labels(p->name, p->name_len));
		if (p->len != DNAME_SUBS)
			*lens4 |= bit;
		if (p->len != DNAME_EXACT)
			lens6[0] |= bit;
	} else if (p->family == ADDR_FAMILY_V4) {
		*lens4 |= 1ull << p->len;
	} else {
		lens6[p->len / 64] |= 1ull << (p->len % 64);
	}
}

/* --- the IPv4 summary (lib/summary.h) ---
 * summary key: zone id u16 BE | chunk u16 BE; value: SUMMARY_CHUNK_WORDS u16 words
 * (host order). A chunk no entry touches is absent. Writers change a chunk in
 * memory and put it once at commit (an LMDB value is rewritten whole). */

static void summary_key(uint8_t kb[4], uint16_t zid, uint32_t chunk)
{
	kb[0] = (uint8_t)(zid >> 8);
	kb[1] = (uint8_t)zid;
	kb[2] = (uint8_t)(chunk >> 8);
	kb[3] = (uint8_t)chunk;
}

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

static void summary_set_free(struct summary_set *ss)
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
		summary_key(kb, sz->zid, c);
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

static uint32_t key4_addr(const struct entry_key *p)
{
	return (uint32_t)p->addr[0] << 24 | (uint32_t)p->addr[1] << 16 |
	       (uint32_t)p->addr[2] << 8 | p->addr[3];
}

/* Marks what IPv4 entry p of zone zid adds to the summary (other keys: nothing). */
static int summary_add(struct store *s, MDB_txn *txn, struct summary_set *ss, uint16_t zid,
		       const struct entry_key *p)
{
	if (p->family != ADDR_FAMILY_V4 || !s->has_summary)
		return 0;
	struct summary_zone *sz = summary_zone_of(ss, zid);
	uint32_t addr = key4_addr(p), first, last;

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
static int summary_forget(struct store *s, struct summary_set *ss, uint16_t zid,
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
	summary_span(key4_addr(p), p->len, &first, &last);
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
		MDB_val k = { key_encode(key, zid, &p), key }, v;
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
		MDB_val k = { key_encode(key, zid, &p), key }, v;
		rc = mdb_get(txn, s->entries, &k, &v);
		if (rc == 0) {
			w = summary_word_add(w, key4_addr(&p), (unsigned)len);
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
		summary_key(kb, sz->zid, 0);
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
		summary_key(kb, sz->zid, c);
		MDB_val k = { sizeof(kb), kb }, v = { SUMMARY_CHUNK_BYTES, (void *)words };
		rc = empty ? mdb_del(txn, s->summary, &k, NULL) : mdb_put(txn, s->summary, &k, &v, 0);
		if (rc != 0 && !(empty && rc == MDB_NOTFOUND))
			return map_mdb_error(rc, "summary");
	}
	return 0;
}

static int summary_flush(struct store *s, MDB_txn *txn, struct summary_set *ss)
{
	for (unsigned i = 0; i < ss->n; i++) {
		int rc = summary_zone_flush(s, txn, ss->zones[i]);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* Starts zone zid's summary afresh: the caller then adds every remaining entry. */
static int summary_restart(struct store *s, struct summary_set *ss, uint16_t zid)
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
static int summary_build_all(struct store *s, MDB_txn *txn)
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
		if (!key_decode(kb, k.mv_size, &p) || p.family != ADDR_FAMILY_V4)
			continue;
		uint16_t zid = (uint16_t)(kb[0] << 8 | kb[1]);
		if (ss.n > 0 && ss.zones[0]->zid != zid) {
			/* the previous zone is complete: write it, free it */
			rc = summary_flush(s, txn, &ss);
			summary_set_free(&ss);
			if (rc < 0)
				break;
		}
		struct summary_zone *sz = summary_zone_of(&ss, zid);
		if (sz == NULL) {
			rc = DNSBL_ENOMEM;
			break;
		}
		sz->rewrite = true;
		if ((rc = summary_add(s, txn, &ss, zid, &p)) < 0)
			break;
	}
	mdb_cursor_close(cur);
	if (rc == MDB_NOTFOUND)
		rc = summary_flush(s, txn, &ss);
	else if (rc > 0)
		rc = map_mdb_error(rc, "summary build");
	summary_set_free(&ss);
	return rc;
}

static int entry_decode(const MDB_val *v, struct store_entry *e)
{
	const uint8_t *p = v->mv_data;
	size_t extra = 0;

	if (v->mv_size < VALUE_FIXED)
		return DNSBL_ESTORE;
	e->nrecent = 0;
	e->recent = NULL;
	if (p[0] & STORE_F_PENDING) {
		if (v->mv_size < VALUE_FIXED + 1 ||
		    p[VALUE_FIXED] > STORE_RECENT_MAX)
			return DNSBL_ESTORE;
		e->nrecent = p[VALUE_FIXED];
		e->recent = p + VALUE_FIXED + 1;
		extra = 1 + 4 * (size_t)e->nrecent;
	}
	if (v->mv_size < VALUE_FIXED + extra + (size_t)p[1])
		return DNSBL_ESTORE;
	e->flags = p[0];
	e->reason_len = p[1];
	memcpy(&e->source_id, p + 2, 2);
	memcpy(&e->a, p + 4, 4);
	memcpy(&e->first_seen, p + 8, 4);
	memcpy(&e->last_seen, p + 12, 4);
	memcpy(&e->hits, p + 16, 4);
	memcpy(&e->expires, p + 20, 4);
	e->reason = (const char *)p + VALUE_FIXED + extra;
	e->txt = e->reason + e->reason_len;
	e->txt_len = v->mv_size - VALUE_FIXED - extra - e->reason_len;
	return 0;
}

/* Encodes e into p. The texts and recent times must not overlap p. */
static size_t entry_encode(uint8_t *p, const struct store_entry *e)
{
	size_t n = VALUE_FIXED;

	p[0] = e->flags;
	p[1] = (uint8_t)e->reason_len;
	memcpy(p + 2, &e->source_id, 2);
	memcpy(p + 4, &e->a, 4);
	memcpy(p + 8, &e->first_seen, 4);
	memcpy(p + 12, &e->last_seen, 4);
	memcpy(p + 16, &e->hits, 4);
	memcpy(p + 20, &e->expires, 4);
	if (e->flags & STORE_F_PENDING) {
		p[n++] = e->nrecent;
		memcpy(p + n, e->recent, 4 * (size_t)e->nrecent);
		n += 4 * (size_t)e->nrecent;
	}
	if (e->reason_len > 0)
		memcpy(p + n, e->reason, e->reason_len);
	n += e->reason_len;
	if ((e->flags & STORE_F_TXT) && e->txt_len > 0) {
		memcpy(p + n, e->txt, e->txt_len);
		n += e->txt_len;
	}
	return n;
}

static bool entry_expired(const struct store_entry *e, uint32_t now)
{
	return e->expires != 0 && e->expires <= now;
}

/* Whether the entry is answered: not pending and not expired. */
static bool entry_active(const struct store_entry *e, uint32_t now)
{
	return !(e->flags & STORE_F_PENDING) && !entry_expired(e, now);
}

/* --- opening --- */

static int mkdir_p(const char *path)
{
	char buf[4096];
	size_t n = strlen(path);

	if (n == 0 || n >= sizeof(buf))
		return -1;
	memcpy(buf, path, n + 1);
	for (size_t i = 1; i <= n; i++) {
		if (buf[i] == '/' || buf[i] == '\0') {
			char c = buf[i];
			buf[i] = '\0';
			if (mkdir(buf, 0755) < 0 && errno != EEXIST)
				return -1;
			buf[i] = c;
		}
	}
	return 0;
}

static int env_open(struct store *s, const char *path, bool rdonly)
{
	int rc;
	unsigned flags = MDB_NOTLS | MDB_NORDAHEAD | (rdonly ? MDB_RDONLY : 0);

	if ((rc = mdb_env_create(&s->env)) != 0)
		return map_mdb_error(rc, "mdb_env_create");
	mdb_env_set_maxdbs(s->env, 12);
	mdb_env_set_maxreaders(s->env, STORE_MAX_READERS);
	mdb_env_set_mapsize(s->env, STORE_MAP_SIZE);
	if ((rc = mdb_env_open(s->env, path, flags, 0644)) != 0) {
		log_err("store: cannot open %s: %s", path, mdb_strerror(rc));
		mdb_env_close(s->env);
		s->env = NULL;
		return rc == ENOENT ? DNSBL_ENOTFOUND : DNSBL_ESTORE;
	}
	s->rdonly = rdonly;
	if (!rdonly) {
		/* free reader slots left by processes that died without closing */
		int dead = 0;
		mdb_reader_check(s->env, &dead);
	}
	return 0;
}

/* Opens (and with create, makes) the named databases and checks the schema. */
static int schema_open(struct store *s, bool create)
{
	MDB_txn *txn;
	MDB_val k = { 6, "schema" }, v;
	uint32_t version = STORE_SCHEMA_VERSION;
	unsigned dbflags = create ? MDB_CREATE : 0;
	int rc;

	rc = mdb_txn_begin(s->env, NULL, create ? 0 : MDB_RDONLY, &txn);
	if (rc != 0)
		return map_mdb_error(rc, "begin");
	if ((rc = mdb_dbi_open(txn, "meta", dbflags, &s->meta)) != 0 ||
	    (rc = mdb_dbi_open(txn, "entries", dbflags, &s->entries)) != 0 ||
	    (rc = mdb_dbi_open(txn, "tombs", dbflags, &s->tombs)) != 0 ||
	    (rc = mdb_dbi_open(txn, "history", dbflags, &s->history)) != 0 ||
	    (rc = mdb_dbi_open(txn, "histkey", dbflags, &s->histkey)) != 0) {
		mdb_txn_abort(txn);
		if (rc == MDB_NOTFOUND) {
			if (!s->probing)
				log_err("store: not initialised (run dnsbl-loader or dnsbld once with write access)");
			return DNSBL_ENOTFOUND;
		}
		return map_mdb_error(rc, "open databases");
	}
	rc = mdb_dbi_open(txn, "summary", dbflags, &s->summary);
	if (rc == MDB_NOTFOUND && !create)
		rc = 0; /* a schema 2 store, read-only: lookups go without the summary */
	else if (rc == 0)
		s->has_summary = true;
	if (rc == 0)
		rc = mdb_get(txn, s->meta, &k, &v);
	if (rc == MDB_NOTFOUND && create) {
		v.mv_size = sizeof(version);
		v.mv_data = &version;
		rc = mdb_put(txn, s->meta, &k, &v, 0);
	} else if (rc == 0) {
		if (v.mv_size == sizeof(version))
			memcpy(&version, v.mv_data, sizeof(version));
		if (v.mv_size == sizeof(version) && (version == 1 || version == 2) && create) {
			/* 2 added databases (created above) and a flag; 3 the summary */
			unsigned old = version;
			version = STORE_SCHEMA_VERSION;
			v.mv_size = sizeof(version);
			v.mv_data = &version;
			rc = summary_build_all(s, txn);
			if (rc < 0) {
				mdb_txn_abort(txn);
				return rc;
			}
			rc = mdb_put(txn, s->meta, &k, &v, 0);
			if (rc == 0)
				log_info("store: upgraded schema %u to %u", old, STORE_SCHEMA_VERSION);
		} else if (v.mv_size == sizeof(version) && version == 2 && !create) {
			s->has_summary = false; /* older writers do not keep it */
		} else if (v.mv_size != sizeof(version) || version != STORE_SCHEMA_VERSION) {
			mdb_txn_abort(txn);
			if (s->probing)
				return DNSBL_EVERSION;
			if (v.mv_size != sizeof(version))
				log_err("store: schema record of %zu bytes, this build reads version %u",
					v.mv_size, STORE_SCHEMA_VERSION);
			else
				log_err("store: schema version %u, this build reads %u", version,
					STORE_SCHEMA_VERSION);
			return DNSBL_EVERSION;
		}
	}
	if (rc != 0) {
		mdb_txn_abort(txn);
		return map_mdb_error(rc, "schema");
	}
	return map_mdb_error(mdb_txn_commit(txn), "commit schema");
}

int store_open(struct store **out, const char *path, unsigned flags)
{
	struct store *s;
	char datafile[4200];
	struct stat st;
	int rc;

	*out = NULL;
	snprintf(datafile, sizeof(datafile), "%s/data.mdb", path);
	if (stat(datafile, &st) < 0) {
		if (!(flags & STORE_CREATE)) {
			log_err("store: no store at %s", path);
			return DNSBL_ENOTFOUND;
		}
		if (mkdir_p(path) < 0) {
			log_err("store: cannot create directory %s: %s", path, strerror(errno));
			return DNSBL_EIO;
		}
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return DNSBL_ENOMEM;
	if ((flags & STORE_CREATE) && (flags & STORE_RDONLY) && stat(datafile, &st) == 0) {
		/* a current store needs no write transaction: a reader starting while an
		 * import holds the writer lock must not wait for it */
		if (env_open(s, path, true) == 0) {
			s->probing = true;
			rc = schema_open(s, false);
			s->probing = false;
			if (rc == 0 && s->has_summary) {
				*out = s;
				return 0;
			}
			mdb_env_close(s->env);
			s->env = NULL;
			s->has_summary = false;
		}
	}
	if (flags & STORE_CREATE) {
		/* make sure the schema exists, with a writable environment */
		if ((rc = env_open(s, path, false)) < 0 || (rc = schema_open(s, true)) < 0)
			goto fail;
		if (!(flags & STORE_RDONLY)) {
			*out = s;
			return 0;
		}
		mdb_env_close(s->env);
		s->env = NULL;
	}
	if ((rc = env_open(s, path, flags & STORE_RDONLY)) < 0 ||
	    (rc = schema_open(s, false)) < 0)
		goto fail;
	*out = s;
	return 0;
fail:
	if (s->env != NULL)
		mdb_env_close(s->env);
	free(s);
	return rc;
}

void store_close(struct store *s)
{
	if (s == NULL)
		return;
	mdb_env_close(s->env);
	free(s);
}

uint64_t store_file_size(struct store *s)
{
	MDB_envinfo info;
	MDB_stat st;

	if (mdb_env_info(s->env, &info) != 0 || mdb_env_stat(s->env, &st) != 0)
		return 0;
	return (uint64_t)(info.me_last_pgno + 1) * st.ms_psize;
}

/* Where the data file is mapped: LMDB tells only for MDB_FIXEDMAP, so it is looked
 * up in /proc/self/maps by the file's inode. NULL when not found. */
static uint8_t *map_base(struct store *s)
{
	const char *path;
	char datafile[4200], line[4400];
	struct stat st;
	uint8_t *base = NULL;

	if (mdb_env_get_path(s->env, &path) != 0)
		return NULL;
	snprintf(datafile, sizeof(datafile), "%s/data.mdb", path);
	if (stat(datafile, &st) < 0)
		return NULL;
	FILE *f = fopen("/proc/self/maps", "re");
	if (f == NULL)
		return NULL;
	while (base == NULL && fgets(line, sizeof(line), f) != NULL) {
		unsigned long long start, off, ino;
		char dev[32];
		if (sscanf(line, "%llx-%*x %*s %llx %31s %llu", &start, &off, dev, &ino) == 4 &&
		    ino == (unsigned long long)st.st_ino && off == 0)
			base = (uint8_t *)(uintptr_t)start;
	}
	fclose(f);
	return base;
}

int store_prefault(struct store *s, uint64_t *offset)
{
	MDB_envinfo info;
	MDB_stat st;
	const uint64_t step = 32u << 20;

	if (mdb_env_info(s->env, &info) != 0 || mdb_env_stat(s->env, &st) != 0)
		return DNSBL_ESTORE;
	uint64_t used = (uint64_t)(info.me_last_pgno + 1) * st.ms_psize;
	if (*offset >= used)
		return 0;
	uint64_t len = used - *offset < step ? used - *offset : step;
	if (s->map == NULL && (s->map = map_base(s)) == NULL)
		return 0;
	uint8_t *base = s->map;
#ifdef MADV_POPULATE_READ
	if (madvise(base + *offset, len, MADV_POPULATE_READ) < 0)
		return 0; /* an older kernel, or the file shrank: nothing more to do */
#else
	return 0;
#endif
	*offset += len;
	return *offset < used;
}

/* --- reading --- */

int store_reader_new(struct store *s, struct store_reader **out)
{
	struct store_reader *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return DNSBL_ENOMEM;
	r->s = s;
	*out = r;
	return 0;
}

void store_reader_free(struct store_reader *r)
{
	if (r == NULL)
		return;
	if (r->cur != NULL)
		mdb_cursor_close(r->cur);
	if (r->txn != NULL)
		mdb_txn_abort(r->txn);
	free(r);
}

int store_reader_begin(struct store_reader *r)
{
	int rc;

	if (r->active)
		store_reader_end(r);
	if (r->txn == NULL)
		rc = mdb_txn_begin(r->s->env, NULL, MDB_RDONLY, &r->txn);
	else
		rc = mdb_txn_renew(r->txn);
	if (rc != 0)
		return map_mdb_error(rc, "begin read");
	if (r->cur == NULL)
		rc = mdb_cursor_open(r->txn, r->s->entries, &r->cur);
	else
		rc = mdb_cursor_renew(r->txn, r->cur);
	if (rc != 0) {
		mdb_txn_reset(r->txn);
		return map_mdb_error(rc, "cursor");
	}
	r->active = true;
	r->txnid = mdb_txn_id(r->txn);
	if (r->txnid != r->cached_txnid) {
		for (unsigned i = 0; i < READER_SUMMARY_ZONES; i++)
			r->sum[i].used = false;
		r->cached_txnid = r->txnid;
	}
	return 0;
}

uint64_t store_reader_snapshot(const struct store_reader *r)
{
	return r->txnid;
}

void store_reader_end(struct store_reader *r)
{
	if (r->active) {
		mdb_txn_reset(r->txn);
		r->active = false;
	}
}

static int zone_read(MDB_txn *txn, MDB_dbi meta, const char *name, struct store_zone *out)
{
	char kbuf[300];
	int n = snprintf(kbuf, sizeof(kbuf), "zone:%s", name);
	MDB_val k = { (size_t)n, kbuf }, v;
	struct zone_record rec;
	int rc;

	if (n <= 5 || (size_t)n >= sizeof(kbuf))
		return DNSBL_EINVAL;
	rc = mdb_get(txn, meta, &k, &v);
	if (rc != 0)
		return map_mdb_error(rc, "zone record");
	if (v.mv_size != sizeof(rec))
		return DNSBL_ESTORE;
	memcpy(&rec, v.mv_data, sizeof(rec));
	out->id = rec.id;
	out->serial = rec.serial;
	out->created = rec.created;
	out->lens4 = rec.lens4;
	memcpy(out->lens6, rec.lens6, sizeof(out->lens6));
	return 0;
}

int store_zone_get(struct store_reader *r, const char *name, struct store_zone *out)
{
	return zone_read(r->txn, r->s->meta, name, out);
}

/* Reads the entry under key k into *e: 0 when it is there and answered at time now,
 * DNSBL_ENOTFOUND when it is absent, pending or expired, or an error. */
static int get_active(MDB_txn *txn, MDB_dbi dbi, MDB_val *k, uint32_t now,
		      struct store_entry *e)
{
	MDB_val v;
	int rc = mdb_get(txn, dbi, k, &v);

	if (rc == MDB_NOTFOUND)
		return DNSBL_ENOTFOUND;
	if (rc != 0)
		return map_mdb_error(rc, "lookup");
	if (entry_decode(&v, e) < 0)
		return DNSBL_ESTORE;
	return entry_active(e, now) ? 0 : DNSBL_ENOTFOUND;
}

/* Longest match among lengths <= maxlen (for IPv4 only those in try4). */
static int lookup_upto(MDB_txn *txn, MDB_dbi dbi, const struct store_zone *z,
		       const struct entry_key *addr, unsigned maxlen, uint64_t try4,
		       uint32_t now, struct store_entry *entry, struct entry_key *matched)
{
	uint8_t key[KEY_MAX];
	struct entry_key try = *addr;

	for (int len = (int)maxlen; len >= 0; len--) {
		if (!lens_has(z, addr->family, (unsigned)len) ||
		    (addr->family == ADDR_FAMILY_V4 && !((try4 >> len) & 1)))
			continue;
		try.len = (uint8_t)len;
		MDB_val k = { key_encode(key, z->id, &try), key };
		int rc = get_active(txn, dbi, &k, now, entry);
		if (rc == DNSBL_ENOTFOUND)
			continue;
		if (rc < 0)
			return rc;
		if (matched != NULL) {
			memset(matched, 0, sizeof(*matched));
			matched->family = addr->family;
			matched->len = (uint8_t)len;
			memcpy(matched->addr, key + 4, addr_bytes(addr->family));
		}
		return 0;
	}
	return DNSBL_ENOTFOUND;
}

/* The longest active entry that matches name q (a DNAME_EXACT key) or, with
 * below, the names under q: from q's own level to its top label, at q the kinds
 * that match q itself (EXACT, TREE; with below: SUBS, TREE), above it those that
 * match subdomains (SUBS, TREE). *matched (if not NULL) points into q's bytes. */
static int name_longest(MDB_txn *txn, MDB_dbi dbi, const struct store_zone *z,
			const struct entry_key *q, bool below, uint32_t now,
			struct store_entry *entry, struct entry_key *matched)
{
	static const uint8_t own[2] = { DNAME_EXACT, DNAME_TREE };
	static const uint8_t subs[2] = { DNAME_SUBS, DNAME_TREE };
	uint8_t key[KEY_MAX];
	struct entry_key try = *q;

	for (unsigned n = dname_labels(q->name, q->name_len); n > 0; n--) {
		bool self = n == dname_labels(q->name, q->name_len);
		const uint8_t *kinds = self && !below ? own : subs;
		uint64_t have = self && !below ? z->lens4 : z->lens6[0];
		if (!(have & name_level_bit(n)))
			continue;
		try.name_len = (uint8_t)dname_ancestor_len(q->name, q->name_len, n);
		for (unsigned i = 0; i < 2; i++) {
			try.len = kinds[i];
			MDB_val k = { key_encode(key, z->id, &try), key };
			int rc = get_active(txn, dbi, &k, now, entry);
			if (rc == DNSBL_ENOTFOUND)
				continue;
			if (rc < 0)
				return rc;
			if (matched != NULL)
				*matched = try;
			return 0;
		}
	}
	return DNSBL_ENOTFOUND;
}

/* The longest active match of a full address or a name, in txn. */
static int lookup_txn(MDB_txn *txn, MDB_dbi dbi, const struct store_zone *z,
		      const struct entry_key *addr, uint32_t now, struct store_entry *entry,
		      struct entry_key *matched)
{
	if (addr->family == ADDR_FAMILY_NAME)
		return name_longest(txn, dbi, z, addr, false, now, entry, matched);
	return lookup_upto(txn, dbi, z, addr, addr->len, ~0ull, now, entry, matched);
}

/* Chunk c of zone zid's summary in r's snapshot (*out NULL when absent), found once
 * per snapshot. */
static int reader_summary_chunk(struct store_reader *r, uint16_t zid, uint32_t c,
				const uint8_t **out)
{
	struct reader_summary *rs = &r->sum[zid % READER_SUMMARY_ZONES];

	if (!rs->used || rs->zid != zid) {
		rs->used = true;
		rs->zid = zid;
		memset(rs->known, 0, sizeof(rs->known));
	}
	if (!rs->known[c]) {
		uint8_t kb[4];
		summary_key(kb, zid, c);
		MDB_val k = { sizeof(kb), kb }, v;
		int rc = mdb_get(r->txn, r->s->summary, &k, &v);
		if (rc != 0 && rc != MDB_NOTFOUND)
			return map_mdb_error(rc, "summary");
		if (rc == 0 && v.mv_size != SUMMARY_CHUNK_BYTES)
			return DNSBL_ESTORE;
		rs->chunk[c] = rc == 0 ? v.mv_data : NULL;
		rs->known[c] = 1;
	}
	*out = rs->chunk[c];
	return 0;
}

int store_lookup(struct store_reader *r, const struct store_zone *z,
		 const struct entry_key *addr, uint32_t now, struct store_entry *entry,
		 struct entry_key *matched)
{
	if (addr->family == ADDR_FAMILY_V4 && addr->len == 32 && r->s->has_summary) {
		/* the summary of the address's /24 says which lengths can match; most
		 * unlisted addresses end here (only readers: a writer's own changes
		 * reach the summary at commit) */
		uint32_t a = key4_addr(addr), t = summary_slash24(a);
		const uint8_t *chunk = NULL;
		uint16_t w;
		int rc = reader_summary_chunk(r, z->id, t >> SUMMARY_CHUNK_SHIFT, &chunk);
		if (rc < 0)
			return rc;
		if (chunk == NULL)
			return DNSBL_ENOTFOUND;
		memcpy(&w, chunk + 2 * (t & (SUMMARY_CHUNK_WORDS - 1)), 2);
		uint64_t try4 = summary_lens(w, a, z->lens4);
		if (try4 == 0)
			return DNSBL_ENOTFOUND;
		return lookup_upto(r->txn, r->s->entries, z, addr, 32, try4, now, entry, matched);
	}
	return lookup_txn(r->txn, r->s->entries, z, addr, now, entry, matched);
}

int store_name_covers_subdomains(struct store_reader *r, const struct store_zone *z,
				 const struct entry_key *p, uint32_t now)
{
	struct store_entry e;

	if (p->family != ADDR_FAMILY_NAME || !prefix_valid(p))
		return DNSBL_EINVAL;
	int rc = name_longest(r->txn, r->s->entries, z, p, true, now, &e, NULL);
	if (rc == DNSBL_ENOTFOUND)
		return 0;
	return rc < 0 ? rc : !(e.flags & STORE_F_EXCLUDE);
}

/* 1 when some active entry other than an exclusion lies strictly below name q, or
 * a SUBS or TREE listing at q or above covers q's subdomains; else 0 or an error. */
static int name_any_below(struct store_reader *r, const struct store_zone *z,
			  const struct entry_key *q, uint32_t now)
{
	struct store_entry e;
	uint8_t key[KEY_MAX];
	size_t plen = 3 + (size_t)q->name_len;
	int rc = name_longest(r->txn, r->s->entries, z, q, true, now, &e, NULL);

	if (rc == 0 && !(e.flags & STORE_F_EXCLUDE))
		return 1;
	if (rc < 0 && rc != DNSBL_ENOTFOUND)
		return rc;
	/* nothing covers the subdomains, or an exclusion does: entries below count */
	key_encode(key, z->id, q);
	MDB_val k = { plen, key }, v;
	for (rc = mdb_cursor_get(r->cur, &k, &v, MDB_SET_RANGE); rc == 0;
	     rc = mdb_cursor_get(r->cur, &k, &v, MDB_NEXT)) {
		const uint8_t *kb = k.mv_data;
		if (k.mv_size < plen + 2 || memcmp(kb, key, plen) != 0)
			break;
		if (kb[plen] == 0)
			continue; /* q's own entries, weighed above */
		if (entry_decode(&v, &e) == 0 && !(e.flags & STORE_F_EXCLUDE) &&
		    entry_active(&e, now))
			return 1;
	}
	return rc == 0 || rc == MDB_NOTFOUND ? 0 : map_mdb_error(rc, "scan");
}

int store_any_listed_within(struct store_reader *r, const struct store_zone *z,
			    const struct entry_key *p, uint32_t now)
{
	struct store_entry e;
	MDB_cursor *cur = r->cur;
	uint8_t key[KEY_MAX];
	size_t nbytes = addr_bytes(p->family);
	int rc;

	if (p->family == ADDR_FAMILY_NAME)
		return name_any_below(r, z, p, now);
	rc = lookup_upto(r->txn, r->s->entries, z, p, p->len, ~0ull, now, &e, NULL);
	if (rc == 0 && !(e.flags & STORE_F_EXCLUDE))
		return 1;
	if (rc < 0 && rc != DNSBL_ENOTFOUND)
		return rc;
	for (unsigned len = p->len + 1u; len <= family_bits(p->family); len++) {
		if (!lens_has(z, p->family, len))
			continue;
		struct entry_key inner = *p;
		inner.len = (uint8_t)len;
		MDB_val k = { key_encode(key, z->id, &inner), key }, v;
		for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
		     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
			const uint8_t *kb = k.mv_data;
			if (k.mv_size != 4 + nbytes || memcmp(kb, key, 4) != 0)
				break;
			memcpy(inner.addr, kb + 4, nbytes);
			if (!prefix_contains(p, &inner))
				break;
			if (entry_decode(&v, &e) == 0 && !(e.flags & STORE_F_EXCLUDE) &&
			    entry_active(&e, now))
				return 1;
		}
		if (rc != 0 && rc != MDB_NOTFOUND)
			return map_mdb_error(rc, "scan");
	}
	return 0;
}

/* Walks zone zid's entries in key order, from the first one after the key of prefix
 * after (NULL: from the zone's first entry). */
static int foreach_txn_after(MDB_txn *txn, MDB_dbi dbi, uint16_t zid, const struct entry_key *after,
			     int (*fn)(const struct entry_key *p, const struct store_entry *e,
				       void *arg, MDB_cursor *cur),
			     void *arg)
{
	MDB_cursor *cur;
	uint8_t start[2] = { (uint8_t)(zid >> 8), (uint8_t)zid };
	uint8_t akey[KEY_MAX];
	size_t alen = 0;
	MDB_val k = { 2, start }, v;
	int rc, ret = 0;

	if (after != NULL) {
		if (!prefix_valid(after))
			return DNSBL_EINVAL;
		alen = key_encode(akey, zid, after);
		k.mv_size = alen;
		k.mv_data = akey;
	}
	if ((rc = mdb_cursor_open(txn, dbi, &cur)) != 0)
		return map_mdb_error(rc, "cursor");
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	if (rc == 0 && after != NULL && k.mv_size == alen && memcmp(k.mv_data, akey, alen) == 0)
		rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	for (; rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		const uint8_t *kb = k.mv_data;
		struct entry_key p;
		struct store_entry e;
		if (k.mv_size < 4 || kb[0] != start[0] || kb[1] != start[1])
			break;
		if (!key_decode(kb, k.mv_size, &p) || entry_decode(&v, &e) < 0)
			continue; /* not an entry of this schema: skip, never crash */
		if ((ret = fn(&p, &e, arg, cur)) != 0)
			break;
	}
	mdb_cursor_close(cur);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return map_mdb_error(rc, "scan");
	return ret;
}

static int foreach_txn(MDB_txn *txn, MDB_dbi dbi, uint16_t zid,
		       int (*fn)(const struct entry_key *p, const struct store_entry *e,
				 void *arg, MDB_cursor *cur),
		       void *arg)
{
	return foreach_txn_after(txn, dbi, zid, NULL, fn, arg);
}

struct foreach_adapter {
	int (*fn)(const struct entry_key *p, const struct store_entry *e, void *arg);
	void *arg;
};

static int foreach_adapt(const struct entry_key *p, const struct store_entry *e, void *arg,
			 MDB_cursor *cur)
{
	struct foreach_adapter *a = arg;
	(void)cur;
	return a->fn(p, e, a->arg);
}

int store_foreach(struct store_reader *r, const struct store_zone *z,
		  int (*fn)(const struct entry_key *p, const struct store_entry *e,
			    void *arg),
		  void *arg)
{
	struct foreach_adapter a = { fn, arg };
	return foreach_txn(r->txn, r->s->entries, z->id, foreach_adapt, &a);
}

static int count_one(const struct entry_key *p, const struct store_entry *e, void *arg)
{
	(void)p;
	(void)e;
	(*(uint64_t *)arg)++;
	return 0;
}

int store_foreach_after(struct store_reader *r, const struct store_zone *z,
			const struct entry_key *after,
			int (*fn)(const struct entry_key *p, const struct store_entry *e,
				  void *arg),
			void *arg)
{
	struct foreach_adapter a = { fn, arg };
	return foreach_txn_after(r->txn, r->s->entries, z->id, after, foreach_adapt, &a);
}

/* Reads the value stored in dbi (entries or tombs) under the key of prefix p in zone
 * z; what names the database in errors. */
static int get_by_prefix(MDB_txn *txn, MDB_dbi dbi, const struct store_zone *z,
			 const struct entry_key *p, const char *what, MDB_val *v)
{
	uint8_t key[KEY_MAX];
	int rc;

	if (!prefix_valid(p))
		return DNSBL_EINVAL;
	MDB_val k = { key_encode(key, z->id, p), key };
	if ((rc = mdb_get(txn, dbi, &k, v)) != 0)
		return map_mdb_error(rc, what);
	return 0;
}

/* Reads the entry with exactly the key of prefix p, whatever its state. */
static int entry_get_txn(MDB_txn *txn, MDB_dbi dbi, const struct store_zone *z,
			 const struct entry_key *p, struct store_entry *out)
{
	MDB_val v;
	int rc = get_by_prefix(txn, dbi, z, p, "entry", &v);
	if (rc < 0)
		return rc;
	return entry_decode(&v, out) < 0 ? DNSBL_ESTORE : 0;
}

int store_entry_get(struct store_reader *r, const struct store_zone *z,
		    const struct entry_key *p, struct store_entry *out)
{
	return entry_get_txn(r->txn, r->s->entries, z, p, out);
}

int store_entry_state(const struct store_entry *e, uint32_t now)
{
	if (e->flags & STORE_F_PENDING)
		return STORE_STATE_PENDING;
	if (entry_expired(e, now))
		return STORE_STATE_EXPIRED;
	return (e->flags & STORE_F_EXCLUDE) ? STORE_STATE_EXCLUDED : STORE_STATE_LISTED;
}

const char *store_event_name(int event)
{
	switch (event) {
	case STORE_EV_LIST: return "list";
	case STORE_EV_RELIST: return "relist";
	case STORE_EV_DELIST: return "delist";
	case STORE_EV_EXPIRE: return "expire";
	case STORE_EV_REMOVE: return "remove";
	case STORE_EV_UPDATE: return "update";
	default: return "unknown";
	}
}

size_t store_actor_format(struct store_reader *r, int kind, uint16_t id, char *buf, size_t size)
{
	char name[STORE_NAME_MAX + 16];
	int n;

	if (kind == STORE_ACTOR_EXPIRE) {
		n = snprintf(buf, size, "expire");
	} else {
		if (store_source_name(r, id, name, sizeof(name)) < 0)
			snprintf(name, sizeof(name), "#%u", id);
		if (kind == STORE_ACTOR_OPERATOR || strncmp(name, "operator:", 9) == 0)
			n = snprintf(buf, size, "%s", name);
		else
			n = snprintf(buf, size, "source:%s", name);
	}
	return n < 0 ? 0 : (size_t)n < size ? (size_t)n : size - 1;
}

bool store_name_valid(const char *s, size_t len)
{
	if (len == 0 || len > STORE_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-' || c == '+' || c == '@'))
			return false;
	}
	return true;
}

uint64_t store_zone_count(struct store_reader *r, const struct store_zone *z)
{
	uint64_t n = 0;
	if (store_foreach(r, z, count_one, &n) < 0)
		return 0;
	return n;
}

int store_source_name(struct store_reader *r, uint16_t id, char *buf, size_t size)
{
	uint8_t kbuf[8] = { 's', 'r', 'c', 'i', 'd', ':', (uint8_t)(id >> 8), (uint8_t)id };
	MDB_val k = { sizeof(kbuf), kbuf }, v;
	int rc = mdb_get(r->txn, r->s->meta, &k, &v);

	if (rc != 0)
		return map_mdb_error(rc, "source name");
	if (v.mv_size + 1 > size)
		return DNSBL_ENOSPC;
	memcpy(buf, v.mv_data, v.mv_size);
	buf[v.mv_size] = '\0';
	return 0;
}

/* --- writing --- */

int store_writer_begin(struct store *s, struct store_writer **out)
{
	struct store_writer *w;
	int rc;

	if (s->rdonly)
		return DNSBL_EINVAL;
	w = calloc(1, sizeof(*w));
	if (w == NULL)
		return DNSBL_ENOMEM;
	w->s = s;
	if ((rc = mdb_txn_begin(s->env, NULL, 0, &w->txn)) != 0) {
		free(w);
		return map_mdb_error(rc, "begin write");
	}
	if (!s->has_summary) {
		/* opened as schema 2 (without STORE_CREATE): if another process upgraded
		 * the store since, writing without the summary would hide entries */
		MDB_val k = { 6, "schema" }, v;
		uint32_t version = 0;
		if (mdb_get(w->txn, s->meta, &k, &v) == 0 && v.mv_size == sizeof(version))
			memcpy(&version, v.mv_data, sizeof(version));
		if (version != 2) {
			log_err("store: upgraded to schema %u by another program: reopen it", version);
			mdb_txn_abort(w->txn);
			free(w);
			return DNSBL_EVERSION;
		}
	}
	*out = w;
	return 0;
}

static int zone_write(struct store_writer *w, const struct writer_zone *wz)
{
	char kbuf[300];
	int n = snprintf(kbuf, sizeof(kbuf), "zone:%s", wz->name);
	struct zone_record rec = {
		.id = wz->z.id, .serial = wz->z.serial, .created = wz->z.created,
		.lens4 = wz->z.lens4,
	};
	memcpy(rec.lens6, wz->z.lens6, sizeof(rec.lens6));
	MDB_val k = { (size_t)n, kbuf }, v = { sizeof(rec), &rec };
	return map_mdb_error(mdb_put(w->txn, w->s->meta, &k, &v, 0), "write zone record");
}

int store_writer_commit(struct store_writer *w)
{
	int rc = 0;

	if (w->replacing)
		rc = store_replace_finish(w, NULL);
	if (rc == 0 && w->seq_dirty) {
		MDB_val k = { 13, "hist-next-seq" }, v = { sizeof(w->next_seq), &w->next_seq };
		rc = map_mdb_error(mdb_put(w->txn, w->s->meta, &k, &v, 0), "history sequence");
	}
	for (unsigned i = 0; i < w->sum.n && rc == 0; i++) {
		struct summary_zone *sz = w->sum.zones[i];
		for (unsigned j = 0; j < w->nzones; j++)
			if (w->zones[j].z.id == sz->zid)
				sz->lens4 = w->zones[j].z.lens4;
	}
	if (rc == 0)
		rc = summary_flush(w->s, w->txn, &w->sum);
	summary_set_free(&w->sum);
	for (unsigned i = 0; i < w->nzones && rc == 0; i++) {
		struct writer_zone *wz = &w->zones[i];
		if (!wz->changed)
			continue;
		wz->z.serial++;
		if (wz->z.serial == 0)
			wz->z.serial = 1;
		rc = zone_write(w, wz);
	}
	if (rc == 0)
		rc = map_mdb_error(mdb_txn_commit(w->txn), "commit");
	else
		mdb_txn_abort(w->txn);
	free(w);
	return rc;
}

void store_writer_abort(struct store_writer *w)
{
	if (w == NULL)
		return;
	mdb_txn_abort(w->txn);
	summary_set_free(&w->sum);
	free(w);
}

/* Reads and increments the counter at key (starting at 1). */
static int next_id(struct store_writer *w, const char *key, uint32_t limit, uint16_t *out)
{
	MDB_val k = { strlen(key), (void *)key }, v;
	uint16_t id = 1;
	int rc = mdb_get(w->txn, w->s->meta, &k, &v);

	if (rc == 0 && v.mv_size == sizeof(id))
		memcpy(&id, v.mv_data, sizeof(id));
	else if (rc != 0 && rc != MDB_NOTFOUND)
		return map_mdb_error(rc, key);
	if (id == 0 || id >= limit)
		return DNSBL_ERANGE;
	*out = id;
	id++;
	v.mv_size = sizeof(id);
	v.mv_data = &id;
	return map_mdb_error(mdb_put(w->txn, w->s->meta, &k, &v, 0), key);
}

int store_writer_zone(struct store_writer *w, const char *name, struct store_zone **out)
{
	struct writer_zone *wz;
	size_t n = strlen(name);
	int rc;

	if (n == 0 || n > 253)
		return DNSBL_EINVAL;
	for (unsigned i = 0; i < w->nzones; i++) {
		if (strcmp(w->zones[i].name, name) == 0) {
			*out = &w->zones[i].z;
			return 0;
		}
	}
	if (w->nzones == WRITER_ZONES)
		return DNSBL_ERANGE;
	wz = &w->zones[w->nzones];
	memset(wz, 0, sizeof(*wz));
	memcpy(wz->name, name, n + 1);
	rc = zone_read(w->txn, w->s->meta, name, &wz->z);
	if (rc == DNSBL_ENOTFOUND) {
		if ((rc = next_id(w, "zone-next-id", 0xffff, &wz->z.id)) < 0)
			return rc;
		wz->z.created = (uint32_t)time(NULL);
		/* the commit bumps it to the creation time */
		wz->z.serial = wz->z.created - 1;
		wz->changed = true;
	} else if (rc < 0) {
		return rc;
	}
	w->nzones++;
	*out = &wz->z;
	return 0;
}

/* The writer's slot holding z (every struct store_zone a writer hands out is one). */
static struct writer_zone *writer_zone_of(struct store_writer *w, struct store_zone *z)
{
	for (unsigned i = 0; i < w->nzones; i++)
		if (&w->zones[i].z == z)
			return &w->zones[i];
	return NULL;
}

int store_writer_source(struct store_writer *w, const char *name, uint16_t *id)
{
	char kbuf[8 + SOURCE_NAME_MAX];
	size_t n = strlen(name);
	int rc;

	if (n == 0 || n > SOURCE_NAME_MAX)
		return DNSBL_EINVAL;
	snprintf(kbuf, sizeof(kbuf), "src:%s", name);
	MDB_val k = { 4 + n, kbuf }, v;
	rc = mdb_get(w->txn, w->s->meta, &k, &v);
	if (rc == 0 && v.mv_size == sizeof(*id)) {
		memcpy(id, v.mv_data, sizeof(*id));
		return 0;
	}
	if (rc != MDB_NOTFOUND)
		return map_mdb_error(rc, "source");
	if ((rc = next_id(w, "src-next-id", 0xffff, id)) < 0)
		return rc;
	v.mv_size = sizeof(*id);
	v.mv_data = id;
	if ((rc = mdb_put(w->txn, w->s->meta, &k, &v, 0)) != 0)
		return map_mdb_error(rc, "source");
	uint8_t rkey[8] = { 's', 'r', 'c', 'i', 'd', ':', (uint8_t)(*id >> 8), (uint8_t)*id };
	MDB_val rk = { sizeof(rkey), rkey }, rv = { n, (void *)name };
	return map_mdb_error(mdb_put(w->txn, w->s->meta, &rk, &rv, 0), "source");
}

static bool prefix_valid(const struct entry_key *p)
{
	if (p->family == ADDR_FAMILY_NAME)
		return p->len >= DNAME_EXACT && p->len <= DNAME_TREE &&
		       name_form_valid(p->name, p->name_len);
	if (p->family != ADDR_FAMILY_V4 && p->family != ADDR_FAMILY_V6)
		return false;
	return p->len <= family_bits(p->family);
}

/* LMDB's default key order: bytes, then the shorter first. */
static int key_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);
	if (c != 0)
		return c;
	return alen < blen ? -1 : alen > blen ? 1 : 0;
}

/* Whether key k sorts after everything in dbi (so it is absent and appendable). */
static int hint_after(MDB_txn *txn, MDB_dbi dbi, struct append_hint *h, const MDB_val *k,
		      bool *after)
{
	if (!h->known) {
		MDB_cursor *cur;
		MDB_val lk, lv;
		int rc = mdb_cursor_open(txn, dbi, &cur);
		if (rc != 0)
			return map_mdb_error(rc, "cursor");
		rc = mdb_cursor_get(cur, &lk, &lv, MDB_LAST);
		mdb_cursor_close(cur);
		if (rc == MDB_NOTFOUND) {
			h->len = 0;
		} else if (rc != 0) {
			return map_mdb_error(rc, "last key");
		} else if (lk.mv_size > sizeof(h->key)) {
			/* a foreign key longer than ours: never append */
			memset(h->key, 0xff, sizeof(h->key));
			h->len = sizeof(h->key);
		} else {
			memcpy(h->key, lk.mv_data, lk.mv_size);
			h->len = lk.mv_size;
		}
		h->known = true;
	}
	*after = h->len == 0 || key_cmp(k->mv_data, k->mv_size, h->key, h->len) > 0;
	return 0;
}

/* Puts k/v, appending when k sorts after every key (known absent by the caller). */
static int put_hinted(MDB_txn *txn, MDB_dbi dbi, struct append_hint *h, MDB_val *k,
		      MDB_val *v, bool after)
{
	int rc;

	if (!after)
		return mdb_put(txn, dbi, k, v, 0);
	if (h->cur == NULL && (rc = mdb_cursor_open(txn, dbi, &h->cur)) != 0)
		return rc;
	rc = mdb_cursor_put(h->cur, k, v, MDB_APPEND);
	if (rc == 0 && after && k->mv_size <= sizeof(h->key)) {
		memcpy(h->key, k->mv_data, k->mv_size);
		h->len = k->mv_size;
	}
	return rc;
}

static void seq_encode(uint8_t *p, uint64_t seq)
{
	for (int i = SEQ_BYTES - 1; i >= 0; i--) {
		p[i] = (uint8_t)seq;
		seq >>= 8;
	}
}

static uint64_t seq_decode(const uint8_t *p)
{
	uint64_t seq = 0;
	for (int i = 0; i < SEQ_BYTES; i++)
		seq = seq << 8 | p[i];
	return seq;
}

/* Appends one history record (and its per-key index entry). */
static int history_add(struct store_writer *w, uint16_t zid, uint8_t event, uint8_t actor,
		       uint16_t actor_id, const struct entry_key *p, uint32_t a,
		       const char *reason, size_t reason_len, uint32_t now)
{
	uint8_t hk[SEQ_BYTES], hv[HIST_FIXED + 1 + DNAME_KEY_MAX + STORE_REASON_MAX];
	uint8_t ik[KEY_MAX + SEQ_BYTES];
	size_t n;
	bool after;
	int rc;

	if (!w->seq_loaded) {
		MDB_val k = { 13, "hist-next-seq" }, v;
		rc = mdb_get(w->txn, w->s->meta, &k, &v);
		w->next_seq = 1;
		if (rc == 0 && v.mv_size == sizeof(w->next_seq))
			memcpy(&w->next_seq, v.mv_data, sizeof(w->next_seq));
		else if (rc != 0 && rc != MDB_NOTFOUND)
			return map_mdb_error(rc, "history sequence");
		w->seq_loaded = true;
	}
	if (reason_len > STORE_REASON_MAX)
		reason_len = STORE_REASON_MAX;
	seq_encode(hk, w->next_seq);
	memcpy(hv, &now, 4);
	memcpy(hv + 4, &zid, 2);
	hv[6] = event;
	hv[7] = actor;
	memcpy(hv + 8, &actor_id, 2);
	hv[10] = p->family;
	hv[11] = p->len;
	memcpy(hv + 12, &a, 4);
	n = HIST_FIXED;
	if (p->family == ADDR_FAMILY_NAME) {
		hv[n++] = p->name_len;
		memcpy(hv + n, p->name, p->name_len);
		n += p->name_len;
	} else {
		memcpy(hv + n, p->addr, addr_bytes(p->family));
		n += addr_bytes(p->family);
	}
	if (reason_len > 0)
		memcpy(hv + n, reason, reason_len);
	n += reason_len;
	MDB_val k = { SEQ_BYTES, hk }, v = { n, hv };
	if ((rc = put_hinted(w->txn, w->s->history, &w->history_hint, &k, &v, true)) != 0)
		return map_mdb_error(rc, "history");
	size_t kl = key_encode(ik, zid, p);
	memcpy(ik + kl, hk, SEQ_BYTES);
	MDB_val ikv = { kl + SEQ_BYTES, ik }, empty = { 0, NULL };
	if ((rc = hint_after(w->txn, w->s->histkey, &w->histkey_hint, &ikv, &after)) < 0)
		return rc;
	if ((rc = put_hinted(w->txn, w->s->histkey, &w->histkey_hint, &ikv, &empty, after)) != 0)
		return map_mdb_error(rc, "history index");
	w->next_seq++;
	w->seq_dirty = true;
	return 0;
}

static int tomb_decode(const MDB_val *v, struct store_tomb *t)
{
	const uint8_t *p = v->mv_data;

	if (v->mv_size < TOMB_FIXED)
		return DNSBL_ESTORE;
	memcpy(&t->time, p, 4);
	memcpy(&t->actor_id, p + 4, 2);
	t->reason = (const char *)p + TOMB_FIXED;
	t->reason_len = v->mv_size - TOMB_FIXED;
	return 0;
}

/* Whether the writer's transaction holds any tombstone (checked once). */
static int tombs_any(struct store_writer *w, bool *any)
{
	if (!w->tombs_checked) {
		MDB_stat st;
		int rc = mdb_stat(w->txn, w->s->tombs, &st);
		if (rc != 0)
			return map_mdb_error(rc, "tombstones");
		w->tombs_any = st.ms_entries > 0;
		w->tombs_checked = true;
	}
	*any = w->tombs_any;
	return 0;
}

static uint32_t add_sat(uint32_t a, uint32_t b)
{
	return a + b < a ? UINT32_MAX : a + b;
}

/* The expiry a put gives a listing whose last hit is last_seen. */
static uint32_t put_expiry(const struct store_put *put, const struct store_lifecycle *life,
			   uint32_t last_seen)
{
	if (put->expires_set || put->expires != 0)
		return put->expires;
	if (put->ttl != 0)
		return add_sat(put->seen, put->ttl);
	if (put->actor == STORE_ACTOR_OPERATOR)
		return 0;
	if (life->expire_after != 0)
		return add_sat(last_seen, life->expire_after);
	return 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

/* Adds hits at time t to a pending entry's recent times (in/out, sorted, at most
 * threshold-1 kept). Returns whether threshold hits now fall within one window. */
static bool pending_hit(uint32_t *times, unsigned *n, uint32_t t, uint32_t hits,
			const struct store_lifecycle *life, unsigned threshold)
{
	uint32_t all[STORE_RECENT_MAX + STORE_THRESHOLD_MAX];
	unsigned count = *n, best = 0;

	memcpy(all, times, count * sizeof(*all));
	for (uint32_t i = 0; i < hits && i < threshold; i++)
		all[count++] = t;
	qsort(all, count, sizeof(*all), cmp_u32);
	for (unsigned i = 0, j = 0; j < count; j++) {
		while (all[j] - all[i] > life->list_window)
			i++;
		if (j - i + 1 > best)
			best = j - i + 1;
	}
	unsigned keep = count < threshold - 1 ? count : threshold - 1;
	memcpy(times, all + count - keep, keep * sizeof(*all));
	*n = keep;
	return best >= threshold;
}

int store_merge(struct store_writer *w, struct store_zone *z, const struct entry_key *p,
		const struct store_put *put, int *outcome)
{
	static const struct store_lifecycle no_life = { 0, 1, 0, 0 };
	const struct store_lifecycle *life = put->life ? put->life : &no_life;
	uint8_t key[KEY_MAX], value[VALUE_FIXED + 1 + 4 * STORE_RECENT_MAX +
						STORE_REASON_MAX + STORE_TXT_MAX];
	char old_reason[STORE_REASON_MAX], old_txt[STORE_TXT_MAX];
	uint32_t recent[STORE_RECENT_MAX];
	unsigned nrecent = 0;
	struct writer_zone *wz = writer_zone_of(w, z);
	struct store_entry e, old;
	struct entry_key mp;
	bool operator = put->actor == STORE_ACTOR_OPERATOR, exists = false, after = false;
	bool expired_old = false;
	uint32_t now = put->now ? put->now : (uint32_t)time(NULL);
	uint32_t hits = put->hits ? put->hits : 1;
	unsigned threshold = life->list_threshold < 1 ? 1 : life->list_threshold;
	int event = 0, result, rc;

	if (!prefix_valid(p) || wz == NULL)
		return DNSBL_EINVAL;
	if (put->reason_len > STORE_REASON_MAX || put->txt_len > STORE_TXT_MAX)
		return DNSBL_ERANGE;
	if (threshold > STORE_THRESHOLD_MAX)
		threshold = STORE_THRESHOLD_MAX;
	MDB_val k = { key_encode(key, z->id, p), key }, v;
	key_decode(key, k.mv_size, &mp); /* p, masked */

	if ((rc = hint_after(w->txn, w->s->entries, &w->entries_hint, &k, &after)) < 0)
		return rc;
	if (!after) {
		rc = mdb_get(w->txn, w->s->entries, &k, &v);
		if (rc == 0 && entry_decode(&v, &old) == 0)
			exists = true;
		else if (rc != 0 && rc != MDB_NOTFOUND)
			return map_mdb_error(rc, "merge");
	}
	if (exists) {
		/* copy what we keep: the page changes under the put below */
		memcpy(old_reason, old.reason, old.reason_len);
		old.reason = old_reason;
		if (old.flags & STORE_F_TXT) {
			memcpy(old_txt, old.txt, old.txt_len);
			old.txt = old_txt;
		}
		nrecent = old.nrecent;
		if (nrecent > 0)
			memcpy(recent, old.recent, 4 * (size_t)nrecent);
		if (entry_expired(&old, now)) {
			/* answered as unlisted already: start afresh (recorded below) */
			expired_old = !(old.flags & STORE_F_PENDING);
			exists = false;
			nrecent = 0;
		}
	}

	memset(&e, 0, sizeof(e));
	e.source_id = put->source_id;
	e.flags = put->flags & (STORE_F_EXCLUDE | STORE_F_A | STORE_F_TXT | STORE_F_NOTXT);
	e.a = (e.flags & STORE_F_A) ? put->a : 0;
	e.txt = put->txt;
	e.txt_len = (e.flags & STORE_F_TXT) ? put->txt_len : 0;
	e.reason = put->reason;
	e.reason_len = put->reason != NULL ? put->reason_len : 0;
	uint32_t first = put->first_seen && put->first_seen < put->seen ? put->first_seen
									  : put->seen;

	if (!exists) {
		bool pending = !operator && !(e.flags & STORE_F_EXCLUDE) && threshold > 1 &&
			       hits < threshold;
		e.first_seen = first;
		e.last_seen = put->seen;
		e.hits = hits;
		if (operator)
			e.flags |= STORE_F_MANUAL;
		if (pending) {
			nrecent = 0;
			pending_hit(recent, &nrecent, put->seen, hits, life, threshold);
			e.flags |= STORE_F_PENDING;
			e.expires = add_sat(put->seen, life->list_window);
			result = STORE_PENDING;
		} else {
			e.expires = put_expiry(put, life, e.last_seen);
			result = STORE_CREATED;
			event = STORE_EV_LIST;
		}
		if (!operator && e.expires != 0 && e.expires <= now) {
			if (outcome)
				*outcome = STORE_STALE;
			return 0;
		}
		bool any = operator;
		struct store_tomb tomb;
		if (!any && (rc = tombs_any(w, &any)) < 0)
			return rc;
		if (any) {
			MDB_val tv;
			rc = mdb_get(w->txn, w->s->tombs, &k, &tv);
			if (rc == 0 && tomb_decode(&tv, &tomb) == 0) {
				if (!operator && (put->seen <= tomb.time ||
						  (uint64_t)put->seen <
							  (uint64_t)tomb.time + life->relist_after)) {
					if (outcome)
						*outcome = STORE_SUPPRESSED;
					return 0;
				}
				if ((rc = mdb_del(w->txn, w->s->tombs, &k, NULL)) != 0)
					return map_mdb_error(rc, "tombstone");
				if (!pending) {
					event = STORE_EV_RELIST;
					result = STORE_RELISTED;
				}
			} else if (rc != 0 && rc != MDB_NOTFOUND) {
				return map_mdb_error(rc, "tombstone");
			}
		}
	} else {
		e.first_seen = old.first_seen < first ? old.first_seen : first;
		e.last_seen = old.last_seen > put->seen ? old.last_seen : put->seen;
		e.hits = add_sat(old.hits, hits);
		result = STORE_UPDATED;
		if ((old.flags & STORE_F_MANUAL) && !operator) {
			/* an operator's listing: feeds only count */
			e.flags = old.flags;
			e.a = old.a;
			e.txt = old.txt;
			e.txt_len = old.txt_len;
			e.source_id = old.source_id;
			e.expires = old.expires;
			e.reason = old.reason;
			e.reason_len = old.reason_len;
		} else {
			if (put->reason == NULL) {
				e.reason = old.reason;
				e.reason_len = old.reason_len;
			}
			if (operator) {
				e.flags |= STORE_F_MANUAL;
				e.expires = put_expiry(put, life, e.last_seen);
				event = (old.flags & STORE_F_PENDING) ? STORE_EV_LIST : STORE_EV_UPDATE;
				if (old.flags & STORE_F_PENDING)
					result = STORE_CREATED; /* listed only now */
			} else if (old.flags & STORE_F_PENDING) {
				if (pending_hit(recent, &nrecent, put->seen, hits, life, threshold) ||
				    (e.flags & STORE_F_EXCLUDE)) {
					e.expires = put_expiry(put, life, e.last_seen);
					event = STORE_EV_LIST;
					result = STORE_CREATED;
				} else {
					e.flags |= STORE_F_PENDING;
					e.expires = add_sat(recent[nrecent - 1], life->list_window);
					result = STORE_PENDING;
				}
			} else {
				uint32_t x = put_expiry(put, life, e.last_seen);
				/* an explicit expiry is taken as it is; a computed one
				 * never shortens the listing */
				e.expires = (x == 0 || put->expires_set || put->expires != 0 ||
					     old.expires == 0 || x > old.expires) ? x : old.expires;
			}
		}
	}
	if (e.flags & STORE_F_PENDING) {
		e.nrecent = (uint8_t)nrecent;
		e.recent = (const uint8_t *)recent;
	}
	if (expired_old &&
	    (rc = history_add(w, z->id, STORE_EV_EXPIRE, STORE_ACTOR_EXPIRE, 0, &mp, old.a, NULL,
			      0, now)) < 0)
		return rc;
	v.mv_size = entry_encode(value, &e);
	v.mv_data = value;
	if ((rc = put_hinted(w->txn, w->s->entries, &w->entries_hint, &k, &v, after)) != 0)
		return map_mdb_error(rc, "merge");
	if (event != 0 &&
	    (rc = history_add(w, z->id, (uint8_t)event, put->actor, put->source_id, &mp, e.a,
			      e.reason, e.reason_len, now)) < 0)
		return rc;
	if (w->replacing && z == w->replace_zone) {
		MDB_val empty = { 0, NULL };
		if ((rc = mdb_put(w->txn, w->replace_dbi, &k, &empty, 0)) != 0)
			return map_mdb_error(rc, "replace mark");
	}
	if ((rc = summary_add(w->s, w->txn, &w->sum, z->id, &mp)) < 0)
		return rc;
	lens_add(&z->lens4, z->lens6, &mp);
	wz->changed = true;
	if (outcome)
		*outcome = result;
	return 0;
}

int store_delist(struct store_writer *w, struct store_zone *z, const struct entry_key *p,
		 uint16_t actor_id, const char *reason, size_t reason_len, uint32_t now)
{
	uint8_t key[KEY_MAX], tv[TOMB_FIXED + STORE_REASON_MAX];
	struct writer_zone *wz = writer_zone_of(w, z);
	struct store_entry e;
	struct entry_key mp;
	int rc;

	if (!prefix_valid(p) || wz == NULL)
		return DNSBL_EINVAL;
	if (reason_len > STORE_REASON_MAX)
		return DNSBL_ERANGE;
	if (now == 0)
		now = (uint32_t)time(NULL);
	MDB_val k = { key_encode(key, z->id, p), key }, v;
	key_decode(key, k.mv_size, &mp); /* p, masked */
	rc = mdb_get(w->txn, w->s->entries, &k, &v);
	if (rc != 0)
		return map_mdb_error(rc, "delist");
	if (entry_decode(&v, &e) < 0)
		return DNSBL_ESTORE;
	if (entry_expired(&e, now) && !(e.flags & STORE_F_PENDING))
		return DNSBL_ENOTFOUND; /* not listed; the sweep records its expiry */
	uint32_t a = e.a;
	if ((rc = mdb_del(w->txn, w->s->entries, &k, NULL)) != 0)
		return map_mdb_error(rc, "delist");
	if ((rc = summary_forget(w->s, &w->sum, z->id, &mp)) < 0)
		return rc;
	memcpy(tv, &now, 4);
	memcpy(tv + 4, &actor_id, 2);
	if (reason_len > 0)
		memcpy(tv + TOMB_FIXED, reason, reason_len);
	MDB_val t = { TOMB_FIXED + reason_len, tv };
	if ((rc = mdb_put(w->txn, w->s->tombs, &k, &t, 0)) != 0)
		return map_mdb_error(rc, "tombstone");
	w->tombs_any = w->tombs_checked = true;
	rc = history_add(w, z->id, STORE_EV_DELIST, STORE_ACTOR_OPERATOR, actor_id, &mp, a,
			 reason, reason_len, now);
	if (rc < 0)
		return rc;
	wz->changed = true;
	return 0;
}

/* Reads the tombstone of exactly p in zone z within txn. */
static int tomb_read(MDB_txn *txn, MDB_dbi tombs, const struct store_zone *z,
		     const struct entry_key *p, struct store_tomb *out)
{
	MDB_val v;
	int rc = get_by_prefix(txn, tombs, z, p, "tombstone", &v);
	if (rc < 0)
		return rc;
	return tomb_decode(&v, out);
}

int store_writer_tomb_get(struct store_writer *w, const struct store_zone *z,
			  const struct entry_key *p, struct store_tomb *out)
{
	return tomb_read(w->txn, w->s->tombs, z, p, out);
}

int store_writer_entry_get(struct store_writer *w, const struct store_zone *z,
			   const struct entry_key *p, struct store_entry *out)
{
	return entry_get_txn(w->txn, w->s->entries, z, p, out);
}

int store_writer_lookup(struct store_writer *w, const struct store_zone *z,
			const struct entry_key *addr, uint32_t now, struct store_entry *entry,
			struct entry_key *matched)
{
	if (!prefix_valid(addr))
		return DNSBL_EINVAL;
	return lookup_txn(w->txn, w->s->entries, z, addr, now, entry, matched);
}

int store_delete(struct store_writer *w, struct store_zone *z, const struct entry_key *p)
{
	uint8_t key[KEY_MAX];
	int rc;

	if (!prefix_valid(p) || writer_zone_of(w, z) == NULL)
		return DNSBL_EINVAL;
	struct entry_key mp;
	MDB_val k = { key_encode(key, z->id, p), key };
	key_decode(key, k.mv_size, &mp); /* p, masked */
	rc = mdb_del(w->txn, w->s->entries, &k, NULL);
	if (rc != 0)
		return map_mdb_error(rc, "delete");
	if ((rc = summary_forget(w->s, &w->sum, z->id, &mp)) < 0)
		return rc;
	writer_zone_of(w, z)->changed = true;
	return 0;
}

int store_replace_begin(struct store_writer *w, struct store_zone *z, uint16_t source_id)
{
	int rc;

	if (w->replacing || writer_zone_of(w, z) == NULL)
		return DNSBL_EINVAL;
	rc = mdb_dbi_open(w->txn, "replace-scratch", MDB_CREATE, &w->replace_dbi);
	if (rc != 0)
		return map_mdb_error(rc, "replace");
	if ((rc = mdb_drop(w->txn, w->replace_dbi, 0)) != 0)
		return map_mdb_error(rc, "replace");
	w->replacing = true;
	w->replace_zone = z;
	w->replace_source = source_id;
	return 0;
}

struct sweep {
	struct store_writer *w;
	MDB_dbi doomed; /* keys to delete, collected first so the scan never deletes */
	uint64_t removed;
	uint64_t lens4, lens6[3];
	int err;
};

static int sweep_one(const struct entry_key *p, const struct store_entry *e, void *arg,
		     MDB_cursor *cur)
{
	struct sweep *sw = arg;
	struct store_writer *w = sw->w;
	MDB_val k, v;

	if (e->source_id == w->replace_source) {
		int rc = mdb_cursor_get(cur, &k, &v, MDB_GET_CURRENT);
		if (rc == 0)
			rc = mdb_get(w->txn, w->replace_dbi, &k, &v);
		if (rc == MDB_NOTFOUND) {
			MDB_val empty = { 0, NULL };
			rc = mdb_put(w->txn, sw->doomed, &k, &empty, 0);
			if (rc == 0) {
				sw->removed++;
				return 0;
			}
		}
		if (rc != 0) {
			sw->err = map_mdb_error(rc, "replace");
			return 1;
		}
	}
	lens_add(&sw->lens4, sw->lens6, p);
	int rc = summary_add(w->s, w->txn, &w->sum, w->replace_zone->id, p);
	if (rc < 0) {
		sw->err = rc;
		return 1;
	}
	return 0;
}

/* Deletes from entries every key listed in sw->doomed. */
static int sweep_delete(struct sweep *sw)
{
	struct store_writer *w = sw->w;
	MDB_cursor *cur;
	MDB_val k, v;
	int rc;

	if ((rc = mdb_cursor_open(w->txn, sw->doomed, &cur)) != 0)
		return map_mdb_error(rc, "cursor");
	uint32_t now = (uint32_t)time(NULL);
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		uint8_t kb[KEY_MAX];
		struct entry_key p;
		struct store_entry e;
		MDB_val ev;
		/* a copy: the history puts below may move what LMDB returned */
		if (k.mv_size > sizeof(kb))
			continue;
		memcpy(kb, k.mv_data, k.mv_size);
		k.mv_data = kb;
		int drc = mdb_get(w->txn, w->s->entries, &k, &ev);
		if (drc == 0 && entry_decode(&ev, &e) == 0 && entry_active(&e, now) &&
		    key_decode(kb, k.mv_size, &p)) {
			drc = history_add(w, sw->w->replace_zone->id, STORE_EV_REMOVE,
					  STORE_ACTOR_SOURCE, w->replace_source, &p, e.a, NULL, 0,
					  now);
			if (drc < 0) {
				mdb_cursor_close(cur);
				return drc;
			}
		}
		drc = mdb_del(w->txn, w->s->entries, &k, NULL);
		if (drc != 0 && drc != MDB_NOTFOUND) {
			rc = drc;
			break;
		}
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : map_mdb_error(rc, "replace delete");
}

int store_replace_finish(struct store_writer *w, uint64_t *removed)
{
	struct sweep sw;
	struct store_zone *z = w->replace_zone;
	int rc;

	if (!w->replacing)
		return DNSBL_EINVAL;
	memset(&sw, 0, sizeof(sw));
	sw.w = w;
	rc = mdb_dbi_open(w->txn, "replace-doomed", MDB_CREATE, &sw.doomed);
	if (rc == 0)
		rc = mdb_drop(w->txn, sw.doomed, 0);
	rc = map_mdb_error(rc, "replace");
	if (rc == 0)
		rc = summary_restart(w->s, &w->sum, z->id); /* the sweep re-adds what stays */
	if (rc == 0) {
		rc = foreach_txn(w->txn, w->s->entries, z->id, sweep_one, &sw);
		if (rc > 0)
			rc = sw.err;
	}
	if (rc == 0)
		rc = sweep_delete(&sw);
	if (rc == 0) {
		z->lens4 = sw.lens4;
		memcpy(z->lens6, sw.lens6, sizeof(z->lens6));
		if (sw.removed > 0)
			writer_zone_of(w, z)->changed = true;
	}
	w->replacing = false;
	if (rc == 0)
		rc = map_mdb_error(mdb_drop(w->txn, sw.doomed, 1), "replace drop");
	if (rc == 0)
		rc = map_mdb_error(mdb_drop(w->txn, w->replace_dbi, 1), "replace drop");
	if (removed)
		*removed = rc == 0 ? sw.removed : 0;
	return rc;
}

/* --- tombstones, history, expiry --- */

int store_tomb_get(struct store_reader *r, const struct store_zone *z,
		   const struct entry_key *p, struct store_tomb *out)
{
	return tomb_read(r->txn, r->s->tombs, z, p, out);
}

/* Counts the keys of dbi that start with the zone id zid. */
static uint64_t count_zone_keys(MDB_txn *txn, MDB_dbi dbi, uint16_t zid)
{
	uint8_t start[2] = { (uint8_t)(zid >> 8), (uint8_t)zid };
	MDB_cursor *cur;
	MDB_val k = { 2, start }, v;
	uint64_t n = 0;
	int rc;

	if (mdb_cursor_open(txn, dbi, &cur) != 0)
		return 0;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		const uint8_t *kb = k.mv_data;
		if (k.mv_size < 2 || kb[0] != start[0] || kb[1] != start[1])
			break;
		n++;
	}
	mdb_cursor_close(cur);
	return n;
}

uint64_t store_tomb_count(struct store_reader *r, const struct store_zone *z)
{
	return count_zone_keys(r->txn, r->s->tombs, z->id);
}

uint64_t store_history_count(struct store_reader *r, const struct store_zone *z)
{
	return count_zone_keys(r->txn, r->s->histkey, z->id);
}

static int history_decode(const MDB_val *k, const MDB_val *v, struct store_event_rec *ev)
{
	const uint8_t *p = v->mv_data;
	size_t nbytes;

	if (k->mv_size != SEQ_BYTES || v->mv_size < HIST_FIXED)
		return DNSBL_ESTORE;
	memset(ev, 0, sizeof(*ev));
	ev->seq = seq_decode(k->mv_data);
	memcpy(&ev->time, p, 4);
	memcpy(&ev->zone_id, p + 4, 2);
	ev->event = p[6];
	ev->actor = p[7];
	memcpy(&ev->actor_id, p + 8, 2);
	ev->prefix.family = p[10];
	ev->prefix.len = p[11];
	memcpy(&ev->a, p + 12, 4);
	if (ev->prefix.family == ADDR_FAMILY_NAME) {
		if (v->mv_size < HIST_FIXED + 1 || v->mv_size < HIST_FIXED + 1 + (size_t)p[HIST_FIXED])
			return DNSBL_ESTORE;
		ev->prefix.name_len = p[HIST_FIXED];
		ev->prefix.name = p + HIST_FIXED + 1;
		if (!prefix_valid(&ev->prefix))
			return DNSBL_ESTORE;
		nbytes = 1 + (size_t)ev->prefix.name_len;
	} else {
		if (ev->prefix.family != ADDR_FAMILY_V4 && ev->prefix.family != ADDR_FAMILY_V6)
			return DNSBL_ESTORE;
		nbytes = addr_bytes(ev->prefix.family);
		if (v->mv_size < HIST_FIXED + nbytes ||
		    ev->prefix.len > family_bits(ev->prefix.family))
			return DNSBL_ESTORE;
		memcpy(ev->prefix.addr, p + HIST_FIXED, nbytes);
	}
	ev->reason = (const char *)p + HIST_FIXED + nbytes;
	ev->reason_len = v->mv_size - HIST_FIXED - nbytes;
	return 0;
}

int store_history_scan(struct store_reader *r, uint16_t zone_id, const struct entry_key *p,
		       uint32_t since,
		       int (*fn)(const struct store_event_rec *ev, void *arg), void *arg)
{
	return store_history_scan_before(r, zone_id, p, since, UINT64_MAX, fn, arg);
}

int store_history_scan_before(struct store_reader *r, uint16_t zone_id,
			      const struct entry_key *p, uint32_t since, uint64_t before,
			      int (*fn)(const struct store_event_rec *ev, void *arg), void *arg)
{
	MDB_cursor *cur;
	struct store_event_rec ev;
	uint8_t ik[KEY_MAX + SEQ_BYTES];
	size_t kl = 0;
	MDB_val k, v;
	int rc, ret = 0;

	if (p != NULL) {
		if (!prefix_valid(p) || zone_id == 0)
			return DNSBL_EINVAL;
		kl = key_encode(ik, zone_id, p);
	}
	/* the first key at or past "before"; the walk starts just below it */
	for (int i = 0; i < SEQ_BYTES; i++)
		ik[kl + (size_t)i] = (uint8_t)(before >> (8 * (SEQ_BYTES - 1 - i)));
	if ((rc = mdb_cursor_open(r->txn, p ? r->s->histkey : r->s->history, &cur)) != 0)
		return map_mdb_error(rc, "cursor");
	k.mv_size = kl + SEQ_BYTES;
	k.mv_data = ik;
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	rc = rc == MDB_NOTFOUND ? mdb_cursor_get(cur, &k, &v, MDB_LAST)
				: rc == 0 ? mdb_cursor_get(cur, &k, &v, MDB_PREV) : rc;
	for (; rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_PREV)) {
		MDB_val hk, hv;
		if (p != NULL) {
			if (k.mv_size != kl + SEQ_BYTES || memcmp(k.mv_data, ik, kl) != 0)
				break;
			hk.mv_size = SEQ_BYTES;
			hk.mv_data = (uint8_t *)k.mv_data + kl;
			int grc = mdb_get(r->txn, r->s->history, &hk, &hv);
			if (grc == MDB_NOTFOUND)
				continue; /* pruned */
			if (grc != 0) {
				rc = grc;
				break;
			}
		} else {
			hk = k;
			hv = v;
		}
		if (history_decode(&hk, &hv, &ev) < 0)
			continue; /* not a record of this schema: skip, never crash */
		if (ev.time < since)
			break;
		if (zone_id != 0 && ev.zone_id != zone_id)
			continue;
		if ((ret = fn(&ev, arg)) != 0)
			break;
	}
	mdb_cursor_close(cur);
	if (ret != 0)
		return ret;
	return rc == 0 || rc == MDB_NOTFOUND ? 0 : map_mdb_error(rc, "history");
}

/* One batch of the expiry sweep of zone_name from key (in/out: where to go on;
 * *done when the zone's end was reached). */
static int expire_batch(struct store *s, const char *zone_name, uint32_t now, uint32_t batch,
			uint8_t *resume, size_t *resume_len, bool *done,
			struct store_expire_result *out)
{
	struct store_writer *w;
	struct store_zone *z;
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	uint32_t n = 0;
	int rc;

	if ((rc = store_writer_begin(s, &w)) < 0)
		return rc;
	rc = zone_read(w->txn, s->meta, zone_name, &(struct store_zone){ 0 });
	if (rc == DNSBL_ENOTFOUND) {
		store_writer_abort(w);
		*done = true;
		return 0;
	}
	if (rc < 0 || (rc = store_writer_zone(w, zone_name, &z)) < 0)
		goto fail;
	if ((rc = mdb_cursor_open(w->txn, s->entries, &cur)) != 0) {
		rc = map_mdb_error(rc, "cursor");
		goto fail;
	}
	if (*resume_len == 0) {
		resume[0] = (uint8_t)(z->id >> 8);
		resume[1] = (uint8_t)z->id;
		*resume_len = 2;
	}
	k.mv_size = *resume_len;
	k.mv_data = resume;
	*done = true;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		const uint8_t *kb = k.mv_data;
		struct store_entry e;
		if (k.mv_size < 4 || kb[0] != (uint8_t)(z->id >> 8) || kb[1] != (uint8_t)z->id)
			break;
		if (n == batch) {
			memcpy(resume, kb, k.mv_size < KEY_MAX ? k.mv_size : KEY_MAX);
			*resume_len = k.mv_size < KEY_MAX ? k.mv_size : KEY_MAX;
			*done = false;
			break;
		}
		struct entry_key p;
		uint8_t kcopy[KEY_MAX];
		if (k.mv_size > sizeof(kcopy) || entry_decode(&v, &e) < 0 || !entry_expired(&e, now))
			continue;
		/* a copy: the history puts below may move what LMDB returned */
		memcpy(kcopy, kb, k.mv_size);
		if (!key_decode(kcopy, k.mv_size, &p))
			continue;
		if (e.flags & STORE_F_PENDING) {
			out->pending_dropped++;
		} else {
			rc = history_add(w, z->id, STORE_EV_EXPIRE, STORE_ACTOR_EXPIRE, 0, &p, e.a,
					 NULL, 0, now);
			if (rc < 0)
				goto fail;
			out->expired++;
		}
		if ((rc = mdb_cursor_del(cur, 0)) != 0) {
			rc = map_mdb_error(rc, "expire");
			goto fail;
		}
		if ((rc = summary_forget(s, &w->sum, z->id, &p)) < 0)
			goto fail;
		writer_zone_of(w, z)->changed = true;
		n++;
	}
	if (rc != 0 && rc != MDB_NOTFOUND && *done) {
		rc = map_mdb_error(rc, "expire scan");
		goto fail;
	}
	mdb_cursor_close(cur);
	return store_writer_commit(w);
fail:
	if (cur != NULL)
		mdb_cursor_close(cur);
	store_writer_abort(w);
	return rc;
}

/* Deletes up to batch history records older than before; *done at the end. */
static int prune_batch(struct store *s, uint32_t before, uint32_t batch, bool *done,
		       uint64_t *pruned)
{
	struct store_writer *w;
	MDB_cursor *cur;
	MDB_val k, v;
	uint32_t n = 0;
	int rc;

	if ((rc = store_writer_begin(s, &w)) < 0)
		return rc;
	if ((rc = mdb_cursor_open(w->txn, s->history, &cur)) != 0) {
		store_writer_abort(w);
		return map_mdb_error(rc, "cursor");
	}
	*done = true;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		struct store_event_rec ev;
		uint8_t ik[KEY_MAX + SEQ_BYTES];
		if (history_decode(&k, &v, &ev) == 0) {
			if (ev.time >= before)
				break;
			if (n == batch) {
				*done = false;
				break;
			}
			size_t kl = key_encode(ik, ev.zone_id, &ev.prefix);
			memcpy(ik + kl, k.mv_data, SEQ_BYTES);
			MDB_val ikv = { kl + SEQ_BYTES, ik };
			int drc = mdb_del(w->txn, s->histkey, &ikv, NULL);
			if (drc != 0 && drc != MDB_NOTFOUND) {
				rc = drc;
				break;
			}
		}
		if ((rc = mdb_cursor_del(cur, 0)) != 0)
			break;
		(*pruned)++;
		n++;
	}
	mdb_cursor_close(cur);
	if (rc != 0 && rc != MDB_NOTFOUND) {
		store_writer_abort(w);
		return map_mdb_error(rc, "history prune");
	}
	return store_writer_commit(w);
}

int store_expire(struct store *s, const char *zone_name, uint32_t now,
		 uint32_t history_before, uint32_t batch, struct store_expire_result *out)
{
	uint8_t resume[KEY_MAX];
	size_t resume_len = 0;
	bool done = false;
	int rc;

	if (batch == 0)
		batch = 1;
	while (!done) {
		if ((rc = expire_batch(s, zone_name, now, batch, resume, &resume_len, &done,
				       out)) < 0)
			return rc;
	}
	if (history_before == 0)
		return 0;
	return store_history_prune(s, history_before, batch, &out->history_pruned);
}

int store_history_prune(struct store *s, uint32_t before, uint32_t batch, uint64_t *pruned)
{
	bool done = false;
	int rc;

	if (batch == 0)
		batch = 1;
	while (!done) {
		if ((rc = prune_batch(s, before, batch, &done, pruned)) < 0)
			return rc;
	}
	return 0;
}
