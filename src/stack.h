/*
 * Actor stacks and their control blocks, pooled.
 *
 * Stacks are carved from slabs of SN_SLAB_STACKS, each below a guard page
 * that faults on overflow.  A worker keeps a private cache; the shared pool
 * behind it (one mutex) trades with caches in batches, so the common spawn
 * and exit touch no shared memory and make no system call.
 */
#ifndef SN_STACK_H
#define SN_STACK_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proc.h"

struct sn_stack_cache {
	struct sn_proc *head;
	unsigned count;
};

struct sn_slab;

struct sn_stack_pool {
	pthread_mutex_t lock;
	struct sn_proc *free;		/* under lock */
	unsigned nfree;			/* under lock */
	/* Slabs whose control blocks are not all made yet, under lock. */
	struct sn_slab *carving;
	/* Every slab; pushed under lock, walked without it by the fault
	 * handler (a slab is unmapped only at shutdown). */
	_Atomic(struct sn_slab *) slabs;
	size_t stack_size;		/* usable bytes of each stack */
	size_t slot_size;		/* guard pages + stack */
	size_t guard_size;
	size_t page_size;
	_Atomic bool guard_madvise;	/* guard pages need no VMA of their own */
	void (*entry)(void *);		/* where every context starts */
	_Atomic uint64_t mapped;	/* stacks ever mapped */
	int mem_fd;			/* /proc/self/mem, or -1: no hibernation */
	/* Fresh stacks made ready a batch at a time (stack_prep.c): a
	 * pidfd on this process, or -1, and which kinds of batch work. */
	int prep_fd;
	_Atomic bool prep_guard;	/* guard markers, one call a batch */
	_Atomic bool prep_populate;	/* top pages, one call a batch */

	/*
	 * Mappings (VMAs), counted as the kernel counts them (see stack.c):
	 * the slabs' own, and those hibernation splits off them.  Their sum
	 * stays within vma_budget, a quarter of vm.max_map_count read at
	 * init, except that slabs are never refused: past it, stacks simply
	 * stop hibernating.
	 */
	_Atomic long vma_base;		/* the slabs' own mappings */
	_Atomic long vma_extra;		/* mappings hibernation split off */
	long vma_budget;		/* what vma_base + vma_extra may reach */
	_Atomic uint64_t vma_freed;	/* times a thaw gave mappings back */

	/* Parked actors that a fault or a thaw put back: hibernation
	 * candidates again.  Pushed lock-free (also from the SIGSEGV
	 * handler), taken whole by the sweep. */
	_Atomic(struct sn_proc *) touched;

	/* The hibernation sweep's own state (hibernate.c): written only by
	 * the one sweeper (busy), kept here so every runtime starts with it
	 * empty; the counts are read by idle workers deciding to sweep. */
	struct {
		_Atomic bool busy;		/* a sweep is running */
		struct sn_proc *later;		/* parked too recently */
		struct sn_proc *refused;	/* past the budget */
		_Atomic size_t nlater, nrefused;
		_Atomic uint64_t refused_freed;	/* vma_freed when it gave up */
		struct sn_slab *due_head, *due_tail;	/* due, by slab */
		_Atomic size_t ndue;
		void *scratch;			/* packs a copy (hibpack.h) */
	} sweep;
};

/*
 * A stack, from the top down: the area small spawn arguments are copied
 * to (SN_ARGS_INLINE bytes, proc.h), then the frames, from the context's
 * first one down to stack_lo.
 */
static inline char *
sn_stack_args_area(const struct sn_stack_pool *pool, const struct sn_proc *p)
{
	return (char *)p->stack_lo + pool->stack_size - SN_ARGS_INLINE;
}

/* The bytes a context's frames may use: below the arguments' area. */
static inline size_t
sn_stack_frames_size(const struct sn_stack_pool *pool)
{
	return pool->stack_size - SN_ARGS_INLINE;
}

/*
 * The top of what a parked p has live: its frames and the arguments in
 * its area, if any, in whole words.  What hibernation copies ends here.
 */
static inline char *
sn_stack_live_top(const struct sn_stack_pool *pool, const struct sn_proc *p)
{
	size_t args = p->args_len != SN_ARGS_HEAP ? p->args_len : 0;

	return sn_stack_args_area(pool, p) + ((args + 7) & ~(size_t)7);
}

int sn_pool_init(struct sn_stack_pool *pool, size_t stack_size,
    void (*entry)(void *));
/* Unmaps every stack: no actor may be running. */
void sn_pool_destroy(struct sn_stack_pool *pool);

/*
 * A block whose context is parked in entry, or NULL with errno ENOMEM.
 * Every thread goes through a cache: workers their own, other threads a
 * thread-local one (see scheduler.c).
 */
struct sn_proc *sn_pool_get(struct sn_stack_pool *pool,
    struct sn_stack_cache *cache);
void sn_pool_put(struct sn_stack_pool *pool, struct sn_stack_cache *cache,
    struct sn_proc *p);
/* Give every stack of cache back to the pool: its thread is ending, and
 * what it kept would otherwise be stranded until shutdown. */
void sn_pool_flush(struct sn_stack_pool *pool, struct sn_stack_cache *cache);

/*
 * Hibernation of parked actors.
 *
 * sn_stack_hibernate() takes n parked actors whose wakes the caller owns,
 * each with hib_len set to the bytes of live stack below its top.  It
 * copies those bytes to the heap, makes the stacks PROT_NONE and gives
 * their pages back to the kernel, neighbouring stacks with one call each.
 * It returns how many it hibernated (hib_state SN_HIB_OUT); the others
 * are as they were, with hib NULL.  It sorts ps.
 *
 * A hibernated stack comes back, to the same addresses, in one of two
 * ways: sn_stack_thaw() before its actor runs again, or
 * sn_stack_fault() when anything else touches it (a child writing to a
 * local it was given, say); the faulting access then runs again.
 */
size_t sn_stack_hibernate(struct sn_stack_pool *pool, struct sn_proc **ps,
    size_t n);
/*
 * After sn_stack_hibernate(), for each proc it did not hibernate: hib_len
 * is still set if only the mapping budget (or a failed mprotect) stood in
 * the way, 0 if it cannot hibernate as it is (a bad length, no memory).
 * One it hibernated has hib_queued SN_HIBQ_OUT; a thaw or a fault that
 * puts a parked actor's stack back makes it SN_HIBQ_LISTED and pushes it
 * on pool->touched (the actor about to run: SN_HIBQ_NONE).
 */

/* Mappings the pool holds now, by its count (vma_base + vma_extra). */
long sn_stack_vmas(struct sn_stack_pool *pool);
/* Stacks per slab: SN_SLAB_STACKS, or fewer with guard VMAs or with
 * stacks so big that a slab would span more than 1 GiB. */
unsigned sn_stack_slab_stacks(const struct sn_stack_pool *pool);

/*
 * The sweep's grouping of due actors by slab, so that neighbours
 * hibernate in one run whatever order they were found in.  Sweeper only.
 * sn_stack_due() marks p; sn_stack_due_take() hands out the marked procs
 * of whole slabs, in slot order, at most max.
 */
void sn_stack_due(struct sn_stack_pool *pool, struct sn_proc *p);
size_t sn_stack_due_take(struct sn_stack_pool *pool, struct sn_proc **ps,
    size_t max);
/* Take every proc on pool->touched, chained through hib_next. */
struct sn_proc *sn_stack_touched_take(struct sn_stack_pool *pool);

/* Before p runs: its stack in place and its copy freed. */
void sn_stack_thaw(struct sn_stack_pool *pool, struct sn_proc *p);
/*
 * From a SIGSEGV handler: true if addr is in a stack hibernation
 * protected (now put back: return and let the access run again), false
 * if the fault is someone else's (guard pages included).
 */
bool sn_stack_fault(struct sn_stack_pool *pool, const void *addr);

#endif /* SN_STACK_H */
