/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Battery Service: Battery Level (0x2A19). */

#include <stddef.h>
#include <stdint.h>

/*
 * Returns 0, -EBADMSG (empty) or -ERANGE (101-255 are reserved).
 * Trailing octets are ignored. *ret is written only on success.
 */
int pacer_battery_level_decode(const uint8_t *data, size_t len, uint8_t *ret_percent);
