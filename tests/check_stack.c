/*
 * Hibernation of pooled stacks on its own: what a hibernated stack holds,
 * that it is protected and given back, that any touch puts it back with
 * nothing lost, and that the VMAs it splits off stay within the budget.
 *
 * Uses the runtime's own pool and fault handler (sn_rt.pool is what the
 * handler looks in), without starting the scheduler.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fault.h"
#include "scheduler.h"
#include "stack.h"

#include "run_suite.h"

#define NSTACKS		16	/* one slab's worth: SN_SLAB_STACKS */
#define LIVE_BYTES	2048	/* pretended live frames, below the top */

static struct sn_stack_pool *pool = &sn_rt.pool;
static struct sn_stack_cache cache;
static struct sn_proc *procs[NSTACKS];
static unsigned char saved[NSTACKS][LIVE_BYTES];

static void
never_runs(void *arg)
{
	(void)arg;
	abort();
}

static uint64_t *
live_words(const struct sn_proc *p)
{
	return (uint64_t *)(sn_stack_live_top(pool, p) - LIVE_BYTES);
}

static uint64_t
pattern(unsigned stack, unsigned word)
{
	return (uint64_t)stack << 32 | (word * 2654435761u);
}

/*
 * A fresh pool's first stacks are one slab's, in slot order.  Their top
 * LIVE_BYTES are filled with a pattern; what was there (the context
 * parked in never_runs) is kept and put back at the end.
 */
static void
setup_with(bool guard_vmas)
{
	unsigned i, j;

	ck_assert_int_eq(sn_pool_init(pool, 64 * 1024, never_runs), 0);
	if (guard_vmas)		/* as on kernels without guard markers */
		atomic_store(&pool->guard_madvise, false);
	/* This machine lets a process write its own /proc/self/mem (see
	 * stack.c); where it does not, no stack hibernates, which
	 * without_proc_self_mem_nothing_hibernates checks. */
	ck_assert_msg(pool->mem_fd >= 0, "/proc/self/mem cannot be written "
	    "here: stacks cannot hibernate");
	ck_assert_int_eq(sn_fault_install(), 0);
	memset(&cache, 0, sizeof(cache));
	for (i = 0; i < NSTACKS; i++) {
		procs[i] = sn_pool_get(pool, &cache);
		ck_assert_ptr_nonnull(procs[i]);
		ck_assert_ptr_eq(procs[i]->slab, procs[0]->slab);
		ck_assert_uint_eq(procs[i]->slot, i);
		memcpy(saved[i], live_words(procs[i]), LIVE_BYTES);
		for (j = 0; j < LIVE_BYTES / 8; j++)
			live_words(procs[i])[j] = pattern(i, j);
	}
}

static void
setup(void)
{
	setup_with(false);
}

static void
teardown(void)
{
	unsigned i;

	for (i = 0; i < NSTACKS; i++) {
		sn_stack_thaw(pool, procs[i]);
		memcpy(live_words(procs[i]), saved[i], LIVE_BYTES);
		sn_pool_put(pool, &cache, procs[i]);
	}
	ck_assert_int_eq(atomic_load(&pool->vma_extra), 0);
	sn_fault_remove();
	sn_pool_destroy(pool);
}

/* Hibernate stacks lo..hi (some of them, by step): how many did. */
static size_t
hibernate(unsigned lo, unsigned hi, unsigned step)
{
	struct sn_proc *ps[NSTACKS];
	size_t n = 0;
	unsigned i;

	for (i = lo; i <= hi; i += step) {
		procs[i]->hib_len = LIVE_BYTES;
		ps[n++] = procs[i];
	}
	return sn_stack_hibernate(pool, ps, n);
}

static int
state(unsigned i)
{
	return atomic_load(&procs[i]->hib_state);
}

/*
 * Whether the page at addr is resident, from /proc/self/pagemap (bit 63,
 * present; bit 62, swapped).  For where mincore() cannot tell: qemu-user
 * checks that the guest may read the range first, and fails with ENOMEM
 * on a PROT_NONE page.  qemu passes the file through to the host, which
 * describes qemu's own pages: the same addresses only where the guest's
 * are the host's, so a page known to be resident is read first.
 */
static unsigned
pagemap_resident(uintptr_t addr, size_t page)
{
	static __thread volatile char here = 1;	/* resident: just written */
	unsigned long a, b;
	char line[512];
	bool mapped = false;
	uint64_t e;
	FILE *f = fopen("/proc/self/maps", "r");
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);

	/* mincore()'s ENOMEM also means "not mapped": that it is. */
	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "%lx-%lx", &a, &b) == 2 && a <= addr &&
		    addr < b)
			mapped = true;
	fclose(f);
	ck_assert_msg(mapped, "%#lx is not mapped", (unsigned long)addr);
	ck_assert_int_ge(fd, 0);
	here = 2;
	ck_assert_int_eq(pread(fd, &e, sizeof(e),
	    (off_t)((uintptr_t)&here / page * sizeof(e))), (int)sizeof(e));
	ck_assert_msg(e >> 63 & 1, "pagemap does not describe this process");
	ck_assert_int_eq(pread(fd, &e, sizeof(e),
	    (off_t)(addr / page * sizeof(e))), (int)sizeof(e));
	close(fd);
	return (e >> 63 & 1) | (e >> 62 & 1);
}

/* Whether the page of stack i's live top is resident, without a touch. */
static unsigned
resident(unsigned i)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	unsigned char vec;
	uintptr_t top = (uintptr_t)sn_stack_live_top(pool, procs[i]);
	uintptr_t at = (top - 1) & ~(page - 1);

	ck_assert_uint_le(LIVE_BYTES, page);
	if (mincore((void *)at, page, &vec) != 0) {
		ck_assert_int_eq(errno, ENOMEM);
		return pagemap_resident(at, page);
	}
	return vec & 1;
}

/* Words of stack i that do not hold the pattern; reading faults it in. */
static unsigned
wrong_words(unsigned i)
{
	volatile uint64_t *w = live_words(procs[i]);
	unsigned j, bad = 0;

	for (j = 0; j < LIVE_BYTES / 8; j++)
		bad += w[j] != pattern(i, j);
	return bad;
}

/* The mappings /proc/self/maps shows over the slab of our stacks. */
static long
slab_vmas(void)
{
	uintptr_t lo = (uintptr_t)procs[0]->stack_lo;
	uintptr_t hi = (uintptr_t)procs[NSTACKS - 1]->stack_lo +
	    pool->stack_size;
	unsigned long a, b;
	char line[512];
	long n = 0;
	FILE *f = fopen("/proc/self/maps", "r");

	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "%lx-%lx", &a, &b) == 2 && a < hi && b > lo)
			n++;
	fclose(f);
	return n;
}

/*
 * Whether this system keeps a PROT_NONE mapping marked MADV_DONTDUMP apart
 * from PROT_NONE neighbours, as the pool's count of mappings assumes where
 * guards are mappings (stack.c's guard_install()).  qemu-user answers 0
 * to MADV_DONTDUMP without passing it on, so there a hibernated stack
 * merges with its guards and the kernel shows fewer mappings than the
 * pool counts: the count errs high, the side that keeps the process
 * under vm.max_map_count, and the tests hold it to that bound instead.
 */
static bool
dontdump_splits(void)
{
	static int known = -1;
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	unsigned long a, b, lo, hi;
	char line[512];
	long n = 0;
	char *m;
	FILE *f;

	if (known >= 0)
		return known;
	m = mmap(NULL, 3 * page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
	    0);
	ck_assert_ptr_ne(m, MAP_FAILED);
	ck_assert_int_eq(madvise(m + page, page, MADV_DONTDUMP), 0);
	lo = (unsigned long)m;
	hi = lo + 3 * page;
	f = fopen("/proc/self/maps", "r");
	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "%lx-%lx", &a, &b) == 2 && a < hi && b > lo)
			n++;
	fclose(f);
	munmap(m, 3 * page);
	known = n == 3;
	return known;
}

/* The mappings the kernel shows against the pool's count of them. */
#define ck_assert_vmas(kernel, counted)					\
	do {								\
		if (dontdump_splits())					\
			ck_assert_int_eq((kernel), (counted));		\
		else							\
			ck_assert_int_le((kernel), (counted));		\
	} while (0)

START_TEST(hibernated_stacks_are_given_back_and_come_back_whole)
{
	unsigned i;

	setup();
	ck_assert_uint_eq(resident(3), 1);
	ck_assert_uint_eq(hibernate(0, NSTACKS - 1, 1), NSTACKS);
	for (i = 0; i < NSTACKS; i++) {
		ck_assert_int_eq(state(i), SN_HIB_OUT);
		ck_assert_ptr_nonnull(procs[i]->hib);
		ck_assert_uint_eq(resident(i), 0);
	}
	/* Before its actor runs: everything where it was, copy freed. */
	sn_stack_thaw(pool, procs[3]);
	ck_assert_int_eq(state(3), SN_HIB_LIVE);
	ck_assert_ptr_null(procs[3]->hib);
	ck_assert_uint_eq(wrong_words(3), 0);
	ck_assert_int_eq(state(2), SN_HIB_OUT);
	ck_assert_int_eq(state(4), SN_HIB_OUT);
	ck_assert_uint_eq(resident(4), 0);
	teardown();
}
END_TEST

/*
 * A touch by anyone else (here, the test thread) faults the stack back:
 * a read sees the real contents, and a write stays when the stack's own
 * actor later thaws it.
 */
START_TEST(a_touch_puts_a_hibernated_stack_back)
{
	volatile uint64_t *w;
	unsigned i;

	setup();
	ck_assert_uint_eq(hibernate(0, NSTACKS - 1, 1), NSTACKS);
	ck_assert_uint_eq(wrong_words(5), 0);		/* a read */
	ck_assert_int_eq(state(5), SN_HIB_TOUCHED);
	ck_assert_ptr_nonnull(procs[5]->hib);	/* freed when it runs */
	w = live_words(procs[9]);
	w[7] = 0xfeedface;				/* a write */
	ck_assert_int_eq(state(9), SN_HIB_TOUCHED);
	for (i = 0; i < NSTACKS; i++)
		if (i != 5 && i != 9) {
			ck_assert_int_eq(state(i), SN_HIB_OUT);
			ck_assert_uint_eq(resident(i), 0);
		}
	sn_stack_thaw(pool, procs[9]);
	ck_assert_int_eq(state(9), SN_HIB_LIVE);
	ck_assert_ptr_null(procs[9]->hib);
	ck_assert_uint_eq(w[7], 0xfeedface);
	w[7] = pattern(9, 7);
	ck_assert_uint_eq(wrong_words(9), 0);
	teardown();
}
END_TEST

/*
 * Each protected run of stacks splits the slab's mapping; the count kept
 * is what /proc/self/maps shows (with guard markers, where the slab is
 * one mapping; with PROT_NONE guard VMAs protection changes no count).
 */
START_TEST(split_mappings_are_counted)
{
	long base;

	setup();
	base = slab_vmas();
	ck_assert_uint_eq(hibernate(1, 13, 3), 5);	/* 1, 4, 7, 10, 13 */
	if (!atomic_load(&pool->guard_madvise)) {
		ck_assert_int_eq(atomic_load(&pool->vma_extra), 0);
		ck_assert_vmas(slab_vmas(), base);
	} else {
		ck_assert_int_eq(atomic_load(&pool->vma_extra), 10);
		ck_assert_int_eq(slab_vmas(), base + 10);
		sn_stack_thaw(pool, procs[7]);
		ck_assert_int_eq(atomic_load(&pool->vma_extra), 8);
		ck_assert_int_eq(slab_vmas(), base + 8);
	}
	teardown();
	(void)base;
}
END_TEST

/*
 * Past the budget: a run that would split more mappings is not
 * hibernated at all, and a thaw that would is done for its whole run,
 * which merges instead.
 */
START_TEST(the_budget_of_split_mappings_holds)
{
	unsigned i;

	setup();
	/* The slab's own mapping is counted: no room for a split. */
	ck_assert_int_eq(sn_stack_vmas(pool), atomic_load(&pool->vma_base));
	pool->vma_budget = sn_stack_vmas(pool);
	if (atomic_load(&pool->guard_madvise)) {
		ck_assert_uint_eq(hibernate(3, 5, 1), 0);
		for (i = 3; i <= 5; i++) {
			ck_assert_int_eq(state(i), SN_HIB_LIVE);
			ck_assert_ptr_null(procs[i]->hib);
			ck_assert_uint_eq(resident(i), 1);
		}
		/* Room for one run, 8..15, and the one mapping more that
		 * extending a run takes while its new stack is copied. */
		pool->vma_budget = sn_stack_vmas(pool) + 3;
		ck_assert_uint_eq(hibernate(8, NSTACKS - 1, 1), 8);
		ck_assert_int_eq(atomic_load(&pool->vma_extra), 2);
		/* Another run does not fit; one that extends it does. */
		ck_assert_uint_eq(hibernate(3, 5, 1), 0);
		ck_assert_uint_eq(hibernate(7, 7, 1), 1);
		ck_assert_int_eq(atomic_load(&pool->vma_extra), 2);
		/* Thawing 11 alone would cut the run in two: all of 7..15
		 * come back instead. */
		sn_stack_thaw(pool, procs[11]);
		ck_assert_int_eq(atomic_load(&pool->vma_extra), 0);
		for (i = 7; i < NSTACKS; i++) {
			ck_assert_int_eq(state(i), i == 11 ? SN_HIB_LIVE :
			    SN_HIB_TOUCHED);
			ck_assert_uint_eq(wrong_words(i), 0);
		}
	} else {
		/* Protection never splits here: no budget needed. */
		ck_assert_uint_eq(hibernate(3, 5, 1), 3);
		ck_assert_int_eq(atomic_load(&pool->vma_extra), 0);
		ck_assert_uint_eq(wrong_words(4), 0);
	}
	for (i = 0; i < NSTACKS; i++)
		ck_assert_uint_eq(wrong_words(i), 0);
	teardown();
}
END_TEST

/*
 * The count of split mappings is the kernel's, whatever the pattern: runs
 * at either end of a slab, runs that join or are cut in two, and a slab
 * that the kernel merged with its neighbour (the next slab is mapped right
 * below it).  Random hibernations, thaws and touches over a whole slab
 * and the first stacks of the next, checked against /proc/self/maps after
 * every step.
 */
#define COUNT_STEPS		1500
#define COUNT_STEPS_SMALL	200

static unsigned
count_steps(void)
{
	const char *e = getenv("SNOW_TEST_SCALE_DOWN");

	return e != NULL && *e != '\0' && strcmp(e, "0") != 0 ?
	    COUNT_STEPS_SMALL : COUNT_STEPS;
}

/* Mappings /proc/self/maps shows over [lo, hi). */
static long
vmas_over(uintptr_t lo, uintptr_t hi)
{
	unsigned long a, b;
	char line[512];
	long n = 0;
	FILE *f = fopen("/proc/self/maps", "r");

	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "%lx-%lx", &a, &b) == 2 && a < hi && b > lo)
			n++;
	fclose(f);
	return n;
}

static void
counts_match_the_kernel(bool guard_vmas)
{
	struct sn_proc **ps, *one[8];
	uintptr_t lo = UINTPTR_MAX, hi = 0;
	unsigned n, total, i, k, step, steps = count_steps();
	uint64_t rng = 0x243f6a8885a308d3ull;
	long base;

	ck_assert_int_eq(sn_pool_init(pool, 64 * 1024, never_runs), 0);
	if (guard_vmas)
		atomic_store(&pool->guard_madvise, false);
	ck_assert_int_eq(sn_fault_install(), 0);
	memset(&cache, 0, sizeof(cache));
	ps = malloc(sizeof(*ps));
	ck_assert_ptr_nonnull(ps);
	ps[0] = sn_pool_get(pool, &cache);
	ck_assert_ptr_nonnull(ps[0]);
	n = (unsigned)atomic_load(&pool->mapped);	/* one slab's worth */
	total = n + NSTACKS;				/* and part of the next */
	ps = realloc(ps, total * sizeof(*ps));
	ck_assert_ptr_nonnull(ps);
	for (i = 1; i < total; i++) {
		ps[i] = sn_pool_get(pool, &cache);
		ck_assert_ptr_nonnull(ps[i]);
	}
	for (i = 0; i < total; i++) {
		uintptr_t a = (uintptr_t)ps[i]->stack_lo;

		lo = a < lo ? a : lo;
		hi = a + pool->stack_size > hi ? a + pool->stack_size : hi;
	}
	base = vmas_over(lo - 65536, hi + 65536);
	for (step = 0; step < steps; step++) {
		struct sn_proc *p;
		size_t m = 0;

		rng ^= rng << 13;
		rng ^= rng >> 7;
		rng ^= rng << 17;
		p = ps[rng % total];
		switch (atomic_load(&p->hib_state)) {
		case SN_HIB_LIVE:
			/* It and up to 7 neighbours that are live too. */
			for (k = 0; k < 8 && m < 8; k++) {
				struct sn_proc *q = NULL;

				for (i = 0; i < total; i++)
					if (ps[i]->slab == p->slab &&
					    ps[i]->slot == p->slot + k)
						q = ps[i];
				if (q == NULL || atomic_load(&q->hib_state) !=
				    SN_HIB_LIVE)
					break;
				if ((rng >> (8 + k)) & 1 || k == 0) {
					q->hib_len = 512;
					one[m++] = q;
				}
			}
			(void)sn_stack_hibernate(pool, one, m);
			break;
		case SN_HIB_OUT:
			if (rng >> 40 & 1)
				sn_stack_thaw(pool, p);
			else	/* a touch, by the fault handler */
				(void)*(volatile char *)(sn_stack_live_top(
				    pool, p) - 8);
			break;
		default:
			sn_stack_thaw(pool, p);
			break;
		}
		ck_assert_msg(dontdump_splits() ?
		    vmas_over(lo - 65536, hi + 65536) - base ==
		    atomic_load(&pool->vma_extra) :
		    vmas_over(lo - 65536, hi + 65536) - base <=
		    atomic_load(&pool->vma_extra), "step %u: the kernel "
		    "shows %ld split mappings, the pool counts %ld", step,
		    vmas_over(lo - 65536, hi + 65536) - base,
		    atomic_load(&pool->vma_extra));
		if (guard_vmas)
			ck_assert_int_eq(atomic_load(&pool->vma_extra), 0);
	}
	for (i = 0; i < total; i++) {
		sn_stack_thaw(pool, ps[i]);
		sn_pool_put(pool, &cache, ps[i]);
	}
	ck_assert_int_eq(atomic_load(&pool->vma_extra), 0);
	ck_assert_int_eq(vmas_over(lo - 65536, hi + 65536), base);
	free(ps);
	sn_fault_remove();
	sn_pool_destroy(pool);
}

START_TEST(split_mappings_are_counted_as_the_kernel_does)
{
	counts_match_the_kernel(false);
}
END_TEST

START_TEST(with_guard_mappings_the_count_stays_exact)
{
	counts_match_the_kernel(true);
}
END_TEST

/*
 * Where guard pages are PROT_NONE mappings (kernels before 6.13), a
 * hibernated stack stays a mapping of its own: protecting it and putting
 * it back change no count, so a thaw never needs a mapping that new
 * slabs may have taken meanwhile.
 */
START_TEST(with_guard_mappings_protection_changes_no_count)
{
	long base;
	unsigned i;

	setup_with(true);
	base = slab_vmas();
	ck_assert_uint_eq(hibernate(0, NSTACKS - 1, 1), NSTACKS);
	ck_assert_vmas(slab_vmas(), base);
	ck_assert_uint_eq(resident(6), 0);
	ck_assert_uint_eq(wrong_words(6), 0);		/* by a fault */
	ck_assert_int_eq(state(6), SN_HIB_TOUCHED);
	sn_stack_thaw(pool, procs[9]);
	ck_assert_vmas(slab_vmas(), base);
	ck_assert_int_eq(atomic_load(&pool->vma_extra), 0);
	for (i = 0; i < NSTACKS; i++)
		ck_assert_uint_eq(wrong_words(i), 0);
	ck_assert_vmas(slab_vmas(), base);
	teardown();
}
END_TEST

/*
 * A child of fork(2) that touches a hibernated stack gets its own copy of
 * it back, through its own /proc/self/mem: the parent's stays hibernated.
 */
START_TEST(a_forked_child_thaws_its_own_stacks)
{
	int status;
	pid_t pid;

	setup();
	ck_assert_uint_eq(hibernate(0, NSTACKS - 1, 1), NSTACKS);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		volatile uint64_t *w = live_words(procs[5]);
		unsigned bad = wrong_words(5);

		w[3] = 7;
		_exit(bad == 0 && w[3] == 7 && state(5) == SN_HIB_TOUCHED ?
		    0 : 1);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	ck_assert_int_eq(state(5), SN_HIB_OUT);
	ck_assert_uint_eq(resident(5), 0);
	ck_assert_uint_eq(wrong_words(5), 0);	/* the parent's, intact */
	teardown();
}
END_TEST

/* Where /proc/self/mem cannot be written, nothing hibernates. */
START_TEST(without_proc_self_mem_nothing_hibernates)
{
	int fd;

	setup();
	fd = pool->mem_fd;
	pool->mem_fd = -1;
	ck_assert_uint_eq(hibernate(0, NSTACKS - 1, 1), 0);
	ck_assert_int_eq(state(0), SN_HIB_LIVE);
	ck_assert_ptr_null(procs[0]->hib);
	ck_assert_uint_eq(resident(0), 1);
	pool->mem_fd = fd;
	teardown();
}
END_TEST

/* A live length that is not a stack's is refused, and nothing changes. */
START_TEST(bad_live_lengths_are_refused)
{
	setup();
	procs[2]->hib_len = 0;
	procs[3]->hib_len = pool->stack_size + 8;
	procs[4]->hib_len = 1001;
	{
		struct sn_proc *ps[3] = { procs[2], procs[3], procs[4] };

		ck_assert_uint_eq(sn_stack_hibernate(pool, ps, 3), 0);
	}
	ck_assert_int_eq(state(2), SN_HIB_LIVE);
	ck_assert_int_eq(state(3), SN_HIB_LIVE);
	ck_assert_int_eq(state(4), SN_HIB_LIVE);
	ck_assert_int_eq(atomic_load(&pool->vma_extra), 0);
	teardown();
}
END_TEST

static Suite *
stack_suite(void)
{
	Suite *s = suite_create("stack");
	TCase *tc = tcase_create("hibernation");

	tcase_add_test(tc, hibernated_stacks_are_given_back_and_come_back_whole);
	tcase_add_test(tc, a_touch_puts_a_hibernated_stack_back);
	tcase_add_test(tc, split_mappings_are_counted);
	tcase_add_test(tc, the_budget_of_split_mappings_holds);
	tcase_add_test(tc, split_mappings_are_counted_as_the_kernel_does);
	tcase_add_test(tc, with_guard_mappings_the_count_stays_exact);
	tcase_add_test(tc, bad_live_lengths_are_refused);
	tcase_add_test(tc, with_guard_mappings_protection_changes_no_count);
	tcase_add_test(tc, without_proc_self_mem_nothing_hibernates);
	tcase_add_test(tc, a_forked_child_thaws_its_own_stacks);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(stack_suite());
}
