/* store_merge: the LMDB input and output around the listing rules of
 * lib/lifecycle.h. It reads the old entry (and, for a new listing, the tombstone),
 * lets lifecycle_apply decide, then writes the entry, the history, the replacement
 * mark, the summary and the zone's lens in the writer's transaction. */
#include "store_impl.h"

#include <string.h>
#include <time.h>

#include "err.h"
#include "lifecycle.h"

/* The stored entry under key k, its texts and recent times copied into *copy (the
 * page changes under the put that follows). *found false when there is none. */
struct merge_old {
	bool found;
	struct store_entry e;
	char reason[STORE_REASON_MAX], txt[STORE_TXT_MAX];
	uint8_t recent[4 * STORE_RECENT_MAX];
};

static int merge_read_old(struct store_writer *w, MDB_val *k, bool after, struct merge_old *o)
{
	MDB_val v;
	int rc;

	o->found = false;
	if (after)
		return 0; /* sorts after every key: absent */
	rc = mdb_get(w->txn, w->s->entries, k, &v);
	if (rc == MDB_NOTFOUND || (rc == 0 && store_entry_decode(&v, &o->e) < 0))
		return 0;
	if (rc != 0)
		return map_mdb_error(rc, "merge");
	memcpy(o->reason, o->e.reason, o->e.reason_len);
	o->e.reason = o->reason;
	if (o->e.flags & STORE_F_TXT) {
		memcpy(o->txt, o->e.txt, o->e.txt_len);
		o->e.txt = o->txt;
	}
	if (o->e.nrecent > 0) {
		memcpy(o->recent, o->e.recent, 4 * (size_t)o->e.nrecent);
		o->e.recent = o->recent;
	}
	o->found = true;
	return 0;
}

/* The tombstone under key k when the put makes a new listing and one can exist;
 * *found false otherwise. */
static int merge_read_tomb(struct store_writer *w, MDB_val *k, const struct store_put *put,
			   struct store_tomb *tomb, bool *found)
{
	bool any = put->actor == STORE_ACTOR_OPERATOR;
	MDB_val tv;
	int rc;

	*found = false;
	if (!any && (rc = store_tombs_any(w, &any)) < 0)
		return rc;
	if (!any)
		return 0;
	rc = mdb_get(w->txn, w->s->tombs, k, &tv);
	if (rc == 0 && store_tomb_decode(&tv, tomb) == 0)
		*found = true;
	else if (rc != 0 && rc != MDB_NOTFOUND)
		return map_mdb_error(rc, "tombstone");
	return 0;
}

/* Writes what lifecycle_apply decided for key k (entry key mp) of zone z. */
static int merge_write(struct store_writer *w, struct store_zone *z, MDB_val *k,
		       const struct entry_key *mp, bool after, const struct store_put *put,
		       const struct merge_old *o, const struct lifecycle_result *res, uint32_t now)
{
	uint8_t value[VALUE_MAX];
	int rc;

	if (res->drop_tomb && (rc = mdb_del(w->txn, w->s->tombs, k, NULL)) != 0)
		return map_mdb_error(rc, "tombstone");
	if (res->expired_old &&
	    (rc = store_history_add(w, z->id, STORE_EV_EXPIRE, STORE_ACTOR_EXPIRE, 0, mp, o->e.a,
				    NULL, 0, now)) < 0)
		return rc;
	MDB_val v = { store_entry_encode(value, &res->entry), value };
	if ((rc = store_put_hinted(w->txn, w->s->entries, &w->entries_hint, k, &v, after)) != 0)
		return map_mdb_error(rc, "merge");
	if (res->event != 0 &&
	    (rc = store_history_add(w, z->id, (uint8_t)res->event, put->actor, put->source_id, mp,
				    res->entry.a, res->entry.reason, res->entry.reason_len,
				    now)) < 0)
		return rc;
	if (w->replacing && z == w->replace_zone) {
		MDB_val empty = { 0, NULL };
		if ((rc = mdb_put(w->txn, w->replace_dbi, k, &empty, 0)) != 0)
			return map_mdb_error(rc, "replace mark");
	}
	if ((rc = store_summary_add(w->s, w->txn, &w->sum, z->id, mp)) < 0)
		return rc;
	store_lens_add(&z->lens, mp);
	return 0;
}

int store_merge(struct store_writer *w, struct store_zone *z, const struct entry_key *p,
		const struct store_put *put, int *outcome)
{
	uint8_t key[KEY_MAX];
	struct writer_zone *wz = store_writer_zone_of(w, z);
	struct merge_old old;
	struct store_tomb tomb;
	struct lifecycle_result res;
	struct entry_key mp;
	bool after = false, has_tomb = false;
	uint32_t now = put->now ? put->now : (uint32_t)time(NULL);
	int rc;

	if (!store_key_valid(p) || wz == NULL)
		return DNSBL_EINVAL;
	if (put->reason_len > STORE_REASON_MAX || put->txt_len > STORE_TXT_MAX)
		return DNSBL_ERANGE;
	MDB_val k = { store_key_encode(key, z->id, p), key };
	store_key_decode(key, k.mv_size, &mp); /* p, masked */
	if ((rc = store_hint_after(w->txn, w->s->entries, &w->entries_hint, &k, &after)) < 0 ||
	    (rc = merge_read_old(w, &k, after, &old)) < 0)
		return rc;
	if (lifecycle_starts_new(old.found ? &old.e : NULL, now) &&
	    (rc = merge_read_tomb(w, &k, put, &tomb, &has_tomb)) < 0)
		return rc;
	lifecycle_apply(old.found ? &old.e : NULL, has_tomb ? &tomb : NULL, put, now, &res);
	if (res.write) {
		store_journal_note(w, wz, key, k.mv_size, old.found ? &old.e : NULL);
		if ((rc = merge_write(w, z, &k, &mp, after, put, &old, &res, now)) < 0)
			return rc;
		wz->changed = true;
	}
	if (outcome)
		*outcome = res.outcome;
	return 0;
}
