/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "pacer-workout.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "pacer-text.h"

#define MILE_M		  1609.344
#define MAX_DEPTH	  4
#define MAX_COUNT	  99
#define MAX_DURATION_S	  (24.0 * 3600.0)
#define MAX_DISTANCE_M	  1e6
#define MAX_NUMBER_DIGITS 9
#define NO_STEP		  SIZE_MAX

/* Explicit paces, race paces: the pace +- 2 %. */
#define PACE_BAND 0.02

#define HR_MIN	    25u
#define HR_MAX	    250u
#define CADENCE_MIN 100u
#define CADENCE_MAX 250u
#define HR_ZONE_MAX 7u

/* Negative splits: 400 m segments; a remainder shorter than this joins the last one. */
#define SEGMENT_M	  400.0
#define SEGMENT_MIN_M	  100.0
#define FIRST_FAST	  1.02
#define FIRST_SLOW	  1.05
#define MIDDLE_FAST_START 1.00
#define MIDDLE_SLOW_START 1.03
#define MIDDLE_BUILD	  0.02
#define LAST_SLOW	  0.98

#define EXPECT_AMOUNT	   "a distance or a duration (400m, 2min)"
#define EXPECT_UNIT	   "a unit after the number (s, sec, min, h, m, km, mi)"
#define EXPECT_POSITIVE	   "an amount above zero (400m, 2min)"
#define EXPECT_TOO_MUCH	   "a duration up to 24 hours or a distance up to 1000 km"
#define EXPECT_CLOCK	   "two digits from 00 to 59 after ':' (2:30, 1:05:00)"
#define EXPECT_KIND	   "a kind (rest, jog, recovery, walk, warmup, cooldown), '@' or ','"
#define EXPECT_TARGET	   "a target after '@' (E, 5k, 4:30/km, z2, hr140-150, cad170-180)"
#define EXPECT_PACE	   "a pace such as 4:30/km, 7:15/mi or 4:10-4:20/km"
#define EXPECT_BAND	   "two different paces in a band (4:10-4:20/km)"
#define EXPECT_HR	   "hrA-B with 25 <= A < B <= 250 (hr140-150)"
#define EXPECT_CADENCE	   "cadA-B with 100 <= A < B <= 250 (cad170-180)"
#define EXPECT_ZONE	   "a heart-rate zone from z1 to z7"
#define EXPECT_ZONE_HAVE   "a heart-rate zone that the athlete's zones have (z1-z5, z1-z7 on LTHR)"
#define EXPECT_ONE_PACE	   "at most one pace target per step (E M T I R, a race pace, hill, M:SS/km)"
#define EXPECT_ONE_HR	   "at most one heart-rate target per step (zN or hrA-B)"
#define EXPECT_ONE_CAD	   "at most one cadence target per step (cadA-B)"
#define EXPECT_RACE	   "a race result for race-pace and zone targets (--race)"
#define EXPECT_HR_ZONES	   "heart-rate zones for zN targets (--max-hr, --lthr or --age)"
#define EXPECT_NEG_PACE	   "a pace target before 'negative' (1mi@6:40/mi negative)"
#define EXPECT_NEG_DIST	   "a distance, not a duration, before 'negative' (1mi@6:40/mi negative)"
#define EXPECT_NEG_SHORT   "at least 500 m for a negative split"
#define EXPECT_AFTER_STEP  "'negative' or ',' between steps"
#define EXPECT_COUNT	   "a repeat count from 1 to 99"
#define EXPECT_NESTING	   "at most 4 nested repeats"
#define EXPECT_REPEATED	   "'(' or a step after 'x' (4x(400m, 2min rest), 8x400m@I)"
#define EXPECT_COMMA	   "',' between steps"
#define EXPECT_CLOSE	   "')' to close the repeat"
#define EXPECT_COMMA_CLOSE "',' between steps or ')' to close the repeat"
#define EXPECT_END	   "end of workout"
#define EXPECT_STEPS	   "at most 256 steps once repeats are expanded"
#define EXPECT_LENGTH	   "a workout of at most 1024 characters"

typedef struct {
	const char *text;
	size_t at; /* offset of the next character */
	const PacerPaceZones *pace;
	const PacerHrZones *hr;
	PacerPlan *plan;
	PacerWorkoutError *err;
	unsigned depth;	   /* repeats open around the current position */
	int n_groups;	   /* negative-split groups so far */
	size_t first_step; /* the first top-level item's step if it is a single step */
	size_t last_step;  /* the same for the last top-level item */
} Parser;

/* Which kinds of target a step has so far. */
typedef struct {
	bool pace;
	bool hr;
	bool cadence;
} TargetSeen;

static const struct {
	const char *word;
	double factor;
	PacerStepEnd end;
} units[] = {
	{"s", 1, PACER_STEP_END_TIME},		 {"sec", 1, PACER_STEP_END_TIME},
	{"min", 60, PACER_STEP_END_TIME},	 {"h", 3600, PACER_STEP_END_TIME},
	{"m", 1, PACER_STEP_END_DISTANCE},	 {"km", 1000, PACER_STEP_END_DISTANCE},
	{"mi", MILE_M, PACER_STEP_END_DISTANCE},
};

static const struct {
	const char *word;
	PacerStepKind kind;
} kinds[] = {
	{"rest", PACER_STEP_REST}, {"jog", PACER_STEP_JOG},	  {"recovery", PACER_STEP_RECOVERY},
	{"walk", PACER_STEP_WALK}, {"warmup", PACER_STEP_WARMUP}, {"cooldown", PACER_STEP_COOLDOWN},
};

static const struct {
	const char *word;
	double distance_m;
} races[] = {
	{"5k", 5000}, {"10k", 10000}, {"half", 21097.5}, {"marathon", 42195}, {"mile", MILE_M},
};

static int parse_sequence(Parser *p, bool in_group);
static int parse_item(Parser *p);

/* ---- characters ---- */

static bool is_digit(char ch)
{
	return ch >= '0' && ch <= '9';
}

static bool is_letter(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

static bool is_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
}

/* Characters that end a target token. */
static bool is_delimiter(char ch)
{
	return ch == '\0' || is_space(ch) || ch == ',' || ch == '+' || ch == '(' || ch == ')' ||
	       ch == '@';
}

static void skip_spaces(Parser *p)
{
	while (is_space(p->text[p->at]))
		p->at++;
}

static size_t word_end(const char *text, size_t at)
{
	while (is_letter(text[at]))
		at++;
	return at;
}

static bool span_is(const char *s, size_t len, const char *word)
{
	return strlen(word) == len && memcmp(s, word, len) == 0;
}

static int fail(Parser *p, size_t at, int code, const char *expected)
{
	p->err->column = at + 1;
	p->err->expected = expected;
	return code;
}

/* ---- amounts ---- */

/* Digits with optional decimals ("1.5"); *ret_integer when there are none. */
static int parse_number(Parser *p, double *ret, bool *ret_integer)
{
	const char *t = p->text;
	size_t start = p->at, i = start, n = 0;
	double v = 0, scale = 1;

	for (; is_digit(t[i]); i++, n++) {
		if (n == MAX_NUMBER_DIGITS)
			return fail(p, start, -EINVAL, EXPECT_TOO_MUCH);
		v = v * 10 + (t[i] - '0');
	}
	if (n == 0)
		return fail(p, i, -EINVAL, EXPECT_AMOUNT);
	*ret_integer = t[i] != '.';
	if (t[i] == '.') {
		i++;
		if (!is_digit(t[i]))
			return fail(p, i, -EINVAL, "a digit after '.' (1.5km)");
		for (n = 0; is_digit(t[i]); i++, n++) {
			if (n == MAX_NUMBER_DIGITS)
				return fail(p, i, -EINVAL, "at most 9 decimals");
			scale /= 10;
			v += (t[i] - '0') * scale;
		}
	}
	p->at = i;
	*ret = v;
	return 0;
}

/* ":SS" once or twice after the first field of "M:SS" or "H:MM:SS". */
static int parse_clock(Parser *p, double first, double *ret_s)
{
	const char *t = p->text;
	double total = first;

	for (unsigned i = 0; i < 2 && t[p->at] == ':'; i++) {
		size_t d = p->at + 1;

		if (!is_digit(t[d]) || t[d] > '5' || !is_digit(t[d + 1]) || is_digit(t[d + 2]))
			return fail(p, d, -EINVAL, EXPECT_CLOCK);
		total = total * 60 + (t[d] - '0') * 10 + (t[d + 1] - '0');
		p->at = d + 2;
	}
	*ret_s = total;
	return 0;
}

static int set_amount(Parser *p, PacerStep *step, size_t start, PacerStepEnd end, double amount)
{
	double max = end == PACER_STEP_END_TIME ? MAX_DURATION_S : MAX_DISTANCE_M;

	if (!(amount > 0))
		return fail(p, start, -EINVAL, EXPECT_POSITIVE);
	if (amount > max)
		return fail(p, start, -EINVAL, EXPECT_TOO_MUCH);
	step->end = end;
	if (end == PACER_STEP_END_TIME)
		step->duration_s = amount;
	else
		step->distance_m = amount;
	return 0;
}

static int parse_amount(Parser *p, PacerStep *step)
{
	size_t start = p->at, unit_at, unit_end;
	double v, amount;
	bool integer;
	int r = parse_number(p, &v, &integer);

	if (r < 0)
		return r;
	if (integer && p->text[p->at] == ':') {
		r = parse_clock(p, v, &amount);
		if (r < 0)
			return r;
		return set_amount(p, step, start, PACER_STEP_END_TIME, amount);
	}
	skip_spaces(p);
	unit_at = p->at;
	unit_end = word_end(p->text, unit_at);
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (span_is(p->text + unit_at, unit_end - unit_at, units[i].word)) {
			p->at = unit_end;
			return set_amount(p, step, start, units[i].end, v * units[i].factor);
		}
	}
	return fail(p, unit_at, -EINVAL, EXPECT_UNIT);
}

/* ---- targets ---- */

static int claim(Parser *p, size_t tok, bool *seen, const char *expected)
{
	if (*seen)
		return fail(p, tok, -EINVAL, expected);
	*seen = true;
	return 0;
}

static void set_pace(PacerTarget *t, double fast, double slow)
{
	t->has_pace = true;
	t->pace_fast_s_per_km = fast;
	t->pace_slow_s_per_km = slow;
}

static int target_pace_zone(Parser *p, size_t tok, PacerPaceZoneId id, PacerTarget *t,
			    TargetSeen *seen)
{
	int r = claim(p, tok, &seen->pace, EXPECT_ONE_PACE);

	if (r < 0)
		return r;
	if (!p->pace)
		return fail(p, tok, -ENODATA, EXPECT_RACE);
	set_pace(t, p->pace->zones[id].fast_s_per_km, p->pace->zones[id].slow_s_per_km);
	t->has_pace_zone = true;
	t->pace_zone = id;
	return 0;
}

static int target_race(Parser *p, size_t tok, double distance_m, PacerTarget *t, TargetSeen *seen)
{
	int r = claim(p, tok, &seen->pace, EXPECT_ONE_PACE);
	double time_s, centre;

	if (r < 0)
		return r;
	if (!p->pace)
		return fail(p, tok, -ENODATA, EXPECT_RACE);
	time_s = pacer_pace_zones_predict(p->pace, distance_m);
	if (!(time_s > 0) || !isfinite(time_s))
		return fail(p, tok, -ENODATA, EXPECT_RACE);
	centre = time_s / distance_m * 1000;
	set_pace(t, centre * (1 - PACE_BAND), centre * (1 + PACE_BAND));
	return 0;
}

/* Whole number of 1-3 digits at s[*at] (s is len long); advances *at. */
static bool parse_small_uint(const char *s, size_t len, size_t *at, unsigned *ret)
{
	size_t i = *at;
	unsigned v = 0;

	for (; i < len && is_digit(s[i]); i++) {
		if (i - *at == 3)
			return false;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (i == *at)
		return false;
	*at = i;
	*ret = v;
	return true;
}

/* "A-B", exactly, with lo <= A < B <= hi. */
static bool parse_range(const char *s, size_t len, unsigned lo, unsigned hi, unsigned *ret_a,
			unsigned *ret_b)
{
	size_t i = 0;

	if (!parse_small_uint(s, len, &i, ret_a) || i >= len || s[i] != '-')
		return false;
	i++;
	if (!parse_small_uint(s, len, &i, ret_b) || i != len)
		return false;
	return *ret_a >= lo && *ret_a < *ret_b && *ret_b <= hi;
}

static int target_hr_zone(Parser *p, size_t tok, const char *s, size_t len, PacerTarget *t,
			  TargetSeen *seen)
{
	const PacerHrZone *z;
	size_t i = 1;
	unsigned n;
	int r;

	if (!parse_small_uint(s, len, &i, &n) || i != len || n < 1 || n > HR_ZONE_MAX)
		return fail(p, tok, -EINVAL, EXPECT_ZONE);
	r = claim(p, tok, &seen->hr, EXPECT_ONE_HR);
	if (r < 0)
		return r;
	if (!p->hr)
		return fail(p, tok, -ENODATA, EXPECT_HR_ZONES);
	if (n > p->hr->n_zones)
		return fail(p, tok, -EINVAL, EXPECT_ZONE_HAVE);
	z = &p->hr->zones[n - 1];
	t->has_hr = true;
	t->hr_min_bpm = z->min_bpm < 0 ? 0 : z->min_bpm;
	t->hr_max_bpm = z->max_bpm < 0 ? 0 : z->max_bpm;
	t->hr_zone = n;
	return 0;
}

static int target_hr_range(Parser *p, size_t tok, const char *s, size_t len, PacerTarget *t,
			   TargetSeen *seen)
{
	unsigned a, b;
	int r;

	if (!parse_range(s + 2, len - 2, HR_MIN, HR_MAX, &a, &b))
		return fail(p, tok, -EINVAL, EXPECT_HR);
	r = claim(p, tok, &seen->hr, EXPECT_ONE_HR);
	if (r < 0)
		return r;
	t->has_hr = true;
	t->hr_min_bpm = a;
	t->hr_max_bpm = b;
	return 0;
}

static int target_cadence(Parser *p, size_t tok, const char *s, size_t len, PacerTarget *t,
			  TargetSeen *seen)
{
	unsigned a, b;
	int r;

	if (!parse_range(s + 3, len - 3, CADENCE_MIN, CADENCE_MAX, &a, &b))
		return fail(p, tok, -EINVAL, EXPECT_CADENCE);
	r = claim(p, tok, &seen->cadence, EXPECT_ONE_CAD);
	if (r < 0)
		return r;
	t->has_cadence = true;
	t->cadence_min_spm = a;
	t->cadence_max_spm = b;
	return 0;
}

/* "M:SS" with 1-2 digits of minutes; *ret in seconds. */
static bool parse_mss(const char *s, size_t len, size_t *at, unsigned *ret)
{
	size_t i = *at;
	unsigned m = 0;

	for (; i < len && is_digit(s[i]); i++) {
		if (i - *at == 2)
			return false;
		m = m * 10 + (unsigned)(s[i] - '0');
	}
	if (i == *at || len - i < 3 || s[i] != ':' || !is_digit(s[i + 1]) || s[i + 1] > '5' ||
	    !is_digit(s[i + 2]))
		return false;
	*ret = m * 60 + (unsigned)(s[i + 1] - '0') * 10 + (unsigned)(s[i + 2] - '0');
	*at = i + 3;
	return true;
}

/* "M:SS/km", "M:SS/mi", "M:SS-M:SS/km", "M:SS-M:SS/mi". */
static int target_pace(Parser *p, size_t tok, const char *s, size_t len, PacerTarget *t,
		       TargetSeen *seen)
{
	size_t i = 0;
	unsigned a, b;
	double per_km;
	bool range = false;
	int r;

	if (!parse_mss(s, len, &i, &a))
		return fail(p, tok, -EINVAL, EXPECT_PACE);
	b = a;
	if (i < len && s[i] == '-') {
		i++;
		range = true;
		if (!parse_mss(s, len, &i, &b))
			return fail(p, tok, -EINVAL, EXPECT_PACE);
	}
	if (span_is(s + i, len - i, "/km"))
		per_km = 1;
	else if (span_is(s + i, len - i, "/mi"))
		per_km = 1000 / MILE_M;
	else
		return fail(p, tok, -EINVAL, EXPECT_PACE);
	if (a == 0 || b == 0)
		return fail(p, tok, -EINVAL, EXPECT_PACE);
	if (range && a == b)
		return fail(p, tok, -EINVAL, EXPECT_BAND);
	r = claim(p, tok, &seen->pace, EXPECT_ONE_PACE);
	if (r < 0)
		return r;
	if (range) {
		set_pace(t, (a < b ? a : b) * per_km, (a < b ? b : a) * per_km);
		t->pace_range = true;
	} else {
		set_pace(t, a * per_km * (1 - PACE_BAND), a * per_km * (1 + PACE_BAND));
	}
	return 0;
}

/* Targets that are a fixed word: E M T I R, race paces, hill. Returns 1 when s is none. */
static int target_word(Parser *p, size_t tok, const char *s, size_t len, PacerTarget *t,
		       TargetSeen *seen)
{
	for (int id = PACER_PACE_E; id < PACER_PACE_ZONE_COUNT; id++) {
		if (span_is(s, len, pacer_pace_zone_name((PacerPaceZoneId)id)))
			return target_pace_zone(p, tok, (PacerPaceZoneId)id, t, seen);
	}
	for (size_t i = 0; i < sizeof(races) / sizeof(races[0]); i++) {
		if (span_is(s, len, races[i].word))
			return target_race(p, tok, races[i].distance_m, t, seen);
	}
	if (span_is(s, len, "hill")) {
		int r = claim(p, tok, &seen->pace, EXPECT_ONE_PACE);

		if (r < 0)
			return r;
		t->hill = true;
		return 0;
	}
	return 1;
}

static int parse_target(Parser *p, size_t tok, size_t len, PacerTarget *t, TargetSeen *seen)
{
	const char *s = p->text + tok;
	int r = target_word(p, tok, s, len, t, seen);

	if (r <= 0)
		return r;
	if (s[0] == 'z' && len > 1 && is_digit(s[1]))
		return target_hr_zone(p, tok, s, len, t, seen);
	if (len > 2 && memcmp(s, "hr", 2) == 0 && is_digit(s[2]))
		return target_hr_range(p, tok, s, len, t, seen);
	if (len > 3 && memcmp(s, "cad", 3) == 0 && is_digit(s[3]))
		return target_cadence(p, tok, s, len, t, seen);
	if (is_digit(s[0]))
		return target_pace(p, tok, s, len, t, seen);
	return fail(p, tok, -EINVAL, EXPECT_TARGET);
}

/* '@' and targets joined by '+'; the label is the text they span. */
static int parse_targets(Parser *p, PacerTarget *t)
{
	TargetSeen seen = {0};
	size_t label_at, label_end, n;
	int r;

	p->at++; /* '@' */
	skip_spaces(p);
	label_at = label_end = p->at;
	for (;;) {
		size_t tok = p->at, end = tok;

		while (!is_delimiter(p->text[end]))
			end++;
		if (end == tok)
			return fail(p, tok, -EINVAL, EXPECT_TARGET);
		r = parse_target(p, tok, end - tok, t, &seen);
		if (r < 0)
			return r;
		label_end = end;
		p->at = end;
		skip_spaces(p);
		if (p->text[p->at] != '+')
			break;
		p->at++;
		skip_spaces(p);
	}
	n = label_end - label_at;
	if (n >= sizeof(t->label))
		n = sizeof(t->label) - 1;
	memcpy(t->label, p->text + label_at, n);
	t->label[n] = '\0';
	return 0;
}

/* ---- steps ---- */

static void step_init(PacerStep *step)
{
	memset(step, 0, sizeof(*step));
	step->kind = PACER_STEP_RUN;
	step->end = PACER_STEP_END_TIME;
	step->negative_group = -1;
}

static int append_step(Parser *p, const PacerStep *step, size_t start)
{
	PacerPlan *plan = p->plan;

	if (plan->n_steps >= PACER_WORKOUT_MAX_STEPS)
		return fail(p, start, -E2BIG, EXPECT_STEPS);
	plan->steps[plan->n_steps++] = *step;
	return 0;
}

/* The band of segment k (1-based) of n around centre pace P (see the header). */
static void segment_band(unsigned k, unsigned n, double centre, PacerTarget *t)
{
	double build;

	t->pace_range = true;
	t->has_pace_zone = false;
	if (k == 1) {
		set_pace(t, centre * FIRST_FAST, centre * FIRST_SLOW);
		return;
	}
	if (k == n) {
		set_pace(t, 0, centre * LAST_SLOW);
		return;
	}
	build = n == 3 ? 0.5 : (double)(k - 2) / (double)(n - 3);
	set_pace(t, centre * (MIDDLE_FAST_START - MIDDLE_BUILD * build),
		 centre * (MIDDLE_SLOW_START - MIDDLE_BUILD * build));
}

static int expand_negative(Parser *p, const PacerStep *step, size_t start, size_t word_at)
{
	double d = step->distance_m, centre, last;
	unsigned full, n;

	if (step->end != PACER_STEP_END_DISTANCE)
		return fail(p, word_at, -EINVAL, EXPECT_NEG_DIST);
	if (!step->target.has_pace)
		return fail(p, word_at, -EINVAL, EXPECT_NEG_PACE);
	full = (unsigned)floor(d / SEGMENT_M);
	if (full > 0 && d - full * SEGMENT_M < SEGMENT_MIN_M) {
		n = full;
		last = d - (full - 1) * SEGMENT_M;
	} else {
		n = full + 1;
		last = d - full * SEGMENT_M;
	}
	if (n < 2)
		return fail(p, word_at, -EINVAL, EXPECT_NEG_SHORT);
	if (n > PACER_WORKOUT_MAX_STEPS - p->plan->n_steps)
		return fail(p, start, -E2BIG, EXPECT_STEPS);
	centre = (step->target.pace_fast_s_per_km + step->target.pace_slow_s_per_km) / 2;
	for (unsigned k = 1; k <= n; k++) {
		PacerStep seg = *step;

		seg.distance_m = k < n ? SEGMENT_M : last;
		seg.negative_group = p->n_groups;
		seg.segment = k;
		seg.segments = n;
		segment_band(k, n, centre, &seg.target);
		p->plan->steps[p->plan->n_steps++] = seg;
	}
	p->n_groups++;
	p->plan->has_negative_split = true;
	return 0;
}

/* An optional kind word after the amount. */
static int parse_kind(Parser *p, PacerStep *step)
{
	size_t at = p->at, end = word_end(p->text, at);

	if (end == at)
		return 0;
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		if (span_is(p->text + at, end - at, kinds[i].word)) {
			step->kind = kinds[i].kind;
			p->at = end;
			skip_spaces(p);
			return 0;
		}
	}
	if (span_is(p->text + at, end - at, "negative"))
		return fail(p, at, -EINVAL, EXPECT_NEG_PACE);
	return fail(p, at, -EINVAL, EXPECT_KIND);
}

static int parse_step(Parser *p)
{
	size_t start = p->at, word_at, end;
	PacerStep step;
	int r;

	step_init(&step);
	r = parse_amount(p, &step);
	if (r < 0)
		return r;
	skip_spaces(p);
	r = parse_kind(p, &step);
	if (r < 0)
		return r;
	if (p->text[p->at] == '@') {
		r = parse_targets(p, &step.target);
		if (r < 0)
			return r;
	}
	skip_spaces(p);
	word_at = p->at;
	end = word_end(p->text, word_at);
	if (end == word_at)
		return append_step(p, &step, start);
	if (!span_is(p->text + word_at, end - word_at, "negative"))
		return fail(p, word_at, -EINVAL, EXPECT_AFTER_STEP);
	p->at = end;
	return expand_negative(p, &step, start, word_at);
}

/* ---- repeats ---- */

/* Whether the item at `at` is a repeat: a number, then 'x'. */
static bool looks_like_repeat(const char *t, size_t at)
{
	while (is_digit(t[at]))
		at++;
	if (t[at] == '.') {
		at++;
		while (is_digit(t[at]))
			at++;
	}
	while (is_space(t[at]))
		at++;
	return t[at] == 'x';
}

/*
 * Copies the body (the steps from `first` on) count - 1 times, giving each
 * copy its own negative-split groups, then numbers the repetitions of the
 * steps no inner repeat has numbered.
 */
static int repeat_expand(Parser *p, size_t first, int first_group, unsigned count, size_t start)
{
	PacerPlan *plan = p->plan;
	size_t n = plan->n_steps - first;
	int n_groups = p->n_groups - first_group;

	if (n * count > PACER_WORKOUT_MAX_STEPS - first)
		return fail(p, start, -E2BIG, EXPECT_STEPS);
	for (size_t k = 1; k < count; k++) {
		for (size_t i = 0; i < n; i++) {
			PacerStep *s = &plan->steps[first + k * n + i];

			*s = plan->steps[first + i];
			if (s->negative_group >= 0)
				s->negative_group += (int)k * n_groups;
		}
	}
	for (size_t k = 0; k < count; k++) {
		for (size_t i = 0; i < n; i++) {
			PacerStep *s = &plan->steps[first + k * n + i];

			if (s->reps == 0) {
				s->rep = (unsigned)k + 1;
				s->reps = count;
			}
		}
	}
	plan->n_steps = first + n * count;
	p->n_groups = first_group + n_groups * (int)count;
	plan->has_repeats = true;
	return 0;
}

static int parse_count(Parser *p, unsigned *ret)
{
	size_t start = p->at;
	bool integer;
	double v;
	int r = parse_number(p, &v, &integer);

	if (r < 0)
		return fail(p, start, -EINVAL, EXPECT_COUNT);
	if (!integer || v < 1 || v > MAX_COUNT)
		return fail(p, start, -EINVAL, EXPECT_COUNT);
	*ret = (unsigned)v;
	return 0;
}

/* The body of a repeat: "(workout)" or a single item. */
static int parse_body(Parser *p)
{
	int r;

	if (p->text[p->at] == '(') {
		p->at++;
		r = parse_sequence(p, true);
		if (r == 0)
			p->at++; /* ')' */
		return r;
	}
	if (is_digit(p->text[p->at]))
		return parse_item(p);
	return fail(p, p->at, -EINVAL, EXPECT_REPEATED);
}

static int parse_repeat(Parser *p)
{
	size_t start = p->at, first = p->plan->n_steps;
	int first_group = p->n_groups, r;
	unsigned count;

	r = parse_count(p, &count);
	if (r < 0)
		return r;
	if (p->depth == MAX_DEPTH)
		return fail(p, start, -EINVAL, EXPECT_NESTING);
	skip_spaces(p);
	p->at++; /* 'x', as looks_like_repeat() saw */
	skip_spaces(p);
	p->depth++;
	r = parse_body(p);
	p->depth--;
	if (r < 0)
		return r;
	return repeat_expand(p, first, first_group, count, start);
}

static int parse_item(Parser *p)
{
	skip_spaces(p);
	if (!is_digit(p->text[p->at]))
		return fail(p, p->at, -EINVAL, EXPECT_AMOUNT);
	if (looks_like_repeat(p->text, p->at))
		return parse_repeat(p);
	return parse_step(p);
}

/* Remembers a top-level item that is a single plain step, for warm-up and cool-down. */
static void note_top_level(Parser *p, size_t before, bool first)
{
	const PacerPlan *plan = p->plan;
	size_t step = NO_STEP;

	if (plan->n_steps == before + 1 && plan->steps[before].reps == 0 &&
	    plan->steps[before].negative_group < 0)
		step = before;
	if (first)
		p->first_step = step;
	p->last_step = step;
}

/* Items separated by ','; ends before ')' in a group, at the end at top level. */
static int parse_sequence(Parser *p, bool in_group)
{
	for (bool first = true;; first = false) {
		size_t before = p->plan->n_steps;
		int r = parse_item(p);
		char ch;

		if (r < 0)
			return r;
		if (!in_group)
			note_top_level(p, before, first);
		skip_spaces(p);
		ch = p->text[p->at];
		if (ch == ',') {
			p->at++;
			continue;
		}
		if (in_group && ch == ')')
			return 0;
		if (in_group)
			return fail(p, p->at, -EINVAL,
				    ch == '\0' ? EXPECT_CLOSE : EXPECT_COMMA_CLOSE);
		if (ch == '\0')
			return 0;
		return fail(p, p->at, -EINVAL, ch == ')' ? EXPECT_END : EXPECT_COMMA);
	}
}

static bool is_plain_easy(const PacerStep *s)
{
	const PacerTarget *t = &s->target;

	if (s->kind != PACER_STEP_RUN || s->negative_group >= 0)
		return false;
	if (t->has_hr || t->has_cadence || t->hill)
		return false;
	return !t->has_pace || (t->has_pace_zone && t->pace_zone == PACER_PACE_E);
}

/* Repeats, or a step harder than easy running: easy steps around them warm up and cool down. */
static bool has_structure(const PacerPlan *plan)
{
	if (plan->has_repeats)
		return true;
	for (size_t i = 0; i < plan->n_steps; i++) {
		if (plan->steps[i].kind == PACER_STEP_RUN && !is_plain_easy(&plan->steps[i]))
			return true;
	}
	return false;
}

static void finish_plan(Parser *p)
{
	PacerPlan *plan = p->plan;
	bool structured = has_structure(plan);

	if (structured && p->first_step != NO_STEP && is_plain_easy(&plan->steps[p->first_step]))
		plan->steps[p->first_step].kind = PACER_STEP_WARMUP;
	if (structured && p->last_step != NO_STEP && p->last_step != p->first_step &&
	    is_plain_easy(&plan->steps[p->last_step]))
		plan->steps[p->last_step].kind = PACER_STEP_COOLDOWN;
	for (size_t i = 0; i < plan->n_steps; i++)
		plan->steps[i].index = (unsigned)i;
}

int pacer_workout_parse(const char *text, const PacerWorkoutContext *ctx, PacerPlan *ret,
			PacerWorkoutError *ret_error)
{
	PacerWorkoutError scratch;
	PacerPlan plan;
	Parser p = {
		.text = text,
		.pace = ctx ? ctx->pace : NULL,
		.hr = ctx ? ctx->hr : NULL,
		.plan = &plan,
		.err = ret_error ? ret_error : &scratch,
		.first_step = NO_STEP,
		.last_step = NO_STEP,
	};
	int r;

	if (!text || !ret)
		return fail(&p, 0, -EINVAL, EXPECT_AMOUNT);
	if (strnlen(text, PACER_WORKOUT_MAX_TEXT + 1) > PACER_WORKOUT_MAX_TEXT)
		return fail(&p, PACER_WORKOUT_MAX_TEXT, -E2BIG, EXPECT_LENGTH);
	memset(&plan, 0, sizeof(plan));
	r = parse_sequence(&p, false);
	if (r < 0)
		return r;
	finish_plan(&p);
	*ret = plan;
	return 0;
}

const char *pacer_step_kind_to_string(PacerStepKind kind)
{
	switch (kind) {
	case PACER_STEP_WARMUP:
		return "warmup";
	case PACER_STEP_RUN:
		return "run";
	case PACER_STEP_REST:
		return "rest";
	case PACER_STEP_JOG:
		return "jog";
	case PACER_STEP_RECOVERY:
		return "recovery";
	case PACER_STEP_WALK:
		return "walk";
	case PACER_STEP_COOLDOWN:
		return "cooldown";
	}
	return "unknown";
}

bool pacer_step_is_work(const PacerStep *step)
{
	return step && step->kind == PACER_STEP_RUN;
}

/* ---- JSON ---- */

void pacer_target_write_json(const PacerTarget *t, PacerJson *j)
{
	pacer_json_key(j, "target");
	if (!t->has_pace && !t->has_hr && !t->has_cadence && !t->hill) {
		pacer_json_null(j);
		return;
	}
	pacer_json_begin_object(j);
	pacer_json_key(j, "label");
	pacer_json_string(j, t->label);
	pacer_json_band(j, "pace_s_per_km", t->has_pace, t->pace_fast_s_per_km, t->pace_slow_s_per_km);
	pacer_json_band(j, "hr_bpm", t->has_hr, t->hr_min_bpm, t->hr_max_bpm);
	pacer_json_band(j, "cadence_spm", t->has_cadence, t->cadence_min_spm, t->cadence_max_spm);
	pacer_json_key(j, "hill");
	pacer_json_bool(j, t->hill);
	pacer_json_end_object(j);
}

static void write_count(PacerJson *j, const char *key, unsigned v)
{
	pacer_json_key(j, key);
	if (v > 0)
		pacer_json_int(j, v);
	else
		pacer_json_null(j);
}

void pacer_step_write_json(const PacerStep *s, PacerJson *j)
{
	bool timed = s->end == PACER_STEP_END_TIME;

	pacer_json_begin_object(j);
	pacer_json_key(j, "index");
	pacer_json_int(j, s->index);
	pacer_json_key(j, "kind");
	pacer_json_string(j, pacer_step_kind_to_string(s->kind));
	pacer_json_key(j, timed ? "duration_s" : "distance_m");
	pacer_json_fixed(j, timed ? s->duration_s : s->distance_m, 3);
	pacer_target_write_json(&s->target, j);
	write_count(j, "rep", s->rep);
	write_count(j, "reps", s->reps);
	if (s->negative_group >= 0) {
		write_count(j, "segment", s->segment);
		write_count(j, "segments", s->segments);
	}
	pacer_json_end_object(j);
}

void pacer_plan_write_json_members(const PacerPlan *plan, PacerJson *j)
{
	double duration = 0, distance = 0;
	bool all_timed = plan->n_steps > 0, all_distance = plan->n_steps > 0;

	pacer_json_key(j, "steps");
	pacer_json_begin_array(j);
	for (size_t i = 0; i < plan->n_steps && i < PACER_WORKOUT_MAX_STEPS; i++) {
		const PacerStep *s = &plan->steps[i];

		pacer_step_write_json(s, j);
		all_timed = all_timed && s->end == PACER_STEP_END_TIME;
		all_distance = all_distance && s->end == PACER_STEP_END_DISTANCE;
		duration += s->duration_s;
		distance += s->distance_m;
	}
	pacer_json_end_array(j);
	pacer_json_key(j, "total_duration_s");
	if (all_timed)
		pacer_json_fixed(j, duration, 3);
	else
		pacer_json_null(j);
	pacer_json_key(j, "total_distance_m");
	if (all_distance)
		pacer_json_fixed(j, distance, 3);
	else
		pacer_json_null(j);
}

void pacer_plan_write_json(const PacerPlan *plan, PacerJson *j)
{
	pacer_json_begin_object(j);
	pacer_plan_write_json_members(plan, j);
	pacer_json_end_object(j);
}

/* ---- sentences ---- */

static const char *plural(long n)
{
	return n == 1 ? "" : "s";
}

static void describe_duration(PacerText *b, double seconds)
{
	long t = lround(seconds), h = t / 3600, m = t % 3600 / 60, s = t % 60;
	const char *sep = "";

	if (t < 120 && s != 0) {
		pacer_text_add(b, "%ld second%s", t, plural(t));
		return;
	}
	if (h > 0) {
		pacer_text_add(b, "%ld hour%s", h, plural(h));
		sep = " ";
	}
	if (m > 0) {
		pacer_text_add(b, "%s%ld minute%s", sep, m, plural(m));
		sep = " ";
	}
	if (s > 0 || t == 0)
		pacer_text_add(b, "%s%ld second%s", sep, s, plural(s));
}

/* x with at most two decimals, trailing zeros dropped, without the locale's decimal point. */
static void describe_decimal(PacerText *b, double x)
{
	long hundredths = lround(x * 100), whole = hundredths / 100, frac = hundredths % 100;

	if (frac == 0)
		pacer_text_add(b, "%ld", whole);
	else if (frac % 10 == 0)
		pacer_text_add(b, "%ld.%ld", whole, frac / 10);
	else
		pacer_text_add(b, "%ld.%02ld", whole, frac);
}

static void describe_distance(PacerText *b, double m, bool imperial)
{
	double miles = m / MILE_M;

	if (m < 1000) {
		pacer_text_add(b, "%ld m", lround(m));
	} else if (imperial) {
		describe_decimal(b, miles);
		pacer_text_add(b, lround(miles * 100) == 100 ? " mile" : " miles");
	} else {
		describe_decimal(b, m / 1000);
		pacer_text_add(b, " km");
	}
}

static void describe_pace(PacerText *b, double s_per_km, bool imperial)
{
	long t = lround(imperial ? s_per_km * MILE_M / 1000 : s_per_km);

	pacer_text_add(b, "%ld:%02ld", t / 60, t % 60);
}

static void describe_prefix(PacerText *b, const PacerStep *s)
{
	switch (s->kind) {
	case PACER_STEP_WARMUP:
		pacer_text_add(b, "Warm-up: ");
		return;
	case PACER_STEP_COOLDOWN:
		pacer_text_add(b, "Cool-down: ");
		return;
	case PACER_STEP_REST:
	case PACER_STEP_JOG:
	case PACER_STEP_RECOVERY:
	case PACER_STEP_WALK:
		pacer_text_add(b, "Recovery: ");
		return;
	case PACER_STEP_RUN:
		break;
	}
	if (s->reps > 0 && s->segments > 0)
		pacer_text_add(b, "Rep %u of %u, segment %u of %u: ", s->rep, s->reps, s->segment,
			 s->segments);
	else if (s->segments > 0)
		pacer_text_add(b, "Segment %u of %u: ", s->segment, s->segments);
	else if (s->reps > 0)
		pacer_text_add(b, "Rep %u of %u: ", s->rep, s->reps);
}

/* The word for a step without a pace target; NULL for plain running. */
static const char *kind_phrase(PacerStepKind kind)
{
	switch (kind) {
	case PACER_STEP_REST:
		return "rest";
	case PACER_STEP_JOG:
		return "jog";
	case PACER_STEP_WALK:
		return "walk";
	case PACER_STEP_WARMUP:
	case PACER_STEP_COOLDOWN:
	case PACER_STEP_RECOVERY:
		return "easy";
	case PACER_STEP_RUN:
		break;
	}
	return NULL;
}

/* The pace part; returns whether it wrote anything. */
static bool describe_pace_target(PacerText *b, const PacerStep *s, bool imperial)
{
	const PacerTarget *t = &s->target;
	const char *unit = imperial ? "/mi" : "/km", *word = kind_phrase(s->kind);

	if (t->hill) {
		pacer_text_add(b, " hill effort");
	} else if (!t->has_pace) {
		if (!word)
			return false;
		pacer_text_add(b, " %s", word);
	} else if (t->has_pace_zone && t->pace_zone == PACER_PACE_E) {
		pacer_text_add(b, " easy");
	} else if (!(t->pace_fast_s_per_km > 0)) {
		pacer_text_add(b, " all-out");
	} else if (t->pace_range) {
		pacer_text_add(b, " at ");
		describe_pace(b, t->pace_fast_s_per_km, imperial);
		pacer_text_add(b, " to ");
		describe_pace(b, t->pace_slow_s_per_km, imperial);
		pacer_text_add(b, "%s", unit);
	} else {
		pacer_text_add(b, " at ");
		describe_pace(b, (t->pace_fast_s_per_km + t->pace_slow_s_per_km) / 2, imperial);
		pacer_text_add(b, "%s", unit);
	}
	return true;
}

static void describe_hr(PacerText *b, const PacerTarget *t, bool first)
{
	if (t->hr_zone > 0)
		pacer_text_add(b, first ? " in heart-rate zone %u" : ", heart-rate zone %u", t->hr_zone);
	else if (t->hr_max_bpm > 0)
		pacer_text_add(b, first ? " at heart rate %ld to %ld" : ", heart rate %ld to %ld",
			 lround(t->hr_min_bpm), lround(t->hr_max_bpm));
	else
		pacer_text_add(b, first ? " at heart rate %ld or more" : ", heart rate %ld or more",
			 lround(t->hr_min_bpm));
}

void pacer_step_describe(const PacerStep *step, bool imperial, char *buf, size_t size)
{
	PacerText b = {buf, size, 0};
	bool first;

	if (!buf || size == 0)
		return;
	buf[0] = '\0';
	if (!step)
		return;
	describe_prefix(&b, step);
	if (step->end == PACER_STEP_END_TIME)
		describe_duration(&b, step->duration_s);
	else
		describe_distance(&b, step->distance_m, imperial);
	first = !describe_pace_target(&b, step, imperial);
	if (step->target.has_hr) {
		describe_hr(&b, &step->target, first);
		first = false;
	}
	if (step->target.has_cadence)
		pacer_text_add(&b, first ? " at cadence %ld to %ld" : ", cadence %ld to %ld",
			 lround(step->target.cadence_min_spm),
			 lround(step->target.cadence_max_spm));
	pacer_text_add(&b, ".");
}
