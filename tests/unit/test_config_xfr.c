/* Unit tests for the zone transfer keys of lib/config.h (lib/config_xfr.c):
 * allow_transfer, notify, transfer_record_limit ([server] defaults a zone's own list
 * replaces), transfer_key and [key NAME] sections, each bad value at its line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <cmocka.h>

#include "config.h"
#include "err.h"

static char tmpdir[256];
static char cfgpath[512];
static int nfile;

static int setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/dnsbl-test-cfgxfr-XXXXXX");
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int teardown(void **state)
{
	(void)state;
	char p[600];
	for (int i = 0; i < nfile; i++) {
		snprintf(p, sizeof(p), "%s/c%d.conf", tmpdir, i);
		unlink(p);
	}
	rmdir(tmpdir);
	return 0;
}

static const char *write_lines(const char *const *lines)
{
	snprintf(cfgpath, sizeof(cfgpath), "%s/c%d.conf", tmpdir, nfile++);
	FILE *f = fopen(cfgpath, "w");
	if (f == NULL)
		fail_msg("cannot create %s", cfgpath);
	for (int i = 0; lines[i] != NULL; i++)
		fprintf(f, "%s\n", lines[i]);
	fclose(f);
	return cfgpath;
}

/* Loads lines, which must fail with "PATH:LINE: ...want..." for the line bad. */
static void expect_problem(const char *const *lines, const char *bad, const char *want)
{
	struct config cfg;
	char err[8192] = "", tag[700];
	const char *path = write_lines(lines);
	int at = 0;

	for (int i = 0; lines[i] != NULL; i++)
		if (strcmp(lines[i], bad) == 0)
			at = i + 1;
	assert_true(at > 0);
	int rc = config_load(path, &cfg, err, sizeof(err));
	if (rc == 0)
		config_free(&cfg);
	assert_int_equal(rc, DNSBL_EINVAL);
	snprintf(tag, sizeof(tag), "%s:%d: ", path, at);
	const char *p = strstr(err, tag);
	if (p == NULL || strstr(p, want) == NULL)
		fail_msg("want '%s%s' in '%s'", tag, want, err);
}

static void load_ok(const char *const *lines, struct config *cfg)
{
	char err[8192] = "";
	int rc = config_load(write_lines(lines), cfg, err, sizeof(err));
	if (rc != 0)
		fail_msg("config_load = %d: %s", rc, err);
}

#define ZONE(name)                                                                         \
	"[zone " name "]", "soa = ns1.x.example. hostmaster.x.example. 3600 600 86400 120", \
		"ns = ns1.x.example."

static void test_defaults_and_inheritance(void **state)
{
	(void)state;
	struct config cfg;
	const char *lines[] = { "[server]", "db = /tmp/x",
				"allow_transfer = 192.0.2.53/32 2001:db8::/64 198.51.100.7",
				"notify = 192.0.2.53:53 [2001:db8::53]:5353 192.0.2.54",
				"transfer_record_limit = 5000",
				ZONE("a.example"),
				ZONE("b.example"), "allow_transfer = 127.0.0.1/32", "notify =",
				"transfer_record_limit = 7", "transfer_key = XFR.",
				"[key xfr]", "algorithm = HMAC-SHA256",
				"secret = c2VjcmV0LXNlY3JldC1zZWNyZXQ=", NULL };
	load_ok(lines, &cfg);
	const struct zone_config *a = config_zone(&cfg, "a.example");
	const struct zone_config *b = config_zone(&cfg, "b.example");
	assert_non_null(a);
	assert_non_null(b);
	assert_int_equal(a->xfr.acl_count, 3);
	assert_int_equal(a->xfr.acl[0].family, ADDR_FAMILY_V4);
	assert_int_equal(a->xfr.acl[0].len, 32);
	assert_int_equal(a->xfr.acl[1].family, ADDR_FAMILY_V6);
	assert_int_equal(a->xfr.acl[1].len, 64);
	assert_int_equal(a->xfr.acl[2].len, 32); /* a bare address: one host */
	assert_int_equal(a->xfr.notify_count, 3);
	const struct sockaddr_in6 *s6 = (const void *)&a->xfr.notify[1].ss;
	assert_int_equal(a->xfr.notify[1].ss.ss_family, AF_INET6);
	assert_int_equal(ntohs(s6->sin6_port), 5353);
	const struct sockaddr_in *s4 = (const void *)&a->xfr.notify[2].ss;
	assert_int_equal(ntohs(s4->sin_port), 53); /* no port: 53 */
	assert_int_equal(a->xfr.record_limit, 5000);
	assert_null(config_zone_key(&cfg, a));
	/* the zone's own lists replace the server's; an empty one means none */
	assert_int_equal(b->xfr.acl_count, 1);
	assert_int_equal(b->xfr.notify_count, 0);
	assert_int_equal(b->xfr.record_limit, 7);
	const struct key_config *k = config_zone_key(&cfg, b);
	assert_non_null(k);
	assert_string_equal(k->name, "xfr");
	assert_int_equal(k->algorithm, KEY_HMAC_SHA256);
	assert_string_equal(config_key_algorithm_name(k->algorithm), "hmac-sha256");
	assert_int_equal(k->secret_len, 20);
	assert_memory_equal(k->secret, "secret-secret-secret", 20);
	assert_memory_equal(k->wire.wire, "\003xfr\000", 5);
	config_free(&cfg);
}

static void test_nobody_by_default(void **state)
{
	(void)state;
	struct config cfg;
	const char *lines[] = { "[server]", "db = /tmp/x", ZONE("a.example"), NULL };
	load_ok(lines, &cfg);
	assert_int_equal(cfg.zones[0].xfr.acl_count, 0);
	assert_int_equal(cfg.zones[0].xfr.notify_count, 0);
	assert_int_equal(cfg.zones[0].xfr.record_limit, CONFIG_RECORD_LIMIT_DEFAULT);
	assert_int_equal(cfg.zones[0].transfer_key_index, -1);
	config_free(&cfg);
}

static void test_bad_values(void **state)
{
	(void)state;
	static const struct {
		const char *line, *want;
	} bad[] = {
		{ "allow_transfer = 192.0.2.1/24", "has bits set past its length" },
		{ "allow_transfer = example.com", "is not an IP address or prefix" },
		{ "allow_transfer = 192.0.2.0/33", "is not an IP address or prefix" },
		{ "notify = 192.0.2.1:99999", "is not ADDRESS[:PORT]" },
		{ "notify = ns1.example:53", "is not ADDRESS[:PORT]" },
		{ "transfer_record_limit = 0", "is not a number" },
		{ "transfer_record_limit = lots", "is not a number" },
		{ "transfer_key = bad..name", "is not a key name" },
		{ "transfer_key = nokey", "no [key nokey] section" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *zone_lines[] = { "[server]", "db = /tmp/x", ZONE("a.example"),
					     bad[i].line, NULL };
		print_message("  zone: %s\n", bad[i].line);
		expect_problem(zone_lines, bad[i].line, bad[i].want);
		if (strncmp(bad[i].line, "transfer_key", 12) == 0)
			continue; /* a zone key only */
		const char *server_lines[] = { "[server]", "db = /tmp/x", bad[i].line,
					       ZONE("a.example"), NULL };
		print_message("  server: %s\n", bad[i].line);
		expect_problem(server_lines, bad[i].line, bad[i].want);
	}
}

static void test_bad_keys(void **state)
{
	(void)state;
	const char *l1[] = { "[server]", ZONE("a.example"), "[key k1]", "algorithm = hmac-sha3",
			     "secret = c2VjcmV0", NULL };
	expect_problem(l1, "algorithm = hmac-sha3", "is not hmac-md5");
	const char *l2[] = { "[server]", ZONE("a.example"), "[key k1]", "algorithm = hmac-sha1",
			     "secret = !!!notbase64", NULL };
	expect_problem(l2, "secret = !!!notbase64", "not base64");
	const char *l3[] = { "[server]", ZONE("a.example"), "[key k1]", "secret = c2VjcmV0",
			     NULL };
	expect_problem(l3, "[key k1]", "missing key 'algorithm'");
	const char *l4[] = { "[server]", ZONE("a.example"), "[key k1]", "algorithm = hmac-sha1",
			     NULL };
	expect_problem(l4, "[key k1]", "missing key 'secret'");
	const char *l5[] = { "[server]", ZONE("a.example"), "[key k1]", "algorithm = hmac-md5",
			     "secret = c2VjcmV0", "[key K1.]", "algorithm = hmac-md5",
			     "secret = c2VjcmV0", NULL };
	expect_problem(l5, "[key K1.]", "duplicate key 'k1'");
	const char *l6[] = { "[server]", ZONE("a.example"), "[key k1]", "algorithm = hmac-md5",
			     "secret = c2VjcmV0", "color = blue", NULL };
	expect_problem(l6, "color = blue", "unknown key 'color' in [key k1]");
	const char *l7[] = { "[server]", ZONE("a.example"), "[key a..b]", NULL };
	expect_problem(l7, "[key a..b]", "bad key name");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_and_inheritance),
		cmocka_unit_test(test_nobody_by_default),
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_bad_keys),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
