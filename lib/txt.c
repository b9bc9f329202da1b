#include "txt.h"

#include <string.h>

#include "err.h"

int txt_template_check(const char *tpl, size_t len)
{
	unsigned subst = 0;

	if (len > TXT_TEMPLATE_MAX)
		return DNSBL_ERANGE;
	for (size_t i = 0; i < len; i++) {
		if (tpl[i] != '$')
			continue;
		if (i + 1 < len && tpl[i + 1] == '$')
			i++;
		else if (++subst > TXT_SUBST_MAX)
			return DNSBL_ERANGE;
	}
	return 0;
}

size_t txt_expand(const char *tpl, size_t len, const char *subst, size_t subst_len, char *out,
		  size_t outsize)
{
	size_t n = 0, i = 0;

	/* spans between "$" copied whole: zone transfers expand a template per record */
	while (i < len && n < outsize) {
		const char *d = memchr(tpl + i, '$', len - i);
		size_t span = (d != NULL ? (size_t)(d - tpl) : len) - i;
		if (span > outsize - n)
			span = outsize - n;
		memcpy(out + n, tpl + i, span);
		n += span;
		i += span;
		if (d == NULL || tpl + i != d || n >= outsize)
			break;
		if (i + 1 < len && tpl[i + 1] == '$') {
			out[n++] = '$';
			i += 2;
		} else {
			size_t c = subst_len < outsize - n ? subst_len : outsize - n;
			memcpy(out + n, subst, c);
			n += c;
			i++;
		}
	}
	return n;
}
