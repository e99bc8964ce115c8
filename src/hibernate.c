/*
 * Hibernation sweeps: long-parked actors give their stack pages back.
 */
#include "config.h"

#include "hibernate.h"
#include "scheduler.h"

/*
 * An actor parked in receive with no timeout across a whole sweep period
 * gives its stack pages back: its live frames (a few hundred bytes) are
 * copied to the heap and the stack is made PROT_NONE and
 * madvise(MADV_DONTNEED)'d, so an idle actor costs its control block and
 * that copy, not a 4 KiB page.  Anything else that touches the stack
 * meanwhile faults it back (sn_stack_fault()).
 * Idle workers do it, at most every SN_HIB_PERIOD, so actors that wait
 * briefly (a ping-pong) never pay for it.  The sweep owns each actor's
 * wake while it works on it, so nothing can run it meanwhile; a message
 * that came in is seen when it parks the actor again, as the scheduler's
 * park does (the repark hook).  The actor's stack comes back in run()
 * before it resumes.
 */
struct hib_scan {
	uint64_t gen;			/* this sweep's number */
	struct sn_proc *taken;		/* chained through next */
	unsigned n;
	bool more;			/* some must wait for another sweep */
	bool full;			/* some are due now, past the batch */
};

static void
hib_take(struct sn_proc *p, void *arg)
{
	struct hib_scan *scan = arg;
	uint64_t word = atomic_load(&p->wait);

	if ((word & (SN_WAIT_KIND_MASK | SN_WAIT_TIMED)) != SN_WAIT_MSG ||
	    !atomic_load_explicit(&p->hib_ok, memory_order_relaxed) ||
	    atomic_load_explicit(&p->hib_state, memory_order_relaxed) ==
	    SN_HIB_OUT)
		return;
	/* Only actors that parked before the previous sweep began. */
	if (atomic_load_explicit(&p->park_gen, memory_order_relaxed) >=
	    scan->gen) {
		scan->more = true;
		return;
	}
	if (scan->n >= SN_HIB_BATCH) {
		scan->more = scan->full = true;
		return;
	}
	if (!atomic_compare_exchange_strong(&p->wait, &word, 0))
		return;
	p->next = scan->taken;
	scan->taken = p;
	scan->n++;
}

/* Bytes of p's stack in use, from its saved stack pointer up; 0 if the
 * pointer is not in its stack, which sn_stack_hibernate() refuses. */
static size_t
live_stack(const struct sn_proc *p)
{
	const char *sp = sn_ctx_sp(&p->ctx);
	const char *lo = p->stack_lo, *top = lo + p->stack_size;

	return sp != NULL && sp >= lo && sp < top ? (size_t)(top - sp) : 0;
}

/*
 * One sweep, unless another began less than a period ago (go_on: this
 * worker's last sweep stopped at its batch, carry on with the same
 * generation).  True when it stopped at its batch too, having hibernated
 * some.  Only while every other worker sleeps: a sweep holds table locks
 * that busy workers' exits and sends would wait on; the last worker to go
 * idle does it.
 */
bool
sn_hib_sweep(struct sn_worker *w, bool go_on, sn_hib_repark_fn repark)
{
	uint64_t now = sn_now_ns(), last = atomic_load(&sn_rt.hib_last_ns);
	struct hib_scan scan = { 0 };
	struct sn_proc *p, *next;
	size_t n;

	if (sn_rt.pool.mem_fd < 0)
		return false;
	if (atomic_load(&sn_rt.nidle) + 1 < sn_rt.nworkers) {
		/* The last worker to go idle sweeps instead (park()). */
		if (!atomic_load_explicit(&sn_rt.hib_wanted,
		    memory_order_relaxed))
			atomic_store(&sn_rt.hib_wanted, true);
		return false;
	}
	atomic_store(&sn_rt.hib_wanted, false);
	if (go_on) {
		atomic_store(&sn_rt.hib_last_ns, now);
		scan.gen = atomic_load(&sn_rt.hib_gen) - 1;	/* the same */
	} else if ((int64_t)(now - last) < (int64_t)SN_HIB_PERIOD ||
	    !atomic_compare_exchange_strong(&sn_rt.hib_last_ns, &last, now)) {
		/* Swept a moment ago, maybe before what just parked here:
		 * come back for it after a period. */
		w->hib_more = true;
		return false;
	} else {
		/* Eligible: parked before the previous sweep began. */
		scan.gen = atomic_fetch_add(&sn_rt.hib_gen, 1);
	}
	/* all_blocked() must not judge while we hold actors' wakes. */
	atomic_fetch_add(&sn_rt.sweeping, 1);
	sn_ptable_foreach(&sn_rt.ptable, hib_take, &scan);
	w->hib_more = scan.more;
	n = 0;
	for (p = scan.taken; p != NULL; p = p->next) {
		/* Touched since it last hibernated: drop the old copy. */
		if (atomic_load_explicit(&p->hib_state, memory_order_relaxed) !=
		    SN_HIB_LIVE)
			sn_stack_thaw(&sn_rt.pool, p);
		p->hib_len = live_stack(p);
		w->hib_batch[n++] = p;
	}
	n = sn_stack_hibernate(&sn_rt.pool, w->hib_batch, n);
	sn_count(&w->n_hibernated, n);
	for (p = scan.taken; p != NULL; p = next) {
		next = p->next;
		p->next = NULL;
		if (atomic_load_explicit(&p->hib_state, memory_order_relaxed) !=
		    SN_HIB_OUT)	/* not again until it parks again */
			atomic_store_explicit(&p->park_gen, UINT64_MAX,
			    memory_order_relaxed);
		/* Parked again, as it was. */
		repark(w, p, p->wait_seq << SN_WAIT_SEQ_SHIFT |
		    SN_WAIT_MSG);
	}
	atomic_fetch_sub(&sn_rt.sweeping, 1);
	return scan.full && n > 0;
}
