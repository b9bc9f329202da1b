/* The name walk of zonemap: every entry's name and its parents (the names that
 * exist in the zone), in the order the store keeps them, a parent before its
 * subdomains. Each such name gets what dnsbld answers it, found by lib/listing
 * itself, and a wildcard below it gets what dnsbld answers a name below it that no
 * entry names (one probe per name). A name that ends up with nothing below a
 * wildcard's owner gets a placeholder, so that the wildcard does not answer for it. */
#include "zonemap_impl.h"

#include <stdlib.h>
#include <string.h>

#include "dname.h"
#include "err.h"
#include "listing.h"

enum zm_kind { ZM_NXDOMAIN, ZM_NODATA, ZM_LISTED };

struct zm_nframe {
	size_t len; /* key form length of the name */
	bool exists, wild;
	enum zm_kind at;
};

struct zm_nstream {
	struct store_walk *w;
	bool live;
	struct entry_key head;
};

struct zm_namewalk {
	struct zm_run *run;
	unsigned nstreams;
	struct zm_nstream streams[2 * CONFIG_MAX_MEMBERS];
	unsigned next_extra; /* the test names, merged in */
	uint8_t path[DNAME_KEY_MAX];  /* the name of the top frame (and its parents) */
	uint8_t probe[DNAME_KEY_MAX]; /* a name below it */
	uint8_t next[DNAME_KEY_MAX];  /* the walk's next name, copied out */
	struct zm_nframe frames[DNAME_LABELS_MAX + 2];
	unsigned top;
	struct zm_ent ents[CONFIG_MAX_MEMBERS]; /* an answer's entries, while written */
};

/* The key forms of the RFC 5782 test names, in key order. */
static const struct { const uint8_t *name; size_t len; } test_names[] = {
	{ (const uint8_t *)"\x07invalid", 8 },
	{ (const uint8_t *)"\x04test", 5 },
};

static int nstream_advance(struct zm_namewalk *w, struct zm_nstream *s)
{
	struct store_entry e;
	int rc;

	while ((rc = store_walk_next(s->w, &s->head, &e)) == 1) {
		int st = store_entry_state(&e, w->run->now);
		if (st == STORE_STATE_LISTED || st == STORE_STATE_EXCLUDED) {
			w->run->st.entries++;
			s->live = true;
			return 0;
		}
	}
	s->live = false;
	return rc;
}

static int name_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);
	return c != 0 ? c : (int)alen - (int)blen;
}

/* The next name in key order (NULL at the end); advances past it. */
static int name_next(struct zm_namewalk *w, const uint8_t **name, size_t *len)
{
	struct zm_nstream *best = NULL;

	for (unsigned i = 0; i < w->nstreams; i++) {
		struct zm_nstream *s = &w->streams[i];
		if (s->live && (best == NULL || name_cmp(s->head.name, s->head.name_len,
							 best->head.name, best->head.name_len) < 0))
			best = s;
	}
	if (w->next_extra < 2) {
		const uint8_t *t = test_names[w->next_extra].name;
		size_t tl = test_names[w->next_extra].len;
		if (best == NULL || name_cmp(t, tl, best->head.name, best->head.name_len) <= 0) {
			w->next_extra++;
			*name = t;
			*len = tl;
			return 1;
		}
	}
	if (best == NULL)
		return 0;
	/* the walk's bytes stay valid while the snapshot does; copy to advance */
	memcpy(w->next, best->head.name, best->head.name_len);
	*name = w->next;
	*len = best->head.name_len;
	int rc = nstream_advance(w, best);
	return rc < 0 ? rc : 1;
}

/* What dnsbld answers the name with key form name[0..len), into *v. */
static int oracle(struct zm_namewalk *w, const uint8_t *name, size_t len, struct zm_val *v,
		  enum zm_kind *kind)
{
	struct listing_key key = { .count = 1 };
	bool below = false;

	key.keys[0] = (struct entry_key){ .family = ADDR_FAMILY_NAME, .kind = DNAME_EXACT,
					  .name_len = (uint8_t)len, .name = name };
	memset(v, 0, sizeof(*v));
	for (unsigned i = 0; i < w->run->nmembers; i++) {
		const struct zm_member *m = &w->run->members[i];
		struct listing_result res;
		int rc = listing_query(w->run->r, m->has_block ? &m->block : NULL,
				       m->has_exempt ? &m->exempt : NULL, &key, w->run->now, &res);
		if (rc < 0)
			return rc;
		if (rc == LISTING_TEST_LISTED) {
			v->m[i] = ZM_TEST;
		} else if (rc == LISTING_LISTED) {
			const struct store_entry *e = &res.match.entry;
			w->ents[i] = (struct zm_ent){ res.match.prefix, e->flags, e->a, e->txt,
						      e->txt_len };
			v->m[i] = &w->ents[i];
		} else if (rc == LISTING_EMPTY_NON_TERMINAL) {
			below = true;
		}
	}
	*kind = !zm_val_none(v, w->run->nmembers) ? ZM_LISTED : below ? ZM_NODATA : ZM_NXDOMAIN;
	return 0;
}

/* The wire owner (labels bottom-up, "*" first when wild) of key form name[0..len). */
static size_t owner_of(const uint8_t *name, size_t len, bool wild, uint8_t *out)
{
	size_t pos = len + (wild ? 2 : 0), i = 0;

	while (i < len) {
		size_t l = (size_t)name[i] + 1;
		pos -= l;
		memcpy(out + pos, name + i, l);
		i += l;
	}
	if (wild) {
		out[0] = 1;
		out[1] = '*';
	}
	return len + (wild ? 2 : 0);
}

/* Opens the frame of the name path[0..len) (a child of the top frame). */
static int frame_open(struct zm_namewalk *w, size_t len)
{
	struct zm_nframe *f = &w->frames[++w->top];
	uint8_t owner[DNAME_KEY_MAX + 2];
	char text[DNAME_TEXT_MAX];
	struct zm_val v;
	enum zm_kind kind;
	int rc;

	*f = (struct zm_nframe){ .len = len };
	if ((rc = oracle(w, w->path, len, &v, &f->at)) < 0)
		return rc;
	if (f->at == ZM_LISTED) {
		struct entry_key k = { .family = ADDR_FAMILY_NAME, .kind = DNAME_EXACT,
				       .name_len = (uint8_t)len, .name = w->path };
		dname_format(&k, 0, text, sizeof(text));
		f->exists = true;
		rc = zm_emit_val(w->run, owner, owner_of(w->path, len, false, owner), &v, text, NULL,
				 true);
		if (rc != 0)
			return rc;
	}
	/* a name below it that no entry names: a label no entry has */
	if (len + 2 > DNAME_KEY_MAX)
		return 0; /* no room for a name below it */
	size_t plen = DNAME_KEY_MAX - len - 1;
	if (plen > 63)
		plen = 63;
	memcpy(w->probe, w->path, len);
	w->probe[len] = (uint8_t)plen;
	memset(w->probe + len + 1, '-', plen);
	if ((rc = oracle(w, w->probe, len + 1 + plen, &v, &kind)) < 0)
		return rc;
	if (kind == ZM_NXDOMAIN)
		return 0;
	f->exists = f->wild = true;
	size_t olen = owner_of(w->path, len, true, owner);
	return kind == ZM_LISTED ? zm_emit_val(w->run, owner, olen, &v, "", NULL, false)
				 : zm_emit_placeholder(w->run, owner, olen);
}

/* Closes the top frame: a name that must exist, or that a wildcard above would
 * answer for, gets the placeholder when nothing else made it exist. */
static int frame_close(struct zm_namewalk *w, const uint8_t *name)
{
	struct zm_nframe *f = &w->frames[w->top], *p = &w->frames[w->top - 1];
	uint8_t owner[DNAME_KEY_MAX + 2];
	int rc = 0;

	if (!f->exists && (f->at == ZM_NODATA || p->wild)) {
		rc = zm_emit_placeholder(w->run, owner, owner_of(name, f->len, false, owner));
		f->exists = true;
	}
	p->exists |= f->exists;
	w->top--;
	return rc;
}

/* Walks to name[0..len): closes the frames that are not its parents, opens one
 * frame per label from there down. */
static int name_visit(struct zm_namewalk *w, const uint8_t *name, size_t len)
{
	int rc;

	while (w->top > 0 && (w->frames[w->top].len > len ||
			      memcmp(w->path, name, w->frames[w->top].len) != 0))
		if ((rc = frame_close(w, w->path)) != 0)
			return rc;
	size_t at = w->frames[w->top].len;
	if (at == len && w->top > 0)
		return 0; /* the same name again (another kind, or another list) */
	memcpy(w->path + at, name + at, len - at);
	while (at < len) {
		at += (size_t)name[at] + 1;
		if ((rc = frame_open(w, at)) != 0)
			return rc;
	}
	return 0;
}

static int streams_open(struct zm_namewalk *w)
{
	for (unsigned i = 0; i < w->run->nmembers; i++) {
		const struct zm_member *m = &w->run->members[i];
		const struct store_zone *z[2] = { m->has_block ? &m->block : NULL,
						  m->has_exempt ? &m->exempt : NULL };
		for (unsigned j = 0; j < 2; j++) {
			if (z[j] == NULL)
				continue;
			struct zm_nstream *s = &w->streams[w->nstreams];
			int rc = store_walk_begin(w->run->r, z[j], ADDR_FAMILY_NAME, &s->w);
			if (rc < 0)
				return rc;
			w->nstreams++;
			if ((rc = nstream_advance(w, s)) < 0)
				return rc;
		}
	}
	return 0;
}

int zm_walk_names(struct zm_run *run)
{
	struct zm_namewalk *w = calloc(1, sizeof(*w));
	const uint8_t *name;
	size_t len;
	int rc;

	if (w == NULL)
		return DNSBL_ENOMEM;
	w->run = run;
	w->frames[0].exists = true; /* the apex */
	rc = streams_open(w);
	while (rc == 0 && (rc = name_next(w, &name, &len)) == 1)
		rc = name_visit(w, name, len);
	while (rc == 0 && w->top > 0)
		rc = frame_close(w, w->path);
	for (unsigned i = 0; i < w->nstreams; i++)
		store_walk_end(w->streams[i].w);
	free(w);
	return rc;
}
