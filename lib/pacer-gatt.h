/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The GATT characteristics Pacer decodes, and one entry point for all of them. */

#include <stddef.h>
#include <stdint.h>

#include "pacer-gatt-battery.h"
#include "pacer-gatt-ftms.h"
#include "pacer-gatt-hr.h"
#include "pacer-gatt-rsc.h"

enum {
	PACER_UUID_HEART_RATE_SERVICE = 0x180D,
	PACER_UUID_RSC_SERVICE = 0x1814,
	PACER_UUID_FITNESS_MACHINE_SERVICE = 0x1826,
	PACER_UUID_BATTERY_SERVICE = 0x180F,
	PACER_UUID_HEART_RATE_MEASUREMENT = 0x2A37,
	PACER_UUID_BODY_SENSOR_LOCATION = 0x2A38,
	PACER_UUID_RSC_MEASUREMENT = 0x2A53,
	PACER_UUID_RSC_FEATURE = 0x2A54,
	PACER_UUID_FITNESS_MACHINE_FEATURE = 0x2ACC,
	PACER_UUID_TREADMILL_DATA = 0x2ACD,
	PACER_UUID_BATTERY_LEVEL = 0x2A19,
};

typedef enum {
	PACER_GATT_HEART_RATE,
	PACER_GATT_BODY_SENSOR_LOCATION,
	PACER_GATT_RSC,
	PACER_GATT_RSC_FEATURE,
	PACER_GATT_TREADMILL,
	PACER_GATT_FITNESS_MACHINE_FEATURE,
	PACER_GATT_BATTERY,
} PacerGattKind;

typedef struct {
	PacerGattKind kind;
	union {
		PacerHrMeasurement hr;
		PacerBodySensorLocation body_sensor_location;
		PacerRscMeasurement rsc;
		uint16_t rsc_feature;
		PacerTreadmillData treadmill;
		PacerFitnessMachineFeature fitness_machine_feature;
		uint8_t battery_percent;
	};
} PacerGattValue;

/*
 * Decodes the value of characteristic `uuid16`. Returns 0, -ENOENT for a
 * characteristic Pacer has no decoder for, or the decoder's error (-EBADMSG,
 * -ERANGE). *ret is written only on success.
 */
int pacer_gatt_decode(uint16_t uuid16, const uint8_t *data, size_t len, PacerGattValue *ret);

/* The JSON "type" of a decoded value ("heart_rate", "rsc", ...). */
const char *pacer_gatt_kind_to_string(PacerGattKind kind);

/* A characteristic's name if Pacer decodes it, else NULL. */
const char *pacer_gatt_characteristic_name(uint16_t uuid16);

/* The UUIDs Pacer decodes, in a fixed order; *ret_n receives the count. */
const uint16_t *pacer_gatt_supported_uuids(size_t *ret_n);

/* A one-line English reason for a decoder's error code. */
const char *pacer_gatt_strerror(int error);
