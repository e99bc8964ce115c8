/*
 * The deque under stress: one owner pushing and popping in random bursts
 * while DQ_THIEVES threads steal, on a deque that starts at four slots and
 * grows many times.  Every item must be taken exactly once, thieves must
 * see items in the order pushed, and nothing that was never pushed may
 * come out.  tests/check_deque.c holds the deque's one-promise tests; this
 * is the long, randomized run that looks for what they cannot.
 *
 * Environment:
 *   SNOW_SOAK_SECONDS	 as for tests/check_soak.c: one round of DQ_ITEMS
 *			 per SOAK_DEFAULT_SECONDS of it (`make check-soak`
 *			 runs both).
 *   SNOW_TEST_SCALE_DOWN 1: DQ_ITEMS_SMALL items a round, for valgrind.
 */
#include "config.h"

#include <check.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "deque.h"

#include "run_suite.h"
#include "snow_ok.h"
#include "soak_env.h"
#include "test_env.h"

/*
 * Items are indices disguised as pointers: ITEM(i) is i + 1, so that no
 * item is NULL, which is how pop and steal say "nothing".
 */
#define ITEM(i)		((void *)((uintptr_t)(i) + 1))
#define INDEX(p)	((size_t)((uintptr_t)(p) - 1))

#define DQ_ITEMS	(4u * 1000 * 1000)
#define DQ_ITEMS_SMALL	(100u * 1000)	/* SNOW_TEST_SCALE_DOWN */
#define DQ_THIEVES	3
#define DQ_LOG2_START	2		/* four slots: it grows many times */

struct dq_shared {
	struct sn_deque dq;
	size_t n;			/* items are ITEM(0) .. ITEM(n - 1) */
	_Atomic uint32_t *hits;		/* times each item was taken */
	atomic_size_t stolen;		/* takes by thieves, added at the end */
	atomic_bool any_stolen;		/* a thief has taken something */
	atomic_size_t bogus;		/* takes of values never pushed */
	atomic_size_t disorder;		/* a thief's steals out of order */
	atomic_int ready;		/* thieves that have started */
	atomic_bool done;		/* owner has finished and drained */
};

static void
dq_take(struct dq_shared *s, void *p)
{
	size_t i = INDEX(p);

	if (p == NULL || i >= s->n) {
		atomic_fetch_add(&s->bogus, 1);
		return;
	}
	atomic_fetch_add_explicit(&s->hits[i], 1, memory_order_relaxed);
}

/*
 * Steals come from the top, the oldest end, and top only moves up; items
 * are pushed in increasing order, and an item sits at index t only if it
 * was pushed after everything still below it.  So one thief must see its
 * stolen items strictly increasing, whatever the owner and the others do.
 */
static void *
dq_thief(void *arg)
{
	struct dq_shared *s = arg;
	size_t last = 0, stolen = 0, disorder = 0, i;
	unsigned misses = 0;
	void *p;

	atomic_fetch_add(&s->ready, 1);
	for (;;) {
		p = sn_deque_steal(&s->dq);
		if (p != NULL) {
			dq_take(s, p);
			i = INDEX(p);
			if (stolen > 0 && i <= last)
				disorder++;
			last = i;
			if (stolen++ == 0)
				atomic_store(&s->any_stolen, true);
			continue;
		}
		/*
		 * The owner sets done only after draining the deque, so
		 * an empty deque after done really is the end.
		 */
		if (atomic_load(&s->done))
			break;
		/* More threads than cores: let the owner run sometimes. */
		if (++misses % 64 == 0)
			sched_yield();
	}
	atomic_fetch_add(&s->stolen, stolen);
	atomic_fetch_add(&s->disorder, disorder);
	return NULL;
}

/*
 * How many to push next.  Mostly small bursts, so the deque keeps passing
 * through empty and the owner's pops race the thieves for the last item;
 * sometimes long ones, more than the thieves can keep up with, so that it
 * grows from four slots to hundreds of thousands while they steal.
 */
static size_t
dq_burst(uint64_t *rng)
{
	uint32_t r = rnd(rng, 1000);

	if (r < 500)
		return 1 + rnd(rng, 4);
	if (r < 850)
		return 1 + rnd(rng, 256);
	if (r < 990)
		return 1 + rnd(rng, 4096);
	return 16384 + rnd(rng, 65536 - 16384 + 1);
}

/*
 * The owner popped p: it must be the newest item still in the mirror of
 * what the owner pushed.
 */
static void
owner_took(struct dq_shared *s, void *p, const uint32_t *mirror,
    size_t *depth, size_t *lifo_bad)
{
	if (*depth == 0 || INDEX(p) != mirror[*depth - 1])
		(*lifo_bad)++;
	else
		(*depth)--;
	dq_take(s, p);
}

struct dq_result {
	size_t popped, stolen, max_size;
};

/*
 * One owner and DQ_THIEVES thieves move n items through one deque that
 * starts at four slots.  The owner keeps a mirror of what it pushed: a
 * pop that returns anything must return the newest item still there (the
 * mirror's top), and a pop that returns NULL means the thieves emptied
 * the deque, mirror included.
 */
static void
dq_round(size_t n, uint64_t seed, struct dq_result *res)
{
	struct dq_shared s;
	pthread_t tid[DQ_THIEVES];
	uint64_t rng = seed;
	uint32_t *mirror;
	size_t next = 0, depth = 0, burst, pops, k, i, sz;
	size_t push_failed = 0, lifo_bad = 0, popped = 0, wrong = 0, total = 0;
	size_t first_wrong = 0;
	uint32_t h, first_h = 1;
	void *p;

	ck_assert_int_eq(sn_deque_init(&s.dq, DQ_LOG2_START), 0);
	s.n = n;
	s.hits = malloc(n * sizeof(*s.hits));
	mirror = malloc(n * sizeof(*mirror));
	ck_assert_ptr_nonnull(s.hits);
	ck_assert_ptr_nonnull(mirror);
	for (i = 0; i < n; i++)
		atomic_init(&s.hits[i], 0);
	atomic_init(&s.stolen, 0);
	atomic_init(&s.any_stolen, false);
	atomic_init(&s.bogus, 0);
	atomic_init(&s.disorder, 0);
	atomic_init(&s.ready, 0);
	atomic_init(&s.done, false);
	res->max_size = 0;

	for (i = 0; i < DQ_THIEVES; i++)
		ck_assert_int_eq(pthread_create(&tid[i], NULL, dq_thief, &s),
		    0);
	/* Have them hammering the deque before the owner starts. */
	while (atomic_load(&s.ready) < DQ_THIEVES)
		sched_yield();

	while (next < n) {
		burst = dq_burst(&rng);
		if (burst > n - next)
			burst = n - next;
		for (k = 0; k < burst; k++, next++) {
			if (sn_deque_push(&s.dq, ITEM(next)) != 0) {
				/* Not in the deque: take it here so the
				 * count stays right; push_failed fails. */
				push_failed++;
				dq_take(&s, ITEM(next));
				continue;
			}
			mirror[depth++] = (uint32_t)next;
		}
		sz = sn_deque_size(&s.dq);
		if (sz > res->max_size)
			res->max_size = sz;
		/*
		 * Until a thief has taken something, give them up to two
		 * seconds per burst: under valgrind, which runs one thread
		 * at a time, the owner could otherwise do all the work.
		 */
		for (k = 0; k < 2000 && !atomic_load(&s.any_stolen) &&
		    sn_deque_size(&s.dq) != 0; k++)
			usleep(1000);
		/* Up to one more pop than pushes: often ends on empty. */
		pops = rnd(&rng, (uint32_t)burst + 2);
		for (k = 0; k < pops; k++) {
			if ((p = sn_deque_pop(&s.dq)) == NULL) {
				depth = 0;	/* the thieves took the rest */
				break;
			}
			owner_took(&s, p, mirror, &depth, &lifo_bad);
			popped++;
		}
		/*
		 * Now and then let the thieves in: with more threads than
		 * CPUs, or under valgrind, which runs one thread at a time,
		 * the owner could otherwise get through everything alone.
		 */
		if (rnd(&rng, 16) == 0)
			sched_yield();
	}
	while ((p = sn_deque_pop(&s.dq)) != NULL) {
		owner_took(&s, p, mirror, &depth, &lifo_bad);
		popped++;
	}
	atomic_store(&s.done, true);
	for (i = 0; i < DQ_THIEVES; i++)
		ck_assert_int_eq(pthread_join(tid[i], NULL), 0);

	/*
	 * Count mismatches rather than assert per item: every passing
	 * ck_assert records a checkpoint, far too slow for 4 million.
	 */
	for (i = 0; i < n; i++) {
		h = atomic_load_explicit(&s.hits[i], memory_order_relaxed);
		total += h;
		if (h != 1 && wrong++ == 0) {
			first_wrong = i;
			first_h = h;
		}
	}
	ck_assert_uint_eq(push_failed, 0);
	ck_assert_msg(wrong == 0, "%zu of %zu items not taken exactly once; "
	    "first: item %zu taken %u times (seed 0x%016" PRIx64 ")",
	    wrong, n, first_wrong, first_h, seed);
	ck_assert_uint_eq(total, n);
	ck_assert_uint_eq(atomic_load(&s.bogus), 0);
	ck_assert_uint_eq(popped + atomic_load(&s.stolen), n);
	ck_assert_msg(lifo_bad == 0, "%zu pops did not return the newest item",
	    lifo_bad);
	ck_assert_msg(atomic_load(&s.disorder) == 0,
	    "%zu steals out of FIFO order", atomic_load(&s.disorder));
	ck_assert_uint_eq(sn_deque_size(&s.dq), 0);
	ck_assert_ptr_null(sn_deque_pop(&s.dq));
	ck_assert_ptr_null(sn_deque_steal(&s.dq));
	/* Both sides must have taken items, or nothing was raced. */
	ck_assert_uint_gt(popped, 0);
	ck_assert_uint_gt(atomic_load(&s.stolen), 0);
	res->popped = popped;
	res->stolen = atomic_load(&s.stolen);

	sn_deque_destroy(&s.dq);
	free(s.hits);
	free(mirror);
}

/*
 * Long mode runs one round of DQ_ITEMS per SOAK_DEFAULT_SECONDS of soak
 * time, each on a fresh four-slot deque.  Rounds after the first stop
 * once that time is spent, so that a slow machine cannot run into the
 * Check timeout.
 */
START_TEST(deque_stress)
{
	unsigned seconds = soak_seconds();
	unsigned rounds = seconds / SOAK_DEFAULT_SECONDS, r;
	size_t n = env_flag("SNOW_TEST_SCALE_DOWN") ? DQ_ITEMS_SMALL : DQ_ITEMS;
	size_t popped = 0, stolen = 0, max_size = 0;
	double t0 = now();
	struct dq_result res;

	if (rounds == 0)
		rounds = 1;
	for (r = 0; r < rounds; r++) {
		if (r > 0 && now() - t0 > seconds)
			break;
		dq_round(n, mix64(0xd0e0a11ull + r), &res);
		popped += res.popped;
		stolen += res.stolen;
		if (res.max_size > max_size)
			max_size = res.max_size;
	}
	printf("deque-stress: %u rounds, %zu items (%zu popped, %zu stolen), "
	    "max size %zu, %.1f s\n", r, popped + stolen, popped, stolen,
	    max_size, now() - t0);
	fflush(stdout);
}
END_TEST

static Suite *
deque_stress_suite(void)
{
	Suite *s = suite_create("deque-stress");
	TCase *tc = tcase_create("deque-stress");

	tcase_set_timeout(tc, soak_seconds() + SOAK_TIMEOUT_SLACK);
	tcase_add_test(tc, deque_stress);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(deque_stress_suite());
}
