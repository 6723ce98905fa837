/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The floor under bench/run's bridges, measured in the same harness: the
 * least a bridge can do that still turns every notification into an MQTT
 * message a subscriber can match. bench/floor-bridge.py acquires the
 * sensors' notification sockets from the (fake) bluetoothd as pacerd does,
 * then executes this program with them. It polls the sockets, receives each
 * packet, reads the one field the subscriber matches on (energy expended of
 * a Heart Rate Measurement, total distance of an RSC Measurement) and writes
 * one MQTT PUBLISH (QoS 0) per packet to the broker, with one send(). No
 * GLib, no threads, no metrics, no D-Bus after the start: a measuring stick,
 * not a bridge.
 *
 *     floor-bridge PORT PREFIX FD:KIND:ADDRESS...     (KIND: hr or rsc)
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_SENSORS 64

struct sensor {
	int kind_hr;
	char topic[96];
	size_t topic_len;
};

static size_t put_publish(uint8_t *out, const struct sensor *s, const char *payload, size_t len)
{
	size_t remaining = 2 + s->topic_len + len, n = 0;

	out[n++] = 0x30;
	do {
		uint8_t b = remaining & 0x7f;

		remaining >>= 7;
		out[n++] = remaining ? (uint8_t)(b | 0x80) : b;
	} while (remaining);
	out[n++] = (uint8_t)(s->topic_len >> 8);
	out[n++] = (uint8_t)s->topic_len;
	memcpy(out + n, s->topic, s->topic_len);
	n += s->topic_len;
	memcpy(out + n, payload, len);
	return n + len;
}

/* The matched field only; -1 when the packet does not carry it. */
static int payload_of(const struct sensor *s, const uint8_t *p, ssize_t len, char *out, size_t size)
{
	if (s->kind_hr) {
		ssize_t at = (p[0] & 0x01) ? 3 : 2;

		if (!(p[0] & 0x08) || len < at + 2)
			return -1;
		return snprintf(out, size, "{\"type\":\"heart_rate\",\"energy_kj\":%u}",
				(unsigned)(p[at] | p[at + 1] << 8));
	}
	ssize_t at = (p[0] & 0x01) ? 6 : 4;
	uint32_t d;

	if (!(p[0] & 0x02) || len < at + 4)
		return -1;
	d = (uint32_t)p[at] | (uint32_t)p[at + 1] << 8 | (uint32_t)p[at + 2] << 16 | (uint32_t)p[at + 3] << 24;
	return snprintf(out, size, "{\"type\":\"rsc\",\"distance_m\":%u.%u}", d / 10, d % 10);
}

int main(int argc, char **argv)
{
	static const uint8_t connect_packet[] = {0x10, 16, 0, 4, 'M', 'Q', 'T', 'T', 4, 2, 0, 0,
						 0, 4, 'f', 'l', 'o', 'r'};
	struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	struct pollfd fds[MAX_SENSORS];
	struct sensor sensors[MAX_SENSORS];
	uint8_t ack[4], packet[512], message[256];
	int n = 0, out, one = 1, open_fds;

	if (argc < 4 || argc - 3 > MAX_SENSORS) {
		fprintf(stderr, "usage: floor-bridge PORT PREFIX FD:KIND:ADDRESS...\n");
		return 64;
	}
	for (int i = 3; i < argc; i++, n++) {
		char kind[8], address[24];

		if (sscanf(argv[i], "%d:%7[a-z]:%23s", &fds[n].fd, kind, address) != 3) {
			fprintf(stderr, "floor-bridge: bad sensor '%s'\n", argv[i]);
			return 64;
		}
		fds[n].events = POLLIN;
		sensors[n].kind_hr = strcmp(kind, "hr") == 0;
		sensors[n].topic_len = (size_t)snprintf(sensors[n].topic, sizeof(sensors[n].topic), "%s%s",
							argv[2], address);
	}
	addr.sin_port = htons((uint16_t)atoi(argv[1]));
	out = socket(AF_INET, SOCK_STREAM, 0);
	if (out < 0 || connect(out, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		perror("floor-bridge: connect");
		return 69;
	}
	(void)setsockopt(out, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	/* keep-alive 0: the broker expects no PINGREQ */
	if (send(out, connect_packet, sizeof(connect_packet), MSG_NOSIGNAL) < 0 ||
	    recv(out, ack, sizeof(ack), MSG_WAITALL) != 4 || ack[0] != 0x20 || ack[3] != 0) {
		fprintf(stderr, "floor-bridge: the broker refused the connection\n");
		return 69;
	}
	printf("ready\n");
	fflush(stdout);
	open_fds = n;
	while (open_fds > 0) {
		if (poll(fds, (nfds_t)n, -1) < 0) {
			if (errno == EINTR)
				continue;
			return 1;
		}
		for (int i = 0; i < n; i++) {
			ssize_t len;

			if (!fds[i].revents)
				continue;
			while ((len = recv(fds[i].fd, packet, sizeof(packet), MSG_DONTWAIT)) > 0) {
				char payload[80];
				int plen = payload_of(&sensors[i], packet, len, payload, sizeof(payload));

				if (plen < 0)
					continue;
				if (send(out, message, put_publish(message, &sensors[i], payload, (size_t)plen),
					 MSG_NOSIGNAL) < 0)
					return 1;
			}
			if (len == 0 || (fds[i].revents & (POLLHUP | POLLERR))) {
				fds[i].fd = -1;
				open_fds--;
			}
		}
	}
	return 0;
}
