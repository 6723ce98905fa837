/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Running Speed and Cadence Service: RSC Measurement (0x2A53), RSC Feature (0x2A54). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
	uint16_t speed_raw;  /* 1/256 m/s */
	uint8_t cadence_raw; /* per minute, as sent: steps or strides depending on the pod */
	bool has_stride;
	uint16_t stride_cm;
	bool has_distance;
	uint32_t distance_dm; /* cumulative; resets when the pod powers up */
	bool running;         /* flag bit 2; meaningful only if the feature says so */
	size_t ignored_octets;
} PacerRscMeasurement;

/*
 * Decodes one RSC Measurement value. Returns 0, or -EBADMSG when the value is
 * shorter than its flags promise. Reserved flag bits and trailing octets are
 * ignored. *ret is written only on success.
 */
int pacer_rsc_measurement_decode(const uint8_t *data, size_t len, PacerRscMeasurement *ret);

double pacer_rsc_speed_mps(const PacerRscMeasurement *m);
double pacer_rsc_stride_m(const PacerRscMeasurement *m);
double pacer_rsc_distance_m(const PacerRscMeasurement *m);

enum {
	PACER_RSC_FEATURE_STRIDE_LENGTH = 1u << 0,
	PACER_RSC_FEATURE_TOTAL_DISTANCE = 1u << 1,
	PACER_RSC_FEATURE_WALKING_RUNNING = 1u << 2,
	PACER_RSC_FEATURE_CALIBRATION = 1u << 3,
	PACER_RSC_FEATURE_MULTIPLE_LOCATIONS = 1u << 4,
};

#define PACER_RSC_FEATURE_N_BITS 5

/* Returns 0 or -EBADMSG (fewer than 2 octets); reserved bits are kept in *ret. */
int pacer_rsc_feature_decode(const uint8_t *data, size_t len, uint16_t *ret);

/* JSON-style name of feature bit `bit` (0..PACER_RSC_FEATURE_N_BITS-1), else NULL. */
const char *pacer_rsc_feature_bit_name(unsigned bit);
