/*
 * The stack side of hibernation: copying a parked actor's live frames out,
 * protecting and emptying its stack, putting it back on a touch or a
 * thaw, and counting the mappings that costs; see stack.h.  The sweep
 * that decides who hibernates is hibernate.c; the pool and the slabs
 * these work on are stack.c's (slab.h).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "hibpack.h"
#include "slab.h"
#include "stack.h"

#ifdef HAVE_VALGRIND_MEMCHECK_H
#include <valgrind/memcheck.h>
#define copy_defined(p, n)	VALGRIND_MAKE_MEM_DEFINED((p), (n))
#else
#define copy_defined(p, n)	((void)(p), (void)(n))
#endif

/*
 * A hibernating actor keeps its control block; the live top of its stack
 * (from the saved stack pointer up, a few hundred bytes) goes to the heap,
 * packed (hibpack.h), and the stack is made PROT_NONE and emptied with
 * MADV_DONTNEED.
 *
 * The protection is what makes this safe for C code.  An actor may have
 * handed out pointers to its locals; a write through one to an emptied
 * page would land on a fresh zero page and be overwritten when the copy
 * came back, and a read would see zeros.  With the stack PROT_NONE the
 * access faults instead, sn_stack_fault() puts the stack back, and the
 * access runs again on the real contents.
 *
 * Putting back must not open a window either: unprotected first, a stack
 * would show its zero pages to any thread that reads it before the copy
 * lands.  So the copy is written through /proc/self/mem while the stack
 * is still PROT_NONE (the kernel lets a process poke its own protected
 * private pages, as debuggers do), and only then unprotected.
 *
 * Every change happens under the slab's lock: hibernating a run of
 * stacks, thawing one, and the fault handler's thaw.  So each of them
 * finds a stack whole or protected, never half copied.  The handler can
 * interrupt any code but never a holder of a slab lock: those sections
 * touch only stacks they have already unprotected.  An invariant, under
 * the lock: a slot's bit in prot is set exactly while its actor is
 * SN_HIB_OUT.
 *
 * Mappings.  vm.max_map_count bounds the VMAs of the whole process, and
 * past it the kernel refuses mmap, mprotect and thread stacks alike, so
 * the pool counts its own exactly as the kernel does and keeps them
 * within vma_budget.  With MADV_GUARD_INSTALL a slab is one VMA, or part
 * of one: the kernel merges neighbouring slabs, which vma_base (one per
 * slab) leaves uncounted, erring high.  What hibernation splits off is
 * exact, neighbours or not, because a protected run never reaches the end
 * of its slab's mapping: below slot 0 are the control blocks, above the
 * last slot the tail guard, and a run starts above its first slot's guard
 * pages unless the slot below is protected too.  So a guard is PROT_NONE
 * exactly when the stacks on both sides of it are, maximal runs of
 * protected slots are the PROT_NONE VMAs, and each run costs two: itself
 * and the piece above it.  Hibernating a run that touches protected
 * neighbours joins them (the kernel merges equal neighbours at once), and
 * a thaw in the middle of a run cuts it in two.  A run is protected only
 * while vma_base + vma_extra stays within vma_budget, and a thaw that
 * would split past it unprotects its whole run instead, putting back
 * every stack in it.  With PROT_NONE guard pages each stack is a VMA
 * already, kept apart from its guards (see guard_install()), so
 * protection changes no count.
 *
 * The lock is also taken in the SIGSEGV handler, so a thread that holds
 * it outside the handler blocks signals: another handler that touched a
 * hibernated stack in the same slab would wait on its own thread.
 */
static char *
slot_stack(const struct sn_stack_pool *pool, const struct sn_slab *s,
    unsigned k)
{
	return slab_slot(pool, s, k) + pool->guard_size;
}

static bool
prot_bit(const struct sn_slab *s, unsigned k)
{
	return s->prot[k / 64] >> (k % 64) & 1;
}

static void
prot_set(struct sn_slab *s, unsigned lo, unsigned hi, bool on)
{
	unsigned k;

	for (k = lo; k <= hi; k++) {
		uint64_t b = 1ull << (k % 64);

		if (on)
			s->prot[k / 64] |= b;
		else
			s->prot[k / 64] &= ~b;
	}
}

/* Whether slot k has a protected neighbour below, above. */
static bool
prot_below(const struct sn_slab *s, unsigned k)
{
	return k > 0 && prot_bit(s, k - 1);
}

static bool
prot_above(const struct sn_slab *s, unsigned k)
{
	return k + 1 < s->n && prot_bit(s, k + 1);
}

/*
 * The bytes whose protection changes when slots lo..hi, none protected,
 * become protected: from the stack of lo, or its guards if lo - 1 is
 * protected, to the top of hi, or the guards above it if hi + 1 is.
 * Unprotecting them takes the guards on both sides along: a guard next to
 * an unprotected stack is never PROT_NONE.  Guard markers stay as they
 * are through mprotect.
 */
static void
run_range(const struct sn_stack_pool *pool, const struct sn_slab *s,
    unsigned lo, unsigned hi, bool protecting, char **a, char **b)
{
	bool below = protecting ? prot_below(s, lo) : true;
	bool above = protecting ? prot_above(s, hi) : hi + 1 < s->n;

	*a = below ? slab_slot(pool, s, lo) : slot_stack(pool, s, lo);
	*b = above ? slot_stack(pool, s, hi + 1) :
	    slot_stack(pool, s, hi) + pool->stack_size;
}

/* Give stacks lo..hi of s protection prot: 0 or an errno value. */
static int
protect(const struct sn_stack_pool *pool, const struct sn_slab *s,
    unsigned lo, unsigned hi, int prot, bool protecting)
{
	char *a, *b;
	unsigned k;

	if (s->guard_vmas) {
		/* Stack by stack: the guards between must stay PROT_NONE. */
		for (k = lo; k <= hi; k++)
			if (mprotect(slot_stack(pool, s, k), pool->stack_size,
			    prot) != 0)
				return errno;
		return 0;
	}
	run_range(pool, s, lo, hi, protecting, &a, &b);
	return mprotect(a, (size_t)(b - a), prot) == 0 ? 0 : errno;
}

/* Take s's lock outside the SIGSEGV handler, with signals blocked. */
static void
slab_lock(struct sn_slab *s, sigset_t *saved)
{
	sigset_t all;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, saved);
	sn_spin_lock(&s->lock);
}

static void
slab_unlock(struct sn_slab *s, const sigset_t *saved)
{
	sn_spin_unlock(&s->lock);
	pthread_sigmask(SIG_SETMASK, saved, NULL);
}

/* Take d more mappings from the budget: false, and none, if past it. */
static bool
budget_take(struct sn_stack_pool *pool, long d)
{
	if (d > 0 && atomic_fetch_add(&pool->vma_extra, d) + d +
	    atomic_load(&pool->vma_base) > pool->vma_budget) {
		atomic_fetch_sub(&pool->vma_extra, d);
		return false;
	}
	if (d < 0) {
		atomic_fetch_add(&pool->vma_extra, d);
		atomic_fetch_add(&pool->vma_freed, 1);
	}
	return true;
}


/*
 * Pack p's live stack, readable and still, into a copy of its own: the
 * copy, or NULL.  Packed into the sweep's scratch first, so that the copy
 * takes no more than its packed length.  Valgrind is told the frames are
 * defined: padding in them is compared as a word, and comes back as the
 * same bytes.
 */
static void *
pack(struct sn_stack_pool *pool, const struct sn_proc *p)
{
	const char *frames = sn_stack_live_top(pool, p) - p->hib_len;
	size_t len;
	void *copy;

	copy_defined(frames, p->hib_len);
	len = sn_hib_pack(pool->sweep.scratch, frames, p->hib_len);
	if ((copy = malloc(len)) != NULL)
		memcpy(copy, pool->sweep.scratch, len);
	return copy;
}

/* Hibernate n procs of slab s, in slots next to each other; see above. */
static size_t
hibernate_run(struct sn_stack_pool *pool, struct sn_slab *s,
    struct sn_proc **ps, size_t n)
{
	unsigned lo = ps[0]->slot, hi = ps[n - 1]->slot;
	char *a = slot_stack(pool, s, lo), *b = slot_stack(pool, s, hi);
	sigset_t saved;
	size_t i;
	long d = 0, peak = 0;
	bool below, above;

	slab_lock(s, &saved);
	below = prot_below(s, lo);
	above = prot_above(s, hi);
	if (!s->guard_vmas) {
		/* A new run, or one neighbour longer, or two joined. */
		d = 2 - 2 * (long)below - 2 * (long)above;
		/* Readable in between, the run is a VMA of its own. */
		peak = below && above ? 0 : below != above ? 1 : 2;
	}
	if (!budget_take(pool, peak))
		goto refused;
	/* Readable while copied: a reader meanwhile sees the real stack, a
	 * writer faults and waits for the lock, then thaws it. */
	if (protect(pool, s, lo, hi, PROT_READ, true) != 0)
		goto undo;
	for (i = 0; i < n; i++)
		if ((ps[i]->hib = pack(pool, ps[i])) == NULL)
			goto no_memory;
	if (protect(pool, s, lo, hi, PROT_NONE, true) != 0)
		goto undo;
	(void)budget_take(pool, d - peak);
	/* One call for the run: it costs microseconds (a TLB shootdown
	 * across the workers) whatever its length.  It leaves guard markers
	 * and PROT_NONE guards alone.  On failure the pages stay: the copies
	 * are still right. */
	(void)madvise(a, (size_t)(b + pool->stack_size - a), MADV_DONTNEED);
	prot_set(s, lo, hi, true);
	for (i = 0; i < n; i++) {
		atomic_store_explicit(&ps[i]->hib_state, SN_HIB_OUT,
		    memory_order_relaxed);
		atomic_store(&ps[i]->hib_queued, SN_HIBQ_OUT);
	}
	slab_unlock(s, &saved);
	return n;
no_memory:
	for (i = 0; i < n; i++)
		ps[i]->hib_len = 0;	/* not again until it parks again */
undo:
	(void)protect(pool, s, lo, hi, PROT_READ | PROT_WRITE, true);
	atomic_fetch_sub(&pool->vma_extra, peak);
refused:
	slab_unlock(s, &saved);
	for (i = 0; i < n; i++) {
		free(ps[i]->hib);
		ps[i]->hib = NULL;
	}
	return 0;
}

static int
by_address(const void *a, const void *b)
{
	const char *x = (*(struct sn_proc *const *)a)->stack_lo;
	const char *y = (*(struct sn_proc *const *)b)->stack_lo;

	return x < y ? -1 : x > y;
}

/* Keep the procs whose live stacks can be copied: how many. */
static size_t
copies_check(const struct sn_stack_pool *pool, struct sn_proc **ps, size_t n)
{
	size_t i, kept = 0;

	for (i = 0; i < n; i++) {
		struct sn_proc *p = ps[i];

		p->hib = NULL;
		if (p->hib_len == 0 || p->hib_len > pool->stack_size ||
		    (p->hib_len & 7) != 0) {
			p->hib_len = 0;		/* not as it is */
			continue;
		}
		ps[kept++] = p;
	}
	return kept;
}

/* Whether ps lists each slab's procs in rising slots (the sweep's order). */
static bool
grouped(struct sn_proc *const *ps, size_t n)
{
	size_t i;

	for (i = 1; i < n; i++)
		if (ps[i]->slab == ps[i - 1]->slab &&
		    ps[i]->slot <= ps[i - 1]->slot)
			return false;
	return true;
}

size_t
sn_stack_hibernate(struct sn_stack_pool *pool, struct sn_proc **ps, size_t n)
{
	size_t i = 0, j, done = 0;

	if (pool->mem_fd < 0) {
		for (i = 0; i < n; i++)
			ps[i]->hib_len = 0;
		return 0;		/* no safe way to put them back */
	}
	if (pool->sweep.scratch == NULL &&
	    (pool->sweep.scratch = malloc(sn_hib_packed_max(
	    pool->stack_size))) == NULL) {
		for (i = 0; i < n; i++)
			ps[i]->hib_len = 0;
		return 0;
	}
	n = copies_check(pool, ps, n);
	if (!grouped(ps, n))
		qsort(ps, n, sizeof(*ps), by_address);
	while (i < n) {
		for (j = i + 1; j < n && ps[j]->slab == ps[i]->slab &&
		    ps[j]->slot == ps[j - 1]->slot + 1; j++)
			;
		done += hibernate_run(pool, ps[i]->slab, ps + i, j - i);
		i = j;
	}
	return done;
}

static SN_NORETURN void
thaw_failed(void)
{
	static const char msg[] = "snow-rt: cannot put a hibernated stack "
	    "back; aborting\n";
	ssize_t unused = write(STDERR_FILENO, msg, sizeof(msg) - 1);

	(void)unused;
	abort();
}

/* Write len bytes at from to the stack at to, which may be PROT_NONE. */
static void
poke(const struct sn_stack_pool *pool, char *to, const void *from,
    size_t len)
{
	const char *f = from;
	ssize_t n;

	while (len > 0) {
		n = pwrite(pool->mem_fd, f, len, (off_t)(uintptr_t)to);
		if (n <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			thaw_failed();
		}
		f += n;
		to += n;
		len -= (size_t)n;
	}
}

/*
 * Write p's copy back to its stack, which may still be PROT_NONE: unpacked
 * a kilobyte at a time, as this runs in the SIGSEGV handler too and on
 * the stack of whichever actor hands its worker to p.  Most copies take
 * one write.
 */
static void
put_back(const struct sn_stack_pool *pool, const struct sn_proc *p)
{
	uint64_t buf[128];
	struct sn_hib_unpack u;
	char *to = sn_stack_live_top(pool, p) - p->hib_len;
	size_t n;

	sn_hib_unpack_init(&u, p->hib, p->hib_len);
	while ((n = sn_hib_unpack_some(&u, buf, 128)) > 0) {
		poke(pool, to, buf, n * 8);
		to += n * 8;
	}
}

/*
 * A parked actor whose stack was put back is a hibernation candidate
 * again: on pool->touched, unless it is the actor about to run.  Lock-free,
 * as the SIGSEGV handler calls it.
 */
static void
relist(struct sn_stack_pool *pool, struct sn_proc *q, bool runs)
{
	uint8_t out = SN_HIBQ_OUT;

	if (!atomic_compare_exchange_strong(&q->hib_queued, &out,
	    runs ? SN_HIBQ_NONE : SN_HIBQ_LISTED) || runs ||
	    !sn_hib_chain_take(q))
		return;
	q->hib_next = atomic_load_explicit(&pool->touched,
	    memory_order_relaxed);
	while (!atomic_compare_exchange_weak_explicit(&pool->touched,
	    &q->hib_next, q, memory_order_release, memory_order_relaxed))
		;
}

/*
 * Under s->lock, with p SN_HIB_OUT: put p's stack back, or, if that would
 * split more VMAs than the budget allows, every stack in its run.  Those
 * it puts back are SN_HIB_TOUCHED: their copies wait for their actors to
 * run, as a signal handler must not free.  runs: p is about to run.
 */
static void
thaw_locked(struct sn_stack_pool *pool, struct sn_slab *s, struct sn_proc *p,
    bool runs)
{
	unsigned lo = p->slot, hi = p->slot, k;
	long d = 0;

	put_back(pool, p);
	if (!s->guard_vmas)	/* a run shorter, gone, or cut in two */
		d = 2 * (long)prot_below(s, lo) + 2 * (long)prot_above(s, hi) -
		    2;
	if (budget_take(pool, d)) {
		if (protect(pool, s, lo, hi, PROT_READ | PROT_WRITE,
		    false) == 0)
			goto done;
		atomic_fetch_sub(&pool->vma_extra, d);
	}
	/* The whole run: one VMA made writable, merging, never splitting. */
	while (prot_below(s, lo))
		lo--;
	while (prot_above(s, hi))
		hi++;
	for (k = lo; k <= hi; k++)
		if (k != p->slot)
			put_back(pool, slab_proc(s, k));
	if (protect(pool, s, lo, hi, PROT_READ | PROT_WRITE, false) != 0)
		thaw_failed();
	(void)budget_take(pool, s->guard_vmas ? 0 : -2);
done:
	prot_set(s, lo, hi, false);
	for (k = lo; k <= hi; k++) {
		struct sn_proc *q = slab_proc(s, k);

		atomic_store_explicit(&q->hib_state, SN_HIB_TOUCHED,
		    memory_order_relaxed);
		relist(pool, q, runs && q == p);
	}
}

void
sn_stack_thaw(struct sn_stack_pool *pool, struct sn_proc *p)
{
	struct sn_slab *s = p->slab;
	sigset_t saved;
	void *copy;

	slab_lock(s, &saved);
	if (atomic_load_explicit(&p->hib_state, memory_order_relaxed) ==
	    SN_HIB_OUT)
		thaw_locked(pool, s, p, true);
	copy = p->hib;
	p->hib = NULL;
	p->hib_len = 0;
	atomic_store_explicit(&p->hib_state, SN_HIB_LIVE,
	    memory_order_relaxed);
	slab_unlock(s, &saved);
	free(copy);
}

/* The address sn_stack_fault() last let run again, on this thread. */
static SN_TLS const void *retried;

bool
sn_stack_fault(struct sn_stack_pool *pool, const void *addr)
{
	const char *a = addr;
	struct sn_slab *s;
	size_t off;
	unsigned k;
	bool ours;

	for (s = atomic_load_explicit(&pool->slabs, memory_order_acquire);
	    s != NULL; s = s->next)
		if (a >= s->slots && a < s->base + s->len)
			break;
	if (s == NULL)
		return false;
	off = (size_t)(a - s->slots);
	k = (unsigned)(off / pool->slot_size);
	if (k >= s->n || off % pool->slot_size < pool->guard_size)
		return false;			/* an overflow */
	sn_spin_lock(&s->lock);
	if (prot_bit(s, k)) {
		thaw_locked(pool, s, slab_proc(s, k), false);
		retried = NULL;
		ours = true;
	} else if (addr != retried) {
		/* Thawed between the fault and the lock, most likely: let
		 * the access run again, once.  Make sure, too. */
		ours = mprotect(slot_stack(pool, s, k), pool->stack_size,
		    PROT_READ | PROT_WRITE) == 0;
		retried = addr;
	} else {
		/* The same fault again on a stack that is not protected:
		 * not ours (a jump into the stack, say). */
		retried = NULL;
		ours = false;
	}
	sn_spin_unlock(&s->lock);
	return ours;
}

/* ---- The sweep's grouping by slab; the sweeper only ---- */

void
sn_stack_due(struct sn_stack_pool *pool, struct sn_proc *p)
{
	struct sn_slab *s = p->slab;
	uint64_t b = 1ull << (p->slot % 64);

	if (s->due[p->slot / 64] & b)
		return;
	s->due[p->slot / 64] |= b;
	if (s->ndue++ == 0) {
		s->due_next = NULL;
		if (pool->sweep.due_tail != NULL)
			pool->sweep.due_tail->due_next = s;
		else
			pool->sweep.due_head = s;
		pool->sweep.due_tail = s;
	}
	atomic_fetch_add_explicit(&pool->sweep.ndue, 1, memory_order_relaxed);
}

size_t
sn_stack_due_take(struct sn_stack_pool *pool, struct sn_proc **ps,
    size_t max)
{
	struct sn_slab *s;
	size_t got = 0;
	unsigned k;

	while ((s = pool->sweep.due_head) != NULL && got + s->ndue <= max) {
		for (k = 0; k < s->n; k++)
			if (s->due[k / 64] >> (k % 64) & 1)
				ps[got++] = slab_proc(s, k);
		atomic_fetch_sub_explicit(&pool->sweep.ndue, s->ndue,
		    memory_order_relaxed);
		memset(s->due, 0, sizeof(s->due));
		s->ndue = 0;
		pool->sweep.due_head = s->due_next;
		if (pool->sweep.due_head == NULL)
			pool->sweep.due_tail = NULL;
	}
	return got;
}

struct sn_proc *
sn_stack_touched_take(struct sn_stack_pool *pool)
{
	if (atomic_load_explicit(&pool->touched, memory_order_relaxed) ==
	    NULL)
		return NULL;
	return atomic_exchange_explicit(&pool->touched, NULL,
	    memory_order_acquire);
}
