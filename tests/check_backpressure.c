/*
 * Backpressure (SNOW_MAILBOX_LIMIT): an actor sending to an actor whose
 * mailbox is over the limit is muted until the receiver drains, waits or
 * ends.  What is promised, and checked here: the receiver's mailbox stays
 * near the limit however fast its senders are (and grows without it when
 * the limit is 0); nothing sent is lost; senders that are not actors, and
 * sends to the main process, never wait; a muted actor can be killed and
 * is let go when its receiver ends; and no pattern of actors flooding
 * each other deadlocks: a pair, a ring of three, a receiver answering its
 * senders, a receiver waiting in a selective receive for a message the
 * flood is not.
 *
 * Actors never call ck_assert; they record what they saw with A_CHECK()
 * and the test's thread checks it once the runtime has stopped.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <snow/runtime.h>

#include "actor_check.h"
#include "run_suite.h"
#include "snow_ok.h"
#include "test_env.h"

#define TIMEOUT 300
#define WAIT_MS 60000
#define LIMIT SNOW_MAILBOX_LIMIT_DEFAULT
#define TAG_GO (SNOW_MSG_USER + 1)

/* Messages each flooding actor sends. */
static uint64_t
flood_n(void)
{
	return scaled_down() ? 4000 : 20000;
}

static void
send_u64(uint64_t pid, uint64_t v)
{
	int err = snow_actor_send(pid, &v, sizeof(v));

	A_CHECK(err == 0, "send to %llu: %s", (unsigned long long)pid,
	    strerror(err));
}

/* The next data message's body, or UINT64_MAX (counted as a failure). */
static uint64_t
receive_u64(void)
{
	const struct snow_msg *m = snow_actor_receive(WAIT_MS);
	uint64_t v;

	if (m == NULL || m->len != sizeof(v)) {
		A_CHECK(0, "receive: %s", m ? "not a u64" :
		    strerror(snow_errno()));
		return UINT64_MAX;
	}
	memcpy(&v, m->data, sizeof(v));
	return v;
}

static uint64_t
self_mailbox_len(void)
{
	struct snow_process_info info;

	if (snow_process_info(snow_actor_self(), &info) != 0)
		return UINT64_MAX;
	return info.mailbox_len;
}

static void
env_limit(const char *v)
{
	if (v == NULL)
		unsetenv("SNOW_MAILBOX_LIMIT");
	else
		setenv("SNOW_MAILBOX_LIMIT", v, 1);
}

/* ---- Many senders, one slow receiver ---- */

#define SENDERS 16

static _Atomic uint64_t received, max_len;

static void
max_update(uint64_t len)
{
	uint64_t seen = atomic_load(&max_len);

	while (len > seen && !atomic_compare_exchange_weak(&max_len, &seen,
	    len))
		;
}

/* Sleeps first (while the senders fill its mailbox as far as they are
 * let), then takes every message, looking at its mailbox as it goes. */
static void
slow_receiver(const void *arg)
{
	uint64_t n = *(const uint64_t *)arg, i;

	snow_timer_sleep(200);
	for (i = 0; i < n; i++) {
		if (i % 16 == 0)
			max_update(self_mailbox_len());
		if (receive_u64() == UINT64_MAX)
			return;
		atomic_fetch_add(&received, 1);
	}
}

static void
flood_sender(const void *arg)
{
	uint64_t to = *(const uint64_t *)arg, i;

	for (i = 0; i < flood_n(); i++) {
		send_u64(to, i);
		snow_reduction_check();
	}
}

/* Runs SENDERS floods into one receiver; returns the mutes counted. */
static uint64_t
run_flood(void)
{
	uint64_t total = SENDERS * flood_n(), r;
	int i;

	atomic_store(&received, 0);
	atomic_store(&max_len, 0);
	init_ok(2);
	r = spawn_ok(slow_receiver, &total, sizeof(total), SNOW_PRIO_NORMAL);
	for (i = 0; i < SENDERS; i++)
		spawn_ok(flood_sender, &r, sizeof(r), SNOW_PRIO_NORMAL);
	run_ok();
	assert_no_fails();
	ck_assert_uint_eq(atomic_load(&received), total);
	return stats_ok().mutes;
}

START_TEST(receiver_mailbox_stays_near_the_limit)
{
	uint64_t mutes;

	reset_fails();
	env_limit(NULL);
	mutes = run_flood();
	/* Each sender gets one message past the limit before it is muted,
	 * and one more on a worker that had no spare node yet. */
	ck_assert_msg(atomic_load(&max_len) <= LIMIT + 2 * SENDERS + 4,
	    "mailbox reached %llu with limit %d",
	    (unsigned long long)atomic_load(&max_len), LIMIT);
	ck_assert_uint_gt(mutes, 0);
}
END_TEST

START_TEST(limit_zero_lets_the_mailbox_grow)
{
	uint64_t mutes;

	reset_fails();
	env_limit("0");
	mutes = run_flood();
	env_limit(NULL);
	ck_assert_uint_eq(mutes, 0);
	/* The receiver slept while all of it came in. */
	ck_assert_msg(atomic_load(&max_len) > 4 * LIMIT,
	    "without a limit the mailbox only reached %llu",
	    (unsigned long long)atomic_load(&max_len));
}
END_TEST

START_TEST(a_small_limit_is_kept)
{
	reset_fails();
	env_limit("64");
	(void)run_flood();
	env_limit(NULL);
	ck_assert_msg(atomic_load(&max_len) <= 64 + 2 * SENDERS + 4,
	    "mailbox reached %llu with limit 64",
	    (unsigned long long)atomic_load(&max_len));
}
END_TEST

START_TEST(bad_limits_are_refused)
{
	static const char *bad[] = { "x", "-1", "12k", " 5", "1073741825",
	    "99999999999999999999" };
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		env_limit(bad[i]);
		ck_assert_msg(snow_rt_init_actor(1) == EINVAL,
		    "SNOW_MAILBOX_LIMIT=\"%s\" accepted", bad[i]);
	}
	env_limit("1073741824");
	init_ok(1);
	run_ok();
	env_limit(NULL);
}
END_TEST

/* ---- Who is never muted ---- */

static _Atomic int go_seen;

/* Waits in a selective receive for TAG_GO while data piles up, then
 * takes the data: its count is main's to check. */
static void
gated_receiver(const void *arg)
{
	uint64_t n = *(const uint64_t *)arg, i;
	const struct snow_msg *m = snow_actor_receive_tag(TAG_GO, WAIT_MS);

	A_CHECK(m != NULL, "no go: %s", strerror(snow_errno()));
	atomic_store(&go_seen, 1);
	for (i = 0; i < n; i++) {
		if (receive_u64() == UINT64_MAX)
			return;
		atomic_fetch_add(&received, 1);
	}
}

START_TEST(the_main_thread_is_never_muted)
{
	uint64_t n = 20 * LIMIT, i, r;
	struct snow_process_info info;

	reset_fails();
	env_limit(NULL);
	atomic_store(&received, 0);
	init_ok(2);
	r = spawn_ok(gated_receiver, &n, sizeof(n), SNOW_PRIO_NORMAL);
	for (i = 0; i < n; i++)
		ck_assert_int_eq(snow_actor_send(r, &i, sizeof(i)), 0);
	/* All of it in, none taken: main was not held back by the limit. */
	ck_assert_int_eq(snow_process_info(r, &info), 0);
	ck_assert_uint_eq(info.mailbox_len, n);
	ck_assert_int_eq(snow_actor_send_tag(r, TAG_GO, NULL, 0), 0);
	run_ok();
	assert_no_fails();
	ck_assert_uint_eq(atomic_load(&received), n);
	ck_assert_uint_eq(stats_ok().mutes, 0);
}
END_TEST

/* Sends n messages to one PID as fast as it can, then says so. */
struct burst {
	uint64_t to, n;
};

static _Atomic int burst_done;

static void
burst_sender(const void *arg)
{
	const struct burst *b = arg;
	uint64_t i;

	for (i = 0; i < b->n; i++)
		send_u64(b->to, i);
	atomic_store(&burst_done, 1);
}

START_TEST(sends_to_the_main_process_are_never_muted)
{
	struct burst b = { 0, 10 * LIMIT };
	uint64_t i;
	double t0;

	reset_fails();
	env_limit(NULL);
	atomic_store(&burst_done, 0);
	init_ok(2);
	b.to = snow_actor_self();
	spawn_ok(burst_sender, &b, sizeof(b), SNOW_PRIO_NORMAL);
	/* Main does not receive until the actor is through. */
	t0 = now();
	while (!atomic_load(&burst_done) && now() - t0 < 30 * slack())
		sleep_ms(5);
	ck_assert_msg(atomic_load(&burst_done),
	    "an actor sending to main was held back");
	for (i = 0; i < 10 * LIMIT; i++) {
		const struct snow_msg *m = snow_actor_receive(0);

		ck_assert_ptr_nonnull(m);
	}
	run_ok();
	assert_no_fails();
	ck_assert_uint_eq(stats_ok().mutes, 0);
}
END_TEST

/* ---- No deadlock ---- */

/*
 * Floods the actor named in its TAG_GO message, then takes as many back.
 * The name comes tagged, and is picked out: the actor before it in the
 * ring may start its flood before main has sent it.
 */
static void
flood_then_drain(const void *arg)
{
	const struct snow_msg *m = snow_actor_receive_tag(TAG_GO, WAIT_MS);
	uint64_t to, i;

	(void)arg;
	if (m == NULL || m->len != sizeof(to)) {
		A_CHECK(0, "no peer: %s", m ? "bad size" :
		    strerror(snow_errno()));
		return;
	}
	memcpy(&to, m->data, sizeof(to));
	for (i = 0; i < flood_n(); i++) {
		send_u64(to, i);
		snow_reduction_check();
	}
	for (i = 0; i < flood_n(); i++) {
		if (receive_u64() == UINT64_MAX)
			return;
		atomic_fetch_add(&received, 1);
	}
}

/* n actors in a ring, each flooding the next: none may wait for ever. */
static void
flood_ring(int n, uint32_t workers)
{
	uint64_t pids[8];
	int i;

	reset_fails();
	env_limit(NULL);
	atomic_store(&received, 0);
	init_ok(workers);
	for (i = 0; i < n; i++)
		pids[i] = spawn_ok(flood_then_drain, NULL, 0, SNOW_PRIO_NORMAL);
	for (i = 0; i < n; i++)
		ck_assert_int_eq(snow_actor_send_tag(pids[i], TAG_GO,
		    &pids[(i + 1) % n], sizeof(uint64_t)), 0);
	run_ok();
	assert_no_fails();
	ck_assert_uint_eq(atomic_load(&received), (uint64_t)n * flood_n());
	ck_assert_uint_eq(stats_ok().blocked_ended, 0);
}

START_TEST(two_actors_flooding_each_other)
{
	flood_ring(2, 2);
	flood_ring(2, 1);
}
END_TEST

START_TEST(a_ring_of_three_flooding)
{
	flood_ring(3, 2);
	flood_ring(3, 1);
}
END_TEST

/* Answers every message to the sender it names, until n came. */
static void
echo_receiver(const void *arg)
{
	uint64_t n = *(const uint64_t *)arg, i, from;

	for (i = 0; i < n; i++) {
		if ((from = receive_u64()) == UINT64_MAX)
			return;
		send_u64(from, i);
	}
}

/* Sends all of its messages before it takes any answer. */
static void
echo_sender(const void *arg)
{
	uint64_t to = *(const uint64_t *)arg, me = snow_actor_self(), i;

	for (i = 0; i < flood_n(); i++)
		send_u64(to, me);
	for (i = 0; i < flood_n(); i++) {
		if (receive_u64() == UINT64_MAX)
			return;
		atomic_fetch_add(&received, 1);
	}
}

START_TEST(a_receiver_that_answers_its_senders)
{
	uint64_t total = 4 * flood_n(), r;
	int i;

	reset_fails();
	env_limit(NULL);
	atomic_store(&received, 0);
	init_ok(2);
	r = spawn_ok(echo_receiver, &total, sizeof(total), SNOW_PRIO_NORMAL);
	for (i = 0; i < 4; i++)
		spawn_ok(echo_sender, &r, sizeof(r), SNOW_PRIO_NORMAL);
	run_ok();
	assert_no_fails();
	ck_assert_uint_eq(atomic_load(&received), total);
}
END_TEST

static void
late_go(const void *arg)
{
	uint64_t to = *(const uint64_t *)arg;

	snow_timer_sleep(300);
	A_CHECK(snow_actor_send_tag(to, TAG_GO, NULL, 0) == 0, "go not sent");
}

START_TEST(a_selective_receive_does_not_hold_the_flood)
{
	uint64_t n = flood_n(), r;

	reset_fails();
	env_limit(NULL);
	atomic_store(&received, 0);
	atomic_store(&go_seen, 0);
	init_ok(2);
	r = spawn_ok(gated_receiver, &n, sizeof(n), SNOW_PRIO_NORMAL);
	spawn_ok(flood_sender, &r, sizeof(r), SNOW_PRIO_NORMAL);
	spawn_ok(late_go, &r, sizeof(r), SNOW_PRIO_NORMAL);
	run_ok();
	assert_no_fails();
	ck_assert_int_eq(atomic_load(&go_seen), 1);
	ck_assert_uint_eq(atomic_load(&received), n);
}
END_TEST

/* ---- A muted actor ends ---- */

static _Atomic int sleeper_woke;
static _Atomic int sender_muted;	/* set once the test saw it muted */

/*
 * Holds its mailbox full: it sleeps, then ends without a receive.  Its
 * ms count from when the test saw the sender muted: counted from its
 * start, a sender late to fill the mailbox (a loaded machine, valgrind)
 * was never muted before the receiver ended.  Sleeping does not release
 * muted senders; only a receive's wait or the end does.
 */
static void
sleeping_receiver(const void *arg)
{
	int64_t ms = *(const int64_t *)arg;

	while (!atomic_load(&sender_muted))
		snow_timer_sleep(2);
	snow_timer_sleep(ms);
	atomic_store(&sleeper_woke, 1);
}

/* Waits (bounded) until pid is parked, muted. */
static int
wait_muted(uint64_t pid)
{
	struct snow_process_info info;
	double t0 = now();

	while (now() - t0 < 20 * slack()) {
		if (snow_process_info(pid, &info) == 0 &&
		    info.state == SNOW_PROC_WAITING && stats_ok().mutes > 0)
			return 1;
		sleep_ms(2);
	}
	return 0;
}

/*
 * A receiver that sleeps ms without receiving, and an actor sending it
 * 4 x LIMIT messages, once that sender is muted.  Returns the sender;
 * *receiver is the receiver.
 */
static uint64_t
muted_sender(int64_t ms, uint64_t *receiver)
{
	struct burst b = { 0, 4 * LIMIT };
	uint64_t s;

	reset_fails();
	env_limit(NULL);
	atomic_store(&burst_done, 0);
	atomic_store(&sleeper_woke, 0);
	atomic_store(&sender_muted, 0);
	init_ok(2);
	b.to = spawn_ok(sleeping_receiver, &ms, sizeof(ms), SNOW_PRIO_NORMAL);
	s = spawn_ok(burst_sender, &b, sizeof(b), SNOW_PRIO_NORMAL);
	ck_assert_msg(wait_muted(s), "the sender was never muted");
	atomic_store(&sender_muted, 1);
	*receiver = b.to;
	return s;
}

START_TEST(a_muted_actor_can_be_killed)
{
	struct snow_process_info info;
	uint64_t r, s = muted_sender(60000, &r);
	double t0;

	ck_assert_int_eq(atomic_load(&burst_done), 0);
	ck_assert_int_eq(snow_actor_kill(s), 0);
	t0 = now();
	while (snow_process_info(s, &info) == 0 && now() - t0 < 20 * slack())
		sleep_ms(2);
	ck_assert_int_eq(snow_process_info(s, &info), ESRCH);
	ck_assert_int_eq(atomic_load(&sleeper_woke), 0);
	ck_assert_int_eq(atomic_load(&burst_done), 0);
	ck_assert_int_eq(snow_actor_kill(r), 0);
	run_ok();
}
END_TEST

START_TEST(a_receiver_that_ends_lets_its_senders_go)
{
	uint64_t r;

	(void)muted_sender(300, &r);
	run_ok();
	assert_no_fails();
	ck_assert_int_eq(atomic_load(&sleeper_woke), 1);
	ck_assert_int_eq(atomic_load(&burst_done), 1);
	ck_assert_uint_eq(stats_ok().blocked_ended, 0);
}
END_TEST

static Suite *
backpressure_suite(void)
{
	Suite *s = suite_create("backpressure");
	TCase *tc = tcase_create("backpressure");

	tcase_set_timeout(tc, TIMEOUT);
	tcase_add_test(tc, receiver_mailbox_stays_near_the_limit);
	tcase_add_test(tc, limit_zero_lets_the_mailbox_grow);
	tcase_add_test(tc, a_small_limit_is_kept);
	tcase_add_test(tc, bad_limits_are_refused);
	tcase_add_test(tc, the_main_thread_is_never_muted);
	tcase_add_test(tc, sends_to_the_main_process_are_never_muted);
	tcase_add_test(tc, two_actors_flooding_each_other);
	tcase_add_test(tc, a_ring_of_three_flooding);
	tcase_add_test(tc, a_receiver_that_answers_its_senders);
	tcase_add_test(tc, a_selective_receive_does_not_hold_the_flood);
	tcase_add_test(tc, a_muted_actor_can_be_killed);
	tcase_add_test(tc, a_receiver_that_ends_lets_its_senders_go);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(backpressure_suite());
}
