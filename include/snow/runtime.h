/*
 * snow-rt: the actor runtime of the Snow language.
 *
 * Actors are stackful coroutines multiplexed M:N over one worker thread per
 * core, balanced by work stealing and preempted by reduction counting.
 * Compiled Snow programs and C programs use the same ABI, declared here.
 *
 * Link with: cc prog.c $(pkg-config --cflags --libs snow-rt)
 */
#ifndef SNOW_RUNTIME_H
#define SNOW_RUNTIME_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) && !defined(SNOW_RT_STATIC)
#define SNOW_API __attribute__((visibility("default")))
#else
#define SNOW_API
#endif

/* Entry point of an actor: receives the (copied) spawn arguments. */
typedef void (*snow_actor_fn)(const void *args);

/* Priorities accepted by snow_actor_spawn(). */
enum snow_priority {
	SNOW_PRIO_HIGH = 0,	/* runs before any normal or low actor */
	SNOW_PRIO_NORMAL = 1,
	SNOW_PRIO_LOW = 2	/* interleaved with normal work, never starved */
};

/* Reductions an actor may spend before snow_reduction_check() yields. */
#define SNOW_REDUCTIONS 4000

/* Largest worker count snow_rt_init_actor() accepts. */
#define SNOW_MAX_SCHEDULERS 1024

/*
 * Start the runtime with num_schedulers worker threads (0: one per CPU this
 * process may run on).  The calling thread becomes the main process: it gets
 * a PID and snow_actor_self() works there.  A second call while the runtime
 * runs changes nothing and returns 0.
 *
 * The environment variable SNOW_STACK_SIZE (bytes, optionally with a K or M
 * suffix) overrides the default actor stack size chosen at configure time.
 *
 * Returns 0, or an errno value: EINVAL (more than SNOW_MAX_SCHEDULERS, or a
 * bad SNOW_STACK_SIZE), ENOMEM, EAGAIN (a worker thread could not be
 * started; nothing is left behind), EDEADLK (called from inside an actor).
 */
SNOW_API int snow_rt_init_actor(uint32_t num_schedulers);

/*
 * Create an actor running fn(args) on its own stack and make it runnable.
 * Callable from any thread, inside or outside actors.
 *
 * args_size > 0: the bytes at args are copied; the copy lives as long as
 * the actor.  args_size == 0: args is passed through untouched.
 * priority: SNOW_PRIO_HIGH, SNOW_PRIO_NORMAL or SNOW_PRIO_LOW.
 *
 * Returns the new PID (unique for the life of the process, from 1 up,
 * never reused), or 0 with errno set:
 *   EINVAL  fn is NULL, priority > 2, args is NULL with args_size > 0, or
 *           args_size is larger than the actor stack size;
 *   ENOMEM  no memory for the actor's stack or arguments;
 *   EPERM   the runtime is not initialised (never, or after shutdown);
 *   EAGAIN  the runtime is shutting down.
 */
SNOW_API uint64_t snow_actor_spawn(snow_actor_fn fn, const void *args,
    uint64_t args_size, uint8_t priority);

/* PID of the running actor, the main process's PID on the thread that
 * called snow_rt_init_actor(), 0 anywhere else. */
SNOW_API uint64_t snow_actor_self(void);

/*
 * Count one reduction.  The compiler inserts this at loop back-edges and
 * calls.  Costs a thread-local decrement and a branch; once the actor's
 * SNOW_REDUCTIONS are spent it yields and is requeued behind the other
 * runnable actors.  A no-op outside actors.
 */
SNOW_API void snow_reduction_check(void);

/* Give up the rest of the current slice now.  A no-op outside actors. */
SNOW_API void snow_actor_yield(void);

/*
 * Block until every actor has exited, then stop and join the workers and
 * free every stack and table.  snow_rt_init_actor() may be called again
 * afterwards.  Call it from a thread that is not an actor, usually the main
 * thread once its own work is done.
 *
 * Returns 0, or EPERM (runtime not initialised), EDEADLK (called from inside
 * an actor, which would wait for itself).
 */
SNOW_API int snow_rt_run_scheduler(void);

/* Counters of the running runtime, or of the last one after shutdown. */
struct snow_rt_stats {
	uint64_t spawned;	/* actors created */
	uint64_t exited;	/* actors that ran to completion */
	uint64_t switches;	/* switches into actors */
	uint64_t preemptions;	/* slices ended by snow_reduction_check() */
	uint64_t steals;	/* actors taken from another worker's deque */
	uint64_t stacks_mapped;	/* stacks ever mapped (the rest were reused) */
	uint32_t workers;	/* worker threads */
	uint32_t workers_used;	/* workers that ran at least one actor */
};

/* Fill *out; returns 0, or EINVAL when out is NULL. */
SNOW_API int snow_rt_stats(struct snow_rt_stats *out);

#ifdef __cplusplus
}
#endif

#endif /* SNOW_RUNTIME_H */
