/* A feed line's key and A value, shared by the feed parsers (see feed_key.h). */
#include "feed_key.h"

#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "err.h"

void feed_record_set_key(struct feed_record *out, const struct entry_key *k)
{
	out->family = k->family;
	if (k->family == ADDR_FAMILY_V4) {
		out->lo = prefix4_addr(k);
		out->hi = out->lo | ~prefix4_mask(k->len);
	} else if (k != &out->key) {
		out->key = *k;
	}
}

int feed_key_parse(enum feed_keys keys, const char *s, size_t len, struct feed_record *out,
		   const char **msg)
{
	struct entry_key k;
	int rc = entry_key_parse(keys == FEED_KEYS_NAME, s, len, out->name_buf, &k);

	if (rc == DNSBL_EHOSTBITS) {
		*msg = "address has bits set beyond the prefix length";
		return DNSBL_ESYNTAX;
	}
	if (rc < 0) {
		*msg = keys == FEED_KEYS_NAME
			       ? "not a domain (example.com, *.example.com or .example.com)"
			       : "not an IPv4 or IPv6 address or CIDR prefix";
		return DNSBL_ESYNTAX;
	}
	out->key = k;
	feed_record_set_key(out, &out->key);
	return 0;
}

int feed_ip6_parse(const char *s, size_t len, struct feed_record *out, const char **msg)
{
	char buf[128];
	const char *slash = memchr(s, '/', len);
	size_t alen = slash ? (size_t)(slash - s) : len, n;
	unsigned groups = 1;
	bool full = memchr(s, '.', alen) != NULL;
	struct entry_key k;
	int rc;

	if (alen == 0 || len > 64 || (s[0] == ':' && (alen < 2 || s[1] != ':')) ||
	    (s[alen - 1] == ':' && (alen < 2 || s[alen - 2] != ':'))) {
		*msg = "bad IPv6 address"; /* an empty first or last group */
		return DNSBL_ESYNTAX;
	}
	for (size_t i = 0; i < alen; i++) {
		if (s[i] == ':') {
			groups++;
			full = full || (i + 1 < alen && s[i + 1] == ':');
		}
	}
	memcpy(buf, s, alen);
	n = alen;
	if (!full && groups < 8) {
		/* leading groups only: the rest are zero, the length covers the given ones */
		for (unsigned g = groups; g < 8; g++)
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, ":0");
		if (slash == NULL)
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, "/%u", 16 * groups);
	}
	if (slash != NULL) {
		memcpy(buf + n, slash, len - alen);
		n += len - alen;
	}
	memset(&k, 0, sizeof(k));
	rc = prefix_parse(buf, n, &k);
	if (rc == DNSBL_EHOSTBITS) {
		*msg = "address has bits set beyond the prefix length";
		return DNSBL_ESYNTAX;
	}
	if (rc < 0) {
		*msg = "bad IPv6 address or prefix";
		return DNSBL_ESYNTAX;
	}
	feed_record_set_key(out, &k);
	return 0;
}

int feed_range4_parse(const char *s, size_t len, uint32_t *lo, uint32_t *hi, const char **msg)
{
	const char *slash = memchr(s, '/', len), *dash = memchr(s, '-', len);
	uint32_t a, b;
	unsigned na, nb;

	if (len == 0) {
		*msg = "missing address";
		return DNSBL_ESYNTAX;
	}
	if (slash != NULL && dash != NULL) {
		*msg = "an address range cannot also have a /prefix length";
		return DNSBL_ESYNTAX;
	}
	if (slash != NULL) {
		size_t alen = (size_t)(slash - s);
		int plen;
		if (addr4_parse_octets(s, alen, &a, &na) < 0) {
			*msg = "bad IPv4 address before '/'";
			return DNSBL_ESYNTAX;
		}
		if ((plen = prefix_len_parse(slash + 1, len - alen - 1, 32)) < 0) {
			*msg = "bad prefix length (0 to 32)";
			return DNSBL_ESYNTAX;
		}
		if (a & ~prefix4_mask((unsigned)plen)) {
			*msg = "address has bits set beyond the prefix length";
			return DNSBL_ESYNTAX;
		}
		*lo = a;
		*hi = a | ~prefix4_mask((unsigned)plen);
		return 0;
	}
	if (dash != NULL) {
		size_t alen = (size_t)(dash - s);
		if (addr4_parse_octets(s, alen, &a, &na) < 0 ||
		    addr4_parse_octets(dash + 1, len - alen - 1, &b, &nb) < 0) {
			*msg = "bad IPv4 address range";
			return DNSBL_ESYNTAX;
		}
		if (nb == 1 && na > 1) {
			/* "127.0.0.1-255", "127.16-31": the last boundary replaces the first
			 * boundary's last written octet */
			unsigned shift = 8 * (4 - na);
			b = (a & ~(0xffu << shift)) | (b >> 24) << shift;
			nb = na;
		}
		*lo = a;
		*hi = b | (nb == 4 ? 0 : 0xffffffffu >> (8 * nb));
		if (*lo > *hi) {
			*msg = "range start is above its end";
			return DNSBL_ESYNTAX;
		}
		return 0;
	}
	if (addr4_parse_octets(s, len, &a, &na) < 0) {
		*msg = "bad IPv4 address";
		return DNSBL_ESYNTAX;
	}
	*lo = a;
	*hi = a | (na == 4 ? 0 : 0xffffffffu >> (8 * na));
	return 0;
}

int feed_a_parse(const char *s, size_t len, uint32_t *a)
{
	int o = addr4_octet_parse(s, len);

	if (o >= 0) {
		*a = 0x7f000000u | (uint32_t)o;
		return 0;
	}
	if (addr4_parse(s, len, a) < 0)
		return DNSBL_ESYNTAX;
	if ((*a >> 24) != 127)
		return DNSBL_ERANGE;
	return 0;
}
