/* dnsbl-loader: fills the store from list files. */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "addr.h"
#include "config.h"
#include "err.h"
#include "feed.h"
#include "log.h"
#include "store.h"

#define DEFAULT_CONFIG "/etc/dnsbl/dnsbl.conf"
#define LINE_MAX_BYTES 8192

/* Exit codes of the contract. */
enum { EXIT_ALL_OK = 0, EXIT_SOME_REJECTED = 1, EXIT_NOTHING = 2 };

enum format { FMT_PLAIN, FMT_RBLDNSD };

struct import {
	const char *zone_name;
	const char *input;   /* path, or "-" for stdin */
	const char *source;
	enum format format;
	bool replace, strict;
	/* running state */
	struct store_writer *w;
	struct store_zone *zone;
	uint16_t source_id;
	uint32_t now;
	uint64_t lines, records, added, updated, rejected, notices, removed;
	int err;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: dnsbl-loader [-c FILE] import ZONE [FILE|-] [--format plain|rbldnsd]\n"
		"                    [--source NAME] [--replace] [--strict]\n"
		"  -c FILE      configuration file (default " DEFAULT_CONFIG ")\n"
		"  --format     plain: one IPv4 address or CIDR per line (default)\n"
		"               rbldnsd: rbldnsd ip4set/ip4trie data file\n"
		"  --source     name recorded with every entry (default: default)\n"
		"  --replace    afterwards the zone holds exactly this file's entries of that source\n"
		"  --strict     reject the whole file at the first bad line\n"
		"exit status: 0 all lines imported, 1 some lines rejected, 2 nothing imported\n");
}

struct prefix_put {
	struct import *im;
	const struct feed_record *rec;
};

static int put_prefix(const struct ip_prefix *p, void *arg)
{
	struct prefix_put *pp = arg;
	const struct feed_record *r = pp->rec;
	struct import *im = pp->im;
	struct store_put put = {
		.flags = r->exclude ? STORE_F_EXCLUDE : r->flags,
		.source_id = im->source_id,
		.a = r->a,
		.seen = im->now,
		.hits = 1,
		.txt = r->txt,
		.txt_len = r->txt_len,
	};
	int created = 0;
	int rc = store_merge(im->w, im->zone, p, &put, &created);

	if (rc < 0)
		return rc;
	if (created)
		im->added++;
	else
		im->updated++;
	return 0;
}

/* Imports every line; returns 0, or a store error (fatal for the import). */
static int import_stream(struct import *im, FILE *in, const char *name)
{
	struct rbldnsd_state st;
	struct feed_record rec;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int rc = 0;

	rbldnsd_state_init(&st);
	while ((n = getline(&line, &cap, in)) >= 0) {
		const char *msg = NULL;
		enum feed_line kind;
		im->lines++;
		if (n > 0 && line[n - 1] == '\n')
			n--;
		if (n > LINE_MAX_BYTES) {
			kind = FEED_LINE_ERROR;
			msg = "line longer than 8192 bytes";
		} else if (memchr(line, '\0', (size_t)n) != NULL) {
			kind = FEED_LINE_ERROR;
			msg = "line contains a NUL byte";
		} else if (im->format == FMT_RBLDNSD) {
			kind = rbldnsd_parse_line(&st, line, (size_t)n, &rec, &msg);
		} else {
			kind = plain_parse_line(line, (size_t)n, &rec, &msg);
		}
		if (kind == FEED_LINE_SKIP)
			continue;
		if (kind == FEED_LINE_NOTICE) {
			fprintf(stderr, "%s:%llu: %s\n", name, (unsigned long long)im->lines, msg);
			im->notices++;
			continue;
		}
		if (kind == FEED_LINE_ERROR) {
			fprintf(stderr, "%s:%llu: %s\n", name, (unsigned long long)im->lines, msg);
			im->rejected++;
			if (im->strict)
				break;
			continue;
		}
		struct prefix_put pp = { im, &rec };
		rc = range4_to_prefixes(rec.lo, rec.hi, put_prefix, &pp);
		if (rc < 0) {
			fprintf(stderr, "%s:%llu: cannot store: %s\n", name,
				(unsigned long long)im->lines, dnsbl_strerror(rc));
			break;
		}
		im->records++;
	}
	if (rc == 0 && ferror(in)) {
		fprintf(stderr, "%s: read error: %s\n", name, strerror(errno));
		rc = DNSBL_EIO;
	}
	free(line);
	return rc;
}

static int cmd_import(const struct config *cfg, struct import *im)
{
	const struct zone_config *zc = config_zone(cfg, im->zone_name);
	struct store *store = NULL;
	FILE *in = stdin;
	const char *name = "-";
	uint64_t removed = 0;
	int rc;

	if (zc == NULL) {
		fprintf(stderr, "dnsbl-loader: zone '%s' is not in %s\n", im->zone_name, cfg->path);
		return EXIT_NOTHING;
	}
	if (zc->type != ZONE_TYPE_IP) {
		fprintf(stderr, "dnsbl-loader: zone %s: only type = ip zones can be imported so far\n",
			zc->name);
		return EXIT_NOTHING;
	}
	if (strcmp(im->input, "-") != 0) {
		name = im->input;
		in = fopen(im->input, "r");
		if (in == NULL) {
			fprintf(stderr, "dnsbl-loader: cannot open %s: %s\n", im->input, strerror(errno));
			return EXIT_NOTHING;
		}
	}
	if ((rc = store_open(&store, cfg->db, STORE_CREATE)) < 0) {
		fprintf(stderr, "dnsbl-loader: cannot open store %s: %s\n", cfg->db, dnsbl_strerror(rc));
		goto out;
	}
	im->now = (uint32_t)time(NULL);
	if ((rc = store_writer_begin(store, &im->w)) < 0 ||
	    (rc = store_writer_zone(im->w, zc->name, &im->zone)) < 0 ||
	    (rc = store_writer_source(im->w, im->source, &im->source_id)) < 0 ||
	    (im->replace && (rc = store_replace_begin(im->w, im->zone, im->source_id)) < 0)) {
		fprintf(stderr, "dnsbl-loader: store: %s\n", dnsbl_strerror(rc));
		goto out;
	}
	rc = import_stream(im, in, name);
	if (rc < 0)
		goto out;
	if (im->strict && im->rejected > 0) {
		fprintf(stderr, "dnsbl-loader: --strict: %s rejected, nothing imported\n", name);
		rc = DNSBL_EINVAL;
		goto out;
	}
	if (im->rejected > 0 && im->records == 0) {
		/* every line was bad: most likely the wrong file or format, and with
		 * --replace committing would empty the zone */
		fprintf(stderr, "dnsbl-loader: %s: no valid line, nothing imported\n", name);
		rc = DNSBL_EINVAL;
		goto out;
	}
	if (im->replace && (rc = store_replace_finish(im->w, &removed)) < 0) {
		fprintf(stderr, "dnsbl-loader: store: %s\n", dnsbl_strerror(rc));
		goto out;
	}
	rc = store_writer_commit(im->w);
	im->w = NULL;
	if (rc < 0) {
		fprintf(stderr, "dnsbl-loader: commit failed: %s; nothing imported\n",
			dnsbl_strerror(rc));
		goto out;
	}
	im->removed = removed;
	fprintf(stderr,
		"dnsbl-loader: %s -> %s: %llu lines, %llu entries (%llu added, %llu updated), "
		"%llu rejected, %llu notices%s",
		name, zc->name, (unsigned long long)im->lines,
		(unsigned long long)(im->added + im->updated), (unsigned long long)im->added,
		(unsigned long long)im->updated, (unsigned long long)im->rejected,
		(unsigned long long)im->notices, im->replace ? "" : "\n");
	if (im->replace)
		fprintf(stderr, ", %llu removed (source %s)\n", (unsigned long long)removed,
			im->source);
out:
	if (im->w != NULL)
		store_writer_abort(im->w);
	store_close(store);
	if (in != stdin)
		fclose(in);
	if (rc < 0)
		return EXIT_NOTHING;
	return im->rejected > 0 ? EXIT_SOME_REJECTED : EXIT_ALL_OK;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "format", required_argument, NULL, 'F' },
		{ "source", required_argument, NULL, 'S' },
		{ "replace", no_argument, NULL, 'R' },
		{ "strict", no_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static char errbuf[16384];
	const char *path = DEFAULT_CONFIG;
	struct import im = { .source = "default", .format = FMT_PLAIN, .input = "-" };
	struct config cfg;
	int opt, rc;

	log_init("dnsbl-loader", 0);
	while ((opt = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c': path = optarg; break;
		case 'F':
			if (strcmp(optarg, "plain") == 0) {
				im.format = FMT_PLAIN;
			} else if (strcmp(optarg, "rbldnsd") == 0) {
				im.format = FMT_RBLDNSD;
			} else {
				fprintf(stderr, "dnsbl-loader: unknown format '%s' (plain or rbldnsd)\n",
					optarg);
				return EXIT_NOTHING;
			}
			break;
		case 'S': im.source = optarg; break;
		case 'R': im.replace = true; break;
		case 'T': im.strict = true; break;
		case 'h': usage(stdout); return EXIT_ALL_OK;
		default: usage(stderr); return EXIT_NOTHING;
		}
	}
	if (optind >= argc || strcmp(argv[optind], "import") != 0) {
		if (optind < argc)
			fprintf(stderr, "dnsbl-loader: unknown command '%s'\n", argv[optind]);
		usage(stderr);
		return EXIT_NOTHING;
	}
	if (argc - optind < 2 || argc - optind > 3) {
		usage(stderr);
		return EXIT_NOTHING;
	}
	im.zone_name = argv[optind + 1];
	if (argc - optind == 3)
		im.input = argv[optind + 2];
	if (strlen(im.source) == 0 || strlen(im.source) > 64) {
		fprintf(stderr, "dnsbl-loader: --source must be 1 to 64 bytes\n");
		return EXIT_NOTHING;
	}
	if (config_load(path, &cfg, errbuf, sizeof(errbuf)) < 0) {
		fputs(errbuf, stderr);
		return EXIT_NOTHING;
	}
	rc = cmd_import(&cfg, &im);
	config_free(&cfg);
	return rc;
}
