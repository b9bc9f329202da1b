/* dnsbl-loader import: reads a list file or trap feed and merges it into a zone in
 * one write transaction. */
#ifndef DNSBL_IMPORT_H
#define DNSBL_IMPORT_H

#include <stdbool.h>

#include "config.h"
#include "feed.h"

struct import_opts {
	const char *zone_name;
	const char *input;   /* path, or "-" for stdin */
	const char *source;  /* default source name */
	enum feed_format format;
	bool replace, strict;
	int progress;        /* 1 always, 0 never, -1 when stderr is a terminal */
};

/* Runs the import described by o with the zone's config from cfg, reporting on
 * stderr. Returns the exit status of the contract: 0 every line imported, 1 some
 * lines rejected, 2 nothing imported. */
int import_run(const struct config *cfg, const struct import_opts *o);

#endif
