/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Workout presets: the text of a presets file (config/presets.conf), one
 * preset a line:
 *
 *     # a comment
 *     intervals = 10min@E, 4x(400m@5k, 2min rest), 10min@E   # also a comment
 *
 * A name is letters, digits, '-' and '_'; spaces around the name and the
 * workout are ignored, and '#' starts a comment anywhere (workouts have no
 * '#'). Blank lines and comments are skipped; the first of two presets with
 * the same name wins. Nothing here reads files: callers pass the contents.
 */

#include <stddef.h>

typedef struct {
	const char *name; /* into the contents, not NUL-terminated */
	size_t name_len;
	const char *text; /* the workout, not NUL-terminated */
	size_t text_len;
	size_t line; /* 1-based */
} PacerPreset;

typedef struct {
	const char *contents;
	size_t at;   /* offset of the next line */
	size_t line; /* lines read so far */
} PacerPresetsIter;

void pacer_presets_iter_init(PacerPresetsIter *it, const char *contents);

/*
 * The next preset: returns 1 and fills *ret; 0 at the end; -EBADMSG for a
 * line that is neither blank, a comment nor "name = workout" (ret->line says
 * which; the iterator has moved past it, so a caller may go on).
 */
int pacer_presets_iter_next(PacerPresetsIter *it, PacerPreset *ret);

/*
 * Copies the workout of preset `name` (an exact, case-sensitive match) into
 * buf, NUL-terminated. Malformed lines are skipped. Returns 0, -ENOENT when
 * there is no such preset, -E2BIG when the workout does not fit size octets
 * with its NUL (buf is then left untouched), -EINVAL for a NULL argument.
 */
int pacer_presets_lookup(const char *contents, const char *name, char *buf, size_t size);
