/* The csv trap-feed format (RFC 4180): a header row naming the columns, then one hit
 * per row (see feed.h; the columns are read in feed_column.c). */
#include "feed.h"

#include <stdio.h>
#include <string.h>

#include "feed_column.h"
#include "feed_key.h"

void csv_state_init(struct csv_state *st, enum feed_keys keys)
{
	memset(st, 0, sizeof(*st));
	st->keys = keys;
	for (int i = 0; i < FEED_COL_COUNT; i++)
		st->col[i] = -1;
}

/* Splits an RFC 4180 line into fields, unquoting into buf (at least len bytes).
 * Returns the number of fields or -1 (*msg set). */
static int csv_split(const char *line, size_t len, char *buf, const char **field,
		     size_t *flen, const char **msg)
{
	size_t i = 0, o = 0;
	int n = 0;

	for (;;) {
		if (n == CSV_MAX_FIELDS) {
			*msg = "more than 64 fields";
			return -1;
		}
		field[n] = buf + o;
		size_t start = o;
		if (i < len && line[i] == '"') {
			i++;
			for (;;) {
				if (i == len) {
					*msg = "unterminated quoted field";
					return -1;
				}
				if (line[i] == '"') {
					if (i + 1 < len && line[i + 1] == '"') {
						buf[o++] = '"';
						i += 2;
						continue;
					}
					i++;
					break;
				}
				buf[o++] = line[i++];
			}
			if (i < len && line[i] != ',') {
				*msg = "text after a closing quote";
				return -1;
			}
		} else {
			while (i < len && line[i] != ',') {
				if (line[i] == '"') {
					*msg = "a quote inside an unquoted field";
					return -1;
				}
				buf[o++] = line[i++];
			}
		}
		flen[n++] = o - start;
		if (i == len)
			return n;
		i++; /* the comma */
	}
}

/* Reads the header's n fields into st: where each known column is. */
static enum feed_line csv_header(struct csv_state *st, const char *const *field,
				 const size_t *flen, int n, const char **msg)
{
	for (int i = 0; i < n; i++) {
		const char *f = field[i];
		size_t fl = flen[i];
		feed_trim(&f, &fl);
		int c = feed_column_find(f, fl);
		if (c < 0)
			continue; /* a column we do not use */
		if (st->col[c] >= 0) {
			*msg = "header: a column appears twice";
			csv_state_init(st, st->keys);
			return FEED_LINE_ERROR;
		}
		st->col[c] = i;
	}
	if (st->col[FEED_COL_IP] < 0) {
		*msg = "header: no 'ip' (or 'name') column";
		csv_state_init(st, st->keys);
		return FEED_LINE_ERROR;
	}
	st->nfields = (unsigned)n;
	st->have_header = true;
	return FEED_LINE_SKIP;
}

enum feed_line csv_parse_line(struct csv_state *st, const char *line, size_t len,
			      struct feed_record *out, const char **msg)
{
	char buf[FEED_LINE_MAX];
	const char *field[CSV_MAX_FIELDS];
	size_t flen[CSV_MAX_FIELDS];
	int n;

	*msg = NULL;
	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (feed_line_blank(line, len) || line[0] == '#')
		return FEED_LINE_SKIP;
	if (len > FEED_LINE_MAX) {
		*msg = "line longer than 8192 bytes";
		return FEED_LINE_ERROR;
	}
	if ((n = csv_split(line, len, buf, field, flen, msg)) < 0)
		return FEED_LINE_ERROR;
	if (!st->have_header)
		return csv_header(st, field, flen, n, msg);
	if ((unsigned)n != st->nfields) {
		static char text[80];
		snprintf(text, sizeof(text), "%d fields, the header has %u", n, st->nfields);
		*msg = text;
		return FEED_LINE_ERROR;
	}
	feed_record_clear(out);
	for (int c = 0; c < FEED_COL_COUNT; c++) {
		int i = st->col[c];
		if (i >= 0 &&
		    feed_column_set(st->keys, (enum feed_column)c, field[i], flen[i], out, msg) < 0)
			return FEED_LINE_ERROR;
	}
	return FEED_LINE_RECORD;
}
