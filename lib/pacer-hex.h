/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>

/*
 * Parses bytes written as hex: "168c1004", "16 8c 10 04", "16:8c:10:04" or
 * "16-8c-10-04" (any mix of spaces, tabs, ':' and '-' between groups; each
 * group an even number of digits). An empty or blank string is zero bytes.
 *
 * Returns 0; -EINVAL for another character or a group with an odd number of
 * digits (*ret_error_pos then gives the 0-based offset of the broken pair, if not NULL); -E2BIG
 * when more than `cap` bytes are given. *ret_len is written only on success.
 */
int pacer_hex_decode(const char *s, uint8_t *buf, size_t cap, size_t *ret_len,
		     size_t *ret_error_pos);

/* The same for the first n characters of s, which need no NUL after them. */
int pacer_hex_decode_n(const char *s, size_t n, uint8_t *buf, size_t cap, size_t *ret_len,
		       size_t *ret_error_pos);

/* The value of a hex digit (either case), or -1. Inline: parsers call it per character. */
static inline int pacer_hex_digit(char ch)
{
	/* unsigned wrap-around makes each range one comparison; ch | 0x20 lower-cases A-F */
	unsigned digit = (unsigned char)ch - (unsigned)'0';
	unsigned letter = ((unsigned char)ch | 0x20u) - (unsigned)'a';

	if (digit < 10)
		return (int)digit;
	return letter < 6 ? (int)letter + 10 : -1;
}

/* Writes len bytes as lower-case hex pairs separated by spaces; always NUL-terminates. */
void pacer_hex_encode(const uint8_t *data, size_t len, char *out, size_t out_size);
