/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * A small JSON writer into a caller's buffer: no allocation, no locale.
 * Writers call the functions in document order; commas and colons are
 * placed automatically. Errors (buffer full, nesting too deep) are sticky
 * and reported once by pacer_json_finish().
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PACER_JSON_MAX_DEPTH 32

typedef struct {
	char *buf;
	size_t cap;
	size_t len;
	int error;
	unsigned depth;
	bool after_key;
	uint32_t has_items; /* bit d: the container at depth d already has a member */
} PacerJson;

void pacer_json_init(PacerJson *j, char *buf, size_t cap);

void pacer_json_begin_object(PacerJson *j);
void pacer_json_end_object(PacerJson *j);
void pacer_json_begin_array(PacerJson *j);
void pacer_json_end_array(PacerJson *j);

void pacer_json_key(PacerJson *j, const char *key);
/*
 * pacer_json_key() for a key given as a string literal with nothing to
 * escape ('"', '\\', control characters): quoted at compile time, written
 * with one copy (the hot paths write some six keys a notification).
 */
#define PACER_JSON_KEY_LITERAL(j, key)                                                          \
	pacer_json_key_quoted((j), "\"" key "\":", sizeof("\"" key "\":") - 1)
void pacer_json_key_quoted(PacerJson *j, const char *quoted, size_t len);
void pacer_json_string(PacerJson *j, const char *s);
void pacer_json_int(PacerJson *j, int64_t v);
void pacer_json_bool(PacerJson *j, bool v);
void pacer_json_null(PacerJson *j);
/* A short form that reads back as the same double ("0.1", not "0.10000000000000001"); null if not finite. */
void pacer_json_double(PacerJson *j, double v);
/* At most `decimals` decimals, trailing zeros dropped; null if not finite. */
void pacer_json_fixed(PacerJson *j, double v, unsigned decimals);

/* "key": [lo, hi] with open bounds (<= 0) as null, or "key": null when !has; one decimal. */
void pacer_json_band(PacerJson *j, const char *key, bool has, double lo, double hi);

/* Returns the length written (the buffer is NUL-terminated), or -ENOBUFS / -EINVAL. */
int pacer_json_finish(PacerJson *j);

/*
 * A JSON reader: one value (whitespace around it allowed) walked depth-first
 * through the visitor's callbacks, in document order. Strings and member
 * names come unescaped, NUL-terminated and well-formed UTF-8 (\u0000 and lone
 * surrogates are refused); they live in `scratch` until the call returns,
 * which needs len + 1 octets. Numbers are doubles and must be finite.
 * Callbacks may be NULL; one that returns a negative value stops the walk.
 *
 * Returns 0; -EINVAL for malformed text (*ret_pos, if not NULL: the offset of
 * the offending octet); -E2BIG when containers nest PACER_JSON_MAX_DEPTH deep
 * (what pacer_json_* can write reads back); -ENOBUFS when scratch is too
 * small; or what a callback returned.
 */
typedef struct {
	int (*begin_object)(void *user_data);
	int (*end_object)(void *user_data);
	int (*begin_array)(void *user_data);
	int (*end_array)(void *user_data);
	int (*key)(const char *key, size_t len, void *user_data);
	int (*string)(const char *s, size_t len, void *user_data);
	int (*number)(double v, void *user_data);
	int (*boolean)(bool v, void *user_data);
	int (*null)(void *user_data);
} PacerJsonVisitor;

int pacer_json_parse(const char *text, size_t len, const PacerJsonVisitor *visitor, void *user_data,
		     char *scratch, size_t scratch_cap, size_t *ret_pos);

/* The length of the well-formed UTF-8 character at s (0 < left octets), or 0 if it is not one. */
size_t pacer_utf8_char(const uint8_t *s, size_t left);
/* Whether `len` octets at `s` are well-formed UTF-8 (no overlongs, surrogates or > U+10FFFF). */
bool pacer_utf8_valid(const uint8_t *s, size_t len);
