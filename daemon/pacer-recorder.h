/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The activity recorder: every workout (and free run) pacerd coaches becomes
 * FIT and TCX files in [record] dir.
 *
 * While a run goes on, its samples (once a second), RR intervals, laps and
 * every coaching event are appended to a journal, DIR/NAME.journal
 * (lib/pacer-journal.h), synced (fdatasync) at least every 2 s of run time,
 * so that a power cut loses at most the last seconds. When the workout
 * finishes, the recorder writes DIR/NAME.fit and DIR/NAME.tcx (a temporary
 * file, fsync, rename, fsync of the directory), adds their paths to the
 * workout_finished event as "files": {"fit": PATH, "tcx": PATH}, deletes the
 * journal and keeps only the newest [record] keep files of each format.
 * NAME is the start time in UTC, 2026-11-30T14-05-00Z, with "_2", "_3" ...
 * when a run started in the same second, so names sort by start time.
 *
 * A failure (a read-only or missing directory, a full disk) is logged once
 * per run; coaching goes on, the run is kept in memory, and workout_finished
 * then has "files": null and "recording_error" with the message. A journal
 * whose files could not be written stays for the next start.
 *
 * On start, every journal left in the directory (pacerd was killed or the
 * power went) is turned into NAME-recovered.fit and NAME-recovered.tcx
 * (the TCX notes say so too), logged, and deleted.
 */

#include <glib.h>

#include "pacer-daemon.h"

typedef struct _PacerRecorder PacerRecorder;

/* Recovers what an earlier pacerd left, then records every run of `d`. Never fails. */
PacerRecorder *pacer_recorder_new(PacerDaemon *d);
void pacer_recorder_free(PacerRecorder *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PacerRecorder, pacer_recorder_free)

/*
 * Turns the journals in `dir` into recovered FIT and TCX files (the formats
 * given); returns how many runs were recovered. Errors are logged.
 */
guint pacer_recorder_recover(const char *dir, gboolean fit, gboolean tcx, int keep);
