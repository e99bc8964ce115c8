/*
 * Execution contexts: the registers of a suspended actor or worker.
 *
 * How a context is built and switched is a configure choice:
 *
 *  - fast (default on x86-64, aarch64 and riscv64): sn_ctx_make() writes
 *    a frame on the new stack as if the assembly swap had suspended it
 *    there (context.c's frame_build()), so the first switch starts the
 *    entry; every switch saves and restores the callee-saved registers,
 *    the FP control state and the stack pointer, and never enters the
 *    kernel.  Other CPUs keep swapcontext (configure says so).  The
 *    signal mask is not part of the context: all actors on a worker
 *    share that thread's mask.
 *  - ucontext: every context is made by makecontext(3) and every switch
 *    is swapcontext(3), which also saves and restores
 *    the signal mask with a system call: every actor context is made with
 *    the workers' mask (sn_ctx_actor_sigmask), whatever thread made it,
 *    or a switch into it would unblock signals on the worker.
 *
 * Contexts are switched between a worker and an actor, and from one actor
 * straight to another on the same worker (scheduler.c's hand-over); a
 * context may be resumed on another thread than the one that suspended
 * it.
 *
 * Under AddressSanitizer and ThreadSanitizer every switch is announced to
 * the sanitizer (start/finish_switch_fiber, tsan fibers), which otherwise
 * takes a stack switch for a wild stack pointer.
 */
#ifndef SN_CONTEXT_H
#define SN_CONTEXT_H

#include <signal.h>
#include <stddef.h>

#if defined(__SANITIZE_ADDRESS__)
#define SN_ASAN 1
#endif
#if defined(__SANITIZE_THREAD__)
#define SN_TSAN 1
#endif
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SN_ASAN 1
#endif
#if __has_feature(thread_sanitizer)
#define SN_TSAN 1
#endif
#endif

/*
 * For code that reads a parked actor's stack as plain words (hibernation
 * copies it out): ASan must not check it, as a stack holds the poisoned
 * redzones of the frames on it, nor TSan, as what orders those reads
 * after the actor's writes is a page protection, which TSan cannot see.
 */
#if defined(SN_ASAN)
#define SN_NO_SAN	__attribute__((no_sanitize_address))
#elif defined(SN_TSAN)
#define SN_NO_SAN	__attribute__((no_sanitize_thread))
#else
#define SN_NO_SAN
#endif

#ifdef SN_ASAN
#include <sanitizer/common_interface_defs.h>
#endif
#ifdef SN_TSAN
#include <sanitizer/tsan_interface.h>
#endif

#ifndef SNOW_CONTEXT_FAST
#include <ucontext.h>
#endif

struct sn_ctx {
#ifdef SNOW_CONTEXT_FAST
	void *sp;		/* registers are pushed on the suspended stack */
#else
	ucontext_t uc;
	void (*entry)(void *);
	void *arg;
#endif
#ifdef SN_ASAN
	const void *stack_lo;	/* bounds of the stack this context runs on */
	size_t stack_size;
	void *fake_stack;	/* ASan's frames, saved while suspended */
#endif
#ifdef SN_TSAN
	void *fiber;
#endif
};

#ifdef SNOW_CONTEXT_FAST
/* In switch_x86_64.S, switch_aarch64.S or switch_riscv64.S. */
void sn_ctx_swap(void **save_sp, void *load_sp);
#endif

/*
 * Make ctx run entry(arg) on the stack [stack, stack + size) at its first
 * switch.  entry must never return.  Returns 0 or an errno value.
 */
int sn_ctx_make(struct sn_ctx *ctx, void *stack, size_t size,
    void (*entry)(void *), void *arg);

/*
 * The signal mask workers and actors run with: every asynchronous signal
 * blocked, so that no handler runs on an actor's stack in the middle of
 * the scheduler, where a runtime call it made could wait for a lock its
 * own thread holds.  The faults of the code itself stay deliverable (a
 * stack overflow is reported from SIGSEGV), and SIGPROF, so that
 * profilers see actors.
 */
void sn_ctx_actor_sigmask(sigset_t *set);

/* Release what sn_ctx_make() took besides the stack (a TSan fiber). */
void sn_ctx_destroy(struct sn_ctx *ctx);

/*
 * The same for a context left for good in the middle of its frames: its
 * stack [stack, stack + size) will be rebuilt by sn_ctx_make(), so
 * whatever the sanitizers recorded about those frames is forgotten.
 */
void sn_ctx_abandon(struct sn_ctx *ctx, void *stack, size_t size);

/* Forget the AddressSanitizer redzones of frames left on [stack, stack +
 * size), so that code that runs there now is not blamed for them. */
void sn_ctx_unpoison(void *stack, size_t size);
/* The same for the calling thread's own stack. */
void sn_ctx_unpoison_thread(void);

/*
 * Describe the running thread's own context (a worker's), so that
 * switches back to it can be announced to the sanitizers.
 */
void sn_ctx_init_thread(struct sn_ctx *ctx);

/* Suspend the caller into from and resume to. */
static inline void
sn_ctx_switch(struct sn_ctx *from, struct sn_ctx *to)
{
#ifdef SN_ASAN
	__sanitizer_start_switch_fiber(&from->fake_stack, to->stack_lo,
	    to->stack_size);
#endif
#ifdef SN_TSAN
	__tsan_switch_to_fiber(to->fiber, 0);
#endif
#ifdef SNOW_CONTEXT_FAST
	sn_ctx_swap(&from->sp, to->sp);
#else
	swapcontext(&from->uc, &to->uc);
#endif
#ifdef SN_ASAN
	__sanitizer_finish_switch_fiber(from->fake_stack, NULL, NULL);
#endif
}

/* Stack pointer of a suspended context, or NULL where it is not known. */
void *sn_ctx_sp(const struct sn_ctx *ctx);

/* Name of the configured backend, for messages and benchmarks. */
extern const char sn_ctx_backend[];

#endif /* SN_CONTEXT_H */
