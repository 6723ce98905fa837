/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * A recorded run for the journal, FIT and TCX tests, built from journal
 * records as pacerd's recorder writes them: a 120 s warm-up (time), a
 * 400 m rep (distance) with a 10 s pause in it, then 60 s of rest, at
 * 171 steps/min with HR 140-160 and two RR intervals a second.
 */

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pacer-journal.h"

#define TEST_RUN_START_MS 1764511500000ull /* 2025-11-30T14:05:00Z */

typedef struct {
	PacerRun *run;
	char *journal; /* the same records as journal text */
	size_t len, cap;
} TestRun;

static inline void test_run_add(TestRun *t, const PacerJournalRecord *rec)
{
	char line[PACER_JOURNAL_LINE_MAX + 1];
	int n = pacer_journal_format(rec, line, sizeof(line));

	if (n < 0 || pacer_run_add(t->run, rec) < 0)
		abort();
	if (t->len + (size_t)n + 1 > t->cap) {
		t->cap = (t->len + (size_t)n + 1) * 2;
		t->journal = realloc(t->journal, t->cap);
		if (!t->journal)
			abort();
	}
	memcpy(t->journal + t->len, line, (size_t)n + 1);
	t->len += (size_t)n;
}

static inline void test_run_event(TestRun *t, double t_s, double timer_s, PacerEventType type,
				  int step, int kind)
{
	PacerJournalRecord rec = {.kind = PACER_JOURNAL_EVENT, .t_s = t_s, .timer_s = timer_s};

	rec.event.type = type;
	rec.event.step = step;
	rec.event.has_kind = kind >= 0;
	rec.event.kind = kind >= 0 ? (PacerStepKind)kind : PACER_STEP_RUN;
	test_run_add(t, &rec);
}

static inline void test_run_lap(TestRun *t, double t_s, double timer_s, unsigned step,
				PacerStepKind kind, PacerLapTrigger trigger, double time_s,
				double dist_m, double hr)
{
	PacerJournalRecord rec = {.kind = PACER_JOURNAL_LAP, .t_s = t_s, .timer_s = timer_s};

	rec.lap = (PacerRunLap){.step = step,
				.kind = kind,
				.trigger = trigger,
				.time_s = time_s,
				.distance_m = dist_m,
				.avg_hr_bpm = hr,
				.hr_time_s = time_s,
				.max_hr_bpm = hr + 5,
				.avg_cadence_spm = 171,
				.cadence_time_s = time_s,
				.max_cadence_spm = 174,
				.max_speed_mps = 4.2};
	test_run_add(t, &rec);
}

/* Samples once a second over [from, to) of run time, timer and distance going on. */
static inline void test_run_samples(TestRun *t, double from, double to, double *timer,
				    double *dist, double speed, double hr)
{
	for (double s = from; s < to - 1e-9; s += 1.0) {
		PacerJournalRecord rec = {.kind = PACER_JOURNAL_SAMPLE, .t_s = s, .timer_s = *timer};
		PacerJournalRecord rr = {.kind = PACER_JOURNAL_RR, .t_s = s};

		rec.sample = (PacerRunSample){.distance_m = *dist,
					      .hr_bpm = hr,
					      .cadence_spm = 171.0,
					      .speed_mps = speed,
					      .incline_pct = 1.5};
		test_run_add(t, &rec);
		rr.rr.n = 2;
		rr.rr.ms[0] = 60000.0 / hr / 2 * 2 - 3;
		rr.rr.ms[1] = 60000.0 / hr + 3;
		test_run_add(t, &rr);
		*timer += 1.0;
		*dist += speed;
	}
}

/* The whole run; `complete`: with the last lap and the finish (else cut off in the rest). */
static inline TestRun test_run_build(bool complete)
{
	TestRun t = {.run = pacer_run_new()};
	PacerJournalRecord h = {.kind = PACER_JOURNAL_HEADER};
	PacerJournalRecord d = {.kind = PACER_JOURNAL_SENSOR, .sensor = PACER_SENSOR_HEART_RATE};
	double timer = 0, dist = 0;

	if (!t.run)
		abort();
	h.header.start_unix_ms = TEST_RUN_START_MS;
	h.header.utc_offset_s = 3600;
	strcpy(h.header.workout, "2min@E, 400m@5k, 1min rest");
	test_run_add(&t, &h);
	test_run_add(&t, &d);
	d.sensor = PACER_SENSOR_TREADMILL;
	test_run_add(&t, &d);
	test_run_event(&t, 0, 0, PACER_EVENT_WORKOUT_STARTED, 0, -1);
	test_run_event(&t, 0, 0, PACER_EVENT_STEP_STARTED, 0, PACER_STEP_WARMUP);
	test_run_samples(&t, 0, 120, &timer, &dist, 3.0, 140);
	test_run_lap(&t, 120, 120, 0, PACER_STEP_WARMUP, PACER_LAP_TRIGGER_TIME, 120, 360, 140);
	test_run_event(&t, 120, 120, PACER_EVENT_STEP_STARTED, 1, PACER_STEP_RUN);
	test_run_samples(&t, 120, 170, &timer, &dist, 4.0, 160);
	test_run_event(&t, 170, timer, PACER_EVENT_WORKOUT_PAUSED, 1, -1);
	test_run_event(&t, 180, timer, PACER_EVENT_WORKOUT_RESUMED, 1, -1);
	test_run_samples(&t, 180, 230, &timer, &dist, 4.0, 160);
	test_run_lap(&t, 230, 220, 1, PACER_STEP_RUN, PACER_LAP_TRIGGER_DISTANCE, 100, 400, 160);
	test_run_event(&t, 230, 220, PACER_EVENT_STEP_STARTED, 2, PACER_STEP_REST);
	test_run_samples(&t, 230, complete ? 290 : 260, &timer, &dist, 1.0, 150);
	if (complete) {
		test_run_lap(&t, 290, 280, 2, PACER_STEP_REST, PACER_LAP_TRIGGER_TIME, 60, 60, 150);
		test_run_event(&t, 290, 280, PACER_EVENT_WORKOUT_FINISHED, 2, -1);
	}
	pacer_run_finish(t.run);
	return t;
}

static inline void test_run_clear(TestRun *t)
{
	pacer_run_free(t->run);
	free(t->journal);
	*t = (TestRun){0};
}
