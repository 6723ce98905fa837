/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The few MQTT 3.1.1 packets (OASIS standard, 2014) that pacerd's raw link
 * needs, as bytes: CONNECT, a QoS 0 PUBLISH, DISCONNECT, and the reading of
 * a packet's fixed header and of CONNACK. Nothing here allocates or does I/O.
 *
 * Writers fill the caller's buffer and return the number of octets written,
 * -ENOBUFS when the packet does not fit (the buffer's contents are then
 * undefined), or -EINVAL for what MQTT cannot carry. Readers take the octets
 * received so far and return -EAGAIN while a packet is incomplete (read
 * more), -EBADMSG when it is malformed.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The largest remaining length (four octets of variable length encoding, section 2.2.3). */
#define PACER_MQTT_WIRE_REMAINING_MAX 268435455u

/* A fixed header at most: the type and flags octet, four octets of remaining length. */
#define PACER_MQTT_WIRE_FIXED_HEADER_MAX 5

/* The longest UTF-8 string or binary field (a two-octet length). */
#define PACER_MQTT_WIRE_STRING_MAX 65535u

/* CONNACK and DISCONNECT are always this long. */
#define PACER_MQTT_WIRE_CONNACK_SIZE	4
#define PACER_MQTT_WIRE_DISCONNECT_SIZE 2

/* Control packet types (section 2.2.1), the high four bits of the first octet. */
typedef enum {
	PACER_MQTT_PACKET_CONNECT = 1,
	PACER_MQTT_PACKET_CONNACK = 2,
	PACER_MQTT_PACKET_PUBLISH = 3,
	PACER_MQTT_PACKET_PINGRESP = 13,
	PACER_MQTT_PACKET_DISCONNECT = 14,
} PacerMqttPacketType;

/* CONNACK's return codes (section 3.2.2.3); 6-255 are reserved. */
typedef enum {
	PACER_MQTT_CONNACK_ACCEPTED = 0,
	PACER_MQTT_CONNACK_REFUSED_PROTOCOL_VERSION = 1,
	PACER_MQTT_CONNACK_REFUSED_IDENTIFIER = 2,
	PACER_MQTT_CONNACK_REFUSED_SERVER_UNAVAILABLE = 3,
	PACER_MQTT_CONNACK_REFUSED_BAD_USERNAME_OR_PASSWORD = 4,
	PACER_MQTT_CONNACK_REFUSED_NOT_AUTHORIZED = 5,
} PacerMqttConnackCode;

typedef struct {
	const char *client_id; /* UTF-8, at most 65535 octets; "" lets the server choose */
	const char *username;  /* NULL: none */
	const char *password;  /* NULL: none; MQTT 3.1.1 allows one only with a username */
	uint16_t keepalive_s;  /* 0: the server never expects a ping */
} PacerMqttConnect;

/*
 * The remaining length `value` in MQTT's variable length encoding (seven
 * bits an octet, least significant first): 1 to 4 octets. -EINVAL above
 * PACER_MQTT_WIRE_REMAINING_MAX.
 */
int pacer_mqtt_wire_write_varint(uint32_t value, uint8_t *buf, size_t cap);

/*
 * Reads a fixed header from the first `len` octets at `data`: *ret_type_flags
 * gets the first octet, *ret_remaining the remaining length and
 * *ret_header_len the header's own size (2 to 5 octets); the whole packet
 * is *ret_header_len + *ret_remaining octets. The outputs are written only
 * on success. -EAGAIN: the header is not complete; -EBADMSG: a fifth octet
 * of remaining length.
 */
int pacer_mqtt_wire_read_fixed_header(const uint8_t *data, size_t len, uint8_t *ret_type_flags,
				      uint32_t *ret_remaining, size_t *ret_header_len);

/*
 * CONNECT with a clean session, no will, MQTT 3.1.1 (protocol level 4).
 * -EINVAL for a missing client id, a field longer than 65535 octets, a
 * client id or username that is not UTF-8 or holds U+0000, or a password
 * without a username.
 */
int pacer_mqtt_wire_write_connect(const PacerMqttConnect *c, uint8_t *buf, size_t cap);

/*
 * The start of a QoS 0 PUBLISH (no retain, no DUP) of `payload_len`
 * octets: the fixed header and the topic; the caller sends the payload
 * right after it. -EINVAL for a topic that is empty, longer than 65535
 * octets, not UTF-8, or holds a wildcard ('+', '#') or U+0000, or for a
 * packet longer than PACER_MQTT_WIRE_REMAINING_MAX.
 */
int pacer_mqtt_wire_write_publish_header(const char *topic, size_t topic_len, size_t payload_len,
					 uint8_t *buf, size_t cap);

/* The same with the payload: the whole packet. */
int pacer_mqtt_wire_write_publish(const char *topic, size_t topic_len, const void *payload,
				  size_t payload_len, uint8_t *buf, size_t cap);

/* DISCONNECT: 2 octets. */
int pacer_mqtt_wire_write_disconnect(uint8_t *buf, size_t cap);

/*
 * Reads CONNACK from the first `len` octets at `data` and returns its size
 * (PACER_MQTT_WIRE_CONNACK_SIZE: what follows is the next packet's). The
 * outputs are written only on success; *ret_session_present may be NULL.
 * -EAGAIN: a valid start, incomplete; -EBADMSG: another packet type,
 * reserved flags set, a remaining length other than 2, a reserved return
 * code (6-255), or the session-present flag with a refusal.
 */
int pacer_mqtt_wire_read_connack(const uint8_t *data, size_t len, PacerMqttConnackCode *ret_code,
				 bool *ret_session_present);

/* The specification's words for a return code ("not authorized"), or NULL for a reserved one. */
const char *pacer_mqtt_connack_code_to_string(PacerMqttConnackCode code);
