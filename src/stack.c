/*
 * Pooled actor stacks; see stack.h.
 *
 * Slot layout, low to high addresses:
 *
 *	[ guard pages | stack, growing down ... | struct sn_proc ]
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

static struct sn_proc *
slot_proc(const struct sn_stack_pool *pool, char *slot)
{
	size_t pcb = (sizeof(struct sn_proc) + SN_CACHELINE - 1) &
	    ~(size_t)(SN_CACHELINE - 1);

	return (struct sn_proc *)(slot + pool->slot_size - pcb);
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
			struct sn_proc *p = slot_proc(pool,
			    (char *)s->base + i * pool->slot_size);

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
	size_t len = pool->slot_size * SN_SLAB_STACKS;
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
		*err = guard_install(pool, base + i * pool->slot_size);
		if (*err != 0) {
			munmap(base, len);
			free(slab);
			return NULL;
		}
	}
	for (i = SN_SLAB_STACKS - 1; i >= 0; i--) {
		char *slot = base + i * pool->slot_size;
		struct sn_proc *p = slot_proc(pool, slot);

		p->booted = 0;
		p->stack_lo = slot + pool->guard_size;
		p->stack_size = (size_t)((char *)p - (char *)p->stack_lo);
		p->next = list;
		list = p;
		/* Without this valgrind takes a switch for a huge frame. */
		slab->vg_id[i] = stack_register(p->stack_lo, (char *)p);
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
