/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The metrics engine driven with explicit timestamps: one sensor at a time,
 * several together, dropouts, counter resets and wraps, straps losing
 * contact, footpods that count strides, and RR series with artifacts.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pacer-capture.h"
#include "pacer-hrv.h"
#include "pacer-metrics.h"
#include "pacer-uuid.h"
#include "test-common.h"

#define S(t) ((uint64_t)((t) * 1e6 + 0.5)) /* seconds to microseconds */

static PacerMetrics *new_engine(void)
{
	PacerMetricsConfig c;
	PacerMetrics *m;

	pacer_metrics_config_init(&c);
	m = pacer_metrics_new(&c);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	return m;
}

static PacerMetrics *new_engine_with(const PacerMetricsConfig *c)
{
	PacerMetrics *m = pacer_metrics_new(c);

	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	return m;
}

/* A footpod sample; dist_m < 0 means the pod sends no total distance. */
static void footpod(PacerMetrics *m, int id, double t, double mps, unsigned cad, bool running,
		    double dist_m)
{
	PacerGattValue v = {.kind = PACER_GATT_RSC};

	v.rsc.speed_raw = (uint16_t)lround(mps * 256.0);
	v.rsc.cadence_raw = (uint8_t)cad;
	v.rsc.running = running;
	if (dist_m >= 0) {
		v.rsc.has_distance = true;
		v.rsc.distance_dm = (uint32_t)llround(dist_m * 10.0);
	}
	CU_ASSERT_EQUAL(pacer_metrics_feed(m, id, &v, S(t)), 0);
}

/* A treadmill sample with speed, the 24-bit distance counter and incline. */
static void treadmill(PacerMetrics *m, int id, double t, double mps, uint32_t counter_m,
		      double incline, unsigned hr)
{
	PacerGattValue v = {.kind = PACER_GATT_TREADMILL};

	v.treadmill.present = PACER_TREADMILL_SPEED | PACER_TREADMILL_DISTANCE |
			      PACER_TREADMILL_INCLINE | PACER_TREADMILL_HR;
	v.treadmill.speed_raw = (uint16_t)lround(mps * 360.0);
	v.treadmill.distance_m = counter_m & 0xFFFFFFu;
	v.treadmill.incline_raw = (int16_t)lround(incline * 10.0);
	v.treadmill.hr_bpm = (uint8_t)hr;
	CU_ASSERT_EQUAL(pacer_metrics_feed(m, id, &v, S(t)), 0);
}

static void strap(PacerMetrics *m, int id, double t, unsigned bpm, PacerHrContact contact,
		  const uint16_t *rr, size_t n_rr)
{
	PacerGattValue v = {.kind = PACER_GATT_HEART_RATE};

	v.hr.hr_bpm = (uint16_t)bpm;
	v.hr.contact = contact;
	for (size_t i = 0; i < n_rr; i++)
		v.hr.rr[i] = rr[i];
	v.hr.n_rr = n_rr;
	CU_ASSERT_EQUAL(pacer_metrics_feed(m, id, &v, S(t)), 0);
}

static PacerMetricsSnapshot snap(PacerMetrics *m, double t)
{
	PacerMetricsSnapshot r;

	pacer_metrics_snapshot(m, S(t), &r);
	return r;
}

/* A footpod alone, with a distance counter: 3.0 m/s and 170 steps/min for 60 s. */
static void test_footpod_alone(void)
{
	PacerMetrics *m = new_engine();
	int fp = pacer_metrics_add_sensor(m, PACER_SENSOR_FOOTPOD);
	PacerMetricsSnapshot r;

	for (int i = 0; i <= 240; i++)
		footpod(m, fp, i * 0.25, 3.0, 170, true, i * 0.75);
	r = snap(m, 60.0);
	CU_ASSERT_TRUE(r.has_speed);
	CU_ASSERT_DOUBLE_EQUAL(r.speed_mps, 3.0, 0.01);
	CU_ASSERT_TRUE(r.speed_source.valid);
	CU_ASSERT_EQUAL(r.speed_source.kind, PACER_SENSOR_FOOTPOD);
	CU_ASSERT_TRUE(r.has_pace);
	CU_ASSERT_DOUBLE_EQUAL(r.pace_s_per_km, 333.3, 1.0);
	CU_ASSERT_TRUE(r.has_cadence);
	CU_ASSERT_DOUBLE_EQUAL(r.cadence_spm, 170.0, 1e-9);
	CU_ASSERT_EQUAL(r.cadence_decision, PACER_CADENCE_DECISION_STEPS);
	CU_ASSERT_TRUE(r.has_stride);
	CU_ASSERT_DOUBLE_EQUAL(r.stride_m, 3.0 * 60 / 170, 0.005);
	CU_ASSERT_DOUBLE_EQUAL(r.distance_m, 180.0, 1e-6);
	CU_ASSERT_EQUAL(r.distance_source.kind, PACER_SENSOR_FOOTPOD);
	CU_ASSERT_DOUBLE_EQUAL(r.elapsed_s, 60.0, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(r.moving_s, 60.0, 1e-9);
	CU_ASSERT_FALSE(r.has_hr);
	CU_ASSERT_FALSE(r.has_incline);
	pacer_metrics_free(m);
}

/* Without a counter, distance is integrated speed; the runner stops: pace goes null. */
static void test_footpod_integrated_and_standing(void)
{
	PacerMetrics *m = new_engine();
	int fp = pacer_metrics_add_sensor(m, PACER_SENSOR_FOOTPOD);
	PacerMetricsSnapshot r;

	for (int i = 0; i <= 400; i++)
		footpod(m, fp, i * 0.25, 2.5, 160, true, -1);
	r = snap(m, 100.0);
	CU_ASSERT_DOUBLE_EQUAL(r.distance_m, 250.0, 0.5);
	for (int i = 1; i <= 40; i++)
		footpod(m, fp, 100.0 + i * 0.25, 0.0, 0, false, -1);
	r = snap(m, 110.0);
	CU_ASSERT_TRUE(r.has_speed);
	CU_ASSERT_DOUBLE_EQUAL(r.speed_mps, 0.0, 1e-9);
	CU_ASSERT_FALSE(r.has_pace);
	CU_ASSERT_FALSE(r.has_stride);
	CU_ASSERT_DOUBLE_EQUAL(r.moving_s, 100.25, 0.3);
	CU_ASSERT_DOUBLE_EQUAL(r.distance_m, 250.0 + 2.5 * 0.125, 0.5); /* the slow-down */
	pacer_metrics_free(m);
}

/* A treadmill alone at 2 Hz: speed, counter distance, incline and its HR field. */
static void test_treadmill_alone(void)
{
	PacerMetrics *m = new_engine();
	int tm = pacer_metrics_add_sensor(m, PACER_SENSOR_TREADMILL);
	PacerMetricsSnapshot r;

	for (int i = 0; i <= 200; i++)
		treadmill(m, tm, i * 0.5, 3.0, (uint32_t)(i * 1.5), 1.5, 140);
	r = snap(m, 100.0);
	CU_ASSERT_DOUBLE_EQUAL(r.speed_mps, 3.0, 0.01);
	CU_ASSERT_EQUAL(r.speed_source.kind, PACER_SENSOR_TREADMILL);
	CU_ASSERT_DOUBLE_EQUAL(r.distance_m, 300.0, 1e-9);
	CU_ASSERT_TRUE(r.has_incline);
	CU_ASSERT_DOUBLE_EQUAL(r.incline_pct, 1.5, 1e-9);
	CU_ASSERT_TRUE(r.has_hr);
	CU_ASSERT_EQUAL(r.hr_bpm, 140);
	CU_ASSERT_EQUAL(r.hr_source.kind, PACER_SENSOR_TREADMILL);
	CU_ASSERT_FALSE(r.has_cadence); /* treadmills send no cadence */
	pacer_metrics_free(m);
}

/*
 * Both together: a footpod reading 5 % short next to a treadmill. The treadmill
 * is the source; auto-calibration finds the factor 1/0.95 within 1 % after
 * 400 m; when the treadmill falls silent the calibrated footpod takes over and
 * the distance stays true; when it returns it does not count twice.
 */
static void test_both_auto_calibration(void)
{
	PacerMetrics *m = new_engine();
	int tm = pacer_metrics_add_sensor(m, PACER_SENSOR_TREADMILL);
	int fp = pacer_metrics_add_sensor(m, PACER_SENSOR_FOOTPOD);
	const double v = 3.2, pod = 0.95;
	PacerMetricsSnapshot r;
	double t;

	for (t = 0.0; t <= 200.0 + 1e-9; t += 0.25) {
		if (fmod(t, 0.5) < 1e-9)
			treadmill(m, tm, t, v, (uint32_t)(v * t), 0.0, 0);
		footpod(m, fp, t + 0.01, v * pod, 85, true, v * pod * t);
	}
	r = snap(m, 200.0);
	CU_ASSERT_EQUAL(r.speed_source.kind, PACER_SENSOR_TREADMILL);
	CU_ASSERT_EQUAL(r.cadence_source.kind, PACER_SENSOR_FOOTPOD);
	CU_ASSERT_TRUE(r.calibration_auto);
	CU_ASSERT_DOUBLE_EQUAL(r.calibration_factor, 1.0 / pod, 0.01 / pod);
	CU_ASSERT_DOUBLE_EQUAL(r.distance_m, v * 200.0, 1.0);
	/* the pod counts strides (85/min at 3.2 m/s): normalised to steps */
	CU_ASSERT_EQUAL(r.cadence_decision, PACER_CADENCE_DECISION_STRIDES);
	CU_ASSERT_DOUBLE_EQUAL(r.cadence_spm, 170.0, 1e-9);

	/* the treadmill falls silent for 60 s: the footpod takes over, calibrated */
	for (; t <= 260.0 + 1e-9; t += 0.25)
		footpod(m, fp, t + 0.01, v * pod, 85, true, v * pod * t);
	r = snap(m, 260.0);
	CU_ASSERT_EQUAL(r.speed_source.kind, PACER_SENSOR_FOOTPOD);
	CU_ASSERT_DOUBLE_EQUAL(r.speed_mps, v, v * 0.01);
	CU_ASSERT_DOUBLE_EQUAL(r.distance_m, v * 260.0, v * 260.0 * 0.005);

	/* it comes back with a counter that kept running: no double counting */
	for (; t <= 300.0 + 1e-9; t += 0.25) {
		if (fmod(t, 0.5) < 1e-9)
			treadmill(m, tm, t, v, (uint32_t)(v * t), 0.0, 0);
		footpod(m, fp, t + 0.01, v * pod, 85, true, v * pod * t);
	}
	r = snap(m, 300.0);
	CU_ASSERT_EQUAL(r.speed_source.kind, PACER_SENSOR_TREADMILL);
	CU_ASSERT_DOUBLE_EQUAL(r.distance_m, v * 300.0, v * 300.0 * 0.005);
	pacer_metrics_free(m);
}

/* Without a treadmill the manual factor applies to speed and distance. */
static void test_manual_calibration(void)
{
	PacerMetricsConfig c;
	PacerMetrics *m;
	PacerMetricsSnapshot r;
	int fp;

	pacer_metrics_config_init(&c);
	c.footpod_calibration = 1.04;
	m = new_engine_with(&c);
	fp = pacer_metrics_add_sensor(m, PACER_SENSOR_FOOTPOD);
	for (int i = 0; i <= 100; i++)
		footpod(m, fp, i * 0.5, 2.5, 176, true, i * 1.25);
	r = snap(m, 50.0);
	CU_ASSERT_FALSE(r.calibration_auto);
	CU_ASSERT_DOUBLE_EQUAL(r.calibration_factor, 1.04, 1e-12);
	CU_ASSERT_DOUBLE_EQUAL(r.speed_mps, 2.6, 0.01);
	CU_ASSERT_DOUBLE_EQUAL(r.distance_m, 130.0, 1e-6);
	pacer_metrics_free(m);
}

/*
 * A factor learned in an earlier run starts the footpod (over the manual
 * one) until this run measures its own; refused when auto_calibrate is off,
 * out of range, or once measured.
 */
static void test_seeded_calibration(void)
{
	PacerMetricsConfig c;
	PacerMetrics *m;
	PacerMetricsSnapshot r;
	const double v = 3.2, pod = 0.95;
	int tm, fp;
	double t;

	pacer_metrics_config_init(&c);
	c.footpod_calibration = 1.04;
	m = new_engine_with(&c);
	fp = pacer_metrics_add_sensor(m, PACER_SENSOR_FOOTPOD);
	CU_ASSERT_EQUAL(pacer_metrics_seed_calibration(m, 0.49), -EINVAL);
	CU_ASSERT_EQUAL(pacer_metrics_seed_calibration(m, 1.51), -EINVAL);
	CU_ASSERT_EQUAL(pacer_metrics_seed_calibration(m, NAN), -EINVAL);
	CU_ASSERT_EQUAL(pacer_metrics_seed_calibration(m, 1.0 / pod), 0);
	for (int i = 0; i <= 100; i++)
		footpod(m, fp, i * 0.5, v * pod, 176, true, i * 0.5 * v * pod);
	r = snap(m, 50.0);
	CU_ASSERT_FALSE(r.calibration_auto);
	CU_ASSERT_DOUBLE_EQUAL(r.calibration_factor, 1.0 / pod, 1e-12);
	CU_ASSERT_DOUBLE_EQUAL(r.speed_mps, v, 0.01);
	CU_ASSERT_DOUBLE_EQUAL(r.distance_m, v * 50.0, 1e-6);
	pacer_metrics_free(m);

	/* a treadmill measures 1/0.97 in this run: that wins, and no seed replaces it */
	m = new_engine();
	tm = pacer_metrics_add_sensor(m, PACER_SENSOR_TREADMILL);
	fp = pacer_metrics_add_sensor(m, PACER_SENSOR_FOOTPOD);
	CU_ASSERT_EQUAL(pacer_metrics_seed_calibration(m, 1.2), 0);
	for (t = 0.0; t <= 200.0 + 1e-9; t += 0.25) {
		if (fmod(t, 0.5) < 1e-9)
			treadmill(m, tm, t, v, (uint32_t)(v * t), 0.0, 0);
		footpod(m, fp, t + 0.01, v * 0.97, 85, true, v * 0.97 * t);
	}
	r = snap(m, 200.0);
	CU_ASSERT_TRUE(r.calibration_auto);
	CU_ASSERT_DOUBLE_EQUAL(r.calibration_factor, 1.0 / 0.97, 0.01);
	CU_ASSERT_EQUAL(pacer_metrics_seed_calibration(m, 1.2), -EALREADY);
	pacer_metrics_free(m);

	pacer_metrics_config_init(&c);
	c.auto_calibrate = false;
	m = new_engine_with(&c);
	CU_ASSERT_EQUAL(pacer_metrics_seed_calibration(m, 1.05), -EPERM);
	pacer_metrics_free(m);
}

/* Cadence units: a pod counting strides, one counting steps, and the forced settings. */
static void test_cadence_units(void)
{
	PacerMetricsConfig c;
	PacerMetricsSnapshot r;
	PacerMetrics *m = new_engine();
	int strides = pacer_metrics_add_sensor(m, PACER_SENSOR_FOOTPOD);

	/* walking first (no decision from walking), then running */
	for (int i = 0; i < 8; i++)
		footpod(m, strides, i * 0.25, 1.4, 55, false, -1);
	r = snap(m, 2.0);
	CU_ASSERT_EQUAL(r.cadence_decision, PACER_CADENCE_DECISION_UNDECIDED);
	CU_ASSERT_DOUBLE_EQUAL(r.cadence_spm, 55.0, 1e-9);
	for (int i = 8; i < 40; i++)
		footpod(m, strides, i * 0.25, 3.3, 88, true, -1);
	r = snap(m, 10.0);
	CU_ASSERT_EQUAL(r.cadence_decision, PACER_CADENCE_DECISION_STRIDES);
	CU_ASSERT_DOUBLE_EQUAL(r.cadence_spm, 176.0, 1e-9);
	/* once decided, a walk is doubled too */
	for (int i = 40; i < 80; i++)
		footpod(m, strides, i * 0.25, 1.4, 55, false, -1);
	r = snap(m, 20.0);
	CU_ASSERT_DOUBLE_EQUAL(r.cadence_spm, 110.0, 1e-9);
	pacer_metrics_free(m);

	m = new_engine();
	strides = pacer_metrics_add_sensor(m, PACER_SENSOR_FOOTPOD);
	for (int i = 0; i < 40; i++)
		footpod(m, strides, i * 0.25, 3.3, 178, true, -1);
	r = snap(m, 10.0);
	CU_ASSERT_EQUAL(r.cadence_decision, PACER_CADENCE_DECISION_STEPS);
	CU_ASSERT_DOUBLE_EQUAL(r.cadence_spm, 178.0, 1e-9);
	pacer_metrics_free(m);

	pacer_metrics_config_init(&c);
	c.cadence_unit = PACER_CADENCE_UNIT_STRIDES;
	m = new_engine_with(&c);
	strides = pacer_metrics_add_sensor(m, PACER_SENSOR_FOOTPOD);
	for (int i = 0; i < 8; i++)
		footpod(m, strides, i * 0.25, 1.4, 55, false, -1);
	CU_ASSERT_DOUBLE_EQUAL(snap(m, 2.0).cadence_spm, 110.0, 1e-9);
	pacer_metrics_free(m);

	c.cadence_unit = PACER_CADENCE_UNIT_STEPS;
	m = new_engine_with(&c);
	strides = pacer_metrics_add_sensor(m, PACER_SENSOR_FOOTPOD);
	for (int i = 0; i < 40; i++)
		footpod(m, strides, i * 0.25, 3.3, 88, true, -1);
	CU_ASSERT_DOUBLE_EQUAL(snap(m, 10.0).cadence_spm, 88.0, 1e-9);
	pacer_metrics_free(m);
}

/* A footpod out of range for 10 s: values go null after 3 s, come back, and keep counting. */
static void test_dropout_and_return(void)
{
	PacerMetrics *m = new_engine();
	int fp = pacer_metrics_add_sensor(m, PACER_SENSOR_FOOTPOD);
	PacerMetricsSnapshot r;

	for (int i = 0; i <= 80; i++)
		footpod(m, fp, i * 0.25, 3.0, 170, true, i * 0.75);
	r = snap(m, 22.9);
	CU_ASSERT_TRUE(r.has_speed);
	CU_ASSERT_TRUE(r.has_cadence);
	r = snap(m, 23.1);
	CU_ASSERT_FALSE(r.has_speed);
	CU_ASSERT_FALSE(r.has_pace);
	CU_ASSERT_FALSE(r.has_cadence);
	CU_ASSERT_FALSE(r.speed_source.valid);
	CU_ASSERT_DOUBLE_EQUAL(r.distance_m, 60.0, 1e-6); /* kept, not null */
	for (int i = 120; i <= 160; i++)
		footpod(m, fp, i * 0.25, 3.0, 170, true, i * 0.75);
	r = snap(m, 40.0);
	CU_ASSERT_TRUE(r.has_speed);
	CU_ASSERT_TRUE(r.has_cadence);
	/* the pod's counter kept running while out of range, and nobody else counted */
	CU_ASSERT_DOUBLE_EQUAL(r.distance_m, 120.0, 1e-6);
	CU_ASSERT_DOUBLE_EQUAL(r.moving_s, 30.0, 1e-6);
	pacer_metrics_free(m);
}

/* A treadmill counter reset by a belt stop, and a 24-bit wrap: distance never goes back. */
static void test_treadmill_reset_and_wrap(void)
{
	PacerMetrics *m = new_engine();
	int tm = pacer_metrics_add_sensor(m, PACER_SENSOR_TREADMILL);
	PacerMetricsSnapshot r;
	double last = 0.0;
	uint32_t c;

	for (int i = 0; i <= 20; i++)
		treadmill(m, tm, i * 0.5, 3.0, (uint32_t)(i * 1.5), 0, 0);
	CU_ASSERT_DOUBLE_EQUAL(snap(m, 10.0).distance_m, 30.0, 1e-9);
	/* belt stops: speed 0 and the counter drops to zero, then the runner restarts */
	treadmill(m, tm, 10.5, 0.0, 0, 0, 0);
	CU_ASSERT_DOUBLE_EQUAL(snap(m, 10.5).distance_m, 30.0, 1e-9);
	for (int i = 1; i <= 20; i++)
		treadmill(m, tm, 10.5 + i * 0.5, 3.0, (uint32_t)(i * 1.5), 0, 0);
	CU_ASSERT_DOUBLE_EQUAL(snap(m, 20.5).distance_m, 60.0, 1e-9);

	/* a counter near 2^24 wraps through zero */
	m = (pacer_metrics_free(m), new_engine());
	tm = pacer_metrics_add_sensor(m, PACER_SENSOR_TREADMILL);
	c = 0xFFFFFFu - 20u;
	for (int i = 0; i <= 40; i++) {
		treadmill(m, tm, i * 0.5, 3.0, c, 0, 0);
		r = snap(m, i * 0.5);
		CU_ASSERT_TRUE(r.distance_m >= last);
		last = r.distance_m;
		c += (i % 2) ? 2 : 1;
	}
	CU_ASSERT_DOUBLE_EQUAL(last, 60.0, 1e-9);
	pacer_metrics_free(m);
}

/* A footpod's 32-bit decimetre counter wraps; a pod switched off and on restarts at 0. */
static void test_footpod_counter_wrap_and_reset(void)
{
	PacerMetrics *m = new_engine();
	int fp = pacer_metrics_add_sensor(m, PACER_SENSOR_FOOTPOD);
	PacerGattValue v = {.kind = PACER_GATT_RSC};
	uint32_t dm = 0xFFFFFFFFu - 15u;

	v.rsc.speed_raw = 768; /* 3 m/s */
	v.rsc.cadence_raw = 170;
	v.rsc.has_distance = true;
	for (int i = 0; i <= 8; i++) {
		v.rsc.distance_dm = dm;
		CU_ASSERT_EQUAL(pacer_metrics_feed(m, fp, &v, S(i * 0.25)), 0);
		dm += 7; /* 0.7 m per 0.25 s, wrapping after the third */
	}
	CU_ASSERT_DOUBLE_EQUAL(snap(m, 2.0).distance_m, 5.6, 1e-6);
	v.rsc.distance_dm = 0;
	CU_ASSERT_EQUAL(pacer_metrics_feed(m, fp, &v, S(2.25)), 0);
	v.rsc.distance_dm = 7;
	CU_ASSERT_EQUAL(pacer_metrics_feed(m, fp, &v, S(2.5)), 0);
	CU_ASSERT_DOUBLE_EQUAL(snap(m, 2.5).distance_m, 6.3, 1e-6);
	pacer_metrics_free(m);
}

/* The CS-WP8's real session: distance follows the belt and never goes back at the reset. */
static void test_real_treadmill_capture(void)
{
	char path[512], line[512];
	PacerMetrics *m = new_engine();
	int tm = pacer_metrics_add_sensor(m, PACER_SENSOR_TREADMILL);
	double last = 0.0;
	unsigned n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/cs-wp8-walk.capture", PACER_TEST_DATA_DIR);
	f = fopen(path, "r");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	while (fgets(line, sizeof(line), f)) {
		PacerCaptureRecord rec;
		PacerGattValue v;
		PacerMetricsSnapshot r;

		if (pacer_capture_parse_line(line, &rec, NULL) != 1)
			continue;
		CU_ASSERT_EQUAL_FATAL(pacer_gatt_decode(0x2ACD, rec.value, rec.len, &v), 0);
		CU_ASSERT_EQUAL(pacer_metrics_feed(m, tm, &v, rec.t_us), 0);
		pacer_metrics_snapshot(m, rec.t_us, &r);
		CU_ASSERT_TRUE(r.distance_m >= last);
		last = r.distance_m;
		n++;
	}
	fclose(f);
	CU_ASSERT_EQUAL(n, 197);
	CU_ASSERT_DOUBLE_EQUAL(last, 49.0, 1e-9);
	pacer_metrics_free(m);
}

/* A strap losing skin contact: HR goes null, RR is ignored, then it comes back. */
static void test_strap_contact(void)
{
	PacerMetrics *m = new_engine();
	int hr = pacer_metrics_add_sensor(m, PACER_SENSOR_HEART_RATE);
	static const uint16_t rr[] = {410};
	PacerMetricsSnapshot r;

	strap(m, hr, 0.0, 150, PACER_HR_CONTACT_DETECTED, rr, 1);
	strap(m, hr, 1.0, 151, PACER_HR_CONTACT_DETECTED, rr, 1);
	r = snap(m, 1.0);
	CU_ASSERT_TRUE(r.has_hr);
	CU_ASSERT_EQUAL(r.hr_bpm, 151);
	CU_ASSERT_EQUAL(r.hr_source.kind, PACER_SENSOR_HEART_RATE);
	CU_ASSERT_EQUAL(r.n_rr, 2);
	strap(m, hr, 2.0, 0, PACER_HR_CONTACT_NOT_DETECTED, rr, 1);
	r = snap(m, 2.0);
	CU_ASSERT_FALSE(r.has_hr);
	CU_ASSERT_EQUAL(r.n_rr, 0);
	CU_ASSERT_EQUAL(r.hr_dropped, 0); /* no contact is not an implausible value */
	strap(m, hr, 3.0, 149, PACER_HR_CONTACT_DETECTED, NULL, 0);
	r = snap(m, 3.0);
	CU_ASSERT_TRUE(r.has_hr);
	CU_ASSERT_EQUAL(r.hr_bpm, 149);
	/* silence: stale after 3 s */
	CU_ASSERT_TRUE(snap(m, 5.9).has_hr);
	CU_ASSERT_FALSE(snap(m, 6.1).has_hr);
	pacer_metrics_free(m);
}

/* Implausible values are dropped and counted; the strap wins over the treadmill's HR. */
static void test_hr_plausibility_and_priority(void)
{
	PacerMetrics *m = new_engine();
	int tm = pacer_metrics_add_sensor(m, PACER_SENSOR_TREADMILL);
	int hr = pacer_metrics_add_sensor(m, PACER_SENSOR_HEART_RATE);
	PacerMetricsSnapshot r;

	treadmill(m, tm, 0.0, 3.0, 0, 0, 120);
	strap(m, hr, 0.1, 155, PACER_HR_CONTACT_UNSUPPORTED, NULL, 0);
	r = snap(m, 0.5);
	CU_ASSERT_EQUAL(r.hr_bpm, 155);
	CU_ASSERT_EQUAL(r.hr_source.kind, PACER_SENSOR_HEART_RATE);
	strap(m, hr, 1.0, 0, PACER_HR_CONTACT_UNSUPPORTED, NULL, 0);
	strap(m, hr, 2.0, 300, PACER_HR_CONTACT_DETECTED, NULL, 0);
	strap(m, hr, 3.0, 24, PACER_HR_CONTACT_DETECTED, NULL, 0);
	treadmill(m, tm, 3.0, 3.0, 9, 0, 251);
	r = snap(m, 3.0);
	CU_ASSERT_EQUAL(r.hr_dropped, 4);
	CU_ASSERT_EQUAL(r.hr_bpm, 155); /* the last plausible value, still fresh */
	/* the strap falls silent: the treadmill's grip takes over */
	treadmill(m, tm, 4.0, 3.0, 12, 0, 131);
	r = snap(m, 4.0);
	CU_ASSERT_EQUAL(r.hr_bpm, 131);
	CU_ASSERT_EQUAL(r.hr_source.kind, PACER_SENSOR_TREADMILL);
	pacer_metrics_free(m);
}

static double *load_nn_intervals(size_t *ret_n)
{
	char path[512], line[256];
	double *v = calloc(2000, sizeof(double));
	size_t n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/nn-intervals-1000.txt", PACER_TEST_DATA_DIR);
	f = fopen(path, "r");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	while (fgets(line, sizeof(line), f) && n < 2000) {
		if (line[0] != '#')
			v[n++] = strtod(line, NULL);
	}
	fclose(f);
	*ret_n = n;
	return v;
}

/* Reference §3.7: 1000 NN intervals (hrv-analysis test data) have RMSSD 19.519400785 ms. */
static void test_rmssd_reference(void)
{
	size_t n;
	double *nn = load_nn_intervals(&n), rmssd = 0, t = 0;
	PacerHrv *h = pacer_hrv_new(S(1000), 4000);

	CU_ASSERT_EQUAL_FATAL(n, 1000);
	for (size_t i = 0; i < n; i++) {
		t += nn[i] / 1000.0;
		CU_ASSERT_TRUE(pacer_hrv_add(h, nn[i], S(t)));
	}
	CU_ASSERT_EQUAL(pacer_hrv_rmssd(h, S(t), &rmssd), 0);
	CU_ASSERT_DOUBLE_EQUAL(rmssd, 19.519400785039664, 1e-9);
	CU_ASSERT_EQUAL(pacer_hrv_artifacts(h), 0);
	pacer_hrv_free(h);

	/* the tiny vector: [1000, 1010, 990, 1005] -> 15.5456 ms */
	h = pacer_hrv_new(S(60), 240);
	pacer_hrv_add(h, 1000, S(1));
	pacer_hrv_add(h, 1010, S(2));
	pacer_hrv_add(h, 990, S(3));
	pacer_hrv_add(h, 1005, S(4));
	CU_ASSERT_EQUAL(pacer_hrv_rmssd(h, S(4), &rmssd), 0);
	CU_ASSERT_DOUBLE_EQUAL(rmssd, 15.5456, 1e-4);
	pacer_hrv_free(h);
	free(nn);
}

/*
 * The same series with artifacts inserted (missed beats, ectopic beats, noise
 * out of range): each is rejected and counted, and RMSSD still matches.
 */
static void test_rmssd_with_artifacts(void)
{
	size_t n;
	double *nn = load_nn_intervals(&n), rmssd = 0, t = 0;
	PacerHrv *h = pacer_hrv_new(S(1000), 4000);
	unsigned inserted = 0;

	for (size_t i = 0; i < n; i++) {
		if (i % 97 == 50) {
			pacer_hrv_add(h, nn[i] * 2.0, S(t)); /* a missed beat */
			pacer_hrv_add(h, nn[i] * 0.55, S(t)); /* an ectopic beat */
			pacer_hrv_add(h, 2500.0, S(t));       /* noise */
			pacer_hrv_add(h, 0.0, S(t));
			inserted += 4;
		}
		t += nn[i] / 1000.0;
		CU_ASSERT_TRUE(pacer_hrv_add(h, nn[i], S(t)));
	}
	CU_ASSERT_EQUAL(pacer_hrv_artifacts(h), inserted);
	CU_ASSERT_EQUAL(pacer_hrv_accepted(h), 1000);
	CU_ASSERT_EQUAL(pacer_hrv_rmssd(h, S(t), &rmssd), 0);
	CU_ASSERT_DOUBLE_EQUAL(rmssd, 19.519400785039664, 1e-9);
	pacer_hrv_free(h);
	free(nn);
}

/* A sustained step in heart rate is followed, not rejected for ever. */
static void test_rr_step_change(void)
{
	PacerHrv *h = pacer_hrv_new(S(60), 240);
	double t = 0;

	for (int i = 0; i < 30; i++)
		CU_ASSERT_TRUE(pacer_hrv_add(h, 800, S(t += 0.8)));
	for (int i = 0; i < 4; i++)
		CU_ASSERT_FALSE(pacer_hrv_add(h, 500, S(t += 0.5)));
	for (int i = 0; i < 10; i++)
		CU_ASSERT_TRUE(pacer_hrv_add(h, 500, S(t += 0.5)));
	pacer_hrv_free(h);
}

/* The same RR series through the strap and the engine (1/1024 s units, 60 s window). */
static void test_rmssd_through_engine(void)
{
	PacerMetricsConfig c;
	PacerMetrics *m;
	PacerMetricsSnapshot r = {0};
	size_t n;
	double *nn = load_nn_intervals(&n), t = 0, expected_sq = 0;
	int hr;

	pacer_metrics_config_init(&c);
	c.rmssd_window_us = S(2000);
	m = new_engine_with(&c);
	hr = pacer_metrics_add_sensor(m, PACER_SENSOR_HEART_RATE);
	for (size_t i = 0; i < n; i += 2) {
		uint16_t rr[2] = {(uint16_t)lround(nn[i] * 1.024), (uint16_t)lround(nn[i + 1] * 1.024)};

		t += (nn[i] + nn[i + 1]) / 1000.0;
		strap(m, hr, t, 80, PACER_HR_CONTACT_DETECTED, rr, 2);
		if (i % 64 == 0)
			pacer_metrics_snapshot(m, S(t), &r);
	}
	pacer_metrics_snapshot(m, S(t), &r);
	for (size_t i = 1; i < n; i++) {
		double a = lround(nn[i - 1] * 1.024) / 1.024, b = lround(nn[i] * 1.024) / 1.024;

		expected_sq += (b - a) * (b - a);
	}
	CU_ASSERT_TRUE(r.has_rmssd);
	CU_ASSERT_DOUBLE_EQUAL(r.rmssd_ms, sqrt(expected_sq / 999.0), 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(r.rmssd_ms, 19.5194, 0.1);
	CU_ASSERT_EQUAL(r.rr_artifacts, 0);
	pacer_metrics_free(m);
	free(nn);
}

/* Reference §3.6: 45 min at 150 bpm, rest 60, max 190 -> TRIMP 75.33 (men), 85.14 (women). */
static void test_trimp_and_time_in_zone(void)
{
	PacerAthlete athlete = {.max_hr = 190};
	PacerMetricsConfig c;

	for (int sex = 0; sex < 2; sex++) {
		PacerMetricsSnapshot r;
		PacerMetrics *m;
		int hr;

		pacer_metrics_config_init(&c);
		c.resting_hr = 60;
		c.max_hr = 190;
		c.sex = sex ? PACER_SEX_FEMALE : PACER_SEX_MALE;
		CU_ASSERT_EQUAL_FATAL(pacer_hr_zones_compute(&athlete, &c.hr_zones), 0);
		m = new_engine_with(&c);
		hr = pacer_metrics_add_sensor(m, PACER_SENSOR_HEART_RATE);
		for (int i = 0; i <= 2700; i++)
			strap(m, hr, i, 150, PACER_HR_CONTACT_DETECTED, NULL, 0);
		r = snap(m, 2700);
		CU_ASSERT_TRUE(r.has_trimp);
		CU_ASSERT_DOUBLE_EQUAL(r.trimp, sex ? 85.14 : 75.33, 0.01);
		/* 150 bpm is zone 3 (133-151) of a 190 max */
		CU_ASSERT_EQUAL(r.hr_zone, 3);
		CU_ASSERT_DOUBLE_EQUAL(r.time_in_zone_s[3], 2700.0, 1e-6);
		CU_ASSERT_DOUBLE_EQUAL(r.time_in_zone_s[4], 0.0, 1e-9);
		pacer_metrics_free(m);
	}
}

/* A speed alternating 2.9/3.1 m/s is smoothed to 3.0 over the window. */
static void test_smoothing(void)
{
	PacerMetrics *m = new_engine();
	int fp = pacer_metrics_add_sensor(m, PACER_SENSOR_FOOTPOD);
	PacerMetricsSnapshot r;

	for (int i = 0; i <= 80; i++)
		footpod(m, fp, i * 0.25, (i % 2) ? 2.9 : 3.1, 170, true, -1);
	r = snap(m, 20.0);
	CU_ASSERT_DOUBLE_EQUAL(r.speed_mps, 3.0, 0.005);
	CU_ASSERT_DOUBLE_EQUAL(r.speed_instant_mps, 3.1, 0.005);
	pacer_metrics_free(m);
}

#define KEPT 64 /* samples the engine keeps per value */

static uint32_t next_random(uint32_t *seed)
{
	*seed = *seed * 1103515245u + 12345u;
	return *seed >> 8;
}

/* The time-weighted mean over [now - window, now], newest sample first: the reference. */
static double reference_mean(const uint64_t *t, const double *v, size_t n, uint64_t now_us,
			     uint64_t window_us)
{
	uint64_t since = now_us > window_us ? now_us - window_us : 0, end = now_us, total = 0;
	double sum = 0.0;

	for (size_t k = n; k > (n > KEPT ? n - KEPT : 0); k--) {
		uint64_t start = t[k - 1] > since ? t[k - 1] : since;

		if (end > start) {
			sum += v[k - 1] * (double)(end - start);
			total += end - start;
		}
		if (t[k - 1] <= since)
			break;
		if (t[k - 1] < end)
			end = t[k - 1];
	}
	return total > 0 ? sum / (double)total : v[n - 1];
}

/*
 * A footpod's smoothed speed and cadence are bit for bit what a pass over
 * the window gives, whatever the gaps (equal times, silences longer than the
 * window, more samples than are kept) and when snapshots go back in time.
 */
static void test_smoothing_like_a_full_pass(void)
{
	enum { N = 4000 };
	PacerMetricsConfig c;
	PacerMetrics *m;
	uint64_t *t = calloc(N, sizeof(*t)), now = 0;
	double *speed = calloc(N, sizeof(*speed)), *cadence = calloc(N, sizeof(*cadence));
	uint32_t seed = 7;
	int fp;

	CU_ASSERT_FATAL(t && speed && cadence);
	pacer_metrics_config_init(&c);
	c.cadence_unit = PACER_CADENCE_UNIT_STEPS;
	m = new_engine_with(&c);
	fp = pacer_metrics_add_sensor(m, PACER_SENSOR_FOOTPOD);
	for (size_t i = 0; i < N; i++) {
		PacerGattValue v = {.kind = PACER_GATT_RSC};
		uint32_t gap = next_random(&seed) % 100;
		PacerMetricsSnapshot r;

		/* mostly a few per second; some at the same time, some after a long silence */
		if (gap >= 8)
			now += next_random(&seed) % 400000;
		else if (gap >= 5)
			now += S(6.0 + gap);
		v.rsc.speed_raw = (uint16_t)(next_random(&seed) % 1500);
		v.rsc.cadence_raw = (uint8_t)(next_random(&seed) % 250);
		CU_ASSERT_EQUAL_FATAL(pacer_metrics_feed(m, fp, &v, now), 0);
		t[i] = now;
		speed[i] = v.rsc.speed_raw / 256.0;
		cadence[i] = v.rsc.cadence_raw;

		for (int k = 0; k < 2; k++) {
			uint64_t at = now + next_random(&seed) % 2900000;

			if (next_random(&seed) % 10 == 0 && now > 300000)
				at = now - next_random(&seed) % 300000; /* before the newest */
			pacer_metrics_snapshot(m, at, &r);
			if (!r.has_speed)
				continue;
			CU_ASSERT_EQUAL(r.speed_mps,
					reference_mean(t, speed, i + 1, at, c.smoothing_us));
			CU_ASSERT_EQUAL(r.cadence_spm,
					reference_mean(t, cadence, i + 1, at, c.smoothing_us));
		}
	}
	pacer_metrics_free(m);
	free(t);
	free(speed);
	free(cadence);
}

/*
 * RMSSD over the window is what a pass over the kept pairs gives, newest
 * first and up to the first one older than the window, as times and queries
 * go back and forth and the ring of pairs overwrites its oldest.
 */
static void test_rmssd_window_moves(void)
{
	enum { N = 3000, CAPACITY = 16 };
	PacerHrv *h = pacer_hrv_new(S(10), CAPACITY);
	uint64_t pair_t[N], now = S(100);
	double pair_sq[N], last = 0;
	size_t n_pairs = 0;
	uint32_t seed = 3;

	CU_ASSERT_PTR_NOT_NULL_FATAL(h);
	for (size_t i = 0; i < N; i++) {
		double rr = 800 + (double)(next_random(&seed) % 41) - 20, rmssd = -1, sum = 0;
		uint64_t at, since;
		size_t n = 0;
		int r;

		/* now and then a time before the previous one (two straps, or a clock step) */
		now = next_random(&seed) % 8 == 0 ? now - next_random(&seed) % S(3) :
						    now + next_random(&seed) % S(1.5);
		CU_ASSERT_TRUE_FATAL(pacer_hrv_add(h, rr, now));
		if (i > 0) {
			pair_t[n_pairs] = now;
			pair_sq[n_pairs++] = (rr - last) * (rr - last);
		}
		last = rr;

		at = now + next_random(&seed) % S(12) - S(2);
		since = at > S(10) ? at - S(10) : 0;
		for (size_t k = n_pairs; k > (n_pairs > CAPACITY ? n_pairs - CAPACITY : 0); k--) {
			if (pair_t[k - 1] < since)
				break;
			sum += pair_sq[k - 1];
			n++;
		}
		r = pacer_hrv_rmssd(h, at, &rmssd);
		CU_ASSERT_EQUAL(r, n > 0 ? 0 : -ENODATA);
		if (n > 0)
			CU_ASSERT_EQUAL(rmssd, sqrt(sum / (double)n));
	}
	pacer_hrv_free(h);
}

static void test_bad_input(void)
{
	PacerMetricsConfig c;
	PacerMetrics *m = new_engine();
	int hr = pacer_metrics_add_sensor(m, PACER_SENSOR_HEART_RATE);
	PacerGattValue v = {.kind = PACER_GATT_RSC};

	CU_ASSERT_EQUAL(pacer_metrics_feed(m, hr, &v, 0), -EINVAL); /* RSC from a strap */
	CU_ASSERT_EQUAL(pacer_metrics_feed(m, 7, &v, 0), -EINVAL);
	CU_ASSERT_EQUAL(pacer_metrics_feed(m, -1, &v, 0), -EINVAL);
	v.kind = PACER_GATT_BATTERY;
	CU_ASSERT_EQUAL(pacer_metrics_feed(m, hr, &v, S(5)), 0);
	CU_ASSERT_EQUAL(pacer_metrics_feed(m, hr, &v, S(4)), -ERANGE);
	CU_ASSERT_EQUAL(pacer_metrics_add_sensor(m, (PacerSensorKind)7), -EINVAL);
	for (int i = 1; i < PACER_METRICS_MAX_SENSORS; i++)
		CU_ASSERT_TRUE(pacer_metrics_add_sensor(m, PACER_SENSOR_FOOTPOD) >= 0);
	CU_ASSERT_EQUAL(pacer_metrics_add_sensor(m, PACER_SENSOR_FOOTPOD), -ENOSPC);
	pacer_metrics_free(m);
	pacer_metrics_free(NULL);

	pacer_metrics_config_init(&c);
	c.footpod_calibration = 0.0;
	CU_ASSERT_PTR_NULL(pacer_metrics_new(&c));
	pacer_metrics_config_init(&c);
	c.stale_us = 0;
	CU_ASSERT_PTR_NULL(pacer_metrics_new(&c));
}

int main(void)
{
	static const PacerTest tests[] = {
		{"footpod alone", test_footpod_alone},
		{"footpod integrated, then standing still", test_footpod_integrated_and_standing},
		{"treadmill alone", test_treadmill_alone},
		{"treadmill and footpod: auto-calibration, dropout", test_both_auto_calibration},
		{"manual footpod calibration", test_manual_calibration},
		{"a footpod factor learned earlier", test_seeded_calibration},
		{"cadence units: strides, steps, forced", test_cadence_units},
		{"sensor dropping out and returning", test_dropout_and_return},
		{"treadmill counter reset and 24-bit wrap", test_treadmill_reset_and_wrap},
		{"footpod counter wrap and reset", test_footpod_counter_wrap_and_reset},
		{"real CS-WP8 session", test_real_treadmill_capture},
		{"strap losing contact", test_strap_contact},
		{"HR plausibility and source priority", test_hr_plausibility_and_priority},
		{"RMSSD of the reference series", test_rmssd_reference},
		{"RMSSD with artifacts", test_rmssd_with_artifacts},
		{"RR step change followed", test_rr_step_change},
		{"RMSSD through the engine", test_rmssd_through_engine},
		{"TRIMP and time in zone", test_trimp_and_time_in_zone},
		{"speed smoothing", test_smoothing},
		{"smoothing: as a pass over the window", test_smoothing_like_a_full_pass},
		{"RMSSD: the window as times and queries move", test_rmssd_window_moves},
		{"bad input", test_bad_input},
		{NULL, NULL},
	};

	return pacer_test_main("metrics", tests);
}
