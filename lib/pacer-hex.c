/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "pacer-hex.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

/*
 * What each character is to the decoder, one look-up per character: a digit
 * (flagged, with its value in the low four bits), a separator, or neither (0).
 */
enum {
	HEX_DIGIT = 0x10,
	HEX_SEPARATOR = 0x20,
};

#define D(v) (HEX_DIGIT | (v))

static const uint8_t hex_class[256] = {
	['0'] = D(0),  ['1'] = D(1),  ['2'] = D(2),  ['3'] = D(3),  ['4'] = D(4),  ['5'] = D(5),
	['6'] = D(6),  ['7'] = D(7),  ['8'] = D(8),  ['9'] = D(9),  ['a'] = D(10), ['b'] = D(11),
	['c'] = D(12), ['d'] = D(13), ['e'] = D(14), ['f'] = D(15), ['A'] = D(10), ['B'] = D(11),
	['C'] = D(12), ['D'] = D(13), ['E'] = D(14), ['F'] = D(15),

	[' '] = HEX_SEPARATOR, ['\t'] = HEX_SEPARATOR, [':'] = HEX_SEPARATOR, ['-'] = HEX_SEPARATOR,
};

#undef D

static unsigned class_of(char ch)
{
	return hex_class[(unsigned char)ch];
}

/*
 * "hh hh hh", the layout pacer_hex_encode() writes and captures hold, pair by
 * pair with no branch per character: false for any other text (or more than
 * cap bytes), which the general loop then decodes or reports.
 */
static bool decode_spaced_pairs(const char *s, size_t n, uint8_t *buf, size_t cap,
				size_t *ret_len)
{
	size_t count = n / 3 + 1;
	unsigned digits = HEX_DIGIT;

	if (n % 3 != 2 || count > cap)
		return false;
	for (size_t k = 0;; k++, s += 3) {
		unsigned hi = class_of(s[0]), lo = class_of(s[1]);

		digits &= hi & lo;
		buf[k] = (uint8_t)((hi & 0x0f) << 4 | (lo & 0x0f));
		if (k + 1 == count)
			break;
		if (s[2] != ' ')
			return false;
	}
	if (!digits)
		return false;
	*ret_len = count;
	return true;
}

int pacer_hex_decode_n(const char *s, size_t n, uint8_t *buf, size_t cap, size_t *ret_len,
		       size_t *ret_error_pos)
{
	size_t len = 0, i = 0;

	if (decode_spaced_pairs(s, n, buf, cap, ret_len))
		return 0;
	while (i < n) {
		unsigned hi = class_of(s[i]), lo;

		if (hi == HEX_SEPARATOR) {
			i++;
			continue;
		}
		lo = i + 1 < n ? class_of(s[i + 1]) : 0;
		if (!(hi & lo & HEX_DIGIT)) {
			/* point at the start of the broken pair */
			if (ret_error_pos)
				*ret_error_pos = i;
			return -EINVAL;
		}
		if (len == cap)
			return -E2BIG;
		buf[len++] = (uint8_t)((hi & 0x0f) << 4 | (lo & 0x0f));
		i += 2;
	}
	*ret_len = len;
	return 0;
}

int pacer_hex_decode(const char *s, uint8_t *buf, size_t cap, size_t *ret_len,
		     size_t *ret_error_pos)
{
	return pacer_hex_decode_n(s, strlen(s), buf, cap, ret_len, ret_error_pos);
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
