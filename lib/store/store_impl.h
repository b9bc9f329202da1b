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
 *   sweep.c          replace, expire, prune */
#ifndef DNSBL_STORE_IMPL_H
#define DNSBL_STORE_IMPL_H

#include <lmdb.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dname.h"
#include "store.h"
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
#define VALUE_MAX (VALUE_FIXED + 1 + 4 * STORE_RECENT_MAX + STORE_REASON_MAX + STORE_TXT_MAX)
#define HIST_VALUE_MAX (HIST_FIXED + 1 + DNAME_KEY_MAX + STORE_REASON_MAX)

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
	uint64_t lens[4]; /* union store_zone_lens */
};
_Static_assert(sizeof(struct zone_record) == 48, "zone record layout");
_Static_assert(sizeof(union store_zone_lens) == 32, "zone lens layout");

/* --- env.c --- */

/* Translates an LMDB result (logging what failed, with LMDB's message): 0,
 * DNSBL_ENOTFOUND, DNSBL_EFULL or DNSBL_ESTORE. */
int map_mdb_error(int rc, const char *what);

/* --- codec.c --- */

/* The address bytes of a family: 16 for IPv6, else 4. */
size_t store_addr_bytes(uint8_t family);

/* The address bits of a family: 128 for IPv6, else 32. */
unsigned store_family_bits(uint8_t family);

/* Whether p is a key the store can hold (family, length or kind, key form). */
bool store_key_valid(const struct entry_key *p);

/* Whether name[0..len) is a well-formed key form. */
bool store_key_name_valid(const uint8_t *name, size_t len);

/* Writes the entries key of p (valid) in zone zid into key (KEY_MAX bytes), an IP
 * address masked to its length. Returns the length. */
size_t store_key_encode(uint8_t *key, uint16_t zid, const struct entry_key *p);

/* Reads an entries (or tombs) key kb[0..n) into *out; a name points into kb.
 * Returns false for a key that is not one of this schema. */
bool store_key_decode(const uint8_t *kb, size_t n, struct entry_key *out);

/* The IPv4 address of an IPv4 key, host order. */
uint32_t store_key4_addr(const struct entry_key *p);

/* Whether zone z has some entry of prefix length len in family (IPv4 or IPv6). */
bool store_lens_has(const struct store_zone *z, uint8_t family, unsigned len);

/* The bit of a name zone's label-count sets for a name of labels labels. */
uint64_t store_name_level_bit(unsigned labels);

/* Adds what key p means for lookups to a zone's lens (prefix length or labels). */
void store_lens_add(union store_zone_lens *l, const struct entry_key *p);

/* Reads an entries value into *e (pointers into v). Returns 0 or DNSBL_ESTORE. */
int store_entry_decode(const MDB_val *v, struct store_entry *e);

/* Encodes e into p (room for VALUE_MAX bytes; e's texts must not overlap p).
 * Returns the length. */
size_t store_entry_encode(uint8_t *p, const struct store_entry *e);

/* Whether entry e has expired at time now. */
bool store_entry_expired(const struct store_entry *e, uint32_t now);

/* Whether entry e is answered at time now: neither pending nor expired. */
bool store_entry_active(const struct store_entry *e, uint32_t now);

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
