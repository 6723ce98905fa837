/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* HR zones, VDOT pace zones, race predictions and their parsers; reference §3. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "pacer-zones.h"
#include "test-common.h"

#define MILE_M	   1609.344
#define HALF_M	   21097.5
#define MARATHON_M 42195.0

/* Asserts |actual - expected| <= rel * expected and says which value missed. */
#define ASSERT_WITHIN_PERCENT(what, vdot, actual, expected, percent)                               \
	do {                                                                                       \
		double err_ = fabs((actual) - (expected)) / (expected)*100.0;                      \
		if (err_ > (percent))                                                              \
			fprintf(stderr, "\nVDOT %.0f %s: %.1f vs table %.1f (%.2f %%)\n", vdot,    \
				what, actual, expected, err_);                                     \
		CU_ASSERT(err_ <= (percent));                                                      \
	} while (0)

static double hms(int h, int m, double s)
{
	return h * 3600.0 + m * 60.0 + s;
}

/* ---- heart rate ---- */

static void assert_mins(const PacerHrZones *z, const int *mins, size_t n)
{
	CU_ASSERT_EQUAL_FATAL(z->n_zones, n);
	for (size_t i = 0; i < n; i++) {
		CU_ASSERT_EQUAL(z->zones[i].zone, i + 1);
		CU_ASSERT_EQUAL(z->zones[i].min_bpm, mins[i]);
		if (i + 1 < n)
			CU_ASSERT_EQUAL(z->zones[i].max_bpm, mins[i + 1] - 1);
	}
}

static void test_tanaka(void)
{
	CU_ASSERT_EQUAL(pacer_hr_max_tanaka(40), 180);
	CU_ASSERT_EQUAL(pacer_hr_max_tanaka(35), 184); /* 183.5 rounds up */
	CU_ASSERT_EQUAL(pacer_hr_max_tanaka(20), 194);
	CU_ASSERT_EQUAL(pacer_hr_max_tanaka(5), 205);	/* 204.5 */
	CU_ASSERT_EQUAL(pacer_hr_max_tanaka(110), 131); /* 131 */
	CU_ASSERT_EQUAL(pacer_hr_max_tanaka(4), -EINVAL);
	CU_ASSERT_EQUAL(pacer_hr_max_tanaka(111), -EINVAL);
	CU_ASSERT_EQUAL(pacer_hr_max_tanaka(0), -EINVAL);
}

/* Polar's five zones: HRmax 190 -> 95/114/133/152/171/190 (reference §3.5). */
static void test_percent_max(void)
{
	static const int mins[] = {95, 114, 133, 152, 171};
	static const char *const names[] = {"recovery", "endurance", "tempo", "threshold",
					    "maximum"};
	PacerAthlete a = {.max_hr = 190};
	PacerHrZones z;

	CU_ASSERT_EQUAL_FATAL(pacer_hr_zones_compute(&a, &z), 0);
	CU_ASSERT_EQUAL(z.model, PACER_HR_MODEL_PERCENT_MAX);
	CU_ASSERT_STRING_EQUAL(pacer_hr_model_name(z.model), "percent_max");
	CU_ASSERT_EQUAL(z.max_hr, 190);
	assert_mins(&z, mins, 5);
	CU_ASSERT_EQUAL(z.zones[4].max_bpm, 190);
	for (size_t i = 0; i < 5; i++) {
		char label[4];

		snprintf(label, sizeof(label), "Z%zu", i + 1);
		CU_ASSERT_STRING_EQUAL(z.zones[i].label, label);
		CU_ASSERT_STRING_EQUAL(z.zones[i].name, names[i]);
	}
}

/* Karvonen: HRmax 190, rest 60 -> 125/138/151/164/177 (reference §3.5). */
static void test_karvonen(void)
{
	static const int mins[] = {125, 138, 151, 164, 177};
	PacerAthlete a = {.max_hr = 190, .resting_hr = 60};
	PacerHrZones z;

	CU_ASSERT_EQUAL_FATAL(pacer_hr_zones_compute(&a, &z), 0);
	CU_ASSERT_EQUAL(z.model, PACER_HR_MODEL_KARVONEN);
	CU_ASSERT_STRING_EQUAL(pacer_hr_model_name(z.model), "karvonen");
	assert_mins(&z, mins, 5);
	CU_ASSERT_EQUAL(z.zones[4].max_bpm, 190);
	CU_ASSERT_STRING_EQUAL(z.zones[0].name, "recovery");
	CU_ASSERT_STRING_EQUAL(z.zones[4].label, "Z5");
}

/*
 * Friel: LTHR 170 -> 144.5 / 153 / 161.5 / 170 / 175.1 / 180.2 bpm
 * (reference §3.5), rounded half up to 145 / 153 / 162 / 170 / 175 / 180.
 */
static void test_friel(void)
{
	static const int mins[] = {-1, 145, 153, 162, 170, 175, 180};
	static const char *const labels[] = {"Z1", "Z2", "Z3", "Z4", "Z5a", "Z5b", "Z5c"};
	static const char *const names[] = {
		"recovery",	    "aerobic",		 "tempo", "subthreshold", "superthreshold",
		"aerobic capacity", "anaerobic capacity"};
	PacerAthlete a = {.lthr = 170};
	PacerHrZones z;

	CU_ASSERT_EQUAL_FATAL(pacer_hr_zones_compute(&a, &z), 0);
	CU_ASSERT_EQUAL(z.model, PACER_HR_MODEL_LTHR);
	CU_ASSERT_STRING_EQUAL(pacer_hr_model_name(z.model), "lthr");
	CU_ASSERT_EQUAL(z.max_hr, 0);
	assert_mins(&z, mins, 7);
	CU_ASSERT_EQUAL(z.zones[0].max_bpm, 144);
	CU_ASSERT_EQUAL(z.zones[6].max_bpm, -1);
	for (size_t i = 0; i < 7; i++) {
		CU_ASSERT_STRING_EQUAL(z.zones[i].label, labels[i]);
		CU_ASSERT_STRING_EQUAL(z.zones[i].name, names[i]);
	}

	a.max_hr = 195;
	CU_ASSERT_EQUAL_FATAL(pacer_hr_zones_compute(&a, &z), 0);
	CU_ASSERT_EQUAL(z.zones[6].max_bpm, 195);
	CU_ASSERT_EQUAL(z.max_hr, 195);

	a = (PacerAthlete){.lthr = 170, .age = 40};
	CU_ASSERT_EQUAL_FATAL(pacer_hr_zones_compute(&a, &z), 0);
	CU_ASSERT_EQUAL(z.zones[6].max_bpm, 180);
	CU_ASSERT_EQUAL(z.max_hr, 180);

	/* a max HR below Z5c's floor is not used as its ceiling */
	a = (PacerAthlete){.lthr = 170, .max_hr = 178};
	CU_ASSERT_EQUAL_FATAL(pacer_hr_zones_compute(&a, &z), 0);
	CU_ASSERT_EQUAL(z.zones[6].min_bpm, 180);
	CU_ASSERT_EQUAL(z.zones[6].max_bpm, -1);
}

static void test_model_selection(void)
{
	PacerHrZones z;
	PacerAthlete a = {.age = 40};

	CU_ASSERT_EQUAL_FATAL(pacer_hr_zones_compute(&a, &z), 0);
	CU_ASSERT_EQUAL(z.model, PACER_HR_MODEL_PERCENT_MAX);
	CU_ASSERT_EQUAL(z.max_hr, 180);
	CU_ASSERT_EQUAL(z.zones[0].min_bpm, 90);
	CU_ASSERT_EQUAL(z.zones[4].max_bpm, 180);

	a = (PacerAthlete){.age = 40, .resting_hr = 60}; /* Karvonen on Tanaka's max */
	CU_ASSERT_EQUAL_FATAL(pacer_hr_zones_compute(&a, &z), 0);
	CU_ASSERT_EQUAL(z.model, PACER_HR_MODEL_KARVONEN);
	CU_ASSERT_EQUAL(z.zones[0].min_bpm, 120);

	a = (PacerAthlete){.age = 40, .max_hr = 190}; /* a measured max wins */
	CU_ASSERT_EQUAL_FATAL(pacer_hr_zones_compute(&a, &z), 0);
	CU_ASSERT_EQUAL(z.max_hr, 190);

	a = (PacerAthlete){.max_hr = 190, .resting_hr = 60, .lthr = 170}; /* LTHR wins */
	CU_ASSERT_EQUAL_FATAL(pacer_hr_zones_compute(&a, &z), 0);
	CU_ASSERT_EQUAL(z.model, PACER_HR_MODEL_LTHR);
	CU_ASSERT_EQUAL(z.n_zones, 7);
	CU_ASSERT_PTR_NULL(pacer_hr_model_name((PacerHrModel)42));
}

static void test_invalid_athletes(void)
{
	static const PacerAthlete bad[] = {
		{0},		    /* nothing known */
		{.resting_hr = 60}, /* no max HR */
		{.max_hr = 24},
		{.max_hr = 251},
		{.max_hr = -190},
		{.lthr = 251},
		{.lthr = 20},
		{.age = 4},
		{.age = 111},
		{.age = -40},
		{.max_hr = 190, .resting_hr = 20},  /* resting out of range */
		{.max_hr = 190, .resting_hr = 190}, /* resting not below max */
		{.max_hr = 150, .resting_hr = 160},
		{.max_hr = 170, .lthr = 170}, /* LTHR not below max */
		{.age = 40, .lthr = 185},     /* nor below Tanaka's max */
		{.age = 40, .resting_hr = 180},
		{.lthr = 150, .resting_hr = 150}, /* resting not below LTHR */
		{.max_hr = 190, .age = 200},	  /* a bad age is bad even when unused */
	};
	PacerHrZones z;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		pacer_test_poison(&z, sizeof(z));
		CU_ASSERT_EQUAL(pacer_hr_zones_compute(&bad[i], &z), -EINVAL);
		CU_ASSERT_TRUE(pacer_test_is_poisoned(&z, sizeof(z)));
	}
	CU_ASSERT_EQUAL(pacer_hr_zones_compute(NULL, &z), -EINVAL);
	CU_ASSERT_EQUAL(pacer_hr_zones_compute(&bad[2], NULL), -EINVAL);

	/* the limits themselves are fine */
	CU_ASSERT_EQUAL(
		pacer_hr_zones_compute(&(PacerAthlete){.max_hr = 250, .resting_hr = 25}, &z), 0);
	CU_ASSERT_EQUAL(pacer_hr_zones_compute(&(PacerAthlete){.age = 110}, &z), 0);
	CU_ASSERT_EQUAL(pacer_hr_zones_compute(&(PacerAthlete){.age = 5}, &z), 0);
}

/* find() on each side of every boundary. */
static void test_hr_find(void)
{
	PacerHrZones z;

	CU_ASSERT_EQUAL_FATAL(pacer_hr_zones_compute(&(PacerAthlete){.max_hr = 190}, &z), 0);
	CU_ASSERT_EQUAL(pacer_hr_zones_find(&z, 60), 0);
	CU_ASSERT_EQUAL(pacer_hr_zones_find(&z, 94), 0);
	CU_ASSERT_EQUAL(pacer_hr_zones_find(&z, 94.49), 0);
	CU_ASSERT_EQUAL(pacer_hr_zones_find(&z, 94.5), 1); /* rounds half up to 95 */
	CU_ASSERT_EQUAL(pacer_hr_zones_find(&z, 95), 1);
	for (size_t i = 1; i < z.n_zones; i++) {
		double min = z.zones[i].min_bpm;

		CU_ASSERT_EQUAL(pacer_hr_zones_find(&z, min - 1), i);
		CU_ASSERT_EQUAL(pacer_hr_zones_find(&z, min - 0.51), i);
		CU_ASSERT_EQUAL(pacer_hr_zones_find(&z, min - 0.5), i + 1);
		CU_ASSERT_EQUAL(pacer_hr_zones_find(&z, min), i + 1);
	}
	CU_ASSERT_EQUAL(pacer_hr_zones_find(&z, 190), 5);
	CU_ASSERT_EQUAL(pacer_hr_zones_find(&z, 205), 5); /* above the top: the last zone */
	CU_ASSERT_EQUAL(pacer_hr_zones_find(&z, NAN), 0);
	CU_ASSERT_EQUAL(pacer_hr_zones_find(&z, -5), 0);
	CU_ASSERT_EQUAL(pacer_hr_zones_find(NULL, 150), 0);

	CU_ASSERT_EQUAL_FATAL(pacer_hr_zones_compute(&(PacerAthlete){.lthr = 170}, &z), 0);
	CU_ASSERT_EQUAL(pacer_hr_zones_find(&z, 40), 1); /* Z1 has no floor */
	CU_ASSERT_EQUAL(pacer_hr_zones_find(&z, 144), 1);
	CU_ASSERT_EQUAL(pacer_hr_zones_find(&z, 144.5), 2);
	CU_ASSERT_EQUAL(pacer_hr_zones_find(&z, 161), 3);
	CU_ASSERT_EQUAL(pacer_hr_zones_find(&z, 161.5), 4);
	CU_ASSERT_EQUAL(pacer_hr_zones_find(&z, 169), 4);
	CU_ASSERT_EQUAL(pacer_hr_zones_find(&z, 170), 5);
	CU_ASSERT_EQUAL(pacer_hr_zones_find(&z, 174), 5);
	CU_ASSERT_EQUAL(pacer_hr_zones_find(&z, 175), 6);
	CU_ASSERT_EQUAL(pacer_hr_zones_find(&z, 179), 6);
	CU_ASSERT_EQUAL(pacer_hr_zones_find(&z, 180), 7);
	CU_ASSERT_EQUAL(pacer_hr_zones_find(&z, 230), 7);
}

/* ---- Daniels & Gilbert ---- */

/* Reverse checks from reference §3.1 and §3.3 (tolerance 0.02 VDOT). */
static void test_vdot_from_race(void)
{
	static const struct {
		double distance_m, time_s, vdot;
	} races[] = {
		{5000, 24 * 60 + 8, 39.94},
		{5000, 19 * 60 + 57, 49.95},
		{5000, 17 * 60 + 3, 59.99},
		{10000, 41 * 60 + 21, 49.97},
		{MARATHON_M, 3 * 3600 + 10 * 60 + 49, 49.95},
		{10000, 40 * 60, 51.94},
		{5000, 24 * 60 + 34, 39.11},
	};

	for (size_t i = 0; i < sizeof(races) / sizeof(races[0]); i++)
		CU_ASSERT_DOUBLE_EQUAL(pacer_vdot_from_race(races[i].distance_m, races[i].time_s),
				       races[i].vdot, 0.02);

	CU_ASSERT(pacer_vdot_from_race(0, 1200) < 0);
	CU_ASSERT(pacer_vdot_from_race(-5000, 1200) < 0);
	CU_ASSERT(pacer_vdot_from_race(5000, 0) < 0);
	CU_ASSERT(pacer_vdot_from_race(5000, 59) < 0);	      /* under a minute */
	CU_ASSERT(pacer_vdot_from_race(42195, 601 * 60) < 0); /* over 600 minutes */
	CU_ASSERT(pacer_vdot_from_race(5000, 60) < 0);	      /* VDOT far above 100 */
	CU_ASSERT(pacer_vdot_from_race(5000, 5 * 3600) < 0);  /* walking: VDOT below 10 */
	CU_ASSERT(pacer_vdot_from_race(NAN, 1200) < 0);
	CU_ASSERT(pacer_vdot_from_race(5000, INFINITY) < 0);
}

/*
 * Daniels' Running Formula, 3rd edition: the VDOT race and training-pace
 * tables as transcribed in tlgs/vdot notebooks/2-analysis.ipynb (raw_races,
 * raw_paces1, raw_paces2); reference §3.3. Paces in s/km; R is the 400 m
 * time x 2.5.
 */
static const struct {
	double vdot;
	double t5k, t10k, half, marathon;
	double e_fast, e_slow, m, t, i, r;
} daniels[] = {
	{40, 24 * 60 + 8, 50 * 60 + 3, 1 * 3600 + 50 * 60 + 59, 3 * 3600 + 49 * 60 + 45, 356, 398,
	 329, 306, 282, 104 * 2.5},
	{45, 21 * 60 + 50, 45 * 60 + 16, 1 * 3600 + 40 * 60 + 20, 3 * 3600 + 28 * 60 + 26, 323, 363,
	 297, 278, 256, 94 * 2.5},
	{49, 20 * 60 + 18, 42 * 60 + 4, 1 * 3600 + 33 * 60 + 12, 3 * 3600 + 14 * 60 + 6, 301, 340,
	 276, 260, 239, 88 * 2.5},
	{50, 19 * 60 + 57, 41 * 60 + 21, 1 * 3600 + 31 * 60 + 35, 3 * 3600 + 10 * 60 + 49, 296, 334,
	 271, 255, 235, 87 * 2.5},
	{55, 18 * 60 + 22, 38 * 60 + 6, 1 * 3600 + 24 * 60 + 18, 2 * 3600 + 56 * 60 + 1, 274, 310,
	 250, 236, 217, 81 * 2.5},
	{60, 17 * 60 + 3, 35 * 60 + 22, 1 * 3600 + 18 * 60 + 9, 2 * 3600 + 43 * 60 + 25, 255, 289,
	 232, 220, 203, 75 * 2.5},
};

static double centre(const PacerPaceBand *b)
{
	return (b->fast_s_per_km + b->slow_s_per_km) / 2.0;
}

static void test_daniels_race_table(void)
{
	for (size_t k = 0; k < sizeof(daniels) / sizeof(daniels[0]); k++) {
		double v = daniels[k].vdot;

		ASSERT_WITHIN_PERCENT("5K", v, pacer_vdot_race_time(v, 5000), daniels[k].t5k, 1.0);
		ASSERT_WITHIN_PERCENT("10K", v, pacer_vdot_race_time(v, 10000), daniels[k].t10k,
				      1.0);
		ASSERT_WITHIN_PERCENT("half", v, pacer_vdot_race_time(v, HALF_M), daniels[k].half,
				      1.0);
		ASSERT_WITHIN_PERCENT("marathon", v, pacer_vdot_race_time(v, MARATHON_M),
				      daniels[k].marathon, 1.0);
	}
}

/* Zones from the table's own 5K time would carry its rounding; use the exact VDOT. */
static void zones_for_vdot(double vdot, PacerPaceZones *z)
{
	double t = pacer_vdot_race_time(vdot, 5000);

	CU_ASSERT_FATAL(t > 0);
	CU_ASSERT_EQUAL_FATAL(pacer_pace_zones_compute(5000, t, z), 0);
	CU_ASSERT_DOUBLE_EQUAL(z->vdot, vdot, 1e-4);
}

static void test_daniels_pace_table(void)
{
	for (size_t k = 0; k < sizeof(daniels) / sizeof(daniels[0]); k++) {
		double v = daniels[k].vdot;
		PacerPaceZones z;

		zones_for_vdot(v, &z);
		ASSERT_WITHIN_PERCENT("E fast", v, z.zones[PACER_PACE_E].fast_s_per_km,
				      daniels[k].e_fast, 1.0);
		ASSERT_WITHIN_PERCENT("E slow", v, z.zones[PACER_PACE_E].slow_s_per_km,
				      daniels[k].e_slow, 1.0);
		ASSERT_WITHIN_PERCENT("M", v, centre(&z.zones[PACER_PACE_M]), daniels[k].m, 1.0);
		ASSERT_WITHIN_PERCENT("T", v, centre(&z.zones[PACER_PACE_T]), daniels[k].t, 1.0);
		ASSERT_WITHIN_PERCENT("I", v, centre(&z.zones[PACER_PACE_I]), daniels[k].i, 1.0);
		ASSERT_WITHIN_PERCENT("R", v, centre(&z.zones[PACER_PACE_R]), daniels[k].r, 1.0);
	}
}

/*
 * The whole R column (400 m, s) of the same table for VDOT 34-85: the R rule
 * is fitted to it and stays within 1.44 %; its 400 m times are rounded to the
 * second, worth up to 0.9 %.
 */
static void test_daniels_r_column(void)
{
	static const double r400[] = {
		120, 117, 114, 111, 108, 106, 104, 102, 100, 98, 96, 94, 92, /* 34-46 */
		90,  89,  88,  87,  86,	 85,  84,  82,	81,  80, 79, 77, 76, /* 47-59 */
		75,  74,  73,  72,  71,	 70,  69,  68,	67,  66, 65, 64, 63, /* 60-72 */
		63,  62,  61,  60,  59,	 59,  58,  58,	57,  56, 56, 55, 55, /* 73-85 */
	};

	CU_ASSERT_EQUAL_FATAL(sizeof(r400) / sizeof(r400[0]), 85 - 34 + 1);
	for (size_t k = 0; k < sizeof(r400) / sizeof(r400[0]); k++) {
		double v = 34.0 + (double)k;
		PacerPaceZones z;

		zones_for_vdot(v, &z);
		ASSERT_WITHIN_PERCENT("R", v, centre(&z.zones[PACER_PACE_R]), r400[k] * 2.5, 1.45);
	}
}

/* M T I R are the centre +- 2 %; M is the predicted marathon pace. */
static void test_pace_bands(void)
{
	PacerPaceZones z;
	double m_centre;

	zones_for_vdot(50, &z);
	for (int id = PACER_PACE_M; id <= PACER_PACE_R; id++) {
		const PacerPaceBand *b = &z.zones[id];

		CU_ASSERT_DOUBLE_EQUAL(b->fast_s_per_km, centre(b) * 0.98, 1e-9);
		CU_ASSERT_DOUBLE_EQUAL(b->slow_s_per_km, centre(b) * 1.02, 1e-9);
	}
	m_centre = pacer_vdot_race_time(50, MARATHON_M) / 42.195;
	CU_ASSERT_DOUBLE_EQUAL(centre(&z.zones[PACER_PACE_M]), m_centre, 1e-9);
	/* every zone faster than the one before, and the bands do not overlap */
	for (int id = PACER_PACE_E; id < PACER_PACE_R; id++)
		CU_ASSERT(z.zones[id + 1].slow_s_per_km < z.zones[id].fast_s_per_km);
	CU_ASSERT_DOUBLE_EQUAL(z.race_distance_m, 5000, 1e-9);
	CU_ASSERT_STRING_EQUAL(pacer_pace_zone_name(PACER_PACE_E), "E");
	CU_ASSERT_STRING_EQUAL(pacer_pace_zone_name(PACER_PACE_M), "M");
	CU_ASSERT_STRING_EQUAL(pacer_pace_zone_name(PACER_PACE_T), "T");
	CU_ASSERT_STRING_EQUAL(pacer_pace_zone_name(PACER_PACE_I), "I");
	CU_ASSERT_STRING_EQUAL(pacer_pace_zone_name(PACER_PACE_R), "R");
	CU_ASSERT_PTR_NULL(pacer_pace_zone_name((PacerPaceZoneId)5));
}

static void test_round_trip(void)
{
	static const double distances[] = {1500,  MILE_M, 3000,	  5000,
					   10000, 15000,  HALF_M, MARATHON_M};

	for (double v = 30; v <= 85; v += 0.5) {
		for (size_t i = 0; i < sizeof(distances) / sizeof(distances[0]); i++) {
			double t = pacer_vdot_race_time(v, distances[i]);

			CU_ASSERT_FATAL(t > 0);
			CU_ASSERT_DOUBLE_EQUAL(pacer_vdot_from_race(distances[i], t), v, 1e-3);
		}
	}
	CU_ASSERT(pacer_vdot_race_time(9, 5000) < 0);
	CU_ASSERT(pacer_vdot_race_time(101, 5000) < 0);
	CU_ASSERT(pacer_vdot_race_time(50, 0) < 0);
	CU_ASSERT(pacer_vdot_race_time(50, 200) < 0);	 /* faster than a minute */
	CU_ASSERT(pacer_vdot_race_time(30, 200000) < 0); /* slower than 600 minutes */
	CU_ASSERT(pacer_vdot_race_time(NAN, 5000) < 0);
}

/* Reference §3.4. */
static void test_riegel(void)
{
	CU_ASSERT_DOUBLE_EQUAL(pacer_riegel_time(2400, 10000, HALF_M), hms(1, 28, 15), 2);
	CU_ASSERT_DOUBLE_EQUAL(pacer_riegel_time(2400, 10000, MARATHON_M), hms(3, 4, 0), 2);
	CU_ASSERT_DOUBLE_EQUAL(pacer_riegel_time(1200, 5000, 10000), hms(0, 41, 42), 2);
	CU_ASSERT_DOUBLE_EQUAL(pacer_riegel_time(1200, 5000, 5000), 1200, 1e-9);
	CU_ASSERT(pacer_riegel_time(0, 5000, 10000) < 0);
	CU_ASSERT(pacer_riegel_time(1200, 0, 10000) < 0);
	CU_ASSERT(pacer_riegel_time(1200, 5000, -1) < 0);
}

static void test_predict(void)
{
	PacerPaceZones z;

	CU_ASSERT_EQUAL_FATAL(pacer_pace_zones_compute(10000, 2400, &z), 0);
	/* the VDOT model from 1500 m to the marathon */
	CU_ASSERT_DOUBLE_EQUAL(pacer_pace_zones_predict(&z, 10000), 2400, 0.01);
	CU_ASSERT_DOUBLE_EQUAL(pacer_pace_zones_predict(&z, 1500),
			       pacer_vdot_race_time(z.vdot, 1500), 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(pacer_pace_zones_predict(&z, MARATHON_M),
			       pacer_vdot_race_time(z.vdot, MARATHON_M), 1e-9);
	/* Riegel from the race itself outside it */
	CU_ASSERT_DOUBLE_EQUAL(pacer_pace_zones_predict(&z, 800),
			       pacer_riegel_time(2400, 10000, 800), 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(pacer_pace_zones_predict(&z, 1499.9),
			       pacer_riegel_time(2400, 10000, 1499.9), 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(pacer_pace_zones_predict(&z, 50000),
			       pacer_riegel_time(2400, 10000, 50000), 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(pacer_pace_zones_predict(&z, 50000), 2400 * pow(5, 1.06), 1e-6);
	CU_ASSERT(pacer_pace_zones_predict(&z, 0) < 0);
	CU_ASSERT(pacer_pace_zones_predict(NULL, 5000) < 0);

	/* an 800 m race: zones from VDOT, 5K from the model, 400 m by Riegel */
	CU_ASSERT_EQUAL_FATAL(pacer_pace_zones_compute(800, 150, &z), 0);
	CU_ASSERT_DOUBLE_EQUAL(pacer_pace_zones_predict(&z, 400), 150 * pow(0.5, 1.06), 1e-6);
	CU_ASSERT_DOUBLE_EQUAL(pacer_pace_zones_predict(&z, 5000),
			       pacer_vdot_race_time(z.vdot, 5000), 1e-9);
}

static void test_pace_zones_compute_rejects(void)
{
	PacerPaceZones z;

	pacer_test_poison(&z, sizeof(z));
	CU_ASSERT_EQUAL(pacer_pace_zones_compute(0, 1200, &z), -EINVAL);
	CU_ASSERT_EQUAL(pacer_pace_zones_compute(5000, 0, &z), -EINVAL);
	CU_ASSERT_EQUAL(pacer_pace_zones_compute(5000, 60, &z), -EINVAL);
	CU_ASSERT_EQUAL(pacer_pace_zones_compute(5000, 6 * 3600, &z), -EINVAL);
	/* VDOT 10.65 is valid, but its marathon would take over 600 minutes */
	CU_ASSERT(pacer_vdot_from_race(5000, 68 * 60) > 10);
	CU_ASSERT_EQUAL(pacer_pace_zones_compute(5000, 68 * 60, &z), -EINVAL);
	CU_ASSERT_TRUE(pacer_test_is_poisoned(&z, sizeof(z)));
	CU_ASSERT_EQUAL(pacer_pace_zones_compute(5000, 1200, NULL), -EINVAL);
}

static void test_pace_find(void)
{
	PacerPaceZones z;
	const PacerPaceBand *b = z.zones;

	zones_for_vdot(50, &z);
	for (int id = PACER_PACE_E; id <= PACER_PACE_R; id++) {
		CU_ASSERT_EQUAL(pacer_pace_zones_find(&z, b[id].fast_s_per_km), id);
		CU_ASSERT_EQUAL(pacer_pace_zones_find(&z, b[id].slow_s_per_km), id);
		CU_ASSERT_EQUAL(pacer_pace_zones_find(&z, centre(&b[id])), id);
	}
	/* between two bands: the nearer one (exactly halfway, the slower one) */
	for (int id = PACER_PACE_E; id < PACER_PACE_R; id++) {
		double gap_slow = b[id].fast_s_per_km, gap_fast = b[id + 1].slow_s_per_km;

		CU_ASSERT_EQUAL(pacer_pace_zones_find(&z, gap_slow - 0.1), id);
		CU_ASSERT_EQUAL(pacer_pace_zones_find(&z, gap_fast + 0.1), id + 1);
		CU_ASSERT_EQUAL(pacer_pace_zones_find(&z, (gap_slow + gap_fast) / 2 + 0.01), id);
		CU_ASSERT_EQUAL(pacer_pace_zones_find(&z, (gap_slow + gap_fast) / 2 - 0.01),
				id + 1);
	}
	/* slower than E: E up to 1.15 x its slow end, then nothing */
	CU_ASSERT_EQUAL(pacer_pace_zones_find(&z, b[PACER_PACE_E].slow_s_per_km * 1.1),
			PACER_PACE_E);
	CU_ASSERT_EQUAL(pacer_pace_zones_find(&z, b[PACER_PACE_E].slow_s_per_km * 1.15),
			PACER_PACE_E);
	CU_ASSERT_EQUAL(pacer_pace_zones_find(&z, b[PACER_PACE_E].slow_s_per_km * 1.16), -1);
	CU_ASSERT_EQUAL(pacer_pace_zones_find(&z, 900), -1);
	/* faster than R: R */
	CU_ASSERT_EQUAL(pacer_pace_zones_find(&z, b[PACER_PACE_R].fast_s_per_km - 30),
			PACER_PACE_R);
	CU_ASSERT_EQUAL(pacer_pace_zones_find(&z, 1), PACER_PACE_R);
	CU_ASSERT_EQUAL(pacer_pace_zones_find(&z, 0), -1);
	CU_ASSERT_EQUAL(pacer_pace_zones_find(&z, -250), -1);
	CU_ASSERT_EQUAL(pacer_pace_zones_find(&z, NAN), -1);
	CU_ASSERT_EQUAL(pacer_pace_zones_find(&z, INFINITY), -1);
	CU_ASSERT_EQUAL(pacer_pace_zones_find(NULL, 250), -1);
	/* reference §3.3: T at VDOT 50 is 4:15/km */
	CU_ASSERT_EQUAL(pacer_pace_zones_find(&z, 255), PACER_PACE_T);
}

/* Hand-made bands with exact values, for the halfway tie. */
static void test_pace_find_tie(void)
{
	PacerPaceZones z = {
		.vdot = 50,
		.zones = {{300, 340}, {270, 280}, {250, 260}, {230, 240}, {210, 220}},
	};

	CU_ASSERT_EQUAL(pacer_pace_zones_find(&z, 290), PACER_PACE_E);
	CU_ASSERT_EQUAL(pacer_pace_zones_find(&z, 289.5), PACER_PACE_M);
	CU_ASSERT_EQUAL(pacer_pace_zones_find(&z, 265), PACER_PACE_M);
	CU_ASSERT_EQUAL(pacer_pace_zones_find(&z, 245), PACER_PACE_T);
	CU_ASSERT_EQUAL(pacer_pace_zones_find(&z, 225), PACER_PACE_I);
	CU_ASSERT_EQUAL(pacer_pace_zones_find(&z, 209.9), PACER_PACE_R);
	CU_ASSERT_EQUAL(pacer_pace_zones_find(&z, 390.9), PACER_PACE_E); /* 340 x 1.15 = 391 */
	CU_ASSERT_EQUAL(pacer_pace_zones_find(&z, 391.1), -1);
}

/* ---- parsing ---- */

static void test_parse_race_distance(void)
{
	static const struct {
		const char *s;
		double m;
	} good[] = {
		{"1500m", 1500},
		{"1mi", MILE_M},
		{"3k", 3000},
		{"5k", 5000},
		{"10k", 10000},
		{"15k", 15000},
		{"half", HALF_M},
		{"marathon", MARATHON_M},
		{"5000", 5000},
		{"800", 800},
		{"5K", 5000},
		{"HALF", HALF_M},
		{"Marathon", MARATHON_M},
		{"1MI", MILE_M},
		{"10km", 10000},
		{"10KM", 10000},
		{"400m", 400},
		{"2mi", 2 * MILE_M},
		{"1.5k", 1500},
		{"21.0975k", HALF_M},
		{"42.195km", MARATHON_M},
		{"0.5mi", MILE_M / 2},
		{"100k", 100000},
	};
	static const char *const bad[] = {
		"",	 "0",	    "0k",    "0.0",  "-5k",   "+5k",	     "5 k", " 5k",
		"5k ",	 "k",	    "m",     "mi",   "5kk",   "5x",	     "5.",  ".5k",
		"5.k",	 "abc",	    "halff", "hal",  "1e3",   "0x10",	     "inf", "nan",
		"5,000", "5000000", "1001k", "5:00", "5mile", "10000000000",
	};
	double m;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		m = -1;
		CU_ASSERT_EQUAL(pacer_parse_race_distance(good[i].s, &m), 0);
		CU_ASSERT_DOUBLE_EQUAL(m, good[i].m, 1e-6);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r;

		m = -1;
		r = pacer_parse_race_distance(bad[i], &m);
		if (r != -EINVAL)
			fprintf(stderr, "\naccepted distance '%s'\n", bad[i]);
		CU_ASSERT_EQUAL(r, -EINVAL);
		CU_ASSERT_EQUAL(m, -1);
	}
	CU_ASSERT_EQUAL(pacer_parse_race_distance(NULL, &m), -EINVAL);
}

static void test_parse_duration(void)
{
	static const struct {
		const char *s;
		double t;
	} good[] = {
		{"45", 45},	     {"1:30", 90},	{"19:57", 1197},     {"0:59", 59},
		{"90:00", 5400},     {"1:00:00", 3600}, {"3:10:49", 11449},  {"1:28:15", 5295},
		{"10:00:00", 36000}, {"59.5", 59.5},	{"4:05.25", 245.25}, {"2:03:59.9", 7439.9},
		{"01:02", 62},	     {"0:00:01", 1},	{"0.1", 0.1},
	};
	static const char *const bad[] = {
		"",	  "0",	   "0:00",  "0:00:00", "0.0",	  ":30",	"1:",
		"1:5",	  "1:60",  "1:99",  "1:005",   "1:00:60", "1:60:00",	"1:00:00:00",
		"1.5:00", "1:00.", ".5",    "-1:00",   "+1:00",	  "1:0a",	"abc",
		" 1:00",  "1:00 ", "1::00", "1:00:",   "5min",	  "1234567890",
	};
	double t;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		t = -1;
		CU_ASSERT_EQUAL(pacer_parse_duration(good[i].s, &t), 0);
		CU_ASSERT_DOUBLE_EQUAL(t, good[i].t, 1e-9);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r;

		t = -1;
		r = pacer_parse_duration(bad[i], &t);
		if (r != -EINVAL)
			fprintf(stderr, "\naccepted duration '%s'\n", bad[i]);
		CU_ASSERT_EQUAL(r, -EINVAL);
		CU_ASSERT_EQUAL(t, -1);
	}
	CU_ASSERT_EQUAL(pacer_parse_duration(NULL, &t), -EINVAL);
}

int main(void)
{
	static const PacerTest tests[] = {
		{"Tanaka max HR", test_tanaka},
		{"% of max HR zones", test_percent_max},
		{"Karvonen zones", test_karvonen},
		{"Friel LTHR zones", test_friel},
		{"HR model selection", test_model_selection},
		{"invalid athletes", test_invalid_athletes},
		{"HR zone at every boundary", test_hr_find},
		{"VDOT of known races", test_vdot_from_race},
		{"Daniels race table VDOT 40-60", test_daniels_race_table},
		{"Daniels pace table VDOT 40-60", test_daniels_pace_table},
		{"Daniels R column VDOT 34-85", test_daniels_r_column},
		{"pace bands", test_pace_bands},
		{"VDOT round trip", test_round_trip},
		{"Riegel", test_riegel},
		{"predictions", test_predict},
		{"pace zones reject bad races", test_pace_zones_compute_rejects},
		{"pace zone of a pace", test_pace_find},
		{"pace zone halfway between bands", test_pace_find_tie},
		{"race distances", test_parse_race_distance},
		{"durations", test_parse_duration},
		{NULL, NULL},
	};

	return pacer_test_main("zones", tests);
}
