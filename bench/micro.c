/*
 * micro: the costs the runtime is built around, in nanoseconds.
 *
 *   check     one snow_reduction_check() that does not yield
 *   switch    one raw context switch (half a round trip) of this build's
 *             backend, without the scheduler
 *   swapcontext  the same with plain swapcontext(3): the ucontext backend
 *   yield     one snow_actor_yield() between two actors on one worker:
 *             two switches and a trip through the run queue
 *   spawn     one spawn plus exit of an empty actor, stacks pooled
 *
 * usage: micro [iterations-scale]   (1 = default sizes)
 * Prints "micro backend=... check_ns=... switch_ns=... swapcontext_ns=... yield_ns=...
 * spawn_ns=..." on one line.
 */
#include "config.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <ucontext.h>

#include <snow/runtime.h>

#include "context.h"

static double
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static long scale = 1;
static double check_ns, yield_ns, spawn_ns;

/* ---- snow_reduction_check ---- */

static void
check_actor(const void *arg)
{
	long n = 200000000L * scale, i;
	double t0;

	(void)arg;
	t0 = now_ns();
	for (i = 0; i < n; i++) {
		snow_reduction_check();
		__asm__ __volatile__("" ::: "memory");	/* keep the loop */
	}
	check_ns = (now_ns() - t0) / (double)n;
}

/* ---- raw switch ---- */

static struct sn_ctx main_ctx, co_ctx;
static volatile long co_count;

static void
co_entry(void *arg)
{
	(void)arg;
	for (;;) {
		co_count++;
		sn_ctx_switch(&co_ctx, &main_ctx);
	}
}

static double
raw_switch_ns(void)
{
	long n = 20000000L * scale, i;
	size_t size = 64 * 1024;
	void *stack = mmap(NULL, size, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	double t0, t;

	if (stack == MAP_FAILED || sn_ctx_make(&co_ctx, stack, size,
	    co_entry, NULL) != 0) {
		perror("micro: context");
		exit(1);
	}
	sn_ctx_switch(&main_ctx, &co_ctx);	/* warm */
	t0 = now_ns();
	for (i = 0; i < n; i++)
		sn_ctx_switch(&main_ctx, &co_ctx);
	t = now_ns() - t0;
	if (co_count != n + 1) {
		fprintf(stderr, "micro: coroutine ran %ld times, not %ld\n",
		    co_count, n + 1);
		exit(1);
	}
	munmap(stack, size);
	return t / (2.0 * (double)n);	/* two switches per round trip */
}

/* ---- plain swapcontext, what --with-context=ucontext switches with ---- */

static ucontext_t uc_main, uc_co;
static volatile long uc_count;

static void
uc_entry(void)
{
	for (;;) {
		uc_count++;
		swapcontext(&uc_co, &uc_main);
	}
}

static double
swapcontext_ns(void)
{
	long n = 2000000L * scale, i;
	size_t size = 64 * 1024;
	void *stack = mmap(NULL, size, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	double t0, t;

	if (stack == MAP_FAILED || getcontext(&uc_co) != 0) {
		perror("micro: ucontext");
		exit(1);
	}
	uc_co.uc_stack.ss_sp = stack;
	uc_co.uc_stack.ss_size = size;
	uc_co.uc_link = NULL;
	makecontext(&uc_co, uc_entry, 0);
	t0 = now_ns();
	for (i = 0; i < n; i++)
		swapcontext(&uc_main, &uc_co);
	t = now_ns() - t0;
	if (uc_count != n) {
		fprintf(stderr, "micro: ucontext ran %ld times\n", uc_count);
		exit(1);
	}
	munmap(stack, size);
	return t / (2.0 * (double)n);
}

/* ---- yield ---- */

static _Atomic long yields;

static void
yield_actor(const void *arg)
{
	long n = *(const long *)arg, i;

	for (i = 0; i < n; i++) {
		snow_actor_yield();
		atomic_fetch_add_explicit(&yields, 1, memory_order_relaxed);
	}
}

/* ---- spawn ---- */

static void
empty_actor(const void *arg)
{
	(void)arg;
}

static void
spawner(const void *arg)
{
	long n = *(const long *)arg, i;

	for (i = 0; i < n; i++) {
		if (snow_actor_spawn(empty_actor, NULL, 0, SNOW_PRIO_NORMAL) == 0) {
			perror("micro: spawn");
			exit(1);
		}
		/* Let the children run so their stacks come back to the
		 * pool: this measures the pooled path, not mmap. */
		if (i % 16 == 15)
			snow_actor_yield();
	}
}

static void
run_one(snow_actor_fn fn, long arg)
{
	if (snow_rt_init_actor(1) != 0 ||
	    snow_actor_spawn(fn, &arg, sizeof(arg), SNOW_PRIO_NORMAL) == 0) {
		perror("micro: start");
		exit(1);
	}
	snow_rt_run_scheduler();
}

int
main(int argc, char **argv)
{
	double t0, switch_ns, uc_ns;
	long n;

	if (argc > 1 && (scale = atol(argv[1])) <= 0) {
		fprintf(stderr, "usage: %s [scale >= 1]\n", argv[0]);
		return 2;
	}
	run_one(check_actor, 0);
	switch_ns = raw_switch_ns();
	uc_ns = swapcontext_ns();

	n = 5000000L * scale;
	if (snow_rt_init_actor(1) != 0)
		return 1;
	t0 = now_ns();
	snow_actor_spawn(yield_actor, &n, sizeof(n), SNOW_PRIO_NORMAL);
	snow_actor_spawn(yield_actor, &n, sizeof(n), SNOW_PRIO_NORMAL);
	snow_rt_run_scheduler();
	yield_ns = (now_ns() - t0) / (2.0 * (double)n);
	if (atomic_load(&yields) != 2 * n) {
		fprintf(stderr, "micro: %ld yields, expected %ld\n",
		    atomic_load(&yields), 2 * n);
		return 1;
	}

	n = 2000000L * scale;
	t0 = now_ns();
	run_one(spawner, n);
	spawn_ns = (now_ns() - t0) / (double)n;

	printf("micro backend=%s check_ns=%.2f switch_ns=%.2f "
	    "swapcontext_ns=%.1f yield_ns=%.1f spawn_ns=%.1f\n",
	    sn_ctx_backend, check_ns, switch_ns, uc_ns, yield_ns, spawn_ns);
	return 0;
}
