#include "xfr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "log.h"
#include "tsig.h"
#include "wire.h"
#include "zonemap.h"

#define XFR_QUERY_MAX 4096
#define XFR_SEND_TIMEOUT_S 30 /* a secondary that reads nothing this long is dropped */
#define XFR_NICE 10
#define XFR_IXFR_MAX_RECORDS 4000000 /* an IXFR keeps ~25 bytes per record of both views */

struct xfr_job {
	struct server *srv;
	int fd;
	unsigned zi;
	bool ixfr;
	bool has_client_serial;
	uint32_t client_serial;
	struct dns_query q;
	size_t qlen;
	uint8_t query[XFR_QUERY_MAX];
	char peer[INET6_ADDRSTRLEN + 8];
	const struct key_config *key; /* the zone's transfer_key: sign every message */
	struct tsig_rr tsig;          /* the request's, verified (with key) */
	size_t npending;
	uint8_t pending[]; /* answers to earlier queries on the connection */
};

/* Whether peer's address lies in zone zc's allow_transfer (an IPv4-mapped IPv6 peer
 * counts as its IPv4 address). */
static bool acl_allows(const struct zone_config *zc, const struct sockaddr_storage *peer)
{
	struct entry_key a = { 0 };

	if (peer->ss_family == AF_INET) {
		a.family = ADDR_FAMILY_V4;
		a.len = 32;
		memcpy(a.addr, &((const struct sockaddr_in *)peer)->sin_addr, 4);
	} else if (peer->ss_family == AF_INET6) {
		const uint8_t *b = ((const struct sockaddr_in6 *)peer)->sin6_addr.s6_addr;
		static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
		bool v4 = memcmp(b, mapped, 12) == 0;
		a.family = v4 ? ADDR_FAMILY_V4 : ADDR_FAMILY_V6;
		a.len = v4 ? 32 : 128;
		memcpy(a.addr, v4 ? b + 12 : b, v4 ? 4 : 16);
	} else {
		return false;
	}
	for (unsigned i = 0; i < zc->xfr.acl_count; i++)
		if (prefix_contains(&zc->xfr.acl[i], &a))
			return true;
	return false;
}

/* One transfer message being filled, and what was sent. */
struct xfr_out {
	const struct xfr_job *job;
	const struct zone *z;
	struct wire_out w;
	uint16_t ancount;
	uint64_t records, messages, bytes;
	size_t tsig_reserve;         /* kept free in every message for its TSIG record */
	struct tsig_ctx *tsig;       /* this transfer's HMAC context, when signing */
	struct tsig_signer signer;
	/* the previous owner in this message, for compressing the next one against it
	 * (records come in walk order, so neighbours share most of their labels); it
	 * ends at prev's end, so that a sibling's first label replaces its own in place */
	uint8_t prev[DNS_NAME_MAX];
	size_t prev_len;
	unsigned prev_labels;
	uint8_t prev_from_end[DNS_MAX_LABELS]; /* each label's start, back from prev's end */
	uint16_t prev_at[DNS_MAX_LABELS];      /* its offset in the message; 0: not pointable */
	uint32_t prev_suffix_id[2];            /* its zonemap_rr.suffix_id; 0: none */
	/* finished messages (each after its two length bytes) waiting to be sent in one
	 * write, then the one being filled: a few messages per send call */
	size_t out_len;
	uint8_t buf[4 * (2 + XFR_MESSAGE_MAX)];
};

static int send_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return DNSBL_EIO;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

/* Starts a message: the header and the question of the request. */
static void msg_begin(struct xfr_out *o, int rcode)
{
	const struct xfr_job *j = o->job;

	wire_out_init(&o->w, o->buf + o->out_len + 2, XFR_MESSAGE_MAX - o->tsig_reserve);
	wire_put_u16(&o->w, j->q.id);
	wire_put_u16(&o->w, (uint16_t)(DNS_F_QR | DNS_F_AA | (j->q.flags & 0x7800) | rcode));
	wire_put_u16(&o->w, 1);
	wire_put_u16(&o->w, 0);
	wire_put_u16(&o->w, 0);
	wire_put_u16(&o->w, 0);
	wire_put_bytes(&o->w, j->query + DNS_HEADER_SIZE, j->q.question_end - DNS_HEADER_SIZE);
	o->ancount = 0;
	o->prev_labels = 0;
	o->prev_len = 0;
	o->prev_suffix_id[0] = o->prev_suffix_id[1] = 0;
}

/* Label i of the previous owner. */
static const uint8_t *prev_label(const struct xfr_out *o, unsigned i)
{
	return o->prev + sizeof(o->prev) - o->prev_from_end[i];
}

/* Sends the finished messages. */
static int msg_send(struct xfr_out *o)
{
	size_t n = o->out_len;

	o->out_len = 0;
	if (atomic_load(&o->job->srv->stopping))
		return DNSBL_EIO; /* dnsbld is stopping: the secondary retries later */
	return send_all(o->job->fd, o->buf, n);
}

/* Finishes the message (signed with the transfer's key), to be sent with msg_send. */
static int msg_flush(struct xfr_out *o)
{
	wire_set_u16(&o->w, 6, o->ancount);
	if (o->tsig != NULL) {
		o->w.cap = XFR_MESSAGE_MAX;
		int rc = tsig_sign(&o->signer, &o->w, (uint64_t)time(NULL), TSIG_E_NONE, NULL, 0);
		if (rc < 0)
			return rc;
	}
	size_t n = o->w.pos;

	o->buf[o->out_len] = (uint8_t)(n >> 8);
	o->buf[o->out_len + 1] = (uint8_t)n;
	o->out_len += n + 2;
	o->messages++;
	o->bytes += n + 2;
	if (o->out_len + 2 + XFR_MESSAGE_MAX <= sizeof(o->buf))
		return 0; /* room for another: sent with it */
	return msg_send(o);
}

/* Writes the first labels of owner, owner[0..n), then a pointer to tail, which
 * holds the rest of the previous owner, the same labels (hint_path): the previous
 * owner becomes this one with only those first labels changed. */
static void put_owner_head(struct xfr_out *o, const uint8_t *owner, size_t owner_len, size_t n,
			   unsigned labels, uint16_t tail)
{
	size_t off = o->w.pos, at = 0;

	wire_put_bytes(&o->w, owner, n);
	wire_put_ptr(&o->w, tail);
	o->prev_len = owner_len;
	memcpy(o->prev + sizeof(o->prev) - owner_len, owner, n);
	for (unsigned i = 0; i < labels; i++) {
		o->prev_from_end[i] = (uint8_t)(owner_len - at);
		o->prev_at[i] = off + at < 0x4000 ? (uint16_t)(off + at) : 0;
		at += (size_t)owner[at] + 1;
	}
}

/* Whether the walk's hints say owner shares everything after its first k + 1 labels
 * (k 0 or 1) with the previous owner, whose copy of that rest is pointable at *tail. */
static bool hint_path(const struct xfr_out *o, size_t owner_len, const uint32_t *suffix_id, const size_t *suffix_at, unsigned k, uint16_t *tail)
{
	if (suffix_id[k] == 0 || suffix_id[k] != o->prev_suffix_id[k] || o->prev_labels < k + 1)
		return false;
	size_t at = suffix_at[k], rest = o->prev_labels > k + 1 ? o->prev_from_end[k + 1] : 0;
	if (at > owner_len || owner_len - at != rest)
		return false; /* a hint that does not fit is no hint */
	*tail = o->prev_labels > k + 1 ? o->prev_at[k + 1] : DNS_HEADER_SIZE;
	return *tail != 0;
}

/* How many bytes at the end owner and the previous owner share (8 at a time: names
 * of IPv6 addresses are 64 bytes). */
static size_t common_tail(const struct xfr_out *o, const uint8_t *owner, size_t owner_len)
{
	size_t max = owner_len < o->prev_len ? owner_len : o->prev_len, n = 0;
	const uint8_t *a = owner + owner_len, *b = o->prev + sizeof(o->prev);

	while (n + 8 <= max) {
		uint64_t x, y;
		memcpy(&x, a - n - 8, 8);
		memcpy(&y, b - n - 8, 8);
		if (x != y)
			break;
		n += 8;
	}
	while (n < max && a[-1 - (ptrdiff_t)n] == b[-1 - (ptrdiff_t)n])
		n++;
	return n;
}

/* Writes owner (relative labels, then a pointer to the apex in the question): the
 * labels it shares at its end with the previous owner become a pointer into that
 * owner's copy. With the walk's hints (zonemap_rr) a sibling of the previous owner,
 * or a child of a sibling of its parent, is written without comparing names. */
static void put_owner(struct xfr_out *o, const uint8_t *owner, size_t owner_len,
		      const uint32_t *suffix_id, const size_t *suffix_at)
{
	uint8_t start[DNS_MAX_LABELS];
	uint16_t at[DNS_MAX_LABELS], tail;
	unsigned n = 0;
	bool hinted = owner_len > 0 && suffix_at[0] == (size_t)owner[0] + 1;

	if (hinted && hint_path(o, owner_len, suffix_id, suffix_at, 0, &tail)) {
		const uint8_t *first = prev_label(o, 0);
		bool same = first[0] == owner[0] && o->prev_at[0] != 0;
		for (size_t i = 1; same && i <= owner[0]; i++) /* a short label: no call */
			same = first[i] == owner[i];
		if (same) {
			wire_put_ptr(&o->w, o->prev_at[0]); /* the A and TXT of one name */
			return;
		}
		put_owner_head(o, owner, owner_len, suffix_at[0], 1, tail);
		return;
	}
	if (hinted && suffix_at[1] == suffix_at[0] + owner[suffix_at[0]] + 1 &&
	    hint_path(o, owner_len, suffix_id, suffix_at, 1, &tail)) {
		put_owner_head(o, owner, owner_len, suffix_at[1], 2, tail);
		o->prev_suffix_id[0] = suffix_id[0];
		return;
	}

	/* the first label (from the front) whose rest of the name the previous owner
	 * ends with, at a label of its own whose copy is pointable: a pointer from there */
	size_t common = common_tail(o, owner, owner_len), p = 0;
	int j = -1;
	while (p < owner_len && n < DNS_MAX_LABELS) {
		size_t from_end = owner_len - p;
		for (unsigned k = 0; from_end <= common && k < o->prev_labels; k++) {
			if (o->prev_from_end[k] < from_end)
				break;
			if (o->prev_from_end[k] == from_end) {
				j = o->prev_at[k] != 0 ? (int)k : -1;
				break;
			}
		}
		if (j >= 0)
			break;
		start[n++] = (uint8_t)p;
		p += (size_t)owner[p] + 1;
	}
	for (unsigned i = 0; i < n; i++) {
		size_t off = o->w.pos;
		at[i] = off < 0x4000 ? (uint16_t)off : 0;
		wire_put_bytes(&o->w, owner + start[i], (size_t)owner[start[i]] + 1);
	}
	wire_put_ptr(&o->w, j >= 0 ? o->prev_at[j] : DNS_HEADER_SIZE);
	/* the previous owner becomes this one: its shared labels move behind the new */
	unsigned kept = j >= 0 ? o->prev_labels - (unsigned)j : 0;
	if (kept > 0 && (unsigned)j != n) {
		memmove(o->prev_from_end + n, o->prev_from_end + j, kept);
		memmove(o->prev_at + n, o->prev_at + j, kept * sizeof(o->prev_at[0]));
	}
	for (unsigned i = 0; i < n; i++) {
		o->prev_from_end[i] = (uint8_t)(owner_len - start[i]);
		o->prev_at[i] = at[i];
	}
	if (p > 0) /* the apex (owner NULL) has no labels to keep */
		memcpy(o->prev + sizeof(o->prev) - owner_len, owner, p);
	o->prev_len = owner_len;
	o->prev_labels = n + kept;
	o->prev_suffix_id[0] = hinted ? suffix_id[0] : 0;
	o->prev_suffix_id[1] = hinted && suffix_at[1] == suffix_at[0] + owner[suffix_at[0]] + 1
				       ? suffix_id[1] : 0;
}

static const uint32_t no_hint[2];
static const size_t no_hint_at[2];

/* Adds a record owned by labels owner[0..owner_len) below the apex. */
static int msg_rr(struct xfr_out *o, const uint8_t *owner, size_t owner_len,
		  const uint32_t *suffix_id, const size_t *suffix_at, uint16_t type,
		  const uint8_t *rdata, size_t rdlen)
{
	size_t need = owner_len + 2 + 10 + rdlen;
	int rc;

	if (o->w.pos + need > o->w.cap && o->ancount > 0) {
		if ((rc = msg_flush(o)) < 0)
			return rc;
		msg_begin(o, DNS_R_NOERROR);
	}
	put_owner(o, owner, owner_len, suffix_id, suffix_at);
	wire_put_u16(&o->w, type);
	wire_put_u16(&o->w, DNS_C_IN);
	wire_put_u32(&o->w, o->z->ttl);
	wire_put_u16(&o->w, (uint16_t)rdlen);
	wire_put_bytes(&o->w, rdata, rdlen);
	if (o->w.err != 0)
		return DNSBL_ERANGE;
	o->ancount++;
	o->records++;
	return 0;
}

static int msg_soa(struct xfr_out *o, uint32_t serial)
{
	uint8_t rd[ZONE_SOA_NAMES_MAX + 20];
	const struct zone *z = o->z;

	memcpy(rd, z->soa_names, z->soa_names_len);
	rd[z->soa_names_len] = (uint8_t)(serial >> 24);
	rd[z->soa_names_len + 1] = (uint8_t)(serial >> 16);
	rd[z->soa_names_len + 2] = (uint8_t)(serial >> 8);
	rd[z->soa_names_len + 3] = (uint8_t)serial;
	memcpy(rd + z->soa_names_len + 4, z->soa_times, sizeof(z->soa_times));
	return msg_rr(o, NULL, 0, no_hint, no_hint_at, DNS_T_SOA, rd, z->soa_names_len + 20);
}

static int emit_rr(void *arg, const struct zonemap_rr *rr)
{
	return msg_rr(arg, rr->owner, rr->owner_len, rr->suffix_id, rr->suffix_at, rr->type,
		      rr->rdata, rr->rdlen);
}

static int count_rr(void *arg, const struct zonemap_rr *rr)
{
	(void)rr;
	uint64_t *left = arg;
	return (*left)-- == 0 ? DNSBL_ERANGE : 0;
}

/* Streams the whole zone: SOA, NS, every record, SOA. */
static int send_zone(struct xfr_out *o, struct store_reader *r, uint32_t serial, uint32_t now)
{
	const struct zone_config *zc = o->z->cfg;
	int rc = msg_soa(o, serial);

	for (unsigned i = 0; i < o->z->ns_count && rc == 0; i++)
		rc = msg_rr(o, NULL, 0, no_hint, no_hint_at, DNS_T_NS, o->z->ns[i].wire, o->z->ns[i].len);
	if (rc == 0)
		rc = zonemap_run(r, o->job->srv->cfg, zc, now, emit_rr, o, NULL);
	if (rc == 0)
		rc = msg_soa(o, serial);
	return rc == 0 ? msg_flush(o) : rc;
}

/* What the last count of a zone found, so that only the first transfer of each
 * serial pays for a counting walk (about half of a transfer's CPU). */
struct count_memo {
	const struct zone_config *zc;
	uint32_t serial, when;
	uint64_t limit;
	bool within;
};

static pthread_mutex_t count_lock = PTHREAD_MUTEX_INITIALIZER;
static struct count_memo counted[64];

/* Whether the zone's records stay within its transfer_record_limit (counted first,
 * so that a secondary never gets half a zone), as decided at time when for serial. */
static int within_limit(const struct xfr_job *j, struct store_reader *r, uint32_t serial,
			uint32_t when)
{
	const struct zone_config *zc = j->srv->zones->zones[j->zi].cfg;
	uint64_t limit = zc->xfr.record_limit;
	struct count_memo *m = &counted[j->zi % 64];
	bool known = false, within = false;

	pthread_mutex_lock(&count_lock);
	if (m->zc == zc && m->serial == serial && m->when == when && m->limit == limit) {
		known = true;
		within = m->within;
	}
	pthread_mutex_unlock(&count_lock);
	if (!known) {
		/* counted as `dnsbl-loader stats` counts records: the apex's SOA and NS too */
		uint64_t apex = 1 + j->srv->zones->zones[j->zi].ns_count;
		uint64_t left = limit - apex;
		int rc = limit < apex ? DNSBL_ERANGE
				      : zonemap_run(r, j->srv->cfg, zc, when, count_rr, &left, NULL);
		if (rc < 0 && rc != DNSBL_ERANGE)
			return rc;
		within = rc == 0;
		pthread_mutex_lock(&count_lock);
		*m = (struct count_memo){ zc, serial, when, limit, within };
		pthread_mutex_unlock(&count_lock);
	}
	if (!within)
		log_warn("transfer of %s to %s refused: over %llu records (transfer_record_limit)",
			 zc->name, j->peer, (unsigned long long)limit);
	return within ? 1 : 0;
}

struct ixfr_out {
	struct xfr_out *o;
	uint32_t serial;
};

/* zonemap_diff's records, and between what went and what came, the new SOA. */
static int ixfr_rr(void *arg, const struct zonemap_rr *rr)
{
	struct ixfr_out *x = arg;
	return rr == NULL ? msg_soa(x->o, x->serial) : emit_rr(x->o, rr);
}

static const char *ixfr_fallback_reason(int rc)
{
	switch (rc) {
	case DNSBL_ENOTFOUND: return "the journal does not reach back to it";
	case DNSBL_EINVAL: return "name zones are sent whole";
	case DNSBL_ERANGE: return "too many changes";
	default: return dnsbl_strerror(rc);
	}
}

/* Sends the difference from the client's serial as one condensed sequence (RFC 1995
 * 4): SOA new, SOA old, what went, SOA new, what came, SOA new. Returns 1 when sent,
 * 0 when nothing was sent and the whole zone must go instead, or < 0. */
static int send_ixfr(struct xfr_job *j, struct xfr_out *o, struct store_reader *r,
		     uint32_t serial, uint32_t when)
{
	const struct zone_config *zc = o->z->cfg;
	uint64_t max = zc->xfr.record_limit < XFR_IXFR_MAX_RECORDS ? zc->xfr.record_limit
								   : XFR_IXFR_MAX_RECORDS;
	struct zonemap_view v;
	struct zonemap_diff_stats st = { 0 };
	struct ixfr_out x = { o, serial };
	int64_t t0 = monotonic_ms();
	int rc = zonemap_view_at(r, j->srv->cfg, zc, j->client_serial, max, &v);

	if (rc == DNSBL_ENOTFOUND || rc == DNSBL_EINVAL || rc == DNSBL_ERANGE) {
		log_info("IXFR of %s from serial %u to %s: %s; sending the whole zone", zc->name,
			 j->client_serial, j->peer, ixfr_fallback_reason(rc));
		return 0;
	}
	if (rc < 0)
		return rc;
	rc = msg_soa(o, serial);
	if (rc == 0)
		rc = msg_soa(o, j->client_serial);
	if (rc == 0)
		rc = zonemap_diff(r, j->srv->cfg, zc, &v.ov, v.old_time, when, max, ixfr_rr, &x, &st);
	if (rc == DNSBL_ERANGE) {
		/* found before anything was emitted: start again with the whole zone */
		zonemap_view_free(&v);
		msg_begin(o, DNS_R_NOERROR);
		o->records = 0;
		log_info("IXFR of %s from serial %u to %s: over %llu records; sending the whole "
			 "zone", zc->name, j->client_serial, j->peer, (unsigned long long)max);
		return 0;
	}
	if (rc == 0)
		rc = msg_soa(o, serial);
	if (rc == 0)
		rc = msg_flush(o);
	if (rc == 0)
		log_info("IXFR of %s from serial %u to %u to %s: %llu records deleted, %llu added "
			 "(%u commits, %llu entries changed) in %llu messages, %lld ms",
			 zc->name, j->client_serial, serial, j->peer,
			 (unsigned long long)st.deleted, (unsigned long long)st.added, v.commits,
			 (unsigned long long)v.changes, (unsigned long long)o->messages,
			 (long long)(monotonic_ms() - t0));
	zonemap_view_free(&v);
	return rc < 0 ? rc : 1;
}

/* Serves the request: the SOA alone for an IXFR from a current secondary, the
 * difference for an older one when the journal has it, else the whole zone; SERVFAIL
 * when the store fails or the zone is over its limit. Entries are decided as of the
 * zone's newest commit, so that every transfer of one serial sends the same records
 * (an entry that expires later leaves the secondaries with the expire sweep). */
static int serve(struct xfr_job *j, struct xfr_out *o, struct store_reader *r)
{
	uint32_t now = zonemap_transfer_time(r, j->srv->cfg, o->z->cfg);
	uint32_t serial = zonemap_serial(r, j->srv->cfg, o->z->cfg);
	int rc;

	msg_begin(o, DNS_R_NOERROR);
	if (j->ixfr && j->has_client_serial && j->client_serial == serial) {
		rc = msg_soa(o, serial);
		return rc == 0 ? msg_flush(o) : rc;
	}
	if (j->ixfr && j->has_client_serial && (rc = send_ixfr(j, o, r, serial, now)) != 0)
		return rc < 0 ? rc : 0;
	if ((rc = within_limit(j, r, serial, now)) <= 0) {
		msg_begin(o, DNS_R_SERVFAIL);
		int sent = msg_flush(o);
		return rc < 0 ? rc : sent;
	}
	int64_t t0 = monotonic_ms();
	rc = send_zone(o, r, serial, now);
	if (rc == 0)
		log_info("%s of %s serial %u to %s: %llu records in %llu messages, %lld ms",
			 j->ixfr ? "IXFR (whole zone)" : "AXFR", o->z->cfg->name, serial, j->peer,
			 (unsigned long long)o->records, (unsigned long long)o->messages,
			 (long long)(monotonic_ms() - t0));
	return rc;
}

/* Closes fd without losing what was sent: the client's side first, briefly. */
static void close_gracefully(int fd)
{
	struct timeval tv = { 2, 0 };
	uint8_t sink[512];

	shutdown(fd, SHUT_WR);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	while (recv(fd, sink, sizeof(sink), 0) > 0)
		;
	close(fd);
}

static void *xfr_main(void *arg)
{
	struct xfr_job *j = arg;
	struct xfr_out *o = malloc(sizeof(*o));
	struct store_reader *r = NULL;
	struct timeval tv = { XFR_SEND_TIMEOUT_S, 0 };
	int rc = DNSBL_ENOMEM;

	if (o != NULL)
		o->tsig = NULL;
	setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), XFR_NICE);
	fcntl(j->fd, F_SETFL, fcntl(j->fd, F_GETFL) & ~O_NONBLOCK);
	setsockopt(j->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (o != NULL && (rc = send_all(j->fd, j->pending, j->npending)) == 0 &&
	    (rc = store_reader_new(j->srv->store, &r)) == 0 && (rc = store_reader_begin(r)) == 0) {
		o->job = j;
		o->z = &j->srv->zones->zones[j->zi];
		o->records = o->messages = o->bytes = 0;
		o->tsig = NULL;
		o->tsig_reserve = 0;
		if (j->key != NULL && (rc = tsig_ctx_new(&o->tsig)) == 0) {
			/* one HMAC context, keyed once, for every message of the transfer */
			tsig_signer_start(&o->signer, o->tsig, j->key, &j->tsig);
			o->tsig_reserve = tsig_rr_size_max(j->key);
		}
		o->out_len = 0;
		if (rc == 0 && (rc = serve(j, o, r)) >= 0)
			rc = msg_send(o);
		store_reader_end(r);
	}
	if (rc < 0)
		log_warn("transfer of %s to %s failed: %s", j->srv->zones->zones[j->zi].cfg->name,
			 j->peer, dnsbl_strerror(rc));
	store_reader_free(r);
	if (o != NULL)
		tsig_ctx_free(o->tsig);
	free(o);
	close_gracefully(j->fd);
	atomic_fetch_sub(&j->srv->xfr_active, 1);
	free(j);
	return NULL;
}

/* How a transfer request's TSIG turned out. */
struct xfr_auth {
	bool present;              /* the request had a TSIG record */
	enum tsig_result result;   /* with present */
	struct tsig_rr t;
	const struct key_config *key; /* the zone's transfer_key, or NULL */
};

/* Writes the rcode-only answer to query pkt (parsed as q) into out: signed when the
 * request's TSIG verified (or failed on time or truncation alone), with an empty MAC and the
 * error when the key or the MAC was wrong (RFC 8945 5.3.2). */
static size_t answer_rcode(const uint8_t *pkt, const struct dns_query *q, int rcode,
			   const struct xfr_auth *auth, struct tsig_ctx *tsig, uint8_t *out,
			   size_t cap)
{
	struct wire_out w;

	wire_out_init(&w, out, cap);
	wire_put_u16(&w, q->id);
	wire_put_u16(&w, (uint16_t)(DNS_F_QR | (q->flags & (0x7800 | DNS_F_RD)) | rcode));
	wire_put_u16(&w, 1);
	wire_put_u16(&w, 0);
	wire_put_u16(&w, 0);
	wire_put_u16(&w, 0);
	wire_put_bytes(&w, pkt + DNS_HEADER_SIZE, q->question_end - DNS_HEADER_SIZE);
	if (w.err || !auth->present)
		return w.err ? 0 : w.pos;
	return tsig_answer(tsig, auth->key, &auth->t, auth->result, &w, (uint64_t)time(NULL)) == 0
		       ? w.pos
		       : 0;
}

/* The serial of the SOA in an IXFR request's authority section (RFC 1995 3). */
static bool ixfr_serial(const uint8_t *pkt, size_t len, const struct dns_query *q, uint32_t *serial)
{
	size_t pos = q->question_end;

	if (wire_get_u16(pkt + 6) != 0 || wire_get_u16(pkt + 8) < 1)
		return false;
	if (dns_name_parse(pkt, len, &pos, NULL, NULL) < 0 || pos + 10 > len ||
	    wire_get_u16(pkt + pos) != DNS_T_SOA)
		return false;
	size_t rdlen = wire_get_u16(pkt + pos + 8), rd = pos + 10;
	if (rd + rdlen > len || rdlen < 22)
		return false;
	size_t p = rd;
	if (dns_name_parse(pkt, len, &p, NULL, NULL) < 0 || dns_name_parse(pkt, len, &p, NULL, NULL) < 0 ||
	    p + 20 > rd + rdlen)
		return false;
	*serial = wire_get_u32(pkt + p);
	return true;
}

static void peer_text(int fd, struct sockaddr_storage *ss, char *buf, size_t size)
{
	socklen_t sl = sizeof(*ss);
	char host[INET6_ADDRSTRLEN] = "?";

	memset(ss, 0, sizeof(*ss));
	if (getpeername(fd, (struct sockaddr *)ss, &sl) == 0) {
		const void *a = ss->ss_family == AF_INET6
					? (const void *)&((struct sockaddr_in6 *)ss)->sin6_addr
					: (const void *)&((struct sockaddr_in *)ss)->sin_addr;
		inet_ntop(ss->ss_family, a, host, sizeof(host));
	}
	snprintf(buf, size, "%s", host);
}

/* Checks the request's TSIG against zone zc's transfer_key (key; NULL for none, or
 * zc NULL for a zone we do not serve) into *auth. Returns the rcode to answer with
 * when the request may not go on (NOTAUTH, FORMERR, REFUSED), else NOERROR. Logs why
 * a request for one of our zones was turned away. */
static int check_auth(struct tsig_ctx *tsig, const uint8_t *pkt, size_t len,
		      const struct dns_query *q, const struct zone_config *zc,
		      const struct key_config *key, const char *peer, struct xfr_auth *auth)
{
	const char *zone = zc != NULL ? zc->name : "an unknown zone";
	char kname[DNAME_TEXT_MAX];

	auth->key = key;
	auth->present = q->tsig;
	if (!q->tsig) {
		if (key == NULL)
			return DNS_R_NOERROR;
		log_info("transfer of %s to %s refused: no TSIG (transfer_key %s)", zone, peer,
			 key->name);
		return DNS_R_REFUSED;
	}
	if (tsig_find(pkt, len, &auth->t) != 1) {
		auth->result = TSIG_FORMERR;
		log_info("transfer of %s to %s refused: malformed TSIG record", zone, peer);
		return DNS_R_FORMERR;
	}
	auth->result = tsig_verify(tsig, pkt, len, &auth->t, key, (uint64_t)time(NULL));
	if (auth->result == TSIG_OK)
		return DNS_R_NOERROR;
	if (dname_to_text(auth->t.key_name, auth->t.key_name_len, kname, sizeof(kname)) < 0)
		snprintf(kname, sizeof(kname), "?");
	char alg[DNAME_TEXT_MAX];
	if (dname_to_text(auth->t.algorithm, auth->t.algorithm_len, alg, sizeof(alg)) < 0)
		snprintf(alg, sizeof(alg), "?");
	if (auth->result == TSIG_BADKEY && key == NULL)
		log_info("transfer of %s to %s refused: TSIG BADKEY (key %s; the zone has no "
			 "transfer_key)", zone, peer, kname);
	else if (auth->result == TSIG_BADKEY)
		log_info("transfer of %s to %s refused: TSIG BADKEY (key %s %s, expected %s %s)",
			 zone, peer, kname, alg, key->name, config_key_algorithm_name(key->algorithm));
	else if (auth->result == TSIG_BADTIME)
		log_info("transfer of %s to %s refused: TSIG BADTIME (key %s, signed at %llu, now "
			 "%llu, fudge %u)", zone, peer, kname, (unsigned long long)auth->t.time_signed,
			 (unsigned long long)time(NULL), auth->t.fudge);
	else
		log_info("transfer of %s to %s refused: TSIG %s (key %s)", zone, peer,
			 tsig_result_name(auth->result), kname);
	return tsig_result_rcode(auth->result);
}

int xfr_take(struct server *srv, struct tsig_ctx *tsig, int fd, const uint8_t *pkt, size_t len,
	     const uint8_t *pending, size_t npending, uint8_t *out, size_t cap, size_t *outlen)
{
	struct dns_query q;
	struct sockaddr_storage peer;
	char ptext[INET6_ADDRSTRLEN + 8];
	struct xfr_auth auth = { 0 };

	if (dns_query_parse(pkt, len, &q) != DNS_PARSE_OK || !q.has_question ||
	    (q.qtype != DNS_T_AXFR && q.qtype != DNS_T_IXFR) || q.qclass != DNS_C_IN ||
	    DNS_OPCODE(q.flags) != 0 || len > XFR_QUERY_MAX)
		return XFR_NOT_XFR;
	int zi = zone_table_find(srv->zones, pkt + DNS_HEADER_SIZE, q.label_off, q.nlabels);
	if (zi >= 0 && srv->zones->zones[zi].apex_labels != q.nlabels)
		zi = -1; /* below a zone's apex: no zone to transfer */
	const struct zone_config *zc = zi >= 0 ? srv->zones->zones[zi].cfg : NULL;
	const struct key_config *key = zi >= 0 ? srv->zones->zones[zi].key : NULL;
	peer_text(fd, &peer, ptext, sizeof(ptext));
	/* the TSIG first (RFC 8945 5.2), so that every answer after it can be signed;
	 * then allow_transfer: a transfer needs both */
	int rcode = DNS_R_REFUSED;
	if (q.tsig || zi >= 0)
		rcode = check_auth(tsig, pkt, len, &q, zc, key, ptext, &auth);
	if (rcode == DNS_R_NOERROR && zi < 0)
		rcode = DNS_R_REFUSED;
	if (rcode == DNS_R_NOERROR && !acl_allows(zc, &peer)) {
		log_info("transfer of %s to %s refused: not in allow_transfer", zc->name, ptext);
		rcode = DNS_R_REFUSED;
	}
	if (rcode == DNS_R_NOERROR && atomic_fetch_add(&srv->xfr_active, 1) >= XFR_MAX_ACTIVE) {
		atomic_fetch_sub(&srv->xfr_active, 1);
		rcode = DNS_R_SERVFAIL;
	}
	struct xfr_job *j = rcode == DNS_R_NOERROR ? malloc(sizeof(*j) + npending) : NULL;
	if (j == NULL) {
		if (rcode == DNS_R_NOERROR) {
			atomic_fetch_sub(&srv->xfr_active, 1);
			rcode = DNS_R_SERVFAIL;
		}
		*outlen = answer_rcode(pkt, &q, rcode, &auth, tsig, out, cap);
		return XFR_ANSWER;
	}
	*j = (struct xfr_job){ .srv = srv, .fd = fd, .zi = (unsigned)zi, .q = q, .qlen = len,
			       .ixfr = q.qtype == DNS_T_IXFR, .npending = npending,
			       .key = auth.present ? key : NULL, .tsig = auth.t };
	memcpy(j->query, pkt, len);
	if (npending > 0)
		memcpy(j->pending, pending, npending);
	memcpy(j->peer, ptext, sizeof(ptext));
	j->has_client_serial = j->ixfr && ixfr_serial(pkt, len, &q, &j->client_serial);
	pthread_t t;
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	int prc = pthread_create(&t, &attr, xfr_main, j);
	pthread_attr_destroy(&attr);
	if (prc != 0) {
		free(j);
		atomic_fetch_sub(&srv->xfr_active, 1);
		*outlen = answer_rcode(pkt, &q, DNS_R_SERVFAIL, &auth, tsig, out, cap);
		return XFR_ANSWER;
	}
	return XFR_TAKEN;
}
