/* zonemap_view_at: the older view a secondary at some serial holds, from the store's
 * journal. A zone's serial is the sum of its sources' store serials (its own list,
 * its exemption list, a combined zone's members' and theirs; a list exempting several
 * members counts as often), and each commit moves each source it changes to the
 * serial its journal record holds, so undoing whole commits newest first (across the
 * sources, in commit order) walks back through exactly the serials the zone has had.
 * A view is only built where every source keeps a record at or before it: that
 * record's time is what the older transfer was decided at (zonemap_commit_time). */
#include "zonemap_impl.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "grow.h"

#define ARENA_BLOCK 65536

struct arena_block {
	struct arena_block *next;
	size_t used;
	uint8_t data[ARENA_BLOCK];
};

/* A source zone's journal records, newest first. */
struct source_log {
	struct store_zone rec;
	unsigned weight;     /* how often the zone's serial counts its serial */
	uint32_t serial;     /* its store serial in the view being built */
	struct store_journal_rec *recs;
	size_t n, cap, next; /* next: the newest record not undone */
	struct zonemap_change *ch;
	size_t nch, chcap;
};

struct view_build {
	struct store_reader *r;
	struct source_log src[2 * CONFIG_MAX_MEMBERS];
	unsigned nsrc;
	struct arena_block *arena;
	uint64_t max_changes;
	uint64_t changes;
	int err;
};

static int collect_rec(void *arg, const struct store_journal_rec *rec)
{
	struct source_log *s = arg;

	struct store_journal_rec *recs = grow_array(s->recs, &s->cap, s->n + 1, sizeof(*recs), 64);
	if (recs == NULL)
		return DNSBL_ENOMEM;
	s->recs = recs;
	s->recs[s->n++] = *rec;
	return rec->overflow ? 1 : 0; /* nothing older can be undone past it */
}

static void *arena_copy(struct view_build *b, const void *p, size_t n)
{
	if (n == 0)
		return NULL;
	if (n > ARENA_BLOCK)
		return NULL;
	if (b->arena == NULL || b->arena->used + n > ARENA_BLOCK) {
		struct arena_block *nb = malloc(sizeof(*nb));
		if (nb == NULL)
			return NULL;
		nb->next = b->arena;
		nb->used = 0;
		b->arena = nb;
	}
	void *out = b->arena->data + b->arena->used;
	memcpy(out, p, n);
	b->arena->used += n;
	return out;
}

struct change_sink {
	struct view_build *b;
	struct source_log *s;
};

static int collect_change(void *arg, const struct store_journal_change *c)
{
	struct change_sink *k = arg;
	struct source_log *s = k->s;

	if (c->key.family != ADDR_FAMILY_V4 && c->key.family != ADDR_FAMILY_V6)
		return DNSBL_EINVAL;
	if (++k->b->changes > k->b->max_changes)
		return DNSBL_ERANGE;
	struct zonemap_change *ch = grow_array(s->ch, &s->chcap, s->nch + 1, sizeof(*ch), 256);
	if (ch == NULL)
		return DNSBL_ENOMEM;
	s->ch = ch;
	struct zonemap_change *z = &s->ch[s->nch++];
	z->key = c->key;
	z->existed = c->existed;
	memset(&z->old, 0, sizeof(z->old));
	if (c->existed) {
		/* the walk reads flags, A, TXT and the state's inputs; the texts are copied
		 * since the journal's decoder may hand out its own buffers */
		z->old = c->old;
		z->old.reason = NULL;
		z->old.reason_len = 0;
		z->old.txt = arena_copy(k->b, c->old.txt, c->old.txt_len);
		z->old.recent = arena_copy(k->b, c->old.recent, (size_t)c->old.nrecent * 4);
		if ((c->old.txt_len > 0 && z->old.txt == NULL) ||
		    (c->old.nrecent > 0 && z->old.recent == NULL))
			return DNSBL_ENOMEM;
	}
	return 0;
}

/* The source whose newest record not yet undone is the newest of all; NULL if none. */
static struct source_log *newest(struct view_build *b)
{
	struct source_log *best = NULL;

	for (unsigned i = 0; i < b->nsrc; i++) {
		struct source_log *s = &b->src[i];
		if (s->next < s->n && (best == NULL || s->recs[s->next].txn > best->recs[best->next].txn))
			best = s;
	}
	return best;
}

static int add_source(void *arg, const struct store_zone *z)
{
	struct view_build *b = arg;

	for (unsigned i = 0; i < b->nsrc; i++)
		if (b->src[i].rec.id == z->id) {
			b->src[i].weight++; /* one list exempting several members */
			return 0;
		}
	struct source_log *s = &b->src[b->nsrc++];
	memset(s, 0, sizeof(*s));
	s->rec = *z;
	s->weight = 1;
	s->serial = z->serial;
	int rc = store_journal_walk(b->r, z, collect_rec, s);
	return rc < 0 ? rc : 0;
}

static void build_free(struct view_build *b)
{
	for (unsigned i = 0; i < b->nsrc; i++) {
		free(b->src[i].recs);
		free(b->src[i].ch);
	}
	while (b->arena != NULL) {
		struct arena_block *n = b->arena->next;
		free(b->arena);
		b->arena = n;
	}
}

/* Undoes whole commits, newest first, until the sources' serials add up to from. */
static int undo_to(struct view_build *b, uint32_t from)
{
	uint32_t serial = 0;

	for (unsigned i = 0; i < b->nsrc; i++)
		serial += b->src[i].weight * b->src[i].serial;
	while (serial != from) {
		struct source_log *s = newest(b);
		if (s == NULL)
			return DNSBL_ENOTFOUND; /* the journal does not reach back that far */
		uint64_t txn = s->recs[s->next].txn;
		/* every source's record of that commit */
		for (unsigned i = 0; i < b->nsrc; i++) {
			struct source_log *t = &b->src[i];
			if (t->next >= t->n || t->recs[t->next].txn != txn)
				continue;
			/* past an overflow, or past a source's oldest record (whose serial and
			 * time before it are not known: it may have been pruned, or created
			 * the zone), the view cannot be built */
			if (t->recs[t->next].overflow || t->next + 1 >= t->n)
				return DNSBL_ENOTFOUND;
			t->next++;
			uint32_t before = t->recs[t->next].serial;
			serial -= t->weight * (t->serial - before);
			t->serial = before;
		}
		/* from lies inside one commit, or is newer than now: not a serial we had */
		if ((int32_t)(serial - from) < 0)
			return DNSBL_ENOTFOUND;
	}
	return 0;
}

int zonemap_view_at(struct store_reader *r, const struct config *cfg,
		    const struct zone_config *zc, uint32_t from, uint64_t max_changes,
		    struct zonemap_view *v)
{
	static _Thread_local struct zm_run run;
	struct view_build *b = calloc(1, sizeof(*b));
	int rc;

	memset(v, 0, sizeof(*v));
	if (b == NULL)
		return DNSBL_ENOMEM;
	b->max_changes = max_changes;
	b->r = r;
	memset(&run, 0, sizeof(run));
	run.r = r;
	if ((rc = zm_members_load(&run, cfg, zc)) < 0)
		goto fail;
	if (run.type == ZONE_TYPE_NAME) {
		rc = DNSBL_EINVAL;
		goto fail;
	}
	if ((rc = zm_sources_foreach(&run, add_source, b)) < 0)
		goto fail;
	if ((rc = undo_to(b, from)) < 0)
		goto fail;
	for (unsigned i = 0; i < b->nsrc; i++)
		if (b->src[i].next < b->src[i].n && b->src[i].recs[b->src[i].next].time > v->old_time)
			v->old_time = b->src[i].recs[b->src[i].next].time;
	/* the changes of the commits undone, oldest commit first, so that a key's first
	 * change (kept by zonemap_changes_sort) is its value before all of them */
	for (unsigned i = 0; i < b->nsrc; i++) {
		struct source_log *s = &b->src[i];
		struct change_sink sink = { b, s };
		for (size_t k = s->next; k-- > 0;) {
			v->commits++;
			if ((rc = store_journal_changes(&s->recs[k], collect_change, &sink)) != 0)
				goto fail;
		}
		s->nch = zonemap_changes_sort(s->ch, s->nch);
		v->ov.src[v->ov.nsources++] =
			(struct zonemap_source_changes){ s->rec.id, s->nch, s->ch };
	}
	v->changes = b->changes;
	v->priv = b;
	return 0;
fail:
	build_free(b);
	free(b);
	memset(v, 0, sizeof(*v));
	return rc;
}

void zonemap_view_free(struct zonemap_view *v)
{
	if (v->priv != NULL) {
		build_free(v->priv);
		free(v->priv);
	}
	memset(v, 0, sizeof(*v));
}

struct newest {
	struct store_reader *r;
	uint32_t time;
};

static int newest_rec(void *arg, const struct store_journal_rec *rec)
{
	struct newest *n = arg;
	if (rec->time > n->time)
		n->time = rec->time;
	return 1; /* the newest record is the first: enough */
}

static int newest_of(void *arg, const struct store_zone *z)
{
	struct newest *n = arg;
	int rc = store_journal_walk(n->r, z, newest_rec, n);
	return rc < 0 ? rc : 0;
}

uint32_t zonemap_commit_time(struct store_reader *r, const struct config *cfg,
			     const struct zone_config *zc)
{
	static _Thread_local struct zm_run run;
	struct newest n = { r, 0 };

	memset(&run, 0, sizeof(run));
	run.r = r;
	if (zm_members_load(&run, cfg, zc) < 0 || zm_sources_foreach(&run, newest_of, &n) < 0)
		return 0;
	return n.time;
}

uint32_t zonemap_transfer_time(struct store_reader *r, const struct config *cfg,
			       const struct zone_config *zc)
{
	uint32_t t = zonemap_commit_time(r, cfg, zc);
	return t != 0 ? t : (uint32_t)time(NULL);
}
