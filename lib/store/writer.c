/* Writing: write transactions and their commit (serials, the summary, the history
 * sequence), zones and sources, append hints that make sorted imports append,
 * history records, and the single-key changes: delete and delist. */
#include "store_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "log.h"

int store_writer_begin(struct store *s, struct store_writer **out)
{
	struct store_writer *w;
	int rc;

	if (s->rdonly)
		return DNSBL_EINVAL;
	w = calloc(1, sizeof(*w));
	if (w == NULL)
		return DNSBL_ENOMEM;
	w->s = s;
	if ((rc = mdb_txn_begin(s->env, NULL, 0, &w->txn)) != 0) {
		free(w);
		return map_mdb_error(rc, "begin write");
	}
	if (!s->has_summary || !s->has_journal) {
		/* opened as schema 2 or 3 (without STORE_CREATE): if another process
		 * upgraded the store since, writing without the summary would hide
		 * entries, and without the journal would lose changes from IXFR */
		MDB_val k = { 6, "schema" }, v;
		uint32_t version = 0, opened = s->has_summary ? 3 : 2;
		if (mdb_get(w->txn, s->meta, &k, &v) == 0 && v.mv_size == sizeof(version))
			memcpy(&version, v.mv_data, sizeof(version));
		if (version != opened) {
			log_err("store: upgraded to schema %u by another program: reopen it", version);
			mdb_txn_abort(w->txn);
			free(w);
			return DNSBL_EVERSION;
		}
	}
	*out = w;
	return 0;
}

static int zone_write(struct store_writer *w, const struct writer_zone *wz)
{
	char kbuf[300];
	int n = snprintf(kbuf, sizeof(kbuf), "zone:%s", wz->name);
	struct zone_record rec;

	store_zone_encode(&wz->z, &rec);
	MDB_val k = { (size_t)n, kbuf }, v = { sizeof(rec), &rec };
	return map_mdb_error(mdb_put(w->txn, w->s->meta, &k, &v, 0), "write zone record");
}

int store_writer_commit(struct store_writer *w)
{
	int rc = 0;

	if (w->replacing)
		rc = store_replace_finish(w, NULL);
	if (rc == 0 && w->seq_dirty) {
		MDB_val k = { 13, "hist-next-seq" }, v = { sizeof(w->next_seq), &w->next_seq };
		rc = map_mdb_error(mdb_put(w->txn, w->s->meta, &k, &v, 0), "history sequence");
	}
	for (unsigned i = 0; i < w->sum.n && rc == 0; i++) {
		struct summary_zone *sz = w->sum.zones[i];
		for (unsigned j = 0; j < w->nzones; j++)
			if (w->zones[j].z.id == sz->zid)
				sz->lens4 = w->zones[j].z.lens.ip4;
	}
	if (rc == 0)
		rc = store_summary_flush(w->s, w->txn, &w->sum);
	store_summary_free(&w->sum);
	for (unsigned i = 0; i < w->nzones && rc == 0; i++) {
		struct writer_zone *wz = &w->zones[i];
		if (!wz->changed)
			continue;
		wz->z.serial++;
		if (wz->z.serial == 0)
			wz->z.serial = 1;
		rc = zone_write(w, wz);
	}
	if (rc == 0)
		rc = store_journal_commit(w, (uint32_t)time(NULL));
	store_journal_free(w);
	if (rc == 0)
		rc = map_mdb_error(mdb_txn_commit(w->txn), "commit");
	else
		mdb_txn_abort(w->txn);
	free(w);
	return rc;
}

void store_writer_abort(struct store_writer *w)
{
	if (w == NULL)
		return;
	mdb_txn_abort(w->txn);
	store_summary_free(&w->sum);
	store_journal_free(w);
	free(w);
}

/* Reads and increments the counter at key (starting at 1). */
static int next_id(struct store_writer *w, const char *key, uint32_t limit, uint16_t *out)
{
	MDB_val k = { strlen(key), (void *)key }, v;
	uint16_t id = 1;
	int rc = mdb_get(w->txn, w->s->meta, &k, &v);

	if (rc == 0 && v.mv_size == sizeof(id))
		memcpy(&id, v.mv_data, sizeof(id));
	else if (rc != 0 && rc != MDB_NOTFOUND)
		return map_mdb_error(rc, key);
	if (id == 0 || id >= limit)
		return DNSBL_ERANGE;
	*out = id;
	id++;
	v.mv_size = sizeof(id);
	v.mv_data = &id;
	return map_mdb_error(mdb_put(w->txn, w->s->meta, &k, &v, 0), key);
}

int store_writer_zone(struct store_writer *w, const char *name, struct store_zone **out)
{
	struct writer_zone *wz;
	size_t n = strlen(name);
	int rc;

	if (n == 0 || n > 253)
		return DNSBL_EINVAL;
	for (unsigned i = 0; i < w->nzones; i++) {
		if (strcmp(w->zones[i].name, name) == 0) {
			*out = &w->zones[i].z;
			return 0;
		}
	}
	if (w->nzones == WRITER_ZONES)
		return DNSBL_ERANGE;
	wz = &w->zones[w->nzones];
	memset(wz, 0, sizeof(*wz));
	memcpy(wz->name, name, n + 1);
	rc = store_zone_read(w->txn, w->s->meta, name, &wz->z);
	if (rc == DNSBL_ENOTFOUND) {
		if ((rc = next_id(w, "zone-next-id", 0xffff, &wz->z.id)) < 0)
			return rc;
		wz->z.created = (uint32_t)time(NULL);
		/* the commit bumps it to the creation time */
		wz->z.serial = wz->z.created - 1;
		wz->changed = true;
	} else if (rc < 0) {
		return rc;
	}
	w->nzones++;
	*out = &wz->z;
	return 0;
}

struct writer_zone *store_writer_zone_of(struct store_writer *w, struct store_zone *z)
{
	for (unsigned i = 0; i < w->nzones; i++)
		if (&w->zones[i].z == z)
			return &w->zones[i];
	return NULL;
}

int store_writer_source(struct store_writer *w, const char *name, uint16_t *id)
{
	char kbuf[8 + SOURCE_NAME_MAX];
	size_t n = strlen(name);
	int rc;

	if (n == 0 || n > SOURCE_NAME_MAX)
		return DNSBL_EINVAL;
	snprintf(kbuf, sizeof(kbuf), "src:%s", name);
	MDB_val k = { 4 + n, kbuf }, v;
	rc = mdb_get(w->txn, w->s->meta, &k, &v);
	if (rc == 0 && v.mv_size == sizeof(*id)) {
		memcpy(id, v.mv_data, sizeof(*id));
		return 0;
	}
	if (rc != MDB_NOTFOUND)
		return map_mdb_error(rc, "source");
	if ((rc = next_id(w, "src-next-id", 0xffff, id)) < 0)
		return rc;
	v.mv_size = sizeof(*id);
	v.mv_data = id;
	if ((rc = mdb_put(w->txn, w->s->meta, &k, &v, 0)) != 0)
		return map_mdb_error(rc, "source");
	uint8_t rkey[8] = { 's', 'r', 'c', 'i', 'd', ':', (uint8_t)(*id >> 8), (uint8_t)*id };
	MDB_val rk = { sizeof(rkey), rkey }, rv = { n, (void *)name };
	return map_mdb_error(mdb_put(w->txn, w->s->meta, &rk, &rv, 0), "source");
}

/* LMDB's default key order: bytes, then the shorter first. */
static int key_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);
	if (c != 0)
		return c;
	return alen < blen ? -1 : alen > blen ? 1 : 0;
}

/* Whether key k sorts after everything in dbi (so it is absent and appendable). */
int store_hint_after(MDB_txn *txn, MDB_dbi dbi, struct append_hint *h, const MDB_val *k,
		      bool *after)
{
	if (!h->known) {
		MDB_cursor *cur;
		MDB_val lk, lv;
		int rc = mdb_cursor_open(txn, dbi, &cur);
		if (rc != 0)
			return map_mdb_error(rc, "cursor");
		rc = mdb_cursor_get(cur, &lk, &lv, MDB_LAST);
		mdb_cursor_close(cur);
		if (rc == MDB_NOTFOUND) {
			h->len = 0;
		} else if (rc != 0) {
			return map_mdb_error(rc, "last key");
		} else if (lk.mv_size > sizeof(h->key)) {
			/* a foreign key longer than ours: never append */
			memset(h->key, 0xff, sizeof(h->key));
			h->len = sizeof(h->key);
		} else {
			memcpy(h->key, lk.mv_data, lk.mv_size);
			h->len = lk.mv_size;
		}
		h->known = true;
	}
	*after = h->len == 0 || key_cmp(k->mv_data, k->mv_size, h->key, h->len) > 0;
	return 0;
}

/* Puts k/v, appending when k sorts after every key (known absent by the caller). */
int store_put_hinted(MDB_txn *txn, MDB_dbi dbi, struct append_hint *h, MDB_val *k,
		      MDB_val *v, bool after)
{
	int rc;

	if (!after)
		return mdb_put(txn, dbi, k, v, 0);
	if (h->cur == NULL && (rc = mdb_cursor_open(txn, dbi, &h->cur)) != 0)
		return rc;
	rc = mdb_cursor_put(h->cur, k, v, MDB_APPEND);
	if (rc == 0 && after && k->mv_size <= sizeof(h->key)) {
		memcpy(h->key, k->mv_data, k->mv_size);
		h->len = k->mv_size;
	}
	return rc;
}

int store_history_add(struct store_writer *w, uint16_t zid, uint8_t event, uint8_t actor,
		       uint16_t actor_id, const struct entry_key *p, uint32_t a,
		       const char *reason, size_t reason_len, uint32_t now)
{
	uint8_t hk[SEQ_BYTES], hv[HIST_VALUE_MAX];
	uint8_t ik[KEY_MAX + SEQ_BYTES];
	bool after;
	int rc;

	if (!w->seq_loaded) {
		MDB_val k = { 13, "hist-next-seq" }, v;
		rc = mdb_get(w->txn, w->s->meta, &k, &v);
		w->next_seq = 1;
		if (rc == 0 && v.mv_size == sizeof(w->next_seq))
			memcpy(&w->next_seq, v.mv_data, sizeof(w->next_seq));
		else if (rc != 0 && rc != MDB_NOTFOUND)
			return map_mdb_error(rc, "history sequence");
		w->seq_loaded = true;
	}
	if (reason_len > STORE_REASON_MAX)
		reason_len = STORE_REASON_MAX;
	store_seq_encode(hk, w->next_seq);
	size_t n = store_history_encode(hv, now, zid, event, actor, actor_id, p, a, reason,
					reason_len);
	MDB_val k = { SEQ_BYTES, hk }, v = { n, hv };
	if ((rc = store_put_hinted(w->txn, w->s->history, &w->history_hint, &k, &v, true)) != 0)
		return map_mdb_error(rc, "history");
	size_t kl = store_key_encode(ik, zid, p);
	memcpy(ik + kl, hk, SEQ_BYTES);
	MDB_val ikv = { kl + SEQ_BYTES, ik }, empty = { 0, NULL };
	if ((rc = store_hint_after(w->txn, w->s->histkey, &w->histkey_hint, &ikv, &after)) < 0)
		return rc;
	if ((rc = store_put_hinted(w->txn, w->s->histkey, &w->histkey_hint, &ikv, &empty, after)) != 0)
		return map_mdb_error(rc, "history index");
	w->next_seq++;
	w->seq_dirty = true;
	return 0;
}

int store_tombs_any(struct store_writer *w, bool *any)
{
	if (!w->tombs_checked) {
		MDB_stat st;
		int rc = mdb_stat(w->txn, w->s->tombs, &st);
		if (rc != 0)
			return map_mdb_error(rc, "tombstones");
		w->tombs_any = st.ms_entries > 0;
		w->tombs_checked = true;
	}
	*any = w->tombs_any;
	return 0;
}

int store_delist(struct store_writer *w, struct store_zone *z, const struct entry_key *p,
		 uint16_t actor_id, const char *reason, size_t reason_len, uint32_t now)
{
	uint8_t key[KEY_MAX], tv[TOMB_FIXED + STORE_REASON_MAX];
	struct writer_zone *wz = store_writer_zone_of(w, z);
	struct store_entry e;
	struct entry_key mp;
	int rc;

	if (!store_key_valid(p) || wz == NULL)
		return DNSBL_EINVAL;
	if (reason_len > STORE_REASON_MAX)
		return DNSBL_ERANGE;
	if (now == 0)
		now = (uint32_t)time(NULL);
	MDB_val k = { store_key_encode(key, z->id, p), key }, v;
	store_key_decode(key, k.mv_size, &mp); /* p, masked */
	rc = mdb_get(w->txn, w->s->entries, &k, &v);
	if (rc != 0)
		return map_mdb_error(rc, "delist");
	if (store_entry_decode(&v, &e) < 0)
		return DNSBL_ESTORE;
	if (store_entry_expired(&e, now) && !(e.flags & STORE_F_PENDING))
		return DNSBL_ENOTFOUND; /* not listed; the sweep records its expiry */
	uint32_t a = e.a;
	store_journal_note(w, wz, key, k.mv_size, &e);
	if ((rc = mdb_del(w->txn, w->s->entries, &k, NULL)) != 0)
		return map_mdb_error(rc, "delist");
	if ((rc = store_summary_forget(w->s, &w->sum, z->id, &mp)) < 0)
		return rc;
	MDB_val t = { store_tomb_encode(tv, now, actor_id, reason, reason_len), tv };
	if ((rc = mdb_put(w->txn, w->s->tombs, &k, &t, 0)) != 0)
		return map_mdb_error(rc, "tombstone");
	w->tombs_any = w->tombs_checked = true;
	rc = store_history_add(w, z->id, STORE_EV_DELIST, STORE_ACTOR_OPERATOR, actor_id, &mp, a,
			 reason, reason_len, now);
	if (rc < 0)
		return rc;
	wz->changed = true;
	return 0;
}

int store_writer_tomb_get(struct store_writer *w, const struct store_zone *z,
			  const struct entry_key *p, struct store_tomb *out)
{
	return store_tomb_read(w->txn, w->s->tombs, z, p, out);
}

int store_writer_entry_get(struct store_writer *w, const struct store_zone *z,
			   const struct entry_key *p, struct store_entry *out)
{
	return store_entry_get_txn(w->txn, w->s->entries, z, p, out);
}

int store_writer_lookup(struct store_writer *w, const struct store_zone *z,
			const struct entry_key *q, uint32_t now, struct store_entry *entry,
			struct entry_key *matched)
{
	if (!store_key_valid(q))
		return DNSBL_EINVAL;
	return store_lookup_txn(w->txn, w->s->entries, z, q, now, entry, matched);
}

int store_delete(struct store_writer *w, struct store_zone *z, const struct entry_key *p)
{
	uint8_t key[KEY_MAX];
	struct writer_zone *wz = store_writer_zone_of(w, z);
	int rc;

	if (!store_key_valid(p) || wz == NULL)
		return DNSBL_EINVAL;
	struct entry_key mp;
	MDB_val k = { store_key_encode(key, z->id, p), key }, v;
	store_key_decode(key, k.mv_size, &mp); /* p, masked */
	if (store_journal_wants(w, wz, key, k.mv_size)) {
		struct store_entry e;
		if ((rc = mdb_get(w->txn, w->s->entries, &k, &v)) != 0)
			return map_mdb_error(rc, "delete");
		if (store_entry_decode(&v, &e) == 0)
			store_journal_note(w, wz, key, k.mv_size, &e);
	}
	rc = mdb_del(w->txn, w->s->entries, &k, NULL);
	if (rc != 0)
		return map_mdb_error(rc, "delete");
	if ((rc = store_summary_forget(w->s, &w->sum, z->id, &mp)) < 0)
		return rc;
	wz->changed = true;
	return 0;
}
