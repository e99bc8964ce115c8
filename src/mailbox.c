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
#include <string.h>

#include "internal.h"
#include "mailbox.h"

void
sn_mailbox_init(struct sn_mailbox *mb)
{
	atomic_init(&mb->stub.next, NULL);
	atomic_init(&mb->head, &mb->stub);
	atomic_init(&mb->tail, &mb->stub);
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
	return (struct sn_msg *)tail;
}

void
sn_mailbox_drain(struct sn_mailbox *mb)
{
	struct sn_msg *m;

	while ((m = sn_mailbox_pop(mb)) != NULL)
		sn_msg_free(m);
}

struct sn_msg *
sn_msg_new(uint64_t tag, const void *data, uint64_t len)
{
	struct sn_msg *m;

	if (len > SIZE_MAX - sizeof(*m))
		return NULL;
	m = malloc(sizeof(*m) + len);
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
	free(m);
}
