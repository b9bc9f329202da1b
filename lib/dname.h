/* Domain names as entries of `type = name` zones (RHSBL and URI lists): their text
 * forms, the names that queries ask about, and the key form the store sorts by.
 *
 * The key form is the name's labels from the top down ("example.com" is
 * \x03com\x07example), lower case, each with its length byte and no root label, so
 * that the key form of a name is a prefix of the key forms of all its subdomains:
 * everything below a name is one contiguous range of the store. Labels hold only
 * letters, digits, '-' and '_' (host names and the underscore labels of mail
 * authentication); a query with any other byte cannot be listed.
 *
 * Parsers take (text, length), need no NUL terminator and never read past len. */
#ifndef DNSBL_DNAME_H
#define DNSBL_DNAME_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"

#define DNAME_KEY_MAX 254   /* key form bytes: a 253-character name */
#define DNAME_TEXT_MAX 256  /* "*." + 253 characters + NUL */
#define DNAME_LABELS_MAX 127

/* What a name entry covers (struct entry_key.kind of a name). */
enum dname_kind {
	DNAME_EXACT = 1, /* "example.com": the name itself only */
	DNAME_SUBS = 2,  /* "*.example.com": its subdomains only */
	DNAME_TREE = 3,  /* ".example.com": the name and its subdomains */
};

/* Parses an entry's text: "example.com", "*.example.com" or ".example.com" (any case,
 * one trailing dot allowed) into the key form in buf (DNAME_KEY_MAX bytes, owned by
 * the caller) and *out (family ADDR_FAMILY_NAME, name pointing to buf, kind the
 * entry's kind). Returns 0 or DNSBL_ESYNTAX. */
int dname_parse(const char *s, size_t len, uint8_t *buf, struct entry_key *out);

/* Builds the key form of a query's first k labels (those below the zone apex):
 * qname is a wire name, label_off[i] the offset of label i's length byte in it.
 * Writes into buf (DNAME_KEY_MAX bytes, the caller's) and *out (kind DNAME_EXACT).
 * Returns 0, or DNSBL_ESYNTAX when a label has a byte no entry can have. */
int dname_from_wire(const uint8_t *qname, const uint8_t *label_off, unsigned k, uint8_t *buf,
		    struct entry_key *out);

/* Writes name key k as text with a NUL into buf: "*." or "." before the name for
 * DNAME_SUBS and DNAME_TREE when with_kind is non-zero. DNAME_TEXT_MAX bytes are
 * always enough. Returns the text length. */
size_t dname_format(const struct entry_key *k, int with_kind, char *buf, size_t size);

/* Returns the number of labels in the key form name[0..len). */
unsigned dname_labels(const uint8_t *name, size_t len);

/* Returns the length of the key form of the ancestor with n labels of the name
 * name[0..len) (n at most its label count): a prefix of the key form. */
size_t dname_ancestor_len(const uint8_t *name, size_t len, unsigned n);

/* --- Entry keys of either kind, as operators write them --- */

#define ENTRY_KEY_TEXT_MAX DNAME_TEXT_MAX /* any entry key as text, with its NUL */

/* Parses an entry key as written in a list, the API or a command line: a domain
 * name entry (dname_parse) when names is non-zero (a `type = name` zone), else an
 * IPv4 or IPv6 address or CIDR prefix (prefix_parse). buf (DNAME_KEY_MAX bytes, the
 * caller's) holds a name's key form. Returns 0, DNSBL_ESYNTAX or DNSBL_EHOSTBITS. */
int entry_key_parse(int names, const char *s, size_t len, uint8_t *buf, struct entry_key *out);

/* Writes key k as text with a NUL into buf: a name with its "*." or "." for the
 * kind, or an IP prefix (prefix_format). Returns the text length. */
size_t entry_key_format(const struct entry_key *k, int bare_host, char *buf, size_t size);

#endif
