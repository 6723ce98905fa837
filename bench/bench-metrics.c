/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * One simulated hour through the metrics engine: a strap at 1 Hz (two RR
 * intervals a beat pair), a footpod at 4 Hz and a treadmill at 2 Hz, one
 * snapshot a second. The payloads are encoded as a sensor would send them,
 * so decoding is measured too. bench/run-metrics runs this under callgrind
 * and divides instructions by samples; alone it just prints its figures.
 */
#include <stdio.h>
#include <stdlib.h>

#include "pacer-gatt.h"
#include "pacer-metrics.h"

#define HOUR_S 3600

typedef struct {
	uint8_t b[32];
	size_t n;
} Packet;

static void put(Packet *p, uint32_t v, size_t octets)
{
	for (size_t i = 0; i < octets; i++)
		p->b[p->n++] = (uint8_t)(v >> (8 * i));
}

/* Speeds along an interval session: easy, then 400 m repeats, then easy. */
static double speed_at(double t)
{
	double cycle = t - 600.0;

	if (t < 600.0 || t > 3000.0)
		return 2.8;
	return (int)(cycle / 180.0) % 2 == 0 ? 4.4 : 1.5;
}

static __attribute__((noinline)) int bench_feed_sample(PacerMetrics *m, int sensor, uint16_t uuid,
					  const Packet *p, uint64_t t_us)
{
	PacerGattValue v;

	if (pacer_gatt_decode(uuid, p->b, p->n, &v) < 0)
		return -1;
	return pacer_metrics_feed(m, sensor, &v, t_us);
}

int main(int argc, char **argv)
{
	PacerMetricsConfig c;
	PacerMetricsSnapshot snap;
	PacerMetrics *m;
	unsigned long samples = 0, snapshots = 0;
	double fp_dm = 0, tm_m = 0;
	int hr, fp, tm;

	(void)argc;
	(void)argv;
	pacer_metrics_config_init(&c);
	m = pacer_metrics_new(&c);
	if (!m)
		return 1;
	hr = pacer_metrics_add_sensor(m, PACER_SENSOR_HEART_RATE);
	fp = pacer_metrics_add_sensor(m, PACER_SENSOR_FOOTPOD);
	tm = pacer_metrics_add_sensor(m, PACER_SENSOR_TREADMILL);

	for (unsigned tick = 0; tick < HOUR_S * 4; tick++) {
		uint64_t t_us = (uint64_t)tick * 250000u;
		double t = tick / 4.0, v = speed_at(t);
		Packet p = {.n = 0};

		/* footpod: flags (distance, running), speed, cadence (strides), total distance */
		fp_dm += v * 2.5 * 0.97;
		put(&p, 0x06, 1);
		put(&p, (uint32_t)(v * 0.97 * 256), 2);
		put(&p, v > 2.0 ? 86 : 60, 1);
		put(&p, (uint32_t)fp_dm, 4);
		samples += bench_feed_sample(m, fp, PACER_UUID_RSC_MEASUREMENT, &p, t_us + 1000) == 0;

		if (tick % 2 == 0) {
			tm_m += v * 0.5;
			p.n = 0;
			put(&p, 0x0404, 2); /* speed, distance, elapsed */
			put(&p, (uint32_t)(v * 360), 2);
			put(&p, (uint32_t)tm_m, 3);
			put(&p, (uint32_t)t, 2);
			samples += bench_feed_sample(m, tm, PACER_UUID_TREADMILL_DATA, &p, t_us + 2000) == 0;
		}
		if (tick % 4 == 0) {
			unsigned bpm = v > 4 ? 168 : 142;
			uint32_t rr = 60u * 1024u / bpm;

			p.n = 0;
			put(&p, 0x16, 1); /* contact detected, RR */
			put(&p, bpm, 1);
			put(&p, rr, 2);
			put(&p, rr + (tick % 8 ? 9u : 0u), 2);
			samples += bench_feed_sample(m, hr, PACER_UUID_HEART_RATE_MEASUREMENT, &p, t_us + 3000) == 0;
			pacer_metrics_snapshot(m, t_us + 4000, &snap);
			snapshots++;
		}
	}
	printf("samples %lu\nsnapshots %lu\ndistance_m %.1f\ncalibration %.4f\nrmssd_ms %.2f\n",
	       samples, snapshots, snap.distance_m, snap.calibration_factor, snap.rmssd_ms);
	pacer_metrics_free(m);
	return samples == (unsigned long)HOUR_S * 7 ? 0 : 1;
}
