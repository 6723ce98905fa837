/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The virtual runner: plans built by hand, its notifications decoded with
 * the GATT decoders and fed through the metrics engine, which must see what
 * the runner did: paces inside their bands, heart rate lagging the effort,
 * cadence units, contact loss, a scripted fast rep, dropouts, a treadmill
 * and the distance of the whole session.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pacer-gatt.h"
#include "pacer-metrics.h"
#include "pacer-sim.h"
#include "test-common.h"

#define BAND_FAST   245.0
#define BAND_SLOW   255.0
#define BAND_CENTRE 250.0
#define EASY_PACE   360.0

static PacerStep step_time(PacerStepKind kind, double duration_s)
{
	return (PacerStep){.kind = kind,
			   .end = PACER_STEP_END_TIME,
			   .duration_s = duration_s,
			   .negative_group = -1};
}

static PacerStep step_distance(PacerStepKind kind, double distance_m)
{
	return (PacerStep){.kind = kind,
			   .end = PACER_STEP_END_DISTANCE,
			   .distance_m = distance_m,
			   .negative_group = -1};
}

static void set_pace(PacerStep *st, double fast, double slow)
{
	st->target.has_pace = true;
	st->target.pace_fast_s_per_km = fast;
	st->target.pace_slow_s_per_km = slow;
}

static void add_step(PacerPlan *p, PacerStep st)
{
	st.index = (unsigned)p->n_steps;
	p->steps[p->n_steps++] = st;
}

/* 60 s easy, 400 m at 250 s/km [245, 255], 60 s rest. */
static void plan_three(PacerPlan *p)
{
	PacerStep work = step_distance(PACER_STEP_RUN, 400.0);

	memset(p, 0, sizeof(*p));
	add_step(p, step_time(PACER_STEP_WARMUP, 60.0));
	set_pace(&work, BAND_FAST, BAND_SLOW);
	add_step(p, work);
	add_step(p, step_time(PACER_STEP_REST, 60.0));
}

/* 5 min easy, 4 x (400 m at 5k pace, 2 min rest), 5 min easy: steps 1 3 5 7 are the reps. */
static void plan_reps(PacerPlan *p)
{
	memset(p, 0, sizeof(*p));
	p->has_repeats = true;
	add_step(p, step_time(PACER_STEP_WARMUP, 300.0));
	for (unsigned rep = 1; rep <= 4; rep++) {
		PacerStep work = step_distance(PACER_STEP_RUN, 400.0);
		PacerStep rest = step_time(PACER_STEP_REST, 120.0);

		set_pace(&work, BAND_FAST, BAND_SLOW);
		work.rep = rest.rep = rep;
		work.reps = rest.reps = 4;
		add_step(p, work);
		add_step(p, rest);
	}
	add_step(p, step_time(PACER_STEP_COOLDOWN, 300.0));
}

static PacerSimConfig sim_config(uint64_t seed)
{
	PacerSimConfig c;

	pacer_sim_config_init(&c);
	c.seed = seed;
	return c;
}

static PacerSim *new_sim(const PacerSimConfig *c, const PacerPlan *p)
{
	PacerSim *sim = pacer_sim_new(c, p);

	CU_ASSERT_PTR_NOT_NULL_FATAL(sim);
	return sim;
}

/* A simulator feeding a metrics engine, one sensor id per kind. */
typedef struct {
	PacerSim *sim;
	PacerMetrics *m;
	int ids[3];
	PacerSimNotification n;
	PacerGattValue v;
	PacerSimState st;
	PacerMetricsSnapshot snap;
	uint64_t last_t_us;
	size_t count;
} Run;

static void run_start(Run *r, const PacerSimConfig *c, const PacerPlan *p)
{
	PacerMetricsConfig mc;

	memset(r, 0, sizeof(*r));
	r->sim = new_sim(c, p);
	pacer_metrics_config_init(&mc);
	r->m = pacer_metrics_new(&mc);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r->m);
	r->ids[PACER_SENSOR_HEART_RATE] = pacer_metrics_add_sensor(r->m, PACER_SENSOR_HEART_RATE);
	r->ids[PACER_SENSOR_FOOTPOD] = pacer_metrics_add_sensor(r->m, PACER_SENSOR_FOOTPOD);
	r->ids[PACER_SENSOR_TREADMILL] = pacer_metrics_add_sensor(r->m, PACER_SENSOR_TREADMILL);
}

static void run_end(Run *r)
{
	pacer_sim_free(r->sim);
	pacer_metrics_free(r->m);
}

/*
 * The next notification: checked to decode without error and to come no
 * earlier than the previous one, fed to the engine, then a snapshot taken.
 * Returns false at the end of the workout.
 */
static bool run_step(Run *r)
{
	int k = pacer_sim_next(r->sim, &r->n);

	CU_ASSERT_TRUE(k == 0 || k == 1);
	if (k != 1)
		return false;
	CU_ASSERT_TRUE(r->n.t_us >= r->last_t_us);
	r->last_t_us = r->n.t_us;
	r->count++;
	CU_ASSERT_EQUAL_FATAL(pacer_gatt_decode(r->n.uuid16, r->n.value, r->n.len, &r->v), 0);
	CU_ASSERT_EQUAL(pacer_metrics_feed(r->m, r->ids[r->n.kind], &r->v, r->n.t_us), 0);
	pacer_sim_get_state(r->sim, &r->st);
	CU_ASSERT_EQUAL(r->st.t_us, r->n.t_us);
	pacer_metrics_snapshot(r->m, r->n.t_us, &r->snap);
	return true;
}

/* The whole stream as capture lines, NUL-separated, into a growing buffer. */
static char *capture(const PacerSimConfig *c, const PacerPlan *p, size_t *ret_len)
{
	PacerSim *sim = new_sim(c, p);
	PacerSimNotification n;
	size_t len = 0, cap = 1 << 16;
	char *out = malloc(cap);

	CU_ASSERT_PTR_NOT_NULL_FATAL(out);
	while (pacer_sim_next(sim, &n) == 1) {
		int w;

		if (cap - len < PACER_SIM_LINE_MAX) {
			cap *= 2;
			out = realloc(out, cap);
			CU_ASSERT_PTR_NOT_NULL_FATAL(out);
		}
		w = pacer_sim_write_line(&n, out + len, PACER_SIM_LINE_MAX);
		CU_ASSERT_TRUE_FATAL(w > 0);
		len += (size_t)w + 1;
	}
	pacer_sim_free(sim);
	*ret_len = len;
	return out;
}

static void test_determinism(void)
{
	PacerPlan p;
	PacerSimConfig c = sim_config(42);
	size_t la, lb, lc;
	char *a, *b, *d;

	plan_three(&p);
	a = capture(&c, &p, &la);
	b = capture(&c, &p, &lb);
	CU_ASSERT_TRUE(la > 1000);
	CU_ASSERT_EQUAL(la, lb);
	CU_ASSERT_TRUE(la == lb && memcmp(a, b, la) == 0);
	c.seed = 43;
	d = capture(&c, &p, &lc);
	CU_ASSERT_FALSE(la == lc && memcmp(a, d, la) == 0);
	free(a);
	free(b);
	free(d);
}

/* A sensor switched off or dropping out leaves the runner and the other sensors unchanged. */
static void test_streams_independent(void)
{
	PacerPlan p;
	PacerSimConfig c = sim_config(5);
	PacerSim *a, *b;
	PacerSimNotification na, nb;

	plan_three(&p);
	a = new_sim(&c, &p);
	c.footpod = false;
	b = new_sim(&c, &p);
	while (pacer_sim_next(b, &nb) == 1) {
		do {
			CU_ASSERT_EQUAL_FATAL(pacer_sim_next(a, &na), 1);
		} while (na.kind != PACER_SENSOR_HEART_RATE);
		CU_ASSERT_EQUAL(na.t_us, nb.t_us);
		CU_ASSERT_EQUAL(na.len, nb.len);
		CU_ASSERT_TRUE(na.len == nb.len && memcmp(na.value, nb.value, na.len) == 0);
	}
	pacer_sim_free(a);
	pacer_sim_free(b);
}

/* One decoded value against the runner's true state at the same instant. */
static void check_agrees(const Run *r)
{
	switch (r->n.kind) {
	case PACER_SENSOR_HEART_RATE:
		CU_ASSERT_EQUAL(r->n.uuid16, 0x2A37);
		CU_ASSERT_STRING_EQUAL(r->n.address, "C0:FF:EE:00:00:01");
		CU_ASSERT_EQUAL(r->v.hr.contact, PACER_HR_CONTACT_DETECTED);
		CU_ASSERT_TRUE(fabs(r->v.hr.hr_bpm - r->st.hr_bpm) <= 3.0);
		break;
	case PACER_SENSOR_FOOTPOD:
		CU_ASSERT_EQUAL(r->n.uuid16, 0x2A53);
		CU_ASSERT_STRING_EQUAL(r->n.address, "C0:FF:EE:00:00:02");
		CU_ASSERT_EQUAL(r->n.len, 8);
		CU_ASSERT_TRUE(r->v.rsc.has_distance);
		CU_ASSERT_TRUE(fabs(pacer_rsc_speed_mps(&r->v.rsc) - r->st.speed_mps) <=
			       0.04 * r->st.speed_mps + 0.01);
		CU_ASSERT_TRUE(fabs(pacer_rsc_distance_m(&r->v.rsc) - r->st.distance_m) <= 0.11);
		CU_ASSERT_EQUAL(r->v.rsc.running, r->st.speed_mps > 2.0);
		break;
	case PACER_SENSOR_TREADMILL:
		CU_ASSERT_EQUAL(r->n.uuid16, 0x2ACD);
		CU_ASSERT_STRING_EQUAL(r->n.address, "C0:FF:EE:00:00:03");
		CU_ASSERT_TRUE(fabs(pacer_treadmill_speed_kmh(r->v.treadmill.speed_raw) -
				    r->st.speed_mps * 3.6) <= 0.0051);
		CU_ASSERT_EQUAL(r->v.treadmill.distance_m, (uint32_t)floor(r->st.distance_m));
		CU_ASSERT_EQUAL(r->v.treadmill.elapsed_s, (uint16_t)(r->n.t_us / 1000000u));
		break;
	}
}

/* Every sensor at once: each value decodes and agrees with the runner's true state. */
static void test_decodes_and_agrees(void)
{
	PacerPlan p;
	PacerSimConfig c = sim_config(1);
	PacerSimNotification n;
	Run r;
	size_t seen[3] = {0};
	double plan_end_s = 0.0;

	plan_three(&p);
	c.treadmill = true;
	run_start(&r, &c, &p);
	while (run_step(&r)) {
		seen[r.n.kind]++;
		check_agrees(&r);
		if (r.st.step == 3 && plan_end_s == 0.0)
			plan_end_s = (double)r.n.t_us / 1e6 - r.st.step_elapsed_s;
	}
	/* 1 Hz, 4 Hz and 2 Hz: the counts are in proportion */
	CU_ASSERT_TRUE(seen[PACER_SENSOR_FOOTPOD] >= 4 * seen[PACER_SENSOR_HEART_RATE] - 4);
	CU_ASSERT_TRUE(seen[PACER_SENSOR_TREADMILL] >= 2 * seen[PACER_SENSOR_HEART_RATE] - 2);
	/* standing 5 s before and after: the stream ends 5 s after the last step */
	CU_ASSERT_DOUBLE_EQUAL((double)r.last_t_us / 1e6, plan_end_s + 5.0, 0.26);
	CU_ASSERT_EQUAL(pacer_sim_next(r.sim, &n), 0);
	CU_ASSERT_EQUAL(pacer_sim_next(r.sim, &n), 0);
	run_end(&r);
}

/* Standing for 5 s, then the first step: auto-start logic sees the transition. */
static void test_starts_standing(void)
{
	PacerPlan p;
	PacerSimConfig c = sim_config(3);
	Run r;

	plan_three(&p);
	run_start(&r, &c, &p);
	while (run_step(&r) && r.n.t_us < 5000000u) {
		CU_ASSERT_EQUAL(r.st.step, -1);
		if (r.n.kind == PACER_SENSOR_FOOTPOD) {
			CU_ASSERT_EQUAL(r.v.rsc.speed_raw, 0);
			CU_ASSERT_EQUAL(r.v.rsc.cadence_raw, 0);
			CU_ASSERT_FALSE(r.v.rsc.running);
		}
	}
	while (run_step(&r) && r.n.t_us < 25000000u)
		CU_ASSERT_EQUAL(r.st.step, 0);
	CU_ASSERT_TRUE(r.snap.has_pace);
	CU_ASSERT_DOUBLE_EQUAL(r.snap.pace_s_per_km, EASY_PACE, 15.0);
	run_end(&r);
}

/* The smoothed pace of the 400 m stays in its band after the first 15 s, whatever the seed. */
static void test_pace_in_band(void)
{
	PacerPlan p;

	plan_three(&p);
	for (uint64_t seed = 1; seed <= 8; seed++) {
		PacerSimConfig c = sim_config(seed);
		Run r;
		size_t checked = 0;
		double lo = 1e9, hi = 0.0;

		run_start(&r, &c, &p);
		while (run_step(&r)) {
			if (r.st.step != 1 || r.st.step_elapsed_s < 15.0)
				continue;
			CU_ASSERT_TRUE_FATAL(r.snap.has_pace);
			lo = fmin(lo, r.snap.pace_s_per_km);
			hi = fmax(hi, r.snap.pace_s_per_km);
			checked++;
		}
		CU_ASSERT_TRUE(checked > 300); /* 85 s of samples at 4 Hz and more */
		CU_ASSERT_TRUE(lo >= BAND_FAST);
		CU_ASSERT_TRUE(hi <= BAND_SLOW);
		if (lo < BAND_FAST || hi > BAND_SLOW)
			printf("\nseed %llu: pace %.1f-%.1f\n", (unsigned long long)seed, lo, hi);
		run_end(&r);
	}
}

/* Heart rate rises through the work and falls through the rest, each with a lag. */
static void test_hr_lags_effort(void)
{
	PacerPlan p;
	PacerSimConfig c = sim_config(9);
	Run r;
	unsigned work_start = 0, work_end = 0, rest_5s = 0, rest_end = 0;

	plan_three(&p);
	run_start(&r, &c, &p);
	while (run_step(&r)) {
		if (r.n.kind != PACER_SENSOR_HEART_RATE || r.st.step < 1)
			continue;
		CU_ASSERT_TRUE_FATAL(r.snap.has_hr);
		if (r.st.step == 1 && work_start == 0)
			work_start = r.snap.hr_bpm;
		if (r.st.step == 1)
			work_end = r.snap.hr_bpm;
		if (r.st.step == 2 && r.st.step_elapsed_s <= 5.0)
			rest_5s = r.snap.hr_bpm;
		if (r.st.step == 2)
			rest_end = r.snap.hr_bpm;
	}
	CU_ASSERT_TRUE(work_end > work_start + 10);
	CU_ASSERT_TRUE(work_end >= 160 && work_end <= 185);
	CU_ASSERT_TRUE(rest_5s + 10 > work_end); /* the heart does not stop with the legs */
	CU_ASSERT_TRUE(rest_end + 20 < work_end);
	run_end(&r);
}

/* RR intervals match the heart rate, and their RMSSD is a few ms at running heart rates. */
static void test_rr_consistent(void)
{
	PacerPlan p;
	PacerSimConfig c = sim_config(11);
	Run r;
	size_t beats = 0;

	plan_three(&p);
	run_start(&r, &c, &p);
	while (run_step(&r)) {
		double sum = 0.0;

		if (r.n.kind != PACER_SENSOR_HEART_RATE || r.v.hr.n_rr == 0)
			continue;
		CU_ASSERT_TRUE(r.v.hr.n_rr <= 4);
		for (size_t i = 0; i < r.v.hr.n_rr; i++)
			sum += pacer_hr_rr_to_ms(r.v.hr.rr[i]);
		/* beats up to a second old, each with its own variability */
		CU_ASSERT_DOUBLE_EQUAL(sum / (double)r.v.hr.n_rr, 60000.0 / r.st.hr_bpm,
				       0.08 * 60000.0 / r.st.hr_bpm);
		beats += r.v.hr.n_rr;
		if (r.st.step == 1 && r.st.step_elapsed_s > 80.0) {
			CU_ASSERT_TRUE(r.snap.has_rmssd);
			CU_ASSERT_TRUE(r.snap.rmssd_ms >= 1.0 && r.snap.rmssd_ms <= 10.0);
		}
	}
	/* about one beat per RR: nothing lost, nothing doubled */
	CU_ASSERT_TRUE(beats > 300);
	CU_ASSERT_EQUAL(r.snap.rr_artifacts, 0);
	run_end(&r);
}

/* Cadence 150-195 while running, both as the pod sends it and through the engine. */
static void test_cadence_running(void)
{
	PacerPlan p;
	PacerSimConfig c = sim_config(13);
	Run r;
	size_t checked = 0;
	uint64_t running_since = 0;

	plan_reps(&p);
	run_start(&r, &c, &p);
	while (run_step(&r)) {
		if (r.n.kind != PACER_SENSOR_FOOTPOD)
			continue;
		if (r.st.speed_mps < 2.5) {
			running_since = 0;
			continue;
		}
		if (running_since == 0)
			running_since = r.n.t_us;
		CU_ASSERT_TRUE(r.v.rsc.cadence_raw >= 150 && r.v.rsc.cadence_raw <= 195);
		/* the engine smooths over 5 s: once they hold only running */
		if (r.n.t_us - running_since >= 5000000u)
			CU_ASSERT_TRUE(r.snap.cadence_spm >= 150.0 && r.snap.cadence_spm <= 195.0);
		checked++;
	}
	CU_ASSERT_TRUE(checked > 2000);
	CU_ASSERT_EQUAL(r.snap.cadence_decision, PACER_CADENCE_DECISION_STEPS);
	run_end(&r);
}

/* A pod that counts strides sends half the cadence; the engine's auto unit recognises it. */
static void test_footpod_strides(void)
{
	PacerPlan p;
	PacerSimConfig c = sim_config(17);
	PacerSim *steps;
	PacerSimNotification n;
	Run r;
	size_t checked = 0;

	plan_three(&p);
	steps = new_sim(&c, &p);
	c.footpod_strides = true;
	run_start(&r, &c, &p);
	while (run_step(&r)) {
		CU_ASSERT_EQUAL_FATAL(pacer_sim_next(steps, &n), 1);
		if (r.n.kind != PACER_SENSOR_FOOTPOD)
			continue;
		CU_ASSERT_TRUE(abs(2 * (int)r.v.rsc.cadence_raw - (int)n.value[3]) <= 1);
		if (r.st.speed_mps < 2.5 || r.st.step_elapsed_s < 10.0)
			continue;
		CU_ASSERT_TRUE(r.v.rsc.cadence_raw >= 75 && r.v.rsc.cadence_raw <= 98);
		CU_ASSERT_TRUE(r.snap.cadence_spm >= 150.0 && r.snap.cadence_spm <= 196.0);
		checked++;
	}
	CU_ASSERT_TRUE(checked > 500);
	CU_ASSERT_EQUAL(r.snap.cadence_decision, PACER_CADENCE_DECISION_STRIDES);
	pacer_sim_free(steps);
	run_end(&r);
}

/* A strap off the skin from 30 s to 40 s: flags 0x04 with 0 bpm, and no heart rate in between. */
static void test_contact_loss(void)
{
	PacerPlan p;
	PacerSimConfig c = sim_config(19);
	Run r;
	size_t lost = 0;

	plan_three(&p);
	c.contact_loss_start_s = 30.0;
	c.contact_loss_s = 10.0;
	run_start(&r, &c, &p);
	while (run_step(&r)) {
		double t = (double)r.n.t_us / 1e6;
		bool in = t >= 30.0 && t < 40.0;

		if (r.n.kind == PACER_SENSOR_HEART_RATE && in) {
			CU_ASSERT_EQUAL(r.n.len, 2);
			CU_ASSERT_EQUAL(r.n.value[0], 0x04);
			CU_ASSERT_EQUAL(r.v.hr.contact, PACER_HR_CONTACT_NOT_DETECTED);
			CU_ASSERT_EQUAL(r.v.hr.hr_bpm, 0);
			lost++;
		}
		if (t >= 30.2 && t < 40.0)
			CU_ASSERT_FALSE(r.snap.has_hr);
		if ((t >= 1.2 && t < 30.0) || t >= 40.2)
			CU_ASSERT_TRUE(r.snap.has_hr);
	}
	CU_ASSERT_EQUAL(lost, 10);
	run_end(&r);
}

typedef struct {
	double sum;
	size_t n;
	double lo, hi;
} PaceStats;

/* Smoothed pace of each rep after its first 15 s; reps are steps 1 3 5 7. */
static void rep_paces(const PacerSimConfig *c, const PacerPlan *p, PaceStats stats[4],
		      double *ret_distance_m, double *ret_true_m)
{
	Run r;

	for (size_t i = 0; i < 4; i++)
		stats[i] = (PaceStats){.lo = 1e9};
	run_start(&r, c, p);
	while (run_step(&r)) {
		PaceStats *s;

		if (r.st.step < 1 || r.st.step > 7 || r.st.step % 2 == 0 ||
		    r.st.step_elapsed_s < 15.0 || !r.snap.has_pace)
			continue;
		s = &stats[(r.st.step - 1) / 2];
		s->sum += r.snap.pace_s_per_km;
		s->n++;
		s->lo = fmin(s->lo, r.snap.pace_s_per_km);
		s->hi = fmax(s->hi, r.snap.pace_s_per_km);
	}
	*ret_distance_m = r.snap.distance_m;
	*ret_true_m = r.st.distance_m;
	run_end(&r);
}

/* fast_rep 2 at 8 %: rep 2 runs about 8 % faster than the band centre, the others in it. */
static void test_fast_rep(void)
{
	PacerPlan p;
	PacerSimConfig c = sim_config(23);
	PaceStats s[4];
	double d, t;

	plan_reps(&p);
	c.fast_rep = 2;
	c.fast_pct = 8.0;
	rep_paces(&c, &p, s, &d, &t);
	for (size_t i = 0; i < 4; i++) {
		double mean = s[i].n ? s[i].sum / (double)s[i].n : 0.0;

		CU_ASSERT_TRUE(s[i].n > 100);
		if (i == 1) {
			CU_ASSERT_DOUBLE_EQUAL(mean, BAND_CENTRE / 1.08, 2.5);
			CU_ASSERT_TRUE(s[i].hi < BAND_FAST);
			continue;
		}
		CU_ASSERT_DOUBLE_EQUAL(mean, BAND_CENTRE, 2.0);
		CU_ASSERT_TRUE(s[i].lo >= BAND_FAST && s[i].hi <= BAND_SLOW);
	}
}

/* The engine's distance: the reps' 400 m plus the easy parts, within 2 %. */
static void test_total_distance(void)
{
	PacerPlan p;
	PacerSimConfig c = sim_config(29);
	PaceStats s[4];
	double expected = 4 * 400.0 + 2 * 300.0 * 1000.0 / EASY_PACE, d, t;

	plan_reps(&p);
	rep_paces(&c, &p, s, &d, &t);
	CU_ASSERT_DOUBLE_EQUAL(d, expected, 0.02 * expected);
	CU_ASSERT_DOUBLE_EQUAL(d, t, 1.0); /* the pod's counter is exact when its factor is 1 */
}

/* A treadmill instead of a footpod: 2ACD with speed, distance, incline; 6 % up the hills. */
static void test_treadmill(void)
{
	PacerPlan p;
	PacerSimConfig c = sim_config(31);
	Run r;
	size_t treadmill = 0, hill = 0;

	memset(&p, 0, sizeof(p));
	add_step(&p, step_time(PACER_STEP_WARMUP, 120.0));
	for (unsigned i = 0; i < 3; i++) {
		PacerStep up = step_time(PACER_STEP_RUN, 60.0);

		up.target.hill = true;
		add_step(&p, up);
		add_step(&p, step_time(PACER_STEP_JOG, 90.0));
	}
	c.treadmill = true;
	c.footpod = false;
	run_start(&r, &c, &p);
	while (run_step(&r)) {
		const PacerTreadmillData *d = &r.v.treadmill;

		CU_ASSERT_NOT_EQUAL(r.n.kind, PACER_SENSOR_FOOTPOD);
		if (r.n.kind != PACER_SENSOR_TREADMILL)
			continue;
		treadmill++;
		CU_ASSERT_EQUAL(d->present & (PACER_TREADMILL_SPEED | PACER_TREADMILL_DISTANCE),
				PACER_TREADMILL_SPEED | PACER_TREADMILL_DISTANCE);
		CU_ASSERT_TRUE(d->present & PACER_TREADMILL_INCLINE);
		if (r.st.step % 2 == 1 && r.st.step_elapsed_s > 20.0) {
			CU_ASSERT_DOUBLE_EQUAL(r.snap.incline_pct, 6.0, 0.11);
			CU_ASSERT_DOUBLE_EQUAL(r.snap.pace_s_per_km, EASY_PACE, 3.0);
			hill++;
		}
		if (r.st.step % 2 == 0 && r.st.step >= 2 && r.st.step_elapsed_s > 20.0)
			CU_ASSERT_DOUBLE_EQUAL(r.snap.pace_s_per_km, EASY_PACE * 1.15, 3.0);
	}
	CU_ASSERT_TRUE(hill > 200);
	CU_ASSERT_EQUAL(r.snap.speed_source.kind, PACER_SENSOR_TREADMILL);
	CU_ASSERT_DOUBLE_EQUAL(r.snap.distance_m, r.st.distance_m, 1.0);
	CU_ASSERT_TRUE(treadmill > 2 * 500);
	run_end(&r);
}

/* A footpod reading 5 % short next to the treadmill: the engine calibrates it. */
static void test_footpod_factor_calibration(void)
{
	PacerPlan p;
	PacerSimConfig c = sim_config(37);
	Run r;
	double pod_m = 0.0;

	memset(&p, 0, sizeof(p));
	add_step(&p, step_time(PACER_STEP_RUN, 600.0));
	c.treadmill = true;
	c.footpod_factor = 0.95;
	run_start(&r, &c, &p);
	while (run_step(&r)) {
		if (r.n.kind == PACER_SENSOR_FOOTPOD)
			pod_m = pacer_rsc_distance_m(&r.v.rsc);
	}
	CU_ASSERT_DOUBLE_EQUAL(pod_m, 0.95 * r.st.distance_m, 0.2);
	CU_ASSERT_TRUE(r.snap.calibration_auto);
	CU_ASSERT_DOUBLE_EQUAL(r.snap.calibration_factor, 1.0 / 0.95, 0.01);
	run_end(&r);
}

/* The footpod silent from 40 s for 20 s: nothing in the window, speed null once stale. */
static void test_dropout(void)
{
	PacerPlan p;
	PacerSimConfig c = sim_config(41);
	Run r;

	plan_three(&p);
	c.dropout = (PacerSimDropout){
		.kind = PACER_SENSOR_FOOTPOD, .start_s = 40.0, .duration_s = 20.0};
	run_start(&r, &c, &p);
	while (run_step(&r)) {
		double t = (double)r.n.t_us / 1e6;

		if (t >= 40.0 && t < 60.0)
			CU_ASSERT_NOT_EQUAL(r.n.kind, PACER_SENSOR_FOOTPOD);
		if (t >= 43.5 && t < 60.0)
			CU_ASSERT_FALSE(r.snap.has_speed);
		if (t >= 60.0 && t < 70.0)
			CU_ASSERT_TRUE(r.snap.has_speed);
	}
	/* the pod kept counting: the distance still adds up */
	CU_ASSERT_DOUBLE_EQUAL(r.snap.distance_m, r.st.distance_m, 1.0);
	run_end(&r);
}

/* Heart-rate and cadence targets: HR settles in the band, drifting into a slower pace. */
static void test_hr_and_cadence_targets(void)
{
	PacerPlan p;
	PacerSimConfig c = sim_config(43);
	PacerStep z2 = step_time(PACER_STEP_RUN, 1500.0);
	Run r;
	double speed_5min = 0.0;

	memset(&p, 0, sizeof(p));
	z2.target.has_hr = true;
	z2.target.hr_min_bpm = 130.0;
	z2.target.hr_max_bpm = 145.0;
	z2.target.has_cadence = true;
	z2.target.cadence_min_spm = 175.0;
	z2.target.cadence_max_spm = 185.0;
	add_step(&p, z2);
	run_start(&r, &c, &p);
	while (run_step(&r)) {
		if (r.st.step != 0 || r.st.step_elapsed_s < 180.0)
			continue;
		CU_ASSERT_TRUE(r.snap.hr_bpm >= 130 && r.snap.hr_bpm <= 145);
		CU_ASSERT_DOUBLE_EQUAL(r.snap.cadence_spm, 180.0, 1.5);
		if (speed_5min == 0.0 && r.st.step_elapsed_s >= 300.0)
			speed_5min = r.snap.speed_mps;
		if (r.st.step_elapsed_s >= 1490.0)
			CU_ASSERT_TRUE(r.snap.speed_mps < speed_5min - 0.05);
	}
	CU_ASSERT_TRUE(speed_5min > 2.0);
	run_end(&r);
}

/* Cardiac drift: steady easy running for 25 min, HR about 1 bpm higher every 2 min after 10. */
static void test_cardiac_drift(void)
{
	PacerPlan p;
	PacerSimConfig c = sim_config(47);
	Run r;
	double at_10 = 0.0, at_24 = 0.0;

	memset(&p, 0, sizeof(p));
	add_step(&p, step_time(PACER_STEP_RUN, 1500.0));
	run_start(&r, &c, &p);
	while (run_step(&r)) {
		if (r.st.step != 0)
			continue;
		if (at_10 == 0.0 && r.st.step_elapsed_s >= 600.0)
			at_10 = r.st.hr_bpm;
		if (at_24 == 0.0 && r.st.step_elapsed_s >= 1440.0)
			at_24 = r.st.hr_bpm;
	}
	CU_ASSERT_DOUBLE_EQUAL(at_24 - at_10, 840.0 / 120.0, 1.5);
	run_end(&r);
}

static void test_write_line(void)
{
	PacerSimNotification n = {
		.t_us = 12250000, .uuid16 = 0x2A37, .len = 4, .value = {0x16, 0x8c, 0x10, 0x04}};
	PacerCaptureRecord rec;
	PacerCaptureError err;
	char buf[PACER_SIM_LINE_MAX];

	strcpy(n.address, "C0:FF:EE:00:00:01");
	CU_ASSERT_EQUAL(pacer_sim_write_line(&n, buf, sizeof(buf)), 41);
	CU_ASSERT_STRING_EQUAL(buf, "12.250 C0:FF:EE:00:00:01 2a37 16 8c 10 04");
	CU_ASSERT_EQUAL(pacer_capture_parse_line(buf, &rec, &err), 1);
	CU_ASSERT_EQUAL(rec.t_us, 12250000);
	CU_ASSERT_EQUAL(rec.len, 4);
	n.t_us = 999;
	n.uuid16 = 0x2ACD;
	CU_ASSERT_EQUAL(pacer_sim_write_line(&n, buf, sizeof(buf)), 40);
	CU_ASSERT_STRING_EQUAL(buf, "0.001 C0:FF:EE:00:00:01 2acd 16 8c 10 04");
	CU_ASSERT_EQUAL(pacer_sim_write_line(&n, buf, 40), -ENOSPC);
	CU_ASSERT_EQUAL(pacer_sim_write_line(&n, buf, 41), 40);
	CU_ASSERT_EQUAL(pacer_sim_write_line(NULL, buf, sizeof(buf)), -EINVAL);
	n.len = PACER_SIM_VALUE_MAX + 1;
	CU_ASSERT_EQUAL(pacer_sim_write_line(&n, buf, sizeof(buf)), -EINVAL);
}

/* Every line of a whole session parses back as a capture line with the same bytes. */
static void test_lines_parse_back(void)
{
	PacerPlan p;
	PacerSimConfig c = sim_config(53);
	PacerSim *sim;
	PacerSimNotification n;
	PacerCaptureRecord rec;
	PacerCaptureError err;
	char buf[PACER_SIM_LINE_MAX];

	plan_three(&p);
	c.treadmill = true;
	c.contact_loss_start_s = 20.0;
	c.contact_loss_s = 5.0;
	sim = new_sim(&c, &p);
	while (pacer_sim_next(sim, &n) == 1) {
		CU_ASSERT_TRUE_FATAL(pacer_sim_write_line(&n, buf, sizeof(buf)) > 0);
		CU_ASSERT_EQUAL_FATAL(pacer_capture_parse_line(buf, &rec, &err), 1);
		CU_ASSERT_EQUAL(rec.t_us, n.t_us);
		CU_ASSERT_STRING_EQUAL(rec.address, n.address);
		CU_ASSERT_EQUAL(rec.len, n.len);
		CU_ASSERT_TRUE(rec.len == n.len && memcmp(rec.value, n.value, n.len) == 0);
	}
	pacer_sim_free(sim);
}

static void test_empty_plan(void)
{
	PacerPlan p;
	PacerSimConfig c = sim_config(0);
	PacerSim *sim;
	PacerSimNotification n;
	size_t count = 0;

	memset(&p, 0, sizeof(p));
	sim = new_sim(&c, &p);
	while (pacer_sim_next(sim, &n) == 1)
		count++;
	/* 10 s standing: strap at 0.1 .. 9.1 s, footpod at 0 .. 10 s */
	CU_ASSERT_EQUAL(count, 10 + 41);
	CU_ASSERT_EQUAL(pacer_sim_next(sim, NULL), -EINVAL);
	CU_ASSERT_EQUAL(pacer_sim_next(NULL, &n), -EINVAL);
	pacer_sim_free(sim);
	pacer_sim_free(NULL);
}

static void test_bad_config(void)
{
	PacerPlan p;
	PacerSimConfig c = sim_config(0);

	memset(&p, 0, sizeof(p));
	c.resting_hr = 190;
	CU_ASSERT_PTR_NULL(pacer_sim_new(&c, &p));
	c = sim_config(0);
	c.strap = c.footpod = false;
	CU_ASSERT_PTR_NULL(pacer_sim_new(&c, &p));
	c = sim_config(0);
	strcpy(c.footpod_address, "C0:FF:EE:00:00");
	CU_ASSERT_PTR_NULL(pacer_sim_new(&c, &p));
	c = sim_config(0);
	c.easy_pace_s_per_km = 0.0;
	CU_ASSERT_PTR_NULL(pacer_sim_new(&c, &p));
	c = sim_config(0);
	c.footpod_factor = NAN;
	CU_ASSERT_PTR_NULL(pacer_sim_new(&c, &p));
	c = sim_config(0);
	c.dropout.duration_s = -1.0;
	CU_ASSERT_PTR_NULL(pacer_sim_new(&c, &p));
	c = sim_config(0);
	add_step(&p, step_time(PACER_STEP_RUN, 0.0));
	CU_ASSERT_PTR_NULL(pacer_sim_new(&c, &p));
	p.steps[0] = step_distance(PACER_STEP_RUN, INFINITY);
	CU_ASSERT_PTR_NULL(pacer_sim_new(&c, &p));
	p.steps[0] = step_distance(PACER_STEP_RUN, 400.0);
	set_pace(&p.steps[0], 260.0, 250.0);
	CU_ASSERT_PTR_NULL(pacer_sim_new(&c, &p));
	CU_ASSERT_PTR_NULL(pacer_sim_new(NULL, &p));
	CU_ASSERT_PTR_NULL(pacer_sim_new(&c, NULL));
}

/* A rest measured in metres is walked (else it would never end); an all-out step is fast. */
static void test_walked_rest_and_all_out(void)
{
	PacerPlan p;
	PacerSimConfig c = sim_config(59);
	PacerStep all_out = step_time(PACER_STEP_RUN, 60.0);
	Run r;

	memset(&p, 0, sizeof(p));
	add_step(&p, step_distance(PACER_STEP_REST, 100.0));
	set_pace(&all_out, 0.0, 200.0);
	add_step(&p, all_out);
	run_start(&r, &c, &p);
	while (run_step(&r)) {
		if (r.st.step == 0 && r.st.step_elapsed_s > 15.0 &&
		    r.n.kind == PACER_SENSOR_FOOTPOD) {
			CU_ASSERT_DOUBLE_EQUAL(r.snap.speed_mps, 1.2, 0.05);
			CU_ASSERT_FALSE(r.v.rsc.running);
			CU_ASSERT_TRUE(r.v.rsc.cadence_raw >= 100 && r.v.rsc.cadence_raw <= 125);
		}
		if (r.st.step == 1 && r.st.step_elapsed_s > 20.0)
			CU_ASSERT_DOUBLE_EQUAL(r.snap.pace_s_per_km, 200.0 / 1.06, 3.0);
	}
	CU_ASSERT_EQUAL(r.st.step, 2);
	run_end(&r);
}

int main(void)
{
	static const PacerTest tests[] = {
		{"same seed, same bytes; another seed, others", test_determinism},
		{"sensors do not disturb each other's streams", test_streams_independent},
		{"every value decodes and matches the runner", test_decodes_and_agrees},
		{"standing 5 s before the first step", test_starts_standing},
		{"pace inside its band, several seeds", test_pace_in_band},
		{"heart rate lags the effort", test_hr_lags_effort},
		{"RR intervals consistent with the heart rate", test_rr_consistent},
		{"cadence while running", test_cadence_running},
		{"footpod counting strides", test_footpod_strides},
		{"strap contact loss", test_contact_loss},
		{"scripted fast rep", test_fast_rep},
		{"total distance", test_total_distance},
		{"treadmill with hills", test_treadmill},
		{"footpod factor and calibration", test_footpod_factor_calibration},
		{"footpod dropout", test_dropout},
		{"heart-rate and cadence targets", test_hr_and_cadence_targets},
		{"cardiac drift", test_cardiac_drift},
		{"capture line format", test_write_line},
		{"capture lines parse back", test_lines_parse_back},
		{"empty plan: standing, then the end", test_empty_plan},
		{"bad configurations and plans", test_bad_config},
		{"walked rest, all-out step", test_walked_rest_and_all_out},
		{NULL, NULL},
	};

	return pacer_test_main("sim", tests);
}
