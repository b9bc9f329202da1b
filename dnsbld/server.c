#include "server.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
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
#define UDP_WAKE_MS 250           /* a UDP thread looks at the stop flag this often */
#define TCP_IN_SIZE (2 + 4096)    /* longest TCP query we accept, with its prefix: a longer
                                     * message closes the connection */
#define TCP_ANSWER_MAX 16384      /* longest TCP answer we build */
#define TCP_OUT_SIZE (4 * (2 + TCP_ANSWER_MAX))
#define TCP_EVENTS 64
#define EV_STOP UINT64_MAX        /* epoll data of the stop pipe */
#define EV_LISTEN (1ull << 32)    /* epoll data of listen socket i: EV_LISTEN + i */

struct tcp_conn {
	int fd;                 /* -1: free slot */
	uint32_t events;        /* what epoll watches for on it */
	int64_t last;           /* last progress (monotonic ms), for the idle timeout */
	bool eof;               /* the client closed its side: answer what came, then close */
	size_t inlen;
	size_t outpos, outlen;
	uint8_t in[TCP_IN_SIZE];
	uint8_t out[TCP_OUT_SIZE];
};

/* A UDP thread: one per worker and listen address, blocked in recvmmsg on its own
 * SO_REUSEPORT socket, so that a batch costs two system calls (as the bench's floor
 * responder does) and TCP work never delays it. */
struct udp_worker {
	struct server *srv;
	pthread_t thread;
	bool started;
	unsigned id;
	int fd;
	struct store_reader *reader;
	struct answer_ctx actx;
	struct mmsghdr rmsg[UDP_BATCH], smsg[UDP_BATCH];
	struct iovec riov[UDP_BATCH], siov[UDP_BATCH];
	struct sockaddr_storage peer[UDP_BATCH];
	uint8_t rbuf[UDP_BATCH][UDP_RECV_SIZE];
	uint8_t sbuf[UDP_BATCH][UDP_SEND_SIZE];
};

/* A TCP thread: one per worker, an epoll set over the listen sockets (shared,
 * EPOLLEXCLUSIVE) and the connections it accepted. */
struct tcp_worker {
	struct server *srv;
	pthread_t thread;
	bool started;
	unsigned id;
	int epfd;
	struct store_reader *reader;
	struct answer_ctx actx;
	unsigned conn_max;
	struct tcp_conn *conns;
	unsigned *free_slots; /* a stack of free conns[] indices */
	unsigned nfree;
	struct epoll_event events[TCP_EVENTS];
};

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

/* Makes a UDP socket blocking with a receive timeout, for its thread's loop. */
static int udp_blocking(int fd, const char *text)
{
	struct timeval tv = { .tv_sec = 0, .tv_usec = UDP_WAKE_MS * 1000 };
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0) {
		log_err("UDP socket %s: %s", text, strerror(errno));
		return -1;
	}
	return 0;
}

static int udp_worker_init(struct server *srv, struct udp_worker *u, unsigned id,
			   const struct listen_addr *la)
{
	int rc;

	u->srv = srv;
	u->id = id;
	if ((u->fd = socket_for(la, SOCK_DGRAM, true)) < 0 || udp_blocking(u->fd, la->text) < 0)
		return DNSBL_EIO;
	if ((rc = store_reader_new(srv->store, &u->reader)) < 0 ||
	    (rc = answer_ctx_init(&u->actx, srv->zones, u->reader)) < 0)
		return rc;
	for (unsigned m = 0; m < UDP_BATCH; m++) {
		u->riov[m].iov_base = u->rbuf[m];
		u->riov[m].iov_len = UDP_RECV_SIZE;
		u->rmsg[m].msg_hdr.msg_iov = &u->riov[m];
		u->rmsg[m].msg_hdr.msg_iovlen = 1;
		u->siov[m].iov_base = u->sbuf[m];
		u->smsg[m].msg_hdr.msg_iov = &u->siov[m];
		u->smsg[m].msg_hdr.msg_iovlen = 1;
	}
	return 0;
}

static int tcp_worker_init(struct server *srv, struct tcp_worker *t, unsigned id)
{
	int rc;

	t->srv = srv;
	t->id = id;
	t->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (t->epfd < 0) {
		log_err("epoll: %s", strerror(errno));
		return DNSBL_EIO;
	}
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = EV_STOP };
	if (epoll_ctl(t->epfd, EPOLL_CTL_ADD, srv->stop_pipe[0], &ev) < 0) {
		log_err("epoll: %s", strerror(errno));
		return DNSBL_EIO;
	}
	for (unsigned i = 0; i < srv->nlisten; i++) {
		/* one thread wakes per incoming connection, not all of them */
		ev = (struct epoll_event){ .events = EPOLLIN | EPOLLEXCLUSIVE,
					   .data.u64 = EV_LISTEN + i };
		if (epoll_ctl(t->epfd, EPOLL_CTL_ADD, srv->tcp_fd[i], &ev) < 0) {
			log_err("epoll: %s", strerror(errno));
			return DNSBL_EIO;
		}
	}
	/* every worker may hold every connection: the cap is global */
	t->conn_max = srv->cfg->tcp_max_connections;
	t->conns = calloc(t->conn_max, sizeof(*t->conns));
	t->free_slots = calloc(t->conn_max, sizeof(*t->free_slots));
	if (t->conns == NULL || t->free_slots == NULL)
		return DNSBL_ENOMEM;
	for (unsigned c = 0; c < t->conn_max; c++) {
		t->conns[c].fd = -1;
		t->free_slots[t->nfree++] = t->conn_max - 1 - c;
	}
	if ((rc = store_reader_new(srv->store, &t->reader)) < 0 ||
	    (rc = answer_ctx_init(&t->actx, srv->zones, t->reader)) < 0)
		return rc;
	return 0;
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
		if ((rc = udp_worker_init(srv, &srv->udp[u], u,
					  &cfg->listen[u % srv->nlisten])) < 0)
			goto fail;
	for (unsigned w = 0; w < srv->nworkers; w++)
		if ((rc = tcp_worker_init(srv, &srv->tcp[w], w)) < 0)
			goto fail;
	*out = srv;
	return 0;
fail:
	server_free(srv);
	return rc;
}

static int64_t monotonic_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Store trouble is counted per query and logged here, at most every 10 s, so that a
 * broken store cannot flood the log from the hot path. */
static void report_store_errors(const char *kind, unsigned id, const struct answer_ctx *actx,
				int64_t now, int64_t *next_report, uint64_t *reported)
{
	if (now >= *next_report && actx->stats.store_errors != *reported) {
		log_warn("%s worker %u: %llu store errors so far (answered SERVFAIL)", kind, id,
			 (unsigned long long)actx->stats.store_errors);
		*reported = actx->stats.store_errors;
		*next_report = now + 10000;
	}
}

/* Answers a batch of n received datagrams and sends the answers. */
static void udp_answer(struct udp_worker *u, unsigned n)
{
	unsigned out = 0;

	answer_batch_begin(&u->actx);
	for (unsigned m = 0; m < n; m++) {
		size_t len = u->rmsg[m].msg_len;
		if (u->rmsg[m].msg_hdr.msg_flags & MSG_TRUNC)
			len = 0; /* oversized: dropped below as too short */
		size_t alen = answer_query(&u->actx, u->rbuf[m], len, u->sbuf[out], UDP_SEND_SIZE,
					   false);
		if (alen == 0)
			continue;
		u->siov[out].iov_len = alen;
		u->smsg[out].msg_hdr.msg_name = &u->peer[m];
		u->smsg[out].msg_hdr.msg_namelen = u->rmsg[m].msg_hdr.msg_namelen;
		out++;
	}
	answer_batch_end(&u->actx);
	for (unsigned sent = 0; sent < out;) {
		int s = sendmmsg(u->fd, u->smsg + sent, out - sent, MSG_DONTWAIT);
		if (s <= 0) {
			if (s < 0 && errno == EINTR)
				continue;
			/* socket buffer full or peer unreachable: skip that answer, as a
			 * lost datagram would be */
			sent++;
			continue;
		}
		sent += (unsigned)s;
	}
}

static void *udp_main(void *arg)
{
	struct udp_worker *u = arg;
	int64_t next_report = 0;
	uint64_t reported = 0;

	while (!atomic_load_explicit(&u->srv->stopping, memory_order_relaxed)) {
		for (unsigned m = 0; m < UDP_BATCH; m++) {
			u->rmsg[m].msg_hdr.msg_name = &u->peer[m];
			u->rmsg[m].msg_hdr.msg_namelen = sizeof(u->peer[m]);
			u->rmsg[m].msg_hdr.msg_control = NULL;
			u->rmsg[m].msg_hdr.msg_controllen = 0;
			u->rmsg[m].msg_hdr.msg_flags = 0;
		}
		/* blocks for the first datagram (or the timeout), then takes what queued */
		int n = recvmmsg(u->fd, u->rmsg, UDP_BATCH, MSG_WAITFORONE, NULL);
		if (n > 0)
			udp_answer(u, (unsigned)n);
		else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
			 errno != ECONNREFUSED)
			log_warn("UDP worker %u: recvmmsg: %s", u->id, strerror(errno));
		if (u->actx.stats.store_errors != reported)
			report_store_errors("UDP", u->id, &u->actx, monotonic_ms(), &next_report,
					    &reported);
	}
	return NULL;
}

static void tcp_close(struct tcp_worker *wk, struct tcp_conn *c)
{
	close(c->fd); /* also leaves the epoll set */
	c->fd = -1;
	wk->free_slots[wk->nfree++] = (unsigned)(c - wk->conns);
	atomic_fetch_sub(&wk->srv->tcp_active, 1);
}

/* Tells epoll what c waits for: input while there is room and the client may send,
 * output while answers are pending. */
static void tcp_want(struct tcp_worker *wk, struct tcp_conn *c)
{
	uint32_t ev = 0;

	if (c->inlen < TCP_IN_SIZE && !c->eof)
		ev |= EPOLLIN | EPOLLRDHUP;
	if (c->outlen > c->outpos)
		ev |= EPOLLOUT;
	if (ev != c->events) {
		struct epoll_event e = { .events = ev, .data.u64 = (uint64_t)(c - wk->conns) };
		epoll_ctl(wk->epfd, EPOLL_CTL_MOD, c->fd, &e);
		c->events = ev;
	}
}

static void tcp_accept(struct tcp_worker *wk, int lfd, int64_t now)
{
	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		unsigned active = atomic_fetch_add(&wk->srv->tcp_active, 1);
		if (active >= wk->srv->cfg->tcp_max_connections || wk->nfree == 0) {
			/* over the cap: refuse at once rather than leave it hanging */
			atomic_fetch_sub(&wk->srv->tcp_active, 1);
			close(fd);
			continue;
		}
		struct tcp_conn *c = &wk->conns[wk->free_slots[--wk->nfree]];
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		c->fd = fd;
		c->last = now;
		c->inlen = c->outpos = c->outlen = 0;
		c->eof = false;
		c->events = EPOLLIN | EPOLLRDHUP;
		struct epoll_event e = { .events = c->events, .data.u64 = (uint64_t)(c - wk->conns) };
		if (epoll_ctl(wk->epfd, EPOLL_CTL_ADD, fd, &e) < 0) {
			log_warn("TCP worker %u: epoll: %s", wk->id, strerror(errno));
			tcp_close(wk, c);
		}
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
static bool tcp_process(struct tcp_worker *wk, struct tcp_conn *c)
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

static void tcp_serve(struct tcp_worker *wk, struct tcp_conn *c, uint32_t revents, int64_t now)
{
	if (revents & EPOLLERR) {
		tcp_close(wk, c);
		return;
	}
	if ((revents & (EPOLLIN | EPOLLHUP | EPOLLRDHUP)) && !c->eof && c->inlen < TCP_IN_SIZE) {
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
	if (c->eof && c->outlen == 0 && (c->inlen < 2 || c->inlen < 2u + wire_get_u16(c->in))) {
		tcp_close(wk, c);
		return;
	}
	tcp_want(wk, c);
}


static void *tcp_main(void *arg)
{
	struct tcp_worker *wk = arg;
	struct server *srv = wk->srv;
	int64_t idle_ms = (int64_t)srv->cfg->tcp_idle_timeout * 1000;
	/* idle connections are looked for this often: closed at most 0.5 s late */
	int64_t sweep_every = idle_ms / 10 < 500 ? idle_ms / 10 : 500;
	int64_t next_sweep = 0, next_report = 0;
	uint64_t reported = 0;

	for (;;) {
		int n = epoll_wait(wk->epfd, wk->events, TCP_EVENTS, (int)sweep_every);
		if (n < 0 && errno != EINTR) {
			log_err("TCP worker %u: epoll_wait: %s", wk->id, strerror(errno));
			break;
		}
		int64_t now = monotonic_ms();
		bool stop = false;
		for (int i = 0; i < n; i++) {
			uint64_t d = wk->events[i].data.u64;
			if (d == EV_STOP) {
				stop = true;
			} else if (d >= EV_LISTEN) {
				tcp_accept(wk, srv->tcp_fd[d - EV_LISTEN], now);
			} else {
				struct tcp_conn *c = &wk->conns[d];
				if (c->fd >= 0)
					tcp_serve(wk, c, wk->events[i].events, now);
			}
		}
		if (stop)
			break;
		if (now >= next_sweep) {
			for (unsigned i = 0; i < wk->conn_max; i++) {
				struct tcp_conn *c = &wk->conns[i];
				if (c->fd >= 0 && now - c->last >= idle_ms)
					tcp_close(wk, c);
			}
			next_sweep = now + sweep_every;
		}
		report_store_errors("TCP", wk->id, &wk->actx, now, &next_report, &reported);
	}
	return NULL;
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
}

void server_stop(struct server *srv)
{
	struct answer_stats total;

	join_all(srv);
	memset(&total, 0, sizeof(total));
	for (unsigned u = 0; u < srv->nudp; u++)
		stats_add(&total, &srv->udp[u].actx.stats);
	for (unsigned w = 0; w < srv->nworkers; w++)
		stats_add(&total, &srv->tcp[w].actx.stats);
	log_info("stopped: %llu queries, %llu NOERROR, %llu NXDOMAIN, %llu REFUSED, "
		 "%llu FORMERR, %llu NOTIMP, %llu SERVFAIL, %llu truncated, %llu dropped, "
		 "%llu store errors",
		 (unsigned long long)total.queries, (unsigned long long)total.noerror,
		 (unsigned long long)total.nxdomain, (unsigned long long)total.refused,
		 (unsigned long long)total.formerr, (unsigned long long)total.notimp,
		 (unsigned long long)total.servfail, (unsigned long long)total.truncated,
		 (unsigned long long)total.dropped, (unsigned long long)total.store_errors);
}

void server_free(struct server *srv)
{
	if (srv == NULL)
		return;
	join_all(srv);
	for (unsigned u = 0; srv->udp != NULL && u < srv->nudp; u++) {
		struct udp_worker *w = &srv->udp[u];
		if (w->fd >= 0)
			close(w->fd);
		answer_ctx_free(&w->actx);
		store_reader_free(w->reader);
	}
	for (unsigned t = 0; srv->tcp != NULL && t < srv->nworkers; t++) {
		struct tcp_worker *w = &srv->tcp[t];
		for (unsigned c = 0; w->conns != NULL && c < w->conn_max; c++)
			if (w->conns[c].fd >= 0)
				close(w->conns[c].fd);
		if (w->epfd >= 0)
			close(w->epfd);
		free(w->conns);
		free(w->free_slots);
		answer_ctx_free(&w->actx);
		store_reader_free(w->reader);
	}
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
