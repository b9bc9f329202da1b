/* Whether an address or name is answered as listed in a zone: the one decision dnsbld
 * answers from and dnsbl-api reports, so that the two never disagree. Applies the
 * RFC 5782 test points, the longest active match, exclusions and the zone's exemption
 * list, and for a name that is not listed itself whether something below it is (an
 * empty non-terminal, RFC 8020), all in the caller's read snapshot. Allocates nothing. */
#ifndef DNSBL_LISTING_H
#define DNSBL_LISTING_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "store.h"

/* The RFC 5782 IPv4 test points (host order); IPv6 ones are their mapped forms.
 * Domain zones: the name TEST is always listed and INVALID never (any case). */
#define LISTING_TEST_LISTED4 0x7f000002u   /* 127.0.0.2: always listed */
#define LISTING_TEST_UNLISTED4 0x7f000001u /* 127.0.0.1: never listed */

enum listing_verdict {
	LISTING_NOT_LISTED = 0,    /* no active entry covers the key, nothing below it */
	LISTING_LISTED = 1,        /* match holds the answering entry */
	LISTING_EXCLUDED = 2,      /* the longest match is an exclusion (in match) */
	LISTING_EXEMPT = 3,        /* listed, but the exempt allowlist lists it (allow) */
	LISTING_TEST_LISTED = 4,   /* the RFC 5782 listed test point */
	LISTING_TEST_UNLISTED = 5, /* the RFC 5782 unlisted test point */
	/* not answered at the key itself, but something is listed below it (listing_query
	 * only): the key is a partial address or a name; match may still hold an exclusion
	 * or exemption found at a name */
	LISTING_EMPTY_NON_TERMINAL = 6,
};

/* What listing_decide found. Entry pointers are valid for the reader's snapshot. */
struct listing_match {
	struct store_entry entry; /* the longest active match (LISTED, EXCLUDED, EXEMPT) */
	struct entry_key prefix;  /* its key */
	struct store_entry allow; /* the allowlist's match (EXEMPT) */
	struct entry_key allow_prefix;
};

/* Decides for the full-length address addr (IPv4, or IPv6 other than IPv4-mapped),
 * or the name addr (a DNAME_EXACT key), in the zone with record zone (NULL: never
 * written, so nothing listed) whose exemption allowlist has record allow (NULL: none,
 * or never written), at time now. Never returns LISTING_EMPTY_NON_TERMINAL.
 * Returns an enum listing_verdict, or DNSBL_ESTORE. */
int listing_decide(struct store_reader *r, const struct store_zone *zone,
		   const struct store_zone *allow, const struct entry_key *addr, uint32_t now,
		   struct listing_match *m);

#define LISTING_KEYS_MAX 2

/* What a query asks about in one zone: the readings of its name, tried in order. An
 * IP zone's labels may read as reversed IPv4 octets and as IPv6 nibbles (a short name
 * reads both ways: IPv4 first); a name zone's as one DNAME_EXACT name. Each key is a
 * full-length address (an IPv4-mapped IPv6 one answers like its IPv4 address), a
 * shorter prefix (a partial name: only what lies below it counts), or a name (listed
 * itself, else what lies below it). A name's bytes are the caller's. */
struct listing_key {
	unsigned count; /* 0: the labels read no way an entry can match (NOT_LISTED) */
	struct entry_key keys[LISTING_KEYS_MAX];
};

/* The whole outcome of listing_query. Pointers are valid for the reader's snapshot
 * (entries) and the caller's key (names). */
struct listing_result {
	struct entry_key key; /* the key that decided, as answered ("$" in TXT): an
			       * IPv4-mapped IPv6 address is its IPv4 address */
	struct listing_match match; /* what listing_decide found at key */
};

/* Decides key in the zone with record zone and exemption allowlist record allow
 * (either NULL as for listing_decide) at time now, in one call: the first key that
 * answers (LISTED, TEST_LISTED or EMPTY_NON_TERMINAL) decides; otherwise the first
 * key's verdict stands, with what it found in res (no key: NOT_LISTED, res untouched).
 * An empty non-terminal (RFC 8020) is a partial prefix that holds the listed test point
 * or overlaps a listed entry (an IPv6 one also through its IPv4-mapped part, from the
 * IPv4 entries), or a name with something listed below it unless the allowlist covers
 * its subdomains. Never touches r when zone is NULL. Returns an enum listing_verdict,
 * or a negative DNSBL_E* code (DNSBL_ESTORE; DNSBL_EINVAL for a malformed key). */
int listing_query(struct store_reader *r, const struct store_zone *zone,
		  const struct store_zone *allow, const struct listing_key *key, uint32_t now,
		  struct listing_result *res);

/* What a listed key answers with. */
struct listing_values {
	uint32_t a;      /* host order */
	const char *txt; /* TXT template; NULL: no TXT */
	size_t txt_len;
};

/* The values of a LISTING_LISTED result (verdict v, match m): the entry's own A and
 * TXT template where its flags say so (or no TXT at all), the zone's defaults def
 * otherwise; any other verdict (the test point) answers with def. */
void listing_values_resolve(int v, const struct listing_match *m,
			    const struct listing_values *def, struct listing_values *out);

#endif
