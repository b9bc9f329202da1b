#include "server.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "answer.h"
#include "err.h"
#include "log.h"
#include "wire.h"

#define UDP_BATCH 64
#define UDP_RECV_SIZE 4096        /* larger datagrams are dropped: no query is that long */
#define UDP_SEND_SIZE 4096
#define UDP_ROUNDS 16             /* batches per readiness before polling again */
#define TCP_IN_SIZE (2 + 4096)    /* longest TCP query we accept, with its prefix: a longer
                                     * message closes the connection */
#define TCP_ANSWER_MAX 16384      /* longest TCP answer we build */
#define TCP_OUT_SIZE (4 * (2 + TCP_ANSWER_MAX))

struct tcp_conn {
	int fd;                 /* -1: free slot */
	int64_t last;           /* last progress (monotonic ms), for the idle timeout */
	bool eof;               /* the client closed its side: answer what came, then close */
	size_t inlen;
	size_t outpos, outlen;
	uint8_t in[TCP_IN_SIZE];
	uint8_t out[TCP_OUT_SIZE];
};

struct worker {
	struct server *srv;
	pthread_t thread;
	unsigned id;
	int udp_fd[CONFIG_MAX_LISTEN];
	struct store_reader *reader;
	struct answer_ctx actx;
	struct pollfd *pfd;
	unsigned conn_max;
	struct tcp_conn *conns;
	/* UDP batch buffers */
	struct mmsghdr rmsg[UDP_BATCH], smsg[UDP_BATCH];
	struct iovec riov[UDP_BATCH], siov[UDP_BATCH];
	struct sockaddr_storage peer[UDP_BATCH];
	uint8_t rbuf[UDP_BATCH][UDP_RECV_SIZE];
	uint8_t sbuf[UDP_BATCH][UDP_SEND_SIZE];
};

struct server {
	const struct config *cfg;
	const struct zone_table *zones;
	struct store *store;
	unsigned nlisten;
	int tcp_fd[CONFIG_MAX_LISTEN];
	unsigned nworkers;     /* running (or to run) */
	unsigned nalloc;       /* allocated, for server_free */
	struct worker *workers;
	int stop_pipe[2];
	atomic_uint tcp_active; /* connections open across all workers */
};

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
		if (listen(srv->tcp_fd[i], 128) < 0) {
			log_err("listen %s: %s", cfg->listen[i].text, strerror(errno));
			goto fail;
		}
	}
	srv->workers = calloc(srv->nworkers, sizeof(*srv->workers));
	if (srv->workers == NULL) {
		rc = DNSBL_ENOMEM;
		goto fail;
	}
	srv->nalloc = srv->nworkers;
	for (unsigned w = 0; w < srv->nworkers; w++) {
		struct worker *wk = &srv->workers[w];
		wk->srv = srv;
		wk->id = w;
		for (unsigned i = 0; i < CONFIG_MAX_LISTEN; i++)
			wk->udp_fd[i] = -1;
	}
	for (unsigned w = 0; w < srv->nworkers; w++) {
		struct worker *wk = &srv->workers[w];
		for (unsigned i = 0; i < srv->nlisten; i++) {
			wk->udp_fd[i] = socket_for(&cfg->listen[i], SOCK_DGRAM, true);
			if (wk->udp_fd[i] < 0)
				goto fail;
		}
		/* every worker may hold every connection: the cap is global */
		wk->conn_max = cfg->tcp_max_connections;
		wk->conns = calloc(wk->conn_max, sizeof(*wk->conns));
		wk->pfd = calloc(1 + 2 * srv->nlisten + wk->conn_max, sizeof(*wk->pfd));
		if (wk->conns == NULL || wk->pfd == NULL) {
			rc = DNSBL_ENOMEM;
			goto fail;
		}
		for (unsigned c = 0; c < wk->conn_max; c++)
			wk->conns[c].fd = -1;
		if ((rc = store_reader_new(store, &wk->reader)) < 0 ||
		    (rc = answer_ctx_init(&wk->actx, zones, wk->reader)) < 0)
			goto fail;
		for (unsigned m = 0; m < UDP_BATCH; m++) {
			wk->riov[m].iov_base = wk->rbuf[m];
			wk->riov[m].iov_len = UDP_RECV_SIZE;
			wk->rmsg[m].msg_hdr.msg_iov = &wk->riov[m];
			wk->rmsg[m].msg_hdr.msg_iovlen = 1;
			wk->siov[m].iov_base = wk->sbuf[m];
			wk->smsg[m].msg_hdr.msg_iov = &wk->siov[m];
			wk->smsg[m].msg_hdr.msg_iovlen = 1;
		}
	}
	*out = srv;
	return 0;
fail:
	server_free(srv);
	return rc;
}

/* Receives, answers and sends up to UDP_ROUNDS batches from one socket. */
static void udp_serve(struct worker *wk, int fd)
{
	for (unsigned round = 0; round < UDP_ROUNDS; round++) {
		for (unsigned m = 0; m < UDP_BATCH; m++) {
			wk->rmsg[m].msg_hdr.msg_name = &wk->peer[m];
			wk->rmsg[m].msg_hdr.msg_namelen = sizeof(wk->peer[m]);
			wk->rmsg[m].msg_hdr.msg_control = NULL;
			wk->rmsg[m].msg_hdr.msg_controllen = 0;
			wk->rmsg[m].msg_hdr.msg_flags = 0;
		}
		int n = recvmmsg(fd, wk->rmsg, UDP_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			return;
		unsigned out = 0;
		answer_batch_begin(&wk->actx);
		for (int m = 0; m < n; m++) {
			size_t len = wk->rmsg[m].msg_len;
			if (wk->rmsg[m].msg_hdr.msg_flags & MSG_TRUNC)
				len = 0; /* oversized: dropped below as too short */
			size_t alen = answer_query(&wk->actx, wk->rbuf[m], len, wk->sbuf[out],
						   UDP_SEND_SIZE, false);
			if (alen == 0)
				continue;
			wk->siov[out].iov_len = alen;
			wk->smsg[out].msg_hdr.msg_name = &wk->peer[m];
			wk->smsg[out].msg_hdr.msg_namelen = wk->rmsg[m].msg_hdr.msg_namelen;
			out++;
		}
		answer_batch_end(&wk->actx);
		for (unsigned sent = 0; sent < out;) {
			int s = sendmmsg(fd, wk->smsg + sent, out - sent, MSG_DONTWAIT);
			if (s <= 0) {
				if (s < 0 && errno == EINTR)
					continue;
				/* socket buffer full or peer unreachable: skip that answer,
				 * as a lost datagram would be */
				sent++;
				continue;
			}
			sent += (unsigned)s;
		}
		if (n < UDP_BATCH)
			return;
	}
}

static int64_t monotonic_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void tcp_close(struct worker *wk, struct tcp_conn *c)
{
	close(c->fd);
	c->fd = -1;
	atomic_fetch_sub(&wk->srv->tcp_active, 1);
}

static void tcp_accept(struct worker *wk, int lfd, int64_t now)
{
	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		unsigned active = atomic_fetch_add(&wk->srv->tcp_active, 1);
		struct tcp_conn *c = NULL;
		if (active < wk->srv->cfg->tcp_max_connections) {
			for (unsigned i = 0; i < wk->conn_max; i++) {
				if (wk->conns[i].fd < 0) {
					c = &wk->conns[i];
					break;
				}
			}
		}
		if (c == NULL) {
			/* over the cap: refuse at once rather than leave it hanging */
			atomic_fetch_sub(&wk->srv->tcp_active, 1);
			close(fd);
			continue;
		}
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		c->fd = fd;
		c->last = now;
		c->inlen = c->outpos = c->outlen = 0;
		c->eof = false;
	}
}

/* Sends what is pending; returns false when the connection failed. */
static bool tcp_flush(struct tcp_conn *c, int64_t now)
{
	while (c->outpos < c->outlen) {
		ssize_t n = send(c->fd, c->out + c->outpos, c->outlen - c->outpos,
				 MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
		c->outpos += (size_t)n;
		c->last = now;
	}
	c->outpos = c->outlen = 0;
	return true;
}

/* Answers every complete query in the input buffer while there is room. */
static bool tcp_process(struct worker *wk, struct tcp_conn *c)
{
	size_t off = 0;
	bool began = false;

	while (c->inlen - off >= 2) {
		size_t qlen = wire_get_u16(c->in + off);
		if (qlen + 2 > TCP_IN_SIZE || qlen < DNS_HEADER_SIZE)
			return false; /* cannot be a query we answer: hang up */
		if (c->inlen - off < 2 + qlen)
			break;
		if (c->outpos > 0) {
			memmove(c->out, c->out + c->outpos, c->outlen - c->outpos);
			c->outlen -= c->outpos;
			c->outpos = 0;
		}
		if (TCP_OUT_SIZE - c->outlen < 2 + TCP_ANSWER_MAX)
			break; /* the client is not reading: wait */
		if (!began) {
			answer_batch_begin(&wk->actx);
			began = true;
		}
		size_t alen = answer_query(&wk->actx, c->in + off + 2, qlen, c->out + c->outlen + 2,
					   TCP_ANSWER_MAX, true);
		if (alen > 0) {
			c->out[c->outlen] = (uint8_t)(alen >> 8);
			c->out[c->outlen + 1] = (uint8_t)alen;
			c->outlen += 2 + alen;
		}
		off += 2 + qlen;
	}
	if (began)
		answer_batch_end(&wk->actx);
	if (off > 0) {
		memmove(c->in, c->in + off, c->inlen - off);
		c->inlen -= off;
	}
	return true;
}

static void tcp_serve(struct worker *wk, struct tcp_conn *c, short revents, int64_t now)
{
	if (revents & (POLLERR | POLLNVAL)) {
		tcp_close(wk, c);
		return;
	}
	if ((revents & (POLLIN | POLLHUP)) && !c->eof && c->inlen < TCP_IN_SIZE) {
		ssize_t n = recv(c->fd, c->in + c->inlen, TCP_IN_SIZE - c->inlen, MSG_DONTWAIT);
		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			tcp_close(wk, c);
			return;
		}
		if (n == 0)
			c->eof = true; /* pipelined queries already read still get answers */
		if (n > 0) {
			c->inlen += (size_t)n;
			c->last = now;
		}
	}
	if (!tcp_process(wk, c) || !tcp_flush(c, now)) {
		tcp_close(wk, c);
		return;
	}
	/* output drained: queries held back for room can go now */
	if (c->outlen == 0 && c->inlen >= 2 && (!tcp_process(wk, c) || !tcp_flush(c, now))) {
		tcp_close(wk, c);
		return;
	}
	/* after EOF, close once everything answerable is sent */
	if (c->eof && c->outlen == 0 && (c->inlen < 2 || c->inlen < 2u + wire_get_u16(c->in)))
		tcp_close(wk, c);
}

static void *worker_main(void *arg)
{
	struct worker *wk = arg;
	struct server *srv = wk->srv;
	int64_t idle_ms = (int64_t)srv->cfg->tcp_idle_timeout * 1000;
	int64_t next_report = 0;
	uint64_t reported_errors = 0;

	for (;;) {
		unsigned n = 0;
		wk->pfd[n++] = (struct pollfd){ .fd = srv->stop_pipe[0], .events = POLLIN };
		for (unsigned i = 0; i < srv->nlisten; i++) {
			wk->pfd[n++] = (struct pollfd){ .fd = wk->udp_fd[i], .events = POLLIN };
			wk->pfd[n++] = (struct pollfd){ .fd = srv->tcp_fd[i], .events = POLLIN };
		}
		unsigned first_conn = n;
		for (unsigned i = 0; i < wk->conn_max; i++) {
			struct tcp_conn *c = &wk->conns[i];
			if (c->fd < 0)
				continue;
			short ev = 0;
			if (c->inlen < TCP_IN_SIZE && !c->eof)
				ev |= POLLIN;
			if (c->outlen > c->outpos)
				ev |= POLLOUT;
			wk->pfd[n++] = (struct pollfd){ .fd = c->fd, .events = ev };
		}
		/* wake often enough to close idle connections close to their deadline */
		int rc = poll(wk->pfd, n, idle_ms < 4000 ? (int)(idle_ms / 4) : 1000);
		if (rc < 0 && errno != EINTR) {
			log_err("worker %u: poll: %s", wk->id, strerror(errno));
			break;
		}
		if (wk->pfd[0].revents)
			break;
		int64_t now = monotonic_ms();
		for (unsigned i = 0; i < srv->nlisten; i++) {
			if (wk->pfd[1 + 2 * i].revents & POLLIN)
				udp_serve(wk, wk->udp_fd[i]);
			if (wk->pfd[2 + 2 * i].revents & POLLIN)
				tcp_accept(wk, srv->tcp_fd[i], now);
		}
		/* connections in pfd order; new ones accepted above wait for the next poll */
		unsigned p = first_conn;
		for (unsigned i = 0; i < wk->conn_max && p < n; i++) {
			struct tcp_conn *c = &wk->conns[i];
			if (c->fd < 0 || wk->pfd[p].fd != c->fd)
				continue;
			short re = wk->pfd[p++].revents;
			if (re)
				tcp_serve(wk, c, re, now);
		}
		for (unsigned i = 0; i < wk->conn_max; i++) {
			struct tcp_conn *c = &wk->conns[i];
			if (c->fd >= 0 && now - c->last >= idle_ms)
				tcp_close(wk, c);
		}
		/* store trouble is counted per query and reported here, at most every
		 * 10 s, so a broken store cannot flood the log from the hot path */
		if (now >= next_report && wk->actx.stats.store_errors != reported_errors) {
			log_warn("worker %u: %llu store errors so far (answered SERVFAIL)", wk->id,
				 (unsigned long long)wk->actx.stats.store_errors);
			reported_errors = wk->actx.stats.store_errors;
			next_report = now + 10000;
		}
	}
	return NULL;
}

int server_start(struct server *srv)
{
	for (unsigned w = 0; w < srv->nworkers; w++) {
		int rc = pthread_create(&srv->workers[w].thread, NULL, worker_main, &srv->workers[w]);
		if (rc != 0) {
			log_err("cannot start worker %u: %s", w, strerror(rc));
			/* stop those already running */
			close(srv->stop_pipe[1]);
			srv->stop_pipe[1] = -1;
			for (unsigned j = 0; j < w; j++)
				pthread_join(srv->workers[j].thread, NULL);
			srv->nworkers = 0;
			return DNSBL_EIO;
		}
	}
	return 0;
}

void server_stop(struct server *srv)
{
	struct answer_stats total;

	if (srv->stop_pipe[1] >= 0) {
		close(srv->stop_pipe[1]); /* every worker sees POLLHUP */
		srv->stop_pipe[1] = -1;
	}
	memset(&total, 0, sizeof(total));
	for (unsigned w = 0; w < srv->nworkers; w++) {
		struct worker *wk = &srv->workers[w];
		pthread_join(wk->thread, NULL);
		const struct answer_stats *s = &wk->actx.stats;
		total.queries += s->queries;
		total.dropped += s->dropped;
		total.noerror += s->noerror;
		total.nxdomain += s->nxdomain;
		total.refused += s->refused;
		total.formerr += s->formerr;
		total.notimp += s->notimp;
		total.servfail += s->servfail;
		total.truncated += s->truncated;
		total.store_errors += s->store_errors;
	}
	log_info("stopped: %llu queries, %llu NOERROR, %llu NXDOMAIN, %llu REFUSED, "
		 "%llu FORMERR, %llu NOTIMP, %llu SERVFAIL, %llu truncated, %llu dropped, "
		 "%llu store errors",
		 (unsigned long long)total.queries, (unsigned long long)total.noerror,
		 (unsigned long long)total.nxdomain, (unsigned long long)total.refused,
		 (unsigned long long)total.formerr, (unsigned long long)total.notimp,
		 (unsigned long long)total.servfail, (unsigned long long)total.truncated,
		 (unsigned long long)total.dropped, (unsigned long long)total.store_errors);
	srv->nworkers = 0;
}

void server_free(struct server *srv)
{
	if (srv == NULL)
		return;
	for (unsigned w = 0; srv->workers != NULL && w < srv->nalloc; w++) {
		struct worker *wk = &srv->workers[w];
		for (unsigned i = 0; i < CONFIG_MAX_LISTEN; i++)
			if (wk->udp_fd[i] >= 0)
				close(wk->udp_fd[i]);
		for (unsigned c = 0; wk->conns != NULL && c < wk->conn_max; c++)
			if (wk->conns[c].fd >= 0)
				close(wk->conns[c].fd);
		free(wk->conns);
		free(wk->pfd);
		answer_ctx_free(&wk->actx);
		store_reader_free(wk->reader);
	}
	free(srv->workers);
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
