/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "pacer-fdset.h"

#include <errno.h>
#include <sys/epoll.h>
#include <unistd.h>

#define EVENTS_PER_DISPATCH 32

typedef struct {
	int fd;
	PacerFdFunc func;
	gpointer user_data;
} Watch;

typedef struct {
	GSource source;
	PacerFdSet *set;
} FdSetSource;

struct _PacerFdSet {
	int epfd;
	GSource *source;
	GHashTable *watches; /* id -> Watch */
	guint last_id;
};

static uint32_t to_epoll(GIOCondition c)
{
	return (c & G_IO_IN ? EPOLLIN : 0u) | (c & G_IO_OUT ? EPOLLOUT : 0u) |
	       (c & G_IO_PRI ? EPOLLPRI : 0u);
}

static GIOCondition from_epoll(uint32_t e)
{
	return (e & EPOLLIN ? G_IO_IN : 0) | (e & EPOLLOUT ? G_IO_OUT : 0) |
	       (e & EPOLLPRI ? G_IO_PRI : 0) | (e & EPOLLERR ? G_IO_ERR : 0) |
	       (e & EPOLLHUP ? G_IO_HUP : 0);
}

static gboolean fd_set_dispatch(GSource *source, GSourceFunc callback, gpointer user_data)
{
	PacerFdSet *set = ((FdSetSource *)source)->set;
	struct epoll_event events[EVENTS_PER_DISPATCH];
	int n;

	(void)callback;
	(void)user_data;
	n = epoll_wait(set->epfd, events, EVENTS_PER_DISPATCH, 0);
	for (int i = 0; i < n; i++) {
		guint id = (guint)events[i].data.u32;
		/* looked up again for each event: an earlier callback may have removed it */
		Watch *w = g_hash_table_lookup(set->watches, GUINT_TO_POINTER(id));

		if (w && !w->func(w->fd, from_epoll(events[i].events), w->user_data))
			pacer_fd_set_remove(set, id);
	}
	return G_SOURCE_CONTINUE;
}

static GSourceFuncs fd_set_funcs = {
	.dispatch = fd_set_dispatch,
};

PacerFdSet *pacer_fd_set_new(GMainContext *context)
{
	PacerFdSet *set;
	int epfd = epoll_create1(EPOLL_CLOEXEC);

	if (epfd < 0)
		return NULL;
	set = g_new0(PacerFdSet, 1);
	set->epfd = epfd;
	set->watches = g_hash_table_new_full(NULL, NULL, NULL, g_free);
	set->source = g_source_new(&fd_set_funcs, sizeof(FdSetSource));
	((FdSetSource *)set->source)->set = set;
	g_source_set_name(set->source, "pacer-fdset");
	/* GLib takes the descriptors of a source that cannot recurse out of the
	 * poll set while it dispatches and puts them back afterwards, and each
	 * of the two steps writes the context's wake-up eventfd (GLib 2.74): for
	 * every notification one more main-loop turn (poll, read, prepare and
	 * check of every source). Nothing dispatched from here runs a nested
	 * loop, so the source may stay in the set. */
	g_source_set_can_recurse(set->source, TRUE);
	g_source_add_unix_fd(set->source, epfd, G_IO_IN);
	g_source_attach(set->source, context ? context : g_main_context_get_thread_default());
	return set;
}

void pacer_fd_set_free(PacerFdSet *set)
{
	if (!set)
		return;
	g_source_destroy(set->source);
	g_source_unref(set->source);
	g_hash_table_destroy(set->watches);
	close(set->epfd);
	g_free(set);
}

guint pacer_fd_set_add(PacerFdSet *set, int fd, GIOCondition condition, PacerFdFunc func,
		       gpointer user_data)
{
	struct epoll_event ev = {.events = to_epoll(condition)};
	Watch *w;
	guint id;

	g_return_val_if_fail(set && fd >= 0 && func, 0);
	do
		id = ++set->last_id;
	while (id == 0 || g_hash_table_contains(set->watches, GUINT_TO_POINTER(id)));
	ev.data.u32 = id;
	if (epoll_ctl(set->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return 0;
	w = g_new(Watch, 1);
	*w = (Watch){.fd = fd, .func = func, .user_data = user_data};
	g_hash_table_insert(set->watches, GUINT_TO_POINTER(id), w);
	return id;
}

void pacer_fd_set_remove(PacerFdSet *set, guint id)
{
	Watch *w = set ? g_hash_table_lookup(set->watches, GUINT_TO_POINTER(id)) : NULL;

	if (!w)
		return;
	/* the descriptor may already be closed (and then it has left the epoll set) */
	(void)epoll_ctl(set->epfd, EPOLL_CTL_DEL, w->fd, NULL);
	g_hash_table_remove(set->watches, GUINT_TO_POINTER(id));
}

guint pacer_fd_set_size(PacerFdSet *set)
{
	return g_hash_table_size(set->watches);
}
