/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "pacer-mqtt-payload.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pacer-json.h"
#include "pacer-workout.h"
#include "pacer-zones.h"

#define VERB_MAX 64 /* octets of a rejected verb echoed back */

/* ---- small writers ---- */

static void key_fixed(PacerJson *j, const char *key, bool has, double v, unsigned decimals)
{
	pacer_json_key(j, key);
	if (has && isfinite(v))
		pacer_json_fixed(j, v, decimals);
	else
		pacer_json_null(j);
}

static void key_count(PacerJson *j, const char *key, unsigned v)
{
	pacer_json_key(j, key);
	if (v > 0)
		pacer_json_int(j, v);
	else
		pacer_json_null(j);
}

static void key_string(PacerJson *j, const char *key, const char *s)
{
	pacer_json_key(j, key);
	if (s && s[0] != '\0')
		pacer_json_string(j, s);
	else
		pacer_json_null(j);
}

static bool workout_active(const PacerCoachStatus *st)
{
	return st->state == PACER_COACH_RUNNING || st->state == PACER_COACH_PAUSED;
}

/* ---- metrics ---- */

static void write_live_step(PacerJson *j, const PacerCoachStatus *st)
{
	const PacerStep *s = st->current;
	bool timed;

	pacer_json_key(j, "step");
	if (!workout_active(st) || !s) {
		pacer_json_null(j);
		return;
	}
	timed = s->end == PACER_STEP_END_TIME;
	pacer_json_begin_object(j);
	pacer_json_key(j, "index");
	pacer_json_int(j, s->index);
	pacer_json_key(j, "kind");
	pacer_json_string(j, pacer_step_kind_to_string(s->kind));
	key_count(j, "rep", s->rep);
	key_count(j, "reps", s->reps);
	pacer_target_write_json(&s->target, j);
	key_fixed(j, timed ? "remaining_s" : "remaining_m", st->step_remaining >= 0,
		  st->step_remaining, 1);
	pacer_json_end_object(j);
}

int pacer_mqtt_metrics_json(const PacerMetricsSnapshot *snapshot, const PacerCoachStatus *status,
			    const double *rr_ms, size_t n_rr, char *buf, size_t cap)
{
	const char *zone = NULL;
	bool active = workout_active(status);
	PacerJson j;

	if (snapshot->pace_zone >= 0 && snapshot->pace_zone < PACER_PACE_ZONE_COUNT)
		zone = pacer_pace_zone_name((PacerPaceZoneId)snapshot->pace_zone);
	pacer_json_init(&j, buf, cap);
	pacer_json_begin_object(&j);
	key_fixed(&j, "elapsed_s", active, status->elapsed_s, 1);
	key_fixed(&j, "distance_m", active, status->distance_m, 1);
	key_fixed(&j, "speed_mps", snapshot->has_speed, snapshot->speed_mps, 3);
	key_fixed(&j, "pace_s_per_km", snapshot->has_pace, snapshot->pace_s_per_km, 1);
	key_fixed(&j, "cadence_spm", snapshot->has_cadence, snapshot->cadence_spm, 1);
	key_fixed(&j, "stride_m", snapshot->has_stride, snapshot->stride_m, 3);
	pacer_json_key(&j, "hr_bpm");
	if (snapshot->has_hr)
		pacer_json_int(&j, snapshot->hr_bpm);
	else
		pacer_json_null(&j);
	key_count(&j, "hr_zone", snapshot->has_hr ? snapshot->hr_zone : 0);
	key_string(&j, "pace_zone", zone);
	pacer_json_key(&j, "rr_ms");
	pacer_json_begin_array(&j);
	for (size_t i = 0; rr_ms && i < n_rr; i++)
		pacer_json_fixed(&j, rr_ms[i], 1);
	pacer_json_end_array(&j);
	key_fixed(&j, "rmssd_ms", snapshot->has_rmssd, snapshot->rmssd_ms, 1);
	key_fixed(&j, "incline_pct", snapshot->has_incline, snapshot->incline_pct, 1);
	write_live_step(&j, status);
	pacer_json_end_object(&j);
	return pacer_json_finish(&j);
}

/* ---- workout ---- */

int pacer_mqtt_workout_json(const PacerCoachStatus *status, const char *workout, char *buf,
			    size_t cap)
{
	bool active = workout_active(status);
	PacerJson j;

	pacer_json_init(&j, buf, cap);
	pacer_json_begin_object(&j);
	pacer_json_key(&j, "state");
	pacer_json_string(&j, pacer_coach_state_to_string(status->state));
	pacer_json_key(&j, "free_run");
	pacer_json_bool(&j, status->free_run);
	key_string(&j, "workout", status->free_run ? NULL : workout);
	pacer_json_key(&j, "step");
	if (active && status->step >= 0)
		pacer_json_int(&j, status->step);
	else
		pacer_json_null(&j);
	key_count(&j, "n_steps", status->free_run ? 0 : (unsigned)status->n_steps);
	pacer_json_key(&j, "current");
	if (active && status->current)
		pacer_step_write_json(status->current, &j);
	else
		pacer_json_null(&j);
	key_fixed(&j, "elapsed_s", active, status->elapsed_s, 1);
	key_fixed(&j, "distance_m", active, status->distance_m, 1);
	pacer_json_end_object(&j);
	return pacer_json_finish(&j);
}

/* ---- sensors and status ---- */

int pacer_mqtt_sensor_json(const PacerMqttSensor *sensor, char *buf, size_t cap)
{
	PacerJson j;

	pacer_json_init(&j, buf, cap);
	pacer_json_begin_object(&j);
	key_string(&j, "address", sensor->address);
	key_string(&j, "name", sensor->name);
	pacer_json_key(&j, "kind");
	pacer_json_string(&j, pacer_sensor_kind_to_string(sensor->kind));
	pacer_json_key(&j, "connected");
	pacer_json_bool(&j, sensor->connected);
	pacer_json_key(&j, "battery");
	if (sensor->battery >= 0)
		pacer_json_int(&j, sensor->battery);
	else
		pacer_json_null(&j);
	pacer_json_key(&j, "rssi");
	if (sensor->rssi != 0)
		pacer_json_int(&j, sensor->rssi);
	else
		pacer_json_null(&j);
	pacer_json_end_object(&j);
	return pacer_json_finish(&j);
}

static void key_u64(PacerJson *j, const char *key, uint64_t v)
{
	pacer_json_key(j, key);
	pacer_json_int(j, v > INT64_MAX ? INT64_MAX : (int64_t)v);
}

int pacer_mqtt_detail_json(const PacerMqttDetail *detail, char *buf, size_t cap)
{
	PacerJson j;

	pacer_json_init(&j, buf, cap);
	pacer_json_begin_object(&j);
	pacer_json_key(&j, "status");
	pacer_json_string(&j, "online");
	key_string(&j, "version", detail->version);
	key_u64(&j, "queue_size", detail->queue_size);
	key_u64(&j, "queued", detail->queued);
	key_u64(&j, "dropped_events", detail->dropped_events);
	key_u64(&j, "dropped_metrics", detail->dropped_metrics);
	key_u64(&j, "dropped_raw", detail->dropped_raw);
	key_u64(&j, "connects", detail->connects);
	pacer_json_end_object(&j);
	return pacer_json_finish(&j);
}

/* ---- commands ---- */

static const char *const verbs[] = {
	[PACER_MQTT_VERB_START] = "start", [PACER_MQTT_VERB_STOP] = "stop",
	[PACER_MQTT_VERB_LAP] = "lap",	   [PACER_MQTT_VERB_PAUSE] = "pause",
	[PACER_MQTT_VERB_RESUME] = "resume",
};

const char *pacer_mqtt_verb_to_string(PacerMqttVerb verb)
{
	switch (verb) {
	case PACER_MQTT_VERB_START:
	case PACER_MQTT_VERB_STOP:
	case PACER_MQTT_VERB_LAP:
	case PACER_MQTT_VERB_PAUSE:
	case PACER_MQTT_VERB_RESUME:
		return verbs[verb];
	}
	return "unknown";
}

static bool is_space(uint8_t ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
}

/* start's payload: UTF-8 text; tabs and line breaks become spaces, other controls are refused. */
static int copy_text(const uint8_t *p, size_t len, char *ret, size_t cap)
{
	size_t start = 0, end = len, out = 0;

	if (!pacer_utf8_valid(p, len))
		return -EILSEQ;
	for (size_t i = 0; i < len; i++) {
		if ((p[i] < 0x20 && !is_space(p[i])) || p[i] == 0x7f)
			return -EILSEQ;
	}
	while (start < end && is_space(p[start]))
		start++;
	while (end > start && is_space(p[end - 1]))
		end--;
	if (end - start >= cap)
		return -E2BIG;
	for (size_t i = start; i < end; i++)
		ret[out++] = is_space(p[i]) ? ' ' : (char)p[i];
	ret[out] = '\0';
	return 0;
}

int pacer_mqtt_command_parse(const char *verb, const uint8_t *payload, size_t len,
			     PacerMqttVerb *ret_verb, char *ret_text, size_t text_cap)
{
	size_t v;

	if (!verb || !ret_text || text_cap == 0 || (!payload && len > 0))
		return -EINVAL;
	for (v = 0; v < sizeof(verbs) / sizeof(verbs[0]); v++) {
		if (strcmp(verb, verbs[v]) == 0)
			break;
	}
	if (v == sizeof(verbs) / sizeof(verbs[0]))
		return -ENOENT;
	if (len > PACER_MQTT_COMMAND_MAX)
		return -E2BIG;
	ret_text[0] = '\0';
	if (v == PACER_MQTT_VERB_START && len > 0) {
		int r = copy_text(payload, len, ret_text, text_cap);

		if (r < 0)
			return r;
	}
	*ret_verb = (PacerMqttVerb)v;
	return 0;
}

const char *pacer_mqtt_command_error_reason(int error)
{
	switch (error) {
	case -ENOENT:
		return "unknown_verb";
	case -E2BIG:
		return "payload_too_large";
	case -EILSEQ:
		return "not_text";
	default:
		return "invalid";
	}
}

int pacer_mqtt_rejected_json(const char *verb, const char *reason, const char *message,
			     const PacerCoachStatus *status, char *buf, size_t cap)
{
	bool active = workout_active(status);
	char v[VERB_MAX + 1];
	size_t n = 0, total = verb ? strlen(verb) : 0;
	bool valid = verb != NULL;
	PacerJson j;

	/* the verb as received, cut at a character boundary */
	while (valid && n < total) {
		size_t k = pacer_utf8_char((const uint8_t *)verb + n, total - n);

		if (k == 0)
			valid = false;
		else if (n + k > VERB_MAX)
			break;
		else
			n += k;
	}
	if (valid)
		memcpy(v, verb, n);
	v[valid ? n : 0] = '\0';

	pacer_json_init(&j, buf, cap);
	pacer_json_begin_object(&j);
	pacer_json_key(&j, "type");
	pacer_json_string(&j, "command_rejected");
	pacer_json_key(&j, "seq");
	pacer_json_null(&j);
	key_fixed(&j, "elapsed_s", active, status->elapsed_s, 1);
	pacer_json_key(&j, "step");
	if (active && status->step >= 0)
		pacer_json_int(&j, status->step);
	else
		pacer_json_null(&j);
	pacer_json_key(&j, "message");
	pacer_json_string(&j, message ? message : "");
	pacer_json_key(&j, "verb");
	if (valid)
		pacer_json_string(&j, v);
	else
		pacer_json_null(&j);
	pacer_json_key(&j, "reason");
	pacer_json_string(&j, reason ? reason : "invalid");
	pacer_json_end_object(&j);
	return pacer_json_finish(&j);
}

/* ---- Home Assistant discovery ---- */

static const PacerMqttHaEntity ha_entities[] = {
	{"speed", "Speed", "metrics", "{{ value_json.speed_mps }}", "m/s", "speed", "measurement",
	 "mdi:speedometer"},
	{"pace", "Pace", "metrics", "{{ value_json.pace_s_per_km }}", "s/km", NULL, "measurement",
	 "mdi:timer-outline"},
	{"cadence", "Cadence", "metrics", "{{ value_json.cadence_spm }}", "spm", NULL,
	 "measurement", "mdi:shoe-print"},
	{"stride", "Stride length", "metrics", "{{ value_json.stride_m }}", "m", "distance",
	 "measurement", "mdi:ruler"},
	{"hr", "Heart rate", "metrics", "{{ value_json.hr_bpm }}", "bpm", NULL, "measurement",
	 "mdi:heart-pulse"},
	{"hr_zone", "Heart rate zone", "metrics", "{{ value_json.hr_zone }}", NULL, NULL,
	 "measurement", "mdi:heart-cog"},
	{"pace_zone", "Pace zone", "metrics", "{{ value_json.pace_zone }}", NULL, NULL, NULL,
	 "mdi:run-fast"},
	{"distance", "Distance", "metrics", "{{ value_json.distance_m }}", "m", "distance",
	 "measurement", "mdi:map-marker-distance"},
	{"elapsed", "Elapsed time", "metrics", "{{ value_json.elapsed_s }}", "s", "duration",
	 "measurement", "mdi:timer"},
	{"rmssd", "HRV (RMSSD)", "metrics", "{{ value_json.rmssd_ms }}", "ms", "duration",
	 "measurement", "mdi:heart-flash"},
	{"incline", "Incline", "metrics", "{{ value_json.incline_pct }}", "%", NULL, "measurement",
	 "mdi:slope-uphill"},
	{"step", "Workout step", "metrics",
	 "{{ value_json.step.index + 1 if value_json.step else None }}", NULL, NULL, NULL,
	 "mdi:format-list-numbered"},
	{"workout", "Workout", "workout", "{{ value_json.state }}", NULL, NULL, NULL, "mdi:run"},
};

size_t pacer_mqtt_ha_n_entities(void)
{
	return sizeof(ha_entities) / sizeof(ha_entities[0]);
}

const PacerMqttHaEntity *pacer_mqtt_ha_entity(size_t i)
{
	return i < pacer_mqtt_ha_n_entities() ? &ha_entities[i] : NULL;
}

static bool is_ha_id_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       ch == '_' || ch == '-';
}

/* The node as HA's ids want it, written through snprintf-like bounds. */
static int node_id(const char *node, char *buf, size_t cap)
{
	size_t n = strlen(node);

	if (n == 0 || n >= cap)
		return -ENOBUFS;
	for (size_t i = 0; i < n; i++)
		buf[i] = is_ha_id_char(node[i]) ? node[i] : '_';
	buf[n] = '\0';
	return (int)n;
}

int pacer_mqtt_ha_config_topic(const PacerMqttHaDevice *device, const PacerMqttHaEntity *entity,
			       char *buf, size_t cap)
{
	char id[128];
	int n;

	if (node_id(device->node, id, sizeof(id)) < 0)
		return -ENOBUFS;
	n = snprintf(buf, cap, "%s/sensor/%s/%s/config", device->ha_prefix, id, entity->id);
	if (n < 0 || (size_t)n >= cap)
		return -ENOBUFS;
	return n;
}

static int joined(char *buf, size_t cap, const char *a, const char *b, const char *c)
{
	int n = snprintf(buf, cap, "%s%s%s", a, b, c);

	return n < 0 || (size_t)n >= cap ? -ENOBUFS : n;
}

int pacer_mqtt_ha_config_json(const PacerMqttHaDevice *device, const PacerMqttHaEntity *entity,
			      char *buf, size_t cap)
{
	char id[128], unique[192], state[512], avail[512], dev_id[160], dev_name[160];
	PacerJson j;

	if (node_id(device->node, id, sizeof(id)) < 0 ||
	    snprintf(unique, sizeof(unique), "pacer_%s_%s", id, entity->id) >= (int)sizeof(unique) ||
	    joined(state, sizeof(state), device->base, "/", entity->topic) < 0 ||
	    joined(avail, sizeof(avail), device->base, "/", "status") < 0 ||
	    joined(dev_id, sizeof(dev_id), "pacer_", id, "") < 0 ||
	    joined(dev_name, sizeof(dev_name), "Pacer ", device->node, "") < 0)
		return -ENOBUFS;
	pacer_json_init(&j, buf, cap);
	pacer_json_begin_object(&j);
	pacer_json_key(&j, "name");
	pacer_json_string(&j, entity->name);
	pacer_json_key(&j, "unique_id");
	pacer_json_string(&j, unique);
	pacer_json_key(&j, "object_id");
	pacer_json_string(&j, unique);
	pacer_json_key(&j, "state_topic");
	pacer_json_string(&j, state);
	pacer_json_key(&j, "value_template");
	pacer_json_string(&j, entity->value_template);
	if (entity->unit) {
		pacer_json_key(&j, "unit_of_measurement");
		pacer_json_string(&j, entity->unit);
	}
	if (entity->device_class) {
		pacer_json_key(&j, "device_class");
		pacer_json_string(&j, entity->device_class);
	}
	if (entity->state_class) {
		pacer_json_key(&j, "state_class");
		pacer_json_string(&j, entity->state_class);
	}
	if (entity->icon) {
		pacer_json_key(&j, "icon");
		pacer_json_string(&j, entity->icon);
	}
	pacer_json_key(&j, "availability_topic");
	pacer_json_string(&j, avail);
	pacer_json_key(&j, "payload_available");
	pacer_json_string(&j, "online");
	pacer_json_key(&j, "payload_not_available");
	pacer_json_string(&j, "offline");
	pacer_json_key(&j, "device");
	pacer_json_begin_object(&j);
	pacer_json_key(&j, "identifiers");
	pacer_json_begin_array(&j);
	pacer_json_string(&j, dev_id);
	pacer_json_end_array(&j);
	pacer_json_key(&j, "name");
	pacer_json_string(&j, dev_name);
	pacer_json_key(&j, "manufacturer");
	pacer_json_string(&j, "Pacer");
	pacer_json_key(&j, "model");
	pacer_json_string(&j, "pacerd");
	key_string(&j, "sw_version", device->sw_version);
	pacer_json_end_object(&j);
	pacer_json_end_object(&j);
	return pacer_json_finish(&j);
}

/* ---- reading back ---- */

typedef struct {
	const char *key;
	char *buf;
	size_t cap;
	unsigned depth;
	bool at_key; /* the next value at depth 1 is the member we want */
	int result;
} GetString;

static int get_open(void *user_data)
{
	GetString *g = user_data;

	g->at_key = false;
	g->depth++;
	return 0;
}

static int get_close(void *user_data)
{
	((GetString *)user_data)->depth--;
	return 0;
}

static int get_key(const char *key, size_t len, void *user_data)
{
	GetString *g = user_data;

	(void)len;
	g->at_key = g->depth == 1 && strcmp(key, g->key) == 0;
	return 0;
}

static int get_other(void *user_data)
{
	((GetString *)user_data)->at_key = false;
	return 0;
}

static int get_number(double v, void *user_data)
{
	(void)v;
	return get_other(user_data);
}

static int get_boolean(bool v, void *user_data)
{
	(void)v;
	return get_other(user_data);
}

static int get_value(const char *s, size_t len, void *user_data)
{
	GetString *g = user_data;

	if (!g->at_key || g->result != -ENOENT)
		return 0;
	g->at_key = false;
	if (len >= g->cap) {
		g->result = -ENOBUFS;
		return 0;
	}
	memcpy(g->buf, s, len + 1);
	g->result = (int)len;
	return 0;
}

int pacer_mqtt_json_get_string(const char *json, const char *key, char *buf, size_t cap)
{
	static const PacerJsonVisitor visitor = {
		.begin_object = get_open, .end_object = get_close,
		.begin_array = get_open, .end_array = get_close,
		.key = get_key, .string = get_value, .number = get_number,
		.boolean = get_boolean, .null = get_other,
	};
	GetString g = {.key = key, .buf = buf, .cap = cap, .result = -ENOENT};
	size_t len;
	char *scratch;
	int r;

	if (!json || !key || cap == 0)
		return -EINVAL;
	len = strlen(json);
	scratch = malloc(len + 1);
	if (!scratch)
		return -ENOMEM;
	r = pacer_json_parse(json, len, &visitor, &g, scratch, len + 1, NULL);
	free(scratch);
	if (r < 0)
		return -EBADMSG;
	return g.result;
}
