/* Unit tests for loader/feed_csv.c: the csv header, quoting, field counts and line
 * limits, with IP and domain keys. What each column's value may be is tested in
 * test_feed_column.c. Written from feed.h and README.md ("### Formats"). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "feedtest.h"

/* scratch for long lines */
static char big[2u << 20];

static int setup(void **state)
{
	(void)state;
	return guard_init(&gb, sizeof(big) + 64);
}

/* ============================================================================== */
/* csv: header */

static void test_csv_state_init(void **state)
{
	(void)state;
	struct csv_state s;
	memset(&s, 0x5a, sizeof(s));
	csv_state_init(&s, FEED_KEYS_IP);
	assert_false(s.have_header);
	for (int i = 0; i < FEED_COL_COUNT; i++)
		assert_int_equal(s.col[i], -1);
}

static void test_csv_header_ip_only(void **state)
{
	(void)state;
	csv_hdr("ip");
	assert_int_equal(cst.nfields, 1);
	assert_int_equal(cst.col[FEED_COL_IP], 0);
	for (int i = 1; i < FEED_COL_COUNT; i++)
		assert_int_equal(cst.col[i], -1);
	csv_rec("192.0.2.1");
	want_range("192.0.2.1", A4(192, 0, 2, 1), A4(192, 0, 2, 1), false);
	want_have("192.0.2.1", 0);
	assert_int_equal(rec.flags, 0);
}

static void test_csv_header_all_columns(void **state)
{
	(void)state;
	csv_hdr(ALL_COLUMNS);
	assert_int_equal(cst.nfields, 11);
	assert_int_equal(cst.col[FEED_COL_NO_TXT], -1);
	assert_int_equal(cst.col[FEED_COL_IP], 0);
	assert_int_equal(cst.col[FEED_COL_TIMESTAMP], 1);
	assert_int_equal(cst.col[FEED_COL_REASON], 2);
	assert_int_equal(cst.col[FEED_COL_SOURCE], 3);
	assert_int_equal(cst.col[FEED_COL_CODE], 4);
	assert_int_equal(cst.col[FEED_COL_TXT], 5);
	assert_int_equal(cst.col[FEED_COL_TTL], 6);
	assert_int_equal(cst.col[FEED_COL_FIRST_SEEN], 7);
	assert_int_equal(cst.col[FEED_COL_LAST_SEEN], 8);
	assert_int_equal(cst.col[FEED_COL_HITS], 9);
	assert_int_equal(cst.col[FEED_COL_EXPIRES], 10);
}

static void test_csv_header_case_insensitive(void **state)
{
	(void)state;
	csv_hdr("IP,TimeStamp,REASON,Source,cOdE,Txt,TTL,First_Seen,LAST_SEEN,Hits,EXPIRES");
	assert_int_equal(cst.col[FEED_COL_IP], 0);
	assert_int_equal(cst.col[FEED_COL_TIMESTAMP], 1);
	assert_int_equal(cst.col[FEED_COL_REASON], 2);
	assert_int_equal(cst.col[FEED_COL_SOURCE], 3);
	assert_int_equal(cst.col[FEED_COL_CODE], 4);
	assert_int_equal(cst.col[FEED_COL_TXT], 5);
	assert_int_equal(cst.col[FEED_COL_TTL], 6);
	assert_int_equal(cst.col[FEED_COL_FIRST_SEEN], 7);
	assert_int_equal(cst.col[FEED_COL_LAST_SEEN], 8);
	assert_int_equal(cst.col[FEED_COL_HITS], 9);
	assert_int_equal(cst.col[FEED_COL_EXPIRES], 10);
	const char *line = "192.0.2.1,1732350000,spam,trap,3,T $,1h,1,2,3,0";
	csv_rec(line);
	want_have(line, ALL_HAVE);
}

static void test_csv_header_any_order(void **state)
{
	(void)state;
	csv_hdr("reason,source,ip");
	assert_int_equal(cst.col[FEED_COL_IP], 2);
	assert_int_equal(cst.col[FEED_COL_REASON], 0);
	assert_int_equal(cst.col[FEED_COL_SOURCE], 1);
	const char *line = "spam run,trap-7,10.0.0.1";
	csv_rec(line);
	want_range(line, A4(10, 0, 0, 1), A4(10, 0, 0, 1), false);
	want_have(line, FEED_HAVE_REASON | FEED_HAVE_SOURCE);
	want_reason("spam run");
	want_source("trap-7");
}

static void test_csv_header_unknown_columns(void **state)
{
	(void)state;
	csv_hdr("country,ip,asn,note,ips,ip_address");
	assert_int_equal(cst.nfields, 6);
	assert_int_equal(cst.col[FEED_COL_IP], 1);
	for (int i = 1; i < FEED_COL_COUNT; i++)
		assert_int_equal(cst.col[i], -1);
	const char *line = "DE,198.51.100.7,AS64500,hello,x,y";
	csv_rec(line);
	want_range(line, A4(198, 51, 100, 7), A4(198, 51, 100, 7), false);
	want_have(line, 0);
	assert_int_equal(rec.flags, 0);
	/* an unknown column named twice is still ignored */
	csv_state_init(&cst, FEED_KEYS_IP);
	csv_hdr("ip,x,x,note,NOTE");
	csv_rec("1.2.3.4,a,b,c,d");
	want_range("1.2.3.4,a,b,c,d", A4(1, 2, 3, 4), A4(1, 2, 3, 4), false);
}

static void test_csv_header_missing_ip(void **state)
{
	(void)state;
	csv_err("timestamp,reason");
	csv_state_init(&cst, FEED_KEYS_IP);
	csv_err("address,reason");
	csv_state_init(&cst, FEED_KEYS_IP);
	csv_err("ipv4");
	csv_state_init(&cst, FEED_KEYS_IP);
	csv_err("i p");
	csv_state_init(&cst, FEED_KEYS_IP);
	csv_err("reason");
	/* a data line where the header should be has no "ip" column */
	csv_state_init(&cst, FEED_KEYS_IP);
	csv_err("192.0.2.1");
	csv_state_init(&cst, FEED_KEYS_IP);
	csv_err("192.0.2.1,spam");
}

static void test_csv_header_duplicate(void **state)
{
	(void)state;
	csv_err("ip,ip");
	csv_state_init(&cst, FEED_KEYS_IP);
	csv_err("ip,IP");
	csv_state_init(&cst, FEED_KEYS_IP);
	csv_err("ip,reason,REASON");
	csv_state_init(&cst, FEED_KEYS_IP);
	csv_err("ttl,ip,Ttl");
	csv_state_init(&cst, FEED_KEYS_IP);
	csv_err("ip,hits,expires,hits");
	csv_state_init(&cst, FEED_KEYS_IP);
	csv_err("ip,timestamp,first_seen,last_seen,timestamp");
}

static void test_csv_header_max_fields(void **state)
{
	(void)state;
	char line[2048];
	int n = snprintf(line, sizeof(line), "ip");
	for (int i = 1; i < CSV_MAX_FIELDS; i++)
		n += snprintf(line + n, sizeof(line) - (size_t)n, ",c%d", i);
	csv_hdr(line);
	assert_int_equal(cst.nfields, CSV_MAX_FIELDS);

	/* a row of CSV_MAX_FIELDS fields */
	char row[2048];
	int m = snprintf(row, sizeof(row), "1.2.3.4");
	for (int i = 1; i < CSV_MAX_FIELDS; i++)
		m += snprintf(row + m, sizeof(row) - (size_t)m, ",v");
	csv_rec(row);
	want_range(row, A4(1, 2, 3, 4), A4(1, 2, 3, 4), false);

	/* one field more in the header is an error */
	csv_state_init(&cst, FEED_KEYS_IP);
	snprintf(line + n, sizeof(line) - (size_t)n, ",extra");
	csv_err(line);
	/* and many more */
	csv_state_init(&cst, FEED_KEYS_IP);
	n = snprintf(line, sizeof(line), "ip");
	for (int i = 1; i < 300; i++)
		n += snprintf(line + n, sizeof(line) - (size_t)n, ",");
	csv_err(line);
}

static void test_csv_header_quoted_names(void **state)
{
	(void)state;
	csv_hdr("\"ip\",\"Reason\",\"some, other\"");
	assert_int_equal(cst.nfields, 3);
	assert_int_equal(cst.col[FEED_COL_IP], 0);
	assert_int_equal(cst.col[FEED_COL_REASON], 1);
	csv_rec("1.2.3.4,r,o");
	want_reason("r");
}

static void test_csv_comments_blank_before_header(void **state)
{
	(void)state;
	csv_skip("");
	assert_false(cst.have_header);
	csv_skip("#");
	csv_skip("# exported by trap-7");
	csv_skip("#ip,reason");
	assert_false(cst.have_header);
	csv_skip("");
	csv_hdr("ip,reason");
	assert_int_equal(cst.col[FEED_COL_REASON], 1);
	/* after the header too */
	csv_skip("");
	csv_skip("# comment between rows");
	csv_rec("1.2.3.4,x");
	want_reason("x");
}

static void test_csv_reinit_new_file(void **state)
{
	(void)state;
	csv_hdr("ip,reason");
	csv_rec("1.2.3.4,x");
	csv_state_init(&cst, FEED_KEYS_IP);
	assert_false(cst.have_header);
	/* the next line is a header again */
	csv_hdr("source,ip");
	assert_int_equal(cst.col[FEED_COL_IP], 1);
	assert_int_equal(cst.col[FEED_COL_REASON], -1);
	csv_rec("s,5.6.7.8");
	want_range("s,5.6.7.8", A4(5, 6, 7, 8), A4(5, 6, 7, 8), false);
	want_have("s,5.6.7.8", FEED_HAVE_SOURCE);
}

/* A rejected header leaves no trace: the next line is taken as the header. */
static void test_csv_header_error_then_header(void **state)
{
	(void)state;
	static const char *const bad[] = {"timestamp,reason", "ip,reason,REASON",
					  "reason,ip,reason", NULL};
	for (int i = 0; bad[i]; i++) {
		csv_state_init(&cst, FEED_KEYS_IP);
		csv_err(bad[i]);
		assert_false(cst.have_header);
		csv_hdr("reason,ip");
		assert_int_equal(cst.col[FEED_COL_IP], 1);
		assert_int_equal(cst.col[FEED_COL_REASON], 0);
		csv_rec("r,1.2.3.4");
		want_reason("r");
	}
}

/* Long lines within reason: a long ignored column, a TXT of doubled quotes. */
static void test_csv_long_fields(void **state)
{
	(void)state;
	csv_hdr("ip,note,txt");
	size_t n = (size_t)snprintf(big, sizeof(big), "1.2.3.4,");
	memset(big + n, 'n', 3000);
	n += 3000;
	big[n++] = ',';
	big[n++] = '"';
	for (int i = 0; i < STORE_TXT_MAX; i++) {
		big[n++] = '"';
		big[n++] = '"';
	}
	big[n++] = '"';
	want_kind_as("csv", "1.2.3.4,nnn...,\"\"\"\"...", csvn(big, n), FEED_LINE_RECORD);
	assert_int_equal(rec.txt_len, STORE_TXT_MAX);
	assert_int_equal(rec.txt[0], '"');
	assert_int_equal(rec.txt[STORE_TXT_MAX - 1], '"');

	/* 1 MiB: a record or an error with a reason, never a crash */
	n = (size_t)snprintf(big, sizeof(big), "1.2.3.4,");
	memset(big + n, 'n', 1u << 20);
	n += 1u << 20;
	n += (size_t)snprintf(big + n, sizeof(big) - n, ",x");
	enum feed_line k = csvn(big, n);
	if (k == FEED_LINE_RECORD)
		want_txt("x");
	else
		want_kind_as("csv", "1 MiB", k, FEED_LINE_ERROR);
}

/* csv: fields and quoting */

static void test_csv_quoted_comma(void **state)
{
	(void)state;
	csv_hdr("ip,reason");
	csv_rec("1.2.3.4,\"spam, lots of it\"");
	want_reason("spam, lots of it");
	csv_rec("1.2.3.4,\",\"");
	want_reason(",");
	csv_rec("1.2.3.4,\",,,\"");
	want_reason(",,,");
}

static void test_csv_quoted_doubled_quotes(void **state)
{
	(void)state;
	csv_hdr("ip,reason");
	csv_rec("1.2.3.4,\"said \"\"hi\"\"\"");
	want_reason("said \"hi\"");
	csv_rec("1.2.3.4,\"\"\"\"");
	want_reason("\"");
	csv_rec("1.2.3.4,\"a\"\"b,\"\"c\"");
	want_reason("a\"b,\"c");
}

static void test_csv_quoted_ip_and_empty(void **state)
{
	(void)state;
	csv_hdr("ip,reason,source");
	const char *l1 = "\"10.0.0.0/8\",\"x\",\"y\"";
	csv_rec(l1);
	want_range(l1, A4(10, 0, 0, 0), A4(10, 255, 255, 255), false);
	want_reason("x");
	want_source("y");
	/* an empty quoted field is empty */
	const char *l2 = "1.2.3.4,\"\",\"\"";
	csv_rec(l2);
	want_have(l2, 0);
}

static void test_csv_unterminated_quote(void **state)
{
	(void)state;
	csv_err_with("ip,reason", "1.2.3.4,\"spam");
	csv_err_with("ip,reason", "1.2.3.4,\"spam, more");
	csv_err_with("ip,reason", "\"1.2.3.4,spam");
	csv_err_with("ip,reason", "1.2.3.4,\"");
	csv_err_with("ip,reason", "1.2.3.4,\"ends with doubled\"\"");
	/* in a header */
	csv_state_init(&cst, FEED_KEYS_IP);
	csv_err("ip,\"reason");
}

static void test_csv_junk_after_quote(void **state)
{
	(void)state;
	csv_err_with("ip,reason", "1.2.3.4,\"spam\"x");
	csv_err_with("ip,reason", "1.2.3.4,\"spam\" ");
	csv_err_with("ip,reason", "\"1.2.3.4\"5,x");
}

static void test_csv_field_count(void **state)
{
	(void)state;
	csv_err_with("ip,reason", "1.2.3.4");
	csv_err_with("ip,reason", "1.2.3.4,a,b");
	csv_err_with("ip,reason", "1.2.3.4,a,");
	csv_err_with("ip,reason,source", "1.2.3.4,a");
	csv_err_with("ip", "1.2.3.4,");
	csv_err_with("ip", ",1.2.3.4");
	csv_err_with("ip", "1.2.3.4,\"a,b\"");
	/* a quoted comma is no separator: the count is right */
	csv_state_init(&cst, FEED_KEYS_IP);
	csv_hdr("ip,reason");
	csv_rec("1.2.3.4,\"a,b\"");
}

/* csv: lines */

/* The export format (README: ip,code,txt,reason,source,first_seen,last_seen,hits,
 * expires) reads back. */
static void test_csv_export_header(void **state)
{
	(void)state;
	csv_hdr("ip,code,txt,reason,source,first_seen,last_seen,hits,expires");
	const char *line = "!10.0.0.0/8,127.0.0.2,\"Listed, see $\",op,default,1700000000,"
			   "1700000100,3,1800000000";
	csv_rec(line);
	want_range(line, A4(10, 0, 0, 0), A4(10, 255, 255, 255), true);
	want_have(line, FEED_HAVE_REASON | FEED_HAVE_SOURCE | FEED_HAVE_FIRST | FEED_HAVE_LAST |
				FEED_HAVE_HITS | FEED_HAVE_EXPIRES);
}

/* A bad row does not disturb the state: the next row parses. */
static void test_csv_error_then_record(void **state)
{
	(void)state;
	csv_hdr("ip,reason");
	csv_err("1.2.3.4,\"unterminated");
	csv_err("1.2.3.4");
	csv_err("2001:db8::1/200,x");
	csv_rec("5.6.7.8,fine");
	want_range("5.6.7.8", A4(5, 6, 7, 8), A4(5, 6, 7, 8), false);
	want_reason("fine");
	assert_true(cst.have_header);
	assert_int_equal(cst.nfields, 2);
}

static void test_csv_length_bounded(void **state)
{
	(void)state;
	csv_hdr("ip,reason");
	char buf[64];
	memcpy(buf, "1.2.3.4,spam,extra", 18);
	/* only "1.2.3.4,spam" counts */
	msg = NULL;
	assert_int_equal(csv_parse_line(&cst, buf, 12, &rec, &msg), FEED_LINE_RECORD);
	want_reason("spam");
	/* "1.2.3.4,sp" */
	assert_int_equal(csv_parse_line(&cst, buf, 10, &rec, &msg), FEED_LINE_RECORD);
	want_reason("sp");

	/* every prefix of valid lines, right before the guard page */
	static const char *const lines[] = {
		ALL_COLUMNS,
		"192.0.2.0/24,2026-11-23T10:00:00Z,\"spam, \"\"lots\"\"\",trap-1,127.0.0.3,"
		"Listed $,7d,1700000000,2026-11-23T10:00:00+01:00,12,0",
		"!10.0.0.0/8,1,\"\",,,,,,,,",
		NULL,
	};
	for (int i = 0; lines[i]; i++) {
		size_t len = strlen(lines[i]);
		for (size_t n = 0; n <= len; n++) {
			csv_state_init(&cst, FEED_KEYS_IP);
			if (i > 0)
				csv_hdr(ALL_COLUMNS);
			msg = NULL;
			enum feed_line k = csvn(lines[i], n);
			if (k == FEED_LINE_ERROR || k == FEED_LINE_NOTICE)
				assert_true(msg != NULL && msg[0] != '\0');
			else if (k == FEED_LINE_RECORD)
				check_record_sane(lines[i], n);
			else
				assert_int_equal(k, FEED_LINE_SKIP);
		}
	}
}

/* Lines with a NUL byte inside: the parser must not stop early at the NUL and take
 * what came before it as the whole line. */
static void test_csv_embedded_nul(void **state)
{
	(void)state;
	csv_hdr("ip,reason");
	static const char l1[] = "1.2.3.4\0junk,x";
	enum feed_line k = csvn(l1, sizeof(l1) - 1);
	want_kind_as("csv", "1.2.3.4\\0junk,x", k, FEED_LINE_ERROR);
	static const char l2[] = "1.2.3.4,x\0,y";
	k = csvn(l2, sizeof(l2) - 1);
	/* three fields under a two-field header */
	want_kind_as("csv", "1.2.3.4,x\\0,y", k, FEED_LINE_ERROR);
}

static void test_csv_random_garbage(void **state)
{
	(void)state;
	static const char alphabet[] = "0123456789.,/\"!#: \t-TZzdhmsw$abcx";
	char line[160];
	srandom(4242);
	for (int iter = 0; iter < 100000; iter++) {
		if (iter % 50 == 0) {
			csv_state_init(&cst, FEED_KEYS_IP);
			if (iter % 100 == 0)
				csv_hdr(ALL_COLUMNS);
		}
		size_t n = (size_t)(random() % 80);
		for (size_t i = 0; i < n; i++)
			line[i] = (iter & 1) ? alphabet[random() % (sizeof(alphabet) - 1)]
					     : (char)(random() & 0xff);
		enum feed_line k = csvn(line, n);
		if (k == FEED_LINE_RECORD)
			check_record_sane(line, n);
		else if (k == FEED_LINE_ERROR || k == FEED_LINE_NOTICE)
			assert_true(msg != NULL && msg[0] != '\0');
		else
			assert_int_equal(k, FEED_LINE_SKIP);
	}
}

/* ------------------------------------------------------------------------------ */
/* csv, IPv6 and domain keys */

static void test_csv_names(void **state)
{
	(void)state;
	expect(P_CSV, "name,reason", FEED_LINE_SKIP);
	want_key(P_CSV, "Example.COM,spam", ADDR_FAMILY_NAME, "example.com", false);
	assert_int_equal(rec.have & FEED_HAVE_REASON, FEED_HAVE_REASON);
	assert_string_equal(rec.reason, "spam");
	want_key(P_CSV, "*.example.com,x", ADDR_FAMILY_NAME, "*.example.com", false);
	want_key(P_CSV, ".example.com,x", ADDR_FAMILY_NAME, ".example.com", false);
	want_key(P_CSV, "!ok.example.com,x", ADDR_FAMILY_NAME, "ok.example.com", true);
	want_key(P_CSV, "\" quoted.example \",q", ADDR_FAMILY_NAME, "quoted.example", false);
	want_key(P_CSV, "1.2.3.4,an address is a name", ADDR_FAMILY_NAME, "1.2.3.4", false);
	expect(P_CSV, "a..b,x", FEED_LINE_ERROR);
	expect(P_CSV, "1.2.3.0/24,x", FEED_LINE_ERROR);
	expect(P_CSV, "2001:db8::1,x", FEED_LINE_ERROR);
	expect(P_CSV, ",x", FEED_LINE_ERROR);
	expect(P_CSV, "example.com", FEED_LINE_ERROR); /* one field */

	/* "ip" is the key column of a name zone's csv too */
	csv_state_init(&cst, FEED_KEYS_NAME);
	expect(P_CSV, "ip,reason,code", FEED_LINE_SKIP);
	want_key(P_CSV, "spam.example,r,3", ADDR_FAMILY_NAME, "spam.example", false);
	assert_int_equal(rec.flags, STORE_F_A);
	assert_int_equal(rec.a, A4(127, 0, 0, 3));

	/* both "ip" and "name": two key columns */
	static const char *const headers[] = {"ip,name,reason", "name,reason,IP", "NAME,Name", NULL};
	for (int i = 0; headers[i]; i++) {
		csv_state_init(&cst, FEED_KEYS_NAME);
		expect(P_CSV, headers[i], FEED_LINE_ERROR);
		assert_false(cst.have_header);
	}
	csv_state_init(&cst, FEED_KEYS_NAME);
	expect(P_CSV, "reason,source", FEED_LINE_ERROR);
}

static void test_csv_ips(void **state)
{
	(void)state;
	expect(P_CSV, "ip,reason", FEED_LINE_SKIP);
	want_key(P_CSV, "2001:db8::1,v6", ADDR_FAMILY_V6, "2001:db8::1", false);
	want_key(P_CSV, "2001:db8::/32,v6 net", ADDR_FAMILY_V6, "2001:db8::/32", false);
	want_v4(P_CSV, "::ffff:192.0.2.1,mapped", A4(192, 0, 2, 1), A4(192, 0, 2, 1), false);
	want_v4(P_CSV, "192.0.2.2,v4", A4(192, 0, 2, 2), A4(192, 0, 2, 2), false);
	expect(P_CSV, "example.com,x", FEED_LINE_ERROR);
	expect(P_CSV, "2001:db8::1/64,x", FEED_LINE_ERROR);
	/* "name" as the key column of an IP csv */
	csv_state_init(&cst, FEED_KEYS_IP);
	expect(P_CSV, "name,reason", FEED_LINE_SKIP);
	want_key(P_CSV, "2001:db8::5,x", ADDR_FAMILY_V6, "2001:db8::5", false);
	csv_state_init(&cst, FEED_KEYS_IP);
	expect(P_CSV, "ip,name", FEED_LINE_ERROR);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_csv_state_init, reset_ip),
		cmocka_unit_test_setup(test_csv_header_ip_only, reset_ip),
		cmocka_unit_test_setup(test_csv_header_all_columns, reset_ip),
		cmocka_unit_test_setup(test_csv_header_case_insensitive, reset_ip),
		cmocka_unit_test_setup(test_csv_header_any_order, reset_ip),
		cmocka_unit_test_setup(test_csv_header_unknown_columns, reset_ip),
		cmocka_unit_test_setup(test_csv_header_missing_ip, reset_ip),
		cmocka_unit_test_setup(test_csv_header_duplicate, reset_ip),
		cmocka_unit_test_setup(test_csv_header_max_fields, reset_ip),
		cmocka_unit_test_setup(test_csv_header_quoted_names, reset_ip),
		cmocka_unit_test_setup(test_csv_comments_blank_before_header, reset_ip),
		cmocka_unit_test_setup(test_csv_reinit_new_file, reset_ip),
		cmocka_unit_test_setup(test_csv_header_error_then_header, reset_ip),
		cmocka_unit_test_setup(test_csv_long_fields, reset_ip),
		cmocka_unit_test_setup(test_csv_quoted_comma, reset_ip),
		cmocka_unit_test_setup(test_csv_quoted_doubled_quotes, reset_ip),
		cmocka_unit_test_setup(test_csv_quoted_ip_and_empty, reset_ip),
		cmocka_unit_test_setup(test_csv_unterminated_quote, reset_ip),
		cmocka_unit_test_setup(test_csv_junk_after_quote, reset_ip),
		cmocka_unit_test_setup(test_csv_field_count, reset_ip),
		cmocka_unit_test_setup(test_csv_export_header, reset_ip),
		cmocka_unit_test_setup(test_csv_error_then_record, reset_ip),
		cmocka_unit_test_setup(test_csv_length_bounded, reset_ip),
		cmocka_unit_test_setup(test_csv_embedded_nul, reset_ip),
		cmocka_unit_test_setup(test_csv_random_garbage, reset_ip),
		cmocka_unit_test_setup(test_csv_names, reset_name),
		cmocka_unit_test_setup(test_csv_ips, reset_ip),
	};
	return cmocka_run_group_tests(tests, setup, feedtest_teardown);
}
