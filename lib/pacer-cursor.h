/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * A bounds-checked little-endian reader over a byte buffer.
 *
 * Every GATT decoder reads through this and nothing else. Each reader checks
 * the remaining length before touching a byte and returns 0 or -EBADMSG; on
 * failure neither the cursor nor the output is changed.
 *
 * All inline: decoders read a payload a few bytes at a time, and a call per
 * byte cost more than the reading.
 */

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#define PACER_WARN_UNUSED __attribute__((warn_unused_result))

typedef struct {
	const uint8_t *data;
	size_t len;
	size_t pos;
} PacerCursor;

static inline void pacer_cursor_init(PacerCursor *c, const uint8_t *data, size_t len)
{
	c->data = len > 0 ? data : NULL;
	c->len = c->data ? len : 0;
	c->pos = 0;
}

static inline size_t pacer_cursor_remaining(const PacerCursor *c)
{
	return c->len - c->pos;
}

PACER_WARN_UNUSED static inline int pacer_cursor_skip(PacerCursor *c, size_t n)
{
	if (pacer_cursor_remaining(c) < n)
		return -EBADMSG;
	c->pos += n;
	return 0;
}

/* Assembles n (1 to 4) octets, least significant first; the only place that does. */
PACER_WARN_UNUSED static inline int pacer_cursor_read_le(PacerCursor *c, size_t n, uint32_t *ret)
{
	uint32_t v = 0;

	if (pacer_cursor_remaining(c) < n)
		return -EBADMSG;
	for (size_t i = 0; i < n; i++)
		v |= (uint32_t)c->data[c->pos + i] << (8 * i);
	c->pos += n;
	*ret = v;
	return 0;
}

PACER_WARN_UNUSED static inline int pacer_cursor_read_u8(PacerCursor *c, uint8_t *ret)
{
	uint32_t v;
	int r = pacer_cursor_read_le(c, 1, &v);

	if (r < 0)
		return r;
	*ret = (uint8_t)v;
	return 0;
}

PACER_WARN_UNUSED static inline int pacer_cursor_read_u16le(PacerCursor *c, uint16_t *ret)
{
	uint32_t v;
	int r = pacer_cursor_read_le(c, 2, &v);

	if (r < 0)
		return r;
	*ret = (uint16_t)v;
	return 0;
}

PACER_WARN_UNUSED static inline int pacer_cursor_read_s16le(PacerCursor *c, int16_t *ret)
{
	uint16_t v;
	int r = pacer_cursor_read_u16le(c, &v);

	if (r < 0)
		return r;
	/* two's complement without relying on implementation-defined casts */
	*ret = v >= 0x8000u ? (int16_t)((int32_t)v - 0x10000) : (int16_t)v;
	return 0;
}

PACER_WARN_UNUSED static inline int pacer_cursor_read_u24le(PacerCursor *c, uint32_t *ret)
{
	return pacer_cursor_read_le(c, 3, ret);
}

PACER_WARN_UNUSED static inline int pacer_cursor_read_u32le(PacerCursor *c, uint32_t *ret)
{
	return pacer_cursor_read_le(c, 4, ret);
}
