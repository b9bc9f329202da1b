#include "handlers.h"

#include <string.h>

#include "auth.h"
#include "endpoints.h"
#include "request.h"
#include "response.h"

/* One row of the route table: a path pattern (request_path_match), a method, the
 * role it needs and the endpoint serving it. The rows of one pattern are adjacent;
 * their order is the order of the Allow header. TOKEN_ROLE_NONE: public, served
 * without a token; a path is public in all its rows or none (the token is checked
 * before the method). */
struct route {
	const char *pattern;
	const char *method;
	int role; /* enum token_role */
	/* the query parameters allowed, NULL-terminated, checked before the endpoint
	 * runs; NULL: the endpoint checks them (read_entries refuses a combined zone
	 * first) */
	const char *const *params;
	api_endpoint *endpoint;
};

static const char *const no_params[] = { NULL };
static const char *const history_params[] = { "zone", "key", "since", "limit", "cursor", NULL };

static const struct route routes[] = {
	{ "/healthz", "GET", TOKEN_ROLE_NONE, no_params, read_healthz },
	{ "/v1/openapi.yaml", "GET", TOKEN_ROLE_READ, no_params, read_openapi },
	{ "/v1/zones", "GET", TOKEN_ROLE_READ, no_params, read_zones },
	{ "/v1/lookup/{query}", "GET", TOKEN_ROLE_READ, no_params, read_lookup },
	{ "/v1/zones/{zone}/entries", "GET", TOKEN_ROLE_READ, NULL, read_entries },
	{ "/v1/zones/{zone}/entries/{key}", "GET", TOKEN_ROLE_READ, no_params, read_entry },
	{ "/v1/zones/{zone}/entries/{key}", "PUT", TOKEN_ROLE_WRITE, no_params, write_entry },
	{ "/v1/zones/{zone}/entries/{key}", "DELETE", TOKEN_ROLE_WRITE, no_params, write_delist },
	{ "/v1/history", "GET", TOKEN_ROLE_READ, history_params, read_history },
	{ "/v1/tokens", "GET", TOKEN_ROLE_ADMIN, no_params, read_tokens },
};

/* Where a request's path and method led in the route table. */
struct route_match {
	const struct route *path;   /* the first row of the path's pattern; NULL: no such path */
	const struct route *route;  /* the row of the path and the method, or NULL */
	char allow[32];             /* the path's methods, for a 405 */
	struct request_path parts;  /* what the pattern captured */
};

/* Fills *m for req: the rows of the first pattern that matches its path. */
static void route_find(const struct api_request *req, struct route_match *m)
{
	size_t n = 0;

	m->path = m->route = NULL;
	m->allow[0] = '\0';
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		const struct route *rt = &routes[i];
		if (m->path != NULL ? strcmp(rt->pattern, m->path->pattern) != 0
				    : !request_path_match(rt->pattern, req->path, &m->parts))
			continue;
		if (m->path == NULL)
			m->path = rt;
		if (n < sizeof(m->allow))
			n += (size_t)snprintf(m->allow + n, sizeof(m->allow) - n, "%s%s",
					      n ? ", " : "", rt->method);
		if (strcmp(rt->method, req->method) == 0)
			m->route = rt;
	}
}

int api_init(struct api *a, const struct config *cfg, struct store *s, const char *openapi,
	     size_t openapi_len, char *err, size_t errsize)
{
	memset(a, 0, sizeof(*a));
	a->cfg = cfg;
	a->store = s;
	a->openapi = openapi;
	a->openapi_len = openapi_len;
	return auth_init(a, err, errsize);
}

void api_free(struct api *a)
{
	auth_free(a);
}

/* The order of the checks is part of the API: 401 before 404 (nothing about the paths
 * is told without a token), an unknown zone's 404 before 405, 405 before 403, and
 * the query parameters and the key (400) last. */
void api_handle(struct api *a, const struct api_request *req, struct api_response *resp)
{
	struct route_match m;
	struct api_call c = { .req = req, .actor = resp->actor };
	int role = TOKEN_ROLE_NONE;

	memset(resp, 0, sizeof(*resp));
	route_find(req, &m);
	if ((m.path == NULL || m.path->role != TOKEN_ROLE_NONE) &&
	    (role = auth_check(a, req->authorization, resp)) == TOKEN_ROLE_NONE)
		return;
	if (m.path == NULL) {
		response_error(resp, 404, "no such path: %.200s", req->path);
		return;
	}
	if (m.parts.zone != NULL && (c.zc = config_zone(a->cfg, m.parts.zone)) == NULL) {
		response_error(resp, 404, "no zone %.255s", m.parts.zone);
		return;
	}
	if (m.route == NULL) {
		response_not_allowed(resp, m.allow, req->method);
		return;
	}
	if (!auth_role_allows(role, m.route->role, resp))
		return;
	if (m.route->params != NULL && !request_params_check(req, m.route->params, resp))
		return;
	if (m.parts.key != NULL && !request_key_parse(c.zc, m.parts.key, c.key_name, &c.key, resp))
		return;
	c.query = m.parts.query;
	m.route->endpoint(a, &c, resp);
}
