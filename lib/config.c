#include "config.h"
#include "config_impl.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <ldns/ldns.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "addr.h"
#include "err.h"
#include "store.h"
#include "timeutil.h"
#include "txt.h"


void problem(struct parse_ctx *c, int line, const char *fmt, ...)
{
	va_list ap;
	int n;

	c->errors++;
	if (c->errlen + 1 >= c->errsize)
		return;
	n = snprintf(c->err + c->errlen, c->errsize - c->errlen, "%s:%d: ", c->path, line);
	if (n > 0)
		c->errlen += (size_t)n;
	if (c->errlen + 1 >= c->errsize) {
		c->errlen = c->errsize - 1;
		return;
	}
	va_start(ap, fmt);
	n = vsnprintf(c->err + c->errlen, c->errsize - c->errlen, fmt, ap);
	va_end(ap);
	if (n > 0)
		c->errlen += (size_t)n;
	if (c->errlen + 1 >= c->errsize)
		c->errlen = c->errsize - 2;
	c->err[c->errlen++] = '\n';
	c->err[c->errlen] = '\0';
}

int dname_from_text(const char *s, struct dname *out)
{
	ldns_rdf *rdf = NULL;
	size_t n = strlen(s);

	/* ldns accepts "" and "@"-less relative names; we want real absolute names. */
	if (n == 0 || n > 254 || strstr(s, "..") != NULL || s[0] == '.' ||
	    strpbrk(s, " \t\\\"()") != NULL) {
		if (!(n == 1 && s[0] == '.'))
			return DNSBL_ESYNTAX;
	}
	if (ldns_str2rdf_dname(&rdf, s) != LDNS_STATUS_OK || rdf == NULL)
		return DNSBL_ESYNTAX;
	ldns_dname2canonical(rdf);
	if (ldns_rdf_size(rdf) > DNAME_WIRE_MAX) {
		ldns_rdf_deep_free(rdf);
		return DNSBL_ESYNTAX;
	}
	out->len = (uint8_t)ldns_rdf_size(rdf);
	memcpy(out->wire, ldns_rdf_data(rdf), out->len);
	ldns_rdf_deep_free(rdf);
	return 0;
}

int dname_to_text(const uint8_t *wire, size_t len, char *buf, size_t size)
{
	size_t pos = 0, out = 0;

	if (size == 0)
		return DNSBL_ENOSPC;
	while (pos < len && wire[pos] != 0) {
		size_t l = wire[pos++];
		if (pos + l > len)
			return DNSBL_ESYNTAX;
		if (out != 0) {
			if (out + 1 >= size)
				return DNSBL_ENOSPC;
			buf[out++] = '.';
		}
		for (size_t i = 0; i < l; i++) {
			unsigned char ch = wire[pos + i];
			if (isalnum(ch) || ch == '-' || ch == '_' || ch == '*') {
				if (out + 1 >= size)
					return DNSBL_ENOSPC;
				buf[out++] = (char)ch;
			} else {
				if (out + 4 >= size)
					return DNSBL_ENOSPC;
				out += (size_t)snprintf(buf + out, 5, "\\%03u", ch);
			}
		}
		pos += l;
	}
	buf[out] = '\0';
	return (int)out;
}

int config_parse_listen(const char *s, struct listen_addr *out)
{
	char host[64];
	const char *colon;
	size_t hlen;
	char *end;
	unsigned long port;

	memset(out, 0, sizeof(*out));
	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (close == NULL || close[1] != ':')
			return DNSBL_ESYNTAX;
		hlen = (size_t)(close - s - 1);
		if (hlen == 0 || hlen >= sizeof(host))
			return DNSBL_ESYNTAX;
		memcpy(host, s + 1, hlen);
		colon = close + 1;
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL)
			return DNSBL_ESYNTAX;
		hlen = (size_t)(colon - s);
		if (hlen == 0 || hlen >= sizeof(host))
			return DNSBL_ESYNTAX;
		memcpy(host, s, hlen);
	}
	host[hlen] = '\0';
	if (colon[1] < '0' || colon[1] > '9')
		return DNSBL_ESYNTAX;
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (errno != 0 || *end != '\0' || port == 0 || port > 65535)
		return DNSBL_ESYNTAX;

	struct sockaddr_in *sin = (struct sockaddr_in *)&out->ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&out->ss;
	if (s[0] != '[' && inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		out->sslen = sizeof(*sin);
	} else if (s[0] == '[' && inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		out->sslen = sizeof(*sin6);
	} else {
		return DNSBL_ESYNTAX;
	}
	snprintf(out->text, sizeof(out->text), "%s", s);
	return 0;
}

/* Splits value on blanks into at most max words (copied into buf). */
unsigned split_words(const char *value, char *buf, size_t bufsize, char **words,
			    unsigned max, bool *too_many)
{
	unsigned n = 0;
	char *p = buf;

	snprintf(buf, bufsize, "%s", value);
	*too_many = false;
	for (;;) {
		while (*p == ' ' || *p == '\t')
			*p++ = '\0';
		if (*p == '\0')
			break;
		if (n == max) {
			*too_many = true;
			break;
		}
		words[n++] = p;
		while (*p != '\0' && *p != ' ' && *p != '\t')
			p++;
	}
	return n;
}

/* Parses a duration: a number with an optional s/m/h/d/w suffix, at most max. */
static int parse_duration(const char *s, uint32_t max, uint32_t *out)
{
	return duration_parse(s, strlen(s), max, out);
}

int parse_uint(const char *s, unsigned min, unsigned max, unsigned *out)
{
	uint64_t v = 0;
	size_t n = strlen(s);

	if (n == 0 || n > 10)
		return DNSBL_ESYNTAX;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return DNSBL_ESYNTAX;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v < min || v > max)
		return DNSBL_ERANGE;
	*out = (unsigned)v;
	return 0;
}

/* Makes path absolute relative to the config file's directory. */
static void resolve_path(struct parse_ctx *c, const char *value, char *out, size_t size)
{
	size_t dlen = strlen(c->dir), vlen = strlen(value);

	if (value[0] == '/' || dlen == 0)
		dlen = 0;
	if (dlen + 1 + vlen >= size) {
		problem(c, c->line, "path too long");
		out[0] = '\0';
		return;
	}
	if (dlen > 0) {
		memcpy(out, c->dir, dlen);
		out[dlen++] = '/';
	}
	memcpy(out + dlen, value, vlen + 1);
}

static bool normalize_zone_name(const char *in, char *out, size_t size)
{
	size_t n = strlen(in);

	if (n > 0 && in[n - 1] == '.')
		n--; /* one trailing dot: the absolute form of the same name */
	if (n == 0 || n >= size || in[n - 1] == '.' || in[0] == '.' || memmem(in, n, "..", 2))
		return false;
	for (size_t i = 0; i < n; i++)
		out[i] = (char)tolower((unsigned char)in[i]);
	out[n] = '\0';
	return true;
}

static struct zone_config *zone_add(struct parse_ctx *c, const char *name, int line)
{
	struct config *cfg = c->cfg;
	struct zone_config *zones, *z;
	char norm[256];

	if (!normalize_zone_name(name, norm, sizeof(norm))) {
		problem(c, line, "bad zone name '%s'", name);
		return NULL;
	}
	for (unsigned i = 0; i < cfg->zone_count; i++) {
		if (strcmp(cfg->zones[i].name, norm) == 0) {
			problem(c, line, "duplicate zone '%s' (first defined at line %d)", norm,
				cfg->zones[i].line);
			return NULL;
		}
	}
	zones = realloc(cfg->zones, (cfg->zone_count + 1) * sizeof(*zones));
	if (zones == NULL) {
		problem(c, line, "out of memory");
		return NULL;
	}
	cfg->zones = zones;
	z = &zones[cfg->zone_count];
	memset(z, 0, sizeof(*z));
	snprintf(z->name, sizeof(z->name), "%s", norm);
	if (dname_from_text(norm, &z->apex) < 0) {
		problem(c, line, "bad zone name '%s'", name);
		return NULL;
	}
	z->type = ZONE_TYPE_IP;
	z->policy = ZONE_POLICY_BLOCK;
	z->ttl = 300;
	z->a = 0x7f000002;
	z->list_threshold = 1;
	z->list_window = 86400;
	z->line = line;
	cfg->zone_count++;
	return z;
}

/* The reader hands inih one line at a time so we know line numbers, and sees
 * section headers itself so duplicate and empty sections are noticed. */
static char *config_reader(char *str, int num, void *stream)
{
	struct parse_ctx *c = stream;

	for (;;) {
		if (fgets(str, num, c->fp) == NULL)
			return NULL;
		size_t n = strlen(str);
		bool complete = n > 0 && str[n - 1] == '\n';
		if (c->long_line) {
			/* rest of an over-long line: swallow it */
			if (complete)
				c->long_line = false;
			continue;
		}
		c->line++;
		if (!complete && !feof(c->fp)) {
			problem(c, c->line, "line longer than %d bytes", CONFIG_LINE_MAX - 3);
			c->long_line = true;
			continue;
		}
		const char *p = str;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '[') {
			const char *close = strchr(p, ']');
			if (close != NULL) {
				char sect[300];
				size_t len = (size_t)(close - p - 1);
				if (len >= sizeof(sect))
					len = sizeof(sect) - 1;
				memcpy(sect, p + 1, len);
				sect[len] = '\0';
				c->section_line = c->line;
				snprintf(c->cur_section, sizeof(c->cur_section), "%s", sect);
				c->nseen = 0;
				if (strcmp(sect, "server") == 0) {
					if (c->server_seen)
						problem(c, c->line, "duplicate section [server]");
					c->server_seen = true;
				} else if (strcmp(sect, "api") == 0) {
					if (c->api_seen)
						problem(c, c->line, "duplicate section [api]");
					c->api_seen = true;
				} else if (strncmp(sect, ZONE_PREFIX, strlen(ZONE_PREFIX)) == 0) {
					const char *zn = sect + strlen(ZONE_PREFIX);
					while (*zn == ' ')
						zn++;
					zone_add(c, zn, c->line);
				} else if (strncmp(sect, KEY_PREFIX, strlen(KEY_PREFIX)) == 0) {
					key_section_add(c, sect + strlen(KEY_PREFIX), c->line);
				} else {
					problem(c, c->line, "unknown section [%s] (expected [server], [api], [zone NAME] or [key NAME])", sect);
				}
			}
		}
		return str;
	}
}

static bool key_seen(struct parse_ctx *c, const char *name)
{
	for (unsigned i = 0; i < c->nseen; i++)
		if (strcmp(c->seen[i], name) == 0)
			return true;
	if (c->nseen < 32)
		snprintf(c->seen[c->nseen++], sizeof(c->seen[0]), "%s", name);
	return false;
}

static void parse_listen_list(struct parse_ctx *c, const char *value, struct listen_addr *out,
			      unsigned *count)
{
	char buf[CONFIG_LINE_MAX];
	char *words[CONFIG_MAX_LISTEN];
	bool too_many;
	unsigned n = split_words(value, buf, sizeof(buf), words, CONFIG_MAX_LISTEN, &too_many);

	if (n == 0) {
		problem(c, c->line, "listen: no address given");
		return;
	}
	if (too_many)
		problem(c, c->line, "listen: more than %d addresses", CONFIG_MAX_LISTEN);
	*count = 0;
	for (unsigned i = 0; i < n; i++) {
		if (config_parse_listen(words[i], &out[*count]) < 0) {
			problem(c, c->line, "listen: '%s' is not ADDRESS:PORT or [IPV6]:PORT",
				words[i]);
			continue;
		}
		(*count)++;
	}
}

static void handle_server(struct parse_ctx *c, const char *name, const char *value)
{
	struct config *cfg = c->cfg;
	int rc;

	if (strcmp(name, "db") == 0) {
		if (value[0] == '\0')
			problem(c, c->line, "db: empty path");
		resolve_path(c, value, cfg->db, sizeof(cfg->db));
	} else if (strcmp(name, "listen") == 0) {
		parse_listen_list(c, value, cfg->listen, &cfg->listen_count);
	} else if (strcmp(name, "threads") == 0) {
		if ((rc = parse_uint(value, 0, 256, &cfg->threads)) < 0)
			problem(c, c->line, "threads: '%s' is not a number from 0 to 256", value);
	} else if (strcmp(name, "tcp_idle_timeout") == 0) {
		uint32_t v;
		if (parse_duration(value, 3600, &v) < 0 || v == 0)
			problem(c, c->line, "tcp_idle_timeout: '%s' is not a duration from 1s to 1h", value);
		else
			cfg->tcp_idle_timeout = v;
	} else if (strcmp(name, "tcp_max_connections") == 0) {
		if (parse_uint(value, 1, 65536, &cfg->tcp_max_connections) < 0)
			problem(c, c->line, "tcp_max_connections: '%s' is not a number from 1 to 65536", value);
	} else if (strcmp(name, "history_keep") == 0) {
		if (parse_duration(value, 0x7fffffff, &cfg->history_keep) < 0)
			problem(c, c->line, "history_keep: '%s' is not a duration (0 = keep forever)", value);
	} else if (strcmp(name, "journal_size") == 0) {
		unsigned v;
		if (parse_uint(value, 0, 4000000000u, &v) < 0)
			problem(c, c->line, "journal_size: '%s' is not a number from 0 to 4000000000",
				value);
		else
			cfg->journal_size = v;
	} else if (!xfr_server_key(c, name, value)) {
		problem(c, c->line, "unknown key '%s' in [server]", name);
	}
}

static void handle_api(struct parse_ctx *c, const char *name, const char *value)
{
	struct config *cfg = c->cfg;

	if (strcmp(name, "listen") == 0)
		parse_listen_list(c, value, cfg->api_listen, &cfg->api_listen_count);
	else if (strcmp(name, "tokens") == 0)
		resolve_path(c, value, cfg->api_tokens, sizeof(cfg->api_tokens));
	else
		problem(c, c->line, "unknown key '%s' in [api]", name);
}

static void parse_soa(struct parse_ctx *c, struct zone_config *z, const char *value)
{
	char buf[CONFIG_LINE_MAX];
	char *w[7];
	bool too_many;
	unsigned n = split_words(value, buf, sizeof(buf), w, 7, &too_many);
	uint32_t *times[4] = { &z->soa_refresh, &z->soa_retry, &z->soa_expire, &z->soa_minimum };

	if (n != 6 || too_many) {
		problem(c, c->line, "soa: expected 'mname rname refresh retry expire minimum' (6 fields), got %u",
			too_many ? 7 : n);
		return;
	}
	if (dname_from_text(w[0], &z->soa_mname) < 0)
		problem(c, c->line, "soa: bad mname '%s'", w[0]);
	if (dname_from_text(w[1], &z->soa_rname) < 0)
		problem(c, c->line, "soa: bad rname '%s'", w[1]);
	for (unsigned i = 0; i < 4; i++)
		if (parse_duration(w[2 + i], 0x7fffffff, times[i]) < 0)
			problem(c, c->line, "soa: bad time '%s'", w[2 + i]);
}

static void zone_type(struct parse_ctx *c, struct zone_config *z, const char *value)
{
	if (strcmp(value, "ip") == 0)
		z->type = ZONE_TYPE_IP;
	else if (strcmp(value, "name") == 0)
		z->type = ZONE_TYPE_NAME;
	else if (strcmp(value, "combined") == 0)
		z->type = ZONE_TYPE_COMBINED;
	else
		problem(c, c->line, "type: '%s' is not ip, name or combined", value);
}

static void zone_policy(struct parse_ctx *c, struct zone_config *z, const char *value)
{
	if (strcmp(value, "block") == 0)
		z->policy = ZONE_POLICY_BLOCK;
	else if (strcmp(value, "allow") == 0)
		z->policy = ZONE_POLICY_ALLOW;
	else
		problem(c, c->line, "policy: '%s' is not block or allow", value);
}

static void zone_exempt(struct parse_ctx *c, struct zone_config *z, const char *value)
{
	if (!normalize_zone_name(value, z->exempt, sizeof(z->exempt)))
		problem(c, c->line, "exempt: bad zone name '%s'", value);
}

static void zone_ttl(struct parse_ctx *c, struct zone_config *z, const char *value)
{
	if (parse_duration(value, 0x7fffffff, &z->ttl) < 0)
		problem(c, c->line, "ttl: '%s' is not a duration (seconds, or with s/m/h/d/w)", value);
}

static void zone_a(struct parse_ctx *c, struct zone_config *z, const char *value)
{
	if (addr4_parse(value, strlen(value), &z->a) < 0)
		problem(c, c->line, "a: '%s' is not an IPv4 address", value);
	else if ((z->a >> 24) != 127)
		problem(c, c->line, "a: '%s' is not in 127.0.0.0/8 (RFC 5782)", value);
}

static void zone_txt(struct parse_ctx *c, struct zone_config *z, const char *value)
{
	if (txt_template_check(value, strlen(value)) < 0)
		problem(c, c->line, "txt: longer than %d bytes or more than %d '$'", TXT_TEMPLATE_MAX,
			TXT_SUBST_MAX);
	else
		snprintf(z->txt, sizeof(z->txt), "%s", value);
}

static void zone_expire_after(struct parse_ctx *c, struct zone_config *z, const char *value)
{
	if (parse_duration(value, 0x7fffffff, &z->expire_after) < 0)
		problem(c, c->line, "expire_after: '%s' is not a duration (0 = never)", value);
}

static void zone_list_threshold(struct parse_ctx *c, struct zone_config *z, const char *value)
{
	unsigned v;

	if (parse_uint(value, 1, STORE_THRESHOLD_MAX, &v) < 0)
		problem(c, c->line, "list_threshold: '%s' is not a number from 1 to %d", value,
			STORE_THRESHOLD_MAX);
	else
		z->list_threshold = v;
}

static void zone_list_window(struct parse_ctx *c, struct zone_config *z, const char *value)
{
	uint32_t v;

	if (parse_duration(value, 0x7fffffff, &v) < 0 || v == 0)
		problem(c, c->line, "list_window: '%s' is not a duration of at least 1s", value);
	else
		z->list_window = v;
}

static void zone_relist_after(struct parse_ctx *c, struct zone_config *z, const char *value)
{
	if (parse_duration(value, 0x7fffffff, &z->relist_after) < 0)
		problem(c, c->line, "relist_after: '%s' is not a duration", value);
}

static void zone_members(struct parse_ctx *c, struct zone_config *z, const char *value)
{
	char buf[CONFIG_LINE_MAX];
	char *w[CONFIG_MAX_MEMBERS];
	bool too_many;
	unsigned n = split_words(value, buf, sizeof(buf), w, CONFIG_MAX_MEMBERS, &too_many);

	if (n == 0)
		problem(c, c->line, "members: no zone given");
	if (too_many)
		problem(c, c->line, "members: more than %d zones", CONFIG_MAX_MEMBERS);
	z->member_count = 0;
	for (unsigned i = 0; i < n; i++) {
		if (!normalize_zone_name(w[i], z->members[z->member_count], sizeof(z->members[0])))
			problem(c, c->line, "members: bad zone name '%s'", w[i]);
		else
			z->member_count++;
	}
}

static void zone_ns(struct parse_ctx *c, struct zone_config *z, const char *value)
{
	char buf[CONFIG_LINE_MAX];
	char *w[CONFIG_MAX_NS];
	bool too_many;
	unsigned n = split_words(value, buf, sizeof(buf), w, CONFIG_MAX_NS, &too_many);

	if (n == 0)
		problem(c, c->line, "ns: no name given");
	if (too_many)
		problem(c, c->line, "ns: more than %d names", CONFIG_MAX_NS);
	z->ns_count = 0;
	for (unsigned i = 0; i < n; i++) {
		if (dname_from_text(w[i], &z->ns[z->ns_count]) < 0)
			problem(c, c->line, "ns: bad name '%s'", w[i]);
		else
			z->ns_count++;
	}
}

/* The keys of a [zone NAME] section and what reads each. */
static const struct {
	const char *key;
	void (*parse)(struct parse_ctx *c, struct zone_config *z, const char *value);
} zone_keys[] = {
	{ "type", zone_type },
	{ "policy", zone_policy },
	{ "exempt", zone_exempt },
	{ "ttl", zone_ttl },
	{ "a", zone_a },
	{ "txt", zone_txt },
	{ "expire_after", zone_expire_after },
	{ "list_threshold", zone_list_threshold },
	{ "list_window", zone_list_window },
	{ "relist_after", zone_relist_after },
	{ "soa", parse_soa },
	{ "members", zone_members },
	{ "ns", zone_ns },
	{ "allow_transfer", zone_allow_transfer },
	{ "notify", zone_notify },
	{ "transfer_key", zone_transfer_key },
	{ "transfer_record_limit", zone_transfer_record_limit },
};

static void handle_zone(struct parse_ctx *c, struct zone_config *z, const char *name,
			const char *value)
{
	for (size_t i = 0; i < sizeof(zone_keys) / sizeof(zone_keys[0]); i++) {
		if (strcmp(name, zone_keys[i].key) == 0) {
			zone_keys[i].parse(c, z, value);
			return;
		}
	}
	problem(c, c->line, "unknown key '%s' in [zone %s]", name, z->name);
}

static int config_handler(void *user, const char *section, const char *name, const char *value)
{
	struct parse_ctx *c = user;

	if (key_seen(c, name)) {
		problem(c, c->line, "duplicate key '%s'", name);
		return 1;
	}
	if (strcmp(section, "server") == 0) {
		handle_server(c, name, value);
	} else if (strcmp(section, "api") == 0) {
		handle_api(c, name, value);
	} else if (strncmp(section, ZONE_PREFIX, strlen(ZONE_PREFIX)) == 0) {
		/* keys belong to the zone added when its header was read; a duplicate or
		 * bad header added none, and its keys were reported there */
		struct config *cfg = c->cfg;
		if (cfg->zone_count > 0 && cfg->zones[cfg->zone_count - 1].line == c->section_line)
			handle_zone(c, &cfg->zones[cfg->zone_count - 1], name, value);
	} else if (strncmp(section, KEY_PREFIX, strlen(KEY_PREFIX)) == 0) {
		key_section_key(c, name, value);
	} else if (section[0] == '\0') {
		problem(c, c->line, "key '%s' outside any section", name);
	}
	/* unknown sections were reported by the reader */
	return 1;
}

/* A combined zone answers with its members' entries: they must exist, hold
 * entries of one type, and not be combined themselves. */
static void check_members(struct parse_ctx *c, const struct zone_config *z)
{
	const struct config *cfg = c->cfg;
	int type = -1;

	if (z->type != ZONE_TYPE_COMBINED) {
		if (z->member_count > 0)
			problem(c, z->line, "zone %s: members is only for type = combined", z->name);
		return;
	}
	if (z->member_count == 0)
		problem(c, z->line, "zone %s: type = combined needs members", z->name);
	if (z->exempt[0] != '\0')
		problem(c, z->line,
			"zone %s: a combined zone has no exempt list (set it on the members)",
			z->name);
	for (unsigned i = 0; i < z->member_count; i++) {
		const struct zone_config *m = config_zone(cfg, z->members[i]);
		if (m == NULL) {
			problem(c, z->line, "zone %s: member zone '%s' is not defined", z->name,
				z->members[i]);
			continue;
		}
		for (unsigned j = 0; j < i; j++)
			if (strcmp(z->members[j], z->members[i]) == 0)
				problem(c, z->line, "zone %s: member '%s' given twice", z->name,
					z->members[i]);
		if (m->type == ZONE_TYPE_COMBINED)
			problem(c, z->line, "zone %s: member '%s' is itself combined", z->name,
				z->members[i]);
		else if (type >= 0 && (int)m->type != type)
			problem(c, z->line,
				"zone %s: members mix type = ip and type = name zones", z->name);
		else
			type = (int)m->type;
	}
}

static void check_config(struct parse_ctx *c)
{
	struct config *cfg = c->cfg;

	if (cfg->zone_count == 0)
		problem(c, 0, "no [zone NAME] section: nothing to serve");
	for (unsigned i = 0; i < cfg->zone_count; i++) {
		struct zone_config *z = &cfg->zones[i];
		if (z->soa_mname.len == 0)
			problem(c, z->line, "zone %s: missing key 'soa'", z->name);
		if (z->ns_count == 0)
			problem(c, z->line, "zone %s: missing key 'ns'", z->name);
		if (z->exempt[0] != '\0') {
			const struct zone_config *e = config_zone(cfg, z->exempt);
			if (e == NULL)
				problem(c, z->line, "zone %s: exempt zone '%s' is not defined",
					z->name, z->exempt);
			else if (e == z)
				problem(c, z->line, "zone %s: a zone cannot exempt itself", z->name);
			else if (e->policy != ZONE_POLICY_ALLOW)
				problem(c, z->line, "zone %s: exempt zone '%s' is not policy = allow",
					z->name, z->exempt);
			else if (e->type != z->type)
				problem(c, z->line,
					"zone %s: exempt zone '%s' is of another type (ip and name "
					"zones list different things)", z->name, z->exempt);
		}
		check_members(c, z);
	}
}

const char *config_zone_type_name(enum zone_type t)
{
	return t == ZONE_TYPE_IP ? "ip" : t == ZONE_TYPE_NAME ? "name" : "combined";
}

int config_load(const char *path, struct config *cfg, char *err, size_t errsize)
{
	struct parse_ctx c;
	const char *slash;
	int rc;

	memset(cfg, 0, sizeof(*cfg));
	memset(&c, 0, sizeof(c));
	if (errsize > 0)
		err[0] = '\0';
	c.cfg = cfg;
	c.path = path;
	c.err = err;
	c.errsize = errsize;
	snprintf(cfg->path, sizeof(cfg->path), "%s", path);
	/* an absolute directory, so relative paths survive daemon()'s chdir("/") */
	char real[PATH_MAX];
	if (realpath(path, real) != NULL && (slash = strrchr(real, '/')) != NULL)
		snprintf(c.dir, sizeof(c.dir), "%.*s", (int)(slash == real ? 1 : slash - real), real);

	snprintf(cfg->db, sizeof(cfg->db), "/var/lib/dnsbl");
	config_parse_listen("127.0.0.1:53", &cfg->listen[0]);
	cfg->listen_count = 1;
	cfg->tcp_idle_timeout = 10;
	cfg->tcp_max_connections = 256;
	cfg->history_keep = 365 * 86400;
	cfg->journal_size = CONFIG_JOURNAL_SIZE_DEFAULT;
	config_parse_listen("127.0.0.1:8053", &cfg->api_listen[0]);
	cfg->api_listen_count = 1;
	snprintf(cfg->api_tokens, sizeof(cfg->api_tokens), "/etc/dnsbl/tokens");

	c.fp = fopen(path, "r");
	if (c.fp == NULL) {
		problem(&c, 0, "cannot open: %s", strerror(errno));
		return DNSBL_ENOTFOUND;
	}
	/* Lines up to CONFIG_LINE_MAX; multi-line values are not part of our format. */
	ini_use_stack = false;
	ini_allow_realloc = false;
	ini_max_line = CONFIG_LINE_MAX;
	ini_initial_alloc = CONFIG_LINE_MAX;
	ini_allow_multiline = false;
	rc = ini_parse_stream(config_reader, &c, config_handler, &c);
	fclose(c.fp);
	if (rc == -2) {
		config_free(cfg);
		return DNSBL_ENOMEM;
	}
	if (rc > 0)
		problem(&c, rc, "not 'key = value', '[section]' or a comment");
	if (c.errors == 0)
		check_config(&c);
	if (c.errors == 0)
		xfr_finish(&c);
	if (c.errors > 0) {
		config_free(cfg);
		return DNSBL_EINVAL;
	}
	return 0;
}

void config_free(struct config *cfg)
{
	free(cfg->keys);
	cfg->keys = NULL;
	cfg->key_count = 0;
	free(cfg->zones);
	cfg->zones = NULL;
	cfg->zone_count = 0;
}

const struct zone_config *config_zone(const struct config *cfg, const char *name)
{
	char norm[256];

	if (!normalize_zone_name(name, norm, sizeof(norm)))
		return NULL;
	for (unsigned i = 0; i < cfg->zone_count; i++)
		if (strcmp(cfg->zones[i].name, norm) == 0)
			return &cfg->zones[i];
	return NULL;
}
