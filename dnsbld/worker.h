/* Private to dnsbld/server.c, udp.c and tcp.c: the server state that the UDP and
 * TCP workers read, and the clock and store-error report both loops use. The
 * helpers are static inline so that the loops compile as they did in one file. */
#ifndef DNSBLD_WORKER_H
#define DNSBLD_WORKER_H

#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

#include "answer.h"
#include "config.h"
#include "log.h"
#include "store.h"
#include "zone.h"

struct udp_worker;
struct tcp_worker;
struct notifier;

struct server {
	const struct config *cfg;
	const struct zone_table *zones;
	struct store *store;
	unsigned nlisten;
	int tcp_fd[CONFIG_MAX_LISTEN];
	unsigned nworkers;
	unsigned nudp;          /* nworkers * nlisten */
	struct udp_worker *udp;
	struct tcp_worker *tcp;
	int stop_pipe[2];
	atomic_bool stopping;
	atomic_uint tcp_active; /* connections open across all workers */
	atomic_uint xfr_active; /* transfer threads running (dnsbld/xfr.c) */
	struct notifier *notifier; /* NULL when no zone has notify targets */
};

/* Returns the monotonic clock in milliseconds. */
static inline int64_t monotonic_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Logs the worker's store error count when it grew, at most every 10 s ("UDP" or
 * "TCP" worker id). Store trouble is counted per query and logged here, so that a
 * broken store cannot flood the log from the hot path. */
static inline void report_store_errors(const char *kind, unsigned id,
				       const struct answer_ctx *actx, int64_t now,
				       int64_t *next_report, uint64_t *reported)
{
	if (now >= *next_report && actx->stats.store_errors != *reported) {
		log_warn("%s worker %u: %llu store errors so far (answered SERVFAIL)", kind, id,
			 (unsigned long long)actx->stats.store_errors);
		*reported = actx->stats.store_errors;
		*next_report = now + 10000;
	}
}

#endif
