/* What the bounded fuzzers (fuzz_answer, fuzz_xfr) share: their seeds' wire form,
 * and the mutations: a few random edits of a DNS message of the kinds that break
 * parsers (a flipped byte, a cut, appended junk, a planted compression pointer, a
 * section count one too high). random() drives them, so a fixed srandom seed gives
 * the same run every time. */
#ifndef DNSBL_FUZZ_MUTATE_H
#define DNSBL_FUZZ_MUTATE_H

#include <ldns/ldns.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_SEED_MAX 512

/* Signs query p with key (hmac-sha256, secret in base64) when key is not NULL, writes
 * its wire form to buf (FUZZ_SEED_MAX bytes) and frees p. Returns the length, 0 when
 * ldns fails or the message does not fit. */
static inline size_t fuzz_seed_wire(ldns_pkt *p, const char *key, const char *secret,
				    uint8_t *buf)
{
	uint8_t *wire = NULL;
	size_t n = 0;

	if (key != NULL && ldns_pkt_tsig_sign(p, key, secret, 300, "hmac-sha256.", NULL) !=
				   LDNS_STATUS_OK) {
		ldns_pkt_free(p);
		return 0;
	}
	if (ldns_pkt2wire(&wire, p, &n) != LDNS_STATUS_OK || n > FUZZ_SEED_MAX)
		n = 0;
	if (n > 0)
		memcpy(buf, wire, n);
	free(wire);
	ldns_pkt_free(p);
	return n;
}

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
