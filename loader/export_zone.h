/* dnsbl-loader export --format zone: a zone as an RFC 1035 master file, the records
 * lib/zonemap makes (the same a secondary gets by AXFR), with the apex's SOA and NS
 * from the config. */
#ifndef DNSBL_EXPORT_ZONE_H
#define DNSBL_EXPORT_ZONE_H

#include <stdint.h>
#include <stdio.h>

#include "config.h"
#include "store.h"
#include "zonemap.h"

/* Writes zone zc as a master file to f from r's open snapshot at time now, adding
 * what was written to *st. Returns 0, DNSBL_EIO or a zonemap_run error. */
int export_zone_write(FILE *f, struct store_reader *r, const struct config *cfg,
		      const struct zone_config *zc, uint32_t now, struct zonemap_stats *st);

/* Counts zone zc's records (the apex's SOA and NS included) into *records. Returns 0
 * or a zonemap_run error. */
int export_zone_count(struct store_reader *r, const struct config *cfg,
		      const struct zone_config *zc, uint32_t now, uint64_t *records);

#endif
