/* The responder's sockets and threads. Per worker: one UDP thread per listen
 * address, blocked in recvmmsg on its own SO_REUSEPORT socket and answering with
 * sendmmsg, and one TCP thread (epoll; RFC 7766: length-prefixed, pipelined, idle
 * timeout, connection cap). Each thread has its own store reader and answer
 * context; all buffers are allocated at start-up. */
#ifndef DNSBLD_SERVER_H
#define DNSBLD_SERVER_H

#include "config.h"
#include "store.h"
#include "zone.h"

struct server;

/* Binds every listen address of cfg and prepares nworkers workers (0 = one per
 * CPU). cfg, zones and store must outlive the server. *out is owned by the caller
 * (server_free). Returns 0 or a negative DNSBL_E* code (the reason is logged). */
int server_create(struct server **out, const struct config *cfg, const struct zone_table *zones,
		  struct store *store);

/* Starts the worker threads. Returns 0 or DNSBL_EIO. */
int server_start(struct server *srv);

/* Asks the workers to stop, waits for them and logs their counters. */
void server_stop(struct server *srv);

/* Closes sockets and frees everything (after server_stop). */
void server_free(struct server *srv);

/* Returns the number of workers. */
unsigned server_workers(const struct server *srv);

#endif
