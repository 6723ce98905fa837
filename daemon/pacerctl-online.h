/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * pacerctl's online verbs: status, watch, sensors, start, stop, lap, pause
 * and resume, through pacerd's D-Bus API (io.pacer.Pacer1).
 */

#include <stdbool.h>

/* Whether `verb` is one of them. */
bool pacerctl_online_is_verb(const char *verb);

/* Runs `verb` with the arguments after it; returns the exit status. */
int pacerctl_online_run(const char *verb, int argc, char **argv);
