/*
 * Message passing in snow-rt: mailboxes, receive with timeouts, links and
 * exit signals, kill, timers, registered names, and the end of actors that
 * wait for ever.  One Check test per promise of include/snow/runtime.h.
 *
 * Each test starts and stops its own runtime, so the suite also passes with
 * CK_FORK=no, where every test runs in one process one after another.
 *
 * Actors and helper threads never call ck_assert, which may only fail in
 * the test's own thread: they record failures with A_CHECK(), and the test
 * checks them (assert_no_fails()) once the runtime has stopped or the
 * thread has been joined.  Where an actor waits for a message that a
 * broken runtime might lose, it waits for ever (the runtime then ends it
 * as blocked, which a later assertion catches) or at most WAIT_MS.
 *
 * Environment: SNOW_TEST_SCALE_DOWN=1 (also implied under valgrind and
 * ThreadSanitizer) lowers the message and actor counts of the volume
 * tests; the checks stay the same.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <snow/runtime.h>

#include "run_suite.h"
#include "snow_ok.h"
#include "test_env.h"

#define TIMEOUT 120

/* Longest an orchestrating actor waits for a message that must come. */
#define WAIT_MS 20000

/* Poll until *flag reaches at least want, for at most 10 s; its value. */
static int
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
 * in this file goes through these two, which the compiler cannot fold, as
 * the header tells actor code to (snow_errno() is the runtime's own such
 * read, checked by snow_errno_after_a_move_to_another_worker).
 */
#if defined(__GNUC__) && !defined(__clang__)
#define NOFOLD __attribute__((noinline, noipa))
#else
#define NOFOLD __attribute__((noinline))
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

/* ---- failures seen in actors and threads ---- */

static _Atomic int nfail;
static char first_fail[512];

static void actor_fail(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

static void
actor_fail(const char *fmt, ...)
{
	va_list ap;

	if (atomic_fetch_add(&nfail, 1) != 0)
		return;		/* keep the first description only */
	va_start(ap, fmt);
	vsnprintf(first_fail, sizeof(first_fail), fmt, ap);
	va_end(ap);
}

#define A_CHECK(cond, ...) do {						\
	if (!(cond))							\
		actor_fail(__VA_ARGS__);				\
} while (0)

static void
reset_fails(void)
{
	atomic_store(&nfail, 0);
	first_fail[0] = '\0';
}

/* Call after run_ok() or after joining the threads that may fail. */
static void
assert_no_fails(void)
{
	int n = atomic_load(&nfail);

	ck_assert_msg(n == 0, "%d check(s) failed in actors or threads; "
	    "first: %s", n, first_fail);
}

/* ---- helpers for actors (no ck_assert there) ---- */

static uint64_t
a_spawn(snow_actor_fn fn, const void *args, uint64_t size)
{
	uint64_t pid = snow_actor_spawn(fn, args, size, SNOW_PRIO_NORMAL);

	A_CHECK(pid != 0, "snow_actor_spawn in an actor: %s",
	    strerror(a_errno()));
	return pid;
}

static void
a_send(uint64_t pid, const void *msg, uint64_t size)
{
	int err = snow_actor_send(pid, msg, size);

	A_CHECK(err == 0, "snow_actor_send(%" PRIu64 ", %" PRIu64 " bytes): %s",
	    pid, size, strerror(err));
}

static void
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
static const void *
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
static bool
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

static void
a_send_cmd(uint64_t pid, uint64_t kind, uint64_t a, uint64_t b)
{
	struct cmd c = { kind, a, b };

	a_send(pid, &c, sizeof(c));
}

/* The next message must be a cmd of this kind; false if not. */
static bool
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
static void
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

/* A PID that no actor of these tests ever gets. */
#define NEVER_USED_PID ((uint64_t)1 << 60)

/* ================================================================== */
/* Ordering and volume */

/*
 * Per-sender FIFO: actors, plain threads and the main thread each send a
 * numbered stream to one receiver, which checks that every stream arrives
 * complete and in order, however the streams interleave.
 */
#define FIFO_ACTORS	4
#define FIFO_THREADS	2
#define FIFO_SENDERS	(FIFO_ACTORS + FIFO_THREADS + 1)	/* + main */
#define FIFO_N		20000
#define FIFO_N_SMALL	2000

struct seq_msg {
	uint32_t sender;
	uint32_t pad;
	uint64_t seq;
};

struct fifo_sender_args {
	uint64_t to;
	uint64_t n;
	uint32_t id;
};

static uint64_t fifo_next[FIFO_SENDERS];	/* the receiver's */
static _Atomic uint64_t fifo_received;

static void
fifo_receiver(const void *arg)
{
	uint64_t total = *(const uint64_t *)arg, i;
	struct seq_msg s;
	const void *p;

	for (i = 0; i < total; i++) {
		if ((p = a_recv_data(-1, sizeof(s))) == NULL)
			return;
		memcpy(&s, p, sizeof(s));
		if (s.sender >= FIFO_SENDERS) {
			actor_fail("message from unknown sender %u", s.sender);
			return;
		}
		if (s.seq != fifo_next[s.sender]) {
			actor_fail("sender %u: got #%" PRIu64 ", expected #%"
			    PRIu64, s.sender, s.seq, fifo_next[s.sender]);
			return;
		}
		fifo_next[s.sender]++;
		atomic_fetch_add(&fifo_received, 1);
	}
}

static void
fifo_send_stream(const struct fifo_sender_args *a, bool in_actor)
{
	struct seq_msg s = { a->id, 0, 0 };
	int err;

	for (s.seq = 0; s.seq < a->n; s.seq++) {
		err = snow_actor_send(a->to, &s, sizeof(s));
		if (err != 0) {
			actor_fail("sender %u: send #%" PRIu64 ": %s", a->id,
			    s.seq, strerror(err));
			return;
		}
		if (in_actor && s.seq % 64 == 63)
			snow_actor_yield();	/* mix the streams */
	}
}

static void
fifo_sender_actor(const void *arg)
{
	fifo_send_stream(arg, true);
}

static void *
fifo_sender_thread(void *arg)
{
	fifo_send_stream(arg, false);
	return NULL;
}

START_TEST(fifo_order_per_sender)
{
	struct fifo_sender_args a[FIFO_SENDERS];
	uint64_t n = scaled_down() ? FIFO_N_SMALL : FIFO_N;
	uint64_t total = n * FIFO_SENDERS, rx;
	pthread_t t[FIFO_THREADS];
	struct snow_rt_stats st;
	uint32_t i;

	reset_fails();
	atomic_store(&fifo_received, 0);
	memset(fifo_next, 0, sizeof(fifo_next));
	init_ok(2);
	rx = spawn_ok(fifo_receiver, &total, sizeof(total), SNOW_PRIO_NORMAL);
	for (i = 0; i < FIFO_SENDERS; i++) {
		a[i].to = rx;
		a[i].n = n;
		a[i].id = i;
	}
	for (i = 0; i < FIFO_ACTORS; i++)
		spawn_ok(fifo_sender_actor, &a[i], sizeof(a[i]),
		    SNOW_PRIO_NORMAL);
	for (i = 0; i < FIFO_THREADS; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL,
		    fifo_sender_thread, &a[FIFO_ACTORS + i]), 0);
	fifo_send_stream(&a[FIFO_SENDERS - 1], false);	/* the main thread */
	for (i = 0; i < FIFO_THREADS; i++)
		pthread_join(t[i], NULL);
	run_ok();
	assert_no_fails();
	ck_assert_uint_eq(atomic_load(&fifo_received), total);
	for (i = 0; i < FIFO_SENDERS; i++)
		ck_assert_msg(fifo_next[i] == n, "sender %u: %" PRIu64
		    " of %" PRIu64 " messages arrived", i, fifo_next[i], n);
	st = stats_ok();
	ck_assert_uint_eq(st.sent, total);
	ck_assert_uint_eq(st.dropped, 0);
	ck_assert_uint_eq(st.blocked_ended, 0);
}
END_TEST

/*
 * Two million messages one way between actors that start on different
 * workers, with a credit window (acks every FLOOD_WINDOW messages) so the
 * mailbox stays bounded and the other direction is exercised too.  The
 * receiver checks every number in turn, so any loss, duplicate or
 * reordering shows; the counts, the sum and the runtime's own counters
 * must agree.
 */
#define FLOOD_COUNT	2000000u
#define FLOOD_SMALL	100000u
#define FLOOD_WINDOW	4096u
#define FLOOD_MAGIC	0x666c6f6f64ull		/* "flood" */

struct flood_args {
	uint64_t to;
	uint64_t count;
};

static _Atomic uint64_t fl_received, fl_sum, fl_acks_sent, fl_acked;
static struct apart fl_apart;
static _Atomic int fl_tail_empty;

/*
 * Note which thread the caller runs on, then hold that worker until the
 * peer runs too (at most 1 s): the peer must start on the other worker.
 */
struct apart {
	_Atomic unsigned long thread[2];
	_Atomic double started[2];
};

static void
spin_apart(struct apart *ap, int me)
{
	/* valgrind runs one thread at a time, in long turns. */
	double end = now() + (RUNNING_ON_VALGRIND ? 20.0 : 2.0);

	atomic_store(&ap->started[me], now());
	atomic_store(&ap->thread[me], current_thread());
	while (atomic_load(&ap->thread[!me]) == 0 && now() < end)
		;
}

static void
reset_apart(struct apart *ap)
{
	int i;

	for (i = 0; i < 2; i++) {
		atomic_store(&ap->thread[i], 0);
		atomic_store(&ap->started[i], 0.0);
	}
}

static void
assert_apart(struct apart *ap, const char *who)
{
	ck_assert_msg(atomic_load(&ap->thread[0]) !=
	    atomic_load(&ap->thread[1]),
	    "%s started on the same worker thread, %.3f s apart", who,
	    atomic_load(&ap->started[1]) - atomic_load(&ap->started[0]));
}

static void
flood_receiver(const void *arg)
{
	uint64_t count = *(const uint64_t *)arg, expect, sum = 0, v, ack;
	uint64_t hello[2];
	const struct snow_msg *m;
	const void *p;

	spin_apart(&fl_apart, 0);
	if ((p = a_recv_data(WAIT_MS, sizeof(hello))) == NULL)
		return;
	memcpy(hello, p, sizeof(hello));
	A_CHECK(hello[0] == FLOOD_MAGIC, "flood: bad hello");
	for (expect = 0; expect < count; expect++) {
		m = snow_actor_receive(-1);
		if (m == NULL || m->tag != SNOW_MSG_DATA || m->len != 8) {
			actor_fail("flood: message #%" PRIu64 " is not 8 bytes "
			    "of data", expect);
			break;
		}
		memcpy(&v, m->data, 8);
		if (v != expect) {
			actor_fail("flood: message #%" PRIu64 " carries %"
			    PRIu64, expect, v);
			break;
		}
		sum += v;
		if ((expect + 1) % FLOOD_WINDOW == 0 || expect + 1 == count) {
			ack = expect + 1;
			a_send(hello[1], &ack, sizeof(ack));
			atomic_fetch_add(&fl_acks_sent, 1);
		}
	}
	atomic_store(&fl_received, expect);
	atomic_store(&fl_sum, sum);
	/* Nothing else may come: no duplicate of anything. */
	a_set_errno(0);
	atomic_store(&fl_tail_empty,
	    snow_actor_receive(0) == NULL && a_errno() == EAGAIN);
}

static void
flood_sender(const void *arg)
{
	const struct flood_args *a = arg;
	uint64_t hello[2] = { FLOOD_MAGIC, snow_actor_self() };
	uint64_t i, acked = 0, v;
	const void *p;
	int err;

	spin_apart(&fl_apart, 1);
	a_send(a->to, hello, sizeof(hello));
	for (i = 0; i < a->count; i++) {
		while (i - acked >= 4 * FLOOD_WINDOW) {
			if ((p = a_recv_data(-1, sizeof(v))) == NULL)
				return;
			memcpy(&v, p, sizeof(v));
			if (v > acked)
				acked = v;
		}
		if ((err = snow_actor_send(a->to, &i, sizeof(i))) != 0) {
			actor_fail("flood: send #%" PRIu64 ": %s", i,
			    strerror(err));
			return;
		}
	}
	while (acked < a->count) {
		if ((p = a_recv_data(-1, sizeof(v))) == NULL)
			return;
		memcpy(&v, p, sizeof(v));
		if (v > acked)
			acked = v;
	}
	atomic_store(&fl_acked, acked);
}

START_TEST(millions_of_messages_between_workers)
{
	uint64_t count = scaled_down() ? FLOOD_SMALL : FLOOD_COUNT;
	struct flood_args a;
	struct snow_rt_stats st;

	reset_fails();
	atomic_store(&fl_received, 0);
	atomic_store(&fl_sum, 0);
	atomic_store(&fl_acks_sent, 0);
	atomic_store(&fl_acked, 0);
	reset_apart(&fl_apart);
	atomic_store(&fl_tail_empty, 0);
	init_ok(2);
	a.to = spawn_ok(flood_receiver, &count, sizeof(count),
	    SNOW_PRIO_NORMAL);
	a.count = count;
	spawn_ok(flood_sender, &a, sizeof(a), SNOW_PRIO_NORMAL);
	run_ok();
	assert_no_fails();
	assert_apart(&fl_apart, "receiver and sender");
	ck_assert_uint_eq(atomic_load(&fl_received), count);
	ck_assert_uint_eq(atomic_load(&fl_sum), count * (count - 1) / 2);
	ck_assert_uint_eq(atomic_load(&fl_acked), count);
	ck_assert_int_eq(atomic_load(&fl_tail_empty), 1);
	st = stats_ok();
	/* The data, the hello and the acks, each delivered exactly once. */
	ck_assert_uint_eq(st.sent, count + 1 + atomic_load(&fl_acks_sent));
	ck_assert_uint_eq(st.dropped, 0);
	ck_assert_uint_eq(st.blocked_ended, 0);
}
END_TEST

/*
 * Ping-pong: every message waits for the previous answer, so each one
 * parks and wakes an actor on the other worker; a lost wake-up stops the
 * game (and the runtime ends both players as blocked).
 */
#define PINGPONG_ROUNDS		200000u
#define PINGPONG_SMALL		5000u

static _Atomic uint64_t pp_rounds, pp_replies;
static struct apart pp_apart;

static void
pong_player(const void *arg)
{
	uint64_t peer, v;
	const struct snow_msg *m;
	const void *p;

	(void)arg;
	spin_apart(&pp_apart, 0);
	if ((p = a_recv_data(WAIT_MS, sizeof(peer))) == NULL)
		return;
	memcpy(&peer, p, sizeof(peer));
	for (;;) {
		m = snow_actor_receive(-1);
		if (m == NULL || m->tag != SNOW_MSG_DATA) {
			actor_fail("pong: bad message");
			return;
		}
		if (m->len == 0)
			return;		/* game over */
		memcpy(&v, m->data, sizeof(v));
		v = v * 2 + 1;
		a_send(peer, &v, sizeof(v));
		atomic_fetch_add(&pp_replies, 1);
	}
}

static void
ping_player(const void *arg)
{
	const struct flood_args *a = arg;
	uint64_t self = snow_actor_self(), i, v;
	const void *p;

	spin_apart(&pp_apart, 1);
	a_send(a->to, &self, sizeof(self));
	for (i = 0; i < a->count; i++) {
		a_send(a->to, &i, sizeof(i));
		if ((p = a_recv_data(-1, sizeof(v))) == NULL)
			return;
		memcpy(&v, p, sizeof(v));
		if (v != i * 2 + 1) {
			actor_fail("ping: round %" PRIu64 " answered %" PRIu64,
			    i, v);
			return;
		}
		atomic_fetch_add(&pp_rounds, 1);
	}
	a_send(a->to, NULL, 0);
}

START_TEST(ping_pong_between_workers)
{
	uint64_t rounds = scaled_down() ? PINGPONG_SMALL : PINGPONG_ROUNDS;
	struct flood_args a;
	struct snow_rt_stats st;

	reset_fails();
	atomic_store(&pp_rounds, 0);
	atomic_store(&pp_replies, 0);
	reset_apart(&pp_apart);
	init_ok(2);
	a.to = spawn_ok(pong_player, NULL, 0, SNOW_PRIO_NORMAL);
	a.count = rounds;
	spawn_ok(ping_player, &a, sizeof(a), SNOW_PRIO_NORMAL);
	run_ok();
	assert_no_fails();
	assert_apart(&pp_apart, "pong and ping");
	ck_assert_uint_eq(atomic_load(&pp_rounds), rounds);
	ck_assert_uint_eq(atomic_load(&pp_replies), rounds);
	st = stats_ok();
	ck_assert_uint_eq(st.sent, 2 * rounds + 2);
	ck_assert_uint_eq(st.dropped, 0);
	ck_assert_uint_eq(st.blocked_ended, 0);
}
END_TEST

/*
 * No actor lost or run twice: many short-lived actors, each receiving one
 * message and exiting, spawned and fed by the main thread and by an actor
 * at the same time; every other one is fed by its neighbour, an actor
 * that is exiting.
 */
#define MANY_ACTORS		10000
#define MANY_ACTORS_SMALL	2000

struct pair_msg {
	uint64_t idx;
	uint64_t next;		/* PID to feed next, or 0 */
};

static _Atomic int many_got[MANY_ACTORS];

static void
one_message_actor(const void *arg)
{
	uint64_t idx = *(const uint64_t *)arg;
	struct pair_msg pm, fwd;
	const void *p;

	if ((p = a_recv_data(-1, sizeof(pm))) == NULL)
		return;
	memcpy(&pm, p, sizeof(pm));
	A_CHECK(pm.idx == idx, "actor #%" PRIu64 " got the message for #%"
	    PRIu64, idx, pm.idx);
	if (pm.idx < MANY_ACTORS)
		atomic_fetch_add(&many_got[pm.idx], 1);
	if (pm.next != 0) {
		fwd.idx = idx + 1;
		fwd.next = 0;
		a_send(pm.next, &fwd, sizeof(fwd));
	}
}

/* Spawn pairs [from, to) and feed the first of each; from any thread. */
static void
spawn_and_feed_pairs(uint64_t from, uint64_t to)
{
	struct pair_msg pm;
	uint64_t i, j, first;

	for (i = from; i < to; i += 2) {
		first = snow_actor_spawn(one_message_actor, &i, sizeof(i),
		    SNOW_PRIO_NORMAL);
		j = i + 1;
		pm.next = snow_actor_spawn(one_message_actor, &j, sizeof(j),
		    SNOW_PRIO_NORMAL);
		if (first == 0 || pm.next == 0) {
			actor_fail("spawn of pair %" PRIu64 ": %s", i,
			    strerror(a_errno()));
			return;
		}
		pm.idx = i;
		a_send(first, &pm, sizeof(pm));
	}
}

static void
pair_feeder_actor(const void *arg)
{
	const uint64_t *range = arg;

	spawn_and_feed_pairs(range[0], range[1]);
}

START_TEST(many_actors_each_get_one_message)
{
	uint64_t n = scaled_down() ? MANY_ACTORS_SMALL : MANY_ACTORS;
	uint64_t range[2] = { n / 2, n }, i;
	struct snow_rt_stats st;

	reset_fails();
	for (i = 0; i < MANY_ACTORS; i++)
		atomic_store(&many_got[i], 0);
	init_ok(2);
	/* The second half from an actor, while main does the first. */
	spawn_ok(pair_feeder_actor, range, sizeof(range), SNOW_PRIO_NORMAL);
	spawn_and_feed_pairs(0, n / 2);
	run_ok();
	assert_no_fails();
	for (i = 0; i < n; i++)
		ck_assert_msg(atomic_load(&many_got[i]) == 1,
		    "actor #%" PRIu64 " got %d messages", i,
		    atomic_load(&many_got[i]));
	st = stats_ok();
	ck_assert_uint_eq(st.spawned, n + 1);
	ck_assert_uint_eq(st.exited, n + 1);
	ck_assert_uint_eq(st.sent, n);
	ck_assert_uint_eq(st.dropped, 0);
	ck_assert_uint_eq(st.blocked_ended, 0);
}
END_TEST

/* ================================================================== */
/* The message as received */

#define LAYOUT_SMALL	100
#define LAYOUT_BIG	(1u << 20)
#define LAYOUT_FLOOD	1000
#define LAYOUT_FLOOD_LEN 64

static _Atomic int layout_steps;

static unsigned char
pat(uint64_t i, unsigned seed)
{
	return (unsigned char)(i * 7 + seed * 13 + (i >> 8));
}

static void
fill_pat(unsigned char *buf, uint64_t len, unsigned seed)
{
	uint64_t i;

	for (i = 0; i < len; i++)
		buf[i] = pat(i, seed);
}

/* Check one received message; true when all is right. */
static bool
msg_is(const struct snow_msg *m, uint64_t len, unsigned seed,
    const char *what)
{
	uint64_t i;

	if (m == NULL) {
		actor_fail("%s: receive gave NULL, %s", what,
		    strerror(a_errno()));
		return false;
	}
	if ((uintptr_t)m % _Alignof(uint64_t) != 0) {
		actor_fail("%s: message at %p is not aligned", what,
		    (const void *)m);
		return false;
	}
	if (m->tag != SNOW_MSG_DATA || m->len != len) {
		actor_fail("%s: tag %" PRIu64 " len %" PRIu64 ", expected "
		    "data of %" PRIu64 " bytes", what, m->tag, m->len, len);
		return false;
	}
	for (i = 0; i < len; i++)
		if (m->data[i] != pat(i, seed)) {
			actor_fail("%s: byte %" PRIu64 " is %u, expected %u",
			    what, i, m->data[i], pat(i, seed));
			return false;
		}
	return true;
}

static void
layout_flooder(const void *arg)
{
	uint64_t to = *(const uint64_t *)arg;
	unsigned char buf[LAYOUT_FLOOD_LEN];
	unsigned k;

	for (k = 0; k < LAYOUT_FLOOD; k++) {
		fill_pat(buf, sizeof(buf), k);
		a_send(to, buf, sizeof(buf));
	}
}

static void
layout_actor(const void *arg)
{
	uint64_t self = snow_actor_self();
	const struct snow_msg *big;
	unsigned k;
	int i;

	(void)arg;
	if (!msg_is(snow_actor_receive(WAIT_MS), LAYOUT_SMALL, 1, "small"))
		return;
	atomic_fetch_add(&layout_steps, 1);
	if (!msg_is(snow_actor_receive(WAIT_MS), 0, 0, "empty, NULL body"))
		return;
	atomic_fetch_add(&layout_steps, 1);
	if (!msg_is(snow_actor_receive(WAIT_MS), 0, 0, "empty, with body"))
		return;
	atomic_fetch_add(&layout_steps, 1);
	big = snow_actor_receive(WAIT_MS);
	if (!msg_is(big, LAYOUT_BIG, 3, "1 MiB"))
		return;
	atomic_fetch_add(&layout_steps, 1);
	/* The message stays valid while others fill the mailbox. */
	a_spawn(layout_flooder, &self, sizeof(self));
	for (i = 0; i < 100; i++)
		snow_actor_yield();
	snow_timer_sleep(20);
	if (!msg_is(big, LAYOUT_BIG, 3, "1 MiB, before the next receive"))
		return;
	atomic_fetch_add(&layout_steps, 1);
	for (k = 0; k < LAYOUT_FLOOD; k++)
		if (!msg_is(snow_actor_receive(WAIT_MS), LAYOUT_FLOOD_LEN, k,
		    "flood"))
			return;
	atomic_fetch_add(&layout_steps, 1);
}

START_TEST(message_layout_and_lifetime)
{
	unsigned char small[LAYOUT_SMALL], *big = malloc(LAYOUT_BIG);
	struct snow_rt_stats st;
	uint64_t pid;

	ck_assert_ptr_nonnull(big);
	reset_fails();
	atomic_store(&layout_steps, 0);
	init_ok(2);
	pid = spawn_ok(layout_actor, NULL, 0, SNOW_PRIO_NORMAL);
	fill_pat(small, sizeof(small), 1);
	ck_assert_int_eq(snow_actor_send(pid, small, sizeof(small)), 0);
	memset(small, 0xee, sizeof(small));	/* the copy must not see it */
	ck_assert_int_eq(snow_actor_send(pid, NULL, 0), 0);
	ck_assert_int_eq(snow_actor_send(pid, small, 0), 0);
	fill_pat(big, LAYOUT_BIG, 3);
	ck_assert_int_eq(snow_actor_send(pid, big, LAYOUT_BIG), 0);
	memset(big, 0xee, LAYOUT_BIG);
	free(big);
	run_ok();
	assert_no_fails();
	ck_assert_int_eq(atomic_load(&layout_steps), 6);
	st = stats_ok();
	ck_assert_uint_eq(st.sent, 4 + LAYOUT_FLOOD);
}
END_TEST

/* ================================================================== */
/* Receive: empty mailbox, timeouts, wake-ups */

static _Atomic int rt_steps;
static double rt_timeout_elapsed, rt_early_elapsed, rt_late_elapsed;
static double rt_after_timeout_elapsed;

struct delayed_sends {
	uint64_t to;
	int64_t first_ms;	/* sleep, then send value 1 */
	int64_t second_ms;	/* sleep again, then send value 2 (if > 0) */
};

static void
delayed_sender(const void *arg)
{
	const struct delayed_sends *d = arg;
	uint64_t v = 1;

	snow_timer_sleep(d->first_ms);
	a_send(d->to, &v, sizeof(v));
	if (d->second_ms > 0) {
		snow_timer_sleep(d->second_ms);
		v = 2;
		a_send(d->to, &v, sizeof(v));
	}
}

static bool
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

static void
receive_timeouts_actor(const void *arg)
{
	uint64_t self = snow_actor_self();
	struct delayed_sends d;
	const struct snow_msg *m;
	double t0;
	char x = 'x';

	(void)arg;
	/* timeout 0 on an empty mailbox */
	a_set_errno(0);
	m = snow_actor_receive(0);
	A_CHECK(m == NULL && a_errno() == EAGAIN, "receive(0) on an empty "
	    "mailbox: %p, errno %d (%s)", (const void *)m, a_errno(),
	    strerror(a_errno()));
	/* a message to oneself is there at once */
	a_send(self, &x, 1);
	m = snow_actor_receive(0);
	A_CHECK(m != NULL && m->tag == SNOW_MSG_DATA && m->len == 1 &&
	    m->data[0] == 'x', "receive(0) after a send to self: %s",
	    m == NULL ? strerror(a_errno()) : "wrong message");
	a_set_errno(0);
	m = snow_actor_receive(0);
	A_CHECK(m == NULL && a_errno() == EAGAIN, "second receive(0): %p, "
	    "errno %d", (const void *)m, a_errno());
	atomic_fetch_add(&rt_steps, 1);

	/* nothing comes: ETIMEDOUT after the timeout */
	t0 = now();
	a_set_errno(0);
	m = snow_actor_receive(50);
	rt_timeout_elapsed = now() - t0;
	A_CHECK(m == NULL && a_errno() == ETIMEDOUT, "receive(50) with nothing "
	    "coming: %p, errno %d (%s)", (const void *)m, a_errno(),
	    strerror(a_errno()));
	atomic_fetch_add(&rt_steps, 1);

	/*
	 * A message arriving at ~20 ms ends receive(500) early; the old
	 * timeout must not then end the following receive(-1), which waits
	 * until the second message at ~720 ms.
	 */
	d.to = self;
	d.first_ms = 20;
	d.second_ms = 700;
	a_spawn(delayed_sender, &d, sizeof(d));
	t0 = now();
	if (!recv_u64_is(500, 1, "receive(500), message at 20 ms"))
		return;
	rt_early_elapsed = now() - t0;
	if (!recv_u64_is(-1, 2, "receive(-1) after an early wake-up"))
		return;
	rt_late_elapsed = now() - t0;
	atomic_fetch_add(&rt_steps, 1);

	/* A message that comes after a timeout is still delivered. */
	d.first_ms = 100;
	d.second_ms = 0;
	a_spawn(delayed_sender, &d, sizeof(d));
	t0 = now();
	a_set_errno(0);
	m = snow_actor_receive(30);
	A_CHECK(m == NULL && a_errno() == ETIMEDOUT, "receive(30) before a "
	    "message at 100 ms: %p, errno %d", (const void *)m, a_errno());
	if (!recv_u64_is(WAIT_MS, 1, "message after a timeout"))
		return;
	rt_after_timeout_elapsed = now() - t0;
	atomic_fetch_add(&rt_steps, 1);
}

START_TEST(receive_empty_and_timeouts)
{
	reset_fails();
	atomic_store(&rt_steps, 0);
	rt_timeout_elapsed = rt_early_elapsed = rt_late_elapsed = -1;
	rt_after_timeout_elapsed = -1;
	init_ok(2);
	spawn_ok(receive_timeouts_actor, NULL, 0, SNOW_PRIO_NORMAL);
	run_ok();
	assert_no_fails();
	ck_assert_int_eq(atomic_load(&rt_steps), 4);
	ck_assert_msg(rt_timeout_elapsed >= 0.050 && rt_timeout_elapsed < 2.0,
	    "receive(50) timed out after %.4f s", rt_timeout_elapsed);
	/*
	 * The sender's clock starts when it runs, which may be before the
	 * receiver's t0 on a loaded machine: only the timeout is a bound
	 * from below.  That receive(-1) got the second message (not NULL)
	 * shows that the stale 500 ms timeout did not end it.
	 */
	ck_assert_msg(rt_early_elapsed >= 0 && rt_early_elapsed < 0.500,
	    "receive(500) with a message at 20 ms returned after %.4f s",
	    rt_early_elapsed);
	ck_assert_msg(rt_late_elapsed >= 0.500 && rt_late_elapsed < 5.0,
	    "receive(-1) for a message at 720 ms returned after %.4f s",
	    rt_late_elapsed);
	ck_assert_msg(rt_after_timeout_elapsed >= 0.030 &&
	    rt_after_timeout_elapsed < 5.0,
	    "message sent at 100 ms received after %.4f s",
	    rt_after_timeout_elapsed);
	ck_assert_uint_eq(stats_ok().blocked_ended, 0);
}
END_TEST

/*
 * errno after a move: an actor parks in receive and is woken by an actor
 * on the other worker, which may move it to that worker.  The contract
 * says receive(0) on an empty mailbox returns NULL with errno EAGAIN, and
 * that actor code reads it with snow_errno(): a plain errno read would go
 * through the address GCC computed for the first errno access in the
 * function (__errno_location() is declared const), which after a move is
 * the errno of the thread the actor left.  snow_errno() must see EAGAIN
 * wherever the actor resumed.
 */
#define ERRNO_ROUNDS 2000

static _Atomic int en_rounds, en_wrong, en_moved, en_first_wrong;
static struct apart en_apart;

static void
errno_echo(const void *arg)
{
	const struct snow_msg *m;
	uint64_t peer;
	const void *p;

	(void)arg;
	spin_apart(&en_apart, 0);
	if ((p = a_recv_data(WAIT_MS, sizeof(peer))) == NULL)
		return;
	memcpy(&peer, p, sizeof(peer));
	for (;;) {
		m = snow_actor_receive(-1);
		if (m == NULL || m->len == 0)
			return;
		a_send(peer, "r", 1);
	}
}

static void
errno_probe(const void *arg)
{
	uint64_t peer = *(const uint64_t *)arg, self = snow_actor_self();
	const void *m;
	unsigned long t0, t1;
	int i;

	/* Start on different workers: the first wake-up crosses over. */
	spin_apart(&en_apart, 1);
	a_send(peer, &self, sizeof(self));
	for (i = 0; i < ERRNO_ROUNDS; i++) {
		t0 = current_thread();
		a_send(peer, "p", 1);
		if (snow_actor_receive(-1) == NULL) {	/* parks */
			actor_fail("errno probe: receive(-1) gave NULL");
			break;
		}
		m = snow_actor_receive(0);		/* empty by now */
		t1 = current_thread();
		if (t0 != t1)
			atomic_fetch_add(&en_moved, 1);
		if (m != NULL || snow_errno() != EAGAIN) {
			if (atomic_fetch_add(&en_wrong, 1) == 0)
				atomic_store(&en_first_wrong, m != NULL ?
				    -1 : snow_errno());
		}
		atomic_fetch_add(&en_rounds, 1);
	}
	a_send(peer, NULL, 0);
}

START_TEST(snow_errno_after_a_move_to_another_worker)
{
	uint64_t echo;

	reset_fails();
	atomic_store(&en_rounds, 0);
	atomic_store(&en_wrong, 0);
	atomic_store(&en_moved, 0);
	atomic_store(&en_first_wrong, 0);
	reset_apart(&en_apart);
	init_ok(2);
	echo = spawn_ok(errno_echo, NULL, 0, SNOW_PRIO_NORMAL);
	spawn_ok(errno_probe, &echo, sizeof(echo), SNOW_PRIO_NORMAL);
	run_ok();
	assert_no_fails();
	ck_assert_int_eq(atomic_load(&en_rounds), ERRNO_ROUNDS);
	ck_assert_msg(atomic_load(&en_wrong) == 0, "receive(0) on an empty "
	    "mailbox: snow_errno() was not EAGAIN in %d of %d rounds (first: "
	    "%d); the actor resumed on another thread in %d rounds",
	    atomic_load(&en_wrong), ERRNO_ROUNDS,
	    atomic_load(&en_first_wrong), atomic_load(&en_moved));
}
END_TEST

/*
 * A parked receiver costs nothing: no CPU, no switches, while main
 * sleeps; then a send from main wakes it.  That the actor gets the
 * message also shows that waiting outside snow_rt_run_scheduler() is not
 * mistaken for waiting for ever.
 */
static _Atomic int park_ready, park_done;
static _Atomic uint64_t park_value;
static double park_started, park_woke;

static void
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

START_TEST(parked_receiver_uses_no_cpu)
{
	struct snow_rt_stats st0, st1;
	double c0, c1, w0, w1;
	uint64_t pid, v = 0xabcdef;

	reset_fails();
	atomic_store(&park_ready, 0);
	atomic_store(&park_done, 0);
	atomic_store(&park_value, 0);
	init_ok(2);
	pid = spawn_ok(park_actor, NULL, 0, SNOW_PRIO_NORMAL);
	ck_assert_int_eq(wait_flag(&park_ready, 1), 1);
	usleep(100000);		/* let it park and the workers settle */
	st0 = stats_ok();
	c0 = cpu_now();
	w0 = now();
	usleep(300000);
	c1 = cpu_now();
	w1 = now();
	st1 = stats_ok();
	ck_assert_int_eq(atomic_load(&park_done), 0);
	ck_assert_int_eq(snow_actor_send(pid, &v, sizeof(v)), 0);
	ck_assert_int_eq(wait_flag(&park_done, 1), 1);
	run_ok();
	assert_no_fails();
	ck_assert_uint_eq(atomic_load(&park_value), v);
	ck_assert_msg(c1 - c0 < 0.5 * (w1 - w0), "a parked receiver: %.3f s "
	    "of CPU in %.3f s", c1 - c0, w1 - w0);
	ck_assert_msg(st1.switches == st0.switches, "switches went from %"
	    PRIu64 " to %" PRIu64 " while the only actor waited",
	    st0.switches, st1.switches);
	ck_assert_uint_eq(stats_ok().blocked_ended, 0);
}
END_TEST

/* A thread that is no part of the runtime wakes a parked receiver. */
#define WAKE_TAIL 1000

static _Atomic uint64_t wake_tail_got;

static void
wake_actor(const void *arg)
{
	uint64_t i;

	(void)arg;
	park_started = now();
	atomic_store(&park_ready, 1);
	if (!recv_u64_is(-1, 0xfeed, "the first message from the thread"))
		return;
	park_woke = now();
	atomic_store(&park_done, 1);
	for (i = 0; i < WAKE_TAIL; i++) {
		if (!recv_u64_is(-1, i, "the thread's stream"))
			return;
		atomic_fetch_add(&wake_tail_got, 1);
	}
}

static void *
waking_thread(void *arg)
{
	uint64_t to = *(uint64_t *)arg, v = 0xfeed, i;
	int err;

	if (wait_flag(&park_ready, 1) != 1) {
		actor_fail("the receiver never started");
		return NULL;
	}
	usleep(100000);
	if ((err = snow_actor_send(to, &v, sizeof(v))) != 0)
		actor_fail("send from a thread: %s", strerror(err));
	for (i = 0; i < WAKE_TAIL; i++) {
		if ((err = snow_actor_send(to, &i, sizeof(i))) != 0) {
			actor_fail("send from a thread: %s", strerror(err));
			break;
		}
		if (i % 100 == 0)
			usleep(1000);	/* let it park again now and then */
	}
	return NULL;
}

START_TEST(thread_wakes_parked_receiver)
{
	uint64_t pid;
	pthread_t t;

	reset_fails();
	atomic_store(&park_ready, 0);
	atomic_store(&park_done, 0);
	atomic_store(&wake_tail_got, 0);
	park_started = park_woke = 0;
	init_ok(2);
	pid = spawn_ok(wake_actor, NULL, 0, SNOW_PRIO_NORMAL);
	ck_assert_int_eq(pthread_create(&t, NULL, waking_thread, &pid), 0);
	pthread_join(t, NULL);	/* done sending before run_scheduler */
	run_ok();
	assert_no_fails();
	ck_assert_int_eq(atomic_load(&park_done), 1);
	ck_assert_uint_eq(atomic_load(&wake_tail_got), WAKE_TAIL);
	ck_assert_msg(park_woke - park_started >= 0.1, "woke after %.4f s, "
	    "before the thread sent", park_woke - park_started);
	ck_assert_uint_eq(stats_ok().blocked_ended, 0);
}
END_TEST

/* ================================================================== */
/* Errors */

static _Atomic int outside_eperm_checked;

static void *
eperm_thread(void *arg)
{
	const struct snow_msg *m;
	int err;

	(void)arg;
	errno = 0;
	m = snow_actor_receive(-1);
	A_CHECK(m == NULL && errno == EPERM, "receive(-1) on a thread: %p, "
	    "errno %d", (const void *)m, errno);
	errno = 0;
	m = snow_actor_receive(0);
	A_CHECK(m == NULL && errno == EPERM, "receive(0) on a thread: %p, "
	    "errno %d", (const void *)m, errno);
	err = snow_actor_register("thread", 6);
	A_CHECK(err == EPERM, "register on a thread: %d", err);
	err = snow_actor_link(1);
	A_CHECK(err == EPERM, "link on a thread: %d", err);
	errno = 0;
	err = snow_actor_trap_exit();
	A_CHECK(err == EPERM, "trap_exit on a thread: %d", err);
	err = snow_actor_set_trap_exit(1);
	A_CHECK(err == -1 && errno == EPERM, "set_trap_exit on a thread: %d, "
	    "errno %d", err, errno);
	atomic_store(&outside_eperm_checked, 1);
	return NULL;
}

START_TEST(calls_outside_actors_fail_with_eperm)
{
	const struct snow_msg *m;
	uint64_t pid;
	pthread_t t;
	double t0;

	reset_fails();
	atomic_store(&outside_eperm_checked, 0);
	init_ok(2);
	pid = spawn_ok(park_actor, NULL, 0, SNOW_PRIO_NORMAL);	/* a target */
	/* Main receives (tests/check_main.c): here, its empty mailbox. */
	errno = 0;
	ck_assert_ptr_null(snow_actor_receive(0));
	ck_assert_int_eq(errno, EAGAIN);
	errno = 0;
	t0 = now();
	m = snow_actor_receive(10);
	ck_assert_ptr_null(m);
	ck_assert_int_eq(errno, ETIMEDOUT);
	ck_assert_msg(now() - t0 >= 0.009, "receive(10) on main came early");
	ck_assert_int_eq(snow_actor_link(pid), EPERM);
	ck_assert_int_eq(snow_actor_unlink(pid), EPERM);
	errno = 0;
	ck_assert_int_eq(snow_actor_set_trap_exit(1), -1);
	ck_assert_int_eq(errno, EPERM);
	ck_assert_int_eq(snow_actor_trap_exit(), EPERM);
	ck_assert_int_eq(snow_actor_register("main", 4), EPERM);
	/* exit/2 works from outside: normal is ignored by a non-trapper. */
	ck_assert_int_eq(snow_actor_exit(pid, SNOW_EXIT_NORMAL), 0);
	ck_assert_int_eq(snow_actor_exit(0, SNOW_EXIT_ERROR), EINVAL);
	ck_assert_int_eq(snow_actor_exit(pid, SNOW_EXIT_NOPROC), EINVAL);
	ck_assert_int_eq(snow_actor_exit(snow_actor_self(), SNOW_EXIT_ERROR),
	    ESRCH);			/* the main process is no actor */
	ck_assert_int_eq(pthread_create(&t, NULL, eperm_thread, NULL), 0);
	pthread_join(t, NULL);
	assert_no_fails();
	ck_assert_int_eq(atomic_load(&outside_eperm_checked), 1);
	/* Release the target so it is not left waiting. */
	ck_assert_int_eq(snow_actor_send(pid, &pid, sizeof(pid)), 0);
	run_ok();
	assert_no_fails();
	ck_assert_uint_eq(stats_ok().blocked_ended, 0);
}
END_TEST

/* send, whereis, kill and send_after need a running runtime. */
static void
check_not_running(const char *when)
{
	char x = 'x';

	ck_assert_msg(snow_actor_send(1, &x, 1) == EPERM, "send %s", when);
	ck_assert_msg(snow_timer_send_after(1, 10, &x, 1) == EPERM,
	    "send_after %s", when);
	errno = 0;
	ck_assert_msg(snow_actor_whereis("a", 1) == 0 && errno == EPERM,
	    "whereis %s: errno %d", when, errno);
	ck_assert_msg(snow_actor_kill(1) == EPERM, "kill %s", when);
	errno = 0;
	ck_assert_msg(snow_actor_receive(0) == NULL && errno == EPERM,
	    "receive %s: errno %d", when, errno);
	ck_assert_msg(snow_actor_link(1) == EPERM, "link %s", when);
	ck_assert_msg(snow_actor_register("a", 1) == EPERM, "register %s",
	    when);
	errno = 0;
	ck_assert_msg(snow_actor_set_trap_exit(1) == -1 && errno == EPERM,
	    "set_trap_exit %s", when);
	ck_assert_msg(snow_actor_trap_exit() == EPERM, "trap_exit %s", when);
	ck_assert_msg(snow_actor_exit(1, SNOW_EXIT_ERROR) == EPERM,
	    "exit %s", when);
}

START_TEST(calls_before_init_and_after_shutdown_fail)
{
	check_not_running("before init");
	init_ok(1);
	run_ok();
	check_not_running("after shutdown");
}
END_TEST

static _Atomic int bad_args_seen;
static _Atomic uint64_t bad_args_got;

static void
bad_args_actor(const void *arg)
{
	uint64_t self = snow_actor_self();
	const struct snow_msg *m;
	int err;

	(void)arg;
	err = snow_actor_link(0);
	A_CHECK(err == EINVAL, "link(0): %d", err);
	err = snow_actor_kill(0);
	A_CHECK(err == EINVAL, "kill(0): %d", err);
	err = snow_actor_send(self, NULL, 5);
	A_CHECK(err == EINVAL, "send to self, NULL and 5 bytes: %d", err);
	err = snow_actor_exit(self, SNOW_EXIT_NOPROC);	/* not the caller's */
	A_CHECK(err == EINVAL, "exit(self, NOPROC): %d", err);
	err = snow_actor_exit(self, UINT8_MAX);
	A_CHECK(err == EINVAL, "exit(self, 255): %d", err);
	err = snow_actor_exit(0, SNOW_EXIT_ERROR);
	A_CHECK(err == EINVAL, "exit(0, ERROR): %d", err);
	atomic_store(&bad_args_seen, 1);
	/* Count what really arrives until main's "end". */
	for (;;) {
		m = snow_actor_receive(WAIT_MS);
		if (m == NULL) {
			actor_fail("bad_args_actor: receive: %s",
			    strerror(a_errno()));
			return;
		}
		if (m->len == 3 && memcmp(m->data, "end", 3) == 0)
			break;
		atomic_fetch_add(&bad_args_got, 1);
	}
}

START_TEST(send_rejects_bad_arguments)
{
	char buf[16] = "payload";
	struct snow_rt_stats st;
	uint64_t pid;

	reset_fails();
	atomic_store(&bad_args_seen, 0);
	atomic_store(&bad_args_got, 0);
	init_ok(2);
	pid = spawn_ok(bad_args_actor, NULL, 0, SNOW_PRIO_NORMAL);
	ck_assert_int_eq(snow_actor_send(pid, NULL, 5), EINVAL);
	ck_assert_int_eq(snow_actor_send(pid, NULL, 1), EINVAL);
	ck_assert_int_eq(snow_actor_send(pid, buf, SNOW_MSG_MAX + 1), EINVAL);
	ck_assert_int_eq(snow_actor_send(pid, buf, UINT64_MAX), EINVAL);
	ck_assert_int_eq(snow_timer_send_after(pid, 10, NULL, 5), EINVAL);
	ck_assert_int_eq(snow_timer_send_after(pid, 0, NULL, 5), EINVAL);
	ck_assert_int_eq(snow_timer_send_after(pid, 10, buf,
	    SNOW_MSG_MAX + 1), EINVAL);
	ck_assert_int_eq(snow_actor_kill(0), EINVAL);
	/* The same to PIDs that are not alive: still refused, not dropped. */
	ck_assert_int_eq(snow_actor_send(NEVER_USED_PID, NULL, 5), EINVAL);
	ck_assert_int_eq(snow_actor_send(0, buf, SNOW_MSG_MAX + 1), EINVAL);
	ck_assert_int_eq(snow_actor_send(pid, NULL, 0), 0);	/* valid */
	ck_assert_int_eq(snow_actor_send(pid, "end", 3), 0);
	run_ok();
	assert_no_fails();
	ck_assert_int_eq(atomic_load(&bad_args_seen), 1);
	ck_assert_uint_eq(atomic_load(&bad_args_got), 1);
	st = stats_ok();
	ck_assert_uint_eq(st.sent, 2);
	ck_assert_uint_eq(st.dropped, 0);
}
END_TEST

/* ================================================================== */
/* Dropped messages */

static void
return_at_once(const void *arg)
{
	(void)arg;
}

/* Poll until pid is not alive (kill says ESRCH), at most 10 s. */
static bool
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
 * An actor that watches another end (through a link, trapping exits),
 * then sends to it.
 */
static void
send_to_ended_actor(const void *arg)
{
	struct snow_exit_msg e;
	uint64_t d;
	char x = 'x';

	(void)arg;
	snow_actor_trap_exit();
	d = a_spawn(return_at_once, NULL, 0);
	a_link(d);
	/* NORMAL if it was still alive, NOPROC if it had already ended. */
	if (!a_recv_exit(WAIT_MS, &e))
		return;
	A_CHECK(e.pid == d && (e.reason == SNOW_EXIT_NORMAL ||
	    e.reason == SNOW_EXIT_NOPROC), "exit {%" PRIu64 ", %" PRIu64 "}",
	    e.pid, e.reason);
	a_send(d, &x, 1);
}

START_TEST(sends_to_the_not_alive_are_dropped)
{
	struct snow_rt_stats st;
	uint64_t dead, main_pid;
	char x = 'x';

	reset_fails();
	init_ok(2);
	main_pid = snow_actor_self();
	ck_assert_uint_ne(main_pid, 0);
	dead = spawn_ok(return_at_once, NULL, 0, SNOW_PRIO_NORMAL);
	ck_assert(wait_dead(dead));
	ck_assert_int_eq(snow_actor_send(dead, &x, 1), 0);
	ck_assert_int_eq(snow_actor_send(0, &x, 1), 0);
	ck_assert_int_eq(snow_actor_send(NEVER_USED_PID, &x, 1), 0);
	ck_assert_int_eq(snow_actor_send(UINT64_MAX, NULL, 0), 0);
	/* Main has a mailbox: that one is delivered. */
	ck_assert_int_eq(snow_actor_send(main_pid, &x, 1), 0);
	spawn_ok(send_to_ended_actor, NULL, 0, SNOW_PRIO_NORMAL);
	run_ok();
	assert_no_fails();
	st = stats_ok();
	ck_assert_uint_eq(st.dropped, 5);
	/* The counters outlive the runtime. */
	st = stats_ok();
	ck_assert_uint_eq(st.dropped, 5);
}
END_TEST

/* ================================================================== */
/* Timers */

static double sl_slept, sl_woke_at, sl_helper_sent_at, sl_zero_elapsed;
static _Atomic int sl_steps, sl_sleepers_ok;

/*
 * The sleep the disturber's messages must land in: 150 ms, stretched by
 * slack().  The disturber sends 30 ms after its READY; a fixed 150 ms
 * left it 120 ms, which a loaded machine or valgrind can take away.
 */
static int64_t
sl_sleep_ms(void)
{
	return (int64_t)(150 * slack());
}

static void
sleep_actor(const void *arg)
{
	uint64_t i;
	struct cmd c;
	double t0;

	(void)arg;
	t0 = now();
	snow_timer_sleep(0);
	snow_timer_sleep(-5);
	sl_zero_elapsed = now() - t0;
	/* The disturber runs now, and sends 30 ms into the sleep. */
	if (!a_recv_cmd(WAIT_MS, CMD_READY, &c))
		return;
	t0 = now();
	snow_timer_sleep(sl_sleep_ms());	/* messages arrive meanwhile */
	sl_woke_at = now();
	sl_slept = sl_woke_at - t0;
	for (i = 1; i <= 3; i++)
		if (!recv_u64_is(WAIT_MS, i, "a message sent during a sleep"))
			return;
	atomic_fetch_add(&sl_steps, 1);
}

static void
sleep_disturber(const void *arg)
{
	uint64_t to = *(const uint64_t *)arg, i;

	a_send_cmd(to, CMD_READY, 0, 0);
	snow_timer_sleep(30);
	for (i = 1; i <= 3; i++)
		a_send(to, &i, sizeof(i));
	sl_helper_sent_at = now();
	atomic_fetch_add(&sl_steps, 1);
}

static void
short_sleeper(const void *arg)
{
	int64_t ms = *(const int64_t *)arg;
	double t0 = now(), slept;

	snow_timer_sleep(ms);
	slept = now() - t0;
	A_CHECK(slept >= (double)ms / 1000, "sleep(%" PRId64 ") took %.4f s",
	    ms, slept);
	A_CHECK(slept < 5.0 * slack(), "sleep(%" PRId64 ") took %.4f s", ms,
	    slept);
	atomic_fetch_add(&sl_sleepers_ok, 1);
}

static double thread_slept;

static void *
sleeping_thread(void *arg)
{
	double t0 = now();

	(void)arg;
	snow_timer_sleep(30);
	thread_slept = now() - t0;
	return NULL;
}

#define SLEEPERS 100

START_TEST(timer_sleep_parks_for_at_least_the_time)
{
	uint64_t pid;
	int64_t ms;
	double t0, main_slept, pre_init_slept;
	pthread_t t;
	int i;

	reset_fails();
	atomic_store(&sl_steps, 0);
	atomic_store(&sl_sleepers_ok, 0);
	sl_slept = sl_woke_at = sl_helper_sent_at = sl_zero_elapsed = -1;
	thread_slept = -1;
	t0 = now();
	snow_timer_sleep(20);		/* no runtime: the thread sleeps */
	pre_init_slept = now() - t0;
	init_ok(2);
	pid = spawn_ok(sleep_actor, NULL, 0, SNOW_PRIO_NORMAL);
	spawn_ok(sleep_disturber, &pid, sizeof(pid), SNOW_PRIO_NORMAL);
	for (i = 0; i < SLEEPERS; i++) {
		ms = 1 + i % 40;
		spawn_ok(short_sleeper, &ms, sizeof(ms), SNOW_PRIO_NORMAL);
	}
	ck_assert_int_eq(pthread_create(&t, NULL, sleeping_thread, NULL), 0);
	t0 = now();
	snow_timer_sleep(50);		/* the main process sleeps too */
	main_slept = now() - t0;
	pthread_join(t, NULL);
	run_ok();
	assert_no_fails();
	ck_assert_int_eq(atomic_load(&sl_steps), 2);
	ck_assert_int_eq(atomic_load(&sl_sleepers_ok), SLEEPERS);
	ck_assert_msg(sl_zero_elapsed >= 0 && sl_zero_elapsed < 1.0,
	    "sleep(0) and sleep(-5) took %.4f s", sl_zero_elapsed);
	ck_assert_msg(sl_slept >= sl_sleep_ms() / 1000.0 &&
	    sl_slept < 5.0 * slack(), "sleep(%" PRId64 ") took %.4f s",
	    sl_sleep_ms(), sl_slept);
	ck_assert_msg(sl_helper_sent_at < sl_woke_at, "the messages were not "
	    "sent during the sleep (sent %.4f s after it ended)",
	    sl_helper_sent_at - sl_woke_at);
	ck_assert_msg(main_slept >= 0.050 && main_slept < 5.0 * slack(),
	    "sleep(50) on main took %.4f s", main_slept);
	ck_assert_msg(thread_slept >= 0.030 && thread_slept < 5.0 * slack(),
	    "sleep(30) on a thread took %.4f s", thread_slept);
	ck_assert_msg(pre_init_slept >= 0.020 && pre_init_slept < 5.0 * slack(),
	    "sleep(20) before init took %.4f s", pre_init_slept);
}
END_TEST

/* With one worker, others run while an actor sleeps. */
static double fw_other_done_at, fw_woke_at;

static void
note_done(const void *arg)
{
	(void)arg;
	fw_other_done_at = now();
}

static void
sleep_one_worker(const void *arg)
{
	(void)arg;
	a_spawn(note_done, NULL, 0);
	snow_timer_sleep(100);
	fw_woke_at = now();
}

START_TEST(timer_sleep_frees_the_worker)
{
	reset_fails();
	fw_other_done_at = fw_woke_at = 0;
	init_ok(1);
	spawn_ok(sleep_one_worker, NULL, 0, SNOW_PRIO_NORMAL);
	run_ok();
	assert_no_fails();
	ck_assert_msg(fw_other_done_at > 0 && fw_woke_at > 0, "did not run");
	ck_assert_msg(fw_other_done_at < fw_woke_at, "the other actor ran "
	    "only after the sleep (%.4f s after)", fw_other_done_at -
	    fw_woke_at);
}
END_TEST

static _Atomic int sa_steps;

static void
send_after_actor(const void *arg)
{
	uint64_t self = snow_actor_self(), delays[3] = { 80, 20, 50 };
	uint64_t want[3] = { 20, 50, 80 }, i, v;
	char buf[8] = "before";
	const struct snow_msg *m;
	const void *p;
	double t0, at;
	int err;

	(void)arg;
	/* different delays: deadline order */
	t0 = now();
	for (i = 0; i < 3; i++) {
		err = snow_timer_send_after(self, (int64_t)delays[i],
		    &delays[i], sizeof(delays[i]));
		A_CHECK(err == 0, "send_after: %s", strerror(err));
	}
	for (i = 0; i < 3; i++) {
		if ((p = a_recv_data(WAIT_MS, sizeof(v))) == NULL)
			return;
		at = now() - t0;
		memcpy(&v, p, sizeof(v));
		A_CHECK(v == want[i], "timer #%" PRIu64 " to arrive was the %"
		    PRIu64 " ms one, expected %" PRIu64 " ms", i, v, want[i]);
		A_CHECK(at >= (double)v / 1000, "the %" PRIu64 " ms timer "
		    "fired after %.4f s", v, at);
	}
	atomic_fetch_add(&sa_steps, 1);

	/* the same delay: the order they were set */
	for (i = 0; i < 5; i++) {
		err = snow_timer_send_after(self, 30, &i, sizeof(i));
		A_CHECK(err == 0, "send_after: %s", strerror(err));
	}
	for (i = 0; i < 5; i++)
		if (!recv_u64_is(WAIT_MS, i, "timers with the same delay"))
			return;
	atomic_fetch_add(&sa_steps, 1);

	/* ms <= 0: at once */
	v = 7;
	err = snow_timer_send_after(self, 0, &v, sizeof(v));
	A_CHECK(err == 0, "send_after(0): %s", strerror(err));
	if (!recv_u64_is(0, 7, "send_after with 0 ms, then receive(0)"))
		return;
	v = 8;
	err = snow_timer_send_after(self, -5, &v, sizeof(v));
	A_CHECK(err == 0, "send_after(-5): %s", strerror(err));
	if (!recv_u64_is(0, 8, "send_after with -5 ms, then receive(0)"))
		return;
	/* an immediate one is not held back by a pending longer one */
	v = 100;
	snow_timer_send_after(self, 60, &v, sizeof(v));
	v = 0;
	snow_timer_send_after(self, 0, &v, sizeof(v));
	if (!recv_u64_is(WAIT_MS, 0, "immediate after a pending timer") ||
	    !recv_u64_is(WAIT_MS, 100, "the pending timer"))
		return;
	atomic_fetch_add(&sa_steps, 1);

	/* the body is copied when the timer is set */
	err = snow_timer_send_after(self, 10, buf, sizeof(buf));
	A_CHECK(err == 0, "send_after: %s", strerror(err));
	memcpy(buf, "after!", 7);
	m = snow_actor_receive(WAIT_MS);
	A_CHECK(m != NULL && m->tag == SNOW_MSG_DATA && m->len == 8 &&
	    memcmp(m->data, "before", 7) == 0, "send_after did not copy the "
	    "body when set");
	err = snow_timer_send_after(self, 10, NULL, 5);
	A_CHECK(err == EINVAL, "send_after(NULL, 5): %d", err);
	atomic_fetch_add(&sa_steps, 1);
}

static double sa_main_arrived;

static void
wait_main_timer(const void *arg)
{
	(void)arg;
	if (recv_u64_is(-1, 1234, "send_after from main"))
		sa_main_arrived = now();
}

START_TEST(send_after_fires_in_deadline_order)
{
	uint64_t pid, v = 1234;
	double set_at;

	reset_fails();
	atomic_store(&sa_steps, 0);
	sa_main_arrived = 0;
	init_ok(2);
	spawn_ok(send_after_actor, NULL, 0, SNOW_PRIO_NORMAL);
	pid = spawn_ok(wait_main_timer, NULL, 0, SNOW_PRIO_NORMAL);
	set_at = now();
	ck_assert_int_eq(snow_timer_send_after(pid, 60, &v, sizeof(v)), 0);
	v = 0;		/* copied already */
	/* At once: the actor waits for ever, with a timer pending. */
	run_ok();
	assert_no_fails();
	ck_assert_int_eq(atomic_load(&sa_steps), 4);
	ck_assert_msg(sa_main_arrived - set_at >= 0.060 &&
	    sa_main_arrived - set_at < 5.0, "a 60 ms timer set by main "
	    "fired after %.4f s", sa_main_arrived - set_at);
	ck_assert_uint_eq(stats_ok().blocked_ended, 0);
}
END_TEST

/* Timers to PIDs not alive when they fire are dropped and counted. */
static _Atomic int sad_done;

static void
wait_quit(const void *arg)
{
	struct cmd c;

	(void)arg;
	a_recv_cmd(WAIT_MS, CMD_STOP, &c);
}

static void
send_after_to_dead(const void *arg)
{
	uint64_t d, v = 5;
	int err;

	(void)arg;
	snow_actor_trap_exit();
	d = a_spawn(wait_quit, NULL, 0);
	a_link(d);
	/* Armed while d lives, fires after it ended. */
	err = snow_timer_send_after(d, 300, &v, sizeof(v));
	A_CHECK(err == 0, "send_after: %s", strerror(err));
	a_send_cmd(d, CMD_STOP, 0, 0);
	a_expect_exit(WAIT_MS, d, SNOW_EXIT_NORMAL);
	/* Armed after it ended, and to a PID never used. */
	err = snow_timer_send_after(d, 20, &v, sizeof(v));
	A_CHECK(err == 0, "send_after to the dead: %s", strerror(err));
	err = snow_timer_send_after(NEVER_USED_PID, 10, &v, sizeof(v));
	A_CHECK(err == 0, "send_after to a PID never used: %s",
	    strerror(err));
	err = snow_timer_send_after(d, 0, &v, sizeof(v));
	A_CHECK(err == 0, "send_after(0) to the dead: %s", strerror(err));
	/* Stay alive until they have all fired. */
	snow_timer_sleep(450);
	atomic_store(&sad_done, 1);
}

START_TEST(send_after_to_the_dead_is_dropped)
{
	struct snow_rt_stats st;
	uint64_t v = 9;

	reset_fails();
	atomic_store(&sad_done, 0);
	init_ok(2);
	spawn_ok(send_after_to_dead, NULL, 0, SNOW_PRIO_NORMAL);
	/* From main, to a PID never used. */
	ck_assert_int_eq(snow_timer_send_after(NEVER_USED_PID, 10, &v,
	    sizeof(v)), 0);
	run_ok();
	assert_no_fails();
	ck_assert_int_eq(atomic_load(&sad_done), 1);
	st = stats_ok();
	ck_assert_uint_eq(st.dropped, 5);
}
END_TEST

/* ================================================================== */
/* Links */

/* Waits for CMD_GO, then exits with the reason in it (after unlinking
 * the PID in its b, if any). */
static _Atomic int go_exit_returned;

static void
exit_on_go(const void *arg)
{
	struct cmd c;

	(void)arg;
	if (!a_recv_cmd(-1, CMD_GO, &c))
		return;
	if (c.a == SNOW_EXIT_NORMAL && c.b == UINT64_MAX)
		return;		/* return normally instead */
	if (c.b != 0)
		A_CHECK(snow_actor_unlink(c.b) == 0, "unlink(%" PRIu64 ")",
		    c.b);
	snow_actor_exit(snow_actor_self(), c.a);
	atomic_store(&go_exit_returned, 1);	/* never */
}

/* -- an error ends a non-trapping linked actor -- */

static _Atomic int le_passed;
static _Atomic int le_observed;

struct link_wait_args {
	uint64_t peer;		/* link to this */
	uint64_t report;	/* then tell this one CMD_READY */
};

static void
link_then_wait(const void *arg)
{
	const struct link_wait_args *a = arg;

	a_link(a->peer);
	a_send_cmd(a->report, CMD_READY, snow_actor_self(), 0);
	snow_actor_receive(-1);
	atomic_fetch_add(&le_passed, 1);	/* never */
}

static void
error_link_observer(const void *arg)
{
	struct link_wait_args la;
	uint64_t b = *(const uint64_t *)arg, a;
	struct cmd c;

	snow_actor_trap_exit();
	la.peer = b;
	la.report = snow_actor_self();
	a = a_spawn(link_then_wait, &la, sizeof(la));
	a_link(a);
	if (!a_recv_cmd(WAIT_MS, CMD_READY, &c))
		return;
	a_send_cmd(b, CMD_GO, SNOW_EXIT_ERROR, 0);
	a_expect_exit(WAIT_MS, a, SNOW_EXIT_LINKED);
	atomic_store(&le_observed, 1);
}

START_TEST(link_error_ends_non_trapping_partner)
{
	uint64_t b;

	reset_fails();
	atomic_store(&le_passed, 0);
	atomic_store(&le_observed, 0);
	atomic_store(&go_exit_returned, 0);
	init_ok(2);
	b = spawn_ok(exit_on_go, NULL, 0, SNOW_PRIO_NORMAL);
	spawn_ok(error_link_observer, &b, sizeof(b), SNOW_PRIO_NORMAL);
	run_ok();
	assert_no_fails();
	ck_assert_int_eq(atomic_load(&le_passed), 0);
	ck_assert_int_eq(atomic_load(&go_exit_returned), 0);
	ck_assert_int_eq(atomic_load(&le_observed), 1);
	/* Ended by the link, not as blocked for ever. */
	ck_assert_uint_eq(stats_ok().blocked_ended, 0);
}
END_TEST

/* -- a trapping actor receives the exit as a message -- */

static _Atomic int lt_done;

static void
trap_and_link(const void *arg)
{
	uint64_t b = *(const uint64_t *)arg;
	int prev;

	prev = snow_actor_set_trap_exit(1);
	A_CHECK(prev == 0, "first trap_exit(1) returned %d", prev);
	a_link(b);
	a_send_cmd(b, CMD_GO, SNOW_EXIT_ERROR, 0);
	a_expect_exit(WAIT_MS, b, SNOW_EXIT_ERROR);
	atomic_store(&lt_done, 1);
}

START_TEST(link_error_trapped_as_message)
{
	uint64_t b;

	reset_fails();
	atomic_store(&lt_done, 0);
	atomic_store(&go_exit_returned, 0);
	init_ok(2);
	b = spawn_ok(exit_on_go, NULL, 0, SNOW_PRIO_NORMAL);
	spawn_ok(trap_and_link, &b, sizeof(b), SNOW_PRIO_NORMAL);
	run_ok();
	assert_no_fails();
	ck_assert_int_eq(atomic_load(&lt_done), 1);
	ck_assert_int_eq(atomic_load(&go_exit_returned), 0);
	ck_assert_uint_eq(stats_ok().blocked_ended, 0);
}
END_TEST

/* -- every reason reaches a trapping link as it was given -- */

static _Atomic int er_after_exit, er_seen[4];

static void
link_and_exit(const void *arg)
{
	const uint64_t *a = arg;	/* {watcher, reason} */

	a_link(a[0]);
	snow_actor_exit(snow_actor_self(), a[1]);
	atomic_store(&er_after_exit, 1);	/* never */
}

static void
reason_watcher(const void *arg)
{
	uint64_t pids[4], args[2], r;
	struct snow_exit_msg e;
	int i, j;

	(void)arg;
	snow_actor_trap_exit();
	for (r = 0; r < 4; r++) {
		args[0] = snow_actor_self();
		args[1] = r;
		pids[r] = a_spawn(link_and_exit, args, sizeof(args));
	}
	for (i = 0; i < 4; i++) {
		if (!a_recv_exit(WAIT_MS, &e))
			return;
		for (j = 0; j < 4; j++)
			if (pids[j] == e.pid) {
				A_CHECK(e.reason == (uint64_t)j, "exit(%d) "
				    "arrived as reason %" PRIu64, j, e.reason);
				atomic_fetch_add(&er_seen[j], 1);
			}
	}
}

START_TEST(exit_reasons_reach_links)
{
	int i;

	reset_fails();
	atomic_store(&er_after_exit, 0);
	for (i = 0; i < 4; i++)
		atomic_store(&er_seen[i], 0);
	init_ok(2);
	spawn_ok(reason_watcher, NULL, 0, SNOW_PRIO_NORMAL);
	run_ok();
	assert_no_fails();
	ck_assert_int_eq(atomic_load(&er_after_exit), 0);
	for (i = 0; i < 4; i++)
		ck_assert_msg(atomic_load(&er_seen[i]) == 1, "reason %d seen "
		    "%d times", i, atomic_load(&er_seen[i]));
}
END_TEST

/* -- a normal exit leaves non-trapping links alone -- */

static _Atomic int ln_survived[2], ln_observed[2];

struct normal_args {
	uint64_t b;
	uint64_t observer;
	int mode;
};

static void
survive_normal(const void *arg)
{
	const struct normal_args *a = arg;
	struct cmd c;

	a_link(a->b);
	a_send_cmd(a->observer, CMD_READY, 0, 0);
	/* A data message, never an exit message: it does not trap. */
	if (!a_recv_cmd(-1, CMD_PEER_DEAD, &c))
		return;
	snow_timer_sleep(50);	/* room for a wrong signal to land */
	atomic_store(&ln_survived[a->mode], 1);
}

static void
normal_observer(const void *arg)
{
	int mode = *(const int *)arg;
	struct normal_args na;
	uint64_t a;
	struct cmd c;

	snow_actor_trap_exit();
	na.b = a_spawn(exit_on_go, NULL, 0);
	na.observer = snow_actor_self();
	na.mode = mode;
	a_link(na.b);
	a = a_spawn(survive_normal, &na, sizeof(na));
	a_link(a);
	if (!a_recv_cmd(WAIT_MS, CMD_READY, &c))
		return;
	/* mode 0: b returns; mode 1: b calls snow_actor_exit(NORMAL) */
	a_send_cmd(na.b, CMD_GO, SNOW_EXIT_NORMAL, mode == 0 ? UINT64_MAX : 0);
	a_expect_exit(WAIT_MS, na.b, SNOW_EXIT_NORMAL);
	a_send_cmd(a, CMD_PEER_DEAD, 0, 0);
	a_expect_exit(WAIT_MS, a, SNOW_EXIT_NORMAL);
	atomic_store(&ln_observed[mode], 1);
}

START_TEST(link_normal_exit_is_ignored)
{
	int mode;

	reset_fails();
	atomic_store(&go_exit_returned, 0);
	for (mode = 0; mode < 2; mode++) {
		atomic_store(&ln_survived[mode], 0);
		atomic_store(&ln_observed[mode], 0);
	}
	init_ok(2);
	for (mode = 0; mode < 2; mode++)
		spawn_ok(normal_observer, &mode, sizeof(mode),
		    SNOW_PRIO_NORMAL);
	run_ok();
	assert_no_fails();
	for (mode = 0; mode < 2; mode++) {
		ck_assert_msg(atomic_load(&ln_survived[mode]) == 1, "mode %d: "
		    "a normal exit ended a non-trapping link", mode);
		ck_assert_int_eq(atomic_load(&ln_observed[mode]), 1);
	}
	ck_assert_int_eq(atomic_load(&go_exit_returned), 0);
	ck_assert_uint_eq(stats_ok().blocked_ended, 0);
}
END_TEST

/* -- linking to a PID not alive -- */

static _Atomic int ld_trapped_done, ld_passed, ld_observed;

static void
link_dead_trapping(const void *arg)
{
	struct snow_exit_msg e;
	uint64_t d;
	int err;

	(void)arg;
	snow_actor_trap_exit();
	err = snow_actor_link(NEVER_USED_PID);
	A_CHECK(err == 0, "link to a PID never used: %s", strerror(err));
	/* "at once": already in the mailbox */
	if (!a_recv_exit(0, &e))
		return;
	A_CHECK(e.pid == NEVER_USED_PID && e.reason == SNOW_EXIT_NOPROC,
	    "link to a PID never used: exit {%" PRIu64 ", %" PRIu64 "}",
	    e.pid, e.reason);
	/* An actor that certainly ended: */
	d = a_spawn(return_at_once, NULL, 0);
	a_link(d);
	if (!a_recv_exit(WAIT_MS, &e))
		return;
	A_CHECK(e.pid == d && (e.reason == SNOW_EXIT_NORMAL ||
	    e.reason == SNOW_EXIT_NOPROC), "exit {%" PRIu64 ", %" PRIu64 "}",
	    e.pid, e.reason);
	err = snow_actor_link(d);
	A_CHECK(err == 0, "link to an ended actor: %s", strerror(err));
	if (!a_recv_exit(0, &e))
		return;
	A_CHECK(e.pid == d && e.reason == SNOW_EXIT_NOPROC, "link to an "
	    "ended actor: exit {%" PRIu64 ", %" PRIu64 "}", e.pid, e.reason);
	err = snow_actor_unlink(d);
	A_CHECK(err == 0, "unlink of an ended actor: %d", err);
	atomic_store(&ld_trapped_done, 1);
}

static void
link_dead_plain(const void *arg)
{
	struct cmd c;

	(void)arg;
	if (!a_recv_cmd(WAIT_MS, CMD_GO, &c))
		return;
	snow_actor_link(c.a);
	snow_actor_yield();
	snow_actor_receive(-1);
	atomic_store(&ld_passed, 1);	/* never */
}

static void
link_dead_observer(const void *arg)
{
	uint64_t x;

	(void)arg;
	snow_actor_trap_exit();
	x = a_spawn(link_dead_plain, NULL, 0);
	a_link(x);
	a_send_cmd(x, CMD_GO, NEVER_USED_PID, 0);
	a_expect_exit(WAIT_MS, x, SNOW_EXIT_LINKED);
	atomic_store(&ld_observed, 1);
}

START_TEST(link_to_a_pid_not_alive)
{
	reset_fails();
	atomic_store(&ld_trapped_done, 0);
	atomic_store(&ld_passed, 0);
	atomic_store(&ld_observed, 0);
	init_ok(2);
	spawn_ok(link_dead_trapping, NULL, 0, SNOW_PRIO_NORMAL);
	spawn_ok(link_dead_observer, NULL, 0, SNOW_PRIO_NORMAL);
	run_ok();
	assert_no_fails();
	ck_assert_int_eq(atomic_load(&ld_trapped_done), 1);
	ck_assert_int_eq(atomic_load(&ld_passed), 0);
	ck_assert_int_eq(atomic_load(&ld_observed), 1);
	ck_assert_uint_eq(stats_ok().blocked_ended, 0);
}
END_TEST

/* -- a chain of links goes down as one -- */

#define CHAIN_LEN 20

struct chain_args {
	uint64_t depth;
	uint64_t parent;
	uint64_t observer;
};

static _Atomic int chain_passed, chain_built, chain_observed;

static void
chain_node(const void *arg)
{
	const struct chain_args *a = arg;
	struct chain_args child;
	struct cmd c;

	a_link(a->parent);
	atomic_fetch_add(&chain_built, 1);
	if (a->depth + 1 < CHAIN_LEN) {
		child.depth = a->depth + 1;
		child.parent = snow_actor_self();
		child.observer = a->observer;
		a_spawn(chain_node, &child, sizeof(child));
		snow_actor_receive(-1);
		atomic_fetch_add(&chain_passed, 1);	/* never */
		return;
	}
	/* The last one: every link exists now. */
	a_send_cmd(a->observer, CMD_READY, snow_actor_self(), 0);
	if (a_recv_cmd(-1, CMD_GO, &c))
		snow_actor_exit(snow_actor_self(), SNOW_EXIT_ERROR);
	atomic_fetch_add(&chain_passed, 1);	/* never */
}

static void
chain_observer(const void *arg)
{
	struct chain_args first;
	uint64_t head;
	struct cmd c;

	(void)arg;
	snow_actor_trap_exit();
	first.depth = 0;
	first.parent = snow_actor_self();
	first.observer = snow_actor_self();
	head = a_spawn(chain_node, &first, sizeof(first));
	if (!a_recv_cmd(WAIT_MS, CMD_READY, &c))
		return;
	a_send_cmd(c.a, CMD_GO, 0, 0);
	a_expect_exit(WAIT_MS, head, SNOW_EXIT_LINKED);
	atomic_store(&chain_observed, 1);
}

START_TEST(link_chain_goes_down_together)
{
	reset_fails();
	atomic_store(&chain_passed, 0);
	atomic_store(&chain_built, 0);
	atomic_store(&chain_observed, 0);
	init_ok(2);
	spawn_ok(chain_observer, NULL, 0, SNOW_PRIO_NORMAL);
	run_ok();
	assert_no_fails();
	ck_assert_int_eq(atomic_load(&chain_built), CHAIN_LEN);
	ck_assert_int_eq(atomic_load(&chain_passed), 0);
	ck_assert_int_eq(atomic_load(&chain_observed), 1);
	ck_assert_uint_eq(stats_ok().blocked_ended, 0);
}
END_TEST

/* -- unlink stops the propagation, from either side -- */

static _Atomic int ul_survived[3], ul_observed[3];

struct unlink_args {
	uint64_t b;
	uint64_t observer;
	int mode;	/* 0: a unlinks; 1: b unlinks; 2: a traps, unlinks */
};

static void
unlinking_actor(const void *arg)
{
	const struct unlink_args *a = arg;
	const struct snow_msg *m;
	struct cmd c;
	int err;

	if (a->mode == 2)
		snow_actor_trap_exit();
	a_link(a->b);
	if (a->mode != 1) {
		err = snow_actor_unlink(a->b);
		A_CHECK(err == 0, "unlink: %d", err);
	}
	a_send_cmd(a->observer, CMD_READY, 0, 0);
	if (!a_recv_cmd(-1, CMD_PEER_DEAD, &c))
		return;
	snow_timer_sleep(50);	/* room for a wrong signal to land */
	if (a->mode == 2) {
		a_set_errno(0);
		m = snow_actor_receive(0);
		A_CHECK(m == NULL && a_errno() == EAGAIN, "an exit message "
		    "came through an unlinked link (tag %" PRIu64 ")",
		    m != NULL ? m->tag : 0);
	}
	atomic_store(&ul_survived[a->mode], 1);
}

static void
unlink_observer(const void *arg)
{
	int mode = *(const int *)arg;
	struct unlink_args ua;
	uint64_t a;
	struct cmd c;

	snow_actor_trap_exit();
	ua.b = a_spawn(exit_on_go, NULL, 0);
	ua.observer = snow_actor_self();
	ua.mode = mode;
	a_link(ua.b);
	a = a_spawn(unlinking_actor, &ua, sizeof(ua));
	a_link(a);
	if (!a_recv_cmd(WAIT_MS, CMD_READY, &c))
		return;
	a_send_cmd(ua.b, CMD_GO, SNOW_EXIT_ERROR, mode == 1 ? a : 0);
	a_expect_exit(WAIT_MS, ua.b, SNOW_EXIT_ERROR);
	a_send_cmd(a, CMD_PEER_DEAD, 0, 0);
	a_expect_exit(WAIT_MS, a, SNOW_EXIT_NORMAL);
	atomic_store(&ul_observed[mode], 1);
}

START_TEST(unlink_stops_propagation)
{
	int mode;

	reset_fails();
	atomic_store(&go_exit_returned, 0);
	for (mode = 0; mode < 3; mode++) {
		atomic_store(&ul_survived[mode], 0);
		atomic_store(&ul_observed[mode], 0);
	}
	init_ok(2);
	for (mode = 0; mode < 3; mode++)
		spawn_ok(unlink_observer, &mode, sizeof(mode),
		    SNOW_PRIO_NORMAL);
	run_ok();
	assert_no_fails();
	for (mode = 0; mode < 3; mode++) {
		ck_assert_msg(atomic_load(&ul_survived[mode]) == 1, "mode %d: "
		    "the unlinked actor did not survive", mode);
		ck_assert_int_eq(atomic_load(&ul_observed[mode]), 1);
	}
	ck_assert_uint_eq(stats_ok().blocked_ended, 0);
}
END_TEST

/* -- trap_exit's return value, linking twice, linking to oneself -- */

static _Atomic int tx_done;
static int tx_prev[6];

static void
trap_and_twice(const void *arg)
{
	uint64_t self = snow_actor_self(), b;
	const struct snow_msg *m;
	int err, i;

	(void)arg;
	tx_prev[0] = snow_actor_set_trap_exit(1);
	tx_prev[1] = snow_actor_set_trap_exit(1);
	tx_prev[2] = snow_actor_set_trap_exit(0);
	tx_prev[3] = snow_actor_set_trap_exit(0);
	tx_prev[4] = snow_actor_set_trap_exit(5);	/* any non-zero is on */
	tx_prev[5] = snow_actor_set_trap_exit(1);
	/* Linking to oneself is a no-op: no message, no end. */
	err = snow_actor_link(self);
	A_CHECK(err == 0, "link to self: %d", err);
	a_set_errno(0);
	m = snow_actor_receive(0);
	A_CHECK(m == NULL && a_errno() == EAGAIN,
	    "link to self sent a message");
	/* Linking twice: one link, one exit message. */
	b = a_spawn(exit_on_go, NULL, 0);
	a_link(b);
	a_link(b);
	a_send_cmd(b, CMD_GO, SNOW_EXIT_ERROR, 0);
	a_expect_exit(WAIT_MS, b, SNOW_EXIT_ERROR);
	a_set_errno(0);
	m = snow_actor_receive(100);
	A_CHECK(m == NULL && a_errno() == ETIMEDOUT, "a second message after a "
	    "double link (tag %" PRIu64 ")", m != NULL ? m->tag : 0);
	/* Linking twice then unlinking once leaves no link. */
	b = a_spawn(exit_on_go, NULL, 0);
	a_link(b);
	a_link(b);
	err = snow_actor_unlink(b);
	A_CHECK(err == 0, "unlink: %d", err);
	a_send_cmd(b, CMD_GO, SNOW_EXIT_ERROR, 0);
	for (i = 0; i < 10000 && snow_actor_kill(b) != ESRCH; i++)
		snow_timer_sleep(1);	/* wait for its end */
	a_set_errno(0);
	m = snow_actor_receive(100);
	A_CHECK(m == NULL && a_errno() == ETIMEDOUT, "an exit message after "
	    "link, link, unlink (tag %" PRIu64 ")", m != NULL ? m->tag : 0);
	atomic_store(&tx_done, 1);
}

START_TEST(trap_exit_and_link_no_ops)
{
	reset_fails();
	atomic_store(&tx_done, 0);
	memset(tx_prev, 0xff, sizeof(tx_prev));
	init_ok(2);
	spawn_ok(trap_and_twice, NULL, 0, SNOW_PRIO_NORMAL);
	run_ok();
	assert_no_fails();
	ck_assert_int_eq(atomic_load(&tx_done), 1);
	ck_assert_int_eq(tx_prev[0], 0);
	ck_assert_int_eq(tx_prev[1], 1);
	ck_assert_int_eq(tx_prev[2], 1);
	ck_assert_int_eq(tx_prev[3], 0);
	ck_assert_int_eq(tx_prev[4], 0);
	ck_assert_int_eq(tx_prev[5], 1);
}
END_TEST

/* ================================================================== */
/* Kill */

static _Atomic int kv_passed, kv_started, kv_done;
static double kv_spin_killed_after, kv_sleep_killed_after;

/* arg: NULL, or passed through: an _Atomic int to set once started */
static void
victim_receive(const void *arg)
{
	if (arg != NULL)
		atomic_store((_Atomic int *)arg, 1);
	snow_actor_receive(-1);
	atomic_fetch_add(&kv_passed, 1);	/* never */
}

static void
victim_trapping(const void *arg)
{
	uint64_t killer = *(const uint64_t *)arg;

	snow_actor_trap_exit();	/* no help against a kill */
	a_send_cmd(killer, CMD_READY, 0, 0);
	snow_actor_receive(-1);
	atomic_fetch_add(&kv_passed, 1);	/* never */
}

static void
victim_spinner(const void *arg)
{
	uint64_t killer = *(const uint64_t *)arg;
	double end = now() + 5.0;

	a_send_cmd(killer, CMD_READY, 0, 0);
	while (now() < end)
		snow_reduction_check();
	atomic_fetch_add(&kv_passed, 1);	/* only if the kill failed */
}

static void
victim_sleeper(const void *arg)
{
	uint64_t killer = *(const uint64_t *)arg;

	a_send_cmd(killer, CMD_READY, 0, 0);
	/* Stretched with the bounds on its kill, to stay past them. */
	snow_timer_sleep((int64_t)(5000 * slack()));
	atomic_fetch_add(&kv_passed, 1);	/* never */
}

static void
killer(const void *arg)
{
	uint64_t self = snow_actor_self(), v;
	struct cmd c;
	double t0;
	int err;

	(void)arg;
	snow_actor_trap_exit();
	/* parked in receive */
	v = a_spawn(victim_receive, NULL, 0);
	a_link(v);
	err = snow_actor_kill(v);
	A_CHECK(err == 0, "kill: %d", err);
	a_expect_exit(WAIT_MS, v, SNOW_EXIT_KILLED);
	err = snow_actor_kill(v);
	A_CHECK(err == ESRCH, "kill of a killed actor: %d", err);
	err = snow_actor_kill(NEVER_USED_PID);
	A_CHECK(err == ESRCH, "kill of a PID never used: %d", err);
	err = snow_actor_kill(0);
	A_CHECK(err == EINVAL, "kill(0): %d", err);
	/* trapping exits does not help */
	v = a_spawn(victim_trapping, &self, sizeof(self));
	a_link(v);
	if (!a_recv_cmd(WAIT_MS, CMD_READY, &c))
		return;
	err = snow_actor_kill(v);
	A_CHECK(err == 0, "kill: %d", err);
	a_expect_exit(WAIT_MS, v, SNOW_EXIT_KILLED);
	/* busy: ends at its spent slice */
	v = a_spawn(victim_spinner, &self, sizeof(self));
	a_link(v);
	if (!a_recv_cmd(WAIT_MS, CMD_READY, &c))
		return;
	t0 = now();
	err = snow_actor_kill(v);
	A_CHECK(err == 0, "kill: %d", err);
	a_expect_exit(WAIT_MS, v, SNOW_EXIT_KILLED);
	kv_spin_killed_after = now() - t0;
	/* asleep: waits, so ends at once */
	v = a_spawn(victim_sleeper, &self, sizeof(self));
	a_link(v);
	if (!a_recv_cmd(WAIT_MS, CMD_READY, &c))
		return;
	t0 = now();
	err = snow_actor_kill(v);
	A_CHECK(err == 0, "kill: %d", err);
	a_expect_exit(WAIT_MS, v, SNOW_EXIT_KILLED);
	kv_sleep_killed_after = now() - t0;
	atomic_store(&kv_done, 1);
}

START_TEST(kill_ends_actors)
{
	uint64_t v;

	reset_fails();
	atomic_store(&kv_passed, 0);
	atomic_store(&kv_started, 0);
	atomic_store(&kv_done, 0);
	kv_spin_killed_after = kv_sleep_killed_after = -1;
	init_ok(2);
	spawn_ok(killer, NULL, 0, SNOW_PRIO_NORMAL);
	/* And from the main thread, an actor parked in receive. */
	v = spawn_ok(victim_receive, (const void *)&kv_started, 0,
	    SNOW_PRIO_NORMAL);
	ck_assert_int_eq(wait_flag(&kv_started, 1), 1);
	usleep(20000);		/* let it park */
	ck_assert_int_eq(snow_actor_kill(v), 0);
	ck_assert(wait_dead(v));
	ck_assert_int_eq(snow_actor_kill(v), ESRCH);
	ck_assert_int_eq(snow_actor_kill(0), EINVAL);
	ck_assert_int_eq(snow_actor_kill(NEVER_USED_PID), ESRCH);
	run_ok();
	assert_no_fails();
	ck_assert_int_eq(atomic_load(&kv_done), 1);
	ck_assert_int_eq(atomic_load(&kv_passed), 0);
	/* Bounds stretched by slack(): valgrind runs one thread at a time,
	 * and a loaded machine can hold a worker for seconds. */
	ck_assert_msg(kv_spin_killed_after >= 0 &&
	    kv_spin_killed_after < 3.0 * slack(),
	    "a busy actor ended %.3f s after its kill", kv_spin_killed_after);
	ck_assert_msg(kv_sleep_killed_after >= 0 &&
	    kv_sleep_killed_after < 2.5 * slack(), "an actor sleeping for "
	    "%.0f s ended %.3f s after its kill", 5 * slack(),
	    kv_sleep_killed_after);
	/* Killed, not ended as blocked for ever. */
	ck_assert_uint_eq(stats_ok().blocked_ended, 0);
}
END_TEST

/* ================================================================== */
/* Names */

static _Atomic int nm_registered, nm_steps;
static _Atomic uint64_t nm_found_by_peer, nm_holder;

static void
name_peer(const void *arg)
{
	uint64_t holder = *(const uint64_t *)arg, found;
	int err;

	(void)holder;
	found = snow_actor_whereis("alpha", 5);
	atomic_store(&nm_found_by_peer, found);
	err = snow_actor_register("alpha", 5);
	A_CHECK(err == EEXIST, "register of a taken name: %d", err);
	/* A taken name can still be had by another actor under another
	 * name. */
	err = snow_actor_register("alpha2", 6);
	A_CHECK(err == 0, "register alpha2: %d", err);
	if (found != 0)
		a_send(found, "hi", 2);
}

static void
name_holder(const void *arg)
{
	uint64_t self = snow_actor_self(), found;
	const struct snow_msg *m;
	int err, i, hi = 0, stop = 0;

	(void)arg;
	err = snow_actor_register("alpha", 5);
	A_CHECK(err == 0, "register alpha: %d", err);
	found = snow_actor_whereis("alpha", 5);
	A_CHECK(found == self, "whereis of my own name: %" PRIu64, found);
	err = snow_actor_register("beta", 4);
	A_CHECK(err == EALREADY, "a second name: %d", err);
	a_set_errno(0);
	A_CHECK(snow_actor_whereis("beta", 4) == 0 && a_errno() == ESRCH,
	    "the refused second name was registered");
	atomic_store(&nm_holder, self);
	atomic_store(&nm_registered, 1);
	a_spawn(name_peer, &self, sizeof(self));
	/* The peer found us by name, and main said stop: in any order. */
	for (i = 0; i < 2; i++) {
		m = snow_actor_receive(WAIT_MS);
		if (m == NULL) {
			actor_fail("name holder: receive: %s",
			    strerror(a_errno()));
			return;
		}
		if (m->len == 2 && memcmp(m->data, "hi", 2) == 0)
			hi++;
		else if (m->len == 4 && memcmp(m->data, "stop", 4) == 0)
			stop++;
	}
	A_CHECK(hi == 1 && stop == 1, "name holder: %d hi from the peer, %d "
	    "stop from main", hi, stop);
	atomic_fetch_add(&nm_steps, 1);
}

START_TEST(register_and_whereis)
{
	uint64_t holder;

	reset_fails();
	atomic_store(&nm_registered, 0);
	atomic_store(&nm_steps, 0);
	atomic_store(&nm_found_by_peer, 0);
	atomic_store(&nm_holder, 0);
	init_ok(2);
	errno = 0;
	ck_assert_uint_eq(snow_actor_whereis("alpha", 5), 0);
	ck_assert_int_eq(errno, ESRCH);
	holder = spawn_ok(name_holder, NULL, 0, SNOW_PRIO_NORMAL);
	ck_assert_int_eq(wait_flag(&nm_registered, 1), 1);
	ck_assert_uint_eq(snow_actor_whereis("alpha", 5), holder);
	/* Not a prefix, not an extension. */
	errno = 0;
	ck_assert_uint_eq(snow_actor_whereis("alph", 4), 0);
	ck_assert_int_eq(errno, ESRCH);
	errno = 0;
	ck_assert_uint_eq(snow_actor_whereis("alphaX", 6), 0);
	ck_assert_int_eq(errno, ESRCH);
	ck_assert_int_eq(snow_actor_send(snow_actor_whereis("alpha", 5),
	    "stop", 4), 0);
	run_ok();
	assert_no_fails();
	ck_assert_int_eq(atomic_load(&nm_steps), 1);
	ck_assert_uint_eq(atomic_load(&nm_holder), holder);
	ck_assert_uint_eq(atomic_load(&nm_found_by_peer), holder);
}
END_TEST

#define LONG_NAME_FILL 'n'

static _Atomic int ne_steps;

static void
name_errors_actor(const void *arg)
{
	char max[SNOW_NAME_MAX + 1];
	uint64_t self = snow_actor_self(), pid;
	int err;

	(void)arg;
	memset(max, LONG_NAME_FILL, sizeof(max));
	err = snow_actor_register(NULL, 3);
	A_CHECK(err == EINVAL, "register(NULL): %d", err);
	err = snow_actor_register("x", 0);
	A_CHECK(err == EINVAL, "register(len 0): %d", err);
	err = snow_actor_register(max, SNOW_NAME_MAX + 1);
	A_CHECK(err == EINVAL, "register(len SNOW_NAME_MAX + 1): %d", err);
	err = snow_actor_register(max, UINT64_MAX);
	A_CHECK(err == EINVAL, "register(len UINT64_MAX): %d", err);
	a_set_errno(0);
	pid = snow_actor_whereis(NULL, 3);
	A_CHECK(pid == 0 && a_errno() == EINVAL, "whereis(NULL): %" PRIu64
	    ", errno %d", pid, a_errno());
	a_set_errno(0);
	pid = snow_actor_whereis("x", 0);
	A_CHECK(pid == 0 && a_errno() == EINVAL, "whereis(len 0): errno %d",
	    a_errno());
	a_set_errno(0);
	pid = snow_actor_whereis(max, SNOW_NAME_MAX + 1);
	A_CHECK(pid == 0 && a_errno() == EINVAL, "whereis(len SNOW_NAME_MAX + "
	    "1): errno %d", a_errno());
	a_set_errno(0);
	pid = snow_actor_whereis("nobody", 6);
	A_CHECK(pid == 0 && a_errno() == ESRCH, "whereis(unknown): errno %d",
	    a_errno());
	/* The longest name works; a refused one left no trace. */
	err = snow_actor_register(max, SNOW_NAME_MAX);
	A_CHECK(err == 0, "register(len SNOW_NAME_MAX): %d", err);
	pid = snow_actor_whereis(max, SNOW_NAME_MAX);
	A_CHECK(pid == self, "whereis(len SNOW_NAME_MAX): %" PRIu64, pid);
	err = snow_actor_register("other", 5);
	A_CHECK(err == EALREADY, "second name: %d", err);
	atomic_fetch_add(&ne_steps, 1);
}

static void
binary_name_actor(const void *arg)
{
	uint64_t self = snow_actor_self(), pid;
	int err;

	(void)arg;
	err = snow_actor_register("a\0b", 3);
	A_CHECK(err == 0, "register(\"a\\0b\"): %d", err);
	pid = snow_actor_whereis("a\0b", 3);
	A_CHECK(pid == self, "whereis(\"a\\0b\"): %" PRIu64, pid);
	a_set_errno(0);
	pid = snow_actor_whereis("a\0c", 3);
	A_CHECK(pid == 0 && a_errno() == ESRCH, "whereis(\"a\\0c\"): %" PRIu64,
	    pid);
	a_set_errno(0);
	pid = snow_actor_whereis("a", 1);
	A_CHECK(pid == 0 && a_errno() == ESRCH, "whereis(\"a\"): %" PRIu64,
	    pid);
	atomic_fetch_add(&ne_steps, 1);
}

START_TEST(register_and_whereis_errors)
{
	char max[SNOW_NAME_MAX + 1];

	reset_fails();
	atomic_store(&ne_steps, 0);
	memset(max, LONG_NAME_FILL, sizeof(max));
	init_ok(2);
	errno = 0;
	ck_assert_uint_eq(snow_actor_whereis(NULL, 3), 0);
	ck_assert_int_eq(errno, EINVAL);
	errno = 0;
	ck_assert_uint_eq(snow_actor_whereis("x", 0), 0);
	ck_assert_int_eq(errno, EINVAL);
	errno = 0;
	ck_assert_uint_eq(snow_actor_whereis(max, SNOW_NAME_MAX + 1), 0);
	ck_assert_int_eq(errno, EINVAL);
	spawn_ok(name_errors_actor, NULL, 0, SNOW_PRIO_NORMAL);
	spawn_ok(binary_name_actor, NULL, 0, SNOW_PRIO_NORMAL);
	run_ok();
	assert_no_fails();
	ck_assert_int_eq(atomic_load(&ne_steps), 2);
}
END_TEST

/* A name is free again once its actor ended, however it ended. */
static _Atomic int nf_steps;

static void
register_then_wait(const void *arg)
{
	const uint64_t *a = arg;	/* {watcher, name index} */
	char name[8];
	struct cmd c;
	int err;

	snprintf(name, sizeof(name), "name%" PRIu64, a[1]);
	err = snow_actor_register(name, strlen(name));
	A_CHECK(err == 0, "register(%s): %d", name, err);
	a_send_cmd(a[0], CMD_READY, 0, 0);
	if (!a_recv_cmd(-1, CMD_GO, &c))
		return;
	if (c.a != SNOW_EXIT_NORMAL)
		snow_actor_exit(snow_actor_self(), c.a);
}

static void
name_reuse_watcher(const void *arg)
{
	uint64_t self = snow_actor_self(), args[2], r, pid, found;
	char name[8];
	struct cmd c;
	int err;

	(void)arg;
	snow_actor_trap_exit();
	/* 0: returns; 1: exits with an error; 2: killed */
	for (r = 0; r < 3; r++) {
		args[0] = self;
		args[1] = r;
		snprintf(name, sizeof(name), "name%" PRIu64, r);
		pid = a_spawn(register_then_wait, args, sizeof(args));
		a_link(pid);
		if (!a_recv_cmd(WAIT_MS, CMD_READY, &c))
			return;
		found = snow_actor_whereis(name, strlen(name));
		A_CHECK(found == pid, "whereis(%s): %" PRIu64 ", expected %"
		    PRIu64, name, found, pid);
		if (r == 2)
			A_CHECK(snow_actor_kill(pid) == 0, "kill");
		else
			a_send_cmd(pid, CMD_GO, r == 0 ? SNOW_EXIT_NORMAL :
			    SNOW_EXIT_ERROR, 0);
		a_expect_exit(WAIT_MS, pid, r == 0 ? SNOW_EXIT_NORMAL :
		    r == 1 ? SNOW_EXIT_ERROR : SNOW_EXIT_KILLED);
		/* It has ended: its name leads nowhere, or to a new owner. */
		a_set_errno(0);
		found = snow_actor_whereis(name, strlen(name));
		A_CHECK(found != pid, "whereis(%s) gave the ended actor %"
		    PRIu64, name, pid);
		A_CHECK(found == 0 && a_errno() == ESRCH, "whereis(%s) after "
		    "its actor ended: %" PRIu64 ", errno %d", name, found,
		    a_errno());
	}
	/* Anyone may take a freed name: here this actor takes name1. */
	err = snow_actor_register("name1", 5);
	A_CHECK(err == 0, "register of a freed name: %d", err);
	found = snow_actor_whereis("name1", 5);
	A_CHECK(found == self, "whereis(name1) after re-registering: %"
	    PRIu64, found);
	/* And another actor takes name2. */
	args[0] = self;
	args[1] = 2;
	pid = a_spawn(register_then_wait, args, sizeof(args));
	if (!a_recv_cmd(WAIT_MS, CMD_READY, &c))
		return;
	found = snow_actor_whereis("name2", 5);
	A_CHECK(found == pid, "whereis(name2) after its new actor "
	    "registered: %" PRIu64 ", expected %" PRIu64, found, pid);
	a_send_cmd(pid, CMD_GO, SNOW_EXIT_NORMAL, 0);
	atomic_store(&nf_steps, 1);
}

START_TEST(names_are_freed_when_actors_end)
{
	reset_fails();
	atomic_store(&nf_steps, 0);
	init_ok(2);
	spawn_ok(name_reuse_watcher, NULL, 0, SNOW_PRIO_NORMAL);
	run_ok();
	assert_no_fails();
	ck_assert_int_eq(atomic_load(&nf_steps), 1);
	ck_assert_uint_eq(stats_ok().blocked_ended, 0);
	/* A new runtime starts with no names. */
	init_ok(1);
	errno = 0;
	ck_assert_uint_eq(snow_actor_whereis("name1", 5), 0);
	ck_assert_int_eq(errno, ESRCH);
	run_ok();
}
END_TEST

/* ================================================================== */
/* Actors that wait for ever */

#define BLOCKED 5

static _Atomic int bf_passed, bf_timer_got, bf_timeout_got, bf_slept;
static _Atomic int bf_main_timer_got;

static void
wait_forever(const void *arg)
{
	(void)arg;
	snow_actor_receive(-1);
	atomic_fetch_add(&bf_passed, 1);	/* never */
}

static void
wait_for_own_timer(const void *arg)
{
	uint64_t self = snow_actor_self(), v = 42;

	(void)arg;
	A_CHECK(snow_timer_send_after(self, 150, &v, sizeof(v)) == 0,
	    "send_after");
	if (recv_u64_is(-1, 42, "a timer while blocked"))
		atomic_store(&bf_timer_got, 1);
}

static void
wait_with_timeout(const void *arg)
{
	const struct snow_msg *m;

	(void)arg;
	a_set_errno(0);
	m = snow_actor_receive(200);
	A_CHECK(m == NULL && a_errno() == ETIMEDOUT, "receive(200): %p, "
	    "errno %d", (const void *)m, a_errno());
	atomic_store(&bf_timeout_got, 1);
}

static void
sleep_then_flag(const void *arg)
{
	(void)arg;
	snow_timer_sleep(100);
	atomic_store(&bf_slept, 1);
}

static void
wait_for_main_timer(const void *arg)
{
	(void)arg;
	if (recv_u64_is(-1, 77, "a timer from main while blocked"))
		atomic_store(&bf_main_timer_got, 1);
}

START_TEST(blocked_for_ever_actors_are_ended)
{
	struct snow_rt_stats st;
	uint64_t pid, v = 77;
	double t0;
	int i;

	reset_fails();
	atomic_store(&bf_passed, 0);
	atomic_store(&bf_timer_got, 0);
	atomic_store(&bf_timeout_got, 0);
	atomic_store(&bf_slept, 0);
	atomic_store(&bf_main_timer_got, 0);
	init_ok(2);
	for (i = 0; i < BLOCKED; i++)
		spawn_ok(wait_forever, NULL, 0, SNOW_PRIO_NORMAL);
	/* None of these waits for ever: a timer is pending for each. */
	spawn_ok(wait_for_own_timer, NULL, 0, SNOW_PRIO_NORMAL);
	spawn_ok(wait_with_timeout, NULL, 0, SNOW_PRIO_NORMAL);
	spawn_ok(sleep_then_flag, NULL, 0, SNOW_PRIO_NORMAL);
	pid = spawn_ok(wait_for_main_timer, NULL, 0, SNOW_PRIO_NORMAL);
	ck_assert_int_eq(snow_timer_send_after(pid, 120, &v, sizeof(v)), 0);
	t0 = now();
	run_ok();		/* returns: does not hang */
	assert_no_fails();
	ck_assert_int_eq(atomic_load(&bf_passed), 0);
	ck_assert_int_eq(atomic_load(&bf_timer_got), 1);
	ck_assert_int_eq(atomic_load(&bf_timeout_got), 1);
	ck_assert_int_eq(atomic_load(&bf_slept), 1);
	ck_assert_int_eq(atomic_load(&bf_main_timer_got), 1);
	st = stats_ok();
	ck_assert_uint_eq(st.blocked_ended, BLOCKED);
	ck_assert_msg(now() - t0 < 10.0, "run_scheduler took %.3f s",
	    now() - t0);

	/* The count is per runtime; one worker this time. */
	init_ok(1);
	for (i = 0; i < 3; i++)
		spawn_ok(wait_forever, NULL, 0, SNOW_PRIO_NORMAL);
	run_ok();
	ck_assert_int_eq(atomic_load(&bf_passed), 0);
	ck_assert_uint_eq(stats_ok().blocked_ended, 3);
}
END_TEST

/*
 * A timeout abandoned early is no reason to wait: an actor that got its
 * message well before a 60 s timeout, then waits for ever, is ended as
 * blocked at once, not when the stale 60 s timer would have fired.  So is
 * one that first slept (a timer that fired) on another worker.
 */
static void
early_then_forever(const void *arg)
{
	(void)arg;
	if (a_recv_data(60000, 1) == NULL)
		return;
	snow_timer_sleep(5);
	(void)snow_actor_receive(-1);
	atomic_store(&bf_passed, 1);	/* must never get here */
}

static void
poke(const void *arg)
{
	a_send(*(const uint64_t *)arg, "x", 1);
}

START_TEST(stale_timeouts_do_not_delay_the_blocked_check)
{
	uint64_t pid;
	double t0;
	int i;

	reset_fails();
	atomic_store(&bf_passed, 0);
	init_ok(2);
	t0 = now();
	for (i = 0; i < 4; i++) {
		pid = spawn_ok(early_then_forever, NULL, 0, SNOW_PRIO_NORMAL);
		spawn_ok(poke, &pid, sizeof(pid), SNOW_PRIO_NORMAL);
	}
	run_ok();
	assert_no_fails();
	ck_assert_int_eq(atomic_load(&bf_passed), 0);
	ck_assert_uint_eq(stats_ok().blocked_ended, 4);
	ck_assert_msg(now() - t0 < 30.0, "run_scheduler took %.3f s: it "
	    "waited for the stale 60 s timers", now() - t0);
}
END_TEST

/*
 * Hibernation: actors parked in receive(-1) for a while give their stack
 * pages back, and come back whole when a message or a kill wakes them:
 * every byte of their frames where it was (a pointer to a local still
 * points at it), at the same address.
 */
#define HIB_ACTORS	2000
#define HIB_SMALL	200
#define HIB_WORDS	200

static _Atomic uint64_t hib_sum, hib_woke;

static NOFOLD uint64_t
hib_fill(volatile uint64_t *a, uint64_t seed)
{
	uint64_t i, x = seed;

	for (i = 0; i < HIB_WORDS; i++) {
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		a[i] = x;
	}
	return x;
}

static void
hib_actor(const void *arg)
{
	uint64_t index = *(const uint64_t *)arg;
	volatile uint64_t frame[HIB_WORDS];
	volatile uint64_t *self_ptr = &frame[HIB_WORDS / 2];
	uint64_t last = hib_fill(frame, index + 1), check[HIB_WORDS];
	const struct snow_msg *m;
	uint64_t i;

	A_CHECK(snow_actor_hibernate(0) == 1, "hibernation was off by default");
	A_CHECK(snow_actor_hibernate(1) == 0, "snow_actor_hibernate(0) did "
	    "not stick");
	m = snow_actor_receive(-1);
	atomic_fetch_add(&hib_woke, 1);
	A_CHECK(m != NULL && m->len == 8, "hibernated actor: bad message");
	hib_fill(check, index + 1);
	for (i = 0; i < HIB_WORDS; i++)
		A_CHECK(frame[i] == check[i], "hibernated actor %" PRIu64
		    ": word %" PRIu64 " of its frame changed", index, i);
	A_CHECK(self_ptr == &frame[HIB_WORDS / 2] &&
	    *self_ptr == check[HIB_WORDS / 2],
	    "hibernated actor: a pointer into its stack went stale");
	A_CHECK(last == check[HIB_WORDS - 1], "hibernated actor: a local "
	    "changed");
	if (m != NULL && m->len == 8) {
		memcpy(&i, m->data, 8);
		atomic_fetch_add(&hib_sum, i);
	}
}

START_TEST(parked_actors_hibernate_and_come_back_whole)
{
	uint64_t n = scaled_down() ? HIB_SMALL : HIB_ACTORS, i, expect = 0;
	uint64_t *pids = malloc(n * sizeof(*pids)), killed = 0;
	struct snow_rt_stats st;
	double end;

	ck_assert_ptr_nonnull(pids);
	reset_fails();
	atomic_store(&hib_sum, 0);
	atomic_store(&hib_woke, 0);
	init_ok(2);
	for (i = 0; i < n; i++)
		pids[i] = spawn_ok(hib_actor, &i, sizeof(i), SNOW_PRIO_NORMAL);
	/* Idle workers sweep every 20 ms; give a slow machine time. */
	end = now() + 30.0;
	do {
		usleep(10000);
		ck_assert_int_eq(snow_rt_stats(&st), 0);
	} while (st.hibernations < n && now() < end);
	ck_assert_msg(st.hibernations >= n, "%" PRIu64 " of %" PRIu64
	    " parked actors hibernated", st.hibernations, n);
	for (i = 0; i < n; i++) {
		if (i % 10 == 3) {	/* a kill wakes one too */
			ck_assert_int_eq(snow_actor_kill(pids[i]), 0);
			killed++;
			continue;
		}
		ck_assert_int_eq(snow_actor_send(pids[i], &i, sizeof(i)), 0);
		expect += i;
	}
	run_ok();
	assert_no_fails();
	ck_assert_uint_eq(atomic_load(&hib_woke), n - killed);
	ck_assert_uint_eq(atomic_load(&hib_sum), expect);
	st = stats_ok();
	ck_assert_uint_eq(st.blocked_ended, 0);
	ck_assert_uint_eq(st.exited, n);
	free(pids);
}
END_TEST

/*
 * A hibernated stack is PROT_NONE: whoever touches it through a pointer
 * to a local (a child given &local as its spawn argument, or another
 * thread) faults it back and reads and writes the real contents.  Without
 * that the child's write would land on an emptied page and be overwritten
 * when the parent's copy came back.  A system call given such a pointer
 * is not an access the runtime sees: it fails with EFAULT.
 */
#define SHARE_WORDS	64

static _Atomic int share_ok;
static _Atomic(volatile uint64_t *) share_frame;

static uint64_t
hibernations(void)
{
	struct snow_rt_stats st;

	return snow_rt_stats(&st) == 0 ? st.hibernations : 0;
}

/* What another actor or thread does to a hibernated frame. */
static uint64_t
share_touch(volatile uint64_t *f)
{
	uint64_t i, bad = 0;

	for (i = 1; i < SHARE_WORDS; i++)
		bad += f[i] != i * 3;
	f[0] = 42;			/* its owner checks that it stayed */
	return bad;
}

static void
share_child(const void *arg)
{
	const uint64_t *slot = arg;	/* [0]: parent, [1]: its frame */
	uint64_t i;

	/*
	 * Until both parents, the only actors in an untimed wait, have
	 * hibernated; a slow machine may take a while to sweep.  Sweeps run
	 * only once every worker has gone idle, and a worker spins a few
	 * thousand empty picks first (half a millisecond natively, tens of
	 * milliseconds under valgrind): woken by this sleep's timer before
	 * its spin is over, the worker would never go idle, so under
	 * valgrind the sleeps are longer.  Up to 30 s either way.
	 */
	int64_t nap = RUNNING_ON_VALGRIND ? 200 : 10;

	for (i = 0; i < 30000 / (uint64_t)nap && hibernations() < 2; i++)
		snow_timer_sleep(nap);
	A_CHECK(hibernations() >= 2, "the parents never hibernated");
	A_CHECK(share_touch((volatile uint64_t *)(uintptr_t)slot[1]) == 0,
	    "the hibernated parent's frame read wrong from its child");
	a_send(slot[0], "d", 1);
}

/* arg: a child shares the frame, or else the main thread does. */
static void
share_parent(const void *arg)
{
	volatile uint64_t frame[SHARE_WORDS];
	uint64_t slot[2] = { snow_actor_self(), (uint64_t)(uintptr_t)frame };
	uint64_t i, bad = 0;

	for (i = 0; i < SHARE_WORDS; i++)
		frame[i] = i * 3;
	if (*(const int *)arg)
		a_spawn(share_child, slot, sizeof(slot));
	else
		atomic_store(&share_frame, frame);
	/* No timeout: the kind of wait that may hibernate. */
	A_CHECK(snow_actor_receive(-1) != NULL, "receive failed");
	for (i = 1; i < SHARE_WORDS; i++)
		bad += frame[i] != i * 3;
	A_CHECK(bad == 0, "%" PRIu64 " words of the frame changed", bad);
	A_CHECK(frame[0] == 42, "a write to the hibernated stack was lost: "
	    "%" PRIu64, frame[0]);
	atomic_fetch_add(&share_ok, 1);
}

START_TEST(hibernated_stacks_shared_with_others_stay_right)
{
	int by_child = 1, by_main = 0, pfd[2];
	volatile uint64_t *f;
	uint64_t pid;
	double end;

	reset_fails();
	atomic_store(&share_ok, 0);
	atomic_store(&share_frame, NULL);
	init_ok(2);
	spawn_ok(share_parent, &by_child, sizeof(by_child), SNOW_PRIO_NORMAL);
	pid = spawn_ok(share_parent, &by_main, sizeof(by_main),
	    SNOW_PRIO_NORMAL);
	end = now() + 30.0;
	while ((atomic_load(&share_frame) == NULL || hibernations() < 2) &&
	    now() < end)
		usleep(5000);
	f = atomic_load(&share_frame);
	ck_assert(f != NULL);
	ck_assert_uint_ge(hibernations(), 2);
	/* What the header warns of: the kernel cannot fault it back. */
	ck_assert_int_eq(pipe(pfd), 0);
	ck_assert_int_eq(write(pfd[1], (const void *)(uintptr_t)f, 8), -1);
	ck_assert_int_eq(errno, EFAULT);
	ck_assert_uint_eq(share_touch(f), 0);
	ck_assert_int_eq(write(pfd[1], (const void *)(uintptr_t)f, 8), 8);
	/* Touched, it is still parked: a later sweep takes it again, and
	 * the kernel finds it protected again. */
	end = now() + 30.0;
	while (hibernations() < 3 && now() < end)
		usleep(5000);
	ck_assert_uint_ge(hibernations(), 3);
	ck_assert_int_eq(write(pfd[1], (const void *)(uintptr_t)f, 8), -1);
	ck_assert_int_eq(errno, EFAULT);
	ck_assert_uint_eq(share_touch(f), 0);
	close(pfd[0]);
	close(pfd[1]);
	ck_assert_int_eq(snow_actor_send(pid, "m", 1), 0);
	run_ok();
	assert_no_fails();
	ck_assert_int_eq(atomic_load(&share_ok), 2);
	ck_assert_uint_eq(stats_ok().blocked_ended, 0);
}
END_TEST

/*
 * The same under churn: parents park and hibernate again and again while
 * their children read their frames and write a counter in them at random
 * moments, and the main thread wakes parents at random, so touches meet
 * sweeps, wakes meet touches.  Every word must read right every time, and
 * the counter must end at the count of the child's writes.
 */
#define CHURN_PARENTS	64
#define CHURN_ROUNDS	30
#define CHURN_WORDS	64

static _Atomic uint64_t churn_done, churn_children[CHURN_PARENTS];

static void
churn_child(const void *arg)
{
	const uint64_t *slot = arg;	/* [0]: parent, [1]: its frame */
	volatile uint64_t *f = (volatile uint64_t *)(uintptr_t)slot[1];
	uint64_t r, i, bad = 0, x = slot[0];
	const struct snow_msg *go;

	/* From the first hibernation on, when the main thread says go:
	 * idle workers sweep, and a slow machine (valgrind) may not go
	 * idle at all while the children and the pokes keep it busy. */
	go = snow_actor_receive(600000);
	A_CHECK(go != NULL && go->data[0] == 'g', "no go");
	for (r = 0; r < CHURN_ROUNDS; r++) {
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		snow_timer_sleep((int64_t)(x >> 33) % 60);
		for (i = 1; i < CHURN_WORDS; i++)
			bad += f[i] != (slot[0] ^ i);
		f[0] = f[0] + 1;
	}
	A_CHECK(bad == 0, "%" PRIu64 " words of a parent's frame read wrong "
	    "from its child", bad);
	a_send(slot[0], "d", 1);
}

static void
churn_parent(const void *arg)
{
	volatile uint64_t frame[CHURN_WORDS];
	uint64_t self = snow_actor_self(), i, bad = 0;
	uint64_t slot[2] = { self, (uint64_t)(uintptr_t)frame };
	const struct snow_msg *m;

	frame[0] = 0;
	for (i = 1; i < CHURN_WORDS; i++)
		frame[i] = self ^ i;
	atomic_store(&churn_children[*(const unsigned *)arg],
	    a_spawn(churn_child, slot, sizeof(slot)));
	do {
		m = snow_actor_receive(-1);
		A_CHECK(m != NULL, "receive failed");
		for (i = 1; i < CHURN_WORDS; i++)
			bad += frame[i] != (self ^ i);
	} while (m != NULL && m->data[0] != 'd');
	A_CHECK(bad == 0, "%" PRIu64 " words of a frame changed", bad);
	A_CHECK(frame[0] == CHURN_ROUNDS, "a child's writes were lost: %"
	    PRIu64 " of %d", frame[0], CHURN_ROUNDS);
	atomic_fetch_add(&churn_done, 1);
}

START_TEST(hibernation_under_touches_and_wakes)
{
	uint64_t pids[CHURN_PARENTS], x = 88172645463325252ull;
	unsigned i;
	double end;

	reset_fails();
	atomic_store(&churn_done, 0);
	for (i = 0; i < CHURN_PARENTS; i++)
		atomic_store(&churn_children[i], 0);
	init_ok(2);
	for (i = 0; i < CHURN_PARENTS; i++)
		pids[i] = spawn_ok(churn_parent, &i, sizeof(i),
		    SNOW_PRIO_NORMAL);
	end = now() + 60.0;
	while (hibernations() == 0 && now() < end)
		usleep(5000);
	ck_assert_uint_gt(hibernations(), 0);
	for (i = 0; i < CHURN_PARENTS; i++) {
		while (atomic_load(&churn_children[i]) == 0 && now() < end)
			usleep(1000);
		ck_assert_int_eq(snow_actor_send(atomic_load(
		    &churn_children[i]), "g", 1), 0);
	}
	/* Poke parents at random until they are done: a poke to one that
	 * is gone is dropped. */
	end = now() + 300.0;		/* a lost wake would stop it */
	while (atomic_load(&churn_done) < CHURN_PARENTS && now() < end) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		(void)snow_actor_send(pids[x % CHURN_PARENTS], "p", 1);
		usleep(500 + (useconds_t)(x >> 54));
	}
	ck_assert_uint_eq(atomic_load(&churn_done), CHURN_PARENTS);
	run_ok();
	assert_no_fails();
	ck_assert_uint_eq(stats_ok().blocked_ended, 0);
}
END_TEST

/*
 * snow_actor_hibernate(0) keeps an actor's stack in place, and
 * SNOW_HIBERNATE=0 makes that the default; a bad value is refused.  Each
 * run parks one actor that may hibernate and one that may or may not, and
 * waits until the expected number have and a few sweeps more: when only
 * the first has, the sweeps that took it passed the second by.
 */
static void
park_hibernating(const void *arg)
{
	(void)arg;
	(void)snow_actor_hibernate(1);
	(void)snow_actor_receive(-1);
}

static void
park_in_place(const void *arg)
{
	(void)arg;
	(void)snow_actor_hibernate(0);
	(void)snow_actor_receive(-1);
}

/*
 * Park one of each, wait until expect have hibernated and a few sweeps
 * more, wake both: how many hibernated.
 */
static uint64_t
hibernations_of_one_of_each(snow_actor_fn in_place, uint64_t expect)
{
	uint64_t a, b, n;
	double end;

	init_ok(2);
	a = spawn_ok(park_hibernating, NULL, 0, SNOW_PRIO_NORMAL);
	b = spawn_ok(in_place, NULL, 0, SNOW_PRIO_NORMAL);
	end = now() + 30.0;
	while (hibernations() < expect && now() < end)
		usleep(5000);
	usleep(100000);
	n = hibernations();
	ck_assert_int_eq(snow_actor_send(a, "x", 1), 0);
	ck_assert_int_eq(snow_actor_send(b, "x", 1), 0);
	run_ok();
	ck_assert_uint_eq(stats_ok().blocked_ended, 0);
	return n;
}

static void
park_default(const void *arg)
{
	(void)arg;
	(void)snow_actor_receive(-1);
}

START_TEST(hibernation_can_be_turned_off)
{
	ck_assert_int_eq(snow_actor_hibernate(1), -1);
	ck_assert_int_eq(errno, EPERM);
	ck_assert_uint_eq(hibernations_of_one_of_each(park_in_place, 1), 1);

	setenv("SNOW_HIBERNATE", "yes", 1);
	ck_assert_int_eq(snow_rt_init_actor(2), EINVAL);
	setenv("SNOW_HIBERNATE", "0", 1);
	ck_assert_uint_eq(hibernations_of_one_of_each(park_default, 1), 1);
	setenv("SNOW_HIBERNATE", "1", 1);
	ck_assert_uint_eq(hibernations_of_one_of_each(park_default, 2), 2);
	unsetenv("SNOW_HIBERNATE");
}
END_TEST

/* ================================================================== */

static Suite *
messaging_suite(void)
{
	Suite *s = suite_create("messaging");
	TCase *tc;

	tc = tcase_create("messages");
	tcase_set_timeout(tc, TIMEOUT);
	tcase_add_test(tc, fifo_order_per_sender);
	tcase_add_test(tc, millions_of_messages_between_workers);
	tcase_add_test(tc, ping_pong_between_workers);
	tcase_add_test(tc, many_actors_each_get_one_message);
	tcase_add_test(tc, message_layout_and_lifetime);
	suite_add_tcase(s, tc);

	tc = tcase_create("receive");
	tcase_set_timeout(tc, TIMEOUT);
	tcase_add_test(tc, receive_empty_and_timeouts);
	tcase_add_test(tc, parked_receiver_uses_no_cpu);
	tcase_add_test(tc, thread_wakes_parked_receiver);
	tcase_add_test(tc, snow_errno_after_a_move_to_another_worker);
	tcase_add_test(tc, blocked_for_ever_actors_are_ended);
	tcase_add_test(tc, stale_timeouts_do_not_delay_the_blocked_check);
	tcase_add_test(tc, parked_actors_hibernate_and_come_back_whole);
	tcase_add_test(tc, hibernated_stacks_shared_with_others_stay_right);
	tcase_add_test(tc, hibernation_can_be_turned_off);
	tcase_add_test(tc, hibernation_under_touches_and_wakes);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_set_timeout(tc, TIMEOUT);
	tcase_add_test(tc, calls_outside_actors_fail_with_eperm);
	tcase_add_test(tc, calls_before_init_and_after_shutdown_fail);
	tcase_add_test(tc, send_rejects_bad_arguments);
	tcase_add_test(tc, sends_to_the_not_alive_are_dropped);
	suite_add_tcase(s, tc);

	tc = tcase_create("timers");
	tcase_set_timeout(tc, TIMEOUT);
	tcase_add_test(tc, timer_sleep_parks_for_at_least_the_time);
	tcase_add_test(tc, timer_sleep_frees_the_worker);
	tcase_add_test(tc, send_after_fires_in_deadline_order);
	tcase_add_test(tc, send_after_to_the_dead_is_dropped);
	suite_add_tcase(s, tc);

	tc = tcase_create("links");
	tcase_set_timeout(tc, TIMEOUT);
	tcase_add_test(tc, link_error_ends_non_trapping_partner);
	tcase_add_test(tc, link_error_trapped_as_message);
	tcase_add_test(tc, exit_reasons_reach_links);
	tcase_add_test(tc, link_normal_exit_is_ignored);
	tcase_add_test(tc, link_to_a_pid_not_alive);
	tcase_add_test(tc, link_chain_goes_down_together);
	tcase_add_test(tc, unlink_stops_propagation);
	tcase_add_test(tc, trap_exit_and_link_no_ops);
	tcase_add_test(tc, kill_ends_actors);
	suite_add_tcase(s, tc);

	tc = tcase_create("names");
	tcase_set_timeout(tc, TIMEOUT);
	tcase_add_test(tc, register_and_whereis);
	tcase_add_test(tc, register_and_whereis_errors);
	tcase_add_test(tc, names_are_freed_when_actors_end);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(messaging_suite());
}
