/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The live metrics engine: decoded samples from any number of sensors in,
 * steady numbers out.
 *
 * Time is always passed in, as monotonic microseconds; samples of one sensor
 * must not go back in time. Feeding never allocates; the engine allocates
 * only in pacer_metrics_new().
 *
 * Sources, by priority: speed and distance from a treadmill, else a footpod
 * (calibrated), else nothing; cadence from the footpod; heart rate from a
 * strap, else the treadmill's HR field. A value whose source has been silent
 * for longer than stale_us is absent (null), and another source takes over
 * where there is one. Distance never goes backwards: it adds up per-sample
 * deltas of the current source, from the sensor's total-distance counter when
 * it sends one (wrap-around and resets handled) and from integrated speed
 * otherwise. A sensor that comes back after a silence restarts its deltas
 * from its first new sample.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pacer-gatt.h"
#include "pacer-zones.h"

#define PACER_METRICS_MAX_SENSORS 8
#define PACER_METRICS_MAX_RR 64 /* RR intervals kept between two snapshots */

typedef enum {
	PACER_SENSOR_HEART_RATE,
	PACER_SENSOR_FOOTPOD,
	PACER_SENSOR_TREADMILL,
} PacerSensorKind;

typedef enum {
	PACER_CADENCE_UNIT_AUTO,
	PACER_CADENCE_UNIT_STEPS,
	PACER_CADENCE_UNIT_STRIDES,
} PacerCadenceUnit;

typedef enum {
	PACER_SEX_MALE,
	PACER_SEX_FEMALE,
} PacerSex;

typedef struct {
	uint64_t smoothing_us;          /* speed and cadence window; default 5 s */
	uint64_t stale_us;              /* a source silent this long is dropped; default 3 s */
	uint64_t rmssd_window_us;       /* default 60 s */
	double footpod_calibration;     /* manual factor; default 1.0 */
	bool auto_calibrate;            /* against a treadmill; default true */
	double auto_calibration_min_m;  /* sliding window of treadmill distance; default 400 m */
	PacerCadenceUnit cadence_unit;  /* default auto */
	double moving_speed_mps;        /* moving time and pace below this are "standing"; 0.5 */
	PacerHrZones hr_zones;          /* n_zones 0: no time in zone */
	int resting_hr;                 /* for TRIMP; 0 unknown */
	int max_hr;                     /* for TRIMP; 0 unknown */
	PacerSex sex;                   /* for TRIMP's weighting */
	bool has_pace_zones;
	PacerPaceZones pace_zones;
} PacerMetricsConfig;

/* The defaults above. */
void pacer_metrics_config_init(PacerMetricsConfig *config);

typedef struct PacerMetrics PacerMetrics;

/* NULL on ENOMEM or an invalid configuration (zero windows, calibration <= 0). */
PacerMetrics *pacer_metrics_new(const PacerMetricsConfig *config);
void pacer_metrics_free(PacerMetrics *m);

/* Registers a sensor; returns its id (>= 0), -ENOSPC, or -EINVAL for an unknown kind. */
int pacer_metrics_add_sensor(PacerMetrics *m, PacerSensorKind kind);

/*
 * Feeds one decoded value from sensor `sensor` received at t_us. Values a
 * sensor kind does not use (e.g. battery) are accepted and ignored. Returns 0,
 * -EINVAL for an unknown sensor id or a value of the wrong kind (RSC from a
 * strap), -ERANGE when t_us is older than that sensor's previous sample (the
 * sample is ignored).
 */
int pacer_metrics_feed(PacerMetrics *m, int sensor, const PacerGattValue *value, uint64_t t_us);

/* The range of footpod factors, manual or learned. */
#define PACER_CALIBRATION_MIN 0.5
#define PACER_CALIBRATION_MAX 1.5

/*
 * Starts the footpod from a factor learned against a treadmill in an
 * earlier run (with auto_calibrate): it replaces the manual one until this
 * run measures its own. Returns 0; -EINVAL outside PACER_CALIBRATION_MIN..MAX;
 * -EPERM when auto_calibrate is off; -EALREADY when this run has measured one.
 */
int pacer_metrics_seed_calibration(PacerMetrics *m, double factor);

typedef struct {
	bool valid;
	int sensor; /* id of the sensor the value comes from */
	PacerSensorKind kind;
} PacerSource;

typedef enum {
	PACER_CADENCE_DECISION_UNDECIDED,
	PACER_CADENCE_DECISION_STEPS,
	PACER_CADENCE_DECISION_STRIDES,
} PacerCadenceDecision;

typedef struct {
	uint64_t t_us;
	double elapsed_s; /* since the first sample */
	double moving_s;

	bool has_speed;
	double speed_mps; /* smoothed */
	double speed_instant_mps;
	PacerSource speed_source;
	bool has_pace; /* false when standing still */
	double pace_s_per_km;

	bool has_cadence;
	double cadence_spm; /* steps per minute, both feet */
	PacerSource cadence_source;
	PacerCadenceDecision cadence_decision; /* the footpod's units, as recognised */

	bool has_stride;
	double stride_m; /* step length: speed * 60 / cadence */

	double distance_m;
	PacerSource distance_source;

	bool has_hr;
	unsigned hr_bpm;
	PacerSource hr_source;
	unsigned hr_zone; /* 0 below zone 1 or unknown */
	unsigned long hr_dropped; /* implausible values, outside 25-250 bpm */

	size_t n_rr; /* accepted RR intervals since the previous snapshot, in rr_ms */
	bool has_rmssd;
	double rmssd_ms;
	unsigned long rr_artifacts;

	bool has_incline;
	double incline_pct;

	int pace_zone; /* PacerPaceZoneId, or -1 */

	double calibration_factor; /* applied to the footpod */
	bool calibration_auto;     /* measured against the treadmill */

	bool has_trimp;
	double trimp;
	double time_in_zone_s[PACER_HR_ZONES_MAX + 1]; /* [0] below zone 1 */

	/* last: a snapshot writes n_rr values and leaves the rest of the list as it was */
	double rr_ms[PACER_METRICS_MAX_RR];
} PacerMetricsSnapshot;

/* Fills *ret as of now_us and starts a new RR list. */
void pacer_metrics_snapshot(PacerMetrics *m, uint64_t now_us, PacerMetricsSnapshot *ret);

const char *pacer_sensor_kind_to_string(PacerSensorKind kind);
const char *pacer_cadence_decision_to_string(PacerCadenceDecision decision);
