/*
 * Misuse of the process around the runtime: a fork while it runs (the
 * child's calls fail, none hangs), pthread_exit() in an actor (aborts
 * with a message), calls from signal handlers (EDEADLK, not a deadlock),
 * and the line that names outside senders an actor waits on at shutdown.
 * Split from check_edges.c.  tests/check_misuse.c holds the API's own
 * misuse (calls outside actors, before init, bad arguments).
 *
 * Misuse that kills or hangs a process runs in a forked child with an
 * alarm, so the suite also passes with CK_FORK=no.
 *
 * Environment: SNOW_TEST_SCALE_DOWN=1 (also implied under valgrind and
 * ThreadSanitizer) lowers round counts; the checks stay.
 */
#include "config.h"

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <snow/runtime.h>

#include "run_child.h"
#include "run_suite.h"
#include "snow_ok.h"
#include "test_env.h"

#if UNDER_TSAN
/* signal_handlers_get_edeadlk_not_a_deadlock calls the runtime from a
 * signal handler on purpose, to show what the runtime does about it. */
const char *__tsan_default_options(void);
const char *
__tsan_default_options(void)
{
	return "report_signal_unsafe=0";
}
#endif

#define TIMEOUT 240

static void
nop_actor(const void *arg)
{
	(void)arg;
}

/* Waits for a message that never comes: ended as blocked at shutdown. */
static void
forever_actor(const void *arg)
{
	(void)arg;
	(void)snow_actor_receive(-1);
}

static void
fork_child_calls(void)
{
	uint64_t pid;
	int code = 0;

	pid = snow_actor_spawn(nop_actor, NULL, 0, SNOW_PRIO_NORMAL);
	if (pid != 0 || errno != EPERM)
		code |= 1;
	if (snow_actor_send(1, "x", 1) != EPERM)
		code |= 2;
	if (snow_rt_run_scheduler() != EPERM)	/* it once waited for ever */
		code |= 4;
	if (snow_rt_init_actor(1) != ENOTRECOVERABLE)
		code |= 8;
	_exit(code);
}

START_TEST(fork_while_running_fails_in_the_child)
{
	char err[4096];
	uint64_t pid;
	int status;

	init_ok(2);
	pid = spawn_ok(forever_actor, NULL, 0, SNOW_PRIO_NORMAL);
	status = run_child(fork_child_calls, 20, err, sizeof(err));
	ck_assert_int_eq(snow_actor_kill(pid), 0);
	run_ok();
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "forked child: status %#x (exit code bits: 1 spawn, 2 send, "
	    "4 run, 8 init; SIGALRM %d: it hung)", status, SIGALRM);
}
END_TEST

static void
exiting_actor(const void *arg)
{
	(void)arg;
	pthread_exit(NULL);
}

static void
pthread_exit_child(void)
{
	if (snow_rt_init_actor(2) != 0)
		_exit(10);
	if (snow_actor_spawn(exiting_actor, NULL, 0, SNOW_PRIO_NORMAL) == 0)
		_exit(11);
	(void)snow_rt_run_scheduler();
	_exit(12);	/* it ran on without the worker */
}

/* A worker thread ended under an actor: said, and aborted, not a hang. */
START_TEST(pthread_exit_in_an_actor_aborts_with_a_message)
{
	char err[4096];
	int status;

	status = run_child(pthread_exit_child, 30, err, sizeof(err));
	if (UNDER_TSAN) {
		/* ThreadSanitizer's own pthread_exit() stops the process
		 * first (exit status 66, "CHECK failed"): it cannot end a
		 * thread while a fiber is current.  Still no hang, and no
		 * run on without the worker. */
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 66,
		    "child status %#x, stderr: %s", status, err);
		ck_assert_msg(strstr(err, "pthread_exit") != NULL ||
		    strstr(err, "exiting_actor") != NULL, "stderr: %s", err);
		return;
	}
	ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT,
	    "child status %#x, stderr: %s", status, err);
	ck_assert_msg(strstr(err, "pthread_exit") != NULL, "stderr: %s", err);
}
END_TEST

static _Atomic uint64_t sig_target;
static _Atomic long sig_ok, sig_deadlk, sig_bad, sig_elsewhere;
static pthread_t sig_thread;	/* the only thread not blocking SIGALRM */

static void
sig_sender(int sig)
{
	int saved = errno, err;

	(void)sig;
	/* On a worker it would interrupt an actor, even inside malloc: with
	 * the ucontext switch, actors made by this thread once ran with its
	 * mask, and the handler's send corrupted the heap (1 run in 30). */
	if (!pthread_equal(pthread_self(), sig_thread))
		atomic_fetch_add(&sig_elsewhere, 1);
	err = snow_actor_send(atomic_load(&sig_target), "s", 1);
	if (err == 0)
		atomic_fetch_add(&sig_ok, 1);
	else if (err == EDEADLK)
		atomic_fetch_add(&sig_deadlk, 1);
	else
		atomic_fetch_add(&sig_bad, 1);
	errno = saved;
}

static _Atomic long sig_taken, sig_nops_done;

static void
sig_sink(const void *arg)
{
	const struct snow_msg *m;

	(void)arg;
	while ((m = snow_actor_receive(-1)) != NULL && m->data[0] != 'q')
		atomic_fetch_add_explicit(&sig_taken, 1, memory_order_relaxed);
}

static void
sig_nop(const void *arg)
{
	(void)arg;
	atomic_fetch_add_explicit(&sig_nops_done, 1, memory_order_relaxed);
}

/*
 * Threads of this process, but the caller, that do not block sig in the
 * kernel's view (/proc/self/task/N/status, SigBlk); -1 if unreadable.
 */
static int
threads_not_blocking(int sig)
{
	char path[300], line[256];
	struct dirent *e;
	int open_to = 0;
	pid_t self = (pid_t)syscall(SYS_gettid);
	DIR *d = opendir("/proc/self/task");

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		unsigned long long mask;
		FILE *f;

		if (e->d_name[0] == '.' || atoi(e->d_name) == self)
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/status",
		    e->d_name);
		if ((f = fopen(path, "r")) == NULL)
			continue;	/* the thread ended meanwhile */
		while (fgets(line, sizeof(line), f) != NULL)
			if (sscanf(line, "SigBlk: %llx", &mask) == 1 &&
			    (mask & (1ull << (sig - 1))) == 0)
				open_to++;
		fclose(f);
	}
	closedir(d);
	return open_to;
}

/*
 * Lets an alarm raised before the timer was disarmed land on SIG_IGN
 * rather than on the handler it is about to be restored to. The old
 * handler is Check's: in a forked test it kills the test's process group
 * with SIGKILL. ThreadSanitizer queues signals and runs the handler
 * installed when it delivers them, at the thread's next intercepted
 * call, so without this a late alarm killed the test ("Received signal
 * 9", 1 run in 8 to 14 under TSan). The sleep is such a call.
 */
static void
quiet_late_alarms(void)
{
	struct sigaction ign;
	struct timespec pause = { 0, 20 * 1000 * 1000 };

	memset(&ign, 0, sizeof(ign));
	ign.sa_handler = SIG_IGN;
	sigemptyset(&ign.sa_mask);
	ck_assert_int_eq(sigaction(SIGALRM, &ign, NULL), 0);
	nanosleep(&pause, NULL);
}

/*
 * A handler that sends while its thread was inside a send used to wait
 * for a table lock its own thread held (2 runs in 16 hung); now it gets
 * EDEADLK, and a handler that interrupts nothing of ours gets through.
 */
START_TEST(signal_handlers_get_edeadlk_not_a_deadlock)
{
	struct itimerval it = { { 0, 50 }, { 0, 50 } };
	struct sigaction sa, old;
	long sent = 0, failed = 0, spawned = 0;
	int open_to;
	double end;

	/* Under valgrind and TSan a handler takes longer than 50 us: on a
	 * loaded host TSan then ran away with memory (killed, in CI). */
	if (scaled_down())
		it.it_interval.tv_usec = it.it_value.tv_usec = 1000;
	atomic_store(&sig_ok, 0);
	atomic_store(&sig_deadlk, 0);
	atomic_store(&sig_bad, 0);
	atomic_store(&sig_elsewhere, 0);
	atomic_store(&sig_taken, 0);
	atomic_store(&sig_nops_done, 0);
	sig_thread = pthread_self();
	init_ok(2);
	atomic_store(&sig_target, spawn_ok(sig_sink, NULL, 0,
	    SNOW_PRIO_NORMAL));
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = sig_sender;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	open_to = threads_not_blocking(SIGALRM);
	ck_assert_int_ge(open_to, 0);
	ck_assert_int_eq(sigaction(SIGALRM, &sa, &old), 0);
	ck_assert_int_eq(setitimer(ITIMER_REAL, &it, NULL), 0);
	/* Nothing in this loop but runtime calls: Check's asserts allocate,
	 * and a handler that interrupted malloc would wait for its lock. */
	/* Ahead of the sink and of the spawned actors by a bounded amount:
	 * on a loaded machine the workers fall behind, and an unbounded
	 * backlog of spawns took 23 GB under ThreadSanitizer. */
	end = now() + (scaled_down() ? 1.0 : 2.0);
	while (now() < end) {
		if (sent - atomic_load(&sig_taken) > 10000) {
			sched_yield();
			continue;
		}
		failed += snow_actor_send(atomic_load(&sig_target), "m", 1) != 0;
		if (++sent % 64 == 0 && spawned - atomic_load(&sig_nops_done) <
		    256) {
			spawned += snow_actor_spawn(sig_nop, NULL, 0,
			    SNOW_PRIO_NORMAL) != 0;
		}
	}
	memset(&it, 0, sizeof(it));
	ck_assert_int_eq(setitimer(ITIMER_REAL, &it, NULL), 0);
	quiet_late_alarms();
	ck_assert_int_eq(sigaction(SIGALRM, &old, NULL), 0);
	ck_assert_int_eq(snow_actor_send(atomic_load(&sig_target), "q", 1), 0);
	run_ok();
	ck_assert_int_eq(failed, 0);
	ck_assert_int_eq(atomic_load(&sig_bad), 0);
	ck_assert_msg(open_to == 0, "%d threads of the runtime do not block "
	    "SIGALRM", open_to);
	/* ThreadSanitizer delivers signals itself, late, and can run a
	 * handler on another thread than the one the kernel chose; the
	 * kernel's masks, above, are what the runtime controls there. */
	ck_assert_msg(UNDER_TSAN || atomic_load(&sig_elsewhere) == 0,
	    "%ld handlers ran on a worker thread", atomic_load(&sig_elsewhere));
	ck_assert_msg(atomic_load(&sig_ok) + atomic_load(&sig_deadlk) > 0,
	    "the handler never ran");
}
END_TEST

static void
outside_sends_child(void)
{
	uint64_t pid;

	if (snow_rt_init_actor(2) != 0)
		_exit(10);
	pid = snow_actor_spawn(sig_sink, NULL, 0, SNOW_PRIO_NORMAL);
	if (pid == 0 || snow_actor_send(pid, "m", 1) != 0)
		_exit(11);
	_exit(snow_rt_run_scheduler() == 0 ? 0 : 12);
}

/* The shutdown line no longer blames the actor when outside threads
 * were sending: it says that their sends may have come too late. */
START_TEST(blocked_line_names_outside_senders)
{
	char err[4096];
	int status;

	status = run_child(outside_sends_child, 30, err, sizeof(err));
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "child status %#x, stderr: %s", status, err);
	ck_assert_msg(strstr(err, "1 actor waited") != NULL &&
	    strstr(err, "threads outside the runtime sent messages") != NULL &&
	    strstr(err, "could never come") == NULL, "stderr: %s", err);
}
END_TEST

static Suite *
process_misuse_suite(void)
{
	Suite *s = suite_create("process-misuse");
	TCase *tc = tcase_create("misuse");

	tcase_set_timeout(tc, TIMEOUT);
	tcase_add_test(tc, fork_while_running_fails_in_the_child);
	tcase_add_test(tc, pthread_exit_in_an_actor_aborts_with_a_message);
	tcase_add_test(tc, signal_handlers_get_edeadlk_not_a_deadlock);
	tcase_add_test(tc, blocked_line_names_outside_senders);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(process_misuse_suite());
}
