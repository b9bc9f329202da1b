/* Unit tests of dnsbl-api without HTTP: the tokens file, IPv6 key parsing, and
 * api_handle's routing, auth and body checks against a real store. The end-to-end
 * tests (tests/e2e/test_api*.py) drive the same through libmicrohttpd. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "storetest.h"
#include "testutil.h"

#include "config.h"
#include "handlers.h"
#include "request.h"
#include "tokens.h"

static struct config CFG;
static struct api API;
static char tokens_path[400];
static char secret_read[80], secret_write[80], secret_admin[80];

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int setup(void **state)
{
	char conf[400], text[2048], err[4096];
	(void)state;
	if (storetest_open("/tmp/dnsbl-test-api-XXXXXX") < 0)
		return -1;
	snprintf(conf, sizeof(conf), "%s/dnsbl.conf", basedir);
	snprintf(tokens_path, sizeof(tokens_path), "%s/tokens", basedir);
	snprintf(text, sizeof(text),
		 "[server]\ndb = db\n[api]\ntokens = tokens\n"
		 "[zone bl.example]\ntype = ip\npolicy = block\nttl = 300\na = 127.0.0.2\n"
		 "txt = Listed: $\nsoa = ns1.bl.example. h.bl.example. 3600 600 86400 120\n"
		 "ns = ns1.bl.example.\n"
		 "[zone dom.example]\ntype = name\npolicy = block\nttl = 300\na = 127.0.0.2\n"
		 "soa = ns1.dom.example. h.dom.example. 3600 600 86400 120\n"
		 "ns = ns1.dom.example.\n");
	write_file(conf, text);
	if (config_load(conf, &CFG, err, sizeof(err)) != 0) {
		print_error("%s", err);
		return -1;
	}
	if (tokens_add(tokens_path, "reader", TOKEN_ROLE_READ, secret_read, sizeof(secret_read),
		       err, sizeof(err)) != 0 ||
	    tokens_add(tokens_path, "writer", TOKEN_ROLE_WRITE, secret_write,
		       sizeof(secret_write), err, sizeof(err)) != 0 ||
	    tokens_add(tokens_path, "boss", TOKEN_ROLE_ADMIN, secret_admin, sizeof(secret_admin),
		       err, sizeof(err)) != 0) {
		print_error("%s", err);
		return -1;
	}
	return api_init(&API, &CFG, S, "openapi: 3.0.3\n", 15, err, sizeof(err));
}

static int teardown(void **state)
{
	(void)state;
	api_free(&API);
	config_free(&CFG);
	return storetest_close();
}

/* Sends one request; the caller frees the response. query: "k=v&k2=v2" or NULL. */
static struct api_response call(const char *method, const char *path, const char *secret,
				const char *body, const char *query)
{
	static char auth[128], qbuf[512];
	struct api_request req = { .method = method, .path = path };
	struct api_response resp;

	if (secret != NULL) {
		snprintf(auth, sizeof(auth), "Bearer %s", secret);
		req.authorization = auth;
	}
	if (body != NULL) {
		req.body = body;
		req.body_len = strlen(body);
	}
	if (query != NULL) {
		snprintf(qbuf, sizeof(qbuf), "%s", query);
		for (char *save = NULL, *kv = strtok_r(qbuf, "&", &save); kv;
		     kv = strtok_r(NULL, "&", &save)) {
			char *eq = strchr(kv, '=');
			if (eq)
				*eq = '\0';
			req.params[req.nparams].key = kv;
			req.params[req.nparams].value = eq ? eq + 1 : NULL;
			req.nparams++;
		}
	}
	api_handle(&API, &req, &resp);
	return resp;
}

static json_t *body_json(const struct api_response *r)
{
	json_error_t e;
	json_t *j = json_loadb(r->body, r->body_len, 0, &e);
	if (j == NULL)
		fail_msg("response is not JSON: %.*s", (int)r->body_len, r->body);
	return j;
}

/* Checks the status, and for errors that the body is {"error": "..."}. */
static void expect(const char *method, const char *path, const char *secret, const char *body,
		   const char *query, unsigned status)
{
	struct api_response r = call(method, path, secret, body, query);
	if (r.status != status)
		fail_msg("%s %s %s: status %u, expected %u: %.*s", method, path, body ? body : "",
			 r.status, status, (int)r.body_len, r.body ? r.body : "");
	if (status >= 400) {
		json_t *j = body_json(&r);
		assert_true(json_is_string(json_object_get(j, "error")));
		json_decref(j);
	}
	api_response_free(&r);
}

/* --- tokens --- */

static void test_tokens_file_errors(void **state)
{
	char path[400], err[4096];
	struct token_set set = { 0 };
	(void)state;
	snprintf(path, sizeof(path), "%s/bad-tokens", basedir);
	write_file(path, "# comment\n"
			 "\n"
			 "alice read 0123\n"
			 "bob superuser 9f3b582c28dfc5997521cb14c6f79306c974a739fe293d2c803428177e6988c1\n"
			 "bad:name read 9f3b582c28dfc5997521cb14c6f79306c974a739fe293d2c803428177e6988c1\n"
			 "carol read 9F3B582C28DFC5997521CB14C6F79306C974A739FE293D2C803428177E6988C1\n"
			 "dave read\n"
			 "eve read 9f3b582c28dfc5997521cb14c6f79306c974a739fe293d2c803428177e6988c1 x\n"
			 "ok read 9f3b582c28dfc5997521cb14c6f79306c974a739fe293d2c803428177e6988c1\n"
			 "ok write 9f3b582c28dfc5997521cb14c6f79306c974a739fe293d2c803428177e6988c1\n");
	assert_int_equal(tokens_load(path, &set, err, sizeof(err)), DNSBL_EINVAL);
	assert_int_equal(set.n, 0);
	const char *want[] = { ":3: the hash", ":4: role", ":5: bad token name", ":6: the hash",
			       ":7: expected", ":8: expected", ":10: token ok defined twice" };
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		if (strstr(err, want[i]) == NULL)
			fail_msg("missing \"%s\" in:\n%s", want[i], err);
	assert_null(strstr(err, ":9:"));
	assert_null(strstr(err, ":1:"));

	/* a line too long, control characters */
	char big[3000];
	memset(big, 'a', sizeof(big) - 2);
	big[sizeof(big) - 2] = '\n';
	big[sizeof(big) - 1] = '\0';
	write_file(path, big);
	err[0] = '\0';
	assert_int_equal(tokens_load(path, &set, err, sizeof(err)), DNSBL_EINVAL);
	assert_non_null(strstr(err, ":1: line longer"));
	write_file(path, "a\x01 read 00\n");
	assert_int_equal(tokens_load(path, &set, err, sizeof(err)), DNSBL_EINVAL);
	assert_non_null(strstr(err, ":1: control character"));

	snprintf(path, sizeof(path), "%s/missing", basedir);
	assert_int_equal(tokens_load(path, &set, err, sizeof(err)), DNSBL_ENOTFOUND);
	tokens_free(&set);
}

static void test_tokens_add_match_remove(void **state)
{
	char path[400], err[4096], s1[80], s2[80];
	struct token_set set = { 0 };
	struct stat st;
	(void)state;
	snprintf(path, sizeof(path), "%s/t2", basedir);
	assert_int_equal(tokens_add(path, "alice", TOKEN_ROLE_WRITE, s1, sizeof(s1), err,
				    sizeof(err)), 0);
	assert_int_equal(strlen(s1), 2 * TOKEN_SECRET_BYTES);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(tokens_add(path, "alice", TOKEN_ROLE_READ, s2, sizeof(s2), err,
				    sizeof(err)), DNSBL_EEXIST);
	assert_int_equal(tokens_add(path, "no:colons", TOKEN_ROLE_READ, s2, sizeof(s2), err,
				    sizeof(err)), DNSBL_EINVAL);
	assert_int_equal(tokens_add(path, "bob", TOKEN_ROLE_NONE, s2, sizeof(s2), err,
				    sizeof(err)), DNSBL_EINVAL);
	assert_int_equal(tokens_add(path, "bob", TOKEN_ROLE_ADMIN, s2, sizeof(s2), err,
				    sizeof(err)), 0);
	assert_string_not_equal(s1, s2);

	assert_int_equal(tokens_load(path, &set, err, sizeof(err)), 0);
	assert_int_equal(set.n, 2);
	const struct token *t = tokens_match(&set, s1, strlen(s1));
	assert_non_null(t);
	assert_string_equal(t->name, "alice");
	assert_int_equal(t->role, TOKEN_ROLE_WRITE);
	t = tokens_match(&set, s2, strlen(s2));
	assert_non_null(t);
	assert_string_equal(t->name, "bob");
	assert_null(tokens_match(&set, s1, strlen(s1) - 1));
	assert_null(tokens_match(&set, "", 0));
	s1[0] = s1[0] == 'a' ? 'b' : 'a';
	assert_null(tokens_match(&set, s1, strlen(s1)));

	/* the file holds hashes only */
	FILE *f = fopen(path, "r");
	char text[1024] = { 0 };
	assert_non_null(f);
	assert_true(fread(text, 1, sizeof(text) - 1, f) > 0);
	fclose(f);
	assert_null(strstr(text, s2));

	assert_int_equal(tokens_remove(path, "alice", err, sizeof(err)), 0);
	assert_int_equal(tokens_remove(path, "alice", err, sizeof(err)), DNSBL_ENOTFOUND);
	assert_int_equal(tokens_load(path, &set, err, sizeof(err)), 0);
	assert_int_equal(set.n, 1);
	assert_string_equal(set.v[0].name, "bob");
	tokens_free(&set);
}

/* --- keys --- */

static void check_prefix(const char *text, int rc, const char *canonical)
{
	struct guard_buf g = { 0 };
	struct entry_key p;
	char out[64];
	size_t n = strlen(text);

	assert_int_equal(guard_init(&g, 256), 0);
	const char *s = guard_put(&g, text, n);
	int got = prefix_parse(s, n, &p);
	guard_free(&g);
	if (got != rc)
		fail_msg("prefix_parse(\"%s\") = %d, expected %d", text, got, rc);
	if (canonical != NULL) {
		prefix_format(&p, 1, out, sizeof(out));
		assert_string_equal(out, canonical);
	}
}

static void test_prefix_parse(void **state)
{
	(void)state;
	check_prefix("192.0.2.1", 0, "192.0.2.1");
	check_prefix("192.0.2.0/24", 0, "192.0.2.0/24");
	check_prefix("192.0.2.1/24", DNSBL_EHOSTBITS, "192.0.2.0/24");
	check_prefix("2001:db8::1", 0, "2001:db8::1");
	check_prefix("2001:DB8::/32", 0, "2001:db8::/32");
	check_prefix("2001:db8::1/32", DNSBL_EHOSTBITS, "2001:db8::/32");
	check_prefix("2001:db8:0:0:0:0:0:1/128", 0, "2001:db8::1");
	check_prefix("::/0", 0, "::/0");
	check_prefix("::ffff:192.0.2.7", 0, "192.0.2.7");
	check_prefix("::ffff:192.0.2.0/120", 0, "192.0.2.0/24");
	check_prefix("::ffff:c000:0207", 0, "192.0.2.7");
	check_prefix("::fffe:0:0/95", 0, "::fffe:0:0/95");
	check_prefix("::ffff:0:0/95", DNSBL_EHOSTBITS, "::fffe:0:0/95");
	const char *bad[] = { "", "/", "/24", "192.0.2.0/", "192.0.2.0/33", "192.0.2.0/024",
			      "2001:db8::/129", "2001:db8::/-1", "fe80::1%eth0", "1:2:3:4:5:6:7:8:9",
			      "2001:db8:::1", ":::", "2001:db8::g", "2001:db8:: ", " 2001:db8::",
			      "2001:db8::1/1/2", "12345::", "1.2.3.4::",
			      "0000000000000000000000000000000000000000000000000:1" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		check_prefix(bad[i], DNSBL_ESYNTAX, NULL);
}

/* --- requests --- */

static void test_auth_and_roles(void **state)
{
	(void)state;
	struct api_response r = call("GET", "/healthz", NULL, NULL, NULL);
	assert_int_equal(r.status, 200);
	api_response_free(&r);
	r = call("GET", "/v1/zones", NULL, NULL, NULL);
	assert_int_equal(r.status, 401);
	assert_true(r.www_authenticate);
	api_response_free(&r);
	expect("GET", "/v1/zones", "wrong", NULL, NULL, 401);
	expect("GET", "/v1/zones", "", NULL, NULL, 401);
	struct api_request req = { .method = "GET", .path = "/v1/zones",
				   .authorization = "Basic YWxpY2U6eA==" };
	api_handle(&API, &req, &r);
	assert_int_equal(r.status, 401);
	api_response_free(&r);
	/* the secret of another scheme, or lower-case bearer */
	char auth[128];
	snprintf(auth, sizeof(auth), "bearer %s", secret_read);
	req.authorization = auth;
	api_handle(&API, &req, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.actor, "reader");
	api_response_free(&r);

	expect("GET", "/v1/zones", secret_read, NULL, NULL, 200);
	expect("PUT", "/v1/zones/bl.example/entries/192.0.2.1", secret_read, "{}", NULL, 403);
	expect("DELETE", "/v1/zones/bl.example/entries/192.0.2.1", secret_read, NULL, NULL, 403);
	expect("GET", "/v1/tokens", secret_write, NULL, NULL, 403);
	expect("GET", "/v1/tokens", secret_admin, NULL, NULL, 200);
	expect("GET", "/v1/openapi.yaml", secret_read, NULL, NULL, 200);
}

static void test_routes(void **state)
{
	(void)state;
	const char *missing[] = { "/", "/v1", "/v1/", "/v1/zones/", "/v1/zones/bl.example",
				  "/v1/zones/bl.example/", "/v1/zones/bl.example/entries/",
				  "/v1/zones/bl.example/other", "/v1/lookup/", "/v1/zones//entries",
				  "/v1/zones/nope.example/entries", "/v1/history/", "/healthz/x" };
	for (size_t i = 0; i < sizeof(missing) / sizeof(missing[0]); i++)
		expect("GET", missing[i], secret_read, NULL, NULL, 404);
	struct api_response r = call("POST", "/v1/zones/bl.example/entries/192.0.2.1",
				     secret_admin, "{}", NULL);
	assert_int_equal(r.status, 405);
	assert_string_equal(r.allow, "GET, PUT, DELETE");
	api_response_free(&r);
	r = call("DELETE", "/v1/zones", secret_admin, NULL, NULL);
	assert_int_equal(r.status, 405);
	assert_string_equal(r.allow, "GET");
	api_response_free(&r);
	expect("POST", "/healthz", NULL, NULL, NULL, 405);
	expect("GET", "/v1/zones", secret_read, NULL, "x=1", 400);
	expect("GET", "/v1/zones/bl.example/entries", secret_read, NULL, "limit=0", 400);
	expect("GET", "/v1/zones/bl.example/entries", secret_read, NULL, "limit=1001", 400);
	expect("GET", "/v1/zones/bl.example/entries", secret_read, NULL, "limit=1x", 400);
	expect("GET", "/v1/zones/bl.example/entries", secret_read, NULL, "limit=5&limit=6", 400);
	expect("GET", "/v1/zones/bl.example/entries", secret_read, NULL, "cursor=junk", 400);
	expect("GET", "/v1/history", secret_read, NULL, "key=192.0.2.1", 400);
	expect("GET", "/v1/history", secret_read, NULL, "zone=nope.example", 404);
	expect("GET", "/v1/history", secret_read, NULL, "since=yesterday", 400);
	expect("GET", "/v1/history", secret_read, NULL, "cursor=-1", 400);
	expect("GET", "/v1/history", secret_read, NULL, "cursor=99999999999999999999999", 400);
	expect("GET", "/v1/lookup/192.0.2.0/24", secret_read, NULL, NULL, 400);
	expect("GET", "/v1/lookup/not..valid", secret_read, NULL, NULL, 400);
	expect("GET", "/v1/lookup/spam.example.com", secret_read, NULL, NULL, 200);
	expect("GET", "/v1/lookup/*.example.com", secret_read, NULL, NULL, 400);
	expect("GET", "/v1/lookup/a..b", secret_read, NULL, NULL, 400);
	/* bytes that are not UTF-8 are quoted in the error as "?" (jansson needs UTF-8) */
	expect("GET", "/v1/lookup/\xff\xfe", secret_read, NULL, NULL, 400);
	expect("GET", "/v1/zones/\xe9/entries", secret_read, NULL, NULL, 404);
	expect("GET", "/v1/zones", secret_read, NULL, "\xff=1", 400);
	expect("GET", "/v1/zones/dom.example/entries/spam.example.com", secret_read, NULL, NULL,
	       404);
	expect("GET", "/v1/zones/dom.example/entries/spam..example.com", secret_read, NULL, NULL,
	       400);
	expect("GET", "/v1/zones/dom.example/entries/192.0.2.0%2F24", secret_read, NULL, NULL,
	       400);
}

/* The route table's patterns: "{zone}" one segment, "{key}"/"{query}" the rest. */
static void test_path_match(void **state)
{
	static const struct {
		const char *pattern, *path;
		bool match;
		const char *zone, *key, *query;
	} cases[] = {
		{ "/v1/zones", "/v1/zones", true, NULL, NULL, NULL },
		{ "/v1/zones", "/v1/zones/", false, NULL, NULL, NULL },
		{ "/v1/zones", "/v1/zone", false, NULL, NULL, NULL },
		{ "/v1/lookup/{query}", "/v1/lookup/192.0.2.0/24", true, NULL, NULL, "192.0.2.0/24" },
		{ "/v1/lookup/{query}", "/v1/lookup/", false, NULL, NULL, NULL },
		{ "/v1/zones/{zone}/entries", "/v1/zones/bl.example/entries", true, "bl.example",
		  NULL, NULL },
		{ "/v1/zones/{zone}/entries", "/v1/zones//entries", false, NULL, NULL, NULL },
		{ "/v1/zones/{zone}/entries", "/v1/zones/a/b/entries", false, NULL, NULL, NULL },
		{ "/v1/zones/{zone}/entries", "/v1/zones/bl.example/entries/", false, NULL, NULL,
		  NULL },
		{ "/v1/zones/{zone}/entries/{key}", "/v1/zones/z/entries/2001:db8::/32", true, "z",
		  "2001:db8::/32", NULL },
		{ "/v1/zones/{zone}/entries/{key}", "/v1/zones/z/entries/", false, NULL, NULL, NULL },
		{ "/v1/zones/{zone}/entries/{key}", "/v1/zones/z/entries", false, NULL, NULL, NULL },
	};
	struct request_path m;
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bool got = request_path_match(cases[i].pattern, cases[i].path, &m);
		if (got != cases[i].match)
			fail_msg("%s against %s: %d", cases[i].path, cases[i].pattern, got);
		if (!got)
			continue;
		const char *want[] = { cases[i].zone, cases[i].key, cases[i].query };
		const char *have[] = { m.zone, m.key, m.query };
		for (int k = 0; k < 3; k++) {
			if (want[k] == NULL)
				assert_null(have[k]);
			else
				assert_string_equal(have[k], want[k]);
		}
	}
	/* the path from {zone} on is copied: a longer one matches nothing (404) */
	char path[2200];
	snprintf(path, sizeof(path), "/v1/zones/%02100d/entries", 0);
	assert_false(request_path_match("/v1/zones/{zone}/entries", path, &m));
}

/* Which error a request gets when several apply: 401, 404, 405, 403, then 400. */
static void test_check_order(void **state)
{
	char path[2200];
	(void)state;
	expect("GET", "/nope", NULL, NULL, NULL, 401);
	expect("GET", "/v1/zones/nope.example/entries", NULL, NULL, NULL, 401);
	struct api_response r = call("POST", "/healthz", NULL, NULL, NULL);
	assert_int_equal(r.status, 405);
	assert_string_equal(r.allow, "GET");
	assert_false(r.www_authenticate);
	api_response_free(&r);
	expect("GET", "/healthz", NULL, NULL, "x=1", 400);
	expect("POST", "/v1/zones/nope.example/entries/192.0.2.1", secret_read, NULL, NULL, 404);
	expect("PUT", "/v1/zones/nope.example/entries/192.0.2.1", secret_read, NULL, NULL, 404);
	r = call("PUT", "/v1/zones", secret_read, NULL, NULL);
	assert_int_equal(r.status, 405);
	assert_string_equal(r.allow, "GET");
	assert_string_equal(r.actor, "reader");
	api_response_free(&r);
	expect("HEAD", "/v1/zones", secret_read, NULL, NULL, 405);
	expect("get", "/v1/zones", secret_read, NULL, NULL, 405);
	expect("PUT", "/v1/zones/bl.example/entries/junk", secret_read, NULL, NULL, 403);
	expect("GET", "/v1/tokens", secret_write, NULL, "x=1", 403);
	expect("GET", "/v1/zones/bl.example/entries/junk", secret_read, NULL, "x=1", 400);
	expect("GET", "/v1/history", secret_read, NULL, "zone=bl.example&zone=bl.example", 400);
	snprintf(path, sizeof(path), "/v1/zones/bl.example/entries/%02100d", 0);
	expect("GET", path, secret_read, NULL, NULL, 404);
	snprintf(path, sizeof(path), "/v1/lookup/%02100d", 0);
	expect("GET", path, secret_read, NULL, NULL, 400);
}

static void test_bad_keys_and_bodies(void **state)
{
	(void)state;
	const char *keys[] = { "junk", "256.1.1.1", "192.0.2.1/24", "192.0.2.0/33", "1.2.3",
			       "2001:db8::1/32", "192.0.2.1\x7f" };
	char path[256];
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		snprintf(path, sizeof(path), "/v1/zones/bl.example/entries/%s", keys[i]);
		expect("GET", path, secret_write, NULL, NULL, 400);
		expect("PUT", path, secret_write, "{}", NULL, 400);
		expect("DELETE", path, secret_write, NULL, NULL, 400);
	}
	char reason300[400], dollars[64];
	snprintf(reason300, sizeof(reason300), "{\"reason\":\"%0300d\"}", 0);
	memset(dollars, 0, sizeof(dollars));
	strcpy(dollars, "{\"txt\":\"");
	for (int i = 0; i < 17; i++)
		strcat(dollars, "$ "); /* "$$" would be one escaped dollar */
	strcat(dollars, "\"}");
	const char *bodies[] = {
		"not json", "[]", "\"s\"", "1", "{", "{}x", "{\"x\":1}",
		"{\"code\":\"128.0.0.1\"}", "{\"code\":\"127.0.0.0\"}", "{\"code\":0}",
		"{\"code\":256}", "{\"code\":\"x\"}", "{\"code\":true}", "{\"code\":2.5}",
		"{\"reason\":5}", reason300, "{\"reason\":\"a\\nb\"}", "{\"reason\":\"a\\u0000b\"}",
		"{\"txt\":5}", "{\"txt\":\"bell\\u0007\"}", dollars,
		"{\"expires\":\"2001-01-01T00:00:00Z\"}", "{\"expires\":1}", "{\"expires\":-5}",
		"{\"expires\":\"soon\"}", "{\"expires\":\"2099-01-01T00:00:00Z\",\"ttl\":60}",
		"{\"ttl\":0}", "{\"ttl\":\"0\"}", "{\"ttl\":\"5y\"}", "{\"ttl\":-1}",
		"{\"ttl\":999999999999}", "{\"exclude\":\"yes\"}", "{\"exclude\":true,\"code\":2}",
		"{\"exclude\":true,\"txt\":null}", "{\"reason\":\"a\",\"reason\":\"b\"}",
	};
	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++)
		expect("PUT", "/v1/zones/bl.example/entries/192.0.2.50", secret_write, bodies[i],
		       NULL, 400);
	expect("DELETE", "/v1/zones/bl.example/entries/192.0.2.50", secret_write,
	       "{\"why\":\"x\"}", NULL, 400);
	expect("DELETE", "/v1/zones/bl.example/entries/192.0.2.50", secret_write, "[1]", NULL,
	       400);
	/* nothing of that was written */
	expect("GET", "/v1/zones/bl.example/entries/192.0.2.50", secret_read, NULL, NULL, 404);
}

static const char *str_of(json_t *j, const char *key)
{
	json_t *v = json_object_get(j, key);
	if (!json_is_string(v))
		fail_msg("\"%s\" is not a string", key);
	return json_string_value(v);
}

static void test_put_get_delete(void **state)
{
	const char *path = "/v1/zones/bl.example/entries/203.0.113.0%2F24";
	(void)state;
	/* http.c decodes the path; here it comes decoded */
	path = "/v1/zones/bl.example/entries/203.0.113.0/24";
	struct api_response r = call("PUT", path, secret_write,
				     "{\"code\":\"5\",\"reason\":\"abuse\",\"ttl\":\"1d\"}", NULL);
	assert_int_equal(r.status, 201);
	assert_string_equal(r.location, "/v1/zones/bl.example/entries/203.0.113.0%2F24");
	json_t *j = body_json(&r);
	assert_string_equal(str_of(j, "outcome"), "created");
	assert_string_equal(str_of(j, "code"), "127.0.0.5");
	assert_string_equal(str_of(j, "source"), "operator:writer");
	assert_string_equal(str_of(j, "state"), "listed");
	assert_true(json_is_string(json_object_get(j, "expires")));
	json_decref(j);
	api_response_free(&r);

	/* an update keeps the reason when none is given, and null txt means none */
	r = call("PUT", path, secret_write, "{\"txt\":null}", NULL);
	assert_int_equal(r.status, 200);
	j = body_json(&r);
	assert_string_equal(str_of(j, "outcome"), "updated");
	assert_string_equal(str_of(j, "reason"), "abuse");
	assert_true(json_is_null(json_object_get(j, "txt")));
	assert_string_equal(str_of(j, "code"), "127.0.0.2");
	assert_true(json_is_null(json_object_get(j, "expires")));
	json_decref(j);
	api_response_free(&r);

	/* a host inside it: 409 on delete, an exclusion by PUT, then the exclusion goes */
	r = call("DELETE", "/v1/zones/bl.example/entries/203.0.113.9", secret_write, NULL, NULL);
	assert_int_equal(r.status, 409);
	j = body_json(&r);
	assert_string_equal(str_of(j, "covered_by"), "203.0.113.0/24");
	json_decref(j);
	api_response_free(&r);
	expect("PUT", "/v1/zones/bl.example/entries/203.0.113.9", secret_write,
	       "{\"exclude\":true}", NULL, 201);
	r = call("GET", "/v1/lookup/203.0.113.9", secret_read, NULL, NULL);
	assert_int_equal(r.status, 200);
	j = body_json(&r);
	json_t *res = json_array_get(json_object_get(j, "results"), 0);
	assert_true(json_is_false(json_object_get(res, "listed")));
	assert_string_equal(str_of(json_object_get(res, "entry"), "state"), "excluded");
	json_decref(j);
	api_response_free(&r);
	expect("DELETE", "/v1/zones/bl.example/entries/203.0.113.9", secret_write, NULL, NULL, 204);

	expect("GET", path, secret_read, NULL, NULL, 200);
	expect("DELETE", path, secret_write, "{\"reason\":\"fixed\"}", NULL, 204);
	r = call("GET", path, secret_read, NULL, NULL);
	assert_int_equal(r.status, 404);
	j = body_json(&r);
	json_t *tomb = json_object_get(j, "delisted");
	assert_string_equal(str_of(tomb, "actor"), "operator:writer");
	assert_string_equal(str_of(tomb, "reason"), "fixed");
	json_decref(j);
	api_response_free(&r);
	expect("DELETE", path, secret_write, NULL, NULL, 404);
	r = call("PUT", path, secret_admin, "", NULL);
	assert_int_equal(r.status, 201);
	j = body_json(&r);
	assert_string_equal(str_of(j, "outcome"), "relisted");
	assert_string_equal(str_of(j, "source"), "operator:boss");
	json_decref(j);
	api_response_free(&r);

	/* IPv6 */
	expect("PUT", "/v1/zones/bl.example/entries/2001:db8::/32", secret_write, NULL, NULL, 201);
	r = call("GET", "/v1/lookup/2001:db8::77", secret_read, NULL, NULL);
	j = body_json(&r);
	res = json_array_get(json_object_get(j, "results"), 0);
	assert_true(json_is_true(json_object_get(res, "listed")));
	assert_string_equal(str_of(res, "answer_txt"), "Listed: 2001:db8::77");
	json_decref(j);
	api_response_free(&r);
}

static void test_paging(void **state)
{
	char path[128], query[128], seen[40][64];
	unsigned n = 0, pages = 0;
	(void)state;
	for (int i = 0; i < 25; i++) {
		snprintf(path, sizeof(path), "/v1/zones/bl.example/entries/198.18.0.%d", i);
		expect("PUT", path, secret_write, NULL, NULL, 201);
	}
	query[0] = '\0';
	snprintf(query, sizeof(query), "limit=10");
	for (;;) {
		struct api_response r = call("GET", "/v1/zones/bl.example/entries", secret_read,
					     NULL, query);
		assert_int_equal(r.status, 200);
		json_t *j = body_json(&r), *e;
		size_t i;
		json_array_foreach(json_object_get(j, "entries"), i, e) {
			/* earlier tests left other keys in the zone */
			if (strncmp(str_of(e, "key"), "198.18.0.", 9) != 0)
				continue;
			assert_true(n < 40);
			snprintf(seen[n++], sizeof(seen[0]), "%s", str_of(e, "key"));
		}
		pages++;
		json_t *next = json_object_get(j, "next_cursor");
		if (json_is_null(next)) {
			json_decref(j);
			api_response_free(&r);
			break;
		}
		snprintf(query, sizeof(query), "limit=10&cursor=%s", json_string_value(next));
		json_decref(j);
		api_response_free(&r);
	}
	assert_int_equal(n, 25);
	assert_true(pages >= 3);
	/* key order is by prefix length, then address: .0 to .24 in numeric order */
	for (unsigned i = 0; i < n; i++) {
		char want[32];
		snprintf(want, sizeof(want), "198.18.0.%u", i);
		assert_string_equal(seen[i], want);
	}

	/* history: newest first, paged with cursor */
	struct api_response r = call("GET", "/v1/history", secret_read, NULL,
				     "zone=bl.example&limit=3");
	json_t *j = body_json(&r);
	json_t *h = json_object_get(j, "history");
	assert_int_equal(json_array_size(h), 3);
	assert_string_equal(str_of(json_array_get(h, 0), "key"), "198.18.0.24");
	snprintf(query, sizeof(query), "zone=bl.example&limit=3&cursor=%s",
		 str_of(j, "next_cursor"));
	json_decref(j);
	api_response_free(&r);
	r = call("GET", "/v1/history", secret_read, NULL, query);
	j = body_json(&r);
	assert_string_equal(str_of(json_array_get(json_object_get(j, "history"), 0), "key"),
			    "198.18.0.21");
	json_decref(j);
	api_response_free(&r);
	r = call("GET", "/v1/history", secret_read, NULL, "zone=bl.example&key=198.18.0.3");
	j = body_json(&r);
	h = json_object_get(j, "history");
	assert_int_equal(json_array_size(h), 1);
	assert_string_equal(str_of(json_array_get(h, 0), "event"), "list");
	assert_string_equal(str_of(json_array_get(h, 0), "actor"), "operator:writer");
	json_decref(j);
	api_response_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tokens_file_errors),
		cmocka_unit_test(test_tokens_add_match_remove),
		cmocka_unit_test(test_prefix_parse),
		cmocka_unit_test(test_auth_and_roles),
		cmocka_unit_test(test_routes),
		cmocka_unit_test(test_path_match),
		cmocka_unit_test(test_check_order),
		cmocka_unit_test(test_bad_keys_and_bodies),
		cmocka_unit_test(test_put_get_delete),
		cmocka_unit_test(test_paging),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
