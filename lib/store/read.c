/* The read path: what a query touches and nothing else. Readers and their
 * snapshots, zone records, store_lookup with the summary's read side, and the scans
 * that tell an empty non-terminal (RFC 8020) from a name with nothing below it.
 * Nothing here allocates once a reader exists. */
#include "store_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"

int store_reader_new(struct store *s, struct store_reader **out)
{
	struct store_reader *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return DNSBL_ENOMEM;
	r->s = s;
	*out = r;
	return 0;
}

void store_reader_free(struct store_reader *r)
{
	if (r == NULL)
		return;
	if (r->cur != NULL)
		mdb_cursor_close(r->cur);
	if (r->txn != NULL)
		mdb_txn_abort(r->txn);
	free(r);
}

int store_reader_begin(struct store_reader *r)
{
	int rc;

	if (r->active)
		store_reader_end(r);
	if (r->txn == NULL)
		rc = mdb_txn_begin(r->s->env, NULL, MDB_RDONLY, &r->txn);
	else
		rc = mdb_txn_renew(r->txn);
	if (rc != 0)
		return map_mdb_error(rc, "begin read");
	if (r->cur == NULL)
		rc = mdb_cursor_open(r->txn, r->s->entries, &r->cur);
	else
		rc = mdb_cursor_renew(r->txn, r->cur);
	if (rc != 0) {
		mdb_txn_reset(r->txn);
		return map_mdb_error(rc, "cursor");
	}
	r->active = true;
	r->txnid = mdb_txn_id(r->txn);
	if (r->txnid != r->cached_txnid) {
		for (unsigned i = 0; i < READER_SUMMARY_ZONES; i++)
			r->sum[i].used = false;
		r->cached_txnid = r->txnid;
	}
	return 0;
}

uint64_t store_reader_snapshot(const struct store_reader *r)
{
	return r->txnid;
}

void store_reader_end(struct store_reader *r)
{
	if (r->active) {
		mdb_txn_reset(r->txn);
		r->active = false;
	}
}

int store_zone_read(MDB_txn *txn, MDB_dbi meta, const char *name, struct store_zone *out)
{
	char kbuf[300];
	int n = snprintf(kbuf, sizeof(kbuf), "zone:%s", name);
	MDB_val k = { (size_t)n, kbuf }, v;
	int rc;

	if (n <= 5 || (size_t)n >= sizeof(kbuf))
		return DNSBL_EINVAL;
	rc = mdb_get(txn, meta, &k, &v);
	if (rc != 0)
		return map_mdb_error(rc, "zone record");
	return store_zone_decode(&v, out);
}

int store_zone_get(struct store_reader *r, const char *name, struct store_zone *out)
{
	return store_zone_read(r->txn, r->s->meta, name, out);
}

/* Reads the entry under key k into *e: 0 when it is there and answered at time now,
 * DNSBL_ENOTFOUND when it is absent, pending or expired, or an error. */
static int get_active(MDB_txn *txn, MDB_dbi dbi, MDB_val *k, uint32_t now,
		      struct store_entry *e)
{
	MDB_val v;
	int rc = mdb_get(txn, dbi, k, &v);

	if (rc == MDB_NOTFOUND)
		return DNSBL_ENOTFOUND;
	if (rc != 0)
		return map_mdb_error(rc, "lookup");
	if (store_entry_decode(&v, e) < 0)
		return DNSBL_ESTORE;
	return store_entry_active(e, now) ? 0 : DNSBL_ENOTFOUND;
}

/* Longest match among lengths <= maxlen (for IPv4 only those in try4). */
static int lookup_upto(MDB_txn *txn, MDB_dbi dbi, const struct store_zone *z,
		       const struct entry_key *q, unsigned maxlen, uint64_t try4,
		       uint32_t now, struct store_entry *entry, struct entry_key *matched)
{
	uint8_t key[KEY_MAX];
	struct entry_key try = *q;

	for (int len = (int)maxlen; len >= 0; len--) {
		if (!store_lens_has(z, q->family, (unsigned)len) ||
		    (q->family == ADDR_FAMILY_V4 && !((try4 >> len) & 1)))
			continue;
		try.len = (uint8_t)len;
		MDB_val k = { store_key_encode(key, z->id, &try), key };
		int rc = get_active(txn, dbi, &k, now, entry);
		if (rc == DNSBL_ENOTFOUND)
			continue;
		if (rc < 0)
			return rc;
		if (matched != NULL) {
			memset(matched, 0, sizeof(*matched));
			matched->family = q->family;
			matched->len = (uint8_t)len;
			memcpy(matched->addr, key + 4, store_addr_bytes(q->family));
		}
		return 0;
	}
	return DNSBL_ENOTFOUND;
}

/* The longest active entry that matches name q (a DNAME_EXACT key) or, with
 * below, the names under q: from q's own level to its top label, at q the kinds
 * that match q itself (EXACT, TREE; with below: SUBS, TREE), above it those that
 * match subdomains (SUBS, TREE). *matched (if not NULL) points into q's bytes. */
static int name_longest(MDB_txn *txn, MDB_dbi dbi, const struct store_zone *z,
			const struct entry_key *q, bool below, uint32_t now,
			struct store_entry *entry, struct entry_key *matched)
{
	static const uint8_t own[2] = { DNAME_EXACT, DNAME_TREE };
	static const uint8_t subs[2] = { DNAME_SUBS, DNAME_TREE };
	uint8_t key[KEY_MAX];
	struct entry_key try = *q;

	for (unsigned n = dname_labels(q->name, q->name_len); n > 0; n--) {
		bool self = n == dname_labels(q->name, q->name_len);
		const uint8_t *kinds = self && !below ? own : subs;
		uint64_t have = self && !below ? z->lens.self_labels : z->lens.subs_labels;
		if (!(have & store_name_level_bit(n)))
			continue;
		try.name_len = (uint8_t)dname_ancestor_len(q->name, q->name_len, n);
		for (unsigned i = 0; i < 2; i++) {
			try.kind = kinds[i];
			MDB_val k = { store_key_encode(key, z->id, &try), key };
			int rc = get_active(txn, dbi, &k, now, entry);
			if (rc == DNSBL_ENOTFOUND)
				continue;
			if (rc < 0)
				return rc;
			if (matched != NULL)
				*matched = try;
			return 0;
		}
	}
	return DNSBL_ENOTFOUND;
}

/* The longest active match of a full address or a name, in txn. */
int store_lookup_txn(MDB_txn *txn, MDB_dbi dbi, const struct store_zone *z,
		      const struct entry_key *q, uint32_t now, struct store_entry *entry,
		      struct entry_key *matched)
{
	if (q->family == ADDR_FAMILY_NAME)
		return name_longest(txn, dbi, z, q, false, now, entry, matched);
	return lookup_upto(txn, dbi, z, q, q->len, ~0ull, now, entry, matched);
}

/* Chunk c of zone zid's summary in r's snapshot (*out NULL when absent), found once
 * per snapshot. */
static int reader_summary_chunk(struct store_reader *r, uint16_t zid, uint32_t c,
				const uint8_t **out)
{
	struct reader_summary *rs = &r->sum[zid % READER_SUMMARY_ZONES];

	if (!rs->used || rs->zid != zid) {
		rs->used = true;
		rs->zid = zid;
		memset(rs->known, 0, sizeof(rs->known));
	}
	if (!rs->known[c]) {
		uint8_t kb[4];
		store_summary_key(kb, zid, c);
		MDB_val k = { sizeof(kb), kb }, v;
		int rc = mdb_get(r->txn, r->s->summary, &k, &v);
		if (rc != 0 && rc != MDB_NOTFOUND)
			return map_mdb_error(rc, "summary");
		if (rc == 0 && v.mv_size != SUMMARY_CHUNK_BYTES)
			return DNSBL_ESTORE;
		rs->chunk[c] = rc == 0 ? v.mv_data : NULL;
		rs->known[c] = 1;
	}
	*out = rs->chunk[c];
	return 0;
}

int store_lookup(struct store_reader *r, const struct store_zone *z,
		 const struct entry_key *q, uint32_t now, struct store_entry *entry,
		 struct entry_key *matched)
{
	if (q->family == ADDR_FAMILY_V4 && q->len == 32 && r->s->has_summary) {
		/* the summary of the address's /24 says which lengths can match; most
		 * unlisted addresses end here (only readers: a writer's own changes
		 * reach the summary at commit) */
		uint32_t a = store_key4_addr(q), t = summary_slash24(a);
		const uint8_t *chunk = NULL;
		uint16_t w;
		int rc = reader_summary_chunk(r, z->id, t >> SUMMARY_CHUNK_SHIFT, &chunk);
		if (rc < 0)
			return rc;
		if (chunk == NULL)
			return DNSBL_ENOTFOUND;
		memcpy(&w, chunk + 2 * (t & (SUMMARY_CHUNK_WORDS - 1)), 2);
		uint64_t try4 = summary_lens(w, a, z->lens.ip4);
		if (try4 == 0)
			return DNSBL_ENOTFOUND;
		return lookup_upto(r->txn, r->s->entries, z, q, 32, try4, now, entry, matched);
	}
	return store_lookup_txn(r->txn, r->s->entries, z, q, now, entry, matched);
}

int store_name_covers_subdomains(struct store_reader *r, const struct store_zone *z,
				 const struct entry_key *p, uint32_t now)
{
	struct store_entry e;

	if (p->family != ADDR_FAMILY_NAME || !store_key_valid(p))
		return DNSBL_EINVAL;
	int rc = name_longest(r->txn, r->s->entries, z, p, true, now, &e, NULL);
	if (rc == DNSBL_ENOTFOUND)
		return 0;
	return rc < 0 ? rc : !(e.flags & STORE_F_EXCLUDE);
}

/* 1 when some active entry other than an exclusion lies strictly below name q, or
 * a SUBS or TREE listing at q or above covers q's subdomains; else 0 or an error. */
static int name_any_below(struct store_reader *r, const struct store_zone *z,
			  const struct entry_key *q, uint32_t now)
{
	struct store_entry e;
	uint8_t key[KEY_MAX];
	size_t plen = 3 + (size_t)q->name_len;
	int rc = name_longest(r->txn, r->s->entries, z, q, true, now, &e, NULL);

	if (rc == 0 && !(e.flags & STORE_F_EXCLUDE))
		return 1;
	if (rc < 0 && rc != DNSBL_ENOTFOUND)
		return rc;
	/* nothing covers the subdomains, or an exclusion does: entries below count */
	store_key_encode(key, z->id, q);
	MDB_val k = { plen, key }, v;
	for (rc = mdb_cursor_get(r->cur, &k, &v, MDB_SET_RANGE); rc == 0;
	     rc = mdb_cursor_get(r->cur, &k, &v, MDB_NEXT)) {
		const uint8_t *kb = k.mv_data;
		if (k.mv_size < plen + 2 || memcmp(kb, key, plen) != 0)
			break;
		if (kb[plen] == 0)
			continue; /* q's own entries, weighed above */
		if (store_entry_decode(&v, &e) == 0 && !(e.flags & STORE_F_EXCLUDE) &&
		    store_entry_active(&e, now))
			return 1;
	}
	return rc == 0 || rc == MDB_NOTFOUND ? 0 : map_mdb_error(rc, "scan");
}

int store_any_listed_within(struct store_reader *r, const struct store_zone *z,
			    const struct entry_key *p, uint32_t now)
{
	struct store_entry e;
	MDB_cursor *cur = r->cur;
	uint8_t key[KEY_MAX];
	size_t nbytes = store_addr_bytes(p->family);
	int rc;

	if (p->family == ADDR_FAMILY_NAME)
		return name_any_below(r, z, p, now);
	rc = lookup_upto(r->txn, r->s->entries, z, p, p->len, ~0ull, now, &e, NULL);
	if (rc == 0 && !(e.flags & STORE_F_EXCLUDE))
		return 1;
	if (rc < 0 && rc != DNSBL_ENOTFOUND)
		return rc;
	for (unsigned len = p->len + 1u; len <= store_family_bits(p->family); len++) {
		if (!store_lens_has(z, p->family, len))
			continue;
		struct entry_key inner = *p;
		inner.len = (uint8_t)len;
		MDB_val k = { store_key_encode(key, z->id, &inner), key }, v;
		for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
		     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
			const uint8_t *kb = k.mv_data;
			if (k.mv_size != 4 + nbytes || memcmp(kb, key, 4) != 0)
				break;
			memcpy(inner.addr, kb + 4, nbytes);
			if (!prefix_contains(p, &inner))
				break;
			if (store_entry_decode(&v, &e) == 0 && !(e.flags & STORE_F_EXCLUDE) &&
			    store_entry_active(&e, now))
				return 1;
		}
		if (rc != 0 && rc != MDB_NOTFOUND)
			return map_mdb_error(rc, "scan");
	}
	return 0;
}
