/* The IP walk of zonemap: one family's entries (every member's and exemption list's,
 * and for IPv6 the IPv4 ones again below ::ffff:0:0/96) merged in address order,
 * and a stack of frames, one per label of the name being walked: an octet (IPv4) or
 * a nibble (IPv6). A frame gathers what its children get from the entries of its
 * band (prefix lengths up to its children's), descends into a child when a longer
 * entry lies inside it, and when the walk leaves it writes its children's records:
 * a wildcard for the most common answer when none of its children is unlisted, the
 * others one by one (see zonemap.h). Children nothing touched share the answer
 * inherited from above, so a sparse frame costs what its entries cost. */
#include "zonemap_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "grow.h"

#define ZM_SOURCES (4 * CONFIG_MAX_MEMBERS) /* block and exempt, IPv6 and mapped IPv4 */
#define ZM_OWNER_MAX 80                      /* 32 nibble labels, a child's, "*" */

static const uint8_t mapped_prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

struct zm_slot {
	uint8_t test;  /* 1: the listed test point, 2: the unlisted one (leaves) */
	bool touched;  /* an entry of the frame's band, a test point or a descent */
	bool visited;  /* a frame was opened for it */
	bool exists;   /* that frame wrote something */
};

struct zm_frame {
	unsigned depth;
	uint8_t addr[16]; /* the frame's prefix: depth labels' bits */
	bool mapped;      /* inside ::ffff:0:0/96: answers come from the IPv4 sources */
	bool wild_ok;     /* a wildcard below it matches no name of the other family */
	bool exists;
	bool covered;  /* inside a key of the run's filter */
	bool relevant; /* no filter, covered, or holding a filter key: write records */
	uint8_t owner[ZM_OWNER_MAX];
	size_t owner_len;
	uint32_t owner_id;  /* the suffix id of its name (zonemap_rr) */
	uint32_t parent_id; /* its parent's (0: the root has none) */
	const struct zm_ent **inh; /* [sources]: what covers the whole frame */
	const struct zm_ent **src; /* [fanout * sources]: the band's, NULL: inherit */
	struct zm_slot *slot;      /* [fanout] */
	uint16_t *touched;         /* [fanout]: indices of touched slots */
	unsigned ntouched;
	struct zm_ent *ents; /* the band's entries (stable: referenced by src) */
	unsigned nents, cap;
};

/* One merged input: a walk of one source's entries, with an older view's changes
 * (zonemap_run_view) read in their place. */
struct zm_stream {
	struct store_walk *w;
	int src;        /* source index */
	bool mapped;    /* IPv4 entries read as ::ffff:a.b.c.d */
	bool live;
	struct zm_ent head;
	struct entry_key at; /* head's place in the walk (the mapped form) */
	const struct zonemap_change *ov, *ov_end; /* the older view's, in walk order */
	bool store_live;      /* the snapshot's next entry, read ahead: */
	struct entry_key store_k;
	struct store_entry store_e;
};

struct zm_ipwalk {
	struct zm_run *run;
	uint8_t family;
	unsigned g, fanout, levels, bits; /* bits per label, children, frames, address bits */
	unsigned nsrc;
	unsigned nstreams;
	struct zm_stream streams[ZM_SOURCES];
	struct entry_key tests[2]; /* the test points, in order: unlisted, listed */
	unsigned next_test;
	struct zm_frame frames[33];
	unsigned top;
	unsigned skip_top; /* non-zero: the frame at this index is settled (frame_pop) */
};

/* Label digit k (an octet or a nibble) of addr. */
static unsigned digit(const struct zm_ipwalk *w, const uint8_t *addr, unsigned k)
{
	if (w->g == 8)
		return addr[k];
	return (addr[k / 2] >> (k % 2 ? 0 : 4)) & 0xf;
}

static void set_digit(const struct zm_ipwalk *w, uint8_t *addr, unsigned k, unsigned d)
{
	if (w->g == 8)
		addr[k] = (uint8_t)d;
	else if (k % 2)
		addr[k / 2] = (uint8_t)((addr[k / 2] & 0xf0) | d);
	else
		addr[k / 2] = (uint8_t)((addr[k / 2] & 0x0f) | d << 4);
}

/* Writes child d's label (wire) into out; returns its length. */
static size_t label_put(const struct zm_ipwalk *w, unsigned d, uint8_t *out)
{
	size_t n = 0;

	if (w->g == 4) {
		out[++n] = (uint8_t)"0123456789abcdef"[d & 0xf];
	} else {
		if (d >= 100)
			out[++n] = (uint8_t)('0' + d / 100);
		if (d >= 10)
			out[++n] = (uint8_t)('0' + d / 10 % 10);
		out[++n] = (uint8_t)('0' + d % 10);
	}
	out[0] = (uint8_t)n;
	return n + 1;
}

/* Whether a wildcard below child d of frame f (at depth f->depth + 1) is safe: an
 * IPv4 name with a label of two or more digits is never an IPv6 name; an IPv6 name
 * with a letter or five or more labels never an IPv4 one. */
static bool child_wild_ok(const struct zm_ipwalk *w, const struct zm_frame *f, unsigned d)
{
	return f->wild_ok || d >= 10 || (w->g == 4 && f->depth + 1 >= 4);
}

static bool prefix_has(const uint8_t *addr, unsigned bits, const struct entry_key *p)
{
	unsigned full = bits / 8, rest = bits % 8;

	if (p->len < bits)
		return false;
	for (unsigned i = 0; i < full; i++) /* inline: called for every entry placed */
		if (addr[i] != p->addr[i])
			return false;
	return rest == 0 || ((addr[full] ^ p->addr[full]) & (0xff << (8 - rest))) == 0;
}

/* --- streams --- */

static int overlay_cmp(const struct entry_key *a, const struct entry_key *b)
{
	int c = memcmp(a->addr, b->addr, a->family == ADDR_FAMILY_V6 ? 16 : 4);
	return c != 0 ? c : (int)a->len - (int)b->len;
}

static int store_read_ahead(struct zm_stream *s)
{
	int rc = store_walk_next(s->w, &s->store_k, &s->store_e);

	s->store_live = rc == 1;
	return rc < 0 ? rc : 0;
}

/* The stream's next entry in the view: the snapshot's, or where the older view
 * changed a key, the older entry (or nothing). Returns 1, 0 at the end, or < 0. */
static int view_next(struct zm_stream *s, struct entry_key *k, struct store_entry *e)
{
	int rc;

	for (;;) {
		bool have_ov = s->ov < s->ov_end;
		if (!have_ov) {
			if (!s->store_live)
				return 0;
			*k = s->store_k;
			*e = s->store_e;
			return (rc = store_read_ahead(s)) < 0 ? rc : 1;
		}
		int c = s->store_live ? overlay_cmp(&s->ov->key, &s->store_k) : -1;
		if (c > 0) {
			*k = s->store_k;
			*e = s->store_e;
			return (rc = store_read_ahead(s)) < 0 ? rc : 1;
		}
		const struct zonemap_change *ch = s->ov++;
		if (c == 0 && (rc = store_read_ahead(s)) < 0)
			return rc;
		if (ch->existed) {
			*k = ch->key;
			*e = ch->old;
			return 1;
		}
	}
}

static int stream_advance(struct zm_ipwalk *w, struct zm_stream *s)
{
	struct entry_key k;
	struct store_entry e;
	int rc;

	while ((rc = view_next(s, &k, &e)) == 1) {
		int st = store_entry_state(&e, w->run->now);
		if (st != STORE_STATE_LISTED && st != STORE_STATE_EXCLUDED)
			continue;
		s->at = k;
		if (s->mapped) {
			memset(s->at.addr, 0, sizeof(s->at.addr));
			memcpy(s->at.addr, mapped_prefix, 12);
			memcpy(s->at.addr + 12, k.addr, 4);
			s->at.family = ADDR_FAMILY_V6;
			s->at.len = (uint8_t)(k.len + 96);
		} else if (k.family == ADDR_FAMILY_V6 && k.len >= 96 &&
			   memcmp(k.addr, mapped_prefix, 12) == 0) {
			continue; /* dnsbld answers these addresses from the IPv4 entries */
		}
		s->head = (struct zm_ent){ k, e.flags, e.a, e.txt, e.txt_len };
		w->run->st.entries++;
		s->live = true;
		return 0;
	}
	s->live = false;
	return rc;
}

/* Points s at the older view's changes of zone z in family, if any. */
static void stream_overlay(const struct zm_ipwalk *w, struct zm_stream *s,
			   const struct store_zone *z, uint8_t family)
{
	const struct zonemap_overlay *ov = w->run->ov;

	s->ov = s->ov_end = NULL;
	for (unsigned i = 0; ov != NULL && i < ov->nsources; i++) {
		const struct zonemap_source_changes *sc = &ov->src[i];
		if (sc->zone_id != z->id)
			continue;
		size_t lo = 0, hi;
		while (lo < sc->count && sc->changes[lo].key.family < family)
			lo++;
		for (hi = lo; hi < sc->count && sc->changes[hi].key.family == family; hi++)
			;
		s->ov = sc->changes + lo;
		s->ov_end = sc->changes + hi;
		return;
	}
}

static int stream_open(struct zm_ipwalk *w, const struct store_zone *z, uint8_t family,
		       int src, bool mapped)
{
	struct zm_stream *s = &w->streams[w->nstreams];
	int rc = store_walk_begin(w->run->r, z, family, &s->w);

	if (rc < 0)
		return rc;
	w->nstreams++;
	s->src = src;
	s->mapped = mapped;
	stream_overlay(w, s, z, family);
	if ((rc = store_read_ahead(s)) < 0)
		return rc;
	return stream_advance(w, s);
}

/* Moves stream s past every entry below address addr (the walk's family's bytes). */
static int stream_seek(struct zm_ipwalk *w, struct zm_stream *s, const uint8_t *addr)
{
	size_t nbytes = w->family == ADDR_FAMILY_V6 ? 16 : 4, sbytes = nbytes;
	const uint8_t *target = addr;
	int rc;

	if (!s->live || memcmp(s->at.addr, addr, nbytes) >= 0)
		return 0;
	if (s->mapped) {
		/* a mapped stream's head is inside ::ffff:0:0/96, so addr is too or above */
		if (memcmp(addr, mapped_prefix, 12) != 0) {
			s->live = s->store_live = false;
			s->ov = s->ov_end;
			return 0;
		}
		target = addr + 12;
		sbytes = 4;
	}
	if (s->store_live && memcmp(s->store_k.addr, target, sbytes) < 0) {
		if ((rc = store_walk_seek(s->w, target)) < 0 || (rc = store_read_ahead(s)) < 0)
			return rc;
	}
	while (s->ov < s->ov_end && memcmp(s->ov->key.addr, target, sbytes) < 0)
		s->ov++;
	return stream_advance(w, s);
}

static int key_cmp(const struct entry_key *a, const struct entry_key *b, size_t nbytes)
{
	int c = memcmp(a->addr, b->addr, nbytes);
	return c != 0 ? c : (int)a->len - (int)b->len;
}

/* The next input in address order: a stream (*s) or a test point (*test 1 or 2). */
static const struct entry_key *input_next(struct zm_ipwalk *w, struct zm_stream **s,
					  int *test)
{
	size_t nbytes = w->family == ADDR_FAMILY_V6 ? 16 : 4;
	const struct entry_key *best = NULL;

	*s = NULL;
	*test = 0;
	for (unsigned i = 0; i < w->nstreams; i++) {
		struct zm_stream *c = &w->streams[i];
		if (c->live && (best == NULL || key_cmp(&c->at, best, nbytes) < 0)) {
			best = &c->at;
			*s = c;
		}
	}
	if (w->next_test < 2 &&
	    (best == NULL || key_cmp(&w->tests[w->next_test], best, nbytes) <= 0)) {
		*s = NULL;
		*test = w->next_test == 0 ? 2 : 1;
		return &w->tests[w->next_test];
	}
	return best;
}

/* --- the filter (zonemap_diff) --- */

static int filter_key_cmp(const struct entry_key *a, const struct entry_key *b)
{
	if (a->family != b->family)
		return (int)a->family - (int)b->family;
	int c = memcmp(a->addr, b->addr, a->family == ADDR_FAMILY_V6 ? 16 : 4);
	return c != 0 ? c : (int)a->len - (int)b->len;
}

static int filter_qsort_cmp(const void *a, const void *b)
{
	return filter_key_cmp(a, b);
}

int zm_filter_add(struct zm_filter *f, const struct entry_key *k)
{
	if (k->family != ADDR_FAMILY_V4 && k->family != ADDR_FAMILY_V6)
		return 0;
	struct entry_key *keys = grow_array(f->keys, &f->cap, f->n + 2, sizeof(*keys), 256);
	if (keys == NULL)
		return DNSBL_ENOMEM;
	f->keys = keys;
	struct entry_key *o = &f->keys[f->n++];
	memset(o, 0, sizeof(*o));
	o->family = k->family;
	o->len = k->len;
	memcpy(o->addr, k->addr, k->family == ADDR_FAMILY_V6 ? 16 : 4);
	if (k->family == ADDR_FAMILY_V4) {
		/* the IPv6 walk answers ::ffff:0:0/96 from the IPv4 entries */
		struct entry_key *m = &f->keys[f->n++];
		memset(m, 0, sizeof(*m));
		m->family = ADDR_FAMILY_V6;
		m->len = (uint8_t)(k->len + 96);
		memcpy(m->addr, mapped_prefix, 12);
		memcpy(m->addr + 12, k->addr, 4);
	}
	return 0;
}

void zm_filter_finish(struct zm_filter *f)
{
	if (f->n > 1)
		qsort(f->keys, f->n, sizeof(*f->keys), filter_qsort_cmp);
}

void zm_filter_free(struct zm_filter *f)
{
	free(f->keys);
	memset(f, 0, sizeof(*f));
}

/* The index of the first filter key not below k. */
static size_t filter_lower(const struct zm_filter *f, const struct entry_key *k)
{
	size_t lo = 0, hi = f->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (filter_key_cmp(&f->keys[mid], k) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* addr's first bits as a key of the walk's family. */
static void key_of(const struct zm_ipwalk *w, const uint8_t *addr, unsigned bits,
		   struct entry_key *k)
{
	memset(k, 0, sizeof(*k));
	k->family = w->family;
	k->len = (uint8_t)bits;
	memcpy(k->addr, addr, bits / 8);
	if (bits % 8)
		k->addr[bits / 8] = (uint8_t)(addr[bits / 8] & (0xff << (8 - bits % 8)));
}

/* Whether a filter key of length lo_len..hi_len covers the prefix addr/hi_len. */
static bool filter_covers(const struct zm_ipwalk *w, const uint8_t *addr, unsigned lo_len,
			  unsigned hi_len)
{
	const struct zm_filter *f = w->run->filter;

	for (unsigned l = lo_len; l <= hi_len; l++) {
		struct entry_key k;
		key_of(w, addr, l, &k);
		size_t i = filter_lower(f, &k);
		if (i < f->n && filter_key_cmp(&f->keys[i], &k) == 0)
			return true;
	}
	return false;
}

/* Whether a filter key lies inside (or is) the prefix addr/bits. */
static bool filter_within(const struct zm_ipwalk *w, const uint8_t *addr, unsigned bits)
{
	const struct zm_filter *f = w->run->filter;
	struct entry_key k;

	key_of(w, addr, bits, &k);
	k.len = 0;
	size_t i = filter_lower(f, &k);
	return i < f->n && f->keys[i].family == w->family && prefix_has(k.addr, bits, &f->keys[i]);
}

/* Sets the root frame's filter flags. */
static void filter_root(struct zm_ipwalk *w)
{
	struct zm_frame *root = &w->frames[0];
	uint8_t zero[16] = { 0 };

	root->covered = w->run->filter != NULL && filter_covers(w, zero, 0, 0);
	root->relevant = w->run->filter == NULL || root->covered || filter_within(w, zero, 0);
}

/* --- frames --- */

static const struct zm_ent *slot_src(const struct zm_ipwalk *w, const struct zm_frame *f,
				     unsigned c, unsigned s)
{
	const struct zm_ent *e = f->src[c * w->nsrc + s];
	return e != NULL ? e : f->inh[s];
}

/* What member i answers given its block entry b and exemption entry x. */
static const struct zm_ent *member_answer(const struct zm_ent *b, const struct zm_ent *x)
{
	if (b == NULL || (b->flags & STORE_F_EXCLUDE))
		return NULL;
	if (x != NULL && !(x->flags & STORE_F_EXCLUDE))
		return NULL; /* exempt: the allowlist wins */
	return b;
}

/* The answer of child c of frame f (c < 0: of an untouched child, from above). */
static void child_val(const struct zm_ipwalk *w, const struct zm_frame *f, int c,
		      struct zm_val *v)
{
	unsigned base = f->mapped ? 2 * w->run->nmembers : 0;

	memset(v, 0, sizeof(*v));
	if (c >= 0 && f->slot[c].test) {
		for (unsigned i = 0; i < w->run->nmembers && f->slot[c].test == 1; i++)
			v->m[i] = ZM_TEST;
		return;
	}
	for (unsigned i = 0; i < w->run->nmembers; i++) {
		unsigned bs = base + 2 * i, xs = bs + 1;
		const struct zm_ent *b = c >= 0 ? slot_src(w, f, (unsigned)c, bs) : f->inh[bs];
		const struct zm_ent *x = c >= 0 ? slot_src(w, f, (unsigned)c, xs) : f->inh[xs];
		v->m[i] = member_answer(b, x);
	}
}

static bool val_eq(const struct zm_val *a, const struct zm_val *b)
{
	return memcmp(a->m, b->m, sizeof(a->m)) == 0;
}

static void touch(struct zm_frame *f, unsigned c)
{
	if (!f->slot[c].touched) {
		f->slot[c].touched = true;
		f->touched[f->ntouched++] = (uint16_t)c;
	}
}

/* The address "$" stands for at the full address addr (a mapped one as IPv4). */
static void addr_key(const struct zm_ipwalk *w, const struct zm_frame *f, const uint8_t *addr,
		     struct entry_key *k)
{
	memset(k, 0, sizeof(*k));
	k->family = w->family;
	memcpy(k->addr, addr, w->family == ADDR_FAMILY_V6 ? 16 : 4);
	if (f->mapped) {
		memmove(k->addr, k->addr + 12, 4);
		k->family = ADDR_FAMILY_V4;
	}
}

/* Sets the compression hints (zonemap_rr) of the records at name: id0 names it
 * without its first label, id1 without its first two. */
static void hint(struct zm_run *run, const uint8_t *name, size_t len, uint32_t id0, uint32_t id1)
{
	size_t at0 = (size_t)name[0] + 1;

	run->suffix_id[0] = id0;
	run->suffix_at[0] = at0;
	run->suffix_id[1] = at0 < len ? id1 : 0;
	run->suffix_at[1] = at0 < len ? at0 + name[at0] + 1 : 0;
}

/* Writes answer v for the whole of child c of frame f, whose name is owner and
 * whose address bits (the frame's and c) are addr: its records at a leaf, else a
 * wildcard where that is safe, else each of its children in turn. up0 and up1 are
 * the suffix ids of owner without its first label and without its first two. */
static int emit_uniform(struct zm_ipwalk *w, const struct zm_frame *f, unsigned c,
			const uint8_t *addr, const uint8_t *owner, size_t owner_len,
			uint32_t up0, uint32_t up1, const struct zm_val *v)
{
	unsigned depth = f->depth + 1;
	uint8_t name[ZM_OWNER_MAX];

	if (depth == w->levels) {
		struct entry_key k;
		addr_key(w, f, addr, &k);
		hint(w->run, owner, owner_len, up0, up1);
		return zm_emit_val(w->run, owner, owner_len, v, NULL, &k, true);
	}
	uint32_t id = zm_suffix_id_new(); /* of owner, for the names below it */
	if (child_wild_ok(w, f, c)) {
		name[0] = 1;
		name[1] = '*';
		memcpy(name + 2, owner, owner_len);
		hint(w->run, name, owner_len + 2, id, up0);
		return zm_emit_val(w->run, name, owner_len + 2, v, "", NULL, false);
	}
	/* digits only, above the other family's names: one level further down */
	struct zm_frame sub = *f;
	sub.depth = depth;
	sub.wild_ok = false;
	uint8_t a[16];
	memcpy(a, addr, sizeof(a));
	for (unsigned d = 0; d < w->fanout; d++) {
		size_t l = label_put(w, d, name);
		memcpy(name + l, owner, owner_len);
		set_digit(w, a, depth, d);
		int rc = emit_uniform(w, &sub, d, a, name, l + owner_len, id, up0, v);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* emit_uniform for child c of frame f. */
static int emit_child(struct zm_ipwalk *w, struct zm_frame *f, unsigned c, const struct zm_val *v)
{
	uint8_t owner[ZM_OWNER_MAX], addr[16];
	size_t l = label_put(w, c, owner);

	memcpy(owner + l, f->owner, f->owner_len);
	memcpy(addr, f->addr, sizeof(addr));
	set_digit(w, addr, f->depth, c);
	f->exists = true;
	return emit_uniform(w, f, c, addr, owner, l + f->owner_len, f->owner_id, f->parent_id, v);
}

/* The most common answer among the children that are not frames (all listed). */
static void majority(const struct zm_ipwalk *w, const struct zm_frame *f, const struct zm_val *vin,
		     unsigned untouched, struct zm_val *best)
{
	unsigned best_n = untouched;

	*best = *vin;
	/* a few candidates are enough: where one answer covers most children it is
	 * among the first, and where every child has its own none is worth more */
	for (unsigned i = 0; i < f->ntouched && i < 4; i++) {
		unsigned c = f->touched[i], n = 0;
		struct zm_val v, u;
		if (f->slot[c].visited)
			continue;
		child_val(w, f, (int)c, &v);
		for (unsigned j = 0; j < f->ntouched; j++) {
			if (f->slot[f->touched[j]].visited)
				continue;
			child_val(w, f, f->touched[j], &u);
			n += val_eq(&u, &v);
		}
		if (n > best_n) {
			best_n = n;
			*best = v;
		}
		if (best_n * 2 > w->fanout)
			break; /* a majority cannot be beaten */
	}
}

/* Whether frame f may hold a wildcard: safe, and no child unlisted (an unlisted
 * name under a wildcard would answer the wildcard's records). */
static bool wildcard_fits(const struct zm_ipwalk *w, const struct zm_frame *f,
			  const struct zm_val *vin, unsigned untouched)
{
	if (!f->wild_ok || (untouched > 0 && zm_val_none(vin, w->run->nmembers)))
		return false;
	for (unsigned i = 0; i < f->ntouched; i++) {
		unsigned c = f->touched[i];
		struct zm_val v;
		if (f->slot[c].visited) {
			if (!f->slot[c].exists)
				return false;
			continue;
		}
		child_val(w, f, (int)c, &v);
		if (zm_val_none(&v, w->run->nmembers))
			return false;
	}
	return true;
}

/* Writes frame f's children's records (its frames have written theirs). A frame a
 * filter leaves out writes nothing but still learns whether it would have. */
static int frame_finish(struct zm_ipwalk *w, struct zm_frame *f)
{
	unsigned untouched = w->fanout - f->ntouched;
	struct zm_val vin, wv, v;
	bool wild;
	int rc = 0;

	child_val(w, f, -1, &vin);
	if (!f->relevant) {
		/* a wildcard would only be written where one of these holds */
		f->exists |= untouched > 0 && !zm_val_none(&vin, w->run->nmembers);
		for (unsigned i = 0; i < f->ntouched && !f->exists; i++) {
			unsigned c = f->touched[i];
			if (f->slot[c].visited) {
				f->exists |= f->slot[c].exists;
				continue;
			}
			child_val(w, f, (int)c, &v);
			f->exists |= !zm_val_none(&v, w->run->nmembers);
		}
		return 0;
	}
	wild = wildcard_fits(w, f, &vin, untouched);
	if (wild) {
		uint8_t owner[ZM_OWNER_MAX] = { 1, '*' };
		majority(w, f, &vin, untouched, &wv);
		memcpy(owner + 2, f->owner, f->owner_len);
		f->exists = true;
		hint(w->run, owner, f->owner_len + 2, f->owner_id, f->parent_id);
		rc = zm_emit_val(w->run, owner, f->owner_len + 2, &wv, "", NULL, false);
	} else if (untouched > 0 && !zm_val_none(&vin, w->run->nmembers)) {
		for (unsigned c = 0; c < w->fanout && rc == 0; c++)
			if (!f->slot[c].touched)
				rc = emit_child(w, f, c, &vin);
	}
	for (unsigned i = 0; i < f->ntouched && rc == 0; i++) {
		unsigned c = f->touched[i];
		if (f->slot[c].visited) {
			f->exists |= f->slot[c].exists;
			continue;
		}
		child_val(w, f, (int)c, &v);
		if (zm_val_none(&v, w->run->nmembers) || (wild && val_eq(&v, &wv)))
			continue;
		rc = emit_child(w, f, c, &v);
	}
	if (untouched > 0 && wild && !val_eq(&vin, &wv)) {
		for (unsigned c = 0; c < w->fanout && rc == 0; c++)
			if (!f->slot[c].touched)
				rc = emit_child(w, f, c, &vin);
	}
	return rc;
}

/* Resets frame f (depth, prefix, inherited answers already set) for use. */
static void frame_clear(struct zm_ipwalk *w, struct zm_frame *f)
{
	for (unsigned i = 0; i < f->ntouched; i++) {
		unsigned c = f->touched[i];
		memset(&f->src[c * w->nsrc], 0, w->nsrc * sizeof(*f->src));
		memset(&f->slot[c], 0, sizeof(f->slot[c]));
	}
	f->ntouched = 0;
	f->nents = 0;
	f->exists = false;
}

/* Opens the frame of child c of the top frame. */
static void frame_push(struct zm_ipwalk *w, unsigned c)
{
	struct zm_frame *p = &w->frames[w->top], *f = &w->frames[w->top + 1];

	touch(p, c);
	p->slot[c].visited = true;
	frame_clear(w, f);
	f->depth = p->depth + 1;
	memcpy(f->addr, p->addr, sizeof(f->addr));
	set_digit(w, f->addr, p->depth, c);
	f->wild_ok = child_wild_ok(w, p, c);
	f->mapped = w->family == ADDR_FAMILY_V6 && f->depth >= 24 &&
		    memcmp(f->addr, mapped_prefix, 12) == 0;
	if (w->run->filter == NULL) {
		f->covered = false;
		f->relevant = true;
	} else if (!p->relevant) {
		/* no filter key inside or around the parent: none inside or around it */
		f->covered = f->relevant = false;
	} else {
		f->covered = p->covered ||
			     filter_covers(w, f->addr, p->depth * w->g + 1, f->depth * w->g);
		f->relevant = f->covered || filter_within(w, f->addr, f->depth * w->g);
	}
	if (f->relevant) { /* only a frame that writes records needs its name */
		f->owner_len = label_put(w, c, f->owner);
		memcpy(f->owner + f->owner_len, p->owner, p->owner_len);
		f->owner_len += p->owner_len;
		f->owner_id = zm_suffix_id_new();
		f->parent_id = p->owner_id;
	}
	for (unsigned s = 0; s < w->nsrc; s++)
		f->inh[s] = slot_src(w, p, c, s);
	w->top++;
}

/* Closes the top frame, telling its parent whether it wrote anything. Under a
 * filter, a frame that exists inside a frame the filter leaves out settles the
 * outer one (whatever else it holds, it exists and writes nothing): the walk may
 * skip the rest of it (skip_depth). */
static int frame_pop(struct zm_ipwalk *w)
{
	struct zm_frame *f = &w->frames[w->top];
	int rc = frame_finish(w, f);

	if (w->top > 0) {
		struct zm_frame *p = &w->frames[w->top - 1];
		p->slot[digit(w, f->addr, p->depth)].exists = f->exists;
		if (f->exists && !p->relevant && w->skip_top == 0) {
			unsigned j = w->top - 1;
			while (j > 0 && !w->frames[j - 1].relevant)
				j--;
			w->skip_top = j;
		}
	}
	w->top--;
	return rc;
}

/* The first address after frame f's range into next (the family's bytes); false
 * when f reaches the end of the address space. */
static bool frame_next_addr(const struct zm_ipwalk *w, const struct zm_frame *f, uint8_t *next)
{
	unsigned bits = f->depth * w->g;

	memcpy(next, f->addr, sizeof(f->addr));
	if (bits == 0)
		return false;
	unsigned byte = (bits - 1) / 8, carry = 1u << ((8 - bits % 8) % 8);
	for (int i = (int)byte; i >= 0 && carry; i--) {
		unsigned v = next[i] + carry;
		next[i] = (uint8_t)v;
		carry = v >> 8;
	}
	return carry == 0;
}

/* Skips the rest of frame skip_top, which a frame inside it settled (frame_pop):
 * closes it and moves every input past its range. */
static int skip_settled(struct zm_ipwalk *w)
{
	unsigned j = w->skip_top;
	uint8_t next[16];
	size_t nbytes = w->family == ADDR_FAMILY_V6 ? 16 : 4;
	int rc;

	w->skip_top = 0;
	bool more = frame_next_addr(w, &w->frames[j], next);
	while (w->top >= j)
		if ((rc = frame_pop(w)) != 0)
			return rc;
	w->skip_top = 0; /* the frames just closed are settled already */
	w->run->st.skipped++;
	for (unsigned i = 0; i < w->nstreams; i++) {
		struct zm_stream *s = &w->streams[i];
		if (!more)
			s->live = false;
		else if ((rc = stream_seek(w, s, next)) < 0)
			return rc;
	}
	while (w->next_test < 2 &&
	       (!more || memcmp(w->tests[w->next_test].addr, next, nbytes) < 0))
		w->next_test++;
	return 0;
}

/* Places input k (stream s's entry, or test point test) in the frames. */
static int input_place(struct zm_ipwalk *w, const struct entry_key *k, struct zm_stream *s,
		       int test)
{
	int rc;

	while (w->top > 0 && !prefix_has(w->frames[w->top].addr, w->frames[w->top].depth * w->g, k))
		if ((rc = frame_pop(w)) != 0)
			return rc;
	if (w->skip_top != 0) {
		if (w->skip_top <= w->top)
			return 1; /* k lies in the settled frame: walk_run skips it */
		w->skip_top = 0; /* k already lies past it */
	}
	if (k->len > 0 && k->len == w->frames[w->top].depth * w->g)
		return DNSBL_ESTORE; /* a frame's own prefix comes before it opens */
	if (k->len == 0) { /* covers everything: the root's inherited answer */
		struct zm_frame *root = &w->frames[0];
		if (test || root->nents == root->cap)
			return DNSBL_ESTORE;
		root->ents[root->nents] = s->head;
		root->inh[s->src] = &root->ents[root->nents++];
		return 0;
	}
	for (;;) {
		struct zm_frame *f = &w->frames[w->top];
		unsigned b = f->depth * w->g, c = digit(w, k->addr, f->depth);
		if (k->len > b + w->g) {
			if (!f->slot[c].visited)
				frame_push(w, c);
			continue;
		}
		if (test) {
			touch(f, c);
			f->slot[c].test = (uint8_t)test;
			return 0;
		}
		if (f->nents == f->cap)
			return DNSBL_ESTORE;
		struct zm_ent *e = &f->ents[f->nents++];
		*e = s->head;
		for (unsigned i = 0; i < 1u << (b + w->g - k->len); i++) {
			touch(f, c + i);
			f->src[(c + i) * w->nsrc + (unsigned)s->src] = e;
		}
		return 0;
	}
}

static int walk_alloc(struct zm_ipwalk *w)
{
	for (unsigned i = 0; i < w->levels; i++) {
		struct zm_frame *f = &w->frames[i];
		f->cap = (2u << w->g) * w->nsrc;
		f->inh = calloc(w->nsrc, sizeof(*f->inh));
		f->src = calloc((size_t)w->fanout * w->nsrc, sizeof(*f->src));
		f->slot = calloc(w->fanout, sizeof(*f->slot));
		f->touched = calloc(w->fanout, sizeof(*f->touched));
		f->ents = calloc(f->cap, sizeof(*f->ents));
		if (!f->inh || !f->src || !f->slot || !f->touched || !f->ents)
			return DNSBL_ENOMEM;
	}
	return 0;
}

static void walk_free(struct zm_ipwalk *w)
{
	for (unsigned i = 0; i < w->levels; i++) {
		struct zm_frame *f = &w->frames[i];
		free(f->inh);
		free(f->src);
		free(f->slot);
		free(f->touched);
		free(f->ents);
	}
	for (unsigned i = 0; i < w->nstreams; i++)
		store_walk_end(w->streams[i].w);
}

/* Opens the streams of every member's zone and exemption list, read as family
 * (mapped: IPv4 entries as IPv6 ones). */
static int streams_open(struct zm_ipwalk *w, uint8_t family, bool mapped)
{
	unsigned base = mapped ? 2 * w->run->nmembers : 0;
	int rc = 0;

	for (unsigned i = 0; i < w->run->nmembers && rc == 0; i++) {
		const struct zm_member *m = &w->run->members[i];
		if (m->has_block)
			rc = stream_open(w, &m->block, family, (int)(base + 2 * i), mapped);
		if (rc == 0 && m->has_exempt)
			rc = stream_open(w, &m->exempt, family, (int)(base + 2 * i + 1), mapped);
	}
	return rc;
}

static void tests_set(struct zm_ipwalk *w)
{
	for (unsigned i = 0; i < 2; i++) {
		struct entry_key *t = &w->tests[i];
		memset(t, 0, sizeof(*t));
		t->family = w->family;
		t->len = (uint8_t)w->bits;
		uint8_t *a = w->family == ADDR_FAMILY_V6 ? t->addr + 12 : t->addr;
		if (w->family == ADDR_FAMILY_V6)
			memcpy(t->addr, mapped_prefix, 12);
		a[0] = 127;
		a[3] = (uint8_t)(i + 1); /* 127.0.0.1 (unlisted), then 127.0.0.2 */
	}
}

static int walk_run(struct zm_ipwalk *w)
{
	struct zm_stream *s;
	const struct entry_key *k;
	int test, rc;

	w->frames[0].owner_len = 0;
	w->frames[0].owner_id = zm_suffix_id_new();
	w->frames[0].parent_id = 0;
	w->frames[0].depth = 0;
	w->frames[0].wild_ok = false;
	filter_root(w);
	if (w->run->filter != NULL && !w->frames[0].relevant)
		return 0; /* no key of the filter in this family: nothing to write */
	while ((k = input_next(w, &s, &test)) != NULL) {
		if ((rc = input_place(w, k, s, test)) == 1) {
			if ((rc = skip_settled(w)) != 0)
				return rc;
			continue;
		}
		if (rc != 0)
			return rc;
		if (test)
			w->next_test++;
		else if ((rc = stream_advance(w, s)) < 0)
			return rc;
	}
	while (w->top > 0)
		if ((rc = frame_pop(w)) != 0)
			return rc;
	return frame_finish(w, &w->frames[0]);
}

int zm_walk_ip(struct zm_run *run, uint8_t family)
{
	static _Thread_local struct zm_ipwalk walk;
	struct zm_ipwalk *w = &walk;
	int rc;

	memset(w, 0, sizeof(*w));
	w->run = run;
	w->family = family;
	w->g = family == ADDR_FAMILY_V6 ? 4 : 8;
	w->fanout = 1u << w->g;
	w->bits = family == ADDR_FAMILY_V6 ? 128 : 32;
	w->levels = w->bits / w->g;
	w->nsrc = 4 * run->nmembers; /* block and exempt, own family and mapped IPv4 */
	tests_set(w);
	rc = walk_alloc(w);
	if (rc == 0)
		rc = streams_open(w, family, false);
	if (rc == 0 && family == ADDR_FAMILY_V6)
		rc = streams_open(w, ADDR_FAMILY_V4, true);
	if (rc == 0)
		rc = walk_run(w);
	walk_free(w);
	return rc;
}
