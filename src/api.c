/*
 * The public entry points: argument checks, errno, and the thin layer
 * over the scheduler.  Everything else is hidden.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <sched.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <snow/runtime.h>

#include "actor.h"
#include "lifecycle.h"
#include "monitor.h"
#include "service.h"
#include "scheduler.h"

/* Serialises init and shutdown; spawns do not take it. */
static pthread_mutex_t api_lock = PTHREAD_MUTEX_INITIALIZER;
static SN_TLS uint64_t tls_main_pid;
/* This thread holds api_lock: a signal handler calling init or run here
 * would wait for itself. */
static SN_TLS bool tls_in_lifecycle;

/*
 * A child forked while the runtime runs has a copy of its memory but none
 * of its worker threads, and maybe locks that they held: the runtime is
 * not running there.  Every call fails as before init (EPERM), and init
 * with ENOTRECOVERABLE: the copied state cannot be taken over, nor safely
 * freed.  A child that wants actors execs a program that starts its own.
 */
static bool forked_child;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static void
atfork_child(void)
{
	if (atomic_load(&sn_rt.state) == SN_RT_DOWN)
		return;
	forked_child = true;
	atomic_store(&sn_rt.state, SN_RT_DOWN);
	tls_in_lifecycle = false;
	pthread_mutex_init(&api_lock, NULL);
}

static void
atfork_register(void)
{
	(void)pthread_atfork(NULL, NULL, atfork_child);
}

#define SN_STACK_MIN	(16u * 1024)
#define SN_STACK_MAX	(1024u * 1024 * 1024)

/*
 * errno from a function of its own: __errno_location() is declared const,
 * and a caller that switched stacks in between must not reuse the address
 * it computed on another thread.
 */
void
sn_thread_name(const char *fmt, unsigned n)
{
	char name[16];

	(void)snprintf(name, sizeof(name), fmt, n);
	(void)pthread_setname_np(pthread_self(), name);
}

SN_NOINLINE void
sn_set_errno(int err)
{
	errno = err;
}

static bool
in_actor(void)
{
	struct sn_worker *w = sn_worker_self();

	return w != NULL && w->current != NULL;
}

static unsigned
cpus_online(void)
{
	cpu_set_t set;
	long n;

	if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0)
		return (unsigned)CPU_COUNT(&set);
	n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (unsigned)n : 1;
}

/* SNOW_STACK_SIZE: bytes, or with a K or M suffix. */
static int
stack_size_from_env(size_t *out)
{
	const char *s = getenv("SNOW_STACK_SIZE");
	unsigned long long v, unit = 1;
	char *end;

	*out = SNOW_DEFAULT_STACK_SIZE;
	if (s == NULL || *s == '\0')
		return 0;
	/* strtoull() would take "-1" as a huge number, and " 64K" too. */
	if (*s < '0' || *s > '9')
		return EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0)
		return EINVAL;
	if (*end == 'k' || *end == 'K')
		unit = 1024;
	else if (*end == 'm' || *end == 'M')
		unit = 1024 * 1024;
	if (unit != 1)
		end++;
	/* Bounded before the multiplication, which must not wrap. */
	if (*end != '\0' || v > SN_STACK_MAX / unit)
		return EINVAL;
	v *= unit;
	if (v < SN_STACK_MIN)
		return EINVAL;
	*out = (size_t)v;
	return 0;
}

int
snow_rt_init_actor(uint32_t num_schedulers)
{
	size_t stack_size;
	int err;

	if (in_actor() || tls_in_lifecycle)
		return EDEADLK;
	if (num_schedulers > SNOW_MAX_SCHEDULERS)
		return EINVAL;
	if (forked_child)
		return ENOTRECOVERABLE;
	pthread_once(&atfork_once, atfork_register);
	pthread_mutex_lock(&api_lock);
	if (atomic_load(&sn_rt.state) == SN_RT_RUNNING) {
		pthread_mutex_unlock(&api_lock);
		return 0;
	}
	tls_in_lifecycle = true;
	err = stack_size_from_env(&stack_size);
	if (err == 0)
		err = sn_sched_start(num_schedulers ? num_schedulers :
		    cpus_online(), cpus_online(), stack_size);
	if (err == 0)
		tls_main_pid = atomic_load(&sn_rt.main_pid);
	tls_in_lifecycle = false;
	pthread_mutex_unlock(&api_lock);
	return err;
}

int
snow_rt_run_scheduler(void)
{
	int err;

	if (in_actor() || tls_in_lifecycle)
		return EDEADLK;
	if (forked_child)
		return EPERM;
	pthread_mutex_lock(&api_lock);
	if (atomic_load(&sn_rt.state) != SN_RT_RUNNING) {
		pthread_mutex_unlock(&api_lock);
		return EPERM;
	}
	tls_in_lifecycle = true;
	err = sn_sched_stop();
	tls_main_pid = 0;
	tls_in_lifecycle = false;
	pthread_mutex_unlock(&api_lock);
	return err;
}

uint64_t
snow_actor_spawn(snow_actor_fn fn, const void *args, uint64_t args_size,
    uint8_t priority)
{
	if (fn == NULL || priority > SNOW_PRIO_LOW ||
	    (args == NULL && args_size != 0)) {
		errno = EINVAL;
		return 0;
	}
	/* The scheduler checks it against the running runtime's stack size:
	 * read here, that could be a runtime starting or stopping. */
	if (args_size > SN_STACK_MAX) {
		errno = EINVAL;
		return 0;
	}
	return sn_sched_spawn(fn, args, args_size, priority);
}

uint64_t
snow_actor_self(void)
{
	struct sn_worker *w = sn_worker_self();

	if (w != NULL && w->current != NULL)
		return w->current->pid;
	if (tls_main_pid != 0 && tls_main_pid == atomic_load_explicit(
	    &sn_rt.main_pid, memory_order_relaxed) &&
	    atomic_load(&sn_rt.state) != SN_RT_DOWN)
		return tls_main_pid;
	return 0;
}

void
snow_reduction_check(void)
{
	if (sn_likely(--sn_budget > 0))
		return;
	sn_budget_spent();
}

void
snow_actor_yield(void)
{
	sn_sched_yield();
}

int
snow_rt_stats(struct snow_rt_stats *out)
{
	if (out == NULL)
		return EINVAL;
	sn_sched_stats(out);
	return 0;
}

/* ---- Messages, links, timers, names ---- */

static int
msg_check(const void *msg, uint64_t size)
{
	if (msg == NULL && size != 0)
		return EINVAL;
	if (size > SNOW_MSG_MAX)
		return EINVAL;
	return 0;
}

/* A send from any thread, counted as outside when not in an actor. */
static inline __attribute__((always_inline)) int
send_any(uint64_t pid, uint64_t tag, const void *msg, uint64_t size)
{
	int err = msg_check(msg, size);
	struct sn_proc *self;

	if (err != 0)
		return err;
	/* An actor's send may be muted by backpressure; nobody else's. */
	if ((self = sn_sched_current()) != NULL)
		return sn_actor_send(self, pid, tag, msg, size);
	if ((err = sn_sched_outside_enter()) != 0)
		return err;
	err = sn_actor_send(NULL, pid, tag, msg, size);
	sn_sched_outside_leave();
	return err;
}

int
snow_actor_send(uint64_t pid, const void *msg, uint64_t size)
{
	return send_any(pid, SNOW_MSG_DATA, msg, size);
}

int
snow_actor_send_tag(uint64_t pid, uint64_t tag, const void *msg,
    uint64_t size)
{
	if (tag < SNOW_MSG_USER)
		return EINVAL;
	return send_any(pid, tag, msg, size);
}

/*
 * The process of the calling thread: the running actor, or on the thread
 * that called init the main process (mainproc.h); NULL elsewhere.
 */
static struct sn_proc *
caller_process(void)
{
	struct sn_proc *self = sn_sched_current();

	if (self != NULL)
		return self;
	if (tls_main_pid != 0 && atomic_load(&sn_rt.state) == SN_RT_RUNNING &&
	    tls_main_pid == atomic_load_explicit(&sn_rt.main_pid,
	    memory_order_relaxed))
		return sn_rt.main_proc;
	return NULL;
}

/*
 * Calls of the main process run as a thread outside the runtime (see
 * spawn.c): counted in outside_busy, and refused with EDEADLK from a
 * signal handler that interrupted one, which might hold a lock it needs.
 */
static int
main_enter(const struct sn_proc *self)
{
	return self->on_thread ? sn_sched_outside_enter() : 0;
}

static void
main_leave(const struct sn_proc *self)
{
	if (self->on_thread)
		sn_sched_outside_leave();
}

/*
 * The caller of a receive, or NULL with errno set: EPERM outside an
 * actor and the main thread, EBUSY inside a selective receive's match
 * function (whose message and list a receive there would pull from
 * under it).
 */
static struct sn_proc *
receiver(void)
{
	struct sn_proc *self = caller_process();

	if (self == NULL) {
		sn_set_errno(EPERM);
		return NULL;
	}
	if (sn_unlikely(self->matching)) {
		sn_set_errno(EBUSY);
		return NULL;
	}
	return self;
}

/* What a receive hands out: the public view of m, or NULL and errno. */
static const void *
handed_out(const struct sn_msg *m, int err)
{
	if (m == NULL) {
		sn_set_errno(err);
		return NULL;
	}
	return &m->tag;
}

/* snow_actor_receive() off its fast path: the main thread, and errors. */
static SN_NOINLINE const void *
receive_slow(int64_t timeout_ms)
{
	struct sn_proc *self = receiver();
	const struct sn_msg *m;
	int err = 0;

	if (self == NULL)
		return NULL;
	if ((err = main_enter(self)) != 0)
		return handed_out(NULL, err);
	m = sn_actor_receive(self, timeout_ms);
	err = errno;
	main_leave(self);
	return handed_out(m, err);
}

const void *
snow_actor_receive(int64_t timeout_ms)
{
	struct sn_proc *self = sn_sched_current();
	const struct sn_msg *m;

	/* An actor, not in a match function: what compiled code does. */
	if (sn_unlikely(self == NULL || self->matching))
		return receive_slow(timeout_ms);
	m = sn_actor_receive(self, timeout_ms);	/* errno set if NULL */
	return m != NULL ? &m->tag : NULL;
}

/* snow_actor_receive_match()'s function and context, as one context. */
struct match_call {
	snow_match_fn fn;
	void *ctx;
};

static bool
match_by_call(const struct sn_msg *m, void *ctx)
{
	const struct match_call *call = ctx;

	return call->fn((const struct snow_msg *)&m->tag, call->ctx) != 0;
}

const void *
snow_actor_receive_match(snow_match_fn match, void *ctx,
    int64_t timeout_ms)
{
	struct match_call call = { match, ctx };
	struct sn_proc *self = receiver();
	const struct sn_msg *m;
	int err = 0;

	if (self == NULL)
		return NULL;
	if (match == NULL) {
		sn_set_errno(EINVAL);
		return NULL;
	}
	if ((err = main_enter(self)) != 0)
		return handed_out(NULL, err);
	m = sn_actor_receive_match(self, match_by_call, &call, timeout_ms,
	    &err);
	main_leave(self);
	return handed_out(m, err);
}

/* snow_actor_receive_tag() and _key(): what the message must carry. */
struct match_key {
	uint64_t tag;
	uint64_t key;
	bool by_key;		/* the body must start with key */
};

static bool
match_by_key(const struct sn_msg *m, void *ctx)
{
	const struct match_key *want = ctx;
	uint64_t first;

	if (m->tag != want->tag)
		return false;
	if (!want->by_key)
		return true;
	if (m->len < sizeof(first))
		return false;
	memcpy(&first, m->data, sizeof(first));
	return first == want->key;
}

static const void *
receive_key(struct match_key *want, int64_t timeout_ms)
{
	struct sn_proc *self = receiver();
	const struct sn_msg *m;
	int err = 0;

	if (self == NULL)
		return NULL;
	if ((err = main_enter(self)) != 0)
		return handed_out(NULL, err);
	m = sn_actor_receive_match(self, match_by_key, want, timeout_ms, &err);
	main_leave(self);
	return handed_out(m, err);
}

const void *
snow_actor_receive_tag(uint64_t tag, int64_t timeout_ms)
{
	struct match_key want = { .tag = tag };

	return receive_key(&want, timeout_ms);
}

const void *
snow_actor_receive_key(uint64_t tag, uint64_t key, int64_t timeout_ms)
{
	struct match_key want = { .tag = tag, .key = key, .by_key = true };

	return receive_key(&want, timeout_ms);
}

uint64_t
snow_process_monitor(uint64_t pid)
{
	struct sn_proc *self = caller_process();
	uint64_t ref;
	int err = 0;

	if (self == NULL) {
		sn_set_errno(EPERM);
		return 0;
	}
	if (pid == 0) {
		sn_set_errno(EINVAL);
		return 0;
	}
	if ((err = main_enter(self)) != 0) {
		sn_set_errno(err);
		return 0;
	}
	ref = sn_actor_monitor(self, pid, &err);
	main_leave(self);
	if (ref == 0)
		sn_set_errno(err);
	return ref;
}

uint64_t
snow_process_demonitor(uint64_t ref)
{
	struct sn_proc *self = caller_process();
	int err;

	if (self == NULL) {
		sn_set_errno(EPERM);
		return 1;
	}
	if ((err = main_enter(self)) == 0) {
		err = sn_demonitor(self, ref);
		main_leave(self);
	}
	if (err != 0) {
		sn_set_errno(err);
		return 1;
	}
	return 0;
}

const void *
snow_service_call_timeout(uint64_t pid, uint64_t tag, const void *payload,
    uint64_t size, int64_t timeout_ms)
{
	struct sn_proc *self;
	const struct sn_msg *m;
	int err = 0;

	if ((payload == NULL && size != 0) ||
	    size > SNOW_MSG_MAX - 2 * sizeof(uint64_t)) {
		sn_set_errno(EINVAL);
		return NULL;
	}
	if ((self = receiver()) == NULL)
		return NULL;
	if ((err = main_enter(self)) != 0)
		return handed_out(NULL, err);
	m = sn_service_call(self, pid, tag, payload, size, timeout_ms, &err);
	main_leave(self);
	return handed_out(m, err);
}

const void *
snow_service_call(uint64_t pid, uint64_t tag, const void *payload,
    uint64_t size)
{
	return snow_service_call_timeout(pid, tag, payload, size, -1);
}

int
snow_service_reply(uint64_t caller, const void *reply, uint64_t size)
{
	struct sn_proc *self = caller_process();
	int err = msg_check(reply, size);

	if (err != 0)
		return err;
	if (self != NULL && sn_sched_current() != NULL)
		return sn_service_reply(self, caller, reply, size);
	if ((err = sn_sched_outside_enter()) != 0)
		return err;
	err = sn_service_reply(self, caller, reply, size);
	sn_sched_outside_leave();
	return err;
}

uint64_t
snow_job_async(snow_job_fn fn, void *env)
{
	struct sn_proc *self = caller_process();

	if (fn == NULL) {
		sn_set_errno(EINVAL);
		return 0;
	}
	if (self == NULL) {
		sn_set_errno(EPERM);
		return 0;
	}
	return sn_job_async(self, fn, env);
}

const void *
snow_job_await_timeout(uint64_t job, int64_t timeout_ms)
{
	struct sn_proc *self = receiver();
	const struct sn_msg *m;
	int err = 0;

	if (self == NULL)
		return NULL;
	if ((err = main_enter(self)) != 0)
		return handed_out(NULL, err);
	m = sn_job_await(self, job, timeout_ms, &err);
	main_leave(self);
	return handed_out(m, err);
}

const void *
snow_job_await(uint64_t job)
{
	return snow_job_await_timeout(job, -1);
}

int
snow_process_info(uint64_t pid, struct snow_process_info *info)
{
	int err;

	if (info == NULL)
		return EINVAL;
	if (in_actor())
		return sn_process_info(pid, info);
	if ((err = sn_sched_outside_enter()) != 0)
		return err;
	err = sn_process_info(pid, info);
	sn_sched_outside_leave();
	return err;
}

uint64_t
snow_process_list(uint64_t *pids, uint64_t max)
{
	uint64_t n;

	if (pids == NULL && max != 0) {
		sn_set_errno(EINVAL);
		return 0;
	}
	if (in_actor())
		return sn_process_list(pids, (size_t)max);
	if (sn_sched_outside_enter() != 0) {
		sn_set_errno(EPERM);
		return 0;
	}
	n = sn_process_list(pids, (size_t)max);
	sn_sched_outside_leave();
	return n;
}

int
snow_actor_link(uint64_t pid)
{
	struct sn_proc *self = sn_sched_current();

	if (self == NULL)
		return EPERM;
	if (pid == 0)
		return EINVAL;
	return sn_actor_link(self, pid);
}

int
snow_actor_unlink(uint64_t pid)
{
	struct sn_proc *self = sn_sched_current();

	if (self == NULL)
		return EPERM;
	return sn_actor_unlink(self, pid);
}

int
snow_actor_trap_exit(void)
{
	struct sn_proc *self = sn_sched_current();

	if (self == NULL)
		return EPERM;
	(void)sn_actor_trap(self, 1);
	return 0;
}

int
snow_actor_set_trap_exit(int on)
{
	struct sn_proc *self = sn_sched_current();

	if (self == NULL) {
		sn_set_errno(EPERM);
		return -1;
	}
	return sn_actor_trap(self, on);
}

int
snow_actor_exit(uint64_t pid, uint8_t reason)
{
	struct sn_proc *self = sn_sched_current();
	int err;

	if (pid == 0 || reason > SNOW_EXIT_REASON_MAX)
		return EINVAL;
	if (self != NULL) {
		if (pid == self->pid)
			sn_sched_exit(self, reason);
		return sn_actor_exit_signal(pid, self->pid, reason);
	}
	if ((err = sn_sched_outside_enter()) != 0)
		return err;
	err = sn_actor_exit_signal(pid, snow_actor_self(), reason);
	sn_sched_outside_leave();
	return err;
}

int
snow_actor_set_terminate(uint64_t pid, snow_terminate_fn cb)
{
	int err;

	if (pid == 0)
		return EINVAL;
	if (sn_sched_current() != NULL)
		return sn_actor_set_terminate(pid, cb, false);
	if ((err = sn_sched_outside_enter()) != 0)
		return err;
	err = sn_actor_set_terminate(pid, cb, false);
	sn_sched_outside_leave();
	return err;
}

int
snow_actor_set_state(void *state, void (*destroy)(void *))
{
	struct sn_proc *self = sn_sched_current();
	struct sn_rare *r;

	if (self == NULL)
		return EPERM;
	if (state == NULL && destroy == NULL && sn_rare_get(self) == NULL)
		return 0;		/* none to clear */
	if ((r = sn_rare_make(self)) == NULL)
		return ENOMEM;
	r->rt_state = state;
	r->rt_state_free = destroy;
	return 0;
}

void *
snow_actor_state(void)
{
	struct sn_proc *self = sn_sched_current();
	struct sn_rare *r = self != NULL ? sn_rare_get(self) : NULL;

	return r != NULL ? r->rt_state : NULL;
}

int
snow_actor_kill(uint64_t pid)
{
	return snow_actor_exit(pid, SNOW_EXIT_KILLED);
}

void
snow_timer_sleep(int64_t ms)
{
	struct sn_proc *self = sn_sched_current();
	struct timespec ts;

	if (self != NULL) {
		if (ms <= 0)
			sn_sched_yield();
		else
			sn_actor_sleep(self, ms);
		return;
	}
	if (ms <= 0)
		return;
	ts.tv_sec = (time_t)(ms / 1000);
	ts.tv_nsec = (long)(ms % 1000) * 1000000;
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/*
 * A message due after SNOW_TIMEOUT_FOREVER_MS is never delivered: drop
 * it now, counted as dropped, rather than keep a timer that would hold
 * shutdown for ever.
 */
static int
send_never(uint64_t pid)
{
	int err;

	(void)pid;
	if (in_actor()) {
		sn_sched_count_send(0);
		return 0;
	}
	if ((err = sn_sched_outside_enter()) != 0)
		return err;
	sn_sched_count_send(0);
	sn_sched_outside_leave();
	return 0;
}

int
snow_timer_send_after(uint64_t pid, int64_t ms, const void *msg,
    uint64_t size)
{
	int err = msg_check(msg, size);

	if (err != 0)
		return err;
	if (ms <= 0)
		return snow_actor_send(pid, msg, size);
	if (ms >= SNOW_TIMEOUT_FOREVER_MS)
		return send_never(pid);
	if (in_actor())
		return sn_actor_send_after(pid, ms, msg, size);
	if ((err = sn_sched_outside_enter()) != 0)
		return err;
	err = sn_actor_send_after(pid, ms, msg, size);
	sn_sched_outside_leave();
	return err;
}

static int
name_check(const char *name, uint64_t len)
{
	return name == NULL || len == 0 || len > SNOW_NAME_MAX ? EINVAL : 0;
}

int
snow_actor_register(const char *name, uint64_t len)
{
	struct sn_proc *self = sn_sched_current();

	if (name_check(name, len) != 0)
		return EINVAL;
	if (self == NULL)
		return EPERM;
	return sn_actor_register(self, name, (size_t)len);
}

uint64_t
snow_actor_whereis(const char *name, uint64_t len)
{
	uint64_t pid;
	int err;

	if ((err = name_check(name, len)) != 0) {
		sn_set_errno(err);
		return 0;
	}
	if (in_actor()) {
		pid = sn_actor_whereis(name, (size_t)len);
	} else {
		if ((err = sn_sched_outside_enter()) != 0) {
			sn_set_errno(err);
			return 0;
		}
		pid = sn_actor_whereis(name, (size_t)len);
		sn_sched_outside_leave();
	}
	if (pid == 0)
		sn_set_errno(ESRCH);
	return pid;
}

/* Out of line even under link-time optimisation: that is its point. */
SN_NOINLINE int
snow_errno(void)
{
	return errno;
}

int
snow_actor_hibernate(int on)
{
	struct sn_proc *self = sn_sched_current();

	if (self == NULL) {
		sn_set_errno(EPERM);
		return -1;
	}
	return atomic_exchange_explicit(&self->hib_ok, on != 0,
	    memory_order_relaxed);
}
