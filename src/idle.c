/*
 * Idle workers: sleeping on a futex, waking, quiescence, and the timers
 * of busy workers (see idle.h).  Parts of the scheduler that run only
 * when a worker has nothing to do, or to get one out of that state.
 */
#include "config.h"

#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "actor.h"
#include "hibernate.h"
#include "idle.h"
#include "outq.h"
#include "scheduler.h"

#define SN_TIMER_GRACE	1000000ull	/* ns a busy worker's timer may be late
					 * before an idle worker fires it */

/* ---- Futexes ---- */

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

/* w may sleep on its futex or in the poller (see poller.h): wake either.
 * The kick reads whether anyone sleeps there after a fence. */
static void
wake_worker(struct sn_worker *w)
{
	atomic_store_explicit(&w->wake_word, 1, memory_order_release);
	futex_wake(&w->wake_word);
	sn_poller_kick(&sn_rt.poller);
}

void
sn_idle_wake_listed(void)
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
 * fence pairs with the one in sn_idle_park(): either the sleeper sees what we
 * pushed, or we see it listed (or still spinning).
 */
void
sn_idle_wake_one(void)
{
	atomic_thread_fence(memory_order_seq_cst);
	if (sn_load(&sn_rt.nspinning) == 0 && sn_load(&sn_rt.nidle) != 0)
		sn_idle_wake_listed();
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
	    atomic_load(&sn_rt.timer_inbox.count) != 0 || sn_outq_visible())
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
 * the job on the same way: sn_idle_timer_watch() wakes an idle worker when no
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
void
sn_idle_timer_watch(uint64_t deadline)
{
	if (deadline >= UINT64_MAX - SN_TIMER_GRACE)
		return;		/* never */
	atomic_thread_fence(memory_order_seq_cst);
	if (atomic_load(&sn_rt.nidle) != 0 &&
	    deadline + SN_TIMER_GRACE < atomic_load(&sn_rt.watch_due))
		sn_idle_wake_listed();
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
void
sn_idle_watch_handoff(struct sn_worker *w)
{
	uint64_t own = sn_timers_next(&w->timers), other = busy_timers_next(w);

	sn_idle_timer_watch(own < other ? own : other);
}

/* Take over the timers that busy workers let pass their deadline. */
void
sn_idle_timers_rescue(struct sn_worker *w)
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

void
sn_idle_io_started(void)
{
	if (!atomic_load_explicit(&sn_rt.poller.sleeping,
	    memory_order_relaxed) && sn_load(&sn_rt.nidle) != 0)
		sn_idle_wake_listed();
}

enum poll_sleep {
	POLL_NOT,		/* not the poller's sleeper: use the futex */
	POLL_SLEPT,		/* slept there: look at the wake word again */
	POLL_READIED		/* and made actors runnable, here */
};

/*
 * Sleep in the poller instead of on the futex until due, while actors
 * wait on descriptors and no other worker sleeps there: one idle worker
 * watches the descriptors, the others stay on their futexes.
 */
static enum poll_sleep
poll_sleep(struct sn_worker *w, uint64_t due, uint64_t now)
{
	unsigned got;

	if (!sn_poller_active(&sn_rt.poller) ||
	    !sn_poller_sleep(&sn_rt.poller, &w->wake_word,
	    due == UINT64_MAX ? UINT64_MAX : due - now, &got))
		return POLL_NOT;
	return got != 0 ? POLL_READIED : POLL_SLEPT;
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
bool
sn_idle_park(struct sn_worker *w)
{
	uint64_t due, now, watch;
	enum poll_sleep ready;

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
		now = due == UINT64_MAX ? 0 : sn_now_ns();
		if (due != UINT64_MAX && now >= due) {
			/* Off the list before the timers fire, so that the
			 * deadlock check never sees us idle with a wake-up
			 * half delivered. */
			if (unlist(w))
				return park_leave(w, false);
			due = UINT64_MAX;	/* a wake is due: wait for it */
			continue;
		}
		ready = poll_sleep(w, due, now);
		if (ready == POLL_READIED) {
			/* They are queued here: go and run them. */
			if (unlist(w))
				return park_leave(w, false);
			due = UINT64_MAX;
			continue;
		}
		if (ready == POLL_SLEPT)
			continue;
		if (due == UINT64_MAX)
			futex_wait(&w->wake_word, 0);
		else
			futex_wait_for(&w->wake_word, 0, due - now);
	}
	return park_leave(w, true);
}
