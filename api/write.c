#include "endpoints.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "render.h"
#include "request.h"
#include "response.h"

#define OPERATOR_PREFIX "operator:" /* the source and actor of what a token's owner writes */

/* The Location of the entry of key p in zone zc, the slash of a prefix percent-encoded. */
static void location_of(const struct zone_config *zc, const struct entry_key *p, char *buf,
			size_t size)
{
	char key[ENTRY_KEY_TEXT_MAX], enc[3 * ENTRY_KEY_TEXT_MAX];
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
 * and returns a negative code on failure (nothing is left open then). */
static int writer_open(struct api *a, const struct zone_config *zc, const char *name,
		       struct store_writer **w, struct store_zone **z, uint16_t *actor,
		       struct api_response *r)
{
	char actor_name[STORE_NAME_MAX + 16];
	int rc;

	snprintf(actor_name, sizeof(actor_name), OPERATOR_PREFIX "%s", name);
	if ((rc = store_writer_begin(a->store, w)) < 0) {
		response_store_error(r, rc);
		return rc;
	}
	if ((rc = store_writer_zone(*w, zc->name, z)) < 0 ||
	    (rc = store_writer_source(*w, actor_name, actor)) < 0) {
		store_writer_abort(*w);
		response_store_error(r, rc);
	}
	return rc;
}

/* The store_put of a checked PUT body b by source actor_id at time now. */
static struct store_put put_of(const struct request_put *b, uint16_t actor_id, uint32_t now,
			       const struct store_lifecycle *life)
{
	return (struct store_put){
		.flags = (uint8_t)((b->exclude ? STORE_F_EXCLUDE : 0) | (b->has_code ? STORE_F_A : 0) |
				   (b->has_txt ? STORE_F_TXT : 0) | (b->txt_null ? STORE_F_NOTXT : 0)),
		.actor = STORE_ACTOR_OPERATOR,
		.source_id = actor_id,
		.a = b->code,
		.seen = now,
		.hits = 1,
		.expires = b->expires,
		.expires_set = b->has_expires,
		.ttl = b->ttl,
		.now = now,
		.life = life,
		.reason = b->reason,
		.reason_len = b->reason_len,
		.txt = b->txt,
		.txt_len = b->txt_len,
	};
}

/* Answers a committed PUT of key p with the entry as stored now, read like any client
 * would, and what store_merge did (outcome: STORE_CREATED, ...). */
static void put_reply(struct api *a, const struct zone_config *zc, const struct entry_key *p,
		      int outcome, uint32_t now, struct api_response *r)
{
	struct store_reader *rd = read_begin(a, r);
	struct store_zone rec;
	struct store_entry e;
	if (rd == NULL)
		return;
	int rc = store_zone_get(rd, zc->name, &rec);
	if (rc == 0)
		rc = store_entry_get(rd, &rec, p, &e);
	if (rc < 0) {
		store_reader_free(rd);
		response_store_error(r, rc);
		return;
	}
	json_t *j = render_entry(rd, zc, p, &e, now);
	store_reader_free(rd);
	bool created = outcome == STORE_CREATED || outcome == STORE_RELISTED;
	json_object_set_new(j, "outcome",
			    json_string(outcome == STORE_RELISTED ? "relisted"
					: created		 ? "created"
								 : "updated"));
	if (created)
		location_of(zc, p, r->location, sizeof(r->location));
	response_json(r, created ? 201 : 200, j);
}

void write_entry(struct api *a, const struct api_call *c, struct api_response *r)
{
	const struct zone_config *zc = c->zc;
	uint32_t now = (uint32_t)time(NULL);
	struct store_lifecycle life = { zc->expire_after, zc->list_threshold, zc->list_window,
					zc->relist_after };
	struct request_put b;
	struct store_writer *w;
	struct store_zone *z;
	uint16_t actor_id;
	int outcome = 0, rc;

	json_t *body = request_put_body(c->req, &b, now, r);
	if (body == NULL)
		return;
	if (writer_open(a, zc, c->actor, &w, &z, &actor_id, r) < 0) {
		json_decref(body);
		return;
	}
	struct store_put put = put_of(&b, actor_id, now, &life);
	rc = store_merge(w, z, &c->key, &put, &outcome);
	json_decref(body);
	if (rc < 0) {
		store_writer_abort(w);
		response_store_error(r, rc);
		return;
	}
	if ((rc = store_writer_commit(w)) < 0) {
		response_store_error(r, rc);
		return;
	}
	put_reply(a, zc, &c->key, outcome, now, r);
}

/* Answers a DELETE of key p that found nothing to delist (the writer w is still open
 * and is aborted): 409 when a covering entry lists p, else 404. */
static void delist_refused(struct store_writer *w, struct store_zone *z,
			   const struct zone_config *zc, const struct entry_key *p, uint32_t now,
			   struct api_response *r)
{
	struct store_entry e;
	struct entry_key covering;
	char key[ENTRY_KEY_TEXT_MAX], msg[1400];

	entry_key_format(p, 1, key, sizeof(key));
	int rc = store_writer_lookup(w, z, p, now, &e, &covering);
	store_writer_abort(w);
	if (rc == 0 && !(e.flags & STORE_F_EXCLUDE)) {
		char cov[ENTRY_KEY_TEXT_MAX];
		entry_key_format(&covering, 1, cov, sizeof(cov));
		snprintf(msg, sizeof(msg),
			 "%s has no entry of its own in %s but is listed by %s: delete that "
			 "entry, or PUT {\"exclude\": true} for %s",
			 key, zc->name, cov, key);
		response_error_with(r, 409, json_pack("{s:s}", "covered_by", cov), msg);
	} else if (rc == 0 || rc == DNSBL_ENOTFOUND) {
		response_error(r, 404, "%s is not listed in %s", key, zc->name);
	} else {
		response_store_error(r, rc);
	}
}

void write_delist(struct api *a, const struct api_call *c, struct api_response *r)
{
	const struct zone_config *zc = c->zc;
	uint32_t now = (uint32_t)time(NULL);
	const char *reason;
	size_t reason_len;
	struct store_writer *w;
	struct store_zone *z;
	struct store_entry e;
	uint16_t actor_id;

	json_t *body = request_delist_body(c->req, &reason, &reason_len, r);
	if (body == NULL)
		return;
	if (writer_open(a, zc, c->actor, &w, &z, &actor_id, r) < 0) {
		json_decref(body);
		return;
	}
	int rc = store_writer_entry_get(w, z, &c->key, &e);
	if (rc == 0) {
		int st = store_entry_state(&e, now);
		if (st == STORE_STATE_LISTED || st == STORE_STATE_EXCLUDED)
			rc = store_delist(w, z, &c->key, actor_id, reason, reason_len, now);
		else
			rc = DNSBL_ENOTFOUND;
	}
	json_decref(body);
	if (rc == 0) {
		if ((rc = store_writer_commit(w)) < 0)
			response_store_error(r, rc);
		else
			response_set(r, 204, NULL, NULL);
	} else if (rc != DNSBL_ENOTFOUND) {
		store_writer_abort(w);
		response_store_error(r, rc);
	} else {
		delist_refused(w, z, zc, &c->key, now, r);
	}
}
