/*
 * Pooled actor stacks; see stack.h, and slab.h for a slab's layout.
 *
 * n, the stacks of a slab, is SN_SLAB_STACKS (256) with guard markers, SN_SLAB_STACKS_VMAS (16)
 * with guard VMAs, where every stack costs two mappings anyway; fewer
 * (down to one) where that many would span more than SN_SLAB_SPAN.
 *
 * The control blocks sit together, off the stacks: a parked actor's
 * stack pages can then be given back to the kernel (see hibernate.c)
 * while senders still reach its block.
 *
 * Guard pages are installed with MADV_GUARD_INSTALL where the kernel has
 * it (Linux 6.13 and later): the slab stays one mapping (or less: the
 * kernel merges neighbouring slabs into one).  Elsewhere they fall back to
 * mprotect(PROT_NONE), which splits the mapping in two per stack, so
 * vm.max_map_count (65530 by default) caps live actors near 32,000 there.
 *
 * Hibernated stacks are PROT_NONE too, so that nothing reads or writes
 * them while their contents are elsewhere; see stack_hib.c.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "slab.h"
#include "stack.h"

#ifdef HAVE_VALGRIND_VALGRIND_H
#include <valgrind/valgrind.h>
#define stack_register(lo, hi)	VALGRIND_STACK_REGISTER((lo), (hi))
#define stack_deregister(id)	VALGRIND_STACK_DEREGISTER(id)
#else
#define stack_register(lo, hi)	0u
#define stack_deregister(id)	((void)(id))
#endif

/*
 * How many mappings the pool may hold, slabs and hibernation's splits
 * together: a quarter of vm.max_map_count, leaving three quarters to the
 * rest of the process (its threads, its malloc arenas, its own maps).
 */
static long
vma_budget(void)
{
	char buf[32];
	long max = 0;
	ssize_t n;
	int fd = open("/proc/sys/vm/max_map_count", O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n > 0) {
			buf[n] = '\0';
			max = strtol(buf, NULL, 10);
		}
	}
	return (max > 0 ? max : 65530) / 4;	/* the kernel's default */
}

/*
 * A descriptor on /proc/self/mem, or -1: the way a thaw writes a stack
 * back while it is still PROT_NONE (see "Hibernation").  The kernel
 * allows that write (a debugger's poke), but some systems forbid it, so
 * try it on a scratch page first; without it stacks do not hibernate.
 */
static int
mem_open(size_t page)
{
	uint64_t v = 0x5a5a5a5a5a5a5a5aull;
	bool ok = false;
	char *scratch;
	int fd = open("/proc/self/mem", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return -1;
	scratch = mmap(NULL, page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
	    -1, 0);
	if (scratch != MAP_FAILED) {
		ok = pwrite(fd, &v, sizeof(v), (off_t)(uintptr_t)scratch) ==
		    (ssize_t)sizeof(v) &&
		    mprotect(scratch, page, PROT_READ) == 0 &&
		    *(volatile uint64_t *)scratch == v;
		munmap(scratch, page);
	}
	if (!ok) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * Whether this kernel has guard markers (MADV_GUARD_INSTALL).  Advice
 * taken is not advice followed: qemu-user answers 0 to madvise() calls it
 * does not pass on, and an actor stack would then have no guard at all.
 * So a marker that was accepted must also fault: the kernel, reading the
 * page for a write(2) to a pipe, must find nothing there (EFAULT).
 */
static bool
guard_markers(size_t page)
{
	char *scratch = mmap(NULL, page, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int fds[2];
	bool ok;

	if (scratch == MAP_FAILED)
		return true;		/* let the first slab find out */
	if (madvise(scratch, page, MADV_GUARD_INSTALL) != 0) {
		ok = errno != EINVAL;
	} else if (pipe2(fds, O_CLOEXEC) == 0) {
		ok = write(fds[1], scratch, 1) < 0 && errno == EFAULT;
		close(fds[0]);
		close(fds[1]);
	} else {
		ok = true;		/* cannot tell: take its word */
	}
	munmap(scratch, page);
	return ok;
}

/*
 * fork(2).  A child must not inherit a slab lock held by a thread that it
 * does not have, nor a stack half hibernated: every slab lock is taken
 * around the fork, with signals blocked.  And the child's /proc/self/mem
 * must be its own: the descriptor writes the memory of whoever opened it.
 */
static struct sn_stack_pool *fork_pool;
static pthread_once_t fork_once = PTHREAD_ONCE_INIT;
static sigset_t fork_saved;

static void
fork_prepare(void)
{
	struct sn_stack_pool *pool = fork_pool;
	struct sn_slab *s;
	sigset_t all;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &fork_saved);
	if (pool == NULL)
		return;
	pthread_mutex_lock(&pool->lock);	/* no slab added meanwhile */
	for (s = atomic_load(&pool->slabs); s != NULL; s = s->next)
		sn_spin_lock(&s->lock);
}

static void
fork_unlock(void)
{
	struct sn_stack_pool *pool = fork_pool;
	struct sn_slab *s;

	if (pool != NULL) {
		for (s = atomic_load(&pool->slabs); s != NULL; s = s->next)
			sn_spin_unlock(&s->lock);
		pthread_mutex_unlock(&pool->lock);
	}
	pthread_sigmask(SIG_SETMASK, &fork_saved, NULL);
}

static void
fork_child(void)
{
	struct sn_stack_pool *pool = fork_pool;

	if (pool != NULL && pool->mem_fd >= 0) {
		/* dup3 keeps the number: nothing else need change. */
		int fd = open("/proc/self/mem", O_RDWR | O_CLOEXEC);

		if (fd < 0 || dup3(fd, pool->mem_fd, O_CLOEXEC) < 0) {
			/* Nothing hibernates any more; what has cannot
			 * come back here. */
			close(pool->mem_fd);
			pool->mem_fd = -1;
		}
		if (fd >= 0)
			close(fd);
	}
	/* Its pidfd names the parent: no more batches here. */
	if (pool != NULL)
		sn_stack_prep_fini(pool);
	fork_unlock();
}

static void
fork_handlers(void)
{
	(void)pthread_atfork(fork_prepare, fork_unlock, fork_child);
}

int
sn_pool_init(struct sn_stack_pool *pool, size_t stack_size,
    void (*entry)(void *))
{
	long page = sysconf(_SC_PAGESIZE);
	int err;

	if (page <= 0)
		page = 4096;
	memset(pool, 0, sizeof(*pool));
	pool->page_size = (size_t)page;
	pool->stack_size = (stack_size + pool->page_size - 1) &
	    ~(pool->page_size - 1);
	pool->guard_size = SN_GUARD_PAGES * pool->page_size;
	pool->slot_size = pool->guard_size + pool->stack_size;
	atomic_init(&pool->guard_madvise, guard_markers(pool->page_size));
	pool->vma_budget = vma_budget();
	pool->mem_fd = mem_open(pool->page_size);
	pool->entry = entry;
	sn_stack_prep_init(pool);
	if ((err = pthread_mutex_init(&pool->lock, NULL)) != 0) {
		if (pool->mem_fd >= 0)
			close(pool->mem_fd);
		pool->mem_fd = -1;
		sn_stack_prep_fini(pool);
		return err;
	}
	fork_pool = pool;
	(void)pthread_once(&fork_once, fork_handlers);
	return 0;
}

void
sn_pool_destroy(struct sn_stack_pool *pool)
{
	struct sn_slab *s, *next;

	fork_pool = NULL;
	for (s = atomic_load(&pool->slabs); s != NULL; s = next) {
		int i;

		next = s->next;
		for (i = 0; i < (int)s->carved; i++) {
			struct sn_proc *p = slab_proc(s, (unsigned)i);

			if (p->booted)
				sn_ctx_destroy(&p->ctx);
			free(p->hib);
			stack_deregister(s->vg_id[i]);
		}
		munmap(s->base, s->len);
		free(s);
	}
	atomic_store(&pool->slabs, NULL);
	free(pool->sweep.scratch);
	pool->sweep.scratch = NULL;
	if (pool->mem_fd >= 0)
		close(pool->mem_fd);
	pool->mem_fd = -1;
	sn_stack_prep_fini(pool);
	pool->free = NULL;
	pool->carving = NULL;
	pool->nfree = 0;
	pthread_mutex_destroy(&pool->lock);
}

static int
guard_install(struct sn_stack_pool *pool, char *slot, size_t len)
{
	if (sn_load(&pool->guard_madvise)) {
		if (madvise(slot, len, MADV_GUARD_INSTALL) == 0)
			return 0;
		if (errno != EINVAL)
			return errno;
		sn_store(&pool->guard_madvise, false);	/* kernel too old */
	}
	/* MADV_DONTDUMP too, so that a hibernated stack, PROT_NONE like its
	 * guards, does not merge with them: its thaw would need the VMAs
	 * back, and new slabs may have taken them by then. */
	if (mprotect(slot, len, PROT_NONE) != 0 ||
	    madvise(slot, len, MADV_DONTDUMP) != 0)
		return errno;
	return 0;
}

/*
 * Map a slab, without the pool lock: the mmap and the guard pages take
 * microseconds that workers returning stacks should not wait behind.
 * Its control blocks are made later, by slab_carve().
 */
static struct sn_slab *
slab_map(struct sn_stack_pool *pool, int *err)
{
	struct sn_slab *slab;
	unsigned n = sn_stack_slab_stacks(pool);
	size_t len = pcb_area(pool, n) + pool->slot_size * n +
	    pool->page_size;
	char *base;
	bool lazy;
	int i;

	slab = calloc(1, sizeof(*slab));
	if (slab == NULL) {
		*err = ENOMEM;
		return NULL;
	}
	base = mmap(NULL, len, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
	if (base == MAP_FAILED) {
		free(slab);
		*err = ENOMEM;
		return NULL;
	}
	slab->base = base;
	slab->len = len;
	slab->n = n;
	slab->slots = base + pcb_area(pool, n);
	/*
	 * The tail guard keeps every protected run of stacks inside the
	 * slab's mapping, whatever lies above it (see "Mappings").  With
	 * guard markers a stack's own guard waits for the stack's first use
	 * (proc_boot()): a slab is one mapping either way, and 256 system
	 * calls up front were most of what the first spawn of a program
	 * cost (about 250 us here).  Guard mappings change the count of
	 * VMAs, which is reckoned per slab, so they all go in now.
	 */
	*err = guard_install(pool, slab_slot(pool, slab, n), pool->page_size);
	/* Asked after the tail's: a kernel without markers is found there,
	 * and then every guard goes in now. */
	lazy = sn_load(&pool->guard_madvise);
	for (i = 0; *err == 0 && !lazy && i < (int)n; i++)
		*err = guard_install(pool, slab_slot(pool, slab, (unsigned)i),
		    pool->guard_size);
	if (*err != 0) {
		munmap(base, len);
		free(slab);
		return NULL;
	}
	/* One reading decides both: guards that wait are markers, and
	 * guards installed now found the kernel without them. */
	slab->guard_vmas = !lazy;
	sn_spin_init(&slab->lock);
	/* Its own mappings: one (fewer if the kernel merges it with a
	 * neighbour), or with guard VMAs the control blocks, a guard and a
	 * stack per slot, and the tail. */
	atomic_fetch_add(&pool->vma_base, slab->guard_vmas ? 2L * n + 2 : 1);
	atomic_fetch_add_explicit(&pool->mapped, n, memory_order_relaxed);
	return slab;
}

/* Make slot i's control block, the first time it is handed out. */
static struct sn_proc *
proc_make(struct sn_stack_pool *pool, struct sn_slab *slab, unsigned i)
{
	struct sn_proc *p = slab_proc(slab, i);

	p->guard_pending = !slab->guard_vmas;
	p->slab = slab;
	p->slot = i;
	p->stack_lo = slab_slot(pool, slab, i) + pool->guard_size;
	p->next = NULL;
	/* Without this valgrind takes a switch for a huge frame. */
	slab->vg_id[i] = stack_register(p->stack_lo,
	    (char *)p->stack_lo + pool->stack_size);
	return p;
}

/*
 * Make up to want of the control blocks the pool has not handed out yet,
 * from the slabs on pool->carving, and return them as a list; called
 * under lock.  Made only as they are handed out, because making all 256
 * of a new slab at once touched its 28 pages of control blocks: most of
 * what a program's first spawn cost (about 40 us of 80 here).  Blocks not
 * made yet are the mapping's zero pages, which every reader of a slab's
 * blocks (sn_pool_destroy(), hibernation) takes for a stack never used.
 */
static struct sn_proc *
slab_carve(struct sn_stack_pool *pool, unsigned want, unsigned *got)
{
	struct sn_proc *head = NULL, **link = &head;
	struct sn_slab *slab;
	unsigned n = 0, i;

	while (n < want && (slab = pool->carving) != NULL) {
		i = slab->carved++;
		if (slab->carved == slab->n)
			pool->carving = slab->carve_next;
		*link = proc_make(pool, slab, i);
		link = &(*link)->next;
		n++;
	}
	*got = n;
	return head;
}

unsigned
sn_stack_slab_stacks(const struct sn_stack_pool *pool)
{
	unsigned most = atomic_load(&pool->guard_madvise) ? SN_SLAB_STACKS :
	    SN_SLAB_STACKS_VMAS;
	size_t fit = SN_SLAB_SPAN / pool->slot_size;

	return fit == 0 ? 1 : fit < most ? (unsigned)fit : most;
}

long
sn_stack_vmas(struct sn_stack_pool *pool)
{
	return atomic_load(&pool->vma_base) + atomic_load(&pool->vma_extra);
}

/* Take up to want stacks from the pool into a list; called under lock. */
static struct sn_proc *
pool_take(struct sn_stack_pool *pool, unsigned want, unsigned *got)
{
	struct sn_proc *head = pool->free, *tail = NULL, *p = head;
	unsigned n = 0;

	while (p != NULL && n < want) {
		tail = p;
		p = p->next;
		n++;
	}
	if (tail != NULL)
		tail->next = NULL;
	pool->free = p;
	pool->nfree -= n;
	*got = n;
	return head;
}

/* Add a freshly mapped slab to the pool, its blocks to be carved. */
static int
slab_add(struct sn_stack_pool *pool)
{
	struct sn_slab *slab;
	int err = 0;

	slab = slab_map(pool, &err);
	if (slab == NULL)
		return err;
	pthread_mutex_lock(&pool->lock);
	slab->carve_next = pool->carving;
	pool->carving = slab;
	slab->next = atomic_load_explicit(&pool->slabs, memory_order_relaxed);
	atomic_store_explicit(&pool->slabs, slab, memory_order_release);
	pthread_mutex_unlock(&pool->lock);
	return 0;
}

static struct sn_proc *
pool_refill(struct sn_stack_pool *pool, struct sn_stack_cache *cache)
{
	struct sn_proc *list;
	unsigned got;
	bool fresh;
	int err;

	for (;;) {
		fresh = false;
		pthread_mutex_lock(&pool->lock);
		list = pool_take(pool, SN_CACHE_BATCH, &got);
		if (list == NULL) {
			list = slab_carve(pool, SN_CACHE_BATCH, &got);
			fresh = list != NULL;
		}
		pthread_mutex_unlock(&pool->lock);
		if (fresh)
			sn_stack_prep_batch(pool, list);
		if (list != NULL)
			break;
		err = slab_add(pool);
		if (err != 0) {
			errno = err;
			return NULL;
		}
	}
	cache->head = list->next;
	cache->count = got - 1;
	list->next = NULL;
	return list;
}

/* Make p's context, installing its guard first if that waited (see
 * slab_map()): no stack runs without its guard. */
static int
proc_boot(struct sn_stack_pool *pool, struct sn_proc *p)
{
	int err;

	/* Not guard_install(): a slab marked lazy has guard markers, and
	 * its fallback to a PROT_NONE mapping would change a VMA count
	 * reckoned per slab. */
	if (p->guard_pending) {
		if (madvise((char *)p->stack_lo - pool->guard_size,
		    pool->guard_size, MADV_GUARD_INSTALL) != 0)
			return ENOMEM;	/* as for any stack we cannot have */
		p->guard_pending = 0;
	}
	err = sn_ctx_make(&p->ctx, p->stack_lo, sn_stack_frames_size(pool),
	    pool->entry,
	    p);
	if (err == 0)
		p->booted = 1;
	return err;
}

struct sn_proc *
sn_pool_get(struct sn_stack_pool *pool, struct sn_stack_cache *cache)
{
	struct sn_proc *p;
	int err;

	if (cache->head != NULL) {
		p = cache->head;
		cache->head = p->next;
		cache->count--;
	} else {
		p = pool_refill(pool, cache);
		if (p == NULL)
			return NULL;
	}
	if (sn_unlikely(!p->booted)) {
		err = proc_boot(pool, p);
		if (err != 0) {
			sn_pool_put(pool, cache, p);
			errno = err;
			return NULL;
		}
	}
	return p;
}

void
sn_pool_put(struct sn_stack_pool *pool, struct sn_stack_cache *cache,
    struct sn_proc *p)
{
	struct sn_proc *list;
	unsigned n;

	p->next = cache->head;
	cache->head = p;
	if (++cache->count <= SN_CACHE_MAX)
		return;
	/* A worker must not sleep behind a thread that is mapping: if the
	 * pool is busy, hold on to the stacks a little longer. */
	if (pthread_mutex_trylock(&pool->lock) != 0)
		return;

	/* Too many: give a batch back, so one worker that only reaps
	 * does not hoard what another worker that only spawns needs. */
	list = cache->head;
	p = list;
	for (n = 1; n < SN_CACHE_BATCH; n++)
		p = p->next;
	cache->head = p->next;
	cache->count -= SN_CACHE_BATCH;
	p->next = pool->free;
	pool->free = list;
	pool->nfree += SN_CACHE_BATCH;
	pthread_mutex_unlock(&pool->lock);
}

void
sn_pool_flush(struct sn_stack_pool *pool, struct sn_stack_cache *cache)
{
	struct sn_proc *tail;

	if (cache->head == NULL)
		return;
	for (tail = cache->head; tail->next != NULL; tail = tail->next)
		;
	pthread_mutex_lock(&pool->lock);
	tail->next = pool->free;
	pool->free = cache->head;
	pool->nfree += cache->count;
	pthread_mutex_unlock(&pool->lock);
	cache->head = NULL;
	cache->count = 0;
}
