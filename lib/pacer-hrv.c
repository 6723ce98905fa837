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
	/*
	 * The earliest arrival time of this pair and of every newer one. The
	 * window holds the pairs newer than the newest one that arrived before
	 * its start, so a pair is in it exactly when keep_us is not before the
	 * start; keep_us never decreases from older to newer pairs, which makes
	 * the window always a run of the newest pairs, even if times go back.
	 */
	uint64_t keep_us;
	double diff_sq;
} Pair;

struct PacerHrv {
	uint64_t window_us;
	size_t capacity;
	Pair *pairs; /* ring of successive differences */
	size_t head; /* next slot */
	size_t count;

	/*
	 * The window as of the last query: its n_window newest pairs and the sum
	 * of their squared differences, moved along as pairs come and go rather
	 * than summed again at every query. RR intervals from a strap are
	 * multiples of 1/1024 s (1000/1024 ms), so their squared differences are
	 * multiples of 2^-14 ms^2, and they and any sum of them below 2^39 are
	 * exact in a double: the running sum is bit for bit the sum a full pass
	 * would give, in any order.
	 */
	size_t n_window;
	double window_sum;
	size_t pushed; /* pairs since window_sum was last summed afresh */

	/* the last answer, which stands until a pair comes or the window's oldest leaves it */
	bool has_answer;
	uint64_t answer_from_us;
	uint64_t answer_until_us;
	int answer;
	double answer_ms;

	double recent[MEDIAN_BEATS]; /* ring of accepted intervals for the median */
	double sorted[MEDIAN_BEATS]; /* the same intervals in ascending order */
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
	size_t n = h->n_recent;

	return (n % 2) ? h->sorted[n / 2] : (h->sorted[n / 2 - 1] + h->sorted[n / 2]) / 2.0;
}

/* Keeps `sorted` in step with the ring: the value leaving it out, rr_ms in, in order. */
static void remember(PacerHrv *h, double rr_ms)
{
	size_t n = h->n_recent, k = n;

	if (n == MEDIAN_BEATS) {
		/*
		 * rr_ms takes the place of the value it pushes out of the ring, and
		 * moves from there to its own: successive beats are close, so
		 * only the few values between the two move.
		 */
		for (k = 0; h->sorted[k] != h->recent[h->recent_head]; k++)
			;
		for (; k + 1 < n && h->sorted[k + 1] < rr_ms; k++)
			h->sorted[k] = h->sorted[k + 1];
	} else {
		h->n_recent = n + 1;
	}
	for (; k > 0 && h->sorted[k - 1] > rr_ms; k--)
		h->sorted[k] = h->sorted[k - 1];
	h->sorted[k] = rr_ms;

	h->recent[h->recent_head] = rr_ms;
	h->recent_head = (h->recent_head + 1) % MEDIAN_BEATS;
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

/* The i-th newest pair (0 the newest); i < count. */
static Pair *pair_at(const PacerHrv *h, size_t i)
{
	return &h->pairs[(h->head + h->capacity - 1 - i) % h->capacity];
}

/* A new pair joins the window; the next query drops it again if it is too old. */
static void push_pair(PacerHrv *h, double diff_sq, uint64_t t_us)
{
	if (h->count == h->capacity) {
		/* the ring is full: the oldest pair is overwritten, and leaves the window */
		if (h->n_window == h->count) {
			h->window_sum -= pair_at(h, h->count - 1)->diff_sq;
			h->n_window--;
		}
		h->count--;
	}
	/* an earlier time bounds the older pairs too (see keep_us): none when time goes forward */
	for (size_t i = 0; i < h->count && pair_at(h, i)->keep_us > t_us; i++)
		pair_at(h, i)->keep_us = t_us;
	h->pairs[h->head] = (Pair){.keep_us = t_us, .diff_sq = diff_sq};
	h->head = (h->head + 1) % h->capacity;
	h->count++;
	h->window_sum += diff_sq;
	h->n_window++;
	h->has_answer = false;

	/* now and then summed afresh, so that other inputs' rounding cannot build up */
	if (++h->pushed == h->capacity) {
		h->pushed = 0;
		h->window_sum = 0.0;
		for (size_t i = 0; i < h->n_window; i++)
			h->window_sum += pair_at(h, i)->diff_sq;
	}
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

		push_pair(hrv, d * d, t_us);
	}
	hrv->last_ms = rr_ms;
	hrv->has_last = true;
	return true;
}

void pacer_hrv_break(PacerHrv *hrv)
{
	hrv->has_last = false;
}

/* Moves the window to end at now_us: 0 and its RMSSD, or -ENODATA. */
static int window_rmssd(PacerHrv *hrv, uint64_t now_us, double *ret_ms)
{
	uint64_t since = now_us > hrv->window_us ? now_us - hrv->window_us : 0;

	/* older pairs back in (now went back), then the pairs that fell out */
	while (hrv->n_window < hrv->count && pair_at(hrv, hrv->n_window)->keep_us >= since) {
		hrv->window_sum += pair_at(hrv, hrv->n_window)->diff_sq;
		hrv->n_window++;
	}
	while (hrv->n_window > 0 && pair_at(hrv, hrv->n_window - 1)->keep_us < since) {
		hrv->window_sum -= pair_at(hrv, hrv->n_window - 1)->diff_sq;
		hrv->n_window--;
	}
	if (hrv->n_window == 0) {
		hrv->window_sum = 0.0; /* start again from an exact zero */
		return -ENODATA;
	}
	/* other inputs than a strap's may leave rounding behind: never below zero */
	*ret_ms = hrv->window_sum > 0.0 ? sqrt(hrv->window_sum / (double)hrv->n_window) : 0.0;
	return 0;
}

int pacer_hrv_rmssd(PacerHrv *hrv, uint64_t now_us, double *ret_ms)
{
	/*
	 * Later, the window keeps the same pairs until the oldest of them falls
	 * out (none can come back while time goes on), or a new pair comes.
	 */
	if (!hrv->has_answer || now_us < hrv->answer_from_us || now_us > hrv->answer_until_us) {
		uint64_t oldest_us;

		hrv->answer = window_rmssd(hrv, now_us, &hrv->answer_ms);
		hrv->has_answer = true;
		hrv->answer_from_us = now_us;
		oldest_us = hrv->n_window > 0 ? pair_at(hrv, hrv->n_window - 1)->keep_us : UINT64_MAX;
		hrv->answer_until_us = oldest_us < UINT64_MAX - hrv->window_us
					       ? oldest_us + hrv->window_us
					       : UINT64_MAX;
	}
	if (hrv->answer == 0)
		*ret_ms = hrv->answer_ms;
	return hrv->answer;
}

unsigned long pacer_hrv_artifacts(const PacerHrv *hrv)
{
	return hrv->artifacts;
}

unsigned long pacer_hrv_accepted(const PacerHrv *hrv)
{
	return hrv->accepted;
}
