/* The columns of the trap feeds (enum feed_column), shared by the csv parser (header
 * names) and the jsonl parser (member names): one table gives each column's name,
 * the FEED_HAVE_ bit it sets, its parser and the feed_record member it fills. */
#ifndef DNSBL_FEED_COLUMN_H
#define DNSBL_FEED_COLUMN_H

#include <stdbool.h>
#include <stddef.h>

#include "feed.h"

#define FEED_LINE_MAX 8192 /* bytes in a csv or jsonl line */

/* Finds the column named name[0..len), in any case ("name" is the key column, as
 * domain lists call it). Returns an enum feed_column, or -1 for a column the loader
 * does not use. */
int feed_column_find(const char *name, size_t len);

/* Whether a jsonl member of column col may be a JSON number (else only a string). */
bool feed_column_numeric(enum feed_column col);

/* Sets column col of out from its text v[0..len). An empty value leaves a fact
 * absent; an empty key is an error. Returns 0 or DNSBL_ESYNTAX (*msg, static text,
 * says why). */
int feed_column_set(enum feed_keys keys, enum feed_column col, const char *v, size_t len,
		    struct feed_record *out, const char **msg);

/* Resets the parts of out that a csv or jsonl line sets (the text buffers' bytes
 * stay). */
void feed_record_clear(struct feed_record *out);

#endif
