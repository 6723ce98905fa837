/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Effort zones: heart-rate zones (% of max HR, Karvonen, Friel's LTHR zones)
 * and pace zones from a race result by the Daniels-Gilbert equations (VDOT,
 * E/M/T/I/R training paces, race predictions), with Riegel's formula for
 * distances the VDOT model should not be trusted with.
 *
 * All paces are seconds per km, times seconds, distances metres.
 */

#include <stdbool.h>
#include <stddef.h>

typedef struct {
	int max_hr;     /* bpm; 0 when unknown */
	int resting_hr; /* bpm; 0 when unknown */
	int lthr;       /* lactate threshold HR, bpm; 0 when unknown */
	int age;        /* years; 0 when unknown */
} PacerAthlete;

typedef enum {
	PACER_HR_MODEL_PERCENT_MAX, /* 50-60-70-80-90-100 % of max HR */
	PACER_HR_MODEL_KARVONEN,    /* the same fractions of the heart-rate reserve */
	PACER_HR_MODEL_LTHR,        /* Friel's seven running zones on LTHR */
} PacerHrModel;

#define PACER_HR_ZONES_MAX 7

typedef struct {
	unsigned zone;     /* 1-based index */
	const char *label; /* "Z1".."Z5", or "Z5a" "Z5b" "Z5c" for LTHR zones */
	const char *name;  /* "recovery", "endurance", ... */
	int min_bpm;       /* inclusive; -1 when the zone has no lower bound */
	int max_bpm;       /* inclusive; -1 when the zone has no upper bound */
} PacerHrZone;

typedef struct {
	PacerHrModel model;
	int max_hr; /* the max HR used (given, or Tanaka's estimate); 0 if unknown (LTHR only) */
	size_t n_zones;
	PacerHrZone zones[PACER_HR_ZONES_MAX];
} PacerHrZones;

/*
 * Tanaka, Monahan & Seals (2001): 208 - 0.7 * age, rounded half up (age 40 ->
 * 180). Returns -EINVAL for an age outside 5-110 years.
 */
int pacer_hr_max_tanaka(int age);

/*
 * Friel's LTHR zones when lthr is known, else Karvonen when resting and max HR
 * (given or from age) are known, else % of max HR. Returns 0, or -EINVAL when
 * nothing usable is known or a value is out of range (HR 25-250, age 5-110,
 * resting below max).
 *
 * Zone bounds are whole bpm rounded half up (LTHR 170: 85 % = 144.5 -> 145);
 * a zone's min is inclusive and its max is the next zone's min - 1. The
 * five-zone models start Z1 at 50 % and end Z5 at the max HR. Friel's Z1 has
 * no lower bound, and Z5c ends at the max HR when one is known (given or from
 * age) and is not below Z5c's min, else it has no upper bound either. Resting
 * HR and LTHR must both be below max HR, and resting below LTHR. *ret is
 * written only on success.
 */
int pacer_hr_zones_compute(const PacerAthlete *athlete, PacerHrZones *ret);

/*
 * The 1-based zone containing hr_bpm rounded half up to whole bpm; 0 below the
 * first zone (or for a HR that is not a number), the last zone above the top.
 */
unsigned pacer_hr_zones_find(const PacerHrZones *zones, double hr_bpm);

/* "percent_max", "karvonen", "lthr"; NULL for an unknown model. */
const char *pacer_hr_model_name(PacerHrModel model);

typedef enum {
	PACER_PACE_E,
	PACER_PACE_M,
	PACER_PACE_T,
	PACER_PACE_I,
	PACER_PACE_R,
} PacerPaceZoneId;

#define PACER_PACE_ZONE_COUNT 5

typedef struct {
	double fast_s_per_km;
	double slow_s_per_km;
} PacerPaceBand;

/*
 * Training paces (Daniels' Running Formula, 3rd ed., as reverse-engineered in
 * tlgs/vdot notebooks/2-analysis.ipynb), each pace(p) = 1000 / v(VDOT * p):
 *   E  fast = pace(0.7346), slow = pace(0.6304);
 *   M  centre = predicted marathon time / 42.195;
 *   T  centre = pace(0.8799);  I  centre = pace(0.9743);
 *   R  centre = pace(1.075 + 0.0015 * max(0, VDOT - 55)): 107.5 % of VO2max,
 *      more above VDOT 55, fitted to the table's R column (within 1.44 %
 *      for VDOT 34-85); the mile race pace that Daniels describes misses
 *      the table by up to 2.8 %.
 * M, T, I and R are bands of the centre +- 2 %: fast = centre * 0.98,
 * slow = centre * 1.02.
 */
typedef struct {
	double vdot;
	double race_distance_m; /* the race the zones come from */
	double race_time_s;
	PacerPaceBand zones[PACER_PACE_ZONE_COUNT];
} PacerPaceZones;

/* The VDOT values the model accepts (Daniels' tables cover 30-85). */
#define PACER_VDOT_MIN 10.0
#define PACER_VDOT_MAX 100.0

/*
 * VDOT of a race (Daniels & Gilbert 1979): VO2(d / t) / F(t). Returns -EINVAL
 * (as a double) unless the distance is positive, the time lasts 1-600 minutes
 * (the range pacer_vdot_race_time() searches) and the VDOT lies within
 * PACER_VDOT_MIN-PACER_VDOT_MAX.
 */
double pacer_vdot_from_race(double distance_m, double time_s);

/*
 * The time (s) that VDOT predicts for a distance: bisection on 1-600 minutes,
 * run until the bracket is under 0.0001 s, so that the result reads back as
 * the same VDOT to 1e-4 even at 1500 m. Returns -EINVAL (as a double) for a
 * VDOT or distance out of range or a time outside 1-600 minutes.
 */
double pacer_vdot_race_time(double vdot, double distance_m);

/* Riegel (1981): t2 = t1 * (d2 / d1)^1.06; -EINVAL (as a double) unless all are positive. */
double pacer_riegel_time(double t1_s, double d1_m, double d2_m);

/*
 * Computes VDOT and the E M T I R bands from a race. Returns 0, or -EINVAL
 * when pacer_vdot_from_race() rejects the race or the VDOT is so low (below
 * about 12) that a marathon would last over 600 minutes; *ret is written only
 * on success.
 */
int pacer_pace_zones_compute(double race_distance_m, double race_time_s, PacerPaceZones *ret);

/*
 * Predicted time for a distance: the VDOT model between 1500 m and the
 * marathon, Riegel from the athlete's race outside that range.
 */
double pacer_pace_zones_predict(const PacerPaceZones *zones, double distance_m);

/* "E" "M" "T" "I" "R"; NULL for an unknown id. */
const char *pacer_pace_zone_name(PacerPaceZoneId id);

/*
 * The zone (a PacerPaceZoneId) a pace falls in: the band that holds it, else
 * the nearer of the two bands around it (a tie goes to the slower zone); R for
 * anything faster than R. -1 for a pace slower than 1.15 x E's slow end, or
 * one that is not a positive number.
 */
int pacer_pace_zones_find(const PacerPaceZones *zones, double pace_s_per_km);

/*
 * "1500m", "1mi", "3k", "5k", "10k", "15k", "half", "marathon", or a number of
 * metres ("5000"); generally a decimal number followed by nothing or "m"
 * (metres), "k" or "km" (kilometres), or "mi" (miles). Case-insensitive.
 * half = 21097.5 m, marathon = 42195 m, mile = 1609.344 m. Returns 0, or
 * -EINVAL for an empty, zero, negative, signed, over 1000 km or malformed
 * distance.
 */
int pacer_parse_race_distance(const char *s, double *ret_m);

/*
 * "SS", "M:SS", "H:MM:SS", with optional decimals on the seconds ("19:57.4").
 * The first field has any number of digits (up to 9; "90:00" is 90 minutes),
 * each later field exactly two digits below 60. Returns 0, or -EINVAL for an
 * empty, zero or malformed duration.
 */
int pacer_parse_duration(const char *s, double *ret_s);
