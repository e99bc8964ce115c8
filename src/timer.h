/*
 * Timers: a binary min-heap per worker, no thread per timer.
 *
 * A heap belongs to one worker: an actor arms a timer on the worker it
 * runs on, and the worker fires it from its loop, or wakes from its idle
 * sleep in time to.  But a worker may be held by an actor that never
 * yields, so an idle worker takes over due timers of any heap: each heap
 * has a spin lock, always free for its owner but for such a rescue, and
 * publishes its earliest deadline for idle workers to sleep towards.
 * Threads that are not workers hand their timers to an inbox that the
 * next worker to look adopts into its own heap.
 *
 * A wake-up entry is not removed when the actor is woken early by a
 * message: it stays, stale, until its deadline, and firing it does
 * nothing because the actor's park sequence number has moved on (see
 * actor.c).  Heaps are compacted when stale entries pile up.
 */
#ifndef SN_TIMER_H
#define SN_TIMER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "internal.h"
#include "mailbox.h"
#include "proc.h"

enum sn_timer_kind {
	SN_TIMER_WAKE,		/* end a receive or a sleep */
	SN_TIMER_SEND		/* deliver a message */
};

struct sn_timer {
	uint64_t deadline;	/* CLOCK_MONOTONIC, ns */
	uint64_t order;		/* ties fire in the order set */
	int kind;
	union {
		struct {	/* SN_TIMER_WAKE */
			struct sn_proc *proc;
			uint64_t seq;
		} wake;
		struct {	/* SN_TIMER_SEND */
			uint64_t pid;
			struct sn_msg *msg;
		} send;
	} u;
};

struct sn_timers {
	sn_spinlock_t lock;	/* every field below but next_due and live */
	_Atomic uint64_t next_due;	/* earliest deadline, UINT64_MAX: none */
	struct sn_timer *heap;
	size_t n, cap;
	size_t compact_at;	/* size at which stale entries are swept */
	uint64_t order;
	/*
	 * Timers that will do something: send timers not fired, plus timed
	 * waits whose wake nobody took yet (counted by the parking actor,
	 * uncounted by whoever takes the wake).  Stale entries are not
	 * counted: the deadlock check must not wait for them.
	 */
	_Atomic int64_t live;
};

/* Timers set by threads that are not workers, waiting for one to adopt. */
struct sn_timer_inbox {
	pthread_mutex_t lock;
	struct sn_timer *items;	/* under lock */
	size_t n, cap;		/* under lock */
	_Atomic size_t count;	/* n, readable without the lock */
};

uint64_t sn_now_ns(void);
/*
 * now + ms; UINT64_MAX, which means never, when ms is at least
 * SNOW_TIMEOUT_FOREVER_MS (any time before that fits in the clock).
 */
uint64_t sn_deadline_after(int64_t ms);

void sn_timers_init(struct sn_timers *t);
/* Frees the heap and the messages of send timers not fired. */
void sn_timers_destroy(struct sn_timers *t);
/*
 * Every call below takes the heap's lock itself: any thread may make
 * them, though only the owner adds and only idle workers rescue.
 */
/* 0, or ENOMEM.  Sets t->order on the copy it keeps. */
int sn_timers_add(struct sn_timers *t, const struct sn_timer *tm);
/* Earliest deadline, or UINT64_MAX when empty; without the lock.
 * Inline: every stop of a busy actor looks. */
static inline uint64_t
sn_timers_next(struct sn_timers *t)
{
	return atomic_load_explicit(&t->next_due, memory_order_relaxed);
}
/* Take the earliest entry due at now into *out; 0 when none is due. */
int sn_timers_pop_due(struct sn_timers *t, uint64_t now, struct sn_timer *out);
/*
 * Drop entries for which useless(entry) is true (wake-ups nobody waits
 * on, messages to PIDs no longer alive; a dropped message is freed):
 * always when force, else only once the heap has doubled since the last
 * sweep, which keeps the cost amortised O(1) per timer.  Returns how many
 * send timers it dropped.
 */
size_t sn_timers_sweep(struct sn_timers *t,
    int (*useless)(const struct sn_timer *), bool force);

int sn_inbox_init(struct sn_timer_inbox *in);
void sn_inbox_destroy(struct sn_timer_inbox *in);
int sn_inbox_add(struct sn_timer_inbox *in, const struct sn_timer *tm);
/* Move every entry into t; what does not fit stays in the inbox. */
void sn_inbox_adopt(struct sn_timer_inbox *in, struct sn_timers *t);

#endif /* SN_TIMER_H */
