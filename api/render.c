#include "render.h"

#include <stdio.h>

#include "dname.h"
#include "err.h"
#include "timeutil.h"
#include "txt.h"

json_t *render_time(uint32_t t)
{
	char buf[TIME_TEXT_MAX];
	if (t == 0)
		return json_null();
	time_format(t, buf);
	return json_string(buf);
}

json_t *render_code(uint32_t a)
{
	char buf[16];
	addr4_format(a, buf);
	return json_string(buf);
}

/* Stored texts came through our parsers, but bytes are not trusted blindly: jansson
 * needs valid UTF-8. */
json_t *render_text(const char *s, size_t len)
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

json_t *render_key(const struct entry_key *p)
{
	char buf[ENTRY_KEY_TEXT_MAX];
	entry_key_format(p, 1, buf, sizeof(buf));
	return json_string(buf);
}

static const char *state_name(int st)
{
	switch (st) {
	case STORE_STATE_LISTED: return "listed";
	case STORE_STATE_EXCLUDED: return "excluded";
	case STORE_STATE_PENDING: return "pending";
	default: return "expired";
	}
}

json_t *render_entry(struct store_reader *rd, const struct zone_config *zc,
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
		code = render_code((e->flags & STORE_F_A) ? e->a : zc->a);
	if (excl || (e->flags & STORE_F_NOTXT))
		txt = json_null();
	else if (e->flags & STORE_F_TXT)
		txt = render_text(e->txt, e->txt_len);
	else
		txt = zc->txt[0] ? json_string(zc->txt) : json_null();
	return json_pack("{s:o s:s s:o s:o s:o s:s s:b s:o s:o s:I s:o}", "key", render_key(p),
			 "state", state_name(store_entry_state(e, now)), "code", code, "txt", txt,
			 "reason", e->reason_len ? render_text(e->reason, e->reason_len) : json_null(),
			 "source", source, "manual", (e->flags & STORE_F_MANUAL) != 0,
			 "first_seen", render_time(e->first_seen), "last_seen",
			 render_time(e->last_seen), "hits", (json_int_t)e->hits, "expires",
			 render_time(e->expires));
}

json_t *render_tomb(struct store_reader *rd, const struct store_tomb *t)
{
	char actor[STORE_ACTOR_TEXT_MAX];
	store_actor_format(rd, STORE_ACTOR_OPERATOR, t->actor_id, actor, sizeof(actor));
	return json_pack("{s:o s:s s:o}", "time", render_time(t->time), "actor", actor, "reason",
			 t->reason_len ? render_text(t->reason, t->reason_len) : json_null());
}

void render_zones_load(struct render_zones *z, const struct config *cfg, struct store_reader *rd)
{
	z->cfg = cfg;
	z->n = cfg->zone_count < 256 ? cfg->zone_count : 256;
	for (unsigned i = 0; i < z->n; i++) {
		struct store_zone rec;
		z->id[i] = store_zone_get(rd, cfg->zones[i].name, &rec) == 0 ? rec.id : 0;
	}
}

/* The name of the zone with store id id, or "#id" for one not configured (any more). */
static json_t *zone_name_json(const struct render_zones *z, uint16_t id)
{
	char buf[16];
	for (unsigned i = 0; i < z->n; i++)
		if (z->id[i] == id && id != 0)
			return json_string(z->cfg->zones[i].name);
	snprintf(buf, sizeof(buf), "#%u", id);
	return json_string(buf);
}

int render_history_one(const struct store_event_rec *ev, void *arg)
{
	struct render_history *h = arg;
	char actor[STORE_ACTOR_TEXT_MAX];

	if (h->left == 0) {
		h->more = true;
		return 1;
	}
	h->left--;
	h->last_seq = ev->seq;
	store_actor_format(h->rd, ev->actor, ev->actor_id, actor, sizeof(actor));
	json_t *rec = json_pack("{s:I s:o s:o s:s s:o s:s s:o s:o}", "seq", (json_int_t)ev->seq,
				"time", render_time(ev->time), "zone",
				zone_name_json(h->zones, ev->zone_id), "event",
				store_event_name(ev->event), "key", render_key(&ev->prefix),
				"actor", actor, "code", ev->a ? render_code(ev->a) : json_null(),
				"reason", ev->reason_len ? render_text(ev->reason, ev->reason_len)
							 : json_null());
	if (rec == NULL || json_array_append_new(h->list, rec) < 0)
		return DNSBL_ENOMEM;
	return 0;
}
