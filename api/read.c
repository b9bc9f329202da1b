#include "endpoints.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth.h"
#include "err.h"
#include "listing.h"
#include "render.h"
#include "request.h"
#include "response.h"
#include "timeutil.h"
#include "txt.h"
#include "zonemap.h"

#define LOOKUP_HISTORY 10 /* history records per zone in a lookup */

struct store_reader *read_begin(struct api *a, struct api_response *r)
{
	struct store_reader *rd;
	int rc = store_reader_new(a->store, &rd);
	if (rc == 0 && (rc = store_reader_begin(rd)) < 0)
		store_reader_free(rd);
	if (rc < 0) {
		response_error(r, 503, "store not readable: %s", dnsbl_strerror(rc));
		return NULL;
	}
	return rd;
}

void read_healthz(struct api *a, const struct api_call *c, struct api_response *r)
{
	struct store_reader *rd;
	(void)c;
	int rc = store_reader_new(a->store, &rd);
	if (rc == 0) {
		rc = store_reader_begin(rd);
		store_reader_free(rd);
	}
	if (rc < 0)
		response_error(r, 503, "store not readable: %s", dnsbl_strerror(rc));
	else
		response_json(r, 200, json_pack("{s:s}", "status", "ok"));
}

void read_openapi(struct api *a, const struct api_call *c, struct api_response *r)
{
	(void)c;
	char *copy = malloc(a->openapi_len + 1);
	if (copy == NULL) {
		response_error(r, 500, "out of memory");
		return;
	}
	memcpy(copy, a->openapi, a->openapi_len);
	copy[a->openapi_len] = '\0';
	response_set(r, 200, copy, "application/yaml");
	r->body_len = a->openapi_len;
}

/* --- zones --- */

/* The object of zone zc in GET /v1/zones. */
static json_t *zone_json(struct store_reader *rd, const struct config *cfg,
			 const struct zone_config *zc)
{
	struct store_zone rec;
	bool present = store_zone_get(rd, zc->name, &rec) == 0;
	json_t *j = json_pack(
		"{s:s s:s s:s s:o s:I s:o s:o s:I s:I s:I}", "name", zc->name, "type",
		config_zone_type_name(zc->type), "policy",
		zc->policy == ZONE_POLICY_ALLOW ? "allow" : "block", "exempt",
		zc->exempt[0] ? json_string(zc->exempt) : json_null(), "ttl", (json_int_t)zc->ttl,
		"code", render_code(zc->a), "txt", zc->txt[0] ? json_string(zc->txt) : json_null(),
		"entries", (json_int_t)(present ? store_zone_count(rd, &rec) : 0), "tombstones",
		(json_int_t)(present ? store_tomb_count(rd, &rec) : 0), "serial",
		(json_int_t)zonemap_serial(rd, cfg, zc));
	if (zc->type == ZONE_TYPE_COMBINED) {
		json_t *members = json_array();
		for (unsigned m = 0; m < zc->member_count; m++)
			json_array_append_new(members, json_string(zc->members[m]));
		json_object_set_new(j, "members", members);
	}
	return j;
}

void read_zones(struct api *a, const struct api_call *c, struct api_response *r)
{
	(void)c;
	struct store_reader *rd = read_begin(a, r);
	if (rd == NULL)
		return;
	json_t *zones = json_array();
	for (unsigned i = 0; i < a->cfg->zone_count; i++)
		json_array_append_new(zones, zone_json(rd, a->cfg, &a->cfg->zones[i]));
	store_reader_free(rd);
	response_json(r, 200, json_pack("{s:o}", "zones", zones));
}

/* --- lookup --- */

/* Up to LOOKUP_HISTORY history records of exactly key p in zone z. */
static json_t *key_history(struct store_reader *rd, const struct render_zones *ids,
			   const struct store_zone *z, const struct entry_key *p)
{
	struct render_history h = { rd, ids, json_array(), LOOKUP_HISTORY, false, 0 };
	if (z != NULL)
		store_history_scan(rd, z->id, p, 0, render_history_one, &h);
	return h.list;
}

/* The answer_txt of a listed verdict v with match m: the TXT dnsbld answers for addr
 * in zone zc, or null for none. */
static json_t *answer_txt(const struct zone_config *zc, int v, const struct listing_match *m,
			  const struct entry_key *addr)
{
	char subst[DNAME_TEXT_MAX], out[TXT_EXPANDED_MAX];
	const char *tpl = zc->txt[0] ? zc->txt : NULL;
	size_t tlen = strlen(zc->txt);

	if (v == LISTING_LISTED && (m->entry.flags & STORE_F_NOTXT)) {
		tpl = NULL;
	} else if (v == LISTING_LISTED && (m->entry.flags & STORE_F_TXT)) {
		tpl = m->entry.txt;
		tlen = m->entry.txt_len;
	}
	if (tpl == NULL)
		return json_null();
	size_t slen = addr->family == ADDR_FAMILY_NAME ? dname_format(addr, 0, subst, sizeof(subst))
						       : addr_format(addr, subst, sizeof(subst));
	return render_text(out, txt_expand(tpl, tlen, subst, slen, out, sizeof(out)));
}

/* The result of zone zc (not combined) for addr. Sets *err and returns NULL on a
 * store error or when out of memory. */
static json_t *lookup_zone(struct store_reader *rd, const struct config *cfg,
			   const struct render_zones *ids, const struct zone_config *zc,
			   const struct entry_key *addr, uint32_t now, int *err)
{
	struct store_zone rec, allow_rec;
	const struct store_zone *zrec = NULL, *arec = NULL;
	const struct zone_config *xc = zc->exempt[0] ? config_zone(cfg, zc->exempt) : NULL;
	struct listing_match m;
	json_t *res, *entry = json_null();

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
	bool has_entry = v == LISTING_LISTED || v == LISTING_EXCLUDED || v == LISTING_EXEMPT;
	if (has_entry)
		entry = render_entry(rd, zc, &m.prefix, &m.entry, now);
	res = json_pack("{s:s s:s s:b s:o s:o s:o}", "zone", zc->name, "policy",
			zc->policy == ZONE_POLICY_ALLOW ? "allow" : "block", "listed", listed,
			"entry", entry, "answer_txt",
			listed ? answer_txt(zc, v, &m, addr) : json_null(), "history",
			key_history(rd, ids, zrec, has_entry ? &m.prefix : addr));
	if (res == NULL) {
		*err = DNSBL_ENOMEM;
		return NULL;
	}
	if (v == LISTING_TEST_LISTED || v == LISTING_TEST_UNLISTED)
		json_object_set_new(res, "test_point", json_true());
	if (v == LISTING_EXEMPT)
		json_object_set_new(res, "exempted_by",
				    json_pack("{s:s s:o}", "zone", xc->name, "entry",
					      render_entry(rd, xc, &m.allow_prefix, &m.allow, now)));
	struct store_tomb tomb;
	if (!listed && zrec != NULL && store_tomb_get(rd, zrec, addr, &tomb) == 0)
		json_object_set_new(res, "delisted", render_tomb(rd, &tomb));
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

/* The results of addr in every zone of its type, then in the combined zones whose
 * members are of that type, in config order. Sets *rc on a store error. */
static json_t *lookup_all(struct store_reader *rd, const struct config *cfg,
			  const struct entry_key *addr, enum zone_type type, int *rc)
{
	struct render_zones ids;
	uint32_t now = (uint32_t)time(NULL);
	json_t *results = json_array();

	render_zones_load(&ids, cfg, rd);
	*rc = 0;
	for (unsigned i = 0; *rc == 0 && i < cfg->zone_count; i++) {
		const struct zone_config *zc = &cfg->zones[i];
		if (zc->type != type)
			continue;
		json_t *one = lookup_zone(rd, cfg, &ids, zc, addr, now, rc);
		if (one != NULL)
			json_array_append_new(results, one);
	}
	for (unsigned i = 0; *rc == 0 && i < cfg->zone_count; i++) {
		const struct zone_config *zc = &cfg->zones[i];
		const struct zone_config *m0 =
			zc->member_count ? config_zone(cfg, zc->members[0]) : NULL;
		if (zc->type == ZONE_TYPE_COMBINED && m0 != NULL && m0->type == type)
			json_array_append_new(results, lookup_combined(zc, results));
	}
	return results;
}

void read_lookup(struct api *a, const struct api_call *c, struct api_response *r)
{
	const char *query = c->query;
	struct entry_key addr;
	uint8_t name[DNAME_KEY_MAX];
	size_t qlen = strlen(query);
	int rc = prefix_parse(query, qlen, &addr);
	enum zone_type type = ZONE_TYPE_IP;

	if (rc == 0 && addr.len != (addr.family == ADDR_FAMILY_V4 ? 32 : 128)) {
		response_error(r, 400, "%.80s: a lookup takes an address, not a prefix", query);
		return;
	}
	if (rc < 0) {
		/* not an address: a domain, looked up in the name zones */
		bool names = false;
		for (unsigned i = 0; i < a->cfg->zone_count; i++)
			names = names || a->cfg->zones[i].type == ZONE_TYPE_NAME;
		if (!names || dname_parse(query, qlen, name, &addr) < 0 || addr.kind != DNAME_EXACT) {
			response_error(r, 400, "%.80s%s: not an IP address%s", query,
				       qlen > 80 ? "..." : "",
				       names ? " or a domain" : " (and no zone holds domains)");
			return;
		}
		type = ZONE_TYPE_NAME;
	}
	struct store_reader *rd = read_begin(a, r);
	if (rd == NULL)
		return;
	json_t *results = lookup_all(rd, a->cfg, &addr, type, &rc);
	store_reader_free(rd);
	if (rc < 0) {
		json_decref(results);
		response_store_error(r, rc);
		return;
	}
	char text[ENTRY_KEY_TEXT_MAX];
	entry_key_format(&addr, 1, text, sizeof(text));
	response_json(r, 200, json_pack("{s:s s:o}", "query", text, "results", results));
}

/* --- entries --- */

void read_entry(struct api *a, const struct api_call *c, struct api_response *r)
{
	const struct zone_config *zc = c->zc;
	const struct entry_key *p = &c->key;
	struct store_reader *rd = read_begin(a, r);
	struct store_zone rec;
	struct store_entry e;
	struct store_tomb tomb;
	char key[ENTRY_KEY_TEXT_MAX];

	if (rd == NULL)
		return;
	entry_key_format(p, 1, key, sizeof(key));
	int rc = store_zone_get(rd, zc->name, &rec);
	if (rc == 0)
		rc = store_entry_get(rd, &rec, p, &e);
	if (rc == 0) {
		response_json(r, 200, render_entry(rd, zc, p, &e, (uint32_t)time(NULL)));
	} else if (rc == DNSBL_ENOTFOUND) {
		json_t *j = json_object();
		if (store_zone_get(rd, zc->name, &rec) == 0 && store_tomb_get(rd, &rec, p, &tomb) == 0)
			json_object_set_new(j, "delisted", render_tomb(rd, &tomb));
		char msg[600];
		snprintf(msg, sizeof(msg), "no entry %s in %s", key, zc->name);
		response_error_with(r, 404, j, msg);
	} else {
		response_store_error(r, rc);
	}
	store_reader_free(rd);
}

/* A walk over a zone's entries that renders a page of them. */
struct page_walk {
	struct store_reader *rd;
	const struct zone_config *zc;
	json_t *list;
	unsigned left;
	bool more;
	char last[ENTRY_KEY_TEXT_MAX]; /* the last key's text, the next cursor */
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
	json_t *j = render_entry(w->rd, w->zc, p, e, w->now);
	if (j == NULL || json_array_append_new(w->list, j) < 0)
		return DNSBL_ENOMEM;
	return 0;
}

/* A combined zone is refused before the parameters are looked at. */
void read_entries(struct api *a, const struct api_call *c, struct api_response *r)
{
	static const char *const allowed[] = { "cursor", "limit", NULL };
	const struct api_request *req = c->req;
	const struct zone_config *zc = c->zc;
	struct entry_key after;
	uint8_t name[DNAME_KEY_MAX];
	const char *cursor;
	unsigned limit;

	if (!request_zone_has_entries(zc, r) || !request_params_check(req, allowed, r) ||
	    !request_limit(req, &limit, r))
		return;
	if ((cursor = request_param(req, "cursor")) != NULL && *cursor != '\0' &&
	    entry_key_parse(zc->type == ZONE_TYPE_NAME, cursor, strlen(cursor), name, &after) != 0) {
		response_error(r, 400, "cursor: not a key (use a previous next_cursor)");
		return;
	}
	bool from_start = cursor == NULL || *cursor == '\0';
	struct store_reader *rd = read_begin(a, r);
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
		response_store_error(r, rc);
		return;
	}
	response_json(r, 200, json_pack("{s:s s:o s:o}", "zone", zc->name, "entries", w.list,
					"next_cursor", w.more ? json_string(w.last) : json_null()));
}

/* --- history --- */

/* What GET /v1/history selects. */
struct history_query {
	const struct zone_config *zc; /* NULL: every zone */
	bool has_key;
	struct entry_key key;
	uint8_t key_name[DNAME_KEY_MAX];
	uint32_t since;
	uint64_t before; /* records before this seq (the cursor) */
	unsigned limit;
};

/* Reads GET /v1/history's parameters (checked against the route's list already). */
static bool history_query_parse(struct api *a, const struct api_request *req,
				struct history_query *q, struct api_response *r)
{
	const char *zone = request_param(req, "zone"), *key = request_param(req, "key"),
		   *since_text = request_param(req, "since"), *cursor = request_param(req, "cursor");

	q->zc = NULL;
	q->has_key = key != NULL;
	q->since = 0;
	q->before = UINT64_MAX;
	if (!request_limit(req, &q->limit, r))
		return false;
	if (zone != NULL && (q->zc = config_zone(a->cfg, zone)) == NULL) {
		response_error(r, 404, "no zone %.255s", zone);
		return false;
	}
	if (key != NULL) {
		if (q->zc == NULL) {
			response_error(r, 400, "key: needs zone");
			return false;
		}
		if (!request_key_parse(q->zc, key, q->key_name, &q->key, r))
			return false;
	}
	if (since_text != NULL && time_parse(since_text, strlen(since_text), &q->since) < 0) {
		response_error(r, 400, "since: an RFC 3339 time or unix seconds");
		return false;
	}
	if (cursor != NULL) {
		char *end;
		errno = 0;
		unsigned long long n = strtoull(cursor, &end, 10);
		if (*cursor < '0' || *cursor > '9' || *end != '\0' || errno != 0 || n == 0) {
			response_error(r, 400, "cursor: use a previous next_cursor");
			return false;
		}
		q->before = n;
	}
	return true;
}

void read_history(struct api *a, const struct api_call *c, struct api_response *r)
{
	struct history_query q;
	if (!history_query_parse(a, c->req, &q, r))
		return;
	struct store_reader *rd = read_begin(a, r);
	if (rd == NULL)
		return;
	struct render_zones ids;
	struct render_history h = { rd, &ids, json_array(), q.limit, false, 0 };
	struct store_zone rec;
	int rc = 0;
	render_zones_load(&ids, a->cfg, rd);
	if (q.zc != NULL) {
		rc = store_zone_get(rd, q.zc->name, &rec);
		if (rc == 0)
			rc = store_history_scan_before(rd, rec.id, q.has_key ? &q.key : NULL, q.since,
						       q.before, render_history_one, &h);
		else if (rc == DNSBL_ENOTFOUND)
			rc = 0;
	} else {
		rc = store_history_scan_before(rd, 0, NULL, q.since, q.before, render_history_one,
					       &h);
	}
	store_reader_free(rd);
	if (rc < 0) {
		json_decref(h.list);
		response_store_error(r, rc);
		return;
	}
	char next[24];
	snprintf(next, sizeof(next), "%" PRIu64, h.last_seq);
	response_json(r, 200, json_pack("{s:o s:o}", "history", h.list, "next_cursor",
					h.more ? json_string(next) : json_null()));
}

void read_tokens(struct api *a, const struct api_call *c, struct api_response *r)
{
	(void)c;
	response_json(r, 200, json_pack("{s:o}", "tokens", auth_token_list(a)));
}
