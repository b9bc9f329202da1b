/* The zones dnsbld serves, prepared once from the config: lower-case apex names,
 * pre-packed SOA and NS RDATA, TTLs and default values, so the per-query path only
 * copies bytes. */
#ifndef DNSBLD_ZONE_H
#define DNSBLD_ZONE_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

#define ZONE_SOA_NAMES_MAX (2 * DNAME_WIRE_MAX)

struct zone {
	const struct zone_config *cfg; /* owned by the config */
	uint8_t apex[DNAME_WIRE_MAX];  /* lower-case wire name */
	uint8_t apex_len;
	uint8_t apex_labels;           /* labels before the root */
	uint32_t ttl;
	uint32_t neg_ttl;              /* min(SOA TTL, SOA minimum), RFC 2308 */
	uint32_t a;                    /* default A, host order */
	const char *txt;               /* default TXT template ("" = none) */
	size_t txt_len;
	/* SOA RDATA without the serial: mname and rname, then the four times */
	uint8_t soa_names[ZONE_SOA_NAMES_MAX];
	size_t soa_names_len;
	uint8_t soa_times[16];
	unsigned ns_count;
	const struct dname *ns;
	const struct key_config *key;   /* transfer_key (TSIG), NULL for none; the config's */
	int exempt;                    /* index of the exempt (allowlist) zone, or -1 */
	unsigned member_count;         /* combined zones: */
	unsigned members[CONFIG_MAX_MEMBERS]; /* the member zones' indexes */
	enum zone_type member_type;    /* what the members hold (ip or name) */
};

struct zone_table {
	unsigned count;
	struct zone *zones; /* owned by the table */
};

/* Builds the table for every zone in cfg (which must outlive it). Returns 0 or
 * DNSBL_ENOMEM. */
int zone_table_init(struct zone_table *t, const struct config *cfg);

/* Frees what zone_table_init allocated. */
void zone_table_free(struct zone_table *t);

/* Finds the zone with the most labels whose apex is a suffix of the query name.
 * qname is the wire name at offset 12 of the query, label_off/nlabels as parsed.
 * Returns the zone's index or -1. Never allocates. */
int zone_table_find(const struct zone_table *t, const uint8_t *qname, const uint8_t *label_off,
		    unsigned nlabels);

#endif
