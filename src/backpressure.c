/*
 * Backpressure; see backpressure.h for what it promises and why.
 *
 * The list of senders muted on an actor is a stack of small nodes, one
 * per mute, pushed by the muting sender under the receiver's table lock
 * and taken whole under the same lock by whoever releases it.  A node
 * names its sender by PID, not by block: a sender may be released for
 * another reason (killed, or muted on in turn) and end, its block reused,
 * while its node still waits on the list; the release then finds the PID
 * gone, or wakes a sender that is not muted any more, which costs nothing
 * (its wait word says it is not parked muted), or releases early a later
 * mute of the same sender, which only lets it send a little sooner.
 *
 * Nodes come from a spare kept by each worker, so that no malloc runs
 * under a table lock (a spin lock): a send that would mute with no spare
 * at hand does not mute this once, and refills the spare after the lock.
 */
#include "config.h"

#include <stdlib.h>

#include "actor.h"
#include "backpressure.h"
#include "ptable.h"
#include "scheduler.h"
#include "wake.h"

int
sn_bp_note_over(struct sn_proc *self, struct sn_proc *to)
{
	struct sn_worker *w;
	struct sn_mute *node;

	if (to == self || to->on_thread || self->on_thread)
		return SN_BP_GO;
	/* Others wait for self to drain: muting it could close a cycle. */
	if (sn_bp_muted_on(self))
		return SN_BP_GO;
	w = sn_worker_self();
	if ((node = w->bp_spare) == NULL)
		return SN_BP_REFILL;
	w->bp_spare = NULL;
	/* Before the node is seen: a release that comes after it finds the
	 * flag ours to set. */
	atomic_store_explicit(&self->mute_released, 0, memory_order_relaxed);
	node->pid = self->pid;
	node->next = atomic_load_explicit(&to->muted, memory_order_relaxed);
	/* Release: to reads the list's head without the lock, to know
	 * whether to take it. */
	atomic_store_explicit(&to->muted, node, memory_order_release);
	return SN_BP_MUTED;
}

/* Refill this worker's spare node; without memory, mutes wait for one. */
static void
spare_refill(void)
{
	struct sn_worker *w = sn_worker_self();

	if (w != NULL && w->bp_spare == NULL)
		w->bp_spare = malloc(sizeof(struct sn_mute));
}

void
sn_bp_after_send(struct sn_proc *self, int outcome)
{
	if (outcome == SN_BP_REFILL) {
		spare_refill();
		return;
	}
	if (outcome != SN_BP_MUTED)
		return;
	sn_count(&sn_worker_self()->n_muted, 1);
	spare_refill();
	/* A park with no timer cannot fail.  What wakes it: the release of
	 * its mute, someone muting on it, an exit signal (checked on
	 * return). */
	while (!sn_bp_wake_due(self)) {
		(void)sn_sched_park(self, SN_WAIT_MUTE, UINT64_MAX);
		sn_actor_check_exit(self);
	}
}

/* Release the mute of the sender pid, if it is still alive. */
static void
release_one(uint64_t pid)
{
	struct sn_pt_shard *held;
	struct sn_proc *p;
	bool wake;

	p = sn_ptable_lock(&sn_rt.ptable, pid, &held);
	if (p == NULL)
		return;
	atomic_store(&p->mute_released, 1);
	wake = sn_wake_take(p, SN_WAKE_BY_MUTE);
	sn_ptable_unlock(held);
	if (wake)
		sn_sched_ready(p);
}

void
sn_bp_release_list(struct sn_mute *list)
{
	struct sn_mute *next;

	for (; list != NULL; list = next) {
		next = list->next;
		release_one(list->pid);
		free(list);
	}
}

void
sn_bp_release_all(struct sn_proc *self)
{
	struct sn_pt_shard *held;
	struct sn_mute *list = NULL;

	if (sn_ptable_lock(&sn_rt.ptable, self->pid, &held) == self) {
		list = sn_bp_take_locked(self);
		sn_ptable_unlock(held);
	}
	sn_bp_release_list(list);
}

void
sn_bp_release_slow(struct sn_proc *self)
{
	/* Half the limit, not the limit: released senders refill the
	 * mailbox at once, and a margin keeps them from being muted and
	 * released on every message. */
	if (sn_mailbox_length(&self->mailbox) <= sn_rt.mbox_limit / 2)
		sn_bp_release_all(self);
}
