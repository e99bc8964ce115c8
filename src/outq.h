/*
 * Run queues of the threads outside the runtime that spawn (see outq.c).
 *
 * A thread that is not a worker pushes the normal-priority actors it
 * spawns onto a deque of its own, as a worker does onto its deque; the
 * workers steal from it.  The deques live as long as the process and go
 * from thread to thread: a thread takes one at its first spawn and gives
 * it back when it ends.
 */
#ifndef SN_OUTQ_H
#define SN_OUTQ_H

#include <stdatomic.h>
#include <stdbool.h>

#include "deque.h"

struct sn_proc;

struct sn_outq {
	struct sn_deque dq;		/* pushed by the holder, stolen by workers */
	struct sn_outq *next;		/* the list; set before it is published */
	_Atomic bool held;		/* some thread pushes here */
};

/*
 * A queue for the calling thread: one given back by a thread that ended,
 * or a new one.  NULL when none could be made (ENOMEM); the caller then
 * uses the shared queue.
 */
struct sn_outq *sn_outq_take(void);

/* The holder is done with q (its thread ends); what is queued on it
 * stays there for the workers. */
void sn_outq_give_back(struct sn_outq *q);

/*
 * Any worker: the oldest actor of some outside queue, looked at in turn
 * from the one after the last taken from (cursor, the worker's own), or
 * NULL when all looked empty.
 */
struct sn_proc *sn_outq_steal(unsigned *cursor);

/* Whether any outside queue holds an actor; a snapshot, for the idle
 * checks. */
bool sn_outq_visible(void);

#endif /* SN_OUTQ_H */
