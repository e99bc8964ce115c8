/*
 * The process table on its own: every PID found while it is in, none
 * after it leaves, blocks freed when empty, and the same under concurrent
 * inserts, removals and lookups.
 */
#include "config.h"

#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

#include "ptable.h"

#include "run_suite.h"

#define N 50000
#define THREADS 4
#define PER_THREAD 20000

static struct sn_proc *
procs_new(size_t n)
{
	struct sn_proc *p = calloc(n, sizeof(*p));

	ck_assert_ptr_nonnull(p);
	return p;
}

static struct sn_proc *
find(struct sn_ptable *t, uint64_t pid)
{
	struct sn_pt_shard *held;
	struct sn_proc *p = sn_ptable_lock(t, pid, &held);

	if (p != NULL)
		ck_assert_ptr_nonnull(held);
	else
		ck_assert_ptr_null(held);
	sn_ptable_unlock(held);
	return p;
}

/* Blocks still in the table. */
static size_t
blocks_in(struct sn_ptable *t)
{
	size_t n = 0;
	int i;

	for (i = 0; i < SN_PT_SHARDS; i++)
		n += t->shard[i].count;
	return n;
}

START_TEST(insert_find_remove)
{
	struct sn_ptable t;
	struct sn_pidsource src = { 0 };
	struct sn_proc *p = procs_new(N);
	uint64_t lo = UINT64_MAX, hi = 0;
	size_t i;

	ck_assert_int_eq(sn_ptable_init(&t), 0);
	for (i = 0; i < N; i++) {
		ck_assert_int_eq(sn_ptable_insert(&t, &src, &p[i]), 0);
		ck_assert_uint_ne(p[i].pid, 0);
		if (i > 0)	/* one source: increasing, no gaps in a block */
			ck_assert_uint_gt(p[i].pid, p[i - 1].pid);
		lo = p[i].pid < lo ? p[i].pid : lo;
		hi = p[i].pid > hi ? p[i].pid : hi;
	}
	ck_assert_uint_ge(blocks_in(&t), N / SN_PID_BLOCK);
	for (i = 0; i < N; i++)
		ck_assert_ptr_eq(find(&t, p[i].pid), &p[i]);
	ck_assert_ptr_null(find(&t, 0));
	ck_assert_ptr_null(find(&t, hi + 1));
	ck_assert_ptr_null(find(&t, hi + 100 * SN_PID_BLOCK));
	ck_assert_ptr_null(find(&t, UINT64_MAX));
	for (i = 0; i < N; i += 2)
		sn_ptable_remove(&t, &p[i]);
	for (i = 0; i < N; i++)
		ck_assert_ptr_eq(find(&t, p[i].pid), i % 2 ? &p[i] : NULL);
	/* Blocks go once every PID they gave out has left and their
	 * source has moved on: the open one stays until closed. */
	for (i = 1; i < N; i += 2)
		sn_ptable_remove(&t, &p[i]);
	ck_assert_uint_eq(blocks_in(&t), 1);
	sn_pidsource_close(&t, &src);
	ck_assert_uint_eq(blocks_in(&t), 0);
	sn_ptable_destroy(&t);
	free(p);
}
END_TEST

/* A block closed while actors are still in is freed by the last to
 * leave; one never emptied is freed by destroy (valgrind and ASan check
 * that nothing leaks). */
START_TEST(closed_blocks_freed_by_last_exit)
{
	struct sn_ptable t;
	struct sn_pidsource src = { 0 };
	struct sn_proc *p = procs_new(3);
	int i;

	ck_assert_int_eq(sn_ptable_init(&t), 0);
	for (i = 0; i < 3; i++)
		ck_assert_int_eq(sn_ptable_insert(&t, &src, &p[i]), 0);
	sn_pidsource_close(&t, &src);
	ck_assert_uint_eq(blocks_in(&t), 1);
	sn_ptable_remove(&t, &p[0]);
	sn_ptable_remove(&t, &p[2]);
	ck_assert_uint_eq(blocks_in(&t), 1);
	ck_assert_ptr_eq(find(&t, p[1].pid), &p[1]);
	sn_ptable_remove(&t, &p[1]);
	ck_assert_uint_eq(blocks_in(&t), 0);
	/* A new source gets new PIDs: never reused. */
	ck_assert_int_eq(sn_ptable_insert(&t, &src, &p[0]), 0);
	ck_assert_uint_gt(p[0].pid, p[2].pid);
	sn_ptable_destroy(&t);
	free(p);
}
END_TEST

struct worker_arg {
	struct sn_ptable *t;
	struct sn_proc *procs;
	_Atomic int *bad;
	_Atomic uint64_t *max_pid;
};

static void *
churn(void *arg)
{
	struct worker_arg *a = arg;
	struct sn_pidsource src = { 0 };
	struct sn_pt_shard *held;
	struct sn_proc *p;
	uint64_t top;
	int round, i;

	for (round = 0; round < 3; round++) {
		for (i = 0; i < PER_THREAD; i++) {
			if (sn_ptable_insert(a->t, &src, &a->procs[i]) != 0)
				atomic_fetch_add(a->bad, 1);
			top = atomic_load(a->max_pid);
			while (a->procs[i].pid > top &&
			    !atomic_compare_exchange_weak(a->max_pid, &top,
			    a->procs[i].pid))
				;
		}
		for (i = 0; i < PER_THREAD; i++) {
			p = sn_ptable_lock(a->t, a->procs[i].pid, &held);
			if (p != &a->procs[i])
				atomic_fetch_add(a->bad, 1);
			sn_ptable_unlock(held);
		}
		for (i = 0; i < PER_THREAD; i++)
			sn_ptable_remove(a->t, &a->procs[i]);
	}
	sn_pidsource_close(a->t, &src);
	return NULL;
}

static _Atomic int stop_looking;

/* Any block found must hold the PID asked for, never another. */
static void *
look(void *arg)
{
	struct worker_arg *a = arg;
	struct sn_pt_shard *held;
	struct sn_proc *p;
	uint64_t x = 1, pid;

	while (!atomic_load(&stop_looking)) {
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		pid = 1 + (x >> 11) % (atomic_load(a->max_pid) + 1);
		p = sn_ptable_lock(a->t, pid, &held);
		if (p != NULL && p->pid != pid)
			atomic_fetch_add(a->bad, 1);
		sn_ptable_unlock(held);
	}
	return NULL;
}

START_TEST(concurrent_churn)
{
	struct sn_ptable t;
	struct worker_arg args[THREADS + 1];
	pthread_t tid[THREADS + 1];
	_Atomic int bad = 0;
	_Atomic uint64_t max_pid = 0;
	int i, j;

	ck_assert_int_eq(sn_ptable_init(&t), 0);
	atomic_store(&stop_looking, 0);
	for (i = 0; i <= THREADS; i++) {
		args[i].t = &t;
		args[i].bad = &bad;
		args[i].max_pid = &max_pid;
		args[i].procs = i < THREADS ? procs_new(PER_THREAD) : NULL;
	}
	ck_assert_int_eq(pthread_create(&tid[THREADS], NULL, look,
	    &args[THREADS]), 0);
	for (i = 0; i < THREADS; i++)
		ck_assert_int_eq(pthread_create(&tid[i], NULL, churn,
		    &args[i]), 0);
	for (i = 0; i < THREADS; i++)
		pthread_join(tid[i], NULL);
	atomic_store(&stop_looking, 1);
	pthread_join(tid[THREADS], NULL);
	ck_assert_int_eq(atomic_load(&bad), 0);
	for (i = 0; i < THREADS; i++)
		for (j = 0; j < PER_THREAD; j += 97)
			ck_assert_ptr_null(find(&t, args[i].procs[j].pid));
	/* Every source closed, every actor gone: every block freed. */
	ck_assert_uint_eq(blocks_in(&t), 0);
	for (i = 0; i < THREADS; i++)
		free(args[i].procs);
	sn_ptable_destroy(&t);
}
END_TEST

static Suite *
ptable_suite(void)
{
	Suite *s = suite_create("ptable");
	TCase *tc = tcase_create("ptable");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, insert_find_remove);
	tcase_add_test(tc, closed_blocks_freed_by_last_exit);
	tcase_add_test(tc, concurrent_churn);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(ptable_suite());
}
