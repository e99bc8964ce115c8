/*
 * The process table: PID to control block, for senders.
 *
 * PIDs are handed out in blocks of SN_PID_BLOCK, one block at a time per
 * spawning thread (a worker, or a thread outside the runtime).  A block
 * is an array of slots indexed by PID, which only its spawning thread
 * fills: a spawn publishes its actor with one release store and takes no
 * lock.  Blocks are found by number in a hash table of SN_PT_SHARDS
 * shards, each a spin lock and chained buckets.
 *
 * A lookup returns with the block's shard locked, and an actor leaves its
 * slot under that lock before its control block can be reused, so
 * whatever the caller does before unlocking (push a message, wake the
 * actor) reaches the actor it looked up, never the next user of the same
 * control block.  A block is freed when every PID it handed out has left
 * and its spawner has moved on to another block.
 */
#ifndef SN_PTABLE_H
#define SN_PTABLE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "internal.h"
#include "proc.h"

#define SN_PT_SHARDS	64
#define SN_PID_BLOCK	256	/* PIDs a thread takes at once */

struct sn_pidblock {
	struct sn_pidblock *next;	/* in its shard's bucket */
	uint64_t base;			/* PID of slot 0 */
	unsigned issued;		/* slots handed out, once sealed */
	unsigned left;			/* actors that left (under the lock) */
	bool sealed;			/* its spawner moved on (under the lock) */
	_Atomic(struct sn_proc *) slot[SN_PID_BLOCK];
};

struct sn_pt_shard {
	sn_spinlock_t lock;
	struct sn_pidblock **buckets;	/* a power of two of them */
	size_t nbuckets;
	size_t count;
} SN_ALIGNED;

struct sn_ptable {
	struct sn_pt_shard shard[SN_PT_SHARDS];
};

/* Where one thread takes its PIDs from; zero it to start. */
struct sn_pidsource {
	struct sn_pidblock *block;	/* NULL: take a new one */
	unsigned next;			/* next free slot */
};

int sn_ptable_init(struct sn_ptable *t);
/* Frees every block; the control blocks are not the table's. */
void sn_ptable_destroy(struct sn_ptable *t);

/*
 * Give p the next PID of src (p->pid, p->pidblock) and publish it: from
 * here a lookup finds it.  0, or ENOMEM when a new block was needed.
 */
int sn_ptable_insert(struct sn_ptable *t, struct sn_pidsource *src,
    struct sn_proc *p);
/* src hands out no more PIDs; its block may be freed once empty. */
void sn_pidsource_close(struct sn_ptable *t, struct sn_pidsource *src);

/*
 * The block of pid with its shard locked (*held), or NULL with nothing
 * locked.  Release with sn_ptable_unlock(*held).
 */
struct sn_proc *sn_ptable_lock(struct sn_ptable *t, uint64_t pid,
    struct sn_pt_shard **held);
void sn_ptable_unlock(struct sn_pt_shard *held);
/* Take p out, found by sn_ptable_lock() into held, keeping the lock. */
void sn_ptable_remove_held(struct sn_pt_shard *held, struct sn_proc *p);
/* The same, taking the lock. */
void sn_ptable_remove(struct sn_ptable *t, struct sn_proc *p);
/* Call fn(p, arg) for every actor in, each shard locked in turn. */
void sn_ptable_foreach(struct sn_ptable *t,
    void (*fn)(struct sn_proc *, void *), void *arg);


#endif /* SN_PTABLE_H */
