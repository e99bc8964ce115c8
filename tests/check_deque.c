/*
 * Unit tests for the Chase-Lev work-stealing deque (src/deque.c).
 *
 * Items are small integers disguised as pointers: ITEM(i) is i + 1, so
 * that no item is NULL.  The concurrent tests count how many times each
 * item is taken in an array of atomics; every item must be taken exactly
 * once.  Worker threads never call ck_assert, which may only fail in the
 * test's own thread (with CK_FORK=no it longjmps back into the runner);
 * they record problems in counters that the test checks after joining
 * them.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include <check.h>

#include "deque.h"

#include "run_suite.h"

#define ITEM(i)		((void *)((uintptr_t)(i) + 1))
#define INDEX(p)	((size_t)((uintptr_t)(p) - 1))

#define NTHIEVES	3
#define RACE_SPIN_MAX	256	/* compiler-barrier loops, ~1 cycle each */

/* ------------------------------------------------------------------ */
/* Single-threaded behaviour */

START_TEST(test_empty)
{
	struct sn_deque dq;

	ck_assert_int_eq(sn_deque_init(&dq, 4), 0);
	ck_assert_uint_eq(sn_deque_size(&dq), 0);
	ck_assert_ptr_null(sn_deque_pop(&dq));
	ck_assert_ptr_null(sn_deque_steal(&dq));
	/* A pop on an empty deque must leave it usable and still empty. */
	ck_assert_uint_eq(sn_deque_size(&dq), 0);
	ck_assert_int_eq(sn_deque_push(&dq, ITEM(7)), 0);
	ck_assert_uint_eq(sn_deque_size(&dq), 1);
	ck_assert_ptr_eq(sn_deque_pop(&dq), ITEM(7));
	ck_assert_ptr_null(sn_deque_pop(&dq));
	ck_assert_ptr_null(sn_deque_steal(&dq));
	ck_assert_uint_eq(sn_deque_size(&dq), 0);
	sn_deque_destroy(&dq);
}
END_TEST
START_TEST(test_init_too_big)
{
	struct sn_deque dq;

	ck_assert_int_eq(sn_deque_init(&dq, 63), ENOMEM);
	ck_assert_int_eq(sn_deque_init(&dq, 1000), ENOMEM);
	ck_assert_int_eq(sn_deque_init(&dq, 0), 0);	/* one slot is fine */
	ck_assert_int_eq(sn_deque_push(&dq, ITEM(1)), 0);
	ck_assert_int_eq(sn_deque_push(&dq, ITEM(2)), 0);
	ck_assert_ptr_eq(sn_deque_steal(&dq), ITEM(1));
	ck_assert_ptr_eq(sn_deque_pop(&dq), ITEM(2));
	sn_deque_destroy(&dq);
}
END_TEST
START_TEST(test_pop_lifo)
{
	struct sn_deque dq;
	size_t i;

	ck_assert_int_eq(sn_deque_init(&dq, 4), 0);
	for (i = 0; i < 10; i++)
		ck_assert_int_eq(sn_deque_push(&dq, ITEM(i)), 0);
	ck_assert_uint_eq(sn_deque_size(&dq), 10);
	for (i = 10; i-- > 0;)
		ck_assert_ptr_eq(sn_deque_pop(&dq), ITEM(i));
	ck_assert_ptr_null(sn_deque_pop(&dq));
	ck_assert_uint_eq(sn_deque_size(&dq), 0);
	sn_deque_destroy(&dq);
}
END_TEST
START_TEST(test_steal_fifo)
{
	struct sn_deque dq;
	size_t i;

	ck_assert_int_eq(sn_deque_init(&dq, 4), 0);
	for (i = 0; i < 10; i++)
		ck_assert_int_eq(sn_deque_push(&dq, ITEM(i)), 0);
	for (i = 0; i < 10; i++) {
		ck_assert_ptr_eq(sn_deque_steal(&dq), ITEM(i));
		ck_assert_uint_eq(sn_deque_size(&dq), 9 - i);
	}
	ck_assert_ptr_null(sn_deque_steal(&dq));
	sn_deque_destroy(&dq);
}
END_TEST
START_TEST(test_mixed_one_thread)
{
	struct sn_deque dq;

	ck_assert_int_eq(sn_deque_init(&dq, 3), 0);
	ck_assert_int_eq(sn_deque_push(&dq, ITEM(1)), 0);
	ck_assert_int_eq(sn_deque_push(&dq, ITEM(2)), 0);
	ck_assert_int_eq(sn_deque_push(&dq, ITEM(3)), 0);
	ck_assert_int_eq(sn_deque_push(&dq, ITEM(4)), 0);
	ck_assert_int_eq(sn_deque_push(&dq, ITEM(5)), 0);
	ck_assert_ptr_eq(sn_deque_steal(&dq), ITEM(1));	/* oldest */
	ck_assert_ptr_eq(sn_deque_pop(&dq), ITEM(5));	/* newest */
	ck_assert_ptr_eq(sn_deque_steal(&dq), ITEM(2));
	ck_assert_int_eq(sn_deque_push(&dq, ITEM(6)), 0);
	ck_assert_ptr_eq(sn_deque_pop(&dq), ITEM(6));
	ck_assert_ptr_eq(sn_deque_pop(&dq), ITEM(4));
	ck_assert_uint_eq(sn_deque_size(&dq), 1);
	/* The last item, taken by a steal rather than a pop. */
	ck_assert_ptr_eq(sn_deque_steal(&dq), ITEM(3));
	ck_assert_ptr_null(sn_deque_pop(&dq));
	ck_assert_ptr_null(sn_deque_steal(&dq));
	ck_assert_uint_eq(sn_deque_size(&dq), 0);
	sn_deque_destroy(&dq);
}
END_TEST

/* Indices run far past the buffer size without growing it. */
START_TEST(test_wraparound)
{
	struct sn_deque dq;
	size_t round, i, next = 0, want = 0;

	ck_assert_int_eq(sn_deque_init(&dq, 2), 0);
	for (round = 0; round < 1000; round++) {
		for (i = 0; i < 3; i++)
			ck_assert_int_eq(sn_deque_push(&dq, ITEM(next++)), 0);
		for (i = 0; i < 3; i++)
			ck_assert_ptr_eq(sn_deque_steal(&dq), ITEM(want++));
	}
	ck_assert_ptr_null(sn_deque_steal(&dq));
	sn_deque_destroy(&dq);
}
END_TEST
START_TEST(test_grow_pop)
{
	enum { N = 100000 };
	struct sn_deque dq;
	size_t i, bad = 0;

	ck_assert_int_eq(sn_deque_init(&dq, 2), 0);
	for (i = 0; i < N; i++)
		if (sn_deque_push(&dq, ITEM(i)) != 0)
			bad++;
	ck_assert_uint_eq(bad, 0);
	ck_assert_uint_eq(sn_deque_size(&dq), N);
	/*
	 * Count mismatches rather than assert per item: every passing
	 * ck_assert records a checkpoint, too slow for 10^5 items.
	 */
	for (i = N; i-- > 0;)
		if (sn_deque_pop(&dq) != ITEM(i))
			bad++;
	ck_assert_uint_eq(bad, 0);
	ck_assert_ptr_null(sn_deque_pop(&dq));
	ck_assert_uint_eq(sn_deque_size(&dq), 0);
	sn_deque_destroy(&dq);
}
END_TEST

/* Growth must keep the oldest items at the top, in order. */
START_TEST(test_grow_steal)
{
	enum { N = 1000 };
	struct sn_deque dq;
	size_t i, bad = 0;

	ck_assert_int_eq(sn_deque_init(&dq, 1), 0);
	/* Move top off zero first so the copy starts mid-buffer. */
	ck_assert_int_eq(sn_deque_push(&dq, ITEM(N)), 0);
	ck_assert_ptr_eq(sn_deque_steal(&dq), ITEM(N));
	for (i = 0; i < N; i++)
		ck_assert_int_eq(sn_deque_push(&dq, ITEM(i)), 0);
	for (i = 0; i < N; i++)
		if (sn_deque_steal(&dq) != ITEM(i))
			bad++;
	ck_assert_uint_eq(bad, 0);
	ck_assert_ptr_null(sn_deque_steal(&dq));
	sn_deque_destroy(&dq);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Concurrent behaviour */

struct shared {
	struct sn_deque dq;
	size_t n;			/* items are ITEM(0) .. ITEM(n - 1) */
	_Atomic int *hits;		/* times each item was taken */
	atomic_size_t taken;		/* total takes, by anyone */
	atomic_size_t stolen;		/* takes by thieves */
	atomic_size_t bogus;		/* takes of values never pushed */
	atomic_size_t go;		/* last-item race: rounds started */
	atomic_size_t ack;		/* last-item race: rounds seen */
	atomic_int ready;		/* thieves that have started */
	atomic_bool done;		/* owner has finished and drained */
};

static void
shared_init(struct shared *s, size_t n, unsigned log2_size)
{
	size_t i;

	ck_assert_int_eq(sn_deque_init(&s->dq, log2_size), 0);
	s->n = n;
	s->hits = malloc(n * sizeof(*s->hits));
	ck_assert_ptr_nonnull(s->hits);
	for (i = 0; i < n; i++)
		atomic_init(&s->hits[i], 0);
	atomic_init(&s->taken, 0);
	atomic_init(&s->stolen, 0);
	atomic_init(&s->bogus, 0);
	atomic_init(&s->go, 0);
	atomic_init(&s->ack, 0);
	atomic_init(&s->ready, 0);
	atomic_init(&s->done, false);
}

/* Record one take.  Called from any thread, so no ck_assert here. */
static void
take(struct shared *s, void *p)
{
	size_t i = INDEX(p);

	if (p == NULL || i >= s->n) {
		atomic_fetch_add(&s->bogus, 1);
		return;
	}
	atomic_fetch_add_explicit(&s->hits[i], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&s->taken, 1, memory_order_relaxed);
}

static void *
thief(void *arg)
{
	struct shared *s = arg;
	unsigned misses = 0;
	void *p;

	atomic_fetch_add(&s->ready, 1);
	for (;;) {
		p = sn_deque_steal(&s->dq);
		if (p != NULL) {
			take(s, p);
			atomic_fetch_add_explicit(&s->stolen, 1,
						  memory_order_relaxed);
			continue;
		}
		/*
		 * The owner sets done only after draining the deque, so
		 * an empty deque after done really is the end.
		 */
		if (atomic_load(&s->done))
			break;
		/* Two cores, four threads: let the owner run. */
		if (++misses % 64 == 0)
			sched_yield();
	}
	return NULL;
}

static void
start_thieves(struct shared *s, pthread_t *tid, int n)
{
	int i;

	for (i = 0; i < n; i++)
		ck_assert_int_eq(pthread_create(&tid[i], NULL, thief, s), 0);
	/* Have them hammering the deque before the owner starts. */
	while (atomic_load(&s->ready) < n)
		sched_yield();
}

/* Owner: take whatever is left, then let the thieves go. */
static void
drain_and_stop(struct shared *s, pthread_t *tid, int n)
{
	void *p;
	int i;

	while ((p = sn_deque_pop(&s->dq)) != NULL)
		take(s, p);
	atomic_store(&s->done, true);
	for (i = 0; i < n; i++)
		ck_assert_int_eq(pthread_join(tid[i], NULL), 0);
}

/* Every item taken exactly once, nothing else taken, deque empty. */
static void
check_exactly_once(struct shared *s)
{
	size_t i, wrong = 0, first_wrong = 0;
	int h, first_h = 1;

	for (i = 0; i < s->n; i++) {
		h = atomic_load_explicit(&s->hits[i], memory_order_relaxed);
		if (h != 1 && wrong++ == 0) {
			first_wrong = i;
			first_h = h;
		}
	}
	ck_assert_msg(wrong == 0,
		      "%zu items not taken exactly once; first: item %zu taken %d times",
		      wrong, first_wrong, first_h);
	ck_assert_uint_eq(atomic_load(&s->bogus), 0);
	ck_assert_uint_eq(atomic_load(&s->taken), s->n);
	ck_assert_uint_eq(sn_deque_size(&s->dq), 0);
	ck_assert_ptr_null(sn_deque_pop(&s->dq));
	ck_assert_ptr_null(sn_deque_steal(&s->dq));
}

static void
shared_destroy(struct shared *s)
{
	sn_deque_destroy(&s->dq);
	free(s->hits);
}

/* Small, fast, and good enough to vary the owner's schedule. */
static uint32_t
xorshift32(uint32_t *state)
{
	uint32_t x = *state;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return *state = x;
}

/*
 * The owner pushes everything into a deque that starts at two slots, so
 * it grows about eighteen times while thieves steal from whatever buffer
 * they loaded, old or new.
 */
START_TEST(test_grow_under_stealing)
{
	enum { N = 500000 };
	struct shared s;
	pthread_t tid[NTHIEVES];
	size_t i, failed = 0;

	shared_init(&s, N, 1);
	start_thieves(&s, tid, NTHIEVES);
	for (i = 0; i < N; i++)
		if (sn_deque_push(&s.dq, ITEM(i)) != 0)
			failed++;
	drain_and_stop(&s, tid, NTHIEVES);
	ck_assert_uint_eq(failed, 0);
	check_exactly_once(&s);
	shared_destroy(&s);
}
END_TEST

/*
 * The owner interleaves pushes and pops at random, so the deque keeps
 * passing through empty and near-empty states while thieves steal.
 */
START_TEST(test_concurrent_mixed)
{
	enum { N = 400000 };
	struct shared s;
	pthread_t tid[NTHIEVES];
	uint32_t rng = 0x9e3779b9u;
	size_t next = 0, failed = 0;
	void *p;

	shared_init(&s, N, 3);
	start_thieves(&s, tid, NTHIEVES);
	while (next < N) {
		/* Two pushes for every pop on average. */
		if (xorshift32(&rng) % 3 != 0) {
			if (sn_deque_push(&s.dq, ITEM(next)) != 0)
				failed++;
			next++;
		} else if ((p = sn_deque_pop(&s.dq)) != NULL) {
			take(&s, p);
		}
	}
	drain_and_stop(&s, tid, NTHIEVES);
	ck_assert_uint_eq(failed, 0);
	check_exactly_once(&s);
	shared_destroy(&s);
}
END_TEST

/* A random pause of up to a few hundred cycles, for the last-item race. */
static void
delay(uint32_t *rng)
{
	unsigned spin;

	for (spin = xorshift32(rng) % RACE_SPIN_MAX; spin > 0; spin--)
		atomic_signal_fence(memory_order_seq_cst);
}

/*
 * Thief for the last-item race: one steal each time the owner announces
 * a round, so that the steal starts while the item is there and the pop
 * is imminent.  The announcement is read relaxed on purpose: it must not
 * hand the thief a happens-before edge the deque should provide itself.
 */
static void *
race_thief(void *arg)
{
	struct shared *s = arg;
	size_t last = 0, go;
	uint32_t rng = 54321;
	unsigned idle = 0;
	void *p;

	atomic_fetch_add(&s->ready, 1);
	for (;;) {
		go = atomic_load_explicit(&s->go, memory_order_relaxed);
		if (go == last) {
			if (atomic_load(&s->done))
				break;
			if (++idle % 256 == 0)
				sched_yield();
			continue;
		}
		last = go;
		atomic_store_explicit(&s->ack, go, memory_order_relaxed);
		delay(&rng);
		p = sn_deque_steal(&s->dq);
		if (p != NULL) {
			take(s, p);
			atomic_fetch_add_explicit(&s->stolen, 1,
						  memory_order_relaxed);
		}
	}
	return NULL;
}

static void
await_ack(struct shared *s, size_t round)
{
	unsigned spin;

	for (spin = 1; atomic_load_explicit(&s->ack, memory_order_relaxed) !=
		       round; spin++)
		if (spin % 256 == 0)
			sched_yield();
}

/*
 * The race Chase-Lev is most delicate about: one item in the deque, the
 * owner popping it while a thief steals it; the top CAS must give it to
 * exactly one of them.  On odd rounds the owner waits until the thief
 * has seen the round and pops at once, while the thief pauses a random
 * few cycles before stealing; on even rounds the owner pauses at random
 * and pops without waiting.  So across rounds the pop sweeps over the
 * steal.  How close the races get depends on the thief having a core of
 * its own; on a loaded machine the thief tends to win the odd rounds and
 * the owner the even ones, which still checks both outcomes.
 */
START_TEST(test_last_item_race)
{
	/* At most ROUNDS, but no longer than BUDGET_S once past MIN_ROUNDS:
	 * on a loaded machine each round waits for the thief to be
	 * scheduled, and 500,000 of those outlast the test's timeout. */
	enum { ROUNDS = 500000, MIN_ROUNDS = 20000, BUDGET_S = 20 };
	struct shared s;
	pthread_t tid[1];
	uint32_t rng = 12345;
	size_t i, failed = 0, nonempty = 0, stolen;
	time_t end = time(NULL) + BUDGET_S;
	void *p;

	shared_init(&s, ROUNDS, 2);
	ck_assert_int_eq(pthread_create(&tid[0], NULL, race_thief, &s), 0);
	while (atomic_load(&s.ready) < 1)
		sched_yield();
	for (i = 0; i < ROUNDS; i++) {
		if (i >= MIN_ROUNDS && i % 1024 == 0 && time(NULL) > end)
			break;
		if (sn_deque_push(&s.dq, ITEM(i)) != 0)
			failed++;
		atomic_store_explicit(&s.go, i + 1, memory_order_relaxed);
		if (i % 2)
			await_ack(&s, i + 1);
		else
			delay(&rng);
		p = sn_deque_pop(&s.dq);
		if (p != NULL)
			take(&s, p);
		/*
		 * Popped or stolen, the item is gone and top == bottom;
		 * a thief still holding the old top must fail its CAS.
		 */
		if (sn_deque_size(&s.dq) != 0)
			nonempty++;
	}
	drain_and_stop(&s, tid, 1);
	s.n = i;			/* the items pushed */
	ck_assert_uint_eq(failed, 0);
	ck_assert_uint_eq(nonempty, 0);
	check_exactly_once(&s);
	/* Both sides must have won some rounds, or nothing was raced. */
	stolen = atomic_load(&s.stolen);
	ck_assert_msg(stolen > 0 && stolen < i,
		      "thief won %zu of %zu rounds", stolen, i);
	shared_destroy(&s);
}
END_TEST

static Suite *
deque_suite(void)
{
	Suite *s = suite_create("deque");
	TCase *tc;

	tc = tcase_create("sequential");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_empty);
	tcase_add_test(tc, test_init_too_big);
	tcase_add_test(tc, test_pop_lifo);
	tcase_add_test(tc, test_steal_fifo);
	tcase_add_test(tc, test_mixed_one_thread);
	tcase_add_test(tc, test_wraparound);
	tcase_add_test(tc, test_grow_pop);
	tcase_add_test(tc, test_grow_steal);
	suite_add_tcase(s, tc);

	tc = tcase_create("concurrent");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_grow_under_stealing);
	tcase_add_test(tc, test_concurrent_mixed);
	tcase_add_test(tc, test_last_item_race);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	return run_suite(deque_suite());
}
