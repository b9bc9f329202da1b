/* Helpers of the store unit tests that name their writer, reader and zone: merges
 * from a compact putspec, deletes, lookups that fail the test on a wrong match,
 * store_any_listed_within, a zone's serial, and a zone's entries in key order
 * (store_foreach). Include after <cmocka.h>; static inline, so that each test file
 * uses what it needs. */
#ifndef DNSBL_STOREOPS_H
#define DNSBL_STOREOPS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "err.h"
#include "store.h"
#include "storetest.h"

#define NOW 1700000000u
#define A127(x) (0x7f000000u | (x))

static inline uint16_t wsource(struct store_writer *w, const char *name)
{
	uint16_t id = 0xffff;
	int rc = store_writer_source(w, name, &id);
	if (rc != 0)
		fail_msg("store_writer_source(%s) = %d (%s)", name, rc, dnsbl_strerror(rc));
	return id;
}

struct putspec {
	uint8_t flags;
	uint16_t source;
	uint32_t a, seen, hits, expires;
	const char *reason, *txt;
};

static inline int merge(struct store_writer *w, struct store_zone *z, const char *prefix,
			const struct putspec *ps, int *created)
{
	struct entry_key p = PFX(prefix);
	struct store_put put;
	memset(&put, 0, sizeof(put));
	put.flags = ps->flags;
	put.source_id = ps->source;
	put.a = ps->a;
	put.seen = ps->seen ? ps->seen : NOW - 100;
	put.now = put.seen; /* written when seen: expired-at-write listings are tested */
	put.hits = ps->hits;
	put.expires = ps->expires;
	put.reason = ps->reason;
	put.reason_len = ps->reason ? strlen(ps->reason) : 0;
	put.txt = ps->txt;
	put.txt_len = ps->txt ? strlen(ps->txt) : 0;
	return store_merge(w, z, &p, &put, created);
}

static inline void merge_ok(struct store_writer *w, struct store_zone *z, const char *prefix,
			    const struct putspec *ps)
{
	int rc = merge(w, z, prefix, ps, NULL);
	if (rc != 0)
		fail_msg("store_merge(%s) = %d (%s)", prefix, rc, dnsbl_strerror(rc));
}

static inline void del_ok(struct store_writer *w, struct store_zone *z, const char *prefix)
{
	struct entry_key p = PFX(prefix);
	int rc = store_delete(w, z, &p);
	if (rc != 0)
		fail_msg("store_delete(%s) = %d (%s)", prefix, rc, dnsbl_strerror(rc));
}

/* Looks addr up; returns the rc, fills e and the matched prefix text. */
static inline int look(struct store_reader *r, const struct store_zone *z, const char *addr,
		       uint32_t now, struct store_entry *e, char *matched)
{
	struct entry_key a = PFX(addr), m;
	memset(e, 0, sizeof(*e));
	memset(&m, 0, sizeof(m));
	int rc = store_lookup(r, z, &a, now, e, &m);
	if (matched) {
		matched[0] = 0;
		if (rc == 0)
			prefix_format(&m, 0, matched, 32);
	}
	return rc;
}

static inline void expect_match(struct store_reader *r, const struct store_zone *z,
				const char *addr, uint32_t now, const char *want_prefix,
				uint32_t want_a)
{
	struct store_entry e;
	char m[32];
	int rc = look(r, z, addr, now, &e, m);
	if (rc != 0)
		fail_msg("lookup %s: %d (%s), want match %s", addr, rc, dnsbl_strerror(rc),
			 want_prefix);
	if (strcmp(m, want_prefix) != 0)
		fail_msg("lookup %s matched %s, want %s", addr, m, want_prefix);
	assert_false(e.flags & STORE_F_EXCLUDE);
	if (want_a) {
		assert_true(e.flags & STORE_F_A);
		assert_int_equal(e.a, want_a);
	}
}

static inline void expect_nomatch(struct store_reader *r, const struct store_zone *z,
				  const char *addr, uint32_t now)
{
	struct store_entry e;
	char m[32];
	int rc = look(r, z, addr, now, &e, m);
	if (rc != DNSBL_ENOTFOUND)
		fail_msg("lookup %s: %d matched '%s', want DNSBL_ENOTFOUND", addr, rc, m);
}

static inline int within(struct store_reader *r, const struct store_zone *z, const char *prefix,
			 uint32_t now)
{
	struct entry_key p = PFX(prefix);
	return store_any_listed_within(r, z, &p, now);
}

static inline uint32_t serial_of(const char *zone)
{
	struct store_reader *r = rnew();
	rbegin(r);
	struct store_zone z = zget(r, zone);
	store_reader_end(r);
	store_reader_free(r);
	return z.serial;
}

struct seen_list {
	int n;
	char p[64][32];
	uint16_t src[64];
	int stop_at;
};

static inline int foreach_cb(const struct entry_key *p, const struct store_entry *e, void *arg)
{
	struct seen_list *s = arg;
	if (s->n >= 64)
		return -1000;
	prefix_format(p, 0, s->p[s->n], 32);
	s->src[s->n] = e->source_id;
	s->n++;
	if (s->stop_at && s->n == s->stop_at)
		return 77;
	return 0;
}

static inline void collect(struct store_reader *r, const char *zone, struct seen_list *s)
{
	rbegin(r);
	struct store_zone zz = zget(r, zone);
	int stop = s->stop_at;
	memset(s, 0, sizeof(*s));
	s->stop_at = stop;
	int rc = store_foreach(r, &zz, foreach_cb, s);
	assert_int_equal(rc, stop ? 77 : 0);
	store_reader_end(r);
}

#endif
