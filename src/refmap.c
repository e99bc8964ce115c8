/*
 * A map of 64-bit keys to 64-bit values; see refmap.h.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>

#include "refmap.h"

/* Fewest slots a map has: its first few monitors without a regrow. */
#define MIN_SLOTS	8u
/* Most slots: positions must fit a uint32_t. */
#define MAX_SLOTS	(UINT32_C(1) << 31)

/*
 * The home slot of key.  References come in runs (each thread hands out
 * a block of consecutive ones), so a multiply by an odd constant (about
 * 2^64 / the golden ratio) spreads them before the mask.
 */
static inline uint32_t
home_of(uint64_t key, uint32_t mask)
{
	uint64_t h = key * UINT64_C(0x9e3779b97f4a7c15);

	return (uint32_t)(h ^ (h >> 32)) & mask;
}

/* Whether n pairs fit in slots slots within 70% load. */
static inline bool
fits(uint64_t n, uint64_t slots)
{
	return n * 10 <= slots * 7;
}

/* The slot of key, or the empty slot that ends its probe run. */
static uint32_t
probe(const struct sn_refmap *m, uint64_t key)
{
	uint32_t i = home_of(key, m->mask);

	while (m->slot[i].key != 0 && m->slot[i].key != key)
		i = (i + 1) & m->mask;
	return i;
}

/* A map of nslots empty slots, or NULL. */
static struct sn_refmap *
map_new(uint32_t nslots)
{
	struct sn_refmap *m = calloc(1, sizeof(*m) +
	    (size_t)nslots * sizeof(m->slot[0]));

	if (m != NULL)
		m->mask = nslots - 1;
	return m;
}

/* Move *mp's pairs into a new map of nslots slots; ENOMEM keeps *mp. */
static int
rehash(struct sn_refmap **mp, uint32_t nslots)
{
	struct sn_refmap *old = *mp, *m = map_new(nslots);
	uint32_t i, j;

	if (m == NULL)
		return ENOMEM;
	for (i = 0; old != NULL && i <= old->mask; i++) {
		if (old->slot[i].key == 0)
			continue;
		j = probe(m, old->slot[i].key);
		m->slot[j] = old->slot[i];
		m->n++;
	}
	free(old);
	*mp = m;
	return 0;
}

int
sn_refmap_put(struct sn_refmap **mp, uint64_t key, uint64_t val)
{
	struct sn_refmap *m = *mp;
	uint32_t i, slots;

	if (key == 0)
		return EINVAL;
	if (m == NULL || !fits((uint64_t)m->n + 1, (uint64_t)m->mask + 1)) {
		slots = m == NULL ? MIN_SLOTS : (m->mask + 1) * 2;
		if (m != NULL && m->mask + 1 >= MAX_SLOTS)
			return ENOMEM;
		if (rehash(mp, slots) != 0)
			return ENOMEM;
		m = *mp;
	}
	i = probe(m, key);
	if (m->slot[i].key == 0)
		m->n++;
	m->slot[i].key = key;
	m->slot[i].val = val;
	return 0;
}

/* The slot holding key, its value copied to *val (may be NULL); or -1. */
static int64_t
find(const struct sn_refmap *m, uint64_t key, uint64_t *val)
{
	uint32_t i;

	if (m == NULL || key == 0)
		return -1;
	i = probe(m, key);
	if (m->slot[i].key == 0)
		return -1;
	if (val != NULL)
		*val = m->slot[i].val;
	return i;
}

bool
sn_refmap_get(const struct sn_refmap *m, uint64_t key, uint64_t *val)
{
	return find(m, key, val) >= 0;
}

/*
 * Empty slot hole, then move back every later pair of its probe run that
 * may live there: one whose home is not cyclically in (hole, j].
 */
static void
shift_back(struct sn_refmap *m, uint32_t hole)
{
	uint32_t j = hole, home;

	for (;;) {
		m->slot[hole].key = 0;
		do {
			j = (j + 1) & m->mask;
			if (m->slot[j].key == 0)
				return;
			home = home_of(m->slot[j].key, m->mask);
		} while (hole <= j ? (hole < home && home <= j) :
		    (hole < home || home <= j));
		m->slot[hole] = m->slot[j];
		hole = j;
	}
}

bool
sn_refmap_take(struct sn_refmap **mp, uint64_t key, uint64_t *val)
{
	struct sn_refmap *m = *mp;
	int64_t i = find(m, key, val);

	if (i < 0)
		return false;
	shift_back(m, (uint32_t)i);
	/* Emptied, a map keeps its smallest table: a service call monitors
	 * and demonitors once each, and would otherwise allocate and free
	 * two tables per call.  The owner frees it at its end. */
	if (--m->n != 0 && m->mask + 1 > MIN_SLOTS &&
	    (uint64_t)m->n * 8 < m->mask + 1)
		(void)rehash(mp, (m->mask + 1) / 2);
	return true;
}

void
sn_refmap_free(struct sn_refmap **mp)
{
	free(*mp);
	*mp = NULL;
}

bool
sn_refmap_next(const struct sn_refmap *m, uint32_t *pos,
    struct sn_refpair *out)
{
	while (m != NULL && *pos <= m->mask) {
		const struct sn_refpair *p = &m->slot[(*pos)++];

		if (p->key != 0) {
			*out = *p;
			return true;
		}
	}
	return false;
}
