/*
 * The main process's mailbox: the thread that called init receives
 * (plainly, selectively, with timeouts), blocks without spinning while it
 * waits, monitors actors, and is still no actor (no links, kills or exit
 * signals reach it).  Each test starts and stops its own runtime, so the
 * suite also passes with CK_FORK=no.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <snow/runtime.h>

#include "actor_check.h"
#include "run_suite.h"
#include "snow_ok.h"
#include "test_env.h"

#define TIMEOUT 120
#define WAIT_MS 20000


static double
thread_cpu(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#define PER_SENDER 1000

struct numbered {
	uint32_t sender;
	uint32_t seq;
};

/* Sends PER_SENDER numbered messages to main. */
static void
send_to_main_actor(const void *arg)
{
	const uint64_t *a = arg;	/* main's PID, this sender's number */
	struct numbered n = { (uint32_t)a[1], 0 };

	for (n.seq = 0; n.seq < PER_SENDER; n.seq++) {
		A_CHECK(snow_actor_send(a[0], &n, sizeof(n)) == 0, "send");
		if (n.seq % 100 == 0)
			snow_actor_yield();
	}
}

static void *
send_to_main_thread(void *arg)
{
	const uint64_t *a = arg;
	struct numbered n = { (uint32_t)a[1], 0 };

	for (n.seq = 0; n.seq < PER_SENDER; n.seq++)
		A_CHECK(snow_actor_send(a[0], &n, sizeof(n)) == 0, "send");
	return NULL;
}

START_TEST(main_receives_from_actors_and_threads_in_order)
{
	uint64_t args[3][2];
	uint32_t next[3] = { 0, 0, 0 };
	const struct snow_msg *m;
	struct numbered n;
	pthread_t t;
	int i;

	reset_fails();
	init_ok(2);
	for (i = 0; i < 3; i++) {
		args[i][0] = snow_actor_self();
		args[i][1] = (uint64_t)i;
	}
	spawn_ok(send_to_main_actor, args[0], sizeof(args[0]),
	    SNOW_PRIO_NORMAL);
	spawn_ok(send_to_main_actor, args[1], sizeof(args[1]),
	    SNOW_PRIO_HIGH);
	ck_assert_int_eq(pthread_create(&t, NULL, send_to_main_thread,
	    args[2]), 0);
	for (i = 0; i < 3 * PER_SENDER; i++) {
		m = snow_actor_receive(WAIT_MS);
		ck_assert_ptr_nonnull(m);
		ck_assert_uint_eq(m->tag, SNOW_MSG_DATA);
		ck_assert_uint_eq(m->len, sizeof(n));
		memcpy(&n, m->data, sizeof(n));
		ck_assert_uint_lt(n.sender, 3);
		ck_assert_uint_eq(n.seq, next[n.sender]);
		next[n.sender]++;
	}
	pthread_join(t, NULL);
	errno = 0;
	ck_assert_ptr_null(snow_actor_receive(0));
	ck_assert_int_eq(snow_errno(), EAGAIN);
	run_ok();
	ck_assert_uint_eq(stats_ok().dropped, 0);
	assert_no_fails();
}
END_TEST

/* Sleeps, then sends main one message. */
static void
late_sender(const void *arg)
{
	uint64_t main_pid = *(const uint64_t *)arg;

	snow_timer_sleep(300);
	A_CHECK(snow_actor_send(main_pid, "late", 4) == 0, "send");
}

START_TEST(main_waits_without_spinning)
{
	const struct snow_msg *m;
	uint64_t main_pid;
	double t0, cpu0, waited, cpu;

	reset_fails();
	init_ok(2);
	main_pid = snow_actor_self();
	/*
	 * The clocks start before the spawn: the sender may be picked and
	 * start its 300 ms sleep before spawn returns (under valgrind the
	 * gap was 13 ms), and a start taken after it would call an on-time
	 * wake early.
	 */
	t0 = now();
	cpu0 = thread_cpu();
	spawn_ok(late_sender, &main_pid, sizeof(main_pid), SNOW_PRIO_NORMAL);
	m = snow_actor_receive(-1);
	cpu = thread_cpu() - cpu0;
	waited = now() - t0;
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(m->len, 4);
	ck_assert_int_eq(memcmp(m->data, "late", 4), 0);
	ck_assert_msg(waited >= 0.29, "woke after %.3f s, before the send",
	    waited);
	/* A spinning wait would use about all of it. */
	ck_assert_msg(cpu < waited * 0.2, "main used %.3f s of CPU in a "
	    "%.3f s wait", cpu, waited);
	run_ok();
	assert_no_fails();
}
END_TEST

START_TEST(main_timeouts_and_selective_receive)
{
	const struct snow_msg *m;
	uint64_t self;
	double t0;

	reset_fails();
	init_ok(2);
	self = snow_actor_self();
	errno = 0;
	t0 = now();
	ck_assert_ptr_null(snow_actor_receive(50));
	ck_assert_int_eq(snow_errno(), ETIMEDOUT);
	ck_assert(now() - t0 >= 0.049);
	/* Selective, passing over what it does not want. */
	ck_assert_int_eq(snow_actor_send(self, "a", 1), 0);
	ck_assert_int_eq(snow_actor_send_tag(self, SNOW_MSG_USER, "b", 1), 0);
	m = snow_actor_receive_tag(SNOW_MSG_USER, 0);
	ck_assert_ptr_nonnull(m);
	ck_assert_int_eq(m->data[0], 'b');
	errno = 0;
	ck_assert_ptr_null(snow_actor_receive_tag(SNOW_MSG_USER, 30));
	ck_assert_int_eq(snow_errno(), ETIMEDOUT);
	m = snow_actor_receive(0);
	ck_assert_ptr_nonnull(m);
	ck_assert_int_eq(m->data[0], 'a');
	/* A timer's message reaches main too. */
	ck_assert_int_eq(snow_timer_send_after(self, 20, "t", 1), 0);
	m = snow_actor_receive(WAIT_MS);
	ck_assert_ptr_nonnull(m);
	ck_assert_int_eq(m->data[0], 't');
	run_ok();
}
END_TEST

static void
wait_for_ever(const void *arg)
{
	(void)arg;
	(void)snow_actor_receive(-1);
}

START_TEST(main_monitors_actors)
{
	const struct snow_msg *m;
	const struct snow_down_msg *d;
	uint64_t pid, ref, ref2;

	reset_fails();
	init_ok(2);
	pid = spawn_ok(wait_for_ever, NULL, 0, SNOW_PRIO_NORMAL);
	ref = snow_process_monitor(pid);
	ref2 = snow_process_monitor(pid);
	ck_assert_uint_ne(ref, 0);
	ck_assert_uint_ne(ref2, 0);
	ck_assert_uint_eq(snow_process_demonitor(ref2), 0);
	ck_assert_int_eq(snow_actor_kill(pid), 0);
	m = snow_actor_receive_key(SNOW_MSG_DOWN, ref, WAIT_MS);
	ck_assert_ptr_nonnull(m);
	d = (const void *)m->data;
	ck_assert_uint_eq(d->pid, pid);
	ck_assert_uint_eq(d->reason, SNOW_EXIT_KILLED);
	errno = 0;
	ck_assert_ptr_null(snow_actor_receive(50));	/* not ref2's */
	ck_assert_int_eq(snow_errno(), ETIMEDOUT);
	run_ok();
}
END_TEST

/* Links to main, trapping: main is not alive for links. */
static void
link_to_main(const void *arg)
{
	uint64_t main_pid = *(const uint64_t *)arg;
	const struct snow_msg *m;
	const struct snow_exit_msg *e;

	A_CHECK(snow_actor_trap_exit() == 0, "trap");
	A_CHECK(snow_actor_link(main_pid) == 0, "link");
	m = snow_actor_receive(WAIT_MS);
	A_CHECK(m != NULL && m->tag == SNOW_MSG_EXIT, "no noproc exit");
	if (m == NULL)
		return;
	e = (const void *)m->data;
	A_CHECK(e->pid == main_pid && e->reason == SNOW_EXIT_NOPROC,
	    "exit %llu from %llu", (unsigned long long)e->reason,
	    (unsigned long long)e->pid);
	A_CHECK(snow_actor_kill(main_pid) == ESRCH, "kill(main)");
	A_CHECK(snow_actor_exit(main_pid, SNOW_EXIT_ERROR) == ESRCH,
	    "exit(main)");
	A_CHECK(snow_actor_set_terminate(main_pid, NULL) == ESRCH,
	    "set_terminate(main)");
}

START_TEST(main_is_still_no_actor)
{
	uint64_t main_pid;

	reset_fails();
	init_ok(2);
	main_pid = snow_actor_self();
	spawn_ok(link_to_main, &main_pid, sizeof(main_pid), SNOW_PRIO_NORMAL);
	run_ok();
	assert_no_fails();
	ck_assert_uint_eq(stats_ok().exited, 1);
}
END_TEST

START_TEST(main_mailbox_is_new_each_run)
{
	uint64_t first;
	int i;

	reset_fails();
	init_ok(2);
	first = snow_actor_self();
	/* Left in the mailbox at shutdown: freed (valgrind and LSan). */
	for (i = 0; i < 100; i++)
		ck_assert_int_eq(snow_actor_send(first, "x", 1), 0);
	run_ok();
	errno = 0;
	ck_assert_ptr_null(snow_actor_receive(0));
	ck_assert_int_eq(snow_errno(), EPERM);		/* the runtime is down */
	init_ok(2);
	ck_assert_uint_ne(snow_actor_self(), first);
	ck_assert_int_eq(snow_actor_send(first, "x", 1), 0);	/* dropped */
	errno = 0;
	ck_assert_ptr_null(snow_actor_receive(0));
	ck_assert_int_eq(snow_errno(), EAGAIN);
	run_ok();
	ck_assert_uint_eq(stats_ok().dropped, 1);
}
END_TEST

/* Other threads have no mailbox. */
static _Atomic int thread_errno;

static void *
receive_on_a_thread(void *arg)
{
	(void)arg;
	errno = 0;
	if (snow_actor_receive(0) == NULL)
		atomic_store(&thread_errno, snow_errno());
	return NULL;
}

START_TEST(other_threads_get_eperm)
{
	pthread_t t;

	atomic_store(&thread_errno, 0);
	init_ok(2);
	ck_assert_int_eq(pthread_create(&t, NULL, receive_on_a_thread, NULL),
	    0);
	pthread_join(t, NULL);
	ck_assert_int_eq(atomic_load(&thread_errno), EPERM);
	run_ok();
}
END_TEST

static Suite *
main_suite(void)
{
	Suite *s = suite_create("main");
	TCase *tc = tcase_create("mailbox");

	tcase_set_timeout(tc, TIMEOUT);
	tcase_add_test(tc, main_receives_from_actors_and_threads_in_order);
	tcase_add_test(tc, main_waits_without_spinning);
	tcase_add_test(tc, main_timeouts_and_selective_receive);
	tcase_add_test(tc, main_monitors_actors);
	tcase_add_test(tc, main_is_still_no_actor);
	tcase_add_test(tc, main_mailbox_is_new_each_run);
	tcase_add_test(tc, other_threads_get_eperm);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(main_suite());
}
