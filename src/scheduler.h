/*
 * The scheduler: worker threads, their queues, and the runtime they share.
 *
 * Where a runnable actor waits:
 *   - high priority: rt.high, taken first but for every SN_NORMAL_EVERY-th
 *     pick, which looks at normal work first;
 *   - low priority: rt.low, taken every SN_LOW_EVERY-th pick and when
 *     nothing else is runnable, so it is interleaved, never starved;
 *   - normal, spawned by an actor: the spawning worker's Chase-Lev deque
 *     (popped newest first for locality, stolen oldest first);
 *   - normal, preempted or yielding: the worker's FIFO, behind its peers;
 *   - normal, spawned from outside the workers: rt.normal.
 * An idle worker steals from a random victim, then sleeps on a futex until
 * a push wakes it.
 */
#ifndef SN_SCHEDULER_H
#define SN_SCHEDULER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <snow/runtime.h>

#include "context.h"
#include "deque.h"
#include "fault.h"
#include "internal.h"
#include "names.h"
#include "proc.h"
#include "ptable.h"
#include "runq.h"
#include "blocking.h"
#include "poller.h"
#include "stack.h"
#include "timer.h"

enum sn_rt_state {
	SN_RT_DOWN,		/* not initialised, or shut down */
	SN_RT_RUNNING,
	SN_RT_STOPPING		/* snow_rt_run_scheduler() is tearing down */
};

/* Why an actor handed its worker back control. */
enum sn_switch_reason {
	SN_SWITCH_YIELD,
	SN_SWITCH_EXIT,
	SN_SWITCH_WAIT		/* park: w->park_word says how */
};

struct sn_worker {
	struct sn_ctx ctx;		/* the worker loop, while an actor runs */
	struct sn_proc *current;	/* the actor running here, or NULL */
	int reason;			/* enum sn_switch_reason */
	uint64_t park_word;		/* the wait word of a parking actor */
	struct sn_proc *handoff;	/* stopped, for the next to settle */
	unsigned direct;		/* hand-overs since the loop ran */
	unsigned io_ticks;		/* loop turns, for busy polls */
	unsigned id;
	uint64_t tick;			/* picks so far, for fairness */
	uint64_t rng;			/* victim selection */
	unsigned next_streak;		/* picks in a row from next */
	unsigned outq_cursor;		/* the outside queue to look at next */
	struct sn_deque dq;
	struct sn_runq fifo;
	struct sn_stack_cache cache;
	pthread_t thread;
	bool started;
	bool spinning;			/* counted in rt.nspinning */
	struct sn_pidsource pids;	/* this worker's block of PIDs */
	struct sn_fault_stack altstack;	/* where overflows are reported */
	struct sn_timers timers;	/* this worker's only */

	/* Woken by the running actor; a line of its own, as thieves look. */
	_Atomic(struct sn_proc *) next SN_ALIGNED;

	/* Parking: the futex word is set by whoever takes us off the list. */
	_Atomic uint32_t wake_word SN_ALIGNED;
	struct sn_worker *idle_next;	/* under rt.idle_lock */
	bool idle_listed;		/* under rt.idle_lock */
	_Atomic bool parked;		/* in park(): fires its own timers */
	uint64_t watching;		/* the watch_due it set, or UINT64_MAX */

	/* Written by this worker only, read by snow_rt_stats() and, for
	 * spawns and exits, by the quiescence check. */
	_Atomic uint64_t n_spawned SN_ALIGNED;
	_Atomic uint64_t n_exited;
	_Atomic uint64_t n_switches;
	_Atomic uint64_t n_preempted;
	_Atomic uint64_t n_steals;
	_Atomic uint64_t n_sent;
	_Atomic uint64_t n_dropped;
	_Atomic uint64_t n_hibernated;
	_Atomic uint64_t n_muted;	/* sends muted by backpressure */
	void *bp_spare;			/* a node for the next mute */
	bool hib_more;			/* parked actors not yet hibernated */
	struct sn_proc **hib_batch;	/* SN_HIB_BATCH, for a sweep */
	/* Actors that parked here where they may hibernate: pushed by this
	 * worker (hibernate.c), taken whole by the sweep. */
	_Atomic(struct sn_proc *) hib_cand;
	/* As a thief: the victim whose next slot this worker last looked
	 * at, and that victim's n_switches then (next_stealable()). */
	struct sn_worker *looked_at;
	uint64_t looked_switches;
} SN_ALIGNED;

struct sn_runtime {
	_Atomic int state;		/* enum sn_rt_state */
	unsigned nworkers;
	unsigned spin_max;		/* workers that may search at once */
	struct sn_worker *workers;
	struct sn_stack_pool pool;
	struct sn_runq high, normal, low;
	_Atomic uint64_t main_pid;
	struct sn_proc *main_proc;	/* its mailbox (mainproc.h) */
	struct sn_ptable ptable;	/* live actors, for senders */
	struct sn_names names;
	struct sn_timer_inbox timer_inbox;	/* timers from outside threads */
	struct sn_poller poller;	/* actors waiting on descriptors */
	struct sn_blocking_pool blocking;	/* threads for blocking calls */
	bool tables;			/* the three above are initialised */

	/* Spawns by threads that are not workers, minus those refused,
	 * plus one for each such spawn call still running (see spawn.c):
	 * for quiescence and for the stats. */
	_Atomic int64_t outside_live SN_ALIGNED;
	_Atomic int64_t outside_busy;	/* sends and such from non-workers */
	_Atomic uint64_t outside_sent;	/* messages sent by non-workers */
	_Atomic uint64_t outside_dropped;
	_Atomic uint64_t blocked_ended;	/* actors ended as blocked for ever */
	_Atomic uint32_t done_seq;	/* futex: bumped by done_signal() */
	_Atomic uint32_t done_waiters;	/* threads waiting on it */

	/* Sleeping workers, and workers searching before they sleep (own
	 * lines: spinners write theirs often, every push reads both). */
	_Atomic unsigned nidle SN_ALIGNED;
	_Atomic unsigned nspinning SN_ALIGNED;
	_Atomic uint64_t park_epoch;	/* bumped whenever a worker lists itself */
	_Atomic uint64_t watch_due;	/* when the watcher of busy workers'
					 * timers wakes, UINT64_MAX: none */
	_Atomic uint64_t hib_gen SN_ALIGNED;	/* hibernation sweeps begun */
	_Atomic uint64_t hib_last_ns;	/* when the last one began */
	_Atomic int sweeping;		/* sweeps holding actors' wakes */
	_Atomic bool hib_wanted;	/* a sweep was put off: busy workers */
	uint8_t hib_default;		/* SNOW_HIBERNATE */
	uint32_t mbox_limit;		/* SNOW_MAILBOX_LIMIT, 0: no mutes */
	_Atomic bool stop;
	/* Workers set up so far (lifecycle.c's start waits for all). */
	_Atomic uint32_t workers_ready;
	pthread_mutex_t idle_lock;
	struct sn_worker *idle_head;	/* under idle_lock */
};

extern struct sn_runtime sn_rt;

/* The worker this thread runs, or NULL.  Never inlined: an actor can
 * resume on another thread, and a cached TLS address would be stale. */
struct sn_worker *sn_worker_self(void);

uint64_t sn_sched_spawn(snow_actor_fn fn, const void *args,
    uint64_t args_size, uint8_t priority);
void sn_sched_yield(void);

/* The running actor and its worker, or NULL outside actors. */
struct sn_proc *sn_sched_current(void);

/*
 * Park the running actor p: its wait word (see proc.h) is published
 * once it is off its stack, and a timer wakes it at deadline unless that
 * is UINT64_MAX.  Returns when something took the wake (see proc.h), or
 * ENOMEM at once if the timer could not be set.
 */
int sn_sched_park(struct sn_proc *p, unsigned kind, uint64_t deadline);
/* Make runnable an actor whose wake the caller took.  Any thread. */
void sn_sched_ready(struct sn_proc *p);
/* Whoever took a wake (word: the wait word it cleared) calls this once. */
void sn_sched_woken(struct sn_proc *p, uint64_t word);
/* End the running actor p now; its frames are abandoned. */
SN_NORETURN void sn_sched_exit(struct sn_proc *p, uint8_t reason);
/* Arm a timer on this thread's worker, or through the inbox. */
int sn_sched_timer(const struct sn_timer *tm);
/*
 * Bracket a call that uses the tables from a thread that is not a worker:
 * 0, or EPERM when the runtime is not running (then do not leave).
 */
int sn_sched_outside_enter(void);
void sn_sched_outside_leave(void);
/* Count a message sent or dropped by this thread. */
void sn_sched_count_send(int delivered);

/*
 * Reductions left in the running slice.  Outside actors it is refilled to
 * INT32_MAX, so snow_reduction_check() stays a decrement and a branch.
 */
extern SN_TLS int32_t sn_budget;
void sn_budget_spent(void);

/* ---- For lifecycle.c, which starts and stops what runs here ----
 * (sn_sched_new_generation is spawn.c's) */

/* A worker thread's body; arg is its struct sn_worker. */
void *sn_sched_worker_main(void *arg);
/* Where a fresh actor context starts (the pool's boot function). */
SN_NORETURN void sn_sched_proc_main(void *arg);
/* Every actor ever spawned has exited (see the comment at its body). */
bool sn_sched_quiescent(void);
/* Some queue holds a runnable actor. */
bool sn_sched_work_visible(void);
/* Wake every sleeping worker. */
void sn_sched_wake_all(void);
/* A new runtime starts: outside threads' stack caches are stale. */
void sn_sched_new_generation(void);

/* ---- For spawn.c ---- */

/* Queue an actor just spawned, on worker w (NULL: from outside). */
void sn_sched_enqueue_new(struct sn_worker *w, struct sn_proc *p);
/* The same for a spawn by an actor running on w: w's next slot if free. */
void sn_sched_enqueue_spawned(struct sn_worker *w, struct sn_proc *p);
/* Queue an actor spawned outside the runtime on q, the spawning thread's
 * queue (NULL: a shared one). */
struct sn_outq;
void sn_sched_enqueue_outside(struct sn_outq *q, struct sn_proc *p);
/* Tell snow_rt_run_scheduler() to look at the counts again. */
void sn_sched_done_signal(void);

#endif /* SN_SCHEDULER_H */
