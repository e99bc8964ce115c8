/*
 * Receives that wait: an empty mailbox, timeouts, parked receivers that
 * use no CPU and are woken from any thread, snow_errno() after a move to
 * another worker, and the end of actors that wait for ever (and that a
 * stale timeout does not delay).  Split from check_messaging.c; the
 * helpers are in actor_msg.h.
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
/* Receive: empty mailbox, timeouts, wake-ups */

static _Atomic int rt_steps;
static double rt_timeout_elapsed, rt_early_elapsed, rt_late_elapsed;
static double rt_after_timeout_elapsed;

struct delayed_sends {
	uint64_t to;
	int64_t first_ms;	/* sleep, then send value 1 */
	int64_t second_ms;	/* sleep again, then send value 2 (if > 0) */
};

static void
delayed_sender(const void *arg)
{
	const struct delayed_sends *d = arg;
	uint64_t v = 1;

	snow_timer_sleep(d->first_ms);
	a_send(d->to, &v, sizeof(v));
	if (d->second_ms > 0) {
		snow_timer_sleep(d->second_ms);
		v = 2;
		a_send(d->to, &v, sizeof(v));
	}
}

static void
receive_timeouts_actor(const void *arg)
{
	uint64_t self = snow_actor_self();
	struct delayed_sends d;
	const struct snow_msg *m;
	double t0;
	char x = 'x';

	(void)arg;
	/* timeout 0 on an empty mailbox */
	a_set_errno(0);
	m = snow_actor_receive(0);
	A_CHECK(m == NULL && a_errno() == EAGAIN, "receive(0) on an empty "
	    "mailbox: %p, errno %d (%s)", (const void *)m, a_errno(),
	    strerror(a_errno()));
	/* a message to oneself is there at once */
	a_send(self, &x, 1);
	m = snow_actor_receive(0);
	A_CHECK(m != NULL && m->tag == SNOW_MSG_DATA && m->len == 1 &&
	    m->data[0] == 'x', "receive(0) after a send to self: %s",
	    m == NULL ? strerror(a_errno()) : "wrong message");
	a_set_errno(0);
	m = snow_actor_receive(0);
	A_CHECK(m == NULL && a_errno() == EAGAIN, "second receive(0): %p, "
	    "errno %d", (const void *)m, a_errno());
	atomic_fetch_add(&rt_steps, 1);

	/* nothing comes: ETIMEDOUT after the timeout */
	t0 = now();
	a_set_errno(0);
	m = snow_actor_receive(50);
	rt_timeout_elapsed = now() - t0;
	A_CHECK(m == NULL && a_errno() == ETIMEDOUT, "receive(50) with nothing "
	    "coming: %p, errno %d (%s)", (const void *)m, a_errno(),
	    strerror(a_errno()));
	atomic_fetch_add(&rt_steps, 1);

	/*
	 * A message arriving at ~20 ms ends receive(500) early; the old
	 * timeout must not then end the following receive(-1), which waits
	 * until the second message at ~720 ms.
	 */
	d.to = self;
	d.first_ms = 20;
	d.second_ms = 700;
	a_spawn(delayed_sender, &d, sizeof(d));
	t0 = now();
	if (!recv_u64_is(500, 1, "receive(500), message at 20 ms"))
		return;
	rt_early_elapsed = now() - t0;
	if (!recv_u64_is(-1, 2, "receive(-1) after an early wake-up"))
		return;
	rt_late_elapsed = now() - t0;
	atomic_fetch_add(&rt_steps, 1);

	/* A message that comes after a timeout is still delivered. */
	d.first_ms = 100;
	d.second_ms = 0;
	a_spawn(delayed_sender, &d, sizeof(d));
	t0 = now();
	a_set_errno(0);
	m = snow_actor_receive(30);
	A_CHECK(m == NULL && a_errno() == ETIMEDOUT, "receive(30) before a "
	    "message at 100 ms: %p, errno %d", (const void *)m, a_errno());
	if (!recv_u64_is(WAIT_MS, 1, "message after a timeout"))
		return;
	rt_after_timeout_elapsed = now() - t0;
	atomic_fetch_add(&rt_steps, 1);
}

START_TEST(receive_empty_and_timeouts)
{
	reset_fails();
	atomic_store(&rt_steps, 0);
	rt_timeout_elapsed = rt_early_elapsed = rt_late_elapsed = -1;
	rt_after_timeout_elapsed = -1;
	init_ok(2);
	spawn_ok(receive_timeouts_actor, NULL, 0, SNOW_PRIO_NORMAL);
	run_ok();
	assert_no_fails();
	ck_assert_int_eq(atomic_load(&rt_steps), 4);
	ck_assert_msg(rt_timeout_elapsed >= 0.050 && rt_timeout_elapsed < 2.0,
	    "receive(50) timed out after %.4f s", rt_timeout_elapsed);
	/*
	 * The sender's clock starts when it runs, which may be before the
	 * receiver's t0 on a loaded machine: only the timeout is a bound
	 * from below.  That receive(-1) got the second message (not NULL)
	 * shows that the stale 500 ms timeout did not end it.
	 */
	ck_assert_msg(rt_early_elapsed >= 0 && rt_early_elapsed < 0.500,
	    "receive(500) with a message at 20 ms returned after %.4f s",
	    rt_early_elapsed);
	ck_assert_msg(rt_late_elapsed >= 0.500 && rt_late_elapsed < 5.0,
	    "receive(-1) for a message at 720 ms returned after %.4f s",
	    rt_late_elapsed);
	ck_assert_msg(rt_after_timeout_elapsed >= 0.030 &&
	    rt_after_timeout_elapsed < 5.0,
	    "message sent at 100 ms received after %.4f s",
	    rt_after_timeout_elapsed);
	ck_assert_uint_eq(stats_ok().blocked_ended, 0);
}
END_TEST

/*
 * errno after a move: an actor parks in receive and is woken by an actor
 * on the other worker, which may move it to that worker.  The contract
 * says receive(0) on an empty mailbox returns NULL with errno EAGAIN, and
 * that actor code reads it with snow_errno(): a plain errno read would go
 * through the address GCC computed for the first errno access in the
 * function (__errno_location() is declared const), which after a move is
 * the errno of the thread the actor left.  snow_errno() must see EAGAIN
 * wherever the actor resumed.
 */
#define ERRNO_ROUNDS 2000

static _Atomic int en_rounds, en_wrong, en_moved, en_first_wrong;
static struct apart en_apart;

static void
errno_echo(const void *arg)
{
	const struct snow_msg *m;
	uint64_t peer;
	const void *p;

	(void)arg;
	spin_apart(&en_apart, 0);
	if ((p = a_recv_data(WAIT_MS, sizeof(peer))) == NULL)
		return;
	memcpy(&peer, p, sizeof(peer));
	for (;;) {
		m = snow_actor_receive(-1);
		if (m == NULL || m->len == 0)
			return;
		a_send(peer, "r", 1);
	}
}

static void
errno_probe(const void *arg)
{
	uint64_t peer = *(const uint64_t *)arg, self = snow_actor_self();
	const void *m;
	unsigned long t0, t1;
	int i;

	/* Start on different workers: the first wake-up crosses over. */
	spin_apart(&en_apart, 1);
	a_send(peer, &self, sizeof(self));
	for (i = 0; i < ERRNO_ROUNDS; i++) {
		t0 = current_thread();
		a_send(peer, "p", 1);
		if (snow_actor_receive(-1) == NULL) {	/* parks */
			actor_fail("errno probe: receive(-1) gave NULL");
			break;
		}
		m = snow_actor_receive(0);		/* empty by now */
		t1 = current_thread();
		if (t0 != t1)
			atomic_fetch_add(&en_moved, 1);
		if (m != NULL || snow_errno() != EAGAIN) {
			if (atomic_fetch_add(&en_wrong, 1) == 0)
				atomic_store(&en_first_wrong, m != NULL ?
				    -1 : snow_errno());
		}
		atomic_fetch_add(&en_rounds, 1);
	}
	a_send(peer, NULL, 0);
}

START_TEST(snow_errno_after_a_move_to_another_worker)
{
	uint64_t echo;

	reset_fails();
	atomic_store(&en_rounds, 0);
	atomic_store(&en_wrong, 0);
	atomic_store(&en_moved, 0);
	atomic_store(&en_first_wrong, 0);
	reset_apart(&en_apart);
	init_ok(2);
	echo = spawn_ok(errno_echo, NULL, 0, SNOW_PRIO_NORMAL);
	spawn_ok(errno_probe, &echo, sizeof(echo), SNOW_PRIO_NORMAL);
	run_ok();
	assert_no_fails();
	ck_assert_int_eq(atomic_load(&en_rounds), ERRNO_ROUNDS);
	ck_assert_msg(atomic_load(&en_wrong) == 0, "receive(0) on an empty "
	    "mailbox: snow_errno() was not EAGAIN in %d of %d rounds (first: "
	    "%d); the actor resumed on another thread in %d rounds",
	    atomic_load(&en_wrong), ERRNO_ROUNDS,
	    atomic_load(&en_first_wrong), atomic_load(&en_moved));
}
END_TEST

/*
 * A parked receiver costs nothing: no CPU, no switches, while main
 * sleeps; then a send from main wakes it.  That the actor gets the
 * message also shows that waiting outside snow_rt_run_scheduler() is not
 * mistaken for waiting for ever.  (park_actor is in actor_msg.h.)
 */
START_TEST(parked_receiver_uses_no_cpu)
{
	struct snow_rt_stats st0, st1;
	double c0, c1, w0, w1;
	uint64_t pid, v = 0xabcdef;

	reset_fails();
	atomic_store(&park_ready, 0);
	atomic_store(&park_done, 0);
	atomic_store(&park_value, 0);
	init_ok(2);
	pid = spawn_ok(park_actor, NULL, 0, SNOW_PRIO_NORMAL);
	ck_assert_int_eq(wait_flag(&park_ready, 1), 1);
	usleep(100000);		/* let it park and the workers settle */
	st0 = stats_ok();
	c0 = cpu_now();
	w0 = now();
	usleep(300000);
	c1 = cpu_now();
	w1 = now();
	st1 = stats_ok();
	ck_assert_int_eq(atomic_load(&park_done), 0);
	ck_assert_int_eq(snow_actor_send(pid, &v, sizeof(v)), 0);
	ck_assert_int_eq(wait_flag(&park_done, 1), 1);
	run_ok();
	assert_no_fails();
	ck_assert_uint_eq(atomic_load(&park_value), v);
	ck_assert_msg(c1 - c0 < 0.5 * (w1 - w0), "a parked receiver: %.3f s "
	    "of CPU in %.3f s", c1 - c0, w1 - w0);
	ck_assert_msg(st1.switches == st0.switches, "switches went from %"
	    PRIu64 " to %" PRIu64 " while the only actor waited",
	    st0.switches, st1.switches);
	ck_assert_uint_eq(stats_ok().blocked_ended, 0);
}
END_TEST

/* A thread that is no part of the runtime wakes a parked receiver. */
#define WAKE_TAIL 1000

static _Atomic uint64_t wake_tail_got;

static void
wake_actor(const void *arg)
{
	uint64_t i;

	(void)arg;
	park_started = now();
	atomic_store(&park_ready, 1);
	if (!recv_u64_is(-1, 0xfeed, "the first message from the thread"))
		return;
	park_woke = now();
	atomic_store(&park_done, 1);
	for (i = 0; i < WAKE_TAIL; i++) {
		if (!recv_u64_is(-1, i, "the thread's stream"))
			return;
		atomic_fetch_add(&wake_tail_got, 1);
	}
}

static void *
waking_thread(void *arg)
{
	uint64_t to = *(uint64_t *)arg, v = 0xfeed, i;
	int err;

	if (wait_flag(&park_ready, 1) != 1) {
		actor_fail("the receiver never started");
		return NULL;
	}
	usleep(100000);
	if ((err = snow_actor_send(to, &v, sizeof(v))) != 0)
		actor_fail("send from a thread: %s", strerror(err));
	for (i = 0; i < WAKE_TAIL; i++) {
		if ((err = snow_actor_send(to, &i, sizeof(i))) != 0) {
			actor_fail("send from a thread: %s", strerror(err));
			break;
		}
		if (i % 100 == 0)
			usleep(1000);	/* let it park again now and then */
	}
	return NULL;
}

START_TEST(thread_wakes_parked_receiver)
{
	uint64_t pid;
	pthread_t t;

	reset_fails();
	atomic_store(&park_ready, 0);
	atomic_store(&park_done, 0);
	atomic_store(&wake_tail_got, 0);
	park_started = park_woke = 0;
	init_ok(2);
	pid = spawn_ok(wake_actor, NULL, 0, SNOW_PRIO_NORMAL);
	ck_assert_int_eq(pthread_create(&t, NULL, waking_thread, &pid), 0);
	pthread_join(t, NULL);	/* done sending before run_scheduler */
	run_ok();
	assert_no_fails();
	ck_assert_int_eq(atomic_load(&park_done), 1);
	ck_assert_uint_eq(atomic_load(&wake_tail_got), WAKE_TAIL);
	ck_assert_msg(park_woke - park_started >= 0.1, "woke after %.4f s, "
	    "before the thread sent", park_woke - park_started);
	ck_assert_uint_eq(stats_ok().blocked_ended, 0);
}
END_TEST

/* ================================================================== */
/* Actors that wait for ever */

#define BLOCKED 5

static _Atomic int bf_passed, bf_timer_got, bf_timeout_got, bf_slept;
static _Atomic int bf_main_timer_got;

static void
wait_forever(const void *arg)
{
	(void)arg;
	snow_actor_receive(-1);
	atomic_fetch_add(&bf_passed, 1);	/* never */
}

static void
wait_for_own_timer(const void *arg)
{
	uint64_t self = snow_actor_self(), v = 42;

	(void)arg;
	A_CHECK(snow_timer_send_after(self, 150, &v, sizeof(v)) == 0,
	    "send_after");
	if (recv_u64_is(-1, 42, "a timer while blocked"))
		atomic_store(&bf_timer_got, 1);
}

static void
wait_with_timeout(const void *arg)
{
	const struct snow_msg *m;

	(void)arg;
	a_set_errno(0);
	m = snow_actor_receive(200);
	A_CHECK(m == NULL && a_errno() == ETIMEDOUT, "receive(200): %p, "
	    "errno %d", (const void *)m, a_errno());
	atomic_store(&bf_timeout_got, 1);
}

static void
sleep_then_flag(const void *arg)
{
	(void)arg;
	snow_timer_sleep(100);
	atomic_store(&bf_slept, 1);
}

static void
wait_for_main_timer(const void *arg)
{
	(void)arg;
	if (recv_u64_is(-1, 77, "a timer from main while blocked"))
		atomic_store(&bf_main_timer_got, 1);
}

START_TEST(blocked_for_ever_actors_are_ended)
{
	struct snow_rt_stats st;
	uint64_t pid, v = 77;
	double t0;
	int i;

	reset_fails();
	atomic_store(&bf_passed, 0);
	atomic_store(&bf_timer_got, 0);
	atomic_store(&bf_timeout_got, 0);
	atomic_store(&bf_slept, 0);
	atomic_store(&bf_main_timer_got, 0);
	init_ok(2);
	for (i = 0; i < BLOCKED; i++)
		spawn_ok(wait_forever, NULL, 0, SNOW_PRIO_NORMAL);
	/* None of these waits for ever: a timer is pending for each. */
	spawn_ok(wait_for_own_timer, NULL, 0, SNOW_PRIO_NORMAL);
	spawn_ok(wait_with_timeout, NULL, 0, SNOW_PRIO_NORMAL);
	spawn_ok(sleep_then_flag, NULL, 0, SNOW_PRIO_NORMAL);
	pid = spawn_ok(wait_for_main_timer, NULL, 0, SNOW_PRIO_NORMAL);
	ck_assert_int_eq(snow_timer_send_after(pid, 120, &v, sizeof(v)), 0);
	t0 = now();
	run_ok();		/* returns: does not hang */
	assert_no_fails();
	ck_assert_int_eq(atomic_load(&bf_passed), 0);
	ck_assert_int_eq(atomic_load(&bf_timer_got), 1);
	ck_assert_int_eq(atomic_load(&bf_timeout_got), 1);
	ck_assert_int_eq(atomic_load(&bf_slept), 1);
	ck_assert_int_eq(atomic_load(&bf_main_timer_got), 1);
	st = stats_ok();
	ck_assert_uint_eq(st.blocked_ended, BLOCKED);
	ck_assert_msg(now() - t0 < 10.0, "run_scheduler took %.3f s",
	    now() - t0);

	/* The count is per runtime; one worker this time. */
	init_ok(1);
	for (i = 0; i < 3; i++)
		spawn_ok(wait_forever, NULL, 0, SNOW_PRIO_NORMAL);
	run_ok();
	ck_assert_int_eq(atomic_load(&bf_passed), 0);
	ck_assert_uint_eq(stats_ok().blocked_ended, 3);
}
END_TEST

/*
 * A timeout abandoned early is no reason to wait: an actor that got its
 * message well before a 60 s timeout, then waits for ever, is ended as
 * blocked at once, not when the stale 60 s timer would have fired.  So is
 * one that first slept (a timer that fired) on another worker.
 */
static void
early_then_forever(const void *arg)
{
	(void)arg;
	if (a_recv_data(60000, 1) == NULL)
		return;
	snow_timer_sleep(5);
	(void)snow_actor_receive(-1);
	atomic_store(&bf_passed, 1);	/* must never get here */
}

static void
poke(const void *arg)
{
	a_send(*(const uint64_t *)arg, "x", 1);
}

START_TEST(stale_timeouts_do_not_delay_the_blocked_check)
{
	uint64_t pid;
	double t0;
	int i;

	reset_fails();
	atomic_store(&bf_passed, 0);
	init_ok(2);
	t0 = now();
	for (i = 0; i < 4; i++) {
		pid = spawn_ok(early_then_forever, NULL, 0, SNOW_PRIO_NORMAL);
		spawn_ok(poke, &pid, sizeof(pid), SNOW_PRIO_NORMAL);
	}
	run_ok();
	assert_no_fails();
	ck_assert_int_eq(atomic_load(&bf_passed), 0);
	ck_assert_uint_eq(stats_ok().blocked_ended, 4);
	ck_assert_msg(now() - t0 < 30.0, "run_scheduler took %.3f s: it "
	    "waited for the stale 60 s timers", now() - t0);
}
END_TEST

static Suite *
receive_wait_suite(void)
{
	Suite *s = suite_create("receive wait");
	TCase *tc;

	tc = tcase_create("receive");
	tcase_set_timeout(tc, TIMEOUT);
	tcase_add_test(tc, receive_empty_and_timeouts);
	tcase_add_test(tc, parked_receiver_uses_no_cpu);
	tcase_add_test(tc, thread_wakes_parked_receiver);
	tcase_add_test(tc, snow_errno_after_a_move_to_another_worker);
	tcase_add_test(tc, blocked_for_ever_actors_are_ended);
	tcase_add_test(tc, stale_timeouts_do_not_delay_the_blocked_check);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(receive_wait_suite());
}
