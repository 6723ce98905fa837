/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* pacerctl history [--dir DIR] [--json]: the runs pacerd recorded; returns the exit status. */
int verb_history(int argc, char **argv);
