/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* daemon/pacer-config: defaults, every key, every bad value, line numbers, warnings. */
#include <glib.h>
#include <glib/gstdio.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "pacer-config.h"
#include "test-common.h"

#define NAME	   "test.conf"
#define PRESETS	   PACER_SOURCE_DIR "/config/presets.conf"
#define EXAMPLE	   PACER_SOURCE_DIR "/config/pacer.conf"
#define NO_PRESETS "/nonexistent/presets.conf"
#define DEFAULT_HR "[athlete]\nmax_hr = 190\nresting_hr = 50\n"
#define RACE_5K_20 "[athlete]\nrace = 5k=20:00\n"

/* The keys DESIGN.md section 8 fixes, plus ours; config/pacer.conf must show each. */
static const char *const all_keys[] = {
	"athlete/max_hr",
	"athlete/resting_hr",
	"athlete/lthr",
	"athlete/age",
	"athlete/sex",
	"athlete/race",
	"sensors/adapter",
	"sensors/heart_rate",
	"sensors/footpod",
	"sensors/treadmill",
	"sensors/bridge",
	"footpod/calibration",
	"footpod/auto_calibrate",
	"footpod/cadence_unit",
	"coach/workout",
	"coach/presets",
	"coach/auto_start",
	"coach/auto_pause",
	"coach/split_m",
	"coach/units",
	"coach/grace_s",
	"coach/hr_grace_s",
	"coach/off_target_s",
	"coach/cooldown_s",
	"coach/countdown_s",
	"coach/countdown_m",
	"coach/cadence_target",
	"coach/hr_alerts",
	"mqtt/enabled",
	"mqtt/uri",
	"mqtt/node",
	"mqtt/base_topic",
	"mqtt/username",
	"mqtt/password_file",
	"mqtt/ca_file",
	"mqtt/cert_file",
	"mqtt/key_file",
	"mqtt/interval",
	"mqtt/queue_size",
	"mqtt/ha_discovery",
	"mqtt/ha_prefix",
	"mqtt/commands",
	"mqtt/raw",
	"dbus/enabled",
	"dbus/bus",
	"record/dir",
	"record/formats",
	"record/keep",
	NULL,
};

static PacerConfig *load(const char *data, GStrv *ret_warnings, GError **error)
{
	return pacer_config_load_data(data, NAME, PRESETS, ret_warnings, error);
}

/* Loads data that must give no error and no warning. */
static PacerConfig *load_ok(const char *data)
{
	g_autoptr(GError) error = NULL;
	g_auto(GStrv) warnings = NULL;
	PacerConfig *c = load(data, &warnings, &error);

	if (error)
		fprintf(stderr, "\nunexpected error: %s\n", error->message);
	CU_ASSERT_PTR_NOT_NULL(c);
	if (c) {
		CU_ASSERT_PTR_NOT_NULL(warnings);
		if (warnings && warnings[0])
			fprintf(stderr, "\nunexpected warning: %s\n", warnings[0]);
		CU_ASSERT(warnings && !warnings[0]);
	}
	return c;
}

static void assert_message(const GError *error, int code, const char *want, const char *data)
{
	if (!error) {
		fprintf(stderr, "\nno error for:\n%s\nwanted: %s\n", data, want);
		CU_FAIL("no error");
		return;
	}
	CU_ASSERT(g_error_matches(error, PACER_CONFIG_ERROR, code));
	if (strcmp(error->message, want) != 0)
		fprintf(stderr, "\n got: %s\nwant: %s\n", error->message, want);
	CU_ASSERT_STRING_EQUAL(error->message, want);
}

static void expect_error_with(const char *data, const char *presets, int code, const char *want)
{
	g_autoptr(GError) error = NULL;
	g_auto(GStrv) warnings = NULL;
	g_autoptr(PacerConfig) c = pacer_config_load_data(data, NAME, presets, &warnings, &error);

	CU_ASSERT_PTR_NULL(c);
	CU_ASSERT_PTR_NULL(warnings); /* written only on success */
	assert_message(error, code, want, data);
}

static void expect_error(const char *data, const char *want)
{
	expect_error_with(data, PRESETS, PACER_CONFIG_ERROR_INVALID, want);
}

/* ---- defaults ---- */

static void assert_sensor_auto(const PacerConfigSensor *s)
{
	CU_ASSERT_EQUAL(s->mode, PACER_CONFIG_SENSOR_AUTO);
	CU_ASSERT_STRING_EQUAL(s->address, "");
}

static void assert_defaults_athlete_sensors(const PacerConfig *c)
{
	CU_ASSERT_EQUAL(c->athlete.max_hr, 0);
	CU_ASSERT_EQUAL(c->athlete.resting_hr, 0);
	CU_ASSERT_EQUAL(c->athlete.lthr, 0);
	CU_ASSERT_EQUAL(c->athlete.age, 0);
	CU_ASSERT_EQUAL(c->athlete.sex, PACER_SEX_MALE);
	CU_ASSERT_FALSE(c->athlete.has_race);
	CU_ASSERT_FALSE(c->athlete.has_hr_zones);
	CU_ASSERT_FALSE(c->athlete.has_pace_zones);
	CU_ASSERT_PTR_NULL(c->sensors.adapter);
	assert_sensor_auto(&c->sensors.heart_rate);
	assert_sensor_auto(&c->sensors.footpod);
	assert_sensor_auto(&c->sensors.treadmill);
	PACER_TEST_DOUBLE_EQ(c->footpod.calibration, 1.0);
	CU_ASSERT_TRUE(c->footpod.auto_calibrate);
	CU_ASSERT_EQUAL(c->footpod.cadence_unit, PACER_CADENCE_UNIT_AUTO);
}

static void assert_defaults_coach(const PacerConfig *c, const char *presets)
{
	CU_ASSERT_PTR_NULL(c->coach.workout);
	CU_ASSERT_PTR_NULL(c->coach.preset);
	CU_ASSERT_PTR_NULL(c->coach.workout_text);
	CU_ASSERT_PTR_NULL(c->coach.plan);
	CU_ASSERT_STRING_EQUAL(c->coach.presets_path, presets);
	CU_ASSERT_TRUE(c->coach.auto_start);
	CU_ASSERT_TRUE(c->coach.auto_pause);
	PACER_TEST_DOUBLE_EQ(c->coach.split_m, 400);
	CU_ASSERT_EQUAL(c->coach.units, PACER_CONFIG_UNITS_METRIC);
	PACER_TEST_DOUBLE_EQ(c->coach.grace_s, 15);
	PACER_TEST_DOUBLE_EQ(c->coach.hr_grace_s, 45);
	PACER_TEST_DOUBLE_EQ(c->coach.off_target_s, 8);
	PACER_TEST_DOUBLE_EQ(c->coach.cooldown_s, 30);
	PACER_TEST_DOUBLE_EQ(c->coach.countdown_s, 10);
	PACER_TEST_DOUBLE_EQ(c->coach.countdown_m, 100);
	CU_ASSERT_FALSE(c->coach.has_cadence_target);
	CU_ASSERT_TRUE(c->coach.hr_alerts);
}

static void assert_defaults_rest(const PacerConfig *c)
{
	g_autofree char *node = pacer_config_sanitize_node(g_get_host_name());

	CU_ASSERT_TRUE(c->mqtt.enabled);
	CU_ASSERT_STRING_EQUAL(c->mqtt.uri, "tcp://localhost:1883");
	CU_ASSERT_STRING_EQUAL(c->mqtt.node, node);
	CU_ASSERT_STRING_EQUAL(c->mqtt.base_topic, "pacer");
	CU_ASSERT_PTR_NULL(c->mqtt.username);
	CU_ASSERT_PTR_NULL(c->mqtt.password_file);
	CU_ASSERT_PTR_NULL(c->mqtt.ca_file);
	CU_ASSERT_PTR_NULL(c->mqtt.cert_file);
	CU_ASSERT_PTR_NULL(c->mqtt.key_file);
	PACER_TEST_DOUBLE_EQ(c->mqtt.interval_s, 1.0);
	CU_ASSERT_EQUAL(c->mqtt.queue_size, 10000);
	CU_ASSERT_TRUE(c->mqtt.ha_discovery);
	CU_ASSERT_STRING_EQUAL(c->mqtt.ha_prefix, "homeassistant");
	CU_ASSERT_FALSE(c->mqtt.commands);
	CU_ASSERT_TRUE(c->dbus.enabled);
	CU_ASSERT_EQUAL(c->dbus.bus, PACER_CONFIG_BUS_SYSTEM);
	CU_ASSERT_STRING_EQUAL(c->record.dir, "/var/lib/pacer");
	CU_ASSERT_TRUE(c->record.fit);
	CU_ASSERT_TRUE(c->record.tcx);
	CU_ASSERT_EQUAL(c->record.keep, 100);
}

static void assert_defaults(const PacerConfig *c, const char *presets)
{
	assert_defaults_athlete_sensors(c);
	assert_defaults_coach(c, presets);
	assert_defaults_rest(c);
}

static void test_defaults(void)
{
	g_autoptr(PacerConfig) d = pacer_config_new_defaults();
	g_autoptr(PacerConfig) empty = load_ok("");
	g_autoptr(PacerConfig) groups = load_ok("# nothing but groups\n[athlete]\n[sensors]\n"
						"[footpod]\n[coach]\n[mqtt]\n[dbus]\n[record]\n");

	assert_defaults(d, pacer_config_default_presets_path());
	CU_ASSERT_PTR_NULL(d->source);
	CU_ASSERT_PTR_NOT_NULL_FATAL(empty);
	assert_defaults(empty, PRESETS);
	CU_ASSERT_STRING_EQUAL(empty->source, NAME);
	CU_ASSERT_PTR_NOT_NULL_FATAL(groups);
	assert_defaults(groups, PRESETS);
	CU_ASSERT_TRUE(g_str_has_suffix(pacer_config_default_path(), "/pacer/pacer.conf"));
	/* installed, or the source tree's when not installed */
	CU_ASSERT_TRUE(g_str_has_suffix(pacer_config_default_presets_path(), "/presets.conf"));
	CU_ASSERT_TRUE(g_file_test(pacer_config_default_presets_path(), G_FILE_TEST_EXISTS));
}

/* An empty value is the default; for formats it is "record nothing". */
static void test_empty_values(void)
{
	g_autoptr(PacerConfig) c =
		load_ok("[athlete]\nmax_hr =\nrace =  \n[sensors]\nadapter =\nfootpod =\n"
			"[coach]\nworkout =\nsplit_m =\nunits =\n[mqtt]\nnode =\nuri=\n"
			"[record]\ndir =\nformats =\n");

	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(c->athlete.max_hr, 0);
	CU_ASSERT_FALSE(c->athlete.has_race);
	CU_ASSERT_PTR_NULL(c->sensors.adapter);
	assert_sensor_auto(&c->sensors.footpod);
	CU_ASSERT_PTR_NULL(c->coach.workout);
	PACER_TEST_DOUBLE_EQ(c->coach.split_m, 400);
	CU_ASSERT_STRING_EQUAL(c->mqtt.uri, "tcp://localhost:1883");
	CU_ASSERT_STRING_EQUAL(c->record.dir, "/var/lib/pacer");
	CU_ASSERT_FALSE(c->record.fit);
	CU_ASSERT_FALSE(c->record.tcx);
}

/* ---- every key ---- */

static const char full_config[] = "[athlete]\n"
				  "max_hr = 188\n"
				  "resting_hr = 48\n"
				  "lthr = 171\n"
				  "age = 41\n"
				  "sex = female\n"
				  "race = half = 1:31:35\n"
				  "[sensors]\n"
				  "adapter = hci1\n"
				  "heart_rate = c0:ff:ee:00:00:0a\n"
				  "footpod = none\n"
				  "treadmill = 11:22:33:44:55:66\n"
				  "bridge = aa:00:00:00:00:01 ,AA:00:00:00:00:02\n"
				  "[footpod]\n"
				  "calibration = 1.03\n"
				  "auto_calibrate = false\n"
				  "cadence_unit = strides\n"
				  "[coach]\n"
				  "workout = 3x(1km@4:10-4:20/km+cad175-185, 400m jog)\n"
				  "presets = " PRESETS "\n"
				  "auto_start = no\n"
				  "auto_pause = off\n"
				  "split_m = 1609.344\n"
				  "units = imperial\n"
				  "grace_s = 20\n"
				  "hr_grace_s = 60.5\n"
				  "off_target_s = 5\n"
				  "cooldown_s = 45\n"
				  "countdown_s = 5\n"
				  "countdown_m = 50\n"
				  "cadence_target = 170-180\n"
				  "hr_alerts = 0\n"
				  "[mqtt]\n"
				  "enabled = false\n"
				  "uri = mqtts://broker.example:8883\n"
				  "node = treadmill-pi\n"
				  "base_topic = home/pacer\n"
				  "username = runner\n"
				  "password_file = /etc/pacer/mqtt-password\n"
				  "ca_file = /etc/ssl/ca.pem\n"
				  "cert_file = /etc/pacer/client.pem\n"
				  "key_file = /etc/pacer/client.key\n"
				  "interval = 0.5\n"
				  "queue_size = 500\n"
				  "ha_discovery = false\n"
				  "ha_prefix = ha\n"
				  "commands = true\n"
				  "raw = true\n"
				  "[dbus]\n"
				  "enabled = false\n"
				  "bus = session\n"
				  "[record]\n"
				  "dir = /srv/runs\n"
				  "formats = tcx\n"
				  "keep = 0\n";

static void assert_full_athlete_sensors(const PacerConfig *c)
{
	CU_ASSERT_EQUAL(c->athlete.max_hr, 188);
	CU_ASSERT_EQUAL(c->athlete.resting_hr, 48);
	CU_ASSERT_EQUAL(c->athlete.lthr, 171);
	CU_ASSERT_EQUAL(c->athlete.age, 41);
	CU_ASSERT_EQUAL(c->athlete.sex, PACER_SEX_FEMALE);
	CU_ASSERT_TRUE(c->athlete.has_race);
	PACER_TEST_DOUBLE_EQ(c->athlete.race_distance_m, 21097.5);
	PACER_TEST_DOUBLE_EQ(c->athlete.race_time_s, 5495);
	CU_ASSERT_TRUE(c->athlete.has_hr_zones);
	CU_ASSERT_EQUAL(c->athlete.hr_zones.model, PACER_HR_MODEL_LTHR);
	CU_ASSERT_TRUE(c->athlete.has_pace_zones);
	CU_ASSERT_STRING_EQUAL(c->sensors.adapter, "hci1");
	CU_ASSERT_EQUAL(c->sensors.heart_rate.mode, PACER_CONFIG_SENSOR_ADDRESS);
	CU_ASSERT_STRING_EQUAL(c->sensors.heart_rate.address, "C0:FF:EE:00:00:0A");
	CU_ASSERT_EQUAL(c->sensors.footpod.mode, PACER_CONFIG_SENSOR_NONE);
	CU_ASSERT_STRING_EQUAL(c->sensors.footpod.address, "");
	CU_ASSERT_EQUAL(c->sensors.treadmill.mode, PACER_CONFIG_SENSOR_ADDRESS);
	CU_ASSERT_STRING_EQUAL(c->sensors.treadmill.address, "11:22:33:44:55:66");
	CU_ASSERT_EQUAL(c->sensors.n_bridge, 2);
	CU_ASSERT_STRING_EQUAL(c->sensors.bridge[0], "AA:00:00:00:00:01");
	CU_ASSERT_STRING_EQUAL(c->sensors.bridge[1], "AA:00:00:00:00:02");
	PACER_TEST_DOUBLE_EQ(c->footpod.calibration, 1.03);
	CU_ASSERT_FALSE(c->footpod.auto_calibrate);
	CU_ASSERT_EQUAL(c->footpod.cadence_unit, PACER_CADENCE_UNIT_STRIDES);
}

static void assert_full_coach(const PacerConfig *c)
{
	CU_ASSERT_STRING_EQUAL(c->coach.workout, "3x(1km@4:10-4:20/km+cad175-185, 400m jog)");
	CU_ASSERT_STRING_EQUAL(c->coach.workout_text, c->coach.workout);
	CU_ASSERT_PTR_NULL(c->coach.preset);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c->coach.plan);
	CU_ASSERT_EQUAL(c->coach.plan->n_steps, 6);
	CU_ASSERT_STRING_EQUAL(c->coach.presets_path, PRESETS);
	CU_ASSERT_FALSE(c->coach.auto_start);
	CU_ASSERT_FALSE(c->coach.auto_pause);
	PACER_TEST_DOUBLE_EQ(c->coach.split_m, 1609.344);
	CU_ASSERT_EQUAL(c->coach.units, PACER_CONFIG_UNITS_IMPERIAL);
	PACER_TEST_DOUBLE_EQ(c->coach.grace_s, 20);
	PACER_TEST_DOUBLE_EQ(c->coach.hr_grace_s, 60.5);
	PACER_TEST_DOUBLE_EQ(c->coach.off_target_s, 5);
	PACER_TEST_DOUBLE_EQ(c->coach.cooldown_s, 45);
	PACER_TEST_DOUBLE_EQ(c->coach.countdown_s, 5);
	PACER_TEST_DOUBLE_EQ(c->coach.countdown_m, 50);
	CU_ASSERT_TRUE(c->coach.has_cadence_target);
	PACER_TEST_DOUBLE_EQ(c->coach.cadence_min_spm, 170);
	PACER_TEST_DOUBLE_EQ(c->coach.cadence_max_spm, 180);
	CU_ASSERT_FALSE(c->coach.hr_alerts);
}

static void assert_full_rest(const PacerConfig *c)
{
	CU_ASSERT_FALSE(c->mqtt.enabled);
	CU_ASSERT_STRING_EQUAL(c->mqtt.uri, "mqtts://broker.example:8883");
	CU_ASSERT_STRING_EQUAL(c->mqtt.node, "treadmill-pi");
	CU_ASSERT_STRING_EQUAL(c->mqtt.base_topic, "home/pacer");
	CU_ASSERT_STRING_EQUAL(c->mqtt.username, "runner");
	CU_ASSERT_STRING_EQUAL(c->mqtt.password_file, "/etc/pacer/mqtt-password");
	CU_ASSERT_STRING_EQUAL(c->mqtt.ca_file, "/etc/ssl/ca.pem");
	CU_ASSERT_STRING_EQUAL(c->mqtt.cert_file, "/etc/pacer/client.pem");
	CU_ASSERT_STRING_EQUAL(c->mqtt.key_file, "/etc/pacer/client.key");
	PACER_TEST_DOUBLE_EQ(c->mqtt.interval_s, 0.5);
	CU_ASSERT_EQUAL(c->mqtt.queue_size, 500);
	CU_ASSERT_FALSE(c->mqtt.ha_discovery);
	CU_ASSERT_STRING_EQUAL(c->mqtt.ha_prefix, "ha");
	CU_ASSERT_TRUE(c->mqtt.commands);
	CU_ASSERT_TRUE(c->mqtt.raw);
	CU_ASSERT_FALSE(c->dbus.enabled);
	CU_ASSERT_EQUAL(c->dbus.bus, PACER_CONFIG_BUS_SESSION);
	CU_ASSERT_STRING_EQUAL(c->record.dir, "/srv/runs");
	CU_ASSERT_FALSE(c->record.fit);
	CU_ASSERT_TRUE(c->record.tcx);
	CU_ASSERT_EQUAL(c->record.keep, 0);
}

static void test_every_key(void)
{
	g_autoptr(PacerConfig) c = load_ok(full_config);

	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	assert_full_athlete_sensors(c);
	assert_full_coach(c);
	assert_full_rest(c);
}

static void test_booleans_and_numbers(void)
{
	g_autoptr(PacerConfig) c = load_ok("[footpod]\nauto_calibrate = yes\ncalibration = +.75\n"
					   "[coach]\nauto_start = on\nauto_pause = 1\n"
					   "hr_alerts = true\ngrace_s = 0\nsplit_m = 100.\n"
					   "[mqtt]\nenabled = no\nqueue_size = +10\n"
					   "[record]\nkeep = 007\nformats = tcx , fit,fit\n");

	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_TRUE(c->footpod.auto_calibrate);
	PACER_TEST_DOUBLE_EQ(c->footpod.calibration, 0.75);
	CU_ASSERT_TRUE(c->coach.auto_start);
	CU_ASSERT_TRUE(c->coach.auto_pause);
	CU_ASSERT_TRUE(c->coach.hr_alerts);
	PACER_TEST_DOUBLE_EQ(c->coach.grace_s, 0);
	PACER_TEST_DOUBLE_EQ(c->coach.split_m, 100);
	CU_ASSERT_FALSE(c->mqtt.enabled);
	CU_ASSERT_EQUAL(c->mqtt.queue_size, 10);
	CU_ASSERT_EQUAL(c->record.keep, 7);
	CU_ASSERT_TRUE(c->record.fit);
	CU_ASSERT_TRUE(c->record.tcx);
}

/* ---- bad values: each names the file, the line, the group and the key ---- */

typedef struct {
	const char *group;
	const char *key;
	const char *value;
	const char *message; /* after "test.conf:4: [group] key: " */
} BadValue;

static const BadValue bad_values[] = {
	{"athlete", "max_hr", "300", "300 is out of range (25-250)"},
	{"athlete", "max_hr", "24", "24 is out of range (25-250)"},
	{"athlete", "max_hr", "19O", "'19O' is not a whole number"},
	{"athlete", "max_hr", "0x10", "'0x10' is not a whole number"},
	{"athlete", "max_hr", "190 # bpm",
	 "'190 # bpm' is not a whole number (a comment must be on a line of its own)"},
	{"athlete", "max_hr", "99999999999999999999",
	 "'99999999999999999999' is not a whole number"},
	{"athlete", "resting_hr", "251", "251 is out of range (25-250)"},
	{"athlete", "lthr", "1e2", "'1e2' is not a whole number"},
	{"athlete", "age", "4", "4 is out of range (5-110)"},
	{"athlete", "age", "40.5", "'40.5' is not a whole number"},
	{"athlete", "sex", "Female", "'Female' is not male or female"},
	{"athlete", "race", "5k", "'5k' is not DIST=TIME (e.g. 5k=20:00)"},
	{"athlete", "race", "5q=20:00",
	 "DIST '5q' is not a race distance (1500m 1mi 3k 5k 10k 15k half marathon, or metres)"},
	{"athlete", "race", "5k=20:75",
	 "TIME '20:75' is not a time (SS, M:SS or H:MM:SS, above zero)"},
	{"athlete", "race", "5k=0", "TIME '0' is not a time (SS, M:SS or H:MM:SS, above zero)"},
	{"athlete", "race", "5k=2:00",
	 "5k in 2:00 is outside the VDOT model (a race of 1-600 minutes, VDOT 10-100)"},
	{"sensors", "adapter", "usb0", "'usb0' is not an adapter name like hci0"},
	{"sensors", "adapter", "hci", "'hci' is not an adapter name like hci0"},
	{"sensors", "adapter", "hci1234", "'hci1234' is not an adapter name like hci0"},
	{"sensors", "adapter", "00:1A:7D:DA:71:13",
	 "'00:1A:7D:DA:71:13' is not an adapter name like hci0"},
	{"sensors", "heart_rate", "AA:BB:CC:DD:EE",
	 "'AA:BB:CC:DD:EE' is not auto, none or an address like AA:BB:CC:DD:EE:FF"},
	{"sensors", "footpod", "Auto",
	 "'Auto' is not auto, none or an address like AA:BB:CC:DD:EE:FF"},
	{"sensors", "treadmill", "AA-BB-CC-DD-EE-FF",
	 "'AA-BB-CC-DD-EE-FF' is not auto, none or an address like AA:BB:CC:DD:EE:FF"},
	{"sensors", "treadmill", "GA:BB:CC:DD:EE:FF",
	 "'GA:BB:CC:DD:EE:FF' is not auto, none or an address like AA:BB:CC:DD:EE:FF"},
	{"sensors", "bridge", "AA:BB:CC:DD:EE:01, auto",
	 "'auto' is not an address like AA:BB:CC:DD:EE:FF"},
	{"sensors", "bridge", "AA:BB:CC:DD:EE:01,,AA:BB:CC:DD:EE:02",
	 "'' is not an address like AA:BB:CC:DD:EE:FF"},
	{"sensors", "bridge", "AA:BB:CC:DD:EE:01, aa:bb:cc:dd:ee:01",
	 "AA:BB:CC:DD:EE:01 is listed twice"},
	{"footpod", "calibration", "1.6", "1.6 is out of range (0.5-1.5)"},
	{"footpod", "calibration", "0.49", "0.49 is out of range (0.5-1.5)"},
	{"footpod", "calibration", "1,0", "'1,0' is not a number"},
	{"footpod", "calibration", "nan", "'nan' is not a number"},
	{"footpod", "calibration", "1e0", "'1e0' is not a number"},
	{"footpod", "calibration", ".", "'.' is not a number"},
	{"footpod", "auto_calibrate", "maybe", "'maybe' is not true or false"},
	{"footpod", "auto_calibrate", "TRUE", "'TRUE' is not true or false"},
	{"footpod", "cadence_unit", "spm", "'spm' is not auto, steps or strides"},
	{"coach", "auto_start", "2", "'2' is not true or false"},
	{"coach", "auto_pause", "yes please", "'yes please' is not true or false"},
	{"coach", "split_m", "99", "99 is out of range (100-10000)"},
	{"coach", "split_m", "10001", "10001 is out of range (100-10000)"},
	{"coach", "units", "metres", "'metres' is not metric or imperial"},
	{"coach", "grace_s", "-1", "-1 is out of range (0-600)"},
	{"coach", "hr_grace_s", "601", "601 is out of range (0-600)"},
	{"coach", "off_target_s", "8s", "'8s' is not a number"},
	{"coach", "cooldown_s", "3601", "3601 is out of range (0-3600)"},
	{"coach", "countdown_s", "0", "0 is out of range (1-600)"},
	{"coach", "countdown_m", "5", "5 is out of range (10-5000)"},
	{"coach", "cadence_target", "180-170",
	 "'180-170' is not a cadence band A-B with 100 <= A < B <= 250 steps per minute (170-180)"},
	{"coach", "cadence_target", "90-170",
	 "'90-170' is not a cadence band A-B with 100 <= A < B <= 250 steps per minute (170-180)"},
	{"coach", "cadence_target", "170",
	 "'170' is not a cadence band A-B with 100 <= A < B <= 250 steps per minute (170-180)"},
	{"coach", "hr_alerts", "nope", "'nope' is not true or false"},
	{"mqtt", "enabled", "enabled", "'enabled' is not true or false"},
	{"mqtt", "uri", "localhost:1883",
	 "'localhost:1883' does not start with tcp://, ssl://, ws://, wss://, mqtt:// or mqtts://"},
	{"mqtt", "uri", "tcp://", "'tcp://' has no host after tcp:// (tcp://localhost:1883)"},
	{"mqtt", "uri", "ssl://:8883",
	 "'ssl://:8883' has no host after ssl:// (tcp://localhost:1883)"},
	{"mqtt", "node", "a/b",
	 "'a/b' cannot be an MQTT topic level (no '/', '+', '#', spaces or control characters)"},
	{"mqtt", "node", "my node",
	 "'my node' cannot be an MQTT topic level (no '/', '+', '#', spaces or control "
	 "characters)"},
	{"mqtt", "node", "pi+",
	 "'pi+' cannot be an MQTT topic level (no '/', '+', '#', spaces or control characters)"},
	{"mqtt", "base_topic", "pacer/#",
	 "'pacer/#' is not a topic prefix (levels joined by '/', none empty, without '+', '#', "
	 "spaces or control characters)"},
	{"mqtt", "base_topic", "/pacer",
	 "'/pacer' is not a topic prefix (levels joined by '/', none empty, without '+', '#', "
	 "spaces or control characters)"},
	{"mqtt", "base_topic", "a//b",
	 "'a//b' is not a topic prefix (levels joined by '/', none empty, without '+', '#', "
	 "spaces or control characters)"},
	{"mqtt", "interval", "0.1", "0.1 is out of range (0.2-60)"},
	{"mqtt", "interval", "61", "61 is out of range (0.2-60)"},
	{"mqtt", "queue_size", "9", "9 is out of range (10-1000000)"},
	{"mqtt", "queue_size", "1000001", "1000001 is out of range (10-1000000)"},
	{"mqtt", "ha_discovery", "x", "'x' is not true or false"},
	{"mqtt", "ha_prefix", "home+assistant",
	 "'home+assistant' is not a topic prefix (levels joined by '/', none empty, without '+', "
	 "'#', spaces or control characters)"},
	{"mqtt", "commands", "x", "'x' is not true or false"},
	{"mqtt", "raw", "all", "'all' is not true or false"},
	{"dbus", "enabled", "x", "'x' is not true or false"},
	{"dbus", "bus", "user", "'user' is not system or session"},
	{"record", "formats", "fit,gpx",
	 "'fit,gpx' is not a list of fit and tcx (fit,tcx; empty: record nothing)"},
	{"record", "formats", "fit,,tcx",
	 "'fit,,tcx' is not a list of fit and tcx (fit,tcx; empty: record nothing)"},
	{"record", "keep", "-1", "-1 is out of range (0-1000000)"},
};

static void test_bad_values(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(bad_values); i++) {
		const BadValue *b = &bad_values[i];
		g_autofree char *data = g_strdup_printf("# comment\n[%s]\n\n%s = %s\n[dbus]\n",
							b->group, b->key, b->value);
		g_autofree char *want =
			g_strdup_printf(NAME ":4: [%s] %s: %s", b->group, b->key, b->message);

		expect_error(data, want);
	}
}

/* Every key in the table above has at least one bad value. */
static void test_bad_values_cover_keys(void)
{
	for (const char *const *k = all_keys; *k; k++) {
		gboolean found = FALSE;

		for (size_t i = 0; i < G_N_ELEMENTS(bad_values) && !found; i++) {
			g_autofree char *id =
				g_strconcat(bad_values[i].group, "/", bad_values[i].key, NULL);

			found = strcmp(id, *k) == 0;
		}
		/* strings and paths take any text; workout and presets have their own tests */
		if (!found && !g_str_has_suffix(*k, "_file") && strcmp(*k, "mqtt/username") != 0 &&
		    strcmp(*k, "record/dir") != 0 && strcmp(*k, "coach/workout") != 0 &&
		    strcmp(*k, "coach/presets") != 0) {
			fprintf(stderr, "\nno bad value for %s\n", *k);
			CU_FAIL("a key without a bad value");
		}
	}
}

/* The line is the key's own, wherever it is; a key given twice reports the value used. */
static void test_error_lines(void)
{
	expect_error("[athlete]\nmax_hr = 190\n\n[coach]\n# split\nsplit_m = 400\n\n"
		     "[athlete]\nage = 200\n",
		     NAME ":9: [athlete] age: 200 is out of range (5-110)");
	expect_error("[mqtt]\ninterval = 1\n  interval  =  0  \n",
		     NAME ":3: [mqtt] interval: 0 is out of range (0.2-60)");
}

static void test_error_lines_duplicate(void)
{
	g_autoptr(GError) error = NULL;
	g_auto(GStrv) warnings = NULL;
	g_autoptr(PacerConfig) c = load("[coach]\nsplit_m = 0\nsplit_m = 800\n", &warnings, &error);

	/* the last value wins and is valid; the first is reported as ignored */
	CU_ASSERT_PTR_NULL(error);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	PACER_TEST_DOUBLE_EQ(c->coach.split_m, 800);
	CU_ASSERT_PTR_NOT_NULL_FATAL(warnings);
	CU_ASSERT_EQUAL(g_strv_length(warnings), 1);
	CU_ASSERT_STRING_EQUAL(warnings[0], NAME
			       ":2: [coach] split_m: given again on line 3, this one is ignored");
	expect_error("[coach]\nsplit_m = 800\nsplit_m = 0\n",
		     NAME ":3: [coach] split_m: 0 is out of range (100-10000)");
}

static void test_escapes_and_utf8(void)
{
	expect_error("[mqtt]\nusername = a\\qb\n",
		     NAME ":2: [mqtt] username: 'a\\qb' has an invalid escape sequence ('\\' goes "
			  "before s, n, t, r or '\\')");
	expect_error("[mqtt]\nusername = \xff\xfe\n",
		     NAME ":2: [mqtt] username: the value is not valid UTF-8");
	{
		g_autoptr(PacerConfig) c = load_ok("[mqtt]\nusername = \\sspace\\\\d\n");

		CU_ASSERT_PTR_NOT_NULL_FATAL(c);
		/* escapes are decoded, then the value is stripped */
		CU_ASSERT_STRING_EQUAL(c->mqtt.username, "space\\d");
	}
}

/* ---- heart rates across keys ---- */

static void test_heart_rates(void)
{
	expect_error("[athlete]\nresting_hr = 60\n",
		     NAME ":2: [athlete] resting_hr: needs max_hr or age (zones on the heart-rate "
			  "reserve), or lthr");
	expect_error("[athlete]\nmax_hr = 180\nresting_hr = 185\n",
		     NAME ":3: [athlete] resting_hr: 185 must be below max_hr (180)");
	expect_error("[athlete]\nlthr = 185\nage = 40\n",
		     NAME ":2: [athlete] lthr: 185 must be below the max HR from age (180)");
	expect_error("[athlete]\nlthr = 160\nresting_hr = 165\n",
		     NAME ":3: [athlete] resting_hr: 165 must be below lthr (160)");
	{
		g_autoptr(PacerConfig) age = load_ok("[athlete]\nage = 40\n");
		g_autoptr(PacerConfig) karvonen = load_ok(DEFAULT_HR);
		g_autoptr(PacerConfig) lthr = load_ok("[athlete]\nlthr = 170\nresting_hr = 50\n");

		CU_ASSERT_PTR_NOT_NULL_FATAL(age);
		CU_ASSERT_PTR_NOT_NULL_FATAL(karvonen);
		CU_ASSERT_PTR_NOT_NULL_FATAL(lthr);
		CU_ASSERT_EQUAL(age->athlete.hr_zones.model, PACER_HR_MODEL_PERCENT_MAX);
		CU_ASSERT_EQUAL(age->athlete.hr_zones.max_hr, 180);
		CU_ASSERT_EQUAL(karvonen->athlete.hr_zones.model, PACER_HR_MODEL_KARVONEN);
		CU_ASSERT_EQUAL(lthr->athlete.hr_zones.model, PACER_HR_MODEL_LTHR);
		CU_ASSERT_EQUAL(lthr->athlete.hr_zones.n_zones, 7);
	}
}

static void test_mqtt_tls_files(void)
{
	expect_error("[mqtt]\nuri = ssl://broker:8883\nkey_file = /k.pem\n",
		     NAME ":3: [mqtt] key_file: needs cert_file (the client certificate of this "
			  "key)");
	{
		g_autoptr(PacerConfig) c = load_ok("[mqtt]\ncert_file = /c.pem\n");

		CU_ASSERT_PTR_NOT_NULL_FATAL(c);
		CU_ASSERT_STRING_EQUAL(c->mqtt.cert_file, "/c.pem");
	}
}

/* ---- syntax ---- */

static void expect_syntax(const char *data, const char *want)
{
	expect_error_with(data, PRESETS, PACER_CONFIG_ERROR_SYNTAX, want);
}

static void test_syntax_errors(void)
{
	expect_syntax("[athlete]\nmax_hr = 190\nmax_hr 190\nage = 40\n",
		      NAME ":3: 'max_hr 190': not a key = value pair, a [group] or a # comment");
	expect_syntax("# athlete\nmax_hr = 190\n[athlete]\n",
		      NAME ":2: 'max_hr = 190': a key before the first [group]");
	expect_syntax("# c\n\n[athlete\nmax_hr = 190\n",
		      NAME ":3: '[athlete': not a valid [group] header");
	expect_syntax("[a]\nk=1\n\n\n  bad",
		      NAME ":5: 'bad': not a key = value pair, a [group] or a # comment");
	expect_syntax("[a]]\n", NAME ":1: '[a]]': not a valid [group] header");
	expect_syntax("[a]\n= 5\n",
		      NAME ":2: '= 5': not a key = value pair, a [group] or a # comment");
	expect_syntax("[coach]\nworkout 10min@E, 4x(400m@5k, 2min rest), 10min@E, 4x(400m@5k, "
		      "2min rest)\n",
		      NAME ":2: 'workout 10min@E, 4x(400m@5k, 2min rest), 10min@E, 4x(400m...': "
			   "not a key = value pair, a [group] or a # comment");
}

/* A UTF-8 byte order mark, as some editors write, is not part of the first line. */
static void test_byte_order_mark(void)
{
	g_autoptr(PacerConfig) c = load_ok("\xef\xbb\xbf[athlete]\nmax_hr = 190\n");

	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(c->athlete.max_hr, 190);
	expect_error("\xef\xbb\xbf[athlete]\nmax_hr = 19\n",
		     NAME ":2: [athlete] max_hr: 19 is out of range (25-250)");
}

/* ---- warnings ---- */

static void test_warnings(void)
{
	g_autoptr(GError) error = NULL;
	g_auto(GStrv) w = NULL;
	g_autoptr(PacerConfig) c = load("[athlete]\nmax_hr = 190\nmaxhr = 180\n[sensor]\nfoo = 1\n"
					"[coach]\nsplit_m = 800\nadapter = hci0\nname[de] = x\n"
					"\xff = 1\n",
					&w, &error);

	CU_ASSERT_PTR_NULL(error);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(c->athlete.max_hr, 190);
	PACER_TEST_DOUBLE_EQ(c->coach.split_m, 800);
	CU_ASSERT_PTR_NULL(c->sensors.adapter);
	CU_ASSERT_PTR_NOT_NULL_FATAL(w);
	CU_ASSERT_EQUAL_FATAL(g_strv_length(w), 5);
	CU_ASSERT_STRING_EQUAL(w[0], NAME ":3: [athlete] maxhr: unknown key, ignored");
	CU_ASSERT_STRING_EQUAL(w[1], NAME ":4: [sensor]: unknown group, ignored");
	CU_ASSERT_STRING_EQUAL(w[2],
			       NAME ":8: [coach] adapter: unknown key, ignored (it belongs in "
				    "[sensors])");
	CU_ASSERT_STRING_EQUAL(w[3], NAME ":9: [coach] name[de]: unknown key, ignored");
	CU_ASSERT_STRING_EQUAL(w[4], NAME ":10: [coach] \xef\xbf\xbd: unknown key, ignored");
}

/* ---- workouts ---- */

static void test_workout_text(void)
{
	g_autoptr(PacerConfig) c = load_ok(RACE_5K_20 "[coach]\nworkout = 10min@E, 20min@T, "
						      "10min@E\n");

	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_PTR_NULL(c->coach.preset);
	CU_ASSERT_STRING_EQUAL(c->coach.workout_text, "10min@E, 20min@T, 10min@E");
	CU_ASSERT_PTR_NOT_NULL_FATAL(c->coach.plan);
	CU_ASSERT_EQUAL(c->coach.plan->n_steps, 3);
	CU_ASSERT_EQUAL(c->coach.plan->steps[0].kind, PACER_STEP_WARMUP);
	CU_ASSERT_TRUE(c->coach.plan->steps[1].target.has_pace_zone);
	CU_ASSERT_EQUAL(c->coach.plan->steps[1].target.pace_zone, PACER_PACE_T);
}

static void test_workout_preset(void)
{
	g_autoptr(PacerConfig) c = load_ok(RACE_5K_20 "[coach]\nworkout = intervals\n");
	g_autoptr(PacerConfig) name =
		load_ok("[coach]\nworkout = 10min\n"); /* a name, not a preset */

	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_STRING_EQUAL(c->coach.workout, "intervals");
	CU_ASSERT_STRING_EQUAL(c->coach.preset, "intervals");
	CU_ASSERT_STRING_EQUAL(c->coach.workout_text, "10min@E, 4x(400m@5k, 2min rest), 10min@E");
	CU_ASSERT_PTR_NOT_NULL_FATAL(c->coach.plan);
	CU_ASSERT_EQUAL(c->coach.plan->n_steps, 10);
	CU_ASSERT_TRUE(c->coach.plan->has_repeats);
	CU_ASSERT_PTR_NOT_NULL_FATAL(name);
	CU_ASSERT_PTR_NULL(name->coach.preset);
	CU_ASSERT_EQUAL(name->coach.plan->n_steps, 1);
}

static void test_workout_errors(void)
{
	expect_error(RACE_5K_20 "[coach]\nworkout = 10min@E, 4x(400m@5k 2min rest)\n",
		     NAME ":4: [coach] workout: column 21: expected ',' between steps or ')' to "
			  "close the repeat");
	expect_error("[coach]\n\nworkout = 10min@E\n",
		     NAME ":3: [coach] workout: column 7: needs a race result ([athlete] race) "
			  "for race-pace and zone targets");
	expect_error("[coach]\nworkout = 45min@z2\n",
		     NAME ":2: [coach] workout: column 7: needs heart-rate zones ([athlete] "
			  "max_hr, lthr or age) for zN targets");
	expect_error(DEFAULT_HR "[coach]\nworkout = 45min@z9\n", NAME
		     ":5: [coach] workout: column 7: expected a heart-rate zone from z1 to z7");
	expect_error("[coach]\nworkout = intervals\n",
		     NAME ":2: [coach] workout: preset 'intervals' (" PRESETS "): column 7: needs "
			  "a race result ([athlete] race) for race-pace and zone targets");
	expect_error("[coach]\nworkout = intervalz\n",
		     NAME ":2: [coach] workout: 'intervalz' is neither a preset in " PRESETS
			  " nor a workout (column 1: expected a distance or a duration (400m, "
			  "2min))");
	expect_error_with("[coach]\nworkout = intervals\n", NO_PRESETS, PACER_CONFIG_ERROR_INVALID,
			  NAME ":2: [coach] workout: 'intervals' is not a workout (column 1: "
			       "expected a distance or a duration (400m, 2min)), and there is no "
			       "presets file " NO_PRESETS);
	expect_error(RACE_5K_20 "[coach]\nworkout = 30min@E # easy\n",
		     NAME ":4: [coach] workout: column 9: expected ',' between steps (a comment "
			  "must be on a line of its own)");
	expect_error("[coach]\npresets = " NO_PRESETS "\n",
		     NAME ":2: [coach] presets: cannot read '" NO_PRESETS
			  "': No such file or directory");
}

/* A missing default presets file only matters to a workout that names a preset. */
static void test_workout_without_presets(void)
{
	g_autoptr(GError) error = NULL;
	g_auto(GStrv) w = NULL;
	g_autoptr(PacerConfig) c =
		pacer_config_load_data("[coach]\nworkout = 30min\n", NAME, NO_PRESETS, &w, &error);

	CU_ASSERT_PTR_NULL(error);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_STRING_EQUAL(c->coach.presets_path, NO_PRESETS);
	CU_ASSERT_EQUAL(c->coach.plan->n_steps, 1);
}

static void test_resolve_workout(void)
{
	g_autoptr(PacerConfig) c = load_ok(RACE_5K_20);
	g_autoptr(GError) error = NULL;
	g_autofree char *text = NULL, *preset = NULL;
	g_autofree PacerPlan *plan = g_new0(PacerPlan, 1);

	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_TRUE(pacer_config_resolve_workout(c, "tempo", plan, &text, &preset, &error));
	CU_ASSERT_STRING_EQUAL(preset, "tempo");
	CU_ASSERT_STRING_EQUAL(text, "15min@E, 20min@T, 10min@E");
	CU_ASSERT_EQUAL(plan->n_steps, 3);
	CU_ASSERT_FALSE(pacer_config_resolve_workout(c, "5x", plan, NULL, NULL, &error));
	assert_message(error, PACER_CONFIG_ERROR_INVALID,
		       "column 3: expected '(' or a step after 'x' (4x(400m, 2min rest), 8x400m@I)",
		       "5x");
}

/* ---- sensors and MQTT names ---- */

static void test_addresses(void)
{
	g_autoptr(PacerConfig) c = load_ok("[sensors]\nadapter = hci12\n"
					   "heart_rate = auto\nfootpod = f0:0d:00:00:00:ab\n"
					   "treadmill = none\n");

	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_STRING_EQUAL(c->sensors.adapter, "hci12");
	assert_sensor_auto(&c->sensors.heart_rate);
	CU_ASSERT_EQUAL(c->sensors.footpod.mode, PACER_CONFIG_SENSOR_ADDRESS);
	CU_ASSERT_STRING_EQUAL(c->sensors.footpod.address, "F0:0D:00:00:00:AB");
	CU_ASSERT_EQUAL(c->sensors.treadmill.mode, PACER_CONFIG_SENSOR_NONE);
	CU_ASSERT_EQUAL(c->sensors.n_bridge, 0);
}

/* Up to 29 bridged sensors, none of them also the runner's. */
static void test_bridge(void)
{
	g_autoptr(GString) many = g_string_new("[sensors]\nbridge = ");
	g_autoptr(PacerConfig) c = NULL;

	for (unsigned i = 0; i < PACER_CONFIG_MAX_BRIDGE; i++)
		g_string_append_printf(many, "%s00:00:00:00:00:%02X", i ? "," : "", i);
	c = load_ok(many->str);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(c->sensors.n_bridge, PACER_CONFIG_MAX_BRIDGE);
	CU_ASSERT_STRING_EQUAL(c->sensors.bridge[28], "00:00:00:00:00:1C");
	g_string_append(many, ",00:00:00:00:00:FF\n");
	expect_error(many->str, NAME ":2: [sensors] bridge: more than 29 addresses");
	expect_error("[sensors]\nheart_rate = C0:FF:EE:00:00:01\nbridge = c0:ff:ee:00:00:01\n",
		     NAME ":3: [sensors] bridge: C0:FF:EE:00:00:01 is already the runner's sensor");
	g_clear_pointer(&c, pacer_config_free);
	c = load_ok("[sensors]\nbridge =\n");
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(c->sensors.n_bridge, 0);
}

static void assert_sanitized(const char *hostname, const char *want)
{
	g_autofree char *s = pacer_config_sanitize_node(hostname);

	CU_ASSERT_STRING_EQUAL(s, want);
}

static void test_node(void)
{
	g_autoptr(PacerConfig) c = load_ok("[mqtt]\nnode = kitchen.treadmill_1\n");

	assert_sanitized("raspberrypi", "raspberrypi");
	assert_sanitized("pi.local", "pi.local");
	assert_sanitized("a/b+c#d e\tf", "a_b_c_d_e_f");
	assert_sanitized("", "pacer");
	assert_sanitized(NULL, "pacer");
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_STRING_EQUAL(c->mqtt.node, "kitchen.treadmill_1");
}

/* ---- the pipeline ---- */

static void test_pipeline_defaults(void)
{
	g_autoptr(PacerConfig) c = load_ok("");
	PacerPipelineConfig want, got;

	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	pacer_pipeline_config_init(&want);
	pacer_config_to_pipeline(c, &got);
	CU_ASSERT_EQUAL(got.metrics.hr_zones.n_zones, 0);
	CU_ASSERT_FALSE(got.metrics.has_pace_zones);
	CU_ASSERT_EQUAL(got.metrics.max_hr, 0);
	CU_ASSERT_EQUAL(got.metrics.resting_hr, 0);
	PACER_TEST_DOUBLE_EQ(got.metrics.footpod_calibration, want.metrics.footpod_calibration);
	CU_ASSERT_EQUAL(got.metrics.auto_calibrate, want.metrics.auto_calibrate);
	CU_ASSERT_EQUAL(got.metrics.smoothing_us, want.metrics.smoothing_us);
	CU_ASSERT_EQUAL(got.coach.grace_us, want.coach.grace_us);
	CU_ASSERT_EQUAL(got.coach.hr_grace_us, want.coach.hr_grace_us);
	CU_ASSERT_EQUAL(got.coach.off_target_us, want.coach.off_target_us);
	CU_ASSERT_EQUAL(got.coach.cooldown_us, want.coach.cooldown_us);
	CU_ASSERT_EQUAL(got.coach.countdown_us, want.coach.countdown_us);
	PACER_TEST_DOUBLE_EQ(got.coach.countdown_m, want.coach.countdown_m);
	PACER_TEST_DOUBLE_EQ(got.coach.split_m, want.coach.split_m);
	CU_ASSERT_EQUAL(got.coach.auto_start, want.coach.auto_start);
	CU_ASSERT_EQUAL(got.coach.auto_pause, want.coach.auto_pause);
	CU_ASSERT_FALSE(got.coach.imperial);
	CU_ASSERT_FALSE(got.coach.free_target.has_cadence);
	CU_ASSERT_EQUAL(got.coach.hr_zones.n_zones, 0);
	CU_ASSERT_EQUAL(got.infer_sensor_events, want.infer_sensor_events);
}

static void assert_zones_equal(const PacerHrZones *a, const PacerHrZones *b)
{
	CU_ASSERT_EQUAL_FATAL(a->n_zones, b->n_zones);
	CU_ASSERT_EQUAL(a->model, b->model);
	CU_ASSERT_EQUAL(a->max_hr, b->max_hr);
	for (size_t i = 0; i < a->n_zones; i++) {
		CU_ASSERT_EQUAL(a->zones[i].min_bpm, b->zones[i].min_bpm);
		CU_ASSERT_EQUAL(a->zones[i].max_bpm, b->zones[i].max_bpm);
	}
}

static void test_pipeline_athlete(void)
{
	g_autoptr(PacerConfig) c = load_ok("[athlete]\nlthr = 170\nmax_hr = 190\nresting_hr = 50\n"
					   "sex = female\nrace = 5k=20:00\n");
	PacerAthlete athlete = {.max_hr = 190, .resting_hr = 50, .lthr = 170};
	PacerHrZones hr;
	PacerPaceZones pace;
	PacerPipelineConfig p;

	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL_FATAL(pacer_hr_zones_compute(&athlete, &hr), 0);
	CU_ASSERT_EQUAL_FATAL(pacer_pace_zones_compute(5000, 1200, &pace), 0);
	pacer_config_to_pipeline(c, &p);
	CU_ASSERT_EQUAL(p.metrics.hr_zones.model, PACER_HR_MODEL_LTHR);
	CU_ASSERT_EQUAL(p.metrics.hr_zones.n_zones, 7);
	assert_zones_equal(&p.metrics.hr_zones, &hr);
	assert_zones_equal(&p.coach.hr_zones, &hr);
	CU_ASSERT_EQUAL(p.metrics.max_hr, 190);
	CU_ASSERT_EQUAL(p.metrics.resting_hr, 50);
	CU_ASSERT_EQUAL(p.metrics.sex, PACER_SEX_FEMALE);
	CU_ASSERT_TRUE(p.metrics.has_pace_zones);
	PACER_TEST_DOUBLE_EQ(p.metrics.pace_zones.vdot, pace.vdot);
	PACER_TEST_DOUBLE_EQ(p.metrics.pace_zones.zones[PACER_PACE_T].fast_s_per_km,
			     pace.zones[PACER_PACE_T].fast_s_per_km);
}

static void test_pipeline_tunables(void)
{
	g_autoptr(PacerConfig) c = load_ok(full_config);
	g_autoptr(PacerConfig) age = load_ok("[athlete]\nage = 40\n");
	PacerPipelineConfig p;

	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	pacer_config_to_pipeline(c, &p);
	PACER_TEST_DOUBLE_EQ(p.metrics.footpod_calibration, 1.03);
	CU_ASSERT_FALSE(p.metrics.auto_calibrate);
	CU_ASSERT_EQUAL(p.metrics.cadence_unit, PACER_CADENCE_UNIT_STRIDES);
	CU_ASSERT_EQUAL(p.coach.grace_us, 20000000);
	CU_ASSERT_EQUAL(p.coach.hr_grace_us, UINT64_MAX); /* hr_alerts = false */
	CU_ASSERT_EQUAL(p.coach.off_target_us, 5000000);
	CU_ASSERT_EQUAL(p.coach.cooldown_us, 45000000);
	CU_ASSERT_EQUAL(p.coach.countdown_us, 5000000);
	PACER_TEST_DOUBLE_EQ(p.coach.countdown_m, 50);
	PACER_TEST_DOUBLE_EQ(p.coach.split_m, 1609.344);
	CU_ASSERT_FALSE(p.coach.auto_start);
	CU_ASSERT_FALSE(p.coach.auto_pause);
	CU_ASSERT_TRUE(p.coach.imperial);
	CU_ASSERT_TRUE(p.coach.free_target.has_cadence);
	PACER_TEST_DOUBLE_EQ(p.coach.free_target.cadence_min_spm, 170);
	PACER_TEST_DOUBLE_EQ(p.coach.free_target.cadence_max_spm, 180);
	CU_ASSERT_STRING_EQUAL(p.coach.free_target.label, "cad170-180");
	CU_ASSERT_FALSE(p.coach.free_target.has_pace);
	CU_ASSERT_FALSE(p.coach.free_target.has_hr);
	CU_ASSERT_PTR_NOT_NULL_FATAL(age);
	pacer_config_to_pipeline(age, &p);
	CU_ASSERT_EQUAL(p.metrics.max_hr, 180); /* Tanaka, for TRIMP */
	CU_ASSERT_EQUAL(p.coach.hr_grace_us, 45000000);
}

/* ---- files ---- */

static void test_load_files(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *dir = g_dir_make_tmp("pacer-config-XXXXXX", NULL);
	g_autofree char *conf = g_build_filename(dir, "pacer.conf", NULL);
	g_autofree char *presets = g_build_filename(dir, "my-presets.conf", NULL);
	g_autofree char *runs = g_build_filename(dir, "runs", NULL);
	g_autofree char *ca = g_build_filename(dir, "certs", "ca.pem", NULL);
	g_autoptr(PacerConfig) c = NULL;
	g_auto(GStrv) w = NULL;

	CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
	CU_ASSERT_TRUE(g_file_set_contents(presets, "easy2 = 20min\n", -1, NULL));
	CU_ASSERT_TRUE(
		g_file_set_contents(conf,
				    "[coach]\npresets = my-presets.conf\nworkout = easy2\n"
				    "[record]\ndir = runs\n[mqtt]\nca_file = certs/./ca.pem\n",
				    -1, NULL));
	c = pacer_config_load(conf, NULL, &w, &error);
	CU_ASSERT_PTR_NULL(error);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_STRING_EQUAL(c->source, conf);
	CU_ASSERT_STRING_EQUAL(c->coach.presets_path, presets); /* relative to the file */
	CU_ASSERT_STRING_EQUAL(c->coach.preset, "easy2");
	CU_ASSERT_STRING_EQUAL(c->record.dir, runs);
	CU_ASSERT_STRING_EQUAL(c->mqtt.ca_file, ca);
	CU_ASSERT_EQUAL(g_strv_length(w), 0);
	g_unlink(conf);
	g_unlink(presets);
	g_rmdir(dir);
}

static void expect_load_error(const char *path, int code, const char *want)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(PacerConfig) c = pacer_config_load(path, PRESETS, NULL, &error);

	CU_ASSERT_PTR_NULL(c);
	assert_message(error, code, want, path);
}

static void test_load_errors(void)
{
	g_autofree char *dir = g_dir_make_tmp("pacer-config-XXXXXX", NULL);
	g_autofree char *missing = g_build_filename(dir, "missing.conf", NULL);
	g_autofree char *nul = g_build_filename(dir, "nul.conf", NULL);
	g_autofree char *bad = g_build_filename(dir, "bad.conf", NULL);
	g_autofree char *want_missing = g_strconcat(missing,
						    ": cannot read: No such file or "
						    "directory",
						    NULL);
	g_autofree char *want_dir = g_strconcat(dir, ": cannot read: Is a directory", NULL);
	g_autofree char *want_nul = g_strconcat(nul, ":2: a NUL byte: not a text file", NULL);
	g_autofree char *want_bad = g_strconcat(bad,
						":2: [dbus] bus: 'user' is not system or "
						"session",
						NULL);

	CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
	CU_ASSERT_TRUE(g_file_set_contents(nul, "[a]\nk=\0x\n", 8, NULL));
	CU_ASSERT_TRUE(g_file_set_contents(bad, "[dbus]\nbus = user\n", -1, NULL));
	expect_load_error(missing, PACER_CONFIG_ERROR_NOT_FOUND, want_missing);
	expect_load_error(dir, PACER_CONFIG_ERROR_IO, want_dir);
	expect_load_error(nul, PACER_CONFIG_ERROR_SYNTAX, want_nul);
	expect_load_error(bad, PACER_CONFIG_ERROR_INVALID, want_bad);
	g_unlink(nul);
	g_unlink(bad);
	g_rmdir(dir);
}

/* ---- config/pacer.conf ---- */

static void test_example_loads(void)
{
	g_autoptr(GError) error = NULL;
	g_auto(GStrv) w = NULL;
	g_autoptr(PacerConfig) c = pacer_config_load(EXAMPLE, PRESETS, &w, &error);

	if (error)
		fprintf(stderr, "\n%s\n", error->message);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(g_strv_length(w), 0);
	assert_defaults(c, PRESETS);
}

/* "#key = value" lines are the defaults: with every one uncommented, nothing changes. */
static void test_example_defaults_are_real(void)
{
	g_autofree char *text = NULL;
	g_autoptr(GString) on = g_string_new(NULL);
	g_autoptr(GString) seen = g_string_new("\n");
	g_autofree char *group = NULL;
	g_auto(GStrv) lines = NULL;
	g_autoptr(PacerConfig) c = NULL;

	CU_ASSERT_TRUE_FATAL(g_file_get_contents(EXAMPLE, &text, NULL, NULL));
	lines = g_strsplit(text, "\n", -1);
	for (char **l = lines; *l; l++) {
		size_t n = (*l)[0] == '#' ? strspn(*l + 1, "abcdefghijklmnopqrstuvwxyz_") : 0;
		gboolean setting =
			(*l)[0] == '#' && n > 0 && ((*l)[1 + n] == ' ' || (*l)[1 + n] == '=');

		if ((*l)[0] == '[') {
			g_free(group);
			group = g_strdup(*l);
		}
		if (setting && group)
			g_string_append_printf(seen, "%.*s/%.*s\n", (int)strlen(group) - 2,
					       group + 1, (int)n, *l + 1);
		g_string_append_printf(on, "%s\n", setting ? *l + 1 : *l);
	}
	c = load_ok(on->str);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	assert_defaults(c, PRESETS);
	for (const char *const *k = all_keys; *k; k++) {
		g_autofree char *needle = g_strconcat("\n", *k, "\n", NULL);

		if (!strstr(seen->str, needle))
			fprintf(stderr, "\nconfig/pacer.conf does not show %s\n", *k);
		CU_ASSERT_PTR_NOT_NULL(strstr(seen->str, needle));
	}
}

int main(void)
{
	static const PacerTest tests[] = {
		{"defaults", test_defaults},
		{"empty values", test_empty_values},
		{"every key", test_every_key},
		{"booleans and numbers", test_booleans_and_numbers},
		{"bad values", test_bad_values},
		{"bad values cover every key", test_bad_values_cover_keys},
		{"error lines", test_error_lines},
		{"a key given twice", test_error_lines_duplicate},
		{"escapes and UTF-8", test_escapes_and_utf8},
		{"heart rates", test_heart_rates},
		{"mqtt TLS files", test_mqtt_tls_files},
		{"syntax errors", test_syntax_errors},
		{"byte order mark", test_byte_order_mark},
		{"warnings", test_warnings},
		{"workout text", test_workout_text},
		{"workout preset", test_workout_preset},
		{"workout errors", test_workout_errors},
		{"workout without presets", test_workout_without_presets},
		{"resolve workout", test_resolve_workout},
		{"addresses", test_addresses},
		{"bridge", test_bridge},
		{"node", test_node},
		{"pipeline defaults", test_pipeline_defaults},
		{"pipeline athlete", test_pipeline_athlete},
		{"pipeline tunables", test_pipeline_tunables},
		{"load files", test_load_files},
		{"load errors", test_load_errors},
		{"config/pacer.conf loads", test_example_loads},
		{"config/pacer.conf defaults are real", test_example_defaults_are_real},
		{NULL, NULL},
	};

	return pacer_test_main("config", tests);
}
