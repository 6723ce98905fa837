/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * What pacerd publishes over MQTT, built as bytes: the metrics, workout,
 * sensor and status/detail payloads, Home Assistant discovery configs, the
 * command_rejected event, and the validation of commands received on
 * cmd/<verb>. DESIGN.md section 6 and the README's "MQTT" section describe
 * every topic and field.
 *
 * Every writer fills the caller's buffer with one NUL-terminated JSON
 * object and returns its length, or -ENOBUFS when it does not fit (the
 * buffer then holds no usable text). Units are in the keys; an unknown value
 * is null, never 0. Nothing here allocates.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pacer-coach.h"
#include "pacer-metrics.h"

/* Enough for every payload here (a metrics message with PACER_MQTT_MAX_RR intervals). */
#define PACER_MQTT_PAYLOAD_MAX 8192

/* RR intervals one metrics message carries at most (an interval of 60 s at 250 bpm). */
#define PACER_MQTT_MAX_RR 256

/* The largest command payload accepted, in octets (a workout text's limit). */
#define PACER_MQTT_COMMAND_MAX 1024

/*
 * The metrics message:
 *   {"elapsed_s","distance_m","speed_mps","pace_s_per_km","cadence_spm","stride_m",
 *    "hr_bpm","hr_zone","pace_zone","rr_ms","rmssd_ms","incline_pct","step"}
 * elapsed_s and distance_m are the running (or paused) workout's active time
 * and distance, as in the events; null when no workout is running. rr_ms is
 * `rr_ms` (n_rr values, the RR intervals accepted since the previous
 * message), always an array. step is null outside a planned workout, else
 * {"index","kind","rep","reps","target","remaining_s"} (a timed step) or
 * {... "remaining_m"} (a distance step).
 */
int pacer_mqtt_metrics_json(const PacerMetricsSnapshot *snapshot, const PacerCoachStatus *status,
			    const double *rr_ms, size_t n_rr, char *buf, size_t cap);

/*
 * The workout state (retained):
 *   {"state","free_run","workout","step","n_steps","current","elapsed_s","distance_m"}
 * workout is the workout's text (NULL: null), step the current step's index
 * or null, current the step itself ({"index","kind","duration_s" or
 * "distance_m","target","rep","reps"}) or null, elapsed_s and distance_m the
 * workout's so far (null when none is running or paused).
 */
int pacer_mqtt_workout_json(const PacerCoachStatus *status, const char *workout, char *buf,
			    size_t cap);

typedef struct {
	const char *address;
	const char *name; /* NULL or "" when unknown */
	PacerSensorKind kind;
	bool connected;
	int battery; /* percent; < 0 unknown */
	int rssi;    /* dBm; 0 unknown */
} PacerMqttSensor;

/* A sensor's state (retained): {"address","name","kind","connected","battery","rssi"}. */
int pacer_mqtt_sensor_json(const PacerMqttSensor *sensor, char *buf, size_t cap);

typedef struct {
	const char *version;     /* pacerd's */
	uint64_t queue_size;     /* [mqtt] queue_size */
	uint64_t queued;         /* messages waiting for the broker */
	uint64_t dropped_events; /* events and states dropped from a full queue, ever */
	uint64_t dropped_metrics; /* metrics messages dropped from a full queue, ever */
	uint64_t dropped_raw;    /* raw values not sent: the broker was away, ever */
	uint64_t connects;       /* successful connections, ever */
} PacerMqttDetail;

/*
 * status/detail (retained):
 *   {"status":"online","version","queue_size","queued","dropped_events","dropped_metrics",
 *    "dropped_raw","connects"}
 */
int pacer_mqtt_detail_json(const PacerMqttDetail *detail, char *buf, size_t cap);

/*
 * The event pacerd publishes when it refuses a command (on the event topic
 * only: it is not a coaching event and has no seq):
 *   {"type":"command_rejected","seq":null,"elapsed_s","step","message","verb","reason"}
 * elapsed_s and step are the running workout's (null when none runs).
 * verb is the topic level after cmd/ as received: null when it is not UTF-8,
 * cut to 64 octets at a character boundary. reason is one of the
 * pacer_mqtt_reason_* strings; message a sentence for people.
 */
int pacer_mqtt_rejected_json(const char *verb, const char *reason, const char *message,
			     const PacerCoachStatus *status, char *buf, size_t cap);

/* ---- commands ---- */

typedef enum {
	PACER_MQTT_VERB_START,
	PACER_MQTT_VERB_STOP,
	PACER_MQTT_VERB_LAP,
	PACER_MQTT_VERB_PAUSE,
	PACER_MQTT_VERB_RESUME,
} PacerMqttVerb;

const char *pacer_mqtt_verb_to_string(PacerMqttVerb verb);

/*
 * Validates a command: `verb` is the topic level after cmd/ (NUL-terminated),
 * `payload` the message's octets (need not be NUL-terminated). Every payload
 * must be at most PACER_MQTT_COMMAND_MAX octets; start's is the workout text
 * or a preset name (empty: start what is loaded, or a free run), which must
 * be UTF-8 without control characters (tabs and line breaks between steps
 * are allowed and become spaces); the other verbs ignore theirs. On success
 * writes the verb and, for start, the text with surrounding spaces removed
 * into ret_text (cap at least PACER_MQTT_COMMAND_MAX + 1; "" for other verbs).
 * A payload longer than PACER_MQTT_COMMAND_MAX is refused on `len` alone:
 * `payload` then need only hold its first PACER_MQTT_COMMAND_MAX + 1 octets.
 * Returns 0, -ENOENT for an unknown verb (checked first), -E2BIG for a
 * payload too large (or a text longer than text_cap - 1), -EILSEQ for a
 * start payload that is not text, -EINVAL for NULL arguments.
 */
int pacer_mqtt_command_parse(const char *verb, const uint8_t *payload, size_t len,
			     PacerMqttVerb *ret_verb, char *ret_text, size_t text_cap);

/* The "reason" of a command_rejected event for a pacer_mqtt_command_parse() error. */
const char *pacer_mqtt_command_error_reason(int error);


/* ---- Home Assistant discovery ---- */

typedef struct {
	const char *id;             /* object id in topics and unique_id: "hr" */
	const char *name;           /* "Heart rate" */
	const char *topic;          /* the state topic under base_topic/node: "metrics" or "workout" */
	const char *value_template; /* Jinja, e.g. "{{ value_json.hr_bpm }}" */
	const char *unit;           /* unit_of_measurement; NULL none */
	const char *device_class;   /* NULL none */
	const char *state_class;    /* NULL for values that are no measurement */
	const char *icon;           /* NULL none */
} PacerMqttHaEntity;

/* The entities pacerd announces, one per live metric (a constant table). */
size_t pacer_mqtt_ha_n_entities(void);
const PacerMqttHaEntity *pacer_mqtt_ha_entity(size_t i);

typedef struct {
	const char *node;        /* [mqtt] node */
	const char *base;        /* base_topic/node: the prefix of every state topic */
	const char *ha_prefix;   /* [mqtt] ha_prefix */
	const char *sw_version;
} PacerMqttHaDevice;

/*
 * HA's node and object ids must match [a-zA-Z0-9_-]+: other octets of the
 * node become '_'. Writes "<ha_prefix>/sensor/<node id>/<entity id>/config".
 * Returns the length or -ENOBUFS.
 */
int pacer_mqtt_ha_config_topic(const PacerMqttHaDevice *device, const PacerMqttHaEntity *entity,
			       char *buf, size_t cap);

/*
 * One entity's config: name, unique_id ("pacer_<node id>_<entity id>"),
 * object_id, state_topic, value_template, unit_of_measurement, device_class,
 * state_class (each only when the entity has one), availability_topic
 * (base/status), payload_available "online", payload_not_available
 * "offline", icon, and device {identifiers ["pacer_<node id>"], name
 * "Pacer <node>", manufacturer "Pacer", model "pacerd", sw_version}.
 */
int pacer_mqtt_ha_config_json(const PacerMqttHaDevice *device, const PacerMqttHaEntity *entity,
			      char *buf, size_t cap);

/* ---- reading back ---- */

/*
 * The string value of top-level member `key` of the JSON object `json` as
 * written by pacer-json (e.g. an event's "workout"), unescaped into buf.
 * Returns its length, -ENOENT when the member is missing or not a string
 * (null), -ENOBUFS when it does not fit, -EBADMSG when json is not
 * well-formed (pacer_json_parse), -ENOMEM.
 */
int pacer_mqtt_json_get_string(const char *json, const char *key, char *buf, size_t cap);
