/*
 * How much memory a test process holds, for the soak tests' checks that
 * nothing grows once warmed up: check_soak.c's rounds and
 * check_supervisor.c's supervision soak.
 *
 * test_mem_kib() is the figure they compare, and what it counts depends on
 * where the test runs, because RSS means something else in each place:
 *
 *  - natively and under valgrind: VmRSS, after giving free memory back
 *    (vm_rss_kib());
 *  - under an emulator (SNOW_TEST_EMULATED): the pages resident in the
 *    mappings the program itself sees, since VmRSS is the emulator's
 *    (mapped_resident_kib());
 *  - under AddressSanitizer: the bytes the program has allocated and not
 *    freed, which ASan counts exactly, since its RSS follows ASan's own
 *    caches (heap_in_use_kib()).
 *
 * Include after config.h and test_env.h.  Everything here is static
 * inline.
 */
#ifndef SN_TESTS_TEST_MEM_H
#define SN_TESTS_TEST_MEM_H

#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/*
 * ThreadSanitizer's shadow of memory the process has unmapped, its
 * clocks of threads that have ended and its trace parts stay resident
 * until it resets them, which it does on its own schedule: RSS under
 * TSan grew by 35-110 MiB over six soak rounds with nothing leaked
 * (measured 2026-12-01).  Its flush is the equivalent of malloc_trim()
 * for those.  Weak, so that it is NULL everywhere else.
 */
extern void __tsan_flush_memory(void) __attribute__((weak));

/* ASan's count of bytes allocated and not yet freed (quarantined chunks
 * are freed); in its common sanitizer interface, which GCC 12 ships no
 * header for.  Weak, so that it is NULL everywhere else. */
extern size_t __sanitizer_get_current_allocated_bytes(void)
    __attribute__((weak));

/*
 * VmRSS, in KiB.  First give free memory back to the system: glibc keeps
 * freed chunks in per-thread arenas, and how much it keeps depends on
 * which threads freed what, so without the trim RSS wanders by tens of
 * MiB from round to round with nothing leaked.  A leak is still in use
 * and stays counted.  See also mem_steady().
 */
static inline long
vm_rss_kib(void)
{
	char line[256];
	long kib = -1;
	FILE *f;

#ifdef __GLIBC__
	malloc_trim(0);
#endif
	if (__tsan_flush_memory != NULL)
		__tsan_flush_memory();
	f = fopen("/proc/self/status", "r");
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

/*
 * Under an emulator (SNOW_TEST_EMULATED, which scripts/test-cross.sh sets
 * for qemu-user) VmRSS is the emulator's process, and counts the
 * emulator's own memory: qemu-aarch64 7.2's heap grew from 26 to 68 MiB
 * over 10 soak rounds (its /proc/PID/smaps, measured 2026-12-07), about
 * 3 MiB a round, while the same rounds natively kept RSS flat within
 * 0.4 MiB; in the supervision soak it went from 15 to 57 MiB across the
 * three strategies as qemu translated their code.  There the pages
 * resident in the mappings the program itself sees stand in:
 * /proc/self/maps, which qemu answers with the guest's mappings, and
 * mincore() on each.  A leak of heap or of mappings still shows.
 * PROT_NONE mappings are left out: guards and hibernated stacks hold
 * nothing, and qemu's mincore() cannot tell for them.
 */
static inline long
mapped_resident_kib(void)
{
	long page = sysconf(_SC_PAGESIZE), pages = 0;
	unsigned long lo, hi;
	unsigned char *vec = NULL, *v;
	size_t cap = 0, n, i;
	char perms[8], line[4096];
	FILE *f;

	(void)vm_rss_kib();	/* its trims */
	if (page <= 0 || (f = fopen("/proc/self/maps", "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) != 3 ||
		    hi <= lo || strncmp(perms, "---", 3) == 0)
			continue;
		n = (hi - lo) / (unsigned long)page;
		if (n > cap) {
			if ((v = realloc(vec, n)) == NULL)
				break;
			vec = v;
			cap = n;
		}
		if (mincore((void *)lo, hi - lo, vec) != 0)
			continue;	/* [vsyscall] */
		for (i = 0; i < n; i++)
			pages += vec[i] & 1;
	}
	fclose(f);
	free(vec);
	return pages * page / 1024;
}

/*
 * Under ASan, RSS follows ASan more than the program: its allocator maps
 * what the quarantine holds (256 MiB by default) and keeps freed chunks
 * cached per size, and the shadow of stack slabs that each round maps at
 * new addresses stays resident after they are unmapped.  Measured in one
 * soak of 15 rounds (2026-12-07): ASan's heap grew from 231 to 352 MiB
 * and RSS outside it from 178 to 241 MiB, while the bytes the program
 * had allocated went from 5.7 MiB to a plateau of 5.9 MiB, the same for
 * 60 further rounds.  So there the count of bytes in use is the measure:
 * exact, and a leak of reachable memory (a list that only grows) shows in
 * it, where LeakSanitizer finds only memory nothing points to.  The
 * runtime's own mappings are measured in the other variants.
 */
static inline long
heap_in_use_kib(void)
{
	if (__sanitizer_get_current_allocated_bytes == NULL)
		return -1;
	return (long)(__sanitizer_get_current_allocated_bytes() / 1024);
}

/* The memory figure the soaks compare: see the top of this file. */
static inline long
test_mem_kib(void)
{
	if (UNDER_ASAN)
		return heap_in_use_kib();
	return env_flag("SNOW_TEST_EMULATED") ? mapped_resident_kib() :
	    vm_rss_kib();
}

/* What test_mem_kib() counts, for the tests' messages. */
static inline const char *
test_mem_what(void)
{
	if (UNDER_ASAN)
		return "heap in use";
	return env_flag("SNOW_TEST_EMULATED") ? "resident in the program's "
	    "mappings" : "RSS";
}

/*
 * malloc_trim() does not shrink the top of a thread's arena; that happens
 * on free, once the top is larger than M_TRIM_THRESHOLD.  glibc raises
 * that threshold to twice the largest mmap'd block freed so far (up to
 * 64 MiB: check_soak's deque stress frees 16 MiB blocks), after which
 * arenas keep what they grew to.  Fixed thresholds turn that off, so the
 * RSS compared is memory in use, not the allocator's history.
 */
static inline void
mem_steady(void)
{
#ifdef __GLIBC__
	mallopt(M_TRIM_THRESHOLD, 128 * 1024);
	mallopt(M_MMAP_THRESHOLD, 128 * 1024);
#endif
}

#endif /* SN_TESTS_TEST_MEM_H */
