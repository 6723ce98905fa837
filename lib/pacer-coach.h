/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The workout engine and the coach.
 *
 * The coach follows a plan (or a free run when none is loaded) through the
 * metrics snapshots it is given, moves from step to step by time or
 * distance, and raises events (pacer-event.h) through one callback. Time is
 * the snapshot's t_us; nothing here reads a clock.
 *
 * Auto-start: a loaded workout (or a free run, when none is loaded) starts
 * once the runner has been moving for auto_start_us. Auto-pause: standing
 * still for auto_pause_us pauses it (never during rest and walk steps), and
 * moving again resumes it. A pause by command is only ended by a command.
 *
 * Alerts judge the smoothed metrics against the step's target bands with
 * hysteresis: nothing during the first grace_us of a step (hr_grace_us for
 * heart rate, which lags effort), a value must stay out of its band for
 * off_target_us before an alert, the same alert is not repeated within
 * cooldown_us, and "*_on_target" follows an alert once the value is back
 * inside the band.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pacer-event.h"
#include "pacer-metrics.h"
#include "pacer-workout.h"

typedef struct {
	uint64_t grace_us;        /* 15 s */
	uint64_t hr_grace_us;     /* 45 s */
	uint64_t off_target_us;   /* 8 s */
	uint64_t cooldown_us;     /* 30 s */
	uint64_t countdown_us;    /* 10 s before a timed step ends */
	double countdown_m;       /* 100 m before a distance step ends */
	double split_m;           /* 400 m */
	bool auto_start;          /* true */
	bool auto_pause;          /* true */
	uint64_t auto_start_us;   /* 3 s */
	uint64_t auto_pause_us;   /* 3 s */
	double moving_speed_mps;  /* 1.0 m/s: slower is standing for auto-start/pause */
	uint64_t zone_stable_us;  /* a new HR zone must hold 20 s before zone_changed */
	bool imperial;            /* messages in miles */
	PacerHrZones hr_zones;    /* for zone names; n_zones 0 if unknown */
	PacerTarget free_target;  /* the athlete's default targets during a free run */
} PacerCoachConfig;

void pacer_coach_config_init(PacerCoachConfig *config);

typedef enum {
	PACER_COACH_IDLE,     /* nothing loaded: a free run starts when the runner moves */
	PACER_COACH_READY,    /* a workout is loaded and waits for the start */
	PACER_COACH_RUNNING,
	PACER_COACH_PAUSED,
	PACER_COACH_FINISHED, /* until another workout is loaded or started */
} PacerCoachState;

typedef struct PacerCoach PacerCoach;

/* NULL on ENOMEM. `func` is called for every event, from inside the coach's calls. */
PacerCoach *pacer_coach_new(const PacerCoachConfig *config, PacerEventFunc func,
			    void *user_data);
void pacer_coach_free(PacerCoach *coach);

/* Queues a workout (text is kept for the events). -EBUSY while one is running or paused. */
int pacer_coach_load(PacerCoach *coach, const PacerPlan *plan, const char *text);

/* Follows the runner; call it for every snapshot (a few times a second is plenty). */
void pacer_coach_update(PacerCoach *coach, const PacerMetricsSnapshot *snapshot);

/* Commands: 0, or -EALREADY / -EINVAL when the state does not allow them. */
int pacer_coach_start(PacerCoach *coach, uint64_t t_us);
int pacer_coach_pause(PacerCoach *coach, uint64_t t_us);
int pacer_coach_resume(PacerCoach *coach, uint64_t t_us);
int pacer_coach_lap(PacerCoach *coach, uint64_t t_us);
int pacer_coach_stop(PacerCoach *coach, uint64_t t_us);

/*
 * A hook for the recorder: called once per workout while workout_finished is
 * written, after the summary's own members and before the event goes out,
 * so that it can finish its files and add members about them to the summary
 * with `j` (pacerd adds "files"). During the call pacer_coach_get_status()
 * still reports the workout as running, with its final totals; `func` must
 * not call the coach's commands. NULL removes the hook.
 */
typedef void (*PacerCoachFinishFunc)(PacerJson *j, void *user_data);
void pacer_coach_set_finish_hook(PacerCoach *coach, PacerCoachFinishFunc func, void *user_data);

/* Sensor news from the daemon (or a replay): CONNECTED, LOST or BATTERY_LOW (percent). */
void pacer_coach_sensor(PacerCoach *coach, uint64_t t_us, PacerEventType type,
			const char *address, PacerSensorKind kind, int percent);

/* The recorder saved a run that was cut off: "recording_recovered" with its files (NULL: none). */
void pacer_coach_recording_recovered(PacerCoach *coach, uint64_t t_us, const char *fit,
				     const char *tcx, double duration_s, double distance_m);

typedef struct {
	PacerCoachState state;
	bool free_run;
	int step; /* -1 when not running */
	size_t n_steps;
	const PacerStep *current; /* NULL when not running or in a free run */
	double elapsed_s;
	double distance_m;
	double step_elapsed_s;
	double step_distance_m;
	double step_remaining; /* seconds or metres, per the step's end; < 0 when open */
} PacerCoachStatus;

void pacer_coach_get_status(const PacerCoach *coach, PacerCoachStatus *ret);

/*
 * A coach that replaces another (the daemon rebuilds its pipeline after a
 * configuration reload) goes on where it left off: events keep counting
 * from the previous coach's seq, and after a finished workout it waits, as
 * the previous one would have, for the runner to stand before starting again.
 */
void pacer_coach_continue_from(PacerCoach *coach, const PacerCoach *previous);

const char *pacer_coach_state_to_string(PacerCoachState state);
