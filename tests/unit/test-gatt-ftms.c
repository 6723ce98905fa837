/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Treadmill Data (0x2ACD) and Fitness Machine Feature (0x2ACC); reference §1.8-1.9. */
#include <errno.h>
#include <stdbool.h>

#include "pacer-gatt-ftms.h"
#include "test-common.h"

/* Little-endian writer for building payloads in tests. */
typedef struct {
	uint8_t b[64];
	size_t n;
} Buf;

static void put(Buf *w, uint32_t v, size_t octets)
{
	for (size_t i = 0; i < octets; i++)
		w->b[w->n++] = (uint8_t)((v >> (8 * i)) & 0xff);
}

/* Distinct values for every field, so that a field read from the wrong place shows. */
enum {
	SPEED = 1234, AVG_SPEED = 1111, DISTANCE = 0x123456, INCLINE = -25, RAMP = 30,
	GAIN = 150, LOSS = 75, PACE1 = 42, AVG_PACE1 = 40, PACE2 = 150, AVG_PACE2 = 160,
	ENERGY = 321, ENERGY_H = 654, ENERGY_M = 11, HR = 150, MET = 98, ELAPSED = 3600,
	REMAINING = 600, FORCE = -12, POWER = 250,
};

static void build(uint16_t flags, size_t pace_octets, Buf *w)
{
	w->n = 0;
	put(w, flags, 2);
	if (!(flags & 0x0001))
		put(w, SPEED, 2);
	if (flags & 0x0002)
		put(w, AVG_SPEED, 2);
	if (flags & 0x0004)
		put(w, DISTANCE, 3);
	if (flags & 0x0008) {
		put(w, (uint16_t)INCLINE, 2);
		put(w, RAMP, 2);
	}
	if (flags & 0x0010) {
		put(w, GAIN, 2);
		put(w, LOSS, 2);
	}
	if (flags & 0x0020)
		put(w, pace_octets == 2 ? PACE2 : PACE1, pace_octets);
	if (flags & 0x0040)
		put(w, pace_octets == 2 ? AVG_PACE2 : AVG_PACE1, pace_octets);
	if (flags & 0x0080) {
		put(w, ENERGY, 2);
		put(w, ENERGY_H, 2);
		put(w, ENERGY_M, 1);
	}
	if (flags & 0x0100)
		put(w, HR, 1);
	if (flags & 0x0200)
		put(w, MET, 1);
	if (flags & 0x0400)
		put(w, ELAPSED, 2);
	if (flags & 0x0800)
		put(w, REMAINING, 2);
	if (flags & 0x1000) {
		put(w, (uint16_t)FORCE, 2);
		put(w, POWER, 2);
	}
}

static void check_fields(uint16_t flags, const PacerTreadmillData *d)
{
	bool two = d->pace_octets == 2;

	CU_ASSERT_EQUAL(d->flags, flags);
	CU_ASSERT_EQUAL(!!(d->present & PACER_TREADMILL_SPEED), !(flags & 0x0001));
	if (d->present & PACER_TREADMILL_SPEED)
		CU_ASSERT_EQUAL(d->speed_raw, SPEED);
	CU_ASSERT_EQUAL(!!(d->present & PACER_TREADMILL_AVG_SPEED), !!(flags & 0x0002));
	if (flags & 0x0002)
		CU_ASSERT_EQUAL(d->avg_speed_raw, AVG_SPEED);
	CU_ASSERT_EQUAL(!!(d->present & PACER_TREADMILL_DISTANCE), !!(flags & 0x0004));
	if (flags & 0x0004)
		CU_ASSERT_EQUAL(d->distance_m, DISTANCE);
	CU_ASSERT_EQUAL(!!(d->present & PACER_TREADMILL_INCLINE), !!(flags & 0x0008));
	CU_ASSERT_EQUAL(!!(d->present & PACER_TREADMILL_RAMP), !!(flags & 0x0008));
	if (flags & 0x0008) {
		CU_ASSERT_EQUAL(d->incline_raw, INCLINE);
		CU_ASSERT_EQUAL(d->ramp_raw, RAMP);
	}
	CU_ASSERT_EQUAL(!!(d->present & PACER_TREADMILL_ELEVATION_GAIN), !!(flags & 0x0010));
	if (flags & 0x0010) {
		CU_ASSERT_EQUAL(d->elevation_gain_dm, GAIN);
		CU_ASSERT_EQUAL(d->elevation_loss_dm, LOSS);
	}
	CU_ASSERT_EQUAL(!!(d->present & PACER_TREADMILL_PACE), !!(flags & 0x0020));
	if (flags & 0x0020)
		CU_ASSERT_EQUAL(d->pace_raw, two ? PACE2 : PACE1);
	CU_ASSERT_EQUAL(!!(d->present & PACER_TREADMILL_AVG_PACE), !!(flags & 0x0040));
	if (flags & 0x0040)
		CU_ASSERT_EQUAL(d->avg_pace_raw, two ? AVG_PACE2 : AVG_PACE1);
	CU_ASSERT_EQUAL(!!(d->present & PACER_TREADMILL_ENERGY_TOTAL), !!(flags & 0x0080));
	if (flags & 0x0080) {
		CU_ASSERT_EQUAL(d->energy_total_kcal, ENERGY);
		CU_ASSERT_EQUAL(d->energy_per_hour_kcal, ENERGY_H);
		CU_ASSERT_EQUAL(d->energy_per_min_kcal, ENERGY_M);
	}
	CU_ASSERT_EQUAL(!!(d->present & PACER_TREADMILL_HR), !!(flags & 0x0100));
	if (flags & 0x0100)
		CU_ASSERT_EQUAL(d->hr_bpm, HR);
	CU_ASSERT_EQUAL(!!(d->present & PACER_TREADMILL_MET), !!(flags & 0x0200));
	if (flags & 0x0200)
		CU_ASSERT_EQUAL(d->met_raw, MET);
	CU_ASSERT_EQUAL(!!(d->present & PACER_TREADMILL_ELAPSED), !!(flags & 0x0400));
	if (flags & 0x0400)
		CU_ASSERT_EQUAL(d->elapsed_s, ELAPSED);
	CU_ASSERT_EQUAL(!!(d->present & PACER_TREADMILL_REMAINING), !!(flags & 0x0800));
	if (flags & 0x0800)
		CU_ASSERT_EQUAL(d->remaining_s, REMAINING);
	CU_ASSERT_EQUAL(!!(d->present & PACER_TREADMILL_FORCE), !!(flags & 0x1000));
	CU_ASSERT_EQUAL(!!(d->present & PACER_TREADMILL_POWER), !!(flags & 0x1000));
	if (flags & 0x1000) {
		CU_ASSERT_EQUAL(d->force_n, FORCE);
		CU_ASSERT_EQUAL(d->power_w, POWER);
	}
}

/*
 * All 8192 combinations of the defined flag bits, each also with the reserved
 * bits 13-15 set: every field where its flag says, and every truncation
 * rejected with nothing written.
 */
static void test_every_flag_combination(void)
{
	for (uint32_t defined = 0; defined < 0x2000; defined++) {
		for (uint32_t reserved = 0; reserved < 2; reserved++) {
			uint16_t flags = (uint16_t)(defined | (reserved ? 0xE000u : 0));
			PacerTreadmillData d;
			Buf w;

			build(flags, 1, &w);
			CU_ASSERT_EQUAL_FATAL(pacer_treadmill_data_decode(w.b, w.n, &d), 0);
			CU_ASSERT_EQUAL(d.pace_octets, 1);
			CU_ASSERT_EQUAL(d.ignored_octets, 0);
			check_fields(flags, &d);
			for (size_t cut = 0; cut < w.n; cut++) {
				pacer_test_poison(&d, sizeof(d));
				CU_ASSERT_EQUAL(pacer_treadmill_data_decode(w.b, cut, &d), -EBADMSG);
				CU_ASSERT_TRUE(pacer_test_is_poisoned(&d, sizeof(d)));
			}
		}
	}
}

/* A packet whose length fits only the two-octet pace layout is read that way. */
static void test_two_octet_pace(void)
{
	static const uint16_t with_pace[] = {0x0020, 0x0040, 0x0060, 0x1fe0, 0x0464};

	for (size_t i = 0; i < sizeof(with_pace) / sizeof(with_pace[0]); i++) {
		PacerTreadmillData d;
		Buf w;

		build(with_pace[i], 2, &w);
		CU_ASSERT_EQUAL_FATAL(pacer_treadmill_data_decode(w.b, w.n, &d), 0);
		CU_ASSERT_EQUAL(d.pace_octets, 2);
		CU_ASSERT_EQUAL(d.ignored_octets, 0);
		check_fields(with_pace[i], &d);
	}
	PACER_TEST_DOUBLE_EQ(pacer_treadmill_pace_s_per_km(150, 2), 300.0);
	PACER_TEST_DOUBLE_EQ(pacer_treadmill_pace_s_per_km(42, 1), 600.0 / 42);
	CU_ASSERT_TRUE(pacer_treadmill_pace_s_per_km(0, 1) < 0);
	CU_ASSERT_TRUE(pacer_treadmill_pace_s_per_km(0, 2) < 0);
}

/*
 * Vendor octets after the fields: one-octet paces are kept unless the total
 * length happens to equal the two-octet layout (reference §1.8).
 */
static void test_pace_with_vendor_tail(void)
{
	PacerTreadmillData d;
	Buf w;

	build(0x0060, 1, &w); /* both pace fields: 2-octet layout is 2 longer */
	put(&w, 0xabcdef, 3);
	CU_ASSERT_EQUAL_FATAL(pacer_treadmill_data_decode(w.b, w.n, &d), 0);
	CU_ASSERT_EQUAL(d.pace_octets, 1);
	CU_ASSERT_EQUAL(d.ignored_octets, 3);
	check_fields(0x0060, &d);

	build(0x0020, 1, &w); /* one pace field and one vendor octet: ambiguous */
	put(&w, 0x77, 1);
	CU_ASSERT_EQUAL_FATAL(pacer_treadmill_data_decode(w.b, w.n, &d), 0);
	CU_ASSERT_EQUAL(d.pace_octets, 2);
	CU_ASSERT_EQUAL(d.ignored_octets, 0);
	CU_ASSERT_EQUAL(d.pace_raw, PACE1 | 0x77 << 8);
}

/* The CS-WP8 walking pad's worked packet (reference §1.8, nRF log 00:16:12.387). */
static void test_cs_wp8_packet(void)
{
	PacerTreadmillData d;
	uint8_t b[32];
	size_t len = pacer_test_hex("84 24 2c 01 31 00 00 02 00 00 00 00 3d 00 5b 00 00", b,
				    sizeof(b));

	CU_ASSERT_EQUAL_FATAL(pacer_treadmill_data_decode(b, len, &d), 0);
	CU_ASSERT_EQUAL(d.flags, 0x2484);
	CU_ASSERT_EQUAL(d.present,
			PACER_TREADMILL_SPEED | PACER_TREADMILL_DISTANCE |
				PACER_TREADMILL_ENERGY_TOTAL | PACER_TREADMILL_ENERGY_PER_HOUR |
				PACER_TREADMILL_ENERGY_PER_MIN | PACER_TREADMILL_ELAPSED);
	PACER_TEST_DOUBLE_EQ(pacer_treadmill_speed_kmh(d.speed_raw), 3.0);
	CU_ASSERT_EQUAL(d.distance_m, 49);
	CU_ASSERT_EQUAL(d.energy_total_kcal, 2);
	CU_ASSERT_EQUAL(d.energy_per_hour_kcal, 0);
	CU_ASSERT_EQUAL(d.energy_per_min_kcal, 0);
	CU_ASSERT_EQUAL(d.elapsed_s, 61);
	CU_ASSERT_EQUAL(d.ignored_octets, 3);

	/* shorter than the vendor tail: still fine; shorter than the fields: malformed */
	for (size_t cut = 0; cut < len; cut++) {
		int r;

		pacer_test_poison(&d, sizeof(d));
		r = pacer_treadmill_data_decode(b, cut, &d);
		if (cut >= 14) {
			CU_ASSERT_EQUAL(r, 0);
			CU_ASSERT_EQUAL(d.ignored_octets, cut - 14);
		} else {
			CU_ASSERT_EQUAL(r, -EBADMSG);
			CU_ASSERT_TRUE(pacer_test_is_poisoned(&d, sizeof(d)));
		}
	}
}

/* Energy per hour 0xFFFF and per minute 0xFF mean "not available" (CS-WP8 btsnoop). */
static void test_energy_not_available(void)
{
	PacerTreadmillData d;
	uint8_t b[16];
	size_t len = pacer_test_hex("80 00 c8 00 05 00 ff ff ff", b, sizeof(b));

	CU_ASSERT_EQUAL_FATAL(pacer_treadmill_data_decode(b, len, &d), 0);
	CU_ASSERT_TRUE(d.present & PACER_TREADMILL_ENERGY_TOTAL);
	CU_ASSERT_EQUAL(d.energy_total_kcal, 5);
	CU_ASSERT_FALSE(d.present & PACER_TREADMILL_ENERGY_PER_HOUR);
	CU_ASSERT_FALSE(d.present & PACER_TREADMILL_ENERGY_PER_MIN);
}

/* "More Data" set: no speed in this fragment; the rest still decodes. */
static void test_more_data_fragment(void)
{
	PacerTreadmillData d;
	uint8_t b[16];
	size_t len = pacer_test_hex("05 01 10 27 00 96", b, sizeof(b));

	CU_ASSERT_EQUAL_FATAL(pacer_treadmill_data_decode(b, len, &d), 0);
	CU_ASSERT_FALSE(d.present & PACER_TREADMILL_SPEED);
	CU_ASSERT_EQUAL(d.distance_m, 10000);
	CU_ASSERT_EQUAL(d.hr_bpm, 150);
	len = pacer_test_hex("01 00", b, sizeof(b));
	CU_ASSERT_EQUAL_FATAL(pacer_treadmill_data_decode(b, len, &d), 0);
	CU_ASSERT_EQUAL(d.present, 0);
}

static void test_24_bit_distance_maximum(void)
{
	PacerTreadmillData d;
	uint8_t b[16];
	size_t len = pacer_test_hex("04 00 00 00 ff ff ff", b, sizeof(b));

	CU_ASSERT_EQUAL_FATAL(pacer_treadmill_data_decode(b, len, &d), 0);
	CU_ASSERT_EQUAL(d.distance_m, 0xFFFFFFu);
}

static void test_empty_and_flags_only(void)
{
	PacerTreadmillData d;
	uint8_t b[2] = {0x00, 0x00};

	pacer_test_poison(&d, sizeof(d));
	CU_ASSERT_EQUAL(pacer_treadmill_data_decode(NULL, 0, &d), -EBADMSG);
	CU_ASSERT_EQUAL(pacer_treadmill_data_decode(b, 1, &d), -EBADMSG);
	/* flags 0 promise the speed */
	CU_ASSERT_EQUAL(pacer_treadmill_data_decode(b, 2, &d), -EBADMSG);
	CU_ASSERT_TRUE(pacer_test_is_poisoned(&d, sizeof(d)));
}

/* CS-WP8's Fitness Machine Feature read (reference §1.9, initial-capture.log). */
static void test_feature_real(void)
{
	PacerFitnessMachineFeature f;
	uint8_t b[16];
	size_t len = pacer_test_hex("44 12 00 00 01 00 00 00", b, sizeof(b));

	CU_ASSERT_EQUAL_FATAL(pacer_fitness_machine_feature_decode(b, len, &f), 0);
	CU_ASSERT_EQUAL(f.features, 0x1244);
	CU_ASSERT_EQUAL(f.targets, 0x1);
	for (size_t cut = 0; cut < len; cut++) {
		pacer_test_poison(&f, sizeof(f));
		CU_ASSERT_EQUAL(pacer_fitness_machine_feature_decode(b, cut, &f), -EBADMSG);
		CU_ASSERT_TRUE(pacer_test_is_poisoned(&f, sizeof(f)));
	}
	CU_ASSERT_STRING_EQUAL(pacer_ftms_feature_bit_name(2), "total_distance");
	CU_ASSERT_STRING_EQUAL(pacer_ftms_feature_bit_name(6), "step_count");
	CU_ASSERT_STRING_EQUAL(pacer_ftms_feature_bit_name(16), "user_data_retention");
	CU_ASSERT_PTR_NULL(pacer_ftms_feature_bit_name(17));
	CU_ASSERT_STRING_EQUAL(pacer_ftms_target_bit_name(0), "target_speed");
	CU_ASSERT_STRING_EQUAL(pacer_ftms_target_bit_name(16), "target_cadence");
	CU_ASSERT_PTR_NULL(pacer_ftms_target_bit_name(17));
}

static void test_feature_reserved_bits_kept(void)
{
	PacerFitnessMachineFeature f;
	uint8_t b[16];
	size_t len = pacer_test_hex("ff ff ff ff ff ff ff ff 00", b, sizeof(b));

	CU_ASSERT_EQUAL_FATAL(pacer_fitness_machine_feature_decode(b, len, &f), 0);
	CU_ASSERT_EQUAL(f.features, 0xFFFFFFFFu);
	CU_ASSERT_EQUAL(f.targets, 0xFFFFFFFFu);
}

int main(void)
{
	static const PacerTest tests[] = {
		{"every flag combination, reserved bits, truncations", test_every_flag_combination},
		{"two-octet pace layout", test_two_octet_pace},
		{"pace size with vendor octets", test_pace_with_vendor_tail},
		{"CS-WP8 walking pad packet", test_cs_wp8_packet},
		{"energy not available sentinels", test_energy_not_available},
		{"More Data fragment", test_more_data_fragment},
		{"24-bit distance maximum", test_24_bit_distance_maximum},
		{"empty and flags-only packets", test_empty_and_flags_only},
		{"fitness machine feature, real value", test_feature_real},
		{"fitness machine feature, reserved bits", test_feature_reserved_bits_kept},
		{NULL, NULL},
	};

	return pacer_test_main("gatt-ftms", tests);
}
