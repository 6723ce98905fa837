/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The raw link: a second MQTT connection of pacerd's own, client id
 * `<client_id>-raw`, that only sends QoS 0 PUBLISH packets (the `raw/<address>`
 * values of [mqtt] raw = true). It is written from the main loop on a
 * non-blocking socket, without Paho: a value costs one sendmsg(), where
 * Paho's MQTTAsync_sendMessage() copies, locks, wakes its sending thread and
 * traces. Plain TCP brokers only (tcp://, mqtt://): TLS and WebSockets stay
 * with Paho.
 *
 * It follows the main connection (pacer-mqtt.c): it may connect only while
 * that one is up, and it connects when the first value comes, so that an
 * idle pacerd keeps no link and no timer. Its keepalive is the main
 * connection's (brokers refuse keepalive 0 from MQTT 3.1.1 clients, as
 * mosquitto 2.0.12 and later do by default) and it sends no pings: a
 * broker closes it after one and a half keepalives without a value, and
 * the next value opens it again. A link that fails is tried again with the
 * next value after 1 s, then 2, 4 ... 30 s; its failure is logged then, so
 * that a broker going away is said once, by the main connection.
 *
 * While the link is not connected pacer_mqtt_raw_publish() says so, and the
 * caller sends the value through the main connection instead.
 */

#include <glib.h>

typedef struct _PacerMqttRaw PacerMqttRaw;

typedef enum {
	PACER_MQTT_RAW_SENT,	      /* written to the socket, or waiting in the link's buffer */
	PACER_MQTT_RAW_NOT_CONNECTED, /* not sent: the link is down or connecting */
	PACER_MQTT_RAW_DROPPED,	      /* not sent: the buffer is full, or the packet cannot be made */
} PacerMqttRawResult;

/* Whether the raw link can serve this [mqtt] uri: tcp:// and mqtt://. */
gboolean pacer_mqtt_raw_supports_uri(const char *uri);

/*
 * A link to the broker of `uri` (see pacer_mqtt_raw_supports_uri()) as
 * `client_id`, with `username` and `password` (NULL: none), that stays down
 * until pacer_mqtt_raw_set_allowed(). Returns NULL with an error for a URI
 * it cannot serve or a client id MQTT cannot carry.
 */
PacerMqttRaw *pacer_mqtt_raw_new(const char *uri, const char *client_id, const char *username,
				 const char *password, guint16 keepalive_s, GError **error);

/*
 * The main connection is up (TRUE): the link may connect, at once when the
 * next value comes. Down (FALSE): the link says DISCONNECT if it can,
 * closes, and stays down; a failure not logged yet is forgotten.
 */
void pacer_mqtt_raw_set_allowed(PacerMqttRaw *raw, gboolean allowed);

/*
 * Publishes `payload_len` octets on `topic` (QoS 0, not retained). Never
 * blocks: what the socket does not take at once waits in a buffer of
 * 64 KiB, written when the socket can take more; a value that does not fit
 * in it is dropped. When the link is down this starts connecting (if
 * allowed, and the backoff has run out) and returns
 * PACER_MQTT_RAW_NOT_CONNECTED.
 */
PacerMqttRawResult pacer_mqtt_raw_publish(PacerMqttRaw *raw, const char *topic, gsize topic_len,
					  const void *payload, gsize payload_len);

/* Values accepted and then lost in the buffer when the link closed, since the start. */
guint64 pacer_mqtt_raw_get_lost(const PacerMqttRaw *raw);

/* Says DISCONNECT if connected, closes, frees. NULL is fine. */
void pacer_mqtt_raw_free(PacerMqttRaw *raw);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(PacerMqttRaw, pacer_mqtt_raw_free)
