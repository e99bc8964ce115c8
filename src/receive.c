/*
 * Receiving: the plain receive, which takes the oldest message, and the
 * selective one, which takes the oldest message a match function wants
 * and leaves the rest in order (see the saved messages in mailbox.h).
 *
 * Why keep what a selective receive passed over in a list of the
 * receiver's own, rather than scanning the queue in place: the queue is
 * lock-free for its senders, so only its oldest end may be taken from;
 * taking messages out into a private list keeps every push one exchange
 * and lets the receiver unlink from the middle.  The price is that a
 * selective receive looks again at every saved message each time it is
 * called: as in Erlang, a mailbox full of messages nobody wants makes
 * selective receives slow, and a program should not let it fill.
 */
#include "config.h"

#include <errno.h>

#include "actor.h"
#include "backpressure.h"
#include "mainproc.h"
#include "monitor.h"
#include "scheduler.h"
#include "service.h"

/*
 * The runtime's messages a receive must look at before it hands them
 * out: DOWNs (monitor.h) and replies (service.c), tags 2 and 3.  One
 * compare for every other message.
 */
static inline bool
special(const struct sn_msg *m)
{
	return m->tag - SNOW_MSG_DOWN <= SNOW_MSG_REPLY - SNOW_MSG_DOWN;
}

/* A DOWN whose monitor was removed, or a reply no call waits for: freed
 * unseen. */
static bool
stale(const struct sn_proc *self, const struct sn_msg *m)
{
	if (!special(m))
		return false;
	if (m->tag == SNOW_MSG_DOWN)
		return !sn_monitor_down_live(self, m);
	return sn_service_reply_stale(self, m);
}

/* m goes to the program: it stays valid until the next receive. */
static const struct sn_msg *
hand_out(struct sn_proc *self, struct sn_msg *m)
{
	if (sn_unlikely(m->tag == SNOW_MSG_DOWN))
		sn_monitor_down_taken(self, m);
	self->last = m;
	return m;
}

/* The last message handed out is freed by the next receive. */
static void
release_last(struct sn_proc *self)
{
	if (self->last != NULL) {
		sn_msg_free(self->last);
		self->last = NULL;
	}
}

/* When a wait of timeout_ms from now ends; UINT64_MAX for ever. */
static uint64_t
deadline_of(int64_t timeout_ms)
{
	return timeout_ms < 0 ? UINT64_MAX : sn_deadline_after(timeout_ms);
}

/*
 * Wait for a new message until deadline.  Returns false once the
 * deadline has passed.  An exit signal that ends self does not return.
 */
static inline __attribute__((always_inline)) bool
wait_for_more(struct sn_proc *self, uint64_t deadline)
{
	if (deadline != UINT64_MAX && sn_now_ns() >= deadline)
		return false;
	if (sn_unlikely(self->on_thread)) {
		sn_mainproc_park(self, deadline);	/* no exit signals */
		return true;
	}
	/* A receiver that waits is not draining: senders muted on it would
	 * wait for what it waits for (backpressure.h). */
	sn_bp_release_parking(self);
	/* Without memory for a timer, wait by yielding. */
	if (sn_sched_park(self, SN_WAIT_MSG, deadline) != 0)
		sn_sched_yield();
	sn_actor_check_exit(self);
	return true;
}

/*
 * The oldest message, waiting for one until *deadline (worked out on the
 * first wait, 0 until then); NULL once that passed, or at once when
 * timeout_ms is 0.  Nothing is saved while it waits, so after the first
 * look only the queue can hold something new.
 */
static inline __attribute__((always_inline)) struct sn_msg *
next_msg(struct sn_proc *self, int64_t timeout_ms, uint64_t *deadline)
{
	struct sn_msg *m = sn_mailbox_take(&self->mailbox);

	if (m != NULL || timeout_ms == 0)
		return m;
	if (*deadline == 0)
		*deadline = deadline_of(timeout_ms);
	while (wait_for_more(self, *deadline))
		if ((m = sn_mailbox_pop(&self->mailbox)) != NULL)
			return m;
	return NULL;
}

/* sn_actor_receive() off its fast path: nothing came, or m is one of the
 * runtime's messages, handed out or dropped unseen. */
static SN_NOINLINE const struct sn_msg *
receive_rest(struct sn_proc *self, struct sn_msg *m, int64_t timeout_ms,
    uint64_t deadline)
{
	while (m != NULL && special(m)) {
		if (!stale(self, m))
			return hand_out(self, m);
		sn_msg_free(m);
		m = next_msg(self, timeout_ms, &deadline);
	}
	if (m == NULL) {
		/* Set here, past the last switch: the thread we return on. */
		errno = timeout_ms == 0 ? EAGAIN : ETIMEDOUT;
		return NULL;
	}
	self->last = m;
	return m;
}

const struct sn_msg *
sn_actor_receive(struct sn_proc *self, int64_t timeout_ms)
{
	uint64_t deadline = 0;
	struct sn_msg *m;

	release_last(self);
	sn_actor_check_exit(self);
	m = next_msg(self, timeout_ms, &deadline);
	sn_bp_drained(self);
	if (sn_likely(m != NULL && !special(m))) {
		self->last = m;
		return m;
	}
	return receive_rest(self, m, timeout_ms, deadline);
}

/* A selective receive's wish, and the stale DOWNs it must not see. */
struct wish {
	struct sn_proc *self;
	sn_msg_want_fn want;
	void *ctx;
};

static enum sn_match
look(const struct sn_msg *m, void *ctx)
{
	const struct wish *w = ctx;

	if (stale(w->self, m))
		return SN_MATCH_DROP;
	return w->want(m, w->ctx) ? SN_MATCH_TAKE : SN_MATCH_SKIP;
}

const struct sn_msg *
sn_actor_receive_match(struct sn_proc *self, sn_msg_want_fn want,
    void *ctx, int64_t timeout_ms, int *err)
{
	uint64_t deadline = timeout_ms == 0 ? 0 : deadline_of(timeout_ms);
	struct wish w = { self, want, ctx };
	struct sn_msg *m;

	release_last(self);
	sn_actor_check_exit(self);
	self->matching = 1;
	/* The saved ones only once: they cannot change while we wait. */
	m = sn_mailbox_take_saved(&self->mailbox, look, &w);
	while (m == NULL) {
		m = sn_mailbox_take_queued(&self->mailbox, look, &w);
		if (m != NULL || timeout_ms == 0)
			break;
		if (!wait_for_more(self, deadline))
			break;
	}
	self->matching = 0;
	sn_bp_drained(self);
	if (m == NULL) {
		*err = timeout_ms == 0 ? EAGAIN : ETIMEDOUT;
		return NULL;
	}
	return hand_out(self, m);
}
