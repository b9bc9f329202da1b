#include "listing.h"

#include <stdbool.h>
#include <string.h>

#include "err.h"

/* ::ffff:0:0/96, where IPv6 addresses stand for IPv4 ones (RFC 4291 2.5.5.2) */
static const uint8_t v4_mapped_prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

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

/* The IPv4 address in the low 32 bits of IPv6 address bytes a (host order). */
static uint32_t mapped_v4(const uint8_t *a)
{
	return (uint32_t)a[12] << 24 | (uint32_t)a[13] << 16 | (uint32_t)a[14] << 8 | a[15];
}

/* Whether IP key k is an address (full length) rather than a partial name. */
static bool is_full_address(const struct entry_key *k)
{
	return k->len == (k->family == ADDR_FAMILY_V4 ? 32 : 128);
}

/* Whether the listed test point lies inside IP prefix p (127.0.0.2, or for IPv6
 * ::ffff:127.0.0.2), so that every name on the way down to it exists. */
static bool holds_test_point(const struct entry_key *p)
{
	struct entry_key test;

	prefix4_make(&test, LISTING_TEST_LISTED4, 32);
	if (p->family == ADDR_FAMILY_V6) {
		test.family = ADDR_FAMILY_V6;
		test.len = 128;
		memcpy(test.addr, v4_mapped_prefix, 12);
		test.addr[12] = 127;
		test.addr[13] = test.addr[14] = 0;
		test.addr[15] = 2;
	}
	return prefix_contains(p, &test);
}

/* 1 when something is listed inside IP prefix p in zone, 0 when nothing is, or a
 * negative error. IPv4-mapped names below an IPv6 p answer from the IPv4 entries. */
static int ip_listed_below(struct store_reader *r, const struct store_zone *zone,
			   const struct entry_key *p, uint32_t now)
{
	struct entry_key mapped = { .family = ADDR_FAMILY_V6, .len = 96 }, v4;

	if (holds_test_point(p))
		return 1;
	if (zone == NULL)
		return 0;
	int rc = store_any_listed_within(r, zone, p, now);
	if (rc != 0 || p->family != ADDR_FAMILY_V6)
		return rc;
	/* a p holding all of ::ffff:0:0/96 holds the test point, so only a p inside it
	 * is left: the IPv4 prefix it maps */
	memcpy(mapped.addr, v4_mapped_prefix, 12);
	if (!prefix_contains(&mapped, p))
		return 0;
	prefix4_make(&v4, mapped_v4(p->addr), p->len - 96u);
	return store_any_listed_within(r, zone, &v4, now);
}

/* 1 when something is listed below name p in zone (the allowlist allow covering p's
 * subdomains rules every one of them out), 0 when nothing is, or a negative error. */
static int name_listed_below(struct store_reader *r, const struct store_zone *zone,
			     const struct store_zone *allow, const struct entry_key *p,
			     uint32_t now)
{
	if (zone == NULL)
		return 0;
	int rc = store_any_listed_within(r, zone, p, now);
	if (rc != 1 || allow == NULL)
		return rc;
	int covered = store_name_covers_subdomains(r, allow, p, now);
	return covered < 0 ? covered : !covered;
}

/* listing_query for the one key k (into res). */
static int query_key(struct store_reader *r, const struct store_zone *zone,
		     const struct store_zone *allow, const struct entry_key *k, uint32_t now,
		     struct listing_result *res)
{
	int v, rc;

	res->key = *k;
	if (k->family == ADDR_FAMILY_V6 && k->len == 128 &&
	    memcmp(k->addr, v4_mapped_prefix, 12) == 0)
		prefix4_make(&res->key, mapped_v4(k->addr), 32); /* answers like a.b.c.d */
	if (k->family != ADDR_FAMILY_NAME && !is_full_address(k)) {
		rc = ip_listed_below(r, zone, k, now);
		return rc < 0 ? rc : rc ? LISTING_EMPTY_NON_TERMINAL : LISTING_NOT_LISTED;
	}
	v = listing_decide(r, zone, allow, &res->key, now, &res->match);
	if (v < 0 || v == LISTING_LISTED || v == LISTING_TEST_LISTED ||
	    k->family != ADDR_FAMILY_NAME)
		return v;
	rc = name_listed_below(r, zone, allow, k, now);
	return rc < 0 ? rc : rc ? LISTING_EMPTY_NON_TERMINAL : v;
}

static bool answers(int v)
{
	return v < 0 || v == LISTING_LISTED || v == LISTING_TEST_LISTED ||
	       v == LISTING_EMPTY_NON_TERMINAL;
}

int listing_query(struct store_reader *r, const struct store_zone *zone,
		  const struct store_zone *allow, const struct listing_key *key, uint32_t now,
		  struct listing_result *res)
{
	struct listing_result later;
	int first;

	if (key->count == 0)
		return LISTING_NOT_LISTED;
	if (key->count > LISTING_KEYS_MAX)
		return DNSBL_EINVAL;
	first = query_key(r, zone, allow, &key->keys[0], now, res);
	if (answers(first))
		return first;
	for (unsigned i = 1; i < key->count; i++) {
		/* into a copy, so that res keeps the first key's findings otherwise */
		int v = query_key(r, zone, allow, &key->keys[i], now, &later);
		if (answers(v)) {
			*res = later;
			return v;
		}
	}
	return first;
}

void listing_values_resolve(int v, const struct listing_match *m,
			    const struct listing_values *def, struct listing_values *out)
{
	*out = *def;
	if (v != LISTING_LISTED)
		return;
	if (m->entry.flags & STORE_F_A)
		out->a = m->entry.a;
	if (m->entry.flags & STORE_F_NOTXT) {
		out->txt = NULL;
		out->txt_len = 0;
	} else if (m->entry.flags & STORE_F_TXT) {
		out->txt = m->entry.txt;
		out->txt_len = m->entry.txt_len;
	}
}
