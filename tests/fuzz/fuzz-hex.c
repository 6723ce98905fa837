/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pacer_hex_decode() on a NUL-terminated copy, roomy and tight buffers; hex_encode back. */

#include "fuzz.h"
#include "pacer-hex.h"

#define TIGHT_CAP 4

static bool is_hex(char ch)
{
	return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F');
}

static bool is_separator(char ch)
{
	return ch == ' ' || ch == '\t' || ch == ':' || ch == '-';
}

/* Whether s is valid hex text (groups of an even number of digits); *ret_n: its byte count. */
static bool model_valid(const char *s, size_t *ret_n)
{
	size_t digits = 0, run = 0;

	for (;; s++) {
		if (is_hex(*s)) {
			digits++;
			run++;
			continue;
		}
		if (run % 2 != 0)
			return false;
		run = 0;
		if (*s == '\0')
			break;
		if (!is_separator(*s))
			return false;
	}
	*ret_n = digits / 2;
	return true;
}

/* Decodes s into a buffer of exactly cap octets and checks the result against the model. */
static void decode(const char *s, size_t cap, uint8_t *ret, size_t *ret_len)
{
	uint8_t *buf = malloc(cap > 0 ? cap : 1);
	size_t len, pos, n = 0;
	bool valid = model_valid(s, &n);
	int r;

	fuzz_check(buf);
	fuzz_poison(&len, sizeof(len));
	fuzz_poison(&pos, sizeof(pos));
	r = pacer_hex_decode(s, buf, cap, &len, &pos);
	fuzz_check(r == 0 || r == -EINVAL || r == -E2BIG);
	if (r < 0)
		fuzz_check(fuzz_is_poisoned(&len, sizeof(len)));
	if (r == -EINVAL) {
		/* pos is the start of the broken pair: a stray character or a lone digit */
		fuzz_check(!valid && pos < strlen(s) && !is_separator(s[pos]));
		fuzz_check(!is_hex(s[pos]) || !is_hex(s[pos + 1]));
	}
	if (r == -E2BIG)
		fuzz_check(fuzz_is_poisoned(&pos, sizeof(pos)) && (!valid || n > cap));
	if (r == 0) {
		fuzz_check(valid && len == n && len <= cap && 2 * len <= strlen(s));
		fuzz_check(fuzz_is_poisoned(&pos, sizeof(pos)));
		memcpy(ret, buf, len);
		*ret_len = len;
	} else {
		fuzz_check(!valid || n > cap);
	}
	free(buf);
}

/*
 * pacer_hex_decode_n() on the input as it is, with no NUL after it (so that a
 * sanitizer sees any read past the end), gives what pacer_hex_decode() gives
 * for the same text as a string.
 */
static void decode_counted(const uint8_t *data, size_t size, const char *s)
{
	size_t cap = size / 2, len = SIZE_MAX, pos = SIZE_MAX, len_s = SIZE_MAX, pos_s = SIZE_MAX;
	uint8_t *buf = malloc(cap + 1), *buf_s = malloc(cap + 1);
	char *exact = malloc(size > 0 ? size : 1); /* the text and nothing after it */
	int r, r_s;

	fuzz_check(buf && buf_s && exact);
	if (memchr(data, '\0', size))
		goto out; /* a string stops at the NUL, the counted text does not */
	if (size > 0)
		memcpy(exact, data, size);
	r = pacer_hex_decode_n(exact, size, buf, cap, &len, &pos);
	r_s = pacer_hex_decode(s, buf_s, cap, &len_s, &pos_s);
	fuzz_check(r == r_s && len == len_s && pos == pos_s);
	if (r == 0)
		fuzz_check(memcmp(buf, buf_s, len) == 0);
out:
	free(exact);
	free(buf_s);
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_strdup(data, size), *text;
	uint8_t *bytes = malloc(size / 2 + 1), *tight = malloc(TIGHT_CAP), *again;
	size_t n = SIZE_MAX, n_tight = SIZE_MAX, n_again = SIZE_MAX, text_size;

	fuzz_check(bytes && tight);
	decode(s, size / 2, bytes, &n);
	decode_counted(data, size, s);
	decode(s, TIGHT_CAP, tight, &n_tight);
	/* a buffer too small for the whole value must never give a partial success */
	fuzz_check(n_tight == SIZE_MAX || (n_tight == n && memcmp(tight, bytes, n) == 0));
	if (n == SIZE_MAX)
		goto out;

	/* "aa bb cc" needs 3 octets a byte with the NUL; one less drops the last byte */
	text_size = n > 0 ? 3 * n : 1;
	text = malloc(text_size);
	again = malloc(n + 1);
	fuzz_check(text && again);
	pacer_hex_encode(bytes, n, text, text_size);
	fuzz_check(strlen(text) == text_size - 1);
	decode(text, n, again, &n_again);
	fuzz_check(n_again == n && memcmp(again, bytes, n) == 0);
	if (n > 0) {
		pacer_hex_encode(bytes, n, text, text_size - 1);
		fuzz_check(strlen(text) < text_size - 1);
		n_again = SIZE_MAX;
		decode(text, n, again, &n_again);
		fuzz_check(n_again == n - 1 && memcmp(again, bytes, n - 1) == 0);
	}
	free(again);
	free(text);
out:
	free(tight);
	free(bytes);
	free(s);
	return 0;
}
