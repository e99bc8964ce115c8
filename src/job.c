/*
 * Jobs: snow_job_async() runs int64_t fn(env) in a new actor linked to
 * its caller, which sends the result back as a SNOW_MSG_JOB message: the
 * eight bytes of the int64_t, keyed (mailbox.h) with the job's PID.
 *
 * The await takes that job's result and nothing else: it monitors the
 * job and waits selectively for its result, its exit (a caller that traps
 * exits hears of a failed job that way, through the link) or the DOWN.
 * The result is sent before the job ends, so a job that is gone without
 * one in the mailbox failed, or was awaited already.  A caller that does
 * not trap exits ends with the job that fails, as in Erlang: the link is
 * what the compiler asks for.  The main process cannot be linked to: its
 * jobs are not linked, and a DOWN alone would not do, as a job may end
 * before main monitors it (noproc, as for a PID that never was a job).
 * So a job of main's reports its own failure: a terminate callback,
 * which runs for every end, kills included, sends an empty SNOW_MSG_JOB
 * unless the result went out.  It is set twice, by the job as it starts
 * and by the spawn once it has the PID: each covers the other's gap.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "actor.h"
#include "monitor.h"
#include "scheduler.h"
#include "service.h"

struct job_start {
	snow_job_fn fn;
	void *env;
	uint64_t caller;
	uint8_t link;		/* the caller is an actor */
	uint8_t answered;	/* its result went out (set by the job) */
};

/* Send the caller a job message of len bytes from data, keyed with the
 * job's PID; false when there is no memory for it. */
static bool
job_answer(struct sn_proc *self, const void *data, uint64_t len)
{
	struct job_start *js = (struct job_start *)self->args;
	struct sn_msg *m = sn_msg_alloc(SNOW_MSG_JOB, len, 1);

	if (m == NULL)
		return false;
	if (len > 0)
		memcpy(m->data, data, len);
	sn_msg_keys(m)[0] = self->pid;
	/* Nothing between here and the delivery can switch, so a kill
	 * cannot come between the flag and the result. */
	js->answered = 1;
	sn_actor_send_msg(js->caller, m);
	return true;
}

/* A terminate callback: a job of main's that ends without a result says
 * so with an empty job message (without memory for it, main hears a
 * DOWN, ESRCH).  It is the job's own args that say which. */
static void
job_ended(const void *state, const void *reason)
{
	struct sn_proc *self = sn_sched_current();
	const struct job_start *js = self->args;

	(void)state;
	(void)reason;
	if (!js->answered)
		(void)job_answer(self, NULL, 0);
}

static void
job_main(const void *arg)
{
	const struct job_start *js = arg;
	struct sn_proc *self = sn_sched_current();
	int64_t result;

	/* From inside, before fn runs: a link made by the caller after the
	 * spawn could find a quick job gone, and end its caller (noproc). */
	if (js->link)
		(void)sn_actor_link(self, js->caller);
	else
		(void)sn_actor_set_terminate(self->pid, job_ended, true);
	result = js->fn(js->env);
	if (!job_answer(self, &result, sizeof(result)))
		sn_sched_exit(self, SNOW_EXIT_ERROR);	/* heard as a failure */
}

uint64_t
sn_job_async(struct sn_proc *self, snow_job_fn fn, void *env)
{
	struct job_start js = { fn, env, self->pid, !self->on_thread, 0 };
	uint64_t pid;

	pid = sn_sched_spawn(job_main, &js, sizeof(js), SNOW_PRIO_NORMAL);
	/* The job sets its callback as it starts, but a kill can come
	 * before that; and it may have ended before this (ESRCH): then it
	 * had set it.  Neither replaces one that fn set itself. */
	if (pid != 0 && !js.link)
		(void)sn_actor_set_terminate(pid, job_ended, true);
	return pid;
}

struct job_wait {
	uint64_t job;
	uint64_t ref;
};

static uint64_t
first_word(const struct sn_msg *m)
{
	uint64_t w = 0;

	if (m->len >= sizeof(w))
		memcpy(&w, m->data, sizeof(w));
	return w;
}

static uint64_t
exit_reason(const struct sn_msg *m)
{
	struct snow_exit_msg e = { 0, SNOW_EXIT_NORMAL };

	if (m->len >= sizeof(e))
		memcpy(&e, m->data, sizeof(e));
	return e.reason;
}

static bool
job_over(const struct sn_msg *m, void *ctx)
{
	const struct job_wait *w = ctx;

	switch (m->tag) {
	case SNOW_MSG_JOB:
		return sn_msg_keys(m)[0] == w->job;
	case SNOW_MSG_EXIT:
		/* A normal one comes after the result: not a failure. */
		return first_word(m) == w->job && exit_reason(m) !=
		    SNOW_EXIT_NORMAL;
	case SNOW_MSG_DOWN:
		return first_word(m) == w->ref;
	default:
		return false;
	}
}

const struct sn_msg *
sn_job_await(struct sn_proc *self, uint64_t job, int64_t timeout_ms,
    int *err)
{
	struct job_wait w = { job, 0 };
	const struct sn_msg *got;
	uint64_t reason;

	w.ref = sn_actor_monitor(self, job, err);
	if (w.ref == 0)
		return NULL;
	got = sn_actor_receive_match(self, job_over, &w, timeout_ms, err);
	if (got == NULL || got->tag != SNOW_MSG_DOWN)
		(void)sn_demonitor(self, w.ref);
	if (got == NULL || (got->tag == SNOW_MSG_JOB && got->len > 0))
		return got;
	if (got->tag == SNOW_MSG_JOB) {		/* main's, failed */
		*err = ECANCELED;
		return NULL;
	}
	memcpy(&reason, got->data + sizeof(uint64_t) *
	    (got->tag == SNOW_MSG_DOWN ? 2 : 1), sizeof(reason));
	*err = reason == SNOW_EXIT_NOPROC ? ESRCH : ECANCELED;
	return NULL;
}
