/* The IPv4 summary of a zone: 16 bits per /24 that tell a lookup which prefix lengths
 * can possibly match an address in it, so that most unlisted addresses are decided
 * without touching the entry tree and a listed one costs a single look-up.
 *
 * A /24's word:
 *   bits 0..7   bit i: some entry longer than /24 intersects the /24's i-th /27
 *   bits 8..13  0: no entry of /24 or shorter contains the /24; else L + 1, where /L
 *               is the longest such entry (an upper bound: see below)
 * The words are kept in chunks of SUMMARY_CHUNK_WORDS /24s (a /8 each), so that a
 * chunk is one contiguous LMDB value and a lookup costs one memory access once the
 * chunk's address is known (readers keep it for as long as their snapshot lasts).
 *
 * The summary may claim more than there is (a deleted entry's bits may stay until
 * the /24 is recomputed), never less: a clear bit or a cover of 0 proves absence.
 * Pure functions, no store access: lib/store/summary_write.c keeps the words in LMDB
 * and lib/store/read.c reads them. */
#ifndef DNSBL_SUMMARY_H
#define DNSBL_SUMMARY_H

#include <stdint.h>

#define SUMMARY_CHUNK_SHIFT 16 /* /24s per chunk: 65536, 128 KiB */
#define SUMMARY_CHUNK_WORDS (1u << SUMMARY_CHUNK_SHIFT)
#define SUMMARY_CHUNKS (1u << (24 - SUMMARY_CHUNK_SHIFT))
#define SUMMARY_CHUNK_BYTES (SUMMARY_CHUNK_WORDS * 2u)

/* The /24 index (0 .. 2^24 - 1) of an address in host order. */
static inline uint32_t summary_slash24(uint32_t addr)
{
	return addr >> 8;
}

/* Word w of a /24 updated for an entry addr/len (host order, host bits zero) that
 * intersects it. */
uint16_t summary_word_add(uint16_t w, uint32_t addr, unsigned len);

/* The prefix lengths (bit n: /n, as in a zone's lens4) that may hold an entry
 * matching address addr, given its /24's word w and the zone's lens4. 0 proves
 * that nothing matches. */
uint64_t summary_lens(uint16_t w, uint32_t addr, uint64_t lens4);

/* The first and last /24 an entry addr/len touches. */
void summary_span(uint32_t addr, unsigned len, uint32_t *first, uint32_t *last);

#endif
