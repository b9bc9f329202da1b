#include "import.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "err.h"
#include "feed.h"
#include "input.h"
#include "store.h"

/* Entries buffered, sorted and written at a time: sorted puts are several times
 * faster than random ones, and memory stays bounded whatever the file's size. */
#define CHUNK_ITEMS (1u << 22)
#define ARENA_MAX (64u << 20)
#define FUTURE_SLACK 300 /* seconds a hit's timestamp may lie ahead of our clock */
#define SOURCE_CACHE 16

enum { EXIT_ALL_OK = 0, EXIT_SOME_REJECTED = 1, EXIT_NOTHING = 2 };

/* What a line sets, shared by the prefixes of its range and by the following lines
 * that set the same (the usual case: a list file's lines differ only in address).
 * Texts live in the arena. */
struct proto {
	uint8_t flags;      /* STORE_F_EXCLUDE, _A, _TXT, _NOTXT */
	uint8_t reason_len;
	uint8_t has_facts;  /* from an export: listed as it is, bypassing the threshold */
	uint16_t source;
	uint16_t txt_len;
	uint32_t a, seen, first, hits, ttl, expires;
	uint32_t text_off;  /* reason, then txt */
	uint8_t has_reason, expires_set;
	uint8_t pad[2];     /* zeroed: protos are compared with memcmp */
};

struct source_slot {
	char name[FEED_SOURCE_MAX + 1];
	uint16_t id;
};

struct import {
	const struct import_opts *o;
	const struct zone_config *zc;
	const char *name; /* for messages */
	struct store_writer *w;
	struct store_zone *zone;
	struct store_lifecycle life, life_facts;
	uint16_t source_id;
	uint32_t now;
	/* the chunk: a sort key per prefix (see item_key) */
	uint64_t *keys, *tmp;
	uint32_t nitems, cap;
	struct proto *protos;
	uint32_t nprotos;
	char *arena;
	size_t arena_len, arena_cap;
	struct source_slot sources[SOURCE_CACHE];
	unsigned nsources, next_slot;
	/* counters */
	uint64_t lines, records, rejected, notices;
	uint64_t added, updated, relisted, pending, suppressed, stale;
	/* progress */
	bool progress;
	struct timespec started, last_report;
};

static double elapsed(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

static void progress_report(struct import *im, struct input *in, bool final)
{
	struct timespec now;
	uint64_t done, size;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (!final && elapsed(&im->last_report, &now) < 0.5)
		return;
	im->last_report = now;
	double secs = elapsed(&im->started, &now);
	double rate = secs > 0 ? (double)im->lines / secs : 0;
	input_position(in, &done, &size);
	fprintf(stderr, "\r%s: %llu lines, %.0f lines/s", im->name,
		(unsigned long long)im->lines, rate);
	if (size > 0 && done > 0 && done <= size) {
		double left = secs * (double)(size - done) / (double)done;
		fprintf(stderr, ", %3.0f%%, ETA %.0fs", 100.0 * (double)done / (double)size,
			final ? 0.0 : left);
	}
	fprintf(stderr, final ? "\n" : "   ");
	fflush(stderr);
}

/* The chunk's sort key: prefix length, address (the store's key order), then the
 * proto's index. Protos are numbered in line order, so equal prefixes keep the
 * file's order, and the walk after the sort never looks anything up at random. */
static uint64_t item_key(uint32_t addr, unsigned len, uint32_t proto)
{
	return (uint64_t)len << 58 | (uint64_t)addr << 26 | proto;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* LSD radix sort, 16 bits a pass (qsort for small chunks). */
static void sort_keys(uint64_t *keys, uint64_t *tmp, uint32_t n)
{
	static uint32_t count[1u << 16];

	if (n < 4096) {
		qsort(keys, n, sizeof(*keys), cmp_u64);
		return;
	}
	for (unsigned shift = 0; shift < 64; shift += 16) {
		uint32_t sum = 0;
		memset(count, 0, sizeof(count));
		for (uint32_t i = 0; i < n; i++)
			count[(keys[i] >> shift) & 0xffff]++;
		for (uint32_t d = 0; d < (1u << 16); d++) {
			uint32_t c = count[d];
			count[d] = sum;
			sum += c;
		}
		for (uint32_t i = 0; i < n; i++)
			tmp[count[(keys[i] >> shift) & 0xffff]++] = keys[i];
		uint64_t *swap = keys;
		keys = tmp;
		tmp = swap;
	}
	/* four passes: the result is back in the caller's keys array */
}

static void count_outcome(struct import *im, int outcome)
{
	switch (outcome) {
	case STORE_CREATED: im->added++; break;
	case STORE_RELISTED: im->relisted++; break;
	case STORE_PENDING: im->pending++; break;
	case STORE_SUPPRESSED: im->suppressed++; break;
	case STORE_STALE: im->stale++; break;
	default: im->updated++; break;
	}
}

/* Merges key p with what proto it sets (its reason, then its TXT, at texts). */
static int merge_one(struct import *im, const struct entry_key *p, const struct proto *it,
		     const char *texts)
{
	int outcome = 0, rc;
	struct store_put put = {
		.flags = it->flags,
		.actor = STORE_ACTOR_SOURCE,
		.source_id = it->source,
		.a = it->a,
		.seen = it->seen,
		.first_seen = it->first,
		.hits = it->hits,
		.expires = it->expires,
		.expires_set = it->expires_set,
		.ttl = it->ttl,
		.now = im->now,
		.life = it->has_facts ? &im->life_facts : &im->life,
		.reason = it->has_reason ? texts : NULL,
		.reason_len = it->reason_len,
		.txt = texts + it->reason_len,
		.txt_len = it->txt_len,
	};
	if ((rc = store_merge(im->w, im->zone, p, &put, &outcome)) < 0) {
		fprintf(stderr, "dnsbl-loader: %s: cannot store: %s\n", im->name, dnsbl_strerror(rc));
		return rc;
	}
	count_outcome(im, outcome);
	return 0;
}

/* Sorts the chunk and merges it into the store. */
static int flush(struct import *im)
{
	if (im->nitems == 0)
		return 0;
	sort_keys(im->keys, im->tmp, im->nitems);
	for (uint32_t i = 0; i < im->nitems; i++) {
		uint64_t key = im->keys[i];
		const struct proto *it = &im->protos[key & ((1u << 26) - 1)];
		struct entry_key p;
		int rc;
		prefix4_make(&p, (uint32_t)(key >> 26), (unsigned)(key >> 58));
		if ((rc = merge_one(im, &p, it, im->arena + it->text_off)) < 0)
			return rc;
	}
	im->nitems = 0;
	im->nprotos = 0;
	im->arena_len = 0;
	return 0;
}

static int chunk_alloc(struct import *im)
{
	im->cap = CHUNK_ITEMS;
	im->protos = malloc(sizeof(*im->protos) * im->cap);
	im->keys = malloc(sizeof(*im->keys) * im->cap);
	im->tmp = malloc(sizeof(*im->tmp) * im->cap);
	im->arena_cap = 1u << 20;
	im->arena = malloc(im->arena_cap);
	if (!im->protos || !im->keys || !im->tmp || !im->arena)
		return DNSBL_ENOMEM;
	return 0;
}

static void chunk_free(struct import *im)
{
	free(im->protos);
	free(im->keys);
	free(im->tmp);
	free(im->arena);
}

/* Copies a record's texts into the arena (flushing first when it is full).
 * Returns the offset or an error. */
static int64_t arena_add(struct import *im, const struct feed_record *r, size_t txt_len)
{
	size_t need = r->reason_len + txt_len;

	if (need == 0)
		return 0;
	if (im->arena_len + need > im->arena_cap) {
		if (im->arena_cap * 2 <= ARENA_MAX) {
			char *n = realloc(im->arena, im->arena_cap * 2);
			if (n == NULL)
				return DNSBL_ENOMEM;
			im->arena = n;
			im->arena_cap *= 2;
		} else {
			int rc = flush(im);
			if (rc < 0)
				return rc;
		}
	}
	size_t off = im->arena_len;
	memcpy(im->arena + off, r->reason, r->reason_len);
	memcpy(im->arena + off + r->reason_len, r->txt, txt_len);
	im->arena_len += need;
	return (int64_t)off;
}

static int source_id(struct import *im, const struct feed_record *r, uint16_t *id)
{
	if (!(r->have & FEED_HAVE_SOURCE)) {
		*id = im->source_id;
		return 0;
	}
	for (unsigned i = 0; i < im->nsources; i++) {
		if (strcmp(im->sources[i].name, r->source) == 0) {
			*id = im->sources[i].id;
			return 0;
		}
	}
	int rc = store_writer_source(im->w, r->source, id);
	if (rc < 0)
		return rc;
	struct source_slot *slot = &im->sources[im->next_slot];
	im->next_slot = (im->next_slot + 1) % SOURCE_CACHE;
	if (im->nsources < SOURCE_CACHE)
		im->nsources++;
	memcpy(slot->name, r->source, r->source_len + 1);
	slot->id = *id;
	return 0;
}

static int add_prefix(const struct entry_key *p, void *arg)
{
	struct import *im = arg;

	/* record_add made room for the whole range */
	im->keys[im->nitems++] = item_key(prefix4_addr(p), p->len, im->nprotos - 1);
	return 0;
}

/* Turns a parsed record into items. Returns 0, 1 (line rejected: *msg) or an error. */
static int record_add(struct import *im, struct feed_record *r, const char **msg)
{
	struct proto proto;
	int64_t off;
	int rc;

	memset(&proto, 0, sizeof(proto));
	proto.flags = r->exclude ? STORE_F_EXCLUDE : r->flags;
	if ((proto.flags & STORE_F_A) && r->a == im->zc->a)
		proto.flags &= (uint8_t)~STORE_F_A; /* the zone's default: follow the config */
	size_t txt_len = (proto.flags & STORE_F_TXT) ? r->txt_len : 0;
	if ((proto.flags & STORE_F_TXT) && txt_len == strlen(im->zc->txt) &&
	    memcmp(r->txt, im->zc->txt, txt_len) == 0 && im->zc->txt[0] != '\0') {
		proto.flags &= (uint8_t)~STORE_F_TXT;
		txt_len = 0;
	}
	proto.a = (proto.flags & STORE_F_A) ? r->a : 0;
	proto.seen = (r->have & FEED_HAVE_TIME)   ? r->time
		     : (r->have & FEED_HAVE_LAST) ? r->last_seen
						  : im->now;
	if (proto.seen > im->now + FUTURE_SLACK) {
		*msg = "timestamp is in the future";
		return 1;
	}
	if ((r->have & FEED_HAVE_FIRST) && r->first_seen > proto.seen) {
		*msg = "first_seen is after the hit's time";
		return 1;
	}
	proto.first = (r->have & FEED_HAVE_FIRST) ? r->first_seen : 0;
	proto.hits = (r->have & FEED_HAVE_HITS) ? r->hits : 1;
	proto.ttl = (r->have & FEED_HAVE_TTL) ? r->ttl : 0;
	proto.expires_set = (r->have & FEED_HAVE_EXPIRES) != 0;
	proto.expires = r->expires;
	proto.has_facts = (r->have & (FEED_HAVE_EXPIRES | FEED_HAVE_FIRST)) != 0;
	proto.has_reason = (r->have & FEED_HAVE_REASON) != 0;
	proto.reason_len = (uint8_t)r->reason_len;
	proto.txt_len = (uint16_t)txt_len;
	if ((rc = source_id(im, r, &proto.source)) < 0)
		return rc;
	if (r->family != ADDR_FAMILY_V4) {
		/* IPv6 prefixes and domains go in at once: lists of them are small next
		 * to IPv4 ones, and the sort key above has room for IPv4 only */
		char texts[STORE_REASON_MAX + STORE_TXT_MAX];
		memcpy(texts, r->reason, r->reason_len);
		memcpy(texts + r->reason_len, r->txt, txt_len);
		return merge_one(im, &r->key, &proto, texts);
	}
	/* make room for the whole range first, so a flush never splits texts from items */
	uint32_t span = r->hi - r->lo;
	unsigned nprefixes = span == UINT32_MAX ? 1 : 64;
	if (im->nitems + nprefixes > im->cap && (rc = flush(im)) < 0)
		return rc;
	if ((off = arena_add(im, r, txt_len)) < 0)
		return (int)off;
	proto.text_off = (uint32_t)off;
	if (im->nprotos == 0 || memcmp(&im->protos[im->nprotos - 1], &proto, sizeof(proto)) != 0)
		im->protos[im->nprotos++] = proto;
	return range4_to_prefixes(r->lo, r->hi, add_prefix, im);
}

/* The parsers' per-file states. */
struct parsers {
	enum feed_keys keys;
	struct rbldnsd_state rbldnsd;
	struct csv_state csv;
};

/* Parses one input line in the import's format. */
static enum feed_line parse_line(const struct import *im, struct parsers *p, const char *line,
				 size_t len, bool too_long, struct feed_record *rec,
				 const char **msg)
{
	if (too_long) {
		*msg = "line longer than 8192 bytes";
		return FEED_LINE_ERROR;
	}
	if (memchr(line, '\0', len) != NULL) {
		*msg = "line contains a NUL byte";
		return FEED_LINE_ERROR;
	}
	switch (im->o->format) {
	case FEED_FORMAT_RBLDNSD: return rbldnsd_parse_line(&p->rbldnsd, line, len, rec, msg);
	case FEED_FORMAT_CSV: return csv_parse_line(&p->csv, line, len, rec, msg);
	case FEED_FORMAT_JSONL: return jsonl_parse_line(p->keys, line, len, rec, msg);
	default: return plain_parse_line(p->keys, line, len, rec, msg);
	}
}

/* Counts a line by its outcome and reports notices and rejections as file:line.
 * Returns true when the import stops at this line (--strict). */
static bool line_done(struct import *im, enum feed_line kind, const char *msg)
{
	switch (kind) {
	case FEED_LINE_SKIP:
		return false;
	case FEED_LINE_NOTICE:
		fprintf(stderr, "%s:%llu: %s\n", im->name, (unsigned long long)im->lines, msg);
		im->notices++;
		return false;
	case FEED_LINE_ERROR:
		if (im->progress)
			fputc('\n', stderr);
		fprintf(stderr, "%s:%llu: %s\n", im->name, (unsigned long long)im->lines, msg);
		im->rejected++;
		return im->o->strict;
	default:
		im->records++;
		return false;
	}
}

/* Reads every line; returns 0, or an error that ends the import. */
static int import_stream(struct import *im, struct input *in)
{
	struct parsers p;
	struct feed_record *rec = malloc(sizeof(*rec));
	const char *line;
	size_t len;
	bool too_long;
	int rc = 0, r;

	if (rec == NULL)
		return DNSBL_ENOMEM;
	memset(rec, 0, sizeof(*rec));
	p.keys = im->zc->type == ZONE_TYPE_NAME ? FEED_KEYS_NAME : FEED_KEYS_IP;
	rbldnsd_state_init(&p.rbldnsd, p.keys);
	csv_state_init(&p.csv, p.keys);
	while ((r = input_next(in, &line, &len, &too_long)) > 0) {
		const char *msg = NULL;
		im->lines++;
		if (im->progress && (im->lines & 0xffff) == 0)
			progress_report(im, in, false);
		enum feed_line kind = parse_line(im, &p, line, len, too_long, rec, &msg);
		if (kind == FEED_LINE_RECORD) {
			rc = record_add(im, rec, &msg);
			if (rc < 0)
				break;
			if (rc == 1)
				kind = FEED_LINE_ERROR;
			rc = 0;
		}
		if (line_done(im, kind, msg))
			break;
	}
	if (r < 0 && rc == 0) {
		fprintf(stderr, "%s:%llu: read error: %s\n", im->name,
			(unsigned long long)im->lines + 1, input_error(in));
		rc = DNSBL_EIO;
	}
	free(rec);
	if (rc == 0 && !(im->o->strict && im->rejected > 0))
		rc = flush(im);
	if (im->progress)
		progress_report(im, in, true);
	return rc;
}

/* Finds the zone, opens the input and the store, and allocates the chunk. Returns 0,
 * or -1 after reporting why not. */
static int import_open(struct import *im, const struct config *cfg, struct input **in,
		       struct store **store)
{
	const struct import_opts *o = im->o;
	int rc;

	im->zc = config_zone(cfg, o->zone_name);
	if (im->zc == NULL) {
		fprintf(stderr, "dnsbl-loader: zone '%s' is not in %s\n", o->zone_name, cfg->path);
		return -1;
	}
	if (im->zc->type == ZONE_TYPE_COMBINED) {
		fprintf(stderr,
			"dnsbl-loader: zone %s is combined: it has no entries of its own; import "
			"into one of its members\n",
			im->zc->name);
		return -1;
	}
	im->life = (struct store_lifecycle){ im->zc->expire_after, im->zc->list_threshold,
					     im->zc->list_window, im->zc->relist_after };
	im->life_facts = im->life;
	im->life_facts.list_threshold = 1;
	im->progress = o->progress > 0 || (o->progress < 0 && isatty(STDERR_FILENO));
	if (input_open(o->input, in) < 0) {
		fprintf(stderr, "dnsbl-loader: cannot open %s: %s\n", o->input, strerror(errno));
		return -1;
	}
	if (chunk_alloc(im) < 0) {
		fprintf(stderr, "dnsbl-loader: out of memory\n");
		return -1;
	}
	if ((rc = store_open(store, cfg->db, STORE_CREATE)) < 0) {
		fprintf(stderr, "dnsbl-loader: cannot open store %s: %s\n", cfg->db, dnsbl_strerror(rc));
		return -1;
	}
	store_set_journal_size(*store, cfg->journal_size);
	return 0;
}

/* Starts the write transaction: the zone, the default source and, with --replace,
 * the replacement. Returns 0, or -1 after reporting. */
static int import_begin(struct import *im, struct store *store)
{
	const struct import_opts *o = im->o;
	int rc;

	im->now = (uint32_t)time(NULL);
	clock_gettime(CLOCK_MONOTONIC, &im->started);
	im->last_report = im->started;
	if ((rc = store_writer_begin(store, &im->w)) < 0 ||
	    (rc = store_writer_zone(im->w, im->zc->name, &im->zone)) < 0 ||
	    (rc = store_writer_source(im->w, o->source, &im->source_id)) < 0 ||
	    (o->replace && (rc = store_replace_begin(im->w, im->zone, im->source_id)) < 0)) {
		fprintf(stderr, "dnsbl-loader: store: %s\n", dnsbl_strerror(rc));
		return -1;
	}
	return 0;
}

/* Commits what was read, unless nothing should go in. *removed gets the entries
 * --replace removed. Returns 0, or -1 after reporting (nothing imported). */
static int import_commit(struct import *im, uint64_t *removed)
{
	int rc;

	if (im->o->strict && im->rejected > 0) {
		fprintf(stderr, "dnsbl-loader: --strict: %s rejected, nothing imported\n", im->name);
		return -1;
	}
	if (im->rejected > 0 && im->records == 0) {
		/* every line was bad: most likely the wrong file or format, and with
		 * --replace committing would empty the zone */
		fprintf(stderr, "dnsbl-loader: %s: no valid line, nothing imported\n", im->name);
		return -1;
	}
	if (im->o->replace && (rc = store_replace_finish(im->w, removed)) < 0) {
		fprintf(stderr, "dnsbl-loader: store: %s\n", dnsbl_strerror(rc));
		return -1;
	}
	rc = store_writer_commit(im->w);
	im->w = NULL;
	if (rc < 0) {
		fprintf(stderr, "dnsbl-loader: commit failed: %s; nothing imported\n",
			dnsbl_strerror(rc));
		return -1;
	}
	return 0;
}

/* The one-line summary of a committed import. */
static void import_summary(const struct import *im, uint64_t removed)
{
	fprintf(stderr,
		"dnsbl-loader: %s -> %s: %llu lines, %llu entries (%llu added, %llu updated, "
		"%llu relisted, %llu pending), %llu rejected, %llu suppressed, %llu stale, "
		"%llu notices",
		im->name, im->zc->name, (unsigned long long)im->lines,
		(unsigned long long)(im->added + im->updated + im->relisted + im->pending),
		(unsigned long long)im->added, (unsigned long long)im->updated,
		(unsigned long long)im->relisted, (unsigned long long)im->pending,
		(unsigned long long)im->rejected, (unsigned long long)im->suppressed,
		(unsigned long long)im->stale, (unsigned long long)im->notices);
	if (im->o->replace)
		fprintf(stderr, ", %llu removed (source %s)", (unsigned long long)removed,
			im->o->source);
	fputc('\n', stderr);
}

int import_run(const struct config *cfg, const struct import_opts *o)
{
	struct import *im = calloc(1, sizeof(*im));
	struct store *store = NULL;
	struct input *in = NULL;
	uint64_t removed = 0;
	int status = EXIT_NOTHING;

	if (im == NULL) {
		fprintf(stderr, "dnsbl-loader: out of memory\n");
		return EXIT_NOTHING;
	}
	im->o = o;
	im->name = strcmp(o->input, "-") == 0 ? "-" : o->input;
	if (import_open(im, cfg, &in, &store) == 0 && import_begin(im, store) == 0 &&
	    import_stream(im, in) >= 0 && import_commit(im, &removed) == 0) {
		import_summary(im, removed);
		status = im->rejected > 0 ? EXIT_SOME_REJECTED : EXIT_ALL_OK;
	}
	if (im->w != NULL)
		store_writer_abort(im->w);
	store_close(store);
	input_close(in);
	chunk_free(im);
	free(im);
	return status;
}
