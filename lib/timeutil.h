/* Times and durations as operators write them: unix seconds, RFC 3339 timestamps,
 * and durations with an s/m/h/d/w suffix. Pure functions, no allocation. */
#ifndef DNSBL_TIMEUTIL_H
#define DNSBL_TIMEUTIL_H

#include <stddef.h>
#include <stdint.h>

/* Room for "2026-11-23T10:00:00Z" and a NUL. */
#define TIME_TEXT_MAX 21

/* Parses unix seconds ("1732350000") or RFC 3339 ("2026-11-23T10:00:00Z",
 * "2026-11-23 10:00:00.5+01:00"; T and Z in either case) from exactly len bytes.
 * Returns 0, DNSBL_ESYNTAX, or DNSBL_ERANGE (before 1970 or after 2106-02-07). */
int time_parse(const char *s, size_t len, uint32_t *out);

/* Parses a duration from exactly len bytes: seconds, or a number with one suffix
 * s, m, h, d or w. Returns 0, DNSBL_ESYNTAX or DNSBL_ERANGE (over max seconds). */
int duration_parse(const char *s, size_t len, uint32_t max, uint32_t *out);

/* Writes t as RFC 3339 UTC ("2026-11-23T10:00:00Z") with a NUL into buf
 * (TIME_TEXT_MAX bytes). Returns the length. */
size_t time_format(uint32_t t, char *buf);

#endif
