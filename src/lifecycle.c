/*
 * Starting and stopping the runtime: building the workers and tables,
 * waiting for quiescence at shutdown, ending actors blocked for ever,
 * and the counters kept after it; see lifecycle.h.
 */
#include "config.h"

#include <errno.h>
#include <linux/futex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>

#include "actor.h"
#include "fault.h"
#include "hibernate.h"
#include "io.h"
#include "lifecycle.h"
#include "mainproc.h"
#include "scheduler.h"

#define SN_DEQUE_LOG2	8	/* initial deque size, grows on demand */
#define SN_FIFO_LOG2	12
#define SN_GLOBAL_LOG2	16
#define SN_PRIO_LOG2	12

/* Counters of the last runtime, kept for snow_rt_stats() after shutdown. */
static struct snow_rt_stats last_stats;
static pthread_mutex_t stats_lock = PTHREAD_MUTEX_INITIALIZER;

/* ---- Start and stop ---- */

static int
worker_init(struct sn_worker *w, unsigned id)
{
	int err;

	memset(w, 0, sizeof(*w));
	w->id = id;
	w->rng = 0x9e3779b97f4a7c15ull * (id + 1);
	w->watching = UINT64_MAX;
	err = sn_deque_init(&w->dq, SN_DEQUE_LOG2);
	if (err != 0)
		return err;
	err = sn_runq_init(&w->fifo, SN_FIFO_LOG2);
	if (err != 0) {
		sn_deque_destroy(&w->dq);
		return err;
	}
	w->hib_batch = malloc(SN_HIB_BATCH * sizeof(*w->hib_batch));
	if (w->hib_batch == NULL) {
		sn_runq_destroy(&w->fifo);
		sn_deque_destroy(&w->dq);
		return ENOMEM;
	}
	sn_timers_init(&w->timers);
	return 0;
}

static void
worker_destroy(struct sn_worker *w)
{
	free(w->hib_batch);
	w->hib_batch = NULL;
	free(w->bp_spare);
	w->bp_spare = NULL;
	sn_timers_destroy(&w->timers);
	sn_runq_destroy(&w->fifo);
	sn_deque_destroy(&w->dq);
}

/* outside: spawns by threads that are not workers, counted in spawned. */
static void
stats_collect(struct snow_rt_stats *out, int64_t outside)
{
	unsigned i;

	memset(out, 0, sizeof(*out));
	out->spawned = (uint64_t)outside;
	out->workers = sn_rt.nworkers;
	out->stacks_mapped = sn_load(&sn_rt.pool.mapped);
	out->sent = sn_load(&sn_rt.outside_sent);
	out->dropped = sn_load(&sn_rt.outside_dropped);
	out->blocked_ended = sn_load(&sn_rt.blocked_ended);
	for (i = 0; i < sn_rt.nworkers; i++) {
		struct sn_worker *w = &sn_rt.workers[i];
		uint64_t switches = sn_load(&w->n_switches);

		out->spawned += sn_load(&w->n_spawned);
		out->exited += sn_load(&w->n_exited);
		out->switches += switches;
		out->preemptions += sn_load(&w->n_preempted);
		out->steals += sn_load(&w->n_steals);
		out->sent += sn_load(&w->n_sent);
		out->dropped += sn_load(&w->n_dropped);
		out->hibernations += sn_load(&w->n_hibernated);
		out->mutes += sn_load(&w->n_muted);
		out->workers_used += switches != 0;
	}
}

void
sn_sched_stats(struct snow_rt_stats *out)
{
	pthread_mutex_lock(&stats_lock);
	if (atomic_load(&sn_rt.state) == SN_RT_DOWN)
		*out = last_stats;
	else	/* outside spawns in flight count too, until refused */
		stats_collect(out, sn_load(&sn_rt.outside_live));
	pthread_mutex_unlock(&stats_lock);
}

/* Free what sn_sched_start() built; no worker may be running. */
static void
teardown(unsigned nworkers)
{
	unsigned i;

	/* First: a pool thread that readied an actor last may still be on
	 * its way out of the queues freed below. */
	sn_blocking_fini(&sn_rt.blocking);
	for (i = 0; i < nworkers; i++)
		worker_destroy(&sn_rt.workers[i]);
	free(sn_rt.workers);
	sn_rt.workers = NULL;
	sn_runq_destroy(&sn_rt.high);
	sn_runq_destroy(&sn_rt.normal);
	sn_runq_destroy(&sn_rt.low);
	sn_pool_destroy(&sn_rt.pool);
	sn_io_fini();
	if (sn_rt.tables) {
		sn_inbox_destroy(&sn_rt.timer_inbox);
		sn_names_destroy(&sn_rt.names);
		sn_ptable_destroy(&sn_rt.ptable);
		sn_rt.tables = false;
	}
}

static int
tables_init(void)
{
	int err = sn_ptable_init(&sn_rt.ptable);

	if (err != 0)
		return err;
	if ((err = sn_names_init(&sn_rt.names)) != 0) {
		sn_ptable_destroy(&sn_rt.ptable);
		return err;
	}
	if ((err = sn_inbox_init(&sn_rt.timer_inbox)) != 0) {
		sn_names_destroy(&sn_rt.names);
		sn_ptable_destroy(&sn_rt.ptable);
		return err;
	}
	sn_rt.tables = true;
	return 0;
}

static void
join_workers(unsigned n)
{
	unsigned i;

	atomic_store(&sn_rt.stop, true);
	sn_sched_wake_all();
	for (i = 0; i < n; i++)
		if (sn_rt.workers[i].started)
			pthread_join(sn_rt.workers[i].thread, NULL);
	/* The blocks the workers' message lists passed to one another. */
	sn_msg_depot_drain();
}

static int
build(unsigned nworkers, size_t stack_size, unsigned *made)
{
	unsigned i;
	int err;

	*made = 0;
	sn_rt.workers = aligned_alloc(SN_CACHELINE,
	    sizeof(*sn_rt.workers) * nworkers);
	if (sn_rt.workers == NULL)
		return ENOMEM;
	sn_io_init();
	if ((err = sn_blocking_init(&sn_rt.blocking)) != 0 ||
	    (err = tables_init()) != 0 ||
	    (err = sn_pool_init(&sn_rt.pool, stack_size,
	    sn_sched_proc_main)) != 0 ||
	    (err = sn_runq_init(&sn_rt.high, SN_PRIO_LOG2)) != 0 ||
	    (err = sn_runq_init(&sn_rt.normal, SN_GLOBAL_LOG2)) != 0 ||
	    (err = sn_runq_init(&sn_rt.low, SN_PRIO_LOG2)) != 0)
		return err;
	for (i = 0; i < nworkers; i++) {
		err = worker_init(&sn_rt.workers[i], i);
		if (err != 0)
			return err;
		*made = i + 1;
	}
	return 0;
}

static int
start_workers(unsigned nworkers)
{
	sigset_t mask, saved;
	unsigned i;
	int err = 0;

	/* A new thread inherits the mask of the one that creates it. */
	sn_ctx_actor_sigmask(&mask);
	pthread_sigmask(SIG_BLOCK, &mask, &saved);
	for (i = 0; err == 0 && i < nworkers; i++) {
		struct sn_worker *w = &sn_rt.workers[i];

		err = pthread_create(&w->thread, NULL, sn_sched_worker_main, w);
		w->started = err == 0;
	}
	pthread_sigmask(SIG_SETMASK, &saved, NULL);
	return err;
}

/* Until every worker has set itself up (see worker_ready() in
 * scheduler.c): init returns with workers that pick at once. */
static void
wait_workers_ready(unsigned nworkers)
{
	uint32_t ready;

	while ((ready = atomic_load(&sn_rt.workers_ready)) < nworkers)
		syscall(SYS_futex, &sn_rt.workers_ready, FUTEX_WAIT_PRIVATE,
		    ready, NULL, NULL, 0);
}

/* SNOW_HIBERNATE=0: actors do not hibernate unless they ask to.
 * 0, 1, or -1 for anything but "0", "1" or nothing. */
static int
hib_default_from_env(void)
{
	const char *v = getenv("SNOW_HIBERNATE");

	if (v == NULL || *v == '\0' || strcmp(v, "1") == 0)
		return 1;
	return strcmp(v, "0") == 0 ? 0 : -1;
}

/*
 * SNOW_MAILBOX_LIMIT: messages an actor's mailbox may hold before actors
 * sending to it are muted (backpressure.h); 0 turns muting off.  Digits
 * only, at most SNOW_MAILBOX_LIMIT_MAX; 0 on success, else EINVAL.
 */
static int
mbox_limit_from_env(uint32_t *out)
{
	const char *v = getenv("SNOW_MAILBOX_LIMIT");
	unsigned long long n = 0;

	*out = SNOW_MAILBOX_LIMIT_DEFAULT;
	if (v == NULL || *v == '\0')
		return 0;
	for (; *v != '\0'; v++) {
		if (*v < '0' || *v > '9')
			return EINVAL;
		n = n * 10 + (unsigned long long)(*v - '0');
		if (n > SNOW_MAILBOX_LIMIT_MAX)
			return EINVAL;
	}
	*out = (uint32_t)n;
	return 0;
}

int
sn_sched_start(unsigned nworkers, unsigned ncpus, size_t stack_size)
{
	unsigned made;
	bool faults = false;
	int err, hib;

	if ((hib = hib_default_from_env()) < 0 ||
	    mbox_limit_from_env(&sn_rt.mbox_limit) != 0)
		return EINVAL;
	sn_rt.hib_default = (uint8_t)hib;

	/* Field by field: state may be read by a spawn on another thread. */
	sn_rt.workers = NULL;
	atomic_store(&sn_rt.main_pid, 0);
	sn_rt.main_proc = NULL;
	sn_rt.idle_head = NULL;
	/*
	 * Not outside_live nor outside_busy: a thread racing this start may
	 * have counted itself in already (it then sees the state and counts
	 * itself out again), and a reset between the two would leave the
	 * count one short for the whole life of this runtime, so that
	 * shutdown would not wait for an actor.  They are balanced at rest:
	 * shutdown takes out what this runtime's spawns added.
	 */
	atomic_store(&sn_rt.outside_sent, 0);
	atomic_store(&sn_rt.outside_dropped, 0);
	atomic_store(&sn_rt.blocked_ended, 0);
	atomic_store(&sn_rt.sweeping, 0);
	atomic_store(&sn_rt.hib_wanted, false);
	atomic_store(&sn_rt.nidle, 0);
	atomic_store(&sn_rt.nspinning, 0);
	atomic_store(&sn_rt.stop, false);
	atomic_store(&sn_rt.workers_ready, 0);
	atomic_store(&sn_rt.watch_due, UINT64_MAX);
	sn_rt.nworkers = nworkers;
	sn_rt.spin_max = ncpus < nworkers ? ncpus : nworkers;
	if (sn_rt.spin_max == 0)
		sn_rt.spin_max = 1;
	err = build(nworkers, stack_size, &made);
	if (err == 0)
		err = sn_mainproc_open();
	if (err == 0 && (err = sn_fault_install()) == 0)
		faults = true;
	if (err == 0)
		err = start_workers(nworkers);
	if (err != 0) {
		if (sn_rt.workers != NULL)
			join_workers(made);
		if (faults)
			sn_fault_remove();
		sn_mainproc_close();
		teardown(made);
		sn_rt.nworkers = 0;
		return err;
	}
	wait_workers_ready(nworkers);
	sn_sched_new_generation();
	atomic_store(&sn_rt.state, SN_RT_RUNNING);
	return 0;
}

static int64_t
timers_live(void)
{
	int64_t live = 0;
	unsigned i;

	for (i = 0; i < sn_rt.nworkers; i++)
		live += atomic_load(&sn_rt.workers[i].timers.live);
	return live;
}

/* A timer that can do nothing: a stale wake-up, or a message to a PID
 * that is not alive, which it can never be again (PIDs are not reused). */
static int
timer_useless(const struct sn_timer *tm)
{
	struct sn_pt_shard *held;

	if (tm->kind != SN_TIMER_SEND)
		return sn_actor_timer_stale(tm);
	if (sn_ptable_lock(&sn_rt.ptable, tm->u.send.pid, &held) == NULL)
		return 1;
	sn_ptable_unlock(held);
	return 0;
}

/*
 * Drop the timers that cannot do anything, so that a message sent after
 * a long delay to an actor that ended does not hold shutdown up; they are
 * counted as dropped, as they would have been when they fired.
 */
static void
timers_prune(void)
{
	size_t dropped = 0;
	unsigned i;

	for (i = 0; i < sn_rt.nworkers; i++)
		dropped += sn_timers_sweep(&sn_rt.workers[i].timers,
		    timer_useless, true);
	atomic_fetch_add(&sn_rt.outside_dropped, dropped);
}

/*
 * True when no actor can ever run again on its own: every worker sleeps,
 * no queue holds an actor and no timer will do anything.  A worker that
 * set a timer and went to sleep while we looked bumped the epoch, so a
 * check that saw the epoch unchanged saw a consistent picture; and a
 * worker leaves the idle list before it fires a timer, so a timer seen
 * gone was fired by a worker seen awake.
 */
static bool
all_blocked(void)
{
	uint64_t epoch = atomic_load(&sn_rt.park_epoch);

	/* An outside send in flight may be about to wake one of them. */
	if (atomic_load(&sn_rt.timer_inbox.count) != 0 ||
	    atomic_load(&sn_rt.sweeping) != 0 ||
	    atomic_load(&sn_rt.outside_busy) != 0)
		return false;
	if (atomic_load(&sn_rt.nidle) != sn_rt.nworkers || sn_sched_work_visible())
		return false;
	if (timers_live() != 0 && (timers_prune(), timers_live() != 0))
		return false;
	/* The world outside may still wake an actor on a descriptor, and
	 * a blocking call end. */
	if (sn_poller_active(&sn_rt.poller) || sn_blocking_busy(&sn_rt.blocking))
		return false;
	return atomic_load(&sn_rt.nidle) == sn_rt.nworkers &&
	    !sn_sched_work_visible() && atomic_load(&sn_rt.park_epoch) == epoch;
}

/*
 * Every actor of this runtime has exited, so the outside spawns it took
 * are the exits that no worker's spawn count explains: take them out of
 * outside_live, which then holds only the spawns in flight right now
 * (each turned away, and about to take itself out).
 */
static int64_t
outside_settle(void)
{
	uint64_t spawned = 0, exited = 0;
	unsigned i;

	for (i = 0; i < sn_rt.nworkers; i++) {
		spawned += sn_load(&sn_rt.workers[i].n_spawned);
		exited += sn_load(&sn_rt.workers[i].n_exited);
	}
	atomic_fetch_sub(&sn_rt.outside_live, (int64_t)(exited - spawned));
	return (int64_t)(exited - spawned);
}

/*
 * End the actors that wait for ever, if nothing can run any more.  It
 * takes table and timer locks, so signals are held off meanwhile: a
 * handler that sends on this thread would wait for a lock it holds.
 */
static void
end_blocked(void)
{
	sigset_t all, saved;
	uint64_t ended = 0;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &saved);
	if (all_blocked())
		ended = sn_actor_end_blocked();
	pthread_sigmask(SIG_SETMASK, &saved, NULL);
	if (ended == 0)
		return;
	atomic_fetch_add(&sn_rt.blocked_ended, ended);
	fprintf(stderr, "snow-rt: %llu actor%s waited in a receive or sleep "
	    "with no timeout while nothing in the runtime could wake %s; "
	    "ended with reason killed%s\n", (unsigned long long)ended,
	    ended == 1 ? "" : "s", ended == 1 ? "it" : "them",
	    atomic_load(&sn_rt.outside_sent) != 0 ?
	    " (threads outside the runtime sent messages during this run: "
	    "sends after snow_rt_run_scheduler() began may come too late)" :
	    "");
}

/* Wait for every actor to exit, ending those that wait for ever. */
static void
wait_idle(void)
{
	uint32_t seq;

	for (;;) {
		seq = atomic_load(&sn_rt.done_seq);
		atomic_thread_fence(memory_order_seq_cst);
		if (sn_sched_quiescent())
			return;
		end_blocked();
		atomic_fetch_add(&sn_rt.done_waiters, 1);
		if (atomic_load(&sn_rt.done_seq) == seq)
			syscall(SYS_futex, &sn_rt.done_seq, FUTEX_WAIT_PRIVATE,
			    seq, NULL, NULL, 0);
		atomic_fetch_sub(&sn_rt.done_waiters, 1);
	}
}

int
sn_sched_stop(void)
{
	unsigned n = sn_rt.nworkers;

	wait_idle();
	/* From here outside threads are turned away; wait for any whose
	 * spawn got in just before. */
	atomic_store(&sn_rt.state, SN_RT_STOPPING);
	wait_idle();
	join_workers(n);
	sn_fault_remove();
	sn_mainproc_close();	/* no actor is left to send to it */

	/* The last counts are exact: no spawn in flight is among them. */
	pthread_mutex_lock(&stats_lock);
	stats_collect(&last_stats, outside_settle());
	atomic_store(&sn_rt.state, SN_RT_DOWN);
	pthread_mutex_unlock(&stats_lock);
	teardown(n);
	atomic_store(&sn_rt.main_pid, 0);
	sn_rt.nworkers = 0;
	return 0;
}
