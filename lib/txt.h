/* TXT templates: the text answered for a listing, with "$" standing for the queried
 * address (or domain) and "$$" for a dollar sign. Shared by dnsbld (answers), the
 * loader (checks at import) and the API (shows the TXT as it would be answered). */
#ifndef DNSBL_TXT_H
#define DNSBL_TXT_H

#include <stddef.h>

#define TXT_TEMPLATE_MAX 1024 /* bytes in a stored or configured template */
#define TXT_SUBST_MAX 16      /* "$" substitutions in one template */
/* The longest expansion: every substitution a 253-byte domain name. */
#define TXT_EXPANDED_MAX (TXT_TEMPLATE_MAX + TXT_SUBST_MAX * 253)

/* Checks a template's length and number of "$" substitutions, so that its expansion
 * always fits TXT_EXPANDED_MAX. Returns 0 or DNSBL_ERANGE. */
int txt_template_check(const char *tpl, size_t len);

/* Writes tpl with "$" replaced by subst and "$$" by "$" into out (outsize bytes,
 * no NUL added; output past outsize is cut). Returns the length written. */
size_t txt_expand(const char *tpl, size_t len, const char *subst, size_t subst_len, char *out,
		  size_t outsize);

#endif
