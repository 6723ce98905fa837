/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * FIT activity files (Garmin's Flexible and Interoperable Data Transfer
 * protocol 2.0, little-endian) from a recorded run, and a bounded reader for
 * FIT files.
 *
 * The encoder writes, in this order: file_id (type activity, manufacturer
 * "development" 255), file_creator, device_info for Pacer (device index 0,
 * the creator) and one per sensor kind that contributed data (source
 * bluetooth_low_energy), event timer start; then in time order one record
 * per sample (timestamp, distance, enhanced_speed, heart_rate, cadence and
 * fractional_cadence, grade from the treadmill's incline), event timer
 * stop_all / start at pauses, an event lap marker and a lap message at the
 * end of each lap (one per workout step), hrv messages with the RR
 * intervals (up to 5 per message); and at the end event timer stop_all,
 * the session (sport running, sub_sport treadmill when a treadmill supplied
 * data, else generic) and the activity message.
 *
 * Running cadence follows FIT: cadence is in strides (one foot's steps) per
 * minute and fractional_cadence (1/128) holds the rest, so steps per minute
 * = 2 * (cadence + fractional_cadence).
 *
 * Timestamps are seconds since 1989-12-31 00:00 UTC: the run's wall-clock
 * start (PacerRun.start_unix_ms, given by the caller) plus the run time.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pacer-journal.h"

#define PACER_FIT_EPOCH_UNIX 631065600u /* 1989-12-31T00:00:00Z in Unix seconds */
#define PACER_FIT_MANUFACTURER_DEVELOPMENT 255
#define PACER_FIT_HEADER_SIZE 14

/* The FIT CRC-16 (CRC-16/ARC) of len octets, continuing from crc (0 to start). */
uint16_t pacer_fit_crc16(uint16_t crc, const void *data, size_t len);

/* FIT time of a Unix time in ms (rounded down to the second; 0 before the FIT epoch). */
uint32_t pacer_fit_time(uint64_t unix_ms);

typedef struct {
	uint16_t product;	   /* FIT product id under manufacturer 255 */
	uint32_t serial_number;	   /* 0: none */
	uint16_t software_version; /* version * 100, e.g. 10 for 0.1.0 */
	const char *product_name;  /* up to 19 characters kept; NULL: none */
} PacerFitCreator;

/*
 * Writes `run` (finished with pacer_run_finish()) as a FIT activity through
 * `write`. The encoder makes two passes (the header holds the data size),
 * calling `write` only in the second; nothing is allocated. Returns 0, the
 * first negative value `write` returned, or -EINVAL for a run without a
 * header or -E2BIG for one too large for FIT (a data size over 4 GiB).
 */
int pacer_fit_encode(const PacerRun *run, const PacerFitCreator *creator, PacerWriteFunc write,
		     void *user_data);

/* ---- reading ---- */

typedef struct {
	uint8_t num;       /* field definition number */
	uint8_t size;      /* octets */
	uint8_t base_type; /* as in the file, e.g. 0x84 uint16 */
	bool big_endian;
	const uint8_t *data; /* `size` octets inside the file */
} PacerFitField;

/* Called for each data message; a negative return stops the reader with that value. */
typedef int (*PacerFitMessageFunc)(uint16_t global_num, const PacerFitField *fields,
				   size_t n_fields, void *user_data);

/*
 * Checks a FIT file and walks its data messages: a 12- or 14-octet header
 * with ".FIT" and a matching header CRC (when not 0), data size and file
 * size, the file CRC; definition messages (developer fields skipped),
 * compressed-timestamp headers, and that no data message uses an undefined
 * local type or runs past the data. Returns 0, -EBADMSG for anything
 * malformed, or what `func` returned. `func` may be NULL (only check).
 */
int pacer_fit_read(const uint8_t *data, size_t len, PacerFitMessageFunc func, void *user_data);

/*
 * Element `index` of a field as an unsigned integer of its base type's
 * width (1, 2, 4 or 8 octets); false when the field has no such element.
 */
bool pacer_fit_field_uint(const PacerFitField *f, size_t index, uint64_t *ret);

/* What `pacerctl history` shows: the session of an activity file. NAN / 0 where unknown. */
typedef struct {
	uint32_t start_time; /* FIT time */
	double timer_s;
	double elapsed_s;
	double distance_m;
	double avg_hr_bpm;
	double max_hr_bpm;
	double avg_cadence_spm; /* steps per minute (2 * (cadence + fractional)) */
	double avg_speed_mps;
	unsigned num_laps;
	unsigned sub_sport;
	unsigned n_records, n_laps, n_sessions, n_rr;
} PacerFitSummary;

/* pacer_fit_read() gathering the first session and message counts; 0 or -EBADMSG. */
int pacer_fit_read_summary(const uint8_t *data, size_t len, PacerFitSummary *ret);
