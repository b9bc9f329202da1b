/* Unit tests for the writing side of lib/wire.h: struct wire_out (bounds, the sticky
 * error, wire_set_u16, pointers) and wire_put_txt_rdata's splitting of TXT data into
 * strings of at most 255 bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "err.h"
#include "wire.h"

static void test_wire_out_overflow(void **state)
{
	uint8_t buf[16];
	struct wire_out w;
	(void)state;

	memset(buf, 0xee, sizeof(buf));
	wire_out_init(&w, buf, 5);
	wire_put_u32(&w, 0x01020304);
	assert_int_equal(w.pos, 4);
	assert_int_equal(w.err, 0);
	wire_put_u16(&w, 0x0506); /* does not fit */
	assert_int_equal(w.err, DNSBL_ENOSPC);
	assert_int_equal(w.pos, 4);
	wire_put_u8(&w, 0x07); /* would fit, but the error is sticky */
	assert_int_equal(w.pos, 4);
	assert_int_equal(w.err, DNSBL_ENOSPC);
	assert_int_equal(buf[4], 0xee);
	wire_put_bytes(&w, "x", 1);
	assert_int_equal(w.pos, 4);
	assert_memory_equal(buf, "\001\002\003\004", 4);

	/* exactly full is fine */
	wire_out_init(&w, buf, 4);
	wire_put_u16(&w, 1);
	wire_put_u8(&w, 2);
	wire_put_u8(&w, 3);
	assert_int_equal(w.err, 0);
	assert_int_equal(w.pos, 4);
	wire_put_ptr(&w, 12);
	assert_int_equal(w.err, DNSBL_ENOSPC);

	/* wire_set_u16 only touches what was written */
	memset(buf, 0, sizeof(buf));
	wire_out_init(&w, buf, sizeof(buf));
	wire_put_u16(&w, 0);
	wire_set_u16(&w, 0, 0xabcd);
	wire_set_u16(&w, 1, 0x1111); /* would cross pos */
	assert_int_equal(w.pos, 2);
	assert_int_equal(buf[0], 0xab);
	assert_int_equal(buf[1], 0xcd);
	assert_int_equal(buf[2], 0);
	wire_put_ptr(&w, 12);
	assert_int_equal(wire_get_u16(buf + 2), 0xc00c);

	/* a TXT that does not fit sets the error */
	static uint8_t big[600];
	wire_out_init(&w, big, 300);
	static char text[600];
	memset(text, 't', sizeof(text));
	wire_put_txt_rdata(&w, text, 600);
	assert_int_equal(w.err, DNSBL_ENOSPC);
	assert_true(w.pos <= 300);
}

static void test_wire_txt_rdata(void **state)
{
	static uint8_t buf[2048];
	static char text[1100];
	struct wire_out w;
	(void)state;

	for (size_t i = 0; i < sizeof(text); i++)
		text[i] = (char)('a' + i % 26);

	/* 600 bytes: 255 + 255 + 90 */
	wire_out_init(&w, buf, sizeof(buf));
	wire_put_txt_rdata(&w, text, 600);
	assert_int_equal(w.err, 0);
	assert_int_equal(w.pos, 2 + 603);
	assert_int_equal(wire_get_u16(buf), 603);
	assert_int_equal(buf[2], 255);
	assert_memory_equal(buf + 3, text, 255);
	assert_int_equal(buf[3 + 255], 255);
	assert_memory_equal(buf + 4 + 255, text + 255, 255);
	assert_int_equal(buf[4 + 510], 90);
	assert_memory_equal(buf + 5 + 510, text + 510, 90);

	/* empty: one empty string */
	wire_out_init(&w, buf, sizeof(buf));
	wire_put_txt_rdata(&w, "", 0);
	assert_int_equal(w.err, 0);
	assert_int_equal(w.pos, 3);
	assert_int_equal(wire_get_u16(buf), 1);
	assert_int_equal(buf[2], 0);

	/* boundaries: 255 is one string; 256 is 255 + 1; 510 is two full strings */
	static const size_t lens[] = {1, 254, 255, 256, 509, 510, 511, 765, 1000};
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		size_t n = lens[i];
		size_t chunks = n == 0 ? 1 : (n + 254) / 255;
		wire_out_init(&w, buf, sizeof(buf));
		wire_put_u8(&w, 0x77); /* not at offset 0 */
		wire_put_txt_rdata(&w, text, n);
		assert_int_equal(w.err, 0);
		assert_int_equal(wire_get_u16(buf + 1), n + chunks);
		assert_int_equal(w.pos, 1 + 2 + n + chunks);
		size_t at = 3, got = 0;
		for (size_t c = 0; c < chunks; c++) {
			size_t l = buf[at];
			assert_int_equal(l, c + 1 < chunks ? 255 : n - 255 * (chunks - 1));
			assert_memory_equal(buf + at + 1, text + got, l);
			got += l;
			at += 1 + l;
		}
		assert_int_equal(got, n);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wire_out_overflow),
		cmocka_unit_test(test_wire_txt_rdata),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
