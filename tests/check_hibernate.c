/*
 * Hibernation at scale: a million parked actors hibernate in a couple of
 * seconds, within the mapping budget (a quarter of vm.max_map_count, see
 * stack.c), and then cost no CPU; the process can still start threads;
 * every actor wakes with its locals intact.  Past the budget, actors stay
 * parked with their stacks in place and the workers go to sleep.  Where
 * guard pages are mappings of their own (no guard markers: see
 * guard_vmas()), the counts fit what that mode holds and the mapping
 * checks are the ones that mode promises.
 *
 * Environment: SNOW_TEST_SCALE_DOWN=1 (also implied under valgrind and the
 * sanitizers, which are several times slower and use more memory per
 * stack) lowers the actor counts; the checks stay the same.  The figures
 * (time to hibernate, mappings held, idle CPU) go to stderr.
 */
#include "config.h"

#include <check.h>
#include <dirent.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <snow/runtime.h>

#include "scheduler.h"		/* sn_rt.pool.vma_budget, to lower it */

#include "run_suite.h"
#include "snow_ok.h"
#include "test_env.h"

#define TIMEOUT		240
#define MILLION		1000000u
#define LOCALS		4

/* Actors for a test sized n at full scale, fewer when instrumented. */
static uint64_t
scaled(uint64_t n)
{
	/* ThreadSanitizer counts each actor as a thread, and stops at
	 * 8,128 of them. */
	if (RUNNING_ON_VALGRIND || UNDER_TSAN)
		return n / 250;
	if (env_flag("SNOW_TEST_SCALE_DOWN"))
		return n / 50;
	if (UNDER_ASAN)
		return n / 10;
	return n;
}

static long
maps_lines(void)
{
	char line[512];
	long n = 0;
	FILE *f = fopen("/proc/self/maps", "r");

	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f) != NULL)
		n++;
	fclose(f);
	return n;
}

/* Mappings the runtime added, within limit (the budget, or the pool's
 * own count): ThreadSanitizer maps memory of its own for every actor,
 * which neither counts. */
static void
assert_maps_within(long maps, long maps0, long limit, const char *what)
{
	if (UNDER_TSAN)
		return;
	/* The pool's share within the limit; a few more for the workers'
	 * own stacks and malloc arenas. */
	ck_assert_msg(maps - maps0 <= limit + 64, "%ld mappings, %ld before: "
	    "past %s, %ld", maps, maps0, what, limit);
}

/*
 * Whether the pool's guard pages are mappings of their own: no guard
 * markers (kernels before 6.13, and qemu-user, which does not follow
 * MADV_GUARD_INSTALL).  Then each stack is a mapping already, so
 * hibernating one splits off nothing and no budget can stop it (README,
 * "The mapping budget"); what the tests check there instead is that
 * hibernation added no mapping to the pool's count, and that the kernel
 * holds no more than that count.  Those mappings are held however many
 * stacks hibernate, and vm.max_map_count stops spawns near 30,000 live
 * stacks, so a test there asks for no more than guard_vma_stacks().
 */
static bool
guard_vmas(void)
{
	return !atomic_load(&sn_rt.pool.guard_madvise);
}

/* n, or fewer where the pool's mode cannot hold n (see guard_vmas()). */
static uint64_t
fit_mode(uint64_t n)
{
	uint64_t most = (uint64_t)guard_vma_stacks();

	if (!guard_vmas() || n <= most)
		return n;
	fprintf(stderr, "check_hibernate: guard pages are mappings: %" PRIu64
	    " actors, not %" PRIu64 " (vm.max_map_count %ld)\n", most, n,
	    max_map_count());
	return most;
}

/* With guard VMAs: hibernation split nothing off, and the kernel holds
 * no more mappings than the pool counts. */
static void
assert_maps_counted(long maps, long maps0)
{
	ck_assert_int_eq(atomic_load(&sn_rt.pool.vma_extra), 0);
	assert_maps_within(maps, maps0, sn_stack_vmas(&sn_rt.pool),
	    "the pool's own count");
}

static long
peak_rss_mib(void)
{
	struct rusage ru;

	ck_assert_int_eq(getrusage(RUSAGE_SELF, &ru), 0);
	return ru.ru_maxrss / 1024;
}

static uint64_t
hibernations(void)
{
	struct snow_rt_stats st;

	ck_assert_int_eq(snow_rt_stats(&st), 0);
	return st.hibernations;
}

/*
 * CPU seconds the runtime's threads have used: those named snow-...
 * (workers, the blocking pool), from /proc/self/task.  Not the whole
 * process's: under TSan its own background thread keeps working on the
 * gigabytes of shadow a million-actor test makes (measured: 2 to 4% of a
 * CPU, the runtime's threads 0), and that is not the runtime's idle cost.
 */
static double
runtime_cpu(void)
{
	long ticks = 0, hz = sysconf(_SC_CLK_TCK);
	unsigned long ut, st;
	char path[300], line[512], *close_paren;
	struct dirent *e;
	DIR *d = opendir("/proc/self/task");
	FILE *f;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/stat",
		    e->d_name);
		if ((f = fopen(path, "r")) == NULL)
			continue;	/* ended meanwhile */
		/* "tid (comm) state ...": utime and stime are the 12th and
		 * 13th fields after the comm. */
		if (fgets(line, sizeof(line), f) != NULL &&
		    strstr(line, "(snow-") != NULL &&
		    (close_paren = strrchr(line, ')')) != NULL &&
		    sscanf(close_paren + 2, "%*c %*d %*d %*d %*d %*d %*u %*u "
		    "%*u %*u %*u %lu %lu", &ut, &st) == 2)
			ticks += (long)(ut + st);
		fclose(f);
	}
	closedir(d);
	return (double)ticks / (double)hz;
}

/* Share of one CPU the idle runtime uses over secs. */
static double
idle_cpu(double secs)
{
	double c0 = runtime_cpu(), t0 = now();

	usleep((useconds_t)(secs * 1e6));
	return (runtime_cpu() - c0) / (now() - t0);
}

/*
 * Share of one CPU the process uses once it has settled: the worst of two
 * windows of 2 s in a row, the first window where two in a row stay under
 * 1%, within 6 windows.  The last sweeps may still be returning memory
 * when the count of hibernations is complete (slowly, under the
 * sanitizers); a runtime that keeps sweeping never settles.
 */
static double
settled_cpu(void)
{
	double prev = 1.0, cpu = 1.0;
	int k;

	for (k = 0; k < 6; k++) {
		cpu = idle_cpu(2.0);
		fprintf(stderr, "check_hibernate: idle CPU %.3f%% of one CPU "
		    "(window %d)\n", cpu * 100, k + 1);
		if (cpu < 0.01 && prev < 0.01)
			break;
		prev = cpu;
	}
	return cpu > prev ? cpu : prev;
}

static void *
nothing(void *arg)
{
	return arg;
}

static int
thread_starts(void)
{
	pthread_t t;
	int err = pthread_create(&t, NULL, nothing, NULL);

	if (err == 0)
		pthread_join(t, NULL);
	return err;
}

/* ---- the actors ---- */

static _Atomic uint64_t answered, wrong;

static uint64_t
local_value(uint64_t index, unsigned k)
{
	return (index + 1) * 0x9e3779b97f4a7c15ull ^ k;
}

struct sleeper_arg {
	uint64_t index;
	int hibernate;		/* snow_actor_hibernate(this) first */
};

/* Parks in receive(-1) with known locals; checks them when woken. */
static void
sleeper(const void *arg)
{
	const struct sleeper_arg *a = arg;
	volatile uint64_t local[LOCALS];
	uint64_t index = a->index, got = UINT64_MAX;
	const struct snow_msg *m;
	unsigned k;
	bool ok = true;

	if (!a->hibernate)
		(void)snow_actor_hibernate(0);
	for (k = 0; k < LOCALS; k++)
		local[k] = local_value(index, k);
	m = snow_actor_receive(-1);
	if (m == NULL || m->len != sizeof(got))
		ok = false;
	else
		memcpy(&got, m->data, sizeof(got));
	for (k = 0; k < LOCALS; k++)
		ok = ok && local[k] == local_value(index, k);
	atomic_fetch_add(ok && got == index ? &answered : &wrong, 1);
}

static uint64_t *
spawn_sleepers(uint64_t n, bool every_other_stays)
{
	uint64_t *pids = malloc(n * sizeof(*pids)), i;

	ck_assert_ptr_nonnull(pids);
	for (i = 0; i < n; i++) {
		struct sleeper_arg a = { i, !every_other_stays || i % 2 == 0 };

		pids[i] = spawn_ok(sleeper, &a, sizeof(a), SNOW_PRIO_NORMAL);
	}
	return pids;
}

/* Wake them all; each checks its locals and reports. */
static void
wake_and_check(uint64_t *pids, uint64_t n)
{
	struct snow_rt_stats st;
	uint64_t i;

	for (i = 0; i < n; i++)
		ck_assert_int_eq(snow_actor_send(pids[i], &i, sizeof(i)), 0);
	run_ok();
	ck_assert_int_eq(snow_rt_stats(&st), 0);
	ck_assert_uint_eq(atomic_load(&wrong), 0);
	ck_assert_uint_eq(atomic_load(&answered), n);
	ck_assert_uint_eq(st.blocked_ended, 0);
	free(pids);
}

/*
 * A million actors parked in receive(-1) all hibernate, in seconds; the
 * mappings stay within the budget; a new thread starts; the idle process
 * uses no CPU; every actor wakes with its locals.
 */
START_TEST(a_million_parked_actors_hibernate_within_the_budget)
{
	uint64_t n, h = 0, *pids;
	long maps0 = maps_lines(), budget = max_map_count() / 4, maps;
	double t0, t_spawned, t_done, end, cpu;

	atomic_store(&answered, 0);
	atomic_store(&wrong, 0);
	init_ok(2);
	n = fit_mode(scaled(MILLION));
	t0 = now();
	pids = spawn_sleepers(n, false);
	t_spawned = now();
	fprintf(stderr, "check_hibernate: %" PRIu64 " spawned in %.2f s, %"
	    PRIu64 " hibernated by then\n", n, t_spawned - t0, hibernations());
	end = t_spawned + 120.0;
	while ((h = hibernations()) < n && now() < end)
		usleep(5000);
	t_done = now();
	maps = maps_lines();
	fprintf(stderr, "check_hibernate: %" PRIu64 " of %" PRIu64 " parked "
	    "actors hibernated %.2f s after the first spawn, %.2f s after "
	    "the last; mappings %ld (%ld before init, budget %ld); peak RSS "
	    "%ld MiB\n", h, n, t_done - t0, t_done - t_spawned, maps, maps0,
	    budget, peak_rss_mib());
	ck_assert_msg(h >= n, "%" PRIu64 " of %" PRIu64 " hibernated", h, n);
	if (guard_vmas())
		assert_maps_counted(maps, maps0);
	else
		assert_maps_within(maps, maps0, budget, "the budget");
	ck_assert_int_eq(thread_starts(), 0);
	usleep(100000);
	cpu = settled_cpu();
	ck_assert_msg(cpu < 0.01, "idle, the runtime's threads used %.1f%% of "
	    "a CPU", cpu * 100);
	t0 = now();
	wake_and_check(pids, n);
	fprintf(stderr, "check_hibernate: all woke and answered in %.2f s\n",
	    now() - t0);
}
END_TEST

/*
 * Past the budget: every other actor keeps its stack, so each one that
 * hibernates is a run of its own, two mappings; with the budget lowered,
 * hibernation stops where it is reached, the rest stay parked as they
 * are, and the workers sleep instead of sweeping them again and again.
 * With guard VMAs (see guard_vmas()) hibernation costs no mapping, so
 * the lowered budget stops none: every actor that may hibernate does,
 * none of those that keep their stacks, and the workers sleep all the
 * same.
 */
START_TEST(past_the_budget_actors_stay_parked_and_workers_sleep)
{
	uint64_t n, h, prev = 0, *pids;
	long maps0 = maps_lines(), budget, maps;
	double end, stable, cpu;

	atomic_store(&answered, 0);
	atomic_store(&wrong, 0);
	init_ok(2);
	n = fit_mode(scaled(100000));
	budget = 200 + (long)(n / 100);
	sn_rt.pool.vma_budget = budget;
	pids = spawn_sleepers(n, true);
	/* Until the count has not moved for a second (with guard VMAs,
	 * until the half that may hibernate has: emulated sweeps may pause
	 * longer than that). */
	end = now() + 60.0;
	stable = now();
	while (now() < end && now() - stable < 1.0 &&
	    !(guard_vmas() && prev >= n / 2)) {
		usleep(20000);
		if ((h = hibernations()) != prev || h == 0) {
			prev = h;
			stable = now();
		}
	}
	if (guard_vmas())
		usleep(200000);	/* time for a wrong one to show */
	h = hibernations();
	maps = maps_lines();
	if (guard_vmas()) {
		ck_assert_msg(h == n / 2, "%" PRIu64 " of %" PRIu64
		    " hibernated: with guard VMAs all of them should",
		    h, n / 2);
		assert_maps_counted(maps, maps0);
	} else {
		ck_assert_msg(h > 0 && h < n / 2, "%" PRIu64 " of %" PRIu64
		    " hibernated: the budget did not stop them", h, n / 2);
		assert_maps_within(maps, maps0, budget, "the budget");
	}
	ck_assert_int_eq(thread_starts(), 0);
	cpu = idle_cpu(2.0);
	fprintf(stderr, "check_hibernate: past the budget (%ld): %" PRIu64
	    " of %" PRIu64 " hibernated, %ld mappings, idle CPU %.3f%%\n",
	    budget, h, n / 2, maps - maps0, cpu * 100);
	ck_assert_msg(cpu < 0.01, "idle past the budget, the runtime's threads used "
	    "%.1f%% of a CPU", cpu * 100);
	wake_and_check(pids, n);
}
END_TEST

static Suite *
hibernate_suite(void)
{
	Suite *s = suite_create("hibernate");
	TCase *tc = tcase_create("scale");

	tcase_set_timeout(tc, TIMEOUT);
	tcase_add_test(tc, a_million_parked_actors_hibernate_within_the_budget);
	tcase_add_test(tc, past_the_budget_actors_stay_parked_and_workers_sleep);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(hibernate_suite());
}
