/*
 * The process control block.
 *
 * A block lives in the slab of the stack its actor runs on (see stack.c):
 * block and stack are one allocation, and when the actor exits both go back
 * to a pool together with the context still parked in proc_main(), so the
 * next spawn pays for neither an mmap nor a new context.
 */
#ifndef SN_PROC_H
#define SN_PROC_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include <snow/runtime.h>

#include "context.h"
#include "internal.h"
#include "links.h"
#include "mailbox.h"

struct sn_mute;
struct sn_name;
struct sn_pidblock;
struct sn_refmap;
struct sn_slab;

enum sn_proc_state {
	SN_READY,		/* queued, waiting for a worker */
	SN_RUNNING,		/* on a worker */
	SN_WAITING,		/* parked until a message or timer wakes it */
	SN_EXITED		/* finished; the block is back in a pool */
};

/* Exit reasons are the public enum snow_exit_reason. */

/*
 * While an actor is parked its wait word holds (seq << 4 | timed | kind),
 * seq numbering the parks of its block, timed set when a timer will end
 * the wait; otherwise 0.  Whoever changes the word from parked to 0 (a
 * send, a timer, an exit signal) owns the wake: it and only it makes the
 * actor runnable again.
 */
enum sn_wait_kind {
	SN_WAIT_NONE = 0,
	SN_WAIT_MSG = 1,	/* in receive: any message wakes it */
	SN_WAIT_SLEEP = 2,	/* in sleep: only its timer or an exit signal */
	SN_WAIT_MUTE = 3,	/* muted by backpressure: a release or a signal
				 * (backpressure.h) */
	SN_WAIT_IO = 4,		/* on a descriptor: its readiness, its timer
				 * or an exit signal (io.h) */
	SN_WAIT_BLOCKING = 5	/* a blocking call: only its end, not even a
				 * kill (blocking.c) */
};
#define SN_WAIT_KIND_MASK	7u
#define SN_WAIT_TIMED		8u	/* a timer of worker timer_worker */
#define SN_WAIT_SEQ_SHIFT	4

/*
 * Whether a park with this wait word may hibernate: a receive, or a wait
 * on a descriptor, with no timer to end it (those can last).  Which of
 * the two a parked actor is in, the sweep tells by io_ready, which is
 * not 0 exactly while a wait on a descriptor or a blocking call lasts.
 */
static inline bool
sn_wait_hibernates(uint64_t word)
{
	uint64_t kind = word & (SN_WAIT_KIND_MASK | SN_WAIT_TIMED);

	return kind == SN_WAIT_MSG || kind == SN_WAIT_IO;
}

/* PIDs an actor is linked to (struct sn_links, in links.h): under its
 * process table shard's lock. */

/*
 * Where a parked actor's stack is (see stack.c).  Changed only under its
 * slab's lock; read without it by run(), whose fast path is SN_HIB_LIVE.
 */
enum sn_hib_state {
	SN_HIB_LIVE = 0,	/* on its stack */
	SN_HIB_OUT = 1,		/* in hib; the stack is PROT_NONE and empty */
	SN_HIB_TOUCHED = 2	/* put back when something touched it; hib
				 * is freed when the actor next runs */
};

/*
 * Whether a block is on one of the hibernation sweep's lists (see
 * hibernate.c).  The link and this word outlive the actor: a block that
 * is reused while listed stays listed, and the sweep checks what it finds.
 */
enum sn_hib_queued {
	SN_HIBQ_NONE = 0,	/* on no list: its next untimed park lists it */
	SN_HIBQ_LISTED = 1,	/* on a list, or held by the sweep */
	SN_HIBQ_OUT = 2		/* hibernated: a thaw lists it again */
};

/*
 * How far an actor is in its end (see sn_actor_release()).  An actor with
 * a terminate callback ends twice: the first end finds the callback and
 * sends the actor back to run it, still in the table; the second goes out.
 */
enum sn_ending {
	SN_ENDING_NO = 0,	/* alive */
	SN_ENDING_TERMINATE = 1	/* running its terminate callback */
};

/*
 * Spawn arguments up to this size are copied to an area at the top of the
 * actor's own stack (stack.h), above its first frame: a parked actor
 * keeps their bytes, and only theirs, in the pages or the hibernated copy
 * it has anyway, instead of 64 bytes in every control block.  Larger ones
 * are copied to the heap.
 */
#define SN_ARGS_INLINE	64
#define SN_ARGS_HEAP	255	/* args_len: args is a heap copy */

/*
 * What few actors use: links, monitors, a terminate callback, state, a
 * name, a service call in progress.  In a block of its own, made on first
 * use (sn_rare_make()) and freed at the actor's end, so that the control
 * block of an actor that uses none of it (most of those at rest) is 88
 * bytes smaller.  The pointer is set once per life, by whoever needs the
 * block first: the actor itself, or another thread under the actor's
 * table lock (a link, a monitor, a callback set from outside).  Each
 * field is guarded as it was in the control block.
 */
struct sn_rare {
	uint64_t call_ref;		/* the service call it waits in, or 0 */
	snow_terminate_fn terminate;	/* under the table lock, or NULL */
	void *rt_state;			/* snow_actor_set_state() */
	void (*rt_state_free)(void *);	/* called on rt_state at its end */
	struct sn_refmap *monitors;	/* its own: ref to target (monitor.h) */
	struct sn_refmap *monitored_by;	/* on it: ref to DOWN, under the
					 * table lock */
	struct sn_name *name;		/* registered name, or NULL */
	struct sn_links links;		/* under the table lock */
};

struct sn_proc {
	struct sn_ctx ctx;		/* suspended registers */
	uint64_t pid;
	_Atomic int state;		/* enum sn_proc_state */
	uint8_t exit_reason;		/* enum snow_exit_reason, once exited */
	uint8_t priority;		/* enum snow_priority */
	uint8_t booted;			/* ctx is parked in proc_main() */
	uint8_t abandoned;		/* ended mid-frame: ctx must be rebuilt */
	int32_t reductions;		/* budget of each slice it gets */
	unsigned slot;			/* which stack of its slab */
	_Atomic uint64_t reds;		/* reductions run, for introspection */
	snow_actor_fn fn;
	const void *args;		/* what fn receives; see args_len */
	struct sn_proc *next;		/* link in a pool or overflow list */
	struct sn_pidblock *pidblock;	/* its PID's block in the table */
	struct sn_slab *slab;		/* the slab its block and stack are in */
	void *stack_lo;			/* lowest usable byte, above the guard;
					 * the pool's stack_size bytes */

	/* Messages and failure. */
	struct sn_mailbox mailbox;
	struct sn_msg *last;		/* handed out by the last receive */
	_Atomic uint64_t wait;		/* see enum sn_wait_kind */
	uint64_t wait_seq;		/* parks so far: never reset, so a
					 * stale timer never matches */

	/*
	 * The small fields, of every part, together: spread out among the
	 * pointers they left a hole after each (48 bytes of 464), and a
	 * block is most of what an actor at rest costs.
	 */
	unsigned timer_worker;		/* whose heap holds a timed wait */
	_Atomic uint32_t thread_wake;	/* the main process's futex word */
	_Atomic uint32_t nmonitors;	/* in monitors, for introspection */
	_Atomic uint8_t exit_pending;	/* 0, or an exit reason + 1 */
	uint8_t trap_exit;
	uint8_t ending;			/* enum sn_ending, under the table lock */
	uint8_t matching;		/* in a selective receive's match */
	uint8_t on_thread;		/* the main process: parks its thread
					 * (mainproc.h) */
	_Atomic uint8_t mute_released;	/* backpressure: a release came */
	_Atomic uint8_t hib_ok;		/* snow_actor_hibernate() */
	_Atomic uint8_t hib_state;	/* enum sn_hib_state */
	_Atomic uint8_t hib_queued;	/* enum sn_hib_queued */
	_Atomic uint8_t hib_chained;	/* hib_next is in use (hibernate.h) */
	uint8_t guard_pending;		/* its guard is installed at first use
					 * (stack.c) */
	uint8_t args_len;		/* bytes of args in its stack's area
					 * (0 when passed through), or
					 * SN_ARGS_HEAP */
	/* A wait on a descriptor or a blocking call (io.c): the tag of
	 * the wait a report is for, and what was reported; 0 between
	 * such waits. */
	_Atomic uint32_t io_tag;
	_Atomic uint32_t io_ready;
	_Atomic(struct sn_rare *) rare;	/* or NULL: see struct sn_rare */

	/* Backpressure (backpressure.h). */
	_Atomic(struct sn_mute *) muted; /* senders muted on it: pushed
					 * and taken under the table lock */

	/* Hibernation: a long-parked actor's live stack top, copied out
	 * while its stack pages are given back (see stack.c). */
	_Atomic uint64_t park_gen;	/* sweep number when it parked */
	void *hib;			/* the copy, or NULL */
	size_t hib_len;			/* bytes below the stack top */
	struct sn_proc *hib_next;	/* on a hibernation list */
};

/* Free p's copy of its arguments if it is on the heap. */
static inline void
sn_proc_args_free(struct sn_proc *p)
{
	if (p->args_len == SN_ARGS_HEAP) {
		free((void *)p->args);
		p->args_len = 0;
	}
	p->args = NULL;
}

/*
 * p's rare block, or NULL if nothing has needed it yet.  Acquire: pairs
 * with the release of whoever made it, so its zeroed fields are seen.
 */
static inline struct sn_rare *
sn_rare_get(const struct sn_proc *p)
{
	return atomic_load_explicit(&((struct sn_proc *)p)->rare,
	    memory_order_acquire);
}

/* p's rare block, made now if it has none: NULL only without memory. */
struct sn_rare *sn_rare_make(struct sn_proc *p);

/*
 * The hibernation lists (hibernate.c: each worker's candidates, the
 * touched, the later and the refused) all chain through p->hib_next, so
 * a block must be on one of them at most: pushed on a second, it would
 * splice the two into a cycle, and a sweep walking it would never end
 * (seen: a worker spinning in the sweep at shutdown, about one run in
 * ten of hibernation_under_touches_and_wakes under load).  hib_queued
 * says whether a block should be listed; hib_chained says whether its
 * link is in use, and only who takes it pushes.  A walk gives it back as
 * it passes each block, after reading the link.  A push refused because
 * the block is on a chain loses nothing: the walk of that chain looks at
 * the block as it is then.
 */
static inline bool
sn_hib_chain_take(struct sn_proc *p)
{
	return atomic_exchange(&p->hib_chained, 1) == 0;
}

static inline void
sn_hib_chain_drop(struct sn_proc *p)
{
	atomic_store(&p->hib_chained, 0);
}

#endif /* SN_PROC_H */
