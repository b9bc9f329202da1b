/* Line parsers for list files and trap feeds: "plain" (one address, CIDR prefix or
 * domain per line), "rbldnsd" (ip4set, ip4trie, ip6trie, ip6tset and dnset data
 * files), "csv" (a header row, then one hit per row) and "jsonl" (one JSON object
 * per line). Functions of (state, line): no I/O; the caller reports problems as
 * "file:line: reason". What a line's key is read as (addresses or domains) is the
 * zone's type, given as enum feed_keys.
 * One file per format (feed_plain.c, feed_rbldnsd.c, feed_csv.c, feed_jsonl.c);
 * what they share is in feed_key.h (keys, A values) and feed_column.h (the csv and
 * jsonl columns); feed.c holds the functions below that belong to no one format. */
#ifndef DNSBL_FEED_H
#define DNSBL_FEED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dname.h"
#include "store.h"

#define FEED_SOURCE_MAX STORE_NAME_MAX

/* Which optional facts a feed_record carries (csv and jsonl lines). */
#define FEED_HAVE_TIME 0x01    /* time: the hit's timestamp */
#define FEED_HAVE_TTL 0x02     /* ttl: seconds the listing lasts after the hit */
#define FEED_HAVE_FIRST 0x04   /* first_seen */
#define FEED_HAVE_LAST 0x08    /* last_seen */
#define FEED_HAVE_HITS 0x10    /* hits */
#define FEED_HAVE_EXPIRES 0x20 /* expires (0 = never) */
#define FEED_HAVE_REASON 0x40  /* reason */
#define FEED_HAVE_SOURCE 0x80  /* source */

/* The input formats dnsbl-loader import reads (--format). */
enum feed_format { FEED_FORMAT_PLAIN, FEED_FORMAT_RBLDNSD, FEED_FORMAT_CSV, FEED_FORMAT_JSONL };

/* Parses a format name ("plain", "rbldnsd", "csv", "jsonl"). Returns 0 or
 * DNSBL_EINVAL. */
int feed_format_parse(const char *name, enum feed_format *out);

/* What the lines' keys are: the zone's type. */
enum feed_keys {
	FEED_KEYS_IP = 0,   /* IPv4 and IPv6 addresses, prefixes (and IPv4 ranges) */
	FEED_KEYS_NAME = 1, /* domains: example.com, *.example.com, .example.com */
};

/* One listed (or excluded) key with its value and, from trap feeds, facts. */
struct feed_record {
	uint8_t family;    /* ADDR_FAMILY_V4: [lo, hi]; ADDR_FAMILY_V6 or _NAME: key */
	uint32_t lo, hi;   /* an IPv4 inclusive range, host order */
	struct entry_key key;             /* an IPv6 prefix, or a name in name_buf */
	uint8_t name_buf[DNAME_KEY_MAX];  /* never copy a record: key points here */
	bool exclude;      /* "!" entry */
	uint8_t flags;     /* STORE_F_A, STORE_F_TXT, STORE_F_NOTXT */
	uint32_t a;        /* with STORE_F_A, host order */
	size_t txt_len;    /* with STORE_F_TXT */
	char txt[STORE_TXT_MAX + 1];
	unsigned have;     /* FEED_HAVE_*: which of the fields below are set */
	uint32_t time, ttl, first_seen, last_seen, hits, expires;
	size_t reason_len;
	char reason[STORE_REASON_MAX + 1];
	size_t source_len;
	char source[FEED_SOURCE_MAX + 1];
};

enum feed_line {
	FEED_LINE_RECORD, /* *out holds an entry */
	FEED_LINE_SKIP,   /* blank, comment, or a directive that changed the state */
	FEED_LINE_NOTICE, /* a line understood and deliberately ignored; *msg says why */
	FEED_LINE_ERROR,  /* a bad line; *msg says why */
};

/* Per-file rbldnsd parsing state: the ":A:TXT" default, $0-$9 and $= templates. */
struct rbldnsd_state {
	enum feed_keys keys;
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

/* Resets st for a new file of keys (ip: ip4set, ip4trie, ip6trie, ip6tset; name:
 * dnset). */
void rbldnsd_state_init(struct rbldnsd_state *st, enum feed_keys keys);

/* Parses one line (without its newline) of an rbldnsd data file.
 * IPv4 forms: a.b.c.d, a.b.c (a /24), a.b and a, CIDR (a.b.c.d/n, a.b/n),
 * ranges (a.b.c.d-e.f.g.h, prefix-prefix, a.b.c.d-h as a last-octet suffix).
 * IPv6 forms (a ':' in the key): compressed addresses ("2001:db8::1", a /128),
 * leading groups ("2001:db8:1:2", a /64: trailing zero groups left out) and either
 * with /n. Domains (dnset): example.com, *.example.com, .example.com. A value
 * follows after a blank.
 * Values: ":A:TXT", ":A" (default TXT), ":A:" (no TXT), "TXT" (default A); A is an
 * address or the last octet of 127.0.0.x. $n and $= are expanded here, "$" and "$$"
 * stay for the responder. *msg (static text) is set for NOTICE and ERROR. */
enum feed_line rbldnsd_parse_line(struct rbldnsd_state *st, const char *line, size_t len,
				  struct feed_record *out, const char **msg);

/* Parses one line of a plain list: an IPv4 or IPv6 address or CIDR prefix (or with
 * FEED_KEYS_NAME a domain), optional "!" for an exclusion, "#" or ";" comments,
 * surrounding blanks ignored. */
enum feed_line plain_parse_line(enum feed_keys keys, const char *line, size_t len,
				struct feed_record *out, const char **msg);

/* Parses a time: unix seconds ("1732350000") or RFC 3339
 * ("2026-11-23T10:00:00Z", "2026-11-23 10:00:00.5+01:00"; 't'/'z' in any case).
 * Returns 0 or DNSBL_ESYNTAX / DNSBL_ERANGE (before 1970 or after 2106). */
int feed_time_parse(const char *s, size_t len, uint32_t *out);

/* Parses a duration: seconds ("3600") or a number with one suffix s, m, h, d, w.
 * Returns 0, DNSBL_ESYNTAX or DNSBL_ERANGE (over 2^32-1 seconds). */
int feed_duration_parse(const char *s, size_t len, uint32_t *out);

/* Whether a source name is valid: 1 to 64 letters, digits or . _ - + @ (no ':', so
 * that no feed can pass for an operator). */
bool feed_source_valid(const char *s, size_t len);

/* Columns the csv format knows (FEED_COL_COUNT of them). */
enum feed_column {
	FEED_COL_IP, FEED_COL_TIMESTAMP, FEED_COL_REASON, FEED_COL_SOURCE, FEED_COL_CODE,
	FEED_COL_TXT, FEED_COL_TTL, FEED_COL_FIRST_SEEN, FEED_COL_LAST_SEEN, FEED_COL_HITS,
	FEED_COL_EXPIRES, FEED_COL_NO_TXT, FEED_COL_COUNT
};

#define CSV_MAX_FIELDS 64

/* Per-file csv state: whether the header was seen and where each column is. */
struct csv_state {
	enum feed_keys keys;
	bool have_header;
	unsigned nfields;             /* fields in the header */
	int col[FEED_COL_COUNT];      /* field index of each known column, -1 if absent */
};

/* Resets st for a new file of keys. */
void csv_state_init(struct csv_state *st, enum feed_keys keys);

/* Parses one csv line. The key column is "ip" (or "name", any keys). Blank lines
 * and lines starting with '#' are skipped; the first other line is the header (SKIP,
 * or ERROR without an "ip" column, with a duplicate known column or over
 * CSV_MAX_FIELDS fields). Later lines give a RECORD or an ERROR (wrong field count,
 * bad quoting, bad value). */
enum feed_line csv_parse_line(struct csv_state *st, const char *line, size_t len,
			      struct feed_record *out, const char **msg);

/* Parses one jsonl line (a JSON object with the csv column names as members). Blank
 * lines are skipped. Uses jansson (allocates internally, frees before returning). */
enum feed_line jsonl_parse_line(enum feed_keys keys, const char *line, size_t len,
				struct feed_record *out, const char **msg);

#endif
