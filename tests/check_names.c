/*
 * Registered names: register and whereis, their errors, and names freed
 * once their actors end.  Split from check_messaging.c; the helpers are
 * in actor_msg.h.
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
/* Names */

static _Atomic int nm_registered, nm_steps;
static _Atomic uint64_t nm_found_by_peer, nm_holder;

static void
name_peer(const void *arg)
{
	uint64_t holder = *(const uint64_t *)arg, found;
	int err;

	(void)holder;
	found = snow_actor_whereis("alpha", 5);
	atomic_store(&nm_found_by_peer, found);
	err = snow_actor_register("alpha", 5);
	A_CHECK(err == EEXIST, "register of a taken name: %d", err);
	/* A taken name can still be had by another actor under another
	 * name. */
	err = snow_actor_register("alpha2", 6);
	A_CHECK(err == 0, "register alpha2: %d", err);
	if (found != 0)
		a_send(found, "hi", 2);
}

static void
name_holder(const void *arg)
{
	uint64_t self = snow_actor_self(), found;
	const struct snow_msg *m;
	int err, i, hi = 0, stop = 0;

	(void)arg;
	err = snow_actor_register("alpha", 5);
	A_CHECK(err == 0, "register alpha: %d", err);
	found = snow_actor_whereis("alpha", 5);
	A_CHECK(found == self, "whereis of my own name: %" PRIu64, found);
	err = snow_actor_register("beta", 4);
	A_CHECK(err == EALREADY, "a second name: %d", err);
	a_set_errno(0);
	A_CHECK(snow_actor_whereis("beta", 4) == 0 && a_errno() == ESRCH,
	    "the refused second name was registered");
	atomic_store(&nm_holder, self);
	atomic_store(&nm_registered, 1);
	a_spawn(name_peer, &self, sizeof(self));
	/* The peer found us by name, and main said stop: in any order. */
	for (i = 0; i < 2; i++) {
		m = snow_actor_receive(WAIT_MS);
		if (m == NULL) {
			actor_fail("name holder: receive: %s",
			    strerror(a_errno()));
			return;
		}
		if (m->len == 2 && memcmp(m->data, "hi", 2) == 0)
			hi++;
		else if (m->len == 4 && memcmp(m->data, "stop", 4) == 0)
			stop++;
	}
	A_CHECK(hi == 1 && stop == 1, "name holder: %d hi from the peer, %d "
	    "stop from main", hi, stop);
	atomic_fetch_add(&nm_steps, 1);
}

START_TEST(register_and_whereis)
{
	uint64_t holder;

	reset_fails();
	atomic_store(&nm_registered, 0);
	atomic_store(&nm_steps, 0);
	atomic_store(&nm_found_by_peer, 0);
	atomic_store(&nm_holder, 0);
	init_ok(2);
	errno = 0;
	ck_assert_uint_eq(snow_actor_whereis("alpha", 5), 0);
	ck_assert_int_eq(errno, ESRCH);
	holder = spawn_ok(name_holder, NULL, 0, SNOW_PRIO_NORMAL);
	ck_assert_int_eq(wait_flag(&nm_registered, 1), 1);
	ck_assert_uint_eq(snow_actor_whereis("alpha", 5), holder);
	/* Not a prefix, not an extension. */
	errno = 0;
	ck_assert_uint_eq(snow_actor_whereis("alph", 4), 0);
	ck_assert_int_eq(errno, ESRCH);
	errno = 0;
	ck_assert_uint_eq(snow_actor_whereis("alphaX", 6), 0);
	ck_assert_int_eq(errno, ESRCH);
	ck_assert_int_eq(snow_actor_send(snow_actor_whereis("alpha", 5),
	    "stop", 4), 0);
	run_ok();
	assert_no_fails();
	ck_assert_int_eq(atomic_load(&nm_steps), 1);
	ck_assert_uint_eq(atomic_load(&nm_holder), holder);
	ck_assert_uint_eq(atomic_load(&nm_found_by_peer), holder);
}
END_TEST

#define LONG_NAME_FILL 'n'

static _Atomic int ne_steps;

static void
name_errors_actor(const void *arg)
{
	char max[SNOW_NAME_MAX + 1];
	uint64_t self = snow_actor_self(), pid;
	int err;

	(void)arg;
	memset(max, LONG_NAME_FILL, sizeof(max));
	err = snow_actor_register(NULL, 3);
	A_CHECK(err == EINVAL, "register(NULL): %d", err);
	err = snow_actor_register("x", 0);
	A_CHECK(err == EINVAL, "register(len 0): %d", err);
	err = snow_actor_register(max, SNOW_NAME_MAX + 1);
	A_CHECK(err == EINVAL, "register(len SNOW_NAME_MAX + 1): %d", err);
	err = snow_actor_register(max, UINT64_MAX);
	A_CHECK(err == EINVAL, "register(len UINT64_MAX): %d", err);
	a_set_errno(0);
	pid = snow_actor_whereis(NULL, 3);
	A_CHECK(pid == 0 && a_errno() == EINVAL, "whereis(NULL): %" PRIu64
	    ", errno %d", pid, a_errno());
	a_set_errno(0);
	pid = snow_actor_whereis("x", 0);
	A_CHECK(pid == 0 && a_errno() == EINVAL, "whereis(len 0): errno %d",
	    a_errno());
	a_set_errno(0);
	pid = snow_actor_whereis(max, SNOW_NAME_MAX + 1);
	A_CHECK(pid == 0 && a_errno() == EINVAL, "whereis(len SNOW_NAME_MAX + "
	    "1): errno %d", a_errno());
	a_set_errno(0);
	pid = snow_actor_whereis("nobody", 6);
	A_CHECK(pid == 0 && a_errno() == ESRCH, "whereis(unknown): errno %d",
	    a_errno());
	/* The longest name works; a refused one left no trace. */
	err = snow_actor_register(max, SNOW_NAME_MAX);
	A_CHECK(err == 0, "register(len SNOW_NAME_MAX): %d", err);
	pid = snow_actor_whereis(max, SNOW_NAME_MAX);
	A_CHECK(pid == self, "whereis(len SNOW_NAME_MAX): %" PRIu64, pid);
	err = snow_actor_register("other", 5);
	A_CHECK(err == EALREADY, "second name: %d", err);
	atomic_fetch_add(&ne_steps, 1);
}

static void
binary_name_actor(const void *arg)
{
	uint64_t self = snow_actor_self(), pid;
	int err;

	(void)arg;
	err = snow_actor_register("a\0b", 3);
	A_CHECK(err == 0, "register(\"a\\0b\"): %d", err);
	pid = snow_actor_whereis("a\0b", 3);
	A_CHECK(pid == self, "whereis(\"a\\0b\"): %" PRIu64, pid);
	a_set_errno(0);
	pid = snow_actor_whereis("a\0c", 3);
	A_CHECK(pid == 0 && a_errno() == ESRCH, "whereis(\"a\\0c\"): %" PRIu64,
	    pid);
	a_set_errno(0);
	pid = snow_actor_whereis("a", 1);
	A_CHECK(pid == 0 && a_errno() == ESRCH, "whereis(\"a\"): %" PRIu64,
	    pid);
	atomic_fetch_add(&ne_steps, 1);
}

START_TEST(register_and_whereis_errors)
{
	char max[SNOW_NAME_MAX + 1];

	reset_fails();
	atomic_store(&ne_steps, 0);
	memset(max, LONG_NAME_FILL, sizeof(max));
	init_ok(2);
	errno = 0;
	ck_assert_uint_eq(snow_actor_whereis(NULL, 3), 0);
	ck_assert_int_eq(errno, EINVAL);
	errno = 0;
	ck_assert_uint_eq(snow_actor_whereis("x", 0), 0);
	ck_assert_int_eq(errno, EINVAL);
	errno = 0;
	ck_assert_uint_eq(snow_actor_whereis(max, SNOW_NAME_MAX + 1), 0);
	ck_assert_int_eq(errno, EINVAL);
	spawn_ok(name_errors_actor, NULL, 0, SNOW_PRIO_NORMAL);
	spawn_ok(binary_name_actor, NULL, 0, SNOW_PRIO_NORMAL);
	run_ok();
	assert_no_fails();
	ck_assert_int_eq(atomic_load(&ne_steps), 2);
}
END_TEST

/* A name is free again once its actor ended, however it ended. */
static _Atomic int nf_steps;

static void
register_then_wait(const void *arg)
{
	const uint64_t *a = arg;	/* {watcher, name index} */
	char name[8];
	struct cmd c;
	int err;

	snprintf(name, sizeof(name), "name%" PRIu64, a[1]);
	err = snow_actor_register(name, strlen(name));
	A_CHECK(err == 0, "register(%s): %d", name, err);
	a_send_cmd(a[0], CMD_READY, 0, 0);
	if (!a_recv_cmd(-1, CMD_GO, &c))
		return;
	if (c.a != SNOW_EXIT_NORMAL)
		snow_actor_exit(snow_actor_self(), c.a);
}

static void
name_reuse_watcher(const void *arg)
{
	uint64_t self = snow_actor_self(), args[2], r, pid, found;
	char name[8];
	struct cmd c;
	int err;

	(void)arg;
	snow_actor_trap_exit();
	/* 0: returns; 1: exits with an error; 2: killed */
	for (r = 0; r < 3; r++) {
		args[0] = self;
		args[1] = r;
		snprintf(name, sizeof(name), "name%" PRIu64, r);
		pid = a_spawn(register_then_wait, args, sizeof(args));
		a_link(pid);
		if (!a_recv_cmd(WAIT_MS, CMD_READY, &c))
			return;
		found = snow_actor_whereis(name, strlen(name));
		A_CHECK(found == pid, "whereis(%s): %" PRIu64 ", expected %"
		    PRIu64, name, found, pid);
		if (r == 2)
			A_CHECK(snow_actor_kill(pid) == 0, "kill");
		else
			a_send_cmd(pid, CMD_GO, r == 0 ? SNOW_EXIT_NORMAL :
			    SNOW_EXIT_ERROR, 0);
		a_expect_exit(WAIT_MS, pid, r == 0 ? SNOW_EXIT_NORMAL :
		    r == 1 ? SNOW_EXIT_ERROR : SNOW_EXIT_KILLED);
		/* It has ended: its name leads nowhere, or to a new owner. */
		a_set_errno(0);
		found = snow_actor_whereis(name, strlen(name));
		A_CHECK(found != pid, "whereis(%s) gave the ended actor %"
		    PRIu64, name, pid);
		A_CHECK(found == 0 && a_errno() == ESRCH, "whereis(%s) after "
		    "its actor ended: %" PRIu64 ", errno %d", name, found,
		    a_errno());
	}
	/* Anyone may take a freed name: here this actor takes name1. */
	err = snow_actor_register("name1", 5);
	A_CHECK(err == 0, "register of a freed name: %d", err);
	found = snow_actor_whereis("name1", 5);
	A_CHECK(found == self, "whereis(name1) after re-registering: %"
	    PRIu64, found);
	/* And another actor takes name2. */
	args[0] = self;
	args[1] = 2;
	pid = a_spawn(register_then_wait, args, sizeof(args));
	if (!a_recv_cmd(WAIT_MS, CMD_READY, &c))
		return;
	found = snow_actor_whereis("name2", 5);
	A_CHECK(found == pid, "whereis(name2) after its new actor "
	    "registered: %" PRIu64 ", expected %" PRIu64, found, pid);
	a_send_cmd(pid, CMD_GO, SNOW_EXIT_NORMAL, 0);
	atomic_store(&nf_steps, 1);
}

START_TEST(names_are_freed_when_actors_end)
{
	reset_fails();
	atomic_store(&nf_steps, 0);
	init_ok(2);
	spawn_ok(name_reuse_watcher, NULL, 0, SNOW_PRIO_NORMAL);
	run_ok();
	assert_no_fails();
	ck_assert_int_eq(atomic_load(&nf_steps), 1);
	ck_assert_uint_eq(stats_ok().blocked_ended, 0);
	/* A new runtime starts with no names. */
	init_ok(1);
	errno = 0;
	ck_assert_uint_eq(snow_actor_whereis("name1", 5), 0);
	ck_assert_int_eq(errno, ESRCH);
	run_ok();
}
END_TEST

static Suite *
names_suite(void)
{
	Suite *s = suite_create("names");
	TCase *tc;

	tc = tcase_create("names");
	tcase_set_timeout(tc, TIMEOUT);
	tcase_add_test(tc, register_and_whereis);
	tcase_add_test(tc, register_and_whereis_errors);
	tcase_add_test(tc, names_are_freed_when_actors_end);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(names_suite());
}
