/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "pacer-json.h"

#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pacer-hex.h"

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

void pacer_json_key_quoted(PacerJson *j, const char *quoted, size_t len)
{
	before_value(j);
	put(j, quoted, len);
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

/*
 * What "%.15g" prints for v, without printf, when that reads back as v and
 * needs no exponent (1e-4 <= |v| < 1e15, not an integer): the decimal
 * m / 10^d with the fewest decimals d that is v once rounded to a double.
 * m and 10^d are exact doubles and the division rounds correctly, as
 * strtod does. Any decimal of at most 15 significant digits that reads back
 * as v is the one nearest to v (such decimals lie further apart than a
 * double's ulp), which is what "%.15g" prints, trailing zeros dropped.
 * Returns the length written into out (at least 24 octets), or 0.
 */
static int format_short(char *out, double v)
{
	static const double pow10[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7,
				       1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
	double a = fabs(v);
	char digits[24], *end = digits + sizeof(digits), *s;
	size_t n = 0, len;

	if (!(a >= 1e-4 && a < 1e15))
		return 0;
	for (unsigned d = 1; d <= 15; d++) {
		double m = nearbyint(a * pow10[d]);

		if (m >= 1e15)
			return 0; /* more than 15 significant digits */
		if (m / pow10[d] != a)
			continue;
		s = put_digits_before(end, (uint64_t)m);
		len = (size_t)(end - s);
		if (v < 0)
			out[n++] = '-';
		if (len <= d) {
			/* 0.000ddd */
			out[n++] = '0';
			out[n++] = '.';
			for (size_t i = len; i < d; i++)
				out[n++] = '0';
			memcpy(out + n, s, len);
			n += len;
		} else {
			memcpy(out + n, s, len - d);
			n += len - d;
			out[n++] = '.';
			memcpy(out + n, end - d, d);
			n += d;
		}
		while (out[n - 1] == '0')
			n--;
		if (out[n - 1] == '.')
			n--;
		out[n] = '\0';
		return (int)n;
	}
	return 0;
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
	n = format_short(tmp, v);
	if (n > 0) {
		before_value(j);
		put(j, tmp, (size_t)n);
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

/* ---- reading ---- */

size_t pacer_utf8_char(const uint8_t *s, size_t left)
{
	uint32_t cp;
	size_t n;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, cp = s[0] & 0x1fu;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, cp = s[0] & 0x0fu;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, cp = s[0] & 0x07u;
	else
		return 0;
	if (n > left)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3fu);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

bool pacer_utf8_valid(const uint8_t *s, size_t len)
{
	for (size_t i = 0; i < len;) {
		size_t n;

		/* ASCII, eight octets at a time (topics, keys: all of it) */
		while (len - i >= 8) {
			uint64_t w;

			memcpy(&w, s + i, 8);
			if (w & UINT64_C(0x8080808080808080))
				break;
			i += 8;
		}
		while (i < len && s[i] < 0x80)
			i++;
		if (i == len)
			break;
		n = pacer_utf8_char(s + i, len - i);
		if (n == 0)
			return false;
		i += n;
	}
	return true;
}

typedef struct {
	const char *text;
	size_t len, pos;
	const PacerJsonVisitor *v;
	void *user_data;
	char *scratch;
	size_t scratch_len;
	unsigned depth;
} Reader;

#define CALL(r, fn, ...) ((r)->v->fn ? (r)->v->fn(__VA_ARGS__) : 0)

static void skip_space(Reader *r)
{
	while (r->pos < r->len && (r->text[r->pos] == ' ' || r->text[r->pos] == '\t' ||
				   r->text[r->pos] == '\n' || r->text[r->pos] == '\r'))
		r->pos++;
}

/* The four hex digits after "\u" at r->pos (which points at the 'u'). */
static int read_u16(Reader *r, uint32_t *ret)
{
	uint32_t v = 0;

	if (r->len - r->pos < 5)
		return -EINVAL;
	for (size_t i = 1; i <= 4; i++) {
		int d = pacer_hex_digit(r->text[r->pos + i]);

		if (d < 0)
			return -EINVAL;
		v = (v << 4) | (uint32_t)d;
	}
	r->pos += 5;
	*ret = v;
	return 0;
}

static void put_utf8(char *out, size_t *n, uint32_t cp)
{
	if (cp < 0x80) {
		out[(*n)++] = (char)cp;
	} else if (cp < 0x800) {
		out[(*n)++] = (char)(0xc0 | (cp >> 6));
		out[(*n)++] = (char)(0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		out[(*n)++] = (char)(0xe0 | (cp >> 12));
		out[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[(*n)++] = (char)(0x80 | (cp & 0x3f));
	} else {
		out[(*n)++] = (char)(0xf0 | (cp >> 18));
		out[(*n)++] = (char)(0x80 | ((cp >> 12) & 0x3f));
		out[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[(*n)++] = (char)(0x80 | (cp & 0x3f));
	}
}

static int read_escape_at(Reader *r, char *out, size_t *n)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *e;
	uint32_t cp, low;

	r->pos++;
	if (r->pos >= r->len)
		return -EINVAL;
	if (r->text[r->pos] != 'u') {
		e = r->text[r->pos] ? strchr(from, r->text[r->pos]) : NULL;
		if (!e)
			return -EINVAL;
		out[(*n)++] = to[e - from];
		r->pos++;
		return 0;
	}
	if (read_u16(r, &cp) < 0 || cp == 0 || (cp >= 0xdc00 && cp <= 0xdfff))
		return -EINVAL;
	if (cp >= 0xd800 && cp <= 0xdbff) {
		/* a high surrogate: the low one must follow as \uDC00..\uDFFF */
		if (r->len - r->pos < 2 || r->text[r->pos] != '\\' || r->text[r->pos + 1] != 'u')
			return -EINVAL;
		r->pos++;
		if (read_u16(r, &low) < 0 || low < 0xdc00 || low > 0xdfff)
			return -EINVAL;
		cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
	}
	put_utf8(out, n, cp);
	return 0;
}

/* The escape whose backslash is at r->pos (where an error leaves r->pos); its UTF-8 goes to out. */
static int read_escape(Reader *r, char *out, size_t *n)
{
	size_t start = r->pos;
	int e = read_escape_at(r, out, n);

	if (e < 0)
		r->pos = start;
	return e;
}

/*
 * The string whose opening quote is at r->pos, unescaped into the scratch
 * buffer. An escape never writes more octets than it reads, and the quotes
 * pay for the NUL, so len + 1 octets hold every string of a text.
 */
static int read_string(Reader *r, const char **ret, size_t *ret_len)
{
	char *out = r->scratch + r->scratch_len;
	size_t n = 0;
	int e;

	r->pos++;
	while (r->pos < r->len && r->text[r->pos] != '"') {
		uint8_t ch = (uint8_t)r->text[r->pos];
		size_t k;

		if (ch == '\\') {
			e = read_escape(r, out, &n);
			if (e < 0)
				return e;
			continue;
		}
		if (ch < 0x20)
			return -EINVAL;
		k = pacer_utf8_char((const uint8_t *)r->text + r->pos, r->len - r->pos);
		if (k == 0)
			return -EINVAL;
		memcpy(out + n, r->text + r->pos, k);
		n += k;
		r->pos += k;
	}
	if (r->pos >= r->len)
		return -EINVAL;
	r->pos++;
	out[n] = '\0';
	r->scratch_len += n + 1;
	*ret = out;
	*ret_len = n;
	return 0;
}

static bool is_digit(char ch)
{
	return ch >= '0' && ch <= '9';
}

static size_t digits(Reader *r)
{
	size_t start = r->pos;

	while (r->pos < r->len && is_digit(r->text[r->pos]))
		r->pos++;
	return r->pos - start;
}

static int read_number(Reader *r)
{
	size_t start = r->pos;
	char tmp[64], *end, point = localeconv()->decimal_point[0];
	double v;

	if (r->pos < r->len && r->text[r->pos] == '-')
		r->pos++;
	if (r->pos < r->len && r->text[r->pos] == '0')
		r->pos++;
	else if (digits(r) == 0)
		return -EINVAL;
	if (r->pos < r->len && r->text[r->pos] == '.') {
		r->pos++;
		if (digits(r) == 0)
			return -EINVAL;
	}
	if (r->pos < r->len && (r->text[r->pos] == 'e' || r->text[r->pos] == 'E')) {
		r->pos++;
		if (r->pos < r->len && (r->text[r->pos] == '+' || r->text[r->pos] == '-'))
			r->pos++;
		if (digits(r) == 0)
			return -EINVAL;
	}
	if (r->pos - start >= sizeof(tmp)) {
		r->pos = start;
		return -EINVAL;
	}
	memcpy(tmp, r->text + start, r->pos - start);
	tmp[r->pos - start] = '\0';
	/* strtod reads the locale's decimal separator; JSON has '.' */
	for (char *p = tmp; point != '.' && *p; p++) {
		if (*p == '.')
			*p = point;
	}
	v = strtod(tmp, &end);
	if (*end != '\0' || !isfinite(v)) {
		r->pos = start;
		return -EINVAL;
	}
	return CALL(r, number, v, r->user_data);
}

static int read_literal(Reader *r, const char *word)
{
	size_t n = strlen(word);

	if (r->len - r->pos < n || memcmp(r->text + r->pos, word, n) != 0)
		return -EINVAL;
	r->pos += n;
	return 0;
}

static int read_value(Reader *r);

static int read_container(Reader *r, bool object)
{
	char close = object ? '}' : ']';
	int e;

	if (r->depth + 1 >= PACER_JSON_MAX_DEPTH)
		return -E2BIG;
	r->depth++;
	r->pos++;
	e = object ? CALL(r, begin_object, r->user_data) : CALL(r, begin_array, r->user_data);
	if (e < 0)
		return e;
	skip_space(r);
	if (r->pos < r->len && r->text[r->pos] == close) {
		r->pos++;
		goto done;
	}
	for (;;) {
		if (object) {
			const char *key;
			size_t key_len;

			if (r->pos >= r->len || r->text[r->pos] != '"')
				return -EINVAL;
			e = read_string(r, &key, &key_len);
			if (e < 0)
				return e;
			e = CALL(r, key, key, key_len, r->user_data);
			if (e < 0)
				return e;
			skip_space(r);
			if (r->pos >= r->len || r->text[r->pos] != ':')
				return -EINVAL;
			r->pos++;
		}
		e = read_value(r);
		if (e < 0)
			return e;
		skip_space(r);
		if (r->pos < r->len && r->text[r->pos] == close) {
			r->pos++;
			break;
		}
		if (r->pos >= r->len || r->text[r->pos] != ',')
			return -EINVAL;
		r->pos++;
		skip_space(r);
	}
done:
	r->depth--;
	return object ? CALL(r, end_object, r->user_data) : CALL(r, end_array, r->user_data);
}

static int read_value(Reader *r)
{
	const char *s;
	size_t n;
	int e;

	skip_space(r);
	if (r->pos >= r->len)
		return -EINVAL;
	switch (r->text[r->pos]) {
	case '{':
		return read_container(r, true);
	case '[':
		return read_container(r, false);
	case '"':
		e = read_string(r, &s, &n);
		return e < 0 ? e : CALL(r, string, s, n, r->user_data);
	case 't':
		e = read_literal(r, "true");
		return e < 0 ? e : CALL(r, boolean, true, r->user_data);
	case 'f':
		e = read_literal(r, "false");
		return e < 0 ? e : CALL(r, boolean, false, r->user_data);
	case 'n':
		e = read_literal(r, "null");
		return e < 0 ? e : CALL(r, null, r->user_data);
	default:
		return read_number(r);
	}
}

int pacer_json_parse(const char *text, size_t len, const PacerJsonVisitor *visitor, void *user_data,
		     char *scratch, size_t scratch_cap, size_t *ret_pos)
{
	Reader r = {.text = text, .len = len, .v = visitor, .user_data = user_data,
		    .scratch = scratch};
	int e;

	if (!text || !visitor || !scratch)
		return -EINVAL;
	if (scratch_cap < len + 1)
		return -ENOBUFS;
	e = read_value(&r);
	if (e == 0) {
		skip_space(&r);
		if (r.pos != r.len)
			e = -EINVAL;
	}
	if (e == -EINVAL && ret_pos)
		*ret_pos = r.pos;
	return e;
}
