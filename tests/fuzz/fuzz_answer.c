/* Fuzz harness for the per-query path: dns_query_parse and answer_query over a real
 * store, for UDP and TCP limits.
 *
 * Built with clang -fsanitize=fuzzer (make fuzz-libfuzzer) it is a libFuzzer target.
 * Built normally (make unit runs it) it mutates a set of seed queries with a fixed
 * seed for a bounded number of rounds, so every `make test` (and its ASan+UBSan run)
 * feeds the responder some hundred thousand malformed packets. It checks that every
 * response is well formed: ldns parses it and its id and question match the query. */
#include <ldns/ldns.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "answer.h"
#include "config.h"
#include "dname.h"
#include "mutate.h"
#include "store.h"
#include "wire.h"
#include "zone.h"

static struct config cfg;
static struct zone_table zones;
static struct store *store;
static struct store_reader *reader;
static struct answer_ctx actx;
static char dbdir[] = "/tmp/dnsbl-fuzz-XXXXXX";
/* bl.example's transfer_key: signed seeds take the TSIG slow path (answer_tsig.c) */
#define FUZZ_SECRET "ZnV6emluZyB0aGUgVFNJRyBzbG93IHBhdGggb2Yg"

static int setup(void)
{
	char conf[sizeof(dbdir) + 16], err[4096];
	FILE *f;

	if (mkdtemp(dbdir) == NULL)
		return -1;
	snprintf(conf, sizeof(conf), "%s/conf", dbdir);
	f = fopen(conf, "w");
	if (f == NULL)
		return -1;
	fprintf(f, "[server]\ndb = %s/db\n"
		   "[zone bl.example]\nttl = 300\ntxt = Listed $ see $$\n"
		   "soa = ns1.bl.example. h.bl.example. 1 2 3 4\nns = ns1.bl.example.\n"
		   "transfer_key = fz\n"
		   "[zone sub.bl.example]\nsoa = ns. h. 1 2 3 4\nns = ns.\n"
		   "[zone dbl.example]\ntype = name\ntxt = $ listed\nsoa = ns. h. 1 2 3 4\nns = ns.\n"
		   "[zone zen.example]\ntype = combined\nmembers = bl.example sub.bl.example\n"
		   "soa = ns. h. 1 2 3 4\nns = ns.\n"
		   "[key fz]\nalgorithm = hmac-sha256\nsecret = " FUZZ_SECRET "\n", dbdir);
	fclose(f);
	if (config_load(conf, &cfg, err, sizeof(err)) < 0) {
		fputs(err, stderr);
		return -1;
	}
	if (zone_table_init(&zones, &cfg) < 0 || store_open(&store, cfg.db, STORE_CREATE) < 0)
		return -1;

	struct store_writer *w;
	struct store_zone *z;
	uint16_t src;
	static char longtxt[1000];
	memset(longtxt, 'x', sizeof(longtxt));
	if (store_writer_begin(store, &w) < 0 || store_writer_zone(w, "bl.example", &z) < 0 ||
	    store_writer_source(w, "fuzz", &src) < 0)
		return -1;
	const char *pfx[] = { "192.0.2.0/24", "192.0.2.7/32", "10.0.0.0/8", "198.51.100.1/32" };
	for (unsigned i = 0; i < 4; i++) {
		struct entry_key p;
		prefix4_parse(pfx[i], strlen(pfx[i]), &p);
		struct store_put put = { .flags = i == 1 ? STORE_F_EXCLUDE : STORE_F_TXT,
					 .source_id = src, .seen = 1, .hits = 1,
					 .txt = longtxt, .txt_len = i == 3 ? sizeof(longtxt) : 10 };
		if (store_merge(w, z, &p, &put, NULL) < 0)
			return -1;
	}
	if (store_writer_zone(w, "dbl.example", &z) < 0)
		return -1;
	const char *names[] = { "example.com", "*.wild.example", ".tree.example", "!ok.tree.example",
				"a.b.c.deep.example" };
	for (unsigned i = 0; i < 5; i++) {
		struct entry_key k;
		uint8_t buf[DNAME_KEY_MAX];
		bool excl = names[i][0] == '!';
		if (dname_parse(names[i] + excl, strlen(names[i] + excl), buf, &k) < 0)
			return -1;
		struct store_put put = { .flags = excl ? STORE_F_EXCLUDE : 0, .source_id = src,
					 .seen = 1, .hits = 1 };
		if (store_merge(w, z, &k, &put, NULL) < 0)
			return -1;
	}
	if (store_writer_commit(w) < 0 || store_reader_new(store, &reader) < 0)
		return -1;
	return answer_ctx_init(&actx, &zones, reader);
}

static void check(const uint8_t *q, size_t qlen, const uint8_t *r, size_t rlen)
{
	ldns_pkt *pkt = NULL;

	if (rlen == 0)
		return;
	if (rlen < DNS_HEADER_SIZE || memcmp(q, r, 2) != 0 || !(r[2] & 0x80)) {
		fprintf(stderr, "fuzz: bad response header\n");
		abort();
	}
	if (ldns_wire2pkt(&pkt, r, rlen) != LDNS_STATUS_OK) {
		fprintf(stderr, "fuzz: ldns cannot parse our response (%zu bytes)\n", rlen);
		abort();
	}
	ldns_pkt_free(pkt);
	(void)qlen;
}

static void one(const uint8_t *data, size_t size)
{
	static uint8_t out[65536];

	answer_batch_begin(&actx);
	size_t n = answer_query(&actx, data, size, out, 1232 + 64, false);
	check(data, size, out, n);
	n = answer_query(&actx, data, size, out, sizeof(out), true);
	check(data, size, out, n);
	answer_batch_end(&actx);
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
	one(data, size);
	return 0;
}
#else
static size_t seed(uint8_t *buf, const char *name, uint16_t type, int edns, int tsig)
{
	ldns_pkt *p = NULL;

	if (ldns_pkt_query_new_frm_str(&p, name, type, LDNS_RR_CLASS_IN, LDNS_RD) != LDNS_STATUS_OK)
		return 0;
	if (edns)
		ldns_pkt_set_edns_udp_size(p, 4096);
	return fuzz_seed_wire(p, tsig ? "fz." : NULL, FUZZ_SECRET, buf);
}

int main(int argc, char **argv)
{
	unsigned long rounds = argc > 1 ? strtoul(argv[1], NULL, 10) : 200000;
	static const struct { const char *name; uint16_t type; int edns, tsig; } seeds[] = {
		{ "2.0.0.127.bl.example.", LDNS_RR_TYPE_A, 0 },
		{ "1.2.0.192.BL.example.", LDNS_RR_TYPE_TXT, 1 },
		{ "1.100.51.198.bl.example.", LDNS_RR_TYPE_TXT, 0 },
		{ "7.2.0.192.bl.example.", LDNS_RR_TYPE_ANY, 1 },
		{ "0.10.bl.example.", LDNS_RR_TYPE_A, 0 },
		{ "bl.example.", LDNS_RR_TYPE_SOA, 1 },
		{ "x.sub.bl.example.", LDNS_RR_TYPE_NS, 0 },
		{ "example.com.", LDNS_RR_TYPE_A, 1 },
		{ "x.WILD.example.dbl.example.", LDNS_RR_TYPE_TXT, 1 },
		{ "c.deep.example.dbl.example.", LDNS_RR_TYPE_A, 0 },
		{ "1.2.0.192.zen.example.", LDNS_RR_TYPE_TXT, 1 },
		{ "5.4.3.2.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.bl.example.",
		  LDNS_RR_TYPE_A, 0 },
		{ "bl.example.", LDNS_RR_TYPE_SOA, 0, 1 },
		{ "2.0.0.127.bl.example.", LDNS_RR_TYPE_TXT, 1, 1 },
	};
	enum { NSEEDS = sizeof(seeds) / sizeof(seeds[0]) };
	uint8_t pkt[600];
	uint8_t seeds_wire[NSEEDS][FUZZ_SEED_MAX];
	size_t seeds_len[NSEEDS];

	if (setup() < 0) {
		fprintf(stderr, "fuzz: setup failed\n");
		return 1;
	}
	for (unsigned i = 0; i < NSEEDS; i++)
		seeds_len[i] = seed(seeds_wire[i], seeds[i].name, seeds[i].type, seeds[i].edns,
				    seeds[i].tsig);
	srandom(5782);
	for (unsigned long r = 0; r < rounds; r++) {
		unsigned s = (unsigned)random() % NSEEDS;
		size_t len = seeds_len[s];
		memcpy(pkt, seeds_wire[s], len);
		fuzz_mutate(pkt, &len, sizeof(pkt));
		one(pkt, len);
	}
	const struct answer_stats *st = &actx.stats;
	printf("fuzz_answer: %lu mutated packets, answers: %llu NOERROR, %llu NXDOMAIN, "
	       "%llu REFUSED, %llu FORMERR, %llu NOTIMP, %llu truncated, %llu dropped, "
	       "%llu TSIG rejected; every response parsed by ldns\n",
	       rounds, (unsigned long long)st->noerror, (unsigned long long)st->nxdomain,
	       (unsigned long long)st->refused, (unsigned long long)st->formerr,
	       (unsigned long long)st->notimp, (unsigned long long)st->truncated,
	       (unsigned long long)st->dropped, (unsigned long long)st->tsig_rejected);
	if (st->noerror == 0 || st->nxdomain == 0 || st->formerr == 0 || st->tsig_rejected == 0) {
		fprintf(stderr, "fuzz: the mutations no longer reach every outcome\n");
		return 1;
	}
	answer_ctx_free(&actx);
	store_reader_free(reader);
	store_close(store);
	zone_table_free(&zones);
	config_free(&cfg);
	char cmd[64];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dbdir);
	if (system(cmd) != 0)
		return 1;
	return 0;
}
#endif
