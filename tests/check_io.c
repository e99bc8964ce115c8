/*
 * Actors waiting on descriptors (src/io.c, src/poller.c): readiness on
 * pipes, socketpairs and TCP loopback; timeouts and polls; an actor
 * killed, or its descriptor closed, while it waits; thousands of actors
 * each on its own pipe, woken in a shuffled order; one waiter per
 * descriptor; a ready descriptor noticed while every worker is busy;
 * the same calls outside actors; bad arguments.
 *
 * Environment: SNOW_TEST_SCALE_DOWN=1 (also implied under valgrind and
 * the sanitizers) lowers the counts; the checks stay.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <snow/runtime.h>

#include "actor_check.h"
#include "run_suite.h"
#include "snow_ok.h"
#include "test_env.h"

#define TIMEOUT		240

static _Atomic int done;

/* A_CHECK() with the line and the condition as the message. */
#define EXPECT(cond)	A_CHECK(cond, "line %d: %s (errno %d)", __LINE__, \
			    #cond, snow_errno())

static void
nonblocking(int fd)
{
	ck_assert_int_eq(fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK),
	    0);
}

static void
pipe_nb(int fds[2])
{
	ck_assert_int_eq(pipe2(fds, O_NONBLOCK | O_CLOEXEC), 0);
}

static void
start(uint32_t workers)
{
	reset_fails();
	atomic_store(&done, 0);
	init_ok(workers);
}

static void
finish(void)
{
	run_ok();
	assert_no_fails();
}

/* ---- readiness on a pipe ---- */

struct fd_arg {
	int fd;
	int64_t ms;
	uint64_t index;
	uint64_t to;		/* who to tell */
};

/* Run fn as one actor given end (0: read, 1: write) of a new pipe, on
 * one worker; the times it said done. */
static int
one_actor_on_a_pipe(snow_actor_fn fn, int end)
{
	struct fd_arg a = { .ms = -1 };
	int fds[2];

	pipe_nb(fds);
	start(1);
	a.fd = fds[end];
	spawn_ok(fn, &a, sizeof(a), SNOW_PRIO_NORMAL);
	finish();
	close(fds[0]);
	close(fds[1]);
	return atomic_load(&done);
}

/* Waits for fd to be readable, reads one byte, says which it got. */
static void
pipe_reader(const void *arg)
{
	const struct fd_arg *a = arg;
	char c = 0;
	int ev = snow_io_wait(a->fd, SNOW_IO_READ, a->ms);

	EXPECT(ev > 0 && (ev & SNOW_IO_READ));
	EXPECT(read(a->fd, &c, 1) == 1);
	EXPECT(c == 'x');
	atomic_fetch_add(&done, 1);
}

START_TEST(a_pipe_wakes_its_reader_and_only_when_written)
{
	int fds[2];
	struct fd_arg a;

	pipe_nb(fds);
	start(2);
	a.fd = fds[0];
	a.ms = -1;
	spawn_ok(pipe_reader, &a, sizeof(a), SNOW_PRIO_NORMAL);
	sleep_ms(100);
	ck_assert_int_eq(atomic_load(&done), 0);	/* still waiting */
	ck_assert_int_eq(write(fds[1], "x", 1), 1);
	finish();
	ck_assert_int_eq(atomic_load(&done), 1);
	close(fds[0]);
	close(fds[1]);
}
END_TEST

static void
pipe_writer_ready(const void *arg)
{
	const struct fd_arg *a = arg;

	/* An empty pipe is writable at once. */
	EXPECT(snow_io_wait(a->fd, SNOW_IO_WRITE, 1000) == SNOW_IO_WRITE);
	atomic_fetch_add(&done, 1);
}

START_TEST(an_empty_pipe_is_writable_at_once)
{
	ck_assert_int_eq(one_actor_on_a_pipe(pipe_writer_ready, 1), 1);
}
END_TEST

/* ---- timeouts and polls ---- */

static void
times_out(const void *arg)
{
	const struct fd_arg *a = arg;
	double t0 = now();

	EXPECT(snow_io_wait(a->fd, SNOW_IO_READ, 50) == -1);
	EXPECT(snow_errno() == ETIMEDOUT);
	EXPECT(now() - t0 >= 0.045);
	EXPECT(snow_io_wait(a->fd, SNOW_IO_READ, 0) == -1);
	EXPECT(snow_errno() == EAGAIN);
	EXPECT(snow_io_read(a->fd, &t0, 1, 30) == -1);
	EXPECT(snow_errno() == ETIMEDOUT);
	atomic_fetch_add(&done, 1);
}

START_TEST(a_wait_times_out_and_a_poll_does_not_wait)
{
	ck_assert_int_eq(one_actor_on_a_pipe(times_out, 0), 1);
}
END_TEST

/*
 * A wait that timed out leaves nothing behind: its descriptor becoming
 * ready later does not wake the receive that follows, which gets the
 * message sent after that.
 */
static void
times_out_then_receives(const void *arg)
{
	const struct fd_arg *a = arg;
	const struct snow_msg *m;

	EXPECT(snow_io_wait(a->fd, SNOW_IO_READ, 20) == -1);
	atomic_fetch_add(&done, 1);
	m = snow_actor_receive(10000);
	EXPECT(m != NULL && m->len == 4 && memcmp(m->data, "late", 4) == 0);
	atomic_fetch_add(&done, 1);
}

START_TEST(a_late_readiness_does_not_wake_a_later_receive)
{
	int fds[2];
	struct fd_arg a;
	uint64_t pid;

	pipe_nb(fds);
	start(1);
	a.fd = fds[0];
	pid = spawn_ok(times_out_then_receives, &a, sizeof(a),
	    SNOW_PRIO_NORMAL);
	while (atomic_load(&done) == 0)
		sleep_ms(1);
	ck_assert_int_eq(write(fds[1], "x", 1), 1);
	sleep_ms(100);
	ck_assert_int_eq(atomic_load(&done), 1);	/* not woken by it */
	ck_assert_int_eq(snow_actor_send(pid, "late", 4), 0);
	finish();
	ck_assert_int_eq(atomic_load(&done), 2);
	close(fds[0]);
	close(fds[1]);
}
END_TEST

/* ---- socketpairs and TCP ---- */

#define ROUNDS_FULL	2000

static unsigned
rounds(void)
{
	return scaled_down() ? ROUNDS_FULL / 10 : ROUNDS_FULL;
}

/* Sends 64 bytes, reads them back, rounds() times. */
static void
echo_client(const void *arg)
{
	const struct fd_arg *a = arg;
	char out[64], in[64];
	unsigned i;

	for (i = 0; i < rounds(); i++) {
		memset(out, (int)(i & 0xff), sizeof(out));
		EXPECT(snow_io_write(a->fd, out, sizeof(out), 10000) == 64);
		size_t got = 0;

		while (got < sizeof(in)) {
			ssize_t n = snow_io_read(a->fd, in + got,
			    sizeof(in) - got, 10000);

			EXPECT(n > 0);
			if (n <= 0)
				return;
			got += (size_t)n;
		}
		EXPECT(memcmp(in, out, sizeof(in)) == 0);
	}
	atomic_fetch_add(&done, 1);
}

/* Echoes what it reads until end of stream. */
static void
echo_server(const void *arg)
{
	const struct fd_arg *a = arg;
	char buf[256];
	ssize_t n;

	while ((n = snow_io_read(a->fd, buf, sizeof(buf), 10000)) > 0)
		EXPECT(snow_io_write(a->fd, buf, (size_t)n, 10000) == n);
	EXPECT(n == 0);
	close(a->fd);
	atomic_fetch_add(&done, 1);
}

static void
client_then_close(const void *arg)
{
	const struct fd_arg *a = arg;

	echo_client(arg);
	close(a->fd);
}

START_TEST(a_socketpair_carries_an_echo_between_two_actors)
{
	int sv[2];
	struct fd_arg c, s;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0,
	    sv), 0);
	start(2);
	s.fd = sv[0];
	c.fd = sv[1];
	spawn_ok(echo_server, &s, sizeof(s), SNOW_PRIO_NORMAL);
	spawn_ok(client_then_close, &c, sizeof(c), SNOW_PRIO_NORMAL);
	finish();
	ck_assert_int_eq(atomic_load(&done), 2);
}
END_TEST

#define TCP_CLIENTS	8

static void
tcp_acceptor(const void *arg)
{
	const struct fd_arg *a = arg;
	struct fd_arg conn;
	int i;

	for (i = 0; i < TCP_CLIENTS; i++) {
		conn.fd = snow_io_accept(a->fd, NULL, NULL, 10000);
		EXPECT(conn.fd >= 0);
		if (conn.fd < 0)
			break;
		EXPECT((fcntl(conn.fd, F_GETFL) & O_NONBLOCK) != 0);
		EXPECT(snow_actor_spawn(echo_server, &conn, sizeof(conn),
		    SNOW_PRIO_NORMAL) != 0);
	}
	close(a->fd);
}

static void
tcp_client(const void *arg)
{
	const struct fd_arg *a = arg;
	struct sockaddr_in to = { .sin_family = AF_INET };
	struct fd_arg c;
	int one = 1;

	to.sin_port = (in_port_t)a->index;
	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	c.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	EXPECT(c.fd >= 0);
	(void)setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	EXPECT(snow_io_connect(c.fd, (struct sockaddr *)&to, sizeof(to),
	    10000) == 0);
	client_then_close(&c);
}

START_TEST(tcp_loopback_clients_and_servers_in_actors)
{
	struct sockaddr_in addr = { .sin_family = AF_INET };
	socklen_t len = sizeof(addr);
	struct fd_arg l, c;
	int i;

	l.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(l.fd, 0);
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(l.fd, (struct sockaddr *)&addr, sizeof(addr)),
	    0);
	ck_assert_int_eq(listen(l.fd, 64), 0);
	ck_assert_int_eq(getsockname(l.fd, (struct sockaddr *)&addr, &len), 0);
	start(2);
	spawn_ok(tcp_acceptor, &l, sizeof(l), SNOW_PRIO_NORMAL);
	c.index = addr.sin_port;
	for (i = 0; i < TCP_CLIENTS; i++)
		spawn_ok(tcp_client, &c, sizeof(c), SNOW_PRIO_NORMAL);
	finish();
	/* Each client and each server connection finished its part. */
	ck_assert_int_eq(atomic_load(&done), 2 * TCP_CLIENTS);
}
END_TEST

/* ---- an end or a close under a waiter ---- */

static void
waits_for_ever(const void *arg)
{
	const struct fd_arg *a = arg;

	atomic_fetch_add(&done, 1);
	(void)snow_io_wait(a->fd, SNOW_IO_READ, -1);
	A_CHECK(false, "a killed waiter came back");
}

static void
waits_again(const void *arg)
{
	const struct fd_arg *a = arg;
	int ev, tries = 0;

	/* The killed waiter gives the descriptor back as it ends, which
	 * may be a moment after the kill. */
	while ((ev = snow_io_wait(a->fd, SNOW_IO_READ, 5000)) == -1 &&
	    snow_errno() == EBUSY && ++tries < 500)
		snow_timer_sleep(10);
	EXPECT(ev > 0);
	atomic_fetch_add(&done, 1);
}

static void
wait_for_done(int n)
{
	double end = now() + 30;

	while (atomic_load(&done) < n && now() < end)
		sleep_ms(1);
	ck_assert_int_ge(atomic_load(&done), n);
}

START_TEST(a_killed_waiter_ends_and_frees_its_descriptor)
{
	int fds[2];
	struct fd_arg a;
	uint64_t pid;

	pipe_nb(fds);
	start(2);
	a.fd = fds[0];
	pid = spawn_ok(waits_for_ever, &a, sizeof(a), SNOW_PRIO_NORMAL);
	wait_for_done(1);
	sleep_ms(50);			/* parked on it by now, most likely */
	ck_assert_int_eq(snow_actor_kill(pid), 0);
	spawn_ok(waits_again, &a, sizeof(a), SNOW_PRIO_NORMAL);
	sleep_ms(50);
	ck_assert_int_eq(write(fds[1], "x", 1), 1);
	finish();
	ck_assert_int_eq(atomic_load(&done), 2);
	close(fds[0]);
	close(fds[1]);
}
END_TEST

static void
sees_close(const void *arg)
{
	const struct fd_arg *a = arg;

	atomic_fetch_add(&done, 1);
	EXPECT(snow_io_wait(a->fd, SNOW_IO_READ, 20000) == -1);
	EXPECT(snow_errno() == EBADF);
	atomic_fetch_add(&done, 1);
}

static void
times_out_not_busy(const void *arg)
{
	const struct fd_arg *a = arg;

	EXPECT(snow_io_wait(a->fd, SNOW_IO_READ, 30) == -1 &&
	    snow_errno() == ETIMEDOUT);
	atomic_fetch_add(&done, 1);
}

START_TEST(snow_io_close_wakes_the_waiter_with_ebadf)
{
	int fds[2], again[2];
	struct fd_arg a;
	uint64_t pid;
	double t0;

	pipe_nb(fds);
	start(2);
	a.fd = fds[0];
	pid = spawn_ok(sees_close, &a, sizeof(a), SNOW_PRIO_NORMAL);
	wait_for_done(1);
	/* Closed before it waits, the number is taken again below by
	 * pipe_nb(): it would wait on the new pipe, not see EBADF. */
	wait_parked(pid, 30);
	t0 = now();
	ck_assert_int_eq(snow_io_close(fds[0]), 0);
	/* The number, taken again at once, is free for a new wait. */
	pipe_nb(again);
	a.fd = again[0];
	spawn_ok(times_out_not_busy, &a, sizeof(a), SNOW_PRIO_NORMAL);
	finish();
	ck_assert_double_lt(now() - t0, 10.0);	/* not its timeout */
	ck_assert_int_eq(atomic_load(&done), 3);
	close(fds[1]);
	close(again[0]);
	close(again[1]);
}
END_TEST

static void
second_waiter(const void *arg)
{
	const struct fd_arg *a = arg;

	EXPECT(snow_io_wait(a->fd, SNOW_IO_READ, 1000) == -1);
	EXPECT(snow_errno() == EBUSY);
	atomic_fetch_add(&done, 1);
}

START_TEST(a_second_waiter_on_a_descriptor_gets_ebusy)
{
	int fds[2];
	struct fd_arg a;
	uint64_t pid;

	pipe_nb(fds);
	start(2);
	a.fd = fds[0];
	a.ms = -1;
	pid = spawn_ok(waits_again, &a, sizeof(a), SNOW_PRIO_NORMAL);
	/* The first must hold the descriptor before the second tries. */
	wait_parked(pid, 30);
	spawn_ok(second_waiter, &a, sizeof(a), SNOW_PRIO_NORMAL);
	wait_for_done(1);
	ck_assert_int_eq(write(fds[1], "x", 1), 1);
	finish();
	ck_assert_int_eq(atomic_load(&done), 2);
	close(fds[0]);
	close(fds[1]);
}
END_TEST

/* ---- thousands of waiters ---- */

/* Waits on its own pipe, then tells main its index. */
static void
indexed_reader(const void *arg)
{
	const struct fd_arg *a = arg;
	char c;

	EXPECT(snow_io_wait(a->fd, SNOW_IO_READ, -1) == SNOW_IO_READ);
	EXPECT(read(a->fd, &c, 1) == 1);
	EXPECT(snow_actor_send(a->to, &a->index, sizeof(a->index)) == 0);
}

/* How many pipes fit under the descriptor limit, raised to the hard. */
static unsigned
pipes_that_fit(unsigned want)
{
	struct rlimit rl;
	unsigned fit;

	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
	rl.rlim_cur = rl.rlim_max;
	(void)setrlimit(RLIMIT_NOFILE, &rl);
	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
	fit = rl.rlim_cur == RLIM_INFINITY ? want :
	    (unsigned)((rl.rlim_cur - 64) / 2);
	return fit < want ? fit : want;
}

START_TEST(thousands_of_waiters_woken_in_a_shuffled_order)
{
	unsigned n = pipes_that_fit(scaled_down() ? 500 : 5000), i, j, t;
	int (*fds)[2] = calloc(n, sizeof(*fds));
	unsigned *order = calloc(n, sizeof(*order));
	unsigned char *seen = calloc(n, 1);
	uint64_t rng = 0x9e3779b97f4a7c15ull;
	struct fd_arg a;

	ck_assert_uint_ge(n, 200);
	ck_assert_ptr_nonnull(fds);
	for (i = 0; i < n; i++) {
		pipe_nb(fds[i]);
		order[i] = i;
	}
	start(2);
	a.to = snow_actor_self();
	for (i = 0; i < n; i++) {
		a.fd = fds[i][0];
		a.index = i;
		spawn_ok(indexed_reader, &a, sizeof(a), SNOW_PRIO_NORMAL);
	}
	for (i = n - 1; i > 0; i--) {
		rng ^= rng << 13;
		rng ^= rng >> 7;
		rng ^= rng << 17;
		j = (unsigned)(rng % (i + 1));
		t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
	for (i = 0; i < n; i++)
		ck_assert_int_eq(write(fds[order[i]][1], "x", 1), 1);
	for (i = 0; i < n; i++) {
		const struct snow_msg *m = snow_actor_receive(60000);
		uint64_t idx;

		ck_assert_msg(m != NULL, "%u of %u woke", i, n);
		memcpy(&idx, m->data, sizeof(idx));
		ck_assert_uint_lt(idx, n);
		ck_assert_int_eq(seen[idx], 0);		/* once each */
		seen[idx] = 1;
	}
	finish();
	for (i = 0; i < n; i++) {
		close(fds[i][0]);
		close(fds[i][1]);
	}
	free(fds);
	free(order);
	free(seen);
}
END_TEST

/* ---- hibernation ---- */

#define LOCALS	32

static uint64_t
local_value(uint64_t index, unsigned k)
{
	return (index + 1) * 0x9e3779b97f4a7c15ull ^ k;
}

/* Waits on its pipe with known locals; checks them when woken. */
static void
hibernating_reader(const void *arg)
{
	const struct fd_arg *a = arg;
	volatile uint64_t local[LOCALS];
	uint64_t index = a->index;
	unsigned k;
	bool ok;
	char c;

	for (k = 0; k < LOCALS; k++)
		local[k] = local_value(index, k);
	ok = snow_io_wait(a->fd, SNOW_IO_READ, -1) == SNOW_IO_READ &&
	    read(a->fd, &c, 1) == 1;
	for (k = 0; k < LOCALS; k++)
		ok = ok && local[k] == local_value(index, k);
	EXPECT(ok);
	EXPECT(snow_actor_send(a->to, &index, sizeof(index)) == 0);
}

/* Waiting on descriptors with no timeout, actors hibernate as they do in
 * a receive, and wake with their stacks whole. */
START_TEST(waiters_on_descriptors_hibernate_and_wake_whole)
{
	unsigned n = pipes_that_fit(scaled_down() ? 200 : 2000), i;
	int (*fds)[2] = calloc(n, sizeof(*fds));
	struct fd_arg a;
	uint64_t sum = 0;
	double end;

	ck_assert_ptr_nonnull(fds);
	for (i = 0; i < n; i++)
		pipe_nb(fds[i]);
	start(2);
	a.to = snow_actor_self();
	for (i = 0; i < n; i++) {
		a.fd = fds[i][0];
		a.index = i;
		spawn_ok(hibernating_reader, &a, sizeof(a), SNOW_PRIO_NORMAL);
	}
	end = now() + 120;
	while (stats_ok().hibernations < n && now() < end)
		sleep_ms(20);
	ck_assert_uint_ge(stats_ok().hibernations, n);
	for (i = 0; i < n; i++)
		ck_assert_int_eq(write(fds[i][1], "x", 1), 1);
	for (i = 0; i < n; i++) {
		const struct snow_msg *m = snow_actor_receive(60000);
		uint64_t idx;

		ck_assert_msg(m != NULL, "%u of %u woke", i, n);
		memcpy(&idx, m->data, sizeof(idx));
		sum += idx;
	}
	finish();
	ck_assert_uint_eq(sum, (uint64_t)n * (n - 1) / 2);
	for (i = 0; i < n; i++) {
		close(fds[i][0]);
		close(fds[i][1]);
	}
	free(fds);
}
END_TEST

/* ---- under full load ---- */

static _Atomic bool woke;

/* Yields until the waiter woke, or gives up after 20 s. */
static void
spinner(const void *arg)
{
	double end = now() + 20;

	(void)arg;
	while (!atomic_load(&woke) && now() < end)
		snow_actor_yield();
	EXPECT(atomic_load(&woke));
}

static void
loaded_waiter(const void *arg)
{
	const struct fd_arg *a = arg;

	EXPECT(snow_io_wait(a->fd, SNOW_IO_READ, -1) == SNOW_IO_READ);
	atomic_store(&woke, true);
}

/* One worker, kept busy by actors that always have a turn to take: the
 * readiness is still noticed (by the busy worker's polls). */
START_TEST(a_busy_worker_notices_a_ready_descriptor)
{
	int fds[2], i;
	struct fd_arg a;

	pipe_nb(fds);
	atomic_store(&woke, false);
	start(1);
	a.fd = fds[0];
	spawn_ok(loaded_waiter, &a, sizeof(a), SNOW_PRIO_NORMAL);
	for (i = 0; i < 4; i++)
		spawn_ok(spinner, NULL, 0, SNOW_PRIO_NORMAL);
	sleep_ms(100);
	ck_assert_int_eq(write(fds[1], "x", 1), 1);
	finish();
	ck_assert(atomic_load(&woke));
	close(fds[0]);
	close(fds[1]);
}
END_TEST

/* ---- outside actors, and bad arguments ---- */

START_TEST(outside_actors_the_calls_use_poll)
{
	int fds[2];
	char c;

	pipe_nb(fds);
	errno = 0;
	ck_assert_int_eq(snow_io_wait(fds[0], SNOW_IO_READ, 20), -1);
	ck_assert_int_eq(errno, ETIMEDOUT);
	ck_assert_int_eq(snow_io_wait(fds[1], SNOW_IO_WRITE, -1),
	    SNOW_IO_WRITE);
	ck_assert_int_eq(snow_io_write(fds[1], "x", 1, 1000), 1);
	ck_assert_int_eq(snow_io_read(fds[0], &c, 1, 1000), 1);
	ck_assert_int_eq(c, 'x');
	close(fds[1]);
	/* The writer gone: end of stream, reported as readable. */
	ck_assert_int_ne(snow_io_wait(fds[0], SNOW_IO_READ, 1000) &
	    (SNOW_IO_READ | SNOW_IO_HUP), 0);
	ck_assert_int_eq(snow_io_read(fds[0], &c, 1, 1000), 0);
	close(fds[0]);
}
END_TEST

static void
bad_arguments(const void *arg)
{
	const struct fd_arg *a = arg;

	EXPECT(snow_io_wait(a->fd, 0, 10) == -1 && snow_errno() == EINVAL);
	EXPECT(snow_io_wait(a->fd, 0x100, 10) == -1 &&
	    snow_errno() == EINVAL);
	EXPECT(snow_io_wait(-1, SNOW_IO_READ, 10) == -1 &&
	    snow_errno() == EBADF);
	/* A number that is no open descriptor. */
	EXPECT(snow_io_wait(a->fd + 1000, SNOW_IO_READ, 10) == -1 &&
	    snow_errno() == EBADF);
	atomic_fetch_add(&done, 1);
}

START_TEST(bad_arguments_are_errors)
{
	ck_assert_int_eq(one_actor_on_a_pipe(bad_arguments, 0), 1);
}
END_TEST

static void
file_ready(const void *arg)
{
	const struct fd_arg *a = arg;

	EXPECT(snow_io_wait(a->fd, SNOW_IO_READ | SNOW_IO_WRITE, -1) ==
	    (SNOW_IO_READ | SNOW_IO_WRITE));
	atomic_fetch_add(&done, 1);
}

START_TEST(a_regular_file_is_always_ready)
{
	char path[] = "/tmp/snow-io-XXXXXX";
	struct fd_arg a;

	a.fd = mkstemp(path);
	ck_assert_int_ge(a.fd, 0);
	unlink(path);
	nonblocking(a.fd);
	start(1);
	spawn_ok(file_ready, &a, sizeof(a), SNOW_PRIO_NORMAL);
	finish();
	ck_assert_int_eq(atomic_load(&done), 1);
	close(a.fd);
}
END_TEST

static Suite *
io_suite(void)
{
	Suite *s = suite_create("io");
	TCase *tc = tcase_create("io");

	tcase_set_timeout(tc, TIMEOUT);
	tcase_add_test(tc, a_pipe_wakes_its_reader_and_only_when_written);
	tcase_add_test(tc, an_empty_pipe_is_writable_at_once);
	tcase_add_test(tc, a_wait_times_out_and_a_poll_does_not_wait);
	tcase_add_test(tc, a_late_readiness_does_not_wake_a_later_receive);
	tcase_add_test(tc, a_socketpair_carries_an_echo_between_two_actors);
	tcase_add_test(tc, tcp_loopback_clients_and_servers_in_actors);
	tcase_add_test(tc, a_killed_waiter_ends_and_frees_its_descriptor);
	tcase_add_test(tc, snow_io_close_wakes_the_waiter_with_ebadf);
	tcase_add_test(tc, a_second_waiter_on_a_descriptor_gets_ebusy);
	tcase_add_test(tc, thousands_of_waiters_woken_in_a_shuffled_order);
	tcase_add_test(tc, waiters_on_descriptors_hibernate_and_wake_whole);
	tcase_add_test(tc, a_busy_worker_notices_a_ready_descriptor);
	tcase_add_test(tc, outside_actors_the_calls_use_poll);
	tcase_add_test(tc, bad_arguments_are_errors);
	tcase_add_test(tc, a_regular_file_is_always_ready);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(io_suite());
}
