/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "pacer-gatt-ftms.h"

#include <errno.h>

#include "pacer-cursor.h"

enum {
	TD_MORE_DATA = 1u << 0,
	TD_AVG_SPEED = 1u << 1,
	TD_DISTANCE = 1u << 2,
	TD_INCLINE = 1u << 3,
	TD_ELEVATION = 1u << 4,
	TD_PACE = 1u << 5,
	TD_AVG_PACE = 1u << 6,
	TD_ENERGY = 1u << 7,
	TD_HR = 1u << 8,
	TD_MET = 1u << 9,
	TD_ELAPSED = 1u << 10,
	TD_REMAINING = 1u << 11,
	TD_FORCE = 1u << 12,
};

#define ENERGY_PER_HOUR_UNAVAILABLE 0xFFFFu
#define ENERGY_PER_MIN_UNAVAILABLE 0xFFu

/* Length the flags promise, with each pace field taking pace_octets. */
static size_t expected_length(uint16_t flags, size_t pace_octets)
{
	size_t n = 2;

	n += (flags & TD_MORE_DATA) ? 0 : 2;
	n += (flags & TD_AVG_SPEED) ? 2 : 0;
	n += (flags & TD_DISTANCE) ? 3 : 0;
	n += (flags & TD_INCLINE) ? 4 : 0;
	n += (flags & TD_ELEVATION) ? 4 : 0;
	n += (flags & TD_PACE) ? pace_octets : 0;
	n += (flags & TD_AVG_PACE) ? pace_octets : 0;
	n += (flags & TD_ENERGY) ? 5 : 0;
	n += (flags & TD_HR) ? 1 : 0;
	n += (flags & TD_MET) ? 1 : 0;
	n += (flags & TD_ELAPSED) ? 2 : 0;
	n += (flags & TD_REMAINING) ? 2 : 0;
	n += (flags & TD_FORCE) ? 4 : 0;
	return n;
}

static int read_pace(PacerCursor *c, uint8_t octets, uint16_t *ret)
{
	uint8_t v8;

	if (octets == 2)
		return pacer_cursor_read_u16le(c, ret);
	if (pacer_cursor_read_u8(c, &v8) < 0)
		return -EBADMSG;
	*ret = v8;
	return 0;
}

static int read_energy(PacerCursor *c, PacerTreadmillData *d)
{
	if (pacer_cursor_read_u16le(c, &d->energy_total_kcal) < 0 ||
	    pacer_cursor_read_u16le(c, &d->energy_per_hour_kcal) < 0 ||
	    pacer_cursor_read_u8(c, &d->energy_per_min_kcal) < 0)
		return -EBADMSG;
	d->present |= PACER_TREADMILL_ENERGY_TOTAL;
	if (d->energy_per_hour_kcal != ENERGY_PER_HOUR_UNAVAILABLE)
		d->present |= PACER_TREADMILL_ENERGY_PER_HOUR;
	if (d->energy_per_min_kcal != ENERGY_PER_MIN_UNAVAILABLE)
		d->present |= PACER_TREADMILL_ENERGY_PER_MIN;
	return 0;
}

/* Fields up to and including the pace fields. */
static int read_motion(PacerCursor *c, uint16_t flags, PacerTreadmillData *d)
{
	if (!(flags & TD_MORE_DATA)) {
		if (pacer_cursor_read_u16le(c, &d->speed_raw) < 0)
			return -EBADMSG;
		d->present |= PACER_TREADMILL_SPEED;
	}
	if (flags & TD_AVG_SPEED) {
		if (pacer_cursor_read_u16le(c, &d->avg_speed_raw) < 0)
			return -EBADMSG;
		d->present |= PACER_TREADMILL_AVG_SPEED;
	}
	if (flags & TD_DISTANCE) {
		if (pacer_cursor_read_u24le(c, &d->distance_m) < 0)
			return -EBADMSG;
		d->present |= PACER_TREADMILL_DISTANCE;
	}
	if (flags & TD_INCLINE) {
		if (pacer_cursor_read_s16le(c, &d->incline_raw) < 0 ||
		    pacer_cursor_read_s16le(c, &d->ramp_raw) < 0)
			return -EBADMSG;
		d->present |= PACER_TREADMILL_INCLINE | PACER_TREADMILL_RAMP;
	}
	if (flags & TD_ELEVATION) {
		if (pacer_cursor_read_u16le(c, &d->elevation_gain_dm) < 0 ||
		    pacer_cursor_read_u16le(c, &d->elevation_loss_dm) < 0)
			return -EBADMSG;
		d->present |= PACER_TREADMILL_ELEVATION_GAIN | PACER_TREADMILL_ELEVATION_LOSS;
	}
	if (flags & TD_PACE) {
		if (read_pace(c, d->pace_octets, &d->pace_raw) < 0)
			return -EBADMSG;
		d->present |= PACER_TREADMILL_PACE;
	}
	if (flags & TD_AVG_PACE) {
		if (read_pace(c, d->pace_octets, &d->avg_pace_raw) < 0)
			return -EBADMSG;
		d->present |= PACER_TREADMILL_AVG_PACE;
	}
	return 0;
}

static int read_u8_field(PacerCursor *c, uint8_t *ret, uint32_t bit, uint32_t *present)
{
	if (pacer_cursor_read_u8(c, ret) < 0)
		return -EBADMSG;
	*present |= bit;
	return 0;
}

static int read_u16_field(PacerCursor *c, uint16_t *ret, uint32_t bit, uint32_t *present)
{
	if (pacer_cursor_read_u16le(c, ret) < 0)
		return -EBADMSG;
	*present |= bit;
	return 0;
}

/* Fields after the pace fields. */
static int read_effort(PacerCursor *c, uint16_t flags, PacerTreadmillData *d)
{
	if ((flags & TD_ENERGY) && read_energy(c, d) < 0)
		return -EBADMSG;
	if ((flags & TD_HR) && read_u8_field(c, &d->hr_bpm, PACER_TREADMILL_HR, &d->present) < 0)
		return -EBADMSG;
	if ((flags & TD_MET) && read_u8_field(c, &d->met_raw, PACER_TREADMILL_MET, &d->present) < 0)
		return -EBADMSG;
	if ((flags & TD_ELAPSED) &&
	    read_u16_field(c, &d->elapsed_s, PACER_TREADMILL_ELAPSED, &d->present) < 0)
		return -EBADMSG;
	if ((flags & TD_REMAINING) &&
	    read_u16_field(c, &d->remaining_s, PACER_TREADMILL_REMAINING, &d->present) < 0)
		return -EBADMSG;
	if (flags & TD_FORCE) {
		if (pacer_cursor_read_s16le(c, &d->force_n) < 0 ||
		    pacer_cursor_read_s16le(c, &d->power_w) < 0)
			return -EBADMSG;
		d->present |= PACER_TREADMILL_FORCE | PACER_TREADMILL_POWER;
	}
	return 0;
}

int pacer_treadmill_data_decode(const uint8_t *data, size_t len, PacerTreadmillData *ret)
{
	PacerTreadmillData d = {0};
	PacerCursor c;

	pacer_cursor_init(&c, data, len);
	if (pacer_cursor_read_u16le(&c, &d.flags) < 0)
		return -EBADMSG;

	d.pace_octets = 1;
	if ((d.flags & (TD_PACE | TD_AVG_PACE)) && len == expected_length(d.flags, 2))
		d.pace_octets = 2;

	if (read_motion(&c, d.flags, &d) < 0 || read_effort(&c, d.flags, &d) < 0)
		return -EBADMSG;
	d.ignored_octets = pacer_cursor_remaining(&c);

	*ret = d;
	return 0;
}

double pacer_treadmill_speed_kmh(uint16_t raw)
{
	return raw / 100.0;
}

double pacer_treadmill_pace_s_per_km(uint16_t raw, uint8_t pace_octets)
{
	if (raw == 0)
		return -1.0;
	if (pace_octets == 2)
		return 2.0 * raw; /* seconds per 500 m */
	return 600.0 / raw;       /* 0.1 km/min */
}

int pacer_fitness_machine_feature_decode(const uint8_t *data, size_t len,
					 PacerFitnessMachineFeature *ret)
{
	PacerFitnessMachineFeature f;
	PacerCursor c;

	pacer_cursor_init(&c, data, len);
	if (pacer_cursor_read_u32le(&c, &f.features) < 0 ||
	    pacer_cursor_read_u32le(&c, &f.targets) < 0)
		return -EBADMSG;
	*ret = f;
	return 0;
}

const char *pacer_ftms_feature_bit_name(unsigned bit)
{
	static const char *const names[PACER_FTMS_FEATURE_N_BITS] = {
		"average_speed",
		"cadence",
		"total_distance",
		"inclination",
		"elevation_gain",
		"pace",
		"step_count",
		"resistance_level",
		"stride_count",
		"expended_energy",
		"heart_rate_measurement",
		"metabolic_equivalent",
		"elapsed_time",
		"remaining_time",
		"power_measurement",
		"force_on_belt_and_power_output",
		"user_data_retention",
	};

	return bit < PACER_FTMS_FEATURE_N_BITS ? names[bit] : NULL;
}

const char *pacer_ftms_target_bit_name(unsigned bit)
{
	static const char *const names[PACER_FTMS_TARGET_N_BITS] = {
		"target_speed",
		"target_inclination",
		"target_resistance",
		"target_power",
		"target_heart_rate",
		"target_expended_energy",
		"target_step_number",
		"target_stride_number",
		"target_distance",
		"target_training_time",
		"target_time_in_two_hr_zones",
		"target_time_in_three_hr_zones",
		"target_time_in_five_hr_zones",
		"target_indoor_bike_simulation",
		"target_wheel_circumference",
		"target_spin_down_control",
		"target_cadence",
	};

	return bit < PACER_FTMS_TARGET_N_BITS ? names[bit] : NULL;
}
