/*
 * Services and jobs: snow_service_call() gets the reply to its own call
 * and nothing else, ends with ESRCH when the service is or goes away,
 * times out, and leaves other messages in order; snow_job_await() gets
 * that job's result, or ECANCELED when the job failed, from actors and
 * from the main thread.
 *
 * Actors never call ck_assert; they record what they saw with A_CHECK()
 * and the test's thread checks it once the runtime has stopped.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <snow/runtime.h>

#include "actor_check.h"
#include "run_suite.h"
#include "snow_ok.h"
#include "test_env.h"

#define TIMEOUT 120
#define WAIT_MS 20000


static int64_t
i64_of(const struct snow_msg *m)
{
	int64_t v = -1;

	if (m != NULL && m->len >= sizeof(v))
		memcpy(&v, m->data, sizeof(v));
	return v;
}

/* ---- A service ---- */

enum { T_MUL = 1, T_SLOW = 2, T_DIE = 3, T_DEFER = 4, T_STOP = 5 };

/*
 * Answers [tag][caller][int64 x]: T_MUL with x * 3; T_SLOW the same after
 * 200 ms; T_DIE ends with an error; T_DEFER receives one more message
 * before it answers; T_STOP answers and returns.  Data messages are
 * counted and ignored.
 */
static _Atomic long service_data;
static _Atomic int service_deferring;	/* T_DEFER's receive comes next */

static void
service(const void *arg)
{
	const struct snow_msg *m;
	uint64_t tag, caller;
	int64_t x;

	(void)arg;
	while ((m = snow_actor_receive(-1)) != NULL) {
		if (m->tag != SNOW_MSG_CALL) {
			atomic_fetch_add(&service_data, 1);
			continue;
		}
		A_CHECK(m->len == 24, "call body of %llu bytes",
		    (unsigned long long)m->len);
		memcpy(&tag, m->data, 8);
		memcpy(&caller, m->data + 8, 8);
		memcpy(&x, m->data + 16, 8);
		x *= 3;
		if (tag == T_SLOW)
			snow_timer_sleep(200);
		if (tag == T_DIE)
			snow_actor_exit(snow_actor_self(), SNOW_EXIT_ERROR);
		if (tag == T_DEFER) {
			atomic_store(&service_deferring, 1);
			(void)snow_actor_receive(WAIT_MS);
		}
		A_CHECK(snow_service_reply(caller, &x, sizeof(x)) == 0,
		    "reply");
		if (tag == T_STOP)
			return;
	}
}

static const struct snow_msg *
call(uint64_t pid, uint64_t tag, int64_t x, int64_t timeout_ms)
{
	return snow_service_call_timeout(pid, tag, &x, sizeof(x), timeout_ms);
}

#define CALLS 500

static _Atomic int callers_done;

static void
caller_actor(const void *arg)
{
	uint64_t svc = *(const uint64_t *)arg;
	const struct snow_msg *m;
	int64_t i;

	for (i = 0; i < CALLS; i++) {
		m = call(svc, T_MUL, i, WAIT_MS);
		A_CHECK(m != NULL && m->tag == SNOW_MSG_REPLY &&
		    i64_of(m) == i * 3, "call %lld: %lld (snow_errno() %d)",
		    (long long)i, (long long)i64_of(m), m ? 0 : snow_errno());
		if (m == NULL)
			break;
	}
	atomic_fetch_add(&callers_done, 1);
}

START_TEST(calls_get_their_own_replies)
{
	const struct snow_msg *m;
	uint64_t svc;
	int64_t i;

	reset_fails();
	atomic_store(&callers_done, 0);
	init_ok(2);
	svc = spawn_ok(service, NULL, 0, SNOW_PRIO_NORMAL);
	spawn_ok(caller_actor, &svc, sizeof(svc), SNOW_PRIO_NORMAL);
	spawn_ok(caller_actor, &svc, sizeof(svc), SNOW_PRIO_HIGH);
	/* The main thread calls too, with data messages in its mailbox
	 * that must stay there, in order. */
	ck_assert_int_eq(snow_actor_send(snow_actor_self(), "a", 1), 0);
	for (i = 0; i < CALLS; i++) {
		m = call(svc, T_MUL, i, WAIT_MS);
		ck_assert_ptr_nonnull(m);
		ck_assert_int_eq(i64_of(m), i * 3);
	}
	ck_assert_int_eq(snow_actor_send(snow_actor_self(), "b", 1), 0);
	m = snow_actor_receive(0);
	ck_assert(m != NULL && m->tag == SNOW_MSG_DATA && m->data[0] == 'a');
	m = snow_actor_receive(0);
	ck_assert(m != NULL && m->tag == SNOW_MSG_DATA && m->data[0] == 'b');
	/* Stop the service only once the other callers are done. */
	while (atomic_load(&callers_done) < 2)
		sleep_ms(1);
	m = call(svc, T_STOP, 1, WAIT_MS);
	ck_assert_int_eq(i64_of(m), 3);
	run_ok();
	assert_no_fails();
}
END_TEST

START_TEST(a_dead_or_dying_service_gives_esrch)
{
	uint64_t svc, dead;

	reset_fails();
	init_ok(2);
	svc = spawn_ok(service, NULL, 0, SNOW_PRIO_NORMAL);
	dead = spawn_ok(service, NULL, 0, SNOW_PRIO_NORMAL);
	ck_assert_int_eq(snow_actor_kill(dead), 0);
	while (snow_actor_kill(dead) != ESRCH)
		sleep_ms(1);
	errno = 0;
	ck_assert_ptr_null(call(dead, T_MUL, 1, WAIT_MS));
	ck_assert_int_eq(snow_errno(), ESRCH);
	errno = 0;
	ck_assert_ptr_null(call(UINT64_MAX / 4, T_MUL, 1, -1));
	ck_assert_int_eq(snow_errno(), ESRCH);
	/* Dies while it handles the call. */
	errno = 0;
	ck_assert_ptr_null(call(svc, T_DIE, 1, -1));
	ck_assert_int_eq(snow_errno(), ESRCH);
	/* Nothing of either is left in the mailbox. */
	errno = 0;
	ck_assert_ptr_null(snow_actor_receive(50));
	ck_assert_int_eq(snow_errno(), ETIMEDOUT);
	run_ok();
	assert_no_fails();
}
END_TEST

START_TEST(a_timed_out_call_never_takes_a_later_reply)
{
	const struct snow_msg *m;
	uint64_t svc;

	reset_fails();
	init_ok(2);
	svc = spawn_ok(service, NULL, 0, SNOW_PRIO_NORMAL);
	errno = 0;
	ck_assert_ptr_null(call(svc, T_SLOW, 7, 50));
	ck_assert_int_eq(snow_errno(), ETIMEDOUT);
	errno = 0;
	ck_assert_ptr_null(call(svc, T_MUL, 7, 0));	/* timeout 0 */
	ck_assert(snow_errno() == EAGAIN);
	/* The slow reply (21) comes while this call waits: not taken. */
	m = call(svc, T_MUL, 5, WAIT_MS);
	ck_assert_ptr_nonnull(m);
	ck_assert_int_eq(i64_of(m), 15);
	m = call(svc, T_MUL, 6, WAIT_MS);		/* and the polled one */
	ck_assert_int_eq(i64_of(m), 18);
	/* The late replies were dropped, not left to plain receives. */
	errno = 0;
	ck_assert_ptr_null(snow_actor_receive(300));
	ck_assert_int_eq(snow_errno(), ETIMEDOUT);
	ck_assert_int_eq(snow_actor_kill(svc), 0);
	run_ok();
	assert_no_fails();
}
END_TEST

/* Sets the timer for the service's one more message once the service
 * has the T_DEFER call. */
static void
nudge_when_deferring(const void *arg)
{
	uint64_t svc = *(const uint64_t *)arg;
	double end = now() + 2 * WAIT_MS / 1000.0;

	while (!atomic_load(&service_deferring) && now() < end)
		snow_timer_sleep(1);
	A_CHECK(atomic_load(&service_deferring), "the service never deferred");
	A_CHECK(snow_timer_send_after(svc, 50, "x", 1) == 0, "timer");
}

START_TEST(a_deferred_reply_still_answers)
{
	const struct snow_msg *m;
	uint64_t svc;

	reset_fails();
	atomic_store(&service_data, 0);
	atomic_store(&service_deferring, 0);
	init_ok(2);
	svc = spawn_ok(service, NULL, 0, SNOW_PRIO_NORMAL);
	/* The service replies only after one more message comes in: a
	 * timer sends it while this call waits.  Set before the call, the
	 * timer raced it: with this thread 50 ms late, "x" came first, was
	 * counted as data, and T_DEFER then waited WAIT_MS for nothing.
	 * So the timer is set once the service has the call. */
	spawn_ok(nudge_when_deferring, &svc, sizeof(svc), SNOW_PRIO_NORMAL);
	m = call(svc, T_DEFER, 4, WAIT_MS);
	ck_assert_ptr_nonnull(m);
	ck_assert_int_eq(i64_of(m), 12);
	ck_assert_int_eq(snow_actor_kill(svc), 0);
	run_ok();
	assert_no_fails();
}
END_TEST

static _Atomic int thread_errno;

static void *
call_from_a_thread(void *arg)
{
	uint64_t svc = *(const uint64_t *)arg;

	errno = 0;
	if (call(svc, T_MUL, 1, 100) == NULL)
		atomic_store(&thread_errno, snow_errno());
	return NULL;
}

START_TEST(service_errors)
{
	uint64_t svc;
	pthread_t t;
	int64_t x = 1;

	reset_fails();
	errno = 0;
	ck_assert_ptr_null(call(1, T_MUL, 1, 0));
	ck_assert_int_eq(snow_errno(), EPERM);
	ck_assert_int_eq(snow_service_reply(1, &x, sizeof(x)), EPERM);
	init_ok(2);
	svc = spawn_ok(service, NULL, 0, SNOW_PRIO_NORMAL);
	errno = 0;
	ck_assert_ptr_null(snow_service_call(svc, T_MUL, NULL, 8));
	ck_assert_int_eq(snow_errno(), EINVAL);
	ck_assert_int_eq(snow_service_reply(svc, NULL, 8), EINVAL);
	/* A reply nobody waits for is dropped, from any thread. */
	ck_assert_int_eq(snow_service_reply(snow_actor_self(), &x, sizeof(x)),
	    0);
	errno = 0;
	ck_assert_ptr_null(snow_actor_receive(0));
	ck_assert_int_eq(snow_errno(), EAGAIN);
	ck_assert_int_eq(pthread_create(&t, NULL, call_from_a_thread, &svc),
	    0);
	pthread_join(t, NULL);
	ck_assert_int_eq(atomic_load(&thread_errno), EPERM);
	ck_assert_int_eq(snow_actor_kill(svc), 0);
	run_ok();
	assert_no_fails();
}
END_TEST

/* ---- Jobs ---- */

static int64_t
times_seven(void *env)
{
	return (int64_t)(intptr_t)env * 7;
}

static int64_t
fails_with_error(void *env)
{
	(void)env;
	snow_actor_exit(snow_actor_self(), SNOW_EXIT_ERROR);
	return 0;
}

static int64_t
sleeps_long(void *env)
{
	(void)env;
	snow_timer_sleep(300);
	return 1;
}

/* Starts five jobs and awaits them last first. */
static void
job_caller(const void *arg)
{
	uint64_t jobs[5];
	const struct snow_msg *m;
	int i;

	(void)arg;
	for (i = 0; i < 5; i++) {
		jobs[i] = snow_job_async(times_seven, (void *)(intptr_t)i);
		A_CHECK(jobs[i] != 0, "async: snow_errno() %d", snow_errno());
	}
	A_CHECK(snow_actor_send(snow_actor_self(), "d", 1) == 0, "send");
	for (i = 4; i >= 0; i--) {
		m = snow_job_await(jobs[i]);
		A_CHECK(m != NULL && m->tag == SNOW_MSG_JOB &&
		    i64_of(m) == i * 7, "job %d: %lld", i,
		    (long long)i64_of(m));
	}
	/* Awaited already: ESRCH.  The data message is still there. */
	A_CHECK(snow_job_await(jobs[0]) == NULL && snow_errno() == ESRCH,
	    "a second await");
	m = snow_actor_receive(0);
	A_CHECK(m != NULL && m->tag == SNOW_MSG_DATA, "the data message");
}

START_TEST(jobs_give_their_results)
{
	const struct snow_msg *m;
	uint64_t job;

	reset_fails();
	init_ok(2);
	spawn_ok(job_caller, NULL, 0, SNOW_PRIO_NORMAL);
	job = snow_job_async(times_seven, (void *)(intptr_t)6);
	ck_assert_uint_ne(job, 0);
	m = snow_job_await(job);		/* from the main thread */
	ck_assert_ptr_nonnull(m);
	ck_assert_int_eq(i64_of(m), 42);
	run_ok();
	assert_no_fails();
}
END_TEST

/* Traps exits: a failing or killed job is an error, not an end. */
static void
trapping_job_caller(const void *arg)
{
	const struct snow_msg *m;
	uint64_t job;

	(void)arg;
	A_CHECK(snow_actor_trap_exit() == 0, "trap");
	job = snow_job_async(fails_with_error, NULL);
	m = snow_job_await(job);
	A_CHECK(m == NULL && snow_errno() == ECANCELED, "failed job: snow_errno() %d",
	    snow_errno());
	job = snow_job_async(sleeps_long, NULL);
	A_CHECK(snow_job_await_timeout(job, 20) == NULL && snow_errno() == ETIMEDOUT,
	    "timeout: snow_errno() %d", snow_errno());
	A_CHECK(snow_actor_kill(job) == 0, "kill");
	A_CHECK(snow_job_await(job) == NULL && snow_errno() == ECANCELED,
	    "killed job: snow_errno() %d", snow_errno());
}

/* Wait until pid has ended. */
static void
gone(uint64_t pid)
{
	struct snow_process_info info;

	while (snow_process_info(pid, &info) == 0)
		sleep_ms(1);
}

/* Does not trap: its failing job ends it, as in Erlang. */
static void
linked_job_caller(const void *arg)
{
	(void)arg;
	(void)snow_actor_receive(-1);	/* until main monitors it */
	(void)snow_job_await(snow_job_async(fails_with_error, NULL));
	A_CHECK(0, "outlived its failed job");
}

START_TEST(failed_jobs_are_errors_or_end_their_caller)
{
	const struct snow_msg *m;
	const struct snow_down_msg *d;
	uint64_t pid, ref, job;

	reset_fails();
	init_ok(2);
	spawn_ok(trapping_job_caller, NULL, 0, SNOW_PRIO_NORMAL);
	pid = spawn_ok(linked_job_caller, NULL, 0, SNOW_PRIO_NORMAL);
	ref = snow_process_monitor(pid);
	ck_assert_int_eq(snow_actor_send(pid, "g", 1), 0);
	m = snow_actor_receive_key(SNOW_MSG_DOWN, ref, WAIT_MS);
	ck_assert_ptr_nonnull(m);
	d = (const void *)m->data;
	ck_assert_uint_eq(d->reason, SNOW_EXIT_LINKED);
	/* Main's jobs are not linked: a failure is ECANCELED here too,
	 * also when the job ended before the await (so before its monitor),
	 * and when it was killed. */
	job = snow_job_async(fails_with_error, NULL);
	errno = 0;
	ck_assert_ptr_null(snow_job_await(job));
	ck_assert_int_eq(snow_errno(), ECANCELED);
	job = snow_job_async(fails_with_error, NULL);
	gone(job);
	errno = 0;
	ck_assert_ptr_null(snow_job_await(job));
	ck_assert_int_eq(snow_errno(), ECANCELED);
	errno = 0;
	ck_assert_ptr_null(snow_job_await(job));	/* heard already */
	ck_assert_int_eq(snow_errno(), ESRCH);
	job = snow_job_async(sleeps_long, NULL);
	ck_assert_int_eq(snow_actor_kill(job), 0);
	gone(job);
	errno = 0;
	ck_assert_ptr_null(snow_job_await(job));
	ck_assert_int_eq(snow_errno(), ECANCELED);
	errno = 0;
	ck_assert_uint_eq(snow_job_async(NULL, NULL), 0);
	ck_assert_int_eq(snow_errno(), EINVAL);
	run_ok();
	assert_no_fails();
	errno = 0;
	ck_assert_uint_eq(snow_job_async(times_seven, NULL), 0);
	ck_assert_int_eq(snow_errno(), EPERM);
}
END_TEST

static Suite *
service_suite(void)
{
	Suite *s = suite_create("service");
	TCase *tc = tcase_create("service");

	tcase_set_timeout(tc, TIMEOUT);
	tcase_add_test(tc, calls_get_their_own_replies);
	tcase_add_test(tc, a_dead_or_dying_service_gives_esrch);
	tcase_add_test(tc, a_timed_out_call_never_takes_a_later_reply);
	tcase_add_test(tc, a_deferred_reply_still_answers);
	tcase_add_test(tc, service_errors);
	suite_add_tcase(s, tc);
	tc = tcase_create("job");
	tcase_set_timeout(tc, TIMEOUT);
	tcase_add_test(tc, jobs_give_their_results);
	tcase_add_test(tc, failed_jobs_are_errors_or_end_their_caller);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(service_suite());
}
