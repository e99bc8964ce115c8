/*
 * The public contract of snow-rt, one Check test per promise.
 *
 * Each test starts and stops its own runtime, so the suite also passes with
 * CK_FORK=no, where every test runs in one process one after another.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <snow/runtime.h>

#include "run_suite.h"
#include "snow_ok.h"
#include "test_env.h"

#define TIMEOUT 120

/* ---- spawning and running ---- */

static _Atomic int ran;

static void
count_run(const void *arg)
{
	(void)arg;
	atomic_fetch_add(&ran, 1);
}

START_TEST(spawn_gives_distinct_pids)
{
	uint64_t pids[10];
	int i, j;

	atomic_store(&ran, 0);
	init_ok(2);
	for (i = 0; i < 10; i++)
		pids[i] = spawn_ok(count_run, NULL, 0, SNOW_PRIO_NORMAL);
	run_ok();
	for (i = 0; i < 10; i++)
		for (j = i + 1; j < 10; j++)
			ck_assert_uint_ne(pids[i], pids[j]);
	for (i = 1; i < 10; i++)
		ck_assert_uint_gt(pids[i], pids[i - 1]);
	ck_assert_int_eq(atomic_load(&ran), 10);
}
END_TEST

static _Atomic int one_done;

static void
one_actor(const void *arg)
{
	int *v = (int *)arg;

	*v = 42;
	atomic_store(&one_done, 1);
}

START_TEST(one_actor_runs_to_completion)
{
	int value = 0;

	atomic_store(&one_done, 0);
	init_ok(1);
	spawn_ok(one_actor, &value, 0, SNOW_PRIO_NORMAL);
	run_ok();
	ck_assert_int_eq(atomic_load(&one_done), 1);
	ck_assert_int_eq(value, 42);
}
END_TEST

#define HUNDRED 100
static _Atomic int runs[HUNDRED];

static void
mark_run(const void *arg)
{
	atomic_fetch_add(&runs[*(const int *)arg], 1);
}

START_TEST(hundred_actors_run_exactly_once)
{
	struct snow_rt_stats st;
	int i;

	for (i = 0; i < HUNDRED; i++)
		atomic_store(&runs[i], 0);
	init_ok(2);
	for (i = 0; i < HUNDRED; i++)
		spawn_ok(mark_run, &i, sizeof(i), SNOW_PRIO_NORMAL);
	run_ok();
	for (i = 0; i < HUNDRED; i++)
		ck_assert_msg(atomic_load(&runs[i]) == 1,
		    "actor %d ran %d times", i, atomic_load(&runs[i]));
	ck_assert_int_eq(snow_rt_stats(&st), 0);
	ck_assert_uint_eq(st.spawned, HUNDRED);
	ck_assert_uint_eq(st.exited, HUNDRED);
}
END_TEST

/* ---- work stealing ---- */

#define STEAL_CHILDREN 400
static pthread_t seen_threads[STEAL_CHILDREN];
static _Atomic int seen_count, two_threads;
static _Atomic unsigned long first_thread;

/*
 * Holds its worker until a child has run on another thread (or 50 ms have
 * passed), so the other worker must steal to make progress, however slow
 * the machine or the tool the test runs under.
 */
static void
busy_child(const void *arg)
{
	double end = now() + 0.05;
	int i = atomic_fetch_add(&seen_count, 1);
	unsigned long self = (unsigned long)pthread_self(), first = 0;

	(void)arg;
	seen_threads[i] = pthread_self();
	if (!atomic_compare_exchange_strong(&first_thread, &first, self) &&
	    first != self)
		atomic_store(&two_threads, 1);
	while (!atomic_load(&two_threads) && now() < end)
		;
}

static void
spawn_children(const void *arg)
{
	int i;

	(void)arg;
	for (i = 0; i < STEAL_CHILDREN; i++)
		spawn_ok(busy_child, NULL, 0, SNOW_PRIO_NORMAL);
}

START_TEST(actors_spread_over_workers_by_stealing)
{
	struct snow_rt_stats st;
	int i, distinct = 1;

	atomic_store(&seen_count, 0);
	atomic_store(&two_threads, 0);
	atomic_store(&first_thread, 0);
	init_ok(2);
	/* The children land on one worker's deque: the other must steal. */
	spawn_ok(spawn_children, NULL, 0, SNOW_PRIO_NORMAL);
	run_ok();
	ck_assert_int_eq(atomic_load(&seen_count), STEAL_CHILDREN);
	for (i = 1; i < STEAL_CHILDREN; i++)
		if (!pthread_equal(seen_threads[i], seen_threads[0]))
			distinct = 2;
	ck_assert_int_eq(snow_rt_stats(&st), 0);
	ck_assert_msg(distinct == 2, "every actor ran on one thread");
	ck_assert_uint_gt(st.steals, 0);
	ck_assert_uint_eq(st.workers_used, 2);
}
END_TEST

/* ---- preemption ---- */

static _Atomic int stop_spinning;
static _Atomic uint64_t spins;

static void
spinner(const void *arg)
{
	(void)arg;
	while (!atomic_load_explicit(&stop_spinning, memory_order_relaxed)) {
		atomic_fetch_add_explicit(&spins, 1, memory_order_relaxed);
		snow_reduction_check();
	}
}

static void
stopper(const void *arg)
{
	(void)arg;
	atomic_store(&stop_spinning, 1);
}

START_TEST(reduction_check_prevents_starvation)
{
	struct snow_rt_stats st;

	atomic_store(&stop_spinning, 0);
	atomic_store(&spins, 0);
	init_ok(1);
	spawn_ok(spinner, NULL, 0, SNOW_PRIO_NORMAL);
	spawn_ok(stopper, NULL, 0, SNOW_PRIO_NORMAL);
	run_ok();	/* hangs, and times out, if the spinner starves stopper */
	ck_assert_int_eq(snow_rt_stats(&st), 0);
	ck_assert_uint_ge(st.preemptions, 1);
	ck_assert_uint_ge(atomic_load(&spins), SNOW_REDUCTIONS - 1);
}
END_TEST

static void
yielder(const void *arg)
{
	int i;

	for (i = 0; i < 1000; i++)
		snow_actor_yield();
	atomic_fetch_add(&ran, *(const int *)arg);
}

START_TEST(explicit_yield_resumes)
{
	struct snow_rt_stats st;
	int i;

	atomic_store(&ran, 0);
	init_ok(2);
	for (i = 1; i <= 10; i++)
		spawn_ok(yielder, &i, sizeof(i), SNOW_PRIO_NORMAL);
	run_ok();
	ck_assert_int_eq(atomic_load(&ran), 55);
	ck_assert_int_eq(snow_rt_stats(&st), 0);
	ck_assert_uint_ge(st.switches, 10 * 1001);
}
END_TEST

/* ---- snow_actor_self ---- */

struct self_report {
	uint64_t seen;
};

static void
report_self(const void *arg)
{
	struct self_report *r = (struct self_report *)arg;

	r->seen = snow_actor_self();
}

static void *
unrelated_thread(void *arg)
{
	*(uint64_t *)arg = snow_actor_self() + 1000;
	return NULL;
}

START_TEST(actor_self_everywhere)
{
	struct self_report r = { 0 };
	uint64_t pid, main_pid, other = 12345;
	pthread_t t;

	ck_assert_uint_eq(snow_actor_self(), 0);	/* not running yet */
	init_ok(2);
	main_pid = snow_actor_self();
	ck_assert_uint_ne(main_pid, 0);
	pid = spawn_ok(report_self, &r, 0, SNOW_PRIO_NORMAL);
	ck_assert_int_eq(pthread_create(&t, NULL, unrelated_thread, &other), 0);
	pthread_join(t, NULL);
	run_ok();
	ck_assert_uint_eq(r.seen, pid);
	ck_assert_uint_ne(pid, main_pid);
	ck_assert_uint_eq(other, 1000);		/* 0 on an unrelated thread */
	ck_assert_uint_eq(snow_actor_self(), 0);	/* shut down */
}
END_TEST

/* ---- arguments ---- */

struct big_args {
	unsigned char bytes[1000];
};

static _Atomic int args_ok;

static void
check_small(const void *arg)
{
	const uint64_t *v = arg;

	if (v[0] == 0x1111 && v[1] == 0x2222)
		atomic_fetch_add(&args_ok, 1);
}

static void
check_big(const void *arg)
{
	const struct big_args *b = arg;
	int i;

	for (i = 0; i < 1000; i++)
		if (b->bytes[i] != (unsigned char)i)
			return;
	atomic_fetch_add(&args_ok, 1);
}

static const char passthrough_marker[] = "untouched";

static void
check_passthrough(const void *arg)
{
	if (arg == passthrough_marker)
		atomic_fetch_add(&args_ok, 1);
}

static void
check_null(const void *arg)
{
	if (arg == NULL)
		atomic_fetch_add(&args_ok, 1);
}

START_TEST(spawn_copies_arguments)
{
	uint64_t small[2] = { 0x1111, 0x2222 };
	struct big_args *big = malloc(sizeof(*big));
	int i;

	ck_assert_ptr_nonnull(big);
	for (i = 0; i < 1000; i++)
		big->bytes[i] = (unsigned char)i;
	atomic_store(&args_ok, 0);
	init_ok(2);
	spawn_ok(check_small, small, sizeof(small), SNOW_PRIO_NORMAL);
	small[0] = small[1] = 0xdead;		/* must not reach the actor */
	spawn_ok(check_big, big, sizeof(*big), SNOW_PRIO_NORMAL);
	memset(big, 0xee, sizeof(*big));
	free(big);
	spawn_ok(check_passthrough, passthrough_marker, 0, SNOW_PRIO_NORMAL);
	spawn_ok(check_null, NULL, 0, SNOW_PRIO_LOW);
	run_ok();
	ck_assert_int_eq(atomic_load(&args_ok), 4);
}
END_TEST

/* ---- errors ---- */

START_TEST(spawn_before_init_fails)
{
	errno = 0;
	ck_assert_uint_eq(snow_actor_spawn(count_run, NULL, 0, 1), 0);
	ck_assert_int_eq(errno, EPERM);
	ck_assert_int_eq(snow_rt_run_scheduler(), EPERM);
}
END_TEST

START_TEST(spawn_rejects_bad_arguments)
{
	char buf[16] = { 0 };

	init_ok(1);
	errno = 0;
	ck_assert_uint_eq(snow_actor_spawn(NULL, NULL, 0, 1), 0);
	ck_assert_int_eq(errno, EINVAL);
	errno = 0;
	ck_assert_uint_eq(snow_actor_spawn(count_run, NULL, 0, 3), 0);
	ck_assert_int_eq(errno, EINVAL);
	errno = 0;
	ck_assert_uint_eq(snow_actor_spawn(count_run, NULL, 0, 255), 0);
	ck_assert_int_eq(errno, EINVAL);
	errno = 0;
	ck_assert_uint_eq(snow_actor_spawn(count_run, NULL, 8, 1), 0);
	ck_assert_int_eq(errno, EINVAL);
	errno = 0;
	ck_assert_uint_eq(snow_actor_spawn(count_run, buf, 1ull << 63, 1), 0);
	ck_assert_int_eq(errno, EINVAL);
	errno = 0;
	ck_assert_uint_eq(snow_actor_spawn(count_run, buf, 64ull << 20, 1), 0);
	ck_assert_int_eq(errno, EINVAL);
	/* The runtime still works. */
	atomic_store(&ran, 0);
	spawn_ok(count_run, buf, sizeof(buf), SNOW_PRIO_NORMAL);
	run_ok();
	ck_assert_int_eq(atomic_load(&ran), 1);
}
END_TEST

START_TEST(spawn_after_shutdown_fails)
{
	init_ok(1);
	run_ok();
	errno = 0;
	ck_assert_uint_eq(snow_actor_spawn(count_run, NULL, 0, 1), 0);
	ck_assert_int_eq(errno, EPERM);
	ck_assert_int_eq(snow_rt_run_scheduler(), EPERM);
}
END_TEST

START_TEST(init_rejects_absurd_worker_count)
{
	ck_assert_int_eq(snow_rt_init_actor(SNOW_MAX_SCHEDULERS + 1), EINVAL);
	ck_assert_int_eq(snow_rt_init_actor(UINT32_MAX), EINVAL);
	errno = 0;
	ck_assert_uint_eq(snow_actor_spawn(count_run, NULL, 0, 1), 0);
	ck_assert_int_eq(errno, EPERM);
}
END_TEST

static _Atomic int nested_err_run, nested_err_init;

static void
calls_run_inside(const void *arg)
{
	(void)arg;
	atomic_store(&nested_err_run, snow_rt_run_scheduler());
	atomic_store(&nested_err_init, snow_rt_init_actor(1));
}

START_TEST(run_and_init_inside_actor_fail)
{
	init_ok(1);
	spawn_ok(calls_run_inside, NULL, 0, SNOW_PRIO_NORMAL);
	run_ok();
	ck_assert_int_eq(atomic_load(&nested_err_run), EDEADLK);
	ck_assert_int_eq(atomic_load(&nested_err_init), EDEADLK);
}
END_TEST

static void *
check_outside(void *arg)
{
	int i;

	(void)arg;
	for (i = 0; i < 100000; i++)
		snow_reduction_check();
	snow_actor_yield();
	return NULL;
}

START_TEST(reduction_check_outside_actors_is_noop)
{
	pthread_t t;
	int i;

	for (i = 0; i < 100000; i++)	/* before any runtime */
		snow_reduction_check();
	init_ok(1);
	for (i = 0; i < 100000; i++)	/* on the main process */
		snow_reduction_check();
	snow_actor_yield();
	ck_assert_int_eq(pthread_create(&t, NULL, check_outside, NULL), 0);
	pthread_join(t, NULL);
	atomic_store(&ran, 0);
	spawn_ok(count_run, NULL, 0, SNOW_PRIO_NORMAL);
	run_ok();
	ck_assert_int_eq(atomic_load(&ran), 1);
}
END_TEST

START_TEST(stats_rejects_null)
{
	ck_assert_int_eq(snow_rt_stats(NULL), EINVAL);
}
END_TEST

/* ---- init and shutdown ---- */

START_TEST(init_twice_changes_nothing)
{
	struct snow_rt_stats st;
	uint64_t main_pid;

	init_ok(2);
	main_pid = snow_actor_self();
	init_ok(1);
	ck_assert_uint_eq(snow_actor_self(), main_pid);
	ck_assert_int_eq(snow_rt_stats(&st), 0);
	ck_assert_uint_eq(st.workers, 2);
	run_ok();
}
END_TEST

START_TEST(init_run_init_again)
{
	uint64_t first, second;
	int round;

	for (round = 0; round < 3; round++) {
		atomic_store(&ran, 0);
		init_ok(2);
		first = spawn_ok(count_run, NULL, 0, SNOW_PRIO_NORMAL);
		second = spawn_ok(count_run, NULL, 0, SNOW_PRIO_NORMAL);
		ck_assert_uint_gt(second, first);
		run_ok();
		ck_assert_int_eq(atomic_load(&ran), 2);
	}
}
END_TEST

static void *
outside_spawner(void *arg)
{
	int i;

	(void)arg;
	for (i = 0; i < 1000; i++)
		if (snow_actor_spawn(count_run, NULL, 0, SNOW_PRIO_NORMAL) == 0)
			return (void *)1;
	return NULL;
}

START_TEST(spawn_from_unrelated_threads)
{
	pthread_t t[4];
	void *failed;
	int i;

	atomic_store(&ran, 0);
	init_ok(2);
	for (i = 0; i < 4; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, outside_spawner,
		    NULL), 0);
	for (i = 0; i < 4; i++) {
		pthread_join(t[i], &failed);
		ck_assert_ptr_null(failed);
	}
	run_ok();
	ck_assert_int_eq(atomic_load(&ran), 4000);
}
END_TEST

/* ---- many actors alive at once ---- */

/*
 * ThreadSanitizer tracks every actor context as a fiber and dies beyond
 * 8128 threads and fibers, so a TSan build holds fewer actors at once;
 * under valgrind, which runs one thread at a time, 100,000 actors yielding
 * while they wait for the last to arrive take hours, so it holds fewer too.
 */
#if defined(__SANITIZE_THREAD__)
#define ALIVE_MAX 5000
#else
#define ALIVE_MAX 100000
#endif
static _Atomic int arrived, released, max_alive, alive_now;

/*
 * Without guard markers (kernels before 6.13, and qemu-user, which does
 * not follow MADV_GUARD_INSTALL) each stack and its guard are mappings
 * of their own, and vm.max_map_count stops spawns (ENOMEM) near 30,000
 * live stacks, as README documents: there the test holds what that mode
 * can, with a margin for the rest of the process (guard_vma_stacks()).
 */
static int
alive_target(void)
{
	long n = RUNNING_ON_VALGRIND ? 5000 : ALIVE_MAX;

	if (!guard_markers_probe() && n > guard_vma_stacks()) {
		n = guard_vma_stacks();
		fprintf(stderr, "check_runtime: no guard markers: %ld actors "
		    "alive at once (vm.max_map_count %ld)\n", n,
		    max_map_count());
	}
	return (int)n;
}

static void
parked_actor(const void *arg)
{
	volatile unsigned char frame[1024];
	int i, n;

	for (i = 0; i < (int)sizeof(frame); i++)
		frame[i] = (unsigned char)(i + *(const int *)arg);
	n = atomic_fetch_add(&alive_now, 1) + 1;
	for (int m = atomic_load(&max_alive); n > m &&
	    !atomic_compare_exchange_weak(&max_alive, &m, n);)
		;
	atomic_fetch_add(&arrived, 1);
	while (!atomic_load(&released))
		snow_actor_yield();
	for (i = 0; i < (int)sizeof(frame); i++)
		if (frame[i] != (unsigned char)(i + *(const int *)arg))
			return;		/* stack was corrupted: not counted */
	atomic_fetch_sub(&alive_now, 1);
}

START_TEST(hundred_thousand_actors_alive)
{
	int i, alive = alive_target();

	atomic_store(&arrived, 0);
	atomic_store(&released, 0);
	atomic_store(&max_alive, 0);
	atomic_store(&alive_now, 0);
	init_ok(2);
	for (i = 0; i < alive; i++)
		spawn_ok(parked_actor, &i, sizeof(i), SNOW_PRIO_NORMAL);
	while (atomic_load(&arrived) < alive)
		usleep(1000);
	atomic_store(&released, 1);
	run_ok();
	ck_assert_int_eq(atomic_load(&max_alive), alive);
	ck_assert_int_eq(atomic_load(&alive_now), 0);
}
END_TEST

/* ---- priorities ---- */

static _Atomic int order_next;
static int order_of[102];

static void
record_order(const void *arg)
{
	order_of[*(const int *)arg] = atomic_fetch_add(&order_next, 1);
}

static void
spawn_normals_then_high(const void *arg)
{
	int i;

	(void)arg;
	for (i = 0; i < 100; i++)
		spawn_ok(record_order, &i, sizeof(i), SNOW_PRIO_NORMAL);
	i = 100;
	spawn_ok(record_order, &i, sizeof(i), SNOW_PRIO_HIGH);
	i = 101;
	spawn_ok(record_order, &i, sizeof(i), SNOW_PRIO_LOW);
}

START_TEST(high_priority_overtakes_normal)
{
	atomic_store(&order_next, 0);
	init_ok(1);
	/* One worker, busy in the spawner until all 102 are queued. */
	spawn_ok(spawn_normals_then_high, NULL, 0, SNOW_PRIO_NORMAL);
	run_ok();
	ck_assert_int_eq(atomic_load(&order_next), 102);
	/*
	 * High first, but for the shares of the lower classes (see pick()
	 * in scheduler.c): the worker's pick count, which idle polls move
	 * too, may make the first pick one of normal's or low's, never
	 * both before high.  So high is among the first three of 102.
	 */
	ck_assert_int_le(order_of[100], 2);
}
END_TEST

static _Atomic int low_ran;
static _Atomic long stream_spawned;

static void
low_actor(const void *arg)
{
	(void)arg;
	atomic_store(&low_ran, 1);
}

static void
stream_child(const void *arg)
{
	int i;

	(void)arg;
	for (i = 0; i < 100; i++)
		snow_reduction_check();
}

static void
normal_stream(const void *arg)
{
	(void)arg;
	/* A steady stream of normal work; bounded so a starved low
	 * actor fails the test instead of hanging it. */
	while (!atomic_load(&low_ran) && atomic_load(&stream_spawned) < 2000000) {
		spawn_ok(stream_child, NULL, 0, SNOW_PRIO_NORMAL);
		atomic_fetch_add(&stream_spawned, 1);
		snow_actor_yield();
	}
}

START_TEST(low_priority_not_starved)
{
	atomic_store(&low_ran, 0);
	atomic_store(&stream_spawned, 0);
	init_ok(1);
	spawn_ok(normal_stream, NULL, 0, SNOW_PRIO_NORMAL);
	spawn_ok(normal_stream, NULL, 0, SNOW_PRIO_NORMAL);
	usleep(20000);		/* let the stream get going */
	spawn_ok(low_actor, NULL, 0, SNOW_PRIO_LOW);
	run_ok();
	ck_assert_int_eq(atomic_load(&low_ran), 1);
	ck_assert_int_lt(atomic_load(&stream_spawned), 2000000);
}
END_TEST

/* ---- idle workers sleep ---- */

/*
 * Wait until the workers have stopped spinning: 100 ms that cost under
 * 10 ms of CPU, within 10 s (stretched by slack()).  Each spins through
 * SN_IDLE_SPINS empty picks before it sleeps, about 0.5 ms natively but
 * tens of milliseconds under valgrind, and longer when the machine is
 * busy with other tests; no fixed sleep covers that everywhere.  A
 * runtime whose workers never sleep still fails the test below.
 */
static void
wait_workers_settled(void)
{
	double end = now() + 10 * slack(), c0;

	do {
		c0 = cpu_now();
		usleep(100000);
	} while (cpu_now() - c0 >= 0.01 && now() < end);
}

START_TEST(idle_workers_sleep_and_wake)
{
	double cpu0, cpu1;

	init_ok(2);
	wait_workers_settled();
	cpu0 = cpu_now();
	usleep(500000);
	cpu1 = cpu_now();
	/* Two spinning workers would burn about 1 s of CPU here. */
	ck_assert_msg(cpu1 - cpu0 < 0.1, "idle runtime used %.3f s of CPU",
	    cpu1 - cpu0);
	atomic_store(&ran, 0);
	spawn_ok(count_run, NULL, 0, SNOW_PRIO_NORMAL);
	while (atomic_load(&ran) == 0)
		usleep(100);	/* hangs, and times out, if nobody wakes */
	run_ok();
}
END_TEST

static Suite *
runtime_suite(void)
{
	Suite *s = suite_create("runtime");
	TCase *tc;

	tc = tcase_create("spawn");
	tcase_set_timeout(tc, TIMEOUT);
	tcase_add_test(tc, spawn_gives_distinct_pids);
	tcase_add_test(tc, one_actor_runs_to_completion);
	tcase_add_test(tc, hundred_actors_run_exactly_once);
	tcase_add_test(tc, spawn_copies_arguments);
	tcase_add_test(tc, actor_self_everywhere);
	tcase_add_test(tc, spawn_from_unrelated_threads);
	tcase_add_test(tc, hundred_thousand_actors_alive);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_set_timeout(tc, TIMEOUT);
	tcase_add_test(tc, spawn_before_init_fails);
	tcase_add_test(tc, spawn_rejects_bad_arguments);
	tcase_add_test(tc, spawn_after_shutdown_fails);
	tcase_add_test(tc, init_rejects_absurd_worker_count);
	tcase_add_test(tc, run_and_init_inside_actor_fail);
	tcase_add_test(tc, reduction_check_outside_actors_is_noop);
	tcase_add_test(tc, stats_rejects_null);
	suite_add_tcase(s, tc);

	tc = tcase_create("lifecycle");
	tcase_set_timeout(tc, TIMEOUT);
	tcase_add_test(tc, init_twice_changes_nothing);
	tcase_add_test(tc, init_run_init_again);
	tcase_add_test(tc, idle_workers_sleep_and_wake);
	suite_add_tcase(s, tc);

	tc = tcase_create("scheduling");
	tcase_set_timeout(tc, TIMEOUT);
	tcase_add_test(tc, actors_spread_over_workers_by_stealing);
	tcase_add_test(tc, reduction_check_prevents_starvation);
	tcase_add_test(tc, explicit_yield_resumes);
	tcase_add_test(tc, high_priority_overtakes_normal);
	tcase_add_test(tc, low_priority_not_starved);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(runtime_suite());
}
