/*
 * The scheduler: worker threads, their queues, and the runtime they share.
 *
 * Where a runnable actor waits:
 *   - high priority: rt.high, taken before anything else;
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
#include "proc.h"
#include "runq.h"
#include "stack.h"

enum sn_rt_state {
	SN_RT_DOWN,		/* not initialised, or shut down */
	SN_RT_RUNNING,
	SN_RT_STOPPING		/* snow_rt_run_scheduler() is tearing down */
};

/* Why an actor handed its worker back control. */
enum sn_switch_reason {
	SN_SWITCH_YIELD,
	SN_SWITCH_EXIT
};

struct sn_worker {
	struct sn_ctx ctx;		/* the worker loop, while an actor runs */
	struct sn_proc *current;	/* the actor running here, or NULL */
	int reason;			/* enum sn_switch_reason */
	unsigned id;
	uint64_t tick;			/* picks so far, for fairness */
	uint64_t rng;			/* victim selection */
	struct sn_deque dq;
	struct sn_runq fifo;
	struct sn_stack_cache cache;
	pthread_t thread;
	bool started;
	bool spinning;			/* counted in rt.nspinning */
	uint64_t pid_next, pid_end;	/* this worker's block of PIDs */
	struct sn_fault_stack altstack;	/* where overflows are reported */

	/* Parking: the futex word is set by whoever takes us off the list. */
	_Atomic uint32_t wake_word SN_ALIGNED;
	struct sn_worker *idle_next;	/* under rt.idle_lock */
	bool idle_listed;		/* under rt.idle_lock */

	/* Written by this worker only, read by snow_rt_stats() and, for
	 * spawns and exits, by the quiescence check. */
	_Atomic uint64_t n_spawned SN_ALIGNED;
	_Atomic uint64_t n_exited;
	_Atomic uint64_t n_switches;
	_Atomic uint64_t n_preempted;
	_Atomic uint64_t n_steals;
} SN_ALIGNED;

struct sn_runtime {
	_Atomic int state;		/* enum sn_rt_state */
	unsigned nworkers;
	struct sn_worker *workers;
	struct sn_stack_pool pool;
	struct sn_runq high, normal, low;
	uint64_t main_pid;

	/* Spawns by threads that are not workers, minus those refused: for
	 * quiescence and for the stats. */
	_Atomic int64_t outside_live SN_ALIGNED;
	pthread_mutex_t done_lock;
	pthread_cond_t done_cond;

	/* Sleeping workers, and workers searching before they sleep (own
	 * lines: spinners write theirs often, every push reads both). */
	_Atomic unsigned nidle SN_ALIGNED;
	_Atomic unsigned nspinning SN_ALIGNED;
	_Atomic bool stop;
	pthread_mutex_t idle_lock;
	struct sn_worker *idle_head;	/* under idle_lock */
};

extern struct sn_runtime sn_rt;

/* The worker this thread runs, or NULL.  Never inlined: an actor can
 * resume on another thread, and a cached TLS address would be stale. */
struct sn_worker *sn_worker_self(void);

/* The next PID: unique for the life of the process, from 1 up. */
uint64_t sn_pid_next(void);

int sn_sched_start(unsigned nworkers, size_t stack_size);
int sn_sched_stop(void);
uint64_t sn_sched_spawn(snow_actor_fn fn, const void *args,
    uint64_t args_size, uint8_t priority);
void sn_sched_yield(void);

/*
 * Reductions left in the running slice.  Outside actors it is refilled to
 * INT32_MAX, so snow_reduction_check() stays a decrement and a branch.
 */
extern SN_TLS int32_t sn_budget;
void sn_budget_spent(void);
void sn_sched_stats(struct snow_rt_stats *out);

#endif /* SN_SCHEDULER_H */
