/*
 * Introspection, as erlang:process_info/2 and erlang:processes/0: a
 * snapshot of one actor, read under its process table shard's lock (the
 * lock every sender, linker and monitor of it takes), and the PIDs of
 * every actor alive.
 *
 * What a snapshot costs the hot paths: a count of pushes made under that
 * lock, a count of pops the receiver keeps, and the reductions added up
 * when a slice ends; nothing is walked.  Fields the actor changes itself
 * (its state, its reductions, its own monitors) may be a moment old.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "actor.h"
#include "names.h"
#include "refmap.h"
#include "scheduler.h"

static uint8_t
state_of(const struct sn_proc *p)
{
	if (p->ending != SN_ENDING_NO)
		return SNOW_PROC_EXITING;
	switch (atomic_load_explicit(&p->state, memory_order_relaxed)) {
	case SN_RUNNING:
		return SNOW_PROC_RUNNING;
	case SN_WAITING:
		return SNOW_PROC_WAITING;
	default:
		return SNOW_PROC_RUNNABLE;
	}
}

/* Under p's shard lock. */
static void
fill(const struct sn_proc *p, struct snow_process_info *info)
{
	const struct sn_rare *r;

	memset(info, 0, sizeof(*info));
	info->pid = p->pid;
	info->state = state_of(p);
	info->priority = p->priority;
	info->trap_exit = p->trap_exit;
	info->hibernated = atomic_load_explicit(&p->hib_state,
	    memory_order_relaxed) == SN_HIB_OUT;
	info->mailbox_len = sn_mailbox_length(&p->mailbox);
	info->reductions = atomic_load_explicit(&p->reds,
	    memory_order_relaxed);
	info->monitors = atomic_load_explicit(&p->nmonitors,
	    memory_order_relaxed);
	if ((r = sn_rare_get(p)) == NULL)
		return;
	info->links = sn_links_count(&r->links);
	info->monitored_by = r->monitored_by != NULL ? r->monitored_by->n : 0;
	if (r->name != NULL) {
		memcpy(info->name, r->name->bytes, r->name->len);
		info->name[r->name->len] = '\0';
	}
}

int
sn_process_info(uint64_t pid, struct snow_process_info *info)
{
	struct sn_pt_shard *held;
	struct sn_proc *p;

	p = sn_ptable_lock(&sn_rt.ptable, pid, &held);
	if (p == NULL || p->on_thread) {
		if (p != NULL)
			sn_ptable_unlock(held);
		return ESRCH;
	}
	fill(p, info);
	sn_ptable_unlock(held);
	return 0;
}

struct pid_list {
	uint64_t *pids;
	size_t max;
	size_t n;
};

static void
collect(struct sn_proc *p, void *arg)
{
	struct pid_list *l = arg;

	if (p->on_thread)
		return;
	if (l->n < l->max)
		l->pids[l->n] = p->pid;
	l->n++;
}

size_t
sn_process_list(uint64_t *pids, size_t max)
{
	struct pid_list l = { pids, max, 0 };

	sn_ptable_foreach(&sn_rt.ptable, collect, &l);
	return l.n;
}
