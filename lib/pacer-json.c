/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "pacer-json.h"

#include <errno.h>
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

/* '"', '\\', a control character or the NUL: what a JSON string cannot hold as it is. */
static bool needs_escape(unsigned char ch)
{
	return ch == '"' || ch == '\\' || ch < 0x20;
}

static void put_escaped(PacerJson *j, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;

	put_char(j, '"');
	for (;;) {
		size_t n = 0;

		/* the characters up to the next one to escape, copied at once */
		while (!needs_escape(p[n]))
			n++;
		put(j, (const char *)p, n);
		p += n;
		if (*p == '\0')
			break;
		if (*p == '"' || *p == '\\') {
			char esc[2] = {'\\', (char)*p};
			put(j, esc, 2);
		} else if (*p == '\n') {
			put(j, "\\n", 2);
		} else if (*p == '\t') {
			put(j, "\\t", 2);
		} else {
			char esc[6] = {'\\', 'u', '0', '0', hex[*p >> 4], hex[*p & 0xf]};
			put(j, esc, 6);
		}
		p++;
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

/* Writes v's decimal digits backwards, ending just before end; returns where they start. */
static char *put_digits_before(char *end, uint64_t v)
{
	do {
		*--end = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0);
	return end;
}

void pacer_json_int(PacerJson *j, int64_t v)
{
	char tmp[24], *end = tmp + sizeof(tmp), *s;
	/* the magnitude in unsigned arithmetic, INT64_MIN's too */
	uint64_t magnitude = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;

	s = put_digits_before(end, magnitude);
	if (v < 0)
		*--s = '-';
	before_value(j);
	put(j, s, (size_t)(end - s));
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

/* The most decimals format_fixed() writes; no caller in Pacer asks for more. */
#define EXACT_FIXED_DECIMALS 3

/*
 * a (0 <= a < 1e15, so below 2^50) in units of 10^-decimals, rounded as
 * printf's "%.*f" rounds: the exact binary value, ties to even. a is m * 2^-k
 * with m < 2^53 and k >= 3, and m * 10^3 < 2^63: all of it is exact in 64 bits.
 */
static uint64_t round_scaled(double a, unsigned decimals)
{
	static const uint64_t pow10[EXACT_FIXED_DECIMALS + 1] = {1, 10, 100, 1000};
	int e;
	uint64_t m = (uint64_t)ldexp(frexp(a, &e), 53); /* a = m * 2^(e - 53) */
	int k = 53 - e;
	uint64_t n = m * pow10[decimals], q, rest, half;

	if (k >= 64)
		return 0; /* n < 2^63 <= 2^(k - 1): less than half a unit */
	q = n >> k;
	rest = n & ((UINT64_C(1) << k) - 1);
	half = UINT64_C(1) << (k - 1);
	if (rest > half || (rest == half && (q & 1)))
		q++;
	return q;
}

/*
 * What sprintf(buf, "%.*f", decimals, v) writes, for a finite |v| < 1e15
 * and decimals <= EXACT_FIXED_DECIMALS, without printf's cost or its locale:
 * "-" for a set sign bit (-0.0 and -0.0001 too), the integer part, and '.'
 * and the decimals if any; at most 21 characters and the NUL. Returns the
 * length.
 */
static int format_fixed(char buf[static 22], double v, unsigned decimals)
{
	char tmp[22], *end = tmp + sizeof(tmp), *s = end;
	uint64_t q = round_scaled(fabs(v), decimals);
	size_t n;

	for (unsigned i = 0; i < decimals; i++) {
		*--s = (char)('0' + q % 10);
		q /= 10;
	}
	if (decimals > 0)
		*--s = '.';
	s = put_digits_before(s, q);
	if (signbit(v))
		*--s = '-';
	n = (size_t)(end - s);
	memcpy(buf, s, n);
	buf[n] = '\0';
	return (int)n;
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
	if (decimals <= EXACT_FIXED_DECIMALS) {
		n = format_fixed(tmp, v, decimals);
	} else {
		n = snprintf(tmp, sizeof(tmp), "%.*f", (int)decimals, v);
		fix_decimal_point(tmp);
	}
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
