/* Private to dnsbld: a UDP worker thread. One per worker and listen address,
 * blocked in recvmmsg on its own SO_REUSEPORT socket and answering with sendmmsg,
 * so that a batch costs two system calls (as the bench's floor responder does) and
 * TCP work never delays it. Its buffers are part of the struct, sized once. */
#ifndef DNSBLD_UDP_H
#define DNSBLD_UDP_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "answer.h"
#include "store.h"
#include "worker.h"

#define UDP_BATCH 64
#define UDP_RECV_SIZE 4096        /* larger datagrams are dropped: no query is that long */
#define UDP_SEND_SIZE 4096

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

/* Prepares u (zeroed) as worker id of srv on fd, a bound UDP socket named addr_text
 * in messages: makes fd blocking with a wake-up timeout, opens u's store reader and
 * answer context, points the message headers at the buffers. u owns fd from here on,
 * failure included (udp_worker_free closes it). Returns 0, DNSBL_EIO (logged) or the
 * reader's or answer context's error code. */
int udp_worker_init(struct udp_worker *u, struct server *srv, unsigned id, int fd,
		    const char *addr_text);

/* Closes u's socket and frees its reader and answer context (u not running). */
void udp_worker_free(struct udp_worker *u);

/* The thread body (arg: the struct udp_worker): answers batches until
 * srv->stopping is set, which it sees within UDP_WAKE_MS (udp.c). Returns NULL. */
void *udp_main(void *arg);

#endif
