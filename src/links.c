/*
 * The set of PIDs an actor is linked to; see links.h.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "links.h"

/* Fewest slots a table has: 8 holds the SN_LINKS_INLINE + 1 PIDs that
 * make one, at 62% load. */
#define MIN_SLOTS	8u
/* Most slots a table may have: positions must fit a uint32_t. */
#define MAX_SLOTS	(UINT32_C(1) << 31)

/*
 * The home slot of pid.  PIDs come in runs (each thread hands out a block
 * of consecutive ones) and strides, so the low bits alone would cluster:
 * a multiply by an odd constant (about 2^64 / the golden ratio) spreads
 * every bit of pid over the upper half, folded back onto the lower one.
 */
static inline uint32_t
home_of(uint64_t pid, uint32_t mask)
{
	uint64_t h = pid * UINT64_C(0x9e3779b97f4a7c15);

	return (uint32_t)(h ^ (h >> 32)) & mask;
}

/* Whether n PIDs fit in slots slots without passing 70% load, the point
 * past which linear probing's runs grow long. */
static inline bool
fits(uint64_t n, uint64_t slots)
{
	return n * 10 <= slots * 7;
}

/* The slot holding pid, or else the empty slot where its probe run ends
 * (where it would go).  The table is never full, so this ends. */
static uint32_t
probe(const uint64_t *slots, uint32_t mask, uint64_t pid)
{
	uint32_t i = home_of(pid, mask);

	while (slots[i] != 0 && slots[i] != pid)
		i = (i + 1) & mask;
	return i;
}

/* Put pid, known to be absent, in a table with room: for rehashing,
 * which need not look for duplicates. */
static void
place(uint64_t *slots, uint32_t mask, uint64_t pid)
{
	uint32_t i = home_of(pid, mask);

	while (slots[i] != 0)
		i = (i + 1) & mask;
	slots[i] = pid;
}

/*
 * Move l's n PIDs into a new table of nslots slots, or back inline when
 * nslots is 0 (then n <= SN_LINKS_INLINE).  ENOMEM leaves l as it was.
 */
static int
rehash(struct sn_links *l, uint32_t nslots)
{
	uint64_t *slots = NULL, *old = l->mask != 0 ? l->u.slots : NULL;
	uint64_t inl[SN_LINKS_INLINE];
	uint32_t i, k = 0, oldn = l->mask != 0 ? l->mask + 1 : l->n;
	const uint64_t *from = old != NULL ? old : l->u.inl;

	if (nslots != 0) {
		slots = calloc(nslots, sizeof(*slots));
		if (slots == NULL)
			return ENOMEM;
		for (i = 0; i < oldn; i++)
			if (from[i] != 0)
				place(slots, nslots - 1, from[i]);
		l->u.slots = slots;
		l->mask = nslots - 1;
	} else {
		/* Gather first: the inline array overlays the pointer. */
		for (i = 0; i < oldn; i++)
			if (from[i] != 0)
				inl[k++] = from[i];
		memcpy(l->u.inl, inl, k * sizeof(inl[0]));
		l->mask = 0;
	}
	free(old);
	return 0;
}

/* The slot count for n PIDs at most half of the 70% load, so that a
 * shrunk table does not grow again after a few adds. */
static uint32_t
slots_for(uint32_t n)
{
	uint64_t slots = MIN_SLOTS;

	while (!fits((uint64_t)n * 2, slots))
		slots *= 2;
	return (uint32_t)slots;
}

/* All zero is empty, so a fresh or reused block needs no allocation. */
/* Only a table owns memory; inline PIDs go with the struct. */
void
sn_links_free(struct sn_links *l)
{
	if (l->mask != 0)
		free(l->u.slots);
	sn_links_init(l);
}

/* A few inline PIDs are cheaper to scan than to hash. */
bool
sn_links_contains(const struct sn_links *l, uint64_t pid)
{
	uint32_t i;

	if (pid == 0)
		return false;
	if (l->mask != 0)
		return l->u.slots[probe(l->u.slots, l->mask, pid)] == pid;
	for (i = 0; i < l->n; i++)
		if (l->u.inl[i] == pid)
			return true;
	return false;
}

/* One probe finds a duplicate and the free slot alike; a full set
 * moves to a bigger table first. */
int
sn_links_add(struct sn_links *l, uint64_t pid)
{
	uint64_t slots;
	uint32_t i;

	if (pid == 0)
		return EINVAL;	/* it would read as an empty slot */
	if (l->mask == 0) {
		for (i = 0; i < l->n; i++)
			if (l->u.inl[i] == pid)
				return 0;
		if (l->n < SN_LINKS_INLINE) {
			l->u.inl[l->n++] = pid;
			return 0;
		}
	} else {
		i = probe(l->u.slots, l->mask, pid);
		if (l->u.slots[i] == pid)
			return 0;
		if (fits((uint64_t)l->n + 1, (uint64_t)l->mask + 1)) {
			l->u.slots[i] = pid;
			l->n++;
			return 0;
		}
	}
	/* Full: a table, or one twice the size, so that the load never
	 * passes 70% (and a probe always meets an empty slot). */
	slots = l->mask != 0 ? ((uint64_t)l->mask + 1) * 2 : MIN_SLOTS;
	if (slots > MAX_SLOTS || rehash(l, (uint32_t)slots) != 0)
		return ENOMEM;
	place(l->u.slots, l->mask, pid);
	l->n++;
	return 0;
}

/*
 * Empty slot i of the table and close the gap: each later entry of the
 * probe run whose home is not in (i, j] (it would no longer be found past
 * the gap) moves back into it, and the gap moves on to where it was.
 */
static void
shift_back(uint64_t *slots, uint32_t mask, uint32_t i)
{
	uint32_t j = i, k;

	for (;;) {
		j = (j + 1) & mask;
		if (slots[j] == 0)
			break;
		k = home_of(slots[j], mask);
		if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
			continue;
		slots[i] = slots[j];
		i = j;
	}
	slots[i] = 0;
}

/* Inline: swap the last PID in.  Table: shift back, then shrink a
 * table left mostly empty (a hub whose partners are gone). */
bool
sn_links_remove(struct sn_links *l, uint64_t pid)
{
	uint32_t i, slots;

	if (pid == 0)
		return false;
	if (l->mask == 0) {
		for (i = 0; i < l->n; i++)
			if (l->u.inl[i] == pid) {
				l->u.inl[i] = l->u.inl[--l->n];
				l->u.inl[l->n] = 0;
				return true;
			}
		return false;
	}
	i = probe(l->u.slots, l->mask, pid);
	if (l->u.slots[i] != pid)
		return false;
	shift_back(l->u.slots, l->mask, i);
	l->n--;
	/* Without memory for the smaller table, keep the big one. */
	slots = l->mask + 1;
	if ((uint64_t)l->n * 8 < slots)
		(void)rehash(l, l->n <= SN_LINKS_INLINE ? 0 :
		    slots_for(l->n));
	return true;
}

/* A cursor rather than a callback: the caller may lock and signal
 * between PIDs (sn_actor_release()). */
uint64_t
sn_links_next(const struct sn_links *l, uint32_t *pos)
{
	uint64_t pid;

	if (l->mask == 0)
		return *pos < l->n ? l->u.inl[(*pos)++] : 0;
	while (*pos <= l->mask) {
		pid = l->u.slots[(*pos)++];
		if (pid != 0)
			return pid;
	}
	return 0;
}
