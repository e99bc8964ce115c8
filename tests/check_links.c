/*
 * Links at scale: the PID set of src/links.c on its own (add, remove,
 * growth, shrinking, iteration, a long random churn against a plain
 * bitmap), then the runtime's links through it: a 200,000-actor star
 * linked to one hub that traps exits, links made and undone many times,
 * unlinks of PIDs never linked, and a hub whose end reaches every actor
 * linked to it.
 *
 * This program links the core directly (libsnowcore.la) to reach the set.
 * Each test starts and stops its own runtime.  Actors never call
 * ck_assert: they record failures with A_CHECK(), and the test's own
 * thread checks them once the runtime has stopped.
 *
 * Timings are printed, not asserted, beyond a bound so generous that only
 * a return of the quadratic behaviour could miss it: the machine may be
 * slow and shared, or the build instrumented.
 *
 * Environment: SNOW_TEST_SCALE_DOWN=1 (also implied under valgrind and
 * ThreadSanitizer) lowers the actor and PID counts; the checks stay the
 * same.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <snow/runtime.h>

#include "links.h"

#include "actor_check.h"
#include "run_suite.h"
#include "snow_ok.h"
#include "test_env.h"

#define TIMEOUT 300

/* Longest an actor waits for a message that must come. */
#define WAIT_MS 20000

/* No phase of the star may take this long (seconds), however slow the
 * machine: the quadratic version took 8 s to link 200,000. */
#define STAR_BOUND_S 20.0

/* A PID no actor will have for the life of a test. */
#define NEVER_USED_PID ((uint64_t)1 << 60)

/*
 * errno in actors: one may resume on another worker after a receive, and
 * GCC may compute errno's address once per function (glibc declares
 * __errno_location() const), so actor code reads it through the runtime.
 */
static int
a_errno(void)
{
	return snow_errno();
}

/* ================================================================== */
/* The set on its own */

/* Each PID of l, checked to be seen once and to be one of want[0..n). */
static void
assert_iterates_exactly(const struct sn_links *l, const uint64_t *want,
    uint32_t n)
{
	unsigned char *seen = calloc(n ? n : 1, 1);
	uint32_t pos = 0, got = 0, i;
	uint64_t pid;

	ck_assert_ptr_nonnull(seen);
	while ((pid = sn_links_next(l, &pos)) != 0) {
		for (i = 0; i < n && want[i] != pid; i++)
			;
		ck_assert_msg(i < n, "iteration gave %" PRIu64 ", not in "
		    "the set", pid);
		ck_assert_msg(seen[i] == 0, "iteration gave %" PRIu64
		    " twice", pid);
		seen[i] = 1;
		got++;
	}
	ck_assert_uint_eq(got, n);
	/* And it stays at the end. */
	ck_assert_uint_eq(sn_links_next(l, &pos), 0);
	free(seen);
}

START_TEST(set_add_duplicate_remove_missing)
{
	struct sn_links l;
	uint64_t want[3] = { 7, 3, 1000000007 };

	sn_links_init(&l);
	ck_assert_uint_eq(sn_links_count(&l), 0);
	ck_assert(!sn_links_contains(&l, 7));
	ck_assert(!sn_links_remove(&l, 7));
	assert_iterates_exactly(&l, want, 0);

	ck_assert_int_eq(sn_links_add(&l, 7), 0);
	ck_assert_int_eq(sn_links_add(&l, 3), 0);
	ck_assert_int_eq(sn_links_add(&l, 1000000007), 0);
	ck_assert_uint_eq(sn_links_count(&l), 3);
	/* Duplicates change nothing. */
	ck_assert_int_eq(sn_links_add(&l, 3), 0);
	ck_assert_int_eq(sn_links_add(&l, 7), 0);
	ck_assert_uint_eq(sn_links_count(&l), 3);
	ck_assert(sn_links_contains(&l, 3));
	ck_assert(!sn_links_contains(&l, 4));
	assert_iterates_exactly(&l, want, 3);

	/* Removing what is not there changes nothing. */
	ck_assert(!sn_links_remove(&l, 4));
	ck_assert(!sn_links_remove(&l, 0));
	ck_assert_uint_eq(sn_links_count(&l), 3);
	ck_assert(sn_links_remove(&l, 7));
	ck_assert(!sn_links_remove(&l, 7));
	ck_assert(!sn_links_contains(&l, 7));
	ck_assert_uint_eq(sn_links_count(&l), 2);
	assert_iterates_exactly(&l, want + 1, 2);

	/* PID 0 would read as an empty slot: refused. */
	ck_assert_int_eq(sn_links_add(&l, 0), EINVAL);
	ck_assert(!sn_links_contains(&l, 0));
	ck_assert_uint_eq(sn_links_count(&l), 2);
	sn_links_free(&l);
	ck_assert_uint_eq(sn_links_count(&l), 0);
	ck_assert(!sn_links_contains(&l, 3));
	/* Freed is empty and usable again. */
	ck_assert_int_eq(sn_links_add(&l, 3), 0);
	ck_assert(sn_links_contains(&l, 3));
	sn_links_free(&l);
}
END_TEST

/* Every size from empty, through the inline PIDs, to a few tables:
 * iteration sees each PID once, and removal in any order empties it. */
START_TEST(set_iteration_sees_each_once_at_every_size)
{
	enum { MAX = 70 };
	uint64_t want[MAX];
	unsigned char gone[MAX];
	struct sn_links l;
	uint32_t n, i;

	for (n = 0; n <= MAX; n++) {
		sn_links_init(&l);
		for (i = 0; i < n; i++) {
			/* Runs and strides, as PIDs come. */
			want[i] = i % 2 ? 1 + i : ((uint64_t)i << 8) + 5;
			ck_assert_int_eq(sn_links_add(&l, want[i]), 0);
		}
		ck_assert_uint_eq(sn_links_count(&l), n);
		assert_iterates_exactly(&l, want, n);
		/* Remove in a scattered order, checking every PID each time. */
		memset(gone, 0, sizeof(gone));
		for (i = 0; i < n; i++) {
			uint32_t k = (i * 37 + n / 2) % n, j;

			while (gone[k])
				k = (k + 1) % n;
			ck_assert(sn_links_remove(&l, want[k]));
			gone[k] = 1;
			for (j = 0; j < n; j++)
				ck_assert(sn_links_contains(&l, want[j]) ==
				    !gone[j]);
			ck_assert_uint_eq(sn_links_count(&l), n - i - 1);
		}
		ck_assert_uint_eq(sn_links_count(&l), 0);
		/* Empty again, the set holds nothing to free. */
		ck_assert_uint_eq(l.mask, 0);
		sn_links_free(&l);
	}
}
END_TEST

#define GROW_N		100000u
#define GROW_SMALL	20000u

START_TEST(set_grows_to_100k_and_shrinks_back)
{
	uint32_t n = scaled_down() ? GROW_SMALL : GROW_N, i, pos = 0, got = 0;
	uint32_t bad = 0;
	unsigned char *seen = calloc(n, 1);
	struct sn_links l;
	uint64_t pid;
	double t0, t_add, t_find, t_del;

	ck_assert_ptr_nonnull(seen);
	sn_links_init(&l);
	/* PID of index i: 1 + 3i, so PIDs between them are absent. */
	/* Timed loops count failures and assert once: a ck_assert per
	 * operation costs more than the operation (a write to Check's pipe). */
	t0 = now();
	for (i = 0; i < n; i++)
		bad += sn_links_add(&l, 1 + 3 * (uint64_t)i) != 0;
	t_add = now() - t0;
	ck_assert_uint_eq(bad, 0);
	ck_assert_uint_eq(sn_links_count(&l), n);
	/* Load stays at most 70%. */
	ck_assert_msg((uint64_t)n * 10 <= ((uint64_t)l.mask + 1) * 7,
	    "%u PIDs in %u slots", n, l.mask + 1);
	for (i = 0; i < n; i++)
		ck_assert_int_eq(sn_links_add(&l, 1 + 3 * (uint64_t)i), 0);
	ck_assert_uint_eq(sn_links_count(&l), n);

	t0 = now();
	for (i = 0; i < n; i++) {
		bad += !sn_links_contains(&l, 1 + 3 * (uint64_t)i);
		bad += sn_links_contains(&l, 2 + 3 * (uint64_t)i);
	}
	t_find = now() - t0;
	ck_assert_uint_eq(bad, 0);

	while ((pid = sn_links_next(&l, &pos)) != 0) {
		ck_assert_msg(pid % 3 == 1 && pid / 3 < n, "stray PID %"
		    PRIu64, pid);
		ck_assert_msg(seen[pid / 3] == 0, "PID %" PRIu64 " twice",
		    pid);
		seen[pid / 3] = 1;
		got++;
	}
	ck_assert_uint_eq(got, n);

	/* Every other one out: the rest are still found. */
	t0 = now();
	for (i = 0; i < n; i += 2)
		bad += !sn_links_remove(&l, 1 + 3 * (uint64_t)i);
	t_del = now() - t0;
	ck_assert_uint_eq(bad, 0);
	for (i = 0; i < n; i++)
		ck_assert(sn_links_contains(&l, 1 + 3 * (uint64_t)i) ==
		    (i % 2 == 1));
	ck_assert_uint_eq(sn_links_count(&l), n / 2);
	/* The rest: the table shrinks as it empties, back to none. */
	for (i = 1; i < n; i += 2) {
		ck_assert(sn_links_remove(&l, 1 + 3 * (uint64_t)i));
		ck_assert_msg(l.mask == 0 || (uint64_t)sn_links_count(&l) * 8
		    >= l.mask + 1, "%u PIDs left in %u slots",
		    sn_links_count(&l), l.mask + 1);
	}
	ck_assert_uint_eq(sn_links_count(&l), 0);
	ck_assert_uint_eq(l.mask, 0);
	pos = 0;
	ck_assert_uint_eq(sn_links_next(&l, &pos), 0);
	sn_links_free(&l);
	free(seen);
	fprintf(stderr, "links set, %u PIDs: add %.1f ns, lookup %.1f ns, "
	    "remove %.1f ns each\n", n, t_add * 1e9 / n,
	    t_find * 1e9 / (2.0 * n), t_del * 1e9 / (n / 2));
}
END_TEST

/* A small xorshift generator: reproducible churn without rand()'s state. */
static uint64_t
next_rand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

#define CHURN_OPS	2000000u
#define CHURN_SMALL	200000u
#define CHURN_SPACE	3000u

/*
 * Random adds and removes over a small space of PIDs, against a bitmap:
 * the set grows and shrinks through its thresholds many times, and every
 * removal's backward shift must leave each remaining PID findable.
 */
START_TEST(set_random_churn_matches_a_bitmap)
{
	uint32_t ops = scaled_down() ? CHURN_SMALL : CHURN_OPS, op, i, count = 0;
	static unsigned char in[CHURN_SPACE];
	uint64_t seed = 0x2545f4914f6cdd1dULL, r, pid, pos;
	struct sn_links l;
	uint32_t it;

	memset(in, 0, sizeof(in));
	sn_links_init(&l);
	for (op = 0; op < ops; op++) {
		r = next_rand(&seed);
		/* The space breathes: mostly small, sometimes all of it. */
		pos = (r >> 32) % (op / 50000 % 3 == 0 ? CHURN_SPACE : 40);
		pid = pos * 1031 + 1;
		if ((r & 0xff) < ((op / 20000) % 2 ? 100 : 160)) {
			ck_assert_int_eq(sn_links_add(&l, pid), 0);
			count += !in[pos];
			in[pos] = 1;
		} else {
			ck_assert(sn_links_remove(&l, pid) == (in[pos] != 0));
			count -= in[pos];
			in[pos] = 0;
		}
		ck_assert_uint_eq(sn_links_count(&l), count);
		if (op % 9973 == 0)
			for (i = 0; i < CHURN_SPACE; i++)
				ck_assert(sn_links_contains(&l,
				    (uint64_t)i * 1031 + 1) == (in[i] != 0));
	}
	it = 0;
	i = 0;
	while ((pid = sn_links_next(&l, &it)) != 0) {
		ck_assert(in[(pid - 1) / 1031] == 1);
		in[(pid - 1) / 1031] = 2;
		i++;
	}
	ck_assert_uint_eq(i, count);
	sn_links_free(&l);
}
END_TEST

/* ================================================================== */
/* The runtime's links */

#define STAR_N		200000u
#define STAR_SMALL	5000u

/* What a parked child is told: the reason to exit with, 0 to return. */
struct go {
	uint64_t reason;
	uint64_t bye;		/* PID to say goodbye to first, or 0 */
};

static _Atomic uint64_t child_woke;

/* Park in receive until told to go, then end as told. */
static void
parked_child(const void *arg)
{
	const struct snow_msg *m;
	struct go g;

	(void)arg;
	m = snow_actor_receive(-1);
	atomic_fetch_add(&child_woke, 1);
	if (m == NULL || m->tag != SNOW_MSG_DATA || m->len != sizeof(g)) {
		actor_fail("child %" PRIu64 ": unexpected receive (%s)",
		    snow_actor_self(), m == NULL ? strerror(a_errno()) :
		    "not a go");
		return;
	}
	memcpy(&g, m->data, sizeof(g));
	if (g.bye != 0)
		A_CHECK(snow_actor_send(g.bye, &g, sizeof(g)) == 0,
		    "child's goodbye");
	if (g.reason != SNOW_EXIT_NORMAL)
		snow_actor_exit(snow_actor_self(), g.reason);
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Index of pid in the sorted pids[0..n), or -1. */
static long
index_of(const uint64_t *pids, uint64_t n, uint64_t pid)
{
	const uint64_t *p = bsearch(&pid, pids, n, sizeof(*pids), cmp_u64);

	return p != NULL ? (long)(p - pids) : -1;
}

/* n children, parked; their PIDs sorted, or NULL with a failure. */
static uint64_t *
spawn_parked(uint64_t n)
{
	uint64_t *pids = malloc(n * sizeof(*pids)), i;

	if (pids == NULL) {
		actor_fail("no memory for %" PRIu64 " PIDs", n);
		return NULL;
	}
	for (i = 0; i < n; i++) {
		pids[i] = snow_actor_spawn(parked_child, NULL, 0,
		    SNOW_PRIO_NORMAL);
		if (pids[i] == 0) {
			actor_fail("spawn #%" PRIu64 ": %s", i,
			    strerror(a_errno()));
			free(pids);
			return NULL;
		}
	}
	qsort(pids, n, sizeof(*pids), cmp_u64);
	return pids;
}

/*
 * Receive exits until want have come from PIDs of the sorted pids[0..n)
 * marked in mask (NULL: all), each at most once; data messages are
 * counted in *data.  False if something else came or nothing came.
 */
static bool
collect_exits(const uint64_t *pids, uint64_t n, const unsigned char *mask,
    unsigned char *seen, uint64_t want, uint64_t reason, uint64_t *data)
{
	const struct snow_msg *m;
	struct snow_exit_msg e;
	uint64_t got = 0;
	long k;

	while (got < want || (data != NULL && *data < n)) {
		m = snow_actor_receive(WAIT_MS);
		if (m == NULL) {
			actor_fail("hub waited in vain: %" PRIu64 " of %"
			    PRIu64 " exits (%s)", got, want,
			    strerror(a_errno()));
			return false;
		}
		if (m->tag == SNOW_MSG_DATA && data != NULL) {
			(*data)++;
			continue;
		}
		if (m->tag != SNOW_MSG_EXIT || m->len != sizeof(e)) {
			actor_fail("hub got tag %" PRIu64 " len %" PRIu64,
			    m->tag, m->len);
			return false;
		}
		memcpy(&e, m->data, sizeof(e));
		k = index_of(pids, n, e.pid);
		if (k < 0 || (mask != NULL && !mask[k])) {
			actor_fail("exit from %" PRIu64 ", not linked", e.pid);
			return false;
		}
		if (seen[k]++ != 0) {
			actor_fail("second exit from %" PRIu64, e.pid);
			return false;
		}
		A_CHECK(e.reason == reason, "exit of %" PRIu64 ": reason %"
		    PRIu64 ", want %" PRIu64, e.pid, e.reason, reason);
		got++;
	}
	return true;
}

/* Nothing more is in the mailbox, after a pause for stragglers. */
static void
expect_no_more(const char *what)
{
	const struct snow_msg *m;

	snow_timer_sleep(100);
	m = snow_actor_receive(0);
	A_CHECK(m == NULL && a_errno() == EAGAIN, "%s: a message more "
	    "(tag %" PRIu64 ")", what, m != NULL ? m->tag : 0);
}

static uint64_t star_n;
static double star_link_s, star_deliver_s;
static _Atomic int star_done;

/*
 * The hub: traps exits, links to star_n parked children, timed; tells
 * them all to return, timed until the last exit message is in.
 */
static void
star_hub(const void *arg)
{
	uint64_t n = star_n, i, *pids;
	unsigned char *seen;
	struct go g = { SNOW_EXIT_NORMAL, 0 };
	double t0;
	int err;

	(void)arg;
	snow_actor_trap_exit();
	seen = calloc(n, 1);
	pids = spawn_parked(n);
	if (pids == NULL || seen == NULL) {
		A_CHECK(seen != NULL, "no memory for the hub");
		free(pids);
		free(seen);
		return;
	}
	t0 = now();
	for (i = 0; i < n; i++)
		if ((err = snow_actor_link(pids[i])) != 0) {
			actor_fail("link #%" PRIu64 ": %s", i, strerror(err));
			break;
		}
	star_link_s = now() - t0;
	/* Linking twice changes nothing: still one exit each. */
	for (i = 0; i < n; i += 97)
		A_CHECK(snow_actor_link(pids[i]) == 0, "second link");

	t0 = now();
	for (i = 0; i < n; i++)
		A_CHECK(snow_actor_send(pids[i], &g, sizeof(g)) == 0, "go");
	if (collect_exits(pids, n, NULL, seen, n, SNOW_EXIT_NORMAL, NULL)) {
		star_deliver_s = now() - t0;
		for (i = 0; i < n; i++)
			A_CHECK(seen[i] == 1, "child %" PRIu64 ": %u exits",
			    pids[i], seen[i]);
		expect_no_more("star");
		atomic_store(&star_done, 1);
	}
	free(pids);
	free(seen);
}

START_TEST(star_of_200k_links_and_delivers_each_exit_once)
{
	struct snow_rt_stats st;

	star_n = scaled_down() ? STAR_SMALL : STAR_N;
	reset_fails();
	atomic_store(&star_done, 0);
	atomic_store(&child_woke, 0);
	init_ok(2);
	spawn_ok(star_hub, NULL, 0, SNOW_PRIO_NORMAL);
	run_ok();
	assert_no_fails();
	ck_assert_int_eq(atomic_load(&star_done), 1);
	ck_assert_uint_eq(atomic_load(&child_woke), star_n);
	st = stats_ok();
	ck_assert_uint_eq(st.spawned, star_n + 1);
	ck_assert_uint_eq(st.blocked_ended, 0);
	fprintf(stderr, "star of %" PRIu64 ": link %.3f s (%.0f ns each), "
	    "exits delivered %.3f s (%.0f ns each)\n", star_n, star_link_s,
	    star_link_s * 1e9 / (double)star_n, star_deliver_s,
	    star_deliver_s * 1e9 / (double)star_n);
	ck_assert_msg(star_link_s < STAR_BOUND_S, "linking took %.1f s",
	    star_link_s);
	ck_assert_msg(star_deliver_s < STAR_BOUND_S, "delivery took %.1f s",
	    star_deliver_s);
}
END_TEST

/* -- links made and undone many times -- */

#define CHURN_PARTNERS		1000u
#define CHURN_PARTNERS_SMALL	200u
#define CHURN_ROUNDS		50u
#define CHURN_ROUNDS_SMALL	5u
#define SAME_PAIR		100000u
#define SAME_PAIR_SMALL		5000u

static uint64_t churn_m, churn_rounds, churn_same;
static _Atomic int churn_done;

/*
 * Link to every partner and unlink them all, round after round (the hub's
 * set grows to a table and shrinks back each time), and one pair many
 * times over; then keep every third, linked twice, and end every partner
 * with an error: exits come from those third only, once each, and the
 * hub, which traps, sees nothing of the others.
 */
static void
churn_hub(const void *arg)
{
	uint64_t m = churn_m, i, r, data = 0, kept = 0, *pids;
	unsigned char *seen = calloc(m, 1), *keep = calloc(m, 1);
	struct go g = { SNOW_EXIT_ERROR, snow_actor_self() };
	int err;

	(void)arg;
	snow_actor_trap_exit();
	pids = spawn_parked(m);
	if (pids == NULL || seen == NULL || keep == NULL) {
		A_CHECK(seen != NULL && keep != NULL, "no memory");
		goto out;
	}
	for (r = 0; r < churn_rounds; r++) {
		for (i = 0; i < m; i++)
			if ((err = snow_actor_link(pids[i])) != 0)
				actor_fail("link: %s", strerror(err));
		/* Half of them from the other end of the array. */
		for (i = 0; i < m; i++)
			A_CHECK(snow_actor_unlink(pids[r % 2 ? m - 1 - i : i])
			    == 0, "unlink");
	}
	for (i = 0; i < churn_same; i++) {
		A_CHECK(snow_actor_link(pids[0]) == 0, "link the pair");
		A_CHECK(snow_actor_unlink(pids[0]) == 0, "unlink the pair");
	}
	for (i = 0; i < m; i += 3) {
		keep[i] = 1;
		kept++;
		A_CHECK(snow_actor_link(pids[i]) == 0, "keep");
		A_CHECK(snow_actor_link(pids[i]) == 0, "keep twice");
	}
	for (i = 0; i < m; i++)
		A_CHECK(snow_actor_send(pids[i], &g, sizeof(g)) == 0, "go");
	/* Every partner's goodbye, and the kept ones' exits. */
	if (collect_exits(pids, m, keep, seen, kept, SNOW_EXIT_ERROR, &data)) {
		for (i = 0; i < m; i++)
			A_CHECK(seen[i] == keep[i], "partner #%" PRIu64
			    ": %u exits", i, seen[i]);
		expect_no_more("churn");
		atomic_store(&churn_done, 1);
	}
out:
	free(pids);
	free(seen);
	free(keep);
}

START_TEST(link_then_unlink_many_times)
{
	bool small = scaled_down();

	churn_m = small ? CHURN_PARTNERS_SMALL : CHURN_PARTNERS;
	churn_rounds = small ? CHURN_ROUNDS_SMALL : CHURN_ROUNDS;
	churn_same = small ? SAME_PAIR_SMALL : SAME_PAIR;
	reset_fails();
	atomic_store(&churn_done, 0);
	atomic_store(&child_woke, 0);
	init_ok(2);
	spawn_ok(churn_hub, NULL, 0, SNOW_PRIO_NORMAL);
	run_ok();
	assert_no_fails();
	ck_assert_int_eq(atomic_load(&churn_done), 1);
	ck_assert_uint_eq(atomic_load(&child_woke), churn_m);
	ck_assert_uint_eq(stats_ok().blocked_ended, 0);
}
END_TEST

/* -- unlinking what was never linked -- */

#define UNLINK_LINKED	7	/* past the inline PIDs, into a table */

static _Atomic int never_done;

/*
 * Unlink PIDs never linked (one never used, oneself, a live actor never
 * linked) at every link count from 0 to UNLINK_LINKED: each returns 0 and
 * disturbs no real link, and the actor never linked sends no exit.
 */
static void
never_linked_hub(const void *arg)
{
	uint64_t n = UNLINK_LINKED + 1, i, data = 0, *pids;
	unsigned char seen[UNLINK_LINKED + 1] = { 0 };
	unsigned char keep[UNLINK_LINKED + 1];
	uint64_t self = snow_actor_self(), stranger;
	struct go g = { SNOW_EXIT_ERROR, self };

	(void)arg;
	snow_actor_trap_exit();
	pids = spawn_parked(n);
	if (pids == NULL)
		return;
	/* The last, never linked, is the stranger. */
	stranger = pids[n - 1];
	memset(keep, 1, sizeof(keep));
	keep[n - 1] = 0;
	for (i = 0; i <= UNLINK_LINKED; i++) {
		A_CHECK(snow_actor_unlink(NEVER_USED_PID) == 0, "unlink the "
		    "never used");
		A_CHECK(snow_actor_unlink(self) == 0, "unlink oneself");
		A_CHECK(snow_actor_unlink(stranger) == 0, "unlink a stranger");
		if (i < UNLINK_LINKED)
			A_CHECK(snow_actor_link(pids[i]) == 0, "link");
	}
	for (i = 0; i < n; i++)
		A_CHECK(snow_actor_send(pids[i], &g, sizeof(g)) == 0, "go");
	if (collect_exits(pids, n, keep, seen, UNLINK_LINKED, SNOW_EXIT_ERROR,
	    &data)) {
		for (i = 0; i < n; i++)
			A_CHECK(seen[i] == keep[i], "actor #%" PRIu64
			    ": %u exits", i, seen[i]);
		expect_no_more("never linked");
		atomic_store(&never_done, 1);
	}
	free(pids);
}

START_TEST(unlink_of_a_pid_never_linked)
{
	reset_fails();
	atomic_store(&never_done, 0);
	atomic_store(&child_woke, 0);
	init_ok(2);
	spawn_ok(never_linked_hub, NULL, 0, SNOW_PRIO_NORMAL);
	run_ok();
	assert_no_fails();
	ck_assert_int_eq(atomic_load(&never_done), 1);
	ck_assert_uint_eq(atomic_load(&child_woke), UNLINK_LINKED + 1);
	ck_assert_uint_eq(stats_ok().blocked_ended, 0);
}
END_TEST

/* -- the hub's own end reaches every actor linked to it -- */

#define FAN_N		50000u
#define FAN_SMALL	2000u

static uint64_t fan_n;
static double fan_link_s;
static _Atomic int fan_linked;

/* Link to fan_n parked children that do not trap, then fail: each must
 * end with it, through the hub's whole set. */
static void
failing_hub(const void *arg)
{
	uint64_t n = fan_n, i, *pids;
	double t0;

	(void)arg;
	pids = spawn_parked(n);
	if (pids == NULL)
		return;
	t0 = now();
	for (i = 0; i < n; i++)
		A_CHECK(snow_actor_link(pids[i]) == 0, "link");
	fan_link_s = now() - t0;
	free(pids);
	atomic_store(&fan_linked, 1);
	snow_actor_exit(snow_actor_self(), SNOW_EXIT_ERROR);
}

START_TEST(hub_exit_reaches_every_linked_actor)
{
	double t0;

	fan_n = scaled_down() ? FAN_SMALL : FAN_N;
	reset_fails();
	atomic_store(&fan_linked, 0);
	atomic_store(&child_woke, 0);
	init_ok(2);
	t0 = now();
	spawn_ok(failing_hub, NULL, 0, SNOW_PRIO_NORMAL);
	run_ok();
	assert_no_fails();
	ck_assert_int_eq(atomic_load(&fan_linked), 1);
	/* None woke to a message, none was left waiting for ever: the
	 * hub's exit signal ended them all. */
	ck_assert_uint_eq(atomic_load(&child_woke), 0);
	ck_assert_uint_eq(stats_ok().blocked_ended, 0);
	ck_assert_uint_eq(stats_ok().spawned, fan_n + 1);
	fprintf(stderr, "fan-out of %" PRIu64 ": link %.3f s, whole run "
	    "%.3f s\n", fan_n, fan_link_s, now() - t0);
}
END_TEST

/* ================================================================== */

static Suite *
links_suite(void)
{
	Suite *s = suite_create("links");
	TCase *tc;

	tc = tcase_create("set");
	tcase_set_timeout(tc, TIMEOUT);
	tcase_add_test(tc, set_add_duplicate_remove_missing);
	tcase_add_test(tc, set_iteration_sees_each_once_at_every_size);
	tcase_add_test(tc, set_grows_to_100k_and_shrinks_back);
	tcase_add_test(tc, set_random_churn_matches_a_bitmap);
	suite_add_tcase(s, tc);

	tc = tcase_create("runtime");
	tcase_set_timeout(tc, TIMEOUT);
	tcase_add_test(tc, star_of_200k_links_and_delivers_each_exit_once);
	tcase_add_test(tc, link_then_unlink_many_times);
	tcase_add_test(tc, unlink_of_a_pid_never_linked);
	tcase_add_test(tc, hub_exit_reaches_every_linked_actor);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(links_suite());
}
