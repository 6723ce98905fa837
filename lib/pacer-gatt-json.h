/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Decoded GATT values as JSON objects (the keys of `pacerctl decode`, see
 * DESIGN.md section 4) and as short readable lines.
 */

#include <stddef.h>

#include "pacer-gatt.h"
#include "pacer-json.h"

/* Writes one JSON object for v: "type", then every key of its kind, null when absent. */
void pacer_gatt_value_write_json(const PacerGattValue *v, PacerJson *j);

/* Writes the members of that object into an object the caller has begun. */
void pacer_gatt_value_write_json_members(const PacerGattValue *v, PacerJson *j);

/* A readable one-line summary ("60 bpm, contact detected, RR 1016.6 ms"); always NUL-terminated. */
void pacer_gatt_value_describe(const PacerGattValue *v, char *buf, size_t size);
