/* Filling an api_response (handlers.h): JSON bodies and the {"error": "..."} replies of
 * api/README.md "Conventions". Every function here replaces the body set before. */
#ifndef DNSBL_API_RESPONSE_H
#define DNSBL_API_RESPONSE_H

#include <jansson.h>

#include "handlers.h"

/* Sets the status and the body (malloc'd and taken over; NULL for none) of content
 * type type (static), freeing the body set before. */
void response_set(struct api_response *r, unsigned status, char *body, const char *type);

/* Sends j (consumed; NULL when building it ran out of memory) as a one-line JSON body
 * with status; 500 {"error":"out of memory"} when it cannot be written. */
void response_json(struct api_response *r, unsigned status, json_t *j);

/* Sends {"error": message} with status, message printf-formatted from fmt. Bytes
 * that are not printable ASCII become "?" (messages quote what the client sent). */
__attribute__((format(printf, 3, 4)))
void response_error(struct api_response *r, unsigned status, const char *fmt, ...);

/* Adds "error": msg (cleaned like response_error's) to the object j, consumed, and
 * sends it with status. */
void response_error_with(struct api_response *r, unsigned status, json_t *j, const char *msg);

/* Sends the error for the store's code rc: 503 when the store is full, else 500. */
void response_store_error(struct api_response *r, int rc);

/* Sends 405 for method with "Allow: allow". */
void response_not_allowed(struct api_response *r, const char *allow, const char *method);

#endif
