/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pacer_uuid_parse() on a NUL-terminated copy; a parsed UUID must survive format and parse. */

#include "fuzz.h"
#include "pacer-uuid.h"

static int hex_digit(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* The accepted forms, written out independently: 0 and *ret, or -EINVAL. */
static int model(const char *s, PacerUuid *ret)
{
	size_t len = strlen(s), first = 0, n = 0;

	pacer_uuid_from_u16(0, ret); /* the Base UUID */
	if (len == 36) {
		for (size_t i = 0; i < 36; i++) {
			if (i == 8 || i == 13 || i == 18 || i == 23) {
				if (s[i] != '-')
					return -EINVAL;
				continue;
			}
			if (hex_digit(s[i]) < 0)
				return -EINVAL;
			ret->bytes[n / 2] = (uint8_t)(ret->bytes[n / 2] << 4 | hex_digit(s[i]));
			n++;
		}
		return 0;
	}
	if (len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		s += 2;
		len -= 2;
	}
	if (len == 4)
		first = 2; /* 16-bit: octets 2 and 3 of the Base UUID */
	else if (len != 8)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		if (hex_digit(s[i]) < 0)
			return -EINVAL;
		if (i % 2 == 0)
			ret->bytes[first + i / 2] = 0;
		ret->bytes[first + i / 2] =
			(uint8_t)(ret->bytes[first + i / 2] << 4 | hex_digit(s[i]));
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_strdup(data, size), text[PACER_UUID_STRING_SIZE];
	PacerUuid u, again, expected;
	uint16_t u16;
	int r;

	fuzz_poison(&u, sizeof(u));
	r = pacer_uuid_parse(s, &u);
	fuzz_check(r == 0 || r == -EINVAL);
	fuzz_check(model(s, &expected) == r);
	if (r < 0) {
		fuzz_check(fuzz_is_poisoned(&u, sizeof(u)));
		free(s);
		return 0;
	}
	fuzz_check(pacer_uuid_equal(&u, &expected));

	fuzz_poison(text, sizeof(text));
	pacer_uuid_format(&u, text);
	fuzz_check(text[36] == '\0' && strlen(text) == 36);
	for (size_t i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23)
			fuzz_check(text[i] == '-');
		else
			fuzz_check(hex_digit(text[i]) >= 0 && !(text[i] >= 'A' && text[i] <= 'F'));
	}
	fuzz_poison(&again, sizeof(again));
	fuzz_check(pacer_uuid_parse(text, &again) == 0);
	fuzz_check(pacer_uuid_equal(&u, &again));
	if (strlen(s) == 36) {
		/* the 128-bit form reads back as itself, in lower case */
		for (size_t i = 0; i < 36; i++)
			fuzz_check(text[i] ==
				   (s[i] >= 'A' && s[i] <= 'F' ? s[i] - 'A' + 'a' : s[i]));
	}

	r = pacer_uuid_to_u16(&u, &u16);
	fuzz_check(r == 0 || r == -ERANGE);
	if (strlen(s) == 4 || strlen(s) == 6)
		fuzz_check(r == 0); /* a 16-bit form is always on the Base UUID */
	if (r == 0) {
		pacer_uuid_from_u16(u16, &again);
		fuzz_check(pacer_uuid_equal(&u, &again));
	}
	free(s);
	return 0;
}
