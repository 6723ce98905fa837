/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "pacer-daemon.h"

#include <errno.h>
#include <glib-unix.h>
#include <signal.h>
#include <stdio.h>

#include "pacer-bluez.h"
#include "pacer-calibration.h"
#include "pacer-capture.h"
#include "pacer-mqtt.h"
#include "pacer-notify.h"
#include "pacer-pipeline.h"
#include "pacer-recorder.h"
#include "pacer-service.h"
#include "pacer-sim.h"
#include "pacer-uuid.h"

#define FEED_INTERVAL_MS 20
#define TICK_LINGER_US (5 * G_USEC_PER_SEC) /* ticks go on this long after the last sensor */
#define MALFORMED_LOG_US (60 * G_USEC_PER_SEC)
#define EXIT_DATAERR 65

typedef struct {
	PacerEventFunc func;
	gpointer user_data;
} Sink;

typedef struct {
	PacerTickFunc func;
	gpointer user_data;
} TickSink;

typedef struct {
	PacerSensorsChangedFunc func;
	gpointer user_data;
} SensorsSink;

typedef struct {
	PacerValueFunc func;
	gpointer user_data;
} ValueSink;

struct _PacerDaemon {
	PacerDaemonOptions opts;
	PacerConfig *config;
	GMainLoop *loop;
	int exit_status;
	GArray *sinks;
	GArray *tick_sinks;
	GArray *sensors_sinks;
	GArray *value_sinks;
	PacerPipeline *pipeline;
	PacerBluez *bluez;
	guint n_streaming;	/* the runner's sensors streaming now */
	gint64 idle_since;	/* when ticking stopped being needed; 0: it is needed */
	guint tick_source;	/* BlueZ mode: only while there is something to tick for */
	guint feed_source;
	guint watchdog_source;
	guint signal_sources[3];
	GHashTable *malformed; /* address -> last time a malformed value was logged */
	gboolean reload_pending;
	gboolean ready; /* READY=1 sent */

	/* replay and simulate: capture time runs `speedup` times faster than the wall clock */
	gint64 wall_t0;
	guint64 cap_t0;
	guint64 next_tick;
	gboolean started;
	FILE *replay;
	unsigned long line_no;
	PacerCaptureRecord record;
	gboolean has_record;
	PacerSim *sim;
	PacerSimNotification pending;
	gboolean has_pending;

	/* front ends, each owned here (added by their modules) */
	PacerRecorder *recorder;
	PacerMqtt *mqtt; /* NULL: [mqtt] enabled = false */
	PacerService *service; /* NULL: [dbus] enabled = false */
	PacerCalibration *calibration; /* NULL: not kept (auto_calibrate off, simulation) */
};

static void ensure_ticking(PacerDaemon *d);

/* ---- events ---- */

static void on_event(const PacerEvent *event, gpointer user_data)
{
	PacerDaemon *d = user_data;

	if (d->opts.events) {
		fwrite(event->json, 1, event->json_len, stdout);
		fputc('\n', stdout);
		fflush(stdout);
	}
	g_debug("event: %s", event->message);
	if (event->type == PACER_EVENT_WORKOUT_STARTED || event->type == PACER_EVENT_WORKOUT_RESUMED)
		ensure_ticking(d);
	for (guint i = 0; i < d->sinks->len; i++) {
		const Sink *s = &g_array_index(d->sinks, Sink, i);

		s->func(event, s->user_data);
	}
}

void pacer_daemon_add_event_sink(PacerDaemon *d, PacerEventFunc func, gpointer user_data)
{
	Sink s = {.func = func, .user_data = user_data};

	g_array_append_val(d->sinks, s);
}

/* ---- the pipeline ---- */

/* One pipeline tick, and its snapshot to whoever wants it. */
static void tick(PacerDaemon *d, guint64 t_us)
{
	PacerCoachStatus status;

	pacer_pipeline_tick(d->pipeline, t_us);
	if (d->tick_sinks->len == 0)
		return;
	pacer_coach_get_status(pacer_pipeline_get_coach(d->pipeline), &status);
	for (guint i = 0; i < d->tick_sinks->len; i++) {
		const TickSink *s = &g_array_index(d->tick_sinks, TickSink, i);

		s->func(pacer_pipeline_get_snapshot(d->pipeline), &status, s->user_data);
	}
}

static void sensors_changed(PacerDaemon *d)
{
	for (guint i = 0; i < d->sensors_sinks->len; i++) {
		const SensorsSink *s = &g_array_index(d->sensors_sinks, SensorsSink, i);

		s->func(s->user_data);
	}
}

static gboolean make_pipeline(PacerDaemon *d, GError **error)
{
	PacerPipelineConfig cfg;

	PacerPipeline *fresh;

	pacer_config_to_pipeline(d->config, &cfg);
	/* with BlueZ, connections say when sensors come and go; captures only have silence */
	cfg.infer_sensor_events = d->opts.mode != PACER_DAEMON_BLUEZ;
	fresh = pacer_pipeline_new(&cfg, on_event, d);
	if (!fresh) {
		g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_FAILED, "out of memory");
		return FALSE;
	}
	if (d->config->coach.plan)
		pacer_coach_load(pacer_pipeline_get_coach(fresh), d->config->coach.plan,
				 d->config->coach.workout_text);
	if (d->pipeline)
		pacer_coach_continue_from(pacer_pipeline_get_coach(fresh),
					  pacer_pipeline_get_coach(d->pipeline));
	g_clear_pointer(&d->pipeline, pacer_pipeline_free);
	d->pipeline = fresh;
	return TRUE;
}

static gboolean workout_active(PacerDaemon *d)
{
	PacerCoachStatus st;

	pacer_coach_get_status(pacer_pipeline_get_coach(d->pipeline), &st);
	return st.state == PACER_COACH_RUNNING || st.state == PACER_COACH_PAUSED;
}

/* At most once a minute per sensor (the pipeline counts every one). */
static void log_malformed(PacerDaemon *d, const char *address, uint16_t uuid16, size_t len)
{
	gint64 now = g_get_monotonic_time();
	gpointer last;

	last = g_hash_table_lookup(d->malformed, address);
	if (last && now - GPOINTER_TO_SIZE(last) < MALFORMED_LOG_US)
		return;
	g_hash_table_insert(d->malformed, g_strdup(address), GSIZE_TO_POINTER((gsize)now));
	g_warning("%s: malformed %04x value of %zu bytes, ignored (logged once a minute)", address,
		  uuid16, len);
}

static void notify_value(PacerDaemon *d, const char *address, uint16_t uuid16,
			 const uint8_t *value, size_t len, guint64 t_us)
{
	PacerNotifyResult r = pacer_pipeline_notify(d->pipeline, address, uuid16, value, len, t_us);

	if (r == PACER_NOTIFY_MALFORMED)
		log_malformed(d, address, uuid16, len);
}

/* ---- real sensors ---- */

/*
 * With real sensors the pipeline ticks while one of the runner's sensors
 * streams or a workout runs, and TICK_LINGER_US after that (so that the
 * values of a lost sensor turn null); an idle pacerd does not wake up.
 */
static gboolean ticking_needed(PacerDaemon *d)
{
	return d->n_streaming > 0 || workout_active(d);
}

static gboolean on_tick(gpointer user_data)
{
	PacerDaemon *d = user_data;
	gint64 now = g_get_monotonic_time();

	tick(d, (guint64)now);
	if (ticking_needed(d)) {
		d->idle_since = 0;
	} else if (d->idle_since == 0) {
		d->idle_since = now;
	} else if (now - d->idle_since >= TICK_LINGER_US) {
		g_debug("nothing to tick for: the pipeline rests");
		d->tick_source = 0;
		return G_SOURCE_REMOVE;
	}
	return G_SOURCE_CONTINUE;
}

static void ensure_ticking(PacerDaemon *d)
{
	d->idle_since = 0;
	if (d->opts.mode == PACER_DAEMON_BLUEZ && !d->tick_source)
		d->tick_source = g_timeout_add(PACER_PIPELINE_TICK_US / 1000, on_tick, d);
}

/* Decoded once: for the value sinks, and for the pipeline unless the sensor is bridged. */
static void bluez_value(const char *address, PacerSensorKind kind, gboolean bridged,
			uint16_t uuid16, const uint8_t *value, size_t len, gpointer user_data)
{
	PacerDaemon *d = user_data;
	guint64 now = (guint64)g_get_monotonic_time();
	PacerGattValue decoded;

	if (!bridged)
		pacer_pipeline_register_sensor(d->pipeline, address, kind, now);
	if (pacer_gatt_decode(uuid16, value, len, &decoded) < 0) {
		if (bridged)
			log_malformed(d, address, uuid16, len);
		else /* the pipeline counts it (or ignores a characteristic it does not use) */
			notify_value(d, address, uuid16, value, len, now);
		return;
	}
	for (guint i = 0; i < d->value_sinks->len; i++) {
		const ValueSink *s = &g_array_index(d->value_sinks, ValueSink, i);

		s->func(address, kind, uuid16, &decoded, s->user_data);
	}
	if (!bridged)
		(void)pacer_pipeline_notify_decoded(d->pipeline, address, uuid16, &decoded, now);
}

static void bluez_state(const char *address, PacerSensorKind kind, gboolean bridged,
			gboolean connected, gpointer user_data)
{
	PacerDaemon *d = user_data;
	guint64 now = (guint64)g_get_monotonic_time();

	if (bridged) {
		sensors_changed(d);
		return;
	}
	if (connected) {
		d->n_streaming++;
		ensure_ticking(d);
	} else if (d->n_streaming > 0) {
		d->n_streaming--;
	}
	pacer_pipeline_register_sensor(d->pipeline, address, kind, now);
	pacer_coach_sensor(pacer_pipeline_get_coach(d->pipeline), now,
			   connected ? PACER_EVENT_SENSOR_CONNECTED : PACER_EVENT_SENSOR_LOST, address,
			   kind, -1);
	sensors_changed(d);
}

static void bluez_config(const PacerConfig *c, PacerBluezConfig *ret)
{
	const PacerConfigSensor *sensors[] = {&c->sensors.heart_rate, &c->sensors.footpod,
					      &c->sensors.treadmill};

	G_STATIC_ASSERT(PACER_BLUEZ_MAX_BRIDGE == PACER_CONFIG_MAX_BRIDGE);
	G_STATIC_ASSERT(PACER_BLUEZ_MAX_SENSORS == PACER_DAEMON_MAX_SENSORS);

	*ret = (PacerBluezConfig){.adapter = c->sensors.adapter};
	for (guint i = 0; i < PACER_BLUEZ_N_SLOTS; i++) {
		ret->slots[i].enabled = sensors[i]->mode != PACER_CONFIG_SENSOR_NONE;
		ret->slots[i].auto_pick = sensors[i]->mode == PACER_CONFIG_SENSOR_AUTO;
		g_strlcpy(ret->slots[i].address, sensors[i]->address, sizeof(ret->slots[i].address));
	}
	memcpy(ret->bridge, c->sensors.bridge, sizeof(ret->bridge));
	ret->n_bridge = c->sensors.n_bridge;
}

static void start_bluez(PacerDaemon *d)
{
	static const PacerBluezCallbacks callbacks = {.value = bluez_value, .state = bluez_state};
	PacerBluezConfig cfg;

	bluez_config(d->config, &cfg);
	d->bluez = pacer_bluez_new(&cfg, &callbacks, d);
	pacer_bluez_start(d->bluez);
	if (ticking_needed(d))
		ensure_ticking(d);
}

/* ---- a capture or the virtual runner, at `speedup` ---- */

/* The capture time the wall clock has reached. */
static guint64 capture_now(PacerDaemon *d)
{
	double wall = (double)(g_get_monotonic_time() - d->wall_t0);

	return d->cap_t0 + (guint64)(wall * d->opts.speedup);
}

static void tick_until(PacerDaemon *d, guint64 t_us)
{
	for (; d->next_tick <= t_us; d->next_tick += PACER_PIPELINE_TICK_US)
		tick(d, d->next_tick);
}

static void begin_timeline(PacerDaemon *d, guint64 t0)
{
	d->started = TRUE;
	d->cap_t0 = t0;
	d->next_tick = t0;
	d->wall_t0 = g_get_monotonic_time();
}

/* The capture or the simulation is over: the workout ends there, and so does pacerd. */
static void finish_timeline(PacerDaemon *d, guint64 last_us)
{
	tick_until(d, last_us);
	(void)pacer_coach_stop(pacer_pipeline_get_coach(d->pipeline), last_us);
	d->feed_source = 0;
	g_main_loop_quit(d->loop);
}

/* Reads the next record of the capture; FALSE at its end (or on an error, which sets the status). */
static gboolean read_record(PacerDaemon *d)
{
	g_autofree char *line = NULL;
	size_t cap = 0;
	PacerCaptureError err;

	while (getline(&line, &cap, d->replay) >= 0) {
		int r = pacer_capture_parse_line(line, &d->record, &err);

		d->line_no++;
		if (r == 1)
			return TRUE;
		if (r < 0) {
			g_printerr("pacerd: %s:%lu:%zu: expected %s\n", d->opts.replay_path, d->line_no,
				   err.column, err.what);
			d->exit_status = EXIT_DATAERR;
			return FALSE;
		}
	}
	return FALSE;
}

static gboolean on_replay_feed(gpointer user_data)
{
	PacerDaemon *d = user_data;
	guint64 now;

	if (!d->has_record) {
		finish_timeline(d, d->next_tick);
		return G_SOURCE_REMOVE;
	}
	if (!d->started)
		begin_timeline(d, d->record.t_us);
	now = capture_now(d);
	while (d->has_record && d->record.t_us <= now) {
		uint16_t u16;

		tick_until(d, d->record.t_us);
		if (pacer_uuid_to_u16(&d->record.uuid, &u16) == 0)
			notify_value(d, d->record.address, u16, d->record.value, d->record.len,
				     d->record.t_us);
		d->has_record = read_record(d);
	}
	if (!d->has_record) {
		finish_timeline(d, d->record.t_us);
		return G_SOURCE_REMOVE;
	}
	tick_until(d, now);
	return G_SOURCE_CONTINUE;
}

static int sim_guide(gpointer user_data)
{
	PacerDaemon *d = user_data;

	return pacer_sim_guide_from_coach(pacer_pipeline_get_coach(d->pipeline));
}

static gboolean on_sim_feed(gpointer user_data)
{
	PacerDaemon *d = user_data;
	guint64 now;

	if (!d->started)
		begin_timeline(d, d->pending.t_us);
	now = capture_now(d);
	while (d->has_pending && d->pending.t_us <= now) {
		const PacerSimNotification *n = &d->pending;

		tick_until(d, n->t_us);
		notify_value(d, n->address, n->uuid16, n->value, n->len, n->t_us);
		d->has_pending = pacer_sim_next(d->sim, &d->pending) == 1;
	}
	if (!d->has_pending) {
		finish_timeline(d, d->next_tick);
		return G_SOURCE_REMOVE;
	}
	tick_until(d, now);
	return G_SOURCE_CONTINUE;
}

static gboolean start_replay(PacerDaemon *d, GError **error)
{
	d->replay = g_str_equal(d->opts.replay_path, "-") ? stdin : fopen(d->opts.replay_path, "re");
	if (!d->replay) {
		int err = errno;

		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(err), "%s: %s",
			    d->opts.replay_path, g_strerror(err));
		return FALSE;
	}
	d->has_record = read_record(d);
	d->feed_source = g_timeout_add(FEED_INTERVAL_MS, on_replay_feed, d);
	return TRUE;
}

static gboolean start_simulation(PacerDaemon *d, GError **error)
{
	g_autofree char *text = NULL;
	PacerSimConfig cfg;
	g_autofree PacerPlan *plan = g_new0(PacerPlan, 1);
	const PacerConfig *c = d->config;

	if (!pacer_config_resolve_workout(c, d->opts.simulate_workout, plan, &text, NULL, error))
		return FALSE;
	pacer_sim_config_init(&cfg);
	cfg.seed = d->opts.seed;
	if (c->athlete.has_pace_zones) {
		const PacerPaceBand *e = &c->athlete.pace_zones.zones[PACER_PACE_E];
		const PacerPaceBand *t = &c->athlete.pace_zones.zones[PACER_PACE_T];

		cfg.easy_pace_s_per_km = (e->fast_s_per_km + e->slow_s_per_km) / 2.0;
		cfg.threshold_pace_s_per_km = (t->fast_s_per_km + t->slow_s_per_km) / 2.0;
	}
	if (c->athlete.has_hr_zones && c->athlete.hr_zones.max_hr > 0)
		cfg.max_hr = c->athlete.hr_zones.max_hr;
	if (c->athlete.resting_hr > 0)
		cfg.resting_hr = c->athlete.resting_hr;
	d->sim = pacer_sim_new(&cfg, plan);
	if (!d->sim) {
		g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_FAILED,
				    "the virtual runner cannot run this workout");
		return FALSE;
	}
	pacer_sim_set_guide(d->sim, sim_guide, d);
	pacer_coach_load(pacer_pipeline_get_coach(d->pipeline), plan, text);
	d->has_pending = pacer_sim_next(d->sim, &d->pending) == 1;
	d->feed_source = g_timeout_add(FEED_INTERVAL_MS, on_sim_feed, d);
	return TRUE;
}

/* ---- signals, reload, watchdog ---- */

static gboolean on_quit_signal(gpointer user_data)
{
	PacerDaemon *d = user_data;
	guint64 now = d->opts.mode == PACER_DAEMON_BLUEZ ? (guint64)g_get_monotonic_time()
							  : d->next_tick;

	g_message("stopping: finishing the workout");
	(void)pacer_notify("STOPPING=1");
	/* a running workout is finished (its summary goes out) before pacerd exits */
	(void)pacer_coach_stop(pacer_pipeline_get_coach(d->pipeline), now);
	g_main_loop_quit(d->loop);
	return G_SOURCE_CONTINUE;
}

/* Applies a configuration read again: now, or once the running workout is over. */
static void apply_reload(PacerDaemon *d)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(PacerConfig) fresh = NULL;

	if (!d->opts.config_path) {
		g_message("no configuration file to reload");
		return;
	}
	fresh = pacer_config_load(d->opts.config_path, NULL, NULL, &error);
	if (!fresh) {
		g_warning("configuration not reloaded, the old one stays: %s", error->message);
		return;
	}
	if (workout_active(d)) {
		g_message("configuration read; applied when the running workout ends");
		g_clear_pointer(&d->config, pacer_config_free);
		d->config = g_steal_pointer(&fresh);
		d->reload_pending = TRUE;
		return;
	}
	g_clear_pointer(&d->config, pacer_config_free);
	d->config = g_steal_pointer(&fresh);
	if (!make_pipeline(d, &error))
		g_warning("cannot rebuild the pipeline: %s", error->message);
	if (d->bluez) {
		PacerBluezConfig cfg;

		bluez_config(d->config, &cfg);
		pacer_bluez_reconfigure(d->bluez, &cfg);
	}
	d->reload_pending = FALSE;
	g_message("configuration reloaded from %s", d->opts.config_path);
}

static gboolean on_reload_signal(gpointer user_data)
{
	apply_reload(user_data);
	return G_SOURCE_CONTINUE;
}

/* A reload that waited for the workout: applied once it has finished. */
static void on_event_reload(const PacerEvent *event, gpointer user_data)
{
	PacerDaemon *d = user_data;

	if (event->type == PACER_EVENT_WORKOUT_FINISHED && d->reload_pending)
		g_idle_add_once((GSourceOnceFunc)apply_reload, d);
}

static gboolean on_watchdog(gpointer user_data)
{
	(void)pacer_notify("WATCHDOG=1");
	return G_SOURCE_CONTINUE;
}

/* ---- life cycle ---- */

PacerDaemon *pacer_daemon_new(const PacerDaemonOptions *options, PacerConfig *config,
			      GError **error)
{
	g_autoptr(PacerDaemon) d = g_new0(PacerDaemon, 1);

	d->opts = *options;
	d->opts.config_path = g_strdup(options->config_path);
	d->opts.replay_path = g_strdup(options->replay_path);
	d->opts.simulate_workout = g_strdup(options->simulate_workout);
	if (d->opts.speedup <= 0)
		d->opts.speedup = 1.0;
	d->config = config;
	d->loop = g_main_loop_new(NULL, FALSE);
	d->sinks = g_array_new(FALSE, FALSE, sizeof(Sink));
	d->tick_sinks = g_array_new(FALSE, FALSE, sizeof(TickSink));
	d->sensors_sinks = g_array_new(FALSE, FALSE, sizeof(SensorsSink));
	d->value_sinks = g_array_new(FALSE, FALSE, sizeof(ValueSink));
	d->malformed = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	pacer_daemon_add_event_sink(d, on_event_reload, d);
	if (!make_pipeline(d, error))
		return NULL;
	return g_steal_pointer(&d);
}

void pacer_daemon_free(PacerDaemon *d)
{
	if (!d)
		return;
	for (guint i = 0; i < G_N_ELEMENTS(d->signal_sources); i++)
		g_clear_handle_id(&d->signal_sources[i], g_source_remove);
	/* front ends go first: they hold on to the pipeline */
	g_clear_pointer(&d->calibration, pacer_calibration_free);
	g_clear_pointer(&d->recorder, pacer_recorder_free);
	g_clear_pointer(&d->mqtt, pacer_mqtt_free);
	g_clear_pointer(&d->service, pacer_service_free);
	g_clear_handle_id(&d->tick_source, g_source_remove);
	g_clear_handle_id(&d->feed_source, g_source_remove);
	g_clear_handle_id(&d->watchdog_source, g_source_remove);
	g_clear_pointer(&d->bluez, pacer_bluez_free);
	g_clear_pointer(&d->sim, pacer_sim_free);
	if (d->replay && d->replay != stdin)
		fclose(d->replay);
	g_clear_pointer(&d->pipeline, pacer_pipeline_free);
	g_clear_pointer(&d->config, pacer_config_free);
	g_clear_pointer(&d->loop, g_main_loop_unref);
	g_clear_pointer(&d->sinks, g_array_unref);
	g_clear_pointer(&d->tick_sinks, g_array_unref);
	g_clear_pointer(&d->sensors_sinks, g_array_unref);
	g_clear_pointer(&d->value_sinks, g_array_unref);
	g_clear_pointer(&d->malformed, g_hash_table_unref);
	g_free(d->opts.config_path);
	g_free(d->opts.replay_path);
	g_free(d->opts.simulate_workout);
	g_free(d);
}

/*
 * Ready for systemd once running and, with the D-Bus service, once its name
 * is settled: a client started after pacerd then finds the API.
 */
static gboolean on_ready(gpointer user_data)
{
	PacerDaemon *d = user_data;

	if (!d->ready) {
		d->ready = TRUE;
		(void)pacer_notify("READY=1");
		g_message("running");
	}
	return G_SOURCE_REMOVE;
}

/* The front ends: MQTT, the D-Bus service, the recorder. */
static gboolean start_frontends(PacerDaemon *d, GError **error)
{
	/* each front end starts here */
	d->recorder = pacer_recorder_new(d);
	/* a simulated runner's footpod is nobody's */
	if (d->opts.mode != PACER_DAEMON_SIMULATE)
		d->calibration = pacer_calibration_new(d);
	if (d->config->mqtt.enabled) {
		d->mqtt = pacer_mqtt_new(d, error);
		if (!d->mqtt)
			return FALSE;
	}
	if (d->config->dbus.enabled)
		d->service = pacer_service_new(
			d, d->opts.session_bus || d->config->dbus.bus == PACER_CONFIG_BUS_SESSION
				   ? G_BUS_TYPE_SESSION
				   : G_BUS_TYPE_SYSTEM,
			on_ready, d);
	return TRUE;
}

static gboolean start_source(PacerDaemon *d, GError **error)
{
	switch (d->opts.mode) {
	case PACER_DAEMON_BLUEZ:
		start_bluez(d);
		return TRUE;
	case PACER_DAEMON_REPLAY:
		return start_replay(d, error);
	case PACER_DAEMON_SIMULATE:
		return start_simulation(d, error);
	}
	return FALSE;
}

int pacer_daemon_run(PacerDaemon *d)
{
	g_autoptr(GError) error = NULL;
	guint64 watchdog_us = 0;

	d->signal_sources[0] = g_unix_signal_add(SIGTERM, on_quit_signal, d);
	d->signal_sources[1] = g_unix_signal_add(SIGINT, on_quit_signal, d);
	d->signal_sources[2] = g_unix_signal_add(SIGHUP, on_reload_signal, d);
	if (!start_frontends(d, &error)) {
		g_printerr("pacerd: %s\n", error->message);
		return 69;
	}
	if (!start_source(d, &error)) {
		g_printerr("pacerd: %s\n", error->message);
		return g_error_matches(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND) ? 66 : 65;
	}
	watchdog_us = pacer_notify_watchdog_usec();
	if (watchdog_us > 0)
		d->watchdog_source = g_timeout_add(MAX(watchdog_us / 2000, 1), on_watchdog, d);
	if (!d->service)
		on_ready(d);
	g_main_loop_run(d->loop);
	return d->exit_status;
}

/* ---- what the front ends use ---- */

G_DEFINE_QUARK(pacer-daemon-error-quark, pacer_daemon_error)

void pacer_daemon_add_tick_sink(PacerDaemon *d, PacerTickFunc func, gpointer user_data)
{
	TickSink s = {.func = func, .user_data = user_data};

	g_array_append_val(d->tick_sinks, s);
}

void pacer_daemon_add_sensors_sink(PacerDaemon *d, PacerSensorsChangedFunc func, gpointer user_data)
{
	SensorsSink s = {.func = func, .user_data = user_data};

	g_array_append_val(d->sensors_sinks, s);
}

void pacer_daemon_add_value_sink(PacerDaemon *d, PacerValueFunc func, gpointer user_data)
{
	ValueSink s = {.func = func, .user_data = user_data};

	g_array_append_val(d->value_sinks, s);
}

const PacerConfig *pacer_daemon_get_config(PacerDaemon *d)
{
	return d->config;
}

PacerPipeline *pacer_daemon_get_pipeline(PacerDaemon *d)
{
	return d->pipeline;
}

GMainLoop *pacer_daemon_get_loop(PacerDaemon *d)
{
	return d->loop;
}

guint64 pacer_daemon_now(PacerDaemon *d)
{
	if (d->opts.mode == PACER_DAEMON_BLUEZ)
		return (guint64)g_get_monotonic_time();
	return d->next_tick;
}

guint pacer_daemon_get_sensors(PacerDaemon *d, PacerDaemonSensor *ret, guint max)
{
	guint n = 0;

	if (d->bluez) {
		PacerBluezSensor s[PACER_BLUEZ_MAX_SENSORS];
		guint k = pacer_bluez_get_sensors(d->bluez, s, G_N_ELEMENTS(s));

		for (guint i = 0; i < k && n < max; i++, n++) {
			ret[n] = (PacerDaemonSensor){.kind = s[i].kind, .bridged = s[i].bridged,
						     .connected = s[i].connected,
						     .battery = s[i].battery, .rssi = s[i].rssi};
			g_strlcpy(ret[n].address, s[i].address, sizeof(ret[n].address));
			g_strlcpy(ret[n].name, s[i].name ? s[i].name : "", sizeof(ret[n].name));
		}
		return n;
	}
	for (size_t i = 0; i < pacer_pipeline_n_sensors(d->pipeline) && n < max; i++, n++) {
		const PacerPipelineSensor *ps = pacer_pipeline_get_sensor(d->pipeline, i);

		ret[n] = (PacerDaemonSensor){.kind = ps->kind, .connected = !ps->lost,
					     .battery = ps->battery_pct};
		g_strlcpy(ret[n].address, ps->address, sizeof(ret[n].address));
	}
	return n;
}

static gboolean command_result(int r, const char *what, GError **error)
{
	if (r == 0)
		return TRUE;
	if (r == -EALREADY || r == -EBUSY)
		g_set_error(error, PACER_DAEMON_ERROR, PACER_DAEMON_ERROR_BUSY, "cannot %s: %s", what,
			    "a workout is already running");
	else
		g_set_error(error, PACER_DAEMON_ERROR, PACER_DAEMON_ERROR_NOT_RUNNING,
			    "cannot %s: no workout is running", what);
	return FALSE;
}

gboolean pacer_daemon_start_workout(PacerDaemon *d, const char *workout, GError **error)
{
	PacerCoach *coach = pacer_pipeline_get_coach(d->pipeline);
	g_autofree PacerPlan *plan = g_new0(PacerPlan, 1);
	g_autofree char *text = NULL;
	g_autoptr(GError) local = NULL;

	if (workout_active(d))
		return command_result(-EBUSY, "start", error);
	if (workout && workout[0] != '\0') {
		if (!pacer_config_resolve_workout(d->config, workout, plan, &text, NULL, &local)) {
			g_set_error(error, PACER_DAEMON_ERROR, PACER_DAEMON_ERROR_INVALID_WORKOUT,
				    "%s", local->message);
			return FALSE;
		}
		if (pacer_coach_load(coach, plan, text) < 0)
			return command_result(-EBUSY, "start", error);
	}
	return command_result(pacer_coach_start(coach, pacer_daemon_now(d)), "start", error);
}

gboolean pacer_daemon_stop_workout(PacerDaemon *d, GError **error)
{
	return command_result(pacer_coach_stop(pacer_pipeline_get_coach(d->pipeline), pacer_daemon_now(d)),
			      "stop", error);
}

gboolean pacer_daemon_lap(PacerDaemon *d, GError **error)
{
	return command_result(pacer_coach_lap(pacer_pipeline_get_coach(d->pipeline), pacer_daemon_now(d)),
			      "lap", error);
}

gboolean pacer_daemon_pause(PacerDaemon *d, GError **error)
{
	return command_result(pacer_coach_pause(pacer_pipeline_get_coach(d->pipeline), pacer_daemon_now(d)),
			      "pause", error);
}

gboolean pacer_daemon_resume(PacerDaemon *d, GError **error)
{
	return command_result(pacer_coach_resume(pacer_pipeline_get_coach(d->pipeline), pacer_daemon_now(d)),
			      "resume", error);
}
