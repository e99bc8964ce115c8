/*
 * The main process; see mainproc.h.
 *
 * It parks with the same wait word as an actor (see proc.h), so senders
 * need not know what they wake: whoever clears the word owns the wake
 * and calls sn_sched_ready(), which for a thread's process stores 1 in
 * thread_wake and wakes the futex on it instead of queueing it.  The
 * thread sleeps on thread_wake, not on the wait word itself, because a
 * futex is 32 bits and the word is 64.
 */
#include "config.h"

#include <errno.h>
#include <linux/futex.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "actor.h"
#include "mainproc.h"
#include "monitor.h"
#include "scheduler.h"

/* Where the main process's undeliverable DOWNs go at the end. */
static void
discard(uint64_t pid, struct sn_msg *m)
{
	(void)pid;
	sn_msg_free(m);
}

int
sn_mainproc_open(void)
{
	struct sn_pidsource src = { 0 };
	struct sn_proc *p = calloc(1, sizeof(*p));
	int err;

	if (p == NULL)
		return ENOMEM;
	sn_actor_start(p);
	p->on_thread = 1;
	p->priority = SNOW_PRIO_NORMAL;
	atomic_store_explicit(&p->state, SN_RUNNING, memory_order_relaxed);
	atomic_store_explicit(&p->hib_ok, 0, memory_order_relaxed);
	err = sn_ptable_insert(&sn_rt.ptable, &src, p);
	if (err != 0) {
		free(p);
		return err;
	}
	/* A block of its own, closed at once: no actor shares it. */
	sn_pidsource_close(&sn_rt.ptable, &src);
	sn_rt.main_proc = p;
	atomic_store(&sn_rt.main_pid, p->pid);
	return 0;
}

void
sn_mainproc_close(void)
{
	struct sn_proc *p = sn_rt.main_proc;
	struct sn_rare *r;

	if (p == NULL)
		return;
	sn_ptable_remove(&sn_rt.ptable, p);
	if (p->last != NULL)
		sn_msg_free(p->last);
	sn_mailbox_drain(&p->mailbox);
	if ((r = sn_rare_get(p)) != NULL) {
		/* Its watchers have all ended: their DOWNs would go nowhere. */
		if (r->monitored_by != NULL)
			sn_monitor_fire(r->monitored_by, SNOW_EXIT_NORMAL,
			    discard);
		if (r->monitors != NULL)
			sn_monitor_unwatch(p);
		sn_links_free(&r->links);
		free(r);
	}
	sn_rt.main_proc = NULL;
	free(p);
}

/* Sleep on p->thread_wake while it is 0, until the futex is woken or
 * deadline passes. */
static void
futex_sleep(struct sn_proc *p, uint64_t deadline)
{
	struct timespec ts, *tsp = NULL;
	uint64_t now, left;

	if (deadline != UINT64_MAX) {
		now = sn_now_ns();
		if (now >= deadline)
			return;
		left = deadline - now;
		ts.tv_sec = (time_t)(left / 1000000000u);
		ts.tv_nsec = (long)(left % 1000000000u);
		tsp = &ts;
	}
	syscall(SYS_futex, &p->thread_wake, FUTEX_WAIT_PRIVATE, 0, tsp,
	    NULL, 0);
}

void
sn_mainproc_park(struct sn_proc *p, uint64_t deadline)
{
	uint64_t word = (++p->wait_seq << SN_WAIT_SEQ_SHIFT) | SN_WAIT_MSG;
	uint64_t expect;

	atomic_store(&p->wait, word);
	/* Pairs with the fence of the waker's wake_take(): either it sees
	 * our word, or we see its message. */
	atomic_thread_fence(memory_order_seq_cst);
	for (;;) {
		/* Reset before the look, so that a wake between the two
		 * makes the sleep return at once. */
		atomic_store(&p->thread_wake, 0);
		if (atomic_load(&p->wait) != word)
			return;		/* a waker took it */
		if (sn_actor_wake_due(p, SN_WAIT_MSG) ||
		    (deadline != UINT64_MAX && sn_now_ns() >= deadline)) {
			expect = word;
			if (atomic_compare_exchange_strong(&p->wait, &expect,
			    0))
				return;	/* ours again: nobody will wake us */
			continue;	/* a waker got in first */
		}
		futex_sleep(p, deadline);
	}
}
