/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "pacer-sim.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pacer-gatt.h"
#include "pacer-hex.h"

#define TICK_US		  50000u /* the body moves in 50 ms ticks; every emission time is a tick */
#define TICK_S		  0.05
#define START_STANDING_US 5000000u
#define END_STANDING_US	  5000000u

/*
 * speed: first-order lag towards the step's target, plus a wobble (Ornstein-Uhlenbeck);
 * a runner gets up to speed quicker than they ease off
 */
#define SPEED_UP_TAU_S	    2.0
#define SPEED_DOWN_TAU_S    3.0
#define WOBBLE_SIGMA	    0.01 /* stationary standard deviation, fraction of speed */
#define WOBBLE_TAU_S	    0.5	 /* stride to stride: gone within a couple of strides */
#define STOP_SPEED_MPS	    0.1	 /* below this a runner told to stand has stopped */
#define STAND_SPEED_MPS	    0.3	 /* no steps below this */
#define WALK_SPEED_MPS	    1.2
#define RUN_GAIT_MPS	    2.0	 /* running cadence from here up, and the footpod's running bit */
#define JOG_SLOWDOWN	    1.15 /* jog and recovery: easy pace times this */
#define ALL_OUT_FACTOR	    1.06 /* an all-out segment: this much faster than its slow end */
#define THRESHOLD_FROM_EASY 1.25 /* threshold speed = easy speed times this, unless given */
#define HILL_INCLINE_PCT    6.0
#define HILL_EFFORT	    1.3 /* easy pace up 6 %: the heart works as at 1.3 x the speed */
#define INCLINE_TAU_S	    3.0

/* cadence, steps per minute */
#define RUN_CADENCE_AT_2_5   160.0
#define RUN_CADENCE_PER_MPS  8.0
#define RUN_CADENCE_MIN	     140.0
#define RUN_CADENCE_MAX	     195.0
#define WALK_CADENCE_BASE    100.0
#define WALK_CADENCE_PER_MPS 10.0
#define CADENCE_NOISE_SPM    0.7

/* heart */
#define HR_TAU_S	30.0
#define HR_NOISE_BPM	0.6
#define DRIFT_AFTER_S	600.0 /* cardiac drift in steps longer than this... */
#define DRIFT_S_PER_BPM 120.0 /* ...one bpm per two minutes beyond it */
#define RR_SIGMA_MIN_MS 1.5   /* beat-to-beat variability at running heart rates */
#define RR_SIGMA_MAX_MS 30.0
#define RR_SIGMA_PER_MS 0.04 /* grows with the interval above 400 ms */
#define RR_MIN_S	0.25
#define RR_MAX_S	2.0
#define RR_PENDING_MAX	15 /* flags + HR + 15 intervals = PACER_SIM_VALUE_MAX */

#define FOOTPOD_NOISE 0.0075 /* about 95 % of readings within +-1.5 % */

#define N_SENSORS 3

typedef enum {
	SIM_STRAP,
	SIM_FOOTPOD,
	SIM_TREADMILL,
} SimSensor;

static const PacerSensorKind SENSOR_KINDS[N_SENSORS] = {
	PACER_SENSOR_HEART_RATE, PACER_SENSOR_FOOTPOD, PACER_SENSOR_TREADMILL};
static const uint16_t SENSOR_UUIDS[N_SENSORS] = {
	PACER_UUID_HEART_RATE_MEASUREMENT, PACER_UUID_RSC_MEASUREMENT, PACER_UUID_TREADMILL_DATA};
static const uint64_t SENSOR_PERIOD_US[N_SENSORS] = {1000000u, 250000u, 500000u};
static const uint64_t SENSOR_PHASE_US[N_SENSORS] = {100000u, 0u, 50000u};

/* Steady-state heart rate: fraction of the HR reserve against speed / threshold speed. */
typedef struct {
	double x;
	double reserve;
} CurvePoint;

static const CurvePoint HR_CURVE[] = {
	{0.0, 0.25},  /* standing: rest + 25 % of the reserve */
	{0.8, 0.58},  /* easy: about 70 % of max */
	{1.0, 0.83},  /* threshold: about 88 % */
	{1.07, 0.93}, /* 5k / interval: about 95 % */
	{1.2, 1.0},   /* faster: max */
};

#define HR_CURVE_N (sizeof(HR_CURVE) / sizeof(HR_CURVE[0]))

typedef enum {
	PHASE_START, /* standing before the first step */
	PHASE_STEP,
	PHASE_END, /* standing after the last */
} Phase;

struct PacerSim {
	PacerSimConfig cfg;
	PacerPlan *plan;
	bool enabled[N_SENSORS];
	double v_threshold;
	double alpha_speed_up, alpha_speed_down, alpha_hr, alpha_incline, wobble_a, wobble_k;

	uint64_t rng_body;
	uint64_t rng_sensor[N_SENSORS];
	uint64_t now_us;
	uint64_t next_us[N_SENSORS];
	Phase phase;
	size_t step;
	uint64_t step_start_us;
	double step_start_m;
	uint64_t end_us;
	bool done;
	PacerSimGuideFunc guide;
	void *guide_data;
	unsigned work_rep;

	/* the current step's targets */
	double target_speed;
	double speed_factor;
	bool hr_targeted;
	double hr_target_bpm;
	double cadence_target; /* 0: from speed */
	double effort;
	double target_incline;

	/* the body */
	double speed; /* lagged, without the wobble */
	double wobble;
	double true_speed;
	double distance_m;
	double cadence;
	double hr;
	double incline;
	double next_beat_s;
	double beat_interval_s;
	uint16_t rr[RR_PENDING_MAX];
	size_t n_rr;

	double pod_distance_m;
};

static uint64_t splitmix64(uint64_t *state)
{
	uint64_t z = (*state += 0x9E3779B97F4A7C15ull);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

/* xorshift64* (Vigna 2016) */
static uint64_t rng_next(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545F4914F6CDD1Dull;
}

/* [0, 1) */
static double rng_uniform(uint64_t *state)
{
	return (double)(rng_next(state) >> 11) * 0x1.0p-53;
}

/* Standard normal, Box-Muller (one of the pair). */
static double rng_gauss(uint64_t *state)
{
	double u1 = 1.0 - rng_uniform(state), u2 = rng_uniform(state);

	return sqrt(-2.0 * log(u1)) * cos(2.0 * 3.14159265358979323846 * u2);
}

static double clamp(double x, double lo, double hi)
{
	return x < lo ? lo : (x > hi ? hi : x);
}

void pacer_sim_config_init(PacerSimConfig *config)
{
	*config = (PacerSimConfig){
		.strap = true,
		.footpod = true,
		.footpod_factor = 1.0,
		.resting_hr = 55,
		.max_hr = 185,
		.easy_pace_s_per_km = 360.0,
		.strap_address = "C0:FF:EE:00:00:01",
		.footpod_address = "C0:FF:EE:00:00:02",
		.treadmill_address = "C0:FF:EE:00:00:03",
		.dropout = {.kind = PACER_SENSOR_FOOTPOD},
	};
}

static bool address_valid(const char *a)
{
	return pacer_address_validate(a, strnlen(a, PACER_ADDRESS_STRING_SIZE)) == 0;
}

static bool script_valid(const PacerSimConfig *c)
{
	const PacerSimDropout *d = &c->dropout;

	switch (d->kind) {
	case PACER_SENSOR_HEART_RATE:
	case PACER_SENSOR_FOOTPOD:
	case PACER_SENSOR_TREADMILL:
		break;
	default:
		return false;
	}
	return c->fast_pct >= -50.0 && c->fast_pct <= 100.0 && c->contact_loss_start_s >= 0.0 &&
	       c->contact_loss_s >= 0.0 && isfinite(c->contact_loss_start_s + c->contact_loss_s) &&
	       d->start_s >= 0.0 && d->duration_s >= 0.0 && isfinite(d->start_s + d->duration_s);
}

static bool config_valid(const PacerSimConfig *c)
{
	double easy = c->easy_pace_s_per_km, thr = c->threshold_pace_s_per_km;

	if (!c->strap && !c->footpod && !c->treadmill)
		return false;
	if (c->resting_hr < 25 || c->max_hr > 250 || c->resting_hr >= c->max_hr)
		return false;
	if (!(easy >= 120.0 && easy <= 1200.0))
		return false;
	if (thr != 0.0 && !(thr >= 120.0 && thr < easy))
		return false;
	if (!(c->footpod_factor >= 0.5 && c->footpod_factor <= 2.0))
		return false;
	if (!address_valid(c->strap_address) || !address_valid(c->footpod_address) ||
	    !address_valid(c->treadmill_address))
		return false;
	return script_valid(c);
}

static bool step_valid(const PacerStep *st)
{
	const PacerTarget *t = &st->target;

	switch (st->end) {
	case PACER_STEP_END_TIME:
		if (!(st->duration_s > 0.0 && isfinite(st->duration_s)))
			return false;
		break;
	case PACER_STEP_END_DISTANCE:
		if (!(st->distance_m > 0.0 && isfinite(st->distance_m)))
			return false;
		break;
	default:
		return false;
	}
	if (t->has_pace &&
	    !(t->pace_slow_s_per_km >= 60.0 && t->pace_slow_s_per_km <= 3600.0 &&
	      t->pace_fast_s_per_km >= 0.0 && t->pace_fast_s_per_km <= t->pace_slow_s_per_km))
		return false;
	if (t->has_hr && !(isfinite(t->hr_min_bpm) && isfinite(t->hr_max_bpm)))
		return false;
	return !t->has_cadence || (t->cadence_min_spm > 0.0 && t->cadence_max_spm <= 255.0 &&
				   t->cadence_min_spm <= t->cadence_max_spm);
}

static bool plan_valid(const PacerPlan *plan)
{
	if (plan->n_steps > PACER_WORKOUT_MAX_STEPS)
		return false;
	for (size_t i = 0; i < plan->n_steps; i++) {
		if (!step_valid(&plan->steps[i]))
			return false;
	}
	return true;
}

/* Fraction of the HR reserve at x = effort speed / threshold speed. */
static double curve_reserve(double x)
{
	if (x <= HR_CURVE[0].x)
		return HR_CURVE[0].reserve;
	for (size_t i = 1; i < HR_CURVE_N; i++) {
		const CurvePoint *a = &HR_CURVE[i - 1], *b = &HR_CURVE[i];

		if (x <= b->x)
			return a->reserve + (b->reserve - a->reserve) * (x - a->x) / (b->x - a->x);
	}
	return HR_CURVE[HR_CURVE_N - 1].reserve;
}

/* The inverse: x for a fraction of the reserve, clamped to the curve. */
static double curve_x(double reserve)
{
	if (reserve <= HR_CURVE[0].reserve)
		return HR_CURVE[0].x;
	for (size_t i = 1; i < HR_CURVE_N; i++) {
		const CurvePoint *a = &HR_CURVE[i - 1], *b = &HR_CURVE[i];

		if (reserve <= b->reserve)
			return a->x +
			       (b->x - a->x) * (reserve - a->reserve) / (b->reserve - a->reserve);
	}
	return HR_CURVE[HR_CURVE_N - 1].x;
}

static double hr_steady(const PacerSim *s, double speed)
{
	double reserve = s->cfg.max_hr - s->cfg.resting_hr;

	return s->cfg.resting_hr + reserve * curve_reserve(speed * s->effort / s->v_threshold);
}

/* The speed at which the heart settles at bpm, at least walking. */
static double speed_for_hr(const PacerSim *s, double bpm)
{
	double reserve = s->cfg.max_hr - s->cfg.resting_hr;
	double x = curve_x((bpm - s->cfg.resting_hr) / reserve);
	double v = x * s->v_threshold / s->effort;

	return v < WALK_SPEED_MPS ? WALK_SPEED_MPS : v;
}

static double step_elapsed_s(const PacerSim *s)
{
	return (double)(s->now_us - s->step_start_us) / 1e6;
}

/* Cardiac drift in bpm: running in a step for more than ten minutes. */
static double drift_bpm(const PacerSim *s)
{
	double t;

	if (s->phase != PHASE_STEP || s->speed < RUN_GAIT_MPS)
		return 0.0;
	t = step_elapsed_s(s);
	return t > DRIFT_AFTER_S ? (t - DRIFT_AFTER_S) / DRIFT_S_PER_BPM : 0.0;
}

/* A runner setting off or slowing down runs, with short quick steps, until walking or standing. */
static double cadence_for(const PacerSim *s, double v, double target)
{
	if (v < STAND_SPEED_MPS)
		return 0.0;
	if (v < RUN_GAIT_MPS && target < RUN_GAIT_MPS)
		return clamp(WALK_CADENCE_BASE + WALK_CADENCE_PER_MPS * v, 90.0, 130.0);
	if (s->cadence_target > 0.0)
		return s->cadence_target;
	return clamp(RUN_CADENCE_AT_2_5 + RUN_CADENCE_PER_MPS * (v - 2.5), RUN_CADENCE_MIN,
		     RUN_CADENCE_MAX);
}

/* Centre of a pace band as a speed; an all-out segment runs a little faster than its slow end. */
static double band_speed(const PacerTarget *t)
{
	if (t->pace_fast_s_per_km <= 0.0)
		return 1000.0 / t->pace_slow_s_per_km * ALL_OUT_FACTOR;
	return 1000.0 / ((t->pace_fast_s_per_km + t->pace_slow_s_per_km) / 2.0);
}

static double hr_band_centre(const PacerTarget *t)
{
	if (t->hr_max_bpm <= 0.0)
		return t->hr_min_bpm + 5.0;
	if (t->hr_min_bpm <= 0.0)
		return t->hr_max_bpm - 5.0;
	return (t->hr_min_bpm + t->hr_max_bpm) / 2.0;
}

static bool kind_runs(PacerStepKind kind)
{
	switch (kind) {
	case PACER_STEP_WARMUP:
	case PACER_STEP_RUN:
	case PACER_STEP_JOG:
	case PACER_STEP_RECOVERY:
	case PACER_STEP_COOLDOWN:
		return true;
	case PACER_STEP_REST:
	case PACER_STEP_WALK:
		return false;
	}
	return false;
}

static double step_speed(const PacerSim *s, const PacerStep *st)
{
	const PacerTarget *t = &st->target;
	double easy = 1000.0 / s->cfg.easy_pace_s_per_km;

	switch (st->kind) {
	case PACER_STEP_REST:
		/* a rest measured in metres is walked, else it would never end */
		return st->end == PACER_STEP_END_DISTANCE ? WALK_SPEED_MPS : 0.0;
	case PACER_STEP_WALK:
		return WALK_SPEED_MPS;
	case PACER_STEP_JOG:
	case PACER_STEP_RECOVERY:
		if (!t->has_pace)
			return easy / JOG_SLOWDOWN;
		break;
	case PACER_STEP_WARMUP:
	case PACER_STEP_RUN:
	case PACER_STEP_COOLDOWN:
		break;
	}
	return t->has_pace ? band_speed(t) : easy;
}

static void set_step_targets(PacerSim *s, const PacerStep *st)
{
	const PacerTarget *t = &st->target;

	s->speed_factor = 1.0;
	if (st->kind == PACER_STEP_RUN && ++s->work_rep == s->cfg.fast_rep)
		s->speed_factor = 1.0 + s->cfg.fast_pct / 100.0;
	s->effort = t->hill ? HILL_EFFORT : 1.0;
	s->target_incline = t->hill ? HILL_INCLINE_PCT : 0.0;
	s->cadence_target = t->has_cadence ? (t->cadence_min_spm + t->cadence_max_spm) / 2.0 : 0.0;
	s->target_speed = step_speed(s, st) * s->speed_factor;
	s->hr_targeted = kind_runs(st->kind) && !t->has_pace && t->has_hr;
	if (s->hr_targeted)
		s->hr_target_bpm = hr_band_centre(t);
}

static void set_standing(PacerSim *s)
{
	s->target_speed = 0.0;
	s->speed_factor = 1.0;
	s->hr_targeted = false;
	s->cadence_target = 0.0;
	s->effort = 1.0;
	s->target_incline = 0.0;
}

static void begin_step(PacerSim *s, size_t i)
{
	s->step = i;
	s->step_start_us = s->now_us;
	s->step_start_m = s->distance_m;
	if (i >= s->plan->n_steps) {
		s->phase = PHASE_END;
		s->end_us = s->now_us + END_STANDING_US;
		set_standing(s);
		return;
	}
	s->phase = PHASE_STEP;
	set_step_targets(s, &s->plan->steps[i]);
}

/* Judged like a runner with a watch: on the runner's own time and distance. */
static bool step_done(const PacerSim *s)
{
	const PacerStep *st = &s->plan->steps[s->step];

	switch (st->end) {
	case PACER_STEP_END_TIME:
		return (double)(s->now_us - s->step_start_us) >= st->duration_s * 1e6 - 0.5;
	case PACER_STEP_END_DISTANCE:
		return s->distance_m - s->step_start_m >= st->distance_m;
	}
	return true;
}

static void phase_update(PacerSim *s)
{
	switch (s->phase) {
	case PHASE_START:
		if (s->now_us >= START_STANDING_US)
			begin_step(s, 0);
		break;
	case PHASE_STEP:
		if (s->guide) {
			int g = s->guide(s->guide_data);

			if (g == PACER_SIM_GUIDE_FINISHED)
				begin_step(s, s->plan->n_steps);
			else if (g >= 0 && (size_t)g != s->step)
				begin_step(s, (size_t)g < s->plan->n_steps ? (size_t)g : s->plan->n_steps);
		} else if (step_done(s)) {
			begin_step(s, s->step + 1);
		}
		break;
	case PHASE_END:
		break;
	}
}

static void body_move(PacerSim *s)
{
	double target = s->target_speed;

	if (s->hr_targeted)
		target = speed_for_hr(s, s->hr_target_bpm - drift_bpm(s)) * s->speed_factor;
	s->speed +=
		(target - s->speed) * (target > s->speed ? s->alpha_speed_up : s->alpha_speed_down);
	if (target <= 0.0 && s->speed < STOP_SPEED_MPS)
		s->speed = 0.0;
	/* drawn on a treadmill too, so that the body's stream does not depend on the sensors */
	s->wobble = s->wobble * s->wobble_a + s->wobble_k * rng_gauss(&s->rng_body);
	/* on a treadmill the belt sets the speed */
	s->true_speed = s->cfg.treadmill ? s->speed : s->speed * (1.0 + s->wobble);
	s->distance_m += s->true_speed * TICK_S;
	s->pod_distance_m += s->true_speed * s->cfg.footpod_factor * TICK_S;
	s->incline += (s->target_incline - s->incline) * s->alpha_incline;
	s->cadence = cadence_for(s, s->speed, target);
}

static void heart_update(PacerSim *s)
{
	double target = hr_steady(s, s->speed) + drift_bpm(s);

	if (target > s->cfg.max_hr)
		target = s->cfg.max_hr;
	s->hr += (target - s->hr) * s->alpha_hr;
}

/* The next RR interval for the current heart rate, with beat-to-beat variability. */
static double next_interval_s(PacerSim *s)
{
	double rr_ms = 60000.0 / s->hr;
	double sigma = clamp(RR_SIGMA_MIN_MS + RR_SIGMA_PER_MS * (rr_ms - 400.0), RR_SIGMA_MIN_MS,
			     RR_SIGMA_MAX_MS);

	rr_ms += sigma * rng_gauss(&s->rng_body);
	return clamp(rr_ms / 1000.0, RR_MIN_S, RR_MAX_S);
}

static void push_rr(PacerSim *s, double interval_s)
{
	if (s->n_rr == RR_PENDING_MAX) {
		memmove(s->rr, s->rr + 1, (RR_PENDING_MAX - 1) * sizeof(s->rr[0]));
		s->n_rr--;
	}
	s->rr[s->n_rr++] = (uint16_t)lround(interval_s * 1024.0);
}

static void heart_beats(PacerSim *s)
{
	double now_s = (double)s->now_us / 1e6;

	while (s->next_beat_s <= now_s) {
		push_rr(s, s->beat_interval_s);
		s->beat_interval_s = next_interval_s(s);
		s->next_beat_s += s->beat_interval_s;
	}
}

static void tick(PacerSim *s)
{
	phase_update(s);
	body_move(s);
	heart_update(s);
	s->now_us += TICK_US;
	heart_beats(s);
}

static void sim_init(PacerSim *s)
{
	uint64_t seeder = s->cfg.seed;

	s->enabled[SIM_STRAP] = s->cfg.strap;
	s->enabled[SIM_FOOTPOD] = s->cfg.footpod;
	s->enabled[SIM_TREADMILL] = s->cfg.treadmill;
	s->v_threshold = s->cfg.threshold_pace_s_per_km > 0.0
				 ? 1000.0 / s->cfg.threshold_pace_s_per_km
				 : 1000.0 / s->cfg.easy_pace_s_per_km * THRESHOLD_FROM_EASY;
	s->alpha_speed_up = 1.0 - exp(-TICK_S / SPEED_UP_TAU_S);
	s->alpha_speed_down = 1.0 - exp(-TICK_S / SPEED_DOWN_TAU_S);
	s->alpha_hr = 1.0 - exp(-TICK_S / HR_TAU_S);
	s->alpha_incline = 1.0 - exp(-TICK_S / INCLINE_TAU_S);
	s->wobble_a = exp(-TICK_S / WOBBLE_TAU_S);
	s->wobble_k = WOBBLE_SIGMA * sqrt(1.0 - s->wobble_a * s->wobble_a);

	/* xorshift must not start at 0; splitmix64 practically never yields it */
	s->rng_body = splitmix64(&seeder) | 1u;
	for (size_t k = 0; k < N_SENSORS; k++) {
		s->rng_sensor[k] = splitmix64(&seeder) | 1u;
		s->next_us[k] = SENSOR_PHASE_US[k];
	}
	s->phase = PHASE_START;
	set_standing(s);
	s->hr = hr_steady(s, 0.0);
	s->beat_interval_s = 60.0 / s->hr;
	s->next_beat_s = s->beat_interval_s * rng_uniform(&s->rng_body);
}

PacerSim *pacer_sim_new(const PacerSimConfig *config, const PacerPlan *plan)
{
	PacerSim *s;

	if (!config || !plan || !config_valid(config) || !plan_valid(plan))
		return NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->plan = malloc(sizeof(*s->plan));
	if (!s->plan) {
		free(s);
		return NULL;
	}
	*s->plan = *plan;
	s->cfg = *config;
	sim_init(s);
	return s;
}

void pacer_sim_free(PacerSim *sim)
{
	if (!sim)
		return;
	free(sim->plan);
	free(sim);
}

typedef struct {
	uint8_t *b;
	size_t cap;
	size_t n;
} Writer;

/* Little-endian, `octets` wide; never writes past the buffer. */
static void put_le(Writer *w, uint32_t v, size_t octets)
{
	for (size_t i = 0; i < octets && w->n < w->cap; i++)
		w->b[w->n++] = (uint8_t)(v >> (8 * i));
}

/* x (already rounded as the field wants) as an unsigned field at most max. */
static uint32_t field_u(double x, uint32_t max)
{
	if (!(x > 0.0))
		return 0;
	return x >= (double)max ? max : (uint32_t)x;
}

static bool in_window(uint64_t t_us, double start_s, double duration_s)
{
	double t = (double)t_us / 1e6;

	return duration_s > 0.0 && t >= start_s && t < start_s + duration_s;
}

static void encode_strap(PacerSim *s, Writer *w)
{
	double noise = HR_NOISE_BPM * rng_gauss(&s->rng_sensor[SIM_STRAP]);

	if (in_window(s->now_us, s->cfg.contact_loss_start_s, s->cfg.contact_loss_s)) {
		put_le(w, 0x04, 1); /* contact supported, not detected */
		put_le(w, 0, 1);
		s->n_rr = 0;
		return;
	}
	put_le(w, s->n_rr > 0 ? 0x16 : 0x06, 1); /* uint8 HR, contact detected, RR list */
	put_le(w, field_u(round(s->hr + noise), UINT8_MAX), 1);
	for (size_t i = 0; i < s->n_rr; i++)
		put_le(w, s->rr[i], 2);
	s->n_rr = 0;
}

static void encode_footpod(PacerSim *s, Writer *w)
{
	uint64_t *rng = &s->rng_sensor[SIM_FOOTPOD];
	double v = s->true_speed * s->cfg.footpod_factor * (1.0 + FOOTPOD_NOISE * rng_gauss(rng));
	double cadence = s->cadence + CADENCE_NOISE_SPM * rng_gauss(rng);

	if (s->cadence <= 0.0)
		cadence = 0.0;
	if (s->cfg.footpod_strides)
		cadence /= 2.0;
	/* total distance present; running bit */
	put_le(w, 0x02u | (s->true_speed > RUN_GAIT_MPS ? 0x04u : 0x00u), 1);
	put_le(w, field_u(round(v * 256.0), UINT16_MAX), 2);
	put_le(w, field_u(round(cadence), UINT8_MAX), 1);
	put_le(w, field_u(floor(s->pod_distance_m * 10.0), UINT32_MAX), 4);
}

static void encode_treadmill(PacerSim *s, Writer *w)
{
	double incline = round(s->incline * 10.0);
	double ramp = round(atan(s->incline / 100.0) * 180.0 / 3.14159265358979323846 * 10.0);

	/* bit 0 clear: speed; bits 2, 3, 10: distance, incline and ramp, elapsed time */
	put_le(w, 0x040C, 2);
	put_le(w, field_u(round(s->true_speed * 360.0), UINT16_MAX), 2);
	put_le(w, field_u(floor(s->distance_m), 0xFFFFFFu), 3);
	put_le(w, (uint16_t)(int16_t)clamp(incline, INT16_MIN, INT16_MAX), 2);
	put_le(w, (uint16_t)(int16_t)clamp(ramp, INT16_MIN, INT16_MAX), 2);
	put_le(w, field_u(floor((double)s->now_us / 1e6), UINT16_MAX), 2);
}

static const char *sensor_address(const PacerSim *s, SimSensor k)
{
	switch (k) {
	case SIM_STRAP:
		return s->cfg.strap_address;
	case SIM_FOOTPOD:
		return s->cfg.footpod_address;
	case SIM_TREADMILL:
		return s->cfg.treadmill_address;
	}
	return s->cfg.strap_address; /* not reached */
}

static void emit(PacerSim *s, SimSensor k, PacerSimNotification *ret)
{
	Writer w = {.b = ret->value, .cap = sizeof(ret->value)};

	ret->t_us = s->now_us;
	ret->kind = SENSOR_KINDS[k];
	ret->uuid16 = SENSOR_UUIDS[k];
	memcpy(ret->address, sensor_address(s, k), sizeof(ret->address));
	switch (k) {
	case SIM_STRAP:
		encode_strap(s, &w);
		break;
	case SIM_FOOTPOD:
		encode_footpod(s, &w);
		break;
	case SIM_TREADMILL:
		encode_treadmill(s, &w);
		break;
	}
	ret->len = w.n;
}

static bool silenced(const PacerSim *s, SimSensor k)
{
	const PacerSimDropout *d = &s->cfg.dropout;

	return d->kind == SENSOR_KINDS[k] && in_window(s->now_us, d->start_s, d->duration_s);
}

/* The enabled sensor due first; -1 when none is enabled. */
static int next_sensor(const PacerSim *s)
{
	int best = -1;

	for (int k = 0; k < N_SENSORS; k++) {
		if (s->enabled[k] && (best < 0 || s->next_us[k] < s->next_us[best]))
			best = k;
	}
	return best;
}

int pacer_sim_next(PacerSim *sim, PacerSimNotification *ret)
{
	if (!sim || !ret)
		return -EINVAL;
	for (;;) {
		int k = next_sensor(sim);
		uint64_t t;

		if (k < 0 || sim->done)
			return 0;
		t = sim->next_us[k];
		while (sim->now_us < t)
			tick(sim);
		if (sim->phase == PHASE_END && t > sim->end_us) {
			sim->done = true;
			return 0;
		}
		sim->next_us[k] += SENSOR_PERIOD_US[k];
		if (!silenced(sim, (SimSensor)k)) {
			emit(sim, (SimSensor)k, ret);
			return 1;
		}
		if (k == SIM_STRAP)
			sim->n_rr = 0; /* beats in notifications nobody received are lost */
	}
}

void pacer_sim_get_state(const PacerSim *sim, PacerSimState *ret)
{
	int step = sim->phase == PHASE_START ? -1 : (int)sim->step;

	*ret = (PacerSimState){
		.t_us = sim->now_us,
		.step = step,
		.step_elapsed_s = sim->phase == PHASE_START ? 0.0 : step_elapsed_s(sim),
		.step_distance_m =
			sim->phase == PHASE_START ? 0.0 : sim->distance_m - sim->step_start_m,
		.speed_mps = sim->true_speed,
		.distance_m = sim->distance_m,
		.hr_bpm = sim->hr,
		.cadence_spm = sim->cadence,
		.incline_pct = sim->incline,
		.work_rep = sim->work_rep,
	};
}

int pacer_sim_write_line(const PacerSimNotification *n, char *buf, size_t size)
{
	char hex[PACER_SIM_VALUE_MAX * 3 + 1];
	uint64_t ms;
	int r;

	if (!n || !buf || n->len > PACER_SIM_VALUE_MAX)
		return -EINVAL;
	pacer_hex_encode(n->value, n->len, hex, sizeof(hex));
	ms = (n->t_us + 500u) / 1000u;
	r = snprintf(buf, size, "%" PRIu64 ".%03" PRIu64 " %.17s %04x%s%s", ms / 1000u, ms % 1000u,
		     n->address, (unsigned)n->uuid16, n->len > 0 ? " " : "", hex);
	if (r < 0)
		return -EINVAL;
	if ((size_t)r >= size)
		return -ENOSPC;
	return r;
}

void pacer_sim_set_guide(PacerSim *sim, PacerSimGuideFunc func, void *user_data)
{
	sim->guide = func;
	sim->guide_data = user_data;
}

int pacer_sim_guide_from_coach(const PacerCoach *coach)
{
	PacerCoachStatus st;

	pacer_coach_get_status(coach, &st);
	switch (st.state) {
	case PACER_COACH_RUNNING:
	case PACER_COACH_PAUSED:
		return st.step;
	case PACER_COACH_FINISHED:
		return PACER_SIM_GUIDE_FINISHED;
	case PACER_COACH_IDLE:
	case PACER_COACH_READY:
		break;
	}
	return PACER_SIM_GUIDE_WAITING;
}
