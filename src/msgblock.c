/*
 * Message blocks: the heap blocks messages live in, and the lists that
 * keep freed small ones for the next sends; see mailbox.h.
 *
 * Every message is a malloc() block, made by its sender and freed by its
 * receiver.  Most are small, and under load they come and go at the rate
 * of the sends: one actor on one worker receiving from a thousand
 * senders frees blocks that a thousand sends allocated before, more than
 * glibc's per-thread cache holds (7 blocks of a size), so each pair went
 * through malloc's arena code, about a fifth of a loaded send-and-receive
 * (perf, bench/snow-bench overload 1000 1).  So each worker thread keeps
 * freed small blocks on a list of its own and hands them to its next
 * small messages, as the Erlang VM's schedulers keep their own
 * allocators.
 *
 * A block is small when malloc() made it for SN_MSG_SMALL bytes: a
 * worker asks for exactly that much for any message that fits, and a
 * free recognises it by its usable size, whoever made it.  Threads that
 * are not workers keep no list: they allocate exact sizes and free what
 * they get.  The list is the thread's alone (no atomics): a block freed
 * on another worker than the one that made it joins that worker's list,
 * ordered after its last use by the mailbox it came through.  Lists are
 * bounded, SN_MSG_CACHE_MAX blocks (about 40 KiB), and given back when
 * the worker ends.
 *
 * A list that is full passes half of itself, a batch of SN_MSG_BATCH
 * blocks, to a depot that every worker shares, and a list that runs dry
 * takes a batch from there before it asks malloc(): the magazines and
 * depot of Bonwick's slab allocator, in their simplest form.  Without it
 * the workers of a producer and a consumer on two cores never met: the
 * consumer's list filled and it freed the rest into the producer's
 * arena, under that arena's lock, while the producer's list stayed empty
 * and it allocated every block from that arena (_int_malloc and _int_free
 * took a third of `bench/snow-bench overload 1000 2`).  Through the
 * depot, a block crosses between the two for a spin lock taken once per
 * batch by each side.  One worker alone, or workers that each receive
 * what they send, never fill a list and never take the lock.  The depot
 * holds at most SN_MSG_DEPOT_MAX batches (about 320 KiB); past that a
 * spilled batch is freed.  The runtime's stop frees what it holds, once
 * the workers are gone.
 *
 * The trade-off: a worker's small message takes SN_MSG_SMALL bytes
 * however short it is, 80 bytes of heap for an 8-byte message where it
 * took 48; a mailbox's backlog is bounded by backpressure, so this is
 * bytes, not growth.  Under AddressSanitizer blocks are not recycled, so
 * that a use after free is still caught.
 */
#include "config.h"

#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "context.h"	/* SN_ASAN */
#include "internal.h"
#include "mailbox.h"

/* A small block while it is free. */
struct free_block {
	struct free_block *next;	/* in a list, or in a batch */
	struct free_block *next_batch;	/* a batch's first block: the
					 * depot's next batch */
};

struct msg_cache {
	struct free_block *free;
	unsigned n;
	bool on;
	size_t usable;		/* malloc_usable_size() of a small block */
};

static SN_TLS struct msg_cache mcache;

/*
 * The batches, a stack linked through their first blocks, under lock.
 * batches is atomic only so that a list that ran dry can see the depot
 * empty without taking the lock (relaxed: a hint; what a batch holds is
 * published by the lock).
 */
static struct {
	sn_spinlock_t lock;
	_Atomic(struct free_block *) batches;
	unsigned n;
} depot;

/* Free a chain of blocks linked through next. */
static void
free_chain(struct free_block *b)
{
	struct free_block *next;

	for (; b != NULL; b = next) {
		next = b->next;
		free(b);
	}
}

/* Keep batch in the depot: false when the depot is full. */
static bool
depot_put(struct free_block *batch)
{
	bool kept = false;

	sn_spin_lock(&depot.lock);
	if (depot.n < SN_MSG_DEPOT_MAX) {
		batch->next_batch = atomic_load_explicit(&depot.batches,
		    memory_order_relaxed);
		atomic_store_explicit(&depot.batches, batch,
		    memory_order_relaxed);
		depot.n++;
		kept = true;
	}
	sn_spin_unlock(&depot.lock);
	return kept;
}

/* A batch of SN_MSG_BATCH blocks from the depot, or NULL. */
static struct free_block *
depot_take(void)
{
	struct free_block *batch;

	if (atomic_load_explicit(&depot.batches, memory_order_relaxed) == NULL)
		return NULL;
	sn_spin_lock(&depot.lock);
	batch = atomic_load_explicit(&depot.batches, memory_order_relaxed);
	if (batch != NULL) {
		atomic_store_explicit(&depot.batches, batch->next_batch,
		    memory_order_relaxed);
		depot.n--;
	}
	sn_spin_unlock(&depot.lock);
	return batch;
}

/*
 * The list is full: pass its older half to the depot, or free it when
 * the depot is full too.  The newer half stays: those blocks were used
 * last, on this core.
 */
static void
list_spill(void)
{
	struct free_block *keep_last = mcache.free, *batch;
	unsigned i;

	for (i = 1; i < mcache.n - SN_MSG_BATCH; i++)
		keep_last = keep_last->next;
	batch = keep_last->next;
	keep_last->next = NULL;
	mcache.n -= SN_MSG_BATCH;
	if (!depot_put(batch))
		free_chain(batch);
}

void
sn_msg_depot_drain(void)
{
	struct free_block *batch, *next;

	sn_spin_lock(&depot.lock);
	batch = atomic_load_explicit(&depot.batches, memory_order_relaxed);
	atomic_store_explicit(&depot.batches, NULL, memory_order_relaxed);
	depot.n = 0;
	sn_spin_unlock(&depot.lock);
	for (; batch != NULL; batch = next) {
		next = batch->next_batch;
		free_chain(batch);
	}
}

unsigned
sn_msg_depot_count(void)
{
	unsigned n;

	sn_spin_lock(&depot.lock);
	n = depot.n;
	sn_spin_unlock(&depot.lock);
	return n;
}

void
sn_msg_cache_start(void)
{
#ifndef SN_ASAN
	void *probe = malloc(SN_MSG_SMALL);

	if (probe == NULL)
		return;			/* no list: exact sizes */
	mcache.usable = malloc_usable_size(probe);
	free(probe);
	mcache.free = NULL;
	mcache.n = 0;
	mcache.on = true;
#endif
}

void
sn_msg_cache_stop(void)
{
	mcache.on = false;
	free_chain(mcache.free);
	mcache.free = NULL;
	mcache.n = 0;
}

unsigned
sn_msg_cache_count(void)
{
	return mcache.n;
}

/* A block for a message of bytes in all. */
static struct sn_msg *
msg_block(size_t bytes)
{
	struct free_block *b;

	if (!mcache.on || bytes > SN_MSG_SMALL)
		return malloc(bytes);
	if (mcache.free == NULL && (mcache.free = depot_take()) != NULL)
		mcache.n = SN_MSG_BATCH;
	if ((b = mcache.free) == NULL)
		return malloc(SN_MSG_SMALL);
	mcache.free = b->next;
	mcache.n--;
	return (struct sn_msg *)(void *)b;
}

struct sn_msg *
sn_msg_alloc(uint64_t tag, uint64_t len, unsigned nkeys)
{
	uint64_t room = ((len + 7) & ~(uint64_t)7) + nkeys * sizeof(uint64_t);
	struct sn_msg *m;

	if (len > SIZE_MAX - sizeof(*m) - 8 - nkeys * sizeof(uint64_t))
		return NULL;
	m = msg_block(sizeof(*m) + room);
	if (m == NULL)
		return NULL;
	m->tag = tag;
	m->len = len;
	return m;
}

struct sn_msg *
sn_msg_new(uint64_t tag, const void *data, uint64_t len)
{
	struct sn_msg *m;

	if (len > SIZE_MAX - sizeof(*m))
		return NULL;
	m = msg_block(sizeof(*m) + len);
	if (m == NULL)
		return NULL;
	m->tag = tag;
	m->len = len;
	if (len != 0)
		memcpy(m->data, data, len);
	return m;
}

void
sn_msg_free(struct sn_msg *m)
{
	struct free_block *b = (struct free_block *)(void *)m;

	if (mcache.on && malloc_usable_size(m) == mcache.usable) {
		if (mcache.n == SN_MSG_CACHE_MAX)
			list_spill();
		b->next = mcache.free;
		mcache.free = b;
		mcache.n++;
		return;
	}
	free(m);
}
