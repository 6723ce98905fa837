/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "pacer-fit.h"
#include "pacer-journal.h"
#include "test-common.h"
#include "test-run.h"

static void roundtrip(const PacerJournalRecord *in, PacerJournalRecord *out)
{
	char line[PACER_JOURNAL_LINE_MAX + 1];
	int n = pacer_journal_format(in, line, sizeof(line));

	CU_ASSERT_FATAL(n > 0);
	CU_ASSERT_EQUAL((size_t)n, strlen(line));
	CU_ASSERT_EQUAL(line[n - 1], '\n');
	CU_ASSERT_EQUAL_FATAL(pacer_journal_parse_line(line, (size_t)n, out), 0);
	CU_ASSERT_EQUAL(out->kind, in->kind);
}

static void test_sample_roundtrip(void)
{
	PacerJournalRecord in = {.kind = PACER_JOURNAL_SAMPLE, .t_s = 61.25, .timer_s = 60.5};
	PacerJournalRecord out;
	char line[PACER_JOURNAL_LINE_MAX + 1];

	in.sample = (PacerRunSample){.distance_m = 201.234, .hr_bpm = 151, .cadence_spm = 172.46,
				     .speed_mps = 3.3333, .incline_pct = NAN};
	CU_ASSERT(pacer_journal_format(&in, line, sizeof(line)) > 0);
	CU_ASSERT_NSTRING_EQUAL(line, "S 61250 60500 20123 151 1725 3333 - *", 37);
	roundtrip(&in, &out);
	CU_ASSERT_DOUBLE_EQUAL(out.t_s, 61.25, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(out.sample.timer_s, 60.5, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(out.sample.distance_m, 201.23, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(out.sample.hr_bpm, 151, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(out.sample.cadence_spm, 172.5, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(out.sample.speed_mps, 3.333, 1e-9);
	CU_ASSERT(isnan(out.sample.incline_pct));
}

static void test_every_kind_roundtrips(void)
{
	PacerJournalRecord in = {.kind = PACER_JOURNAL_HEADER}, out;

	in.header.start_unix_ms = TEST_RUN_START_MS;
	in.header.utc_offset_s = -18000;
	strcpy(in.header.workout, "10min@E, 4x(400m@5k, 2min rest),\t10min@E");
	roundtrip(&in, &out);
	CU_ASSERT_EQUAL(out.header.start_unix_ms, TEST_RUN_START_MS);
	CU_ASSERT_EQUAL(out.header.utc_offset_s, -18000);
	CU_ASSERT_FALSE(out.header.free_run);
	/* control characters become spaces, other spaces stay */
	CU_ASSERT_STRING_EQUAL(out.header.workout, "10min@E, 4x(400m@5k, 2min rest), 10min@E");

	in.header.free_run = true;
	roundtrip(&in, &out);
	CU_ASSERT_TRUE(out.header.free_run);
	CU_ASSERT_STRING_EQUAL(out.header.workout, "");

	in = (PacerJournalRecord){.kind = PACER_JOURNAL_RR, .t_s = 3};
	in.rr.n = 3;
	in.rr.ms[0] = 812.4;
	in.rr.ms[1] = 800;
	in.rr.ms[2] = 799.6;
	roundtrip(&in, &out);
	CU_ASSERT_EQUAL(out.rr.n, 3);
	CU_ASSERT_DOUBLE_EQUAL(out.rr.ms[0], 812, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(out.rr.ms[2], 800, 1e-9);

	in = (PacerJournalRecord){.kind = PACER_JOURNAL_EVENT, .t_s = 5, .timer_s = 4};
	in.event.type = PACER_EVENT_STEP_STARTED;
	in.event.step = 3;
	in.event.has_kind = true;
	in.event.kind = PACER_STEP_RECOVERY;
	roundtrip(&in, &out);
	CU_ASSERT_EQUAL(out.event.type, PACER_EVENT_STEP_STARTED);
	CU_ASSERT_EQUAL(out.event.step, 3);
	CU_ASSERT_TRUE(out.event.has_kind);
	CU_ASSERT_EQUAL(out.event.kind, PACER_STEP_RECOVERY);
	in.event.type = PACER_EVENT_SENSOR_LOST;
	in.event.step = -1;
	in.event.has_kind = false;
	roundtrip(&in, &out);
	CU_ASSERT_EQUAL(out.event.type, PACER_EVENT_SENSOR_LOST);
	CU_ASSERT_EQUAL(out.event.step, -1);
	CU_ASSERT_FALSE(out.event.has_kind);

	in = (PacerJournalRecord){.kind = PACER_JOURNAL_LAP, .t_s = 300, .timer_s = 290};
	in.lap = (PacerRunLap){.step = 4, .kind = PACER_STEP_COOLDOWN,
			       .trigger = PACER_LAP_TRIGGER_DISTANCE, .time_s = 96.375,
			       .distance_m = 400, .avg_hr_bpm = 165.256, .hr_time_s = 96,
			       .max_hr_bpm = 178, .avg_cadence_spm = NAN, .cadence_time_s = 0,
			       .max_cadence_spm = NAN, .max_speed_mps = 4.215};
	roundtrip(&in, &out);
	CU_ASSERT_EQUAL(out.lap.step, 4);
	CU_ASSERT_EQUAL(out.lap.kind, PACER_STEP_COOLDOWN);
	CU_ASSERT_EQUAL(out.lap.trigger, PACER_LAP_TRIGGER_DISTANCE);
	CU_ASSERT_DOUBLE_EQUAL(out.lap.time_s, 96.375, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(out.lap.avg_hr_bpm, 165.26, 1e-9);
	CU_ASSERT(isnan(out.lap.avg_cadence_spm));
	CU_ASSERT_DOUBLE_EQUAL(out.lap.start_timer_s, 290 - 96.375, 1e-9);

	in = (PacerJournalRecord){.kind = PACER_JOURNAL_SENSOR, .t_s = 1,
				  .sensor = PACER_SENSOR_TREADMILL};
	roundtrip(&in, &out);
	CU_ASSERT_EQUAL(out.sensor, PACER_SENSOR_TREADMILL);
}

static void test_bad_lines(void)
{
	PacerJournalRecord rec = {.kind = PACER_JOURNAL_SENSOR, .t_s = 1,
				  .sensor = PACER_SENSOR_FOOTPOD};
	char line[PACER_JOURNAL_LINE_MAX + 1], copy[PACER_JOURNAL_LINE_MAX + 1];
	int n = pacer_journal_format(&rec, line, sizeof(line));

	CU_ASSERT_FATAL(n > 0);
	/* any one octet changed: the CRC (or the syntax) says so */
	for (int i = 0; i < n - 1; i++) {
		memcpy(copy, line, (size_t)n + 1);
		copy[i] ^= 0x01;
		CU_ASSERT_EQUAL(pacer_journal_parse_line(copy, (size_t)n, &rec), -EBADMSG);
	}
	/* every truncation */
	for (int i = 0; i < n - 1; i++)
		CU_ASSERT_EQUAL(pacer_journal_parse_line(line, (size_t)i, &rec), -EBADMSG);
	CU_ASSERT_EQUAL(pacer_journal_parse_line("", 0, &rec), -EBADMSG);
	CU_ASSERT_EQUAL(pacer_journal_parse_line("X 1 *0000\n", 10, &rec), -EBADMSG);
}

static void test_future_version(void)
{
	char line[64], body[48];
	PacerJournalRecord rec;
	uint16_t crc;

	snprintf(body, sizeof(body), "J 2 1764511500000 0 0 -");
	/* the CRC is right: only the version is refused */
	crc = pacer_fit_crc16(0, body, strlen(body));
	snprintf(line, sizeof(line), "%s *%04x\n", body, crc);
	CU_ASSERT_EQUAL(pacer_journal_parse_line(line, strlen(line), &rec), -EPROTONOSUPPORT);
}

static void test_small_buffer(void)
{
	PacerJournalRecord rec = {.kind = PACER_JOURNAL_SENSOR, .t_s = 1,
				  .sensor = PACER_SENSOR_FOOTPOD};
	char line[PACER_JOURNAL_LINE_MAX + 1];
	int n = pacer_journal_format(&rec, line, sizeof(line));

	CU_ASSERT_FATAL(n > 0);
	CU_ASSERT_EQUAL(pacer_journal_format(&rec, line, (size_t)n), -ENOBUFS);
	CU_ASSERT_EQUAL(pacer_journal_format(&rec, line, (size_t)n + 1), n);
	rec = (PacerJournalRecord){.kind = PACER_JOURNAL_RR};
	CU_ASSERT_EQUAL(pacer_journal_format(&rec, line, sizeof(line)), -EINVAL);
}

static void test_run_from_records(void)
{
	TestRun t = test_run_build(true);
	const PacerRun *run = t.run;

	CU_ASSERT_TRUE(run->finished);
	CU_ASSERT_EQUAL(run->n_laps, 3);
	CU_ASSERT_EQUAL(run->n_samples, 280);
	CU_ASSERT_EQUAL(run->n_rr, 560);
	CU_ASSERT_EQUAL(run->sensors, (1u << PACER_SENSOR_HEART_RATE) | (1u << PACER_SENSOR_TREADMILL));
	CU_ASSERT_DOUBLE_EQUAL(run->laps[1].start_t_s, 120, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(run->laps[1].end_t_s, 230, 1e-9);
	CU_ASSERT_EQUAL(run->laps[2].kind, PACER_STEP_REST);
	CU_ASSERT_DOUBLE_EQUAL(run->timer_s, 280, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(run->distance_m, 820, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(run->end_t_s, 290, 1e-9);
	/* the laps' HR weighted by the time each covers */
	CU_ASSERT_DOUBLE_EQUAL(run->avg_hr_bpm, (140 * 120 + 160 * 100 + 150 * 60) / 280.0, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(run->max_hr_bpm, 165, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(run->avg_cadence_spm, 171, 1e-9);
	test_run_clear(&t);
}

/* The journal text rebuilds the same run. */
static void test_parse_journal(void)
{
	TestRun t = test_run_build(true);
	PacerRun *run = NULL;
	size_t skipped = 99;

	CU_ASSERT_EQUAL_FATAL(pacer_run_parse_journal(t.journal, t.len, &run, &skipped), 0);
	CU_ASSERT_EQUAL(skipped, 0);
	CU_ASSERT_EQUAL(run->n_laps, t.run->n_laps);
	CU_ASSERT_EQUAL(run->n_samples, t.run->n_samples);
	CU_ASSERT_EQUAL(run->n_rr, t.run->n_rr);
	CU_ASSERT_EQUAL(run->n_marks, t.run->n_marks);
	CU_ASSERT_EQUAL(run->start_unix_ms, TEST_RUN_START_MS);
	CU_ASSERT_STRING_EQUAL(run->workout, "2min@E, 400m@5k, 1min rest");
	CU_ASSERT_DOUBLE_EQUAL(run->timer_s, t.run->timer_s, 1e-6);
	CU_ASSERT_DOUBLE_EQUAL(run->distance_m, t.run->distance_m, 1e-6);
	CU_ASSERT_DOUBLE_EQUAL(run->avg_hr_bpm, t.run->avg_hr_bpm, 1e-6);
	pacer_run_free(run);
	test_run_clear(&t);
}

/* A power cut: the last lap never ended, the last line is torn; the samples fill in. */
static void test_recover_cut_run(void)
{
	TestRun t = test_run_build(false);
	PacerRun *run = NULL;
	size_t skipped = 0;

	/* tear the last line: drop its '\n' and a few octets */
	CU_ASSERT_EQUAL_FATAL(pacer_run_parse_journal(t.journal, t.len - 4, &run, &skipped), 0);
	CU_ASSERT_EQUAL(skipped, 1);
	CU_ASSERT_FALSE(run->finished);
	CU_ASSERT_EQUAL(run->n_laps, 3);
	CU_ASSERT_FALSE(run->laps[2].complete);
	CU_ASSERT_EQUAL(run->laps[2].kind, PACER_STEP_REST);
	CU_ASSERT_DOUBLE_EQUAL(run->laps[2].start_t_s, 230, 1e-9);
	/* the last complete line was the sample at 259 s (its RR line is torn) */
	CU_ASSERT_DOUBLE_EQUAL(run->end_t_s, 259, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(run->laps[2].time_s, 29, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(run->laps[2].distance_m, 29, 1e-6);
	CU_ASSERT_DOUBLE_EQUAL(run->laps[2].avg_hr_bpm, 150, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(run->timer_s, 120 + 100 + 29, 1e-9);
	pacer_run_free(run);
	test_run_clear(&t);
}

/* Every prefix of a journal parses (or has no header yet) and never loses what came before. */
static void test_every_truncation(void)
{
	TestRun t = test_run_build(true);
	size_t last_samples = 0;

	for (size_t n = 0; n <= t.len; n += 7) {
		PacerRun *run = NULL;
		int r = pacer_run_parse_journal(t.journal, n, &run, NULL);

		CU_ASSERT(r == 0 || r == -EBADMSG);
		if (r < 0)
			continue;
		CU_ASSERT(run->n_samples >= last_samples);
		last_samples = run->n_samples;
		CU_ASSERT(run->n_laps >= 1);
		CU_ASSERT(isfinite(run->timer_s) && run->timer_s >= 0);
		pacer_run_free(run);
	}
	CU_ASSERT_EQUAL(last_samples, t.run->n_samples);
	test_run_clear(&t);
}

static void test_garbage_between_lines(void)
{
	TestRun t = test_run_build(true);
	char *mangled = malloc(t.len + 64);
	size_t half = t.len / 2, skipped = 0;
	PacerRun *run = NULL;

	CU_ASSERT_FATAL(mangled != NULL);
	/* a stretch of zeros, as a file system may leave after a crash */
	while (half < t.len && t.journal[half - 1] != '\n')
		half++;
	memcpy(mangled, t.journal, half);
	memset(mangled + half, 0, 40);
	mangled[half + 40] = '\n';
	memcpy(mangled + half + 41, t.journal + half, t.len - half);
	CU_ASSERT_EQUAL_FATAL(pacer_run_parse_journal(mangled, t.len + 41, &run, &skipped), 0);
	CU_ASSERT_EQUAL(skipped, 1);
	CU_ASSERT_EQUAL(run->n_samples, t.run->n_samples);
	pacer_run_free(run);
	/* no header: nothing to rebuild */
	CU_ASSERT_EQUAL(pacer_run_parse_journal("S 1 *0000\n", 10, &run, NULL), -EBADMSG);
	free(mangled);
	test_run_clear(&t);
}

int main(void)
{
	static const PacerTest tests[] = {
		{"sample round trip", test_sample_roundtrip},
		{"every record kind round trips", test_every_kind_roundtrips},
		{"bad lines", test_bad_lines},
		{"future version", test_future_version},
		{"small buffer", test_small_buffer},
		{"run from records", test_run_from_records},
		{"parse journal", test_parse_journal},
		{"recover a cut run", test_recover_cut_run},
		{"every truncation", test_every_truncation},
		{"garbage between lines", test_garbage_between_lines},
		{NULL, NULL},
	};

	return pacer_test_main("journal", tests);
}
