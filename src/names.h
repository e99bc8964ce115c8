/*
 * Registered names: byte strings to PIDs, for snow_actor_register() and
 * snow_actor_whereis().
 *
 * Sharded by the name's hash, a mutex and a chained hash table per shard,
 * like the process table.  Names are rare next to messages, and a lookup
 * is one uncontended lock, so nothing cleverer is needed.  A name is
 * owned by its actor's control block (proc->name) and removed when the
 * actor ends, before a new actor can register it.
 */
#ifndef SN_NAMES_H
#define SN_NAMES_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "internal.h"

#define SN_NAME_SHARDS	16

struct sn_name {
	struct sn_name *next;		/* in its bucket */
	uint64_t hash;
	uint64_t pid;
	size_t len;
	char bytes[];
};

struct sn_name_shard {
	pthread_mutex_t lock;
	struct sn_name **buckets;
	size_t nbuckets;		/* a power of two */
	size_t count;
} SN_ALIGNED;

struct sn_names {
	struct sn_name_shard shard[SN_NAME_SHARDS];
};

int sn_names_init(struct sn_names *t);
/* Frees every name still registered. */
void sn_names_destroy(struct sn_names *t);
/* 0 and *out, or EEXIST (taken) or ENOMEM. */
int sn_names_add(struct sn_names *t, const char *name, size_t len,
    uint64_t pid, struct sn_name **out);
/* Remove and free n, which sn_names_add() returned. */
void sn_names_remove(struct sn_names *t, struct sn_name *n);
/* The PID registered under name, or 0. */
uint64_t sn_names_find(struct sn_names *t, const char *name, size_t len);

#endif /* SN_NAMES_H */
