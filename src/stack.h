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
	_Atomic long vma_extra;		/* mappings hibernation split off */
	long vma_budget;		/* and how many it may */
	int mem_fd;			/* /proc/self/mem, or -1: no hibernation */
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
/* Before p runs: its stack in place and its copy freed. */
void sn_stack_thaw(struct sn_stack_pool *pool, struct sn_proc *p);
/*
 * From a SIGSEGV handler: true if addr is in a stack hibernation
 * protected (now put back: return and let the access run again), false
 * if the fault is someone else's (guard pages included).
 */
bool sn_stack_fault(struct sn_stack_pool *pool, const void *addr);

#endif /* SN_STACK_H */
