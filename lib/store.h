/* The LMDB store: the contract between dnsbl-loader, dnsbl-api (writers) and
 * dnsbld (reader). Only store.c sees MDB_*; errors come back as DNSBL_E* codes
 * with LMDB's own message logged.
 *
 * Schema version 1. One environment (a directory), two named databases:
 *
 *   meta     "schema"          -> u32 version (1)
 *            "zone-next-id"    -> u16 next zone id
 *            "zone:" NAME      -> zone record (struct store_zone, packed below)
 *                                 id u16, pad u16, serial u32, created u32,
 *                                 lens4 u64 (bit n set: some IPv4 /n entry exists),
 *                                 lens6 u64[3] (bits 0..128 for IPv6)
 *            "src:" NAME       -> u16 source id
 *            "srcid:" u16 BE   -> source name
 *   entries  key   = zone id (u16 BE) | family (1: 4 or 6) | prefix length (1)
 *                    | address (4 or 16 bytes, network order, host bits zero)
 *            value = flags u8 | reason length u8 | source id u16 | A u32
 *                    | first seen u32 | last seen u32 | hits u32 | expires u32
 *                    | reason bytes | TXT template bytes (the rest)
 *                    (host byte order, 24 bytes + texts; times are unix seconds,
 *                    expires 0 = never)
 *
 * Lookups are longest-prefix matches that try only the prefix lengths a zone uses
 * (lens4), longest first. An exclusion is an entry with STORE_F_EXCLUDE: when it is
 * the longest match, the address is not listed. An entry whose expires time has
 * passed is skipped as if absent, so a shorter covering entry may answer.
 *
 * Every write transaction that changes a zone bumps its serial by one at commit.
 * Readers see a commit the next time they begin (LMDB MVCC; no signal needed). */
#ifndef DNSBL_STORE_H
#define DNSBL_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "txt.h"

#define STORE_SCHEMA_VERSION 1
#define STORE_REASON_MAX 255
#define STORE_TXT_MAX TXT_TEMPLATE_MAX

/* Entry flags. */
#define STORE_F_EXCLUDE 0x01 /* exclusion: the range is not listed */
#define STORE_F_A 0x02       /* the entry has its own A value */
#define STORE_F_TXT 0x04     /* the entry has its own TXT template */
#define STORE_F_NOTXT 0x08   /* the entry answers no TXT at all */

/* store_open flags. */
#define STORE_RDONLY 0x1 /* open read-only (dnsbld) */
#define STORE_CREATE 0x2 /* create the directory and schema when missing */

struct store;
struct store_reader;
struct store_writer;

/* A zone's record in the store. */
struct store_zone {
	uint16_t id;
	uint32_t serial;
	uint32_t created;
	uint64_t lens4;
	uint64_t lens6[3];
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
};

/* What a write sets for one entry (see store_merge). */
struct store_put {
	uint8_t flags;      /* STORE_F_* */
	uint16_t source_id; /* from store_writer_source */
	uint32_t a;
	uint32_t seen;      /* time of this listing / hit */
	uint32_t hits;      /* hits to add (usually 1) */
	uint32_t expires;   /* 0 = never */
	const char *reason; /* NULL/0: keep the existing reason */
	size_t reason_len;
	const char *txt;    /* used with STORE_F_TXT */
	size_t txt_len;
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

/* Fills *out with the record of zone name (as in the config, lower case).
 * Returns 0, DNSBL_ENOTFOUND (the zone has never been written) or DNSBL_ESTORE. */
int store_zone_get(struct store_reader *r, const char *name, struct store_zone *out);

/* Longest-prefix match of the address addr (a full-length prefix) in zone z, skipping
 * entries expired at time now. On success fills *entry (pointers into the snapshot)
 * and, if matched is not NULL, the matching prefix. An exclusion is returned like any
 * entry (flags say so). Returns 0, DNSBL_ENOTFOUND or DNSBL_ESTORE. */
int store_lookup(struct store_reader *r, const struct store_zone *z,
		 const struct ip_prefix *addr, uint32_t now,
		 struct store_entry *entry, struct ip_prefix *matched);

/* Returns 1 when some address inside prefix p is listed in zone z at time now
 * (p lies inside a listed entry, or a listed, unexpired entry lies inside p),
 * 0 when none is, or DNSBL_ESTORE. Used for empty non-terminals (RFC 8020). */
int store_any_listed_within(struct store_reader *r, const struct store_zone *z,
			    const struct ip_prefix *p, uint32_t now);

/* Calls fn for every entry of zone z in key order (family, prefix length, address),
 * stopping at fn's first non-zero result, which is returned. */
int store_foreach(struct store_reader *r, const struct store_zone *z,
		  int (*fn)(const struct ip_prefix *p, const struct store_entry *e,
			    void *arg),
		  void *arg);

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

/* Lists prefix p in zone z. A new entry gets first and last seen = put->seen and
 * hits = put->hits. An existing one takes the earlier first seen (feeds may deliver
 * old hits late) and the later last seen,
 * adds put->hits, and takes flags, A, TXT, source and expires from put (and the
 * reason when put->reason is given). *created (if not NULL) says which.
 * Returns 0, DNSBL_EINVAL, DNSBL_ERANGE (texts too long), DNSBL_EFULL or
 * DNSBL_ESTORE. */
int store_merge(struct store_writer *w, struct store_zone *z, const struct ip_prefix *p,
		const struct store_put *put, int *created);

/* Deletes the entry for exactly prefix p. Returns 0, DNSBL_ENOTFOUND or an error. */
int store_delete(struct store_writer *w, struct store_zone *z, const struct ip_prefix *p);

/* Starts a replacement of source_id's entries in zone z: store_merge calls that
 * follow are remembered, and store_replace_finish deletes every entry of that
 * source in z that was not merged since. One replacement per writer at a time. */
int store_replace_begin(struct store_writer *w, struct store_zone *z, uint16_t source_id);

/* Ends the replacement; *removed (if not NULL) gets the number deleted. */
int store_replace_finish(struct store_writer *w, uint64_t *removed);

/* Returns the number of entries of zone z (0 on error). */
uint64_t store_zone_count(struct store_reader *r, const struct store_zone *z);

#endif
