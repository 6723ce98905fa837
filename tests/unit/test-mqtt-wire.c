/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * MQTT 3.1.1 packets for the raw link, byte for byte against packets worked
 * out by hand from the specification: the remaining length at each of its
 * size boundaries (table 2.4), CONNECT with and without a user name and
 * password, QoS 0 PUBLISH, DISCONNECT, and CONNACK with every return code,
 * truncated and malformed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pacer-mqtt-wire.h"
#include "test-common.h"

static uint8_t buf[70000];

static void check_bytes(const uint8_t *actual, int len, const char *hex)
{
	uint8_t want[256];
	size_t n = pacer_test_hex(hex, want, sizeof(want));

	CU_ASSERT_EQUAL(len, (int)n);
	if (len == (int)n)
		CU_ASSERT_EQUAL(memcmp(actual, want, n), 0);
}

/* ---- remaining length ---- */

static void test_varint(void)
{
	static const struct {
		uint32_t value;
		const char *hex;
	} cases[] = {
		/* table 2.4: the first and last value of each size */
		{0, "00"},
		{127, "7f"},
		{128, "80 01"},
		{16383, "ff 7f"},
		{16384, "80 80 01"},
		{2097151, "ff ff 7f"},
		{2097152, "80 80 80 01"},
		{268435455, "ff ff ff 7f"},
		{321, "c1 02"}, /* the specification's worked example: 65 + 2 * 128 */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t out[4];
		uint8_t first = 0;
		uint32_t remaining = 0;
		size_t header_len = 0;
		int n = pacer_mqtt_wire_write_varint(cases[i].value, out, sizeof(out));

		check_bytes(out, n, cases[i].hex);
		/* one octet short is refused */
		CU_ASSERT_EQUAL(pacer_mqtt_wire_write_varint(cases[i].value, out, (size_t)n - 1),
				-ENOBUFS);

		/* and read back behind a first octet */
		buf[0] = 0x30;
		memcpy(buf + 1, out, (size_t)n);
		CU_ASSERT_EQUAL(pacer_mqtt_wire_read_fixed_header(buf, (size_t)n + 1, &first,
								  &remaining, &header_len),
				0);
		CU_ASSERT_EQUAL(first, 0x30);
		CU_ASSERT_EQUAL(remaining, cases[i].value);
		CU_ASSERT_EQUAL(header_len, (size_t)n + 1);
		/* every truncation asks for more, and writes nothing */
		for (size_t len = 0; len <= (size_t)n; len++) {
			remaining = 7;
			CU_ASSERT_EQUAL(pacer_mqtt_wire_read_fixed_header(buf, len, &first, &remaining,
									  &header_len),
					-EAGAIN);
			CU_ASSERT_EQUAL(remaining, 7);
		}
	}
	CU_ASSERT_EQUAL(pacer_mqtt_wire_write_varint(268435456, buf, 8), -EINVAL);
	CU_ASSERT_EQUAL(pacer_mqtt_wire_write_varint(UINT32_MAX, buf, 8), -EINVAL);
}

static void test_fixed_header_malformed(void)
{
	uint8_t first;
	uint32_t remaining;
	size_t header_len;
	uint8_t five[7];
	size_t n = pacer_test_hex("30 80 80 80 80 01 00", five, sizeof(five));

	/* a fifth octet of remaining length, whether or not it is there yet */
	CU_ASSERT_EQUAL(pacer_mqtt_wire_read_fixed_header(five, n, &first, &remaining, &header_len),
			-EBADMSG);
	CU_ASSERT_EQUAL(pacer_mqtt_wire_read_fixed_header(five, 5, &first, &remaining, &header_len),
			-EBADMSG);
	CU_ASSERT_EQUAL(pacer_mqtt_wire_read_fixed_header(five, 4, &first, &remaining, &header_len),
			-EAGAIN);
	CU_ASSERT_EQUAL(pacer_mqtt_wire_read_fixed_header(NULL, 0, &first, &remaining, &header_len),
			-EAGAIN);
}

/* ---- CONNECT ---- */

/* Every buffer shorter than the packet is refused. */
static void check_connect_truncations(const PacerMqttConnect *c, int full)
{
	for (int cap = 0; cap < full; cap++)
		CU_ASSERT_EQUAL(pacer_mqtt_wire_write_connect(c, buf, (size_t)cap), -ENOBUFS);
	CU_ASSERT_EQUAL(pacer_mqtt_wire_write_connect(c, buf, (size_t)full), full);
}

static void test_connect(void)
{
	PacerMqttConnect c = {.client_id = "pacer-demo-raw", .keepalive_s = 30};
	int n;

	/* section 3.1: "MQTT", level 4, flags (clean session), keepalive, client id */
	n = pacer_mqtt_wire_write_connect(&c, buf, sizeof(buf));
	check_bytes(buf, n,
		    "10 1a 00 04 4d 51 54 54 04 02 00 1e"
		    " 00 0e 70 61 63 65 72 2d 64 65 6d 6f 2d 72 61 77");
	check_connect_truncations(&c, n);

	/* user name (flag 0x80) and password (0x40), in this order after the client id */
	c.username = "runner";
	c.password = "s3cret";
	n = pacer_mqtt_wire_write_connect(&c, buf, sizeof(buf));
	check_bytes(buf, n,
		    "10 2a 00 04 4d 51 54 54 04 c2 00 1e"
		    " 00 0e 70 61 63 65 72 2d 64 65 6d 6f 2d 72 61 77"
		    " 00 06 72 75 6e 6e 65 72 00 06 73 33 63 72 65 74");
	check_connect_truncations(&c, n);

	/* a user name without a password */
	c.password = NULL;
	c.keepalive_s = 0;
	n = pacer_mqtt_wire_write_connect(&c, buf, sizeof(buf));
	check_bytes(buf, n,
		    "10 22 00 04 4d 51 54 54 04 82 00 00"
		    " 00 0e 70 61 63 65 72 2d 64 65 6d 6f 2d 72 61 77"
		    " 00 06 72 75 6e 6e 65 72");

	/* the server may choose the client id; the largest keepalive */
	c = (PacerMqttConnect){.client_id = "", .keepalive_s = 65535};
	n = pacer_mqtt_wire_write_connect(&c, buf, sizeof(buf));
	check_bytes(buf, n, "10 0c 00 04 4d 51 54 54 04 02 ff ff 00 00");
}

static void test_connect_invalid(void)
{
	char *big = malloc(PACER_MQTT_WIRE_STRING_MAX + 2);
	PacerMqttConnect c = {.client_id = "id", .password = "secret"};
	int n;

	CU_ASSERT_PTR_NOT_NULL_FATAL(big);
	/* a password needs a user name [MQTT-3.1.2-22] */
	CU_ASSERT_EQUAL(pacer_mqtt_wire_write_connect(&c, buf, sizeof(buf)), -EINVAL);
	c = (PacerMqttConnect){.client_id = NULL};
	CU_ASSERT_EQUAL(pacer_mqtt_wire_write_connect(&c, buf, sizeof(buf)), -EINVAL);
	CU_ASSERT_EQUAL(pacer_mqtt_wire_write_connect(NULL, buf, sizeof(buf)), -EINVAL);
	c.client_id = "caf\xc3"; /* cut UTF-8 */
	CU_ASSERT_EQUAL(pacer_mqtt_wire_write_connect(&c, buf, sizeof(buf)), -EINVAL);
	c = (PacerMqttConnect){.client_id = "id", .username = "\xed\xa0\x80"}; /* a surrogate */
	CU_ASSERT_EQUAL(pacer_mqtt_wire_write_connect(&c, buf, sizeof(buf)), -EINVAL);

	/* 65535 octets fit a field, one more does not */
	memset(big, 'a', PACER_MQTT_WIRE_STRING_MAX);
	big[PACER_MQTT_WIRE_STRING_MAX] = '\0';
	c = (PacerMqttConnect){.client_id = "id", .username = big};
	n = pacer_mqtt_wire_write_connect(&c, buf, sizeof(buf));
	CU_ASSERT_EQUAL(n, 1 + 3 + 10 + 4 + 2 + 65535);
	check_bytes(buf, 4, "10 8f 80 04");
	c = (PacerMqttConnect){.client_id = "id", .username = "u", .password = big};
	CU_ASSERT_EQUAL(pacer_mqtt_wire_write_connect(&c, buf, sizeof(buf)), 1 + 3 + 10 + 4 + 3 + 2 + 65535);
	big[PACER_MQTT_WIRE_STRING_MAX] = 'a';
	big[PACER_MQTT_WIRE_STRING_MAX + 1] = '\0';
	c = (PacerMqttConnect){.client_id = big};
	CU_ASSERT_EQUAL(pacer_mqtt_wire_write_connect(&c, buf, sizeof(buf)), -EINVAL);
	c = (PacerMqttConnect){.client_id = "id", .username = "u", .password = big};
	CU_ASSERT_EQUAL(pacer_mqtt_wire_write_connect(&c, buf, sizeof(buf)), -EINVAL);
	free(big);
}

/* ---- PUBLISH and DISCONNECT ---- */

static void test_publish_boundaries(void)
{
	/* topic "a": remaining length = 2 + 1 + payload */
	static const struct {
		size_t payload;
		const char *header;
	} cases[] = {
		{124, "30 7f 00 01 61"},
		{125, "30 80 01 00 01 61"},
		{16380, "30 ff 7f 00 01 61"},
		{16381, "30 80 80 01 00 01 61"},
	};
	uint8_t *payload = malloc(16381);

	CU_ASSERT_PTR_NOT_NULL_FATAL(payload);
	memset(payload, 'x', 16381);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int h = pacer_mqtt_wire_write_publish_header("a", 1, cases[i].payload, buf, sizeof(buf));
		int n;
		uint8_t first = 0;
		uint32_t remaining = 0;
		size_t header_len = 0;

		check_bytes(buf, h, cases[i].header);
		for (int cap = 0; cap < h; cap++)
			CU_ASSERT_EQUAL(pacer_mqtt_wire_write_publish_header("a", 1, cases[i].payload,
									     buf, (size_t)cap),
					-ENOBUFS);
		n = pacer_mqtt_wire_write_publish("a", 1, payload, cases[i].payload, buf, sizeof(buf));
		CU_ASSERT_EQUAL(n, h + (int)cases[i].payload);
		CU_ASSERT_EQUAL(pacer_mqtt_wire_read_fixed_header(buf, (size_t)n, &first, &remaining,
								  &header_len),
				0);
		CU_ASSERT_EQUAL(header_len + remaining, (size_t)n);
		CU_ASSERT_EQUAL(buf[n - 1], 'x');
		CU_ASSERT_EQUAL(pacer_mqtt_wire_write_publish("a", 1, payload, cases[i].payload, buf,
							      (size_t)n - 1),
				-ENOBUFS);
	}
	free(payload);
}

static void test_publish(void)
{
	static const char topic[] = "pacer/demo/raw/C0:FF:EE:00:00:01";
	static const char payload[] = "{\"type\":\"battery\",\"percent\":70}";
	int n = pacer_mqtt_wire_write_publish(topic, strlen(topic), payload, strlen(payload), buf,
					      sizeof(buf));

	/* 0x30: PUBLISH, QoS 0, no retain; 2 + 32 + 31 = 65 (0x41); no packet id at QoS 0 */
	CU_ASSERT_EQUAL_FATAL(n, 2 + 2 + 32 + 31);
	check_bytes(buf, 4, "30 41 00 20");
	CU_ASSERT_EQUAL(memcmp(buf + 4, topic, 32), 0);
	CU_ASSERT_EQUAL(memcmp(buf + 36, payload, 31), 0);

	/* an empty payload */
	n = pacer_mqtt_wire_write_publish("a/b", 3, NULL, 0, buf, sizeof(buf));
	check_bytes(buf, n, "30 05 00 03 61 2f 62");
}

static void test_publish_invalid(void)
{
	char *big = malloc(PACER_MQTT_WIRE_STRING_MAX + 1);

	CU_ASSERT_PTR_NOT_NULL_FATAL(big);
	CU_ASSERT_EQUAL(pacer_mqtt_wire_write_publish_header("", 0, 1, buf, sizeof(buf)), -EINVAL);
	CU_ASSERT_EQUAL(pacer_mqtt_wire_write_publish_header(NULL, 3, 1, buf, sizeof(buf)), -EINVAL);
	CU_ASSERT_EQUAL(pacer_mqtt_wire_write_publish_header("a/+/b", 5, 1, buf, sizeof(buf)),
			-EINVAL);
	CU_ASSERT_EQUAL(pacer_mqtt_wire_write_publish_header("a/#", 3, 1, buf, sizeof(buf)), -EINVAL);
	CU_ASSERT_EQUAL(pacer_mqtt_wire_write_publish_header("a\0b", 3, 1, buf, sizeof(buf)), -EINVAL);
	CU_ASSERT_EQUAL(pacer_mqtt_wire_write_publish_header("a\xff", 2, 1, buf, sizeof(buf)), -EINVAL);
	CU_ASSERT_EQUAL(pacer_mqtt_wire_write_publish("a", 1, NULL, 1, buf, sizeof(buf)), -EINVAL);
	/* the largest packet there is, and one octet more */
	CU_ASSERT_EQUAL(pacer_mqtt_wire_write_publish_header("a", 1, PACER_MQTT_WIRE_REMAINING_MAX - 3,
							     buf, sizeof(buf)),
			1 + 4 + 3);
	check_bytes(buf, 5, "30 ff ff ff 7f");
	CU_ASSERT_EQUAL(pacer_mqtt_wire_write_publish_header("a", 1, PACER_MQTT_WIRE_REMAINING_MAX - 2,
							     buf, sizeof(buf)),
			-EINVAL);
	CU_ASSERT_EQUAL(pacer_mqtt_wire_write_publish_header("a", 1, SIZE_MAX, buf, sizeof(buf)),
			-EINVAL);
	/* a topic of 65535 octets is fine, 65536 is not */
	memset(big, 'a', PACER_MQTT_WIRE_STRING_MAX + 1);
	CU_ASSERT_EQUAL(pacer_mqtt_wire_write_publish_header(big, PACER_MQTT_WIRE_STRING_MAX, 0, buf,
							     sizeof(buf)),
			1 + 3 + 2 + 65535);
	check_bytes(buf, 6, "30 81 80 04 ff ff");
	CU_ASSERT_EQUAL(pacer_mqtt_wire_write_publish_header(big, PACER_MQTT_WIRE_STRING_MAX + 1, 0,
							     buf, sizeof(buf)),
			-EINVAL);
	free(big);
}

static void test_disconnect(void)
{
	uint8_t first = 0xff;
	uint32_t remaining = 99;
	size_t header_len = 0;
	int n = pacer_mqtt_wire_write_disconnect(buf, sizeof(buf));

	/* remaining length 0 */
	check_bytes(buf, n, "e0 00");
	CU_ASSERT_EQUAL(pacer_mqtt_wire_read_fixed_header(buf, 2, &first, &remaining, &header_len), 0);
	CU_ASSERT_EQUAL(first, 0xe0);
	CU_ASSERT_EQUAL(remaining, 0);
	CU_ASSERT_EQUAL(header_len, 2);
	CU_ASSERT_EQUAL(pacer_mqtt_wire_write_disconnect(buf, 1), -ENOBUFS);
	CU_ASSERT_EQUAL(pacer_mqtt_wire_write_disconnect(NULL, 0), -ENOBUFS);
}

/* ---- CONNACK ---- */

static void test_connack_codes(void)
{
	static const char *const words[] = {
		"connection accepted", "unacceptable protocol version", "identifier rejected",
		"server unavailable",  "bad user name or password",     "not authorized",
	};

	for (unsigned code = 0; code <= 5; code++) {
		uint8_t packet[5] = {0x20, 0x02, 0x00, (uint8_t)code, 0x30};
		PacerMqttConnackCode got = 99;
		bool sp = true;

		/* what follows (here the start of a PUBLISH) is not CONNACK's */
		CU_ASSERT_EQUAL(pacer_mqtt_wire_read_connack(packet, sizeof(packet), &got, &sp), 4);
		CU_ASSERT_EQUAL(got, code);
		CU_ASSERT_FALSE(sp);
		CU_ASSERT_STRING_EQUAL(pacer_mqtt_connack_code_to_string(got), words[code]);
		/* every truncation asks for more and writes nothing */
		for (size_t len = 0; len < 4; len++) {
			got = 99;
			CU_ASSERT_EQUAL(pacer_mqtt_wire_read_connack(packet, len, &got, NULL), -EAGAIN);
			CU_ASSERT_EQUAL(got, 99);
		}
	}
	CU_ASSERT_PTR_NULL(pacer_mqtt_connack_code_to_string(6));
}

static void test_connack_session_present(void)
{
	uint8_t packet[4];
	PacerMqttConnackCode code = 99;
	bool sp = false;

	pacer_test_hex("20 02 01 00", packet, sizeof(packet));
	CU_ASSERT_EQUAL(pacer_mqtt_wire_read_connack(packet, 4, &code, &sp), 4);
	CU_ASSERT_EQUAL(code, PACER_MQTT_CONNACK_ACCEPTED);
	CU_ASSERT_TRUE(sp);
	CU_ASSERT_EQUAL(pacer_mqtt_wire_read_connack(packet, 4, &code, NULL), 4);
}

static void test_connack_malformed(void)
{
	static const char *const cases[] = {
		"20 02 00 06",	     /* a reserved return code */
		"20 02 00 ff",	     /* ... the last one */
		"20 02 02 00",	     /* a reserved acknowledge flag */
		"20 02 80 00",	     /* ... the highest */
		"20 02 01 05",	     /* a session with a refusal [MQTT-3.2.2-4] */
		"20 03 00 00 00",    /* remaining length 3 */
		"20 00",	     /* ... 0 */
		"20 82 00 00 00",    /* 2, in two octets */
		"20 80 80 80 80 01", /* five octets of remaining length */
		"21 02 00 00",	     /* reserved flags of the fixed header */
		"30 02 00 00",	     /* PUBLISH */
		"d0 00",	     /* PINGRESP */
		"00",		     /* reserved packet type 0 */
		"20 03",	     /* a wrong length before the rest is there */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t packet[8];
		size_t n = pacer_test_hex(cases[i], packet, sizeof(packet));
		PacerMqttConnackCode code = 99;
		bool sp = true;

		CU_ASSERT_EQUAL(pacer_mqtt_wire_read_connack(packet, n, &code, &sp), -EBADMSG);
		CU_ASSERT_EQUAL(code, 99);
		CU_ASSERT_TRUE(sp);
	}
}

int main(void)
{
	static const PacerTest tests[] = {
		{"remaining length: every size boundary, written and read", test_varint},
		{"fixed header: malformed and empty", test_fixed_header_malformed},
		{"CONNECT: client id, user name, password, keepalive", test_connect},
		{"CONNECT: what MQTT cannot carry", test_connect_invalid},
		{"PUBLISH: remaining length 127, 128, 16383, 16384", test_publish_boundaries},
		{"PUBLISH: a raw value", test_publish},
		{"PUBLISH: topics and sizes refused", test_publish_invalid},
		{"DISCONNECT: remaining length 0", test_disconnect},
		{"CONNACK: return codes 0-5, truncated", test_connack_codes},
		{"CONNACK: session present", test_connack_session_present},
		{"CONNACK: malformed", test_connack_malformed},
		{NULL, NULL},
	};

	return pacer_test_main("mqtt-wire", tests);
}
