/*
 * Supervisors: every strategy restarts what it should and nothing else,
 * every restart type, the restart intensity, shutdown in reverse start
 * order with timeouts and kills, simple_one_for_one's dynamic children,
 * nested supervisors, and the Snow compiler's config blob.
 *
 * The children are kid(): each records its PID and how often it started,
 * by its index, and then does what behaviour[] says.  The test's thread
 * drives them with messages and looks at what they recorded.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <snow/runtime.h>

#include "actor_check.h"
#include "run_suite.h"
#include "snow_ok.h"
#include "test_env.h"
#include "test_mem.h"

#define TIMEOUT 120
#define KIDS 8

enum { B_WAIT, B_FAIL_AT_ONCE, B_TRAP_AND_IGNORE };

static _Atomic int starts[KIDS];
static _Atomic uint64_t kid_pid[KIDS];
static _Atomic int behaviour[KIDS];
static _Atomic int end_order[KIDS];
static _Atomic int ends;
static _Atomic int fail_gate;	/* B_FAIL_AT_ONCE waits for it to open */

static void
record_end(const void *state, const void *reason)
{
	(void)reason;
	atomic_store(&end_order[atomic_fetch_add(&ends, 1) % KIDS],
	    (int)(intptr_t)state);
}

/* A child: 'f' fails it (exit error), 'r' returns (normal). */
static void
kid(const void *arg)
{
	int i = *(const int *)arg;
	const struct snow_msg *m;

	atomic_store(&kid_pid[i], snow_actor_self());
	(void)snow_actor_set_state((void *)(intptr_t)i, NULL);
	(void)snow_actor_set_terminate(snow_actor_self(), record_end);
	/* Trap before the start is counted: a counted start then means a
	 * kid fully set up, whatever the test does next. */
	if (atomic_load(&behaviour[i]) == B_TRAP_AND_IGNORE)
		(void)snow_actor_trap_exit();
	atomic_fetch_add(&starts[i], 1);
	if (atomic_load(&behaviour[i]) == B_FAIL_AT_ONCE) {
		while (!atomic_load(&fail_gate))
			(void)snow_actor_receive(1);	/* nothing comes */
		snow_actor_exit(snow_actor_self(), SNOW_EXIT_ERROR);
	}
	while ((m = snow_actor_receive(-1)) != NULL) {
		if (m->tag != SNOW_MSG_DATA || m->len != 1)
			continue;	/* a trapped shutdown: ignored */
		if (m->data[0] == 'f')
			snow_actor_exit(snow_actor_self(), SNOW_EXIT_ERROR);
		if (m->data[0] == 'r')
			return;
	}
}

static const int idx[KIDS] = { 0, 1, 2, 3, 4, 5, 6, 7 };

static struct snow_child_spec
kid_spec(int i, uint8_t restart)
{
	struct snow_child_spec c = { .id = "kid", .start = kid,
	    .args = &idx[i], .args_size = sizeof(int), .restart = restart,
	    .shutdown = SNOW_SHUTDOWN_TIMEOUT, .shutdown_ms = 2000 };

	return c;
}

static void
reset_kids(void)
{
	int i;

	reset_fails();
	for (i = 0; i < KIDS; i++) {
		atomic_store(&starts[i], 0);
		atomic_store(&kid_pid[i], 0);
		atomic_store(&behaviour[i], B_WAIT);
		atomic_store(&end_order[i], -1);
	}
	atomic_store(&ends, 0);
	atomic_store(&fail_gate, 1);
}

/* Wait until kid i has started n times (and recorded its PID). */
static void
wait_starts(int i, int n)
{
	double end = now() + 20.0;

	while (atomic_load(&starts[i]) < n && now() < end)
		sleep_ms(1);
	ck_assert_int_eq(atomic_load(&starts[i]), n);
	sleep_ms(5);
}

/*
 * Wait until kids 0 to n - 1 have each started once.  A supervisor
 * spawns its children in order but does not wait for them to run: on two
 * workers (and valgrind, a loaded machine) the last may have started
 * while an earlier one has not, with no PID to poke yet and no terminate
 * callback to record its end.
 */
static void
wait_all_started(int n)
{
	int i;

	for (i = 0; i < n; i++)
		wait_starts(i, 1);
}

static void
poke(int i, char what)
{
	uint64_t pid = atomic_load(&kid_pid[i]);

	ck_assert_uint_ne(pid, 0);
	ck_assert_int_eq(snow_actor_send(pid, &what, 1), 0);
}

static uint64_t
start_sup(uint8_t strategy, uint32_t max_r, uint64_t max_s,
    struct snow_child_spec *kids, uint32_t n)
{
	struct snow_sup_spec spec = { strategy, max_r, max_s, n, kids };
	uint64_t sup = snow_supervisor_start_spec(&spec);

	ck_assert_uint_ne(sup, UINT64_MAX);
	return sup;
}

/* The supervisor's end reason, through a monitor. */
static uint64_t
down_reason(uint64_t ref)
{
	const struct snow_msg *m = snow_actor_receive_key(SNOW_MSG_DOWN, ref,
	    20000);

	ck_assert_ptr_nonnull(m);
	return ((const struct snow_down_msg *)(const void *)m->data)->reason;
}

static void
stop_sup(uint64_t sup)
{
	uint64_t ref = snow_process_monitor(sup);

	ck_assert_int_eq(snow_actor_exit(sup, SNOW_EXIT_SHUTDOWN), 0);
	ck_assert_uint_eq(down_reason(ref), SNOW_EXIT_SHUTDOWN);
}

/* ---- Strategies ---- */

START_TEST(one_for_one_restarts_only_the_failed_child)
{
	struct snow_child_spec kids[2] = {
		kid_spec(0, SNOW_RESTART_PERMANENT),
		kid_spec(1, SNOW_RESTART_PERMANENT) };
	uint64_t sup, first0, first1;

	reset_kids();
	init_ok(2);
	sup = start_sup(SNOW_SUP_ONE_FOR_ONE, 5, 10, kids, 2);
	wait_starts(0, 1);
	wait_starts(1, 1);
	first0 = atomic_load(&kid_pid[0]);
	first1 = atomic_load(&kid_pid[1]);
	ck_assert_uint_eq(snow_supervisor_count_children(sup), 2);
	poke(0, 'f');
	wait_starts(0, 2);
	ck_assert_uint_ne(atomic_load(&kid_pid[0]), first0);
	ck_assert_uint_eq(atomic_load(&kid_pid[1]), first1);
	ck_assert_int_eq(atomic_load(&starts[1]), 1);
	ck_assert_uint_eq(snow_supervisor_count_children(sup), 2);
	stop_sup(sup);
	run_ok();
	assert_no_fails();
}
END_TEST

START_TEST(one_for_all_restarts_every_child)
{
	struct snow_child_spec kids[3] = {
		kid_spec(0, SNOW_RESTART_PERMANENT),
		kid_spec(1, SNOW_RESTART_PERMANENT),
		kid_spec(2, SNOW_RESTART_PERMANENT) };
	uint64_t sup;

	reset_kids();
	init_ok(2);
	sup = start_sup(SNOW_SUP_ONE_FOR_ALL, 5, 10, kids, 3);
	wait_all_started(3);
	poke(1, 'f');
	wait_starts(0, 2);
	wait_starts(1, 2);
	wait_starts(2, 2);
	/* The others went down last started first: 2, then 0. */
	ck_assert_int_eq(atomic_load(&end_order[0]), 1);
	ck_assert_int_eq(atomic_load(&end_order[1]), 2);
	ck_assert_int_eq(atomic_load(&end_order[2]), 0);
	stop_sup(sup);
	run_ok();
	assert_no_fails();
}
END_TEST

START_TEST(rest_for_one_restarts_the_later_children)
{
	struct snow_child_spec kids[3] = {
		kid_spec(0, SNOW_RESTART_PERMANENT),
		kid_spec(1, SNOW_RESTART_PERMANENT),
		kid_spec(2, SNOW_RESTART_PERMANENT) };
	uint64_t sup;

	reset_kids();
	init_ok(2);
	sup = start_sup(SNOW_SUP_REST_FOR_ONE, 5, 10, kids, 3);
	wait_all_started(3);
	poke(1, 'f');
	wait_starts(1, 2);
	wait_starts(2, 2);
	ck_assert_int_eq(atomic_load(&starts[0]), 1);
	stop_sup(sup);
	run_ok();
	assert_no_fails();
}
END_TEST

/* ---- Restart types and intensity ---- */

START_TEST(restart_types_say_when)
{
	struct snow_child_spec kids[4] = {
		kid_spec(0, SNOW_RESTART_PERMANENT),
		kid_spec(1, SNOW_RESTART_TRANSIENT),
		kid_spec(2, SNOW_RESTART_TRANSIENT),
		kid_spec(3, SNOW_RESTART_TEMPORARY) };
	uint64_t sup;
	double t0;

	reset_kids();
	init_ok(2);
	sup = start_sup(SNOW_SUP_ONE_FOR_ONE, 10, 10, kids, 4);
	wait_all_started(4);
	poke(0, 'r');		/* permanent, normal end: restarted */
	poke(1, 'r');		/* transient, normal end: not */
	poke(2, 'f');		/* transient, failed: restarted */
	poke(3, 'f');		/* temporary, failed: not */
	wait_starts(0, 2);
	wait_starts(2, 2);
	/* Kids 1 and 3 may not have ended yet, nor the supervisor heard of
	 * it: 50 ms were not always enough.  Wait (bounded) until it counts
	 * two children, which it never does if it restarts 1 or 3. */
	t0 = now();
	while (snow_supervisor_count_children(sup) != 2 &&
	    now() - t0 < 20 * slack())
		sleep_ms(1);
	ck_assert_int_eq(atomic_load(&starts[1]), 1);
	ck_assert_int_eq(atomic_load(&starts[3]), 1);
	ck_assert_uint_eq(snow_supervisor_count_children(sup), 2);
	stop_sup(sup);
	run_ok();
	assert_no_fails();
}
END_TEST

START_TEST(past_the_intensity_the_supervisor_shuts_down)
{
	struct snow_child_spec kids[2] = {
		kid_spec(0, SNOW_RESTART_PERMANENT),
		kid_spec(1, SNOW_RESTART_PERMANENT) };
	uint64_t sup, ref;

	reset_kids();
	init_ok(2);
	sup = start_sup(SNOW_SUP_ONE_FOR_ONE, 2, 10, kids, 2);
	ref = snow_process_monitor(sup);
	/* Both: on two workers kid 1 may run before kid 0 has. */
	wait_starts(0, 1);
	wait_starts(1, 1);
	atomic_store(&behaviour[0], B_FAIL_AT_ONCE);
	poke(0, 'f');
	/* Three failures in the window: two restarts allowed, then the
	 * supervisor ends, its other child with it. */
	ck_assert_uint_eq(down_reason(ref), SNOW_EXIT_SHUTDOWN);
	ck_assert_int_eq(atomic_load(&starts[0]), 3);
	run_ok();
	ck_assert_uint_eq(stats_ok().exited, stats_ok().spawned);
	assert_no_fails();
}
END_TEST

/* ---- Shutdown ---- */

START_TEST(shutdown_is_last_first_with_a_kill_after_the_timeout)
{
	struct snow_child_spec kids[3] = {
		kid_spec(0, SNOW_RESTART_PERMANENT),
		kid_spec(1, SNOW_RESTART_PERMANENT),
		kid_spec(2, SNOW_RESTART_PERMANENT) };
	uint64_t sup, ref;
	double t0;

	reset_kids();
	kids[1].shutdown_ms = 100;		/* it ignores shutdown */
	kids[2].shutdown = SNOW_SHUTDOWN_BRUTAL;
	atomic_store(&behaviour[1], B_TRAP_AND_IGNORE);
	init_ok(2);
	sup = start_sup(SNOW_SUP_ONE_FOR_ONE, 5, 10, kids, 3);
	wait_all_started(3);		/* kid 1 traps, each has its callback */
	ref = snow_process_monitor(sup);
	t0 = now();
	ck_assert_int_eq(snow_actor_exit(sup, SNOW_EXIT_SHUTDOWN), 0);
	ck_assert_uint_eq(down_reason(ref), SNOW_EXIT_SHUTDOWN);
	ck_assert_msg(now() - t0 >= 0.09, "the trapping child was killed "
	    "before its timeout");
	ck_assert_int_eq(atomic_load(&ends), 3);
	ck_assert_int_eq(atomic_load(&end_order[0]), 2);
	ck_assert_int_eq(atomic_load(&end_order[1]), 1);
	ck_assert_int_eq(atomic_load(&end_order[2]), 0);
	run_ok();
	assert_no_fails();
}
END_TEST

/* ---- simple_one_for_one ---- */

START_TEST(simple_one_for_one_starts_children_on_demand)
{
	struct snow_child_spec tmpl = kid_spec(0, SNOW_RESTART_PERMANENT);
	uint64_t sup, pids[3], old;
	int i;

	reset_kids();
	tmpl.args = NULL;
	tmpl.args_size = 0;
	init_ok(2);
	sup = start_sup(SNOW_SUP_SIMPLE_ONE_FOR_ONE, 5, 10, &tmpl, 1);
	ck_assert_uint_eq(snow_supervisor_count_children(sup), 0);
	for (i = 0; i < 3; i++) {
		pids[i] = snow_supervisor_start_child(sup, &idx[i + 1],
		    sizeof(int));
		ck_assert_uint_ne(pids[i], UINT64_MAX);
		wait_starts(i + 1, 1);
		ck_assert_uint_eq(atomic_load(&kid_pid[i + 1]), pids[i]);
	}
	ck_assert_uint_eq(snow_supervisor_count_children(sup), 3);
	ck_assert_uint_eq(snow_supervisor_terminate_child(sup, pids[0]), 0);
	ck_assert_uint_eq(snow_supervisor_count_children(sup), 2);
	ck_assert_uint_eq(snow_supervisor_terminate_child(sup, pids[0]), 1);
	old = atomic_load(&kid_pid[2]);
	poke(2, 'f');			/* permanent: restarted with its args */
	wait_starts(2, 2);
	ck_assert_uint_ne(atomic_load(&kid_pid[2]), old);
	ck_assert_uint_eq(snow_supervisor_count_children(sup), 2);
	ck_assert_int_eq(atomic_load(&starts[1]), 1);
	stop_sup(sup);
	run_ok();
	assert_no_fails();
}
END_TEST

/* ---- Nesting ---- */

static struct snow_child_spec nested_kids[1];
static struct snow_sup_spec nested_spec;

/*
 * A child that fails at every start, under an inner supervisor allowed
 * one restart, under a top one allowed five: each inner supervisor gives
 * up after two starts, the top one restarts it five times, then gives up
 * too.  So exactly 12 starts, and the top's other child started once.
 */
START_TEST(nested_supervisors_restart_at_both_levels)
{
	struct snow_child_spec top[2];
	uint64_t sup, ref;

	reset_kids();
	nested_kids[0] = kid_spec(0, SNOW_RESTART_PERMANENT);
	nested_spec = (struct snow_sup_spec){ SNOW_SUP_ONE_FOR_ONE, 1, 60, 1,
	    nested_kids };
	top[0] = (struct snow_child_spec){ .id = "inner",
	    .restart = SNOW_RESTART_PERMANENT, .shutdown =
	    SNOW_SHUTDOWN_TIMEOUT, .type = SNOW_CHILD_SUPERVISOR,
	    .sup = &nested_spec };
	top[1] = kid_spec(1, SNOW_RESTART_PERMANENT);
	atomic_store(&behaviour[0], B_FAIL_AT_ONCE);
	atomic_store(&fail_gate, 0);	/* or it could give up before the
					 * monitor, whose DOWN is then noproc */
	init_ok(2);
	sup = start_sup(SNOW_SUP_ONE_FOR_ONE, 5, 60, top, 2);
	ref = snow_process_monitor(sup);
	atomic_store(&fail_gate, 1);
	ck_assert_uint_eq(down_reason(ref), SNOW_EXIT_SHUTDOWN);
	ck_assert_int_eq(atomic_load(&starts[0]), 12);
	ck_assert_int_le(atomic_load(&starts[1]), 1);
	run_ok();
	ck_assert_uint_eq(stats_ok().exited, stats_ok().spawned);
	assert_no_fails();
}
END_TEST

/* ---- The compiler's blob ---- */

static size_t
put(unsigned char *b, uint64_t v, unsigned bytes)
{
	unsigned i;

	for (i = 0; i < bytes; i++)
		b[i] = (unsigned char)(v >> (8 * i));
	return bytes;
}

/* A blob of n kids, as DESIGN.md lays it out. */
static size_t
blob_of(unsigned char *b, uint8_t strategy, int n, uint8_t restart)
{
	size_t at = 0;
	int i;

	at += put(b + at, strategy, 1);
	at += put(b + at, 3, 4);			/* max restarts */
	at += put(b + at, 5, 8);			/* max seconds */
	at += put(b + at, (uint64_t)n, 4);
	for (i = 0; i < n; i++) {
		at += put(b + at, 3, 4);
		memcpy(b + at, "kid", 3);
		at += 3;
		at += put(b + at, (uint64_t)(uintptr_t)kid, 8);
		at += put(b + at, (uint64_t)(uintptr_t)&idx[i], 8);
		at += put(b + at, sizeof(int), 8);
		at += put(b + at, restart, 1);
		at += put(b + at, SNOW_SHUTDOWN_TIMEOUT, 1);
		at += put(b + at, 1000, 8);
		at += put(b + at, SNOW_CHILD_WORKER, 1);
	}
	return at;
}

START_TEST(the_compilers_blob_starts_a_supervisor_that_restarts)
{
	unsigned char b[512];
	size_t len = blob_of(b, SNOW_SUP_ONE_FOR_ONE, 2,
	    SNOW_RESTART_PERMANENT);
	uint64_t sup;

	reset_kids();
	init_ok(2);
	sup = snow_supervisor_start(b, len);
	ck_assert_uint_ne(sup, UINT64_MAX);
	wait_all_started(2);		/* starts[0] is checked below */
	poke(1, 'f');
	wait_starts(1, 2);
	ck_assert_int_eq(atomic_load(&starts[0]), 1);
	ck_assert_uint_eq(snow_supervisor_count_children(sup), 2);
	/* Malformed: every one refused with EINVAL, nothing started. */
	errno = 0;
	ck_assert_uint_eq(snow_supervisor_start(b, len - 1), UINT64_MAX);
	ck_assert_int_eq(snow_errno(), EINVAL);
	errno = 0;
	ck_assert_uint_eq(snow_supervisor_start(b, len + 1), UINT64_MAX);
	ck_assert_int_eq(snow_errno(), EINVAL);
	b[0] = 9;			/* no such strategy */
	errno = 0;
	ck_assert_uint_eq(snow_supervisor_start(b, len), UINT64_MAX);
	ck_assert_int_eq(snow_errno(), EINVAL);
	len = blob_of(b, SNOW_SUP_ONE_FOR_ONE, 1, 7);	/* no such restart */
	errno = 0;
	ck_assert_uint_eq(snow_supervisor_start(b, len), UINT64_MAX);
	ck_assert_int_eq(snow_errno(), EINVAL);
	errno = 0;
	ck_assert_uint_eq(snow_supervisor_start(NULL, 10), UINT64_MAX);
	ck_assert_int_eq(snow_errno(), EINVAL);
	ck_assert_int_eq(atomic_load(&starts[0]), 1);
	stop_sup(sup);
	run_ok();
	assert_no_fails();
}
END_TEST

START_TEST(supervisor_errors)
{
	struct snow_child_spec kids[1] = { kid_spec(0, 9) };
	struct snow_sup_spec bad = { SNOW_SUP_ONE_FOR_ONE, 1, 1, 1, kids };
	uint64_t sup;

	reset_kids();
	init_ok(2);
	errno = 0;
	ck_assert_uint_eq(snow_supervisor_start_spec(NULL), UINT64_MAX);
	ck_assert_int_eq(snow_errno(), EINVAL);
	errno = 0;
	ck_assert_uint_eq(snow_supervisor_start_spec(&bad), UINT64_MAX);
	ck_assert_int_eq(snow_errno(), EINVAL);
	kids[0] = kid_spec(0, SNOW_RESTART_PERMANENT);
	sup = start_sup(SNOW_SUP_ONE_FOR_ONE, 1, 1, kids, 1);
	errno = 0;
	ck_assert_uint_eq(snow_supervisor_start_child(sup, NULL, 0),
	    UINT64_MAX);
	ck_assert_int_eq(snow_errno(), EINVAL);	/* not simple_one_for_one */
	ck_assert_uint_eq(snow_supervisor_terminate_child(sup, 12345), 1);
	stop_sup(sup);
	ck_assert_uint_eq(snow_supervisor_count_children(sup), 0);
	ck_assert_uint_eq(snow_supervisor_terminate_child(sup, 1), 1);
	errno = 0;
	ck_assert_uint_eq(snow_supervisor_start_child(sup, NULL, 0),
	    UINT64_MAX);
	ck_assert_int_eq(snow_errno(), ESRCH);
	run_ok();
	errno = 0;
	ck_assert_uint_eq(snow_supervisor_start_spec(&bad), UINT64_MAX);
	assert_no_fails();
}
END_TEST

/* ---- The soak ---- */

/*
 * A tree (a top supervisor of a random strategy: workers and a nested
 * supervisor of workers) under random failures and kills from the test's
 * thread, for SNOW_SOAK_SECONDS (2 s by default).  Checked throughout:
 * never two instances of one child alive at once.  At the end: every
 * child is running again, every start was matched by one end, and RSS
 * did not grow past a slack once warmed up.
 */
#define SOAK_KIDS	12	/* 8 at the top, 4 nested */
#define SOAK_TOP	8

static _Atomic int soak_live[SOAK_KIDS];
static _Atomic long soak_starts, soak_ends;
static _Atomic uint64_t soak_pid[SOAK_KIDS];

static void
soak_end(const void *state, const void *reason)
{
	int i = (int)(intptr_t)state;

	(void)reason;
	atomic_fetch_sub(&soak_live[i], 1);
	atomic_fetch_add(&soak_ends, 1);
}

static void
soak_kid(const void *arg)
{
	int i = *(const int *)arg;
	const struct snow_msg *m;

	A_CHECK(atomic_fetch_add(&soak_live[i], 1) == 0,
	    "child %d alive twice", i);
	atomic_fetch_add(&soak_starts, 1);
	(void)snow_actor_set_state((void *)(intptr_t)i, NULL);
	(void)snow_actor_set_terminate(snow_actor_self(), soak_end);
	atomic_store(&soak_pid[i], snow_actor_self());
	while ((m = snow_actor_receive(-1)) != NULL)
		if (m->len == 1 && m->data[0] == 'f')
			snow_actor_exit(snow_actor_self(), SNOW_EXIT_ERROR);
}

/*
 * The PIDs the test's thread poked, so that the end can wait for each of
 * them: a kill or an 'f' sent just before the poking stops takes effect
 * a little later (under qemu, milliseconds), after which the supervisor
 * restarts the child.  Counting instances before that sees a child
 * between its end and its restart.
 */
#define SOAK_MAX_POKES	65536
static uint64_t soak_poked[SOAK_MAX_POKES];

/*
 * Wait until every poked instance has ended: a monitor's DOWN comes after
 * the instance's terminate callback ran and after its exit was sent to its
 * supervisor (links are told first), so from here on the supervisors know
 * of every end, and the count of instances can only come back up.
 */
static void
soak_settle(long pokes)
{
	long i;

	for (i = 0; i < pokes; i++) {
		uint64_t ref = snow_process_monitor(soak_poked[i]);

		ck_assert_uint_ne(ref, 0);
		ck_assert_msg(snow_actor_receive_key(SNOW_MSG_DOWN, ref,
		    (int64_t)(20000 * slack())) != NULL, "poked child %llu did "
		    "not end", (unsigned long long)soak_poked[i]);
	}
}

static const int soak_idx[SOAK_KIDS] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
    11 };
static struct snow_child_spec soak_nested_kids[SOAK_KIDS - SOAK_TOP];
static struct snow_sup_spec soak_nested;

static struct snow_child_spec
soak_spec(int i)
{
	struct snow_child_spec c = { .id = "soak", .start = soak_kid,
	    .args = &soak_idx[i], .args_size = sizeof(int),
	    .restart = SNOW_RESTART_PERMANENT, .shutdown = i % 2 ?
	    SNOW_SHUTDOWN_BRUTAL : SNOW_SHUTDOWN_TIMEOUT, .shutdown_ms = 500 };

	return c;
}

static void
soak_one(uint8_t strategy, double secs, uint64_t x)
{
	struct snow_child_spec top[SOAK_TOP + 1];
	uint64_t sup, pid, ref;
	long rss_warm = -1, rss_end, pokes = 0;
	double end;
	int i;

	reset_fails();
	for (i = 0; i < SOAK_KIDS; i++) {
		atomic_store(&soak_live[i], 0);
		atomic_store(&soak_pid[i], 0);
	}
	atomic_store(&soak_starts, 0);
	atomic_store(&soak_ends, 0);
	for (i = 0; i < SOAK_TOP; i++)
		top[i] = soak_spec(i);
	for (i = SOAK_TOP; i < SOAK_KIDS; i++)
		soak_nested_kids[i - SOAK_TOP] = soak_spec(i);
	soak_nested = (struct snow_sup_spec){ SNOW_SUP_REST_FOR_ONE, 1000000,
	    1, SOAK_KIDS - SOAK_TOP, soak_nested_kids };
	top[SOAK_TOP] = (struct snow_child_spec){ .id = "nested",
	    .restart = SNOW_RESTART_PERMANENT,
	    .shutdown = SNOW_SHUTDOWN_TIMEOUT, .shutdown_ms = 2000,
	    .type = SNOW_CHILD_SUPERVISOR, .sup = &soak_nested };
	init_ok(2);
	sup = start_sup(strategy, 1000000, 1, top, SOAK_TOP + 1);
	end = now() + secs;
	while (now() < end) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		pid = atomic_load(&soak_pid[x % SOAK_KIDS]);
		if (pid != 0 && pokes < SOAK_MAX_POKES) {
			if (x & 256)
				(void)snow_actor_kill(pid);
			else
				(void)snow_actor_send(pid, "f", 1);
			soak_poked[pokes++] = pid;
		}
		if (rss_warm < 0 && now() > end - secs * 2 / 3)
			rss_warm = test_mem_kib();
		sleep_ms(1);
	}
	soak_settle(pokes);
	/* Every child comes back. */
	end = now() + 20 * slack();
	while (now() < end) {
		long live = 0;

		for (i = 0; i < SOAK_KIDS; i++)
			live += atomic_load(&soak_live[i]);
		if (live == SOAK_KIDS)
			break;
		sleep_ms(5);
	}
	for (i = 0; i < SOAK_KIDS; i++) {
		struct snow_process_info info;
		int alive = snow_process_info(sup, &info) == 0;

		ck_assert_msg(atomic_load(&soak_live[i]) == 1, "strategy %u: "
		    "child %d has %d instances (supervisor %s, %llu in its "
		    "mailbox)", strategy, i, atomic_load(&soak_live[i]),
		    alive ? "alive" : "gone",
		    alive ? (unsigned long long)info.mailbox_len : 0ull);
	}
	ck_assert_uint_eq(snow_supervisor_count_children(sup), SOAK_TOP + 1);
	rss_end = test_mem_kib();
	ref = snow_process_monitor(sup);
	ck_assert_int_eq(snow_actor_exit(sup, SNOW_EXIT_SHUTDOWN), 0);
	ck_assert_uint_eq(down_reason(ref), SNOW_EXIT_SHUTDOWN);
	run_ok();
	ck_assert_int_eq(atomic_load(&soak_starts), atomic_load(&soak_ends));
	for (i = 0; i < SOAK_KIDS; i++)
		ck_assert_int_eq(atomic_load(&soak_live[i]), 0);
	printf("supervision soak: strategy %u, %ld pokes, %ld starts, %s "
	    "%ld KiB after warm-up, %ld KiB at the end\n", strategy, pokes,
	    atomic_load(&soak_starts), test_mem_what(), rss_warm, rss_end);
	ck_assert_msg(rss_end <= rss_warm + 16 * 1024 + rss_warm / 4,
	    "%s grew from %ld to %ld KiB", test_mem_what(), rss_warm, rss_end);
	ck_assert_int_gt(atomic_load(&soak_starts), SOAK_KIDS);
	assert_no_fails();
}

/* Each of the three strategies with a supervisor above a nested one. */
START_TEST(supervision_tree_soak)
{
	const char *env = getenv("SNOW_SOAK_SECONDS");
	double secs = env != NULL && atoi(env) > 0 ? atoi(env) : 3.0;
	uint64_t seed = (uint64_t)time(NULL) | 1;
	uint8_t strategy;

	for (strategy = 0; strategy < 3; strategy++)
		soak_one(strategy, secs / 3, seed + strategy * 2);
}
END_TEST

static Suite *
supervisor_suite(void)
{
	Suite *s = suite_create("supervisor");
	TCase *tc = tcase_create("supervisor");

	tcase_set_timeout(tc, TIMEOUT);
	tcase_add_test(tc, one_for_one_restarts_only_the_failed_child);
	tcase_add_test(tc, one_for_all_restarts_every_child);
	tcase_add_test(tc, rest_for_one_restarts_the_later_children);
	tcase_add_test(tc, restart_types_say_when);
	tcase_add_test(tc, past_the_intensity_the_supervisor_shuts_down);
	tcase_add_test(tc, shutdown_is_last_first_with_a_kill_after_the_timeout);
	tcase_add_test(tc, simple_one_for_one_starts_children_on_demand);
	tcase_add_test(tc, nested_supervisors_restart_at_both_levels);
	tcase_add_test(tc, the_compilers_blob_starts_a_supervisor_that_restarts);
	tcase_add_test(tc, supervisor_errors);
	suite_add_tcase(s, tc);
	tc = tcase_create("soak");
	/* make check-soak sets SNOW_SOAK_SECONDS: the timeout follows. */
	tcase_set_timeout(tc, TIMEOUT + (getenv("SNOW_SOAK_SECONDS") ?
	    atoi(getenv("SNOW_SOAK_SECONDS")) : 0));
	tcase_add_test(tc, supervision_tree_soak);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(supervisor_suite());
}
