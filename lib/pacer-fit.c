/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "pacer-fit.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#define PROTOCOL_VERSION 0x20 /* 2.0 */
#define PROFILE_VERSION 2140  /* 21.40: every message and field used here is older */
#define PRODUCT_NAME_SIZE 20

/* base types */
#define T_ENUM 0x00
#define T_SINT8 0x01
#define T_UINT8 0x02
#define T_SINT16 0x83
#define T_UINT16 0x84
#define T_SINT32 0x85
#define T_UINT32 0x86
#define T_STRING 0x07
#define T_UINT8Z 0x0a
#define T_UINT16Z 0x8b
#define T_UINT32Z 0x8c

#define INV8 0xffu
#define INV16 0xffffu
#define INV32 0xffffffffu
#define SINV16 0x7fff

/* global message numbers */
enum {
	MESG_FILE_ID = 0,
	MESG_SESSION = 18,
	MESG_LAP = 19,
	MESG_RECORD = 20,
	MESG_EVENT = 21,
	MESG_DEVICE_INFO = 23,
	MESG_ACTIVITY = 34,
	MESG_FILE_CREATOR = 49,
	MESG_HRV = 78,
};

/* profile values */
enum {
	FILE_ACTIVITY = 4,
	EVENT_TIMER = 0,
	EVENT_SESSION = 8,
	EVENT_LAP = 9,
	EVENT_ACTIVITY = 26,
	EVENT_TYPE_START = 0,
	EVENT_TYPE_STOP = 1,
	EVENT_TYPE_MARKER = 3,
	EVENT_TYPE_STOP_ALL = 4,
	SPORT_RUNNING = 1,
	SUB_SPORT_GENERIC = 0,
	SUB_SPORT_TREADMILL = 1,
	INTENSITY_ACTIVE = 0,
	INTENSITY_REST = 1,
	INTENSITY_WARMUP = 2,
	INTENSITY_COOLDOWN = 3,
	INTENSITY_RECOVERY = 4,
	LAP_TRIGGER_MANUAL = 0,
	LAP_TRIGGER_TIME = 1,
	LAP_TRIGGER_DISTANCE = 2,
	SESSION_TRIGGER_ACTIVITY_END = 0,
	ACTIVITY_MANUAL = 0,
	SOURCE_BLE = 3,
	BLE_HEART_RATE = 1,
	BLE_FOOTPOD = 6,
	HRV_PER_MESSAGE = 5,
};

typedef struct {
	uint8_t num, size, base;
} FieldDef;

typedef struct {
	uint16_t global;
	size_t n_fields;
	const FieldDef *fields;
} MesgDef;

static const FieldDef file_id_fields[] = {
	{0, 1, T_ENUM}, {1, 2, T_UINT16}, {2, 2, T_UINT16}, {3, 4, T_UINT32Z}, {4, 4, T_UINT32},
	{8, PRODUCT_NAME_SIZE, T_STRING},
};
static const FieldDef file_creator_fields[] = {{0, 2, T_UINT16}};
static const FieldDef device_info_fields[] = {
	{253, 4, T_UINT32}, {3, 4, T_UINT32Z}, {2, 2, T_UINT16}, {4, 2, T_UINT16},
	{5, 2, T_UINT16},   {0, 1, T_UINT8},   {1, 1, T_UINT8},	  {25, 1, T_ENUM},
};
static const FieldDef event_fields[] = {
	{253, 4, T_UINT32}, {3, 4, T_UINT32}, {0, 1, T_ENUM}, {1, 1, T_ENUM}, {4, 1, T_UINT8},
};
static const FieldDef record_fields[] = {
	{253, 4, T_UINT32}, {5, 4, T_UINT32}, {73, 4, T_UINT32}, {9, 2, T_SINT16},
	{3, 1, T_UINT8},    {4, 1, T_UINT8},  {53, 1, T_UINT8},
};
static const FieldDef lap_fields[] = {
	{253, 4, T_UINT32}, {2, 4, T_UINT32}, {7, 4, T_UINT32},	 {8, 4, T_UINT32},
	{9, 4, T_UINT32},   {110, 4, T_UINT32}, {111, 4, T_UINT32}, {254, 2, T_UINT16},
	{71, 2, T_UINT16},  {0, 1, T_ENUM},	{1, 1, T_ENUM},	    {15, 1, T_UINT8},
	{16, 1, T_UINT8},   {17, 1, T_UINT8},	{18, 1, T_UINT8},   {80, 1, T_UINT8},
	{81, 1, T_UINT8},   {23, 1, T_ENUM},	{24, 1, T_ENUM},    {25, 1, T_ENUM},
	{39, 1, T_ENUM},
};
static const FieldDef session_fields[] = {
	{253, 4, T_UINT32}, {2, 4, T_UINT32}, {7, 4, T_UINT32},	 {8, 4, T_UINT32},
	{9, 4, T_UINT32},   {124, 4, T_UINT32}, {125, 4, T_UINT32}, {254, 2, T_UINT16},
	{25, 2, T_UINT16},  {26, 2, T_UINT16},	{0, 1, T_ENUM},	    {1, 1, T_ENUM},
	{5, 1, T_ENUM},	    {6, 1, T_ENUM},	{16, 1, T_UINT8},   {17, 1, T_UINT8},
	{18, 1, T_UINT8},   {19, 1, T_UINT8},	{92, 1, T_UINT8},   {93, 1, T_UINT8},
	{28, 1, T_ENUM},
};
static const FieldDef activity_fields[] = {
	{253, 4, T_UINT32}, {0, 4, T_UINT32}, {5, 4, T_UINT32}, {1, 2, T_UINT16},
	{2, 1, T_ENUM},	    {3, 1, T_ENUM},   {4, 1, T_ENUM},
};
static const FieldDef hrv_fields[] = {{0, 2 * HRV_PER_MESSAGE, T_UINT16}};

#define MESG(g, f) {g, sizeof(f) / sizeof(f[0]), f}

/* indexed by local message type */
enum { L_FILE_ID, L_FILE_CREATOR, L_DEVICE_INFO, L_EVENT, L_RECORD, L_LAP, L_SESSION, L_ACTIVITY, L_HRV, L_COUNT };

static const MesgDef mesgs[L_COUNT] = {
	MESG(MESG_FILE_ID, file_id_fields),	  MESG(MESG_FILE_CREATOR, file_creator_fields),
	MESG(MESG_DEVICE_INFO, device_info_fields), MESG(MESG_EVENT, event_fields),
	MESG(MESG_RECORD, record_fields),	  MESG(MESG_LAP, lap_fields),
	MESG(MESG_SESSION, session_fields),	  MESG(MESG_ACTIVITY, activity_fields),
	MESG(MESG_HRV, hrv_fields),
};

/* ---- CRC and time ---- */

uint16_t pacer_fit_crc16(uint16_t crc, const void *data, size_t len)
{
	static const uint16_t table[16] = {
		0x0000, 0xcc01, 0xd801, 0x1400, 0xf001, 0x3c00, 0x2800, 0xe401,
		0xa001, 0x6c00, 0x7800, 0xb401, 0x5000, 0x9c01, 0x8801, 0x4400,
	};
	const uint8_t *p = data;

	for (size_t i = 0; i < len; i++) {
		uint16_t tmp = table[crc & 0xf];

		crc = (uint16_t)((crc >> 4) & 0x0fff);
		crc = (uint16_t)(crc ^ tmp ^ table[p[i] & 0xf]);
		tmp = table[crc & 0xf];
		crc = (uint16_t)((crc >> 4) & 0x0fff);
		crc = (uint16_t)(crc ^ tmp ^ table[(p[i] >> 4) & 0xf]);
	}
	return crc;
}

uint32_t pacer_fit_time(uint64_t unix_ms)
{
	uint64_t s = unix_ms / 1000;

	if (s < PACER_FIT_EPOCH_UNIX)
		return 0;
	s -= PACER_FIT_EPOCH_UNIX;
	return s > 0xfffffffeu ? 0xfffffffeu : (uint32_t)s;
}

/* ---- the byte stream ---- */

typedef struct {
	PacerWriteFunc write;
	void *user_data;
	bool emit; /* false in the counting pass */
	uint64_t size;
	uint16_t crc;
	int error;
	bool defined[L_COUNT];
	const PacerRun *run;
	uint32_t start; /* FIT time of the run's start */
} Enc;

static void put(Enc *e, const void *data, size_t len)
{
	if (e->error)
		return;
	e->crc = pacer_fit_crc16(e->crc, data, len);
	e->size += len;
	if (e->emit) {
		int r = e->write(data, len, e->user_data);

		if (r < 0)
			e->error = r;
	}
}

static void put_le(Enc *e, uint64_t v, size_t n)
{
	uint8_t b[8];

	for (size_t i = 0; i < n && i < sizeof(b); i++)
		b[i] = (uint8_t)(v >> (8 * i));
	put(e, b, n);
}

static void define(Enc *e, unsigned local)
{
	const MesgDef *m = &mesgs[local];

	put_le(e, 0x40u | local, 1);
	put_le(e, 0, 1); /* reserved */
	put_le(e, 0, 1); /* little-endian */
	put_le(e, m->global, 2);
	put_le(e, m->n_fields, 1);
	for (size_t i = 0; i < m->n_fields; i++) {
		put_le(e, m->fields[i].num, 1);
		put_le(e, m->fields[i].size, 1);
		put_le(e, m->fields[i].base, 1);
	}
	e->defined[local] = true;
}

/*
 * One data message: `values` holds one value per field element in the
 * definition's order (an array field takes one per element); a string
 * field takes `text`.
 */
static void message(Enc *e, unsigned local, const uint64_t *values, const char *text)
{
	const MesgDef *m = &mesgs[local];
	size_t v = 0;

	if (!e->defined[local])
		define(e, local);
	put_le(e, local, 1);
	for (size_t i = 0; i < m->n_fields; i++) {
		const FieldDef *f = &m->fields[i];

		if (f->base == T_STRING) {
			char s[PRODUCT_NAME_SIZE] = {0};
			size_t n = text ? strnlen(text, f->size - 1u) : 0;

			if (n > 0)
				memcpy(s, text, n);
			put(e, s, f->size);
			v++;
			continue;
		}
		if (f->size > 4 && f->base == T_UINT16) {
			for (size_t k = 0; k < f->size / 2u; k++)
				put_le(e, values[v++], 2);
			continue;
		}
		put_le(e, values[v++], f->size);
	}
}

/* ---- values ---- */

static uint64_t scaled(double v, double scale, uint64_t invalid)
{
	double x = v * scale;

	if (!isfinite(x) || x < 0 || x >= (double)invalid)
		return invalid;
	return (uint64_t)llround(x);
}

static uint32_t stamp(const Enc *e, double t_s)
{
	double t = t_s > 0 && isfinite(t_s) ? floor(t_s + 1e-6) : 0.0;

	if (t > 4e9)
		t = 4e9;
	return e->start + (uint32_t)t;
}

/* Steps per minute as FIT cadence (strides/min) and fractional cadence (1/128). */
static void cadence(double spm, uint64_t *ret_cad, uint64_t *ret_frac)
{
	double strides = spm / 2.0, whole;
	long frac;

	*ret_cad = INV8;
	*ret_frac = INV8;
	if (!isfinite(strides) || strides < 0 || strides >= 254.5)
		return;
	whole = floor(strides);
	frac = lround((strides - whole) * 128.0);
	if (frac >= 128) {
		whole += 1.0;
		frac = 0;
	}
	*ret_cad = (uint64_t)whole;
	*ret_frac = (uint64_t)frac;
}

static uint64_t intensity(PacerStepKind kind)
{
	switch (kind) {
	case PACER_STEP_WARMUP:
		return INTENSITY_WARMUP;
	case PACER_STEP_COOLDOWN:
		return INTENSITY_COOLDOWN;
	case PACER_STEP_RUN:
		return INTENSITY_ACTIVE;
	case PACER_STEP_REST:
	case PACER_STEP_WALK:
		return INTENSITY_REST;
	case PACER_STEP_JOG:
	case PACER_STEP_RECOVERY:
		return INTENSITY_RECOVERY;
	}
	return INTENSITY_ACTIVE;
}

static uint64_t lap_trigger(PacerLapTrigger trigger)
{
	switch (trigger) {
	case PACER_LAP_TRIGGER_MANUAL:
		return LAP_TRIGGER_MANUAL;
	case PACER_LAP_TRIGGER_TIME:
		return LAP_TRIGGER_TIME;
	case PACER_LAP_TRIGGER_DISTANCE:
		return LAP_TRIGGER_DISTANCE;
	}
	return LAP_TRIGGER_MANUAL;
}

static uint64_t sub_sport(const PacerRun *run)
{
	return (run->sensors & (1u << PACER_SENSOR_TREADMILL)) ? SUB_SPORT_TREADMILL
							      : SUB_SPORT_GENERIC;
}

/* ---- messages ---- */

static void write_preamble(Enc *e, const PacerFitCreator *c)
{
	const PacerRun *run = e->run;
	uint64_t file_id[] = {FILE_ACTIVITY, PACER_FIT_MANUFACTURER_DEVELOPMENT, c->product,
			      c->serial_number, e->start, 0};
	uint64_t creator[] = {c->software_version};
	uint64_t dev[] = {e->start, c->serial_number, PACER_FIT_MANUFACTURER_DEVELOPMENT, c->product,
			  c->software_version, 0, INV8, INV8};
	static const PacerSensorKind kinds[] = {PACER_SENSOR_HEART_RATE, PACER_SENSOR_FOOTPOD,
						PACER_SENSOR_TREADMILL};
	uint64_t index = 1;

	message(e, L_FILE_ID, file_id, c->product_name);
	message(e, L_FILE_CREATOR, creator, NULL);
	message(e, L_DEVICE_INFO, dev, NULL);
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		uint64_t type = kinds[i] == PACER_SENSOR_HEART_RATE ? BLE_HEART_RATE
				: kinds[i] == PACER_SENSOR_FOOTPOD  ? BLE_FOOTPOD
								    : INV8;
		uint64_t sensor[] = {e->start, 0, INV16, INV16, INV16, index, type, SOURCE_BLE};

		if (!(run->sensors & (1u << kinds[i])))
			continue;
		message(e, L_DEVICE_INFO, sensor, NULL);
		index++;
	}
}

static void write_event(Enc *e, double t_s, uint64_t event, uint64_t type, uint64_t data)
{
	uint64_t v[] = {stamp(e, t_s), data, event, type, 0};

	message(e, L_EVENT, v, NULL);
}

static void write_record(Enc *e, const PacerRunSample *s)
{
	uint64_t cad, frac, grade = SINV16;
	double g = s->incline_pct * 100.0;

	if (isfinite(g) && fabs(g) < 32767.0)
		grade = (uint64_t)(uint16_t)(int16_t)lround(g);
	cadence(s->cadence_spm, &cad, &frac);
	{
		uint64_t v[] = {stamp(e, s->t_s),
				scaled(s->distance_m, 100.0, INV32),
				scaled(s->speed_mps, 1000.0, INV32),
				grade,
				scaled(s->hr_bpm, 1.0, INV8),
				cad,
				frac};

		message(e, L_RECORD, v, NULL);
	}
}

static void write_lap(Enc *e, const PacerRunLap *l, size_t index)
{
	uint64_t cad, frac, max_cad, max_frac;
	double avg_speed = l->time_s > 0 ? l->distance_m / l->time_s : NAN;

	cadence(l->avg_cadence_spm, &cad, &frac);
	cadence(l->max_cadence_spm, &max_cad, &max_frac);
	{
		uint64_t v[] = {stamp(e, l->end_t_s),
				stamp(e, l->start_t_s),
				scaled(l->end_t_s - l->start_t_s, 1000.0, INV32),
				scaled(l->time_s, 1000.0, INV32),
				scaled(l->distance_m, 100.0, INV32),
				scaled(avg_speed, 1000.0, INV32),
				scaled(l->max_speed_mps, 1000.0, INV32),
				index,
				e->run->free_run ? INV16 : (l->step < INV16 ? l->step : INV16),
				EVENT_LAP,
				EVENT_TYPE_STOP,
				scaled(l->avg_hr_bpm, 1.0, INV8),
				scaled(l->max_hr_bpm, 1.0, INV8),
				cad,
				max_cad,
				frac,
				max_frac,
				intensity(l->kind),
				lap_trigger(l->trigger),
				SPORT_RUNNING,
				sub_sport(e->run)};

		message(e, L_LAP, v, NULL);
	}
}

static void write_session(Enc *e)
{
	const PacerRun *run = e->run;
	uint64_t cad, frac, max_cad, max_frac;

	cadence(run->avg_cadence_spm, &cad, &frac);
	cadence(run->max_cadence_spm, &max_cad, &max_frac);
	{
		uint64_t v[] = {stamp(e, run->end_t_s),
				e->start,
				scaled(run->end_t_s, 1000.0, INV32),
				scaled(run->timer_s, 1000.0, INV32),
				scaled(run->distance_m, 100.0, INV32),
				scaled(run->avg_speed_mps, 1000.0, INV32),
				scaled(run->max_speed_mps, 1000.0, INV32),
				0,
				0,
				run->n_laps < INV16 ? run->n_laps : INV16 - 1,
				EVENT_SESSION,
				EVENT_TYPE_STOP,
				SPORT_RUNNING,
				sub_sport(run),
				scaled(run->avg_hr_bpm, 1.0, INV8),
				scaled(run->max_hr_bpm, 1.0, INV8),
				cad,
				max_cad,
				frac,
				max_frac,
				SESSION_TRIGGER_ACTIVITY_END};

		message(e, L_SESSION, v, NULL);
	}
}

static void write_activity(Enc *e)
{
	const PacerRun *run = e->run;
	uint32_t end = stamp(e, run->end_t_s);
	uint64_t v[] = {end,
			scaled(run->timer_s, 1000.0, INV32),
			(uint64_t)((int64_t)end + run->utc_offset_s) & 0xffffffffu,
			1,
			ACTIVITY_MANUAL,
			EVENT_ACTIVITY,
			EVENT_TYPE_STOP};

	message(e, L_ACTIVITY, v, NULL);
}

static void write_hrv(Enc *e, size_t first, size_t n)
{
	uint64_t v[HRV_PER_MESSAGE];

	for (size_t i = 0; i < HRV_PER_MESSAGE; i++)
		v[i] = i < n ? scaled(e->run->rr[first + i].rr_ms, 1.0, INV16) : INV16;
	message(e, L_HRV, v, NULL);
}

static void write_mark(Enc *e, const PacerRunMark *m)
{
	switch (m->kind) {
	case PACER_RUN_MARK_PAUSE:
		write_event(e, m->t_s, EVENT_TIMER, EVENT_TYPE_STOP_ALL, 0);
		break;
	case PACER_RUN_MARK_RESUME:
		write_event(e, m->t_s, EVENT_TIMER, EVENT_TYPE_START, 0);
		break;
	case PACER_RUN_MARK_LAP:
		write_event(e, m->t_s, EVENT_LAP, EVENT_TYPE_MARKER, 0);
		break;
	case PACER_RUN_MARK_START:
	case PACER_RUN_MARK_FINISH:
		break; /* written before and after everything else */
	}
}

/* Records, events, laps and HRV in time order; on a tie in that order. */
static void write_stream(Enc *e)
{
	const PacerRun *run = e->run;
	size_t is = 0, im = 0, il = 0, ir = 0;

	for (;;) {
		double ts = is < run->n_samples ? run->samples[is].t_s : INFINITY;
		double tm = im < run->n_marks ? run->marks[im].t_s : INFINITY;
		double tl = il < run->n_laps ? run->laps[il].end_t_s : INFINITY;
		size_t nr = run->n_rr - ir < HRV_PER_MESSAGE ? run->n_rr - ir : HRV_PER_MESSAGE;
		double tr = nr > 0 ? run->rr[ir + nr - 1].t_s : INFINITY;

		if (e->error || (isinf(ts) && isinf(tm) && isinf(tl) && isinf(tr)))
			return;
		if (ts <= tm && ts <= tl && ts <= tr) {
			write_record(e, &run->samples[is++]);
		} else if (tm <= tl && tm <= tr) {
			write_mark(e, &run->marks[im++]);
		} else if (tl <= tr) {
			write_lap(e, &run->laps[il], il);
			il++;
		} else {
			write_hrv(e, ir, nr);
			ir += nr;
		}
	}
}

static void write_file(Enc *e, const PacerFitCreator *c, uint64_t data_size)
{
	uint8_t h[PACER_FIT_HEADER_SIZE] = {PACER_FIT_HEADER_SIZE, PROTOCOL_VERSION,
					    PROFILE_VERSION & 0xff, PROFILE_VERSION >> 8};
	uint16_t crc;

	for (size_t i = 0; i < 4; i++)
		h[4 + i] = (uint8_t)(data_size >> (8 * i));
	memcpy(h + 8, ".FIT", 4);
	crc = pacer_fit_crc16(0, h, 12);
	h[12] = (uint8_t)crc;
	h[13] = (uint8_t)(crc >> 8);
	put(e, h, sizeof(h));
	e->size = 0; /* the data size counts what follows the header */

	write_preamble(e, c);
	write_event(e, 0.0, EVENT_TIMER, EVENT_TYPE_START, 0);
	write_stream(e);
	write_event(e, e->run->end_t_s, EVENT_TIMER, EVENT_TYPE_STOP_ALL, 0);
	write_session(e);
	write_activity(e);
	if (e->emit) {
		crc = e->crc;
		put_le(e, crc, 2);
	}
}

int pacer_fit_encode(const PacerRun *run, const PacerFitCreator *creator, PacerWriteFunc write,
		     void *user_data)
{
	Enc e = {.write = write, .user_data = user_data, .run = run};
	uint64_t data_size;

	if (!run || !creator || !write || !run->has_header)
		return -EINVAL;
	e.start = pacer_fit_time(run->start_unix_ms);
	write_file(&e, creator, 0);
	data_size = e.size;
	if (data_size > 0xffffffffu)
		return -E2BIG;
	e = (Enc){.write = write, .user_data = user_data, .run = run, .emit = true, .start = e.start};
	write_file(&e, creator, data_size);
	return e.error;
}

/* ---- reading ---- */

#define MAX_FIELDS 255

typedef struct {
	bool defined;
	bool big_endian;
	uint16_t global;
	size_t n_fields;
	PacerFitField fields[MAX_FIELDS];
	size_t dev_size; /* developer fields: skipped */
	size_t size;	 /* the data message's size */
} LocalDef;

static size_t type_width(uint8_t base)
{
	switch (base & 0x1f) {
	case 0x03: /* sint16 */
	case 0x04: /* uint16 */
	case 0x0b: /* uint16z */
		return 2;
	case 0x05: /* sint32 */
	case 0x06: /* uint32 */
	case 0x08: /* float32 */
	case 0x0c: /* uint32z */
		return 4;
	case 0x09: /* float64 */
	case 0x0e: /* sint64 */
	case 0x0f: /* uint64 */
	case 0x10: /* uint64z */
		return 8;
	default:
		return 1;
	}
}

bool pacer_fit_field_uint(const PacerFitField *f, size_t index, uint64_t *ret)
{
	size_t w = type_width(f->base_type);
	uint64_t v = 0;

	if (f->size < w || index >= f->size / w)
		return false;
	for (size_t i = 0; i < w; i++) {
		size_t at = index * w + (f->big_endian ? i : w - 1 - i);

		v = v << 8 | f->data[at];
	}
	*ret = v;
	return true;
}

static int read_definition(const uint8_t *p, size_t left, bool dev, LocalDef *d, size_t *used)
{
	size_t n, need = 5, at;

	if (left < need)
		return -EBADMSG;
	if (p[1] > 1)
		return -EBADMSG;
	d->big_endian = p[1] == 1;
	d->global = d->big_endian ? (uint16_t)(p[2] << 8 | p[3]) : (uint16_t)(p[3] << 8 | p[2]);
	n = p[4];
	need += 3 * n;
	if (left < need)
		return -EBADMSG;
	d->n_fields = n;
	d->size = 0;
	for (size_t i = 0; i < n; i++) {
		const uint8_t *f = p + 5 + 3 * i;

		if (f[1] == 0)
			return -EBADMSG;
		d->fields[i] = (PacerFitField){.num = f[0], .size = f[1], .base_type = f[2],
					       .big_endian = d->big_endian};
		d->size += f[1];
	}
	at = need;
	d->dev_size = 0;
	if (dev) {
		size_t nd;

		if (left < at + 1)
			return -EBADMSG;
		nd = p[at];
		if (left < at + 1 + 3 * nd)
			return -EBADMSG;
		for (size_t i = 0; i < nd; i++)
			d->dev_size += p[at + 1 + 3 * i + 1];
		at += 1 + 3 * nd;
	}
	d->defined = true;
	*used = at;
	return 0;
}

static int check_header(const uint8_t *data, size_t len, size_t *ret_header, size_t *ret_end)
{
	size_t hs;
	uint32_t data_size;

	if (len < 12)
		return -EBADMSG;
	hs = data[0];
	if ((hs != 12 && hs != 14) || len < hs || memcmp(data + 8, ".FIT", 4) != 0)
		return -EBADMSG;
	if (hs == 14) {
		uint16_t crc = (uint16_t)(data[12] | data[13] << 8);

		if (crc != 0 && crc != pacer_fit_crc16(0, data, 12))
			return -EBADMSG;
	}
	data_size = (uint32_t)data[4] | (uint32_t)data[5] << 8 | (uint32_t)data[6] << 16 |
		    (uint32_t)data[7] << 24;
	if ((uint64_t)hs + data_size + 2 != len)
		return -EBADMSG;
	if (pacer_fit_crc16(0, data, len) != 0) /* the CRC of everything with its CRC is 0 */
		return -EBADMSG;
	*ret_header = hs;
	*ret_end = hs + data_size;
	return 0;
}

int pacer_fit_read(const uint8_t *data, size_t len, PacerFitMessageFunc func, void *user_data)
{
	LocalDef defs[16];
	size_t at, end;
	int r = check_header(data, len, &at, &end);

	if (r < 0)
		return r;
	for (size_t i = 0; i < 16; i++)
		defs[i].defined = false;
	while (at < end) {
		uint8_t h = data[at++];
		unsigned local;
		LocalDef *d;

		if ((h & 0x80) == 0 && (h & 0x40)) {
			size_t used = 0;

			r = read_definition(data + at, end - at, (h & 0x20) != 0, &defs[h & 0x0f], &used);
			if (r < 0)
				return r;
			at += used;
			continue;
		}
		local = (h & 0x80) ? (h >> 5) & 0x03 : h & 0x0f;
		d = &defs[local];
		if (!d->defined || end - at < d->size + d->dev_size)
			return -EBADMSG;
		for (size_t i = 0, off = 0; i < d->n_fields; i++) {
			d->fields[i].data = data + at + off;
			off += d->fields[i].size;
		}
		if (func) {
			r = func(d->global, d->fields, d->n_fields, user_data);
			if (r < 0)
				return r;
		}
		at += d->size + d->dev_size;
	}
	return 0;
}

/* ---- the summary ---- */

static double field_scaled(const PacerFitField *f, double scale, uint64_t invalid)
{
	uint64_t v;

	if (!pacer_fit_field_uint(f, 0, &v) || v == invalid)
		return NAN;
	return (double)v / scale;
}

static int summary_message(uint16_t global, const PacerFitField *fields, size_t n, void *user_data)
{
	PacerFitSummary *s = user_data;
	double cad = NAN, frac = 0.0;

	switch (global) {
	case MESG_RECORD:
		s->n_records++;
		return 0;
	case MESG_LAP:
		s->n_laps++;
		return 0;
	case MESG_HRV:
		for (size_t i = 0; i < n; i++) {
			uint64_t v;

			for (size_t k = 0; fields[i].num == 0 && pacer_fit_field_uint(&fields[i], k, &v); k++)
				s->n_rr += v != INV16;
		}
		return 0;
	case MESG_SESSION:
		break;
	default:
		return 0;
	}
	if (s->n_sessions++ > 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		const PacerFitField *f = &fields[i];
		uint64_t v;

		switch (f->num) {
		case 2:
			if (pacer_fit_field_uint(f, 0, &v) && v != INV32)
				s->start_time = (uint32_t)v;
			break;
		case 6:
			if (pacer_fit_field_uint(f, 0, &v))
				s->sub_sport = (unsigned)v;
			break;
		case 7:
			s->elapsed_s = field_scaled(f, 1000.0, INV32);
			break;
		case 8:
			s->timer_s = field_scaled(f, 1000.0, INV32);
			break;
		case 9:
			s->distance_m = field_scaled(f, 100.0, INV32);
			break;
		case 16:
			s->avg_hr_bpm = field_scaled(f, 1.0, INV8);
			break;
		case 17:
			s->max_hr_bpm = field_scaled(f, 1.0, INV8);
			break;
		case 18:
			cad = field_scaled(f, 1.0, INV8);
			break;
		case 92:
			frac = field_scaled(f, 128.0, INV8);
			break;
		case 124:
			s->avg_speed_mps = field_scaled(f, 1000.0, INV32);
			break;
		case 26:
			if (pacer_fit_field_uint(f, 0, &v) && v != INV16)
				s->num_laps = (unsigned)v;
			break;
		default:
			break;
		}
	}
	s->avg_cadence_spm = 2.0 * (cad + (isfinite(frac) ? frac : 0.0));
	return 0;
}

int pacer_fit_read_summary(const uint8_t *data, size_t len, PacerFitSummary *ret)
{
	PacerFitSummary s = {
		.timer_s = NAN,
		.elapsed_s = NAN,
		.distance_m = NAN,
		.avg_hr_bpm = NAN,
		.max_hr_bpm = NAN,
		.avg_cadence_spm = NAN,
		.avg_speed_mps = NAN,
	};
	int r = pacer_fit_read(data, len, summary_message, &s);

	if (r < 0)
		return r;
	*ret = s;
	return 0;
}
