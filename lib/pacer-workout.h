/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The workout language and expanded plans.
 *
 *     10min@E, 4x(400m@5k, 2min rest), 10min@E            intervals
 *     15min@E, 20min@T, 10min@E                           tempo
 *     10min@E, 8x(30s@hill, 90s jog), 10min@E             hill repeats
 *     1mi@6:40/mi negative                                negative-split mile
 *     45min@z2                                            easy run on heart rate
 *     3x(1km@4:10-4:20/km+cad175-185, 400m jog)           pace and cadence band
 *
 * A workout is a comma-separated list of steps and repeats. A step is an
 * amount (a duration: 90s, 10min, 1h, 2:30, 1:05:00; or a distance: 400m,
 * 1.5km, 1mi), optionally a kind (rest, jog, recovery, walk, warmup,
 * cooldown), optionally '@' and targets joined by '+', optionally the
 * modifier "negative". A repeat is N x (workout) or N x step; repeats nest.
 *
 * Targets: E M T I R (Daniels zones), 5k 10k half marathon mile (race pace),
 * hill (an effort up a hill: no pace target), zN (heart-rate zone N), hrA-B
 * (bpm), cadA-B (steps per minute), M:SS/km or M:SS/mi (a pace, with a band
 * of +-2 %), M:SS-M:SS/km or /mi (a pace band). At most one pace target, one
 * HR target and one cadence target per step.
 *
 * Parsing resolves targets against the athlete's zones and expands repeats
 * into a flat list of steps. The first and last steps of a workout that has
 * repeats or a step harder than easy running, when they are plain easy
 * running, become warm-up and cool-down.
 *
 * Details:
 *  - Units: s sec min h (durations), m km mi (distances); "m" is metres and
 *    "min" minutes. Numbers may have decimals (1.5h, 0.5mi); M:SS and H:MM:SS
 *    have no unit. Amounts must be above zero, durations at most 24 hours and
 *    distances at most 1000 km. Spaces may separate any two tokens (also a
 *    number and its unit: "2 min rest") and are never required.
 *  - Words are lower case; the zone letters E M T I R upper case.
 *  - A repeat count is a whole number 1-99; repeats nest up to 4 deep.
 *  - Race paces: the time pacer_pace_zones_predict() gives for the distance,
 *    as a pace, +-2 %. zN takes zone N's bounds (an open bound is 0);
 *    hrA-B needs 25 <= A < B <= 250 and cadA-B 100 <= A < B <= 250.
 *  - "negative" follows the targets of a distance step with a pace target
 *    (not hill) of at least 500 m. It splits the step into 400 m segments
 *    (a remainder under 100 m joins the last one) that share a
 *    negative_group. With P the centre of the target band, segment 1 runs
 *    at P*1.02-P*1.05, the middle segments build linearly from P*1.00-P*1.03
 *    to P*0.98-P*1.01 (a single middle segment takes the midpoint,
 *    P*0.99-P*1.02) and the last is all-out: fast 0, slow P*0.98.
 *  - Warm-up and cool-down: the first (last) top-level item, when it is a
 *    single step of kind RUN (no kind word), not negative, with no target or
 *    only E, in a workout with at least one repeat or one step of kind RUN
 *    that is not plain easy running.
 */

#include <stdbool.h>
#include <stddef.h>

#include "pacer-json.h"
#include "pacer-zones.h"

#define PACER_WORKOUT_MAX_STEPS 256
#define PACER_WORKOUT_MAX_TEXT 1024
#define PACER_TARGET_LABEL_SIZE 32

typedef enum {
	PACER_STEP_WARMUP,
	PACER_STEP_RUN, /* the work of the workout */
	PACER_STEP_REST,
	PACER_STEP_JOG,
	PACER_STEP_RECOVERY,
	PACER_STEP_WALK,
	PACER_STEP_COOLDOWN,
} PacerStepKind;

typedef enum {
	PACER_STEP_END_TIME,
	PACER_STEP_END_DISTANCE,
} PacerStepEnd;

typedef struct {
	char label[PACER_TARGET_LABEL_SIZE]; /* as written after '@', "" when none */

	bool has_pace;
	double pace_fast_s_per_km; /* 0 for an all-out segment: no upper speed limit */
	double pace_slow_s_per_km;

	bool has_hr;
	double hr_min_bpm;
	double hr_max_bpm; /* 0: no upper bound (the top zone) */

	bool has_cadence;
	double cadence_min_spm;
	double cadence_max_spm;

	bool hill; /* an effort on a hill: pace is not judged */

	/* How the target was written, so that it can be described in words. */
	bool has_pace_zone;	   /* the pace is the zone E M T I R ... */
	PacerPaceZoneId pace_zone; /* ... this one */
	unsigned hr_zone;	   /* N for a zN target, else 0 */
	bool pace_range;	   /* a band as written (M:SS-M:SS) or a negative-split segment */
} PacerTarget;

typedef struct {
	unsigned index; /* 0-based position in the plan */
	PacerStepKind kind;
	PacerStepEnd end;
	double duration_s; /* when end is TIME */
	double distance_m; /* when end is DISTANCE */
	PacerTarget target;
	unsigned rep;  /* 1-based repetition of the innermost repeat; 0 outside repeats */
	unsigned reps; /* its count; 0 outside repeats */
	int negative_group; /* segments of one negative-split effort share a group; -1 none */
	unsigned segment;   /* 1-based segment within the negative-split group */
	unsigned segments;
} PacerStep;

typedef struct {
	size_t n_steps;
	PacerStep steps[PACER_WORKOUT_MAX_STEPS];
	bool has_repeats;
	bool has_negative_split;
} PacerPlan;

typedef struct {
	const PacerPaceZones *pace; /* NULL when no race is known */
	const PacerHrZones *hr;     /* NULL when no HR information is known */
} PacerWorkoutContext;

typedef struct {
	size_t column;        /* 1-based column in the text */
	const char *expected; /* static text, e.g. "a distance or a duration (400m, 2min)" */
} PacerWorkoutError;

/*
 * Parses and expands `text`. Returns 0; -EINVAL for a syntax error, -ENODATA
 * for a target the context cannot resolve (5k pace without a race, z3 without
 * HR zones), -E2BIG for more than PACER_WORKOUT_MAX_STEPS steps or a text
 * longer than PACER_WORKOUT_MAX_TEXT; *ret_error then says where and what.
 * *ret is written only on success.
 */
int pacer_workout_parse(const char *text, const PacerWorkoutContext *ctx, PacerPlan *ret,
			PacerWorkoutError *ret_error);

const char *pacer_step_kind_to_string(PacerStepKind kind);

/* Whether the step is work (RUN) rather than easy running, rest or recovery. */
bool pacer_step_is_work(const PacerStep *step);

/*
 * Writes the plan as one JSON object:
 *   {"steps":[{"index":0,"kind":"warmup","duration_s":600,"target":{...},
 *     "rep":null,"reps":null}, ...],"total_duration_s":...,"total_distance_m":...}
 * Each step has duration_s or distance_m; negative-split segments also have
 * "segment" and "segments". target is null for a step without one, else
 *   {"label":"5k","pace_s_per_km":[fast,slow],"hr_bpm":[min,max],
 *    "cadence_spm":[min,max],"hill":false}
 * where an absent part is null and so is an open bound (the fast end of an
 * all-out segment, the top of the last HR zone). Paces, HR and cadence are
 * rounded to 0.1, amounts to 0.001. total_duration_s is null unless every
 * step is timed, total_distance_m null unless every step is a distance.
 */
void pacer_plan_write_json(const PacerPlan *plan, PacerJson *j);

/* "target": the target's label, pace_s_per_km, hr_bpm, cadence_spm bands and hill, or null. */
void pacer_target_write_json(const PacerTarget *target, PacerJson *j);
/* One step as `pacerctl plan` lists it: index, kind, duration_s or distance_m, target,
 * rep, reps, and segment/segments for a negative-split step. */
void pacer_step_write_json(const PacerStep *step, PacerJson *j);

/* The same members without the enclosing braces, to add keys around them. */
void pacer_plan_write_json_members(const PacerPlan *plan, PacerJson *j);

/*
 * A short sentence that can be read aloud to a runner, e.g. "Rep 2 of 4:
 * 400 m at 4:45/km.", "Warm-up: 10 minutes easy.", "Recovery: 2 minutes
 * rest.", "Segment 4 of 4: 409 m all-out.". Paces are per mile when
 * imperial (also distances of 1 km and more, in miles). Always
 * NUL-terminates buf (when size > 0), truncating.
 */
void pacer_step_describe(const PacerStep *step, bool imperial, char *buf, size_t size);
