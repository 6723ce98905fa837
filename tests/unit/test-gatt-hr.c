/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Heart Rate Measurement (0x2A37) and Body Sensor Location (0x2A38).
 * Real payloads are quoted in shared/reference/ble-and-running-facts.md §1.1;
 * each test says where its bytes were captured.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "pacer-gatt-hr.h"
#include "test-common.h"

typedef struct {
	const char *hex;
	const char *source;
	uint16_t hr;
	PacerHrContact contact;
	size_t n_rr;
	uint16_t rr[2];
} RealPayload;

static const RealPayload real_payloads[] = {
	{"06 3c", "Polar H7, gatttool log (cal-id/Polar-H7-Pi)", 60, PACER_HR_CONTACT_DETECTED, 0,
	 {0}},
	{"16 3c 11 04", "Polar H7, gatttool log", 60, PACER_HR_CONTACT_DETECTED, 1, {1041}},
	{"16 3c f5 03", "Polar H7, gatttool log", 60, PACER_HR_CONTACT_DETECTED, 1, {1013}},
	{"10 43 72 03 8a 03", "Polar H10 (Auuki issue #192)", 67, PACER_HR_CONTACT_UNSUPPORTED, 2,
	 {882, 906}},
	{"10 44 92 03", "Polar H10 (Auuki issue #192)", 68, PACER_HR_CONTACT_UNSUPPORTED, 1, {914}},
	{"10 3c 8c 04", "Polar H10 (Auuki issue #192)", 60, PACER_HR_CONTACT_UNSUPPORTED, 1, {1164}},
	{"00 40", "Polar H10 (Auuki issue #192)", 64, PACER_HR_CONTACT_UNSUPPORTED, 0, {0}},
	{"04 00", "Zwift Hub relaying HR, no skin contact (simcline issue #7)", 0,
	 PACER_HR_CONTACT_NOT_DETECTED, 0, {0}},
};

#define N_REAL (sizeof(real_payloads) / sizeof(real_payloads[0]))

static void test_real_payloads(void)
{
	for (size_t i = 0; i < N_REAL; i++) {
		const RealPayload *p = &real_payloads[i];
		PacerHrMeasurement m;
		uint8_t b[16];
		size_t len = pacer_test_hex(p->hex, b, sizeof(b));

		CU_ASSERT_EQUAL_FATAL(pacer_hr_measurement_decode(b, len, &m), 0);
		CU_ASSERT_EQUAL(m.hr_bpm, p->hr);
		CU_ASSERT_EQUAL(m.contact, p->contact);
		CU_ASSERT_FALSE(m.has_energy);
		CU_ASSERT_EQUAL_FATAL(m.n_rr, p->n_rr);
		for (size_t k = 0; k < m.n_rr; k++)
			CU_ASSERT_EQUAL(m.rr[k], p->rr[k]);
		CU_ASSERT_EQUAL(m.ignored_octets, 0);
	}
}

/* The reference's worked values: raw 1041 -> 1016.6 ms, 882 -> 861.3 ms. */
static void test_rr_milliseconds(void)
{
	PACER_TEST_DOUBLE_EQ(pacer_hr_rr_to_ms(1041), 1016.6015625);
	PACER_TEST_DOUBLE_EQ(pacer_hr_rr_to_ms(882), 861.328125);
	PACER_TEST_DOUBLE_EQ(pacer_hr_rr_to_ms(1024), 1000.0);
	PACER_TEST_DOUBLE_EQ(pacer_hr_rr_to_ms(0), 0.0);
	PACER_TEST_DOUBLE_EQ(pacer_hr_rr_to_ms(0xFFFF), 63999.0234375);
}

/*
 * Every prefix of every real payload: either rejected with nothing written, or
 * (for a prefix that cuts an RR list) accepted with the complete RR values
 * and the stray octet counted.
 */
static void test_every_truncation(void)
{
	for (size_t i = 0; i < N_REAL; i++) {
		uint8_t b[16];
		size_t len = pacer_test_hex(real_payloads[i].hex, b, sizeof(b));

		for (size_t cut = 0; cut < len; cut++) {
			PacerHrMeasurement m;
			size_t fixed = 2; /* these payloads have 8-bit HR and no energy */
			int r;

			pacer_test_poison(&m, sizeof(m));
			r = pacer_hr_measurement_decode(b, cut, &m);
			if ((b[0] & 0x10) && cut >= fixed + 2) {
				CU_ASSERT_EQUAL(r, 0);
				CU_ASSERT_EQUAL(m.n_rr, (cut - fixed) / 2);
				CU_ASSERT_EQUAL(m.ignored_octets, (cut - fixed) % 2);
			} else if (!(b[0] & 0x10) && cut >= fixed) {
				CU_ASSERT_EQUAL(r, 0);
			} else {
				CU_ASSERT_EQUAL(r, -EBADMSG);
				CU_ASSERT_TRUE(pacer_test_is_poisoned(&m, sizeof(m)));
			}
		}
	}
}

/* Builds a payload for `flags` with HR 0x0155 (or 0x55), energy 0x1234 and RR 1000, 0xFFFF. */
static size_t build(uint8_t flags, uint8_t *b)
{
	size_t n = 0;

	b[n++] = flags;
	b[n++] = 0x55;
	if (flags & 0x01)
		b[n++] = 0x01;
	if (flags & 0x08) {
		b[n++] = 0x34;
		b[n++] = 0x12;
	}
	if (flags & 0x10) {
		b[n++] = 0xe8;
		b[n++] = 0x03;
		b[n++] = 0xff;
		b[n++] = 0xff;
	}
	return n;
}

/* All 256 flag values, reserved bits 5-7 included: each field as the flags say. */
static void test_every_flag_combination(void)
{
	for (unsigned flags = 0; flags < 256; flags++) {
		static const PacerHrContact contacts[] = {
			PACER_HR_CONTACT_UNSUPPORTED, PACER_HR_CONTACT_UNSUPPORTED,
			PACER_HR_CONTACT_NOT_DETECTED, PACER_HR_CONTACT_DETECTED};
		PacerHrMeasurement m;
		uint8_t b[16];
		size_t len = build((uint8_t)flags, b);

		CU_ASSERT_EQUAL_FATAL(pacer_hr_measurement_decode(b, len, &m), 0);
		CU_ASSERT_EQUAL(m.hr_bpm, (flags & 0x01) ? 0x0155 : 0x55);
		CU_ASSERT_EQUAL(m.contact, contacts[(flags >> 1) & 3]);
		CU_ASSERT_EQUAL(m.has_energy, (flags & 0x08) != 0);
		if (flags & 0x08)
			CU_ASSERT_EQUAL(m.energy_kj, 0x1234);
		CU_ASSERT_EQUAL(m.n_rr, (flags & 0x10) ? 2u : 0u);
		if (flags & 0x10) {
			CU_ASSERT_EQUAL(m.rr[0], 1000);
			CU_ASSERT_EQUAL(m.rr[1], 0xFFFF);
		}
		CU_ASSERT_EQUAL(m.ignored_octets, 0);

		/* every truncation short of the fixed fields or of one RR fails cleanly */
		for (size_t cut = 0; cut < len; cut++) {
			size_t fixed = 2 + (flags & 0x01 ? 1 : 0) + (flags & 0x08 ? 2 : 0);
			bool ok = cut >= fixed && (!(flags & 0x10) || cut >= fixed + 2);
			int r;

			pacer_test_poison(&m, sizeof(m));
			r = pacer_hr_measurement_decode(b, cut, &m);
			CU_ASSERT_EQUAL(r, ok ? 0 : -EBADMSG);
			if (!ok)
				CU_ASSERT_TRUE(pacer_test_is_poisoned(&m, sizeof(m)));
		}
	}
}

static void test_rr_edge_values(void)
{
	PacerHrMeasurement m;
	uint8_t b[16];
	size_t len = pacer_test_hex("10 50 00 00 ff ff 01 00", b, sizeof(b));

	CU_ASSERT_EQUAL_FATAL(pacer_hr_measurement_decode(b, len, &m), 0);
	CU_ASSERT_EQUAL_FATAL(m.n_rr, 3);
	CU_ASSERT_EQUAL(m.rr[0], 0);
	CU_ASSERT_EQUAL(m.rr[1], 0xFFFF);
	CU_ASSERT_EQUAL(m.rr[2], 1);
}

/* ATT_MTU 23 leaves 20 octets: 9 RR values with an 8-bit HR, 7 with uint16 HR and energy. */
static void test_most_rr_at_default_mtu(void)
{
	PacerHrMeasurement m;
	uint8_t b[20] = {0x10, 150};

	for (size_t i = 0; i < 9; i++) {
		b[2 + 2 * i] = (uint8_t)(i + 1);
		b[3 + 2 * i] = 0x02;
	}
	CU_ASSERT_EQUAL_FATAL(pacer_hr_measurement_decode(b, 20, &m), 0);
	CU_ASSERT_EQUAL(m.n_rr, 9);
	CU_ASSERT_EQUAL(m.rr[8], 0x0209);

	b[0] = 0x19; /* uint16 HR, energy, RR */
	CU_ASSERT_EQUAL_FATAL(pacer_hr_measurement_decode(b, 20, &m), 0);
	CU_ASSERT_EQUAL(m.n_rr, 7);
	CU_ASSERT_EQUAL(m.ignored_octets, 1);
}

/* The largest ATT value (512 octets) carries 255 RR values; the decoder keeps them all. */
static void test_most_rr_in_largest_value(void)
{
	static PacerHrMeasurement m;
	uint8_t b[514];

	memset(b, 0, sizeof(b));
	b[0] = 0x10;
	b[1] = 70;
	for (size_t i = 0; i < 255; i++)
		b[2 + 2 * i] = (uint8_t)i;
	CU_ASSERT_EQUAL_FATAL(pacer_hr_measurement_decode(b, 512, &m), 0);
	CU_ASSERT_EQUAL(m.n_rr, PACER_HR_RR_MAX);
	CU_ASSERT_EQUAL(m.rr[254], 254);
	/* a value longer than ATT allows is malformed, not silently cut */
	CU_ASSERT_EQUAL(pacer_hr_measurement_decode(b, 514, &m), -EBADMSG);
}

/* Reference §1.1: a stray odd octet is dropped, the rest kept. */
static void test_stray_octet(void)
{
	PacerHrMeasurement m;
	uint8_t b[16];
	size_t len = pacer_test_hex("10 43 72 03 8a", b, sizeof(b));

	CU_ASSERT_EQUAL_FATAL(pacer_hr_measurement_decode(b, len, &m), 0);
	CU_ASSERT_EQUAL(m.n_rr, 1);
	CU_ASSERT_EQUAL(m.rr[0], 882);
	CU_ASSERT_EQUAL(m.ignored_octets, 1);
}

static void test_energy_and_uint16(void)
{
	PacerHrMeasurement m;
	uint8_t b[16];
	size_t len = pacer_test_hex("1f 2c 01 ff ff 00 04", b, sizeof(b));

	CU_ASSERT_EQUAL_FATAL(pacer_hr_measurement_decode(b, len, &m), 0);
	CU_ASSERT_EQUAL(m.hr_bpm, 300);
	CU_ASSERT_EQUAL(m.contact, PACER_HR_CONTACT_DETECTED);
	CU_ASSERT_TRUE(m.has_energy);
	CU_ASSERT_EQUAL(m.energy_kj, 0xFFFF);
	CU_ASSERT_EQUAL(m.n_rr, 1);
	CU_ASSERT_EQUAL(m.rr[0], 1024);
}

static void test_empty(void)
{
	PacerHrMeasurement m;

	pacer_test_poison(&m, sizeof(m));
	CU_ASSERT_EQUAL(pacer_hr_measurement_decode(NULL, 0, &m), -EBADMSG);
	CU_ASSERT_TRUE(pacer_test_is_poisoned(&m, sizeof(m)));
}

static void test_contact_names(void)
{
	CU_ASSERT_STRING_EQUAL(pacer_hr_contact_to_string(PACER_HR_CONTACT_UNSUPPORTED),
			       "unsupported");
	CU_ASSERT_STRING_EQUAL(pacer_hr_contact_to_string(PACER_HR_CONTACT_NOT_DETECTED),
			       "not_detected");
	CU_ASSERT_STRING_EQUAL(pacer_hr_contact_to_string(PACER_HR_CONTACT_DETECTED), "detected");
}

static void test_body_sensor_location(void)
{
	static const char *const names[] = {"other", "chest", "wrist",   "finger",
					    "hand",  "ear_lobe", "foot", "reserved"};
	PacerBodySensorLocation loc;

	for (unsigned v = 0; v < 256; v++) {
		uint8_t b[2] = {(uint8_t)v, 0xee}; /* a trailing octet is ignored */

		CU_ASSERT_EQUAL_FATAL(pacer_body_sensor_location_decode(b, 2, &loc), 0);
		CU_ASSERT_STRING_EQUAL(pacer_body_sensor_location_to_string(loc),
				       names[v < 7 ? v : 7]);
	}
	loc = PACER_BODY_SENSOR_HAND;
	CU_ASSERT_EQUAL(pacer_body_sensor_location_decode(NULL, 0, &loc), -EBADMSG);
	CU_ASSERT_EQUAL(loc, PACER_BODY_SENSOR_HAND);
}

int main(void)
{
	static const PacerTest tests[] = {
		{"real payloads from Polar H7, H10 and Zwift Hub", test_real_payloads},
		{"RR raw to milliseconds", test_rr_milliseconds},
		{"every truncation of every real payload", test_every_truncation},
		{"every flag combination, reserved bits set", test_every_flag_combination},
		{"RR edge values 0, 0xFFFF, 1", test_rr_edge_values},
		{"most RR values at ATT_MTU 23", test_most_rr_at_default_mtu},
		{"most RR values in a 512-octet value", test_most_rr_in_largest_value},
		{"stray odd octet dropped and counted", test_stray_octet},
		{"uint16 HR with energy expended", test_energy_and_uint16},
		{"empty payload", test_empty},
		{"contact names", test_contact_names},
		{"body sensor location, all 256 values", test_body_sensor_location},
		{NULL, NULL},
	};

	return pacer_test_main("gatt-hr", tests);
}
