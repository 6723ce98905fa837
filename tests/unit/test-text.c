/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The text helpers: hex bytes, the JSON writer and reader, and capture lines. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pacer-capture.h"
#include "pacer-hex.h"
#include "pacer-json.h"
#include "test-common.h"

static void test_hex_forms(void)
{
	static const char *const forms[] = {"168c1004", "16 8c 10 04", "16:8c:10:04",
					    "16-8C-10-04", "  16 8c\t10 04  ", "168c 1004"};
	uint8_t b[8];

	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		size_t len = 0;

		CU_ASSERT_EQUAL_FATAL(pacer_hex_decode(forms[i], b, sizeof(b), &len, NULL), 0);
		CU_ASSERT_EQUAL(len, 4);
		CU_ASSERT_EQUAL(b[0], 0x16);
		CU_ASSERT_EQUAL(b[1], 0x8c);
		CU_ASSERT_EQUAL(b[3], 0x04);
	}
}

static void test_hex_errors(void)
{
	uint8_t b[4];
	size_t len = 99, pos = 0;

	CU_ASSERT_EQUAL(pacer_hex_decode("", b, sizeof(b), &len, &pos), 0);
	CU_ASSERT_EQUAL(len, 0);
	len = 99;
	CU_ASSERT_EQUAL(pacer_hex_decode("16 8", b, sizeof(b), &len, &pos), -EINVAL);
	CU_ASSERT_EQUAL(pos, 3);
	CU_ASSERT_EQUAL(pacer_hex_decode("1 68", b, sizeof(b), &len, &pos), -EINVAL);
	CU_ASSERT_EQUAL(pos, 0);
	CU_ASSERT_EQUAL(pacer_hex_decode("16 zz", b, sizeof(b), &len, &pos), -EINVAL);
	CU_ASSERT_EQUAL(pos, 3);
	CU_ASSERT_EQUAL(pacer_hex_decode("0x16", b, sizeof(b), &len, &pos), -EINVAL);
	CU_ASSERT_EQUAL(pacer_hex_decode("01 02 03 04 05", b, sizeof(b), &len, &pos), -E2BIG);
	CU_ASSERT_EQUAL(len, 99);
}

/* The decoder as it was before its table and its "hh hh hh" fast path: the reference. */
static int reference_digit(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

static int reference_decode(const char *s, uint8_t *buf, size_t cap, size_t *ret_len,
			    size_t *ret_error_pos)
{
	size_t n = 0, i = 0;

	while (s[i] != '\0') {
		int hi, lo;

		if (s[i] == ' ' || s[i] == '\t' || s[i] == ':' || s[i] == '-') {
			i++;
			continue;
		}
		hi = reference_digit(s[i]);
		lo = hi < 0 ? -1 : reference_digit(s[i + 1]);
		if (lo < 0) {
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

/*
 * Texts made of digits, separators and a few strangers, many of them in or
 * near the "hh hh hh" layout, decode as the reference does: the same result,
 * bytes, length and error position, with room and without.
 */
static void test_hex_like_reference(void)
{
	static const char alphabet[] = "0123456789abcdefABCDEF \t:-xg\r";
	uint32_t seed = 12345;

	for (int round = 0; round < 20000; round++) {
		char text[48];
		size_t n;

		seed = seed * 1103515245u + 12345u;
		n = (seed >> 16) % 40;
		for (size_t i = 0; i < n; i++) {
			seed = seed * 1103515245u + 12345u;
			if (round % 2 == 0) /* "hh hh hh" with an occasional stranger */
				text[i] = i % 3 == 2 ? ' ' : "0123456789abcdef"[(seed >> 16) % 16];
			if (round % 2 == 1 || (seed >> 8) % 23 == 0)
				text[i] = alphabet[(seed >> 16) % (sizeof(alphabet) - 1)];
		}
		text[n] = '\0';
		for (size_t cap = 2; cap <= 32; cap += 30) {
			uint8_t got[32], want[32];
			size_t got_len = 99, want_len = 99, got_pos = 99, want_pos = 99;
			int r = pacer_hex_decode(text, got, cap, &got_len, &got_pos);
			int r_want = reference_decode(text, want, cap, &want_len, &want_pos);

			CU_ASSERT_EQUAL_FATAL(r, r_want);
			CU_ASSERT_EQUAL(got_len, want_len);
			CU_ASSERT_EQUAL(got_pos, want_pos);
			if (r == 0)
				CU_ASSERT_EQUAL(memcmp(got, want, want_len), 0);
			/* the counted form reads no further than it is told */
			if (n > 0) {
				char prefix[48];

				memcpy(prefix, text, n - 1);
				prefix[n - 1] = '\0';
				got_len = want_len = got_pos = want_pos = 99;
				r = pacer_hex_decode_n(text, n - 1, got, cap, &got_len, &got_pos);
				CU_ASSERT_EQUAL(r, reference_decode(prefix, want, cap, &want_len,
								    &want_pos));
				CU_ASSERT_EQUAL(got_len, want_len);
				CU_ASSERT_EQUAL(got_pos, want_pos);
				if (r == 0)
					CU_ASSERT_EQUAL(memcmp(got, want, want_len), 0);
			}
		}
	}
	for (int c = 0; c < 256; c++)
		CU_ASSERT_EQUAL(pacer_hex_digit((char)c), reference_digit((char)c));
}

static void test_hex_encode(void)
{
	static const uint8_t b[] = {0x16, 0x8c, 0x10, 0x04};
	char out[16];

	pacer_hex_encode(b, sizeof(b), out, sizeof(out));
	CU_ASSERT_STRING_EQUAL(out, "16 8c 10 04");
	pacer_hex_encode(b, sizeof(b), out, 6);
	CU_ASSERT_STRING_EQUAL(out, "16 8c");
	pacer_hex_encode(b, 0, out, sizeof(out));
	CU_ASSERT_STRING_EQUAL(out, "");
}

static void test_json_document(void)
{
	char buf[256];
	PacerJson j;

	pacer_json_init(&j, buf, sizeof(buf));
	pacer_json_begin_object(&j);
	pacer_json_key(&j, "a");
	pacer_json_int(&j, -3);
	pacer_json_key(&j, "list");
	pacer_json_begin_array(&j);
	pacer_json_double(&j, 0.1);
	pacer_json_double(&j, 1016.6015625);
	pacer_json_double(&j, NAN);
	pacer_json_begin_object(&j);
	pacer_json_end_object(&j);
	pacer_json_end_array(&j);
	pacer_json_key(&j, "s");
	pacer_json_string(&j, "say \"hi\"\n\\\x01");
	pacer_json_key(&j, "f");
	pacer_json_fixed(&j, 3.14159, 2);
	pacer_json_key(&j, "g");
	pacer_json_fixed(&j, 2.5, 3);
	pacer_json_key(&j, "z");
	pacer_json_fixed(&j, -0.0001, 2);
	pacer_json_key(&j, "b");
	pacer_json_bool(&j, true);
	pacer_json_key(&j, "n");
	pacer_json_null(&j);
	pacer_json_end_object(&j);
	CU_ASSERT_TRUE_FATAL(pacer_json_finish(&j) > 0);
	CU_ASSERT_STRING_EQUAL(buf, "{\"a\":-3,\"list\":[0.1,1016.6015625,null,{}],"
				    "\"s\":\"say \\\"hi\\\"\\n\\\\\\u0001\",\"f\":3.14,"
				    "\"g\":2.5,\"z\":0,\"b\":true,\"n\":null}");
}

static void test_json_errors(void)
{
	char buf[8];
	PacerJson j;

	pacer_json_init(&j, buf, sizeof(buf));
	pacer_json_begin_object(&j);
	pacer_json_key(&j, "toolong");
	pacer_json_int(&j, 1);
	pacer_json_end_object(&j);
	CU_ASSERT_EQUAL(pacer_json_finish(&j), -ENOBUFS);
	CU_ASSERT_TRUE(strlen(buf) < sizeof(buf));

	pacer_json_init(&j, buf, sizeof(buf));
	pacer_json_begin_array(&j);
	CU_ASSERT_EQUAL(pacer_json_finish(&j), -EINVAL);
	pacer_json_init(&j, buf, sizeof(buf));
	pacer_json_end_array(&j);
	CU_ASSERT_EQUAL(pacer_json_finish(&j), -EINVAL);
}

/* Runs of plain characters, escapes at either end, UTF-8 untouched. */
static void test_json_escapes(void)
{
	char buf[256];
	PacerJson j;

	pacer_json_init(&j, buf, sizeof(buf));
	pacer_json_begin_array(&j);
	pacer_json_string(&j, "");
	pacer_json_string(&j, "\t");
	pacer_json_string(&j, "\"quoted\"");
	pacer_json_string(&j, "a\\b\tc\nd\x1f");
	pacer_json_string(&j, "\x7f caf\xc3\xa9 5:00/km");
	pacer_json_end_array(&j);
	CU_ASSERT_TRUE_FATAL(pacer_json_finish(&j) > 0);
	CU_ASSERT_STRING_EQUAL(buf, "[\"\",\"\\t\",\"\\\"quoted\\\"\",\"a\\\\b\\tc\\nd\\u001f\","
				    "\"\x7f caf\xc3\xa9 5:00/km\"]");
}

/* {"speed_mps":3,"running":true}, its keys written one way or the other. */
static void write_speed_and_running(char *buf, size_t size, bool literal_keys)
{
	PacerJson j;

	pacer_json_init(&j, buf, size);
	pacer_json_begin_object(&j);
	if (literal_keys)
		PACER_JSON_KEY_LITERAL(&j, "speed_mps");
	else
		pacer_json_key(&j, "speed_mps");
	pacer_json_int(&j, 3);
	if (literal_keys)
		PACER_JSON_KEY_LITERAL(&j, "running");
	else
		pacer_json_key(&j, "running");
	pacer_json_bool(&j, true);
	pacer_json_end_object(&j);
	CU_ASSERT_TRUE_FATAL(pacer_json_finish(&j) > 0);
}

/*
 * A string that just fits is written whole, one octet less and the document
 * is refused (never cut), with or without characters to escape. Keys quoted
 * at compile time write what pacer_json_key() writes.
 */
static void test_json_fit(void)
{
	static const char *const strings[] = {"abcdef", "ab\"def", "\x01", ""};
	char buf[64], want[64];
	PacerJson j;

	for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++) {
		size_t len;

		pacer_json_init(&j, want, sizeof(want));
		pacer_json_string(&j, strings[i]);
		CU_ASSERT_TRUE_FATAL(pacer_json_finish(&j) > 0);
		len = strlen(want);
		for (size_t cap = 1; cap <= len + 1; cap++) {
			pacer_json_init(&j, buf, cap);
			pacer_json_string(&j, strings[i]);
			if (cap == len + 1) {
				CU_ASSERT_EQUAL(pacer_json_finish(&j), (int)len);
				CU_ASSERT_STRING_EQUAL(buf, want);
			} else {
				CU_ASSERT_EQUAL(pacer_json_finish(&j), -ENOBUFS);
				CU_ASSERT_TRUE(strlen(buf) < cap);
			}
		}
	}

	write_speed_and_running(want, sizeof(want), false);
	write_speed_and_running(buf, sizeof(buf), true);
	CU_ASSERT_STRING_EQUAL(buf, want);
	CU_ASSERT_STRING_EQUAL(buf, "{\"speed_mps\":3,\"running\":true}");
}

/* What pacer_json_double() wrote when it went through printf alone. */
static void double_like_printf(char *out, size_t size, double v)
{
	if (!isfinite(v)) {
		snprintf(out, size, "null");
		return;
	}
	if (v == floor(v) && fabs(v) < 1e15) {
		snprintf(out, size, "%lld", (long long)v);
		return;
	}
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(out, size, "%.*g", prec, v);
		if (strtod(out, NULL) == v)
			break;
	}
}

static uint64_t next_random(uint64_t *state)
{
	/* xorshift64: the same values on every run */
	*state ^= *state << 13;
	*state ^= *state >> 7;
	*state ^= *state << 17;
	return *state;
}

static void check_double(double v, unsigned *mismatches)
{
	char buf[64], want[64];
	PacerJson j;

	pacer_json_init(&j, buf, sizeof(buf));
	pacer_json_double(&j, v);
	CU_ASSERT_TRUE_FATAL(pacer_json_finish(&j) > 0);
	double_like_printf(want, sizeof(want), v);
	if (strcmp(buf, want) != 0 && (*mismatches)++ < 10)
		fprintf(stderr, "%.17g: %s, printf %s\n", v, buf, want);
}

/* Short decimals, long ones, any bits: the same text as printf gave. */
static void test_json_double_like_printf(void)
{
	static const double fixed[] = {0.1, 0.2, 0.3, 1e-4, 1.5e-4, 9.99e-5, 0.000123, 3.14159,
				       1016.6015625, 5.5, -2.25, 123456789012.345, 99999999999999.9,
				       999999999999999.9, 1e15 - 0.5, 0.30000000000000004, 1.0 / 3,
				       2.0 / 3, -1e-4, 4.35, 2.8, 11.11, 0.07, 1e14 + 0.1};
	uint64_t state = 0x9e3779b97f4a7c15u;
	unsigned mismatches = 0;

	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		check_double(fixed[i], &mismatches);
	for (int i = 0; i < 200000; i++) {
		uint64_t r = next_random(&state);
		char text[40];
		double v;

		switch (i % 4) {
		case 0: /* a decimal of 1..17 digits, as sensors and formulas give them */
			snprintf(text, sizeof(text), "%llue%d",
				 (unsigned long long)(r % 100000000000000000u) >> (r % 57),
				 (int)(r >> 58) % 20 - 15);
			v = strtod(text, NULL);
			break;
		case 1: /* m / 10^d, the fixed decimals a value is often rounded to */
			v = (double)(int64_t)(r % 20000001u - 10000000) / pow(10, (double)(r >> 60));
			break;
		case 2: /* any finite double in the fast path's range and around it */
			v = ldexp((double)(r >> 11) / 9007199254740992.0 + 0.5, (int)(r % 70) - 18);
			break;
		default: /* any bits at all */
			memcpy(&v, &r, sizeof(v));
			break;
		}
		check_double((r & 1) ? -v : v, &mismatches);
	}
	CU_ASSERT_EQUAL(mismatches, 0);
}

/* ---- the reader ---- */

/* Each callback appends a token to the trace: { } [ ] k:KEY s:STRING n:%g b:1 z */
typedef struct {
	char trace[512];
	int stop_at; /* the callback with this number returns -EINTR; 0: never */
	int calls;
} Trace;

static int add(Trace *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int add(Trace *t, const char *fmt, ...)
{
	size_t n = strlen(t->trace);
	va_list ap;

	if (n > 0 && n + 1 < sizeof(t->trace))
		t->trace[n++] = ' ';
	va_start(ap, fmt);
	vsnprintf(t->trace + n, sizeof(t->trace) - n, fmt, ap);
	va_end(ap);
	return ++t->calls == t->stop_at ? -EINTR : 0;
}

static int tr_begin_object(void *u) { return add(u, "{"); }
static int tr_end_object(void *u) { return add(u, "}"); }
static int tr_begin_array(void *u) { return add(u, "["); }
static int tr_end_array(void *u) { return add(u, "]"); }
static int tr_key(const char *k, size_t len, void *u)
{
	CU_ASSERT_EQUAL(strlen(k), len);
	return add(u, "k:%s", k);
}
static int tr_string(const char *s, size_t len, void *u)
{
	CU_ASSERT_EQUAL(strlen(s), len);
	return add(u, "s:%s", s);
}
static int tr_number(double v, void *u) { return add(u, "n:%.17g", v); }
static int tr_boolean(bool v, void *u) { return add(u, "b:%d", v); }
static int tr_null(void *u) { return add(u, "z"); }

static const PacerJsonVisitor tracer = {
	tr_begin_object, tr_end_object, tr_begin_array, tr_end_array,
	tr_key, tr_string, tr_number, tr_boolean, tr_null,
};

/* Parses text with a roomy scratch buffer; the trace goes to t. */
static int parse(const char *text, Trace *t, size_t *pos)
{
	char scratch[1024];

	*t = (Trace){.stop_at = t->stop_at};
	return pacer_json_parse(text, strlen(text), &tracer, t, scratch, sizeof(scratch), pos);
}

static void test_json_read_document(void)
{
	Trace t = {0};
	size_t pos = 99;

	CU_ASSERT_EQUAL(parse(" {\"a\":-3,\"list\":[0.1,1016.6015625,null,{}],\"s\":\"say \\\"hi\\\"\\n\\\\\\u0001\","
			      "\"e\":-1.5E+2,\"b\":true,\"f\":false,\"n\":null, \"\":[ ] }\n", &t, &pos), 0);
	CU_ASSERT_EQUAL(pos, 99); /* untouched on success */
	CU_ASSERT_STRING_EQUAL(t.trace, "{ k:a n:-3 k:list [ n:0.10000000000000001 n:1016.6015625 z { } ] "
					"k:s s:say \"hi\"\n\\\x01 k:e n:-150 k:b b:1 k:f b:0 k:n z k: [ ] }");
	/* any value at the top */
	CU_ASSERT_EQUAL(parse("\"x\"", &t, &pos), 0);
	CU_ASSERT_STRING_EQUAL(t.trace, "s:x");
	CU_ASSERT_EQUAL(parse("0", &t, &pos), 0);
	CU_ASSERT_STRING_EQUAL(t.trace, "n:0");
	CU_ASSERT_EQUAL(parse("-0.25e-1", &t, &pos), 0);
	CU_ASSERT_STRING_EQUAL(t.trace, "n:-0.025000000000000001");
	/* escapes: UTF-8 of 1, 2, 3 and 4 octets (a surrogate pair), raw UTF-8 kept */
	CU_ASSERT_EQUAL(parse("\"\\u0041\\u00e9\\u20AC\\ud83c\\udfc3 caf\xc3\xa9\\/\\b\\f\\r\\t\"", &t, &pos), 0);
	CU_ASSERT_STRING_EQUAL(t.trace, "s:A\xc3\xa9\xe2\x82\xac\xf0\x9f\x8f\x83 caf\xc3\xa9/\b\f\r\t");
	/* a callback stops the walk with its own error */
	t.stop_at = 3;
	CU_ASSERT_EQUAL(parse("[1,2,3]", &t, &pos), -EINTR);
	CU_ASSERT_STRING_EQUAL(t.trace, "[ n:1 n:2");
}

/* What pacer_json_* writes reads back as the same values. */
static void test_json_read_back(void)
{
	char buf[256], scratch[256];
	Trace t = {0};
	PacerJson j;

	pacer_json_init(&j, buf, sizeof(buf));
	pacer_json_begin_array(&j);
	pacer_json_double(&j, 0.1);
	pacer_json_double(&j, -1e-300);
	pacer_json_double(&j, 1.7976931348623157e308);
	pacer_json_int(&j, INT64_MIN + 1);
	pacer_json_string(&j, "a\\b\tc\nd\x1f\x7f caf\xc3\xa9");
	pacer_json_end_array(&j);
	CU_ASSERT_TRUE_FATAL(pacer_json_finish(&j) > 0);
	CU_ASSERT_EQUAL(pacer_json_parse(buf, strlen(buf), &tracer, &t, scratch, strlen(buf) + 1, NULL), 0);
	CU_ASSERT_STRING_EQUAL(t.trace, "[ n:0.10000000000000001 n:-1e-300 "
					"n:1.7976931348623157e+308 n:-9.2233720368547758e+18 "
					"s:a\\b\tc\nd\x1f\x7f caf\xc3\xa9 ]");
	/* the scratch buffer needs the text's length and one */
	CU_ASSERT_EQUAL(pacer_json_parse(buf, strlen(buf), &tracer, &t, scratch, strlen(buf), NULL),
			-ENOBUFS);
}

static void test_json_read_errors(void)
{
	static const struct {
		const char *text;
		size_t pos;
	} bad[] = {
		{"", 0}, {"  ", 2}, {"{", 1}, {"[1,]", 3}, {"[1 2]", 3}, {"{\"a\" 1}", 5},
		{"{\"a\":1,}", 7}, {"{a:1}", 1}, {"{\"a\":}", 5}, {"01", 1}, {"1.", 2}, {"1.e3", 2},
		{"-", 1}, {"+1", 0}, {".5", 0}, {"1e", 2}, {"1e+", 3}, {"1e999", 0}, {"-1e400", 0},
		{"tru", 0}, {"nul", 0}, {"True", 0}, {"1 2", 2}, {"{}}", 2}, {"\"abc", 4},
		{"\"\\x\"", 1}, {"\"\\u12\"", 1}, {"\"\\u12g4\"", 1}, {"\"\\ud800\"", 1},
		{"\"a\\ud800\\u0041\"", 2}, {"\"\\udc00\"", 1}, {"\"\\u0000\"", 1}, {"\"a\x01\"", 2},
		{"\"\xc3\"", 1}, {"\"\xc0\xaf\"", 1}, {"\"\xed\xa0\x80\"", 1}, {"\"\xf4\x90\x80\x80\"", 1},
		{"[\"a\"\"b\"]", 4}, {"NaN", 0}, {"Infinity", 0}, {"[1]x", 3},
		{"0000000000000000000000000000000000000000000000000000000000000001", 1},
		{"1000000000000000000000000000000000000000000000000000000000000000000", 0},
	};
	char deep[80];
	Trace t = {0};
	size_t pos;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		pos = 99;
		if (parse(bad[i].text, &t, &pos) != -EINVAL || pos != bad[i].pos)
			fprintf(stderr, "%s: pos %zu, want %zu\n", bad[i].text, pos, bad[i].pos);
		CU_ASSERT_EQUAL(parse(bad[i].text, &t, &pos), -EINVAL);
		CU_ASSERT_EQUAL(pos, bad[i].pos);
	}
	/* the writer's depth limit: 31 nested containers read, 32 do not */
	memset(deep, '[', 31);
	memset(deep + 31, ']', 31);
	deep[62] = '\0';
	CU_ASSERT_EQUAL(parse(deep, &t, &pos), 0);
	memset(deep, '[', 32);
	memset(deep + 32, ']', 32);
	deep[64] = '\0';
	CU_ASSERT_EQUAL(parse(deep, &t, &pos), -E2BIG);
	/* the text is counted: what comes after len is not read */
	CU_ASSERT_EQUAL(pacer_json_parse("[1] trailing", 3, &tracer, &t, deep, sizeof(deep), NULL), 0);
	CU_ASSERT_EQUAL(pacer_json_parse(NULL, 0, &tracer, &t, deep, sizeof(deep), NULL), -EINVAL);
}

static void test_utf8(void)
{
	CU_ASSERT_TRUE(pacer_utf8_valid((const uint8_t *)"", 0));
	CU_ASSERT_TRUE(pacer_utf8_valid((const uint8_t *)"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x8f\x83", 14));
	CU_ASSERT_FALSE(pacer_utf8_valid((const uint8_t *)"\xc3", 1));
	CU_ASSERT_FALSE(pacer_utf8_valid((const uint8_t *)"\xe2\x82", 2));
	CU_ASSERT_EQUAL(pacer_utf8_char((const uint8_t *)"\xf0\x9f\x8f\x83", 4), 4);
	CU_ASSERT_EQUAL(pacer_utf8_char((const uint8_t *)"\xf0\x9f\x8f\x83", 3), 0);
	CU_ASSERT_EQUAL(pacer_utf8_char((const uint8_t *)"\x80", 1), 0);
}

/* What pacer_json_fixed() wrote when it went through printf: "%.*f", then trimmed. */
static void fixed_like_printf(char *out, size_t size, double v, unsigned decimals)
{
	int n = snprintf(out, size, "%.*f", (int)decimals, v);

	if (decimals > 0) {
		while (n > 0 && out[n - 1] == '0')
			n--;
		if (n > 0 && out[n - 1] == '.')
			n--;
	}
	out[n] = '\0';
	if (strcmp(out, "-0") == 0)
		snprintf(out, size, "0");
}

static void check_fixed(double v, unsigned decimals)
{
	char buf[64], want[64];
	PacerJson j;

	pacer_json_init(&j, buf, sizeof(buf));
	pacer_json_fixed(&j, v, decimals);
	CU_ASSERT_TRUE_FATAL(pacer_json_finish(&j) > 0);
	fixed_like_printf(want, sizeof(want), v, decimals);
	if (strcmp(buf, want) != 0)
		fprintf(stderr, "%.17g with %u decimals: %s, printf %s\n", v, decimals, buf, want);
	CU_ASSERT_STRING_EQUAL(buf, want);
}

/* Decimals are rounded as printf rounds: the exact binary value, ties to even. */
static void test_json_fixed_like_printf(void)
{
	static const double values[] = {
		0.0, -0.0, 0.5, 1.5, 2.5, -2.5, 0.125, 0.375, -0.125, 0.0625, 1.0005, 2.675,
		0.05, 0.15, 0.25, 0.35, 1e-300, 5e-324, -5e-324, 0.9995, 9.9995, 123456789.0005,
		999999999999999.9, -999999999999999.9, 999999999999999.5, 562949953421311.9375};
	char buf[128];
	PacerJson j;

	for (unsigned d = 0; d <= 4; d++) {
		for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++)
			check_fixed(values[i], d);
		/* ties and near ties in each unit: halves, eighths, thousandths, tenths */
		for (int i = -3000; i <= 3000; i++) {
			check_fixed(i / 2000.0, d);
			check_fixed(nextafter(i / 2000.0, 1e9), d);
			check_fixed(nextafter(i / 2000.0, -1e9), d);
			check_fixed(i / 8.0, d);
			check_fixed(i * 0.1, d);
			check_fixed(i * 1234.5678, d);
		}
	}

	pacer_json_init(&j, buf, sizeof(buf));
	pacer_json_begin_array(&j);
	pacer_json_int(&j, INT64_MIN);
	pacer_json_int(&j, INT64_MAX);
	pacer_json_int(&j, 0);
	pacer_json_fixed(&j, 1e15, 1); /* too large for decimals: as a double */
	pacer_json_fixed(&j, INFINITY, 1);
	pacer_json_end_array(&j);
	CU_ASSERT_TRUE_FATAL(pacer_json_finish(&j) > 0);
	CU_ASSERT_STRING_EQUAL(buf, "[-9223372036854775808,9223372036854775807,0,1e+15,null]");
}

static void test_capture_line(void)
{
	PacerCaptureRecord rec;
	PacerCaptureError err;
	PacerUuid u;

	CU_ASSERT_EQUAL_FATAL(
		pacer_capture_parse_line("12.250 c0:ff:ee:00:00:01 2a37 16 8c 10 04\n", &rec, &err),
		1);
	CU_ASSERT_EQUAL(rec.t_us, 12250000u);
	CU_ASSERT_STRING_EQUAL(rec.address, "C0:FF:EE:00:00:01");
	pacer_uuid_from_u16(0x2A37, &u);
	CU_ASSERT_TRUE(pacer_uuid_equal(&rec.uuid, &u));
	CU_ASSERT_EQUAL(rec.len, 4);
	CU_ASSERT_EQUAL(rec.value[1], 0x8c);

	CU_ASSERT_EQUAL_FATAL(pacer_capture_parse_line("7 B1:72:47:A8:AA:F0 "
						       "00002acd-0000-1000-8000-00805f9b34fb "
						       "84-24-00-00\r\n",
						       &rec, &err),
			      1);
	CU_ASSERT_EQUAL(rec.t_us, 7000000u);
	CU_ASSERT_EQUAL(rec.len, 4);
	CU_ASSERT_EQUAL_FATAL(
		pacer_capture_parse_line("0.1234567 00:00:00:00:00:00 2a19 55", &rec, &err), 1);
	CU_ASSERT_EQUAL(rec.t_us, 123456u);

	CU_ASSERT_EQUAL(pacer_capture_parse_line("", &rec, &err), 0);
	CU_ASSERT_EQUAL(pacer_capture_parse_line("   \n", &rec, &err), 0);
	CU_ASSERT_EQUAL(pacer_capture_parse_line("# a comment", &rec, &err), 0);
	CU_ASSERT_EQUAL(pacer_capture_parse_line("  # indented comment", &rec, &err), 0);
}

static void check_capture_error(const char *line, size_t column)
{
	PacerCaptureRecord rec;
	PacerCaptureError err = {0};

	pacer_test_poison(&rec, sizeof(rec));
	CU_ASSERT_EQUAL(pacer_capture_parse_line(line, &rec, &err), -EINVAL);
	CU_ASSERT_EQUAL(err.column, column);
	CU_ASSERT_PTR_NOT_NULL(err.what);
	CU_ASSERT_TRUE(pacer_test_is_poisoned(&rec, sizeof(rec)));
}

static void test_capture_errors(void)
{
	check_capture_error("x 00:00:00:00:00:00 2a37 06 3c", 1);
	check_capture_error("-1 00:00:00:00:00:00 2a37 06 3c", 1);
	check_capture_error("1.5x 00:00:00:00:00:00 2a37 06 3c", 4);
	check_capture_error("12345678901 00:00:00:00:00:00 2a37 06 3c", 11);
	check_capture_error("1 00:00:00:00:00 2a37 06 3c", 3);
	check_capture_error("1 00:00:00:00:00:0g 2a37 06 3c", 3);
	check_capture_error("1 00:00:00:00:00:00 2a3 06 3c", 21);
	check_capture_error("1 00:00:00:00:00:00 2a37", 25);
	check_capture_error("1 00:00:00:00:00:00 2a37   ", 28);
	check_capture_error("1 00:00:00:00:00:00 2a37 06 3", 29);
	check_capture_error("1 00:00:00:00:00:00 2a37 06 3c 1", 32);
	check_capture_error("1 00:00:00:00:00:00 2a37 06 q3", 29);
	check_capture_error("1 00:00:00:00:00:00 2a19 55\rjunk", 28);
	check_capture_error("1 00:00:00:00:00:00 2a19 55\n2 00:00:00:00:00:00 2a19 55", 28);
	check_capture_error("1 00:00:00:00:00:00 2a19 -:-", 26);
	check_capture_error("1 00:00:00:00:00:00 2a19 5\r5\n", 27);
	check_capture_error("1 00:00:00:00:00:00 2a19 55\r", 28);
	check_capture_error("1 00:00:00:00:00:00 2a19 55 6\r\n", 29);
}

/* Values beyond the usual layout, and too long ones, whichever way they are written. */
static void test_capture_values(void)
{
	static const char head[] = "1 00:00:00:00:00:00 2a19 ";
	char line[2048];
	PacerCaptureRecord rec;
	PacerCaptureError err;
	size_t at;

	CU_ASSERT_EQUAL(pacer_capture_parse_line("1 00:00:00:00:00:00 2a19 55 \t\r\n", &rec, &err),
			1);
	CU_ASSERT_EQUAL(rec.len, 1);
	CU_ASSERT_EQUAL(pacer_capture_parse_line("1 00:00:00:00:00:00 2a19 5566:77-88", &rec, &err),
			1);
	CU_ASSERT_EQUAL(rec.len, 4);
	CU_ASSERT_EQUAL(rec.value[3], 0x88);

	/* 512 bytes fit, written either way; 513 do not */
	for (int spaced = 0; spaced < 2; spaced++) {
		at = strlen(head);
		memcpy(line, head, at);
		for (int i = 0; i < 512; i++) {
			at += (size_t)sprintf(line + at, spaced ? "%02x " : "%02X", i & 0xff);
		}
		line[at - (size_t)spaced] = '\0';
		CU_ASSERT_EQUAL(pacer_capture_parse_line(line, &rec, &err), 1);
		CU_ASSERT_EQUAL(rec.len, 512);
		CU_ASSERT_EQUAL(rec.value[511], 0xff);
		strcpy(line + at - (size_t)spaced, spaced ? " 00" : "00");
		check_capture_error(line, sizeof(head));
	}
	/* text of 1600 octets or more is too long, even when it holds few bytes */
	at = strlen(head);
	memcpy(line, head, at);
	memset(line + at, ' ', 1600);
	strcpy(line + at + 1600, "55");
	line[at] = '6';
	line[at + 1] = '6';
	check_capture_error(line, sizeof(head));
}

int main(void)
{
	static const PacerTest tests[] = {
		{"hex: accepted forms", test_hex_forms},
		{"hex: errors and positions", test_hex_errors},
		{"hex: as the reference decoder, layout by layout", test_hex_like_reference},
		{"hex: encode", test_hex_encode},
		{"json: a document with every kind of value", test_json_document},
		{"json: overflow and bad nesting", test_json_errors},
		{"json: decimals as printf rounds them", test_json_fixed_like_printf},
		{"json: strings escaped", test_json_escapes},
		{"json: strings and keys at the buffer's end", test_json_fit},
		{"json: doubles as printf wrote them", test_json_double_like_printf},
		{"json: reading a document", test_json_read_document},
		{"json: what the writer writes reads back", test_json_read_back},
		{"json: reading errors and their positions", test_json_read_errors},
		{"utf-8: well-formed or not", test_utf8},
		{"capture: lines", test_capture_line},
		{"capture: errors name the column", test_capture_errors},
		{"capture: values in any layout, and too long ones", test_capture_values},
		{NULL, NULL},
	};

	return pacer_test_main("text", tests);
}
