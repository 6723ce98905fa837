/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "test-common.h"

#include <CUnit/Basic.h>
#include <stdio.h>
#include <string.h>

#include "pacer-hex.h"

#define POISON 0xA5

int pacer_test_main(const char *suite_name, const PacerTest *tests)
{
	CU_pSuite suite;
	unsigned failures;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	suite = CU_add_suite(suite_name, NULL, NULL);
	if (!suite)
		return 1;
	for (const PacerTest *t = tests; t->name; t++) {
		if (!CU_add_test(suite, t->name, t->func))
			return 1;
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failures = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	if (CU_get_number_of_tests_run() == 0)
		failures = 1; /* a suite that ran nothing must not pass */
	CU_cleanup_registry();
	return failures == 0 ? 0 : 1;
}

size_t pacer_test_hex(const char *hex, uint8_t *buf, size_t cap)
{
	size_t len = 0, pos = 0;
	int r = pacer_hex_decode(hex, buf, cap, &len, &pos);

	CU_ASSERT_EQUAL_FATAL(r, 0);
	return len;
}

void pacer_test_poison(void *p, size_t n)
{
	memset(p, POISON, n);
}

int pacer_test_is_poisoned(const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++) {
		if (b[i] != POISON)
			return 0;
	}
	return 1;
}
