/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "pacer-pipeline.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pacer-gatt.h"

typedef struct {
	PacerPipelineSensor pub;
	int id; /* in the metrics engine */
	uint64_t last_us;
	bool battery_warned;
} Sensor;

struct PacerPipeline {
	PacerPipelineConfig cfg;
	PacerMetrics *metrics;
	PacerCoach *coach;
	Sensor sensors[PACER_METRICS_MAX_SENSORS];
	size_t n_sensors;
	uint64_t lost_check_us; /* no sensor can be lost until after this: the earliest deadline */
	PacerMetricsSnapshot snap;
};

void pacer_pipeline_config_init(PacerPipelineConfig *config)
{
	*config = (PacerPipelineConfig){
		.infer_sensor_events = true,
		.lost_after_us = 5000000,
		.battery_low_pct = 15,
	};
	pacer_metrics_config_init(&config->metrics);
	pacer_coach_config_init(&config->coach);
}

PacerPipeline *pacer_pipeline_new(const PacerPipelineConfig *config, PacerEventFunc func,
				  void *user_data)
{
	PacerPipeline *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->cfg = *config;
	p->lost_check_us = UINT64_MAX;
	p->metrics = pacer_metrics_new(&config->metrics);
	p->coach = pacer_coach_new(&config->coach, func, user_data);
	if (!p->metrics || !p->coach) {
		pacer_pipeline_free(p);
		return NULL;
	}
	return p;
}

void pacer_pipeline_free(PacerPipeline *p)
{
	if (!p)
		return;
	pacer_coach_free(p->coach);
	pacer_metrics_free(p->metrics);
	free(p);
}

static bool kind_of(uint16_t uuid16, PacerSensorKind *ret)
{
	switch (uuid16) {
	case PACER_UUID_HEART_RATE_MEASUREMENT:
	case PACER_UUID_BODY_SENSOR_LOCATION:
		*ret = PACER_SENSOR_HEART_RATE;
		return true;
	case PACER_UUID_RSC_MEASUREMENT:
	case PACER_UUID_RSC_FEATURE:
		*ret = PACER_SENSOR_FOOTPOD;
		return true;
	case PACER_UUID_TREADMILL_DATA:
	case PACER_UUID_FITNESS_MACHINE_FEATURE:
		*ret = PACER_SENSOR_TREADMILL;
		return true;
	default:
		return false;
	}
}

/* When a sensor last heard at last_us is lost without news: lost_after_us later. */
static uint64_t lost_deadline(const PacerPipeline *p, uint64_t last_us)
{
	return last_us < UINT64_MAX - p->cfg.lost_after_us ? last_us + p->cfg.lost_after_us
							 : UINT64_MAX;
}

static void watch_sensor(PacerPipeline *p, const Sensor *s)
{
	uint64_t deadline = lost_deadline(p, s->last_us);

	if (deadline < p->lost_check_us)
		p->lost_check_us = deadline;
}

static Sensor *find_sensor(PacerPipeline *p, const char *address)
{
	for (size_t i = 0; i < p->n_sensors; i++) {
		if (strcmp(p->sensors[i].pub.address, address) == 0)
			return &p->sensors[i];
	}
	return NULL;
}

static Sensor *add_sensor(PacerPipeline *p, const char *address, PacerSensorKind kind,
			  uint64_t t_us)
{
	Sensor *s;
	int id;

	if (p->n_sensors == PACER_METRICS_MAX_SENSORS)
		return NULL;
	id = pacer_metrics_add_sensor(p->metrics, kind);
	if (id < 0)
		return NULL;
	s = &p->sensors[p->n_sensors++];
	*s = (Sensor){.id = id, .last_us = t_us};
	snprintf(s->pub.address, sizeof(s->pub.address), "%s", address);
	s->pub.kind = kind;
	s->pub.battery_pct = -1;
	watch_sensor(p, s);
	if (p->cfg.infer_sensor_events)
		pacer_coach_sensor(p->coach, t_us, PACER_EVENT_SENSOR_CONNECTED, address, kind, -1);
	return s;
}

static void battery(PacerPipeline *p, Sensor *s, int pct, uint64_t t_us)
{
	s->pub.battery_pct = pct;
	if (pct > p->cfg.battery_low_pct + 5)
		s->battery_warned = false;
	if (pct > p->cfg.battery_low_pct || s->battery_warned)
		return;
	s->battery_warned = true;
	pacer_coach_sensor(p->coach, t_us, PACER_EVENT_BATTERY_LOW, s->pub.address, s->pub.kind,
			   pct);
}

/* The sensor `address` is, known from before or new (its kind from the characteristic). */
static Sensor *sensor_for(PacerPipeline *p, const char *address, uint16_t uuid16, uint64_t t_us)
{
	Sensor *s = find_sensor(p, address);
	PacerSensorKind kind;

	if (!s && kind_of(uuid16, &kind))
		s = add_sensor(p, address, kind, t_us);
	return s;
}

static inline PacerNotifyResult accept_value(PacerPipeline *p, Sensor *s,
					     const PacerGattValue *v, uint64_t t_us)
{
	if (s->pub.lost && p->cfg.infer_sensor_events)
		pacer_coach_sensor(p->coach, t_us, PACER_EVENT_SENSOR_CONNECTED, s->pub.address,
				   s->pub.kind, -1);
	s->pub.notifications++;
	if (t_us > s->last_us)
		s->last_us = t_us;
	if (s->pub.lost) {
		s->pub.lost = false;
		watch_sensor(p, s); /* the others' deadlines only move later */
	}
	if (v->kind == PACER_GATT_BATTERY) {
		battery(p, s, v->battery_percent, t_us);
		return PACER_NOTIFY_OK;
	}
	if (pacer_metrics_feed(p->metrics, s->id, v, t_us) < 0)
		return PACER_NOTIFY_UNKNOWN;
	return PACER_NOTIFY_OK;
}

PacerNotifyResult pacer_pipeline_notify(PacerPipeline *p, const char *address, uint16_t uuid16,
					const uint8_t *value, size_t len, uint64_t t_us)
{
	Sensor *s = sensor_for(p, address, uuid16, t_us);
	PacerGattValue v;

	if (!s)
		return PACER_NOTIFY_UNKNOWN;
	if (pacer_gatt_decode(uuid16, value, len, &v) < 0) {
		if (!pacer_gatt_characteristic_name(uuid16))
			return PACER_NOTIFY_UNKNOWN;
		s->pub.malformed++;
		return PACER_NOTIFY_MALFORMED;
	}
	return accept_value(p, s, &v, t_us);
}

PacerNotifyResult pacer_pipeline_notify_decoded(PacerPipeline *p, const char *address,
						uint16_t uuid16, const PacerGattValue *value,
						uint64_t t_us)
{
	Sensor *s = sensor_for(p, address, uuid16, t_us);

	return s ? accept_value(p, s, value, t_us) : PACER_NOTIFY_UNKNOWN;
}

int pacer_pipeline_register_sensor(PacerPipeline *p, const char *address, PacerSensorKind kind,
				   uint64_t t_us)
{
	if (find_sensor(p, address))
		return 0;
	return add_sensor(p, address, kind, t_us) ? 0 : -ENOSPC;
}

void pacer_pipeline_tick(PacerPipeline *p, uint64_t t_us)
{
	/* a sensor's deadline only moves later as it sends: none passed, no need to look */
	if (p->cfg.infer_sensor_events && t_us > p->lost_check_us) {
		p->lost_check_us = UINT64_MAX;
		for (size_t i = 0; i < p->n_sensors; i++) {
			Sensor *s = &p->sensors[i];

			if (s->pub.lost)
				continue;
			if (t_us > s->last_us && t_us - s->last_us > p->cfg.lost_after_us) {
				s->pub.lost = true;
				pacer_coach_sensor(p->coach, t_us, PACER_EVENT_SENSOR_LOST,
						   s->pub.address, s->pub.kind, -1);
				continue;
			}
			watch_sensor(p, s);
		}
	}
	pacer_metrics_snapshot(p->metrics, t_us, &p->snap);
	pacer_coach_update(p->coach, &p->snap);
}

PacerCoach *pacer_pipeline_get_coach(PacerPipeline *p)
{
	return p->coach;
}

PacerMetrics *pacer_pipeline_get_metrics(PacerPipeline *p)
{
	return p->metrics;
}

const PacerMetricsSnapshot *pacer_pipeline_get_snapshot(const PacerPipeline *p)
{
	return &p->snap;
}

size_t pacer_pipeline_n_sensors(const PacerPipeline *p)
{
	return p->n_sensors;
}

const PacerPipelineSensor *pacer_pipeline_get_sensor(const PacerPipeline *p, size_t i)
{
	return i < p->n_sensors ? &p->sensors[i].pub : NULL;
}
