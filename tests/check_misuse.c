/*
 * Misuse and the not alive: calls outside actors fail with EPERM, calls
 * before init and after shutdown fail, sends with bad arguments are
 * refused, and sends to actors not alive are dropped and counted.  Split
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
/* Errors */

static _Atomic int outside_eperm_checked;

static void *
eperm_thread(void *arg)
{
	const struct snow_msg *m;
	int err;

	(void)arg;
	errno = 0;
	m = snow_actor_receive(-1);
	A_CHECK(m == NULL && errno == EPERM, "receive(-1) on a thread: %p, "
	    "errno %d", (const void *)m, errno);
	errno = 0;
	m = snow_actor_receive(0);
	A_CHECK(m == NULL && errno == EPERM, "receive(0) on a thread: %p, "
	    "errno %d", (const void *)m, errno);
	err = snow_actor_register("thread", 6);
	A_CHECK(err == EPERM, "register on a thread: %d", err);
	err = snow_actor_link(1);
	A_CHECK(err == EPERM, "link on a thread: %d", err);
	errno = 0;
	err = snow_actor_trap_exit();
	A_CHECK(err == EPERM, "trap_exit on a thread: %d", err);
	err = snow_actor_set_trap_exit(1);
	A_CHECK(err == -1 && errno == EPERM, "set_trap_exit on a thread: %d, "
	    "errno %d", err, errno);
	atomic_store(&outside_eperm_checked, 1);
	return NULL;
}

START_TEST(calls_outside_actors_fail_with_eperm)
{
	const struct snow_msg *m;
	uint64_t pid;
	pthread_t t;
	double t0;

	reset_fails();
	atomic_store(&outside_eperm_checked, 0);
	init_ok(2);
	pid = spawn_ok(park_actor, NULL, 0, SNOW_PRIO_NORMAL);	/* a target */
	/* Main receives (tests/check_main.c): here, its empty mailbox. */
	errno = 0;
	ck_assert_ptr_null(snow_actor_receive(0));
	ck_assert_int_eq(errno, EAGAIN);
	errno = 0;
	t0 = now();
	m = snow_actor_receive(10);
	ck_assert_ptr_null(m);
	ck_assert_int_eq(errno, ETIMEDOUT);
	ck_assert_msg(now() - t0 >= 0.009, "receive(10) on main came early");
	ck_assert_int_eq(snow_actor_link(pid), EPERM);
	ck_assert_int_eq(snow_actor_unlink(pid), EPERM);
	errno = 0;
	ck_assert_int_eq(snow_actor_set_trap_exit(1), -1);
	ck_assert_int_eq(errno, EPERM);
	ck_assert_int_eq(snow_actor_trap_exit(), EPERM);
	ck_assert_int_eq(snow_actor_register("main", 4), EPERM);
	/* exit/2 works from outside: normal is ignored by a non-trapper. */
	ck_assert_int_eq(snow_actor_exit(pid, SNOW_EXIT_NORMAL), 0);
	ck_assert_int_eq(snow_actor_exit(0, SNOW_EXIT_ERROR), EINVAL);
	ck_assert_int_eq(snow_actor_exit(pid, SNOW_EXIT_NOPROC), EINVAL);
	ck_assert_int_eq(snow_actor_exit(snow_actor_self(), SNOW_EXIT_ERROR),
	    ESRCH);			/* the main process is no actor */
	ck_assert_int_eq(pthread_create(&t, NULL, eperm_thread, NULL), 0);
	pthread_join(t, NULL);
	assert_no_fails();
	ck_assert_int_eq(atomic_load(&outside_eperm_checked), 1);
	/* Release the target so it is not left waiting. */
	ck_assert_int_eq(snow_actor_send(pid, &pid, sizeof(pid)), 0);
	run_ok();
	assert_no_fails();
	ck_assert_uint_eq(stats_ok().blocked_ended, 0);
}
END_TEST

/* send, whereis, kill and send_after need a running runtime. */
static void
check_not_running(const char *when)
{
	char x = 'x';

	ck_assert_msg(snow_actor_send(1, &x, 1) == EPERM, "send %s", when);
	ck_assert_msg(snow_timer_send_after(1, 10, &x, 1) == EPERM,
	    "send_after %s", when);
	errno = 0;
	ck_assert_msg(snow_actor_whereis("a", 1) == 0 && errno == EPERM,
	    "whereis %s: errno %d", when, errno);
	ck_assert_msg(snow_actor_kill(1) == EPERM, "kill %s", when);
	errno = 0;
	ck_assert_msg(snow_actor_receive(0) == NULL && errno == EPERM,
	    "receive %s: errno %d", when, errno);
	ck_assert_msg(snow_actor_link(1) == EPERM, "link %s", when);
	ck_assert_msg(snow_actor_register("a", 1) == EPERM, "register %s",
	    when);
	errno = 0;
	ck_assert_msg(snow_actor_set_trap_exit(1) == -1 && errno == EPERM,
	    "set_trap_exit %s", when);
	ck_assert_msg(snow_actor_trap_exit() == EPERM, "trap_exit %s", when);
	ck_assert_msg(snow_actor_exit(1, SNOW_EXIT_ERROR) == EPERM,
	    "exit %s", when);
}

START_TEST(calls_before_init_and_after_shutdown_fail)
{
	check_not_running("before init");
	init_ok(1);
	run_ok();
	check_not_running("after shutdown");
}
END_TEST

static _Atomic int bad_args_seen;
static _Atomic uint64_t bad_args_got;

static void
bad_args_actor(const void *arg)
{
	uint64_t self = snow_actor_self();
	const struct snow_msg *m;
	int err;

	(void)arg;
	err = snow_actor_link(0);
	A_CHECK(err == EINVAL, "link(0): %d", err);
	err = snow_actor_kill(0);
	A_CHECK(err == EINVAL, "kill(0): %d", err);
	err = snow_actor_send(self, NULL, 5);
	A_CHECK(err == EINVAL, "send to self, NULL and 5 bytes: %d", err);
	err = snow_actor_exit(self, SNOW_EXIT_NOPROC);	/* not the caller's */
	A_CHECK(err == EINVAL, "exit(self, NOPROC): %d", err);
	err = snow_actor_exit(self, UINT8_MAX);
	A_CHECK(err == EINVAL, "exit(self, 255): %d", err);
	err = snow_actor_exit(0, SNOW_EXIT_ERROR);
	A_CHECK(err == EINVAL, "exit(0, ERROR): %d", err);
	atomic_store(&bad_args_seen, 1);
	/* Count what really arrives until main's "end". */
	for (;;) {
		m = snow_actor_receive(WAIT_MS);
		if (m == NULL) {
			actor_fail("bad_args_actor: receive: %s",
			    strerror(a_errno()));
			return;
		}
		if (m->len == 3 && memcmp(m->data, "end", 3) == 0)
			break;
		atomic_fetch_add(&bad_args_got, 1);
	}
}

START_TEST(send_rejects_bad_arguments)
{
	char buf[16] = "payload";
	struct snow_rt_stats st;
	uint64_t pid;

	reset_fails();
	atomic_store(&bad_args_seen, 0);
	atomic_store(&bad_args_got, 0);
	init_ok(2);
	pid = spawn_ok(bad_args_actor, NULL, 0, SNOW_PRIO_NORMAL);
	ck_assert_int_eq(snow_actor_send(pid, NULL, 5), EINVAL);
	ck_assert_int_eq(snow_actor_send(pid, NULL, 1), EINVAL);
	ck_assert_int_eq(snow_actor_send(pid, buf, SNOW_MSG_MAX + 1), EINVAL);
	ck_assert_int_eq(snow_actor_send(pid, buf, UINT64_MAX), EINVAL);
	ck_assert_int_eq(snow_timer_send_after(pid, 10, NULL, 5), EINVAL);
	ck_assert_int_eq(snow_timer_send_after(pid, 0, NULL, 5), EINVAL);
	ck_assert_int_eq(snow_timer_send_after(pid, 10, buf,
	    SNOW_MSG_MAX + 1), EINVAL);
	ck_assert_int_eq(snow_actor_kill(0), EINVAL);
	/* The same to PIDs that are not alive: still refused, not dropped. */
	ck_assert_int_eq(snow_actor_send(NEVER_USED_PID, NULL, 5), EINVAL);
	ck_assert_int_eq(snow_actor_send(0, buf, SNOW_MSG_MAX + 1), EINVAL);
	ck_assert_int_eq(snow_actor_send(pid, NULL, 0), 0);	/* valid */
	ck_assert_int_eq(snow_actor_send(pid, "end", 3), 0);
	run_ok();
	assert_no_fails();
	ck_assert_int_eq(atomic_load(&bad_args_seen), 1);
	ck_assert_uint_eq(atomic_load(&bad_args_got), 1);
	st = stats_ok();
	ck_assert_uint_eq(st.sent, 2);
	ck_assert_uint_eq(st.dropped, 0);
}
END_TEST

/* ================================================================== */
/* Dropped messages */

/*
 * An actor that watches another end (through a link, trapping exits),
 * then sends to it.
 */
static void
send_to_ended_actor(const void *arg)
{
	struct snow_exit_msg e;
	uint64_t d;
	char x = 'x';

	(void)arg;
	snow_actor_trap_exit();
	d = a_spawn(return_at_once, NULL, 0);
	a_link(d);
	/* NORMAL if it was still alive, NOPROC if it had already ended. */
	if (!a_recv_exit(WAIT_MS, &e))
		return;
	A_CHECK(e.pid == d && (e.reason == SNOW_EXIT_NORMAL ||
	    e.reason == SNOW_EXIT_NOPROC), "exit {%" PRIu64 ", %" PRIu64 "}",
	    e.pid, e.reason);
	a_send(d, &x, 1);
}

START_TEST(sends_to_the_not_alive_are_dropped)
{
	struct snow_rt_stats st;
	uint64_t dead, main_pid;
	char x = 'x';

	reset_fails();
	init_ok(2);
	main_pid = snow_actor_self();
	ck_assert_uint_ne(main_pid, 0);
	dead = spawn_ok(return_at_once, NULL, 0, SNOW_PRIO_NORMAL);
	ck_assert(wait_dead(dead));
	ck_assert_int_eq(snow_actor_send(dead, &x, 1), 0);
	ck_assert_int_eq(snow_actor_send(0, &x, 1), 0);
	ck_assert_int_eq(snow_actor_send(NEVER_USED_PID, &x, 1), 0);
	ck_assert_int_eq(snow_actor_send(UINT64_MAX, NULL, 0), 0);
	/* Main has a mailbox: that one is delivered. */
	ck_assert_int_eq(snow_actor_send(main_pid, &x, 1), 0);
	spawn_ok(send_to_ended_actor, NULL, 0, SNOW_PRIO_NORMAL);
	run_ok();
	assert_no_fails();
	st = stats_ok();
	ck_assert_uint_eq(st.dropped, 5);
	/* The counters outlive the runtime. */
	st = stats_ok();
	ck_assert_uint_eq(st.dropped, 5);
}
END_TEST

static Suite *
misuse_suite(void)
{
	Suite *s = suite_create("misuse");
	TCase *tc;

	tc = tcase_create("errors");
	tcase_set_timeout(tc, TIMEOUT);
	tcase_add_test(tc, calls_outside_actors_fail_with_eperm);
	tcase_add_test(tc, calls_before_init_and_after_shutdown_fail);
	tcase_add_test(tc, send_rejects_bad_arguments);
	tcase_add_test(tc, sends_to_the_not_alive_are_dropped);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(misuse_suite());
}
