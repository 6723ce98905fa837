/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Notifications in, coaching events out: the decoders, the metrics engine
 * and the coach joined up, shared by `pacerctl replay`, `pacerd --replay` and
 * the daemon's BlueZ path.
 *
 * Sensors are known by address; a sensor's kind follows from the first
 * characteristic it sends (0x2A37 strap, 0x2A53 footpod, 0x2ACD treadmill).
 * Time is passed in; call pacer_pipeline_tick() a few times a second (the
 * replay does it every 250 ms of capture time) to move the coach along.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pacer-coach.h"
#include "pacer-metrics.h"

#define PACER_PIPELINE_TICK_US 250000u

typedef struct PacerPipeline PacerPipeline;

typedef struct {
	PacerMetricsConfig metrics;
	PacerCoachConfig coach;
	bool infer_sensor_events; /* sensor_connected/lost from data and silence (replays) */
	uint64_t lost_after_us;   /* silence that makes a sensor lost; 5 s */
	int battery_low_pct;      /* battery_low at or below this; 15 */
} PacerPipelineConfig;

void pacer_pipeline_config_init(PacerPipelineConfig *config);

PacerPipeline *pacer_pipeline_new(const PacerPipelineConfig *config, PacerEventFunc func,
				  void *user_data);
void pacer_pipeline_free(PacerPipeline *p);

typedef enum {
	PACER_NOTIFY_OK,
	PACER_NOTIFY_MALFORMED, /* the payload did not decode: counted, nothing changed */
	PACER_NOTIFY_UNKNOWN,   /* a characteristic Pacer does not use, or too many sensors */
} PacerNotifyResult;

/* One notification (or read value) from a sensor. */
PacerNotifyResult pacer_pipeline_notify(PacerPipeline *p, const char *address, uint16_t uuid16,
					const uint8_t *value, size_t len, uint64_t t_us);

/* The same for a value the caller has already decoded (never PACER_NOTIFY_MALFORMED). */
PacerNotifyResult pacer_pipeline_notify_decoded(PacerPipeline *p, const char *address,
						uint16_t uuid16, const PacerGattValue *value,
						uint64_t t_us);

/*
 * Registers a sensor whose kind is known before it sends anything (the
 * daemon's BlueZ client knows it from the services). Returns 0, or -ENOSPC.
 * A sensor already known keeps its kind.
 */
int pacer_pipeline_register_sensor(PacerPipeline *p, const char *address, PacerSensorKind kind,
				   uint64_t t_us);

/* A metrics snapshot and a coach update at t_us. */
void pacer_pipeline_tick(PacerPipeline *p, uint64_t t_us);

PacerCoach *pacer_pipeline_get_coach(PacerPipeline *p);
PacerMetrics *pacer_pipeline_get_metrics(PacerPipeline *p);
/* The snapshot of the last tick. */
const PacerMetricsSnapshot *pacer_pipeline_get_snapshot(const PacerPipeline *p);

typedef struct {
	char address[18];
	PacerSensorKind kind;
	unsigned long notifications;
	unsigned long malformed;
	bool lost;
	int battery_pct; /* -1 unknown */
} PacerPipelineSensor;

size_t pacer_pipeline_n_sensors(const PacerPipeline *p);
const PacerPipelineSensor *pacer_pipeline_get_sensor(const PacerPipeline *p, size_t i);
