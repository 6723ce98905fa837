/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "pacer-capture.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "pacer-hex.h"

#define MAX_SECONDS_DIGITS 10 /* about 317 years: far more than any run */
#define MAX_FRACTION_DIGITS 6 /* microseconds; further digits are ignored */
#define MAX_TOKEN 40
#define MAX_VALUE_TEXT (PACER_CAPTURE_MAX_VALUE * 3 + 64) /* hex text this long is too long */

static bool is_space(char ch)
{
	return ch == ' ' || ch == '\t';
}

static bool is_end(char ch)
{
	return ch == '\0' || ch == '\n' || ch == '\r';
}

/* The value of a decimal digit, or 10 and above for any other character. */
static unsigned digit_value(char ch)
{
	return (unsigned)(unsigned char)ch - '0';
}

static bool is_digit(char ch)
{
	return digit_value(ch) < 10;
}

static bool is_hex(char ch)
{
	return pacer_hex_digit(ch) >= 0;
}

static int fail(PacerCaptureError *err, size_t at, const char *what)
{
	if (err) {
		err->column = at + 1;
		err->what = what;
	}
	return -EINVAL;
}

/* Parses "<digits>[.<digits>]" ending at a space; advances *at. */
static int parse_time(const char *line, size_t *at, uint64_t *ret_us, PacerCaptureError *err)
{
	/* the fraction's digits as an integer, times this for its number of digits */
	static const uint64_t fraction_scale[MAX_FRACTION_DIGITS + 1] = {
		1000000, 100000, 10000, 1000, 100, 10, 1,
	};
	uint64_t seconds = 0, frac = 0;
	size_t start = *at, i = start, n_frac = 0;
	unsigned d;

	/* too many digits are reported at the first one too many (seconds may wrap by then) */
	for (; (d = digit_value(line[i])) < 10; i++)
		seconds = seconds * 10 + d;
	if (i - start > MAX_SECONDS_DIGITS)
		return fail(err, start + MAX_SECONDS_DIGITS,
			    "a time in seconds of at most 10 digits");
	if (i == start)
		return fail(err, i, "a time in seconds (e.g. 12.250)");
	if (line[i] == '.') {
		for (i++; (d = digit_value(line[i])) < 10 && n_frac < MAX_FRACTION_DIGITS; i++) {
			frac = frac * 10 + d;
			n_frac++;
		}
		while (is_digit(line[i]))
			i++;
	}
	if (!is_space(line[i]))
		return fail(err, i, "a space after the time");
	*ret_us = seconds * 1000000 + frac * fraction_scale[n_frac];
	*at = i;
	return 0;
}

int pacer_address_validate(const char *s, size_t len)
{
	if (len != PACER_ADDRESS_STRING_SIZE - 1)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		bool ok = (i % 3 == 2) ? s[i] == ':' : is_hex(s[i]);

		if (!ok)
			return -EINVAL;
	}
	return 0;
}

static size_t token_end(const char *line, size_t at)
{
	while (!is_end(line[at]) && !is_space(line[at]))
		at++;
	return at;
}

static size_t skip_spaces(const char *line, size_t at)
{
	while (is_space(line[at]))
		at++;
	return at;
}

/* Each hex digit in upper case; 0 for any other character. */
static const char hex_upper[256] = {
	['0'] = '0', ['1'] = '1', ['2'] = '2', ['3'] = '3', ['4'] = '4', ['5'] = '5', ['6'] = '6',
	['7'] = '7', ['8'] = '8', ['9'] = '9', ['a'] = 'A', ['b'] = 'B', ['c'] = 'C', ['d'] = 'D',
	['e'] = 'E', ['f'] = 'F', ['A'] = 'A', ['B'] = 'B', ['C'] = 'C', ['D'] = 'D', ['E'] = 'E',
	['F'] = 'F',
};

/*
 * A token pacer_address_validate() accepts, checked and upper-cased in one
 * pass: six pairs of hex digits with ':' between them, then a space or the end.
 */
static int parse_address(const char *line, size_t *at, char *out, PacerCaptureError *err)
{
	const char *p = line + *at;
	char end;

	/* each test stops at a NUL, so nothing past the end of the line is read */
	for (size_t i = 0; i < PACER_ADDRESS_STRING_SIZE - 1; i += 3) {
		if (!(out[i] = hex_upper[(unsigned char)p[i]]) ||
		    !(out[i + 1] = hex_upper[(unsigned char)p[i + 1]]))
			goto invalid;
		if (i + 2 == PACER_ADDRESS_STRING_SIZE - 1)
			break;
		if ((out[i + 2] = p[i + 2]) != ':')
			goto invalid;
	}
	end = p[PACER_ADDRESS_STRING_SIZE - 1];
	if (!is_end(end) && !is_space(end))
		goto invalid;
	out[PACER_ADDRESS_STRING_SIZE - 1] = '\0';
	*at += PACER_ADDRESS_STRING_SIZE - 1;
	return 0;
invalid:
	return fail(err, *at, "a Bluetooth address such as C0:FF:EE:00:00:01");
}

static int parse_uuid(const char *line, size_t *at, PacerUuid *out, PacerCaptureError *err)
{
	size_t start = *at, stop;
	const char *p = line + start;
	char token[MAX_TOKEN];
	int d0, d1, d2, d3;

	/* the 16-bit form, as in every capture Pacer writes: no copy (&& stops at a NUL) */
	if ((d0 = pacer_hex_digit(p[0])) >= 0 && (d1 = pacer_hex_digit(p[1])) >= 0 &&
	    (d2 = pacer_hex_digit(p[2])) >= 0 && (d3 = pacer_hex_digit(p[3])) >= 0 &&
	    (is_space(p[4]) || is_end(p[4]))) {
		pacer_uuid_from_u16((uint16_t)(d0 << 12 | d1 << 8 | d2 << 4 | d3), out);
		*at = start + 4;
		return 0;
	}
	stop = token_end(line, start);
	if (stop - start >= sizeof(token))
		return fail(err, start, "a characteristic UUID such as 2a37");
	memcpy(token, p, stop - start);
	token[stop - start] = '\0';
	if (pacer_uuid_parse(token, out) < 0)
		return fail(err, start, "a characteristic UUID such as 2a37");
	*at = stop;
	return 0;
}

/* "\0", "\n" or "\r\n": a line never hides a second one */
static bool is_line_end(const char *s)
{
	return s[0] == '\0' || (s[0] == '\n' && s[1] == '\0') ||
	       (s[0] == '\r' && s[1] == '\n' && s[2] == '\0');
}

/* The value, checked step by step to report the first fault where it is. */
static int parse_value_strictly(const char *line, size_t at, PacerCaptureRecord *rec,
				PacerCaptureError *err)
{
	size_t stop = at, pos = 0;
	int r;

	while (!is_end(line[stop]))
		stop++;
	if (!is_line_end(line + stop))
		return fail(err, stop, "the end of the line");
	while (stop > at && is_space(line[stop - 1]))
		stop--;
	if (stop == at)
		return fail(err, at, "the value's bytes in hex");
	if (stop - at >= MAX_VALUE_TEXT)
		return fail(err, at, "at most 512 bytes of hex");
	r = pacer_hex_decode_n(line + at, stop - at, rec->value, sizeof(rec->value), &rec->len,
			       &pos);
	if (r == -E2BIG)
		return fail(err, at, "at most 512 bytes of hex");
	if (r < 0)
		return fail(err, at + pos, "hex digits in pairs");
	if (rec->len == 0)
		return fail(err, at, "the value's bytes in hex");
	return 0;
}

/*
 * The value: the rest of the line but its "\n" or "\r\n", decoded in one
 * pass. That text holds only hex digits and separators when the line is
 * good, and then the strict checks would find exactly this; anything else
 * (an empty value, a stray '\r', a lone digit, too much text) goes to them
 * for the message.
 */
static int parse_value(const char *line, size_t at, PacerCaptureRecord *rec,
		       PacerCaptureError *err)
{
	size_t stop = at + strlen(line + at);

	if (stop > at && line[stop - 1] == '\n') {
		stop--;
		if (stop > at && line[stop - 1] == '\r')
			stop--;
	}
	if (stop - at < MAX_VALUE_TEXT &&
	    pacer_hex_decode_n(line + at, stop - at, rec->value, sizeof(rec->value), &rec->len,
			       NULL) == 0 &&
	    rec->len > 0)
		return 0;
	return parse_value_strictly(line, at, rec, err);
}

int pacer_capture_parse_line(const char *line, PacerCaptureRecord *ret,
			     PacerCaptureError *ret_error)
{
	PacerCaptureRecord rec;
	size_t at = skip_spaces(line, 0);

	if (is_end(line[at]) || line[at] == '#')
		return 0;
	if (parse_time(line, &at, &rec.t_us, ret_error) < 0)
		return -EINVAL;
	at = skip_spaces(line, at);
	if (parse_address(line, &at, rec.address, ret_error) < 0)
		return -EINVAL;
	if (!is_space(line[at]))
		return fail(ret_error, at, "a space after the address");
	at = skip_spaces(line, at);
	if (parse_uuid(line, &at, &rec.uuid, ret_error) < 0)
		return -EINVAL;
	if (!is_space(line[at]))
		return fail(ret_error, at, "the value's bytes in hex after the UUID");
	at = skip_spaces(line, at);
	if (parse_value(line, at, &rec, ret_error) < 0)
		return -EINVAL;
	/* the value's bytes only, not all 512 */
	ret->t_us = rec.t_us;
	memcpy(ret->address, rec.address, sizeof(ret->address));
	ret->uuid = rec.uuid;
	ret->len = rec.len;
	memcpy(ret->value, rec.value, rec.len);
	return 1;
}
