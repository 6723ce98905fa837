/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * pacer_workout_parse() on a NUL-terminated copy, against three contexts: a
 * full athlete (a 5 km in 20:00, max HR 190), LTHR zones only (open zone
 * bounds) and none. Errors must name a column inside the text and leave the
 * plan untouched; a missing context may only turn success or a later error
 * into an -ENODATA (earlier in the text, unless the full context's error is a
 * repeat's -E2BIG, reported at its count). Every plan must be well formed, write valid JSON
 * and describe its steps into buffers of any size. The same bytes also go
 * through the presets-file reader.
 */

#include <math.h>

#include "fuzz.h"
#include "pacer-presets.h"
#include "pacer-workout.h"

#define PLAN_JSON_SIZE (128 * 1024)

typedef struct {
	PacerPaceZones pace;
	PacerHrZones hr;
	PacerHrZones lthr;
} Zones;

static void zones_init(Zones *z)
{
	PacerAthlete max = {.max_hr = 190}, lthr = {.lthr = 170};

	fuzz_check(pacer_pace_zones_compute(5000, 1200, &z->pace) == 0);
	fuzz_check(pacer_hr_zones_compute(&max, &z->hr) == 0);
	fuzz_check(pacer_hr_zones_compute(&lthr, &z->lthr) == 0);
}

static void check_target(const PacerTarget *t)
{
	fuzz_check(memchr(t->label, '\0', sizeof(t->label)));
	if (t->has_pace) {
		fuzz_check(isfinite(t->pace_fast_s_per_km) && isfinite(t->pace_slow_s_per_km));
		fuzz_check(t->pace_fast_s_per_km >= 0);
		fuzz_check(t->pace_slow_s_per_km > t->pace_fast_s_per_km);
	}
	fuzz_check(!(t->hill && t->has_pace));
	if (t->has_hr) {
		fuzz_check(t->hr_min_bpm >= 0 && t->hr_max_bpm >= 0 && t->hr_max_bpm <= 250);
		fuzz_check(t->hr_max_bpm == 0 || t->hr_min_bpm < t->hr_max_bpm);
	}
	if (t->has_cadence)
		fuzz_check(t->cadence_min_spm >= 100 && t->cadence_min_spm < t->cadence_max_spm &&
			   t->cadence_max_spm <= 250);
	fuzz_check(t->hr_zone <= PACER_HR_ZONES_MAX);
	fuzz_check(t->hr_zone == 0 || t->has_hr);
	fuzz_check(!t->has_pace_zone || t->has_pace);
	fuzz_check(t->label[0] != '\0' ||
		   (!t->has_pace && !t->has_hr && !t->has_cadence && !t->hill));
}

static void check_step(const PacerStep *s, size_t i)
{
	fuzz_check(s->index == i);
	fuzz_check(strcmp(pacer_step_kind_to_string(s->kind), "unknown") != 0);
	if (s->end == PACER_STEP_END_TIME)
		fuzz_check(s->duration_s > 0 && s->duration_s <= 86400 && s->distance_m == 0);
	else
		fuzz_check(s->end == PACER_STEP_END_DISTANCE && s->distance_m > 0 &&
			   s->distance_m <= 1e6 && s->duration_s == 0);
	fuzz_check(s->reps <= 99 && s->rep <= s->reps && (s->rep > 0) == (s->reps > 0));
	fuzz_check(s->negative_group >= -1);
	if (s->negative_group >= 0)
		fuzz_check(s->segments >= 2 && s->segment >= 1 && s->segment <= s->segments &&
			   s->end == PACER_STEP_END_DISTANCE && s->target.has_pace);
	else
		fuzz_check(s->segment == 0 && s->segments == 0);
	check_target(&s->target);
}

static void check_output(const PacerPlan *plan)
{
	static const size_t describe_sizes[] = {1, 2, 9, 80, 512};
	char *buf = malloc(PLAN_JSON_SIZE), *small;
	PacerJson j;
	int r;

	fuzz_check(buf);
	pacer_json_init(&j, buf, PLAN_JSON_SIZE);
	pacer_plan_write_json(plan, &j);
	r = pacer_json_finish(&j);
	fuzz_check(r > 0 && strlen(buf) == (size_t)r);
	fuzz_check(fuzz_json_is_object(buf));
	if ((size_t)r < FUZZ_JSON_EXACT_FIT_MAX) {
		small = malloc((size_t)r);
		fuzz_check(small);
		pacer_json_init(&j, small, (size_t)r);
		pacer_plan_write_json(plan, &j);
		fuzz_check(pacer_json_finish(&j) == -ENOBUFS && strlen(small) < (size_t)r);
		free(small);
	}
	for (size_t i = 0; i < plan->n_steps; i++) {
		for (size_t k = 0; k < sizeof(describe_sizes) / sizeof(describe_sizes[0]); k++) {
			small = malloc(describe_sizes[k]);
			fuzz_check(small);
			pacer_step_describe(&plan->steps[i], k % 2 == 0, small, describe_sizes[k]);
			fuzz_check(memchr(small, '\0', describe_sizes[k]));
			free(small);
		}
	}
	free(buf);
}

static void check_plan(const PacerPlan *plan)
{
	bool negative = false, repeated = false;

	fuzz_check(plan->n_steps >= 1 && plan->n_steps <= PACER_WORKOUT_MAX_STEPS);
	for (size_t i = 0; i < plan->n_steps; i++) {
		check_step(&plan->steps[i], i);
		negative = negative || plan->steps[i].negative_group >= 0;
		repeated = repeated || plan->steps[i].reps > 0;
	}
	fuzz_check(plan->has_negative_split == negative);
	fuzz_check(plan->has_repeats == repeated);
	check_output(plan);
}

/* Parses text against ctx; checks the result and returns the error code. */
static int parse(const char *text, const PacerWorkoutContext *ctx, PacerPlan *plan,
		 PacerWorkoutError *err)
{
	size_t len = strlen(text);
	int r;

	fuzz_poison(plan, sizeof(*plan));
	r = pacer_workout_parse(text, ctx, plan, err);
	fuzz_check(r == 0 || r == -EINVAL || r == -ENODATA || r == -E2BIG);
	if (r == 0) {
		check_plan(plan);
		return 0;
	}
	fuzz_check(fuzz_is_poisoned(plan, sizeof(*plan)));
	fuzz_check(err->column >= 1 && err->column <= len + 1);
	fuzz_check(err->expected && err->expected[0] != '\0');
	return r;
}

static void check_presets(const char *contents)
{
	size_t len = strlen(contents), n = 0;
	PacerPresetsIter it;
	PacerPreset p;
	char name[64], out[64];
	int r;

	pacer_presets_iter_init(&it, contents);
	while ((r = pacer_presets_iter_next(&it, &p)) != 0) {
		fuzz_check(r == 1 || r == -EBADMSG);
		fuzz_check(p.line > n);
		n = p.line;
		if (r < 0)
			continue;
		fuzz_check(p.name >= contents && p.name + p.name_len <= contents + len);
		fuzz_check(p.text >= contents && p.text + p.text_len <= contents + len);
		fuzz_check(p.name_len > 0 && p.text_len > 0);
		if (p.name_len < sizeof(name)) {
			memcpy(name, p.name, p.name_len);
			name[p.name_len] = '\0';
			r = pacer_presets_lookup(contents, name, out, sizeof(out));
			fuzz_check(r == 0 || r == -E2BIG);
			fuzz_check(r < 0 || memchr(out, '\0', sizeof(out)));
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_strdup(data, size);
	PacerPlan *full = malloc(sizeof(*full)), *none = malloc(sizeof(*none));
	PacerWorkoutError full_err, none_err, err;
	PacerWorkoutContext ctx, lthr_ctx;
	Zones z;
	int r_full, r_none;

	fuzz_check(full && none);
	zones_init(&z);
	ctx = (PacerWorkoutContext){&z.pace, &z.hr};
	lthr_ctx = (PacerWorkoutContext){&z.pace, &z.lthr};

	r_full = parse(text, &ctx, full, &full_err);
	fuzz_check(r_full != -ENODATA);
	r_none = parse(text, NULL, none, &none_err);
	if (r_none == 0) {
		fuzz_check(r_full == 0 && full->n_steps == none->n_steps);
		for (size_t i = 0; i < none->n_steps; i++)
			fuzz_check(full->steps[i].kind == none->steps[i].kind);
	} else if (r_full != 0) {
		/* -E2BIG for a repeat points at its count, before what its body holds */
		if (r_full != -E2BIG)
			fuzz_check(none_err.column <= full_err.column);
		if (r_none != -ENODATA)
			fuzz_check(r_none == r_full && none_err.column == full_err.column);
	} else {
		fuzz_check(r_none == -ENODATA);
	}
	fuzz_check(parse(text, &lthr_ctx, none, &err) != -ENODATA);

	check_presets(text);
	free(full);
	free(none);
	free(text);
	return 0;
}
