/*
 * The process table: PID to control block, for senders.
 *
 * Sharded by PID block, a spin lock and a chained hash table per shard.
 * Workers take PIDs in blocks (see scheduler.c), so a worker's spawns,
 * and most of their exits, touch one shard that stays in its cache.  A lookup
 * returns with the shard still locked, and an actor leaves the table
 * under that lock before its block can be reused, so whatever the caller
 * does before unlocking (push a message, wake the actor) reaches the
 * actor it looked up, never the next user of the same block.
 */
#ifndef SN_PTABLE_H
#define SN_PTABLE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "internal.h"
#include "proc.h"

#define SN_PT_SHARDS	64

struct sn_pt_shard {
	sn_spinlock_t lock;
	struct sn_proc **buckets;	/* chained through pt_next */
	size_t nbuckets;		/* a power of two */
	size_t count;
} SN_ALIGNED;

struct sn_ptable {
	struct sn_pt_shard shard[SN_PT_SHARDS];
};

int sn_ptable_init(struct sn_ptable *t);
/* Frees the buckets; the blocks are not the table's. */
void sn_ptable_destroy(struct sn_ptable *t);
/* p->pid must be set; a PID is in the table at most once. */
void sn_ptable_insert(struct sn_ptable *t, struct sn_proc *p);
void sn_ptable_remove(struct sn_ptable *t, struct sn_proc *p);
/*
 * The block of pid with its shard locked (*held), or NULL with nothing
 * locked.  Release with sn_ptable_unlock(*held).
 */
struct sn_proc *sn_ptable_lock(struct sn_ptable *t, uint64_t pid,
    struct sn_pt_shard **held);
void sn_ptable_unlock(struct sn_pt_shard *held);
/* Remove p, found by sn_ptable_lock() into held, keeping the lock. */
void sn_ptable_remove_held(struct sn_pt_shard *held, struct sn_proc *p);
/* Call fn(p, arg) for every block, each shard locked in turn. */
void sn_ptable_foreach(struct sn_ptable *t,
    void (*fn)(struct sn_proc *, void *), void *arg);

#endif /* SN_PTABLE_H */
