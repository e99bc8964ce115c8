/*
 * The process table; see ptable.h.
 */
#include "config.h"

#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "ptable.h"

#define SN_PT_BUCKETS_MIN	64
#define SN_SPIN_YIELD		128	/* spins between sched_yield()s */

void
sn_spin_lock_slow(sn_spinlock_t *l)
{
	unsigned spins = 0;

	do {
		while (atomic_load_explicit(&l->held, memory_order_relaxed)) {
			if (++spins % SN_SPIN_YIELD == 0)
				sched_yield();
			else
				sn_cpu_relax();
		}
	} while (atomic_exchange_explicit(&l->held, 1, memory_order_acquire));
}

/* Fibonacci hashing: consecutive PIDs land in different shards and
 * buckets. */
static uint64_t
pid_hash(uint64_t pid)
{
	return pid * 0x9e3779b97f4a7c15ull;
}

/* By the PID's block of 256 (SN_PID_BLOCK in scheduler.c), spread. */
static struct sn_pt_shard *
shard_of(struct sn_ptable *t, uint64_t pid)
{
	return &t->shard[pid_hash(pid >> 8) >> 58];	/* SN_PT_SHARDS == 64 */
}

static size_t
bucket_of(const struct sn_pt_shard *s, uint64_t h)
{
	return (size_t)(h >> 20) & (s->nbuckets - 1);
}

int
sn_ptable_init(struct sn_ptable *t)
{
	int i;

	memset(t, 0, sizeof(*t));
	for (i = 0; i < SN_PT_SHARDS; i++) {
		struct sn_pt_shard *s = &t->shard[i];

		s->buckets = calloc(SN_PT_BUCKETS_MIN, sizeof(*s->buckets));
		if (s->buckets == NULL) {
			sn_ptable_destroy(t);
			return ENOMEM;
		}
		s->nbuckets = SN_PT_BUCKETS_MIN;
		sn_spin_init(&s->lock);
	}
	return 0;
}

void
sn_ptable_destroy(struct sn_ptable *t)
{
	int i;

	for (i = 0; i < SN_PT_SHARDS; i++) {
		struct sn_pt_shard *s = &t->shard[i];

		if (s->buckets == NULL)
			continue;
		free(s->buckets);
		s->buckets = NULL;
	}
}

/*
 * Double the buckets when chains average two; called under the lock.
 * If memory is short the table keeps its size: chains get longer, no
 * entry is lost.
 */
static void
shard_grow(struct sn_pt_shard *s)
{
	size_t n = s->nbuckets * 2, i;
	struct sn_proc **b = calloc(n, sizeof(*b)), *p, *next;

	if (b == NULL)
		return;
	for (i = 0; i < s->nbuckets; i++)
		for (p = s->buckets[i]; p != NULL; p = next) {
			size_t j = (size_t)(pid_hash(p->pid) >> 20) & (n - 1);

			next = p->pt_next;
			p->pt_next = b[j];
			b[j] = p;
		}
	free(s->buckets);
	s->buckets = b;
	s->nbuckets = n;
}

void
sn_ptable_insert(struct sn_ptable *t, struct sn_proc *p)
{
	uint64_t h = pid_hash(p->pid);
	struct sn_pt_shard *s = shard_of(t, p->pid);
	size_t b;

	sn_spin_lock(&s->lock);
	if (s->count >= 2 * s->nbuckets)
		shard_grow(s);
	b = bucket_of(s, h);
	p->pt_next = s->buckets[b];
	s->buckets[b] = p;
	s->count++;
	sn_spin_unlock(&s->lock);
}

void
sn_ptable_remove_held(struct sn_pt_shard *s, struct sn_proc *p)
{
	struct sn_proc **pp;

	for (pp = &s->buckets[bucket_of(s, pid_hash(p->pid))]; *pp != NULL;
	    pp = &(*pp)->pt_next)
		if (*pp == p) {
			*pp = p->pt_next;
			p->pt_next = NULL;
			s->count--;
			break;
		}
}

void
sn_ptable_remove(struct sn_ptable *t, struct sn_proc *p)
{
	struct sn_pt_shard *s = shard_of(t, p->pid);

	sn_spin_lock(&s->lock);
	sn_ptable_remove_held(s, p);
	sn_spin_unlock(&s->lock);
}

void
sn_ptable_foreach(struct sn_ptable *t, void (*fn)(struct sn_proc *, void *),
    void *arg)
{
	int i;

	for (i = 0; i < SN_PT_SHARDS; i++) {
		struct sn_pt_shard *s = &t->shard[i];
		struct sn_proc *p, *next;
		size_t b;

		sn_spin_lock(&s->lock);
		for (b = 0; b < s->nbuckets; b++)
			for (p = s->buckets[b]; p != NULL; p = next) {
				next = p->pt_next;
				fn(p, arg);
			}
		sn_spin_unlock(&s->lock);
	}
}

struct sn_proc *
sn_ptable_lock(struct sn_ptable *t, uint64_t pid, struct sn_pt_shard **held)
{
	uint64_t h = pid_hash(pid);
	struct sn_pt_shard *s = shard_of(t, pid);
	struct sn_proc *p;

	sn_spin_lock(&s->lock);
	for (p = s->buckets[bucket_of(s, h)]; p != NULL; p = p->pt_next)
		if (p->pid == pid) {
			*held = s;
			return p;
		}
	sn_spin_unlock(&s->lock);
	*held = NULL;
	return NULL;
}

void
sn_ptable_unlock(struct sn_pt_shard *held)
{
	if (held != NULL)
		sn_spin_unlock(&held->lock);
}
