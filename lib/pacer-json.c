/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "pacer-json.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void pacer_json_init(PacerJson *j, char *buf, size_t cap)
{
	*j = (PacerJson){.buf = buf, .cap = cap};
	if (cap == 0)
		j->error = -ENOBUFS;
	else
		buf[0] = '\0';
}

static void put(PacerJson *j, const char *s, size_t n)
{
	if (j->error < 0)
		return;
	/* keep one octet for the terminating NUL */
	if (n >= j->cap - j->len) {
		j->error = -ENOBUFS;
		return;
	}
	memcpy(j->buf + j->len, s, n);
	j->len += n;
	j->buf[j->len] = '\0';
}

static void put_char(PacerJson *j, char ch)
{
	put(j, &ch, 1);
}

/* Separator before a value or key at the current depth. */
static void before_value(PacerJson *j)
{
	uint32_t bit = 1u << j->depth;

	if (j->after_key) {
		j->after_key = false;
		return;
	}
	if (j->has_items & bit)
		put_char(j, ',');
	j->has_items |= bit;
}

static void begin(PacerJson *j, char ch)
{
	before_value(j);
	if (j->depth + 1 >= PACER_JSON_MAX_DEPTH) {
		j->error = -EINVAL;
		return;
	}
	j->depth++;
	j->has_items &= ~(1u << j->depth);
	put_char(j, ch);
}

static void end(PacerJson *j, char ch)
{
	if (j->depth == 0 || j->after_key) {
		j->error = -EINVAL;
		return;
	}
	j->depth--;
	put_char(j, ch);
}

void pacer_json_begin_object(PacerJson *j)
{
	begin(j, '{');
}

void pacer_json_end_object(PacerJson *j)
{
	end(j, '}');
}

void pacer_json_begin_array(PacerJson *j)
{
	begin(j, '[');
}

void pacer_json_end_array(PacerJson *j)
{
	end(j, ']');
}

static void put_escaped(PacerJson *j, const char *s)
{
	static const char hex[] = "0123456789abcdef";

	put_char(j, '"');
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\') {
			char esc[2] = {'\\', (char)*p};
			put(j, esc, 2);
		} else if (*p == '\n') {
			put(j, "\\n", 2);
		} else if (*p == '\t') {
			put(j, "\\t", 2);
		} else if (*p < 0x20) {
			char esc[6] = {'\\', 'u', '0', '0', hex[*p >> 4], hex[*p & 0xf]};
			put(j, esc, 6);
		} else {
			put_char(j, (char)*p);
		}
	}
	put_char(j, '"');
}

void pacer_json_key(PacerJson *j, const char *key)
{
	before_value(j);
	put_escaped(j, key);
	put_char(j, ':');
	j->after_key = true;
}

void pacer_json_string(PacerJson *j, const char *s)
{
	before_value(j);
	put_escaped(j, s);
}

void pacer_json_int(PacerJson *j, int64_t v)
{
	char tmp[24];
	int n = snprintf(tmp, sizeof(tmp), "%" PRId64, v);

	before_value(j);
	put(j, tmp, (size_t)n);
}

void pacer_json_bool(PacerJson *j, bool v)
{
	before_value(j);
	if (v)
		put(j, "true", 4);
	else
		put(j, "false", 5);
}

void pacer_json_null(PacerJson *j)
{
	before_value(j);
	put(j, "null", 4);
}

/* Whatever the locale's decimal separator, JSON wants '.'. */
static void fix_decimal_point(char *s)
{
	for (; *s; s++) {
		if (*s == ',')
			*s = '.';
	}
}

void pacer_json_double(PacerJson *j, double v)
{
	char tmp[32];
	int n = 0;

	if (!isfinite(v)) {
		pacer_json_null(j);
		return;
	}
	if (v == floor(v) && fabs(v) < 1e15) {
		pacer_json_int(j, (int64_t)v);
		return;
	}
	/*
	 * 15 significant digits print every value that came from a short
	 * decimal as that decimal; only the others need 16 or 17.
	 */
	for (int prec = 15; prec <= 17; prec++) {
		n = snprintf(tmp, sizeof(tmp), "%.*g", prec, v);
		if (strtod(tmp, NULL) == v)
			break;
	}
	fix_decimal_point(tmp);
	before_value(j);
	put(j, tmp, (size_t)n);
}

void pacer_json_fixed(PacerJson *j, double v, unsigned decimals)
{
	char tmp[48];
	int n;

	if (!isfinite(v) || fabs(v) >= 1e15) {
		if (isfinite(v))
			pacer_json_double(j, v);
		else
			pacer_json_null(j);
		return;
	}
	if (decimals > 9)
		decimals = 9;
	n = snprintf(tmp, sizeof(tmp), "%.*f", (int)decimals, v);
	fix_decimal_point(tmp);
	if (decimals > 0) {
		while (n > 0 && tmp[n - 1] == '0')
			n--;
		if (n > 0 && tmp[n - 1] == '.')
			n--;
	}
	tmp[n] = '\0';
	if (strcmp(tmp, "-0") == 0)
		n = snprintf(tmp, sizeof(tmp), "0");
	before_value(j);
	put(j, tmp, (size_t)n);
}

static void band_bound(PacerJson *j, double v)
{
	if (v > 0)
		pacer_json_fixed(j, v, 1);
	else
		pacer_json_null(j);
}

void pacer_json_band(PacerJson *j, const char *key, bool has, double lo, double hi)
{
	pacer_json_key(j, key);
	if (!has) {
		pacer_json_null(j);
		return;
	}
	pacer_json_begin_array(j);
	band_bound(j, lo);
	band_bound(j, hi);
	pacer_json_end_array(j);
}

int pacer_json_finish(PacerJson *j)
{
	if (j->error < 0)
		return j->error;
	if (j->depth != 0 || j->after_key)
		return -EINVAL;
	return (int)j->len;
}
