/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "pacer-uuid.h"

#include <errno.h>
#include <string.h>

#include "pacer-hex.h"

static const PacerUuid base_uuid = {
	.bytes = {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0x80, 0x5f,
		  0x9b, 0x34, 0xfb},
};

/* Reads exactly 2*n hex digits from s into out; -EINVAL on any other character. */
static int parse_hex_bytes(const char *s, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int hi = pacer_hex_digit(s[2 * i]);
		int lo = hi < 0 ? -1 : pacer_hex_digit(s[2 * i + 1]);

		if (lo < 0)
			return -EINVAL;
		out[i] = (uint8_t)(hi * 16 + lo);
	}
	return 0;
}

static int parse_long(const char *s, PacerUuid *ret)
{
	/* groups of 4-2-2-2-6 octets separated by '-' */
	static const size_t groups[] = {4, 2, 2, 2, 6};
	PacerUuid u;
	size_t at = 0;

	for (size_t g = 0; g < sizeof(groups) / sizeof(groups[0]); g++) {
		if (g > 0 && *s++ != '-')
			return -EINVAL;
		if (parse_hex_bytes(s, u.bytes + at, groups[g]) < 0)
			return -EINVAL;
		s += 2 * groups[g];
		at += groups[g];
	}
	*ret = u;
	return 0;
}

int pacer_uuid_parse(const char *s, PacerUuid *ret)
{
	PacerUuid u = base_uuid;
	size_t len;

	if (!s)
		return -EINVAL;
	len = strlen(s);
	if (len == 36)
		return parse_long(s, ret);
	if (len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		s += 2;
		len -= 2;
	}
	if (len == 4) {
		if (parse_hex_bytes(s, u.bytes + 2, 2) < 0)
			return -EINVAL;
	} else if (len == 8) {
		if (parse_hex_bytes(s, u.bytes, 4) < 0)
			return -EINVAL;
	} else {
		return -EINVAL;
	}
	*ret = u;
	return 0;
}

void pacer_uuid_from_u16(uint16_t short_uuid, PacerUuid *ret)
{
	*ret = base_uuid;
	ret->bytes[2] = (uint8_t)(short_uuid >> 8);
	ret->bytes[3] = (uint8_t)(short_uuid & 0xff);
}

int pacer_uuid_to_u16(const PacerUuid *uuid, uint16_t *ret)
{
	if (uuid->bytes[0] != 0 || uuid->bytes[1] != 0 ||
	    memcmp(uuid->bytes + 4, base_uuid.bytes + 4, 12) != 0)
		return -ERANGE;
	*ret = (uint16_t)(uuid->bytes[2] << 8 | uuid->bytes[3]);
	return 0;
}

bool pacer_uuid_equal(const PacerUuid *a, const PacerUuid *b)
{
	return memcmp(a->bytes, b->bytes, sizeof(a->bytes)) == 0;
}

void pacer_uuid_format(const PacerUuid *uuid, char buf[PACER_UUID_STRING_SIZE])
{
	static const char digits[] = "0123456789abcdef";
	size_t at = 0;

	for (size_t i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			buf[at++] = '-';
		buf[at++] = digits[uuid->bytes[i] >> 4];
		buf[at++] = digits[uuid->bytes[i] & 0x0f];
	}
	buf[at] = '\0';
}
