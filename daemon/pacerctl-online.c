/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * pacerctl's online verbs: pacerd's D-Bus API (daemon/dbus/io.pacer.Pacer1.xml)
 * from the command line. Every verb takes --json, and --system (the default;
 * DBUS_SYSTEM_BUS_ADDRESS is honoured) or --session.
 *
 * Exit codes besides pacerctl.c's: 65 an invalid workout (Start); 69 pacerd
 * is not running, the bus cannot be reached or pacerd does not answer; 75 the
 * workout's state does not allow the command now (Busy, NotRunning); 77 the
 * bus policy refused the call (only root and group pacer may drive
 * workouts); 1 any other failure. An error is one line on stderr, and
 * nothing goes to stdout.
 *
 * Unlike pacerd, pacerctl is a short-lived client: it makes its calls
 * synchronously.
 */

#include <gio/gio.h>
#include <glib-unix.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pacer-json.h"
#include "pacerctl-online.h"
#include "pacerctl.h"

#define EXIT_UNAVAILABLE 69
#define EXIT_TEMPFAIL	 75
#define EXIT_NOPERM	 77

#define BUS_NAME	"io.pacer.Pacer1"
#define OBJECT_PATH	"/io/pacer/Pacer1"
#define COACH_IFACE	"io.pacer.Pacer1.Coach"
#define SENSOR_IFACE	"io.pacer.Pacer1.Sensor"
#define ERROR_PREFIX	"io.pacer.Pacer1.Error."
#define CALL_TIMEOUT_MS 25000
#define JSON_MAX	(1024 * 1024)
#define EVENTS_SHOWN	12

/* the keys of the MQTT metrics message, in its order (DESIGN.md section 6) */
static const char *const metric_keys[] = {
	"elapsed_s", "distance_m",  "speed_mps", "pace_s_per_km", "cadence_spm",
	"stride_m",  "hr_bpm",	    "hr_zone",	 "pace_zone",	  "rr_ms",
	"rmssd_ms",  "incline_pct", "step",
};

typedef struct {
	const char *verb;
	bool json;
	GBusType bus_type;
	GDBusConnection *bus;
	int n_words;
	char **words;
} Online;

typedef struct Verb Verb;
struct Verb {
	const char *name;
	int (*func)(Online *o, const Verb *v);
	const char *method; /* the Coach method of a command */
	const char *done;   /* what a command prints when it worked */
};

static const char *bus_name(GBusType bus_type)
{
	return bus_type == G_BUS_TYPE_SESSION ? "session" : "system";
}

/* ---- calls and their errors ---- */

static int not_running(const Online *o)
{
	fprintf(stderr, "pacerctl: %s: pacerd is not running (nobody owns %s on the %s bus)\n",
		o->verb, BUS_NAME, bus_name(o->bus_type));
	return EXIT_UNAVAILABLE;
}

/* One line for an error reply (or a failed call), and its exit status. */
static int report_error(const Online *o, GError *error)
{
	g_autofree char *name = g_dbus_error_get_remote_error(error);

	if (name)
		g_dbus_error_strip_remote_error(error);
	if (g_strcmp0(name, ERROR_PREFIX "InvalidWorkout") == 0) {
		fprintf(stderr, "pacerctl: %s: %s\n", o->verb, error->message);
		return EXIT_DATA;
	}
	if (g_strcmp0(name, ERROR_PREFIX "Busy") == 0 ||
	    g_strcmp0(name, ERROR_PREFIX "NotRunning") == 0) {
		fprintf(stderr, "pacerctl: %s: %s\n", o->verb, error->message);
		return EXIT_TEMPFAIL;
	}
	if (g_strcmp0(name, "org.freedesktop.DBus.Error.AccessDenied") == 0) {
		fprintf(stderr,
			"pacerctl: %s: permission denied: only root and members of group 'pacer' "
			"may start, stop, lap, pause or resume workouts\n",
			o->verb);
		return EXIT_NOPERM;
	}
	if (g_strcmp0(name, "org.freedesktop.DBus.Error.ServiceUnknown") == 0 ||
	    g_strcmp0(name, "org.freedesktop.DBus.Error.NameHasNoOwner") == 0)
		return not_running(o);
	if (g_strcmp0(name, "org.freedesktop.DBus.Error.NoReply") == 0 ||
	    g_error_matches(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT) ||
	    g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CLOSED)) {
		fprintf(stderr, "pacerctl: %s: pacerd did not answer: %s\n", o->verb,
			error->message);
		return EXIT_UNAVAILABLE;
	}
	fprintf(stderr, "pacerctl: %s: %s\n", o->verb, error->message);
	return EXIT_FAILURE;
}

/* A call to pacerd; NULL with *ret_status set (and reported) on an error. */
static GVariant *call(const Online *o, const char *path, const char *iface, const char *method,
		      GVariant *args, const char *reply_type, int *ret_status)
{
	g_autoptr(GError) error = NULL;
	GVariant *reply = g_dbus_connection_call_sync(
		o->bus, BUS_NAME, path, iface, method, args,
		reply_type ? G_VARIANT_TYPE(reply_type) : NULL, G_DBUS_CALL_FLAGS_NO_AUTO_START,
		CALL_TIMEOUT_MS, NULL, &error);

	if (!reply)
		*ret_status = report_error(o, error);
	return reply;
}

/* Connects to the bus and checks that pacerd is there. */
static int online_connect(Online *o)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;
	gboolean has_owner = FALSE;

	o->bus = g_bus_get_sync(o->bus_type, NULL, &error);
	if (!o->bus) {
		fprintf(stderr, "pacerctl: %s: cannot connect to the %s bus: %s\n", o->verb,
			bus_name(o->bus_type), error->message);
		return EXIT_UNAVAILABLE;
	}
	g_dbus_connection_set_exit_on_close(o->bus, FALSE);
	reply = g_dbus_connection_call_sync(o->bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
					    "org.freedesktop.DBus", "NameHasOwner",
					    g_variant_new("(s)", BUS_NAME), G_VARIANT_TYPE("(b)"),
					    G_DBUS_CALL_FLAGS_NONE, CALL_TIMEOUT_MS, NULL, &error);
	if (!reply) {
		fprintf(stderr, "pacerctl: %s: the %s bus does not answer: %s\n", o->verb,
			bus_name(o->bus_type), error->message);
		return EXIT_UNAVAILABLE;
	}
	g_variant_get(reply, "(b)", &has_owner);
	return has_owner ? 0 : not_running(o);
}

static int get_properties(const Online *o, GVariantDict **ret)
{
	int status = 0;
	g_autoptr(GVariant) reply =
		call(o, OBJECT_PATH, "org.freedesktop.DBus.Properties", "GetAll",
		     g_variant_new("(s)", COACH_IFACE), "(a{sv})", &status);
	g_autoptr(GVariant) dict = NULL;

	if (!reply)
		return status;
	dict = g_variant_get_child_value(reply, 0);
	*ret = g_variant_dict_new(dict);
	return 0;
}

static int get_metrics(const Online *o, GVariantDict **ret)
{
	int status = 0;
	g_autoptr(GVariant) reply =
		call(o, OBJECT_PATH, COACH_IFACE, "GetMetrics", NULL, "(a{sv})", &status);
	g_autoptr(GVariant) dict = NULL;

	if (!reply)
		return status;
	dict = g_variant_get_child_value(reply, 0);
	*ret = g_variant_dict_new(dict);
	return 0;
}

/* ---- reading dictionaries ---- */

static const char *dict_string(GVariantDict *d, const char *key)
{
	const char *s = NULL;

	return g_variant_dict_lookup(d, key, "&s", &s) ? s : "";
}

static double dict_double(GVariantDict *d, const char *key)
{
	double v;

	return g_variant_dict_lookup(d, key, "d", &v) ? v : NAN;
}

/* Any integer type; `fallback` when missing or not an integer. */
static gint64 dict_int(GVariantDict *d, const char *key, gint64 fallback)
{
	g_autoptr(GVariant) v = g_variant_dict_lookup_value(d, key, NULL);

	if (!v)
		return fallback;
	if (g_variant_is_of_type(v, G_VARIANT_TYPE_INT32))
		return g_variant_get_int32(v);
	if (g_variant_is_of_type(v, G_VARIANT_TYPE_UINT32))
		return g_variant_get_uint32(v);
	if (g_variant_is_of_type(v, G_VARIANT_TYPE_INT16))
		return g_variant_get_int16(v);
	return fallback;
}

static gboolean dict_bool(GVariantDict *d, const char *key)
{
	gboolean v = FALSE;

	return g_variant_dict_lookup(d, key, "b", &v) && v;
}

/* ---- JSON ---- */

static void write_variant(PacerJson *j, GVariant *v);

static void write_vardict(PacerJson *j, GVariant *dict)
{
	GVariantIter iter;
	const char *key;
	GVariant *value;

	pacer_json_begin_object(j);
	g_variant_iter_init(&iter, dict);
	while (g_variant_iter_next(&iter, "{&sv}", &key, &value)) {
		pacer_json_key(j, key);
		write_variant(j, value);
		g_variant_unref(value);
	}
	pacer_json_end_object(j);
}

static void write_array(PacerJson *j, GVariant *array)
{
	pacer_json_begin_array(j);
	for (gsize i = 0; i < g_variant_n_children(array); i++) {
		g_autoptr(GVariant) child = g_variant_get_child_value(array, i);

		write_variant(j, child);
	}
	pacer_json_end_array(j);
}

/* A value as JSON: dictionaries become objects, NaN null. */
static void write_variant(PacerJson *j, GVariant *v)
{
	g_autoptr(GVariant) inner = NULL;

	switch (g_variant_classify(v)) {
	case G_VARIANT_CLASS_VARIANT:
		inner = g_variant_get_variant(v);
		write_variant(j, inner);
		return;
	case G_VARIANT_CLASS_ARRAY:
		if (g_variant_is_of_type(v, G_VARIANT_TYPE_VARDICT))
			write_vardict(j, v);
		else
			write_array(j, v);
		return;
	case G_VARIANT_CLASS_TUPLE:
		write_array(j, v);
		return;
	case G_VARIANT_CLASS_BOOLEAN:
		pacer_json_bool(j, g_variant_get_boolean(v));
		return;
	case G_VARIANT_CLASS_DOUBLE:
		pacer_json_double(j, g_variant_get_double(v));
		return;
	case G_VARIANT_CLASS_STRING:
	case G_VARIANT_CLASS_OBJECT_PATH:
	case G_VARIANT_CLASS_SIGNATURE:
		pacer_json_string(j, g_variant_get_string(v, NULL));
		return;
	case G_VARIANT_CLASS_BYTE:
		pacer_json_int(j, g_variant_get_byte(v));
		return;
	case G_VARIANT_CLASS_INT16:
		pacer_json_int(j, g_variant_get_int16(v));
		return;
	case G_VARIANT_CLASS_UINT16:
		pacer_json_int(j, g_variant_get_uint16(v));
		return;
	case G_VARIANT_CLASS_INT32:
		pacer_json_int(j, g_variant_get_int32(v));
		return;
	case G_VARIANT_CLASS_UINT32:
		pacer_json_int(j, g_variant_get_uint32(v));
		return;
	case G_VARIANT_CLASS_INT64:
		pacer_json_int(j, g_variant_get_int64(v));
		return;
	case G_VARIANT_CLASS_UINT64:
		pacer_json_double(j, (double)g_variant_get_uint64(v));
		return;
	case G_VARIANT_CLASS_HANDLE:
	case G_VARIANT_CLASS_MAYBE:
	case G_VARIANT_CLASS_DICT_ENTRY:
		break;
	}
	pacer_json_null(j);
}

static void json_string_or_null(PacerJson *j, const char *key, const char *s)
{
	pacer_json_key(j, key);
	if (s && s[0])
		pacer_json_string(j, s);
	else
		pacer_json_null(j);
}

/* Prints the JSON the writer function builds as one line; 0 or EXIT_FAILURE. */
static int print_json(void (*write)(PacerJson *j, gpointer data), gpointer data)
{
	g_autofree char *buf = g_malloc(JSON_MAX);
	PacerJson j;

	pacer_json_init(&j, buf, JSON_MAX);
	write(&j, data);
	if (pacer_json_finish(&j) < 0) {
		fprintf(stderr, "pacerctl: internal error: JSON output too large\n");
		return EXIT_FAILURE;
	}
	puts(buf);
	fflush(stdout);
	return 0;
}

/* ---- status ---- */

typedef struct {
	GVariantDict *props;   /* the Coach's properties */
	GVariantDict *metrics; /* GetMetrics */
	const char *type;      /* a "type" member first ("status" in watch); NULL none */
} Status;

static void write_step_json(PacerJson *j, GVariantDict *p)
{
	gint64 index = dict_int(p, "StepIndex", -1);

	pacer_json_key(j, "step");
	if (index < 0) {
		pacer_json_null(j);
		return;
	}
	pacer_json_begin_object(j);
	pacer_json_key(j, "index");
	pacer_json_int(j, index);
	pacer_json_key(j, "count");
	pacer_json_int(j, dict_int(p, "StepCount", 0));
	json_string_or_null(j, "kind", dict_string(p, "StepKind"));
	json_string_or_null(j, "target", dict_string(p, "StepTarget"));
	json_string_or_null(j, "description", dict_string(p, "StepDescription"));
	pacer_json_key(j, "remaining");
	pacer_json_double(j, dict_double(p, "StepRemaining"));
	json_string_or_null(j, "remaining_unit", dict_string(p, "StepRemainingUnit"));
	pacer_json_end_object(j);
}

static void write_status_json(PacerJson *j, gpointer data)
{
	const Status *st = data;

	pacer_json_begin_object(j);
	if (st->type) {
		pacer_json_key(j, "type");
		pacer_json_string(j, st->type);
	}
	pacer_json_key(j, "state");
	pacer_json_string(j, dict_string(st->props, "State"));
	json_string_or_null(j, "workout", dict_string(st->props, "Workout"));
	pacer_json_key(j, "free_run");
	pacer_json_bool(j, dict_bool(st->props, "FreeRun"));
	write_step_json(j, st->props);
	pacer_json_key(j, "metrics");
	pacer_json_begin_object(j);
	for (gsize i = 0; i < G_N_ELEMENTS(metric_keys); i++) {
		g_autoptr(GVariant) v =
			g_variant_dict_lookup_value(st->metrics, metric_keys[i], NULL);

		pacer_json_key(j, metric_keys[i]);
		if (v)
			write_variant(j, v);
		else
			pacer_json_null(j);
	}
	pacer_json_end_object(j);
	pacer_json_end_object(j);
}

static const char *format_clock(double s, char *buf, size_t size)
{
	unsigned long t;

	if (isnan(s) || s < 0)
		return "-";
	t = (unsigned long)lround(s);
	if (t >= 3600)
		snprintf(buf, size, "%lu:%02lu:%02lu", t / 3600, t / 60 % 60, t % 60);
	else
		snprintf(buf, size, "%lu:%02lu", t / 60, t % 60);
	return buf;
}

static const char *format_distance(double m, char *buf, size_t size)
{
	if (isnan(m))
		return "-";
	if (m < 1000)
		snprintf(buf, size, "%.0f m", m);
	else
		snprintf(buf, size, "%.2f km", m / 1000);
	return buf;
}

static const char *format_pace(double s_per_km, char *buf, size_t size)
{
	char clock[32];

	if (isnan(s_per_km))
		return "-";
	snprintf(buf, size, "%s/km", format_clock(s_per_km, clock, sizeof(clock)));
	return buf;
}

/* "4.08 m/s", or "-" for NaN. */
static const char *format_value(double v, int decimals, const char *unit, char *buf, size_t size)
{
	if (isnan(v))
		return "-";
	g_snprintf(buf, size, "%.*f %s", decimals, v, unit);
	return buf;
}

static void append_row(GString *out, const char *label, const char *value)
{
	g_string_append_printf(out, "%-11s %s\n", label, value);
}

static void append_step(GString *out, GVariantDict *p)
{
	gint64 index = dict_int(p, "StepIndex", -1);
	double left = dict_double(p, "StepRemaining");
	const char *unit = dict_string(p, "StepRemainingUnit");
	g_autoptr(GString) s = g_string_new(NULL);
	char buf[64];

	if (index < 0) {
		append_row(out, "Step", "-");
		return;
	}
	if (dict_bool(p, "FreeRun"))
		g_string_append_printf(s, "lap %" G_GINT64_FORMAT, index + 1);
	else
		g_string_append_printf(s, "%" G_GINT64_FORMAT " of %" G_GINT64_FORMAT ": %s",
				       index + 1, dict_int(p, "StepCount", 0),
				       dict_string(p, "StepDescription"));
	if (!isnan(left) && g_str_equal(unit, "s"))
		g_string_append_printf(s, " (%s left)", format_clock(left, buf, sizeof(buf)));
	else if (!isnan(left) && g_str_equal(unit, "m"))
		g_string_append_printf(s, " (%s left)", format_distance(left, buf, sizeof(buf)));
	append_row(out, "Step", s->str);
}

static void append_metrics(GString *out, GVariantDict *m)
{
	gint64 hr = dict_int(m, "hr_bpm", 0), zone = dict_int(m, "hr_zone", -1);
	const char *pace_zone = dict_string(m, "pace_zone"), *pace;
	char a[64], b[96];

	append_row(out, "Time", format_clock(dict_double(m, "elapsed_s"), a, sizeof(a)));
	append_row(out, "Distance", format_distance(dict_double(m, "distance_m"), a, sizeof(a)));
	pace = format_pace(dict_double(m, "pace_s_per_km"), a, sizeof(a));
	if (pace_zone[0])
		g_snprintf(b, sizeof(b), "%s (zone %s)", pace, pace_zone);
	append_row(out, "Pace", pace_zone[0] ? b : pace);
	append_row(out, "Speed", format_value(dict_double(m, "speed_mps"), 2, "m/s", a, sizeof(a)));
	append_row(out, "Cadence",
		   format_value(dict_double(m, "cadence_spm"), 0, "spm", a, sizeof(a)));
	append_row(out, "Stride", format_value(dict_double(m, "stride_m"), 2, "m", a, sizeof(a)));
	if (hr <= 0)
		g_snprintf(b, sizeof(b), "-");
	else if (zone > 0)
		g_snprintf(b, sizeof(b), "%" G_GINT64_FORMAT " bpm (zone %" G_GINT64_FORMAT ")", hr,
			   zone);
	else if (zone == 0)
		g_snprintf(b, sizeof(b), "%" G_GINT64_FORMAT " bpm (below zone 1)", hr);
	else
		g_snprintf(b, sizeof(b), "%" G_GINT64_FORMAT " bpm", hr);
	append_row(out, "Heart rate", b);
	append_row(out, "RMSSD", format_value(dict_double(m, "rmssd_ms"), 1, "ms", a, sizeof(a)));
	append_row(out, "Incline",
		   format_value(dict_double(m, "incline_pct"), 1, "%", a, sizeof(a)));
}

static void append_status(GString *out, GVariantDict *p, GVariantDict *m)
{
	const char *workout = dict_string(p, "Workout");

	append_row(out, "State", dict_string(p, "State"));
	append_row(out, "Workout",
		   dict_bool(p, "FreeRun") ? "free run"
		   : workout[0]		   ? workout
					   : "-");
	append_step(out, p);
	append_metrics(out, m);
}

static int verb_status(Online *o, const Verb *v)
{
	g_autoptr(GVariantDict) props = NULL;
	g_autoptr(GVariantDict) metrics = NULL;
	g_autoptr(GString) out = g_string_new(NULL);
	int r = get_properties(o, &props);

	if (r == 0)
		r = get_metrics(o, &metrics);
	if (r != 0)
		return r;
	if (o->json) {
		Status st = {.props = props, .metrics = metrics};

		return print_json(write_status_json, &st);
	}
	append_status(out, props, metrics);
	fputs(out->str, stdout);
	return 0;
}

/* ---- sensors ---- */

static gint compare_paths(gconstpointer a, gconstpointer b)
{
	return g_strcmp0(*(const char *const *)a, *(const char *const *)b);
}

/* The sensors' properties (a{sv} each), by object path. */
static int get_sensors(const Online *o, GPtrArray **ret)
{
	int status = 0;
	g_autoptr(GVariant) reply = call(o, OBJECT_PATH, "org.freedesktop.DBus.ObjectManager",
					 "GetManagedObjects", NULL, "(a{oa{sa{sv}}})", &status);
	g_autoptr(GPtrArray) paths = g_ptr_array_new();
	g_autoptr(GVariant) objects = NULL;
	GPtrArray *sensors;

	if (!reply)
		return status;
	objects = g_variant_get_child_value(reply, 0);
	for (gsize i = 0; i < g_variant_n_children(objects); i++) {
		const char *path;

		g_variant_get_child(objects, i, "{&o@a{sa{sv}}}", &path, NULL);
		g_ptr_array_add(paths, (gpointer)path);
	}
	g_ptr_array_sort(paths, compare_paths);
	sensors = g_ptr_array_new_with_free_func((GDestroyNotify)g_variant_dict_unref);
	for (guint i = 0; i < paths->len; i++) {
		g_autoptr(GVariant) ifaces = g_variant_lookup_value(objects, paths->pdata[i],
								    G_VARIANT_TYPE("a{sa{sv}}"));
		g_autoptr(GVariant) props = ifaces ? g_variant_lookup_value(ifaces, SENSOR_IFACE,
									    G_VARIANT_TYPE_VARDICT)
						   : NULL;

		if (props)
			g_ptr_array_add(sensors, g_variant_dict_new(props));
	}
	*ret = sensors;
	return 0;
}

static void write_sensors_json(PacerJson *j, gpointer data)
{
	GPtrArray *sensors = data;

	pacer_json_begin_object(j);
	pacer_json_key(j, "sensors");
	pacer_json_begin_array(j);
	for (guint i = 0; i < sensors->len; i++) {
		GVariantDict *s = sensors->pdata[i];
		gint64 battery = dict_int(s, "Battery", -1), rssi = dict_int(s, "Rssi", 0);

		pacer_json_begin_object(j);
		json_string_or_null(j, "address", dict_string(s, "Address"));
		json_string_or_null(j, "name", dict_string(s, "Name"));
		json_string_or_null(j, "kind", dict_string(s, "Kind"));
		pacer_json_key(j, "connected");
		pacer_json_bool(j, dict_bool(s, "Connected"));
		pacer_json_key(j, "battery");
		if (battery >= 0)
			pacer_json_int(j, battery);
		else
			pacer_json_null(j);
		pacer_json_key(j, "rssi");
		if (rssi != 0)
			pacer_json_int(j, rssi);
		else
			pacer_json_null(j);
		pacer_json_end_object(j);
	}
	pacer_json_end_array(j);
	pacer_json_end_object(j);
}

static int verb_sensors(Online *o, const Verb *v)
{
	g_autoptr(GPtrArray) sensors = NULL;
	int r = get_sensors(o, &sensors);

	if (r != 0)
		return r;
	if (o->json)
		return print_json(write_sensors_json, sensors);
	if (sensors->len == 0) {
		puts("No sensors.");
		return 0;
	}
	printf("%-17s  %-10s  %-12s  %-7s  %-8s  %s\n", "ADDRESS", "KIND", "STATE", "BATTERY",
	       "RSSI", "NAME");
	for (guint i = 0; i < sensors->len; i++) {
		GVariantDict *s = sensors->pdata[i];
		gint64 battery = dict_int(s, "Battery", -1), rssi = dict_int(s, "Rssi", 0);
		char bat[16] = "-", sig[16] = "-";

		if (battery >= 0)
			g_snprintf(bat, sizeof(bat), "%" G_GINT64_FORMAT " %%", battery);
		if (rssi != 0)
			g_snprintf(sig, sizeof(sig), "%" G_GINT64_FORMAT " dBm", rssi);
		printf("%-17s  %-10s  %-12s  %-7s  %-8s  %s\n", dict_string(s, "Address"),
		       dict_string(s, "Kind"),
		       dict_bool(s, "Connected") ? "connected" : "disconnected", bat, sig,
		       dict_string(s, "Name")[0] ? dict_string(s, "Name") : "-");
	}
	return 0;
}

/* ---- start, stop, lap, pause, resume ---- */

typedef struct {
	const char *command;
	const char *workout; /* start: the text sent ("" the queued one); else NULL */
} CommandResult;

static void write_command_json(PacerJson *j, gpointer data)
{
	const CommandResult *c = data;

	pacer_json_begin_object(j);
	pacer_json_key(j, "command");
	pacer_json_string(j, c->command);
	pacer_json_key(j, "ok");
	pacer_json_bool(j, true);
	if (c->workout)
		json_string_or_null(j, "workout", c->workout);
	pacer_json_end_object(j);
}

static int verb_command(Online *o, const Verb *v)
{
	bool start = g_str_equal(v->name, "start");
	char *workout = start ? join_args(o->n_words, o->words) : NULL;
	CommandResult result = {.command = v->name, .workout = workout};
	g_autoptr(GVariant) reply = NULL;
	int status = 0;

	if (start && !workout) {
		fprintf(stderr, "pacerctl: out of memory\n");
		return EXIT_FAILURE;
	}
	reply = call(o, OBJECT_PATH, COACH_IFACE, v->method,
		     start ? g_variant_new("(s)", workout) : NULL, "()", &status);
	if (reply && o->json)
		status = print_json(write_command_json, &result);
	else if (reply && start && workout[0])
		printf("Started '%s'.\n", workout);
	else if (reply)
		puts(v->done);
	free(workout);
	return status;
}

/* ---- watch ---- */

typedef struct {
	Online *o;
	GMainLoop *loop;
	GVariantDict *props;
	GPtrArray *events; /* the last EVENTS_SHOWN, as lines (tty) */
	bool tty;
	int status;
} Watch;

static void write_event_json(PacerJson *j, gpointer data)
{
	write_vardict(j, data);
}

/* "  12:34  split              Split 3: 400 m in 1:36, 4:00/km." */
static char *event_line(const char *type, GVariant *data)
{
	double elapsed = NAN;
	const char *message = "";
	char clock[32];

	g_variant_lookup(data, "elapsed_s", "d", &elapsed);
	g_variant_lookup(data, "message", "&s", &message);
	return g_strdup_printf("%8s  %-17s  %s", format_clock(elapsed, clock, sizeof(clock)), type,
			       message);
}

/* One line for a refresh when stdout is no terminal. */
static char *status_line(GVariantDict *p, GVariantDict *m)
{
	g_autoptr(GString) s = g_string_new(dict_string(p, "State"));
	gint64 index = dict_int(p, "StepIndex", -1), hr = dict_int(m, "hr_bpm", 0);
	double pace = dict_double(m, "pace_s_per_km"), cadence = dict_double(m, "cadence_spm");
	double distance = dict_double(m, "distance_m");
	char clock[32], buf[64];

	if (index >= 0 && !dict_bool(p, "FreeRun"))
		g_string_append_printf(s, ", step %" G_GINT64_FORMAT " of %" G_GINT64_FORMAT,
				       index + 1, dict_int(p, "StepCount", 0));
	if (!isnan(distance))
		g_string_append_printf(s, ", %s", format_distance(distance, buf, sizeof(buf)));
	if (!isnan(pace))
		g_string_append_printf(s, ", %s", format_pace(pace, buf, sizeof(buf)));
	if (hr > 0)
		g_string_append_printf(s, ", %" G_GINT64_FORMAT " bpm", hr);
	if (!isnan(cadence))
		g_string_append_printf(s, ", %.0f spm", cadence);
	return g_strdup_printf("%8s  %-17s  %s",
			       format_clock(dict_double(m, "elapsed_s"), clock, sizeof(clock)),
			       "status", s->str);
}

static void watch_redraw(Watch *w, GVariantDict *metrics)
{
	g_autoptr(GString) out = g_string_new("\033[H\033[2J");

	g_string_append_printf(out, "pacerd on the %s bus (Ctrl-C to quit)\n\n",
			       bus_name(w->o->bus_type));
	append_status(out, w->props, metrics);
	g_string_append(out, "\nEvents\n");
	for (guint i = 0; i < w->events->len; i++)
		g_string_append_printf(out, "%s\n", (const char *)w->events->pdata[i]);
	fputs(out->str, stdout);
	fflush(stdout);
}

static void watch_show(Watch *w)
{
	g_autoptr(GVariantDict) metrics = NULL;
	g_autofree char *line = NULL;
	int r = get_metrics(w->o, &metrics);

	if (r != 0) {
		w->status = r;
		g_main_loop_quit(w->loop);
		return;
	}
	if (w->o->json) {
		Status st = {.props = w->props, .metrics = metrics, .type = "status"};

		(void)print_json(write_status_json, &st);
	} else if (w->tty) {
		watch_redraw(w, metrics);
	} else {
		line = status_line(w->props, metrics);
		puts(line);
		fflush(stdout);
	}
}

static void on_properties_changed(GDBusConnection *bus, const char *sender, const char *path,
				  const char *iface, const char *signal, GVariant *params,
				  gpointer user_data)
{
	Watch *w = user_data;
	g_autoptr(GVariant) changed = NULL;
	const char *changed_iface;
	GVariantIter iter;
	const char *key;
	GVariant *value;

	if (!g_variant_is_of_type(params, G_VARIANT_TYPE("(sa{sv}as)")))
		return;
	g_variant_get(params, "(&s@a{sv}@as)", &changed_iface, &changed, NULL);
	if (!g_str_equal(changed_iface, COACH_IFACE))
		return;
	g_variant_iter_init(&iter, changed);
	while (g_variant_iter_next(&iter, "{&sv}", &key, &value)) {
		g_variant_dict_insert_value(w->props, key, value);
		g_variant_unref(value);
	}
	watch_show(w);
}

static void on_event(GDBusConnection *bus, const char *sender, const char *path, const char *iface,
		     const char *signal, GVariant *params, gpointer user_data)
{
	Watch *w = user_data;
	g_autoptr(GVariant) data = NULL;
	const char *type;
	char *line;

	if (!g_variant_is_of_type(params, G_VARIANT_TYPE("(sa{sv})")))
		return;
	g_variant_get(params, "(&s@a{sv})", &type, &data);
	if (w->o->json) {
		(void)print_json(write_event_json, data);
		return;
	}
	line = event_line(type, data);
	if (!w->tty) {
		puts(line);
		fflush(stdout);
		g_free(line);
		return;
	}
	g_ptr_array_add(w->events, line);
	if (w->events->len > EVENTS_SHOWN)
		g_ptr_array_remove_index(w->events, 0);
	watch_show(w);
}

static void on_name_vanished(GDBusConnection *bus, const char *name, gpointer user_data)
{
	Watch *w = user_data;

	fprintf(stderr, "pacerctl: watch: pacerd has stopped (%s left the %s bus)\n", BUS_NAME,
		bus_name(w->o->bus_type));
	w->status = EXIT_UNAVAILABLE;
	g_main_loop_quit(w->loop);
}

static void on_bus_closed(GDBusConnection *bus, gboolean remote_peer_vanished, GError *error,
			  gpointer user_data)
{
	Watch *w = user_data;

	fprintf(stderr, "pacerctl: watch: the %s bus went away\n", bus_name(w->o->bus_type));
	w->status = EXIT_UNAVAILABLE;
	g_main_loop_quit(w->loop);
}

static gboolean on_quit_signal(gpointer user_data)
{
	Watch *w = user_data;

	if (w->tty)
		fputc('\n', stdout);
	g_main_loop_quit(w->loop);
	return G_SOURCE_CONTINUE;
}

static guint subscribe(Watch *w, const char *iface, const char *member, const char *arg0,
		       GDBusSignalCallback callback)
{
	return g_dbus_connection_signal_subscribe(w->o->bus, BUS_NAME, iface, member, OBJECT_PATH,
						  arg0, G_DBUS_SIGNAL_FLAGS_NONE, callback, w,
						  NULL);
}

static int verb_watch(Online *o, const Verb *v)
{
	Watch w = {.o = o, .tty = isatty(STDOUT_FILENO) == 1, .status = 0};
	guint subs[2], watch_id, sigs[2];
	gulong closed_id;
	int r;

	w.loop = g_main_loop_new(NULL, FALSE);
	w.events = g_ptr_array_new_with_free_func(g_free);
	/* signals first, then the state: nothing falls between them */
	subs[0] = subscribe(&w, "org.freedesktop.DBus.Properties", "PropertiesChanged", COACH_IFACE,
			    on_properties_changed);
	subs[1] = subscribe(&w, COACH_IFACE, "Event", NULL, on_event);
	watch_id = g_bus_watch_name_on_connection(o->bus, BUS_NAME, G_BUS_NAME_WATCHER_FLAGS_NONE,
						  NULL, on_name_vanished, &w, NULL);
	closed_id = g_signal_connect(o->bus, "closed", G_CALLBACK(on_bus_closed), &w);
	sigs[0] = g_unix_signal_add(SIGINT, on_quit_signal, &w);
	sigs[1] = g_unix_signal_add(SIGTERM, on_quit_signal, &w);
	r = get_properties(o, &w.props);
	if (r == 0) {
		watch_show(&w);
		if (w.status == 0)
			g_main_loop_run(w.loop);
		r = w.status;
	}
	for (gsize i = 0; i < G_N_ELEMENTS(sigs); i++)
		g_source_remove(sigs[i]);
	g_signal_handler_disconnect(o->bus, closed_id);
	g_bus_unwatch_name(watch_id);
	for (gsize i = 0; i < G_N_ELEMENTS(subs); i++)
		g_dbus_connection_signal_unsubscribe(o->bus, subs[i]);
	g_clear_pointer(&w.props, g_variant_dict_unref);
	g_ptr_array_unref(w.events);
	g_main_loop_unref(w.loop);
	return r;
}

/* ---- dispatch ---- */

static const Verb verbs[] = {
	{"status", verb_status, NULL, NULL},	     {"watch", verb_watch, NULL, NULL},
	{"sensors", verb_sensors, NULL, NULL},	     {"start", verb_command, "Start", "Started."},
	{"stop", verb_command, "Stop", "Stopped."},  {"lap", verb_command, "Lap", "Lap."},
	{"pause", verb_command, "Pause", "Paused."}, {"resume", verb_command, "Resume", "Resumed."},
};

static const Verb *find_verb(const char *name)
{
	for (gsize i = 0; i < G_N_ELEMENTS(verbs); i++)
		if (strcmp(verbs[i].name, name) == 0)
			return &verbs[i];
	return NULL;
}

bool pacerctl_online_is_verb(const char *verb)
{
	return find_verb(verb) != NULL;
}

/* --json, --system, --session anywhere; words (start's workout) stay in argv. */
static int parse_args(Online *o, const Verb *v, int argc, char **argv)
{
	int n = 0;
	bool options = true;

	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];

		if (options && strcmp(a, "--") == 0)
			options = false;
		else if (options && strcmp(a, "--json") == 0)
			o->json = true;
		else if (options && strcmp(a, "--system") == 0)
			o->bus_type = G_BUS_TYPE_SYSTEM;
		else if (options && strcmp(a, "--session") == 0)
			o->bus_type = G_BUS_TYPE_SESSION;
		else if (options && a[0] == '-' && a[1] != '\0')
			return usage_error("%s: unknown option '%s'", o->verb, a);
		else
			argv[n++] = argv[i];
	}
	if (n > 0 && !g_str_equal(v->name, "start"))
		return usage_error("%s: unexpected argument '%s'", o->verb, argv[0]);
	o->n_words = n;
	o->words = argv;
	return 0;
}

int pacerctl_online_run(const char *verb, int argc, char **argv)
{
	const Verb *v = find_verb(verb);
	Online o = {.verb = verb, .bus_type = G_BUS_TYPE_SYSTEM};
	int r;

	if (!v)
		return usage_error("unknown verb '%s'", verb);
	r = parse_args(&o, v, argc, argv);
	if (r == 0)
		r = online_connect(&o);
	if (r == 0)
		r = v->func(&o, v);
	g_clear_object(&o.bus);
	return r;
}
