/*
 * echoload: the client side of the network benchmark.
 *
 * usage: echoload [-t SECS] echo HOST PORT CONNS ROUNDS [SIZE]
 *        echoload [-t SECS] idle HOST PORT CONNS HOLD_MS
 *
 * echo: opens CONNS TCP connections to HOST:PORT and has each do ROUNDS
 *   round trips of SIZE bytes (default 64): write SIZE bytes, read SIZE
 *   bytes back, check they are the bytes written, next round.  Every
 *   connection first does one round trip that is not measured, so that
 *   the server has accepted and served it before the clock starts; then
 *   all of them start their measured rounds together.  Prints one line:
 *     echo conns=N rounds=R size=S ok=1 reqs_per_s=... p50_us=...
 *     p99_us=... elapsed_ns=...
 *   where a request is one round trip, the latencies are those of single
 *   round trips, and elapsed_ns is the time from the start of the
 *   measured rounds to the end of the last one.
 * idle: opens CONNS connections, does one 64-byte round trip on each,
 *   prints "idle conns=N ready=1" and holds them open and idle for
 *   HOLD_MS milliseconds (the caller measures the server meanwhile), then
 *   closes them and exits 0.
 *
 * -t SECS bounds the whole run before the hold (default 120): past it the
 * run fails.  On any failure (an error, a byte that differs, the timeout)
 * the line says ok=0 (idle: ready=0), a message goes to stderr and the
 * exit status is 1; bad arguments exit 2.
 *
 * HOST must be a numeric loopback address, 127.0.0.0/8 or ::1: this is a
 * load generator, and it refuses to aim its load at anything but the
 * machine it runs on.
 *
 * One thread and one epoll set.  The machine that runs the benchmark has
 * few cores and the server under test needs them: a client with a thread
 * per CPU would take the cores the server is measured on, and the figures
 * would say more about the scheduler than about the server.  One thread
 * also needs no locks, and it is enough: connections are small state
 * machines driven by edge-triggered events, so a round trip costs the
 * client a send, a recv and its share of an epoll_wait.  The price is
 * that past some rate the client, not the server, is the bottleneck;
 * watch its CPU if the figures look flat.
 */
/* For SOCK_NONBLOCK, SOCK_CLOEXEC and MSG_NOSIGNAL under -std=c11. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Connections in the middle of connecting and their first round trip at
 * once.  A server takes at most its listen backlog of connections it has
 * not accepted; keeping under the smallest common one (128, the old
 * SOMAXCONN) means the backlog never overflows, whose symptom is a SYN
 * dropped and retried a second later, or a refusal. */
#define CONNECT_BATCH	128
/* Tries of one connection refused (or out of ports) before the run
 * fails, the wait between them doubling from the first to the last. */
#define CONNECT_TRIES	12
#define RETRY_FIRST_NS	5000000ull	/* 5 ms */
#define RETRY_MAX_NS	500000000ull	/* 0.5 s */

#define MAX_CONNS	1000000u
#define MAX_ROUNDS	100000000u
#define MAX_SIZE	(16u << 20)
/* One latency sample per measured round trip, 8 bytes each. */
#define MAX_SAMPLES	(1ull << 24)
#define MAX_TIMEOUT_S	86400u
#define MAX_HOLD_MS	86400000u
/* Descriptors besides the connections: stdio, the epoll set, spares. */
#define FD_SLACK	16
#define IDLE_SIZE	64

#define IO_CHUNK	65536
#define MAX_EVENTS	1024

enum state {
	C_QUEUED,	/* waiting to be opened (again) */
	C_CONNECTING,
	C_ROUND,	/* in a round trip: c->round */
	C_READY,	/* first round trip done, waiting for the start */
	C_DONE,		/* all measured rounds done */
};

struct conn {
	uint64_t t0;		/* start of this round; or when to retry */
	int fd;
	uint32_t round;		/* 0: the unmeasured first one */
	uint32_t sent;		/* bytes of this round written */
	uint32_t got;		/* and read back */
	uint8_t state;
	uint8_t tries;
};

struct load {
	struct conn *c;
	uint32_t n;		/* connections */
	uint32_t rounds;	/* measured rounds per connection */
	uint32_t size;		/* bytes per round trip */
	int ep;
	uint64_t deadline;
	struct sockaddr_storage addr;
	socklen_t addrlen;

	/* Connections to open, oldest first: a ring of indices. */
	uint32_t *queue;
	uint32_t qhead, qlen;
	uint32_t inflight;	/* opened, first round trip not done */
	uint32_t ready;		/* first round trip done */
	uint32_t done;		/* measured rounds done */

	uint64_t *lat;
	size_t nlat;

	unsigned char out[IO_CHUNK];
	unsigned char want[IO_CHUNK];
	unsigned char in[IO_CHUNK];
};

/* What a failed run prints on stdout, once the arguments are known. */
static char fail_line[128];

static void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("echoload: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (fail_line[0] != '\0')
		printf("%s\n", fail_line);
	fflush(stdout);
	exit(1);
}

static void __attribute__((noreturn))
usage(void)
{
	fputs("usage: echoload [-t SECS] echo HOST PORT CONNS ROUNDS [SIZE]\n"
	    "       echoload [-t SECS] idle HOST PORT CONNS HOLD_MS\n"
	    "HOST: a numeric loopback address (127.0.0.0/8 or ::1)\n",
	    stderr);
	exit(2);
}

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- Arguments ---- */

static uint32_t
parse_num(const char *s, const char *what, uint32_t min, uint32_t max)
{
	unsigned long long v;
	char *end;

	errno = 0;
	if (s[0] < '0' || s[0] > '9')
		goto bad;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		goto bad;
	return (uint32_t)v;
bad:
	fprintf(stderr, "echoload: %s must be a number from %u to %u, not "
	    "\"%s\"\n", what, min, max, s);
	exit(2);
}

/*
 * One source address has about 28,000 ephemeral ports (32768-60999) for
 * one server address and port: past PER_SOURCE connections to an IPv4
 * server, connection i leaves from 127.0.0.(2 + i / PER_SOURCE), all of
 * them loopback, its port chosen at connect time.  Fewer connections
 * leave from the kernel's choice, as before.
 */
#define PER_SOURCE	20000

static void
bind_source(const struct load *ld, int fd, uint32_t i)
{
	struct sockaddr_in src = { .sin_family = AF_INET };
	int one = 1;

	if (ld->addr.ss_family != AF_INET || ld->n <= PER_SOURCE)
		return;
	src.sin_addr.s_addr = htonl(0x7f000002u + i / PER_SOURCE);
	(void)setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one,
	    sizeof(one));
	if (bind(fd, (struct sockaddr *)&src, sizeof(src)) != 0)
		die("connection %u: bind to 127.0.0.%u: %s", i,
		    2 + i / PER_SOURCE, strerror(errno));
}

/* Fill ld's address from a numeric loopback HOST, refusing the rest:
 * numeric only, so that no name can resolve to another machine. */
static void
parse_addr(struct load *ld, const char *host, const char *port)
{
	uint16_t p = (uint16_t)parse_num(port, "PORT", 1, 65535);
	struct sockaddr_in *sin = (struct sockaddr_in *)&ld->addr;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ld->addr;

	memset(&ld->addr, 0, sizeof(ld->addr));
	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		if ((ntohl(sin->sin_addr.s_addr) >> 24) != 127)
			goto refuse;
		sin->sin_family = AF_INET;
		sin->sin_port = htons(p);
		ld->addrlen = sizeof(*sin);
		return;
	}
	if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		if (!IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr))
			goto refuse;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(p);
		ld->addrlen = sizeof(*sin6);
		return;
	}
refuse:
	fprintf(stderr, "echoload: refusing HOST \"%s\": only a numeric "
	    "loopback address (127.0.0.0/8 or ::1) is allowed\n", host);
	exit(2);
}

/* Raise the soft limit on descriptors to the hard one, and fail clearly
 * if n connections still do not fit. */
static void
raise_nofile(uint32_t n)
{
	rlim_t need = (rlim_t)n + FD_SLACK;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		die("getrlimit: %s", strerror(errno));
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0 &&
		    getrlimit(RLIMIT_NOFILE, &rl) != 0)
			die("getrlimit: %s", strerror(errno));
	}
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need)
		die("%u connections need %llu descriptors, but the limit is "
		    "%llu (hard limit %llu): raise the hard limit (ulimit -Hn, "
		    "as root) or use fewer connections", n,
		    (unsigned long long)need, (unsigned long long)rl.rlim_cur,
		    (unsigned long long)rl.rlim_max);
}

/* ---- The bytes of a round ---- */

static uint32_t
mix32(uint32_t x)
{
	x ^= x >> 16;
	x *= 0x7feb352du;
	x ^= x >> 15;
	x *= 0x846ca68bu;
	x ^= x >> 16;
	return x;
}

/* The len bytes from off of what connection i writes in round r: they
 * differ from connection to connection and round to round, so that bytes
 * echoed to the wrong connection, or late, are caught too. */
static void
pattern(unsigned char *p, uint32_t i, uint32_t r, uint32_t off, size_t len)
{
	uint32_t seed = mix32(i * 0x9e3779b9u ^ mix32(r + 1));

	for (size_t k = 0; k < len; k++) {
		uint32_t at = off + (uint32_t)k;

		p[k] = (unsigned char)((seed >> (8 * (at & 3))) + (at >> 2));
	}
}

/* ---- Connecting ---- */

static void round_start(struct load *ld, uint32_t i, uint32_t round);

static void
enqueue(struct load *ld, uint32_t i, uint64_t not_before)
{
	ld->c[i].state = C_QUEUED;
	ld->c[i].t0 = not_before;
	ld->queue[(ld->qhead + ld->qlen) % ld->n] = i;
	ld->qlen++;
}

static int
retryable(int err)
{
	/* Refused or reset: the backlog overflowed (or, with the connection
	 * accepted, the server dropped it before serving it).  EAGAIN and
	 * EADDRNOTAVAIL: no local port free for the moment. */
	return err == ECONNREFUSED || err == ECONNRESET || err == EPIPE ||
	    err == EAGAIN || err == EADDRNOTAVAIL || err == ETIMEDOUT;
}

/* Connection i failed with err (0: closed by the server) before its
 * first round trip was done: open it again later, a bounded number of
 * times, or fail the run. */
static void
conn_retry(struct load *ld, uint32_t i, int err, const char *what)
{
	struct conn *c = &ld->c[i];
	uint64_t wait;

	close(c->fd);
	c->fd = -1;
	ld->inflight--;
	if ((err != 0 && !retryable(err)) || ++c->tries >= CONNECT_TRIES)
		die("connection %u: %s: %s (try %u of %u)", i, what,
		    err ? strerror(err) : "closed by the server",
		    (unsigned)c->tries, CONNECT_TRIES);
	wait = RETRY_FIRST_NS << (c->tries - 1);
	enqueue(ld, i, now_ns() + (wait < RETRY_MAX_NS ? wait : RETRY_MAX_NS));
}

/* Connection i failed with err (0: closed by the server) in what. */
static void
conn_failed(struct load *ld, uint32_t i, int err, const char *what)
{
	struct conn *c = &ld->c[i];

	if (c->state != C_ROUND || c->round != 0)
		die("connection %u: %s in round %u after %u of %u bytes "
		    "back: %s", i, what, c->round, c->got, ld->size,
		    err ? strerror(err) : "closed by the server");
	conn_retry(ld, i, err, what);
}

static void
conn_open(struct load *ld, uint32_t i)
{
	struct conn *c = &ld->c[i];
	struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT | EPOLLET };
	int one = 1;

	c->fd = socket(ld->addr.ss_family,
	    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		die("connection %u: socket: %s", i, strerror(errno));
	/* Each write is a whole request: send it now, not when the last
	 * one is acknowledged. */
	if (setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)))
		die("connection %u: TCP_NODELAY: %s", i, strerror(errno));
	bind_source(ld, c->fd, i);
	ld->inflight++;
	c->state = C_CONNECTING;
	if (connect(c->fd, (struct sockaddr *)&ld->addr, ld->addrlen) != 0 &&
	    errno != EINPROGRESS) {
		conn_retry(ld, i, errno, "connect");
		return;
	}
	/* Added after connect: a socket not yet connecting polls as hung
	 * up.  One that connected meanwhile is reported at once. */
	ev.data.u32 = i;
	if (epoll_ctl(ld->ep, EPOLL_CTL_ADD, c->fd, &ev) != 0)
		die("connection %u: epoll_ctl: %s", i, strerror(errno));
}

/* Open the queued connections that are due, up to the batch. */
static void
open_due(struct load *ld, uint64_t now)
{
	while (ld->qlen > 0 && ld->inflight < CONNECT_BATCH) {
		uint32_t i = ld->queue[ld->qhead];

		if (ld->c[i].t0 > now)
			return;
		ld->qhead = (ld->qhead + 1) % ld->n;
		ld->qlen--;
		conn_open(ld, i);
	}
}

static void
on_connect(struct load *ld, uint32_t i, uint32_t events)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(ld->c[i].fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
		err = errno;
	if (err != 0) {
		conn_retry(ld, i, err, "connect");
		return;
	}
	if (!(events & EPOLLOUT))
		return;		/* not connected yet */
	round_start(ld, i, 0);
}

/* ---- Round trips ---- */

/* Write what is left of the round, as far as the socket takes it. */
static int
send_rest(struct load *ld, uint32_t i)
{
	struct conn *c = &ld->c[i];

	/* Bounded: every pass writes a byte at least, or stops. */
	while (c->sent < ld->size) {
		size_t len = ld->size - c->sent;
		ssize_t n;

		if (len > IO_CHUNK)
			len = IO_CHUNK;
		pattern(ld->out, i, c->round, c->sent, len);
		n = send(c->fd, ld->out, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n < 0)
			return errno;
		if (n == 0)
			return 0;
		c->sent += (uint32_t)n;
	}
	return 0;
}

/* Read what has come back of the round, checking it: 1 once all of it
 * has, 0 if the socket has no more for now, -1 after conn_failed. */
static int
recv_rest(struct load *ld, uint32_t i)
{
	struct conn *c = &ld->c[i];

	/* Bounded: every pass reads a byte at least, or stops. */
	while (c->got < ld->size) {
		size_t len = ld->size - c->got;
		ssize_t n;

		if (len > IO_CHUNK)
			len = IO_CHUNK;
		n = recv(c->fd, ld->in, len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n <= 0) {
			conn_failed(ld, i, n < 0 ? errno : 0, "recv");
			return -1;
		}
		pattern(ld->want, i, c->round, c->got, (size_t)n);
		if (memcmp(ld->in, ld->want, (size_t)n) != 0)
			die("connection %u: round %u: the bytes from %u to %u "
			    "differ from those written", i, c->round, c->got,
			    c->got + (uint32_t)n);
		c->got += (uint32_t)n;
	}
	return 1;
}

/* Connection i has its round trip back: record it, start the next one.
 * 1 if it did, 0 if the connection has no more rounds for now. */
static int
round_end(struct load *ld, uint32_t i)
{
	struct conn *c = &ld->c[i];
	uint64_t now = now_ns();

	if (c->round == 0) {
		c->state = C_READY;
		ld->inflight--;
		ld->ready++;
		return 0;
	}
	ld->lat[ld->nlat++] = now - c->t0;
	if (c->round == ld->rounds) {
		c->state = C_DONE;
		ld->done++;
		return 0;
	}
	c->round++;
	c->sent = c->got = 0;
	c->t0 = now;
	return 1;
}

/*
 * Drive connection i as far as its socket allows.  Edge-triggered, so it
 * must read until the socket has nothing more, with one exception: once
 * a round's bytes are all back and the next round's all written, nothing
 * can be waiting (the server echoes only what it was sent), and the
 * answer will come with an event of its own; not asking saves a recv
 * that would fail per round trip.  Reading while a large round is still
 * being written keeps both ends from blocking on full buffers.
 */
static void
on_io(struct load *ld, uint32_t i)
{
	struct conn *c = &ld->c[i];

	/* Bounded: every pass but the last ends a round. */
	for (uint32_t pass = 0; pass <= ld->rounds + 1; pass++) {
		int err = send_rest(ld, i);

		if (err != 0) {
			conn_failed(ld, i, err, "send");
			return;
		}
		if (pass > 0 && c->sent == ld->size && c->got == 0)
			return;
		if (recv_rest(ld, i) <= 0 || !round_end(ld, i))
			return;
	}
}

static void
round_start(struct load *ld, uint32_t i, uint32_t round)
{
	struct conn *c = &ld->c[i];

	c->state = C_ROUND;
	c->round = round;
	c->sent = c->got = 0;
	c->t0 = now_ns();
	/* The first pass writes, then reads only what is there already. */
	on_io(ld, i);
}

/* ---- The event loop ---- */

static void
on_event(struct load *ld, uint32_t i, uint32_t events)
{
	switch (ld->c[i].state) {
	case C_CONNECTING:
		on_connect(ld, i, events);
		break;
	case C_ROUND:
		on_io(ld, i);
		break;
	default:
		/* Ready or done: a hang-up shows at the next round, if any. */
		break;
	}
}

/* Milliseconds to wait for events: until the deadline, or the next
 * connection due to be opened if there is room for it. */
static int
wait_ms(const struct load *ld, uint64_t now)
{
	uint64_t until = ld->deadline;

	if (ld->qlen > 0 && ld->inflight < CONNECT_BATCH) {
		uint64_t due = ld->c[ld->queue[ld->qhead]].t0;

		if (due < until)
			until = due;
	}
	if (until <= now)
		return 0;
	if (until - now > 1000000000ull)
		return 1000;
	return (int)((until - now + 999999) / 1000000);
}

static void
poll_once(struct load *ld, uint64_t now, const char *phase)
{
	struct epoll_event ev[MAX_EVENTS];
	int n;

	if (now >= ld->deadline)
		die("timed out %s: %u of %u connections ready, %u done",
		    phase, ld->ready, ld->n, ld->done);
	n = epoll_wait(ld->ep, ev, MAX_EVENTS, wait_ms(ld, now));
	if (n < 0 && errno != EINTR)
		die("epoll_wait: %s", strerror(errno));
	for (int k = 0; k < n; k++)
		on_event(ld, ev[k].data.u32, ev[k].events);
}

/* Open every connection and do its first round trip: size bytes. */
static void
connect_all(struct load *ld)
{
	for (uint32_t i = 0; i < ld->n; i++)
		enqueue(ld, i, 0);
	/* Bounded by the deadline, which poll_once checks. */
	while (ld->ready < ld->n) {
		uint64_t now = now_ns();

		open_due(ld, now);
		poll_once(ld, now, "connecting");
	}
}

/* All the measured rounds, every connection at once; the elapsed ns. */
static uint64_t
run_rounds(struct load *ld)
{
	uint64_t t0 = now_ns();

	for (uint32_t i = 0; i < ld->n; i++)
		round_start(ld, i, 1);
	/* Bounded by the deadline, which poll_once checks. */
	while (ld->done < ld->n)
		poll_once(ld, now_ns(), "in the rounds");
	return now_ns() - t0;
}

static void
close_all(struct load *ld)
{
	for (uint32_t i = 0; i < ld->n; i++)
		if (ld->c[i].fd >= 0)
			close(ld->c[i].fd);
}

/* ---- The two modes ---- */

static void
setup(struct load *ld, uint32_t timeout_s)
{
	raise_nofile(ld->n);
	ld->c = calloc(ld->n, sizeof(*ld->c));
	ld->queue = calloc(ld->n, sizeof(*ld->queue));
	if (ld->c == NULL || ld->queue == NULL)
		die("out of memory for %u connections", ld->n);
	for (uint32_t i = 0; i < ld->n; i++)
		ld->c[i].fd = -1;
	ld->ep = epoll_create1(EPOLL_CLOEXEC);
	if (ld->ep < 0)
		die("epoll_create1: %s", strerror(errno));
	ld->deadline = now_ns() + (uint64_t)timeout_s * 1000000000ull;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/* The p-th percentile of the sorted samples, nearest rank, in us. */
static double
percentile_us(const uint64_t *v, size_t n, unsigned p)
{
	size_t rank = (n * p + 99) / 100;

	return (double)v[rank > 0 ? rank - 1 : 0] / 1000.0;
}

static int
mode_echo(struct load *ld, uint32_t timeout_s)
{
	uint64_t elapsed, total = (uint64_t)ld->n * ld->rounds;

	if (total > MAX_SAMPLES)
		die("CONNS x ROUNDS is %llu round trips, more than the %llu "
		    "this keeps the latency of", (unsigned long long)total,
		    (unsigned long long)MAX_SAMPLES);
	setup(ld, timeout_s);
	ld->lat = malloc(total * sizeof(*ld->lat));
	if (ld->lat == NULL)
		die("out of memory for %llu samples", (unsigned long long)total);
	connect_all(ld);
	elapsed = run_rounds(ld);
	close_all(ld);
	qsort(ld->lat, ld->nlat, sizeof(*ld->lat), cmp_u64);
	printf("echo conns=%u rounds=%u size=%u ok=1 reqs_per_s=%.0f "
	    "p50_us=%.1f p99_us=%.1f elapsed_ns=%llu\n", ld->n, ld->rounds,
	    ld->size, (double)total * 1e9 / (double)(elapsed ? elapsed : 1),
	    percentile_us(ld->lat, ld->nlat, 50),
	    percentile_us(ld->lat, ld->nlat, 99),
	    (unsigned long long)elapsed);
	return 0;
}

static void
sleep_ms(uint32_t ms)
{
	uint64_t until = now_ns() + (uint64_t)ms * 1000000ull;
	struct timespec ts = {
		.tv_sec = (time_t)(until / 1000000000ull),
		.tv_nsec = (long)(until % 1000000000ull),
	};

	/* Bounded: the wake-up time is absolute, interrupted or not. */
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) ==
	    EINTR)
		;
}

static int
mode_idle(struct load *ld, uint32_t timeout_s, uint32_t hold_ms)
{
	setup(ld, timeout_s);
	connect_all(ld);
	printf("idle conns=%u ready=1\n", ld->n);
	fflush(stdout);
	sleep_ms(hold_ms);
	close_all(ld);
	return 0;
}

int
main(int argc, char **argv)
{
	static struct load ld;	/* static: the buffers are large */
	uint32_t timeout_s = 120;
	int a = 1;

	if (argc > 2 && strcmp(argv[1], "-t") == 0) {
		timeout_s = parse_num(argv[2], "-t", 1, MAX_TIMEOUT_S);
		a = 3;
	}
	if (argc - a < 5)
		usage();
	parse_addr(&ld, argv[a + 1], argv[a + 2]);
	ld.n = parse_num(argv[a + 3], "CONNS", 1, MAX_CONNS);
	if (strcmp(argv[a], "echo") == 0 && argc - a <= 6) {
		ld.rounds = parse_num(argv[a + 4], "ROUNDS", 1, MAX_ROUNDS);
		ld.size = argc - a == 6 ?
		    parse_num(argv[a + 5], "SIZE", 1, MAX_SIZE) : 64;
		snprintf(fail_line, sizeof(fail_line),
		    "echo conns=%u rounds=%u size=%u ok=0", ld.n, ld.rounds,
		    ld.size);
		return mode_echo(&ld, timeout_s);
	}
	if (strcmp(argv[a], "idle") == 0 && argc - a == 5) {
		uint32_t hold = parse_num(argv[a + 4], "HOLD_MS", 0,
		    MAX_HOLD_MS);

		ld.size = IDLE_SIZE;
		snprintf(fail_line, sizeof(fail_line), "idle conns=%u ready=0",
		    ld.n);
		return mode_idle(&ld, timeout_s, hold);
	}
	usage();
}
