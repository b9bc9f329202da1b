/* IP addresses and prefixes: strict, bounded text parsing and formatting.
 * Parsers take (text, length), need no NUL terminator, never read past len, and
 * accept only canonical decimal octets (no leading zeros, no signs, no spaces). */
#ifndef DNSBL_ADDR_H
#define DNSBL_ADDR_H

#include <stddef.h>
#include <stdint.h>

#define ADDR_FAMILY_V4 4
#define ADDR_FAMILY_V6 6

#define ADDR_FAMILY_NAME 78 /* 'N': a domain name (lib/dname.h) */

/* What an entry of a zone is keyed by: an IP prefix or a domain name, told apart by
 * family (the tag). Read only the members of the key's kind:
 *  - IP (ADDR_FAMILY_V4, ADDR_FAMILY_V6): len is the prefix length, 0..32 or 0..128;
 *    addr the address in network order (4 bytes used for IPv4), bits past len zero.
 *  - Name (ADDR_FAMILY_NAME): kind is an enum dname_kind (lib/dname.h), and
 *    name[0..name_len) the name's key form; its bytes are not owned (a caller's
 *    buffer, or the store's snapshot like an entry's texts). */
struct entry_key {
	uint8_t family; /* ADDR_FAMILY_V4, ADDR_FAMILY_V6 or ADDR_FAMILY_NAME */
	union {
		struct { /* an IP prefix */
			uint8_t len;
			uint8_t addr[16];
		};
		struct { /* a domain name */
			uint8_t kind;
			uint8_t name_len;
			const uint8_t *name;
		};
	};
};

/* Parses a dotted-quad IPv4 address of exactly len bytes into *out (host order).
 * Returns 0 or DNSBL_ESYNTAX. */
int addr4_parse(const char *s, size_t len, uint32_t *out);

/* Parses 1 to 4 dotted octets ("10", "10.1", "10.1.2.3") into *out, left-aligned in
 * host order ("10.1" gives 10.1.0.0), and their number into *count. Returns 0 or
 * DNSBL_ESYNTAX. */
int addr4_parse_octets(const char *s, size_t len, uint32_t *out, unsigned *count);

/* Parses a prefix length 0..max (decimal, no leading zero). Returns it, or
 * DNSBL_ESYNTAX. */
int prefix_len_parse(const char *s, size_t len, unsigned max);

/* Parses one decimal octet 0..255 (1-3 digits, no leading zero). Returns the value,
 * or DNSBL_ESYNTAX when s[0..len) is not one. */
int addr4_octet_parse(const char *s, size_t len);

/* Parses "a.b.c.d" (a /32) or "a.b.c.d/n" into *out. Returns 0, DNSBL_ESYNTAX, or
 * DNSBL_EHOSTBITS when the address has bits set past n (out is then masked). */
int prefix4_parse(const char *s, size_t len, struct entry_key *out);

/* Parses an IPv4 or IPv6 address (a /32 or /128) or CIDR prefix of exactly len
 * bytes into *out. An IPv4-mapped IPv6 prefix (::ffff:a.b.c.d, length 96 or more) is
 * read as the IPv4 prefix it maps. Returns 0, DNSBL_ESYNTAX, or DNSBL_EHOSTBITS when
 * bits are set past the length (out is then masked). */
int prefix_parse(const char *s, size_t len, struct entry_key *out);

/* Builds the IPv4 prefix addr/len (addr in host order; host bits are cleared). */
void prefix4_make(struct entry_key *out, uint32_t addr, unsigned len);

/* Returns the IPv4 address of an IPv4 prefix in host order. */
uint32_t prefix4_addr(const struct entry_key *p);

/* Returns the netmask for an IPv4 prefix length 0..32 in host order. */
uint32_t prefix4_mask(unsigned len);

/* Writes the IPv4 address a (host order) as dotted quad with a NUL into buf (at
 * least 16 bytes). Returns the text length. */
size_t addr4_format(uint32_t a, char *buf);

#define ADDR_TEXT_MAX 46 /* an IPv6 address as text, with its NUL */

/* Writes the address of p (either family, its length ignored) as text with a NUL
 * into buf: dotted quad, or RFC 5952 compressed IPv6. Returns the text length. */
size_t addr_format(const struct entry_key *p, char *buf, size_t size);

/* Writes p as "address/len" (or the bare address for a /32 or /128 when
 * bare_host != 0) into buf (ADDR_TEXT_MAX + 4 bytes is always enough). Returns the
 * text length. */
size_t prefix_format(const struct entry_key *p, int bare_host, char *buf, size_t size);

/* Calls fn for each prefix of the smallest set of CIDR blocks that covers exactly the
 * inclusive IPv4 range [lo, hi] (host order), in address order. Stops at and returns
 * fn's first non-zero result; DNSBL_EINVAL when lo > hi. */
int range4_to_prefixes(uint32_t lo, uint32_t hi,
		       int (*fn)(const struct entry_key *p, void *arg), void *arg);

/* Returns non-zero when prefix a contains prefix b (same family, a->len <= b->len). */
int prefix_contains(const struct entry_key *a, const struct entry_key *b);

#endif
