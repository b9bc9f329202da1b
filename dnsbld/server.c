#include "server.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "answer.h"
#include "err.h"
#include "log.h"
#include "notify.h"
#include "tcp.h"
#include "udp.h"
#include "worker.h"

/* Opens a non-blocking socket of type bound to la (SO_REUSEPORT if asked, so that
 * every UDP worker gets its own). Returns the fd or -1 (logged). */
static int socket_for(const struct listen_addr *la, int type, bool reuseport)
{
	int one = 1;
	int fd = socket(la->ss.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0) {
		log_err("socket for %s: %s", la->text, strerror(errno));
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0) {
		log_err("SO_REUSEPORT on %s: %s", la->text, strerror(errno));
		close(fd);
		return -1;
	}
	if (la->ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)&la->ss, la->sslen) < 0) {
		log_err("cannot bind %s %s: %s", type == SOCK_STREAM ? "TCP" : "UDP", la->text,
			strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* Binds a UDP socket for worker u on la and prepares the worker around it. */
static int udp_worker_open(struct server *srv, struct udp_worker *u, unsigned id,
			   const struct listen_addr *la)
{
	int fd = socket_for(la, SOCK_DGRAM, true);

	if (fd < 0)
		return DNSBL_EIO;
	return udp_worker_init(u, srv, id, fd, la->text);
}

int server_create(struct server **out, const struct config *cfg, const struct zone_table *zones,
		  struct store *store)
{
	struct server *srv = calloc(1, sizeof(*srv));
	long ncpu;
	int rc = DNSBL_EIO;

	if (srv == NULL)
		return DNSBL_ENOMEM;
	srv->cfg = cfg;
	srv->zones = zones;
	srv->store = store;
	srv->nlisten = cfg->listen_count;
	srv->stop_pipe[0] = srv->stop_pipe[1] = -1;
	for (unsigned i = 0; i < CONFIG_MAX_LISTEN; i++)
		srv->tcp_fd[i] = -1;
	ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	srv->nworkers = cfg->threads ? cfg->threads : (ncpu > 0 ? (unsigned)ncpu : 1);
	if (pipe2(srv->stop_pipe, O_CLOEXEC) < 0)
		goto fail;
	for (unsigned i = 0; i < srv->nlisten; i++) {
		srv->tcp_fd[i] = socket_for(&cfg->listen[i], SOCK_STREAM, false);
		if (srv->tcp_fd[i] < 0)
			goto fail;
		if (listen(srv->tcp_fd[i], 1024) < 0) {
			log_err("listen %s: %s", cfg->listen[i].text, strerror(errno));
			goto fail;
		}
	}
	srv->nudp = srv->nworkers * srv->nlisten;
	srv->udp = calloc(srv->nudp, sizeof(*srv->udp));
	srv->tcp = calloc(srv->nworkers, sizeof(*srv->tcp));
	if (srv->udp == NULL || srv->tcp == NULL) {
		rc = DNSBL_ENOMEM;
		goto fail;
	}
	for (unsigned u = 0; u < srv->nudp; u++)
		srv->udp[u].fd = -1;
	for (unsigned w = 0; w < srv->nworkers; w++)
		srv->tcp[w].epfd = -1;
	for (unsigned u = 0; u < srv->nudp; u++)
		if ((rc = udp_worker_open(srv, &srv->udp[u], u,
					  &cfg->listen[u % srv->nlisten])) < 0)
			goto fail;
	for (unsigned w = 0; w < srv->nworkers; w++)
		if ((rc = tcp_worker_init(&srv->tcp[w], srv, w)) < 0)
			goto fail;
	*out = srv;
	return 0;
fail:
	server_free(srv);
	return rc;
}

static int start_thread(pthread_t *t, void *(*fn)(void *), void *arg, bool *started)
{
	int rc = pthread_create(t, NULL, fn, arg);

	if (rc != 0) {
		log_err("cannot start a worker thread: %s", strerror(rc));
		return DNSBL_EIO;
	}
	*started = true;
	return 0;
}

/* Asks every thread to stop and waits for those running. */
static void join_all(struct server *srv)
{
	atomic_store(&srv->stopping, true);
	if (srv->stop_pipe[1] >= 0) {
		close(srv->stop_pipe[1]); /* every TCP worker sees EPOLLHUP */
		srv->stop_pipe[1] = -1;
	}
	for (unsigned u = 0; srv->udp != NULL && u < srv->nudp; u++) {
		if (srv->udp[u].started)
			pthread_join(srv->udp[u].thread, NULL);
		srv->udp[u].started = false;
	}
	for (unsigned w = 0; srv->tcp != NULL && w < srv->nworkers; w++) {
		if (srv->tcp[w].started)
			pthread_join(srv->tcp[w].thread, NULL);
		srv->tcp[w].started = false;
	}
	notifier_stop(srv->notifier); /* it too sees the stop pipe hang up */
	srv->notifier = NULL;
}

int server_start(struct server *srv)
{
	for (unsigned u = 0; u < srv->nudp; u++) {
		if (start_thread(&srv->udp[u].thread, udp_main, &srv->udp[u],
				 &srv->udp[u].started) < 0) {
			join_all(srv);
			return DNSBL_EIO;
		}
	}
	for (unsigned w = 0; w < srv->nworkers; w++) {
		if (start_thread(&srv->tcp[w].thread, tcp_main, &srv->tcp[w],
				 &srv->tcp[w].started) < 0) {
			join_all(srv);
			return DNSBL_EIO;
		}
	}
	if (notifier_needed(srv->cfg) &&
	    notifier_start(&srv->notifier, srv->cfg, srv->zones, srv->store, srv->stop_pipe[0]) <
		    0) {
		join_all(srv);
		return DNSBL_EIO;
	}
	return 0;
}

static void stats_add(struct answer_stats *total, const struct answer_stats *s)
{
	total->queries += s->queries;
	total->dropped += s->dropped;
	total->noerror += s->noerror;
	total->nxdomain += s->nxdomain;
	total->refused += s->refused;
	total->formerr += s->formerr;
	total->notimp += s->notimp;
	total->servfail += s->servfail;
	total->truncated += s->truncated;
	total->store_errors += s->store_errors;
	total->tsig_rejected += s->tsig_rejected;
}

void server_stop(struct server *srv)
{
	struct answer_stats total;

	join_all(srv);
	/* transfer threads stop at their next message once stopping is set */
	for (int i = 0; i < 500 && atomic_load(&srv->xfr_active) > 0; i++)
		usleep(10000);
	memset(&total, 0, sizeof(total));
	for (unsigned u = 0; u < srv->nudp; u++)
		stats_add(&total, &srv->udp[u].actx.stats);
	for (unsigned w = 0; w < srv->nworkers; w++)
		stats_add(&total, &srv->tcp[w].actx.stats);
	log_info("stopped: %llu queries, %llu NOERROR, %llu NXDOMAIN, %llu REFUSED, "
		 "%llu FORMERR, %llu NOTIMP, %llu SERVFAIL, %llu truncated, %llu dropped, "
		 "%llu store errors, %llu signed queries rejected (TSIG)",
		 (unsigned long long)total.queries, (unsigned long long)total.noerror,
		 (unsigned long long)total.nxdomain, (unsigned long long)total.refused,
		 (unsigned long long)total.formerr, (unsigned long long)total.notimp,
		 (unsigned long long)total.servfail, (unsigned long long)total.truncated,
		 (unsigned long long)total.dropped, (unsigned long long)total.store_errors,
		 (unsigned long long)total.tsig_rejected);
}

void server_free(struct server *srv)
{
	if (srv == NULL)
		return;
	join_all(srv);
	for (unsigned u = 0; srv->udp != NULL && u < srv->nudp; u++)
		udp_worker_free(&srv->udp[u]);
	for (unsigned t = 0; srv->tcp != NULL && t < srv->nworkers; t++)
		tcp_worker_free(&srv->tcp[t]);
	free(srv->udp);
	free(srv->tcp);
	for (unsigned i = 0; i < CONFIG_MAX_LISTEN; i++)
		if (srv->tcp_fd[i] >= 0)
			close(srv->tcp_fd[i]);
	for (unsigned i = 0; i < 2; i++)
		if (srv->stop_pipe[i] >= 0)
			close(srv->stop_pipe[i]);
	free(srv);
}

unsigned server_workers(const struct server *srv)
{
	return srv->nworkers;
}
