/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "pacer-gatt-battery.h"

#include <errno.h>

#include "pacer-cursor.h"

int pacer_battery_level_decode(const uint8_t *data, size_t len, uint8_t *ret_percent)
{
	PacerCursor c;
	uint8_t v;

	pacer_cursor_init(&c, data, len);
	if (pacer_cursor_read_u8(&c, &v) < 0)
		return -EBADMSG;
	if (v > 100)
		return -ERANGE;
	*ret_percent = v;
	return 0;
}
