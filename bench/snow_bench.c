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
 *
 * The main thread is not an actor and has no mailbox: the messaging
 * workloads run under a root actor, which leaves its result in an atomic
 * that main reads once snow_rt_run_scheduler() has returned.  Messages are
 * one uint64_t; an empty message means "stop".
 *
 * overload runs for OVERLOAD_MS milliseconds (environment; 2000 when
 * unset), the same variable as the peers read.
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
	/* > 0: messages per unit of the check value, reported as msgs/s. */
	uint64_t msgs_per_check;
};

static _Atomic uint64_t sum;
static _Atomic uint64_t failures;

static double
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/*
 * The time a workload ends is when its result is in, as in the peers,
 * which stop their clock when the root task or wait group returns and
 * tear their runtime down after it: the actor that stores the result, or
 * whose add brings the sum to the expected value, records the time.
 * snow_rt_run_scheduler()'s stop (joining the workers, unmapping the
 * stacks: about 0.1 ms) is then outside the time, as Tokio's shutdown and
 * Boost.Fiber's joins are.  A run that never reaches its result keeps the
 * time at run_scheduler's return, and fails its check.
 */
static _Atomic uint64_t sum_target;
static _Atomic uint64_t result_ns;

static void
result_in(void)
{
	atomic_store(&result_ns, (uint64_t)now_ns());
}

static void
sum_add(uint64_t v)
{
	if (atomic_fetch_add_explicit(&sum, v, memory_order_relaxed) + v ==
	    atomic_load_explicit(&sum_target, memory_order_relaxed))
		result_in();
}

static void
sum_set(uint64_t v)
{
	atomic_store(&sum, v);
	result_in();
}

static int parse_u64(const char *s, uint64_t *out);

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

static uint64_t
spawn_or_count(snow_actor_fn fn, const void *args, uint64_t size)
{
	uint64_t pid = snow_actor_spawn(fn, args, size, SNOW_PRIO_NORMAL);

	if (pid == 0)
		atomic_fetch_add(&failures, 1);
	return pid;
}

static void
send_or_count(uint64_t pid, const void *msg, uint64_t size)
{
	if (snow_actor_send(pid, msg, size) != 0)
		atomic_fetch_add(&failures, 1);
}

static void
send_u64(uint64_t pid, uint64_t v)
{
	send_or_count(pid, &v, sizeof(v));
}

static void
send_stop(uint64_t pid)
{
	send_or_count(pid, NULL, 0);
}

/*
 * Waits for the next message: 1 with *v for a uint64_t, 0 for a stop (an
 * empty message), -1 (counted as a failure) for anything else.
 */
static int
receive_u64(uint64_t *v)
{
	const struct snow_msg *m = snow_actor_receive(-1);

	if (m != NULL && m->tag == SNOW_MSG_DATA) {
		if (m->len == sizeof(*v)) {
			memcpy(v, m->data, sizeof(*v));
			return 1;
		}
		if (m->len == 0)
			return 0;
	}
	atomic_fetch_add(&failures, 1);
	return -1;
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
		sum_add(self->index);
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
	sum_add(1);
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
	sum_add(n);
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

/* Memory is sampled once every actor has parked and this long has
 * passed, in all three systems: the cost of an actor at rest. */
#define RESIDENT_SETTLE_MS 500

static void
resident_actor(const void *arg)
{
	const struct snow_msg *m;

	(void)arg;
	/* The runtime's defaults, as a user gets them: its stack hibernates
	 * while it waits (SNOW_HIBERNATE=0 for the cost without that). */
	atomic_fetch_add(&parked, 1);
	/* Parked until main's release comes in. */
	m = snow_actor_receive(-1);
	if (m == NULL || m->tag != SNOW_MSG_DATA)
		atomic_fetch_add(&failures, 1);
	else
		sum_add(1);
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

/* Spawn resident actors into pids[from..to) and wait until all of them
 * (every one ever spawned, to in all) have parked. */
static void
spawn_parked(uint64_t *pids, uint64_t from, uint64_t to)
{
	for (uint64_t i = from; i < to; i++)
		pids[i] = spawn_or_count(resident_actor, NULL, 0);
	while (atomic_load(&parked) + atomic_load(&failures) < to)
		usleep(1000);
}

/* Release the n parked actors of pids, wait for their end, free pids. */
static uint64_t
release_parked(uint64_t *pids, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		if (pids[i] != 0)
			send_stop(pids[i]);
	snow_rt_run_scheduler();
	free(pids);
	return atomic_load(&sum);
}

static uint64_t
resident(uint64_t size, char *extra, size_t len)
{
	uint64_t *pids = malloc(size * sizeof(*pids));
	long before, after;

	if (pids == NULL) {
		atomic_fetch_add(&failures, 1);
		return 0;
	}
	/* The PIDs main releases by: touched before the first sample, so
	 * that the figure stays the actors' own cost. */
	memset(pids, 0, size * sizeof(*pids));
	before = rss_bytes();
	spawn_parked(pids, 0, size);
	/* At rest: the same settling time for every system (run.sh). */
	usleep(RESIDENT_SETTLE_MS * 1000);
	after = rss_bytes();
	snprintf(extra, len, "rss_per_actor_bytes=%ld",
	    (after - before) / (long)size);
	return release_parked(pids, size);
}

/* ---- skynet-msg ---- */

struct sky_node {
	uint64_t parent;		/* 0: the root, which has no parent */
	uint64_t index;
	uint32_t depth, leaf_depth;
};

/* A leaf sends its index to its parent; any other node spawns 10
 * children and sends on the sum of what they send back. */
static void
sky_node(const void *arg)
{
	const struct sky_node *self = arg;
	uint64_t total = self->index, v;

	if (self->depth < self->leaf_depth) {
		struct sky_node child = { snow_actor_self(), 0,
		    self->depth + 1, self->leaf_depth };
		int i, n = 0;

		for (i = 0; i < 10; i++) {
			child.index = self->index * 10 + (uint64_t)i;
			if (spawn_or_count(sky_node, &child,
			    sizeof(child)) != 0)
				n++;
		}
		total = 0;
		for (i = 0; i < n && receive_u64(&v) > 0; i++)
			total += v;
	}
	if (self->parent != 0)
		send_u64(self->parent, total);
	else
		sum_set(total);
}

static uint64_t
skynet_msg(uint64_t size, char *extra, size_t len)
{
	struct sky_node root = { 0, 0, 0, 0 };

	(void)extra;
	(void)len;
	for (uint64_t n = size; n > 1; n /= 10)
		root.leaf_depth++;
	spawn_or_count(sky_node, &root, sizeof(root));
	snow_rt_run_scheduler();
	return atomic_load(&sum);
}

/* ---- ping-pong ---- */

/* Answers every n with n + 1, until a stop. */
static void
pong_actor(const void *arg)
{
	uint64_t pinger = *(const uint64_t *)arg, v;

	while (receive_u64(&v) > 0)
		send_u64(pinger, v + 1);
}

/* The root: bounces a counter off the ponger size times (round trips). */
static void
ping_actor(const void *arg)
{
	uint64_t size = *(const uint64_t *)arg, self = snow_actor_self();
	uint64_t ponger, trips, v = 0;

	ponger = spawn_or_count(pong_actor, &self, sizeof(self));
	if (ponger == 0)
		return;
	for (trips = 0; trips < size; trips++) {
		send_u64(ponger, trips);
		if (receive_u64(&v) <= 0 || v != trips + 1) {
			fprintf(stderr, "ping-pong: sent %llu got %llu\n",
			    (unsigned long long)trips, (unsigned long long)v);
			atomic_fetch_add(&failures, 1);
			break;
		}
	}
	send_stop(ponger);
	sum_set(trips);
}

static uint64_t
ping_pong(uint64_t size, char *extra, size_t len)
{
	(void)extra;
	(void)len;
	spawn_or_count(ping_actor, &size, sizeof(size));
	snow_rt_run_scheduler();
	return atomic_load(&sum);
}

/* ---- ring ---- */

#define RING_ACTORS 1000

/*
 * Passes on the token, the number of hops still to go, counting the hops
 * it forwards.  The node that gets 0 sends a stop round the ring; each
 * node forwards it and ends (the last one lands on an ended node and is
 * dropped).
 */
static void
ring_loop(uint64_t next, uint64_t hops)
{
	uint64_t t;
	int r;

	while ((r = receive_u64(&t)) > 0) {
		if (t == 0) {
			send_stop(next);
		} else {
			send_u64(next, t - 1);
			hops++;
		}
	}
	if (r == 0)
		send_stop(next);
	sum_add(hops);
}

static void
ring_node(const void *arg)
{
	ring_loop(*(const uint64_t *)arg, 0);
}

/* The first node: spawns the others, each given the PID of the one
 * spawned before it (the first's own for the first of them), so that the
 * ring closes on itself; then takes the token, size, and forwards it. */
static void
ring_first(const void *arg)
{
	uint64_t size = *(const uint64_t *)arg, next = snow_actor_self();

	for (int i = 1; i < RING_ACTORS; i++) {
		uint64_t pid = spawn_or_count(ring_node, &next, sizeof(next));

		if (pid == 0)
			break;
		next = pid;
	}
	send_u64(next, size - 1);
	ring_loop(next, 1);
}

static uint64_t
ring(uint64_t size, char *extra, size_t len)
{
	(void)extra;
	(void)len;
	spawn_or_count(ring_first, &size, sizeof(size));
	snow_rt_run_scheduler();
	return atomic_load(&sum);
}

/* ---- service-call ---- */

/* Answers each call [tag][caller][u64 n] with n + 1; tag 0 stops it. */
static void
service_actor(const void *arg)
{
	const struct snow_msg *m;
	uint64_t tag, caller, n;

	(void)arg;
	while ((m = snow_actor_receive(-1)) != NULL) {
		if (m->tag != SNOW_MSG_CALL || m->len != 24)
			continue;
		memcpy(&tag, m->data, 8);
		memcpy(&caller, m->data + 8, 8);
		memcpy(&n, m->data + 16, 8);
		n++;
		snow_service_reply(caller, &n, sizeof(n));
		if (tag == 0)
			return;
	}
}

/* The root: size calls, each waiting for its own reply. */
static void
caller_actor(const void *arg)
{
	uint64_t size = *(const uint64_t *)arg, svc, calls, v = 0;
	const struct snow_msg *m;

	svc = spawn_or_count(service_actor, NULL, 0);
	if (svc == 0)
		return;
	for (calls = 0; calls < size; calls++) {
		m = snow_service_call(svc, calls + 1 < size, &calls,
		    sizeof(calls));
		if (m == NULL || m->len != 8 ||
		    (memcpy(&v, m->data, 8), v != calls + 1)) {
			fprintf(stderr, "service-call: call %llu got %llu\n",
			    (unsigned long long)calls, (unsigned long long)v);
			atomic_fetch_add(&failures, 1);
			break;
		}
	}
	sum_set(calls);
}

static uint64_t
service_call(uint64_t size, char *extra, size_t len)
{
	(void)extra;
	(void)len;
	spawn_or_count(caller_actor, &size, sizeof(size));
	snow_rt_run_scheduler();
	return atomic_load(&sum);
}

/* ---- sup-restart ---- */

/* The supervised child: tells the root it is up, then waits to fail. */
static void
restart_kid(const void *arg)
{
	send_u64(*(const uint64_t *)arg, snow_actor_self());
	(void)snow_actor_receive(-1);
}

/* The root: starts a one_for_one supervisor of one permanent child and
 * fails that child size times, each time waiting for its restart. */
static void
restart_root(const void *arg)
{
	uint64_t size = *(const uint64_t *)arg, self = snow_actor_self();
	struct snow_child_spec kid = { .id = "kid", .start = restart_kid,
	    .args = &self, .args_size = sizeof(self),
	    .restart = SNOW_RESTART_PERMANENT,
	    .shutdown = SNOW_SHUTDOWN_BRUTAL };
	struct snow_sup_spec spec = { SNOW_SUP_ONE_FOR_ONE,
	    (uint32_t)(size + 1), 100000, 1, &kid };
	uint64_t sup, pid, restarts;

	sup = snow_supervisor_start_spec(&spec);
	if (sup == UINT64_MAX || receive_u64(&pid) <= 0) {
		atomic_fetch_add(&failures, 1);
		return;
	}
	for (restarts = 0; restarts < size; restarts++) {
		snow_actor_exit(pid, SNOW_EXIT_ERROR);
		if (receive_u64(&pid) <= 0) {
			atomic_fetch_add(&failures, 1);
			break;
		}
	}
	snow_actor_exit(sup, SNOW_EXIT_SHUTDOWN);
	sum_set(restarts);
}

static uint64_t
sup_restart(uint64_t size, char *extra, size_t len)
{
	(void)extra;
	(void)len;
	spawn_or_count(restart_root, &size, sizeof(size));
	snow_rt_run_scheduler();
	return atomic_load(&sum);
}

/* ---- overload ---- */

/*
 * Pony's "overload" example: size senders send as fast as they can to one
 * receiver for OVERLOAD_MS (run.sh sets it for every system; 2000 when
 * unset), then each sends a done (an empty message) and ends.  The
 * receiver works a little on every message, so that it is the slower side
 * and the load piles up at its mailbox: what a runtime does there
 * (unbounded growth, blocked senders, descheduled senders) is what this
 * measures, with the messages received per second and the peak RSS.
 */
#define OVERLOAD_DEFAULT_MS 2000
/* Rounds of overload_work() per message: about 50 ns here in C. */
#define OVERLOAD_ROUNDS 14

static atomic_int overload_stop;
static _Atomic uint64_t overload_sent;
static _Atomic uint64_t overload_received;
/* Where the receiver's work goes, so that the compiler keeps it. */
static volatile uint64_t overload_sink;

/*
 * The receiver's work on each message, the same in every peer: rounds of
 * the Park-Miller generator, whose products stay below 2^47 so that
 * Erlang's integers stay small (a 64-bit mix would make it allocate).
 */
static uint64_t
overload_work(uint64_t v)
{
	uint64_t x = v % 2147483646 + 1;

	for (int i = 0; i < OVERLOAD_ROUNDS; i++)
		x = x * 48271 % 2147483647;
	return x;
}

static void
overload_sender(const void *arg)
{
	uint64_t receiver = *(const uint64_t *)arg, n = 0;

	while (!atomic_load_explicit(&overload_stop, memory_order_relaxed)) {
		send_u64(receiver, n);
		n++;
		/* Where compiled code checks: at the loop's back-edge. */
		snow_reduction_check();
	}
	/* Counted before the done, which the receiver ends on. */
	atomic_fetch_add(&overload_sent, n);
	send_stop(receiver);
}

/* Counts the data messages until every sender's done has come. */
static void
overload_receiver(const void *arg)
{
	uint64_t senders = *(const uint64_t *)arg, dones = 0, got = 0;
	uint64_t acc = 0, v;
	int r;

	while (dones < senders && (r = receive_u64(&v)) >= 0) {
		if (r == 0) {
			dones++;
		} else {
			got++;
			acc ^= overload_work(v);
		}
	}
	overload_sink = acc;
	atomic_store(&overload_received, got);
}

static uint64_t
overload(uint64_t size, char *extra, size_t len)
{
	const char *env = getenv("OVERLOAD_MS");
	uint64_t ms = OVERLOAD_DEFAULT_MS, receiver, got;
	struct timespec run;
	double t0, t1;

	if (env != NULL && (parse_u64(env, &ms) != 0 || ms == 0)) {
		fprintf(stderr, "overload: bad OVERLOAD_MS \"%s\"\n", env);
		atomic_fetch_add(&failures, 1);
		return 0;
	}
	run.tv_sec = (time_t)(ms / 1000);
	run.tv_nsec = (long)(ms % 1000) * 1000000;
	t0 = now_ns();
	receiver = spawn_or_count(overload_receiver, &size, sizeof(size));
	for (uint64_t i = 0; receiver != 0 && i < size; i++)
		spawn_or_count(overload_sender, &receiver, sizeof(receiver));
	while (nanosleep(&run, &run) != 0 && errno == EINTR)
		;
	atomic_store(&overload_stop, 1);
	snow_rt_run_scheduler();
	t1 = now_ns();
	got = atomic_load(&overload_received);
	/* Over the whole run, the receiver's draining of its backlog after
	 * the stop included, as in the peers. */
	snprintf(extra, len, "msgs_per_sec=%.0f", (double)got * 1e9 / (t1 - t0));
	if (got != atomic_load(&overload_sent)) {
		fprintf(stderr, "overload: %llu sent, %llu received\n",
		    (unsigned long long)atomic_load(&overload_sent),
		    (unsigned long long)got);
		return 0;
	}
	return size;
}

/* ---- scale ---- */

/*
 * Parked actors from 10^4 up to size (a power of ten): at each power of
 * ten the cost of the spawns since the last one (spawned until each has
 * parked, per actor) and the RSS per actor of all of them at rest.  The
 * actors are resident's.  At rest means what resident waits for,
 * RESIDENT_SETTLE_MS, and then until the RSS stops falling: a million
 * actors take seconds to hibernate, which the figure is meant to include.
 * The peers sample the same way.
 */
#define SCALE_FIRST 10000
#define SCALE_POLL_MS 250
#define SCALE_SETTLE_MAX_MS 20000

static long
scale_rss_at_rest(void)
{
	long rss, last;
	int waited;

	usleep(RESIDENT_SETTLE_MS * 1000);
	rss = rss_bytes();
	for (waited = 0; waited < SCALE_SETTLE_MAX_MS;
	    waited += SCALE_POLL_MS) {
		usleep(SCALE_POLL_MS * 1000);
		last = rss;
		rss = rss_bytes();
		/* Less than 1% given back in a poll: settled. */
		if (rss > last - last / 100)
			break;
	}
	return rss;
}

static uint64_t
scale(uint64_t size, char *extra, size_t len)
{
	uint64_t *pids = malloc(size * sizeof(*pids));
	uint64_t n, from, spawned = 0;
	size_t used = 0;
	long before, rss;
	double t0, t1;

	if (pids == NULL) {
		atomic_fetch_add(&failures, 1);
		return 0;
	}
	/* As resident: the release list is not the actors' cost. */
	memset(pids, 0, size * sizeof(*pids));
	before = rss_bytes();
	for (n = size < SCALE_FIRST ? size : SCALE_FIRST; n <= size; n *= 10) {
		from = spawned;
		t0 = now_ns();
		spawn_parked(pids, from, n);
		spawned = n;
		t1 = now_ns();
		rss = scale_rss_at_rest();
		used += (size_t)snprintf(extra + used, len - used,
		    "%sn=%llu:ns_per_spawn=%.0f:bytes_per_actor=%ld",
		    used > 0 ? ";" : "", (unsigned long long)n,
		    (t1 - t0) / (double)(n - from),
		    (rss - before) / (long)n);
		if (used >= len)
			break;
	}
	return release_parked(pids, spawned);
}

static const struct workload workloads[] = {
	{ "spawn-tree", 1000000, 1, spawn_tree, triangular, 0 },
	{ "spawn-flat", 1000000, 0, spawn_flat, identity, 0 },
	{ "yield-storm", 10000000, 0, yield_storm, identity, 0 },
	{ "resident", 100000, 0, resident, identity, 0 },
	{ "skynet-msg", 1000000, 1, skynet_msg, triangular, 0 },
	{ "ping-pong", 1000000, 0, ping_pong, identity, 2 },
	{ "ring", 10000000, 0, ring, identity, 0 },
	{ "service-call", 1000000, 0, service_call, identity, 0 },
	{ "sup-restart", 100000, 0, sup_restart, identity, 0 },
	{ "overload", 1000, 0, overload, identity, 0 },
	{ "scale", 1000000, 1, scale, identity, 0 },
};

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
	char extra[512] = "";
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
	atomic_store(&sum_target, w->expect(size));
	t0 = now_ns();
	check = w->run(size, extra, sizeof(extra));
	t1 = now_ns();
	if (atomic_load(&result_ns) != 0)
		t1 = (double)atomic_load(&result_ns);
	snow_rt_stats(&st);
	if (st.blocked_ended != 0)
		fprintf(stderr, "%s: %llu actors still waiting at the end\n",
		    w->name, (unsigned long long)st.blocked_ended);
	if (atomic_load(&failures) != 0)
		fprintf(stderr, "%s: %llu spawns, sends or receives failed\n",
		    w->name, (unsigned long long)atomic_load(&failures));
	ok = check == w->expect(size) && atomic_load(&failures) == 0 &&
	    st.blocked_ended == 0;
	/* As the peers: two messages per round trip, over the elapsed time. */
	if (w->msgs_per_check > 0 && t1 > t0)
		snprintf(extra, sizeof(extra), "msgs_per_sec=%.0f",
		    (double)(w->msgs_per_check * check) * 1e9 / (t1 - t0));
	printf("workload=%s workers=%u size=%llu check=%llu ok=%d "
	    "elapsed_ns=%.0f%s%s\n", w->name, st.workers,
	    (unsigned long long)size, (unsigned long long)check, ok, t1 - t0,
	    extra[0] ? " extra=" : "", extra);
	return ok ? 0 : 1;
}
