/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The coach driven by scripted snapshots: a runner that follows the plan
 * (perfectly, too fast in one rep, off target for a while, stopping), with
 * every event type checked for its timing and fields.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "pacer-coach.h"
#include "pacer-pipeline.h"
#include "test-common.h"

#define MAX_EVENTS 2048
#define TICK_US 250000u

typedef struct {
	PacerEventType type;
	uint64_t seq;
	uint64_t t_us;
	double elapsed_s;
	int step;
	double value, lo, hi;
	unsigned number;
	char message[256];
	char json[4096];
} Recorded;

typedef struct {
	Recorded ev[MAX_EVENTS];
	size_t n;
} Log;

static Log log_;

static void on_event(const PacerEvent *e, void *user_data)
{
	Log *l = user_data;
	Recorded *r;

	CU_ASSERT_FATAL(l->n < MAX_EVENTS);
	r = &l->ev[l->n++];
	r->type = e->type;
	r->seq = e->seq;
	r->t_us = e->t_us;
	r->elapsed_s = e->elapsed_s;
	r->step = e->step;
	r->value = e->value;
	r->lo = e->target_low;
	r->hi = e->target_high;
	r->number = e->number;
	snprintf(r->message, sizeof(r->message), "%s", e->message);
	snprintf(r->json, sizeof(r->json), "%s", e->json);
	CU_ASSERT_EQUAL(strlen(e->json), e->json_len);
}

static size_t count(PacerEventType type)
{
	size_t n = 0;

	for (size_t i = 0; i < log_.n; i++)
		n += log_.ev[i].type == type;
	return n;
}

static const Recorded *find(PacerEventType type, size_t nth)
{
	for (size_t i = 0; i < log_.n; i++) {
		if (log_.ev[i].type == type && nth-- == 0)
			return &log_.ev[i];
	}
	return NULL;
}

/* The JSON of the nth event of a type, or "" (and a failure) when there is none. */
static const char *json_of(PacerEventType type, size_t nth)
{
	const Recorded *r = find(type, nth);

	CU_ASSERT_PTR_NOT_NULL(r);
	return r ? r->json : "";
}

static PacerCoach *new_coach(PacerCoachConfig *c)
{
	PacerCoachConfig def;
	PacerCoach *coach;

	if (!c) {
		pacer_coach_config_init(&def);
		c = &def;
	}
	memset(&log_, 0, sizeof(log_));
	coach = pacer_coach_new(c, on_event, &log_);
	CU_ASSERT_PTR_NOT_NULL_FATAL(coach);
	return coach;
}

static PacerStep step_time(PacerStepKind kind, double s)
{
	return (PacerStep){.kind = kind, .end = PACER_STEP_END_TIME, .duration_s = s,
			   .negative_group = -1};
}

static PacerStep step_dist(PacerStepKind kind, double m, double fast, double slow)
{
	PacerStep st = {.kind = kind, .end = PACER_STEP_END_DISTANCE, .distance_m = m,
			.negative_group = -1};

	if (slow > 0) {
		st.target.has_pace = true;
		st.target.pace_fast_s_per_km = fast;
		st.target.pace_slow_s_per_km = slow;
		snprintf(st.target.label, sizeof(st.target.label), "%.0f-%.0f", fast, slow);
	}
	return st;
}

static void add(PacerPlan *p, PacerStep st)
{
	st.index = (unsigned)p->n_steps;
	p->steps[p->n_steps++] = st;
}

/* 60 s warm-up, 4 x (400 m at 235-245 s/km, 120 s rest), 60 s cool-down. */
static void intervals(PacerPlan *p)
{
	memset(p, 0, sizeof(*p));
	add(p, step_time(PACER_STEP_WARMUP, 60));
	for (unsigned r = 1; r <= 4; r++) {
		PacerStep work = step_dist(PACER_STEP_RUN, 400, 235, 245);
		PacerStep rest = step_time(PACER_STEP_REST, 120);

		work.rep = rest.rep = r;
		work.reps = rest.reps = 4;
		add(p, work);
		add(p, rest);
	}
	add(p, step_time(PACER_STEP_COOLDOWN, 60));
	p->has_repeats = true;
}

/* A runner who does what the coach's current step asks, at `pace` s/km when it has a target. */
typedef struct {
	uint64_t t_us;
	double distance_m;
	double hr;
	double cadence;
	double pace_override; /* > 0: run this pace during work steps */
	int override_step;    /* -1: every work step */
	bool stand;           /* scripted stop */
} Runner;

static double target_speed(const PacerCoachStatus *st, const Runner *r)
{
	const PacerStep *step = st->current;
	double pace;

	if (st->state != PACER_COACH_RUNNING && st->state != PACER_COACH_PAUSED)
		return 3.0; /* jogging before the start */
	if (!step)
		return 3.0;
	if (step->kind == PACER_STEP_REST)
		return 0.0;
	if (!step->target.has_pace)
		return 3.0;
	pace = (step->target.pace_fast_s_per_km + step->target.pace_slow_s_per_km) / 2.0;
	if (r->pace_override > 0 && (r->override_step < 0 || r->override_step == st->step))
		pace = r->pace_override;
	return 1000.0 / pace;
}

static void tick(PacerCoach *coach, Runner *r)
{
	PacerCoachStatus st;
	PacerMetricsSnapshot s = {0};
	double v;

	pacer_coach_get_status(coach, &st);
	v = r->stand ? 0.0 : target_speed(&st, r);
	r->t_us += TICK_US;
	r->distance_m += v * TICK_US / 1e6;
	s.t_us = r->t_us;
	s.has_speed = true;
	s.speed_mps = s.speed_instant_mps = v;
	s.has_pace = v >= 0.5;
	s.pace_s_per_km = s.has_pace ? 1000.0 / v : 0;
	s.distance_m = r->distance_m;
	s.has_hr = r->hr > 0;
	s.hr_bpm = (unsigned)r->hr;
	s.has_cadence = r->cadence > 0;
	s.cadence_spm = r->cadence;
	pacer_coach_update(coach, &s);
}

static void run_until_state(PacerCoach *coach, Runner *r, PacerCoachState want, double max_s)
{
	PacerCoachStatus st;

	for (double t = 0; t < max_s; t += TICK_US / 1e6) {
		tick(coach, r);
		pacer_coach_get_status(coach, &st);
		if (st.state == want)
			return;
	}
	CU_FAIL("state not reached");
}

/* The whole interval workout held inside every band: the right events, and no alert at all. */
static void test_intervals_on_target(void)
{
	PacerCoach *coach = new_coach(NULL);
	Runner r = {.hr = 150, .cadence = 176, .override_step = -1};
	PacerPlan plan;
	const Recorded *fin;

	intervals(&plan);
	CU_ASSERT_EQUAL(pacer_coach_load(coach, &plan, "intervals"), 0);
	run_until_state(coach, &r, PACER_COACH_FINISHED, 3600);

	CU_ASSERT_EQUAL(log_.ev[0].type, PACER_EVENT_WORKOUT_STARTED);
	/* auto-start after 3 s of moving */
	CU_ASSERT_EQUAL(log_.ev[0].t_us, 3250000u); /* first tick at 0.25 s */
	CU_ASSERT_EQUAL(count(PACER_EVENT_WORKOUT_STARTED), 1);
	CU_ASSERT_EQUAL(count(PACER_EVENT_STEP_STARTED), 10);
	CU_ASSERT_EQUAL(count(PACER_EVENT_STEP_ENDED), 10);
	CU_ASSERT_EQUAL(count(PACER_EVENT_WORKOUT_FINISHED), 1);
	CU_ASSERT_EQUAL(count(PACER_EVENT_STEP_COUNTDOWN), 10);
	for (PacerEventType t = PACER_EVENT_PACE_HIGH; t <= PACER_EVENT_CADENCE_ON_TARGET; t++)
		CU_ASSERT_EQUAL(count(t), 0);
	CU_ASSERT_EQUAL(count(PACER_EVENT_WORKOUT_PAUSED), 0); /* standing in rests is not a pause */
	/* 60 s at 3 m/s + 4 x 400 m + 60 s at 3 m/s = 1960 m: four splits */
	CU_ASSERT_EQUAL(count(PACER_EVENT_SPLIT), 4);
	/* seq counts up from 1 without gaps */
	for (size_t i = 0; i < log_.n; i++)
		CU_ASSERT_EQUAL(log_.ev[i].seq, i + 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(json_of(PACER_EVENT_WORKOUT_FINISHED, 0), "\"completed\":true"));
	CU_ASSERT_PTR_NOT_NULL(
		strstr(json_of(PACER_EVENT_WORKOUT_FINISHED, 0), "\"workout\":\"intervals\""));
	fin = find(PACER_EVENT_WORKOUT_FINISHED, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(fin);
	CU_ASSERT_DOUBLE_EQUAL(fin->elapsed_s, 60 + 4 * (96 + 120) + 60, 0.3);
	pacer_coach_free(coach);
}

/* Rep 2 run 6 % too fast: pace_high in rep 2 and nowhere else. */
static void test_too_fast_in_rep_2(void)
{
	PacerCoach *coach = new_coach(NULL);
	Runner r = {.hr = 150, .pace_override = 225, .override_step = 3};
	PacerPlan plan;

	intervals(&plan);
	CU_ASSERT_EQUAL(pacer_coach_load(coach, &plan, "intervals"), 0);
	run_until_state(coach, &r, PACER_COACH_FINISHED, 3600);
	CU_ASSERT_TRUE(count(PACER_EVENT_PACE_HIGH) >= 1);
	for (size_t i = 0; i < log_.n; i++) {
		if (log_.ev[i].type == PACER_EVENT_PACE_HIGH) {
			CU_ASSERT_EQUAL(log_.ev[i].step, 3);
			CU_ASSERT_DOUBLE_EQUAL(log_.ev[i].value, 225.0, 0.01);
			CU_ASSERT_DOUBLE_EQUAL(log_.ev[i].lo, 235.0, 1e-9);
			CU_ASSERT_DOUBLE_EQUAL(log_.ev[i].hi, 245.0, 1e-9);
		}
	}
	CU_ASSERT_EQUAL(count(PACER_EVENT_PACE_LOW), 0);
	/* the first alert: 15 s grace, then 8 s off target */
	CU_ASSERT_DOUBLE_EQUAL(find(PACER_EVENT_PACE_HIGH, 0)->elapsed_s, 60 + 96 + 120 + 23, 0.3);
	CU_ASSERT_PTR_NOT_NULL(strstr(json_of(PACER_EVENT_STEP_ENDED, 3), "\"on_target\":false"));
	CU_ASSERT_PTR_NOT_NULL(strstr(json_of(PACER_EVENT_STEP_ENDED, 1), "\"on_target\":true"));
	pacer_coach_free(coach);
}

/* A single long step at a target: off for 5 s (no alert), off for longer (alert, repeat after the cooldown), back (on target). */
static void test_hysteresis_and_cooldown(void)
{
	PacerCoach *coach = new_coach(NULL);
	Runner r = {.hr = 150, .override_step = -1};
	PacerPlan plan = {0};
	const Recorded *a, *b, *on;

	add(&plan, step_dist(PACER_STEP_RUN, 5000, 295, 305));
	CU_ASSERT_EQUAL(pacer_coach_load(coach, &plan, "5k"), 0);
	for (int i = 0; i < 4 * 40; i++)
		tick(coach, &r); /* start, then 37 s on target */
	r.pace_override = 320;
	for (int i = 0; i < 4 * 5; i++)
		tick(coach, &r); /* 5 s slow: nothing yet */
	r.pace_override = 0;
	for (int i = 0; i < 4 * 10; i++)
		tick(coach, &r);
	CU_ASSERT_EQUAL(count(PACER_EVENT_PACE_LOW), 0);
	r.pace_override = 320;
	for (int i = 0; i < 4 * 45; i++)
		tick(coach, &r); /* 45 s slow: alert at 8 s, again at 38 s */
	r.pace_override = 0;
	for (int i = 0; i < 4 * 5; i++)
		tick(coach, &r);
	CU_ASSERT_EQUAL(count(PACER_EVENT_PACE_LOW), 2);
	a = find(PACER_EVENT_PACE_LOW, 0);
	b = find(PACER_EVENT_PACE_LOW, 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_DOUBLE_EQUAL((double)(b->t_us - a->t_us) / 1e6, 30.0, 0.3);
	on = find(PACER_EVENT_PACE_ON_TARGET, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(on);
	CU_ASSERT_TRUE(on->t_us > b->t_us);
	CU_ASSERT_EQUAL(count(PACER_EVENT_PACE_ON_TARGET), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(a->json, "\"target_pace_s_per_km\":[295,305]"));
	pacer_coach_free(coach);
}

/* Heart rate and cadence targets: hr_high after the longer HR grace, cadence_low, back on target. */
static void test_hr_and_cadence_alerts(void)
{
	PacerCoach *coach = new_coach(NULL);
	Runner r = {.hr = 165, .cadence = 160, .override_step = -1};
	PacerPlan plan = {0};
	PacerStep st = step_time(PACER_STEP_RUN, 600);
	const Recorded *hr, *cad;

	st.target.has_hr = true;
	st.target.hr_min_bpm = 140;
	st.target.hr_max_bpm = 155;
	st.target.has_cadence = true;
	st.target.cadence_min_spm = 170;
	st.target.cadence_max_spm = 180;
	add(&plan, st);
	CU_ASSERT_EQUAL(pacer_coach_load(coach, &plan, "z3+cad"), 0);
	for (int i = 0; i < 4 * 70; i++)
		tick(coach, &r);
	hr = find(PACER_EVENT_HR_HIGH, 0);
	cad = find(PACER_EVENT_CADENCE_LOW, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(hr);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cad);
	CU_ASSERT_DOUBLE_EQUAL(hr->elapsed_s, 45 + 8, 0.3);
	CU_ASSERT_DOUBLE_EQUAL(cad->elapsed_s, 15 + 8, 0.3);
	CU_ASSERT_EQUAL(hr->value, 165);
	CU_ASSERT_PTR_NOT_NULL(strstr(hr->json, "\"target_hr_bpm\":[140,155]"));
	CU_ASSERT_PTR_NOT_NULL(strstr(cad->message, "Cadence 160, below 170"));
	r.hr = 150;
	r.cadence = 175;
	for (int i = 0; i < 4 * 5; i++)
		tick(coach, &r);
	CU_ASSERT_EQUAL(count(PACER_EVENT_HR_ON_TARGET), 1);
	CU_ASSERT_EQUAL(count(PACER_EVENT_CADENCE_ON_TARGET), 1);
	r.cadence = 190;
	for (int i = 0; i < 4 * 10; i++)
		tick(coach, &r);
	CU_ASSERT_EQUAL(count(PACER_EVENT_CADENCE_HIGH), 1);
	CU_ASSERT_EQUAL(count(PACER_EVENT_HR_LOW), 0);
	/* the runner eases off too much: below the band for more than 8 s */
	r.hr = 130;
	for (int i = 0; i < 4 * 10; i++)
		tick(coach, &r);
	CU_ASSERT_EQUAL(count(PACER_EVENT_HR_LOW), 1);
	hr = find(PACER_EVENT_HR_LOW, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(hr);
	CU_ASSERT_STRING_EQUAL(hr->message, "Heart rate 130, below 140. A little harder.");
	CU_ASSERT_PTR_NOT_NULL(strstr(hr->json, "\"target_hr_bpm\":[140,155]"));
	pacer_coach_free(coach);
}

/* Countdowns: 10 s before a timed step ends, 100 m before a distance step ends. */
static void test_countdown(void)
{
	PacerCoach *coach = new_coach(NULL);
	Runner r = {.override_step = -1};
	PacerPlan plan = {0};
	const Recorded *c0, *c1;

	add(&plan, step_time(PACER_STEP_RUN, 60));
	add(&plan, step_dist(PACER_STEP_RUN, 400, 0, 0));
	CU_ASSERT_EQUAL(pacer_coach_load(coach, &plan, "countdown"), 0);
	run_until_state(coach, &r, PACER_COACH_FINISHED, 600);
	c0 = find(PACER_EVENT_STEP_COUNTDOWN, 0);
	c1 = find(PACER_EVENT_STEP_COUNTDOWN, 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c1);
	CU_ASSERT_EQUAL(c0->step, 0);
	CU_ASSERT_DOUBLE_EQUAL(c0->elapsed_s, 50.0, 0.3);
	CU_ASSERT_STRING_EQUAL(c0->message, "10 seconds left.");
	CU_ASSERT_EQUAL(c1->step, 1);
	CU_ASSERT_DOUBLE_EQUAL(c1->value, 100.0, 1.0);
	CU_ASSERT_PTR_NOT_NULL(strstr(c1->json, "\"remaining_m\":"));
	/* step 1 (400 m at 3 m/s) ends after 133.3 s */
	CU_ASSERT_DOUBLE_EQUAL(find(PACER_EVENT_WORKOUT_FINISHED, 0)->elapsed_s, 60 + 400 / 3.0,
			       0.01);
	pacer_coach_free(coach);
}

/* Splits every 400 m at the interpolated moment; the split time and pace are right. */
static void test_splits(void)
{
	PacerCoachConfig cfg;
	PacerCoach *coach;
	Runner r = {.hr = 140, .override_step = -1};
	PacerPlan plan = {0};

	pacer_coach_config_init(&cfg);
	coach = new_coach(&cfg);
	add(&plan, step_dist(PACER_STEP_RUN, 2000, 240, 260));
	CU_ASSERT_EQUAL(pacer_coach_load(coach, &plan, "2k"), 0);
	run_until_state(coach, &r, PACER_COACH_FINISHED, 1200);
	CU_ASSERT_EQUAL(count(PACER_EVENT_SPLIT), 5);
	for (size_t i = 0; i < 5; i++) {
		const Recorded *s = find(PACER_EVENT_SPLIT, i);

		CU_ASSERT_EQUAL(s->number, i + 1);
		CU_ASSERT_DOUBLE_EQUAL(s->value, 100.0, 0.01); /* 400 m at 250 s/km */
		CU_ASSERT_DOUBLE_EQUAL(s->elapsed_s, 100.0 * (double)(i + 1), 0.01);
	}
	CU_ASSERT_STRING_EQUAL(find(PACER_EVENT_SPLIT, 0)->message, "Split 1: 400 m in 1:40, 4:10/km.");
	pacer_coach_free(coach);
}

/* A runner who stops mid-step: auto-pause after 3 s, auto-resume after 1 s of moving. */
static void test_auto_pause(void)
{
	PacerCoach *coach = new_coach(NULL);
	Runner r = {.override_step = -1};
	PacerPlan plan = {0};
	PacerCoachStatus st;
	const Recorded *p, *q;

	add(&plan, step_time(PACER_STEP_RUN, 120));
	CU_ASSERT_EQUAL(pacer_coach_load(coach, &plan, "2min"), 0);
	for (int i = 0; i < 4 * 30; i++)
		tick(coach, &r);
	r.stand = true;
	for (int i = 0; i < 4 * 20; i++)
		tick(coach, &r);
	r.stand = false;
	run_until_state(coach, &r, PACER_COACH_FINISHED, 600);
	p = find(PACER_EVENT_WORKOUT_PAUSED, 0);
	q = find(PACER_EVENT_WORKOUT_RESUMED, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_PTR_NOT_NULL_FATAL(q);
	CU_ASSERT_PTR_NOT_NULL(strstr(p->json, "\"auto\":true"));
	CU_ASSERT_DOUBLE_EQUAL((double)(q->t_us - p->t_us) / 1e6, 20.0 - 3.0 + 1.0, 0.3);
	/* the paused time does not count: the step still lasts 120 s of activity */
	CU_ASSERT_DOUBLE_EQUAL(find(PACER_EVENT_WORKOUT_FINISHED, 0)->elapsed_s, 120.0, 0.01);
	pacer_coach_get_status(coach, &st);
	CU_ASSERT_EQUAL(st.state, PACER_COACH_FINISHED);
	pacer_coach_free(coach);
}

/* Commands: pause and resume by hand, lap ending a step early, stop. */
static void test_commands(void)
{
	PacerCoachConfig cfg;
	PacerCoach *coach;
	Runner r = {.override_step = -1};
	PacerPlan plan;
	PacerCoachStatus st;
	const Recorded *fin;

	pacer_coach_config_init(&cfg);
	cfg.auto_start = false;
	coach = new_coach(&cfg);
	intervals(&plan);
	CU_ASSERT_EQUAL(pacer_coach_pause(coach, 0), -EINVAL);
	CU_ASSERT_EQUAL(pacer_coach_lap(coach, 0), -EINVAL);
	CU_ASSERT_EQUAL(pacer_coach_stop(coach, 0), -EINVAL);
	CU_ASSERT_EQUAL(pacer_coach_load(coach, &plan, "intervals"), 0);
	for (int i = 0; i < 40; i++)
		tick(coach, &r); /* no auto-start */
	CU_ASSERT_EQUAL(log_.n, 0);
	CU_ASSERT_EQUAL(pacer_coach_start(coach, r.t_us), 0);
	CU_ASSERT_EQUAL(pacer_coach_start(coach, r.t_us), -EALREADY);
	CU_ASSERT_EQUAL(pacer_coach_load(coach, &plan, "again"), -EBUSY);
	for (int i = 0; i < 40; i++)
		tick(coach, &r);
	CU_ASSERT_EQUAL(pacer_coach_lap(coach, r.t_us), 0);
	pacer_coach_get_status(coach, &st);
	CU_ASSERT_EQUAL(st.step, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(json_of(PACER_EVENT_STEP_ENDED, 0), "\"lapped\":true"));
	CU_ASSERT_EQUAL(pacer_coach_resume(coach, r.t_us), -EALREADY);
	CU_ASSERT_EQUAL(pacer_coach_pause(coach, r.t_us), 0);
	CU_ASSERT_EQUAL(pacer_coach_pause(coach, r.t_us), -EALREADY);
	for (int i = 0; i < 40; i++)
		tick(coach, &r); /* moving, but a manual pause waits for resume */
	pacer_coach_get_status(coach, &st);
	CU_ASSERT_EQUAL(st.state, PACER_COACH_PAUSED);
	CU_ASSERT_PTR_NOT_NULL(strstr(json_of(PACER_EVENT_WORKOUT_PAUSED, 0), "\"auto\":false"));
	CU_ASSERT_EQUAL(pacer_coach_resume(coach, r.t_us), 0);
	for (int i = 0; i < 40; i++)
		tick(coach, &r);
	CU_ASSERT_EQUAL(pacer_coach_stop(coach, r.t_us), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(json_of(PACER_EVENT_WORKOUT_FINISHED, 0), "\"completed\":false"));
	fin = find(PACER_EVENT_WORKOUT_FINISHED, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(fin);
	CU_ASSERT_DOUBLE_EQUAL(fin->elapsed_s, 20.0, 0.01); /* 10 s warm-up + 10 s of rep 1 */
	CU_ASSERT_EQUAL(pacer_coach_stop(coach, r.t_us), -EINVAL);
	pacer_coach_free(coach);
}

/* No workout: a free run starts by itself, splits and laps work, zones change. */
static void test_free_run(void)
{
	PacerCoachConfig cfg;
	PacerAthlete athlete = {.max_hr = 190};
	PacerCoach *coach;
	Runner r = {.hr = 120, .override_step = -1};
	const Recorded *z;

	pacer_coach_config_init(&cfg);
	CU_ASSERT_EQUAL_FATAL(pacer_hr_zones_compute(&athlete, &cfg.hr_zones), 0);
	cfg.free_target.has_cadence = true;
	cfg.free_target.cadence_min_spm = 170;
	cfg.free_target.cadence_max_spm = 180;
	r.cadence = 175;
	coach = new_coach(&cfg);
	for (int i = 0; i < 4 * 300; i++) {
		if (i == 4 * 100)
			r.hr = 160; /* zone 4 */
		if (i == 4 * 150)
			r.hr = 175; /* a 5 s blip into zone 5 */
		if (i == 4 * 155)
			r.hr = 160;
		tick(coach, &r);
	}
	CU_ASSERT_PTR_NOT_NULL(strstr(log_.ev[0].json, "\"free_run\":true"));
	CU_ASSERT_EQUAL(count(PACER_EVENT_SPLIT), 2); /* 297 s at 3 m/s */
	CU_ASSERT_EQUAL(count(PACER_EVENT_ZONE_CHANGED), 2); /* zone 2, then 4; not the blip */
	z = find(PACER_EVENT_ZONE_CHANGED, 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(z);
	CU_ASSERT_EQUAL(z->number, 4);
	CU_ASSERT_STRING_EQUAL(z->message, "Heart-rate zone 4, threshold.");
	CU_ASSERT_PTR_NOT_NULL(strstr(z->json, "\"previous_zone\":2"));
	CU_ASSERT_EQUAL(count(PACER_EVENT_CADENCE_LOW), 0);
	CU_ASSERT_EQUAL(pacer_coach_lap(coach, r.t_us), 0);
	CU_ASSERT_EQUAL(find(PACER_EVENT_STEP_STARTED, 1)->step, 1);
	r.cadence = 160;
	for (int i = 0; i < 4 * 30; i++)
		tick(coach, &r);
	CU_ASSERT_EQUAL(count(PACER_EVENT_CADENCE_LOW), 1);
	CU_ASSERT_EQUAL(pacer_coach_stop(coach, r.t_us), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(json_of(PACER_EVENT_WORKOUT_FINISHED, 0),
				      "\"time_in_zone_s\":["));
	pacer_coach_free(coach);
}

/* A negative-split mile run faster in the second half: verdict "negative". */
static void test_negative_split_verdict(void)
{
	PacerCoach *coach = new_coach(NULL);
	Runner r = {.override_step = -1};
	PacerPlan plan = {0};
	static const double paces[] = {255, 250, 245, 230};
	const Recorded *fin;

	for (unsigned i = 0; i < 4; i++) {
		PacerStep st = step_dist(PACER_STEP_RUN, i == 3 ? 409.344 : 400, paces[i] - 5,
					 paces[i] + 5);

		st.negative_group = 0;
		st.segment = i + 1;
		st.segments = 4;
		add(&plan, st);
	}
	plan.has_negative_split = true;
	CU_ASSERT_EQUAL(pacer_coach_load(coach, &plan, "1mi@6:40/mi negative"), 0);
	run_until_state(coach, &r, PACER_COACH_FINISHED, 1200);
	fin = find(PACER_EVENT_WORKOUT_FINISHED, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(fin);
	CU_ASSERT_PTR_NOT_NULL(strstr(fin->json, "\"verdict\":\"negative\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(fin->json, "\"first_half_pace_s_per_km\":252.5"));
	pacer_coach_free(coach);
}

static void test_sensor_events(void)
{
	PacerCoach *coach = new_coach(NULL);

	pacer_coach_sensor(coach, 5, PACER_EVENT_SENSOR_CONNECTED, "C0:FF:EE:00:00:01",
			   PACER_SENSOR_HEART_RATE, -1);
	pacer_coach_sensor(coach, 6, PACER_EVENT_BATTERY_LOW, "C0:FF:EE:00:00:02",
			   PACER_SENSOR_FOOTPOD, 9);
	pacer_coach_sensor(coach, 7, PACER_EVENT_SENSOR_LOST, "C0:FF:EE:00:00:01",
			   PACER_SENSOR_HEART_RATE, -1);
	CU_ASSERT_EQUAL_FATAL(log_.n, 3);
	CU_ASSERT_STRING_EQUAL(log_.ev[0].json,
			       "{\"type\":\"sensor_connected\",\"seq\":1,\"elapsed_s\":0,\"step\":null,"
			       "\"message\":\"Heart-rate strap connected.\",\"address\":"
			       "\"C0:FF:EE:00:00:01\",\"kind\":\"heart_rate\"}");
	CU_ASSERT_STRING_EQUAL(log_.ev[1].message, "Footpod battery at 9 %.");
	CU_ASSERT_PTR_NOT_NULL(strstr(log_.ev[1].json, "\"battery_pct\":9"));
	CU_ASSERT_EQUAL(log_.ev[2].type, PACER_EVENT_SENSOR_LOST);
	CU_ASSERT_STRING_EQUAL(pacer_event_type_to_string(PACER_EVENT_WORKOUT_FINISHED),
			       "workout_finished");
	pacer_coach_free(coach);
}

/* Sensor events a pipeline infers, in order: the kind of event, the sensor, when. */
static void check_sensor_event(size_t *next, PacerEventType type, const char *address,
			       uint64_t t_us)
{
	while (*next < log_.n && log_.ev[*next].type != PACER_EVENT_SENSOR_CONNECTED &&
	       log_.ev[*next].type != PACER_EVENT_SENSOR_LOST)
		(*next)++;
	CU_ASSERT_FATAL(*next < log_.n);
	CU_ASSERT_EQUAL(log_.ev[*next].type, type);
	CU_ASSERT_EQUAL(log_.ev[*next].t_us, t_us);
	CU_ASSERT_PTR_NOT_NULL(strstr(log_.ev[*next].json, address));
	(*next)++;
}

/*
 * A sensor is lost at the first tick more than lost_after_us after it last
 * sent, each on its own clock, whether others keep sending or not; one that
 * comes back is connected again and can be lost again.
 */
static void test_pipeline_sensor_lost(void)
{
	static const uint8_t hr[] = {0x06, 0x3c}, rsc[] = {0x00, 0x00, 0x03, 0xaa};
	PacerPipelineConfig cfg;
	PacerPipeline *p;
	size_t next = 0;

	log_.n = 0;
	pacer_pipeline_config_init(&cfg);
	cfg.coach.auto_start = false;
	p = pacer_pipeline_new(&cfg, on_event, &log_);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_EQUAL(pacer_pipeline_register_sensor(p, "C0:FF:EE:00:00:09",
						       PACER_SENSOR_TREADMILL, 1000000),
			0);
	for (uint64_t t = 0; t <= 30000000; t += PACER_PIPELINE_TICK_US) {
		pacer_pipeline_tick(p, t);
		/* the strap at 0-2 s and 10-11 s, the footpod until 20 s */
		if ((t <= 2000000 || (t >= 10000000 && t <= 11000000)) && t % 1000000 == 0)
			pacer_pipeline_notify(p, "C0:FF:EE:00:00:01", 0x2a37, hr, sizeof(hr),
					      t + 1);
		if (t <= 20000000)
			pacer_pipeline_notify(p, "C0:FF:EE:00:00:02", 0x2a53, rsc, sizeof(rsc),
					      t + 2);
	}
	check_sensor_event(&next, PACER_EVENT_SENSOR_CONNECTED, "00:09", 1000000);
	check_sensor_event(&next, PACER_EVENT_SENSOR_CONNECTED, "00:01", 1);
	check_sensor_event(&next, PACER_EVENT_SENSOR_CONNECTED, "00:02", 2);
	check_sensor_event(&next, PACER_EVENT_SENSOR_LOST, "00:09", 6250000);
	check_sensor_event(&next, PACER_EVENT_SENSOR_LOST, "00:01", 7250000);
	check_sensor_event(&next, PACER_EVENT_SENSOR_CONNECTED, "00:01", 10000001);
	check_sensor_event(&next, PACER_EVENT_SENSOR_LOST, "00:01", 16250000);
	check_sensor_event(&next, PACER_EVENT_SENSOR_LOST, "00:02", 25250000);
	for (; next < log_.n; next++)
		CU_ASSERT_NOT_EQUAL(log_.ev[next].type, PACER_EVENT_SENSOR_LOST);
	pacer_pipeline_free(p);
}

int main(void)
{
	static const PacerTest tests[] = {
		{"intervals held on target: events, no alerts", test_intervals_on_target},
		{"too fast in rep 2: pace_high there only", test_too_fast_in_rep_2},
		{"hysteresis, cooldown, back on target", test_hysteresis_and_cooldown},
		{"heart-rate and cadence alerts", test_hr_and_cadence_alerts},
		{"countdowns", test_countdown},
		{"splits", test_splits},
		{"auto-pause and resume", test_auto_pause},
		{"commands", test_commands},
		{"free run: splits, laps, zones", test_free_run},
		{"negative-split verdict", test_negative_split_verdict},
		{"sensor events", test_sensor_events},
		{"pipeline: sensors lost and back", test_pipeline_sensor_lost},
		{NULL, NULL},
	};

	return pacer_test_main("coach", tests);
}
