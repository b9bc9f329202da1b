/* Shared by the unit tests of the feed parsers (loader/feed_*.c): the record, message
 * and parser states a test binary feeds lines through, the lines handed over from the
 * guard buffer (testutil.h) with their exact length and no NUL terminator, and checks
 * of what a line gave. Include after <cmocka.h>; static inline so that each test file
 * uses what it needs. */
#ifndef DNSBL_FEEDTEST_H
#define DNSBL_FEEDTEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "dname.h"
#include "err.h"
#include "feed.h"
#include "store.h"
#include "testutil.h"

#define A4(a, b, c, d) \
	((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))

#define U32MAX 4294967295u
/* 2026-11-23T10:00:00Z */
#define T_20261123_10 1795428000u

#define ALL_HAVE                                                                        \
	(FEED_HAVE_TIME | FEED_HAVE_TTL | FEED_HAVE_FIRST | FEED_HAVE_LAST | FEED_HAVE_HITS | \
	 FEED_HAVE_EXPIRES | FEED_HAVE_REASON | FEED_HAVE_SOURCE)

#define ALL_COLUMNS "ip,timestamp,reason,source,code,txt,ttl,first_seen,last_seen,hits,expires"

static struct guard_buf gb;
static struct rbldnsd_state st;
static struct csv_state cst;
static struct feed_record rec;
static const char *msg;

/* The group teardown of every feed test binary (each has its setup: the guard size). */
static inline int feedtest_teardown(void **state)
{
	(void)state;
	guard_free(&gb);
	return 0;
}

static inline int reset_ip(void **state)
{
	(void)state;
	rbldnsd_state_init(&st, FEED_KEYS_IP);
	csv_state_init(&cst, FEED_KEYS_IP);
	return 0;
}

static inline int reset_name(void **state)
{
	(void)state;
	rbldnsd_state_init(&st, FEED_KEYS_NAME);
	csv_state_init(&cst, FEED_KEYS_NAME);
	return 0;
}

static inline const char *kind_name(enum feed_line k)
{
	switch (k) {
	case FEED_LINE_RECORD: return "RECORD";
	case FEED_LINE_SKIP: return "SKIP";
	case FEED_LINE_NOTICE: return "NOTICE";
	case FEED_LINE_ERROR: return "ERROR";
	}
	return "?";
}

/* Fails unless a line gave want; an ERROR or NOTICE must come with a message. */
static inline void want_kind(const char *line, enum feed_line got, enum feed_line want)
{
	if (got != want)
		fail_msg("line \"%.80s\": %s (msg: %s), want %s", line, kind_name(got),
			 msg ? msg : "-", kind_name(want));
	if (want == FEED_LINE_ERROR || want == FEED_LINE_NOTICE) {
		if (msg == NULL || msg[0] == '\0')
			fail_msg("line \"%.80s\": %s without a message", line, kind_name(got));
	}
}

/* As want_kind, naming the parser (what) in the message. */
static inline void want_kind_as(const char *what, const char *line, enum feed_line got,
				enum feed_line want)
{
	if (got != want)
		fail_msg("%s \"%.100s\": %s (msg: %s), want %s", what, line, kind_name(got),
			 got == FEED_LINE_ERROR || got == FEED_LINE_NOTICE
				 ? (msg ? msg : "(null)")
				 : "-",
			 kind_name(want));
	if (want == FEED_LINE_ERROR || want == FEED_LINE_NOTICE) {
		if (msg == NULL || msg[0] == '\0')
			fail_msg("%s \"%.100s\": %s without a message", what, line, kind_name(got));
	}
}

/* The parsers, each fed line from the guard buffer into a scribbled record. */
enum parser { P_RBL, P_PLAIN_IP, P_PLAIN_NAME, P_CSV, P_JSONL_IP, P_JSONL_NAME };

static inline enum feed_line run(enum parser p, const char *line, size_t n)
{
	const char *g = guard_put(&gb, line, n);
	memset(&rec, 0xa5, sizeof(rec));
	msg = NULL;
	switch (p) {
	case P_RBL: return rbldnsd_parse_line(&st, g, n, &rec, &msg);
	case P_PLAIN_IP: return plain_parse_line(FEED_KEYS_IP, g, n, &rec, &msg);
	case P_PLAIN_NAME: return plain_parse_line(FEED_KEYS_NAME, g, n, &rec, &msg);
	case P_CSV: return csv_parse_line(&cst, g, n, &rec, &msg);
	case P_JSONL_IP: return jsonl_parse_line(FEED_KEYS_IP, g, n, &rec, &msg);
	case P_JSONL_NAME: return jsonl_parse_line(FEED_KEYS_NAME, g, n, &rec, &msg);
	}
	return FEED_LINE_ERROR;
}

static inline void expect(enum parser p, const char *line, enum feed_line want)
{
	want_kind(line, run(p, line, strlen(line)), want);
}

/* The record's key as text (entry_key_format with bare hosts). */
static inline const char *key_text(void)
{
	static char buf[ENTRY_KEY_TEXT_MAX];
	assert_true(rec.family == ADDR_FAMILY_V6 || rec.family == ADDR_FAMILY_NAME);
	assert_int_equal(rec.key.family, rec.family);
	if (rec.family == ADDR_FAMILY_NAME)
		assert_ptr_equal(rec.key.name, rec.name_buf);
	entry_key_format(&rec.key, 1, buf, sizeof(buf));
	return buf;
}

/* Parses line expecting a record keyed by an IPv6 prefix or a name (key as text). */
static inline void want_key(enum parser p, const char *line, uint8_t family, const char *key,
			    bool exclude)
{
	expect(p, line, FEED_LINE_RECORD);
	if (rec.family != family)
		fail_msg("line \"%s\": family %u, want %u", line, rec.family, family);
	const char *got = key_text();
	if (strcmp(got, key) != 0)
		fail_msg("line \"%s\": key \"%s\", want \"%s\"", line, got, key);
	if (rec.exclude != exclude)
		fail_msg("line \"%s\": exclude %d, want %d", line, rec.exclude, exclude);
}

static inline void want_v4(enum parser p, const char *line, uint32_t lo, uint32_t hi,
			   bool exclude)
{
	expect(p, line, FEED_LINE_RECORD);
	if (rec.family != ADDR_FAMILY_V4)
		fail_msg("line \"%s\": family %u, want IPv4", line, rec.family);
	if (rec.lo != lo || rec.hi != hi)
		fail_msg("line \"%s\": range 0x%08x-0x%08x, want 0x%08x-0x%08x", line, rec.lo,
			 rec.hi, lo, hi);
	assert_int_equal(rec.exclude, exclude);
}

/* --- csv lines through cst; csv_hdr, csv_rec, csv_err, csv_skip expect that kind --- */

static inline enum feed_line csvn(const char *line, size_t n)
{
	memset(&rec, 0xa5, sizeof(rec));
	msg = NULL;
	return csv_parse_line(&cst, guard_put(&gb, line, n), n, &rec, &msg);
}

static inline enum feed_line csv(const char *line)
{
	return csvn(line, strlen(line));
}

static inline void csv_skip(const char *line)
{
	want_kind_as("csv", line, csv(line), FEED_LINE_SKIP);
}

static inline void csv_hdr(const char *line)
{
	want_kind_as("csv header", line, csv(line), FEED_LINE_SKIP);
	assert_true(cst.have_header);
}

static inline void csv_rec(const char *line)
{
	want_kind_as("csv", line, csv(line), FEED_LINE_RECORD);
}

static inline void csv_err(const char *line)
{
	want_kind_as("csv", line, csv(line), FEED_LINE_ERROR);
}

/* Sets a fresh state with header hdr, then expects line to be an error. */
static inline void csv_err_with(const char *hdr, const char *line)
{
	csv_state_init(&cst, FEED_KEYS_IP);
	csv_hdr(hdr);
	csv_err(line);
}

/* --- what a record holds --- */

static inline void want_txt(const char *want)
{
	assert_true(rec.flags & STORE_F_TXT);
	if (rec.txt_len != strlen(want) || memcmp(rec.txt, want, rec.txt_len) != 0)
		fail_msg("txt \"%.*s\" (len %zu), want \"%s\"", (int)rec.txt_len, rec.txt,
			 rec.txt_len, want);
}

static inline void want_range(const char *line, uint32_t lo, uint32_t hi, bool exclude)
{
	if (rec.lo != lo || rec.hi != hi)
		fail_msg("\"%.100s\": range 0x%08x-0x%08x, want 0x%08x-0x%08x", line, rec.lo,
			 rec.hi, lo, hi);
	if (rec.exclude != exclude)
		fail_msg("\"%.100s\": exclude %d, want %d", line, rec.exclude, exclude);
}

static inline void want_have(const char *line, unsigned have)
{
	if (rec.have != have)
		fail_msg("\"%.100s\": have 0x%02x, want 0x%02x", line, rec.have, have);
}

static inline void want_u32(const char *line, const char *field, uint32_t got, uint32_t want)
{
	if (got != want)
		fail_msg("\"%.100s\": %s %u, want %u", line, field, got, want);
}

static inline void want_reason(const char *want)
{
	assert_true(rec.have & FEED_HAVE_REASON);
	if (rec.reason_len != strlen(want) || memcmp(rec.reason, want, rec.reason_len) != 0)
		fail_msg("reason \"%.*s\" (len %zu), want \"%s\"", (int)rec.reason_len,
			 rec.reason, rec.reason_len, want);
}

static inline void want_source(const char *want)
{
	assert_true(rec.have & FEED_HAVE_SOURCE);
	if (rec.source_len != strlen(want) || memcmp(rec.source, want, rec.source_len) != 0)
		fail_msg("source \"%.*s\" (len %zu), want \"%s\"", (int)rec.source_len,
			 rec.source, rec.source_len, want);
}

/* Invariants every RECORD must satisfy. */
static inline void check_record_sane(const char *line, size_t n)
{
	if (rec.lo > rec.hi)
		fail_msg("\"%.*s\": lo 0x%08x > hi 0x%08x", (int)n, line, rec.lo, rec.hi);
	if (rec.have & ~(unsigned)ALL_HAVE)
		fail_msg("\"%.*s\": unknown have bits 0x%x", (int)n, line, rec.have);
	if (rec.flags & STORE_F_TXT)
		assert_true(rec.txt_len <= STORE_TXT_MAX);
	if (rec.flags & STORE_F_A)
		assert_int_equal(rec.a >> 24, 127);
	if (rec.have & FEED_HAVE_REASON)
		assert_true(rec.reason_len <= STORE_REASON_MAX);
	if (rec.have & FEED_HAVE_SOURCE)
		assert_true(rec.source_len >= 1 && rec.source_len <= FEED_SOURCE_MAX);
}

#endif
