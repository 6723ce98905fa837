/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <string.h>

#include "pacer-uuid.h"
#include "test-common.h"

static void check_short(const char *s, uint16_t expected)
{
	PacerUuid u;
	uint16_t v = 0;

	CU_ASSERT_EQUAL_FATAL(pacer_uuid_parse(s, &u), 0);
	CU_ASSERT_EQUAL(pacer_uuid_to_u16(&u, &v), 0);
	CU_ASSERT_EQUAL(v, expected);
}

static void test_short_forms(void)
{
	check_short("2a37", 0x2A37);
	check_short("2A37", 0x2A37);
	check_short("0x2a37", 0x2A37);
	check_short("0X2ACD", 0x2ACD);
	check_short("00002a53", 0x2A53);
	check_short("0x0000180d", 0x180D);
}

static void test_long_form_case_insensitive(void)
{
	check_short("00002a37-0000-1000-8000-00805f9b34fb", 0x2A37);
	check_short("00002A37-0000-1000-8000-00805F9B34FB", 0x2A37);
	check_short("0000180D-0000-1000-8000-00805f9B34Fb", 0x180D);
}

static void test_format_is_lower_case_128_bit(void)
{
	char buf[PACER_UUID_STRING_SIZE];
	PacerUuid u, back;

	pacer_uuid_from_u16(0x2ACD, &u);
	pacer_uuid_format(&u, buf);
	CU_ASSERT_STRING_EQUAL(buf, "00002acd-0000-1000-8000-00805f9b34fb");
	CU_ASSERT_EQUAL(pacer_uuid_parse(buf, &back), 0);
	CU_ASSERT_TRUE(pacer_uuid_equal(&u, &back));
}

/* A vendor UUID is a valid UUID but not a 16-bit one. */
static void test_vendor_uuid(void)
{
	static const char vendor[] = "c4208999-8d92-bee1-4456-2068528eccf6";
	char buf[PACER_UUID_STRING_SIZE];
	PacerUuid u, sig;
	uint16_t v = 0x1234;

	CU_ASSERT_EQUAL_FATAL(pacer_uuid_parse(vendor, &u), 0);
	CU_ASSERT_EQUAL(pacer_uuid_to_u16(&u, &v), -ERANGE);
	CU_ASSERT_EQUAL(v, 0x1234);
	pacer_uuid_format(&u, buf);
	CU_ASSERT_STRING_EQUAL(buf, vendor);
	/* a 32-bit SIG UUID outside the 16-bit range is not 16-bit either */
	CU_ASSERT_EQUAL(pacer_uuid_parse("12342a37", &u), 0);
	CU_ASSERT_EQUAL(pacer_uuid_to_u16(&u, &v), -ERANGE);
	pacer_uuid_from_u16(0x2A37, &sig);
	CU_ASSERT_FALSE(pacer_uuid_equal(&u, &sig));
}

static void test_rejects(void)
{
	static const char *const bad[] = {
		"", "2a3", "2a377", "0x", "0x2a3g", "x2a37", " 2a37", "2a37 ", "2a37\n",
		"00002a37-0000-1000-8000-00805f9b34f",  /* 35 characters */
		"00002a37-0000-1000-8000-00805f9b34fbb", /* 37 */
		"00002a37+0000-1000-8000-00805f9b34fb", "00002a37-0000-1000-8000_00805f9b34fb",
		"0000z a37-000-1000-8000-00805f9b34fb", "-2a37", "0x-2a3",
	};
	PacerUuid u;

	memset(&u, 0x5a, sizeof(u));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CU_ASSERT_EQUAL(pacer_uuid_parse(bad[i], &u), -EINVAL);
	}
	CU_ASSERT_EQUAL(pacer_uuid_parse(NULL, &u), -EINVAL);
	for (size_t i = 0; i < sizeof(u.bytes); i++)
		CU_ASSERT_EQUAL(u.bytes[i], 0x5a);
}

int main(void)
{
	static const PacerTest tests[] = {
		{"16- and 32-bit forms", test_short_forms},
		{"128-bit form, any case", test_long_form_case_insensitive},
		{"formats lower-case 128-bit", test_format_is_lower_case_128_bit},
		{"vendor UUIDs are not 16-bit", test_vendor_uuid},
		{"rejects malformed strings", test_rejects},
		{NULL, NULL},
	};

	return pacer_test_main("uuid", tests);
}
