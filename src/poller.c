/*
 * The poller: epoll sets, the descriptor table and the sleeper's kick;
 * see poller.h.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <snow/runtime.h>

#include "poller.h"

#define POLL_BATCH	64	/* reports taken per epoll_wait */
#define FDS_MAX		((size_t)1 << 26)	/* table bound, whatever the limit */

void
sn_poller_init(struct sn_poller *pl, sn_poller_deliver_fn deliver)
{
	pthread_mutex_init(&pl->lock, NULL);
	atomic_store(&pl->open, false);
	pl->epfd = pl->sleepfd = pl->kickfd = -1;
	atomic_store(&pl->waiting, 0);
	atomic_store(&pl->sleeping, false);
	pl->deliver = deliver;
	atomic_store(&pl->fds, NULL);
	pl->nchunks = 0;
}

/* Chunks for every descriptor the process may open (the hard limit). */
static size_t
table_chunks(void)
{
	struct rlimit rl;
	size_t n = FDS_MAX;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_max != RLIM_INFINITY &&
	    rl.rlim_max < FDS_MAX)
		n = (size_t)rl.rlim_max;
	return (n + SN_POLLER_CHUNK - 1) / SN_POLLER_CHUNK;
}

static int
add_fd(int set, int fd, uint64_t data)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = data };

	return epoll_ctl(set, EPOLL_CTL_ADD, fd, &ev) == 0 ? 0 : errno;
}

static void
close_fds(struct sn_poller *pl)
{
	if (pl->epfd >= 0)
		close(pl->epfd);
	if (pl->sleepfd >= 0)
		close(pl->sleepfd);
	if (pl->kickfd >= 0)
		close(pl->kickfd);
	pl->epfd = pl->sleepfd = pl->kickfd = -1;
}

/* Under pl->lock: make the sets, the kick and the table's index. */
static int
open_locked(struct sn_poller *pl)
{
	int err;

	pl->epfd = epoll_create1(EPOLL_CLOEXEC);
	pl->sleepfd = epoll_create1(EPOLL_CLOEXEC);
	pl->kickfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (pl->epfd < 0 || pl->sleepfd < 0 || pl->kickfd < 0) {
		err = errno;
		goto fail;
	}
	/* Level-triggered, both: a sleeper that comes later still sees a
	 * kick or a report nobody took. */
	if ((err = add_fd(pl->sleepfd, pl->epfd, 1)) != 0 ||
	    (err = add_fd(pl->sleepfd, pl->kickfd, 0)) != 0)
		goto fail;
	pl->nchunks = table_chunks();
	atomic_store(&pl->fds, calloc(pl->nchunks, sizeof(*pl->fds)));
	if (atomic_load(&pl->fds) == NULL) {
		err = ENOMEM;
		goto fail;
	}
	atomic_store_explicit(&pl->open, true, memory_order_release);
	return 0;
fail:
	close_fds(pl);
	return err;
}

int
sn_poller_open(struct sn_poller *pl)
{
	int err = 0;

	if (atomic_load_explicit(&pl->open, memory_order_acquire))
		return 0;
	pthread_mutex_lock(&pl->lock);
	if (!atomic_load_explicit(&pl->open, memory_order_relaxed))
		err = open_locked(pl);
	pthread_mutex_unlock(&pl->lock);
	return err;
}

void
sn_poller_close(struct sn_poller *pl)
{
	_Atomic uint64_t **fds = (_Atomic uint64_t **)atomic_load(&pl->fds);
	size_t i;

	pthread_mutex_lock(&pl->lock);
	if (fds != NULL)
		for (i = 0; i < pl->nchunks; i++)
			free((void *)fds[i]);
	free(fds);
	atomic_store(&pl->fds, NULL);
	pl->nchunks = 0;
	close_fds(pl);
	atomic_store(&pl->open, false);
	atomic_store(&pl->waiting, 0);
	atomic_store(&pl->sleeping, false);
	pthread_mutex_unlock(&pl->lock);
}

/* ---- The descriptor table ---- */

/* fd's entry, its chunk made if make is set: NULL if past the table or
 * without memory (*err says which). */
static _Atomic uint64_t *
entry(struct sn_poller *pl, int fd, bool make, int *err)
{
	_Atomic(_Atomic uint64_t *) *fds = atomic_load_explicit(&pl->fds,
	    memory_order_acquire);
	size_t c = (size_t)fd / SN_POLLER_CHUNK;
	_Atomic uint64_t *chunk, *none = NULL;

	*err = EBADF;
	if (fds == NULL || fd < 0 || c >= pl->nchunks)
		return NULL;
	chunk = atomic_load_explicit(&fds[c], memory_order_acquire);
	if (chunk == NULL && make) {
		*err = ENOMEM;
		chunk = calloc(SN_POLLER_CHUNK, sizeof(*chunk));
		if (chunk == NULL)
			return NULL;
		/* Two first waits in one chunk: one chunk stays. */
		if (!atomic_compare_exchange_strong(&fds[c], &none, chunk)) {
			free((void *)chunk);
			chunk = none;
		}
	}
	return chunk != NULL ? &chunk[(size_t)fd % SN_POLLER_CHUNK] : NULL;
}

int
sn_poller_claim(struct sn_poller *pl, int fd, uint64_t token)
{
	uint64_t none = 0;
	int err;
	_Atomic uint64_t *e = entry(pl, fd, true, &err);

	if (e == NULL)
		return err;
	return atomic_compare_exchange_strong(e, &none, token) ? 0 : EBUSY;
}

void
sn_poller_release(struct sn_poller *pl, int fd, uint64_t token)
{
	int err;
	_Atomic uint64_t *e = entry(pl, fd, false, &err);

	if (e != NULL)
		(void)atomic_compare_exchange_strong(e, &token, 0);
}

uint64_t
sn_poller_holder(struct sn_poller *pl, int fd)
{
	int err;
	_Atomic uint64_t *e = entry(pl, fd, false, &err);

	return e != NULL ? atomic_load(e) : 0;
}

/* ---- Registrations ---- */

static uint32_t
to_epoll(uint32_t events)
{
	return (events & SNOW_IO_READ ? EPOLLIN | EPOLLRDHUP : 0) |
	    (events & SNOW_IO_WRITE ? EPOLLOUT : 0);
}

static uint32_t
from_epoll(uint32_t ev)
{
	return (ev & (EPOLLIN | EPOLLPRI) ? SNOW_IO_READ : 0) |
	    (ev & EPOLLOUT ? SNOW_IO_WRITE : 0) |
	    (ev & EPOLLERR ? SNOW_IO_ERROR : 0) |
	    (ev & (EPOLLHUP | EPOLLRDHUP) ? SNOW_IO_HUP : 0);
}

int
sn_poller_arm(struct sn_poller *pl, int fd, uint32_t events, uint64_t token)
{
	struct epoll_event ev = {
		.events = to_epoll(events) | EPOLLONESHOT,
		.data.u64 = token,
	};

	/* Most waits are on a descriptor waited on before: one call. */
	if (epoll_ctl(pl->epfd, EPOLL_CTL_MOD, fd, &ev) == 0)
		return 0;
	if (errno == ENOENT && epoll_ctl(pl->epfd, EPOLL_CTL_ADD, fd, &ev) == 0)
		return 0;
	return errno;
}

void
sn_poller_disarm(struct sn_poller *pl, int fd)
{
	(void)epoll_ctl(pl->epfd, EPOLL_CTL_DEL, fd, NULL);
}

/* ---- Polling ---- */

unsigned
sn_poller_poll(struct sn_poller *pl)
{
	struct epoll_event ev[POLL_BATCH];
	int n, i;

	if (!atomic_load_explicit(&pl->open, memory_order_acquire))
		return 0;
	do
		n = epoll_wait(pl->epfd, ev, POLL_BATCH, 0);
	while (n < 0 && errno == EINTR);
	for (i = 0; i < n; i++)
		pl->deliver(ev[i].data.u64, from_epoll(ev[i].events));
	return n > 0 ? (unsigned)n : 0;
}

#ifdef HAVE_EPOLL_PWAIT2
/* Cleared the first time the kernel (or valgrind) turns it down. */
static _Atomic bool pwait2_works = true;
#endif

/* Wait on the sleeper's set for at most timeout_ns. */
static void
sleep_on(struct sn_poller *pl, uint64_t timeout_ns)
{
	struct epoll_event ev[2];
	uint64_t drained;
	int n, i, ms;

#ifdef HAVE_EPOLL_PWAIT2
	struct timespec ts = {
		.tv_sec = (time_t)(timeout_ns / 1000000000u),
		.tv_nsec = (long)(timeout_ns % 1000000000u),
	};

	if (atomic_load_explicit(&pwait2_works, memory_order_relaxed)) {
		n = epoll_pwait2(pl->sleepfd, ev, 2,
		    timeout_ns == UINT64_MAX ? NULL : &ts, NULL);
		if (n >= 0 || errno != ENOSYS)
			goto got;
		atomic_store_explicit(&pwait2_works, false,
		    memory_order_relaxed);
	}
#endif
	/* Milliseconds, rounded up: never early for a timer. */
	if (timeout_ns == UINT64_MAX)
		ms = -1;
	else if (timeout_ns >= (uint64_t)INT32_MAX * 1000000u)
		ms = INT32_MAX;
	else
		ms = (int)((timeout_ns + 999999u) / 1000000u);
	n = epoll_wait(pl->sleepfd, ev, 2, ms);
#ifdef HAVE_EPOLL_PWAIT2
got:
#endif
	for (i = 0; i < n; i++)
		if (ev[i].data.u64 == 0)
			while (read(pl->kickfd, &drained, sizeof(drained)) > 0)
				;
}

bool
sn_poller_sleep(struct sn_poller *pl, _Atomic uint32_t *stop,
    uint64_t timeout_ns, unsigned *delivered)
{
	bool no = false;

	*delivered = 0;
	if (!atomic_load_explicit(&pl->open, memory_order_acquire) ||
	    !atomic_compare_exchange_strong(&pl->sleeping, &no, true))
		return false;
	/* The seq_cst exchange above, then this load: see poller.h. */
	if (atomic_load(stop) == 0)
		sleep_on(pl, timeout_ns);
	atomic_store(&pl->sleeping, false);
	*delivered = sn_poller_poll(pl);
	return true;
}

void
sn_poller_kick(struct sn_poller *pl)
{
	uint64_t one = 1;

	atomic_thread_fence(memory_order_seq_cst);
	if (atomic_load_explicit(&pl->sleeping, memory_order_relaxed))
		(void)!write(pl->kickfd, &one, sizeof(one));
}
