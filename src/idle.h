/*
 * Idle workers: how a worker with nothing to run goes to sleep, how work
 * wakes one, how snow_rt_run_scheduler() learns that nothing is left, and
 * how sleeping workers watch the timers of busy ones.
 *
 * The trade-off throughout: a futex wake costs microseconds, more than
 * most actors run, so a push wakes a sleeper only when no worker is
 * searching already, and a worker spins a while (scheduler.c) before it
 * sleeps.
 */
#ifndef SN_IDLE_H
#define SN_IDLE_H

#include <stdbool.h>
#include <stdint.h>

#include "scheduler.h"

/* Take one sleeping worker off the idle list and wake it, if any. */
void sn_idle_wake_listed(void);

/*
 * Wake one sleeping worker, unless one is already searching for work: it
 * will find what was pushed.  A full fence orders the caller's push
 * before the look at the idle list (the sleeper fences likewise).
 */
void sn_idle_wake_one(void);

/*
 * The same after a push to the caller's own deque or FIFO, without the
 * fence: if the check misses a worker that is just going to sleep, the
 * work is not lost, the caller's worker runs it; the next push will see
 * the sleeper.  Inline: it is on the path of every yield.
 */
static inline void
sn_idle_wake_one_cheap(void)
{
	if (sn_load(&sn_rt.nspinning) == 0 && sn_load(&sn_rt.nidle) != 0)
		sn_idle_wake_listed();
}

/*
 * Sleep until woken, or until w's next timer is due, or, as the watcher,
 * until a busy worker's timer is overdue; returns at once if work or a
 * stop shows up while w is getting listed.  Returns off the idle list:
 * true when someone woke w, false when the time came.
 */
bool sn_idle_park(struct sn_worker *w);

/* Make sure some idle worker looks at the busy heaps by deadline plus
 * the grace (a new earliest timer on a busy worker). */
void sn_idle_timer_watch(uint64_t deadline);

/* w is about to run an actor after a sleep: its heap is a busy one now,
 * and if it was the watcher, someone else must watch the others. */
void sn_idle_watch_handoff(struct sn_worker *w);

/* Fire the timers that busy workers other than w let pass their
 * deadline by more than the grace. */
void sn_idle_timers_rescue(struct sn_worker *w);

/*
 * An actor began to wait on a descriptor: if no worker sleeps in the
 * poller and one sleeps on its futex, wake it to take the poller over.
 */
void sn_idle_io_started(void);

#endif /* SN_IDLE_H */
