/* dnsbld: the authoritative DNSxL responder. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "config.h"
#include "err.h"
#include "log.h"
#include "server.h"
#include "store.h"
#include "zone.h"

#define DEFAULT_CONFIG "/etc/dnsbl/dnsbl.conf"

/* The background thread that maps the store's pages in at start-up. */
struct prefault {
	struct store *store;
	pthread_t thread;
	bool started;
	atomic_bool stop;
};

static void *prefault_main(void *arg)
{
	struct prefault *pf = arg;
	uint64_t offset = 0;

	/* lowest priority: answering comes first (a Linux thread has its own nice value) */
	setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 19);
	while (!atomic_load(&pf->stop) && store_prefault(pf->store, &offset) > 0)
		;
	return NULL;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: dnsbld [-c FILE] [-f]\n"
		   "  -c FILE  configuration file (default " DEFAULT_CONFIG ")\n"
		   "  -f       stay in the foreground and log to stderr\n");
}

/* Reads the command line. Returns -1 to go on, or the exit code (help, bad usage). */
static int parse_args(int argc, char **argv, const char **path, bool *foreground)
{
	int opt;

	while ((opt = getopt(argc, argv, "c:fh")) != -1) {
		switch (opt) {
		case 'c': *path = optarg; break;
		case 'f': *foreground = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	return -1;
}

/* Signals go to this thread only: workers inherit the blocked mask. */
static void block_signals(sigset_t *sigs)
{
	sigemptyset(sigs);
	sigaddset(sigs, SIGTERM);
	sigaddset(sigs, SIGINT);
	sigaddset(sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static void log_started(const struct config *cfg, const struct server *srv)
{
	for (unsigned i = 0; i < cfg->zone_count; i++) {
		const struct zone_config *z = &cfg->zones[i];
		log_info("zone %s: type %s, policy %s, ttl %u", z->name,
			 config_zone_type_name(z->type),
			 z->policy == ZONE_POLICY_BLOCK ? "block" : "allow", z->ttl);
	}
	for (unsigned i = 0; i < cfg->listen_count; i++)
		log_info("listening on %s (UDP and TCP)", cfg->listen[i].text);
	log_info("started: %u zones, %u workers, store %s", cfg->zone_count, server_workers(srv),
		 cfg->db);
}

/* Returns when a stop signal (SIGTERM, SIGINT) arrives. */
static void wait_for_stop(const sigset_t *sigs)
{
	int sig;

	for (;;) {
		if (sigwait(sigs, &sig) != 0)
			continue;
		if (sig == SIGHUP) {
			/* data changes need no signal: the store is read live */
			log_info("SIGHUP ignored: store changes are served without reload");
			continue;
		}
		log_info("signal %d: stopping", sig);
		break;
	}
}

int main(int argc, char **argv)
{
	const char *path = DEFAULT_CONFIG;
	bool foreground = false;
	static char errbuf[16384];
	struct config cfg;
	struct zone_table zones;
	struct store *store = NULL;
	struct server *srv = NULL;
	sigset_t sigs;
	int rc;

	if ((rc = parse_args(argc, argv, &path, &foreground)) >= 0)
		return rc;
	log_init("dnsbld", 0);
	if (config_load(path, &cfg, errbuf, sizeof(errbuf)) < 0) {
		fputs(errbuf, stderr);
		return 1;
	}
	/* Become a daemon before any thread or LMDB environment exists. */
	if (!foreground) {
		if (daemon(0, 0) < 0) {
			log_err("cannot daemonize: %s", strerror(errno));
			return 1;
		}
		log_init("dnsbld", 1);
	}
	if ((rc = zone_table_init(&zones, &cfg)) < 0) {
		log_err("zones: %s", dnsbl_strerror(rc));
		return 1;
	}
	rc = store_open(&store, cfg.db, STORE_RDONLY | STORE_CREATE);
	if (rc < 0) {
		log_err("cannot open store %s: %s", cfg.db, dnsbl_strerror(rc));
		return 1;
	}
	block_signals(&sigs);

	if ((rc = server_create(&srv, &cfg, &zones, store)) < 0 || (rc = server_start(srv)) < 0) {
		log_err("cannot start: %s", dnsbl_strerror(rc));
		server_free(srv);
		store_close(store);
		return 1;
	}
	struct prefault pf = { .store = store };
	pf.started = pthread_create(&pf.thread, NULL, prefault_main, &pf) == 0;
	log_started(&cfg, srv);
	wait_for_stop(&sigs);
	atomic_store(&pf.stop, true);
	if (pf.started)
		pthread_join(pf.thread, NULL);
	server_stop(srv);
	server_free(srv);
	store_close(store);
	zone_table_free(&zones);
	config_free(&cfg);
	return 0;
}
