/*
 * Run queues on Concurrency Kit rings.
 *
 * Consumers take from the ring lock-free (ck_ring's multi-consumer
 * dequeue).  Producers never spin on each other: ck_ring's multi-producer
 * enqueue waits, spinning, for every producer ahead of it to commit, and a
 * producer preempted there stalls all the others; with more threads than
 * cores (workers plus the application's own threads) that turned into
 * seconds.  So:
 *
 *  - a shared queue (sn_runq_push) takes a mutex around a single-producer
 *    enqueue, and when the ring is full appends to an unbounded overflow
 *    list under the same mutex: a push never fails, nothing is dropped;
 *  - a worker's own FIFO has one producer, its owner
 *    (sn_runq_push_owner), which enqueues with no lock at all and, when
 *    the ring is full, is told so and puts the actor elsewhere.
 *
 * Order is first-in first-out while the ring has room; actors that
 * overflowed come out after the ring drains.
 */
#ifndef SN_RUNQ_H
#define SN_RUNQ_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include <ck_ring.h>

#include "internal.h"
#include "proc.h"

struct sn_runq {
	ck_ring_t ring;
	ck_ring_buffer_t *slots;
	/* Producers of a shared queue, and the overflow. */
	pthread_mutex_t lock SN_ALIGNED;
	struct sn_proc *ov_head, *ov_tail;	/* under lock */
	/* Read by every pop that finds the ring empty: a line of its own,
	 * or idle consumers would pull the lock away from the producer. */
	_Atomic size_t ov_count SN_ALIGNED;
};

int sn_runq_init(struct sn_runq *q, unsigned log2_size);
/* Frees the queue; it must be empty and unused. */
void sn_runq_destroy(struct sn_runq *q);
/* Any thread; never fails. */
void sn_runq_push(struct sn_runq *q, struct sn_proc *p);
/* The queue's single producer only; false when the ring is full. */
bool sn_runq_push_owner(struct sn_runq *q, struct sn_proc *p);
/* sn_runq_pop() past its empty check. */
struct sn_proc *sn_runq_pop_slow(struct sn_runq *q);

/* Approximate, for idle checks: two relaxed loads of the ring's ends
 * and the overflow count. */
static inline size_t
sn_runq_size(struct sn_runq *q)
{
	return ck_ring_size(&q->ring) + sn_load(&q->ov_count);
}

/*
 * Any thread; NULL when empty.  The empty check is inline: a pick looks
 * at several queues that are nearly always empty (the priority queues,
 * the global one), and a call into the ring's dequeue for each was a
 * fifth of a yield.  It reads what the dequeue itself reads first, in
 * the same order, so it misses nothing the dequeue would have seen.
 */
static inline struct sn_proc *
sn_runq_pop(struct sn_runq *q)
{
	if (ck_ring_size(&q->ring) == 0 &&
	    atomic_load_explicit(&q->ov_count, memory_order_acquire) == 0)
		return NULL;
	return sn_runq_pop_slow(q);
}

#endif /* SN_RUNQ_H */
