/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "pacer-calibration.h"

#include <errno.h>
#include <math.h>

#include "pacer-config.h"
#include "pacer-metrics.h"
#include "pacer-pipeline.h"

#define SAVE_EVERY_US (60 * G_USEC_PER_SEC) /* of run time */
#define SAME_FACTOR 0.0005

struct _PacerCalibration {
	PacerDaemon *daemon;
	char *path;
	PacerPipeline *pipeline; /* the one the footpod below belongs to (pipelines change on reload) */
	char footpod[18];	 /* its footpod, once seen; "" before */
	double saved;		 /* the factor in the file for it; 0: none */
	double measured;	 /* the last factor the run measured; 0: none */
	guint64 saved_t_us;
	gboolean warned; /* a failed write was logged */
};

static GKeyFile *load(const char *path)
{
	GKeyFile *kf = g_key_file_new();
	g_autoptr(GError) error = NULL;

	if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_KEEP_COMMENTS, &error) &&
	    !g_error_matches(error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
		g_warning("%s: %s; footpod factors start anew", path, error->message);
	return kf;
}

static void save(PacerCalibration *c, guint64 t_us)
{
	g_autoptr(GKeyFile) kf = load(c->path);
	g_autoptr(GDateTime) now = g_date_time_new_now_utc();
	g_autofree char *when = g_date_time_format(now, "%Y-%m-%dT%H:%M:%SZ");
	g_autofree char *dir = g_path_get_dirname(c->path);
	g_autoptr(GError) error = NULL;

	g_key_file_set_comment(kf, NULL, NULL,
			       " Footpod factors pacerd learned against a treadmill ([footpod] "
			       "auto_calibrate),\n by footpod address. Delete a group to forget it.",
			       NULL);
	g_key_file_set_double(kf, c->footpod, "factor", round(c->measured * 1e5) / 1e5);
	g_key_file_set_string(kf, c->footpod, "learned", when);
	if (g_mkdir_with_parents(dir, 0755) < 0)
		g_set_error(&error, G_FILE_ERROR, g_file_error_from_errno(errno), "cannot create %s: %s",
			    dir, g_strerror(errno));
	if (error || !g_key_file_save_to_file(kf, c->path, &error)) {
		if (!c->warned)
			g_warning("footpod %s: cannot keep its factor %.4f: %s", c->footpod,
				  c->measured, error->message);
		c->warned = TRUE;
		return;
	}
	if (c->saved == 0.0 || fabs(c->saved - c->measured) >= 0.005)
		g_message("footpod %s: factor %.4f measured against the treadmill, kept in %s",
			  c->footpod, c->measured, c->path);
	c->saved = c->measured;
	c->saved_t_us = t_us;
	c->warned = FALSE;
}

/* A pipeline's first footpod: started with its factor from the file. */
static void seed(PacerCalibration *c, PacerPipeline *p)
{
	g_autoptr(GKeyFile) kf = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char *learned = NULL;
	double factor;
	int r;

	for (size_t i = 0; i < pacer_pipeline_n_sensors(p) && !c->footpod[0]; i++) {
		const PacerPipelineSensor *s = pacer_pipeline_get_sensor(p, i);

		if (s->kind == PACER_SENSOR_FOOTPOD)
			g_strlcpy(c->footpod, s->address, sizeof(c->footpod));
	}
	if (!c->footpod[0])
		return;
	c->saved = c->measured = 0.0;
	kf = load(c->path);
	if (!g_key_file_has_group(kf, c->footpod))
		return;
	factor = g_key_file_get_double(kf, c->footpod, "factor", &error);
	learned = g_key_file_get_string(kf, c->footpod, "learned", NULL);
	r = error ? -EINVAL : pacer_metrics_seed_calibration(pacer_pipeline_get_metrics(p), factor);
	if (r == 0) {
		c->saved = factor;
		g_message("footpod %s: factor %.4f from %s (learned %s)", c->footpod, factor, c->path,
			  learned ? learned : "earlier");
	} else if (r == -EINVAL) {
		g_warning("%s: [%s] factor: %s; not used", c->path, c->footpod,
			  error ? error->message
				: "outside " G_STRINGIFY(PACER_CALIBRATION_MIN) "-" G_STRINGIFY(
					  PACER_CALIBRATION_MAX));
	}
}

/* A footpod's factor was measured in this run and differs from what the file holds. */
static gboolean unsaved(const PacerCalibration *c)
{
	return c->footpod[0] && c->measured > 0.0 && fabs(c->measured - c->saved) > SAME_FACTOR;
}

static void on_tick(const PacerMetricsSnapshot *snapshot, const PacerCoachStatus *status,
		    gpointer user_data)
{
	PacerCalibration *c = user_data;
	PacerPipeline *p = pacer_daemon_get_pipeline(c->daemon);

	(void)status;
	if (p != c->pipeline) {
		/* a reload made a new pipeline: what this one measured is kept first */
		if (unsaved(c))
			save(c, snapshot->t_us);
		c->pipeline = p;
		c->footpod[0] = '\0';
	}
	if (!c->footpod[0])
		seed(c, p);
	if (!c->footpod[0] || !snapshot->calibration_auto)
		return;
	c->measured = snapshot->calibration_factor;
	if (fabs(c->measured - c->saved) > SAME_FACTOR &&
	    (c->saved_t_us == 0 || snapshot->t_us >= c->saved_t_us + SAVE_EVERY_US))
		save(c, snapshot->t_us);
}

PacerCalibration *pacer_calibration_new(PacerDaemon *daemon)
{
	const PacerConfig *config = pacer_daemon_get_config(daemon);
	PacerCalibration *c;

	if (!config->footpod.auto_calibrate || !config->record.dir)
		return NULL;
	c = g_new0(PacerCalibration, 1);
	c->daemon = daemon;
	c->path = g_build_filename(config->record.dir, PACER_CALIBRATION_FILE, NULL);
	pacer_daemon_add_tick_sink(daemon, on_tick, c);
	return c;
}

void pacer_calibration_free(PacerCalibration *c)
{
	if (!c)
		return;
	if (unsaved(c))
		save(c, 0);
	g_free(c->path);
	g_free(c);
}
