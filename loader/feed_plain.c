/* The plain list format: one address, CIDR prefix or domain per line (see feed.h). */
#include "feed.h"

#include <string.h>

#include "feed_key.h"

enum feed_line plain_parse_line(enum feed_keys keys, const char *line, size_t len,
				struct feed_record *out, const char **msg)
{
	size_t alen = 0;

	*msg = NULL;
	feed_trim(&line, &len);
	if (len == 0 || line[0] == '#' || line[0] == ';')
		return FEED_LINE_SKIP;
	memset(out, 0, sizeof(*out));
	if (line[0] == '!') {
		out->exclude = true;
		line++;
		len--;
	}
	while (alen < len && !feed_is_blank(line[alen]) && line[alen] != '#' && line[alen] != ';')
		alen++;
	const char *rest = line + alen;
	size_t rlen = len - alen;
	feed_trim(&rest, &rlen);
	if (rlen > 0 && rest[0] != '#' && rest[0] != ';') {
		*msg = "unexpected text after the address (plain format: one address or CIDR per line)";
		return FEED_LINE_ERROR;
	}
	if (feed_key_parse(keys, line, alen, out, msg) < 0)
		return FEED_LINE_ERROR;
	return FEED_LINE_RECORD;
}
