/* The LMDB store: the contract between dnsbl-loader, dnsbl-api (writers) and
 * dnsbld (reader). The code is lib/store/ (its files are listed in
 * lib/store/store_impl.h); only those files see MDB_*. Errors come back as DNSBL_E*
 * codes with LMDB's own message logged.
 *
 * Schema version 4. One environment (a directory) with seven named databases; the
 * byte layouts of every key and value are in lib/store/codec.c.
 *
 *   meta      "schema" -> the version; "zone:" NAME -> the zone's record (id,
 *             serial, created, and union store_zone_lens: what lookups try);
 *             "zone-next-id", "src-next-id" -> id counters; "src:" NAME -> a
 *             source's id and "srcid:" ID -> its name (operators are
 *             "operator:NAME"); "hist-next-seq" -> the next history sequence number
 *   entries   entry key (zone id, then an IP prefix or a name's key form and kind)
 *             -> the entry (flags, A, source, first/last seen, hits, expiry, pending
 *             hit times, reason, TXT). Keys sort by zone, family, prefix length and
 *             address, or by name from the top label down, so that a name's
 *             subdomains follow it
 *   tombs     entry key of an operator's delisting -> when, by whom, why (no entry
 *             exists with that key; feeds cannot relist it before relist_after)
 *   history   sequence number -> one event (list, relist, delist, expire, remove,
 *             update) with its time, zone, actor, key, A and reason, in time order
 *   histkey   entry key | sequence number -> nothing: the history of one key
 *   summary   zone id | chunk -> 65536 u16 words, one per IPv4 /24 of a /8
 *             (lib/summary.h): which prefix lengths can match there, so that most
 *             unlisted IPv4 addresses cost one memory access
 *   journal   zone id | txn id -> one commit's changes to the zone, for IXFR: the
 *             zone's serial after it, the time, and each entry key the commit
 *             changed with its value from before (or that it did not exist); an
 *             overflow record (a commit that changed more than the journal size)
 *             holds no changes and the records before it are deleted (an IXFR across
 *             it is an AXFR). Older records are pruned at commit so that a zone's
 *             stored changes stay within the journal size (store_set_journal_size);
 *             zone id alone -> the zone's stored change count. Transaction ids are
 *             LMDB's, increasing with every write; a zone whose journal holds an id
 *             not below the current one (a compacting copy restarts them) drops it
 *             and writes an overflow record
 *
 * Schemas 1, 2 and 3 are upgraded in place by any writer (2 added tombs, history,
 * histkey and the pending flag; 3 the summary, built at the upgrade; 4 the journal,
 * empty at the upgrade: an IXFR from before it is an AXFR). dnsbld reads a schema 2
 * store without the summary, and a schema 2 or 3 store without the journal (until
 * it reopens the store).
 *
 * Lookups are longest-prefix matches that try only the prefix lengths a zone uses
 * (lens.ip4, lens.ip6), longest first, and for a full IPv4 address only those its
 * /24's summary word allows. A domain's lookup is the same over its labels: the
 * name's own EXACT and TREE entries, then each parent's SUBS and TREE entries, the
 * most labels first, skipping label counts the zone has none of (lens.self_labels,
 * lens.subs_labels). An exclusion is an entry with STORE_F_EXCLUDE: when it is the
 * longest match, the address is not listed. An entry whose expires time has passed,
 * or that is pending (below the zone's list threshold), is skipped as if absent, so
 * a shorter covering entry may answer.
 *
 * Every write transaction that changes a zone bumps its serial by one at commit,
 * keeps the zone's summary, records each listing, relisting, delisting, expiry and
 * removal in the history, and appends one journal record per changed zone, all in
 * the same transaction. The listing rules a merge
 * applies are lib/lifecycle.h's. Readers see a commit the next time they begin (LMDB
 * MVCC; no signal needed). */
#ifndef DNSBL_STORE_H
#define DNSBL_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "txt.h"

#define STORE_SCHEMA_VERSION 4 /* 4 added the journal */
#define STORE_REASON_MAX 255
#define STORE_TXT_MAX TXT_TEMPLATE_MAX

/* Entry flags. */
#define STORE_F_EXCLUDE 0x01 /* exclusion: the range is not listed */
#define STORE_F_A 0x02       /* the entry has its own A value */
#define STORE_F_TXT 0x04     /* the entry has its own TXT template */
#define STORE_F_NOTXT 0x08   /* the entry answers no TXT at all */
#define STORE_F_PENDING 0x10 /* below the zone's list threshold: not answered yet */
#define STORE_F_MANUAL 0x20  /* listed by an operator: feeds only add hits and times */

/* Recent hit times a pending entry keeps (so list_threshold is at most this + 1). */
#define STORE_RECENT_MAX 15
#define STORE_THRESHOLD_MAX (STORE_RECENT_MAX + 1)

/* Who made a change (history records, store_put.actor). */
enum store_actor {
	STORE_ACTOR_SOURCE = 0,   /* a feed or list file; the actor id is its source */
	STORE_ACTOR_OPERATOR = 1, /* a person or tool via the API or the delist command */
	STORE_ACTOR_EXPIRE = 2,   /* the expiry sweep */
};

/* History events. */
enum store_event {
	STORE_EV_LIST = 1,   /* became listed (or excluded) */
	STORE_EV_RELIST = 2, /* listed again after an operator delisting */
	STORE_EV_DELIST = 3, /* delisted by an operator (tombstone written) */
	STORE_EV_EXPIRE = 4, /* expired (deleted by the sweep, or replaced by a new hit) */
	STORE_EV_REMOVE = 5, /* dropped by an import with --replace */
	STORE_EV_UPDATE = 6, /* an operator changed a listed entry's values */
};

/* What store_merge did (its *outcome). */
enum store_outcome {
	STORE_UPDATED = 0,    /* an existing entry took the hit */
	STORE_CREATED = 1,    /* a new entry, listed (history: list) */
	STORE_RELISTED = 2,   /* a new entry where a tombstone was (history: relist) */
	STORE_PENDING = 3,    /* a new or updated entry still below the threshold */
	STORE_SUPPRESSED = 4, /* ignored: an operator delisting wins (see store_merge) */
	STORE_STALE = 5,      /* ignored: a new listing that would already have expired */
};

/* A zone's listing lifecycle (from its config). */
struct store_lifecycle {
	uint32_t expire_after;   /* seconds after the last hit; 0 = never */
	uint32_t list_threshold; /* hits within list_window to be listed (1..16) */
	uint32_t list_window;    /* seconds */
	uint32_t relist_after;   /* seconds after a delisting before hits relist */
};

/* store_open flags. */
#define STORE_RDONLY 0x1 /* open read-only (dnsbld) */
#define STORE_CREATE 0x2 /* create the directory and schema when missing */

struct store;
struct store_reader;
struct store_writer;

/* What a zone's lookups need to try, kept in its record. A zone holds IP prefixes
 * or names (its config type), never both, so the two kinds share the room. */
union store_zone_lens {
	struct { /* ip zones */
		uint64_t ip4;    /* bit n: some IPv4 /n entry exists */
		uint64_t ip6[3]; /* bit n (0..128): some IPv6 /n entry exists */
	};
	struct { /* name zones; bit n: n labels (63: 63 or more) */
		uint64_t self_labels; /* some EXACT or TREE entry (matches the name itself) */
		uint64_t subs_labels; /* some SUBS or TREE entry (matches its subdomains) */
	};
};

/* A zone's record in the store. */
struct store_zone {
	uint16_t id;
	uint32_t serial;
	uint32_t created;
	union store_zone_lens lens;
};

/* An entry as stored. Text pointers point into the LMDB map (reader) or into the
 * writer's transaction and stay valid until store_reader_end / commit / abort. */
struct store_entry {
	uint8_t flags;
	uint16_t source_id;
	uint32_t a; /* host order; meaningful with STORE_F_A */
	uint32_t first_seen, last_seen, hits, expires;
	const char *reason;
	size_t reason_len;
	const char *txt;
	size_t txt_len;
	uint8_t nrecent;       /* pending entries: recent hit times, oldest first */
	const uint8_t *recent; /* nrecent u32 (host order, unaligned) */
};

/* What a write sets for one entry (see store_merge). */
struct store_put {
	uint8_t flags;      /* STORE_F_EXCLUDE, STORE_F_A, STORE_F_TXT, STORE_F_NOTXT */
	uint8_t actor;      /* enum store_actor: SOURCE (feeds) or OPERATOR */
	uint16_t source_id; /* from store_writer_source; also the history's actor */
	uint32_t a;
	uint32_t seen;      /* time of this listing / hit (the last seen) */
	uint32_t first_seen; /* 0: the same as seen */
	uint32_t hits;      /* hits to add (usually 1; 0 counts as 1) */
	uint32_t expires;   /* explicit expiry; 0 = computed (see expires_set) */
	bool expires_set;   /* take expires as it is, even 0 (never) */
	uint32_t ttl;       /* non-zero: the listing expires ttl after seen */
	uint32_t now;       /* the current time (0: time(NULL)) */
	const struct store_lifecycle *life; /* NULL: listed at once, never expires */
	const char *reason; /* NULL/0: keep the existing reason */
	size_t reason_len;
	const char *txt;    /* used with STORE_F_TXT */
	size_t txt_len;
};

/* A tombstone: an operator's delisting. */
struct store_tomb {
	uint32_t time;
	uint16_t actor_id; /* source id of "operator:NAME" */
	const char *reason;
	size_t reason_len;
};

/* One history record. Pointers are valid like a store_entry's. */
struct store_event_rec {
	uint64_t seq;
	uint32_t time;
	uint16_t zone_id;
	uint8_t event;      /* enum store_event */
	uint8_t actor;      /* enum store_actor */
	uint16_t actor_id;  /* source id (0 for STORE_ACTOR_EXPIRE) */
	uint32_t a;         /* the entry's A (0: the zone default) */
	struct entry_key prefix;
	const char *reason;
	size_t reason_len;
};

/* Opens the environment in directory path. With STORE_CREATE a missing directory
 * and schema are created first (even when STORE_RDONLY is also given). *out is
 * owned by the caller (store_close). Returns 0, DNSBL_ENOTFOUND (no store and no
 * STORE_CREATE), DNSBL_EVERSION, DNSBL_EIO or DNSBL_ESTORE. Never share a store
 * across fork(). */
int store_open(struct store **out, const char *path, unsigned flags);

/* Closes the environment; all readers and writers must be finished. */
void store_close(struct store *s);

/* Returns the size in bytes of the store's data file, or 0 if unknown. */
uint64_t store_file_size(struct store *s);

/* Maps the store's pages into the process (MADV_POPULATE_READ), at most 32 MiB per
 * call from *offset on, and advances *offset. Returns 1 while there is more, 0 at
 * the end (or where the kernel cannot do it), or a negative DNSBL_E* code. dnsbld
 * calls it from a background thread so that first look-ups pay no page faults. */
int store_prefault(struct store *s, uint64_t *offset);

/* --- Reading (one reader per thread; used by dnsbld on the per-query path) --- */

/* Allocates a reader for the calling thread; caller frees with store_reader_free.
 * Returns 0, DNSBL_ENOMEM or DNSBL_ESTORE. */
int store_reader_new(struct store *s, struct store_reader **out);

/* Frees a reader (ends its transaction if one is open). */
void store_reader_free(struct store_reader *r);

/* Starts a read snapshot of the latest commit. Cheap (no allocation after the
 * first call). Returns 0 or DNSBL_ESTORE. */
int store_reader_begin(struct store_reader *r);

/* Ends the snapshot; every pointer obtained from it becomes invalid. */
void store_reader_end(struct store_reader *r);

/* The id of the reader's current snapshot (the last commit it sees): equal ids mean
 * nothing was written in between, so what was read under one holds for the other. */
uint64_t store_reader_snapshot(const struct store_reader *r);

/* Fills *out with the record of zone name (as in the config, lower case).
 * Returns 0, DNSBL_ENOTFOUND (the zone has never been written) or DNSBL_ESTORE. */
int store_zone_get(struct store_reader *r, const char *name, struct store_zone *out);

/* The longest active match of query key q in zone z at time now: for an IP key (a
 * full-length address) the longest prefix holding it, for a name key (DNAME_EXACT)
 * the longest entry matching the name. Pending and expired entries are skipped. On
 * success fills *entry (pointers into the snapshot) and, if matched is not NULL,
 * the matching key (a name's points into q's bytes). An exclusion is returned like
 * any entry (flags say so). Returns 0, DNSBL_ENOTFOUND or DNSBL_ESTORE. */
int store_lookup(struct store_reader *r, const struct store_zone *z, const struct entry_key *q,
		 uint32_t now, struct store_entry *entry, struct entry_key *matched);

/* Returns 1 when some address inside prefix p is listed in zone z at time now
 * (p lies inside a listed entry, or a listed, unexpired entry lies inside p),
 * 0 when none is, or DNSBL_ESTORE. For a name p (DNAME_EXACT): 1 when a listed
 * entry lies below it, or a SUBS or TREE listing at or above it covers its
 * subdomains. Used for empty non-terminals (RFC 8020). */
int store_any_listed_within(struct store_reader *r, const struct store_zone *z,
			    const struct entry_key *p, uint32_t now);

/* Returns 1 when a listing (not an exclusion) at name p (a DNAME_EXACT key) or above
 * covers p's subdomains at time now (the longest SUBS or TREE entry, active), 0 when
 * none does, or DNSBL_ESTORE. Lets an allowlist that covers a name's subdomains
 * rule out that anything below the name is listed. */
int store_name_covers_subdomains(struct store_reader *r, const struct store_zone *z,
				 const struct entry_key *p, uint32_t now);

/* Calls fn for every entry of zone z in key order (family, prefix length, address;
 * names by their key form), a name key pointing into the snapshot,
 * stopping at fn's first non-zero result, which is returned. */
int store_foreach(struct store_reader *r, const struct store_zone *z,
		  int (*fn)(const struct entry_key *p, const struct store_entry *e,
			    void *arg),
		  void *arg);

/* Like store_foreach, but starts after the key of prefix after (NULL: at the first
 * entry), so that a caller can page through a zone. */
int store_foreach_after(struct store_reader *r, const struct store_zone *z,
			const struct entry_key *after,
			int (*fn)(const struct entry_key *p, const struct store_entry *e,
				  void *arg),
			void *arg);

/* A walk of one zone's entries of one family in address order (lib/store/walk.c). */
struct store_walk;

/* Starts a walk of zone z's entries of family (ADDR_FAMILY_V4, _V6 or _NAME) in r's
 * snapshot, in address order: IP prefixes by address, a shorter prefix before the
 * longer ones at the same address (so every prefix comes before those inside it);
 * names top-down, a name before its subdomains. Every entry comes, whatever its
 * state. *out is the caller's (store_walk_end), valid while the snapshot is.
 * Returns 0, DNSBL_ENOMEM or DNSBL_ESTORE. */
int store_walk_begin(struct store_reader *r, const struct store_zone *z, uint8_t family,
		     struct store_walk **out);

/* The walk's next entry into *p and *e (pointers into the snapshot). Returns 1, 0
 * at the end, or DNSBL_ESTORE. */
int store_walk_next(struct store_walk *w, struct entry_key *p, struct store_entry *e);

/* Moves IP walk w forward to its first entry at or after address addr (the
 * family's bytes): what store_walk_next returns next. A walk already past addr
 * stays where it is. For skipping a range whose entries do not matter (IXFR's
 * difference). Returns 0, DNSBL_EINVAL (a walk of names) or DNSBL_ESTORE. */
int store_walk_seek(struct store_walk *w, const uint8_t *addr);

/* Ends a walk (NULL: nothing) and frees it. */
void store_walk_end(struct store_walk *w);

/* Reads the entry with exactly the key of prefix p in zone z, whatever its state
 * (pending and expired entries too). Pointers in *out are valid like store_lookup's.
 * Returns 0, DNSBL_ENOTFOUND, DNSBL_EINVAL or DNSBL_ESTORE. */
int store_entry_get(struct store_reader *r, const struct store_zone *z,
		    const struct entry_key *p, struct store_entry *out);

/* An entry's state at a time (store_entry_state). */
enum store_entry_state {
	STORE_STATE_LISTED = 0,   /* answered as listed */
	STORE_STATE_EXCLUDED = 1, /* an exclusion in force */
	STORE_STATE_PENDING = 2,  /* below the zone's list threshold */
	STORE_STATE_EXPIRED = 3,  /* past its expiry, waiting for the sweep */
};

/* Returns the enum store_entry_state of entry e at time now. */
int store_entry_state(const struct store_entry *e, uint32_t now);

/* Returns the static name of a history event ("list", "delist", ...). */
const char *store_event_name(int event);

/* Room for any store_actor_format text, with its NUL. */
#define STORE_ACTOR_TEXT_MAX 96

/* Writes who made a change as text with a NUL into buf: "operator:NAME",
 * "source:NAME" (a feed) or "expire", from an enum store_actor kind and a source id
 * (read in r's snapshot; an unknown id is written "#ID"). Returns the length. */
size_t store_actor_format(struct store_reader *r, int kind, uint16_t id, char *buf, size_t size);

/* Longest feed source or operator name. */
#define STORE_NAME_MAX 64

/* Whether s[0..len) is a valid feed source or operator name: 1 to STORE_NAME_MAX of
 * A-Z a-z 0-9 . _ - + @ (no ":", so that no feed can pose as "operator:X"). */
bool store_name_valid(const char *s, size_t len);

/* Writes source id's name with a NUL into buf. Returns 0, DNSBL_ENOTFOUND or
 * DNSBL_ENOSPC. */
int store_source_name(struct store_reader *r, uint16_t id, char *buf, size_t size);

/* --- Writing (one writer at a time across all processes; LMDB serialises) --- */

/* Begins a write transaction; blocks while another process writes. *out is owned
 * by the store until store_writer_commit or store_writer_abort. Returns 0,
 * DNSBL_ENOMEM or DNSBL_ESTORE. */
int store_writer_begin(struct store *s, struct store_writer **out);

/* Commits everything written and bumps the serial of every zone changed. Frees w.
 * Returns 0, DNSBL_EFULL or DNSBL_ESTORE (then nothing was written). */
int store_writer_commit(struct store_writer *w);

/* Discards everything written and frees w. */
void store_writer_abort(struct store_writer *w);

/* Finds or creates zone name. *out points into the writer (valid until commit or
 * abort). Returns 0, DNSBL_EINVAL (bad name), DNSBL_ERANGE (too many zones),
 * DNSBL_EFULL or DNSBL_ESTORE. */
int store_writer_zone(struct store_writer *w, const char *name, struct store_zone **out);

/* Finds or creates the source called name (1..64 bytes). Returns 0, DNSBL_EINVAL,
 * DNSBL_ERANGE (65535 sources), DNSBL_EFULL or DNSBL_ESTORE. */
int store_writer_source(struct store_writer *w, const char *name, uint16_t *id);

/* Records a hit on (or an operator's listing of) prefix p in zone z, applying the
 * lifecycle put->life, and writes the history records it causes. *outcome (if not
 * NULL) gets an enum store_outcome.
 *  - A new entry gets first seen, last seen and hits from put. With a list threshold
 *    above 1 it starts pending. Where a tombstone is, a feed hit older than the
 *    delisting or within relist_after of it is SUPPRESSED; a later one removes the
 *    tombstone and RELISTS; an operator's listing always does. A feed listing that
 *    would already have expired is STALE and not written.
 *  - An existing entry takes the earlier first seen (feeds deliver old hits late),
 *    the later last seen and adds the hits; a pending one is listed once
 *    list_threshold hits fall within list_window. A feed hit changes a MANUAL entry
 *    no further; otherwise flags, A, TXT, source and the reason (when given) come
 *    from put. An operator's put makes the entry MANUAL. An entry already expired
 *    at put->now is recorded as expired and listed afresh.
 *  - Expiry: put->expires when expires_set or non-zero; else seen + ttl when ttl is
 *    set; else last seen + expire_after; never for operators without an expiry. A
 *    computed expiry never shortens an existing feed listing's.
 * Returns 0, DNSBL_EINVAL, DNSBL_ERANGE (texts too long), DNSBL_EFULL or
 * DNSBL_ESTORE. */
int store_merge(struct store_writer *w, struct store_zone *z, const struct entry_key *p,
		const struct store_put *put, int *outcome);

/* An operator's delisting of exactly prefix p: deletes the entry, writes a tombstone
 * (replacing an older one) and a delist history record, actor actor_id (a source id
 * from store_writer_source). Returns 0, DNSBL_ENOTFOUND (no entry: nothing written),
 * DNSBL_EINVAL, DNSBL_ERANGE (reason over 255 bytes) or a store error. */
int store_delist(struct store_writer *w, struct store_zone *z, const struct entry_key *p,
		 uint16_t actor_id, const char *reason, size_t reason_len, uint32_t now);

/* Reads the tombstone of exactly prefix p in zone z inside the writer's transaction.
 * Returns 0, DNSBL_ENOTFOUND or DNSBL_ESTORE. */
int store_writer_tomb_get(struct store_writer *w, const struct store_zone *z,
			  const struct entry_key *p, struct store_tomb *out);

/* store_entry_get inside the writer's transaction (pointers valid until commit or
 * abort, or the next write). */
int store_writer_entry_get(struct store_writer *w, const struct store_zone *z,
			   const struct entry_key *p, struct store_entry *out);

/* store_lookup inside the writer's transaction: the longest active match of query
 * key q. Returns 0, DNSBL_ENOTFOUND, DNSBL_EINVAL or DNSBL_ESTORE. */
int store_writer_lookup(struct store_writer *w, const struct store_zone *z,
			const struct entry_key *q, uint32_t now, struct store_entry *entry,
			struct entry_key *matched);

/* Deletes the entry for exactly prefix p. Returns 0, DNSBL_ENOTFOUND or an error. */
int store_delete(struct store_writer *w, struct store_zone *z, const struct entry_key *p);

/* Starts a replacement of source_id's entries in zone z: store_merge calls that
 * follow are remembered, and store_replace_finish deletes every entry of that
 * source in z that was not merged since. One replacement per writer at a time. */
int store_replace_begin(struct store_writer *w, struct store_zone *z, uint16_t source_id);

/* Ends the replacement; *removed (if not NULL) gets the number deleted. */
int store_replace_finish(struct store_writer *w, uint64_t *removed);

/* Returns the number of entries of zone z (0 on error). */
uint64_t store_zone_count(struct store_reader *r, const struct store_zone *z);

/* Reads the tombstone of exactly prefix p in zone z. Returns 0, DNSBL_ENOTFOUND or
 * DNSBL_ESTORE. */
int store_tomb_get(struct store_reader *r, const struct store_zone *z,
		   const struct entry_key *p, struct store_tomb *out);

/* Returns the number of tombstones of zone z (0 on error). */
uint64_t store_tomb_count(struct store_reader *r, const struct store_zone *z);

/* Calls fn for history records, newest first, stopping at fn's first non-zero
 * result (returned). zone_id 0 means every zone; p (non-NULL) restricts to exactly
 * that prefix's records; records before time since are not visited. */
int store_history_scan(struct store_reader *r, uint16_t zone_id, const struct entry_key *p,
		       uint32_t since,
		       int (*fn)(const struct store_event_rec *ev, void *arg), void *arg);

/* store_history_scan over the records with sequence numbers below before only
 * (UINT64_MAX: all), so that a caller can page through the history. */
int store_history_scan_before(struct store_reader *r, uint16_t zone_id,
			      const struct entry_key *p, uint32_t since, uint64_t before,
			      int (*fn)(const struct store_event_rec *ev, void *arg), void *arg);

/* Returns the number of history records of zone z (0 on error). */
uint64_t store_history_count(struct store_reader *r, const struct store_zone *z);

/* What store_expire did. */
struct store_expire_result {
	uint64_t expired;         /* listed entries deleted (each recorded in history) */
	uint64_t pending_dropped; /* pending entries whose hits all left the window */
	uint64_t history_pruned;  /* history records older than the cutoff deleted */
};

/* Deletes zone name's entries that have expired at time now, in write transactions
 * of at most batch deletions each (so other writers wait little), and then history
 * records (of every zone) older than history_before (0: keep all). Each batch
 * re-checks expiry inside its transaction, so a hit that arrives meanwhile wins.
 * A zone never written is not an error. Adds counts to *out. Returns 0 or an error;
 * batches committed before an error stay committed (each is consistent). */
int store_expire(struct store *s, const char *zone_name, uint32_t now,
		 uint32_t history_before, uint32_t batch, struct store_expire_result *out);

/* Deletes history records (of every zone) older than before, in write transactions
 * of at most batch deletions each, adding the count to *pruned. Returns 0 or an
 * error (batches committed before it stay committed). */
int store_history_prune(struct store *s, uint32_t before, uint32_t batch, uint64_t *pruned);

/* --- The transfer journal (IXFR, RFC 1995) --- */

/* One commit's changes to one zone, as the journal keeps them (newest first when
 * walked). data points into the reader's snapshot. */
struct store_journal_rec {
	uint64_t txn;        /* commit order: increasing across all zones (LMDB's txn id) */
	uint32_t serial;     /* the zone's store serial after this commit */
	uint32_t time;       /* commit time, unix seconds */
	bool overflow;       /* more changes than the journal keeps: none stored; an IXFR
				across it must be an AXFR */
	uint32_t count;      /* changes stored */
	const uint8_t *data; /* the encoded changes, for store_journal_changes */
	size_t len;
};

/* One entry as it was before a commit changed it (put, update, delete, delist,
 * expiry sweep, --replace removal). */
struct store_journal_change {
	struct entry_key key;   /* an IP prefix, or a name (its bytes in snapshot memory) */
	bool existed;           /* false: the commit created the key */
	struct store_entry old; /* the entry before the commit, when existed (pointers
				   into the snapshot) */
};

/* Calls fn for each journal record of zone z in r's snapshot (begun), newest first,
 * until fn returns non-zero (returned) or the records run out (0). A store without
 * the journal (schema 3 opened read-only) has none: 0 without calls. Returns
 * DNSBL_ESTORE on a damaged record, DNSBL_EINVAL without a snapshot. */
int store_journal_walk(struct store_reader *r, const struct store_zone *z,
		       int (*fn)(void *arg, const struct store_journal_rec *rec), void *arg);

/* Calls fn for each change of rec in the order the commit made them (a key changed
 * twice in one commit appears once, with its value from before the commit).
 * Returns 0, fn's first non-zero result, or DNSBL_ESTORE (damaged: changes before
 * the damage were passed to fn). */
int store_journal_changes(const struct store_journal_rec *rec,
			  int (*fn)(void *arg, const struct store_journal_change *c), void *arg);

/* The journal size store_open sets. */
#define STORE_JOURNAL_DEFAULT 100000

/* Sets how many changes the journal keeps per zone (0 = none: every commit writes an
 * overflow record). A commit that changes more than this in one zone writes one
 * overflow record. Older records are pruned at commit so that a zone's stored
 * changes stay within the limit (the newest record is always kept). */
void store_set_journal_size(struct store *s, uint64_t changes);

#endif
