/*
 * The promises of include/snow/runtime.h at their edges: calls racing
 * init and shutdown, priorities under load from above, threads that spawn
 * and end by the thousand, timers on a worker held by an actor that never
 * yields, a thousand workers, very long timeouts and bad SNOW_STACK_SIZE
 * values.  Each was broken once; each test failed then.  Misuse of the
 * process around the runtime (fork, pthread_exit, signal handlers) is in
 * check_process_misuse.c.
 *
 * As in check_messaging.c, actors and helper threads never call
 * ck_assert: they count what went wrong, and the test's own thread checks
 * the counts.
 *
 * Environment: SNOW_TEST_SCALE_DOWN=1 (also implied under valgrind and
 * ThreadSanitizer) lowers round and thread counts; the checks stay.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
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

#define TIMEOUT 240

static void
nop_actor(const void *arg)
{
	(void)arg;
}

/* Waits for a message that never comes: ended as blocked at shutdown. */
static void
forever_actor(const void *arg)
{
	(void)arg;
	(void)snow_actor_receive(-1);
}

/* ---- 1. Calls that race init and shutdown ---- */

static _Atomic bool race_stop;
static _Atomic long race_bad;		/* a call failed with the wrong errno */
static _Atomic int race_bad_errno;	/* the last wrong errno, or -1 */
static _Atomic long race_accepted;	/* spawns that returned a PID */
static _Atomic long race_ran;		/* actors that ran to their end */
static _Atomic int race_running;	/* actors inside their function */
static _Atomic uint64_t race_last_pid;
static size_t race_big_size;		/* bytes of each big spawn's args */
static unsigned char *race_big;

static void
race_bad_if(bool wrong)
{
	if (wrong)
		atomic_fetch_add(&race_bad, 1);
}

/* A call's error was not one it documents: say which. */
static void
race_bad_errno_if(bool wrong, int err)
{
	if (wrong)
		atomic_store(&race_bad_errno, err);
	race_bad_if(wrong);
}

static void
race_actor(const void *arg)
{
	(void)arg;
	atomic_fetch_add(&race_running, 1);
	snow_actor_yield();
	(void)snow_actor_receive(0);
	atomic_fetch_add(&race_ran, 1);
	atomic_fetch_sub(&race_running, 1);
}

/* Its arguments must arrive whole: the copy raced a shutdown once. */
static void
race_big_actor(const void *arg)
{
	const unsigned char *a = arg;

	atomic_fetch_add(&race_running, 1);
	race_bad_if(a[0] != 0x5a || a[race_big_size / 2] != 0x5a ||
	    a[race_big_size - 1] != 0x5a);
	atomic_fetch_add(&race_ran, 1);
	atomic_fetch_sub(&race_running, 1);
}

/* A spawn is taken, or refused because the runtime is down or stopping. */
static void
race_spawned(uint64_t pid)
{
	int err = errno;

	if (pid != 0) {
		atomic_fetch_add(&race_accepted, 1);
		atomic_store(&race_last_pid, pid);
	} else {
		race_bad_errno_if(err != EPERM && err != EAGAIN, err);
	}
}

/*
 * Spawners work in bursts of at most most actors, then wait for them to
 * end and pause: shutdown waits for every actor, so spawning without a
 * pause would hold it off for ever (and fill memory); the pauses, of
 * varying length, let the races fall at every point of init and stop.
 */
static bool
race_room(long most)
{
	static _Atomic unsigned seed = 1;
	unsigned r;

	if (atomic_load(&race_accepted) - atomic_load(&race_ran) < most)
		return !atomic_load(&race_stop);
	while (atomic_load(&race_accepted) != atomic_load(&race_ran)) {
		if (atomic_load(&race_stop))
			return false;
		sched_yield();
	}
	r = atomic_fetch_add(&seed, 0x9e3779b9u) * 2654435761u;
	usleep(r >> 24);	/* 0-255 us */
	return !atomic_load(&race_stop);
}

static void *
race_spawner(void *arg)
{
	unsigned char args[100];
	unsigned i = 0;

	(void)arg;
	memset(args, 7, sizeof(args));
	while (race_room(64)) {
		/* Inline and heap-copied arguments, every priority. */
		race_spawned(snow_actor_spawn(race_actor, args,
		    i % 2 ? sizeof(args) : 8, (uint8_t)(i % 3)));
		i++;
	}
	return NULL;
}

static void *
race_big_spawner(void *arg)
{
	(void)arg;
	while (race_room(2))
		race_spawned(snow_actor_spawn(race_big_actor, race_big,
		    race_big_size, SNOW_PRIO_NORMAL));
	return NULL;
}

/* Every other entry point, with its documented errors only. */
static void *
race_caller(void *arg)
{
	unsigned i = 0;
	int err;

	(void)arg;
	while (!atomic_load(&race_stop)) {
		uint64_t pid = atomic_load(&race_last_pid) - (i % 4);
		struct snow_rt_stats st;

		err = snow_actor_send(pid, "m", 1);
		race_bad_errno_if(err != 0 && err != EPERM, err);
		err = snow_timer_send_after(pid, 1 + i % 3, "t", 1);
		race_bad_errno_if(err != 0 && err != EPERM, err);
		err = snow_actor_kill(1000000000000ull + i);
		race_bad_errno_if(err != ESRCH && err != EPERM, err);
		race_bad_if(snow_actor_whereis("nobody", 6) != 0);
		err = errno;
		race_bad_errno_if(err != ESRCH && err != EPERM, err);
		race_bad_if(snow_rt_stats(&st) != 0);
		race_bad_if(snow_actor_self() != 0);
		race_bad_if(snow_actor_receive(0) != NULL || errno != EPERM);
		race_bad_if(snow_actor_link(pid) != EPERM);
		race_bad_if(snow_actor_register("x", 1) != EPERM);
		snow_actor_yield();		/* a no-op out here */
		snow_reduction_check();
		i++;
	}
	return NULL;
}

#define RACE_VICTIMS 64

/*
 * Wait until a victim killed earlier is gone: a kill of it then fails
 * with ESRCH (or EPERM once the runtime is down).  Without this the
 * killer spawned faster than the workers could end its victims, most of
 * all with the slower ucontext switch, and their stacks filled memory.
 */
static void
race_victim_gone(uint64_t pid)
{
	int err;

	while ((err = snow_actor_kill(pid)) == 0 && !atomic_load(&race_stop))
		sched_yield();
	race_bad_errno_if(err != 0 && err != ESRCH && err != EPERM, err);
}

/* A victim is spawned and killed at once, from outside, 64 at most
 * still ending at any time. */
static void *
race_killer(void *arg)
{
	uint64_t victims[RACE_VICTIMS] = { 0 };
	unsigned i = 0;

	(void)arg;
	while (!atomic_load(&race_stop)) {
		uint64_t *slot = &victims[i++ % RACE_VICTIMS], pid;
		int err;

		if (*slot != 0)
			race_victim_gone(*slot);
		*slot = pid = snow_actor_spawn(forever_actor, NULL, 0,
		    SNOW_PRIO_NORMAL);
		if (pid == 0) {
			err = errno;
			race_bad_errno_if(err != EPERM && err != EAGAIN, err);
			continue;
		}
		err = snow_actor_kill(pid);
		/* ESRCH: a shutdown ended it as blocked first. */
		race_bad_errno_if(err != 0 && err != ESRCH && err != EPERM,
		    err);
	}
	return NULL;
}

/*
 * Init and run, rounds times, while threads call in.  After each run no
 * actor of that runtime may still be running, and its counts must agree;
 * at the end every spawn that returned a PID has run to its end.
 */
static void
race_rounds(unsigned rounds, bool big)
{
	void *(*fns[])(void *) = { race_spawner, race_caller, race_killer,
	    race_big_spawner };
	unsigned nthreads = big ? 4 : 3, r, mismatched = 0, still_running = 0;
	pthread_t threads[4];
	unsigned i;

	atomic_store(&race_stop, false);
	atomic_store(&race_bad, 0);
	atomic_store(&race_bad_errno, -1);
	atomic_store(&race_accepted, 0);
	atomic_store(&race_ran, 0);
	atomic_store(&race_running, 0);
	atomic_store(&race_last_pid, 1);
	for (i = 0; i < nthreads; i++)
		ck_assert_int_eq(pthread_create(&threads[i], NULL, fns[i],
		    NULL), 0);
	for (r = 0; r < rounds; r++) {
		struct snow_rt_stats st;

		init_ok(2);
		race_spawned(snow_actor_spawn(race_actor, NULL, 0,
		    SNOW_PRIO_NORMAL));
		run_ok();
		still_running += atomic_load(&race_running) != 0;
		st = stats_ok();
		mismatched += st.spawned != st.exited;
	}
	atomic_store(&race_stop, true);
	for (i = 0; i < nthreads; i++)
		pthread_join(threads[i], NULL);
	ck_assert_msg(still_running == 0,
	    "%u of %u runs returned with an actor still running",
	    still_running, rounds);
	ck_assert_msg(mismatched == 0,
	    "%u of %u runs stopped with spawned != exited", mismatched, rounds);
	ck_assert_msg(atomic_load(&race_bad) == 0,
	    "%ld calls failed with an undocumented error (the last: %d, %s), "
	    "or big arguments arrived damaged", atomic_load(&race_bad),
	    atomic_load(&race_bad_errno), atomic_load(&race_bad_errno) < 0 ?
	    "none" : strerror(atomic_load(&race_bad_errno)));
	ck_assert_msg(atomic_load(&race_accepted) == atomic_load(&race_ran),
	    "%ld spawns accepted but %ld ran", atomic_load(&race_accepted),
	    atomic_load(&race_ran));
	ck_assert_int_gt(atomic_load(&race_accepted), (long)rounds);
}

START_TEST(init_races_every_entry_point)
{
	race_rounds(scaled_down() ? 200 : 600, false);
}
END_TEST

/* Big copies widen the window: the copy ran on after the pool was
 * unmapped, with 256 MiB stacks and 200 MB arguments, in 1-3 rounds. */
START_TEST(init_races_big_spawns)
{
	bool small = true;	/* 200 MB copies took minutes a round here */

	race_big_size = small ? 16u << 20 : 200u << 20;
	race_big = malloc(race_big_size);
	ck_assert_ptr_nonnull(race_big);
	memset(race_big, 0x5a, race_big_size);
	/* Valgrind's address space cannot hold the seventy-odd stacks of
	 * 256 MiB the spawners keep alive at once (spawns fail with ENOMEM
	 * there); 64 MiB stacks still take the 16 MB copies. */
	setenv("SNOW_STACK_SIZE", RUNNING_ON_VALGRIND ? "64M" : "256M", 1);
	race_rounds(10, true);
	unsetenv("SNOW_STACK_SIZE");
	free(race_big);
	race_big = NULL;
}
END_TEST

/* ---- 4. Lower priorities under load from above ---- */

static _Atomic bool prio_stop;
static _Atomic long prio_steps;

static void
prio_spinner(const void *arg)
{
	(void)arg;
	while (!atomic_load(&prio_stop))
		snow_reduction_check();
}

static void
prio_stepper(const void *arg)
{
	(void)arg;
	while (!atomic_load(&prio_stop)) {
		atomic_fetch_add(&prio_steps, 1);
		snow_reduction_check();
	}
}

/*
 * As many spinners of priority hog as workers keep every worker busy; an
 * actor of priority starved must still make progress.
 */
static void
prio_share(unsigned workers, uint8_t hog, uint8_t starved)
{
	const long want = 20000;
	double end;
	unsigned i;
	long steps;

	atomic_store(&prio_stop, false);
	atomic_store(&prio_steps, 0);
	init_ok(workers);
	for (i = 0; i < workers; i++)
		spawn_ok(prio_spinner, NULL, 0, hog);
	sleep_ms(50);		/* the spinners hold every worker */
	spawn_ok(prio_stepper, NULL, 0, starved);
	end = now() + 20.0 * slack();
	while (atomic_load(&prio_steps) < want && now() < end)
		sleep_ms(10);
	steps = atomic_load(&prio_steps);
	atomic_store(&prio_stop, true);
	run_ok();
	ck_assert_msg(steps >= want, "priority %u under %u priority-%u "
	    "spinners: %ld steps, want %ld", starved, workers, hog, steps,
	    want);
}

START_TEST(low_runs_under_high_load)
{
	prio_share(2, SNOW_PRIO_HIGH, SNOW_PRIO_LOW);
}
END_TEST

START_TEST(normal_runs_under_high_load)
{
	prio_share(2, SNOW_PRIO_HIGH, SNOW_PRIO_NORMAL);
}
END_TEST

START_TEST(low_runs_under_high_load_on_one_worker)
{
	prio_share(1, SNOW_PRIO_HIGH, SNOW_PRIO_LOW);
}
END_TEST

START_TEST(low_runs_under_normal_load)
{
	prio_share(2, SNOW_PRIO_NORMAL, SNOW_PRIO_LOW);
}
END_TEST

/* ---- 5. Threads that spawn and end ---- */

static void *
churn_thread(void *arg)
{
	uint64_t *pid = arg;

	*pid = snow_actor_spawn(nop_actor, NULL, 0, SNOW_PRIO_NORMAL);
	return NULL;
}

/* A thread per request must not strand the stacks its spawn cached. */
START_TEST(thread_churn_keeps_stacks_flat)
{
	unsigned n = scaled_down() ? 4000 : 40000, i, failed = 0;
	struct snow_rt_stats st;

	init_ok(2);
	for (i = 0; i < n; i++) {
		uint64_t pid = 0;
		pthread_t t;

		ck_assert_int_eq(pthread_create(&t, NULL, churn_thread, &pid),
		    0);
		pthread_join(t, NULL);
		failed += pid == 0;
	}
	st = stats_ok();
	run_ok();
	ck_assert_uint_eq(failed, 0);
	/* Worker caches hold up to 256 each; the pool trades 32 at once. */
	ck_assert_msg(st.stacks_mapped <= 2048,
	    "%u threads that spawned one actor each left %llu stacks mapped",
	    n, (unsigned long long)st.stacks_mapped);
}
END_TEST

/* ---- 7-9. Timers ---- */

static _Atomic bool hog_stop;
static _Atomic uint64_t hog_pid;
static double hog_took;
static int hog_err;

static void
hog_actor(const void *arg)
{
	double end;

	(void)arg;
	(void)snow_actor_receive(-1);
	/* Holds its worker: no snow_reduction_check(), ever. */
	end = now() + 100.0;
	while (!atomic_load(&hog_stop) && now() < end)
		;
}

static void
hog_waiter(const void *arg)
{
	const void *m;
	double t;

	(void)arg;
	(void)snow_actor_receive(-1);
	/* Woken by us, the hog runs next on this worker, as we park. */
	(void)snow_actor_send(atomic_load(&hog_pid), "go", 2);
	t = now();
	m = snow_actor_receive(50);
	hog_err = m == NULL ? snow_errno() : 0;
	hog_took = now() - t;
	atomic_store(&hog_stop, true);
}

/* A due timer fires while a worker is free, whoever holds its own. */
START_TEST(timer_fires_behind_a_hog)
{
	uint64_t waiter;

	atomic_store(&hog_stop, false);
	hog_took = -1;
	init_ok(2);
	atomic_store(&hog_pid, spawn_ok(hog_actor, NULL, 0, SNOW_PRIO_NORMAL));
	waiter = spawn_ok(hog_waiter, NULL, 0, SNOW_PRIO_NORMAL);
	sleep_ms(100);		/* both parked, the workers asleep */
	ck_assert_int_eq(snow_actor_send(waiter, "go", 2), 0);
	run_ok();
	ck_assert_int_eq(hog_err, ETIMEDOUT);
	ck_assert_msg(hog_took >= 0.049 && hog_took < 2.0 * slack(),
	    "receive(50) behind a hog returned after %.3f s", hog_took);
}
END_TEST

static void *
run_in_thread(void *arg)
{
	int *err = arg;

	*err = snow_rt_run_scheduler();
	return NULL;
}

/* Shutdown in a thread of its own; true if it returned within limit_s. */
static bool
run_within(double limit_s, pthread_t *t, int *err)
{
	double end = now() + limit_s;

	*err = -1;
	ck_assert_int_eq(pthread_create(t, NULL, run_in_thread, err), 0);
	while (now() < end) {
		if (pthread_tryjoin_np(*t, NULL) == 0)
			return true;
		sleep_ms(10);
	}
	return false;
}

/* A timer that can only drop its message does not hold shutdown. */
START_TEST(shutdown_ignores_timers_to_the_dead)
{
	struct snow_rt_stats st;
	uint64_t dead;
	pthread_t t;
	int err;

	init_ok(2);
	dead = spawn_ok(nop_actor, NULL, 0, SNOW_PRIO_NORMAL);
	while (stats_ok().exited < 1)
		sleep_ms(1);
	spawn_ok(forever_actor, NULL, 0, SNOW_PRIO_NORMAL);
	ck_assert_int_eq(snow_timer_send_after(dead, INT64_MAX, "x", 1), 0);
	ck_assert_int_eq(snow_timer_send_after(dead, 3600 * 1000, "y", 1), 0);
	ck_assert_msg(run_within(30.0 * slack(), &t, &err),
	    "shutdown waited on timers to an actor that had ended");
	ck_assert_int_eq(err, 0);
	st = stats_ok();
	ck_assert_uint_eq(st.blocked_ended, 1);
	ck_assert_uint_ge(st.dropped, 2);
}
END_TEST

static void
receive_forever_ms(const void *arg)
{
	(void)arg;
	(void)snow_actor_receive(SNOW_TIMEOUT_FOREVER_MS);
}

static void
sleep_forever_ms(const void *arg)
{
	(void)arg;
	snow_timer_sleep(SNOW_TIMEOUT_FOREVER_MS);
}

/* One rule: SNOW_TIMEOUT_FOREVER_MS and up is for ever, for every call. */
START_TEST(timeouts_past_forever_are_for_ever)
{
	struct snow_rt_stats st;
	uint64_t rx;
	pthread_t t;
	int err;

	init_ok(2);
	rx = spawn_ok(receive_forever_ms, NULL, 0, SNOW_PRIO_NORMAL);
	spawn_ok(sleep_forever_ms, NULL, 0, SNOW_PRIO_NORMAL);
	ck_assert_int_eq(snow_timer_send_after(rx, SNOW_TIMEOUT_FOREVER_MS,
	    "x", 1), 0);
	ck_assert_uint_eq(stats_ok().dropped, 1);	/* never delivered */
	ck_assert_msg(run_within(30.0 * slack(), &t, &err),
	    "a timeout of SNOW_TIMEOUT_FOREVER_MS held shutdown");
	ck_assert_int_eq(err, 0);
	st = stats_ok();
	ck_assert_uint_eq(st.blocked_ended, 2);
}
END_TEST

static void
receive_long_ms(const void *arg)
{
	(void)arg;
	(void)snow_actor_receive(SNOW_TIMEOUT_FOREVER_MS - 1);
}

/* Anything shorter is a real timer: shutdown waits for it. */
START_TEST(long_timeouts_are_real_timers)
{
	uint64_t pid;
	pthread_t t;
	int err;

	init_ok(2);
	pid = spawn_ok(receive_long_ms, NULL, 0, SNOW_PRIO_NORMAL);
	ck_assert_msg(!run_within(1.0, &t, &err),
	    "shutdown ended an actor whose timer was still to fire");
	ck_assert_uint_eq(stats_ok().blocked_ended, 0);
	ck_assert_int_eq(snow_actor_kill(pid), 0);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	ck_assert_int_eq(err, 0);
}
END_TEST

/* ---- 8. Many workers ---- */

/*
 * What this machine takes to start n threads that each wait once for a
 * condition variable, then wake them all and join them: the part of a
 * runtime's start and stop that no runtime can avoid.  On a virtual
 * machine whose page faults and system calls are dear (and more so
 * under a sanitizer, which maps shadow for every thread) it is seconds
 * for a thousand threads, so a fixed bound would measure the host.
 */
struct bare_threads {
	pthread_mutex_t lock;
	pthread_cond_t go;
	bool released;
};

static void *
bare_thread(void *arg)
{
	struct bare_threads *b = arg;

	pthread_mutex_lock(&b->lock);
	while (!b->released)
		pthread_cond_wait(&b->go, &b->lock);
	pthread_mutex_unlock(&b->lock);
	return NULL;
}

static void
bare_threads_cost(unsigned n, double *cpu, double *wall)
{
	struct bare_threads b = { PTHREAD_MUTEX_INITIALIZER,
	    PTHREAD_COND_INITIALIZER, false };
	pthread_t *t = calloc(n, sizeof(*t));
	double c0 = cpu_now(), w0 = now();
	unsigned i;

	ck_assert_ptr_nonnull(t);
	for (i = 0; i < n; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, bare_thread, &b),
		    0);
	pthread_mutex_lock(&b.lock);
	b.released = true;
	pthread_cond_broadcast(&b.go);
	pthread_mutex_unlock(&b.lock);
	for (i = 0; i < n; i++)
		ck_assert_int_eq(pthread_join(t[i], NULL), 0);
	*cpu = cpu_now() - c0;
	*wall = now() - w0;
	free(t);
}

START_TEST(init_with_1024_workers_is_quick)
{
	/* valgrind runs at most 500 threads. */
	unsigned n = RUNNING_ON_VALGRIND ? 256 : SNOW_MAX_SCHEDULERS;
	double bare_cpu, bare_wall, cpu, wall;

	bare_threads_cost(n, &bare_cpu, &bare_wall);
	cpu = cpu_now();
	wall = now();
	init_ok(n);
	spawn_ok(nop_actor, NULL, 0, SNOW_PRIO_NORMAL);
	run_ok();
	cpu = cpu_now() - cpu;
	wall = now() - wall;
	printf("%u workers: %.2f s of CPU, %.2f s; bare threads: %.2f s, "
	    "%.2f s\n", n, cpu, wall, bare_cpu, bare_wall);
	/*
	 * They once spun probing one another: 6-25 s of CPU, then 40 s to
	 * stop, where bare threads take about 0.25 s.  A worker does more
	 * than a bare thread (its signal stack, its spin before it sleeps:
	 * three times a bare thread's cost under TSan), hence the factor;
	 * the constant is for a fast machine's noise.
	 */
	ck_assert_msg(cpu < 5.0 * bare_cpu + 1.0 * slack() &&
	    wall < 5.0 * bare_wall + 2.0 * slack(),
	    "%u workers: %.2f s of CPU, %.2f s to start and stop "
	    "(%u bare threads: %.2f s of CPU, %.2f s)", n, cpu, wall, n,
	    bare_cpu, bare_wall);
}
END_TEST

/* ---- 11. SNOW_STACK_SIZE ---- */

START_TEST(stack_size_overflow_is_einval)
{
	static const char *bad[] = {
		"18014398509482048K",	/* 2^64 + 64 KiB: wrapped to 64 KiB */
		"17592186044417M",
		"99999999999999999999",
		"-1", "-64K", " 64K", "+64K", "64KB", "1K", "", "K"
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (*bad[i] == '\0')
			continue;	/* empty means the default */
		setenv("SNOW_STACK_SIZE", bad[i], 1);
		ck_assert_msg(snow_rt_init_actor(1) == EINVAL,
		    "SNOW_STACK_SIZE=%s accepted", bad[i]);
	}
	setenv("SNOW_STACK_SIZE", "64K", 1);
	init_ok(1);
	spawn_ok(nop_actor, NULL, 0, SNOW_PRIO_NORMAL);
	run_ok();
	unsetenv("SNOW_STACK_SIZE");
}
END_TEST

static Suite *
edges_suite(void)
{
	Suite *s = suite_create("edges");
	TCase *tc;

	tc = tcase_create("races");
	tcase_set_timeout(tc, TIMEOUT);
	tcase_add_test(tc, init_races_every_entry_point);
	tcase_add_test(tc, init_races_big_spawns);
	suite_add_tcase(s, tc);

	tc = tcase_create("priorities");
	tcase_set_timeout(tc, TIMEOUT);
	tcase_add_test(tc, low_runs_under_high_load);
	tcase_add_test(tc, normal_runs_under_high_load);
	tcase_add_test(tc, low_runs_under_high_load_on_one_worker);
	tcase_add_test(tc, low_runs_under_normal_load);
	suite_add_tcase(s, tc);

	tc = tcase_create("threads");
	tcase_set_timeout(tc, TIMEOUT);
	tcase_add_test(tc, thread_churn_keeps_stacks_flat);
	tcase_add_test(tc, init_with_1024_workers_is_quick);
	suite_add_tcase(s, tc);

	tc = tcase_create("timers");
	tcase_set_timeout(tc, TIMEOUT);
	tcase_add_test(tc, timer_fires_behind_a_hog);
	tcase_add_test(tc, shutdown_ignores_timers_to_the_dead);
	tcase_add_test(tc, timeouts_past_forever_are_for_ever);
	tcase_add_test(tc, long_timeouts_are_real_timers);
	suite_add_tcase(s, tc);

	tc = tcase_create("configuration");
	tcase_set_timeout(tc, TIMEOUT);
	tcase_add_test(tc, stack_size_overflow_is_einval);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(edges_suite());
}
