/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Heart Rate Service: Heart Rate Measurement (0x2A37), Body Sensor Location (0x2A38). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The most RR intervals one notification can carry: an ATT attribute value
 * is at most 512 octets, less the flags and an 8-bit heart rate.
 */
#define PACER_HR_RR_MAX 255

typedef enum {
	PACER_HR_CONTACT_UNSUPPORTED,  /* flag value 0 or 1 */
	PACER_HR_CONTACT_NOT_DETECTED, /* 2: strap not on the skin */
	PACER_HR_CONTACT_DETECTED,     /* 3 */
} PacerHrContact;

typedef struct {
	uint16_t hr_bpm;
	PacerHrContact contact;
	bool has_energy;
	uint16_t energy_kj; /* cumulative; saturates at 0xFFFF */
	size_t n_rr;
	uint16_t rr[PACER_HR_RR_MAX]; /* units of 1/1024 s, oldest first */
	size_t ignored_octets;        /* a stray odd octet after the RR list */
} PacerHrMeasurement;

/*
 * Decodes one Heart Rate Measurement value.
 *
 * Returns 0, or -EBADMSG when the value is empty, shorter than its flags
 * promise (a set RR flag promises at least one interval), or longer than an
 * ATT value can be (more than PACER_HR_RR_MAX intervals). A single stray
 * octet after the RR list is dropped and counted in ignored_octets. *ret is
 * written only on success.
 */
int pacer_hr_measurement_decode(const uint8_t *data, size_t len, PacerHrMeasurement *ret);

/* RR interval in milliseconds (raw * 1000 / 1024). */
double pacer_hr_rr_to_ms(uint16_t raw);

const char *pacer_hr_contact_to_string(PacerHrContact contact);

typedef enum {
	PACER_BODY_SENSOR_OTHER,
	PACER_BODY_SENSOR_CHEST,
	PACER_BODY_SENSOR_WRIST,
	PACER_BODY_SENSOR_FINGER,
	PACER_BODY_SENSOR_HAND,
	PACER_BODY_SENSOR_EAR_LOBE,
	PACER_BODY_SENSOR_FOOT,
	PACER_BODY_SENSOR_RESERVED, /* 7-255 */
} PacerBodySensorLocation;

/* Returns 0 or -EBADMSG (empty). Trailing octets are ignored. */
int pacer_body_sensor_location_decode(const uint8_t *data, size_t len,
				      PacerBodySensorLocation *ret);

const char *pacer_body_sensor_location_to_string(PacerBodySensorLocation location);
