/*
 * Mailboxes: an intrusive multi-producer, single-consumer queue of
 * messages (after Dmitry Vyukov's non-blocking MPSC queue).
 *
 * Any thread may push; only the mailbox's actor pops.  A push is one
 * atomic exchange and one store, and never waits.  Messages from one
 * sender come out in the order they were sent.  A pop may report the
 * mailbox empty while a push is half done (between its exchange and its
 * link); the pusher then finishes and, in the runtime, wakes the actor,
 * so nothing is lost.
 */
#ifndef SN_MAILBOX_H
#define SN_MAILBOX_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct sn_mlink {
	_Atomic(struct sn_mlink *) next;
};

/*
 * A message as snow_actor_receive() hands it out: the pointer returned is
 * &tag, followed by len and the bytes.
 */
struct sn_msg {
	struct sn_mlink link;
	uint64_t tag;
	uint64_t len;
	unsigned char data[];
};

/*
 * The queue, and in front of it the messages a selective receive took
 * out of it and passed over ("saved"), oldest first.  Saved messages are
 * older than everything still queued, so the mailbox in arrival order is
 * saved, then queued; a receive of any kind looks at saved ones first.
 * They are the consumer's alone: a producer only ever sees the queue,
 * and a parked actor waits only for what is queued, because it has
 * already looked at everything saved.
 */
struct sn_mailbox {
	_Atomic(struct sn_mlink *) head;	/* newest; producers swap here */
	/* Oldest; written by the consumer only, atomic because a worker
	 * parking the consumer peeks at it (sn_mailbox_ready). */
	_Atomic(struct sn_mlink *) tail;
	struct sn_mlink stub;
	struct sn_msg *saved;		/* oldest saved, or NULL */
	struct sn_msg *saved_last;	/* newest saved, when saved is set */
	/* For introspection: messages in = pushed - popped + nsaved.
	 * pushed is counted by the runtime's pushers under the owner's
	 * process table lock (actor.c), and read without it by the
	 * consumer (backpressure.c); the other two by the consumer. */
	_Atomic uint64_t pushed;
	_Atomic uint64_t popped;
	_Atomic uint32_t nsaved;
};

void sn_mailbox_init(struct sn_mailbox *mb);
/* Any thread. */
void sn_mailbox_push(struct sn_mailbox *mb, struct sn_msg *m);
/* The consumer only; NULL when empty (or a push is half done). */
struct sn_msg *sn_mailbox_pop(struct sn_mailbox *mb);
/*
 * The consumer, or whoever holds it parked: true when a message is linked
 * in (sn_mailbox_pop() will return it), or may be, when a push is half
 * done; false only when no completed push is waiting.
 *
 * It reads only the mailbox itself, never a message: the worker that
 * parks an actor calls this after publishing the park, when a sender may
 * already have requeued the actor and another worker popped and freed
 * the messages.  So a half-done push reads as ready and the actor is
 * requeued to find nothing yet, a rare, short spin.
 */
static inline bool
sn_mailbox_ready(struct sn_mailbox *mb)
{
	return atomic_load_explicit(&mb->tail, memory_order_relaxed) !=
	    &mb->stub ||
	    atomic_load_explicit(&mb->stub.next, memory_order_acquire) != NULL;
}

/*
 * The consumer only: the oldest message, saved or queued; NULL when there
 * is none (or a push is half done).  Inline: it is every receive's first
 * step, and with nothing saved it costs one load more than a pop.
 */
static inline struct sn_msg *
sn_mailbox_take(struct sn_mailbox *mb)
{
	struct sn_msg *m = mb->saved;

	if (__builtin_expect(m == NULL, 1))
		return sn_mailbox_pop(mb);
	mb->saved = (struct sn_msg *)atomic_load_explicit(&m->link.next,
	    memory_order_relaxed);
	atomic_store_explicit(&mb->nsaved, atomic_load_explicit(&mb->nsaved,
	    memory_order_relaxed) - 1, memory_order_relaxed);
	return m;
}

/* What a selective receive does with a message it looks at. */
enum sn_match {
	SN_MATCH_SKIP = 0,	/* leave it, in its place */
	SN_MATCH_TAKE = 1,	/* take it out and return it */
	SN_MATCH_DROP = 2	/* take it out and free it: nobody may see it */
};

/* A selective receive's look at m; may end the calling actor. */
typedef enum sn_match (*sn_msg_match_fn)(const struct sn_msg *m,
    void *ctx);

/*
 * The consumer only: the oldest saved message that match takes, out of
 * the saved ones, or NULL; the ones it drops are freed on the way.
 */
struct sn_msg *sn_mailbox_take_saved(struct sn_mailbox *mb,
    sn_msg_match_fn match, void *ctx);

/*
 * The consumer only: pop queued messages until match takes one, and
 * return it; each one skipped becomes the newest saved message, each one
 * dropped is freed.  NULL once the queue is empty (or a push is half
 * done).
 *
 * In both, every message is in the mailbox while match looks at it, so an
 * actor that ends inside match loses nothing to the drain.
 */
struct sn_msg *sn_mailbox_take_queued(struct sn_mailbox *mb,
    sn_msg_match_fn match, void *ctx);

/* Messages in mb now: exact under the owner's table lock, a moment's
 * figure without it. */
static inline uint64_t
sn_mailbox_length(const struct sn_mailbox *mb)
{
	return atomic_load_explicit(&mb->pushed, memory_order_relaxed) -
	    atomic_load_explicit(&mb->popped,
	    memory_order_relaxed) + atomic_load_explicit(&mb->nsaved,
	    memory_order_relaxed);
}

/* The consumer only: free every message left, saved and queued.  Inline
 * test first: most actors end with nothing left, and every end drains. */
void sn_mailbox_drain_slow(struct sn_mailbox *mb);
static inline void
sn_mailbox_drain(struct sn_mailbox *mb)
{
	if (mb->saved != NULL || sn_mailbox_ready(mb))
		sn_mailbox_drain_slow(mb);
}

/* A message of len bytes copied from data, or NULL (ENOMEM). */
struct sn_msg *sn_msg_new(uint64_t tag, const void *data, uint64_t len);

/*
 * Keys: nkeys 64-bit words after a message's bytes, which its len does
 * not count, so the program never sees them: the runtime's own marks on
 * calls, replies and job results (service.c, job.c), that tell which
 * call a reply answers without changing the layout compiled code reads.
 * sn_msg_alloc() leaves the bytes and the keys to the caller.
 */
struct sn_msg *sn_msg_alloc(uint64_t tag, uint64_t len, unsigned nkeys);

static inline uint64_t *
sn_msg_keys(const struct sn_msg *m)
{
	return (uint64_t *)(void *)((unsigned char *)(uintptr_t)m->data +
	    ((m->len + 7) & ~(uint64_t)7));
}
void sn_msg_free(struct sn_msg *m);

/*
 * The calling thread keeps freed small message blocks for its next
 * messages (mailbox.c says why), from start until stop, which gives them
 * back.  Worker threads only: the scheduler calls these as one starts and
 * ends.
 */
void sn_msg_cache_start(void);
void sn_msg_cache_stop(void);
/* Blocks the calling thread keeps now, for the tests. */
unsigned sn_msg_cache_count(void);
/*
 * The depot the lists pass batches through (msgblock.c): free what it
 * holds, once no worker runs (the runtime's stop); the batches it holds
 * now, for the tests.
 */
void sn_msg_depot_drain(void);
unsigned sn_msg_depot_count(void);
#define SN_MSG_SMALL		64	/* bytes of a block kept */
#define SN_MSG_CACHE_MAX	512	/* blocks kept at most */
#define SN_MSG_BATCH		(SN_MSG_CACHE_MAX / 2)	/* passed at once */
#define SN_MSG_DEPOT_MAX	16	/* batches in the depot at most */

#endif /* SN_MAILBOX_H */
