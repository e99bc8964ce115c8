/*
 * Run queues; see runq.h.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "runq.h"

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

static struct sn_proc *
overflow_pop(struct sn_runq *q)
{
	struct sn_proc *p;

	pthread_mutex_lock(&q->lock);
	p = q->ov_head;
	if (p != NULL) {
		q->ov_head = p->next;
		if (q->ov_head == NULL)
			q->ov_tail = NULL;
		atomic_fetch_sub_explicit(&q->ov_count, 1,
		    memory_order_relaxed);
	}
	pthread_mutex_unlock(&q->lock);
	return p;
}

struct sn_proc *
sn_runq_pop(struct sn_runq *q)
{
	struct sn_proc *p;

	if (ck_ring_dequeue_mpmc(&q->ring, q->slots, &p))
		return p;
	if (atomic_load_explicit(&q->ov_count, memory_order_acquire) == 0)
		return NULL;
	return overflow_pop(q);
}

size_t
sn_runq_size(struct sn_runq *q)
{
	return ck_ring_size(&q->ring) + sn_load(&q->ov_count);
}
