/* dnsbl-loader: fills the store from list files and trap feeds, expires, exports. */
#include <getopt.h>
#include <malloc.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "err.h"
#include "feed.h"
#include "import.h"
#include "log.h"
#include "zonecmd.h"

#define DEFAULT_CONFIG "/etc/dnsbl/dnsbl.conf"

enum { EXIT_ALL_OK = 0, EXIT_NOTHING = 2 };

static void usage(FILE *f)
{
	fprintf(f,
		"usage: dnsbl-loader [-c FILE] COMMAND ...\n"
		"  import ZONE [FILE|-] [--format plain|rbldnsd|csv|jsonl] [--source NAME]\n"
		"                       [--replace] [--strict] [--progress|--no-progress]\n"
		"  expire [ZONE...]\n"
		"  export ZONE [--format rbldnsd|plain|csv] [-o FILE]\n"
		"  stats ZONE\n"
		"  delist ZONE KEY [--reason TEXT] [--actor NAME]\n"
		"  history ZONE [KEY] [--limit N]\n"
		"\n"
		"  -c FILE      configuration file (default " DEFAULT_CONFIG ")\n"
		"  --format     import: plain (default), rbldnsd, csv or jsonl; gzip is detected\n"
		"               export: rbldnsd (default), plain or csv\n"
		"  --source     import: name recorded with every entry (default: default)\n"
		"  --replace    import: afterwards the zone holds exactly this input's entries of\n"
		"               that source\n"
		"  --strict     import: reject the whole input at the first bad line\n"
		"  --progress   import: show a progress line (default: when stderr is a terminal)\n"
		"exit status: 0 done; 1 some lines rejected (import) or not listed (delist);\n"
		"             2 nothing done (usage, config, store or input error)\n");
}

/* The login name for the history, as an actor name. */
static const char *default_actor(void)
{
	const char *u = getenv("SUDO_USER");
	struct passwd *pw;

	if (u != NULL && feed_source_valid(u, strlen(u)))
		return u;
	pw = getpwuid(getuid());
	if (pw != NULL && feed_source_valid(pw->pw_name, strlen(pw->pw_name)))
		return pw->pw_name;
	return "unknown";
}

static bool parse_limit(const char *s, unsigned *out)
{
	char *end;
	unsigned long v;

	if (s[0] < '0' || s[0] > '9')
		return false;
	v = strtoul(s, &end, 10);
	if (*end != '\0' || v == 0 || v > 1000000)
		return false;
	*out = (unsigned)v;
	return true;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "format", required_argument, NULL, 'F' },
		{ "source", required_argument, NULL, 'S' },
		{ "replace", no_argument, NULL, 'R' },
		{ "strict", no_argument, NULL, 'T' },
		{ "progress", no_argument, NULL, 'P' },
		{ "no-progress", no_argument, NULL, 'N' },
		{ "output", required_argument, NULL, 'o' },
		{ "reason", required_argument, NULL, 'r' },
		{ "actor", required_argument, NULL, 'a' },
		{ "limit", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static char errbuf[16384];
	const char *path = DEFAULT_CONFIG, *format = NULL, *output = NULL, *reason = NULL;
	const char *actor = NULL;
	unsigned limit = 50;
	struct import_opts io = { .source = "default", .input = "-", .progress = -1 };
	struct config cfg;
	int opt, rc;

	log_init("dnsbl-loader", 0);
	/* LMDB mallocs every dirty page of a write transaction on its own: grow and keep
	 * the heap in large steps rather than a brk() call every few pages */
	mallopt(M_TOP_PAD, 64 << 20);
	mallopt(M_TRIM_THRESHOLD, 256 << 20);
	while ((opt = getopt_long(argc, argv, "c:o:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c': path = optarg; break;
		case 'F': format = optarg; break;
		case 'S': io.source = optarg; break;
		case 'R': io.replace = true; break;
		case 'T': io.strict = true; break;
		case 'P': io.progress = 1; break;
		case 'N': io.progress = 0; break;
		case 'o': output = optarg; break;
		case 'r': reason = optarg; break;
		case 'a': actor = optarg; break;
		case 'l':
			if (!parse_limit(optarg, &limit)) {
				fprintf(stderr, "dnsbl-loader: --limit: a number from 1 to 1000000\n");
				return EXIT_NOTHING;
			}
			break;
		case 'h': usage(stdout); return EXIT_ALL_OK;
		default: usage(stderr); return EXIT_NOTHING;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_NOTHING;
	}
	const char *cmd = argv[optind];
	char **args = argv + optind + 1;
	int nargs = argc - optind - 1;
	bool ok;
	if (strcmp(cmd, "import") == 0)
		ok = nargs == 1 || nargs == 2;
	else if (strcmp(cmd, "expire") == 0)
		ok = true;
	else if (strcmp(cmd, "export") == 0 || strcmp(cmd, "stats") == 0)
		ok = nargs == 1;
	else if (strcmp(cmd, "delist") == 0)
		ok = nargs == 2;
	else if (strcmp(cmd, "history") == 0)
		ok = nargs == 1 || nargs == 2;
	else {
		fprintf(stderr, "dnsbl-loader: unknown command '%s'\n", cmd);
		ok = false;
	}
	if (!ok) {
		usage(stderr);
		return EXIT_NOTHING;
	}
	enum export_format ef = EXPORT_RBLDNSD;
	if (strcmp(cmd, "import") == 0 && format != NULL &&
	    feed_format_parse(format, &io.format) < 0) {
		fprintf(stderr, "dnsbl-loader: unknown format '%s' (plain, rbldnsd, csv or jsonl)\n",
			format);
		return EXIT_NOTHING;
	}
	if (strcmp(cmd, "export") == 0 && format != NULL) {
		if (strcmp(format, "rbldnsd") == 0)
			ef = EXPORT_RBLDNSD;
		else if (strcmp(format, "plain") == 0)
			ef = EXPORT_PLAIN;
		else if (strcmp(format, "csv") == 0)
			ef = EXPORT_CSV;
		else {
			fprintf(stderr, "dnsbl-loader: unknown export format '%s' (rbldnsd, plain or csv)\n",
				format);
			return EXIT_NOTHING;
		}
	}
	if (!feed_source_valid(io.source, strlen(io.source))) {
		fprintf(stderr, "dnsbl-loader: --source: 1 to 64 letters, digits or . _ - + @\n");
		return EXIT_NOTHING;
	}
	if (config_load(path, &cfg, errbuf, sizeof(errbuf)) < 0) {
		fputs(errbuf, stderr);
		return EXIT_NOTHING;
	}
	if (strcmp(cmd, "import") == 0) {
		io.zone_name = args[0];
		if (nargs == 2)
			io.input = args[1];
		rc = import_run(&cfg, &io);
	} else if (strcmp(cmd, "expire") == 0) {
		rc = cmd_expire(&cfg, args, nargs);
	} else if (strcmp(cmd, "export") == 0) {
		rc = cmd_export(&cfg, args[0], ef, output);
	} else if (strcmp(cmd, "stats") == 0) {
		rc = cmd_stats(&cfg, args[0]);
	} else if (strcmp(cmd, "delist") == 0) {
		rc = cmd_delist(&cfg, args[0], args[1], actor ? actor : default_actor(), reason);
	} else {
		rc = cmd_history(&cfg, args[0], nargs == 2 ? args[1] : NULL, limit);
	}
	config_free(&cfg);
	return rc;
}
