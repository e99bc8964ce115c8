/*
 * Services: a call sends [tag][caller][payload] as a SNOW_MSG_CALL and
 * waits for the SNOW_MSG_REPLY to that call, and nothing else.
 *
 * What makes a reply that call's: the call carries a fresh reference as a
 * key (mailbox.h), out of the program's sight, and snow_service_reply()
 * copies it from the call the service received last, if that came from
 * the same caller, into its reply's keys with the replier's PID.  The
 * caller waits selectively for a reply with its reference, or the DOWN of
 * a monitor on the service, so a service that is dead, or dies before it
 * answers, ends the call with ESRCH instead of a wait for ever.
 *
 * A reply the service sends later than its next receive carries no
 * reference (it cannot know which call it answers) but its PID: it is
 * taken by a call to that service in progress.  Replies no call can take
 * (to a call that timed out, say) are dropped unseen by the receives
 * (sn_service_reply_stale()), as DOWNs of removed monitors are, so they
 * never pile up in the mailbox nor reach a plain receive.
 *
 * The compiled service loop reads the call at msg + 16 and passes the
 * caller word to snow_service_reply(): that word stays the caller's PID,
 * as the Snow compiler expects.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "actor.h"
#include "monitor.h"
#include "service.h"

/* A call's keys: its reference.  A reply's: the reference (or 0), then
 * the replier's PID. */
#define CALL_KEYS	1
#define REPLY_KEYS	2

/* What the caller waits for. */
struct call_wait {
	uint64_t ref;
	uint64_t service;
};

static uint64_t
word_at(const struct sn_msg *m, size_t off)
{
	uint64_t w = 0;

	if (m->len >= off + sizeof(w))
		memcpy(&w, m->data + off, sizeof(w));
	return w;
}

static bool
answers(const struct sn_msg *m, void *ctx)
{
	const struct call_wait *w = ctx;
	const uint64_t *keys;

	if (m->tag == SNOW_MSG_DOWN)
		return word_at(m, 0) == w->ref;
	if (m->tag != SNOW_MSG_REPLY)
		return false;
	keys = sn_msg_keys(m);
	return keys[0] == w->ref || (keys[0] == 0 && keys[1] == w->service);
}

bool
sn_service_reply_stale(const struct sn_proc *self, const struct sn_msg *m)
{
	const uint64_t *keys = sn_msg_keys(m);
	const struct sn_rare *r = sn_rare_get(self);

	if (r == NULL || r->call_ref == 0)
		return true;		/* no call waits */
	return keys[0] != 0 && keys[0] != r->call_ref;
}

/* The call message: [tag][caller][payload], keyed with ref. */
static struct sn_msg *
call_msg(uint64_t tag, uint64_t caller, const void *payload, uint64_t size,
    uint64_t ref)
{
	struct sn_msg *m;

	if (size > SNOW_MSG_MAX - 2 * sizeof(uint64_t))
		return NULL;
	m = sn_msg_alloc(SNOW_MSG_CALL, 2 * sizeof(uint64_t) + size,
	    CALL_KEYS);
	if (m == NULL)
		return NULL;
	memcpy(m->data, &tag, sizeof(tag));
	memcpy(m->data + sizeof(tag), &caller, sizeof(caller));
	if (size != 0)
		memcpy(m->data + 2 * sizeof(tag), payload, size);
	sn_msg_keys(m)[0] = ref;
	return m;
}

const struct sn_msg *
sn_service_call(struct sn_proc *self, uint64_t pid, uint64_t tag,
    const void *payload, uint64_t size, int64_t timeout_ms, int *err)
{
	struct call_wait w = { 0, pid };
	const struct sn_msg *got;
	struct sn_rare *r;
	struct sn_msg *m;

	w.ref = sn_actor_monitor(self, pid, err);
	if (w.ref == 0)
		return NULL;
	m = call_msg(tag, self->pid, payload, size, w.ref);
	if (m == NULL) {
		(void)sn_demonitor(self, w.ref);
		*err = ENOMEM;
		return NULL;
	}
	/* The monitor made the rare block, if the caller had none. */
	r = sn_rare_get(self);
	r->call_ref = w.ref;
	sn_actor_send_msg(pid, m);
	got = sn_actor_receive_match(self, answers, &w, timeout_ms, err);
	r->call_ref = 0;
	if (got != NULL && got->tag == SNOW_MSG_DOWN) {
		*err = ESRCH;		/* its monitor is gone with it */
		return NULL;
	}
	(void)sn_demonitor(self, w.ref);	/* a DOWN after it is dropped */
	return got;
}

int
sn_service_reply(struct sn_proc *self, uint64_t caller, const void *reply,
    uint64_t size)
{
	const struct sn_msg *call = self != NULL ? self->last : NULL;
	struct sn_msg *m = sn_msg_alloc(SNOW_MSG_REPLY, size, REPLY_KEYS);
	uint64_t *keys;

	if (m == NULL)
		return ENOMEM;
	if (size != 0)
		memcpy(m->data, reply, size);
	keys = sn_msg_keys(m);
	keys[0] = 0;
	keys[1] = self != NULL ? self->pid : 0;
	if (call != NULL && call->tag == SNOW_MSG_CALL &&
	    word_at(call, sizeof(uint64_t)) == caller)
		keys[0] = sn_msg_keys(call)[0];
	sn_actor_send_msg(caller, m);
	return 0;
}
