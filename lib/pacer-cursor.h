/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * A bounds-checked little-endian reader over a byte buffer.
 *
 * Every GATT decoder reads through this and nothing else. Each reader checks
 * the remaining length before touching a byte and returns 0 or -EBADMSG; on
 * failure neither the cursor nor the output is changed.
 */

#include <stddef.h>
#include <stdint.h>

#define PACER_WARN_UNUSED __attribute__((warn_unused_result))

typedef struct {
	const uint8_t *data;
	size_t len;
	size_t pos;
} PacerCursor;

void pacer_cursor_init(PacerCursor *c, const uint8_t *data, size_t len);
size_t pacer_cursor_remaining(const PacerCursor *c);

PACER_WARN_UNUSED int pacer_cursor_skip(PacerCursor *c, size_t n);
PACER_WARN_UNUSED int pacer_cursor_read_u8(PacerCursor *c, uint8_t *ret);
PACER_WARN_UNUSED int pacer_cursor_read_u16le(PacerCursor *c, uint16_t *ret);
PACER_WARN_UNUSED int pacer_cursor_read_s16le(PacerCursor *c, int16_t *ret);
PACER_WARN_UNUSED int pacer_cursor_read_u24le(PacerCursor *c, uint32_t *ret);
PACER_WARN_UNUSED int pacer_cursor_read_u32le(PacerCursor *c, uint32_t *ret);
