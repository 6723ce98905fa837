/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The cheapest bridge there is, for bench/run-floor: it waits for packets on
 * a SOCK_SEQPACKET socket (as pacerd waits on an acquired notification
 * socket) and writes one 120-byte message per packet to a TCP socket on
 * 127.0.0.1 (as any bridge writes one MQTT message per notification). No
 * decoding, no MQTT, no threads. It prints the CPU time it spent per packet.
 *
 *     floor-relay FD COUNT PORT
 */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	char packet[512], message[120];
	struct rusage ru;
	int in, out, one = 1;
	long n, got = 0;
	double cpu;

	if (argc != 4) {
		fprintf(stderr, "usage: floor-relay FD COUNT PORT\n");
		return 64;
	}
	in = atoi(argv[1]);
	n = atol(argv[2]);
	addr.sin_port = htons((uint16_t)atoi(argv[3]));
	out = socket(AF_INET, SOCK_STREAM, 0);
	if (out < 0 || connect(out, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		perror("floor-relay: connect");
		return 69;
	}
	(void)setsockopt(out, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	memset(message, 'x', sizeof(message));
	while (got < n) {
		struct pollfd p = {.fd = in, .events = POLLIN};

		if (poll(&p, 1, -1) < 0)
			return 1;
		if (p.revents & (POLLHUP | POLLERR))
			break;
		while (recv(in, packet, sizeof(packet), MSG_DONTWAIT) > 0) {
			got++;
			if (send(out, message, sizeof(message), MSG_NOSIGNAL) < 0)
				return 1;
		}
	}
	getrusage(RUSAGE_SELF, &ru);
	cpu = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	      (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
	printf("{\"packets\":%ld,\"cpu_us_per_packet\":%.1f,\"voluntary_switches\":%ld}\n", got,
	       got ? cpu * 1e6 / (double)got : 0.0, ru.ru_nvcsw);
	return 0;
}
