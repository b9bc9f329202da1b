/* The DNS wire codec for the per-query path: it reads and writes caller buffers,
 * checks bounds on every access, keeps a sticky error and never allocates.
 * ldns is the reference codec for everything off that path and in tests. */
#ifndef DNSBL_WIRE_H
#define DNSBL_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "err.h"

#define DNS_HEADER_SIZE 12
#define DNS_MAX_LABELS 128
#define DNS_NAME_MAX 255
#define DNS_UDP_NO_EDNS 512
#define DNS_OPT_RR_SIZE 11 /* root name, type, class, ttl, rdlength 0 */

enum dns_type {
	DNS_T_A = 1, DNS_T_NS = 2, DNS_T_CNAME = 5, DNS_T_SOA = 6, DNS_T_TXT = 16,
	DNS_T_AAAA = 28, DNS_T_OPT = 41, DNS_T_TSIG = 250, DNS_T_IXFR = 251, DNS_T_AXFR = 252,
	DNS_T_ANY = 255,
};
enum dns_class { DNS_C_IN = 1, DNS_C_CH = 3, DNS_C_ANY = 255 };
enum dns_rcode {
	DNS_R_NOERROR = 0, DNS_R_FORMERR = 1, DNS_R_SERVFAIL = 2, DNS_R_NXDOMAIN = 3,
	DNS_R_NOTIMP = 4, DNS_R_REFUSED = 5, DNS_R_NOTAUTH = 9, DNS_R_BADVERS = 16,
};

/* Header flag bits (in the 16-bit flags word). */
#define DNS_F_QR 0x8000
#define DNS_F_AA 0x0400
#define DNS_F_TC 0x0200
#define DNS_F_RD 0x0100
#define DNS_F_RA 0x0080
#define DNS_F_AD 0x0020
#define DNS_F_CD 0x0010
#define DNS_OPCODE(flags) (((flags) >> 11) & 0xf)

/* What dns_query_parse found. */
enum dns_parse_result {
	DNS_PARSE_OK = 0,  /* a well-formed query: answer it */
	DNS_PARSE_DROP,    /* not worth an answer (too short, or a response) */
	DNS_PARSE_ERROR,   /* answer with query->rcode (FORMERR, NOTIMP, BADVERS) */
};

/* A parsed query. The question is not copied: qname lies at offset 12 of the packet. */
struct dns_query {
	uint16_t id;
	uint16_t flags;
	uint16_t qdcount;
	bool has_question;    /* the question parsed and can be echoed */
	uint8_t qname_len;    /* wire length of the question name, root included */
	uint8_t nlabels;      /* labels before the root */
	uint8_t label_off[DNS_MAX_LABELS]; /* offset of each label's length byte from 12 */
	uint16_t qtype, qclass;
	uint16_t question_end; /* offset just past the question */
	bool edns;            /* the query had a valid OPT record */
	uint8_t edns_version;
	bool edns_do;
	uint16_t edns_udp_size;
	bool tsig;            /* the last record is a TSIG record (lib/tsig.h verifies it) */
	int rcode;            /* with DNS_PARSE_ERROR: the rcode to answer with */
};

/* Parses a query of len bytes. Validates the header, the question (no compression,
 * label and name limits), every other record's framing, the OPT record (one at
 * most, root owner, version 0) and where a TSIG record is (the last one, in the
 * additional section; its contents are lib/tsig.h's). Never reads past len. */
enum dns_parse_result dns_query_parse(const uint8_t *pkt, size_t len, struct dns_query *q);

/* Walks the possibly compressed name at *pos of msg[0..len): with out != NULL writes
 * it uncompressed (at most 255 bytes) and its length to *outlen. Advances *pos past
 * the name as it appears at *pos. Rejects pointers that do not point strictly
 * backwards (so loops cannot happen), reserved label types, and names over 255 bytes.
 * Returns 0 or DNSBL_ESYNTAX. */
int dns_name_parse(const uint8_t *msg, size_t len, size_t *pos, uint8_t *out,
		   size_t *outlen);

/* Compares two wire names case-insensitively. Returns 1 if equal. */
int dns_name_equal(const uint8_t *a, const uint8_t *b, size_t len);

/* A bounded writer over a caller's buffer. After any overflow err is set, nothing
 * more is written and pos stops moving. */
struct wire_out {
	uint8_t *buf;
	size_t cap;
	size_t pos;
	int err; /* 0, or DNSBL_ENOSPC after an overflow */
};

/* Starts writing at buf[0], at most cap bytes. */
static inline void wire_out_init(struct wire_out *w, uint8_t *buf, size_t cap)
{
	w->buf = buf;
	w->cap = cap;
	w->pos = 0;
	w->err = 0;
}

/* True when n more bytes fit; otherwise sets the sticky ENOSPC error. */
static inline bool wire_out_room(struct wire_out *w, size_t n)
{
	if (w->err == 0 && w->cap - w->pos >= n)
		return true;
	w->err = DNSBL_ENOSPC;
	return false;
}

/* Appends one byte. */
static inline void wire_put_u8(struct wire_out *w, uint8_t v)
{
	if (wire_out_room(w, 1))
		w->buf[w->pos++] = v;
}

/* Appends a 16-bit value in network order. */
static inline void wire_put_u16(struct wire_out *w, uint16_t v)
{
	if (wire_out_room(w, 2)) {
		w->buf[w->pos++] = (uint8_t)(v >> 8);
		w->buf[w->pos++] = (uint8_t)v;
	}
}

/* Appends a 32-bit value in network order. */
static inline void wire_put_u32(struct wire_out *w, uint32_t v)
{
	if (wire_out_room(w, 4)) {
		w->buf[w->pos++] = (uint8_t)(v >> 24);
		w->buf[w->pos++] = (uint8_t)(v >> 16);
		w->buf[w->pos++] = (uint8_t)(v >> 8);
		w->buf[w->pos++] = (uint8_t)v;
	}
}

/* Appends n bytes from p. */
static inline void wire_put_bytes(struct wire_out *w, const void *p, size_t n)
{
	if (wire_out_room(w, n)) {
		memcpy(w->buf + w->pos, p, n);
		w->pos += n;
	}
}

/* Writes a compression pointer to offset off (< 0x4000). */
static inline void wire_put_ptr(struct wire_out *w, size_t off)
{
	wire_put_u16(w, (uint16_t)(0xc000 | (off & 0x3fff)));
}

/* Overwrites the 16-bit value at offset off (already written). */
static inline void wire_set_u16(struct wire_out *w, size_t off, uint16_t v)
{
	if (off + 2 <= w->pos) {
		w->buf[off] = (uint8_t)(v >> 8);
		w->buf[off + 1] = (uint8_t)v;
	}
}

/* Reads a 16-bit network-order value at p (the caller checked the bounds). */
static inline uint16_t wire_get_u16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Reads a 32-bit network-order value at p (the caller checked the bounds). */
static inline uint32_t wire_get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Writes a TXT record's RDATA for text[0..len): one or more character-strings of
 * at most 255 bytes, preceded by the 16-bit RDLENGTH. */
void wire_put_txt_rdata(struct wire_out *w, const char *text, size_t len);

#endif
