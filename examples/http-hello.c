/*
 * http-hello: an HTTP/1.1 server on snow-rt that answers every request
 * with "hello", one actor per connection.
 *
 * usage: http-hello [PORT [WORKERS]]
 *   PORT     port on 127.0.0.1 (default 0: a free one, chosen by the kernel)
 *   WORKERS  worker threads (default 0: one per CPU)
 *
 * Prints "listening PORT" once it accepts connections.  Every request
 * gets "200 OK" with Content-Type: text/plain and the body "hello\n"
 * (none for HEAD).  Connections are kept alive (HTTP/1.1's default, or
 * HTTP/1.0's "Connection: keep-alive") until the client closes them or
 * asks for "Connection: close".  Pipelined requests are answered in
 * order.  Requests have no body here: one that announces one
 * (Content-Length above 0, Transfer-Encoding) gets 413, a header block
 * over HEAD_MAX bytes 431 (RFC 6585's code for it), anything malformed
 * 400; each of them closes the connection.
 *
 * On SIGINT or SIGTERM it stops accepting, ends every connection, waits
 * for their actors and exits 0 with "http-hello: stopped, N connections
 * served, M requests answered".  Exits 2 on bad arguments, 1 if it
 * cannot start.
 *
 * The skeleton is examples/echo-server.c's (see there why a stop shuts
 * connections down rather than closing them): an acceptor actor, a
 * signal actor reading a signalfd, and a table of the connections'
 * descriptors for the stop.
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
 * The largest header block (request line, headers, empty line), and the
 * connection's read buffer, on its actor's stack.  4 KiB takes what
 * curl and load generators send, and most browsers' requests.  With
 * the frames below it an idle keep-alive connection keeps two stack
 * pages resident: 8.5 KB a connection measured, against echo-server's
 * 4.4 KB with its 2 KiB buffer (see there).
 */
#define HEAD_MAX	4096
/* Room for a response's head and body. */
#define RESP_MAX	256
/* How long a connection we close waits for the client's close, and how
 * much it reads meanwhile: see linger_close(). */
#define LINGER_MS	1000
#define LINGER_READS	8
#define BACKLOG		4096
#define FD_CAP		(1u << 20)
#define ACCEPT_BACKOFF_MS	10

static const char hello[] = "hello\n";

struct server {
	int lfd;		/* the listening socket */
	int sfd;		/* the signalfd of SIGINT and SIGTERM */
	pthread_mutex_t lock;	/* over the rest but the counters */
	bool stopping;
	unsigned char *live;	/* [fd]: 1 while a connection actor owns fd */
	unsigned nfd;		/* size of live */
	unsigned hi;		/* live[hi..] are all 0 */
	_Atomic uint64_t served;	/* connections accepted */
	_Atomic uint64_t answered;	/* requests answered 200 */
	_Atomic int failed;	/* the acceptor gave up: exit 1 */
};

static struct server srv = { .lfd = -1, .sfd = -1,
    .lock = PTHREAD_MUTEX_INITIALIZER };

/* What a request asks of its connection: go on, or close after the
 * answer (with the answer's status when it is an error). */
struct request {
	bool head;		/* HEAD: no body in the answer */
	bool http10;		/* HTTP/1.0: its own keep-alive rules */
	bool close;		/* close after the answer */
	int status;		/* 200, or the error to answer */
	int hosts;		/* Host headers seen */
};

/* ---- The connection table (as in echo-server.c) ---- */

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

static void
stop_all(void)
{
	pthread_mutex_lock(&srv.lock);
	srv.stopping = true;
	pthread_mutex_unlock(&srv.lock);
	snow_io_close(srv.lfd);		/* the acceptor wakes with EBADF */
	pthread_mutex_lock(&srv.lock);
	for (unsigned fd = 0; fd < srv.hi; fd++)
		if (srv.live[fd])
			shutdown((int)fd, SHUT_RDWR);
	pthread_mutex_unlock(&srv.lock);
}

/* ---- Parsing a request's head ---- */

static bool
is_tchar(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || (c != '\0' && strchr("!#$%&'*+-.^_`|~",
	    c) != NULL);
}

static char
lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Whether the n bytes at s are word, ignoring case. */
static bool
same_word(const char *s, size_t n, const char *word)
{
	size_t i;

	for (i = 0; i < n && word[i] != '\0'; i++)
		if (lower(s[i]) != word[i])
			return false;
	return i == n && word[i] == '\0';
}

/*
 * The length of the line at s (up to end), its end of line not counted,
 * in *len; the bytes to the next line's start returned (the end of line
 * counted: CRLF, or a bare LF as RFC 9112 allows), 0 if the line has no
 * end yet.
 */
static size_t
line_at(const char *s, const char *end, size_t *len)
{
	const char *nl = memchr(s, '\n', (size_t)(end - s));

	if (nl == NULL)
		return 0;
	*len = (size_t)(nl - s) - (nl > s && nl[-1] == '\r');
	return (size_t)(nl - s) + 1;
}

/* "METHOD SP TARGET SP HTTP/1.x": 0, or -1 if malformed. */
static int
parse_request_line(const char *s, size_t n, struct request *rq)
{
	const char *end = s + n, *sp1, *sp2;
	size_t i;

	sp1 = memchr(s, ' ', n);
	if (sp1 == NULL || sp1 == s)
		return -1;
	for (i = 0; s + i < sp1; i++)
		if (!is_tchar(s[i]))
			return -1;
	rq->head = sp1 - s == 4 && memcmp(s, "HEAD", 4) == 0;
	sp2 = memchr(sp1 + 1, ' ', (size_t)(end - sp1 - 1));
	if (sp2 == NULL || sp2 == sp1 + 1 || end - sp2 - 1 != 8 ||
	    memcmp(sp2 + 1, "HTTP/1.", 7) != 0)
		return -1;
	for (const char *t = sp1 + 1; t < sp2; t++)
		if ((unsigned char)*t <= ' ' || *t == 0x7f)
			return -1;
	if (sp2[8] == '0')
		rq->http10 = true;
	else if (sp2[8] != '1')
		return -1;
	rq->close = rq->http10;	/* 1.0 closes unless asked not to */
	return 0;
}

/* Connection's comma-separated options: close, keep-alive. */
static void
parse_connection(const char *v, size_t n, struct request *rq)
{
	size_t i = 0, start, len;

	while (i < n) {
		while (i < n && (v[i] == ',' || v[i] == ' ' || v[i] == '\t'))
			i++;
		start = i;
		while (i < n && v[i] != ',' && v[i] != ' ' && v[i] != '\t')
			i++;
		len = i - start;
		if (same_word(v + start, len, "close"))
			rq->close = true;
		else if (same_word(v + start, len, "keep-alive") && rq->http10)
			rq->close = false;
	}
}

/* Content-Length: only 0 is taken (a body is refused), digits only. */
static int
content_length_status(const char *v, size_t n)
{
	bool zero = true;

	if (n == 0)
		return 400;
	for (size_t i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return 400;
		if (v[i] != '0')
			zero = false;
	}
	return zero ? 200 : 413;
}

/* "Name: value", value trimmed; sets rq->status for a bad or refused
 * field.  0, or -1 if malformed. */
static int
parse_field(const char *s, size_t n, struct request *rq)
{
	const char *colon = memchr(s, ':', n), *v, *end = s + n;
	size_t name;

	if (colon == NULL || colon == s)
		return -1;
	name = (size_t)(colon - s);
	for (size_t i = 0; i < name; i++)
		if (!is_tchar(s[i]))	/* a space before the colon too */
			return -1;
	v = colon + 1;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	if (same_word(s, name, "connection"))
		parse_connection(v, (size_t)(end - v), rq);
	else if (same_word(s, name, "host"))
		rq->hosts++;
	else if (same_word(s, name, "content-length") && rq->status == 200)
		rq->status = content_length_status(v, (size_t)(end - v));
	else if (same_word(s, name, "transfer-encoding") && rq->status == 200)
		rq->status = 413;
	return 0;
}

/*
 * The request whose head starts at s, if all of it is in [s, end): its
 * length (up to and with the empty line) and *rq; 0 while it is not.
 * Empty lines before a request line are skipped, as RFC 9112 asks.
 */
static size_t
parse_head(const char *s, const char *end, struct request *rq)
{
	const char *p = s;
	size_t step, len;
	bool first = true;

	*rq = (struct request){ .status = 200 };
	while ((step = line_at(p, end, &len)) != 0) {
		const char *line = p;

		p += step;
		if (len == 0 && first)
			continue;	/* an empty line before the request */
		if (len == 0)
			break;		/* the end of the head */
		if (first) {
			if (parse_request_line(line, len, rq) != 0)
				rq->status = 400;
			first = false;
		} else if (line[0] == ' ' || line[0] == '\t' ||
		    parse_field(line, len, rq) != 0) {
			rq->status = 400;	/* folded, or malformed */
		}
	}
	if (step == 0)
		return 0;
	if (rq->status == 200 && !rq->http10 && rq->hosts != 1)
		rq->status = 400;	/* HTTP/1.1 needs exactly one */
	return (size_t)(p - s);
}

/* ---- Answering ---- */

static const char *
reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 413: return "Content Too Large";
	case 431: return "Request Header Fields Too Large";
	default: return "Bad Request";
	}
}

/* Write the answer to rq: 0, or -1 if the connection failed. */
static int
answer(int fd, const struct request *rq)
{
	char out[RESP_MAX];
	const char *body = rq->status == 200 ? hello : reason(rq->status);
	const char *conn = rq->close || rq->status != 200 ?
	    "Connection: close\r\n" :
	    rq->http10 ? "Connection: keep-alive\r\n" : "";
	size_t blen = rq->status == 200 ? sizeof(hello) - 1 : strlen(body) + 1;
	int n;

	n = snprintf(out, sizeof(out), "HTTP/1.1 %d %s\r\n"
	    "Content-Type: text/plain\r\nContent-Length: %zu\r\n%s\r\n"
	    "%s%s", rq->status, reason(rq->status), blen, conn,
	    rq->head ? "" : body, rq->head || rq->status == 200 ? "" : "\n");
	if (n < 0 || (size_t)n >= sizeof(out))
		return -1;
	return snow_io_write(fd, out, (size_t)n, -1) == n ? 0 : -1;
}

/*
 * Answer every whole request in buf[0..*len), in order, and keep what is
 * left of an incomplete one at the start of buf.  0 to go on reading,
 * -1 once the connection is to be closed (an answer said so, or failed).
 */
static int
serve_all(int fd, char *buf, size_t *len)
{
	size_t off = 0, used;
	struct request rq;

	while ((used = parse_head(buf + off, buf + *len, &rq)) != 0) {
		off += used;
		if (answer(fd, &rq) != 0 || rq.status != 200)
			return -1;
		atomic_fetch_add_explicit(&srv.answered, 1,
		    memory_order_relaxed);
		if (rq.close)
			return -1;
	}
	memmove(buf, buf + off, *len - off);
	*len -= off;
	return 0;
}

/*
 * Close a connection the server ends.  Closing a socket with unread
 * bytes makes the kernel send a reset, which can overtake the answer
 * just written: so stop sending, and read what the client still sends
 * until it closes too, for a bounded time and a bounded number of reads.
 */
static void
linger_close(int fd, char *buf, size_t size)
{
	shutdown(fd, SHUT_WR);
	for (int i = 0; i < LINGER_READS; i++)
		if (snow_io_read(fd, buf, size, LINGER_MS) <= 0)
			break;
	conn_drop(fd);
}

static void
conn_main(const void *arg)
{
	int fd = *(const int *)arg;
	char buf[HEAD_MAX];
	size_t len = 0;
	ssize_t n;

	for (;;) {
		n = snow_io_read(fd, buf + len, sizeof(buf) - len, -1);
		if (n <= 0) {
			conn_drop(fd);	/* the client's close, or a stop */
			return;
		}
		len += (size_t)n;
		if (serve_all(fd, buf, &len) != 0)
			break;
		if (len == sizeof(buf)) {
			/* A head that does not fit. */
			struct request rq = { .status = 431, .close = true };

			answer(fd, &rq);
			break;
		}
	}
	linger_close(fd, buf, sizeof(buf));
}

/* ---- Accepting (as in echo-server.c) ---- */

static void
conn_start(int fd)
{
	int one = 1;

	/* Each answer is written whole, and the client waits for it: send
	 * it now rather than when the last segment is acknowledged. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (conn_add(fd) != 0) {
		close(fd);
		return;
	}
	if (snow_actor_spawn(conn_main, &fd, sizeof(fd), SNOW_PRIO_NORMAL) ==
	    0) {
		fprintf(stderr, "http-hello: spawn: %s\n", strerror(errno));
		conn_drop(fd);
		return;
	}
	atomic_fetch_add_explicit(&srv.served, 1, memory_order_relaxed);
}

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
		err = snow_errno();	/* we may be on another thread now */
		pthread_mutex_lock(&srv.lock);
		stopping = srv.stopping;
		pthread_mutex_unlock(&srv.lock);
		if (stopping)
			return;		/* EBADF: stop_all() closed it */
		if (!accept_transient(err))
			break;
		/* Once a spell, not every ACCEPT_BACKOFF_MS. */
		if (err != last)
			fprintf(stderr, "http-hello: accept: %s (retrying)\n",
			    strerror(err));
		last = err;
		snow_timer_sleep(ACCEPT_BACKOFF_MS);
	}
	fprintf(stderr, "http-hello: accept: %s, stopping\n", strerror(err));
	atomic_store(&srv.failed, 1);
	kill(getpid(), SIGTERM);	/* reaches the signalfd */
}

static void
signal_main(const void *arg)
{
	struct signalfd_siginfo si;

	(void)arg;
	if (snow_io_read(srv.sfd, &si, sizeof(si), -1) != (ssize_t)sizeof(si))
		fprintf(stderr, "http-hello: signalfd: %s\n",
		    strerror(snow_errno()));
	stop_all();
	close(srv.sfd);
}

/* ---- Setting up (as in echo-server.c) ---- */

static int
parse_arg(const char *s, unsigned long max, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 10);
	return errno == 0 && end != s && *end == '\0' && s[0] != '-' &&
	    *out <= max ? 0 : -1;
}

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

static int
signals_init(void)
{
	sigset_t set;

	signal(SIGPIPE, SIG_IGN);	/* a reset client: EPIPE instead */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0)
		return -1;
	srv.sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	return srv.sfd >= 0 ? 0 : -1;
}

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
		kill(getpid(), SIGTERM);	/* the signal actor stops */
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
		perror("http-hello: setup");
		return 1;
	}
	if ((got = listen_on((unsigned)port)) < 0) {
		perror("http-hello: listen");
		return 1;
	}
	if ((err = snow_rt_init_actor((uint32_t)workers)) != 0) {
		fprintf(stderr, "http-hello: snow_rt_init_actor: %s\n",
		    strerror(err));
		return 1;
	}
	if (start_actors() != 0) {
		perror("http-hello: spawn");
		atomic_store(&srv.failed, 1);
	} else {
		printf("listening %d\n", got);
		fflush(stdout);
	}
	if ((err = snow_rt_run_scheduler()) != 0) {
		fprintf(stderr, "http-hello: snow_rt_run_scheduler: %s\n",
		    strerror(err));
		return 1;
	}
	printf("http-hello: stopped, %llu connections served, %llu requests "
	    "answered\n", (unsigned long long)atomic_load(&srv.served),
	    (unsigned long long)atomic_load(&srv.answered));
	free(srv.live);
	return atomic_load(&srv.failed) ? 1 : 0;
}
