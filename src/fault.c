/*
 * Stack overflow reports, hibernated stacks put back, and who owns
 * SIGSEGV and SIGBUS; see fault.h.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include <snow/runtime.h>

#include "fault.h"
#include "scheduler.h"

#define SN_ALTSTACK_SIZE	(64 * 1024)

/* What was installed before snow_rt_init_actor(): chained to, put back. */
static struct sigaction old_segv, old_bus;

/*
 * The siginfo on_fault() is passing to the handler from before init, on
 * this thread.  That handler may call snow_rt_handle_fault() itself (an
 * application that installed it after an earlier runtime had started);
 * the answer is already known then, and asking twice would let
 * sn_stack_fault() retry an access it has just refused.
 */
static SN_TLS const void *chaining;

/* Append the decimal digits of v; async-signal-safe, unlike printf. */
static char *
put_u64(char *p, uint64_t v)
{
	char digits[20];
	int n = 0;

	do {
		digits[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	while (n > 0)
		*p++ = digits[--n];
	return p;
}

static char *
put_str(char *p, const char *s)
{
	size_t n = strlen(s);

	memcpy(p, s, n);
	return p + n;
}

static char *
put_hex(char *p, uintptr_t v)
{
	int shift;

	p = put_str(p, "0x");
	for (shift = (int)sizeof(v) * 8 - 4; shift > 0 && (v >> shift) == 0;
	    shift -= 4)
		;
	for (; shift >= 0; shift -= 4)
		*p++ = "0123456789abcdef"[(v >> shift) & 0xf];
	return p;
}

static void
report_overflow(const struct sn_proc *p, const void *addr)
{
	char msg[256], *m = msg;
	ssize_t unused;

	m = put_str(m, "snow-rt: stack overflow in actor ");
	m = put_u64(m, p->pid);
	m = put_str(m, " (stack of ");
	m = put_u64(m, sn_rt.pool.stack_size);
	m = put_str(m, " bytes, fault at ");
	m = put_hex(m, (uintptr_t)addr);
	m = put_str(m, "); aborting\n");
	unused = write(STDERR_FILENO, msg, (size_t)(m - msg));
	(void)unused;
}

/*
 * Pass a signal that is not ours to the handler that was there before:
 * call it; or, if it was the default, put that back and let the faulting
 * instruction run again into it (a signal sent by kill(2) is raised
 * again, to be taken when this handler returns).  An ignored signal that
 * was sent stays ignored; a fault cannot be.
 */
static void
chain(int sig, siginfo_t *si, void *uctx)
{
	const struct sigaction *old = sig == SIGSEGV ? &old_segv : &old_bus;
	bool sent = si->si_code <= 0;
	bool handler = (old->sa_flags & SA_SIGINFO) ||
	    (old->sa_handler != SIG_DFL && old->sa_handler != SIG_IGN);

	if (handler) {
		/* The mask it would have had, not ours (everything): a
		 * handler that longjmps out keeps the mask it ran with. */
		sigset_t mask = ((ucontext_t *)uctx)->uc_sigmask;
		int i;

		for (i = 1; i < NSIG; i++)
			if (sigismember(&old->sa_mask, i) == 1)
				sigaddset(&mask, i);
		if (!(old->sa_flags & SA_NODEFER))
			sigaddset(&mask, sig);
		pthread_sigmask(SIG_SETMASK, &mask, NULL);
	}
	if (old->sa_flags & SA_SIGINFO) {
		old->sa_sigaction(sig, si, uctx);
	} else if (handler) {
		old->sa_handler(sig);
	} else if (!(sent && old->sa_handler == SIG_IGN)) {
		sigaction(sig, old, NULL);
		if (sent)
			raise(sig);
	}
}

/*
 * The runtime's part of a fault: true when it was a hibernated stack,
 * put back now, so that the access may run again.  An overflow into a
 * guard is reported and aborts.  Runs with every signal blocked: it may
 * take a slab lock.
 */
static bool
handle(int sig, const siginfo_t *si)
{
	struct sn_worker *w = sn_worker_self();
	struct sn_proc *p = w != NULL ? w->current : NULL;
	const char *addr = si->si_addr;
	struct sigaction dfl;

	/* A hibernated stack, touched: put back, the access runs again. */
	if (sig == SIGSEGV && si->si_code == SEGV_ACCERR &&
	    sn_stack_fault(&sn_rt.pool, addr))
		return true;
	if (p != NULL && si->si_code > 0 && addr < (const char *)p->stack_lo &&
	    addr >= (const char *)p->stack_lo - sn_rt.pool.guard_size) {
		report_overflow(p, addr);
		memset(&dfl, 0, sizeof(dfl));
		dfl.sa_handler = SIG_DFL;
		sigaction(SIGABRT, &dfl, NULL);
		abort();
	}
	return false;
}

static void
on_fault(int sig, siginfo_t *si, void *uctx)
{
	const void *outer;
	int saved = errno;

	if (!handle(sig, si)) {
		outer = chaining;
		chaining = si;
		chain(sig, si, uctx);
		chaining = outer;
	}
	errno = saved;
}

SNOW_API int
snow_rt_handle_fault(int sig, void *info, void *ucontext)
{
	const siginfo_t *si = info;
	sigset_t all, mask;
	int saved = errno, ours;

	(void)ucontext;
	if ((sig != SIGSEGV && sig != SIGBUS) || si == NULL ||
	    si == chaining ||
	    atomic_load(&sn_rt.state) == SN_RT_DOWN)
		return 0;
	/* The application's handler may leave signals open; ours may not
	 * be interrupted while it holds a slab lock. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &mask);
	ours = handle(sig, si);
	pthread_sigmask(SIG_SETMASK, &mask, NULL);
	errno = saved;
	return ours;
}

static bool
is_ours(const struct sigaction *sa)
{
	return (sa->sa_flags & SA_SIGINFO) && sa->sa_sigaction == on_fault;
}

int
sn_fault_install(void)
{
	struct sigaction sa, prev_segv, prev_bus;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_fault;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
	/* Nothing may interrupt it while it holds a slab lock (stack.c). */
	sigfillset(&sa.sa_mask);
	if (sigaction(SIGSEGV, &sa, &prev_segv) != 0)
		return errno;
	if (sigaction(SIGBUS, &sa, &prev_bus) != 0) {
		sigaction(SIGSEGV, &prev_segv, NULL);
		return errno;
	}
	/* Ours still there from an earlier run (an application put back
	 * what it found when it installed its own): chaining to it would
	 * call itself; keep what was there before that run. */
	if (!is_ours(&prev_segv))
		old_segv = prev_segv;
	if (!is_ours(&prev_bus))
		old_bus = prev_bus;
	return 0;
}

/*
 * Put back the handler from before init, unless the application has
 * installed one of its own since: that one stays.
 */
static void
restore(int sig, const struct sigaction *old)
{
	struct sigaction cur;

	if (sigaction(sig, NULL, &cur) == 0 && is_ours(&cur))
		sigaction(sig, old, NULL);
}

void
sn_fault_remove(void)
{
	restore(SIGSEGV, &old_segv);
	restore(SIGBUS, &old_bus);
}

int
sn_fault_thread_init(struct sn_fault_stack *fs)
{
	stack_t ss;

	fs->size = SN_ALTSTACK_SIZE;
	fs->base = mmap(NULL, fs->size, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (fs->base == MAP_FAILED) {
		fs->base = NULL;
		return ENOMEM;
	}
	memset(&ss, 0, sizeof(ss));
	ss.ss_sp = fs->base;
	ss.ss_size = fs->size;
	if (sigaltstack(&ss, NULL) != 0) {
		munmap(fs->base, fs->size);
		fs->base = NULL;
		return errno;
	}
	return 0;
}

void
sn_fault_thread_fini(struct sn_fault_stack *fs)
{
	stack_t ss;

	if (fs->base == NULL)
		return;
	memset(&ss, 0, sizeof(ss));
	ss.ss_flags = SS_DISABLE;
	sigaltstack(&ss, NULL);
	munmap(fs->base, fs->size);
	fs->base = NULL;
}
