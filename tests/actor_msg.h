/*
 * What the message-passing tests share (check_messaging.c, and
 * check_receive_wait.c, check_misuse.c, check_timers.c,
 * check_link_basics.c, check_names.c and check_hibernate_frames.c, split
 * from it): failures recorded in actors, actor-side wrappers that record
 * instead of asserting, orchestration messages, and polls with a bound.
 *
 * Each test starts and stops its own runtime, so the suites also pass
 * with CK_FORK=no, where every test runs in one process one after
 * another.
 *
 * Actors and helper threads never call ck_assert, which may only fail in
 * the test's own thread: they record failures with A_CHECK(), and the test
 * checks them (assert_no_fails()) once the runtime has stopped or the
 * thread has been joined.  Where an actor waits for a message that a
 * broken runtime might lose, it waits for ever (the runtime then ends it
 * as blocked, which a later assertion catches) or at most WAIT_MS.
 *
 * Include after config.h and <check.h>.  Functions are static inline (or marked unused),
 * so a test that uses only some of them builds without warnings.
 */
#ifndef SN_TESTS_ACTOR_MSG_H
#define SN_TESTS_ACTOR_MSG_H

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <snow/runtime.h>

#include "actor_check.h"
#include "snow_ok.h"
#include "test_env.h"

/* Longest an orchestrating actor waits for a message that must come. */
#define WAIT_MS 20000

/* Poll until *flag reaches at least want, for at most 10 s; its value. */
static inline int
wait_flag(_Atomic int *flag, int want)
{
	double end = now() + 10.0;
	int v;

	while ((v = atomic_load(flag)) < want && now() < end)
		usleep(1000);
	return v;
}

/*
 * errno in actors.  An actor may resume on another worker thread after any
 * call that parks it, and GCC computes errno's address (glibc declares
 * __errno_location() const) once per function: a plain errno read after
 * such a call may read the errno of the thread the actor left.  Actor code
 * in these files goes through these two, which the compiler cannot fold, as
 * the header tells actor code to (snow_errno() is the runtime's own such
 * read, checked by snow_errno_after_a_move_to_another_worker).
 */
#if defined(__GNUC__) && !defined(__clang__)
#define NOFOLD __attribute__((noinline, noipa, unused))
#else
#define NOFOLD __attribute__((noinline, unused))
#endif

static NOFOLD int
a_errno(void)
{
	return errno;
}

static NOFOLD void
a_set_errno(int v)
{
	errno = v;
}

/* The calling thread, read afresh (pthread_self() is declared const). */
static NOFOLD unsigned long
current_thread(void)
{
	return (unsigned long)pthread_self();
}

/* ---- helpers for actors (no ck_assert there) ---- */

static inline uint64_t
a_spawn(snow_actor_fn fn, const void *args, uint64_t size)
{
	uint64_t pid = snow_actor_spawn(fn, args, size, SNOW_PRIO_NORMAL);

	A_CHECK(pid != 0, "snow_actor_spawn in an actor: %s",
	    strerror(a_errno()));
	return pid;
}

static inline void
a_send(uint64_t pid, const void *msg, uint64_t size)
{
	int err = snow_actor_send(pid, msg, size);

	A_CHECK(err == 0, "snow_actor_send(%" PRIu64 ", %" PRIu64 " bytes): %s",
	    pid, size, strerror(err));
}

static inline void
a_link(uint64_t pid)
{
	int err = snow_actor_link(pid);

	A_CHECK(err == 0, "snow_actor_link(%" PRIu64 "): %s", pid,
	    strerror(err));
}

/*
 * The next message, which must be a data message of size bytes: a pointer
 * to its bytes, or NULL with a failure recorded.
 */
static inline const void *
a_recv_data(int64_t timeout_ms, uint64_t size)
{
	const struct snow_msg *m = snow_actor_receive(timeout_ms);

	if (m == NULL) {
		actor_fail("snow_actor_receive(%" PRId64 ") in actor %" PRIu64
		    ": NULL, %s", timeout_ms, snow_actor_self(),
		    strerror(a_errno()));
		return NULL;
	}
	if (m->tag != SNOW_MSG_DATA || m->len != size) {
		actor_fail("actor %" PRIu64 " expected a data message of %"
		    PRIu64 " bytes, got tag %" PRIu64 " len %" PRIu64,
		    snow_actor_self(), size, m->tag, m->len);
		return NULL;
	}
	return m->data;
}

/* The next message, which must be a SNOW_MSG_EXIT; false if not. */
static inline bool
a_recv_exit(int64_t timeout_ms, struct snow_exit_msg *out)
{
	const struct snow_msg *m = snow_actor_receive(timeout_ms);

	if (m == NULL) {
		actor_fail("actor %" PRIu64 " waited for an exit message: "
		    "NULL, %s", snow_actor_self(), strerror(a_errno()));
		return false;
	}
	if (m->tag != SNOW_MSG_EXIT || m->len != sizeof(*out)) {
		actor_fail("actor %" PRIu64 " expected an exit message of %zu "
		    "bytes, got tag %" PRIu64 " len %" PRIu64,
		    snow_actor_self(), sizeof(*out), m->tag, m->len);
		return false;
	}
	memcpy(out, m->data, sizeof(*out));
	return true;
}

/* Orchestration messages. */
enum cmd_kind {
	CMD_READY = 1,
	CMD_GO,
	CMD_PEER_DEAD,
	CMD_STOP,
	CMD_VALUE
};

struct cmd {
	uint64_t kind;
	uint64_t a;
	uint64_t b;
};

static inline void
a_send_cmd(uint64_t pid, uint64_t kind, uint64_t a, uint64_t b)
{
	struct cmd c = { kind, a, b };

	a_send(pid, &c, sizeof(c));
}

/* The next message must be a cmd of this kind; false if not. */
static inline bool
a_recv_cmd(int64_t timeout_ms, uint64_t kind, struct cmd *out)
{
	const void *p = a_recv_data(timeout_ms, sizeof(*out));

	if (p == NULL)
		return false;
	memcpy(out, p, sizeof(*out));
	if (out->kind != kind) {
		actor_fail("actor %" PRIu64 " expected command %" PRIu64
		    ", got %" PRIu64, snow_actor_self(), kind, out->kind);
		return false;
	}
	return true;
}

/* Expect the exit message {pid, reason} next. */
static inline void
a_expect_exit(int64_t timeout_ms, uint64_t pid, uint64_t reason)
{
	struct snow_exit_msg e;

	if (!a_recv_exit(timeout_ms, &e))
		return;
	A_CHECK(e.pid == pid && e.reason == reason,
	    "actor %" PRIu64 " got exit {pid %" PRIu64 ", reason %" PRIu64
	    "}, expected {pid %" PRIu64 ", reason %" PRIu64 "}",
	    snow_actor_self(), e.pid, e.reason, pid, reason);
}

/* The next message must be a u64 data message of value want. */
static inline bool
recv_u64_is(int64_t timeout_ms, uint64_t want, const char *what)
{
	const void *p = a_recv_data(timeout_ms, sizeof(uint64_t));
	uint64_t v;

	if (p == NULL)
		return false;
	memcpy(&v, p, sizeof(v));
	A_CHECK(v == want, "%s: got %" PRIu64 ", expected %" PRIu64, what, v,
	    want);
	return v == want;
}

/* A PID that no actor of these tests ever gets. */
#define NEVER_USED_PID ((uint64_t)1 << 60)

/*
 * Note which thread the caller runs on, then hold that worker until the
 * peer runs too (at most 1 s): the peer must start on the other worker.
 */
struct apart {
	_Atomic unsigned long thread[2];
	_Atomic double started[2];
};

static inline void
spin_apart(struct apart *ap, int me)
{
	/* valgrind runs one thread at a time, in long turns. */
	double end = now() + (RUNNING_ON_VALGRIND ? 20.0 : 2.0);

	atomic_store(&ap->started[me], now());
	atomic_store(&ap->thread[me], current_thread());
	while (atomic_load(&ap->thread[!me]) == 0 && now() < end)
		;
}

static inline void
reset_apart(struct apart *ap)
{
	int i;

	for (i = 0; i < 2; i++) {
		atomic_store(&ap->thread[i], 0);
		atomic_store(&ap->started[i], 0.0);
	}
}

static inline void
assert_apart(struct apart *ap, const char *who)
{
	ck_assert_msg(atomic_load(&ap->thread[0]) !=
	    atomic_load(&ap->thread[1]),
	    "%s started on the same worker thread, %.3f s apart", who,
	    atomic_load(&ap->started[1]) - atomic_load(&ap->started[0]));
}

static inline void
return_at_once(const void *arg)
{
	(void)arg;
}

/* Poll until pid is not alive (kill says ESRCH), at most 10 s. */
static inline bool
wait_dead(uint64_t pid)
{
	double end = now() + 10.0;

	while (now() < end) {
		if (snow_actor_kill(pid) == ESRCH)
			return true;
		usleep(1000);
	}
	return false;
}

/*
 * Parks in receive(-1) until a u64 comes, noting when it parked and woke
 * and what came: parked_receiver_uses_no_cpu (check_receive_wait.c)
 * watches it, calls_outside_actors_fail_with_eperm (check_misuse.c) uses
 * it as a target.
 */
static _Atomic int park_ready, park_done;
static _Atomic uint64_t park_value;
static double park_started, park_woke;

static inline void
park_actor(const void *arg)
{
	const void *p;
	uint64_t v;

	(void)arg;
	park_started = now();
	atomic_store(&park_ready, 1);
	if ((p = a_recv_data(-1, sizeof(v))) == NULL)
		return;
	park_woke = now();
	memcpy(&v, p, sizeof(v));
	atomic_store(&park_value, v);
	atomic_store(&park_done, 1);
}

#endif /* SN_TESTS_ACTOR_MSG_H */
