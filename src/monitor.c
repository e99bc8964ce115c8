/*
 * Monitors; see monitor.h.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "internal.h"
#include "monitor.h"
#include "ptable.h"
#include "scheduler.h"

/*
 * References are unique for the life of the process, as PIDs are.  Each
 * thread takes a block of REF_BLOCK from the shared counter, so making a
 * reference (a service call makes one per call) is no shared write.
 */
#define REF_BLOCK	1024

static _Atomic uint64_t ref_blocks;
static _Thread_local uint64_t ref_next, ref_end;

static uint64_t
ref_new(void)
{
	uint64_t block;

	if (ref_next == ref_end) {
		block = atomic_fetch_add_explicit(&ref_blocks, 1,
		    memory_order_relaxed);
		ref_next = block * REF_BLOCK + 1;	/* never 0 */
		ref_end = ref_next + REF_BLOCK;
	}
	return ref_next++;
}

/* The count of self's monitors, which self alone changes. */
static void
held_add(struct sn_proc *self, int d)
{
	atomic_store_explicit(&self->nmonitors, (uint32_t)((int64_t)
	    atomic_load_explicit(&self->nmonitors, memory_order_relaxed) + d),
	    memory_order_relaxed);
}

/*
 * The body of a DOWN message as it waits in the target's map: until it
 * is sent, its reason field holds the watcher's PID, so that one
 * allocation holds all the monitor needs at the target.
 */
static struct snow_down_msg *
down_body(struct sn_msg *m)
{
	return (struct snow_down_msg *)(void *)m->data;
}

/* Make m ready to send with reason; returns the watcher it goes to. */
static uint64_t
down_seal(struct sn_msg *m, uint8_t reason)
{
	struct snow_down_msg *d = down_body(m);
	uint64_t watcher = d->reason;

	d->reason = reason;
	return watcher;
}

uint64_t
sn_monitor(struct sn_proc *self, uint64_t pid, sn_post_fn post, int *err)
{
	struct snow_down_msg body = { ref_new(), pid, self->pid };
	struct sn_pt_shard *held;
	struct sn_rare *mine = sn_rare_make(self), *theirs;
	struct sn_msg *down;
	struct sn_proc *p;
	int e = ENOMEM;

	if (mine == NULL)
		goto nomem;
	down = sn_msg_new(SNOW_MSG_DOWN, &body, sizeof(body));
	if (down == NULL)
		goto nomem;
	if (sn_refmap_put(&mine->monitors, body.ref, pid) != 0)
		goto nomem_msg;
	held_add(self, 1);
	p = sn_ptable_lock(&sn_rt.ptable, pid, &held);
	if (p == NULL) {
		(void)down_seal(down, SNOW_EXIT_NOPROC);
		post(self->pid, down);
		return body.ref;
	}
	if ((theirs = sn_rare_make(p)) != NULL)
		e = sn_refmap_put(&theirs->monitored_by, body.ref,
		    (uintptr_t)down);
	sn_ptable_unlock(held);
	if (e == 0)
		return body.ref;
	(void)sn_refmap_take(&mine->monitors, body.ref, NULL);
	held_add(self, -1);
nomem_msg:
	sn_msg_free(down);
nomem:
	*err = ENOMEM;
	return 0;
}

/* Take the monitor ref off target t's map, t's table lock held: its
 * DOWN message, if it had one, in *down. */
static void
watcher_drop(struct sn_proc *t, uint64_t ref, uint64_t *down)
{
	struct sn_rare *r = sn_rare_get(t);

	if (r != NULL)
		(void)sn_refmap_take(&r->monitored_by, ref, down);
}

int
sn_demonitor(struct sn_proc *self, uint64_t ref)
{
	struct sn_pt_shard *held;
	struct sn_rare *mine = sn_rare_get(self);
	struct sn_proc *p;
	uint64_t target, down = 0;

	if (mine == NULL || !sn_refmap_take(&mine->monitors, ref, &target))
		return ENOENT;
	held_add(self, -1);
	/* A target that ended has taken its map already; its DOWN, sent
	 * or on its way, is dropped by our next receive that meets it. */
	p = sn_ptable_lock(&sn_rt.ptable, target, &held);
	if (p != NULL) {
		watcher_drop(p, ref, &down);
		sn_ptable_unlock(held);
	}
	if (down != 0)
		sn_msg_free((struct sn_msg *)(uintptr_t)down);
	return 0;
}

void
sn_monitor_fire(struct sn_refmap *by, uint8_t reason, sn_post_fn post)
{
	struct sn_refpair pair;
	struct sn_msg *down;
	uint32_t pos = 0;

	while (sn_refmap_next(by, &pos, &pair)) {
		down = (struct sn_msg *)(uintptr_t)pair.val;
		post(down_seal(down, reason), down);
	}
	sn_refmap_free(&by);
}

void
sn_monitor_unwatch(struct sn_proc *p)
{
	struct sn_pt_shard *held;
	struct sn_rare *mine = sn_rare_get(p);
	struct sn_refpair pair;
	struct sn_proc *t;
	uint64_t down;
	uint32_t pos = 0;

	if (mine == NULL)
		return;
	while (sn_refmap_next(mine->monitors, &pos, &pair)) {
		down = 0;
		t = sn_ptable_lock(&sn_rt.ptable, pair.val, &held);
		if (t != NULL) {
			watcher_drop(t, pair.key, &down);
			sn_ptable_unlock(held);
		}
		if (down != 0)
			sn_msg_free((struct sn_msg *)(uintptr_t)down);
	}
	sn_refmap_free(&mine->monitors);
	atomic_store_explicit(&p->nmonitors, 0, memory_order_relaxed);
}

/* The reference a DOWN message carries. */
static uint64_t
down_ref(const struct sn_msg *m)
{
	uint64_t ref = 0;

	if (m->len >= sizeof(ref))
		memcpy(&ref, m->data, sizeof(ref));
	return ref;
}

bool
sn_monitor_down_live(const struct sn_proc *self, const struct sn_msg *m)
{
	const struct sn_rare *mine = sn_rare_get(self);

	return mine != NULL && sn_refmap_get(mine->monitors, down_ref(m),
	    NULL);
}

void
sn_monitor_down_taken(struct sn_proc *self, const struct sn_msg *m)
{
	struct sn_rare *mine = sn_rare_get(self);

	if (mine != NULL && sn_refmap_take(&mine->monitors, down_ref(m),
	    NULL))
		held_add(self, -1);
}
