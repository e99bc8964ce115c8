/*
 * Slabs: what the pool (stack.c) and the stack side of hibernation
 * (stack_hib.c) share.  Internal to those two files.
 *
 * Slab layout, low to high addresses:
 *
 *	[ n x struct sn_proc | slot 0 | slot 1 | ... | slot n-1 | tail ]
 *	slot: [ guard pages | stack, growing down ... ]
 *	tail: one more guard page, above the last stack
 */
#ifndef SN_SLAB_H
#define SN_SLAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proc.h"
#include "stack.h"

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL	102
#endif

#define SN_SLAB_STACKS	256	/* stacks mapped at once, guard markers */
#define SN_SLAB_STACKS_VMAS 16	/* and with guard VMAs */
#define SN_SLAB_WORDS	(SN_SLAB_STACKS / 64)
/* Fewer stacks per slab when they are huge: 256 stacks of 256 MiB would
 * reserve 64 GiB at once, past what valgrind or a ulimit -v allows. */
#define SN_SLAB_SPAN	((size_t)1 << 30)
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
	struct sn_slab *next;		/* set before the slab is published */
	char *base;
	size_t len;
	char *slots;			/* slot 0 */
	unsigned n;			/* stacks */
	/* Control blocks made so far (under the pool's lock): the pool
	 * makes them as it hands them out (see slab_carve()). */
	unsigned carved;
	struct sn_slab *carve_next;	/* under the pool's lock */
	/* Its guard pages are PROT_NONE VMAs, installed when it was
	 * mapped; if not, they are markers, each installed at its stack's
	 * first use (guard_pending). */
	bool guard_vmas;
	sn_spinlock_t lock;		/* hibernation of its stacks */
	uint64_t prot[SN_SLAB_WORDS];	/* under lock: PROT_NONE stacks */
	/* The sweeper's: stacks due to hibernate (sn_stack_due()). */
	uint64_t due[SN_SLAB_WORDS];
	unsigned ndue;
	struct sn_slab *due_next;
	unsigned vg_id[SN_SLAB_STACKS];	/* valgrind's names for the stacks */
};

/* Bytes per control block: whole cache lines, no false sharing. */
static inline size_t
pcb_size(void)
{
	return (sizeof(struct sn_proc) + SN_CACHELINE - 1) &
	    ~(size_t)(SN_CACHELINE - 1);
}

/* Bytes before slot 0: n control blocks, in whole pages. */
static inline size_t
pcb_area(const struct sn_stack_pool *pool, unsigned n)
{
	return (n * pcb_size() + pool->page_size - 1) &
	    ~(pool->page_size - 1);
}

static inline struct sn_proc *
slab_proc(const struct sn_slab *s, unsigned i)
{
	return (struct sn_proc *)(s->base + (size_t)i * pcb_size());
}

static inline char *
slab_slot(const struct sn_stack_pool *pool, const struct sn_slab *s,
    unsigned i)
{
	return s->slots + (size_t)i * pool->slot_size;
}

/*
 * Fresh stacks made ready a batch at a time (stack_prep.c).
 * sn_stack_prep_init() finds out at pool init what this kernel allows and
 * sn_stack_prep_fini() lets it go (also in a forked child, whose pidfd
 * would name its parent).  sn_stack_prep_batch() takes a list of blocks
 * just carved, owned by the caller, and installs the guards they wait for
 * and populates the top pages of their stacks, each kind in one system
 * call, clearing guard_pending where it installed the guard; whatever it
 * could not do is left to each stack's first use.
 */
void sn_stack_prep_init(struct sn_stack_pool *pool);
void sn_stack_prep_fini(struct sn_stack_pool *pool);
void sn_stack_prep_batch(struct sn_stack_pool *pool, struct sn_proc *list);

#endif /* SN_SLAB_H */
