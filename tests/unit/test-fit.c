/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The FIT encoder, checked by decoding its output: first with a tiny
 * independent checker of the file's structure (header, CRCs, definition and
 * data messages), then with pacer_fit_read() for the values.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pacer-fit.h"
#include "test-common.h"
#include "test-run.h"

typedef struct {
	uint8_t *data;
	size_t len, cap;
	int fail_after; /* calls before -ENOSPC; < 0 never */
} Buf;

static int buf_write(const void *data, size_t len, void *user_data)
{
	Buf *b = user_data;

	if (b->fail_after == 0)
		return -ENOSPC;
	if (b->fail_after > 0)
		b->fail_after--;
	if (b->len + len > b->cap) {
		b->cap = (b->len + len) * 2;
		b->data = realloc(b->data, b->cap);
		CU_ASSERT_FATAL(b->data != NULL);
	}
	memcpy(b->data + b->len, data, len);
	b->len += len;
	return 0;
}

static const PacerFitCreator creator = {.product = 1, .serial_number = 1234,
					.software_version = 10, .product_name = "Pacer"};

static Buf encode(const PacerRun *run)
{
	Buf b = {.fail_after = -1};

	CU_ASSERT_EQUAL_FATAL(pacer_fit_encode(run, &creator, buf_write, &b), 0);
	return b;
}

/* ---- a checker that shares no code with the encoder or the reader ---- */

static uint16_t crc_bitwise(const uint8_t *p, size_t n)
{
	uint16_t crc = 0;

	for (size_t i = 0; i < n; i++) {
		crc ^= p[i];
		for (int k = 0; k < 8; k++)
			crc = (crc & 1) ? (uint16_t)((crc >> 1) ^ 0xa001) : (uint16_t)(crc >> 1);
	}
	return crc;
}

typedef struct {
	unsigned counts[256]; /* data messages per global number (all used here are < 256) */
	uint16_t first, last;
	unsigned definitions;
} Census;

static void check_structure(const uint8_t *p, size_t len, Census *c)
{
	uint32_t data_size;
	size_t at = 14, end;
	struct {
		int global; /* -1 undefined */
		size_t size;
	} local[16];

	memset(c, 0, sizeof(*c));
	for (int i = 0; i < 16; i++)
		local[i].global = -1;
	CU_ASSERT_FATAL(len >= 16);
	CU_ASSERT_EQUAL(p[0], 14);
	CU_ASSERT_EQUAL(p[1], 0x20);
	CU_ASSERT_EQUAL(memcmp(p + 8, ".FIT", 4), 0);
	CU_ASSERT_EQUAL(p[12] | p[13] << 8, crc_bitwise(p, 12));
	data_size = (uint32_t)p[4] | (uint32_t)p[5] << 8 | (uint32_t)p[6] << 16 | (uint32_t)p[7] << 24;
	CU_ASSERT_EQUAL_FATAL(14 + (size_t)data_size + 2, len);
	CU_ASSERT_EQUAL(p[len - 2] | p[len - 1] << 8, crc_bitwise(p, len - 2));
	end = 14 + data_size;
	while (at < end) {
		uint8_t h = p[at++];
		unsigned l = h & 0x0f;

		CU_ASSERT_EQUAL_FATAL(h & 0xa0, 0); /* normal headers, no developer data */
		if (h & 0x40) {
			size_t n = p[at + 4], size = 0;

			CU_ASSERT_EQUAL(p[at + 1], 0); /* little-endian */
			for (size_t i = 0; i < n; i++)
				size += p[at + 5 + 3 * i + 1];
			local[l].global = p[at + 2] | p[at + 3] << 8;
			local[l].size = size;
			at += 5 + 3 * n;
			c->definitions++;
			continue;
		}
		CU_ASSERT_FATAL(local[l].global >= 0 && local[l].global < 256);
		if (c->counts[0] + c->counts[18] + c->counts[19] + c->counts[20] == 0 &&
		    c->definitions == 1)
			c->first = (uint16_t)local[l].global;
		c->counts[local[l].global]++;
		c->last = (uint16_t)local[l].global;
		at += local[l].size;
	}
	CU_ASSERT_EQUAL(at, end);
}

static void test_crc(void)
{
	CU_ASSERT_EQUAL(pacer_fit_crc16(0, "123456789", 9), 0xbb3d); /* CRC-16/ARC check value */
	CU_ASSERT_EQUAL(pacer_fit_crc16(0, "", 0), 0);
	CU_ASSERT_EQUAL(pacer_fit_crc16(pacer_fit_crc16(0, "1234", 4), "56789", 5), 0xbb3d);
}

static void test_time(void)
{
	CU_ASSERT_EQUAL(pacer_fit_time(631065600000ull), 0);
	CU_ASSERT_EQUAL(pacer_fit_time(631065601999ull), 1);
	CU_ASSERT_EQUAL(pacer_fit_time(1000), 0);
	CU_ASSERT_EQUAL(pacer_fit_time(TEST_RUN_START_MS), 1764511500u - 631065600u);
}

static void test_structure(void)
{
	TestRun t = test_run_build(true);
	Buf b = encode(t.run);
	Census c;

	check_structure(b.data, b.len, &c);
	CU_ASSERT_EQUAL(c.first, 0);   /* file_id */
	CU_ASSERT_EQUAL(c.last, 34);   /* activity */
	CU_ASSERT_EQUAL(c.counts[0], 1);
	CU_ASSERT_EQUAL(c.counts[49], 1); /* file_creator */
	CU_ASSERT_EQUAL(c.counts[23], 3); /* device_info: Pacer, strap, treadmill */
	CU_ASSERT_EQUAL(c.counts[20], t.run->n_samples);
	CU_ASSERT_EQUAL(c.counts[19], 3);
	CU_ASSERT_EQUAL(c.counts[18], 1);
	CU_ASSERT_EQUAL(c.counts[34], 1);
	CU_ASSERT_EQUAL(c.counts[78], (t.run->n_rr + 4) / 5);
	/* timer start, pause, resume, 3 lap markers, timer stop */
	CU_ASSERT_EQUAL(c.counts[21], 7);
	CU_ASSERT_EQUAL(c.definitions, 9);
	free(b.data);
	test_run_clear(&t);
}

typedef struct {
	unsigned records, laps;
	uint64_t first_cadence, first_frac, first_grade, first_hr, first_distance, first_speed;
	uint64_t lap_intensity[8], lap_trigger[8], lap_timer[8];
	uint64_t sub_sport;
	uint32_t last_ts;
	bool monotonic;
} Values;

static uint64_t field(const PacerFitField *f, size_t n, uint8_t num)
{
	uint64_t v = UINT64_MAX;

	for (size_t i = 0; i < n; i++) {
		if (f[i].num == num)
			CU_ASSERT(pacer_fit_field_uint(&f[i], 0, &v));
	}
	return v;
}

static int collect(uint16_t global, const PacerFitField *f, size_t n, void *user_data)
{
	Values *v = user_data;
	uint64_t ts = field(f, n, 253);

	if (ts != UINT64_MAX) {
		if (ts < v->last_ts)
			v->monotonic = false;
		v->last_ts = (uint32_t)ts;
	}
	if (global == 20 && v->records++ == 0) {
		v->first_distance = field(f, n, 5);
		v->first_speed = field(f, n, 73);
		v->first_grade = field(f, n, 9);
		v->first_hr = field(f, n, 3);
		v->first_cadence = field(f, n, 4);
		v->first_frac = field(f, n, 53);
	}
	if (global == 19 && v->laps < 8) {
		v->lap_intensity[v->laps] = field(f, n, 23);
		v->lap_trigger[v->laps] = field(f, n, 24);
		v->lap_timer[v->laps] = field(f, n, 8);
		v->laps++;
	}
	if (global == 18)
		v->sub_sport = field(f, n, 6);
	return 0;
}

static void test_values(void)
{
	TestRun t = test_run_build(true);
	Buf b = encode(t.run);
	Values v = {.monotonic = true};
	PacerFitSummary s;

	CU_ASSERT_EQUAL_FATAL(pacer_fit_read(b.data, b.len, collect, &v), 0);
	CU_ASSERT_EQUAL(v.records, 280);
	CU_ASSERT_TRUE(v.monotonic);
	/* 171 steps/min: 85 strides + 0.5 (64/128) */
	CU_ASSERT_EQUAL(v.first_cadence, 85);
	CU_ASSERT_EQUAL(v.first_frac, 64);
	CU_ASSERT_EQUAL(v.first_grade, 150); /* 1.5 %, 1/100 */
	CU_ASSERT_EQUAL(v.first_hr, 140);
	CU_ASSERT_EQUAL(v.first_distance, 0);
	CU_ASSERT_EQUAL(v.first_speed, 3000);
	CU_ASSERT_EQUAL(v.laps, 3);
	CU_ASSERT_EQUAL(v.lap_intensity[0], 2); /* warmup */
	CU_ASSERT_EQUAL(v.lap_intensity[1], 0); /* active */
	CU_ASSERT_EQUAL(v.lap_intensity[2], 1); /* rest */
	CU_ASSERT_EQUAL(v.lap_trigger[0], 1);	/* time */
	CU_ASSERT_EQUAL(v.lap_trigger[1], 2);	/* distance */
	CU_ASSERT_EQUAL(v.lap_timer[1], 100000);
	CU_ASSERT_EQUAL(v.sub_sport, 1); /* treadmill */

	CU_ASSERT_EQUAL_FATAL(pacer_fit_read_summary(b.data, b.len, &s), 0);
	CU_ASSERT_EQUAL(s.start_time, pacer_fit_time(TEST_RUN_START_MS));
	CU_ASSERT_DOUBLE_EQUAL(s.timer_s, 280, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(s.elapsed_s, 290, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(s.distance_m, 820, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(s.avg_hr_bpm, round(t.run->avg_hr_bpm), 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(s.avg_cadence_spm, 171, 1e-9);
	CU_ASSERT_EQUAL(s.num_laps, 3);
	CU_ASSERT_EQUAL(s.n_laps, 3);
	CU_ASSERT_EQUAL(s.n_records, 280);
	CU_ASSERT_EQUAL(s.n_sessions, 1);
	CU_ASSERT_EQUAL(s.n_rr, t.run->n_rr);
	free(b.data);
	test_run_clear(&t);
}

static void test_recovered_run(void)
{
	TestRun t = test_run_build(false);
	Buf b;
	Census c;
	PacerFitSummary s;

	t.run->recovered = true;
	b = encode(t.run);
	check_structure(b.data, b.len, &c);
	CU_ASSERT_EQUAL(c.counts[19], 3);
	CU_ASSERT_EQUAL_FATAL(pacer_fit_read_summary(b.data, b.len, &s), 0);
	CU_ASSERT_DOUBLE_EQUAL(s.timer_s, t.run->timer_s, 1e-3);
	free(b.data);
	test_run_clear(&t);
}

static void test_write_error(void)
{
	TestRun t = test_run_build(true);
	Buf b = {.fail_after = 10};

	CU_ASSERT_EQUAL(pacer_fit_encode(t.run, &creator, buf_write, &b), -ENOSPC);
	free(b.data);
	test_run_clear(&t);
}

static void test_reader_rejects_damage(void)
{
	TestRun t = test_run_build(true);
	Buf b = encode(t.run);
	PacerFitSummary s;

	for (size_t i = 0; i < b.len; i += 97) {
		b.data[i] ^= 0x10;
		CU_ASSERT_EQUAL(pacer_fit_read(b.data, b.len, NULL, NULL), -EBADMSG);
		b.data[i] ^= 0x10;
	}
	for (size_t n = 0; n < b.len; n += 13)
		CU_ASSERT_EQUAL(pacer_fit_read_summary(b.data, n, &s), -EBADMSG);
	CU_ASSERT_EQUAL(pacer_fit_read(b.data, b.len, NULL, NULL), 0);
	free(b.data);
	test_run_clear(&t);
}

static void test_empty_run(void)
{
	PacerRun *run = pacer_run_new();
	PacerJournalRecord h = {.kind = PACER_JOURNAL_HEADER};
	Buf b = {.fail_after = -1};
	Census c;

	CU_ASSERT_FATAL(run != NULL);
	CU_ASSERT_EQUAL(pacer_fit_encode(run, &creator, buf_write, &b), -EINVAL);
	h.header.start_unix_ms = TEST_RUN_START_MS;
	h.header.free_run = true;
	CU_ASSERT_EQUAL(pacer_run_add(run, &h), 0);
	pacer_run_finish(run);
	CU_ASSERT_EQUAL(pacer_fit_encode(run, &creator, buf_write, &b), 0);
	check_structure(b.data, b.len, &c);
	CU_ASSERT_EQUAL(c.counts[19], 1);
	CU_ASSERT_EQUAL(c.counts[20], 0);
	free(b.data);
	pacer_run_free(run);
}

int main(void)
{
	static const PacerTest tests[] = {
		{"crc", test_crc},
		{"time", test_time},
		{"structure", test_structure},
		{"values", test_values},
		{"recovered run", test_recovered_run},
		{"write error", test_write_error},
		{"reader rejects damage", test_reader_rejects_damage},
		{"empty run", test_empty_run},
		{NULL, NULL},
	};

	return pacer_test_main("fit", tests);
}
