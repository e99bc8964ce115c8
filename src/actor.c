/*
 * Mailboxes, links, exit signals, timers and names; see actor.h.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "actor.h"
#include "backpressure.h"
#include "io.h"
#include "links.h"
#include "monitor.h"
#include "scheduler.h"
#include "wake.h"

static void post(uint64_t pid, struct sn_msg *m);

/* Push m into p's mailbox, p's table shard locked: the lock makes the
 * count of pushes exact for introspection without an atomic add. */
static inline void
push_locked(struct sn_proc *p, struct sn_msg *m)
{
	sn_count(&p->mailbox.pushed, 1);
	sn_mailbox_push(&p->mailbox, m);
}

/* Mark p to end with reason at its next switch; killed beats the rest. */
static void
pending_set(struct sn_proc *p, uint8_t reason)
{
	uint8_t none = 0;

	if (reason == SNOW_EXIT_KILLED)
		atomic_store(&p->exit_pending, (uint8_t)(reason + 1));
	else
		atomic_compare_exchange_strong(&p->exit_pending, &none,
		    (uint8_t)(reason + 1));
}

bool
sn_actor_wake_due(struct sn_proc *p, unsigned kind)
{
	/* Its function may still use the caller's stack: a kill waits. */
	if (kind == SN_WAIT_BLOCKING)
		return sn_io_reported(p);
	if (atomic_load_explicit(&p->exit_pending, memory_order_relaxed))
		return true;
	/* A receive must not park with senders muted on it: it released
	 * them before it parked, and one that muted since, after its own
	 * message was taken, is seen here, after the parking fence (the
	 * muting sender stores, then fences, then reads our wait word). */
	if (sn_likely(kind == SN_WAIT_MSG))
		return sn_mailbox_ready(&p->mailbox) || sn_bp_muted_on(p);
	if (kind == SN_WAIT_IO)
		return sn_io_reported(p);
	return kind == SN_WAIT_MUTE && sn_bp_wake_due(p);
}

/*
 * pid's block with its shard locked, if pid is an actor.  The main
 * process is in the table for its mailbox but is no actor (mainproc.h):
 * links, exit signals and terminate callbacks find it not alive.
 */
static struct sn_proc *
actor_lock(uint64_t pid, struct sn_pt_shard **held)
{
	struct sn_proc *p = sn_ptable_lock(&sn_rt.ptable, pid, held);

	if (p != NULL && sn_unlikely(p->on_thread)) {
		sn_ptable_unlock(*held);
		return NULL;
	}
	return p;
}

/* ---- Links ---- */

/* The sets themselves are links.c's: O(1) expected per add and remove,
 * so a hub linked to many actors pays no more per link than a pair. */

/*
 * Deliver the exit of from (with reason) to the actor to, if alive: a
 * message if it traps exits, else its end unless the reason is normal.
 * Without memory for the message it ends as if it did not trap: an exit
 * signal is never lost.
 */
static void
signal_exit(uint64_t to, uint64_t from, uint8_t reason)
{
	struct snow_exit_msg body = { from, reason };
	struct sn_pt_shard *held;
	struct sn_proc *p;
	struct sn_rare *r;
	struct sn_msg *m = NULL;
	bool wake = false;

	p = actor_lock(to, &held);
	if (p == NULL)
		return;
	if ((r = sn_rare_get(p)) != NULL)
		(void)sn_links_remove(&r->links, from);
	if (p->trap_exit)
		m = sn_msg_new(SNOW_MSG_EXIT, &body, sizeof(body));
	if (m != NULL) {
		push_locked(p, m);
		wake = sn_wake_take(p, SN_WAKE_BY_MSG);
	} else if (reason != SNOW_EXIT_NORMAL) {
		pending_set(p, SNOW_EXIT_LINKED);
		wake = sn_wake_take(p, SN_WAKE_BY_SIGNAL);
	}
	sn_ptable_unlock(held);
	if (wake)
		sn_sched_ready(p);
}

/* Add pid to p's links, p's table lock held: 0 or ENOMEM. */
static int
links_add(struct sn_proc *p, uint64_t pid)
{
	struct sn_rare *r = sn_rare_make(p);

	return r != NULL ? sn_links_add(&r->links, pid) : ENOMEM;
}

/* Remove pid from p's links, p's table lock held. */
static void
links_remove(struct sn_proc *p, uint64_t pid)
{
	struct sn_rare *r = sn_rare_get(p);

	if (r != NULL)
		(void)sn_links_remove(&r->links, pid);
}

int
sn_actor_link(struct sn_proc *self, uint64_t pid)
{
	struct sn_pt_shard *held;
	struct sn_proc *p;
	int err;

	if (pid == self->pid)
		return 0;
	p = actor_lock(pid, &held);
	if (p == NULL) {
		signal_exit(self->pid, pid, SNOW_EXIT_NOPROC);
		sn_actor_check_exit(self);
		return 0;
	}
	err = links_add(p, self->pid);
	sn_ptable_unlock(held);
	if (err != 0)
		return err;
	/* If pid ends between the two halves, its exit already reached us;
	 * our half is then stale and harmless. */
	if (sn_ptable_lock(&sn_rt.ptable, self->pid, &held) == self) {
		err = links_add(self, pid);
		sn_ptable_unlock(held);
	}
	if (err != 0)
		sn_actor_unlink(self, pid);
	return err;
}

bool
sn_actor_linked(struct sn_proc *self, uint64_t pid)
{
	struct sn_pt_shard *held;
	bool yes = false;

	if (sn_ptable_lock(&sn_rt.ptable, self->pid, &held) == self) {
		struct sn_rare *r = sn_rare_get(self);

		yes = r != NULL && sn_links_contains(&r->links, pid);
		sn_ptable_unlock(held);
	}
	return yes;
}

int
sn_actor_unlink(struct sn_proc *self, uint64_t pid)
{
	struct sn_pt_shard *held;
	struct sn_proc *p;

	p = sn_ptable_lock(&sn_rt.ptable, pid, &held);
	if (p != NULL) {
		links_remove(p, self->pid);
		sn_ptable_unlock(held);
	}
	if (sn_ptable_lock(&sn_rt.ptable, self->pid, &held) == self) {
		links_remove(self, pid);
		sn_ptable_unlock(held);
	}
	return 0;
}

int
sn_actor_trap(struct sn_proc *self, int on)
{
	struct sn_pt_shard *held;
	int was = self->trap_exit;

	/* Under the lock: signal_exit() reads it there. */
	if (sn_ptable_lock(&sn_rt.ptable, self->pid, &held) == self) {
		self->trap_exit = on != 0;
		sn_ptable_unlock(held);
	}
	/*
	 * An exit signal that came before the trap was on is pending, and
	 * would end the actor at its next receive, after the code that
	 * trusts the trap has run.  A supervisor traps first thing; told to
	 * shut down in the moment after it was first scheduled, it went on
	 * to start its children and then ended without stopping them,
	 * leaving them to die through their links while its own supervisor,
	 * told of its end, started their replacements: two instances of one
	 * child alive at once.  So that signal ends the actor here, as
	 * Erlang handles signals in the order they came.  Read after the
	 * lock, under which every sender saw the trap off or on.
	 */
	if (on)
		sn_actor_check_exit(self);
	return was;
}

/*
 * Erlang's exit/2 from from (0: a thread outside the runtime) to pid.
 * Unlike a link's signal the reason is kept, and a trapping actor that
 * cannot be given the message is left alone (ENOMEM): the caller is told,
 * where a link's exit has nobody to tell and must not be lost.
 */
int
sn_actor_exit_signal(uint64_t pid, uint64_t from, uint8_t reason)
{
	struct snow_exit_msg body = { from, reason };
	struct sn_pt_shard *held;
	struct sn_proc *p;
	struct sn_msg *m;
	bool wake = false;
	int err = 0;

	p = actor_lock(pid, &held);
	if (p == NULL)
		return ESRCH;
	if (reason != SNOW_EXIT_KILLED && p->trap_exit) {
		m = sn_msg_new(SNOW_MSG_EXIT, &body, sizeof(body));
		if (m == NULL) {
			err = ENOMEM;
		} else {
			push_locked(p, m);
			wake = sn_wake_take(p, SN_WAKE_BY_MSG);
		}
	} else if (reason != SNOW_EXIT_NORMAL) {
		pending_set(p, reason);
		wake = sn_wake_take(p, SN_WAKE_BY_SIGNAL);
	}
	sn_ptable_unlock(held);
	if (wake)
		sn_sched_ready(p);
	return err;
}

/* ---- Birth and death ---- */

void
sn_actor_start(struct sn_proc *p)
{
	sn_mailbox_init(&p->mailbox);
	p->last = NULL;
	atomic_store_explicit(&p->wait, 0, memory_order_relaxed);
	atomic_store_explicit(&p->exit_pending, 0, memory_order_relaxed);
	p->trap_exit = 0;
	p->matching = 0;
	p->ending = SN_ENDING_NO;
	p->abandoned = 0;
	atomic_store_explicit(&p->hib_ok, sn_rt.hib_default,
	    memory_order_relaxed);
	atomic_store_explicit(&p->rare, NULL, memory_order_relaxed);
	atomic_store_explicit(&p->nmonitors, 0, memory_order_relaxed);
	atomic_store_explicit(&p->reds, 0, memory_order_relaxed);
}

struct sn_rare *
sn_rare_make(struct sn_proc *p)
{
	struct sn_rare *r = sn_rare_get(p), *none = NULL;

	if (r != NULL)
		return r;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	sn_links_init(&r->links);
	/* The actor and a thread holding its table lock may race here:
	 * one block wins, the other is freed. */
	if (atomic_compare_exchange_strong_explicit(&p->rare, &none, r,
	    memory_order_acq_rel, memory_order_acquire))
		return r;
	free(r);
	return none;
}

/*
 * The second half of an end, for an actor with a rare block: its state
 * destroyed, its name given up, its links and watchers told, its own
 * monitors dropped, the block freed.  Nobody else can reach the block
 * now: the actor is out of the table, and every other thread that makes
 * or reads it holds the table lock and finds the actor first.
 */
static void
rare_release(struct sn_proc *p, struct sn_rare *r, struct sn_links *links,
    struct sn_refmap *watchers)
{
	uint32_t pos = 0;
	uint64_t to;

	if (r->rt_state_free != NULL)
		r->rt_state_free(r->rt_state);
	if (r->name != NULL)
		sn_names_remove(&sn_rt.names, r->name);
	if (!sn_links_none(links)) {
		while ((to = sn_links_next(links, &pos)) != 0)
			signal_exit(to, p->pid, p->exit_reason);
		sn_links_free(links);
	}
	if (watchers != NULL)
		sn_monitor_fire(watchers, p->exit_reason, post);
	if (r->monitors != NULL)
		sn_monitor_unwatch(p);
	atomic_store_explicit(&p->rare, NULL, memory_order_relaxed);
	free(r);
}

bool
sn_actor_release(struct sn_proc *p)
{
	struct sn_pt_shard *held;
	struct sn_links links;
	struct sn_refmap *watchers = NULL;
	struct sn_mute *muted = NULL;
	struct sn_rare *r;

	/* Out of the table and its links taken in one step: a link made
	 * after this finds the actor gone and gets its noproc signal. */
	if (sn_ptable_lock(&sn_rt.ptable, p->pid, &held) == p) {
		r = sn_rare_get(p);
		/* A terminate callback runs first, as the actor, before
		 * anyone hears of its end: it stays in the table for it.
		 * Read under the lock that set it, so a callback set while
		 * the actor was ending is either run or refused, never lost;
		 * and without a rare block this costs one load. */
		if (sn_unlikely(r != NULL && r->terminate != NULL) &&
		    p->ending == SN_ENDING_NO) {
			p->ending = SN_ENDING_TERMINATE;
			sn_ptable_unlock(held);
			return false;
		}
		sn_ptable_remove_held(held, p);
		muted = sn_bp_take_locked(p);	/* none can come now */
	} else {
		r = sn_rare_get(p);
	}
	if (sn_unlikely(r != NULL)) {
		links = r->links;	/* a move: the copy owns any table */
		sn_links_init(&r->links);
		watchers = r->monitored_by;	/* a monitor made after this
						 * finds p gone: noproc */
		r->monitored_by = NULL;
	}
	sn_ptable_unlock(held);

	if (p->last != NULL) {
		sn_msg_free(p->last);
		p->last = NULL;
	}
	sn_mailbox_drain(&p->mailbox);
	if (sn_unlikely(muted != NULL))
		sn_bp_release_list(muted);
	if (sn_unlikely(r != NULL))
		rare_release(p, r, &links, watchers);
	return true;
}

/*
 * Run p's terminate callback, on p's own stack, once sn_actor_release()
 * sent it back to.  The callback may do what an actor does (send,
 * receive, be killed); a kill or an exit inside it ends the actor with
 * its first reason.
 */
void
sn_actor_terminate(struct sn_proc *p)
{
	struct sn_rare *r = sn_rare_get(p);
	snow_terminate_fn cb = r != NULL ? r->terminate : NULL;

	p->matching = 0;	/* it may have ended inside a match */
	if (cb == NULL)
		return;
	r->terminate = NULL;	/* the table lock is not needed: ending
				 * is set, so no one writes it now */
	cb(r->rt_state, &p->exit_reason);
}

int
sn_actor_set_terminate(uint64_t pid, snow_terminate_fn cb, bool only_if_none)
{
	struct sn_pt_shard *held;
	struct sn_proc *p;
	struct sn_rare *r;
	int err = 0;

	p = actor_lock(pid, &held);
	if (p == NULL)
		return ESRCH;
	r = sn_rare_get(p);
	if (p->ending != SN_ENDING_NO)
		err = ESRCH;	/* its callback ran or runs now */
	else if (only_if_none && r != NULL && r->terminate != NULL)
		err = EEXIST;
	else if (r == NULL && cb == NULL)
		err = 0;	/* none to clear */
	else if (r == NULL && (r = sn_rare_make(p)) == NULL)
		err = ENOMEM;
	else
		r->terminate = cb;
	sn_ptable_unlock(held);
	return err;
}

/* ---- Messages ---- */

/*
 * Hand m to pid's mailbox, or free it when pid is not alive; m is no
 * longer the caller's.  Returns PUSH_DROPPED, or what backpressure did
 * (enum sn_bp_outcome: always SN_BP_GO when sender is NULL).  sender is
 * the actor whose send this is, which backpressure may mute, or NULL.
 */
#define PUSH_DROPPED	(-1)

static inline __attribute__((always_inline)) int
push_to(uint64_t pid, struct sn_msg *m, struct sn_proc *sender)
{
	unsigned kinds = SN_WAKE_BY_MSG;
	struct sn_pt_shard *held;
	struct sn_proc *p;
	int bp = SN_BP_GO;
	bool wake;

	p = sn_ptable_lock(&sn_rt.ptable, pid, &held);
	if (p == NULL) {
		sn_msg_free(m);
		return PUSH_DROPPED;
	}
	push_locked(p, m);
	if (sender != NULL &&
	    (bp = sn_bp_note_send(sender, p)) == SN_BP_MUTED)
		kinds |= SN_WAKE_BY_MUTE;
	wake = sn_wake_take(p, kinds);
	sn_ptable_unlock(held);
	/* Ours to requeue: it cannot run, hence not end, until we do. */
	if (wake)
		sn_sched_ready(p);
	return bp;
}

/* A program's message, counted in the stats as sent or dropped. */
static void
deliver(uint64_t pid, struct sn_msg *m)
{
	sn_sched_count_send(push_to(pid, m, NULL) != PUSH_DROPPED);
}

/* A message of the runtime's own (a DOWN), which the stats leave out:
 * they count what programs send. */
static void
post(uint64_t pid, struct sn_msg *m)
{
	(void)push_to(pid, m, NULL);
}

void
sn_actor_send_msg(uint64_t pid, struct sn_msg *m)
{
	deliver(pid, m);
}

uint64_t
sn_actor_monitor(struct sn_proc *self, uint64_t pid, int *err)
{
	return sn_monitor(self, pid, post, err);
}

int
sn_actor_send(struct sn_proc *self, uint64_t pid, uint64_t tag,
    const void *msg, uint64_t size)
{
	struct sn_msg *m = sn_msg_new(tag, msg, size);
	int pushed;

	if (m == NULL)
		return ENOMEM;
	pushed = push_to(pid, m, self);
	sn_sched_count_send(pushed != PUSH_DROPPED);
	if (sn_unlikely(pushed > SN_BP_GO))
		sn_bp_after_send(self, pushed);
	return 0;
}

/* ---- Timers ---- */

void
sn_actor_sleep(struct sn_proc *self, int64_t ms)
{
	uint64_t deadline = sn_deadline_after(ms);

	while (sn_now_ns() < deadline) {
		/* Without memory for a timer, wait by yielding. */
		if (sn_sched_park(self, SN_WAIT_SLEEP, deadline) != 0)
			sn_sched_yield();
		sn_actor_check_exit(self);
	}
}

int
sn_actor_send_after(uint64_t pid, int64_t ms, const void *msg, uint64_t size)
{
	struct sn_timer tm = { .kind = SN_TIMER_SEND };
	int err;

	tm.deadline = sn_deadline_after(ms);
	tm.u.send.pid = pid;
	tm.u.send.msg = sn_msg_new(SNOW_MSG_DATA, msg, size);
	if (tm.u.send.msg == NULL)
		return ENOMEM;
	err = sn_sched_timer(&tm);
	if (err != 0)
		sn_msg_free(tm.u.send.msg);
	return err;
}

void
sn_actor_fire(const struct sn_timer *tm)
{
	struct sn_proc *p;
	uint64_t word;

	if (tm->kind == SN_TIMER_SEND) {
		deliver(tm->u.send.pid, tm->u.send.msg);
		return;
	}
	/* The block may have been reused since: the sequence number says
	 * whether this is still the park the timer was set for. */
	p = tm->u.wake.proc;
	word = atomic_load(&p->wait);
	if ((word & SN_WAIT_KIND_MASK) != 0 &&
	    word >> SN_WAIT_SEQ_SHIFT == tm->u.wake.seq &&
	    atomic_compare_exchange_strong(&p->wait, &word, 0)) {
		sn_sched_woken(p, word);
		sn_sched_ready(p);
	}
}

int
sn_actor_timer_stale(const struct sn_timer *tm)
{
	uint64_t word;

	if (tm->kind != SN_TIMER_WAKE)
		return 0;
	word = atomic_load_explicit(&tm->u.wake.proc->wait,
	    memory_order_relaxed);
	return (word & SN_WAIT_KIND_MASK) == 0 ||
	    word >> SN_WAIT_SEQ_SHIFT != tm->u.wake.seq;
}

/* ---- Actors blocked for ever ---- */

/*
 * Take the wake of every actor parked with no timer to end its wait, and
 * chain it through p->next (free while it is parked).  Nothing runs while
 * this sweeps, as nothing is readied yet: the picture stays the one the
 * caller judged blocked.
 */
static void
take_if_blocked(struct sn_proc *p, void *arg)
{
	struct sn_proc **taken = arg;
	uint64_t word = atomic_load(&p->wait);

	if (p->on_thread || (word & SN_WAIT_KIND_MASK) == 0 ||
	    (word & SN_WAIT_TIMED) ||
	    !atomic_compare_exchange_strong(&p->wait, &word, 0))
		return;
	p->next = *taken;
	*taken = p;
}

uint64_t
sn_actor_end_blocked(void)
{
	struct sn_proc *taken = NULL, *p, *next;
	uint64_t ended = 0;

	sn_ptable_foreach(&sn_rt.ptable, take_if_blocked, &taken);
	for (p = taken; p != NULL; p = next) {
		next = p->next;
		p->next = NULL;
		pending_set(p, SNOW_EXIT_KILLED);
		sn_sched_ready(p);
		ended++;
	}
	return ended;
}

/* ---- Names ---- */

int
sn_actor_register(struct sn_proc *self, const char *name, size_t len)
{
	struct sn_pt_shard *held;
	struct sn_name *n = NULL;
	struct sn_rare *r = sn_rare_get(self);
	int err;

	if (r != NULL && r->name != NULL)
		return EALREADY;
	if (r == NULL && (r = sn_rare_make(self)) == NULL)
		return ENOMEM;
	if ((err = sn_names_add(&sn_rt.names, name, len, self->pid, &n)) != 0)
		return err;
	/* Under the table lock: introspection reads it there. */
	if (sn_ptable_lock(&sn_rt.ptable, self->pid, &held) == self) {
		r->name = n;
		sn_ptable_unlock(held);
	}
	return 0;
}

uint64_t
sn_actor_whereis(const char *name, size_t len)
{
	return sn_names_find(&sn_rt.names, name, len);
}
