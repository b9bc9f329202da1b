/* Private to lib/config.c and lib/config_xfr.c: the parser's state and the helpers
 * both files use. Names stay short because nothing outside these two files sees them
 * (the functions are not static only so that config_xfr.c can call them). */
#ifndef DNSBL_CONFIG_IMPL_H
#define DNSBL_CONFIG_IMPL_H

#include <stdbool.h>
#include <stdio.h>

#include "config.h"

#define CONFIG_LINE_MAX 4096
#define ZONE_PREFIX "zone "
#define KEY_PREFIX "key "


struct parse_ctx {
	struct config *cfg;
	const char *path;
	char dir[4096];      /* directory of the config file, for relative paths */
	FILE *fp;
	int line;            /* line number of the text last handed to inih */
	int section_line;    /* line of the last section header */
	bool long_line;      /* inside a line longer than CONFIG_LINE_MAX */
	char *err;
	size_t errsize, errlen;
	int errors;
	/* keys seen in the current section, to reject duplicates */
	char cur_section[300];
	char seen[32][32];
	unsigned nseen;
	bool server_seen, api_seen;
};

/* Reports a problem at line of the file (collected into the caller's error text). */
void problem(struct parse_ctx *c, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Splits value on blanks into at most max words (copied into buf); *too_many when
 * more were there. Returns the number of words. */
unsigned split_words(const char *value, char *buf, size_t bufsize, char **words, unsigned max,
		     bool *too_many);

/* Parses a decimal number from min to max. Returns 0, DNSBL_ESYNTAX or DNSBL_ERANGE. */
int parse_uint(const char *s, unsigned min, unsigned max, unsigned *out);

/* --- config_xfr.c --- */

/* Handles the [server] transfer keys; returns false when name is not one of them. */
bool xfr_server_key(struct parse_ctx *c, const char *name, const char *value);

/* The [zone] transfer keys (entries of config.c's zone key table). */
void zone_allow_transfer(struct parse_ctx *c, struct zone_config *z, const char *value);
void zone_notify(struct parse_ctx *c, struct zone_config *z, const char *value);
void zone_transfer_key(struct parse_ctx *c, struct zone_config *z, const char *value);
void zone_transfer_record_limit(struct parse_ctx *c, struct zone_config *z, const char *value);

/* Starts a [key NAME] section at line. */
void key_section_add(struct parse_ctx *c, const char *name, int line);

/* Handles a key of the current [key NAME] section. */
void key_section_key(struct parse_ctx *c, const char *name, const char *value);

/* After parsing: zones without their own lists take the server's, transfer_key
 * names become indexes, keys are complete. */
void xfr_finish(struct parse_ctx *c);

#endif
