/*
 * The function table: names of a program's top-level functions to their
 * addresses, filled by every compiled main (snow_register_function()) so
 * that an actor can later be spawned by name, from another node say.
 *
 * A process-wide table, independent of init and shutdown: compiled code
 * registers before it starts the runtime, and the table holds for the
 * life of the process.  Registrations come once, at startup, and lookups
 * later and from anywhere, so a reader-writer lock over an
 * open-addressed table (FNV-1a, linear probing, grown at half full) is
 * all it needs: no lookup waits behind another.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <snow/runtime.h>

#include "internal.h"

#define FN_TABLE_MIN	64	/* slots of the first table */

struct fn_entry {
	char *name;		/* NULL: free slot (nothing is ever removed) */
	size_t len;
	uint64_t hash;
	void *fn;
};

static pthread_rwlock_t fn_lock = PTHREAD_RWLOCK_INITIALIZER;
static struct fn_entry *fn_slots;	/* under fn_lock */
static size_t fn_cap, fn_count;

/* The slot holding name, or the free slot where it would go. */
static struct fn_entry *
fn_find(struct fn_entry *slots, size_t cap, const char *name, size_t len,
    uint64_t hash)
{
	size_t i = (size_t)hash & (cap - 1);

	for (;;) {
		struct fn_entry *e = &slots[i];

		if (e->name == NULL || (e->hash == hash && e->len == len &&
		    memcmp(e->name, name, len) == 0))
			return e;
		i = (i + 1) & (cap - 1);
	}
}

/* Double the table (or make the first one); 0 or ENOMEM. */
static int
fn_grow(void)
{
	size_t cap = fn_cap ? fn_cap * 2 : FN_TABLE_MIN, i;
	struct fn_entry *slots = calloc(cap, sizeof(*slots));

	if (slots == NULL)
		return ENOMEM;
	for (i = 0; i < fn_cap; i++)
		if (fn_slots[i].name != NULL)
			*fn_find(slots, cap, fn_slots[i].name, fn_slots[i].len,
			    fn_slots[i].hash) = fn_slots[i];
	free(fn_slots);
	fn_slots = slots;
	fn_cap = cap;
	return 0;
}

static int
name_check(const char *name, uint64_t len)
{
	return name == NULL || len == 0 || len > SNOW_FUNCTION_NAME_MAX ?
	    EINVAL : 0;
}

int
snow_register_function(const char *name, uint64_t len, void *fn)
{
	struct fn_entry *e;
	uint64_t hash;
	int err;

	if ((err = name_check(name, len)) != 0 || fn == NULL)
		return EINVAL;
	hash = sn_hash_bytes(name, (size_t)len);
	pthread_rwlock_wrlock(&fn_lock);
	if ((fn_count + 1) * 2 > fn_cap && (err = fn_grow()) != 0)
		goto out;
	e = fn_find(fn_slots, fn_cap, name, (size_t)len, hash);
	if (e->name != NULL) {
		err = e->fn == fn ? 0 : EEXIST;	/* the first one stays */
		goto out;
	}
	if ((e->name = malloc((size_t)len)) == NULL) {
		err = ENOMEM;
		goto out;
	}
	memcpy(e->name, name, (size_t)len);
	e->len = (size_t)len;
	e->hash = hash;
	e->fn = fn;
	fn_count++;
out:
	pthread_rwlock_unlock(&fn_lock);
	return err;
}

void *
snow_function_lookup(const char *name, uint64_t len)
{
	struct fn_entry *e;
	void *fn = NULL;
	uint64_t hash;

	if (name_check(name, len) != 0) {
		errno = EINVAL;
		return NULL;
	}
	hash = sn_hash_bytes(name, (size_t)len);
	pthread_rwlock_rdlock(&fn_lock);
	if (fn_cap != 0) {
		e = fn_find(fn_slots, fn_cap, name, (size_t)len, hash);
		fn = e->name != NULL ? e->fn : NULL;
	}
	pthread_rwlock_unlock(&fn_lock);
	if (fn == NULL)
		errno = ESRCH;
	return fn;
}
