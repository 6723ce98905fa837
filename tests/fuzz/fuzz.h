/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Helpers shared by the fuzz targets. Each target checks invariants with
 * fuzz_check(), which calls abort() and so survives NDEBUG, unlike assert().
 */

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pacer-gatt-json.h"
#include "pacer-gatt.h"
#include "pacer-json.h"

#define FUZZ_POISON		0xA5
#define FUZZ_JSON_SIZE		(16 * 1024)
#define FUZZ_JSON_EXACT_FIT_MAX 2048

/* The libFuzzer entry point; fuzz-main.c calls it when replaying files. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define fuzz_check(expr)                                                                           \
	do {                                                                                       \
		if (!(expr)) {                                                                     \
			fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__,       \
				#expr);                                                            \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

static inline void fuzz_poison(void *p, size_t n)
{
	memset(p, FUZZ_POISON, n);
}

/* True when no octet of p was written since fuzz_poison(): "nothing half-filled". */
static inline bool fuzz_is_poisoned(const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++) {
		if (b[i] != FUZZ_POISON)
			return false;
	}
	return true;
}

/* A NUL-terminated copy of the input, in a buffer of exactly size + 1 octets. */
static inline char *fuzz_strdup(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	fuzz_check(s);
	if (size > 0)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* Little-endian unsigned integer of n (1..4) octets at p. */
static inline uint32_t fuzz_le(const uint8_t *p, size_t n)
{
	uint32_t v = 0;

	for (size_t i = 0; i < n; i++)
		v |= (uint32_t)p[i] << (8 * i);
	return v;
}

/* The errors a decoder may return: anything else is a bug. */
static inline bool fuzz_is_documented_error(int r)
{
	return r == -EBADMSG || r == -ERANGE || r == -EINVAL || r == -E2BIG;
}

/* A strict JSON syntax check (RFC 8259), enough to reject NaN, stray commas and bad escapes. */
static inline const char *fuzz_json_value(const char *p, unsigned depth);

static inline const char *fuzz_json_ws(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	return p;
}

static inline bool fuzz_is_digit(char ch)
{
	return ch >= '0' && ch <= '9';
}

static inline const char *fuzz_json_string(const char *p)
{
	if (*p++ != '"')
		return NULL;
	for (;;) {
		unsigned char ch = (unsigned char)*p++;

		if (ch == '"')
			return p;
		if (ch < 0x20)
			return NULL; /* also the terminating NUL */
		if (ch != '\\')
			continue;
		ch = (unsigned char)*p++;
		if (ch == 'u') {
			for (int i = 0; i < 4; i++, p++) {
				if (!fuzz_is_digit(*p) && !(*p >= 'a' && *p <= 'f') &&
				    !(*p >= 'A' && *p <= 'F'))
					return NULL;
			}
		} else if (ch == '\0' || !strchr("\"\\/bfnrt", ch)) {
			return NULL;
		}
	}
}

static inline const char *fuzz_json_number(const char *p)
{
	if (*p == '-')
		p++;
	if (*p == '0')
		p++;
	else if (fuzz_is_digit(*p))
		while (fuzz_is_digit(*p))
			p++;
	else
		return NULL;
	if (*p == '.') {
		if (!fuzz_is_digit(*++p))
			return NULL;
		while (fuzz_is_digit(*p))
			p++;
	}
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		if (!fuzz_is_digit(*p))
			return NULL;
		while (fuzz_is_digit(*p))
			p++;
	}
	return p;
}

/* Members of an object (close '}') or elements of an array (close ']'), after the opener. */
static inline const char *fuzz_json_members(const char *p, char close, unsigned depth)
{
	p = fuzz_json_ws(p);
	if (*p == close)
		return p + 1;
	for (;;) {
		if (close == '}') {
			p = fuzz_json_string(fuzz_json_ws(p));
			if (!p)
				return NULL;
			p = fuzz_json_ws(p);
			if (*p++ != ':')
				return NULL;
		}
		p = fuzz_json_value(p, depth + 1);
		if (!p)
			return NULL;
		p = fuzz_json_ws(p);
		if (*p == close)
			return p + 1;
		if (*p++ != ',')
			return NULL;
	}
}

static inline const char *fuzz_json_value(const char *p, unsigned depth)
{
	if (depth > 64)
		return NULL;
	p = fuzz_json_ws(p);
	switch (*p) {
	case '{':
		return fuzz_json_members(p + 1, '}', depth);
	case '[':
		return fuzz_json_members(p + 1, ']', depth);
	case '"':
		return fuzz_json_string(p);
	case 't':
		return strncmp(p, "true", 4) == 0 ? p + 4 : NULL;
	case 'f':
		return strncmp(p, "false", 5) == 0 ? p + 5 : NULL;
	case 'n':
		return strncmp(p, "null", 4) == 0 ? p + 4 : NULL;
	default:
		return fuzz_json_number(p);
	}
}

/* True when s is exactly one JSON object. */
static inline bool fuzz_json_is_object(const char *s)
{
	const char *end;

	if (*fuzz_json_ws(s) != '{')
		return false;
	end = fuzz_json_value(s, 0);
	return end && *fuzz_json_ws(end) == '\0';
}

/*
 * Writes v as JSON into a 16 KiB buffer, which must succeed and give one
 * valid JSON object; a short text must also fit a buffer of exactly its
 * length plus the NUL and fail cleanly with one octet less. Then describes v into
 * buffers of a few sizes, which must stay NUL-terminated.
 */
static inline void fuzz_check_value_output(const PacerGattValue *v)
{
	static const size_t describe_sizes[] = {1, 2, 9, 80, 512};
	char *buf = malloc(FUZZ_JSON_SIZE), *small;
	PacerJson j;
	size_t n;
	int r;

	fuzz_check(buf);
	pacer_json_init(&j, buf, FUZZ_JSON_SIZE);
	pacer_gatt_value_write_json(v, &j);
	r = pacer_json_finish(&j);
	fuzz_check(r >= 0);
	n = (size_t)r;
	fuzz_check(n < FUZZ_JSON_SIZE && strlen(buf) == n);
	fuzz_check(fuzz_json_is_object(buf));

	/* skipped for long texts (many RR intervals), where it would slow fuzzing down */
	if (n < FUZZ_JSON_EXACT_FIT_MAX) {
		small = malloc(n + 1);
		fuzz_check(small);
		pacer_json_init(&j, small, n + 1);
		pacer_gatt_value_write_json(v, &j);
		fuzz_check(pacer_json_finish(&j) == r && memcmp(small, buf, n + 1) == 0);
		pacer_json_init(&j, small, n);
		pacer_gatt_value_write_json(v, &j);
		fuzz_check(pacer_json_finish(&j) == -ENOBUFS && strlen(small) < n);
		free(small);
	}

	for (size_t i = 0; i < sizeof(describe_sizes) / sizeof(describe_sizes[0]); i++) {
		size_t size = describe_sizes[i];

		small = malloc(size);
		fuzz_check(small);
		pacer_gatt_value_describe(v, small, size);
		fuzz_check(memchr(small, '\0', size));
		free(small);
	}
	free(buf);
}

/*
 * Decodes the same bytes through pacer_gatt_decode(uuid16): it must return
 * what the direct decoder returned (r), leave *ret untouched on error and
 * report `kind` on success. Returns true when *ret holds a value.
 */
static inline bool fuzz_gatt_decode(uint16_t uuid16, PacerGattKind kind, const uint8_t *data,
				    size_t size, int r, PacerGattValue *ret)
{
	fuzz_poison(ret, sizeof(*ret));
	fuzz_check(pacer_gatt_decode(uuid16, data, size, ret) == r);
	if (r < 0) {
		fuzz_check(fuzz_is_poisoned(ret, sizeof(*ret)));
		return false;
	}
	fuzz_check(ret->kind == kind);
	fuzz_check(strcmp(pacer_gatt_kind_to_string(kind), "unknown") != 0);
	fuzz_check(pacer_gatt_characteristic_name(uuid16));
	return true;
}
