#include "notify.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <netinet/in.h>

#include "err.h"
#include "log.h"
#include "tsig.h"
#include "wire.h"
#include "worker.h"
#include "zonemap.h"

#define DNS_OPCODE_NOTIFY 4
#define NOTIFY_FIRST_WAIT_MS 1000 /* then doubled after every send */
#define NOTIFY_TSIG_ROOM 600       /* a TSIG record: two names, a MAC, fixed fields */

struct notify_target {
	const struct listen_addr *addr; /* owned by the config */
	uint32_t serial;                /* the serial announced */
	uint16_t id;                    /* of the NOTIFY awaiting an answer */
	unsigned sends;                 /* of serial so far; 0: nothing awaited */
	int64_t due_ms;                 /* resend (or give up) at */
};

struct notify_zone {
	unsigned zi; /* in the zone table */
	bool known;
	uint32_t serial;
	unsigned ntargets;
	struct notify_target targets[CONFIG_MAX_NOTIFY];
};

struct notifier {
	const struct config *cfg;
	const struct zone_table *zones;
	struct store *store;
	struct store_reader *reader;
	int stop_fd;
	int fd4, fd6; /* one unbound UDP socket per family, -1 if none is needed */
	pthread_t thread;
	bool started;
	struct tsig_ctx *tsig; /* for zones with a transfer_key */
	unsigned nzones;
	struct notify_zone *z; /* nzones, owned */
};

bool notifier_needed(const struct config *cfg)
{
	for (unsigned i = 0; i < cfg->zone_count; i++)
		if (cfg->zones[i].xfr.notify_count > 0)
			return true;
	return false;
}

static uint16_t random_id(void)
{
	uint16_t id;

	/* a predictable id would let anyone forge the answer that stops our resends */
	if (getrandom(&id, sizeof(id), GRND_NONBLOCK) != (ssize_t)sizeof(id))
		id = (uint16_t)(monotonic_ms() * 2654435761u >> 7);
	return id;
}

/* The NOTIFY for zone z with serial in its answer section (RFC 1996 3.7: a hint the
 * secondary may use), signed with the zone's transfer_key when it has one (a
 * secondary that takes transfers with a key takes NOTIFY with it too). Returns the
 * length, 0 when it cannot be made. */
static size_t notify_message(const struct zone *z, struct tsig_ctx *tsig, uint16_t id,
			     uint32_t serial, uint8_t *buf, size_t cap)
{
	struct wire_out w;

	wire_out_init(&w, buf, cap);
	wire_put_u16(&w, id);
	wire_put_u16(&w, (uint16_t)(DNS_OPCODE_NOTIFY << 11) | DNS_F_AA);
	wire_put_u16(&w, 1); /* question */
	wire_put_u16(&w, 1); /* answer: the SOA */
	wire_put_u16(&w, 0);
	wire_put_u16(&w, 0);
	wire_put_bytes(&w, z->apex, z->apex_len);
	wire_put_u16(&w, DNS_T_SOA);
	wire_put_u16(&w, DNS_C_IN);
	wire_put_ptr(&w, DNS_HEADER_SIZE);
	wire_put_u16(&w, DNS_T_SOA);
	wire_put_u16(&w, DNS_C_IN);
	wire_put_u32(&w, z->ttl);
	wire_put_u16(&w, (uint16_t)(z->soa_names_len + 4 + sizeof(z->soa_times)));
	wire_put_bytes(&w, z->soa_names, z->soa_names_len);
	wire_put_u32(&w, serial);
	wire_put_bytes(&w, z->soa_times, sizeof(z->soa_times));
	if (w.err == 0 && z->key != NULL) {
		struct tsig_signer signer;
		if (tsig == NULL)
			return 0;
		tsig_signer_start_request(&signer, tsig, z->key, id);
		if (tsig_sign(&signer, &w, (uint64_t)time(NULL), TSIG_E_NONE, NULL, 0) != 0)
			return 0;
	}
	return w.err ? 0 : w.pos;
}

static int socket_for(const struct notifier *n, const struct listen_addr *a)
{
	return a->ss.ss_family == AF_INET6 ? n->fd6 : n->fd4;
}

static void send_notify(struct notifier *n, const struct notify_zone *nz,
			struct notify_target *t, int64_t now)
{
	const struct zone *z = &n->zones->zones[nz->zi];
	uint8_t msg[DNS_HEADER_SIZE + 2 * DNAME_WIRE_MAX + ZONE_SOA_NAMES_MAX + 64 +
		    NOTIFY_TSIG_ROOM];

	t->id = random_id();
	size_t len = notify_message(z, n->tsig, t->id, t->serial, msg, sizeof(msg));
	if (len == 0 && t->sends == 0)
		log_warn("NOTIFY of %s to %s: cannot sign it with key %s", z->cfg->name,
			 t->addr->text, z->key != NULL ? z->key->name : "?");
	int fd = socket_for(n, t->addr);
	if (len > 0 && fd >= 0 &&
	    sendto(fd, msg, len, 0, (const struct sockaddr *)&t->addr->ss, t->addr->sslen) < 0 &&
	    t->sends == 0)
		log_warn("NOTIFY of %s to %s: %s (will retry)", z->cfg->name, t->addr->text,
			 strerror(errno));
	t->due_ms = now + ((int64_t)NOTIFY_FIRST_WAIT_MS << t->sends);
	t->sends++;
}

/* Reads every zone's serial from a fresh snapshot and announces those that changed
 * (all of them the first time). */
static void poll_serials(struct notifier *n, int64_t now)
{
	if (store_reader_begin(n->reader) != 0)
		return; /* the store's trouble is logged by whoever writes it; try again */
	for (unsigned i = 0; i < n->nzones; i++) {
		struct notify_zone *nz = &n->z[i];
		uint32_t serial = zonemap_serial(n->reader, n->cfg, n->zones->zones[nz->zi].cfg);

		if (nz->known && serial == nz->serial)
			continue;
		nz->known = true;
		nz->serial = serial;
		for (unsigned k = 0; k < nz->ntargets; k++) {
			struct notify_target *t = &nz->targets[k];
			t->serial = serial; /* a newer serial replaces one still unanswered */
			t->sends = 0;
			send_notify(n, nz, t, now);
		}
	}
	store_reader_end(n->reader);
}

static void resend_due(struct notifier *n, int64_t now)
{
	for (unsigned i = 0; i < n->nzones; i++) {
		struct notify_zone *nz = &n->z[i];
		for (unsigned k = 0; k < nz->ntargets; k++) {
			struct notify_target *t = &nz->targets[k];
			if (t->sends == 0 || now < t->due_ms)
				continue;
			if (t->sends < NOTIFY_TRIES) {
				send_notify(n, nz, t, now);
				continue;
			}
			log_warn("NOTIFY of %s serial %u to %s: no answer to %u tries, given up",
				 n->zones->zones[nz->zi].cfg->name, t->serial, t->addr->text,
				 NOTIFY_TRIES);
			t->sends = 0;
		}
	}
}

static bool same_peer(const struct sockaddr_storage *a, const struct listen_addr *b)
{
	if (a->ss_family != b->ss.ss_family)
		return false;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)&b->ss;
		return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)&b->ss;
	return x->sin6_port == y->sin6_port &&
	       memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr)) == 0;
}

/* Matches one answer read from fd to the target awaiting it (same peer, id and
 * zone); anything else is ignored. */
static void read_answer(struct notifier *n, int fd)
{
	uint8_t buf[1232];
	struct sockaddr_storage from;
	socklen_t fl = sizeof(from);
	ssize_t len = recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from, &fl);

	if (len < DNS_HEADER_SIZE)
		return;
	uint16_t id = wire_get_u16(buf), flags = wire_get_u16(buf + 2);
	if (!(flags & DNS_F_QR) || DNS_OPCODE(flags) != DNS_OPCODE_NOTIFY)
		return;
	for (unsigned i = 0; i < n->nzones; i++) {
		struct notify_zone *nz = &n->z[i];
		const struct zone *z = &n->zones->zones[nz->zi];
		for (unsigned k = 0; k < nz->ntargets; k++) {
			struct notify_target *t = &nz->targets[k];
			if (t->sends == 0 || t->id != id || !same_peer(&from, t->addr))
				continue;
			/* an answer echoes the question; one without it is still an answer */
			if (wire_get_u16(buf + 4) == 1 &&
			    ((size_t)len < (size_t)DNS_HEADER_SIZE + z->apex_len ||
			     !dns_name_equal(buf + DNS_HEADER_SIZE, z->apex, z->apex_len)))
				continue;
			int rcode = flags & 0xf;
			if (rcode != DNS_R_NOERROR)
				log_warn("NOTIFY of %s serial %u to %s answered with rcode %d",
					 z->cfg->name, t->serial, t->addr->text, rcode);
			else
				log_msg(LOG_LVL_DEBUG, "NOTIFY of %s serial %u to %s answered",
					z->cfg->name, t->serial, t->addr->text);
			t->sends = 0;
			return;
		}
	}
}

static int64_t next_due(const struct notifier *n, int64_t next_poll)
{
	int64_t due = next_poll;

	for (unsigned i = 0; i < n->nzones; i++)
		for (unsigned k = 0; k < n->z[i].ntargets; k++) {
			const struct notify_target *t = &n->z[i].targets[k];
			if (t->sends > 0 && t->due_ms < due)
				due = t->due_ms;
		}
	return due;
}

static void *notify_main(void *arg)
{
	struct notifier *n = arg;
	int64_t next_poll = 0;

	for (;;) {
		int64_t now = monotonic_ms();
		if (now >= next_poll) {
			poll_serials(n, now);
			next_poll = now + NOTIFY_POLL_MS;
		}
		resend_due(n, now);

		struct pollfd pfd[3] = {
			{ .fd = n->stop_fd, .events = POLLIN },
			{ .fd = n->fd4, .events = POLLIN },
			{ .fd = n->fd6, .events = POLLIN },
		};
		int64_t wait = next_due(n, next_poll) - monotonic_ms();
		int rc = poll(pfd, 3, wait < 0 ? 0 : (int)wait);
		if (rc < 0 && errno != EINTR) {
			log_err("NOTIFY thread: poll: %s; NOTIFY stopped", strerror(errno));
			break;
		}
		if (rc <= 0)
			continue;
		if (pfd[0].revents != 0)
			break;
		for (int i = 1; i < 3; i++)
			if (pfd[i].revents & POLLIN)
				read_answer(n, pfd[i].fd);
	}
	return NULL;
}

static int open_socket(int family, const char *what)
{
	int fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	if (fd < 0)
		log_err("NOTIFY: cannot open a UDP socket for %s targets: %s", what,
			strerror(errno));
	return fd;
}

void notifier_stop(struct notifier *n)
{
	if (n == NULL)
		return;
	if (n->started)
		pthread_join(n->thread, NULL);
	if (n->fd4 >= 0)
		close(n->fd4);
	if (n->fd6 >= 0)
		close(n->fd6);
	store_reader_free(n->reader);
	tsig_ctx_free(n->tsig);
	free(n->z);
	free(n);
}

int notifier_start(struct notifier **out, const struct config *cfg,
		   const struct zone_table *zones, struct store *store, int stop_fd)
{
	struct notifier *n = calloc(1, sizeof(*n));
	bool want4 = false, want6 = false;
	int rc;

	*out = NULL;
	if (n == NULL)
		return DNSBL_ENOMEM;
	n->cfg = cfg;
	n->zones = zones;
	n->store = store;
	n->stop_fd = stop_fd;
	n->fd4 = n->fd6 = -1;
	n->z = calloc(zones->count, sizeof(*n->z));
	if (n->z == NULL) {
		notifier_stop(n);
		return DNSBL_ENOMEM;
	}
	for (unsigned i = 0; i < zones->count; i++) {
		const struct xfr_config *x = &zones->zones[i].cfg->xfr;
		if (x->notify_count == 0)
			continue;
		struct notify_zone *nz = &n->z[n->nzones++];
		nz->zi = i;
		if (zones->zones[i].key != NULL && n->tsig == NULL &&
		    (rc = tsig_ctx_new(&n->tsig)) != 0) {
			log_err("NOTIFY: cannot make an HMAC context: %s", dnsbl_strerror(rc));
			notifier_stop(n);
			return rc;
		}
		nz->ntargets = x->notify_count;
		for (unsigned k = 0; k < x->notify_count; k++) {
			nz->targets[k].addr = &x->notify[k];
			if (x->notify[k].ss.ss_family == AF_INET6)
				want6 = true;
			else
				want4 = true;
		}
	}
	if ((want4 && (n->fd4 = open_socket(AF_INET, "IPv4")) < 0) ||
	    (want6 && (n->fd6 = open_socket(AF_INET6, "IPv6")) < 0)) {
		notifier_stop(n);
		return DNSBL_EIO;
	}
	if ((rc = store_reader_new(store, &n->reader)) != 0) {
		log_err("NOTIFY: cannot read the store: %s", dnsbl_strerror(rc));
		notifier_stop(n);
		return rc;
	}
	if ((rc = pthread_create(&n->thread, NULL, notify_main, n)) != 0) {
		log_err("cannot start the NOTIFY thread: %s", strerror(rc));
		notifier_stop(n);
		return DNSBL_EIO;
	}
	n->started = true;
	*out = n;
	return 0;
}
