/*
 * Taking a parked actor's wake: the one step every waker shares (a send,
 * an exit signal, a release from backpressure).  See the wait word in
 * proc.h: whoever changes it from parked to 0 owns the wake and requeues
 * the actor with sn_sched_ready(), and nobody else does.
 */
#ifndef SN_WAKE_H
#define SN_WAKE_H

#include <stdatomic.h>
#include <stdbool.h>

#include "proc.h"
#include "scheduler.h"

/* Which wait kinds a waker may clear, as a mask of 1 << kind. */
#define SN_WAKE_BY_MSG		(1u << SN_WAIT_MSG)
#define SN_WAKE_BY_MUTE		(1u << SN_WAIT_MUTE)
#define SN_WAKE_BY_SIGNAL	((1u << SN_WAIT_MSG) | (1u << SN_WAIT_SLEEP) | \
				 (1u << SN_WAIT_MUTE) | (1u << SN_WAIT_IO))

/*
 * Take the wake of p if it is parked in one of kinds.  Called after
 * publishing what should wake it (a message, a pending exit, a release);
 * the fence pairs with the one in the worker's park_commit(): either we
 * see its wait word or it sees what we published.
 */
static inline bool
sn_wake_take(struct sn_proc *p, unsigned kinds)
{
	uint64_t word;

	atomic_thread_fence(memory_order_seq_cst);
	word = atomic_load_explicit(&p->wait, memory_order_relaxed);
	while ((word & SN_WAIT_KIND_MASK) != 0 &&
	    (kinds & (1u << (word & SN_WAIT_KIND_MASK))) != 0)
		if (atomic_compare_exchange_weak(&p->wait, &word, 0)) {
			sn_sched_woken(p, word);
			return true;
		}
	return false;
}

#endif /* SN_WAKE_H */
