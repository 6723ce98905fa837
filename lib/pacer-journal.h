/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The run journal and the run it rebuilds.
 *
 * While a run is recorded, pacerd appends one text line per record to a
 * journal file, so that a power cut loses at most the lines not yet synced.
 * Each line is one record: a letter, fields separated by single spaces, then
 * " *" and the CRC-16 (the FIT CRC, pacer_fit_crc16()) of everything before
 * " *" as four lower-case hex digits, then '\n'. Numbers are integers in
 * small units (no locale, no floating point text); '-' is an unknown value.
 *
 *   J 1 START_MS UTC_OFFSET_S FREE_RUN WORKOUT    header (the first line), format 1:
 *                                                 wall-clock start in Unix milliseconds,
 *                                                 the local offset, 0/1, the workout text
 *                                                 ("-" for a free run)
 *   S T_MS TIMER_MS DIST_CM HR CAD_DSPM SPEED_MMPS INCLINE_DPCT
 *                                                 a sample (once a second while running):
 *                                                 run time since the start, active time,
 *                                                 distance, bpm, 0.1 steps/min, mm/s, 0.1 %
 *   R T_MS RR_MS...                               RR intervals (1-8 per line)
 *   E T_MS TIMER_MS TYPE STEP [KIND]              a coaching event by name; STEP or '-';
 *                                                 step_started adds the step's kind
 *   L T_MS TIMER_MS STEP KIND TRIGGER TIME_MS DIST_CM HR_C HR_MS HRMAX CAD_C CAD_MS CADMAX_C SPEEDMAX_MMPS
 *                                                 a lap (step) ended: the coach's totals and
 *                                                 the averages weighted as the coach weighs
 *                                                 them (HR and cadence in 1/100, with the
 *                                                 time they were known); TRIGGER is m manual,
 *                                                 t time, d distance
 *   D T_MS KIND                                   a sensor kind contributed data
 *
 * The parser rebuilds a run from whatever survived: a last line without its
 * '\n' (torn by the power cut) and lines whose CRC does not match are
 * skipped and counted; a lap that never ended is computed from the samples.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pacer-event.h"
#include "pacer-metrics.h"
#include "pacer-workout.h"

#define PACER_JOURNAL_VERSION 1
#define PACER_JOURNAL_LINE_MAX (PACER_WORKOUT_MAX_TEXT + 128) /* the longest line, '\n' included */
#define PACER_JOURNAL_MAX_RR 8

typedef enum {
	PACER_JOURNAL_HEADER,
	PACER_JOURNAL_SAMPLE,
	PACER_JOURNAL_RR,
	PACER_JOURNAL_EVENT,
	PACER_JOURNAL_LAP,
	PACER_JOURNAL_SENSOR,
} PacerJournalKind;

typedef enum {
	PACER_LAP_TRIGGER_MANUAL,   /* a lap command, a stop, a free-run lap */
	PACER_LAP_TRIGGER_TIME,     /* a timed step ran out */
	PACER_LAP_TRIGGER_DISTANCE, /* a distance step was covered */
} PacerLapTrigger;

/* One sample: values NAN when unknown. Times in seconds since the run's start. */
typedef struct {
	double t_s;	 /* run time, pauses included */
	double timer_s;	 /* active time (the coach's elapsed_s) */
	double distance_m; /* the coach's distance */
	double hr_bpm;
	double cadence_spm; /* steps per minute, both feet */
	double speed_mps;
	double incline_pct;
} PacerRunSample;

typedef struct {
	unsigned step; /* the workout step (free run: the lap number, from 0) */
	PacerStepKind kind;
	PacerLapTrigger trigger;
	bool complete;	   /* its L line was seen; else computed from the samples */
	double start_t_s;  /* run time when it began */
	double end_t_s;	   /* ... and ended */
	double start_timer_s;
	double time_s; /* active time in the lap */
	double distance_m;
	double avg_hr_bpm, max_hr_bpm; /* NAN unknown */
	double hr_time_s;	       /* the time avg_hr_bpm covers */
	double avg_cadence_spm, max_cadence_spm;
	double cadence_time_s;
	double max_speed_mps;
} PacerRunLap;

typedef enum {
	PACER_RUN_MARK_START,  /* the timer starts (workout_started) */
	PACER_RUN_MARK_PAUSE,  /* the timer stops */
	PACER_RUN_MARK_RESUME, /* and starts again */
	PACER_RUN_MARK_LAP,    /* a lap ended */
	PACER_RUN_MARK_FINISH, /* workout_finished */
} PacerRunMarkKind;

typedef struct {
	double t_s;
	PacerRunMarkKind kind;
} PacerRunMark;

typedef struct {
	double t_s;
	double rr_ms;
} PacerRunRr;

/* One record, as formatted and parsed. */
typedef struct {
	PacerJournalKind kind;
	double t_s;
	double timer_s; /* SAMPLE, EVENT, LAP */
	union {
		struct {
			uint64_t start_unix_ms;
			int32_t utc_offset_s;
			bool free_run;
			char workout[PACER_WORKOUT_MAX_TEXT + 1]; /* "" for a free run */
		} header;
		PacerRunSample sample;
		struct {
			size_t n;
			double ms[PACER_JOURNAL_MAX_RR];
		} rr;
		struct {
			PacerEventType type;
			int step; /* -1: none */
			bool has_kind;
			PacerStepKind kind; /* step_started */
		} event;
		PacerRunLap lap; /* time_s ... max_speed_mps, step, kind, trigger */
		PacerSensorKind sensor;
	};
} PacerJournalRecord;

/*
 * Writes `rec` as one journal line (with its CRC and '\n') into buf and
 * NUL-terminates it. Returns the length without the NUL, -ENOBUFS when buf
 * is too small (PACER_JOURNAL_LINE_MAX + 1 always suffices) or -EINVAL for
 * a record that cannot be written (an RR record of 0 or too many intervals).
 * Values are rounded to the units above; a header's workout text has its
 * control characters replaced by spaces.
 */
int pacer_journal_format(const PacerJournalRecord *rec, char *buf, size_t size);

/*
 * Parses one line (with or without its '\n'; len octets, no NUL needed).
 * Returns 0 and fills *ret; -EBADMSG for a malformed line or a CRC that does
 * not match (*ret is then undefined); -EPROTONOSUPPORT for a header of
 * another format version.
 */
int pacer_journal_parse_line(const char *line, size_t len, PacerJournalRecord *ret);

typedef struct {
	uint64_t start_unix_ms;
	int32_t utc_offset_s;
	bool has_header;
	bool free_run;
	char workout[PACER_WORKOUT_MAX_TEXT + 1];
	bool finished;	/* workout_finished was journaled */
	bool recovered; /* for the writers: the run was rebuilt after a crash */
	unsigned sensors; /* bit (1 << PacerSensorKind) for each kind that contributed */

	PacerRunSample *samples;
	size_t n_samples;
	PacerRunLap *laps;
	size_t n_laps;
	PacerRunMark *marks;
	size_t n_marks;
	PacerRunRr *rr;
	size_t n_rr;

	/* set by pacer_run_finish() */
	double end_t_s;	 /* run time at the end, pauses included */
	double timer_s;	 /* active time */
	double distance_m;
	double avg_hr_bpm, max_hr_bpm; /* NAN unknown */
	double avg_cadence_spm, max_cadence_spm;
	double avg_speed_mps, max_speed_mps;

	size_t samples_cap, laps_cap, marks_cap, rr_cap;
} PacerRun;

/* An empty run; NULL on ENOMEM. */
PacerRun *pacer_run_new(void);
void pacer_run_free(PacerRun *run);

/*
 * Adds a record to the run, as the parser does for each line: samples that
 * go back in time are ignored, a second header is -EINVAL, -ENOMEM when a
 * list cannot grow (the run is unchanged). Returns 0 otherwise.
 */
int pacer_run_add(PacerRun *run, const PacerJournalRecord *rec);

/*
 * Closes the run for the writers: a lap still open ends at the run's end
 * with averages computed from its samples (weighted by active time), a run
 * without laps gets one, and the totals are computed from the laps. May be
 * called again after more records were added.
 */
void pacer_run_finish(PacerRun *run);

/*
 * Rebuilds a run from a whole journal (len octets; need not be
 * NUL-terminated) and finishes it. Returns 0 and *ret (free with
 * pacer_run_free()), with the number of lines skipped in *ret_skipped when
 * not NULL; -EBADMSG when no valid header line starts it; -ENOMEM.
 */
int pacer_run_parse_journal(const char *data, size_t len, PacerRun **ret, size_t *ret_skipped);

/* Writer callback for the FIT and TCX encoders: 0, or a negative errno that stops them. */
typedef int (*PacerWriteFunc)(const void *data, size_t len, void *user_data);

/* "m", "t", "d" and back. */
const char *pacer_lap_trigger_to_string(PacerLapTrigger trigger);
