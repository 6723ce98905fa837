/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What pacerd publishes over MQTT, byte for byte: metrics, workout, sensor
 * and status/detail payloads, command_rejected events, Home Assistant
 * discovery configs; and the validation of commands (sizes, UTF-8, verbs).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "pacer-json.h"
#include "pacer-mqtt-payload.h"
#include "pacer-workout.h"
#include "test-common.h"

static char buf[PACER_MQTT_PAYLOAD_MAX];

static PacerMetricsSnapshot empty_snapshot(void)
{
	PacerMetricsSnapshot s;

	memset(&s, 0, sizeof(s));
	s.pace_zone = -1;
	return s;
}

static PacerCoachStatus idle_status(void)
{
	PacerCoachStatus st;

	memset(&st, 0, sizeof(st));
	st.state = PACER_COACH_IDLE;
	st.step = -1;
	st.step_remaining = -1;
	return st;
}

static void parse_plan(const char *text, PacerPlan *plan)
{
	PacerWorkoutContext ctx = {0};
	PacerWorkoutError err;

	CU_ASSERT_EQUAL_FATAL(pacer_workout_parse(text, &ctx, plan, &err), 0);
}

/* Every shorter buffer is refused as a whole, never cut. */
static void check_truncations(int (*write)(char *b, size_t cap), int full)
{
	char small[PACER_MQTT_PAYLOAD_MAX];

	for (int cap = 0; cap <= full; cap++)
		CU_ASSERT_EQUAL(write(small, (size_t)cap), -ENOBUFS);
	CU_ASSERT_EQUAL(write(small, (size_t)full + 1), full);
}

/* ---- metrics ---- */

static void test_metrics_unknown(void)
{
	PacerMetricsSnapshot s = empty_snapshot();
	PacerCoachStatus st = idle_status();
	int n = pacer_mqtt_metrics_json(&s, &st, NULL, 0, buf, sizeof(buf));

	CU_ASSERT_EQUAL((size_t)n, strlen(buf));
	CU_ASSERT_STRING_EQUAL(buf, "{\"elapsed_s\":null,\"distance_m\":null,\"speed_mps\":null,"
				    "\"pace_s_per_km\":null,\"cadence_spm\":null,\"stride_m\":null,"
				    "\"hr_bpm\":null,\"hr_zone\":null,\"pace_zone\":null,\"rr_ms\":[],"
				    "\"rmssd_ms\":null,\"incline_pct\":null,\"step\":null}");
}

static PacerPlan plan_;

static void running(PacerMetricsSnapshot *s, PacerCoachStatus *st, size_t step)
{
	*s = empty_snapshot();
	s->has_speed = true;
	s->speed_mps = 4.16666;
	s->has_pace = true;
	s->pace_s_per_km = 240.0;
	s->has_cadence = true;
	s->cadence_spm = 178.26;
	s->has_stride = true;
	s->stride_m = 1.4026;
	s->has_hr = true;
	s->hr_bpm = 171;
	s->hr_zone = 4;
	s->pace_zone = PACER_PACE_I;
	s->has_rmssd = true;
	s->rmssd_ms = 12.34;
	s->has_incline = true;
	s->incline_pct = -1.5;
	*st = idle_status();
	st->state = PACER_COACH_RUNNING;
	st->step = (int)step;
	st->n_steps = plan_.n_steps;
	st->current = &plan_.steps[step];
	st->elapsed_s = 754.28;
	st->distance_m = 2503.46;
	st->step_remaining = 123.46;
}

static void test_metrics_running(void)
{
	static const double rr[] = {351.5625, 350.0, 349.609375};
	PacerMetricsSnapshot s;
	PacerCoachStatus st;

	parse_plan("10min, 4x(400m@4:00/km+cad170-185, 2min rest)", &plan_);
	running(&s, &st, 1);
	pacer_mqtt_metrics_json(&s, &st, rr, 3, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(
		buf, "{\"elapsed_s\":754.3,\"distance_m\":2503.5,\"speed_mps\":4.167,"
		     "\"pace_s_per_km\":240,\"cadence_spm\":178.3,\"stride_m\":1.403,\"hr_bpm\":171,"
		     "\"hr_zone\":4,\"pace_zone\":\"I\",\"rr_ms\":[351.6,350,349.6],\"rmssd_ms\":12.3,"
		     "\"incline_pct\":-1.5,\"step\":{\"index\":1,\"kind\":\"run\",\"rep\":1,"
		     "\"reps\":4,\"target\":{\"label\":\"4:00/km+cad170-185\","
		     "\"pace_s_per_km\":[235.2,244.8],\"hr_bpm\":null,\"cadence_spm\":[170,185],"
		     "\"hill\":false},\"remaining_m\":123.5}}");

	/* a timed step without a target, and a step that never ends by itself */
	running(&s, &st, 2);
	pacer_mqtt_metrics_json(&s, &st, NULL, 0, buf, sizeof(buf));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "\"step\":{\"index\":2,\"kind\":\"rest\",\"rep\":1,"
					   "\"reps\":4,\"target\":null,\"remaining_s\":123.5}}"));
	st.step_remaining = -1;
	pacer_mqtt_metrics_json(&s, &st, NULL, 0, buf, sizeof(buf));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "\"remaining_s\":null}}"));

	/* a free run: no step; paused: the workout's numbers stay */
	st.current = NULL;
	st.free_run = true;
	st.state = PACER_COACH_PAUSED;
	pacer_mqtt_metrics_json(&s, &st, NULL, 0, buf, sizeof(buf));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "\"step\":null}"));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "{\"elapsed_s\":754.3,\"distance_m\":2503.5,"));

	/* zone 0 (below zone 1) and a HR zone without a HR are unknown */
	s.hr_zone = 0;
	pacer_mqtt_metrics_json(&s, &st, NULL, 0, buf, sizeof(buf));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "\"hr_bpm\":171,\"hr_zone\":null,"));
	s.hr_zone = 3;
	s.has_hr = false;
	pacer_mqtt_metrics_json(&s, &st, NULL, 0, buf, sizeof(buf));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "\"hr_bpm\":null,\"hr_zone\":null,"));
	/* a value that is not a number is unknown too */
	s.has_speed = true;
	s.speed_mps = NAN;
	pacer_mqtt_metrics_json(&s, &st, NULL, 0, buf, sizeof(buf));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "\"speed_mps\":null,"));
}

static double many_rr[PACER_MQTT_MAX_RR];

static int write_full_metrics(char *b, size_t cap)
{
	PacerMetricsSnapshot s;
	PacerCoachStatus st;

	running(&s, &st, 1);
	return pacer_mqtt_metrics_json(&s, &st, many_rr, PACER_MQTT_MAX_RR, b, cap);
}

static void test_metrics_sizes(void)
{
	int full;

	parse_plan("3x(1km@4:10-4:20/km+cad175-185+hr150-170, 400m jog)", &plan_);
	for (size_t i = 0; i < PACER_MQTT_MAX_RR; i++)
		many_rr[i] = 1999.0234375 - (double)i;
	/* the longest message fits in PACER_MQTT_PAYLOAD_MAX */
	full = write_full_metrics(buf, sizeof(buf));
	CU_ASSERT_TRUE_FATAL(full > 0);
	CU_ASSERT_TRUE(full < PACER_MQTT_PAYLOAD_MAX);
	check_truncations(write_full_metrics, full);
}

/* ---- workout, sensors, detail ---- */

static void test_workout(void)
{
	PacerMetricsSnapshot s;
	PacerCoachStatus st = idle_status();

	pacer_mqtt_workout_json(&st, "ignored while idle", buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "{\"state\":\"idle\",\"free_run\":false,\"workout\":\"ignored "
				    "while idle\",\"step\":null,\"n_steps\":null,\"current\":null,"
				    "\"elapsed_s\":null,\"distance_m\":null}");
	pacer_mqtt_workout_json(&st, NULL, buf, sizeof(buf));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "\"workout\":null,"));

	parse_plan("10min, 2x(400m@4:00/km, 2min rest)", &plan_);
	running(&s, &st, 1);
	pacer_mqtt_workout_json(&st, "10min, 2x(400m@4:00/km, 2min rest)", buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(
		buf, "{\"state\":\"running\",\"free_run\":false,\"workout\":\"10min, 2x(400m@4:00/km, "
		     "2min rest)\",\"step\":1,\"n_steps\":5,\"current\":{\"index\":1,\"kind\":\"run\","
		     "\"distance_m\":400,\"target\":{\"label\":\"4:00/km\",\"pace_s_per_km\":[235.2,"
		     "244.8],\"hr_bpm\":null,\"cadence_spm\":null,\"hill\":false},\"rep\":1,"
		     "\"reps\":2},\"elapsed_s\":754.3,\"distance_m\":2503.5}");

	st.current = NULL;
	st.free_run = true;
	pacer_mqtt_workout_json(&st, "a text a free run does not have", buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "{\"state\":\"running\",\"free_run\":true,\"workout\":null,"
				    "\"step\":1,\"n_steps\":null,\"current\":null,"
				    "\"elapsed_s\":754.3,\"distance_m\":2503.5}");
}

static void test_sensor(void)
{
	PacerMqttSensor s = {.address = "C0:FF:EE:00:00:01", .name = "Polar H10 \"A1\"",
			     .kind = PACER_SENSOR_HEART_RATE, .connected = true, .battery = 85,
			     .rssi = -61};

	pacer_mqtt_sensor_json(&s, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "{\"address\":\"C0:FF:EE:00:00:01\",\"name\":\"Polar H10 "
				    "\\\"A1\\\"\",\"kind\":\"heart_rate\",\"connected\":true,"
				    "\"battery\":85,\"rssi\":-61}");
	s.name = "";
	s.kind = PACER_SENSOR_TREADMILL;
	s.connected = false;
	s.battery = -1;
	s.rssi = 0;
	pacer_mqtt_sensor_json(&s, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "{\"address\":\"C0:FF:EE:00:00:01\",\"name\":null,"
				    "\"kind\":\"treadmill\",\"connected\":false,\"battery\":null,"
				    "\"rssi\":null}");
	s.battery = 0; /* an empty battery is known */
	pacer_mqtt_sensor_json(&s, buf, sizeof(buf));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "\"battery\":0,"));
}

static void test_detail(void)
{
	PacerMqttDetail d = {.version = "0.1.0", .queue_size = 10000, .queued = 12,
			     .dropped_events = 3, .dropped_metrics = 40, .dropped_raw = 5, .connects = 2};

	pacer_mqtt_detail_json(&d, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "{\"status\":\"online\",\"version\":\"0.1.0\","
				    "\"queue_size\":10000,\"queued\":12,\"dropped_events\":3,"
				    "\"dropped_metrics\":40,\"dropped_raw\":5,\"connects\":2}");
}

/* ---- commands ---- */

static int parse(const char *verb, const char *payload, size_t len, PacerMqttVerb *v, char *text)
{
	return pacer_mqtt_command_parse(verb, (const uint8_t *)payload, len, v, text,
					PACER_MQTT_COMMAND_MAX + 1);
}

static void test_command_verbs(void)
{
	static const char *const names[] = {"start", "stop", "lap", "pause", "resume"};
	char text[PACER_MQTT_COMMAND_MAX + 1];
	PacerMqttVerb v;

	for (int i = 0; i < 5; i++) {
		CU_ASSERT_EQUAL(parse(names[i], "", 0, &v, text), 0);
		CU_ASSERT_EQUAL((int)v, i);
		CU_ASSERT_STRING_EQUAL(pacer_mqtt_verb_to_string(v), names[i]);
		CU_ASSERT_STRING_EQUAL(text, "");
	}
	CU_ASSERT_EQUAL(parse("START", "", 0, &v, text), -ENOENT);
	CU_ASSERT_EQUAL(parse("start/now", "", 0, &v, text), -ENOENT);
	CU_ASSERT_EQUAL(parse("", "", 0, &v, text), -ENOENT);
	CU_ASSERT_EQUAL(parse("reboot", "now", 3, &v, text), -ENOENT);
	CU_ASSERT_EQUAL(parse("sto", "", 0, &v, text), -ENOENT);
	CU_ASSERT_EQUAL(parse("stopp", "", 0, &v, text), -ENOENT);
	/* the other verbs ignore their payload, whatever it is */
	CU_ASSERT_EQUAL(parse("stop", "\xff\x00\x01garbage", 10, &v, text), 0);
	CU_ASSERT_EQUAL(v, PACER_MQTT_VERB_STOP);
	CU_ASSERT_EQUAL(pacer_mqtt_command_parse("lap", NULL, 0, &v, text, sizeof(text)), 0);
	CU_ASSERT_EQUAL(pacer_mqtt_command_parse("lap", NULL, 3, &v, text, sizeof(text)), -EINVAL);
	CU_ASSERT_STRING_EQUAL(pacer_mqtt_command_error_reason(-ENOENT), "unknown_verb");
	CU_ASSERT_STRING_EQUAL(pacer_mqtt_command_error_reason(-E2BIG), "payload_too_large");
	CU_ASSERT_STRING_EQUAL(pacer_mqtt_command_error_reason(-EILSEQ), "not_text");
}

static void test_command_start_text(void)
{
	static char big[PACER_MQTT_COMMAND_MAX + 2];
	char text[PACER_MQTT_COMMAND_MAX + 1];
	const char *messy;
	PacerMqttVerb v;

	CU_ASSERT_EQUAL(parse("start", "intervals", 9, &v, text), 0);
	CU_ASSERT_EQUAL(v, PACER_MQTT_VERB_START);
	CU_ASSERT_STRING_EQUAL(text, "intervals");
	/* spaces around go, tabs and line breaks between steps become spaces */
	messy = " \r\n10min@E,\n\t3x(1km@T, 2min rest)\r\n ";
	CU_ASSERT_EQUAL(parse("start", messy, strlen(messy), &v, text), 0);
	CU_ASSERT_STRING_EQUAL(text, "10min@E,  3x(1km@T, 2min rest)");
	CU_ASSERT_EQUAL(parse("start", "   ", 3, &v, text), 0);
	CU_ASSERT_STRING_EQUAL(text, "");
	/* UTF-8 is text */
	CU_ASSERT_EQUAL(parse("start", "30min \xc3\xa9\xe2\x82\xac\xf0\x9f\x8f\x83", 15, &v, text), 0);
	/* other control characters, NUL included, and broken UTF-8 are not */
	CU_ASSERT_EQUAL(parse("start", "10min\x01", 6, &v, text), -EILSEQ);
	CU_ASSERT_EQUAL(parse("start", "10m\0in", 6, &v, text), -EILSEQ);
	CU_ASSERT_EQUAL(parse("start", "10min\x7f", 6, &v, text), -EILSEQ);
	CU_ASSERT_EQUAL(parse("start", "\x1b[2J", 4, &v, text), -EILSEQ);
	CU_ASSERT_EQUAL(parse("start", "\xff\xfe", 2, &v, text), -EILSEQ);
	CU_ASSERT_EQUAL(parse("start", "10min\xc3", 6, &v, text), -EILSEQ);
	/* at most PACER_MQTT_COMMAND_MAX octets, for every verb */
	memset(big, 'x', sizeof(big));
	CU_ASSERT_EQUAL(parse("start", big, PACER_MQTT_COMMAND_MAX, &v, text), 0);
	CU_ASSERT_EQUAL(strlen(text), PACER_MQTT_COMMAND_MAX);
	CU_ASSERT_EQUAL(parse("start", big, PACER_MQTT_COMMAND_MAX + 1, &v, text), -E2BIG);
	CU_ASSERT_EQUAL(parse("stop", big, PACER_MQTT_COMMAND_MAX + 1, &v, text), -E2BIG);
	/* a longer message need not be there: its length alone refuses it */
	CU_ASSERT_EQUAL(parse("start", big, 100000000, &v, text), -E2BIG);
	/* and an unknown verb is unknown, whatever its payload */
	CU_ASSERT_EQUAL(parse("shutdown", big, 100000000, &v, text), -ENOENT);
	/* a text buffer too small for the text */
	CU_ASSERT_EQUAL(pacer_mqtt_command_parse("start", (const uint8_t *)"10min", 5, &v, text, 5),
			-E2BIG);
}

static void test_utf8(void)
{
	static const struct {
		const char *s;
		bool valid;
	} cases[] = {
		{"", true},
		{"plain ascii", true},
		{"\xc2\x80", true},
		{"\xdf\xbf", true},
		{"\xe0\xa0\x80", true},
		{"\xed\x9f\xbf", true},
		{"\xef\xbf\xbd", true},
		{"\xf0\x90\x80\x80", true},
		{"\xf4\x8f\xbf\xbf", true},
		{"\x80", false},		 /* a continuation alone */
		{"\xc0\xaf", false},		 /* overlong '/' */
		{"\xc1\xbf", false},		 /* overlong */
		{"\xe0\x80\xaf", false},	 /* overlong */
		{"\xf0\x80\x80\xaf", false},	 /* overlong */
		{"\xed\xa0\x80", false},	 /* a surrogate */
		{"\xf4\x90\x80\x80", false},	 /* above U+10FFFF */
		{"\xf5\x80\x80\x80", false},
		{"\xc3", false},		 /* cut */
		{"\xe2\x82", false},		 /* cut */
		{"\xe2\x28\xa1", false},	 /* a bad continuation */
		{"\xfe", false},
		/* after runs of ASCII (read eight octets at a time) */
		{"abcdefgh", true},
		{"abcdefghijklmnopq", true},
		{"abcdefg\xc3\xa9hijklmnopq", true},
		{"abcdefghijklmnop\xf0\x90\x80\x80", true},
		{"abcdefghijklmnop\x80", false},
		{"abcdefgh\xe2\x82", false},
		{"abcdefghijklmno\xed\xa0\x80xyz", false},
		{"abcdefghijklmnopqrstuvw\xfe", false},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CU_ASSERT_EQUAL(pacer_utf8_valid((const uint8_t *)cases[i].s, strlen(cases[i].s)),
				cases[i].valid);
}

static void test_rejected(void)
{
	PacerMetricsSnapshot s;
	PacerCoachStatus st = idle_status();
	char verb[200];

	pacer_mqtt_rejected_json("start", "busy", "cannot start: a workout is already running", &st,
				 buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "{\"type\":\"command_rejected\",\"seq\":null,\"elapsed_s\":null,"
				    "\"step\":null,\"message\":\"cannot start: a workout is already "
				    "running\",\"verb\":\"start\",\"reason\":\"busy\"}");
	parse_plan("10min, 2x(400m@4:00/km, 2min rest)", &plan_);
	running(&s, &st, 2);
	pacer_mqtt_rejected_json("p\"wn\n", "unknown_verb", "Unknown.", &st, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "{\"type\":\"command_rejected\",\"seq\":null,\"elapsed_s\":754.3,"
				    "\"step\":2,\"message\":\"Unknown.\",\"verb\":\"p\\\"wn\\n\","
				    "\"reason\":\"unknown_verb\"}");
	/* not UTF-8: no verb */
	pacer_mqtt_rejected_json("\xff\xfe", "unknown_verb", "Unknown.", &st, buf, sizeof(buf));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "\"verb\":null,"));
	/* long: cut at 64 octets, at a character boundary (63 + a 2-octet character is 65) */
	memset(verb, 'v', 63);
	strcpy(verb + 63, "\xc3\xa9tail");
	pacer_mqtt_rejected_json(verb, "unknown_verb", "Unknown.", &st, buf, sizeof(buf));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "vvvv\",\"reason\""));
	memset(verb, 'w', 150);
	verb[150] = '\0';
	pacer_mqtt_rejected_json(verb, "unknown_verb", "Unknown.", &st, buf, sizeof(buf));
	/* exactly 64 of them */
	memcpy(verb, "\"verb\":\"", 8);
	memset(verb + 8, 'w', 64);
	strcpy(verb + 72, "\",");
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, verb));
	pacer_mqtt_rejected_json(NULL, NULL, NULL, &st, buf, sizeof(buf));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "\"message\":\"\",\"verb\":null,\"reason\":\"invalid\"}"));
}

/* ---- Home Assistant ---- */

static const PacerMqttHaDevice ha_device = {
	.node = "pi.local", .base = "pacer/pi.local", .ha_prefix = "homeassistant",
	.sw_version = "0.1.0"};

static void test_ha_hr(void)
{
	const PacerMqttHaEntity *hr = NULL;

	for (size_t i = 0; i < pacer_mqtt_ha_n_entities(); i++) {
		if (strcmp(pacer_mqtt_ha_entity(i)->id, "hr") == 0)
			hr = pacer_mqtt_ha_entity(i);
	}
	CU_ASSERT_PTR_NOT_NULL_FATAL(hr);
	CU_ASSERT_PTR_NULL(pacer_mqtt_ha_entity(pacer_mqtt_ha_n_entities()));
	/* HA's ids allow [a-zA-Z0-9_-] only */
	CU_ASSERT_TRUE(pacer_mqtt_ha_config_topic(&ha_device, hr, buf, sizeof(buf)) > 0);
	CU_ASSERT_STRING_EQUAL(buf, "homeassistant/sensor/pi_local/hr/config");
	CU_ASSERT_EQUAL(pacer_mqtt_ha_config_topic(&ha_device, hr, buf, 20), -ENOBUFS);
	pacer_mqtt_ha_config_json(&ha_device, hr, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(
		buf, "{\"name\":\"Heart rate\",\"unique_id\":\"pacer_pi_local_hr\","
		     "\"object_id\":\"pacer_pi_local_hr\",\"state_topic\":\"pacer/pi.local/metrics\","
		     "\"value_template\":\"{{ value_json.hr_bpm }}\",\"unit_of_measurement\":\"bpm\","
		     "\"state_class\":\"measurement\",\"icon\":\"mdi:heart-pulse\","
		     "\"availability_topic\":\"pacer/pi.local/status\",\"payload_available\":\"online\","
		     "\"payload_not_available\":\"offline\",\"device\":{\"identifiers\":"
		     "[\"pacer_pi_local\"],\"name\":\"Pacer pi.local\",\"manufacturer\":\"Pacer\","
		     "\"model\":\"pacerd\",\"sw_version\":\"0.1.0\"}}");
}

/* Every entity: a config with what HA's MQTT sensor needs, on a key the state topic has. */
static void test_ha_entities(void)
{
	PacerMetricsSnapshot s;
	PacerCoachStatus st;
	char metrics[PACER_MQTT_PAYLOAD_MAX], workout[PACER_MQTT_PAYLOAD_MAX];
	static const char *const keys[] = {"\"name\":",
					   "\"unique_id\":\"pacer_pi_local_",
					   "\"state_topic\":\"pacer/pi.local/",
					   "\"value_template\":\"{{ value_json.",
					   "\"availability_topic\":\"pacer/pi.local/status\"",
					   "\"payload_available\":\"online\"",
					   "\"payload_not_available\":\"offline\"",
					   "\"device\":{\"identifiers\":[\"pacer_pi_local\"]"};

	parse_plan("10min, 2x(400m@4:00/km, 2min rest)", &plan_);
	running(&s, &st, 1);
	pacer_mqtt_metrics_json(&s, &st, NULL, 0, metrics, sizeof(metrics));
	pacer_mqtt_workout_json(&st, "10min", workout, sizeof(workout));
	CU_ASSERT_TRUE(pacer_mqtt_ha_n_entities() >= 12);
	for (size_t i = 0; i < pacer_mqtt_ha_n_entities(); i++) {
		const PacerMqttHaEntity *e = pacer_mqtt_ha_entity(i);
		const char *state = strcmp(e->topic, "metrics") == 0 ? metrics : workout;
		const char *key = strstr(e->value_template, "value_json.");
		char quoted[64];
		size_t n = 0;

		CU_ASSERT_TRUE(pacer_mqtt_ha_config_json(&ha_device, e, buf, sizeof(buf)) > 0);
		for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
			CU_ASSERT_PTR_NOT_NULL(strstr(buf, keys[k]));
		CU_ASSERT_TRUE(strcmp(e->topic, "metrics") == 0 || strcmp(e->topic, "workout") == 0);
		/* a unit and a device class HA knows go together; measurements have a unit or are counts */
		if (e->device_class)
			CU_ASSERT_PTR_NOT_NULL(e->unit);
		CU_ASSERT_EQUAL(strstr(buf, "\"unit_of_measurement\"") != NULL, e->unit != NULL);
		CU_ASSERT_EQUAL(strstr(buf, "\"device_class\"") != NULL, e->device_class != NULL);
		CU_ASSERT_EQUAL(strstr(buf, "\"state_class\"") != NULL, e->state_class != NULL);
		/* the template reads a member the state topic has */
		CU_ASSERT_PTR_NOT_NULL_FATAL(key);
		key += strlen("value_json.");
		quoted[n++] = '"';
		while (key[n - 1] && (key[n - 1] == '_' || (key[n - 1] >= 'a' && key[n - 1] <= 'z')))
			quoted[n] = key[n - 1], n++;
		quoted[n++] = '"';
		quoted[n++] = ':';
		quoted[n] = '\0';
		CU_ASSERT_PTR_NOT_NULL(strstr(state, quoted));
	}
}

/* ---- reading back ---- */

static void test_json_get_string(void)
{
	static const char *const texts[] = {
		"10min@E, 4x(400m@5k, 2min rest), 10min@E",
		"quote \" backslash \\ slash / tab \t line \n cr \r ctl \x01\x1f",
		"caf\xc3\xa9 \xf0\x9f\x8f\x83",
		"",
	};
	char json[512], out[256];
	PacerJson j;

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		pacer_json_init(&j, json, sizeof(json));
		pacer_json_begin_object(&j);
		pacer_json_key(&j, "message");
		pacer_json_string(&j, "a \"workout\":\"decoy\" in a message");
		pacer_json_key(&j, "workout");
		pacer_json_string(&j, texts[i]);
		pacer_json_end_object(&j);
		CU_ASSERT_TRUE_FATAL(pacer_json_finish(&j) > 0);
		CU_ASSERT_EQUAL(pacer_mqtt_json_get_string(json, "workout", out, sizeof(out)),
				(int)strlen(texts[i]));
		CU_ASSERT_STRING_EQUAL(out, texts[i]);
	}
	CU_ASSERT_EQUAL(pacer_mqtt_json_get_string("{\"workout\":null}", "workout", out, sizeof(out)),
			-ENOENT);
	CU_ASSERT_EQUAL(pacer_mqtt_json_get_string("{\"other\":\"x\"}", "workout", out, sizeof(out)),
			-ENOENT);
	CU_ASSERT_EQUAL(pacer_mqtt_json_get_string("{\"workout\":\"abcdef\"}", "workout", out, 6),
			-ENOBUFS);
	CU_ASSERT_EQUAL(pacer_mqtt_json_get_string("{\"workout\":\"abcdef\"}", "workout", out, 7), 6);
	CU_ASSERT_EQUAL(pacer_mqtt_json_get_string("{\"workout\":\"ab", "workout", out, sizeof(out)),
			-EBADMSG);
	CU_ASSERT_EQUAL(pacer_mqtt_json_get_string("{\"workout\":\"\\x\"}", "workout", out,
						   sizeof(out)),
			-EBADMSG);
	CU_ASSERT_EQUAL(pacer_mqtt_json_get_string("{\"workout\":\"\\u12\"}", "workout", out,
						   sizeof(out)),
			-EBADMSG);
	CU_ASSERT_EQUAL(pacer_mqtt_json_get_string("{\"workout\":\"\\ud800\"}", "workout", out,
						   sizeof(out)),
			-EBADMSG);
	CU_ASSERT_EQUAL(pacer_mqtt_json_get_string("{\"workout\":\"\\u00e9\\u20ac\"}", "workout",
						   out, sizeof(out)),
			5);
	CU_ASSERT_STRING_EQUAL(out, "\xc3\xa9\xe2\x82\xac");
}

int main(void)
{
	static const PacerTest tests[] = {
		{"metrics: every value unknown", test_metrics_unknown},
		{"metrics: running, steps, units", test_metrics_running},
		{"metrics: the largest message, and every truncation", test_metrics_sizes},
		{"workout state", test_workout},
		{"sensor state", test_sensor},
		{"status/detail", test_detail},
		{"commands: verbs", test_command_verbs},
		{"commands: start's text", test_command_start_text},
		{"UTF-8", test_utf8},
		{"command_rejected events", test_rejected},
		{"Home Assistant: the heart-rate entity", test_ha_hr},
		{"Home Assistant: every entity", test_ha_entities},
		{"reading a string member back", test_json_get_string},
		{NULL, NULL},
	};

	return pacer_test_main("mqtt-payload", tests);
}
