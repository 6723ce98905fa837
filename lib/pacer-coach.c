/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "pacer-coach.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pacer-json.h"

#define JSON_SIZE (160 * 1024) /* a finish summary of 256 steps fits easily */
#define MESSAGE_SIZE 256
#define KM_PER_MILE 1.609344
#define PACE_DEADBAND_S 0.5 /* per km: back "on target" only this far inside the band */
#define HR_DEADBAND 1.0
#define CADENCE_DEADBAND 1.0
#define RESUME_AFTER_US 1000000u
#define VERDICT_TOLERANCE 0.005 /* halves within 0.5 % of each other are even */

enum { DIR_NONE = 0, DIR_HIGH = 1, DIR_LOW = 2 };

typedef struct {
	int status; /* DIR_* currently out of the band, DIR_NONE inside or unknown */
	uint64_t since_us;
	bool alerted;
	bool has_alert[3];
	uint64_t last_alert_us[3];
} Alert;

typedef struct {
	double time_s;
	double distance_m;
	double hr_sum; /* bpm x s */
	double hr_s;
	double cad_sum;
	double cad_s;
	double judged_s; /* time and distance after the grace period: what on_target judges */
	double judged_m;
	bool lapped;
	bool done;
} StepActual;

typedef struct {
	bool has_trimp;
	double trimp;
	double time_in_zone_s[PACER_HR_ZONES_MAX + 1];
} Effort;

struct PacerCoach {
	PacerCoachConfig cfg;
	PacerEventFunc func;
	void *user_data;
	char *json;
	PacerCoachFinishFunc finish_hook;
	void *finish_user_data;
	uint64_t seq;

	PacerCoachState state;
	bool has_plan;
	PacerPlan plan;
	char text[PACER_WORKOUT_MAX_TEXT + 1];
	bool free_run;
	PacerStep free_step;
	StepActual *actual; /* one per step (PACER_WORKOUT_MAX_STEPS) */
	size_t step;
	size_t n_free_laps;

	bool paused_auto;
	bool has_last;
	uint64_t last_us;
	double last_distance_m;
	bool moving;
	uint64_t moving_since_us;
	uint64_t still_since_us;
	bool stood_since_finish;

	double elapsed_s;
	double distance_m;
	double hr_sum, hr_s;

	bool countdown_done;
	Alert pace, hr, cadence;

	unsigned splits;
	double split_start_s;
	double split_hr_sum, split_hr_s;

	unsigned zone;
	unsigned pending_zone;
	uint64_t pending_since_us;
	/* the last zone looked up: the heart rate changes far less often than ticks come */
	bool has_zone_of;
	unsigned zone_of_bpm;
	unsigned zone_of;

	uint64_t now_us;
	uint64_t step_start_us;
	Effort effort_start;
	Effort effort_now;
	const PacerMetricsSnapshot *snap; /* during an update */
};

void pacer_coach_config_init(PacerCoachConfig *config)
{
	*config = (PacerCoachConfig){
		.grace_us = 15000000,
		.hr_grace_us = 45000000,
		.off_target_us = 8000000,
		.cooldown_us = 30000000,
		.countdown_us = 10000000,
		.countdown_m = 100.0,
		.split_m = 400.0,
		.auto_start = true,
		.auto_pause = true,
		.auto_start_us = 3000000,
		.auto_pause_us = 3000000,
		.moving_speed_mps = 1.0,
		.zone_stable_us = 20000000,
	};
}

PacerCoach *pacer_coach_new(const PacerCoachConfig *config, PacerEventFunc func,
			    void *user_data)
{
	PacerCoach *c;

	if (!func || !(config->split_m > 0.0))
		return NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->json = malloc(JSON_SIZE);
	c->actual = calloc(PACER_WORKOUT_MAX_STEPS, sizeof(*c->actual));
	if (!c->json || !c->actual) {
		pacer_coach_free(c);
		return NULL;
	}
	c->cfg = *config;
	c->func = func;
	c->user_data = user_data;
	c->state = PACER_COACH_IDLE;
	c->stood_since_finish = true;
	return c;
}

void pacer_coach_free(PacerCoach *coach)
{
	if (!coach)
		return;
	free(coach->json);
	free(coach->actual);
	free(coach);
}

/* ---- formatting ---- */

static void format_clock(double s, char *buf, size_t size)
{
	unsigned t = !(s > 0) ? 0u : s > 359999.0 ? 359999u : (unsigned)lround(s);

	if (t >= 3600)
		snprintf(buf, size, "%u:%02u:%02u", t / 3600 % 100, t / 60 % 60, t % 60);
	else
		snprintf(buf, size, "%u:%02u", t / 60 % 60, t % 60);
}

static void format_pace(const PacerCoach *c, double s_per_km, char *buf, size_t size)
{
	double s = c->cfg.imperial ? s_per_km * KM_PER_MILE : s_per_km;
	char clock[32];

	if (!(s > 0) || s > 5999) {
		snprintf(buf, size, "no pace");
		return;
	}
	format_clock(s, clock, sizeof(clock));
	snprintf(buf, size, "%s/%s", clock, c->cfg.imperial ? "mi" : "km");
}

static void format_distance(const PacerCoach *c, double m, char *buf, size_t size)
{
	if (c->cfg.imperial)
		snprintf(buf, size, "%.2f mi", m / 1000.0 / KM_PER_MILE);
	else if (m < 1000.0)
		snprintf(buf, size, "%.0f m", m);
	else
		snprintf(buf, size, "%.2f km", m / 1000.0);
}

/* ---- events ---- */

typedef struct {
	PacerEvent ev;
	PacerJson j;
	char message[MESSAGE_SIZE];
} Emit;

__attribute__((format(printf, 4, 5))) static void emit_begin(PacerCoach *c, Emit *e,
							    PacerEventType type,
							    const char *fmt, ...)
{
	va_list ap;
	const PacerMetricsSnapshot *s = c->snap;
	bool running = c->state == PACER_COACH_RUNNING || c->state == PACER_COACH_PAUSED;

	va_start(ap, fmt);
	vsnprintf(e->message, sizeof(e->message), fmt, ap);
	va_end(ap);
	e->ev = (PacerEvent){
		.type = type,
		.seq = ++c->seq,
		.t_us = s ? s->t_us : c->now_us,
		.elapsed_s = c->elapsed_s,
		.step = running ? (int)c->step : -1,
		.message = e->message,
		.value = NAN,
		.target_low = NAN,
		.target_high = NAN,
	};
	pacer_json_init(&e->j, c->json, JSON_SIZE);
	pacer_json_begin_object(&e->j);
	pacer_json_key(&e->j, "type");
	pacer_json_string(&e->j, pacer_event_type_to_string(type));
	pacer_json_key(&e->j, "seq");
	pacer_json_int(&e->j, (int64_t)e->ev.seq);
	pacer_json_key(&e->j, "elapsed_s");
	pacer_json_fixed(&e->j, c->elapsed_s, 1);
	pacer_json_key(&e->j, "step");
	if (e->ev.step >= 0)
		pacer_json_int(&e->j, e->ev.step);
	else
		pacer_json_null(&e->j);
	pacer_json_key(&e->j, "message");
	pacer_json_string(&e->j, e->message);
}

static void emit_end(PacerCoach *c, Emit *e)
{
	int n;

	pacer_json_end_object(&e->j);
	n = pacer_json_finish(&e->j);
	if (n < 0) {
		/* cannot happen with JSON_SIZE; still hand out valid JSON */
		snprintf(c->json, JSON_SIZE, "{\"type\":\"%s\",\"seq\":%llu}",
			 pacer_event_type_to_string(e->ev.type), (unsigned long long)e->ev.seq);
		n = (int)strlen(c->json);
	}
	e->ev.json = c->json;
	e->ev.json_len = (size_t)n;
	c->func(&e->ev, c->user_data);
}

static void key_number(PacerJson *j, const char *key, bool has, double v, unsigned decimals)
{
	pacer_json_key(j, key);
	if (has && isfinite(v))
		pacer_json_fixed(j, v, decimals);
	else
		pacer_json_null(j);
}

/* ---- steps ---- */

static const PacerStep *current_step(const PacerCoach *c)
{
	return c->free_run ? &c->free_step : &c->plan.steps[c->step];
}

static size_t n_steps(const PacerCoach *c)
{
	return c->free_run ? c->step + 1 : c->plan.n_steps;
}

static const char *kind_title(PacerStepKind kind)
{
	switch (kind) {
	case PACER_STEP_WARMUP:
		return "Warm-up";
	case PACER_STEP_RUN:
		return "Run";
	case PACER_STEP_REST:
		return "Rest";
	case PACER_STEP_JOG:
		return "Jog";
	case PACER_STEP_RECOVERY:
		return "Recovery";
	case PACER_STEP_WALK:
		return "Walk";
	case PACER_STEP_COOLDOWN:
		return "Cool-down";
	}
	return "Step";
}

static void write_step_amount(PacerJson *j, const PacerStep *st, bool open)
{
	if (open) {
		pacer_json_key(j, "duration_s");
		pacer_json_null(j);
	} else if (st->end == PACER_STEP_END_TIME) {
		pacer_json_key(j, "duration_s");
		pacer_json_fixed(j, st->duration_s, 1);
	} else {
		pacer_json_key(j, "distance_m");
		pacer_json_fixed(j, st->distance_m, 1);
	}
}

static void write_rep(PacerJson *j, const PacerStep *st)
{
	pacer_json_key(j, "rep");
	if (st->rep > 0)
		pacer_json_int(j, st->rep);
	else
		pacer_json_null(j);
	pacer_json_key(j, "reps");
	if (st->reps > 0)
		pacer_json_int(j, st->reps);
	else
		pacer_json_null(j);
}

static void emit_step_started(PacerCoach *c)
{
	const PacerStep *st = current_step(c);
	char what[192];
	Emit e;

	if (c->free_run)
		snprintf(what, sizeof(what), "%s", c->step == 0 ? "Free run." : "New lap.");
	else
		pacer_step_describe(st, c->cfg.imperial, what, sizeof(what));
	emit_begin(c, &e, PACER_EVENT_STEP_STARTED, "%s%s", what,
		   pacer_step_is_work(st) && !c->free_run ? " Go." : "");
	e.ev.number = st->rep;
	pacer_json_key(&e.j, "kind");
	pacer_json_string(&e.j, pacer_step_kind_to_string(st->kind));
	write_rep(&e.j, st);
	write_step_amount(&e.j, st, c->free_run);
	pacer_target_write_json(&st->target, &e.j);
	emit_end(c, &e);
}

static double safe_pace(double time_s, double distance_m)
{
	return distance_m >= 1.0 ? time_s / distance_m * 1000.0 : NAN;
}

static bool pace_in_band(const PacerTarget *t, double pace)
{
	return isfinite(pace) && (t->pace_fast_s_per_km <= 0 || pace >= t->pace_fast_s_per_km) &&
	       pace <= t->pace_slow_s_per_km;
}

/*
 * Whether a step's pace was on target: judged, like the alerts, after the
 * grace period (a rep from a standing start is not off target for the
 * seconds it takes to get going); short steps are judged whole.
 */
static double judged_pace(const StepActual *a)
{
	if (a->judged_s >= 10.0 && a->judged_s >= a->time_s / 2)
		return safe_pace(a->judged_s, a->judged_m);
	return safe_pace(a->time_s, a->distance_m);
}

/* The actuals of one step, as JSON members (step_ended and the finish summary). */
static void write_actual(PacerJson *j, const PacerStep *st, const StepActual *a)
{
	double pace = safe_pace(a->time_s, a->distance_m), judged = judged_pace(a);

	pacer_json_key(j, "actual_duration_s");
	pacer_json_fixed(j, a->time_s, 1);
	pacer_json_key(j, "actual_distance_m");
	pacer_json_fixed(j, a->distance_m, 1);
	key_number(j, "pace_s_per_km", true, pace, 1);
	key_number(j, "hr_bpm", a->hr_s > 0, a->hr_sum / a->hr_s, 0);
	key_number(j, "cadence_spm", a->cad_s > 0, a->cad_sum / a->cad_s, 0);
	pacer_json_key(j, "on_target");
	if (st->target.has_pace && !st->target.hill && isfinite(judged))
		pacer_json_bool(j, pace_in_band(&st->target, judged));
	else
		pacer_json_null(j);
	pacer_json_key(j, "lapped");
	pacer_json_bool(j, a->lapped);
}

static void emit_step_ended(PacerCoach *c)
{
	const PacerStep *st = current_step(c);
	const StepActual *a = &c->actual[c->step];
	char dist[32], clock[16], pace[48];
	Emit e;

	format_distance(c, a->distance_m, dist, sizeof(dist));
	format_clock(a->time_s, clock, sizeof(clock));
	format_pace(c, safe_pace(a->time_s, a->distance_m), pace, sizeof(pace));
	if (st->rep > 0 && pacer_step_is_work(st))
		emit_begin(c, &e, PACER_EVENT_STEP_ENDED, "Rep %u of %u done: %s in %s, %s.", st->rep,
			   st->reps, dist, clock, pace);
	else if (a->distance_m < 1.0 || st->kind == PACER_STEP_REST)
		emit_begin(c, &e, PACER_EVENT_STEP_ENDED, "%s done: %s.", kind_title(st->kind), clock);
	else
		emit_begin(c, &e, PACER_EVENT_STEP_ENDED, "%s done: %s in %s, %s.",
			   kind_title(st->kind), dist, clock, pace);
	e.ev.value = safe_pace(a->time_s, a->distance_m);
	e.ev.target_low = st->target.has_pace ? st->target.pace_fast_s_per_km : NAN;
	e.ev.target_high = st->target.has_pace ? st->target.pace_slow_s_per_km : NAN;
	e.ev.number = st->rep;
	pacer_json_key(&e.j, "kind");
	pacer_json_string(&e.j, pacer_step_kind_to_string(st->kind));
	write_rep(&e.j, st);
	write_step_amount(&e.j, st, c->free_run);
	pacer_target_write_json(&st->target, &e.j);
	write_actual(&e.j, st, a);
	emit_end(c, &e);
}

static void reset_alerts(PacerCoach *c)
{
	c->pace = (Alert){0};
	c->hr = (Alert){0};
	c->cadence = (Alert){0};
}

static void begin_step(PacerCoach *c)
{
	c->actual[c->step] = (StepActual){0};
	c->countdown_done = false;
	reset_alerts(c);
	if (c->free_run) {
		c->free_step.index = (unsigned)c->step;
	}
	emit_step_started(c);
}

/* ---- the finish ---- */

/* Halves of the first negative-split effort: their paces and the verdict. */
static void write_negative_split(PacerCoach *c, PacerJson *j)
{
	double t[2] = {0, 0}, d[2] = {0, 0}, p[2];
	int group = -1;
	const char *verdict;

	pacer_json_key(j, "negative_split");
	for (size_t i = 0; i <= c->step && i < c->plan.n_steps && !c->free_run; i++) {
		const PacerStep *st = &c->plan.steps[i];
		int half;

		if (st->negative_group < 0 || (group >= 0 && st->negative_group != group))
			continue;
		group = st->negative_group;
		half = 2 * st->segment > st->segments ? 1 : 0;
		t[half] += c->actual[i].time_s;
		d[half] += c->actual[i].distance_m;
	}
	p[0] = safe_pace(t[0], d[0]);
	p[1] = safe_pace(t[1], d[1]);
	if (group < 0 || !isfinite(p[0]) || !isfinite(p[1])) {
		pacer_json_null(j);
		return;
	}
	verdict = p[1] < p[0] * (1.0 - VERDICT_TOLERANCE)   ? "negative"
		  : p[1] > p[0] * (1.0 + VERDICT_TOLERANCE) ? "positive"
							    : "even";
	pacer_json_begin_object(j);
	key_number(j, "first_half_pace_s_per_km", true, p[0], 1);
	key_number(j, "second_half_pace_s_per_km", true, p[1], 1);
	pacer_json_key(j, "verdict");
	pacer_json_string(j, verdict);
	pacer_json_end_object(j);
}

static void write_step_summaries(PacerCoach *c, PacerJson *j)
{
	pacer_json_key(j, "steps");
	pacer_json_begin_array(j);
	for (size_t i = 0; i <= c->step && i < PACER_WORKOUT_MAX_STEPS; i++) {
		const PacerStep *st = c->free_run ? &c->free_step : &c->plan.steps[i];

		if (!c->free_run && i >= c->plan.n_steps)
			break;
		pacer_json_begin_object(j);
		pacer_json_key(j, "index");
		pacer_json_int(j, (int64_t)i);
		pacer_json_key(j, "kind");
		pacer_json_string(j, pacer_step_kind_to_string(st->kind));
		pacer_json_key(j, "target_label");
		pacer_json_string(j, st->target.label);
		write_actual(j, st, &c->actual[i]);
		pacer_json_end_object(j);
	}
	pacer_json_end_array(j);
}

static void write_effort(const PacerCoach *c, PacerJson *j, const Effort *at_start,
			 const Effort *now)
{
	pacer_json_key(j, "time_in_zone_s");
	if (c->cfg.hr_zones.n_zones == 0) {
		pacer_json_null(j);
	} else {
		pacer_json_begin_array(j);
		for (size_t z = 0; z <= c->cfg.hr_zones.n_zones; z++)
			pacer_json_fixed(j, now->time_in_zone_s[z] - at_start->time_in_zone_s[z], 1);
		pacer_json_end_array(j);
	}
	key_number(j, "trimp", now->has_trimp, now->trimp - at_start->trimp, 1);
}

static void finish(PacerCoach *c, bool completed)
{
	double pace = safe_pace(c->elapsed_s, c->distance_m);
	char dist[32], clock[16], pace_text[48];
	Emit e;

	format_distance(c, c->distance_m, dist, sizeof(dist));
	format_clock(c->elapsed_s, clock, sizeof(clock));
	format_pace(c, pace, pace_text, sizeof(pace_text));
	emit_begin(c, &e, PACER_EVENT_WORKOUT_FINISHED, "%s: %s in %s, average %s.",
		   completed ? "Workout complete" : "Workout stopped", dist, clock, pace_text);
	e.ev.value = pace;
	pacer_json_key(&e.j, "completed");
	pacer_json_bool(&e.j, completed);
	pacer_json_key(&e.j, "free_run");
	pacer_json_bool(&e.j, c->free_run);
	pacer_json_key(&e.j, "workout");
	if (c->free_run)
		pacer_json_null(&e.j);
	else
		pacer_json_string(&e.j, c->text);
	pacer_json_key(&e.j, "duration_s");
	pacer_json_fixed(&e.j, c->elapsed_s, 1);
	pacer_json_key(&e.j, "distance_m");
	pacer_json_fixed(&e.j, c->distance_m, 1);
	key_number(&e.j, "pace_s_per_km", true, pace, 1);
	key_number(&e.j, "hr_bpm", c->hr_s > 0, c->hr_sum / c->hr_s, 0);
	write_step_summaries(c, &e.j);
	write_negative_split(c, &e.j);
	write_effort(c, &e.j, &c->effort_start, &c->effort_now);
	if (c->finish_hook)
		c->finish_hook(&e.j, c->finish_user_data);
	c->state = PACER_COACH_FINISHED;
	c->has_plan = false;
	c->stood_since_finish = false;
	emit_end(c, &e);
}

/* Ends the current step and moves on: the next step, a new free-run lap, or the finish. */
static void end_step(PacerCoach *c, bool lapped)
{
	c->actual[c->step].lapped = lapped;
	c->actual[c->step].done = true;
	emit_step_ended(c);
	if (c->free_run) {
		if (c->step + 1 < PACER_WORKOUT_MAX_STEPS)
			c->step++;
		begin_step(c);
		return;
	}
	if (c->step + 1 >= c->plan.n_steps) {
		finish(c, true);
		return;
	}
	c->step++;
	begin_step(c);
}

static void start(PacerCoach *c)
{
	Emit e;

	c->state = PACER_COACH_RUNNING;
	c->free_run = !c->has_plan;
	c->step = 0;
	c->elapsed_s = 0.0;
	c->distance_m = 0.0;
	c->hr_sum = c->hr_s = 0.0;
	c->splits = 0;
	c->split_start_s = 0.0;
	c->split_hr_sum = c->split_hr_s = 0.0;
	c->zone = UINT32_MAX;
	c->pending_zone = UINT32_MAX;
	c->paused_auto = false;
	c->step_start_us = c->now_us;
	c->effort_start = c->effort_now;
	if (c->free_run)
		c->free_step = (PacerStep){.kind = PACER_STEP_RUN,
					   .end = PACER_STEP_END_TIME,
					   .duration_s = INFINITY,
					   .target = c->cfg.free_target,
					   .negative_group = -1};
	if (c->free_run)
		emit_begin(c, &e, PACER_EVENT_WORKOUT_STARTED, "Free run started.");
	else
		emit_begin(c, &e, PACER_EVENT_WORKOUT_STARTED, "Workout started: %zu steps.",
			   c->plan.n_steps);
	pacer_json_key(&e.j, "workout");
	if (c->free_run)
		pacer_json_null(&e.j);
	else
		pacer_json_string(&e.j, c->text);
	pacer_json_key(&e.j, "free_run");
	pacer_json_bool(&e.j, c->free_run);
	pacer_json_key(&e.j, "steps");
	if (c->free_run)
		pacer_json_null(&e.j);
	else
		pacer_json_int(&e.j, (int64_t)c->plan.n_steps);
	emit_end(c, &e);
	begin_step(c);
}

/* ---- following the runner ---- */

static void emit_split(PacerCoach *c, double at_s)
{
	double split_s = at_s - c->split_start_s;
	double hr = c->split_hr_s > 0 ? c->split_hr_sum / c->split_hr_s : NAN;
	char clock[32], pace[48], dist[32];
	Emit e;

	c->splits++;
	format_clock(split_s, clock, sizeof(clock));
	format_pace(c, split_s / c->cfg.split_m * 1000.0, pace, sizeof(pace));
	format_distance(c, c->cfg.split_m, dist, sizeof(dist));
	emit_begin(c, &e, PACER_EVENT_SPLIT, "Split %u: %s in %s, %s.", c->splits, dist, clock,
		   pace);
	e.ev.value = split_s;
	e.ev.number = c->splits;
	pacer_json_key(&e.j, "split");
	pacer_json_int(&e.j, c->splits);
	pacer_json_key(&e.j, "distance_m");
	pacer_json_fixed(&e.j, c->splits * c->cfg.split_m, 1);
	pacer_json_key(&e.j, "split_s");
	pacer_json_fixed(&e.j, split_s, 1);
	key_number(&e.j, "pace_s_per_km", true, split_s / c->cfg.split_m * 1000.0, 1);
	key_number(&e.j, "hr_bpm", isfinite(hr), hr, 0);
	emit_end(c, &e);
	c->split_start_s = at_s;
	c->split_hr_sum = c->split_hr_s = 0.0;
}

/* Adds a slice of time and distance to the current step, the workout and its splits. */
static void add_slice(PacerCoach *c, const PacerMetricsSnapshot *s, double dt, double dd)
{
	StepActual *a = &c->actual[c->step];
	double start_s = c->elapsed_s, start_m = c->distance_m;

	if (s->has_hr) {
		a->hr_sum += s->hr_bpm * dt;
		a->hr_s += dt;
		c->hr_sum += s->hr_bpm * dt;
		c->hr_s += dt;
		c->split_hr_sum += s->hr_bpm * dt;
		c->split_hr_s += dt;
	}
	if (s->has_cadence && s->cadence_spm > 0) {
		a->cad_sum += s->cadence_spm * dt;
		a->cad_s += dt;
	}
	if (a->time_s * 1e6 >= (double)c->cfg.grace_us) {
		a->judged_s += dt;
		a->judged_m += dd;
	}
	a->time_s += dt;
	a->distance_m += dd;
	while (dd > 0 && start_m + dd >= (c->splits + 1) * c->cfg.split_m) {
		double frac = ((c->splits + 1) * c->cfg.split_m - start_m) / dd;

		c->elapsed_s = start_s + frac * dt;
		c->distance_m = (c->splits + 1) * c->cfg.split_m;
		emit_split(c, c->elapsed_s);
	}
	c->elapsed_s = start_s + dt;
	c->distance_m = start_m + dd;
}

/* The share of a slice that fits in the current step before it ends (1 if all of it). */
static double fits(const PacerCoach *c, double dt, double dd)
{
	const PacerStep *st = current_step(c);
	const StepActual *a = &c->actual[c->step];
	double left;

	if (c->free_run)
		return 1.0;
	if (st->end == PACER_STEP_END_TIME) {
		left = st->duration_s - a->time_s;
		return dt > left ? (left > 0 ? left / dt : 0.0) : 1.0;
	}
	left = st->distance_m - a->distance_m;
	return dd > left ? (left > 0 ? left / dd : 0.0) : 1.0;
}

static bool step_complete(const PacerCoach *c)
{
	const PacerStep *st = current_step(c);
	const StepActual *a = &c->actual[c->step];

	if (c->free_run)
		return false;
	if (st->end == PACER_STEP_END_TIME)
		return a->time_s >= st->duration_s - 1e-9;
	return a->distance_m >= st->distance_m - 1e-9;
}

static void advance(PacerCoach *c, const PacerMetricsSnapshot *s, double dt, double dd)
{
	for (unsigned guard = 0; guard <= PACER_WORKOUT_MAX_STEPS; guard++) {
		double f = fits(c, dt, dd);

		add_slice(c, s, f * dt, f * dd);
		dt -= f * dt;
		dd -= f * dd;
		if (!step_complete(c))
			return;
		end_step(c, false);
		if (c->state != PACER_COACH_RUNNING)
			return;
		c->step_start_us = c->now_us;
	}
}

static void countdown(PacerCoach *c)
{
	const PacerStep *st = current_step(c);
	const StepActual *a = &c->actual[c->step];
	double left;
	Emit e;

	if (c->countdown_done || c->free_run)
		return;
	if (st->end == PACER_STEP_END_TIME) {
		double window = (double)c->cfg.countdown_us / 1e6;

		left = st->duration_s - a->time_s;
		if (left > window || st->duration_s < 1.5 * window)
			return;
		emit_begin(c, &e, PACER_EVENT_STEP_COUNTDOWN, "%.0f seconds left.", ceil(left));
		pacer_json_key(&e.j, "remaining_s");
		pacer_json_fixed(&e.j, left, 1);
	} else {
		char dist[32];

		left = st->distance_m - a->distance_m;
		if (left > c->cfg.countdown_m || st->distance_m < 1.5 * c->cfg.countdown_m)
			return;
		format_distance(c, left, dist, sizeof(dist));
		emit_begin(c, &e, PACER_EVENT_STEP_COUNTDOWN, "%s left.", dist);
		pacer_json_key(&e.j, "remaining_m");
		pacer_json_fixed(&e.j, left, 1);
	}
	e.ev.value = left;
	c->countdown_done = true;
	emit_end(c, &e);
}

/* ---- alerts ---- */

typedef enum {
	METRIC_PACE,
	METRIC_HR,
	METRIC_CADENCE,
} Metric;

static const PacerEventType alert_event[3][3] = {
	[METRIC_PACE] = {PACER_EVENT_PACE_ON_TARGET, PACER_EVENT_PACE_HIGH, PACER_EVENT_PACE_LOW},
	[METRIC_HR] = {PACER_EVENT_HR_ON_TARGET, PACER_EVENT_HR_HIGH, PACER_EVENT_HR_LOW},
	[METRIC_CADENCE] = {PACER_EVENT_CADENCE_ON_TARGET, PACER_EVENT_CADENCE_HIGH,
			    PACER_EVENT_CADENCE_LOW},
};

/* For pace, "high" is too fast: below the band's fast end. A bound <= 0 is open. */
static int classify(Metric metric, double v, double lo, double hi)
{
	if (metric == METRIC_PACE)
		return lo > 0 && v < lo ? DIR_HIGH : (v > hi ? DIR_LOW : DIR_NONE);
	return hi > 0 && v > hi ? DIR_HIGH : (v < lo ? DIR_LOW : DIR_NONE);
}

static bool deep_inside(Metric metric, double v, double lo, double hi)
{
	double db = metric == METRIC_PACE ? PACE_DEADBAND_S
		    : metric == METRIC_HR ? HR_DEADBAND
					  : CADENCE_DEADBAND;

	return (lo <= 0 || v >= lo + db) && (hi <= 0 || v <= hi - db);
}

static void alert_message(PacerCoach *c, Emit *e, Metric metric, int dir, double v, double lo,
			  double hi)
{
	PacerEventType type = alert_event[metric][dir];
	char now[48], a[48], b[48];

	switch (metric) {
	case METRIC_PACE:
		format_pace(c, v, now, sizeof(now));
		format_pace(c, lo, a, sizeof(a));
		format_pace(c, hi, b, sizeof(b));
		if (dir == DIR_HIGH)
			emit_begin(c, e, type, "Too fast: %s, target %s to %s. Ease off.", now, a, b);
		else if (dir == DIR_LOW && lo > 0)
			emit_begin(c, e, type, "Too slow: %s, target %s to %s. Pick it up.", now, a, b);
		else if (dir == DIR_LOW)
			emit_begin(c, e, type, "Too slow: %s, target %s or faster. Pick it up.", now, b);
		else
			emit_begin(c, e, type, "Back on pace: %s.", now);
		break;
	case METRIC_HR:
		if (dir == DIR_HIGH)
			emit_begin(c, e, type, "Heart rate %.0f, above %.0f. Ease off.", v, hi);
		else if (dir == DIR_LOW)
			emit_begin(c, e, type, "Heart rate %.0f, below %.0f. A little harder.", v, lo);
		else
			emit_begin(c, e, type, "Heart rate back on target: %.0f.", v);
		break;
	case METRIC_CADENCE:
		if (dir == DIR_HIGH)
			emit_begin(c, e, type, "Cadence %.0f, above %.0f. Longer, relaxed steps.", v,
				   hi);
		else if (dir == DIR_LOW)
			emit_begin(c, e, type, "Cadence %.0f, below %.0f. Quicker, shorter steps.", v,
				   lo);
		else
			emit_begin(c, e, type, "Cadence back on target: %.0f.", v);
		break;
	}
}

static void emit_alert(PacerCoach *c, Metric metric, int dir, double v, double lo, double hi)
{
	static const char *const value_key[] = {"pace_s_per_km", "hr_bpm", "cadence_spm"};
	static const char *const band_key[] = {"target_pace_s_per_km", "target_hr_bpm",
					       "target_cadence_spm"};
	Emit e;

	alert_message(c, &e, metric, dir, v, lo, hi);
	e.ev.value = v;
	e.ev.target_low = lo;
	e.ev.target_high = hi;
	pacer_json_key(&e.j, value_key[metric]);
	pacer_json_fixed(&e.j, v, metric == METRIC_PACE ? 1 : 0);
	pacer_json_band(&e.j, band_key[metric], true, lo, hi);
	emit_end(c, &e);
}

static void judge(PacerCoach *c, Alert *al, Metric metric, double v, double lo, double hi,
		  uint64_t grace_us)
{
	uint64_t now = c->now_us;
	int dir;

	if (c->actual[c->step].time_s * 1e6 < (double)grace_us) {
		*al = (Alert){0};
		return;
	}
	dir = classify(metric, v, lo, hi);
	if (dir == DIR_NONE) {
		if (al->status != DIR_NONE && deep_inside(metric, v, lo, hi)) {
			if (al->alerted)
				emit_alert(c, metric, DIR_NONE, v, lo, hi);
			al->status = DIR_NONE;
			al->alerted = false;
		}
		return;
	}
	if (al->status != dir) {
		al->status = dir;
		al->since_us = now;
		al->alerted = false;
	}
	if (now - al->since_us < c->cfg.off_target_us)
		return;
	if (al->has_alert[dir] && now - al->last_alert_us[dir] < c->cfg.cooldown_us)
		return;
	al->alerted = true;
	al->has_alert[dir] = true;
	al->last_alert_us[dir] = now;
	emit_alert(c, metric, dir, v, lo, hi);
}

static void check_targets(PacerCoach *c, const PacerMetricsSnapshot *s)
{
	const PacerTarget *t = &current_step(c)->target;

	if (t->has_pace && !t->hill && s->has_pace)
		judge(c, &c->pace, METRIC_PACE, s->pace_s_per_km, t->pace_fast_s_per_km,
		      t->pace_slow_s_per_km, c->cfg.grace_us);
	if (t->has_hr && s->has_hr)
		judge(c, &c->hr, METRIC_HR, s->hr_bpm, t->hr_min_bpm, t->hr_max_bpm,
		      c->cfg.hr_grace_us);
	if (t->has_cadence && s->has_cadence && s->has_pace)
		judge(c, &c->cadence, METRIC_CADENCE, s->cadence_spm, t->cadence_min_spm,
		      t->cadence_max_spm, c->cfg.grace_us);
}

static void check_zone(PacerCoach *c, const PacerMetricsSnapshot *s)
{
	const PacerHrZones *z = &c->cfg.hr_zones;
	unsigned zone;
	Emit e;

	if (!s->has_hr || z->n_zones == 0)
		return;
	if (!c->has_zone_of || c->zone_of_bpm != s->hr_bpm) {
		c->has_zone_of = true;
		c->zone_of_bpm = s->hr_bpm;
		c->zone_of = pacer_hr_zones_find(z, s->hr_bpm);
	}
	zone = c->zone_of;
	if (zone == c->zone) {
		c->pending_zone = UINT32_MAX;
		return;
	}
	if (zone != c->pending_zone) {
		c->pending_zone = zone;
		c->pending_since_us = c->now_us;
		return;
	}
	if (c->now_us - c->pending_since_us < c->cfg.zone_stable_us)
		return;
	if (zone >= 1 && zone <= z->n_zones)
		emit_begin(c, &e, PACER_EVENT_ZONE_CHANGED, "Heart-rate zone %s, %s.",
			   z->zones[zone - 1].label + 1, z->zones[zone - 1].name);
	else
		emit_begin(c, &e, PACER_EVENT_ZONE_CHANGED, "Heart rate below zone 1.");
	e.ev.value = s->hr_bpm;
	e.ev.number = zone;
	pacer_json_key(&e.j, "hr_zone");
	pacer_json_int(&e.j, zone);
	pacer_json_key(&e.j, "previous_zone");
	if (c->zone == UINT32_MAX)
		pacer_json_null(&e.j);
	else
		pacer_json_int(&e.j, c->zone);
	pacer_json_key(&e.j, "label");
	pacer_json_string(&e.j, zone >= 1 && zone <= z->n_zones ? z->zones[zone - 1].label : "Z0");
	pacer_json_key(&e.j, "hr_bpm");
	pacer_json_int(&e.j, s->hr_bpm);
	c->zone = zone;
	c->pending_zone = UINT32_MAX;
	emit_end(c, &e);
}

/* ---- pause, resume and the update ---- */

static void set_paused(PacerCoach *c, bool paused, bool automatic)
{
	Emit e;

	c->state = paused ? PACER_COACH_PAUSED : PACER_COACH_RUNNING;
	c->paused_auto = paused && automatic;
	if (paused)
		emit_begin(c, &e, PACER_EVENT_WORKOUT_PAUSED, "Workout paused.");
	else
		emit_begin(c, &e, PACER_EVENT_WORKOUT_RESUMED, "Workout resumed.");
	pacer_json_key(&e.j, "auto");
	pacer_json_bool(&e.j, automatic);
	emit_end(c, &e);
}

static void track_motion(PacerCoach *c, const PacerMetricsSnapshot *s)
{
	bool moving = s->has_speed && s->speed_instant_mps >= c->cfg.moving_speed_mps;

	if (!c->has_last || moving != c->moving) {
		if (moving)
			c->moving_since_us = s->t_us;
		else
			c->still_since_us = s->t_us;
	}
	c->moving = moving;
	if (!moving && s->t_us - c->still_since_us >= c->cfg.auto_pause_us)
		c->stood_since_finish = true;
}

static bool may_auto_pause(const PacerCoach *c)
{
	PacerStepKind kind = current_step(c)->kind;
	uint64_t still = c->still_since_us > c->step_start_us ? c->still_since_us
							      : c->step_start_us;

	return c->cfg.auto_pause && !c->moving && kind != PACER_STEP_REST &&
	       kind != PACER_STEP_WALK && c->now_us - still >= c->cfg.auto_pause_us;
}

static void run(PacerCoach *c, const PacerMetricsSnapshot *s)
{
	double dt = c->has_last && s->t_us > c->last_us ? (double)(s->t_us - c->last_us) / 1e6 : 0.0;
	double dd = c->has_last ? s->distance_m - c->last_distance_m : 0.0;

	if (may_auto_pause(c)) {
		set_paused(c, true, true);
		return;
	}
	advance(c, s, dt, dd > 0 ? dd : 0.0);
	if (c->state != PACER_COACH_RUNNING)
		return;
	countdown(c);
	check_targets(c, s);
	check_zone(c, s);
}

void pacer_coach_update(PacerCoach *coach, const PacerMetricsSnapshot *snapshot)
{
	PacerCoach *c = coach;

	c->snap = snapshot;
	c->now_us = snapshot->t_us;
	c->effort_now.has_trimp = snapshot->has_trimp;
	c->effort_now.trimp = snapshot->trimp;
	for (size_t z = 0; z <= PACER_HR_ZONES_MAX; z++)
		c->effort_now.time_in_zone_s[z] = snapshot->time_in_zone_s[z];
	track_motion(c, snapshot);

	switch (c->state) {
	case PACER_COACH_IDLE:
	case PACER_COACH_READY:
	case PACER_COACH_FINISHED:
		if (c->cfg.auto_start && c->moving &&
		    c->now_us - c->moving_since_us >= c->cfg.auto_start_us &&
		    (c->state != PACER_COACH_FINISHED || c->stood_since_finish))
			start(c);
		break;
	case PACER_COACH_RUNNING:
		run(c, snapshot);
		break;
	case PACER_COACH_PAUSED:
		if (c->paused_auto && c->moving && c->now_us - c->moving_since_us >= RESUME_AFTER_US)
			set_paused(c, false, true);
		break;
	}
	c->has_last = true;
	c->last_us = snapshot->t_us;
	c->last_distance_m = snapshot->distance_m;
	c->snap = NULL;
}

/* ---- commands ---- */

int pacer_coach_load(PacerCoach *coach, const PacerPlan *plan, const char *text)
{
	if (coach->state == PACER_COACH_RUNNING || coach->state == PACER_COACH_PAUSED)
		return -EBUSY;
	if (plan->n_steps == 0 || plan->n_steps > PACER_WORKOUT_MAX_STEPS)
		return -EINVAL;
	coach->plan = *plan;
	snprintf(coach->text, sizeof(coach->text), "%s", text ? text : "");
	coach->has_plan = true;
	coach->state = PACER_COACH_READY;
	return 0;
}

int pacer_coach_start(PacerCoach *coach, uint64_t t_us)
{
	if (coach->state == PACER_COACH_RUNNING || coach->state == PACER_COACH_PAUSED)
		return -EALREADY;
	coach->now_us = t_us;
	start(coach);
	return 0;
}

int pacer_coach_pause(PacerCoach *coach, uint64_t t_us)
{
	if (coach->state == PACER_COACH_PAUSED)
		return coach->paused_auto ? (coach->paused_auto = false, 0) : -EALREADY;
	if (coach->state != PACER_COACH_RUNNING)
		return -EINVAL;
	coach->now_us = t_us;
	set_paused(coach, true, false);
	return 0;
}

int pacer_coach_resume(PacerCoach *coach, uint64_t t_us)
{
	if (coach->state == PACER_COACH_RUNNING)
		return -EALREADY;
	if (coach->state != PACER_COACH_PAUSED)
		return -EINVAL;
	coach->now_us = t_us;
	set_paused(coach, false, false);
	return 0;
}

int pacer_coach_lap(PacerCoach *coach, uint64_t t_us)
{
	if (coach->state != PACER_COACH_RUNNING && coach->state != PACER_COACH_PAUSED)
		return -EINVAL;
	coach->now_us = t_us;
	coach->step_start_us = t_us;
	end_step(coach, true);
	return 0;
}

int pacer_coach_stop(PacerCoach *coach, uint64_t t_us)
{
	if (coach->state != PACER_COACH_RUNNING && coach->state != PACER_COACH_PAUSED)
		return -EINVAL;
	coach->now_us = t_us;
	coach->actual[coach->step].done = true;
	emit_step_ended(coach);
	finish(coach, false);
	return 0;
}

void pacer_coach_set_finish_hook(PacerCoach *coach, PacerCoachFinishFunc func, void *user_data)
{
	coach->finish_hook = func;
	coach->finish_user_data = user_data;
}

static const char *sensor_title(PacerSensorKind kind)
{
	switch (kind) {
	case PACER_SENSOR_HEART_RATE:
		return "Heart-rate strap";
	case PACER_SENSOR_FOOTPOD:
		return "Footpod";
	case PACER_SENSOR_TREADMILL:
		return "Treadmill";
	}
	return "Sensor";
}

void pacer_coach_sensor(PacerCoach *coach, uint64_t t_us, PacerEventType type,
			const char *address, PacerSensorKind kind, int percent)
{
	Emit e;

	coach->now_us = t_us;
	if (type == PACER_EVENT_SENSOR_CONNECTED)
		emit_begin(coach, &e, type, "%s connected.", sensor_title(kind));
	else if (type == PACER_EVENT_SENSOR_LOST)
		emit_begin(coach, &e, type, "%s lost.", sensor_title(kind));
	else if (type == PACER_EVENT_BATTERY_LOW)
		emit_begin(coach, &e, type, "%s battery at %d %%.", sensor_title(kind), percent);
	else
		return;
	e.ev.t_us = t_us;
	pacer_json_key(&e.j, "address");
	pacer_json_string(&e.j, address ? address : "");
	pacer_json_key(&e.j, "kind");
	pacer_json_string(&e.j, pacer_sensor_kind_to_string(kind));
	if (type == PACER_EVENT_BATTERY_LOW) {
		e.ev.value = percent;
		pacer_json_key(&e.j, "battery_pct");
		pacer_json_int(&e.j, percent);
	}
	emit_end(coach, &e);
}

void pacer_coach_recording_recovered(PacerCoach *coach, uint64_t t_us, const char *fit,
				     const char *tcx, double duration_s, double distance_m)
{
	char dist[32], clock[32];
	Emit e;

	coach->now_us = t_us;
	format_distance(coach, distance_m, dist, sizeof(dist));
	format_clock(duration_s, clock, sizeof(clock));
	emit_begin(coach, &e, PACER_EVENT_RECORDING_RECOVERED,
		   "Recovered an interrupted run: %s in %s.", dist, clock);
	e.ev.t_us = t_us;
	e.ev.value = duration_s;
	pacer_json_key(&e.j, "duration_s");
	pacer_json_fixed(&e.j, duration_s, 1);
	pacer_json_key(&e.j, "distance_m");
	pacer_json_fixed(&e.j, distance_m, 1);
	pacer_json_key(&e.j, "files");
	pacer_json_begin_object(&e.j);
	pacer_json_key(&e.j, "fit");
	if (fit)
		pacer_json_string(&e.j, fit);
	else
		pacer_json_null(&e.j);
	pacer_json_key(&e.j, "tcx");
	if (tcx)
		pacer_json_string(&e.j, tcx);
	else
		pacer_json_null(&e.j);
	pacer_json_end_object(&e.j);
	emit_end(coach, &e);
}

void pacer_coach_get_status(const PacerCoach *coach, PacerCoachStatus *ret)
{
	const PacerCoach *c = coach;
	bool active = c->state == PACER_COACH_RUNNING || c->state == PACER_COACH_PAUSED;
	PacerCoachStatus st = {.state = c->state, .free_run = active && c->free_run, .step = -1};

	st.step_remaining = -1.0;
	if (active) {
		const PacerStep *step = current_step(c);
		const StepActual *a = &c->actual[c->step];

		st.step = (int)c->step;
		st.n_steps = n_steps(c);
		st.current = c->free_run ? NULL : step;
		st.elapsed_s = c->elapsed_s;
		st.distance_m = c->distance_m;
		st.step_elapsed_s = a->time_s;
		st.step_distance_m = a->distance_m;
		if (!c->free_run)
			st.step_remaining = step->end == PACER_STEP_END_TIME
						    ? step->duration_s - a->time_s
						    : step->distance_m - a->distance_m;
	} else if (c->has_plan) {
		st.n_steps = c->plan.n_steps;
	}
	*ret = st;
}

void pacer_coach_continue_from(PacerCoach *coach, const PacerCoach *previous)
{
	coach->seq = previous->seq;
	if (previous->state == PACER_COACH_FINISHED && !previous->stood_since_finish &&
	    (coach->state == PACER_COACH_IDLE || coach->state == PACER_COACH_READY)) {
		coach->state = PACER_COACH_FINISHED;
		coach->stood_since_finish = false;
	}
}

const char *pacer_coach_state_to_string(PacerCoachState state)
{
	switch (state) {
	case PACER_COACH_IDLE:
		return "idle";
	case PACER_COACH_READY:
		return "ready";
	case PACER_COACH_RUNNING:
		return "running";
	case PACER_COACH_PAUSED:
		return "paused";
	case PACER_COACH_FINISHED:
		return "finished";
	}
	return "idle";
}

const char *pacer_event_type_to_string(PacerEventType type)
{
	static const char *const names[PACER_EVENT_TYPE_COUNT] = {
		"workout_started",  "step_started",      "step_countdown",  "step_ended",
		"split",            "pace_high",         "pace_low",        "pace_on_target",
		"hr_high",          "hr_low",            "hr_on_target",    "cadence_low",
		"cadence_high",     "cadence_on_target", "zone_changed",    "sensor_connected",
		"sensor_lost",      "battery_low",       "workout_paused",  "workout_resumed",
		"workout_finished", "recording_recovered",
	};

	return (unsigned)type < PACER_EVENT_TYPE_COUNT ? names[type] : "unknown";
}
