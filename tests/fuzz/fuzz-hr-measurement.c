/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Heart Rate Measurement (0x2A37): pacer_hr_measurement_decode() against a model of the layout. */

#include "fuzz.h"
#include "pacer-gatt-hr.h"

/* Checks a decode result (r, *m) against the layout the flags promise. */
static void check(const uint8_t *data, size_t size, int r, const PacerHrMeasurement *m)
{
	size_t hr_octets, need, rest, n_rr = 0;
	uint8_t flags;

	if (size == 0) {
		fuzz_check(r == -EBADMSG);
		return;
	}
	flags = data[0];
	hr_octets = (flags & 0x01) ? 2 : 1;
	need = 1 + hr_octets + ((flags & 0x08) ? 2 : 0);
	rest = size >= need ? size - need : 0;
	if (flags & 0x10)
		n_rr = rest / 2;
	/* More than PACER_HR_RR_MAX intervals cannot fit one ATT value (512 octets). */
	if (size < need || ((flags & 0x10) && (n_rr == 0 || n_rr > PACER_HR_RR_MAX))) {
		fuzz_check(r == -EBADMSG);
		return;
	}
	fuzz_check(r == 0);

	fuzz_check(m->hr_bpm == fuzz_le(data + 1, hr_octets));
	switch ((flags >> 1) & 3) {
	case 2:
		fuzz_check(m->contact == PACER_HR_CONTACT_NOT_DETECTED);
		break;
	case 3:
		fuzz_check(m->contact == PACER_HR_CONTACT_DETECTED);
		break;
	default:
		fuzz_check(m->contact == PACER_HR_CONTACT_UNSUPPORTED);
	}
	fuzz_check(m->has_energy == ((flags & 0x08) != 0));
	if (m->has_energy)
		fuzz_check(m->energy_kj == fuzz_le(data + 1 + hr_octets, 2));
	fuzz_check(m->n_rr == n_rr && m->n_rr <= PACER_HR_RR_MAX && 2 * m->n_rr <= size);
	for (size_t i = 0; i < m->n_rr; i++)
		fuzz_check(m->rr[i] == fuzz_le(data + need + 2 * i, 2));
	fuzz_check(m->ignored_octets == rest - 2 * n_rr && m->ignored_octets < size);
	if (flags & 0x10)
		fuzz_check(m->ignored_octets <= 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	PacerHrMeasurement m;
	PacerGattValue v;
	int r;

	fuzz_poison(&m, sizeof(m));
	r = pacer_hr_measurement_decode(data, size, &m);
	if (r < 0) {
		fuzz_check(fuzz_is_documented_error(r));
		fuzz_check(fuzz_is_poisoned(&m, sizeof(m)));
	}
	check(data, size, r, &m);
	fuzz_check(pacer_hr_contact_to_string(r == 0 ? m.contact : PACER_HR_CONTACT_UNSUPPORTED));

	if (fuzz_gatt_decode(PACER_UUID_HEART_RATE_MEASUREMENT, PACER_GATT_HEART_RATE, data, size,
			     r, &v)) {
		check(data, size, r, &v.hr);
		fuzz_check_value_output(&v);
	}
	return 0;
}
