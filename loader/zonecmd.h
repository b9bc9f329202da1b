/* dnsbl-loader's commands other than import: expire, export, stats, delist and
 * history. Each reports on stderr (data on stdout) and returns an exit status:
 * 0 done, 1 done with a finding (delist: not listed), 2 failed. */
#ifndef DNSBL_ZONECMD_H
#define DNSBL_ZONECMD_H

#include "config.h"

enum export_format { EXPORT_RBLDNSD, EXPORT_PLAIN, EXPORT_CSV, EXPORT_ZONE };

/* Deletes expired entries of the named zones (every zone when nzones is 0) and
 * history older than the config's history_keep. */
int cmd_expire(const struct config *cfg, char **zones, int nzones);

/* Writes the zone's answered entries in format to out_path ("-" or NULL: stdout;
 * a file is written beside its final name and renamed into place). */
int cmd_export(const struct config *cfg, const char *zone, enum export_format format,
	       const char *out_path);

/* Prints the zone's counts, serial and store size as "key: value" lines. */
int cmd_stats(const struct config *cfg, const char *zone);

/* An operator's delisting of key (an address or CIDR) by actor, with reason. */
int cmd_delist(const struct config *cfg, const char *zone, const char *key, const char *actor,
	       const char *reason);

/* Prints the newest limit history records of the zone (of key, when not NULL). */
int cmd_history(const struct config *cfg, const char *zone, const char *key, unsigned limit);

#endif
