/*
 * Monitors: snow_process_monitor() and snow_process_demonitor().  What is
 * promised: one DOWN {ref, pid, reason} per monitor when its target ends,
 * for every reason, after the target's terminate callback; noproc at once
 * for a target not alive; many monitors per target and per watcher, each
 * its own; after a demonitor no DOWN of it is ever received, even when it
 * raced the target's end or was already in the mailbox.
 *
 * Actors never call ck_assert; they record what they saw with A_CHECK()
 * and the test's thread checks it once the runtime has stopped.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <pthread.h>
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

#define TIMEOUT 240
#define WAIT_MS 20000


/* The DOWN of ref, waiting up to ms; its body, or zeros when none came. */
static struct snow_down_msg
down_of(uint64_t ref, int64_t ms)
{
	struct snow_down_msg d = { 0, 0, 0 };
	const struct snow_msg *m = snow_actor_receive_key(SNOW_MSG_DOWN, ref,
	    ms);

	if (m != NULL && m->len == sizeof(d))
		memcpy(&d, m->data, sizeof(d));
	return d;
}

/* Waits for one message; then ends as it says: 'r' returns, 'e' exits
 * with an error, 'w' waits on. */
static void
target(const void *arg)
{
	const struct snow_msg *m;

	(void)arg;
	while ((m = snow_actor_receive(-1)) != NULL) {
		if (m->len == 1 && m->data[0] == 'r')
			return;
		if (m->len == 1 && m->data[0] == 'e')
			snow_actor_exit(snow_actor_self(), SNOW_EXIT_ERROR);
	}
}

static void
nop(const void *arg)
{
	(void)arg;
}

/* ---- DOWN ---- */

struct down_case {
	char how;		/* 'r', 'e', 'k' (killed), 'c' (exit custom) */
	uint8_t want;		/* the reason the DOWN must carry */
};

static void
down_watcher(const void *arg)
{
	const struct down_case *c = arg;
	struct snow_down_msg d;
	uint64_t t, ref;

	t = snow_actor_spawn(target, NULL, 0, SNOW_PRIO_NORMAL);
	ref = snow_process_monitor(t);
	A_CHECK(ref != 0, "monitor: snow_errno() %d", snow_errno());
	if (c->how == 'k')
		A_CHECK(snow_actor_kill(t) == 0, "kill");
	else if (c->how == 'c')
		A_CHECK(snow_actor_exit(t, SNOW_EXIT_CUSTOM) == 0, "exit");
	else
		A_CHECK(snow_actor_send(t, &c->how, 1) == 0, "send");
	d = down_of(ref, WAIT_MS);
	A_CHECK(d.ref == ref && d.pid == t && d.reason == c->want,
	    "%c: DOWN {%llu, %llu, %llu}", c->how, (unsigned long long)d.ref,
	    (unsigned long long)d.pid, (unsigned long long)d.reason);
	/* Once: nothing more comes, and the monitor is gone. */
	A_CHECK(snow_actor_receive(100) == NULL && snow_errno() == ETIMEDOUT,
	    "%c: a second message", c->how);
	A_CHECK(snow_process_demonitor(ref) == 1 && snow_errno() == ENOENT,
	    "%c: demonitor after the DOWN", c->how);
}

START_TEST(down_comes_once_with_the_reason)
{
	static const struct down_case cases[] = {
		{ 'r', SNOW_EXIT_NORMAL }, { 'e', SNOW_EXIT_ERROR },
		{ 'k', SNOW_EXIT_KILLED }, { 'c', SNOW_EXIT_CUSTOM },
	};
	size_t i;

	reset_fails();
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		init_ok(2);
		spawn_ok(down_watcher, &cases[i], sizeof(cases[i]),
		    SNOW_PRIO_NORMAL);
		run_ok();
	}
	assert_no_fails();
}
END_TEST

/* Monitors an ended PID, one never handed out, and itself. */
static void
noproc_watcher(const void *arg)
{
	uint64_t dead = *(const uint64_t *)arg, never = UINT64_MAX / 2;
	struct snow_down_msg d;
	uint64_t ref;

	ref = snow_process_monitor(dead);
	A_CHECK(ref != 0, "monitor(dead)");
	d = down_of(ref, 0);		/* at once: no wait */
	A_CHECK(d.ref == ref && d.pid == dead &&
	    d.reason == SNOW_EXIT_NOPROC, "dead: reason %llu",
	    (unsigned long long)d.reason);
	ref = snow_process_monitor(never);
	d = down_of(ref, 0);
	A_CHECK(ref != 0 && d.ref == ref && d.pid == never &&
	    d.reason == SNOW_EXIT_NOPROC, "never spawned");
	ref = snow_process_monitor(snow_actor_self());
	A_CHECK(ref != 0, "monitor(self)");
	A_CHECK(snow_actor_receive(0) == NULL, "a DOWN of a live self");
	A_CHECK(snow_process_demonitor(ref) == 0, "demonitor(self)");
}

START_TEST(monitor_of_the_not_alive_is_noproc_at_once)
{
	uint64_t dead;

	reset_fails();
	init_ok(2);
	dead = spawn_ok(nop, NULL, 0, SNOW_PRIO_NORMAL);
	while (snow_actor_kill(dead) != ESRCH)
		sleep_ms(1);
	spawn_ok(noproc_watcher, &dead, sizeof(dead), SNOW_PRIO_NORMAL);
	run_ok();
	assert_no_fails();
}
END_TEST

/* ---- Many ---- */

#define MANY_WATCHERS	4
#define MANY_EACH	25

static _Atomic int many_ready;
static _Atomic long many_downs;

/* MANY_EACH monitors on one target; each must get its own DOWN. */
static void
many_watcher(const void *arg)
{
	uint64_t t = *(const uint64_t *)arg, refs[MANY_EACH];
	struct snow_down_msg d;
	int i, j;

	for (i = 0; i < MANY_EACH; i++) {
		refs[i] = snow_process_monitor(t);
		for (j = 0; j < i; j++)
			A_CHECK(refs[j] != refs[i], "a reference twice");
	}
	atomic_fetch_add(&many_ready, 1);
	for (i = MANY_EACH - 1; i >= 0; i--) {
		d = down_of(refs[i], WAIT_MS);
		A_CHECK(d.ref == refs[i] && d.reason == SNOW_EXIT_ERROR,
		    "DOWN %d", i);
		if (d.ref == refs[i])
			atomic_fetch_add(&many_downs, 1);
	}
	A_CHECK(snow_actor_receive(50) == NULL, "more DOWNs than monitors");
}

START_TEST(many_monitors_on_one_target_each_get_a_down)
{
	uint64_t t;
	int i;

	reset_fails();
	atomic_store(&many_ready, 0);
	atomic_store(&many_downs, 0);
	init_ok(2);
	t = spawn_ok(target, NULL, 0, SNOW_PRIO_NORMAL);
	for (i = 0; i < MANY_WATCHERS; i++)
		spawn_ok(many_watcher, &t, sizeof(t), SNOW_PRIO_NORMAL);
	while (atomic_load(&many_ready) < MANY_WATCHERS)
		sleep_ms(1);
	ck_assert_int_eq(snow_actor_send(t, "e", 1), 0);
	run_ok();
	ck_assert_int_eq(atomic_load(&many_downs), MANY_WATCHERS * MANY_EACH);
	assert_no_fails();
}
END_TEST

/*
 * O(1) per monitor: a hub with HUB_N monitors from one watcher, half
 * removed again in an order unlike the one they were made in, the rest
 * fired at once by its end.  A cost linear in the count would make this
 * quadratic, far past the test's timeout.
 */
static void
hub_watcher(const void *arg)
{
	uint32_t n = *(const uint32_t *)arg, i, got = 0;
	uint64_t hub, *refs = malloc(n * sizeof(*refs));
	const struct snow_msg *m;

	A_CHECK(refs != NULL, "malloc");
	if (refs == NULL)
		return;
	hub = snow_actor_spawn(target, NULL, 0, SNOW_PRIO_NORMAL);
	for (i = 0; i < n; i++)
		refs[i] = snow_process_monitor(hub);
	for (i = 1; i < n; i += 2)
		A_CHECK(snow_process_demonitor(refs[n - i]) == 0,
		    "demonitor %u", n - i);
	A_CHECK(snow_actor_send(hub, "r", 1) == 0, "send");
	while (got < n / 2 && (m = snow_actor_receive(WAIT_MS)) != NULL) {
		const struct snow_down_msg *d = (const void *)m->data;

		A_CHECK(m->tag == SNOW_MSG_DOWN && d->pid == hub,
		    "not a DOWN of the hub");
		got++;
	}
	A_CHECK(got == n / 2, "%u DOWNs of %u", got, n / 2);
	A_CHECK(snow_actor_receive(50) == NULL, "a DOWN after demonitor");
	free(refs);
}

START_TEST(a_hub_of_many_monitors_costs_o1_each)
{
	uint32_t n = scaled_down() ? 20000 : 200000;

	reset_fails();
	init_ok(2);
	spawn_ok(hub_watcher, &n, sizeof(n), SNOW_PRIO_NORMAL);
	run_ok();
	assert_no_fails();
}
END_TEST

/* ---- Demonitor ---- */

static void
demonitor_actor(const void *arg)
{
	const struct snow_msg *m;
	uint64_t t, ref;

	(void)arg;
	/* Before the end: no DOWN ever. */
	t = snow_actor_spawn(target, NULL, 0, SNOW_PRIO_NORMAL);
	ref = snow_process_monitor(t);
	A_CHECK(snow_process_demonitor(ref) == 0, "demonitor live");
	A_CHECK(snow_process_demonitor(ref) == 1 && snow_errno() == ENOENT,
	    "demonitor twice");
	snow_actor_kill(t);
	A_CHECK(snow_actor_receive(100) == NULL, "a DOWN after demonitor");

	/* After the end, with the DOWN queued but not received. */
	t = snow_actor_spawn(target, NULL, 0, SNOW_PRIO_NORMAL);
	ref = snow_process_monitor(t);
	snow_actor_kill(t);
	snow_timer_sleep(50);		/* the DOWN is in the mailbox now */
	A_CHECK(snow_process_demonitor(ref) == 0, "demonitor queued");
	A_CHECK(snow_actor_receive(0) == NULL && snow_errno() == EAGAIN,
	    "the queued DOWN was handed out");

	/* A DOWN passed over by a selective receive, then demonitored. */
	t = snow_actor_spawn(target, NULL, 0, SNOW_PRIO_NORMAL);
	ref = snow_process_monitor(t);
	snow_actor_kill(t);
	A_CHECK(snow_actor_send_tag(snow_actor_self(), SNOW_MSG_USER + 1,
	    "x", 1) == 0, "send to self");
	snow_timer_sleep(50);
	m = snow_actor_receive_tag(SNOW_MSG_USER + 2, 0);
	A_CHECK(m == NULL, "a message of a tag never sent");
	A_CHECK(snow_process_demonitor(ref) == 0, "demonitor saved");
	m = snow_actor_receive(0);
	A_CHECK(m != NULL && m->tag == SNOW_MSG_USER + 1, "the data message");
	A_CHECK(snow_actor_receive(0) == NULL, "the saved DOWN survived");

	A_CHECK(snow_process_demonitor(12345) == 1 && snow_errno() == ENOENT,
	    "demonitor of an unknown ref");
	A_CHECK(snow_process_monitor(0) == 0 && snow_errno() == EINVAL,
	    "monitor(0)");
}

START_TEST(demonitor_removes_and_flushes)
{
	reset_fails();
	init_ok(2);
	spawn_ok(demonitor_actor, NULL, 0, SNOW_PRIO_NORMAL);
	run_ok();
	assert_no_fails();
}
END_TEST

START_TEST(monitor_errors_outside_actors)
{
	reset_fails();
	errno = 0;
	ck_assert_uint_eq(snow_process_monitor(1), 0);
	ck_assert_int_eq(snow_errno(), EPERM);
	ck_assert_uint_eq(snow_process_demonitor(1), 1);
	ck_assert_int_eq(snow_errno(), EPERM);
}
END_TEST

/* ---- Ordering with terminate and links ---- */

static _Atomic uint64_t term_tell;

static void
term_sends(const void *state, const void *reason)
{
	(void)state;
	(void)reason;
	snow_actor_send(atomic_load(&term_tell), "t", 1);
}

static void
term_target(const void *arg)
{
	(void)arg;
	snow_actor_set_terminate(snow_actor_self(), term_sends);
	snow_actor_send(atomic_load(&term_tell), "s", 1);	/* set */
	(void)snow_actor_receive(-1);
}

static void
order_watcher(const void *arg)
{
	const struct snow_msg *m;
	uint64_t t, ref;

	(void)arg;
	atomic_store(&term_tell, snow_actor_self());
	t = snow_actor_spawn(term_target, NULL, 0, SNOW_PRIO_NORMAL);
	ref = snow_process_monitor(t);
	/* Until its callback is set.  A fixed 20 ms sleep here let the
	 * kill come first when the target had not run yet (valgrind, a
	 * loaded machine): no callback, and the DOWN came first. */
	m = snow_actor_receive(WAIT_MS);
	A_CHECK(m != NULL && m->tag == SNOW_MSG_DATA && m->len == 1 &&
	    m->data[0] == 's', "the target never said its callback is set");
	snow_actor_kill(t);
	m = snow_actor_receive(WAIT_MS);
	A_CHECK(m != NULL && m->tag == SNOW_MSG_DATA && m->len == 1 &&
	    m->data[0] == 't', "the callback's message did not come first");
	m = snow_actor_receive(WAIT_MS);
	A_CHECK(m != NULL && m->tag == SNOW_MSG_DOWN &&
	    ((const struct snow_down_msg *)(const void *)m->data)->ref == ref,
	    "no DOWN after the callback's message");
}

START_TEST(down_comes_after_the_terminate_callback)
{
	reset_fails();
	init_ok(2);
	spawn_ok(order_watcher, NULL, 0, SNOW_PRIO_NORMAL);
	run_ok();
	assert_no_fails();
}
END_TEST

/* ---- Races ---- */

/*
 * Each round: a target, a monitor, and a kill from another worker racing
 * the watcher's demonitor.  Whatever the order, once demonitor returned 0
 * no DOWN of that monitor may come.
 */
struct race {
	uint32_t rounds;
	_Atomic uint64_t victim;
	_Atomic int go;
};

static void
killer(const void *arg)
{
	struct race *r = *(struct race *const *)arg;
	uint32_t i;
	uint64_t v;

	for (i = 0; i < r->rounds; i++) {
		while (atomic_load(&r->go) <= (int)i)
			snow_actor_yield();
		v = atomic_load(&r->victim);
		snow_actor_kill(v);
	}
}

static void
racer(const void *arg)
{
	struct race *r = *(struct race *const *)arg;
	uint64_t t, ref, raced = 0;
	uint32_t i;

	for (i = 0; i < r->rounds; i++) {
		t = snow_actor_spawn(target, NULL, 0, SNOW_PRIO_NORMAL);
		ref = snow_process_monitor(t);
		atomic_store(&r->victim, t);
		atomic_fetch_add(&r->go, 1);
		if (i % 2)
			snow_actor_yield();
		A_CHECK(snow_process_demonitor(ref) == 0, "round %u", i);
		if (snow_actor_receive_key(SNOW_MSG_DOWN, ref, 0) != NULL)
			raced++;
		snow_actor_kill(t);	/* if the killer went for another */
	}
	/* Stragglers on their way arrive within this; none may be seen. */
	A_CHECK(snow_actor_receive(200) == NULL, "a DOWN after demonitor");
	A_CHECK(raced == 0, "%llu DOWNs seen after demonitor",
	    (unsigned long long)raced);
}

START_TEST(demonitor_racing_the_end_never_lets_a_down_through)
{
	struct race r = { .rounds = scaled_down() ? 500 : 5000 };
	struct race *rp = &r;

	reset_fails();
	init_ok(2);
	spawn_ok(killer, &rp, sizeof(rp), SNOW_PRIO_NORMAL);
	spawn_ok(racer, &rp, sizeof(rp), SNOW_PRIO_NORMAL);
	run_ok();
	assert_no_fails();
}
END_TEST

static Suite *
monitor_suite(void)
{
	Suite *s = suite_create("monitor");
	TCase *tc = tcase_create("monitor");

	tcase_set_timeout(tc, TIMEOUT);
	tcase_add_test(tc, down_comes_once_with_the_reason);
	tcase_add_test(tc, monitor_of_the_not_alive_is_noproc_at_once);
	tcase_add_test(tc, many_monitors_on_one_target_each_get_a_down);
	tcase_add_test(tc, a_hub_of_many_monitors_costs_o1_each);
	tcase_add_test(tc, demonitor_removes_and_flushes);
	tcase_add_test(tc, monitor_errors_outside_actors);
	tcase_add_test(tc, down_comes_after_the_terminate_callback);
	tcase_add_test(tc, demonitor_racing_the_end_never_lets_a_down_through);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(monitor_suite());
}
