#include "listing.h"

#include <string.h>

#include "err.h"

static int is_v4(const struct entry_key *a, uint32_t v4)
{
	return a->family == ADDR_FAMILY_V4 && prefix4_addr(a) == v4;
}

/* Whether a is the one-label name whose key form is form (a string literal). */
#define IS_NAME(a, form)                                                                  \
	((a)->family == ADDR_FAMILY_NAME && (a)->name_len == sizeof(form) - 1 &&           \
	 memcmp((a)->name, form, sizeof(form) - 1) == 0)

int listing_decide(struct store_reader *r, const struct store_zone *zone,
		   const struct store_zone *allow, const struct entry_key *addr, uint32_t now,
		   struct listing_match *m)
{
	int rc;

	if (is_v4(addr, LISTING_TEST_LISTED4) || IS_NAME(addr, "\x04test"))
		return LISTING_TEST_LISTED;
	if (is_v4(addr, LISTING_TEST_UNLISTED4) || IS_NAME(addr, "\x07invalid"))
		return LISTING_TEST_UNLISTED;
	if (zone == NULL)
		return LISTING_NOT_LISTED;
	rc = store_lookup(r, zone, addr, now, &m->entry, &m->prefix);
	if (rc == DNSBL_ENOTFOUND)
		return LISTING_NOT_LISTED;
	if (rc < 0)
		return rc;
	if (m->entry.flags & STORE_F_EXCLUDE)
		return LISTING_EXCLUDED;
	if (allow == NULL)
		return LISTING_LISTED;
	/* the allowlist wins; same snapshot, so both answers agree */
	rc = store_lookup(r, allow, addr, now, &m->allow, &m->allow_prefix);
	if (rc == 0 && !(m->allow.flags & STORE_F_EXCLUDE))
		return LISTING_EXEMPT;
	if (rc < 0 && rc != DNSBL_ENOTFOUND)
		return rc;
	return LISTING_LISTED;
}
