/* Sweeps: the replacement of a source's entries (import --replace), the expiry
 * sweep and history pruning, each in bounded write transactions. */
#include "store_impl.h"

#include <string.h>
#include <time.h>

#include "err.h"

int store_replace_begin(struct store_writer *w, struct store_zone *z, uint16_t source_id)
{
	int rc;

	if (w->replacing || store_writer_zone_of(w, z) == NULL)
		return DNSBL_EINVAL;
	rc = mdb_dbi_open(w->txn, "replace-scratch", MDB_CREATE, &w->replace_dbi);
	if (rc != 0)
		return map_mdb_error(rc, "replace");
	if ((rc = mdb_drop(w->txn, w->replace_dbi, 0)) != 0)
		return map_mdb_error(rc, "replace");
	w->replacing = true;
	w->replace_zone = z;
	w->replace_source = source_id;
	return 0;
}

struct sweep {
	struct store_writer *w;
	MDB_dbi doomed; /* keys to delete, collected first so the scan never deletes */
	uint64_t removed;
	union store_zone_lens lens;
	int err;
};

static int sweep_one(const struct entry_key *p, const struct store_entry *e, void *arg,
		     MDB_cursor *cur)
{
	struct sweep *sw = arg;
	struct store_writer *w = sw->w;
	MDB_val k, v;

	if (e->source_id == w->replace_source) {
		int rc = mdb_cursor_get(cur, &k, &v, MDB_GET_CURRENT);
		if (rc == 0)
			rc = mdb_get(w->txn, w->replace_dbi, &k, &v);
		if (rc == MDB_NOTFOUND) {
			MDB_val empty = { 0, NULL };
			rc = mdb_put(w->txn, sw->doomed, &k, &empty, 0);
			if (rc == 0) {
				sw->removed++;
				return 0;
			}
		}
		if (rc != 0) {
			sw->err = map_mdb_error(rc, "replace");
			return 1;
		}
	}
	store_lens_add(&sw->lens, p);
	int rc = store_summary_add(w->s, w->txn, &w->sum, w->replace_zone->id, p);
	if (rc < 0) {
		sw->err = rc;
		return 1;
	}
	return 0;
}

/* Deletes from entries every key listed in sw->doomed. */
static int sweep_delete(struct sweep *sw)
{
	struct store_writer *w = sw->w;
	MDB_cursor *cur;
	MDB_val k, v;
	int rc;

	struct writer_zone *wz = store_writer_zone_of(w, w->replace_zone);
	if ((rc = mdb_cursor_open(w->txn, sw->doomed, &cur)) != 0)
		return map_mdb_error(rc, "cursor");
	uint32_t now = (uint32_t)time(NULL);
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		uint8_t kb[KEY_MAX];
		struct entry_key p;
		struct store_entry e;
		MDB_val ev;
		/* a copy: the history puts below may move what LMDB returned */
		if (k.mv_size > sizeof(kb))
			continue;
		memcpy(kb, k.mv_data, k.mv_size);
		k.mv_data = kb;
		int drc = mdb_get(w->txn, w->s->entries, &k, &ev);
		bool found = drc == 0 && store_entry_decode(&ev, &e) == 0;
		if (found)
			store_journal_note(w, wz, kb, k.mv_size, &e);
		if (found && store_entry_active(&e, now) && store_key_decode(kb, k.mv_size, &p)) {
			drc = store_history_add(w, sw->w->replace_zone->id, STORE_EV_REMOVE,
					  STORE_ACTOR_SOURCE, w->replace_source, &p, e.a, NULL, 0,
					  now);
			if (drc < 0) {
				mdb_cursor_close(cur);
				return drc;
			}
		}
		drc = mdb_del(w->txn, w->s->entries, &k, NULL);
		if (drc != 0 && drc != MDB_NOTFOUND) {
			rc = drc;
			break;
		}
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : map_mdb_error(rc, "replace delete");
}

int store_replace_finish(struct store_writer *w, uint64_t *removed)
{
	struct sweep sw;
	struct store_zone *z = w->replace_zone;
	int rc;

	if (!w->replacing)
		return DNSBL_EINVAL;
	memset(&sw, 0, sizeof(sw));
	sw.w = w;
	rc = mdb_dbi_open(w->txn, "replace-doomed", MDB_CREATE, &sw.doomed);
	if (rc == 0)
		rc = mdb_drop(w->txn, sw.doomed, 0);
	rc = map_mdb_error(rc, "replace");
	if (rc == 0)
		rc = store_summary_restart(w->s, &w->sum, z->id); /* the sweep re-adds what stays */
	if (rc == 0) {
		rc = store_foreach_txn(w->txn, w->s->entries, z->id, sweep_one, &sw);
		if (rc > 0)
			rc = sw.err;
	}
	if (rc == 0)
		rc = sweep_delete(&sw);
	if (rc == 0) {
		z->lens = sw.lens;
		if (sw.removed > 0)
			store_writer_zone_of(w, z)->changed = true;
	}
	w->replacing = false;
	if (rc == 0)
		rc = map_mdb_error(mdb_drop(w->txn, sw.doomed, 1), "replace drop");
	if (rc == 0)
		rc = map_mdb_error(mdb_drop(w->txn, w->replace_dbi, 1), "replace drop");
	if (removed)
		*removed = rc == 0 ? sw.removed : 0;
	return rc;
}

/* Deletes the entry under the cursor (key k, value v) of zone z when it has expired
 * at now, recording the expiry of a listed one. Returns 1 when deleted, 0 when kept,
 * or an error. */
static int expire_one(struct store_writer *w, struct store_zone *z, MDB_cursor *cur,
		      const MDB_val *k, const MDB_val *v, uint32_t now,
		      struct store_expire_result *out)
{
	struct store_entry e;
	struct entry_key p;
	uint8_t kcopy[KEY_MAX];
	int rc;

	if (k->mv_size > sizeof(kcopy) || store_entry_decode(v, &e) < 0 ||
	    !store_entry_expired(&e, now))
		return 0;
	/* a copy: the history puts below may move what LMDB returned */
	memcpy(kcopy, k->mv_data, k->mv_size);
	if (!store_key_decode(kcopy, k->mv_size, &p))
		return 0;
	store_journal_note(w, store_writer_zone_of(w, z), kcopy, k->mv_size, &e);
	if (e.flags & STORE_F_PENDING) {
		out->pending_dropped++;
	} else {
		rc = store_history_add(w, z->id, STORE_EV_EXPIRE, STORE_ACTOR_EXPIRE, 0, &p, e.a,
				       NULL, 0, now);
		if (rc < 0)
			return rc;
		out->expired++;
	}
	if ((rc = mdb_cursor_del(cur, 0)) != 0)
		return map_mdb_error(rc, "expire");
	if ((rc = store_summary_forget(w->s, &w->sum, z->id, &p)) < 0)
		return rc;
	store_writer_zone_of(w, z)->changed = true;
	return 1;
}

/* One batch of the expiry sweep of zone_name from key (in/out: where to go on;
 * *done when the zone's end was reached). */
static int expire_batch(struct store *s, const char *zone_name, uint32_t now, uint32_t batch,
			uint8_t *resume, size_t *resume_len, bool *done,
			struct store_expire_result *out)
{
	struct store_writer *w;
	struct store_zone *z;
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	uint32_t n = 0;
	int rc;

	if ((rc = store_writer_begin(s, &w)) < 0)
		return rc;
	rc = store_zone_read(w->txn, s->meta, zone_name, &(struct store_zone){ 0 });
	if (rc == DNSBL_ENOTFOUND) {
		store_writer_abort(w);
		*done = true;
		return 0;
	}
	if (rc < 0 || (rc = store_writer_zone(w, zone_name, &z)) < 0)
		goto fail;
	if ((rc = mdb_cursor_open(w->txn, s->entries, &cur)) != 0) {
		rc = map_mdb_error(rc, "cursor");
		goto fail;
	}
	if (*resume_len == 0) {
		resume[0] = (uint8_t)(z->id >> 8);
		resume[1] = (uint8_t)z->id;
		*resume_len = 2;
	}
	k.mv_size = *resume_len;
	k.mv_data = resume;
	*done = true;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		const uint8_t *kb = k.mv_data;
		if (k.mv_size < 4 || kb[0] != (uint8_t)(z->id >> 8) || kb[1] != (uint8_t)z->id)
			break;
		if (n == batch) {
			memcpy(resume, kb, k.mv_size < KEY_MAX ? k.mv_size : KEY_MAX);
			*resume_len = k.mv_size < KEY_MAX ? k.mv_size : KEY_MAX;
			*done = false;
			break;
		}
		if ((rc = expire_one(w, z, cur, &k, &v, now, out)) < 0)
			goto fail;
		n += (uint32_t)rc; /* 1: deleted */
	}
	if (rc != 0 && rc != MDB_NOTFOUND && *done) {
		rc = map_mdb_error(rc, "expire scan");
		goto fail;
	}
	mdb_cursor_close(cur);
	return store_writer_commit(w);
fail:
	if (cur != NULL)
		mdb_cursor_close(cur);
	store_writer_abort(w);
	return rc;
}

/* Deletes up to batch history records older than before; *done at the end. */
static int prune_batch(struct store *s, uint32_t before, uint32_t batch, bool *done,
		       uint64_t *pruned)
{
	struct store_writer *w;
	MDB_cursor *cur;
	MDB_val k, v;
	uint32_t n = 0;
	int rc;

	if ((rc = store_writer_begin(s, &w)) < 0)
		return rc;
	if ((rc = mdb_cursor_open(w->txn, s->history, &cur)) != 0) {
		store_writer_abort(w);
		return map_mdb_error(rc, "cursor");
	}
	*done = true;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		struct store_event_rec ev;
		uint8_t ik[KEY_MAX + SEQ_BYTES];
		if (store_history_decode(&k, &v, &ev) == 0) {
			if (ev.time >= before)
				break;
			if (n == batch) {
				*done = false;
				break;
			}
			size_t kl = store_key_encode(ik, ev.zone_id, &ev.prefix);
			memcpy(ik + kl, k.mv_data, SEQ_BYTES);
			MDB_val ikv = { kl + SEQ_BYTES, ik };
			int drc = mdb_del(w->txn, s->histkey, &ikv, NULL);
			if (drc != 0 && drc != MDB_NOTFOUND) {
				rc = drc;
				break;
			}
		}
		if ((rc = mdb_cursor_del(cur, 0)) != 0)
			break;
		(*pruned)++;
		n++;
	}
	mdb_cursor_close(cur);
	if (rc != 0 && rc != MDB_NOTFOUND) {
		store_writer_abort(w);
		return map_mdb_error(rc, "history prune");
	}
	return store_writer_commit(w);
}

int store_expire(struct store *s, const char *zone_name, uint32_t now,
		 uint32_t history_before, uint32_t batch, struct store_expire_result *out)
{
	uint8_t resume[KEY_MAX];
	size_t resume_len = 0;
	bool done = false;
	int rc;

	if (batch == 0)
		batch = 1;
	while (!done) {
		if ((rc = expire_batch(s, zone_name, now, batch, resume, &resume_len, &done,
				       out)) < 0)
			return rc;
	}
	if (history_before == 0)
		return 0;
	return store_history_prune(s, history_before, batch, &out->history_pruned);
}

int store_history_prune(struct store *s, uint32_t before, uint32_t batch, uint64_t *pruned)
{
	bool done = false;
	int rc;

	if (batch == 0)
		batch = 1;
	while (!done) {
		if ((rc = prune_batch(s, before, batch, &done, pruned)) < 0)
			return rc;
	}
	return 0;
}
