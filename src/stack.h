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
	struct sn_slab *slabs;		/* under lock */
	size_t stack_size;		/* usable bytes of each stack */
	size_t slot_size;		/* guard pages + stack */
	size_t guard_size;
	size_t page_size;
	_Atomic bool guard_madvise;	/* guard pages need no VMA of their own */
	void (*entry)(void *);		/* where every context starts */
	_Atomic uint64_t mapped;	/* stacks ever mapped */
};

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

/*
 * Hibernation of parked actors, whose wakes the caller owns.
 * sn_stack_save() copies an actor's live stack, from the saved stack
 * pointer sp to the top, to the heap (0, or EINVAL or ENOMEM and nothing
 * changed); sn_stack_release() then gives the stack pages of the n saved
 * actors back to the kernel, sorting ps, and returns the madvise calls
 * it made.  sn_stack_thaw() puts the copy back at the same addresses (so
 * pointers into the stack stay right) before the actor runs again.
 */
int sn_stack_save(struct sn_proc *p, void *sp);
size_t sn_stack_release(struct sn_stack_pool *pool, struct sn_proc **ps,
    size_t n);
void sn_stack_thaw(struct sn_proc *p);

#endif /* SN_STACK_H */
