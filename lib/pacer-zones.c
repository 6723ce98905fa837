/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "pacer-zones.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>

#define HR_MIN	25
#define HR_MAX	250
#define AGE_MIN 5
#define AGE_MAX 110

#define MILE_M	       1609.344
#define HALF_M	       21097.5
#define MARATHON_M     42195.0
#define MAX_DISTANCE_M 1e6

/* The VDOT model is trusted for race predictions between these distances. */
#define VDOT_PREDICT_MIN_M 1500.0
#define VDOT_PREDICT_MAX_M MARATHON_M

#define RACE_MIN_MIN	   1.0
#define RACE_MAX_MIN	   600.0
#define BISECT_TOLERANCE_S 1e-4
#define BISECT_MAX_STEPS   64

/*
 * Fractions of VDOT for the training paces, from the reverse engineering of
 * Daniels' 3rd-edition tables in tlgs/vdot notebooks/2-analysis.ipynb.
 *
 * R: Daniels calls R pace "about mile race pace", but the mile time the
 * equations predict misses the table's R column (400 m times) by +2.0 % at
 * VDOT 40, -1.5 % at VDOT 60 and up to 2.8 % over VDOT 34-85. 107.5 % of
 * VO2max (vdot.fit's R fraction, as quoted in the same notebook) is within
 * 0.81 % at VDOT 40, 45, 49, 50, 55 and 60, but the table's R gets faster
 * than any constant fraction above VDOT 60: 4.0 % slow at VDOT 82. Raising
 * the fraction by 0.0015 per VDOT point above 55 (a minimax fit to VDOT
 * 34-85) keeps every row within 1.44 % and those six within 0.81 %; the
 * rest is the table's own texture: its R is the I time per 400 m minus a
 * whole 6, 7 or 8 s, rounded to the second (half a second is 0.4-0.9 % of
 * 55-128 s).
 */
#define E_FAST_FRACTION	 0.7346
#define E_SLOW_FRACTION	 0.6304
#define T_FRACTION	 0.8799
#define I_FRACTION	 0.9743
#define R_FRACTION	 1.075
#define R_FRACTION_SLOPE 0.0015
#define R_FRACTION_KNEE	 55.0

/* Half-width of the M T I R bands around their centre pace. */
#define BAND_HALF_WIDTH 0.02
/* Paces up to this factor slower than E's slow end still count as E. */
#define E_SLOW_MARGIN 1.15

#define RIEGEL_EXPONENT 1.06

/* ---- heart rate ---- */

static int div100_round_half_up(int x)
{
	return (x + 50) / 100;
}

int pacer_hr_max_tanaka(int age)
{
	if (age < AGE_MIN || age > AGE_MAX)
		return -EINVAL;
	/* 208 - 0.7 age in tenths, rounded half up: 2080 - 7 age is positive */
	return (2080 - 7 * age + 5) / 10;
}

static bool hr_ok(int hr)
{
	return hr == 0 || (hr >= HR_MIN && hr <= HR_MAX);
}

static int validate_athlete(const PacerAthlete *a, int *ret_max)
{
	int max = a->max_hr;

	if (!hr_ok(a->max_hr) || !hr_ok(a->resting_hr) || !hr_ok(a->lthr))
		return -EINVAL;
	if (a->age != 0 && (a->age < AGE_MIN || a->age > AGE_MAX))
		return -EINVAL;
	if (max == 0 && a->age != 0)
		max = pacer_hr_max_tanaka(a->age);
	if (max != 0 && a->resting_hr != 0 && a->resting_hr >= max)
		return -EINVAL;
	if (max != 0 && a->lthr != 0 && a->lthr >= max)
		return -EINVAL;
	if (a->lthr != 0 && a->resting_hr != 0 && a->resting_hr >= a->lthr)
		return -EINVAL;
	*ret_max = max;
	return 0;
}

static const char *const five_zone_names[] = {
	"recovery", "endurance", "tempo", "threshold", "maximum",
};
static const char *const five_zone_labels[] = {"Z1", "Z2", "Z3", "Z4", "Z5"};

static const char *const friel_names[] = {
	"recovery",	      "aerobic",	"tempo",
	"subthreshold",	      "superthreshold", "aerobic capacity",
	"anaerobic capacity",
};
static const char *const friel_labels[] = {"Z1", "Z2", "Z3", "Z4", "Z5a", "Z5b", "Z5c"};
/* Lower bounds of Friel's run zones Z2..Z5c, % of LTHR */
static const int friel_percent[] = {85, 90, 95, 100, 103, 106};

/* Lower bounds of Z1..Z5, % of max HR or of the heart-rate reserve */
static const int five_zone_percent[] = {50, 60, 70, 80, 90};

/* Fills labels, names and the max of every zone from the next zone's min. */
static void finish_zones(PacerHrZones *z, const char *const *labels, const char *const *names,
			 int top_max)
{
	for (size_t i = 0; i < z->n_zones; i++) {
		z->zones[i].zone = (unsigned)(i + 1);
		z->zones[i].label = labels[i];
		z->zones[i].name = names[i];
		z->zones[i].max_bpm = i + 1 < z->n_zones ? z->zones[i + 1].min_bpm - 1 : top_max;
	}
}

static void compute_friel(int lthr, int max, PacerHrZones *z)
{
	int top_min;

	z->model = PACER_HR_MODEL_LTHR;
	z->n_zones = 7;
	z->zones[0].min_bpm = -1;
	for (size_t i = 1; i < z->n_zones; i++)
		z->zones[i].min_bpm = div100_round_half_up(lthr * friel_percent[i - 1]);
	top_min = z->zones[z->n_zones - 1].min_bpm;
	/* a max HR below Z5c's floor contradicts the LTHR: do not cap with it */
	finish_zones(z, friel_labels, friel_names, max >= top_min ? max : -1);
}

/* rest = 0 gives % of max HR; otherwise Karvonen's % of the heart-rate reserve. */
static void compute_five(int rest, int max, PacerHrZones *z)
{
	z->model = rest != 0 ? PACER_HR_MODEL_KARVONEN : PACER_HR_MODEL_PERCENT_MAX;
	z->n_zones = 5;
	for (size_t i = 0; i < z->n_zones; i++)
		z->zones[i].min_bpm =
			rest + div100_round_half_up((max - rest) * five_zone_percent[i]);
	finish_zones(z, five_zone_labels, five_zone_names, max);
}

int pacer_hr_zones_compute(const PacerAthlete *athlete, PacerHrZones *ret)
{
	PacerHrZones z = {0};
	int max = 0, r;

	if (!athlete || !ret)
		return -EINVAL;
	r = validate_athlete(athlete, &max);
	if (r < 0)
		return r;
	if (athlete->lthr != 0)
		compute_friel(athlete->lthr, max, &z);
	else if (max != 0)
		compute_five(athlete->resting_hr, max, &z);
	else
		return -EINVAL;
	z.max_hr = max;
	*ret = z;
	return 0;
}

unsigned pacer_hr_zones_find(const PacerHrZones *zones, double hr_bpm)
{
	int hr;

	if (!zones || zones->n_zones == 0 || !isfinite(hr_bpm) || hr_bpm < 0 || hr_bpm > 1000)
		return 0;
	hr = (int)(hr_bpm + 0.5); /* floor() for a non-negative value, without the call */
	for (size_t i = 0; i < zones->n_zones; i++) {
		const PacerHrZone *zone = &zones->zones[i];

		if (zone->min_bpm != -1 && hr < zone->min_bpm)
			return (unsigned)i; /* below zone 1 only: the zones are contiguous */
		if (zone->max_bpm == -1 || hr <= zone->max_bpm)
			return zone->zone;
	}
	return zones->zones[zones->n_zones - 1].zone;
}

const char *pacer_hr_model_name(PacerHrModel model)
{
	switch (model) {
	case PACER_HR_MODEL_PERCENT_MAX:
		return "percent_max";
	case PACER_HR_MODEL_KARVONEN:
		return "karvonen";
	case PACER_HR_MODEL_LTHR:
		return "lthr";
	}
	return NULL;
}

/* ---- Daniels & Gilbert ---- */

/* Oxygen cost (ml/kg/min) of running at v m/min. */
static double vo2_of_velocity(double v)
{
	return -4.60 + 0.182258 * v + 0.000104 * v * v;
}

/* The fraction of VO2max sustainable for t minutes. */
static double sustainable_fraction(double t_min)
{
	return 0.8 + 0.1894393 * exp(-0.012778 * t_min) + 0.2989558 * exp(-0.1932605 * t_min);
}

/* The velocity (m/min) whose oxygen cost is vo2; the positive root of vo2_of_velocity. */
static double velocity_of_vo2(double vo2)
{
	const double a = 0.000104, b = 0.182258, c = -4.60 - vo2;

	return (-b + sqrt(b * b - 4.0 * a * c)) / (2.0 * a);
}

static double vdot_of(double distance_m, double t_min)
{
	return vo2_of_velocity(distance_m / t_min) / sustainable_fraction(t_min);
}

static bool vdot_ok(double vdot)
{
	return isfinite(vdot) && vdot >= PACER_VDOT_MIN && vdot <= PACER_VDOT_MAX;
}

static bool distance_ok(double distance_m)
{
	return isfinite(distance_m) && distance_m > 0 && distance_m <= MAX_DISTANCE_M;
}

double pacer_vdot_from_race(double distance_m, double time_s)
{
	double t_min = time_s / 60.0, vdot;

	if (!distance_ok(distance_m) || !isfinite(time_s))
		return -EINVAL;
	if (t_min < RACE_MIN_MIN || t_min > RACE_MAX_MIN)
		return -EINVAL;
	vdot = vdot_of(distance_m, t_min);
	if (!vdot_ok(vdot))
		return -EINVAL;
	return vdot;
}

double pacer_vdot_race_time(double vdot, double distance_m)
{
	double lo = RACE_MIN_MIN * 60.0, hi = RACE_MAX_MIN * 60.0;

	if (!vdot_ok(vdot) || !distance_ok(distance_m))
		return -EINVAL;
	/* VDOT falls as the time grows: the answer must lie between the ends */
	if (vdot_of(distance_m, lo / 60.0) < vdot || vdot_of(distance_m, hi / 60.0) > vdot)
		return -EINVAL;
	for (unsigned i = 0; i < BISECT_MAX_STEPS && hi - lo > BISECT_TOLERANCE_S; i++) {
		double mid = (lo + hi) / 2.0;

		if (vdot_of(distance_m, mid / 60.0) > vdot)
			lo = mid;
		else
			hi = mid;
	}
	return (lo + hi) / 2.0;
}

double pacer_riegel_time(double t1_s, double d1_m, double d2_m)
{
	if (!(isfinite(t1_s) && t1_s > 0) || !distance_ok(d1_m) || !distance_ok(d2_m))
		return -EINVAL;
	return t1_s * pow(d2_m / d1_m, RIEGEL_EXPONENT);
}

/* Seconds per km at `fraction` of VDOT. */
static double pace_at(double vdot, double fraction)
{
	return 60000.0 / velocity_of_vo2(vdot * fraction);
}

static double r_fraction(double vdot)
{
	return R_FRACTION + R_FRACTION_SLOPE * fmax(0.0, vdot - R_FRACTION_KNEE);
}

static PacerPaceBand band_around(double centre)
{
	return (PacerPaceBand){
		.fast_s_per_km = centre * (1.0 - BAND_HALF_WIDTH),
		.slow_s_per_km = centre * (1.0 + BAND_HALF_WIDTH),
	};
}

int pacer_pace_zones_compute(double race_distance_m, double race_time_s, PacerPaceZones *ret)
{
	PacerPaceZones z = {0};
	double marathon_s;

	if (!ret)
		return -EINVAL;
	z.vdot = pacer_vdot_from_race(race_distance_m, race_time_s);
	if (z.vdot < 0)
		return -EINVAL;
	marathon_s = pacer_vdot_race_time(z.vdot, MARATHON_M);
	if (marathon_s < 0)
		return -EINVAL;
	z.race_distance_m = race_distance_m;
	z.race_time_s = race_time_s;
	z.zones[PACER_PACE_E].fast_s_per_km = pace_at(z.vdot, E_FAST_FRACTION);
	z.zones[PACER_PACE_E].slow_s_per_km = pace_at(z.vdot, E_SLOW_FRACTION);
	z.zones[PACER_PACE_M] = band_around(marathon_s / (MARATHON_M / 1000.0));
	z.zones[PACER_PACE_T] = band_around(pace_at(z.vdot, T_FRACTION));
	z.zones[PACER_PACE_I] = band_around(pace_at(z.vdot, I_FRACTION));
	z.zones[PACER_PACE_R] = band_around(pace_at(z.vdot, r_fraction(z.vdot)));
	*ret = z;
	return 0;
}

double pacer_pace_zones_predict(const PacerPaceZones *zones, double distance_m)
{
	if (!zones || !distance_ok(distance_m))
		return -EINVAL;
	if (distance_m >= VDOT_PREDICT_MIN_M && distance_m <= VDOT_PREDICT_MAX_M)
		return pacer_vdot_race_time(zones->vdot, distance_m);
	return pacer_riegel_time(zones->race_time_s, zones->race_distance_m, distance_m);
}

const char *pacer_pace_zone_name(PacerPaceZoneId id)
{
	switch (id) {
	case PACER_PACE_E:
		return "E";
	case PACER_PACE_M:
		return "M";
	case PACER_PACE_T:
		return "T";
	case PACER_PACE_I:
		return "I";
	case PACER_PACE_R:
		return "R";
	}
	return NULL;
}

int pacer_pace_zones_find(const PacerPaceZones *zones, double pace_s_per_km)
{
	const double pace = pace_s_per_km;
	double best_gap = INFINITY;
	int best = -1;

	if (!zones || !isfinite(pace) || pace <= 0)
		return -1;
	if (pace > zones->zones[PACER_PACE_E].slow_s_per_km * E_SLOW_MARGIN)
		return -1;
	/* slowest zone first, so that a tie between two bands goes to the slower */
	for (int id = PACER_PACE_E; id < PACER_PACE_ZONE_COUNT; id++) {
		const PacerPaceBand *b = &zones->zones[id];
		double gap;

		if (pace >= b->fast_s_per_km && pace <= b->slow_s_per_km)
			return id;
		gap = pace > b->slow_s_per_km ? pace - b->slow_s_per_km : b->fast_s_per_km - pace;
		if (gap < best_gap) {
			best_gap = gap;
			best = id;
		}
	}
	return best;
}

/* ---- parsing ---- */

static bool is_digit(char ch)
{
	return ch >= '0' && ch <= '9';
}

static char lower(char ch)
{
	return ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch;
}

static bool equal_nocase(const char *a, const char *b)
{
	for (; *a && *b; a++, b++) {
		if (lower(*a) != lower(*b))
			return false;
	}
	return *a == *b;
}

/*
 * Parses "<digits>[.<digits>]" at *s, at most 9 digits before the point, and
 * advances *s past it. Locale-independent, unlike strtod().
 */
static int parse_decimal(const char **s, double *ret)
{
	const char *p = *s;
	double v = 0, scale = 1;
	size_t n = 0;

	for (; is_digit(*p); p++, n++)
		v = v * 10 + (*p - '0');
	if (n == 0 || n > 9)
		return -EINVAL;
	if (*p == '.') {
		p++;
		if (!is_digit(*p))
			return -EINVAL;
		for (; is_digit(*p); p++) {
			scale /= 10;
			v += (*p - '0') * scale;
		}
	}
	*s = p;
	*ret = v;
	return 0;
}

/* The metres in one unit named by suffix, or 0 for an unknown suffix. */
static double unit_metres(const char *suffix)
{
	static const struct {
		const char *name;
		double metres;
	} units[] = {
		{"", 1.0}, {"m", 1.0}, {"k", 1000.0}, {"km", 1000.0}, {"mi", MILE_M},
	};

	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (equal_nocase(suffix, units[i].name))
			return units[i].metres;
	}
	return 0;
}

int pacer_parse_race_distance(const char *s, double *ret_m)
{
	double v, unit, m;

	if (!s || !ret_m)
		return -EINVAL;
	if (equal_nocase(s, "half")) {
		*ret_m = HALF_M;
		return 0;
	}
	if (equal_nocase(s, "marathon")) {
		*ret_m = MARATHON_M;
		return 0;
	}
	if (parse_decimal(&s, &v) < 0)
		return -EINVAL;
	unit = unit_metres(s);
	m = v * unit;
	if (unit == 0 || !(m > 0) || m > MAX_DISTANCE_M)
		return -EINVAL;
	*ret_m = m;
	return 0;
}

/* Parses ":NN" with NN below 60 and advances *s past it. */
static int parse_sexagesimal(const char **s, unsigned *ret)
{
	const char *p = *s;
	unsigned v;

	if (p[0] != ':' || !is_digit(p[1]) || !is_digit(p[2]))
		return -EINVAL;
	v = (unsigned)(p[1] - '0') * 10u + (unsigned)(p[2] - '0');
	if (v >= 60)
		return -EINVAL;
	*s = p + 3;
	*ret = v;
	return 0;
}

int pacer_parse_duration(const char *s, double *ret_s)
{
	double total = 0, fraction = 0, scale = 1;
	unsigned n_digits = 0, field;

	if (!s || !ret_s)
		return -EINVAL;
	for (; is_digit(*s); s++, n_digits++)
		total = total * 10 + (*s - '0');
	if (n_digits == 0 || n_digits > 9)
		return -EINVAL;
	for (unsigned i = 0; i < 2 && *s == ':'; i++) {
		if (parse_sexagesimal(&s, &field) < 0)
			return -EINVAL;
		total = total * 60 + field;
	}
	if (*s == '.') {
		s++;
		if (!is_digit(*s))
			return -EINVAL;
		for (; is_digit(*s); s++) {
			scale /= 10;
			fraction += (*s - '0') * scale;
		}
	}
	if (*s != '\0' || !(total + fraction > 0))
		return -EINVAL;
	*ret_s = total + fraction;
	return 0;
}
