/*
 * Pooled actor stacks; see stack.h.
 *
 * Slab layout, low to high addresses:
 *
 *	[ 16 x struct sn_proc | slot 0 | slot 1 | ... | slot 15 ]
 *	slot: [ guard pages | stack, growing down ... ]
 *
 * The control blocks sit together, off the stacks: a parked actor's
 * stack pages can then be given back to the kernel (see hibernate in
 * scheduler.c) while senders still reach its block.
 *
 * Guard pages are installed with MADV_GUARD_INSTALL where the kernel has
 * it (Linux 6.13 and later): the slab stays one mapping.  Elsewhere they
 * fall back to mprotect(PROT_NONE), which splits the mapping in two per
 * stack, so vm.max_map_count (65530 by default) caps live actors near
 * 32,000 there.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "stack.h"

#ifdef HAVE_VALGRIND_VALGRIND_H
#include <valgrind/valgrind.h>
#define stack_register(lo, hi)	VALGRIND_STACK_REGISTER((lo), (hi))
#define stack_deregister(id)	VALGRIND_STACK_DEREGISTER(id)
#else
#define stack_register(lo, hi)	0u
#define stack_deregister(id)	((void)(id))
#endif

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL	102
#endif

#define SN_SLAB_STACKS	16	/* stacks mapped at once */
#define SN_CACHE_MAX	256	/* a worker cache holds at most this many */
#define SN_CACHE_BATCH	32	/* stacks moved between cache and pool */
/*
 * Guard pages below each stack.  More than one, so that a frame of up to
 * 16 KiB that skips the first page still faults instead of writing into
 * the block of the stack below; with MADV_GUARD_INSTALL they cost no
 * memory.  Larger frames need -fstack-clash-protection.
 */
#define SN_GUARD_PAGES	4

struct sn_slab {
	struct sn_slab *next;
	void *base;
	size_t len;
	unsigned vg_id[SN_SLAB_STACKS];	/* valgrind's names for the stacks */
};

/* Bytes per control block: whole cache lines, no false sharing. */
static size_t
pcb_size(void)
{
	return (sizeof(struct sn_proc) + SN_CACHELINE - 1) &
	    ~(size_t)(SN_CACHELINE - 1);
}

/* Bytes before slot 0: the control blocks, in whole pages. */
static size_t
pcb_area(const struct sn_stack_pool *pool)
{
	return (SN_SLAB_STACKS * pcb_size() + pool->page_size - 1) &
	    ~(pool->page_size - 1);
}

static struct sn_proc *
slab_proc(char *base, int i)
{
	return (struct sn_proc *)(base + (size_t)i * pcb_size());
}

static char *
slab_slot(const struct sn_stack_pool *pool, char *base, int i)
{
	return base + pcb_area(pool) + (size_t)i * pool->slot_size;
}

int
sn_pool_init(struct sn_stack_pool *pool, size_t stack_size,
    void (*entry)(void *))
{
	long page = sysconf(_SC_PAGESIZE);

	if (page <= 0)
		page = 4096;
	memset(pool, 0, sizeof(*pool));
	pool->page_size = (size_t)page;
	pool->stack_size = (stack_size + pool->page_size - 1) &
	    ~(pool->page_size - 1);
	pool->guard_size = SN_GUARD_PAGES * pool->page_size;
	pool->slot_size = pool->guard_size + pool->stack_size;
	atomic_init(&pool->guard_madvise, true);
	pool->entry = entry;
	return pthread_mutex_init(&pool->lock, NULL);
}

void
sn_pool_destroy(struct sn_stack_pool *pool)
{
	struct sn_slab *s, *next;

	for (s = pool->slabs; s != NULL; s = next) {
		int i;

		next = s->next;
		for (i = 0; i < SN_SLAB_STACKS; i++) {
			struct sn_proc *p = slab_proc(s->base, i);

			if (p->booted)
				sn_ctx_destroy(&p->ctx);
			stack_deregister(s->vg_id[i]);
		}
		munmap(s->base, s->len);
		free(s);
	}
	pool->slabs = NULL;
	pool->free = NULL;
	pool->nfree = 0;
	pthread_mutex_destroy(&pool->lock);
}

static int
guard_install(struct sn_stack_pool *pool, char *slot)
{
	if (sn_load(&pool->guard_madvise)) {
		if (madvise(slot, pool->guard_size, MADV_GUARD_INSTALL) == 0)
			return 0;
		if (errno != EINVAL)
			return errno;
		sn_store(&pool->guard_madvise, false);	/* kernel too old */
	}
	return mprotect(slot, pool->guard_size, PROT_NONE) == 0 ? 0 : errno;
}

/*
 * Map a slab and chain its stacks into a list, without the pool lock: the
 * mmap, the guard pages and the first touch of every block take tens of
 * microseconds that workers returning stacks should not wait behind.
 */
static struct sn_proc *
slab_map(struct sn_stack_pool *pool, struct sn_slab **slabp, int *err)
{
	struct sn_proc *list = NULL;
	struct sn_slab *slab;
	size_t len = pcb_area(pool) + pool->slot_size * SN_SLAB_STACKS;
	char *base;
	int i;

	slab = malloc(sizeof(*slab));
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
	for (i = 0; i < SN_SLAB_STACKS; i++) {
		*err = guard_install(pool, slab_slot(pool, base, i));
		if (*err != 0) {
			munmap(base, len);
			free(slab);
			return NULL;
		}
	}
	for (i = SN_SLAB_STACKS - 1; i >= 0; i--) {
		char *slot = slab_slot(pool, base, i);
		struct sn_proc *p = slab_proc(base, i);

		p->booted = 0;
		p->stack_lo = slot + pool->guard_size;
		p->stack_size = pool->stack_size;
		p->next = list;
		list = p;
		/* Without this valgrind takes a switch for a huge frame. */
		slab->vg_id[i] = stack_register(p->stack_lo,
		    (char *)p->stack_lo + p->stack_size);
	}
	slab->base = base;
	slab->len = len;
	*slabp = slab;
	atomic_fetch_add_explicit(&pool->mapped, SN_SLAB_STACKS,
	    memory_order_relaxed);
	return list;
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

/* Add a freshly mapped slab to the pool. */
static int
slab_add(struct sn_stack_pool *pool)
{
	struct sn_proc *list, *tail;
	struct sn_slab *slab;
	int err = 0;

	list = slab_map(pool, &slab, &err);
	if (list == NULL)
		return err;
	for (tail = list; tail->next != NULL; tail = tail->next)
		;
	pthread_mutex_lock(&pool->lock);
	tail->next = pool->free;
	pool->free = list;
	pool->nfree += SN_SLAB_STACKS;
	slab->next = pool->slabs;
	pool->slabs = slab;
	pthread_mutex_unlock(&pool->lock);
	return 0;
}

static struct sn_proc *
pool_refill(struct sn_stack_pool *pool, struct sn_stack_cache *cache)
{
	struct sn_proc *list;
	unsigned got;
	int err;

	for (;;) {
		pthread_mutex_lock(&pool->lock);
		list = pool_take(pool, SN_CACHE_BATCH, &got);
		pthread_mutex_unlock(&pool->lock);
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

static int
proc_boot(struct sn_stack_pool *pool, struct sn_proc *p)
{
	int err = sn_ctx_make(&p->ctx, p->stack_lo, p->stack_size,
	    pool->entry, p);

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

/*
 * Hibernation.  The copies are made by these two, which ASan must not
 * check: a stack holds the poisoned redzones of the frames on it.
 */
#ifdef SN_ASAN		/* context.h */
#define SN_NO_ASAN	__attribute__((no_sanitize_address))
#else
#define SN_NO_ASAN
#endif

static SN_NO_ASAN SN_NOINLINE void
raw_copy(void *dst, const void *src, size_t n)
{
	/* Word by word through volatile, so the compiler cannot turn the
	 * loop into a memcpy call, which ASan would intercept and check.
	 * Both ends are 8-byte aligned: sp is, and so is the stack top. */
	volatile uint64_t *d = dst;
	const volatile uint64_t *s = src;
	size_t i;

	for (i = 0; i < n / 8; i++)
		d[i] = s[i];
}

int
sn_stack_save(struct sn_proc *p, void *sp)
{
	char *top = (char *)p->stack_lo + p->stack_size;
	size_t len;
	void *copy;

	if (sp == NULL || (char *)sp < (char *)p->stack_lo ||
	    (char *)sp >= top || ((uintptr_t)sp & 7) != 0)
		return EINVAL;
	len = (size_t)(top - (char *)sp);
	copy = malloc(len);
	if (copy == NULL)
		return ENOMEM;
	raw_copy(copy, sp, len);
	p->hib = copy;
	p->hib_len = len;
	atomic_store_explicit(&p->hibernated, 1, memory_order_relaxed);
	return 0;
}

static int
by_address(const void *a, const void *b)
{
	const char *x = (*(struct sn_proc *const *)a)->stack_lo;
	const char *y = (*(struct sn_proc *const *)b)->stack_lo;

	return x < y ? -1 : x > y;
}

/*
 * One madvise per run of neighbouring slots: the call costs microseconds
 * (a TLB shootdown across the workers), whatever its length.  The guard
 * pages in between keep their guard: MADV_DONTNEED leaves guard markers
 * and PROT_NONE alone.
 */
size_t
sn_stack_release(struct sn_stack_pool *pool, struct sn_proc **ps, size_t n)
{
	size_t i = 0, j, calls = 0;

	qsort(ps, n, sizeof(*ps), by_address);
	while (i < n) {
		char *lo = ps[i]->stack_lo, *hi = lo + pool->stack_size;

		for (j = i + 1; j < n && (char *)ps[j]->stack_lo ==
		    hi + pool->guard_size; j++)
			hi = (char *)ps[j]->stack_lo + pool->stack_size;
		/* On failure the pages stay: the copies are still right. */
		(void)madvise(lo, (size_t)(hi - lo), MADV_DONTNEED);
		calls++;
		i = j;
	}
	return calls;
}

void
sn_stack_thaw(struct sn_proc *p)
{
	char *top = (char *)p->stack_lo + p->stack_size;

	raw_copy(top - p->hib_len, p->hib, p->hib_len);
	free(p->hib);
	p->hib = NULL;
	p->hib_len = 0;
	atomic_store_explicit(&p->hibernated, 0, memory_order_relaxed);
}
