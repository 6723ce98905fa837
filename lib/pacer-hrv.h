/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Beat-to-beat (RR) intervals: artifact rejection and RMSSD over a rolling
 * window.
 *
 * An interval is an artifact when it lies outside 300-2000 ms or differs by
 * more than 20 % from the median of the last 15 accepted intervals. Artifacts
 * are dropped and counted; the intervals either side of one are treated as
 * successive, as in an NN series after deletion. After five artifacts in a
 * row the median history restarts from the current interval, so a genuine
 * step change in heart rate is followed within a few beats.
 *
 * RMSSD (Task Force of the ESC and NASPE, 1996) is the square root of the
 * mean of the squared differences between successive accepted intervals
 * whose later interval arrived within the window.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct PacerHrv PacerHrv;

/* window_us: RMSSD window; capacity: the most intervals the window can hold. NULL on ENOMEM. */
PacerHrv *pacer_hrv_new(uint64_t window_us, size_t capacity);
void pacer_hrv_free(PacerHrv *hrv);

/* Adds one interval received at t_us. Returns true if accepted, false if it was an artifact. */
bool pacer_hrv_add(PacerHrv *hrv, double rr_ms, uint64_t t_us);

/* Forgets the previous interval, so the next one starts a new series (after a gap). */
void pacer_hrv_break(PacerHrv *hrv);

/*
 * RMSSD over the window ending at now_us: 0, or -ENODATA with fewer than one
 * pair. Moves the window to now_us (a running sum, not a pass over the pairs),
 * hence the non-const hrv; now_us may also go back.
 */
int pacer_hrv_rmssd(PacerHrv *hrv, uint64_t now_us, double *ret_ms);

unsigned long pacer_hrv_artifacts(const PacerHrv *hrv);
unsigned long pacer_hrv_accepted(const PacerHrv *hrv);
