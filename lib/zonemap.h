/* A zone as DNS records: what a secondary must hold to answer every address and
 * name as dnsbld does (README "How a zone becomes records"). The records are made
 * on the fly from one read snapshot and handed to a callback one at a time, so a
 * zone of any size streams in bounded memory: AXFR (dnsbld/xfr.c) and the master
 * file export (dnsbl-loader export --format zone) both come from here.
 *
 * IP zones: a prefix on an octet (IPv4) or nibble (IPv6) boundary is a wildcard
 * below its name, another one is the wildcards or names it spans; a name made to
 * exist by something more specific gets the wildcard again below it; a wildcard is
 * left out where an exclusion, an exemption or an unlisted range would fall under it
 * (its siblings are then written one by one); and no wildcard is put where IPv4 and
 * IPv6 names share labels (digits only, above four labels) so that neither family
 * answers for the other. IPv4-mapped IPv6 names answer as their IPv4 addresses, and
 * the RFC 5782 test points are always there. Name zones: each entry's name and its
 * parents get what dnsbld answers them (lib/listing decides), and a wildcard below
 * each carries what dnsbld answers the names under it. Where DNS cannot say what
 * dnsbld answers, the records differ as README lists: "$" in a wildcard's TXT is the
 * entry as written; a partial or over-long name, or a label no address or domain
 * has, under a wildcard answers its records; a name dnsbld answers NXDOMAIN below a wildcard whose subdomains it
 * answers gets an HINFO placeholder (NODATA for A and TXT). */
#ifndef DNSBL_ZONEMAP_H
#define DNSBL_ZONEMAP_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "store.h"

/* One record below the apex. */
struct zonemap_rr {
	const uint8_t *owner; /* wire labels below the apex, no root (the caller adds
			       * the apex); a wildcard's first label is "*" */
	size_t owner_len;
	uint16_t type;        /* DNS_T_A, DNS_T_TXT or ZONEMAP_T_HINFO */
	const uint8_t *rdata;
	size_t rdlen;
	/* hints for name compression: owner without its first label ([0]) and without
	 * its first two ([1]), from owner + suffix_at[i] on, are the same labels in
	 * every record of the walk whose suffix_id[i] is the same (0: no hint) */
	uint32_t suffix_id[2];
	size_t suffix_at[2];
};

#define ZONEMAP_T_HINFO 13

/* Called once per record; a non-zero result stops the walk and is returned by
 * zonemap_run. Pointers are valid during the call only. */
typedef int (*zonemap_emit_fn)(void *arg, const struct zonemap_rr *rr);

struct zonemap_stats {
	uint64_t records;   /* records emitted */
	uint64_t entries;   /* active entries read (all members and exemption lists) */
	uint64_t wildcards; /* of records: those owned by a wildcard */
	uint64_t skipped;   /* frames a walk for IXFR settled early and skipped */
};

/* Emits the records of zone zc (ip, name or combined; its members and exemption
 * lists found in cfg) as dnsbld answers it from r's open snapshot at time now:
 * everything but the apex's SOA and NS. Adds to *st when st is not NULL. Returns 0,
 * the callback's first non-zero result, DNSBL_ENOMEM, DNSBL_EINVAL (a member or
 * exemption zone missing from cfg) or DNSBL_ESTORE. */
int zonemap_run(struct store_reader *r, const struct config *cfg, const struct zone_config *zc,
		uint32_t now, zonemap_emit_fn fn, void *arg, struct zonemap_stats *st);

/* An entry as an older view of the store had it (what a secondary holds for an older
 * serial: IXFR undoes the journal's later changes over the current snapshot). */
struct zonemap_change {
	struct entry_key key;   /* an IP prefix */
	bool existed;           /* false: absent in the older view */
	struct store_entry old; /* the older entry when existed; texts must outlive the run */
};

/* The older entries of one store zone (a member's block list or exemption list). */
struct zonemap_source_changes {
	uint16_t zone_id;                     /* the store zone's id */
	size_t count;
	const struct zonemap_change *changes; /* sorted by zonemap_changes_sort */
};

/* An older view: every source zone whose entries differ from the snapshot's. */
struct zonemap_overlay {
	unsigned nsources;
	struct zonemap_source_changes src[2 * CONFIG_MAX_MEMBERS];
};

/* Sorts changes[0..n) into the order the walk reads entries (family, address,
 * prefix length); a key given twice keeps its first change. Returns the count left. */
size_t zonemap_changes_sort(struct zonemap_change *changes, size_t n);

/* zonemap_run over an older view: the snapshot's entries with ov's changes undone,
 * decided at time now. Only ip zones (and combined ones of ip members): for a name
 * zone returns DNSBL_EINVAL without emitting anything. ov may be NULL (the snapshot). */
int zonemap_run_view(struct store_reader *r, const struct config *cfg,
		     const struct zone_config *zc, const struct zonemap_overlay *ov, uint32_t now,
		     zonemap_emit_fn fn, void *arg, struct zonemap_stats *st);

struct zonemap_diff_stats {
	uint64_t old_records, new_records; /* in each view, of the frames a change reaches */
	uint64_t deleted, added;           /* emitted */
	uint64_t entries, skipped;         /* read by the first walk of each view; frames
					    * skipped there (zonemap_stats) */
};

/* IXFR's difference between zone zc's records in the older view ov (decided at time
 * old_now) and in the snapshot (at new_now): fn gets each record only the older view
 * has, then once rr == NULL, then each record only the snapshot has. Walks each view
 * twice and keeps a digest per distinct record (about 25 bytes). Returns 0,
 * DNSBL_ERANGE when the views hold more than max_records distinct records (found
 * before anything is emitted: the caller sends the whole zone), DNSBL_EINVAL
 * for name zones, the callback's first non-zero result, DNSBL_ENOMEM or store
 * errors. Fills *st when not NULL. */
int zonemap_diff(struct store_reader *r, const struct config *cfg, const struct zone_config *zc,
		 const struct zonemap_overlay *ov, uint32_t old_now, uint32_t new_now,
		 uint64_t max_records, zonemap_emit_fn fn, void *arg, struct zonemap_diff_stats *st);

/* The older view a secondary at serial `from` holds: the journal's later commits
 * undone over the snapshot. */
struct zonemap_view {
	struct zonemap_overlay ov;
	uint32_t old_time; /* when the view's newest commit was made: decide it then */
	uint64_t changes;  /* entries changed since */
	unsigned commits;  /* commits undone (one per source zone changed) */
	void *priv;        /* what zonemap_view_free frees */
};

/* Builds in *v the view of zone zc (ip, or combined of ip members) at serial from,
 * from the journals of its source zones in r's snapshot, undoing at most max_changes
 * entry changes. *v is the caller's (zonemap_view_free), valid while the snapshot is.
 * Returns 0, DNSBL_ENOTFOUND (the journal does not reach back to from, an overflow
 * lies between, or from is not a serial the zone had: send the whole zone),
 * DNSBL_ERANGE (more changes than max_changes), DNSBL_EINVAL (a name zone),
 * DNSBL_ENOMEM or DNSBL_ESTORE. */
int zonemap_view_at(struct store_reader *r, const struct config *cfg,
		    const struct zone_config *zc, uint32_t from, uint64_t max_changes,
		    struct zonemap_view *v);

/* Frees what zonemap_view_at allocated (a zeroed *v is fine). */
void zonemap_view_free(struct zonemap_view *v);

/* When the newest commit to zone zc's sources in r's snapshot was made (from the
 * journal), 0 when none is journaled. A transfer decides entries' states at that
 * time, so that every transfer of one serial has the same records. */
uint32_t zonemap_commit_time(struct store_reader *r, const struct config *cfg,
			     const struct zone_config *zc);

/* The time every transfer and export of zone zc's current serial decides entries at:
 * zonemap_commit_time, or now when nothing is journaled (a store from before the
 * journal). */
uint32_t zonemap_transfer_time(struct store_reader *r, const struct config *cfg,
			       const struct zone_config *zc);

/* The serial of zone zc in r's snapshot: its store serial plus its exempt
 * allowlist's, a combined zone's the sum of its members' (what dnsbld's SOA
 * answers), so that every change to its answers changes it. Zones never written
 * count 0. */
uint32_t zonemap_serial(struct store_reader *r, const struct config *cfg,
			const struct zone_config *zc);

#endif
