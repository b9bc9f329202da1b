/* Private to dnsbld: zone transfers out (AXFR, RFC 5936; IXFR, RFC 1995: the SOA
 * alone when the client is current, else the difference from the store's journal
 * (lib/zonemap_view.c, lib/zonemap_diff.c), else the whole zone). A TCP worker hands a transfer request here with its connection; a
 * transfer thread of its own (at most XFR_MAX_ACTIVE at once, at low priority so
 * that queries keep their CPU) streams the records of lib/zonemap from one read
 * snapshot in blocking writes, and closes the connection when done. */
#ifndef DNSBLD_XFR_H
#define DNSBLD_XFR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <stdbool.h>

#include "tsig.h"
#include "wire.h"
#include "worker.h"

#define XFR_MAX_ACTIVE 32
/* bytes per transfer message: a name anywhere in it can be pointed to (compression
 * pointers reach 16 KiB, RFC 1035 4.1.4), as NSD sizes its AXFR messages */
#define XFR_MESSAGE_MAX 16384

enum xfr_take_result {
	XFR_NOT_XFR, /* not a transfer request: answer it as a query */
	XFR_ANSWER,  /* a refusal or an error was written to out: send it */
	XFR_TAKEN,   /* the transfer thread owns fd now (and pending): forget it */
};

/* A cheap first look: whether query pkt[0..len) asks for AXFR or IXFR (an
 * uncompressed question name, as queries have). */
static inline bool xfr_maybe(const uint8_t *pkt, size_t len)
{
	size_t p = DNS_HEADER_SIZE;

	while (p < len && pkt[p] != 0 && pkt[p] < 64)
		p += (size_t)pkt[p] + 1;
	if (p + 3 > len || pkt[p] != 0)
		return false;
	return pkt[p + 1] == 0 && (pkt[p + 2] == DNS_T_AXFR || pkt[p + 2] == DNS_T_IXFR);
}

/* Looks at query pkt[0..len) that arrived on TCP connection fd. A transfer request
 * that may be served starts a transfer thread, which first sends pending[0..npending)
 * (the answers to earlier pipelined queries) and then owns fd. A request outside the
 * zone's allow_transfer, for an unknown zone or over the limits gets its answer in
 * out (at most cap bytes, *outlen set). A zone with a transfer_key needs a TSIG with
 * that key (RFC 8945): without one REFUSED, with a bad one NOTAUTH and the TSIG
 * error (or FORMERR); a signed request for a zone without a key gets BADKEY. When
 * the request is signed every message of the answer is. tsig is the caller's HMAC
 * context for that (the transfer thread makes its own). Logs every refusal with the
 * peer's address and why. Returns an enum xfr_take_result. The one heap allocation a
 * TCP worker makes (the job, with the pending answers it carries, freed by the
 * transfer thread) happens here, only for a request that passed TSIG and
 * allow_transfer, at most XFR_MAX_ACTIVE at once: never for a query. */
int xfr_take(struct server *srv, struct tsig_ctx *tsig, int fd, const uint8_t *pkt, size_t len,
	     const uint8_t *pending, size_t npending, uint8_t *out, size_t cap, size_t *outlen);

#endif
