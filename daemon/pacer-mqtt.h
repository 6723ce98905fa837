/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * pacerd's MQTT front end (DESIGN.md section 6, README "MQTT"): metrics,
 * events, the workout and sensor states, status and its last will, Home
 * Assistant discovery, and commands, published with Paho's MQTTAsync.
 *
 * Everything runs on the main loop. Paho calls back on its own threads; those
 * callbacks copy what they are given into an item, push it onto a queue and
 * wake the main context with g_main_context_invoke_full(), nothing else.
 *
 * Delivery: events and retained states wait, in order, in a queue bounded by
 * [mqtt] queue_size while the broker is away; a QoS 1 message leaves the
 * queue only when Paho reports the broker's PUBACK, and the ones in flight
 * when a connection drops go back to the front of the queue in order.
 * Metrics are QoS 0 and coalesced (only the latest waits). Reconnects run on
 * a main-loop timeout: 1 s, doubling to 30 s.
 */

#include <glib.h>

#include "pacer-daemon.h"

typedef struct _PacerMqtt PacerMqtt;

/*
 * Reads [mqtt] from the daemon's configuration (later reloads do not change
 * it), registers with the daemon's sinks and starts connecting; pacerd runs
 * the same with or without a broker. Returns NULL with an error only when
 * Paho refuses the broker URI.
 */
PacerMqtt *pacer_mqtt_new(PacerDaemon *daemon, GError **error);

/*
 * Sends what is queued and "offline" on status, then disconnects (at most
 * about 4 s, only while connected), and frees everything. Call it before the
 * daemon's pipeline goes. NULL is fine.
 */
void pacer_mqtt_free(PacerMqtt *m);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(PacerMqtt, pacer_mqtt_free)
