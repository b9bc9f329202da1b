#include "summary.h"

#define INNER_MASK 0x00ffu
#define COVER_SHIFT 8
#define COVER_MASK 0x3f00u
#define LONG_LENS (((1ull << 33) - 1) & ~((1ull << 25) - 1)) /* /25 .. /32 */

uint16_t summary_word_add(uint16_t w, uint32_t addr, unsigned len)
{
	if (len <= 24) {
		unsigned cover = (w & COVER_MASK) >> COVER_SHIFT;
		if (len + 1 > cover)
			w = (uint16_t)((w & ~COVER_MASK) | ((len + 1) << COVER_SHIFT));
		return w;
	}
	uint32_t last = addr + ((1u << (32 - len)) - 1);
	unsigned lo = (addr >> 5) & 7, hi = (last >> 5) & 7;

	/* an entry longer than /24 lies in one /24: mark the /27s it touches */
	for (unsigned i = lo; i <= hi; i++)
		w = (uint16_t)(w | (1u << i));
	return w;
}

uint64_t summary_lens(uint16_t w, uint32_t addr, uint64_t lens4)
{
	unsigned cover = (w & COVER_MASK) >> COVER_SHIFT;
	uint64_t try = 0;

	if ((w >> ((addr >> 5) & 7)) & 1)
		try |= lens4 & LONG_LENS;
	if (cover > 0)
		try |= lens4 & ((1ull << cover) - 1); /* /0 .. /(cover - 1) */
	return try;
}

void summary_span(uint32_t addr, unsigned len, uint32_t *first, uint32_t *last)
{
	*first = addr >> 8;
	*last = len >= 24 ? *first : *first + ((1u << (24 - len)) - 1);
}
