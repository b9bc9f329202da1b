#include "wire.h"

#include "err.h"

int dns_name_parse(const uint8_t *msg, size_t len, size_t *pos, uint8_t *out, size_t *outlen)
{
	size_t p = *pos, n = 0, end = 0;
	bool jumped = false;

	for (;;) {
		if (p >= len)
			return DNSBL_ESYNTAX;
		uint8_t l = msg[p];
		if ((l & 0xc0) == 0xc0) {
			if (p + 1 >= len)
				return DNSBL_ESYNTAX;
			size_t target = (size_t)(l & 0x3f) << 8 | msg[p + 1];
			/* only strictly backwards: every jump shrinks p, so no loops */
			if (target >= p)
				return DNSBL_ESYNTAX;
			if (!jumped)
				end = p + 2;
			jumped = true;
			p = target;
			continue;
		}
		if (l & 0xc0)
			return DNSBL_ESYNTAX; /* 0x40, 0x80: extended/reserved label types */
		if (p + 1 + l > len || n + 1 + l > DNS_NAME_MAX)
			return DNSBL_ESYNTAX;
		if (out != NULL)
			memcpy(out + n, msg + p, 1u + l);
		n += 1u + l;
		p += 1u + l;
		if (l == 0)
			break;
	}
	*pos = jumped ? end : p;
	if (outlen != NULL)
		*outlen = n;
	return 0;
}

static inline uint8_t ascii_lower(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
}

int dns_name_equal(const uint8_t *a, const uint8_t *b, size_t len)
{
	/* length bytes are below 64, so folding them is harmless */
	for (size_t i = 0; i < len; i++)
		if (ascii_lower(a[i]) != ascii_lower(b[i]))
			return 0;
	return 1;
}

/* Skips one resource record at *pos; sets *type, *klass, *ttl, and the RDATA span. */
static int rr_skip(const uint8_t *pkt, size_t len, size_t *pos, uint16_t *type,
		   uint16_t *klass, uint32_t *ttl, size_t *owner_len, size_t *rdlen)
{
	size_t p = *pos;
	size_t start = p;

	if (dns_name_parse(pkt, len, &p, NULL, NULL) < 0)
		return DNSBL_ESYNTAX;
	*owner_len = p - start;
	if (len - p < 10)
		return DNSBL_ESYNTAX;
	*type = wire_get_u16(pkt + p);
	*klass = wire_get_u16(pkt + p + 2);
	*ttl = wire_get_u32(pkt + p + 4);
	*rdlen = wire_get_u16(pkt + p + 8);
	p += 10;
	if (len - p < *rdlen)
		return DNSBL_ESYNTAX;
	*pos = p + *rdlen;
	return 0;
}

/* Checks an OPT record's options are well framed. */
static bool opt_options_ok(const uint8_t *p, size_t rdlen)
{
	size_t i = 0;

	while (i < rdlen) {
		if (rdlen - i < 4)
			return false;
		size_t olen = wire_get_u16(p + i + 2);
		i += 4;
		if (rdlen - i < olen)
			return false;
		i += olen;
	}
	return true;
}

/* Reads the question's name, type and class from p on (no compression: nothing
 * precedes it to point at), advancing p. Returns false when it is malformed. */
static bool question_parse(const uint8_t *pkt, size_t len, size_t *pp, struct dns_query *q)
{
	size_t p = *pp;

	for (;;) {
		if (p >= len)
			return false;
		uint8_t l = pkt[p];
		if (l & 0xc0)
			return false;
		if (p + 1 + l > len || p - DNS_HEADER_SIZE + 1 + l > DNS_NAME_MAX)
			return false;
		if (l == 0) {
			p++;
			break;
		}
		/* at most 127 labels fit in 255 bytes, so label_off never overflows */
		q->label_off[q->nlabels++] = (uint8_t)(p - DNS_HEADER_SIZE);
		p += 1u + l;
	}
	q->qname_len = (uint8_t)(p - DNS_HEADER_SIZE);
	if (len - p < 4)
		return false;
	q->qtype = wire_get_u16(pkt + p);
	q->qclass = wire_get_u16(pkt + p + 2);
	p += 4;
	q->question_end = (uint16_t)p;
	q->has_question = true;
	*pp = p;
	return true;
}

/* Walks the n records after the question (the first before_ar of them in the answer
 * and authority sections): only their framing matters, and the OPT record. Returns
 * false when one is malformed, or OPT is misplaced, repeated or damaged. */
static bool records_parse(const uint8_t *pkt, size_t len, size_t *p, unsigned n,
			  unsigned before_ar, struct dns_query *q)
{
	for (unsigned i = 0; i < n; i++) {
		uint16_t type, klass;
		uint32_t ttl;
		size_t owner_len, rdlen;
		size_t rr_start = *p;
		if (rr_skip(pkt, len, p, &type, &klass, &ttl, &owner_len, &rdlen) < 0)
			return false;
		if (type == DNS_T_TSIG) {
			/* only as the very last record (RFC 8945 5.1) */
			if (i + 1 != n || i < before_ar)
				return false;
			q->tsig = true;
			continue;
		}
		if (type != DNS_T_OPT)
			continue;
		/* OPT only in the additional section, once, owned by the root */
		if (i < before_ar || q->edns || owner_len != 1 || pkt[rr_start] != 0 ||
		    !opt_options_ok(pkt + *p - rdlen, rdlen)) {
			q->edns = false;
			return false;
		}
		q->edns = true;
		q->edns_udp_size = klass < DNS_UDP_NO_EDNS ? DNS_UDP_NO_EDNS : klass;
		q->edns_version = (uint8_t)(ttl >> 16);
		q->edns_do = (ttl & 0x8000) != 0;
	}
	return true;
}

enum dns_parse_result dns_query_parse(const uint8_t *pkt, size_t len, struct dns_query *q)
{
	size_t p = DNS_HEADER_SIZE;
	uint16_t ancount, nscount, arcount;

	q->has_question = false;
	q->edns = false;
	q->edns_version = 0;
	q->edns_do = false;
	q->edns_udp_size = 0;
	q->tsig = false;
	q->nlabels = 0;
	q->qname_len = 0;
	q->rcode = DNS_R_NOERROR;
	if (len < DNS_HEADER_SIZE)
		return DNS_PARSE_DROP;
	q->id = wire_get_u16(pkt);
	q->flags = wire_get_u16(pkt + 2);
	if (q->flags & DNS_F_QR)
		return DNS_PARSE_DROP;
	q->qdcount = wire_get_u16(pkt + 4);
	ancount = wire_get_u16(pkt + 6);
	nscount = wire_get_u16(pkt + 8);
	arcount = wire_get_u16(pkt + 10);

	q->rcode = DNS_R_FORMERR;
	if (q->qdcount != 1 || !question_parse(pkt, len, &p, q) ||
	    !records_parse(pkt, len, &p, (unsigned)ancount + nscount + arcount,
			   (unsigned)ancount + nscount, q))
		return DNS_PARSE_ERROR;
	if (p != len)
		return DNS_PARSE_ERROR; /* trailing bytes */
	if (q->qtype == 0 || q->qtype == DNS_T_OPT)
		return DNS_PARSE_ERROR; /* not a type one can ask for (RFC 6891 6.1.1) */
	if (DNS_OPCODE(q->flags) != 0) {
		q->rcode = DNS_R_NOTIMP;
		return DNS_PARSE_ERROR;
	}
	if (q->edns && q->edns_version > 0) {
		q->rcode = DNS_R_BADVERS;
		return DNS_PARSE_ERROR;
	}
	q->rcode = DNS_R_NOERROR;
	return DNS_PARSE_OK;
}

void wire_put_txt_rdata(struct wire_out *w, const char *text, size_t len)
{
	size_t chunks = len == 0 ? 1 : (len + 254) / 255;
	size_t rdlen = len + chunks;

	if (rdlen > 0xffff) {
		w->err = DNSBL_ENOSPC;
		return;
	}
	wire_put_u16(w, (uint16_t)rdlen);
	if (!wire_out_room(w, rdlen))
		return;
	for (size_t off = 0, i = 0; i < chunks; i++) {
		size_t n = len - off > 255 ? 255 : len - off;
		w->buf[w->pos++] = (uint8_t)n;
		memcpy(w->buf + w->pos, text + off, n);
		w->pos += n;
		off += n;
	}
}
