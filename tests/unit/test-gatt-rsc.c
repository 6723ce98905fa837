/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* RSC Measurement (0x2A53) and RSC Feature (0x2A54); reference §1.4-1.5. */
#include <errno.h>
#include <stdbool.h>

#include "pacer-gatt-rsc.h"
#include "test-common.h"

/* OpenTracks' RSC test bytes (BluetoothHandlerRunningSpeedAndCadenceTest), reference §1.4. */
static void test_opentracks_payload(void)
{
	PacerRscMeasurement m;
	uint8_t b[16];
	size_t len = pacer_test_hex("02 00 05 50 ff ff 00 01", b, sizeof(b));

	CU_ASSERT_EQUAL_FATAL(pacer_rsc_measurement_decode(b, len, &m), 0);
	CU_ASSERT_EQUAL(m.speed_raw, 0x0500);
	PACER_TEST_DOUBLE_EQ(pacer_rsc_speed_mps(&m), 5.0);
	CU_ASSERT_EQUAL(m.cadence_raw, 80);
	CU_ASSERT_FALSE(m.has_stride);
	CU_ASSERT_TRUE(m.has_distance);
	CU_ASSERT_EQUAL(m.distance_dm, 16842751u);
	PACER_TEST_DOUBLE_EQ(pacer_rsc_distance_m(&m), 1684275.1);
	CU_ASSERT_FALSE(m.running);
	CU_ASSERT_EQUAL(m.ignored_octets, 0);
}

/* Builds a payload for `flags`: speed 3.5 m/s (896), cadence 88, stride 1.21 m, 4321.5 m. */
static size_t build(uint8_t flags, uint8_t *b)
{
	size_t n = 0;

	b[n++] = flags;
	b[n++] = 0x80;
	b[n++] = 0x03;
	b[n++] = 88;
	if (flags & 0x01) {
		b[n++] = 121;
		b[n++] = 0;
	}
	if (flags & 0x02) {
		/* 43215 dm */
		b[n++] = 0xcf;
		b[n++] = 0xa8;
		b[n++] = 0x00;
		b[n++] = 0x00;
	}
	return n;
}

static void test_every_flag_combination(void)
{
	for (unsigned flags = 0; flags < 256; flags++) {
		PacerRscMeasurement m;
		uint8_t b[16];
		size_t len = build((uint8_t)flags, b);

		CU_ASSERT_EQUAL_FATAL(pacer_rsc_measurement_decode(b, len, &m), 0);
		PACER_TEST_DOUBLE_EQ(pacer_rsc_speed_mps(&m), 3.5);
		CU_ASSERT_EQUAL(m.cadence_raw, 88);
		CU_ASSERT_EQUAL(m.has_stride, (flags & 0x01) != 0);
		if (m.has_stride)
			PACER_TEST_DOUBLE_EQ(pacer_rsc_stride_m(&m), 1.21);
		CU_ASSERT_EQUAL(m.has_distance, (flags & 0x02) != 0);
		if (m.has_distance)
			PACER_TEST_DOUBLE_EQ(pacer_rsc_distance_m(&m), 4321.5);
		CU_ASSERT_EQUAL(m.running, (flags & 0x04) != 0);

		for (size_t cut = 0; cut < len; cut++) {
			pacer_test_poison(&m, sizeof(m));
			CU_ASSERT_EQUAL(pacer_rsc_measurement_decode(b, cut, &m), -EBADMSG);
			CU_ASSERT_TRUE(pacer_test_is_poisoned(&m, sizeof(m)));
		}
	}
}

static void test_every_truncation_of_real_payload(void)
{
	uint8_t b[16];
	size_t len = pacer_test_hex("02 00 05 50 ff ff 00 01", b, sizeof(b));

	for (size_t cut = 0; cut < len; cut++) {
		PacerRscMeasurement m;

		pacer_test_poison(&m, sizeof(m));
		CU_ASSERT_EQUAL(pacer_rsc_measurement_decode(b, cut, &m), -EBADMSG);
		CU_ASSERT_TRUE(pacer_test_is_poisoned(&m, sizeof(m)));
	}
}

static void test_standing_still_and_extremes(void)
{
	PacerRscMeasurement m;
	uint8_t b[16];
	size_t len = pacer_test_hex("07 00 00 00 ff ff ff ff ff ff", b, sizeof(b));

	CU_ASSERT_EQUAL_FATAL(pacer_rsc_measurement_decode(b, len, &m), 0);
	CU_ASSERT_EQUAL(m.speed_raw, 0);
	CU_ASSERT_EQUAL(m.cadence_raw, 0);
	CU_ASSERT_EQUAL(m.stride_cm, 0xFFFF);
	CU_ASSERT_EQUAL(m.distance_dm, 0xFFFFFFFFu);
	CU_ASSERT_TRUE(m.running);
}

static void test_trailing_octets_ignored(void)
{
	PacerRscMeasurement m;
	uint8_t b[16];
	size_t len = pacer_test_hex("04 00 03 5a 01 02 03", b, sizeof(b));

	CU_ASSERT_EQUAL_FATAL(pacer_rsc_measurement_decode(b, len, &m), 0);
	CU_ASSERT_EQUAL(m.cadence_raw, 90);
	CU_ASSERT_EQUAL(m.ignored_octets, 3);
}

static void test_feature(void)
{
	uint16_t f = 0x1234;
	uint8_t b[3] = {0x07, 0x80, 0xff};

	CU_ASSERT_EQUAL(pacer_rsc_feature_decode(b, 1, &f), -EBADMSG);
	CU_ASSERT_EQUAL(f, 0x1234);
	CU_ASSERT_EQUAL(pacer_rsc_feature_decode(NULL, 0, &f), -EBADMSG);
	CU_ASSERT_EQUAL_FATAL(pacer_rsc_feature_decode(b, 3, &f), 0);
	CU_ASSERT_EQUAL(f, 0x8007);
	CU_ASSERT_TRUE(f & PACER_RSC_FEATURE_STRIDE_LENGTH);
	CU_ASSERT_TRUE(f & PACER_RSC_FEATURE_TOTAL_DISTANCE);
	CU_ASSERT_TRUE(f & PACER_RSC_FEATURE_WALKING_RUNNING);
	CU_ASSERT_FALSE(f & PACER_RSC_FEATURE_CALIBRATION);
	CU_ASSERT_STRING_EQUAL(pacer_rsc_feature_bit_name(0), "stride_length");
	CU_ASSERT_STRING_EQUAL(pacer_rsc_feature_bit_name(4), "multiple_sensor_locations");
	CU_ASSERT_PTR_NULL(pacer_rsc_feature_bit_name(5));
}

int main(void)
{
	static const PacerTest tests[] = {
		{"OpenTracks payload", test_opentracks_payload},
		{"every flag combination and truncation", test_every_flag_combination},
		{"every truncation of the real payload", test_every_truncation_of_real_payload},
		{"standing still and field maxima", test_standing_still_and_extremes},
		{"trailing octets ignored", test_trailing_octets_ignored},
		{"RSC feature bits", test_feature},
		{NULL, NULL},
	};

	return pacer_test_main("gatt-rsc", tests);
}
