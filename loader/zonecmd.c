#include "zonecmd.h"

#include "export_zone.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "err.h"
#include "dname.h"
#include "feed.h"
#include "store.h"
#include "timeutil.h"
#include "zonemap.h"

enum { EXIT_OK = 0, EXIT_FINDING = 1, EXIT_FAIL = 2 };

#define EXPIRE_BATCH 10000

/* Opens the store and a read snapshot; reports failures. */
static int open_reader(const struct config *cfg, struct store **s, struct store_reader **r)
{
	int rc;

	*s = NULL;
	*r = NULL;
	if ((rc = store_open(s, cfg->db, STORE_CREATE)) < 0) {
		fprintf(stderr, "dnsbl-loader: cannot open store %s: %s\n", cfg->db, dnsbl_strerror(rc));
		return rc;
	}
	store_set_journal_size(*s, cfg->journal_size);
	if ((rc = store_reader_new(*s, r)) < 0 || (rc = store_reader_begin(*r)) < 0) {
		fprintf(stderr, "dnsbl-loader: store: %s\n", dnsbl_strerror(rc));
		store_reader_free(*r);
		store_close(*s);
		*r = NULL;
		*s = NULL;
		return rc;
	}
	return 0;
}

static void close_reader(struct store *s, struct store_reader *r)
{
	store_reader_free(r);
	store_close(s);
}

/* The zone called name, or NULL after saying why not: unknown, or combined where
 * the command needs entries of the zone's own (combined_ok: records will do). */
static const struct zone_config *zone_lookup(const struct config *cfg, const char *name,
					     bool combined_ok)
{
	const struct zone_config *zc = config_zone(cfg, name);
	if (zc == NULL) {
		fprintf(stderr, "dnsbl-loader: zone '%s' is not in %s\n", name, cfg->path);
	} else if (zc->type == ZONE_TYPE_COMBINED && !combined_ok) {
		fprintf(stderr,
			"dnsbl-loader: zone %s is combined: it has no entries of its own (use "
			"one of its members)\n",
			zc->name);
		zc = NULL;
	}
	return zc;
}

static const struct zone_config *zone_or_complain(const struct config *cfg, const char *name)
{
	return zone_lookup(cfg, name, false);
}

/* --- expire --- */

int cmd_expire(const struct config *cfg, char **zones, int nzones)
{
	struct store *s = NULL;
	uint32_t now = (uint32_t)time(NULL);
	int rc, status = EXIT_OK;

	for (int i = 0; i < nzones; i++)
		if (zone_or_complain(cfg, zones[i]) == NULL)
			return EXIT_FAIL;
	if ((rc = store_open(&s, cfg->db, STORE_CREATE)) < 0) {
		fprintf(stderr, "dnsbl-loader: cannot open store %s: %s\n", cfg->db, dnsbl_strerror(rc));
		return EXIT_FAIL;
	}
	store_set_journal_size(s, cfg->journal_size);
	unsigned n = nzones > 0 ? (unsigned)nzones : cfg->zone_count;
	for (unsigned i = 0; i < n; i++) {
		const struct zone_config *zc = nzones > 0 ? config_zone(cfg, zones[i]) : &cfg->zones[i];
		struct store_expire_result res = { 0, 0, 0 };
		rc = store_expire(s, zc->name, now, 0, EXPIRE_BATCH, &res);
		if (rc < 0) {
			fprintf(stderr, "dnsbl-loader: expire %s: %s\n", zc->name, dnsbl_strerror(rc));
			status = EXIT_FAIL;
			continue;
		}
		printf("%s: %llu expired, %llu pending dropped\n", zc->name,
		       (unsigned long long)res.expired, (unsigned long long)res.pending_dropped);
	}
	if (cfg->history_keep > 0 && now > cfg->history_keep) {
		uint64_t pruned = 0;
		rc = store_history_prune(s, now - cfg->history_keep, EXPIRE_BATCH, &pruned);
		if (rc < 0) {
			fprintf(stderr, "dnsbl-loader: history: %s\n", dnsbl_strerror(rc));
			status = EXIT_FAIL;
		} else {
			printf("history: %llu records pruned\n", (unsigned long long)pruned);
		}
	}
	store_close(s);
	return status;
}

/* --- export --- */

struct export_ctx {
	FILE *f;
	enum export_format format;
	const struct zone_config *zc;
	struct store_reader *r;
	uint32_t now;
	uint64_t written;
};

/* Writes n bytes of s with control characters other than tab (which no input
 * accepts, but the store may hold) as spaces, so every record stays on one line. */
static void put_clean(FILE *f, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		bool control = ((unsigned char)s[i] < 0x20 && s[i] != '\t') || s[i] == 0x7f;
		fputc(control ? ' ' : s[i], f);
	}
}

static void csv_field(FILE *f, const char *s, size_t n)
{
	bool quote = false;
	for (size_t i = 0; i < n && !quote; i++)
		quote = s[i] == ',' || s[i] == '"' || s[i] == ' ' || s[i] == '\t';
	if (!quote) {
		put_clean(f, s, n);
		return;
	}
	fputc('"', f);
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '"')
			fputc('"', f);
		put_clean(f, s + i, 1);
	}
	fputc('"', f);
}

static int export_one(const struct entry_key *p, const struct store_entry *e, void *arg)
{
	struct export_ctx *x = arg;
	char pfx[ENTRY_KEY_TEXT_MAX], a[16];
	bool exclude = e->flags & STORE_F_EXCLUDE;

	if (e->flags & STORE_F_PENDING)
		return 0;
	if (e->expires != 0 && e->expires <= x->now)
		return 0;
	entry_key_format(p, x->format != EXPORT_CSV, pfx, sizeof(pfx));
	switch (x->format) {
	case EXPORT_ZONE:
		return DNSBL_EINVAL; /* export_zone.c writes these */
	case EXPORT_PLAIN:
		fprintf(x->f, "%s%s\n", exclude ? "!" : "", pfx);
		break;
	case EXPORT_RBLDNSD:
		fprintf(x->f, "%s%s", exclude ? "!" : "", pfx);
		if (!exclude && (e->flags & (STORE_F_A | STORE_F_TXT | STORE_F_NOTXT))) {
			addr4_format((e->flags & STORE_F_A) ? e->a : x->zc->a, a);
			fprintf(x->f, " :%s", a);
			if (e->flags & STORE_F_NOTXT)
				fputc(':', x->f);
			else if (e->flags & STORE_F_TXT) {
				fputc(':', x->f);
				put_clean(x->f, e->txt, e->txt_len);
			}
		}
		fputc('\n', x->f);
		break;
	case EXPORT_CSV: {
		char src[80] = "";
		fprintf(x->f, "%s%s,", exclude ? "!" : "", pfx);
		if (e->flags & STORE_F_A) {
			addr4_format(e->a, a);
			fputs(a, x->f);
		}
		fputc(',', x->f);
		if (e->flags & STORE_F_TXT)
			csv_field(x->f, e->txt, e->txt_len);
		fputs((e->flags & STORE_F_NOTXT) ? ",1," : ",,", x->f);
		csv_field(x->f, e->reason, e->reason_len);
		fputc(',', x->f);
		if (store_source_name(x->r, e->source_id, src, sizeof(src)) == 0 &&
		    feed_source_valid(src, strlen(src)))
			fputs(src, x->f);
		fprintf(x->f, ",%u,%u,%u,%u\n", e->first_seen, e->last_seen, e->hits, e->expires);
		break;
	}
	}
	x->written++;
	return ferror(x->f) ? DNSBL_EIO : 0;
}

/* Ends an export: flushes f, renames the file tmp (NULL: stdout) to out_path when
 * rc is 0, reports, and closes the reader. Returns the exit status. */
static int export_finish(struct store *s, struct store_reader *r, const struct zone_config *zc,
			 FILE *f, const char *tmp, const char *out_path, int rc,
			 uint64_t written, const char *what)
{
	if (rc == 0 && (fflush(f) != 0 || ferror(f)))
		rc = DNSBL_EIO;
	if (tmp != NULL) {
		if (fclose(f) != 0 && rc == 0)
			rc = DNSBL_EIO;
		if (rc == 0 && rename(tmp, out_path) < 0)
			rc = DNSBL_EIO;
		if (rc < 0)
			unlink(tmp);
	}
	close_reader(s, r);
	if (rc < 0) {
		fprintf(stderr, "dnsbl-loader: export %s: %s%s%s\n", zc->name, dnsbl_strerror(rc),
			rc == DNSBL_EIO ? ": " : "", rc == DNSBL_EIO ? strerror(errno) : "");
		return EXIT_FAIL;
	}
	fprintf(stderr, "dnsbl-loader: exported %llu %s of %s\n", (unsigned long long)written,
		what, zc->name);
	return EXIT_OK;
}

int cmd_export(const struct config *cfg, const char *zone, enum export_format format,
	       const char *out_path)
{
	const struct zone_config *zc = zone_lookup(cfg, zone, format == EXPORT_ZONE);
	struct store *s;
	struct store_reader *r;
	struct store_zone z;
	char tmp[4200], a[16];
	FILE *f = stdout;
	bool to_file = out_path != NULL && strcmp(out_path, "-") != 0;
	int rc;

	if (zc == NULL || open_reader(cfg, &s, &r) < 0)
		return EXIT_FAIL;
	if (to_file) {
		if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", out_path, (long)getpid()) >=
		    (int)sizeof(tmp)) {
			fprintf(stderr, "dnsbl-loader: output path too long\n");
			close_reader(s, r);
			return EXIT_FAIL;
		}
		if ((f = fopen(tmp, "w")) == NULL) {
			fprintf(stderr, "dnsbl-loader: cannot create %s: %s\n", tmp, strerror(errno));
			close_reader(s, r);
			return EXIT_FAIL;
		}
	}
	struct export_ctx x = { f, format, zc, r, (uint32_t)time(NULL), 0 };
	if (format == EXPORT_ZONE) {
		struct zonemap_stats st = { 0 };
		/* decided as a transfer of this serial is, so that the two are the same */
		rc = export_zone_write(f, r, cfg, zc, zonemap_transfer_time(r, cfg, zc), &st);
		x.written = st.records;
		return export_finish(s, r, zc, f, to_file ? tmp : NULL, out_path, rc, x.written,
				     "records");
	}
	rc = store_zone_get(r, zc->name, &z);
	char when[TIME_TEXT_MAX];
	time_format(x.now, when);
	if (format == EXPORT_RBLDNSD) {
		fprintf(f, "# %s exported by dnsbl-loader at %s, serial %u\n", zc->name, when,
			rc == 0 ? z.serial : 0);
		addr4_format(zc->a, a);
		if (zc->txt[0] != '\0')
			fprintf(f, ":%s:%s\n", a, zc->txt);
		else
			fprintf(f, ":%s\n", a);
	} else if (format == EXPORT_CSV) {
		fprintf(f, "ip,code,txt,no_txt,reason,source,first_seen,last_seen,hits,expires\n");
	} /* plain: bare prefixes only, for any tool that reads address lists */
	if (rc == 0)
		rc = store_foreach(r, &z, export_one, &x);
	else if (rc == DNSBL_ENOTFOUND)
		rc = 0; /* never written: an empty zone */
	return export_finish(s, r, zc, f, to_file ? tmp : NULL, out_path, rc, x.written,
			     "entries");
}

/* --- stats --- */

struct stats_ctx {
	uint32_t now;
	uint64_t entries, listed, pending, excluded, expired;
	uint64_t *per_source; /* 65536 counters */
};

static int stats_one(const struct entry_key *p, const struct store_entry *e, void *arg)
{
	struct stats_ctx *x = arg;
	(void)p;
	x->entries++;
	x->per_source[e->source_id]++;
	if (e->expires != 0 && e->expires <= x->now)
		x->expired++;
	else if (e->flags & STORE_F_PENDING)
		x->pending++;
	else if (e->flags & STORE_F_EXCLUDE)
		x->excluded++;
	else
		x->listed++;
	return 0;
}

/* A combined zone has no entries of its own: its members, serial and records. */
static int stats_combined(const struct config *cfg, const struct zone_config *zc,
			  struct store *s, struct store_reader *r)
{
	uint64_t records = 0;
	int rc;

	printf("zone: %s\ntype: combined\nmembers:", zc->name);
	for (unsigned i = 0; i < zc->member_count; i++)
		printf(" %s", zc->members[i]);
	printf("\nserial: %u\n", zonemap_serial(r, cfg, zc));
	if ((rc = export_zone_count(r, cfg, zc, zonemap_transfer_time(r, cfg, zc), &records)) == 0)
		printf("records: %llu\n", (unsigned long long)records);
	else
		fprintf(stderr, "dnsbl-loader: stats %s: records: %s\n", zc->name, dnsbl_strerror(rc));
	printf("store_bytes: %llu\n", (unsigned long long)store_file_size(s));
	close_reader(s, r);
	return rc == 0 ? EXIT_OK : EXIT_FAIL;
}

int cmd_stats(const struct config *cfg, const char *zone)
{
	const struct zone_config *zc = zone_lookup(cfg, zone, true);
	struct store *s;
	struct store_reader *r;
	struct store_zone z;
	struct stats_ctx x = { (uint32_t)time(NULL), 0, 0, 0, 0, 0, NULL };
	uint64_t tombs = 0, history = 0;
	int rc;

	if (zc == NULL || open_reader(cfg, &s, &r) < 0)
		return EXIT_FAIL;
	if (zc->type == ZONE_TYPE_COMBINED)
		return stats_combined(cfg, zc, s, r);
	x.per_source = calloc(65536, sizeof(*x.per_source));
	if (x.per_source == NULL) {
		close_reader(s, r);
		return EXIT_FAIL;
	}
	memset(&z, 0, sizeof(z));
	rc = store_zone_get(r, zc->name, &z);
	if (rc == 0) {
		rc = store_foreach(r, &z, stats_one, &x);
		tombs = store_tomb_count(r, &z);
		history = store_history_count(r, &z);
	} else if (rc == DNSBL_ENOTFOUND) {
		rc = 0;
	}
	if (rc < 0) {
		fprintf(stderr, "dnsbl-loader: stats %s: %s\n", zc->name, dnsbl_strerror(rc));
		free(x.per_source);
		close_reader(s, r);
		return EXIT_FAIL;
	}
	printf("zone: %s\nserial: %u\nentries: %llu\nlisted: %llu\npending: %llu\n"
	       "excluded: %llu\nexpired: %llu\ntombstones: %llu\nhistory: %llu\n",
	       zc->name, zonemap_serial(r, cfg, zc), (unsigned long long)x.entries,
	       (unsigned long long)x.listed,
	       (unsigned long long)x.pending, (unsigned long long)x.excluded,
	       (unsigned long long)x.expired, (unsigned long long)tombs,
	       (unsigned long long)history);
	for (unsigned id = 0; id < 65536; id++) {
		char name[80];
		if (x.per_source[id] == 0)
			continue;
		if (store_source_name(r, (uint16_t)id, name, sizeof(name)) < 0)
			snprintf(name, sizeof(name), "#%u", id);
		printf("source %s: %llu\n", name, (unsigned long long)x.per_source[id]);
	}
	uint64_t records = 0;
	if ((rc = export_zone_count(r, cfg, zc, zonemap_transfer_time(r, cfg, zc), &records)) == 0)
		printf("records: %llu\n", (unsigned long long)records);
	else
		fprintf(stderr, "dnsbl-loader: stats %s: records: %s\n", zc->name, dnsbl_strerror(rc));
	printf("store_bytes: %llu\n", (unsigned long long)store_file_size(s));
	free(x.per_source);
	close_reader(s, r);
	return EXIT_OK;
}

/* --- delist --- */

/* Reads a command line's key for zone zc into *p (a name's bytes in buf). */
static int parse_key(const struct zone_config *zc, const char *key, uint8_t *buf,
		     struct entry_key *p)
{
	bool names = zc->type == ZONE_TYPE_NAME;
	int rc = entry_key_parse(names, key, strlen(key), buf, p);
	if (rc == DNSBL_EHOSTBITS)
		fprintf(stderr, "dnsbl-loader: %s: address has bits set beyond the prefix length\n",
			key);
	else if (rc < 0)
		fprintf(stderr, "dnsbl-loader: %s: %s\n", key,
			names ? "not a domain (example.com, *.example.com or .example.com)"
			      : "not an IPv4 or IPv6 address or CIDR prefix");
	return rc;
}

int cmd_delist(const struct config *cfg, const char *zone, const char *key, const char *actor,
	       const char *reason)
{
	const struct zone_config *zc = zone_or_complain(cfg, zone);
	struct store *s = NULL;
	struct store_writer *w = NULL;
	struct store_zone *z;
	struct entry_key p;
	uint8_t name[DNAME_KEY_MAX];
	char actor_name[FEED_SOURCE_MAX + 16];
	uint16_t actor_id;
	size_t rlen = reason ? strlen(reason) : 0;
	int rc;

	if (zc == NULL || parse_key(zc, key, name, &p) < 0)
		return EXIT_FAIL;
	if (!feed_source_valid(actor, strlen(actor))) {
		fprintf(stderr, "dnsbl-loader: --actor: 1 to 64 letters, digits or . _ - + @\n");
		return EXIT_FAIL;
	}
	if (rlen > STORE_REASON_MAX) {
		fprintf(stderr, "dnsbl-loader: --reason: longer than 255 bytes\n");
		return EXIT_FAIL;
	}
	for (size_t i = 0; i < rlen; i++) {
		if ((unsigned char)reason[i] < 0x20 || reason[i] == 0x7f) {
			fprintf(stderr, "dnsbl-loader: --reason: contains a control character\n");
			return EXIT_FAIL;
		}
	}
	snprintf(actor_name, sizeof(actor_name), "operator:%s", actor);
	if ((rc = store_open(&s, cfg->db, STORE_CREATE)) < 0) {
		fprintf(stderr, "dnsbl-loader: cannot open store %s: %s\n", cfg->db, dnsbl_strerror(rc));
		return EXIT_FAIL;
	}
	store_set_journal_size(s, cfg->journal_size);
	if ((rc = store_writer_begin(s, &w)) == 0 &&
	    (rc = store_writer_zone(w, zc->name, &z)) == 0 &&
	    (rc = store_writer_source(w, actor_name, &actor_id)) == 0)
		rc = store_delist(w, z, &p, actor_id, reason, rlen, 0);
	if (rc == 0) {
		rc = store_writer_commit(w);
		w = NULL;
	}
	store_writer_abort(w);
	store_close(s);
	if (rc == DNSBL_ENOTFOUND) {
		fprintf(stderr, "dnsbl-loader: %s is not listed in %s\n", key, zc->name);
		return EXIT_FINDING;
	}
	if (rc < 0) {
		fprintf(stderr, "dnsbl-loader: delist: %s\n", dnsbl_strerror(rc));
		return EXIT_FAIL;
	}
	fprintf(stderr, "dnsbl-loader: %s delisted from %s by %s\n", key, zc->name, actor_name);
	return EXIT_OK;
}

/* --- history --- */

struct history_ctx {
	struct store_reader *r;
	unsigned left;
};

static int history_one(const struct store_event_rec *ev, void *arg)
{
	struct history_ctx *x = arg;
	char when[TIME_TEXT_MAX], pfx[ENTRY_KEY_TEXT_MAX], actor[STORE_ACTOR_TEXT_MAX];

	if (x->left == 0)
		return 1;
	x->left--;
	time_format(ev->time, when);
	entry_key_format(&ev->prefix, 0, pfx, sizeof(pfx));
	store_actor_format(x->r, ev->actor, ev->actor_id, actor, sizeof(actor));
	printf("%s %s %s %s", when, store_event_name(ev->event), pfx, actor);
	if (ev->reason_len > 0) {
		putchar(' ');
		put_clean(stdout, ev->reason, ev->reason_len);
	}
	putchar('\n');
	return 0;
}

int cmd_history(const struct config *cfg, const char *zone, const char *key, unsigned limit)
{
	const struct zone_config *zc = zone_or_complain(cfg, zone);
	struct store *s;
	struct store_reader *r;
	struct store_zone z;
	struct entry_key p;
	uint8_t name[DNAME_KEY_MAX];
	int rc;

	if (zc == NULL || (key != NULL && parse_key(zc, key, name, &p) < 0) ||
	    open_reader(cfg, &s, &r) < 0)
		return EXIT_FAIL;
	struct history_ctx x = { r, limit };
	rc = store_zone_get(r, zc->name, &z);
	if (rc == 0)
		rc = store_history_scan(r, z.id, key ? &p : NULL, 0, history_one, &x);
	else if (rc == DNSBL_ENOTFOUND)
		rc = 0;
	close_reader(s, r);
	if (rc < 0) {
		fprintf(stderr, "dnsbl-loader: history: %s\n", dnsbl_strerror(rc));
		return EXIT_FAIL;
	}
	return EXIT_OK;
}
