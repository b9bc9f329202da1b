#include "response.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"

void response_set(struct api_response *r, unsigned status, char *body, const char *type)
{
	free(r->body);
	r->status = status;
	r->body = body;
	r->body_len = body ? strlen(body) : 0;
	r->content_type = type;
}

void response_json(struct api_response *r, unsigned status, json_t *j)
{
	char *text = j ? json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
	json_decref(j);
	if (text == NULL) {
		response_set(r, 500, strdup("{\"error\":\"out of memory\"}"), "application/json");
		return;
	}
	size_t n = strlen(text);
	char *nl = realloc(text, n + 2);
	if (nl != NULL) {
		nl[n] = '\n';
		nl[n + 1] = '\0';
		text = nl;
	}
	response_set(r, status, text, "application/json");
}

/* An error message as a JSON string. Messages quote what the client sent, which may
 * be any bytes after percent-decoding: what is not printable ASCII becomes "?", so
 * that the text is always valid UTF-8 (jansson refuses anything else). */
static json_t *message_json(const char *msg)
{
	char clean[1024];
	size_t n = 0;
	for (; msg[n] != '\0' && n + 1 < sizeof(clean); n++)
		clean[n] = (msg[n] >= 0x20 && msg[n] < 0x7f) ? msg[n] : '?';
	clean[n] = '\0';
	return json_string(clean);
}

void response_error(struct api_response *r, unsigned status, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	response_json(r, status, json_pack("{s:o}", "error", message_json(msg)));
}

void response_error_with(struct api_response *r, unsigned status, json_t *j, const char *msg)
{
	json_object_set_new(j, "error", message_json(msg));
	response_json(r, status, j);
}

void response_store_error(struct api_response *r, int rc)
{
	if (rc == DNSBL_EFULL)
		response_error(r, 503, "the store is full (raise the map size)");
	else
		response_error(r, 500, "store error: %s", dnsbl_strerror(rc));
}

void response_not_allowed(struct api_response *r, const char *allow, const char *method)
{
	snprintf(r->allow, sizeof(r->allow), "%s", allow);
	response_error(r, 405, "method %.16s not allowed here (allowed: %s)", method, allow);
}

void api_response_free(struct api_response *resp)
{
	free(resp->body);
	resp->body = NULL;
}
