/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>

#include "pacer-cursor.h"
#include "test-common.h"

static void test_reads_little_endian(void)
{
	static const uint8_t b[] = {0x01, 0x34, 0x12, 0x56, 0x34, 0x12, 0x78, 0x56, 0x34, 0x12};
	PacerCursor c;
	uint8_t u8;
	uint16_t u16;
	uint32_t u24, u32;

	pacer_cursor_init(&c, b, sizeof(b));
	CU_ASSERT_EQUAL(pacer_cursor_read_u8(&c, &u8), 0);
	CU_ASSERT_EQUAL(u8, 0x01);
	CU_ASSERT_EQUAL(pacer_cursor_read_u16le(&c, &u16), 0);
	CU_ASSERT_EQUAL(u16, 0x1234);
	CU_ASSERT_EQUAL(pacer_cursor_read_u24le(&c, &u24), 0);
	CU_ASSERT_EQUAL(u24, 0x123456);
	CU_ASSERT_EQUAL(pacer_cursor_read_u32le(&c, &u32), 0);
	CU_ASSERT_EQUAL(u32, 0x12345678);
	CU_ASSERT_EQUAL(pacer_cursor_remaining(&c), 0);
}

static void test_signed(void)
{
	static const uint8_t b[] = {0xff, 0xff, 0x00, 0x80, 0xff, 0x7f, 0x0a, 0x00};
	PacerCursor c;
	int16_t v;

	pacer_cursor_init(&c, b, sizeof(b));
	CU_ASSERT_EQUAL(pacer_cursor_read_s16le(&c, &v), 0);
	CU_ASSERT_EQUAL(v, -1);
	CU_ASSERT_EQUAL(pacer_cursor_read_s16le(&c, &v), 0);
	CU_ASSERT_EQUAL(v, -32768);
	CU_ASSERT_EQUAL(pacer_cursor_read_s16le(&c, &v), 0);
	CU_ASSERT_EQUAL(v, 32767);
	CU_ASSERT_EQUAL(pacer_cursor_read_s16le(&c, &v), 0);
	CU_ASSERT_EQUAL(v, 10);
}

/* A read that does not fit fails and changes neither the cursor nor the output. */
static void test_short_reads_change_nothing(void)
{
	static const uint8_t b[] = {0x11, 0x22, 0x33};
	PacerCursor c;
	uint16_t u16 = 0xbeef;
	uint32_t u32 = 0xdeadbeef;
	int16_t s16 = 77;
	uint8_t u8 = 0x5a;

	pacer_cursor_init(&c, b, sizeof(b));
	CU_ASSERT_EQUAL(pacer_cursor_read_u32le(&c, &u32), -EBADMSG);
	CU_ASSERT_EQUAL(u32, 0xdeadbeef);
	CU_ASSERT_EQUAL(pacer_cursor_skip(&c, 2), 0);
	CU_ASSERT_EQUAL(pacer_cursor_read_u16le(&c, &u16), -EBADMSG);
	CU_ASSERT_EQUAL(u16, 0xbeef);
	CU_ASSERT_EQUAL(pacer_cursor_read_s16le(&c, &s16), -EBADMSG);
	CU_ASSERT_EQUAL(s16, 77);
	CU_ASSERT_EQUAL(pacer_cursor_read_u24le(&c, &u32), -EBADMSG);
	CU_ASSERT_EQUAL(pacer_cursor_remaining(&c), 1);
	CU_ASSERT_EQUAL(pacer_cursor_read_u8(&c, &u8), 0);
	CU_ASSERT_EQUAL(u8, 0x33);
	CU_ASSERT_EQUAL(pacer_cursor_read_u8(&c, &u8), -EBADMSG);
	CU_ASSERT_EQUAL(u8, 0x33);
	CU_ASSERT_EQUAL(pacer_cursor_skip(&c, 1), -EBADMSG);
}

static void test_empty_and_null(void)
{
	PacerCursor c;
	uint8_t u8 = 9;

	pacer_cursor_init(&c, NULL, 0);
	CU_ASSERT_EQUAL(pacer_cursor_remaining(&c), 0);
	CU_ASSERT_EQUAL(pacer_cursor_read_u8(&c, &u8), -EBADMSG);
	CU_ASSERT_EQUAL(u8, 9);
	CU_ASSERT_EQUAL(pacer_cursor_skip(&c, 0), 0);
}

int main(void)
{
	static const PacerTest tests[] = {
		{"reads little-endian u8/u16/u24/u32", test_reads_little_endian},
		{"reads two's complement s16", test_signed},
		{"short reads change nothing", test_short_reads_change_nothing},
		{"empty and NULL buffers", test_empty_and_null},
		{NULL, NULL},
	};

	return pacer_test_main("cursor", tests);
}
