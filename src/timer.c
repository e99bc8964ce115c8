/*
 * Timers; see timer.h.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <snow/runtime.h>

#include "timer.h"

#define SN_TIMERS_MIN	64

uint64_t
sn_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t
sn_deadline_after(int64_t ms)
{
	uint64_t now = sn_now_ns();

	if (ms <= 0)
		return now;
	/* One rule for every wait: the same timeout is for ever or not
	 * whatever the clock reads, not only once the sum overflows. */
	if (ms >= SNOW_TIMEOUT_FOREVER_MS ||
	    (uint64_t)ms > (UINT64_MAX - now) / 1000000u)
		return UINT64_MAX;
	return now + (uint64_t)ms * 1000000u;
}

void
sn_timers_init(struct sn_timers *t)
{
	memset(t, 0, sizeof(*t));
	sn_spin_init(&t->lock);
	atomic_init(&t->next_due, UINT64_MAX);
	t->compact_at = SN_TIMERS_MIN;
}

/* Under the lock, after any change: what idle workers sleep towards. */
static void
publish(struct sn_timers *t)
{
	atomic_store_explicit(&t->next_due,
	    t->n ? t->heap[0].deadline : UINT64_MAX, memory_order_relaxed);
}

static void
timer_discard(struct sn_timer *tm)
{
	if (tm->kind == SN_TIMER_SEND)
		sn_msg_free(tm->u.send.msg);
}

void
sn_timers_destroy(struct sn_timers *t)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		timer_discard(&t->heap[i]);
	free(t->heap);
	sn_timers_init(t);
}

static int
before(const struct sn_timer *a, const struct sn_timer *b)
{
	if (a->deadline != b->deadline)
		return a->deadline < b->deadline;
	return a->order < b->order;
}

static void
sift_up(struct sn_timer *h, size_t i)
{
	struct sn_timer tm = h[i];

	while (i > 0) {
		size_t parent = (i - 1) / 2;

		if (!before(&tm, &h[parent]))
			break;
		h[i] = h[parent];
		i = parent;
	}
	h[i] = tm;
}

static void
sift_down(struct sn_timer *h, size_t n, size_t i)
{
	struct sn_timer tm = h[i];

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= n)
			break;
		if (c + 1 < n && before(&h[c + 1], &h[c]))
			c++;
		if (!before(&h[c], &tm))
			break;
		h[i] = h[c];
		i = c;
	}
	h[i] = tm;
}

static int
reserve(struct sn_timer **items, size_t *cap, size_t need)
{
	size_t ncap = *cap ? *cap : SN_TIMERS_MIN;
	struct sn_timer *ni;

	if (need <= *cap)
		return 0;
	while (ncap < need)
		ncap *= 2;
	ni = realloc(*items, ncap * sizeof(*ni));
	if (ni == NULL)
		return ENOMEM;
	*items = ni;
	*cap = ncap;
	return 0;
}

int
sn_timers_add(struct sn_timers *t, const struct sn_timer *tm)
{
	sn_spin_lock(&t->lock);
	if (reserve(&t->heap, &t->cap, t->n + 1) != 0) {
		sn_spin_unlock(&t->lock);
		return ENOMEM;
	}
	t->heap[t->n] = *tm;
	t->heap[t->n].order = t->order++;
	if (tm->kind == SN_TIMER_SEND)
		atomic_fetch_add(&t->live, 1);
	sift_up(t->heap, t->n);
	t->n++;
	publish(t);
	sn_spin_unlock(&t->lock);
	return 0;
}

int
sn_timers_pop_due(struct sn_timers *t, uint64_t now, struct sn_timer *out)
{
	/* The published deadline spares the lock when nothing is due. */
	if (sn_timers_next(t) > now)
		return 0;
	sn_spin_lock(&t->lock);
	if (t->n == 0 || t->heap[0].deadline > now) {
		sn_spin_unlock(&t->lock);
		return 0;
	}
	*out = t->heap[0];
	if (out->kind == SN_TIMER_SEND)
		atomic_fetch_sub(&t->live, 1);
	t->heap[0] = t->heap[--t->n];
	if (t->n > 0)
		sift_down(t->heap, t->n, 0);
	publish(t);
	sn_spin_unlock(&t->lock);
	return 1;
}

size_t
sn_timers_sweep(struct sn_timers *t,
    int (*useless)(const struct sn_timer *), bool force)
{
	size_t i, kept = 0, sends = 0;

	sn_spin_lock(&t->lock);
	if (t->n == 0 || (!force && t->n < t->compact_at)) {
		sn_spin_unlock(&t->lock);
		return 0;
	}
	for (i = 0; i < t->n; i++) {
		struct sn_timer *tm = &t->heap[i];

		if (!useless(tm)) {
			t->heap[kept++] = *tm;
		} else if (tm->kind == SN_TIMER_SEND) {
			timer_discard(tm);
			atomic_fetch_sub(&t->live, 1);
			sends++;
		}
	}
	t->n = kept;
	for (i = kept / 2; i-- > 0;)
		sift_down(t->heap, t->n, i);
	t->compact_at = kept * 2 > SN_TIMERS_MIN ? kept * 2 : SN_TIMERS_MIN;
	publish(t);
	sn_spin_unlock(&t->lock);
	return sends;
}

int
sn_inbox_init(struct sn_timer_inbox *in)
{
	memset(in, 0, sizeof(*in));
	return pthread_mutex_init(&in->lock, NULL);
}

void
sn_inbox_destroy(struct sn_timer_inbox *in)
{
	size_t i;

	for (i = 0; i < in->n; i++)
		timer_discard(&in->items[i]);
	free(in->items);
	in->items = NULL;
	in->n = in->cap = 0;
	atomic_store(&in->count, 0);
	pthread_mutex_destroy(&in->lock);
}

int
sn_inbox_add(struct sn_timer_inbox *in, const struct sn_timer *tm)
{
	int err;

	pthread_mutex_lock(&in->lock);
	err = reserve(&in->items, &in->cap, in->n + 1);
	if (err == 0) {
		in->items[in->n++] = *tm;
		atomic_store(&in->count, in->n);
	}
	pthread_mutex_unlock(&in->lock);
	return err;
}

void
sn_inbox_adopt(struct sn_timer_inbox *in, struct sn_timers *t)
{
	size_t i, taken = 0;

	pthread_mutex_lock(&in->lock);
	for (i = 0; i < in->n; i++) {
		if (sn_timers_add(t, &in->items[i]) != 0)
			break;
		taken++;
	}
	/* Keep what did not fit, in order, for the next worker to try. */
	memmove(in->items, in->items + taken,
	    (in->n - taken) * sizeof(*in->items));
	in->n -= taken;
	atomic_store(&in->count, in->n);
	pthread_mutex_unlock(&in->lock);
}
