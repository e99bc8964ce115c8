/*
 * Links and kill between a few actors: an error ends a non-trapping
 * partner and reaches a trapping one as a message, exit reasons reach
 * links, a normal exit is ignored, links to PIDs not alive, chains,
 * unlink, and snow_actor_kill() of actors receiving, trapping, spinning
 * or asleep.  (Links at scale are in check_links.c.)  Split from
 * check_messaging.c; the helpers are in actor_msg.h.
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
/* Links */

/* Waits for CMD_GO, then exits with the reason in it (after unlinking
 * the PID in its b, if any). */
static _Atomic int go_exit_returned;

static void
exit_on_go(const void *arg)
{
	struct cmd c;

	(void)arg;
	if (!a_recv_cmd(-1, CMD_GO, &c))
		return;
	if (c.a == SNOW_EXIT_NORMAL && c.b == UINT64_MAX)
		return;		/* return normally instead */
	if (c.b != 0)
		A_CHECK(snow_actor_unlink(c.b) == 0, "unlink(%" PRIu64 ")",
		    c.b);
	snow_actor_exit(snow_actor_self(), c.a);
	atomic_store(&go_exit_returned, 1);	/* never */
}

/* -- an error ends a non-trapping linked actor -- */

static _Atomic int le_passed;
static _Atomic int le_observed;

struct link_wait_args {
	uint64_t peer;		/* link to this */
	uint64_t report;	/* then tell this one CMD_READY */
};

static void
link_then_wait(const void *arg)
{
	const struct link_wait_args *a = arg;

	a_link(a->peer);
	a_send_cmd(a->report, CMD_READY, snow_actor_self(), 0);
	snow_actor_receive(-1);
	atomic_fetch_add(&le_passed, 1);	/* never */
}

static void
error_link_observer(const void *arg)
{
	struct link_wait_args la;
	uint64_t b = *(const uint64_t *)arg, a;
	struct cmd c;

	snow_actor_trap_exit();
	la.peer = b;
	la.report = snow_actor_self();
	a = a_spawn(link_then_wait, &la, sizeof(la));
	a_link(a);
	if (!a_recv_cmd(WAIT_MS, CMD_READY, &c))
		return;
	a_send_cmd(b, CMD_GO, SNOW_EXIT_ERROR, 0);
	a_expect_exit(WAIT_MS, a, SNOW_EXIT_LINKED);
	atomic_store(&le_observed, 1);
}

START_TEST(link_error_ends_non_trapping_partner)
{
	uint64_t b;

	reset_fails();
	atomic_store(&le_passed, 0);
	atomic_store(&le_observed, 0);
	atomic_store(&go_exit_returned, 0);
	init_ok(2);
	b = spawn_ok(exit_on_go, NULL, 0, SNOW_PRIO_NORMAL);
	spawn_ok(error_link_observer, &b, sizeof(b), SNOW_PRIO_NORMAL);
	run_ok();
	assert_no_fails();
	ck_assert_int_eq(atomic_load(&le_passed), 0);
	ck_assert_int_eq(atomic_load(&go_exit_returned), 0);
	ck_assert_int_eq(atomic_load(&le_observed), 1);
	/* Ended by the link, not as blocked for ever. */
	ck_assert_uint_eq(stats_ok().blocked_ended, 0);
}
END_TEST

/* -- a trapping actor receives the exit as a message -- */

static _Atomic int lt_done;

static void
trap_and_link(const void *arg)
{
	uint64_t b = *(const uint64_t *)arg;
	int prev;

	prev = snow_actor_set_trap_exit(1);
	A_CHECK(prev == 0, "first trap_exit(1) returned %d", prev);
	a_link(b);
	a_send_cmd(b, CMD_GO, SNOW_EXIT_ERROR, 0);
	a_expect_exit(WAIT_MS, b, SNOW_EXIT_ERROR);
	atomic_store(&lt_done, 1);
}

START_TEST(link_error_trapped_as_message)
{
	uint64_t b;

	reset_fails();
	atomic_store(&lt_done, 0);
	atomic_store(&go_exit_returned, 0);
	init_ok(2);
	b = spawn_ok(exit_on_go, NULL, 0, SNOW_PRIO_NORMAL);
	spawn_ok(trap_and_link, &b, sizeof(b), SNOW_PRIO_NORMAL);
	run_ok();
	assert_no_fails();
	ck_assert_int_eq(atomic_load(&lt_done), 1);
	ck_assert_int_eq(atomic_load(&go_exit_returned), 0);
	ck_assert_uint_eq(stats_ok().blocked_ended, 0);
}
END_TEST

/* -- every reason reaches a trapping link as it was given -- */

static _Atomic int er_after_exit, er_seen[4];

static void
link_and_exit(const void *arg)
{
	const uint64_t *a = arg;	/* {watcher, reason} */

	a_link(a[0]);
	snow_actor_exit(snow_actor_self(), a[1]);
	atomic_store(&er_after_exit, 1);	/* never */
}

static void
reason_watcher(const void *arg)
{
	uint64_t pids[4], args[2], r;
	struct snow_exit_msg e;
	int i, j;

	(void)arg;
	snow_actor_trap_exit();
	for (r = 0; r < 4; r++) {
		args[0] = snow_actor_self();
		args[1] = r;
		pids[r] = a_spawn(link_and_exit, args, sizeof(args));
	}
	for (i = 0; i < 4; i++) {
		if (!a_recv_exit(WAIT_MS, &e))
			return;
		for (j = 0; j < 4; j++)
			if (pids[j] == e.pid) {
				A_CHECK(e.reason == (uint64_t)j, "exit(%d) "
				    "arrived as reason %" PRIu64, j, e.reason);
				atomic_fetch_add(&er_seen[j], 1);
			}
	}
}

START_TEST(exit_reasons_reach_links)
{
	int i;

	reset_fails();
	atomic_store(&er_after_exit, 0);
	for (i = 0; i < 4; i++)
		atomic_store(&er_seen[i], 0);
	init_ok(2);
	spawn_ok(reason_watcher, NULL, 0, SNOW_PRIO_NORMAL);
	run_ok();
	assert_no_fails();
	ck_assert_int_eq(atomic_load(&er_after_exit), 0);
	for (i = 0; i < 4; i++)
		ck_assert_msg(atomic_load(&er_seen[i]) == 1, "reason %d seen "
		    "%d times", i, atomic_load(&er_seen[i]));
}
END_TEST

/* -- a normal exit leaves non-trapping links alone -- */

static _Atomic int ln_survived[2], ln_observed[2];

struct normal_args {
	uint64_t b;
	uint64_t observer;
	int mode;
};

static void
survive_normal(const void *arg)
{
	const struct normal_args *a = arg;
	struct cmd c;

	a_link(a->b);
	a_send_cmd(a->observer, CMD_READY, 0, 0);
	/* A data message, never an exit message: it does not trap. */
	if (!a_recv_cmd(-1, CMD_PEER_DEAD, &c))
		return;
	snow_timer_sleep(50);	/* room for a wrong signal to land */
	atomic_store(&ln_survived[a->mode], 1);
}

static void
normal_observer(const void *arg)
{
	int mode = *(const int *)arg;
	struct normal_args na;
	uint64_t a;
	struct cmd c;

	snow_actor_trap_exit();
	na.b = a_spawn(exit_on_go, NULL, 0);
	na.observer = snow_actor_self();
	na.mode = mode;
	a_link(na.b);
	a = a_spawn(survive_normal, &na, sizeof(na));
	a_link(a);
	if (!a_recv_cmd(WAIT_MS, CMD_READY, &c))
		return;
	/* mode 0: b returns; mode 1: b calls snow_actor_exit(NORMAL) */
	a_send_cmd(na.b, CMD_GO, SNOW_EXIT_NORMAL, mode == 0 ? UINT64_MAX : 0);
	a_expect_exit(WAIT_MS, na.b, SNOW_EXIT_NORMAL);
	a_send_cmd(a, CMD_PEER_DEAD, 0, 0);
	a_expect_exit(WAIT_MS, a, SNOW_EXIT_NORMAL);
	atomic_store(&ln_observed[mode], 1);
}

START_TEST(link_normal_exit_is_ignored)
{
	int mode;

	reset_fails();
	atomic_store(&go_exit_returned, 0);
	for (mode = 0; mode < 2; mode++) {
		atomic_store(&ln_survived[mode], 0);
		atomic_store(&ln_observed[mode], 0);
	}
	init_ok(2);
	for (mode = 0; mode < 2; mode++)
		spawn_ok(normal_observer, &mode, sizeof(mode),
		    SNOW_PRIO_NORMAL);
	run_ok();
	assert_no_fails();
	for (mode = 0; mode < 2; mode++) {
		ck_assert_msg(atomic_load(&ln_survived[mode]) == 1, "mode %d: "
		    "a normal exit ended a non-trapping link", mode);
		ck_assert_int_eq(atomic_load(&ln_observed[mode]), 1);
	}
	ck_assert_int_eq(atomic_load(&go_exit_returned), 0);
	ck_assert_uint_eq(stats_ok().blocked_ended, 0);
}
END_TEST

/* -- linking to a PID not alive -- */

static _Atomic int ld_trapped_done, ld_passed, ld_observed;

static void
link_dead_trapping(const void *arg)
{
	struct snow_exit_msg e;
	uint64_t d;
	int err;

	(void)arg;
	snow_actor_trap_exit();
	err = snow_actor_link(NEVER_USED_PID);
	A_CHECK(err == 0, "link to a PID never used: %s", strerror(err));
	/* "at once": already in the mailbox */
	if (!a_recv_exit(0, &e))
		return;
	A_CHECK(e.pid == NEVER_USED_PID && e.reason == SNOW_EXIT_NOPROC,
	    "link to a PID never used: exit {%" PRIu64 ", %" PRIu64 "}",
	    e.pid, e.reason);
	/* An actor that certainly ended: */
	d = a_spawn(return_at_once, NULL, 0);
	a_link(d);
	if (!a_recv_exit(WAIT_MS, &e))
		return;
	A_CHECK(e.pid == d && (e.reason == SNOW_EXIT_NORMAL ||
	    e.reason == SNOW_EXIT_NOPROC), "exit {%" PRIu64 ", %" PRIu64 "}",
	    e.pid, e.reason);
	err = snow_actor_link(d);
	A_CHECK(err == 0, "link to an ended actor: %s", strerror(err));
	if (!a_recv_exit(0, &e))
		return;
	A_CHECK(e.pid == d && e.reason == SNOW_EXIT_NOPROC, "link to an "
	    "ended actor: exit {%" PRIu64 ", %" PRIu64 "}", e.pid, e.reason);
	err = snow_actor_unlink(d);
	A_CHECK(err == 0, "unlink of an ended actor: %d", err);
	atomic_store(&ld_trapped_done, 1);
}

static void
link_dead_plain(const void *arg)
{
	struct cmd c;

	(void)arg;
	if (!a_recv_cmd(WAIT_MS, CMD_GO, &c))
		return;
	snow_actor_link(c.a);
	snow_actor_yield();
	snow_actor_receive(-1);
	atomic_store(&ld_passed, 1);	/* never */
}

static void
link_dead_observer(const void *arg)
{
	uint64_t x;

	(void)arg;
	snow_actor_trap_exit();
	x = a_spawn(link_dead_plain, NULL, 0);
	a_link(x);
	a_send_cmd(x, CMD_GO, NEVER_USED_PID, 0);
	a_expect_exit(WAIT_MS, x, SNOW_EXIT_LINKED);
	atomic_store(&ld_observed, 1);
}

START_TEST(link_to_a_pid_not_alive)
{
	reset_fails();
	atomic_store(&ld_trapped_done, 0);
	atomic_store(&ld_passed, 0);
	atomic_store(&ld_observed, 0);
	init_ok(2);
	spawn_ok(link_dead_trapping, NULL, 0, SNOW_PRIO_NORMAL);
	spawn_ok(link_dead_observer, NULL, 0, SNOW_PRIO_NORMAL);
	run_ok();
	assert_no_fails();
	ck_assert_int_eq(atomic_load(&ld_trapped_done), 1);
	ck_assert_int_eq(atomic_load(&ld_passed), 0);
	ck_assert_int_eq(atomic_load(&ld_observed), 1);
	ck_assert_uint_eq(stats_ok().blocked_ended, 0);
}
END_TEST

/* -- a chain of links goes down as one -- */

#define CHAIN_LEN 20

struct chain_args {
	uint64_t depth;
	uint64_t parent;
	uint64_t observer;
};

static _Atomic int chain_passed, chain_built, chain_observed;

static void
chain_node(const void *arg)
{
	const struct chain_args *a = arg;
	struct chain_args child;
	struct cmd c;

	a_link(a->parent);
	atomic_fetch_add(&chain_built, 1);
	if (a->depth + 1 < CHAIN_LEN) {
		child.depth = a->depth + 1;
		child.parent = snow_actor_self();
		child.observer = a->observer;
		a_spawn(chain_node, &child, sizeof(child));
		snow_actor_receive(-1);
		atomic_fetch_add(&chain_passed, 1);	/* never */
		return;
	}
	/* The last one: every link exists now. */
	a_send_cmd(a->observer, CMD_READY, snow_actor_self(), 0);
	if (a_recv_cmd(-1, CMD_GO, &c))
		snow_actor_exit(snow_actor_self(), SNOW_EXIT_ERROR);
	atomic_fetch_add(&chain_passed, 1);	/* never */
}

static void
chain_observer(const void *arg)
{
	struct chain_args first;
	uint64_t head;
	struct cmd c;

	(void)arg;
	snow_actor_trap_exit();
	first.depth = 0;
	first.parent = snow_actor_self();
	first.observer = snow_actor_self();
	head = a_spawn(chain_node, &first, sizeof(first));
	if (!a_recv_cmd(WAIT_MS, CMD_READY, &c))
		return;
	a_send_cmd(c.a, CMD_GO, 0, 0);
	a_expect_exit(WAIT_MS, head, SNOW_EXIT_LINKED);
	atomic_store(&chain_observed, 1);
}

START_TEST(link_chain_goes_down_together)
{
	reset_fails();
	atomic_store(&chain_passed, 0);
	atomic_store(&chain_built, 0);
	atomic_store(&chain_observed, 0);
	init_ok(2);
	spawn_ok(chain_observer, NULL, 0, SNOW_PRIO_NORMAL);
	run_ok();
	assert_no_fails();
	ck_assert_int_eq(atomic_load(&chain_built), CHAIN_LEN);
	ck_assert_int_eq(atomic_load(&chain_passed), 0);
	ck_assert_int_eq(atomic_load(&chain_observed), 1);
	ck_assert_uint_eq(stats_ok().blocked_ended, 0);
}
END_TEST

/* -- unlink stops the propagation, from either side -- */

static _Atomic int ul_survived[3], ul_observed[3];

struct unlink_args {
	uint64_t b;
	uint64_t observer;
	int mode;	/* 0: a unlinks; 1: b unlinks; 2: a traps, unlinks */
};

static void
unlinking_actor(const void *arg)
{
	const struct unlink_args *a = arg;
	const struct snow_msg *m;
	struct cmd c;
	int err;

	if (a->mode == 2)
		snow_actor_trap_exit();
	a_link(a->b);
	if (a->mode != 1) {
		err = snow_actor_unlink(a->b);
		A_CHECK(err == 0, "unlink: %d", err);
	}
	a_send_cmd(a->observer, CMD_READY, 0, 0);
	if (!a_recv_cmd(-1, CMD_PEER_DEAD, &c))
		return;
	snow_timer_sleep(50);	/* room for a wrong signal to land */
	if (a->mode == 2) {
		a_set_errno(0);
		m = snow_actor_receive(0);
		A_CHECK(m == NULL && a_errno() == EAGAIN, "an exit message "
		    "came through an unlinked link (tag %" PRIu64 ")",
		    m != NULL ? m->tag : 0);
	}
	atomic_store(&ul_survived[a->mode], 1);
}

static void
unlink_observer(const void *arg)
{
	int mode = *(const int *)arg;
	struct unlink_args ua;
	uint64_t a;
	struct cmd c;

	snow_actor_trap_exit();
	ua.b = a_spawn(exit_on_go, NULL, 0);
	ua.observer = snow_actor_self();
	ua.mode = mode;
	a_link(ua.b);
	a = a_spawn(unlinking_actor, &ua, sizeof(ua));
	a_link(a);
	if (!a_recv_cmd(WAIT_MS, CMD_READY, &c))
		return;
	a_send_cmd(ua.b, CMD_GO, SNOW_EXIT_ERROR, mode == 1 ? a : 0);
	a_expect_exit(WAIT_MS, ua.b, SNOW_EXIT_ERROR);
	a_send_cmd(a, CMD_PEER_DEAD, 0, 0);
	a_expect_exit(WAIT_MS, a, SNOW_EXIT_NORMAL);
	atomic_store(&ul_observed[mode], 1);
}

START_TEST(unlink_stops_propagation)
{
	int mode;

	reset_fails();
	atomic_store(&go_exit_returned, 0);
	for (mode = 0; mode < 3; mode++) {
		atomic_store(&ul_survived[mode], 0);
		atomic_store(&ul_observed[mode], 0);
	}
	init_ok(2);
	for (mode = 0; mode < 3; mode++)
		spawn_ok(unlink_observer, &mode, sizeof(mode),
		    SNOW_PRIO_NORMAL);
	run_ok();
	assert_no_fails();
	for (mode = 0; mode < 3; mode++) {
		ck_assert_msg(atomic_load(&ul_survived[mode]) == 1, "mode %d: "
		    "the unlinked actor did not survive", mode);
		ck_assert_int_eq(atomic_load(&ul_observed[mode]), 1);
	}
	ck_assert_uint_eq(stats_ok().blocked_ended, 0);
}
END_TEST

/* -- trap_exit's return value, linking twice, linking to oneself -- */

static _Atomic int tx_done;
static int tx_prev[6];

static void
trap_and_twice(const void *arg)
{
	uint64_t self = snow_actor_self(), b;
	const struct snow_msg *m;
	int err, i;

	(void)arg;
	tx_prev[0] = snow_actor_set_trap_exit(1);
	tx_prev[1] = snow_actor_set_trap_exit(1);
	tx_prev[2] = snow_actor_set_trap_exit(0);
	tx_prev[3] = snow_actor_set_trap_exit(0);
	tx_prev[4] = snow_actor_set_trap_exit(5);	/* any non-zero is on */
	tx_prev[5] = snow_actor_set_trap_exit(1);
	/* Linking to oneself is a no-op: no message, no end. */
	err = snow_actor_link(self);
	A_CHECK(err == 0, "link to self: %d", err);
	a_set_errno(0);
	m = snow_actor_receive(0);
	A_CHECK(m == NULL && a_errno() == EAGAIN,
	    "link to self sent a message");
	/* Linking twice: one link, one exit message. */
	b = a_spawn(exit_on_go, NULL, 0);
	a_link(b);
	a_link(b);
	a_send_cmd(b, CMD_GO, SNOW_EXIT_ERROR, 0);
	a_expect_exit(WAIT_MS, b, SNOW_EXIT_ERROR);
	a_set_errno(0);
	m = snow_actor_receive(100);
	A_CHECK(m == NULL && a_errno() == ETIMEDOUT, "a second message after a "
	    "double link (tag %" PRIu64 ")", m != NULL ? m->tag : 0);
	/* Linking twice then unlinking once leaves no link. */
	b = a_spawn(exit_on_go, NULL, 0);
	a_link(b);
	a_link(b);
	err = snow_actor_unlink(b);
	A_CHECK(err == 0, "unlink: %d", err);
	a_send_cmd(b, CMD_GO, SNOW_EXIT_ERROR, 0);
	for (i = 0; i < 10000 && snow_actor_kill(b) != ESRCH; i++)
		snow_timer_sleep(1);	/* wait for its end */
	a_set_errno(0);
	m = snow_actor_receive(100);
	A_CHECK(m == NULL && a_errno() == ETIMEDOUT, "an exit message after "
	    "link, link, unlink (tag %" PRIu64 ")", m != NULL ? m->tag : 0);
	atomic_store(&tx_done, 1);
}

START_TEST(trap_exit_and_link_no_ops)
{
	reset_fails();
	atomic_store(&tx_done, 0);
	memset(tx_prev, 0xff, sizeof(tx_prev));
	init_ok(2);
	spawn_ok(trap_and_twice, NULL, 0, SNOW_PRIO_NORMAL);
	run_ok();
	assert_no_fails();
	ck_assert_int_eq(atomic_load(&tx_done), 1);
	ck_assert_int_eq(tx_prev[0], 0);
	ck_assert_int_eq(tx_prev[1], 1);
	ck_assert_int_eq(tx_prev[2], 1);
	ck_assert_int_eq(tx_prev[3], 0);
	ck_assert_int_eq(tx_prev[4], 0);
	ck_assert_int_eq(tx_prev[5], 1);
}
END_TEST

/* ================================================================== */
/* Kill */

static _Atomic int kv_passed, kv_started, kv_done;
static double kv_spin_killed_after, kv_sleep_killed_after;

/* arg: NULL, or passed through: an _Atomic int to set once started */
static void
victim_receive(const void *arg)
{
	if (arg != NULL)
		atomic_store((_Atomic int *)arg, 1);
	snow_actor_receive(-1);
	atomic_fetch_add(&kv_passed, 1);	/* never */
}

static void
victim_trapping(const void *arg)
{
	uint64_t killer = *(const uint64_t *)arg;

	snow_actor_trap_exit();	/* no help against a kill */
	a_send_cmd(killer, CMD_READY, 0, 0);
	snow_actor_receive(-1);
	atomic_fetch_add(&kv_passed, 1);	/* never */
}

static void
victim_spinner(const void *arg)
{
	uint64_t killer = *(const uint64_t *)arg;
	double end = now() + 5.0;

	a_send_cmd(killer, CMD_READY, 0, 0);
	while (now() < end)
		snow_reduction_check();
	atomic_fetch_add(&kv_passed, 1);	/* only if the kill failed */
}

static void
victim_sleeper(const void *arg)
{
	uint64_t killer = *(const uint64_t *)arg;

	a_send_cmd(killer, CMD_READY, 0, 0);
	/* Stretched with the bounds on its kill, to stay past them. */
	snow_timer_sleep((int64_t)(5000 * slack()));
	atomic_fetch_add(&kv_passed, 1);	/* never */
}

static void
killer(const void *arg)
{
	uint64_t self = snow_actor_self(), v;
	struct cmd c;
	double t0;
	int err;

	(void)arg;
	snow_actor_trap_exit();
	/* parked in receive */
	v = a_spawn(victim_receive, NULL, 0);
	a_link(v);
	err = snow_actor_kill(v);
	A_CHECK(err == 0, "kill: %d", err);
	a_expect_exit(WAIT_MS, v, SNOW_EXIT_KILLED);
	err = snow_actor_kill(v);
	A_CHECK(err == ESRCH, "kill of a killed actor: %d", err);
	err = snow_actor_kill(NEVER_USED_PID);
	A_CHECK(err == ESRCH, "kill of a PID never used: %d", err);
	err = snow_actor_kill(0);
	A_CHECK(err == EINVAL, "kill(0): %d", err);
	/* trapping exits does not help */
	v = a_spawn(victim_trapping, &self, sizeof(self));
	a_link(v);
	if (!a_recv_cmd(WAIT_MS, CMD_READY, &c))
		return;
	err = snow_actor_kill(v);
	A_CHECK(err == 0, "kill: %d", err);
	a_expect_exit(WAIT_MS, v, SNOW_EXIT_KILLED);
	/* busy: ends at its spent slice */
	v = a_spawn(victim_spinner, &self, sizeof(self));
	a_link(v);
	if (!a_recv_cmd(WAIT_MS, CMD_READY, &c))
		return;
	t0 = now();
	err = snow_actor_kill(v);
	A_CHECK(err == 0, "kill: %d", err);
	a_expect_exit(WAIT_MS, v, SNOW_EXIT_KILLED);
	kv_spin_killed_after = now() - t0;
	/* asleep: waits, so ends at once */
	v = a_spawn(victim_sleeper, &self, sizeof(self));
	a_link(v);
	if (!a_recv_cmd(WAIT_MS, CMD_READY, &c))
		return;
	t0 = now();
	err = snow_actor_kill(v);
	A_CHECK(err == 0, "kill: %d", err);
	a_expect_exit(WAIT_MS, v, SNOW_EXIT_KILLED);
	kv_sleep_killed_after = now() - t0;
	atomic_store(&kv_done, 1);
}

START_TEST(kill_ends_actors)
{
	uint64_t v;

	reset_fails();
	atomic_store(&kv_passed, 0);
	atomic_store(&kv_started, 0);
	atomic_store(&kv_done, 0);
	kv_spin_killed_after = kv_sleep_killed_after = -1;
	init_ok(2);
	spawn_ok(killer, NULL, 0, SNOW_PRIO_NORMAL);
	/* And from the main thread, an actor parked in receive. */
	v = spawn_ok(victim_receive, (const void *)&kv_started, 0,
	    SNOW_PRIO_NORMAL);
	ck_assert_int_eq(wait_flag(&kv_started, 1), 1);
	usleep(20000);		/* let it park */
	ck_assert_int_eq(snow_actor_kill(v), 0);
	ck_assert(wait_dead(v));
	ck_assert_int_eq(snow_actor_kill(v), ESRCH);
	ck_assert_int_eq(snow_actor_kill(0), EINVAL);
	ck_assert_int_eq(snow_actor_kill(NEVER_USED_PID), ESRCH);
	run_ok();
	assert_no_fails();
	ck_assert_int_eq(atomic_load(&kv_done), 1);
	ck_assert_int_eq(atomic_load(&kv_passed), 0);
	/* Bounds stretched by slack(): valgrind runs one thread at a time,
	 * and a loaded machine can hold a worker for seconds. */
	ck_assert_msg(kv_spin_killed_after >= 0 &&
	    kv_spin_killed_after < 3.0 * slack(),
	    "a busy actor ended %.3f s after its kill", kv_spin_killed_after);
	ck_assert_msg(kv_sleep_killed_after >= 0 &&
	    kv_sleep_killed_after < 2.5 * slack(), "an actor sleeping for "
	    "%.0f s ended %.3f s after its kill", 5 * slack(),
	    kv_sleep_killed_after);
	/* Killed, not ended as blocked for ever. */
	ck_assert_uint_eq(stats_ok().blocked_ended, 0);
}
END_TEST

static Suite *
link_basics_suite(void)
{
	Suite *s = suite_create("link basics");
	TCase *tc;

	tc = tcase_create("links");
	tcase_set_timeout(tc, TIMEOUT);
	tcase_add_test(tc, link_error_ends_non_trapping_partner);
	tcase_add_test(tc, link_error_trapped_as_message);
	tcase_add_test(tc, exit_reasons_reach_links);
	tcase_add_test(tc, link_normal_exit_is_ignored);
	tcase_add_test(tc, link_to_a_pid_not_alive);
	tcase_add_test(tc, link_chain_goes_down_together);
	tcase_add_test(tc, unlink_stops_propagation);
	tcase_add_test(tc, trap_exit_and_link_no_ops);
	tcase_add_test(tc, kill_ends_actors);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(link_basics_suite());
}
