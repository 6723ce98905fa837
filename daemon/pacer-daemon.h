/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * pacerd's one application object: it owns the configuration, the pipeline
 * (decoders, metrics, coach), the source of notifications (BlueZ, a capture
 * replayed, or the virtual runner) and the event sinks, all on one GLib main
 * loop that never blocks.
 */

#include <glib.h>

#include "pacer-config.h"
#include "pacer-event.h"
#include "pacer-gatt.h"
#include "pacer-pipeline.h"

typedef enum {
	PACER_DAEMON_BLUEZ,    /* real sensors through bluetoothd */
	PACER_DAEMON_REPLAY,   /* --replay FILE */
	PACER_DAEMON_SIMULATE, /* --simulate WORKOUT */
} PacerDaemonMode;

typedef struct {
	char *config_path; /* the file to (re)load; NULL: defaults only */
	gboolean events;   /* every event as a JSON line on stdout */
	gboolean session_bus;
	PacerDaemonMode mode;
	char *replay_path;
	char *simulate_workout;
	double speedup; /* replay and simulate: capture seconds per wall second */
	guint64 seed;
} PacerDaemonOptions;

typedef struct _PacerDaemon PacerDaemon;

/* Takes ownership of `config`. Returns NULL with an error for a workout that does not parse. */
PacerDaemon *pacer_daemon_new(const PacerDaemonOptions *options, PacerConfig *config,
			      GError **error);
void pacer_daemon_free(PacerDaemon *d);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PacerDaemon, pacer_daemon_free)

/* Runs until SIGTERM/SIGINT, or the end of a replay or simulation; returns the exit status. */
int pacer_daemon_run(PacerDaemon *d);

/* Another consumer of every event (MQTT, D-Bus, the recorder). */
void pacer_daemon_add_event_sink(PacerDaemon *d, PacerEventFunc func, gpointer user_data);

/*
 * Called after every pipeline tick (4 times a second of pipeline time) with
 * the fresh snapshot and the coach's status; consumers rate-limit
 * themselves. The snapshot's RR list holds the intervals since the previous
 * tick only: a consumer that publishes less often collects them.
 */
typedef void (*PacerTickFunc)(const PacerMetricsSnapshot *snapshot, const PacerCoachStatus *status,
			      gpointer user_data);
void pacer_daemon_add_tick_sink(PacerDaemon *d, PacerTickFunc func, gpointer user_data);

/*
 * Called with every well-formed value a sensor sends (notifications and
 * reads), decoded, the runner's and the bridged sensors' alike (BlueZ mode).
 */
typedef void (*PacerValueFunc)(const char *address, PacerSensorKind kind, uint16_t uuid16,
			       const PacerGattValue *value, gpointer user_data);
void pacer_daemon_add_value_sink(PacerDaemon *d, PacerValueFunc func, gpointer user_data);

/* Called when a sensor is connected or lost (BlueZ mode), or its battery changes. */
typedef void (*PacerSensorsChangedFunc)(gpointer user_data);
void pacer_daemon_add_sensors_sink(PacerDaemon *d, PacerSensorsChangedFunc func, gpointer user_data);

const PacerConfig *pacer_daemon_get_config(PacerDaemon *d);
PacerPipeline *pacer_daemon_get_pipeline(PacerDaemon *d);
GMainLoop *pacer_daemon_get_loop(PacerDaemon *d);
/* The current time of the pipeline (monotonic, or the capture's in a replay). */
guint64 pacer_daemon_now(PacerDaemon *d);

/* The sensors in use with their state (BlueZ mode; from the pipeline otherwise). */
#define PACER_DAEMON_MAX_SENSORS 32 /* the runner's three and up to 29 bridged ones */

typedef struct {
	char address[18];
	PacerSensorKind kind;
	gboolean bridged; /* published raw, not the runner's */
	char name[64]; /* "" when unknown */
	gboolean connected;
	int battery; /* percent, -1 unknown */
	int rssi;    /* dBm, 0 unknown */
} PacerDaemonSensor;
guint pacer_daemon_get_sensors(PacerDaemon *d, PacerDaemonSensor *ret, guint max);

/* Errors of the workout commands, for MQTT and D-Bus. */
#define PACER_DAEMON_ERROR (pacer_daemon_error_quark())
typedef enum {
	PACER_DAEMON_ERROR_INVALID_WORKOUT, /* the text does not parse, or names no preset */
	PACER_DAEMON_ERROR_BUSY,            /* a workout is already running */
	PACER_DAEMON_ERROR_NOT_RUNNING,     /* no workout to stop, lap, pause or resume */
	PACER_DAEMON_ERROR_FAILED,
} PacerDaemonError;
GQuark pacer_daemon_error_quark(void);

/* The commands every front end shares: MQTT cmd/, D-Bus methods. */
gboolean pacer_daemon_start_workout(PacerDaemon *d, const char *workout, GError **error);
gboolean pacer_daemon_stop_workout(PacerDaemon *d, GError **error);
gboolean pacer_daemon_lap(PacerDaemon *d, GError **error);
gboolean pacer_daemon_pause(PacerDaemon *d, GError **error);
gboolean pacer_daemon_resume(PacerDaemon *d, GError **error);
