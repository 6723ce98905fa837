/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* FTMS Treadmill Data (0x2ACD): pacer_treadmill_data_decode() against a model of the layout. */

#include "fuzz.h"
#include "pacer-gatt-ftms.h"

#define N_GROUPS 13

/* Octets each flag bit brings, in field order; 0 marks a pace field (1 or 2 octets). */
static const uint8_t group_octets[N_GROUPS] = {2, 2, 3, 4, 4, 0, 0, 5, 1, 1, 2, 2, 4};

/* Bit 0 ("More Data") is inverted: speed is present when it is clear. */
static bool has_group(uint16_t flags, unsigned bit)
{
	return bit == 0 ? !(flags & 1u) : ((flags >> bit) & 1u) != 0;
}

static size_t length_for(uint16_t flags, size_t pace_octets)
{
	size_t n = 2;

	for (unsigned bit = 0; bit < N_GROUPS; bit++) {
		if (has_group(flags, bit))
			n += group_octets[bit] ? group_octets[bit] : pace_octets;
	}
	return n;
}

/* Checks one field group at p and returns the PacerTreadmillField bits it makes present. */
static uint32_t check_group(const PacerTreadmillData *d, unsigned bit, const uint8_t *p,
			    size_t pace)
{
	switch (bit) {
	case 0:
		fuzz_check(d->speed_raw == fuzz_le(p, 2));
		return PACER_TREADMILL_SPEED;
	case 1:
		fuzz_check(d->avg_speed_raw == fuzz_le(p, 2));
		return PACER_TREADMILL_AVG_SPEED;
	case 2:
		fuzz_check(d->distance_m == fuzz_le(p, 3));
		return PACER_TREADMILL_DISTANCE;
	case 3:
		fuzz_check((uint16_t)d->incline_raw == fuzz_le(p, 2));
		fuzz_check((uint16_t)d->ramp_raw == fuzz_le(p + 2, 2));
		return PACER_TREADMILL_INCLINE | PACER_TREADMILL_RAMP;
	case 4:
		fuzz_check(d->elevation_gain_dm == fuzz_le(p, 2));
		fuzz_check(d->elevation_loss_dm == fuzz_le(p + 2, 2));
		return PACER_TREADMILL_ELEVATION_GAIN | PACER_TREADMILL_ELEVATION_LOSS;
	case 5:
		fuzz_check(d->pace_raw == fuzz_le(p, pace));
		return PACER_TREADMILL_PACE;
	case 6:
		fuzz_check(d->avg_pace_raw == fuzz_le(p, pace));
		return PACER_TREADMILL_AVG_PACE;
	case 7:
		fuzz_check(d->energy_total_kcal == fuzz_le(p, 2));
		fuzz_check(d->energy_per_hour_kcal == fuzz_le(p + 2, 2));
		fuzz_check(d->energy_per_min_kcal == p[4]);
		/* 0xFFFF and 0xFF mean "not available" */
		return PACER_TREADMILL_ENERGY_TOTAL |
		       (fuzz_le(p + 2, 2) != 0xFFFF ? PACER_TREADMILL_ENERGY_PER_HOUR : 0) |
		       (p[4] != 0xFF ? PACER_TREADMILL_ENERGY_PER_MIN : 0);
	case 8:
		fuzz_check(d->hr_bpm == p[0]);
		return PACER_TREADMILL_HR;
	case 9:
		fuzz_check(d->met_raw == p[0]);
		return PACER_TREADMILL_MET;
	case 10:
		fuzz_check(d->elapsed_s == fuzz_le(p, 2));
		return PACER_TREADMILL_ELAPSED;
	case 11:
		fuzz_check(d->remaining_s == fuzz_le(p, 2));
		return PACER_TREADMILL_REMAINING;
	default:
		fuzz_check((uint16_t)d->force_n == fuzz_le(p, 2));
		fuzz_check((uint16_t)d->power_w == fuzz_le(p + 2, 2));
		return PACER_TREADMILL_FORCE | PACER_TREADMILL_POWER;
	}
}

static void check(const uint8_t *data, size_t size, int r, const PacerTreadmillData *d)
{
	size_t pace = 1, need, at = 2;
	uint32_t present = 0;
	uint16_t flags;

	if (size < 2) {
		fuzz_check(r == -EBADMSG);
		return;
	}
	flags = (uint16_t)fuzz_le(data, 2);
	/* two-octet pace only when the length matches that layout exactly */
	if ((flags & 0x60) && size == length_for(flags, 2))
		pace = 2;
	need = length_for(flags, pace);
	if (size < need) {
		fuzz_check(r == -EBADMSG);
		return;
	}
	fuzz_check(r == 0);

	fuzz_check(d->flags == flags);
	fuzz_check(d->pace_octets == pace);
	for (unsigned bit = 0; bit < N_GROUPS; bit++) {
		if (!has_group(flags, bit))
			continue;
		present |= check_group(d, bit, data + at, pace);
		at += group_octets[bit] ? group_octets[bit] : pace;
	}
	fuzz_check(at == need);
	fuzz_check(d->present == present);
	fuzz_check(d->ignored_octets == size - need && d->ignored_octets < size);
	if (d->present & PACER_TREADMILL_PACE)
		fuzz_check(pacer_treadmill_pace_s_per_km(d->pace_raw, d->pace_octets) != 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	PacerTreadmillData d;
	PacerGattValue v;
	int r;

	fuzz_poison(&d, sizeof(d));
	r = pacer_treadmill_data_decode(data, size, &d);
	if (r < 0) {
		fuzz_check(fuzz_is_documented_error(r));
		fuzz_check(fuzz_is_poisoned(&d, sizeof(d)));
	}
	check(data, size, r, &d);

	if (fuzz_gatt_decode(PACER_UUID_TREADMILL_DATA, PACER_GATT_TREADMILL, data, size, r, &v)) {
		check(data, size, r, &v.treadmill);
		fuzz_check_value_output(&v);
	}
	return 0;
}
