#include "http.h"

#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "log.h"

#define POOL_THREADS 4 /* reads go on while a write waits for LMDB's writer lock */
#define CONNECTIONS_MAX 256
#define IDLE_TIMEOUT 30 /* seconds */

struct http_server {
	unsigned n;
	int fd[CONFIG_MAX_LISTEN];
	int family[CONFIG_MAX_LISTEN];
	char text[CONFIG_MAX_LISTEN][64];
	struct MHD_Daemon *mhd[CONFIG_MAX_LISTEN];
	struct api *api;
};

/* One request in progress. */
struct request_state {
	char *body;
	size_t len, cap;
	bool too_big;
	struct timespec start;
};

int http_listen(const struct config *cfg, struct http_server **out, char *err, size_t errsize)
{
	struct http_server *srv = calloc(1, sizeof(*srv));
	int one = 1;

	if (srv == NULL)
		return DNSBL_ENOMEM;
	for (unsigned i = 0; i < cfg->api_listen_count; i++) {
		const struct listen_addr *l = &cfg->api_listen[i];
		int fd = socket(l->ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd >= 0 && l->ss.ss_family == AF_INET6)
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
		if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
		    bind(fd, (const struct sockaddr *)&l->ss, l->sslen) < 0 || listen(fd, 128) < 0) {
			snprintf(err, errsize, "cannot listen on %s: %s", l->text, strerror(errno));
			if (fd >= 0)
				close(fd);
			srv->n = i;
			http_stop(srv);
			return DNSBL_EIO;
		}
		srv->fd[i] = fd;
		srv->family[i] = l->ss.ss_family;
		snprintf(srv->text[i], sizeof(srv->text[i]), "%s", l->text);
	}
	srv->n = cfg->api_listen_count;
	*out = srv;
	return 0;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];
	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	size_t n = strlen(msg);
	while (n > 0 && msg[n - 1] == '\n')
		msg[--n] = '\0';
	log_warn("http: %s", msg);
}

static int hexdigit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes %HH in place. A decoded NUL becomes DEL (0x7f), which no key, zone or
 * parameter accepts, so "%00" cannot cut a path short and pass as something else. */
static size_t unescape(void *cls, struct MHD_Connection *c, char *s)
{
	char *w = s;
	(void)cls;
	(void)c;
	for (const char *r = s; *r; r++) {
		int hi, lo;
		if (*r == '%' && (hi = hexdigit(r[1])) >= 0 && (lo = hexdigit(r[2])) >= 0) {
			int v = hi << 4 | lo;
			*w++ = v == 0 ? 0x7f : (char)v;
			r += 2;
		} else {
			*w++ = *r;
		}
	}
	*w = '\0';
	return (size_t)(w - s);
}

static enum MHD_Result collect_param(void *cls, enum MHD_ValueKind kind, const char *key,
				     const char *value)
{
	struct api_request *req = cls;
	(void)kind;
	if (req->nparams == API_PARAMS_MAX) {
		req->params_overflow = true;
		return MHD_NO;
	}
	req->params[req->nparams].key = key;
	req->params[req->nparams].value = value;
	req->nparams++;
	return MHD_YES;
}

static enum MHD_Result send_response(struct MHD_Connection *conn, struct api_response *r)
{
	struct MHD_Response *resp;

	if (r->body != NULL) {
		resp = MHD_create_response_from_buffer(r->body_len, r->body, MHD_RESPMEM_MUST_FREE);
		if (resp != NULL)
			r->body = NULL; /* owned by the response now */
	} else {
		resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
	}
	if (resp == NULL)
		return MHD_NO;
	if (r->content_type != NULL)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->content_type);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (r->allow[0])
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, r->allow);
	if (r->location[0])
		MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, r->location);
	if (r->www_authenticate)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
					"Bearer realm=\"dnsbl-api\"");
	enum MHD_Result ret = MHD_queue_response(conn, r->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static double ms_since(const struct timespec *t0)
{
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) * 1e3 + (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

/* Copies a request path for the log with control bytes as "?" (a decoded %0A must
 * not start a forged log line), cut at size - 1 bytes. */
static const char *loggable(const char *s, char *buf, size_t size)
{
	size_t n = 0;
	for (; s[n] != '\0' && n + 1 < size; n++)
		buf[n] = ((unsigned char)s[n] < 0x20 || s[n] == 0x7f) ? '?' : s[n];
	buf[n] = '\0';
	return buf;
}

static enum MHD_Result too_large(struct MHD_Connection *conn)
{
	struct api_response r = { .status = 413, .content_type = "application/json" };
	char text[96];
	snprintf(text, sizeof(text), "{\"error\":\"request body over %d bytes\"}\n", API_BODY_MAX);
	r.body = strdup(text);
	if (r.body == NULL)
		return MHD_NO;
	r.body_len = strlen(text);
	enum MHD_Result ret = send_response(conn, &r);
	free(r.body);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	struct http_server *srv = cls;
	struct request_state *st = *con_cls;
	char logpath[256], logmethod[16];
	(void)version;

	if (st == NULL) {
		if ((st = calloc(1, sizeof(*st))) == NULL)
			return MHD_NO;
		clock_gettime(CLOCK_MONOTONIC, &st->start);
		*con_cls = st;
		const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
							     MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl != NULL && (strlen(cl) > 9 || strtoul(cl, NULL, 10) > API_BODY_MAX)) {
			st->too_big = true;
			log_info("%s %s 413", loggable(method, logmethod, sizeof(logmethod)),
			 loggable(url, logpath, sizeof(logpath)));
			return too_large(conn);
		}
		return MHD_YES;
	}
	if (*upload_size > 0) {
		size_t n = *upload_size;
		*upload_size = 0;
		if (st->too_big || st->len + n > API_BODY_MAX) {
			st->too_big = true;
			return MHD_YES; /* read and dropped; 413 once it is all in */
		}
		if (st->len + n > st->cap) {
			size_t cap = st->cap ? st->cap : 1024;
			while (cap < st->len + n)
				cap *= 2;
			char *b = realloc(st->body, cap);
			if (b == NULL)
				return MHD_NO;
			st->body = b;
			st->cap = cap;
		}
		memcpy(st->body + st->len, upload, n);
		st->len += n;
		return MHD_YES;
	}
	if (st->too_big) {
		log_info("%s %s 413", loggable(method, logmethod, sizeof(logmethod)),
			 loggable(url, logpath, sizeof(logpath)));
		return too_large(conn);
	}
	struct api_request req = {
		.method = method,
		.path = url,
		.authorization = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
							     MHD_HTTP_HEADER_AUTHORIZATION),
		.body = st->body,
		.body_len = st->len,
	};
	struct api_response resp;
	MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, collect_param, &req);
	api_handle(srv->api, &req, &resp);
	log_info("%s %s %u %s %.2fms", loggable(method, logmethod, sizeof(logmethod)),
		 loggable(url, logpath, sizeof(logpath)), resp.status,
		 resp.actor[0] ? resp.actor : "-", ms_since(&st->start));
	enum MHD_Result ret = send_response(conn, &resp);
	api_response_free(&resp);
	return ret;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct request_state *st = *con_cls;
	(void)cls;
	(void)conn;
	(void)toe;
	if (st != NULL) {
		free(st->body);
		free(st);
		*con_cls = NULL;
	}
}

int http_start(struct http_server *srv, struct api *api, char *err, size_t errsize)
{
	srv->api = api;
	for (unsigned i = 0; i < srv->n; i++) {
		unsigned flags = MHD_USE_AUTO | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG |
				 (srv->family[i] == AF_INET6 ? MHD_USE_IPv6 : 0);
		srv->mhd[i] = MHD_start_daemon(
			flags, 0, NULL, NULL, on_request, srv, MHD_OPTION_EXTERNAL_LOGGER, mhd_log,
			NULL, MHD_OPTION_LISTEN_SOCKET, srv->fd[i], MHD_OPTION_THREAD_POOL_SIZE,
			(unsigned)POOL_THREADS, MHD_OPTION_CONNECTION_LIMIT,
			(unsigned)CONNECTIONS_MAX, MHD_OPTION_CONNECTION_TIMEOUT,
			(unsigned)IDLE_TIMEOUT, MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
			MHD_OPTION_UNESCAPE_CALLBACK, unescape, NULL, MHD_OPTION_END);
		if (srv->mhd[i] == NULL) {
			snprintf(err, errsize, "cannot start the HTTP server on %s", srv->text[i]);
			return DNSBL_EIO;
		}
		srv->fd[i] = -1; /* MHD closes it */
	}
	return 0;
}

void http_stop(struct http_server *srv)
{
	if (srv == NULL)
		return;
	for (unsigned i = 0; i < srv->n; i++) {
		if (srv->mhd[i] != NULL)
			MHD_stop_daemon(srv->mhd[i]);
		else if (srv->fd[i] >= 0)
			close(srv->fd[i]);
	}
	free(srv);
}
