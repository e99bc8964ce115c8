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
 * jobs are not linked, and it learns of a failure from the DOWN.
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
};

static void
job_main(const void *arg)
{
	const struct job_start *js = arg;
	struct sn_proc *self = sn_sched_current();
	struct sn_msg *m;
	int64_t result;

	/* From inside, before fn runs: a link made by the caller after the
	 * spawn could find a quick job gone, and end its caller (noproc). */
	if (js->link)
		(void)sn_actor_link(self, js->caller);
	result = js->fn(js->env);
	m = sn_msg_alloc(SNOW_MSG_JOB, sizeof(result), 1);
	if (m == NULL)
		sn_sched_exit(self, SNOW_EXIT_ERROR);	/* heard as a failure */
	memcpy(m->data, &result, sizeof(result));
	sn_msg_keys(m)[0] = self->pid;
	sn_actor_send_msg(js->caller, m);
}

uint64_t
sn_job_async(struct sn_proc *self, snow_job_fn fn, void *env)
{
	struct job_start js = { fn, env, self->pid, !self->on_thread };

	return sn_sched_spawn(job_main, &js, sizeof(js), SNOW_PRIO_NORMAL);
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
	if (got == NULL || got->tag == SNOW_MSG_JOB)
		return got;
	memcpy(&reason, got->data + sizeof(uint64_t) *
	    (got->tag == SNOW_MSG_DOWN ? 2 : 1), sizeof(reason));
	*err = reason == SNOW_EXIT_NOPROC ? ESRCH : ECANCELED;
	return NULL;
}
