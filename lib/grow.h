/* Growing an array by doubling, as the non-hot-path code that collects an unknown
 * number of items does (journal records, changes, filter keys, tokens). */
#ifndef DNSBL_GROW_H
#define DNSBL_GROW_H

#include <stddef.h>
#include <stdlib.h>

/* The array p (of elem bytes each, *cap of them allocated) grown to hold at least
 * need (need >= 1) by doubling from first: p itself when it is large enough, else
 * the reallocated array (*cap updated; the caller frees it), or NULL when memory ran
 * out (p is then unchanged and still the caller's). */
static inline void *grow_array(void *p, size_t *cap, size_t need, size_t elem, size_t first)
{
	if (need <= *cap)
		return p;
	size_t n = *cap ? *cap : first;
	while (n < need)
		n *= 2;
	void *v = realloc(p, n * elem);
	if (v != NULL)
		*cap = n;
	return v;
}

#endif
