/* The bounded fuzzers' mutations (fuzz_answer, fuzz_xfr): a few random edits of a DNS
 * message of the kinds that break parsers: a flipped byte, a cut, appended junk, a
 * planted compression pointer, a section count one too high. random() drives it, so
 * a fixed srandom seed gives the same run every time. */
#ifndef DNSBL_FUZZ_MUTATE_H
#define DNSBL_FUZZ_MUTATE_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

/* Edits pkt[0..*len) (at most cap bytes) in place, 1 to 6 times. */
static inline void fuzz_mutate(uint8_t *pkt, size_t *len, size_t cap)
{
	unsigned edits = 1 + (unsigned)random() % 6;
	size_t n = *len;

	for (unsigned e = 0; e < edits; e++) {
		switch (random() % 5) {
		case 0: /* flip a byte */
			if (n)
				pkt[random() % n] = (uint8_t)random();
			break;
		case 1: /* cut */
			if (n)
				n = (size_t)random() % n;
			break;
		case 2: /* append junk */
			while (n < cap && random() % 4)
				pkt[n++] = (uint8_t)random();
			break;
		case 3: /* plant a compression pointer */
			if (n > 14) {
				size_t at = 12 + (size_t)random() % (n - 13);
				pkt[at] = 0xc0 | (uint8_t)(random() & 0x3f);
				pkt[at + 1] = (uint8_t)random();
			}
			break;
		default: /* bump a count */
			if (n >= 12)
				pkt[5 + 2 * (random() % 4)] += 1;
			break;
		}
	}
	*len = n;
}

#endif
