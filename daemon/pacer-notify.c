/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "pacer-notify.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

gboolean pacer_notify(const char *state)
{
	const char *path = g_getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	socklen_t len;
	size_t n;
	ssize_t sent;
	int fd;

	if (!path || (path[0] != '/' && path[0] != '@'))
		return FALSE;
	n = strlen(path);
	if (n >= sizeof(sa.sun_path))
		return FALSE;
	memcpy(sa.sun_path, path, n);
	if (path[0] == '@')
		sa.sun_path[0] = '\0'; /* the abstract namespace */
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (path[0] == '/' ? 1 : 0));
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return FALSE;
	/* a datagram to a local socket does not wait: the manager reads it when it can */
	sent = sendto(fd, state, strlen(state), MSG_NOSIGNAL | MSG_DONTWAIT, (struct sockaddr *)&sa,
		      len);
	if (sent < 0)
		g_debug("notifying the service manager of '%s': %s", state, g_strerror(errno));
	close(fd);
	return sent >= 0;
}

guint64 pacer_notify_watchdog_usec(void)
{
	const char *usec = g_getenv("WATCHDOG_USEC"), *pid = g_getenv("WATCHDOG_PID");
	guint64 v = 0, p = 0;

	if (!usec || !g_ascii_string_to_unsigned(usec, 10, 1, G_MAXUINT64, &v, NULL))
		return 0;
	/* the interval is meant for the main process only */
	if (pid && (!g_ascii_string_to_unsigned(pid, 10, 1, G_MAXUINT32, &p, NULL) ||
		    p != (guint64)getpid()))
		return 0;
	return v;
}
