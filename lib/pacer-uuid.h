/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Bluetooth UUIDs. 16- and 32-bit SIG UUIDs live on the Base UUID
 * 00000000-0000-1000-8000-00805F9B34FB; BlueZ reports every UUID in the
 * 128-bit lower-case form. Parsing is case-insensitive.
 */

#include <stdbool.h>
#include <stdint.h>

#define PACER_UUID_STRING_SIZE 37 /* 36 characters and the NUL */

typedef struct {
	uint8_t bytes[16]; /* in the order they are written, most significant first */
} PacerUuid;

/*
 * Accepts "2a37", "0x2A37", "00002a37" (32-bit) and the 128-bit form
 * "00002a37-0000-1000-8000-00805f9b34fb". Returns 0, or -EINVAL for anything
 * else (including surrounding spaces); *ret is written only on success.
 */
int pacer_uuid_parse(const char *s, PacerUuid *ret);

void pacer_uuid_from_u16(uint16_t short_uuid, PacerUuid *ret);

/* 0 and the 16-bit value if the UUID is a 16-bit UUID on the Base UUID, else -ERANGE. */
int pacer_uuid_to_u16(const PacerUuid *uuid, uint16_t *ret);

bool pacer_uuid_equal(const PacerUuid *a, const PacerUuid *b);

/* Writes the 128-bit lower-case form into buf (PACER_UUID_STRING_SIZE octets). */
void pacer_uuid_format(const PacerUuid *uuid, char buf[PACER_UUID_STRING_SIZE]);
