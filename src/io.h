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

/* Whether p's wait on a descriptor has had its report (for a park's
 * commit, as a mailbox's message is for a receive's). */
bool sn_io_reported(const struct sn_proc *p);

#endif /* SN_IO_H */
