#include "feed.h"

#include <string.h>

#include "addr.h"
#include "err.h"
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

void rbldnsd_state_init(struct rbldnsd_state *st)
{
	memset(st, 0, sizeof(*st));
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
	if (line[0] == ':') {
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
	size_t alen = 0;
	while (alen < len && ((line[alen] >= '0' && line[alen] <= '9') || line[alen] == '.' ||
			      line[alen] == '/' || line[alen] == '-'))
		alen++;
	if (alen < len && !is_blank(line[alen]) && line[alen] != ':' && line[alen] != '#' &&
	    line[alen] != ';') {
		*msg = "not an IPv4 address, prefix or range";
		return FEED_LINE_ERROR;
	}
	if (parse_range(line, alen, &out->lo, &out->hi, msg) < 0)
		return FEED_LINE_ERROR;
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

enum feed_line plain_parse_line(const char *line, size_t len, struct feed_record *out,
				const char **msg)
{
	struct ip_prefix p;
	size_t alen = 0;
	int rc;

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
	rc = prefix4_parse(line, alen, &p);
	if (rc == DNSBL_EHOSTBITS) {
		*msg = "address has bits set beyond the prefix length";
		return FEED_LINE_ERROR;
	}
	if (rc < 0) {
		*msg = "not an IPv4 address or CIDR prefix";
		return FEED_LINE_ERROR;
	}
	out->lo = prefix4_addr(&p);
	out->hi = out->lo | ~prefix4_mask(p.len);
	return FEED_LINE_RECORD;
}
