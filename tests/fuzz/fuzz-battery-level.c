/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Battery Level (0x2A19): pacer_battery_level_decode(). */

#include "fuzz.h"
#include "pacer-gatt-battery.h"

static void check(const uint8_t *data, size_t size, int r, const uint8_t *percent)
{
	if (size == 0) {
		fuzz_check(r == -EBADMSG);
		return;
	}
	if (data[0] > 100) {
		fuzz_check(r == -ERANGE);
		return;
	}
	fuzz_check(r == 0);
	fuzz_check(*percent == data[0] && *percent <= 100);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	PacerGattValue v;
	uint8_t percent;
	int r;

	fuzz_poison(&percent, sizeof(percent));
	r = pacer_battery_level_decode(data, size, &percent);
	if (r < 0) {
		fuzz_check(fuzz_is_documented_error(r));
		fuzz_check(fuzz_is_poisoned(&percent, sizeof(percent)));
	}
	check(data, size, r, &percent);

	if (fuzz_gatt_decode(PACER_UUID_BATTERY_LEVEL, PACER_GATT_BATTERY, data, size, r, &v)) {
		check(data, size, r, &v.battery_percent);
		fuzz_check_value_output(&v);
	}
	return 0;
}
