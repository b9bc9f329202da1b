/* The API's request handling, apart from HTTP (api/README.md): api_handle looks the
 * request up in the route table of handlers.c, checks its token (auth.c) and its path
 * (request.c), and calls the endpoint (read.c for GETs, write.c for PUT and DELETE),
 * which answers with JSON (render.c, response.c). http.c feeds it parsed requests;
 * the unit tests call it directly. */
#ifndef DNSBL_API_HANDLERS_H
#define DNSBL_API_HANDLERS_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

#include "config.h"
#include "store.h"
#include "tokens.h"

#define API_BODY_MAX (16 * 1024) /* larger request bodies get 413 */
#define API_PARAMS_MAX 16

struct api_param {
	const char *key, *value;
};

/* One request, as http.c parsed it. Every pointer is the caller's. */
struct api_request {
	const char *method;        /* "GET", "PUT", ... */
	const char *path;          /* percent-decoded, without the query string */
	const char *authorization; /* the Authorization header, or NULL */
	struct api_param params[API_PARAMS_MAX];
	unsigned nparams;
	bool params_overflow;      /* more than API_PARAMS_MAX query parameters */
	const char *body;          /* NULL or body_len bytes (not NUL-terminated) */
	size_t body_len;
};

/* The answer to send. body is malloc'd and owned by the response (api_response_free). */
struct api_response {
	unsigned status;
	char *body;
	size_t body_len;
	const char *content_type; /* static */
	char allow[32];           /* "Allow" header for 405, else "" */
	char location[1100];       /* "Location" header for 201, else "" */
	bool www_authenticate;    /* 401: add the WWW-Authenticate challenge */
	char actor[STORE_NAME_MAX + 1]; /* the token's name ("" before auth), for the log */
};

/* The API's shared state: the config, the store and the tokens file (reread when it
 * changes). Thread-safe: any number of threads may call api_handle at once. */
struct api {
	const struct config *cfg;
	struct store *store;
	const char *openapi; /* the OpenAPI description served at /v1/openapi.yaml */
	size_t openapi_len;
	pthread_mutex_t tokens_lock;
	struct token_set tokens;
	struct stat tokens_st; /* of the file last read; st_ino 0: none read */
};

/* Prepares *a for cfg and the open store s (both stay the caller's and must outlive
 * a), reading the tokens file. Returns 0, DNSBL_EINVAL (a bad tokens file: reasons in
 * err) or DNSBL_ENOMEM. A missing tokens file is not an error (no token is valid). */
int api_init(struct api *a, const struct config *cfg, struct store *s, const char *openapi,
	     size_t openapi_len, char *err, size_t errsize);

/* Frees what api_init allocated. */
void api_free(struct api *a);

/* Handles one request, filling *resp (zeroed first). Never fails: errors become
 * error responses. */
void api_handle(struct api *a, const struct api_request *req, struct api_response *resp);

/* Frees the response body. */
void api_response_free(struct api_response *resp);

#endif
