/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* RSC Measurement (0x2A53): pacer_rsc_measurement_decode() against a model of the layout. */

#include "fuzz.h"
#include "pacer-gatt-rsc.h"

static void check(const uint8_t *data, size_t size, int r, const PacerRscMeasurement *m)
{
	size_t need, at = 4;
	uint8_t flags;

	if (size < 4) {
		fuzz_check(r == -EBADMSG);
		return;
	}
	flags = data[0];
	need = 4 + ((flags & 0x01) ? 2 : 0) + ((flags & 0x02) ? 4 : 0);
	if (size < need) {
		fuzz_check(r == -EBADMSG);
		return;
	}
	fuzz_check(r == 0);

	fuzz_check(m->speed_raw == fuzz_le(data + 1, 2));
	fuzz_check(m->cadence_raw == data[3]);
	fuzz_check(m->has_stride == ((flags & 0x01) != 0));
	if (m->has_stride) {
		fuzz_check(m->stride_cm == fuzz_le(data + at, 2));
		at += 2;
	}
	fuzz_check(m->has_distance == ((flags & 0x02) != 0));
	if (m->has_distance)
		fuzz_check(m->distance_dm == fuzz_le(data + at, 4));
	fuzz_check(m->running == ((flags & 0x04) != 0));
	fuzz_check(m->ignored_octets == size - need && m->ignored_octets < size);
	fuzz_check(pacer_rsc_speed_mps(m) >= 0 && pacer_rsc_distance_m(m) >= 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	PacerRscMeasurement m;
	PacerGattValue v;
	int r;

	fuzz_poison(&m, sizeof(m));
	r = pacer_rsc_measurement_decode(data, size, &m);
	if (r < 0) {
		fuzz_check(fuzz_is_documented_error(r));
		fuzz_check(fuzz_is_poisoned(&m, sizeof(m)));
	}
	check(data, size, r, &m);

	if (fuzz_gatt_decode(PACER_UUID_RSC_MEASUREMENT, PACER_GATT_RSC, data, size, r, &v)) {
		check(data, size, r, &v.rsc);
		fuzz_check_value_output(&v);
	}
	return 0;
}
