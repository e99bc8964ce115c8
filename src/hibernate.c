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
 *
 * A sweep never walks the process table: it looks only at candidates.
 * An actor is listed (hib_queued, proc.h) when it parks in an untimed
 * receive with hibernation allowed, on its worker's hib_cand, or when a
 * fault or a thaw puts its stack back while it stays parked, on
 * pool->touched; both are pushed lock-free and taken whole.  The sweep
 * sorts what it takes: actors no longer parked leave the lists (their
 * next park lists them again); those that parked less than a period ago
 * wait on the later list for the next sweep; the rest are due, grouped by
 * slab (sn_stack_due()) so that neighbours hibernate as one run, and are
 * hibernated a batch of whole slabs at a time.  Those the mapping budget
 * refuses wait on the refused list, which is not looked at again until a
 * thaw has given mappings back and there is room: past the budget, actors
 * stay parked with their stacks in place and the sweeps stop.  So a sweep
 * costs what it hibernates, plus one look at each actor that parked since
 * the last, and when nothing is listed, nothing: idle workers then sleep
 * without a timeout.
 *
 * The lists belong to one sweeper at a time (pool->sweep.busy), and a
 * listed block stays listed through its actor's exit and its reuse by
 * another: hib_queued is changed only by whoever owns the listing, and
 * each entry is checked for what it is now when it is looked at.
 */

static bool
may_hibernate(const struct sn_proc *p, uint64_t word)
{
	return sn_wait_hibernates(word) &&
	    atomic_load_explicit(&p->hib_ok, memory_order_relaxed) &&
	    atomic_load_explicit(&p->hib_state, memory_order_relaxed) !=
	    SN_HIB_OUT;
}

static void
push_on(_Atomic(struct sn_proc *) *head, struct sn_proc *p)
{
	if (!sn_hib_chain_take(p))
		return;
	p->hib_next = atomic_load_explicit(head, memory_order_relaxed);
	while (!atomic_compare_exchange_weak_explicit(head, &p->hib_next, p,
	    memory_order_release, memory_order_relaxed))
		;
}

void
sn_hib_candidate(struct sn_worker *w, struct sn_proc *p)
{
	uint8_t none = SN_HIBQ_NONE;

	/* After the wait word's fence: see unlist(). */
	if (atomic_load(&p->hib_queued) != SN_HIBQ_NONE ||
	    !atomic_load_explicit(&p->hib_ok, memory_order_relaxed) ||
	    sn_rt.pool.mem_fd < 0 ||
	    !atomic_compare_exchange_strong(&p->hib_queued, &none,
	    SN_HIBQ_LISTED))
		return;
	push_on(&w->hib_cand, p);
}

static void
later(struct sn_stack_pool *pool, struct sn_proc *p)
{
	if (!sn_hib_chain_take(p))
		return;
	p->hib_next = pool->sweep.later;
	pool->sweep.later = p;
	atomic_fetch_add_explicit(&pool->sweep.nlater, 1,
	    memory_order_relaxed);
}

static void
refuse(struct sn_stack_pool *pool, struct sn_proc *p)
{
	if (!sn_hib_chain_take(p))
		return;
	p->hib_next = pool->sweep.refused;
	pool->sweep.refused = p;
	atomic_fetch_add_explicit(&pool->sweep.nrefused, 1,
	    memory_order_relaxed);
}

/*
 * p, whose listing the sweep owns, leaves the lists: its next untimed
 * park lists it again.  A park already under way (a wait word other than
 * seen) may have looked before the store and left it to us: the store and
 * the load here, the wait word's store and the load of hib_queued there,
 * each with a full fence, so one of us sees the other.
 */
static void
unlist(struct sn_stack_pool *pool, struct sn_proc *p, uint64_t seen)
{
	uint8_t none = SN_HIBQ_NONE;
	uint64_t word;

	atomic_store(&p->hib_queued, SN_HIBQ_NONE);
	word = atomic_load(&p->wait);
	if (word != seen && may_hibernate(p, word) &&
	    atomic_compare_exchange_strong(&p->hib_queued, &none,
	    SN_HIBQ_LISTED))
		later(pool, p);
}

/* Sort one listed actor for sweep gen. */
static void
classify(struct sn_stack_pool *pool, struct sn_proc *p, uint64_t gen)
{
	uint64_t word = atomic_load(&p->wait);

	if (!may_hibernate(p, word))
		unlist(pool, p, 0);
	else if (atomic_load_explicit(&p->park_gen, memory_order_relaxed) >=
	    gen)
		later(pool, p);		/* parked less than a period ago */
	else
		sn_stack_due(pool, p);
}

/* Classify a chain; max: at most that many, the rest returned. */
static struct sn_proc *
classify_all(struct sn_stack_pool *pool, struct sn_proc *p, uint64_t gen,
    size_t max, size_t *seen)
{
	struct sn_proc *next;
	size_t n = 0;

	for (; p != NULL && n < max; p = next, n++) {
		next = p->hib_next;
		sn_hib_chain_drop(p);	/* after the read: see proc.h */
		classify(pool, p, gen);
	}
	if (seen != NULL)
		*seen = n;
	return p;
}

/* Whether the budget has room for another run. */
static bool
room(struct sn_stack_pool *pool)
{
	return sn_stack_vmas(pool) + 2 <= pool->vma_budget;
}

static bool
retry_refused(struct sn_stack_pool *pool)
{
	return atomic_load_explicit(&pool->sweep.nrefused,
	    memory_order_relaxed) != 0 &&
	    atomic_load(&pool->vma_freed) !=
	    atomic_load_explicit(&pool->sweep.refused_freed,
	    memory_order_relaxed) && room(pool);
}

/* Whether a sweep would find anything to do: a few loads. */
static bool
pending(struct sn_stack_pool *pool)
{
	unsigned i;

	if (atomic_load_explicit(&pool->sweep.ndue, memory_order_relaxed) ||
	    atomic_load_explicit(&pool->sweep.nlater, memory_order_relaxed) ||
	    atomic_load_explicit(&pool->touched, memory_order_relaxed))
		return true;
	for (i = 0; i < sn_rt.nworkers; i++)
		if (atomic_load_explicit(&sn_rt.workers[i].hib_cand,
		    memory_order_relaxed) != NULL)
			return true;
	return retry_refused(pool);
}

/* Bytes of p's stack in use, from its saved stack pointer up; 0 if the
 * pointer is not in its stack, which sn_stack_hibernate() refuses. */
static size_t
live_stack(const struct sn_proc *p)
{
	const char *sp = sn_ctx_sp(&p->ctx);
	const char *lo = p->stack_lo, *top = sn_stack_live_top(&sn_rt.pool, p);

	return sp != NULL && sp >= lo && sp < top ? (size_t)(top - sp) : 0;
}

/* Take what was listed since the last look, and on a new sweep the later
 * list and (after a thaw gave mappings back) a batch of the refused. */
static bool
collect(struct sn_stack_pool *pool, uint64_t gen, bool go_on)
{
	struct sn_proc *p;
	size_t n, retried = 0;
	unsigned i;

	for (i = 0; i < sn_rt.nworkers; i++) {
		_Atomic(struct sn_proc *) *head = &sn_rt.workers[i].hib_cand;

		if (atomic_load_explicit(head, memory_order_relaxed) != NULL)
			(void)classify_all(pool, atomic_exchange_explicit(head,
			    NULL, memory_order_acquire), gen, SIZE_MAX, NULL);
	}
	(void)classify_all(pool, sn_stack_touched_take(pool), gen, SIZE_MAX,
	    NULL);
	if (go_on)
		return false;
	p = pool->sweep.later;
	pool->sweep.later = NULL;
	atomic_store_explicit(&pool->sweep.nlater, 0, memory_order_relaxed);
	(void)classify_all(pool, p, gen, SIZE_MAX, NULL);
	if (!retry_refused(pool))
		return false;
	pool->sweep.refused = classify_all(pool, pool->sweep.refused, gen,
	    SN_HIB_BATCH, &n);
	atomic_fetch_sub_explicit(&pool->sweep.nrefused, n,
	    memory_order_relaxed);
	retried = n;
	return retried != 0;
}

/*
 * One sweep, unless another began less than a period ago (go_on: this
 * worker's last sweep stopped at its batch, carry on with the same
 * generation).  True when more are due now.  Only while every other
 * worker sleeps: a sweep holds actors' wakes that busy workers' sends
 * would have to leave for the repark; the last worker to go idle does it.
 */
bool
sn_hib_sweep(struct sn_worker *w, bool go_on, sn_hib_repark_fn repark)
{
	struct sn_stack_pool *pool = &sn_rt.pool;
	struct sn_proc **batch = w->hib_batch, *p;
	uint64_t now, last, gen, freed, word;
	size_t n, m, i, done;
	bool busy = false, retried;

	if (pool->mem_fd < 0 || !pending(pool)) {
		w->hib_more = false;
		/* Nothing is wanted any more either.  Left set, it would
		 * bring the last idle worker back every period for ever
		 * (park()): 3% of a CPU under TSan, found by check_hibernate
		 * when the machine was loaded. */
		if (atomic_load_explicit(&sn_rt.hib_wanted,
		    memory_order_relaxed))
			atomic_store(&sn_rt.hib_wanted, false);
		return false;
	}
	if (atomic_load(&sn_rt.nidle) + 1 < sn_rt.nworkers) {
		/* The last worker to go idle sweeps instead (park()). */
		if (!atomic_load_explicit(&sn_rt.hib_wanted,
		    memory_order_relaxed))
			atomic_store(&sn_rt.hib_wanted, true);
		return false;
	}
	atomic_store(&sn_rt.hib_wanted, false);
	if (!atomic_compare_exchange_strong(&pool->sweep.busy, &busy, true)) {
		w->hib_more = true;	/* another is at it: look again */
		return false;
	}
	now = sn_now_ns();
	last = atomic_load(&sn_rt.hib_last_ns);
	if (go_on) {
		atomic_store(&sn_rt.hib_last_ns, now);
		gen = atomic_load(&sn_rt.hib_gen) - 1;	/* the same */
	} else if ((int64_t)(now - last) < (int64_t)SN_HIB_PERIOD ||
	    !atomic_compare_exchange_strong(&sn_rt.hib_last_ns, &last, now)) {
		/* Swept a moment ago, maybe before what just parked here:
		 * come back for it after a period. */
		atomic_store(&pool->sweep.busy, false);
		w->hib_more = true;
		return false;
	} else {
		/* Eligible: parked before the previous sweep began. */
		gen = atomic_fetch_add(&sn_rt.hib_gen, 1);
	}
	/* all_blocked() must not judge while we hold actors' wakes. */
	atomic_fetch_add(&sn_rt.sweeping, 1);
	freed = atomic_load(&pool->vma_freed);
	retried = collect(pool, gen, go_on);

	/* A batch of whole slabs' due actors: take their wakes. */
	n = sn_stack_due_take(pool, batch, SN_HIB_BATCH);
	for (i = m = 0; i < n; i++) {
		p = batch[i];
		word = atomic_load(&p->wait);
		if (!may_hibernate(p, word) ||
		    !atomic_compare_exchange_strong(&p->wait, &word, 0)) {
			unlist(pool, p, 0);	/* woken meanwhile */
			continue;
		}
		if (atomic_load_explicit(&p->park_gen, memory_order_relaxed) >=
		    gen) {
			/* Woken and parked again since it was found. */
			later(pool, p);
			repark(w, p, word);
			continue;
		}
		/* Touched since it last hibernated: drop the old copy. */
		if (atomic_load_explicit(&p->hib_state, memory_order_relaxed) !=
		    SN_HIB_LIVE)
			sn_stack_thaw(pool, p);
		p->hib_len = live_stack(p);
		batch[m++] = p;
	}
	done = sn_stack_hibernate(pool, batch, m);
	sn_count(&w->n_hibernated, done);
	for (i = 0; i < m; i++) {
		p = batch[i];
		/* Back as it was: a receive, or a wait on a descriptor. */
		word = p->wait_seq << SN_WAIT_SEQ_SHIFT |
		    (atomic_load(&p->io_ready) != 0 ? SN_WAIT_IO : SN_WAIT_MSG);
		if (atomic_load_explicit(&p->hib_state, memory_order_relaxed) ==
		    SN_HIB_OUT) {
			repark(w, p, word);	/* hib_queued: SN_HIBQ_OUT */
		} else if (p->hib_len != 0) {
			refuse(pool, p);	/* the budget: until a thaw */
			repark(w, p, word);
		} else {
			/* Cannot as it is: not again until it parks again. */
			repark(w, p, word);
			unlist(pool, p, word);
		}
	}
	if (retried && done == 0)	/* nothing fits: stop retrying */
		atomic_store_explicit(&pool->sweep.refused_freed, freed,
		    memory_order_relaxed);
	atomic_fetch_sub(&sn_rt.sweeping, 1);
	n = atomic_load_explicit(&pool->sweep.ndue, memory_order_relaxed);
	atomic_store(&pool->sweep.busy, false);
	w->hib_more = pending(pool);
	return n != 0;
}
