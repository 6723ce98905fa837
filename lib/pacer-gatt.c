/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "pacer-gatt.h"

#include <errno.h>

static const uint16_t supported[] = {
	PACER_UUID_HEART_RATE_MEASUREMENT, PACER_UUID_BODY_SENSOR_LOCATION,
	PACER_UUID_RSC_MEASUREMENT,        PACER_UUID_RSC_FEATURE,
	PACER_UUID_TREADMILL_DATA,         PACER_UUID_FITNESS_MACHINE_FEATURE,
	PACER_UUID_BATTERY_LEVEL,
};

int pacer_gatt_decode(uint16_t uuid16, const uint8_t *data, size_t len, PacerGattValue *ret)
{
	PacerGattKind kind;
	int r;

	/*
	 * Straight into the union: a decoder writes its output only on success,
	 * and the kind is set after it, so *ret is still untouched on failure.
	 * No copy of the whole value (the RR list makes it half a kilobyte).
	 */
	switch (uuid16) {
	case PACER_UUID_HEART_RATE_MEASUREMENT:
		kind = PACER_GATT_HEART_RATE;
		r = pacer_hr_measurement_decode(data, len, &ret->hr);
		break;
	case PACER_UUID_BODY_SENSOR_LOCATION:
		kind = PACER_GATT_BODY_SENSOR_LOCATION;
		r = pacer_body_sensor_location_decode(data, len, &ret->body_sensor_location);
		break;
	case PACER_UUID_RSC_MEASUREMENT:
		kind = PACER_GATT_RSC;
		r = pacer_rsc_measurement_decode(data, len, &ret->rsc);
		break;
	case PACER_UUID_RSC_FEATURE:
		kind = PACER_GATT_RSC_FEATURE;
		r = pacer_rsc_feature_decode(data, len, &ret->rsc_feature);
		break;
	case PACER_UUID_TREADMILL_DATA:
		kind = PACER_GATT_TREADMILL;
		r = pacer_treadmill_data_decode(data, len, &ret->treadmill);
		break;
	case PACER_UUID_FITNESS_MACHINE_FEATURE:
		kind = PACER_GATT_FITNESS_MACHINE_FEATURE;
		r = pacer_fitness_machine_feature_decode(data, len, &ret->fitness_machine_feature);
		break;
	case PACER_UUID_BATTERY_LEVEL:
		kind = PACER_GATT_BATTERY;
		r = pacer_battery_level_decode(data, len, &ret->battery_percent);
		break;
	default:
		return -ENOENT;
	}
	if (r < 0)
		return r;
	ret->kind = kind;
	return 0;
}

const char *pacer_gatt_kind_to_string(PacerGattKind kind)
{
	switch (kind) {
	case PACER_GATT_HEART_RATE:
		return "heart_rate";
	case PACER_GATT_BODY_SENSOR_LOCATION:
		return "body_sensor_location";
	case PACER_GATT_RSC:
		return "rsc";
	case PACER_GATT_RSC_FEATURE:
		return "rsc_feature";
	case PACER_GATT_TREADMILL:
		return "treadmill";
	case PACER_GATT_FITNESS_MACHINE_FEATURE:
		return "fitness_machine_feature";
	case PACER_GATT_BATTERY:
		return "battery";
	}
	return "unknown";
}

const char *pacer_gatt_characteristic_name(uint16_t uuid16)
{
	switch (uuid16) {
	case PACER_UUID_HEART_RATE_MEASUREMENT:
		return "Heart Rate Measurement";
	case PACER_UUID_BODY_SENSOR_LOCATION:
		return "Body Sensor Location";
	case PACER_UUID_RSC_MEASUREMENT:
		return "RSC Measurement";
	case PACER_UUID_RSC_FEATURE:
		return "RSC Feature";
	case PACER_UUID_TREADMILL_DATA:
		return "Treadmill Data";
	case PACER_UUID_FITNESS_MACHINE_FEATURE:
		return "Fitness Machine Feature";
	case PACER_UUID_BATTERY_LEVEL:
		return "Battery Level";
	default:
		return NULL;
	}
}

const uint16_t *pacer_gatt_supported_uuids(size_t *ret_n)
{
	*ret_n = sizeof(supported) / sizeof(supported[0]);
	return supported;
}

const char *pacer_gatt_strerror(int error)
{
	switch (error) {
	case -EBADMSG:
		return "payload is empty or shorter than its flags promise";
	case -ERANGE:
		return "value is outside the range the specification allows";
	case -ENOENT:
		return "no decoder for this characteristic";
	default:
		return "malformed payload";
	}
}
