/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Capture files: one notification per line, `#` starts a comment.
 *
 *     <t_seconds> <address> <uuid> <hex>
 *     12.250 C0:FF:EE:00:00:01 2a37 16 8c 10 04
 *
 * t_seconds is a decimal number of seconds (at most 6 decimals are kept),
 * address a Bluetooth address, uuid any form pacer_uuid_parse() accepts and
 * hex the value's bytes as pacer_hex_decode() accepts them.
 */

#include <stddef.h>
#include <stdint.h>

#include "pacer-uuid.h"

#define PACER_CAPTURE_MAX_VALUE 512 /* the largest ATT attribute value */
#define PACER_ADDRESS_STRING_SIZE 18

typedef struct {
	uint64_t t_us;
	char address[PACER_ADDRESS_STRING_SIZE]; /* upper case, NUL-terminated */
	PacerUuid uuid;
	size_t len;
	uint8_t value[PACER_CAPTURE_MAX_VALUE];
} PacerCaptureRecord;

typedef struct {
	size_t column;    /* 1-based */
	const char *what; /* static text: what was expected there */
} PacerCaptureError;

/*
 * Parses one line (a trailing "\n" or "\r\n" is allowed).
 * Returns 1 and fills *ret for a notification, 0 for a blank or comment line,
 * -EINVAL with *ret_error filled for a syntax error. *ret is written only
 * when 1 is returned.
 */
int pacer_capture_parse_line(const char *line, PacerCaptureRecord *ret,
			     PacerCaptureError *ret_error);

/* 0 if s is exactly a Bluetooth address "AA:BB:CC:DD:EE:FF" (either case), else -EINVAL. */
int pacer_address_validate(const char *s, size_t len);
