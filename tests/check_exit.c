/*
 * How actors end, as the Snow compiler asks for it: Erlang's exit/2
 * (snow_actor_exit(pid, reason)), trap_exit with no argument, terminate
 * callbacks that run as the actor before anyone hears of its end, and
 * the per-actor state pointer with its destructor.
 *
 * An observer learns how an actor ended the way a supervisor does: it
 * traps exits, links to the actor, and reads the reason from the
 * SNOW_MSG_EXIT message.  Actors never call ck_assert; they record what
 * they saw, and the test's thread checks it.
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
#define NO_REASON 255


/* ---- Observing an end ---- */

struct watch {
	uint64_t target;
	_Atomic uint64_t self;	/* the watcher's own PID */
	_Atomic int reason;	/* NO_REASON until the exit arrives */
	_Atomic int ready;	/* linked */
	_Atomic long before;	/* data messages that came before the exit */
};

/* Traps, links to w->target, and records the reason it ends with. */
static void
watcher(const void *arg)
{
	struct watch *w = *(struct watch *const *)arg;
	const struct snow_msg *m;

	A_CHECK(snow_actor_trap_exit() == 0, "trap_exit()");
	A_CHECK(snow_actor_link(w->target) == 0, "link");
	atomic_store(&w->self, snow_actor_self());
	atomic_store(&w->ready, 1);
	while ((m = snow_actor_receive(10000)) != NULL) {
		const struct snow_exit_msg *e = (const void *)m->data;

		if (m->tag != SNOW_MSG_EXIT) {
			atomic_fetch_add(&w->before, 1);
			continue;
		}
		A_CHECK(e->pid == w->target, "exit from %llu, not %llu",
		    (unsigned long long)e->pid,
		    (unsigned long long)w->target);
		atomic_store(&w->reason, (int)e->reason);
		return;
	}
	A_CHECK(0, "the watcher got no exit in 10 s");
}

static void
watch_start(struct watch *w, uint64_t target)
{
	struct watch *wp = w;

	w->target = target;
	atomic_store(&w->reason, NO_REASON);
	atomic_store(&w->ready, 0);
	atomic_store(&w->before, 0);
	spawn_ok(watcher, &wp, sizeof(wp), SNOW_PRIO_NORMAL);
	while (!atomic_load(&w->ready))
		sleep_ms(1);
}

/* ---- Targets ---- */

static _Atomic int got_quit;	/* a target saw its "q" */
static _Atomic int target_traps;	/* a trapping target set its flag */
static _Atomic uint64_t exit_msg_from;
static _Atomic int exit_msg_reason;

/* Waits for "q", then returns; an exit message is recorded. */
static void
target(const void *arg)
{
	const struct snow_msg *m;

	if (arg != NULL && *(const int *)arg) {
		A_CHECK(snow_actor_trap_exit() == 0, "trap_exit()");
		atomic_store(&target_traps, 1);
	}
	while ((m = snow_actor_receive(-1)) != NULL) {
		if (m->tag == SNOW_MSG_EXIT) {
			const struct snow_exit_msg *e = (const void *)m->data;

			atomic_store(&exit_msg_from, e->pid);
			atomic_store(&exit_msg_reason, (int)e->reason);
			continue;
		}
		if (m->len == 1 && m->data[0] == 'q') {
			atomic_store(&got_quit, 1);
			return;
		}
	}
}

/* Ends itself with the reason it is given. */
static void
self_exiter(const void *arg)
{
	uint8_t reason = *(const uint8_t *)arg;

	(void)snow_actor_receive(-1);		/* until watched */
	snow_actor_exit(snow_actor_self(), reason);
	A_CHECK(0, "exit(self, %u) returned", reason);
}

static uint64_t
target_spawn(int trap)
{
	atomic_store(&got_quit, 0);
	atomic_store(&target_traps, 0);
	atomic_store(&exit_msg_from, 0);
	atomic_store(&exit_msg_reason, NO_REASON);
	return spawn_ok(target, &trap, sizeof(trap), SNOW_PRIO_NORMAL);
}

/* ---- exit/2 ---- */

START_TEST(exit_from_main_ends_with_that_reason)
{
	static const uint8_t reasons[] = { SNOW_EXIT_ERROR, SNOW_EXIT_LINKED,
	    SNOW_EXIT_SHUTDOWN, SNOW_EXIT_CUSTOM, SNOW_EXIT_NOCONNECTION };
	struct watch w;
	size_t i;

	reset_fails();
	for (i = 0; i < sizeof(reasons); i++) {
		uint64_t t;

		init_ok(2);
		t = target_spawn(0);
		watch_start(&w, t);
		ck_assert_int_eq(snow_actor_exit(t, reasons[i]), 0);
		run_ok();
		ck_assert_int_eq(atomic_load(&w.reason), reasons[i]);
		ck_assert_int_eq(atomic_load(&got_quit), 0);
	}
	assert_no_fails();
}
END_TEST

START_TEST(exit_normal_is_ignored_by_a_non_trapper)
{
	struct watch w;
	uint64_t t;

	reset_fails();
	init_ok(2);
	t = target_spawn(0);
	watch_start(&w, t);
	ck_assert_int_eq(snow_actor_exit(t, SNOW_EXIT_NORMAL), 0);
	sleep_ms(20);
	ck_assert_int_eq(snow_actor_send(t, "q", 1), 0);
	run_ok();
	ck_assert_int_eq(atomic_load(&got_quit), 1);	/* it lived on */
	ck_assert_int_eq(atomic_load(&w.reason), SNOW_EXIT_NORMAL);
	assert_no_fails();
}
END_TEST

START_TEST(a_trapper_gets_exit_as_a_message_but_not_a_kill)
{
	struct watch w;
	uint64_t t, main_pid;

	reset_fails();
	init_ok(2);
	main_pid = snow_actor_self();
	t = target_spawn(1);
	watch_start(&w, t);
	/* An exit signal sent before the target ran trap_exit() kills it
	 * (and this test then waited for ever: ASan, loaded CI machine). */
	while (!atomic_load(&target_traps))
		sleep_ms(1);
	ck_assert_int_eq(snow_actor_exit(t, SNOW_EXIT_SHUTDOWN), 0);
	while (atomic_load(&exit_msg_reason) == NO_REASON &&
	    atomic_load(&w.reason) == NO_REASON)
		sleep_ms(1);
	ck_assert_int_eq(atomic_load(&exit_msg_reason), SNOW_EXIT_SHUTDOWN);
	ck_assert_uint_eq(atomic_load(&exit_msg_from), main_pid);
	ck_assert_int_eq(atomic_load(&w.reason), NO_REASON);	/* alive */
	ck_assert_int_eq(snow_actor_exit(t, SNOW_EXIT_KILLED), 0);
	run_ok();
	ck_assert_int_eq(atomic_load(&w.reason), SNOW_EXIT_KILLED);
	ck_assert_int_eq(atomic_load(&got_quit), 0);
	assert_no_fails();
}
END_TEST

/*
 * Runs without a receive, so without a point where an exit signal could
 * end it, until main says its signal was sent; then traps, with the
 * function of set_trap_exit (*arg 1) or trap_exit (0).  Nothing after
 * that may run: the signal came first.
 */
static _Atomic int late_trap_go, late_trap_running, late_trap_survived;

static void
late_trapper(const void *arg)
{
	atomic_store(&late_trap_running, 1);
	while (!atomic_load(&late_trap_go))
		;	/* no yield, no receive: the signal stays pending */
	if (*(const int *)arg)
		(void)snow_actor_set_trap_exit(1);
	else
		(void)snow_actor_trap_exit();
	atomic_store(&late_trap_survived, 1);
	(void)snow_actor_receive(-1);
}

/*
 * A signal that came before the trap ends the actor at the trap call.  A
 * supervisor told to shut down just after it was first scheduled used to
 * trap, start its children, and only then end, without stopping them:
 * its own supervisor started replacements while they were still alive.
 */
START_TEST(a_signal_before_the_trap_ends_the_actor_at_the_trap)
{
	int how;

	reset_fails();
	for (how = 0; how < 2; how++) {
		struct watch w;
		uint64_t t;

		atomic_store(&late_trap_go, 0);
		atomic_store(&late_trap_running, 0);
		atomic_store(&late_trap_survived, 0);
		init_ok(2);
		t = spawn_ok(late_trapper, &how, sizeof(how),
		    SNOW_PRIO_NORMAL);
		while (!atomic_load(&late_trap_running))
			sleep_ms(1);
		/* The watcher links from the other worker: t is busy. */
		watch_start(&w, t);
		ck_assert_int_eq(snow_actor_exit(t, SNOW_EXIT_SHUTDOWN), 0);
		atomic_store(&late_trap_go, 1);
		run_ok();
		ck_assert_int_eq(atomic_load(&w.reason), SNOW_EXIT_SHUTDOWN);
		ck_assert_msg(!atomic_load(&late_trap_survived), "%s returned "
		    "after an exit signal that came before it",
		    how ? "set_trap_exit(1)" : "trap_exit()");
	}
	assert_no_fails();
}
END_TEST

START_TEST(exit_to_self_ends_the_caller)
{
	uint8_t reason = SNOW_EXIT_CUSTOM;
	struct watch w;
	uint64_t t;

	reset_fails();
	init_ok(2);
	t = spawn_ok(self_exiter, &reason, sizeof(reason), SNOW_PRIO_NORMAL);
	watch_start(&w, t);
	ck_assert_int_eq(snow_actor_send(t, "go", 2), 0);
	run_ok();
	ck_assert_int_eq(atomic_load(&w.reason), SNOW_EXIT_CUSTOM);
	assert_no_fails();
}
END_TEST

static void
exit_errors_actor(const void *arg)
{
	uint64_t self = snow_actor_self(), dead = *(const uint64_t *)arg;
	int err;

	err = snow_actor_exit(0, SNOW_EXIT_ERROR);
	A_CHECK(err == EINVAL, "exit(0, ERROR): %d", err);
	err = snow_actor_exit(self, SNOW_EXIT_NOPROC);
	A_CHECK(err == EINVAL, "exit(self, NOPROC): %d", err);
	err = snow_actor_exit(self, UINT8_MAX);
	A_CHECK(err == EINVAL, "exit(self, 255): %d", err);
	err = snow_actor_exit(dead, SNOW_EXIT_ERROR);
	A_CHECK(err == ESRCH, "exit(dead, ERROR): %d", err);
	A_CHECK(snow_actor_set_trap_exit(1) == 0, "set_trap_exit(1) was on");
	A_CHECK(snow_actor_set_trap_exit(0) == 1, "set_trap_exit(0) was off");
	A_CHECK(snow_actor_trap_exit() == 0, "trap_exit()");
	A_CHECK(snow_actor_set_trap_exit(0) == 1, "trap_exit() left it off");
}

static void
nop(const void *arg)
{
	(void)arg;
}

START_TEST(exit_rejects_bad_arguments)
{
	uint64_t dead;

	reset_fails();
	ck_assert_int_eq(snow_actor_exit(1, SNOW_EXIT_ERROR), EPERM);
	ck_assert_int_eq(snow_actor_trap_exit(), EPERM);
	init_ok(2);
	dead = spawn_ok(nop, NULL, 0, SNOW_PRIO_NORMAL);
	while (snow_actor_kill(dead) != ESRCH)
		sleep_ms(1);
	spawn_ok(exit_errors_actor, &dead, sizeof(dead), SNOW_PRIO_NORMAL);
	ck_assert_int_eq(snow_actor_exit(0, SNOW_EXIT_ERROR), EINVAL);
	ck_assert_int_eq(snow_actor_exit(dead, SNOW_EXIT_ERROR), ESRCH);
	ck_assert_int_eq(snow_actor_exit(dead, SNOW_EXIT_REASON_MAX + 1),
	    EINVAL);
	ck_assert_int_eq(snow_actor_exit(snow_actor_self(), SNOW_EXIT_ERROR),
	    ESRCH);		/* the main process is no actor */
	run_ok();
	ck_assert_int_eq(snow_actor_exit(1, SNOW_EXIT_ERROR), EPERM);
	assert_no_fails();
}
END_TEST

/* ---- Terminate callbacks ---- */

static _Atomic long term_calls;
static _Atomic int term_reason;
static _Atomic uintptr_t term_state;
static _Atomic uint64_t term_notify;	/* who the callback tells */
static _Atomic long state_freed;
static _Atomic int term_mode;		/* what the callback does */
static _Atomic int ending_went;		/* an ending actor got its "go" */

enum { TERM_PLAIN, TERM_RECEIVES, TERM_WAITS_FOR_EVER };

static void
on_terminate(const void *state, const void *reason)
{
	atomic_fetch_add(&term_calls, 1);
	atomic_store(&term_reason, *(const uint8_t *)reason);
	atomic_store(&term_state, (uintptr_t)state);
	A_CHECK(snow_actor_self() != 0, "the callback runs outside an actor");
	A_CHECK(atomic_load(&state_freed) == 0, "state freed before the "
	    "callback");
	if (atomic_load(&term_notify) != 0)
		(void)snow_actor_send(atomic_load(&term_notify), "t", 1);
	if (atomic_load(&term_mode) == TERM_RECEIVES) {
		errno = 0;
		A_CHECK(snow_actor_receive(20) == NULL &&
		    snow_errno() == ETIMEDOUT, "receive in the callback");
	} else if (atomic_load(&term_mode) == TERM_WAITS_FOR_EVER) {
		(void)snow_actor_receive(-1);
		A_CHECK(0, "the callback's receive(-1) returned");
	}
}

static void
free_state(void *state)
{
	A_CHECK(state == (void *)&term_calls, "destroy got %p", state);
	atomic_fetch_add(&state_freed, 1);
}

/* How a terminating actor ends, in its own code. */
enum { END_RETURN, END_ERROR, END_PARKED, END_LOOPS };

static void
ending(const void *arg)
{
	int how = *(const int *)arg;

	A_CHECK(snow_actor_set_state(&term_calls, free_state) == 0,
	    "set_state");
	A_CHECK(snow_actor_state() == &term_calls, "state()");
	A_CHECK(snow_actor_set_terminate(snow_actor_self(), on_terminate) == 0,
	    "set_terminate(self)");
	(void)snow_actor_receive(-1);		/* until watched */
	atomic_store(&ending_went, 1);
	switch (how) {
	case END_ERROR:
		snow_actor_exit(snow_actor_self(), SNOW_EXIT_ERROR);
		break;
	case END_PARKED:
		(void)snow_actor_receive(-1);	/* killed here */
		break;
	case END_LOOPS:
		for (;;)
			snow_reduction_check();
	default:
		break;
	}
}

static void
term_reset(int mode)
{
	reset_fails();
	atomic_store(&term_calls, 0);
	atomic_store(&term_reason, NO_REASON);
	atomic_store(&term_state, 0);
	atomic_store(&term_notify, 0);
	atomic_store(&state_freed, 0);
	atomic_store(&term_mode, mode);
	atomic_store(&ending_went, 0);
}

/*
 * Until the ending actor has its "go": its callback is set and it is on
 * its way to how it ends.  A kill sent after a fixed sleep could come
 * before the actor first ran (valgrind, a loaded machine): killed with
 * no callback set, it failed term_check(), or a "running" kill hit it
 * parked in its first receive.
 */
static void
wait_ending_went(void)
{
	double end = now() + 20.0 * slack();

	while (!atomic_load(&ending_went) && now() < end)
		sleep_ms(1);
	ck_assert_msg(atomic_load(&ending_went), "the ending actor never "
	    "got its go");
}

/* Spawn an ending actor that ends how, watched; returns its PID. */
static uint64_t
ending_start(int how, struct watch *w)
{
	uint64_t pid = spawn_ok(ending, &how, sizeof(how), SNOW_PRIO_NORMAL);

	watch_start(w, pid);
	ck_assert_int_eq(snow_actor_send(pid, "go", 2), 0);
	return pid;
}

static void
term_check(struct watch *w, int reason)
{
	ck_assert_int_eq(atomic_load(&term_calls), 1);
	ck_assert_int_eq(atomic_load(&term_reason), reason);
	ck_assert_int_eq(atomic_load(&w->reason), reason);
	ck_assert_ptr_eq((void *)atomic_load(&term_state), &term_calls);
	ck_assert_int_eq(atomic_load(&state_freed), 1);
	assert_no_fails();
}

/* One runtime: an ending actor that ends how, its callback doing mode;
 * both the callback and the watcher must see reason. */
static void
term_round(int mode, int how, int reason)
{
	struct watch w;

	term_reset(mode);
	init_ok(2);
	(void)ending_start(how, &w);
	run_ok();
	term_check(&w, reason);
}

START_TEST(terminate_runs_once_on_return_and_on_exit)
{
	term_round(TERM_PLAIN, END_RETURN, SNOW_EXIT_NORMAL);
	term_round(TERM_PLAIN, END_ERROR, SNOW_EXIT_ERROR);
}
END_TEST

START_TEST(terminate_runs_on_kills_parked_and_running)
{
	struct watch w;
	uint64_t pid;

	term_reset(TERM_PLAIN);
	init_ok(2);
	pid = ending_start(END_PARKED, &w);
	wait_ending_went();
	sleep_ms(20);				/* parked again, most likely */
	ck_assert_int_eq(snow_actor_kill(pid), 0);
	run_ok();
	term_check(&w, SNOW_EXIT_KILLED);

	term_reset(TERM_PLAIN);
	init_ok(2);
	pid = ending_start(END_LOOPS, &w);
	wait_ending_went();
	sleep_ms(20);
	ck_assert_int_eq(snow_actor_kill(pid), 0);
	run_ok();
	term_check(&w, SNOW_EXIT_KILLED);
}
END_TEST

/* Parked for ever at shutdown: ended as blocked, callback included.
 * (Unwatched: a watcher waiting too would be ended with it.) */
START_TEST(terminate_runs_for_actors_blocked_for_ever)
{
	int how = END_PARKED;
	uint64_t pid;

	term_reset(TERM_PLAIN);
	init_ok(2);
	pid = spawn_ok(ending, &how, sizeof(how), SNOW_PRIO_NORMAL);
	ck_assert_int_eq(snow_actor_send(pid, "go", 2), 0);
	run_ok();
	ck_assert_int_eq(atomic_load(&term_calls), 1);
	ck_assert_int_eq(atomic_load(&term_reason), SNOW_EXIT_KILLED);
	ck_assert_int_eq(atomic_load(&state_freed), 1);
	ck_assert_uint_eq(stats_ok().blocked_ended, 1);
	assert_no_fails();
}
END_TEST

/* The callback's message reaches a linked watcher before the exit. */
START_TEST(terminate_runs_before_links_hear)
{
	struct watch w;
	uint64_t pid;
	int how = END_RETURN;

	term_reset(TERM_PLAIN);
	init_ok(2);
	pid = spawn_ok(ending, &how, sizeof(how), SNOW_PRIO_NORMAL);
	watch_start(&w, pid);
	atomic_store(&term_notify, atomic_load(&w.self));
	ck_assert_int_eq(snow_actor_send(pid, "go", 2), 0);
	run_ok();
	term_check(&w, SNOW_EXIT_NORMAL);
	ck_assert_int_eq(atomic_load(&w.before), 1);
}
END_TEST

/* The callback is actor code: it may receive, and a kill ends it with
 * the actor's first reason. */
START_TEST(terminate_may_receive_and_be_killed)
{
	struct watch w;
	uint64_t pid;

	term_round(TERM_RECEIVES, END_ERROR, SNOW_EXIT_ERROR);

	term_reset(TERM_WAITS_FOR_EVER);
	init_ok(2);
	pid = ending_start(END_ERROR, &w);
	/* Or the actor ended without its callback: then fail, not hang. */
	while (atomic_load(&term_calls) == 0 &&
	    atomic_load(&w.reason) == NO_REASON)
		sleep_ms(1);
	ck_assert_int_eq(atomic_load(&term_calls), 1);
	sleep_ms(10);
	ck_assert_int_eq(atomic_load(&w.reason), NO_REASON);	/* not yet */
	ck_assert_int_eq(snow_actor_kill(pid), 0);
	run_ok();
	term_check(&w, SNOW_EXIT_ERROR);
}
END_TEST

static void
parked(const void *arg)
{
	(void)arg;
	(void)snow_actor_receive(-1);
}

/* Set from another thread; replaced; removed; refused once ending. */
START_TEST(set_terminate_from_outside_and_its_errors)
{
	uint64_t a, b, dead;

	term_reset(TERM_PLAIN);
	ck_assert_int_eq(snow_actor_set_terminate(1, on_terminate), EPERM);
	ck_assert_int_eq(snow_actor_set_state(NULL, NULL), EPERM);
	ck_assert_ptr_null(snow_actor_state());
	init_ok(2);
	a = spawn_ok(parked, NULL, 0, SNOW_PRIO_NORMAL);
	b = spawn_ok(parked, NULL, 0, SNOW_PRIO_NORMAL);
	dead = spawn_ok(nop, NULL, 0, SNOW_PRIO_NORMAL);
	while (snow_actor_kill(dead) != ESRCH)
		sleep_ms(1);
	ck_assert_int_eq(snow_actor_set_terminate(0, on_terminate), EINVAL);
	ck_assert_int_eq(snow_actor_set_terminate(dead, on_terminate), ESRCH);
	ck_assert_int_eq(snow_actor_set_terminate(a, on_terminate), 0);
	ck_assert_int_eq(snow_actor_set_terminate(a, on_terminate), 0);
	ck_assert_int_eq(snow_actor_set_terminate(b, on_terminate), 0);
	ck_assert_int_eq(snow_actor_set_terminate(b, NULL), 0);	/* removed */
	ck_assert_int_eq(snow_actor_send(a, "x", 1), 0);
	ck_assert_int_eq(snow_actor_send(b, "x", 1), 0);
	run_ok();
	ck_assert_int_eq(atomic_load(&term_calls), 1);	/* a's, once */
	ck_assert_int_eq(atomic_load(&term_reason), SNOW_EXIT_NORMAL);
	ck_assert_ptr_null((void *)atomic_load(&term_state));
	ck_assert_int_eq(snow_actor_set_terminate(a, on_terminate), EPERM);
	assert_no_fails();
}
END_TEST

#define MANY_MAX 20000
static _Atomic int many_calls[MANY_MAX];

static void
count_terminate(const void *state, const void *reason)
{
	uint8_t r = *(const uint8_t *)reason;

	A_CHECK(r == SNOW_EXIT_KILLED || r == SNOW_EXIT_NORMAL, "reason %u",
	    r);
	atomic_fetch_add((_Atomic int *)(uintptr_t)state, 1);
}

static void
short_lived(const void *arg)
{
	unsigned i = *(const unsigned *)arg;

	(void)snow_actor_set_state(&many_calls[i], NULL);
	(void)snow_actor_set_terminate(snow_actor_self(), count_terminate);
	snow_actor_yield();
}

/* Thousands of actors, half of them killed as they run: a callback
 * that was set runs once, never twice. */
START_TEST(terminate_runs_exactly_once_under_kills)
{
	unsigned n = scaled_down() ? 2000 : MANY_MAX, i, killed_ran = 0;

	reset_fails();
	for (i = 0; i < n; i++)
		atomic_store(&many_calls[i], 0);
	init_ok(2);
	for (i = 0; i < n; i++) {
		uint64_t pid = spawn_ok(short_lived, &i, sizeof(i),
		    SNOW_PRIO_NORMAL);

		if (i % 2 == 0)
			(void)snow_actor_kill(pid);
	}
	run_ok();
	for (i = 0; i < n; i++) {
		int calls = atomic_load(&many_calls[i]);

		/* Killed before it set its callback, an actor has none. */
		ck_assert_msg(calls == 1 || (i % 2 == 0 && calls == 0),
		    "actor %u: %d calls", i, calls);
		killed_ran += i % 2 == 0 && calls == 1;
	}
	ck_assert_uint_eq(stats_ok().exited, n + 0u);
	assert_no_fails();
	printf("terminate under kills: %u of %u killed actors had set their "
	    "callback\n", killed_ran, n / 2);
}
END_TEST

static Suite *
exit_suite(void)
{
	Suite *s = suite_create("exit");
	TCase *tc = tcase_create("exit2");

	tcase_set_timeout(tc, TIMEOUT);
	tcase_add_test(tc, exit_from_main_ends_with_that_reason);
	tcase_add_test(tc, exit_normal_is_ignored_by_a_non_trapper);
	tcase_add_test(tc, a_trapper_gets_exit_as_a_message_but_not_a_kill);
	tcase_add_test(tc, a_signal_before_the_trap_ends_the_actor_at_the_trap);
	tcase_add_test(tc, exit_to_self_ends_the_caller);
	tcase_add_test(tc, exit_rejects_bad_arguments);
	suite_add_tcase(s, tc);

	tc = tcase_create("terminate");
	tcase_set_timeout(tc, TIMEOUT);
	tcase_add_test(tc, terminate_runs_once_on_return_and_on_exit);
	tcase_add_test(tc, terminate_runs_on_kills_parked_and_running);
	tcase_add_test(tc, terminate_runs_for_actors_blocked_for_ever);
	tcase_add_test(tc, terminate_runs_before_links_hear);
	tcase_add_test(tc, terminate_may_receive_and_be_killed);
	tcase_add_test(tc, set_terminate_from_outside_and_its_errors);
	tcase_add_test(tc, terminate_runs_exactly_once_under_kills);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(exit_suite());
}
