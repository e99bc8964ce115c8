/*
 * Multi-producer, multi-consumer run queues: a Concurrency Kit ring with an
 * unbounded overflow list behind it, so a push never fails and nothing is
 * dropped when the ring is full.  Order is first-in first-out while the
 * ring has room; items that overflowed come out after the ring drains.
 */
#ifndef SN_RUNQ_H
#define SN_RUNQ_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

#include <ck_ring.h>

#include "internal.h"
#include "proc.h"

struct sn_runq {
	ck_ring_t ring;
	ck_ring_buffer_t *slots;
	/* Overflow, used only when the ring is full. */
	pthread_mutex_t lock SN_ALIGNED;
	struct sn_proc *ov_head, *ov_tail;	/* under lock */
	_Atomic size_t ov_count;
};

int sn_runq_init(struct sn_runq *q, unsigned log2_size);
/* Frees the queue; it must be empty and unused. */
void sn_runq_destroy(struct sn_runq *q);
void sn_runq_push(struct sn_runq *q, struct sn_proc *p);
struct sn_proc *sn_runq_pop(struct sn_runq *q);
/* Approximate, for idle checks. */
size_t sn_runq_size(struct sn_runq *q);

#endif /* SN_RUNQ_H */
