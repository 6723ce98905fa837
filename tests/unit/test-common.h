/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <CUnit/CUnit.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
	const char *name;
	CU_TestFunc func;
} PacerTest;

/*
 * Runs one CUnit suite made of `tests` (terminated by an entry with a NULL
 * name) and returns the process exit status: 0 when every test passed.
 */
int pacer_test_main(const char *suite, const PacerTest *tests);

/* Parses hex ("16 3c 11 04") into buf; fails the current test on bad hex. */
size_t pacer_test_hex(const char *hex, uint8_t *buf, size_t cap);

/* Fills n octets at p with a pattern that no decoder writes, and checks for it. */
void pacer_test_poison(void *p, size_t n);
int pacer_test_is_poisoned(const void *p, size_t n);

#define PACER_TEST_DOUBLE_EQ(actual, expected) CU_ASSERT_DOUBLE_EQUAL(actual, expected, 1e-9)
