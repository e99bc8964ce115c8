/*
 * Actors waiting on descriptors, and the calls built on it; see the
 * "Descriptors" section of runtime.h.  The epoll side is poller.c's.
 *
 * A wait, from the actor's side:
 *
 *  1. take the descriptor in the poller's table (one waiter each);
 *  2. number the wait: a tag, fresh for each wait of this control block
 *     (io_tag), and io_ready := tag << 8, "armed, nothing reported";
 *  3. register fd for the events, EPOLLONESHOT, with the token (this
 *     block, the tag);
 *  4. park (SN_WAIT_IO), with a timer when there is a timeout.
 *
 * A report, from whoever polled: decode the token, and move io_ready
 * from "armed with this tag" to "reported: these events" with a CAS.
 * That fails for a report that comes too late (the wait ended and a new
 * one has another tag) and for a second report of the same wait: so
 * each wait takes exactly one report, and no wait a stale one.  Then it
 * takes the actor's wake as any waker does (wake.h).  Between the
 * registration and the park's commit a report finds no wait word yet;
 * the park's commit then sees io_ready reported (sn_actor_wake_due())
 * and wakes itself: the same fences as a message and a receive.
 *
 * The tag is 22 bits and the block's address, a multiple of 64 below
 * 2^48, the other 42 of the token: a stale report would have to sit in a
 * poller's hands while the same block made four million more waits to
 * be taken for a new one.  Blocks live until the runtime stops, so a
 * token always names one, whoever runs on it now.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "actor.h"
#include "idle.h"
#include "io.h"
#include "scheduler.h"
#include "wake.h"

#define TAG_BITS	22
#define TAG_MASK	((1u << TAG_BITS) - 1)
#define READY_FIRED	0x80u	/* io_ready: a report came */
#define READY_CLOSED	0x10u	/* io_ready: snow_io_close() */
#define READY_EVENTS	0x1fu

static uint64_t
token_of(const struct sn_proc *p, uint32_t tag)
{
	return (uint64_t)(uintptr_t)p >> 6 << TAG_BITS | tag;
}

static struct sn_proc *
token_proc(uint64_t token)
{
	return (struct sn_proc *)(uintptr_t)(token >> TAG_BITS << 6);
}

/* Whether p's address fits a token (always, on Linux's default layouts). */
static bool
tokenable(const struct sn_proc *p)
{
	uintptr_t a = (uintptr_t)p;

	return (a & 63) == 0 && (uint64_t)a >> (64 - TAG_BITS + 6) == 0;
}

bool
sn_io_fire(struct sn_proc *p, uint32_t tag, uint32_t events, unsigned kind)
{
	uint32_t armed = tag << 8;

	if (!atomic_compare_exchange_strong(&p->io_ready, &armed,
	    armed | READY_FIRED | (events & READY_EVENTS)))
		return false;	/* stale, or reported already */
	if (sn_wake_take(p, 1u << kind))
		sn_sched_ready(p);
	return true;
}

/* The poller's hook: token's wait is ready for events (or closed). */
static void
deliver(uint64_t token, uint32_t events)
{
	(void)sn_io_fire(token_proc(token), (uint32_t)(token & TAG_MASK),
	    events, SN_WAIT_IO);
}

void
sn_io_init(void)
{
	sn_poller_init(&sn_rt.poller, deliver);
}

void
sn_io_fini(void)
{
	sn_poller_close(&sn_rt.poller);
}

bool
sn_io_reported(const struct sn_proc *p)
{
	return (atomic_load(&((struct sn_proc *)p)->io_ready) & READY_FIRED) !=
	    0;
}

/* ---- Waiting ---- */

/* The deadline of a timeout of ms, as runtime.h counts them: < 0 (or
 * SNOW_TIMEOUT_FOREVER_MS and more) for ever, UINT64_MAX. */
static uint64_t
deadline_of(int64_t ms)
{
	return sn_deadline_after(ms < 0 ? SNOW_TIMEOUT_FOREVER_MS : ms);
}

/* Outside actors: poll(2), for at most ms. */
static int
wait_thread(int fd, uint32_t events, int64_t ms)
{
	struct pollfd pfd = { .fd = fd, .events = 0 };
	uint64_t deadline = deadline_of(ms);
	int n, timeout;

	pfd.events = (short)((events & SNOW_IO_READ ? POLLIN : 0) |
	    (events & SNOW_IO_WRITE ? POLLOUT : 0));
	for (;;) {
		uint64_t now = sn_now_ns();

		if (deadline == UINT64_MAX)
			timeout = -1;
		else if (now >= deadline)
			timeout = 0;
		else if (deadline - now >= (uint64_t)INT32_MAX * 1000000u)
			timeout = INT32_MAX;
		else
			timeout = (int)((deadline - now + 999999u) / 1000000u);
		n = poll(&pfd, 1, timeout);
		if (n > 0)
			break;
		if (n < 0 && snow_errno() != EINTR)
			return -1;
		if (n == 0 && timeout == 0) {
			sn_set_errno(ms == 0 ? EAGAIN : ETIMEDOUT);
			return -1;
		}
	}
	if (pfd.revents & POLLNVAL) {
		sn_set_errno(EBADF);
		return -1;
	}
	return (pfd.revents & (POLLIN | POLLPRI) ? SNOW_IO_READ : 0) |
	    (pfd.revents & POLLOUT ? SNOW_IO_WRITE : 0) |
	    (pfd.revents & POLLERR ? SNOW_IO_ERROR : 0) |
	    (pfd.revents & (POLLHUP | POLLRDHUP) ? SNOW_IO_HUP : 0);
}

/*
 * The next tag of p's waits, never 0 (so "armed" is never "idle"), and
 * io_ready armed with it.  Release: a report decoded after whatever
 * publishes the tag (a registration, a queued call) sees it armed.
 */
uint32_t
sn_io_tag_peek(const struct sn_proc *p)
{
	uint32_t tag = (atomic_load_explicit(&((struct sn_proc *)p)->io_tag,
	    memory_order_relaxed) + 1) & TAG_MASK;

	return tag != 0 ? tag : 1;
}

uint32_t
sn_io_arm(struct sn_proc *p)
{
	uint32_t tag = sn_io_tag_peek(p);

	atomic_store_explicit(&p->io_tag, tag, memory_order_relaxed);
	atomic_store_explicit(&p->io_ready, tag << 8, memory_order_release);
	return tag;
}

void
sn_io_disarm(struct sn_proc *p)
{
	/* A report after this finds no wait armed with its tag. */
	atomic_store(&p->io_ready, 0);
}

/*
 * Steps 2-4 above, fd taken for token: the reported io_ready, 0 on a
 * timeout or an exit signal, or -errno.
 */
static int64_t
park_on(struct sn_proc *self, int fd, uint32_t events, uint32_t tag,
    int64_t ms)
{
	struct sn_poller *pl = &sn_rt.poller;
	uint64_t deadline = deadline_of(ms);
	uint32_t got;
	int err;

	err = sn_poller_arm(pl, fd, events, token_of(self, tag));
	if (err == EPERM)	/* a regular file, say: always ready */
		return READY_FIRED | (events & (SNOW_IO_READ | SNOW_IO_WRITE));
	if (err != 0)
		return -err;
	atomic_fetch_add(&pl->waiting, 1);
	/* Someone must poll now: an idle worker, if none does. */
	sn_idle_io_started();
	err = sn_sched_park(self, SN_WAIT_IO, deadline);
	atomic_fetch_sub(&pl->waiting, 1);
	got = atomic_load(&self->io_ready);
	if (got & READY_FIRED)
		return got;
	sn_poller_disarm(pl, fd);
	return err != 0 ? -err : 0;
}

static int
wait_actor(struct sn_proc *self, int fd, uint32_t events, int64_t ms)
{
	struct sn_poller *pl = &sn_rt.poller;
	uint64_t token;
	uint32_t tag;
	int64_t got;
	int err;

	if ((err = sn_poller_open(pl)) != 0)
		return -err;
	if (!tokenable(self))
		return -ENOTSUP;
	/* The tag the arm below will take: the token must be in the table
	 * before a report can name it. */
	tag = sn_io_tag_peek(self);
	token = token_of(self, tag);
	if ((err = sn_poller_claim(pl, fd, token)) != 0)
		return -err;
	(void)sn_io_arm(self);
	got = park_on(self, fd, events, tag, ms);
	sn_io_disarm(self);
	sn_poller_release(pl, fd, token);
	if (got < 0)
		return (int)got;
	if (got == 0) {
		sn_actor_check_exit(self);	/* killed: ends here */
		return -ETIMEDOUT;
	}
	if (got & READY_CLOSED)
		return -EBADF;
	return (int)(got & (SNOW_IO_READ | SNOW_IO_WRITE | SNOW_IO_ERROR |
	    SNOW_IO_HUP));
}

int
snow_io_wait(int fd, uint32_t events, int64_t ms)
{
	struct sn_proc *self = sn_sched_current();
	int got;

	if (events == 0 || (events & ~(SNOW_IO_READ | SNOW_IO_WRITE)) != 0) {
		sn_set_errno(EINVAL);
		return -1;
	}
	if (fd < 0) {
		sn_set_errno(EBADF);
		return -1;
	}
	/* Outside actors, and a poll: no registration. */
	if (self == NULL || self->on_thread || ms == 0)
		return wait_thread(fd, events, ms);
	got = wait_actor(self, fd, events, ms);
	if (got < 0) {
		sn_set_errno(-got);
		return -1;
	}
	return got;
}

int
snow_io_close(int fd)
{
	uint64_t token;

	if (atomic_load_explicit(&sn_rt.poller.open, memory_order_acquire) &&
	    (token = sn_poller_holder(&sn_rt.poller, fd)) != 0) {
		deliver(token, READY_CLOSED);
		/* Free before the number is: a descriptor opened after the
		 * close, with the same number, is not held by the old wait. */
		sn_poller_release(&sn_rt.poller, fd, token);
	}
	return close(fd);
}

/* ---- Calls that wait when they would block ---- */

/* ms left until deadline, for the next wait (0 when it has passed). */
static int64_t
ms_left(uint64_t deadline, int64_t ms)
{
	uint64_t now;

	if (ms < 0 || deadline == UINT64_MAX)
		return -1;
	now = sn_now_ns();
	return now >= deadline ? 0 : (int64_t)((deadline - now + 999999u) /
	    1000000u);
}

/* Wait for events on fd within deadline: 0, or -1 with errno. */
static int
wait_more(int fd, uint32_t events, uint64_t deadline, int64_t ms)
{
	int64_t left = ms_left(deadline, ms);

	if (left == 0) {
		sn_set_errno(ms == 0 ? EAGAIN : ETIMEDOUT);
		return -1;
	}
	return snow_io_wait(fd, events, left) < 0 ? -1 : 0;
}

static bool
would_block(int err)
{
	return err == EAGAIN || err == EWOULDBLOCK;
}

/* After a call on fd failed: whether to try it again (interrupted, or
 * it would have blocked and fd is ready now); errno says why not. */
static bool
again(int fd, uint32_t events, uint64_t deadline, int64_t ms)
{
	int err = snow_errno();

	if (err == EINTR)
		return true;
	return would_block(err) && wait_more(fd, events, deadline, ms) == 0;
}

ssize_t
snow_io_read(int fd, void *buf, size_t len, int64_t ms)
{
	uint64_t deadline = deadline_of(ms);
	ssize_t n;

	for (;;) {
		n = read(fd, buf, len);
		if (n >= 0)
			return n;
		if (!again(fd, SNOW_IO_READ, deadline, ms))
			return -1;
	}
}

/*
 * One write of len bytes: send(2) with MSG_NOSIGNAL while fd may be a
 * socket, so that a peer gone gives EPIPE rather than a SIGPIPE (which
 * kills a thread outside the runtime that does not ignore it); write(2)
 * once fd turned out not to be one (*sock cleared).
 */
static ssize_t
put(int fd, const void *buf, size_t len, bool *sock)
{
	ssize_t n;

	if (*sock) {
		n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n >= 0 || snow_errno() != ENOTSOCK)
			return n;
		*sock = false;
	}
	return write(fd, buf, len);
}

ssize_t
snow_io_write(int fd, const void *buf, size_t len, int64_t ms)
{
	uint64_t deadline = deadline_of(ms);
	const char *p = buf;
	size_t done = 0;
	bool sock = true;
	ssize_t n;

	while (done < len) {
		n = put(fd, p + done, len - done, &sock);
		if (n > 0) {
			done += (size_t)n;
			continue;
		}
		if (n < 0 && again(fd, SNOW_IO_WRITE, deadline, ms))
			continue;
		if (n == 0)
			sn_set_errno(EIO);	/* write(2) of len > 0 gave 0 */
		return done > 0 ? (ssize_t)done : -1;	/* errno says why */
	}
	return (ssize_t)done;
}

int
snow_io_accept(int fd, struct sockaddr *addr, socklen_t *addrlen, int64_t ms)
{
	uint64_t deadline = deadline_of(ms);
	int s;

	for (;;) {
		s = accept4(fd, addr, addrlen, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (s >= 0)
			return s;
		if (!again(fd, SNOW_IO_READ, deadline, ms))
			return -1;
	}
}

int
snow_io_connect(int fd, const struct sockaddr *addr, socklen_t addrlen,
    int64_t ms)
{
	uint64_t deadline = deadline_of(ms);
	socklen_t len = sizeof(int);
	int err = 0;

	if (connect(fd, addr, addrlen) == 0)
		return 0;
	if (snow_errno() != EINPROGRESS && snow_errno() != EINTR)
		return -1;
	/* In progress: writable once it is done, either way. */
	if (wait_more(fd, SNOW_IO_WRITE, deadline, ms) != 0)
		return -1;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
		return -1;
	if (err != 0) {
		sn_set_errno(err);
		return -1;
	}
	return 0;
}
