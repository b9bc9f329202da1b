/* What the feed parsers (loader/feed_*.c) share and their callers do not see: blanks,
 * a line's key (an address, CIDR prefix, IPv4 range or domain) and the A value. Every
 * parser takes (text, length) and never reads past the length. */
#ifndef DNSBL_FEED_KEY_H
#define DNSBL_FEED_KEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "feed.h"

static inline bool feed_is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Trims blanks (and a CR) on both ends of [*s, *s + *len). */
static inline void feed_trim(const char **s, size_t *len)
{
	while (*len > 0 && feed_is_blank((*s)[0])) {
		(*s)++;
		(*len)--;
	}
	while (*len > 0 && feed_is_blank((*s)[*len - 1]))
		(*len)--;
}

static inline bool feed_line_blank(const char *line, size_t len)
{
	feed_trim(&line, &len);
	return len == 0;
}

/* Fills out's key from k (which may be &out->key); an IPv4 prefix becomes the range
 * [lo, hi]. */
void feed_record_set_key(struct feed_record *out, const struct entry_key *k);

/* Reads the key of a plain, csv or jsonl line, exactly len bytes: an IPv4 or IPv6
 * address or CIDR prefix, or with FEED_KEYS_NAME a domain (its key form goes to
 * out->name_buf). Returns 0 or DNSBL_ESYNTAX (*msg, static text, says why). */
int feed_key_parse(enum feed_keys keys, const char *s, size_t len, struct feed_record *out,
		   const char **msg);

/* Reads the IPv6 key forms of rbldnsd's ip6trie and ip6tset (see feed.h) into out.
 * Returns 0 or DNSBL_ESYNTAX (*msg set). */
int feed_ip6_parse(const char *s, size_t len, struct feed_record *out, const char **msg);

/* Reads the IPv4 key forms of rbldnsd's ip4set (an address of 1 to 4 octets, a CIDR
 * prefix or a range, see feed.h) into [*lo, *hi]. Returns 0 or DNSBL_ESYNTAX (*msg
 * set). */
int feed_range4_parse(const char *s, size_t len, uint32_t *lo, uint32_t *hi, const char **msg);

/* Reads an A value: an IPv4 address, or a number 0-255 for 127.0.0.x, into *a (host
 * order). Returns 0, DNSBL_ESYNTAX, or DNSBL_ERANGE when the address is outside
 * 127.0.0.0/8 (RFC 5782). */
int feed_a_parse(const char *s, size_t len, uint32_t *a);

#endif
