/* Unit tests for lib/config.h: config_load on temporary files (valid and each
 * kind of problem, with "PATH:LINE:" checked), config_zone, dname_from_text /
 * dname_to_text and config_parse_listen. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "config.h"
#include "err.h"

/* A temporary directory holding one config file per test. */
static char tmpdir[256];
static char cfgpath[512];
static int nfile;

static int setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/dnsbl-test-config-XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	return 0;
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

/* Writes the NULL-terminated array of lines (each gets a '\n') to a new file in
 * tmpdir and returns its path (static buffer). */
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

/* Index (1-based line number) of the first line equal to needle. */
static int line_of(const char *const *lines, const char *needle)
{
	for (int i = 0; lines[i] != NULL; i++)
		if (strcmp(lines[i], needle) == 0)
			return i + 1;
	fail_msg("test bug: line '%s' not in the config", needle);
	return -1;
}

/* Loads lines expecting DNSBL_EINVAL and an error "PATH:LINE:" for each of the
 * given lines (0-terminated list). */
static void expect_problem_lines(const char *const *lines, const int *want_lines)
{
	struct config cfg;
	char err[8192];
	const char *path = write_lines(lines);

	memset(err, 0, sizeof(err));
	memset(&cfg, 0, sizeof(cfg));
	int rc = config_load(path, &cfg, err, sizeof(err));
	if (rc != DNSBL_EINVAL) {
		if (rc == 0)
			config_free(&cfg);
		fail_msg("config_load(%s) = %d, want DNSBL_EINVAL; err='%s'", path, rc, err);
	}
	for (int i = 0; want_lines[i] >= 0; i++) {
		char tag[600];
		snprintf(tag, sizeof(tag), "%s:%d:", path, want_lines[i]);
		if (strstr(err, tag) == NULL)
			fail_msg("error text lacks '%s': '%s'", tag, err);
		if (want_lines[i] == 0)
			continue;
		/* the reason after the tag is not empty */
		const char *r = strstr(err, tag) + strlen(tag);
		while (*r == ' ')
			r++;
		assert_true(*r != '\0' && *r != '\n');
	}
}

static void expect_problem_at(const char *const *lines, const char *bad_line)
{
	int want[2] = {line_of(lines, bad_line), -1};
	expect_problem_lines(lines, want);
}

/* A full valid zone block used by many configs. */
#define ZONE_BL                                                                   \
	"[zone bl.example]", "type = ip", "policy = block", "ttl = 300",          \
		"a = 127.0.0.2", "txt = Listed, see https://bl.example/lookup?ip=$", \
		"soa = ns1.bl.example. hostmaster.bl.example. 3600 600 86400 120",   \
		"ns = ns1.bl.example. ns2.bl.example."

static const uint8_t BL_WIRE[] = "\002bl\007example";          /* + root */
static const uint8_t NS1_WIRE[] = "\003ns1\002bl\007example";  /* + root */
static const uint8_t NS2_WIRE[] = "\003ns2\002bl\007example";
static const uint8_t HM_WIRE[] = "\012hostmaster\002bl\007example";

static void assert_dname(const struct dname *d, const uint8_t *wire, size_t n_with_nul)
{
	/* the string literal's NUL is the root label */
	if (d->len != n_with_nul || memcmp(d->wire, wire, n_with_nul) != 0) {
		char t[300];
		dname_to_text(d->wire, d->len, t, sizeof(t));
		fail_msg("dname '%s' (len %u) differs from expected (len %zu)", t, d->len,
			 n_with_nul);
	}
}

/* Collapses "//" and "/./" so that equivalent absolute paths compare equal. */
static void normpath(const char *in, char *out, size_t size)
{
	size_t o = 0;
	for (size_t i = 0; in[i] && o + 1 < size;) {
		if (in[i] == '/' && in[i + 1] == '/') {
			i++;
			continue;
		}
		if (in[i] == '/' && in[i + 1] == '.' && (in[i + 2] == '/' || in[i + 2] == 0)) {
			i += 2;
			continue;
		}
		out[o++] = in[i++];
	}
	out[o] = 0;
}

static void test_load_valid_full(void **state)
{
	(void)state;
	const char *lines[] = {
		"; Demo configuration",
		"# another comment style",
		"[server]",
		"db = data/db",
		"listen = 127.0.0.1:5300 [::1]:5300",
		"threads = 4",
		"tcp_idle_timeout = 10",
		"tcp_max_connections = 100",
		"",
		"[api]",
		"listen = 127.0.0.1:8053",
		"tokens = /etc/dnsbl/tokens",
		"",
		ZONE_BL,
		"",
		"[zone wl.example]",
		"type = ip",
		"policy = allow",
		"ttl = 600",
		"a = 127.0.0.10",
		"soa = ns1.wl.example. hostmaster.wl.example. 7200 900 604800 300",
		"ns = ns1.wl.example.",
		"",
		"[zone dbl.example]",
		"type = name",
		"policy = block",
		"ttl = 60",
		"a = 127.0.1.2",
		"txt = $ is listed",
		"soa = ns1.dbl.example. hostmaster.dbl.example. 1 2 3 4",
		"ns = ns1.dbl.example. ns2.dbl.example. ns3.dbl.example.",
		NULL,
	};
	struct config cfg;
	char err[4096] = "";
	const char *path = write_lines(lines);

	int rc = config_load(path, &cfg, err, sizeof(err));
	if (rc != 0)
		fail_msg("config_load = %d: %s", rc, err);

	assert_string_equal(cfg.path, path);
	/* relative db is resolved against the config file's directory */
	char want[1024], got[4096];
	snprintf(want, sizeof(want), "%s/data/db", tmpdir);
	normpath(cfg.db, got, sizeof(got));
	assert_string_equal(got, want);
	assert_string_equal(cfg.api_tokens, "/etc/dnsbl/tokens");

	assert_int_equal(cfg.threads, 4);
	assert_int_equal(cfg.tcp_idle_timeout, 10);
	assert_int_equal(cfg.tcp_max_connections, 100);
	assert_int_equal(cfg.listen_count, 2);
	assert_string_equal(cfg.listen[0].text, "127.0.0.1:5300");
	assert_string_equal(cfg.listen[1].text, "[::1]:5300");
	const struct sockaddr_in *s4 = (const struct sockaddr_in *)&cfg.listen[0].ss;
	assert_int_equal(s4->sin_family, AF_INET);
	assert_int_equal(ntohs(s4->sin_port), 5300);
	assert_int_equal(ntohl(s4->sin_addr.s_addr), 0x7f000001);
	assert_int_equal(cfg.listen[0].sslen, sizeof(struct sockaddr_in));
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&cfg.listen[1].ss;
	assert_int_equal(s6->sin6_family, AF_INET6);
	assert_int_equal(ntohs(s6->sin6_port), 5300);
	assert_memory_equal(&s6->sin6_addr, &in6addr_loopback, 16);
	assert_int_equal(cfg.listen[1].sslen, sizeof(struct sockaddr_in6));
	assert_int_equal(cfg.api_listen_count, 1);
	assert_string_equal(cfg.api_listen[0].text, "127.0.0.1:8053");

	assert_int_equal(cfg.zone_count, 3);
	const struct zone_config *z = config_zone(&cfg, "bl.example");
	assert_non_null(z);
	assert_string_equal(z->name, "bl.example");
	assert_dname(&z->apex, BL_WIRE, sizeof(BL_WIRE));
	assert_int_equal(z->type, ZONE_TYPE_IP);
	assert_int_equal(z->policy, ZONE_POLICY_BLOCK);
	assert_string_equal(z->exempt, "");
	assert_int_equal(z->ttl, 300);
	assert_int_equal(z->a, 0x7f000002);
	assert_string_equal(z->txt, "Listed, see https://bl.example/lookup?ip=$");
	assert_dname(&z->soa_mname, NS1_WIRE, sizeof(NS1_WIRE));
	assert_dname(&z->soa_rname, HM_WIRE, sizeof(HM_WIRE));
	assert_int_equal(z->soa_refresh, 3600);
	assert_int_equal(z->soa_retry, 600);
	assert_int_equal(z->soa_expire, 86400);
	assert_int_equal(z->soa_minimum, 120);
	assert_int_equal(z->ns_count, 2);
	assert_dname(&z->ns[0], NS1_WIRE, sizeof(NS1_WIRE));
	assert_dname(&z->ns[1], NS2_WIRE, sizeof(NS2_WIRE));
	assert_int_equal(z->line, line_of(lines, "[zone bl.example]"));

	z = config_zone(&cfg, "wl.example");
	assert_non_null(z);
	assert_int_equal(z->policy, ZONE_POLICY_ALLOW);
	assert_int_equal(z->ttl, 600);
	assert_int_equal(z->a, 0x7f00000a);
	assert_string_equal(z->txt, "");
	assert_int_equal(z->ns_count, 1);
	assert_int_equal(z->soa_expire, 604800);
	assert_int_equal(z->line, line_of(lines, "[zone wl.example]"));

	z = config_zone(&cfg, "dbl.example");
	assert_non_null(z);
	assert_int_equal(z->type, ZONE_TYPE_NAME);
	assert_string_equal(z->exempt, "");
	assert_int_equal(z->a, 0x7f000102);
	assert_int_equal(z->ns_count, 3);
	assert_int_equal(z->soa_refresh, 1);
	assert_int_equal(z->soa_minimum, 4);
	config_free(&cfg);
}

static void test_load_absolute_db_and_case(void **state)
{
	(void)state;
	const char *lines[] = {
		"[server]",
		"db = /var/tmp/some/db",
		"listen = 127.0.0.1:5300",
		"[zone Mixed.Example]",
		"type = ip",
		"ttl = 300",
		"a = 127.0.0.2",
		"soa = NS1.Mixed.Example. Hostmaster.MIXED.example. 3600 600 86400 120",
		"ns = NS1.Mixed.Example.",
		NULL,
	};
	struct config cfg;
	char err[4096] = "";
	int rc = config_load(write_lines(lines), &cfg, err, sizeof(err));
	if (rc != 0)
		fail_msg("config_load = %d: %s", rc, err);
	assert_string_equal(cfg.db, "/var/tmp/some/db");
	assert_int_equal(cfg.zone_count, 1);
	/* names are kept lower case, without trailing dot */
	assert_string_equal(cfg.zones[0].name, "mixed.example");
	static const uint8_t ns1[] = "\003ns1\005mixed\007example";
	assert_dname(&cfg.zones[0].ns[0], ns1, sizeof(ns1));
	assert_dname(&cfg.zones[0].soa_mname, ns1, sizeof(ns1));
	config_free(&cfg);
}

static void test_config_zone_lookup(void **state)
{
	(void)state;
	const char *lines[] = {
		"[server]", "db = /tmp/x", "listen = 127.0.0.1:5300", ZONE_BL,
		"[zone pbl.example]", "type = ip", "ttl = 600", "a = 127.0.0.10",
		"soa = ns1.pbl.example. hostmaster.pbl.example. 3600 600 86400 300",
		"ns = ns1.pbl.example.", NULL,
	};
	struct config cfg;
	char err[4096] = "";
	int rc = config_load(write_lines(lines), &cfg, err, sizeof(err));
	if (rc != 0)
		fail_msg("config_load = %d: %s", rc, err);

	const struct zone_config *bl = config_zone(&cfg, "bl.example");
	const struct zone_config *pbl = config_zone(&cfg, "pbl.example");
	assert_non_null(bl);
	assert_non_null(pbl);
	assert_ptr_not_equal(bl, pbl);
	assert_string_equal(pbl->name, "pbl.example");
	/* points into cfg */
	assert_true(bl >= cfg.zones && bl < cfg.zones + cfg.zone_count);
	assert_ptr_equal(config_zone(&cfg, "BL.EXAMPLE"), bl);
	assert_ptr_equal(config_zone(&cfg, "Bl.Example."), bl);
	assert_ptr_equal(config_zone(&cfg, "bl.example."), bl);
	assert_ptr_equal(config_zone(&cfg, "PBL.example."), pbl);
	assert_null(config_zone(&cfg, "example"));
	assert_null(config_zone(&cfg, "l.example"));
	assert_null(config_zone(&cfg, "xbl.example"));
	assert_null(config_zone(&cfg, "a.bl.example"));
	assert_null(config_zone(&cfg, ""));
	assert_null(config_zone(&cfg, "bl.exampl"));
	config_free(&cfg);
}

/* "bl.example.." is not a valid name (an empty label), neither as a lookup key
 * nor as a section name. */
static void test_zone_name_double_dot(void **state)
{
	(void)state;
	const char *lines[] = {"[server]", "db = /tmp/x", ZONE_BL, NULL};
	struct config cfg;
	char err[4096] = "";
	int rc = config_load(write_lines(lines), &cfg, err, sizeof(err));
	if (rc != 0)
		fail_msg("config_load = %d: %s", rc, err);
	const struct zone_config *z = config_zone(&cfg, "bl.example..");
	char found[256] = "";
	if (z != NULL)
		snprintf(found, sizeof(found), "%s", z->name);
	config_free(&cfg);
	if (found[0])
		fail_msg("config_zone(\"bl.example..\") found zone '%s'", found);

	const char *l2[] = {"[server]", "db = /tmp/x", ZONE_BL, "[zone pbl.example..]",
			    "type = ip", "ttl = 300", "a = 127.0.0.2",
			    "soa = ns1.bl.example. hostmaster.bl.example. 3600 600 86400 120",
			    "ns = ns1.bl.example.", NULL};
	expect_problem_at(l2, "[zone pbl.example..]");
}

static void test_load_missing_file(void **state)
{
	(void)state;
	struct config cfg;
	char err[1024] = "";
	char p[600];
	snprintf(p, sizeof(p), "%s/does-not-exist.conf", tmpdir);
	assert_int_equal(config_load(p, &cfg, err, sizeof(err)), DNSBL_ENOTFOUND);
	assert_int_equal(config_load("/nonexistent-dir/x/y.conf", &cfg, err, sizeof(err)),
			 DNSBL_ENOTFOUND);
}

static void test_err_unknown_key(void **state)
{
	(void)state;
	const char *l1[] = {"[server]", "db = /tmp/x", "bogus = 1", "listen = 127.0.0.1:53",
			    ZONE_BL, NULL};
	expect_problem_at(l1, "bogus = 1");
	const char *l2[] = {"[server]", "db = /tmp/x", ZONE_BL, "colour = blue", NULL};
	expect_problem_at(l2, "colour = blue");
	const char *l3[] = {"[server]", "db = /tmp/x", "[api]", "listen = 127.0.0.1:8053",
			    "secret = x", ZONE_BL, NULL};
	expect_problem_at(l3, "secret = x");
}

static void test_err_unknown_section(void **state)
{
	(void)state;
	const char *l1[] = {"[server]", "db = /tmp/x", "[bogus]", "x = 1", ZONE_BL, NULL};
	expect_problem_at(l1, "[bogus]");
	const char *l2[] = {"[server]", "db = /tmp/x", ZONE_BL, "[zones bl2.example]", NULL};
	expect_problem_at(l2, "[zones bl2.example]");
}

static void test_err_bad_values(void **state)
{
	(void)state;
	struct {
		const char *key; /* replaces the zone's line starting with the same key */
	} bad[] = {
		{"ttl = abc"},
		{"ttl = -1"},
		{"ttl = 99999999999999999999"},
		{"ttl = 30x0"},
		{"ttl ="},
		{"a = 300.0.0.1"},
		{"a = 127.0.0"},
		{"a = not-an-ip"},
		{"a = 127.0.0.2x"},
		{"type = xyz"},
		{"type ="},
		{"policy = maybe"},
		{"soa = ns1.bl.example. hostmaster.bl.example. 3600 600 86400"},
		{"soa = ns1.bl.example. hostmaster.bl.example. 3600 600 86400 120 7"},
		{"soa = ns1.bl.example. hostmaster.bl.example. 3600 600 86400 abc"},
		{"soa = ns1..bl.example. hostmaster.bl.example. 3600 600 86400 120"},
		{"ns = ns1..bl.example."},
		{"ns ="},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *zone[] = {ZONE_BL};
		const char *lines[32];
		int n = 0, at = -1;
		lines[n++] = "[server]";
		lines[n++] = "db = /tmp/x";
		for (size_t j = 0; j < sizeof(zone) / sizeof(zone[0]); j++) {
			size_t kl = strcspn(bad[i].key, " ");
			if (strncmp(zone[j], bad[i].key, kl) == 0 && zone[j][kl] == ' ') {
				lines[n++] = bad[i].key;
				at = n;
			} else {
				lines[n++] = zone[j];
			}
		}
		lines[n] = NULL;
		assert_true(at > 0);
		int want[2] = {at, -1};
		print_message("  bad value: %s\n", bad[i].key);
		expect_problem_lines(lines, want);
	}
}

static void test_err_bad_server_values(void **state)
{
	(void)state;
	const char *l1[] = {"[server]", "db = /tmp/x", "listen = 127.0.0.1", ZONE_BL, NULL};
	expect_problem_at(l1, "listen = 127.0.0.1");
	const char *l2[] = {"[server]", "listen = 127.0.0.1:5300 [::1]", ZONE_BL, NULL};
	expect_problem_at(l2, "listen = 127.0.0.1:5300 [::1]");
	const char *l3[] = {"[server]", "listen = 127.0.0.1:99999", ZONE_BL, NULL};
	expect_problem_at(l3, "listen = 127.0.0.1:99999");
	const char *l4[] = {"[server]", "threads = many", ZONE_BL, NULL};
	expect_problem_at(l4, "threads = many");
	const char *l5[] = {"[server]", "db = /tmp/x", "[api]", "listen = localhost", ZONE_BL,
			    NULL};
	expect_problem_at(l5, "listen = localhost");
	const char *l6[] = {"[server]", "journal_size = -1", ZONE_BL, NULL};
	expect_problem_at(l6, "journal_size = -1");
	const char *l7[] = {"[server]", "journal_size = 4000000001", ZONE_BL, NULL};
	expect_problem_at(l7, "journal_size = 4000000001");
	const char *l8[] = {"[server]", "journal_size = 10k", ZONE_BL, NULL};
	expect_problem_at(l8, "journal_size = 10k");
	const char *l9[] = {"[server]", "journal_size =", ZONE_BL, NULL};
	expect_problem_at(l9, "journal_size =");
}

/* [server] journal_size: the default, 0 and a value. */
static void test_journal_size(void **state)
{
	(void)state;
	const char *values[] = { NULL, "journal_size = 0", "journal_size = 2500",
				 "journal_size = 4000000000" };
	const uint64_t want[] = { 100000, 0, 2500, 4000000000ull };
	for (int i = 0; i < 4; i++) {
		const char *lines[] = {"[server]", "db = /tmp/x", values[i] ? values[i] : "threads = 1",
				       ZONE_BL, NULL};
		struct config cfg;
		char err[4096] = "";
		memset(&cfg, 0, sizeof(cfg));
		int rc = config_load(write_lines(lines), &cfg, err, sizeof(err));
		if (rc != 0)
			fail_msg("config_load = %d: %s", rc, err);
		assert_int_equal(cfg.journal_size, want[i]);
		config_free(&cfg);
	}
}

static void test_err_bad_zone_name(void **state)
{
	(void)state;
	const char *l1[] = {"[server]", "db = /tmp/x", "[zone bad..name]", "type = ip",
			    "ttl = 300", "a = 127.0.0.2",
			    "soa = ns1.bl.example. hostmaster.bl.example. 3600 600 86400 120",
			    "ns = ns1.bl.example.", ZONE_BL, NULL};
	expect_problem_at(l1, "[zone bad..name]");
	char longlabel[128];
	memset(longlabel, 'a', sizeof(longlabel));
	memcpy(longlabel, "[zone ", 6);
	/* 64-byte label */
	snprintf(longlabel + 6 + 64, sizeof(longlabel) - 70, ".example]");
	const char *l2[] = {"[server]", "db = /tmp/x", longlabel, "type = ip", "ttl = 300",
			    "a = 127.0.0.2",
			    "soa = ns1.bl.example. hostmaster.bl.example. 3600 600 86400 120",
			    "ns = ns1.bl.example.", ZONE_BL, NULL};
	expect_problem_at(l2, longlabel);
}

static void test_err_duplicates(void **state)
{
	(void)state;
	/* duplicate zone section: reported at the second header */
	const char *l1[] = {"[server]", "db = /tmp/x", ZONE_BL, "[zone bl.example]",
			    "type = ip", NULL};
	int want1[] = {3 + 8, -1}; /* [server], db, the 8 lines of ZONE_BL, then it */
	assert_string_equal(l1[want1[0] - 1], "[zone bl.example]");
	expect_problem_lines(l1, want1);

	/* the same zone in another case is the same zone */
	const char *l2[] = {"[server]", "db = /tmp/x", ZONE_BL, "[zone BL.Example]",
			    "ttl = 5", NULL};
	expect_problem_at(l2, "[zone BL.Example]");

	/* duplicate key: reported at the second occurrence */
	const char *l3[] = {"[server]", "db = /tmp/x", ZONE_BL, "ttl = 600", NULL};
	expect_problem_at(l3, "ttl = 600");
	const char *l4[] = {"[server]", "db = /tmp/x", "db = /tmp/y", ZONE_BL, NULL};
	expect_problem_at(l4, "db = /tmp/y");
}

static void test_err_missing_soa_ns(void **state)
{
	(void)state;
	const char *l1[] = {"[server]", "db = /tmp/x", "[zone nosoa.example]", "type = ip",
			    "ttl = 300", "a = 127.0.0.2", "ns = ns1.bl.example.", NULL};
	expect_problem_at(l1, "[zone nosoa.example]");
	const char *l2[] = {"[server]", "db = /tmp/x", ZONE_BL, "[zone nons.example]",
			    "type = ip", "ttl = 300", "a = 127.0.0.2",
			    "soa = ns1.bl.example. hostmaster.bl.example. 3600 600 86400 120",
			    NULL};
	expect_problem_at(l2, "[zone nons.example]");
}

/* exempt must name a zone of the file (and not the zone itself) */
static void test_err_exempt(void **state)
{
	(void)state;
	const char *l1[] = {"[server]", "db = /tmp/x", ZONE_BL, "exempt = nosuch.example", NULL};
	struct config cfg;
	char err[4096] = "";
	int rc = config_load(write_lines(l1), &cfg, err, sizeof(err));
	if (rc == 0)
		config_free(&cfg);
	if (rc != DNSBL_EINVAL)
		fail_msg("exempt = nosuch.example: config_load = %d, want DNSBL_EINVAL", rc);
	assert_non_null(strstr(err, "nosuch.example"));
	const char *l2[] = {"[server]", "db = /tmp/x", ZONE_BL, "exempt = bl.example", NULL};
	rc = config_load(write_lines(l2), &cfg, err, sizeof(err));
	if (rc == 0)
		config_free(&cfg);
	assert_int_equal(rc, DNSBL_EINVAL);
	/* an ip zone cannot be exempted by a name allowlist */
	const char *l3[] = {"[server]", "db = /tmp/x", ZONE_BL, "exempt = dwl.example",
			    "[zone dwl.example]", "type = name", "policy = allow",
			    "soa = ns1.bl.example. hostmaster.bl.example. 3600 600 86400 120",
			    "ns = ns1.bl.example.", NULL};
	rc = config_load(write_lines(l3), &cfg, err, sizeof(err));
	if (rc == 0)
		config_free(&cfg);
	assert_int_equal(rc, DNSBL_EINVAL);
	assert_non_null(strstr(err, "another type"));
}

/* type = combined: members must exist, be ip or name zones of one type, and only
 * combined zones have members */
static void test_combined(void **state)
{
	(void)state;
#define ZONE_OTHER(name, type)                                                     \
	"[zone " name "]", "type = " type,                                         \
		"soa = ns1.bl.example. hostmaster.bl.example. 3600 600 86400 120", \
		"ns = ns1.bl.example."
	const char *good[] = {"[server]", "db = /tmp/x", ZONE_BL, ZONE_OTHER("xbl.example", "ip"),
			      ZONE_OTHER("zen.example", "combined"),
			      "members = bl.example XBL.example.", NULL};
	struct config cfg;
	char err[4096] = "";
	int rc = config_load(write_lines(good), &cfg, err, sizeof(err));
	if (rc != 0)
		fail_msg("config_load = %d: %s", rc, err);
	const struct zone_config *z = config_zone(&cfg, "zen.example");
	assert_non_null(z);
	assert_int_equal(z->type, ZONE_TYPE_COMBINED);
	assert_int_equal(z->member_count, 2);
	assert_string_equal(z->members[0], "bl.example");
	assert_string_equal(z->members[1], "xbl.example");
	assert_string_equal(config_zone_type_name(z->type), "combined");
	config_free(&cfg);

	static const struct {
		const char *lines[24];
		const char *want;
	} bad[] = {
		{{"[server]", "db = /tmp/x", ZONE_BL, ZONE_OTHER("zen.example", "combined"), NULL},
		 "needs members"},
		{{"[server]", "db = /tmp/x", ZONE_BL, ZONE_OTHER("zen.example", "combined"),
		  "members = bl.example nosuch.example", NULL},
		 "nosuch.example"},
		{{"[server]", "db = /tmp/x", ZONE_BL, ZONE_OTHER("dbl.example", "name"),
		  ZONE_OTHER("zen.example", "combined"), "members = bl.example dbl.example", NULL},
		 "mix"},
		{{"[server]", "db = /tmp/x", ZONE_BL, ZONE_OTHER("zen.example", "combined"),
		  "members = bl.example bl.example", NULL},
		 "twice"},
		{{"[server]", "db = /tmp/x", ZONE_BL, ZONE_OTHER("zen.example", "combined"),
		  "members = zen.example", NULL},
		 "itself combined"},
		{{"[server]", "db = /tmp/x", ZONE_BL, "members = bl.example", NULL},
		 "only for type = combined"},
		{{"[server]", "db = /tmp/x", ZONE_BL, ZONE_OTHER("zen.example", "combined"),
		  "members = bl.example", "exempt = bl.example", NULL},
		 "no exempt"},
		{{"[server]", "db = /tmp/x", ZONE_BL, ZONE_OTHER("zen.example", "combined"),
		  "members = a.example b.example c.example d.example e.example f.example "
		  "g.example h.example i.example",
		  NULL},
		 "more than 8"},
		{{"[server]", "db = /tmp/x", ZONE_BL, ZONE_OTHER("zen.example", "combined"),
		  "members = bad..name", NULL},
		 "bad zone name"},
	};
#undef ZONE_OTHER
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		rc = config_load(write_lines(bad[i].lines), &cfg, err, sizeof(err));
		if (rc == 0)
			config_free(&cfg);
		if (rc != DNSBL_EINVAL || strstr(err, bad[i].want) == NULL)
			fail_msg("case %zu: rc %d, err \"%s\", want \"%s\"", i, rc, err, bad[i].want);
	}
}

static void test_err_no_zone(void **state)
{
	(void)state;
	const char *l1[] = {"[server]", "db = /tmp/x", "listen = 127.0.0.1:5300", NULL};
	int want[] = {0, -1};
	expect_problem_lines(l1, want);
	const char *l2[] = {"; empty", NULL};
	expect_problem_lines(l2, want);
}

/* All problems in a file are reported, each with its own line. */
static void test_err_all_reported(void **state)
{
	(void)state;
	const char *l1[] = {"[server]",  "db = /tmp/x",       "bogus = 1", ZONE_BL,
			    "[weird]",   "[zone x.example]", "type = xyz", "ttl = abc",
			    NULL};
	int want[] = {3, line_of(l1, "[weird]"), line_of(l1, "type = xyz"),
		      line_of(l1, "ttl = abc"), -1};
	expect_problem_lines(l1, want);
}

/* The error text is truncated to errsize and stays NUL-terminated. */
static void test_err_truncated(void **state)
{
	(void)state;
	const char *l1[] = {"[server]", "bogus1 = 1", "bogus2 = 2", "bogus3 = 3", ZONE_BL,
			    NULL};
	char buf[64];
	struct config cfg;
	memset(buf, 'Z', sizeof(buf));
	assert_int_equal(config_load(write_lines(l1), &cfg, buf, 16), DNSBL_EINVAL);
	assert_true(memchr(buf, 0, 16) != NULL);
	for (size_t i = 16; i < sizeof(buf); i++)
		assert_int_equal(buf[i], 'Z');
}

/* --- dname_from_text / dname_to_text --- */

static void test_dname_from_text(void **state)
{
	struct dname d;
	(void)state;

	assert_int_equal(dname_from_text("bl.example", &d), 0);
	assert_dname(&d, BL_WIRE, sizeof(BL_WIRE));
	assert_int_equal(dname_from_text("bl.example.", &d), 0);
	assert_dname(&d, BL_WIRE, sizeof(BL_WIRE));
	assert_int_equal(dname_from_text("BL.ExAmPlE.", &d), 0);
	assert_dname(&d, BL_WIRE, sizeof(BL_WIRE));
	assert_int_equal(dname_from_text(".", &d), 0);
	assert_int_equal(d.len, 1);
	assert_int_equal(d.wire[0], 0);
	assert_int_equal(dname_from_text("a", &d), 0);
	assert_int_equal(d.len, 3);
	assert_memory_equal(d.wire, "\001a\000", 3);

	static const char *const bad[] = {"a..b", "..", ".a", "a..", "..a", "a.b..", NULL};
	for (int i = 0; bad[i]; i++)
		if (dname_from_text(bad[i], &d) != DNSBL_ESYNTAX)
			fail_msg("dname_from_text(\"%s\") accepted", bad[i]);

	/* label of 63 ok, 64 rejected */
	char name[600];
	memset(name, 'x', 63);
	strcpy(name + 63, ".example");
	assert_int_equal(dname_from_text(name, &d), 0);
	assert_int_equal(d.len, 1 + 63 + 8 + 1);
	assert_int_equal(d.wire[0], 63);
	memset(name, 'x', 64);
	strcpy(name + 64, ".example");
	assert_int_equal(dname_from_text(name, &d), DNSBL_ESYNTAX);
	memset(name, 'x', 64);
	name[64] = 0;
	assert_int_equal(dname_from_text(name, &d), DNSBL_ESYNTAX);

	/* wire length exactly 255 (63+63+63+61 bytes of labels) ok, 256 rejected */
	char *p = name;
	for (int i = 0; i < 3; i++) {
		memset(p, 'a' + i, 63);
		p += 63;
		*p++ = '.';
	}
	memset(p, 'd', 61);
	p[61] = 0;
	assert_int_equal(dname_from_text(name, &d), 0);
	assert_int_equal(d.len, 255);
	strcat(name, ".");
	assert_int_equal(dname_from_text(name, &d), 0);
	assert_int_equal(d.len, 255);
	p[61] = 'd';
	p[62] = 0; /* last label 62 bytes: wire 256 */
	assert_int_equal(dname_from_text(name, &d), DNSBL_ESYNTAX);
	/* many short labels: 127 "a." = wire 255 ok; 128 = 257 rejected */
	p = name;
	for (int i = 0; i < 127; i++) {
		*p++ = 'a';
		*p++ = '.';
	}
	*p = 0;
	assert_int_equal(dname_from_text(name, &d), 0);
	assert_int_equal(d.len, 255);
	strcpy(p, "a");
	assert_int_equal(dname_from_text(name, &d), DNSBL_ESYNTAX);
}

static void test_dname_to_text(void **state)
{
	char buf[300];
	(void)state;

	assert_int_equal(dname_to_text(BL_WIRE, sizeof(BL_WIRE), buf, sizeof(buf)), 10);
	assert_string_equal(buf, "bl.example");
	assert_int_equal(dname_to_text((const uint8_t *)"", 1, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");
	/* room for the text and its NUL only */
	assert_int_equal(dname_to_text(BL_WIRE, sizeof(BL_WIRE), buf, 11), 10);
	assert_string_equal(buf, "bl.example");
	assert_int_equal(dname_to_text(BL_WIRE, sizeof(BL_WIRE), buf, 10), DNSBL_ENOSPC);
	assert_int_equal(dname_to_text(BL_WIRE, sizeof(BL_WIRE), buf, 3), DNSBL_ENOSPC);
}

static void test_dname_round_trip(void **state)
{
	(void)state;
	static const char alphabet[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_";
	srandom(99);
	for (int iter = 0; iter < 3000; iter++) {
		char text[300], back[300], lower[300];
		size_t tl = 0, wire = 1;
		int labels = 1 + (int)(random() % 10);
		for (int l = 0; l < labels; l++) {
			size_t ll = 1 + (size_t)(random() % 63);
			if (wire + ll + 1 > 255)
				break;
			if (tl)
				text[tl++] = '.';
			for (size_t k = 0; k < ll; k++)
				text[tl++] = alphabet[random() % (sizeof(alphabet) - 1)];
			wire += ll + 1;
		}
		text[tl] = 0;
		if (tl == 0)
			continue;
		struct dname d;
		if (dname_from_text(text, &d) != 0)
			fail_msg("dname_from_text(\"%s\") failed", text);
		assert_int_equal(d.len, wire);
		for (size_t k = 0; k < d.len; k++)
			assert_false(d.wire[k] >= 'A' && d.wire[k] <= 'Z');
		int n = dname_to_text(d.wire, d.len, back, sizeof(back));
		assert_int_equal(n, (int)tl);
		for (size_t k = 0; k <= tl; k++)
			lower[k] = (char)((text[k] >= 'A' && text[k] <= 'Z') ? text[k] + 32 : text[k]);
		assert_string_equal(back, lower);
	}
}

/* --- config_parse_listen --- */

static void test_parse_listen(void **state)
{
	struct listen_addr la;
	(void)state;

	memset(&la, 0, sizeof(la));
	assert_int_equal(config_parse_listen("127.0.0.1:53", &la), 0);
	const struct sockaddr_in *s4 = (const struct sockaddr_in *)&la.ss;
	assert_int_equal(s4->sin_family, AF_INET);
	assert_int_equal(ntohs(s4->sin_port), 53);
	assert_int_equal(ntohl(s4->sin_addr.s_addr), 0x7f000001);
	assert_int_equal(la.sslen, sizeof(struct sockaddr_in));
	assert_string_equal(la.text, "127.0.0.1:53");

	memset(&la, 0, sizeof(la));
	assert_int_equal(config_parse_listen("[::1]:5300", &la), 0);
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&la.ss;
	assert_int_equal(s6->sin6_family, AF_INET6);
	assert_int_equal(ntohs(s6->sin6_port), 5300);
	assert_memory_equal(&s6->sin6_addr, &in6addr_loopback, 16);
	assert_int_equal(la.sslen, sizeof(struct sockaddr_in6));
	assert_string_equal(la.text, "[::1]:5300");

	assert_int_equal(config_parse_listen("0.0.0.0:65535", &la), 0);
	assert_int_equal(ntohs(s4->sin_port), 65535);
	assert_int_equal(config_parse_listen("[2001:db8::53]:1053", &la), 0);
	assert_int_equal(s6->sin6_family, AF_INET6);
	assert_int_equal(ntohs(s6->sin6_port), 1053);
	assert_int_equal(s6->sin6_addr.s6_addr[0], 0x20);
	assert_int_equal(s6->sin6_addr.s6_addr[1], 0x01);
	assert_int_equal(s6->sin6_addr.s6_addr[15], 0x53);

	static const char *const bad[] = {
		"",
		"127.0.0.1",
		"127.0.0.1:",
		"127.0.0.1:65536",
		"127.0.0.1:99999",
		"127.0.0.1:abc",
		"127.0.0.1:53x",
		"127.0.0.1:-53",
		"127.0.0.1: 53",
		"256.0.0.1:53",
		"[::1]",
		"[::1]:",
		"[::1:53",
		"[::1]53",
		"[::1]:port",
		"[::1]:70000",
		"[not-v6]:53",
		"[]:53",
		":",
		"127.0.0.1:53:53",
		NULL,
	};
	for (int i = 0; bad[i]; i++)
		if (config_parse_listen(bad[i], &la) != DNSBL_ESYNTAX)
			fail_msg("config_parse_listen(\"%s\") accepted", bad[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_load_valid_full),
		cmocka_unit_test(test_load_absolute_db_and_case),
		cmocka_unit_test(test_config_zone_lookup),
		cmocka_unit_test(test_zone_name_double_dot),
		cmocka_unit_test(test_load_missing_file),
		cmocka_unit_test(test_err_unknown_key),
		cmocka_unit_test(test_err_unknown_section),
		cmocka_unit_test(test_err_bad_values),
		cmocka_unit_test(test_err_bad_server_values),
		cmocka_unit_test(test_journal_size),
		cmocka_unit_test(test_err_bad_zone_name),
		cmocka_unit_test(test_err_duplicates),
		cmocka_unit_test(test_err_missing_soa_ns),
		cmocka_unit_test(test_err_exempt),
		cmocka_unit_test(test_combined),
		cmocka_unit_test(test_err_no_zone),
		cmocka_unit_test(test_err_all_reported),
		cmocka_unit_test(test_err_truncated),
		cmocka_unit_test(test_dname_from_text),
		cmocka_unit_test(test_dname_to_text),
		cmocka_unit_test(test_dname_round_trip),
		cmocka_unit_test(test_parse_listen),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
