/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* RSC Feature (0x2A54): pacer_rsc_feature_decode(). */

#include "fuzz.h"
#include "pacer-gatt-rsc.h"

static void check(const uint8_t *data, size_t size, int r, const uint16_t *features)
{
	if (size < 2) {
		fuzz_check(r == -EBADMSG);
		return;
	}
	fuzz_check(r == 0);
	/* reserved bits are kept, trailing octets ignored */
	fuzz_check(*features == fuzz_le(data, 2));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	PacerGattValue v;
	uint16_t features;
	int r;

	fuzz_poison(&features, sizeof(features));
	r = pacer_rsc_feature_decode(data, size, &features);
	if (r < 0) {
		fuzz_check(fuzz_is_documented_error(r));
		fuzz_check(fuzz_is_poisoned(&features, sizeof(features)));
	}
	check(data, size, r, &features);

	if (fuzz_gatt_decode(PACER_UUID_RSC_FEATURE, PACER_GATT_RSC_FEATURE, data, size, r, &v)) {
		check(data, size, r, &v.rsc_feature);
		fuzz_check_value_output(&v);
	}
	return 0;
}
