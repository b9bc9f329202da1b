#include "feed.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "err.h"
#include "timeutil.h"
#include "txt.h"

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Trims blanks (and a CR) on both ends of [*s, *s + *len). */
static void trim(const char **s, size_t *len)
{
	while (*len > 0 && is_blank((*s)[0])) {
		(*s)++;
		(*len)--;
	}
	while (*len > 0 && is_blank((*s)[*len - 1]))
		(*len)--;
}

void rbldnsd_state_init(struct rbldnsd_state *st, enum feed_keys keys)
{
	memset(st, 0, sizeof(*st));
	st->keys = keys;
}

/* Fills a record's key from an entry key; an IPv4 prefix becomes the range. */
static void record_set_key(struct feed_record *out, const struct entry_key *k)
{
	out->family = k->family;
	if (k->family == ADDR_FAMILY_V4) {
		out->lo = prefix4_addr(k);
		out->hi = out->lo | ~prefix4_mask(k->len);
	} else if (k != &out->key) {
		out->key = *k;
	}
}

/* Reads the key of a plain, csv or jsonl line (exactly len bytes) into out. */
static int record_key(enum feed_keys keys, const char *s, size_t len, struct feed_record *out,
		      const char **msg)
{
	struct entry_key k;
	int rc = entry_key_parse(keys == FEED_KEYS_NAME, s, len, out->name_buf, &k);

	if (rc == DNSBL_EHOSTBITS) {
		*msg = "address has bits set beyond the prefix length";
		return -1;
	}
	if (rc < 0) {
		*msg = keys == FEED_KEYS_NAME
			       ? "not a domain (example.com, *.example.com or .example.com)"
			       : "not an IPv4 or IPv6 address or CIDR prefix";
		return -1;
	}
	out->key = k;
	record_set_key(out, &out->key);
	return 0;
}

/* Parses the IPv6 forms of rbldnsd's ip6trie and ip6tset (see feed.h) into out. */
static int parse_ip6(const char *s, size_t len, struct feed_record *out, const char **msg)
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
		return -1;
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
		return -1;
	}
	if (rc < 0) {
		*msg = "bad IPv6 address or prefix";
		return -1;
	}
	record_set_key(out, &k);
	return 0;
}

/* Parses the address forms of ip4set (see feed.h) into [lo, hi]. */
static int parse_range(const char *s, size_t len, uint32_t *lo, uint32_t *hi, const char **msg)
{
	const char *slash = memchr(s, '/', len), *dash = memchr(s, '-', len);
	uint32_t a, b;
	unsigned na, nb;

	if (len == 0) {
		*msg = "missing address";
		return -1;
	}
	if (slash != NULL && dash != NULL) {
		*msg = "an address range cannot also have a /prefix length";
		return -1;
	}
	if (slash != NULL) {
		size_t alen = (size_t)(slash - s);
		int plen;
		if (addr4_parse_octets(s, alen, &a, &na) < 0) {
			*msg = "bad IPv4 address before '/'";
			return -1;
		}
		if ((plen = prefix_len_parse(slash + 1, len - alen - 1, 32)) < 0) {
			*msg = "bad prefix length (0 to 32)";
			return -1;
		}
		if (a & ~prefix4_mask((unsigned)plen)) {
			*msg = "address has bits set beyond the prefix length";
			return -1;
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
			return -1;
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
			return -1;
		}
		return 0;
	}
	if (addr4_parse_octets(s, len, &a, &na) < 0) {
		*msg = "bad IPv4 address";
		return -1;
	}
	*lo = a;
	*hi = a | (na == 4 ? 0 : 0xffffffffu >> (8 * na));
	return 0;
}

/* Appends [s, s+n) to out; false when it would pass STORE_TXT_MAX. */
static bool put(char *out, size_t *olen, const char *s, size_t n)
{
	if (*olen + n > STORE_TXT_MAX)
		return false;
	memcpy(out + *olen, s, n);
	*olen += n;
	return true;
}

/* Expands $0-$9 (and $= with eq, when given) in text; "$$" and a lone "$" stay for
 * the responder. */
static int expand(const struct rbldnsd_state *st, const char *text, size_t len,
		  const char *eq, size_t eqlen, char *out, size_t *olen, const char **msg)
{
	*olen = 0;
	for (size_t i = 0; i < len; i++) {
		bool ok;
		if (text[i] != '$' || i + 1 == len) {
			ok = put(out, olen, text + i, 1);
		} else if (text[i + 1] == '$') {
			ok = put(out, olen, "$$", 2);
			i++;
		} else if (text[i + 1] >= '0' && text[i + 1] <= '9') {
			unsigned n = (unsigned)(text[i + 1] - '0');
			if (st->var_len[n] == 0) {
				*msg = "TXT uses an undefined substitution variable";
				return -1;
			}
			ok = put(out, olen, st->var[n], st->var_len[n]);
			i++;
		} else if (text[i + 1] == '=' && eq != NULL) {
			ok = put(out, olen, eq, eqlen);
			i++;
		} else {
			ok = put(out, olen, text + i, 1);
		}
		if (!ok) {
			*msg = "TXT longer than 1024 bytes";
			return -1;
		}
	}
	return 0;
}

/* Parses an A value: an IPv4 address or the last octet of 127.0.0.x. */
static int parse_a(const char *s, size_t len, uint32_t *a, const char **msg)
{
	int o = addr4_octet_parse(s, len);

	if (o >= 0) {
		*a = 0x7f000000u | (uint32_t)o;
		return 0;
	}
	if (addr4_parse(s, len, a) < 0) {
		*msg = "bad A value (an IPv4 address or a number 0-255)";
		return -1;
	}
	if ((*a >> 24) != 127) {
		*msg = "A value not in 127.0.0.0/8 (RFC 5782)";
		return -1;
	}
	return 0;
}

/* Parses a value (":A:TXT", ":A", ":A:", "TXT") into flags/a/txt. Texts are not yet
 * expanded. *txt points into s. */
struct raw_value {
	uint8_t flags;
	uint32_t a;
	const char *txt;
	size_t txt_len;
};

static int parse_value(const char *s, size_t len, struct raw_value *v, const char **msg)
{
	memset(v, 0, sizeof(*v));
	if (len == 0)
		return 0;
	if (s[0] != ':') {
		v->flags = STORE_F_TXT;
		v->txt = s;
		v->txt_len = len;
		return 0;
	}
	const char *colon = memchr(s + 1, ':', len - 1);
	size_t alen = colon ? (size_t)(colon - s - 1) : len - 1;
	const char *as = s + 1;
	trim(&as, &alen);
	if (alen > 0) {
		if (parse_a(as, alen, &v->a, msg) < 0)
			return -1;
		v->flags |= STORE_F_A;
	} else if (colon != NULL) {
		/* "::x" is no A at all: most likely an IPv6 line in an IPv4 file */
		*msg = "empty A value (an IPv6 address in an IPv4 list?)";
		return -1;
	}
	if (colon != NULL) {
		const char *t = colon + 1;
		size_t tlen = len - (size_t)(t - s);
		while (tlen > 0 && (t[0] == ' ' || t[0] == '\t')) {
			t++;
			tlen--;
		}
		if (tlen == 0) {
			v->flags |= STORE_F_NOTXT;
		} else {
			v->flags |= STORE_F_TXT;
			v->txt = t;
			v->txt_len = tlen;
		}
	}
	return 0;
}

static enum feed_line special_line(struct rbldnsd_state *st, const char *s, size_t len,
				   const char **msg)
{
	/* s points just past the '$' */
	size_t wlen = 0;
	while (wlen < len && !is_blank(s[wlen]))
		wlen++;
	const char *rest = s + wlen;
	size_t rlen = len - wlen;
	trim(&rest, &rlen);

	if (wlen == 1 && s[0] >= '0' && s[0] <= '9') {
		unsigned n = (unsigned)(s[0] - '0');
		if (rlen == 0) {
			*msg = "substitution variable without a value";
			return FEED_LINE_ERROR;
		}
		if (rlen >= sizeof(st->var[0])) {
			*msg = "substitution variable longer than 255 bytes";
			return FEED_LINE_ERROR;
		}
		memcpy(st->var[n], rest, rlen);
		st->var[n][rlen] = '\0';
		st->var_len[n] = rlen;
		return FEED_LINE_SKIP;
	}
	if (wlen == 1 && s[0] == '=') {
		if (rlen > STORE_TXT_MAX) {
			*msg = "base template longer than 1024 bytes";
			return FEED_LINE_ERROR;
		}
		memcpy(st->base, rest, rlen);
		st->base_len = rlen;
		st->has_base = rlen > 0;
		return FEED_LINE_SKIP;
	}
#define IS(word) (wlen == sizeof(word) - 1 && memcmp(s, word, wlen) == 0)
	if (IS("SOA")) {
		*msg = "$SOA ignored: the zone's soa comes from the config file";
		return FEED_LINE_NOTICE;
	}
	if (IS("NS")) {
		*msg = "$NS ignored: the zone's ns comes from the config file";
		return FEED_LINE_NOTICE;
	}
	if (IS("TTL")) {
		*msg = "$TTL ignored: the zone's ttl comes from the config file";
		return FEED_LINE_NOTICE;
	}
	if (IS("TIMESTAMP") || IS("MAXRANGE4") || IS("DATASET")) {
		*msg = "directive ignored: not supported by dnsbl-loader";
		return FEED_LINE_NOTICE;
	}
#undef IS
	*msg = "unknown $ directive";
	return FEED_LINE_ERROR;
}

/* Resolves the raw value against the file default and the base template. */
static int resolve_value(const struct rbldnsd_state *st, const struct raw_value *v,
			 const char *ip_text, struct feed_record *out, const char **msg)
{
	const char *text = NULL;
	size_t tlen = 0;
	bool own_text = false;

	out->flags = 0;
	if (v->flags & STORE_F_A) {
		out->flags |= STORE_F_A;
		out->a = v->a;
	} else if (st->has_default && (st->def_flags & STORE_F_A)) {
		out->flags |= STORE_F_A;
		out->a = st->def_a;
	}
	if (v->flags & STORE_F_NOTXT) {
		out->flags |= STORE_F_NOTXT;
		return 0;
	}
	if (v->flags & STORE_F_TXT) {
		text = v->txt;
		tlen = v->txt_len;
		own_text = true;
	} else if (st->has_default && (st->def_flags & STORE_F_NOTXT)) {
		out->flags |= STORE_F_NOTXT;
		return 0;
	} else if (st->has_default && (st->def_flags & STORE_F_TXT)) {
		text = st->def_txt;
		tlen = st->def_txt_len;
	}
	if (own_text && tlen > 0 && text[0] == '=') {
		/* "=text": this entry opts out of the base template */
		text++;
		tlen--;
	} else if (st->has_base) {
		if (text == NULL) {
			text = ip_text;
			tlen = strlen(ip_text);
		}
		if (expand(st, st->base, st->base_len, text, tlen, out->txt, &out->txt_len, msg) < 0)
			return -1;
		char tmp[STORE_TXT_MAX + 1];
		memcpy(tmp, out->txt, out->txt_len);
		if (expand(st, tmp, out->txt_len, NULL, 0, out->txt, &out->txt_len, msg) < 0)
			return -1;
		out->flags |= STORE_F_TXT;
		return 0;
	}
	if (text == NULL)
		return 0; /* the zone's default TXT */
	if (expand(st, text, tlen, NULL, 0, out->txt, &out->txt_len, msg) < 0)
		return -1;
	out->flags |= STORE_F_TXT;
	return 0;
}

enum feed_line rbldnsd_parse_line(struct rbldnsd_state *st, const char *line, size_t len,
				  struct feed_record *out, const char **msg)
{
	struct raw_value v;

	*msg = NULL;
	trim(&line, &len);
	if (len == 0)
		return FEED_LINE_SKIP;
	if ((line[0] == '#' || line[0] == ';' || line[0] == ':') && len > 1 && line[1] == '$')
		return special_line(st, line + 2, len - 2, msg);
	if (line[0] == '#' || line[0] == ';')
		return FEED_LINE_SKIP;
	if (line[0] == '$')
		return special_line(st, line + 1, len - 1, msg);
	if (line[0] == ':' && !(len > 1 && line[1] == ':')) {
		/* a default value (but "::1" is an IPv6 address) */
		if (parse_value(line, len, &v, msg) < 0)
			return FEED_LINE_ERROR;
		if (v.txt_len > STORE_TXT_MAX) {
			*msg = "TXT longer than 1024 bytes";
			return FEED_LINE_ERROR;
		}
		st->has_default = true;
		st->def_flags = v.flags;
		st->def_a = v.a;
		st->def_txt_len = v.txt_len;
		memcpy(st->def_txt, v.txt ? v.txt : "", v.txt_len);
		st->def_txt[v.txt_len] = '\0';
		return FEED_LINE_SKIP;
	}

	memset(out, 0, sizeof(*out));
	if (line[0] == '!') {
		out->exclude = true;
		line++;
		len--;
		trim(&line, &len);
	}
	size_t alen = 0, tlen = 0;
	while (tlen < len && !is_blank(line[tlen]) && line[tlen] != '#' && line[tlen] != ';')
		tlen++;
	if (st->keys == FEED_KEYS_NAME) {
		/* dnset: a name ends at a blank or at its value's ':' */
		while (alen < tlen && line[alen] != ':')
			alen++;
		if (record_key(FEED_KEYS_NAME, line, alen, out, msg) < 0)
			return FEED_LINE_ERROR;
	} else if (memchr(line, ':', tlen) != NULL && memchr(line, '-', tlen) == NULL &&
		   parse_ip6(line, tlen, out, msg) == 0) {
		/* ip6trie, ip6tset: the whole first word (a value follows a blank) */
		alen = tlen;
	} else {
		while (alen < len && ((line[alen] >= '0' && line[alen] <= '9') || line[alen] == '.' ||
				      line[alen] == '/' || line[alen] == '-'))
			alen++;
		unsigned colons = 0;
		bool hexish = true;
		for (size_t i = 0; i < tlen; i++) {
			colons += line[i] == ':';
			hexish = hexish && (line[i] == ':' || line[i] == '/' ||
					    (line[i] >= '0' && line[i] <= '9') ||
					    ((line[i] | 0x20) >= 'a' && (line[i] | 0x20) <= 'f'));
		}
		if ((colons >= 3 && hexish) ||
		    (colons >= 2 && memchr(line, '.', tlen) == NULL && line[alen] == ':' &&
		     (alen == 0 || parse_range(line, alen, &out->lo, &out->hi, msg) < 0))) {
			/* "fe80::x", "2001:zz::1", "1:2:3:4:5:6:7:8:9": no IPv4 key with a
			 * value glued to it, but a bad IPv6 address */
			*msg = "bad IPv6 address or prefix";
			return FEED_LINE_ERROR;
		}
		if (alen < len && !is_blank(line[alen]) && line[alen] != ':' && line[alen] != '#' &&
		    line[alen] != ';') {
			*msg = "not an IPv4 address, prefix or range";
			return FEED_LINE_ERROR;
		}
		if (parse_range(line, alen, &out->lo, &out->hi, msg) < 0)
			return FEED_LINE_ERROR;
		out->family = ADDR_FAMILY_V4;
	}
	if (out->exclude)
		return FEED_LINE_RECORD; /* an exclusion's value is ignored */

	const char *val = line + alen;
	size_t vlen = len - alen;
	trim(&val, &vlen);
	if (vlen > 0 && (val[0] == '#' || val[0] == ';'))
		vlen = 0;
	if (parse_value(val, vlen, &v, msg) < 0)
		return FEED_LINE_ERROR;
	if (resolve_value(st, &v, "$", out, msg) < 0)
		return FEED_LINE_ERROR;
	if ((out->flags & STORE_F_TXT) && txt_template_check(out->txt, out->txt_len) < 0) {
		*msg = "TXT has more than 16 '$' substitutions";
		return FEED_LINE_ERROR;
	}
	return FEED_LINE_RECORD;
}

enum feed_line plain_parse_line(enum feed_keys keys, const char *line, size_t len,
				struct feed_record *out, const char **msg)
{
	size_t alen = 0;

	*msg = NULL;
	trim(&line, &len);
	if (len == 0 || line[0] == '#' || line[0] == ';')
		return FEED_LINE_SKIP;
	memset(out, 0, sizeof(*out));
	if (line[0] == '!') {
		out->exclude = true;
		line++;
		len--;
	}
	while (alen < len && !is_blank(line[alen]) && line[alen] != '#' && line[alen] != ';')
		alen++;
	const char *rest = line + alen;
	size_t rlen = len - alen;
	trim(&rest, &rlen);
	if (rlen > 0 && rest[0] != '#' && rest[0] != ';') {
		*msg = "unexpected text after the address (plain format: one address or CIDR per line)";
		return FEED_LINE_ERROR;
	}
	if (record_key(keys, line, alen, out, msg) < 0)
		return FEED_LINE_ERROR;
	return FEED_LINE_RECORD;
}

/* --- trap feeds: csv and jsonl --- */

#define FEED_LINE_MAX 8192

int feed_time_parse(const char *s, size_t len, uint32_t *out)
{
	return time_parse(s, len, out);
}

int feed_duration_parse(const char *s, size_t len, uint32_t *out)
{
	return duration_parse(s, len, UINT32_MAX, out);
}

static const char *const column_names[FEED_COL_COUNT] = {
	[FEED_COL_IP] = "ip",
	[FEED_COL_TIMESTAMP] = "timestamp",
	[FEED_COL_REASON] = "reason",
	[FEED_COL_SOURCE] = "source",
	[FEED_COL_CODE] = "code",
	[FEED_COL_TXT] = "txt",
	[FEED_COL_TTL] = "ttl",
	[FEED_COL_FIRST_SEEN] = "first_seen",
	[FEED_COL_LAST_SEEN] = "last_seen",
	[FEED_COL_HITS] = "hits",
	[FEED_COL_EXPIRES] = "expires",
	[FEED_COL_NO_TXT] = "no_txt",
};

static int column_find(const char *name, size_t len)
{
	if (len == 4 && strncasecmp(name, "name", 4) == 0)
		return FEED_COL_IP; /* the key column, as domain lists call it */
	for (int i = 0; i < FEED_COL_COUNT; i++) {
		const char *c = column_names[i];
		if (strlen(c) == len && strncasecmp(c, name, len) == 0)
			return i;
	}
	return -1;
}

bool feed_source_valid(const char *s, size_t len)
{
	return store_name_valid(s, len);
}

/* Sets one known field of out from its text (exactly len bytes; empty = absent). */
static int apply_field(enum feed_keys keys, int col, const char *v, size_t len,
		       struct feed_record *out, const char **msg)
{
	uint32_t u;
	int rc;

	/* a TXT is trimmed too: no list format (rbldnsd's) could carry its edges */
	if (col != FEED_COL_IP && col != FEED_COL_REASON)
		trim(&v, &len);
	if (len == 0 && col != FEED_COL_IP)
		return 0;
	for (size_t i = 0; i < len; i++) {
		/* texts end up in one-line outputs (exports, history, TXT answers);
		 * a tab is kept */
		if (((unsigned char)v[i] < 0x20 && v[i] != '\t') || v[i] == 0x7f) {
			*msg = v[i] == '\0' ? "a field contains a NUL byte"
					    : "a field contains a control character";
			return -1;
		}
	}
	switch (col) {
	case FEED_COL_IP:
		trim(&v, &len);
		if (len > 0 && v[0] == '!') {
			out->exclude = true;
			v++;
			len--;
		}
		if (len == 0) {
			*msg = keys == FEED_KEYS_NAME ? "empty name" : "empty ip";
			return -1;
		}
		return record_key(keys, v, len, out, msg);
	case FEED_COL_TIMESTAMP:
	case FEED_COL_FIRST_SEEN:
	case FEED_COL_LAST_SEEN:
		if (time_parse(v, len, &u) < 0) {
			*msg = col == FEED_COL_TIMESTAMP ? "timestamp: not RFC 3339 or unix seconds"
			       : col == FEED_COL_FIRST_SEEN ? "first_seen: not RFC 3339 or unix seconds"
							    : "last_seen: not RFC 3339 or unix seconds";
			return -1;
		}
		if (col == FEED_COL_TIMESTAMP) {
			out->time = u;
			out->have |= FEED_HAVE_TIME;
		} else if (col == FEED_COL_FIRST_SEEN) {
			out->first_seen = u;
			out->have |= FEED_HAVE_FIRST;
		} else {
			out->last_seen = u;
			out->have |= FEED_HAVE_LAST;
		}
		return 0;
	case FEED_COL_EXPIRES:
		if (len == 1 && v[0] == '0') {
			u = 0;
		} else if (time_parse(v, len, &u) < 0) {
			*msg = "expires: not RFC 3339, unix seconds or 0 (never)";
			return -1;
		}
		out->expires = u;
		out->have |= FEED_HAVE_EXPIRES;
		return 0;
	case FEED_COL_REASON:
		if (len > STORE_REASON_MAX) {
			*msg = "reason longer than 255 bytes";
			return -1;
		}
		memcpy(out->reason, v, len);
		out->reason[len] = '\0';
		out->reason_len = len;
		out->have |= FEED_HAVE_REASON;
		return 0;
	case FEED_COL_SOURCE:
		if (!feed_source_valid(v, len)) {
			*msg = "source: 1 to 64 letters, digits or . _ - + @";
			return -1;
		}
		memcpy(out->source, v, len);
		out->source[len] = '\0';
		out->source_len = len;
		out->have |= FEED_HAVE_SOURCE;
		return 0;
	case FEED_COL_CODE:
		if (memchr(v, '.', len) != NULL) {
			if (addr4_parse(v, len, &u) < 0) {
				*msg = "code: not an IPv4 address or a number";
				return -1;
			}
		} else {
			if ((rc = addr4_octet_parse(v, len)) < 0) {
				*msg = "code: not an IPv4 address or a number from 0 to 255";
				return -1;
			}
			u = 0x7f000000u | (uint32_t)rc;
		}
		if ((u >> 24) != 127) {
			*msg = "code: not in 127.0.0.0/8 (RFC 5782)";
			return -1;
		}
		out->a = u;
		out->flags |= STORE_F_A;
		return 0;
	case FEED_COL_TXT:
		if (len > STORE_TXT_MAX || txt_template_check(v, len) < 0) {
			*msg = "txt: longer than 1024 bytes or more than 16 '$'";
			return -1;
		}
		memcpy(out->txt, v, len);
		out->txt[len] = '\0';
		out->txt_len = len;
		out->flags |= STORE_F_TXT;
		return 0;
	case FEED_COL_TTL:
		if (duration_parse(v, len, UINT32_MAX, &u) < 0 || u == 0) {
			*msg = "ttl: not a duration above 0 (seconds, or with s/m/h/d/w)";
			return -1;
		}
		out->ttl = u;
		out->have |= FEED_HAVE_TTL;
		return 0;
	case FEED_COL_NO_TXT:
		if (len == 1 && (v[0] == '0' || v[0] == '1')) {
			if (v[0] == '1')
				out->flags |= STORE_F_NOTXT;
			return 0;
		}
		*msg = "no_txt: not 0 or 1";
		return -1;
	case FEED_COL_HITS: {
		uint64_t h = 0;
		if (len > 10) {
			*msg = "hits: not a number from 1 to 4294967295";
			return -1;
		}
		for (size_t i = 0; i < len; i++) {
			if (v[i] < '0' || v[i] > '9') {
				*msg = "hits: not a number from 1 to 4294967295";
				return -1;
			}
			h = h * 10 + (uint64_t)(v[i] - '0');
		}
		if (h == 0 || h > UINT32_MAX) {
			*msg = "hits: not a number from 1 to 4294967295";
			return -1;
		}
		out->hits = (uint32_t)h;
		out->have |= FEED_HAVE_HITS;
		return 0;
	}
	default:
		return 0;
	}
}

/* Resets the parts of a record that a line sets (the text buffers stay). */
static void record_clear(struct feed_record *out)
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

void csv_state_init(struct csv_state *st, enum feed_keys keys)
{
	memset(st, 0, sizeof(*st));
	st->keys = keys;
	for (int i = 0; i < FEED_COL_COUNT; i++)
		st->col[i] = -1;
}

/* Splits an RFC 4180 line into fields, unquoting into buf (at least len bytes).
 * Returns the number of fields or -1 (*msg set). */
static int csv_split(const char *line, size_t len, char *buf, const char **field,
		     size_t *flen, const char **msg)
{
	size_t i = 0, o = 0;
	int n = 0;

	for (;;) {
		if (n == CSV_MAX_FIELDS) {
			*msg = "more than 64 fields";
			return -1;
		}
		field[n] = buf + o;
		size_t start = o;
		if (i < len && line[i] == '"') {
			i++;
			for (;;) {
				if (i == len) {
					*msg = "unterminated quoted field";
					return -1;
				}
				if (line[i] == '"') {
					if (i + 1 < len && line[i + 1] == '"') {
						buf[o++] = '"';
						i += 2;
						continue;
					}
					i++;
					break;
				}
				buf[o++] = line[i++];
			}
			if (i < len && line[i] != ',') {
				*msg = "text after a closing quote";
				return -1;
			}
		} else {
			while (i < len && line[i] != ',') {
				if (line[i] == '"') {
					*msg = "a quote inside an unquoted field";
					return -1;
				}
				buf[o++] = line[i++];
			}
		}
		flen[n++] = o - start;
		if (i == len)
			return n;
		i++; /* the comma */
	}
}

static bool line_blank(const char *line, size_t len)
{
	trim(&line, &len);
	return len == 0;
}

enum feed_line csv_parse_line(struct csv_state *st, const char *line, size_t len,
			      struct feed_record *out, const char **msg)
{
	char buf[FEED_LINE_MAX];
	const char *field[CSV_MAX_FIELDS];
	size_t flen[CSV_MAX_FIELDS];
	int n;

	*msg = NULL;
	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (line_blank(line, len) || line[0] == '#')
		return FEED_LINE_SKIP;
	if (len > FEED_LINE_MAX) {
		*msg = "line longer than 8192 bytes";
		return FEED_LINE_ERROR;
	}
	if ((n = csv_split(line, len, buf, field, flen, msg)) < 0)
		return FEED_LINE_ERROR;
	if (!st->have_header) {
		for (int i = 0; i < n; i++) {
			const char *f = field[i];
			size_t fl = flen[i];
			trim(&f, &fl);
			int c = column_find(f, fl);
			if (c < 0)
				continue; /* a column we do not use */
			if (st->col[c] >= 0) {
				*msg = "header: a column appears twice";
				csv_state_init(st, st->keys);
				return FEED_LINE_ERROR;
			}
			st->col[c] = i;
		}
		if (st->col[FEED_COL_IP] < 0) {
			*msg = "header: no 'ip' (or 'name') column";
			csv_state_init(st, st->keys);
			return FEED_LINE_ERROR;
		}
		st->nfields = (unsigned)n;
		st->have_header = true;
		return FEED_LINE_SKIP;
	}
	if ((unsigned)n != st->nfields) {
		static char text[80];
		snprintf(text, sizeof(text), "%d fields, the header has %u", n, st->nfields);
		*msg = text;
		return FEED_LINE_ERROR;
	}
	record_clear(out);
	for (int c = 0; c < FEED_COL_COUNT; c++) {
		int i = st->col[c];
		if (i >= 0 && apply_field(st->keys, c, field[i], flen[i], out, msg) < 0)
			return FEED_LINE_ERROR;
	}
	return FEED_LINE_RECORD;
}

enum feed_line jsonl_parse_line(enum feed_keys keys, const char *line, size_t len,
				struct feed_record *out, const char **msg)
{
	json_error_t jerr;
	json_t *obj, *val;
	const char *key;
	enum feed_line result = FEED_LINE_RECORD;
	bool have_ip = false;

	*msg = NULL;
	if (line_blank(line, len))
		return FEED_LINE_SKIP;
	if (len > FEED_LINE_MAX) {
		*msg = "line longer than 8192 bytes";
		return FEED_LINE_ERROR;
	}
	obj = json_loadb(line, len, 0, &jerr);
	if (obj == NULL) {
		*msg = "not valid JSON";
		return FEED_LINE_ERROR;
	}
	if (!json_is_object(obj)) {
		json_decref(obj);
		*msg = "not a JSON object";
		return FEED_LINE_ERROR;
	}
	record_clear(out);
	json_object_foreach(obj, key, val) {
		int col = column_find(key, strlen(key));
		char num[24];
		const char *text;
		size_t tlen;
		if (col < 0 || json_is_null(val))
			continue;
		if (json_is_string(val)) {
			text = json_string_value(val);
			tlen = json_string_length(val);
		} else if (json_is_integer(val) && col != FEED_COL_IP && col != FEED_COL_REASON &&
			   col != FEED_COL_SOURCE && col != FEED_COL_TXT) {
			json_int_t iv = json_integer_value(val);
			if (iv < 0) {
				*msg = "a negative number";
				result = FEED_LINE_ERROR;
				break;
			}
			tlen = (size_t)snprintf(num, sizeof(num), "%lld", (long long)iv);
			text = num;
		} else {
			static char m[64];
			/* the member as written: "name" and "ip" are both the key */
			snprintf(m, sizeof(m), "%.32s: wrong JSON type", key);
			*msg = m;
			result = FEED_LINE_ERROR;
			break;
		}
		if (col == FEED_COL_IP)
			have_ip = true;
		if (apply_field(keys, col, text, tlen, out, msg) < 0) {
			result = FEED_LINE_ERROR;
			break;
		}
	}
	json_decref(obj);
	if (result == FEED_LINE_RECORD && !have_ip) {
		*msg = keys == FEED_KEYS_NAME ? "no \"name\" member" : "no \"ip\" member";
		result = FEED_LINE_ERROR;
	}
	return result;
}
