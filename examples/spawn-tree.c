/*
 * spawn-tree: the README's demo.
 *
 * A root actor spawns 10 children, every actor above the leaves spawns 10
 * more, and each of the 10^depth leaves adds its index to a shared sum.
 * With the default depth of 6 that is 1,111,111 actors.  The sum is checked
 * against n(n-1)/2 once snow_rt_run_scheduler() has waited for all of them.
 *
 * usage: spawn-tree [workers [depth]]   (workers 0 = one per CPU)
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <snow/runtime.h>

struct node {
	uint32_t depth;
	uint64_t index;
};

static uint32_t leaf_depth = 6;
static _Atomic uint64_t leaf_sum;
static _Atomic uint64_t spawn_failures;

static void
node(const void *arg)
{
	struct node self = *(const struct node *)arg;
	struct node child;
	int i;

	if (self.depth == leaf_depth) {
		atomic_fetch_add_explicit(&leaf_sum, self.index,
		    memory_order_relaxed);
		return;
	}
	child.depth = self.depth + 1;
	for (i = 0; i < 10; i++) {
		child.index = self.index * 10 + (uint64_t)i;
		if (snow_actor_spawn(node, &child, sizeof(child),
		    SNOW_PRIO_NORMAL) == 0)
			atomic_fetch_add(&spawn_failures, 1);
	}
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
parse_arg(const char *s, unsigned long max, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 10);
	return errno == 0 && end != s && *end == '\0' && *out <= max ? 0 : -1;
}

int
main(int argc, char **argv)
{
	unsigned long workers = 0, depth = 6, leaves = 1, actors = 0, i;
	struct node root = { 0, 0 };
	struct snow_rt_stats st;
	uint64_t expect;
	double t0, t1;
	int err;

	if (argc > 3 || (argc > 1 && parse_arg(argv[1], SNOW_MAX_SCHEDULERS,
	    &workers) != 0) || (argc > 2 && parse_arg(argv[2], 7, &depth) != 0)) {
		fprintf(stderr, "usage: %s [workers (0..%d)] [depth (0..7)]\n",
		    argv[0], SNOW_MAX_SCHEDULERS);
		return 2;
	}
	leaf_depth = (uint32_t)depth;
	for (i = 0; i <= depth; i++) {
		actors += leaves;
		if (i < depth)
			leaves *= 10;
	}
	expect = (uint64_t)leaves * (leaves - 1) / 2;

	err = snow_rt_init_actor((uint32_t)workers);
	if (err != 0) {
		fprintf(stderr, "snow_rt_init_actor: %s\n", strerror(err));
		return 1;
	}
	t0 = now();
	if (snow_actor_spawn(node, &root, sizeof(root), SNOW_PRIO_NORMAL) == 0) {
		perror("snow_actor_spawn");
		return 1;
	}
	err = snow_rt_run_scheduler();
	t1 = now();
	if (err != 0) {
		fprintf(stderr, "snow_rt_run_scheduler: %s\n", strerror(err));
		return 1;
	}
	snow_rt_stats(&st);

	printf("spawn-tree: %lu actors (%lu leaves), sum %llu (expected %llu)\n",
	    actors, leaves, (unsigned long long)leaf_sum,
	    (unsigned long long)expect);
	printf("wall time:     %.3f s\n", t1 - t0);
	printf("actors/second: %.0f\n", (double)actors / (t1 - t0));
	printf("workers used:  %u of %u\n", st.workers_used, st.workers);
	printf("steals:        %llu\n", (unsigned long long)st.steals);
	printf("stacks mapped: %llu\n", (unsigned long long)st.stacks_mapped);
	if (leaf_sum != expect || spawn_failures != 0 || st.exited != actors) {
		fprintf(stderr, "FAILED: sum %llu, %llu spawn failures, "
		    "%llu of %lu actors exited\n", (unsigned long long)leaf_sum,
		    (unsigned long long)spawn_failures,
		    (unsigned long long)st.exited, actors);
		return 1;
	}
	printf("OK\n");
	return 0;
}
