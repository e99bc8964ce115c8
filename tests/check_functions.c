/*
 * The function table (snow_register_function, snow_function_lookup): what
 * every compiled Snow main fills at startup, and what spawning by name
 * will look up.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <snow/runtime.h>

#include "run_suite.h"
#include "snow_ok.h"
#include "test_env.h"

#define TIMEOUT 120

static _Atomic int ran;

static void
worker_fn(const void *arg)
{
	atomic_store(&ran, *(const int *)arg);
}

static void
other_fn(const void *arg)
{
	(void)arg;
}

START_TEST(register_and_look_up_before_init_then_spawn)
{
	snow_actor_fn fn;
	int v = 42;

	ck_assert_int_eq(snow_register_function("worker", 6,
	    (void *)worker_fn), 0);
	fn = (snow_actor_fn)snow_function_lookup("worker", 6);
	ck_assert_ptr_eq((void *)fn, (void *)worker_fn);
	init_ok(2);
	spawn_ok(fn, &v, sizeof(v), SNOW_PRIO_NORMAL);
	run_ok();
	ck_assert_int_eq(atomic_load(&ran), 42);
	/* The table outlives the runtime. */
	ck_assert_ptr_eq(snow_function_lookup("worker", 6), (void *)worker_fn);
}
END_TEST

START_TEST(duplicates_and_bad_names)
{
	static char longest[SNOW_FUNCTION_NAME_MAX + 1];

	ck_assert_int_eq(snow_register_function("dup", 3, (void *)worker_fn),
	    0);
	ck_assert_int_eq(snow_register_function("dup", 3, (void *)worker_fn),
	    0);				/* the same again is fine */
	ck_assert_int_eq(snow_register_function("dup", 3, (void *)other_fn),
	    EEXIST);
	ck_assert_ptr_eq(snow_function_lookup("dup", 3), (void *)worker_fn);
	/* A prefix or an extension is another name. */
	errno = 0;
	ck_assert_ptr_null(snow_function_lookup("du", 2));
	ck_assert_int_eq(errno, ESRCH);
	ck_assert_ptr_null(snow_function_lookup("dupe", 4));
	/* Names are bytes: a NUL inside is part of the name. */
	ck_assert_int_eq(snow_register_function("a\0b", 3, (void *)other_fn),
	    0);
	ck_assert_ptr_null(snow_function_lookup("a", 1));
	ck_assert_ptr_eq(snow_function_lookup("a\0b", 3), (void *)other_fn);

	ck_assert_int_eq(snow_register_function(NULL, 3, (void *)other_fn),
	    EINVAL);
	ck_assert_int_eq(snow_register_function("x", 0, (void *)other_fn),
	    EINVAL);
	ck_assert_int_eq(snow_register_function("x", 1, NULL), EINVAL);
	memset(longest, 'n', sizeof(longest));
	ck_assert_int_eq(snow_register_function(longest,
	    SNOW_FUNCTION_NAME_MAX, (void *)other_fn), 0);
	ck_assert_int_eq(snow_register_function(longest,
	    SNOW_FUNCTION_NAME_MAX + 1, (void *)other_fn), EINVAL);
	errno = 0;
	ck_assert_ptr_null(snow_function_lookup(NULL, 1));
	ck_assert_int_eq(errno, EINVAL);
	errno = 0;
	ck_assert_ptr_null(snow_function_lookup("x", 0));
	ck_assert_int_eq(errno, EINVAL);
}
END_TEST

/* Each name's "function" is an address that encodes its number. */
static unsigned char marks[40000];

struct names_job {
	unsigned from, to;
	_Atomic long bad;
};

static void *
register_range(void *arg)
{
	struct names_job *j = arg;
	char name[32];
	unsigned i;

	for (i = j->from; i < j->to; i++) {
		int len = snprintf(name, sizeof(name), "fn_%u", i);

		if (snow_register_function(name, (uint64_t)len, &marks[i]) != 0)
			atomic_fetch_add(&j->bad, 1);
		/* Look up what others registered meanwhile, too. */
		len = snprintf(name, sizeof(name), "fn_%u", i / 2);
		{
			void *fn = snow_function_lookup(name, (uint64_t)len);

			if (fn != NULL && fn != &marks[i / 2])
				atomic_fetch_add(&j->bad, 1);
		}
	}
	return NULL;
}

/* Tens of thousands of names from four threads at once: every one found,
 * with its own function, while the table grows under the lookups. */
START_TEST(many_names_from_many_threads)
{
	unsigned n = scaled_down() ? 4000 : 40000, i;
	struct names_job jobs[4];
	pthread_t t[4];
	char name[32];

	for (i = 0; i < 4; i++) {
		jobs[i].from = n / 4 * i;
		jobs[i].to = n / 4 * (i + 1);
		atomic_init(&jobs[i].bad, 0);
		ck_assert_int_eq(pthread_create(&t[i], NULL, register_range,
		    &jobs[i]), 0);
	}
	for (i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		ck_assert_int_eq(atomic_load(&jobs[i].bad), 0);
	}
	for (i = 0; i < n; i++) {
		int len = snprintf(name, sizeof(name), "fn_%u", i);

		ck_assert_ptr_eq(snow_function_lookup(name, (uint64_t)len),
		    &marks[i]);
	}
}
END_TEST

static Suite *
functions_suite(void)
{
	Suite *s = suite_create("functions");
	TCase *tc = tcase_create("table");

	tcase_set_timeout(tc, TIMEOUT);
	tcase_add_test(tc, register_and_look_up_before_init_then_spawn);
	tcase_add_test(tc, duplicates_and_bad_names);
	tcase_add_test(tc, many_names_from_many_threads);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(functions_suite());
}
