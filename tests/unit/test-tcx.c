/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The TCX writer. The integration test validates whole files against the
 * schema with xmllint; here: times, numbers, the elements per lap and point,
 * cadence in strides, and errors.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pacer-tcx.h"
#include "test-common.h"
#include "test-run.h"

typedef struct {
	char *text;
	size_t len, cap;
	size_t calls, max_chunk;
	int fail_after;
} Buf;

static int buf_write(const void *data, size_t len, void *user_data)
{
	Buf *b = user_data;

	if (b->fail_after == 0)
		return -ENOSPC;
	if (b->fail_after > 0)
		b->fail_after--;
	if (b->len + len + 1 > b->cap) {
		b->cap = (b->len + len + 1) * 2;
		b->text = realloc(b->text, b->cap);
		CU_ASSERT_FATAL(b->text != NULL);
	}
	memcpy(b->text + b->len, data, len);
	b->len += len;
	b->text[b->len] = '\0';
	b->calls++;
	b->max_chunk = len > b->max_chunk ? len : b->max_chunk;
	return 0;
}

static size_t count(const char *s, const char *what)
{
	size_t n = 0;

	for (const char *p = strstr(s, what); p; p = strstr(p + 1, what))
		n++;
	return n;
}

static void test_time(void)
{
	char buf[32];

	CU_ASSERT_EQUAL(pacer_tcx_format_time(0, buf, sizeof(buf)), 0);
	CU_ASSERT_STRING_EQUAL(buf, "1970-01-01T00:00:00Z");
	CU_ASSERT_EQUAL(pacer_tcx_format_time(TEST_RUN_START_MS + 999, buf, sizeof(buf)), 0);
	CU_ASSERT_STRING_EQUAL(buf, "2025-11-30T14:05:00Z");
	CU_ASSERT_EQUAL(pacer_tcx_format_time(1709251199000ull, buf, sizeof(buf)), 0);
	CU_ASSERT_STRING_EQUAL(buf, "2024-02-29T23:59:59Z");
	CU_ASSERT_EQUAL(pacer_tcx_format_time(1709251200000ull, buf, sizeof(buf)), 0);
	CU_ASSERT_STRING_EQUAL(buf, "2024-03-01T00:00:00Z");
	CU_ASSERT_EQUAL(pacer_tcx_format_time(0, buf, 20), -ENOBUFS);
}

static void test_document(void)
{
	TestRun t = test_run_build(true);
	Buf b = {.fail_after = -1};
	const char *rest;

	CU_ASSERT_EQUAL_FATAL(pacer_tcx_encode(t.run, NULL, buf_write, &b), 0);
	CU_ASSERT(b.max_chunk <= 4096);
	CU_ASSERT(strncmp(b.text, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", 39) == 0);
	CU_ASSERT_EQUAL(count(b.text, "<Activity Sport=\"Running\">"), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(b.text, "<Id>2025-11-30T14:05:00Z</Id>"));
	CU_ASSERT_EQUAL(count(b.text, "<Lap StartTime="), 3);
	CU_ASSERT_PTR_NOT_NULL(strstr(b.text, "<Lap StartTime=\"2025-11-30T14:07:00Z\">"));
	CU_ASSERT_EQUAL(count(b.text, "<Trackpoint>"), 280);
	CU_ASSERT_EQUAL(count(b.text, "<Track>"), 3);
	CU_ASSERT_EQUAL(count(b.text, "<Calories>0</Calories>"), 3);
	CU_ASSERT_EQUAL(count(b.text, "<Intensity>Active</Intensity>"), 2);
	CU_ASSERT_EQUAL(count(b.text, "<Intensity>Resting</Intensity>"), 1);
	CU_ASSERT_EQUAL(count(b.text, "<TriggerMethod>Distance</TriggerMethod>"), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(b.text, "<TotalTimeSeconds>100.000</TotalTimeSeconds>"
					      "<DistanceMeters>400.00</DistanceMeters>"));
	CU_ASSERT_PTR_NOT_NULL(
		strstr(b.text, "<AverageHeartRateBpm><Value>160</Value></AverageHeartRateBpm>"));
	/* 171 steps/min is 85.5 strides/min, rounded */
	CU_ASSERT_EQUAL(count(b.text, "<ns3:RunCadence>86</ns3:RunCadence>"), 280);
	CU_ASSERT_EQUAL(count(b.text, "<Cadence>"), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(b.text, "<ns3:Speed>4.000</ns3:Speed>"));
	CU_ASSERT_PTR_NOT_NULL(strstr(b.text, "<Notes>2min@E, 400m@5k, 1min rest</Notes>"));
	CU_ASSERT_PTR_NOT_NULL(strstr(b.text, "<Creator xsi:type=\"Device_t\"><Name>Pacer</Name>"));
	/* the pause: no points from 170 s to 180 s */
	CU_ASSERT_PTR_NOT_NULL(strstr(b.text, "<Time>2025-11-30T14:07:49Z</Time>"));
	CU_ASSERT_PTR_NULL(strstr(b.text, "<Time>2025-11-30T14:07:50Z</Time>"));
	CU_ASSERT_PTR_NOT_NULL(strstr(b.text, "<Time>2025-11-30T14:08:00Z</Time>"));
	rest = strstr(b.text, "</Activity>\n</Activities>\n</TrainingCenterDatabase>\n");
	CU_ASSERT_PTR_NOT_NULL(rest);
	CU_ASSERT(rest && strlen(rest) == strlen("</Activity>\n</Activities>\n</TrainingCenterDatabase>\n"));
	free(b.text);
	test_run_clear(&t);
}

static void test_recovered_notes(void)
{
	TestRun t = test_run_build(false);
	Buf b = {.fail_after = -1};

	t.run->recovered = true;
	strcpy(t.run->workout, "a & b <c>");
	CU_ASSERT_EQUAL_FATAL(pacer_tcx_encode(t.run, NULL, buf_write, &b), 0);
	CU_ASSERT_PTR_NOT_NULL(
		strstr(b.text, "<Notes>a &amp; b &lt;c&gt; - Recovered after an interruption.</Notes>"));
	CU_ASSERT_EQUAL(count(b.text, "<Lap StartTime="), 3);
	free(b.text);
	test_run_clear(&t);
}

static void test_write_error(void)
{
	TestRun t = test_run_build(true);
	Buf b = {.fail_after = 2};

	CU_ASSERT_EQUAL(pacer_tcx_encode(t.run, NULL, buf_write, &b), -ENOSPC);
	free(b.text);
	test_run_clear(&t);
}

static void test_needs_header(void)
{
	PacerRun *run = pacer_run_new();
	Buf b = {.fail_after = -1};

	CU_ASSERT_FATAL(run != NULL);
	CU_ASSERT_EQUAL(pacer_tcx_encode(run, NULL, buf_write, &b), -EINVAL);
	CU_ASSERT_EQUAL(b.calls, 0);
	pacer_run_free(run);
}

int main(void)
{
	static const PacerTest tests[] = {
		{"time", test_time},
		{"document", test_document},
		{"recovered notes", test_recovered_notes},
		{"write error", test_write_error},
		{"needs a header", test_needs_header},
		{NULL, NULL},
	};

	return pacer_test_main("tcx", tests);
}
