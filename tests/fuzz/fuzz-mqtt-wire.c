/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the raw link reads from a broker: pacer_mqtt_wire_read_fixed_header()
 * and pacer_mqtt_wire_read_connack() against a model of MQTT 3.1.1, every
 * prefix of the input as well (a stream arrives in pieces: a prefix of a
 * valid packet must ask for more, never fail or succeed); a remaining
 * length read back is written again the same way; and the input as the
 * topic and payload of a PUBLISH reads back as one packet of that size.
 */

#include "fuzz.h"
#include "pacer-mqtt-wire.h"

#define TOPIC_MAX 512

/* The model's fixed header: 0, -EAGAIN or -EBADMSG, and the values. */
static int model_header(const uint8_t *data, size_t size, uint32_t *ret_remaining,
			size_t *ret_header_len)
{
	uint32_t value = 0;

	if (size == 0)
		return -EAGAIN;
	for (size_t i = 1; i <= 4; i++) {
		if (i >= size)
			return -EAGAIN;
		value += (uint32_t)(data[i] & 0x7f) << (7 * (i - 1));
		if (!(data[i] & 0x80)) {
			*ret_remaining = value;
			*ret_header_len = i + 1;
			return 0;
		}
	}
	return -EBADMSG;
}

static void check_header(const uint8_t *data, size_t size)
{
	uint8_t first = FUZZ_POISON, again[4];
	uint32_t remaining = 0, model_remaining = 0;
	size_t header_len = 0, model_len = 0;
	int r, m, n;

	fuzz_poison(&remaining, sizeof(remaining));
	fuzz_poison(&header_len, sizeof(header_len));
	r = pacer_mqtt_wire_read_fixed_header(data, size, &first, &remaining, &header_len);
	m = model_header(data, size, &model_remaining, &model_len);
	fuzz_check(r == m);
	if (r < 0) {
		fuzz_check(fuzz_is_poisoned(&remaining, sizeof(remaining)));
		fuzz_check(fuzz_is_poisoned(&header_len, sizeof(header_len)));
		return;
	}
	fuzz_check(first == data[0]);
	fuzz_check(remaining == model_remaining && header_len == model_len);
	fuzz_check(header_len >= 2 && header_len <= PACER_MQTT_WIRE_FIXED_HEADER_MAX);
	fuzz_check(remaining <= PACER_MQTT_WIRE_REMAINING_MAX);
	/* written again: never longer, and the same octets unless the input padded it */
	n = pacer_mqtt_wire_write_varint(remaining, again, sizeof(again));
	fuzz_check(n >= 1 && (size_t)n <= header_len - 1);
	if ((size_t)n == header_len - 1)
		fuzz_check(memcmp(again, data + 1, (size_t)n) == 0);
}

static int model_connack(const uint8_t *data, size_t size, PacerMqttConnackCode *ret_code,
			 bool *ret_sp)
{
	uint32_t remaining;
	size_t header_len;
	int r;

	if (size > 0 && data[0] != 0x20)
		return -EBADMSG;
	r = model_header(data, size, &remaining, &header_len);
	if (r < 0)
		return r;
	if (remaining != 2 || header_len != 2)
		return -EBADMSG;
	if (size < 4)
		return -EAGAIN;
	if ((data[2] & 0xfe) || data[3] > 5 || (data[3] != 0 && (data[2] & 1)))
		return -EBADMSG;
	*ret_code = (PacerMqttConnackCode)data[3];
	*ret_sp = data[2] & 1;
	return 4;
}

static void check_connack(const uint8_t *data, size_t size)
{
	PacerMqttConnackCode code, model_code = 0;
	bool sp, model_sp = false;
	int r, m;

	fuzz_poison(&code, sizeof(code));
	fuzz_poison(&sp, sizeof(sp));
	r = pacer_mqtt_wire_read_connack(data, size, &code, &sp);
	m = model_connack(data, size, &model_code, &model_sp);
	fuzz_check(r == m);
	if (r < 0) {
		fuzz_check(r == -EAGAIN || r == -EBADMSG);
		fuzz_check(fuzz_is_poisoned(&code, sizeof(code)));
		fuzz_check(fuzz_is_poisoned(&sp, sizeof(sp)));
		return;
	}
	fuzz_check(r == PACER_MQTT_WIRE_CONNACK_SIZE && code == model_code && sp == model_sp);
	fuzz_check(pacer_mqtt_connack_code_to_string(code));
	/* the same without asking for the session flag */
	fuzz_check(pacer_mqtt_wire_read_connack(data, size, &code, NULL) == r);
}

/* The first octet, if any, says how long the topic is; the rest is the payload. */
static void check_publish(const uint8_t *data, size_t size)
{
	size_t topic_len = size > 0 ? data[0] % (TOPIC_MAX + 1) : 0, payload_len, cap;
	const char *topic = (const char *)data + 1;
	uint8_t first = 0, *out;
	uint32_t remaining = 0;
	size_t header_len = 0;
	int n;

	if (size == 0 || topic_len > size - 1)
		return;
	payload_len = size - 1 - topic_len;
	cap = PACER_MQTT_WIRE_FIXED_HEADER_MAX + 2 + topic_len + payload_len;
	out = malloc(cap);
	fuzz_check(out);
	n = pacer_mqtt_wire_write_publish(topic, topic_len, topic + topic_len, payload_len, out, cap);
	if (n < 0) {
		fuzz_check(n == -EINVAL); /* the topic; the buffer is always large enough */
		fuzz_check(topic_len == 0 || memchr(topic, '+', topic_len) ||
			   memchr(topic, '#', topic_len) || memchr(topic, '\0', topic_len) ||
			   !pacer_utf8_valid((const uint8_t *)topic, topic_len));
		free(out);
		return;
	}
	fuzz_check(pacer_mqtt_wire_read_fixed_header(out, (size_t)n, &first, &remaining,
						     &header_len) == 0);
	fuzz_check(first == 0x30 && header_len + remaining == (size_t)n);
	fuzz_check(out[header_len] == topic_len >> 8 && out[header_len + 1] == (topic_len & 0xff));
	fuzz_check(memcmp(out + header_len + 2, topic, topic_len) == 0);
	fuzz_check(memcmp(out + header_len + 2 + topic_len, topic + topic_len, payload_len) == 0);
	/* one octet short is refused */
	fuzz_check(pacer_mqtt_wire_write_publish(topic, topic_len, topic + topic_len, payload_len,
						 out, (size_t)n - 1) == -ENOBUFS);
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* counted: no octet after the input, so that an overread shows */
	uint8_t *exact = malloc(size > 0 ? size : 1);

	fuzz_check(exact);
	if (size > 0)
		memcpy(exact, data, size);
	for (size_t len = 0; len <= size && len <= 8; len++) {
		check_header(exact, len);
		check_connack(exact, len);
	}
	if (size > 8) {
		check_header(exact, size);
		check_connack(exact, size);
	}
	check_publish(exact, size);
	free(exact);
	return 0;
}
