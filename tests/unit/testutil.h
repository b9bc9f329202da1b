/* Helpers shared by the unit tests (header only: the Makefile compiles only
 * tests/unit/test_*.c). Everything is static so each test binary gets its own copy. */
#ifndef DNSBL_TESTUTIL_H
#define DNSBL_TESTUTIL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* A buffer whose last byte is immediately followed by an unmapped (PROT_NONE)
 * page: a parser that reads even one byte past the end crashes, which cmocka
 * reports as a failed test. */
struct guard_buf {
	uint8_t *map;
	size_t maplen;
	size_t page;
};

static inline int guard_init(struct guard_buf *g, size_t max)
{
	long ps = sysconf(_SC_PAGESIZE);

	g->page = ps > 0 ? (size_t)ps : 4096;
	size_t data = (max + g->page - 1) / g->page * g->page;
	if (data == 0)
		data = g->page;
	g->maplen = data + g->page;
	void *m = mmap(NULL, g->maplen, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return -1;
	g->map = m;
	if (mprotect(g->map + data, g->page, PROT_NONE) != 0)
		return -1;
	return 0;
}

/* Copies p[0..n) so that it ends right at the guard page; returns the copy. */
static inline void *guard_put(struct guard_buf *g, const void *p, size_t n)
{
	uint8_t *end = g->map + g->maplen - g->page;
	memcpy(end - n, p, n);
	return end - n;
}

static inline void guard_free(struct guard_buf *g)
{
	munmap(g->map, g->maplen);
}

#endif
