/*
 * The version: the header's macros, the loaded library's answer and the
 * package version configure took from the header all agree, before the
 * runtime starts, while it runs and from inside an actor.
 */
#include "config.h"

#include <check.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include <snow/runtime.h>

#include "run_suite.h"
#include "snow_ok.h"

/* What an actor saw: 1 when both calls gave the header's version. */
static atomic_int actor_saw_it;

static int
version_is_the_headers(void)
{
	char want[32];

	snprintf(want, sizeof(want), "%d.%d.%d", SNOW_RT_VERSION_MAJOR,
	    SNOW_RT_VERSION_MINOR, SNOW_RT_VERSION_PATCH);
	return snow_rt_version() == (uint32_t)SNOW_RT_VERSION_HEX &&
	    strcmp(snow_rt_version_string(), want) == 0;
}

static void
ask_version(const void *arg)
{
	(void)arg;
	atomic_store(&actor_saw_it, version_is_the_headers());
}

START_TEST(macros_make_the_hex_number)
{
	ck_assert_uint_eq(SNOW_RT_VERSION_HEX >> 16, SNOW_RT_VERSION_MAJOR);
	ck_assert_uint_eq(SNOW_RT_VERSION_HEX >> 8 & 0xff,
	    SNOW_RT_VERSION_MINOR);
	ck_assert_uint_eq(SNOW_RT_VERSION_HEX & 0xff, SNOW_RT_VERSION_PATCH);
	ck_assert_int_lt(SNOW_RT_VERSION_MINOR, 256);
	ck_assert_int_lt(SNOW_RT_VERSION_PATCH, 256);
}
END_TEST

START_TEST(library_reports_the_headers_version)
{
	ck_assert_msg(version_is_the_headers(), "library says %s (0x%06x)",
	    snow_rt_version_string(), (unsigned)snow_rt_version());
	/* configure.ac's AC_INIT reads the same macros. */
	ck_assert_str_eq(snow_rt_version_string(), PACKAGE_VERSION);
}
END_TEST

START_TEST(version_works_before_during_and_after_the_runtime)
{
	ck_assert(version_is_the_headers());
	init_ok(1);
	ck_assert(version_is_the_headers());
	atomic_store(&actor_saw_it, 0);
	spawn_ok(ask_version, NULL, 0, SNOW_PRIO_NORMAL);
	run_ok();
	ck_assert_int_eq(atomic_load(&actor_saw_it), 1);
	ck_assert(version_is_the_headers());
	/* The string is the library's own: the same one each time. */
	ck_assert_ptr_eq(snow_rt_version_string(), snow_rt_version_string());
}
END_TEST

static Suite *
version_suite(void)
{
	Suite *s = suite_create("version");
	TCase *tc = tcase_create("version");

	tcase_add_test(tc, macros_make_the_hex_number);
	tcase_add_test(tc, library_reports_the_headers_version);
	tcase_add_test(tc, version_works_before_during_and_after_the_runtime);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(version_suite());
}
