/*
 * Chase-Lev work-stealing deque, growable, with the C11 memory orders of
 * Lê, Pop, Cohen and Zappa Nardelli, "Correct and Efficient Work-Stealing
 * for Weak Memory Models", PPoPP 2013 (figure 1).
 *
 * One owner thread pushes and pops at the bottom (LIFO); any thread may
 * steal from the top (FIFO, oldest item first).  Items are non-NULL
 * pointers: NULL is how pop and steal say "nothing for you".
 *
 * These functions are internal to the runtime; the library is built with
 * -fvisibility=hidden, so they are not exported.
 */
#ifndef SN_DEQUE_H
#define SN_DEQUE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

struct sn_deque_buf;			/* circular array, power-of-two size */

struct sn_deque {
	/*
	 * Thieves CAS top, the owner stores bottom on every push and pop:
	 * keep the two on separate cache lines so that the owner's fast
	 * path does not bounce the line the thieves are fighting over.
	 * Explicit padding rather than _Alignas so the struct can live in
	 * memory from plain malloc().
	 */
	_Atomic int64_t top;		/* thieves take here (own cache line) */
	char pad_top[64 - sizeof(_Atomic int64_t)];
	_Atomic int64_t bottom;		/* owner pushes and pops here (own cache line) */
	char pad_bottom[64 - sizeof(_Atomic int64_t)];
	_Atomic(struct sn_deque_buf *) buf;
	struct sn_deque_buf *retired;	/* old buffers, freed by sn_deque_destroy */
};

/* 0, or ENOMEM (also when 2^log2_size slots cannot be addressed). */
int   sn_deque_init(struct sn_deque *dq, unsigned log2_size);

/* Frees current and retired buffers; there must be no concurrent users. */
void  sn_deque_destroy(struct sn_deque *dq);

/*
 * Owner only.  0, or ENOMEM if the deque was full and growing it failed;
 * then the deque is unchanged and the item was not pushed.
 */
int   sn_deque_push(struct sn_deque *dq, void *item);

/* Owner only.  Newest item (LIFO end), or NULL when empty. */
void *sn_deque_pop(struct sn_deque *dq);

/*
 * Any thread, the owner included.  Oldest item, or NULL when the deque
 * was empty or the steal lost a race with another thief or with the
 * owner popping the last item; in the latter case the caller may retry.
 */
void *sn_deque_steal(struct sn_deque *dq);

/* Number of items; only a snapshot when other threads are active. */
size_t sn_deque_size(const struct sn_deque *dq);

#endif /* SN_DEQUE_H */
