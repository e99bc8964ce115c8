/*
 * echo-server: a TCP echo server on snow-rt, one actor per connection.
 *
 * usage: echo-server [PORT [WORKERS]]
 *   PORT     port on 127.0.0.1 (default 0: a free one, chosen by the kernel)
 *   WORKERS  worker threads (default 0: one per CPU)
 *
 * Prints "listening PORT" once it accepts connections and writes every
 * byte it reads on a connection back to it.  On SIGINT or SIGTERM it
 * stops accepting, ends every connection, waits for their actors and
 * exits 0 with "echo-server: stopped, N connections served".  Exits 2 on
 * bad arguments, 1 if it cannot start.  bench/net/run-peers.sh --snow
 * measures it against the Go and Erlang servers there.
 *
 * Three kinds of actor:
 *  - the acceptor waits on the listening socket (snow_io_accept) and
 *    spawns a connection actor for each socket it gets;
 *  - a connection actor reads and writes its socket back until the peer
 *    closes it;
 *  - the signal actor waits on a signalfd.  SIGINT and SIGTERM are blocked
 *    in every thread (the main thread blocks them before the workers
 *    start, and they inherit its mask), so they stay pending for the
 *    signalfd instead of ending the process.  On one it stops the server
 *    (stop_all()) and ends; once the others have ended too,
 *    snow_rt_run_scheduler() returns in main.
 *
 * Connections are in a table indexed by descriptor, under a mutex, so
 * that a stop finds them.  Only a connection's actor closes its socket:
 * the stop shuts it down instead (shutdown(2)), which wakes the actor's
 * wait with end of stream (or its write with EPIPE), and it ends and
 * closes as after any client's close.  Closing it from the stop, with
 * snow_io_close(), would work too, but the actor could be between two
 * calls on the descriptor just then, and the number could meanwhile be
 * given to a socket the acceptor was still getting: the actor would read
 * another client's bytes.  The listening socket has no such race, as the
 * acceptor is the only one that uses it: it is closed with
 * snow_io_close(), which wakes the acceptor with EBADF.
 */
/* signalfd(2), accept4's flags and shutdown(2) under -std=c11. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <snow/runtime.h>

/*
 * Bytes a connection reads at once, on its actor's stack.  A waiting
 * actor's stack stays resident (only a receive hibernates it), so this
 * buffer sets most of what an idle connection costs.  The actor's
 * arguments, the buffer and every frame down to the runtime's park fit
 * in the stack's top 4 KiB page up to a buffer of about 3.3 KiB; past
 * that the frames below it land on a second page.  Measured with
 * run-peers.sh's idle test (10,000 connections, 2 workers): 4.37 KB a
 * connection for any buffer from 64 bytes to 3 KiB, 8.47 KB with 4 KiB.
 * Within the page, larger is faster for large requests (16 KiB round
 * trips, 100 connections: about 3,000/s with 512 bytes, 5,000 with 1 KiB,
 * 8,500 with 2 KiB: fewer reads, writes and segments), and the same for
 * the benchmark's 64 bytes.  2 KiB keeps over 1 KiB of the page spare
 * for deeper paths through the runtime.
 */
#define ECHO_BUF	2048
/* Connections the kernel queues for accept (capped by somaxconn). */
#define BACKLOG		4096
/* The connection table's size when descriptors are unlimited. */
#define FD_CAP		(1u << 20)
/* Wait before accepting again when descriptors or memory run out. */
#define ACCEPT_BACKOFF_MS	10

struct server {
	int lfd;		/* the listening socket */
	int sfd;		/* the signalfd of SIGINT and SIGTERM */
	pthread_mutex_t lock;	/* over the rest but the counters */
	bool stopping;
	unsigned char *live;	/* [fd]: 1 while a connection actor owns fd */
	unsigned nfd;		/* size of live */
	unsigned hi;		/* live[hi..] are all 0 */
	_Atomic uint64_t served;	/* connections accepted and served */
	_Atomic int failed;	/* the acceptor gave up: exit 1 */
};

static struct server srv = { .lfd = -1, .sfd = -1,
    .lock = PTHREAD_MUTEX_INITIALIZER };

/* ---- The connection table ---- */

/* Take fd into the table, unless the server is stopping: 0, or -1. */
static int
conn_add(int fd)
{
	int ret = -1;

	pthread_mutex_lock(&srv.lock);
	if (!srv.stopping && (unsigned)fd < srv.nfd) {
		srv.live[fd] = 1;
		if ((unsigned)fd >= srv.hi)
			srv.hi = (unsigned)fd + 1;
		ret = 0;
	}
	pthread_mutex_unlock(&srv.lock);
	return ret;
}

/* Out of the table first, closed after: a stop never shuts down a
 * number that may be another socket's by then. */
static void
conn_drop(int fd)
{
	pthread_mutex_lock(&srv.lock);
	srv.live[fd] = 0;
	pthread_mutex_unlock(&srv.lock);
	close(fd);
}

/*
 * Stop: no more connections, the acceptor woken (EBADF), every
 * connection shut down.  stopping is set before the listening socket
 * closes, so a socket the acceptor was getting just then is refused by
 * conn_add() and closed.
 */
static void
stop_all(void)
{
	pthread_mutex_lock(&srv.lock);
	srv.stopping = true;
	pthread_mutex_unlock(&srv.lock);
	snow_io_close(srv.lfd);
	pthread_mutex_lock(&srv.lock);
	for (unsigned fd = 0; fd < srv.hi; fd++)
		if (srv.live[fd])
			shutdown((int)fd, SHUT_RDWR);
	pthread_mutex_unlock(&srv.lock);
}

/* ---- Actors ---- */

static void
conn_main(const void *arg)
{
	int fd = *(const int *)arg;
	char buf[ECHO_BUF];
	ssize_t n;

	/* Until end of stream, an error, or a stop's shutdown. */
	while ((n = snow_io_read(fd, buf, sizeof(buf), -1)) > 0)
		if (snow_io_write(fd, buf, (size_t)n, -1) != n)
			break;
	conn_drop(fd);
}

static void
conn_start(int fd)
{
	int one = 1;

	/* Each echo is an answer the client waits for: send it now rather
	 * than when the last segment is acknowledged (Nagle). */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (conn_add(fd) != 0) {
		close(fd);
		return;
	}
	if (snow_actor_spawn(conn_main, &fd, sizeof(fd), SNOW_PRIO_NORMAL) ==
	    0) {
		fprintf(stderr, "echo-server: spawn: %s\n", strerror(errno));
		conn_drop(fd);
		return;
	}
	atomic_fetch_add_explicit(&srv.served, 1, memory_order_relaxed);
}

/* Whether accept failed for want of a resource that may come back. */
static bool
accept_transient(int err)
{
	return err == EMFILE || err == ENFILE || err == ENOBUFS ||
	    err == ENOMEM || err == ECONNABORTED || err == EINTR ||
	    err == EPROTO || err == EPERM;
}

static void
acceptor_main(const void *arg)
{
	int fd, err, last = 0;
	bool stopping;

	(void)arg;
	for (;;) {
		fd = snow_io_accept(srv.lfd, NULL, NULL, -1);
		if (fd >= 0) {
			conn_start(fd);
			last = 0;
			continue;
		}
		/* snow_errno(): the wait may have moved us to another
		 * worker thread. */
		err = snow_errno();
		pthread_mutex_lock(&srv.lock);
		stopping = srv.stopping;
		pthread_mutex_unlock(&srv.lock);
		if (stopping)
			return;		/* EBADF: stop_all() closed it */
		if (!accept_transient(err))
			break;
		/* Once a spell, not every ACCEPT_BACKOFF_MS. */
		if (err != last)
			fprintf(stderr, "echo-server: accept: %s (retrying)\n",
			    strerror(err));
		last = err;
		snow_timer_sleep(ACCEPT_BACKOFF_MS);
	}
	fprintf(stderr, "echo-server: accept: %s, stopping\n", strerror(err));
	atomic_store(&srv.failed, 1);
	/* Process-wide and blocked everywhere: it reaches the signalfd. */
	kill(getpid(), SIGTERM);
}

static void
signal_main(const void *arg)
{
	struct signalfd_siginfo si;

	(void)arg;
	/* Any outcome stops the server: a signal, or an error that would
	 * leave it unstoppable otherwise. */
	if (snow_io_read(srv.sfd, &si, sizeof(si), -1) != (ssize_t)sizeof(si))
		fprintf(stderr, "echo-server: signalfd: %s\n",
		    strerror(snow_errno()));
	stop_all();
	close(srv.sfd);
}

/* ---- Setting up ---- */

static int
parse_arg(const char *s, unsigned long max, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 10);
	return errno == 0 && end != s && *end == '\0' && s[0] != '-' &&
	    *out <= max ? 0 : -1;
}

/* Raise the descriptor limit to the hard one (each connection is one)
 * and size the connection table to it. */
static int
table_init(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
			getrlimit(RLIMIT_NOFILE, &rl);
	}
	srv.nfd = rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > FD_CAP ?
	    FD_CAP : (unsigned)rl.rlim_cur;
	srv.live = calloc(srv.nfd, 1);
	return srv.live != NULL ? 0 : -1;
}

/* SIGINT and SIGTERM blocked in this thread (and so in the workers it
 * starts), and a signalfd to read them from. */
static int
signals_init(void)
{
	sigset_t set;

	/* A client that resets its connection makes a write fail with
	 * EPIPE; the signal would end the process. */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0)
		return -1;
	srv.sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	return srv.sfd >= 0 ? 0 : -1;
}

/* A non-blocking socket listening on 127.0.0.1:port; its port, or -1. */
static int
listen_on(unsigned port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	int one = 1;

	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	srv.lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (srv.lfd < 0 ||
	    setsockopt(srv.lfd, SOL_SOCKET, SO_REUSEADDR, &one,
	    sizeof(one)) != 0 ||
	    bind(srv.lfd, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
	    listen(srv.lfd, BACKLOG) != 0 ||
	    getsockname(srv.lfd, (struct sockaddr *)&sin, &len) != 0)
		return -1;
	return ntohs(sin.sin_port);
}

static int
start_actors(void)
{
	if (snow_actor_spawn(signal_main, NULL, 0, SNOW_PRIO_HIGH) == 0)
		return -1;
	if (snow_actor_spawn(acceptor_main, NULL, 0, SNOW_PRIO_NORMAL) == 0) {
		/* Nothing to wait for but a signal: make one. */
		kill(getpid(), SIGTERM);
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	unsigned long port = 0, workers = 0;
	int got, err;

	if (argc > 3 || (argc > 1 && parse_arg(argv[1], 65535, &port) != 0) ||
	    (argc > 2 && parse_arg(argv[2], SNOW_MAX_SCHEDULERS,
	    &workers) != 0)) {
		fprintf(stderr, "usage: %s [PORT (0..65535)] "
		    "[WORKERS (0..%d)]\n", argv[0], SNOW_MAX_SCHEDULERS);
		return 2;
	}
	if (table_init() != 0 || signals_init() != 0) {
		perror("echo-server: setup");
		return 1;
	}
	if ((got = listen_on((unsigned)port)) < 0) {
		perror("echo-server: listen");
		return 1;
	}
	if ((err = snow_rt_init_actor((uint32_t)workers)) != 0) {
		fprintf(stderr, "echo-server: snow_rt_init_actor: %s\n",
		    strerror(err));
		return 1;
	}
	if (start_actors() != 0) {
		perror("echo-server: spawn");
		atomic_store(&srv.failed, 1);
	} else {
		printf("listening %d\n", got);
		fflush(stdout);
	}
	if ((err = snow_rt_run_scheduler()) != 0) {
		fprintf(stderr, "echo-server: snow_rt_run_scheduler: %s\n",
		    strerror(err));
		return 1;
	}
	printf("echo-server: stopped, %llu connections served\n",
	    (unsigned long long)atomic_load(&srv.served));
	free(srv.live);
	return atomic_load(&srv.failed) ? 1 : 0;
}
