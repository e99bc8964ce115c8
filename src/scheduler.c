/*
 * The scheduler: workers picking and running actors, and the actors' side
 * of a switch (yields, parks, exits, wakes).  See scheduler.h for where
 * runnable actors wait; what a worker does with nothing to run is
 * idle.c's, starting and stopping the runtime lifecycle.c's.
 */
#include "config.h"

#include <errno.h>
#include <linux/futex.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "actor.h"
#include "fault.h"
#include "hibernate.h"
#include "idle.h"
#include "outq.h"
#include "scheduler.h"

#define SN_LOW_EVERY	8	/* a low-priority pick per this many */
#define SN_NORMAL_EVERY	4	/* normal before high once per this many */
#define SN_FAIR_EVERY	61	/* FIFO and global queue before the deque */
#define SN_IDLE_SPINS	4096	/* empty picks (about 0.5 ms) before a worker sleeps */
#define SN_PID_BLOCK	256	/* PIDs a worker takes from the counter at once */
#define SN_NEXT_STREAK	32	/* picks in a row from the next slot */
#define SN_NEXT_HUNGRY	256	/* empty picks before a thief takes a next slot */
#define SN_DIRECT_MAX	64	/* hand-overs in a row before a trip to the loop */
#define SN_IO_EVERY	8	/* loop turns between a busy worker's polls */

/* The lock and the futex word live as long as the process: a spawn that
 * races a shutdown may still signal through them. */
struct sn_runtime sn_rt = {
	.idle_lock = PTHREAD_MUTEX_INITIALIZER,
};
SN_TLS int32_t sn_budget;

static SN_TLS struct sn_worker *tls_worker;


SN_NOINLINE struct sn_worker *
sn_worker_self(void)
{
	/* The empty asm keeps the compiler from merging TLS reads across
	 * calls even with link-time optimisation. */
	__asm__ __volatile__("" ::: "memory");
	return tls_worker;
}

/* Arm tm on w, the worker this actor runs on; a new earliest deadline may
 * need a watcher, should w be held past it.  0, or ENOMEM. */
static int
timers_arm(struct sn_worker *w, const struct sn_timer *tm)
{
	uint64_t before = sn_timers_next(&w->timers);
	int err = sn_timers_add(&w->timers, tm);

	if (err == 0 && tm->deadline < before)
		sn_idle_timer_watch(tm->deadline);
	return err;
}

/* ---- Queues ---- */

static uint64_t
rng_next(struct sn_worker *w)
{
	/* xorshift64: victim choice needs spread, not quality. */
	uint64_t x = w->rng;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	w->rng = x;
	return x;
}

/*
 * Whether thief w may take v's next slot: only if v has switched to no
 * actor since w last looked, at least 64 empty picks ago (a few us).
 * A slot is a chain of actors that wake each other on one core (a
 * supervisor, its child, the one that fails it): its owner takes from it
 * at every hand-over, and a spinning thief that took it whenever it found
 * it full moved the chain to its own core on most restarts (sup-restart
 * on two workers: both workers busy in pick and steal, the run twice as
 * long as on one).  An owner that has not switched in that time is held
 * by a long-running actor, and the slot's actor would wait for it:
 * that one is taken, as before.  The price is one more look before such
 * a rescue.
 */
static bool
next_stealable(struct sn_worker *w, struct sn_worker *v)
{
	uint64_t switches = atomic_load_explicit(&v->n_switches,
	    memory_order_relaxed);

	if (w->looked_at == v && w->looked_switches == switches)
		return true;
	w->looked_at = v;
	w->looked_switches = switches;
	return false;
}

/*
 * Steal from a random victim: its deque, then its FIFO, and once we have
 * been hungry a while (hungry), its next slot, which its owner would
 * otherwise run as soon as its current actor stops, if its owner seems
 * held (next_stealable()).
 */
static struct sn_proc *
steal(struct sn_worker *w, bool hungry)
{
	unsigned n = sn_rt.nworkers, start, i;
	struct sn_proc *p;

	if (n < 2)
		return NULL;
	start = (unsigned)(rng_next(w) % n);
	for (i = 0; i < n; i++) {
		struct sn_worker *v = &sn_rt.workers[(start + i) % n];

		if (v == w)
			continue;
		p = sn_deque_steal(&v->dq);
		if (p == NULL)
			p = sn_runq_pop(&v->fifo);
		if (p == NULL && hungry &&
		    atomic_load_explicit(&v->next, memory_order_relaxed) &&
		    next_stealable(w, v))
			p = atomic_exchange(&v->next, NULL);
		if (p != NULL) {
			sn_count(&w->n_steals, 1);
			return p;
		}
	}
	return NULL;
}

static void requeue(struct sn_worker *w, struct sn_proc *p);

/*
 * The actor a running actor just woke, as Go's runnext: it runs as soon
 * as the waker stops, on this core, with the message still in cache.  A
 * pair that keeps waking each other gets SN_NEXT_STREAK picks in a row,
 * then goes behind the others.
 */
static struct sn_proc *
next_take(struct sn_worker *w)
{
	struct sn_proc *p;

	if (atomic_load_explicit(&w->next, memory_order_relaxed) == NULL)
		return NULL;
	p = atomic_exchange(&w->next, NULL);
	if (p == NULL)
		return NULL;
	if (++w->next_streak <= SN_NEXT_STREAK)
		return p;
	w->next_streak = 0;
	requeue(w, p);
	return NULL;
}

/* Normal work of this worker and the global normal queue. */
static struct sn_proc *
pick_normal(struct sn_worker *w, uint64_t tick)
{
	struct sn_proc *p;

	if ((p = next_take(w)) != NULL)
		return p;
	w->next_streak = 0;
	if (tick % SN_FAIR_EVERY == 0) {
		/* The deque is LIFO: without this, an actor that keeps
		 * spawning would hold back the ones waiting behind it.  The
		 * shared queue and the outside threads' queues take turns
		 * at going first, so that neither holds back the other: a
		 * FIFO that overflows into the shared queue would. */
		bool outq_first = (tick / SN_FAIR_EVERY) & 1;

		if ((outq_first &&
		    (p = sn_outq_steal(&w->outq_cursor)) != NULL) ||
		    (p = sn_runq_pop(&sn_rt.normal)) != NULL ||
		    (!outq_first &&
		    (p = sn_outq_steal(&w->outq_cursor)) != NULL) ||
		    (p = sn_runq_pop(&w->fifo)) != NULL)
			return p;
	}
	if ((p = sn_deque_pop(&w->dq)) != NULL ||
	    (p = sn_runq_pop(&w->fifo)) != NULL ||
	    (p = sn_runq_pop(&sn_rt.normal)) != NULL ||
	    (p = sn_outq_steal(&w->outq_cursor)) != NULL)
		return p;
	return NULL;
}

/*
 * High before normal before low, but each lower class has a share that no
 * load above it can take away, as the Erlang VM interleaves low with
 * normal: every SN_LOW_EVERY-th pick looks at low first, and every
 * SN_NORMAL_EVERY-th looks at normal before high.  So with every class
 * busy, high gets 6 picks in 8, normal and low one each; the price is
 * that high is not strictly first, which a runtime without preemption by
 * priority could not promise anyway (a running normal actor keeps its
 * worker until its slice ends).
 */
static struct sn_proc *
pick(struct sn_worker *w, bool hungry)
{
	uint64_t tick = ++w->tick;
	struct sn_proc *p;

	if (tick % SN_LOW_EVERY == 0 && (p = sn_runq_pop(&sn_rt.low)) != NULL)
		return p;
	if (tick % SN_NORMAL_EVERY != 0 &&
	    (p = sn_runq_pop(&sn_rt.high)) != NULL)
		return p;
	if ((p = pick_normal(w, tick)) != NULL ||
	    (p = sn_runq_pop(&sn_rt.high)) != NULL ||
	    (p = sn_runq_pop(&sn_rt.low)) != NULL)
		return p;
	return steal(w, hungry);
}

static struct sn_runq *
prio_queue(uint8_t priority)
{
	return priority == SNOW_PRIO_HIGH ? &sn_rt.high : &sn_rt.low;
}

/* Queue an actor that was preempted or yielded. */
static void
requeue(struct sn_worker *w, struct sn_proc *p)
{
	atomic_store_explicit(&p->state, SN_READY, memory_order_relaxed);
	if (p->priority != SNOW_PRIO_NORMAL) {
		sn_runq_push(prio_queue(p->priority), p);
		sn_idle_wake_one();
		return;
	}
	if (!sn_runq_push_owner(&w->fifo, p)) {
		sn_runq_push(&sn_rt.normal, p);	/* our FIFO is full */
		sn_idle_wake_one();
		return;
	}
	/* Only worth a wake when the FIFO holds more than this actor. */
	if (sn_runq_size(&w->fifo) > 1)
		sn_idle_wake_one_cheap();
}

/* Queue an actor just spawned: the spawning worker's deque, or a
 * shared queue. */
void
sn_sched_enqueue_new(struct sn_worker *w, struct sn_proc *p)
{
	if (p->priority == SNOW_PRIO_NORMAL && w != NULL &&
	    sn_deque_push(&w->dq, p) == 0) {
		sn_idle_wake_one_cheap();
		return;
	}
	if (p->priority != SNOW_PRIO_NORMAL)
		sn_runq_push(prio_queue(p->priority), p);
	else
		sn_runq_push(&sn_rt.normal, p);
	sn_idle_wake_one();
}

/*
 * Queue an actor a running actor just spawned.  Into the spawner's next
 * slot when that is empty, as Go's newproc puts a new goroutine in
 * runnext: a supervisor that restarts a child and then waits for news,
 * or a parent that spawns and receives, hands over to the child on its
 * own core.  On the deque the child was taken by a spinning worker half
 * the time, and everything it touched crossed between cores:
 * sup-restart on two workers had 440 steals in 1,000 restarts, and took
 * 290-300 ms for 100,000 restarts against 106 ms this way (five
 * alternating runs of bench/snow-bench, 2026-12-07).
 *
 * An actor already in the slot (one a message woke) keeps it: bumping it
 * to the deque, as Go does, cost spawn-tree 9% on one worker.  With one
 * worker there is nobody to steal, so the deque serves as before (and
 * the next slot's atomic exchange would only add to each spawn).
 */
void
sn_sched_enqueue_spawned(struct sn_worker *w, struct sn_proc *p)
{
	struct sn_proc *none = NULL;

	if (p->priority != SNOW_PRIO_NORMAL || w->current == NULL ||
	    sn_rt.nworkers == 1 ||
	    !atomic_compare_exchange_strong(&w->next, &none, p)) {
		sn_sched_enqueue_new(w, p);
		return;
	}
	/*
	 * No wake, as for a message's (sn_sched_ready()): the spawner
	 * nearly always stops soon (it waits for news of the child), and a
	 * worker called for every such spawn spun beside this one, stole
	 * from it and pulled its lines away: sup-restart on two workers took
	 * 2.4 times as long as without the call (five alternating runs,
	 * 2026-12-07).  A spawner that runs on keeps the child until its
	 * slice ends, or a spinning worker takes the slot (steal()); its
	 * next spawns go to the deque, which wakes a sleeper.
	 */
}

/*
 * Queue an actor spawned by a thread outside the runtime: that thread's
 * own queue (outq.c), or a shared one.  A worker may be asleep: the
 * full wake check, whose fence pairs with the one a worker takes before
 * it looks at the queues for the last time and sleeps.
 */
void
sn_sched_enqueue_outside(struct sn_outq *q, struct sn_proc *p)
{
	if (p->priority == SNOW_PRIO_NORMAL && q != NULL &&
	    sn_deque_push(&q->dq, p) == 0) {
		sn_idle_wake_one();
		return;
	}
	sn_sched_enqueue_new(NULL, p);
}

/* ---- Running actors ---- */

static void
release(struct sn_worker *w, struct sn_proc *p)
{
	/* Out of the process table first: from here no one can reach it.
	 * Unless it has a terminate callback to run first. */
	if (sn_unlikely(!sn_actor_release(p))) {
		requeue(w, p);
		return;
	}
	if (p->abandoned) {
		sn_ctx_abandon(&p->ctx, p->stack_lo, sn_rt.pool.stack_size);
		p->booted = 0;		/* the pool rebuilds it */
		p->abandoned = 0;
	}
	atomic_store_explicit(&p->state, SN_EXITED, memory_order_relaxed);
	sn_proc_args_free(p);
	sn_pool_put(&sn_rt.pool, &w->cache, p);
	atomic_store_explicit(&w->n_exited, sn_load(&w->n_exited) + 1,
	    memory_order_release);
}

/*
 * The worker's half of a park, once the actor is off its stack: publish
 * the wait word, then look again for what would wake it.  A sender
 * pushes, then reads the word; we write the word, then read the mailbox;
 * with a full fence on both sides one of us sees the other, and the CAS
 * decides which of us requeues it.
 */
static void
park_commit(struct sn_worker *w, struct sn_proc *p, uint64_t word)
{
	atomic_store_explicit(&p->state, SN_WAITING, memory_order_relaxed);
	atomic_store(&p->wait, word);
	atomic_thread_fence(memory_order_seq_cst);
	/* A receive with no timeout: a candidate for the sweeps.  Most
	 * parks find it listed already: that test stays inline. */
	if (sn_wait_hibernates(word) &&
	    atomic_load(&p->hib_queued) == SN_HIBQ_NONE)
		sn_hib_candidate(w, p);
	if (sn_actor_wake_due(p, (unsigned)(word & SN_WAIT_KIND_MASK)) &&
	    atomic_compare_exchange_strong(&p->wait, &word, 0)) {
		sn_sched_woken(p, word);
		requeue(w, p);
	}
}

/* What is left to do with p once it is off its stack, by why it left
 * (w->reason, and w->park_word for a park). */
static void
settle(struct sn_worker *w, struct sn_proc *p)
{
	if (w->reason == SN_SWITCH_EXIT)
		release(w, p);
	else if (w->reason == SN_SWITCH_WAIT)
		park_commit(w, p, w->park_word);
	else
		requeue(w, p);
}

/* Make p the actor running on w, its stack back if it hibernated. */
static inline void
slice_begin(struct sn_worker *w, struct sn_proc *p)
{
	if (sn_unlikely(atomic_load_explicit(&p->hib_state,
	    memory_order_relaxed) != SN_HIB_LIVE))
		sn_stack_thaw(&sn_rt.pool, p);	/* it hibernated meanwhile */
	w->current = p;
	atomic_store_explicit(&p->state, SN_RUNNING, memory_order_relaxed);
	sn_budget = p->reductions;
	sn_count(&w->n_switches, 1);
}

/* Add up the reductions of the slice p ends: one writer at a time
 * (whoever runs p), so no read-modify-write. */
static inline void
slice_end(struct sn_proc *p)
{
	atomic_store_explicit(&p->reds, atomic_load_explicit(&p->reds,
	    memory_order_relaxed) + (uint64_t)(p->reductions - sn_budget),
	    memory_order_relaxed);
}

/*
 * Run p until an actor switches back to the loop: p itself, or the last
 * of the actors it and its successors handed the worker to.
 */
static void
run(struct sn_worker *w, struct sn_proc *p)
{
	slice_begin(w, p);
	sn_ctx_switch(&w->ctx, &p->ctx);
	p = w->current;
	w->current = NULL;
	w->direct = 0;
	/* Only now, off its stack, may the actor be seen by other workers. */
	settle(w, p);
}

/*
 * A worker that found nothing spins for a while before it sleeps; while
 * it spins, pushes need not wake anyone.  When a spinner finds work and
 * was the last one searching, it wakes a sleeper: more work may follow
 * what it found, and someone should be looking for it.
 */
/*
 * False when enough workers search already: no more spinners than CPUs.
 * Past that a spinner only takes a CPU from the one that would make work
 * (and with a thousand workers on two CPUs, starting them took seconds
 * of every new worker probing every other one).  The count may overshoot
 * by a racing worker or two, which is harmless.
 */
static bool
spin_begin(struct sn_worker *w)
{
	if (w->spinning)
		return true;
	if (sn_load(&sn_rt.nspinning) >= sn_rt.spin_max)
		return false;
	w->spinning = true;
	atomic_fetch_add(&sn_rt.nspinning, 1);
	return true;
}

static void
spin_end(struct sn_worker *w, bool found)
{
	if (!w->spinning)
		return;
	w->spinning = false;
	if (atomic_fetch_sub(&sn_rt.nspinning, 1) == 1 && found)
		sn_idle_wake_one();
}

/* Adopt timers set from outside, fire the ones due, sweep stale ones. */
static void
timers_run(struct sn_worker *w, bool sweep)
{
	struct sn_timer tm;
	uint64_t now;

	if (atomic_load_explicit(&sn_rt.timer_inbox.count,
	    memory_order_relaxed) != 0) {
		uint64_t before = sn_timers_next(&w->timers);

		sn_inbox_adopt(&sn_rt.timer_inbox, &w->timers);
		if (sn_timers_next(&w->timers) < before)
			sn_idle_timer_watch(sn_timers_next(&w->timers));
	}
	if (sn_timers_next(&w->timers) == UINT64_MAX && !sweep)
		return;
	now = sn_now_ns();
	while (sn_timers_pop_due(&w->timers, now, &tm))
		sn_actor_fire(&tm);
	sn_timers_sweep(&w->timers, sn_actor_timer_stale, sweep);
}

static bool
timers_pending(struct sn_worker *w)
{
	return sn_timers_next(&w->timers) != UINT64_MAX || atomic_load_explicit(
	    &sn_rt.timer_inbox.count, memory_order_relaxed) != 0;
}

/*
 * A worker thread ends only by returning from sn_sched_worker_main(), which
 * clears its key first.  If the key's destructor runs with it still set,
 * the thread is ending under an actor: it called pthread_exit() (or was
 * cancelled), which unwound the actor's stack and would leave every actor
 * queued on that worker stranded and shutdown waiting for ever.  That
 * cannot be undone, so say what happened and abort.
 */
static pthread_key_t worker_key;
static pthread_once_t worker_key_once = PTHREAD_ONCE_INIT;

static void
worker_thread_end(void *arg)
{
	/* Static, not on the stack: this runs on the unwound actor's stack,
	 * whose AddressSanitizer shadow still marks the old frames.  One
	 * thread gets here at a time in practice, and it aborts. */
	static char line[200];
	struct sn_worker *w = arg;
	int n;

	/* pthread_exit() jumped back here, to the thread's own stack, over
	 * the worker's frames: their redzones are stale. */
	sn_ctx_unpoison_thread();

	n = snprintf(line, sizeof(line), "snow-rt: worker thread %u is ending "
	    "inside actor %llu (pthread_exit() or cancellation in an actor); "
	    "its actors cannot go on: aborting\n", w->id,
	    (unsigned long long)(w->current != NULL ? w->current->pid : 0));
	if (n > 0)
		(void)!write(STDERR_FILENO, line, (size_t)n);
	abort();
}

static void
worker_key_create(void)
{
	(void)pthread_key_create(&worker_key, worker_thread_end);
}

/*
 * The first time a worker finds nothing to run after running something,
 * and snow_rt_run_scheduler() waits: if that was the last actor, say so
 * now.  Otherwise the end would be seen only once this worker had spun
 * and gone to sleep (about half a millisecond), a fixed cost on every
 * run of a short program.  The fence orders our exit count before the
 * sums, as sn_sched_quiescent() asks.
 */
static void
end_maybe_seen(void)
{
	if (atomic_load_explicit(&sn_rt.done_waiters,
	    memory_order_relaxed) == 0)
		return;
	atomic_thread_fence(memory_order_seq_cst);
	if (sn_sched_quiescent())
		sn_sched_done_signal();
}

/*
 * This worker is set up: its signal stack mapped, its malloc arena made
 * by the message list's first block.  The start waits for every worker
 * to say so (lifecycle.c), so that this, a few page faults and mappings
 * per thread, is paid inside init and not by a program's first actors,
 * which would otherwise wait behind it on a worker that has not begun
 * to pick.  The last worker wakes the start.
 */
static void
worker_ready(void)
{
	if (atomic_fetch_add(&sn_rt.workers_ready, 1) + 1 == sn_rt.nworkers)
		syscall(SYS_futex, &sn_rt.workers_ready, FUTEX_WAKE_PRIVATE,
		    INT_MAX, NULL, NULL, 0);
}

void *
sn_sched_worker_main(void *arg)
{
	struct sn_worker *w = arg;
	unsigned empty = 0;
	bool slept = false;
	struct sn_proc *p;

	tls_worker = w;
	sn_budget = INT32_MAX;
	sn_thread_name("snow-wrk-%u", w->id);
	pthread_once(&worker_key_once, worker_key_create);
	(void)pthread_setspecific(worker_key, w);
	sn_ctx_init_thread(&w->ctx);
	/* Without it an overflow is a bare SIGSEGV: report it anyway. */
	(void)sn_fault_thread_init(&w->altstack);
	sn_msg_cache_start();
	worker_ready();
	for (;;) {
		if (timers_pending(w))
			timers_run(w, false);
		/*
		 * While actors wait on descriptors, a busy worker looks at
		 * the poller every SN_IO_EVERY turns of this loop (each turn
		 * runs up to SN_DIRECT_MAX slices): under full load no
		 * worker sleeps in it, and a ready descriptor must not wait
		 * for one to.  A poll that finds nothing costs a system call,
		 * so not every turn.
		 */
		if (sn_poller_active(&sn_rt.poller) &&
		    ++w->io_ticks % SN_IO_EVERY == 0)
			(void)sn_poller_poll(&sn_rt.poller);
		/* Look at other workers' next slots only now and then: each
		 * look pulls the line away from a worker passing messages. */
		p = pick(w, empty >= SN_NEXT_HUNGRY && empty % 64 == 0);
		if (p != NULL) {
			spin_end(w, true);
			if (slept) {
				slept = false;
				sn_idle_watch_handoff(w);
			}
			run(w, p);
			empty = 0;
			continue;
		}
		if (atomic_load(&sn_rt.stop))
			break;
		if (empty == 0)
			end_maybe_seen();
		/* Nothing to run: what became ready on a descriptor? */
		if (empty % 64 == 0 && sn_poller_active(&sn_rt.poller) &&
		    sn_poller_poll(&sn_rt.poller) != 0) {
			empty = 0;
			continue;
		}
		if (++empty < SN_IDLE_SPINS && spin_begin(w)) {
			/* Now and then let the kernel run someone else: with
			 * more threads than CPUs the thread that would give
			 * us work may be waiting for this one. */
			if (empty % 64 == 0)
				sched_yield();
			else
				sn_cpu_relax();
			continue;
		}
		spin_end(w, false);
		/* Stale wake-ups would cut the sleep short, and hold off
		 * the check for actors blocked for ever. */
		timers_run(w, true);
		sn_idle_timers_rescue(w);
		/* Batch after batch while there is nothing else to do. */
		for (bool go_on = false; sn_hib_sweep(w, go_on, park_commit) &&
		    !sn_sched_work_visible() &&
		    sn_timers_next(&w->timers) > sn_now_ns(); go_on = true)
			;
		/* Back from a sleep that timed out, look once and sleep
		 * again: the spin is for work that may follow work. */
		empty = 0;
		if (!sn_sched_work_visible()) {
			slept = true;
			if (!sn_idle_park(w))
				empty = SN_IDLE_SPINS;
		}
	}
	spin_end(w, false);
	sn_msg_cache_stop();
	sn_fault_thread_fini(&w->altstack);
	tls_worker = NULL;
	(void)pthread_setspecific(worker_key, NULL);
	return NULL;
}

/* ---- Actors' side of a switch ----
 *
 * An actor that stops (yields, parks) hands its worker straight to the
 * next runnable actor when there is one: one switch, where going through
 * the worker loop costs two, plus the loop's checks between them, most
 * of what a yield costs.  The catch: the actor that stopped must not be
 * requeued, nor its park published, while its stack is still in use, or
 * another worker could take it and resume it under us.  So it leaves
 * that to whoever runs next on this worker: the actor it switched to
 * settles it first thing (settle_handoff), as Go's mcall runs a function
 * on the scheduler's stack and Boost.Context's ontop_fcontext runs one on
 * top of the resumed context.
 *
 * An actor that ends hands over too; the one it hands to releases it
 * with no actor current, as the loop does, since releasing runs the
 * program's state destructor.  Every SN_DIRECT_MAX-th stop in a row, and
 * any stop while this worker has timers, goes through the loop, which
 * fires timers between picks.  An actor that yields with nothing else
 * to run goes on at once.
 */

/*
 * Release an actor that ended and handed over, as the loop would: with no
 * actor current, so that the program's state destructor, which release
 * runs, is not taken for the actor whose stack it happens to run on.
 */
static SN_NOINLINE void
settle_exit(struct sn_worker *w, struct sn_proc *prev)
{
	struct sn_proc *running = w->current;
	int32_t budget = sn_budget;

	w->current = NULL;
	sn_budget = INT32_MAX;
	release(w, prev);
	w->current = running;
	sn_budget = budget;
}

/* Back on an actor's stack after a switch: settle the actor that handed
 * this worker over, if one did. */
static inline void
settle_handoff(void)
{
	struct sn_worker *w = sn_worker_self();
	struct sn_proc *prev = w->handoff;

	if (prev == NULL)
		return;
	w->handoff = NULL;
	if (sn_unlikely(w->reason == SN_SWITCH_EXIT))
		settle_exit(w, prev);
	else
		settle(w, prev);
}

/* Hand the worker loop back control; returns when rescheduled, maybe on
 * another worker. */
static void
switch_out(struct sn_proc *p, int reason)
{
	struct sn_worker *w = sn_worker_self();

	slice_end(p);
	sn_budget = INT32_MAX;		/* the loop is no actor */
	w->reason = reason;
	sn_ctx_switch(&p->ctx, &w->ctx);
	settle_handoff();
}

/* Switch from p straight to q, picked for this worker; q settles p. */
static void
hand_over(struct sn_worker *w, struct sn_proc *p, struct sn_proc *q,
    int reason)
{
	slice_end(p);
	w->handoff = p;
	w->reason = reason;
	w->direct++;
	slice_begin(w, q);
	sn_ctx_switch(&p->ctx, &q->ctx);
	settle_handoff();
}

/* May the actor stopping now hand over, rather than go to the loop? */
static inline bool
may_hand_over(struct sn_worker *w)
{
	return w->direct < SN_DIRECT_MAX && !timers_pending(w);
}

/* p stops for reason (a park, an end): to the next actor, or to the
 * loop when it must or nothing else is runnable here. */
static void
stop_turn(struct sn_proc *p, int reason)
{
	struct sn_worker *w = sn_worker_self();
	struct sn_proc *q;

	if (may_hand_over(w) && (q = pick(w, false)) != NULL)
		hand_over(w, p, q, reason);
	else
		switch_out(p, reason);
}

/*
 * Every actor context starts here and stays here across reuses: when the
 * function returns, the block goes back to the pool with this loop parked,
 * and the next spawn that takes it resumes the loop with a new actor.
 */
SN_NORETURN void
sn_sched_proc_main(void *arg)
{
	struct sn_proc *p = arg;
	uint8_t pending;

	settle_handoff();		/* its first switch may be a hand-over */
	for (;;) {
		/* Killed before it first ran: it still ends, but never runs. */
		pending = atomic_load_explicit(&p->exit_pending,
		    memory_order_acquire);
		if (sn_unlikely(p->ending == SN_ENDING_TERMINATE)) {
			sn_actor_terminate(p);	/* back from its end */
		} else if (pending != 0) {
			p->exit_reason = (uint8_t)(pending - 1);
		} else {
			p->fn(p->args);
			p->exit_reason = SNOW_EXIT_NORMAL;
		}
		stop_turn(p, SN_SWITCH_EXIT);
	}
}

/*
 * p stops for a turn: to the next actor, to the loop when it must, or on
 * at once when nothing else is runnable here.
 */
static void
yield_turn(struct sn_worker *w, struct sn_proc *p)
{
	struct sn_proc *q;

	if (!may_hand_over(w)) {
		switch_out(p, SN_SWITCH_YIELD);
		return;
	}
	q = pick(w, false);
	if (q != NULL) {
		hand_over(w, p, q, SN_SWITCH_YIELD);
		return;
	}
	slice_end(p);			/* a new slice, on the spot */
	sn_budget = p->reductions;
	sn_count(&w->n_switches, 1);	/* a slice, if not a switch */
	w->direct++;
}

/* ---- Yielding, parking, waking ---- */

void
sn_sched_yield(void)
{
	struct sn_worker *w = sn_worker_self();
	struct sn_proc *p;

	if (w == NULL || w->current == NULL)
		return;
	p = w->current;
	yield_turn(w, p);
	sn_actor_check_exit(p);
}

struct sn_proc *
sn_sched_current(void)
{
	struct sn_worker *w = sn_worker_self();

	return w != NULL ? w->current : NULL;
}

/*
 * The timer that ends a park of p (its seq-th) at deadline; 0, or ENOMEM.
 * Out of line: its timer on the stack would widen every park's frame,
 * and an untimed park's frames are what hibernation copies out.
 */
static SN_NOINLINE int
park_timer(struct sn_worker *w, struct sn_proc *p, uint64_t seq,
    uint64_t deadline)
{
	struct sn_timer tm = {
		.deadline = deadline,
		.kind = SN_TIMER_WAKE,
		.u.wake = { p, seq },
	};

	if (timers_arm(w, &tm) != 0)
		return ENOMEM;
	/* Live until someone takes the wake: sn_sched_woken(). */
	atomic_fetch_add(&w->timers.live, 1);
	p->timer_worker = w->id;
	return 0;
}

int
sn_sched_park(struct sn_proc *p, unsigned kind, uint64_t deadline)
{
	struct sn_worker *w = sn_worker_self();
	uint64_t seq = ++p->wait_seq;
	uint64_t word = seq << SN_WAIT_SEQ_SHIFT | kind;

	if (deadline != UINT64_MAX) {
		if (park_timer(w, p, seq, deadline) != 0)
			return ENOMEM;
		word |= SN_WAIT_TIMED;
	}
	w->park_word = word;
	atomic_store_explicit(&p->park_gen, sn_load(&sn_rt.hib_gen),
	    memory_order_relaxed);
	stop_turn(p, SN_SWITCH_WAIT);
	return 0;
}

void
sn_sched_woken(struct sn_proc *p, uint64_t word)
{
	if (word & SN_WAIT_TIMED)
		atomic_fetch_sub(&sn_rt.workers[p->timer_worker].timers.live,
		    1);
}

/*
 * The main process waits on its thread, not in a queue: its wake is a
 * futex wake (see mainproc.c).  Here, below the part that parks it, so
 * that a waker needs to know nothing of what it woke.
 */
static SN_NOINLINE void
thread_ready(struct sn_proc *p)
{
	atomic_store(&p->thread_wake, 1);
	syscall(SYS_futex, &p->thread_wake, FUTEX_WAKE_PRIVATE, 1, NULL,
	    NULL, 0);
}

void
sn_sched_ready(struct sn_proc *p)
{
	struct sn_worker *w = sn_worker_self();
	struct sn_proc *old;

	if (sn_unlikely(p->on_thread)) {
		thread_ready(p);
		return;
	}
	atomic_store_explicit(&p->state, SN_READY, memory_order_relaxed);
	if (w == NULL || p->priority != SNOW_PRIO_NORMAL) {
		sn_sched_enqueue_new(w, p);
		return;
	}
	old = atomic_exchange(&w->next, p);
	/*
	 * No wake for the next slot itself: the waker nearly always stops
	 * soon (it waits for the reply), and a worker woken for every
	 * message would only come and take the actor away from its cache
	 * (the ring benchmark: three times slower).  A waker that runs on
	 * leaves it to the spinning workers, which take next slots once
	 * hungry.
	 */
	if (old != NULL)
		sn_sched_enqueue_new(w, old);	/* bumped: it may be stolen now */
}

void
sn_sched_exit(struct sn_proc *p, uint8_t reason)
{
	if (p->ending == SN_ENDING_NO)
		p->exit_reason = reason;	/* the first reason stays */
	p->abandoned = 1;
	stop_turn(p, SN_SWITCH_EXIT);
	/* Resumed only to run its terminate callback, on top of the frames
	 * it left; then it ends for good. */
	sn_actor_terminate(p);
	stop_turn(p, SN_SWITCH_EXIT);
	abort();	/* an ended actor is never resumed */
}

int
sn_sched_timer(const struct sn_timer *tm)
{
	struct sn_worker *w = sn_worker_self();
	int err;

	if (w != NULL)
		return timers_arm(w, tm);
	err = sn_inbox_add(&sn_rt.timer_inbox, tm);
	if (err == 0)
		sn_idle_wake_one();
	return err;
}

void
sn_sched_count_send(int delivered)
{
	struct sn_worker *w = sn_worker_self();

	if (w != NULL)
		sn_count(delivered ? &w->n_sent : &w->n_dropped, 1);
	else
		atomic_fetch_add_explicit(delivered ? &sn_rt.outside_sent :
		    &sn_rt.outside_dropped, 1, memory_order_relaxed);
}

SN_NOINLINE void
sn_budget_spent(void)
{
	struct sn_worker *w = sn_worker_self();
	struct sn_proc *p;

	if (w == NULL || w->current == NULL) {
		sn_budget = INT32_MAX;	/* not an actor: stay a no-op */
		return;
	}
	p = w->current;
	sn_count(&w->n_preempted, 1);
	yield_turn(w, p);
	sn_actor_check_exit(p);
}
