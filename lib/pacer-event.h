/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Coaching events (DESIGN.md section 5). Each event is one JSON object, the
 * same on MQTT, in `pacerctl replay` and (converted) on D-Bus: "type", "seq",
 * "elapsed_s", "step", "message", then fields per type. PacerEvent carries
 * that JSON text and, for programs and tests, typed copies of the values
 * most events are about.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
	PACER_EVENT_WORKOUT_STARTED,
	PACER_EVENT_STEP_STARTED,
	PACER_EVENT_STEP_COUNTDOWN,
	PACER_EVENT_STEP_ENDED,
	PACER_EVENT_SPLIT,
	PACER_EVENT_PACE_HIGH, /* faster than the band */
	PACER_EVENT_PACE_LOW,  /* slower than the band */
	PACER_EVENT_PACE_ON_TARGET,
	PACER_EVENT_HR_HIGH,
	PACER_EVENT_HR_LOW,
	PACER_EVENT_HR_ON_TARGET,
	PACER_EVENT_CADENCE_LOW,
	PACER_EVENT_CADENCE_HIGH,
	PACER_EVENT_CADENCE_ON_TARGET,
	PACER_EVENT_ZONE_CHANGED,
	PACER_EVENT_SENSOR_CONNECTED,
	PACER_EVENT_SENSOR_LOST,
	PACER_EVENT_BATTERY_LOW,
	PACER_EVENT_WORKOUT_PAUSED,
	PACER_EVENT_WORKOUT_RESUMED,
	PACER_EVENT_WORKOUT_FINISHED,
	PACER_EVENT_RECORDING_RECOVERED, /* a run cut off (power cut, kill) saved at the next start */
} PacerEventType;

#define PACER_EVENT_TYPE_COUNT (PACER_EVENT_RECORDING_RECOVERED + 1)

typedef struct {
	PacerEventType type;
	uint64_t seq;     /* 1, 2, 3 ... over the life of the coach */
	uint64_t t_us;    /* the time it happened (the caller's clock) */
	double elapsed_s; /* active workout time */
	int step;         /* step index, or -1 */
	const char *message;
	const char *json; /* the whole event as one JSON object, NUL-terminated */
	size_t json_len;

	/* what the event is about, where that applies (NAN otherwise) */
	double value;       /* pace s/km, bpm, spm, split time, zone ... */
	double target_low;  /* the band: fast pace / min bpm / min spm */
	double target_high; /* slow pace / max bpm / max spm */
	unsigned number;    /* split number, zone, rep; 0 otherwise */
} PacerEvent;

/* Called for every event; the event and its strings live until the call returns. */
typedef void (*PacerEventFunc)(const PacerEvent *event, void *user_data);

/* "workout_started", "pace_high", ... */
const char *pacer_event_type_to_string(PacerEventType type);
