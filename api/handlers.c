#include "handlers.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "addr.h"
#include "dname.h"
#include "err.h"
#include "listing.h"
#include "log.h"
#include "timeutil.h"
#include "txt.h"

#define LIMIT_DEFAULT 100
#define LIMIT_MAX 1000
#define LOOKUP_HISTORY 10
#define TTL_MAX (10u * 366 * 86400)
#define KEY_TEXT_MAX ENTRY_KEY_TEXT_MAX
#define OPERATOR_PREFIX "operator:"

/* --- responses --- */

static void set_body(struct api_response *r, unsigned status, char *body, const char *type)
{
	free(r->body);
	r->status = status;
	r->body = body;
	r->body_len = body ? strlen(body) : 0;
	r->content_type = type;
}

/* Sends j (consumed) as the response with status. */
static void reply_json(struct api_response *r, unsigned status, json_t *j)
{
	char *text = j ? json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
	json_decref(j);
	if (text == NULL) {
		set_body(r, 500, strdup("{\"error\":\"out of memory\"}"), "application/json");
		return;
	}
	size_t n = strlen(text);
	char *nl = realloc(text, n + 2);
	if (nl != NULL) {
		nl[n] = '\n';
		nl[n + 1] = '\0';
		text = nl;
	}
	set_body(r, status, text, "application/json");
}

/* An error message as a JSON string. Messages quote what the client sent, which may
 * be any bytes after percent-decoding: what is not printable ASCII becomes "?", so
 * that the text is always valid UTF-8 (jansson refuses anything else). */
static json_t *message_json(const char *msg)
{
	char clean[1024];
	size_t n = 0;
	for (; msg[n] != '\0' && n + 1 < sizeof(clean); n++)
		clean[n] = (msg[n] >= 0x20 && msg[n] < 0x7f) ? msg[n] : '?';
	clean[n] = '\0';
	return json_string(clean);
}

__attribute__((format(printf, 3, 4)))
static void reply_error(struct api_response *r, unsigned status, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	reply_json(r, status, json_pack("{s:o}", "error", message_json(msg)));
}

/* Adds "error" to the object j and sends it. */
static void reply_error_with(struct api_response *r, unsigned status, json_t *j, const char *msg)
{
	json_object_set_new(j, "error", message_json(msg));
	reply_json(r, status, j);
}

static void reply_store_error(struct api_response *r, int rc)
{
	if (rc == DNSBL_EFULL)
		reply_error(r, 503, "the store is full (raise the map size)");
	else
		reply_error(r, 500, "store error: %s", dnsbl_strerror(rc));
}

void api_response_free(struct api_response *resp)
{
	free(resp->body);
	resp->body = NULL;
}

/* --- text helpers --- */

static json_t *time_json(uint32_t t)
{
	char buf[TIME_TEXT_MAX];
	if (t == 0)
		return json_null();
	time_format(t, buf);
	return json_string(buf);
}

static json_t *code_json(uint32_t a)
{
	char buf[16];
	addr4_format(a, buf);
	return json_string(buf);
}

/* A JSON string of s[0..len), or null for none (jansson needs valid UTF-8: stored
 * texts came through our parsers, but bytes are not trusted blindly). */
static json_t *text_json(const char *s, size_t len)
{
	if (s == NULL)
		return json_null();
	json_t *j = json_stringn(s, len);
	if (j == NULL) {
		char clean[TXT_EXPANDED_MAX];
		size_t n = len < sizeof(clean) ? len : sizeof(clean);
		for (size_t i = 0; i < n; i++)
			clean[i] = (unsigned char)s[i] < 0x80 ? s[i] : '?';
		j = json_stringn(clean, n);
	}
	return j;
}

static json_t *key_json(const struct entry_key *p)
{
	char buf[KEY_TEXT_MAX];
	entry_key_format(p, 1, buf, sizeof(buf));
	return json_string(buf);
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

/* --- tokens --- */

int api_init(struct api *a, const struct config *cfg, struct store *s, const char *openapi,
	     size_t openapi_len, char *err, size_t errsize)
{
	memset(a, 0, sizeof(*a));
	a->cfg = cfg;
	a->store = s;
	a->openapi = openapi;
	a->openapi_len = openapi_len;
	if (pthread_mutex_init(&a->tokens_lock, NULL) != 0)
		return DNSBL_ENOMEM;
	int rc = tokens_load(cfg->api_tokens, &a->tokens, err, errsize);
	if (rc == DNSBL_ENOTFOUND) {
		log_warn("tokens file %s does not exist: every request but /healthz gets 401 "
			 "until `dnsbl-api token add` creates it",
			 cfg->api_tokens);
		return 0;
	}
	if (rc < 0) {
		api_free(a);
		return rc == DNSBL_ENOMEM ? rc : DNSBL_EINVAL;
	}
	stat(cfg->api_tokens, &a->tokens_st);
	return 0;
}

void api_free(struct api *a)
{
	tokens_free(&a->tokens);
	pthread_mutex_destroy(&a->tokens_lock);
}

/* Rereads the tokens file when it changed since the last read (caller holds the
 * lock). A file that has become bad is logged and the tokens read before stay. */
static void tokens_refresh(struct api *a)
{
	struct stat st;
	char err[2048];

	if (stat(a->cfg->api_tokens, &st) < 0) {
		if (errno == ENOENT && a->tokens.n > 0) {
			log_warn("tokens file %s removed: no token is valid now", a->cfg->api_tokens);
			a->tokens.n = 0;
			memset(&a->tokens_st, 0, sizeof(a->tokens_st));
		}
		return;
	}
	if (st.st_ino == a->tokens_st.st_ino && st.st_dev == a->tokens_st.st_dev &&
	    st.st_size == a->tokens_st.st_size &&
	    st.st_mtim.tv_sec == a->tokens_st.st_mtim.tv_sec &&
	    st.st_mtim.tv_nsec == a->tokens_st.st_mtim.tv_nsec)
		return;
	struct token_set fresh = { 0 };
	int rc = tokens_load(a->cfg->api_tokens, &fresh, err, sizeof(err));
	if (rc < 0 && rc != DNSBL_ENOTFOUND) {
		log_err("tokens file changed but is not usable; keeping the tokens read before:\n%s",
			err);
		tokens_free(&fresh);
		a->tokens_st = st; /* do not reread it for every request */
		return;
	}
	tokens_free(&a->tokens);
	a->tokens = fresh;
	a->tokens_st = st;
	log_info("tokens file reread: %zu tokens", fresh.n);
}

/* Checks the Authorization header. Returns the role (TOKEN_ROLE_NONE: no valid token)
 * and copies the token's name into name. */
static int authenticate(struct api *a, const char *header, char *name, size_t size)
{
	static const char scheme[] = "Bearer ";
	int role = TOKEN_ROLE_NONE;

	name[0] = '\0';
	if (header == NULL || strncasecmp(header, scheme, sizeof(scheme) - 1) != 0)
		return TOKEN_ROLE_NONE;
	const char *secret = header + sizeof(scheme) - 1;
	while (*secret == ' ')
		secret++;
	size_t len = strlen(secret);
	while (len > 0 && secret[len - 1] == ' ')
		len--;
	if (len == 0 || len > TOKEN_SECRET_MAX)
		return TOKEN_ROLE_NONE;
	pthread_mutex_lock(&a->tokens_lock);
	tokens_refresh(a);
	const struct token *t = tokens_match(&a->tokens, secret, len);
	if (t != NULL) {
		role = t->role;
		snprintf(name, size, "%s", t->name);
	}
	pthread_mutex_unlock(&a->tokens_lock);
	return role;
}

/* --- requests --- */

static const char *param(const struct api_request *req, const char *key)
{
	for (unsigned i = 0; i < req->nparams; i++)
		if (strcmp(req->params[i].key, key) == 0)
			return req->params[i].value ? req->params[i].value : "";
	return NULL;
}

/* Checks that every query parameter is one of allowed (NULL-terminated) and none
 * repeats. Sends 400 and returns false otherwise. */
static bool params_check(const struct api_request *req, const char *const *allowed,
			 struct api_response *r)
{
	if (req->params_overflow) {
		reply_error(r, 400, "too many query parameters");
		return false;
	}
	for (unsigned i = 0; i < req->nparams; i++) {
		bool ok = false;
		for (const char *const *k = allowed; *k; k++)
			ok = ok || strcmp(*k, req->params[i].key) == 0;
		if (!ok) {
			reply_error(r, 400, "unknown query parameter \"%.64s\"", req->params[i].key);
			return false;
		}
		for (unsigned j = 0; j < i; j++) {
			if (strcmp(req->params[j].key, req->params[i].key) == 0) {
				reply_error(r, 400, "query parameter \"%.64s\" given twice",
					    req->params[i].key);
				return false;
			}
		}
	}
	return true;
}

static bool limit_param(const struct api_request *req, unsigned *out, struct api_response *r)
{
	const char *v = param(req, "limit");
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
		reply_error(r, 400, "limit: a number from 1 to %d", LIMIT_MAX);
		return false;
	}
	*out = n;
	return true;
}

/* Sends 400 and returns false for a combined zone, which has no entries of its own. */
static bool has_entries(const struct zone_config *zc, struct api_response *r)
{
	if (zc->type != ZONE_TYPE_COMBINED)
		return true;
	reply_error(r, 400, "zone %s is combined: it has no entries of its own (use one of its members)",
		    zc->name);
	return false;
}

/* Parses a key for zone zc (a name's bytes go to buf, DNAME_KEY_MAX). Sends the error
 * response and returns false when it is not one. */
static bool key_parse(const struct zone_config *zc, const char *key, uint8_t *buf,
		      struct entry_key *p, struct api_response *r)
{
	size_t len = strlen(key);
	if (!has_entries(zc, r))
		return false;
	int rc = entry_key_parse(zc->type == ZONE_TYPE_NAME, key, len, buf, p);
	if (rc == 0)
		return true;
	if (zc->type == ZONE_TYPE_NAME) {
		reply_error(r, 400, "%.80s%s: not a domain (example.com, *.example.com or .example.com)",
			    key, len > 80 ? "..." : "");
		return false;
	}
	if (rc == DNSBL_EHOSTBITS) {
		char fixed[KEY_TEXT_MAX];
		prefix_format(p, 0, fixed, sizeof(fixed));
		reply_error(r, 400, "%.80s: bits set past the prefix length (the prefix is %s)",
			    key, fixed);
		return false;
	}
	reply_error(r, 400, "%.80s%s: not an IP address or CIDR prefix", key,
		    len > 80 ? "..." : "");
	return false;
}

/* --- JSON of store records --- */

static const char *state_name(int st)
{
	switch (st) {
	case STORE_STATE_LISTED: return "listed";
	case STORE_STATE_EXCLUDED: return "excluded";
	case STORE_STATE_PENDING: return "pending";
	default: return "expired";
	}
}

/* The entry object of api/README.md. */
static json_t *entry_json(struct store_reader *rd, const struct zone_config *zc,
			  const struct entry_key *p, const struct store_entry *e, uint32_t now)
{
	char source[STORE_NAME_MAX + 16];
	bool excl = e->flags & STORE_F_EXCLUDE;
	json_t *code, *txt;

	if (store_source_name(rd, e->source_id, source, sizeof(source)) < 0)
		snprintf(source, sizeof(source), "#%u", e->source_id);
	if (excl)
		code = json_null();
	else
		code = code_json((e->flags & STORE_F_A) ? e->a : zc->a);
	if (excl || (e->flags & STORE_F_NOTXT))
		txt = json_null();
	else if (e->flags & STORE_F_TXT)
		txt = text_json(e->txt, e->txt_len);
	else
		txt = zc->txt[0] ? json_string(zc->txt) : json_null();
	return json_pack("{s:o s:s s:o s:o s:o s:s s:b s:o s:o s:I s:o}", "key", key_json(p),
			 "state", state_name(store_entry_state(e, now)), "code", code, "txt", txt,
			 "reason", e->reason_len ? text_json(e->reason, e->reason_len) : json_null(),
			 "source", source, "manual", (e->flags & STORE_F_MANUAL) != 0,
			 "first_seen", time_json(e->first_seen), "last_seen",
			 time_json(e->last_seen), "hits", (json_int_t)e->hits, "expires",
			 time_json(e->expires));
}

static json_t *tomb_json(struct store_reader *rd, const struct store_tomb *t)
{
	char actor[STORE_ACTOR_TEXT_MAX];
	store_actor_format(rd, STORE_ACTOR_OPERATOR, t->actor_id, actor, sizeof(actor));
	return json_pack("{s:o s:s s:o}", "time", time_json(t->time), "actor", actor, "reason",
			 t->reason_len ? text_json(t->reason, t->reason_len) : json_null());
}

/* Zone ids of the configured zones (0: never written), for naming history records. */
struct zone_ids {
	const struct config *cfg;
	uint16_t id[256];
	unsigned n;
};

static void zone_ids_load(struct zone_ids *z, const struct config *cfg, struct store_reader *rd)
{
	z->cfg = cfg;
	z->n = cfg->zone_count < 256 ? cfg->zone_count : 256;
	for (unsigned i = 0; i < z->n; i++) {
		struct store_zone rec;
		z->id[i] = store_zone_get(rd, cfg->zones[i].name, &rec) == 0 ? rec.id : 0;
	}
}

static json_t *zone_name_json(const struct zone_ids *z, uint16_t id)
{
	char buf[16];
	for (unsigned i = 0; i < z->n; i++)
		if (z->id[i] == id && id != 0)
			return json_string(z->cfg->zones[i].name);
	snprintf(buf, sizeof(buf), "#%u", id);
	return json_string(buf);
}

struct history_walk {
	struct store_reader *rd;
	const struct zone_ids *zones;
	json_t *list;
	unsigned left;
	bool more;
	uint64_t last_seq;
};

static int history_one(const struct store_event_rec *ev, void *arg)
{
	struct history_walk *h = arg;
	char actor[STORE_ACTOR_TEXT_MAX], seq[24];

	if (h->left == 0) {
		h->more = true;
		return 1;
	}
	h->left--;
	h->last_seq = ev->seq;
	store_actor_format(h->rd, ev->actor, ev->actor_id, actor, sizeof(actor));
	snprintf(seq, sizeof(seq), "%" PRIu64, ev->seq);
	json_t *rec = json_pack("{s:I s:o s:o s:s s:o s:s s:o s:o}", "seq", (json_int_t)ev->seq,
				"time", time_json(ev->time), "zone",
				zone_name_json(h->zones, ev->zone_id), "event",
				store_event_name(ev->event), "key", key_json(&ev->prefix), "actor", actor,
				"code", ev->a ? code_json(ev->a) : json_null(), "reason",
				ev->reason_len ? text_json(ev->reason, ev->reason_len)
					       : json_null());
	if (rec == NULL || json_array_append_new(h->list, rec) < 0)
		return DNSBL_ENOMEM;
	return 0;
}

/* --- endpoints --- */

static void get_healthz(struct api *a, struct api_response *r)
{
	struct store_reader *rd;
	int rc = store_reader_new(a->store, &rd);
	if (rc == 0) {
		rc = store_reader_begin(rd);
		store_reader_free(rd);
	}
	if (rc < 0)
		reply_error(r, 503, "store not readable: %s", dnsbl_strerror(rc));
	else
		reply_json(r, 200, json_pack("{s:s}", "status", "ok"));
}

static void get_openapi(struct api *a, struct api_response *r)
{
	char *copy = malloc(a->openapi_len + 1);
	if (copy == NULL) {
		reply_error(r, 500, "out of memory");
		return;
	}
	memcpy(copy, a->openapi, a->openapi_len);
	copy[a->openapi_len] = '\0';
	set_body(r, 200, copy, "application/yaml");
	r->body_len = a->openapi_len;
}

/* Opens a reader with a snapshot for one request; sends 503 on failure. */
static struct store_reader *reader_open(struct api *a, struct api_response *r)
{
	struct store_reader *rd;
	int rc = store_reader_new(a->store, &rd);
	if (rc == 0 && (rc = store_reader_begin(rd)) < 0)
		store_reader_free(rd);
	if (rc < 0) {
		reply_error(r, 503, "store not readable: %s", dnsbl_strerror(rc));
		return NULL;
	}
	return rd;
}

/* The serial dnsbld answers in zone zc's SOA: the store's, or for a combined zone
 * the sum of its members' (0 for a zone never written). */
static uint32_t zone_serial(struct store_reader *rd, const struct config *cfg,
			    const struct zone_config *zc)
{
	struct store_zone rec;
	uint32_t serial = 0;

	if (zc->type != ZONE_TYPE_COMBINED)
		return store_zone_get(rd, zc->name, &rec) == 0 ? rec.serial : 0;
	for (unsigned m = 0; m < zc->member_count; m++) {
		const struct zone_config *mc = config_zone(cfg, zc->members[m]);
		if (mc != NULL && mc->type != ZONE_TYPE_COMBINED)
			serial += zone_serial(rd, cfg, mc);
	}
	return serial;
}

static void get_zones(struct api *a, struct api_response *r)
{
	struct store_reader *rd = reader_open(a, r);
	if (rd == NULL)
		return;
	json_t *zones = json_array();
	for (unsigned i = 0; i < a->cfg->zone_count; i++) {
		const struct zone_config *zc = &a->cfg->zones[i];
		struct store_zone rec;
		bool present = store_zone_get(rd, zc->name, &rec) == 0;
		json_array_append_new(
			zones,
			json_pack("{s:s s:s s:s s:o s:I s:o s:o s:I s:I s:I}", "name", zc->name,
				  "type", config_zone_type_name(zc->type), "policy",
				  zc->policy == ZONE_POLICY_ALLOW ? "allow" : "block", "exempt",
				  zc->exempt[0] ? json_string(zc->exempt) : json_null(), "ttl",
				  (json_int_t)zc->ttl, "code", code_json(zc->a), "txt",
				  zc->txt[0] ? json_string(zc->txt) : json_null(), "entries",
				  (json_int_t)(present ? store_zone_count(rd, &rec) : 0),
				  "tombstones", (json_int_t)(present ? store_tomb_count(rd, &rec) : 0),
				  "serial", (json_int_t)zone_serial(rd, a->cfg, zc)));
		if (zc->type == ZONE_TYPE_COMBINED) {
			json_t *members = json_array();
			for (unsigned m = 0; m < zc->member_count; m++)
				json_array_append_new(members, json_string(zc->members[m]));
			json_object_set_new(json_array_get(zones, json_array_size(zones) - 1),
					    "members", members);
		}
	}
	store_reader_free(rd);
	reply_json(r, 200, json_pack("{s:o}", "zones", zones));
}

/* Up to LOOKUP_HISTORY history records of exactly key p in zone z. */
static json_t *key_history(struct store_reader *rd, const struct zone_ids *ids,
			   const struct store_zone *z, const struct entry_key *p)
{
	struct history_walk h = { rd, ids, json_array(), LOOKUP_HISTORY, false, 0 };
	if (z != NULL)
		store_history_scan(rd, z->id, p, 0, history_one, &h);
	return h.list;
}

static json_t *lookup_zone(struct store_reader *rd, const struct config *cfg,
			   const struct zone_ids *ids, const struct zone_config *zc,
			   const struct entry_key *addr, uint32_t now, int *err)
{
	struct store_zone rec, allow_rec;
	const struct store_zone *zrec = NULL, *arec = NULL;
	const struct zone_config *xc = zc->exempt[0] ? config_zone(cfg, zc->exempt) : NULL;
	struct listing_match m;
	json_t *res, *entry = json_null(), *answer_txt = json_null(), *history;
	char subst[DNAME_TEXT_MAX], out[TXT_EXPANDED_MAX];

	if (store_zone_get(rd, zc->name, &rec) == 0)
		zrec = &rec;
	if (xc != NULL && store_zone_get(rd, xc->name, &allow_rec) == 0)
		arec = &allow_rec;
	int v = listing_decide(rd, zrec, arec, addr, now, &m);
	if (v < 0) {
		*err = v;
		return NULL;
	}
	bool listed = v == LISTING_LISTED || v == LISTING_TEST_LISTED;
	if (v == LISTING_LISTED || v == LISTING_EXCLUDED || v == LISTING_EXEMPT)
		entry = entry_json(rd, zc, &m.prefix, &m.entry, now);
	if (listed) {
		const char *tpl = zc->txt[0] ? zc->txt : NULL;
		size_t tlen = strlen(zc->txt);
		if (v == LISTING_LISTED && (m.entry.flags & STORE_F_NOTXT)) {
			tpl = NULL;
		} else if (v == LISTING_LISTED && (m.entry.flags & STORE_F_TXT)) {
			tpl = m.entry.txt;
			tlen = m.entry.txt_len;
		}
		if (tpl != NULL) {
			size_t slen = addr->family == ADDR_FAMILY_NAME
					      ? dname_format(addr, 0, subst, sizeof(subst))
					      : addr_format(addr, subst, sizeof(subst));
			answer_txt =
				text_json(out, txt_expand(tpl, tlen, subst, slen, out, sizeof(out)));
		}
	}
	bool has_entry = v == LISTING_LISTED || v == LISTING_EXCLUDED || v == LISTING_EXEMPT;
	history = key_history(rd, ids, zrec, has_entry ? &m.prefix : addr);
	res = json_pack("{s:s s:s s:b s:o s:o s:o}", "zone", zc->name, "policy",
			zc->policy == ZONE_POLICY_ALLOW ? "allow" : "block", "listed", listed,
			"entry", entry, "answer_txt", answer_txt, "history", history);
	if (res == NULL) {
		*err = DNSBL_ENOMEM;
		return NULL;
	}
	if (v == LISTING_TEST_LISTED || v == LISTING_TEST_UNLISTED)
		json_object_set_new(res, "test_point", json_true());
	if (v == LISTING_EXEMPT)
		json_object_set_new(res, "exempted_by",
				    json_pack("{s:s s:o}", "zone", xc->name, "entry",
					      entry_json(rd, xc, &m.allow_prefix, &m.allow, now)));
	struct store_tomb tomb;
	if (!listed && zrec != NULL && store_tomb_get(rd, zrec, addr, &tomb) == 0)
		json_object_set_new(res, "delisted", tomb_json(rd, &tomb));
	return res;
}

/* The result of combined zone zc from its members' results (in results). */
static json_t *lookup_combined(const struct zone_config *zc, json_t *results)
{
	json_t *by = json_array();
	size_t i;
	json_t *one;

	for (unsigned m = 0; m < zc->member_count; m++) {
		json_array_foreach(results, i, one) {
			const char *zn = json_string_value(json_object_get(one, "zone"));
			if (zn != NULL && strcmp(zn, zc->members[m]) == 0 &&
			    json_is_true(json_object_get(one, "listed")))
				json_array_append_new(by, json_string(zn));
		}
	}
	return json_pack("{s:s s:s s:b s:o}", "zone", zc->name, "type", "combined", "listed",
			 json_array_size(by) > 0, "listed_by", by);
}

static void get_lookup(struct api *a, const char *query, struct api_response *r)
{
	struct entry_key addr;
	uint8_t name[DNAME_KEY_MAX];
	size_t qlen = strlen(query);
	int rc = prefix_parse(query, qlen, &addr);
	enum zone_type type = ZONE_TYPE_IP;

	if (rc == 0 && addr.len != (addr.family == ADDR_FAMILY_V4 ? 32 : 128)) {
		reply_error(r, 400, "%.80s: a lookup takes an address, not a prefix", query);
		return;
	}
	if (rc < 0) {
		/* not an address: a domain, looked up in the name zones */
		bool names = false;
		for (unsigned i = 0; i < a->cfg->zone_count; i++)
			names = names || a->cfg->zones[i].type == ZONE_TYPE_NAME;
		if (!names || dname_parse(query, qlen, name, &addr) < 0 || addr.len != DNAME_EXACT) {
			reply_error(r, 400, "%.80s%s: not an IP address%s", query,
				    qlen > 80 ? "..." : "",
				    names ? " or a domain" : " (and no zone holds domains)");
			return;
		}
		type = ZONE_TYPE_NAME;
	}
	struct store_reader *rd = reader_open(a, r);
	if (rd == NULL)
		return;
	struct zone_ids ids;
	uint32_t now = (uint32_t)time(NULL);
	char text[ENTRY_KEY_TEXT_MAX];
	json_t *results = json_array();
	zone_ids_load(&ids, a->cfg, rd);
	rc = 0;
	for (unsigned i = 0; rc == 0 && i < a->cfg->zone_count; i++) {
		const struct zone_config *zc = &a->cfg->zones[i];
		if (zc->type != type)
			continue;
		json_t *one = lookup_zone(rd, a->cfg, &ids, zc, &addr, now, &rc);
		if (one != NULL)
			json_array_append_new(results, one);
	}
	for (unsigned i = 0; rc == 0 && i < a->cfg->zone_count; i++) {
		const struct zone_config *zc = &a->cfg->zones[i];
		const struct zone_config *m0 =
			zc->member_count ? config_zone(a->cfg, zc->members[0]) : NULL;
		if (zc->type == ZONE_TYPE_COMBINED && m0 != NULL && m0->type == type)
			json_array_append_new(results, lookup_combined(zc, results));
	}
	store_reader_free(rd);
	if (rc < 0) {
		json_decref(results);
		reply_store_error(r, rc);
		return;
	}
	entry_key_format(&addr, 1, text, sizeof(text));
	reply_json(r, 200, json_pack("{s:s s:o}", "query", text, "results", results));
}

static void get_entry(struct api *a, const struct zone_config *zc, const struct entry_key *p,
		      struct api_response *r)
{
	struct store_reader *rd = reader_open(a, r);
	struct store_zone rec;
	struct store_entry e;
	struct store_tomb tomb;
	char key[KEY_TEXT_MAX];

	if (rd == NULL)
		return;
	entry_key_format(p, 1, key, sizeof(key));
	int rc = store_zone_get(rd, zc->name, &rec);
	if (rc == 0)
		rc = store_entry_get(rd, &rec, p, &e);
	if (rc == 0) {
		reply_json(r, 200, entry_json(rd, zc, p, &e, (uint32_t)time(NULL)));
	} else if (rc == DNSBL_ENOTFOUND) {
		json_t *j = json_object();
		if (store_zone_get(rd, zc->name, &rec) == 0 && store_tomb_get(rd, &rec, p, &tomb) == 0)
			json_object_set_new(j, "delisted", tomb_json(rd, &tomb));
		char msg[600];
		snprintf(msg, sizeof(msg), "no entry %s in %s", key, zc->name);
		reply_error_with(r, 404, j, msg);
	} else {
		reply_store_error(r, rc);
	}
	store_reader_free(rd);
}

/* A PUT body, checked. */
struct put_body {
	bool has_code, has_txt, txt_null, exclude;
	uint32_t code;
	const char *txt, *reason;
	size_t txt_len, reason_len;
	uint32_t expires, ttl;
	bool has_expires;
};

/* Parses the body into a JSON object ({} when empty). Sends 400 and returns NULL when it
 * is not one. */
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
		reply_error(r, 400, "body is not valid JSON: %s (at byte %d)", jerr.text,
			    jerr.position);
		return NULL;
	}
	if (!json_is_object(j)) {
		json_decref(j);
		reply_error(r, 400, "body must be a JSON object");
		return NULL;
	}
	return j;
}

static bool time_field(json_t *v, const char *name, uint32_t *out, struct api_response *r)
{
	if (json_is_integer(v)) {
		json_int_t n = json_integer_value(v);
		if (n < 0 || n > UINT32_MAX) {
			reply_error(r, 400, "%s: out of range", name);
			return false;
		}
		*out = (uint32_t)n;
		return true;
	}
	if (json_is_string(v) &&
	    time_parse(json_string_value(v), json_string_length(v), out) == 0)
		return true;
	reply_error(r, 400, "%s: an RFC 3339 time or unix seconds", name);
	return false;
}

static bool reason_field(json_t *v, const char **out, size_t *len, struct api_response *r)
{
	if (json_is_null(v))
		return true;
	if (!json_is_string(v)) {
		reply_error(r, 400, "reason: must be a string");
		return false;
	}
	*out = json_string_value(v);
	*len = json_string_length(v);
	if (*len > STORE_REASON_MAX) {
		reply_error(r, 400, "reason: longer than %d bytes", STORE_REASON_MAX);
		return false;
	}
	if (has_control(*out, *len, false)) {
		reply_error(r, 400, "reason: contains a control character");
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
	reply_error(r, 400, "code: \"127.0.0.x\", \"x\" or the number x, within 127.0.0.0/8");
	return false;
}

static bool put_body_parse(const struct api_request *req, struct put_body *b, uint32_t now,
			   json_t **keep, struct api_response *r)
{
	json_t *j = body_object(req, r), *v;
	const char *k;
	bool has_ttl = false;

	memset(b, 0, sizeof(*b));
	if (j == NULL)
		return false;
	*keep = j; /* the strings in b point into it */
	json_object_foreach(j, k, v) {
		if (strcmp(k, "code") == 0) {
			if (!code_field(v, &b->code, r))
				return false;
			b->has_code = true;
		} else if (strcmp(k, "txt") == 0) {
			if (json_is_null(v)) {
				b->txt_null = true;
				continue;
			}
			if (!json_is_string(v)) {
				reply_error(r, 400, "txt: must be a string or null");
				return false;
			}
			b->txt = json_string_value(v);
			b->txt_len = json_string_length(v);
			if (txt_template_check(b->txt, b->txt_len) < 0) {
				reply_error(r, 400, "txt: over %d bytes or %d \"$\"", TXT_TEMPLATE_MAX,
					    TXT_SUBST_MAX);
				return false;
			}
			if (has_control(b->txt, b->txt_len, true)) {
				reply_error(r, 400, "txt: contains a control character");
				return false;
			}
			b->has_txt = true;
		} else if (strcmp(k, "reason") == 0) {
			if (!reason_field(v, &b->reason, &b->reason_len, r))
				return false;
		} else if (strcmp(k, "expires") == 0) {
			if (json_is_null(v))
				continue;
			if (!time_field(v, "expires", &b->expires, r))
				return false;
			if (b->expires <= now) {
				reply_error(r, 400, "expires: must be in the future");
				return false;
			}
			b->has_expires = true;
		} else if (strcmp(k, "ttl") == 0) {
			if (json_is_null(v))
				continue;
			bool ok = false;
			if (json_is_integer(v)) {
				json_int_t n = json_integer_value(v);
				ok = n >= 1 && n <= TTL_MAX;
				b->ttl = ok ? (uint32_t)n : 0;
			} else if (json_is_string(v)) {
				ok = duration_parse(json_string_value(v), json_string_length(v),
						    TTL_MAX, &b->ttl) == 0 &&
				     b->ttl > 0;
			}
			if (!ok) {
				reply_error(r, 400, "ttl: seconds, or a duration such as \"7d\" "
						    "(at most 10 years)");
				return false;
			}
			has_ttl = true;
		} else if (strcmp(k, "exclude") == 0) {
			if (!json_is_boolean(v)) {
				reply_error(r, 400, "exclude: must be true or false");
				return false;
			}
			b->exclude = json_is_true(v);
		} else {
			reply_error(r, 400, "unknown field \"%.64s\" (code, txt, reason, expires, "
					    "ttl, exclude)", k);
			return false;
		}
	}
	if (b->has_expires && has_ttl) {
		reply_error(r, 400, "give expires or ttl, not both");
		return false;
	}
	if (b->exclude && (b->has_code || b->has_txt || b->txt_null)) {
		reply_error(r, 400, "an exclusion has no code or txt");
		return false;
	}
	return true;
}

static void location_of(const struct zone_config *zc, const struct entry_key *p, char *buf,
			size_t size)
{
	char key[KEY_TEXT_MAX], enc[3 * KEY_TEXT_MAX];
	size_t n = 0;
	entry_key_format(p, 1, key, sizeof(key));
	for (const char *c = key; *c && n + 4 < sizeof(enc); c++) {
		if (*c == '/') {
			memcpy(enc + n, "%2F", 3);
			n += 3;
		} else {
			enc[n++] = *c;
		}
	}
	enc[n] = '\0';
	snprintf(buf, size, "/v1/zones/%s/entries/%s", zc->name, enc);
}

/* Begins a write transaction on zone zc as operator name. Sends the error response
 * and returns a negative code on failure. */
static int writer_open(struct api *a, const struct zone_config *zc, const char *name,
		       struct store_writer **w, struct store_zone **z, uint16_t *actor,
		       struct api_response *r)
{
	char actor_name[STORE_NAME_MAX + 16];
	int rc;

	snprintf(actor_name, sizeof(actor_name), OPERATOR_PREFIX "%s", name);
	if ((rc = store_writer_begin(a->store, w)) < 0) {
		reply_store_error(r, rc);
		return rc;
	}
	if ((rc = store_writer_zone(*w, zc->name, z)) < 0 ||
	    (rc = store_writer_source(*w, actor_name, actor)) < 0) {
		store_writer_abort(*w);
		reply_store_error(r, rc);
	}
	return rc;
}

static void put_entry(struct api *a, const struct api_request *req, const struct zone_config *zc,
		      const struct entry_key *p, const char *actor, struct api_response *r)
{
	uint32_t now = (uint32_t)time(NULL);
	struct store_lifecycle life = { zc->expire_after, zc->list_threshold, zc->list_window,
					zc->relist_after };
	struct put_body b;
	json_t *body = NULL;
	struct store_writer *w;
	struct store_zone *z;
	uint16_t actor_id;
	int outcome = 0, rc;

	if (!put_body_parse(req, &b, now, &body, r)) {
		json_decref(body);
		return;
	}
	if (writer_open(a, zc, actor, &w, &z, &actor_id, r) < 0) {
		json_decref(body);
		return;
	}
	struct store_put put = {
		.flags = (uint8_t)((b.exclude ? STORE_F_EXCLUDE : 0) | (b.has_code ? STORE_F_A : 0) |
				   (b.has_txt ? STORE_F_TXT : 0) | (b.txt_null ? STORE_F_NOTXT : 0)),
		.actor = STORE_ACTOR_OPERATOR,
		.source_id = actor_id,
		.a = b.code,
		.seen = now,
		.hits = 1,
		.expires = b.expires,
		.expires_set = b.has_expires,
		.ttl = b.ttl,
		.now = now,
		.life = &life,
		.reason = b.reason,
		.reason_len = b.reason_len,
		.txt = b.txt,
		.txt_len = b.txt_len,
	};
	rc = store_merge(w, z, p, &put, &outcome);
	json_decref(body);
	if (rc < 0) {
		store_writer_abort(w);
		reply_store_error(r, rc);
		return;
	}
	if ((rc = store_writer_commit(w)) < 0) {
		reply_store_error(r, rc);
		return;
	}
	/* answer with what is stored now, read like any client would */
	struct store_reader *rd = reader_open(a, r);
	struct store_zone rec;
	struct store_entry e;
	if (rd == NULL)
		return;
	rc = store_zone_get(rd, zc->name, &rec);
	if (rc == 0)
		rc = store_entry_get(rd, &rec, p, &e);
	if (rc < 0) {
		store_reader_free(rd);
		reply_store_error(r, rc);
		return;
	}
	json_t *j = entry_json(rd, zc, p, &e, now);
	store_reader_free(rd);
	bool created = outcome == STORE_CREATED || outcome == STORE_RELISTED;
	json_object_set_new(j, "outcome",
			    json_string(outcome == STORE_RELISTED ? "relisted"
					: created		 ? "created"
								 : "updated"));
	if (created)
		location_of(zc, p, r->location, sizeof(r->location));
	reply_json(r, created ? 201 : 200, j);
}

static void delete_entry(struct api *a, const struct api_request *req,
			 const struct zone_config *zc, const struct entry_key *p, const char *actor,
			 struct api_response *r)
{
	uint32_t now = (uint32_t)time(NULL);
	json_t *body = body_object(req, r), *v;
	const char *k, *reason = NULL;
	size_t reason_len = 0;
	struct store_writer *w;
	struct store_zone *z;
	struct store_entry e;
	struct entry_key covering;
	uint16_t actor_id;
	char key[KEY_TEXT_MAX], msg[1400];
	int rc;

	if (body == NULL)
		return;
	json_object_foreach(body, k, v) {
		if (strcmp(k, "reason") != 0) {
			reply_error(r, 400, "unknown field \"%.64s\" (reason)", k);
			json_decref(body);
			return;
		}
		if (!reason_field(v, &reason, &reason_len, r)) {
			json_decref(body);
			return;
		}
	}
	if (writer_open(a, zc, actor, &w, &z, &actor_id, r) < 0) {
		json_decref(body);
		return;
	}
	entry_key_format(p, 1, key, sizeof(key));
	rc = store_writer_entry_get(w, z, p, &e);
	if (rc == 0) {
		int st = store_entry_state(&e, now);
		if (st == STORE_STATE_LISTED || st == STORE_STATE_EXCLUDED)
			rc = store_delist(w, z, p, actor_id, reason, reason_len, now);
		else
			rc = DNSBL_ENOTFOUND;
	}
	json_decref(body);
	if (rc == 0) {
		if ((rc = store_writer_commit(w)) < 0) {
			reply_store_error(r, rc);
			return;
		}
		set_body(r, 204, NULL, NULL);
		return;
	}
	if (rc != DNSBL_ENOTFOUND) {
		store_writer_abort(w);
		reply_store_error(r, rc);
		return;
	}
	rc = store_writer_lookup(w, z, p, now, &e, &covering);
	store_writer_abort(w);
	if (rc == 0 && !(e.flags & STORE_F_EXCLUDE)) {
		char cov[KEY_TEXT_MAX];
		entry_key_format(&covering, 1, cov, sizeof(cov));
		snprintf(msg, sizeof(msg),
			 "%s has no entry of its own in %s but is listed by %s: delete that "
			 "entry, or PUT {\"exclude\": true} for %s",
			 key, zc->name, cov, key);
		reply_error_with(r, 409, json_pack("{s:s}", "covered_by", cov), msg);
	} else if (rc == 0 || rc == DNSBL_ENOTFOUND) {
		reply_error(r, 404, "%s is not listed in %s", key, zc->name);
	} else {
		reply_store_error(r, rc);
	}
}

struct page_walk {
	struct store_reader *rd;
	const struct zone_config *zc;
	json_t *list;
	unsigned left;
	bool more;
	char last[KEY_TEXT_MAX]; /* the last key's text, the next cursor */
	uint32_t now;
};

static int page_one(const struct entry_key *p, const struct store_entry *e, void *arg)
{
	struct page_walk *w = arg;
	if (w->left == 0) {
		w->more = true;
		return 1;
	}
	w->left--;
	entry_key_format(p, 1, w->last, sizeof(w->last));
	json_t *j = entry_json(w->rd, w->zc, p, e, w->now);
	if (j == NULL || json_array_append_new(w->list, j) < 0)
		return DNSBL_ENOMEM;
	return 0;
}

static void list_entries(struct api *a, const struct api_request *req,
			 const struct zone_config *zc, struct api_response *r)
{
	static const char *const allowed[] = { "cursor", "limit", NULL };
	struct entry_key after;
	uint8_t name[DNAME_KEY_MAX];
	const char *cursor;
	unsigned limit;

	if (!has_entries(zc, r) || !params_check(req, allowed, r) || !limit_param(req, &limit, r))
		return;
	if ((cursor = param(req, "cursor")) != NULL && *cursor != '\0' &&
	    entry_key_parse(zc->type == ZONE_TYPE_NAME, cursor, strlen(cursor), name, &after) != 0) {
		reply_error(r, 400, "cursor: not a key (use a previous next_cursor)");
		return;
	}
	bool from_start = cursor == NULL || *cursor == '\0';
	struct store_reader *rd = reader_open(a, r);
	if (rd == NULL)
		return;
	struct page_walk w = { rd, zc, json_array(), limit, false, "", (uint32_t)time(NULL) };
	struct store_zone rec;
	int rc = store_zone_get(rd, zc->name, &rec);
	if (rc == 0)
		rc = store_foreach_after(rd, &rec, from_start ? NULL : &after, page_one, &w);
	else if (rc == DNSBL_ENOTFOUND)
		rc = 0;
	store_reader_free(rd);
	if (rc < 0) {
		json_decref(w.list);
		reply_store_error(r, rc);
		return;
	}
	reply_json(r, 200, json_pack("{s:s s:o s:o}", "zone", zc->name, "entries", w.list,
				     "next_cursor", w.more ? json_string(w.last) : json_null()));
}

static void get_history(struct api *a, const struct api_request *req, struct api_response *r)
{
	static const char *const allowed[] = { "zone", "key", "since", "limit", "cursor", NULL };
	const char *zone = param(req, "zone"), *key = param(req, "key"),
		   *since_text = param(req, "since"), *cursor = param(req, "cursor");
	const struct zone_config *zc = NULL;
	struct entry_key p;
	uint8_t name[DNAME_KEY_MAX];
	uint32_t since = 0;
	uint64_t before = UINT64_MAX;
	unsigned limit;

	if (!params_check(req, allowed, r) || !limit_param(req, &limit, r))
		return;
	if (zone != NULL && (zc = config_zone(a->cfg, zone)) == NULL) {
		reply_error(r, 404, "no zone %.255s", zone);
		return;
	}
	if (key != NULL) {
		if (zc == NULL) {
			reply_error(r, 400, "key: needs zone");
			return;
		}
		if (!key_parse(zc, key, name, &p, r))
			return;
	}
	if (since_text != NULL && time_parse(since_text, strlen(since_text), &since) < 0) {
		reply_error(r, 400, "since: an RFC 3339 time or unix seconds");
		return;
	}
	if (cursor != NULL) {
		char *end;
		errno = 0;
		unsigned long long c = strtoull(cursor, &end, 10);
		if (*cursor < '0' || *cursor > '9' || *end != '\0' || errno != 0 || c == 0) {
			reply_error(r, 400, "cursor: use a previous next_cursor");
			return;
		}
		before = c;
	}
	struct store_reader *rd = reader_open(a, r);
	if (rd == NULL)
		return;
	struct zone_ids ids;
	struct history_walk h = { rd, &ids, json_array(), limit, false, 0 };
	struct store_zone rec;
	int rc = 0;
	zone_ids_load(&ids, a->cfg, rd);
	if (zc != NULL) {
		rc = store_zone_get(rd, zc->name, &rec);
		if (rc == 0)
			rc = store_history_scan_before(rd, rec.id, key ? &p : NULL, since, before,
						       history_one, &h);
		else if (rc == DNSBL_ENOTFOUND)
			rc = 0;
	} else {
		rc = store_history_scan_before(rd, 0, NULL, since, before, history_one, &h);
	}
	store_reader_free(rd);
	if (rc < 0) {
		json_decref(h.list);
		reply_store_error(r, rc);
		return;
	}
	char next[24];
	snprintf(next, sizeof(next), "%" PRIu64, h.last_seq);
	reply_json(r, 200, json_pack("{s:o s:o}", "history", h.list, "next_cursor",
				     h.more ? json_string(next) : json_null()));
}

static void get_tokens(struct api *a, struct api_response *r)
{
	json_t *list = json_array();
	pthread_mutex_lock(&a->tokens_lock);
	for (size_t i = 0; i < a->tokens.n; i++)
		json_array_append_new(list, json_pack("{s:s s:s}", "name", a->tokens.v[i].name,
						      "role", token_role_name(a->tokens.v[i].role)));
	pthread_mutex_unlock(&a->tokens_lock);
	reply_json(r, 200, json_pack("{s:o}", "tokens", list));
}

/* --- routing --- */

enum route {
	R_NONE,
	R_OPENAPI,
	R_ZONES,
	R_LOOKUP,
	R_ENTRIES,
	R_ENTRY,
	R_HISTORY,
	R_TOKENS,
};

/* Splits path into a route and its zone and key/query arguments (pointers into
 * buf). */
static enum route route_of(const char *path, char *buf, size_t size, const char **zone,
			   const char **arg)
{
	static const char zones[] = "/v1/zones/", lookup[] = "/v1/lookup/";
	*zone = *arg = NULL;
	if (strcmp(path, "/v1/openapi.yaml") == 0)
		return R_OPENAPI;
	if (strcmp(path, "/v1/zones") == 0)
		return R_ZONES;
	if (strcmp(path, "/v1/history") == 0)
		return R_HISTORY;
	if (strcmp(path, "/v1/tokens") == 0)
		return R_TOKENS;
	if (strncmp(path, lookup, sizeof(lookup) - 1) == 0 && path[sizeof(lookup) - 1] != '\0') {
		*arg = path + sizeof(lookup) - 1;
		return R_LOOKUP;
	}
	if (strncmp(path, zones, sizeof(zones) - 1) != 0)
		return R_NONE;
	if ((size_t)snprintf(buf, size, "%s", path + sizeof(zones) - 1) >= size)
		return R_NONE;
	char *slash = strchr(buf, '/');
	if (slash == NULL || slash == buf)
		return R_NONE;
	*slash = '\0';
	*zone = buf;
	const char *rest = slash + 1;
	if (strcmp(rest, "entries") == 0)
		return R_ENTRIES;
	if (strncmp(rest, "entries/", 8) == 0 && rest[8] != '\0') {
		*arg = rest + 8;
		return R_ENTRY;
	}
	return R_NONE;
}

static bool need_role(int have, int need, struct api_response *r)
{
	if (have >= need)
		return true;
	reply_error(r, 403, "this needs a token with role %s; yours is %s", token_role_name(need),
		    token_role_name(have));
	return false;
}

static void method_not_allowed(struct api_response *r, const char *allow, const char *method)
{
	snprintf(r->allow, sizeof(r->allow), "%s", allow);
	reply_error(r, 405, "method %.16s not allowed here (allowed: %s)", method, allow);
}

void api_handle(struct api *a, const struct api_request *req, struct api_response *resp)
{
	static const char *const none[] = { NULL };
	char buf[2048];
	const char *zone, *arg;
	bool get = strcmp(req->method, "GET") == 0;

	memset(resp, 0, sizeof(*resp));
	if (strcmp(req->path, "/healthz") == 0) {
		if (!get)
			method_not_allowed(resp, "GET", req->method);
		else if (params_check(req, none, resp))
			get_healthz(a, resp);
		return;
	}
	int role = authenticate(a, req->authorization, resp->actor, sizeof(resp->actor));
	if (role == TOKEN_ROLE_NONE) {
		resp->www_authenticate = true;
		reply_error(resp, 401, req->authorization ? "invalid token"
							  : "missing bearer token (Authorization: "
							    "Bearer SECRET)");
		return;
	}
	enum route rt = route_of(req->path, buf, sizeof(buf), &zone, &arg);
	const struct zone_config *zc = NULL;
	if (rt == R_NONE) {
		reply_error(resp, 404, "no such path: %.200s", req->path);
		return;
	}
	if (zone != NULL && (zc = config_zone(a->cfg, zone)) == NULL) {
		reply_error(resp, 404, "no zone %.255s", zone);
		return;
	}
	bool put = strcmp(req->method, "PUT") == 0, del = strcmp(req->method, "DELETE") == 0;
	if (rt == R_ENTRY ? !(get || put || del) : !get) {
		method_not_allowed(resp, rt == R_ENTRY ? "GET, PUT, DELETE" : "GET", req->method);
		return;
	}
	if (!need_role(role, (put || del) ? TOKEN_ROLE_WRITE
			     : rt == R_TOKENS ? TOKEN_ROLE_ADMIN
					      : TOKEN_ROLE_READ,
		       resp))
		return;
	if (rt != R_ENTRIES && rt != R_HISTORY && !params_check(req, none, resp))
		return;
	struct entry_key p;
	uint8_t name[DNAME_KEY_MAX];
	switch (rt) {
	case R_OPENAPI: get_openapi(a, resp); break;
	case R_ZONES: get_zones(a, resp); break;
	case R_LOOKUP: get_lookup(a, arg, resp); break;
	case R_ENTRIES: list_entries(a, req, zc, resp); break;
	case R_HISTORY: get_history(a, req, resp); break;
	case R_TOKENS: get_tokens(a, resp); break;
	case R_ENTRY:
		if (!key_parse(zc, arg, name, &p, resp))
			return;
		if (get)
			get_entry(a, zc, &p, resp);
		else if (put)
			put_entry(a, req, zc, &p, resp->actor, resp);
		else
			delete_entry(a, req, zc, &p, resp->actor, resp);
		break;
	case R_NONE: break;
	}
}
