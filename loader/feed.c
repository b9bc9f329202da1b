/* The feed.h functions that belong to no one format (each format has its file,
 * feed_<format>.c). */
#include "feed.h"

#include <string.h>

#include "err.h"
#include "timeutil.h"

int feed_format_parse(const char *name, enum feed_format *out)
{
	static const char *const names[] = { "plain", "rbldnsd", "csv", "jsonl" };
	for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(name, names[i]) == 0) {
			*out = (enum feed_format)i;
			return 0;
		}
	}
	return DNSBL_EINVAL;
}

int feed_time_parse(const char *s, size_t len, uint32_t *out)
{
	return time_parse(s, len, out);
}

int feed_duration_parse(const char *s, size_t len, uint32_t *out)
{
	return duration_parse(s, len, UINT32_MAX, out);
}

bool feed_source_valid(const char *s, size_t len)
{
	return store_name_valid(s, len);
}
