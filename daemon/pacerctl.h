/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What pacerctl's verbs share: exit codes, option parsing, workouts and presets. */

#include <stdbool.h>

#include "pacer-capture.h"
#include "pacer-workout.h"
#include "pacer-zones.h"

#define EXIT_USAGE 64
#define EXIT_DATA 65
#define EXIT_NOINPUT 66

typedef enum {
	ATHLETE_OPT_MAX_HR,
	ATHLETE_OPT_RESTING_HR,
	ATHLETE_OPT_LTHR,
	ATHLETE_OPT_AGE,
	ATHLETE_OPT_RACE,
	ATHLETE_OPT_COUNT,
} AthleteOption;

typedef struct {
	const char *verb; /* for messages: "zones: --max-hr ..." */
	PacerAthlete athlete;
	bool seen[ATHLETE_OPT_COUNT];
	bool has_race;
	double race_m;
	double race_s;
	/* computed by parse_athlete_options() from the above */
	bool has_hr_zones;
	PacerHrZones hr_zones;
	bool has_pace_zones;
	PacerPaceZones pace_zones;
} AthleteArgs;

typedef struct {
	const char *verb; /* for messages */
	char *workout; /* all positional arguments joined with spaces */
	const char *presets_option;
	char *presets;		  /* the presets file's contents, or NULL */
	const char *presets_path; /* where they came from */
	const char *preset;	  /* the name, when the workout is a preset */
	char text[PACER_WORKOUT_MAX_TEXT + 1];
} PlanArgs;

/* "pacerctl: " + the message + a pointer to help, on stderr; returns EXIT_USAGE. */
__attribute__((format(printf, 1, 2))) int usage_error(const char *fmt, ...);

/* argv[0..argc) joined with single spaces; NULL on ENOMEM. */
char *join_args(int argc, char **argv);

int parse_athlete_options(int argc, char **argv, AthleteArgs *args, int *ret_argc);
PacerWorkoutContext athlete_workout_context(const AthleteArgs *args);

int read_text_file(const char *path, char **ret);

/* What read_capture() calls per notification: 0 to go on, else an exit status that stops it. */
typedef int (*CaptureRecordFn)(const PacerCaptureRecord *rec, unsigned long line_no,
			       void *user_data);

/*
 * Reads the capture file at path ('-' for standard input) and calls fn for
 * each notification, with its 1-based line number; blank and comment lines
 * are skipped. Reports its own errors: a file that cannot be opened
 * ("pacerctl: PATH: why", EXIT_NOINPUT) and a line that does not parse
 * ("PATH:LINE:COLUMN: expected ...", after flushing stdout; EXIT_DATA).
 * Returns 0 at the end of the file, or the first nonzero status.
 */
int read_capture(const char *path, CaptureRecordFn fn, void *user_data);

int plan_load_presets(PlanArgs *args);
int plan_resolve(PlanArgs *args);
int plan_report_error(const PlanArgs *args, int r, const PacerWorkoutError *err);

/*
 * Loads presets, resolves args->workout (a preset name or workout text) and
 * parses it into *plan; reports errors itself. Returns 0 or an exit status.
 */
int load_workout(PlanArgs *args, const AthleteArgs *athlete, PacerPlan *plan);

int verb_simulate(int argc, char **argv);
int verb_replay(int argc, char **argv);
