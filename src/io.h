/*
 * Actors waiting on descriptors (io.c): what the rest of the runtime
 * needs to know of it.  The public calls are in runtime.h.
 */
#ifndef SN_IO_H
#define SN_IO_H

#include <stdbool.h>

#include "proc.h"

/* Set up and take down the runtime's poller (sn_rt.poller): at start and
 * at stop, with no actor waiting. */
void sn_io_init(void);
void sn_io_fini(void);

/* Whether p's wait on a descriptor, or its blocking call, has had its
 * report (for a park's commit, as a mailbox's message is for a
 * receive's). */
bool sn_io_reported(const struct sn_proc *p);

/*
 * The report word, io_ready, serves a blocking call (blocking.c) as it
 * serves a wait on a descriptor: sn_io_arm() numbers a new wait of p and
 * returns its tag; sn_io_fire() reports it once, with events, and wakes p
 * if it is parked in kind (1 << SN_WAIT_IO or SN_WAIT_BLOCKING): false
 * if the wait was reported already or is over.
 */
uint32_t sn_io_arm(struct sn_proc *p);
/* The tag sn_io_arm() will give p's next wait. */
uint32_t sn_io_tag_peek(const struct sn_proc *p);
/* p's wait is over, reported or not: io_ready back to 0 (see proc.h). */
void sn_io_disarm(struct sn_proc *p);
bool sn_io_fire(struct sn_proc *p, uint32_t tag, uint32_t events,
    unsigned kind);

#endif /* SN_IO_H */
