/* Whether an address is answered as listed in a zone: the one decision dnsbld answers
 * from and dnsbl-api reports, so that the two never disagree. Applies the RFC 5782
 * test points, the longest active match, exclusions and the zone's exemption list,
 * all in the caller's read snapshot. Allocates nothing. */
#ifndef DNSBL_LISTING_H
#define DNSBL_LISTING_H

#include <stdint.h>

#include "addr.h"
#include "store.h"

/* The RFC 5782 IPv4 test points (host order); IPv6 ones are their mapped forms.
 * Domain zones: the name TEST is always listed and INVALID never (any case). */
#define LISTING_TEST_LISTED4 0x7f000002u   /* 127.0.0.2: always listed */
#define LISTING_TEST_UNLISTED4 0x7f000001u /* 127.0.0.1: never listed */

enum listing_verdict {
	LISTING_NOT_LISTED = 0,    /* no active entry covers the address */
	LISTING_LISTED = 1,        /* match holds the answering entry */
	LISTING_EXCLUDED = 2,      /* the longest match is an exclusion (in match) */
	LISTING_EXEMPT = 3,        /* listed, but the exempt allowlist lists it (allow) */
	LISTING_TEST_LISTED = 4,   /* the RFC 5782 listed test point */
	LISTING_TEST_UNLISTED = 5, /* the RFC 5782 unlisted test point */
};

/* What listing_decide found. Entry pointers are valid for the reader's snapshot. */
struct listing_match {
	struct store_entry entry; /* the longest active match (LISTED, EXCLUDED, EXEMPT) */
	struct entry_key prefix;  /* its key */
	struct store_entry allow; /* the allowlist's match (EXEMPT) */
	struct entry_key allow_prefix;
};

/* Decides for the full-length address addr (IPv4, or IPv6 other than IPv4-mapped),
 * or the name addr (a DNAME_EXACT key), in the zone with record zone (NULL: never written, so nothing listed) whose
 * exemption allowlist has record allow (NULL: none, or never written), at time now.
 * Returns an enum listing_verdict, or DNSBL_ESTORE. */
int listing_decide(struct store_reader *r, const struct store_zone *zone,
		   const struct store_zone *allow, const struct entry_key *addr, uint32_t now,
		   struct listing_match *m);

#endif
