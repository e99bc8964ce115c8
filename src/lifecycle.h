/*
 * Starting and stopping the runtime (lifecycle.c): the part above the
 * scheduler, called by the public init, run and stats entry points.
 */
#ifndef SN_LIFECYCLE_H
#define SN_LIFECYCLE_H

#include <stddef.h>

#include <snow/runtime.h>

/*
 * Start nworkers workers with stacks of stack_size bytes.  ncpus: CPUs
 * this process may run on, which bounds spinning workers.  0 or an errno
 * value; on failure nothing is left behind.
 */
int sn_sched_start(unsigned nworkers, unsigned ncpus, size_t stack_size);
/* Wait until every actor has exited (ending those blocked for ever),
 * then stop the workers and free everything.  0 or an errno value. */
int sn_sched_stop(void);
/* Counters of the running runtime, or of the last one after shutdown. */
void sn_sched_stats(struct snow_rt_stats *out);

#endif /* SN_LIFECYCLE_H */
