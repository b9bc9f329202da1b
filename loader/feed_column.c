/* The trap feeds' columns (see feed_column.h): a table of name, FEED_HAVE_ bit,
 * parser and feed_record member, read by the csv and the jsonl parsers alike. */
#include "feed_column.h"

#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "err.h"
#include "feed_key.h"
#include "timeutil.h"
#include "txt.h"

struct column;

/* Sets what column c says in out from v[0..len) (not empty). Returns 0 or -1 (*msg
 * set). */
typedef int column_parser(const struct column *c, enum feed_keys keys, const char *v,
			  size_t len, struct feed_record *out, const char **msg);

struct column {
	const char *name;
	unsigned have;      /* the FEED_HAVE_ bit it sets; 0: the key, or a flag */
	bool keep_blanks;   /* the key (its parser trims) and the reason are not trimmed */
	bool numeric;       /* jsonl: a number stands for its decimal text */
	column_parser *parse;
	size_t member;      /* offset of the uint32_t member of struct feed_record it sets */
	const char *error;  /* the message for a bad value */
};

/* Stores u in c's uint32_t member of out and notes that out has it. */
static void set_u32(const struct column *c, struct feed_record *out, uint32_t u)
{
	memcpy((char *)out + c->member, &u, sizeof(u));
	out->have |= c->have;
}

/* Copies a text into one of out's text buffers (room checked by the caller). */
static void set_text(char *dst, size_t *dst_len, const char *s, size_t len)
{
	memcpy(dst, s, len);
	dst[len] = '\0';
	*dst_len = len;
}

static int parse_key(const struct column *c, enum feed_keys keys, const char *v, size_t len,
		     struct feed_record *out, const char **msg)
{
	(void)c;
	feed_trim(&v, &len);
	if (len > 0 && v[0] == '!') {
		out->exclude = true;
		v++;
		len--;
	}
	if (len == 0) {
		*msg = keys == FEED_KEYS_NAME ? "empty name" : "empty ip";
		return -1;
	}
	return feed_key_parse(keys, v, len, out, msg) < 0 ? -1 : 0;
}

/* timestamp, first_seen, last_seen: RFC 3339 or unix seconds */
static int parse_time(const struct column *c, enum feed_keys keys, const char *v, size_t len,
		      struct feed_record *out, const char **msg)
{
	uint32_t u;

	(void)keys;
	if (time_parse(v, len, &u) < 0) {
		*msg = c->error;
		return -1;
	}
	set_u32(c, out, u);
	return 0;
}

/* expires: a time, or 0 for never */
static int parse_expires(const struct column *c, enum feed_keys keys, const char *v,
			 size_t len, struct feed_record *out, const char **msg)
{
	if (len == 1 && v[0] == '0') {
		set_u32(c, out, 0);
		return 0;
	}
	return parse_time(c, keys, v, len, out, msg);
}

static int parse_ttl(const struct column *c, enum feed_keys keys, const char *v, size_t len,
		     struct feed_record *out, const char **msg)
{
	uint32_t u;

	(void)keys;
	if (duration_parse(v, len, UINT32_MAX, &u) < 0 || u == 0) {
		*msg = c->error;
		return -1;
	}
	set_u32(c, out, u);
	return 0;
}

/* hits: a decimal count from 1 to 2^32-1 */
static int parse_hits(const struct column *c, enum feed_keys keys, const char *v, size_t len,
		      struct feed_record *out, const char **msg)
{
	uint64_t h = 0;

	(void)keys;
	if (len > 10) {
		*msg = c->error;
		return -1;
	}
	for (size_t i = 0; i < len; i++) {
		if (v[i] < '0' || v[i] > '9') {
			*msg = c->error;
			return -1;
		}
		h = h * 10 + (uint64_t)(v[i] - '0');
	}
	if (h == 0 || h > UINT32_MAX) {
		*msg = c->error;
		return -1;
	}
	set_u32(c, out, (uint32_t)h);
	return 0;
}

static int parse_reason(const struct column *c, enum feed_keys keys, const char *v, size_t len,
			struct feed_record *out, const char **msg)
{
	(void)keys;
	if (len > STORE_REASON_MAX) {
		*msg = c->error;
		return -1;
	}
	set_text(out->reason, &out->reason_len, v, len);
	out->have |= c->have;
	return 0;
}

static int parse_source(const struct column *c, enum feed_keys keys, const char *v, size_t len,
			struct feed_record *out, const char **msg)
{
	(void)keys;
	if (!feed_source_valid(v, len)) {
		*msg = c->error;
		return -1;
	}
	set_text(out->source, &out->source_len, v, len);
	out->have |= c->have;
	return 0;
}

/* code: the A answered, an address in 127.0.0.0/8 or the x of 127.0.0.x */
static int parse_code(const struct column *c, enum feed_keys keys, const char *v, size_t len,
		      struct feed_record *out, const char **msg)
{
	uint32_t u;
	int rc = feed_a_parse(v, len, &u);

	(void)c;
	(void)keys;
	if (rc == DNSBL_ERANGE) {
		*msg = "code: not in 127.0.0.0/8 (RFC 5782)";
		return -1;
	}
	if (rc < 0) {
		*msg = memchr(v, '.', len) != NULL
			       ? "code: not an IPv4 address or a number"
			       : "code: not an IPv4 address or a number from 0 to 255";
		return -1;
	}
	out->a = u;
	out->flags |= STORE_F_A;
	return 0;
}

static int parse_txt(const struct column *c, enum feed_keys keys, const char *v, size_t len,
		     struct feed_record *out, const char **msg)
{
	(void)keys;
	if (len > STORE_TXT_MAX || txt_template_check(v, len) < 0) {
		*msg = c->error;
		return -1;
	}
	set_text(out->txt, &out->txt_len, v, len);
	out->flags |= STORE_F_TXT;
	return 0;
}

/* no_txt = 1 is rbldnsd's ":A:", an entry that answers no TXT (as export writes it) */
static int parse_no_txt(const struct column *c, enum feed_keys keys, const char *v, size_t len,
			struct feed_record *out, const char **msg)
{
	(void)keys;
	if (len == 1 && (v[0] == '0' || v[0] == '1')) {
		if (v[0] == '1')
			out->flags |= STORE_F_NOTXT;
		return 0;
	}
	*msg = c->error;
	return -1;
}

#define U32_AT(member) offsetof(struct feed_record, member)

/* In enum feed_column order, which is the order a csv row's fields are read in (the
 * first bad one is reported). */
static const struct column columns[FEED_COL_COUNT] = {
	[FEED_COL_IP] = { "ip", 0, true, false, parse_key, 0, NULL },
	[FEED_COL_TIMESTAMP] = { "timestamp", FEED_HAVE_TIME, false, true, parse_time,
				 U32_AT(time), "timestamp: not RFC 3339 or unix seconds" },
	[FEED_COL_REASON] = { "reason", FEED_HAVE_REASON, true, false, parse_reason, 0,
			      "reason longer than 255 bytes" },
	[FEED_COL_SOURCE] = { "source", FEED_HAVE_SOURCE, false, false, parse_source, 0,
			      "source: 1 to 64 letters, digits or . _ - + @" },
	[FEED_COL_CODE] = { "code", 0, false, true, parse_code, 0, NULL },
	[FEED_COL_TXT] = { "txt", 0, false, false, parse_txt, 0,
			   "txt: longer than 1024 bytes or more than 16 '$'" },
	[FEED_COL_TTL] = { "ttl", FEED_HAVE_TTL, false, true, parse_ttl, U32_AT(ttl),
			   "ttl: not a duration above 0 (seconds, or with s/m/h/d/w)" },
	[FEED_COL_FIRST_SEEN] = { "first_seen", FEED_HAVE_FIRST, false, true, parse_time,
				  U32_AT(first_seen), "first_seen: not RFC 3339 or unix seconds" },
	[FEED_COL_LAST_SEEN] = { "last_seen", FEED_HAVE_LAST, false, true, parse_time,
				 U32_AT(last_seen), "last_seen: not RFC 3339 or unix seconds" },
	[FEED_COL_HITS] = { "hits", FEED_HAVE_HITS, false, true, parse_hits, U32_AT(hits),
			    "hits: not a number from 1 to 4294967295" },
	[FEED_COL_EXPIRES] = { "expires", FEED_HAVE_EXPIRES, false, true, parse_expires,
			       U32_AT(expires), "expires: not RFC 3339, unix seconds or 0 (never)" },
	[FEED_COL_NO_TXT] = { "no_txt", 0, false, true, parse_no_txt, 0, "no_txt: not 0 or 1" },
};

int feed_column_find(const char *name, size_t len)
{
	if (len == 4 && strncasecmp(name, "name", 4) == 0)
		return FEED_COL_IP; /* the key column, as domain lists call it */
	for (int i = 0; i < FEED_COL_COUNT; i++) {
		const char *c = columns[i].name;
		if (strlen(c) == len && strncasecmp(c, name, len) == 0)
			return i;
	}
	return -1;
}

bool feed_column_numeric(enum feed_column col)
{
	return columns[col].numeric;
}

int feed_column_set(enum feed_keys keys, enum feed_column col, const char *v, size_t len,
		    struct feed_record *out, const char **msg)
{
	const struct column *c = &columns[col];

	/* a TXT is trimmed too: no list format (rbldnsd's) could carry its edges */
	if (!c->keep_blanks)
		feed_trim(&v, &len);
	if (len == 0 && col != FEED_COL_IP)
		return 0;
	for (size_t i = 0; i < len; i++) {
		/* texts end up in one-line outputs (exports, history, TXT answers);
		 * a tab is kept */
		if (((unsigned char)v[i] < 0x20 && v[i] != '\t') || v[i] == 0x7f) {
			*msg = v[i] == '\0' ? "a field contains a NUL byte"
					    : "a field contains a control character";
			return DNSBL_ESYNTAX;
		}
	}
	return c->parse(c, keys, v, len, out, msg) < 0 ? DNSBL_ESYNTAX : 0;
}

void feed_record_clear(struct feed_record *out)
{
	out->family = 0;
	out->lo = out->hi = 0;
	memset(&out->key, 0, sizeof(out->key));
	out->exclude = false;
	out->flags = 0;
	out->a = 0;
	out->txt_len = 0;
	out->txt[0] = '\0';
	out->have = 0;
	out->time = out->ttl = out->first_seen = out->last_seen = out->hits = out->expires = 0;
	out->reason_len = 0;
	out->reason[0] = '\0';
	out->source_len = 0;
	out->source[0] = '\0';
}
