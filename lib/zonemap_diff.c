/* zonemap_diff: the records that differ between an older view of a zone and the
 * snapshot, for IXFR. The two walks do not emit in an order a merge could align
 * (a frame writes its children after its subframes), so the records of both views
 * go into one hash set of 128-bit record digests, each marked with the views that
 * have it; each view is then walked again and what only it has is emitted. Memory:
 * one slot (17 bytes, at most 70% full) per distinct record; the caller bounds it.
 *
 * Only records that can differ are written by the walks (a zm_filter): those of the
 * frames holding or inside a key the older view changed, or a key whose entry is
 * decided otherwise at the two times (it expired in between, not yet swept). Every
 * other frame has the same entries, the same covering ones and the same subframes in
 * both views, so the same records. A change costs the walks' reading of the zone,
 * not the writing and hashing of its records. The first pass keeps the records it
 * wrote (up to a limit, 64 MiB) so that the second need not walk again. */
#include "zonemap_impl.h"

#include <stdlib.h>
#include <string.h>

#include "err.h"

#define IN_OLD 1
#define IN_NEW 2
#define EMITTED 4

struct digest_set {
	uint64_t *h1, *h2;
	uint8_t *marks; /* 0: the slot is free */
	size_t cap, count, max;
};

static uint64_t mix64(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return h;
}

static uint64_t hash_bytes(uint64_t h, const uint8_t *p, size_t n)
{
	while (n >= 8) {
		uint64_t v;
		memcpy(&v, p, 8);
		h = mix64(h ^ v) + 0x9e3779b97f4a7c15ull;
		p += 8;
		n -= 8;
	}
	uint64_t v = 0;
	if (n > 0)
		memcpy(&v, p, n);
	return mix64(h ^ v ^ ((uint64_t)n << 56));
}

static void digest(const struct zonemap_rr *rr, uint64_t *h1, uint64_t *h2)
{
	uint64_t a = 0x243f6a8885a308d3ull, b = 0x13198a2e03707344ull;
	uint8_t sep[4] = { (uint8_t)(rr->type >> 8), (uint8_t)rr->type,
			   (uint8_t)(rr->owner_len), (uint8_t)(rr->rdlen >> 8) };

	a = hash_bytes(hash_bytes(hash_bytes(a, rr->owner, rr->owner_len), sep, 4), rr->rdata,
		       rr->rdlen);
	b = hash_bytes(hash_bytes(hash_bytes(b, sep, 4), rr->rdata, rr->rdlen), rr->owner,
		       rr->owner_len);
	*h1 = a;
	*h2 = b | 1; /* never 0 */
}

static int set_alloc(struct digest_set *s, size_t cap)
{
	s->h1 = calloc(cap, sizeof(*s->h1));
	s->h2 = calloc(cap, sizeof(*s->h2));
	s->marks = calloc(cap, 1);
	s->cap = cap;
	s->count = 0;
	return s->h1 && s->h2 && s->marks ? 0 : DNSBL_ENOMEM;
}

static void set_free(struct digest_set *s)
{
	free(s->h1);
	free(s->h2);
	free(s->marks);
	s->h1 = s->h2 = NULL;
	s->marks = NULL;
}

/* The slot of digest (h1, h2): its own, or the free one where it would go. */
static size_t set_slot(const struct digest_set *s, uint64_t h1, uint64_t h2)
{
	size_t i = (size_t)h1 & (s->cap - 1);

	while (s->marks[i] != 0 && (s->h1[i] != h1 || s->h2[i] != h2))
		i = (i + 1) & (s->cap - 1);
	return i;
}

static int set_grow(struct digest_set *s)
{
	struct digest_set n = { .max = s->max };
	int rc = set_alloc(&n, s->cap * 2);

	if (rc != 0) {
		set_free(&n);
		return rc;
	}
	for (size_t i = 0; i < s->cap; i++) {
		if (s->marks[i] == 0)
			continue;
		size_t j = set_slot(&n, s->h1[i], s->h2[i]);
		n.h1[j] = s->h1[i];
		n.h2[j] = s->h2[i];
		n.marks[j] = s->marks[i];
	}
	n.count = s->count;
	set_free(s);
	*s = n;
	return 0;
}

/* The records a first pass wrote, kept so that the second pass need not walk again:
 * each as owner length u8, owner, type u16, rdata length u16, rdata. */
struct rr_buffer {
	uint8_t *data;
	size_t len, cap;
	bool off; /* over the limit: the second pass walks again */
};

static size_t buffer_limit = (size_t)64 << 20;

void zm_diff_set_buffer_limit(size_t bytes)
{
	buffer_limit = bytes;
}

static void buffer_free(struct rr_buffer *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

static void buffer_add(struct rr_buffer *b, const struct zonemap_rr *rr)
{
	size_t need = 1 + rr->owner_len + 4 + rr->rdlen;

	if (b->off)
		return;
	if (b->len + need > b->cap) {
		size_t cap = b->cap ? 2 * b->cap : 65536;
		while (cap < b->len + need)
			cap *= 2;
		uint8_t *n = cap <= buffer_limit ? realloc(b->data, cap) : NULL;
		if (n == NULL) {
			buffer_free(b);
			b->off = true;
			return;
		}
		b->data = n;
		b->cap = cap;
	}
	uint8_t *p = b->data + b->len;
	*p++ = (uint8_t)rr->owner_len;
	memcpy(p, rr->owner, rr->owner_len);
	p += rr->owner_len;
	*p++ = (uint8_t)(rr->type >> 8);
	*p++ = (uint8_t)rr->type;
	*p++ = (uint8_t)(rr->rdlen >> 8);
	*p++ = (uint8_t)rr->rdlen;
	if (rr->rdlen > 0)
		memcpy(p, rr->rdata, rr->rdlen);
	b->len += need;
}

struct diff_pass {
	struct digest_set *set;
	uint8_t mark;      /* IN_OLD or IN_NEW */
	bool emit;         /* second pass: emit what only this view has */
	zonemap_emit_fn fn;
	void *arg;
	uint64_t records, emitted;
	struct rr_buffer buf;
};

static int diff_rr(void *arg, const struct zonemap_rr *rr)
{
	struct diff_pass *p = arg;
	struct digest_set *s = p->set;
	uint64_t h1, h2;
	int rc;

	digest(rr, &h1, &h2);
	p->records++;
	if (!p->emit) {
		if ((s->count + 1) * 10 > s->cap * 7 && (rc = set_grow(s)) != 0)
			return rc;
		size_t i = set_slot(s, h1, h2);
		if (s->marks[i] == 0) {
			if (s->count >= s->max)
				return DNSBL_ERANGE;
			s->h1[i] = h1;
			s->h2[i] = h2;
			s->count++;
		}
		s->marks[i] |= p->mark;
		buffer_add(&p->buf, rr);
		return 0;
	}
	size_t i = set_slot(s, h1, h2);
	if (s->marks[i] != p->mark)
		return 0; /* in both views, or already emitted (a record written twice) */
	s->marks[i] |= EMITTED;
	p->emitted++;
	return p->fn(p->arg, rr);
}

struct timed_keys {
	struct store_reader *r;
	struct zm_filter *filter;
	uint32_t old_now, new_now;
};

static int timed_key(const struct entry_key *k, const struct store_entry *e, void *arg)
{
	struct timed_keys *t = arg;

	if (e->expires == 0 ||
	    store_entry_state(e, t->old_now) == store_entry_state(e, t->new_now))
		return 0;
	return zm_filter_add(t->filter, k);
}

static int timed_keys_of(void *arg, const struct store_zone *z)
{
	struct timed_keys *t = arg;
	return store_foreach(t->r, z, timed_key, t);
}

/* The filter of the keys whose records can differ between the views. */
static int filter_build(struct store_reader *r, const struct config *cfg,
			const struct zone_config *zc, const struct zonemap_overlay *ov,
			uint32_t old_now, uint32_t new_now, struct zm_filter *f)
{
	static _Thread_local struct zm_run run;
	struct timed_keys t = { r, f, old_now, new_now };
	int rc = 0;

	for (unsigned i = 0; ov != NULL && i < ov->nsources && rc == 0; i++)
		for (size_t j = 0; j < ov->src[i].count && rc == 0; j++)
			rc = zm_filter_add(f, &ov->src[i].changes[j].key);
	if (rc == 0 && old_now != new_now) {
		memset(&run, 0, sizeof(run));
		run.r = r;
		rc = zm_members_load(&run, cfg, zc);
		if (rc == 0)
			rc = zm_sources_foreach(&run, timed_keys_of, &t);
	}
	zm_filter_finish(f);
	return rc;
}

/* The second pass over what the first kept. */
static int replay(struct diff_pass *p)
{
	const uint8_t *at = p->buf.data, *end = p->buf.data + p->buf.len;
	int rc = 0;

	while (at < end && rc == 0) {
		struct zonemap_rr rr = { 0 };
		rr.owner_len = at[0];
		rr.owner = at + 1;
		at += 1 + rr.owner_len;
		rr.type = (uint16_t)(at[0] << 8 | at[1]);
		rr.rdlen = (uint16_t)(at[2] << 8 | at[3]);
		rr.rdata = at + 4;
		at += 4 + rr.rdlen;
		rc = diff_rr(p, &rr);
	}
	return rc;
}

int zonemap_diff(struct store_reader *r, const struct config *cfg, const struct zone_config *zc,
		 const struct zonemap_overlay *ov, uint32_t old_now, uint32_t new_now,
		 uint64_t max_records, zonemap_emit_fn fn, void *arg, struct zonemap_diff_stats *st)
{
	struct digest_set set = { .max = (size_t)max_records };
	struct diff_pass old_pass = { .set = &set, .mark = IN_OLD, .fn = fn, .arg = arg };
	struct diff_pass new_pass = { .set = &set, .mark = IN_NEW, .fn = fn, .arg = arg };
	struct zm_filter filter = { 0 };
	struct zonemap_stats walked = { 0 };
	int rc;

	if (zc->type == ZONE_TYPE_NAME)
		return DNSBL_EINVAL;
	if ((rc = set_alloc(&set, 1u << 12)) != 0 ||
	    (rc = filter_build(r, cfg, zc, ov, old_now, new_now, &filter)) != 0)
		goto out;
	if ((rc = zm_run_filtered(r, cfg, zc, ov, old_now, &filter, diff_rr, &old_pass,
				  &walked)) != 0 ||
	    (rc = zm_run_filtered(r, cfg, zc, NULL, new_now, &filter, diff_rr, &new_pass,
				  &walked)) != 0)
		goto out;
	if (st != NULL) {
		st->old_records = old_pass.records;
		st->new_records = new_pass.records;
		st->entries = walked.entries;
		st->skipped = walked.skipped;
	}
	old_pass.emit = new_pass.emit = true;
	if ((rc = old_pass.buf.off ? zm_run_filtered(r, cfg, zc, ov, old_now, &filter, diff_rr,
						     &old_pass, NULL)
				   : replay(&old_pass)) != 0 ||
	    (rc = fn(arg, NULL)) != 0 ||
	    (rc = new_pass.buf.off ? zm_run_filtered(r, cfg, zc, NULL, new_now, &filter, diff_rr,
						     &new_pass, NULL)
				   : replay(&new_pass)) != 0)
		goto out;
	if (st != NULL) {
		st->deleted = old_pass.emitted;
		st->added = new_pass.emitted;
	}
out:
	set_free(&set);
	zm_filter_free(&filter);
	buffer_free(&old_pass.buf);
	buffer_free(&new_pass.buf);
	return rc;
}
