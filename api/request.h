/* Reading an api_request (handlers.h): the path's segments, query parameters, keys and
 * JSON bodies, each checked as api/README.md "Conventions" says. A function that
 * returns false or NULL has sent the 400 (or 404) explaining why. */
#ifndef DNSBL_API_REQUEST_H
#define DNSBL_API_REQUEST_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "config.h"
#include "handlers.h"

/* What a path pattern captured. */
struct request_path {
	/* the path from {zone} on, so that the zone's name can end in a NUL; a path too
	 * long for it matches no pattern with a {zone} (404) */
	char buf[2048];
	const char *zone;  /* {zone}: one non-empty segment (in buf), or NULL */
	const char *key;   /* {key}: the non-empty rest of the path, slashes too, or NULL */
	const char *query; /* {query}: the same as {key}, for a lookup */
};

/* Matches path against pattern: literal text, "{zone}" (one segment, followed by "/"
 * in the pattern) and, last, "{key}" or "{query}". Returns whether it matches; *m is
 * filled only then. */
bool request_path_match(const char *pattern, const char *path, struct request_path *m);

/* The value of query parameter key ("" for "?key" without "="), or NULL when absent. */
const char *request_param(const struct api_request *req, const char *key);

/* Checks that every query parameter is one of allowed (NULL-terminated) and none is
 * given twice. */
bool request_params_check(const struct api_request *req, const char *const *allowed,
			  struct api_response *r);

/* Reads the "limit" parameter, 1..1000, into *out (100 when absent). */
bool request_limit(const struct api_request *req, unsigned *out, struct api_response *r);

/* Refuses a combined zone, which has no entries of its own. */
bool request_zone_has_entries(const struct zone_config *zc, struct api_response *r);

/* Parses key, an entry key of zone zc, into *p (the bytes of a name go to buf,
 * DNAME_KEY_MAX, which *p then points into). Refuses a combined zone too. */
bool request_key_parse(const struct zone_config *zc, const char *key, uint8_t *buf,
		       struct entry_key *p, struct api_response *r);

/* The body of a PUT of an entry, checked (api/README.md). Its texts point into the
 * JSON object request_put_body returns. */
struct request_put {
	bool has_code, has_txt, txt_null, exclude;
	uint32_t code;
	const char *txt, *reason;
	size_t txt_len, reason_len;
	uint32_t expires, ttl;
	bool has_expires;
};

/* Parses and checks the body of a PUT into *b, expiry times against now. Returns the
 * body's JSON object, which the caller frees (json_decref) after its last use of *b,
 * or NULL. */
json_t *request_put_body(const struct api_request *req, struct request_put *b, uint32_t now,
			 struct api_response *r);

/* Parses and checks the body of a DELETE of an entry: only "reason" (*reason stays
 * NULL without one). Returns the body's JSON object, which *reason points into and the
 * caller frees (json_decref), or NULL. */
json_t *request_delist_body(const struct api_request *req, const char **reason,
			    size_t *reason_len, struct api_response *r);

#endif
