/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * pacerd's D-Bus service (DESIGN.md section 7; the API is
 * daemon/dbus/io.pacer.Pacer1.xml): owns io.pacer.Pacer1, exports the coach
 * at /io/pacer/Pacer1 and one object per sensor under the ObjectManager
 * there, and keeps them current from the daemon's event, tick and sensors
 * sinks. Properties are refreshed at most once a second; events go out as
 * they happen. Not reaching the bus, or not owning the name, is logged and
 * pacerd coaches on; the name is taken when it becomes free.
 */

#include <gio/gio.h>

#include "pacer-daemon.h"

#define PACER_SERVICE_NAME "io.pacer.Pacer1"
#define PACER_SERVICE_PATH "/io/pacer/Pacer1"

typedef struct _PacerService PacerService;

/*
 * Starts owning the name on `bus_type` (asynchronously) and hooks into
 * `daemon`'s sinks. `settled` (may be NULL) is called once, from the main
 * loop, when the name is ours or known not to be for now (no bus, denied,
 * another owner): what systemd's READY=1 waits for, so that a unit ordered
 * after pacerd finds the API.
 */
PacerService *pacer_service_new(PacerDaemon *daemon, GBusType bus_type, GSourceFunc settled,
				gpointer settled_data);

/* Releases the name after sending what is queued (the last workout_finished). */
void pacer_service_free(PacerService *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PacerService, pacer_service_free)
