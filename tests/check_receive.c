/*
 * Selective receive: snow_actor_receive_match(), _tag() and _key(), and
 * tagged sends.  What is promised: the oldest wanted message is taken,
 * the others stay in the order they came and come first to later
 * receives, each new message is looked at once per call, a wait parks
 * until something new comes, and an actor that ends in the middle of it
 * loses nothing its terminate callback could still receive.
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

#define TIMEOUT 120
#define WAIT_MS 20000


/* The program's tags in these tests. */
#define TAG(i)	(SNOW_MSG_USER + (uint64_t)(i))
#define TAG_GO	TAG(99)

/* A message's body as an int, or -1 when it is no int. */
static int
body_int(const struct snow_msg *m)
{
	int v;

	if (m->len != sizeof(v))
		return -1;
	memcpy(&v, m->data, sizeof(v));
	return v;
}

static void
send_int(uint64_t pid, uint64_t tag, int v)
{
	ck_assert_int_eq(snow_actor_send_tag(pid, tag, &v, sizeof(v)), 0);
}

/* ---- Order ---- */

#define ORDER_N 30

/*
 * Waits for TAG_GO past ORDER_N messages tagged TAG(i % 3) with body i,
 * takes the TAG(1) ones, then the rest with plain receives: each group
 * must come in the order sent.
 */
static void
order_actor(const void *arg)
{
	const struct snow_msg *m;
	int i, want;

	(void)arg;
	m = snow_actor_receive_tag(TAG_GO, WAIT_MS);
	A_CHECK(m != NULL && m->tag == TAG_GO, "no go: snow_errno() %d", snow_errno());
	for (want = 1; want < ORDER_N; want += 3) {
		m = snow_actor_receive_tag(TAG(1), 0);
		A_CHECK(m != NULL && body_int(m) == want,
		    "tag 1: wanted %d, got %d", want, m ? body_int(m) : -1);
	}
	m = snow_actor_receive_tag(TAG(1), 0);
	A_CHECK(m == NULL && snow_errno() == EAGAIN, "an eleventh tag 1 message");
	for (i = 0; i < ORDER_N; i++) {
		if (i % 3 == 1)
			continue;
		m = snow_actor_receive(0);
		A_CHECK(m != NULL && body_int(m) == i &&
		    m->tag == TAG(i % 3), "plain: wanted %d, got %d", i,
		    m ? body_int(m) : -1);
	}
	A_CHECK(snow_actor_receive(0) == NULL && snow_errno() == EAGAIN,
	    "a message too many");
}

START_TEST(selective_receive_keeps_the_rest_in_order)
{
	uint64_t pid;
	int i;

	reset_fails();
	init_ok(2);
	pid = spawn_ok(order_actor, NULL, 0, SNOW_PRIO_NORMAL);
	for (i = 0; i < ORDER_N; i++)
		send_int(pid, TAG(i % 3), i);
	send_int(pid, TAG_GO, 0);
	run_ok();
	assert_no_fails();
}
END_TEST

/* ---- Waiting ---- */

/* How often the counting match saw each body, by body. */
#define WAIT_N 200
static _Atomic int seen[WAIT_N + 1];

static int
count_and_want_last(const struct snow_msg *m, void *ctx)
{
	int v = body_int(m);

	(void)ctx;
	if (v >= 0 && v <= WAIT_N)
		atomic_fetch_add(&seen[v], 1);
	return v == WAIT_N;
}

static _Atomic int waiter_ready;

/*
 * One selective receive while main sends WAIT_N messages it does not
 * want, slowly enough that the actor parks between them, then the one
 * it wants; then the unwanted ones with plain receives, in order.
 */
static void
wait_actor(const void *arg)
{
	const struct snow_msg *m;
	int i;

	(void)arg;
	atomic_store(&waiter_ready, 1);
	m = snow_actor_receive_match(count_and_want_last, NULL, WAIT_MS);
	A_CHECK(m != NULL && body_int(m) == WAIT_N, "no match: snow_errno() %d",
	    snow_errno());
	for (i = 0; i < WAIT_N; i++) {
		m = snow_actor_receive(0);
		A_CHECK(m != NULL && body_int(m) == i, "plain: wanted %d", i);
	}
}

START_TEST(a_wait_looks_at_each_new_message_once)
{
	uint64_t pid;
	int i;

	reset_fails();
	for (i = 0; i <= WAIT_N; i++)
		atomic_store(&seen[i], 0);
	atomic_store(&waiter_ready, 0);
	init_ok(2);
	pid = spawn_ok(wait_actor, NULL, 0, SNOW_PRIO_NORMAL);
	while (!atomic_load(&waiter_ready))
		sleep_ms(1);
	for (i = 0; i <= WAIT_N; i++) {
		send_int(pid, TAG(0), i);
		if (i % 20 == 0)
			sleep_ms(2);	/* let it park now and then */
	}
	run_ok();
	for (i = 0; i <= WAIT_N; i++)
		ck_assert_msg(atomic_load(&seen[i]) == 1,
		    "message %d was looked at %d times", i,
		    atomic_load(&seen[i]));
	ck_assert_uint_eq(stats_ok().exited, 1);
	assert_no_fails();
}
END_TEST

/* ---- Keys ---- */

struct keyed {
	uint64_t key;
	int value;
};

#define KEY_N 500

/* Takes KEY_N keyed messages by key, from the last sent to the first. */
static void
key_actor(const void *arg)
{
	const struct snow_msg *m;
	struct keyed k;
	int i;

	(void)arg;
	m = snow_actor_receive_tag(TAG_GO, WAIT_MS);
	A_CHECK(m != NULL, "no go");
	for (i = KEY_N - 1; i >= 0; i--) {
		m = snow_actor_receive_key(TAG(1), 1000 + (uint64_t)i, 0);
		A_CHECK(m != NULL && m->len == sizeof(k), "key %d missing", i);
		if (m == NULL)
			return;
		memcpy(&k, m->data, sizeof(k));
		A_CHECK(k.value == i * 7, "key %d had value %d", i, k.value);
	}
	/* What is left: the short one and the one of another tag. */
	m = snow_actor_receive_key(TAG(1), 1000, 0);
	A_CHECK(m == NULL && snow_errno() == EAGAIN, "a key taken twice");
	m = snow_actor_receive(0);
	A_CHECK(m != NULL && m->tag == TAG(1) && m->len == 3, "short body");
	m = snow_actor_receive(0);
	A_CHECK(m != NULL && m->tag == TAG(2) && m->len == sizeof(k),
	    "other tag");
	A_CHECK(snow_actor_receive(0) == NULL, "a message too many");
}

START_TEST(receive_key_matches_tag_and_first_word)
{
	struct keyed k;
	uint64_t pid;
	int i;

	reset_fails();
	init_ok(2);
	pid = spawn_ok(key_actor, NULL, 0, SNOW_PRIO_NORMAL);
	/* A body shorter than a key never matches, even when it starts
	 * like one; the same key under another tag does not either. */
	ck_assert_int_eq(snow_actor_send_tag(pid, TAG(1), "\xe8\x03\x00", 3),
	    0);
	k.key = 1000;
	k.value = -1;
	ck_assert_int_eq(snow_actor_send_tag(pid, TAG(2), &k, sizeof(k)), 0);
	for (i = 0; i < KEY_N; i++) {
		k.key = 1000 + (uint64_t)i;
		k.value = i * 7;
		ck_assert_int_eq(snow_actor_send_tag(pid, TAG(1), &k,
		    sizeof(k)), 0);
	}
	send_int(pid, TAG_GO, 0);
	run_ok();
	assert_no_fails();
}
END_TEST

/* Links to two actors, hears of both ends, and takes them by PID. */
static void
exit_key_actor(const void *arg)
{
	const uint64_t *pids = arg;
	const struct snow_msg *m;
	const struct snow_exit_msg *e;

	A_CHECK(snow_actor_trap_exit() == 0, "trap_exit");
	A_CHECK(snow_actor_link(pids[0]) == 0, "link 0");
	A_CHECK(snow_actor_link(pids[1]) == 0, "link 1");
	A_CHECK(snow_actor_kill(pids[1]) == 0, "kill 1");
	/* The first to end was pids[1]; ask for pids[0]'s end first. */
	A_CHECK(snow_actor_kill(pids[0]) == 0, "kill 0");
	m = snow_actor_receive_key(SNOW_MSG_EXIT, pids[0], WAIT_MS);
	A_CHECK(m != NULL, "no exit of pids[0]");
	if (m == NULL)
		return;
	e = (const void *)m->data;
	A_CHECK(e->pid == pids[0] && e->reason == SNOW_EXIT_KILLED,
	    "exit of %llu", (unsigned long long)e->pid);
	m = snow_actor_receive(WAIT_MS);
	A_CHECK(m != NULL && m->tag == SNOW_MSG_EXIT, "no exit of pids[1]");
	if (m == NULL)
		return;
	e = (const void *)m->data;
	A_CHECK(e->pid == pids[1], "second exit from %llu",
	    (unsigned long long)e->pid);
}

static void
idle_actor(const void *arg)
{
	(void)arg;
	(void)snow_actor_receive(-1);
}

START_TEST(receive_key_picks_an_exit_by_pid)
{
	uint64_t pids[2];

	reset_fails();
	init_ok(2);
	pids[0] = spawn_ok(idle_actor, NULL, 0, SNOW_PRIO_NORMAL);
	pids[1] = spawn_ok(idle_actor, NULL, 0, SNOW_PRIO_NORMAL);
	spawn_ok(exit_key_actor, pids, sizeof(pids), SNOW_PRIO_NORMAL);
	run_ok();
	ck_assert_uint_eq(stats_ok().exited, 3);
	assert_no_fails();
}
END_TEST

/* ---- Errors ---- */

static int
want_none(const struct snow_msg *m, void *ctx)
{
	(void)m;
	(void)ctx;
	return 0;
}

static _Atomic int nested_errno;

/* Tries to receive from inside a match function. */
static int
receive_inside(const struct snow_msg *m, void *ctx)
{
	const void *got;

	(void)ctx;
	got = snow_actor_receive(0);
	atomic_store(&nested_errno, got == NULL ? snow_errno() : -1);
	got = snow_actor_receive_tag(m->tag, 0);
	if (got != NULL || snow_errno() != EBUSY)
		atomic_store(&nested_errno, -2);
	return 1;
}

static void
errors_actor(const void *arg)
{
	const struct snow_msg *m;
	uint64_t t0;
	int v;

	(void)arg;
	errno = 0;
	A_CHECK(snow_actor_receive_match(NULL, NULL, 0) == NULL &&
	    snow_errno() == EINVAL, "match NULL: snow_errno() %d", snow_errno());
	A_CHECK(snow_actor_send_tag(snow_actor_self(), SNOW_MSG_EXIT, "x",
	    1) == EINVAL, "a runtime tag was accepted");
	A_CHECK(snow_actor_send_tag(snow_actor_self(), SNOW_MSG_USER - 1,
	    "x", 1) == EINVAL, "SNOW_MSG_USER - 1 was accepted");
	A_CHECK(snow_actor_send_tag(snow_actor_self(), TAG(0), NULL, 1) ==
	    EINVAL, "NULL body of 1 byte was accepted");
	/* Unwanted messages: EAGAIN at 0, ETIMEDOUT after a wait, and
	 * they are all still there afterwards. */
	for (v = 0; v < 3; v++)
		A_CHECK(snow_actor_send_tag(snow_actor_self(), TAG(0), &v,
		    sizeof(v)) == 0, "send to self");
	A_CHECK(snow_actor_receive_match(want_none, NULL, 0) == NULL &&
	    snow_errno() == EAGAIN, "timeout 0: snow_errno() %d", snow_errno());
	t0 = (uint64_t)(now() * 1e3);
	A_CHECK(snow_actor_receive_tag(TAG(5), 50) == NULL &&
	    snow_errno() == ETIMEDOUT, "timeout 50: snow_errno() %d", snow_errno());
	A_CHECK((uint64_t)(now() * 1e3) - t0 >= 49, "timeout 50 came early");
	for (v = 0; v < 3; v++) {
		m = snow_actor_receive(0);
		A_CHECK(m != NULL && body_int(m) == v, "unwanted %d lost", v);
	}
	/* A receive inside match. */
	A_CHECK(snow_actor_send_tag(snow_actor_self(), TAG(0), "y", 1) == 0,
	    "send to self");
	m = snow_actor_receive_match(receive_inside, NULL, 0);
	A_CHECK(m != NULL && m->len == 1 && m->data[0] == 'y',
	    "the match was not taken");
}

START_TEST(selective_receive_errors)
{
	reset_fails();
	atomic_store(&nested_errno, 0);
	ck_assert_int_eq(snow_actor_send_tag(1, TAG(0), "x", 1), EPERM);
	errno = 0;
	ck_assert_ptr_null(snow_actor_receive_tag(TAG(0), 0));
	ck_assert_int_eq(snow_errno(), EPERM);
	init_ok(2);
	errno = 0;
	ck_assert_ptr_null(snow_actor_receive_match(want_none, NULL, 0));
	ck_assert_int_eq(snow_errno(), EAGAIN);	/* main's mailbox, empty */
	ck_assert_int_eq(snow_actor_send_tag(snow_actor_self(), 3, "x", 1),
	    EINVAL);
	spawn_ok(errors_actor, NULL, 0, SNOW_PRIO_NORMAL);
	run_ok();
	ck_assert_int_eq(atomic_load(&nested_errno), EBUSY);
	assert_no_fails();
}
END_TEST

/* ---- Ends in the middle ---- */

static _Atomic int term_got[9];
static _Atomic int term_count;

/* Ends the actor when it sees body 5. */
static int
exit_on_five(const struct snow_msg *m, void *ctx)
{
	(void)ctx;
	if (body_int(m) == 5)
		snow_actor_exit(snow_actor_self(), SNOW_EXIT_CUSTOM);
	return 0;
}

/* The terminate callback: what is left in the mailbox, in order. */
static void
term_drain(const void *state, const void *reason)
{
	const struct snow_msg *m;
	int n = 0;

	(void)state;
	A_CHECK(*(const uint8_t *)reason == SNOW_EXIT_CUSTOM, "reason %u",
	    *(const uint8_t *)reason);
	while ((m = snow_actor_receive(0)) != NULL && n < 9)
		atomic_store(&term_got[n++], body_int(m));
	atomic_store(&term_count, n);
}

static void
end_in_match_actor(const void *arg)
{
	(void)arg;
	A_CHECK(snow_actor_set_terminate(snow_actor_self(), term_drain) == 0,
	    "set_terminate");
	(void)snow_actor_receive_tag(TAG_GO, WAIT_MS);
	(void)snow_actor_receive_match(exit_on_five, NULL, WAIT_MS);
	A_CHECK(0, "the match did not end the actor");
}

START_TEST(an_end_inside_match_keeps_the_saved_messages)
{
	static const int want[] = { 0, 1, 2, 3, 4, 5, 6, 7 };
	uint64_t pid;
	size_t i;

	reset_fails();
	atomic_store(&term_count, -1);
	init_ok(2);
	pid = spawn_ok(end_in_match_actor, NULL, 0, SNOW_PRIO_NORMAL);
	for (i = 0; i < 8; i++)
		send_int(pid, TAG(0), (int)i);
	send_int(pid, TAG_GO, 0);
	run_ok();
	/* All saved by the wait for TAG_GO, 5 too while match saw it. */
	ck_assert_int_eq(atomic_load(&term_count), 8);
	for (i = 0; i < 8; i++)
		ck_assert_int_eq(atomic_load(&term_got[i]), want[i]);
	assert_no_fails();
}
END_TEST

/* Parks in a selective receive with messages saved, until killed. */
static void
saved_then_killed(const void *arg)
{
	(void)arg;
	(void)snow_actor_receive_tag(TAG_GO, -1);
	A_CHECK(0, "a selective receive outlived a kill");
}

START_TEST(a_kill_in_a_selective_wait_frees_everything)
{
	uint64_t pids[64];
	size_t i, j;

	reset_fails();
	init_ok(2);
	for (i = 0; i < 64; i++) {
		pids[i] = spawn_ok(saved_then_killed, NULL, 0,
		    i % 2 ? SNOW_PRIO_HIGH : SNOW_PRIO_NORMAL);
		for (j = 0; j < 16; j++)
			send_int(pids[i], TAG(1), (int)j);
	}
	sleep_ms(20);
	for (i = 0; i < 64; i++)
		ck_assert_int_eq(snow_actor_kill(pids[i]), 0);
	run_ok();
	/* Leaks of the saved messages: LSan and valgrind report them. */
	ck_assert_uint_eq(stats_ok().exited, 64);
	assert_no_fails();
}
END_TEST

static Suite *
receive_suite(void)
{
	Suite *s = suite_create("receive");
	TCase *tc = tcase_create("selective");

	tcase_set_timeout(tc, TIMEOUT);
	tcase_add_test(tc, selective_receive_keeps_the_rest_in_order);
	tcase_add_test(tc, a_wait_looks_at_each_new_message_once);
	tcase_add_test(tc, receive_key_matches_tag_and_first_word);
	tcase_add_test(tc, receive_key_picks_an_exit_by_pid);
	tcase_add_test(tc, selective_receive_errors);
	tcase_add_test(tc, an_end_inside_match_keeps_the_saved_messages);
	tcase_add_test(tc, a_kill_in_a_selective_wait_frees_everything);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(receive_suite());
}
