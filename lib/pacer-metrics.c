/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "pacer-metrics.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "pacer-hrv.h"

#define RING_SIZE 64
#define HR_MIN_BPM 25
#define HR_MAX_BPM 250
#define MAX_SPEED_MPS 15.0       /* faster than any runner: a counter glitch */
#define RR_GAP_US 5000000u       /* a longer silence breaks the RR series */
#define RR_RATE_PER_S 4          /* at most 240 bpm, for sizing the RMSSD window */
#define RUNNING_SPEED_MPS 2.2    /* above this, a footpod's cadence is a running cadence */
#define STRIDES_BELOW 120        /* a running cadence below this is strides per minute */
#define CADENCE_VOTES 5          /* consistent running samples to decide the unit */
#define CAL_BUCKET_M 100.0       /* treadmill metres per calibration bucket */
#define CAL_BUCKETS 32
#define CAL_MIN_SPEED_MPS 1.0
#define N_KINDS 3                    /* PacerSensorKind values */
#define RSC_SPEED_PER_MPS 256.0      /* RSC speed unit: 1/256 m/s */
#define TREADMILL_SPEED_PER_MPS 360.0 /* FTMS speed unit: 0.01 km/h */

typedef struct {
	uint64_t t_us;
	uint32_t v;      /* in the sensor's own whole units (see Ring) */
	uint64_t before; /* v * duration summed over every sample before this one, mod 2^64 */
} Sample;

/*
 * The last RING_SIZE samples of a value, numbered from the first ever: sample
 * k is s[k % RING_SIZE] while k >= n - RING_SIZE. Values are kept in the
 * sensor's own whole units (1/256 m/s, 0.01 km/h, steps per minute), `per`
 * of them to the unit averages are given in, so that value * duration is a
 * whole number of units times microseconds, summed exactly as an integer.
 * The running sums in `before` make the sum over any run of samples one
 * subtraction (wrap-around included), so an average costs the same however
 * many samples its window holds, and equals a sum over the window exactly.
 */
typedef struct {
	Sample s[RING_SIZE];
	double per;
	uint64_t n;
	uint64_t first; /* where the last average's window started: where to look from */
} Ring;

typedef struct {
	PacerSensorKind kind;

	/* motion: footpod and treadmill; footpod values are uncalibrated */
	bool has_speed;
	uint64_t speed_us;
	double speed_mps;
	Ring speed;
	bool has_motion; /* a previous sample to take deltas from */
	uint64_t motion_us;
	bool has_counter;
	uint32_t counter;
	double unclaimed_m; /* distance measured while another source counted */

	bool has_cadence;
	uint64_t cadence_us;
	Ring cadence;
	unsigned stride_votes;
	unsigned step_votes;
	PacerCadenceDecision decision;
	bool feature_known;
	uint16_t rsc_feature;

	bool has_hr;
	uint64_t hr_us;
	unsigned hr_bpm;
	bool has_rr;
	uint64_t rr_us;

	bool has_incline;
	uint64_t incline_us;
	double incline_pct;

	bool seen;
	uint64_t last_us;
} Sensor;

typedef struct {
	double treadmill_m;
	double footpod_m;
} CalBucket;

struct PacerMetrics {
	PacerMetricsConfig cfg;
	Sensor sensors[PACER_METRICS_MAX_SENSORS];
	size_t n_sensors;
	/* the ids of each kind's sensors, in the order they came: where sources are looked for */
	int of_kind[N_KINDS][PACER_METRICS_MAX_SENSORS];
	size_t n_of_kind[N_KINDS];

	bool started;
	uint64_t t0_us;
	double distance_m;
	int last_distance_source;
	uint64_t last_count_us;
	double moving_s;

	double calibration;
	bool calibration_auto;
	CalBucket bucket; /* filling */
	CalBucket buckets[CAL_BUCKETS];
	size_t bucket_head;
	size_t n_buckets;

	uint8_t hr_zone_of[HR_MAX_BPM + 1]; /* pacer_hr_zones_find() of every plausible bpm */

	PacerHrv *hrv;
	double rr_ms[PACER_METRICS_MAX_RR];
	size_t n_rr;
	unsigned long hr_dropped;

	bool has_hr_accum;
	uint64_t hr_accum_us;
	unsigned hr_accum_bpm;
	double trimp;
	double time_in_zone_s[PACER_HR_ZONES_MAX + 1];
};

void pacer_metrics_config_init(PacerMetricsConfig *config)
{
	*config = (PacerMetricsConfig){
		.smoothing_us = 5000000,
		.stale_us = 3000000,
		.rmssd_window_us = 60000000,
		.footpod_calibration = 1.0,
		.auto_calibrate = true,
		.auto_calibration_min_m = 400.0,
		.cadence_unit = PACER_CADENCE_UNIT_AUTO,
		.moving_speed_mps = 0.5,
		.sex = PACER_SEX_MALE,
	};
}

PacerMetrics *pacer_metrics_new(const PacerMetricsConfig *config)
{
	PacerMetrics *m;
	size_t rr_capacity;

	if (config->smoothing_us == 0 || config->stale_us == 0 || config->rmssd_window_us == 0 ||
	    !(config->footpod_calibration > 0.0) || !(config->auto_calibration_min_m > 0.0) ||
	    config->hr_zones.n_zones > PACER_HR_ZONES_MAX)
		return NULL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->cfg = *config;
	rr_capacity = (size_t)(config->rmssd_window_us / 1000000u + 1) * RR_RATE_PER_S;
	m->hrv = pacer_hrv_new(config->rmssd_window_us, rr_capacity);
	if (!m->hrv) {
		free(m);
		return NULL;
	}
	m->calibration = config->footpod_calibration;
	m->last_distance_source = -1;
	/* looked up once here rather than several times a second */
	for (unsigned bpm = 0; bpm <= HR_MAX_BPM; bpm++)
		m->hr_zone_of[bpm] = (uint8_t)pacer_hr_zones_find(&config->hr_zones, bpm);
	return m;
}

int pacer_metrics_seed_calibration(PacerMetrics *m, double factor)
{
	if (!(factor >= PACER_CALIBRATION_MIN && factor <= PACER_CALIBRATION_MAX))
		return -EINVAL;
	if (!m->cfg.auto_calibrate)
		return -EPERM;
	if (m->calibration_auto)
		return -EALREADY;
	m->calibration = factor;
	return 0;
}

void pacer_metrics_free(PacerMetrics *m)
{
	if (!m)
		return;
	pacer_hrv_free(m->hrv);
	free(m);
}

int pacer_metrics_add_sensor(PacerMetrics *m, PacerSensorKind kind)
{
	if ((unsigned)kind >= N_KINDS)
		return -EINVAL;
	if (m->n_sensors == PACER_METRICS_MAX_SENSORS)
		return -ENOSPC;
	m->of_kind[kind][m->n_of_kind[kind]++] = (int)m->n_sensors;
	m->sensors[m->n_sensors] = (Sensor){
		.kind = kind,
		.speed.per = kind == PACER_SENSOR_FOOTPOD ? RSC_SPEED_PER_MPS
							  : TREADMILL_SPEED_PER_MPS,
		.cadence.per = 1.0,
	};
	return (int)m->n_sensors++;
}

static const Sample *ring_at(const Ring *r, uint64_t k)
{
	return &r->s[k % RING_SIZE];
}

/* The oldest sample kept. */
static uint64_t ring_tail(const Ring *r)
{
	return r->n > RING_SIZE ? r->n - RING_SIZE : 0;
}

static void ring_push(Ring *r, uint64_t t_us, uint32_t v)
{
	uint64_t before = 0;

	if (r->n > 0) {
		const Sample *prev = ring_at(r, r->n - 1);

		before = prev->before + prev->v * (t_us - prev->t_us);
	}
	r->s[r->n % RING_SIZE] = (Sample){.t_us = t_us, .v = v, .before = before};
	r->n++;
}

/* Time-weighted mean over [since, now] when now is before the newest sample: every sample. */
static double ring_average_scan(const Ring *r, uint64_t now_us, uint64_t since)
{
	uint64_t end = now_us, total = 0, sum = 0;

	for (uint64_t k = r->n; k > ring_tail(r); k--) {
		const Sample *s = ring_at(r, k - 1);
		uint64_t start = s->t_us > since ? s->t_us : since;

		if (end > start) {
			sum += s->v * (end - start);
			total += end - start;
		}
		if (s->t_us <= since)
			break;
		if (s->t_us < end)
			end = s->t_us;
	}
	if (total == 0)
		return r->n > 0 ? ring_at(r, r->n - 1)->v / r->per : 0.0;
	return (double)sum / (r->per * (double)total);
}

/*
 * Time-weighted mean over [now - window, now]; each sample holds until the
 * next. The window reaches back to the newest sample at or before its start
 * (or to the oldest kept), which alone is cut at the start.
 */
static double ring_average(Ring *r, uint64_t now_us, uint64_t window_us)
{
	uint64_t since = now_us > window_us ? now_us - window_us : 0, tail = ring_tail(r);
	uint64_t last = r->n - 1, first = r->first, start, sum = 0;
	const Sample *newest, *oldest;

	if (r->n == 0 || now_us < ring_at(r, last)->t_us)
		return ring_average_scan(r, now_us, since);

	/* from where the last window started: it moves on a sample or two at a time */
	if (first < tail || first > last)
		first = last;
	while (first > tail && ring_at(r, first)->t_us > since)
		first--;
	while (first < last && ring_at(r, first + 1)->t_us <= since)
		first++;
	r->first = first;

	/* the newest until now, the whole ones between, the oldest from the start */
	newest = ring_at(r, last);
	oldest = ring_at(r, first);
	start = newest->t_us > since ? newest->t_us : since;
	if (now_us > start)
		sum = newest->v * (now_us - start);
	start = oldest->t_us > since ? oldest->t_us : since;
	if (first < last) {
		const Sample *next = ring_at(r, first + 1);

		sum += newest->before - next->before;
		if (next->t_us > start)
			sum += oldest->v * (next->t_us - start);
	}
	/* whole numbers below 2^53 (any window under a day): one rounding, in the division */
	if (now_us <= start)
		return newest->v / r->per;
	return (double)sum / (r->per * (double)(now_us - start));
}

static bool fresh(const PacerMetrics *m, bool has, uint64_t t_us, uint64_t now_us)
{
	return has && (t_us >= now_us || now_us - t_us <= m->cfg.stale_us);
}

typedef enum {
	VALUE_SPEED,
	VALUE_HR,
	VALUE_CADENCE,
	VALUE_INCLINE,
} Value;

static bool fresh_value(const PacerMetrics *m, const Sensor *s, Value value, uint64_t now_us)
{
	switch (value) {
	case VALUE_SPEED:
		return fresh(m, s->has_speed, s->speed_us, now_us);
	case VALUE_HR:
		return fresh(m, s->has_hr, s->hr_us, now_us);
	case VALUE_CADENCE:
		return fresh(m, s->has_cadence, s->cadence_us, now_us);
	case VALUE_INCLINE:
		return fresh(m, s->has_incline, s->incline_us, now_us);
	}
	return false;
}

/* The first sensor of `kind` with a fresh `value`, or -1. */
static int first_fresh(const PacerMetrics *m, PacerSensorKind kind, Value value, uint64_t now_us)
{
	for (size_t j = 0; j < m->n_of_kind[kind]; j++) {
		int id = m->of_kind[kind][j];

		if (fresh_value(m, &m->sensors[id], value, now_us))
			return id;
	}
	return -1;
}

/* The sensor speed and distance come from: a treadmill, else a footpod. */
static int motion_source(const PacerMetrics *m, uint64_t now_us)
{
	int id = first_fresh(m, PACER_SENSOR_TREADMILL, VALUE_SPEED, now_us);

	return id >= 0 ? id : first_fresh(m, PACER_SENSOR_FOOTPOD, VALUE_SPEED, now_us);
}

/* Heart rate: a strap, else a treadmill's pulse grip. */
static int hr_source(const PacerMetrics *m, uint64_t now_us)
{
	int id = first_fresh(m, PACER_SENSOR_HEART_RATE, VALUE_HR, now_us);

	return id >= 0 ? id : first_fresh(m, PACER_SENSOR_TREADMILL, VALUE_HR, now_us);
}

static double sensor_factor(const PacerMetrics *m, const Sensor *s)
{
	return s->kind == PACER_SENSOR_FOOTPOD ? m->calibration : 1.0;
}

/*
 * Distance covered since the previous counter value. A counter that drops
 * near its top has wrapped; one that drops anywhere else has restarted from
 * zero (a treadmill whose belt stopped, a footpod switched off and on).
 */
static double counter_delta(uint32_t prev, uint32_t cur, unsigned bits)
{
	uint64_t modulus = (uint64_t)1 << bits;

	if (cur >= prev)
		return (double)(cur - prev);
	if ((uint64_t)prev >= modulus - modulus / 16 && (uint64_t)cur < modulus / 16)
		return (double)((uint64_t)cur + modulus - prev);
	return (double)cur;
}

static void calibration_update(PacerMetrics *m)
{
	double tm = 0.0, fp = 0.0;

	for (size_t i = 0; i < m->n_buckets && tm < m->cfg.auto_calibration_min_m; i++) {
		const CalBucket *b = &m->buckets[(m->bucket_head + CAL_BUCKETS - 1 - i) % CAL_BUCKETS];

		tm += b->treadmill_m;
		fp += b->footpod_m;
	}
	if (tm >= m->cfg.auto_calibration_min_m && fp > 0.0) {
		m->calibration = tm / fp;
		m->calibration_auto = true;
	}
}

/* The first sensor of `kind` fresh and at calibration speed, or -1. */
static int first_calibrating(const PacerMetrics *m, PacerSensorKind kind, uint64_t t_us)
{
	for (size_t j = 0; j < m->n_of_kind[kind]; j++) {
		const Sensor *o = &m->sensors[m->of_kind[kind][j]];

		if (fresh(m, o->has_speed, o->speed_us, t_us) && o->speed_mps >= CAL_MIN_SPEED_MPS)
			return m->of_kind[kind][j];
	}
	return -1;
}

/* Both a treadmill and a footpod running: pair their distances, bucket by bucket. */
static void calibration_add(PacerMetrics *m, const Sensor *s, double raw_m, uint64_t t_us)
{
	int tm, fp;

	if (!m->cfg.auto_calibrate)
		return;
	tm = first_calibrating(m, PACER_SENSOR_TREADMILL, t_us);
	fp = tm < 0 ? -1 : first_calibrating(m, PACER_SENSOR_FOOTPOD, t_us);
	if (tm < 0 || fp < 0) {
		m->bucket = (CalBucket){0};
		return;
	}
	if (s == &m->sensors[fp])
		m->bucket.footpod_m += raw_m;
	if (s != &m->sensors[tm])
		return;
	m->bucket.treadmill_m += raw_m;
	if (m->bucket.treadmill_m < CAL_BUCKET_M)
		return;
	m->buckets[m->bucket_head] = m->bucket;
	m->bucket_head = (m->bucket_head + 1) % CAL_BUCKETS;
	if (m->n_buckets < CAL_BUCKETS)
		m->n_buckets++;
	m->bucket = (CalBucket){0};
	calibration_update(m);
}

/* Counts a motion sensor's delta if it is the current source; otherwise keeps it aside. */
static void distance_add(PacerMetrics *m, int id, int source, double delta_m, uint64_t t_us)
{
	Sensor *s = &m->sensors[id];

	if (source != id) {
		s->unclaimed_m += delta_m;
		return;
	}
	/* after a switch, what this sensor measured since the old source fell silent */
	m->distance_m += delta_m + (m->last_distance_source == id ? 0.0 : s->unclaimed_m);
	m->last_distance_source = id;
	m->last_count_us = t_us;
	for (size_t i = 0; i < m->n_sensors; i++)
		m->sensors[i].unclaimed_m = 0.0;
}

/*
 * Distance a sensor measured across its own silence counts only if no other
 * source counted meanwhile: a footpod out of range keeps counting, but a
 * treadmill that comes back must not add what the footpod already did.
 */
static bool gap_covered(const PacerMetrics *m, int id, uint64_t gap_start_us)
{
	return m->last_distance_source != id && m->last_count_us > gap_start_us;
}

/*
 * One motion sample: speed (m/s, uncalibrated; speed_raw as sent) when
 * has_speed, the total distance counter (in `unit_m` steps, `bits` wide)
 * when has_counter.
 */
static void feed_motion(PacerMetrics *m, int id, uint64_t t_us, bool has_speed, double speed,
			uint16_t speed_raw, bool has_counter, uint32_t counter, unsigned bits,
			double unit_m)
{
	Sensor *s = &m->sensors[id];
	bool gap = s->has_motion && t_us - s->motion_us > m->cfg.stale_us;
	double prev_speed = s->speed_mps, raw_m = 0.0, dt;
	int source;

	dt = s->has_motion ? (double)(t_us - s->motion_us) / 1e6 : 0.0;
	/* a sensor with a counter is never integrated: its speed-only packets would count twice */
	if (has_counter && s->has_counter)
		raw_m = counter_delta(s->counter, counter, bits) * unit_m;
	else if (!has_counter && !s->has_counter && has_speed && s->has_speed && !gap)
		raw_m = (prev_speed + speed) / 2.0 * dt;
	if (raw_m > MAX_SPEED_MPS * dt + 10.0 || (gap && gap_covered(m, id, s->motion_us)))
		raw_m = 0.0; /* a glitch, or distance another source already counted */

	if (has_counter) {
		s->has_counter = true;
		s->counter = counter;
	}
	if (has_speed) {
		s->has_speed = true;
		s->speed_us = t_us;
		s->speed_mps = speed;
		ring_push(&s->speed, t_us, speed_raw);
	}
	s->has_motion = true;
	s->motion_us = t_us;

	source = motion_source(m, t_us); /* calibration does not change it */
	if (!gap && source == id && prev_speed * sensor_factor(m, s) >= m->cfg.moving_speed_mps)
		m->moving_s += dt;
	if (!gap)
		calibration_add(m, s, raw_m, t_us);
	distance_add(m, id, source, raw_m * sensor_factor(m, s), t_us);
}

static bool rsc_running(const Sensor *s, const PacerRscMeasurement *r, double speed_mps)
{
	bool flag_usable = !s->feature_known || (s->rsc_feature & PACER_RSC_FEATURE_WALKING_RUNNING);

	return (flag_usable && r->running) || speed_mps > RUNNING_SPEED_MPS;
}

/* Steps per minute from the raw cadence, deciding the pod's unit in auto mode. */
static unsigned cadence_steps(PacerMetrics *m, Sensor *s, const PacerRscMeasurement *r,
			      bool running)
{
	bool looks_strides = running && r->cadence_raw > 0 && r->cadence_raw < STRIDES_BELOW;

	switch (m->cfg.cadence_unit) {
	case PACER_CADENCE_UNIT_STEPS:
		return r->cadence_raw;
	case PACER_CADENCE_UNIT_STRIDES:
		return 2u * r->cadence_raw;
	case PACER_CADENCE_UNIT_AUTO:
		break;
	}
	if (running && r->cadence_raw > 0 && s->decision == PACER_CADENCE_DECISION_UNDECIDED) {
		if (looks_strides)
			s->stride_votes++;
		else
			s->step_votes++;
		if (s->stride_votes >= CADENCE_VOTES && s->step_votes * 4 < s->stride_votes)
			s->decision = PACER_CADENCE_DECISION_STRIDES;
		else if (s->step_votes >= CADENCE_VOTES && s->stride_votes * 4 < s->step_votes)
			s->decision = PACER_CADENCE_DECISION_STEPS;
	}
	switch (s->decision) {
	case PACER_CADENCE_DECISION_STRIDES:
		return 2u * r->cadence_raw;
	case PACER_CADENCE_DECISION_STEPS:
		return r->cadence_raw;
	case PACER_CADENCE_DECISION_UNDECIDED:
		break;
	}
	return looks_strides ? 2u * r->cadence_raw : r->cadence_raw;
}

static void feed_rsc(PacerMetrics *m, int id, const PacerRscMeasurement *r, uint64_t t_us)
{
	Sensor *s = &m->sensors[id];
	double speed = pacer_rsc_speed_mps(r);
	bool running = rsc_running(s, r, speed * m->calibration);

	feed_motion(m, id, t_us, true, speed, r->speed_raw, r->has_distance, r->distance_dm, 32,
		    0.1);
	s->has_cadence = true;
	s->cadence_us = t_us;
	ring_push(&s->cadence, t_us, cadence_steps(m, s, r, running));
}

/* Time in zone and TRIMP, for the heart rate of the current source. */
static void hr_accumulate(PacerMetrics *m, unsigned bpm, uint64_t t_us)
{
	const PacerMetricsConfig *c = &m->cfg;

	if (m->has_hr_accum && t_us > m->hr_accum_us && t_us - m->hr_accum_us <= c->stale_us) {
		double dt = (double)(t_us - m->hr_accum_us) / 1e6;
		unsigned prev = m->hr_accum_bpm;

		if (c->hr_zones.n_zones > 0)
			m->time_in_zone_s[m->hr_zone_of[prev]] += dt;
		if (c->resting_hr > 0 && c->max_hr > c->resting_hr) {
			double x = ((double)prev - c->resting_hr) / (c->max_hr - c->resting_hr);
			double k = c->sex == PACER_SEX_FEMALE ? 0.86 : 0.64;
			double b = c->sex == PACER_SEX_FEMALE ? 1.67 : 1.92;

			x = x < 0.0 ? 0.0 : (x > 1.0 ? 1.0 : x);
			m->trimp += dt / 60.0 * x * k * exp(b * x);
		}
	}
	m->has_hr_accum = true;
	m->hr_accum_us = t_us;
	m->hr_accum_bpm = bpm;
}

/* A heart-rate value from a strap or a treadmill; implausible ones are dropped and counted. */
static void feed_hr_value(PacerMetrics *m, int id, unsigned bpm, uint64_t t_us)
{
	Sensor *s = &m->sensors[id];

	if (bpm < HR_MIN_BPM || bpm > HR_MAX_BPM) {
		m->hr_dropped++;
		return;
	}
	s->has_hr = true;
	s->hr_us = t_us;
	s->hr_bpm = bpm;
	if (hr_source(m, t_us) == id)
		hr_accumulate(m, bpm, t_us);
}

static void feed_rr(PacerMetrics *m, Sensor *s, const PacerHrMeasurement *h, uint64_t t_us)
{
	if (s->has_rr && t_us - s->rr_us > RR_GAP_US)
		pacer_hrv_break(m->hrv);
	for (size_t i = 0; i < h->n_rr; i++) {
		double ms = pacer_hr_rr_to_ms(h->rr[i]);

		if (pacer_hrv_add(m->hrv, ms, t_us) && m->n_rr < PACER_METRICS_MAX_RR)
			m->rr_ms[m->n_rr++] = ms;
	}
	if (h->n_rr > 0) {
		s->has_rr = true;
		s->rr_us = t_us;
	}
}

static void feed_strap(PacerMetrics *m, int id, const PacerHrMeasurement *h, uint64_t t_us)
{
	Sensor *s = &m->sensors[id];

	if (h->contact == PACER_HR_CONTACT_NOT_DETECTED) {
		s->has_hr = false; /* off the skin: no heart rate, no RR */
		return;
	}
	feed_hr_value(m, id, h->hr_bpm, t_us);
	feed_rr(m, s, h, t_us);
}

static void feed_treadmill(PacerMetrics *m, int id, const PacerTreadmillData *d, uint64_t t_us)
{
	Sensor *s = &m->sensors[id];
	bool has_speed = (d->present & PACER_TREADMILL_SPEED) != 0;
	bool has_counter = (d->present & PACER_TREADMILL_DISTANCE) != 0;

	if (has_speed || has_counter)
		feed_motion(m, id, t_us, has_speed, pacer_treadmill_speed_kmh(d->speed_raw) / 3.6,
			    d->speed_raw, has_counter, d->distance_m, 24, 1.0);
	if (d->present & PACER_TREADMILL_INCLINE) {
		s->has_incline = true;
		s->incline_us = t_us;
		s->incline_pct = d->incline_raw / 10.0;
	}
	/* 0 is what treadmills without a pulse grip send */
	if ((d->present & PACER_TREADMILL_HR) && d->hr_bpm > 0)
		feed_hr_value(m, id, d->hr_bpm, t_us);
}

static bool kind_matches(PacerSensorKind sensor, PacerGattKind value)
{
	switch (value) {
	case PACER_GATT_HEART_RATE:
	case PACER_GATT_BODY_SENSOR_LOCATION:
		return sensor == PACER_SENSOR_HEART_RATE;
	case PACER_GATT_RSC:
	case PACER_GATT_RSC_FEATURE:
		return sensor == PACER_SENSOR_FOOTPOD;
	case PACER_GATT_TREADMILL:
	case PACER_GATT_FITNESS_MACHINE_FEATURE:
		return sensor == PACER_SENSOR_TREADMILL;
	case PACER_GATT_BATTERY:
		return true;
	}
	return false;
}

int pacer_metrics_feed(PacerMetrics *m, int sensor, const PacerGattValue *value, uint64_t t_us)
{
	Sensor *s;

	if (sensor < 0 || (size_t)sensor >= m->n_sensors)
		return -EINVAL;
	s = &m->sensors[sensor];
	if (!kind_matches(s->kind, value->kind))
		return -EINVAL;
	if (s->seen && t_us < s->last_us)
		return -ERANGE;
	s->seen = true;
	s->last_us = t_us;
	if (!m->started) {
		m->started = true;
		m->t0_us = t_us;
	}

	switch (value->kind) {
	case PACER_GATT_HEART_RATE:
		feed_strap(m, sensor, &value->hr, t_us);
		break;
	case PACER_GATT_RSC:
		feed_rsc(m, sensor, &value->rsc, t_us);
		break;
	case PACER_GATT_RSC_FEATURE:
		s->feature_known = true;
		s->rsc_feature = value->rsc_feature;
		break;
	case PACER_GATT_TREADMILL:
		feed_treadmill(m, sensor, &value->treadmill, t_us);
		break;
	case PACER_GATT_BODY_SENSOR_LOCATION:
	case PACER_GATT_FITNESS_MACHINE_FEATURE:
	case PACER_GATT_BATTERY:
		break;
	}
	return 0;
}

static PacerSource source_of(const PacerMetrics *m, int id)
{
	if (id < 0)
		return (PacerSource){.valid = false, .sensor = -1};
	return (PacerSource){.valid = true, .sensor = id, .kind = m->sensors[id].kind};
}

static void snapshot_motion(PacerMetrics *m, uint64_t now, PacerMetricsSnapshot *r)
{
	int id = motion_source(m, now);
	int cad = first_fresh(m, PACER_SENSOR_FOOTPOD, VALUE_CADENCE, now);
	int inc = first_fresh(m, PACER_SENSOR_TREADMILL, VALUE_INCLINE, now);

	r->speed_source = source_of(m, id);
	r->distance_source = r->speed_source;
	if (id >= 0) {
		Sensor *s = &m->sensors[id];
		double f = sensor_factor(m, s);

		r->has_speed = true;
		r->speed_mps = ring_average(&s->speed, now, m->cfg.smoothing_us) * f;
		r->speed_instant_mps = s->speed_mps * f;
		r->has_pace = r->speed_mps >= m->cfg.moving_speed_mps;
		if (r->has_pace)
			r->pace_s_per_km = 1000.0 / r->speed_mps;
	}
	r->cadence_source = source_of(m, cad);
	if (cad >= 0) {
		r->has_cadence = true;
		r->cadence_spm = ring_average(&m->sensors[cad].cadence, now, m->cfg.smoothing_us);
		r->cadence_decision = m->sensors[cad].decision;
	}
	if (r->has_pace && r->has_cadence && r->cadence_spm > 0.0) {
		r->has_stride = true;
		r->stride_m = r->speed_mps * 60.0 / r->cadence_spm;
	}
	if (inc >= 0) {
		r->has_incline = true;
		r->incline_pct = m->sensors[inc].incline_pct;
	}
	r->pace_zone = -1;
	if (r->has_pace && m->cfg.has_pace_zones)
		r->pace_zone = pacer_pace_zones_find(&m->cfg.pace_zones, r->pace_s_per_km);
}

static void snapshot_heart(PacerMetrics *m, uint64_t now, PacerMetricsSnapshot *r)
{
	int id = hr_source(m, now);

	r->hr_source = source_of(m, id);
	if (id >= 0) {
		r->has_hr = true;
		r->hr_bpm = m->sensors[id].hr_bpm;
		if (m->cfg.hr_zones.n_zones > 0)
			r->hr_zone = m->hr_zone_of[r->hr_bpm];
	}
	r->hr_dropped = m->hr_dropped;
	r->n_rr = m->n_rr;
	for (size_t i = 0; i < m->n_rr; i++)
		r->rr_ms[i] = m->rr_ms[i];
	m->n_rr = 0;
	r->has_rmssd = pacer_hrv_rmssd(m->hrv, now, &r->rmssd_ms) == 0;
	r->rr_artifacts = pacer_hrv_artifacts(m->hrv);
	r->has_trimp = m->cfg.resting_hr > 0 && m->cfg.max_hr > m->cfg.resting_hr;
	r->trimp = m->trimp;
	for (size_t i = 0; i <= PACER_HR_ZONES_MAX; i++)
		r->time_in_zone_s[i] = m->time_in_zone_s[i];
}

void pacer_metrics_snapshot(PacerMetrics *m, uint64_t now_us, PacerMetricsSnapshot *ret)
{
	/* in place, and not the whole RR list: a snapshot is taken several times a second */
	memset(ret, 0, offsetof(PacerMetricsSnapshot, rr_ms));
	ret->t_us = now_us;
	ret->elapsed_s = m->started && now_us > m->t0_us ? (double)(now_us - m->t0_us) / 1e6 : 0.0;
	ret->moving_s = m->moving_s;
	ret->distance_m = m->distance_m;
	ret->calibration_factor = m->calibration;
	ret->calibration_auto = m->calibration_auto;
	snapshot_motion(m, now_us, ret);
	snapshot_heart(m, now_us, ret);
}

const char *pacer_sensor_kind_to_string(PacerSensorKind kind)
{
	switch (kind) {
	case PACER_SENSOR_HEART_RATE:
		return "heart_rate";
	case PACER_SENSOR_FOOTPOD:
		return "footpod";
	case PACER_SENSOR_TREADMILL:
		return "treadmill";
	}
	return "unknown";
}

const char *pacer_cadence_decision_to_string(PacerCadenceDecision decision)
{
	switch (decision) {
	case PACER_CADENCE_DECISION_UNDECIDED:
		return "undecided";
	case PACER_CADENCE_DECISION_STEPS:
		return "steps";
	case PACER_CADENCE_DECISION_STRIDES:
		return "strides";
	}
	return "undecided";
}
