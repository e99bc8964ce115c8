/*
 * Checks made inside actors and helper threads.  Check's asserts may only
 * fail in the test's own thread, so actors record what failed with
 * A_CHECK() or actor_fail() (counted, the first failure said) and the
 * test calls assert_no_fails() once the runtime has stopped or the
 * threads have been joined.  Include after <check.h>.
 */
#ifndef SN_TESTS_ACTOR_CHECK_H
#define SN_TESTS_ACTOR_CHECK_H

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>

static _Atomic long fails;
static char fail_what[512];

static inline void actor_fail(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

/* Record a failure, keeping the first description only. */
static inline void
actor_fail(const char *fmt, ...)
{
	va_list ap;

	if (atomic_fetch_add(&fails, 1) != 0)
		return;
	va_start(ap, fmt);
	vsnprintf(fail_what, sizeof(fail_what), fmt, ap);
	va_end(ap);
}

#define A_CHECK(cond, ...) do {						\
	if (!(cond))							\
		actor_fail(__VA_ARGS__);				\
} while (0)

static inline void
reset_fails(void)
{
	atomic_store(&fails, 0);
	fail_what[0] = '\0';
}

static inline void
assert_no_fails(void)
{
	ck_assert_msg(atomic_load(&fails) == 0, "%ld failed in actors: %s",
	    atomic_load(&fails), fail_what);
}

#endif /* SN_TESTS_ACTOR_CHECK_H */
