/* zonemap_run and zonemap_serial, and what both walks share: a zone's members and
 * exemption lists, and the A and TXT records of an answer (see zonemap_impl.h). */
#include "zonemap_impl.h"

#include <stdlib.h>
#include <string.h>

#include "dname.h"
#include "err.h"
#include "txt.h"
#include "wire.h"

const struct zm_ent zm_test_ent;

bool zm_val_none(const struct zm_val *v, unsigned nmembers)
{
	for (unsigned i = 0; i < nmembers; i++)
		if (v->m[i] != NULL)
			return false;
	return true;
}

uint32_t zm_suffix_id_new(void)
{
	/* per thread and never reused within a transfer: 2^32 frames are far away */
	static _Thread_local uint32_t last;

	if (++last == 0)
		last = 1;
	return last;
}

static int emit(struct zm_run *run, const uint8_t *owner, size_t owner_len, uint16_t type,
		const uint8_t *rdata, size_t rdlen)
{
	struct zonemap_rr rr = { owner, owner_len, type, rdata, rdlen,
				 { run->suffix_id[0], run->suffix_id[1] },
				 { run->suffix_at[0], run->suffix_at[1] } };

	run->st.records++;
	if (owner_len >= 2 && owner[0] == 1 && owner[1] == '*')
		run->st.wildcards++;
	return run->fn(run->arg, &rr);
}

/* The A value member m answers with entry e (the test point: the default). */
static uint32_t val_a(const struct zm_member *m, const struct zm_ent *e)
{
	return e != ZM_TEST && (e->flags & STORE_F_A) ? e->a : m->cfg->a;
}

/* The TXT template member m answers with entry e; NULL for none. */
static const char *val_txt(const struct zm_member *m, const struct zm_ent *e, size_t *len)
{
	if (e != ZM_TEST && (e->flags & STORE_F_NOTXT))
		return NULL;
	if (e != ZM_TEST && (e->flags & STORE_F_TXT)) {
		*len = e->txt_len;
		return e->txt;
	}
	*len = m->txt_len;
	return *len ? m->cfg->txt : NULL;
}

static int emit_a_set(struct zm_run *run, const uint8_t *owner, size_t owner_len,
		      const struct zm_val *v)
{
	uint32_t seen[CONFIG_MAX_MEMBERS];
	unsigned n = 0;

	for (unsigned i = 0; i < run->nmembers; i++) {
		if (v->m[i] == NULL)
			continue;
		uint32_t a = val_a(&run->members[i], v->m[i]);
		bool dup = false;
		for (unsigned j = 0; j < n; j++)
			dup |= seen[j] == a;
		if (dup)
			continue; /* an RRset holds each record once, as dnsbld answers */
		seen[n++] = a;
		uint8_t rd[4] = { (uint8_t)(a >> 24), (uint8_t)(a >> 16), (uint8_t)(a >> 8),
				  (uint8_t)a };
		int rc = emit(run, owner, owner_len, DNS_T_A, rd, 4);
		if (rc != 0)
			return rc;
	}
	return 0;
}

int zm_emit_val(struct zm_run *run, const uint8_t *owner, size_t owner_len,
		const struct zm_val *v, const char *subst, const struct entry_key *subst_addr,
		bool exact)
{
	static _Thread_local uint8_t rdata[TXT_EXPANDED_MAX + TXT_EXPANDED_MAX / 255 + 8];
	const char *seen[CONFIG_MAX_MEMBERS];
	size_t seen_len[CONFIG_MAX_MEMBERS];
	unsigned n = 0;
	int rc = emit_a_set(run, owner, owner_len, v);

	for (unsigned i = 0; i < run->nmembers && rc == 0; i++) {
		const struct zm_ent *e = v->m[i];
		size_t tlen = 0;
		const char *tpl = e != NULL ? val_txt(&run->members[i], e, &tlen) : NULL;
		bool dup = false;
		if (tpl == NULL)
			continue;
		for (unsigned j = 0; j < n; j++)
			dup |= seen_len[j] == tlen && memcmp(seen[j], tpl, tlen) == 0;
		if (dup)
			continue; /* dnsbld writes each template once */
		seen[n] = tpl;
		seen_len[n++] = tlen;
		char entry_text[ENTRY_KEY_TEXT_MAX];
		const char *s = "";
		size_t slen = 0;
		/* the text "$" stands for, made only when the template has one */
		if (memchr(tpl, '$', tlen) == NULL) {
			s = "";
		} else if (!exact && e != ZM_TEST) {
			entry_key_format(&e->key, 1, entry_text, sizeof(entry_text));
			s = entry_text;
			slen = strlen(s);
		} else if (subst != NULL) {
			s = subst;
			slen = strlen(s);
		} else if (subst_addr != NULL) {
			slen = addr_format(subst_addr, entry_text, sizeof(entry_text));
			s = entry_text;
		}
		size_t xlen = txt_expand(tpl, tlen, s, slen, run->txt, sizeof(run->txt));
		struct wire_out w;
		wire_out_init(&w, rdata, sizeof(rdata));
		wire_put_txt_rdata(&w, run->txt, xlen);
		if (w.err != 0)
			return DNSBL_ERANGE;
		rc = emit(run, owner, owner_len, DNS_T_TXT, rdata + 2, w.pos - 2);
	}
	return rc;
}

int zm_emit_placeholder(struct zm_run *run, const uint8_t *owner, size_t owner_len)
{
	static const uint8_t hinfo[] = { 7, 'R', 'F', 'C', '8', '4', '8', '2', 0 };

	return emit(run, owner, owner_len, ZONEMAP_T_HINFO, hinfo, sizeof(hinfo));
}

/* Reads zone name's store record into *rec; *has says whether it exists. */
static int record_get(struct store_reader *r, const char *name, struct store_zone *rec,
		      bool *has)
{
	int rc = store_zone_get(r, name, rec);

	*has = rc == 0;
	return rc == DNSBL_ENOTFOUND ? 0 : rc;
}

int zm_members_load(struct zm_run *run, const struct config *cfg,
			const struct zone_config *zc)
{
	unsigned n = zc->type == ZONE_TYPE_COMBINED ? zc->member_count : 1;

	run->nmembers = 0;
	for (unsigned i = 0; i < n; i++) {
		const struct zone_config *mc =
			zc->type == ZONE_TYPE_COMBINED ? config_zone(cfg, zc->members[i]) : zc;
		if (mc == NULL || mc->type == ZONE_TYPE_COMBINED)
			return DNSBL_EINVAL;
		struct zm_member *m = &run->members[run->nmembers++];
		memset(m, 0, sizeof(*m));
		m->cfg = mc;
		m->txt_len = strlen(mc->txt);
		run->type = mc->type;
		int rc = record_get(run->r, mc->name, &m->block, &m->has_block);
		if (rc == 0 && mc->exempt[0] != '\0') {
			if (config_zone(cfg, mc->exempt) == NULL)
				return DNSBL_EINVAL;
			rc = record_get(run->r, mc->exempt, &m->exempt, &m->has_exempt);
		}
		if (rc < 0)
			return rc;
	}
	return 0;
}

int zm_sources_foreach(const struct zm_run *run,
		       int (*fn)(void *arg, const struct store_zone *z), void *arg)
{
	int rc = 0;

	for (unsigned i = 0; i < run->nmembers && rc == 0; i++) {
		const struct zm_member *m = &run->members[i];
		if (m->has_block)
			rc = fn(arg, &m->block);
		if (rc == 0 && m->has_exempt)
			rc = fn(arg, &m->exempt);
	}
	return rc;
}

int zonemap_run(struct store_reader *r, const struct config *cfg, const struct zone_config *zc,
		uint32_t now, zonemap_emit_fn fn, void *arg, struct zonemap_stats *st)
{
	return zonemap_run_view(r, cfg, zc, NULL, now, fn, arg, st);
}

static int change_cmp(const void *pa, const void *pb)
{
	const struct zonemap_change *a = pa, *b = pb;

	if (a->key.family != b->key.family)
		return (int)a->key.family - (int)b->key.family;
	int c = memcmp(a->key.addr, b->key.addr, a->key.family == ADDR_FAMILY_V6 ? 16 : 4);
	if (c != 0)
		return c;
	if (a->key.len != b->key.len)
		return (int)a->key.len - (int)b->key.len;
	return a < b ? -1 : a > b; /* stable: the first change of a key comes first */
}

size_t zonemap_changes_sort(struct zonemap_change *changes, size_t n)
{
	size_t out = 0;

	if (n < 2)
		return n; /* (and qsort must not see a null array) */
	qsort(changes, n, sizeof(*changes), change_cmp);
	for (size_t i = 0; i < n; i++) {
		const struct entry_key *k = &changes[i].key;
		if (out > 0) {
			const struct entry_key *prev = &changes[out - 1].key;
			if (k->family == prev->family && k->len == prev->len &&
			    memcmp(k->addr, prev->addr, k->family == ADDR_FAMILY_V6 ? 16 : 4) == 0)
				continue;
		}
		changes[out++] = changes[i];
	}
	return out;
}

int zonemap_run_view(struct store_reader *r, const struct config *cfg,
		     const struct zone_config *zc, const struct zonemap_overlay *ov, uint32_t now,
		     zonemap_emit_fn fn, void *arg, struct zonemap_stats *st)
{
	return zm_run_filtered(r, cfg, zc, ov, now, NULL, fn, arg, st);
}

int zm_run_filtered(struct store_reader *r, const struct config *cfg,
		    const struct zone_config *zc, const struct zonemap_overlay *ov, uint32_t now,
		    const struct zm_filter *filter, zonemap_emit_fn fn, void *arg,
		    struct zonemap_stats *st)
{
	static _Thread_local struct zm_run run; /* its TXT scratch is large */
	int rc;

	memset(&run.st, 0, sizeof(run.st));
	memset(run.suffix_id, 0, sizeof(run.suffix_id));
	run.r = r;
	run.now = now;
	run.ov = ov;
	run.filter = filter;
	run.fn = fn;
	run.arg = arg;
	if ((rc = zm_members_load(&run, cfg, zc)) < 0)
		return rc;
	if (run.type == ZONE_TYPE_NAME && (ov != NULL || filter != NULL))
		return DNSBL_EINVAL; /* the name walk asks lib/listing, which sees the snapshot */
	if (run.type == ZONE_TYPE_NAME) {
		rc = zm_walk_names(&run);
	} else {
		rc = zm_walk_ip(&run, ADDR_FAMILY_V4);
		if (rc == 0)
			rc = zm_walk_ip(&run, ADDR_FAMILY_V6);
	}
	if (st != NULL) {
		st->records += run.st.records;
		st->entries += run.st.entries;
		st->wildcards += run.st.wildcards;
		st->skipped += run.st.skipped;
	}
	return rc;
}

uint32_t zonemap_serial(struct store_reader *r, const struct config *cfg,
			const struct zone_config *zc)
{
	struct store_zone rec;
	uint32_t serial = 0;

	if (zc->type != ZONE_TYPE_COMBINED) {
		serial = store_zone_get(r, zc->name, &rec) == 0 ? rec.serial : 0;
		if (zc->exempt[0] != '\0' && store_zone_get(r, zc->exempt, &rec) == 0)
			serial += rec.serial;
		return serial;
	}
	for (unsigned i = 0; i < zc->member_count; i++) {
		const struct zone_config *mc = config_zone(cfg, zc->members[i]);
		if (mc != NULL && mc->type != ZONE_TYPE_COMBINED)
			serial += zonemap_serial(r, cfg, mc);
	}
	return serial;
}
