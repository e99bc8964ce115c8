/*
 * Blocking calls off the workers (src/blocking.c): the other actors of
 * the caller's worker keep running meanwhile (measured), calls queue on a
 * pool smaller than their number and none is lost, a caller killed in a
 * call ends only once the call has returned, shutdown waits for calls,
 * threads outside actors run the call themselves, bad arguments and a
 * bad pool size are errors.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <snow/runtime.h>

#include "actor_check.h"
#include "run_suite.h"
#include "snow_ok.h"
#include "test_env.h"

#define TIMEOUT		120

static _Atomic int done;

/* A_CHECK() with the line and the condition as the message. */
#define EXPECT(cond)	A_CHECK(cond, "line %d: %s (errno %d)", __LINE__, \
			    #cond, snow_errno())

static void
start(uint32_t workers)
{
	reset_fails();
	atomic_store(&done, 0);
	init_ok(workers);
}

static void
finish(void)
{
	run_ok();
	assert_no_fails();
}

/* ---- the worker goes on ---- */

static _Atomic bool call_over;
static _Atomic uint64_t turns;

static void *
sleep_300ms(void *arg)
{
	sleep_ms(300);
	return (void *)((uintptr_t)arg + 1);
}

static void
caller(const void *arg)
{
	void *got = NULL;

	(void)arg;
	EXPECT(snow_blocking(sleep_300ms, (void *)41, &got) == 0);
	EXPECT((uintptr_t)got == 42);
	atomic_store(&call_over, true);
}

/* Counts its turns while the call lasts. */
static void
counter(const void *arg)
{
	double end = now() + 20;

	(void)arg;
	while (!atomic_load(&call_over) && now() < end) {
		atomic_fetch_add(&turns, 1);
		snow_actor_yield();
	}
}

START_TEST(the_callers_worker_runs_other_actors_meanwhile)
{
	double t0 = now();

	atomic_store(&call_over, false);
	atomic_store(&turns, 0);
	start(1);
	spawn_ok(caller, NULL, 0, SNOW_PRIO_NORMAL);
	spawn_ok(counter, NULL, 0, SNOW_PRIO_NORMAL);
	finish();
	fprintf(stderr, "check_blocking: %llu turns of another actor on the "
	    "caller's only worker during a 300 ms call (%.0f ms in all)\n",
	    (unsigned long long)atomic_load(&turns), (now() - t0) * 1e3);
	ck_assert(atomic_load(&call_over));
	/* A blocked worker would give it one turn, or none. */
	ck_assert_uint_ge(atomic_load(&turns), 100);
}
END_TEST

/* ---- a small pool, many calls ---- */

#define CALLS		60
#define POOL		3

static _Atomic int running, most;

static void *
short_call(void *arg)
{
	int now_running = atomic_fetch_add(&running, 1) + 1, seen;

	seen = atomic_load(&most);
	while (now_running > seen &&
	    !atomic_compare_exchange_weak(&most, &seen, now_running))
		;
	sleep_ms(20);
	atomic_fetch_sub(&running, 1);
	return arg;
}

static void
short_caller(const void *arg)
{
	uintptr_t i = *(const uintptr_t *)arg;
	void *got = NULL;

	EXPECT(snow_blocking(short_call, (void *)i, &got) == 0);
	EXPECT((uintptr_t)got == i);
	atomic_fetch_add(&done, 1);
}

START_TEST(calls_queue_on_a_small_pool_and_none_is_lost)
{
	double t0;
	uintptr_t i;

	atomic_store(&running, 0);
	atomic_store(&most, 0);
	setenv("SNOW_BLOCKING_THREADS", "3", 1);
	start(2);
	unsetenv("SNOW_BLOCKING_THREADS");
	t0 = now();
	for (i = 0; i < CALLS; i++)
		spawn_ok(short_caller, &i, sizeof(i), SNOW_PRIO_NORMAL);
	finish();
	ck_assert_int_eq(atomic_load(&done), CALLS);
	ck_assert_int_le(atomic_load(&most), POOL);
	ck_assert_int_ge(atomic_load(&most), 1);
	/* At most three at a time: at least 60 x 20 ms / 3. */
	ck_assert_double_ge(now() - t0, CALLS * 0.020 / POOL * 0.95);
}
END_TEST

/* ---- a kill during a call ---- */

static _Atomic bool fn_returned, after_call, fn_started, kill_sent;

/* Waits for the test's kill (bounded), then 200 ms more, time for a
 * wrong early end of the caller to show. */
static void *
writes_late(void *arg)
{
	double end = now() + 30;

	atomic_store(&fn_started, true);
	while (!atomic_load(&kill_sent) && now() < end)
		sleep_ms(1);
	sleep_ms(200);
	/* The caller's stack is still its own. */
	*(volatile uint64_t *)arg = 0x5a5a5a5a5a5a5a5aull;
	atomic_store(&fn_returned, true);
	return NULL;
}

static void
killed_caller(const void *arg)
{
	volatile uint64_t local = 0;

	(void)arg;
	atomic_fetch_add(&done, 1);
	(void)snow_blocking(writes_late, (void *)&local, NULL);
	atomic_store(&after_call, true);	/* killed: never */
}

struct watch_arg {
	uint64_t target;
};

/* Sees the caller end, killed, only after its call returned. */
static void
watcher(const void *arg)
{
	const struct watch_arg *a = arg;
	uint64_t ref = snow_process_monitor(a->target);
	const struct snow_msg *m;
	struct snow_down_msg d;

	EXPECT(ref != 0);
	atomic_fetch_add(&done, 1);
	m = snow_actor_receive_key(SNOW_MSG_DOWN, ref, 30000);
	EXPECT(m != NULL);
	if (m == NULL)
		return;
	memcpy(&d, m->data, sizeof(d));
	EXPECT(d.reason == SNOW_EXIT_KILLED);
	EXPECT(atomic_load(&fn_returned));
}

START_TEST(a_caller_killed_in_a_call_ends_once_it_returns)
{
	struct watch_arg w;
	double end;

	atomic_store(&fn_returned, false);
	atomic_store(&after_call, false);
	atomic_store(&fn_started, false);
	atomic_store(&kill_sent, false);
	start(2);
	w.target = spawn_ok(killed_caller, NULL, 0, SNOW_PRIO_NORMAL);
	spawn_ok(watcher, &w, sizeof(w), SNOW_PRIO_NORMAL);
	/* Kill it in its call.  The call used to last a fixed 200 ms from
	 * its start: a test thread 150 ms late after its 50 ms sleep
	 * (valgrind, a loaded machine) found the caller gone (ESRCH).
	 * Now the call lasts until the kill was sent, and 200 ms more. */
	end = now() + 30;
	while ((atomic_load(&done) < 2 || !atomic_load(&fn_started)) &&
	    now() < end)
		sleep_ms(1);
	ck_assert_int_eq(atomic_load(&done), 2);
	ck_assert(atomic_load(&fn_started));
	ck_assert_int_eq(snow_actor_kill(w.target), 0);
	atomic_store(&kill_sent, true);
	finish();
	ck_assert(atomic_load(&fn_returned));
	ck_assert(!atomic_load(&after_call));
}
END_TEST

/* ---- shutdown, outside actors, errors ---- */

static void
long_caller(const void *arg)
{
	void *got = NULL;

	(void)arg;
	EXPECT(snow_blocking(sleep_300ms, (void *)1, &got) == 0);
	EXPECT((uintptr_t)got == 2);
	atomic_fetch_add(&done, 1);
}

START_TEST(shutdown_waits_for_calls)
{
	struct snow_rt_stats st;

	start(2);
	spawn_ok(long_caller, NULL, 0, SNOW_PRIO_NORMAL);
	finish();		/* not ended as blocked for ever */
	st = stats_ok();
	ck_assert_uint_eq(st.blocked_ended, 0);
	ck_assert_int_eq(atomic_load(&done), 1);
}
END_TEST

static void *
which_thread(void *arg)
{
	*(pthread_t *)arg = pthread_self();
	return arg;
}

START_TEST(outside_actors_the_call_runs_on_the_calling_thread)
{
	pthread_t ran;
	void *got = NULL;

	ck_assert_int_eq(snow_blocking(which_thread, &ran, &got), 0);
	ck_assert_ptr_eq(got, &ran);
	ck_assert(pthread_equal(ran, pthread_self()));
	ck_assert_int_eq(snow_blocking(NULL, NULL, NULL), EINVAL);
}
END_TEST

START_TEST(a_bad_pool_size_fails_init)
{
	static const char *const bad[] = { "0", "abc", "-1", "1025", " 4" };
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		setenv("SNOW_BLOCKING_THREADS", bad[i], 1);
		ck_assert_msg(snow_rt_init_actor(1) == EINVAL, "\"%s\"",
		    bad[i]);
	}
	setenv("SNOW_BLOCKING_THREADS", "1024", 1);
	init_ok(1);
	unsetenv("SNOW_BLOCKING_THREADS");
	run_ok();
}
END_TEST

static Suite *
blocking_suite(void)
{
	Suite *s = suite_create("blocking");
	TCase *tc = tcase_create("blocking");

	tcase_set_timeout(tc, TIMEOUT);
	tcase_add_test(tc, the_callers_worker_runs_other_actors_meanwhile);
	tcase_add_test(tc, calls_queue_on_a_small_pool_and_none_is_lost);
	tcase_add_test(tc, a_caller_killed_in_a_call_ends_once_it_returns);
	tcase_add_test(tc, shutdown_waits_for_calls);
	tcase_add_test(tc, outside_actors_the_call_runs_on_the_calling_thread);
	tcase_add_test(tc, a_bad_pool_size_fails_init);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(blocking_suite());
}
