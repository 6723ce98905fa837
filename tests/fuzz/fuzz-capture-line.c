/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * pacer_capture_parse_line() on a NUL-terminated copy. A parsed record is
 * written back as a line, which must parse to the same record, and its value
 * goes through pacer_gatt_decode() and the JSON writer like pacerctl dump.
 */

#include <inttypes.h>

#include "fuzz.h"
#include "pacer-capture.h"
#include "pacer-hex.h"

/* time, address, 128-bit UUID and 512 bytes of hex, with spaces */
#define LINE_SIZE                                                                                  \
	(32 + PACER_ADDRESS_STRING_SIZE + PACER_UUID_STRING_SIZE + 3 * PACER_CAPTURE_MAX_VALUE)

static bool records_equal(const PacerCaptureRecord *a, const PacerCaptureRecord *b)
{
	return a->t_us == b->t_us && strcmp(a->address, b->address) == 0 &&
	       pacer_uuid_equal(&a->uuid, &b->uuid) && a->len == b->len &&
	       memcmp(a->value, b->value, a->len) == 0;
}

static void check_record(const PacerCaptureRecord *rec)
{
	char *line = malloc(LINE_SIZE), uuid[PACER_UUID_STRING_SIZE];
	PacerCaptureRecord again;
	PacerCaptureError err;
	PacerGattValue v;
	uint16_t u16;
	int n, r;

	fuzz_check(line);
	fuzz_check(rec->len <= PACER_CAPTURE_MAX_VALUE);
	fuzz_check(memchr(rec->address, '\0', sizeof(rec->address)) == rec->address + 17);
	fuzz_check(pacer_address_validate(rec->address, 17) == 0);
	for (size_t i = 0; i < 17; i++)
		fuzz_check(!(rec->address[i] >= 'a' && rec->address[i] <= 'f'));

	pacer_uuid_format(&rec->uuid, uuid);
	n = snprintf(line, LINE_SIZE, "%" PRIu64 ".%06" PRIu64 " %s %s ", rec->t_us / 1000000,
		     rec->t_us % 1000000, rec->address, uuid);
	fuzz_check(n > 0 && (size_t)n < LINE_SIZE);
	pacer_hex_encode(rec->value, rec->len, line + n, LINE_SIZE - (size_t)n);
	if (rec->len == 0)
		strcat(line, "00"); /* an empty value cannot be written; compare the rest */
	fuzz_poison(&again, sizeof(again));
	fuzz_check(pacer_capture_parse_line(line, &again, &err) == 1);
	if (rec->len == 0)
		again.len = 0;
	fuzz_check(records_equal(rec, &again));

	r = pacer_uuid_to_u16(&rec->uuid, &u16);
	if (r == 0 && pacer_gatt_characteristic_name(u16)) {
		fuzz_poison(&v, sizeof(v));
		r = pacer_gatt_decode(u16, rec->value, rec->len, &v);
		fuzz_check(r == 0 || fuzz_is_documented_error(r));
		if (r == 0)
			fuzz_check_value_output(&v);
		else
			fuzz_check(fuzz_is_poisoned(&v, sizeof(v)));
	} else if (r == 0) {
		fuzz_check(pacer_gatt_decode(u16, rec->value, rec->len, &v) == -ENOENT);
	}
	free(line);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *line = fuzz_strdup(data, size);
	PacerCaptureRecord rec;
	PacerCaptureError err;
	size_t start;
	int r;

	fuzz_poison(&rec, sizeof(rec));
	fuzz_poison(&err, sizeof(err));
	r = pacer_capture_parse_line(line, &rec, &err);
	fuzz_check(r == 1 || r == 0 || r == -EINVAL);
	if (r < 1)
		fuzz_check(fuzz_is_poisoned(&rec, sizeof(rec)));
	if (r == 0) {
		/* blank or comment: nothing reported */
		start = strspn(line, " \t");
		fuzz_check(strchr("#\r\n", line[start]));
		fuzz_check(fuzz_is_poisoned(&err, sizeof(err)));
	} else if (r < 0) {
		fuzz_check(err.column >= 1 && err.column <= strlen(line) + 1);
		fuzz_check(err.what && err.what[0] != '\0');
	} else {
		check_record(&rec);
	}
	free(line);
	return 0;
}
