/*
 * The process table; see ptable.h.
 */
#include "config.h"

#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include <ck_pr.h>

#include "ptable.h"

#define SN_PT_BUCKETS_MIN	16
#define SN_SPIN_YIELD		128	/* spins between sched_yield()s */

/* Blocks ever taken: never reset, so a PID is never reused. */
static uint64_t next_block;

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

/* Fibonacci hashing spreads consecutive block numbers. */
static uint64_t
block_hash(uint64_t blockno)
{
	return blockno * 0x9e3779b97f4a7c15ull;
}

static struct sn_pt_shard *
shard_of(struct sn_ptable *t, uint64_t blockno)
{
	return &t->shard[block_hash(blockno) >> 58];	/* 64 shards */
}

static struct sn_pidblock **
bucket_of(struct sn_pt_shard *s, uint64_t blockno)
{
	return &s->buckets[(block_hash(blockno) >> 20) & (s->nbuckets - 1)];
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
		struct sn_pidblock *b, *next;
		size_t j;

		if (s->buckets == NULL)
			continue;
		for (j = 0; j < s->nbuckets; j++)
			for (b = s->buckets[j]; b != NULL; b = next) {
				next = b->next;
				free(b);
			}
		free(s->buckets);
		s->buckets = NULL;
	}
}

/* Double the buckets when chains average two; called under the lock.
 * Short of memory the table keeps its size: chains grow, nothing is
 * lost. */
static void
shard_grow(struct sn_pt_shard *s)
{
	size_t n = s->nbuckets * 2, i;
	struct sn_pidblock **nb = calloc(n, sizeof(*nb)), *b, *next;

	if (nb == NULL)
		return;
	for (i = 0; i < s->nbuckets; i++)
		for (b = s->buckets[i]; b != NULL; b = next) {
			size_t j = (block_hash(b->base / SN_PID_BLOCK) >> 20) &
			    (n - 1);

			next = b->next;
			b->next = nb[j];
			nb[j] = b;
		}
	free(s->buckets);
	s->buckets = nb;
	s->nbuckets = n;
}

/* Unlink and free b, whose shard s is locked. */
static void
block_free(struct sn_pt_shard *s, struct sn_pidblock *b)
{
	struct sn_pidblock **pp = bucket_of(s, b->base / SN_PID_BLOCK);

	while (*pp != b)
		pp = &(*pp)->next;
	*pp = b->next;
	s->count--;
	free(b);
}

void
sn_pidsource_close(struct sn_ptable *t, struct sn_pidsource *src)
{
	struct sn_pidblock *b = src->block;
	struct sn_pt_shard *s;

	if (b == NULL)
		return;
	s = shard_of(t, b->base / SN_PID_BLOCK);
	sn_spin_lock(&s->lock);
	b->sealed = true;
	b->issued = src->next - (b->base == 0);	/* PID 0 is never issued */
	if (b->left == b->issued)
		block_free(s, b);
	sn_spin_unlock(&s->lock);
	src->block = NULL;
}

static int
block_open(struct sn_ptable *t, struct sn_pidsource *src)
{
	uint64_t blockno = ck_pr_faa_64(&next_block, 1);
	struct sn_pidblock *b = calloc(1, sizeof(*b));
	struct sn_pt_shard *s;

	if (b == NULL)
		return ENOMEM;
	b->base = blockno * SN_PID_BLOCK;
	s = shard_of(t, blockno);
	sn_spin_lock(&s->lock);
	if (s->count >= 2 * s->nbuckets)
		shard_grow(s);
	b->next = *bucket_of(s, blockno);
	*bucket_of(s, blockno) = b;
	s->count++;
	sn_spin_unlock(&s->lock);
	src->block = b;
	src->next = b->base == 0;	/* PIDs start at 1 */
	return 0;
}

int
sn_ptable_insert(struct sn_ptable *t, struct sn_pidsource *src,
    struct sn_proc *p)
{
	struct sn_pidblock *b;
	int err;

	if (src->block != NULL && src->next == SN_PID_BLOCK)
		sn_pidsource_close(t, src);
	if (src->block == NULL && (err = block_open(t, src)) != 0)
		return err;
	b = src->block;
	p->pid = b->base + src->next;
	p->pidblock = b;
	/* Release: a lookup that finds p sees it whole. */
	atomic_store_explicit(&b->slot[src->next++], p, memory_order_release);
	return 0;
}

void
sn_ptable_remove_held(struct sn_pt_shard *s, struct sn_proc *p)
{
	struct sn_pidblock *b = p->pidblock;

	if (b == NULL)
		return;		/* not in */
	atomic_store_explicit(&b->slot[p->pid - b->base], NULL,
	    memory_order_relaxed);
	p->pidblock = NULL;
	if (++b->left == b->issued && b->sealed)
		block_free(s, b);
}

void
sn_ptable_remove(struct sn_ptable *t, struct sn_proc *p)
{
	struct sn_pt_shard *s = shard_of(t, p->pid / SN_PID_BLOCK);

	sn_spin_lock(&s->lock);
	sn_ptable_remove_held(s, p);
	sn_spin_unlock(&s->lock);
}

static struct sn_pidblock *
block_find(struct sn_pt_shard *s, uint64_t blockno)
{
	struct sn_pidblock *b;

	for (b = *bucket_of(s, blockno); b != NULL; b = b->next)
		if (b->base == blockno * SN_PID_BLOCK)
			return b;
	return NULL;
}

struct sn_proc *
sn_ptable_lock(struct sn_ptable *t, uint64_t pid, struct sn_pt_shard **held)
{
	uint64_t blockno = pid / SN_PID_BLOCK;
	struct sn_pt_shard *s = shard_of(t, blockno);
	struct sn_pidblock *b;
	struct sn_proc *p = NULL;

	sn_spin_lock(&s->lock);
	b = block_find(s, blockno);
	if (b != NULL)
		p = atomic_load_explicit(&b->slot[pid % SN_PID_BLOCK],
		    memory_order_acquire);
	if (p == NULL) {
		sn_spin_unlock(&s->lock);
		*held = NULL;
		return NULL;
	}
	*held = s;
	return p;
}

void
sn_ptable_unlock(struct sn_pt_shard *held)
{
	if (held != NULL)
		sn_spin_unlock(&held->lock);
}

void
sn_ptable_foreach(struct sn_ptable *t, void (*fn)(struct sn_proc *, void *),
    void *arg)
{
	int i;

	for (i = 0; i < SN_PT_SHARDS; i++) {
		struct sn_pt_shard *s = &t->shard[i];
		struct sn_pidblock *b;
		size_t j, k;

		sn_spin_lock(&s->lock);
		for (j = 0; j < s->nbuckets; j++)
			for (b = s->buckets[j]; b != NULL; b = b->next)
				for (k = 0; k < SN_PID_BLOCK; k++) {
					struct sn_proc *p = atomic_load_explicit(
					    &b->slot[k], memory_order_acquire);

					if (p != NULL)
						fn(p, arg);
				}
		sn_spin_unlock(&s->lock);
	}
}
