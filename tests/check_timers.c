/*
 * Timers: snow_timer_sleep() parks for at least its time and frees the
 * worker meanwhile; snow_timer_send_after() fires in deadline order, and
 * its messages to actors gone by then are dropped and counted.  Split
 * from check_messaging.c; the helpers are in actor_msg.h.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <snow/runtime.h>

#include "actor_msg.h"
#include "run_suite.h"
#include "snow_ok.h"
#include "test_env.h"

#define TIMEOUT 120

/* ================================================================== */
/* Timers */

static double sl_slept, sl_woke_at, sl_helper_sent_at, sl_zero_elapsed;
static _Atomic int sl_steps, sl_sleepers_ok;

/*
 * The sleep the disturber's messages must land in: 150 ms, stretched by
 * slack().  The disturber sends 30 ms after its READY; a fixed 150 ms
 * left it 120 ms, which a loaded machine or valgrind can take away.
 */
static int64_t
sl_sleep_ms(void)
{
	return (int64_t)(150 * slack());
}

static void
sleep_actor(const void *arg)
{
	uint64_t i;
	struct cmd c;
	double t0;

	(void)arg;
	t0 = now();
	snow_timer_sleep(0);
	snow_timer_sleep(-5);
	sl_zero_elapsed = now() - t0;
	/* The disturber runs now, and sends 30 ms into the sleep. */
	if (!a_recv_cmd(WAIT_MS, CMD_READY, &c))
		return;
	t0 = now();
	snow_timer_sleep(sl_sleep_ms());	/* messages arrive meanwhile */
	sl_woke_at = now();
	sl_slept = sl_woke_at - t0;
	for (i = 1; i <= 3; i++)
		if (!recv_u64_is(WAIT_MS, i, "a message sent during a sleep"))
			return;
	atomic_fetch_add(&sl_steps, 1);
}

static void
sleep_disturber(const void *arg)
{
	uint64_t to = *(const uint64_t *)arg, i;

	a_send_cmd(to, CMD_READY, 0, 0);
	snow_timer_sleep(30);
	for (i = 1; i <= 3; i++)
		a_send(to, &i, sizeof(i));
	sl_helper_sent_at = now();
	atomic_fetch_add(&sl_steps, 1);
}

static void
short_sleeper(const void *arg)
{
	int64_t ms = *(const int64_t *)arg;
	double t0 = now(), slept;

	snow_timer_sleep(ms);
	slept = now() - t0;
	A_CHECK(slept >= (double)ms / 1000, "sleep(%" PRId64 ") took %.4f s",
	    ms, slept);
	A_CHECK(slept < 5.0 * slack(), "sleep(%" PRId64 ") took %.4f s", ms,
	    slept);
	atomic_fetch_add(&sl_sleepers_ok, 1);
}

static double thread_slept;

static void *
sleeping_thread(void *arg)
{
	double t0 = now();

	(void)arg;
	snow_timer_sleep(30);
	thread_slept = now() - t0;
	return NULL;
}

#define SLEEPERS 100

START_TEST(timer_sleep_parks_for_at_least_the_time)
{
	uint64_t pid;
	int64_t ms;
	double t0, main_slept, pre_init_slept;
	pthread_t t;
	int i;

	reset_fails();
	atomic_store(&sl_steps, 0);
	atomic_store(&sl_sleepers_ok, 0);
	sl_slept = sl_woke_at = sl_helper_sent_at = sl_zero_elapsed = -1;
	thread_slept = -1;
	t0 = now();
	snow_timer_sleep(20);		/* no runtime: the thread sleeps */
	pre_init_slept = now() - t0;
	init_ok(2);
	pid = spawn_ok(sleep_actor, NULL, 0, SNOW_PRIO_NORMAL);
	spawn_ok(sleep_disturber, &pid, sizeof(pid), SNOW_PRIO_NORMAL);
	for (i = 0; i < SLEEPERS; i++) {
		ms = 1 + i % 40;
		spawn_ok(short_sleeper, &ms, sizeof(ms), SNOW_PRIO_NORMAL);
	}
	ck_assert_int_eq(pthread_create(&t, NULL, sleeping_thread, NULL), 0);
	t0 = now();
	snow_timer_sleep(50);		/* the main process sleeps too */
	main_slept = now() - t0;
	pthread_join(t, NULL);
	run_ok();
	assert_no_fails();
	ck_assert_int_eq(atomic_load(&sl_steps), 2);
	ck_assert_int_eq(atomic_load(&sl_sleepers_ok), SLEEPERS);
	ck_assert_msg(sl_zero_elapsed >= 0 && sl_zero_elapsed < 1.0,
	    "sleep(0) and sleep(-5) took %.4f s", sl_zero_elapsed);
	ck_assert_msg(sl_slept >= sl_sleep_ms() / 1000.0 &&
	    sl_slept < 5.0 * slack(), "sleep(%" PRId64 ") took %.4f s",
	    sl_sleep_ms(), sl_slept);
	ck_assert_msg(sl_helper_sent_at < sl_woke_at, "the messages were not "
	    "sent during the sleep (sent %.4f s after it ended)",
	    sl_helper_sent_at - sl_woke_at);
	ck_assert_msg(main_slept >= 0.050 && main_slept < 5.0 * slack(),
	    "sleep(50) on main took %.4f s", main_slept);
	ck_assert_msg(thread_slept >= 0.030 && thread_slept < 5.0 * slack(),
	    "sleep(30) on a thread took %.4f s", thread_slept);
	ck_assert_msg(pre_init_slept >= 0.020 && pre_init_slept < 5.0 * slack(),
	    "sleep(20) before init took %.4f s", pre_init_slept);
}
END_TEST

/* With one worker, others run while an actor sleeps. */
static double fw_other_done_at, fw_woke_at;

static void
note_done(const void *arg)
{
	(void)arg;
	fw_other_done_at = now();
}

static void
sleep_one_worker(const void *arg)
{
	(void)arg;
	a_spawn(note_done, NULL, 0);
	snow_timer_sleep(100);
	fw_woke_at = now();
}

START_TEST(timer_sleep_frees_the_worker)
{
	reset_fails();
	fw_other_done_at = fw_woke_at = 0;
	init_ok(1);
	spawn_ok(sleep_one_worker, NULL, 0, SNOW_PRIO_NORMAL);
	run_ok();
	assert_no_fails();
	ck_assert_msg(fw_other_done_at > 0 && fw_woke_at > 0, "did not run");
	ck_assert_msg(fw_other_done_at < fw_woke_at, "the other actor ran "
	    "only after the sleep (%.4f s after)", fw_other_done_at -
	    fw_woke_at);
}
END_TEST

static _Atomic int sa_steps;

static void
send_after_actor(const void *arg)
{
	uint64_t self = snow_actor_self(), delays[3] = { 80, 20, 50 };
	uint64_t want[3] = { 20, 50, 80 }, i, v;
	char buf[8] = "before";
	const struct snow_msg *m;
	const void *p;
	double t0, at;
	int err;

	(void)arg;
	/* different delays: deadline order */
	t0 = now();
	for (i = 0; i < 3; i++) {
		err = snow_timer_send_after(self, (int64_t)delays[i],
		    &delays[i], sizeof(delays[i]));
		A_CHECK(err == 0, "send_after: %s", strerror(err));
	}
	for (i = 0; i < 3; i++) {
		if ((p = a_recv_data(WAIT_MS, sizeof(v))) == NULL)
			return;
		at = now() - t0;
		memcpy(&v, p, sizeof(v));
		A_CHECK(v == want[i], "timer #%" PRIu64 " to arrive was the %"
		    PRIu64 " ms one, expected %" PRIu64 " ms", i, v, want[i]);
		A_CHECK(at >= (double)v / 1000, "the %" PRIu64 " ms timer "
		    "fired after %.4f s", v, at);
	}
	atomic_fetch_add(&sa_steps, 1);

	/* the same delay: the order they were set */
	for (i = 0; i < 5; i++) {
		err = snow_timer_send_after(self, 30, &i, sizeof(i));
		A_CHECK(err == 0, "send_after: %s", strerror(err));
	}
	for (i = 0; i < 5; i++)
		if (!recv_u64_is(WAIT_MS, i, "timers with the same delay"))
			return;
	atomic_fetch_add(&sa_steps, 1);

	/* ms <= 0: at once */
	v = 7;
	err = snow_timer_send_after(self, 0, &v, sizeof(v));
	A_CHECK(err == 0, "send_after(0): %s", strerror(err));
	if (!recv_u64_is(0, 7, "send_after with 0 ms, then receive(0)"))
		return;
	v = 8;
	err = snow_timer_send_after(self, -5, &v, sizeof(v));
	A_CHECK(err == 0, "send_after(-5): %s", strerror(err));
	if (!recv_u64_is(0, 8, "send_after with -5 ms, then receive(0)"))
		return;
	/* an immediate one is not held back by a pending longer one */
	v = 100;
	snow_timer_send_after(self, 60, &v, sizeof(v));
	v = 0;
	snow_timer_send_after(self, 0, &v, sizeof(v));
	if (!recv_u64_is(WAIT_MS, 0, "immediate after a pending timer") ||
	    !recv_u64_is(WAIT_MS, 100, "the pending timer"))
		return;
	atomic_fetch_add(&sa_steps, 1);

	/* the body is copied when the timer is set */
	err = snow_timer_send_after(self, 10, buf, sizeof(buf));
	A_CHECK(err == 0, "send_after: %s", strerror(err));
	memcpy(buf, "after!", 7);
	m = snow_actor_receive(WAIT_MS);
	A_CHECK(m != NULL && m->tag == SNOW_MSG_DATA && m->len == 8 &&
	    memcmp(m->data, "before", 7) == 0, "send_after did not copy the "
	    "body when set");
	err = snow_timer_send_after(self, 10, NULL, 5);
	A_CHECK(err == EINVAL, "send_after(NULL, 5): %d", err);
	atomic_fetch_add(&sa_steps, 1);
}

static double sa_main_arrived;

static void
wait_main_timer(const void *arg)
{
	(void)arg;
	if (recv_u64_is(-1, 1234, "send_after from main"))
		sa_main_arrived = now();
}

START_TEST(send_after_fires_in_deadline_order)
{
	uint64_t pid, v = 1234;
	double set_at;

	reset_fails();
	atomic_store(&sa_steps, 0);
	sa_main_arrived = 0;
	init_ok(2);
	spawn_ok(send_after_actor, NULL, 0, SNOW_PRIO_NORMAL);
	pid = spawn_ok(wait_main_timer, NULL, 0, SNOW_PRIO_NORMAL);
	set_at = now();
	ck_assert_int_eq(snow_timer_send_after(pid, 60, &v, sizeof(v)), 0);
	v = 0;		/* copied already */
	/* At once: the actor waits for ever, with a timer pending. */
	run_ok();
	assert_no_fails();
	ck_assert_int_eq(atomic_load(&sa_steps), 4);
	ck_assert_msg(sa_main_arrived - set_at >= 0.060 &&
	    sa_main_arrived - set_at < 5.0, "a 60 ms timer set by main "
	    "fired after %.4f s", sa_main_arrived - set_at);
	ck_assert_uint_eq(stats_ok().blocked_ended, 0);
}
END_TEST

/* Timers to PIDs not alive when they fire are dropped and counted. */
static _Atomic int sad_done;

static void
wait_quit(const void *arg)
{
	struct cmd c;

	(void)arg;
	a_recv_cmd(WAIT_MS, CMD_STOP, &c);
}

static void
send_after_to_dead(const void *arg)
{
	uint64_t d, v = 5;
	int err;

	(void)arg;
	snow_actor_trap_exit();
	d = a_spawn(wait_quit, NULL, 0);
	a_link(d);
	/* Armed while d lives, fires after it ended. */
	err = snow_timer_send_after(d, 300, &v, sizeof(v));
	A_CHECK(err == 0, "send_after: %s", strerror(err));
	a_send_cmd(d, CMD_STOP, 0, 0);
	a_expect_exit(WAIT_MS, d, SNOW_EXIT_NORMAL);
	/* Armed after it ended, and to a PID never used. */
	err = snow_timer_send_after(d, 20, &v, sizeof(v));
	A_CHECK(err == 0, "send_after to the dead: %s", strerror(err));
	err = snow_timer_send_after(NEVER_USED_PID, 10, &v, sizeof(v));
	A_CHECK(err == 0, "send_after to a PID never used: %s",
	    strerror(err));
	err = snow_timer_send_after(d, 0, &v, sizeof(v));
	A_CHECK(err == 0, "send_after(0) to the dead: %s", strerror(err));
	/* Stay alive until they have all fired. */
	snow_timer_sleep(450);
	atomic_store(&sad_done, 1);
}

START_TEST(send_after_to_the_dead_is_dropped)
{
	struct snow_rt_stats st;
	uint64_t v = 9;

	reset_fails();
	atomic_store(&sad_done, 0);
	init_ok(2);
	spawn_ok(send_after_to_dead, NULL, 0, SNOW_PRIO_NORMAL);
	/* From main, to a PID never used. */
	ck_assert_int_eq(snow_timer_send_after(NEVER_USED_PID, 10, &v,
	    sizeof(v)), 0);
	run_ok();
	assert_no_fails();
	ck_assert_int_eq(atomic_load(&sad_done), 1);
	st = stats_ok();
	ck_assert_uint_eq(st.dropped, 5);
}
END_TEST

static Suite *
timers_suite(void)
{
	Suite *s = suite_create("timers");
	TCase *tc;

	tc = tcase_create("timers");
	tcase_set_timeout(tc, TIMEOUT);
	tcase_add_test(tc, timer_sleep_parks_for_at_least_the_time);
	tcase_add_test(tc, timer_sleep_frees_the_worker);
	tcase_add_test(tc, send_after_fires_in_deadline_order);
	tcase_add_test(tc, send_after_to_the_dead_is_dropped);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(timers_suite());
}
