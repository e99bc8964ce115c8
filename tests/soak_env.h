/*
 * What the long-running tests share: how long to run (SNOW_SOAK_SECONDS)
 * and a small generator for their random choices.  Header-only, as
 * test_env.h: each test program includes it once.
 */
#ifndef SNOW_TESTS_SOAK_ENV_H
#define SNOW_TESTS_SOAK_ENV_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define SOAK_DEFAULT_SECONDS	5
#define SOAK_MAX_SECONDS	(7 * 24 * 3600)
/* Check's timeout must never fire before the time-bounded loops end. */
#define SOAK_TIMEOUT_SLACK	120

static inline unsigned
soak_seconds(void)
{
	const char *s = getenv("SNOW_SOAK_SECONDS");
	unsigned long v;
	char *end;

	if (s == NULL || *s == '\0')
		return SOAK_DEFAULT_SECONDS;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v == 0) {
		fprintf(stderr, "SNOW_SOAK_SECONDS=%s: not a positive number, "
		    "using %d\n", s, SOAK_DEFAULT_SECONDS);
		return SOAK_DEFAULT_SECONDS;
	}
	return v > SOAK_MAX_SECONDS ? SOAK_MAX_SECONDS : (unsigned)v;
}

/* splitmix64: decorrelates neighbouring sequence numbers and seeds. */
static inline uint64_t
mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

/* A number in [0, n) from a generator state; n > 0. */
static inline uint32_t
rnd(uint64_t *state, uint32_t n)
{
	*state = mix64(*state);
	return (uint32_t)((*state >> 32) % n);
}

#endif /* SNOW_TESTS_SOAK_ENV_H */
