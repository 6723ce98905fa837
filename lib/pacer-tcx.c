/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "pacer-tcx.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <string.h>

#define CHUNK 4096

typedef struct {
	PacerWriteFunc write;
	void *user_data;
	char buf[CHUNK];
	size_t len;
	int error;
	const PacerRun *run;
} Xml;

static void flush(Xml *x)
{
	if (!x->error && x->len > 0) {
		int r = x->write(x->buf, x->len, x->user_data);

		if (r < 0)
			x->error = r;
	}
	x->len = 0;
}

static void put(Xml *x, const char *s, size_t n)
{
	while (n > 0 && !x->error) {
		size_t room = CHUNK - x->len, k = n < room ? n : room;

		memcpy(x->buf + x->len, s, k);
		x->len += k;
		s += k;
		n -= k;
		if (x->len == CHUNK)
			flush(x);
	}
}

static void puts_(Xml *x, const char *s)
{
	put(x, s, strlen(s));
}

static void put_escaped(Xml *x, const char *s)
{
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '&')
			puts_(x, "&amp;");
		else if (ch == '<')
			puts_(x, "&lt;");
		else if (ch == '>')
			puts_(x, "&gt;");
		else if (ch < 0x20 || ch == 0x7f)
			puts_(x, " ");
		else
			put(x, s, 1);
	}
}

/* Digits of an unsigned integer. */
static void put_uint(Xml *x, uint64_t v)
{
	char d[24];
	size_t n = 0;

	do {
		d[sizeof(d) - 1 - n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0 && n < sizeof(d));
	put(x, d + sizeof(d) - n, n);
}

/* A non-negative value with `decimals` decimals (no locale). */
static void put_fixed(Xml *x, double v, unsigned decimals)
{
	uint64_t scale = 1, n;

	for (unsigned i = 0; i < decimals; i++)
		scale *= 10;
	if (!isfinite(v) || v < 0)
		v = 0;
	if (v > 1e12)
		v = 1e12;
	n = (uint64_t)llround(v * (double)scale);
	put_uint(x, n / scale);
	if (decimals == 0)
		return;
	puts_(x, ".");
	for (uint64_t s = scale / 10, f = n % scale; s > 0; s /= 10)
		put_uint(x, f / s % 10);
}

/* ---- time ---- */

/* Howard Hinnant's civil_from_days: days since 1970-01-01 to a proleptic Gregorian date. */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t era, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	yoe = z - era * 146097;
	yoe = (yoe - yoe / 1460 + yoe / 36524 - yoe / 146096) / 365;
	*y = yoe + era * 400;
	doy = (z - era * 146097) - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	*m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	if (*m <= 2)
		(*y)++;
}

int pacer_tcx_format_time(uint64_t unix_ms, char *buf, size_t size)
{
	uint64_t s = unix_ms / 1000;
	int64_t days = (int64_t)(s / 86400), year;
	unsigned secs = (unsigned)(s % 86400), month, day;
	char out[32];
	size_t n = 0;
	unsigned parts[5];

	civil_from_days(days, &year, &month, &day);
	if (year > 9999 || size < 21)
		return -ENOBUFS;
	parts[0] = month;
	parts[1] = day;
	parts[2] = secs / 3600;
	parts[3] = secs / 60 % 60;
	parts[4] = secs % 60;
	for (int i = 3; i >= 0; i--, year /= 10)
		out[i] = (char)('0' + year % 10);
	n = 4;
	for (size_t i = 0; i < 5; i++) {
		static const char sep[] = "--T::";

		out[n++] = sep[i];
		out[n++] = (char)('0' + parts[i] / 10);
		out[n++] = (char)('0' + parts[i] % 10);
	}
	out[n++] = 'Z';
	memcpy(buf, out, n);
	buf[n] = '\0';
	return 0;
}

static void put_time(Xml *x, double t_s)
{
	char s[32];
	double ms = t_s > 0 && isfinite(t_s) ? floor(t_s + 1e-6) * 1000.0 : 0.0;

	if (pacer_tcx_format_time(x->run->start_unix_ms + (uint64_t)ms, s, sizeof(s)) < 0)
		x->error = -ERANGE;
	else
		puts_(x, s);
}

/* ---- elements ---- */

static void element_fixed(Xml *x, const char *name, double v, unsigned decimals)
{
	puts_(x, "<");
	puts_(x, name);
	puts_(x, ">");
	put_fixed(x, v, decimals);
	puts_(x, "</");
	puts_(x, name);
	puts_(x, ">");
}

static bool valid_byte(double v, double min, double max)
{
	return isfinite(v) && lround(v) >= (long)min && lround(v) <= (long)max;
}

static void heart_rate(Xml *x, const char *name, double bpm)
{
	if (!valid_byte(bpm, 1, 255))
		return;
	puts_(x, "<");
	puts_(x, name);
	puts_(x, "><Value>");
	put_fixed(x, bpm, 0);
	puts_(x, "</Value></");
	puts_(x, name);
	puts_(x, ">");
}

static const char *intensity(PacerStepKind kind)
{
	switch (kind) {
	case PACER_STEP_WARMUP:
	case PACER_STEP_RUN:
	case PACER_STEP_COOLDOWN:
		return "Active";
	case PACER_STEP_REST:
	case PACER_STEP_JOG:
	case PACER_STEP_RECOVERY:
	case PACER_STEP_WALK:
		return "Resting";
	}
	return "Active";
}

static const char *trigger(PacerLapTrigger t)
{
	switch (t) {
	case PACER_LAP_TRIGGER_MANUAL:
		return "Manual";
	case PACER_LAP_TRIGGER_TIME:
		return "Time";
	case PACER_LAP_TRIGGER_DISTANCE:
		return "Distance";
	}
	return "Manual";
}

static void trackpoint(Xml *x, const PacerRunSample *s)
{
	double strides = s->cadence_spm / 2.0;

	puts_(x, "<Trackpoint><Time>");
	put_time(x, s->t_s);
	puts_(x, "</Time>");
	element_fixed(x, "DistanceMeters", s->distance_m, 2);
	heart_rate(x, "HeartRateBpm", s->hr_bpm);
	if (isfinite(s->speed_mps) || valid_byte(strides, 0, 254)) {
		puts_(x, "<Extensions><ns3:TPX>");
		if (isfinite(s->speed_mps) && s->speed_mps >= 0)
			element_fixed(x, "ns3:Speed", s->speed_mps, 3);
		if (valid_byte(strides, 0, 254))
			element_fixed(x, "ns3:RunCadence", strides, 0);
		puts_(x, "</ns3:TPX></Extensions>");
	}
	puts_(x, "</Trackpoint>\n");
}

static void lap_extensions(Xml *x, const PacerRunLap *l)
{
	double avg = l->avg_cadence_spm / 2.0, max = l->max_cadence_spm / 2.0;

	puts_(x, "<Extensions><ns3:LX>");
	element_fixed(x, "ns3:AvgSpeed", l->time_s > 0 ? l->distance_m / l->time_s : 0.0, 3);
	if (valid_byte(avg, 0, 254))
		element_fixed(x, "ns3:AvgRunCadence", avg, 0);
	if (valid_byte(max, 0, 254))
		element_fixed(x, "ns3:MaxRunCadence", max, 0);
	puts_(x, "</ns3:LX></Extensions>\n");
}

static void lap(Xml *x, size_t index)
{
	const PacerRun *run = x->run;
	const PacerRunLap *l = &run->laps[index];
	bool last = index + 1 == run->n_laps, track = false;

	puts_(x, "<Lap StartTime=\"");
	put_time(x, l->start_t_s);
	puts_(x, "\">\n");
	element_fixed(x, "TotalTimeSeconds", l->time_s, 3);
	element_fixed(x, "DistanceMeters", l->distance_m, 2);
	if (isfinite(l->max_speed_mps))
		element_fixed(x, "MaximumSpeed", l->max_speed_mps, 3);
	puts_(x, "<Calories>0</Calories>");
	heart_rate(x, "AverageHeartRateBpm", l->avg_hr_bpm);
	heart_rate(x, "MaximumHeartRateBpm", l->max_hr_bpm);
	puts_(x, "<Intensity>");
	puts_(x, intensity(l->kind));
	puts_(x, "</Intensity><TriggerMethod>");
	puts_(x, trigger(l->trigger));
	puts_(x, "</TriggerMethod>\n");
	for (size_t i = 0; i < run->n_samples; i++) {
		const PacerRunSample *s = &run->samples[i];

		/* laps are contiguous: a sample on a boundary opens the next lap */
		if ((index > 0 && s->t_s < l->start_t_s - 1e-9) || (!last && s->t_s >= l->end_t_s - 1e-9))
			continue;
		if (!track)
			puts_(x, "<Track>\n");
		track = true;
		trackpoint(x, s);
	}
	if (track)
		puts_(x, "</Track>\n");
	lap_extensions(x, l);
	puts_(x, "</Lap>\n");
}

static void creator(Xml *x, const PacerTcxCreator *c)
{
	puts_(x, "<Creator xsi:type=\"Device_t\"><Name>");
	put_escaped(x, c->name && c->name[0] ? c->name : "Pacer");
	puts_(x, "</Name><UnitId>");
	put_uint(x, c->unit_id);
	puts_(x, "</UnitId><ProductID>");
	put_uint(x, c->product_id);
	puts_(x, "</ProductID><Version><VersionMajor>");
	put_uint(x, c->version_major);
	puts_(x, "</VersionMajor><VersionMinor>");
	put_uint(x, c->version_minor);
	puts_(x, "</VersionMinor></Version></Creator>\n");
}

int pacer_tcx_encode(const PacerRun *run, const PacerTcxCreator *c, PacerWriteFunc write,
		     void *user_data)
{
	static const PacerTcxCreator none = {.name = "Pacer"};
	Xml *x;
	Xml storage;
	int r;

	if (!run || !write || !run->has_header)
		return -EINVAL;
	x = &storage;
	x->write = write;
	x->user_data = user_data;
	x->len = 0;
	x->error = 0;
	x->run = run;
	puts_(x, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		 "<TrainingCenterDatabase"
		 " xmlns=\"http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2\""
		 " xmlns:ns3=\"http://www.garmin.com/xmlschemas/ActivityExtension/v2\""
		 " xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\""
		 " xsi:schemaLocation=\"http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2"
		 " http://www.garmin.com/xmlschemas/TrainingCenterDatabasev2.xsd\">\n"
		 "<Activities>\n<Activity Sport=\"Running\">\n<Id>");
	put_time(x, 0.0);
	puts_(x, "</Id>\n");
	for (size_t i = 0; i < run->n_laps; i++)
		lap(x, i);
	if (run->workout[0] || run->recovered) {
		puts_(x, "<Notes>");
		put_escaped(x, run->workout);
		if (run->recovered)
			puts_(x, run->workout[0] ? " - Recovered after an interruption."
						 : "Recovered after an interruption.");
		puts_(x, "</Notes>\n");
	}
	creator(x, c ? c : &none);
	puts_(x, "</Activity>\n</Activities>\n</TrainingCenterDatabase>\n");
	flush(x);
	r = x->error;
	return r;
}
