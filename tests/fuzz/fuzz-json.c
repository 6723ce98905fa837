/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * pacer_json_parse(): whatever it accepts, written again with pacer-json's
 * writer, reads back to the same writing (the two agree on every value,
 * string and nesting depth); strings come NUL-free and well-formed UTF-8; a
 * scratch buffer one octet short is refused before anything is read.
 */

#include <math.h>

#include "fuzz.h"

typedef struct {
	PacerJson j;
	bool object_key_next; /* inside an object, a key comes before each value */
} Rewriter;

static int rw_begin_object(void *u)
{
	pacer_json_begin_object(&((Rewriter *)u)->j);
	return 0;
}

static int rw_end_object(void *u)
{
	pacer_json_end_object(&((Rewriter *)u)->j);
	return 0;
}

static int rw_begin_array(void *u)
{
	pacer_json_begin_array(&((Rewriter *)u)->j);
	return 0;
}

static int rw_end_array(void *u)
{
	pacer_json_end_array(&((Rewriter *)u)->j);
	return 0;
}

static void check_text(const char *s, size_t len)
{
	fuzz_check(strlen(s) == len);
	fuzz_check(pacer_utf8_valid((const uint8_t *)s, len));
}

static int rw_key(const char *key, size_t len, void *u)
{
	check_text(key, len);
	pacer_json_key(&((Rewriter *)u)->j, key);
	return 0;
}

static int rw_string(const char *s, size_t len, void *u)
{
	check_text(s, len);
	pacer_json_string(&((Rewriter *)u)->j, s);
	return 0;
}

static int rw_number(double v, void *u)
{
	fuzz_check(isfinite(v));
	pacer_json_double(&((Rewriter *)u)->j, v);
	return 0;
}

static int rw_boolean(bool v, void *u)
{
	pacer_json_bool(&((Rewriter *)u)->j, v);
	return 0;
}

static int rw_null(void *u)
{
	pacer_json_null(&((Rewriter *)u)->j);
	return 0;
}

static const PacerJsonVisitor rewriter = {
	rw_begin_object, rw_end_object, rw_begin_array, rw_end_array,
	rw_key, rw_string, rw_number, rw_boolean, rw_null,
};

/* Parses text and writes it again into out (cap octets); returns the parse result. */
static int rewrite(const char *text, size_t len, char *out, size_t cap, int *ret_written)
{
	char *scratch = malloc(len + 1);
	size_t pos = SIZE_MAX;
	Rewriter rw;
	int r;

	fuzz_check(scratch);
	pacer_json_init(&rw.j, out, cap);
	r = pacer_json_parse(text, len, &rewriter, &rw, scratch, len + 1, &pos);
	fuzz_check(r == 0 || r == -EINVAL || r == -E2BIG);
	fuzz_check(r == -EINVAL ? pos <= len : pos == SIZE_MAX);
	if (r == 0)
		*ret_written = pacer_json_finish(&rw.j);
	free(scratch);
	return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* a number grows at most from "1e9" to 16 digits, anything else less */
	size_t cap = 8 * size + 64;
	char *text = malloc(size + 1), *once = malloc(cap), *twice = malloc(cap);
	int n1 = -1, n2 = -1;

	fuzz_check(text && once && twice);
	if (size > 0)
		memcpy(text, data, size); /* counted: no NUL after it, so overreads show */
	if (rewrite(text, size, once, cap, &n1) == 0) {
		fuzz_check(n1 > 0);
		fuzz_check(rewrite(once, (size_t)n1, twice, cap, &n2) == 0);
		fuzz_check(n2 == n1 && memcmp(once, twice, (size_t)n1) == 0);
	}
	fuzz_check(pacer_json_parse(text, size, &rewriter, NULL, twice, size, NULL) == -ENOBUFS);
	free(twice);
	free(once);
	free(text);
	return 0;
}
