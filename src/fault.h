/*
 * Stack overflow reports.
 *
 * An actor that runs off the end of its stack touches the guard pages
 * below it.  Worker threads handle the fault on an alternate signal stack
 * (the actor's stack is the one that is full), name the actor and its
 * stack size on stderr and abort.  A fault in a hibernated stack puts the
 * stack back (see stack.c) and lets the access run again.  Any other
 * fault is passed on to the handler that was installed before the runtime
 * started.
 *
 * While the runtime runs it owns SIGSEGV and SIGBUS.  An application
 * handler installed after snow_rt_init_actor() takes them over and must
 * ask snow_rt_handle_fault() first (same work as ours, minus the
 * chaining).  At shutdown the handler from before init is put back only
 * if ours is still the one installed: an application's stays.
 */
#ifndef SN_FAULT_H
#define SN_FAULT_H

#include <stddef.h>

struct sn_fault_stack {
	void *base;
	size_t size;
};

/* Install the SIGSEGV and SIGBUS handlers; 0 or an errno value. */
int sn_fault_install(void);
/* Put back the handlers that were there before, where ours is still
 * installed; a handler the application installed since stays. */
void sn_fault_remove(void);

/* Give the calling worker thread an alternate signal stack. */
int sn_fault_thread_init(struct sn_fault_stack *fs);
void sn_fault_thread_fini(struct sn_fault_stack *fs);

#endif /* SN_FAULT_H */
