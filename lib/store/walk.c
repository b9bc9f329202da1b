/* Walks of one zone's entries in address order (store_walk_*): the order a zone
 * transfer's mapping needs, every prefix before the prefixes inside it. The entries
 * database sorts IP keys by prefix length first, so the walk keeps one cursor per
 * length the zone uses and merges them; names already sort top-down. */
#include "store_impl.h"

#include <stdlib.h>

#include "err.h"

/* One cursor: the entries of one prefix length (or every name), at its next key. */
struct walk_head {
	MDB_cursor *cur;
	bool live;
	MDB_val k, v;
	uint64_t hi, lo; /* an IP key's address as numbers, for the merge (head_place) */
};

/* Whether key k is zone zid's, of family, and (IP keys, len >= 0) of length len. */
static bool key_in(const MDB_val *k, uint16_t zid, uint8_t family, int len)
{
	const uint8_t *kb = k->mv_data;

	if (k->mv_size < 4 || kb[0] != (uint8_t)(zid >> 8) || kb[1] != (uint8_t)zid ||
	    kb[2] != family)
		return false;
	return len < 0 || kb[3] == (uint8_t)len;
}

static uint64_t load_be64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* Sets h's live flag from its cursor's key, and an IP key's numbers. */
static void head_place(struct walk_head *h, int rc, uint16_t zid, uint8_t family, int len)
{
	h->live = rc == 0 && key_in(&h->k, zid, family, len);
	h->hi = h->lo = 0;
	if (!h->live || family == ADDR_FAMILY_NAME || h->k.mv_size < 4 + store_addr_bytes(family))
		return;
	const uint8_t *a = (const uint8_t *)h->k.mv_data + 4;
	if (family == ADDR_FAMILY_V6) {
		h->hi = load_be64(a);
		h->lo = load_be64(a + 8);
	} else {
		h->hi = (uint64_t)a[0] << 24 | (uint64_t)a[1] << 16 | (uint64_t)a[2] << 8 | a[3];
		h->lo = 0;
	}
}

struct store_walk {
	uint16_t zid;
	uint8_t family;
	unsigned n;
	struct walk_head heads[129];
};

/* Opens head h on txn at the first key of zone zid, family and length len (-1 for
 * names). */
static int head_open(MDB_txn *txn, MDB_dbi dbi, struct walk_head *h, uint16_t zid,
		     uint8_t family, int len)
{
	uint8_t start[4] = { (uint8_t)(zid >> 8), (uint8_t)zid, family, (uint8_t)(len < 0 ? 0 : len) };
	int rc = mdb_cursor_open(txn, dbi, &h->cur);

	if (rc != 0)
		return map_mdb_error(rc, "walk cursor");
	h->k.mv_size = len < 0 ? 3 : 4;
	h->k.mv_data = start;
	rc = mdb_cursor_get(h->cur, &h->k, &h->v, MDB_SET_RANGE);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return map_mdb_error(rc, "walk");
	head_place(h, rc, zid, family, len);
	return 0;
}

int store_walk_begin(struct store_reader *r, const struct store_zone *z, uint8_t family,
		     struct store_walk **out)
{
	struct store_walk *w = calloc(1, sizeof(*w));
	int rc = 0;

	if (w == NULL)
		return DNSBL_ENOMEM;
	w->zid = z->id;
	w->family = family;
	if (family == ADDR_FAMILY_NAME) {
		rc = head_open(r->txn, r->s->entries, &w->heads[w->n++], z->id, family, -1);
	} else {
		for (unsigned len = 0; len <= store_family_bits(family) && rc == 0; len++)
			if (store_lens_has(z, family, len))
				rc = head_open(r->txn, r->s->entries, &w->heads[w->n++], z->id,
					       family, (int)len);
	}
	if (rc < 0) {
		store_walk_end(w);
		return rc;
	}
	*out = w;
	return 0;
}

/* The live head whose key comes first in address order (shorter prefixes first at
 * one address); NULL when every head is done. */
static struct walk_head *head_first(struct store_walk *w)
{
	struct walk_head *best = NULL;

	for (unsigned i = 0; i < w->n; i++) {
		struct walk_head *h = &w->heads[i];
		if (!h->live)
			continue;
		/* heads are in length order: on a tie the earlier (shorter) one stays */
		if (best == NULL || h->hi < best->hi || (h->hi == best->hi && h->lo < best->lo))
			best = h;
	}
	return best;
}

int store_walk_next(struct store_walk *w, struct entry_key *p, struct store_entry *e)
{
	for (;;) {
		struct walk_head *h = w->family == ADDR_FAMILY_NAME
					      ? (w->heads[0].live ? &w->heads[0] : NULL)
					      : head_first(w);
		if (h == NULL)
			return 0;
		bool ok = store_key_decode(h->k.mv_data, h->k.mv_size, p) &&
			  store_entry_decode(&h->v, e) == 0;
		int len = w->family == ADDR_FAMILY_NAME ? -1 : ((const uint8_t *)h->k.mv_data)[3];
		int rc = mdb_cursor_get(h->cur, &h->k, &h->v, MDB_NEXT);
		if (rc != 0 && rc != MDB_NOTFOUND)
			return map_mdb_error(rc, "walk");
		head_place(h, rc, w->zid, w->family, len);
		if (ok)
			return 1; /* a key of another schema is skipped, never trusted */
	}
}

int store_walk_seek(struct store_walk *w, const uint8_t *addr)
{
	size_t nbytes = store_addr_bytes(w->family);

	if (w->family == ADDR_FAMILY_NAME)
		return DNSBL_EINVAL;
	for (unsigned i = 0; i < w->n; i++) {
		struct walk_head *h = &w->heads[i];
		if (!h->live || memcmp((const uint8_t *)h->k.mv_data + 4, addr, nbytes) >= 0)
			continue; /* only forward, and a cursor already there costs nothing */
		uint8_t key[4 + 16];
		int len = ((const uint8_t *)h->k.mv_data)[3];
		memcpy(key, h->k.mv_data, 4);
		memcpy(key + 4, addr, nbytes);
		h->k.mv_size = 4 + nbytes;
		h->k.mv_data = key;
		int rc = mdb_cursor_get(h->cur, &h->k, &h->v, MDB_SET_RANGE);
		if (rc != 0 && rc != MDB_NOTFOUND)
			return map_mdb_error(rc, "walk seek");
		head_place(h, rc, w->zid, w->family, len);
	}
	return 0;
}

void store_walk_end(struct store_walk *w)
{
	if (w == NULL)
		return;
	for (unsigned i = 0; i < w->n; i++)
		if (w->heads[i].cur != NULL)
			mdb_cursor_close(w->heads[i].cur);
	free(w);
}
