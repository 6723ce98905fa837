/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * pacerd: the running coach daemon.
 *
 * Exit codes: 0 a clean stop (SIGTERM/SIGINT, or the end of a replay or
 * simulation); 64 usage; 65 bad input data (a capture line, a workout);
 * 66 an input file that cannot be opened; 78 bad configuration.
 */

#include <glib.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>

#include "pacer-config.h"
#include "pacer-daemon.h"

#define EXIT_USAGE 64
#define EXIT_DATAERR 65
#define EXIT_CONFIG 78

typedef struct {
	char *config;
	gboolean check_config;
	gboolean session;
	gboolean events;
	char *replay;
	char *simulate;
	char *speedup_text;
	double speedup;
	gint64 seed;
	gboolean verbose;
	gboolean version;
} Options;

static int parse_options(int *argc, char ***argv, Options *o)
{
	const GOptionEntry entries[] = {
		{"config", 'c', 0, G_OPTION_ARG_FILENAME, &o->config,
		 "The configuration file (default " PACER_CONFIG_PATH ")", "FILE"},
		{"check-config", 0, 0, G_OPTION_ARG_NONE, &o->check_config,
		 "Check the configuration and exit", NULL},
		{"session", 0, 0, G_OPTION_ARG_NONE, &o->session,
		 "Use the session bus for our D-Bus service (development)", NULL},
		{"events", 0, 0, G_OPTION_ARG_NONE, &o->events,
		 "Print every coaching event as a JSON line on stdout", NULL},
		{"replay", 0, 0, G_OPTION_ARG_FILENAME, &o->replay,
		 "Feed the pipeline from a capture file instead of BlueZ", "FILE"},
		{"simulate", 0, 0, G_OPTION_ARG_STRING, &o->simulate,
		 "A virtual runner does WORKOUT (text or preset) instead of real sensors", "WORKOUT"},
		{"speedup", 0, 0, G_OPTION_ARG_STRING, &o->speedup_text,
		 "Replay or simulate X times faster than real time (default 1)", "X"},
		{"seed", 0, 0, G_OPTION_ARG_INT64, &o->seed, "The virtual runner's seed", "N"},
		{"verbose", 'v', 0, G_OPTION_ARG_NONE, &o->verbose, "Log debug messages", NULL},
		{"version", 0, 0, G_OPTION_ARG_NONE, &o->version, "Print the version", NULL},
		{NULL},
	};
	g_autoptr(GOptionContext) ctx = g_option_context_new("- the Pacer running coach daemon");
	g_autoptr(GError) error = NULL;

	g_option_context_add_main_entries(ctx, entries, NULL);
	if (!g_option_context_parse(ctx, argc, argv, &error)) {
		g_printerr("pacerd: %s (see 'pacerd --help')\n", error->message);
		return EXIT_USAGE;
	}
	if (*argc > 1) {
		g_printerr("pacerd: unexpected argument '%s' (see 'pacerd --help')\n", (*argv)[1]);
		return EXIT_USAGE;
	}
	if (o->replay && o->simulate) {
		g_printerr("pacerd: --replay and --simulate exclude each other\n");
		return EXIT_USAGE;
	}
	if (o->speedup_text) {
		char *end = NULL;

		o->speedup = g_ascii_strtod(o->speedup_text, &end);
		if (end == o->speedup_text || *end != '\0' || !(o->speedup >= 0.1 && o->speedup <= 100000)) {
			g_printerr("pacerd: --speedup wants a number from 0.1 to 100000, not '%s'\n",
				   o->speedup_text);
			return EXIT_USAGE;
		}
	}
	if (o->seed < 0) {
		g_printerr("pacerd: --seed wants a whole number from 0\n");
		return EXIT_USAGE;
	}
	return 0;
}

/* The configuration: the file given, else the default file, else every default. */
static PacerConfig *load_config(const Options *o, char **ret_path, int *ret_status)
{
	const char *path = o->config ? o->config : pacer_config_default_path();
	g_autoptr(GError) error = NULL;
	g_auto(GStrv) warnings = NULL;
	PacerConfig *c = pacer_config_load(path, NULL, &warnings, &error);

	if (!c && !o->config && g_error_matches(error, PACER_CONFIG_ERROR, PACER_CONFIG_ERROR_NOT_FOUND)) {
		g_message("no configuration file at %s: using the defaults", path);
		*ret_path = NULL;
		return pacer_config_new_defaults();
	}
	if (!c) {
		g_printerr("pacerd: %s\n", error->message);
		*ret_status = EXIT_CONFIG;
		return NULL;
	}
	for (size_t i = 0; warnings && warnings[i]; i++)
		g_printerr("pacerd: warning: %s\n", warnings[i]);
	*ret_path = g_strdup(path);
	return c;
}

static int run(int argc, char **argv, Options *opt)
{
	g_autoptr(PacerConfig) config = NULL;
	g_autoptr(PacerDaemon) d = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char *path = NULL;
	PacerDaemonOptions opts = {0};
	int status = 0;

	setlocale(LC_ALL, "");
	setlocale(LC_NUMERIC, "C");
	/* stdout carries --events: every log message goes to stderr (or the journal) */
	g_log_writer_default_set_use_stderr(TRUE);
	status = parse_options(&argc, &argv, opt);
	if (status != 0)
		return status;
	if (opt->version) {
		printf("pacerd %s\n", PACER_VERSION);
		return 0;
	}
	if (opt->verbose)
		g_log_set_debug_enabled(TRUE);
	config = load_config(opt, &path, &status);
	if (!config)
		return status;
	if (opt->check_config) {
		printf("%s: configuration is valid\n", path ? path : "(defaults)");
		return 0;
	}

	opts.config_path = path;
	opts.events = opt->events;
	opts.session_bus = opt->session;
	opts.mode = opt->replay ? PACER_DAEMON_REPLAY : opt->simulate ? PACER_DAEMON_SIMULATE : PACER_DAEMON_BLUEZ;
	opts.replay_path = opt->replay;
	opts.simulate_workout = opt->simulate;
	opts.speedup = opt->speedup;
	opts.seed = (guint64)opt->seed;
	d = pacer_daemon_new(&opts, g_steal_pointer(&config), &error);
	if (!d) {
		g_printerr("pacerd: %s\n", error->message);
		return EXIT_DATAERR;
	}
	status = pacer_daemon_run(d);
	return status;
}

int main(int argc, char **argv)
{
	Options o = {.speedup = 1.0};
	int status = run(argc, argv, &o);

	g_free(o.config);
	g_free(o.replay);
	g_free(o.simulate);
	g_free(o.speedup_text);
	return status;
}
