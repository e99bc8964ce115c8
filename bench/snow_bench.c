/*
 * snow-bench: the snow-rt side of the benchmarks in bench/.
 *
 * usage: snow-bench <workload> [size] [workers]
 *
 * Prints one line, the same as the Go and Erlang peers:
 *   workload=<name> workers=<N> size=<S> check=<v> ok=<1|0> elapsed_ns=<ns> [extra=...]
 * and exits 1 when the check fails, 2 on bad arguments.  elapsed_ns covers
 * the workload from the first spawn to the return of
 * snow_rt_run_scheduler(), not the start of the runtime.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <snow/runtime.h>

struct workload {
	const char *name;
	uint64_t default_size;
	int pow10;			/* size must be a power of ten */
	/* Runs inside an initialised runtime; returns the check value. */
	uint64_t (*run)(uint64_t size, char *extra, size_t extra_len);
	uint64_t (*expect)(uint64_t size);
};

static _Atomic uint64_t sum;
static _Atomic uint64_t failures;

static uint64_t
triangular(uint64_t n)
{
	return n * (n - 1) / 2;
}

static uint64_t
identity(uint64_t n)
{
	return n;
}

static void
spawn_or_count(snow_actor_fn fn, const void *args, uint64_t size)
{
	if (snow_actor_spawn(fn, args, size, SNOW_PRIO_NORMAL) == 0)
		atomic_fetch_add(&failures, 1);
}

/* ---- spawn-tree ---- */

struct tree_node {
	uint32_t depth, leaf_depth;
	uint64_t index;
};

static void
tree_node(const void *arg)
{
	const struct tree_node *self = arg;
	struct tree_node child = { self->depth + 1, self->leaf_depth, 0 };
	int i;

	if (self->depth == self->leaf_depth) {
		atomic_fetch_add_explicit(&sum, self->index,
		    memory_order_relaxed);
		return;
	}
	for (i = 0; i < 10; i++) {
		child.index = self->index * 10 + (uint64_t)i;
		spawn_or_count(tree_node, &child, sizeof(child));
	}
}

static uint64_t
spawn_tree(uint64_t size, char *extra, size_t len)
{
	struct tree_node root = { 0, 0, 0 };

	(void)extra;
	(void)len;
	for (uint64_t n = size; n > 1; n /= 10)
		root.leaf_depth++;
	spawn_or_count(tree_node, &root, sizeof(root));
	snow_rt_run_scheduler();
	return atomic_load(&sum);
}

/* ---- spawn-flat ---- */

static void
flat_actor(const void *arg)
{
	(void)arg;
	atomic_fetch_add_explicit(&sum, 1, memory_order_relaxed);
}

static uint64_t
spawn_flat(uint64_t size, char *extra, size_t len)
{
	(void)extra;
	(void)len;
	for (uint64_t i = 0; i < size; i++)
		spawn_or_count(flat_actor, NULL, 0);
	snow_rt_run_scheduler();
	return atomic_load(&sum);
}

/* ---- yield-storm ---- */

#define STORM_ACTORS 1000

static void
storm_actor(const void *arg)
{
	uint64_t n = *(const uint64_t *)arg, i;

	for (i = 0; i < n; i++)
		snow_actor_yield();
	atomic_fetch_add_explicit(&sum, n, memory_order_relaxed);
}

static uint64_t
yield_storm(uint64_t size, char *extra, size_t len)
{
	uint64_t each = size / STORM_ACTORS;

	(void)extra;
	(void)len;
	for (int i = 0; i < STORM_ACTORS; i++)
		spawn_or_count(storm_actor, &each, sizeof(each));
	snow_rt_run_scheduler();
	return atomic_load(&sum);
}

/* ---- resident ---- */

static _Atomic uint64_t parked;
static _Atomic int released;

static void
resident_actor(const void *arg)
{
	(void)arg;
	atomic_fetch_add(&parked, 1);
	/* Waits without a mailbox: runnable, but touching nothing new. */
	while (!atomic_load_explicit(&released, memory_order_relaxed))
		snow_actor_yield();
	atomic_fetch_add_explicit(&sum, 1, memory_order_relaxed);
}

static long
rss_bytes(void)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb * 1024;
}

static uint64_t
resident(uint64_t size, char *extra, size_t len)
{
	long before = rss_bytes(), after;

	for (uint64_t i = 0; i < size; i++)
		spawn_or_count(resident_actor, NULL, 0);
	while (atomic_load(&parked) + atomic_load(&failures) < size)
		usleep(1000);
	after = rss_bytes();
	snprintf(extra, len, "rss_per_actor_bytes=%ld",
	    (after - before) / (long)size);
	atomic_store(&released, 1);
	snow_rt_run_scheduler();
	return atomic_load(&sum);
}

static const struct workload workloads[] = {
	{ "spawn-tree", 1000000, 1, spawn_tree, triangular },
	{ "spawn-flat", 1000000, 0, spawn_flat, identity },
	{ "yield-storm", 10000000, 0, yield_storm, identity },
	{ "resident", 100000, 0, resident, identity },
};

static double
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int
usage(const char *prog)
{
	size_t i;

	fprintf(stderr, "usage: %s <workload> [size] [workers]\nworkloads:",
	    prog);
	for (i = 0; i < sizeof(workloads) / sizeof(workloads[0]); i++)
		fprintf(stderr, " %s", workloads[i].name);
	fprintf(stderr, "\n");
	return 2;
}

static int
parse_u64(const char *s, uint64_t *out)
{
	char *end;

	errno = 0;
	*out = strtoull(s, &end, 10);
	return errno == 0 && end != s && *end == '\0' && s[0] != '-' ? 0 : -1;
}

int
main(int argc, char **argv)
{
	const struct workload *w = NULL;
	uint64_t size, workers = 0, check;
	struct snow_rt_stats st;
	char extra[128] = "";
	double t0, t1;
	size_t i;
	int err, ok;

	if (argc < 2 || argc > 4)
		return usage(argv[0]);
	for (i = 0; i < sizeof(workloads) / sizeof(workloads[0]); i++)
		if (strcmp(argv[1], workloads[i].name) == 0)
			w = &workloads[i];
	if (w == NULL)
		return usage(argv[0]);
	size = w->default_size;
	if ((argc > 2 && (parse_u64(argv[2], &size) != 0 || size == 0)) ||
	    (argc > 3 && (parse_u64(argv[3], &workers) != 0 ||
	    workers > SNOW_MAX_SCHEDULERS)))
		return usage(argv[0]);
	if (w->pow10) {
		uint64_t n = size;

		while (n % 10 == 0)
			n /= 10;
		if (n != 1) {
			fprintf(stderr, "%s: size must be a power of 10\n",
			    w->name);
			return 2;
		}
	}
	err = snow_rt_init_actor((uint32_t)workers);
	if (err != 0) {
		fprintf(stderr, "snow_rt_init_actor: %s\n", strerror(err));
		return 1;
	}
	t0 = now_ns();
	check = w->run(size, extra, sizeof(extra));
	t1 = now_ns();
	snow_rt_stats(&st);
	ok = check == w->expect(size) && atomic_load(&failures) == 0;
	printf("workload=%s workers=%u size=%llu check=%llu ok=%d "
	    "elapsed_ns=%.0f%s%s\n", w->name, st.workers,
	    (unsigned long long)size, (unsigned long long)check, ok, t1 - t0,
	    extra[0] ? " extra=" : "", extra);
	return ok ? 0 : 1;
}
