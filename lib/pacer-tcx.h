/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * TCX (Garmin Training Center Database v2) activity files from a recorded
 * run, valid against TrainingCenterDatabasev2.xsd (a copy is in tests/data/).
 *
 * One Activity Sport="Running" whose Id is the start time; one Lap per lap of
 * the run (per workout step) with StartTime, TotalTimeSeconds (active time),
 * DistanceMeters, MaximumSpeed, Calories (0: Pacer does not estimate them),
 * AverageHeartRateBpm and MaximumHeartRateBpm when known, Intensity (Resting
 * for rest, walk, jog and recovery steps, Active otherwise), TriggerMethod
 * (Manual, Time or Distance) and a Track with one Trackpoint per sample
 * (Time, DistanceMeters, HeartRateBpm, and Garmin's ActivityExtension v2 TPX
 * with Speed and RunCadence). The Lap extension LX carries AvgSpeed and
 * AvgRunCadence / MaxRunCadence.
 *
 * Cadence: TCX's own Cadence element is for bikes (rpm) and is not written;
 * RunCadence follows Garmin's exports, strides (one foot's steps) per minute,
 * so steps per minute = 2 * RunCadence, as FIT's cadence.
 *
 * Times are UTC with whole seconds ("2026-11-30T14:05:00Z"). Activity Notes
 * hold the workout text, and "Recovered after an interruption." for a
 * recovered run. Numbers are written without the C library's locale.
 */

#include <stddef.h>
#include <stdint.h>

#include "pacer-journal.h"

typedef struct {
	const char *name; /* Creator Name, e.g. "Pacer" */
	uint32_t unit_id;
	uint16_t product_id;
	uint16_t version_major, version_minor;
} PacerTcxCreator;

/*
 * Writes `run` (finished with pacer_run_finish()) as TCX through `write`,
 * in chunks of at most 4 KiB. Returns 0, the first negative value `write`
 * returned, or -EINVAL for a run without a header.
 */
int pacer_tcx_encode(const PacerRun *run, const PacerTcxCreator *creator, PacerWriteFunc write,
		     void *user_data);

/*
 * Formats a Unix time in milliseconds as an xsd:dateTime in UTC with whole
 * seconds (rounded down) into buf (at least 21 octets). Returns 0 or -ENOBUFS.
 */
int pacer_tcx_format_time(uint64_t unix_ms, char *buf, size_t size);
