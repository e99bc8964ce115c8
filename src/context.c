/*
 * Building actor contexts with makecontext(3); see context.h.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <ucontext.h>

#include "context.h"

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

#ifdef SNOW_CONTEXT_FAST

const char sn_ctx_backend[] = "fast";

void sn_ctx_boot(void **save_sp, const ucontext_t *uc);

/* Lives on the creator's stack while the new context boots. */
struct boot {
	struct sn_ctx *ctx;
	void (*entry)(void *);
	void *arg;
	void *creator_sp;
};

static void
boot_entry(unsigned hi, unsigned lo)
{
	struct boot *b = ptr_join(hi, lo);
	void (*entry)(void *) = b->entry;
	void *arg = b->arg;

	/*
	 * Park here and hand control back to sn_ctx_make(): b dies with that
	 * return, so everything needed later was copied above.
	 */
	sn_ctx_swap(&b->ctx->sp, b->creator_sp);
	entry(arg);
	abort();
}

int
sn_ctx_make(struct sn_ctx *ctx, void *stack, size_t size,
    void (*entry)(void *), void *arg)
{
	struct boot b = { ctx, entry, arg, NULL };
	ucontext_t uc;

	if (getcontext(&uc) != 0)
		return errno;
	uc.uc_stack.ss_sp = stack;
	uc.uc_stack.ss_size = size;
	uc.uc_link = NULL;
	makecontext(&uc, (void (*)(void))boot_entry, 2, PTR_HI(&b), PTR_LO(&b));
	sn_ctx_boot(&b.creator_sp, &uc);
	return 0;
}

#else /* ucontext */

const char sn_ctx_backend[] = "ucontext";

static void
uc_entry(unsigned hi, unsigned lo)
{
	struct sn_ctx *ctx = ptr_join(hi, lo);

	ctx->entry(ctx->arg);
	abort();
}

int
sn_ctx_make(struct sn_ctx *ctx, void *stack, size_t size,
    void (*entry)(void *), void *arg)
{
	if (getcontext(&ctx->uc) != 0)
		return errno;
	ctx->uc.uc_stack.ss_sp = stack;
	ctx->uc.uc_stack.ss_size = size;
	ctx->uc.uc_link = NULL;
	ctx->entry = entry;
	ctx->arg = arg;
	makecontext(&ctx->uc, (void (*)(void))uc_entry, 2, PTR_HI(ctx),
	    PTR_LO(ctx));
	return 0;
}

#endif
