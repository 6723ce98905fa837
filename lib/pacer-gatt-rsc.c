/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "pacer-gatt-rsc.h"

#include <errno.h>

#include "pacer-cursor.h"

enum {
	RSC_FLAG_STRIDE = 1u << 0,
	RSC_FLAG_DISTANCE = 1u << 1,
	RSC_FLAG_RUNNING = 1u << 2,
};

int pacer_rsc_measurement_decode(const uint8_t *data, size_t len, PacerRscMeasurement *ret)
{
	PacerRscMeasurement m = {0};
	PacerCursor c;
	uint32_t head;
	uint8_t flags;

	/* flags (8 bits), speed (16) and cadence (8): the fixed part, in one read */
	pacer_cursor_init(&c, data, len);
	if (pacer_cursor_read_u32le(&c, &head) < 0)
		return -EBADMSG;
	flags = (uint8_t)(head & 0xff);
	m.speed_raw = (uint16_t)(head >> 8 & 0xffff);
	m.cadence_raw = (uint8_t)(head >> 24);

	if (flags & RSC_FLAG_STRIDE) {
		if (pacer_cursor_read_u16le(&c, &m.stride_cm) < 0)
			return -EBADMSG;
		m.has_stride = true;
	}
	if (flags & RSC_FLAG_DISTANCE) {
		if (pacer_cursor_read_u32le(&c, &m.distance_dm) < 0)
			return -EBADMSG;
		m.has_distance = true;
	}
	m.running = (flags & RSC_FLAG_RUNNING) != 0;
	m.ignored_octets = pacer_cursor_remaining(&c);

	*ret = m;
	return 0;
}

double pacer_rsc_speed_mps(const PacerRscMeasurement *m)
{
	return m->speed_raw / 256.0;
}

double pacer_rsc_stride_m(const PacerRscMeasurement *m)
{
	return m->stride_cm / 100.0;
}

double pacer_rsc_distance_m(const PacerRscMeasurement *m)
{
	return m->distance_dm / 10.0;
}

int pacer_rsc_feature_decode(const uint8_t *data, size_t len, uint16_t *ret)
{
	PacerCursor c;

	pacer_cursor_init(&c, data, len);
	if (pacer_cursor_read_u16le(&c, ret) < 0)
		return -EBADMSG;
	return 0;
}

const char *pacer_rsc_feature_bit_name(unsigned bit)
{
	static const char *const names[PACER_RSC_FEATURE_N_BITS] = {
		"stride_length", "total_distance", "walking_running", "calibration",
		"multiple_sensor_locations",
	};

	return bit < PACER_RSC_FEATURE_N_BITS ? names[bit] : NULL;
}
