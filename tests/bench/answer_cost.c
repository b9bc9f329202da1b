/* The per-query path's cost in instructions, free of the kernel and of the machine's
 * noise: answer_query over a fixed mix of queries against a store built here.
 * Instruction counts under valgrind repeat exactly for the same binary and input, so
 * two builds (before and after a change) compare to the instruction:
 *
 *   make answer-cost     (builds it with a 4 GiB map, since valgrind cannot map the
 *                         store's usual 64 GiB, runs callgrind, prints the total)
 *
 * For an older tree, build this file against that tree's objects in the same way.
 * Built normally and run without valgrind it prints ns per query (noisy: a shared
 * machine). The store: N (argument, default 20000) IPv4 /32s in 10.0.0.0/8, N/10
 * /24s in 172.16.0.0/12, N/4 IPv6 /64s and N/4 /128s in 2001:db8::/32, one
 * exclusion per 100 /32s, and N/10 domains (exact, "*." and "." entries). The
 * queries, in a fixed pseudo-random order: A and TXT for listed and unlisted IPv4
 * and IPv6 addresses, partial names, domain names, the apex. Uses only the
 * responder's public API (answer.h, store.h, zone.h, config.h), so the same source
 * builds against older trees. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "answer.h"
#include "config.h"
#include "dname.h"
#include "store.h"
#include "zone.h"

#define MAXQ 200000

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

/* Appends the wire form of dotted name text to p; returns the new end. */
static uint8_t *put_name(uint8_t *p, const char *text)
{
	while (*text) {
		const char *dot = strchr(text, '.');
		size_t n = dot ? (size_t)(dot - text) : strlen(text);
		*p++ = (uint8_t)n;
		memcpy(p, text, n);
		p += n;
		text += n + (dot != NULL);
	}
	*p++ = 0;
	return p;
}

static size_t make_query(uint8_t *q, const char *name, uint16_t qtype, uint16_t id)
{
	uint8_t *p = q;
	static const uint8_t hdr[10] = { 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0 };

	*p++ = (uint8_t)(id >> 8);
	*p++ = (uint8_t)id;
	memcpy(p, hdr, sizeof(hdr));
	p = put_name(p + sizeof(hdr), name);
	*p++ = (uint8_t)(qtype >> 8);
	*p++ = (uint8_t)qtype;
	*p++ = 0;
	*p++ = 1;
	return (size_t)(p - q);
}

static int merge(struct store_writer *w, struct store_zone *z, const struct entry_key *k,
		 uint16_t src, uint8_t flags)
{
	struct store_put put = { .flags = flags, .source_id = src, .seen = 1000, .hits = 1 };
	return store_merge(w, z, k, &put, NULL);
}

static int load(struct store *s, unsigned n)
{
	struct store_writer *w;
	struct store_zone *z, *dz;
	uint16_t src;
	int rc = 0;

	if (store_writer_begin(s, &w) < 0 || store_writer_zone(w, "bl.bench", &z) < 0 ||
	    store_writer_zone(w, "dbl.bench", &dz) < 0 || store_writer_source(w, "bench", &src) < 0)
		return -1;
	for (unsigned i = 0; i < n && rc == 0; i++) {
		struct entry_key k;
		prefix4_make(&k, 0x0a000000u | (i * 2654435761u & 0xffffffu), 32);
		rc = merge(w, z, &k, src, i % 100 == 99 ? STORE_F_EXCLUDE : 0);
	}
	for (unsigned i = 0; i < n / 10 && rc == 0; i++) {
		struct entry_key k;
		prefix4_make(&k, 0xac100000u | ((i * 40503u) & 0xfffu) << 8, 24);
		rc = merge(w, z, &k, src, 0);
	}
	for (unsigned i = 0; i < n / 2 && rc == 0; i++) {
		struct entry_key k = { .family = ADDR_FAMILY_V6, .len = i % 2 ? 128 : 64 };
		uint32_t h = i * 2654435761u;
		k.addr[0] = 0x20, k.addr[1] = 0x01, k.addr[2] = 0x0d, k.addr[3] = 0xb8;
		memcpy(k.addr + 4, &h, 4);
		if (i % 2)
			memcpy(k.addr + 12, &h, 4);
		rc = merge(w, z, &k, src, 0);
	}
	for (unsigned i = 0; i < n / 10 && rc == 0; i++) {
		char text[64];
		uint8_t buf[DNAME_KEY_MAX];
		struct entry_key k;
		snprintf(text, sizeof(text), "%sd%u.example", i % 3 == 1 ? "*." : i % 3 == 2 ? "." : "",
			 i);
		if (dname_parse(text, strlen(text), buf, &k) < 0)
			return -1;
		rc = merge(w, dz, &k, src, 0);
	}
	if (rc < 0) {
		store_writer_abort(w);
		return -1;
	}
	return store_writer_commit(w);
}

/* One query name of the mix, by kind. */
static void query_name(char *buf, size_t size, unsigned n, unsigned *qtype)
{
	uint32_t r = next(), i = next() % (n ? n : 1);
	uint32_t a;

	*qtype = (r & 1) ? 16 : 1; /* TXT or A */
	switch ((r >> 1) % 10) {
	case 0: case 1: case 2: /* a listed (or excluded) IPv4 /32 */
		a = 0x0a000000u | (i * 2654435761u & 0xffffffu);
		snprintf(buf, size, "%u.%u.%u.%u.bl.bench", a & 255, a >> 8 & 255, a >> 16 & 255,
			 a >> 24);
		break;
	case 3: case 4: case 5: /* mostly unlisted IPv4 */
		a = next();
		snprintf(buf, size, "%u.%u.%u.%u.bl.bench", a & 255, a >> 8 & 255, a >> 16 & 255,
			 a >> 24);
		break;
	case 6: /* inside a /24 */
		a = 0xac100000u | ((i % (n / 10 + 1)) * 40503u & 0xfffu) << 8 | (r >> 8 & 255);
		snprintf(buf, size, "%u.%u.%u.%u.bl.bench", a & 255, a >> 8 & 255, a >> 16 & 255,
			 a >> 24);
		break;
	case 7: { /* IPv6, listed /64 or not */
		uint32_t h = (i & ~1u) * 2654435761u;
		uint8_t b[16] = { 0x20, 0x01, 0x0d, 0xb8 };
		memcpy(b + 4, &h, 4);
		b[15] = (uint8_t)r;
		if (r & 0x100)
			b[2] = 0x0e;
		size_t p = 0;
		for (int j = 15; j >= 0; j--)
			p += (size_t)snprintf(buf + p, size - p, "%x.%x.", b[j] & 15, b[j] >> 4);
		snprintf(buf + p, size - p, "bl.bench");
		break;
	}
	case 8: /* a domain */
		snprintf(buf, size, "%sd%u.example.dbl.bench", (r & 0x100) ? "x." : "", i % (n / 10 + 1));
		break;
	default: /* a partial name, or the apex */
		if (r & 0x100)
			snprintf(buf, size, "%u.%u.bl.bench", i & 255, 10u);
		else
			snprintf(buf, size, "bl.bench");
		break;
	}
}

int main(int argc, char **argv)
{
	char dir[] = "/tmp/dnsbl-answer-cost-XXXXXX", conf[64], err[4096];
	unsigned n = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 20000;
	unsigned nq = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 10) : 100000;
	static struct config cfg;
	static struct zone_table zones;
	static struct answer_ctx actx;
	static uint8_t qbuf[MAXQ][300];
	static size_t qlen[MAXQ];
	static uint8_t out[2048];
	struct store *s;
	struct store_reader *r;
	FILE *f;

	if (nq > MAXQ)
		nq = MAXQ;
	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(conf, sizeof(conf), "%s/conf", dir);
	if ((f = fopen(conf, "w")) == NULL)
		return 1;
	fprintf(f, "[server]\ndb = %s/db\n"
		   "[zone bl.bench]\nttl = 300\ntxt = Listed, see https://bl.bench/?ip=$\n"
		   "soa = ns1.bl.bench. h.bl.bench. 3600 600 86400 120\nns = ns1.bl.bench.\n"
		   "[zone dbl.bench]\ntype = name\ntxt = $ listed\n"
		   "soa = ns1.dbl.bench. h.dbl.bench. 3600 600 86400 120\nns = ns1.dbl.bench.\n",
		dir);
	fclose(f);
	if (config_load(conf, &cfg, err, sizeof(err)) < 0 || zone_table_init(&zones, &cfg) < 0 ||
	    store_open(&s, cfg.db, STORE_CREATE) < 0 || load(s, n) < 0 ||
	    store_reader_new(s, &r) < 0 || answer_ctx_init(&actx, &zones, r) < 0) {
		fprintf(stderr, "answer_cost: set-up failed %s\n", err);
		return 1;
	}
	for (unsigned i = 0; i < nq; i++) {
		char name[300];
		unsigned qtype;
		query_name(name, sizeof(name), n, &qtype);
		qlen[i] = make_query(qbuf[i], name, (uint16_t)qtype, (uint16_t)i);
	}
	struct timespec t0, t1;
	uint64_t bytes = 0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (unsigned i = 0; i < nq; i += 64) {
		answer_batch_begin(&actx);
		for (unsigned j = i; j < i + 64 && j < nq; j++)
			bytes += answer_query(&actx, qbuf[j], qlen[j], out, sizeof(out), false);
		answer_batch_end(&actx);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double ns = ((double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec));
	printf("answer_cost: %u entries, %u queries, %.0f ns per query, %llu response bytes "
	       "(noerror %llu, nxdomain %llu)\n", n, nq, ns / nq, (unsigned long long)bytes,
	       (unsigned long long)actx.stats.noerror, (unsigned long long)actx.stats.nxdomain);
	answer_ctx_free(&actx);
	store_reader_free(r);
	store_close(s);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : 1;
}
