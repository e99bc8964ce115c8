/*
 * The frames of hibernated actors: actors parked in receive(-1) give
 * their stack pages back and come back whole, stacks shared with others
 * stay right, hibernation can be turned off, and holds under touches and
 * wakes.  (The hibernation machinery itself is in check_hibernate.c.)
 * Split from check_messaging.c; the helpers are in actor_msg.h.
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


/*
 * Hibernation: actors parked in receive(-1) for a while give their stack
 * pages back, and come back whole when a message or a kill wakes them:
 * every byte of their frames where it was (a pointer to a local still
 * points at it), at the same address.
 */
#define HIB_ACTORS	2000
#define HIB_SMALL	200
#define HIB_WORDS	200

static _Atomic uint64_t hib_sum, hib_woke;

static NOFOLD uint64_t
hib_fill(volatile uint64_t *a, uint64_t seed)
{
	uint64_t i, x = seed;

	for (i = 0; i < HIB_WORDS; i++) {
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		a[i] = x;
	}
	return x;
}

static void
hib_actor(const void *arg)
{
	uint64_t index = *(const uint64_t *)arg;
	volatile uint64_t frame[HIB_WORDS];
	volatile uint64_t *self_ptr = &frame[HIB_WORDS / 2];
	uint64_t last = hib_fill(frame, index + 1), check[HIB_WORDS];
	const struct snow_msg *m;
	uint64_t i;

	A_CHECK(snow_actor_hibernate(0) == 1, "hibernation was off by default");
	A_CHECK(snow_actor_hibernate(1) == 0, "snow_actor_hibernate(0) did "
	    "not stick");
	m = snow_actor_receive(-1);
	atomic_fetch_add(&hib_woke, 1);
	A_CHECK(m != NULL && m->len == 8, "hibernated actor: bad message");
	hib_fill(check, index + 1);
	for (i = 0; i < HIB_WORDS; i++)
		A_CHECK(frame[i] == check[i], "hibernated actor %" PRIu64
		    ": word %" PRIu64 " of its frame changed", index, i);
	A_CHECK(self_ptr == &frame[HIB_WORDS / 2] &&
	    *self_ptr == check[HIB_WORDS / 2],
	    "hibernated actor: a pointer into its stack went stale");
	A_CHECK(last == check[HIB_WORDS - 1], "hibernated actor: a local "
	    "changed");
	if (m != NULL && m->len == 8) {
		memcpy(&i, m->data, 8);
		atomic_fetch_add(&hib_sum, i);
	}
}

START_TEST(parked_actors_hibernate_and_come_back_whole)
{
	uint64_t n = scaled_down() ? HIB_SMALL : HIB_ACTORS, i, expect = 0;
	uint64_t *pids = malloc(n * sizeof(*pids)), killed = 0;
	struct snow_rt_stats st;
	double end;

	ck_assert_ptr_nonnull(pids);
	reset_fails();
	atomic_store(&hib_sum, 0);
	atomic_store(&hib_woke, 0);
	init_ok(2);
	for (i = 0; i < n; i++)
		pids[i] = spawn_ok(hib_actor, &i, sizeof(i), SNOW_PRIO_NORMAL);
	/* Idle workers sweep every 20 ms; give a slow machine time. */
	end = now() + 30.0;
	do {
		usleep(10000);
		ck_assert_int_eq(snow_rt_stats(&st), 0);
	} while (st.hibernations < n && now() < end);
	ck_assert_msg(st.hibernations >= n, "%" PRIu64 " of %" PRIu64
	    " parked actors hibernated", st.hibernations, n);
	for (i = 0; i < n; i++) {
		if (i % 10 == 3) {	/* a kill wakes one too */
			ck_assert_int_eq(snow_actor_kill(pids[i]), 0);
			killed++;
			continue;
		}
		ck_assert_int_eq(snow_actor_send(pids[i], &i, sizeof(i)), 0);
		expect += i;
	}
	run_ok();
	assert_no_fails();
	ck_assert_uint_eq(atomic_load(&hib_woke), n - killed);
	ck_assert_uint_eq(atomic_load(&hib_sum), expect);
	st = stats_ok();
	ck_assert_uint_eq(st.blocked_ended, 0);
	ck_assert_uint_eq(st.exited, n);
	free(pids);
}
END_TEST

/*
 * A hibernated stack is PROT_NONE: whoever touches it through a pointer
 * to a local (a child given &local as its spawn argument, or another
 * thread) faults it back and reads and writes the real contents.  Without
 * that the child's write would land on an emptied page and be overwritten
 * when the parent's copy came back.  A system call given such a pointer
 * is not an access the runtime sees: it fails with EFAULT.
 */
#define SHARE_WORDS	64

static _Atomic int share_ok;
static _Atomic(volatile uint64_t *) share_frame;

static uint64_t
hibernations(void)
{
	struct snow_rt_stats st;

	return snow_rt_stats(&st) == 0 ? st.hibernations : 0;
}

/* What another actor or thread does to a hibernated frame. */
static uint64_t
share_touch(volatile uint64_t *f)
{
	uint64_t i, bad = 0;

	for (i = 1; i < SHARE_WORDS; i++)
		bad += f[i] != i * 3;
	f[0] = 42;			/* its owner checks that it stayed */
	return bad;
}

static void
share_child(const void *arg)
{
	const uint64_t *slot = arg;	/* [0]: parent, [1]: its frame */
	uint64_t i;

	/*
	 * Until both parents, the only actors in an untimed wait, have
	 * hibernated; a slow machine may take a while to sweep.  Sweeps run
	 * only once every worker has gone idle, and a worker spins a few
	 * thousand empty picks first (half a millisecond natively, tens of
	 * milliseconds under valgrind): woken by this sleep's timer before
	 * its spin is over, the worker would never go idle, so under
	 * valgrind the sleeps are longer.  Up to 30 s either way.
	 */
	int64_t nap = RUNNING_ON_VALGRIND ? 200 : 10;

	for (i = 0; i < 30000 / (uint64_t)nap && hibernations() < 2; i++)
		snow_timer_sleep(nap);
	A_CHECK(hibernations() >= 2, "the parents never hibernated");
	A_CHECK(share_touch((volatile uint64_t *)(uintptr_t)slot[1]) == 0,
	    "the hibernated parent's frame read wrong from its child");
	a_send(slot[0], "d", 1);
}

/* arg: a child shares the frame, or else the main thread does. */
static void
share_parent(const void *arg)
{
	volatile uint64_t frame[SHARE_WORDS];
	uint64_t slot[2] = { snow_actor_self(), (uint64_t)(uintptr_t)frame };
	uint64_t i, bad = 0;

	for (i = 0; i < SHARE_WORDS; i++)
		frame[i] = i * 3;
	if (*(const int *)arg)
		a_spawn(share_child, slot, sizeof(slot));
	else
		atomic_store(&share_frame, frame);
	/* No timeout: the kind of wait that may hibernate. */
	A_CHECK(snow_actor_receive(-1) != NULL, "receive failed");
	for (i = 1; i < SHARE_WORDS; i++)
		bad += frame[i] != i * 3;
	A_CHECK(bad == 0, "%" PRIu64 " words of the frame changed", bad);
	A_CHECK(frame[0] == 42, "a write to the hibernated stack was lost: "
	    "%" PRIu64, frame[0]);
	atomic_fetch_add(&share_ok, 1);
}

START_TEST(hibernated_stacks_shared_with_others_stay_right)
{
	int by_child = 1, by_main = 0, pfd[2];
	volatile uint64_t *f;
	uint64_t pid;
	double end;

	reset_fails();
	atomic_store(&share_ok, 0);
	atomic_store(&share_frame, NULL);
	init_ok(2);
	spawn_ok(share_parent, &by_child, sizeof(by_child), SNOW_PRIO_NORMAL);
	pid = spawn_ok(share_parent, &by_main, sizeof(by_main),
	    SNOW_PRIO_NORMAL);
	end = now() + 30.0;
	while ((atomic_load(&share_frame) == NULL || hibernations() < 2) &&
	    now() < end)
		usleep(5000);
	f = atomic_load(&share_frame);
	ck_assert(f != NULL);
	ck_assert_uint_ge(hibernations(), 2);
	/* What the header warns of: the kernel cannot fault it back. */
	ck_assert_int_eq(pipe(pfd), 0);
	ck_assert_int_eq(write(pfd[1], (const void *)(uintptr_t)f, 8), -1);
	ck_assert_int_eq(errno, EFAULT);
	ck_assert_uint_eq(share_touch(f), 0);
	ck_assert_int_eq(write(pfd[1], (const void *)(uintptr_t)f, 8), 8);
	/* Touched, it is still parked: a later sweep takes it again, and
	 * the kernel finds it protected again. */
	end = now() + 30.0;
	while (hibernations() < 3 && now() < end)
		usleep(5000);
	ck_assert_uint_ge(hibernations(), 3);
	ck_assert_int_eq(write(pfd[1], (const void *)(uintptr_t)f, 8), -1);
	ck_assert_int_eq(errno, EFAULT);
	ck_assert_uint_eq(share_touch(f), 0);
	close(pfd[0]);
	close(pfd[1]);
	ck_assert_int_eq(snow_actor_send(pid, "m", 1), 0);
	run_ok();
	assert_no_fails();
	ck_assert_int_eq(atomic_load(&share_ok), 2);
	ck_assert_uint_eq(stats_ok().blocked_ended, 0);
}
END_TEST

/*
 * The same under churn: parents park and hibernate again and again while
 * their children read their frames and write a counter in them at random
 * moments, and the main thread wakes parents at random, so touches meet
 * sweeps, wakes meet touches.  Every word must read right every time, and
 * the counter must end at the count of the child's writes.
 */
#define CHURN_PARENTS	64
#define CHURN_ROUNDS	30
#define CHURN_WORDS	64

static _Atomic uint64_t churn_done, churn_children[CHURN_PARENTS];

static void
churn_child(const void *arg)
{
	const uint64_t *slot = arg;	/* [0]: parent, [1]: its frame */
	volatile uint64_t *f = (volatile uint64_t *)(uintptr_t)slot[1];
	uint64_t r, i, bad = 0, x = slot[0];
	const struct snow_msg *go;

	/* From the first hibernation on, when the main thread says go:
	 * idle workers sweep, and a slow machine (valgrind) may not go
	 * idle at all while the children and the pokes keep it busy. */
	go = snow_actor_receive(600000);
	A_CHECK(go != NULL && go->data[0] == 'g', "no go");
	for (r = 0; r < CHURN_ROUNDS; r++) {
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		snow_timer_sleep((int64_t)(x >> 33) % 60);
		for (i = 1; i < CHURN_WORDS; i++)
			bad += f[i] != (slot[0] ^ i);
		f[0] = f[0] + 1;
	}
	A_CHECK(bad == 0, "%" PRIu64 " words of a parent's frame read wrong "
	    "from its child", bad);
	a_send(slot[0], "d", 1);
}

static void
churn_parent(const void *arg)
{
	volatile uint64_t frame[CHURN_WORDS];
	uint64_t self = snow_actor_self(), i, bad = 0;
	uint64_t slot[2] = { self, (uint64_t)(uintptr_t)frame };
	const struct snow_msg *m;

	frame[0] = 0;
	for (i = 1; i < CHURN_WORDS; i++)
		frame[i] = self ^ i;
	atomic_store(&churn_children[*(const unsigned *)arg],
	    a_spawn(churn_child, slot, sizeof(slot)));
	do {
		m = snow_actor_receive(-1);
		A_CHECK(m != NULL, "receive failed");
		for (i = 1; i < CHURN_WORDS; i++)
			bad += frame[i] != (self ^ i);
	} while (m != NULL && m->data[0] != 'd');
	A_CHECK(bad == 0, "%" PRIu64 " words of a frame changed", bad);
	A_CHECK(frame[0] == CHURN_ROUNDS, "a child's writes were lost: %"
	    PRIu64 " of %d", frame[0], CHURN_ROUNDS);
	atomic_fetch_add(&churn_done, 1);
}

START_TEST(hibernation_under_touches_and_wakes)
{
	uint64_t pids[CHURN_PARENTS], x = 88172645463325252ull;
	unsigned i;
	double end;

	reset_fails();
	atomic_store(&churn_done, 0);
	for (i = 0; i < CHURN_PARENTS; i++)
		atomic_store(&churn_children[i], 0);
	init_ok(2);
	for (i = 0; i < CHURN_PARENTS; i++)
		pids[i] = spawn_ok(churn_parent, &i, sizeof(i),
		    SNOW_PRIO_NORMAL);
	end = now() + 60.0;
	while (hibernations() == 0 && now() < end)
		usleep(5000);
	ck_assert_uint_gt(hibernations(), 0);
	for (i = 0; i < CHURN_PARENTS; i++) {
		while (atomic_load(&churn_children[i]) == 0 && now() < end)
			usleep(1000);
		ck_assert_int_eq(snow_actor_send(atomic_load(
		    &churn_children[i]), "g", 1), 0);
	}
	/* Poke parents at random until they are done: a poke to one that
	 * is gone is dropped. */
	end = now() + 300.0;		/* a lost wake would stop it */
	while (atomic_load(&churn_done) < CHURN_PARENTS && now() < end) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		(void)snow_actor_send(pids[x % CHURN_PARENTS], "p", 1);
		usleep(500 + (useconds_t)(x >> 54));
	}
	ck_assert_uint_eq(atomic_load(&churn_done), CHURN_PARENTS);
	run_ok();
	assert_no_fails();
	ck_assert_uint_eq(stats_ok().blocked_ended, 0);
}
END_TEST

/*
 * snow_actor_hibernate(0) keeps an actor's stack in place, and
 * SNOW_HIBERNATE=0 makes that the default; a bad value is refused.  Each
 * run parks one actor that may hibernate and one that may or may not, and
 * waits until the expected number have and a few sweeps more: when only
 * the first has, the sweeps that took it passed the second by.
 */
static void
park_hibernating(const void *arg)
{
	(void)arg;
	(void)snow_actor_hibernate(1);
	(void)snow_actor_receive(-1);
}

static void
park_in_place(const void *arg)
{
	(void)arg;
	(void)snow_actor_hibernate(0);
	(void)snow_actor_receive(-1);
}

/*
 * Park one of each, wait until expect have hibernated and a few sweeps
 * more, wake both: how many hibernated.
 */
static uint64_t
hibernations_of_one_of_each(snow_actor_fn in_place, uint64_t expect)
{
	uint64_t a, b, n;
	double end;

	init_ok(2);
	a = spawn_ok(park_hibernating, NULL, 0, SNOW_PRIO_NORMAL);
	b = spawn_ok(in_place, NULL, 0, SNOW_PRIO_NORMAL);
	end = now() + 30.0;
	while (hibernations() < expect && now() < end)
		usleep(5000);
	usleep(100000);
	n = hibernations();
	ck_assert_int_eq(snow_actor_send(a, "x", 1), 0);
	ck_assert_int_eq(snow_actor_send(b, "x", 1), 0);
	run_ok();
	ck_assert_uint_eq(stats_ok().blocked_ended, 0);
	return n;
}

static void
park_default(const void *arg)
{
	(void)arg;
	(void)snow_actor_receive(-1);
}

START_TEST(hibernation_can_be_turned_off)
{
	ck_assert_int_eq(snow_actor_hibernate(1), -1);
	ck_assert_int_eq(errno, EPERM);
	ck_assert_uint_eq(hibernations_of_one_of_each(park_in_place, 1), 1);

	setenv("SNOW_HIBERNATE", "yes", 1);
	ck_assert_int_eq(snow_rt_init_actor(2), EINVAL);
	setenv("SNOW_HIBERNATE", "0", 1);
	ck_assert_uint_eq(hibernations_of_one_of_each(park_default, 1), 1);
	setenv("SNOW_HIBERNATE", "1", 1);
	ck_assert_uint_eq(hibernations_of_one_of_each(park_default, 2), 2);
	unsetenv("SNOW_HIBERNATE");
}
END_TEST

static Suite *
hibernate_frames_suite(void)
{
	Suite *s = suite_create("hibernate frames");
	TCase *tc;

	tc = tcase_create("hibernation");
	tcase_set_timeout(tc, TIMEOUT);
	tcase_add_test(tc, parked_actors_hibernate_and_come_back_whole);
	tcase_add_test(tc, hibernated_stacks_shared_with_others_stay_right);
	tcase_add_test(tc, hibernation_can_be_turned_off);
	tcase_add_test(tc, hibernation_under_touches_and_wakes);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(hibernate_frames_suite());
}
