/*
 * Run queues of the threads outside the runtime that spawn.
 *
 * The main thread of a program that starts by spawning its actors, an
 * acceptor thread that spawns one per connection: such a thread is not a
 * worker, and its actors used to go through the shared normal queue, a
 * lock taken and a ring slot filled per actor, with every worker that
 * looks for work reading the lines the spawner writes.  Now each such
 * thread pushes onto a Chase-Lev deque of its own, which costs its owner
 * no lock and no read-modify-write, and the workers steal from it as
 * they steal from each other, oldest first.  The shared queue remains for
 * the other priorities and for when a deque cannot grow.
 *
 * The deques are never freed, and the list of them only grows: a worker
 * walks it with no lock and no reference count, and can never read a
 * deque that is gone.  The price is that the list holds as many deques
 * as there were spawning threads at the busiest moment: a thread gives
 * its deque back when it ends (spawn.c's thread-end hook), and the next
 * thread that spawns takes it, so a server that starts a thread per
 * request uses as many as it has threads at once, not one per request.
 * What a thread leaves queued when it ends stays for the workers; what
 * a runtime leaves when it stops is nothing, since it stops only once
 * every actor it counted has run.  The deques outlive the runtime for
 * the same reason as the list: a thread keeps its deque across runtimes.
 */
#include "config.h"

#include <stdlib.h>

#include "outq.h"

#define SN_OUTQ_LOG2	8	/* 256 slots to start with; it grows */

/* Every deque ever made, newest first; pushed with a CAS, never popped. */
static _Atomic(struct sn_outq *) outq_list;
static _Atomic unsigned outq_count;

/* A deque some thread gave back, or NULL. */
static struct sn_outq *
outq_reuse(void)
{
	struct sn_outq *q;
	bool free_ = false;

	for (q = atomic_load_explicit(&outq_list, memory_order_acquire);
	    q != NULL; q = q->next) {
		/* Acquire: what the last holder pushed is ours to see, its
		 * bottom first of all, before we push after it. */
		if (!atomic_load_explicit(&q->held, memory_order_relaxed) &&
		    atomic_compare_exchange_strong_explicit(&q->held, &free_,
		    true, memory_order_acquire, memory_order_relaxed))
			return q;
		free_ = false;
	}
	return NULL;
}

struct sn_outq *
sn_outq_take(void)
{
	struct sn_outq *q = outq_reuse(), *head;

	if (q != NULL)
		return q;
	q = calloc(1, sizeof(*q));
	if (q == NULL)
		return NULL;
	if (sn_deque_init(&q->dq, SN_OUTQ_LOG2) != 0) {
		free(q);
		return NULL;
	}
	atomic_init(&q->held, true);
	/* Release: a worker that finds q on the list sees it made. */
	head = atomic_load_explicit(&outq_list, memory_order_relaxed);
	do
		q->next = head;
	while (!atomic_compare_exchange_weak_explicit(&outq_list, &head, q,
	    memory_order_release, memory_order_relaxed));
	atomic_fetch_add_explicit(&outq_count, 1, memory_order_relaxed);
	return q;
}

void
sn_outq_give_back(struct sn_outq *q)
{
	/* Release: pairs with the acquire of the next holder. */
	atomic_store_explicit(&q->held, false, memory_order_release);
}

struct sn_proc *
sn_outq_steal(unsigned *cursor)
{
	struct sn_outq *head, *q;
	struct sn_proc *p;
	unsigned n, skip, i;

	head = atomic_load_explicit(&outq_list, memory_order_acquire);
	if (head == NULL)
		return NULL;		/* no thread outside has spawned */
	n = atomic_load_explicit(&outq_count, memory_order_relaxed);
	if (n <= 1) {
		/* The usual case, one spawning thread (main), taken on
		 * every steal of a one-worker spawn-flat: no division and no
		 * cursor write (with the general loop alone, a median of 154
		 * ms there against 140, in noisy runs). */
		return sn_deque_size(&head->dq) ? sn_deque_steal(&head->dq) :
		    NULL;
	}
	/* Start one further along each time, so that no thread's actors
	 * wait behind another's for ever. */
	skip = (*cursor)++ % n;
	for (q = head; skip > 0 && q->next != NULL; skip--)
		q = q->next;
	for (i = 0; i < n; i++) {
		if (sn_deque_size(&q->dq) &&
		    (p = sn_deque_steal(&q->dq)) != NULL)
			return p;
		q = q->next != NULL ? q->next : head;
	}
	return NULL;
}

bool
sn_outq_visible(void)
{
	struct sn_outq *q;

	for (q = atomic_load_explicit(&outq_list, memory_order_acquire);
	    q != NULL; q = q->next)
		if (sn_deque_size(&q->dq))
			return true;
	return false;
}
