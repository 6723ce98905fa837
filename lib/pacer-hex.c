/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "pacer-hex.h"

#include <errno.h>
#include <stdbool.h>

int pacer_hex_digit(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

static bool is_separator(char ch)
{
	return ch == ' ' || ch == '\t' || ch == ':' || ch == '-';
}

int pacer_hex_decode(const char *s, uint8_t *buf, size_t cap, size_t *ret_len,
		     size_t *ret_error_pos)
{
	size_t n = 0, i = 0;

	while (s[i] != '\0') {
		int hi, lo;

		if (is_separator(s[i])) {
			i++;
			continue;
		}
		hi = pacer_hex_digit(s[i]);
		lo = hi < 0 ? -1 : pacer_hex_digit(s[i + 1]);
		if (lo < 0) {
			/* point at the start of the broken pair */
			if (ret_error_pos)
				*ret_error_pos = i;
			return -EINVAL;
		}
		if (n == cap)
			return -E2BIG;
		buf[n++] = (uint8_t)(hi * 16 + lo);
		i += 2;
	}
	*ret_len = n;
	return 0;
}

void pacer_hex_encode(const uint8_t *data, size_t len, char *out, size_t out_size)
{
	static const char digits[] = "0123456789abcdef";
	size_t at = 0;

	if (out_size == 0)
		return;
	for (size_t i = 0; i < len && at + 3 <= out_size; i++) {
		if (i > 0) {
			if (at + 4 > out_size)
				break;
			out[at++] = ' ';
		}
		out[at++] = digits[data[i] >> 4];
		out[at++] = digits[data[i] & 0x0f];
	}
	out[at] = '\0';
}
