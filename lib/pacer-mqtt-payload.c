/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "pacer-mqtt-payload.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
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

/* ---- UTF-8 ---- */

/* The length of the well-formed character at s (at most `left` octets), or 0. */
static size_t utf8_char(const uint8_t *s, size_t left)
{
	uint32_t cp;
	size_t n;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, cp = s[0] & 0x1fu;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, cp = s[0] & 0x0fu;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, cp = s[0] & 0x07u;
	else
		return 0;
	if (n > left)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3fu);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

bool pacer_mqtt_utf8_valid(const uint8_t *s, size_t len)
{
	for (size_t i = 0; i < len;) {
		size_t n = utf8_char(s + i, len - i);

		if (n == 0)
			return false;
		i += n;
	}
	return true;
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

	if (!pacer_mqtt_utf8_valid(p, len))
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
		size_t k = utf8_char((const uint8_t *)verb + n, total - n);

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

static int hex4(const char *s, uint32_t *ret)
{
	uint32_t v = 0;

	for (int i = 0; i < 4; i++) {
		char ch = s[i];
		uint32_t d;

		if (ch >= '0' && ch <= '9')
			d = (uint32_t)(ch - '0');
		else if (ch >= 'a' && ch <= 'f')
			d = (uint32_t)(ch - 'a' + 10);
		else if (ch >= 'A' && ch <= 'F')
			d = (uint32_t)(ch - 'A' + 10);
		else
			return -EBADMSG;
		v = (v << 4) | d;
	}
	*ret = v;
	return 0;
}

/* Appends code point cp (< 0x800 is all pacer-json escapes) as UTF-8. */
static int put_cp(char *buf, size_t cap, size_t *len, uint32_t cp)
{
	char tmp[3];
	size_t n;

	if (cp < 0x80) {
		tmp[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		tmp[0] = (char)(0xc0 | (cp >> 6));
		tmp[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else {
		tmp[0] = (char)(0xe0 | (cp >> 12));
		tmp[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		tmp[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	}
	if (*len + n >= cap)
		return -ENOBUFS;
	memcpy(buf + *len, tmp, n);
	*len += n;
	return 0;
}

/* Unescapes the string that starts after the opening quote at s. */
static int unescape(const char *s, char *buf, size_t cap, size_t *ret_len)
{
	size_t len = 0;

	for (; *s != '"'; s++) {
		uint32_t cp = (unsigned char)*s;
		int r;

		if (*s == '\0')
			return -EBADMSG;
		if (*s == '\\') {
			s++;
			switch (*s) {
			case '"': case '\\': case '/':
				cp = (unsigned char)*s;
				break;
			case 'n':
				cp = '\n';
				break;
			case 't':
				cp = '\t';
				break;
			case 'r':
				cp = '\r';
				break;
			case 'b':
				cp = '\b';
				break;
			case 'f':
				cp = '\f';
				break;
			case 'u':
				if (hex4(s + 1, &cp) < 0 || (cp >= 0xd800 && cp <= 0xdfff))
					return -EBADMSG;
				s += 4;
				break;
			default:
				return -EBADMSG;
			}
			r = put_cp(buf, cap, &len, cp);
		} else {
			/* raw octets (UTF-8 included) are copied as they are */
			r = len + 1 < cap ? (buf[len++] = *s, 0) : -ENOBUFS;
		}
		if (r < 0)
			return r;
	}
	buf[len] = '\0';
	*ret_len = len;
	return 0;
}

int pacer_mqtt_json_get_string(const char *json, const char *key, char *buf, size_t cap)
{
	char pattern[80];
	const char *at;
	size_t len = 0;
	int n, r;

	if (!json || !key || cap == 0)
		return -EINVAL;
	/*
	 * Inside a string every '"' is escaped, so "key": can only be a member
	 * name (top level: pacer-json's events have no nested member of that name
	 * before it, and the first match wins).
	 */
	n = snprintf(pattern, sizeof(pattern), "\"%s\":", key);
	if (n < 0 || (size_t)n >= sizeof(pattern))
		return -EINVAL;
	at = strstr(json, pattern);
	if (!at || at[n] != '"')
		return -ENOENT;
	r = unescape(at + n + 1, buf, cap, &len);
	if (r < 0)
		return r;
	return (int)len;
}
