/*
 * The scheduler: workers picking, running, parking and waking, spawns,
 * yields, and the timers of workers held by an actor that never yields.
 * See scheduler.h for where runnable actors wait; starting and stopping
 * the runtime is lifecycle.c's.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>


#include "actor.h"
#include "fault.h"
#include "hibernate.h"
#include "scheduler.h"

#define SN_LOW_EVERY	8	/* a low-priority pick per this many */
#define SN_NORMAL_EVERY	4	/* normal before high once per this many */
#define SN_FAIR_EVERY	61	/* FIFO and global queue before the deque */
#define SN_IDLE_SPINS	4096	/* empty picks (about 0.5 ms) before a worker sleeps */
#define SN_PID_BLOCK	256	/* PIDs a worker takes from the counter at once */
#define SN_NEXT_STREAK	32	/* picks in a row from the next slot */
#define SN_NEXT_HUNGRY	256	/* empty picks before a thief takes a next slot */
#define SN_TIMER_GRACE	1000000ull	/* ns a busy worker's timer may be late
					 * before an idle worker fires it */

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

static void
futex_wait(_Atomic uint32_t *word, uint32_t val)
{
	syscall(SYS_futex, word, FUTEX_WAIT_PRIVATE, val, NULL, NULL, 0);
}

/* The same, but for at most ns nanoseconds. */
static void
futex_wait_for(_Atomic uint32_t *word, uint32_t val, uint64_t ns)
{
	struct timespec ts = {
		.tv_sec = (time_t)(ns / 1000000000u),
		.tv_nsec = (long)(ns % 1000000000u),
	};

	syscall(SYS_futex, word, FUTEX_WAIT_PRIVATE, val, &ts, NULL, 0);
}

static void
futex_wake(_Atomic uint32_t *word)
{
	syscall(SYS_futex, word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

/* ---- Actors' side of a switch ---- */

/* Hand the worker back control; returns when rescheduled, maybe on
 * another worker. */
static void
switch_out(struct sn_proc *p, int reason)
{
	struct sn_worker *w = sn_worker_self();

	w->reason = reason;
	sn_ctx_switch(&p->ctx, &w->ctx);
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
		switch_out(p, SN_SWITCH_EXIT);
	}
}

/* ---- Quiescence ---- */

/*
 * Tell snow_rt_run_scheduler() to look again.  A futex word rather than a
 * mutex and condition variable: an outside thread's send ends here, and
 * a signal handler on the thread that waits in shutdown may send (to ask
 * an actor to stop, say) while that thread would be holding the mutex.
 * Bumping the word first and reading the waiter count after, against a
 * waiter that counts itself first and waits on the word's old value,
 * loses no wake.
 */
void
sn_sched_done_signal(void)
{
	atomic_fetch_add(&sn_rt.done_seq, 1);
	if (atomic_load(&sn_rt.done_waiters) != 0)
		syscall(SYS_futex, &sn_rt.done_seq, FUTEX_WAKE_PRIVATE, INT_MAX,
		    NULL, NULL, 0);
}

/*
 * True when every actor ever spawned has exited.  There is no shared live
 * counter for spawns and exits to fight over: each worker counts its own,
 * and this adds them up, exits first.  An exit is published (release)
 * after its spawn was, so a reader that sees an exit also sees its spawn:
 * the two sums can only be equal when nothing is alive.  Callers order
 * their own counting before this with a seq_cst fence, so of two workers
 * going idle at once, at least one sees the other's last exit.
 */
bool
sn_sched_quiescent(void)
{
	uint64_t spawned, exited = 0;
	unsigned i;

	for (i = 0; i < sn_rt.nworkers; i++)
		exited += atomic_load_explicit(&sn_rt.workers[i].n_exited,
		    memory_order_acquire);
	spawned = (uint64_t)atomic_load(&sn_rt.outside_live) +
	    (uint64_t)atomic_load(&sn_rt.outside_busy);
	for (i = 0; i < sn_rt.nworkers; i++)
		spawned += atomic_load_explicit(&sn_rt.workers[i].n_spawned,
		    memory_order_acquire);
	return spawned == exited;
}

/* ---- Waking and parking workers ---- */

static void
wake_worker(struct sn_worker *w)
{
	atomic_store_explicit(&w->wake_word, 1, memory_order_release);
	futex_wake(&w->wake_word);
}

static void
wake_listed(void)
{
	struct sn_worker *w;

	pthread_mutex_lock(&sn_rt.idle_lock);
	w = sn_rt.idle_head;
	if (w != NULL) {
		sn_rt.idle_head = w->idle_next;
		w->idle_listed = false;
		atomic_fetch_sub(&sn_rt.nidle, 1);
	}
	pthread_mutex_unlock(&sn_rt.idle_lock);
	if (w != NULL)
		wake_worker(w);
}

/*
 * Wake one sleeping worker, unless one is already searching for work: it
 * will find what was pushed, and a futex wake costs microseconds.  The
 * fence pairs with the one in park(): either the sleeper sees what we
 * pushed, or we see it listed (or still spinning).
 */
static void
wake_one(void)
{
	atomic_thread_fence(memory_order_seq_cst);
	if (sn_load(&sn_rt.nspinning) == 0 && sn_load(&sn_rt.nidle) != 0)
		wake_listed();
}

/*
 * The same after a push to our own deque or FIFO, without the fence: if
 * the check misses a worker that is just going to sleep, the work is not
 * lost, this worker runs it; the next push will see the sleeper.
 */
static void
wake_one_cheap(void)
{
	if (sn_load(&sn_rt.nspinning) == 0 && sn_load(&sn_rt.nidle) != 0)
		wake_listed();
}

void
sn_sched_wake_all(void)
{
	struct sn_worker *w, *next;

	pthread_mutex_lock(&sn_rt.idle_lock);
	w = sn_rt.idle_head;
	sn_rt.idle_head = NULL;
	for (next = w; next != NULL; next = next->idle_next) {
		next->idle_listed = false;
		atomic_fetch_sub(&sn_rt.nidle, 1);
	}
	pthread_mutex_unlock(&sn_rt.idle_lock);
	for (; w != NULL; w = next) {
		next = w->idle_next;
		wake_worker(w);
	}
}

bool
sn_sched_work_visible(void)
{
	unsigned i;

	if (sn_runq_size(&sn_rt.high) || sn_runq_size(&sn_rt.normal) ||
	    sn_runq_size(&sn_rt.low) ||
	    atomic_load(&sn_rt.timer_inbox.count) != 0)
		return true;
	for (i = 0; i < sn_rt.nworkers; i++) {
		struct sn_worker *v = &sn_rt.workers[i];

		if (sn_deque_size(&v->dq) || sn_runq_size(&v->fifo) ||
		    atomic_load_explicit(&v->next, memory_order_relaxed))
			return true;
	}
	return false;
}

/* Take w off the idle list if it is still there; false if a waker
 * already did (and its wake is due). */
static bool
unlist(struct sn_worker *w)
{
	bool was = false;

	pthread_mutex_lock(&sn_rt.idle_lock);
	if (w->idle_listed) {
		struct sn_worker **pp = &sn_rt.idle_head;

		while (*pp != w)
			pp = &(*pp)->idle_next;
		*pp = w->idle_next;
		w->idle_listed = false;
		atomic_fetch_sub(&sn_rt.nidle, 1);
		was = true;
	}
	pthread_mutex_unlock(&sn_rt.idle_lock);
	return was;
}

/* ---- Timers of busy workers ----
 *
 * A worker fires its own timers between picks, and sleeps towards the
 * next one.  One held by an actor that never yields fires nothing, so
 * idle workers watch the heaps of the workers that are not asleep: one of
 * them (the watcher) sleeps only until the earliest such deadline plus
 * SN_TIMER_GRACE, and takes over the timers still not fired by then.  The
 * grace keeps idle workers from racing an owner that is merely busy (it
 * looks at its heap every slice, every few microseconds).  Go's sysmon
 * thread does this job there; here the idle workers do it, so an idle
 * runtime still sleeps.
 *
 * A heap may need a watcher when its owner adds an earlier timer, or
 * leaves its sleep and runs; a watcher leaving its sleep for work hands
 * the job on the same way: timer_watch() wakes an idle worker when no
 * watcher would wake in time.  Of two such events racing, a seq_cst
 * fence on each side (an owner publishes its deadline then reads
 * watch_due; a sleeper says it is parked then reads the heaps) makes at
 * least one see the other, and a needless wake costs only a futex call.
 */

/* The earliest deadline in the heaps of workers other than self that
 * are not asleep, UINT64_MAX when none. */
static uint64_t
busy_timers_next(const struct sn_worker *self)
{
	uint64_t due = UINT64_MAX, d;
	unsigned i;

	for (i = 0; i < sn_rt.nworkers; i++) {
		struct sn_worker *v = &sn_rt.workers[i];

		if (v == self || atomic_load(&v->parked))
			continue;
		d = sn_timers_next(&v->timers);
		if (d < due)
			due = d;
	}
	return due;
}

/* Make sure some idle worker looks at the heaps by deadline + grace. */
static void
timer_watch(uint64_t deadline)
{
	if (deadline >= UINT64_MAX - SN_TIMER_GRACE)
		return;		/* never */
	atomic_thread_fence(memory_order_seq_cst);
	if (atomic_load(&sn_rt.nidle) != 0 &&
	    deadline + SN_TIMER_GRACE < atomic_load(&sn_rt.watch_due))
		wake_listed();
}

/* Become the watcher until due, unless one wakes earlier already. */
static void
watch_take(struct sn_worker *w, uint64_t due)
{
	uint64_t cur = atomic_load(&sn_rt.watch_due);

	while (due < cur)
		if (atomic_compare_exchange_weak(&sn_rt.watch_due, &cur, due)) {
			w->watching = due;
			return;
		}
}

/* Leaving the sleep: no longer the watcher, if we still were. */
static void
watch_drop(struct sn_worker *w)
{
	uint64_t mine = w->watching;

	if (mine == UINT64_MAX)
		return;
	w->watching = UINT64_MAX;
	(void)atomic_compare_exchange_strong(&sn_rt.watch_due, &mine,
	    UINT64_MAX);
}

/*
 * About to run an actor after a sleep: our own heap is a busy one now,
 * and if we were the watcher, someone else must watch the others.
 */
static void
watch_handoff(struct sn_worker *w)
{
	uint64_t own = sn_timers_next(&w->timers), other = busy_timers_next(w);

	timer_watch(own < other ? own : other);
}

/* Arm tm on w, the worker this actor runs on; a new earliest deadline may
 * need a watcher, should w be held past it.  0, or ENOMEM. */
static int
timers_arm(struct sn_worker *w, const struct sn_timer *tm)
{
	uint64_t before = sn_timers_next(&w->timers);
	int err = sn_timers_add(&w->timers, tm);

	if (err == 0 && tm->deadline < before)
		timer_watch(tm->deadline);
	return err;
}

/* Take over the timers that busy workers let pass their deadline. */
static void
timers_rescue(struct sn_worker *w)
{
	uint64_t now = sn_now_ns();
	struct sn_timer tm;
	unsigned i;

	for (i = 0; i < sn_rt.nworkers; i++) {
		struct sn_worker *v = &sn_rt.workers[i];
		uint64_t due = sn_timers_next(&v->timers);

		/* UINT64_MAX, an empty heap, must not wrap past now. */
		if (v == w || due == UINT64_MAX || due + SN_TIMER_GRACE > now)
			continue;
		while (sn_timers_pop_due(&v->timers, now, &tm))
			sn_actor_fire(&tm);
	}
}

static bool
park_leave(struct sn_worker *w, bool woken)
{
	atomic_store(&w->parked, false);
	watch_drop(w);
	return woken;
}

/*
 * Sleep until woken, or until this worker's next timer is due, or, as
 * the watcher, until a busy worker's timer is overdue; returns at once if
 * work or a stop shows up while we are getting listed.  Always returns
 * off the idle list; true when someone woke us, false when the time
 * came.
 */
static bool
park(struct sn_worker *w)
{
	uint64_t due, now, watch;

	pthread_mutex_lock(&sn_rt.idle_lock);
	atomic_store_explicit(&w->wake_word, 0, memory_order_relaxed);
	w->idle_next = sn_rt.idle_head;
	sn_rt.idle_head = w;
	w->idle_listed = true;
	atomic_fetch_add(&sn_rt.nidle, 1);
	atomic_fetch_add(&sn_rt.park_epoch, 1);
	pthread_mutex_unlock(&sn_rt.idle_lock);
	atomic_store(&w->parked, true);

	atomic_thread_fence(memory_order_seq_cst);
	/* snow_rt_run_scheduler() may be waiting for the end, or for the
	 * moment nothing can run any more. */
	if (sn_sched_quiescent() || atomic_load(&sn_rt.nidle) == sn_rt.nworkers)
		sn_sched_done_signal();
	if (atomic_load(&sn_rt.stop) || sn_sched_work_visible()) {
		if (unlist(w))
			return park_leave(w, false);
		/* Someone already took us off the list: their wake is due. */
	}
	due = sn_timers_next(&w->timers);
	watch = busy_timers_next(w);
	if (watch != UINT64_MAX) {
		watch += SN_TIMER_GRACE;
		watch_take(w, watch);
		if (watch < due)
			due = watch;
	}
	/* Come back to sweep: for actors a sweep of ours left for later,
	 * or, last to go idle, for one that others put off while we were
	 * busy (they may have gone idle at the same moment as we did). */
	if ((w->hib_more || (atomic_load(&sn_rt.nidle) == sn_rt.nworkers &&
	    atomic_load(&sn_rt.hib_wanted))) &&
	    sn_now_ns() + SN_HIB_PERIOD < due)
		due = sn_now_ns() + SN_HIB_PERIOD;
	while (atomic_load_explicit(&w->wake_word, memory_order_acquire) == 0) {
		if (due == UINT64_MAX) {
			futex_wait(&w->wake_word, 0);
			continue;
		}
		now = sn_now_ns();
		if (now >= due) {
			/* Off the list before the timers fire, so that the
			 * deadlock check never sees us idle with a wake-up
			 * half delivered. */
			if (unlist(w))
				return park_leave(w, false);
			due = UINT64_MAX;	/* a wake is due: wait for it */
			continue;
		}
		futex_wait_for(&w->wake_word, 0, due - now);
	}
	return park_leave(w, true);
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
 * Steal from a random victim: its deque, then its FIFO, and once we have
 * been hungry a while (hungry), its next slot, which its owner would
 * otherwise run as soon as its current actor stops.
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
		    atomic_load_explicit(&v->next, memory_order_relaxed))
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
		 * spawning would hold back the ones waiting behind it. */
		if ((p = sn_runq_pop(&sn_rt.normal)) != NULL ||
		    (p = sn_runq_pop(&w->fifo)) != NULL)
			return p;
	}
	if ((p = sn_deque_pop(&w->dq)) != NULL ||
	    (p = sn_runq_pop(&w->fifo)) != NULL ||
	    (p = sn_runq_pop(&sn_rt.normal)) != NULL)
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
		wake_one();
		return;
	}
	if (!sn_runq_push_owner(&w->fifo, p)) {
		sn_runq_push(&sn_rt.normal, p);	/* our FIFO is full */
		wake_one();
		return;
	}
	/* Only worth a wake when the FIFO holds more than this actor. */
	if (sn_runq_size(&w->fifo) > 1)
		wake_one_cheap();
}

/* Queue an actor just spawned: the spawning worker's deque, or a
 * shared queue. */
void
sn_sched_enqueue_new(struct sn_worker *w, struct sn_proc *p)
{
	if (p->priority == SNOW_PRIO_NORMAL && w != NULL &&
	    sn_deque_push(&w->dq, p) == 0) {
		wake_one_cheap();
		return;
	}
	if (p->priority != SNOW_PRIO_NORMAL)
		sn_runq_push(prio_queue(p->priority), p);
	else
		sn_runq_push(&sn_rt.normal, p);
	wake_one();
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
		sn_ctx_abandon(&p->ctx, p->stack_lo, p->stack_size);
		p->booted = 0;		/* the pool rebuilds it */
		p->abandoned = 0;
	}
	atomic_store_explicit(&p->state, SN_EXITED, memory_order_relaxed);
	if (p->args_heap != NULL) {
		free(p->args_heap);
		p->args_heap = NULL;
	}
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
	if ((word & (SN_WAIT_KIND_MASK | SN_WAIT_TIMED)) == SN_WAIT_MSG &&
	    atomic_load(&p->hib_queued) == SN_HIBQ_NONE)
		sn_hib_candidate(w, p);
	if (sn_actor_wake_due(p, (unsigned)(word & SN_WAIT_KIND_MASK)) &&
	    atomic_compare_exchange_strong(&p->wait, &word, 0)) {
		sn_sched_woken(p, word);
		requeue(w, p);
	}
}

static void
run(struct sn_worker *w, struct sn_proc *p)
{
	if (sn_unlikely(atomic_load_explicit(&p->hib_state,
	    memory_order_relaxed) != SN_HIB_LIVE))
		sn_stack_thaw(&sn_rt.pool, p);	/* it hibernated meanwhile */
	w->current = p;
	atomic_store_explicit(&p->state, SN_RUNNING, memory_order_relaxed);
	sn_budget = p->reductions;
	sn_count(&w->n_switches, 1);
	sn_ctx_switch(&w->ctx, &p->ctx);
	w->current = NULL;
	/* One writer at a time (whoever runs p): no read-modify-write. */
	atomic_store_explicit(&p->reds, atomic_load_explicit(&p->reds,
	    memory_order_relaxed) + (uint64_t)(p->reductions - sn_budget),
	    memory_order_relaxed);
	sn_budget = INT32_MAX;
	/* Only now, off its stack, may the actor be seen by other workers. */
	if (w->reason == SN_SWITCH_EXIT)
		release(w, p);
	else if (w->reason == SN_SWITCH_WAIT)
		park_commit(w, p, w->park_word);
	else
		requeue(w, p);
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
		wake_one();
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
			timer_watch(sn_timers_next(&w->timers));
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

void *
sn_sched_worker_main(void *arg)
{
	struct sn_worker *w = arg;
	unsigned empty = 0;
	bool slept = false;
	struct sn_proc *p;

	tls_worker = w;
	sn_budget = INT32_MAX;
	pthread_once(&worker_key_once, worker_key_create);
	(void)pthread_setspecific(worker_key, w);
	sn_ctx_init_thread(&w->ctx);
	/* Without it an overflow is a bare SIGSEGV: report it anyway. */
	(void)sn_fault_thread_init(&w->altstack);
	for (;;) {
		if (timers_pending(w))
			timers_run(w, false);
		/* Look at other workers' next slots only now and then: each
		 * look pulls the line away from a worker passing messages. */
		p = pick(w, empty >= SN_NEXT_HUNGRY && empty % 64 == 0);
		if (p != NULL) {
			spin_end(w, true);
			if (slept) {
				slept = false;
				watch_handoff(w);
			}
			run(w, p);
			empty = 0;
			continue;
		}
		if (atomic_load(&sn_rt.stop))
			break;
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
		timers_rescue(w);
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
			if (!park(w))
				empty = SN_IDLE_SPINS;
		}
	}
	spin_end(w, false);
	sn_fault_thread_fini(&w->altstack);
	tls_worker = NULL;
	(void)pthread_setspecific(worker_key, NULL);
	return NULL;
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
	switch_out(p, SN_SWITCH_YIELD);
	sn_actor_check_exit(p);
}

struct sn_proc *
sn_sched_current(void)
{
	struct sn_worker *w = sn_worker_self();

	return w != NULL ? w->current : NULL;
}

int
sn_sched_park(struct sn_proc *p, unsigned kind, uint64_t deadline)
{
	struct sn_worker *w = sn_worker_self();
	uint64_t seq = ++p->wait_seq;

	uint64_t word = seq << SN_WAIT_SEQ_SHIFT | kind;

	if (deadline != UINT64_MAX) {
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
		word |= SN_WAIT_TIMED;
	}
	w->park_word = word;
	atomic_store_explicit(&p->park_gen, sn_load(&sn_rt.hib_gen),
	    memory_order_relaxed);
	switch_out(p, SN_SWITCH_WAIT);
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
	switch_out(p, SN_SWITCH_EXIT);
	/* Resumed only to run its terminate callback, on top of the frames
	 * it left; then it ends for good. */
	sn_actor_terminate(p);
	switch_out(p, SN_SWITCH_EXIT);
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
		wake_one();
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
	switch_out(p, SN_SWITCH_YIELD);
	sn_actor_check_exit(p);
}
