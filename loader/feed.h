/* Line parsers for list files: "plain" (one IPv4 address or CIDR per line) and
 * "rbldnsd" (ip4set / ip4trie data files). Pure functions of (state, line): no I/O,
 * no allocation; the caller reports problems as "file:line: reason". */
#ifndef DNSBL_FEED_H
#define DNSBL_FEED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

/* One listed (or excluded) IPv4 range with its value. */
struct feed_record {
	uint32_t lo, hi;   /* inclusive range, host order */
	bool exclude;      /* "!" entry */
	uint8_t flags;     /* STORE_F_A, STORE_F_TXT, STORE_F_NOTXT */
	uint32_t a;        /* with STORE_F_A, host order */
	size_t txt_len;    /* with STORE_F_TXT */
	char txt[STORE_TXT_MAX + 1];
};

enum feed_line {
	FEED_LINE_RECORD, /* *out holds an entry */
	FEED_LINE_SKIP,   /* blank, comment, or a directive that changed the state */
	FEED_LINE_NOTICE, /* a line understood and deliberately ignored; *msg says why */
	FEED_LINE_ERROR,  /* a bad line; *msg says why */
};

/* Per-file rbldnsd parsing state: the ":A:TXT" default, $0-$9 and $= templates. */
struct rbldnsd_state {
	bool has_default;
	uint8_t def_flags;
	uint32_t def_a;
	size_t def_txt_len;
	char def_txt[STORE_TXT_MAX + 1];
	size_t var_len[10];
	char var[10][256];
	bool has_base;
	size_t base_len;
	char base[STORE_TXT_MAX + 1];
};

/* Resets st for a new file. */
void rbldnsd_state_init(struct rbldnsd_state *st);

/* Parses one line (without its newline) of an rbldnsd ip4set or ip4trie file.
 * Address forms: a.b.c.d, a.b.c (a /24), a.b and a, CIDR (a.b.c.d/n, a.b/n),
 * ranges (a.b.c.d-e.f.g.h, prefix-prefix, a.b.c.d-h as a last-octet suffix).
 * Values: ":A:TXT", ":A" (default TXT), ":A:" (no TXT), "TXT" (default A); A is an
 * address or the last octet of 127.0.0.x. $n and $= are expanded here, "$" and "$$"
 * stay for the responder. *msg (static text) is set for NOTICE and ERROR. */
enum feed_line rbldnsd_parse_line(struct rbldnsd_state *st, const char *line, size_t len,
				  struct feed_record *out, const char **msg);

/* Parses one line of a plain list: an IPv4 address or CIDR, optional "!" for an
 * exclusion, "#" or ";" comments, surrounding blanks ignored. */
enum feed_line plain_parse_line(const char *line, size_t len, struct feed_record *out,
				const char **msg);

#endif
