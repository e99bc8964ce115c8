/*
 * The main() every Check program here shares: run the suite, exit non-zero
 * when a test failed.
 */
#ifndef SN_TESTS_RUN_SUITE_H
#define SN_TESTS_RUN_SUITE_H

#include <check.h>
#include <stdlib.h>

static inline int
run_suite(Suite *suite)
{
	SRunner *sr = srunner_create(suite);
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

#endif /* SN_TESTS_RUN_SUITE_H */
