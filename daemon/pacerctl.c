/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * pacerctl: the command-line face of Pacer.
 *
 * Offline verbs work on bytes and files without a daemon or a bus. Exit codes
 * (DESIGN.md section 4): 0 success, 64 usage, 65 bad input data, 66 an input
 * file that cannot be read. Errors are one line on stderr; nothing goes to
 * stdout for a command that fails.
 *
 * PACER_PRESETS_PATH (the installed presets file) and PACER_PRESETS_SOURCE_PATH
 * (the source tree's, for running from the build directory) come from meson.
 */

#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pacer-capture.h"
#include "pacer-gatt-json.h"
#include "pacer-gatt.h"
#include "pacer-hex.h"
#include "pacer-json.h"
#include "pacer-presets.h"
#include "pacer-uuid.h"
#include "pacer-workout.h"
#include "pacer-zones.h"
#include "pacerctl-online.h"
#include "pacerctl-history.h"
#include "pacerctl.h"


#define JSON_BUFFER_SIZE 16384

static void usage(FILE *out)
{
	fprintf(out, "Usage: pacerctl VERB [ARGS]\n"
		     "\n"
		     "Offline verbs:\n"
		     "  decode UUID HEX     decode one characteristic value, print one JSON object\n"
		     "  dump FILE [--json]  decode every notification of a capture file\n"
		     "  zones [OPTIONS]     heart-rate and pace zones, race predictions (JSON)\n"
		     "                      options: --max-hr N --resting-hr N --lthr N --age N\n"
		     "                      --race DIST=TIME (5k=19:57, half=1:31:35, 800=2:10)\n"
		     "  plan WORKOUT|PRESET [--presets FILE] [zones options]\n"
		     "                      expand a workout ('10min@E, 4x(400m@5k, 2min rest),\n"
		     "                      10min@E') or a preset into steps (JSON)\n"
		     "  simulate --workout WORKOUT|PRESET [--seed N] [--treadmill]\n"
		     "           [--treadmill-and-footpod] [--strides] [--fast-rep N[:PCT]]\n"
		     "           [--contact-loss START:SECONDS] [--footpod-factor F] [zones options]\n"
		     "                      a virtual runner does the workout; prints a capture\n"
		     "  replay FILE [--workout WORKOUT|PRESET] [--text] [--imperial] [--no-auto-start]\n"
		     "           [zones options]\n"
		     "                      run a capture through metrics and coach; prints events\n"
		     "                      and a summary as JSON Lines\n"
		     "  history [--dir DIR] [--json]\n"
		     "                      the runs pacerd recorded (default dir /var/lib/pacer):\n"
		     "                      date, duration, distance, pace, HR, FIT and TCX files\n"
		     "\n"
		     "Online verbs (pacerd's D-Bus API; each takes --json, and --system (default)\n"
		     "or --session):\n"
		     "  status              the workout, its step and the live metrics\n"
		     "  watch               the same, live, until Ctrl-C (lines when not a terminal)\n"
		     "  sensors             the sensors pacerd uses\n"
		     "  start [WORKOUT|PRESET]\n"
		     "                      start a workout now (none: the queued one, or a free run)\n"
		     "  stop, lap, pause, resume\n"
		     "                      end the workout early, end the step, pause, resume\n"
		     "\n"
		     "  help                this text\n"
		     "  version             print the version\n"
		     "\n"
		     "UUID: 2a37, 0x2A37 or the 128-bit form. HEX: bytes in hex; spaces and\n"
		     "colons allowed. Exit codes: 0 ok, 64 usage, 65 bad data, 66 unreadable file;\n"
		     "online: 69 pacerd not running, 75 not now (busy, no workout), 77 denied.\n");
}

__attribute__((format(printf, 1, 2))) int usage_error(const char *fmt, ...)
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
char *join_args(int argc, char **argv)
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

/* read_capture()'s callback: counts the notification, then prints it. */
static int dump_capture_record(const PacerCaptureRecord *rec, unsigned long line_no,
			       void *user_data)
{
	DumpState *st = user_data;

	if (st->n_records == 0)
		st->first_us = rec->t_us;
	st->last_us = rec->t_us;
	st->n_records++;
	dump_record(st, rec, line_no);
	return 0;
}

static int verb_dump(int argc, char **argv)
{
	DumpState st = {0};
	int r;

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

	r = read_capture(st.path, dump_capture_record, &st);
	if (r != 0)
		return r;
	if (!st.json)
		printf("%lu notifications over %.1f s, %lu malformed\n", st.n_records,
		       st.n_records ? (double)(st.last_us - st.first_us) / 1e6 : 0.0,
		       st.n_malformed);
	return st.n_malformed > 0 ? EXIT_DATA : 0;
}

/*
 * The athlete options shared by the verbs that need zones (zones, plan, and
 * simulate and replay later): --max-hr N --resting-hr N --lthr N --age N
 * --race DIST=TIME, each as "--opt N" or "--opt=N".
 */

/* Bounds match pacer_hr_zones_compute()'s, so that a number out of range is named here. */
static const struct {
	const char *name;
	int min;
	int max;
} athlete_options[ATHLETE_OPT_COUNT] = {
	[ATHLETE_OPT_MAX_HR] = {"--max-hr", 25, 250},
	[ATHLETE_OPT_RESTING_HR] = {"--resting-hr", 25, 250},
	[ATHLETE_OPT_LTHR] = {"--lthr", 25, 250},
	[ATHLETE_OPT_AGE] = {"--age", 5, 110},
	[ATHLETE_OPT_RACE] = {"--race", 0, 0},
};


static bool is_digit_char(char ch)
{
	return ch >= '0' && ch <= '9';
}

/* strtol with the whole string, errno and the option's range checked. */
static int athlete_parse_int(const AthleteArgs *args, AthleteOption opt, const char *value,
			     int *ret)
{
	const char *name = athlete_options[opt].name;
	char *end = NULL;
	long v;

	if (!is_digit_char(value[0]) && !(value[0] == '-' && is_digit_char(value[1])))
		return usage_error("%s: %s: '%s' is not a whole number", args->verb, name, value);
	errno = 0;
	v = strtol(value, &end, 10);
	if (*end != '\0' || errno == ERANGE)
		return usage_error("%s: %s: '%s' is not a whole number", args->verb, name, value);
	if (v < athlete_options[opt].min || v > athlete_options[opt].max)
		return usage_error("%s: %s: %ld is out of range (%d-%d)", args->verb, name, v,
				   athlete_options[opt].min, athlete_options[opt].max);
	*ret = (int)v;
	return 0;
}

/* "DIST=TIME", e.g. "5k=20:00" or "42195=3:10:49". */
static int athlete_parse_race(const char *value, AthleteArgs *args)
{
	const char *eq = strchr(value, '=');
	char dist[64];
	size_t n;

	if (!eq)
		return usage_error("%s: --race: '%s' is not DIST=TIME (e.g. 5k=20:00)", args->verb,
				   value);
	n = (size_t)(eq - value);
	if (n >= sizeof(dist) || n == 0)
		return usage_error("%s: --race: DIST '%.*s' is not a race distance (1500m 1mi 3k "
				   "5k 10k 15k half marathon, or metres)",
				   args->verb, (int)(n < sizeof(dist) ? n : sizeof(dist)), value);
	memcpy(dist, value, n);
	dist[n] = '\0';
	if (pacer_parse_race_distance(dist, &args->race_m) < 0)
		return usage_error("%s: --race: DIST '%s' is not a race distance (1500m 1mi 3k "
				   "5k 10k 15k half marathon, or metres)",
				   args->verb, dist);
	if (pacer_parse_duration(eq + 1, &args->race_s) < 0)
		return usage_error("%s: --race: TIME '%s' is not a time (SS, M:SS or H:MM:SS, "
				   "above zero)",
				   args->verb, eq + 1);
	args->has_race = true;
	return 0;
}

static int athlete_set_option(AthleteOption opt, const char *value, AthleteArgs *args)
{
	PacerAthlete *a = &args->athlete;

	if (args->seen[opt])
		return usage_error("%s: %s given twice", args->verb, athlete_options[opt].name);
	args->seen[opt] = true;
	switch (opt) {
	case ATHLETE_OPT_MAX_HR:
		return athlete_parse_int(args, opt, value, &a->max_hr);
	case ATHLETE_OPT_RESTING_HR:
		return athlete_parse_int(args, opt, value, &a->resting_hr);
	case ATHLETE_OPT_LTHR:
		return athlete_parse_int(args, opt, value, &a->lthr);
	case ATHLETE_OPT_AGE:
		return athlete_parse_int(args, opt, value, &a->age);
	case ATHLETE_OPT_RACE:
		return athlete_parse_race(value, args);
	case ATHLETE_OPT_COUNT:
		break;
	}
	return usage_error("%s: internal error: option %d", args->verb, (int)opt);
}

static int athlete_lookup(const char *arg, size_t len, AthleteOption *ret)
{
	for (int i = 0; i < ATHLETE_OPT_COUNT; i++) {
		const char *name = athlete_options[i].name;

		if (strlen(name) == len && strncmp(arg, name, len) == 0) {
			*ret = (AthleteOption)i;
			return 0;
		}
	}
	return -ENOENT;
}

/* Names the conflict that pacer_hr_zones_compute() would only call -EINVAL. */
static int athlete_check_hr(const AthleteArgs *args)
{
	const PacerAthlete *a = &args->athlete;
	int max = a->max_hr ? a->max_hr : (a->age ? pacer_hr_max_tanaka(a->age) : 0);
	const char *max_what = a->max_hr ? "--max-hr" : "the max HR from --age";

	if (a->resting_hr && !a->lthr && !max)
		return usage_error("%s: --resting-hr needs --max-hr or --age (Karvonen zones use "
				   "the heart-rate reserve)",
				   args->verb);
	if (a->resting_hr && max && a->resting_hr >= max)
		return usage_error("%s: --resting-hr %d must be below %s (%d)", args->verb,
				   a->resting_hr, max_what, max);
	if (a->lthr && max && a->lthr >= max)
		return usage_error("%s: --lthr %d must be below %s (%d)", args->verb, a->lthr,
				   max_what, max);
	if (a->lthr && a->resting_hr && a->resting_hr >= a->lthr)
		return usage_error("%s: --resting-hr %d must be below --lthr %d", args->verb,
				   a->resting_hr, a->lthr);
	return 0;
}

/* HR zones when any HR option was given, pace zones when a race was. */
static int athlete_compute_zones(AthleteArgs *args)
{
	const PacerAthlete *a = &args->athlete;
	int r;

	if (a->max_hr || a->resting_hr || a->lthr || a->age) {
		r = athlete_check_hr(args);
		if (r != 0)
			return r;
		if (pacer_hr_zones_compute(a, &args->hr_zones) < 0)
			return usage_error("%s: inconsistent heart-rate options", args->verb);
		args->has_hr_zones = true;
	}
	if (args->has_race) {
		if (pacer_pace_zones_compute(args->race_m, args->race_s, &args->pace_zones) < 0)
			return usage_error("%s: --race: %g m in %g s is outside the VDOT model (a "
					   "race of 1-600 minutes, VDOT %g-%g, marathon within "
					   "600 minutes)",
					   args->verb, args->race_m, args->race_s, PACER_VDOT_MIN,
					   PACER_VDOT_MAX);
		args->has_pace_zones = true;
	}
	return 0;
}

/*
 * Consumes the athlete options in argv[0..argc) and their values, moving the
 * other arguments, in their order, to the front of argv (*ret_argc of them);
 * then computes the zones those options give. Returns 0, or the exit status
 * of a usage error, which has been printed. args->verb names the verb.
 */
int parse_athlete_options(int argc, char **argv, AthleteArgs *args, int *ret_argc)
{
	int n_rest = 0;

	for (int i = 0; i < argc; i++) {
		const char *arg = argv[i], *eq = strchr(arg, '='), *value;
		size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
		AthleteOption opt;
		int r;

		if (strncmp(arg, "--", 2) != 0 || athlete_lookup(arg, len, &opt) < 0) {
			argv[n_rest++] = argv[i];
			continue;
		}
		if (eq)
			value = eq + 1;
		else if (i + 1 < argc)
			value = argv[++i];
		else
			value = "";
		if (value[0] == '\0')
			return usage_error("%s: %s needs a value", args->verb,
					   athlete_options[opt].name);
		r = athlete_set_option(opt, value, args);
		if (r != 0)
			return r;
	}
	*ret_argc = n_rest;
	return athlete_compute_zones(args);
}

/* The context a workout's targets resolve against. */
PacerWorkoutContext athlete_workout_context(const AthleteArgs *args)
{
	PacerWorkoutContext ctx = {
		.pace = args->has_pace_zones ? &args->pace_zones : NULL,
		.hr = args->has_hr_zones ? &args->hr_zones : NULL,
	};

	return ctx;
}

static void zones_write_bpm(PacerJson *j, const char *key, int bpm)
{
	pacer_json_key(j, key);
	if (bpm < 0)
		pacer_json_null(j);
	else
		pacer_json_int(j, bpm);
}

static void zones_write_hr(PacerJson *j, const PacerHrZones *hr)
{
	pacer_json_key(j, "hr_zones");
	if (!hr) {
		pacer_json_null(j);
		return;
	}
	pacer_json_begin_array(j);
	for (size_t i = 0; i < hr->n_zones; i++) {
		const PacerHrZone *z = &hr->zones[i];

		pacer_json_begin_object(j);
		pacer_json_key(j, "zone");
		pacer_json_int(j, z->zone);
		pacer_json_key(j, "label");
		pacer_json_string(j, z->label);
		pacer_json_key(j, "name");
		pacer_json_string(j, z->name);
		zones_write_bpm(j, "min_bpm", z->min_bpm);
		zones_write_bpm(j, "max_bpm", z->max_bpm);
		pacer_json_end_object(j);
	}
	pacer_json_end_array(j);
}

static void zones_write_paces(PacerJson *j, const PacerPaceZones *pz)
{
	pacer_json_key(j, "pace_zones");
	if (!pz) {
		pacer_json_null(j);
		return;
	}
	pacer_json_begin_object(j);
	for (int id = PACER_PACE_E; id < PACER_PACE_ZONE_COUNT; id++) {
		pacer_json_key(j, pacer_pace_zone_name((PacerPaceZoneId)id));
		pacer_json_begin_array(j);
		pacer_json_fixed(j, pz->zones[id].fast_s_per_km, 1);
		pacer_json_fixed(j, pz->zones[id].slow_s_per_km, 1);
		pacer_json_end_array(j);
	}
	pacer_json_end_object(j);
}

static void zones_write_predictions(PacerJson *j, const PacerPaceZones *pz)
{
	static const struct {
		const char *key;
		double distance_m;
	} races[] = {{"5k", 5000}, {"10k", 10000}, {"half", 21097.5}, {"marathon", 42195}};

	pacer_json_key(j, "predictions");
	if (!pz) {
		pacer_json_null(j);
		return;
	}
	pacer_json_begin_object(j);
	for (size_t i = 0; i < sizeof(races) / sizeof(races[0]); i++) {
		double t = pacer_pace_zones_predict(pz, races[i].distance_m);

		pacer_json_key(j, races[i].key);
		if (t > 0)
			pacer_json_fixed(j, t, 1);
		else
			pacer_json_null(j);
	}
	pacer_json_end_object(j);
}

static int zones_print(const PacerPaceZones *pz, const PacerHrZones *hr)
{
	char buf[JSON_BUFFER_SIZE];
	PacerJson j;

	pacer_json_init(&j, buf, sizeof(buf));
	pacer_json_begin_object(&j);
	pacer_json_key(&j, "vdot");
	if (pz)
		pacer_json_fixed(&j, pz->vdot, 2);
	else
		pacer_json_null(&j);
	zones_write_paces(&j, pz);
	zones_write_hr(&j, hr);
	pacer_json_key(&j, "hr_model");
	if (hr)
		pacer_json_string(&j, pacer_hr_model_name(hr->model));
	else
		pacer_json_null(&j);
	zones_write_bpm(&j, "max_hr_bpm", hr && hr->max_hr > 0 ? hr->max_hr : -1);
	zones_write_predictions(&j, pz);
	pacer_json_end_object(&j);
	if (pacer_json_finish(&j) < 0) {
		fprintf(stderr, "pacerctl: internal error: JSON output too large\n");
		return EXIT_FAILURE;
	}
	puts(buf);
	return 0;
}

static int verb_zones(int argc, char **argv)
{
	AthleteArgs args = {.verb = "zones"};
	int r;

	if (argc == 0)
		return usage_error("zones needs at least one of --max-hr, --resting-hr, --lthr, "
				   "--age, --race");
	r = parse_athlete_options(argc, argv, &args, &argc);
	if (r != 0)
		return r;
	if (argc > 0 && strncmp(argv[0], "--", 2) == 0)
		return usage_error("zones: unknown option '%.*s'", (int)strcspn(argv[0], "="),
				   argv[0]);
	if (argc > 0)
		return usage_error("zones: unexpected argument '%s'", argv[0]);
	return zones_print(args.has_pace_zones ? &args.pace_zones : NULL,
			   args.has_hr_zones ? &args.hr_zones : NULL);
}

/* ---- plan ---- */

#ifndef PACER_PRESETS_PATH
#define PACER_PRESETS_PATH "/etc/pacer/presets.conf"
#endif
#ifndef PACER_PRESETS_SOURCE_PATH
#define PACER_PRESETS_SOURCE_PATH PACER_PRESETS_PATH
#endif

#define PRESETS_MAX_SIZE (1024 * 1024)
#define PLAN_JSON_SIZE	 (128 * 1024)


/* Reads a whole text file of at most PRESETS_MAX_SIZE octets; 0 or a negative errno. */
int read_text_file(const char *path, char **ret)
{
	FILE *f = fopen(path, "re");
	char *buf;
	size_t n;
	int r = 0;

	if (!f)
		return -errno;
	buf = malloc(PRESETS_MAX_SIZE + 1);
	if (!buf) {
		fclose(f);
		return -ENOMEM;
	}
	n = fread(buf, 1, PRESETS_MAX_SIZE + 1, f);
	if (ferror(f))
		r = -EIO;
	else if (n > PRESETS_MAX_SIZE)
		r = -EFBIG;
	fclose(f);
	if (r < 0) {
		free(buf);
		return r;
	}
	buf[n] = '\0';
	*ret = buf;
	return 0;
}

#define CAPTURE_READ_SIZE (64 * 1024) /* a capture is read in pieces this large */

/* One line of a capture, NUL-terminated: parsed into *rec, and a notification handed to fn. */
static int capture_line(const char *path, const char *line, unsigned long line_no,
			PacerCaptureRecord *rec, CaptureRecordFn fn, void *user_data)
{
	PacerCaptureError err;
	int r = pacer_capture_parse_line(line, rec, &err);

	if (r == 0)
		return 0;
	if (r < 0) {
		fflush(stdout);
		fprintf(stderr, "%s:%lu:%zu: expected %s\n", path, line_no, err.column, err.what);
		return EXIT_DATA;
	}
	return fn(rec, line_no, user_data);
}

/*
 * The file is read in large pieces (with read(), so that standard input is
 * handled as it comes) and split into lines in place: a line is parsed with
 * its '\n', the byte after which is made a NUL for the parse and then put
 * back. An unfinished line is moved to the front of the buffer for the next
 * read; a line longer than the buffer grows it.
 */
int read_capture(const char *path, CaptureRecordFn fn, void *user_data)
{
	bool is_stdin = strcmp(path, "-") == 0;
	int fd = is_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
	size_t size = CAPTURE_READ_SIZE, len = 0;
	unsigned long line_no = 0;
	PacerCaptureRecord rec;
	char *buf;
	int r = 0;

	if (fd < 0) {
		fprintf(stderr, "pacerctl: %s: %s\n", path, strerror(errno));
		return EXIT_NOINPUT;
	}
	buf = malloc(size + 1); /* + 1: room for the NUL after the last byte */
	while (buf && r == 0) {
		size_t start = 0, end;
		char *nl, saved;
		ssize_t n;

		/* the buffer holds an unfinished line, if anything: make room after it */
		if (len == size) {
			char *bigger = realloc(buf, 2 * size + 1);

			if (!bigger) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = bigger;
			size *= 2;
		}
		n = read(fd, buf + len, size - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break; /* the end of the file; a read error ends it too, as getline() did */
		/* only the new bytes can hold a '\n' */
		end = len;
		len += (size_t)n;
		while (r == 0 && (nl = memchr(buf + end, '\n', len - end))) {
			end = (size_t)(nl - buf) + 1;
			saved = buf[end];
			buf[end] = '\0';
			r = capture_line(path, buf + start, ++line_no, &rec, fn, user_data);
			buf[end] = saved;
			start = end;
		}
		len -= start;
		memmove(buf, buf + start, len);
	}
	if (!buf) {
		fprintf(stderr, "pacerctl: out of memory\n");
		r = EXIT_FAILURE;
	} else if (r == 0 && len > 0) {
		/* the last line, without its '\n' */
		buf[len] = '\0';
		r = capture_line(path, buf, ++line_no, &rec, fn, user_data);
	}
	free(buf);
	if (!is_stdin)
		close(fd);
	return r;
}

/*
 * --presets FILE, else $PACER_PRESETS, else the installed file, else the one
 * in the source tree (for running from the build directory). A file named
 * by the option or the variable must be readable; the defaults may be
 * missing, and then there are no presets.
 */
int plan_load_presets(PlanArgs *args)
{
	const char *env = getenv("PACER_PRESETS");
	const char *fallbacks[] = {PACER_PRESETS_PATH, PACER_PRESETS_SOURCE_PATH};
	const char *explicit_path = args->presets_option;
	int r;

	if (!explicit_path && env && env[0] != '\0')
		explicit_path = env;
	if (explicit_path) {
		r = read_text_file(explicit_path, &args->presets);
		if (r < 0) {
			fprintf(stderr, "pacerctl: %s: %s%s: %s\n", args->verb,
				args->presets_option ? "" : "$PACER_PRESETS ", explicit_path,
				strerror(-r));
			return EXIT_NOINPUT;
		}
		args->presets_path = explicit_path;
		return 0;
	}
	for (size_t i = 0; i < sizeof(fallbacks) / sizeof(fallbacks[0]); i++) {
		if (read_text_file(fallbacks[i], &args->presets) == 0) {
			args->presets_path = fallbacks[i];
			return 0;
		}
	}
	return 0;
}

/* The workout text: a preset's, when the argument names one, else the argument. */
int plan_resolve(PlanArgs *args)
{
	int r = -ENOENT;

	if (args->presets)
		r = pacer_presets_lookup(args->presets, args->workout, args->text,
					 sizeof(args->text));
	if (r == -E2BIG) {
		fprintf(stderr, "pacerctl: %s: preset '%s' (%s): longer than %d characters\n",
			args->verb, args->workout, args->presets_path, PACER_WORKOUT_MAX_TEXT);
		return EXIT_DATA;
	}
	if (r == 0) {
		args->preset = args->workout;
		return 0;
	}
	if (strlen(args->workout) >= sizeof(args->text)) {
		fprintf(stderr,
			"pacerctl: %s: column %d: expected a workout of at most %d "
			"characters\n",
			args->verb, PACER_WORKOUT_MAX_TEXT + 1, PACER_WORKOUT_MAX_TEXT);
		return EXIT_DATA;
	}
	snprintf(args->text, sizeof(args->text), "%s", args->workout);
	return 0;
}

/* For a word that is neither a workout nor a preset: which presets there are. */
static void plan_list_presets(const PlanArgs *args, FILE *out)
{
	PacerPresetsIter it;
	PacerPreset p;
	const char *sep = "";
	int r;

	if (!args->presets) {
		fprintf(out, "; no presets file found (--presets FILE)");
		return;
	}
	fprintf(out, "; presets in %s:", args->presets_path);
	pacer_presets_iter_init(&it, args->presets);
	while ((r = pacer_presets_iter_next(&it, &p)) != 0) {
		if (r < 0)
			continue;
		fprintf(out, "%s %.*s", sep, (int)p.name_len, p.name);
		sep = ",";
	}
}

int plan_report_error(const PlanArgs *args, int r, const PacerWorkoutError *err)
{
	fprintf(stderr, "pacerctl: %s: ", args->verb);
	if (args->preset)
		fprintf(stderr, "preset '%s' (%s): ", args->preset, args->presets_path);
	fprintf(stderr, "column %zu: %s %s", err->column, r == -ENODATA ? "needs" : "expected",
		err->expected);
	if (!args->preset && ((args->text[0] >= 'a' && args->text[0] <= 'z') ||
			      (args->text[0] >= 'A' && args->text[0] <= 'Z')))
		plan_list_presets(args, stderr);
	fputc('\n', stderr);
	return EXIT_DATA;
}

static int plan_print(const PlanArgs *args, const PacerPlan *plan)
{
	char *buf = malloc(PLAN_JSON_SIZE);
	PacerJson j;
	int r;

	if (!buf) {
		fprintf(stderr, "pacerctl: out of memory\n");
		return EXIT_FAILURE;
	}
	pacer_json_init(&j, buf, PLAN_JSON_SIZE);
	pacer_json_begin_object(&j);
	pacer_json_key(&j, "workout");
	pacer_json_string(&j, args->text);
	pacer_json_key(&j, "preset");
	if (args->preset)
		pacer_json_string(&j, args->preset);
	else
		pacer_json_null(&j);
	pacer_plan_write_json_members(plan, &j);
	pacer_json_end_object(&j);
	r = pacer_json_finish(&j);
	if (r < 0)
		fprintf(stderr, "pacerctl: internal error: JSON output too large\n");
	else
		puts(buf);
	free(buf);
	return r < 0 ? EXIT_FAILURE : 0;
}

/* Whatever parse_athlete_options() left: --presets FILE and the workout's words. */
static int plan_parse_args(int argc, char **argv, PlanArgs *args)
{
	int n_words = 0;

	for (int i = 0; i < argc; i++) {
		const char *arg = argv[i];

		if (strcmp(arg, "--presets") == 0 || strncmp(arg, "--presets=", 10) == 0) {
			const char *value =
				arg[9] == '=' ? arg + 10 : (i + 1 < argc ? argv[++i] : "");

			if (value[0] == '\0')
				return usage_error("plan: --presets needs a value");
			if (args->presets_option)
				return usage_error("plan: --presets given twice");
			args->presets_option = value;
		} else if (arg[0] == '-' && arg[1] != '\0') {
			return usage_error("plan: unknown option '%.*s'", (int)strcspn(arg, "="),
					   arg);
		} else {
			argv[n_words++] = argv[i];
		}
	}
	if (n_words == 0)
		return usage_error("plan needs a workout (e.g. '10min@E, 4x(400m@5k, 2min rest), "
				   "10min@E') or a preset name");
	args->workout = join_args(n_words, argv);
	if (!args->workout) {
		fprintf(stderr, "pacerctl: out of memory\n");
		return EXIT_FAILURE;
	}
	return 0;
}

int load_workout(PlanArgs *args, const AthleteArgs *athlete, PacerPlan *plan)
{
	PacerWorkoutContext ctx = athlete_workout_context(athlete);
	PacerWorkoutError err = {0};
	int r;

	r = plan_load_presets(args);
	if (r != 0)
		return r;
	r = plan_resolve(args);
	if (r != 0)
		return r;
	r = pacer_workout_parse(args->text, &ctx, plan, &err);
	return r < 0 ? plan_report_error(args, r, &err) : 0;
}

static int plan_run(PlanArgs *args, const AthleteArgs *athlete)
{
	PacerPlan *plan = malloc(sizeof(*plan));
	int r;

	if (!plan) {
		fprintf(stderr, "pacerctl: out of memory\n");
		return EXIT_FAILURE;
	}
	r = load_workout(args, athlete, plan);
	if (r == 0)
		r = plan_print(args, plan);
	free(plan);
	return r;
}

static int verb_plan(int argc, char **argv)
{
	AthleteArgs athlete = {.verb = "plan"};
	PlanArgs args = {.verb = "plan"};
	int r;

	r = parse_athlete_options(argc, argv, &athlete, &argc);
	if (r == 0)
		r = plan_parse_args(argc, argv, &args);
	if (r == 0)
		r = plan_run(&args, &athlete);
	free(args.workout);
	free(args.presets);
	return r;
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
	if (strcmp(verb, "simulate") == 0)
		return verb_simulate(argc - 2, argv + 2);
	if (strcmp(verb, "replay") == 0)
		return verb_replay(argc - 2, argv + 2);
	if (strcmp(verb, "zones") == 0)
		return verb_zones(argc - 2, argv + 2);
	if (strcmp(verb, "plan") == 0)
		return verb_plan(argc - 2, argv + 2);
	if (strcmp(verb, "history") == 0)
		return verb_history(argc - 2, argv + 2);
	if (pacerctl_online_is_verb(verb))
		return pacerctl_online_run(verb, argc - 2, argv + 2);
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
