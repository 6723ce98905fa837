/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * pacer-config: a GKeyFile read into a PacerConfig.
 *
 * One table of keys drives reading, range checks and the unknown-key
 * warnings; the checks that involve several keys (heart rates, TLS files,
 * the queued workout) run once every key is read. GKeyFile keeps no line
 * numbers, so the text is indexed once into (group, key, line) entries for
 * the messages.
 *
 * PACER_CONFIG_PATH and PACER_PRESETS_PATH (the installed files) come from
 * meson.
 */

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "pacer-capture.h"
#include "pacer-config.h"
#include "pacer-presets.h"

#ifndef PACER_CONFIG_PATH
#define PACER_CONFIG_PATH "/etc/pacer/pacer.conf"
#endif
#ifndef PACER_PRESETS_PATH
#define PACER_PRESETS_PATH "/etc/pacer/presets.conf"
#endif

#define MESSAGE_TEXT_MAX 60 /* characters of a line or value quoted in a message */
#define UTF8_BOM	 "\xef\xbb\xbf"

/* clang-format off */
G_DEFINE_QUARK(pacer-config-error-quark, pacer_config_error)
/* clang-format on */

const char *pacer_config_default_path(void)
{
	return PACER_CONFIG_PATH;
}

/* The installed presets, or the source tree's when pacerd runs from its build directory. */
const char *pacer_config_default_presets_path(void)
{
#ifdef PACER_PRESETS_SOURCE_PATH
	if (!g_file_test(PACER_PRESETS_PATH, G_FILE_TEST_EXISTS))
		return PACER_PRESETS_SOURCE_PATH;
#endif
	return PACER_PRESETS_PATH;
}

/* ---- the text's groups and keys, with their lines ---- */

typedef struct {
	char *group;
	char *key; /* NULL for a group header */
	guint line;
} Entry;

static void entry_free(Entry *e)
{
	g_free(e->group);
	g_free(e->key);
	g_free(e);
}

/* One line of a text that GKeyFile has accepted. */
static void index_line(GPtrArray *entries, char **group, const char *p, size_t len, guint line)
{
	g_autofree char *text = g_strndup(p, len);
	char *s = g_strstrip(text), *end;
	Entry *e;

	if (s[0] == '\0' || s[0] == '#')
		return;
	if (s[0] == '[') {
		end = strchr(s, ']');
		g_free(*group);
		*group = g_strndup(s + 1, end ? (size_t)(end - s - 1) : strlen(s + 1));
	} else if (!*group || !(end = strchr(s, '='))) {
		return;
	}
	e = g_new0(Entry, 1);
	e->group = g_strdup(*group);
	e->line = line;
	if (s[0] != '[') {
		*end = '\0';
		e->key = g_strdup(g_strchomp(s));
	}
	g_ptr_array_add(entries, e);
}

static GPtrArray *index_lines(const char *data)
{
	GPtrArray *entries = g_ptr_array_new_with_free_func((GDestroyNotify)entry_free);
	g_autofree char *group = NULL;
	guint line = 0;

	for (const char *p = data; *p;) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);

		index_line(entries, &group, p, len, ++line);
		p += len + (eol ? 1 : 0);
	}
	return entries;
}

/* ---- the loader and its messages ---- */

typedef struct {
	PacerConfig *config;
	GKeyFile *kf;
	GPtrArray *entries;
	GPtrArray *warnings;
	const char *name; /* the file, in messages */
	const char *dir;  /* relative paths start here; NULL: as written */
	gboolean presets_explicit;
} Loader;

/* The line of the value GKeyFile uses: the key's last occurrence in the group; 0 if none. */
static guint key_line(const Loader *l, const char *group, const char *key)
{
	for (guint i = l->entries->len; i > 0; i--) {
		const Entry *e = g_ptr_array_index(l->entries, i - 1);

		if (e->key && strcmp(e->key, key) == 0 && strcmp(e->group, group) == 0)
			return e->line;
	}
	return 0;
}

/* Sets "FILE:LINE: [group] key: message" and returns FALSE. */
G_GNUC_PRINTF(5, 6)
static gboolean key_error(GError **error, const Loader *l, const char *group, const char *key,
			  const char *fmt, ...)
{
	g_autofree char *what = NULL;
	guint line = key_line(l, group, key);
	va_list ap;

	va_start(ap, fmt);
	what = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	if (line > 0)
		g_set_error(error, PACER_CONFIG_ERROR, PACER_CONFIG_ERROR_INVALID,
			    "%s:%u: [%s] %s: %s", l->name, line, group, key, what);
	else
		g_set_error(error, PACER_CONFIG_ERROR, PACER_CONFIG_ERROR_INVALID,
			    "%s: [%s] %s: %s", l->name, group, key, what);
	return FALSE;
}

G_GNUC_PRINTF(2, 3)
static void add_warning(Loader *l, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	g_ptr_array_add(l->warnings, g_strdup_vprintf(fmt, ap));
	va_end(ap);
}

/* A value or line as it can be quoted in a message: valid UTF-8, not too long. */
static char *quotable(const char *s)
{
	g_autofree char *valid = g_utf8_make_valid(s, -1);
	g_autofree char *head = NULL;

	if (g_utf8_strlen(valid, -1) <= MESSAGE_TEXT_MAX)
		return g_steal_pointer(&valid);
	head = g_utf8_substring(valid, 0, MESSAGE_TEXT_MAX - 3);
	return g_strconcat(head, "...", NULL);
}

/* For a value that did not parse: why, when it looks like an inline comment. */
static const char *hint(const char *value)
{
	return strchr(value, '#') ? " (a comment must be on a line of its own)" : "";
}

/* ---- syntax errors ---- */

static gboolean prefix_loads(const char *data, size_t len)
{
	g_autoptr(GKeyFile) kf = g_key_file_new();

	return g_key_file_load_from_data(kf, data, len, G_KEY_FILE_NONE, NULL);
}

/*
 * GKeyFile names no line, but it parses line by line and stops at the first
 * bad one: the bad line ends the shortest prefix of whole lines that fails.
 */
static guint syntax_error_line(const char *data, size_t *ret_start, size_t *ret_len)
{
	g_autoptr(GArray) ends = g_array_new(FALSE, FALSE, sizeof(size_t));
	guint lo = 1, hi;

	for (const char *p = data; *p;) {
		const char *eol = strchr(p, '\n');
		size_t end = eol ? (size_t)(eol - data) + 1 : strlen(data);

		g_array_append_val(ends, end);
		p = data + end;
	}
	hi = MAX(ends->len, 1);
	while (lo < hi && ends->len > 0) {
		guint mid = (lo + hi) / 2;

		if (prefix_loads(data, g_array_index(ends, size_t, mid - 1)))
			lo = mid + 1;
		else
			hi = mid;
	}
	*ret_start = lo > 1 ? g_array_index(ends, size_t, lo - 2) : 0;
	*ret_len = ends->len > 0 ? g_array_index(ends, size_t, lo - 1) - *ret_start : 0;
	return lo;
}

static gboolean has_group_before(const char *data, size_t start)
{
	g_autofree char *head = g_strndup(data, start);
	g_auto(GStrv) lines = g_strsplit(head, "\n", -1);

	for (char **s = lines; *s; s++) {
		if (g_strchug(*s)[0] == '[')
			return TRUE;
	}
	return FALSE;
}

static gboolean syntax_error(GError **error, const char *data, const char *name,
			     const GError *glib_error)
{
	size_t start, len;
	guint line = syntax_error_line(data, &start, &len);
	g_autofree char *raw = g_strndup(data + start, len);
	g_autofree char *text = quotable(g_strstrip(raw));
	const char *what;

	if (text[0] == '[')
		what = "not a valid [group] header";
	else if (!strchr(text, '=') || text[0] == '=')
		what = "not a key = value pair, a [group] or a # comment";
	else if (!has_group_before(data, start))
		what = "a key before the first [group]";
	else
		what = glib_error->message;
	g_set_error(error, PACER_CONFIG_ERROR, PACER_CONFIG_ERROR_SYNTAX, "%s:%u: '%s': %s", name,
		    line, text, what);
	return FALSE;
}

/* ---- values ---- */

typedef enum {
	KEY_INT,
	KEY_DOUBLE,
	KEY_BOOL,
	KEY_STRING, /* owned char *, NULL when empty */
	KEY_PATH,   /* the same, relative to the file's directory */
	KEY_CUSTOM,
} KeyType;

typedef struct KeySpec KeySpec;
typedef gboolean (*KeyParseFunc)(Loader *l, const KeySpec *k, const char *value, GError **error);

struct KeySpec {
	const char *group;
	const char *key;
	KeyType type;
	size_t offset; /* of the field in PacerConfig */
	double min, max;
	KeyParseFunc parse;
	gboolean empty_is_value; /* an empty value is parsed, not "the default" */
};

static gboolean parse_int(Loader *l, const KeySpec *k, const char *v, GError **error)
{
	gint64 n;

	if (!g_ascii_string_to_signed(v, 10, G_MININT64, G_MAXINT64, &n, NULL))
		return key_error(error, l, k->group, k->key, "'%s' is not a whole number%s", v,
				 hint(v));
	if ((double)n < k->min || (double)n > k->max)
		return key_error(error, l, k->group, k->key, "%s is out of range (%.0f-%.0f)", v,
				 k->min, k->max);
	G_STRUCT_MEMBER(int, l->config, k->offset) = (int)n;
	return TRUE;
}

/* Digits with at most one '.', after an optional sign: no hex, exponents, inf or nan. */
static gboolean parse_strict_double(const char *s, double *ret)
{
	gboolean digits = FALSE, dot = FALSE;
	char *end = NULL;

	for (const char *p = s + (s[0] == '-' || s[0] == '+'); *p; p++) {
		if (g_ascii_isdigit(*p))
			digits = TRUE;
		else if (*p == '.' && !dot)
			dot = TRUE;
		else
			return FALSE;
	}
	if (!digits)
		return FALSE;
	errno = 0;
	*ret = g_ascii_strtod(s, &end);
	return errno == 0 && *end == '\0' && isfinite(*ret);
}

static gboolean parse_double(Loader *l, const KeySpec *k, const char *v, GError **error)
{
	char lo[G_ASCII_DTOSTR_BUF_SIZE], hi[G_ASCII_DTOSTR_BUF_SIZE];
	double d;

	if (!parse_strict_double(v, &d))
		return key_error(error, l, k->group, k->key, "'%s' is not a number%s", v, hint(v));
	if (d < k->min || d > k->max)
		return key_error(error, l, k->group, k->key, "%s is out of range (%s-%s)", v,
				 g_ascii_formatd(lo, sizeof(lo), "%g", k->min),
				 g_ascii_formatd(hi, sizeof(hi), "%g", k->max));
	G_STRUCT_MEMBER(double, l->config, k->offset) = d;
	return TRUE;
}

static gboolean parse_bool(Loader *l, const KeySpec *k, const char *v, GError **error)
{
	static const char *const yes[] = {"true", "yes", "on", "1"};
	static const char *const no[] = {"false", "no", "off", "0"};

	for (size_t i = 0; i < G_N_ELEMENTS(yes); i++) {
		if (strcmp(v, yes[i]) == 0 || strcmp(v, no[i]) == 0) {
			G_STRUCT_MEMBER(bool, l->config, k->offset) = strcmp(v, yes[i]) == 0;
			return TRUE;
		}
	}
	return key_error(error, l, k->group, k->key, "'%s' is not true or false%s", v, hint(v));
}

static void set_string(Loader *l, const KeySpec *k, char *owned)
{
	char **field = G_STRUCT_MEMBER_P(l->config, k->offset);

	g_free(*field);
	*field = owned;
}

static char *resolve_path(const Loader *l, const char *v)
{
	return l->dir ? g_canonicalize_filename(v, l->dir) : g_strdup(v);
}

/* "a", "a or b", "a, b or c" */
static char *join_choices(const char *const *names)
{
	GString *s = g_string_new(NULL);

	for (size_t i = 0; names[i]; i++) {
		if (i > 0)
			g_string_append(s, names[i + 1] ? ", " : " or ");
		g_string_append(s, names[i]);
	}
	return g_string_free(s, FALSE);
}

static gboolean parse_choice(Loader *l, const KeySpec *k, const char *v, const char *const *names,
			     guint *ret, GError **error)
{
	g_autofree char *list = NULL;

	for (guint i = 0; names[i]; i++) {
		if (strcmp(v, names[i]) == 0) {
			*ret = i;
			return TRUE;
		}
	}
	list = join_choices(names);
	return key_error(error, l, k->group, k->key, "'%s' is not %s%s", v, list, hint(v));
}

/* ---- [athlete] ---- */

static gboolean parse_sex(Loader *l, const KeySpec *k, const char *v, GError **error)
{
	static const char *const names[] = {"male", "female", NULL};
	static const PacerSex values[] = {PACER_SEX_MALE, PACER_SEX_FEMALE};
	guint i;

	if (!parse_choice(l, k, v, names, &i, error))
		return FALSE;
	l->config->athlete.sex = values[i];
	return TRUE;
}

/* "DIST=TIME", e.g. "5k=20:00" or "half = 1:31:35". */
static gboolean parse_race(Loader *l, const KeySpec *k, const char *v, GError **error)
{
	PacerConfig *c = l->config;
	const char *eq = strchr(v, '=');
	g_autofree char *dist = NULL, *time = NULL;
	double m, s;

	if (!eq)
		return key_error(error, l, k->group, k->key,
				 "'%s' is not DIST=TIME (e.g. 5k=20:00)", v);
	dist = g_strstrip(g_strndup(v, (size_t)(eq - v)));
	time = g_strstrip(g_strdup(eq + 1));
	if (pacer_parse_race_distance(dist, &m) < 0)
		return key_error(error, l, k->group, k->key,
				 "DIST '%s' is not a race distance (1500m 1mi 3k 5k 10k 15k half "
				 "marathon, or metres)",
				 dist);
	if (pacer_parse_duration(time, &s) < 0)
		return key_error(error, l, k->group, k->key,
				 "TIME '%s' is not a time (SS, M:SS or H:MM:SS, above zero)%s",
				 time, hint(time));
	if (pacer_pace_zones_compute(m, s, &c->athlete.pace_zones) < 0)
		return key_error(
			error, l, k->group, k->key,
			"%s in %s is outside the VDOT model (a race of 1-600 minutes, VDOT "
			"%g-%g)",
			dist, time, PACER_VDOT_MIN, PACER_VDOT_MAX);
	c->athlete.has_race = c->athlete.has_pace_zones = true;
	c->athlete.race_distance_m = m;
	c->athlete.race_time_s = s;
	return TRUE;
}

/* ---- [sensors] ---- */

static gboolean normalize_address(const char *v, char ret[18])
{
	if (pacer_address_validate(v, strlen(v)) < 0)
		return FALSE;
	for (size_t i = 0; i < 17; i++)
		ret[i] = g_ascii_toupper(v[i]);
	ret[17] = '\0';
	return TRUE;
}

static gboolean parse_sensor(Loader *l, const KeySpec *k, const char *v, GError **error)
{
	PacerConfigSensor *s = G_STRUCT_MEMBER_P(l->config, k->offset);
	PacerConfigSensor n = {0};

	if (strcmp(v, "auto") == 0)
		n.mode = PACER_CONFIG_SENSOR_AUTO;
	else if (strcmp(v, "none") == 0)
		n.mode = PACER_CONFIG_SENSOR_NONE;
	else if (normalize_address(v, n.address))
		n.mode = PACER_CONFIG_SENSOR_ADDRESS;
	else
		return key_error(error, l, k->group, k->key,
				 "'%s' is not auto, none or an address like AA:BB:CC:DD:EE:FF%s", v,
				 hint(v));
	*s = n;
	return TRUE;
}

/* "AA:BB:..., CC:DD:...": sensors bridged to MQTT besides the runner's; empty: none. */
static gboolean parse_bridge(Loader *l, const KeySpec *k, const char *v, GError **error)
{
	g_auto(GStrv) items = g_strsplit(v, ",", -1);
	unsigned n = 0;

	for (char **item = items; v[0] != '\0' && *item; item++) {
		const char *s = g_strstrip(*item);
		char address[18];

		if (!normalize_address(s, address))
			return key_error(error, l, k->group, k->key,
					 "'%s' is not an address like AA:BB:CC:DD:EE:FF%s", s, hint(s));
		for (unsigned i = 0; i < n; i++) {
			if (strcmp(l->config->sensors.bridge[i], address) == 0)
				return key_error(error, l, k->group, k->key, "%s is listed twice",
						 address);
		}
		if (n == PACER_CONFIG_MAX_BRIDGE)
			return key_error(error, l, k->group, k->key,
					 "more than %d addresses", PACER_CONFIG_MAX_BRIDGE);
		memcpy(l->config->sensors.bridge[n++], address, sizeof(address));
	}
	l->config->sensors.n_bridge = n;
	return TRUE;
}

/* "hciN" (N up to 3 digits): the basename of the adapter's BlueZ object path. */
static gboolean parse_adapter(Loader *l, const KeySpec *k, const char *v, GError **error)
{
	size_t digits = strspn(v + MIN(strlen(v), 3), "0123456789");

	if (!g_str_has_prefix(v, "hci") || digits < 1 || digits > 3 || v[3 + digits] != '\0')
		return key_error(error, l, k->group, k->key,
				 "'%s' is not an adapter name like hci0%s", v, hint(v));
	set_string(l, k, g_strdup(v));
	return TRUE;
}

/* ---- [footpod] ---- */

static gboolean parse_cadence_unit(Loader *l, const KeySpec *k, const char *v, GError **error)
{
	static const char *const names[] = {"auto", "steps", "strides", NULL};
	static const PacerCadenceUnit values[] = {PACER_CADENCE_UNIT_AUTO, PACER_CADENCE_UNIT_STEPS,
						  PACER_CADENCE_UNIT_STRIDES};
	guint i;

	if (!parse_choice(l, k, v, names, &i, error))
		return FALSE;
	l->config->footpod.cadence_unit = values[i];
	return TRUE;
}

/* ---- [coach] ---- */

static gboolean parse_units(Loader *l, const KeySpec *k, const char *v, GError **error)
{
	static const char *const names[] = {"metric", "imperial", NULL};
	static const PacerConfigUnits values[] = {PACER_CONFIG_UNITS_METRIC,
						  PACER_CONFIG_UNITS_IMPERIAL};
	guint i;

	if (!parse_choice(l, k, v, names, &i, error))
		return FALSE;
	l->config->coach.units = values[i];
	return TRUE;
}

static gboolean parse_presets(Loader *l, const KeySpec *k, const char *v, GError **error)
{
	set_string(l, k, resolve_path(l, v));
	l->presets_explicit = TRUE;
	return TRUE;
}

/* "A-B" or "cadA-B", steps per minute, 100 <= A < B <= 250 as in the workout language. */
static gboolean parse_cadence_target(Loader *l, const KeySpec *k, const char *v, GError **error)
{
	const char *s = g_str_has_prefix(v, "cad") ? v + 3 : v;
	g_auto(GStrv) parts = g_strsplit(s, "-", -1);
	guint64 a = 0, b = 0;

	if (g_strv_length(parts) != 2 ||
	    !g_ascii_string_to_unsigned(parts[0], 10, 0, 1000, &a, NULL) ||
	    !g_ascii_string_to_unsigned(parts[1], 10, 0, 1000, &b, NULL) || a < 100 || a >= b ||
	    b > 250)
		return key_error(
			error, l, k->group, k->key,
			"'%s' is not a cadence band A-B with 100 <= A < B <= 250 steps per "
			"minute (170-180)%s",
			v, hint(v));
	l->config->coach.has_cadence_target = true;
	l->config->coach.cadence_min_spm = (double)a;
	l->config->coach.cadence_max_spm = (double)b;
	return TRUE;
}

/* ---- [mqtt] ---- */

static gboolean parse_uri(Loader *l, const KeySpec *k, const char *v, GError **error)
{
	static const char *const schemes[] = {"tcp://", "ssl://",  "ws://",
					      "wss://", "mqtt://", "mqtts://"};

	for (size_t i = 0; i < G_N_ELEMENTS(schemes); i++) {
		const char *rest = v + strlen(schemes[i]);

		if (!g_str_has_prefix(v, schemes[i]))
			continue;
		if (rest[0] == '\0' || rest[0] == ':' || rest[0] == '/' || strpbrk(rest, " \t"))
			return key_error(error, l, k->group, k->key,
					 "'%s' has no host after %s (tcp://localhost:1883)%s", v,
					 schemes[i], hint(v));
		set_string(l, k, g_strdup(v));
		return TRUE;
	}
	return key_error(error, l, k->group, k->key,
			 "'%s' does not start with tcp://, ssl://, ws://, wss://, mqtt:// or "
			 "mqtts://",
			 v);
}

static gboolean is_topic_char(char ch)
{
	return ch != '/' && ch != '+' && ch != '#' && !g_ascii_isspace(ch) && !g_ascii_iscntrl(ch);
}

char *pacer_config_sanitize_node(const char *hostname)
{
	char *s;

	if (!hostname || hostname[0] == '\0')
		return g_strdup("pacer");
	s = g_strdup(hostname);
	for (char *p = s; *p; p++) {
		if (!is_topic_char(*p))
			*p = '_';
	}
	return s;
}

static gboolean parse_node(Loader *l, const KeySpec *k, const char *v, GError **error)
{
	for (const char *p = v; *p; p++) {
		if (!is_topic_char(*p))
			return key_error(error, l, k->group, k->key,
					 "'%s' cannot be an MQTT topic level (no '/', '+', '#', "
					 "spaces or control characters)",
					 v);
	}
	set_string(l, k, g_strdup(v));
	return TRUE;
}

/* Topic levels joined by '/': no empty level, no wildcard. */
static gboolean parse_topic(Loader *l, const KeySpec *k, const char *v, GError **error)
{
	g_auto(GStrv) levels = g_strsplit(v, "/", -1);

	for (char **level = levels; *level; level++) {
		gboolean ok = (*level)[0] != '\0';

		for (const char *p = *level; *p && ok; p++)
			ok = is_topic_char(*p);
		if (!ok)
			return key_error(error, l, k->group, k->key,
					 "'%s' is not a topic prefix (levels joined by '/', none "
					 "empty, without '+', '#', spaces or control characters)",
					 v);
	}
	set_string(l, k, g_strdup(v));
	return TRUE;
}

/* ---- [dbus], [record] ---- */

static gboolean parse_bus(Loader *l, const KeySpec *k, const char *v, GError **error)
{
	static const char *const names[] = {"system", "session", NULL};
	static const PacerConfigBus values[] = {PACER_CONFIG_BUS_SYSTEM, PACER_CONFIG_BUS_SESSION};
	guint i;

	if (!parse_choice(l, k, v, names, &i, error))
		return FALSE;
	l->config->dbus.bus = values[i];
	return TRUE;
}

/* "fit,tcx", "tcx", ...; empty: record nothing. */
static gboolean parse_formats(Loader *l, const KeySpec *k, const char *v, GError **error)
{
	g_auto(GStrv) items = g_strsplit(v, ",", -1);
	bool fit = false, tcx = false;

	for (char **item = items; v[0] != '\0' && *item; item++) {
		const char *s = g_strstrip(*item);

		if (strcmp(s, "fit") == 0)
			fit = true;
		else if (strcmp(s, "tcx") == 0)
			tcx = true;
		else
			return key_error(error, l, k->group, k->key,
					 "'%s' is not a list of fit and tcx (fit,tcx; empty: "
					 "record nothing)%s",
					 v, hint(v));
	}
	l->config->record.fit = fit;
	l->config->record.tcx = tcx;
	return TRUE;
}

/* ---- the keys ---- */

/* clang-format off */
#define FIELD(f) offsetof(PacerConfig, f)
#define INT(g, k, f, lo, hi) {g, k, KEY_INT, FIELD(f), lo, hi, NULL, FALSE}
#define DOUBLE(g, k, f, lo, hi) {g, k, KEY_DOUBLE, FIELD(f), lo, hi, NULL, FALSE}
#define BOOL(g, k, f) {g, k, KEY_BOOL, FIELD(f), 0, 0, NULL, FALSE}
#define STRING(g, k, f) {g, k, KEY_STRING, FIELD(f), 0, 0, NULL, FALSE}
#define PATH(g, k, f) {g, k, KEY_PATH, FIELD(f), 0, 0, NULL, FALSE}
#define CUSTOM(g, k, f, fn) {g, k, KEY_CUSTOM, FIELD(f), 0, 0, fn, FALSE}

/* Ranges are documented in config/pacer.conf; HR ones match pacer_hr_zones_compute(). */
static const KeySpec keys[] = {
	INT("athlete", "max_hr", athlete.max_hr, 25, 250),
	INT("athlete", "resting_hr", athlete.resting_hr, 25, 250),
	INT("athlete", "lthr", athlete.lthr, 25, 250),
	INT("athlete", "age", athlete.age, 5, 110),
	CUSTOM("athlete", "sex", athlete.sex, parse_sex),
	CUSTOM("athlete", "race", athlete.has_race, parse_race),

	CUSTOM("sensors", "adapter", sensors.adapter, parse_adapter),
	CUSTOM("sensors", "heart_rate", sensors.heart_rate, parse_sensor),
	CUSTOM("sensors", "footpod", sensors.footpod, parse_sensor),
	CUSTOM("sensors", "treadmill", sensors.treadmill, parse_sensor),
	CUSTOM("sensors", "bridge", sensors.n_bridge, parse_bridge),

	DOUBLE("footpod", "calibration", footpod.calibration, 0.5, 1.5),
	BOOL("footpod", "auto_calibrate", footpod.auto_calibrate),
	CUSTOM("footpod", "cadence_unit", footpod.cadence_unit, parse_cadence_unit),

	STRING("coach", "workout", coach.workout),
	CUSTOM("coach", "presets", coach.presets_path, parse_presets),
	BOOL("coach", "auto_start", coach.auto_start),
	BOOL("coach", "auto_pause", coach.auto_pause),
	DOUBLE("coach", "split_m", coach.split_m, 100, 10000),
	CUSTOM("coach", "units", coach.units, parse_units),
	DOUBLE("coach", "grace_s", coach.grace_s, 0, 600),
	DOUBLE("coach", "hr_grace_s", coach.hr_grace_s, 0, 600),
	DOUBLE("coach", "off_target_s", coach.off_target_s, 0, 600),
	DOUBLE("coach", "cooldown_s", coach.cooldown_s, 0, 3600),
	DOUBLE("coach", "countdown_s", coach.countdown_s, 1, 600),
	DOUBLE("coach", "countdown_m", coach.countdown_m, 10, 5000),
	CUSTOM("coach", "cadence_target", coach.has_cadence_target, parse_cadence_target),
	BOOL("coach", "hr_alerts", coach.hr_alerts),

	BOOL("mqtt", "enabled", mqtt.enabled),
	CUSTOM("mqtt", "uri", mqtt.uri, parse_uri),
	CUSTOM("mqtt", "node", mqtt.node, parse_node),
	CUSTOM("mqtt", "base_topic", mqtt.base_topic, parse_topic),
	STRING("mqtt", "username", mqtt.username),
	PATH("mqtt", "password_file", mqtt.password_file),
	PATH("mqtt", "ca_file", mqtt.ca_file),
	PATH("mqtt", "cert_file", mqtt.cert_file),
	PATH("mqtt", "key_file", mqtt.key_file),
	DOUBLE("mqtt", "interval", mqtt.interval_s, 0.2, 60),
	INT("mqtt", "queue_size", mqtt.queue_size, 10, 1000000),
	BOOL("mqtt", "ha_discovery", mqtt.ha_discovery),
	CUSTOM("mqtt", "ha_prefix", mqtt.ha_prefix, parse_topic),
	BOOL("mqtt", "commands", mqtt.commands),
	BOOL("mqtt", "raw", mqtt.raw),

	BOOL("dbus", "enabled", dbus.enabled),
	CUSTOM("dbus", "bus", dbus.bus, parse_bus),

	PATH("record", "dir", record.dir),
	{"record", "formats", KEY_CUSTOM, FIELD(record.fit), 0, 0, parse_formats, TRUE},
	INT("record", "keep", record.keep, 0, 1000000),
};
/* clang-format on */

static const KeySpec *find_key(const char *group, const char *key)
{
	for (size_t i = 0; i < G_N_ELEMENTS(keys); i++) {
		if ((!group || strcmp(keys[i].group, group) == 0) && strcmp(keys[i].key, key) == 0)
			return &keys[i];
	}
	return NULL;
}

static gboolean group_known(const char *group)
{
	for (size_t i = 0; i < G_N_ELEMENTS(keys); i++) {
		if (strcmp(keys[i].group, group) == 0)
			return TRUE;
	}
	return FALSE;
}

static gboolean parse_value(Loader *l, const KeySpec *k, const char *v, GError **error)
{
	switch (k->type) {
	case KEY_INT:
		return parse_int(l, k, v, error);
	case KEY_DOUBLE:
		return parse_double(l, k, v, error);
	case KEY_BOOL:
		return parse_bool(l, k, v, error);
	case KEY_STRING:
		set_string(l, k, g_strdup(v));
		return TRUE;
	case KEY_PATH:
		set_string(l, k, resolve_path(l, v));
		return TRUE;
	case KEY_CUSTOM:
		return k->parse(l, k, v, error);
	}
	g_return_val_if_reached(FALSE);
}

/* The value with escapes decoded and surrounding spaces stripped; NULL with `error` set. */
static char *read_value(const Loader *l, const KeySpec *k, GError **error)
{
	g_autofree char *raw = NULL, *text = NULL;
	g_autoptr(GError) local = NULL;
	char *v = g_key_file_get_string(l->kf, k->group, k->key, &local);

	/* GKeyFile may return a value and an error (an invalid escape) together */
	if (!local)
		return g_strstrip(v);
	g_free(v);
	raw = g_key_file_get_value(l->kf, k->group, k->key, NULL);
	if (raw && !g_utf8_validate(raw, -1, NULL)) {
		key_error(error, l, k->group, k->key, "the value is not valid UTF-8");
		return NULL;
	}
	text = quotable(raw ? raw : "");
	key_error(error, l, k->group, k->key,
		  "'%s' has an invalid escape sequence ('\\' goes before s, n, t, r or '\\')",
		  text);
	return NULL;
}

static gboolean read_keys(Loader *l, GError **error)
{
	for (size_t i = 0; i < G_N_ELEMENTS(keys); i++) {
		const KeySpec *k = &keys[i];
		g_autofree char *value = NULL;

		if (!g_key_file_has_key(l->kf, k->group, k->key, NULL))
			continue;
		value = read_value(l, k, error);
		if (!value)
			return FALSE;
		if (value[0] == '\0' && !k->empty_is_value)
			continue;
		if (!parse_value(l, k, value, error))
			return FALSE;
	}
	return TRUE;
}

/* ---- checks across keys ---- */

/* Names the conflicts that pacer_hr_zones_compute() would only call -EINVAL. */
static gboolean check_heart_rates(const Loader *l, GError **error)
{
	const PacerConfig *c = l->config;
	int resting = c->athlete.resting_hr, lthr = c->athlete.lthr;
	int max = c->athlete.max_hr ? c->athlete.max_hr
				    : (c->athlete.age ? pacer_hr_max_tanaka(c->athlete.age) : 0);
	const char *max_what = c->athlete.max_hr ? "max_hr" : "the max HR from age";

	if (resting && !lthr && !max)
		return key_error(error, l, "athlete", "resting_hr",
				 "needs max_hr or age (zones on the heart-rate reserve), or lthr");
	if (resting && max && resting >= max)
		return key_error(error, l, "athlete", "resting_hr", "%d must be below %s (%d)",
				 resting, max_what, max);
	if (lthr && max && lthr >= max)
		return key_error(error, l, "athlete", "lthr", "%d must be below %s (%d)", lthr,
				 max_what, max);
	if (lthr && resting && resting >= lthr)
		return key_error(error, l, "athlete", "resting_hr", "%d must be below lthr (%d)",
				 resting, lthr);
	return TRUE;
}

static PacerAthlete athlete_of(const PacerConfig *c)
{
	PacerAthlete a = {
		.max_hr = c->athlete.max_hr,
		.resting_hr = c->athlete.resting_hr,
		.lthr = c->athlete.lthr,
		.age = c->athlete.age,
	};

	return a;
}

static gboolean check_athlete(Loader *l, GError **error)
{
	PacerConfig *c = l->config;
	PacerAthlete a = athlete_of(c);

	if (!a.max_hr && !a.resting_hr && !a.lthr && !a.age)
		return TRUE;
	if (!check_heart_rates(l, error))
		return FALSE;
	if (pacer_hr_zones_compute(&a, &c->athlete.hr_zones) < 0)
		return key_error(error, l, "athlete", a.max_hr ? "max_hr" : "age",
				 "the heart rates give no zones");
	c->athlete.has_hr_zones = true;
	return TRUE;
}

static gboolean check_mqtt(const Loader *l, GError **error)
{
	if (l->config->mqtt.key_file && !l->config->mqtt.cert_file)
		return key_error(error, l, "mqtt", "key_file",
				 "needs cert_file (the client certificate of this key)");
	return TRUE;
}

/* A sensor is the runner's or bridged, never both. */
static gboolean check_bridge(const Loader *l, GError **error)
{
	const PacerConfig *c = l->config;
	const PacerConfigSensor *own[] = {&c->sensors.heart_rate, &c->sensors.footpod,
					  &c->sensors.treadmill};

	for (unsigned i = 0; i < c->sensors.n_bridge; i++) {
		for (size_t j = 0; j < G_N_ELEMENTS(own); j++) {
			if (own[j]->mode == PACER_CONFIG_SENSOR_ADDRESS &&
			    strcmp(own[j]->address, c->sensors.bridge[i]) == 0)
				return key_error(error, l, "sensors", "bridge",
						 "%s is already the runner's sensor", own[j]->address);
		}
	}
	return TRUE;
}

/* ---- files ---- */

/* A whole file; NULL with errno set when it cannot be read. */
static char *read_text(const char *path, size_t *ret_len)
{
	g_autoptr(GString) s = g_string_new(NULL);
	FILE *f = fopen(path, "re");
	char buf[4096];
	size_t n;
	int saved;

	if (!f)
		return NULL;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		g_string_append_len(s, buf, (gssize)n);
	saved = ferror(f) ? errno : 0;
	fclose(f);
	if (saved) {
		errno = saved;
		return NULL;
	}
	if (ret_len)
		*ret_len = s->len;
	return g_string_free(g_steal_pointer(&s), FALSE);
}

/* ---- workouts ---- */

PacerWorkoutContext pacer_config_workout_context(const PacerConfig *c)
{
	PacerWorkoutContext ctx = {
		.pace = c->athlete.has_pace_zones ? &c->athlete.pace_zones : NULL,
		.hr = c->athlete.has_hr_zones ? &c->athlete.hr_zones : NULL,
	};

	return ctx;
}

/* "column 7: expected ...", worded for the configuration where lib/ names options. */
static char *describe_parse_error(int r, const PacerWorkoutError *err)
{
	if (r == -ENODATA && strstr(err->expected, "race"))
		return g_strdup_printf("column %zu: needs a race result ([athlete] race) for "
				       "race-pace and zone targets",
				       err->column);
	if (r == -ENODATA && strstr(err->expected, "heart-rate"))
		return g_strdup_printf("column %zu: needs heart-rate zones ([athlete] max_hr, "
				       "lthr or age) for zN targets",
				       err->column);
	return g_strdup_printf("column %zu: %s %s", err->column,
			       r == -ENODATA ? "needs" : "expected", err->expected);
}

/* Letters, digits, '-' and '_': a word that was meant as a preset name. */
static gboolean is_name(const char *s)
{
	if (!g_ascii_isalpha(s[0]))
		return FALSE;
	for (const char *p = s; *p; p++) {
		if (!g_ascii_isalnum(*p) && *p != '-' && *p != '_')
			return FALSE;
	}
	return TRUE;
}

static gboolean workout_error(const PacerConfig *c, const char *presets, const char *workout,
			      gboolean is_preset, const char *what, GError **error)
{
	const char *path = c->coach.presets_path;
	g_autofree char *text = quotable(workout);

	if (is_preset)
		g_set_error(error, PACER_CONFIG_ERROR, PACER_CONFIG_ERROR_INVALID,
			    "preset '%s' (%s): %s", workout, path, what);
	else if (is_name(workout) && presets)
		g_set_error(error, PACER_CONFIG_ERROR, PACER_CONFIG_ERROR_INVALID,
			    "'%s' is neither a preset in %s nor a workout (%s)", text, path, what);
	else if (is_name(workout))
		g_set_error(error, PACER_CONFIG_ERROR, PACER_CONFIG_ERROR_INVALID,
			    "'%s' is not a workout (%s), and there is no presets file %s", text,
			    what, path);
	else
		g_set_error_literal(error, PACER_CONFIG_ERROR, PACER_CONFIG_ERROR_INVALID, what);
	return FALSE;
}

/* `presets`: the presets file's contents, NULL when there is none. */
static gboolean resolve_workout(const PacerConfig *c, const char *presets, const char *workout,
				PacerPlan *ret_plan, char **ret_text, char **ret_preset,
				GError **error)
{
	PacerWorkoutContext ctx = pacer_config_workout_context(c);
	char text[PACER_WORKOUT_MAX_TEXT + 1];
	PacerWorkoutError err = {0};
	g_autofree char *what = NULL;
	const char *src = workout;
	int r = -ENOENT;

	if (presets)
		r = pacer_presets_lookup(presets, workout, text, sizeof(text));
	if (r == -E2BIG)
		return workout_error(
			c, presets, workout, TRUE,
			"longer than " G_STRINGIFY(PACER_WORKOUT_MAX_TEXT) " characters", error);
	if (r == 0)
		src = text;
	r = pacer_workout_parse(src, &ctx, ret_plan, &err);
	if (r < 0) {
		what = describe_parse_error(r, &err);
		return workout_error(c, presets, workout, src == text, what, error);
	}
	if (ret_text)
		*ret_text = g_strdup(src);
	if (ret_preset)
		*ret_preset = src == text ? g_strdup(workout) : NULL;
	return TRUE;
}

gboolean pacer_config_resolve_workout(const PacerConfig *c, const char *workout,
				      PacerPlan *ret_plan, char **ret_text, char **ret_preset,
				      GError **error)
{
	g_autofree char *presets = NULL;

	g_return_val_if_fail(c && workout && ret_plan, FALSE);
	presets = read_text(c->coach.presets_path, NULL);
	return resolve_workout(c, presets, workout, ret_plan, ret_text, ret_preset, error);
}

/* A presets file named in the file must be readable; the default one may be missing. */
static gboolean read_presets(const Loader *l, char **ret, GError **error)
{
	const char *path = l->config->coach.presets_path;
	int e;

	*ret = NULL;
	if (!l->presets_explicit && !l->config->coach.workout)
		return TRUE;
	*ret = read_text(path, NULL);
	if (*ret || !l->presets_explicit)
		return TRUE;
	e = errno;
	return key_error(error, l, "coach", "presets", "cannot read '%s': %s", path, g_strerror(e));
}

static gboolean check_workout(Loader *l, GError **error)
{
	PacerConfig *c = l->config;
	g_autofree char *presets = NULL;
	g_autoptr(GError) local = NULL;

	if (!read_presets(l, &presets, error))
		return FALSE;
	if (!c->coach.workout)
		return TRUE;
	c->coach.plan = g_new0(PacerPlan, 1);
	if (!resolve_workout(c, presets, c->coach.workout, c->coach.plan, &c->coach.workout_text,
			     &c->coach.preset, &local))
		return key_error(error, l, "coach", "workout", "%s%s", local->message,
				 hint(c->coach.workout));
	return TRUE;
}

/* ---- warnings ---- */

static void warn_unknown(Loader *l, const Entry *e)
{
	g_autofree char *group = quotable(e->group);
	g_autofree char *key = e->key ? quotable(e->key) : NULL;
	const KeySpec *elsewhere = key ? find_key(NULL, e->key) : NULL;

	if (!key)
		add_warning(l, "%s:%u: [%s]: unknown group, ignored", l->name, e->line, group);
	else
		add_warning(l, "%s:%u: [%s] %s: unknown key, ignored%s%s%s", l->name, e->line,
			    group, key, elsewhere ? " (it belongs in [" : "",
			    elsewhere ? elsewhere->group : "", elsewhere ? "])" : "");
}

static void warn_entry(Loader *l, const Entry *e, GHashTable *seen)
{
	gpointer first;
	char *id;

	if (!group_known(e->group)) {
		if (!e->key)
			warn_unknown(l, e);
		return;
	}
	if (!e->key)
		return;
	if (!find_key(e->group, e->key)) {
		warn_unknown(l, e);
		return;
	}
	id = g_strconcat(e->group, "\n", e->key, NULL);
	first = g_hash_table_lookup(seen, id);
	if (first)
		add_warning(l, "%s:%u: [%s] %s: given again on line %u, this one is ignored",
			    l->name, GPOINTER_TO_UINT(first), e->group, e->key, e->line);
	g_hash_table_insert(seen, id, GUINT_TO_POINTER(e->line));
}

static void collect_warnings(Loader *l)
{
	g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

	for (guint i = 0; i < l->entries->len; i++)
		warn_entry(l, g_ptr_array_index(l->entries, i), seen);
}

/* ---- defaults, loading ---- */

static void defaults_coach(PacerConfig *c, const char *presets_path)
{
	PacerCoachConfig cc;

	pacer_coach_config_init(&cc);
	c->coach.presets_path = g_strdup(presets_path);
	c->coach.auto_start = cc.auto_start;
	c->coach.auto_pause = cc.auto_pause;
	c->coach.split_m = cc.split_m;
	c->coach.units = PACER_CONFIG_UNITS_METRIC;
	c->coach.grace_s = (double)cc.grace_us / 1e6;
	c->coach.hr_grace_s = (double)cc.hr_grace_us / 1e6;
	c->coach.off_target_s = (double)cc.off_target_us / 1e6;
	c->coach.cooldown_s = (double)cc.cooldown_us / 1e6;
	c->coach.countdown_s = (double)cc.countdown_us / 1e6;
	c->coach.countdown_m = cc.countdown_m;
	c->coach.hr_alerts = true;
}

static void defaults_mqtt(PacerConfig *c)
{
	c->mqtt.enabled = true;
	c->mqtt.uri = g_strdup("tcp://localhost:1883");
	c->mqtt.node = pacer_config_sanitize_node(g_get_host_name());
	c->mqtt.base_topic = g_strdup("pacer");
	c->mqtt.interval_s = 1.0;
	c->mqtt.queue_size = 10000;
	c->mqtt.ha_discovery = true;
	c->mqtt.ha_prefix = g_strdup("homeassistant");
	c->mqtt.commands = false;
}

static PacerConfig *config_new(const char *presets_path)
{
	PacerConfig *c = g_new0(PacerConfig, 1);
	PacerMetricsConfig mc;

	pacer_metrics_config_init(&mc);
	c->athlete.sex = PACER_SEX_MALE;
	c->sensors.heart_rate.mode = PACER_CONFIG_SENSOR_AUTO;
	c->sensors.footpod.mode = PACER_CONFIG_SENSOR_AUTO;
	c->sensors.treadmill.mode = PACER_CONFIG_SENSOR_AUTO;
	c->footpod.calibration = mc.footpod_calibration;
	c->footpod.auto_calibrate = mc.auto_calibrate;
	c->footpod.cadence_unit = mc.cadence_unit;
	defaults_coach(c, presets_path);
	defaults_mqtt(c);
	c->dbus.enabled = true;
	c->dbus.bus = PACER_CONFIG_BUS_SYSTEM;
	c->record.dir = g_strdup("/var/lib/pacer");
	c->record.fit = c->record.tcx = true;
	c->record.keep = 100;
	return c;
}

PacerConfig *pacer_config_new_defaults(void)
{
	return config_new(pacer_config_default_presets_path());
}

void pacer_config_free(PacerConfig *c)
{
	if (!c)
		return;
	g_free(c->source);
	g_free(c->sensors.adapter);
	g_free(c->coach.workout);
	g_free(c->coach.preset);
	g_free(c->coach.workout_text);
	g_free(c->coach.plan);
	g_free(c->coach.presets_path);
	g_free(c->mqtt.uri);
	g_free(c->mqtt.node);
	g_free(c->mqtt.base_topic);
	g_free(c->mqtt.username);
	g_free(c->mqtt.password_file);
	g_free(c->mqtt.ca_file);
	g_free(c->mqtt.cert_file);
	g_free(c->mqtt.key_file);
	g_free(c->mqtt.ha_prefix);
	g_free(c->record.dir);
	g_free(c);
}

static gboolean load_checked(Loader *l, GError **error)
{
	return read_keys(l, error) && check_athlete(l, error) && check_mqtt(l, error) &&
	       check_bridge(l, error) && check_workout(l, error);
}

static void hand_out_warnings(GPtrArray *warnings, GStrv *ret_warnings)
{
	if (!ret_warnings) {
		for (guint i = 0; i < warnings->len; i++)
			g_warning("%s", (const char *)g_ptr_array_index(warnings, i));
		return;
	}
	g_ptr_array_add(warnings, NULL);
	*ret_warnings = (GStrv)g_ptr_array_steal(warnings, NULL);
}

/* `dir`: where relative paths start (NULL: as written). */
static PacerConfig *load_text(const char *data, const char *name, const char *dir,
			      const char *presets_path, GStrv *ret_warnings, GError **error)
{
	g_autoptr(GKeyFile) kf = g_key_file_new();
	g_autoptr(GPtrArray) entries = NULL, warnings = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(PacerConfig) c = NULL;
	g_autoptr(GError) local = NULL;
	Loader l;

	if (g_str_has_prefix(data, UTF8_BOM)) /* as some Windows editors save */
		data += strlen(UTF8_BOM);
	if (!g_key_file_load_from_data(kf, data, (gsize)-1, G_KEY_FILE_NONE, &local)) {
		syntax_error(error, data, name, local);
		return NULL;
	}
	entries = index_lines(data);
	c = config_new(presets_path ? presets_path : pacer_config_default_presets_path());
	c->source = g_strdup(name);
	l = (Loader){.config = c,
		     .kf = kf,
		     .entries = entries,
		     .warnings = warnings,
		     .name = name,
		     .dir = dir};
	if (!load_checked(&l, error))
		return NULL;
	collect_warnings(&l);
	hand_out_warnings(warnings, ret_warnings);
	return g_steal_pointer(&c);
}

PacerConfig *pacer_config_load_data(const char *data, const char *name, const char *presets_path,
				    GStrv *ret_warnings, GError **error)
{
	g_autofree char *dir = NULL;

	g_return_val_if_fail(data && name, NULL);
	dir = g_path_get_dirname(name);
	if (strcmp(dir, ".") != 0 && !g_path_is_absolute(dir)) {
		char *absolute = g_canonicalize_filename(dir, NULL);

		g_free(dir);
		dir = absolute;
	}
	return load_text(data, name, strcmp(dir, ".") == 0 ? NULL : dir, presets_path, ret_warnings,
			 error);
}

static guint line_of_offset(const char *s, size_t offset)
{
	guint line = 1;

	for (size_t i = 0; i < offset; i++)
		line += s[i] == '\n';
	return line;
}

static gboolean read_file(const char *path, char **ret, GError **error)
{
	size_t len = 0;
	const char *nul;
	int e;

	*ret = read_text(path, &len);
	if (!*ret) {
		e = errno;
		g_set_error(error, PACER_CONFIG_ERROR,
			    e == ENOENT ? PACER_CONFIG_ERROR_NOT_FOUND : PACER_CONFIG_ERROR_IO,
			    "%s: cannot read: %s", path, g_strerror(e));
		return FALSE;
	}
	nul = memchr(*ret, '\0', len);
	if (!nul)
		return TRUE;
	g_set_error(error, PACER_CONFIG_ERROR, PACER_CONFIG_ERROR_SYNTAX,
		    "%s:%u: a NUL byte: not a text file", path,
		    line_of_offset(*ret, (size_t)(nul - *ret)));
	g_clear_pointer(ret, g_free);
	return FALSE;
}

PacerConfig *pacer_config_load(const char *path, const char *presets_path, GStrv *ret_warnings,
			       GError **error)
{
	g_autofree char *data = NULL, *dir = NULL;

	g_return_val_if_fail(path, NULL);
	if (!read_file(path, &data, error))
		return NULL;
	{
		/* relative paths in the file start at its directory, made absolute now */
		g_autofree char *absolute = g_canonicalize_filename(path, NULL);

		dir = g_path_get_dirname(absolute);
	}
	return load_text(data, path, dir, presets_path, ret_warnings, error);
}

/* ---- the pipeline ---- */

static uint64_t to_us(double s)
{
	return (uint64_t)llround(s * 1e6);
}

static void metrics_from_config(const PacerConfig *c, PacerMetricsConfig *m)
{
	m->footpod_calibration = c->footpod.calibration;
	m->auto_calibrate = c->footpod.auto_calibrate;
	m->cadence_unit = c->footpod.cadence_unit;
	if (c->athlete.has_hr_zones) {
		m->hr_zones = c->athlete.hr_zones;
		m->max_hr = c->athlete.hr_zones.max_hr;
	}
	m->resting_hr = c->athlete.resting_hr;
	m->sex = c->athlete.sex;
	m->has_pace_zones = c->athlete.has_pace_zones;
	if (c->athlete.has_pace_zones)
		m->pace_zones = c->athlete.pace_zones;
}

static void coach_from_config(const PacerConfig *c, PacerCoachConfig *cc)
{
	cc->grace_us = to_us(c->coach.grace_s);
	cc->hr_grace_us = c->coach.hr_alerts ? to_us(c->coach.hr_grace_s) : UINT64_MAX;
	cc->off_target_us = to_us(c->coach.off_target_s);
	cc->cooldown_us = to_us(c->coach.cooldown_s);
	cc->countdown_us = to_us(c->coach.countdown_s);
	cc->countdown_m = c->coach.countdown_m;
	cc->split_m = c->coach.split_m;
	cc->auto_start = c->coach.auto_start;
	cc->auto_pause = c->coach.auto_pause;
	cc->imperial = c->coach.units == PACER_CONFIG_UNITS_IMPERIAL;
	if (c->athlete.has_hr_zones)
		cc->hr_zones = c->athlete.hr_zones;
	if (c->coach.has_cadence_target) {
		cc->free_target.has_cadence = true;
		cc->free_target.cadence_min_spm = c->coach.cadence_min_spm;
		cc->free_target.cadence_max_spm = c->coach.cadence_max_spm;
		snprintf(cc->free_target.label, sizeof(cc->free_target.label), "cad%.0f-%.0f",
			 c->coach.cadence_min_spm, c->coach.cadence_max_spm);
	}
}

void pacer_config_to_pipeline(const PacerConfig *c, PacerPipelineConfig *ret)
{
	PacerPipelineConfig p;

	pacer_pipeline_config_init(&p);
	metrics_from_config(c, &p.metrics);
	coach_from_config(c, &p.coach);
	*ret = p;
}
