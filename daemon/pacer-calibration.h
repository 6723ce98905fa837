/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The footpod's factor learned against a treadmill ([footpod]
 * auto_calibrate), kept across runs: the runner who calibrated the pod on
 * the treadmill at home gets true pace and distance from it outside too.
 *
 * Factors are kept per footpod address in `<[record] dir>/footpod-calibration`
 * (a key file, written atomically). When a footpod is first seen by a
 * pipeline, its factor from the file starts it (over the manual
 * [footpod] calibration) until the run measures its own; a factor measured
 * in the run is written at most once a minute of run time and when pacerd
 * stops. Real sensors and captures only: a simulated runner's pod is not
 * kept.
 */

#include "pacer-daemon.h"

#define PACER_CALIBRATION_FILE "footpod-calibration"

typedef struct _PacerCalibration PacerCalibration;

/* Hooks into `daemon`'s ticks; NULL (nothing to do) when auto_calibrate is off. */
PacerCalibration *pacer_calibration_new(PacerDaemon *daemon);
/* Writes a factor measured since the last write, then frees. */
void pacer_calibration_free(PacerCalibration *c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PacerCalibration, pacer_calibration_free)
