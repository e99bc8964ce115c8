/*
 * Introspection: snow_process_info() gives an actor's state, priority,
 * mailbox length (skipped messages included), reductions, links,
 * monitors both ways, name and hibernation; snow_process_list() gives
 * every live actor's PID.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <snow/runtime.h>

#include "actor_check.h"
#include "run_suite.h"
#include "snow_ok.h"
#include "test_env.h"

#define TIMEOUT 120

static _Atomic int stage;

/* Registers, links to its argument, waits for a tag nobody sends (so the
 * messages it passes over stay saved), then spins its reductions. */
static void
subject(const void *arg)
{
	uint64_t other = *(const uint64_t *)arg;
	int i;

	A_CHECK(snow_actor_register("subject", 7) == 0, "register");
	A_CHECK(snow_actor_link(other) == 0, "link");
	(void)snow_process_monitor(other);
	(void)snow_process_monitor(other);
	atomic_store(&stage, 1);
	(void)snow_actor_receive_tag(SNOW_MSG_USER + 9, 200);
	for (i = 0; i < 20000; i++)
		snow_reduction_check();
	atomic_store(&stage, 2);
	(void)snow_actor_receive_tag(SNOW_MSG_USER + 9, -1);
}

static void
idle(const void *arg)
{
	(void)arg;
	(void)snow_actor_receive(-1);
}

static void
wait_stage(int n)
{
	double end = now() + 20;

	while (atomic_load(&stage) < n && now() < end)
		sleep_ms(1);
	ck_assert_int_eq(atomic_load(&stage), n);
}

START_TEST(process_info_describes_an_actor)
{
	struct snow_process_info info;
	uint64_t other, pid, ref;
	int i, err;

	reset_fails();
	atomic_store(&stage, 0);
	init_ok(2);
	other = spawn_ok(idle, NULL, 0, SNOW_PRIO_NORMAL);
	pid = spawn_ok(subject, &other, sizeof(other), SNOW_PRIO_HIGH);
	wait_stage(1);
	ref = snow_process_monitor(pid);	/* main watches it too */
	for (i = 0; i < 5; i++)
		ck_assert_int_eq(snow_actor_send(pid, "x", 1), 0);
	sleep_ms(50);
	ck_assert_int_eq(snow_process_info(pid, &info), 0);
	ck_assert_uint_eq(info.pid, pid);
	ck_assert_uint_eq(info.priority, SNOW_PRIO_HIGH);
	ck_assert_uint_eq(info.mailbox_len, 5);	/* saved by its wait */
	ck_assert_uint_eq(info.links, 1);
	ck_assert_uint_eq(info.monitors, 2);
	ck_assert_uint_eq(info.monitored_by, 1);
	ck_assert_str_eq(info.name, "subject");
	ck_assert_uint_eq(info.trap_exit, 0);
	wait_stage(2);
	/* Until it parks in its last wait: 50 ms of sleep were not always
	 * enough on a loaded machine or under valgrind (RUNNING). */
	wait_parked(pid, 20);
	ck_assert_int_eq(snow_process_info(pid, &info), 0);
	ck_assert_uint_eq(info.state, SNOW_PROC_WAITING);
	ck_assert_uint_ge(info.reductions, 20000);
	ck_assert_uint_eq(info.mailbox_len, 5);
	ck_assert_int_eq(snow_process_info(other, &info), 0);
	ck_assert_uint_eq(info.links, 1);
	ck_assert_uint_eq(info.monitored_by, 2);
	ck_assert_uint_eq(info.mailbox_len, 0);
	ck_assert_str_eq(info.name, "");
	ck_assert_uint_eq(snow_process_demonitor(ref), 0);
	ck_assert_int_eq(snow_process_info(pid, &info), 0);
	ck_assert_uint_eq(info.monitored_by, 0);
	/* Errors. */
	ck_assert_int_eq(snow_process_info(pid, NULL), EINVAL);
	ck_assert_int_eq(snow_process_info(snow_actor_self(), &info), ESRCH);
	ck_assert_int_eq(snow_process_info(UINT64_MAX / 3, &info), ESRCH);
	ck_assert_int_eq(snow_actor_kill(pid), 0);
	/* Linked to pid: it may have ended with it already. */
	err = snow_actor_kill(other);
	ck_assert(err == 0 || err == ESRCH);
	run_ok();
	ck_assert_int_eq(snow_process_info(pid, &info), EPERM);
	assert_no_fails();
}
END_TEST

#define LIST_N 300

START_TEST(process_list_gives_every_live_actor)
{
	uint64_t pids[LIST_N], got[LIST_N + 10], n, i, j, found;

	reset_fails();
	init_ok(2);
	for (i = 0; i < LIST_N; i++)
		pids[i] = spawn_ok(idle, NULL, 0, SNOW_PRIO_NORMAL);
	n = snow_process_list(got, LIST_N + 10);
	ck_assert_uint_eq(n, LIST_N);
	for (i = 0, found = 0; i < LIST_N; i++)
		for (j = 0; j < n; j++)
			found += got[j] == pids[i];
	ck_assert_uint_eq(found, LIST_N);
	/* Too small: it says how many, and fills what fits. */
	ck_assert_uint_eq(snow_process_list(got, 10), LIST_N);
	ck_assert_uint_eq(snow_process_list(NULL, 0), LIST_N);
	errno = 0;
	ck_assert_uint_eq(snow_process_list(NULL, 5), 0);
	ck_assert_int_eq(snow_errno(), EINVAL);
	for (i = 0; i < LIST_N; i++)
		ck_assert_int_eq(snow_actor_kill(pids[i]), 0);
	while (snow_process_list(NULL, 0) != 0)
		sleep_ms(1);
	run_ok();
	errno = 0;
	ck_assert_uint_eq(snow_process_list(got, 1), 0);
	ck_assert_int_eq(snow_errno(), EPERM);
}
END_TEST

static Suite *
introspect_suite(void)
{
	Suite *s = suite_create("introspect");
	TCase *tc = tcase_create("introspect");

	tcase_set_timeout(tc, TIMEOUT);
	tcase_add_test(tc, process_info_describes_an_actor);
	tcase_add_test(tc, process_list_gives_every_live_actor);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(introspect_suite());
}
