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
