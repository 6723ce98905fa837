/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "pacer-gatt-hr.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "pacer-cursor.h"

enum {
	HR_FLAG_UINT16 = 1u << 0,
	HR_FLAG_CONTACT_SHIFT = 1,
	HR_FLAG_ENERGY = 1u << 3,
	HR_FLAG_RR = 1u << 4,
};

static PacerHrContact contact_from_flags(uint8_t flags)
{
	switch ((flags >> HR_FLAG_CONTACT_SHIFT) & 0x3) {
	case 2:
		return PACER_HR_CONTACT_NOT_DETECTED;
	case 3:
		return PACER_HR_CONTACT_DETECTED;
	default:
		return PACER_HR_CONTACT_UNSUPPORTED;
	}
}

static int read_rr_list(PacerCursor *c, PacerHrMeasurement *m)
{
	size_t n = pacer_cursor_remaining(c) / 2;

	if (n == 0)
		return -EBADMSG;
	if (n > PACER_HR_RR_MAX)
		return -EBADMSG;
	for (size_t i = 0; i < n; i++) {
		if (pacer_cursor_read_u16le(c, &m->rr[i]) < 0)
			return -EBADMSG;
	}
	m->n_rr = n;
	return 0;
}

int pacer_hr_measurement_decode(const uint8_t *data, size_t len, PacerHrMeasurement *ret)
{
	/* all but the RR list, of which only n_rr are written: it is most of the struct */
	PacerHrMeasurement m;
	PacerCursor c;
	uint8_t flags;
	int r;

	memset(&m, 0, offsetof(PacerHrMeasurement, rr));
	m.ignored_octets = 0;
	pacer_cursor_init(&c, data, len);
	if (pacer_cursor_read_u8(&c, &flags) < 0)
		return -EBADMSG;

	if (flags & HR_FLAG_UINT16) {
		r = pacer_cursor_read_u16le(&c, &m.hr_bpm);
	} else {
		uint8_t hr8;

		r = pacer_cursor_read_u8(&c, &hr8);
		m.hr_bpm = hr8;
	}
	if (r < 0)
		return r;
	m.contact = contact_from_flags(flags);

	if (flags & HR_FLAG_ENERGY) {
		r = pacer_cursor_read_u16le(&c, &m.energy_kj);
		if (r < 0)
			return r;
		m.has_energy = true;
	}

	if (flags & HR_FLAG_RR) {
		r = read_rr_list(&c, &m);
		if (r < 0)
			return r;
	}
	m.ignored_octets = pacer_cursor_remaining(&c);

	memcpy(ret, &m, offsetof(PacerHrMeasurement, rr) + m.n_rr * sizeof(m.rr[0]));
	ret->ignored_octets = m.ignored_octets;
	return 0;
}

double pacer_hr_rr_to_ms(uint16_t raw)
{
	return (double)raw * 1000.0 / 1024.0;
}

const char *pacer_hr_contact_to_string(PacerHrContact contact)
{
	switch (contact) {
	case PACER_HR_CONTACT_UNSUPPORTED:
		return "unsupported";
	case PACER_HR_CONTACT_NOT_DETECTED:
		return "not_detected";
	case PACER_HR_CONTACT_DETECTED:
		return "detected";
	}
	return "unsupported";
}

int pacer_body_sensor_location_decode(const uint8_t *data, size_t len,
				      PacerBodySensorLocation *ret)
{
	PacerCursor c;
	uint8_t v;

	pacer_cursor_init(&c, data, len);
	if (pacer_cursor_read_u8(&c, &v) < 0)
		return -EBADMSG;
	*ret = v < PACER_BODY_SENSOR_RESERVED ? (PacerBodySensorLocation)v
					      : PACER_BODY_SENSOR_RESERVED;
	return 0;
}

const char *pacer_body_sensor_location_to_string(PacerBodySensorLocation location)
{
	switch (location) {
	case PACER_BODY_SENSOR_OTHER:
		return "other";
	case PACER_BODY_SENSOR_CHEST:
		return "chest";
	case PACER_BODY_SENSOR_WRIST:
		return "wrist";
	case PACER_BODY_SENSOR_FINGER:
		return "finger";
	case PACER_BODY_SENSOR_HAND:
		return "hand";
	case PACER_BODY_SENSOR_EAR_LOBE:
		return "ear_lobe";
	case PACER_BODY_SENSOR_FOOT:
		return "foot";
	case PACER_BODY_SENSOR_RESERVED:
		return "reserved";
	}
	return "reserved";
}
