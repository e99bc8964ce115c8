/*
 * Helpers for a Check test's own thread: runtime calls that must succeed,
 * failing the test with the errno when they do not, a sleep, a clock and
 * a wait for an actor to park.
 */
#ifndef SN_TESTS_SNOW_OK_H
#define SN_TESTS_SNOW_OK_H

#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <snow/runtime.h>

static inline void
init_ok(uint32_t workers)
{
	int err = snow_rt_init_actor(workers);

	ck_assert_msg(err == 0, "snow_rt_init_actor(%u): %s", workers,
	    strerror(err));
}

static inline void
run_ok(void)
{
	int err = snow_rt_run_scheduler();

	ck_assert_msg(err == 0, "snow_rt_run_scheduler: %s", strerror(err));
}

static inline uint64_t
spawn_ok(snow_actor_fn fn, const void *args, uint64_t size, uint8_t prio)
{
	uint64_t pid = snow_actor_spawn(fn, args, size, prio);

	ck_assert_msg(pid != 0, "snow_actor_spawn: %s", strerror(errno));
	return pid;
}

static inline struct snow_rt_stats
stats_ok(void)
{
	struct snow_rt_stats st;

	ck_assert_int_eq(snow_rt_stats(&st), 0);
	return st;
}

/* Sleeps the calling thread for ms milliseconds, through signals. */
static inline void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* CLOCK_MONOTONIC, in seconds. */
static inline double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * Until pid is parked (SNOW_PROC_WAITING), polling every millisecond for
 * at most seconds; fails the test if it is not by then.  For a test that
 * must not go on before an actor reached its wait: a fixed sleep let a
 * slow actor (valgrind, a loaded machine) get there after the next step.
 */
static inline void
wait_parked(uint64_t pid, double seconds)
{
	struct snow_process_info info;
	double end = now() + seconds;
	int err;

	while ((err = snow_process_info(pid, &info)) == 0 &&
	    info.state != SNOW_PROC_WAITING && now() < end)
		sleep_ms(1);
	ck_assert_int_eq(err, 0);
	ck_assert_uint_eq(info.state, SNOW_PROC_WAITING);
}

#endif /* SN_TESTS_SNOW_OK_H */
