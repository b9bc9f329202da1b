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
		"  export ZONE [--format rbldnsd|plain|csv|zone] [-o FILE]\n"
		"  stats ZONE\n"
		"  delist ZONE KEY [--reason TEXT] [--actor NAME]\n"
		"  history ZONE [KEY] [--limit N]\n"
		"\n"
		"  -c FILE      configuration file (default " DEFAULT_CONFIG ")\n"
		"  --format     import: plain (default), rbldnsd, csv or jsonl; gzip is detected\n"
		"               export: rbldnsd (default), plain, csv or zone (a master file)\n"
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

/* The command line: options, then the command and its arguments. */
struct cli {
	const char *path, *format, *output, *reason, *actor;
	unsigned limit;
	struct import_opts io;
	const char *cmd;
	char **args;
	int nargs;
};

/* Reads the options into c. Returns -1 to go on, or the exit status to end with. */
static int parse_options(int argc, char **argv, struct cli *c)
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
	int opt;

	while ((opt = getopt_long(argc, argv, "c:o:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c': c->path = optarg; break;
		case 'F': c->format = optarg; break;
		case 'S': c->io.source = optarg; break;
		case 'R': c->io.replace = true; break;
		case 'T': c->io.strict = true; break;
		case 'P': c->io.progress = 1; break;
		case 'N': c->io.progress = 0; break;
		case 'o': c->output = optarg; break;
		case 'r': c->reason = optarg; break;
		case 'a': c->actor = optarg; break;
		case 'l':
			if (!parse_limit(optarg, &c->limit)) {
				fprintf(stderr, "dnsbl-loader: --limit: a number from 1 to 1000000\n");
				return EXIT_NOTHING;
			}
			break;
		case 'h': usage(stdout); return EXIT_ALL_OK;
		default: usage(stderr); return EXIT_NOTHING;
		}
	}
	return -1;
}

/* Whether c names a known command with a number of arguments it takes. */
static bool command_valid(const struct cli *c)
{
	const char *cmd = c->cmd;

	if (strcmp(cmd, "import") == 0)
		return c->nargs == 1 || c->nargs == 2;
	if (strcmp(cmd, "expire") == 0)
		return true;
	if (strcmp(cmd, "export") == 0 || strcmp(cmd, "stats") == 0)
		return c->nargs == 1;
	if (strcmp(cmd, "delist") == 0)
		return c->nargs == 2;
	if (strcmp(cmd, "history") == 0)
		return c->nargs == 1 || c->nargs == 2;
	fprintf(stderr, "dnsbl-loader: unknown command '%s'\n", cmd);
	return false;
}

/* Reads --format for the command (import's format goes to c->io). Returns 0, or -1
 * after reporting an unknown format. */
static int formats_parse(struct cli *c, enum export_format *ef)
{
	*ef = EXPORT_RBLDNSD;
	if (c->format == NULL)
		return 0;
	if (strcmp(c->cmd, "import") == 0 && feed_format_parse(c->format, &c->io.format) < 0) {
		fprintf(stderr, "dnsbl-loader: unknown format '%s' (plain, rbldnsd, csv or jsonl)\n",
			c->format);
		return -1;
	}
	if (strcmp(c->cmd, "export") == 0) {
		if (strcmp(c->format, "rbldnsd") == 0)
			*ef = EXPORT_RBLDNSD;
		else if (strcmp(c->format, "plain") == 0)
			*ef = EXPORT_PLAIN;
		else if (strcmp(c->format, "csv") == 0)
			*ef = EXPORT_CSV;
		else if (strcmp(c->format, "zone") == 0)
			*ef = EXPORT_ZONE;
		else {
			fprintf(stderr, "dnsbl-loader: unknown export format '%s' (rbldnsd, plain, csv or zone)\n",
				c->format);
			return -1;
		}
	}
	return 0;
}

/* Runs the (valid) command of c. Returns its exit status. */
static int command_run(const struct config *cfg, struct cli *c, enum export_format ef)
{
	const char *cmd = c->cmd;
	char **args = c->args;

	if (strcmp(cmd, "import") == 0) {
		c->io.zone_name = args[0];
		if (c->nargs == 2)
			c->io.input = args[1];
		return import_run(cfg, &c->io);
	}
	if (strcmp(cmd, "expire") == 0)
		return cmd_expire(cfg, args, c->nargs);
	if (strcmp(cmd, "export") == 0)
		return cmd_export(cfg, args[0], ef, c->output);
	if (strcmp(cmd, "stats") == 0)
		return cmd_stats(cfg, args[0]);
	if (strcmp(cmd, "delist") == 0)
		return cmd_delist(cfg, args[0], args[1], c->actor ? c->actor : default_actor(),
				  c->reason);
	return cmd_history(cfg, args[0], c->nargs == 2 ? args[1] : NULL, c->limit);
}

int main(int argc, char **argv)
{
	static char errbuf[16384];
	struct cli c = { .path = DEFAULT_CONFIG, .limit = 50,
			 .io = { .source = "default", .input = "-", .progress = -1 } };
	enum export_format ef;
	struct config cfg;
	int rc;

	log_init("dnsbl-loader", 0);
	/* LMDB mallocs every dirty page of a write transaction on its own: grow and keep
	 * the heap in large steps rather than a brk() call every few pages */
	mallopt(M_TOP_PAD, 64 << 20);
	mallopt(M_TRIM_THRESHOLD, 256 << 20);
	if ((rc = parse_options(argc, argv, &c)) >= 0)
		return rc;
	if (optind >= argc) {
		usage(stderr);
		return EXIT_NOTHING;
	}
	c.cmd = argv[optind];
	c.args = argv + optind + 1;
	c.nargs = argc - optind - 1;
	if (!command_valid(&c)) {
		usage(stderr);
		return EXIT_NOTHING;
	}
	if (formats_parse(&c, &ef) < 0)
		return EXIT_NOTHING;
	if (!feed_source_valid(c.io.source, strlen(c.io.source))) {
		fprintf(stderr, "dnsbl-loader: --source: 1 to 64 letters, digits or . _ - + @\n");
		return EXIT_NOTHING;
	}
	if (config_load(c.path, &cfg, errbuf, sizeof(errbuf)) < 0) {
		fputs(errbuf, stderr);
		return EXIT_NOTHING;
	}
	rc = command_run(&cfg, &c, ef);
	config_free(&cfg);
	return rc;
}
