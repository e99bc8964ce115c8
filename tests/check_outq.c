/*
 * The run queues of threads outside the runtime (src/outq.c): a thread
 * that spawns pushes onto a queue of its own, gives it back when it ends,
 * and the next spawning thread takes it again; whatever a thread leaves
 * queued runs, exactly once; actors spawned from outside are not held
 * back by workers busy with actors that yield.
 *
 * Environment: SNOW_TEST_SCALE_DOWN=1 (also implied under valgrind and
 * the sanitizers) lowers the counts; the checks stay.
 */
#include "config.h"

#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include <snow/runtime.h>

#include "outq.h"

#include "run_suite.h"
#include "snow_ok.h"
#include "test_env.h"

#define TIMEOUT		240
#define THREADS		8

static unsigned
scaled(unsigned n)
{
	return scaled_down() ? n / 10 : n;
}

/* ---- the queues themselves ---- */

/* A queue given back is the next one taken; two held at once differ. */
START_TEST(a_queue_given_back_is_taken_again)
{
	struct sn_outq *a = sn_outq_take(), *b, *c;

	ck_assert_ptr_nonnull(a);
	b = sn_outq_take();
	ck_assert_ptr_nonnull(b);
	ck_assert_ptr_ne(a, b);
	sn_outq_give_back(a);
	c = sn_outq_take();
	ck_assert_ptr_eq(c, a);
	sn_outq_give_back(b);
	sn_outq_give_back(c);
}
END_TEST

/* What is pushed is stolen, oldest first, and seen while it waits. */
START_TEST(pushed_actors_are_stolen_in_order)
{
	struct sn_outq *q = sn_outq_take();
	struct sn_proc *items[3] = { (void *)0x10, (void *)0x20, (void *)0x30 };
	unsigned cursor = 0;
	int i;

	ck_assert_ptr_nonnull(q);
	ck_assert(!sn_outq_visible());
	for (i = 0; i < 3; i++)
		ck_assert_int_eq(sn_deque_push(&q->dq, items[i]), 0);
	ck_assert(sn_outq_visible());
	for (i = 0; i < 3; i++)
		ck_assert_ptr_eq(sn_outq_steal(&cursor), items[i]);
	ck_assert_ptr_null(sn_outq_steal(&cursor));
	ck_assert(!sn_outq_visible());
	sn_outq_give_back(q);
}
END_TEST

/* ---- through the runtime ---- */

static _Atomic int hold, ran, started;

static void
held_actor(const void *arg)
{
	(void)arg;
	while (atomic_load(&hold))
		snow_actor_yield();
	atomic_fetch_add(&ran, 1);
}

struct spawner {
	unsigned n;
	_Atomic unsigned failed;
};

/* Spawns n held actors and ends at once, leaving them queued. */
static void *
spawner_thread(void *arg)
{
	struct spawner *s = arg;
	unsigned i;

	for (i = 0; i < s->n; i++)
		if (snow_actor_spawn(held_actor, NULL, 0,
		    SNOW_PRIO_NORMAL) == 0)
			atomic_fetch_add(&s->failed, 1);
	return NULL;
}

/*
 * Rounds of THREADS threads that each spawn and end while their actors
 * are held: every actor runs once they are let go, and the threads of
 * later rounds reuse the queues of earlier ones.
 */
START_TEST(threads_that_end_leave_their_actors_to_run)
{
	unsigned per = scaled(2000), rounds = 4, r, i, total = 0;
	struct spawner s = { .n = per };
	pthread_t t[THREADS];

	atomic_store(&ran, 0);
	atomic_store(&hold, 1);
	init_ok(2);
	for (r = 0; r < rounds; r++) {
		for (i = 0; i < THREADS; i++)
			ck_assert_int_eq(pthread_create(&t[i], NULL,
			    spawner_thread, &s), 0);
		for (i = 0; i < THREADS; i++)
			ck_assert_int_eq(pthread_join(t[i], NULL), 0);
		total += THREADS * per;
	}
	ck_assert_uint_eq(atomic_load(&s.failed), 0);
	ck_assert_int_eq(atomic_load(&ran), 0);
	atomic_store(&hold, 0);
	run_ok();
	ck_assert_int_eq(atomic_load(&ran), (int)total);
}
END_TEST

static void
yielder(const void *arg)
{
	(void)arg;
	atomic_fetch_add(&started, 1);
	while (atomic_load(&hold))
		snow_actor_yield();
	atomic_fetch_add(&ran, 1);
}

/*
 * Actors spawned from outside all start while those that started before
 * them yield: more of them than a worker's FIFO holds, so that the yields
 * overflow into the shared queue, which once took every fair turn and
 * left the outside queue waiting for ever.
 */
START_TEST(outside_spawns_start_among_yielders)
{
	int n = (int)scaled(30000), i, got;
	double end;

	atomic_store(&ran, 0);
	atomic_store(&started, 0);
	atomic_store(&hold, 1);
	init_ok(1);
	for (i = 0; i < n; i++)
		spawn_ok(yielder, NULL, 0, SNOW_PRIO_NORMAL);
	end = now() + 120.0;
	while (atomic_load(&started) < n && now() < end)
		usleep(1000);
	got = atomic_load(&started);
	ck_assert_msg(got == n, "%d of %d actors started", got, n);
	atomic_store(&hold, 0);
	run_ok();
	ck_assert_int_eq(atomic_load(&ran), n);
}
END_TEST

static Suite *
outq_suite(void)
{
	Suite *s = suite_create("outq");
	TCase *tc;

	tc = tcase_create("queues");
	tcase_set_timeout(tc, TIMEOUT);
	tcase_add_test(tc, a_queue_given_back_is_taken_again);
	tcase_add_test(tc, pushed_actors_are_stolen_in_order);
	suite_add_tcase(s, tc);

	tc = tcase_create("runtime");
	tcase_set_timeout(tc, TIMEOUT);
	tcase_add_test(tc, threads_that_end_leave_their_actors_to_run);
	tcase_add_test(tc, outside_spawns_start_among_yielders);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(outq_suite());
}
