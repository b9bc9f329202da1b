#include "udp.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "err.h"
#include "log.h"

#define UDP_WAKE_MS 250           /* a UDP thread looks at the stop flag this often */

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

int udp_worker_init(struct udp_worker *u, struct server *srv, unsigned id, int fd,
		    const char *addr_text)
{
	int rc;

	u->srv = srv;
	u->id = id;
	u->fd = fd;
	if (udp_blocking(u->fd, addr_text) < 0)
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

void udp_worker_free(struct udp_worker *u)
{
	if (u->fd >= 0)
		close(u->fd);
	answer_ctx_free(&u->actx);
	store_reader_free(u->reader);
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

void *udp_main(void *arg)
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
