#include "timeutil.h"

#include <stdbool.h>
#include <stdio.h>

#include "err.h"

static bool digits(const char *s, size_t n, unsigned *out)
{
	unsigned v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	*out = v;
	return true;
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static unsigned days_in_month(unsigned y, unsigned m)
{
	static const unsigned dm[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return m == 2 && leap ? 29 : dm[m - 1];
}

int time_parse(const char *s, size_t len, uint32_t *out)
{
	unsigned y, mo, d, h, mi, sec, oh = 0, om = 0;
	int64_t t;
	size_t i;

	if (len == 0)
		return DNSBL_ESYNTAX;
	for (i = 0; i < len && s[i] >= '0' && s[i] <= '9'; i++)
		;
	if (i == len) {
		uint64_t v = 0;
		for (i = 0; i < len; i++) {
			v = v * 10 + (uint64_t)(s[i] - '0');
			if (v > UINT32_MAX)
				return DNSBL_ERANGE;
		}
		*out = (uint32_t)v;
		return 0;
	}
	/* YYYY-MM-DDTHH:MM:SS is 19 bytes, then fraction and zone */
	if (len < 20 || s[4] != '-' || s[7] != '-' ||
	    (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || s[13] != ':' || s[16] != ':')
		return DNSBL_ESYNTAX;
	if (!digits(s, 4, &y) || !digits(s + 5, 2, &mo) || !digits(s + 8, 2, &d) ||
	    !digits(s + 11, 2, &h) || !digits(s + 14, 2, &mi) || !digits(s + 17, 2, &sec))
		return DNSBL_ESYNTAX;
	if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 ||
	    sec > 60)
		return DNSBL_ESYNTAX;
	if (sec == 60)
		sec = 59; /* a leap second: as near as unix time gets */
	i = 19;
	if (s[i] == '.') {
		size_t start = ++i;
		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++;
		if (i == start)
			return DNSBL_ESYNTAX;
	}
	if (i == len)
		return DNSBL_ESYNTAX; /* RFC 3339 needs a zone */
	int sign = 0;
	if ((s[i] == 'Z' || s[i] == 'z') && i + 1 == len) {
		sign = 0;
	} else if ((s[i] == '+' || s[i] == '-') && len - i == 6 && s[i + 3] == ':' &&
		   digits(s + i + 1, 2, &oh) && digits(s + i + 4, 2, &om) && oh <= 23 && om <= 59) {
		sign = s[i] == '+' ? 1 : -1;
	} else {
		return DNSBL_ESYNTAX;
	}
	t = days_from_civil(y, mo, d) * 86400 + (int64_t)h * 3600 + mi * 60 + sec;
	t -= sign * ((int64_t)oh * 3600 + (int64_t)om * 60);
	if (t < 0 || t > (int64_t)UINT32_MAX)
		return DNSBL_ERANGE;
	*out = (uint32_t)t;
	return 0;
}

int duration_parse(const char *s, size_t len, uint32_t max, uint32_t *out)
{
	uint64_t v = 0, mult = 1;

	if (len == 0)
		return DNSBL_ESYNTAX;
	switch (s[len - 1]) {
	case 's': len--; break;
	case 'm': mult = 60; len--; break;
	case 'h': mult = 3600; len--; break;
	case 'd': mult = 86400; len--; break;
	case 'w': mult = 604800; len--; break;
	default: break;
	}
	if (len == 0)
		return DNSBL_ESYNTAX;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return DNSBL_ESYNTAX;
		v = v * 10 + (uint64_t)(s[i] - '0');
		if (v > UINT32_MAX)
			return DNSBL_ERANGE;
	}
	v *= mult;
	if (v > max)
		return DNSBL_ERANGE;
	*out = (uint32_t)v;
	return 0;
}

size_t time_format(uint32_t t, char *buf)
{
	int64_t z = t / 86400 + 719468;
	unsigned secs = t % 86400;
	int64_t era = z / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	unsigned d = doy - (153 * mp + 2) / 5 + 1;
	unsigned m = mp < 10 ? mp + 3 : mp - 9;
	int64_t y = (int64_t)yoe + era * 400 + (m <= 2);

	return (size_t)snprintf(buf, TIME_TEXT_MAX, "%04lld-%02u-%02uT%02u:%02u:%02uZ",
				(long long)y, m, d, secs / 3600, secs / 60 % 60, secs % 60);
}
