/* rbldnsd data files (ip4set, ip4trie, ip6trie, ip6tset, dnset): directives, the
 * file's default value, $0-$9 and $= templates, and each line's key and value (see
 * feed.h). The key forms themselves are read in feed_key.c. */
#include "feed.h"

#include <string.h>

#include "addr.h"
#include "err.h"
#include "feed_key.h"
#include "txt.h"

void rbldnsd_state_init(struct rbldnsd_state *st, enum feed_keys keys)
{
	memset(st, 0, sizeof(*st));
	st->keys = keys;
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
	int rc = feed_a_parse(s, len, a);

	if (rc == DNSBL_ERANGE)
		*msg = "A value not in 127.0.0.0/8 (RFC 5782)";
	else if (rc < 0)
		*msg = "bad A value (an IPv4 address or a number 0-255)";
	return rc < 0 ? -1 : 0;
}

/* A value as the line writes it, before the file's default and templates apply. */
struct raw_value {
	uint8_t flags;
	uint32_t a;
	const char *txt;
	size_t txt_len;
};

/* Parses a value (":A:TXT", ":A", ":A:", "TXT") into flags/a/txt. Texts are not yet
 * expanded. *txt points into s. */
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
	feed_trim(&as, &alen);
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

/* A "$" line: $0-$9 and $= set templates, the zone directives are ignored (NOTICE). */
static enum feed_line special_line(struct rbldnsd_state *st, const char *s, size_t len,
				   const char **msg)
{
	/* s points just past the '$' */
	size_t wlen = 0;
	while (wlen < len && !feed_is_blank(s[wlen]))
		wlen++;
	const char *rest = s + wlen;
	size_t rlen = len - wlen;
	feed_trim(&rest, &rlen);

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

/* A default value line (":A:TXT" and its shorter forms) sets the file's default. */
static enum feed_line default_line(struct rbldnsd_state *st, const char *line, size_t len,
				   const char **msg)
{
	struct raw_value v;

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

/* Reads the IPv4 key (ip4set, ip4trie) at the start of line; tlen is the length of
 * its first word. *alen gets the key's length: a value may be glued to it. */
static int ip4_key(const char *line, size_t len, size_t tlen, struct feed_record *out,
		   size_t *alen, const char **msg)
{
	size_t n = 0;
	unsigned colons = 0;
	bool hexish = true;

	while (n < len && ((line[n] >= '0' && line[n] <= '9') || line[n] == '.' || line[n] == '/' ||
			   line[n] == '-'))
		n++;
	for (size_t i = 0; i < tlen; i++) {
		colons += line[i] == ':';
		hexish = hexish && (line[i] == ':' || line[i] == '/' ||
				    (line[i] >= '0' && line[i] <= '9') ||
				    ((line[i] | 0x20) >= 'a' && (line[i] | 0x20) <= 'f'));
	}
	if ((colons >= 3 && hexish) ||
	    (colons >= 2 && memchr(line, '.', tlen) == NULL && line[n] == ':' &&
	     (n == 0 || feed_range4_parse(line, n, &out->lo, &out->hi, msg) < 0))) {
		/* "fe80::x", "2001:zz::1", "1:2:3:4:5:6:7:8:9": no IPv4 key with a
		 * value glued to it, but a bad IPv6 address */
		*msg = "bad IPv6 address or prefix";
		return -1;
	}
	if (n < len && !feed_is_blank(line[n]) && line[n] != ':' && line[n] != '#' &&
	    line[n] != ';') {
		*msg = "not an IPv4 address, prefix or range";
		return -1;
	}
	if (feed_range4_parse(line, n, &out->lo, &out->hi, msg) < 0)
		return -1;
	out->family = ADDR_FAMILY_V4;
	*alen = n;
	return 0;
}

/* Reads the key of a data line (past its '!') into out; *alen gets its length. */
static int line_key(const struct rbldnsd_state *st, const char *line, size_t len,
		    struct feed_record *out, size_t *alen, const char **msg)
{
	size_t n = 0, tlen = 0;

	while (tlen < len && !feed_is_blank(line[tlen]) && line[tlen] != '#' && line[tlen] != ';')
		tlen++;
	if (st->keys == FEED_KEYS_NAME) {
		/* dnset: a name ends at a blank or at its value's ':' */
		while (n < tlen && line[n] != ':')
			n++;
		*alen = n;
		return feed_key_parse(FEED_KEYS_NAME, line, n, out, msg) < 0 ? -1 : 0;
	}
	if (memchr(line, ':', tlen) != NULL && memchr(line, '-', tlen) == NULL &&
	    feed_ip6_parse(line, tlen, out, msg) == 0) {
		/* ip6trie, ip6tset: the whole first word (a value follows a blank) */
		*alen = tlen;
		return 0;
	}
	return ip4_key(line, len, tlen, out, alen, msg);
}

/* Reads the value after a data line's key into out, against the file's state. */
static enum feed_line line_value(const struct rbldnsd_state *st, const char *val, size_t vlen,
				 struct feed_record *out, const char **msg)
{
	struct raw_value v;

	feed_trim(&val, &vlen);
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

enum feed_line rbldnsd_parse_line(struct rbldnsd_state *st, const char *line, size_t len,
				  struct feed_record *out, const char **msg)
{
	size_t alen = 0;

	*msg = NULL;
	feed_trim(&line, &len);
	if (len == 0)
		return FEED_LINE_SKIP;
	if ((line[0] == '#' || line[0] == ';' || line[0] == ':') && len > 1 && line[1] == '$')
		return special_line(st, line + 2, len - 2, msg);
	if (line[0] == '#' || line[0] == ';')
		return FEED_LINE_SKIP;
	if (line[0] == '$')
		return special_line(st, line + 1, len - 1, msg);
	if (line[0] == ':' && !(len > 1 && line[1] == ':'))
		return default_line(st, line, len, msg); /* but "::1" is an IPv6 address */

	memset(out, 0, sizeof(*out));
	if (line[0] == '!') {
		out->exclude = true;
		line++;
		len--;
		feed_trim(&line, &len);
	}
	if (line_key(st, line, len, out, &alen, msg) < 0)
		return FEED_LINE_ERROR;
	if (out->exclude)
		return FEED_LINE_RECORD; /* an exclusion's value is ignored */
	return line_value(st, line + alen, len - alen, out, msg);
}
