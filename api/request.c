#include "request.h"

#include <string.h>

#include "dname.h"
#include "err.h"
#include "response.h"
#include "store.h"
#include "timeutil.h"
#include "txt.h"

#define LIMIT_DEFAULT 100
#define LIMIT_MAX 1000
#define TTL_MAX (10u * 366 * 86400)

/* --- the path --- */

bool request_path_match(const char *pattern, const char *path, struct request_path *m)
{
	const char *p = pattern, *s = path, *zone = NULL, *rest = NULL, *rest_name = NULL;
	size_t zone_len = 0;

	while (*p != '\0') {
		if (*p != '{') {
			if (*p++ != *s++)
				return false;
			continue;
		}
		const char *name = p + 1, *close = strchr(p, '}');
		if (close == NULL)
			return false;
		p = close + 1;
		if (strncmp(name, "zone}", 5) == 0) {
			zone_len = strcspn(s, "/");
			if (zone_len == 0)
				return false;
			zone = s;
			s += zone_len;
		} else if (*p == '\0' && *s != '\0') {
			rest = s; /* {key} or {query}: the rest, slashes too */
			rest_name = name;
			s += strlen(s);
		} else {
			return false;
		}
	}
	bool is_key = rest != NULL && strncmp(rest_name, "key}", 4) == 0;
	bool is_query = rest != NULL && strncmp(rest_name, "query}", 6) == 0;
	if (*s != '\0' || (rest != NULL && !is_key && !is_query))
		return false;
	/* copied with the rest of the path, as request_path.buf says */
	size_t tail = zone != NULL ? strlen(zone) : 0;
	if (tail >= sizeof(m->buf))
		return false;
	m->zone = NULL;
	if (zone != NULL) {
		memcpy(m->buf, zone, tail + 1);
		m->buf[zone_len] = '\0';
		m->zone = m->buf;
	}
	m->key = is_key ? rest : NULL;
	m->query = is_query ? rest : NULL;
	return true;
}

/* --- query parameters --- */

const char *request_param(const struct api_request *req, const char *key)
{
	for (unsigned i = 0; i < req->nparams; i++)
		if (strcmp(req->params[i].key, key) == 0)
			return req->params[i].value ? req->params[i].value : "";
	return NULL;
}

bool request_params_check(const struct api_request *req, const char *const *allowed,
			  struct api_response *r)
{
	if (req->params_overflow) {
		response_error(r, 400, "too many query parameters");
		return false;
	}
	for (unsigned i = 0; i < req->nparams; i++) {
		bool ok = false;
		for (const char *const *k = allowed; *k; k++)
			ok = ok || strcmp(*k, req->params[i].key) == 0;
		if (!ok) {
			response_error(r, 400, "unknown query parameter \"%.64s\"",
				       req->params[i].key);
			return false;
		}
		for (unsigned j = 0; j < i; j++) {
			if (strcmp(req->params[j].key, req->params[i].key) == 0) {
				response_error(r, 400, "query parameter \"%.64s\" given twice",
					       req->params[i].key);
				return false;
			}
		}
	}
	return true;
}

bool request_limit(const struct api_request *req, unsigned *out, struct api_response *r)
{
	const char *v = request_param(req, "limit");
	*out = LIMIT_DEFAULT;
	if (v == NULL)
		return true;
	unsigned n = 0;
	size_t len = strlen(v);
	bool ok = len > 0 && len <= 4;
	for (size_t i = 0; ok && i < len; i++) {
		ok = v[i] >= '0' && v[i] <= '9';
		n = n * 10 + (unsigned)(v[i] - '0');
	}
	if (!ok || n < 1 || n > LIMIT_MAX) {
		response_error(r, 400, "limit: a number from 1 to %d", LIMIT_MAX);
		return false;
	}
	*out = n;
	return true;
}

/* --- keys --- */

bool request_zone_has_entries(const struct zone_config *zc, struct api_response *r)
{
	if (zc->type != ZONE_TYPE_COMBINED)
		return true;
	response_error(r, 400,
		       "zone %s is combined: it has no entries of its own (use one of its members)",
		       zc->name);
	return false;
}

bool request_key_parse(const struct zone_config *zc, const char *key, uint8_t *buf,
		       struct entry_key *p, struct api_response *r)
{
	size_t len = strlen(key);
	if (!request_zone_has_entries(zc, r))
		return false;
	int rc = entry_key_parse(zc->type == ZONE_TYPE_NAME, key, len, buf, p);
	if (rc == 0)
		return true;
	if (zc->type == ZONE_TYPE_NAME) {
		response_error(r, 400,
			       "%.80s%s: not a domain (example.com, *.example.com or .example.com)",
			       key, len > 80 ? "..." : "");
		return false;
	}
	if (rc == DNSBL_EHOSTBITS) {
		char fixed[ENTRY_KEY_TEXT_MAX];
		prefix_format(p, 0, fixed, sizeof(fixed));
		response_error(r, 400, "%.80s: bits set past the prefix length (the prefix is %s)",
			       key, fixed);
		return false;
	}
	response_error(r, 400, "%.80s%s: not an IP address or CIDR prefix", key,
		       len > 80 ? "..." : "");
	return false;
}

/* --- bodies --- */

/* Parses the body into a JSON object ({} when empty or blank). */
static json_t *body_object(const struct api_request *req, struct api_response *r)
{
	json_error_t jerr;
	size_t i = 0;

	while (req->body && i < req->body_len &&
	       (req->body[i] == ' ' || req->body[i] == '\t' || req->body[i] == '\r' ||
		req->body[i] == '\n'))
		i++;
	if (req->body == NULL || i == req->body_len)
		return json_object();
	json_t *j = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr);
	if (j == NULL) {
		response_error(r, 400, "body is not valid JSON: %s (at byte %d)", jerr.text,
			       jerr.position);
		return NULL;
	}
	if (!json_is_object(j)) {
		json_decref(j);
		response_error(r, 400, "body must be a JSON object");
		return NULL;
	}
	return j;
}

static bool has_control(const char *s, size_t len, bool tab_ok)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if ((c < 0x20 && !(tab_ok && c == '\t')) || c == 0x7f)
			return true;
	}
	return false;
}

static bool time_field(json_t *v, const char *name, uint32_t *out, struct api_response *r)
{
	if (json_is_integer(v)) {
		json_int_t n = json_integer_value(v);
		if (n < 0 || n > UINT32_MAX) {
			response_error(r, 400, "%s: out of range", name);
			return false;
		}
		*out = (uint32_t)n;
		return true;
	}
	if (json_is_string(v) &&
	    time_parse(json_string_value(v), json_string_length(v), out) == 0)
		return true;
	response_error(r, 400, "%s: an RFC 3339 time or unix seconds", name);
	return false;
}

/* "reason": a string of at most STORE_REASON_MAX bytes without control characters,
 * or null (*out unchanged). */
static bool reason_field(json_t *v, const char **out, size_t *len, struct api_response *r)
{
	if (json_is_null(v))
		return true;
	if (!json_is_string(v)) {
		response_error(r, 400, "reason: must be a string");
		return false;
	}
	*out = json_string_value(v);
	*len = json_string_length(v);
	if (*len > STORE_REASON_MAX) {
		response_error(r, 400, "reason: longer than %d bytes", STORE_REASON_MAX);
		return false;
	}
	if (has_control(*out, *len, false)) {
		response_error(r, 400, "reason: contains a control character");
		return false;
	}
	return true;
}

static bool code_field(json_t *v, uint32_t *out, struct api_response *r)
{
	uint32_t a;
	if (json_is_integer(v)) {
		json_int_t n = json_integer_value(v);
		if (n >= 1 && n <= 255) {
			*out = 0x7f000000u | (uint32_t)n;
			return true;
		}
	} else if (json_is_string(v)) {
		const char *s = json_string_value(v);
		size_t len = json_string_length(v);
		int o = addr4_octet_parse(s, len);
		if (o >= 1) {
			*out = 0x7f000000u | (uint32_t)o;
			return true;
		}
		if (addr4_parse(s, len, &a) == 0 && (a >> 24) == 127 && a != 0x7f000000u) {
			*out = a;
			return true;
		}
	}
	response_error(r, 400, "code: \"127.0.0.x\", \"x\" or the number x, within 127.0.0.0/8");
	return false;
}

/* "txt": a TXT template, or null for no TXT. */
static bool txt_field(json_t *v, struct request_put *b, struct api_response *r)
{
	if (json_is_null(v)) {
		b->txt_null = true;
		return true;
	}
	if (!json_is_string(v)) {
		response_error(r, 400, "txt: must be a string or null");
		return false;
	}
	b->txt = json_string_value(v);
	b->txt_len = json_string_length(v);
	if (txt_template_check(b->txt, b->txt_len) < 0) {
		response_error(r, 400, "txt: over %d bytes or %d \"$\"", TXT_TEMPLATE_MAX,
			       TXT_SUBST_MAX);
		return false;
	}
	if (has_control(b->txt, b->txt_len, true)) {
		response_error(r, 400, "txt: contains a control character");
		return false;
	}
	b->has_txt = true;
	return true;
}

/* "expires": a time after now, or null for none. */
static bool expires_field(json_t *v, struct request_put *b, uint32_t now, struct api_response *r)
{
	if (json_is_null(v))
		return true;
	if (!time_field(v, "expires", &b->expires, r))
		return false;
	if (b->expires <= now) {
		response_error(r, 400, "expires: must be in the future");
		return false;
	}
	b->has_expires = true;
	return true;
}

/* "ttl": seconds or a duration text, at most TTL_MAX, or null for none. */
static bool ttl_field(json_t *v, struct request_put *b, bool *has_ttl, struct api_response *r)
{
	bool ok = false;

	if (json_is_null(v))
		return true;
	if (json_is_integer(v)) {
		json_int_t n = json_integer_value(v);
		ok = n >= 1 && n <= TTL_MAX;
		b->ttl = ok ? (uint32_t)n : 0;
	} else if (json_is_string(v)) {
		ok = duration_parse(json_string_value(v), json_string_length(v), TTL_MAX,
				    &b->ttl) == 0 &&
		     b->ttl > 0;
	}
	if (!ok) {
		response_error(r, 400, "ttl: seconds, or a duration such as \"7d\" "
				       "(at most 10 years)");
		return false;
	}
	*has_ttl = true;
	return true;
}

/* Reads field k of a PUT body into *b. */
static bool put_field(const char *k, json_t *v, struct request_put *b, uint32_t now,
		      bool *has_ttl, struct api_response *r)
{
	if (strcmp(k, "code") == 0) {
		if (!code_field(v, &b->code, r))
			return false;
		b->has_code = true;
		return true;
	}
	if (strcmp(k, "txt") == 0)
		return txt_field(v, b, r);
	if (strcmp(k, "reason") == 0)
		return reason_field(v, &b->reason, &b->reason_len, r);
	if (strcmp(k, "expires") == 0)
		return expires_field(v, b, now, r);
	if (strcmp(k, "ttl") == 0)
		return ttl_field(v, b, has_ttl, r);
	if (strcmp(k, "exclude") == 0) {
		if (!json_is_boolean(v)) {
			response_error(r, 400, "exclude: must be true or false");
			return false;
		}
		b->exclude = json_is_true(v);
		return true;
	}
	response_error(r, 400, "unknown field \"%.64s\" (code, txt, reason, expires, ttl, exclude)",
		       k);
	return false;
}

json_t *request_put_body(const struct api_request *req, struct request_put *b, uint32_t now,
			 struct api_response *r)
{
	json_t *j = body_object(req, r), *v;
	const char *k;
	bool has_ttl = false;

	memset(b, 0, sizeof(*b));
	if (j == NULL)
		return NULL;
	json_object_foreach(j, k, v) {
		if (!put_field(k, v, b, now, &has_ttl, r))
			goto bad;
	}
	if (b->has_expires && has_ttl) {
		response_error(r, 400, "give expires or ttl, not both");
		goto bad;
	}
	if (b->exclude && (b->has_code || b->has_txt || b->txt_null)) {
		response_error(r, 400, "an exclusion has no code or txt");
		goto bad;
	}
	return j;
bad:
	json_decref(j);
	return NULL;
}

json_t *request_delist_body(const struct api_request *req, const char **reason,
			    size_t *reason_len, struct api_response *r)
{
	json_t *j = body_object(req, r), *v;
	const char *k;

	*reason = NULL;
	*reason_len = 0;
	if (j == NULL)
		return NULL;
	json_object_foreach(j, k, v) {
		if (strcmp(k, "reason") != 0) {
			response_error(r, 400, "unknown field \"%.64s\" (reason)", k);
			json_decref(j);
			return NULL;
		}
		if (!reason_field(v, reason, reason_len, r)) {
			json_decref(j);
			return NULL;
		}
	}
	return j;
}
