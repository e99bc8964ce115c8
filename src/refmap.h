/*
 * A map from 64-bit keys to 64-bit values: the monitors an actor holds
 * (reference to target) and the ones held on it (reference to the DOWN
 * message waiting to be sent).
 *
 * Open addressing with linear probing, a power of two of slots, grown
 * past 70% load and shrunk below 1/8, removal by shifting the rest of the
 * probe run back (no tombstones), as the link sets of links.h: O(1)
 * expected per put, get and take whatever the size, and a map that sees
 * keys come and go for ever never fills with dead slots.  Key 0 marks an
 * empty slot: no reference is 0.
 *
 * The map is one allocation, so it moves when it grows: every call that
 * may change it takes the pointer's address.  NULL is the empty map, so
 * an actor that never monitors holds nothing; one that empties keeps its
 * smallest table (136 bytes) until it is freed.
 *
 * No locking here: each map has one owner or one lock (see monitor.c).
 */
#ifndef SN_REFMAP_H
#define SN_REFMAP_H

#include <stdbool.h>
#include <stdint.h>

struct sn_refpair {
	uint64_t key;		/* 0: an empty slot */
	uint64_t val;
};

struct sn_refmap {
	uint32_t n;		/* pairs in the map */
	uint32_t mask;		/* slot count - 1 */
	struct sn_refpair slot[];
};

/* Put key (not 0) with val, replacing its old value: 0 or ENOMEM, and
 * then *mp is unchanged. */
int sn_refmap_put(struct sn_refmap **mp, uint64_t key, uint64_t val);
/* Whether key is in m; its value in *val (may be NULL). */
bool sn_refmap_get(const struct sn_refmap *m, uint64_t key, uint64_t *val);
/* Take key out, its value in *val (may be NULL); false if it was not in.
 * Never fails: a shrink that finds no memory keeps the larger table. */
bool sn_refmap_take(struct sn_refmap **mp, uint64_t key, uint64_t *val);
/* Free the map; *mp becomes NULL. */
void sn_refmap_free(struct sn_refmap **mp);

/*
 * Iteration: start with *pos = 0; each call gives the next pair and
 * returns true, or false once every pair was given.  The map must not
 * change in between.
 */
bool sn_refmap_next(const struct sn_refmap *m, uint32_t *pos,
    struct sn_refpair *out);

#endif /* SN_REFMAP_H */
