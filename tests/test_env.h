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

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

#endif /* SN_TESTS_TEST_ENV_H */
