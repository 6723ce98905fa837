/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "pacer-hrv.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>

#define RR_MIN_MS 300.0
#define RR_MAX_MS 2000.0
#define MEDIAN_BEATS 15
#define MAX_DEVIATION 0.20
#define RESTART_AFTER 5

typedef struct {
	uint64_t t_us;
	double diff_sq;
} Pair;

struct PacerHrv {
	uint64_t window_us;
	size_t capacity;
	Pair *pairs; /* ring of successive differences */
	size_t head; /* next slot */
	size_t count;

	double recent[MEDIAN_BEATS]; /* ring of accepted intervals for the median */
	size_t n_recent;
	size_t recent_head;

	bool has_last;
	double last_ms;
	unsigned rejected_in_row;
	unsigned long artifacts;
	unsigned long accepted;
};

PacerHrv *pacer_hrv_new(uint64_t window_us, size_t capacity)
{
	PacerHrv *h;

	if (capacity == 0)
		return NULL;
	h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;
	h->pairs = calloc(capacity, sizeof(*h->pairs));
	if (!h->pairs) {
		free(h);
		return NULL;
	}
	h->window_us = window_us;
	h->capacity = capacity;
	return h;
}

void pacer_hrv_free(PacerHrv *hrv)
{
	if (!hrv)
		return;
	free(hrv->pairs);
	free(hrv);
}

static double median_of_recent(const PacerHrv *h)
{
	double v[MEDIAN_BEATS];
	size_t n = h->n_recent;

	for (size_t i = 0; i < n; i++) {
		double x = h->recent[i];
		size_t k = i;

		/* insertion sort: at most 15 values */
		while (k > 0 && v[k - 1] > x) {
			v[k] = v[k - 1];
			k--;
		}
		v[k] = x;
	}
	return (n % 2) ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

static void remember(PacerHrv *h, double rr_ms)
{
	h->recent[h->recent_head] = rr_ms;
	h->recent_head = (h->recent_head + 1) % MEDIAN_BEATS;
	if (h->n_recent < MEDIAN_BEATS)
		h->n_recent++;
}

static bool is_artifact(PacerHrv *h, double rr_ms)
{
	double median;

	if (!(rr_ms >= RR_MIN_MS && rr_ms <= RR_MAX_MS))
		return true;
	if (h->n_recent == 0)
		return false;
	median = median_of_recent(h);
	if (fabs(rr_ms - median) <= MAX_DEVIATION * median)
		return false;
	if (++h->rejected_in_row < RESTART_AFTER)
		return true;
	/* a run of "artifacts" is a new heart rate: follow it */
	h->n_recent = 0;
	h->recent_head = 0;
	h->has_last = false;
	return false;
}

bool pacer_hrv_add(PacerHrv *hrv, double rr_ms, uint64_t t_us)
{
	if (is_artifact(hrv, rr_ms)) {
		hrv->artifacts++;
		return false;
	}
	hrv->rejected_in_row = 0;
	hrv->accepted++;
	remember(hrv, rr_ms);
	if (hrv->has_last) {
		double d = rr_ms - hrv->last_ms;

		hrv->pairs[hrv->head] = (Pair){.t_us = t_us, .diff_sq = d * d};
		hrv->head = (hrv->head + 1) % hrv->capacity;
		if (hrv->count < hrv->capacity)
			hrv->count++;
	}
	hrv->last_ms = rr_ms;
	hrv->has_last = true;
	return true;
}

void pacer_hrv_break(PacerHrv *hrv)
{
	hrv->has_last = false;
}

int pacer_hrv_rmssd(const PacerHrv *hrv, uint64_t now_us, double *ret_ms)
{
	uint64_t since = now_us > hrv->window_us ? now_us - hrv->window_us : 0;
	double sum = 0.0;
	size_t n = 0;

	for (size_t i = 0; i < hrv->count; i++) {
		const Pair *p = &hrv->pairs[(hrv->head + hrv->capacity - 1 - i) % hrv->capacity];

		if (p->t_us < since)
			break; /* newest first: everything older is outside too */
		sum += p->diff_sq;
		n++;
	}
	if (n == 0)
		return -ENODATA;
	*ret_ms = sqrt(sum / (double)n);
	return 0;
}

unsigned long pacer_hrv_artifacts(const PacerHrv *hrv)
{
	return hrv->artifacts;
}

unsigned long pacer_hrv_accepted(const PacerHrv *hrv)
{
	return hrv->accepted;
}
