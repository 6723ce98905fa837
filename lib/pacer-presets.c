/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "pacer-presets.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

static bool is_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r';
}

static bool is_name_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       ch == '-' || ch == '_';
}

/* [*start, *end) without the spaces at either end. */
static void trim(const char *s, size_t *start, size_t *end)
{
	while (*start < *end && is_space(s[*start]))
		(*start)++;
	while (*end > *start && is_space(s[*end - 1]))
		(*end)--;
}

void pacer_presets_iter_init(PacerPresetsIter *it, const char *contents)
{
	it->contents = contents ? contents : "";
	it->at = 0;
	it->line = 0;
}

/* Splits one line [start, stop) into a preset: 1, 0 (blank or comment) or -EBADMSG. */
static int parse_line(const char *s, size_t start, size_t stop, PacerPreset *ret)
{
	const char *hash = memchr(s + start, '#', stop - start);
	const char *eq;
	size_t name_start = start, name_end, text_start, text_end;

	if (hash)
		stop = (size_t)(hash - s);
	trim(s, &start, &stop);
	if (start == stop)
		return 0;
	eq = memchr(s + start, '=', stop - start);
	if (!eq)
		return -EBADMSG;
	name_start = start;
	name_end = (size_t)(eq - s);
	text_start = name_end + 1;
	text_end = stop;
	trim(s, &name_start, &name_end);
	trim(s, &text_start, &text_end);
	if (name_start == name_end || text_start == text_end)
		return -EBADMSG;
	for (size_t i = name_start; i < name_end; i++) {
		if (!is_name_char(s[i]))
			return -EBADMSG;
	}
	ret->name = s + name_start;
	ret->name_len = name_end - name_start;
	ret->text = s + text_start;
	ret->text_len = text_end - text_start;
	return 1;
}

int pacer_presets_iter_next(PacerPresetsIter *it, PacerPreset *ret)
{
	const char *s = it->contents;

	while (s[it->at] != '\0') {
		size_t start = it->at, stop = start;
		int r;

		while (s[stop] != '\0' && s[stop] != '\n')
			stop++;
		it->at = s[stop] == '\n' ? stop + 1 : stop;
		it->line++;
		ret->line = it->line;
		r = parse_line(s, start, stop, ret);
		if (r != 0)
			return r;
	}
	return 0;
}

int pacer_presets_lookup(const char *contents, const char *name, char *buf, size_t size)
{
	PacerPresetsIter it;
	PacerPreset p;
	size_t len;
	int r;

	if (!contents || !name || !buf)
		return -EINVAL;
	len = strlen(name);
	pacer_presets_iter_init(&it, contents);
	while ((r = pacer_presets_iter_next(&it, &p)) != 0) {
		if (r < 0 || p.name_len != len || memcmp(p.name, name, len) != 0)
			continue;
		if (p.text_len >= size)
			return -E2BIG;
		memcpy(buf, p.text, p.text_len);
		buf[p.text_len] = '\0';
		return 0;
	}
	return -ENOENT;
}
