/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "pacer-mqtt-wire.h"

#include <errno.h>
#include <string.h>

#include "pacer-cursor.h"
#include "pacer-json.h"

#define CONNECT_FIXED_PART 10 /* protocol name (6), level, flags, keepalive (2) */
#define PROTOCOL_LEVEL	   4  /* MQTT 3.1.1 */

enum {
	CONNECT_FLAG_CLEAN_SESSION = 0x02,
	CONNECT_FLAG_PASSWORD = 0x40,
	CONNECT_FLAG_USERNAME = 0x80,
};

/*
 * A writer over the caller's buffer. Each writer below checks the whole
 * packet's size first, so these only guard against a mistake here.
 */
typedef struct {
	uint8_t *buf;
	size_t cap;
	size_t pos;
} Writer;

static void put_u8(Writer *w, uint8_t v)
{
	if (w->pos < w->cap)
		w->buf[w->pos] = v;
	w->pos++;
}

/* MQTT's integers are big-endian: the only place that says so. */
static void put_u16be(Writer *w, uint16_t v)
{
	put_u8(w, (uint8_t)(v >> 8));
	put_u8(w, (uint8_t)(v & 0xff));
}

static void put_bytes(Writer *w, const void *data, size_t len)
{
	if (len > 0 && w->pos <= w->cap && len <= w->cap - w->pos)
		memcpy(w->buf + w->pos, data, len);
	w->pos += len;
}

/* A two-octet length and the octets; len was checked against PACER_MQTT_WIRE_STRING_MAX. */
static void put_string(Writer *w, const void *data, size_t len)
{
	put_u16be(w, (uint16_t)len);
	put_bytes(w, data, len);
}

/* Seven bits an octet, least significant first; the top bit says more follow. */
static void put_varint(Writer *w, uint32_t value)
{
	do {
		uint8_t digit = (uint8_t)(value % 128);

		value /= 128;
		put_u8(w, value > 0 ? (uint8_t)(digit | 0x80) : digit);
	} while (value > 0);
}

static size_t varint_size(uint32_t value)
{
	if (value < 128)
		return 1;
	if (value < 16384)
		return 2;
	if (value < 2097152)
		return 3;
	return 4;
}

int pacer_mqtt_wire_write_varint(uint32_t value, uint8_t *buf, size_t cap)
{
	Writer w = {buf, cap, 0};

	if (value > PACER_MQTT_WIRE_REMAINING_MAX)
		return -EINVAL;
	if (varint_size(value) > cap)
		return -ENOBUFS;
	put_varint(&w, value);
	return (int)w.pos;
}

int pacer_mqtt_wire_read_fixed_header(const uint8_t *data, size_t len, uint8_t *ret_type_flags,
				      uint32_t *ret_remaining, size_t *ret_header_len)
{
	PacerCursor c;
	uint8_t first, digit;
	uint32_t value = 0;

	pacer_cursor_init(&c, data, len);
	if (pacer_cursor_read_u8(&c, &first) < 0)
		return -EAGAIN;
	for (unsigned i = 0;; i++) {
		if (i == 4)
			return -EBADMSG; /* a fifth octet: the remaining length has at most four */
		if (pacer_cursor_read_u8(&c, &digit) < 0)
			return -EAGAIN;
		value |= (uint32_t)(digit & 0x7f) << (7 * i);
		if (!(digit & 0x80))
			break;
	}
	*ret_type_flags = first;
	*ret_remaining = value;
	*ret_header_len = c.pos;
	return 0;
}

/* UTF-8 text MQTT accepts as a string: well-formed, no U+0000, at most 65535 octets. */
static bool valid_string(const char *s, size_t len)
{
	return len <= PACER_MQTT_WIRE_STRING_MAX && !memchr(s, '\0', len) &&
	       pacer_utf8_valid((const uint8_t *)s, len);
}

int pacer_mqtt_wire_write_connect(const PacerMqttConnect *c, uint8_t *buf, size_t cap)
{
	size_t id_len, user_len = 0, pass_len = 0, remaining, total;
	uint8_t flags = CONNECT_FLAG_CLEAN_SESSION;
	Writer w = {buf, cap, 0};

	if (!c || !c->client_id || (c->password && !c->username))
		return -EINVAL;
	id_len = strlen(c->client_id);
	if (!valid_string(c->client_id, id_len))
		return -EINVAL;
	remaining = CONNECT_FIXED_PART + 2 + id_len;
	if (c->username) {
		user_len = strlen(c->username);
		if (!valid_string(c->username, user_len))
			return -EINVAL;
		flags |= CONNECT_FLAG_USERNAME;
		remaining += 2 + user_len;
	}
	if (c->password) {
		/* binary data: any octets, only the length is bounded */
		pass_len = strlen(c->password);
		if (pass_len > PACER_MQTT_WIRE_STRING_MAX)
			return -EINVAL;
		flags |= CONNECT_FLAG_PASSWORD;
		remaining += 2 + pass_len;
	}
	/* three strings of at most 65535 octets stay far below the maximum remaining length */
	total = 1 + varint_size((uint32_t)remaining) + remaining;
	if (total > cap)
		return -ENOBUFS;
	put_u8(&w, PACER_MQTT_PACKET_CONNECT << 4);
	put_varint(&w, (uint32_t)remaining);
	put_string(&w, "MQTT", 4);
	put_u8(&w, PROTOCOL_LEVEL);
	put_u8(&w, flags);
	put_u16be(&w, c->keepalive_s);
	put_string(&w, c->client_id, id_len);
	if (c->username)
		put_string(&w, c->username, user_len);
	if (c->password)
		put_string(&w, c->password, pass_len);
	return (int)w.pos;
}

/* A topic name one may publish to (section 4.7): no wildcards, not empty. */
static bool valid_topic_name(const char *topic, size_t len)
{
	return topic && len > 0 && valid_string(topic, len) && !memchr(topic, '+', len) &&
	       !memchr(topic, '#', len);
}

int pacer_mqtt_wire_write_publish_header(const char *topic, size_t topic_len, size_t payload_len,
					 uint8_t *buf, size_t cap)
{
	Writer w = {buf, cap, 0};
	size_t remaining;

	if (!valid_topic_name(topic, topic_len))
		return -EINVAL;
	if (payload_len > PACER_MQTT_WIRE_REMAINING_MAX - 2 - topic_len)
		return -EINVAL;
	remaining = 2 + topic_len + payload_len;
	if (cap < 1 + varint_size((uint32_t)remaining) + 2 + topic_len)
		return -ENOBUFS;
	put_u8(&w, PACER_MQTT_PACKET_PUBLISH << 4); /* QoS 0, no DUP, no retain */
	put_varint(&w, (uint32_t)remaining);
	put_string(&w, topic, topic_len);
	return (int)w.pos;
}

int pacer_mqtt_wire_write_publish(const char *topic, size_t topic_len, const void *payload,
				  size_t payload_len, uint8_t *buf, size_t cap)
{
	int n = pacer_mqtt_wire_write_publish_header(topic, topic_len, payload_len, buf, cap);

	if (n < 0)
		return n;
	if (payload_len > cap - (size_t)n)
		return -ENOBUFS;
	if (payload_len > 0 && !payload)
		return -EINVAL;
	if (payload_len > 0)
		memcpy(buf + n, payload, payload_len);
	/* at most PACER_MQTT_WIRE_REMAINING_MAX + 5 octets: an int holds it */
	return n + (int)payload_len;
}

int pacer_mqtt_wire_write_disconnect(uint8_t *buf, size_t cap)
{
	Writer w = {buf, cap, 0};

	if (cap < PACER_MQTT_WIRE_DISCONNECT_SIZE)
		return -ENOBUFS;
	put_u8(&w, PACER_MQTT_PACKET_DISCONNECT << 4);
	put_u8(&w, 0);
	return (int)w.pos;
}

int pacer_mqtt_wire_read_connack(const uint8_t *data, size_t len, PacerMqttConnackCode *ret_code,
				 bool *ret_session_present)
{
	PacerCursor c;
	uint8_t first, ack_flags, code;
	uint32_t remaining;
	size_t header_len;
	int r;

	/* the first octet alone tells another packet or reserved flags: no need to wait */
	if (len > 0 && data[0] != PACER_MQTT_PACKET_CONNACK << 4)
		return -EBADMSG;
	r = pacer_mqtt_wire_read_fixed_header(data, len, &first, &remaining, &header_len);
	if (r < 0)
		return r;
	if (remaining != 2 || header_len != 2)
		return -EBADMSG; /* 2, written in more octets than it takes, is no CONNACK either */
	pacer_cursor_init(&c, data, len);
	if (pacer_cursor_skip(&c, header_len) < 0 || pacer_cursor_read_u8(&c, &ack_flags) < 0 ||
	    pacer_cursor_read_u8(&c, &code) < 0)
		return -EAGAIN;
	if (ack_flags & 0xfe)
		return -EBADMSG; /* reserved bits */
	if (code > PACER_MQTT_CONNACK_REFUSED_NOT_AUTHORIZED)
		return -EBADMSG;
	if (code != PACER_MQTT_CONNACK_ACCEPTED && (ack_flags & 0x01))
		return -EBADMSG; /* a refusal has no session [MQTT-3.2.2-4] */
	*ret_code = (PacerMqttConnackCode)code;
	if (ret_session_present)
		*ret_session_present = (ack_flags & 0x01) != 0;
	return PACER_MQTT_WIRE_CONNACK_SIZE;
}

const char *pacer_mqtt_connack_code_to_string(PacerMqttConnackCode code)
{
	switch (code) {
	case PACER_MQTT_CONNACK_ACCEPTED:
		return "connection accepted";
	case PACER_MQTT_CONNACK_REFUSED_PROTOCOL_VERSION:
		return "unacceptable protocol version";
	case PACER_MQTT_CONNACK_REFUSED_IDENTIFIER:
		return "identifier rejected";
	case PACER_MQTT_CONNACK_REFUSED_SERVER_UNAVAILABLE:
		return "server unavailable";
	case PACER_MQTT_CONNACK_REFUSED_BAD_USERNAME_OR_PASSWORD:
		return "bad user name or password";
	case PACER_MQTT_CONNACK_REFUSED_NOT_AUTHORIZED:
		return "not authorized";
	}
	return NULL;
}
