/*
 * A program written the way the Snow compiler calls the runtime: it does
 * not include <snow/runtime.h> but declares each function itself, with
 * the parameter and return types the compiler's code generator uses
 * (../shared/DESIGN.md; u64 = uint64_t, ptr = a pointer, "nothing" =
 * void).  It links against the library as built and checks each call,
 * so a signature that drifts from the compiler's fails here.
 *
 * It covers every call of the compiler's actor ABI (DESIGN.md); each new
 * part adds its calls here.  Exits 0 when every check held; prints what failed.
 */
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- As the compiler declares them ---- */
extern int snow_rt_init_actor(uint32_t num_schedulers);
extern uint64_t snow_actor_spawn(void (*fn)(const void *), const void *args,
    uint64_t args_size, uint8_t priority);
extern uint64_t snow_actor_self(void);
extern void snow_reduction_check(void);
extern void snow_rt_run_scheduler(void);
extern void snow_actor_send(uint64_t pid, const void *msg, uint64_t size);
extern const void *snow_actor_receive(int64_t timeout_ms);
extern void snow_actor_link(uint64_t pid);
extern void snow_actor_trap_exit(void);
extern void snow_actor_exit(uint64_t pid, uint8_t reason);
extern void snow_actor_set_terminate(uint64_t pid, const void *cb);
extern void snow_register_function(const void *name, uint64_t len,
    const void *fn);
extern const void *snow_service_call(uint64_t pid, uint64_t tag,
    const void *payload, uint64_t size);
extern void snow_service_reply(uint64_t caller, const void *reply,
    uint64_t size);
extern uint64_t snow_job_async(const void *fn, const void *env);
extern const void *snow_job_await(uint64_t job);
extern const void *snow_job_await_timeout(uint64_t job, int64_t ms);
extern uint64_t snow_process_monitor(uint64_t pid);
extern uint64_t snow_process_demonitor(uint64_t ref);
extern uint64_t snow_supervisor_start(const void *config, uint64_t size);
extern uint64_t snow_supervisor_start_child(uint64_t sup, const void *args,
    uint64_t size);
extern uint64_t snow_supervisor_terminate_child(uint64_t sup,
    uint64_t child);
extern uint64_t snow_supervisor_count_children(uint64_t sup);

/* The compiler reads a message's value at msg + 16. */
#define MSG_TAG(m)	(*(const uint64_t *)(m))
#define MSG_VALUE(m)	((const unsigned char *)(m) + 16)
#define TAG_EXIT	1	/* a trapped exit: {u64 pid, u64 reason} */

static _Atomic int failures;
static _Atomic int terminated_reason = -1;
static _Atomic int trapped_reason = -1;
static _Atomic uint64_t trapped_from;
static _Atomic long spins;

#define CHECK(cond, what)						\
	do {								\
		if (!(cond)) {						\
			fprintf(stderr, "compiler_abi: FAILED: %s\n", what); \
			atomic_fetch_add(&failures, 1);			\
		}							\
	} while (0)

static void
on_terminate(const void *state, const void *reason)
{
	(void)state;
	atomic_store(&terminated_reason, *(const uint8_t *)reason);
}

/* Spins through reduction checks until main tells it to fail. */
static void
worker(const void *args)
{
	const void *m;

	(void)args;
	snow_actor_set_terminate(snow_actor_self(), (const void *)on_terminate);
	for (;;) {
		atomic_fetch_add(&spins, 1);
		snow_reduction_check();
		if ((m = snow_actor_receive(0)) != NULL && MSG_VALUE(m)[0] == 'f')
			snow_actor_exit(snow_actor_self(), 1);	/* error */
	}
}

/* Traps exits, links to the worker it is given, reports its end. */
static void
supervisor_like(const void *args)
{
	uint64_t child = *(const uint64_t *)args;
	const void *m;

	snow_actor_trap_exit();
	snow_actor_link(child);
	while ((m = snow_actor_receive(10000)) != NULL)
		if (MSG_TAG(m) == TAG_EXIT) {
			uint64_t from, reason;

			memcpy(&from, MSG_VALUE(m), 8);
			memcpy(&reason, MSG_VALUE(m) + 8, 8);
			atomic_store(&trapped_from, from);
			atomic_store(&trapped_reason, (int)reason);
			return;
		}
}

/*
 * A service loop as the compiler lowers one: the call's tag at msg + 16,
 * the caller at msg + 24, an i64 argument at msg + 32; it replies with
 * one i64 and stops on tag 0.
 */
static void
counter_service(const void *args)
{
	int64_t count = 0, arg, reply;
	uint64_t tag, caller;
	const void *m;

	(void)args;
	for (;;) {
		m = snow_actor_receive(-1);
		memcpy(&tag, MSG_VALUE(m), 8);
		memcpy(&caller, MSG_VALUE(m) + 8, 8);
		memcpy(&arg, MSG_VALUE(m) + 16, 8);
		count += arg;
		reply = count;
		snow_service_reply(caller, &reply, 8);
		if (tag == 0)
			return;
	}
}

static int64_t
job_fn(void *env)
{
	return *(const int64_t *)env + 1;
}

/* Calls, jobs and monitors, as compiled code makes them from main. */
static void
services_and_jobs(void)
{
	int64_t one = 1, env = 41, v = 0;
	uint64_t svc, job, ref;
	const void *m;
	int i;

	svc = snow_actor_spawn(counter_service, NULL, 0, 1);
	for (i = 0; i < 10; i++) {
		m = snow_service_call(svc, 1, &one, 8);
		CHECK(m != NULL, "service call");
		if (m != NULL)
			memcpy(&v, MSG_VALUE(m), 8);
		CHECK(v == i + 1, "service reply at msg + 16");
	}
	ref = snow_process_monitor(svc);
	CHECK(ref != 0, "monitor");
	m = snow_service_call(svc, 0, &one, 8);
	CHECK(m != NULL, "the last call");
	m = snow_actor_receive(10000);
	CHECK(m != NULL && MSG_TAG(m) == 2, "DOWN of the service");
	CHECK(snow_process_demonitor(ref) == 1, "demonitor after its DOWN");
	CHECK(snow_service_call(svc, 1, &one, 8) == NULL,
	    "a call to a dead service is NULL");
	job = snow_job_async((const void *)job_fn, &env);
	CHECK(job != 0, "job async");
	m = snow_job_await(job);
	CHECK(m != NULL, "job await");
	if (m != NULL)
		memcpy(&v, MSG_VALUE(m), 8);
	CHECK(v == 42, "job result at msg + 16");
	job = snow_job_async((const void *)job_fn, &env);
	m = snow_job_await_timeout(job, 10000);
	CHECK(m != NULL, "job await with a timeout");
}

/* A child that counts its starts and fails at its first. */
static _Atomic int child_starts;

static void
sup_child(const void *args)
{
	(void)args;
	if (atomic_fetch_add(&child_starts, 1) == 0)
		snow_actor_exit(snow_actor_self(), 1);	/* error */
	snow_actor_receive(-1);
}

static size_t
put(unsigned char *b, uint64_t v, unsigned bytes)
{
	unsigned i;

	for (i = 0; i < bytes; i++)
		b[i] = (unsigned char)(v >> (8 * i));
	return bytes;
}

/* The compiler's config blob: one permanent worker, one_for_one, or the
 * template of a simple_one_for_one (strategy 3). */
static size_t
config(unsigned char *b, uint8_t strategy)
{
	size_t at = 0;

	at += put(b + at, strategy, 1);
	at += put(b + at, 3, 4);		/* max restarts */
	at += put(b + at, 5, 8);		/* max seconds */
	at += put(b + at, 1, 4);		/* children */
	at += put(b + at, 1, 4);		/* id */
	b[at++] = 'w';
	at += put(b + at, (uint64_t)(uintptr_t)sup_child, 8);
	at += put(b + at, 0, 8);		/* args */
	at += put(b + at, 0, 8);
	at += put(b + at, 0, 1);		/* permanent */
	at += put(b + at, 1, 1);		/* shutdown with a timeout */
	at += put(b + at, 1000, 8);
	at += put(b + at, 0, 1);		/* worker */
	return at;
}

static void
supervisors(void)
{
	unsigned char b[128];
	uint64_t sup, kid;
	int i;

	sup = snow_supervisor_start(b, config(b, 0));
	CHECK(sup != UINT64_MAX, "supervisor start from the blob");
	for (i = 0; i < 2000 && atomic_load(&child_starts) < 2; i++)
		usleep(1000);
	CHECK(atomic_load(&child_starts) == 2,
	    "the failed child was restarted");
	CHECK(snow_supervisor_count_children(sup) == 1, "count children");
	snow_actor_exit(sup, 4);			/* shutdown */
	sup = snow_supervisor_start(b, config(b, 3));
	kid = snow_supervisor_start_child(sup, NULL, 0);
	CHECK(kid != UINT64_MAX, "start child");
	CHECK(snow_supervisor_terminate_child(sup, kid) == 0,
	    "terminate child");
	CHECK(snow_supervisor_count_children(sup) == 0, "none left");
	snow_actor_exit(sup, 4);
}

int
main(void)
{
	uint64_t w, s;
	int i;

	/* For scripts/test-all.sh, which counts Check summaries. */
	printf("not a Check suite: one result, its exit status\n");
	snow_register_function("worker", 6, (const void *)worker);
	snow_register_function("supervisor_like", 15,
	    (const void *)supervisor_like);
	CHECK(snow_rt_init_actor(2) == 0, "snow_rt_init_actor(2)");
	w = snow_actor_spawn(worker, NULL, 0, 1);
	CHECK(w != 0, "spawn worker");
	s = snow_actor_spawn(supervisor_like, &w, sizeof(w), 1);
	CHECK(s != 0, "spawn supervisor_like");
	CHECK(snow_actor_self() != 0, "self on main");
	services_and_jobs();
	supervisors();
	for (i = 0; i < 1000 && atomic_load(&spins) < 100; i++)
		usleep(1000);
	usleep(20000);			/* the link is made */
	snow_actor_send(w, "f", 1);
	snow_rt_run_scheduler();
	CHECK(atomic_load(&spins) >= 100, "the worker ran");
	CHECK(atomic_load(&terminated_reason) == 1,
	    "terminate callback with reason error");
	CHECK(atomic_load(&trapped_reason) == 1, "trapped exit, reason error");
	CHECK(atomic_load(&trapped_from) == w, "trapped exit from the worker");
	if (atomic_load(&failures) != 0)
		return 1;
	printf("compiler_abi: every call as the compiler makes it: ok\n");
	return 0;
}
