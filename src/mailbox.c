/*
 * Mailboxes; see mailbox.h.
 *
 * The list runs from tail (oldest) to head (newest) through the links'
 * next pointers.  The stub is a link of no message that keeps the list
 * from ever being empty, so producers need only swap the head: when the
 * consumer takes the last real message it puts the stub back behind it.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>

#include "internal.h"
#include "mailbox.h"

void
sn_mailbox_init(struct sn_mailbox *mb)
{
	atomic_init(&mb->stub.next, NULL);
	atomic_init(&mb->head, &mb->stub);
	atomic_init(&mb->tail, &mb->stub);
	mb->saved = NULL;
	mb->saved_last = NULL;
	atomic_init(&mb->pushed, 0);
	atomic_init(&mb->popped, 0);
	atomic_init(&mb->nsaved, 0);
}

/* The consumer's counts: it alone writes them, so no read-modify-write. */
static inline void
count_add(_Atomic uint64_t *c, uint64_t d)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) +
	    d, memory_order_relaxed);
}

static inline void
saved_add(struct sn_mailbox *mb, int d)
{
	atomic_store_explicit(&mb->nsaved, (uint32_t)((int64_t)
	    atomic_load_explicit(&mb->nsaved, memory_order_relaxed) + d),
	    memory_order_relaxed);
}

static void
link_push(struct sn_mailbox *mb, struct sn_mlink *l)
{
	struct sn_mlink *prev;

	atomic_store_explicit(&l->next, NULL, memory_order_relaxed);
	/* acq_rel: the consumer that follows prev->next must see l's
	 * contents, and we must see prev's to link it. */
	prev = atomic_exchange_explicit(&mb->head, l, memory_order_acq_rel);
	atomic_store_explicit(&prev->next, l, memory_order_release);
}

void
sn_mailbox_push(struct sn_mailbox *mb, struct sn_msg *m)
{
	link_push(mb, &m->link);
}

static struct sn_mlink *
next_of(struct sn_mlink *l)
{
	return atomic_load_explicit(&l->next, memory_order_acquire);
}

struct sn_msg *
sn_mailbox_pop(struct sn_mailbox *mb)
{
	struct sn_mlink *tail = sn_load(&mb->tail), *next = next_of(tail);

	if (tail == &mb->stub) {
		if (next == NULL)
			return NULL;
		sn_store(&mb->tail, next);	/* skip the stub */
		tail = next;
		next = next_of(next);
	}
	if (next != NULL) {
		sn_store(&mb->tail, next);
		count_add(&mb->popped, 1);
		return (struct sn_msg *)tail;
	}
	/* tail is the last link we can see.  If it is not the head, a
	 * producer has swapped the head but not linked it yet. */
	if (tail != atomic_load_explicit(&mb->head, memory_order_acquire))
		return NULL;
	/* Put the stub behind tail, so tail can be handed out. */
	link_push(mb, &mb->stub);
	next = next_of(tail);
	if (next == NULL)
		return NULL;	/* another push got in before the stub */
	sn_store(&mb->tail, next);
	count_add(&mb->popped, 1);
	return (struct sn_msg *)tail;
}

/*
 * The saved messages are chained through the same link as the queue:
 * a message is in one or the other, never both.  Only the consumer
 * touches them, so relaxed accesses do.
 */
static struct sn_msg *
saved_next(const struct sn_msg *m)
{
	return (struct sn_msg *)atomic_load_explicit(&m->link.next,
	    memory_order_relaxed);
}

static void
saved_link(struct sn_msg *m, struct sn_msg *next)
{
	atomic_store_explicit(&m->link.next, (struct sn_mlink *)next,
	    memory_order_relaxed);
}

/* Take m, whose predecessor is prev (NULL: m is the oldest), out of the
 * saved messages. */
static void
saved_unlink(struct sn_mailbox *mb, struct sn_msg *prev, struct sn_msg *m)
{
	struct sn_msg *next = saved_next(m);

	if (prev == NULL)
		mb->saved = next;
	else
		saved_link(prev, next);
	if (next == NULL)
		mb->saved_last = prev;
}

struct sn_msg *
sn_mailbox_take_saved(struct sn_mailbox *mb, sn_msg_match_fn match,
    void *ctx)
{
	struct sn_msg *m = mb->saved, *prev = NULL, *next;
	enum sn_match what;

	while (m != NULL) {
		what = match(m, ctx);
		if (what == SN_MATCH_SKIP) {
			prev = m;
			m = saved_next(m);
			continue;
		}
		next = saved_next(m);
		saved_unlink(mb, prev, m);
		saved_add(mb, -1);
		if (what == SN_MATCH_TAKE)
			return m;
		sn_msg_free(m);
		m = next;
	}
	return NULL;
}

struct sn_msg *
sn_mailbox_take_queued(struct sn_mailbox *mb, sn_msg_match_fn match,
    void *ctx)
{
	struct sn_msg *m, *prev;

	while ((m = sn_mailbox_pop(mb)) != NULL) {
		/* Saved before match sees it, unlinked again if wanted. */
		prev = mb->saved == NULL ? NULL : mb->saved_last;
		saved_link(m, NULL);
		if (prev == NULL)
			mb->saved = m;
		else
			saved_link(prev, m);
		mb->saved_last = m;
		saved_add(mb, 1);
		switch (match(m, ctx)) {
		case SN_MATCH_SKIP:
			break;
		case SN_MATCH_TAKE:
			saved_unlink(mb, prev, m);
			saved_add(mb, -1);
			return m;
		case SN_MATCH_DROP:
			saved_unlink(mb, prev, m);
			saved_add(mb, -1);
			sn_msg_free(m);
			break;
		}
	}
	return NULL;
}

void
sn_mailbox_drain_slow(struct sn_mailbox *mb)
{
	struct sn_msg *m;

	while ((m = sn_mailbox_take(mb)) != NULL)
		sn_msg_free(m);
}
