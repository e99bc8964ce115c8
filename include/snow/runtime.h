/*
 * snow-rt: the actor runtime of the Snow language.
 *
 * Actors are stackful coroutines multiplexed M:N over one worker thread per
 * core, balanced by work stealing and preempted by reduction counting.
 * Compiled Snow programs and C programs use the same ABI, declared here.
 *
 * Link with: cc prog.c $(pkg-config --cflags --libs snow-rt)
 *
 * Stack overflows.  Below each actor stack lie 4 guard pages (16 KiB
 * with 4 KiB pages).  Any access that lands in them, from a deep
 * recursion or a frame of up to 16 KiB, is reported on stderr ("snow-rt:
 * stack overflow in actor PID (stack of N bytes, ...)") and the process
 * aborts with SIGABRT.  A frame larger than the guard (a big array or
 * alloca) can step over it into the stack below, silently; it is caught
 * only when the code is built with -fstack-clash-protection, which makes
 * the compiler touch each page of a large frame in turn, so the guard is
 * hit first.  pkg-config --cflags snow-rt gives that flag when the
 * compiler snow-rt was configured with accepts it.  The Snow compiler and
 * other front ends must do the same for the code they emit: with LLVM,
 * give every function the attribute "probe-stack"="inline-asm".
 */
#ifndef SNOW_RUNTIME_H
#define SNOW_RUNTIME_H

#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) && !defined(SNOW_RT_STATIC)
#define SNOW_API __attribute__((visibility("default")))
#else
#define SNOW_API
#endif

/* ---- Version ----
 *
 * The version of this header.  The library a program runs with may be a
 * later one than it was built against; snow_rt_version() tells which.
 * Releases follow the README's "Versions and the ABI": PATCH moves for
 * fixes, MINOR when functions or constants are added, MAJOR when
 * anything a built program relies on changes (the library's soname moves
 * with it, so such a program never loads the wrong one).
 */
#define SNOW_RT_VERSION_MAJOR	0
#define SNOW_RT_VERSION_MINOR	1
#define SNOW_RT_VERSION_PATCH	0
/* The three as one number that orders as versions do: 0xMMmmpp. */
#define SNOW_RT_VERSION_HEX	((SNOW_RT_VERSION_MAJOR << 16) | \
				 (SNOW_RT_VERSION_MINOR << 8) | \
				 SNOW_RT_VERSION_PATCH)

/*
 * The version of the library actually loaded, as SNOW_RT_VERSION_HEX
 * gives it (compare the two to learn whether the program runs on the
 * library it was built against).  Any thread, any time, before init too;
 * never fails.
 */
SNOW_API uint32_t snow_rt_version(void);

/* The same as "MAJOR.MINOR.PATCH", a string that lives for ever. */
SNOW_API const char *snow_rt_version_string(void);

/* ---- Runtime, actors, scheduling ---- */

/* Entry point of an actor: receives the (copied) spawn arguments. */
typedef void (*snow_actor_fn)(const void *args);

/* A terminate callback (snow_actor_set_terminate()): the actor's state
 * (snow_actor_set_state()) and a pointer to its exit reason byte. */
typedef void (*snow_terminate_fn)(const void *state, const void *reason);

/*
 * Priorities accepted by snow_actor_spawn().  A worker picks high before
 * normal before low, but no class can shut out the ones below it: every
 * 8th pick looks at low first and every other 4th at normal first.  So
 * under any load from above, low actors keep an eighth of the picks and
 * normal ones an eighth (a quarter while no low actor waits).
 */
enum snow_priority {
	SNOW_PRIO_HIGH = 0,	/* picked first, 6 picks in 8 under full load */
	SNOW_PRIO_NORMAL = 1,
	SNOW_PRIO_LOW = 2	/* picked every 8th time at least, never starved */
};

/* Reductions an actor may spend before snow_reduction_check() yields. */
#define SNOW_REDUCTIONS 4000

/* Largest worker count snow_rt_init_actor() accepts. */
#define SNOW_MAX_SCHEDULERS 1024

/*
 * Start the runtime with num_schedulers worker threads (0: one per CPU this
 * process may run on); it returns once every worker has started and set
 * itself up, so that the first actors do not wait for that.  The calling
 * thread becomes the main process: it gets a PID and snow_actor_self()
 * works there.  A second call while the runtime runs changes nothing and
 * returns 0.
 *
 * The environment variable SNOW_STACK_SIZE (bytes, optionally with a K or M
 * suffix, from 16 KiB to 1 GiB) overrides the default actor stack size
 * chosen at configure time.
 *
 * Returns 0, or an errno value: EINVAL (more than SNOW_MAX_SCHEDULERS, or a
 * bad SNOW_STACK_SIZE, SNOW_HIBERNATE, SNOW_MAILBOX_LIMIT or
 * SNOW_BLOCKING_THREADS), ENOMEM,
 * EAGAIN (a worker thread could not be started; nothing is left behind),
 * EDEADLK (called from inside an actor).
 */
SNOW_API int snow_rt_init_actor(uint32_t num_schedulers);

/*
 * Create an actor running fn(args) on its own stack and make it runnable.
 * Callable from any thread, inside or outside actors.  Spawned by an
 * actor, it may wait on its spawner's worker until the spawner stops
 * (waits, yields, ends, or reaches a reduction check) unless a worker
 * looking for work takes it; an actor woken by a message waits likewise.
 *
 * args_size > 0: the bytes at args are copied; the copy lives as long as
 * the actor.  args_size == 0: args is passed through untouched.
 * priority: SNOW_PRIO_HIGH, SNOW_PRIO_NORMAL or SNOW_PRIO_LOW.
 *
 * Returns the new PID (never 0, unique for the life of the process,
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
 * Actors that wait for ever (a receive or a sleep with no timer to end
 * it), once nothing can run and no timer is pending, can never be woken
 * from inside the runtime: they are ended with SNOW_EXIT_KILLED (links
 * see it), their number is added to snow_rt_stats().blocked_ended and
 * printed on stderr.  So other threads must be done sending, spawning and
 * killing before they rely on this call.
 *
 * Returns 0, or EPERM (runtime not initialised), EDEADLK (called from inside
 * an actor, which would wait for itself).
 */
SNOW_API int snow_rt_run_scheduler(void);

/* ---- Threads, signals and fork ----
 *
 * Calls that race init and shutdown.  Every call in this header may be
 * made from any thread at any time, also while another thread is inside
 * snow_rt_init_actor() or snow_rt_run_scheduler().  It then either fails
 * with its documented error (EPERM while the runtime is not running;
 * EAGAIN for a spawn once shutdown has begun) or takes full effect: an
 * actor it spawned is part of the runtime that accepted it, and
 * snow_rt_run_scheduler() waits for it.  Init and shutdown themselves are
 * serialised with each other.
 *
 * Signal handlers.  A handler may call the runtime, except when it
 * interrupted its own thread inside a runtime call: that call may hold a
 * lock the handler's call would wait for, so the handler's call fails
 * with EDEADLK instead (returned, or in errno for the calls that return a
 * PID or a pointer).  Worker threads block asynchronous signals (all but
 * SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP, SIGSYS, SIGABRT and SIGPROF),
 * so process-wide signals go to the application's own threads, never
 * into an actor.
 *
 * fork(2).  A child forked while the runtime runs has none of its worker
 * threads: there the runtime is down.  Every call fails as before init
 * (EPERM), and snow_rt_init_actor() fails with ENOTRECOVERABLE, since the
 * copied state can neither be taken over nor freed safely.  A child that
 * wants actors execs a program that starts its own runtime.
 *
 * pthread_exit() inside an actor ends the worker thread under every actor
 * it runs: the runtime reports it on stderr and aborts the process.
 */

/* ---- Messages ----
 *
 * Every actor has a mailbox.  Messages are copied in by the sender and come
 * out one at a time, in the order each sender sent them.
 *
 * The main process (the thread that called snow_rt_init_actor()) has a
 * mailbox too: sends to its PID are delivered, and every receive below
 * works there, blocking the thread (no spinning) while it waits.  Its
 * mailbox lives from init to snow_rt_run_scheduler(), which frees what
 * is left in it.  It is no actor: it cannot be linked to, killed, sent
 * exit signals or given a terminate callback (those find it not alive),
 * and shutdown does not wait for it.  A main thread that waits for ever
 * for a message nothing will send waits for ever, as a thread would.
 */

/* Largest message body snow_actor_send() accepts. */
#define SNOW_MSG_MAX ((uint64_t)1 << 30)

/*
 * What a received message is, in its tag.  Tags below SNOW_MSG_USER are
 * the runtime's; a program picks its own from SNOW_MSG_USER up and sends
 * them with snow_actor_send_tag().
 */
enum snow_msg_tag {
	SNOW_MSG_DATA = 0,	/* from snow_actor_send() or snow_timer_send_after() */
	SNOW_MSG_EXIT = 1,	/* a linked actor exited; body: struct snow_exit_msg */
	SNOW_MSG_DOWN = 2,	/* a monitored actor ended; struct snow_down_msg */
	SNOW_MSG_REPLY = 3,	/* the reply to a snow_service_call() */
	SNOW_MSG_CALL = 4,	/* a snow_service_call(): [tag][caller][payload] */
	SNOW_MSG_JOB = 5	/* a job's result: its int64_t (snow_job_await()) */
};
#define SNOW_MSG_USER	((uint64_t)256)	/* the first tag of a program's own */

/* A received message, as snow_actor_receive() returns it. */
struct snow_msg {
	uint64_t tag;		/* enum snow_msg_tag */
	uint64_t len;		/* bytes in data */
	unsigned char data[];
};

/*
 * Why an actor ended, numbered as the Snow compiler numbers them (0 to 6);
 * the runtime's own reasons come after them.
 */
enum snow_exit_reason {
	SNOW_EXIT_NORMAL = 0,	/* its function returned, or it exited normal */
	SNOW_EXIT_ERROR = 1,	/* it failed */
	SNOW_EXIT_KILLED = 2,	/* killed (untrappable), or it blocked for ever */
	SNOW_EXIT_LINKED = 3,	/* an actor it was linked to ended abnormally */
	SNOW_EXIT_SHUTDOWN = 4,	/* asked to stop (by a supervisor) */
	SNOW_EXIT_CUSTOM = 5,	/* a reason of the program's own */
	SNOW_EXIT_NOCONNECTION = 6, /* (for distribution) its node went away */
	SNOW_EXIT_NOPROC = 7	/* (exit messages only) linked to a PID not alive */
};

/* Largest reason snow_actor_exit() accepts. */
#define SNOW_EXIT_REASON_MAX	SNOW_EXIT_NOCONNECTION

/* Body of a SNOW_MSG_EXIT message. */
struct snow_exit_msg {
	uint64_t pid;		/* the linked actor that ended */
	uint64_t reason;	/* enum snow_exit_reason */
};

/*
 * Backpressure.  When an actor sends to another actor whose mailbox holds
 * more than the limit, the message is delivered as always, then the
 * sending actor is descheduled (muted) until the receiver has drained to
 * half the limit, waits in a receive, or ends; it resumes inside its send
 * call, which then returns 0.  Only actors sending to actors are muted:
 * the main thread, threads outside the runtime, sends to the main process
 * and the runtime's own messages (exit signals, DOWNs, timers, service
 * replies and calls, jobs) never wait.  An actor that others are muted on
 * is not muted itself, so muting cannot deadlock: two actors flooding each
 * other, or a receiver sending back to its senders, keep running.  The
 * limit is SNOW_MAILBOX_LIMIT_DEFAULT messages, or the environment
 * variable SNOW_MAILBOX_LIMIT read by snow_rt_init_actor() (0 turns
 * muting off, as in Erlang: mailboxes then grow without bound; more than
 * SNOW_MAILBOX_LIMIT_MAX or anything but digits is EINVAL).  A muted
 * actor can still be killed; snow_rt_stats().mutes counts the mutes.
 */
#define SNOW_MAILBOX_LIMIT_DEFAULT	1024
#define SNOW_MAILBOX_LIMIT_MAX		((uint32_t)1 << 30)

/*
 * Copy size bytes at msg into the mailbox of actor pid, and wake it if it
 * waits in snow_actor_receive().  Callable from any thread.  A message to
 * a PID that is not alive (ended, never spawned) is
 * dropped silently and counted in snow_rt_stats().dropped.  From an actor
 * the call may deschedule the sender for a while after the message is
 * delivered, when pid's mailbox is over its limit (backpressure, above).
 *
 * Returns 0 (delivered or dropped), or an errno value and nothing is sent:
 * EINVAL (msg NULL with size > 0, size > SNOW_MSG_MAX), ENOMEM, EPERM (the
 * runtime is not running).
 */
SNOW_API int snow_actor_send(uint64_t pid, const void *msg, uint64_t size);

/*
 * The next message in the calling actor's (or the main process's)
 * mailbox, as a struct snow_msg (the tag, the length, then the bytes).
 * It stays valid until the caller's next receive or its end.
 *
 * timeout_ms < 0 waits for ever, 0 only looks, > 0 waits at most that
 * long.  A waiting actor is parked: it uses no CPU until a send, its
 * timeout or an exit signal requeues it; the main thread sleeps on a
 * futex until a send or its timeout.
 *
 * NULL with errno: ETIMEDOUT (nothing came in time), EAGAIN (timeout_ms
 * was 0 and the mailbox is empty), EPERM (not called from an actor or
 * the main thread).
 */
SNOW_API const void *snow_actor_receive(int64_t timeout_ms);

/*
 * As snow_actor_send(), with a tag of the program's own: tag must be
 * SNOW_MSG_USER or more (EINVAL otherwise).  Receivers see it in
 * struct snow_msg's tag and can pick such messages out with
 * snow_actor_receive_tag().
 */
SNOW_API int snow_actor_send_tag(uint64_t pid, uint64_t tag, const void *msg,
    uint64_t size);

/*
 * Selective receive.  Whether a selective receive wants message m: nonzero
 * takes it.  ctx is the pointer given to snow_actor_receive_match().
 */
typedef int (*snow_match_fn)(const struct snow_msg *m, void *ctx);

/*
 * The oldest message in the calling actor's mailbox that match accepts,
 * waiting for one as snow_actor_receive() does.  Messages it passes over
 * stay in the mailbox in the order they came, ahead of newer ones: the
 * next receive of either kind sees them first.  A wait looks only at
 * messages that arrive during it, each once.
 *
 * match runs in the calling actor, on each message it has not yet seen in
 * this call, oldest first, and must not keep m.  It may send, and it may
 * end the actor (nothing is lost: the mailbox is freed whole), but a
 * receive inside it fails with EBUSY.  Every call looks again at every
 * message passed over before, so a mailbox that fills with messages
 * nothing will ever take makes each selective receive slower.
 *
 * Returns the message, valid as one from snow_actor_receive(), or NULL
 * with errno: EINVAL (match NULL), ETIMEDOUT, EAGAIN (timeout_ms 0 and
 * nothing wanted), EPERM (not called from an actor or the main thread),
 * EBUSY (called from a match function).
 */
SNOW_API const void *snow_actor_receive_match(snow_match_fn match, void *ctx,
    int64_t timeout_ms);

/* The oldest message with this tag; otherwise as snow_actor_receive_match(). */
SNOW_API const void *snow_actor_receive_tag(uint64_t tag, int64_t timeout_ms);

/*
 * The oldest message with this tag whose body starts with the 8 bytes of
 * key, in the machine's byte order (the PID of a SNOW_MSG_EXIT message);
 * otherwise as snow_actor_receive_match().
 */
SNOW_API const void *snow_actor_receive_key(uint64_t tag, uint64_t key,
    int64_t timeout_ms);

/* ---- Monitors ----
 *
 * A monitor is a one-way watch of an actor's end, as Erlang's monitor/2:
 * the watcher hears of it in a SNOW_MSG_DOWN message and is never ended
 * by it, and a watcher may hold any number of monitors, on one target or
 * many, each with its own reference.  Each costs O(1) to make and remove.
 */

/* Body of a SNOW_MSG_DOWN message. */
struct snow_down_msg {
	uint64_t ref;		/* what snow_process_monitor() returned */
	uint64_t pid;		/* the actor that ended */
	uint64_t reason;	/* enum snow_exit_reason */
};

/*
 * Watch actor pid from the calling actor (or the main thread).  When pid ends, for any reason,
 * one SNOW_MSG_DOWN message {ref, pid, reason} comes, after its terminate
 * callback has run; if pid is not alive now (ended, never spawned), it
 * comes at once with SNOW_EXIT_NOPROC.  snow_actor_receive_key(
 * SNOW_MSG_DOWN, ref, ms) waits for the one of this monitor.
 *
 * Returns the reference, unique for the life of the process and never 0,
 * or 0 with errno: EINVAL (pid 0), ENOMEM, EPERM (not called from an
 * actor or the main thread).
 */
SNOW_API uint64_t snow_process_monitor(uint64_t pid);

/*
 * Stop the calling actor's monitor ref.  Once this returns, no DOWN of
 * it will be received, and one already in the mailbox is gone (Erlang's
 * demonitor with flush).
 *
 * Returns 0, or 1 with errno: ENOENT (ref is not a monitor of the caller
 * that is still live: unknown, or its DOWN was received), EPERM (not
 * called from an actor or the main thread).  The Snow compiler reads the result as a u64.
 */
SNOW_API uint64_t snow_process_demonitor(uint64_t ref);

/* ---- Services and jobs ----
 *
 * A service is an actor that answers calls.  A call is one message,
 * SNOW_MSG_CALL, whose body is [u64 tag][u64 caller][payload] (compiled
 * code reads it at msg + 16, after the header), and the caller waits for
 * the reply to that call and nothing else: other messages stay in its
 * mailbox, a reply to an earlier call that timed out is dropped, and a
 * service that is not alive, or ends before it answers, ends the call
 * with ESRCH rather than a wait for ever.  The actor or the main thread
 * may call; a service may be either too.
 */

/*
 * Call service pid with tag and size bytes of payload and wait for its
 * reply.  Returns the reply as a received message (SNOW_MSG_REPLY; its
 * body is what the service passed to snow_service_reply()), valid until
 * the caller's next receive, or NULL with errno: ESRCH (pid is not alive,
 * or ended before it replied), ENOMEM, EINVAL (payload NULL with size > 0,
 * size > SNOW_MSG_MAX - 16), EPERM (not called from an actor or the main
 * thread), EBUSY (from a match function).
 */
SNOW_API const void *snow_service_call(uint64_t pid, uint64_t tag,
    const void *payload, uint64_t size);

/* As snow_service_call(), waiting at most timeout_ms (< 0: for ever);
 * also ETIMEDOUT, and EAGAIN for a timeout of 0 with no reply yet. */
SNOW_API const void *snow_service_call_timeout(uint64_t pid, uint64_t tag,
    const void *payload, uint64_t size, int64_t timeout_ms);

/*
 * From a service: send size bytes as the reply to caller (the caller word
 * of the call).  It answers the call the service received last, if that
 * came from caller; a reply sent after the service's next receive answers
 * any call caller has in progress to this service.  Any thread.  Returns 0,
 * or EINVAL (reply NULL with size > 0, size > SNOW_MSG_MAX), ENOMEM, EPERM
 * (the runtime is not running).  A reply to a caller that no longer waits
 * is dropped.
 */
SNOW_API int snow_service_reply(uint64_t caller, const void *reply,
    uint64_t size);

/* A job's function: its result is what the awaiting caller gets. */
typedef int64_t (*snow_job_fn)(void *env);

/*
 * Run fn(env) in a new actor, linked to the calling actor (a failure of
 * the job ends a caller that does not trap exits, as in Erlang).  Jobs of
 * the main thread are not linked: such a job reports its failure through
 * a terminate callback of the runtime's, so an await after it ended is
 * ECANCELED all the same; a terminate callback that fn sets on its own
 * actor replaces that one (a failure is then ESRCH once the job has
 * ended, as for a PID that was never a job).  Returns the job's PID, or 0 with
 * errno: EINVAL (fn NULL), EPERM (not called from an actor or the main
 * thread), ENOMEM, EAGAIN (shutting down).
 */
SNOW_API uint64_t snow_job_async(snow_job_fn fn, void *env);

/*
 * Wait for the result of job, a PID from snow_job_async().  Returns a
 * received message (SNOW_MSG_JOB) whose body is the eight bytes of the
 * int64_t fn returned, valid until the caller's next receive, or NULL
 * with errno: ECANCELED (the job ended without a result: it failed or was
 * killed), ESRCH (job is not a running job or its result was taken
 * already), ENOMEM, EPERM, EBUSY.  Only that job's result is taken; other
 * messages stay.  The result is a plain int64_t: a compiler whose values
 * live in the job's own heap must copy what the result points to before
 * fn returns, as that heap ends with the job.
 */
SNOW_API const void *snow_job_await(uint64_t job);

/* As snow_job_await(), waiting at most timeout_ms; also ETIMEDOUT, and
 * EAGAIN for a timeout of 0 with no result yet. */
SNOW_API const void *snow_job_await_timeout(uint64_t job,
    int64_t timeout_ms);

/* ---- Supervisors ----
 *
 * A supervisor is an actor that starts its children, linked to it, in
 * order, and restarts them when they end, as its strategy says:
 * one_for_one restarts the child that ended; one_for_all terminates the
 * others (last started first) and restarts all; rest_for_one does that
 * for the children started after it; simple_one_for_one has one spec and
 * children started on demand with snow_supervisor_start_child().  Each
 * child's restart type says when it is restarted: permanent always,
 * transient when it ended abnormally (not normal, not shutdown),
 * temporary never.  More than max_restarts restarts within max_seconds (a
 * sliding window) and the supervisor terminates every child and ends with
 * SNOW_EXIT_SHUTDOWN.  A child is terminated with an exit signal of
 * reason shutdown and killed if it has not ended shutdown_ms later
 * (SNOW_SHUTDOWN_TIMEOUT; 0 ms: 5 s), or killed at once
 * (SNOW_SHUTDOWN_BRUTAL).  An exit signal to the supervisor (its parent
 * ending, say) terminates its children, last first, and ends it with that
 * reason.  The supervisor's state is its own: the calls below are service
 * calls to it, answered between restarts.
 */
enum snow_sup_strategy {
	SNOW_SUP_ONE_FOR_ONE = 0,
	SNOW_SUP_ONE_FOR_ALL = 1,
	SNOW_SUP_REST_FOR_ONE = 2,
	SNOW_SUP_SIMPLE_ONE_FOR_ONE = 3
};

enum snow_restart_type {
	SNOW_RESTART_PERMANENT = 0,
	SNOW_RESTART_TRANSIENT = 1,
	SNOW_RESTART_TEMPORARY = 2
};

enum snow_shutdown_type {
	SNOW_SHUTDOWN_BRUTAL = 0,	/* killed at once */
	SNOW_SHUTDOWN_TIMEOUT = 1	/* exit shutdown, killed after the time */
};

enum snow_child_type {
	SNOW_CHILD_WORKER = 0,
	SNOW_CHILD_SUPERVISOR = 1
};

struct snow_sup_spec;

/* A child as C programs give it; the supervisor copies id and args. */
struct snow_child_spec {
	const char *id;			/* a name, for the program; may be NULL */
	snow_actor_fn start;		/* run with args, as snow_actor_spawn() */
	const void *args;
	uint64_t args_size;
	uint8_t restart;		/* enum snow_restart_type */
	uint8_t shutdown;		/* enum snow_shutdown_type */
	uint64_t shutdown_ms;
	uint8_t type;			/* enum snow_child_type */
	/* For SNOW_CHILD_SUPERVISOR: the nested supervisor's spec (start is
	 * then unused), which must stay valid while the parent lives; or
	 * NULL, and start is an actor that starts one itself. */
	const struct snow_sup_spec *sup;
};

struct snow_sup_spec {
	uint8_t strategy;		/* enum snow_sup_strategy */
	uint32_t max_restarts;
	uint64_t max_seconds;
	uint32_t nchildren;		/* exactly 1 for simple_one_for_one */
	const struct snow_child_spec *children;
};

/*
 * Start a supervisor from the Snow compiler's config blob (the packed
 * little-endian layout of ../shared/DESIGN.md).  Returns its PID, or
 * UINT64_MAX with errno: EINVAL (a malformed blob or spec), ENOMEM, EPERM
 * (the runtime is not running), EAGAIN (shutting down).
 */
SNOW_API uint64_t snow_supervisor_start(const void *config, uint64_t size);

/* The same from a C spec.  Errors as snow_supervisor_start(). */
SNOW_API uint64_t snow_supervisor_start_spec(const struct snow_sup_spec *spec);

/*
 * A new child of simple_one_for_one supervisor sup, started with size
 * bytes of args (copied).  Returns its PID, or UINT64_MAX with errno:
 * EINVAL (sup 0 or not simple_one_for_one, args NULL with size > 0),
 * ESRCH (sup not alive), EPERM (not called from an actor or the main
 * thread), ENOMEM.
 */
SNOW_API uint64_t snow_supervisor_start_child(uint64_t sup, const void *args,
    uint64_t size);

/* Terminate child of sup as its spec says; it is not restarted (and a
 * dynamic or temporary child is forgotten).  0, or 1: not a running child
 * of sup, or sup is not alive. */
SNOW_API uint64_t snow_supervisor_terminate_child(uint64_t sup, uint64_t child);

/* Children of sup running now; 0 when sup is not alive. */
SNOW_API uint64_t snow_supervisor_count_children(uint64_t sup);

/*
 * Link the calling actor and actor pid both ways.  When either ends, the
 * other gets an exit signal with the reason: an actor that traps exits
 * receives it as a SNOW_MSG_EXIT message; one that does not ends with
 * SNOW_EXIT_LINKED, unless the reason was SNOW_EXIT_NORMAL, which is
 * ignored.  Linking to a PID that is not alive signals SNOW_EXIT_NOPROC at
 * once, as the Erlang VM does.  Linking twice, or to itself, is a no-op.
 *
 * Returns 0, or EINVAL (pid 0), EPERM (not called from an actor), ENOMEM.
 */
SNOW_API int snow_actor_link(uint64_t pid);

/* Undo snow_actor_link(pid), both ways; 0, or EPERM outside an actor. */
SNOW_API int snow_actor_unlink(uint64_t pid);

/*
 * The calling actor traps exits from now on: exit signals from linked
 * actors, and from snow_actor_exit() aimed at it (but for
 * SNOW_EXIT_KILLED), arrive as SNOW_MSG_EXIT messages instead of ending
 * it.  A signal that came before the call, while the actor did not trap,
 * still ends it, here: the call does not return (its terminate callback,
 * links and monitors run as for any end).  The Snow compiler calls this
 * with no argument.  Returns 0, or EPERM outside an actor.
 */
SNOW_API int snow_actor_trap_exit(void);

/*
 * Turn trapping on (on != 0) or off for the calling actor; turning it on
 * ends the actor at once if an exit signal came before, as
 * snow_actor_trap_exit().  Returns the previous setting (0 or 1), or -1
 * with errno EPERM outside an actor.
 */
SNOW_API int snow_actor_set_trap_exit(int on);

/*
 * Erlang's exit/2: send an exit signal with reason (0 to
 * SNOW_EXIT_REASON_MAX) to actor pid.  Callable from any thread.
 *
 *  - pid is the caller: it ends now with reason and signals its links;
 *    its stack is abandoned, not unwound.  Does not return.
 *  - reason SNOW_EXIT_KILLED: pid ends with it, as by snow_actor_kill();
 *    it cannot be trapped.
 *  - pid traps exits: it receives a SNOW_MSG_EXIT message {the caller's
 *    PID (the main process's on the thread that called init, 0 from
 *    other threads outside the runtime), reason}.
 *  - otherwise SNOW_EXIT_NORMAL is ignored, and any other reason ends pid
 *    with that reason at its next receive, yield, sleep or spent slice (at
 *    once if it waits).
 *
 * Returns 0, or ESRCH (pid not alive, or the main process), EINVAL (pid 0,
 * reason above SNOW_EXIT_REASON_MAX), EPERM (the runtime is not running),
 * ENOMEM (no memory for the message to a trapping actor).
 */
SNOW_API int snow_actor_exit(uint64_t pid, uint8_t reason);

/*
 * Run cb when actor pid ends, for every reason, kills included, once:
 * as the actor itself, on its own stack, before its links (and monitors)
 * hear of its end and while it is still alive to senders.  cb receives
 * the actor's state (snow_actor_set_state(), NULL if none) and a pointer
 * to its enum snow_exit_reason as one byte.  cb may send, receive and
 * call the runtime as any actor code; a kill or an exit inside it ends
 * the actor at once, with its first reason.  cb NULL removes a callback;
 * a second call replaces it.  Callable from any thread for any actor.
 *
 * Returns 0, or ESRCH (pid not alive, or already ending: its callback
 * has run or is running), EINVAL (pid 0), EPERM (the runtime is not
 * running).
 */
SNOW_API int snow_actor_set_terminate(uint64_t pid, snow_terminate_fn cb);

/*
 * A pointer of the language runtime's own for the calling actor (a
 * compiler's per-actor heap, say), with destroy (may be NULL) called on
 * it once when the actor ends: after its terminate callback, on a worker
 * thread and not as the actor (destroy must not receive, sleep or
 * yield).  Setting it again replaces it; the old one is not destroyed.
 * Returns 0, or EPERM outside an actor.
 */
SNOW_API int snow_actor_set_state(void *state, void (*destroy)(void *));

/* The calling actor's state pointer; NULL if none, or outside actors. */
SNOW_API void *snow_actor_state(void);

/*
 * End actor pid with SNOW_EXIT_KILLED, which it cannot trap.  It ends at
 * its next receive, yield, sleep or spent slice (at once if it waits).
 * Returns 0, or ESRCH (not alive), EINVAL (pid 0), EPERM (not running).
 */
SNOW_API int snow_actor_kill(uint64_t pid);

/*
 * Hibernation.  While an actor waits in snow_actor_receive(-1) for longer
 * than a few tens of milliseconds, its stack may hibernate: its live
 * frames (usually a few hundred bytes) are copied to the heap, and its
 * stack is made inaccessible (PROT_NONE) and its pages given back to the
 * kernel.  A parked actor then costs well under a kilobyte instead of a
 * 4 KiB page.  The frames are copied back, to the same addresses, before
 * it runs again.
 *
 * It is on by default and safe for C code that shares its locals: if
 * another actor or thread reads or writes a hibernated actor's stack
 * (through a pointer to a local it was given), the access faults, the
 * runtime puts the stack back and the access runs again on the real
 * contents.  The one thing that cannot be intercepted: a system call
 * made with a pointer into a hibernated stack fails with EFAULT.  That
 * covers read(2) into a parent's buffer, and the futex calls behind a
 * pthread mutex, condition variable or semaphore that lives in an actor's
 * locals and is used by others (glibc may abort on that EFAULT).  An
 * actor whose stack is used that way should call snow_actor_hibernate(0)
 * first.
 *
 * on == 0 keeps the calling actor's stack in place however long it waits;
 * on != 0 allows hibernation again.  The environment variable
 * SNOW_HIBERNATE=0 makes "off" the default for every actor (1 or unset:
 * on; anything else makes snow_rt_init_actor() fail with EINVAL).
 * Returns the previous setting (0 or 1), or -1 with errno EPERM outside
 * an actor.
 */
SNOW_API int snow_actor_hibernate(int on);

/* ---- SIGSEGV and SIGBUS ----
 *
 * From snow_rt_init_actor() until snow_rt_run_scheduler() returns, the
 * runtime owns SIGSEGV and SIGBUS: its handler puts hibernated stacks
 * back when they are touched and reports actor stack overflows.
 *
 * A handler the application installed before snow_rt_init_actor() keeps
 * working: every fault that is not the runtime's is passed on to it, with
 * the signal mask it was installed with (if it was SIG_DFL or SIG_IGN,
 * the fault takes the default action and ends the process).
 *
 * A handler installed after snow_rt_init_actor() replaces the runtime's
 * and then receives the runtime's faults too.  It must call
 * snow_rt_handle_fault() first and return at once when that returns 1.
 * Install it with SA_SIGINFO | SA_ONSTACK: worker threads run fault
 * handlers on an alternate signal stack, the only place an overflow can
 * be reported from.  For example:
 *
 *	static void on_segv(int sig, siginfo_t *info, void *uc)
 *	{
 *		if (snow_rt_handle_fault(sig, info, uc))
 *			return;
 *		... the application's own handling ...
 *	}
 *
 * At shutdown snow_rt_run_scheduler() puts back the handler that was
 * installed before snow_rt_init_actor(), unless the application has
 * installed its own since: that one stays.  A later snow_rt_init_actor()
 * takes the signals again and chains to whatever is installed then.
 */

/*
 * The runtime's share of a fault, for an application's SIGSEGV or SIGBUS
 * handler: pass the handler's own three arguments (info is its
 * siginfo_t *; void * here so that this header needs no POSIX types).
 * Async-signal-safe; errno is left as it was.
 *
 * Returns 1 when the fault was the runtime's and has been dealt with: an
 * access to a hibernated stack, which is back now; return from the
 * handler and the access runs again.  An actor stack overflow is the
 * runtime's too, but never returns: the actor's PID and stack size are
 * reported on stderr and the process aborts (SIGABRT).
 * Returns 0 for any other fault, which is the application's to handle,
 * and for anything but SIGSEGV or SIGBUS, a NULL info, a fault the
 * runtime's handler is passing on to a handler installed before init,
 * or a runtime that is not running.
 */
SNOW_API int snow_rt_handle_fault(int sig, void *info, void *ucontext);

/* ---- Timers: one heap per worker, no thread per timer ---- */

/*
 * Every timeout in this header (snow_actor_receive(), snow_timer_sleep(),
 * snow_timer_send_after()) of at least this many milliseconds, about 317
 * years, means "for ever": a receive or sleep then waits with no timer at
 * all (so snow_rt_run_scheduler() may end it as blocked for ever), and a
 * message sent after it is never delivered: it is dropped at once and
 * counted in snow_rt_stats().dropped.  Any shorter timeout is a real
 * timer, which snow_rt_run_scheduler() waits for, however long.
 */
#define SNOW_TIMEOUT_FOREVER_MS	((int64_t)10000000000000)

/*
 * Park the calling actor for at least ms milliseconds; its worker runs
 * others meanwhile.  Messages do not wake it.  Outside actors the calling
 * thread sleeps.  ms <= 0 yields.
 */
SNOW_API void snow_timer_sleep(int64_t ms);

/*
 * Send a copy of msg to pid after ms milliseconds (at once if ms <= 0);
 * if pid is not alive by then the message is dropped.  A timer lives on
 * the worker the caller runs on, which fires its timers in deadline
 * order, equal deadlines in the order set: so the timers an actor sets
 * without switching in between arrive in that order.  Timers set from
 * different workers are ordered only as far as their deadlines are more
 * than a scheduling slice apart.
 * Returns 0, or an errno value as snow_actor_send().
 */
SNOW_API int snow_timer_send_after(uint64_t pid, int64_t ms,
    const void *msg, uint64_t size);

/* ---- Descriptors: waiting on I/O without blocking a worker ----
 *
 * An actor that waits on a descriptor is parked, as in a receive: its
 * worker runs other actors meanwhile.  The runtime keeps one epoll set;
 * an idle worker sleeps in it (until its next timer), busy workers look
 * at it between picks, and a runtime with no such wait makes no system
 * call for it.  Outside actors (other threads, the main thread) the same
 * calls wait in poll(2).
 *
 * Timeouts are milliseconds for the whole call, as in snow_actor_receive():
 * < 0 (or >= SNOW_TIMEOUT_FOREVER_MS) for ever, 0 never waits.  A
 * snow_rt_run_scheduler() waits for actors waiting on descriptors, even
 * with no timeout: the world outside may still wake them.
 *
 * One wait per descriptor at a time: a second actor waiting on the same
 * descriptor gets EBUSY (wait for both directions in one call instead).
 * Closing a descriptor under a waiting actor with close(2) does not wake
 * it (the kernel drops the registration without a word): close it with
 * snow_io_close(), which wakes the waiter with EBADF first.
 */
#define SNOW_IO_READ	0x1u	/* readable, or a peer's end of stream */
#define SNOW_IO_WRITE	0x2u	/* writable */
#define SNOW_IO_ERROR	0x4u	/* reported always: an error is pending */
#define SNOW_IO_HUP	0x8u	/* reported always: hang-up, peer gone */

/*
 * Wait until fd is ready for events (SNOW_IO_READ, SNOW_IO_WRITE or
 * both) or ms have passed.  Returns the events that are ready (SNOW_IO_*,
 * never 0), exactly one report per wait; or -1 with errno: ETIMEDOUT,
 * EAGAIN (ms 0 and not ready), EBADF (fd not open, or closed with
 * snow_io_close() meanwhile), EINVAL (events 0 or unknown bits), EBUSY
 * (another actor waits on fd), ENOMEM, EMFILE (the epoll set could not
 * be made), ENOTSUP (an address layout the poller cannot name).  A
 * regular file is always ready, as for poll(2).  An actor killed while it
 * waits ends at once; the readiness it waited for is not taken from fd.
 */
SNOW_API int snow_io_wait(int fd, uint32_t events, int64_t ms);

/*
 * read(2), send-side write(2), accept4(2) and connect(2) for non-blocking
 * descriptors, waiting through snow_io_wait() while the call would block
 * (EAGAIN, EINPROGRESS), at most ms in all.  Errors are those calls' and
 * snow_io_wait()'s, in errno.
 *
 * snow_io_read() returns what one read(2) got (0 at end of stream).
 * snow_io_write() writes all len bytes: returns len, or -1 if it wrote
 * nothing, or the bytes it wrote (fewer than len) with errno saying why
 * it stopped; on a socket it sends with MSG_NOSIGNAL, so a peer gone is
 * EPIPE, never a SIGPIPE.  snow_io_accept() returns the new descriptor, non-blocking
 * and close-on-exec.  snow_io_connect() returns 0 once connected.
 */
SNOW_API ssize_t snow_io_read(int fd, void *buf, size_t len, int64_t ms);
SNOW_API ssize_t snow_io_write(int fd, const void *buf, size_t len,
    int64_t ms);
SNOW_API int snow_io_accept(int fd, struct sockaddr *addr, socklen_t *addrlen,
    int64_t ms);
SNOW_API int snow_io_connect(int fd, const struct sockaddr *addr,
    socklen_t addrlen, int64_t ms);

/*
 * Wake the actor waiting on fd, if one is (its wait fails with EBADF),
 * then close(2) fd.  Returns close(2)'s result.
 */
SNOW_API int snow_io_close(int fd);

/* ---- Blocking calls ----
 *
 * For what blocks and has no descriptor to wait on: file I/O, a DNS
 * lookup, a C library that sleeps.  The call runs on a pool of threads
 * beside the workers while the calling actor parks, as the Erlang VM's
 * dirty I/O schedulers and Tokio's spawn_blocking do.  The pool starts
 * threads as calls find none idle, up to SNOW_BLOCKING_THREADS (read at
 * init: 1 to 1024, default 16); past that, calls queue, and are never
 * refused or lost.  snow_rt_run_scheduler() waits for them, as it waits
 * for the actors that made them.
 */
typedef void *(*snow_blocking_fn)(void *arg);

/*
 * Run fn(arg) on a pool thread and park until it returns; store what it
 * returned in *result (if result is not NULL).  fn may use the caller's
 * stack through arg: the caller stays parked until fn returns, even if it
 * is killed meanwhile (it then ends as soon as fn has returned), and it
 * does not hibernate.  Outside actors fn runs on the calling thread.
 * Returns 0, or EINVAL (fn NULL), EAGAIN (no pool thread could be
 * started, and none runs).
 */
SNOW_API int snow_blocking(snow_blocking_fn fn, void *arg, void **result);

/* ---- Names ---- */

/* Longest name snow_actor_register() accepts, in bytes. */
#define SNOW_NAME_MAX 255

/*
 * Give the calling actor a name (len bytes, any bytes, not NUL-terminated
 * necessarily) until it ends.  An actor has at most one name.
 * Returns 0, or EINVAL (name NULL, len 0 or > SNOW_NAME_MAX), EEXIST (a
 * live actor has it), EALREADY (the caller already has a name), ENOMEM,
 * EPERM (not called from an actor).
 */
SNOW_API int snow_actor_register(const char *name, uint64_t len);

/*
 * The PID registered under name, or 0 with errno: ESRCH (no live actor
 * has it), EINVAL (bad name, as above), EPERM (the runtime is not running).
 */
SNOW_API uint64_t snow_actor_whereis(const char *name, uint64_t len);

/* ---- Introspection ----
 *
 * As erlang:process_info/2 and processes/0: a snapshot of an actor, and
 * the PIDs of all.  Callable from any thread while the runtime runs.  A
 * snapshot is consistent for what others do to the actor (messages sent,
 * links, monitors on it: read under the lock they take); what the actor
 * does itself (its state, its reductions) may be a moment old.
 */
enum snow_proc_state {
	SNOW_PROC_RUNNABLE = 0,	/* queued for a worker */
	SNOW_PROC_RUNNING = 1,	/* on a worker now */
	SNOW_PROC_WAITING = 2,	/* parked: a receive, a sleep, a mute */
	SNOW_PROC_EXITING = 3	/* running its terminate callback */
};

struct snow_process_info {
	uint64_t pid;
	uint8_t state;		/* enum snow_proc_state */
	uint8_t priority;	/* enum snow_priority */
	uint8_t trap_exit;	/* 1 when it traps exits */
	uint8_t hibernated;	/* 1 when its stack is given back */
	uint64_t mailbox_len;	/* messages in its mailbox, skipped ones too */
	uint64_t reductions;	/* reduction checks of its slices so far */
	uint64_t links;		/* actors it is linked to */
	uint64_t monitors;	/* monitors it holds */
	uint64_t monitored_by;	/* monitors held on it */
	char name[SNOW_NAME_MAX + 1];	/* its registered name, or "" */
};

/* Fill *info for actor pid.  Returns 0, or ESRCH (not an actor alive, the
 * main process included), EINVAL (info NULL), EPERM (not running). */
SNOW_API int snow_process_info(uint64_t pid, struct snow_process_info *info);

/*
 * The PIDs of every actor alive, up to max of them into pids (in no
 * order; actors spawned or ending meanwhile may or may not be there).
 * Returns how many there were, which may be more than max: call again
 * with room for that many.  0 with errno EPERM when the runtime is not
 * running, EINVAL when pids is NULL with max > 0.
 */
SNOW_API uint64_t snow_process_list(uint64_t *pids, uint64_t max);

/*
 * errno of the calling thread, read through a call the compiler cannot
 * fold.  Use it in actor code after any call that may switch (receive,
 * sleep, yield, snow_reduction_check): glibc declares __errno_location()
 * const, so a compiler may compute errno's address once per function, and
 * an actor may have resumed on another worker thread since; a plain errno
 * read would then see the errno of the thread it left.
 */
SNOW_API int snow_errno(void);

/* ---- The function table ----
 *
 * Every compiled Snow main registers each of its top-level functions by
 * name, so that an actor can be spawned by name (from another node, once
 * there is distribution).  The table belongs to the process: it works
 * before snow_rt_init_actor() and after shutdown, and never forgets.
 */

/* Longest function name, in bytes. */
#define SNOW_FUNCTION_NAME_MAX	1024

/*
 * Record fn under the len bytes at name (any bytes; not NUL-terminated).
 * Any thread, any time.  Returns 0 (also when name already has this fn),
 * or EINVAL (name NULL, len 0 or above SNOW_FUNCTION_NAME_MAX, fn NULL),
 * EEXIST (name has another function: the first one stays), ENOMEM.
 */
SNOW_API int snow_register_function(const char *name, uint64_t len,
    void *fn);

/* The function registered under name, or NULL with errno ESRCH (none)
 * or EINVAL (as above). */
SNOW_API void *snow_function_lookup(const char *name, uint64_t len);

/* Counters of the running runtime, or of the last one after shutdown. */
struct snow_rt_stats {
	uint64_t spawned;	/* actors created */
	uint64_t exited;	/* actors that ran to completion */
	uint64_t switches;	/* slices run: switches into actors, and
				 * yields that went on, nothing else to run */
	uint64_t preemptions;	/* slices ended by snow_reduction_check() */
	uint64_t steals;	/* actors taken from another worker's deque */
	uint64_t stacks_mapped;	/* stacks ever mapped (the rest were reused) */
	uint32_t workers;	/* worker threads */
	uint32_t workers_used;	/* workers that ran at least one actor */
	uint64_t sent;		/* messages delivered to a mailbox */
	uint64_t dropped;	/* messages to PIDs that were not alive */
	uint64_t blocked_ended;	/* actors ended because they waited for ever */
	uint64_t hibernations;	/* times a parked actor's stack was given back */
	uint64_t mutes;		/* sends after which backpressure descheduled
				 * the sending actor (SNOW_MAILBOX_LIMIT) */
};

/* Fill *out; returns 0, or EINVAL when out is NULL. */
SNOW_API int snow_rt_stats(struct snow_rt_stats *out);

#ifdef __cplusplus
}
#endif

#endif /* SNOW_RUNTIME_H */
