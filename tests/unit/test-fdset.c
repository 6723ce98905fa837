/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* daemon/pacer-fdset.c: many descriptors behind one GSource (epoll). */
#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib.h>

#include "pacer-fdset.h"
#include "test-common.h"

#define N_PAIRS 30

typedef struct {
	PacerFdSet *set;
	int pairs[N_PAIRS][2];
	guint ids[N_PAIRS];
	int calls[N_PAIRS];
	GIOCondition last[N_PAIRS];
	gboolean drain;	  /* read what is there */
	int remove_other; /* the first callback removes this pair's watch (-1: none) */
} World;

typedef struct {
	World *w;
	int i;
} Ref;

static Ref refs[N_PAIRS];

static gboolean on_ready(int fd, GIOCondition cond, gpointer user_data)
{
	Ref *r = user_data;
	World *w = r->w;
	char buf[16];

	CU_ASSERT_EQUAL(fd, w->pairs[r->i][0]);
	w->calls[r->i]++;
	w->last[r->i] = cond;
	if (w->drain && (cond & G_IO_IN))
		while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
			;
	if (w->remove_other >= 0) {
		pacer_fd_set_remove(w->set, w->ids[w->remove_other]);
		w->remove_other = -1;
	}
	return (cond & G_IO_HUP) ? G_SOURCE_REMOVE : G_SOURCE_CONTINUE;
}

static void world_init(World *w, int n)
{
	*w = (World){.remove_other = -1, .drain = TRUE};
	w->set = pacer_fd_set_new(NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(w->set);
	for (int i = 0; i < n; i++) {
		CU_ASSERT_EQUAL_FATAL(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, w->pairs[i]), 0);
		refs[i] = (Ref){w, i};
		w->ids[i] = pacer_fd_set_add(w->set, w->pairs[i][0], G_IO_IN, on_ready, &refs[i]);
		CU_ASSERT_TRUE(w->ids[i] > 0);
	}
}

static void world_clear(World *w, int n)
{
	pacer_fd_set_free(w->set);
	for (int i = 0; i < n; i++) {
		close(w->pairs[i][0]);
		if (w->pairs[i][1] >= 0)
			close(w->pairs[i][1]);
	}
}

/* Runs the default context until nothing is ready. */
static void run_pending(void)
{
	for (int i = 0; i < 100 && g_main_context_iteration(NULL, FALSE); i++)
		;
}

static void total_calls(World *w, int n, int *ret)
{
	*ret = 0;
	for (int i = 0; i < n; i++)
		*ret += w->calls[i];
}

static void test_only_ready_ones(void)
{
	World w;
	int total;

	world_init(&w, N_PAIRS);
	CU_ASSERT_EQUAL(pacer_fd_set_size(w.set), N_PAIRS);
	run_pending();
	total_calls(&w, N_PAIRS, &total);
	CU_ASSERT_EQUAL(total, 0);
	CU_ASSERT_EQUAL(send(w.pairs[7][1], "a", 1, 0), 1);
	CU_ASSERT_EQUAL(send(w.pairs[29][1], "b", 1, 0), 1);
	run_pending();
	CU_ASSERT_EQUAL(w.calls[7], 1);
	CU_ASSERT_EQUAL(w.calls[29], 1);
	CU_ASSERT_EQUAL(w.last[7], G_IO_IN);
	total_calls(&w, N_PAIRS, &total);
	CU_ASSERT_EQUAL(total, 2);
	world_clear(&w, N_PAIRS);
}

/* Level-triggered: what is left unread is reported again. */
static void test_level_triggered(void)
{
	World w;

	world_init(&w, 1);
	w.drain = FALSE;
	CU_ASSERT_EQUAL(send(w.pairs[0][1], "a", 1, 0), 1);
	CU_ASSERT_TRUE(g_main_context_iteration(NULL, FALSE));
	CU_ASSERT_TRUE(g_main_context_iteration(NULL, FALSE));
	CU_ASSERT_EQUAL(w.calls[0], 2);
	w.drain = TRUE;
	run_pending();
	CU_ASSERT_EQUAL(w.calls[0], 3);
	world_clear(&w, 1);
}

/* A hang-up is reported, and G_SOURCE_REMOVE ends the watch; the others stay. */
static void test_hangup_and_remove(void)
{
	World w;

	world_init(&w, 2);
	close(w.pairs[0][1]);
	w.pairs[0][1] = -1;
	run_pending();
	CU_ASSERT_EQUAL(w.calls[0], 1);
	CU_ASSERT_TRUE(w.last[0] & G_IO_HUP);
	CU_ASSERT_EQUAL(pacer_fd_set_size(w.set), 1);
	CU_ASSERT_EQUAL(send(w.pairs[1][1], "a", 1, 0), 1);
	run_pending();
	CU_ASSERT_EQUAL(w.calls[0], 1);
	CU_ASSERT_EQUAL(w.calls[1], 1);
	world_clear(&w, 2);
}

/* A callback removes another watch that is ready in the same dispatch: it is not called. */
static void test_remove_from_callback(void)
{
	World w;

	world_init(&w, 2);
	CU_ASSERT_EQUAL(send(w.pairs[0][1], "a", 1, 0), 1);
	CU_ASSERT_EQUAL(send(w.pairs[1][1], "b", 1, 0), 1);
	w.remove_other = 1; /* whichever is dispatched first removes pair 1 (maybe itself) */
	w.drain = FALSE;
	CU_ASSERT_TRUE(g_main_context_iteration(NULL, FALSE));
	CU_ASSERT_EQUAL(w.calls[1], w.calls[0] == 0 ? 1 : 0);
	CU_ASSERT_EQUAL(pacer_fd_set_size(w.set), 1);
	/* removing twice, or an id never given, is harmless */
	pacer_fd_set_remove(w.set, w.ids[1]);
	pacer_fd_set_remove(w.set, 12345);
	CU_ASSERT_EQUAL(pacer_fd_set_size(w.set), 1);
	world_clear(&w, 2);
}

static void test_bad_descriptor(void)
{
	g_autoptr(PacerFdSet) set = pacer_fd_set_new(NULL);
	int fds[2];

	CU_ASSERT_PTR_NOT_NULL_FATAL(set);
	errno = 0;
	CU_ASSERT_EQUAL(pacer_fd_set_add(set, 1000, G_IO_IN, on_ready, NULL), 0);
	CU_ASSERT_EQUAL(errno, EBADF);
	/* the same descriptor twice is refused by the kernel */
	CU_ASSERT_EQUAL_FATAL(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, fds), 0);
	CU_ASSERT_TRUE(pacer_fd_set_add(set, fds[0], G_IO_IN, on_ready, NULL) > 0);
	CU_ASSERT_EQUAL(pacer_fd_set_add(set, fds[0], G_IO_IN, on_ready, NULL), 0);
	CU_ASSERT_EQUAL(errno, EEXIST);
	CU_ASSERT_EQUAL(pacer_fd_set_size(set), 1);
	close(fds[0]);
	close(fds[1]);
}

/* The main loop polls the same number of descriptors with 1 watch or 30. */
static void test_one_poll_entry(void)
{
	GMainContext *ctx = g_main_context_default();
	GPollFD fds[64];
	gint prio, n_empty, n_full;
	World w;

	world_init(&w, 1);
	g_main_context_prepare(ctx, &prio);
	n_empty = g_main_context_query(ctx, G_MAXINT, NULL, fds, G_N_ELEMENTS(fds));
	g_main_context_check(ctx, prio, fds, MIN(n_empty, (gint)G_N_ELEMENTS(fds)));
	world_clear(&w, 1);

	world_init(&w, N_PAIRS);
	g_main_context_prepare(ctx, &prio);
	n_full = g_main_context_query(ctx, G_MAXINT, NULL, fds, G_N_ELEMENTS(fds));
	g_main_context_check(ctx, prio, fds, MIN(n_full, (gint)G_N_ELEMENTS(fds)));
	CU_ASSERT_EQUAL(n_full, n_empty);
	world_clear(&w, N_PAIRS);
}

/* Dispatching a value leaves the loop nothing to wake up for: GLib 2.74
 * signals its wake-up descriptor when a source that cannot recurse is
 * blocked and unblocked around its dispatch, which would cost one more
 * loop turn per notification. */
static void test_no_wakeup_after_dispatch(void)
{
	GMainContext *ctx = g_main_context_default();
	GPollFD fds[64];
	gint prio, n;
	World w;

	world_init(&w, 2);
	run_pending();
	for (int round = 0; round < 3; round++) {
		CU_ASSERT_EQUAL(send(w.pairs[round % 2][1], "a", 1, 0), 1);
		CU_ASSERT_TRUE(g_main_context_iteration(NULL, FALSE));
		g_main_context_prepare(ctx, &prio);
		n = g_main_context_query(ctx, G_MAXINT, NULL, fds, G_N_ELEMENTS(fds));
		CU_ASSERT_TRUE_FATAL(n > 0 && n <= (gint)G_N_ELEMENTS(fds));
		CU_ASSERT_EQUAL(g_poll(fds, (guint)n, 0), 0);
		g_main_context_check(ctx, prio, fds, n);
	}
	CU_ASSERT_EQUAL(w.calls[0] + w.calls[1], 3);
	world_clear(&w, 2);
}

int main(void)
{
	static const PacerTest tests[] = {
		{"fdset: only the ready descriptors are dispatched", test_only_ready_ones},
		{"fdset: level-triggered", test_level_triggered},
		{"fdset: hang-up, and G_SOURCE_REMOVE", test_hangup_and_remove},
		{"fdset: removing from a callback", test_remove_from_callback},
		{"fdset: descriptors the kernel refuses", test_bad_descriptor},
		{"fdset: one poll entry for any number of watches", test_one_poll_entry},
		{"fdset: no wake-up left behind by a dispatch", test_no_wakeup_after_dispatch},
		{NULL, NULL},
	};

	return pacer_test_main("fdset", tests);
}
