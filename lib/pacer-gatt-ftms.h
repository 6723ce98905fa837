/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Fitness Machine Service: Treadmill Data (0x2ACD), Fitness Machine Feature (0x2ACC). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One bit per decoded field of PacerTreadmillData, set when the field is present. */
typedef enum {
	PACER_TREADMILL_SPEED = 1u << 0,
	PACER_TREADMILL_AVG_SPEED = 1u << 1,
	PACER_TREADMILL_DISTANCE = 1u << 2,
	PACER_TREADMILL_INCLINE = 1u << 3,
	PACER_TREADMILL_RAMP = 1u << 4,
	PACER_TREADMILL_ELEVATION_GAIN = 1u << 5,
	PACER_TREADMILL_ELEVATION_LOSS = 1u << 6,
	PACER_TREADMILL_PACE = 1u << 7,
	PACER_TREADMILL_AVG_PACE = 1u << 8,
	PACER_TREADMILL_ENERGY_TOTAL = 1u << 9,
	PACER_TREADMILL_ENERGY_PER_HOUR = 1u << 10,
	PACER_TREADMILL_ENERGY_PER_MIN = 1u << 11,
	PACER_TREADMILL_HR = 1u << 12,
	PACER_TREADMILL_MET = 1u << 13,
	PACER_TREADMILL_ELAPSED = 1u << 14,
	PACER_TREADMILL_REMAINING = 1u << 15,
	PACER_TREADMILL_FORCE = 1u << 16,
	PACER_TREADMILL_POWER = 1u << 17,
} PacerTreadmillField;

typedef struct {
	uint16_t flags;             /* as sent, including reserved bits */
	uint32_t present;           /* PacerTreadmillField bits */
	uint16_t speed_raw;         /* 0.01 km/h */
	uint16_t avg_speed_raw;     /* 0.01 km/h */
	uint32_t distance_m;        /* 24-bit counter; some machines reset it when the belt stops */
	int16_t incline_raw;        /* 0.1 % */
	int16_t ramp_raw;           /* 0.1 degree */
	uint16_t elevation_gain_dm; /* 0.1 m */
	uint16_t elevation_loss_dm; /* 0.1 m */
	uint8_t pace_octets;        /* 1 (FTMS 1.0, 0.1 km/min) or 2 (seconds per 500 m) */
	uint16_t pace_raw;
	uint16_t avg_pace_raw;
	uint16_t energy_total_kcal;
	uint16_t energy_per_hour_kcal;
	uint8_t energy_per_min_kcal;
	uint8_t hr_bpm;
	uint8_t met_raw; /* 0.1 MET */
	uint16_t elapsed_s;
	uint16_t remaining_s;
	int16_t force_n;
	int16_t power_w;
	size_t ignored_octets; /* vendor octets after the last field */
} PacerTreadmillData;

/*
 * Decodes one Treadmill Data notification.
 *
 * Fields follow the flags in specification order. Flag bit 0 ("More Data") is
 * inverted: the instantaneous speed is present only when it is clear. Each
 * notification stands alone; a caller merges fields into its last known
 * state. The pace fields are one octet in FTMS 1.0 and two in the current
 * GATT supplement: when the length matches the two-octet layout exactly and
 * not the one-octet one, two octets are assumed, else one. Reserved flag bits
 * (13-15) and trailing vendor octets are ignored. The "not available" values
 * 0xFFFF (energy per hour) and 0xFF (energy per minute) leave the field absent.
 *
 * Returns 0, or -EBADMSG when the value is shorter than its flags promise.
 * *ret is written only on success.
 */
int pacer_treadmill_data_decode(const uint8_t *data, size_t len, PacerTreadmillData *ret);

double pacer_treadmill_speed_kmh(uint16_t raw);
/* Pace in s/km from a pace field as decoded (see pace_octets); < 0 when there is none. */
double pacer_treadmill_pace_s_per_km(uint16_t raw, uint8_t pace_octets);

typedef struct {
	uint32_t features; /* Fitness Machine Features */
	uint32_t targets;  /* Target Setting Features */
} PacerFitnessMachineFeature;

#define PACER_FTMS_FEATURE_N_BITS 17
#define PACER_FTMS_TARGET_N_BITS 17

/* Returns 0 or -EBADMSG (fewer than 8 octets). Reserved bits are kept in *ret. */
int pacer_fitness_machine_feature_decode(const uint8_t *data, size_t len,
					 PacerFitnessMachineFeature *ret);

/* JSON-style names of the defined bits, else NULL. */
const char *pacer_ftms_feature_bit_name(unsigned bit);
const char *pacer_ftms_target_bit_name(unsigned bit);
