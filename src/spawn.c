/*
 * Spawning: a new actor's stack, arguments and PID, and the counting
 * that lets a spawn from a thread outside the runtime race init and
 * shutdown safely (see "Calls that race init and shutdown" in
 * runtime.h).  An outside spawn is counted in before it reads the
 * runtime's state, so shutdown either sees the count and waits, or the
 * spawn sees the shutdown and fails with EAGAIN.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "actor.h"
#include "outq.h"
#include "scheduler.h"

/*
 * Threads that are not workers also take stacks in batches, through a
 * cache of their own.  It is only good for the runtime it was filled
 * from: each start bumps the generation, and a stale cache is dropped
 * (its stacks were unmapped with their pool).
 */
static _Atomic uint64_t rt_generation;
static SN_TLS struct sn_stack_cache tls_cache;
static SN_TLS struct sn_pidsource tls_pids;	/* and its PIDs, likewise */
static SN_TLS uint64_t tls_cache_generation;
/* The run queue of this thread's spawns, taken at the first (outq.c);
 * unlike the cache it stays good from one runtime to the next. */
static SN_TLS struct sn_outq *tls_outq;

/* Give p its arguments: passed through, copied to its stack's area, or
 * copied to the heap (see SN_ARGS_INLINE). */
static int
args_copy(struct sn_proc *p, const void *args, uint64_t size)
{
	void *copy;

	p->args_len = 0;
	if (size == 0) {
		p->args = args;
		return 0;
	}
	if (size <= SN_ARGS_INLINE) {
		copy = sn_stack_args_area(&sn_rt.pool, p);
		p->args_len = (uint8_t)size;
	} else if ((copy = malloc(size)) != NULL) {
		p->args_len = SN_ARGS_HEAP;
	} else {
		return ENOMEM;
	}
	memcpy(copy, args, size);
	p->args = copy;
	return 0;
}

/*
 * Set while a thread that is not a worker is inside a call that takes
 * the runtime's locks.  Workers block asynchronous signals (see
 * lifecycle.c), but other threads do not, and a signal handler that
 * calls in while its thread holds a table or queue lock would wait for
 * itself for ever: it finds the flag set and fails with EDEADLK instead.
 */
static SN_TLS bool tls_in_call;

/*
 * An outside spawn counts 2 in outside_live while the call runs: one for
 * the actor, one for the call itself, given back once the call no longer
 * touches the runtime.  Without the second, the actor could run and exit
 * while its spawner was still inside the run queue's push or waking a
 * worker, and shutdown, seeing every actor gone, freed both under it.
 */
#define SPAWN_CALL_COUNT	2

static void
outside_cancel(void)
{
	atomic_fetch_sub(&sn_rt.outside_live, SPAWN_CALL_COUNT);
	tls_in_call = false;
	sn_sched_done_signal();		/* shutdown may be waiting on this count */
}

/*
 * Count a spawn from a thread that is not a worker, unless the runtime no
 * longer takes outside work.  Counted before the state is read, so that
 * shutdown either sees the count or the spawn sees the shutdown.
 */
static int
outside_enter(void)
{
	if (tls_in_call)
		return EDEADLK;
	tls_in_call = true;
	atomic_fetch_add(&sn_rt.outside_live, SPAWN_CALL_COUNT);
	switch (atomic_load(&sn_rt.state)) {
	case SN_RT_RUNNING:
		return 0;
	case SN_RT_STOPPING:
		outside_cancel();
		return EAGAIN;
	default:
		outside_cancel();
		return EPERM;
	}
}

/*
 * The same around a send, kill or lookup from a thread that is not a
 * worker: shutdown waits for it to finish before it frees the tables.
 */
int
sn_sched_outside_enter(void)
{
	if (tls_in_call)
		return EDEADLK;
	tls_in_call = true;
	atomic_fetch_add(&sn_rt.outside_busy, 1);
	if (atomic_load(&sn_rt.state) == SN_RT_RUNNING)
		return 0;
	sn_sched_outside_leave();
	return EPERM;
}

void
sn_sched_outside_leave(void)
{
	atomic_fetch_sub(&sn_rt.outside_busy, 1);
	tls_in_call = false;
	sn_sched_done_signal();
}

/*
 * When a thread that spawned ends, its PID block is closed, so the block
 * can be freed once its actors are gone instead of at shutdown, and its
 * cached stacks go back to the pool: a server that starts a thread per
 * request would otherwise strand a batch of stacks per thread.
 */
static pthread_key_t outside_key;
static pthread_once_t outside_key_once = PTHREAD_ONCE_INIT;

static void
outside_thread_end(void *unused)
{
	(void)unused;
	/* Whatever the runtime's state: the queue is the process's. */
	if (tls_outq != NULL) {
		sn_outq_give_back(tls_outq);
		tls_outq = NULL;
	}
	if (sn_sched_outside_enter() != 0)
		return;		/* the runtime is down: nothing to close */
	/* Running, hence not torn down until we leave: the block is still
	 * there if it is this runtime's. */
	if (tls_cache_generation == atomic_load(&rt_generation)) {
		sn_pidsource_close(&sn_rt.ptable, &tls_pids);
		sn_pool_flush(&sn_rt.pool, &tls_cache);
	}
	sn_sched_outside_leave();
}

static void
outside_key_create(void)
{
	(void)pthread_key_create(&outside_key, outside_thread_end);
}

static struct sn_stack_cache *
outside_cache(void)
{
	uint64_t gen = atomic_load_explicit(&rt_generation,
	    memory_order_relaxed);

	if (tls_cache_generation != gen) {
		tls_cache.head = NULL;
		tls_cache.count = 0;
		memset(&tls_pids, 0, sizeof(tls_pids));
		tls_cache_generation = gen;
		pthread_once(&outside_key_once, outside_key_create);
		(void)pthread_setspecific(outside_key, &tls_pids);
	}
	return &tls_cache;
}

/* This thread's run queue, or NULL to use the shared one (none could be
 * made: the next spawn tries again). */
static struct sn_outq *
outside_queue(void)
{
	if (sn_unlikely(tls_outq == NULL))
		tls_outq = sn_outq_take();
	return tls_outq;
}

uint64_t
sn_sched_spawn(snow_actor_fn fn, const void *args, uint64_t args_size,
    uint8_t priority)
{
	struct sn_worker *w = sn_worker_self();
	struct sn_stack_cache *cache;
	struct sn_pidsource *pids;
	struct sn_proc *p;
	uint64_t pid;
	int err;

	if (w != NULL && w->current == NULL)
		w = NULL;	/* not inside an actor */
	/* Inside an actor no check is needed: a live actor keeps the
	 * runtime up. */
	if (w == NULL && (err = outside_enter()) != 0) {
		errno = err;
		return 0;
	}
	/* Read only now: the stack size is this runtime's once we are in. */
	if (args_size > sn_rt.pool.stack_size) {
		errno = EINVAL;
		goto fail;
	}
	cache = w != NULL ? &w->cache : outside_cache();
	pids = w != NULL ? &w->pids : &tls_pids;
	p = sn_pool_get(&sn_rt.pool, cache);
	if (p == NULL)
		goto fail;	/* errno set */
	err = args_copy(p, args, args_size);
	if (err != 0) {
		sn_pool_put(&sn_rt.pool, cache, p);
		errno = err;
		goto fail;
	}
	p->fn = fn;
	p->priority = priority;
	p->reductions = SNOW_REDUCTIONS;
	p->exit_reason = SNOW_EXIT_NORMAL;
	atomic_store_explicit(&p->state, SN_READY, memory_order_relaxed);
	sn_actor_start(p);
	/* Gives it its PID; from here a send can reach it. */
	err = sn_ptable_insert(&sn_rt.ptable, pids, p);
	if (err != 0) {
		sn_proc_args_free(p);
		sn_pool_put(&sn_rt.pool, cache, p);
		errno = err;
		goto fail;
	}
	pid = p->pid;
	/* Counted before anyone can see the actor, hence before its exit. */
	if (w != NULL)
		atomic_store_explicit(&w->n_spawned, sn_load(&w->n_spawned) + 1,
		    memory_order_release);
	/* An outside spawn was counted by outside_enter(). */
	/* After this the actor may run, exit and be reused: use pid only. */
	if (w != NULL) {
		sn_sched_enqueue_spawned(w, p);
	} else {
		sn_sched_enqueue_outside(outside_queue(), p);
		/* The call is done with the runtime: give back its count. */
		atomic_fetch_sub(&sn_rt.outside_live, 1);
		tls_in_call = false;
		sn_sched_done_signal();
	}
	return pid;
fail:
	if (w == NULL) {
		err = errno;
		outside_cancel();
		errno = err;
	}
	return 0;
}

/*
 * A new runtime starts: caches of outside threads filled from the last
 * one are stale (their stacks were unmapped with its pool).
 */
void
sn_sched_new_generation(void)
{
	atomic_fetch_add(&rt_generation, 1);
}
