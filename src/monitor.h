/*
 * Monitors: one-way watches of an actor's end (Erlang's monitor/2).
 *
 * A monitor lives in two maps.  The watcher's own, p->monitors (reference
 * to target PID), is touched by the watcher alone and is the truth about
 * which of its monitors are live.  The target's, p->monitored_by
 * (reference to the DOWN message to send), is under the target's process
 * table shard lock.  The DOWN message is made when the monitor is, so the
 * target's end never needs memory to tell anyone and never loses a DOWN.
 *
 * Why the watcher's map decides: when a demonitor races the target's
 * end, the DOWN may already be on its way.  Instead of chasing it, a
 * receive drops every DOWN whose reference is no longer in the watcher's
 * map, and takes the reference out when it hands a DOWN over.  So no DOWN
 * is ever seen after a demonitor, none is seen twice, and the watcher's
 * map holds only monitors whose DOWN it has not received (Erlang works
 * the same way, for the same reason).
 *
 * This part sits below actor.c: what it delivers goes through the post
 * hook actor.c hands it.
 */
#ifndef SN_MONITOR_H
#define SN_MONITOR_H

#include <stdbool.h>
#include <stdint.h>

#include "proc.h"
#include "refmap.h"

/* Hand m to pid's mailbox and wake it, or free m when pid is not alive. */
typedef void (*sn_post_fn)(uint64_t pid, struct sn_msg *m);

/*
 * self starts watching pid.  Returns the reference, or 0 with *err:
 * ENOMEM.  A pid not alive gets its DOWN (reason SNOW_EXIT_NOPROC) posted
 * at once.
 */
uint64_t sn_monitor(struct sn_proc *self, uint64_t pid, sn_post_fn post,
    int *err);
/* self stops watching through ref: 0, or ENOENT when ref is none of its
 * live monitors (unknown, or its DOWN already received). */
int sn_demonitor(struct sn_proc *self, uint64_t ref);

/*
 * The end of p, off the table: send each DOWN of by (p's monitored_by,
 * taken out under the lock) with reason, then free by.  Then drop p's own
 * monitors from their targets.
 */
void sn_monitor_fire(struct sn_refmap *by, uint8_t reason, sn_post_fn post);
void sn_monitor_unwatch(struct sn_proc *p);

/*
 * For receives, on a SNOW_MSG_DOWN message m in self's mailbox: whether
 * its monitor is still live (if not, m must be dropped unseen), and, once
 * m is handed out, that it is no longer.
 */
bool sn_monitor_down_live(const struct sn_proc *self, const struct sn_msg *m);
void sn_monitor_down_taken(struct sn_proc *self, const struct sn_msg *m);

#endif /* SN_MONITOR_H */
