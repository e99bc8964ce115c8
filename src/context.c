/*
 * Building actor contexts: by hand for the fast backend, with
 * makecontext(3) for the ucontext one; see context.h.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <ucontext.h>

#include "context.h"

#ifdef SN_ASAN
#include <sanitizer/asan_interface.h>
#endif

void
sn_ctx_actor_sigmask(sigset_t *set)
{
	static const int kept[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP,
	    SIGSYS, SIGABRT, SIGPROF };
	size_t i;

	sigfillset(set);
	for (i = 0; i < sizeof(kept) / sizeof(kept[0]); i++)
		sigdelset(set, kept[i]);
}

/* Record the stack a new context will run on, for the sanitizers. */
static void
ctx_describe(struct sn_ctx *ctx, void *stack, size_t size)
{
#ifdef SN_ASAN
	ctx->stack_lo = stack;
	ctx->stack_size = size;
	ctx->fake_stack = NULL;
#endif
#ifdef SN_TSAN
	ctx->fiber = __tsan_create_fiber(0);
#endif
	(void)ctx;
	(void)stack;
	(void)size;
}

void
sn_ctx_destroy(struct sn_ctx *ctx)
{
#ifdef SN_TSAN
	if (ctx->fiber != NULL)
		__tsan_destroy_fiber(ctx->fiber);
	ctx->fiber = NULL;
#endif
	(void)ctx;
}

void
sn_ctx_abandon(struct sn_ctx *ctx, void *stack, size_t size)
{
	sn_ctx_destroy(ctx);
	sn_ctx_unpoison(stack, size);
}

void
sn_ctx_unpoison_thread(void)
{
#ifdef SN_ASAN
	pthread_attr_t attr;
	void *lo;
	size_t size;

	if (pthread_getattr_np(pthread_self(), &attr) != 0)
		return;
	if (pthread_attr_getstack(&attr, &lo, &size) == 0)
		__asan_unpoison_memory_region(lo, size);
	pthread_attr_destroy(&attr);
#endif
}

void
sn_ctx_unpoison(void *stack, size_t size)
{
#ifdef SN_ASAN
	/* Redzones of abandoned frames would fault whatever runs there
	 * next. */
	__asan_unpoison_memory_region(stack, size);
#endif
	(void)stack;
	(void)size;
}

void
sn_ctx_init_thread(struct sn_ctx *ctx)
{
#ifdef SN_ASAN
	/* Once per thread: on the main thread pthread_getattr_np() parses
	 * /proc/self/maps, which grows with every slab of stacks. */
	static __thread void *lo;
	static __thread size_t size;
	pthread_attr_t attr;

	if (size == 0 && pthread_getattr_np(pthread_self(), &attr) == 0) {
		pthread_attr_getstack(&attr, &lo, &size);
		pthread_attr_destroy(&attr);
	}
	ctx->stack_lo = lo;
	ctx->stack_size = size;
	ctx->fake_stack = NULL;
#endif
#ifdef SN_TSAN
	ctx->fiber = __tsan_get_current_fiber();
#endif
	(void)ctx;
}

/* First code run on a new stack: tell ASan the switch is complete. */
static void
entered(void)
{
#ifdef SN_ASAN
	__sanitizer_finish_switch_fiber(NULL, NULL, NULL);
#endif
}

#ifdef SNOW_CONTEXT_FAST

const char sn_ctx_backend[] = "fast";

void *
sn_ctx_sp(const struct sn_ctx *ctx)
{
	return ctx->sp;
}

/*
 * A new context is a stack that looks as if sn_ctx_swap() had suspended
 * it: control words and callee-saved registers below a return address,
 * which is sn_ctx_start (switch_*.S).  That code calls the function in one
 * saved register with the two values in two others, so the first switch
 * into the context starts ctx_first(entry, arg) with no system call.
 *
 * Before, a context was made with makecontext(3) and entered once through
 * setcontext(3), at the price of getcontext()'s and setcontext()'s two
 * sigprocmask calls: about a third of every restart of a killed actor,
 * whose stack keeps no reusable context.
 */
void sn_ctx_start(void);

/* The first C code of every context: tell ASan the switch is complete. */
static void
ctx_first(void (*entry)(void *), void *arg)
{
	entered();
	entry(arg);
	abort();
}

#if defined(__x86_64__)
/*
 * The frame sn_ctx_swap() pops, from the saved stack pointer up: the x87
 * control word and MXCSR (16 bytes), r15, r14, r13, r12, rbx, rbp, the
 * return address.  sn_ctx_start calls r13 with r12 and rbx.  The return
 * address sits in the top 8 bytes of a 16-aligned top, so that the call
 * in sn_ctx_start enters ctx_first() with the alignment the ABI wants.
 * The control words are the creator's, as getcontext(3) would have taken.
 */
static void *
frame_build(void *stack, size_t size, void (*entry)(void *), void *arg)
{
	uint64_t *f = (uint64_t *)(((uintptr_t)stack + size) & ~(uintptr_t)15)
	    - 9;
	uint32_t mxcsr;
	uint16_t fcw;

	__asm__ volatile("stmxcsr %0" : "=m"(mxcsr));
	__asm__ volatile("fnstcw %0" : "=m"(fcw));
	f[0] = fcw;
	f[1] = mxcsr;
	f[2] = 0;				/* r15 */
	f[3] = 0;				/* r14 */
	f[4] = (uintptr_t)ctx_first;		/* r13 */
	f[5] = (uintptr_t)entry;		/* r12 */
	f[6] = (uintptr_t)arg;			/* rbx */
	f[7] = 0;				/* rbp: the end of the frame chain */
	f[8] = (uintptr_t)sn_ctx_start;
	return f;
}
#elif defined(__aarch64__)
/*
 * The frame sn_ctx_swap() loads (switch_aarch64.S), 176 bytes from the
 * saved stack pointer up: x19-x28, x29, x30, d8-d15, FPCR and a pad.
 * x30, where the swap returns to, is sn_ctx_start, which calls x19 with
 * x20 and x21.  The frame ends at a 16-aligned top, so that sp is
 * 16-aligned in sn_ctx_start and in ctx_first(), as AArch64 requires.
 * FPCR is the creator's, as getcontext(3) would have taken.
 */
static void *
frame_build(void *stack, size_t size, void (*entry)(void *), void *arg)
{
	uint64_t *f = (uint64_t *)(((uintptr_t)stack + size) & ~(uintptr_t)15)
	    - 22;
	uint64_t fpcr;
	int i;

	__asm__ volatile("mrs %0, fpcr" : "=r"(fpcr));
	for (i = 0; i < 22; i++)
		f[i] = 0;			/* x22-x28, d8-d15, the pad */
	f[0] = (uintptr_t)ctx_first;		/* x19 */
	f[1] = (uintptr_t)entry;		/* x20 */
	f[2] = (uintptr_t)arg;			/* x21 */
	f[10] = 0;				/* x29: the end of the frame chain */
	f[11] = (uintptr_t)sn_ctx_start;	/* x30 */
	f[20] = fpcr;
	return f;
}
#elif defined(__riscv) && __riscv_xlen == 64
/*
 * The frame sn_ctx_swap() loads (switch_riscv64.S), 208 bytes from the
 * saved stack pointer up: ra, s0-s11, fs0-fs11, frm.  ra, where the swap
 * returns to, is sn_ctx_start, which calls s1 with s2 and s3.  The frame
 * ends at a 16-aligned top, so that sp is 16-aligned in sn_ctx_start and
 * in ctx_first(), as the psABI wants.  frm is the creator's, as
 * getcontext(3) would have taken.
 */
static void *
frame_build(void *stack, size_t size, void (*entry)(void *), void *arg)
{
	uint64_t *f = (uint64_t *)(((uintptr_t)stack + size) & ~(uintptr_t)15)
	    - 26;
	uint64_t frm;
	int i;

	__asm__ volatile("frrm %0" : "=r"(frm));
	for (i = 0; i < 26; i++)
		f[i] = 0;			/* s4-s11, fs0-fs11 */
	f[0] = (uintptr_t)sn_ctx_start;		/* ra */
	f[1] = 0;				/* s0: the end of the frame chain */
	f[2] = (uintptr_t)ctx_first;		/* s1 */
	f[3] = (uintptr_t)entry;		/* s2 */
	f[4] = (uintptr_t)arg;			/* s3 */
	f[25] = frm;
	return f;
}
#else
#error "the fast context backend has no frame_build() for this CPU"
#endif

int
sn_ctx_make(struct sn_ctx *ctx, void *stack, size_t size,
    void (*entry)(void *), void *arg)
{
	ctx->sp = frame_build(stack, size, entry, arg);
	ctx_describe(ctx, stack, size);
	return 0;
}

#else /* ucontext */

/*
 * makecontext(3) passes only int arguments, so a pointer travels as two
 * 32-bit halves.
 */
#define PTR_HI(p)	((unsigned)((uintptr_t)(p) >> 32))
#define PTR_LO(p)	((unsigned)((uintptr_t)(p) & 0xffffffffu))

static void *
ptr_join(unsigned hi, unsigned lo)
{
	return (void *)(((uintptr_t)hi << 32) | (uintptr_t)lo);
}

const char sn_ctx_backend[] = "ucontext";

void *
sn_ctx_sp(const struct sn_ctx *ctx)
{
#if defined(__x86_64__) && defined(REG_RSP)
	return (void *)ctx->uc.uc_mcontext.gregs[REG_RSP];
#elif defined(__aarch64__)
	return (void *)ctx->uc.uc_mcontext.sp;
#elif defined(__riscv) && defined(REG_SP)
	return (void *)ctx->uc.uc_mcontext.__gregs[REG_SP];
#else
	(void)ctx;
	return NULL;
#endif
}

static void
uc_entry(unsigned hi, unsigned lo)
{
	struct sn_ctx *ctx = ptr_join(hi, lo);

	entered();
	ctx->entry(ctx->arg);
	abort();
}

int
sn_ctx_make(struct sn_ctx *ctx, void *stack, size_t size,
    void (*entry)(void *), void *arg)
{
	if (getcontext(&ctx->uc) != 0)
		return errno;
	/* swapcontext() installs this mask on whichever worker runs it. */
	sn_ctx_actor_sigmask(&ctx->uc.uc_sigmask);
	ctx->uc.uc_stack.ss_sp = stack;
	ctx->uc.uc_stack.ss_size = size;
	ctx->uc.uc_link = NULL;
	ctx->entry = entry;
	ctx->arg = arg;
	makecontext(&ctx->uc, (void (*)(void))uc_entry, 2, PTR_HI(ctx),
	    PTR_LO(ctx));
	ctx_describe(ctx, stack, size);
	return 0;
}

#endif
