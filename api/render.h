/* JSON of store records for the responses (api/README.md): times, codes, texts, keys,
 * the entry object, tombstones and history records. Every json_t returned is a new
 * reference owned by the caller, NULL only when out of memory. */
#ifndef DNSBL_API_RENDER_H
#define DNSBL_API_RENDER_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "addr.h"
#include "config.h"
#include "store.h"

/* Time t as an RFC 3339 UTC string, null for 0 ("never"). */
json_t *render_time(uint32_t t);

/* The IPv4 address a (an A answer, "127.0.0.2") as a string. */
json_t *render_code(uint32_t a);

/* s[0..len) as a string (bytes that are not UTF-8 become "?"), null when s is NULL. */
json_t *render_text(const char *s, size_t len);

/* Key p as the API writes it (hosts without /32 or /128, names in lower case). */
json_t *render_key(const struct entry_key *p);

/* The entry object of api/README.md for entry e of key p in zone zc, its state as of
 * now; rd names its source. */
json_t *render_entry(struct store_reader *rd, const struct zone_config *zc,
		     const struct entry_key *p, const struct store_entry *e, uint32_t now);

/* A tombstone as {"time", "actor", "reason"}. */
json_t *render_tomb(struct store_reader *rd, const struct store_tomb *t);

/* The store's ids of the configured zones (0: never written), for naming the zones of
 * history records. */
struct render_zones {
	const struct config *cfg;
	uint16_t id[256];
	unsigned n;
};

/* Fills *z with the ids of cfg's zones as read through rd. */
void render_zones_load(struct render_zones *z, const struct config *cfg, struct store_reader *rd);

/* A walk over history records that renders up to left of them into list. */
struct render_history {
	struct store_reader *rd;
	const struct render_zones *zones;
	json_t *list;      /* the caller's array the records are appended to */
	unsigned left;     /* how many more to take */
	bool more;         /* set when a record was left over: there is a next page */
	uint64_t last_seq; /* of the last record taken, the next cursor */
};

/* The store_history_scan callback for a struct render_history (arg): appends ev to
 * the list. Returns 0, 1 (stop: the page is full) or DNSBL_ENOMEM. */
int render_history_one(const struct store_event_rec *ev, void *arg);

#endif
