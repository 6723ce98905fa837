/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The service manager's notification protocol (sd_notify(3)), in the few
 * lines pacerd needs, so that pacerd does not load libsystemd (and with it
 * libgcrypt, lz4, zstd, lzma ...) for one datagram: states such as
 * "READY=1" go to the socket named by $NOTIFY_SOCKET, and $WATCHDOG_USEC
 * (for this process, per $WATCHDOG_PID) says how often to ping.
 */

#include <glib.h>

/* Sends `state`; FALSE when there is no manager to tell (or it cannot be told). */
gboolean pacer_notify(const char *state);

/* The watchdog interval asked of this process in µs, 0 when none. */
guint64 pacer_notify_watchdog_usec(void);
