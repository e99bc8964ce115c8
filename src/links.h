/*
 * The set of PIDs an actor is linked to.
 *
 * Linking, unlinking and delivering an exit each touch the set of the
 * actors involved once, so with a linear set a hub linked to n actors pays
 * O(n) per link and O(n^2) overall.  This set costs O(1) expected per
 * add, remove and lookup whatever its size.
 *
 * Up to SN_LINKS_INLINE PIDs live in the struct itself and are scanned in
 * place: most actors have no link or a few (a job and its caller, a worker
 * and its supervisor), and those pay no allocation.  Beyond that the PIDs
 * move to an open-addressing hash table, linear probing, a power of two
 * of slots, grown past 70% load and shrunk below 1/8.  Removal shifts the
 * following entries of the probe run back (no tombstones), so a set that
 * sees links come and go for ever never fills with dead slots.  A slot
 * holding 0 is empty: no actor has PID 0.
 *
 * No locking here: each actor's set is only touched under its process
 * table shard's lock (see actor.c), or once the actor has left the table.
 */
#ifndef SN_LINKS_H
#define SN_LINKS_H

#include <stdbool.h>
#include <stdint.h>

/* PIDs kept in the struct before a table is allocated. */
#define SN_LINKS_INLINE	4

/* All zero is the empty set. */
struct sn_links {
	uint32_t n;		/* PIDs in the set */
	uint32_t mask;		/* 0: they are in u.inl[0..n); else the
				 * table's slot count - 1 */
	union {
		uint64_t inl[SN_LINKS_INLINE];
		uint64_t *slots;
	} u;
};

/* Make l the empty set (it holds nothing to free).  Inline: every spawn
 * and every exit does it, and most actors never link. */
static inline void
sn_links_init(struct sn_links *l)
{
	l->n = 0;
	l->mask = 0;
}

/* Whether l holds nothing, not even an emptied table to free. */
static inline bool
sn_links_none(const struct sn_links *l)
{
	return l->n == 0 && l->mask == 0;
}

/* Free what l holds and make it the empty set. */
void sn_links_free(struct sn_links *l);

/* Add pid: 0, also when it was there already, or ENOMEM (l unchanged),
 * or EINVAL for pid 0. */
int sn_links_add(struct sn_links *l, uint64_t pid);
/* Take pid out; false if it was not in. */
bool sn_links_remove(struct sn_links *l, uint64_t pid);
bool sn_links_contains(const struct sn_links *l, uint64_t pid);

static inline uint32_t
sn_links_count(const struct sn_links *l)
{
	return l->n;
}

/*
 * Iteration: start with *pos = 0; each call returns the next PID, or 0
 * when every PID has been returned once.  The set must not change in
 * between.
 */
uint64_t sn_links_next(const struct sn_links *l, uint32_t *pos);

#endif /* SN_LINKS_H */
