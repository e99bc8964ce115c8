/*
 * The main process: the thread that called snow_rt_init_actor(), given a
 * process block of its own so that it has a mailbox.  Sends to its PID
 * are delivered, and it receives (plainly or selectively, so service
 * calls and job awaits work there too) by blocking the thread on a futex
 * instead of switching: it has no stack of the runtime's to switch from.
 *
 * It is in the process table under its PID like an actor, but it is no
 * actor: it does not run on a worker, cannot be linked to, killed or sent
 * exit signals (those see it as not alive, as before), and never counts
 * among the actors that shutdown waits for.
 */
#ifndef SN_MAINPROC_H
#define SN_MAINPROC_H

#include <stdbool.h>
#include <stdint.h>

#include "proc.h"

/* At start, before the workers: make it and set sn_rt.main_pid.  0 or
 * ENOMEM. */
int sn_mainproc_open(void);
/* At stop, once no actor is left, or when a start fails: free it. */
void sn_mainproc_close(void);
/*
 * On the main thread, in a receive: wait until a message may be there,
 * an exit signal... (none come to main) or deadline (sn_now_ns(),
 * UINT64_MAX for ever).  As sn_sched_park() does for an actor, and it may
 * return early; the receive looks again.
 */
void sn_mainproc_park(struct sn_proc *p, uint64_t deadline);

#endif /* SN_MAINPROC_H */
