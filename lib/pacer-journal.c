/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "pacer-journal.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pacer-fit.h"
#include "pacer-hex.h"

#define UNIT_LIMIT 1e15 /* larger values are written as unknown */
#define MAX_TOKENS 20

/* ---- small helpers ---- */

const char *pacer_lap_trigger_to_string(PacerLapTrigger trigger)
{
	switch (trigger) {
	case PACER_LAP_TRIGGER_MANUAL:
		return "m";
	case PACER_LAP_TRIGGER_TIME:
		return "t";
	case PACER_LAP_TRIGGER_DISTANCE:
		return "d";
	}
	return "m";
}

static const char *sensor_name(PacerSensorKind kind)
{
	return pacer_sensor_kind_to_string(kind);
}

typedef struct {
	char *buf;
	size_t size;
	size_t len;
	int error;
} Out;

__attribute__((format(printf, 2, 3))) static void out_printf(Out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->error)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->len, o->size - o->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= o->size - o->len) {
		o->error = -ENOBUFS;
		return;
	}
	o->len += (size_t)n;
}

/* " N" with v * scale rounded, or " -" when v is unknown or absurd. */
static void out_units(Out *o, double v, double scale)
{
	double x = v * scale;

	if (!isfinite(x) || fabs(x) > UNIT_LIMIT)
		out_printf(o, " -");
	else
		out_printf(o, " %lld", (long long)llround(x));
}

static void out_time(Out *o, double t_s)
{
	out_units(o, t_s, 1000.0);
}

/* ---- formatting ---- */

static void format_header(Out *o, const PacerJournalRecord *rec)
{
	out_printf(o, "J %d %llu %ld %d ", PACER_JOURNAL_VERSION,
		   (unsigned long long)rec->header.start_unix_ms, (long)rec->header.utc_offset_s,
		   rec->header.free_run ? 1 : 0);
	if (rec->header.free_run || rec->header.workout[0] == '\0') {
		out_printf(o, "-");
		return;
	}
	for (const char *p = rec->header.workout; *p && !o->error; p++) {
		unsigned char ch = (unsigned char)*p;

		out_printf(o, "%c", ch < 0x20 || ch == 0x7f ? ' ' : (char)ch);
	}
}

static void format_lap(Out *o, const PacerJournalRecord *rec)
{
	const PacerRunLap *l = &rec->lap;

	out_printf(o, "L");
	out_time(o, rec->t_s);
	out_time(o, rec->timer_s);
	out_printf(o, " %u %s %s", l->step, pacer_step_kind_to_string(l->kind),
		   pacer_lap_trigger_to_string(l->trigger));
	out_time(o, l->time_s);
	out_units(o, l->distance_m, 100.0);
	out_units(o, l->avg_hr_bpm, 100.0);
	out_time(o, l->hr_time_s);
	out_units(o, l->max_hr_bpm, 1.0);
	out_units(o, l->avg_cadence_spm, 100.0);
	out_time(o, l->cadence_time_s);
	out_units(o, l->max_cadence_spm, 100.0);
	out_units(o, l->max_speed_mps, 1000.0);
}

int pacer_journal_format(const PacerJournalRecord *rec, char *buf, size_t size)
{
	Out o = {.buf = buf, .size = size};
	uint16_t crc;

	if (size == 0)
		return -ENOBUFS;
	buf[0] = '\0';
	switch (rec->kind) {
	case PACER_JOURNAL_HEADER:
		format_header(&o, rec);
		break;
	case PACER_JOURNAL_SAMPLE:
		out_printf(&o, "S");
		out_time(&o, rec->t_s);
		out_time(&o, rec->timer_s);
		out_units(&o, rec->sample.distance_m, 100.0);
		out_units(&o, rec->sample.hr_bpm, 1.0);
		out_units(&o, rec->sample.cadence_spm, 10.0);
		out_units(&o, rec->sample.speed_mps, 1000.0);
		out_units(&o, rec->sample.incline_pct, 10.0);
		break;
	case PACER_JOURNAL_RR:
		if (rec->rr.n == 0 || rec->rr.n > PACER_JOURNAL_MAX_RR)
			return -EINVAL;
		out_printf(&o, "R");
		out_time(&o, rec->t_s);
		for (size_t i = 0; i < rec->rr.n; i++)
			out_units(&o, rec->rr.ms[i], 1.0);
		break;
	case PACER_JOURNAL_EVENT:
		out_printf(&o, "E");
		out_time(&o, rec->t_s);
		out_time(&o, rec->timer_s);
		out_printf(&o, " %s", pacer_event_type_to_string(rec->event.type));
		if (rec->event.step >= 0)
			out_printf(&o, " %d", rec->event.step);
		else
			out_printf(&o, " -");
		if (rec->event.has_kind)
			out_printf(&o, " %s", pacer_step_kind_to_string(rec->event.kind));
		break;
	case PACER_JOURNAL_LAP:
		format_lap(&o, rec);
		break;
	case PACER_JOURNAL_SENSOR:
		out_printf(&o, "D");
		out_time(&o, rec->t_s);
		out_printf(&o, " %s", sensor_name(rec->sensor));
		break;
	}
	if (o.error) {
		buf[0] = '\0';
		return o.error;
	}
	crc = pacer_fit_crc16(0, buf, o.len);
	out_printf(&o, " *%04x\n", (unsigned)crc);
	if (o.error) {
		buf[0] = '\0';
		return o.error;
	}
	return (int)o.len;
}

/* ---- parsing ---- */

typedef struct {
	const char *p;
	size_t len;
} Token;

static bool token_is(const Token *t, const char *s)
{
	return strlen(s) == t->len && memcmp(t->p, s, t->len) == 0;
}

/* A strict integer: optional '-', 1-18 digits. */
static int token_int(const Token *t, int64_t *ret)
{
	size_t i = 0;
	int64_t v = 0;
	bool neg = false;

	if (t->len > 0 && t->p[0] == '-') {
		neg = true;
		i = 1;
	}
	if (i >= t->len || t->len - i > 18)
		return -EBADMSG;
	for (; i < t->len; i++) {
		if (t->p[i] < '0' || t->p[i] > '9')
			return -EBADMSG;
		v = v * 10 + (t->p[i] - '0');
	}
	*ret = neg ? -v : v;
	return 0;
}

/* A value in units of 1/scale, or '-' for unknown (NAN). */
static int token_units(const Token *t, double scale, double *ret)
{
	int64_t v;

	if (token_is(t, "-")) {
		*ret = NAN;
		return 0;
	}
	if (token_int(t, &v) < 0)
		return -EBADMSG;
	*ret = (double)v / scale;
	return 0;
}

/* A known, non-negative time in ms. */
static int token_time(const Token *t, double *ret)
{
	int64_t v;

	if (token_int(t, &v) < 0 || v < 0)
		return -EBADMSG;
	*ret = (double)v / 1000.0;
	return 0;
}

static int token_index(const Token *t, int64_t max, int64_t *ret)
{
	if (token_int(t, ret) < 0 || *ret < 0 || *ret > max)
		return -EBADMSG;
	return 0;
}

static int token_step_kind(const Token *t, PacerStepKind *ret)
{
	for (int k = PACER_STEP_WARMUP; k <= PACER_STEP_COOLDOWN; k++) {
		if (token_is(t, pacer_step_kind_to_string((PacerStepKind)k))) {
			*ret = (PacerStepKind)k;
			return 0;
		}
	}
	return -EBADMSG;
}

static int token_event(const Token *t, PacerEventType *ret)
{
	for (int k = 0; k < PACER_EVENT_TYPE_COUNT; k++) {
		if (token_is(t, pacer_event_type_to_string((PacerEventType)k))) {
			*ret = (PacerEventType)k;
			return 0;
		}
	}
	return -EBADMSG;
}

static int token_sensor(const Token *t, PacerSensorKind *ret)
{
	for (int k = PACER_SENSOR_HEART_RATE; k <= PACER_SENSOR_TREADMILL; k++) {
		if (token_is(t, sensor_name((PacerSensorKind)k))) {
			*ret = (PacerSensorKind)k;
			return 0;
		}
	}
	return -EBADMSG;
}

static int token_trigger(const Token *t, PacerLapTrigger *ret)
{
	for (int k = PACER_LAP_TRIGGER_MANUAL; k <= PACER_LAP_TRIGGER_DISTANCE; k++) {
		if (token_is(t, pacer_lap_trigger_to_string((PacerLapTrigger)k))) {
			*ret = (PacerLapTrigger)k;
			return 0;
		}
	}
	return -EBADMSG;
}

/* Splits at single spaces; returns the number of tokens or -EBADMSG. */
static int tokenize(const char *s, size_t len, Token *tok, size_t max)
{
	size_t n = 0, start = 0;

	for (size_t i = 0; i <= len; i++) {
		if (i < len && s[i] != ' ')
			continue;
		if (i == start || n == max)
			return -EBADMSG;
		tok[n++] = (Token){s + start, i - start};
		start = i + 1;
	}
	return (int)n;
}

/* Checks " *XXXX" at the end; returns the length of the content before it, or -EBADMSG. */
static int check_crc(const char *line, size_t len)
{
	unsigned crc = 0;

	if (len < 7 || line[len - 6] != ' ' || line[len - 5] != '*')
		return -EBADMSG;
	for (size_t i = len - 4; i < len; i++) {
		int d = pacer_hex_digit(line[i]);

		if (d < 0 || (line[i] >= 'A' && line[i] <= 'F'))
			return -EBADMSG;
		crc = crc << 4 | (unsigned)d;
	}
	if (pacer_fit_crc16(0, line, len - 6) != crc)
		return -EBADMSG;
	return (int)(len - 6);
}

static int parse_header(const char *s, size_t len, PacerJournalRecord *ret)
{
	Token t[5];
	int64_t version, start, offset, free_run;
	size_t used = 0, text_len;
	const char *text;

	/* the workout text may hold spaces: split off the first five fields only */
	for (size_t n = 0; n < 5; n++) {
		const char *sp;
		size_t end;

		if (used >= len)
			return -EBADMSG;
		sp = memchr(s + used, ' ', len - used);
		end = sp ? (size_t)(sp - s) : len;
		if (end == used)
			return -EBADMSG;
		t[n] = (Token){s + used, end - used};
		used = end + 1;
	}
	if (!token_is(&t[0], "J") || token_int(&t[1], &version) < 0)
		return -EBADMSG;
	if (version != PACER_JOURNAL_VERSION)
		return -EPROTONOSUPPORT;
	if (token_int(&t[2], &start) < 0 || start < 0 || token_int(&t[3], &offset) < 0 ||
	    offset < -86400 || offset > 86400 || token_int(&t[4], &free_run) < 0 || free_run < 0 ||
	    free_run > 1)
		return -EBADMSG;
	if (used > len)
		return -EBADMSG; /* no workout text */
	text = s + used;
	text_len = len - used;
	if (text_len == 0 || text_len > PACER_WORKOUT_MAX_TEXT)
		return -EBADMSG;
	ret->kind = PACER_JOURNAL_HEADER;
	ret->t_s = 0;
	ret->timer_s = 0;
	ret->header.start_unix_ms = (uint64_t)start;
	ret->header.utc_offset_s = (int32_t)offset;
	ret->header.free_run = free_run == 1;
	if (ret->header.free_run || (text_len == 1 && text[0] == '-'))
		text_len = 0;
	memcpy(ret->header.workout, text, text_len);
	ret->header.workout[text_len] = '\0';
	return 0;
}

static int parse_sample(const Token *t, int n, PacerJournalRecord *ret)
{
	PacerRunSample *s = &ret->sample;

	if (n != 8 || token_time(&t[1], &ret->t_s) < 0 || token_time(&t[2], &ret->timer_s) < 0 ||
	    token_units(&t[3], 100.0, &s->distance_m) < 0 || !isfinite(s->distance_m) ||
	    token_units(&t[4], 1.0, &s->hr_bpm) < 0 || token_units(&t[5], 10.0, &s->cadence_spm) < 0 ||
	    token_units(&t[6], 1000.0, &s->speed_mps) < 0 ||
	    token_units(&t[7], 10.0, &s->incline_pct) < 0)
		return -EBADMSG;
	ret->kind = PACER_JOURNAL_SAMPLE;
	s->t_s = ret->t_s;
	s->timer_s = ret->timer_s;
	return 0;
}

static int parse_rr(const Token *t, int n, PacerJournalRecord *ret)
{
	if (n < 3 || n > 2 + PACER_JOURNAL_MAX_RR || token_time(&t[1], &ret->t_s) < 0)
		return -EBADMSG;
	ret->kind = PACER_JOURNAL_RR;
	ret->timer_s = 0;
	ret->rr.n = (size_t)(n - 2);
	for (int i = 2; i < n; i++) {
		int64_t v;

		if (token_index(&t[i], 65535, &v) < 0)
			return -EBADMSG;
		ret->rr.ms[i - 2] = (double)v;
	}
	return 0;
}

static int parse_event(const Token *t, int n, PacerJournalRecord *ret)
{
	int64_t step = -1;

	if ((n != 5 && n != 6) || token_time(&t[1], &ret->t_s) < 0 ||
	    token_time(&t[2], &ret->timer_s) < 0 || token_event(&t[3], &ret->event.type) < 0)
		return -EBADMSG;
	if (!token_is(&t[4], "-") && token_index(&t[4], PACER_WORKOUT_MAX_STEPS * 64, &step) < 0)
		return -EBADMSG;
	ret->kind = PACER_JOURNAL_EVENT;
	ret->event.step = (int)step;
	ret->event.has_kind = n == 6;
	ret->event.kind = PACER_STEP_RUN;
	if (n == 6 && token_step_kind(&t[5], &ret->event.kind) < 0)
		return -EBADMSG;
	return 0;
}

static int parse_lap(const Token *t, int n, PacerJournalRecord *ret)
{
	PacerRunLap *l = &ret->lap;
	int64_t step;

	if (n != 15 || token_time(&t[1], &ret->t_s) < 0 || token_time(&t[2], &ret->timer_s) < 0 ||
	    token_index(&t[3], PACER_WORKOUT_MAX_STEPS * 64, &step) < 0 ||
	    token_step_kind(&t[4], &l->kind) < 0 || token_trigger(&t[5], &l->trigger) < 0 ||
	    token_time(&t[6], &l->time_s) < 0 || token_units(&t[7], 100.0, &l->distance_m) < 0 ||
	    !isfinite(l->distance_m) || token_units(&t[8], 100.0, &l->avg_hr_bpm) < 0 ||
	    token_time(&t[9], &l->hr_time_s) < 0 || token_units(&t[10], 1.0, &l->max_hr_bpm) < 0 ||
	    token_units(&t[11], 100.0, &l->avg_cadence_spm) < 0 ||
	    token_time(&t[12], &l->cadence_time_s) < 0 ||
	    token_units(&t[13], 100.0, &l->max_cadence_spm) < 0 ||
	    token_units(&t[14], 1000.0, &l->max_speed_mps) < 0)
		return -EBADMSG;
	ret->kind = PACER_JOURNAL_LAP;
	l->step = (unsigned)step;
	l->complete = true;
	l->end_t_s = ret->t_s;
	l->start_t_s = NAN;
	l->start_timer_s = ret->timer_s - l->time_s;
	return 0;
}

int pacer_journal_parse_line(const char *line, size_t len, PacerJournalRecord *ret)
{
	Token t[MAX_TOKENS];
	int content, n;

	if (len > 0 && line[len - 1] == '\n')
		len--;
	if (len > PACER_JOURNAL_LINE_MAX)
		return -EBADMSG;
	content = check_crc(line, len);
	if (content < 0)
		return content;
	if (content >= 1 && line[0] == 'J')
		return parse_header(line, (size_t)content, ret);
	n = tokenize(line, (size_t)content, t, MAX_TOKENS);
	if (n < 2 || t[0].len != 1)
		return -EBADMSG;
	switch (t[0].p[0]) {
	case 'S':
		return parse_sample(t, n, ret);
	case 'R':
		return parse_rr(t, n, ret);
	case 'E':
		return parse_event(t, n, ret);
	case 'L':
		return parse_lap(t, n, ret);
	case 'D':
		if (n != 3 || token_time(&t[1], &ret->t_s) < 0 || token_sensor(&t[2], &ret->sensor) < 0)
			return -EBADMSG;
		ret->kind = PACER_JOURNAL_SENSOR;
		ret->timer_s = 0;
		return 0;
	default:
		return -EBADMSG;
	}
}

/* ---- the run ---- */

PacerRun *pacer_run_new(void)
{
	PacerRun *run = calloc(1, sizeof(*run));

	if (!run)
		return NULL;
	run->avg_hr_bpm = run->max_hr_bpm = NAN;
	run->avg_cadence_spm = run->max_cadence_spm = NAN;
	run->avg_speed_mps = run->max_speed_mps = NAN;
	return run;
}

void pacer_run_free(PacerRun *run)
{
	if (!run)
		return;
	free(run->samples);
	free(run->laps);
	free(run->marks);
	free(run->rr);
	free(run);
}

/* Makes room for one more element of `size` octets in *items. */
static int grow(void **items, size_t n, size_t *cap, size_t size)
{
	size_t new_cap;
	void *p;

	if (n < *cap)
		return 0;
	new_cap = *cap ? *cap * 2 : 64;
	if (new_cap > SIZE_MAX / size)
		return -ENOMEM;
	p = realloc(*items, new_cap * size);
	if (!p)
		return -ENOMEM;
	*items = p;
	*cap = new_cap;
	return 0;
}

#define GROW(run, field, n, cap) grow((void **)&(run)->field, (run)->n, &(run)->cap, sizeof(*(run)->field))

static int add_mark(PacerRun *run, double t_s, PacerRunMarkKind kind)
{
	if (GROW(run, marks, n_marks, marks_cap) < 0)
		return -ENOMEM;
	run->marks[run->n_marks++] = (PacerRunMark){.t_s = t_s, .kind = kind};
	return 0;
}

static PacerRunLap *open_lap(PacerRun *run)
{
	if (run->n_laps > 0 && !run->laps[run->n_laps - 1].complete)
		return &run->laps[run->n_laps - 1];
	return NULL;
}

static int begin_lap(PacerRun *run, const PacerJournalRecord *rec)
{
	PacerRunLap *l;

	if (GROW(run, laps, n_laps, laps_cap) < 0)
		return -ENOMEM;
	/* a lap left open (a lost L line) ends where the next begins */
	l = open_lap(run);
	if (l)
		l->end_t_s = rec->t_s;
	l = &run->laps[run->n_laps++];
	*l = (PacerRunLap){
		.step = rec->event.step >= 0 ? (unsigned)rec->event.step : (unsigned)run->n_laps - 1,
		.kind = rec->event.has_kind ? rec->event.kind : PACER_STEP_RUN,
		.trigger = PACER_LAP_TRIGGER_MANUAL,
		.start_t_s = rec->t_s,
		.end_t_s = NAN,
		.start_timer_s = rec->timer_s,
	};
	return 0;
}

static int end_lap(PacerRun *run, const PacerJournalRecord *rec)
{
	PacerRunLap *l = open_lap(run);
	double start_t;

	if (!l) {
		/* its start was lost: it began where the previous lap ended */
		if (GROW(run, laps, n_laps, laps_cap) < 0)
			return -ENOMEM;
		start_t = run->n_laps > 0 ? run->laps[run->n_laps - 1].end_t_s : 0.0;
		l = &run->laps[run->n_laps++];
		l->start_t_s = start_t;
	}
	start_t = l->start_t_s;
	*l = rec->lap;
	l->start_t_s = isfinite(start_t) ? start_t : 0.0;
	l->end_t_s = rec->t_s;
	l->start_timer_s = rec->timer_s - l->time_s;
	l->complete = true;
	return add_mark(run, rec->t_s, PACER_RUN_MARK_LAP);
}

static int add_event(PacerRun *run, const PacerJournalRecord *rec)
{
	switch (rec->event.type) {
	case PACER_EVENT_WORKOUT_STARTED:
		return add_mark(run, rec->t_s, PACER_RUN_MARK_START);
	case PACER_EVENT_STEP_STARTED:
		return begin_lap(run, rec);
	case PACER_EVENT_WORKOUT_PAUSED:
		return add_mark(run, rec->t_s, PACER_RUN_MARK_PAUSE);
	case PACER_EVENT_WORKOUT_RESUMED:
		return add_mark(run, rec->t_s, PACER_RUN_MARK_RESUME);
	case PACER_EVENT_WORKOUT_FINISHED:
		if (run->finished)
			return 0;
		run->finished = true;
		return add_mark(run, rec->t_s, PACER_RUN_MARK_FINISH);
	case PACER_EVENT_RECORDING_RECOVERED:
	case PACER_EVENT_STEP_COUNTDOWN:
	case PACER_EVENT_STEP_ENDED:
	case PACER_EVENT_SPLIT:
	case PACER_EVENT_PACE_HIGH:
	case PACER_EVENT_PACE_LOW:
	case PACER_EVENT_PACE_ON_TARGET:
	case PACER_EVENT_HR_HIGH:
	case PACER_EVENT_HR_LOW:
	case PACER_EVENT_HR_ON_TARGET:
	case PACER_EVENT_CADENCE_LOW:
	case PACER_EVENT_CADENCE_HIGH:
	case PACER_EVENT_CADENCE_ON_TARGET:
	case PACER_EVENT_ZONE_CHANGED:
	case PACER_EVENT_SENSOR_CONNECTED:
	case PACER_EVENT_SENSOR_LOST:
	case PACER_EVENT_BATTERY_LOW:
		break;
	}
	return 0;
}

int pacer_run_add(PacerRun *run, const PacerJournalRecord *rec)
{
	switch (rec->kind) {
	case PACER_JOURNAL_HEADER:
		if (run->has_header)
			return -EINVAL;
		run->has_header = true;
		run->start_unix_ms = rec->header.start_unix_ms;
		run->utc_offset_s = rec->header.utc_offset_s;
		run->free_run = rec->header.free_run;
		memcpy(run->workout, rec->header.workout, sizeof(run->workout));
		run->workout[sizeof(run->workout) - 1] = '\0';
		return 0;
	case PACER_JOURNAL_SAMPLE:
		if (run->n_samples > 0 && (rec->t_s < run->samples[run->n_samples - 1].t_s ||
					   rec->timer_s < run->samples[run->n_samples - 1].timer_s))
			return 0;
		if (GROW(run, samples, n_samples, samples_cap) < 0)
			return -ENOMEM;
		run->samples[run->n_samples] = rec->sample;
		run->samples[run->n_samples].t_s = rec->t_s;
		run->samples[run->n_samples].timer_s = rec->timer_s;
		run->n_samples++;
		return 0;
	case PACER_JOURNAL_RR:
		for (size_t i = 0; i < rec->rr.n && i < PACER_JOURNAL_MAX_RR; i++) {
			if (GROW(run, rr, n_rr, rr_cap) < 0)
				return -ENOMEM;
			run->rr[run->n_rr++] = (PacerRunRr){.t_s = rec->t_s, .rr_ms = rec->rr.ms[i]};
		}
		return 0;
	case PACER_JOURNAL_EVENT:
		return add_event(run, rec);
	case PACER_JOURNAL_LAP:
		return end_lap(run, rec);
	case PACER_JOURNAL_SENSOR:
		if ((unsigned)rec->sensor < 8)
			run->sensors |= 1u << (unsigned)rec->sensor;
		return 0;
	}
	return -EINVAL;
}

/* ---- finishing ---- */

static double run_end(const PacerRun *run)
{
	double end = 0.0;

	if (run->n_samples > 0)
		end = fmax(end, run->samples[run->n_samples - 1].t_s);
	if (run->n_marks > 0)
		end = fmax(end, run->marks[run->n_marks - 1].t_s);
	for (size_t i = 0; i < run->n_laps; i++) {
		if (isfinite(run->laps[i].end_t_s))
			end = fmax(end, run->laps[i].end_t_s);
	}
	return end;
}

/* The samples' view of distance and active time at run time t (the last sample at or before t). */
static const PacerRunSample *sample_at(const PacerRun *run, double t)
{
	const PacerRunSample *best = NULL;

	for (size_t i = 0; i < run->n_samples && run->samples[i].t_s <= t + 1e-9; i++)
		best = &run->samples[i];
	return best;
}

typedef struct {
	double sum, time, max;
} Avg;

static void avg_add(Avg *a, double v, double w)
{
	if (!isfinite(v))
		return;
	a->sum += v * w;
	a->time += w;
	a->max = isfinite(a->max) ? fmax(a->max, v) : v;
}

static double avg_value(const Avg *a)
{
	return a->time > 0 ? a->sum / a->time : NAN;
}

/* An open lap from its samples: each sample weighs the active time since the one before. */
static void compute_lap(const PacerRun *run, PacerRunLap *l)
{
	const PacerRunSample *first = sample_at(run, l->start_t_s);
	double prev_timer = first ? first->timer_s : l->start_timer_s;
	double start_dist = first ? first->distance_m : 0.0;
	Avg hr = {0, 0, NAN}, cad = {0, 0, NAN}, speed = {0, 0, NAN};
	const PacerRunSample *last = first;

	if (!isfinite(prev_timer))
		prev_timer = 0.0;
	for (size_t i = 0; i < run->n_samples; i++) {
		const PacerRunSample *s = &run->samples[i];
		double w;

		if (s->t_s <= l->start_t_s + 1e-9 || s->t_s > l->end_t_s + 1e-9)
			continue;
		w = fmax(s->timer_s - prev_timer, 0.0);
		prev_timer = s->timer_s;
		avg_add(&hr, s->hr_bpm, w);
		avg_add(&cad, s->cadence_spm, w);
		avg_add(&speed, s->speed_mps, w);
		last = s;
	}
	l->start_timer_s = first ? first->timer_s : (isfinite(l->start_timer_s) ? l->start_timer_s : 0);
	l->time_s = last ? fmax(last->timer_s - l->start_timer_s, 0.0) : 0.0;
	l->distance_m = last ? fmax(last->distance_m - start_dist, 0.0) : 0.0;
	l->avg_hr_bpm = avg_value(&hr);
	l->max_hr_bpm = hr.max;
	l->hr_time_s = hr.time;
	l->avg_cadence_spm = avg_value(&cad);
	l->max_cadence_spm = cad.max;
	l->cadence_time_s = cad.time;
	l->max_speed_mps = speed.max;
	l->complete = false;
}

static void compute_totals(PacerRun *run)
{
	Avg hr = {0, 0, NAN}, cad = {0, 0, NAN};
	double max_speed = NAN;

	run->timer_s = 0.0;
	run->distance_m = 0.0;
	for (size_t i = 0; i < run->n_laps; i++) {
		const PacerRunLap *l = &run->laps[i];

		run->timer_s += l->time_s;
		run->distance_m += l->distance_m;
		if (isfinite(l->avg_hr_bpm) && l->hr_time_s > 0) {
			hr.sum += l->avg_hr_bpm * l->hr_time_s;
			hr.time += l->hr_time_s;
		}
		if (isfinite(l->max_hr_bpm))
			hr.max = isfinite(hr.max) ? fmax(hr.max, l->max_hr_bpm) : l->max_hr_bpm;
		if (isfinite(l->avg_cadence_spm) && l->cadence_time_s > 0) {
			cad.sum += l->avg_cadence_spm * l->cadence_time_s;
			cad.time += l->cadence_time_s;
		}
		if (isfinite(l->max_cadence_spm))
			cad.max = isfinite(cad.max) ? fmax(cad.max, l->max_cadence_spm)
						    : l->max_cadence_spm;
		if (isfinite(l->max_speed_mps))
			max_speed = isfinite(max_speed) ? fmax(max_speed, l->max_speed_mps)
							: l->max_speed_mps;
	}
	run->avg_hr_bpm = avg_value(&hr);
	run->max_hr_bpm = hr.max;
	run->avg_cadence_spm = avg_value(&cad);
	run->max_cadence_spm = cad.max;
	run->avg_speed_mps = run->timer_s > 0 ? run->distance_m / run->timer_s : NAN;
	run->max_speed_mps = max_speed;
}

void pacer_run_finish(PacerRun *run)
{
	run->end_t_s = run_end(run);
	if (run->n_laps == 0 && GROW(run, laps, n_laps, laps_cap) == 0) {
		run->laps[0] = (PacerRunLap){.kind = PACER_STEP_RUN, .start_t_s = 0.0, .end_t_s = NAN};
		run->n_laps = 1;
	}
	for (size_t i = 0; i < run->n_laps; i++) {
		PacerRunLap *l = &run->laps[i];

		if (!isfinite(l->end_t_s) || (!l->complete && i + 1 == run->n_laps))
			l->end_t_s = run->end_t_s;
		if (!isfinite(l->start_t_s))
			l->start_t_s = i > 0 ? run->laps[i - 1].end_t_s : 0.0;
		if (l->end_t_s < l->start_t_s)
			l->end_t_s = l->start_t_s;
		if (!l->complete)
			compute_lap(run, l);
	}
	compute_totals(run);
}

int pacer_run_parse_journal(const char *data, size_t len, PacerRun **ret, size_t *ret_skipped)
{
	PacerRun *run = pacer_run_new();
	PacerJournalRecord *rec = malloc(sizeof(*rec));
	size_t at = 0, skipped = 0;
	int r = 0;

	if (!run || !rec) {
		pacer_run_free(run);
		free(rec);
		return -ENOMEM;
	}
	while (at < len) {
		const char *nl = memchr(data + at, '\n', len - at);
		size_t line_len;

		if (!nl) {
			skipped++; /* torn by the power cut */
			break;
		}
		line_len = (size_t)(nl - (data + at)) + 1;
		if (pacer_journal_parse_line(data + at, line_len, rec) < 0 ||
		    (!run->has_header && rec->kind != PACER_JOURNAL_HEADER) ||
		    (r = pacer_run_add(run, rec)) == -EINVAL) {
			skipped++;
			r = 0;
		}
		at += line_len;
		if (r == -ENOMEM)
			break;
	}
	free(rec);
	if (r == -ENOMEM || !run->has_header) {
		pacer_run_free(run);
		return r == -ENOMEM ? -ENOMEM : -EBADMSG;
	}
	pacer_run_finish(run);
	*ret = run;
	if (ret_skipped)
		*ret_skipped = skipped;
	return 0;
}
