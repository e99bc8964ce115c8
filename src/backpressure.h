/*
 * Backpressure, in the manner of the Pony runtime: an actor that sends to
 * an actor whose mailbox holds more than the limit (SNOW_MAILBOX_LIMIT,
 * sn_rt.mbox_limit) is muted, descheduled after its send, until the
 * receiver has drained to half the limit, parks in a receive, or ends.
 * The message itself is always delivered: a send is never refused or
 * lost for a full mailbox, only its sender slowed down.
 *
 * Why mute rather than bound the queue: a bounded mailbox (Go's buffered
 * channel, Tokio's bounded mpsc) blocks the sender inside the send and
 * makes every send a possible deadlock; Erlang's unbounded ones let one
 * slow receiver eat all memory.  Muting keeps sends non-blocking for
 * whoever cannot wait (threads outside the runtime, the main process,
 * the runtime's own messages, replies) and slows only actors, which the
 * scheduler can park for free.
 *
 * No deadlock: an actor that others are muted on (whose muted list is not
 * empty) is never muted itself, and one muted while others mute on it is
 * released at once.  So a muted actor waits on one that is not muted;
 * that one drains, parks (a receive that waits releases its list: the
 * selective receive waiting for something the muted senders would send
 * next cannot hold them) or ends, and each of those releases.  Two
 * actors flooding each other, or a receiver that sends back to its
 * senders, mute one side at most.
 *
 * Which sends mute: snow_actor_send() and snow_actor_send_tag() from an
 * actor to another actor.  Not to the main process (its thread may not
 * receive until the end), not from it or from outside threads, not the
 * runtime's messages (exits, DOWNs, timers, replies, calls, jobs).
 */
#ifndef SN_BACKPRESSURE_H
#define SN_BACKPRESSURE_H

#include <stdbool.h>
#include <stdint.h>

#include "proc.h"
#include "scheduler.h"

/* One sender muted on an actor: on that actor's p->muted list. */
struct sn_mute {
	struct sn_mute *next;
	uint64_t pid;		/* the muted sender */
};

/* What a send did about backpressure (sn_bp_note_send()). */
enum sn_bp_outcome {
	SN_BP_GO = 0,		/* nothing: the sender goes on */
	SN_BP_MUTED = 1,	/* the sender is on the receiver's list */
	SN_BP_REFILL = 2	/* it would have been, but had no node */
};

/*
 * Under to's table lock, right after a send by the actor self pushed to
 * to's mailbox: put self on to's list if to is over the limit.  When it
 * returns SN_BP_MUTED the caller takes to's wake for SN_WAKE_BY_MUTE as
 * well as for the message (to may be muted itself, and is released by
 * having someone muted on it), and once the lock is dropped calls
 * sn_bp_after_send(), which parks self until released.
 */
int sn_bp_note_over(struct sn_proc *self, struct sn_proc *to);
static inline int
sn_bp_note_send(struct sn_proc *self, struct sn_proc *to)
{
	uint32_t limit = sn_rt.mbox_limit;	/* 0: muting is off */

	/* What a send under the limit pays: four loads, two compares. */
	if (sn_likely(sn_mailbox_length(&to->mailbox) <= limit || limit == 0))
		return SN_BP_GO;
	return sn_bp_note_over(self, to);
}
void sn_bp_after_send(struct sn_proc *self, int outcome);

/*
 * Whether senders are muted on p.  Without the lock: a moment's answer,
 * which is enough for the inline tests below (the list is only ever
 * taken under the lock), and after a fence the answer that pairs with a
 * muting sender's (see sn_actor_wake_due()).
 */
static inline bool
sn_bp_muted_on(struct sn_proc *p)
{
	return atomic_load_explicit(&p->muted, memory_order_relaxed) != NULL;
}

/*
 * In self (any receive, after it took a message): release the senders
 * muted on self once its mailbox has drained to half the limit.  Inline
 * test: one load on every receive.
 */
void sn_bp_release_slow(struct sn_proc *self);
static inline void
sn_bp_drained(struct sn_proc *self)
{
	if (sn_unlikely(sn_bp_muted_on(self)))
		sn_bp_release_slow(self);
}

/* Take self's list under its lock and release everyone on it. */
void sn_bp_release_all(struct sn_proc *self);

/* In self, about to park in a receive: release everyone muted on it. */
static inline void
sn_bp_release_parking(struct sn_proc *self)
{
	if (sn_unlikely(sn_bp_muted_on(self)))
		sn_bp_release_all(self);
}

/*
 * Take p's list, under p's table lock (p is leaving the table, so no
 * more mutes on it come): the caller hands it to sn_bp_release_list()
 * once the lock is dropped.
 */
static inline struct sn_mute *
sn_bp_take_locked(struct sn_proc *p)
{
	/* Everyone who writes the head holds the lock we hold: no atomic
	 * exchange needed, and an actor that ends with no one muted on it
	 * (nearly all) pays a load. */
	struct sn_mute *list = atomic_load_explicit(&p->muted,
	    memory_order_relaxed);

	if (list != NULL)
		atomic_store_explicit(&p->muted, NULL, memory_order_relaxed);
	return list;
}
void sn_bp_release_list(struct sn_mute *list);

/* Would a muted self wake now (see sn_actor_wake_due())? */
static inline bool
sn_bp_wake_due(struct sn_proc *self)
{
	return atomic_load(&self->mute_released) != 0 || sn_bp_muted_on(self);
}

#endif /* SN_BACKPRESSURE_H */
