/*
 * The process control block.
 *
 * A block lives at the top of the stack its actor runs on (see stack.c):
 * block and stack are one allocation, and when the actor exits both go back
 * to a pool together with the context still parked in proc_main(), so the
 * next spawn pays for neither an mmap nor a makecontext.
 */
#ifndef SN_PROC_H
#define SN_PROC_H

#include <stdatomic.h>
#include <stdint.h>

#include <snow/runtime.h>

#include "context.h"
#include "internal.h"

enum sn_proc_state {
	SN_READY,		/* queued, waiting for a worker */
	SN_RUNNING,		/* on a worker */
	SN_WAITING,		/* parked until a message or timer wakes it */
	SN_EXITED		/* finished; the block is back in a pool */
};

enum sn_exit_reason {
	SN_EXIT_NORMAL,		/* its function returned */
	SN_EXIT_ERROR,		/* it failed */
	SN_EXIT_KILLED,		/* ended from outside */
	SN_EXIT_LINKED		/* a linked actor failed */
};

/* Spawn arguments up to this size are copied into the block itself. */
#define SN_ARGS_INLINE	64

struct sn_proc {
	struct sn_ctx ctx;		/* suspended registers */
	uint64_t pid;
	_Atomic int state;		/* enum sn_proc_state */
	uint8_t exit_reason;		/* enum sn_exit_reason, once exited */
	uint8_t priority;		/* enum snow_priority */
	uint8_t booted;			/* ctx is parked in proc_main() */
	int32_t reductions;		/* budget of each slice it gets */
	snow_actor_fn fn;
	const void *args;		/* what fn receives */
	void *args_heap;		/* copy of large arguments, freed at exit */
	struct sn_proc *next;		/* link in a pool or overflow list */
	struct sn_proc *pt_next;	/* link in the process table */
	void *stack_lo;			/* lowest usable byte, above the guard */
	size_t stack_size;		/* usable bytes below this block */
	void *mailbox;			/* reserved for message passing */
	void *links;			/* reserved for links and monitors */
	unsigned char args_inline[SN_ARGS_INLINE] __attribute__((aligned(16)));
};

#endif /* SN_PROC_H */
