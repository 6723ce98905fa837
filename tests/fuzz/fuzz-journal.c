/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * pacer_run_parse_journal() on any bytes, as the recovery after a power cut
 * reads whatever a journal holds. A run it returns must be sane (finite,
 * non-negative totals, laps in order) and must encode: the FIT file must be
 * read back by pacer_fit_read_summary() with the run's laps and samples, and
 * the TCX writer must finish. Each line that parses must format again into a
 * line that parses to the same kind.
 */

#include <math.h>

#include "fuzz.h"
#include "pacer-fit.h"
#include "pacer-journal.h"
#include "pacer-tcx.h"

typedef struct {
	uint8_t *data;
	size_t len, cap;
} Buf;

static int buf_write(const void *data, size_t len, void *user_data)
{
	Buf *b = user_data;

	if (b->len + len > b->cap) {
		b->cap = (b->len + len) * 2;
		b->data = realloc(b->data, b->cap);
		fuzz_check(b->data);
	}
	memcpy(b->data + b->len, data, len);
	b->len += len;
	return 0;
}

static void check_run(const PacerRun *run)
{
	static const PacerFitCreator creator = {.product = 1, .product_name = "fuzz"};
	PacerFitSummary s;
	Buf fit = {0}, tcx = {0};

	fuzz_check(run->has_header && run->n_laps >= 1);
	fuzz_check(isfinite(run->timer_s) && run->timer_s >= 0);
	fuzz_check(isfinite(run->end_t_s) && run->end_t_s >= 0);
	fuzz_check(isfinite(run->distance_m));
	for (size_t i = 0; i < run->n_laps; i++) {
		fuzz_check(isfinite(run->laps[i].start_t_s) && isfinite(run->laps[i].end_t_s));
		fuzz_check(run->laps[i].end_t_s >= run->laps[i].start_t_s);
	}
	for (size_t i = 1; i < run->n_samples; i++)
		fuzz_check(run->samples[i].t_s >= run->samples[i - 1].t_s);

	fuzz_check(pacer_fit_encode(run, &creator, buf_write, &fit) == 0);
	fuzz_check(pacer_fit_read_summary(fit.data, fit.len, &s) == 0);
	fuzz_check(s.n_sessions == 1 && s.n_laps == run->n_laps && s.n_records == run->n_samples);
	fuzz_check(pacer_tcx_encode(run, NULL, buf_write, &tcx) == 0);
	fuzz_check(tcx.len > 0);
	free(fit.data);
	free(tcx.data);
}

static void check_lines(const uint8_t *data, size_t size)
{
	PacerJournalRecord *rec = malloc(sizeof(*rec)), *again = malloc(sizeof(*again));
	char line[PACER_JOURNAL_LINE_MAX + 1];
	size_t at = 0;

	fuzz_check(rec && again);
	while (at < size) {
		const uint8_t *nl = memchr(data + at, '\n', size - at);
		size_t len = nl ? (size_t)(nl - (data + at)) + 1 : size - at;
		int r = pacer_journal_parse_line((const char *)data + at, len, rec);

		fuzz_check(r == 0 || r == -EBADMSG || r == -EPROTONOSUPPORT);
		if (r == 0) {
			int n = pacer_journal_format(rec, line, sizeof(line));

			fuzz_check(n > 0 && (size_t)n == strlen(line));
			fuzz_check(pacer_journal_parse_line(line, (size_t)n, again) == 0);
			fuzz_check(again->kind == rec->kind);
		}
		at += len;
	}
	free(rec);
	free(again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	PacerRun *run = NULL;
	size_t skipped = 0;
	int r = pacer_run_parse_journal((const char *)data, size, &run, &skipped);

	fuzz_check(r == 0 || r == -EBADMSG);
	if (r == 0) {
		check_run(run);
		pacer_run_free(run);
	}
	check_lines(data, size);
	return 0;
}
