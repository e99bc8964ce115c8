/*
 * The pool of threads that run blocking calls for actors (blocking.c),
 * as the Erlang VM's dirty I/O schedulers and Tokio's spawn_blocking do:
 * an actor that must call something that blocks (file I/O, a DNS lookup,
 * a C library that sleeps) hands it to a thread of the pool and parks,
 * so that its worker goes on running other actors.
 */
#ifndef SN_BLOCKING_H
#define SN_BLOCKING_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include <snow/runtime.h>

struct sn_blocking_call;

struct sn_blocking_pool {
	pthread_mutex_t lock;
	pthread_cond_t more;		/* a call queued, or stop */
	struct sn_blocking_call *head, *tail;	/* queued, under lock */
	pthread_t *threads;		/* max of them, under lock */
	unsigned nthreads;		/* started, under lock */
	unsigned nidle;			/* waiting on more, under lock */
	unsigned max;			/* SNOW_BLOCKING_THREADS */
	bool stop;			/* under lock */
	_Atomic long busy;		/* calls queued or running */
};

/*
 * Set the pool up empty (threads start as calls come), its size from
 * SNOW_BLOCKING_THREADS: 0, or EINVAL for a bad value, ENOMEM.
 */
int sn_blocking_init(struct sn_blocking_pool *bp);
/* Wait for the calls queued and running, then stop and join every
 * thread and free the pool. */
void sn_blocking_fini(struct sn_blocking_pool *bp);

/* Whether calls are queued or running: the actors waiting for them
 * will run again. */
static inline bool
sn_blocking_busy(struct sn_blocking_pool *bp)
{
	return atomic_load(&bp->busy) != 0;
}

#endif /* SN_BLOCKING_H */
