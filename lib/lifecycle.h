/* The listing rules: what one hit from a feed, or one operator's listing, does to an
 * entry. Pure functions of (the stored entry, its tombstone, the put, the zone's
 * lifecycle, now): no store access, no allocation, no clock. store_merge
 * (lib/store/merge.c) reads the old entry and tombstone, calls lifecycle_apply, and
 * writes what it decided, so every writer (loader, API) follows the same rules and
 * the rules are tested apart from LMDB (tests/unit/test_lifecycle.c).
 *
 * The rules, in the order lifecycle_apply weighs them:
 *  - An old entry already expired at now is answered as unlisted: it is recorded as
 *    expired (unless it was pending) and the put starts a new entry.
 *  - A new entry takes first seen, last seen and hits from the put. From a feed, with
 *    a list threshold above 1 and fewer hits than it, it starts PENDING and expires
 *    list_window after the hit; an exclusion never waits.
 *  - A feed listing that would already have expired at now is STALE: nothing written.
 *  - A tombstone (an operator's delisting) suppresses a feed hit at or before the
 *    delisting, or within relist_after of it (SUPPRESSED); a later hit removes the
 *    tombstone and RELISTS; an operator's listing always removes it.
 *  - An existing entry keeps the earlier first seen and the later last seen, and
 *    adds the hits. A feed hit on an operator's (MANUAL) entry changes nothing else.
 *    Otherwise flags, A, TXT and source come from the put, and the reason when given.
 *  - A pending entry is listed once list_threshold of its recent hits fall within
 *    list_window (or the put is an exclusion); an operator's put lists it at once.
 *  - An operator's put makes the entry MANUAL.
 *  - Expiry: put->expires when expires_set or non-zero; else seen + ttl when ttl is
 *    set; else none for operators; else last seen + expire_after. A computed expiry
 *    never shortens an existing feed listing's. */
#ifndef DNSBL_LIFECYCLE_H
#define DNSBL_LIFECYCLE_H

#include <stdbool.h>
#include <stdint.h>

#include "store.h"

/* What lifecycle_apply decided. entry's texts point into the put or into the old
 * entry given (the caller keeps both alive until it has written entry); its recent
 * hit times point into this struct's recent. */
struct lifecycle_result {
	bool write;            /* store entry (false: SUPPRESSED or STALE, nothing changes) */
	struct store_entry entry;
	int outcome;           /* enum store_outcome */
	int event;             /* enum store_event to record for the put, 0: none */
	bool expired_old;      /* record STORE_EV_EXPIRE of the old entry first */
	bool drop_tomb;        /* delete the tombstone */
	uint32_t recent[STORE_RECENT_MAX]; /* host order; entry.recent points here */
};

/* Whether a put on the stored entry old (NULL: none) at time now makes a new listing,
 * which is when a tombstone matters: the caller reads the tombstone only then. */
bool lifecycle_starts_new(const struct store_entry *old, uint32_t now);

/* Applies put to the stored entry old (NULL: none) with the zone's tombstone of the
 * key tomb (NULL: none, or not read because lifecycle_starts_new said no) at time
 * now, filling *out. put->life NULL means listed at once and never expiring. */
void lifecycle_apply(const struct store_entry *old, const struct store_tomb *tomb,
		     const struct store_put *put, uint32_t now, struct lifecycle_result *out);

#endif
