/*
 * Checks made inside actors.  Check's asserts may only fail in the test's
 * own thread, so actors record what failed with A_CHECK() (counted, the
 * first failure said) and the test calls assert_no_fails() once the
 * runtime has stopped.  Include after <check.h>.
 */
#ifndef SN_TESTS_ACTOR_CHECK_H
#define SN_TESTS_ACTOR_CHECK_H

#include <stdatomic.h>
#include <stdio.h>

static _Atomic long fails;
static char fail_what[256];

#define A_CHECK(cond, ...)						\
	do {								\
		if (!(cond) && atomic_fetch_add(&fails, 1) == 0)	\
			snprintf(fail_what, sizeof(fail_what), __VA_ARGS__); \
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
