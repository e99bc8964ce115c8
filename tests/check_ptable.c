/*
 * The process table on its own: every PID found while it is in, none
 * after it leaves, and the same under concurrent inserts, removals and
 * lookups.
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
procs_new(size_t n, uint64_t first_pid)
{
	struct sn_proc *p = calloc(n, sizeof(*p));
	size_t i;

	ck_assert_ptr_nonnull(p);
	for (i = 0; i < n; i++)
		p[i].pid = first_pid + i;
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

START_TEST(insert_find_remove)
{
	struct sn_ptable t;
	struct sn_proc *p = procs_new(N, 1);
	size_t i;

	ck_assert_int_eq(sn_ptable_init(&t), 0);
	ck_assert_ptr_null(find(&t, 1));
	for (i = 0; i < N; i++)
		sn_ptable_insert(&t, &p[i]);
	for (i = 0; i < N; i++)
		ck_assert_ptr_eq(find(&t, p[i].pid), &p[i]);
	ck_assert_ptr_null(find(&t, 0));
	ck_assert_ptr_null(find(&t, N + 1));
	ck_assert_ptr_null(find(&t, UINT64_MAX));
	for (i = 0; i < N; i += 2)
		sn_ptable_remove(&t, &p[i]);
	for (i = 0; i < N; i++)
		ck_assert_ptr_eq(find(&t, p[i].pid), i % 2 ? &p[i] : NULL);
	/* Removing what is not there changes nothing. */
	sn_ptable_remove(&t, &p[0]);
	ck_assert_ptr_eq(find(&t, p[1].pid), &p[1]);
	sn_ptable_destroy(&t);
	free(p);
}
END_TEST

struct worker_arg {
	struct sn_ptable *t;
	struct sn_proc *procs;
	_Atomic int *bad;
};

static void *
churn(void *arg)
{
	struct worker_arg *a = arg;
	struct sn_pt_shard *held;
	struct sn_proc *p;
	int round, i;

	for (round = 0; round < 3; round++) {
		for (i = 0; i < PER_THREAD; i++)
			sn_ptable_insert(a->t, &a->procs[i]);
		for (i = 0; i < PER_THREAD; i++) {
			p = sn_ptable_lock(a->t, a->procs[i].pid, &held);
			if (p != &a->procs[i])
				atomic_fetch_add(a->bad, 1);
			sn_ptable_unlock(held);
		}
		for (i = 0; i < PER_THREAD; i++)
			sn_ptable_remove(a->t, &a->procs[i]);
	}
	return NULL;
}

static _Atomic int stop_looking;

static void *
look(void *arg)
{
	struct worker_arg *a = arg;
	struct sn_pt_shard *held;
	struct sn_proc *p;
	uint64_t pid = 1;

	while (!atomic_load(&stop_looking)) {
		pid = pid * 6364136223846793005ull + 1442695040888963407ull;
		p = sn_ptable_lock(a->t, 1 + pid % (THREADS * PER_THREAD), &held);
		if (p != NULL && p->pid != 1 + pid % (THREADS * PER_THREAD))
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
	int i;

	ck_assert_int_eq(sn_ptable_init(&t), 0);
	atomic_store(&stop_looking, 0);
	for (i = 0; i < THREADS; i++) {
		args[i].t = &t;
		args[i].bad = &bad;
		args[i].procs = procs_new(PER_THREAD,
		    1 + (uint64_t)i * PER_THREAD);
		ck_assert_int_eq(pthread_create(&tid[i], NULL, churn,
		    &args[i]), 0);
	}
	args[THREADS].t = &t;
	args[THREADS].bad = &bad;
	ck_assert_int_eq(pthread_create(&tid[THREADS], NULL, look,
	    &args[THREADS]), 0);
	for (i = 0; i < THREADS; i++)
		pthread_join(tid[i], NULL);
	atomic_store(&stop_looking, 1);
	pthread_join(tid[THREADS], NULL);
	ck_assert_int_eq(atomic_load(&bad), 0);
	for (i = 0; i < THREADS * PER_THREAD; i += 97)
		ck_assert_ptr_null(find(&t, 1 + (uint64_t)i));
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
	tcase_add_test(tc, concurrent_churn);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(ptable_suite());
}
