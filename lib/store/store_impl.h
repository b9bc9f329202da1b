/* lib/store/'s private header: the structs behind the opaque handles of lib/store.h
 * and the functions the store's files share. Nothing outside lib/store/ includes it;
 * only these files see MDB_*.
 *
 *   codec.c          the on-disk encodings (the byte layouts are documented there)
 *   env.c            open, close, schema check and upgrade, prefault, LMDB errors
 *   read.c           the read path: readers, zone records, store_lookup, the
 *                    summary's read side, empty non-terminal scans (what a query touches)
 *   scan.c           walks and counts: paging, entry and tombstone reads, history scans
 *   writer.c         write transactions, zones, sources, append hints, history
 *                    records, delete, delist
 *   merge.c          store_merge: LMDB around the listing rules of lib/lifecycle.h
 *   summary_write.c  the summary's write side (kept in every write transaction)
 *   sweep.c          replace, expire, prune
 *   journal.c        the transfer journal: collecting a commit's old values per
 *                    zone, appending and pruning records at commit, reading them
 *   walk.c           walks of a zone in address order (zone transfers) */
#ifndef DNSBL_STORE_IMPL_H
#define DNSBL_STORE_IMPL_H

#include <lmdb.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "dname.h"
#include "err.h"
#include "store.h"
#include "summary.h"

#ifndef STORE_MAP_SIZE /* make answer-cost sets a smaller one for valgrind */
#define STORE_MAP_SIZE (64ull << 30) /* address space only; the file grows as needed */
#endif
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
#define VALUE_MAX (VALUE_FIXED + 1 + 4 * STORE_RECENT_MAX + STORE_REASON_MAX + STORE_TXT_MAX)
#define HIST_VALUE_MAX (HIST_FIXED + 1 + DNAME_KEY_MAX + STORE_REASON_MAX)
#define JOURNAL_KEY_BYTES (2 + SEQ_BYTES) /* zone id u16 BE | txn id u64 BE */
#define JOURNAL_FIXED 13                  /* serial u32 | time u32 | flags u8 | count u32 */
#define JOURNAL_F_OVERFLOW 0x01

struct store {
	MDB_env *env;
	MDB_dbi meta, entries, tombs, history, histkey, summary, journal;
	bool rdonly;
	bool has_summary; /* schema 3: lookups of IPv4 addresses consult the summary */
	bool has_journal; /* schema 4: writers keep the journal, readers find it */
	uint64_t journal_size; /* changes kept per zone (store_set_journal_size) */
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

/* One zone's changes in a write transaction, collected for its journal record: the
 * record's value as it grows (JOURNAL_FIXED bytes left for the header, then the
 * encoded changes) and an open-addressing table of the changes' offsets, so that a
 * key's first old value in the transaction is the one kept. Past the journal size
 * the zone overflows: buffers freed, nothing more collected. */
struct journal_zone {
	bool overflow;
	uint32_t count; /* changes in buf */
	uint8_t *buf;
	size_t len, cap;
	size_t *slot;   /* offset + 1 of a change in buf; 0: empty */
	size_t nslot;   /* 0 or a power of two */
};

struct writer_zone {
	char name[256];
	struct store_zone z;
	bool changed;
	struct journal_zone journal;
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
	uint64_t lens[4]; /* union store_zone_lens */
};
_Static_assert(sizeof(struct zone_record) == 48, "zone record layout");
_Static_assert(sizeof(union store_zone_lens) == 32, "zone lens layout");

/* --- codec.c: the encodings the read path uses on every query, inline here --- */

/* The address bytes of a family: 16 for IPv6, else 4. */
static inline size_t store_addr_bytes(uint8_t family)
{
	return family == ADDR_FAMILY_V6 ? 16 : 4;
}

/* The address bits of a family: 128 for IPv6, else 32. */
static inline unsigned store_family_bits(uint8_t family)
{
	return family == ADDR_FAMILY_V6 ? 128 : 32;
}

/* Copies the first len bits of src into dst (nbytes long), zeroing the rest. */
static inline void mask_addr(uint8_t *dst, const uint8_t *src, unsigned len, size_t nbytes)
{
	size_t full = len / 8;
	unsigned rest = len % 8;

	memcpy(dst, src, full);
	memset(dst + full, 0, nbytes - full);
	if (rest)
		dst[full] = (uint8_t)(src[full] & (0xff << (8 - rest)));
}

/* Writes the entries key of p (valid) in zone zid into key (KEY_MAX bytes), an IP
 * address masked to its length. Returns the length. */
static inline size_t store_key_encode(uint8_t *key, uint16_t zid, const struct entry_key *p)
{
	key[0] = (uint8_t)(zid >> 8);
	key[1] = (uint8_t)zid;
	key[2] = p->family;
	if (p->family == ADDR_FAMILY_NAME) {
		memcpy(key + 3, p->name, p->name_len);
		key[3 + p->name_len] = 0;
		key[4 + p->name_len] = p->kind;
		return 5 + (size_t)p->name_len;
	}
	key[3] = p->len;
	mask_addr(key + 4, p->addr, p->len, store_addr_bytes(p->family));
	return 4 + store_addr_bytes(p->family);
}

/* Whether zone z has some entry of prefix length len in family (IPv4 or IPv6). */
static inline bool store_lens_has(const struct store_zone *z, uint8_t family, unsigned len)
{
	if (family == ADDR_FAMILY_V4)
		return (z->lens.ip4 >> len) & 1;
	return (z->lens.ip6[len / 64] >> (len % 64)) & 1;
}

/* The IPv4 address of an IPv4 key, host order. */
static inline uint32_t store_key4_addr(const struct entry_key *p)
{
	return (uint32_t)p->addr[0] << 24 | (uint32_t)p->addr[1] << 16 |
	       (uint32_t)p->addr[2] << 8 | p->addr[3];
}

/* Reads an entries value into *e (pointers into v). Returns 0 or DNSBL_ESTORE. */
static inline int store_entry_decode(const MDB_val *v, struct store_entry *e)
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

/* Whether entry e has expired at time now. */
static inline bool store_entry_expired(const struct store_entry *e, uint32_t now)
{
	return e->expires != 0 && e->expires <= now;
}

/* Whether entry e is answered at time now: neither pending nor expired. */
static inline bool store_entry_active(const struct store_entry *e, uint32_t now)
{
	return !(e->flags & STORE_F_PENDING) && !store_entry_expired(e, now);
}

/* --- env.c --- */

/* Translates an LMDB result (logging what failed, with LMDB's message): 0,
 * DNSBL_ENOTFOUND, DNSBL_EFULL or DNSBL_ESTORE. */
int map_mdb_error(int rc, const char *what);

/* --- codec.c --- */



/* Whether p is a key the store can hold (family, length or kind, key form). */
bool store_key_valid(const struct entry_key *p);

/* Whether name[0..len) is a well-formed key form. */
bool store_key_name_valid(const uint8_t *name, size_t len);


/* Reads an entries (or tombs) key kb[0..n) into *out; a name points into kb.
 * Returns false for a key that is not one of this schema. */
bool store_key_decode(const uint8_t *kb, size_t n, struct entry_key *out);



/* The bit of a name zone's label-count sets for a name of labels labels. */
uint64_t store_name_level_bit(unsigned labels);

/* Adds what key p means for lookups to a zone's lens (prefix length or labels). */
void store_lens_add(union store_zone_lens *l, const struct entry_key *p);


/* Encodes e into p (room for VALUE_MAX bytes; e's texts must not overlap p).
 * Returns the length. */
size_t store_entry_encode(uint8_t *p, const struct store_entry *e);



/* Writes a sequence number as SEQ_BYTES big-endian bytes. */
void store_seq_encode(uint8_t *p, uint64_t seq);

/* Reads SEQ_BYTES big-endian bytes. */
uint64_t store_seq_decode(const uint8_t *p);

/* Encodes a tombstone value into tv (TOMB_FIXED + reason_len bytes). Returns the length. */
size_t store_tomb_encode(uint8_t *tv, uint32_t time, uint16_t actor_id, const char *reason,
			 size_t reason_len);

/* Reads a tombstone value into *t (reason points into v). Returns 0 or DNSBL_ESTORE. */
int store_tomb_decode(const MDB_val *v, struct store_tomb *t);

/* Encodes a history value into hv (HIST_VALUE_MAX bytes). Returns the length. */
size_t store_history_encode(uint8_t *hv, uint32_t time, uint16_t zid, uint8_t event,
			    uint8_t actor, uint16_t actor_id, const struct entry_key *p, uint32_t a,
			    const char *reason, size_t reason_len);

/* Reads a history record (key k, value v) into *ev (pointers into v). Returns 0 or
 * DNSBL_ESTORE. */
int store_history_decode(const MDB_val *k, const MDB_val *v, struct store_event_rec *ev);

/* Fills the record of zone z as stored. */
void store_zone_encode(const struct store_zone *z, struct zone_record *rec);

/* Reads a zone record value. Returns 0 or DNSBL_ESTORE. */
int store_zone_decode(const MDB_val *v, struct store_zone *out);

/* Writes the summary key of chunk chunk of zone zid. */
void store_summary_key(uint8_t kb[4], uint16_t zid, uint32_t chunk);

/* --- read.c --- */

/* Reads the record of zone name in txn. Returns 0, DNSBL_ENOTFOUND, DNSBL_EINVAL or
 * DNSBL_ESTORE. */
int store_zone_read(MDB_txn *txn, MDB_dbi meta, const char *name, struct store_zone *out);

/* The longest active match of a full address or a name in txn, without the summary
 * (writers: their own changes reach the summary only at commit). */
int store_lookup_txn(MDB_txn *txn, MDB_dbi dbi, const struct store_zone *z,
		     const struct entry_key *q, uint32_t now, struct store_entry *entry,
		     struct entry_key *matched);

/* --- scan.c --- */

/* A walk's callback: an entry, its key, and the cursor standing on it. */
typedef int (*store_walk_fn)(const struct entry_key *p, const struct store_entry *e, void *arg,
			     MDB_cursor *cur);

/* Calls fn for zone zid's entries in key order, after the key of after (NULL: from
 * the first), until fn returns non-zero (returned). */
int store_foreach_txn_after(MDB_txn *txn, MDB_dbi dbi, uint16_t zid,
			    const struct entry_key *after, store_walk_fn fn, void *arg);

/* store_foreach_txn_after from the zone's first entry. */
int store_foreach_txn(MDB_txn *txn, MDB_dbi dbi, uint16_t zid, store_walk_fn fn, void *arg);

/* Reads the value under the key of p in zone z from dbi (entries or tombs); what
 * names the database in errors. Returns 0, DNSBL_ENOTFOUND, DNSBL_EINVAL or DNSBL_ESTORE. */
int store_get_by_key(MDB_txn *txn, MDB_dbi dbi, const struct store_zone *z,
		     const struct entry_key *p, const char *what, MDB_val *v);

/* Reads the entry with exactly the key p, whatever its state. */
int store_entry_get_txn(MDB_txn *txn, MDB_dbi dbi, const struct store_zone *z,
			const struct entry_key *p, struct store_entry *out);

/* Reads the tombstone of exactly p in zone z. */
int store_tomb_read(MDB_txn *txn, MDB_dbi tombs, const struct store_zone *z,
		    const struct entry_key *p, struct store_tomb *out);

/* --- writer.c --- */

/* The writer's slot holding z (every struct store_zone a writer hands out is one),
 * or NULL. */
struct writer_zone *store_writer_zone_of(struct store_writer *w, struct store_zone *z);

/* Sets *after when key k sorts after everything in dbi (so it is absent and can be
 * appended), learning the last key once per transaction. */
int store_hint_after(MDB_txn *txn, MDB_dbi dbi, struct append_hint *h, const MDB_val *k,
		     bool *after);

/* Puts k/v, appending when after (k sorts after every key). Returns an LMDB code. */
int store_put_hinted(MDB_txn *txn, MDB_dbi dbi, struct append_hint *h, MDB_val *k, MDB_val *v,
		     bool after);

/* Appends one history record and its per-key index entry. */
int store_history_add(struct store_writer *w, uint16_t zid, uint8_t event, uint8_t actor,
		      uint16_t actor_id, const struct entry_key *p, uint32_t a, const char *reason,
		      size_t reason_len, uint32_t now);

/* Whether the writer's transaction holds any tombstone (checked once). */
int store_tombs_any(struct store_writer *w, bool *any);

/* --- journal.c --- */

/* Whether a change of entries key key[0..len) in zone wz would be journalled (the
 * journal is kept, the zone has not overflowed, the key is not yet noted), so that
 * a caller can skip reading an old value nobody needs. */
bool store_journal_wants(const struct store_writer *w, const struct writer_zone *wz,
			 const uint8_t *key, size_t len);

/* Notes that this transaction changes entries key key[0..len) of zone wz, whose
 * value before was old (NULL: there was none); call it before the write, while
 * old's pointers are valid. Only a key's first note counts. Past the journal size
 * (or out of memory) the zone overflows instead: never an error. */
void store_journal_note(struct store_writer *w, struct writer_zone *wz, const uint8_t *key,
			size_t len, const struct store_entry *old);

/* Appends one journal record for every changed zone (after its serial was bumped)
 * and prunes the zone's older records to the journal size, at commit. */
int store_journal_commit(struct store_writer *w, uint32_t now);

/* Frees what the writer collected for the journal. */
void store_journal_free(struct store_writer *w);

/* --- summary_write.c --- */

/* Frees a writer's summary changes. */
void store_summary_free(struct summary_set *ss);

/* Marks what IPv4 entry p of zone zid adds to the summary (other keys: nothing). */
int store_summary_add(struct store *s, MDB_txn *txn, struct summary_set *ss, uint16_t zid,
		      const struct entry_key *p);

/* Notes that IPv4 entry p of zone zid is gone: its /24s are recomputed at commit. */
int store_summary_forget(struct store *s, struct summary_set *ss, uint16_t zid,
			 const struct entry_key *p);

/* Writes the summary changes into txn (at commit). */
int store_summary_flush(struct store *s, MDB_txn *txn, struct summary_set *ss);

/* Starts zone zid's summary afresh: the caller then adds every remaining entry. */
int store_summary_restart(struct store *s, struct summary_set *ss, uint16_t zid);

/* Builds the summary of every zone from the entries (the upgrade to schema 3). */
int store_summary_build_all(struct store *s, MDB_txn *txn);

#endif
