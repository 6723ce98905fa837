/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * pacerctl history [--dir DIR] [--json]: the runs pacerd recorded.
 *
 * Reads the record directory (default /var/lib/pacer, [record] dir): each
 * run is NAME.fit and/or NAME.tcx, NAME the start time in UTC
 * (2026-11-30T14-05-00Z, "-recovered" after a recovered run). The numbers
 * come from the FIT file's session message (lib/pacer-fit.h), or from the
 * TCX laps when only a TCX file was written. Works without pacerd.
 */

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "pacer-fit.h"
#include "pacer-json.h"
#include "pacer-tcx.h"
#include "pacerctl-history.h"
#include "pacerctl.h"

#define DEFAULT_DIR "/var/lib/pacer"
#define MAX_FILE_SIZE (256u * 1024 * 1024)
#define RECOVERED_SUFFIX "-recovered"

typedef struct {
	char *name; /* NAME, without the extension */
	bool has_fit, has_tcx;
	bool readable;
	uint64_t start_unix; /* 0 unknown */
	double duration_s, distance_m, hr_bpm, cadence_spm;
	unsigned laps;
} Run;

typedef struct {
	Run *runs;
	size_t n, cap;
} RunList;

static Run *find_or_add(RunList *l, const char *name, size_t len)
{
	for (size_t i = 0; i < l->n; i++) {
		if (strlen(l->runs[i].name) == len && memcmp(l->runs[i].name, name, len) == 0)
			return &l->runs[i];
	}
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 32;
		Run *p = realloc(l->runs, cap * sizeof(*p));

		if (!p)
			return NULL;
		l->runs = p;
		l->cap = cap;
	}
	l->runs[l->n] = (Run){.duration_s = NAN, .distance_m = NAN, .hr_bpm = NAN, .cadence_spm = NAN};
	l->runs[l->n].name = strndup(name, len);
	if (!l->runs[l->n].name)
		return NULL;
	return &l->runs[l->n++];
}

static int read_file(const char *path, uint8_t **ret, size_t *ret_len)
{
	FILE *f = fopen(path, "rbe");
	uint8_t *buf = NULL;
	size_t len = 0, cap = 0;
	int r = 0;

	if (!f)
		return -errno;
	for (;;) {
		size_t n;

		if (len == cap) {
			uint8_t *p;

			cap = cap ? cap * 2 : 65536;
			if (cap > MAX_FILE_SIZE) {
				r = -EFBIG;
				break;
			}
			p = realloc(buf, cap);
			if (!p) {
				r = -ENOMEM;
				break;
			}
			buf = p;
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (n == 0) {
			r = ferror(f) ? -EIO : 0;
			break;
		}
	}
	fclose(f);
	if (r < 0) {
		free(buf);
		return r;
	}
	*ret = buf;
	*ret_len = len;
	return 0;
}

static char *join(const char *dir, const char *name, const char *ext)
{
	size_t n = strlen(dir) + strlen(name) + strlen(ext) + 2;
	char *s = malloc(n);

	if (s)
		snprintf(s, n, "%s/%s%s", dir, name, ext);
	return s;
}

static void read_fit(const char *dir, Run *run)
{
	char *path = join(dir, run->name, ".fit");
	uint8_t *data = NULL;
	size_t len = 0;
	PacerFitSummary s;

	if (path && read_file(path, &data, &len) == 0 && pacer_fit_read_summary(data, len, &s) == 0 &&
	    s.n_sessions > 0) {
		run->readable = true;
		run->start_unix = s.start_time ? (uint64_t)s.start_time + PACER_FIT_EPOCH_UNIX : 0;
		run->duration_s = s.timer_s;
		run->distance_m = s.distance_m;
		run->hr_bpm = s.avg_hr_bpm;
		run->cadence_spm = s.avg_cadence_spm;
		run->laps = s.num_laps;
	}
	free(data);
	free(path);
}

/* The number in <TAG>N</TAG> at or after p, and where it ends; NAN when absent. */
static double tag_number(const char *p, const char *tag, const char **ret_end)
{
	char open[64];
	const char *at;
	char *end;
	double v;

	snprintf(open, sizeof(open), "<%s>", tag);
	at = strstr(p, open);
	if (!at)
		return NAN;
	at += strlen(open);
	v = strtod(at, &end);
	if (end == at)
		return NAN;
	if (ret_end)
		*ret_end = end;
	return v;
}

/* "2026-11-30T14:05:00Z" to Unix seconds (0 when it is not that). */
static uint64_t parse_utc(const char *s)
{
	unsigned y, mo, d, h, mi, se;
	int64_t era, yoe, doy, doe, days;

	if (sscanf(s, "%4u-%2u-%2uT%2u:%2u:%2u", &y, &mo, &d, &h, &mi, &se) != 6 || mo < 1 ||
	    mo > 12 || d < 1 || d > 31)
		return 0;
	y -= mo <= 2;
	era = y / 400;
	yoe = (int64_t)y - era * 400;
	doy = (153 * (mo > 2 ? mo - 3 : mo + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	days = era * 146097 + doe - 719468;
	return days < 0 ? 0 : (uint64_t)days * 86400 + h * 3600 + mi * 60 + se;
}

/* Lap totals of a TCX file: time, distance and the time-weighted average HR. */
static void scan_tcx(const char *text, Run *run)
{
	double hr_sum = 0, hr_s = 0;
	const char *id = strstr(text, "<Id>");

	run->start_unix = id ? parse_utc(id + 4) : 0;
	run->duration_s = 0;
	run->distance_m = 0;
	for (const char *p = strstr(text, "<Lap "); p; p = strstr(p + 1, "<Lap ")) {
		const char *after = p;
		double t = tag_number(p, "TotalTimeSeconds", &after);
		double dist = tag_number(after, "DistanceMeters", NULL);
		const char *hr = strstr(after, "<AverageHeartRateBpm><Value>");
		const char *next = strstr(after, "<Lap ");

		if (!isfinite(t) || !isfinite(dist))
			break;
		run->duration_s += t;
		run->distance_m += dist;
		run->laps++;
		if (hr && (!next || hr < next)) {
			hr_sum += atof(hr + strlen("<AverageHeartRateBpm><Value>")) * t;
			hr_s += t;
		}
	}
	run->hr_bpm = hr_s > 0 ? hr_sum / hr_s : NAN;
	run->readable = run->laps > 0;
}

static void read_tcx(const char *dir, Run *run)
{
	char *path = join(dir, run->name, ".tcx");
	uint8_t *data = NULL;
	size_t len = 0;
	char *text = NULL;

	if (path && read_file(path, &data, &len) == 0)
		text = malloc(len + 1);
	if (text) {
		memcpy(text, data, len);
		text[len] = '\0';
		scan_tcx(text, run);
	}
	free(text);
	free(data);
	free(path);
}

static int compare_runs(const void *a, const void *b)
{
	return strcmp(((const Run *)a)->name, ((const Run *)b)->name);
}

/* Fills l from dir; 0, or a negative errno for a directory that cannot be read. */
static int list_runs(const char *dir, RunList *l)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((e = readdir(d))) {
		size_t n = strlen(e->d_name);
		bool fit = n > 4 && strcmp(e->d_name + n - 4, ".fit") == 0;
		bool tcx = n > 4 && strcmp(e->d_name + n - 4, ".tcx") == 0;
		Run *run;

		if (e->d_name[0] == '.' || (!fit && !tcx))
			continue;
		run = find_or_add(l, e->d_name, n - 4);
		if (!run) {
			closedir(d);
			return -ENOMEM;
		}
		run->has_fit |= fit;
		run->has_tcx |= tcx;
	}
	closedir(d);
	qsort(l->runs, l->n, sizeof(*l->runs), compare_runs);
	for (size_t i = 0; i < l->n; i++) {
		if (l->runs[i].has_fit)
			read_fit(dir, &l->runs[i]);
		if (!l->runs[i].readable && l->runs[i].has_tcx)
			read_tcx(dir, &l->runs[i]);
	}
	return 0;
}

static bool recovered(const Run *r)
{
	size_t n = strlen(r->name), k = strlen(RECOVERED_SUFFIX);

	return n > k && strcmp(r->name + n - k, RECOVERED_SUFFIX) == 0;
}

static double pace(const Run *r)
{
	return r->distance_m >= 1.0 && isfinite(r->duration_s) ? r->duration_s / r->distance_m * 1000.0
							       : NAN;
}

static void format_clock(double s, char *buf, size_t size)
{
	long t = isfinite(s) && s > 0 ? (s < 359999.0 ? lround(s) : 359999) : 0;

	if (t >= 3600)
		snprintf(buf, size, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
	else
		snprintf(buf, size, "%ld:%02ld", t / 60, t % 60);
}

static void print_text(const char *dir, const RunList *l)
{
	if (l->n == 0) {
		printf("no runs recorded in %s\n", dir);
		return;
	}
	printf("%-16s  %8s  %9s  %8s  %4s  %s\n", "DATE", "DURATION", "DISTANCE", "PACE", "HR",
	       "FILES");
	for (size_t i = 0; i < l->n; i++) {
		const Run *r = &l->runs[i];
		char date[32] = "?", dur[32] = "?", dist[32] = "?", pc[32] = "-", hr[16] = "-";
		time_t t = (time_t)r->start_unix;
		struct tm tm;

		if (r->start_unix && localtime_r(&t, &tm))
			strftime(date, sizeof(date), "%Y-%m-%d %H:%M", &tm);
		if (r->readable) {
			format_clock(r->duration_s, dur, sizeof(dur));
			snprintf(dist, sizeof(dist), "%.2f km", r->distance_m / 1000.0);
			if (isfinite(pace(r))) {
				format_clock(pace(r), pc, sizeof(pc));
				strncat(pc, "/km", sizeof(pc) - strlen(pc) - 1);
			}
			if (isfinite(r->hr_bpm))
				snprintf(hr, sizeof(hr), "%.0f", r->hr_bpm);
		}
		printf("%-16s  %8s  %9s  %8s  %4s  %s/%s%s%s%s%s\n", date, dur, dist, pc, hr, dir,
		       r->name, r->has_fit ? ".fit" : "", r->has_fit && r->has_tcx ? " " : "",
		       r->has_tcx ? ".tcx" : "", recovered(r) ? " (recovered)" : "");
	}
}

static void json_number(PacerJson *j, const char *key, double v, unsigned decimals)
{
	pacer_json_key(j, key);
	if (isfinite(v))
		pacer_json_fixed(j, v, decimals);
	else
		pacer_json_null(j);
}

static void json_path(PacerJson *j, const char *key, const char *dir, const Run *r, const char *ext)
{
	char *path = join(dir, r->name, ext);

	pacer_json_key(j, key);
	pacer_json_string(j, path ? path : "");
	free(path);
}

static void json_run(PacerJson *j, const char *dir, const Run *r)
{
	char start[32];

	pacer_json_begin_object(j);
	pacer_json_key(j, "name");
	pacer_json_string(j, r->name);
	pacer_json_key(j, "start");
	if (r->start_unix && pacer_tcx_format_time(r->start_unix * 1000, start, sizeof(start)) == 0)
		pacer_json_string(j, start);
	else
		pacer_json_null(j);
	json_number(j, "duration_s", r->readable ? r->duration_s : NAN, 1);
	json_number(j, "distance_m", r->readable ? r->distance_m : NAN, 1);
	json_number(j, "pace_s_per_km", r->readable ? pace(r) : NAN, 1);
	json_number(j, "hr_bpm", r->readable ? r->hr_bpm : NAN, 0);
	json_number(j, "cadence_spm", r->readable ? r->cadence_spm : NAN, 0);
	pacer_json_key(j, "laps");
	if (r->readable)
		pacer_json_int(j, r->laps);
	else
		pacer_json_null(j);
	pacer_json_key(j, "recovered");
	pacer_json_bool(j, recovered(r));
	pacer_json_key(j, "readable");
	pacer_json_bool(j, r->readable);
	pacer_json_key(j, "files");
	pacer_json_begin_object(j);
	if (r->has_fit)
		json_path(j, "fit", dir, r, ".fit");
	if (r->has_tcx)
		json_path(j, "tcx", dir, r, ".tcx");
	pacer_json_end_object(j);
	pacer_json_end_object(j);
}

static int print_json(const char *dir, const RunList *l)
{
	size_t size = 4096 + l->n * (1024 + 3 * strlen(dir));
	char *buf = malloc(size);
	PacerJson j;
	int n;

	if (!buf)
		return EXIT_FAILURE;
	pacer_json_init(&j, buf, size);
	pacer_json_begin_object(&j);
	pacer_json_key(&j, "dir");
	pacer_json_string(&j, dir);
	pacer_json_key(&j, "runs");
	pacer_json_begin_array(&j);
	for (size_t i = 0; i < l->n; i++)
		json_run(&j, dir, &l->runs[i]);
	pacer_json_end_array(&j);
	pacer_json_end_object(&j);
	n = pacer_json_finish(&j);
	if (n < 0) {
		fprintf(stderr, "pacerctl: history: internal error: JSON output too large\n");
		free(buf);
		return EXIT_FAILURE;
	}
	puts(buf);
	free(buf);
	return 0;
}

int verb_history(int argc, char **argv)
{
	const char *dir = DEFAULT_DIR;
	bool json = false;
	RunList l = {0};
	int r, status;

	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = true;
		else if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc)
			dir = argv[++i];
		else if (strncmp(argv[i], "--dir=", 6) == 0)
			dir = argv[i] + 6;
		else if (strcmp(argv[i], "--dir") == 0)
			return usage_error("history: --dir needs a directory");
		else
			return usage_error("history: unexpected argument '%s'", argv[i]);
	}
	r = list_runs(dir, &l);
	if (r < 0) {
		fprintf(stderr, "pacerctl: history: cannot read '%s': %s\n", dir, strerror(-r));
		status = EXIT_NOINPUT;
	} else if (json) {
		status = print_json(dir, &l);
	} else {
		print_text(dir, &l);
		status = 0;
	}
	for (size_t i = 0; i < l.n; i++)
		free(l.runs[i].name);
	free(l.runs);
	return status;
}
