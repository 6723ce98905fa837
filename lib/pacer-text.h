/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Sentences and short texts built into a caller's fixed buffer. */

#include <stddef.h>

/* Appends to a fixed buffer, truncating silently; the buffer stays NUL-terminated. */
typedef struct {
	char *buf;
	size_t size;
	size_t len;
} PacerText;

void pacer_text_init(PacerText *t, char *buf, size_t size);
__attribute__((format(printf, 2, 3))) void pacer_text_add(PacerText *t, const char *fmt, ...);
