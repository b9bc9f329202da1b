#include "tcp.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "err.h"
#include "log.h"
#include "wire.h"
#include "xfr.h"

#define TCP_IN_SIZE (2 + 4096)    /* longest TCP query we accept, with its prefix: a longer
                                     * message closes the connection */
#define TCP_ANSWER_MAX 16384      /* longest TCP answer we build */
#define TCP_OUT_SIZE (4 * (2 + TCP_ANSWER_MAX))
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

int tcp_worker_init(struct tcp_worker *t, struct server *srv, unsigned id)
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

void tcp_worker_free(struct tcp_worker *t)
{
	for (unsigned c = 0; t->conns != NULL && c < t->conn_max; c++)
		if (t->conns[c].fd >= 0)
			close(t->conns[c].fd);
	if (t->epfd >= 0)
		close(t->epfd);
	free(t->conns);
	free(t->free_slots);
	answer_ctx_free(&t->actx);
	store_reader_free(t->reader);
}

static void tcp_close(struct tcp_worker *wk, struct tcp_conn *c)
{
	close(c->fd); /* also leaves the epoll set */
	c->fd = -1;
	wk->free_slots[wk->nfree++] = (unsigned)(c - wk->conns);
	atomic_fetch_sub(&wk->srv->tcp_active, 1);
}

/* Gives c's socket away (to a transfer thread): the slot is free, the fd stays open. */
static void tcp_detach(struct tcp_worker *wk, struct tcp_conn *c)
{
	epoll_ctl(wk->epfd, EPOLL_CTL_DEL, c->fd, NULL);
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

/* Answers every complete query in the input buffer while there is room; a zone
 * transfer request hands the connection to dnsbld/xfr.c (*detached). */
static bool tcp_process(struct tcp_worker *wk, struct tcp_conn *c, bool *detached)
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
		size_t alen = 0;
		int x = xfr_maybe(c->in + off + 2, qlen)
				? xfr_take(wk->srv, wk->actx.tsig, c->fd, c->in + off + 2, qlen, c->out + c->outpos,
					   c->outlen - c->outpos, c->out + c->outlen + 2,
					   TCP_ANSWER_MAX, &alen)
				: XFR_NOT_XFR;
		if (x == XFR_TAKEN) {
			answer_batch_end(&wk->actx);
			tcp_detach(wk, c);
			*detached = true;
			return true;
		}
		if (x == XFR_NOT_XFR)
			alen = answer_query(&wk->actx, c->in + off + 2, qlen, c->out + c->outlen + 2,
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
	bool detached = false;
	if (!tcp_process(wk, c, &detached) || detached || !tcp_flush(c, now)) {
		if (!detached)
			tcp_close(wk, c);
		return;
	}
	/* output drained: queries held back for room can go now */
	if (c->outlen == 0 && c->inlen >= 2 &&
	    (!tcp_process(wk, c, &detached) || detached || !tcp_flush(c, now))) {
		if (!detached)
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

void *tcp_main(void *arg)
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
