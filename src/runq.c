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

#define SN_OVERFLOW_BATCH	64	/* actors moved per overflow refill */

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

bool
sn_runq_push_owner(struct sn_runq *q, struct sn_proc *p)
{
	published(p);
	return ck_ring_enqueue_spmc(&q->ring, q->slots, p);
}

/* Called under lock. */
static void
overflow_append(struct sn_runq *q, struct sn_proc *p)
{
	p->next = NULL;
	if (q->ov_tail != NULL)
		q->ov_tail->next = p;
	else
		q->ov_head = p;
	q->ov_tail = p;
	atomic_fetch_add_explicit(&q->ov_count, 1, memory_order_release);
}

void
sn_runq_push(struct sn_runq *q, struct sn_proc *p)
{
	published(p);
	pthread_mutex_lock(&q->lock);
	/* Behind the overflow if there is one, to keep the order. */
	if (sn_load(&q->ov_count) != 0 ||
	    !ck_ring_enqueue_spmc(&q->ring, q->slots, p))
		overflow_append(q, p);
	pthread_mutex_unlock(&q->lock);
}

/*
 * The ring is empty but the overflow is not: under the producers' lock,
 * take the first overflowed actor and move a batch of the next ones into
 * the ring, so the following pops are lock-free again.
 */
static struct sn_proc *
overflow_pop(struct sn_runq *q)
{
	struct sn_proc *first, *p, *next;
	size_t moved = 0;

	pthread_mutex_lock(&q->lock);
	first = q->ov_head;
	if (first != NULL) {
		q->ov_head = first->next;
		moved = 1;
		while ((p = q->ov_head) != NULL && moved < SN_OVERFLOW_BATCH) {
			/* Once in the ring, p may run, exit and be reused
			 * at once: read its link first. */
			next = p->next;
			published(p);
			if (!ck_ring_enqueue_spmc(&q->ring, q->slots, p))
				break;
			q->ov_head = next;
			moved++;
		}
		if (q->ov_head == NULL)
			q->ov_tail = NULL;
		atomic_fetch_sub_explicit(&q->ov_count, moved,
		    memory_order_relaxed);
	}
	pthread_mutex_unlock(&q->lock);
	return first;
}

struct sn_proc *
sn_runq_pop_slow(struct sn_runq *q)
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

