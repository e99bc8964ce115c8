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

struct sn_mailbox {
	_Atomic(struct sn_mlink *) head;	/* newest; producers swap here */
	/* Oldest; written by the consumer only, atomic because a worker
	 * parking the consumer peeks at it (sn_mailbox_ready). */
	_Atomic(struct sn_mlink *) tail;
	struct sn_mlink stub;
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

/* The consumer only: free every message left. */
void sn_mailbox_drain(struct sn_mailbox *mb);

/* A message of len bytes copied from data, or NULL (ENOMEM). */
struct sn_msg *sn_msg_new(uint64_t tag, const void *data, uint64_t len);
void sn_msg_free(struct sn_msg *m);

#endif /* SN_MAILBOX_H */
