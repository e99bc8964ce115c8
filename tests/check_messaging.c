/*
 * Message passing in snow-rt: each sender's messages arrive in order,
 * millions of them between workers, ping-pong, thousands of actors with
 * one message each, and the message as received (its layout, and how long
 * its bytes stay valid).  Receives that wait, misuse, timers, links and
 * kill, names and hibernation have files of their own (actor_msg.h says
 * which); the helpers they share are there.
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

#include "actor_msg.h"
#include "run_suite.h"
#include "snow_ok.h"
#include "test_env.h"

#define TIMEOUT 120

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
	return s;
}

int
main(void)
{
	return run_suite(messaging_suite());
}
