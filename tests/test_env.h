/*
 * What a test knows of where it runs: under valgrind, ThreadSanitizer or
 * AddressSanitizer, and whether it was asked to scale down.  Instrumented
 * runs are many times slower, and valgrind runs one thread at a time, so
 * tests lower their counts there (scaled_down) and stretch their time
 * bounds (slack); the checks themselves stay.
 *
 * Include after config.h.  Everything here is static inline, so a test
 * that uses only some of it builds without unused-function warnings.
 */
#ifndef SN_TESTS_TEST_ENV_H
#define SN_TESTS_TEST_ENV_H

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#ifdef HAVE_VALGRIND_VALGRIND_H
#include <valgrind/valgrind.h>
#else
#define RUNNING_ON_VALGRIND 0
#endif

/* GCC says so with a macro, clang with __has_feature. */
#if defined(__SANITIZE_THREAD__)
#define UNDER_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define UNDER_TSAN 1
#endif
#endif
#ifndef UNDER_TSAN
#define UNDER_TSAN 0
#endif

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#ifndef UNDER_ASAN
#define UNDER_ASAN 0
#endif

/* An environment variable set to anything but "" or "0". */
static inline bool
env_flag(const char *name)
{
	const char *s = getenv(name);

	return s != NULL && *s != '\0' && strcmp(s, "0") != 0;
}

/* SNOW_TEST_SCALE_DOWN=1, valgrind or ThreadSanitizer: lower counts. */
static inline bool
scaled_down(void)
{
	return env_flag("SNOW_TEST_SCALE_DOWN") || RUNNING_ON_VALGRIND ||
	    UNDER_TSAN;
}

/* How much longer a time bound may be here: bounds stretch, never
 * vanish.  SNOW_TEST_SLACK=N (a number >= 1) stretches them N times at
 * least, for runs slowed from outside (scripts/test-cross.sh's qemu). */
static inline double
slack(void)
{
	const char *s = getenv("SNOW_TEST_SLACK");
	double k = RUNNING_ON_VALGRIND ? 20.0 :
	    UNDER_TSAN || UNDER_ASAN ? 6.0 : 1.0;
	double e = s != NULL ? strtod(s, NULL) : 0.0;

	return e > k ? e : k;
}

/* CPU time of the whole process (every thread), in seconds. */
static inline double
cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* vm.max_map_count: how many mappings the kernel allows the process. */
static inline long
max_map_count(void)
{
	long v = 0;
	FILE *f = fopen("/proc/sys/vm/max_map_count", "r");

	if (f != NULL) {
		if (fscanf(f, "%ld", &v) != 1)
			v = 0;
		fclose(f);
	}
	return v > 0 ? v : 65530;	/* the kernel's default */
}

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL	102	/* Linux 6.13 */
#endif

/*
 * Whether the kernel has guard markers (MADV_GUARD_INSTALL), asked the
 * way src/stack.c's guard_markers() asks, for tests that link only the
 * public library.  Without them the pool's guard pages are mappings of
 * their own (see guard_vma_stacks()).  An accepted marker must also
 * fault: qemu-user answers 0 to madvise() advice it does not pass on,
 * so a write(2) from the marked page must fail with EFAULT.
 */
static inline bool
guard_markers_probe(void)
{
	long page = sysconf(_SC_PAGESIZE);
	size_t len = page > 0 ? (size_t)page : 4096;
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int fds[2];
	bool ok = false;

	if (p == MAP_FAILED)
		return true;		/* cannot tell; as the pool does */
	if (madvise(p, len, MADV_GUARD_INSTALL) == 0 && pipe(fds) == 0) {
		ok = write(fds[1], p, 1) < 0 && errno == EFAULT;
		close(fds[0]);
		close(fds[1]);
	}
	munmap(p, len);
	return ok;
}

/*
 * How many live stacks a test may ask of a pool without guard markers.
 * There every stack and its guard pages are two mappings, and a slab of
 * 16 stacks adds two (its control blocks, its tail guard): 34 for 16,
 * however many of them hibernate.  vm.max_map_count bounds the mappings
 * of the whole process, past it mmap fails (spawns fail with ENOMEM);
 * "about 32,000" live actors by default, README says.  A quarter of the
 * limit stays for the rest of the process (threads, malloc arenas, and
 * under qemu-user the emulator's own mappings, which count too).
 */
static inline long
guard_vma_stacks(void)
{
	return max_map_count() / 4 * 3 / 34 * 16;
}

#endif /* SN_TESTS_TEST_ENV_H */
