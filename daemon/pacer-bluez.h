/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The BlueZ client: finds and connects the runner's sensors through
 * org.bluez on the system bus and hands every notification to its caller.
 *
 * It follows bluetoothd appearing and vanishing (all device state is dropped
 * when it goes and rebuilt when it returns), discovers with a filter on the
 * Heart Rate, RSC and Fitness Machine services over LE, connects the
 * configured sensors (or, in auto mode, the strongest of each kind), waits
 * for ServicesResolved, finds characteristics by UUID, subscribes with
 * AcquireNotify (StartNotify and PropertiesChanged on Value as the fallback),
 * reads the feature and location characteristics and the battery, and
 * reconnects after a link loss with a backoff of 1, 2, 4 ... 30 s.
 * Of bluetoothd's objects it keeps only the few properties it uses, copied out
 * of one GetManagedObjects per appearance of bluetoothd and of the
 * InterfacesAdded, InterfacesRemoved and PropertiesChanged signals after it.
 * Everything is asynchronous on the thread-default main context.
 */

#include <gio/gio.h>
#include <stdint.h>

#include "pacer-metrics.h"

typedef struct _PacerBluez PacerBluez;

#define PACER_BLUEZ_N_SLOTS 3 /* the runner's: heart rate, footpod, treadmill */
#define PACER_BLUEZ_MAX_BRIDGE 29 /* further sensors, bridged to MQTT only */
#define PACER_BLUEZ_MAX_SENSORS (PACER_BLUEZ_N_SLOTS + PACER_BLUEZ_MAX_BRIDGE)

typedef struct {
	gboolean enabled;
	gboolean auto_pick; /* the strongest sensor of its kind, else `address` */
	char address[18];
} PacerBluezSlotConfig;

typedef struct {
	char *adapter; /* "hci0", or NULL for the first powered adapter */
	PacerBluezSlotConfig slots[PACER_BLUEZ_N_SLOTS]; /* indexed by PacerSensorKind */
	/* bridged sensors by address (any of the three kinds, found from their services) */
	char bridge[PACER_BLUEZ_MAX_BRIDGE][18];
	guint n_bridge;
	guint pick_window_ms; /* how long auto mode listens before choosing; 1500 */
	guint backoff_max_s;  /* 30 */
} PacerBluezConfig;

typedef struct {
	/* one notification or read value, as it came; `bridged`: not one of the runner's */
	void (*value)(const char *address, PacerSensorKind kind, gboolean bridged, uint16_t uuid16,
		      const uint8_t *value, size_t len, gpointer user_data);
	/* subscribed (TRUE) or lost (FALSE) */
	void (*state)(const char *address, PacerSensorKind kind, gboolean bridged,
		      gboolean connected, gpointer user_data);
} PacerBluezCallbacks;

typedef struct {
	PacerSensorKind kind;
	gboolean bridged;
	char address[18];
	char *name;     /* owned by the client; may be NULL */
	gboolean connected;
	int battery;    /* percent, -1 unknown */
	int rssi;       /* dBm, 0 unknown */
} PacerBluezSensor;

PacerBluez *pacer_bluez_new(const PacerBluezConfig *config, const PacerBluezCallbacks *callbacks,
			    gpointer user_data);
/* Starts watching org.bluez on the system bus (DBUS_SYSTEM_BUS_ADDRESS is honoured). */
void pacer_bluez_start(PacerBluez *bz);
/* Disconnects our sensors (without waiting) and frees everything. */
void pacer_bluez_free(PacerBluez *bz);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PacerBluez, pacer_bluez_free)

/* The sensors in use (the runner's, then the bridged ones); fills up to `max`, returns the count. */
guint pacer_bluez_get_sensors(PacerBluez *bz, PacerBluezSensor *ret, guint max);

/* Applies a new sensor configuration (after SIGHUP): changed slots start over. */
void pacer_bluez_reconfigure(PacerBluez *bz, const PacerBluezConfig *config);
