/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "pacer-text.h"

#include <stdarg.h>
#include <stdio.h>

void pacer_text_init(PacerText *t, char *buf, size_t size)
{
	*t = (PacerText){.buf = buf, .size = size};
	if (size > 0)
		buf[0] = '\0';
}

void pacer_text_add(PacerText *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (t->len + 1 >= t->size)
		return;
	va_start(ap, fmt);
	n = vsnprintf(t->buf + t->len, t->size - t->len, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	t->len += (size_t)n;
	if (t->len >= t->size)
		t->len = t->size - 1;
}
