/* Walks and counts outside the query path: paging through a zone, exact entry and
 * tombstone reads, names of events, actors and sources, counts, history scans. */
#include "store_impl.h"

#include <stdio.h>
#include <string.h>

#include "err.h"

/* Walks zone zid's entries in key order, from the first one after the key of prefix
 * after (NULL: from the zone's first entry). */
int store_foreach_txn_after(MDB_txn *txn, MDB_dbi dbi, uint16_t zid, const struct entry_key *after,
			     int (*fn)(const struct entry_key *p, const struct store_entry *e,
				       void *arg, MDB_cursor *cur),
			     void *arg)
{
	MDB_cursor *cur;
	uint8_t start[2] = { (uint8_t)(zid >> 8), (uint8_t)zid };
	uint8_t akey[KEY_MAX];
	size_t alen = 0;
	MDB_val k = { 2, start }, v;
	int rc, ret = 0;

	if (after != NULL) {
		if (!store_key_valid(after))
			return DNSBL_EINVAL;
		alen = store_key_encode(akey, zid, after);
		k.mv_size = alen;
		k.mv_data = akey;
	}
	if ((rc = mdb_cursor_open(txn, dbi, &cur)) != 0)
		return map_mdb_error(rc, "cursor");
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	if (rc == 0 && after != NULL && k.mv_size == alen && memcmp(k.mv_data, akey, alen) == 0)
		rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	for (; rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		const uint8_t *kb = k.mv_data;
		struct entry_key p;
		struct store_entry e;
		if (k.mv_size < 4 || kb[0] != start[0] || kb[1] != start[1])
			break;
		if (!store_key_decode(kb, k.mv_size, &p) || store_entry_decode(&v, &e) < 0)
			continue; /* not an entry of this schema: skip, never crash */
		if ((ret = fn(&p, &e, arg, cur)) != 0)
			break;
	}
	mdb_cursor_close(cur);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return map_mdb_error(rc, "scan");
	return ret;
}

int store_foreach_txn(MDB_txn *txn, MDB_dbi dbi, uint16_t zid,
		       int (*fn)(const struct entry_key *p, const struct store_entry *e,
				 void *arg, MDB_cursor *cur),
		       void *arg)
{
	return store_foreach_txn_after(txn, dbi, zid, NULL, fn, arg);
}

struct foreach_adapter {
	int (*fn)(const struct entry_key *p, const struct store_entry *e, void *arg);
	void *arg;
};

static int foreach_adapt(const struct entry_key *p, const struct store_entry *e, void *arg,
			 MDB_cursor *cur)
{
	struct foreach_adapter *a = arg;
	(void)cur;
	return a->fn(p, e, a->arg);
}

int store_foreach(struct store_reader *r, const struct store_zone *z,
		  int (*fn)(const struct entry_key *p, const struct store_entry *e,
			    void *arg),
		  void *arg)
{
	struct foreach_adapter a = { fn, arg };
	return store_foreach_txn(r->txn, r->s->entries, z->id, foreach_adapt, &a);
}

static int count_one(const struct entry_key *p, const struct store_entry *e, void *arg)
{
	(void)p;
	(void)e;
	(*(uint64_t *)arg)++;
	return 0;
}

int store_foreach_after(struct store_reader *r, const struct store_zone *z,
			const struct entry_key *after,
			int (*fn)(const struct entry_key *p, const struct store_entry *e,
				  void *arg),
			void *arg)
{
	struct foreach_adapter a = { fn, arg };
	return store_foreach_txn_after(r->txn, r->s->entries, z->id, after, foreach_adapt, &a);
}

/* Reads the value stored in dbi (entries or tombs) under the key of prefix p in zone
 * z; what names the database in errors. */
int store_get_by_key(MDB_txn *txn, MDB_dbi dbi, const struct store_zone *z,
			 const struct entry_key *p, const char *what, MDB_val *v)
{
	uint8_t key[KEY_MAX];
	int rc;

	if (!store_key_valid(p))
		return DNSBL_EINVAL;
	MDB_val k = { store_key_encode(key, z->id, p), key };
	if ((rc = mdb_get(txn, dbi, &k, v)) != 0)
		return map_mdb_error(rc, what);
	return 0;
}

/* Reads the entry with exactly the key of prefix p, whatever its state. */
int store_entry_get_txn(MDB_txn *txn, MDB_dbi dbi, const struct store_zone *z,
			 const struct entry_key *p, struct store_entry *out)
{
	MDB_val v;
	int rc = store_get_by_key(txn, dbi, z, p, "entry", &v);
	if (rc < 0)
		return rc;
	return store_entry_decode(&v, out) < 0 ? DNSBL_ESTORE : 0;
}

int store_entry_get(struct store_reader *r, const struct store_zone *z,
		    const struct entry_key *p, struct store_entry *out)
{
	return store_entry_get_txn(r->txn, r->s->entries, z, p, out);
}

int store_entry_state(const struct store_entry *e, uint32_t now)
{
	if (e->flags & STORE_F_PENDING)
		return STORE_STATE_PENDING;
	if (store_entry_expired(e, now))
		return STORE_STATE_EXPIRED;
	return (e->flags & STORE_F_EXCLUDE) ? STORE_STATE_EXCLUDED : STORE_STATE_LISTED;
}

const char *store_event_name(int event)
{
	switch (event) {
	case STORE_EV_LIST: return "list";
	case STORE_EV_RELIST: return "relist";
	case STORE_EV_DELIST: return "delist";
	case STORE_EV_EXPIRE: return "expire";
	case STORE_EV_REMOVE: return "remove";
	case STORE_EV_UPDATE: return "update";
	default: return "unknown";
	}
}

size_t store_actor_format(struct store_reader *r, int kind, uint16_t id, char *buf, size_t size)
{
	char name[STORE_NAME_MAX + 16];
	int n;

	if (kind == STORE_ACTOR_EXPIRE) {
		n = snprintf(buf, size, "expire");
	} else {
		if (store_source_name(r, id, name, sizeof(name)) < 0)
			snprintf(name, sizeof(name), "#%u", id);
		if (kind == STORE_ACTOR_OPERATOR || strncmp(name, "operator:", 9) == 0)
			n = snprintf(buf, size, "%s", name);
		else
			n = snprintf(buf, size, "source:%s", name);
	}
	return n < 0 ? 0 : (size_t)n < size ? (size_t)n : size - 1;
}

bool store_name_valid(const char *s, size_t len)
{
	if (len == 0 || len > STORE_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-' || c == '+' || c == '@'))
			return false;
	}
	return true;
}

uint64_t store_zone_count(struct store_reader *r, const struct store_zone *z)
{
	uint64_t n = 0;
	if (store_foreach(r, z, count_one, &n) < 0)
		return 0;
	return n;
}

int store_source_name(struct store_reader *r, uint16_t id, char *buf, size_t size)
{
	uint8_t kbuf[8] = { 's', 'r', 'c', 'i', 'd', ':', (uint8_t)(id >> 8), (uint8_t)id };
	MDB_val k = { sizeof(kbuf), kbuf }, v;
	int rc = mdb_get(r->txn, r->s->meta, &k, &v);

	if (rc != 0)
		return map_mdb_error(rc, "source name");
	if (v.mv_size + 1 > size)
		return DNSBL_ENOSPC;
	memcpy(buf, v.mv_data, v.mv_size);
	buf[v.mv_size] = '\0';
	return 0;
}

/* Reads the tombstone of exactly p in zone z within txn. */
int store_tomb_read(MDB_txn *txn, MDB_dbi tombs, const struct store_zone *z,
		     const struct entry_key *p, struct store_tomb *out)
{
	MDB_val v;
	int rc = store_get_by_key(txn, tombs, z, p, "tombstone", &v);
	if (rc < 0)
		return rc;
	return store_tomb_decode(&v, out);
}

int store_tomb_get(struct store_reader *r, const struct store_zone *z,
		   const struct entry_key *p, struct store_tomb *out)
{
	return store_tomb_read(r->txn, r->s->tombs, z, p, out);
}

/* Counts the keys of dbi that start with the zone id zid. */
static uint64_t count_zone_keys(MDB_txn *txn, MDB_dbi dbi, uint16_t zid)
{
	uint8_t start[2] = { (uint8_t)(zid >> 8), (uint8_t)zid };
	MDB_cursor *cur;
	MDB_val k = { 2, start }, v;
	uint64_t n = 0;
	int rc;

	if (mdb_cursor_open(txn, dbi, &cur) != 0)
		return 0;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		const uint8_t *kb = k.mv_data;
		if (k.mv_size < 2 || kb[0] != start[0] || kb[1] != start[1])
			break;
		n++;
	}
	mdb_cursor_close(cur);
	return n;
}

uint64_t store_tomb_count(struct store_reader *r, const struct store_zone *z)
{
	return count_zone_keys(r->txn, r->s->tombs, z->id);
}

uint64_t store_history_count(struct store_reader *r, const struct store_zone *z)
{
	return count_zone_keys(r->txn, r->s->histkey, z->id);
}

int store_history_scan(struct store_reader *r, uint16_t zone_id, const struct entry_key *p,
		       uint32_t since,
		       int (*fn)(const struct store_event_rec *ev, void *arg), void *arg)
{
	return store_history_scan_before(r, zone_id, p, since, UINT64_MAX, fn, arg);
}

int store_history_scan_before(struct store_reader *r, uint16_t zone_id,
			      const struct entry_key *p, uint32_t since, uint64_t before,
			      int (*fn)(const struct store_event_rec *ev, void *arg), void *arg)
{
	MDB_cursor *cur;
	struct store_event_rec ev;
	uint8_t ik[KEY_MAX + SEQ_BYTES];
	size_t kl = 0;
	MDB_val k, v;
	int rc, ret = 0;

	if (p != NULL) {
		if (!store_key_valid(p) || zone_id == 0)
			return DNSBL_EINVAL;
		kl = store_key_encode(ik, zone_id, p);
	}
	/* the first key at or past "before"; the walk starts just below it */
	for (int i = 0; i < SEQ_BYTES; i++)
		ik[kl + (size_t)i] = (uint8_t)(before >> (8 * (SEQ_BYTES - 1 - i)));
	if ((rc = mdb_cursor_open(r->txn, p ? r->s->histkey : r->s->history, &cur)) != 0)
		return map_mdb_error(rc, "cursor");
	k.mv_size = kl + SEQ_BYTES;
	k.mv_data = ik;
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	rc = rc == MDB_NOTFOUND ? mdb_cursor_get(cur, &k, &v, MDB_LAST)
				: rc == 0 ? mdb_cursor_get(cur, &k, &v, MDB_PREV) : rc;
	for (; rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_PREV)) {
		MDB_val hk, hv;
		if (p != NULL) {
			if (k.mv_size != kl + SEQ_BYTES || memcmp(k.mv_data, ik, kl) != 0)
				break;
			hk.mv_size = SEQ_BYTES;
			hk.mv_data = (uint8_t *)k.mv_data + kl;
			int grc = mdb_get(r->txn, r->s->history, &hk, &hv);
			if (grc == MDB_NOTFOUND)
				continue; /* pruned */
			if (grc != 0) {
				rc = grc;
				break;
			}
		} else {
			hk = k;
			hv = v;
		}
		if (store_history_decode(&hk, &hv, &ev) < 0)
			continue; /* not a record of this schema: skip, never crash */
		if (ev.time < since)
			break;
		if (zone_id != 0 && ev.zone_id != zone_id)
			continue;
		if ((ret = fn(&ev, arg)) != 0)
			break;
	}
	mdb_cursor_close(cur);
	if (ret != 0)
		return ret;
	return rc == 0 || rc == MDB_NOTFOUND ? 0 : map_mdb_error(rc, "history");
}
