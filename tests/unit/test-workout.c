/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The workout language, plan JSON, step sentences and presets. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pacer-json.h"
#include "pacer-presets.h"
#include "pacer-workout.h"
#include "test-common.h"

#define MILE_M	     1609.344
#define PRESETS_FILE PACER_TEST_DATA_DIR "/../../config/presets.conf"

#define NEAR(actual, expected) CU_ASSERT_DOUBLE_EQUAL(actual, expected, 1e-6)

/* The athlete of every test: a 5 km in 20:00 and a max HR of 190 (% of max zones). */
typedef struct {
	PacerPaceZones pace;
	PacerHrZones hr;
	PacerWorkoutContext ctx;
} Athlete;

static void athlete_init(Athlete *a)
{
	PacerAthlete hr = {.max_hr = 190};

	CU_ASSERT_EQUAL_FATAL(pacer_pace_zones_compute(5000, 1200, &a->pace), 0);
	CU_ASSERT_EQUAL_FATAL(pacer_hr_zones_compute(&hr, &a->hr), 0);
	a->ctx.pace = &a->pace;
	a->ctx.hr = &a->hr;
}

/* Parses text that must be valid; the plan is on the heap (it is about 50 KiB). */
static PacerPlan *parse_ok(const char *text, const PacerWorkoutContext *ctx)
{
	PacerPlan *plan = malloc(sizeof(*plan));
	PacerWorkoutError err = {0};
	int r;

	CU_ASSERT_PTR_NOT_NULL_FATAL(plan);
	r = pacer_workout_parse(text, ctx, plan, &err);
	if (r != 0)
		fprintf(stderr, "\n'%s': %d at column %zu: %s\n", text, r, err.column,
			err.expected ? err.expected : "?");
	CU_ASSERT_EQUAL_FATAL(r, 0);
	return plan;
}

static void check_error_in(const char *text, const PacerWorkoutContext *ctx, int code,
			   size_t column)
{
	PacerPlan *plan = malloc(sizeof(*plan));
	PacerWorkoutError err = {0};
	int r;

	CU_ASSERT_PTR_NOT_NULL_FATAL(plan);
	pacer_test_poison(plan, sizeof(*plan));
	r = pacer_workout_parse(text, ctx, plan, &err);
	if (r != code || err.column != column)
		fprintf(stderr, "\n'%s': %d at column %zu (%s), expected %d at %zu\n", text, r,
			err.column, err.expected ? err.expected : "?", code, column);
	CU_ASSERT_EQUAL(r, code);
	CU_ASSERT_EQUAL(err.column, column);
	CU_ASSERT_PTR_NOT_NULL(err.expected);
	CU_ASSERT_TRUE(err.expected && err.expected[0] != '\0');
	CU_ASSERT_TRUE(pacer_test_is_poisoned(plan, sizeof(*plan)));
	free(plan);
}

static void check_error(const char *text, int code, size_t column)
{
	Athlete a;

	athlete_init(&a);
	check_error_in(text, &a.ctx, code, column);
}

static void check_band(const PacerTarget *t, double fast, double slow)
{
	CU_ASSERT_TRUE(t->has_pace);
	NEAR(t->pace_fast_s_per_km, fast);
	NEAR(t->pace_slow_s_per_km, slow);
}

static void check_timed(const PacerStep *s, PacerStepKind kind, double duration_s)
{
	CU_ASSERT_EQUAL(s->kind, kind);
	CU_ASSERT_EQUAL(s->end, PACER_STEP_END_TIME);
	NEAR(s->duration_s, duration_s);
}

static void check_distance(const PacerStep *s, PacerStepKind kind, double distance_m)
{
	CU_ASSERT_EQUAL(s->kind, kind);
	CU_ASSERT_EQUAL(s->end, PACER_STEP_END_DISTANCE);
	NEAR(s->distance_m, distance_m);
}

/* ---- DESIGN.md section 4 examples ---- */

static void test_example_intervals(void)
{
	Athlete a;
	PacerPlan *p;
	double centre;

	athlete_init(&a);
	p = parse_ok("10min@E, 4x(400m@5k, 2min rest), 10min@E", &a.ctx);
	centre = pacer_pace_zones_predict(&a.pace, 5000) / 5;
	CU_ASSERT_DOUBLE_EQUAL(centre, 240.0, 1e-5);
	CU_ASSERT_EQUAL_FATAL(p->n_steps, 10);
	CU_ASSERT_TRUE(p->has_repeats);
	CU_ASSERT_FALSE(p->has_negative_split);
	check_timed(&p->steps[0], PACER_STEP_WARMUP, 600);
	check_band(&p->steps[0].target, a.pace.zones[PACER_PACE_E].fast_s_per_km,
		   a.pace.zones[PACER_PACE_E].slow_s_per_km);
	CU_ASSERT_STRING_EQUAL(p->steps[0].target.label, "E");
	CU_ASSERT_TRUE(p->steps[0].target.has_pace_zone);
	CU_ASSERT_EQUAL(p->steps[0].target.pace_zone, PACER_PACE_E);
	for (unsigned k = 0; k < 4; k++) {
		const PacerStep *run = &p->steps[1 + 2 * k], *rest = &p->steps[2 + 2 * k];

		check_distance(run, PACER_STEP_RUN, 400);
		check_band(&run->target, centre * 0.98, centre * 1.02);
		CU_ASSERT_STRING_EQUAL(run->target.label, "5k");
		CU_ASSERT_FALSE(run->target.has_pace_zone);
		CU_ASSERT_EQUAL(run->rep, k + 1);
		CU_ASSERT_EQUAL(run->reps, 4);
		check_timed(rest, PACER_STEP_REST, 120);
		CU_ASSERT_FALSE(rest->target.has_pace);
		CU_ASSERT_STRING_EQUAL(rest->target.label, "");
		CU_ASSERT_EQUAL(rest->rep, k + 1);
		CU_ASSERT_EQUAL(rest->reps, 4);
		CU_ASSERT_TRUE(pacer_step_is_work(run));
		CU_ASSERT_FALSE(pacer_step_is_work(rest));
	}
	check_timed(&p->steps[9], PACER_STEP_COOLDOWN, 600);
	CU_ASSERT_EQUAL(p->steps[9].rep, 0);
	CU_ASSERT_EQUAL(p->steps[9].reps, 0);
	for (size_t i = 0; i < p->n_steps; i++) {
		CU_ASSERT_EQUAL(p->steps[i].index, i);
		CU_ASSERT_EQUAL(p->steps[i].negative_group, -1);
	}
	free(p);
}

static void test_example_tempo(void)
{
	Athlete a;
	PacerPlan *p;

	athlete_init(&a);
	p = parse_ok("15min@E, 20min@T, 10min@E", &a.ctx);
	CU_ASSERT_EQUAL_FATAL(p->n_steps, 3);
	CU_ASSERT_FALSE(p->has_repeats);
	/* easy running around a harder step: warm-up and cool-down */
	check_timed(&p->steps[0], PACER_STEP_WARMUP, 900);
	check_timed(&p->steps[1], PACER_STEP_RUN, 1200);
	check_band(&p->steps[1].target, a.pace.zones[PACER_PACE_T].fast_s_per_km,
		   a.pace.zones[PACER_PACE_T].slow_s_per_km);
	CU_ASSERT_EQUAL(p->steps[1].target.pace_zone, PACER_PACE_T);
	check_timed(&p->steps[2], PACER_STEP_COOLDOWN, 600);
	free(p);
}

static void test_example_hills(void)
{
	Athlete a;
	PacerPlan *p;

	athlete_init(&a);
	p = parse_ok("10min@E, 8x(30s@hill, 90s jog), 10min@E", &a.ctx);
	CU_ASSERT_EQUAL_FATAL(p->n_steps, 18);
	check_timed(&p->steps[0], PACER_STEP_WARMUP, 600);
	for (unsigned k = 0; k < 8; k++) {
		const PacerStep *hill = &p->steps[1 + 2 * k], *jog = &p->steps[2 + 2 * k];

		check_timed(hill, PACER_STEP_RUN, 30);
		CU_ASSERT_TRUE(hill->target.hill);
		CU_ASSERT_FALSE(hill->target.has_pace);
		CU_ASSERT_STRING_EQUAL(hill->target.label, "hill");
		CU_ASSERT_EQUAL(hill->rep, k + 1);
		check_timed(jog, PACER_STEP_JOG, 90);
		CU_ASSERT_EQUAL(jog->reps, 8);
	}
	check_timed(&p->steps[17], PACER_STEP_COOLDOWN, 600);
	free(p);
}

static void test_example_negative_mile(void)
{
	Athlete a;
	PacerPlan *p;
	double centre = 400 / 1.609344; /* 6:40/mi in s/km */

	athlete_init(&a);
	p = parse_ok("1mi@6:40/mi negative", &a.ctx);
	CU_ASSERT_EQUAL_FATAL(p->n_steps, 4);
	CU_ASSERT_TRUE(p->has_negative_split);
	CU_ASSERT_FALSE(p->has_repeats);
	for (unsigned k = 0; k < 4; k++) {
		const PacerStep *s = &p->steps[k];

		check_distance(s, PACER_STEP_RUN, k < 3 ? 400 : 409.344);
		CU_ASSERT_EQUAL(s->negative_group, 0);
		CU_ASSERT_EQUAL(s->segment, k + 1);
		CU_ASSERT_EQUAL(s->segments, 4);
		CU_ASSERT_STRING_EQUAL(s->target.label, "6:40/mi");
		CU_ASSERT_TRUE(s->target.pace_range);
	}
	check_band(&p->steps[0].target, centre * 1.02, centre * 1.05);
	check_band(&p->steps[1].target, centre * 1.00, centre * 1.03);
	check_band(&p->steps[2].target, centre * 0.98, centre * 1.01);
	check_band(&p->steps[3].target, 0, centre * 0.98);
	free(p);
}

static void test_example_heart_rate(void)
{
	Athlete a;
	PacerPlan *p;

	athlete_init(&a);
	p = parse_ok("45min@z2", &a.ctx);
	CU_ASSERT_EQUAL_FATAL(p->n_steps, 1);
	check_timed(&p->steps[0], PACER_STEP_RUN, 2700);
	CU_ASSERT_TRUE(p->steps[0].target.has_hr);
	CU_ASSERT_FALSE(p->steps[0].target.has_pace);
	NEAR(p->steps[0].target.hr_min_bpm, 114);
	NEAR(p->steps[0].target.hr_max_bpm, 132);
	CU_ASSERT_EQUAL(p->steps[0].target.hr_zone, 2);
	free(p);

	p = parse_ok("20min@z5", &a.ctx);
	NEAR(p->steps[0].target.hr_min_bpm, 171);
	NEAR(p->steps[0].target.hr_max_bpm, 190);
	free(p);
}

static void test_example_pace_and_cadence(void)
{
	Athlete a;
	PacerPlan *p;

	athlete_init(&a);
	p = parse_ok("3x(1km@4:10-4:20/km+cad175-185, 400m jog)", &a.ctx);
	CU_ASSERT_EQUAL_FATAL(p->n_steps, 6);
	for (unsigned k = 0; k < 3; k++) {
		const PacerStep *run = &p->steps[2 * k], *jog = &p->steps[2 * k + 1];

		check_distance(run, PACER_STEP_RUN, 1000);
		check_band(&run->target, 250, 260);
		CU_ASSERT_TRUE(run->target.pace_range);
		CU_ASSERT_TRUE(run->target.has_cadence);
		NEAR(run->target.cadence_min_spm, 175);
		NEAR(run->target.cadence_max_spm, 185);
		CU_ASSERT_STRING_EQUAL(run->target.label, "4:10-4:20/km+cad175-185");
		CU_ASSERT_EQUAL(run->rep, k + 1);
		CU_ASSERT_EQUAL(run->reps, 3);
		check_distance(jog, PACER_STEP_JOG, 400);
	}
	free(p);
}

/* ---- amounts, kinds, targets ---- */

static void test_amounts(void)
{
	static const struct {
		const char *text;
		PacerStepEnd end;
		double amount;
	} cases[] = {
		{"90s", PACER_STEP_END_TIME, 90},
		{"30sec", PACER_STEP_END_TIME, 30},
		{"10min", PACER_STEP_END_TIME, 600},
		{"1h", PACER_STEP_END_TIME, 3600},
		{"1.5h", PACER_STEP_END_TIME, 5400},
		{"2:30", PACER_STEP_END_TIME, 150},
		{"1:05:00", PACER_STEP_END_TIME, 3900},
		{"90:00", PACER_STEP_END_TIME, 5400},
		{"0.25min", PACER_STEP_END_TIME, 15},
		{"10 min", PACER_STEP_END_TIME, 600},
		{"24h", PACER_STEP_END_TIME, 86400},
		{"400m", PACER_STEP_END_DISTANCE, 400},
		{"1.5km", PACER_STEP_END_DISTANCE, 1500},
		{"1km", PACER_STEP_END_DISTANCE, 1000},
		{"1mi", PACER_STEP_END_DISTANCE, MILE_M},
		{"0.5mi", PACER_STEP_END_DISTANCE, MILE_M / 2},
		{"  400 m  ", PACER_STEP_END_DISTANCE, 400},
		{"1000km", PACER_STEP_END_DISTANCE, 1e6},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		PacerPlan *p = parse_ok(cases[i].text, NULL);

		CU_ASSERT_EQUAL(p->n_steps, 1);
		CU_ASSERT_EQUAL(p->steps[0].end, cases[i].end);
		NEAR(cases[i].end == PACER_STEP_END_TIME ? p->steps[0].duration_s
							 : p->steps[0].distance_m,
		     cases[i].amount);
		CU_ASSERT_EQUAL(p->steps[0].kind, PACER_STEP_RUN);
		CU_ASSERT_FALSE(p->steps[0].target.has_pace);
		free(p);
	}
}

static void test_kinds_and_spacing(void)
{
	static const PacerStepKind expected[] = {
		PACER_STEP_REST, PACER_STEP_JOG, PACER_STEP_RECOVERY, PACER_STEP_WALK,
		PACER_STEP_RUN,	 PACER_STEP_RUN, PACER_STEP_RUN,
	};
	PacerPlan *p = parse_ok("2min rest,2min  jog , 3min recovery,\t1km walk,5min warmup, "
				"5min cooldown, 1min",
				NULL);

	/* explicit warmup/cooldown words, and no repeats: kinds as written */
	CU_ASSERT_EQUAL_FATAL(p->n_steps, 7);
	CU_ASSERT_EQUAL(p->steps[0].kind, expected[0]);
	CU_ASSERT_EQUAL(p->steps[1].kind, expected[1]);
	CU_ASSERT_EQUAL(p->steps[2].kind, expected[2]);
	CU_ASSERT_EQUAL(p->steps[3].kind, expected[3]);
	CU_ASSERT_EQUAL(p->steps[4].kind, PACER_STEP_WARMUP);
	CU_ASSERT_EQUAL(p->steps[5].kind, PACER_STEP_COOLDOWN);
	CU_ASSERT_EQUAL(p->steps[6].kind, expected[6]);
	free(p);
}

static void test_spacing_with_zones(void)
{
	Athlete a;
	PacerPlan *p;

	athlete_init(&a);
	p = parse_ok(" 4 x ( 400m @ I + hr150-170 , 200m jog @ z1 ) ", &a.ctx);
	CU_ASSERT_EQUAL_FATAL(p->n_steps, 8);
	check_band(&p->steps[0].target, a.pace.zones[PACER_PACE_I].fast_s_per_km,
		   a.pace.zones[PACER_PACE_I].slow_s_per_km);
	CU_ASSERT_TRUE(p->steps[0].target.has_hr);
	NEAR(p->steps[0].target.hr_min_bpm, 150);
	NEAR(p->steps[0].target.hr_max_bpm, 170);
	CU_ASSERT_STRING_EQUAL(p->steps[0].target.label, "I + hr150-170");
	CU_ASSERT_EQUAL(p->steps[1].kind, PACER_STEP_JOG);
	CU_ASSERT_EQUAL(p->steps[1].target.hr_zone, 1);
	free(p);
}

static void test_targets(void)
{
	static const char *const races[] = {"5k", "10k", "half", "marathon", "mile"};
	static const double race_m[] = {5000, 10000, 21097.5, 42195, MILE_M};
	char text[64];
	Athlete a;
	PacerPlan *p;

	athlete_init(&a);
	for (int id = PACER_PACE_E; id < PACER_PACE_ZONE_COUNT; id++) {
		snprintf(text, sizeof(text), "10min@%s", pacer_pace_zone_name((PacerPaceZoneId)id));
		p = parse_ok(text, &a.ctx);
		check_band(&p->steps[0].target, a.pace.zones[id].fast_s_per_km,
			   a.pace.zones[id].slow_s_per_km);
		free(p);
	}
	for (size_t i = 0; i < sizeof(races) / sizeof(races[0]); i++) {
		double centre = pacer_pace_zones_predict(&a.pace, race_m[i]) / race_m[i] * 1000;

		snprintf(text, sizeof(text), "1km@%s", races[i]);
		p = parse_ok(text, &a.ctx);
		check_band(&p->steps[0].target, centre * 0.98, centre * 1.02);
		CU_ASSERT_STRING_EQUAL(p->steps[0].target.label, races[i]);
		free(p);
	}
	p = parse_ok("10min@4:30/km, 10min@7:15/mi, 10min@4:20-4:10/km, 10min@8:00-7:00/mi", NULL);
	check_band(&p->steps[0].target, 270 * 0.98, 270 * 1.02);
	CU_ASSERT_FALSE(p->steps[0].target.pace_range);
	check_band(&p->steps[1].target, 435 / 1.609344 * 0.98, 435 / 1.609344 * 1.02);
	check_band(&p->steps[2].target, 250, 260);
	check_band(&p->steps[3].target, 420 / 1.609344, 480 / 1.609344);
	free(p);
	p = parse_ok("10min@hr140-150+cad170-180", NULL);
	CU_ASSERT_FALSE(p->steps[0].target.has_pace);
	NEAR(p->steps[0].target.hr_min_bpm, 140);
	NEAR(p->steps[0].target.cadence_max_spm, 180);
	free(p);
}

static void test_open_hr_zones(void)
{
	PacerAthlete lthr = {.lthr = 170};
	PacerHrZones hr;
	PacerWorkoutContext ctx = {NULL, &hr};
	PacerPlan *p;

	CU_ASSERT_EQUAL_FATAL(pacer_hr_zones_compute(&lthr, &hr), 0);
	p = parse_ok("10min@z1, 1min@z7", &ctx);
	NEAR(p->steps[0].target.hr_min_bpm, 0);
	NEAR(p->steps[0].target.hr_max_bpm, 144);
	NEAR(p->steps[1].target.hr_min_bpm, 180);
	NEAR(p->steps[1].target.hr_max_bpm, 0);
	free(p);
}

/* ---- errors ---- */

static void test_syntax_errors(void)
{
	static const struct {
		const char *text;
		size_t column;
	} cases[] = {
		{"", 1},
		{"   ", 4},
		{"10min,", 7},
		{"10min,,5min", 7},
		{"10min, ", 8},
		{"-5min", 1},
		{"400", 4},
		{"400 rest", 5},
		{"10mins", 3},
		{"1.min", 3},
		{"2:3", 3},
		{"2:60", 3},
		{"2:300", 3},
		{"1:05:0", 6},
		{"10min@", 7},
		{"10min@ ", 8},
		{"10min@X", 7},
		{"10min@e", 7},
		{"10min@E+", 9},
		{"10min@E++T", 9},
		{"10min@z", 7},
		{"10min@hr", 7},
		{"10min@hr150-140", 7},
		{"10min@hr20-150", 7},
		{"10min@hr140-251", 7},
		{"10min@hr140", 7},
		{"10min@hr140-150x", 7},
		{"10min@cad90-180", 7},
		{"10min@cad180-170", 7},
		{"10min@z0", 7},
		{"10min@z8", 7},
		{"10min@z6", 7},
		{"10min@z123", 7},
		{"10min@4:30", 7},
		{"10min@4:60/km", 7},
		{"10min@0:00/km", 7},
		{"10min@123:00/km", 7},
		{"10min@4:30/mile", 7},
		{"10min@4:30-4:30/km", 7},
		{"10min@4:30-/km", 7},
		{"10min@3k", 7},
		{"10min sprint", 7},
		{"10min rest rest", 12},
		{"10min@E rest", 9},
		{"10min 5min", 7},
		{"10min)", 6},
		{"10min@E)", 8},
		{"4x(400m", 8},
		{"4x(400m 200m)", 9},
		{"4x(400m, 200m", 14},
		{"4x()", 4},
		{"4x(,400m)", 4},
		{"(400m)", 1},
		{"@E", 1},
		{"x(400m)", 1},
		{"4x", 3},
		{"4x rest", 4},
		{"4x(400m))", 9},
		{"0x(400m)", 1},
		{"100x(400m)", 1},
		{"1.5x(400m)", 1},
		{"99999999999x(400m)", 1},
		{"2x(2x(2x(2x(2x(400m)))))", 13},
		{"0min", 1},
		{"0:00", 1},
		{"0.0km", 1},
		{"25h", 1},
		{"24:00:01", 1},
		{"1001km", 1},
		{"1234567890m", 1},
		{"1.1234567890m", 12},
		{"10min\x01", 6},
		{"10min@E\xc3\xa9", 7},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_error(cases[i].text, -EINVAL, cases[i].column);
}

static void test_duplicate_targets(void)
{
	check_error("10min@E+5k", -EINVAL, 9);
	check_error("10min@hill+E", -EINVAL, 12);
	check_error("10min@4:30/km+hill", -EINVAL, 15);
	check_error("10min@z2+hr140-150", -EINVAL, 10);
	check_error("10min@hr140-150+z2", -EINVAL, 17);
	check_error("10min@cad170-180+cad160-170", -EINVAL, 18);
	check_error("10min@E + cad170-180 + T", -EINVAL, 24);
}

static void test_negative_errors(void)
{
	check_error("1mi negative", -EINVAL, 5);
	check_error("20min@T negative", -EINVAL, 9);
	check_error("1mi@hill negative", -EINVAL, 10);
	check_error("1mi@z2 negative", -EINVAL, 8);
	check_error("1mi@cad170-180 negative", -EINVAL, 16);
	check_error("499m@T negative", -EINVAL, 8);
	check_error("1mi@T negative negative", -EINVAL, 16);
	check_error("1mi@T negativ", -EINVAL, 7);
}

static void test_missing_context(void)
{
	Athlete a;
	PacerWorkoutContext pace_only, hr_only;

	athlete_init(&a);
	pace_only = (PacerWorkoutContext){&a.pace, NULL};
	hr_only = (PacerWorkoutContext){NULL, &a.hr};
	check_error_in("10min@E", NULL, -ENODATA, 7);
	check_error_in("10min, 400m@5k", NULL, -ENODATA, 13);
	check_error_in("10min@hr140-150+mile", NULL, -ENODATA, 17);
	check_error_in("10min@z2", NULL, -ENODATA, 7);
	check_error_in("10min@T", &hr_only, -ENODATA, 7);
	check_error_in("10min@z3", &pace_only, -ENODATA, 7);
	/* a syntax error before the unresolvable target is reported first */
	check_error_in("10min@Q, 10min@E", NULL, -EINVAL, 7);
	free(parse_ok("10min@hr140-150+cad170-180, 1km@4:00/km, 30s@hill", NULL));
}

static void test_limits(void)
{
	char text[PACER_WORKOUT_MAX_TEXT + 8];
	PacerPlan *p;

	p = parse_ok("2x(64x(400m, 200m))", NULL);
	CU_ASSERT_EQUAL(p->n_steps, PACER_WORKOUT_MAX_STEPS);
	CU_ASSERT_EQUAL(p->steps[255].index, 255);
	CU_ASSERT_EQUAL(p->steps[255].rep, 64);
	CU_ASSERT_EQUAL(p->steps[255].reps, 64);
	free(p);
	check_error("10min, 2x(64x(400m, 200m))", -E2BIG, 8);
	check_error("2x(64x(400m, 200m)), 5min", -E2BIG, 22);
	check_error("2x(64x(400m, 200m)), 1mi@T negative", -E2BIG, 22);
	check_error("99x(1km@T negative, 400m)", -E2BIG, 1);
	check_error("2x(2x(2x(2x(400m)))), 16x(16x400m)", -E2BIG, 23);

	/* 1024 characters are fine, 1025 are not */
	memset(text, ' ', sizeof(text));
	memcpy(text, "1min", 4);
	text[PACER_WORKOUT_MAX_TEXT] = '\0';
	free(parse_ok(text, NULL));
	text[PACER_WORKOUT_MAX_TEXT] = ' ';
	text[PACER_WORKOUT_MAX_TEXT + 1] = '\0';
	check_error(text, -E2BIG, PACER_WORKOUT_MAX_TEXT + 1);
}

/* ---- structure ---- */

static void test_nesting(void)
{
	PacerPlan *p = parse_ok("2x(3x(400m@4:00/km, 200m jog), 5min rest)", NULL);
	static const unsigned reps[] = {3, 3, 3, 3, 3, 3, 2};
	static const unsigned rep[] = {1, 1, 2, 2, 3, 3, 1};

	CU_ASSERT_EQUAL_FATAL(p->n_steps, 14);
	for (size_t i = 0; i < 14; i++) {
		CU_ASSERT_EQUAL(p->steps[i].reps, reps[i % 7]);
		CU_ASSERT_EQUAL(p->steps[i].rep, i == 13 ? 2 : rep[i % 7]);
	}
	check_timed(&p->steps[6], PACER_STEP_REST, 300);
	check_distance(&p->steps[7], PACER_STEP_RUN, 400);
	free(p);

	p = parse_ok("2x(2x(2x(2x(400m))))", NULL);
	CU_ASSERT_EQUAL_FATAL(p->n_steps, 16);
	CU_ASSERT_EQUAL(p->steps[15].rep, 2);
	CU_ASSERT_EQUAL(p->steps[15].reps, 2);
	free(p);

	p = parse_ok("8x400m@4:00/km, 3 x 2 x 1min", NULL);
	CU_ASSERT_EQUAL_FATAL(p->n_steps, 14);
	CU_ASSERT_EQUAL(p->steps[7].rep, 8);
	CU_ASSERT_EQUAL(p->steps[7].reps, 8);
	CU_ASSERT_EQUAL(p->steps[8].rep, 1);
	CU_ASSERT_EQUAL(p->steps[8].reps, 2);
	CU_ASSERT_EQUAL(p->steps[13].rep, 2);
	free(p);

	p = parse_ok("1x(1min)", NULL);
	CU_ASSERT_TRUE(p->has_repeats);
	CU_ASSERT_EQUAL(p->steps[0].rep, 1);
	CU_ASSERT_EQUAL(p->steps[0].reps, 1);
	free(p);
}

static void test_negative_expansion(void)
{
	PacerPlan *p;
	double c = 240;

	/* 1 km: 400 + 400 + 200; a single middle segment takes the midpoint */
	p = parse_ok("1km@4:00/km negative", NULL);
	CU_ASSERT_EQUAL_FATAL(p->n_steps, 3);
	check_distance(&p->steps[2], PACER_STEP_RUN, 200);
	check_band(&p->steps[0].target, c * 1.02, c * 1.05);
	check_band(&p->steps[1].target, c * 0.99, c * 1.02);
	check_band(&p->steps[2].target, 0, c * 0.98);
	free(p);

	/* 2 km: five segments, the middle three build from 1.00-1.03 to 0.98-1.01 */
	p = parse_ok("2km@3:50-4:10/km negative", NULL);
	CU_ASSERT_EQUAL_FATAL(p->n_steps, 5);
	check_band(&p->steps[1].target, c * 1.00, c * 1.03);
	check_band(&p->steps[2].target, c * 0.99, c * 1.02);
	check_band(&p->steps[3].target, c * 0.98, c * 1.01);
	free(p);

	/* a remainder of 100 m or more is a segment of its own; shorter joins the last */
	p = parse_ok("500m@4:00/km negative, 899m@4:00/km negative, 900m@4:00/km negative", NULL);
	CU_ASSERT_EQUAL_FATAL(p->n_steps, 2 + 2 + 3);
	check_distance(&p->steps[1], PACER_STEP_RUN, 100);
	check_distance(&p->steps[3], PACER_STEP_RUN, 499);
	check_distance(&p->steps[6], PACER_STEP_RUN, 100);
	CU_ASSERT_EQUAL(p->steps[1].negative_group, 0);
	CU_ASSERT_EQUAL(p->steps[2].negative_group, 1);
	CU_ASSERT_EQUAL(p->steps[6].negative_group, 2);
	free(p);
}

/* Each repetition is its own negative split. */
static void test_negative_in_repeats(void)
{
	Athlete a;
	PacerPlan *p;

	athlete_init(&a);
	p = parse_ok("2x(1mi@T negative, 400m jog), 1km@T negative", &a.ctx);
	CU_ASSERT_EQUAL_FATAL(p->n_steps, 13);
	for (size_t i = 0; i < 4; i++) {
		CU_ASSERT_EQUAL(p->steps[i].negative_group, 0);
		CU_ASSERT_EQUAL(p->steps[i].rep, 1);
		CU_ASSERT_EQUAL(p->steps[5 + i].negative_group, 1);
		CU_ASSERT_EQUAL(p->steps[5 + i].rep, 2);
		CU_ASSERT_EQUAL(p->steps[5 + i].segment, i + 1);
	}
	CU_ASSERT_EQUAL(p->steps[4].negative_group, -1);
	CU_ASSERT_EQUAL(p->steps[4].kind, PACER_STEP_JOG);
	CU_ASSERT_EQUAL(p->steps[10].negative_group, 2);
	CU_ASSERT_EQUAL(p->steps[12].segments, 3);
	CU_ASSERT_EQUAL(p->steps[12].reps, 0);
	free(p);
}

static void check_kinds(const char *text, PacerStepKind first, PacerStepKind last)
{
	Athlete a;
	PacerPlan *p;

	athlete_init(&a);
	p = parse_ok(text, &a.ctx);
	CU_ASSERT_EQUAL(p->steps[0].kind, first);
	CU_ASSERT_EQUAL(p->steps[p->n_steps - 1].kind, last);
	free(p);
}

static void test_warmup_cooldown(void)
{
	check_kinds("10min@E, 4x400m@I, 10min@E", PACER_STEP_WARMUP, PACER_STEP_COOLDOWN);
	check_kinds("10min, 4x400m@I, 10min", PACER_STEP_WARMUP, PACER_STEP_COOLDOWN);
	check_kinds("10min@E, 4x400m@I", PACER_STEP_WARMUP, PACER_STEP_RUN);
	check_kinds("4x400m@I, 10min@E", PACER_STEP_RUN, PACER_STEP_COOLDOWN);
	check_kinds("10min@T, 4x400m@I, 10min@E+cad170-180", PACER_STEP_RUN, PACER_STEP_RUN);
	check_kinds("10min jog, 4x400m@I, 5min walk", PACER_STEP_JOG, PACER_STEP_WALK);
	check_kinds("10min@z2, 2x400m@I, 10min@hill", PACER_STEP_RUN, PACER_STEP_RUN);
	check_kinds("1mi@E negative, 4x400m@I, 1km@E negative", PACER_STEP_RUN, PACER_STEP_RUN);
	check_kinds("15min@E, 20min@T, 10min@E", PACER_STEP_WARMUP, PACER_STEP_COOLDOWN);
	check_kinds("1x10min@E, 10min@E", PACER_STEP_RUN, PACER_STEP_COOLDOWN);
	check_kinds("40min@E", PACER_STEP_RUN, PACER_STEP_RUN);
	check_kinds("20min@E, 20min", PACER_STEP_RUN, PACER_STEP_RUN);
	check_kinds("10min@E, 1mi@mile negative, 10min@E", PACER_STEP_WARMUP, PACER_STEP_COOLDOWN);
}

/* ---- JSON ---- */

static void check_json(const char *text, const PacerWorkoutContext *ctx, const char *expected)
{
	PacerPlan *p = parse_ok(text, ctx);
	char buf[4096];
	PacerJson j;
	int n;

	pacer_json_init(&j, buf, sizeof(buf));
	pacer_plan_write_json(p, &j);
	n = pacer_json_finish(&j);
	CU_ASSERT_TRUE(n > 0);
	CU_ASSERT_STRING_EQUAL(buf, expected);
	if (strcmp(buf, expected) != 0)
		fprintf(stderr, "\n%s\n", buf);

	/* one octet short fails cleanly */
	if (n > 0) {
		pacer_json_init(&j, buf, (size_t)n);
		pacer_plan_write_json(p, &j);
		CU_ASSERT_EQUAL(pacer_json_finish(&j), -ENOBUFS);
	}
	free(p);
}

static void test_json(void)
{
	Athlete a;

	athlete_init(&a);
	check_json(
		"5min@E, 2x(400m@4:00-4:10/km+cad170-180, 1min rest)", &a.ctx,
		"{\"steps\":["
		"{\"index\":0,\"kind\":\"warmup\",\"duration_s\":300,\"target\":{\"label\":\"E\","
		"\"pace_s_per_km\":[296.2,334.8],\"hr_bpm\":null,\"cadence_spm\":null,"
		"\"hill\":false},\"rep\":null,\"reps\":null},"
		"{\"index\":1,\"kind\":\"run\",\"distance_m\":400,\"target\":{\"label\":"
		"\"4:00-4:10/km+cad170-180\",\"pace_s_per_km\":[240,250],\"hr_bpm\":null,"
		"\"cadence_spm\":[170,180],\"hill\":false},\"rep\":1,\"reps\":2},"
		"{\"index\":2,\"kind\":\"rest\",\"duration_s\":60,\"target\":null,\"rep\":1,"
		"\"reps\":2},"
		"{\"index\":3,\"kind\":\"run\",\"distance_m\":400,\"target\":{\"label\":"
		"\"4:00-4:10/km+cad170-180\",\"pace_s_per_km\":[240,250],\"hr_bpm\":null,"
		"\"cadence_spm\":[170,180],\"hill\":false},\"rep\":2,\"reps\":2},"
		"{\"index\":4,\"kind\":\"rest\",\"duration_s\":60,\"target\":null,\"rep\":2,"
		"\"reps\":2}],"
		"\"total_duration_s\":null,\"total_distance_m\":null}");
	check_json(
		"1km@4:00/km negative", NULL,
		"{\"steps\":["
		"{\"index\":0,\"kind\":\"run\",\"distance_m\":400,\"target\":{\"label\":"
		"\"4:00/km\",\"pace_s_per_km\":[244.8,252],\"hr_bpm\":null,\"cadence_spm\":null,"
		"\"hill\":false},\"rep\":null,\"reps\":null,\"segment\":1,\"segments\":3},"
		"{\"index\":1,\"kind\":\"run\",\"distance_m\":400,\"target\":{\"label\":"
		"\"4:00/km\",\"pace_s_per_km\":[237.6,244.8],\"hr_bpm\":null,\"cadence_spm\":null,"
		"\"hill\":false},\"rep\":null,\"reps\":null,\"segment\":2,\"segments\":3},"
		"{\"index\":2,\"kind\":\"run\",\"distance_m\":200,\"target\":{\"label\":"
		"\"4:00/km\",\"pace_s_per_km\":[null,235.2],\"hr_bpm\":null,\"cadence_spm\":null,"
		"\"hill\":false},\"rep\":null,\"reps\":null,\"segment\":3,\"segments\":3}],"
		"\"total_duration_s\":null,\"total_distance_m\":1000}");
	check_json("1:30@hill, 30s walk@hr100-120", NULL,
		   "{\"steps\":["
		   "{\"index\":0,\"kind\":\"run\",\"duration_s\":90,\"target\":{\"label\":\"hill\","
		   "\"pace_s_per_km\":null,\"hr_bpm\":null,\"cadence_spm\":null,\"hill\":true},"
		   "\"rep\":null,\"reps\":null},"
		   "{\"index\":1,\"kind\":\"walk\",\"duration_s\":30,\"target\":{\"label\":"
		   "\"hr100-120\",\"pace_s_per_km\":null,\"hr_bpm\":[100,120],\"cadence_spm\":null,"
		   "\"hill\":false},\"rep\":null,\"reps\":null}],"
		   "\"total_duration_s\":120,\"total_distance_m\":null}");
}

static void test_label_truncated(void)
{
	PacerPlan *p = parse_ok("10min@4:10-4:20/km + hr140-150 + cad170-180", NULL);

	CU_ASSERT_EQUAL(strlen(p->steps[0].target.label), PACER_TARGET_LABEL_SIZE - 1);
	CU_ASSERT_STRING_EQUAL(p->steps[0].target.label, "4:10-4:20/km + hr140-150 + cad1");
	free(p);
}

/* ---- sentences ---- */

static void check_describe(const char *text, size_t step, bool imperial, const char *expected)
{
	Athlete a;
	PacerPlan *p;
	char buf[160];

	athlete_init(&a);
	p = parse_ok(text, &a.ctx);
	CU_ASSERT_FATAL(step < p->n_steps);
	pacer_step_describe(&p->steps[step], imperial, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, expected);
	if (strcmp(buf, expected) != 0)
		fprintf(stderr, "\n'%s' step %zu: '%s'\n", text, step, buf);
	free(p);
}

static void test_describe(void)
{
	const char *intervals = "10min@E, 4x(400m@4:45/km, 2min rest), 10min@E";

	check_describe(intervals, 0, false, "Warm-up: 10 minutes easy.");
	check_describe(intervals, 3, false, "Rep 2 of 4: 400 m at 4:45/km.");
	check_describe(intervals, 4, false, "Recovery: 2 minutes rest.");
	check_describe(intervals, 9, false, "Cool-down: 10 minutes easy.");
	check_describe("20min@4:15-4:20/km", 0, false, "20 minutes at 4:15 to 4:20/km.");
	check_describe("1mi@6:40/mi negative", 3, false, "Segment 4 of 4: 409 m all-out.");
	check_describe("1mi@6:40/mi negative", 0, true,
		       "Segment 1 of 4: 400 m at 6:48 to 7:00/mi.");
	check_describe("30s@hill", 0, false, "30 seconds hill effort.");
	check_describe("45min@z2", 0, false, "45 minutes in heart-rate zone 2.");
	check_describe("1mi@6:40/mi", 0, true, "1 mile at 6:40/mi.");
	check_describe("1mi@6:40/mi", 0, false, "1.61 km at 4:09/km.");
	check_describe("5km@5k", 0, false, "5 km at 4:00/km.");
	check_describe("5km@5k", 0, true, "3.11 miles at 6:26/mi.");
	check_describe("3x(1km@4:10-4:20/km+cad175-185, 400m jog)", 0, false,
		       "Rep 1 of 3: 1 km at 4:10 to 4:20/km, cadence 175 to 185.");
	check_describe("3x(1km@4:10-4:20/km+cad175-185, 400m jog)", 1, false,
		       "Recovery: 400 m jog.");
	check_describe("30min@E+cad170-180", 0, false, "30 minutes easy, cadence 170 to 180.");
	check_describe("20min@hr140-150", 0, false, "20 minutes at heart rate 140 to 150.");
	check_describe("20min@cad170-180+z3", 0, false,
		       "20 minutes in heart-rate zone 3, cadence 170 to 180.");
	check_describe("1:05:00, 2:30, 90s, 1h, 1min, 1.5km walk", 0, false, "1 hour 5 minutes.");
	check_describe("1:05:00, 2:30, 90s, 1h, 1min, 1.5km walk", 1, false,
		       "2 minutes 30 seconds.");
	check_describe("1:05:00, 2:30, 90s, 1h, 1min, 1.5km walk", 2, false, "90 seconds.");
	check_describe("1:05:00, 2:30, 90s, 1h, 1min, 1.5km walk", 3, false, "1 hour.");
	check_describe("1:05:00, 2:30, 90s, 1h, 1min, 1.5km walk", 4, false, "1 minute.");
	check_describe("1:05:00, 2:30, 90s, 1h, 1min, 1.5km walk", 5, false,
		       "Recovery: 1.5 km walk.");
	check_describe("2x(1km@4:00/km negative)", 4, false,
		       "Rep 2 of 2, segment 2 of 3: 400 m at 3:58 to 4:05/km.");
}

static void test_describe_truncates(void)
{
	PacerPlan *p = parse_ok("4x(400m@4:45/km)", NULL);
	char buf[8];

	memset(buf, 'x', sizeof(buf));
	pacer_step_describe(&p->steps[1], false, buf, 1);
	CU_ASSERT_EQUAL(buf[0], '\0');
	CU_ASSERT_EQUAL(buf[1], 'x');
	pacer_step_describe(&p->steps[1], false, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "Rep 2 o");
	pacer_step_describe(&p->steps[1], false, buf, 0);
	pacer_step_describe(NULL, false, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "");
	free(p);
	CU_ASSERT_STRING_EQUAL(pacer_step_kind_to_string(PACER_STEP_RECOVERY), "recovery");
	CU_ASSERT_STRING_EQUAL(pacer_step_kind_to_string((PacerStepKind)99), "unknown");
}

/* ---- presets ---- */

static const char presets_text[] = "# presets\n"
				   "\n"
				   "  easy = 40min@E   # an easy run\n"
				   "intervals=10min@E, 4x(400m@5k, 2min rest), 10min@E\r\n"
				   "broken line\n"
				   "bad name = 10min\n"
				   "empty =\n"
				   "easy = 1min\n"
				   "last = 5min";

static void test_presets_lookup(void)
{
	char buf[64];

	CU_ASSERT_EQUAL(pacer_presets_lookup(presets_text, "easy", buf, sizeof(buf)), 0);
	CU_ASSERT_STRING_EQUAL(buf, "40min@E");
	CU_ASSERT_EQUAL(pacer_presets_lookup(presets_text, "intervals", buf, sizeof(buf)), 0);
	CU_ASSERT_STRING_EQUAL(buf, "10min@E, 4x(400m@5k, 2min rest), 10min@E");
	CU_ASSERT_EQUAL(pacer_presets_lookup(presets_text, "last", buf, sizeof(buf)), 0);
	CU_ASSERT_STRING_EQUAL(buf, "5min");
	CU_ASSERT_EQUAL(pacer_presets_lookup(presets_text, "Easy", buf, sizeof(buf)), -ENOENT);
	CU_ASSERT_EQUAL(pacer_presets_lookup(presets_text, "eas", buf, sizeof(buf)), -ENOENT);
	CU_ASSERT_EQUAL(pacer_presets_lookup(presets_text, "empty", buf, sizeof(buf)), -ENOENT);
	CU_ASSERT_EQUAL(pacer_presets_lookup(presets_text, "", buf, sizeof(buf)), -ENOENT);
	CU_ASSERT_EQUAL(pacer_presets_lookup("", "easy", buf, sizeof(buf)), -ENOENT);
	memset(buf, 'x', sizeof(buf));
	CU_ASSERT_EQUAL(pacer_presets_lookup(presets_text, "easy", buf, 7), -E2BIG);
	CU_ASSERT_EQUAL(buf[0], 'x');
	CU_ASSERT_EQUAL(pacer_presets_lookup(presets_text, "easy", buf, 8), 0);
	CU_ASSERT_EQUAL(pacer_presets_lookup(NULL, "easy", buf, 8), -EINVAL);
}

static void test_presets_iterate(void)
{
	static const struct {
		int r;
		size_t line;
		const char *name;
	} expected[] = {
		{1, 3, "easy"},	     {1, 4, "intervals"}, {-EBADMSG, 5, NULL}, {-EBADMSG, 6, NULL},
		{-EBADMSG, 7, NULL}, {1, 8, "easy"},	  {1, 9, "last"},
	};
	PacerPresetsIter it;
	PacerPreset p;

	pacer_presets_iter_init(&it, presets_text);
	for (size_t i = 0; i < sizeof(expected) / sizeof(expected[0]); i++) {
		CU_ASSERT_EQUAL_FATAL(pacer_presets_iter_next(&it, &p), expected[i].r);
		CU_ASSERT_EQUAL(p.line, expected[i].line);
		if (expected[i].name) {
			CU_ASSERT_EQUAL(p.name_len, strlen(expected[i].name));
			CU_ASSERT_EQUAL(memcmp(p.name, expected[i].name, p.name_len), 0);
		}
	}
	CU_ASSERT_EQUAL(pacer_presets_iter_next(&it, &p), 0);
	CU_ASSERT_EQUAL(pacer_presets_iter_next(&it, &p), 0);
}

/* Every preset we ship parses for an athlete with a race and a max HR. */
static void test_shipped_presets(void)
{
	static const char *const names[] = {"easy",  "long",	      "intervals", "tempo",
					    "hills", "negative-mile", "cadence",   "5k-time-trial"};
	char contents[16384], text[PACER_WORKOUT_MAX_TEXT + 1];
	PacerPresetsIter it;
	PacerPreset preset;
	FILE *f = fopen(PRESETS_FILE, "r");
	size_t n, count = 0;
	Athlete a;
	int r;

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	n = fread(contents, 1, sizeof(contents) - 1, f);
	fclose(f);
	contents[n] = '\0';
	athlete_init(&a);
	pacer_presets_iter_init(&it, contents);
	while ((r = pacer_presets_iter_next(&it, &preset)) != 0) {
		CU_ASSERT_EQUAL(r, 1);
		count++;
	}
	CU_ASSERT_EQUAL(count, sizeof(names) / sizeof(names[0]));
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		CU_ASSERT_EQUAL_FATAL(pacer_presets_lookup(contents, names[i], text, sizeof(text)),
				      0);
		free(parse_ok(text, &a.ctx));
	}
	CU_ASSERT_EQUAL(pacer_presets_lookup(contents, "intervals", text, sizeof(text)), 0);
	CU_ASSERT_STRING_EQUAL(text, "10min@E, 4x(400m@5k, 2min rest), 10min@E");
}

int main(void)
{
	static const PacerTest tests[] = {
		{"example: intervals", test_example_intervals},
		{"example: tempo", test_example_tempo},
		{"example: hill repeats", test_example_hills},
		{"example: negative-split mile", test_example_negative_mile},
		{"example: easy run on heart rate", test_example_heart_rate},
		{"example: pace and cadence band", test_example_pace_and_cadence},
		{"amounts: every unit and form", test_amounts},
		{"kinds and free spacing", test_kinds_and_spacing},
		{"spacing around targets", test_spacing_with_zones},
		{"targets: zones, race paces, explicit paces, bands", test_targets},
		{"targets: open HR zone bounds", test_open_hr_zones},
		{"errors: syntax, with columns", test_syntax_errors},
		{"errors: duplicate targets", test_duplicate_targets},
		{"errors: negative splits", test_negative_errors},
		{"errors: targets the context cannot resolve", test_missing_context},
		{"limits: 256 steps, 1024 characters", test_limits},
		{"repeats: nesting and rep numbers", test_nesting},
		{"negative splits: segments and bands", test_negative_expansion},
		{"negative splits: groups in repeats", test_negative_in_repeats},
		{"warm-up and cool-down inference", test_warmup_cooldown},
		{"json: small plans exactly", test_json},
		{"json: labels are truncated", test_label_truncated},
		{"describe: sentences", test_describe},
		{"describe: truncation and kinds", test_describe_truncates},
		{"presets: lookup", test_presets_lookup},
		{"presets: iteration and malformed lines", test_presets_iterate},
		{"presets: every shipped preset parses", test_shipped_presets},
		{NULL, NULL},
	};

	return pacer_test_main("workout", tests);
}
