/* The transfer journal (IXFR, RFC 1995): while a write transaction runs, the first
 * old value of every entries key it changes is collected per zone (the choke points
 * in writer.c, merge.c and sweep.c call store_journal_note before they write); at
 * commit each changed zone gets one record under zone id | txn id and its older
 * records are pruned so that its stored changes stay within the journal size. The
 * layouts are in codec.c; the record is built in place so that the commit copies
 * it once, into the database. */
#include "store_impl.h"

#include <stdlib.h>
#include <string.h>

#include "err.h"

void store_set_journal_size(struct store *s, uint64_t changes)
{
	s->journal_size = changes;
}

/* FNV-1a over an entries key: the keys of one zone differ in their last bytes. */
static size_t key_hash(const uint8_t *key, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < len; i++)
		h = (h ^ key[i]) * 0x100000001b3ull;
	return (size_t)(h ^ h >> 29);
}

/* The key of the change at offset off of j's buffer, and its length. */
static const uint8_t *change_key(const struct journal_zone *j, size_t off, size_t *len)
{
	uint16_t n;

	memcpy(&n, j->buf + off, 2);
	*len = n;
	return j->buf + off + 2;
}

/* The slot of key in j's table: the one holding it, or the empty one where it goes. */
static size_t *slot_find(const struct journal_zone *j, const uint8_t *key, size_t len)
{
	size_t mask = j->nslot - 1;

	for (size_t i = key_hash(key, len) & mask;; i = (i + 1) & mask) {
		size_t klen;
		if (j->slot[i] == 0)
			return &j->slot[i];
		const uint8_t *k = change_key(j, j->slot[i] - 1, &klen);
		if (klen == len && memcmp(k, key, len) == 0)
			return &j->slot[i];
	}
}

static void zone_overflow(struct journal_zone *j)
{
	free(j->buf);
	free(j->slot);
	memset(j, 0, sizeof(*j));
	j->overflow = true;
}

/* Doubles the table (rehashing from the buffer). Returns false out of memory. */
static bool table_grow(struct journal_zone *j)
{
	size_t n = j->nslot ? j->nslot * 2 : 256;
	size_t *old = j->slot, oldn = j->nslot;

	j->slot = calloc(n, sizeof(*j->slot));
	if (j->slot == NULL) {
		j->slot = old;
		return false;
	}
	j->nslot = n;
	for (size_t i = 0; i < oldn; i++) {
		size_t klen;
		if (old[i] == 0)
			continue;
		const uint8_t *k = change_key(j, old[i] - 1, &klen);
		*slot_find(j, k, klen) = old[i];
	}
	free(old);
	return true;
}

bool store_journal_wants(const struct store_writer *w, const struct writer_zone *wz,
			 const uint8_t *key, size_t len)
{
	const struct journal_zone *j = &wz->journal;

	if (!w->s->has_journal || j->overflow)
		return false;
	return j->nslot == 0 || *slot_find(j, key, len) == 0;
}

void store_journal_note(struct store_writer *w, struct writer_zone *wz, const uint8_t *key,
			size_t len, const struct store_entry *old)
{
	struct journal_zone *j = &wz->journal;
	size_t *slot;

	if (!w->s->has_journal || j->overflow)
		return;
	if (j->nslot > 0 && *(slot = slot_find(j, key, len)) != 0)
		return; /* the first old value of the transaction stays */
	if ((uint64_t)j->count + 1 > w->s->journal_size || j->count == UINT32_MAX) {
		zone_overflow(j);
		return;
	}
	if ((size_t)(j->count + 1) * 2 > j->nslot) {
		if (!table_grow(j)) {
			zone_overflow(j);
			return;
		}
	}
	slot = slot_find(j, key, len);
	size_t need = (j->len ? j->len : JOURNAL_FIXED) + 4 + len + VALUE_MAX;
	if (need > j->cap) {
		size_t cap = j->cap ? j->cap : 4096;
		while (cap < need)
			cap *= 2;
		uint8_t *buf = realloc(j->buf, cap);
		if (buf == NULL) {
			zone_overflow(j);
			return;
		}
		j->buf = buf;
		j->cap = cap;
	}
	if (j->len == 0)
		j->len = JOURNAL_FIXED;
	size_t off = j->len;
	uint16_t n = (uint16_t)len;
	memcpy(j->buf + off, &n, 2);
	memcpy(j->buf + off + 2, key, len);
	n = old ? (uint16_t)store_entry_encode(j->buf + off + 4 + len, old) : 0;
	memcpy(j->buf + off + 2 + len, &n, 2);
	j->len = off + 4 + len + n;
	*slot = off + 1;
	j->count++;
}

void store_journal_free(struct store_writer *w)
{
	for (unsigned i = 0; i < w->nzones; i++) {
		free(w->zones[i].journal.buf);
		free(w->zones[i].journal.slot);
		memset(&w->zones[i].journal, 0, sizeof(w->zones[i].journal));
	}
}

static void journal_key(uint8_t *kb, uint16_t zid, uint64_t txn)
{
	kb[0] = (uint8_t)(zid >> 8);
	kb[1] = (uint8_t)zid;
	store_seq_encode(kb + 2, txn);
}

static bool key_of_zone(const MDB_val *k, uint16_t zid)
{
	const uint8_t *kb = k->mv_data;
	return k->mv_size == JOURNAL_KEY_BYTES && kb[0] == (uint8_t)(zid >> 8) &&
	       kb[1] == (uint8_t)zid;
}

/* The count of a stored record (0 for one too short to have any). */
static uint32_t record_count(const MDB_val *v)
{
	uint32_t n = 0;
	if (v->mv_size >= JOURNAL_FIXED)
		memcpy(&n, (const uint8_t *)v->mv_data + 9, 4);
	return n;
}

/* Deletes zone zid's oldest records, never the one under key mine, while *total
 * exceeds limit (or, with all, every one), taking their counts off *total. */
static int prune_zone(MDB_cursor *cur, uint16_t zid, const uint8_t *mine, bool all,
		      uint64_t limit, uint64_t *total)
{
	uint8_t first[JOURNAL_KEY_BYTES];
	MDB_val k, v;
	int rc;

	journal_key(first, zid, 0);
	while (all || *total > limit) {
		k.mv_size = sizeof(first);
		k.mv_data = first;
		rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
		if (rc == MDB_NOTFOUND || (rc == 0 && !key_of_zone(&k, zid)))
			break;
		if (rc != 0)
			return map_mdb_error(rc, "journal prune");
		if (memcmp(k.mv_data, mine, JOURNAL_KEY_BYTES) == 0)
			break; /* the newest record stays */
		uint32_t n = record_count(&v);
		*total = *total > n ? *total - n : 0;
		if ((rc = mdb_cursor_del(cur, 0)) != 0)
			return map_mdb_error(rc, "journal prune");
	}
	return 0;
}

/* Appends zone wz's record for transaction txn and prunes the zone's older ones. */
static int zone_commit(struct store_writer *w, MDB_cursor *cur, struct writer_zone *wz,
		       uint64_t txn, uint32_t now)
{
	struct journal_zone *j = &wz->journal;
	uint16_t zid = wz->z.id;
	uint8_t kb[JOURNAL_KEY_BYTES], tk[2] = { (uint8_t)(zid >> 8), (uint8_t)zid };
	uint8_t head[JOURNAL_FIXED];
	uint64_t total = 0;
	MDB_val k = { sizeof(kb), kb }, v;
	int rc;

	journal_key(kb, zid, txn);
	/* a record at or after this transaction id: the ids started again (a compacting
	 * copy of the environment), so the zone's journal cannot be trusted */
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	bool restarted = rc == 0 && key_of_zone(&k, zid);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return map_mdb_error(rc, "journal");
	bool overflow = j->overflow || restarted || w->s->journal_size == 0;
	uint8_t *rec = head;
	size_t len = JOURNAL_FIXED;
	if (!overflow && j->len > 0) {
		rec = j->buf;
		len = j->len;
	}
	uint32_t count = overflow ? 0 : j->count;
	memcpy(rec, &wz->z.serial, 4);
	memcpy(rec + 4, &now, 4);
	rec[8] = overflow ? JOURNAL_F_OVERFLOW : 0;
	memcpy(rec + 9, &count, 4);

	MDB_val tkv = { sizeof(tk), tk };
	rc = mdb_get(w->txn, w->s->journal, &tkv, &v);
	if (rc == 0 && v.mv_size == sizeof(total))
		memcpy(&total, v.mv_data, sizeof(total));
	else if (rc != 0 && rc != MDB_NOTFOUND)
		return map_mdb_error(rc, "journal total");
	if (restarted) {
		/* the stale records sort after the new one: drop them all first */
		rc = prune_zone(cur, zid, (const uint8_t[JOURNAL_KEY_BYTES]){ 0 }, true, 0, &total);
		if (rc < 0)
			return rc;
	}
	k.mv_size = sizeof(kb);
	k.mv_data = kb;
	v.mv_size = len;
	v.mv_data = rec;
	if ((rc = mdb_put(w->txn, w->s->journal, &k, &v, 0)) != 0)
		return map_mdb_error(rc, "journal");
	/* an IXFR across an overflow record is an AXFR, so what came before it is no use */
	total += count;
	if ((rc = prune_zone(cur, zid, kb, overflow, w->s->journal_size, &total)) < 0)
		return rc;
	if (overflow)
		total = 0;
	v.mv_size = sizeof(total);
	v.mv_data = &total;
	return map_mdb_error(mdb_put(w->txn, w->s->journal, &tkv, &v, 0), "journal total");
}

int store_journal_commit(struct store_writer *w, uint32_t now)
{
	MDB_cursor *cur;
	int rc = 0;

	if (!w->s->has_journal)
		return 0;
	uint64_t txn = mdb_txn_id(w->txn);
	if ((rc = mdb_cursor_open(w->txn, w->s->journal, &cur)) != 0)
		return map_mdb_error(rc, "journal cursor");
	for (unsigned i = 0; i < w->nzones && rc == 0; i++)
		if (w->zones[i].changed)
			rc = zone_commit(w, cur, &w->zones[i], txn, now);
	mdb_cursor_close(cur);
	return rc;
}

/* Reads the record under k/v into *rec. Returns 0 or DNSBL_ESTORE. */
static int record_decode(const MDB_val *k, const MDB_val *v, struct store_journal_rec *rec)
{
	const uint8_t *p = v->mv_data;

	if (k->mv_size != JOURNAL_KEY_BYTES || v->mv_size < JOURNAL_FIXED)
		return DNSBL_ESTORE;
	memset(rec, 0, sizeof(*rec));
	rec->txn = store_seq_decode((const uint8_t *)k->mv_data + 2);
	memcpy(&rec->serial, p, 4);
	memcpy(&rec->time, p + 4, 4);
	rec->overflow = p[8] & JOURNAL_F_OVERFLOW;
	memcpy(&rec->count, p + 9, 4);
	rec->data = p + JOURNAL_FIXED;
	rec->len = v->mv_size - JOURNAL_FIXED;
	if (rec->overflow && (rec->count != 0 || rec->len != 0))
		return DNSBL_ESTORE;
	/* the smallest change is 4 length bytes and a 4-byte key */
	if (rec->len / 8 < rec->count)
		return DNSBL_ESTORE;
	return 0;
}

int store_journal_walk(struct store_reader *r, const struct store_zone *z,
		       int (*fn)(void *arg, const struct store_journal_rec *rec), void *arg)
{
	uint8_t kb[JOURNAL_KEY_BYTES];
	MDB_cursor *cur;
	MDB_val k, v;
	int rc;

	if (!r->s->has_journal)
		return 0;
	if (!r->active)
		return DNSBL_EINVAL;
	if ((rc = mdb_cursor_open(r->txn, r->s->journal, &cur)) != 0)
		return map_mdb_error(rc, "journal cursor");
	/* one step back from the first key after the zone's: its newest record */
	bool past_end = true;
	if (z->id < 0xffff) {
		journal_key(kb, (uint16_t)(z->id + 1), 0);
		k.mv_size = 2;
		k.mv_data = kb;
		rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
		past_end = rc == MDB_NOTFOUND;
		if (rc == 0)
			rc = mdb_cursor_get(cur, &k, &v, MDB_PREV);
	}
	if (past_end)
		rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
	int result = 0;
	for (; rc == 0 && key_of_zone(&k, z->id); rc = mdb_cursor_get(cur, &k, &v, MDB_PREV)) {
		struct store_journal_rec rec;
		if (record_decode(&k, &v, &rec) < 0) {
			result = DNSBL_ESTORE;
			break;
		}
		if ((result = fn(arg, &rec)) != 0)
			break;
	}
	if (result == 0 && rc != 0 && rc != MDB_NOTFOUND)
		result = map_mdb_error(rc, "journal walk");
	mdb_cursor_close(cur);
	return result;
}

int store_journal_changes(const struct store_journal_rec *rec,
			  int (*fn)(void *arg, const struct store_journal_change *c), void *arg)
{
	const uint8_t *p = rec->data, *end = rec->data + rec->len;

	for (uint32_t i = 0; i < rec->count; i++) {
		struct store_journal_change c;
		uint16_t klen, vlen;
		if (end - p < 2)
			return DNSBL_ESTORE;
		memcpy(&klen, p, 2);
		if ((size_t)(end - p) < 4u + klen)
			return DNSBL_ESTORE;
		memcpy(&vlen, p + 2 + klen, 2);
		if ((size_t)(end - p) < 4u + klen + vlen)
			return DNSBL_ESTORE;
		memset(&c, 0, sizeof(c));
		if (!store_key_decode(p + 2, klen, &c.key))
			return DNSBL_ESTORE;
		c.existed = vlen > 0;
		if (c.existed) {
			MDB_val v = { vlen, (void *)(p + 4 + klen) };
			if (store_entry_decode(&v, &c.old) < 0)
				return DNSBL_ESTORE;
		}
		p += 4u + klen + vlen;
		int rc = fn(arg, &c);
		if (rc != 0)
			return rc;
	}
	return p == end ? 0 : DNSBL_ESTORE;
}
