/*
 * Building actor contexts with makecontext(3); see context.h.
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

void sn_ctx_boot(void **save_sp, const ucontext_t *uc);

/* Lives on the creator's stack while the new context boots. */
struct boot {
	struct sn_ctx *ctx;
	void (*entry)(void *);
	void *arg;
	void *creator_sp;
	struct sn_ctx creator;		/* for the sanitizers only */
};

static void
boot_entry(unsigned hi, unsigned lo)
{
	struct boot *b = ptr_join(hi, lo);
	struct sn_ctx *ctx = b->ctx;
	void (*entry)(void *) = b->entry;
	void *arg = b->arg;

	entered();
	/*
	 * Park here and hand control back to sn_ctx_make(): b dies with that
	 * return, so everything needed later was copied above.
	 */
#ifdef SN_ASAN
	__sanitizer_start_switch_fiber(&ctx->fake_stack, b->creator.stack_lo,
	    b->creator.stack_size);
#endif
#ifdef SN_TSAN
	__tsan_switch_to_fiber(b->creator.fiber, 0);
#endif
	sn_ctx_swap(&ctx->sp, b->creator_sp);
#ifdef SN_ASAN
	__sanitizer_finish_switch_fiber(ctx->fake_stack, NULL, NULL);
#endif
	(void)ctx;
	entry(arg);
	abort();
}

int
sn_ctx_make(struct sn_ctx *ctx, void *stack, size_t size,
    void (*entry)(void *), void *arg)
{
	struct boot b = { ctx, entry, arg, NULL, { 0 } };
	ucontext_t uc;

	if (getcontext(&uc) != 0)
		return errno;
	uc.uc_stack.ss_sp = stack;
	uc.uc_stack.ss_size = size;
	uc.uc_link = NULL;
	makecontext(&uc, (void (*)(void))boot_entry, 2, PTR_HI(&b), PTR_LO(&b));
	ctx_describe(ctx, stack, size);
	sn_ctx_init_thread(&b.creator);
#ifdef SN_ASAN
	__sanitizer_start_switch_fiber(&b.creator.fake_stack, stack, size);
#endif
#ifdef SN_TSAN
	__tsan_switch_to_fiber(ctx->fiber, 0);
#endif
	sn_ctx_boot(&b.creator_sp, &uc);
#ifdef SN_ASAN
	__sanitizer_finish_switch_fiber(b.creator.fake_stack, NULL, NULL);
#endif
	return 0;
}

#else /* ucontext */

const char sn_ctx_backend[] = "ucontext";

void *
sn_ctx_sp(const struct sn_ctx *ctx)
{
#if defined(__x86_64__) && defined(REG_RSP)
	return (void *)ctx->uc.uc_mcontext.gregs[REG_RSP];
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
