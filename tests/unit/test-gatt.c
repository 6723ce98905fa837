/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Battery Level, the decoder dispatch and the JSON form of decoded values. */
#include <errno.h>
#include <string.h>

#include "pacer-gatt-json.h"
#include "pacer-gatt.h"
#include "test-common.h"

static void test_battery(void)
{
	uint8_t pct = 42;

	for (unsigned v = 0; v < 256; v++) {
		uint8_t b[1] = {(uint8_t)v};
		int r = pacer_battery_level_decode(b, 1, &pct);

		if (v <= 100) {
			CU_ASSERT_EQUAL(r, 0);
			CU_ASSERT_EQUAL(pct, v);
		} else {
			CU_ASSERT_EQUAL(r, -ERANGE);
			CU_ASSERT_EQUAL(pct, 100);
		}
	}
	CU_ASSERT_EQUAL(pacer_battery_level_decode(NULL, 0, &pct), -EBADMSG);
	CU_ASSERT_EQUAL(pct, 100);
}

static void test_dispatch(void)
{
	size_t n;
	const uint16_t *uuids = pacer_gatt_supported_uuids(&n);
	PacerGattValue v;
	uint8_t b[1] = {0x05};

	CU_ASSERT_EQUAL(n, 7);
	for (size_t i = 0; i < n; i++)
		CU_ASSERT_PTR_NOT_NULL(pacer_gatt_characteristic_name(uuids[i]));
	CU_ASSERT_PTR_NULL(pacer_gatt_characteristic_name(0x2A99));

	pacer_test_poison(&v, sizeof(v));
	CU_ASSERT_EQUAL(pacer_gatt_decode(0x2A99, b, 1, &v), -ENOENT);
	CU_ASSERT_EQUAL(pacer_gatt_decode(PACER_UUID_HEART_RATE_MEASUREMENT, b, 1, &v), -EBADMSG);
	CU_ASSERT_TRUE(pacer_test_is_poisoned(&v, sizeof(v)));

	CU_ASSERT_EQUAL_FATAL(pacer_gatt_decode(PACER_UUID_BATTERY_LEVEL, b, 1, &v), 0);
	CU_ASSERT_EQUAL(v.kind, PACER_GATT_BATTERY);
	CU_ASSERT_EQUAL(v.battery_percent, 5);
	CU_ASSERT_EQUAL_FATAL(pacer_gatt_decode(PACER_UUID_BODY_SENSOR_LOCATION, b, 1, &v), 0);
	CU_ASSERT_EQUAL(v.kind, PACER_GATT_BODY_SENSOR_LOCATION);
	CU_ASSERT_EQUAL(v.body_sensor_location, PACER_BODY_SENSOR_EAR_LOBE);
	CU_ASSERT_STRING_NOT_EQUAL(pacer_gatt_strerror(-EBADMSG), pacer_gatt_strerror(-ERANGE));
}

/* Decodes hex as characteristic uuid16 and checks the JSON text exactly. */
static void check_json(uint16_t uuid16, const char *hex, const char *expected)
{
	uint8_t b[64];
	char out[4096];
	size_t len = pacer_test_hex(hex, b, sizeof(b));
	PacerGattValue v;
	PacerJson j;

	CU_ASSERT_EQUAL_FATAL(pacer_gatt_decode(uuid16, b, len, &v), 0);
	pacer_json_init(&j, out, sizeof(out));
	pacer_gatt_value_write_json(&v, &j);
	CU_ASSERT_TRUE_FATAL(pacer_json_finish(&j) > 0);
	CU_ASSERT_STRING_EQUAL(out, expected);
}

static void test_json_heart_rate(void)
{
	check_json(0x2A37, "16 3c 11 04",
		   "{\"type\":\"heart_rate\",\"hr_bpm\":60,\"contact\":\"detected\","
		   "\"energy_kj\":null,\"rr_ms\":[1016.6015625]}");
	check_json(0x2A37, "10 43 72 03 8a 03",
		   "{\"type\":\"heart_rate\",\"hr_bpm\":67,\"contact\":\"unsupported\","
		   "\"energy_kj\":null,\"rr_ms\":[861.328125,884.765625]}");
	check_json(0x2A37, "04 00",
		   "{\"type\":\"heart_rate\",\"hr_bpm\":0,\"contact\":\"not_detected\","
		   "\"energy_kj\":null,\"rr_ms\":[]}");
	check_json(0x2A37, "09 2c 01 10 00",
		   "{\"type\":\"heart_rate\",\"hr_bpm\":300,\"contact\":\"unsupported\","
		   "\"energy_kj\":16,\"rr_ms\":[]}");
}

static void test_json_rsc(void)
{
	check_json(0x2A53, "02 00 05 50 ff ff 00 01",
		   "{\"type\":\"rsc\",\"speed_mps\":5,\"cadence_raw\":80,\"stride_m\":null,"
		   "\"distance_m\":1684275.1,\"running\":false}");
	check_json(0x2A53, "05 80 03 58 79 00",
		   "{\"type\":\"rsc\",\"speed_mps\":3.5,\"cadence_raw\":88,\"stride_m\":1.21,"
		   "\"distance_m\":null,\"running\":true}");
}

static void test_json_treadmill(void)
{
	check_json(0x2ACD, "84 24 2c 01 31 00 00 02 00 00 00 00 3d 00 5b 00 00",
		   "{\"type\":\"treadmill\",\"speed_kmh\":3,\"avg_speed_kmh\":null,"
		   "\"distance_m\":49,\"incline_pct\":null,\"ramp_deg\":null,"
		   "\"elevation_gain_m\":null,\"elevation_loss_m\":null,\"pace_s_per_km\":null,"
		   "\"avg_pace_s_per_km\":null,\"energy_kcal\":2,\"energy_kcal_per_h\":0,"
		   "\"energy_kcal_per_min\":0,\"hr_bpm\":null,\"met\":null,\"elapsed_s\":61,"
		   "\"remaining_s\":null,\"force_n\":null,\"power_w\":null}");
	/* every field, one-octet paces (10 km/min -> 6 s/km, 5 km/min -> 12 s/km) */
	check_json(0x2ACD,
		   "fe 1f d2 04 57 04 10 27 00 e7 ff 1e 00 96 00 4b 00 64 32 41 01 ff ff ff 96 62 "
		   "10 0e 58 02 f4 ff fa 00",
		   "{\"type\":\"treadmill\",\"speed_kmh\":12.34,\"avg_speed_kmh\":11.11,"
		   "\"distance_m\":10000,\"incline_pct\":-2.5,\"ramp_deg\":3,"
		   "\"elevation_gain_m\":15,\"elevation_loss_m\":7.5,\"pace_s_per_km\":6,"
		   "\"avg_pace_s_per_km\":12,\"energy_kcal\":321,\"energy_kcal_per_h\":null,"
		   "\"energy_kcal_per_min\":null,\"hr_bpm\":150,\"met\":9.8,\"elapsed_s\":3600,"
		   "\"remaining_s\":600,\"force_n\":-12,\"power_w\":250}");
}

static void test_json_others(void)
{
	check_json(0x2A19, "55", "{\"type\":\"battery\",\"percent\":85}");
	check_json(0x2A38, "01", "{\"type\":\"body_sensor_location\",\"location\":\"chest\"}");
	check_json(0x2A38, "07", "{\"type\":\"body_sensor_location\",\"location\":\"reserved\"}");
	check_json(0x2A54, "05 00",
		   "{\"type\":\"rsc_feature\",\"stride_length\":true,\"total_distance\":false,"
		   "\"walking_running\":true,\"calibration\":false,"
		   "\"multiple_sensor_locations\":false}");
}

static void test_describe(void)
{
	char line[256];
	uint8_t b[32];
	size_t len = pacer_test_hex("10 43 72 03 8a 03", b, sizeof(b));
	PacerGattValue v;

	CU_ASSERT_EQUAL_FATAL(pacer_gatt_decode(0x2A37, b, len, &v), 0);
	pacer_gatt_value_describe(&v, line, sizeof(line));
	CU_ASSERT_STRING_EQUAL(line, "67 bpm, contact unsupported, RR ms 861.3 884.8");
	len = pacer_test_hex("84 24 2c 01 31 00 00 02 00 00 00 00 3d 00 5b 00 00", b, sizeof(b));
	CU_ASSERT_EQUAL_FATAL(pacer_gatt_decode(0x2ACD, b, len, &v), 0);
	pacer_gatt_value_describe(&v, line, sizeof(line));
	CU_ASSERT_STRING_EQUAL(line, "3.00 km/h (20:00 /km), 49 m, 2 kcal, 61 s elapsed, "
				     "3 vendor octets ignored");
	/* a small buffer is cut, never overrun */
	pacer_gatt_value_describe(&v, line, 8);
	CU_ASSERT_EQUAL(strlen(line), 7);
}

int main(void)
{
	static const PacerTest tests[] = {
		{"battery level, all 256 values", test_battery},
		{"dispatch by UUID", test_dispatch},
		{"JSON: heart rate", test_json_heart_rate},
		{"JSON: RSC", test_json_rsc},
		{"JSON: treadmill", test_json_treadmill},
		{"JSON: battery, location, RSC feature", test_json_others},
		{"readable lines", test_describe},
		{NULL, NULL},
	};

	return pacer_test_main("gatt", tests);
}
