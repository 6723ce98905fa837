/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "pacer-recorder.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

#include "pacer-fit.h"
#include "pacer-journal.h"
#include "pacer-tcx.h"

#define JOURNAL_SUFFIX ".journal"
#define RECOVERED_SUFFIX "-recovered"
#define SYNC_EVERY_S 2.0     /* of run time: a power cut loses at most this much */
#define SYNC_MIN_WALL_US 250000 /* at high replay speeds, at most 4 syncs a wall second */
#define FIT_PRODUCT 1
#define SOFTWARE_VERSION 10 /* 0.10, FIT's version * 100 */

typedef struct {
	unsigned step;
	PacerStepKind kind;
	double start_t_s, start_timer_s;
	double hr_sum, hr_s, hr_max;
	double cad_sum, cad_s, cad_max;
	double speed_max;
} LapAcc;

typedef struct {
	char *fit;
	char *tcx;
	double duration_s;
	double distance_m;
} Recovered;

static void recovered_free(gpointer p)
{
	Recovered *r = p;

	g_free(r->fit);
	g_free(r->tcx);
	g_free(r);
}

/*
 * The journal's fdatasync runs on a thread of its own: on an SD card it can
 * take tens of milliseconds, which the main loop (live values, MQTT, D-Bus)
 * must not wait for. The main loop asks for a sync at most every 2 s of run
 * time; one still running when the next is due makes that one skipped. A
 * failure is picked up by the main loop at the next request.
 */
typedef struct {
	GThread *thread; /* started with the first journal, ends with the recorder */
	GMutex lock;
	GCond cond;
	int fd;		   /* a dup of the journal's; -1: none */
	gboolean busy;	   /* a sync is asked for or running */
	gboolean quit;
	int error;	   /* errno of a failed sync, 0 */
} Syncer;

struct _PacerRecorder {
	PacerDaemon *daemon;
	GPtrArray *recovered; /* Recovered, announced once the main loop runs */
	guint announce_source;

	/* the run being recorded */
	gboolean active;
	gboolean fit, tcx;
	int keep;
	char *dir;
	char *base; /* DIR/NAME, without an extension */
	PacerRun *run;
	int journal_fd; /* -1: none */
	Syncer syncer;	/* fdatasync of the journal, off the main loop */
	char *error;	/* the run's first failure, already logged */
	guint64 t0_us;
	double next_sample_s;
	double last_t_s;
	double synced_t_s;
	gint64 synced_wall_us;
	double mark_timer_s; /* the coach's elapsed time already added to the lap */
	LapAcc lap;
	unsigned sensors;
};

/* ---- files ---- */

static gboolean fail(GError **error, const char *what, const char *path, int err)
{
	g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(err), "cannot %s '%s': %s", what, path,
		    g_strerror(err));
	return FALSE;
}

static gboolean write_all(int fd, const void *data, size_t len)
{
	const guint8 *p = data;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return FALSE;
		p += n;
		len -= (size_t)n;
	}
	return TRUE;
}

static void sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return;
	(void)fsync(fd);
	close(fd);
}

/* A file appears whole or not at all: a temporary file, fsync, rename, fsync of the directory. */
static gboolean write_atomic(const char *path, const GByteArray *bytes, GError **error)
{
	g_autofree char *dir = g_path_get_dirname(path);
	g_autofree char *name = g_path_get_basename(path);
	g_autofree char *tmp = g_strdup_printf("%s/.%s.tmp", dir, name);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	int err;

	if (fd < 0)
		return fail(error, "write", path, errno);
	if (!write_all(fd, bytes->data, bytes->len) || fsync(fd) < 0) {
		err = errno ? errno : EIO;
		close(fd);
		g_unlink(tmp);
		return fail(error, "write", path, err);
	}
	if (close(fd) < 0 || rename(tmp, path) < 0) {
		err = errno;
		g_unlink(tmp);
		return fail(error, "write", path, err);
	}
	sync_dir(dir);
	return TRUE;
}

static int append_bytes(const void *data, size_t len, void *user_data)
{
	g_byte_array_append(user_data, data, (guint)len);
	return 0;
}

static gboolean write_fit(const PacerRun *run, const char *path, GError **error)
{
	const PacerFitCreator creator = {.product = FIT_PRODUCT,
					 .software_version = SOFTWARE_VERSION,
					 .product_name = "Pacer"};
	g_autoptr(GByteArray) bytes = g_byte_array_new();
	int r = pacer_fit_encode(run, &creator, append_bytes, bytes);

	if (r < 0)
		return fail(error, "encode", path, -r);
	return write_atomic(path, bytes, error);
}

static gboolean write_tcx(const PacerRun *run, const char *path, GError **error)
{
	const PacerTcxCreator creator = {.name = "Pacer", .product_id = FIT_PRODUCT,
					 .version_major = SOFTWARE_VERSION / 100,
					 .version_minor = SOFTWARE_VERSION % 100};
	g_autoptr(GByteArray) bytes = g_byte_array_new();
	int r = pacer_tcx_encode(run, &creator, append_bytes, bytes);

	if (r < 0)
		return fail(error, "encode", path, -r);
	return write_atomic(path, bytes, error);
}

/* Writes the formats asked for; fills ret_paths (owned) with what was written. */
static gboolean write_files(const PacerRun *run, const char *base, gboolean fit, gboolean tcx,
			    char **ret_fit, char **ret_tcx, GError **error)
{
	g_autofree char *fit_path = fit ? g_strconcat(base, ".fit", NULL) : NULL;
	g_autofree char *tcx_path = tcx ? g_strconcat(base, ".tcx", NULL) : NULL;

	if (fit_path && !write_fit(run, fit_path, error))
		return FALSE;
	if (tcx_path && !write_tcx(run, tcx_path, error)) {
		if (fit_path)
			g_unlink(fit_path);
		return FALSE;
	}
	*ret_fit = g_steal_pointer(&fit_path);
	*ret_tcx = g_steal_pointer(&tcx_path);
	return TRUE;
}

static gint compare_names(gconstpointer a, gconstpointer b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Keeps the newest `keep` files of the extension (names sort by start time). */
static void apply_retention(const char *dir, const char *ext, int keep)
{
	g_autoptr(GDir) d = NULL;
	g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
	const char *name;

	if (keep <= 0)
		return;
	d = g_dir_open(dir, 0, NULL);
	if (!d)
		return;
	while ((name = g_dir_read_name(d))) {
		if (name[0] != '.' && g_str_has_suffix(name, ext))
			g_ptr_array_add(names, g_strdup(name));
	}
	g_ptr_array_sort(names, compare_names);
	for (guint i = 0; i + (guint)keep < names->len; i++) {
		g_autofree char *path = g_build_filename(dir, g_ptr_array_index(names, i), NULL);

		if (g_unlink(path) < 0)
			g_warning("cannot delete the old recording '%s': %s, ignored", path,
				  g_strerror(errno));
		else
			g_message("deleted the old recording '%s' ([record] keep = %d)", path, keep);
	}
}

static void retention(const char *dir, gboolean fit, gboolean tcx, int keep)
{
	if (fit)
		apply_retention(dir, ".fit", keep);
	if (tcx)
		apply_retention(dir, ".tcx", keep);
}

/* DIR/NAME for a run starting at unix_ms: free of every file a run leaves. */
static char *choose_base(const char *dir, guint64 unix_ms)
{
	g_autoptr(GDateTime) t = g_date_time_new_from_unix_utc((gint64)(unix_ms / 1000));
	g_autofree char *stamp = t ? g_date_time_format(t, "%Y-%m-%dT%H-%M-%SZ") : g_strdup("run");

	for (guint n = 1;; n++) {
		static const char *const suffixes[] = {".fit", ".tcx", JOURNAL_SUFFIX,
						       RECOVERED_SUFFIX ".fit", RECOVERED_SUFFIX ".tcx"};
		g_autofree char *name = n == 1 ? g_strdup(stamp) : g_strdup_printf("%s_%u", stamp, n);
		g_autofree char *base = g_build_filename(dir, name, NULL);
		gboolean taken = FALSE;

		for (guint i = 0; i < G_N_ELEMENTS(suffixes) && !taken; i++) {
			g_autofree char *path = g_strconcat(base, suffixes[i], NULL);

			taken = g_file_test(path, G_FILE_TEST_EXISTS);
		}
		if (!taken || n >= 1000)
			return g_steal_pointer(&base);
	}
}

/* ---- the journal ---- */

/* Logs the run's first failure; later ones only replace nothing. */
static void run_failed(PacerRecorder *r, const GError *error)
{
	if (r->error)
		return;
	r->error = g_strdup(error->message);
	g_warning("recording: %s; coaching goes on, the run is kept in memory", error->message);
}

static gpointer syncer_main(gpointer data)
{
	Syncer *y = data;

	g_mutex_lock(&y->lock);
	for (;;) {
		int fd, r;

		while (!y->quit && !(y->busy && y->fd >= 0))
			g_cond_wait(&y->cond, &y->lock);
		if (y->quit)
			break;
		fd = y->fd;
		g_mutex_unlock(&y->lock);
		r = fdatasync(fd);
		g_mutex_lock(&y->lock);
		if (r < 0 && y->error == 0)
			y->error = errno;
		y->busy = FALSE;
		g_cond_broadcast(&y->cond);
	}
	g_mutex_unlock(&y->lock);
	return NULL;
}

/* The journal to sync from now on (a dup of fd, or -1): waits for a sync of the previous one to end. */
static void syncer_set_fd(Syncer *y, int fd)
{
	int dup_fd = fd >= 0 ? fcntl(fd, F_DUPFD_CLOEXEC, 3) : -1;

	if (fd >= 0 && !y->thread)
		y->thread = g_thread_new("pacer-sync", syncer_main, y);
	g_mutex_lock(&y->lock);
	while (y->busy)
		g_cond_wait(&y->cond, &y->lock);
	if (y->fd >= 0)
		close(y->fd);
	y->fd = dup_fd;
	y->error = 0;
	g_mutex_unlock(&y->lock);
}

/* Asks for a sync; returns the errno of an earlier one that failed, or 0. */
static int syncer_request(Syncer *y)
{
	int error;

	g_mutex_lock(&y->lock);
	error = y->error;
	if (!error && !y->busy && y->fd >= 0) {
		y->busy = TRUE;
		g_cond_broadcast(&y->cond);
	}
	g_mutex_unlock(&y->lock);
	return error;
}

/* At the recorder's end: after close_journal(), so no journal is left to sync. */
static void syncer_stop(Syncer *y)
{
	if (y->thread) {
		g_mutex_lock(&y->lock);
		y->quit = TRUE;
		g_cond_broadcast(&y->cond);
		g_mutex_unlock(&y->lock);
		g_thread_join(g_steal_pointer(&y->thread));
	}
	g_mutex_clear(&y->lock);
	g_cond_clear(&y->cond);
}

static void close_journal(PacerRecorder *r)
{
	/* after a sync in flight: the journal is whole on disk up to that point */
	syncer_set_fd(&r->syncer, -1);
	if (r->journal_fd >= 0)
		close(r->journal_fd);
	r->journal_fd = -1;
}

/* Adds a record to the run in memory and appends it to the journal. */
static void record(PacerRecorder *r, const PacerJournalRecord *rec)
{
	char line[PACER_JOURNAL_LINE_MAX + 1];
	int n = pacer_journal_format(rec, line, sizeof(line));

	if (n < 0 || pacer_run_add(r->run, rec) < 0)
		return;
	if (r->journal_fd < 0)
		return;
	if (!write_all(r->journal_fd, line, (size_t)n)) {
		g_autoptr(GError) error = NULL;
		g_autofree char *path = g_strconcat(r->base, JOURNAL_SUFFIX, NULL);

		fail(&error, "write the journal", path, errno ? errno : EIO);
		run_failed(r, error);
		close_journal(r);
	}
}

static void sync_journal(PacerRecorder *r, double t_s)
{
	gint64 now = g_get_monotonic_time();
	int err;

	if (r->journal_fd < 0 || t_s - r->synced_t_s < SYNC_EVERY_S ||
	    now - r->synced_wall_us < SYNC_MIN_WALL_US)
		return;
	r->synced_t_s = t_s;
	r->synced_wall_us = now;
	err = syncer_request(&r->syncer);
	if (err != 0) {
		g_autoptr(GError) error = NULL;
		g_autofree char *path = g_strconcat(r->base, JOURNAL_SUFFIX, NULL);

		fail(&error, "sync the journal", path, err);
		run_failed(r, error);
		close_journal(r);
	}
}

static gboolean open_journal(PacerRecorder *r, GError **error)
{
	g_autofree char *path = g_strconcat(r->base, JOURNAL_SUFFIX, NULL);

	if (g_mkdir_with_parents(r->dir, 0755) < 0)
		return fail(error, "create the record directory", r->dir, errno);
	r->journal_fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0644);
	if (r->journal_fd < 0)
		return fail(error, "create the journal", path, errno);
	sync_dir(r->dir);
	syncer_set_fd(&r->syncer, r->journal_fd);
	return TRUE;
}

/* ---- following the coach ---- */

static double run_time(const PacerRecorder *r, guint64 t_us)
{
	return t_us > r->t0_us ? (double)(t_us - r->t0_us) / 1e6 : 0.0;
}

static PacerCoach *coach_of(PacerRecorder *r)
{
	return pacer_pipeline_get_coach(pacer_daemon_get_pipeline(r->daemon));
}

/* Adds the coach's active time since the last call to the lap, weighted as the coach weighs it. */
static void accumulate(PacerRecorder *r, double elapsed_s, const PacerMetricsSnapshot *s)
{
	double dt = elapsed_s - r->mark_timer_s;
	LapAcc *l = &r->lap;

	if (!(dt > 0))
		return;
	r->mark_timer_s = elapsed_s;
	if (s->has_hr) {
		l->hr_sum += s->hr_bpm * dt;
		l->hr_s += dt;
		l->hr_max = MAX(l->hr_max, (double)s->hr_bpm);
	}
	if (s->has_cadence && s->cadence_spm > 0) {
		l->cad_sum += s->cadence_spm * dt;
		l->cad_s += dt;
		l->cad_max = MAX(l->cad_max, s->cadence_spm);
	}
	if (s->has_speed)
		l->speed_max = MAX(l->speed_max, s->speed_mps);
}

static double or_nan(double v, gboolean known)
{
	return known ? v : NAN;
}

static void write_sample(PacerRecorder *r, double t_s, const PacerCoachStatus *st,
			 const PacerMetricsSnapshot *s)
{
	PacerJournalRecord rec = {.kind = PACER_JOURNAL_SAMPLE, .t_s = t_s, .timer_s = st->elapsed_s};

	rec.sample = (PacerRunSample){
		.distance_m = st->distance_m,
		.hr_bpm = or_nan(s->hr_bpm, s->has_hr),
		.cadence_spm = or_nan(s->cadence_spm, s->has_cadence),
		.speed_mps = or_nan(s->speed_mps, s->has_speed),
		.incline_pct = or_nan(s->incline_pct, s->has_incline),
	};
	record(r, &rec);
	r->last_t_s = t_s;
}

static void note_source(PacerRecorder *r, double t_s, const PacerSource *src)
{
	PacerJournalRecord rec = {.kind = PACER_JOURNAL_SENSOR, .t_s = t_s};

	if (!src->valid || (r->sensors & (1u << src->kind)))
		return;
	r->sensors |= 1u << src->kind;
	rec.sensor = src->kind;
	record(r, &rec);
}

static void write_rr(PacerRecorder *r, double t_s, const PacerMetricsSnapshot *s)
{
	for (size_t i = 0; i < s->n_rr; i += PACER_JOURNAL_MAX_RR) {
		PacerJournalRecord rec = {.kind = PACER_JOURNAL_RR, .t_s = t_s};

		rec.rr.n = MIN(s->n_rr - i, (size_t)PACER_JOURNAL_MAX_RR);
		for (size_t k = 0; k < rec.rr.n; k++)
			rec.rr.ms[k] = s->rr_ms[i + k];
		record(r, &rec);
	}
}

static void on_tick(const PacerMetricsSnapshot *s, const PacerCoachStatus *st, gpointer user_data)
{
	PacerRecorder *r = user_data;
	double t_s;

	if (!r->active)
		return;
	t_s = run_time(r, s->t_us);
	accumulate(r, st->elapsed_s, s);
	note_source(r, t_s, &s->hr_source);
	note_source(r, t_s, &s->speed_source);
	note_source(r, t_s, &s->cadence_source);
	write_rr(r, t_s, s);
	if (st->state == PACER_COACH_RUNNING && t_s >= r->next_sample_s - 1e-6) {
		write_sample(r, t_s, st, s);
		r->next_sample_s = floor(t_s + 1e-6) + 1.0;
	}
	sync_journal(r, t_s);
}

static void begin_lap(PacerRecorder *r, const PacerEvent *ev, double t_s)
{
	PacerCoachStatus st;

	pacer_coach_get_status(coach_of(r), &st);
	r->lap = (LapAcc){
		.step = ev->step >= 0 ? (unsigned)ev->step : 0,
		.kind = st.current ? st.current->kind : PACER_STEP_RUN,
		.start_t_s = t_s,
		.start_timer_s = st.elapsed_s,
		.hr_max = NAN,
		.cad_max = NAN,
		.speed_max = NAN,
	};
	r->mark_timer_s = st.elapsed_s;
}

/* The step that ends now: the coach's time and distance, our weighted averages. */
static void end_lap(PacerRecorder *r, double t_s)
{
	PacerCoachStatus st;
	PacerJournalRecord rec = {.kind = PACER_JOURNAL_LAP, .t_s = t_s};
	PacerRunLap *l = &rec.lap;
	const LapAcc *a = &r->lap;

	pacer_coach_get_status(coach_of(r), &st);
	accumulate(r, st.elapsed_s, pacer_pipeline_get_snapshot(pacer_daemon_get_pipeline(r->daemon)));
	rec.timer_s = st.elapsed_s;
	l->step = a->step;
	l->kind = a->kind;
	l->trigger = PACER_LAP_TRIGGER_MANUAL;
	if (st.current && st.step_remaining <= 1e-6)
		l->trigger = st.current->end == PACER_STEP_END_TIME ? PACER_LAP_TRIGGER_TIME
								    : PACER_LAP_TRIGGER_DISTANCE;
	l->time_s = st.step_elapsed_s;
	l->distance_m = st.step_distance_m;
	l->avg_hr_bpm = a->hr_s > 0 ? a->hr_sum / a->hr_s : NAN;
	l->hr_time_s = a->hr_s;
	l->max_hr_bpm = a->hr_max;
	l->avg_cadence_spm = a->cad_s > 0 ? a->cad_sum / a->cad_s : NAN;
	l->cadence_time_s = a->cad_s;
	l->max_cadence_spm = a->cad_max;
	l->max_speed_mps = a->speed_max;
	record(r, &rec);
}

/*
 * The string member `key` of an event's JSON (as the coach writes it: no
 * space after the colon) into buf; "" when absent. Escapes other than \uXXXX
 * above ASCII are decoded; those become '?'.
 */
static void json_string_member(const char *json, const char *key, char *buf, size_t size)
{
	g_autofree char *pattern = g_strdup_printf("\"%s\":\"", key);
	const char *p = strstr(json, pattern);
	size_t n = 0;

	buf[0] = '\0';
	if (!p)
		return;
	for (p += strlen(pattern); *p && *p != '"' && n + 1 < size; p++) {
		char ch = *p;

		if (ch == '\\' && p[1]) {
			p++;
			switch (*p) {
			case 'n':
			case 'r':
			case 't':
			case 'b':
			case 'f':
				ch = ' ';
				break;
			case 'u':
				ch = '?';
				if (g_ascii_isxdigit(p[1]) && g_ascii_isxdigit(p[2]) &&
				    g_ascii_isxdigit(p[3]) && g_ascii_isxdigit(p[4])) {
					int v = g_ascii_xdigit_value(p[1]) << 12 |
						g_ascii_xdigit_value(p[2]) << 8 |
						g_ascii_xdigit_value(p[3]) << 4 | g_ascii_xdigit_value(p[4]);

					ch = v >= 0x20 && v < 0x7f ? (char)v : '?';
					p += 4;
				}
				break;
			default:
				ch = *p;
				break;
			}
		}
		buf[n++] = ch;
	}
	buf[n] = '\0';
}

static void on_finish(PacerJson *j, gpointer user_data);

static void begin_run(PacerRecorder *r, const PacerEvent *ev)
{
	const PacerConfig *c = pacer_daemon_get_config(r->daemon);
	g_autoptr(GDateTime) now = g_date_time_new_now_local();
	PacerJournalRecord *rec = g_new0(PacerJournalRecord, 1);
	g_autoptr(GError) error = NULL;
	PacerCoachStatus st;

	r->fit = c->record.fit;
	r->tcx = c->record.tcx;
	r->keep = c->record.keep;
	if (!r->fit && !r->tcx) {
		g_free(rec);
		return;
	}
	g_free(r->dir);
	r->dir = g_strdup(c->record.dir);
	r->run = pacer_run_new();
	r->active = r->run != NULL;
	if (!r->active) {
		g_free(rec);
		return;
	}
	r->t0_us = ev->t_us;
	r->next_sample_s = 0.0;
	r->last_t_s = -1.0;
	r->synced_t_s = 0.0;
	r->synced_wall_us = 0;
	r->sensors = 0;
	g_clear_pointer(&r->error, g_free);
	rec->kind = PACER_JOURNAL_HEADER;
	rec->header.start_unix_ms = (guint64)(g_date_time_to_unix(now) * 1000 +
					      g_date_time_get_microsecond(now) / 1000);
	rec->header.utc_offset_s = (gint32)(g_date_time_get_utc_offset(now) / G_USEC_PER_SEC);
	pacer_coach_get_status(coach_of(r), &st);
	rec->header.free_run = st.free_run;
	if (!st.free_run)
		json_string_member(ev->json, "workout", rec->header.workout, sizeof(rec->header.workout));
	r->base = choose_base(r->dir, rec->header.start_unix_ms);
	if (!open_journal(r, &error))
		run_failed(r, error);
	record(r, rec);
	g_free(rec);
	pacer_coach_set_finish_hook(coach_of(r), on_finish, r);
	g_debug("recording to '%s.*'", r->base);
}

static void record_event(PacerRecorder *r, const PacerEvent *ev, double t_s)
{
	PacerJournalRecord rec = {.kind = PACER_JOURNAL_EVENT, .t_s = t_s, .timer_s = ev->elapsed_s};

	rec.event.type = ev->type;
	rec.event.step = ev->step;
	if (ev->type == PACER_EVENT_STEP_STARTED) {
		rec.event.has_kind = TRUE;
		rec.event.kind = r->lap.kind;
	}
	record(r, &rec);
}

static void on_event(const PacerEvent *ev, gpointer user_data)
{
	PacerRecorder *r = user_data;
	double t_s;

	if (ev->type == PACER_EVENT_WORKOUT_STARTED && !r->active)
		begin_run(r, ev);
	if (!r->active)
		return;
	t_s = run_time(r, ev->t_us);
	if (ev->type == PACER_EVENT_STEP_STARTED)
		begin_lap(r, ev, t_s);
	else if (ev->type == PACER_EVENT_STEP_ENDED)
		end_lap(r, t_s);
	record_event(r, ev, t_s);
}

/* ---- the finish ---- */

static void end_run(PacerRecorder *r)
{
	close_journal(r);
	g_clear_handle_id(&r->announce_source, g_source_remove);
	g_clear_pointer(&r->recovered, g_ptr_array_unref);
	g_clear_pointer(&r->run, pacer_run_free);
	g_clear_pointer(&r->base, g_free);
	g_clear_pointer(&r->error, g_free);
	r->active = FALSE;
}

static void write_files_json(PacerJson *j, const char *fit, const char *tcx, const char *error)
{
	pacer_json_key(j, "files");
	if (error) {
		pacer_json_null(j);
		pacer_json_key(j, "recording_error");
		pacer_json_string(j, error);
		return;
	}
	pacer_json_begin_object(j);
	if (fit) {
		pacer_json_key(j, "fit");
		pacer_json_string(j, fit);
	}
	if (tcx) {
		pacer_json_key(j, "tcx");
		pacer_json_string(j, tcx);
	}
	pacer_json_end_object(j);
}

/* Called by the coach as it writes workout_finished: the files, then their paths in the event. */
static void on_finish(PacerJson *j, gpointer user_data)
{
	PacerRecorder *r = user_data;
	PacerPipeline *p = pacer_daemon_get_pipeline(r->daemon);
	const PacerMetricsSnapshot *s = pacer_pipeline_get_snapshot(p);
	PacerJournalRecord rec = {.kind = PACER_JOURNAL_EVENT};
	g_autofree char *fit = NULL, *tcx = NULL;
	g_autoptr(GError) error = NULL;
	PacerCoachStatus st;
	double t_s;

	pacer_coach_set_finish_hook(pacer_pipeline_get_coach(p), NULL, NULL);
	if (!r->active)
		return;
	pacer_coach_get_status(pacer_pipeline_get_coach(p), &st);
	t_s = MAX(run_time(r, pacer_daemon_now(r->daemon)), r->last_t_s);
	if (t_s > r->last_t_s + 1e-6)
		write_sample(r, t_s, &st, s);
	rec.t_s = t_s;
	rec.timer_s = st.elapsed_s;
	rec.event.type = PACER_EVENT_WORKOUT_FINISHED;
	rec.event.step = st.step;
	record(r, &rec);
	pacer_run_finish(r->run);
	if (write_files(r->run, r->base, r->fit, r->tcx, &fit, &tcx, &error)) {
		g_autofree char *journal = g_strconcat(r->base, JOURNAL_SUFFIX, NULL);

		close_journal(r);
		if (g_unlink(journal) == 0)
			sync_dir(r->dir);
		g_message("recorded the run: %s%s%s", fit ? fit : "", fit && tcx ? ", " : "",
			  tcx ? tcx : "");
		write_files_json(j, fit, tcx, NULL);
		retention(r->dir, r->fit, r->tcx, r->keep);
	} else {
		run_failed(r, error);
		write_files_json(j, NULL, NULL, r->error);
	}
	end_run(r);
}

/* ---- recovery ---- */

static gboolean recover_one(const char *dir, const char *name, gboolean fit, gboolean tcx,
			    GPtrArray *recovered)
{
	g_autofree char *path = g_build_filename(dir, name, NULL);
	g_autofree char *stem = g_strndup(name, strlen(name) - strlen(JOURNAL_SUFFIX));
	g_autofree char *base = g_strconcat(dir, G_DIR_SEPARATOR_S, stem, RECOVERED_SUFFIX, NULL);
	g_autofree char *data = NULL, *fit_path = NULL, *tcx_path = NULL;
	g_autoptr(GError) error = NULL;
	PacerRun *run = NULL;
	gsize len = 0;
	size_t skipped = 0;
	gboolean ok;

	if (!g_file_get_contents(path, &data, &len, &error)) {
		g_warning("cannot recover the run in '%s': %s, left as it is", path, error->message);
		return FALSE;
	}
	if (pacer_run_parse_journal(data, len, &run, &skipped) < 0) {
		g_autofree char *broken = g_strconcat(path, ".broken", NULL);

		g_warning("cannot recover the run in '%s': not a journal; renamed to '%s'", path,
			  broken);
		(void)g_rename(path, broken);
		return FALSE;
	}
	run->recovered = TRUE;
	ok = write_files(run, base, fit, tcx, &fit_path, &tcx_path, &error);
	if (ok) {
		g_message("recovered an interrupted run (%.0f s, %.0f m, %zu lines lost) from '%s': "
			  "%s%s%s",
			  run->timer_s, run->distance_m, skipped, path, fit_path ? fit_path : "",
			  fit_path && tcx_path ? ", " : "", tcx_path ? tcx_path : "");
		g_unlink(path);
		sync_dir(dir);
		if (recovered) {
			Recovered *rec = g_new0(Recovered, 1);

			rec->fit = g_steal_pointer(&fit_path);
			rec->tcx = g_steal_pointer(&tcx_path);
			rec->duration_s = run->timer_s;
			rec->distance_m = run->distance_m;
			g_ptr_array_add(recovered, rec);
		}
	} else {
		g_warning("cannot recover the run in '%s': %s; the journal stays for the next start",
			  path, error->message);
	}
	pacer_run_free(run);
	return ok;
}

static guint recover_all(const char *dir, gboolean fit, gboolean tcx, int keep,
			 GPtrArray *recovered)
{
	g_autoptr(GDir) d = NULL;
	g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
	const char *name;
	guint n = 0;

	if (!fit && !tcx)
		return 0;
	d = g_dir_open(dir, 0, NULL);
	if (!d)
		return 0;
	while ((name = g_dir_read_name(d))) {
		if (name[0] != '.' && g_str_has_suffix(name, JOURNAL_SUFFIX) &&
		    strlen(name) > strlen(JOURNAL_SUFFIX))
			g_ptr_array_add(names, g_strdup(name));
	}
	g_ptr_array_sort(names, compare_names);
	for (guint i = 0; i < names->len; i++)
		n += recover_one(dir, g_ptr_array_index(names, i), fit, tcx, recovered) ? 1 : 0;
	if (n > 0)
		retention(dir, fit, tcx, keep);
	return n;
}

guint pacer_recorder_recover(const char *dir, gboolean fit, gboolean tcx, int keep)
{
	return recover_all(dir, fit, tcx, keep, NULL);
}

/* Recovered runs become events once every front end listens (the loop is running). */
static gboolean announce_recovered(gpointer user_data)
{
	PacerRecorder *r = user_data;

	r->announce_source = 0;
	for (guint i = 0; i < r->recovered->len; i++) {
		const Recovered *rec = g_ptr_array_index(r->recovered, i);

		pacer_coach_recording_recovered(coach_of(r), pacer_daemon_now(r->daemon), rec->fit,
						rec->tcx, rec->duration_s, rec->distance_m);
	}
	g_ptr_array_set_size(r->recovered, 0);
	return G_SOURCE_REMOVE;
}

/* ---- life cycle ---- */

PacerRecorder *pacer_recorder_new(PacerDaemon *d)
{
	const PacerConfig *c = pacer_daemon_get_config(d);
	PacerRecorder *r = g_new0(PacerRecorder, 1);

	r->daemon = d;
	r->journal_fd = -1;
	r->syncer.fd = -1;
	g_mutex_init(&r->syncer.lock);
	g_cond_init(&r->syncer.cond);
	r->recovered = g_ptr_array_new_with_free_func(recovered_free);
	if (recover_all(c->record.dir, c->record.fit, c->record.tcx, c->record.keep, r->recovered) > 0)
		r->announce_source = g_idle_add(announce_recovered, r);
	pacer_daemon_add_event_sink(d, on_event, r);
	pacer_daemon_add_tick_sink(d, on_tick, r);
	return r;
}

void pacer_recorder_free(PacerRecorder *r)
{
	if (!r)
		return;
	/* a run still going keeps its journal: the next start recovers it */
	if (r->active)
		pacer_coach_set_finish_hook(coach_of(r), NULL, NULL);
	close_journal(r);
	syncer_stop(&r->syncer);
	g_clear_handle_id(&r->announce_source, g_source_remove);
	g_clear_pointer(&r->recovered, g_ptr_array_unref);
	g_clear_pointer(&r->run, pacer_run_free);
	g_free(r->base);
	g_free(r->error);
	g_free(r->dir);
	g_free(r);
}
