/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Many file descriptors behind one GSource. GLib's main loop polls every
 * watched descriptor on every iteration and walks every source before and
 * after the poll, so with thirty sensor sockets each wake-up pays for all of
 * them. A PacerFdSet keeps its descriptors in one epoll instance and puts
 * only that in the main loop's poll: a wake-up costs the same with one
 * sensor or thirty, and only the ready descriptors are dispatched.
 *
 * Level-triggered, like g_unix_fd_add(): a callback that leaves data
 * unread is called again on the next iteration.
 */

#include <glib.h>

typedef struct _PacerFdSet PacerFdSet;

/* As GUnixFDSourceFunc: G_SOURCE_REMOVE stops watching fd (it is not closed). */
typedef gboolean (*PacerFdFunc)(int fd, GIOCondition condition, gpointer user_data);

/* A set attached to `context` (NULL: the thread-default one) at G_PRIORITY_DEFAULT; NULL with errno on failure. */
PacerFdSet *pacer_fd_set_new(GMainContext *context);
void pacer_fd_set_free(PacerFdSet *set);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PacerFdSet, pacer_fd_set_free)

/*
 * Watches fd for `condition` (G_IO_IN, G_IO_OUT, G_IO_PRI; G_IO_ERR and
 * G_IO_HUP are always reported). Returns an id > 0, or 0 with errno set when
 * the kernel refuses the descriptor. Safe to call from a callback.
 */
guint pacer_fd_set_add(PacerFdSet *set, int fd, GIOCondition condition, PacerFdFunc func,
		       gpointer user_data);
/* Stops watching; safe from any callback, including the watch's own. Unknown ids are ignored. */
void pacer_fd_set_remove(PacerFdSet *set, guint id);
/* How many descriptors are watched. */
guint pacer_fd_set_size(PacerFdSet *set);
