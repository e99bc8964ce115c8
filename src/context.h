/*
 * Execution contexts: the registers of a suspended actor or worker.
 *
 * Every actor context is built by makecontext(3).  How it is switched is a
 * configure choice:
 *
 *  - fast (default on x86-64): sn_ctx_make() enters the new context once,
 *    through setcontext(3), and the entry immediately parks itself with the
 *    assembly swap; from then on every switch saves and restores the
 *    callee-saved registers and the stack pointer, and never enters the
 *    kernel.  The signal mask is not part of the context: all actors on a
 *    worker share that thread's mask.
 *  - ucontext: every switch is swapcontext(3), which also saves and restores
 *    the signal mask with a system call.
 *
 * Contexts are switched only between a worker and an actor, and a context
 * may be resumed on another thread than the one that suspended it.
 */
#ifndef SN_CONTEXT_H
#define SN_CONTEXT_H

#include <stddef.h>

#ifdef SNOW_CONTEXT_FAST
struct sn_ctx {
	void *sp;		/* registers are pushed on the suspended stack */
};

/* In switch_x86_64.S. */
void sn_ctx_swap(void **save_sp, void *load_sp);
#else
#include <ucontext.h>

struct sn_ctx {
	ucontext_t uc;
	void (*entry)(void *);
	void *arg;
};
#endif

/*
 * Make ctx run entry(arg) on the stack [stack, stack + size) at its first
 * switch.  entry must never return.  Returns 0 or an errno value.
 */
int sn_ctx_make(struct sn_ctx *ctx, void *stack, size_t size,
    void (*entry)(void *), void *arg);

/* Suspend the caller into from and resume to. */
static inline void
sn_ctx_switch(struct sn_ctx *from, struct sn_ctx *to)
{
#ifdef SNOW_CONTEXT_FAST
	sn_ctx_swap(&from->sp, to->sp);
#else
	swapcontext(&from->uc, &to->uc);
#endif
}

/* Name of the configured backend, for messages and benchmarks. */
extern const char sn_ctx_backend[];

#endif /* SN_CONTEXT_H */
