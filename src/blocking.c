/*
 * Blocking calls off the workers; see blocking.h and the "Blocking
 * calls" section of runtime.h.
 *
 * A call is queued with the calling actor's block and a tag from
 * sn_io_arm(), and the actor parks in SN_WAIT_BLOCKING.  A pool thread
 * runs the function, stores its result in the call, and reports the tag
 * with sn_io_fire(), which wakes the actor: the same report word and
 * fences as a wait on a descriptor (io.c).  After the report the thread
 * touches only the actor's block, never the call, which lives on the
 * actor's stack and is gone once the actor runs on.
 *
 * Unlike any other wait, an exit signal does not end this one: the
 * function may still read its argument, or write what it points to, on
 * the caller's stack.  A kill that comes meanwhile is taken as soon as
 * the function has returned, as the Erlang VM does with a process in a
 * dirty NIF.  For the same reason such a wait never hibernates (only
 * receives do).
 *
 * Threads are started as calls find none idle, up to the pool's size,
 * and stay until the runtime stops; idle ones sleep on a condition
 * variable.  The queue has no bound: a call is never refused for want of
 * a thread, only delayed.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "actor.h"
#include "blocking.h"
#include "context.h"
#include "io.h"
#include "scheduler.h"

#define BLOCKING_DEFAULT	16
#define BLOCKING_MAX		1024

struct sn_blocking_call {
	snow_blocking_fn fn;
	void *arg;
	void *result;
	struct sn_proc *caller;
	uint32_t tag;
	struct sn_blocking_call *next;
};

/* SNOW_BLOCKING_THREADS: digits only, 1 to BLOCKING_MAX. */
static int
size_from_env(unsigned *out)
{
	const char *v = getenv("SNOW_BLOCKING_THREADS");
	unsigned long n = 0;

	*out = BLOCKING_DEFAULT;
	if (v == NULL || *v == '\0')
		return 0;
	for (; *v != '\0'; v++) {
		if (*v < '0' || *v > '9')
			return EINVAL;
		n = n * 10 + (unsigned long)(*v - '0');
		if (n > BLOCKING_MAX)
			return EINVAL;
	}
	if (n == 0)
		return EINVAL;
	*out = (unsigned)n;
	return 0;
}

int
sn_blocking_init(struct sn_blocking_pool *bp)
{
	int err;

	memset(bp, 0, sizeof(*bp));
	if ((err = size_from_env(&bp->max)) != 0)
		return err;
	bp->threads = calloc(bp->max, sizeof(*bp->threads));
	if (bp->threads == NULL)
		return ENOMEM;
	pthread_mutex_init(&bp->lock, NULL);
	pthread_cond_init(&bp->more, NULL);
	atomic_store(&bp->busy, 0);
	return 0;
}

void
sn_blocking_fini(struct sn_blocking_pool *bp)
{
	unsigned i;

	if (bp->threads == NULL)
		return;
	pthread_mutex_lock(&bp->lock);
	bp->stop = true;
	pthread_cond_broadcast(&bp->more);
	pthread_mutex_unlock(&bp->lock);
	/* Each thread empties the queue before it ends. */
	for (i = 0; i < bp->nthreads; i++)
		pthread_join(bp->threads[i], NULL);
	free(bp->threads);
	bp->threads = NULL;
	pthread_cond_destroy(&bp->more);
	pthread_mutex_destroy(&bp->lock);
}

/* The next call, or NULL once stopped with none queued. */
static struct sn_blocking_call *
next_call(struct sn_blocking_pool *bp)
{
	struct sn_blocking_call *c;

	pthread_mutex_lock(&bp->lock);
	while (bp->head == NULL && !bp->stop) {
		bp->nidle++;
		pthread_cond_wait(&bp->more, &bp->lock);
		bp->nidle--;
	}
	c = bp->head;
	if (c != NULL) {
		bp->head = c->next;
		if (bp->head == NULL)
			bp->tail = NULL;
	}
	pthread_mutex_unlock(&bp->lock);
	return c;
}

static void *
pool_thread(void *arg)
{
	struct sn_blocking_pool *bp = arg;
	struct sn_blocking_call *c;

	sn_thread_name("snow-blocking", 0);
	while ((c = next_call(bp)) != NULL) {
		struct sn_proc *caller = c->caller;
		uint32_t tag = c->tag;

		c->result = c->fn(c->arg);
		/* From here c may be gone: the caller may run. */
		(void)sn_io_fire(caller, tag, 1, SN_WAIT_BLOCKING);
		atomic_fetch_sub(&bp->busy, 1);
	}
	return NULL;
}

/* Under bp->lock: start a thread if no idle one will take the call.
 * 0, or the errno of a start that left the pool with no thread. */
static int
grow_locked(struct sn_blocking_pool *bp)
{
	sigset_t mask, saved;
	int err;

	if (bp->nidle > 0 || bp->nthreads == bp->max)
		return 0;
	/* As the workers: asynchronous signals go to the program's own
	 * threads, never to a blocking call. */
	sn_ctx_actor_sigmask(&mask);
	pthread_sigmask(SIG_BLOCK, &mask, &saved);
	err = pthread_create(&bp->threads[bp->nthreads], NULL, pool_thread,
	    bp);
	pthread_sigmask(SIG_SETMASK, &saved, NULL);
	if (err == 0)
		bp->nthreads++;
	return bp->nthreads > 0 ? 0 : err;
}

/* Queue c: 0, or EAGAIN when no thread could be started for it. */
static int
enqueue(struct sn_blocking_pool *bp, struct sn_blocking_call *c)
{
	int err;

	pthread_mutex_lock(&bp->lock);
	err = grow_locked(bp);
	if (err == 0) {
		c->next = NULL;
		if (bp->tail != NULL)
			bp->tail->next = c;
		else
			bp->head = c;
		bp->tail = c;
		atomic_fetch_add(&bp->busy, 1);
		pthread_cond_signal(&bp->more);
	}
	pthread_mutex_unlock(&bp->lock);
	return err != 0 ? EAGAIN : 0;
}

int
snow_blocking(snow_blocking_fn fn, void *arg, void **result)
{
	struct sn_proc *self = sn_sched_current();
	struct sn_blocking_call c = { fn, arg, NULL, self, 0, NULL };
	int err;

	if (fn == NULL)
		return EINVAL;
	if (self == NULL || self->on_thread) {
		/* A thread of the program's own may block. */
		c.result = fn(arg);
		goto done;
	}
	c.tag = sn_io_arm(self);
	if ((err = enqueue(&sn_rt.blocking, &c)) != 0)
		return err;
	/* Only the report wakes this park (see sn_actor_wake_due()). */
	while (!sn_io_reported(self))
		(void)sn_sched_park(self, SN_WAIT_BLOCKING, UINT64_MAX);
	sn_io_disarm(self);
	sn_actor_check_exit(self);	/* a kill that came meanwhile */
done:
	if (result != NULL)
		*result = c.result;
	return 0;
}
