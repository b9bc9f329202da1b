/* The jsonl trap-feed format: one JSON object per line, its members named like the
 * csv columns (see feed.h; the columns are read in feed_column.c). */
#include "feed.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "feed_column.h"
#include "feed_key.h"

/* Gives the text of member key (value val, column col): a string as it is, a number
 * where the column takes one as its decimal text in num (24 bytes). Returns 0 or -1
 * (*msg set). */
static int member_text(enum feed_column col, const char *key, json_t *val, char *num,
		       const char **text, size_t *tlen, const char **msg)
{
	if (json_is_string(val)) {
		*text = json_string_value(val);
		*tlen = json_string_length(val);
		return 0;
	}
	if (json_is_integer(val) && feed_column_numeric(col)) {
		json_int_t iv = json_integer_value(val);
		if (iv < 0) {
			*msg = "a negative number";
			return -1;
		}
		*tlen = (size_t)snprintf(num, 24, "%lld", (long long)iv);
		*text = num;
		return 0;
	}
	static char m[64];
	/* the member as written: "name" and "ip" are both the key */
	snprintf(m, sizeof(m), "%.32s: wrong JSON type", key);
	*msg = m;
	return -1;
}

/* Sets out from the members of obj that name a column, in their order. */
static enum feed_line object_record(enum feed_keys keys, json_t *obj, struct feed_record *out,
				    const char **msg)
{
	const char *key;
	json_t *val;
	bool have_ip = false;

	json_object_foreach(obj, key, val) {
		int col = feed_column_find(key, strlen(key));
		char num[24];
		const char *text;
		size_t tlen;
		if (col < 0 || json_is_null(val))
			continue;
		if (member_text((enum feed_column)col, key, val, num, &text, &tlen, msg) < 0)
			return FEED_LINE_ERROR;
		if (col == FEED_COL_IP)
			have_ip = true;
		if (feed_column_set(keys, (enum feed_column)col, text, tlen, out, msg) < 0)
			return FEED_LINE_ERROR;
	}
	if (!have_ip) {
		*msg = keys == FEED_KEYS_NAME ? "no \"name\" member" : "no \"ip\" member";
		return FEED_LINE_ERROR;
	}
	return FEED_LINE_RECORD;
}

enum feed_line jsonl_parse_line(enum feed_keys keys, const char *line, size_t len,
				struct feed_record *out, const char **msg)
{
	json_error_t jerr;
	json_t *obj;
	enum feed_line result;

	*msg = NULL;
	if (feed_line_blank(line, len))
		return FEED_LINE_SKIP;
	if (len > FEED_LINE_MAX) {
		*msg = "line longer than 8192 bytes";
		return FEED_LINE_ERROR;
	}
	obj = json_loadb(line, len, 0, &jerr);
	if (obj == NULL) {
		*msg = "not valid JSON";
		return FEED_LINE_ERROR;
	}
	if (!json_is_object(obj)) {
		json_decref(obj);
		*msg = "not a JSON object";
		return FEED_LINE_ERROR;
	}
	feed_record_clear(out);
	result = object_record(keys, obj, out, msg);
	json_decref(obj);
	return result;
}
