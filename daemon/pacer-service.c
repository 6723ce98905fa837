/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "pacer-service.h"

#include <math.h>

#include "pacer-coach.h"
#include "pacer-dbus.h"
#include "pacer-event.h"
#include "pacer-json.h"
#include "pacer-pipeline.h"
#include "pacer-workout.h"
#include "pacer-zones.h"

#define REFRESH_US  G_USEC_PER_SEC /* PropertiesChanged at most this often */
#define RR_MAX	    256		   /* RR intervals kept between two refreshes */
#define MAX_SENSORS PACER_DAEMON_MAX_SENSORS

#ifndef G_DBUS_METHOD_INVOCATION_HANDLED /* GLib < 2.68 */
#define G_DBUS_METHOD_INVOCATION_HANDLED TRUE
#endif

struct _PacerService {
	PacerDaemon *daemon; /* not owned: it owns us */
	GBusType bus_type;
	guint owner_id;
	GDBusConnection *connection; /* once the bus is acquired */
	PacerDBusCoach *coach;
	GDBusObjectManagerServer *manager;
	GHashTable *sensors; /* address -> PacerObjectSkeleton, as exported */
	char *workout;	     /* text of the last workout started; NULL: a free run or none */
	guint refresh_source;
	gint64 last_refresh_us;
	GArray *rr_pending; /* double: RR intervals since the last refresh */
	GArray *rr_last;    /* those of the last refresh period (GetMetrics) */
	GSourceFunc settled; /* once the name's fate is known; then NULL */
	gpointer settled_data;
};

static const GDBusErrorEntry dbus_errors[] = {
	{PACER_DAEMON_ERROR_INVALID_WORKOUT, PACER_SERVICE_NAME ".Error.InvalidWorkout"},
	{PACER_DAEMON_ERROR_BUSY, PACER_SERVICE_NAME ".Error.Busy"},
	{PACER_DAEMON_ERROR_NOT_RUNNING, PACER_SERVICE_NAME ".Error.NotRunning"},
	{PACER_DAEMON_ERROR_FAILED, PACER_SERVICE_NAME ".Error.Failed"},
};

/*
 * PACER_DAEMON_ERROR codes as io.pacer.Pacer1.Error.* on the bus, and back;
 * per code rather than g_dbus_error_register_error_domain(), which wants a
 * static. Registering again is harmless.
 */
static void register_errors(void)
{
	for (gsize i = 0; i < G_N_ELEMENTS(dbus_errors); i++)
		(void)g_dbus_error_register_error(PACER_DAEMON_ERROR, dbus_errors[i].error_code,
						  dbus_errors[i].dbus_error_name);
}

static const char *bus_name(GBusType bus_type)
{
	return bus_type == G_BUS_TYPE_SESSION ? "session" : "system";
}

/* ---- the live values: one view for the properties and GetMetrics ---- */

typedef struct {
	double elapsed_s, distance_m; /* of the running workout */
	double speed_mps, pace_s_per_km, cadence_spm, stride_m, rmssd_ms, incline_pct;
	unsigned hr_bpm; /* 0: unknown */
	gboolean has_hr_zone;
	unsigned hr_zone;
	const char *pace_zone; /* NULL: unknown */
	int step;	       /* -1: none */
} Live;

static double known(gboolean has, double value)
{
	return has ? value : NAN;
}

static void live_get(PacerService *s, const PacerCoachStatus *st, Live *ret)
{
	const PacerMetricsSnapshot *m =
		pacer_pipeline_get_snapshot(pacer_daemon_get_pipeline(s->daemon));
	gboolean active = st->state == PACER_COACH_RUNNING || st->state == PACER_COACH_PAUSED;

	*ret = (Live){
		.elapsed_s = known(active, st->elapsed_s),
		.distance_m = known(active, st->distance_m),
		.speed_mps = known(m->has_speed, m->speed_mps),
		.pace_s_per_km = known(m->has_pace, m->pace_s_per_km),
		.cadence_spm = known(m->has_cadence, m->cadence_spm),
		.stride_m = known(m->has_stride, m->stride_m),
		.rmssd_ms = known(m->has_rmssd, m->rmssd_ms),
		.incline_pct = known(m->has_incline, m->incline_pct),
		.hr_bpm = m->has_hr ? m->hr_bpm : 0,
		/* 0 is "below zone 1" when the zones are known */
		.has_hr_zone =
			m->has_hr && pacer_daemon_get_config(s->daemon)->athlete.has_hr_zones,
		.hr_zone = m->has_hr ? m->hr_zone : 0,
		.pace_zone = m->has_pace && m->pace_zone >= 0
				     ? pacer_pace_zone_name((PacerPaceZoneId)m->pace_zone)
				     : NULL,
		.step = st->step,
	};
}

static void coach_status(PacerService *s, PacerCoachStatus *ret)
{
	pacer_coach_get_status(pacer_pipeline_get_coach(pacer_daemon_get_pipeline(s->daemon)), ret);
}

/* ---- properties ---- */

/* The queued workout while ready, else the one started last. */
static const char *workout_text(PacerService *s, PacerCoachState state)
{
	const char *queued = pacer_daemon_get_config(s->daemon)->coach.workout_text;

	switch (state) {
	case PACER_COACH_IDLE:
		return "";
	case PACER_COACH_READY:
		return queued ? queued : "";
	case PACER_COACH_RUNNING:
	case PACER_COACH_PAUSED:
	case PACER_COACH_FINISHED:
		break;
	}
	return s->workout ? s->workout : "";
}

static void refresh_step(PacerService *s, const PacerCoachStatus *st)
{
	PacerDBusCoach *c = s->coach;
	const PacerStep *cur = st->current;
	gboolean imperial =
		pacer_daemon_get_config(s->daemon)->coach.units == PACER_CONFIG_UNITS_IMPERIAL;
	const char *unit = "";
	char text[256] = "";

	if (cur) {
		pacer_step_describe(cur, imperial, text, sizeof(text));
		unit = cur->end == PACER_STEP_END_TIME ? "s" : "m";
	}
	pacer_dbus_coach_set_step_index(c, st->step);
	pacer_dbus_coach_set_step_count(c, (guint)st->n_steps);
	pacer_dbus_coach_set_step_kind(c, cur ? pacer_step_kind_to_string(cur->kind) : "");
	pacer_dbus_coach_set_step_target(c, cur ? cur->target.label : "");
	pacer_dbus_coach_set_step_description(c, text);
	/* a step of a workout always ends; it may overshoot by a tick */
	pacer_dbus_coach_set_step_remaining(
		c, g_variant_new_double(cur ? MAX(st->step_remaining, 0.0) : NAN));
	pacer_dbus_coach_set_step_remaining_unit(c, unit);
}

/*
 * Setters emit nothing for a value that did not change. Doubles go as GVariant
 * (ForceGVariant in the XML): a GObject double property rejects NaN.
 */
static void refresh_coach(PacerService *s)
{
	PacerDBusCoach *c = s->coach;
	PacerCoachStatus st;
	Live l;

	coach_status(s, &st);
	live_get(s, &st, &l);
	pacer_dbus_coach_set_state(c, pacer_coach_state_to_string(st.state));
	pacer_dbus_coach_set_workout(c, workout_text(s, st.state));
	pacer_dbus_coach_set_free_run(c, st.free_run);
	refresh_step(s, &st);
	pacer_dbus_coach_set_elapsed_seconds(c, g_variant_new_double(l.elapsed_s));
	pacer_dbus_coach_set_distance_meters(c, g_variant_new_double(l.distance_m));
	pacer_dbus_coach_set_speed_mps(c, g_variant_new_double(l.speed_mps));
	pacer_dbus_coach_set_pace_seconds_per_km(c, g_variant_new_double(l.pace_s_per_km));
	pacer_dbus_coach_set_cadence_spm(c, g_variant_new_double(l.cadence_spm));
	pacer_dbus_coach_set_stride_meters(c, g_variant_new_double(l.stride_m));
	pacer_dbus_coach_set_heart_rate_bpm(c, l.hr_bpm);
	pacer_dbus_coach_set_heart_rate_zone(c, l.hr_zone);
	pacer_dbus_coach_set_pace_zone(c, l.pace_zone ? l.pace_zone : "");
	pacer_dbus_coach_set_rmssd_ms(c, g_variant_new_double(l.rmssd_ms));
	pacer_dbus_coach_set_incline_percent(c, g_variant_new_double(l.incline_pct));
}

/* ---- sensors ---- */

static char *sensor_path(const char *address)
{
	g_autofree char *node = g_strdelimit(g_strdup(address), ":", '_');

	return g_strconcat(PACER_SERVICE_PATH "/sensor/", node, NULL);
}

/*
 * Sets what changed, compared as the skeleton compares: setting an equal
 * value emits nothing on the bus, yet g_object_set() costs some 4,500
 * instructions (every sensor, every second).
 */
static void sensor_update(PacerDBusSensor *iface, const PacerDaemonSensor *ds)
{
	const char *kind = pacer_sensor_kind_to_string(ds->kind);
	gint16 rssi = (gint16)CLAMP(ds->rssi, G_MININT16, G_MAXINT16);

	if (g_strcmp0(pacer_dbus_sensor_get_address(iface), ds->address) != 0)
		pacer_dbus_sensor_set_address(iface, ds->address);
	if (g_strcmp0(pacer_dbus_sensor_get_name(iface), ds->name) != 0)
		pacer_dbus_sensor_set_name(iface, ds->name);
	if (g_strcmp0(pacer_dbus_sensor_get_kind(iface), kind) != 0)
		pacer_dbus_sensor_set_kind(iface, kind);
	if (!pacer_dbus_sensor_get_connected(iface) != !ds->connected)
		pacer_dbus_sensor_set_connected(iface, ds->connected);
	if (pacer_dbus_sensor_get_battery(iface) != ds->battery)
		pacer_dbus_sensor_set_battery(iface, ds->battery);
	if (pacer_dbus_sensor_get_rssi(iface) != rssi)
		pacer_dbus_sensor_set_rssi(iface, rssi);
}

static void sensor_add(PacerService *s, const PacerDaemonSensor *ds)
{
	g_autofree char *path = sensor_path(ds->address);
	g_autoptr(PacerObjectSkeleton) object = NULL;
	g_autoptr(PacerDBusSensor) iface = NULL;

	if (!g_variant_is_object_path(path)) {
		g_debug("sensor '%s' not exported on D-Bus: not an address", ds->address);
		return;
	}
	object = pacer_object_skeleton_new(path);
	iface = pacer_dbus_sensor_skeleton_new();
	sensor_update(iface, ds);
	pacer_object_skeleton_set_dbus_sensor(object, iface);
	g_dbus_object_manager_server_export(s->manager, G_DBUS_OBJECT_SKELETON(object));
	g_hash_table_insert(s->sensors, g_strdup(ds->address), g_steal_pointer(&object));
}

static gboolean sensor_listed(const char *address, const PacerDaemonSensor *list, guint n)
{
	for (guint i = 0; i < n; i++)
		if (g_str_equal(list[i].address, address))
			return TRUE;
	return FALSE;
}

/* Adds, updates and removes sensor objects to match the daemon's list. */
static void refresh_sensors(PacerService *s)
{
	PacerDaemonSensor list[MAX_SENSORS];
	guint n = pacer_daemon_get_sensors(s->daemon, list, G_N_ELEMENTS(list));
	GHashTableIter iter;
	gpointer key, value;

	g_hash_table_iter_init(&iter, s->sensors);
	while (g_hash_table_iter_next(&iter, &key, &value)) {
		if (sensor_listed(key, list, n))
			continue;
		g_dbus_object_manager_server_unexport(
			s->manager, g_dbus_object_get_object_path(G_DBUS_OBJECT(value)));
		g_hash_table_iter_remove(&iter);
	}
	for (guint i = 0; i < n; i++) {
		PacerObject *object = g_hash_table_lookup(s->sensors, list[i].address);

		if (object)
			sensor_update(pacer_object_peek_dbus_sensor(object), &list[i]);
		else
			sensor_add(s, &list[i]);
	}
}

/* ---- the once-a-second refresh ---- */

static gboolean on_refresh(gpointer user_data)
{
	PacerService *s = user_data;
	GArray *rr = s->rr_last;

	s->refresh_source = 0;
	s->last_refresh_us = g_get_monotonic_time();
	s->rr_last = s->rr_pending;
	s->rr_pending = rr;
	g_array_set_size(s->rr_pending, 0);
	refresh_coach(s);
	refresh_sensors(s);
	return G_SOURCE_REMOVE;
}

/* The next refresh: now, or a second after the previous one. */
static void schedule_refresh(PacerService *s)
{
	gint64 wait_us;

	if (s->refresh_source)
		return;
	wait_us = s->last_refresh_us + REFRESH_US - g_get_monotonic_time();
	wait_us = CLAMP(wait_us, 0, REFRESH_US);
	s->refresh_source = g_timeout_add((guint)((wait_us + 999) / 1000), on_refresh, s);
}

static void on_tick(const PacerMetricsSnapshot *snapshot, const PacerCoachStatus *status,
		    gpointer user_data)
{
	PacerService *s = user_data;

	g_array_append_vals(s->rr_pending, snapshot->rr_ms, (guint)snapshot->n_rr);
	if (s->rr_pending->len > RR_MAX)
		g_array_remove_range(s->rr_pending, 0, s->rr_pending->len - RR_MAX);
	schedule_refresh(s);
}

static void on_sensors_changed(gpointer user_data)
{
	refresh_sensors(user_data);
}

/* ---- events: the JSON object as a{sv} ---- */

/*
 * Objects become a{sv} with null members left out, arrays av (a null inside
 * one becomes NaN), and numbers are doubles whatever their JSON form ("120"
 * and "120.5" alike), so that a key keeps its D-Bus type from one event to
 * the next.
 */
typedef struct {
	GVariantBuilder builders[PACER_JSON_MAX_DEPTH];
	gboolean in_object[PACER_JSON_MAX_DEPTH];
	const char *keys[PACER_JSON_MAX_DEPTH]; /* an object's member waiting for its value */
	unsigned depth;
	GVariant *root;
} ToVariant;

static int add_value(ToVariant *t, GVariant *v)
{
	GVariantBuilder *parent;

	if (t->depth == 0) {
		t->root = g_variant_ref_sink(v);
		return 0;
	}
	parent = &t->builders[t->depth - 1];
	if (t->in_object[t->depth - 1])
		g_variant_builder_add(parent, "{sv}", t->keys[t->depth - 1], v);
	else
		g_variant_builder_add(parent, "v", v);
	return 0;
}

static int tv_begin(ToVariant *t, gboolean object)
{
	g_variant_builder_init(&t->builders[t->depth], object ? G_VARIANT_TYPE_VARDICT : G_VARIANT_TYPE("av"));
	t->in_object[t->depth++] = object;
	return 0;
}

static int tv_begin_object(void *user_data)
{
	return tv_begin(user_data, TRUE);
}

static int tv_begin_array(void *user_data)
{
	return tv_begin(user_data, FALSE);
}

static int tv_end(void *user_data)
{
	ToVariant *t = user_data;
	GVariant *v = g_variant_builder_end(&t->builders[--t->depth]);

	return add_value(t, v);
}

static int tv_key(const char *key, size_t len, void *user_data)
{
	ToVariant *t = user_data;

	(void)len;
	t->keys[t->depth - 1] = key; /* in the parser's scratch until it returns */
	return 0;
}

static int tv_string(const char *s, size_t len, void *user_data)
{
	(void)len;
	return add_value(user_data, g_variant_new_string(s));
}

static int tv_number(double v, void *user_data)
{
	return add_value(user_data, g_variant_new_double(v));
}

static int tv_boolean(bool v, void *user_data)
{
	return add_value(user_data, g_variant_new_boolean(v));
}

static int tv_null(void *user_data)
{
	ToVariant *t = user_data;

	if (t->depth > 0 && t->in_object[t->depth - 1])
		return 0;
	return add_value(t, g_variant_new_double(NAN));
}

/* The event as an a{sv} (a full reference), or NULL and a one-line reason. */
static GVariant *event_to_variant(const PacerEvent *event, const char **ret_why)
{
	static const PacerJsonVisitor visitor = {
		.begin_object = tv_begin_object, .end_object = tv_end,
		.begin_array = tv_begin_array, .end_array = tv_end,
		.key = tv_key, .string = tv_string, .number = tv_number,
		.boolean = tv_boolean, .null = tv_null,
	};
	g_autofree char *scratch = g_malloc(event->json_len + 1);
	ToVariant t = {0};
	int r;

	r = pacer_json_parse(event->json, event->json_len, &visitor, &t, scratch, event->json_len + 1,
			     NULL);
	while (t.depth > 0)
		g_variant_builder_clear(&t.builders[--t.depth]);
	if (r < 0) {
		g_clear_pointer(&t.root, g_variant_unref);
		*ret_why = r == -E2BIG ? "nested too deep" : "not well-formed JSON";
		return NULL;
	}
	if (!g_variant_is_of_type(t.root, G_VARIANT_TYPE_VARDICT)) {
		g_variant_unref(t.root);
		*ret_why = "not an object";
		return NULL;
	}
	return t.root;
}

static void remember_workout(PacerService *s, GVariant *event)
{
	g_clear_pointer(&s->workout, g_free);
	g_variant_lookup(event, "workout", "s", &s->workout);
}

static void on_event(const PacerEvent *event, gpointer user_data)
{
	PacerService *s = user_data;
	const char *why = NULL;
	g_autoptr(GVariant) data = event_to_variant(event, &why);

	if (!data) {
		g_warning("event %" G_GUINT64_FORMAT " not sent on D-Bus, ignored: %s", event->seq, why);
		return;
	}
	if (event->type == PACER_EVENT_WORKOUT_STARTED)
		remember_workout(s, data);
	pacer_dbus_coach_emit_event(s->coach, pacer_event_type_to_string(event->type), data);
	schedule_refresh(s);
}

/* ---- methods ---- */

static gboolean return_error(GDBusMethodInvocation *invocation, const char *what, GError *error)
{
	g_info("%s from %s refused: %s", what, g_dbus_method_invocation_get_sender(invocation),
	       error->message);
	if (error->domain != PACER_DAEMON_ERROR) {
		GError *failed = g_error_new_literal(PACER_DAEMON_ERROR, PACER_DAEMON_ERROR_FAILED,
						     error->message);

		g_error_free(error);
		error = failed;
	}
	g_dbus_method_invocation_take_error(invocation, error);
	return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean on_handle_start(PacerDBusCoach *coach, GDBusMethodInvocation *invocation,
				const char *workout, gpointer user_data)
{
	PacerService *s = user_data;
	GError *error = NULL;

	if (!pacer_daemon_start_workout(s->daemon, workout, &error))
		return return_error(invocation, "start", error);
	g_message("workout started over D-Bus by %s%s%s%s",
		  g_dbus_method_invocation_get_sender(invocation), workout[0] ? ": '" : "", workout,
		  workout[0] ? "'" : "");
	schedule_refresh(s);
	pacer_dbus_coach_complete_start(coach, invocation);
	return G_DBUS_METHOD_INVOCATION_HANDLED;
}

typedef gboolean (*CommandFunc)(PacerDaemon *d, GError **error);

/* Stop, Lap, Pause and Resume: no arguments, an empty reply. */
static gboolean run_command(PacerService *s, GDBusMethodInvocation *invocation, const char *what,
			    CommandFunc func)
{
	GError *error = NULL;

	if (!func(s->daemon, &error))
		return return_error(invocation, what, error);
	g_message("%s over D-Bus by %s", what, g_dbus_method_invocation_get_sender(invocation));
	schedule_refresh(s);
	g_dbus_method_invocation_return_value(invocation, NULL);
	return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean on_handle_stop(PacerDBusCoach *coach, GDBusMethodInvocation *invocation,
			       gpointer user_data)
{
	return run_command(user_data, invocation, "stop", pacer_daemon_stop_workout);
}

static gboolean on_handle_lap(PacerDBusCoach *coach, GDBusMethodInvocation *invocation,
			      gpointer user_data)
{
	return run_command(user_data, invocation, "lap", pacer_daemon_lap);
}

static gboolean on_handle_pause(PacerDBusCoach *coach, GDBusMethodInvocation *invocation,
				gpointer user_data)
{
	return run_command(user_data, invocation, "pause", pacer_daemon_pause);
}

static gboolean on_handle_resume(PacerDBusCoach *coach, GDBusMethodInvocation *invocation,
				 gpointer user_data)
{
	return run_command(user_data, invocation, "resume", pacer_daemon_resume);
}

static void add_double(GVariantBuilder *b, const char *key, double value)
{
	if (!isnan(value))
		g_variant_builder_add(b, "{sv}", key, g_variant_new_double(value));
}

/* The MQTT metrics keys (DESIGN.md section 6), unknown ones left out. */
static gboolean on_handle_get_metrics(PacerDBusCoach *coach, GDBusMethodInvocation *invocation,
				      gpointer user_data)
{
	PacerService *s = user_data;
	PacerCoachStatus st;
	GVariantBuilder b;
	Live l;

	coach_status(s, &st);
	live_get(s, &st, &l);
	g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
	add_double(&b, "elapsed_s", l.elapsed_s);
	add_double(&b, "distance_m", l.distance_m);
	add_double(&b, "speed_mps", l.speed_mps);
	add_double(&b, "pace_s_per_km", l.pace_s_per_km);
	add_double(&b, "cadence_spm", l.cadence_spm);
	add_double(&b, "stride_m", l.stride_m);
	if (l.hr_bpm > 0)
		g_variant_builder_add(&b, "{sv}", "hr_bpm", g_variant_new_uint32(l.hr_bpm));
	if (l.has_hr_zone)
		g_variant_builder_add(&b, "{sv}", "hr_zone", g_variant_new_uint32(l.hr_zone));
	if (l.pace_zone)
		g_variant_builder_add(&b, "{sv}", "pace_zone", g_variant_new_string(l.pace_zone));
	g_variant_builder_add(&b, "{sv}", "rr_ms",
			      g_variant_new_fixed_array(G_VARIANT_TYPE_DOUBLE, s->rr_last->data,
							s->rr_last->len, sizeof(double)));
	add_double(&b, "rmssd_ms", l.rmssd_ms);
	add_double(&b, "incline_pct", l.incline_pct);
	if (l.step >= 0)
		g_variant_builder_add(&b, "{sv}", "step", g_variant_new_int32(l.step));
	pacer_dbus_coach_complete_get_metrics(coach, invocation, g_variant_builder_end(&b));
	return G_DBUS_METHOD_INVOCATION_HANDLED;
}

/* ---- the bus and the name ---- */

static void on_bus_acquired(GDBusConnection *connection, const char *name, gpointer user_data)
{
	PacerService *s = user_data;
	g_autoptr(GError) error = NULL;

	g_set_object(&s->connection, connection);
	if (!g_dbus_interface_skeleton_export(G_DBUS_INTERFACE_SKELETON(s->coach), connection,
					      PACER_SERVICE_PATH, &error))
		g_warning("cannot export %s on the %s bus, ignored: %s", PACER_SERVICE_PATH,
			  bus_name(s->bus_type), error->message);
	g_dbus_object_manager_server_set_connection(s->manager, connection);
}

static void settle(PacerService *s)
{
	GSourceFunc settled = g_steal_pointer(&s->settled);

	if (settled)
		(void)settled(s->settled_data);
}

static void on_name_acquired(GDBusConnection *connection, const char *name, gpointer user_data)
{
	PacerService *s = user_data;

	g_message("D-Bus API on the %s bus as '%s'", bus_name(s->bus_type), name);
	settle(s);
}

static void on_name_lost(GDBusConnection *connection, const char *name, gpointer user_data)
{
	PacerService *s = user_data;

	if (!connection && s->connection)
		g_warning("no D-Bus API: the %s bus went away (coaching goes on)",
			  bus_name(s->bus_type));
	else if (!connection)
		g_warning("no D-Bus API: cannot connect to the %s bus (coaching goes on)",
			  bus_name(s->bus_type));
	else
		g_warning("no D-Bus API: the name '%s' on the %s bus is not ours (denied, or "
			  "another owner; taken when it is free; coaching goes on)",
			  name, bus_name(s->bus_type));
	settle(s);
}

PacerService *pacer_service_new(PacerDaemon *daemon, GBusType bus_type, GSourceFunc settled,
				gpointer settled_data)
{
	PacerService *s = g_new0(PacerService, 1);

	register_errors();
	s->daemon = daemon;
	s->bus_type = bus_type;
	s->settled = settled;
	s->settled_data = settled_data;
	s->sensors = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_object_unref);
	s->rr_pending = g_array_new(FALSE, FALSE, sizeof(double));
	s->rr_last = g_array_new(FALSE, FALSE, sizeof(double));
	s->coach = pacer_dbus_coach_skeleton_new();
	s->manager = g_dbus_object_manager_server_new(PACER_SERVICE_PATH);
	g_signal_connect(s->coach, "handle-start", G_CALLBACK(on_handle_start), s);
	g_signal_connect(s->coach, "handle-stop", G_CALLBACK(on_handle_stop), s);
	g_signal_connect(s->coach, "handle-lap", G_CALLBACK(on_handle_lap), s);
	g_signal_connect(s->coach, "handle-pause", G_CALLBACK(on_handle_pause), s);
	g_signal_connect(s->coach, "handle-resume", G_CALLBACK(on_handle_resume), s);
	g_signal_connect(s->coach, "handle-get-metrics", G_CALLBACK(on_handle_get_metrics), s);
	/* values before the first client can see them */
	refresh_coach(s);
	refresh_sensors(s);
	pacer_daemon_add_event_sink(daemon, on_event, s);
	pacer_daemon_add_tick_sink(daemon, on_tick, s);
	pacer_daemon_add_sensors_sink(daemon, on_sensors_changed, s);
	s->owner_id = g_bus_own_name(bus_type, PACER_SERVICE_NAME, G_BUS_NAME_OWNER_FLAGS_NONE,
				     on_bus_acquired, on_name_acquired, on_name_lost, s, NULL);
	return s;
}

void pacer_service_free(PacerService *s)
{
	if (!s)
		return;
	g_clear_handle_id(&s->refresh_source, g_source_remove);
	g_clear_handle_id(&s->owner_id, g_bus_unown_name);
	if (s->connection) {
		g_autoptr(GError) error = NULL;

		g_dbus_interface_skeleton_unexport(G_DBUS_INTERFACE_SKELETON(s->coach));
		/* at exit: the last events (workout_finished) must leave before we do */
		if (!g_dbus_connection_flush_sync(s->connection, NULL, &error))
			g_debug("D-Bus messages not flushed at exit: %s", error->message);
	}
	g_clear_object(&s->manager);
	g_clear_object(&s->coach);
	g_clear_object(&s->connection);
	g_clear_pointer(&s->sensors, g_hash_table_unref);
	g_clear_pointer(&s->rr_pending, g_array_unref);
	g_clear_pointer(&s->rr_last, g_array_unref);
	g_free(s->workout);
	g_free(s);
}
