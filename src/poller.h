/*
 * The poller: the runtime's one epoll set, where actors waiting on
 * descriptors are registered, and the table of which wait holds which
 * descriptor.  Platform code only: it knows nothing of actors.  What a
 * ready descriptor means is told to a hook (deliver), set by io.c.
 *
 * Who polls (see idle.c and scheduler.c), as Go's netpoller does it:
 *
 *  - one idle worker at a time sleeps in the poller, until its next
 *    timer, instead of on its futex (sn_poller_sleep());
 *  - busy workers look without waiting between picks, so that a ready
 *    descriptor is noticed under full load too (sn_poller_poll()).
 *
 * Both only while some actor waits on a descriptor: a runtime without
 * I/O makes no system call here, and an idle one still sleeps.
 *
 * The sleeper must be woken like any idle worker when work comes.  It
 * waits on a second epoll set that holds the first and an eventfd; a
 * waker writes the eventfd (sn_poller_kick()).  Busy workers poll the
 * first set only, so they never take a kick meant for the sleeper.
 *
 * A registration is EPOLLONESHOT and carries a token: the waiting
 * actor's control block and the tag of its wait (see io.c).  A report
 * that comes after its wait ended (a timeout, a kill, a second report)
 * finds the tag changed and is dropped there.
 */
#ifndef SN_POLLER_H
#define SN_POLLER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

/* What a wait is for, and what the poller reports: the public
 * SNOW_IO_* values (runtime.h). */
typedef void (*sn_poller_deliver_fn)(uint64_t token, uint32_t events);

struct sn_poller {
	pthread_mutex_t lock;		/* opening and closing */
	_Atomic bool open;		/* the sets exist */
	int epfd;			/* the descriptors waited on */
	int sleepfd;			/* epfd and kickfd: the sleeper's */
	int kickfd;			/* eventfd that wakes the sleeper */
	_Atomic long waiting;		/* waits in progress */
	_Atomic bool sleeping;		/* a worker sleeps in sleepfd */
	sn_poller_deliver_fn deliver;
	/*
	 * Which token holds each descriptor: chunks of SN_POLLER_CHUNK
	 * entries, made on first use and kept until close, so that lookups
	 * need no lock.  Descriptors up to the hard RLIMIT_NOFILE at open.
	 */
	_Atomic(_Atomic uint64_t *) *fds;
	size_t nchunks;
};

#define SN_POLLER_CHUNK	4096

/* Zero the poller: nothing is opened before the first wait. */
void sn_poller_init(struct sn_poller *pl, sn_poller_deliver_fn deliver);
/* Open the sets if they are not: 0, or an errno value (EMFILE, ...). */
int sn_poller_open(struct sn_poller *pl);
/* Close the sets and free the table: no wait may be in progress. */
void sn_poller_close(struct sn_poller *pl);

/*
 * Take descriptor fd for token: 0, EBUSY (another wait holds it), EBADF
 * (fd past the table), ENOMEM.  Give it back with sn_poller_release().
 */
int sn_poller_claim(struct sn_poller *pl, int fd, uint64_t token);
void sn_poller_release(struct sn_poller *pl, int fd, uint64_t token);
/* The token holding fd, or 0. */
uint64_t sn_poller_holder(struct sn_poller *pl, int fd);

/*
 * Report the next readiness of fd for events (SNOW_IO_READ, _WRITE) to
 * token, once: 0, EPERM (fd is a regular file or such, always ready), or
 * the errno of epoll_ctl (EBADF, ENOMEM, ...).
 */
int sn_poller_arm(struct sn_poller *pl, int fd, uint32_t events,
    uint64_t token);
/* Forget fd's registration, if it has one. */
void sn_poller_disarm(struct sn_poller *pl, int fd);

/* Whether a wait is in progress: whether anyone should poll. */
static inline bool
sn_poller_active(struct sn_poller *pl)
{
	return atomic_load_explicit(&pl->waiting, memory_order_relaxed) != 0;
}

/* Deliver what is ready now, without waiting: how many reports. */
unsigned sn_poller_poll(struct sn_poller *pl);

/*
 * As the sleeper: false at once if another worker is the sleeper.
 * Otherwise wait until something is ready, a kick, or timeout_ns
 * (UINT64_MAX: no limit) has passed, unless *stop is set first; deliver
 * what is ready and return true, with *delivered the reports.  The
 * caller stores its wake word before reading sleeping, and we store
 * sleeping before reading its wake word: one of us sees the other.
 */
bool sn_poller_sleep(struct sn_poller *pl, _Atomic uint32_t *stop,
    uint64_t timeout_ns, unsigned *delivered);
/* Wake the sleeper, if there is one. */
void sn_poller_kick(struct sn_poller *pl);

#endif /* SN_POLLER_H */
