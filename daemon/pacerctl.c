/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * pacerctl: the command-line face of Pacer.
 *
 * Offline verbs work on bytes and files without a daemon or a bus. Exit codes
 * (DESIGN.md section 4): 0 success, 64 usage, 65 bad input data, 66 an input
 * file that cannot be read. Errors are one line on stderr; nothing goes to
 * stdout for a command that fails.
 */

#include <errno.h>
#include <locale.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pacer-capture.h"
#include "pacer-gatt-json.h"
#include "pacer-gatt.h"
#include "pacer-hex.h"
#include "pacer-json.h"
#include "pacer-uuid.h"

#define EXIT_USAGE 64
#define EXIT_DATA 65
#define EXIT_NOINPUT 66

#define JSON_BUFFER_SIZE 16384

static void usage(FILE *out)
{
	fprintf(out, "Usage: pacerctl VERB [ARGS]\n"
		     "\n"
		     "Offline verbs:\n"
		     "  decode UUID HEX     decode one characteristic value, print one JSON object\n"
		     "  dump FILE [--json]  decode every notification of a capture file\n"
		     "\n"
		     "  help                this text\n"
		     "  version             print the version\n"
		     "\n"
		     "UUID: 2a37, 0x2A37 or the 128-bit form. HEX: bytes in hex; spaces and\n"
		     "colons allowed. Exit codes: 0 ok, 64 usage, 65 bad data, 66 unreadable file.\n");
}

__attribute__((format(printf, 1, 2))) static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("pacerctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(" (see 'pacerctl help')\n", stderr);
	return EXIT_USAGE;
}

static void list_supported(char *buf, size_t size)
{
	size_t n, at = 0;
	const uint16_t *uuids = pacer_gatt_supported_uuids(&n);

	buf[0] = '\0';
	for (size_t i = 0; i < n && at < size; i++) {
		int w = snprintf(buf + at, size - at, "%s%04x", i ? " " : "", uuids[i]);

		if (w < 0)
			break;
		at += (size_t)w;
	}
}

/* Parses a UUID argument into the 16-bit UUID of a characteristic Pacer decodes. */
static int parse_characteristic(const char *arg, uint16_t *ret)
{
	char known[128];
	PacerUuid uuid;
	uint16_t u16;

	list_supported(known, sizeof(known));
	if (pacer_uuid_parse(arg, &uuid) < 0)
		return usage_error("'%s' is not a UUID (expected e.g. 2a37, 0x2A37 or the 128-bit "
				   "form)",
				   arg);
	if (pacer_uuid_to_u16(&uuid, &u16) < 0 || !pacer_gatt_characteristic_name(u16))
		return usage_error("no decoder for UUID '%s'; Pacer decodes %s", arg, known);
	*ret = u16;
	return 0;
}

/* Joins args with spaces so that `decode 2a37 16 3c` works unquoted. */
static char *join_args(int argc, char **argv)
{
	size_t total = 1;
	char *s;

	for (int i = 0; i < argc; i++)
		total += strlen(argv[i]) + 1;
	s = calloc(1, total);
	if (!s)
		return NULL;
	for (int i = 0; i < argc; i++) {
		if (i > 0)
			strcat(s, " ");
		strcat(s, argv[i]);
	}
	return s;
}

static int print_value_json(const PacerGattValue *v)
{
	char buf[JSON_BUFFER_SIZE];
	PacerJson j;

	pacer_json_init(&j, buf, sizeof(buf));
	pacer_gatt_value_write_json(v, &j);
	if (pacer_json_finish(&j) < 0) {
		fprintf(stderr, "pacerctl: internal error: JSON output too large\n");
		return EXIT_FAILURE;
	}
	puts(buf);
	return 0;
}

static int verb_decode(int argc, char **argv)
{
	uint8_t bytes[PACER_CAPTURE_MAX_VALUE];
	PacerGattValue value;
	size_t len = 0, pos = 0;
	uint16_t u16 = 0;
	char *hex;
	int r;

	if (argc < 2)
		return usage_error("decode needs a UUID and the value's bytes in hex");
	r = parse_characteristic(argv[0], &u16);
	if (r != 0)
		return r;

	hex = join_args(argc - 1, argv + 1);
	if (!hex) {
		fprintf(stderr, "pacerctl: out of memory\n");
		return EXIT_FAILURE;
	}
	r = pacer_hex_decode(hex, bytes, sizeof(bytes), &len, &pos);
	if (r == -E2BIG) {
		fprintf(stderr, "pacerctl: decode: HEX is longer than %d bytes\n",
			PACER_CAPTURE_MAX_VALUE);
	} else if (r < 0) {
		fprintf(stderr, "pacerctl: decode: HEX column %zu: expected hex digits in pairs\n",
			pos + 1);
	}
	free(hex);
	if (r < 0)
		return EXIT_DATA;

	r = pacer_gatt_decode(u16, bytes, len, &value);
	if (r < 0) {
		fprintf(stderr, "pacerctl: decode %04x (%s): malformed payload of %zu bytes: %s\n",
			u16, pacer_gatt_characteristic_name(u16), len, pacer_gatt_strerror(r));
		return EXIT_DATA;
	}
	return print_value_json(&value);
}

typedef struct {
	const char *path;
	bool json;
	unsigned long n_records;
	unsigned long n_malformed;
	uint64_t first_us;
	uint64_t last_us;
} DumpState;

static void dump_record_json(const DumpState *st, const PacerCaptureRecord *rec, uint16_t u16,
			     const PacerGattValue *value)
{
	char buf[JSON_BUFFER_SIZE], uuid[8];
	PacerJson j;

	snprintf(uuid, sizeof(uuid), "%04x", u16);
	pacer_json_init(&j, buf, sizeof(buf));
	pacer_json_begin_object(&j);
	pacer_json_key(&j, "t_s");
	pacer_json_double(&j, (double)rec->t_us / 1e6);
	pacer_json_key(&j, "address");
	pacer_json_string(&j, rec->address);
	pacer_json_key(&j, "uuid");
	pacer_json_string(&j, uuid);
	pacer_gatt_value_write_json_members(value, &j);
	pacer_json_end_object(&j);
	if (pacer_json_finish(&j) >= 0)
		puts(buf);
	(void)st;
}

static void dump_record(DumpState *st, const PacerCaptureRecord *rec, unsigned long line_no)
{
	char line[512], uuid_str[PACER_UUID_STRING_SIZE];
	PacerGattValue value;
	uint16_t u16 = 0;
	int r = -ENOENT;

	if (pacer_uuid_to_u16(&rec->uuid, &u16) == 0)
		r = pacer_gatt_decode(u16, rec->value, rec->len, &value);
	if (r == -ENOENT) {
		pacer_uuid_format(&rec->uuid, uuid_str);
		if (!st->json)
			printf("%9.3f  %s  %-10s (no decoder for %s, %zu bytes)\n",
			       (double)rec->t_us / 1e6, rec->address, "?", uuid_str, rec->len);
		return;
	}
	if (r < 0) {
		st->n_malformed++;
		fprintf(stderr, "%s:%lu: %04x payload of %zu bytes is malformed: %s\n", st->path,
			line_no, u16, rec->len, pacer_gatt_strerror(r));
		return;
	}
	if (st->json) {
		dump_record_json(st, rec, u16, &value);
		return;
	}
	pacer_gatt_value_describe(&value, line, sizeof(line));
	printf("%9.3f  %s  %-10s %s\n", (double)rec->t_us / 1e6, rec->address,
	       pacer_gatt_kind_to_string(value.kind), line);
}

static int verb_dump(int argc, char **argv)
{
	DumpState st = {0};
	PacerCaptureRecord rec;
	PacerCaptureError err;
	unsigned long line_no = 0;
	size_t cap = 0;
	char *line = NULL;
	FILE *f;

	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			st.json = true;
		else if (argv[i][0] == '-' && argv[i][1] != '\0')
			return usage_error("dump: unknown option '%s'", argv[i]);
		else if (!st.path)
			st.path = argv[i];
		else
			return usage_error("dump takes one capture file");
	}
	if (!st.path)
		return usage_error("dump needs a capture file ('-' for standard input)");

	f = strcmp(st.path, "-") == 0 ? stdin : fopen(st.path, "re");
	if (!f) {
		fprintf(stderr, "pacerctl: %s: %s\n", st.path, strerror(errno));
		return EXIT_NOINPUT;
	}
	while (getline(&line, &cap, f) >= 0) {
		int r = pacer_capture_parse_line(line, &rec, &err);

		line_no++;
		if (r == 0)
			continue;
		if (r < 0) {
			fflush(stdout);
			fprintf(stderr, "%s:%lu:%zu: expected %s\n", st.path, line_no, err.column,
				err.what);
			free(line);
			if (f != stdin)
				fclose(f);
			return EXIT_DATA;
		}
		if (st.n_records == 0)
			st.first_us = rec.t_us;
		st.last_us = rec.t_us;
		st.n_records++;
		dump_record(&st, &rec, line_no);
	}
	free(line);
	if (f != stdin)
		fclose(f);

	if (!st.json)
		printf("%lu notifications over %.1f s, %lu malformed\n", st.n_records,
		       st.n_records ? (double)(st.last_us - st.first_us) / 1e6 : 0.0,
		       st.n_malformed);
	return st.n_malformed > 0 ? EXIT_DATA : 0;
}

int main(int argc, char **argv)
{
	const char *verb;

	setlocale(LC_ALL, "");
	setlocale(LC_NUMERIC, "C");

	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	verb = argv[1];
	if (strcmp(verb, "decode") == 0)
		return verb_decode(argc - 2, argv + 2);
	if (strcmp(verb, "dump") == 0)
		return verb_dump(argc - 2, argv + 2);
	if (strcmp(verb, "help") == 0 || strcmp(verb, "--help") == 0 || strcmp(verb, "-h") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(verb, "version") == 0 || strcmp(verb, "--version") == 0) {
		printf("pacerctl %s\n", PACER_VERSION);
		return 0;
	}
	return usage_error("unknown verb '%s'", verb);
}
