/* Benchmark data generator for tests/bench/import_bench.py.
 *
 *   gen_feed SEED FEED_COUNT FEED_FILE EXTRA_COUNT EXTRA_FILE
 *
 * Writes FEED_COUNT + EXTRA_COUNT distinct random IPv4 addresses, one per line (an
 * rbldnsd ip4set file of /32 entries): the first FEED_COUNT to FEED_FILE, the rest to
 * EXTRA_FILE (so those are known not to be in the feed). Never 0/8, 127/8 or 224/3.
 * The order is random, so the first lines of either file are a random sample of it.
 * Pure Python took ~15 s for 10M lines; this takes about one.
 *
 * Build: cc -O2 -o gen_feed gen_feed.c (import_bench.py does it). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng_state;

/* splitmix64 */
static uint64_t rng_next(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Open-addressing set of addresses; 0 marks an empty slot (0/8 is never drawn). */
static uint32_t *set_slots;
static uint64_t set_mask;
static int set_shift;

static int set_add(uint32_t v)
{
	uint64_t i = ((uint64_t)v * 0x9e3779b97f4a7c15ULL) >> set_shift;
	for (;; i++) {
		uint32_t *s = &set_slots[i & set_mask];
		if (*s == v)
			return 0;
		if (*s == 0) {
			*s = v;
			return 1;
		}
	}
}

static int allowed(uint32_t v)
{
	uint32_t a = v >> 24;
	return a != 0 && a != 127 && a < 224;
}

static char *put_octet(char *p, unsigned o)
{
	if (o >= 100)
		*p++ = (char)('0' + o / 100);
	if (o >= 10)
		*p++ = (char)('0' + o / 10 % 10);
	*p++ = (char)('0' + o % 10);
	return p;
}

static int write_addresses(const char *path, unsigned long long count)
{
	FILE *f = fopen(path, "w");
	if (f == NULL) {
		fprintf(stderr, "gen_feed: %s: %s\n", path, strerror(errno));
		return -1;
	}
	static char buf[1 << 16];
	char *p = buf;
	for (unsigned long long n = 0; n < count;) {
		uint64_t r = rng_next();
		for (int half = 0; half < 2 && n < count; half++, r >>= 32) {
			uint32_t v = (uint32_t)r;
			if (!allowed(v) || !set_add(v))
				continue;
			p = put_octet(p, v >> 24);
			*p++ = '.';
			p = put_octet(p, (v >> 16) & 255);
			*p++ = '.';
			p = put_octet(p, (v >> 8) & 255);
			*p++ = '.';
			p = put_octet(p, v & 255);
			*p++ = '\n';
			n++;
			if (p - buf > (long)sizeof(buf) - 32) {
				if (fwrite(buf, 1, (size_t)(p - buf), f) != (size_t)(p - buf))
					break;
				p = buf;
			}
		}
	}
	if (p > buf)
		fwrite(buf, 1, (size_t)(p - buf), f);
	if (ferror(f) | fclose(f)) {
		fprintf(stderr, "gen_feed: %s: write error\n", path);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 6) {
		fprintf(stderr, "usage: gen_feed SEED FEED_COUNT FEED_FILE EXTRA_COUNT EXTRA_FILE\n");
		return 2;
	}
	rng_state = strtoull(argv[1], NULL, 0);
	unsigned long long feed = strtoull(argv[2], NULL, 0);
	unsigned long long extra = strtoull(argv[4], NULL, 0);
	unsigned long long total = feed + extra;
	if (total > 1000000000ULL) {
		fprintf(stderr, "gen_feed: at most 1e9 addresses\n");
		return 2;
	}
	uint64_t slots = 1024;
	set_shift = 64 - 10;
	while (slots < total * 2) {
		slots <<= 1;
		set_shift--;
	}
	set_mask = slots - 1;
	set_slots = calloc(slots, sizeof *set_slots);
	if (set_slots == NULL) {
		fprintf(stderr, "gen_feed: out of memory\n");
		return 1;
	}
	if (write_addresses(argv[3], feed) < 0 || write_addresses(argv[5], extra) < 0)
		return 1;
	free(set_slots);
	return 0;
}
