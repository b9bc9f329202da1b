#include "addr.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "err.h"

int addr4_octet_parse(const char *s, size_t len)
{
	int v = 0;

	if (len == 0 || len > 3 || (len > 1 && s[0] == '0'))
		return DNSBL_ESYNTAX;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return DNSBL_ESYNTAX;
		v = v * 10 + (s[i] - '0');
	}
	return v > 255 ? DNSBL_ESYNTAX : v;
}

int addr4_parse_octets(const char *s, size_t len, uint32_t *out, unsigned *count)
{
	uint32_t a = 0;
	size_t start = 0;
	unsigned n = 0;

	for (size_t i = 0; i <= len; i++) {
		if (i < len && s[i] != '.')
			continue;
		int v = addr4_octet_parse(s + start, i - start);
		if (v < 0 || n == 4)
			return DNSBL_ESYNTAX;
		a = (a << 8) | (uint32_t)v;
		n++;
		start = i + 1;
	}
	*out = a << (8 * (4 - n));
	*count = n;
	return 0;
}

int addr4_parse(const char *s, size_t len, uint32_t *out)
{
	unsigned n;

	if (addr4_parse_octets(s, len, out, &n) < 0 || n != 4)
		return DNSBL_ESYNTAX;
	return 0;
}

int prefix_len_parse(const char *s, size_t len, unsigned max)
{
	unsigned v = 0;

	if (len == 0 || len > 3 || (len > 1 && s[0] == '0'))
		return DNSBL_ESYNTAX;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return DNSBL_ESYNTAX;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	return v > max ? DNSBL_ESYNTAX : (int)v;
}

uint32_t prefix4_mask(unsigned len)
{
	return len == 0 ? 0 : len >= 32 ? 0xffffffffu : ~(0xffffffffu >> len);
}

void prefix4_make(struct entry_key *out, uint32_t addr, unsigned len)
{
	memset(out, 0, sizeof(*out));
	out->family = ADDR_FAMILY_V4;
	out->len = (uint8_t)(len > 32 ? 32 : len);
	addr &= prefix4_mask(out->len);
	out->addr[0] = (uint8_t)(addr >> 24);
	out->addr[1] = (uint8_t)(addr >> 16);
	out->addr[2] = (uint8_t)(addr >> 8);
	out->addr[3] = (uint8_t)addr;
}

uint32_t prefix4_addr(const struct entry_key *p)
{
	return (uint32_t)p->addr[0] << 24 | (uint32_t)p->addr[1] << 16 |
	       (uint32_t)p->addr[2] << 8 | p->addr[3];
}

int prefix4_parse(const char *s, size_t len, struct entry_key *out)
{
	const char *slash = memchr(s, '/', len);
	size_t alen = slash ? (size_t)(slash - s) : len;
	int plen = 32;
	uint32_t a;

	if (addr4_parse(s, alen, &a) < 0)
		return DNSBL_ESYNTAX;
	if (slash && (plen = prefix_len_parse(slash + 1, len - alen - 1, 32)) < 0)
		return DNSBL_ESYNTAX;
	prefix4_make(out, a, (unsigned)plen);
	return (a & ~prefix4_mask((unsigned)plen)) ? DNSBL_EHOSTBITS : 0;
}

static const uint8_t v4_mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

/* Parses an IPv6 address of exactly len bytes into addr (network order). */
static int addr6_parse(const char *s, size_t len, uint8_t *addr)
{
	char buf[ADDR_TEXT_MAX];

	if (len == 0 || len >= sizeof(buf))
		return DNSBL_ESYNTAX;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
		      c == ':' || c == '.'))
			return DNSBL_ESYNTAX; /* no zone ids, blanks or NULs */
	}
	memcpy(buf, s, len);
	buf[len] = '\0';
	return inet_pton(AF_INET6, buf, addr) == 1 ? 0 : DNSBL_ESYNTAX;
}

int prefix_parse(const char *s, size_t len, struct entry_key *out)
{
	const char *slash = memchr(s, '/', len);
	size_t alen = slash ? (size_t)(slash - s) : len;
	int plen = 128;
	uint8_t masked[16];

	if (memchr(s, ':', alen) == NULL)
		return prefix4_parse(s, len, out);
	memset(out, 0, sizeof(*out));
	if (addr6_parse(s, alen, out->addr) < 0)
		return DNSBL_ESYNTAX;
	if (slash && (plen = prefix_len_parse(slash + 1, len - alen - 1, 128)) < 0)
		return DNSBL_ESYNTAX;
	out->family = ADDR_FAMILY_V6;
	out->len = (uint8_t)plen;
	if (plen >= 96 && memcmp(out->addr, v4_mapped, sizeof(v4_mapped)) == 0) {
		uint32_t a = (uint32_t)out->addr[12] << 24 | (uint32_t)out->addr[13] << 16 |
			     (uint32_t)out->addr[14] << 8 | out->addr[15];
		prefix4_make(out, a, (unsigned)plen - 96);
		return (a & ~prefix4_mask((unsigned)plen - 96)) ? DNSBL_EHOSTBITS : 0;
	}
	memcpy(masked, out->addr, 16);
	for (unsigned i = 0; i < 16; i++) {
		unsigned bits = (unsigned)plen > 8 * i ? (unsigned)plen - 8 * i : 0;
		if (bits < 8)
			out->addr[i] &= (uint8_t)(0xff00u >> bits);
	}
	return memcmp(masked, out->addr, 16) != 0 ? DNSBL_EHOSTBITS : 0;
}

size_t addr4_format(uint32_t a, char *buf)
{
	size_t n = 0;

	/* by hand: zone transfers format an address per record */
	for (int shift = 24; shift >= 0; shift -= 8) {
		unsigned o = (a >> shift) & 255;
		if (o >= 100)
			buf[n++] = (char)('0' + o / 100);
		if (o >= 10)
			buf[n++] = (char)('0' + o / 10 % 10);
		buf[n++] = (char)('0' + o % 10);
		if (shift > 0)
			buf[n++] = '.';
	}
	buf[n] = '\0';
	return n;
}

size_t addr_format(const struct entry_key *p, char *buf, size_t size)
{
	char tmp[ADDR_TEXT_MAX];
	size_t n;

	if (p->family == ADDR_FAMILY_V4)
		n = addr4_format(prefix4_addr(p), tmp);
	else
		n = inet_ntop(AF_INET6, p->addr, tmp, sizeof(tmp)) != NULL ? strlen(tmp) : 0;
	if (size == 0)
		return 0;
	if (n >= size)
		n = size - 1;
	memcpy(buf, tmp, n); /* not snprintf: zone transfers format an address per record */
	buf[n] = '\0';
	return n;
}

size_t prefix_format(const struct entry_key *p, int bare_host, char *buf, size_t size)
{
	char a[ADDR_TEXT_MAX];
	unsigned full = p->family == ADDR_FAMILY_V4 ? 32 : 128;
	int n;

	addr_format(p, a, sizeof(a));
	if (bare_host && p->len == full)
		n = snprintf(buf, size, "%s", a);
	else
		n = snprintf(buf, size, "%s/%u", a, p->len);
	if (n < 0)
		return 0;
	return (size_t)n < size ? (size_t)n : size - 1;
}

int range4_to_prefixes(uint32_t lo, uint32_t hi,
		       int (*fn)(const struct entry_key *p, void *arg), void *arg)
{
	uint64_t cur = lo, end = (uint64_t)hi + 1;

	if (lo > hi)
		return DNSBL_EINVAL;
	while (cur < end) {
		/* The largest block aligned at cur that does not pass end. */
		unsigned len = 32;
		while (len > 0) {
			uint64_t size = 1ull << (32 - (len - 1));
			if ((cur & (size - 1)) != 0 || cur + size > end)
				break;
			len--;
		}
		struct entry_key p;
		prefix4_make(&p, (uint32_t)cur, len);
		int rc = fn(&p, arg);
		if (rc != 0)
			return rc;
		cur += 1ull << (32 - len);
	}
	return 0;
}

int prefix_contains(const struct entry_key *a, const struct entry_key *b)
{
	unsigned full = a->len / 8, rest = a->len % 8;

	if (a->family != b->family || a->len > b->len)
		return 0;
	if (memcmp(a->addr, b->addr, full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	uint8_t mask = (uint8_t)(0xff << (8 - rest));
	return (a->addr[full] & mask) == (b->addr[full] & mask);
}
