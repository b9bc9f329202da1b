/* Private to lib/zonemap*.c: a zone's members as the mapping sees them, answer
 * values, and the record writer the IP and name walks share.
 *   zonemap.c       members, values, records, zonemap_run, zonemap_serial
 *   zonemap_ip.c    the IP walk (IPv4 by octets, IPv6 by nibbles, IPv4-mapped)
 *   zonemap_name.c  the name walk
 *   zonemap_diff.c  IXFR's difference between an older view and the snapshot
 *   zonemap_view.c  the older view of a serial, from the store's journal */
#ifndef DNSBL_ZONEMAP_IMPL_H
#define DNSBL_ZONEMAP_IMPL_H

#include <stdbool.h>

#include "addr.h"
#include "zonemap.h"

/* One zone whose listings answer (the zone itself, or a member of a combined one). */
struct zm_member {
	const struct zone_config *cfg;
	size_t txt_len; /* of cfg->txt, the default template */
	bool has_block, has_exempt;
	struct store_zone block, exempt; /* store records (when has_*) */
};

/* An active entry of one source, copied out of the walk (texts stay in the
 * snapshot, which lasts the whole run). */
struct zm_ent {
	struct entry_key key; /* as answered: an IPv4 entry in the mapped walk keeps
			       * its IPv4 key here */
	uint8_t flags;
	uint32_t a;
	const char *txt;
	size_t txt_len;
};

/* What one member answers for a range: NULL (nothing), the test point, or an entry. */
extern const struct zm_ent zm_test_ent;
#define ZM_TEST (&zm_test_ent)

/* An answer: per member what lists it (all NULL: nothing listed). */
struct zm_val {
	const struct zm_ent *m[CONFIG_MAX_MEMBERS];
};

/* The entry keys whose records may differ between two views (zonemap_diff): sorted
 * by family, address and length, IPv4 keys also in their mapped IPv6 form. A walk
 * with a filter writes only the records of frames that hold such a key or lie
 * inside one: every other frame's records are the same in both views. */
struct zm_filter {
	struct entry_key *keys;
	size_t n, cap;
};

struct zm_run {
	struct store_reader *r;
	uint32_t now;
	const struct zonemap_overlay *ov; /* NULL: the snapshot as it is */
	const struct zm_filter *filter;   /* NULL: every record */
	unsigned nmembers;
	struct zm_member members[CONFIG_MAX_MEMBERS];
	enum zone_type type; /* ip or name (a combined zone's members') */
	zonemap_emit_fn fn;
	void *arg;
	uint32_t suffix_id[2]; /* the hints the records emitted now carry (zonemap_rr) */
	size_t suffix_at[2];
	struct zonemap_stats st;
	char txt[TXT_EXPANDED_MAX];
};

/* Fills run's members from zone zc (itself, or a combined zone's members) as run->r
 * has them. Returns 0, DNSBL_EINVAL (a member or exemption zone missing from cfg) or
 * a store error. */
int zm_members_load(struct zm_run *run, const struct config *cfg, const struct zone_config *zc);

/* Adds key k (an IP prefix; others are ignored) to filter f. Returns 0 or
 * DNSBL_ENOMEM. */
int zm_filter_add(struct zm_filter *f, const struct entry_key *k);

/* Sorts f's keys for the walks (after the last zm_filter_add). */
void zm_filter_finish(struct zm_filter *f);

/* Frees f's keys. */
void zm_filter_free(struct zm_filter *f);

/* Sets how many bytes of records zonemap_diff keeps from its first walks (beyond
 * it, it walks again): for tests of both ways. */
void zm_diff_set_buffer_limit(size_t bytes);

/* zonemap_run_view writing only what filter lets through (NULL: everything). */
int zm_run_filtered(struct store_reader *r, const struct config *cfg,
		    const struct zone_config *zc, const struct zonemap_overlay *ov, uint32_t now,
		    const struct zm_filter *filter, zonemap_emit_fn fn, void *arg,
		    struct zonemap_stats *st);

/* Calls fn for each store zone run's members read from (each member's list, then
 * its exemption list, as run->r has them), until fn returns non-zero (returned). */
int zm_sources_foreach(const struct zm_run *run,
		       int (*fn)(void *arg, const struct store_zone *z), void *arg);

/* A suffix id no record of this thread's walks had before (zonemap_rr). */
uint32_t zm_suffix_id_new(void);

/* Whether v lists nothing. */
bool zm_val_none(const struct zm_val *v, unsigned nmembers);

/* Emits v's A and TXT records at owner (relative wire labels). subst is what "$"
 * stands for when the answer comes from the test point or when exact (a name that
 * is one address or name), or when it is NULL the address subst_addr as text (made
 * only for a template with a "$"); otherwise each member's entry is written as
 * text. Returns 0 or the callback's result. */
int zm_emit_val(struct zm_run *run, const uint8_t *owner, size_t owner_len,
		const struct zm_val *v, const char *subst, const struct entry_key *subst_addr,
		bool exact);

/* Emits the placeholder (HINFO "RFC8482" "") that makes owner exist without A/TXT. */
int zm_emit_placeholder(struct zm_run *run, const uint8_t *owner, size_t owner_len);

/* The IP walk of family (ADDR_FAMILY_V4 or _V6). */
int zm_walk_ip(struct zm_run *run, uint8_t family);

/* The name walk. */
int zm_walk_names(struct zm_run *run);

#endif
