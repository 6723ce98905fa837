/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * pacerd's configuration: a GKeyFile (/etc/pacer/pacer.conf, DESIGN.md
 * section 8) read into a plain, validated struct. config/pacer.conf documents
 * every key and its default.
 *
 * Every key is optional, and an empty value means the key's default (except
 * [record] formats, where it means "record nothing"). Numbers are parsed
 * strictly (the whole value, in range), booleans are true/false (also
 * yes/no, on/off, 1/0). Relative paths are taken relative to the directory of
 * the configuration file.
 *
 * Errors are one line, "FILE:LINE: [group] key: what is wrong", with LINE the
 * 1-based line of the key in the file (of the last one when a key is given
 * twice: that value is the one used), e.g.
 *
 *     /etc/pacer/pacer.conf:4: [athlete] max_hr: 300 is out of range (25-250)
 *     pacer.conf:31: [coach] workout: column 21: expected ',' between steps
 *     pacer.conf:7: 'max_hr 190': not a key = value pair, a [group] or a # comment
 *
 * Unknown groups and keys, and keys given twice, are not errors: they are
 * returned as warnings of the same form ("FILE:LINE: [group] key: unknown
 * key, ignored").
 */

#include <glib.h>
#include <stdbool.h>

#include "pacer-metrics.h"
#include "pacer-pipeline.h"
#include "pacer-workout.h"
#include "pacer-zones.h"

G_BEGIN_DECLS

#define PACER_CONFIG_ERROR (pacer_config_error_quark())

typedef enum {
	PACER_CONFIG_ERROR_NOT_FOUND, /* the file does not exist (a default file may be optional) */
	PACER_CONFIG_ERROR_IO,	      /* the file exists but cannot be read */
	PACER_CONFIG_ERROR_SYNTAX,    /* not a key file: a line that is no group, key or comment */
	PACER_CONFIG_ERROR_INVALID,   /* a value that is wrong, or values that do not agree */
} PacerConfigError;

GQuark pacer_config_error_quark(void);

typedef enum {
	PACER_CONFIG_SENSOR_AUTO,    /* the first sensor of the kind that shows up */
	PACER_CONFIG_SENSOR_NONE,    /* never use a sensor of this kind */
	PACER_CONFIG_SENSOR_ADDRESS, /* only this one */
} PacerConfigSensorMode;

#define PACER_CONFIG_MAX_BRIDGE 29 /* with the three of the runner: 32 sensors */

typedef struct {
	PacerConfigSensorMode mode;
	char address[18]; /* "AA:BB:CC:DD:EE:FF", upper case, for ADDRESS; else "" */
} PacerConfigSensor;

typedef enum {
	PACER_CONFIG_UNITS_METRIC,
	PACER_CONFIG_UNITS_IMPERIAL,
} PacerConfigUnits;

typedef enum {
	PACER_CONFIG_BUS_SYSTEM,
	PACER_CONFIG_BUS_SESSION,
} PacerConfigBus;

/*
 * Strings are owned by the struct (NULL where the comment says "none").
 * Times are seconds, distances metres, as in the file.
 */
typedef struct PacerConfig {
	char *source; /* the file (or name) the configuration came from, for messages */

	struct {
		int max_hr, resting_hr, lthr, age; /* 0 when not given */
		PacerSex sex;
		bool has_race; /* race = DIST=TIME */
		double race_distance_m;
		double race_time_s;
		bool has_hr_zones; /* from max_hr, resting_hr, lthr, age */
		PacerHrZones hr_zones;
		bool has_pace_zones; /* from race */
		PacerPaceZones pace_zones;
	} athlete;

	struct {
		char *adapter; /* "hciN" (/org/bluez/hciN); NULL: the first powered adapter */
		PacerConfigSensor heart_rate, footpod, treadmill;
		/* further sensors, connected and published raw, never the runner's */
		char bridge[PACER_CONFIG_MAX_BRIDGE][18];
		unsigned n_bridge;
	} sensors;

	struct {
		double calibration; /* 0.5-1.5 */
		bool auto_calibrate;
		PacerCadenceUnit cadence_unit;
	} footpod;

	struct {
		char *workout;	    /* as written; NULL: a free run */
		char *preset;	    /* the preset's name when workout names one, else NULL */
		char *workout_text; /* the workout itself (the preset's text); NULL: free run */
		PacerPlan *plan;    /* workout_text parsed for the athlete; NULL: free run */
		char *presets_path; /* the presets file, never NULL */
		bool auto_start, auto_pause;
		double split_m;
		PacerConfigUnits units;
		double grace_s, hr_grace_s, off_target_s, cooldown_s, countdown_s, countdown_m;
		bool has_cadence_target; /* the free run's cadence band */
		double cadence_min_spm, cadence_max_spm;
		bool hr_alerts;
	} coach;

	struct {
		bool enabled;
		char *uri;	  /* tcp:// ssl:// ws:// wss:// mqtt:// mqtts:// */
		char *node;	  /* no '/', '+', '#', spaces or control characters */
		char *base_topic; /* topics are base_topic/node/...; no '+', '#' */
		char *username;	  /* NULL: none */
		/* paths, NULL: none; whether the files exist is not checked here */
		char *password_file, *ca_file, *cert_file, *key_file;
		double interval_s; /* 0.2-60 */
		int queue_size;	   /* 10-1000000 messages */
		bool ha_discovery;
		char *ha_prefix;
		bool commands;
		bool raw; /* every notification, decoded, on raw/<address> */
	} mqtt;

	struct {
		bool enabled;
		PacerConfigBus bus;
	} dbus;

	struct {
		char *dir;
		bool fit, tcx; /* both false: record nothing */
		int keep;      /* runs kept, the oldest deleted first; 0: all */
	} record;
} PacerConfig;

/* The configuration file and presets file pacerd reads by default (from meson). */
const char *pacer_config_default_path(void);
const char *pacer_config_default_presets_path(void);

/* Every key at its default; the MQTT node is the sanitised host name. */
PacerConfig *pacer_config_new_defaults(void);

void pacer_config_free(PacerConfig *c);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(PacerConfig, pacer_config_free)

/*
 * Reads and validates the file at `path`. `presets_path` is the presets file
 * used when the file has no [coach] presets key; NULL for
 * pacer_config_default_presets_path(). On success *ret_warnings (when not
 * NULL) gets the warnings as a NULL-terminated array, possibly empty; with
 * ret_warnings NULL they are logged with g_warning(). Returns NULL with
 * `error` set (PACER_CONFIG_ERROR) on failure; a file that does not exist is
 * PACER_CONFIG_ERROR_NOT_FOUND, so a caller can treat a missing default file
 * as "all defaults".
 */
PacerConfig *pacer_config_load(const char *path, const char *presets_path, GStrv *ret_warnings,
			       GError **error);

/*
 * The same for the text of a file; `name` stands for the file in messages,
 * and relative paths are taken relative to its directory when it has one
 * (else they are kept as written).
 */
PacerConfig *pacer_config_load_data(const char *data, const char *name, const char *presets_path,
				    GStrv *ret_warnings, GError **error);

/*
 * A host name made fit for an MQTT topic level: '/', '+', '#', spaces and
 * control characters become '_'; an empty name becomes "pacer". Free with g_free().
 */
char *pacer_config_sanitize_node(const char *hostname);

/*
 * The pipeline configuration the file asks for: pacer_pipeline_config_init()
 * defaults, with the athlete's zones, max and resting HR and sex (TRIMP), the
 * footpod's calibration and cadence unit, the coach's tunables, the free
 * run's cadence band and imperial units. hr_alerts = false sets hr_grace_us to
 * UINT64_MAX (heart-rate targets are never judged). infer_sensor_events stays
 * at its default, for the caller to set.
 */
void pacer_config_to_pipeline(const PacerConfig *c, PacerPipelineConfig *ret);

/* The athlete's zones for pacer_workout_parse(); pointers into `c`. */
PacerWorkoutContext pacer_config_workout_context(const PacerConfig *c);

/*
 * Resolves a workout as [coach] workout is resolved (D-Bus Start, commands):
 * the workout of the preset named `workout` in c->coach.presets_path (read
 * now; a missing file means no presets), else `workout` itself, parsed
 * against the athlete's zones. On success fills *ret_plan, and *ret_text (the
 * workout's text) and *ret_preset (the preset's name or NULL) when not NULL.
 * On failure sets a PACER_CONFIG_ERROR_INVALID error such as "column 7:
 * expected a unit after the number (s, sec, min, h, m, km, mi)".
 */
gboolean pacer_config_resolve_workout(const PacerConfig *c, const char *workout,
				      PacerPlan *ret_plan, char **ret_text, char **ret_preset,
				      GError **error);

G_END_DECLS
