/* The zone transfer keys of the config file: allow_transfer, notify and
 * transfer_record_limit ([server] defaults, [zone] overrides), transfer_key, and the
 * [key NAME] sections holding TSIG keys. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

#include "config_impl.h"
#include "err.h"

static const char *const algorithm_names[] = {
	[KEY_HMAC_MD5] = "hmac-md5",       [KEY_HMAC_SHA1] = "hmac-sha1",
	[KEY_HMAC_SHA224] = "hmac-sha224", [KEY_HMAC_SHA256] = "hmac-sha256",
	[KEY_HMAC_SHA384] = "hmac-sha384", [KEY_HMAC_SHA512] = "hmac-sha512",
};

const char *config_key_algorithm_name(enum key_algorithm a)
{
	return algorithm_names[a];
}

const struct key_config *config_zone_key(const struct config *cfg, const struct zone_config *z)
{
	return z->transfer_key_index >= 0 ? &cfg->keys[z->transfer_key_index] : NULL;
}

/* allow_transfer: IPv4 and IPv6 addresses or CIDR prefixes; empty: nobody. */
static void parse_acl(struct parse_ctx *c, const char *value, struct xfr_config *x)
{
	char buf[CONFIG_LINE_MAX];
	char *words[CONFIG_MAX_ACL];
	bool too_many;
	unsigned n = split_words(value, buf, sizeof(buf), words, CONFIG_MAX_ACL, &too_many);

	if (too_many)
		problem(c, c->line, "allow_transfer: more than %d prefixes", CONFIG_MAX_ACL);
	x->acl_count = 0;
	x->acl_set = true;
	for (unsigned i = 0; i < n; i++) {
		int rc = prefix_parse(words[i], strlen(words[i]), &x->acl[x->acl_count]);
		if (rc == DNSBL_EHOSTBITS)
			problem(c, c->line, "allow_transfer: '%s' has bits set past its length",
				words[i]);
		else if (rc < 0)
			problem(c, c->line, "allow_transfer: '%s' is not an IP address or prefix",
				words[i]);
		else
			x->acl_count++;
	}
}

/* One NOTIFY target: ADDRESS:PORT, [IPV6]:PORT, or an address alone (port 53). */
static int parse_target(const char *w, struct listen_addr *out)
{
	char with_port[96];
	const char *colon = strchr(w, ':');

	if (config_parse_listen(w, out) == 0)
		return 0;
	if (colon == NULL || (w[0] == '[' && w[strlen(w) - 1] == ']'))
		snprintf(with_port, sizeof(with_port), "%s:53", w);
	else if (w[0] != '[')
		snprintf(with_port, sizeof(with_port), "[%s]:53", w); /* a bare IPv6 address */
	else
		return DNSBL_ESYNTAX;
	if (config_parse_listen(with_port, out) < 0)
		return DNSBL_ESYNTAX;
	snprintf(out->text, sizeof(out->text), "%s", w);
	return 0;
}

static void parse_notify(struct parse_ctx *c, const char *value, struct xfr_config *x)
{
	char buf[CONFIG_LINE_MAX];
	char *words[CONFIG_MAX_NOTIFY];
	bool too_many;
	unsigned n = split_words(value, buf, sizeof(buf), words, CONFIG_MAX_NOTIFY, &too_many);

	if (too_many)
		problem(c, c->line, "notify: more than %d targets", CONFIG_MAX_NOTIFY);
	x->notify_count = 0;
	x->notify_set = true;
	for (unsigned i = 0; i < n; i++) {
		if (parse_target(words[i], &x->notify[x->notify_count]) < 0)
			problem(c, c->line, "notify: '%s' is not ADDRESS[:PORT] or [IPV6][:PORT]",
				words[i]);
		else
			x->notify_count++;
	}
}

static void parse_limit(struct parse_ctx *c, const char *value, struct xfr_config *x)
{
	unsigned v;

	if (parse_uint(value, 1, 4000000000u, &v) < 0) {
		problem(c, c->line, "transfer_record_limit: '%s' is not a number from 1 to 4000000000",
			value);
		return;
	}
	x->record_limit = v;
	x->limit_set = true;
}

bool xfr_server_key(struct parse_ctx *c, const char *name, const char *value)
{
	struct xfr_config *x = &c->cfg->xfr;

	if (strcmp(name, "allow_transfer") == 0)
		parse_acl(c, value, x);
	else if (strcmp(name, "notify") == 0)
		parse_notify(c, value, x);
	else if (strcmp(name, "transfer_record_limit") == 0)
		parse_limit(c, value, x);
	else
		return false;
	return true;
}

void zone_allow_transfer(struct parse_ctx *c, struct zone_config *z, const char *value)
{
	parse_acl(c, value, &z->xfr);
}

void zone_notify(struct parse_ctx *c, struct zone_config *z, const char *value)
{
	parse_notify(c, value, &z->xfr);
}

void zone_transfer_record_limit(struct parse_ctx *c, struct zone_config *z, const char *value)
{
	parse_limit(c, value, &z->xfr);
}

/* Lower-cases a key name and drops one trailing dot; false when it is no DNS name. */
static bool key_name_normalize(const char *in, char *out, size_t size, struct dname *wire)
{
	size_t n = strlen(in);

	if (n > 0 && in[n - 1] == '.')
		n--;
	if (n == 0 || n >= size)
		return false;
	for (size_t i = 0; i < n; i++)
		out[i] = (char)tolower((unsigned char)in[i]);
	out[n] = '\0';
	return dname_from_text(out, wire) == 0;
}

void zone_transfer_key(struct parse_ctx *c, struct zone_config *z, const char *value)
{
	struct dname wire;

	if (!key_name_normalize(value, z->transfer_key, sizeof(z->transfer_key), &wire)) {
		problem(c, c->line, "transfer_key: '%s' is not a key name", value);
		z->transfer_key[0] = '\0';
	}
	z->transfer_key_line = c->line;
}

void key_section_add(struct parse_ctx *c, const char *name, int line)
{
	struct config *cfg = c->cfg;
	struct key_config k = { .line = line };

	while (*name == ' ')
		name++;
	if (!key_name_normalize(name, k.name, sizeof(k.name), &k.wire)) {
		problem(c, line, "bad key name '%s'", name);
		return;
	}
	for (unsigned i = 0; i < cfg->key_count; i++) {
		if (strcmp(cfg->keys[i].name, k.name) == 0) {
			problem(c, line, "duplicate key '%s' (first defined at line %d)", k.name,
				cfg->keys[i].line);
			return;
		}
	}
	struct key_config *keys = realloc(cfg->keys, (cfg->key_count + 1) * sizeof(*keys));
	if (keys == NULL) {
		problem(c, line, "out of memory");
		return;
	}
	cfg->keys = keys;
	keys[cfg->key_count++] = k;
}

static void key_secret(struct parse_ctx *c, struct key_config *k, const char *value)
{
	ldns_rdf *rdf = NULL;

	if (value[0] == '\0' || ldns_str2rdf_b64(&rdf, value) != LDNS_STATUS_OK || rdf == NULL ||
	    ldns_rdf_size(rdf) == 0) {
		problem(c, c->line, "secret: not base64");
	} else if (ldns_rdf_size(rdf) > CONFIG_KEY_SECRET_MAX) {
		problem(c, c->line, "secret: longer than %d bytes", CONFIG_KEY_SECRET_MAX);
	} else {
		k->secret_len = ldns_rdf_size(rdf);
		memcpy(k->secret, ldns_rdf_data(rdf), k->secret_len);
	}
	ldns_rdf_deep_free(rdf);
}

void key_section_key(struct parse_ctx *c, const char *name, const char *value)
{
	struct config *cfg = c->cfg;

	/* keys belong to the key added at its header; a bad header added none */
	if (cfg->key_count == 0 || cfg->keys[cfg->key_count - 1].line != c->section_line)
		return;
	struct key_config *k = &cfg->keys[cfg->key_count - 1];
	if (strcmp(name, "algorithm") == 0) {
		for (unsigned a = 0; a < sizeof(algorithm_names) / sizeof(algorithm_names[0]); a++) {
			if (strcasecmp(value, algorithm_names[a]) == 0) {
				k->algorithm = (enum key_algorithm)a;
				k->algorithm_set = true;
				return;
			}
		}
		problem(c, c->line,
			"algorithm: '%s' is not hmac-md5, hmac-sha1, hmac-sha224, hmac-sha256, "
			"hmac-sha384 or hmac-sha512", value);
	} else if (strcmp(name, "secret") == 0) {
		key_secret(c, k, value);
	} else {
		problem(c, c->line, "unknown key '%s' in [key %s]", name, k->name);
	}
}

void xfr_finish(struct parse_ctx *c)
{
	struct config *cfg = c->cfg;

	if (!cfg->xfr.limit_set)
		cfg->xfr.record_limit = CONFIG_RECORD_LIMIT_DEFAULT;
	for (unsigned i = 0; i < cfg->key_count; i++) {
		const struct key_config *k = &cfg->keys[i];
		if (!k->algorithm_set)
			problem(c, k->line, "key %s: missing key 'algorithm'", k->name);
		if (k->secret_len == 0)
			problem(c, k->line, "key %s: missing key 'secret'", k->name);
	}
	for (unsigned i = 0; i < cfg->zone_count; i++) {
		struct zone_config *z = &cfg->zones[i];
		struct xfr_config own = z->xfr;
		z->xfr = cfg->xfr;
		if (own.acl_set) {
			z->xfr.acl_count = own.acl_count;
			memcpy(z->xfr.acl, own.acl, sizeof(own.acl));
		}
		if (own.notify_set) {
			z->xfr.notify_count = own.notify_count;
			memcpy(z->xfr.notify, own.notify, sizeof(own.notify));
		}
		if (own.limit_set)
			z->xfr.record_limit = own.record_limit;
		z->xfr.acl_set = own.acl_set;
		z->xfr.notify_set = own.notify_set;
		z->xfr.limit_set = own.limit_set;
		z->transfer_key_index = -1;
		if (z->transfer_key[0] == '\0')
			continue;
		for (unsigned k = 0; k < cfg->key_count; k++)
			if (strcmp(cfg->keys[k].name, z->transfer_key) == 0)
				z->transfer_key_index = (int)k;
		if (z->transfer_key_index < 0)
			problem(c, z->transfer_key_line, "transfer_key: no [key %s] section",
				z->transfer_key);
	}
}
