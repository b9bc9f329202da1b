/* Data sets for tests/bench/dns_bench.py.
 *
 *   gen_sets SEED N FAMILY ZONE DATA_FILE QUERIES A_FILE TXT_FILE
 *
 * FAMILY 4: N non-overlapping IPv4 entries, about 90% /32 and 10% CIDR /24../28, plus
 * a few (0.05%) /16../23; never in 0/8, 10/8, 127/8 or 224/3.
 * FAMILY 6: N non-overlapping IPv6 entries in 2000::/3: about 60% /128, 40% /64 and
 * a few (0.1%) /48.
 *
 * DATA_FILE is an rbldnsd ip4set (ip6trie) file: a default line
 * ":127.0.0.2:Listed, see https://bl.bench/lookup?ip=$", then one entry per line in
 * random order. A_FILE and TXT_FILE are dnsperf query files of QUERIES lines with the
 * same names in the same order ("4.3.2.1.ZONE A" / "... TXT"; nibble form for IPv6):
 * in random order, half an address inside a randomly chosen entry (a random address
 * inside a CIDR), half an address no entry covers (checked by binary search over the
 * sorted entries). Entries never overlap, so longest-match and first-match servers
 * must answer alike.
 *
 * Prints to stdout: "entries N", "len L COUNT" per prefix length, and a few
 * "listed NAME" and "unlisted NAME" lines (a sample for probes).
 * 10M IPv4 entries take a few seconds.
 *
 * Build: cc -O2 -o gen_sets gen_sets.c (dns_bench.py does it). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define TXT_DEFAULT ":127.0.0.2:Listed, see https://bl.bench/lookup?ip=$"

static uint64_t rng_state;

/* splitmix64 */
static uint64_t rng_next(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t rng_below(uint64_t n)
{
	return (uint64_t)(((unsigned __int128)rng_next() * n) >> 64);
}

static void die(const char *what)
{
	fprintf(stderr, "gen_sets: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		die("malloc");
	return p;
}

/* Big arrays: anonymous mappings with transparent huge pages where the kernel allows
 * (page faults dominated the run time on a VM otherwise). */
static void *big_alloc(size_t n)
{
	n = (n + (2u << 20) - 1) & ~(size_t)((2u << 20) - 1);
	void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		die("mmap");
	madvise(p, n, MADV_HUGEPAGE);
	return p;
}

/* IPv4 entries are packed in a uint64_t: address << 8 | prefix length. */
#define V4_ADDR(x) ((uint32_t)((x) >> 8))
#define V4_LEN(x) ((unsigned)((x) & 0xff))
#define V4_LAST(x) (V4_ADDR(x) | (uint32_t)(V4_LEN(x) == 32 ? 0 : 0xffffffffu >> V4_LEN(x)))

/* LSD radix sort of packed IPv4 entries by address (bits 8..39), 8 bits a pass. */
static void sort_v4(uint64_t *e, uint64_t *tmp, size_t n)
{
	size_t count[256];
	for (int shift = 8; shift < 40; shift += 8) {
		memset(count, 0, sizeof count);
		for (size_t i = 0; i < n; i++)
			count[(e[i] >> shift) & 0xff]++;
		size_t sum = 0;
		for (int d = 0; d < 256; d++) {
			size_t c = count[d];
			count[d] = sum;
			sum += c;
		}
		for (size_t i = 0; i < n; i++)
			tmp[count[(e[i] >> shift) & 0xff]++] = e[i];
		memcpy(e, tmp, n * sizeof *e);
	}
}

/* Sorted e[0..n): drops entries overlapping an earlier kept one; returns the count. */
static size_t drop_overlaps_v4(uint64_t *e, size_t n)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (k > 0 && V4_ADDR(e[i]) <= V4_LAST(e[k - 1]))
			continue;
		e[k++] = e[i];
	}
	return k;
}

static int covered_v4(const uint64_t *e, size_t n, uint32_t a)
{
	size_t lo = 0, hi = n; /* first entry starting after a */
	while (lo < hi) {
		size_t m = lo + (hi - lo) / 2;
		if (V4_ADDR(e[m]) <= a)
			lo = m + 1;
		else
			hi = m;
	}
	return lo > 0 && a <= V4_LAST(e[lo - 1]);
}

/* An IPv6 entry covers the upper-64-bit keys [first, last]; a /128 also has its lower
 * 64 bits in low. Two /128s under one /64 count as overlapping (stricter than needed,
 * and never drawn in practice). */
struct e6 {
	uint64_t first, last, low;
	unsigned len;
};

static int cmp_e6(const void *a, const void *b)
{
	uint64_t x = ((const struct e6 *)a)->first, y = ((const struct e6 *)b)->first;
	return x < y ? -1 : x > y;
}

static size_t drop_overlaps_v6(struct e6 *e, size_t n)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (k > 0 && e[i].first <= e[k - 1].last)
			continue;
		e[k++] = e[i];
	}
	return k;
}

static int covered_v6(const struct e6 *e, size_t n, uint64_t key)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t m = lo + (hi - lo) / 2;
		if (e[m].first <= key)
			lo = m + 1;
		else
			hi = m;
	}
	return lo > 0 && key <= e[lo - 1].last;
}

/* ---- IPv4 */

static int v4_allowed(uint32_t a)
{
	unsigned o = a >> 24;
	return o != 0 && o != 10 && o != 127 && o < 224;
}

static uint64_t v4_draw(void)
{
	uint64_t r = rng_below(100000);
	unsigned len;
	if (r < 90000)
		len = 32;
	else if (r < 99950)
		len = 24 + (unsigned)rng_below(5);
	else
		len = 16 + (unsigned)rng_below(8);
	uint32_t mask = len == 32 ? 0xffffffffu : ~(0xffffffffu >> len);
	uint32_t a;
	do
		a = (uint32_t)rng_next() & mask;
	while (!v4_allowed(a));
	return (uint64_t)a << 8 | len;
}

static char *put_dec(char *p, unsigned v)
{
	char t[12];
	int n = 0;
	do
		t[n++] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	while (n)
		*p++ = t[--n];
	return p;
}

static char *put_v4(char *p, uint32_t a)
{
	for (int i = 3; i >= 0; i--) {
		p = put_dec(p, (a >> (8 * i)) & 0xff);
		if (i)
			*p++ = '.';
	}
	return p;
}

static char *put_v4_rev(char *p, uint32_t a)
{
	for (int i = 0; i < 4; i++) {
		p = put_dec(p, (a >> (8 * i)) & 0xff);
		*p++ = '.';
	}
	return p;
}

/* ---- IPv6 (2000::/3) */

static uint64_t v6_upper(void)
{
	return (rng_next() & 0x1fffffffffffffffULL) | 0x2000000000000000ULL;
}

static void v6_draw(struct e6 *e)
{
	uint64_t r = rng_below(1000);
	unsigned len = r < 600 ? 128 : r < 999 ? 64 : 48;
	uint64_t hi = v6_upper();
	e->low = 0;
	if (len == 48) {
		hi &= ~0xffffULL;
		e->first = hi;
		e->last = hi | 0xffff;
	} else {
		e->first = e->last = hi;
		if (len == 128)
			e->low = rng_next();
	}
	e->len = len;
}

static char *put_hex(char *p, unsigned v)
{
	static const char hex[] = "0123456789abcdef";
	int started = 0;
	for (int s = 12; s >= 0; s -= 4) {
		unsigned d = (v >> s) & 0xf;
		if (d || started || s == 0) {
			*p++ = hex[d];
			started = 1;
		}
	}
	return p;
}

/* groups: how many leading 16-bit groups to write; fewer than 8 end with "::" */
static char *put_v6(char *p, uint64_t hi, uint64_t low, int groups)
{
	for (int g = 0; g < groups; g++) {
		uint64_t w = g < 4 ? hi : low;
		unsigned v = (unsigned)(w >> (48 - 16 * (g % 4))) & 0xffff;
		if (g)
			*p++ = ':';
		p = put_hex(p, v);
	}
	if (groups < 8) {
		*p++ = ':';
		*p++ = ':';
	}
	return p;
}

static char *put_v6_rev(char *p, uint64_t hi, uint64_t low)
{
	static const char hex[] = "0123456789abcdef";
	for (int i = 0; i < 16; i++) {
		*p++ = hex[(low >> (4 * i)) & 0xf];
		*p++ = '.';
	}
	for (int i = 0; i < 16; i++) {
		*p++ = hex[(hi >> (4 * i)) & 0xf];
		*p++ = '.';
	}
	return p;
}

/* ---- output */

struct out {
	FILE *f;
	char buf[1 << 16];
	size_t n;
};

static void out_open(struct out *o, const char *path)
{
	o->f = fopen(path, "w");
	if (!o->f)
		die(path);
	o->n = 0;
}

static void out_flush(struct out *o)
{
	if (o->n && fwrite(o->buf, 1, o->n, o->f) != o->n)
		die("write");
	o->n = 0;
}

static char *out_room(struct out *o)
{
	if (o->n > sizeof o->buf - 512)
		out_flush(o);
	return o->buf + o->n;
}

static void out_close(struct out *o)
{
	out_flush(o);
	if (fclose(o->f) != 0)
		die("close");
}

/* Draws `want` non-overlapping entries: 2% more than needed, sort, drop overlaps,
 * repeat until there are enough; then a random order, of which the first `want` count.
 * Returns the entries in that order; *sorted_out gets them sorted. */
static uint64_t *make_v4(size_t want, uint64_t **sorted_out)
{
	size_t cap = want + want / 20 + 1024, n = 0;
	uint64_t *e = big_alloc(cap * sizeof *e), *tmp = big_alloc(cap * sizeof *e);
	while (n < want) {
		size_t more = want - n + (want - n) / 50 + 16;
		if (n + more > cap)
			more = cap - n;
		for (size_t i = 0; i < more; i++)
			e[n + i] = v4_draw();
		n += more;
		sort_v4(e, tmp, n);
		n = drop_overlaps_v4(e, n);
	}
	for (size_t i = n - 1; i > 0; i--) {
		size_t j = rng_below(i + 1);
		uint64_t t = e[i];
		e[i] = e[j];
		e[j] = t;
	}
	uint64_t *sorted = tmp, *scratch = big_alloc(want * sizeof *e);
	memcpy(sorted, e, want * sizeof *e);
	sort_v4(sorted, scratch, want);
	*sorted_out = sorted;
	return e;
}

static struct e6 *make_v6(size_t want, struct e6 **sorted_out)
{
	size_t cap = want + want / 20 + 1024, n = 0;
	struct e6 *e = big_alloc(cap * sizeof *e), *sorted = big_alloc(want * sizeof *e);
	while (n < want) {
		size_t more = want - n + (want - n) / 50 + 16;
		if (n + more > cap)
			more = cap - n;
		for (size_t i = 0; i < more; i++)
			v6_draw(&e[n + i]);
		n += more;
		qsort(e, n, sizeof *e, cmp_e6);
		n = drop_overlaps_v6(e, n);
	}
	for (size_t i = n - 1; i > 0; i--) {
		size_t j = rng_below(i + 1);
		struct e6 t = e[i];
		e[i] = e[j];
		e[j] = t;
	}
	memcpy(sorted, e, want * sizeof *e);
	qsort(sorted, want, sizeof *e, cmp_e6);
	*sorted_out = sorted;
	return e;
}

int main(int argc, char **argv)
{
	if (argc != 9) {
		fprintf(stderr, "usage: gen_sets SEED N FAMILY ZONE DATA_FILE QUERIES "
				"A_FILE TXT_FILE\n");
		return 2;
	}
	rng_state = strtoull(argv[1], NULL, 10);
	size_t n = strtoull(argv[2], NULL, 10);
	int v6 = atoi(argv[3]) == 6;
	const char *zone = argv[4];
	size_t nq = strtoull(argv[6], NULL, 10);
	if (n < 1 || (atoi(argv[3]) != 4 && !v6) || strlen(zone) > 200) {
		fprintf(stderr, "gen_sets: bad arguments\n");
		return 2;
	}
	uint64_t *e4 = NULL, *s4 = NULL;
	struct e6 *e6 = NULL, *s6 = NULL;
	if (v6)
		e6 = make_v6(n, &s6);
	else
		e4 = make_v4(n, &s4);

	size_t lens[129] = {0};
	struct out o;
	out_open(&o, argv[5]);
	char *p = out_room(&o);
	p += sprintf(p, "%s\n", TXT_DEFAULT);
	o.n = (size_t)(p - o.buf);
	for (size_t i = 0; i < n; i++) {
		p = out_room(&o);
		char *s = p;
		unsigned len;
		if (!v6) {
			len = V4_LEN(e4[i]);
			p = put_v4(p, V4_ADDR(e4[i]));
		} else {
			len = e6[i].len;
			p = put_v6(p, e6[i].first, e6[i].low, len == 128 ? 8 : (int)len / 16);
		}
		if (len != (v6 ? 128u : 32u)) {
			*p++ = '/';
			p = put_dec(p, len);
		}
		*p++ = '\n';
		o.n += (size_t)(p - s);
		lens[len]++;
	}
	out_close(&o);

	/* Queries: exactly half listed, in random order. */
	unsigned char *is_listed = xmalloc(nq);
	for (size_t i = 0; i < nq; i++)
		is_listed[i] = i < nq / 2;
	for (size_t i = nq; i > 1; i--) {
		size_t j = rng_below(i);
		unsigned char t = is_listed[i - 1];
		is_listed[i - 1] = is_listed[j];
		is_listed[j] = t;
	}
	struct out qa, qt;
	out_open(&qa, argv[7]);
	out_open(&qt, argv[8]);
	int shown_l = 0, shown_u = 0;
	for (size_t i = 0; i < nq; i++) {
		uint64_t hi, low = 0;
		if (is_listed[i] && !v6) {
			uint64_t x = e4[rng_below(n)];
			hi = V4_ADDR(x) + rng_below((uint64_t)V4_LAST(x) - V4_ADDR(x) + 1);
		} else if (is_listed[i]) {
			const struct e6 *x = &e6[rng_below(n)];
			hi = x->first + rng_below(x->last - x->first + 1);
			low = x->len == 128 ? x->low : rng_next();
		} else if (!v6) {
			do
				hi = (uint32_t)rng_next();
			while (!v4_allowed((uint32_t)hi) || covered_v4(s4, n, (uint32_t)hi));
		} else {
			do
				hi = v6_upper();
			while (covered_v6(s6, n, hi));
			low = rng_next();
		}
		char name[300];
		char *q = v6 ? put_v6_rev(name, hi, low) : put_v4_rev(name, (uint32_t)hi);
		q += sprintf(q, "%s", zone);
		size_t len = (size_t)(q - name);
		char *pa = out_room(&qa), *pt = out_room(&qt);
		memcpy(pa, name, len);
		memcpy(pa + len, " A\n", 3);
		qa.n += len + 3;
		memcpy(pt, name, len);
		memcpy(pt + len, " TXT\n", 5);
		qt.n += len + 5;
		if (is_listed[i] && shown_l < 5) {
			printf("listed %s\n", name);
			shown_l++;
		} else if (!is_listed[i] && shown_u < 5) {
			printf("unlisted %s\n", name);
			shown_u++;
		}
	}
	out_close(&qa);
	out_close(&qt);

	printf("entries %zu\n", n);
	for (int l = 0; l <= 128; l++)
		if (lens[l])
			printf("len %d %zu\n", l, lens[l]);
	free(is_listed);
	return 0;
}
