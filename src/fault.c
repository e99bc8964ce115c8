/*
 * Stack overflow reports; see fault.h.
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

#include "fault.h"
#include "scheduler.h"

#define SN_ALTSTACK_SIZE	(64 * 1024)

static struct sigaction old_segv, old_bus;

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

static void
on_fault(int sig, siginfo_t *si, void *uctx)
{
	struct sn_worker *w = sn_worker_self();
	struct sn_proc *p = w != NULL ? w->current : NULL;
	const char *addr = si->si_addr;
	struct sigaction dfl;
	int saved = errno;

	/* A hibernated stack, touched: put back, the access runs again. */
	if (sig == SIGSEGV && si->si_code == SEGV_ACCERR &&
	    sn_stack_fault(&sn_rt.pool, addr)) {
		errno = saved;
		return;
	}
	if (p != NULL && si->si_code > 0 && addr < (const char *)p->stack_lo &&
	    addr >= (const char *)p->stack_lo - sn_rt.pool.guard_size) {
		report_overflow(p, addr);
		memset(&dfl, 0, sizeof(dfl));
		dfl.sa_handler = SIG_DFL;
		sigaction(SIGABRT, &dfl, NULL);
		abort();
	}
	chain(sig, si, uctx);
	errno = saved;
}

int
sn_fault_install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_fault;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
	/* Nothing may interrupt it while it holds a slab lock (stack.c). */
	sigfillset(&sa.sa_mask);
	if (sigaction(SIGSEGV, &sa, &old_segv) != 0)
		return errno;
	if (sigaction(SIGBUS, &sa, &old_bus) != 0) {
		sigaction(SIGSEGV, &old_segv, NULL);
		return errno;
	}
	return 0;
}

void
sn_fault_remove(void)
{
	sigaction(SIGSEGV, &old_segv, NULL);
	sigaction(SIGBUS, &old_bus, NULL);
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
