/* The endpoints behind the route table of handlers.c: read.c serves the GETs, write.c
 * the PUT and DELETE of entries (api/README.md "Endpoints"). Each gets a request
 * that the table has routed, authenticated and checked as far as the path goes. */
#ifndef DNSBL_API_ENDPOINTS_H
#define DNSBL_API_ENDPOINTS_H

#include <stdint.h>

#include "addr.h"
#include "config.h"
#include "dname.h"
#include "handlers.h"
#include "store.h"

/* One routed request. */
struct api_call {
	const struct api_request *req;
	const struct zone_config *zc;    /* the path's {zone}, or NULL */
	const char *query;               /* the path's {query} (a lookup), or NULL */
	struct entry_key key;            /* the path's {key}, parsed for zc, if it has one */
	uint8_t key_name[DNAME_KEY_MAX]; /* the bytes of a name key */
	const char *actor;               /* the token's name ("" for a public route) */
};

/* An endpoint: serves call c on a, filling *r. */
typedef void api_endpoint(struct api *a, const struct api_call *c, struct api_response *r);

api_endpoint read_healthz;  /* GET /healthz: 200 when the store can be read, else 503 */
api_endpoint read_openapi;  /* GET /v1/openapi.yaml: the OpenAPI description */
api_endpoint read_zones;    /* GET /v1/zones: the configured zones and their counts */
api_endpoint read_lookup;   /* GET /v1/lookup/{query}: every zone's verdict on it */
api_endpoint read_entry;    /* GET /v1/zones/{zone}/entries/{key}: one entry */
api_endpoint read_entries;  /* GET /v1/zones/{zone}/entries: a page of entries */
api_endpoint read_history;  /* GET /v1/history: a page of history, newest first */
api_endpoint read_tokens;   /* GET /v1/tokens: names and roles */
api_endpoint write_entry;   /* PUT /v1/zones/{zone}/entries/{key}: lists or updates */
api_endpoint write_delist;  /* DELETE /v1/zones/{zone}/entries/{key}: delists */

/* Opens a store reader on a snapshot for one request; the caller frees it
 * (store_reader_free). Sends 503 and returns NULL when the store cannot be read. */
struct store_reader *read_begin(struct api *a, struct api_response *r);

#endif
