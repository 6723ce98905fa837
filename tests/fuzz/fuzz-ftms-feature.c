/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fitness Machine Feature (0x2ACC): pacer_fitness_machine_feature_decode(). */

#include "fuzz.h"
#include "pacer-gatt-ftms.h"

static void check(const uint8_t *data, size_t size, int r, const PacerFitnessMachineFeature *f)
{
	if (size < 8) {
		fuzz_check(r == -EBADMSG);
		return;
	}
	fuzz_check(r == 0);
	/* reserved bits are kept, trailing octets ignored */
	fuzz_check(f->features == fuzz_le(data, 4));
	fuzz_check(f->targets == fuzz_le(data + 4, 4));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	PacerFitnessMachineFeature f;
	PacerGattValue v;
	int r;

	fuzz_poison(&f, sizeof(f));
	r = pacer_fitness_machine_feature_decode(data, size, &f);
	if (r < 0) {
		fuzz_check(fuzz_is_documented_error(r));
		fuzz_check(fuzz_is_poisoned(&f, sizeof(f)));
	}
	check(data, size, r, &f);

	if (fuzz_gatt_decode(PACER_UUID_FITNESS_MACHINE_FEATURE, PACER_GATT_FITNESS_MACHINE_FEATURE,
			     data, size, r, &v)) {
		check(data, size, r, &v.fitness_machine_feature);
		fuzz_check_value_output(&v);
	}
	return 0;
}
