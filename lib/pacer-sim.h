/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The virtual runner: follows an expanded PacerPlan and emits, in time order,
 * the notifications a heart-rate strap, a footpod and/or a treadmill would
 * send, as GATT value bytes that the decoders in pacer-gatt.h read back.
 *
 * The runner stands still for 5 s, then runs the steps one after another,
 * ending each by its own true time or distance (like a runner with a watch),
 * then stands still for 5 s more. Time starts at 0 and advances in 50 ms
 * ticks; nothing reads a clock. The same configuration and seed give the
 * same bytes on every run: the only randomness is the simulator's own PRNG,
 * with separate streams for the body and for each sensor, so switching a
 * sensor off or scripting its dropout leaves the others unchanged.
 *
 * Emission: strap 2A37 every 1.0 s at +0.10 s (uint8 HR, contact, and every
 * RR interval since its previous notification); footpod 2A53 every 0.25 s
 * at +0.00 s (speed, cadence, total distance, running bit); treadmill 2ACD
 * every 0.5 s at +0.05 s (speed, total distance, incline and ramp, elapsed
 * time).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pacer-capture.h"
#include "pacer-metrics.h"
#include "pacer-coach.h"
#include "pacer-workout.h"

/* The longest value the simulator emits: flags, HR and 15 RR intervals. */
#define PACER_SIM_VALUE_MAX 32
/* A capture line for any notification, with its NUL. */
#define PACER_SIM_LINE_MAX 160

typedef struct {
	PacerSensorKind kind; /* the sensor that falls silent */
	double start_s;	      /* capture time */
	double duration_s;    /* 0: no dropout */
} PacerSimDropout;

typedef struct {
	uint64_t seed;

	/* which sensors the runner wears or runs on; a treadmill run is usually
	 * treadmill = true with footpod = false, both together test calibration */
	bool strap;	/* default true */
	bool footpod;	/* default true */
	bool treadmill; /* default false */

	bool footpod_strides;  /* the pod reports strides (half the steps) per minute */
	double footpod_factor; /* the pod reads speed and distance times this; default 1.0 */

	int resting_hr;			/* bpm; default 55 */
	int max_hr;			/* bpm; default 185 */
	double easy_pace_s_per_km;	/* steps without a pace target; default 360 */
	double threshold_pace_s_per_km; /* for the HR model; 0 (default): easy pace / 1.25 */

	char strap_address[PACER_ADDRESS_STRING_SIZE];	   /* default C0:FF:EE:00:00:01 */
	char footpod_address[PACER_ADDRESS_STRING_SIZE];   /* default C0:FF:EE:00:00:02 */
	char treadmill_address[PACER_ADDRESS_STRING_SIZE]; /* default C0:FF:EE:00:00:03 */

	/* the script; times are capture times in seconds */
	unsigned fast_rep; /* 1-based among the plan's work (RUN) steps; 0: none */
	double fast_pct;   /* that step's target speed is this many % higher */
	double contact_loss_start_s;
	double contact_loss_s; /* the strap reports no skin contact; 0: never */
	PacerSimDropout dropout;
} PacerSimConfig;

/* The defaults above: seed 0, strap and footpod, no script. */
void pacer_sim_config_init(PacerSimConfig *config);

typedef struct {
	uint64_t t_us; /* since the start of the simulation */
	PacerSensorKind kind;
	char address[PACER_ADDRESS_STRING_SIZE];
	uint16_t uuid16; /* 0x2A37, 0x2A53 or 0x2ACD */
	size_t len;
	uint8_t value[PACER_SIM_VALUE_MAX];
} PacerSimNotification;

/* The runner's true state, for tests and for judging what sensors report. */
typedef struct {
	uint64_t t_us;
	int step;	       /* -1 before the first step; the plan's n_steps after the last */
	double step_elapsed_s; /* since the current step began */
	double step_distance_m;
	double speed_mps;
	double distance_m;
	double hr_bpm;
	double cadence_spm; /* steps per minute; 0 standing */
	double incline_pct; /* of the treadmill */
	unsigned work_rep;  /* how many work steps have begun */
} PacerSimState;

typedef struct PacerSim PacerSim;

/*
 * The runner's watch. Without a guide the runner judges each step's end on
 * its own true time and distance. With one, it runs the step the guide
 * names, as a runner follows the coach on their wrist: a step index,
 * PACER_SIM_GUIDE_WAITING (keep running the first step until the coach
 * starts) or PACER_SIM_GUIDE_FINISHED (stop and stand).
 */
#define PACER_SIM_GUIDE_WAITING (-1)
#define PACER_SIM_GUIDE_FINISHED (-2)

typedef int (*PacerSimGuideFunc)(void *user_data);

void pacer_sim_set_guide(PacerSim *sim, PacerSimGuideFunc func, void *user_data);

/* What a runner watching `coach` should run: its step, WAITING or FINISHED. */
int pacer_sim_guide_from_coach(const PacerCoach *coach);

/*
 * Copies the configuration and the plan (neither needs to outlive the call).
 * NULL on ENOMEM or an invalid configuration or plan: no sensor, HR outside
 * 25-250 or resting not below max, a pace outside 120-1200 s/km, a threshold
 * pace not faster than the easy pace, a footpod factor outside 0.5-2, a
 * fast_pct outside -50..100, a negative script time, an invalid address, or a
 * step with a non-positive or non-finite amount or an invalid pace band.
 */
PacerSim *pacer_sim_new(const PacerSimConfig *config, const PacerPlan *plan);
void pacer_sim_free(PacerSim *sim);

/*
 * Runs the simulation up to the next notification. Returns 1 and fills *ret;
 * 0 once the workout and the final standing still are over (and on every call
 * after that); -EINVAL for a NULL argument. Never allocates.
 */
int pacer_sim_next(PacerSim *sim, PacerSimNotification *ret);

/* The runner's state as of the last notification returned. */
void pacer_sim_get_state(const PacerSim *sim, PacerSimState *ret);

/*
 * Writes one capture line, without a newline:
 * "<seconds, 3 decimals> <address> <uuid16, 4 lower-case hex> <hex bytes>",
 * e.g. "12.250 C0:FF:EE:00:00:01 2a37 16 8c 10 04". Returns its length;
 * -ENOSPC when it does not fit in `size` (PACER_SIM_LINE_MAX always fits),
 * -EINVAL for a NULL argument or a value longer than PACER_SIM_VALUE_MAX.
 */
int pacer_sim_write_line(const PacerSimNotification *n, char *buf, size_t size);
