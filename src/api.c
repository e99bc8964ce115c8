/*
 * The public entry points: argument checks, errno, and the thin layer
 * over the scheduler.  Everything else is hidden.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <snow/runtime.h>

#include "scheduler.h"

/* Serialises init and shutdown; spawns do not take it. */
static pthread_mutex_t api_lock = PTHREAD_MUTEX_INITIALIZER;
static SN_TLS uint64_t tls_main_pid;
/* Stack size of the running runtime, 0 when down: bounds args_size. */
static _Atomic size_t stack_limit;

#define SN_STACK_MIN	(16u * 1024)
#define SN_STACK_MAX	(1024u * 1024 * 1024)

static bool
in_actor(void)
{
	struct sn_worker *w = sn_worker_self();

	return w != NULL && w->current != NULL;
}

static unsigned
cpus_online(void)
{
	cpu_set_t set;
	long n;

	if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0)
		return (unsigned)CPU_COUNT(&set);
	n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (unsigned)n : 1;
}

/* SNOW_STACK_SIZE: bytes, or with a K or M suffix. */
static int
stack_size_from_env(size_t *out)
{
	const char *s = getenv("SNOW_STACK_SIZE");
	unsigned long long v;
	char *end;

	*out = SNOW_DEFAULT_STACK_SIZE;
	if (s == NULL || *s == '\0')
		return 0;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || end == s)
		return EINVAL;
	if (*end == 'k' || *end == 'K') {
		v *= 1024;
		end++;
	} else if (*end == 'm' || *end == 'M') {
		v *= 1024 * 1024;
		end++;
	}
	if (*end != '\0' || v < SN_STACK_MIN || v > SN_STACK_MAX)
		return EINVAL;
	*out = (size_t)v;
	return 0;
}

int
snow_rt_init_actor(uint32_t num_schedulers)
{
	size_t stack_size;
	int err;

	if (in_actor())
		return EDEADLK;
	if (num_schedulers > SNOW_MAX_SCHEDULERS)
		return EINVAL;
	pthread_mutex_lock(&api_lock);
	if (atomic_load(&sn_rt.state) == SN_RT_RUNNING) {
		pthread_mutex_unlock(&api_lock);
		return 0;
	}
	err = stack_size_from_env(&stack_size);
	if (err == 0)
		err = sn_sched_start(num_schedulers ? num_schedulers :
		    cpus_online(), stack_size);
	if (err == 0) {
		tls_main_pid = sn_rt.main_pid;
		atomic_store(&stack_limit, sn_rt.pool.stack_size);
	}
	pthread_mutex_unlock(&api_lock);
	return err;
}

int
snow_rt_run_scheduler(void)
{
	int err;

	if (in_actor())
		return EDEADLK;
	pthread_mutex_lock(&api_lock);
	if (atomic_load(&sn_rt.state) != SN_RT_RUNNING) {
		pthread_mutex_unlock(&api_lock);
		return EPERM;
	}
	err = sn_sched_stop();
	atomic_store(&stack_limit, 0);
	tls_main_pid = 0;
	pthread_mutex_unlock(&api_lock);
	return err;
}

uint64_t
snow_actor_spawn(snow_actor_fn fn, const void *args, uint64_t args_size,
    uint8_t priority)
{
	size_t limit;

	if (fn == NULL || priority > SNOW_PRIO_LOW ||
	    (args == NULL && args_size != 0)) {
		errno = EINVAL;
		return 0;
	}
	/* The stack size is fixed while the runtime runs; before init the
	 * spawn fails with EPERM below whatever the size. */
	limit = atomic_load(&stack_limit);
	if (args_size > SN_STACK_MAX || (limit != 0 && args_size > limit)) {
		errno = EINVAL;
		return 0;
	}
	return sn_sched_spawn(fn, args, args_size, priority);
}

uint64_t
snow_actor_self(void)
{
	struct sn_worker *w = sn_worker_self();

	if (w != NULL && w->current != NULL)
		return w->current->pid;
	if (tls_main_pid != 0 && tls_main_pid == sn_rt.main_pid &&
	    atomic_load(&sn_rt.state) != SN_RT_DOWN)
		return tls_main_pid;
	return 0;
}

void
snow_reduction_check(void)
{
	if (sn_likely(--sn_budget > 0))
		return;
	sn_budget_spent();
}

void
snow_actor_yield(void)
{
	sn_sched_yield();
}

int
snow_rt_stats(struct snow_rt_stats *out)
{
	if (out == NULL)
		return EINVAL;
	sn_sched_stats(out);
	return 0;
}
