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
