/*
 * Faults and bad input: stack overflows, exhausted memory, workers that
 * cannot start, arguments at and past their limits.  Each fault is
 * injected in a forked child, so the test outlives what it provokes.
 */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <snow/runtime.h>

#include "run_suite.h"

#define TIMEOUT 120

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SANITIZED 1
#endif
#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define SANITIZED 1
#endif
#endif

/* Run fn in a child with stderr captured; returns its wait status. */
static int
run_child(void (*fn)(void), char *err, size_t errlen)
{
	int pipefd[2], status;
	ssize_t n;
	size_t got = 0;
	pid_t pid;

	ck_assert_int_eq(pipe(pipefd), 0);
	fflush(NULL);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(pipefd[0]);
		dup2(pipefd[1], STDERR_FILENO);
		fn();
		_exit(0);
	}
	close(pipefd[1]);
	while (got + 1 < errlen &&
	    (n = read(pipefd[0], err + got, errlen - 1 - got)) > 0)
		got += (size_t)n;
	err[got] = '\0';
	close(pipefd[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	return status;
}

static long
proc_status_kb(const char *key)
{
	char line[256];
	size_t klen = strlen(key);
	long v = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
			v = strtol(line + klen + 1, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

/* ---- stack overflow ---- */

static _Atomic uint64_t overflow_pid;

__attribute__((noinline)) static unsigned
recurse(unsigned depth)
{
	volatile unsigned char frame[512];

	frame[0] = (unsigned char)depth;
	frame[sizeof(frame) - 1] = (unsigned char)depth;
	if (depth == UINT32_MAX)	/* never: 2 TiB of stack */
		return 0;
	/* Not a tail call: the frame is still needed after it. */
	return recurse(depth + 1) + frame[0] + frame[sizeof(frame) - 1];
}

static void
overflowing_actor(const void *arg)
{
	(void)arg;
	atomic_store(&overflow_pid, snow_actor_self());
	fprintf(stderr, "overflowing pid %llu\n",
	    (unsigned long long)snow_actor_self());
	recurse(0);
}

static void
overflow_child(void)
{
	if (snow_rt_init_actor(2) != 0)
		_exit(10);
	if (snow_actor_spawn(overflowing_actor, NULL, 0, SNOW_PRIO_NORMAL) == 0)
		_exit(11);
	snow_rt_run_scheduler();
	_exit(12);		/* unreachable: the overflow aborts */
}

static void
check_overflow_report(const char *stack_size)
{
	char err[4096], want[128];
	unsigned long long pid;
	const char *line;
	int status;

	setenv("SNOW_STACK_SIZE", stack_size, 1);
	status = run_child(overflow_child, err, sizeof(err));
	unsetenv("SNOW_STACK_SIZE");
	ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT,
	    "child status %#x, stderr: %s", status, err);
	line = strstr(err, "overflowing pid ");
	ck_assert_msg(line != NULL && sscanf(line, "overflowing pid %llu",
	    &pid) == 1, "no pid in: %s", err);
	snprintf(want, sizeof(want),
	    "snow-rt: stack overflow in actor %llu (stack of %s bytes", pid,
	    stack_size);
	ck_assert_msg(strstr(err, want) != NULL, "expected \"%s\" in: %s",
	    want, err);
}

START_TEST(stack_overflow_is_reported_and_aborts)
{
	check_overflow_report("65536");
	check_overflow_report("131072");
}
END_TEST

/* ---- memory exhaustion ---- */

static _Atomic int hold;
static _Atomic long held_ran;

static void
held_actor(const void *arg)
{
	(void)arg;
	while (atomic_load(&hold))
		snow_actor_yield();
	atomic_fetch_add(&held_ran, 1);
}

/*
 * Exit codes tell the parent which promise broke: spawn never failed (20),
 * failed with the wrong errno (21), the spawned actors did not all finish
 * (22), spawning did not recover with the memory (23).
 */
static void
exhaustion_child(void)
{
	struct rlimit old, low;
	long spawned = 0, i;
	int err = 0;

	if (snow_rt_init_actor(2) != 0)
		_exit(10);
	atomic_store(&hold, 1);
	getrlimit(RLIMIT_AS, &old);
	low = old;
	low.rlim_cur = (rlim_t)(proc_status_kb("VmSize") + 64 * 1024) * 1024;
	if (setrlimit(RLIMIT_AS, &low) != 0)
		_exit(13);
	for (i = 0; i < 1000000; i++) {
		if (snow_actor_spawn(held_actor, NULL, 0, SNOW_PRIO_NORMAL) == 0) {
			err = errno;
			break;
		}
		spawned++;
	}
	if (err == 0)
		_exit(20);
	if (err != ENOMEM)
		_exit(21);
	/* Those already spawned run to the end... */
	atomic_store(&hold, 0);
	while (atomic_load(&held_ran) < spawned)
		usleep(1000);
	/* ...and with the memory back, spawning works again. */
	setrlimit(RLIMIT_AS, &old);
	for (i = 0; i < 1000; i++)
		if (snow_actor_spawn(held_actor, NULL, 0, SNOW_PRIO_NORMAL) == 0)
			_exit(23);
	snow_rt_run_scheduler();
	if (atomic_load(&held_ran) != spawned + 1000)
		_exit(22);
	fprintf(stderr, "spawned %ld before ENOMEM\n", spawned);
	_exit(0);
}

START_TEST(spawn_fails_with_enomem_and_recovers)
{
	char err[4096];
	int status = run_child(exhaustion_child, err, sizeof(err));

	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "child status %#x, stderr: %s", status, err);
	ck_assert_ptr_nonnull(strstr(err, "before ENOMEM"));
}
END_TEST

static void
thread_failure_child(void)
{
	struct rlimit old, low;
	int err;

	getrlimit(RLIMIT_AS, &old);
	low = old;
	/* Room for the runtime's tables (and valgrind's), not for 64
	 * thread stacks of 8 MiB. */
	low.rlim_cur = (rlim_t)(proc_status_kb("VmSize") + 128 * 1024) * 1024;
	if (setrlimit(RLIMIT_AS, &low) != 0)
		_exit(13);
	err = snow_rt_init_actor(64);
	setrlimit(RLIMIT_AS, &old);
	if (err != EAGAIN && err != ENOMEM)
		_exit(30);
	if (proc_status_kb("Threads") != 1)
		_exit(31);	/* a worker was left behind */
	errno = 0;
	if (snow_actor_spawn(held_actor, NULL, 0, SNOW_PRIO_NORMAL) != 0 ||
	    errno != EPERM)
		_exit(32);
	/* A failed start leaves nothing that stops the next one. */
	if (snow_rt_init_actor(2) != 0)
		_exit(33);
	if (snow_actor_spawn(held_actor, NULL, 0, SNOW_PRIO_NORMAL) == 0)
		_exit(34);
	if (snow_rt_run_scheduler() != 0 || atomic_load(&held_ran) != 1)
		_exit(35);
	fprintf(stderr, "init failed with %s\n", strerror(err));
	_exit(0);
}

START_TEST(worker_start_failure_leaves_nothing)
{
	char err[4096];
	int status = run_child(thread_failure_child, err, sizeof(err));

	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "child status %#x, stderr: %s", status, err);
}
END_TEST

/* ---- arguments at their limits ---- */

static _Atomic int big_ok;

static void
check_full_stack_args(const void *arg)
{
	const unsigned char *b = arg;
	size_t i;

	for (i = 0; i < 65536; i++)
		if (b[i] != (unsigned char)(i * 7))
			return;
	atomic_store(&big_ok, 1);
}

START_TEST(args_up_to_the_stack_size)
{
	unsigned char *buf = malloc(65537);
	size_t i;

	ck_assert_ptr_nonnull(buf);
	for (i = 0; i < 65537; i++)
		buf[i] = (unsigned char)(i * 7);
	setenv("SNOW_STACK_SIZE", "65536", 1);
	ck_assert_int_eq(snow_rt_init_actor(1), 0);
	unsetenv("SNOW_STACK_SIZE");
	errno = 0;
	ck_assert_uint_eq(snow_actor_spawn(check_full_stack_args, buf, 65537,
	    SNOW_PRIO_NORMAL), 0);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_uint_ne(snow_actor_spawn(check_full_stack_args, buf, 65536,
	    SNOW_PRIO_NORMAL), 0);
	memset(buf, 0, 65537);
	ck_assert_int_eq(snow_rt_run_scheduler(), 0);
	ck_assert_int_eq(atomic_load(&big_ok), 1);
	free(buf);
}
END_TEST

START_TEST(bad_stack_size_is_rejected)
{
	static const char *bad[] = { "abc", "12", "100x", "-65536", "2G",
	    "99999999999999999999" };
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		setenv("SNOW_STACK_SIZE", bad[i], 1);
		ck_assert_msg(snow_rt_init_actor(1) == EINVAL,
		    "SNOW_STACK_SIZE=%s accepted", bad[i]);
	}
	setenv("SNOW_STACK_SIZE", "256K", 1);
	ck_assert_int_eq(snow_rt_init_actor(1), 0);
	unsetenv("SNOW_STACK_SIZE");
	ck_assert_int_eq(snow_rt_run_scheduler(), 0);
}
END_TEST

static Suite *
hardening_suite(void)
{
	Suite *s = suite_create("hardening");
	TCase *tc;

	tc = tcase_create("faults");
	tcase_set_timeout(tc, TIMEOUT);
	tcase_add_test(tc, stack_overflow_is_reported_and_aborts);
#ifndef SANITIZED
	/* ASan and TSan reserve terabytes of shadow memory up front, so an
	 * address-space limit starves the sanitizer before the runtime. */
	tcase_add_test(tc, spawn_fails_with_enomem_and_recovers);
	tcase_add_test(tc, worker_start_failure_leaves_nothing);
#endif
	suite_add_tcase(s, tc);

	tc = tcase_create("input");
	tcase_set_timeout(tc, TIMEOUT);
	tcase_add_test(tc, args_up_to_the_stack_size);
	tcase_add_test(tc, bad_stack_size_is_rejected);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(hardening_suite());
}
