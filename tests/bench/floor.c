/* The floor responder of tests/bench/dns_bench.py: the least work a UDP DNS server can
 * do per query on this kernel, so its answers per CPU-second bound every real server's.
 *
 *   floor ADDRESS PORT
 *
 * One thread, one UDP socket bound to ADDRESS:PORT (IPv4). Blocking recvmmsg with
 * MSG_WAITFORONE fetches up to 64 datagrams; each query (at least a 12-byte header,
 * QR clear) gets QR set and RCODE = NXDOMAIN and goes back as it came, question and
 * all, to its sender; one sendmmsg per batch. No parsing, no lookup. Responses
 * (QR set) and runts are dropped. SIGTERM or SIGINT: exit 0. Prints "ready" on stdout
 * once bound.
 *
 * Build: cc -O2 -o floor floor.c (dns_bench.py does it). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define BATCH 64
#define BUFSZ 4096

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: floor ADDRESS PORT\n");
		return 2;
	}
	struct sockaddr_in sa;
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)atoi(argv[2]));
	if (inet_pton(AF_INET, argv[1], &sa.sin_addr) != 1) {
		fprintf(stderr, "floor: bad address %s\n", argv[1]);
		return 2;
	}
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		perror("floor: socket/bind");
		return 1;
	}

	struct sigaction act;
	memset(&act, 0, sizeof act);
	act.sa_handler = on_signal; /* no SA_RESTART: recvmmsg returns EINTR */
	sigaction(SIGTERM, &act, NULL);
	sigaction(SIGINT, &act, NULL);

	static unsigned char bufs[BATCH][BUFSZ];
	static struct sockaddr_in peers[BATCH];
	static struct iovec in_iov[BATCH], out_iov[BATCH];
	static struct mmsghdr in[BATCH], out[BATCH];
	for (int i = 0; i < BATCH; i++) {
		in_iov[i].iov_base = bufs[i];
		in_iov[i].iov_len = BUFSZ;
		in[i].msg_hdr.msg_iov = &in_iov[i];
		in[i].msg_hdr.msg_iovlen = 1;
		in[i].msg_hdr.msg_name = &peers[i];
	}
	printf("ready\n");
	fflush(stdout);

	while (!stop) {
		for (int i = 0; i < BATCH; i++)
			in[i].msg_hdr.msg_namelen = sizeof peers[i];
		int n = recvmmsg(fd, in, BATCH, MSG_WAITFORONE, NULL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			perror("floor: recvmmsg");
			return 1;
		}
		int k = 0;
		for (int i = 0; i < n; i++) {
			unsigned char *b = bufs[i];
			if (in[i].msg_len < 12 || (b[2] & 0x80))
				continue;
			b[2] |= 0x80;                       /* QR */
			b[3] = (unsigned char)((b[3] & 0xf0) | 3); /* RCODE NXDOMAIN */
			out_iov[k].iov_base = b;
			out_iov[k].iov_len = in[i].msg_len;
			memset(&out[k].msg_hdr, 0, sizeof out[k].msg_hdr);
			out[k].msg_hdr.msg_iov = &out_iov[k];
			out[k].msg_hdr.msg_iovlen = 1;
			out[k].msg_hdr.msg_name = &peers[i];
			out[k].msg_hdr.msg_namelen = in[i].msg_hdr.msg_namelen;
			k++;
		}
		for (int done = 0; done < k;) {
			int s = sendmmsg(fd, out + done, (unsigned)(k - done), 0);
			if (s < 0) {
				if (errno == EINTR)
					continue;
				done++; /* that one is lost (e.g. the client went away) */
				continue;
			}
			done += s;
		}
	}
	close(fd);
	return 0;
}
