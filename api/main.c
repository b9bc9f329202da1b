/* dnsbl-api: the operators' HTTP/JSON API (api/README.md), and its token commands. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "err.h"
#include "handlers.h"
#include "http.h"
#include "log.h"
#include "openapi.h"
#include "store.h"
#include "tokens.h"

#define DEFAULT_CONFIG "/etc/dnsbl/dnsbl.conf"

static void usage(FILE *f)
{
	fprintf(f, "usage: dnsbl-api [-c FILE] [-f]              serve the API\n"
		   "       dnsbl-api [-c FILE] token add NAME ROLE  add a token (read|write|admin);\n"
		   "                                                prints its secret once\n"
		   "       dnsbl-api [-c FILE] token list           NAME ROLE per line\n"
		   "       dnsbl-api [-c FILE] token remove NAME\n"
		   "  -c FILE  configuration file (default " DEFAULT_CONFIG ")\n"
		   "  -f       stay in the foreground and log to stderr\n");
}

static int cmd_token(const struct config *cfg, int argc, char **argv)
{
	static char err[8192];
	const char *path = cfg->api_tokens;
	int rc;

	if (argc == 4 && strcmp(argv[1], "add") == 0) {
		char secret[2 * TOKEN_SECRET_BYTES + 1];
		int role = token_role_parse(argv[3]);
		if (role == TOKEN_ROLE_NONE) {
			fprintf(stderr, "dnsbl-api: role must be read, write or admin\n");
			return 2;
		}
		rc = tokens_add(path, argv[2], role, secret, sizeof(secret), err, sizeof(err));
		if (rc < 0) {
			fprintf(stderr, "dnsbl-api: token add: %s", err[0] ? err : "failed\n");
			return rc == DNSBL_EEXIST ? 1 : 2;
		}
		printf("token %s (role %s) added to %s; its secret, shown only now: %s\n", argv[2],
		       token_role_name(role), path, secret);
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "remove") == 0) {
		rc = tokens_remove(path, argv[2], err, sizeof(err));
		if (rc == DNSBL_ENOTFOUND) {
			fprintf(stderr, "dnsbl-api: no token %s in %s\n", argv[2], path);
			return 1;
		}
		if (rc < 0) {
			fprintf(stderr, "dnsbl-api: token remove: %s", err[0] ? err : "failed\n");
			return 2;
		}
		printf("token %s removed from %s\n", argv[2], path);
		return 0;
	}
	if (argc == 2 && strcmp(argv[1], "list") == 0) {
		struct token_set set = { 0 };
		rc = tokens_load(path, &set, err, sizeof(err));
		if (rc < 0 && rc != DNSBL_ENOTFOUND) {
			fputs(err, stderr);
			return 2;
		}
		for (size_t i = 0; i < set.n; i++)
			printf("%s %s\n", set.v[i].name, token_role_name(set.v[i].role));
		tokens_free(&set);
		return 0;
	}
	usage(stderr);
	return 2;
}

static int serve(struct config *cfg, bool foreground)
{
	static char err[16384];
	struct http_server *http = NULL;
	struct store *store = NULL;
	struct api api;
	sigset_t sigs;
	int sig, rc;

	if (http_listen(cfg, &http, err, sizeof(err)) < 0) {
		fprintf(stderr, "dnsbl-api: %s\n", err);
		return 1;
	}
	/* Become a daemon before any thread or LMDB environment exists. */
	if (!foreground) {
		if (daemon(0, 0) < 0) {
			log_err("cannot daemonize: %s", strerror(errno));
			return 1;
		}
		log_init("dnsbl-api", 1);
	}
	if ((rc = store_open(&store, cfg->db, STORE_CREATE)) < 0) {
		log_err("cannot open store %s: %s", cfg->db, dnsbl_strerror(rc));
		http_stop(http);
		return 1;
	}
	store_set_journal_size(store, cfg->journal_size);
	rc = api_init(&api, cfg, store, api_openapi_yaml,
		      (size_t)(api_openapi_yaml_end - api_openapi_yaml), err, sizeof(err));
	if (rc < 0) {
		log_err("cannot start: %s%s", rc == DNSBL_EINVAL ? "bad tokens file:\n" : "",
			rc == DNSBL_EINVAL ? err : dnsbl_strerror(rc));
		http_stop(http);
		store_close(store);
		return 1;
	}
	/* Signals go to this thread only: the server's threads inherit the blocked mask. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (http_start(http, &api, err, sizeof(err)) < 0) {
		log_err("%s", err);
		http_stop(http);
		api_free(&api);
		store_close(store);
		return 1;
	}
	for (unsigned i = 0; i < cfg->api_listen_count; i++)
		log_info("listening on %s (HTTP)", cfg->api_listen[i].text);
	log_info("started: %u zones, store %s, tokens %s", cfg->zone_count, cfg->db,
		 cfg->api_tokens);
	for (;;) {
		if (sigwait(&sigs, &sig) != 0)
			continue;
		if (sig == SIGHUP) {
			log_info("SIGHUP ignored: the tokens file is reread when it changes");
			continue;
		}
		log_info("signal %d: stopping", sig);
		break;
	}
	http_stop(http);
	api_free(&api);
	store_close(store);
	return 0;
}

int main(int argc, char **argv)
{
	const char *path = DEFAULT_CONFIG;
	bool foreground = false;
	static char errbuf[16384];
	struct config cfg;
	int opt, rc;

	while ((opt = getopt(argc, argv, "+c:fh")) != -1) {
		switch (opt) {
		case 'c': path = optarg; break;
		case 'f': foreground = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	bool token = optind < argc && strcmp(argv[optind], "token") == 0;
	if (optind != argc && !token) {
		usage(stderr);
		return 2;
	}
	log_init("dnsbl-api", 0);
	if (config_load(path, &cfg, errbuf, sizeof(errbuf)) < 0) {
		fputs(errbuf, stderr);
		return 2;
	}
	rc = token ? cmd_token(&cfg, argc - optind, argv + optind) : serve(&cfg, foreground);
	config_free(&cfg);
	return rc;
}
