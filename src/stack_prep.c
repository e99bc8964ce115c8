/*
 * Fresh stacks made ready a batch at a time; see slab.h.
 *
 * A spawn that cannot reuse a stack (every actor before it is still
 * alive: a million parked actors, a server's connection actors) pays for
 * a fresh one: its guard marker, one madvise(2), and its top page, which
 * the new context's first frame writes, one page fault.  A fault is the
 * dear part, and dearest in a virtual machine: on this project's
 * development VM a fault on a fresh page costs 15 us on a bad day, where
 * the kernel fills the same page for 1 us when asked to populate it, and
 * a guard marker costs 2 us alone against 0.5 us in a batch of 256.
 *
 * So the worker that carves a batch of never-used stacks from a slab
 * (SN_CACHE_BATCH of them, into its cache) asks for all of them at once
 * with process_madvise(2) on itself: one call installs their guard
 * markers, one populates their top pages.  The trade-off: those pages are
 * resident from the carving on, up to SN_CACHE_BATCH (128 KiB) ahead of
 * the actors that will use them, where faults made each stack pay only
 * when it ran; and a batch costs more than the one stack a program that
 * spawns once needs.  So batches start only past the pool's first slab,
 * when the program has shown that it keeps many actors alive.
 *
 * Linux accepts any advice from process_madvise(2) on the calling process
 * only since 6.13 (the same release as guard markers), and
 * MADV_POPULATE_WRITE since 5.14.  Both calls are tried once at init on a
 * scratch mapping; where either fails (an older kernel, qemu-user, a
 * seccomp filter) or under valgrind, which does not know the calls, its
 * work is left to each stack's first use, as before.  A call that fails
 * later leaves that batch to the same path: a guard not installed here is
 * installed by proc_boot() before the stack runs, and a page not
 * populated faults in.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "slab.h"
#include "stack.h"

#ifdef HAVE_VALGRIND_VALGRIND_H
#include <valgrind/valgrind.h>
#define under_valgrind()	(RUNNING_ON_VALGRIND != 0)
#else
#define under_valgrind()	false
#endif

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE	23
#endif

#if defined(SYS_pidfd_open) && defined(SYS_process_madvise)
#define HAVE_PROCESS_MADVISE 1
#endif

#ifdef HAVE_PROCESS_MADVISE

/* process_madvise(2) on this process; the bytes advised, or -1. */
static ssize_t
advise(int pidfd, const struct iovec *iov, size_t n, int advice)
{
	return (ssize_t)syscall(SYS_process_madvise, pidfd, iov, n, advice, 0u);
}

/* Whether populating through process_madvise works here. */
static bool
populate_works(int pidfd, char *scratch, size_t page)
{
	struct iovec iov = { scratch, page };

	return advise(pidfd, &iov, 1, MADV_POPULATE_WRITE) == (ssize_t)page;
}

/*
 * Whether a guard marker installed through process_madvise works here.
 * As for madvise() (guard_markers() in stack.c), advice taken is not
 * advice followed: the page must also fault when the kernel reads it.
 */
static bool
guard_works(int pidfd, char *scratch, size_t page)
{
	struct iovec iov = { scratch, page };
	int fds[2];
	bool ok;

	if (advise(pidfd, &iov, 1, MADV_GUARD_INSTALL) != (ssize_t)page ||
	    pipe2(fds, O_CLOEXEC) != 0)
		return false;
	ok = write(fds[1], scratch, 1) < 0 && errno == EFAULT;
	close(fds[0]);
	close(fds[1]);
	return ok;
}

void
sn_stack_prep_init(struct sn_stack_pool *pool)
{
	size_t page = pool->page_size;
	char *scratch;
	int pidfd;

	pool->prep_fd = -1;
	atomic_init(&pool->prep_guard, false);
	atomic_init(&pool->prep_populate, false);
	if (under_valgrind())
		return;
	pidfd = (int)syscall(SYS_pidfd_open, getpid(), 0u);
	if (pidfd < 0)
		return;
	scratch = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (scratch != MAP_FAILED) {
		atomic_init(&pool->prep_populate,
		    populate_works(pidfd, scratch + page, page));
		atomic_init(&pool->prep_guard, atomic_load(&pool->guard_madvise) &&
		    guard_works(pidfd, scratch, page));
		munmap(scratch, 2 * page);
	}
	if (atomic_load(&pool->prep_populate) ||
	    atomic_load(&pool->prep_guard))
		pool->prep_fd = pidfd;
	else
		close(pidfd);
}

/*
 * Advise the ranges of iov; true if every byte was.  A refusal that will
 * not change (the call or the advice unknown, forbidden) turns that kind
 * of batch off for good; anything else (ENOMEM, say) fails just this one.
 */
static bool
advise_all(struct sn_stack_pool *pool, _Atomic bool *on,
    const struct iovec *iov, size_t n, int advice)
{
	size_t want = 0, i;
	ssize_t got;

	if (n == 0)
		return true;
	for (i = 0; i < n; i++)
		want += iov[i].iov_len;
	got = advise(pool->prep_fd, iov, n, advice);
	if (got < 0 && (errno == ENOSYS || errno == EINVAL ||
	    errno == EPERM || errno == EBADF))
		atomic_store_explicit(on, false, memory_order_relaxed);
	return got == (ssize_t)want;
}

/* Install the guards list's stacks still wait for, in one call. */
static void
prep_guards(struct sn_stack_pool *pool, struct sn_proc *list)
{
	struct iovec iov[SN_CACHE_BATCH];
	struct sn_proc *p;
	size_t n = 0;

	for (p = list; p != NULL && n < SN_CACHE_BATCH; p = p->next)
		if (p->guard_pending) {
			iov[n].iov_base = (char *)p->stack_lo - pool->guard_size;
			iov[n++].iov_len = pool->guard_size;
		}
	/* Partly done is not done: proc_boot() installs each again, which
	 * a marker already there takes as a no-op. */
	if (!advise_all(pool, &pool->prep_guard, iov, n, MADV_GUARD_INSTALL))
		return;
	for (p = list, n = 0; p != NULL && n < SN_CACHE_BATCH; p = p->next)
		if (p->guard_pending) {
			p->guard_pending = 0;
			n++;
		}
}

/* Populate the top page of each of list's stacks not yet booted. */
static void
prep_tops(struct sn_stack_pool *pool, struct sn_proc *list)
{
	struct iovec iov[SN_CACHE_BATCH];
	struct sn_proc *p;
	size_t n = 0, page = pool->page_size;

	for (p = list; p != NULL && n < SN_CACHE_BATCH; p = p->next)
		if (!p->booted) {
			iov[n].iov_base = (char *)p->stack_lo +
			    pool->stack_size - page;
			iov[n++].iov_len = page;
		}
	/* A page left out faults in when the stack first runs. */
	(void)advise_all(pool, &pool->prep_populate, iov, n,
	    MADV_POPULATE_WRITE);
}

void
sn_stack_prep_batch(struct sn_stack_pool *pool, struct sn_proc *list)
{
	/* Only once the pool has grown past its first slab: most programs
	 * never hold that many stacks at once, and their first spawn should
	 * stay one fault (sup-restart, 1,000 restarts on one worker, took
	 * 0.80 ms with faults and 0.93 with its first batch prepared). */
	if (atomic_load_explicit(&pool->mapped, memory_order_relaxed) <=
	    sn_stack_slab_stacks(pool))
		return;
	if (atomic_load_explicit(&pool->prep_guard, memory_order_relaxed))
		prep_guards(pool, list);
	if (atomic_load_explicit(&pool->prep_populate, memory_order_relaxed))
		prep_tops(pool, list);
}

#else /* !HAVE_PROCESS_MADVISE */

void
sn_stack_prep_init(struct sn_stack_pool *pool)
{
	pool->prep_fd = -1;
	atomic_init(&pool->prep_guard, false);
	atomic_init(&pool->prep_populate, false);
}

void
sn_stack_prep_batch(struct sn_stack_pool *pool, struct sn_proc *list)
{
	(void)pool;
	(void)list;
}

#endif /* HAVE_PROCESS_MADVISE */

void
sn_stack_prep_fini(struct sn_stack_pool *pool)
{
	if (pool->prep_fd >= 0)
		close(pool->prep_fd);
	pool->prep_fd = -1;
	atomic_store(&pool->prep_guard, false);
	atomic_store(&pool->prep_populate, false);
}
