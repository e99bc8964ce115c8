/*
 * Run queues; see runq.h.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "runq.h"
#include "context.h"		/* SN_TSAN */

/*
 * ThreadSanitizer cannot see Concurrency Kit's fences, so tell it that an
 * actor pushed here is published to whoever pops it.
 */
#ifdef SN_TSAN
#define published(p)	__tsan_release(p)
#define received(p)	__tsan_acquire(p)
#else
#define published(p)	((void)(p))
#define received(p)	((void)(p))
#endif

#define SN_OVERFLOW_BATCH	64	/* actors moved per overflow lock */

int
sn_runq_init(struct sn_runq *q, unsigned log2_size)
{
	unsigned size = 1u << log2_size;
	int err;

	memset(q, 0, sizeof(*q));
	q->slots = calloc(size, sizeof(*q->slots));
	if (q->slots == NULL)
		return ENOMEM;
	ck_ring_init(&q->ring, size);
	err = pthread_mutex_init(&q->lock, NULL);
	if (err != 0) {
		free(q->slots);
		q->slots = NULL;
	}
	return err;
}

void
sn_runq_destroy(struct sn_runq *q)
{
	if (q->slots == NULL)
		return;
	free(q->slots);
	q->slots = NULL;
	pthread_mutex_destroy(&q->lock);
}

void
sn_runq_push(struct sn_runq *q, struct sn_proc *p)
{
	published(p);
	if (sn_likely(ck_ring_enqueue_mpmc(&q->ring, q->slots, p)))
		return;
	p->next = NULL;
	pthread_mutex_lock(&q->lock);
	if (q->ov_tail != NULL)
		q->ov_tail->next = p;
	else
		q->ov_head = p;
	q->ov_tail = p;
	atomic_fetch_add_explicit(&q->ov_count, 1, memory_order_release);
	pthread_mutex_unlock(&q->lock);
}

/* Detach up to SN_OVERFLOW_BATCH actors from the front of the overflow. */
static struct sn_proc *
overflow_take(struct sn_runq *q)
{
	struct sn_proc *first, *last;
	size_t n = 1;

	pthread_mutex_lock(&q->lock);
	first = q->ov_head;
	if (first != NULL) {
		for (last = first; last->next != NULL &&
		    n < SN_OVERFLOW_BATCH; last = last->next)
			n++;
		q->ov_head = last->next;
		if (q->ov_head == NULL)
			q->ov_tail = NULL;
		last->next = NULL;
		atomic_fetch_sub_explicit(&q->ov_count, n,
		    memory_order_relaxed);
	}
	pthread_mutex_unlock(&q->lock);
	return first;
}

/* Put a list back in front of the overflow, where it came from. */
static void
overflow_return(struct sn_runq *q, struct sn_proc *list)
{
	struct sn_proc *last = list;
	size_t n = 1;

	while (last->next != NULL) {
		last = last->next;
		n++;
	}
	pthread_mutex_lock(&q->lock);
	last->next = q->ov_head;
	q->ov_head = list;
	if (q->ov_tail == NULL)
		q->ov_tail = last;
	atomic_fetch_add_explicit(&q->ov_count, n, memory_order_release);
	pthread_mutex_unlock(&q->lock);
}

/*
 * Take a batch off the overflow under one lock, return its first actor
 * and move the rest into the ring, which is empty or nearly so when we get
 * here.  Taking one at a time would make every pop fight the pushing
 * thread for the lock while the list is long.
 */
static struct sn_proc *
overflow_pop(struct sn_runq *q)
{
	struct sn_proc *first = overflow_take(q), *rest, *next;

	if (first == NULL)
		return NULL;
	for (rest = first->next; rest != NULL; rest = next) {
		next = rest->next;
		if (!ck_ring_enqueue_mpmc(&q->ring, q->slots, rest))
			break;
	}
	if (rest != NULL)
		overflow_return(q, rest);	/* the ring filled up again */
	first->next = NULL;
	return first;
}

struct sn_proc *
sn_runq_pop(struct sn_runq *q)
{
	struct sn_proc *p;

	if (ck_ring_dequeue_mpmc(&q->ring, q->slots, &p)) {
		received(p);
		return p;
	}
	if (atomic_load_explicit(&q->ov_count, memory_order_acquire) == 0)
		return NULL;
	p = overflow_pop(q);
	if (p != NULL)
		received(p);
	return p;
}

size_t
sn_runq_size(struct sn_runq *q)
{
	return ck_ring_size(&q->ring) + sn_load(&q->ov_count);
}
