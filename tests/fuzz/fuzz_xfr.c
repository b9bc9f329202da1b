/* Fuzz harness for transfer requests: xfr_take and, for what it accepts, the transfer
 * thread (AXFR, IXFR from the journal, the SOA-only and fallback answers, TSIG on a
 * keyed zone) over a real store and a real loopback TCP connection.
 *
 * Each input is a request as it arrives on a TCP connection from 127.0.0.1, which
 * every zone's allow_transfer lists. An answer xfr_take writes itself must parse
 * with ldns; a transfer it takes is read to its end from the client side of the
 * connection, and every message must parse with ldns and carry the request's id.
 *
 * Built with clang -fsanitize=fuzzer (make fuzz-libfuzzer) it is a libFuzzer target;
 * built normally (make unit runs it) it mutates seed requests (fuzz_mutate) with a
 * fixed seed for a bounded number of rounds. */
#include <arpa/inet.h>
#include <ldns/ldns.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "addr.h"
#include "config.h"
#include "dname.h"
#include "log.h"
#include "mutate.h"
#include "store.h"
#include "tsig.h"
#include "wire.h"
#include "xfr.h"
#include "zone.h"

#define FUZZ_SECRET "ZnV6emluZyB0aGUgdHJhbnNmZXIgcmVxdWVzdHMgMQ=="
#define READ_TIMEOUT_MS 20000

static struct config cfg;
static struct zone_table zones;
static struct store *store;
static struct server srv;
static struct tsig_ctx *tsig;
static int listener = -1;
static struct sockaddr_in listen_addr;
static char dbdir[] = "/tmp/dnsbl-fuzzxfr-XXXXXX";
static FILE *report; /* stderr */

static struct {
	unsigned long not_xfr, answered, taken, messages, bytes;
} stats;

static int put(struct store_writer *w, const char *zone, const char *key, uint8_t flags)
{
	struct store_zone *z;
	uint8_t buf[DNAME_KEY_MAX];
	struct entry_key k;
	bool names = strcmp(zone, "dbl.example") == 0;

	if (store_writer_zone(w, zone, &z) < 0 || entry_key_parse(names, key, strlen(key), buf, &k) < 0)
		return -1;
	struct store_put p = { .flags = flags, .seen = 1, .hits = 1 };
	return store_merge(w, z, &k, &p, NULL) < 0 ? -1 : 0;
}

/* Three commits, so that IXFR has journal records to undo. */
static int fill(void)
{
	static const char *const commits[3][4] = {
		{ "192.0.2.0/24", "10.0.0.0/8", "2001:db8::/45", "198.51.100.1" },
		{ "192.0.2.7", "10.1.0.0/20", "2001:db8:1::/62", NULL },
		{ "10.2.3.4", "203.0.113.0/27", NULL, NULL },
	};
	for (int c = 0; c < 3; c++) {
		struct store_writer *w;
		if (store_writer_begin(store, &w) < 0)
			return -1;
		for (int i = 0; i < 4 && commits[c][i] != NULL; i++) {
			uint8_t excl = c == 1 && i == 0 ? STORE_F_EXCLUDE : 0;
			if (put(w, "bl.example", commits[c][i], excl) < 0 ||
			    put(w, "tk.example", commits[c][i], excl) < 0)
				return -1;
		}
		if (c == 0 && (put(w, "dbl.example", "*.wild.example", 0) < 0 ||
			       put(w, "dbl.example", "example.com", 0) < 0 ||
			       put(w, "lim.example", "192.0.2.0/24", 0) < 0))
			return -1;
		if (store_writer_commit(w) < 0)
			return -1;
	}
	return 0;
}

static int setup(void)
{
	char conf[sizeof(dbdir) + 16], err[4096];
	FILE *f;

	report = fdopen(dup(2), "w");
	if (report == NULL || mkdtemp(dbdir) == NULL)
		return -1;
	snprintf(conf, sizeof(conf), "%s/conf", dbdir);
	if ((f = fopen(conf, "w")) == NULL)
		return -1;
	fprintf(f, "[server]\ndb = %s/db\nallow_transfer = 127.0.0.1/32\n"
		   "[zone bl.example]\ntxt = Listed $\nsoa = ns. h. 1 2 3 4\nns = ns.\n"
		   "[zone tk.example]\nsoa = ns. h. 1 2 3 4\nns = ns.\ntransfer_key = fz\n"
		   "[zone dbl.example]\ntype = name\nsoa = ns. h. 1 2 3 4\nns = ns.\n"
		   "[zone zen.example]\ntype = combined\nmembers = bl.example tk.example\n"
		   "soa = ns. h. 1 2 3 4\nns = ns.\n"
		   "[zone lim.example]\nsoa = ns. h. 1 2 3 4\nns = ns.\ntransfer_record_limit = 3\n"
		   "[key fz]\nalgorithm = hmac-sha256\nsecret = " FUZZ_SECRET "\n", dbdir);
	fclose(f);
	if (config_load(conf, &cfg, err, sizeof(err)) < 0) {
		fputs(err, report);
		return -1;
	}
	if (zone_table_init(&zones, &cfg) < 0 || store_open(&store, cfg.db, STORE_CREATE) < 0 ||
	    fill() < 0 || tsig_ctx_new(&tsig) < 0)
		return -1;
	srv.cfg = &cfg;
	srv.zones = &zones;
	srv.store = store;
	socklen_t sl = sizeof(listen_addr);
	listen_addr.sin_family = AF_INET;
	listen_addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	listener = socket(AF_INET, SOCK_STREAM, 0);
	if (listener < 0 || bind(listener, (struct sockaddr *)&listen_addr, sizeof(listen_addr)) < 0 ||
	    listen(listener, 8) < 0 ||
	    getsockname(listener, (struct sockaddr *)&listen_addr, &sl) < 0)
		return -1;
	/* the transfer threads' log lines go to syslog, not among the sanitizers' reports */
	log_init("fuzz_xfr", 1);
	return 0;
}

static void fail(const char *what, size_t n)
{
	fprintf(report, "fuzz_xfr: %s (%zu bytes)\n", what, n);
	fflush(report);
	abort();
}

static void check_msg(const uint8_t *q, size_t qlen, const uint8_t *r, size_t rlen)
{
	ldns_pkt *pkt = NULL;

	if (rlen < DNS_HEADER_SIZE || !(r[2] & 0x80) || (qlen >= 2 && memcmp(q, r, 2) != 0))
		fail("bad response header", rlen);
	if (ldns_wire2pkt(&pkt, r, rlen) != LDNS_STATUS_OK)
		fail("ldns cannot parse a message we sent", rlen);
	ldns_pkt_free(pkt);
	stats.messages++;
	stats.bytes += rlen;
}

static bool read_exact(int fd, uint8_t *buf, size_t n)
{
	size_t got = 0;

	while (got < n) {
		struct pollfd p = { fd, POLLIN, 0 };
		if (poll(&p, 1, READ_TIMEOUT_MS) != 1)
			fail("the transfer stalled", got);
		ssize_t r = read(fd, buf + got, n - got);
		if (r <= 0)
			return false;
		got += (size_t)r;
	}
	return true;
}

static void one(const uint8_t *data, size_t size)
{
	static uint8_t out[65536 + 2], msg[65536];
	size_t outlen = 0;
	int client = socket(AF_INET, SOCK_STREAM, 0);

	if (client < 0 || connect(client, (struct sockaddr *)&listen_addr, sizeof(listen_addr)) < 0)
		fail("connect", 0);
	int sfd = accept(listener, NULL, NULL);
	if (sfd < 0)
		fail("accept", 0);
	int rc = xfr_take(&srv, tsig, sfd, data, size, NULL, 0, out, sizeof(out), &outlen);
	if (rc == XFR_NOT_XFR) {
		stats.not_xfr++;
		close(sfd);
	} else if (rc == XFR_ANSWER) {
		stats.answered++;
		check_msg(data, size, out, outlen);
		close(sfd);
	} else {
		stats.taken++;
		uint8_t len2[2];
		while (read_exact(client, len2, 2)) {
			size_t n = (size_t)len2[0] << 8 | len2[1];
			if (!read_exact(client, msg, n))
				fail("a message cut short", n);
			check_msg(data, size, msg, n);
		}
	}
	close(client);
	/* one transfer at a time: the thread lets go of its count last */
	while (atomic_load(&srv.xfr_active) != 0)
		usleep(100);
}

#ifdef DNSBL_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	if (!ready) {
		if (setup() < 0)
			abort();
		ready = 1;
	}
	if (size <= 65535)
		one(data, size);
	return 0;
}
#else
/* A request for name/type, with an SOA of serial in the authority section when
 * serial >= 0 (IXFR), signed with the zone key when tsig. */
static size_t seed(uint8_t *buf, const char *name, ldns_rr_type type, long long serial, int tsig_on)
{
	ldns_pkt *p = NULL;

	if (ldns_pkt_query_new_frm_str(&p, name, type, LDNS_RR_CLASS_IN, 0) != LDNS_STATUS_OK)
		return 0;
	if (serial >= 0) {
		char text[300];
		ldns_rr *rr = NULL;
		snprintf(text, sizeof(text), "%s 0 IN SOA ns. h. %lld 1 2 3 4", name, serial);
		if (ldns_rr_new_frm_str(&rr, text, 0, NULL, NULL) != LDNS_STATUS_OK) {
			ldns_pkt_free(p);
			return 0;
		}
		ldns_pkt_push_rr(p, LDNS_SECTION_AUTHORITY, rr);
	}
	return fuzz_seed_wire(p, tsig_on ? "fz." : NULL, FUZZ_SECRET, buf);
}

static long long serial_of(const char *zone)
{
	struct store_reader *r;
	struct store_zone z;
	long long s = -1;

	if (store_reader_new(store, &r) == 0 && store_reader_begin(r) == 0 &&
	    store_zone_get(r, zone, &z) == 0)
		s = z.serial;
	store_reader_end(r);
	store_reader_free(r);
	return s;
}

int main(int argc, char **argv)
{
	/* fuzz_xfr --seeds DIR writes the seed requests there, a corpus for libFuzzer */
	const char *seed_dir = argc > 2 && strcmp(argv[1], "--seeds") == 0 ? argv[2] : NULL;
	unsigned long rounds = argc > 1 && !seed_dir ? strtoul(argv[1], NULL, 10) : 3000;

	if (setup() < 0) {
		fprintf(report ? report : stderr, "fuzz_xfr: setup failed\n");
		return 1;
	}
	long long bl = serial_of("bl.example"), tk = serial_of("tk.example");
	long long zen = bl + tk;
	const struct {
		const char *name;
		ldns_rr_type type;
		long long serial;
		int tsig;
	} seeds[] = {
		{ "bl.example.", LDNS_RR_TYPE_AXFR, -1, 0 },
		{ "bl.example.", LDNS_RR_TYPE_IXFR, bl, 0 },      /* current: the SOA */
		{ "bl.example.", LDNS_RR_TYPE_IXFR, bl - 1, 0 },  /* one commit back */
		{ "bl.example.", LDNS_RR_TYPE_IXFR, bl - 2, 0 },  /* two */
		{ "bl.example.", LDNS_RR_TYPE_IXFR, bl - 3, 0 },  /* before the journal: AXFR */
		{ "bl.example.", LDNS_RR_TYPE_IXFR, 12345, 0 },
		{ "zen.example.", LDNS_RR_TYPE_IXFR, zen - 2, 0 },
		{ "zen.example.", LDNS_RR_TYPE_AXFR, -1, 0 },
		{ "dbl.example.", LDNS_RR_TYPE_IXFR, 7, 0 },
		{ "lim.example.", LDNS_RR_TYPE_AXFR, -1, 0 },     /* over its limit */
		{ "tk.example.", LDNS_RR_TYPE_AXFR, -1, 1 },
		{ "tk.example.", LDNS_RR_TYPE_IXFR, tk - 1, 1 },
		{ "tk.example.", LDNS_RR_TYPE_AXFR, -1, 0 },      /* unsigned: REFUSED */
		{ "nowhere.example.", LDNS_RR_TYPE_AXFR, -1, 0 },
		{ "x.bl.example.", LDNS_RR_TYPE_AXFR, -1, 0 },
	};
	enum { NSEEDS = sizeof(seeds) / sizeof(seeds[0]) };
	uint8_t seeds_wire[NSEEDS][FUZZ_SEED_MAX], pkt[600];
	size_t seeds_len[NSEEDS];

	for (unsigned i = 0; i < NSEEDS; i++) {
		seeds_len[i] = seed(seeds_wire[i], seeds[i].name, seeds[i].type, seeds[i].serial,
				    seeds[i].tsig);
		if (seeds_len[i] == 0) {
			fprintf(report, "fuzz_xfr: seed %u not built\n", i);
			return 1;
		}
	}
	for (unsigned i = 0; seed_dir != NULL && i < NSEEDS; i++) {
		char path[4096];
		snprintf(path, sizeof(path), "%s/seed-%02u", seed_dir, i);
		FILE *o = fopen(path, "wb");
		if (o == NULL || fwrite(seeds_wire[i], 1, seeds_len[i], o) != seeds_len[i] ||
		    fclose(o) != 0) {
			fprintf(report, "fuzz_xfr: cannot write %s\n", path);
			return 1;
		}
	}
	if (seed_dir != NULL)
		return 0;
	/* every seed once as it is, then mutated ones */
	for (unsigned i = 0; i < NSEEDS; i++)
		one(seeds_wire[i], seeds_len[i]);
	unsigned long taken_plain = stats.taken;
	srandom(1995);
	for (unsigned long r = 0; r < rounds; r++) {
		unsigned s = (unsigned)random() % NSEEDS;
		size_t len = seeds_len[s];
		memcpy(pkt, seeds_wire[s], len);
		if (r % 2) {
			fuzz_mutate(pkt, &len, sizeof(pkt));
		} else {
			/* keep the question, so that most reach the transfer code: mutate the
			 * IXFR's SOA and the TSIG after it */
			size_t q = DNS_HEADER_SIZE;
			while (q < len && pkt[q] != 0)
				q += (size_t)pkt[q] + 1;
			q += 5;
			size_t tail = len > q ? len - q : 0;
			fuzz_mutate(pkt + q, &tail, sizeof(pkt) - q);
			len = q + tail;
		}
		one(pkt, len);
	}
	fprintf(report, "fuzz_xfr: %u seeds and %lu mutated requests: %lu transfers (%lu "
		"messages, %lu bytes, each parsed by ldns), %lu answered at once, %lu not "
		"transfer requests\n", (unsigned)NSEEDS, rounds, stats.taken, stats.messages,
		stats.bytes, stats.answered, stats.not_xfr);
	if (taken_plain < 9 || stats.taken <= taken_plain || stats.answered == 0 ||
	    stats.not_xfr == 0) {
		fprintf(report, "fuzz_xfr: the requests no longer reach every outcome\n");
		return 1;
	}
	close(listener);
	tsig_ctx_free(tsig);
	store_close(store);
	zone_table_free(&zones);
	config_free(&cfg);
	char cmd[64];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dbdir);
	return system(cmd) == 0 ? 0 : 1;
}
#endif
