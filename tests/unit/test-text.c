/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The text helpers: hex bytes, the JSON writer and capture lines. */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "pacer-capture.h"
#include "pacer-hex.h"
#include "pacer-json.h"
#include "test-common.h"

static void test_hex_forms(void)
{
	static const char *const forms[] = {"168c1004", "16 8c 10 04", "16:8c:10:04",
					    "16-8C-10-04", "  16 8c\t10 04  ", "168c 1004"};
	uint8_t b[8];

	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		size_t len = 0;

		CU_ASSERT_EQUAL_FATAL(pacer_hex_decode(forms[i], b, sizeof(b), &len, NULL), 0);
		CU_ASSERT_EQUAL(len, 4);
		CU_ASSERT_EQUAL(b[0], 0x16);
		CU_ASSERT_EQUAL(b[1], 0x8c);
		CU_ASSERT_EQUAL(b[3], 0x04);
	}
}

static void test_hex_errors(void)
{
	uint8_t b[4];
	size_t len = 99, pos = 0;

	CU_ASSERT_EQUAL(pacer_hex_decode("", b, sizeof(b), &len, &pos), 0);
	CU_ASSERT_EQUAL(len, 0);
	len = 99;
	CU_ASSERT_EQUAL(pacer_hex_decode("16 8", b, sizeof(b), &len, &pos), -EINVAL);
	CU_ASSERT_EQUAL(pos, 3);
	CU_ASSERT_EQUAL(pacer_hex_decode("1 68", b, sizeof(b), &len, &pos), -EINVAL);
	CU_ASSERT_EQUAL(pos, 0);
	CU_ASSERT_EQUAL(pacer_hex_decode("16 zz", b, sizeof(b), &len, &pos), -EINVAL);
	CU_ASSERT_EQUAL(pos, 3);
	CU_ASSERT_EQUAL(pacer_hex_decode("0x16", b, sizeof(b), &len, &pos), -EINVAL);
	CU_ASSERT_EQUAL(pacer_hex_decode("01 02 03 04 05", b, sizeof(b), &len, &pos), -E2BIG);
	CU_ASSERT_EQUAL(len, 99);
}

static void test_hex_encode(void)
{
	static const uint8_t b[] = {0x16, 0x8c, 0x10, 0x04};
	char out[16];

	pacer_hex_encode(b, sizeof(b), out, sizeof(out));
	CU_ASSERT_STRING_EQUAL(out, "16 8c 10 04");
	pacer_hex_encode(b, sizeof(b), out, 6);
	CU_ASSERT_STRING_EQUAL(out, "16 8c");
	pacer_hex_encode(b, 0, out, sizeof(out));
	CU_ASSERT_STRING_EQUAL(out, "");
}

static void test_json_document(void)
{
	char buf[256];
	PacerJson j;

	pacer_json_init(&j, buf, sizeof(buf));
	pacer_json_begin_object(&j);
	pacer_json_key(&j, "a");
	pacer_json_int(&j, -3);
	pacer_json_key(&j, "list");
	pacer_json_begin_array(&j);
	pacer_json_double(&j, 0.1);
	pacer_json_double(&j, 1016.6015625);
	pacer_json_double(&j, NAN);
	pacer_json_begin_object(&j);
	pacer_json_end_object(&j);
	pacer_json_end_array(&j);
	pacer_json_key(&j, "s");
	pacer_json_string(&j, "say \"hi\"\n\\\x01");
	pacer_json_key(&j, "f");
	pacer_json_fixed(&j, 3.14159, 2);
	pacer_json_key(&j, "g");
	pacer_json_fixed(&j, 2.5, 3);
	pacer_json_key(&j, "z");
	pacer_json_fixed(&j, -0.0001, 2);
	pacer_json_key(&j, "b");
	pacer_json_bool(&j, true);
	pacer_json_key(&j, "n");
	pacer_json_null(&j);
	pacer_json_end_object(&j);
	CU_ASSERT_TRUE_FATAL(pacer_json_finish(&j) > 0);
	CU_ASSERT_STRING_EQUAL(buf, "{\"a\":-3,\"list\":[0.1,1016.6015625,null,{}],"
				    "\"s\":\"say \\\"hi\\\"\\n\\\\\\u0001\",\"f\":3.14,"
				    "\"g\":2.5,\"z\":0,\"b\":true,\"n\":null}");
}

static void test_json_errors(void)
{
	char buf[8];
	PacerJson j;

	pacer_json_init(&j, buf, sizeof(buf));
	pacer_json_begin_object(&j);
	pacer_json_key(&j, "toolong");
	pacer_json_int(&j, 1);
	pacer_json_end_object(&j);
	CU_ASSERT_EQUAL(pacer_json_finish(&j), -ENOBUFS);
	CU_ASSERT_TRUE(strlen(buf) < sizeof(buf));

	pacer_json_init(&j, buf, sizeof(buf));
	pacer_json_begin_array(&j);
	CU_ASSERT_EQUAL(pacer_json_finish(&j), -EINVAL);
	pacer_json_init(&j, buf, sizeof(buf));
	pacer_json_end_array(&j);
	CU_ASSERT_EQUAL(pacer_json_finish(&j), -EINVAL);
}

static void test_capture_line(void)
{
	PacerCaptureRecord rec;
	PacerCaptureError err;
	PacerUuid u;

	CU_ASSERT_EQUAL_FATAL(
		pacer_capture_parse_line("12.250 c0:ff:ee:00:00:01 2a37 16 8c 10 04\n", &rec, &err),
		1);
	CU_ASSERT_EQUAL(rec.t_us, 12250000u);
	CU_ASSERT_STRING_EQUAL(rec.address, "C0:FF:EE:00:00:01");
	pacer_uuid_from_u16(0x2A37, &u);
	CU_ASSERT_TRUE(pacer_uuid_equal(&rec.uuid, &u));
	CU_ASSERT_EQUAL(rec.len, 4);
	CU_ASSERT_EQUAL(rec.value[1], 0x8c);

	CU_ASSERT_EQUAL_FATAL(pacer_capture_parse_line("7 B1:72:47:A8:AA:F0 "
						       "00002acd-0000-1000-8000-00805f9b34fb "
						       "84-24-00-00\r\n",
						       &rec, &err),
			      1);
	CU_ASSERT_EQUAL(rec.t_us, 7000000u);
	CU_ASSERT_EQUAL(rec.len, 4);
	CU_ASSERT_EQUAL_FATAL(
		pacer_capture_parse_line("0.1234567 00:00:00:00:00:00 2a19 55", &rec, &err), 1);
	CU_ASSERT_EQUAL(rec.t_us, 123456u);

	CU_ASSERT_EQUAL(pacer_capture_parse_line("", &rec, &err), 0);
	CU_ASSERT_EQUAL(pacer_capture_parse_line("   \n", &rec, &err), 0);
	CU_ASSERT_EQUAL(pacer_capture_parse_line("# a comment", &rec, &err), 0);
	CU_ASSERT_EQUAL(pacer_capture_parse_line("  # indented comment", &rec, &err), 0);
}

static void check_capture_error(const char *line, size_t column)
{
	PacerCaptureRecord rec;
	PacerCaptureError err = {0};

	pacer_test_poison(&rec, sizeof(rec));
	CU_ASSERT_EQUAL(pacer_capture_parse_line(line, &rec, &err), -EINVAL);
	CU_ASSERT_EQUAL(err.column, column);
	CU_ASSERT_PTR_NOT_NULL(err.what);
	CU_ASSERT_TRUE(pacer_test_is_poisoned(&rec, sizeof(rec)));
}

static void test_capture_errors(void)
{
	check_capture_error("x 00:00:00:00:00:00 2a37 06 3c", 1);
	check_capture_error("-1 00:00:00:00:00:00 2a37 06 3c", 1);
	check_capture_error("1.5x 00:00:00:00:00:00 2a37 06 3c", 4);
	check_capture_error("12345678901 00:00:00:00:00:00 2a37 06 3c", 11);
	check_capture_error("1 00:00:00:00:00 2a37 06 3c", 3);
	check_capture_error("1 00:00:00:00:00:0g 2a37 06 3c", 3);
	check_capture_error("1 00:00:00:00:00:00 2a3 06 3c", 21);
	check_capture_error("1 00:00:00:00:00:00 2a37", 25);
	check_capture_error("1 00:00:00:00:00:00 2a37   ", 28);
	check_capture_error("1 00:00:00:00:00:00 2a37 06 3", 29);
	check_capture_error("1 00:00:00:00:00:00 2a37 06 3c 1", 32);
	check_capture_error("1 00:00:00:00:00:00 2a37 06 q3", 29);
	check_capture_error("1 00:00:00:00:00:00 2a19 55\rjunk", 28);
	check_capture_error("1 00:00:00:00:00:00 2a19 55\n2 00:00:00:00:00:00 2a19 55", 28);
	check_capture_error("1 00:00:00:00:00:00 2a19 -:-", 26);
}

int main(void)
{
	static const PacerTest tests[] = {
		{"hex: accepted forms", test_hex_forms},
		{"hex: errors and positions", test_hex_errors},
		{"hex: encode", test_hex_encode},
		{"json: a document with every kind of value", test_json_document},
		{"json: overflow and bad nesting", test_json_errors},
		{"capture: lines", test_capture_line},
		{"capture: errors name the column", test_capture_errors},
		{NULL, NULL},
	};

	return pacer_test_main("text", tests);
}
