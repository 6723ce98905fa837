/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "pacer-capture.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "pacer-hex.h"

#define MAX_SECONDS_DIGITS 10 /* about 317 years: far more than any run */
#define MAX_TOKEN 40

static bool is_space(char ch)
{
	return ch == ' ' || ch == '\t';
}

static bool is_end(char ch)
{
	return ch == '\0' || ch == '\n' || ch == '\r';
}

static bool is_hex(char ch)
{
	return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F');
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
	uint64_t seconds = 0, frac = 0, scale = 1000000;
	size_t i = *at, n_int = 0;

	for (; line[i] >= '0' && line[i] <= '9'; i++, n_int++) {
		if (n_int == MAX_SECONDS_DIGITS)
			return fail(err, i, "a time in seconds of at most 10 digits");
		seconds = seconds * 10 + (uint64_t)(line[i] - '0');
	}
	if (n_int == 0)
		return fail(err, i, "a time in seconds (e.g. 12.250)");
	if (line[i] == '.') {
		i++;
		for (; line[i] >= '0' && line[i] <= '9'; i++) {
			if (scale > 1) {
				scale /= 10;
				frac += (uint64_t)(line[i] - '0') * scale;
			}
		}
	}
	if (!is_space(line[i]))
		return fail(err, i, "a space after the time");
	*ret_us = seconds * 1000000 + frac;
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

static int parse_address(const char *line, size_t *at, char *out, PacerCaptureError *err)
{
	size_t start = *at, stop = token_end(line, start);

	if (pacer_address_validate(line + start, stop - start) < 0)
		return fail(err, start, "a Bluetooth address such as C0:FF:EE:00:00:01");
	for (size_t i = 0; i < stop - start; i++) {
		char ch = line[start + i];

		out[i] = (ch >= 'a' && ch <= 'f') ? (char)(ch - 'a' + 'A') : ch;
	}
	out[stop - start] = '\0';
	*at = stop;
	return 0;
}

static int parse_uuid(const char *line, size_t *at, PacerUuid *out, PacerCaptureError *err)
{
	size_t start = *at, stop = token_end(line, start);
	char token[MAX_TOKEN];

	if (stop - start >= sizeof(token))
		return fail(err, start, "a characteristic UUID such as 2a37");
	memcpy(token, line + start, stop - start);
	token[stop - start] = '\0';
	if (pacer_uuid_parse(token, out) < 0)
		return fail(err, start, "a characteristic UUID such as 2a37");
	*at = stop;
	return 0;
}

static int parse_value(const char *line, size_t at, PacerCaptureRecord *rec,
		       PacerCaptureError *err)
{
	char hex[PACER_CAPTURE_MAX_VALUE * 3 + 64];
	size_t stop = at, pos = 0;
	int r;

	while (!is_end(line[stop]))
		stop++;
	/* only "\n" or "\r\n" may follow: a line never hides a second one */
	if (line[stop] != '\0' && strcmp(line + stop, "\n") != 0 && strcmp(line + stop, "\r\n") != 0)
		return fail(err, stop, "the end of the line");
	while (stop > at && is_space(line[stop - 1]))
		stop--;
	if (stop == at)
		return fail(err, at, "the value's bytes in hex");
	if (stop - at >= sizeof(hex))
		return fail(err, at, "at most 512 bytes of hex");
	memcpy(hex, line + at, stop - at);
	hex[stop - at] = '\0';
	r = pacer_hex_decode(hex, rec->value, sizeof(rec->value), &rec->len, &pos);
	if (r == -E2BIG)
		return fail(err, at, "at most 512 bytes of hex");
	if (r < 0)
		return fail(err, at + pos, "hex digits in pairs");
	if (rec->len == 0)
		return fail(err, at, "the value's bytes in hex");
	return 0;
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
	*ret = rec;
	return 1;
}
