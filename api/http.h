/* The HTTP side of dnsbl-api (libmicrohttpd): listening sockets bound before the
 * daemon forks, a thread pool per address, request bodies collected up to
 * API_BODY_MAX, and one access-log line per request. Requests go to api_handle. */
#ifndef DNSBL_API_HTTP_H
#define DNSBL_API_HTTP_H

#include <stddef.h>

#include "config.h"
#include "handlers.h"

struct http_server;

/* Binds and listens on every [api] listen address of cfg, so that a taken port is
 * reported before anything else starts. *out is owned by the caller (http_stop).
 * Returns 0, DNSBL_EIO (the reason in err) or DNSBL_ENOMEM. */
int http_listen(const struct config *cfg, struct http_server **out, char *err, size_t errsize);

/* Starts serving the sockets of srv with api (which must outlive srv). Returns 0 or
 * DNSBL_EIO (the reason in err). */
int http_start(struct http_server *srv, struct api *api, char *err, size_t errsize);

/* Stops serving (waits for requests in progress), closes the sockets, frees srv. */
void http_stop(struct http_server *srv);

#endif
