/*
 * The soak: a long, randomized run of the public API that looks for what
 * the one-promise-per-test suites cannot, such as a lost or duplicated
 * actor once in a million, or memory that creeps up from one runtime to
 * the next.  (The deque's own stress run is tests/check_deque_stress.c.)
 *
 * Environment:
 *   SNOW_SOAK_SECONDS	 how long the soak runs (default 5; `make
 *			 check-soak` sets e.g. 300).
 *   SNOW_SOAK_SEED	 seed of the soak's choices (default: from the
 *			 clock).  Thread interleavings are not reproducible,
 *			 but sizes, priorities and actor behaviour are.
 *   SNOW_SOAK_VERBOSE	 1: one line per soak round.
 *   SNOW_TEST_SCALE_DOWN 1: fewer actors per soak round (SOAK_*_SMALL),
 *			 for valgrind and other slow instrumentation where
 *			 the full sizes take minutes per round.  The checks are the same,
 *			 only the volume drops.  For example:
 *			   SNOW_TEST_SCALE_DOWN=1 SNOW_SOAK_SECONDS=3 CK_FORK=no \
 *			   valgrind --error-exitcode=1 tests/check_soak
 *   SNOW_TEST_EMULATED	 1 (or the emulator's name): the process is an
 *			 emulator's (scripts/test-cross.sh's qemu-user), so
 *			 memory is measured from the mappings the program
 *			 sees (tests/test_mem.h).
 *
 * A soak round that hangs or crawls is reported by a watchdog thread (see
 * soak_watch_thread), which aborts the program shortly before Check's
 * timeout would fire, and also under CK_FORK=no, where there is none.
 *
 * Worker threads and actors never call ck_assert, which may only fail in
 * the test's own thread (with CK_FORK=no it longjmps back into the
 * runner): they count problems and keep a description of the first one,
 * which the test checks after joining them or after the runtime stopped.
 * Each test starts and stops its own runtime, so CK_FORK=no works.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <snow/runtime.h>

#include "run_suite.h"
#include "snow_ok.h"
#include "soak_env.h"
#include "test_env.h"
#include "test_mem.h"


/* ------------------------------------------------------------------ */
/* Soak of the public API */

#define SOAK_MIN_ACTORS		20000	/* per round */
#define SOAK_MAX_ACTORS		200000
#define SOAK_MIN_SMALL		2000	/* per round, SNOW_TEST_SCALE_DOWN */
#define SOAK_MAX_SMALL		20000
/*
 * ThreadSanitizer tracks every actor context as a fiber and dies beyond
 * 8128 threads and fibers: a round there never spawns more actors than
 * that, so never maps more stacks.
 */
#if defined(__SANITIZE_THREAD__)
#define SOAK_TSAN		1
#else
#define SOAK_TSAN		0
#endif
#define SOAK_MIN_TSAN		1000
#define SOAK_MAX_TSAN		4000
#define SOAK_MAX_WORKERS	4
#define SOAK_OUTSIDE		2	/* spawning pthreads besides main */
#define SOAK_WARMUP		2	/* rounds before memory is the baseline */
#define SOAK_RSS_SLACK_KB	(32 * 1024)
/*
 * Under ASan the figure is the heap in use (tests/test_mem.h), exact, so
 * a smaller slack: a round's high-water tables settle within it (5.7 to
 * 5.9 MiB measured, flat from the tenth round on), and a leak of a few
 * dozen bytes per actor does not.
 */
#define SOAK_HEAP_SLACK_KB	(4 * 1024)
/*
 * Outside spawners wait while this many actors are spawned but not
 * finished, so stacks (about a page or two each once touched) stay in the
 * tens of MiB; nested spawns are bounded by the round's budget instead.
 * Above the 4096 slots of the priority rings, so their overflow lists see
 * use too.
 */
#define SOAK_LIVE_CAP		20000
#define SOAK_MAX_DEPTH		8	/* nested spawns, levels below a root */
#define SOAK_FRAME		2048	/* stack bytes checked across yields */
/* "Small" args are copied to the area at the top of the actor's stack
 * (SN_ARGS_INLINE in proc.h); larger ones take the malloc'd path, freed
 * at exit. */
#define SOAK_INLINE		64
/* Largest args: within the smallest stack SNOW_STACK_SIZE allows. */
#define SOAK_ARGS_MAX		16384

enum { ARGS_NONE, ARGS_SMALL, ARGS_LARGE };

/* What an actor is and does, derived from its sequence number alone, so
 * that the actor can check what it was given against what it should be. */
struct soak_plan {
	int		args;		/* ARGS_* */
	uint32_t	size;		/* args_size of the spawn */
	uint8_t		prio;
	uint32_t	reductions;	/* snow_reduction_check() calls */
	uint32_t	yields;		/* snow_actor_yield() calls */
	uint32_t	children;	/* nested spawns, if depth allows */
	bool		frame;		/* keep a stack pattern across yields */
};

/* The start of copied arguments; the rest is pattern_byte(seq, i). */
struct soak_hdr {
	uint32_t	seq;
	uint32_t	depth;
	uint64_t	tag;		/* soak_tag(): catches a garbled header */
};

/*
 * One round's bookkeeping, shared by the spawning threads and the actors.
 * Arrays are allocated once for the largest round and reused, so that
 * they do not show up as RSS changes between rounds.
 */
struct soak_round {
	uint64_t		seed;
	uint32_t		cap;		/* array sizes */
	_Atomic uint32_t	*runs;		/* completions per sequence number */
	_Atomic uint64_t	*spawn_pid;	/* what spawn returned */
	_Atomic uint64_t	*self_pid;	/* what the actor saw */
	uint64_t		*sorted;	/* spawn_pid, sorted after the round */
	_Atomic uint32_t	next_seq;	/* sequence numbers handed out */
	_Atomic int64_t		nested_budget;	/* spawns left for actors */
	_Atomic uint64_t	spawned;	/* successful spawns */
	_Atomic uint64_t	ran;		/* actors that ran to the end */
	_Atomic uint64_t	spawn_failed;
	_Atomic uint64_t	yields;		/* yields done by actors */
	_Atomic uint64_t	forced;		/* preemptions the reductions force */
	_Atomic uint32_t	peak_live;	/* spawned and not finished, max */
	_Atomic int		go;		/* outside spawners may start */
	_Atomic int		outside_done;	/* outside spawners finished */
};

static struct soak_round R;

/* Problems seen off the test's thread; see the top of the file. */
static _Atomic uint64_t soak_errors;
static atomic_flag soak_err_taken = ATOMIC_FLAG_INIT;
static _Atomic int soak_err_ready;
static char soak_err_first[512];

static void __attribute__((format(printf, 1, 2)))
soak_fail(const char *fmt, ...)
{
	va_list ap;

	atomic_fetch_add(&soak_errors, 1);
	if (atomic_flag_test_and_set(&soak_err_taken))
		return;
	va_start(ap, fmt);
	vsnprintf(soak_err_first, sizeof(soak_err_first), fmt, ap);
	va_end(ap);
	atomic_store_explicit(&soak_err_ready, 1, memory_order_release);
}

static const char *
soak_first_error(void)
{
	if (!atomic_load_explicit(&soak_err_ready, memory_order_acquire))
		return "(no description)";
	return soak_err_first;
}

static void
soak_plan_for(uint32_t seq, struct soak_plan *pl)
{
	uint64_t h = R.seed ^ ((uint64_t)seq << 20);
	uint32_t r;

	r = rnd(&h, 100);
	if (r < 25) {
		pl->args = ARGS_NONE;
		pl->size = 0;
	} else if (r < 70) {
		pl->args = ARGS_SMALL;
		pl->size = (uint32_t)sizeof(struct soak_hdr) +
		    rnd(&h, SOAK_INLINE - sizeof(struct soak_hdr) + 1);
	} else {
		pl->args = ARGS_LARGE;
		if (rnd(&h, 8) != 0)
			pl->size = SOAK_INLINE + 1 + rnd(&h, 1024);
		else
			pl->size = SOAK_INLINE + 1 +
			    rnd(&h, SOAK_ARGS_MAX - SOAK_INLINE);
	}

	r = rnd(&h, 100);
	pl->prio = r < 20 ? SNOW_PRIO_HIGH : r < 80 ? SNOW_PRIO_NORMAL :
	    SNOW_PRIO_LOW;

	/* Some run past SNOW_REDUCTIONS, and must be preempted. */
	r = rnd(&h, 100);
	if (r < 50)
		pl->reductions = 0;
	else if (r < 95)
		pl->reductions = 1 + rnd(&h, 3000);
	else
		pl->reductions = SNOW_REDUCTIONS + rnd(&h, 4 * SNOW_REDUCTIONS);

	pl->yields = rnd(&h, 100) < 30 ? 1 + rnd(&h, 8) : 0;

	r = rnd(&h, 100);
	pl->children = r < 45 ? 0 : r < 65 ? 1 : r < 85 ? 2 : 3;
	pl->frame = rnd(&h, 10) == 0;
}

static uint64_t
soak_tag(uint32_t seq, uint32_t depth)
{
	return mix64(R.seed + 0x7a6ull * seq + depth);
}

static unsigned char
pattern_byte(uint32_t seq, size_t i)
{
	return (unsigned char)(seq * 131u + (seq >> 8) + i * 7u + (i >> 8) * 13u);
}

/*
 * Actors passed no bytes get sequence number and depth packed into the
 * pointer itself: args_size 0 promises the value arrives untouched.
 * Sequence 0 at depth 0 is a NULL pointer, which must work too.
 */
#define NOARGS_DEPTH_BITS	4
#define NOARGS_PACK(seq, depth)	\
	((const void *)(((uintptr_t)(seq) << NOARGS_DEPTH_BITS) | (depth)))

static void soak_actor_noargs(const void *);
static void soak_actor_args(const void *);

static void
live_note(void)
{
	/* ran first: next_seq, read later, can only be larger. */
	uint32_t ran = (uint32_t)atomic_load(&R.ran);
	uint32_t live = atomic_load(&R.next_seq) - ran;
	uint32_t peak = atomic_load_explicit(&R.peak_live,
	    memory_order_relaxed);

	/* Sampled racily: peak_live is for the summary, not checked. */
	while (live > peak &&
	    !atomic_compare_exchange_weak(&R.peak_live, &peak, live))
		;
}

/*
 * Spawn the actor with the next sequence number, from whatever thread we
 * are on.  The caller has made sure one is left (quota or budget).  The
 * caller's copy of the arguments is scribbled over and freed right after
 * the spawn: the actor must have been given a copy.
 */
static void
soak_spawn(uint32_t depth)
{
	unsigned char small[SOAK_INLINE];
	struct soak_plan pl;
	struct soak_hdr hdr;
	unsigned char *buf = NULL;
	const void *args;
	snow_actor_fn fn;
	uint32_t seq, i;
	uint64_t pid;
	int err;

	seq = atomic_fetch_add(&R.next_seq, 1);
	if (seq >= R.cap) {
		soak_fail("sequence number %u past the round's %u", seq, R.cap);
		return;
	}
	soak_plan_for(seq, &pl);
	if (pl.args == ARGS_NONE) {
		fn = soak_actor_noargs;
		args = NOARGS_PACK(seq, depth);
	} else {
		fn = soak_actor_args;
		buf = pl.args == ARGS_SMALL ? small : malloc(pl.size);
		if (buf == NULL) {
			soak_fail("seq %u: no memory for %u bytes of args", seq,
			    pl.size);
			return;
		}
		hdr.seq = seq;
		hdr.depth = depth;
		hdr.tag = soak_tag(seq, depth);
		memcpy(buf, &hdr, sizeof(hdr));	/* buf: any alignment */
		for (i = sizeof(hdr); i < pl.size; i++)
			buf[i] = pattern_byte(seq, i);
		args = buf;
	}
	pid = snow_actor_spawn(fn, args, pl.size, pl.prio);
	err = errno;
	if (buf != NULL) {
		memset(buf, 0xee, pl.size);
		if (buf != small)
			free(buf);
	}
	if (pid == 0) {
		atomic_fetch_add(&R.spawn_failed, 1);
		soak_fail("spawn of seq %u (depth %u, %u bytes, priority %u) "
		    "failed: %s", seq, depth, pl.size, pl.prio, strerror(err));
		return;
	}
	atomic_store_explicit(&R.spawn_pid[seq], pid, memory_order_relaxed);
	atomic_fetch_add(&R.spawned, 1);
	live_note();
}

/* One spawn from the nested budget, if any is left. */
static bool
soak_spawn_nested(uint32_t depth)
{
	if (atomic_fetch_sub(&R.nested_budget, 1) <= 0)
		return false;
	soak_spawn(depth);
	return true;
}

static void
soak_finish(uint32_t seq, uint64_t self)
{
	atomic_store_explicit(&R.self_pid[seq], self, memory_order_relaxed);
	if (atomic_fetch_add(&R.runs[seq], 1) != 0)
		soak_fail("seq %u (pid %" PRIu64 ") ran more than once", seq,
		    self);
	atomic_fetch_add(&R.ran, 1);
}

static void
soak_body(uint32_t seq, uint32_t depth, const struct soak_plan *pl)
{
	volatile unsigned char frame[SOAK_FRAME];
	uint64_t self = snow_actor_self(), again;
	uint32_t i;

	if (self == 0)
		soak_fail("seq %u: snow_actor_self() is 0 in an actor", seq);
	if (pl->frame)
		for (i = 0; i < SOAK_FRAME; i++)
			frame[i] = pattern_byte(seq, i);
	for (i = 0; i < pl->reductions; i++)
		snow_reduction_check();
	for (i = 0; i < pl->yields; i++)
		snow_actor_yield();
	for (i = 0; depth < SOAK_MAX_DEPTH && i < pl->children; i++)
		if (!soak_spawn_nested(depth + 1))
			break;
	/* It may have moved to another worker: same PID, same stack. */
	again = snow_actor_self();
	if (again != self)
		soak_fail("seq %u: snow_actor_self() was %" PRIu64 ", now %"
		    PRIu64, seq, self, again);
	if (pl->frame)
		for (i = 0; i < SOAK_FRAME; i++)
			if (frame[i] != pattern_byte(seq, i)) {
				soak_fail("seq %u: stack byte %u changed across "
				    "switches", seq, i);
				break;
			}
	if (pl->yields != 0)
		atomic_fetch_add(&R.yields, pl->yields);
	if (pl->reductions >= SNOW_REDUCTIONS)
		atomic_fetch_add(&R.forced, pl->reductions / SNOW_REDUCTIONS);
	soak_finish(seq, self);
}

static void
soak_actor_noargs(const void *args)
{
	uintptr_t v = (uintptr_t)args;
	uint32_t seq = (uint32_t)(v >> NOARGS_DEPTH_BITS);
	uint32_t depth = (uint32_t)(v & ((1u << NOARGS_DEPTH_BITS) - 1));
	struct soak_plan pl;

	if (seq >= R.cap) {
		soak_fail("args-less actor got %p, not a sequence number", args);
		return;
	}
	soak_plan_for(seq, &pl);
	if (pl.args != ARGS_NONE) {
		soak_fail("seq %u: args-less entry for an actor with args", seq);
		return;
	}
	soak_body(seq, depth, &pl);
}

static void
soak_actor_args(const void *args)
{
	const unsigned char *b = args;
	struct soak_plan pl;
	struct soak_hdr hdr;
	uint32_t i;

	if (args == NULL) {
		soak_fail("actor with args got NULL");
		return;
	}
	memcpy(&hdr, args, sizeof(hdr));
	if (hdr.seq >= R.cap || hdr.depth > SOAK_MAX_DEPTH ||
	    hdr.tag != soak_tag(hdr.seq, hdr.depth)) {
		soak_fail("garbled args header: seq %u depth %u tag %016" PRIx64,
		    hdr.seq, hdr.depth, hdr.tag);
		return;
	}
	soak_plan_for(hdr.seq, &pl);
	if (pl.args == ARGS_NONE) {
		soak_fail("seq %u: args entry for an args-less actor", hdr.seq);
		return;
	}
	for (i = sizeof(hdr); i < pl.size; i++)
		if (b[i] != pattern_byte(hdr.seq, i)) {
			soak_fail("seq %u: args byte %u of %u is %02x, want %02x",
			    hdr.seq, i, pl.size, b[i],
			    pattern_byte(hdr.seq, i));
			return;		/* never marked: the round fails */
		}
	soak_body(hdr.seq, hdr.depth, &pl);
}

/*
 * Keeps the runtime up while the outside threads are still spawning, so
 * that snow_rt_run_scheduler() can be waiting at the same time: spawns
 * from outside then must succeed, a live actor keeps the runtime up.
 *
 * The API has nothing to wait on, so it polls.  Yielding alone would
 * keep one worker busy switching in and out of it, on CPUs the outside
 * spawners need (under valgrind, which runs one thread at a time, they
 * hardly ran at all); a short sleep now and then leaves them room.
 */
static void
soak_gate(const void *args)
{
	uint32_t seq = (uint32_t)((uintptr_t)args >> NOARGS_DEPTH_BITS);
	unsigned polls = 0;

	if (seq >= R.cap) {
		soak_fail("gate got %p, not a sequence number", args);
		return;
	}
	while (atomic_load(&R.outside_done) < SOAK_OUTSIDE) {
		snow_actor_yield();
		if (++polls % 16 == 0)
			usleep(100);
	}
	soak_finish(seq, snow_actor_self());
}

struct soak_spawner {
	pthread_t	tid;
	uint32_t	quota;		/* roots to spawn */
	uint64_t	rng;
};

/* Spawn the roots of this thread's quota, waiting while too many live. */
static void
soak_spawner_run(struct soak_spawner *sp)
{
	uint32_t i, ran;

	for (i = 0; i < sp->quota; i++) {
		for (;;) {
			/* ran first, as in live_note(). */
			ran = (uint32_t)atomic_load(&R.ran);
			if (atomic_load(&R.next_seq) - ran < SOAK_LIVE_CAP)
				break;
			usleep(200);
		}
		soak_spawn(0);
		/* Vary how the three spawners interleave. */
		if (rnd(&sp->rng, 1024) == 0)
			sched_yield();
	}
}

static void *
soak_spawner_thread(void *arg)
{
	struct soak_spawner *sp = arg;

	if (snow_actor_self() != 0)
		soak_fail("snow_actor_self() is not 0 on an unrelated thread");
	while (!atomic_load(&R.go))
		sched_yield();
	soak_spawner_run(sp);
	atomic_fetch_add(&R.outside_done, 1);
	return NULL;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/*
 * The watchdog.  A runtime that loses a wake-up hangs in
 * snow_rt_run_scheduler(), and one that crawls looks the same from
 * outside; Check's timeout would report either with no more than "Test
 * timeout expired", and under CK_FORK=no there is no timeout at all.  So
 * a thread of our own says which round is slow, in which phase, and how
 * far it got, and gives up with abort() shortly before Check would.
 */
#define SOAK_ROUND_WARN		60	/* seconds before a round is "slow" */

enum { PHASE_SPAWN, PHASE_RUN, PHASE_JOIN, PHASE_CHECK };
static const char *const phase_name[] = {
	"spawning", "snow_rt_run_scheduler", "joining spawners", "checking"
};

struct soak_watch {
	pthread_t	tid;
	double		give_up;	/* when to abort, CLOCK_MONOTONIC */
	_Atomic bool	stop;
	_Atomic int	phase;
	_Atomic unsigned round;
	_Atomic unsigned workers;
	_Atomic uint64_t seed;		/* R.seed, which actors read plainly */
	_Atomic int64_t	round_start_ms;
};

static struct soak_watch W;

static void
soak_watch_report(const char *what, double secs)
{
	struct snow_rt_stats st = { 0 };

	/* Safe while the runtime runs: that is what it is for. */
	snow_rt_stats(&st);
	fprintf(stderr, "soak: round %u (%u workers, seed 0x%016" PRIx64 ") "
	    "%s after %.0f s in phase %s: %u sequence numbers taken, %"
	    PRIu64 " spawned, %" PRIu64 " finished; runtime: %" PRIu64
	    " spawned, %" PRIu64 " exited, %" PRIu64 " switches, %" PRIu64
	    " preemptions\n", atomic_load(&W.round), atomic_load(&W.workers),
	    atomic_load(&W.seed), what, secs, phase_name[atomic_load(&W.phase)],
	    atomic_load(&R.next_seq), atomic_load(&R.spawned),
	    atomic_load(&R.ran), st.spawned, st.exited, st.switches,
	    st.preemptions);
	fflush(stderr);
}

static void *
soak_watch_thread(void *arg)
{
	unsigned warned = UINT32_MAX, round;
	double t, secs;

	(void)arg;
	while (!atomic_load(&W.stop)) {
		usleep(100 * 1000);
		t = now();
		round = atomic_load(&W.round);
		secs = t - (double)atomic_load(&W.round_start_ms) / 1e3;
		if (t > W.give_up) {
			soak_watch_report("still running, giving up", secs);
			abort();
		}
		if (secs > SOAK_ROUND_WARN && warned != round) {
			soak_watch_report("slow", secs);
			warned = round;
		}
	}
	return NULL;
}

static void
soak_phase(int phase)
{
	atomic_store(&W.phase, phase);
}

struct soak_totals {
	unsigned	rounds;
	uint64_t	spawned, ran;
	uint64_t	last_pid;	/* highest PID of the rounds so far */
	uint32_t	peak_live;
};

/* Everything a round promises, checked once its runtime is down. */
static void
soak_check_round(struct soak_totals *tot, unsigned nworkers, uint64_t main_pid)
{
	struct snow_rt_stats st;
	uint32_t n = atomic_load(&R.next_seq), seq, h, wrong = 0;
	uint32_t first_wrong = 0, first_h = 1, mism = 0, first_mism = 0;
	uint32_t dups = 0, first_dup = 0;
	uint64_t sum = 0, *pids = R.sorted, spawned;

	ck_assert_msg(atomic_load(&soak_errors) == 0,
	    "round %u (seed 0x%016" PRIx64 "): %" PRIu64 " problems, first: %s",
	    tot->rounds, R.seed, atomic_load(&soak_errors), soak_first_error());
	ck_assert_uint_eq(atomic_load(&R.spawn_failed), 0);
	spawned = atomic_load(&R.spawned);
	ck_assert_uint_eq(spawned, n);
	ck_assert_uint_le(n, R.cap);
	for (seq = 0; seq < n; seq++) {
		h = atomic_load_explicit(&R.runs[seq], memory_order_relaxed);
		sum += h;
		if (h != 1 && wrong++ == 0) {
			first_wrong = seq;
			first_h = h;
		}
		pids[seq] = atomic_load_explicit(&R.spawn_pid[seq],
		    memory_order_relaxed);
		if (atomic_load_explicit(&R.self_pid[seq],
		    memory_order_relaxed) != pids[seq] && mism++ == 0)
			first_mism = seq;
	}
	ck_assert_msg(wrong == 0, "round %u (seed 0x%016" PRIx64 "): %u of %u "
	    "actors did not run exactly once; first: seq %u ran %u times",
	    tot->rounds, R.seed, wrong, n, first_wrong, first_h);
	ck_assert_uint_eq(sum, spawned);
	ck_assert_uint_eq(atomic_load(&R.ran), spawned);
	ck_assert_msg(mism == 0, "%u actors saw another PID than spawn "
	    "returned; first: seq %u", mism, first_mism);

	/* Counters are per runtime: exactly this round's actors. */
	ck_assert_int_eq(snow_rt_stats(&st), 0);
	ck_assert_uint_eq(st.spawned, spawned);
	ck_assert_uint_eq(st.exited, spawned);
	ck_assert_uint_eq(st.workers, nworkers);
	ck_assert_uint_ge(st.workers_used, 1);
	ck_assert_uint_le(st.workers_used, nworkers);
	ck_assert_uint_ge(st.preemptions, atomic_load(&R.forced));
	ck_assert_uint_ge(st.switches, spawned + atomic_load(&R.yields) +
	    atomic_load(&R.forced));

	/* PIDs: unique, and above everything handed out before. */
	ck_assert_uint_gt(main_pid, tot->last_pid);
	qsort(pids, n, sizeof(*pids), cmp_u64);
	ck_assert_uint_gt(pids[0], main_pid);
	for (seq = 1; seq < n; seq++)
		if (pids[seq] == pids[seq - 1] && dups++ == 0)
			first_dup = seq;
	ck_assert_msg(dups == 0, "%u duplicate PIDs, first %" PRIu64, dups,
	    pids[first_dup]);
	tot->last_pid = pids[n - 1];
	tot->spawned += spawned;
	tot->ran += atomic_load(&R.ran);
	if (atomic_load(&R.peak_live) > tot->peak_live)
		tot->peak_live = atomic_load(&R.peak_live);
}

/*
 * One runtime from init to shutdown.  Roots come from main and from
 * SOAK_OUTSIDE pthreads at once; actors spawn more from the nested budget
 * until it runs out.  Half the rounds join the pthreads before
 * snow_rt_run_scheduler(); the other half keep the runtime up with
 * soak_gate and join them after, so that shutdown waits while outside
 * spawns still come in.
 */
static void
soak_round(struct soak_totals *tot, uint64_t *rng, uint32_t min_actors,
    uint32_t max_actors, bool verbose)
{
	struct soak_spawner sp[SOAK_OUTSIDE + 1];	/* [0]: main */
	unsigned nworkers, i;
	uint32_t limit, roots, share;
	bool late = rnd(rng, 2) == 0;
	uint64_t main_pid;
	double t0 = now();
	int err;

	/*
	 * Warm-up rounds are full size, with as many threads as any round
	 * will have, so that malloc has made all its arenas and reached its
	 * high-water mark before the RSS baseline is taken.
	 */
	if (tot->rounds < SOAK_WARMUP) {
		nworkers = SOAK_MAX_WORKERS;
		limit = max_actors;
	} else {
		nworkers = 1 + rnd(rng, SOAK_MAX_WORKERS);
		limit = min_actors + rnd(rng, max_actors - min_actors + 1);
	}
	roots = limit / 10 + rnd(rng, limit * 4 / 10);	/* 10% to 50% */
	R.seed = mix64(*rng ^ tot->rounds);
	for (i = 0; i < limit; i++) {
		atomic_store_explicit(&R.runs[i], 0, memory_order_relaxed);
		atomic_store_explicit(&R.spawn_pid[i], 0, memory_order_relaxed);
		atomic_store_explicit(&R.self_pid[i], 0, memory_order_relaxed);
	}
	atomic_store(&R.next_seq, 0);
	atomic_store(&R.nested_budget, (int64_t)(limit - roots));
	atomic_store(&R.spawned, 0);
	atomic_store(&R.ran, 0);
	atomic_store(&R.spawn_failed, 0);
	atomic_store(&R.yields, 0);
	atomic_store(&R.forced, 0);
	atomic_store(&R.peak_live, 0);
	atomic_store(&R.go, 0);
	atomic_store(&R.outside_done, 0);
	/* Random shares of the roots; main's has one more, for the gate. */
	roots--;
	for (i = 0; i <= SOAK_OUTSIDE; i++) {
		share = i == SOAK_OUTSIDE ? roots : rnd(rng, roots + 1);
		sp[i].quota = share + (i == 0);
		sp[i].rng = mix64(*rng + i);
		roots -= share;
	}

	atomic_store(&W.workers, nworkers);
	atomic_store(&W.seed, R.seed);
	atomic_store(&W.round, tot->rounds);
	atomic_store(&W.round_start_ms, (int64_t)(t0 * 1e3));
	soak_phase(PHASE_SPAWN);
	err = snow_rt_init_actor(nworkers);
	ck_assert_msg(err == 0, "snow_rt_init_actor(%u): %s", nworkers,
	    strerror(err));
	main_pid = snow_actor_self();
	ck_assert_uint_ne(main_pid, 0);
	for (i = 1; i <= SOAK_OUTSIDE; i++)
		ck_assert_int_eq(pthread_create(&sp[i].tid, NULL,
		    soak_spawner_thread, &sp[i]), 0);
	if (late) {
		uint32_t seq = atomic_fetch_add(&R.next_seq, 1);
		uint64_t pid = snow_actor_spawn(soak_gate, NOARGS_PACK(seq, 0),
		    0, SNOW_PRIO_LOW);

		if (pid == 0) {
			atomic_fetch_add(&R.spawn_failed, 1);
			soak_fail("spawn of the gate failed: %s",
			    strerror(errno));
		} else {
			atomic_store(&R.spawn_pid[seq], pid);
			atomic_fetch_add(&R.spawned, 1);
		}
		sp[0].quota--;
	}
	atomic_store(&R.go, 1);
	soak_spawner_run(&sp[0]);
	if (!late) {
		soak_phase(PHASE_JOIN);
		for (i = 1; i <= SOAK_OUTSIDE; i++)
			ck_assert_int_eq(pthread_join(sp[i].tid, NULL), 0);
	}
	soak_phase(PHASE_RUN);
	err = snow_rt_run_scheduler();
	if (late) {
		soak_phase(PHASE_JOIN);
		for (i = 1; i <= SOAK_OUTSIDE; i++)
			ck_assert_int_eq(pthread_join(sp[i].tid, NULL), 0);
	}
	soak_phase(PHASE_CHECK);
	ck_assert_msg(err == 0, "snow_rt_run_scheduler: %s", strerror(err));
	ck_assert_uint_eq(snow_actor_self(), 0);

	soak_check_round(tot, nworkers, main_pid);
	if (verbose) {
		printf("soak round %u: %u workers, %u actors, %s join, "
		    "peak live %u, %.2f s, %s %ld KiB\n", tot->rounds,
		    nworkers, atomic_load(&R.next_seq), late ? "late" : "early",
		    atomic_load(&R.peak_live), now() - t0, test_mem_what(),
		    test_mem_kib());
		fflush(stdout);		/* the watchdog's abort() would lose it */
	}
	tot->rounds++;
}

/*
 * The high-water round, before the warm-up ones: as many actors alive at
 * once as any round can have (a round's whole budget, at most
 * SOAK_LIVE_CAP), each parked in a receive until all have started, on as
 * many workers as any round has.  A random round reaches only a part of
 * that (peak live 150-1,100 of 4,000 under TSan), and what the allocator
 * and the sanitizers keep per live actor stays resident at the highest
 * count seen: under TSan each new high of peak live added about 130 KiB
 * per actor, RSS 164 to 246 MiB over 47 rounds, flat once a round had
 * reached the high.  A leak keeps growing past any high-water mark.
 * Only TSan needs it: elsewhere RSS is flat from the warm-up rounds on,
 * and under valgrind this round alone would take 35 s.
 */
static _Atomic uint32_t hw_started;

static void
hw_actor(const void *args)
{
	(void)args;
	atomic_fetch_add(&hw_started, 1);
	ck_assert_ptr_nonnull(snow_actor_receive(-1));
}

static void
soak_high_water(uint32_t max_actors)
{
	uint32_t n = max_actors < SOAK_LIVE_CAP ? max_actors : SOAK_LIVE_CAP;
	uint64_t *pids = malloc(n * sizeof(*pids));
	uint32_t i;

	ck_assert_ptr_nonnull(pids);
	atomic_store(&hw_started, 0);
	ck_assert_int_eq(snow_rt_init_actor(SOAK_MAX_WORKERS), 0);
	for (i = 0; i < n; i++) {
		pids[i] = snow_actor_spawn(hw_actor, NULL, 0, SNOW_PRIO_NORMAL);
		ck_assert_uint_ne(pids[i], 0);
	}
	while (atomic_load(&hw_started) < n)
		sleep_ms(1);
	for (i = 0; i < n; i++)
		ck_assert_int_eq(snow_actor_send(pids[i], "", 1), 0);
	ck_assert_int_eq(snow_rt_run_scheduler(), 0);
	free(pids);
}

START_TEST(soak)
{
	unsigned seconds = soak_seconds();
	bool small = env_flag("SNOW_TEST_SCALE_DOWN");
	uint32_t min_actors = SOAK_TSAN ? SOAK_MIN_TSAN :
	    small ? SOAK_MIN_SMALL : SOAK_MIN_ACTORS;
	uint32_t max_actors = SOAK_TSAN ? SOAK_MAX_TSAN :
	    small ? SOAK_MAX_SMALL : SOAK_MAX_ACTORS;
	struct soak_totals tot = { 0 };
	const char *seed_env = getenv("SNOW_SOAK_SEED");
	uint64_t seed, rng;
	long rss, rss_first = -1, rss_base = -1, rss_max = -1, rss_last = -1;
	long slack;
	double t0 = now(), deadline = t0 + seconds;

	if (seed_env != NULL && *seed_env != '\0')
		seed = strtoull(seed_env, NULL, 0);
	else
		seed = mix64((uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32) ^
		    (uint64_t)(now() * 1e9));
	rng = seed;
	if (env_flag("SNOW_SOAK_VERBOSE")) {
		printf("soak: %u s, seed 0x%016" PRIx64 "\n", seconds, seed);
		fflush(stdout);
	}

	mem_steady();
	atomic_store(&soak_errors, 0);
	atomic_flag_clear(&soak_err_taken);
	atomic_store(&soak_err_ready, 0);
	R.cap = max_actors;
	R.runs = malloc(max_actors * sizeof(*R.runs));
	R.spawn_pid = malloc(max_actors * sizeof(*R.spawn_pid));
	R.self_pid = malloc(max_actors * sizeof(*R.self_pid));
	R.sorted = malloc(max_actors * sizeof(*R.sorted));
	ck_assert_ptr_nonnull(R.runs);
	ck_assert_ptr_nonnull(R.spawn_pid);
	ck_assert_ptr_nonnull(R.self_pid);
	ck_assert_ptr_nonnull(R.sorted);

	atomic_store(&W.stop, false);
	atomic_store(&W.round_start_ms, (int64_t)(t0 * 1e3));
	W.give_up = deadline + SOAK_TIMEOUT_SLACK - 10;
	ck_assert_int_eq(pthread_create(&W.tid, NULL, soak_watch_thread, NULL),
	    0);
	if (SOAK_TSAN) {
		soak_high_water(max_actors);
		/* The soak proper starts now, within SOAK_TIMEOUT_SLACK. */
		deadline = now() + seconds;
	}

	/* At least one round past warm-up, so the RSS check always runs. */
	while (tot.rounds <= SOAK_WARMUP || now() < deadline) {
		soak_round(&tot, &rng, min_actors, max_actors,
		    env_flag("SNOW_SOAK_VERBOSE"));
		rss = test_mem_kib();
		ck_assert_int_gt(rss, 0);
		if (rss_first < 0)
			rss_first = rss;
		if (tot.rounds == SOAK_WARMUP)
			rss_base = rss;
		else if (tot.rounds > SOAK_WARMUP && rss > rss_max)
			rss_max = rss;
		rss_last = rss;
	}
	atomic_store(&W.stop, true);
	pthread_join(W.tid, NULL);

	printf("soak: %u rounds, %" PRIu64 " actors spawned, %" PRIu64
	    " run, %.1f s, %s first %ld KiB, last %ld KiB (after warm-up "
	    "%ld, max %ld), peak live %u, seed 0x%016" PRIx64 "\n",
	    tot.rounds, tot.spawned, tot.ran, now() - t0, test_mem_what(),
	    rss_first, rss_last, rss_base, rss_max, tot.peak_live, seed);
	fflush(stdout);
	/*
	 * Every round ends with a fresh runtime shut down, its stacks
	 * unmapped: what a round leaves behind shows up as growth here.
	 */
	slack = UNDER_ASAN ? SOAK_HEAP_SLACK_KB : SOAK_RSS_SLACK_KB;
	ck_assert_msg(rss_max <= rss_base + slack,
	    "%s grew from %ld KiB after warm-up to %ld KiB", test_mem_what(),
	    rss_base, rss_max);
	ck_assert_uint_eq(tot.spawned, tot.ran);

	free(R.runs);
	free(R.spawn_pid);
	free(R.self_pid);
	free(R.sorted);
	R.runs = NULL;
	R.spawn_pid = R.self_pid = NULL;
	R.sorted = NULL;
}
END_TEST

static Suite *
soak_suite(void)
{
	Suite *s = suite_create("soak");
	unsigned timeout = soak_seconds() + SOAK_TIMEOUT_SLACK;
	TCase *tc;

	tc = tcase_create("soak");
	tcase_set_timeout(tc, timeout);
	tcase_add_test(tc, soak);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(soak_suite());
}
