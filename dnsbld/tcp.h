/* Private to dnsbld: a TCP worker thread. One per worker, an epoll set over the
 * listen sockets (shared, EPOLLEXCLUSIVE) and the connections it accepted (RFC 7766:
 * length-prefixed, pipelined, idle timeout, a connection cap across all workers).
 * Its connection slots are allocated once, at start-up. */
#ifndef DNSBLD_TCP_H
#define DNSBLD_TCP_H

#include <pthread.h>
#include <stdbool.h>
#include <sys/epoll.h>

#include "answer.h"
#include "store.h"
#include "worker.h"

#define TCP_EVENTS 64

struct tcp_conn; /* tcp.c */

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

/* Prepares t (zeroed but for epfd = -1) as worker id of srv: an epoll set over
 * srv's stop pipe and listen sockets, srv->cfg->tcp_max_connections connection
 * slots, a store reader and an answer context. On failure tcp_worker_free releases
 * what was made. Returns 0, DNSBL_EIO (logged), DNSBL_ENOMEM or the reader's or
 * answer context's error code. */
int tcp_worker_init(struct tcp_worker *t, struct server *srv, unsigned id);

/* Closes t's connections and epoll set and frees what tcp_worker_init made (t not
 * running). */
void tcp_worker_free(struct tcp_worker *t);

/* The thread body (arg: the struct tcp_worker): serves connections until the
 * server's stop pipe is closed or epoll fails. Returns NULL. */
void *tcp_main(void *arg);

#endif
