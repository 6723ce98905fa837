/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Body Sensor Location (0x2A38): pacer_body_sensor_location_decode(). */

#include "fuzz.h"
#include "pacer-gatt-hr.h"

static void check(const uint8_t *data, size_t size, int r, const PacerBodySensorLocation *l)
{
	if (size == 0) {
		fuzz_check(r == -EBADMSG);
		return;
	}
	fuzz_check(r == 0);
	/* 0-6 as sent, 7-255 reserved; trailing octets ignored */
	if (data[0] < PACER_BODY_SENSOR_RESERVED)
		fuzz_check((unsigned)*l == data[0]);
	else
		fuzz_check(*l == PACER_BODY_SENSOR_RESERVED);
	fuzz_check(pacer_body_sensor_location_to_string(*l));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	PacerBodySensorLocation l;
	PacerGattValue v;
	int r;

	fuzz_poison(&l, sizeof(l));
	r = pacer_body_sensor_location_decode(data, size, &l);
	if (r < 0) {
		fuzz_check(fuzz_is_documented_error(r));
		fuzz_check(fuzz_is_poisoned(&l, sizeof(l)));
	}
	check(data, size, r, &l);

	if (fuzz_gatt_decode(PACER_UUID_BODY_SENSOR_LOCATION, PACER_GATT_BODY_SENSOR_LOCATION, data,
			     size, r, &v)) {
		check(data, size, r, &v.body_sensor_location);
		fuzz_check_value_output(&v);
	}
	return 0;
}
