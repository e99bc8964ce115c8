/*
 * What makes an actor more than a coroutine: its mailbox, its links and
 * exit signals, its timers and its name.
 *
 * Every actor is in the process table from its spawn to its end; anyone
 * who wants to reach it (a sender, a linked actor ending, a kill) looks
 * it up there and acts under the table shard's lock, so an actor that
 * ends, and whose block is reused, is never reached by mistake.
 *
 * Waking: an actor parks with a wait word (see proc.h).  Whoever clears
 * the word from parked to 0 requeues it, and nobody else: a send clears
 * it only for a receive, a timer only for its own park, an exit signal
 * for either.
 */
#ifndef SN_ACTOR_H
#define SN_ACTOR_H

#include <stdbool.h>
#include <stdint.h>

#include "proc.h"
#include "scheduler.h"
#include "timer.h"

/* Spawn, before the actor enters the table: reset its messaging state. */
void sn_actor_start(struct sn_proc *p);
/*
 * Exit, on the worker off p's stack: leave the table and the names,
 * free the mailbox and the state, signal the links with p->exit_reason.
 * Returns false, having done none of that, when p has a terminate
 * callback still to run: the caller requeues p, which runs
 * sn_actor_terminate() when it resumes, and ends again.
 */
bool sn_actor_release(struct sn_proc *p);
/* In p, resumed after a false sn_actor_release(): run its callback. */
void sn_actor_terminate(struct sn_proc *p);
/* Would a parked p (wait kind kind) be woken by what already arrived? */
bool sn_actor_wake_due(struct sn_proc *p, unsigned kind);
/* In p, after a switch: end now if an exit signal is pending.  Inline:
 * every receive makes the check, and it almost never fires. */
static inline void
sn_actor_check_exit(struct sn_proc *p)
{
	uint8_t pending = atomic_load_explicit(&p->exit_pending,
	    memory_order_acquire);

	if (sn_unlikely(pending != 0))
		sn_sched_exit(p, (uint8_t)(pending - 1));
}

/* Timers, on the worker that holds them. */
void sn_actor_fire(const struct sn_timer *tm);
int sn_actor_timer_stale(const struct sn_timer *tm);

/* Shutdown found nothing runnable: end every actor waiting in receive.
 * Returns how many. */
uint64_t sn_actor_end_blocked(void);

/* The public calls, arguments checked by api.c; self is the caller. */
/* A send by the actor self, which backpressure may mute (it then parks
 * here until released), or by a thread that is no actor (self NULL). */
int sn_actor_send(struct sn_proc *self, uint64_t pid, uint64_t tag,
    const void *msg, uint64_t size);
int sn_actor_send_after(uint64_t pid, int64_t ms, const void *msg,
    uint64_t size);
/* The next message, or NULL with errno set (EAGAIN, ETIMEDOUT).  No
 * error out-parameter: its address would keep a word in every parked
 * actor's frame, which hibernation copies out. */
const struct sn_msg *sn_actor_receive(struct sn_proc *self,
    int64_t timeout_ms);
/* Whether a selective receive wants m. */
typedef bool (*sn_msg_want_fn)(const struct sn_msg *m, void *ctx);
/* The oldest message want accepts; the others stay, in order.  Sets
 * self->matching while it runs.  NULL with *err EAGAIN or ETIMEDOUT. */
const struct sn_msg *sn_actor_receive_match(struct sn_proc *self,
    sn_msg_want_fn want, void *ctx, int64_t timeout_ms, int *err);
/* A message made by the caller, delivered or dropped as a send's. */
void sn_actor_send_msg(uint64_t pid, struct sn_msg *m);
/* sn_monitor(), delivering through the mailboxes. */
uint64_t sn_actor_monitor(struct sn_proc *self, uint64_t pid, int *err);
int sn_actor_link(struct sn_proc *self, uint64_t pid);
int sn_actor_unlink(struct sn_proc *self, uint64_t pid);
/* Whether self is linked to pid: an actor that ended linked to self
 * stays in self's set until its exit signal has been delivered. */
bool sn_actor_linked(struct sn_proc *self, uint64_t pid);
int sn_actor_trap(struct sn_proc *self, int on);
int sn_actor_exit_signal(uint64_t pid, uint64_t from, uint8_t reason);
/* Set pid's terminate callback; with only_if_none, only when it has
 * none (EEXIST then), so the runtime's own never replaces a program's. */
int sn_actor_set_terminate(uint64_t pid, snow_terminate_fn cb,
    bool only_if_none);
void sn_actor_sleep(struct sn_proc *self, int64_t ms);
int sn_actor_register(struct sn_proc *self, const char *name, size_t len);
/* Introspection (introspect.c). */
int sn_process_info(uint64_t pid, struct snow_process_info *info);
size_t sn_process_list(uint64_t *pids, size_t max);
uint64_t sn_actor_whereis(const char *name, size_t len);

#endif /* SN_ACTOR_H */
