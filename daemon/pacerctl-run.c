/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * pacerctl simulate and replay: the virtual runner writes a capture, and a
 * capture runs through the decoders, the metrics engine and the coach.
 */

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pacer-capture.h"
#include "pacer-json.h"
#include "pacer-pipeline.h"
#include "pacer-sim.h"
#include "pacerctl.h"

/* The value of option argv[*i] ("--opt V" or "--opt=V"); NULL when it is not `name`. */
static const char *option_value(int argc, char **argv, int *i, const char *name, bool *missing)
{
	size_t n = strlen(name);
	const char *arg = argv[*i];

	*missing = false;
	if (strncmp(arg, name, n) != 0)
		return NULL;
	if (arg[n] == '=')
		return arg + n + 1;
	if (arg[n] != '\0')
		return NULL;
	if (*i + 1 < argc)
		return argv[++*i];
	*missing = true;
	return "";
}

static int parse_double(const char *verb, const char *opt, const char *s, double lo, double hi,
			double *ret)
{
	char *end = NULL;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !(v >= lo && v <= hi))
		return usage_error("%s: %s wants a number from %g to %g, not '%s'", verb, opt, lo, hi,
				   s);
	*ret = v;
	return 0;
}

/* "A:B" as two numbers. */
static int parse_pair(const char *verb, const char *opt, const char *s, double *a, double *b)
{
	char first[64];
	const char *colon = strchr(s, ':');
	int r;

	if (!colon || (size_t)(colon - s) >= sizeof(first))
		return usage_error("%s: %s wants START:SECONDS, not '%s'", verb, opt, s);
	memcpy(first, s, (size_t)(colon - s));
	first[colon - s] = '\0';
	r = parse_double(verb, opt, first, 0, 1e6, a);
	return r != 0 ? r : parse_double(verb, opt, colon + 1, 0, 1e6, b);
}

typedef struct {
	PlanArgs plan;
	PacerSimConfig sim;
	bool has_workout;
	char *command; /* the arguments as given, for the capture's header */
} SimulateArgs;

static void pipeline_config(const AthleteArgs *athlete, bool imperial, bool auto_start,
			    PacerPipelineConfig *cfg);

static int simulate_script(SimulateArgs *a, const char *value)
{
	const char *colon = strchr(value, ':');
	double rep = 0, pct = 8.0;
	char rep_text[32];
	int r;

	if (colon && (size_t)(colon - value) < sizeof(rep_text)) {
		memcpy(rep_text, value, (size_t)(colon - value));
		rep_text[colon - value] = '\0';
		r = parse_double("simulate", "--fast-rep", colon + 1, -50, 100, &pct);
		if (r != 0)
			return r;
		value = rep_text;
	}
	r = parse_double("simulate", "--fast-rep", value, 1, 99, &rep);
	if (r != 0)
		return r;
	if (rep != floor(rep))
		return usage_error("simulate: --fast-rep wants a rep number, not '%s'", value);
	a->sim.fast_rep = (unsigned)rep;
	a->sim.fast_pct = pct;
	return 0;
}

/* One simulate option at argv[*i]: 0 consumed, 1 not a simulate option, else an exit status. */
static int simulate_option(SimulateArgs *a, int argc, char **argv, int *i)
{
	bool missing;
	const char *v;

	if ((v = option_value(argc, argv, i, "--workout", &missing))) {
		a->plan.workout = missing ? NULL : strdup(v);
		a->has_workout = !missing && v[0] != '\0';
		return a->has_workout ? 0 : usage_error("simulate: --workout needs a workout");
	}
	if ((v = option_value(argc, argv, i, "--presets", &missing))) {
		a->plan.presets_option = v;
		return missing ? usage_error("simulate: --presets needs a file") : 0;
	}
	if ((v = option_value(argc, argv, i, "--seed", &missing))) {
		char *end = NULL;
		unsigned long long seed;

		errno = 0;
		seed = strtoull(v, &end, 10);
		if (errno != 0 || end == v || *end != '\0' || v[0] < '0' || v[0] > '9')
			return usage_error("simulate: --seed wants a whole number from 0, not '%s'", v);
		a->sim.seed = seed;
		return 0;
	}
	if ((v = option_value(argc, argv, i, "--fast-rep", &missing)))
		return simulate_script(a, v);
	if ((v = option_value(argc, argv, i, "--contact-loss", &missing)))
		return parse_pair("simulate", "--contact-loss", v, &a->sim.contact_loss_start_s,
				  &a->sim.contact_loss_s);
	if ((v = option_value(argc, argv, i, "--footpod-factor", &missing)))
		return parse_double("simulate", "--footpod-factor", v, 0.5, 1.5, &a->sim.footpod_factor);
	if (strcmp(argv[*i], "--strides") == 0) {
		a->sim.footpod_strides = true;
		return 0;
	}
	if (strcmp(argv[*i], "--treadmill") == 0) {
		a->sim.treadmill = true;
		a->sim.footpod = false;
		return 0;
	}
	if (strcmp(argv[*i], "--treadmill-and-footpod") == 0) {
		a->sim.treadmill = a->sim.footpod = true;
		return 0;
	}
	return 1;
}

/* The runner's paces and heart rates from what the athlete options tell. */
static void simulate_athlete(SimulateArgs *a, const AthleteArgs *athlete)
{
	if (athlete->has_pace_zones) {
		const PacerPaceBand *e = &athlete->pace_zones.zones[PACER_PACE_E];
		const PacerPaceBand *t = &athlete->pace_zones.zones[PACER_PACE_T];

		a->sim.easy_pace_s_per_km = (e->fast_s_per_km + e->slow_s_per_km) / 2.0;
		a->sim.threshold_pace_s_per_km = (t->fast_s_per_km + t->slow_s_per_km) / 2.0;
	}
	if (athlete->has_hr_zones && athlete->hr_zones.max_hr > 0)
		a->sim.max_hr = athlete->hr_zones.max_hr;
	if (athlete->athlete.resting_hr > 0)
		a->sim.resting_hr = athlete->athlete.resting_hr;
}

/* The arguments as a shell would take them back: 'each' 'one' 'quoted'. */
static char *quote_args(int argc, char **argv)
{
	size_t size = 1;
	char *out, *at;

	for (int i = 0; i < argc; i++)
		size += 3 + 4 * strlen(argv[i]);
	out = at = calloc(1, size);
	if (!out)
		return NULL;
	for (int i = 0; i < argc; i++) {
		*at++ = i ? ' ' : '\'';
		if (i)
			*at++ = '\'';
		for (const char *c = argv[i]; *c; c++) {
			if (*c == '\'') {
				memcpy(at, "'\\''", 4);
				at += 4;
			} else {
				*at++ = *c;
			}
		}
		*at++ = '\'';
	}
	return out;
}

/* The runner follows the coach of a pipeline fed with its own notifications. */
static int simulate_guide(void *user_data)
{
	return pacer_sim_guide_from_coach(pacer_pipeline_get_coach(user_data));
}

static void ignore_event(const PacerEvent *event, void *user_data)
{
	(void)event;
	(void)user_data;
}

static void simulate_header(const SimulateArgs *a)
{
	printf("# pacerctl simulate: %s\n# seed %llu; arguments: %s\n", a->plan.text,
	       (unsigned long long)a->sim.seed, a->command ? a->command : "");
	printf("# replay with the same athlete options to follow the same coach\n"
	       "# <t_seconds> <address> <uuid> <hex>\n");
}

static int simulate_write(const SimulateArgs *a, const AthleteArgs *athlete, PacerPlan *plan)
{
	PacerPipelineConfig cfg;
	PacerPipeline *p;
	PacerSim *sim = pacer_sim_new(&a->sim, plan);
	PacerSimNotification n;
	char line[PACER_SIM_LINE_MAX];
	uint64_t next_tick = 0;
	bool first = true;
	int r;

	pipeline_config(athlete, false, true, &cfg);
	p = pacer_pipeline_new(&cfg, ignore_event, NULL);
	if (!sim || !p) {
		pacer_sim_free(sim);
		pacer_pipeline_free(p);
		fprintf(stderr, "pacerctl: simulate: the runner could not be set up (bad options)\n");
		return EXIT_USAGE;
	}
	pacer_coach_load(pacer_pipeline_get_coach(p), plan, a->plan.text);
	pacer_sim_set_guide(sim, simulate_guide, p);
	simulate_header(a);
	while ((r = pacer_sim_next(sim, &n)) == 1) {
		if (first)
			next_tick = n.t_us;
		first = false;
		for (; next_tick <= n.t_us; next_tick += PACER_PIPELINE_TICK_US)
			pacer_pipeline_tick(p, next_tick);
		(void)pacer_pipeline_notify(p, n.address, n.uuid16, n.value, n.len, n.t_us);
		if (pacer_sim_write_line(&n, line, sizeof(line)) > 0)
			puts(line);
	}
	pacer_sim_free(sim);
	pacer_pipeline_free(p);
	return r < 0 ? EXIT_FAILURE : 0;
}

int verb_simulate(int argc, char **argv)
{
	AthleteArgs athlete = {.verb = "simulate"};
	SimulateArgs a = {.plan = {.verb = "simulate"}};
	PacerPlan *plan = NULL;
	int r, n_rest;

	pacer_sim_config_init(&a.sim);
	a.command = quote_args(argc, argv); /* before the options are moved about */
	r = parse_athlete_options(argc, argv, &athlete, &n_rest);
	for (int i = 0; r == 0 && i < n_rest; i++) {
		r = simulate_option(&a, n_rest, argv, &i);
		if (r == 1)
			r = usage_error("simulate: unknown argument '%s'", argv[i]);
	}
	if (r == 0 && !a.has_workout)
		r = usage_error("simulate needs --workout 'WORKOUT' or a preset name");
	if (r == 0 && !(plan = malloc(sizeof(*plan))))
		r = EXIT_FAILURE;
	if (r == 0) {
		simulate_athlete(&a, &athlete);
		r = load_workout(&a.plan, &athlete, plan);
	}
	if (r == 0)
		r = simulate_write(&a, &athlete, plan);
	free(plan);
	free(a.plan.workout);
	free(a.plan.presets);
	free(a.command);
	return r;
}

/* ---- replay ---- */

typedef struct {
	const char *path;
	PlanArgs plan;
	bool has_workout;
	bool imperial;
	bool no_auto_start;
	bool text;
	unsigned long events;
	unsigned long notifications;
	unsigned long malformed;
	unsigned long unknown;
	bool finished;
} ReplayArgs;

static void replay_event(const PacerEvent *event, void *user_data)
{
	ReplayArgs *a = user_data;

	a->events++;
	if (event->type == PACER_EVENT_WORKOUT_FINISHED)
		a->finished = true;
	if (a->text) {
		unsigned t = (unsigned)lround(event->elapsed_s);

		printf("%3u:%02u  %-17s %s\n", t / 60, t % 60,
		       pacer_event_type_to_string(event->type), event->message);
		return;
	}
	fwrite(event->json, 1, event->json_len, stdout);
	fputc('\n', stdout);
}

static int replay_option(ReplayArgs *a, int argc, char **argv, int *i)
{
	bool missing;
	const char *v;

	if ((v = option_value(argc, argv, i, "--workout", &missing))) {
		if (missing || v[0] == '\0')
			return usage_error("replay: --workout needs a workout");
		a->plan.workout = strdup(v);
		a->has_workout = true;
		return 0;
	}
	if ((v = option_value(argc, argv, i, "--presets", &missing))) {
		a->plan.presets_option = v;
		return missing ? usage_error("replay: --presets needs a file") : 0;
	}
	if ((v = option_value(argc, argv, i, "--config", &missing)))
		return usage_error("replay: --config is not supported yet; give the athlete "
				   "options instead (--race, --max-hr ...)");
	if (strcmp(argv[*i], "--imperial") == 0) {
		a->imperial = true;
		return 0;
	}
	if (strcmp(argv[*i], "--text") == 0) {
		a->text = true;
		return 0;
	}
	if (strcmp(argv[*i], "--no-auto-start") == 0) {
		a->no_auto_start = true;
		return 0;
	}
	if (argv[*i][0] == '-' && argv[*i][1] != '\0')
		return 1;
	if (a->path)
		return usage_error("replay takes one capture file");
	a->path = argv[*i];
	return 0;
}

/* The pipeline both simulate (following its runner) and replay set up: they must agree. */
static void pipeline_config(const AthleteArgs *athlete, bool imperial, bool auto_start,
			    PacerPipelineConfig *cfg)
{
	pacer_pipeline_config_init(cfg);
	if (athlete->has_hr_zones) {
		cfg->metrics.hr_zones = athlete->hr_zones;
		cfg->coach.hr_zones = athlete->hr_zones;
		cfg->metrics.max_hr = athlete->hr_zones.max_hr;
	}
	cfg->metrics.resting_hr = athlete->athlete.resting_hr;
	if (athlete->has_pace_zones) {
		cfg->metrics.has_pace_zones = true;
		cfg->metrics.pace_zones = athlete->pace_zones;
	}
	cfg->coach.imperial = imperial;
	cfg->coach.auto_start = auto_start;
}

static void replay_summary(const ReplayArgs *a, PacerPipeline *p, uint64_t first, uint64_t last)
{
	const PacerMetricsSnapshot *s = pacer_pipeline_get_snapshot(p);
	char buf[4096];
	PacerJson j;

	pacer_json_init(&j, buf, sizeof(buf));
	pacer_json_begin_object(&j);
	pacer_json_key(&j, "type");
	pacer_json_string(&j, "summary");
	pacer_json_key(&j, "notifications");
	pacer_json_int(&j, (int64_t)a->notifications);
	pacer_json_key(&j, "malformed");
	pacer_json_int(&j, (int64_t)a->malformed);
	pacer_json_key(&j, "unknown");
	pacer_json_int(&j, (int64_t)a->unknown);
	pacer_json_key(&j, "duration_s");
	pacer_json_fixed(&j, last > first ? (double)(last - first) / 1e6 : 0.0, 3);
	pacer_json_key(&j, "distance_m");
	pacer_json_fixed(&j, s->distance_m, 1);
	pacer_json_key(&j, "events");
	pacer_json_int(&j, (int64_t)a->events);
	pacer_json_key(&j, "workout_finished");
	pacer_json_bool(&j, a->finished);
	pacer_json_key(&j, "sensors");
	pacer_json_begin_array(&j);
	for (size_t i = 0; i < pacer_pipeline_n_sensors(p); i++) {
		const PacerPipelineSensor *ps = pacer_pipeline_get_sensor(p, i);

		pacer_json_begin_object(&j);
		pacer_json_key(&j, "address");
		pacer_json_string(&j, ps->address);
		pacer_json_key(&j, "kind");
		pacer_json_string(&j, pacer_sensor_kind_to_string(ps->kind));
		pacer_json_key(&j, "notifications");
		pacer_json_int(&j, (int64_t)ps->notifications);
		pacer_json_key(&j, "malformed");
		pacer_json_int(&j, (int64_t)ps->malformed);
		pacer_json_end_object(&j);
	}
	pacer_json_end_array(&j);
	pacer_json_end_object(&j);
	if (a->text)
		printf("%lu notifications from %zu sensor%s over %.1f s (%lu malformed), %.0f m, %lu "
		       "events\n",
		       a->notifications, pacer_pipeline_n_sensors(p),
		       pacer_pipeline_n_sensors(p) == 1 ? "" : "s",
		       last > first ? (double)(last - first) / 1e6 : 0.0, a->malformed, s->distance_m,
		       a->events);
	else if (pacer_json_finish(&j) >= 0)
		puts(buf);
}

/* Feeds one capture record, ticking the coach through the time before it. */
static void replay_record(ReplayArgs *a, PacerPipeline *p, const PacerCaptureRecord *rec,
			  uint64_t *next_tick, unsigned long line_no)
{
	PacerNotifyResult res;
	uint16_t u16 = 0;

	while (*next_tick <= rec->t_us) {
		pacer_pipeline_tick(p, *next_tick);
		*next_tick += PACER_PIPELINE_TICK_US;
	}
	if (pacer_uuid_to_u16(&rec->uuid, &u16) < 0) {
		a->unknown++;
		return;
	}
	res = pacer_pipeline_notify(p, rec->address, u16, rec->value, rec->len, rec->t_us);
	switch (res) {
	case PACER_NOTIFY_OK:
		a->notifications++;
		break;
	case PACER_NOTIFY_MALFORMED:
		a->malformed++;
		fprintf(stderr, "%s:%lu: %04x payload of %zu bytes is malformed, skipped\n", a->path,
			line_no, u16, rec->len);
		break;
	case PACER_NOTIFY_UNKNOWN:
		a->unknown++;
		break;
	}
}

/* A replay in progress: the times seen so far and the coach's next tick. */
typedef struct {
	ReplayArgs *args;
	PacerPipeline *pipeline;
	bool any;
	uint64_t first;
	uint64_t last;
	uint64_t next_tick;
} ReplayState;

/* read_capture()'s callback: times must not go back; the record is fed in. */
static int replay_capture_record(const PacerCaptureRecord *rec, unsigned long line_no,
				 void *user_data)
{
	ReplayState *st = user_data;

	if (!st->any) {
		st->first = rec->t_us;
		st->next_tick = rec->t_us;
		st->any = true;
	}
	if (rec->t_us < st->last) {
		fflush(stdout);
		fprintf(stderr, "%s:%lu:1: expected a time not before %.3f\n", st->args->path,
			line_no, (double)st->last / 1e6);
		return EXIT_DATA;
	}
	st->last = rec->t_us;
	replay_record(st->args, st->pipeline, rec, &st->next_tick, line_no);
	return 0;
}

static int replay_file(ReplayArgs *a, PacerPipeline *p)
{
	ReplayState st = {.args = a, .pipeline = p};
	int r = read_capture(a->path, replay_capture_record, &st);

	if (r != 0)
		return r;
	if (st.any)
		pacer_pipeline_tick(p, st.last);
	/* the capture ended: a workout still going is stopped there (an idle coach says no) */
	(void)pacer_coach_stop(pacer_pipeline_get_coach(p), st.last);
	replay_summary(a, p, st.first, st.last);
	return 0;
}

static int replay_run(ReplayArgs *a, const AthleteArgs *athlete)
{
	PacerPipelineConfig cfg;
	PacerPipeline *p;
	PacerPlan *plan = NULL;
	int r = 0;

	pipeline_config(athlete, a->imperial, !a->no_auto_start, &cfg);
	p = pacer_pipeline_new(&cfg, replay_event, a);
	if (!p || !(plan = malloc(sizeof(*plan)))) {
		pacer_pipeline_free(p);
		fprintf(stderr, "pacerctl: out of memory\n");
		return EXIT_FAILURE;
	}
	if (a->has_workout) {
		r = load_workout(&a->plan, athlete, plan);
		if (r == 0)
			pacer_coach_load(pacer_pipeline_get_coach(p), plan, a->plan.text);
	}
	if (r == 0)
		r = replay_file(a, p);
	free(plan);
	pacer_pipeline_free(p);
	return r;
}

int verb_replay(int argc, char **argv)
{
	AthleteArgs athlete = {.verb = "replay"};
	ReplayArgs a = {.plan = {.verb = "replay"}};
	int r, n_rest;

	r = parse_athlete_options(argc, argv, &athlete, &n_rest);
	for (int i = 0; r == 0 && i < n_rest; i++) {
		r = replay_option(&a, n_rest, argv, &i);
		if (r == 1)
			r = usage_error("replay: unknown option '%s'", argv[i]);
	}
	if (r == 0 && !a.path)
		r = usage_error("replay needs a capture file ('-' for standard input)");
	if (r == 0)
		r = replay_run(&a, &athlete);
	free(a.plan.workout);
	free(a.plan.presets);
	return r;
}
