/*
 * Packing a hibernated stack: the copy of a parked actor's live frames,
 * made smaller than the frames themselves.
 *
 * What a parked actor's frames hold is mostly not data: return addresses
 * into the runtime and the program, saved registers pointing at its own
 * control block and stack, zeros and small integers (padding, counters,
 * flags, -1).  Measured on an actor parked in snow_actor_receive(): 312
 * bytes of frames, of which 7 words are zero, 8 are small integers and 21
 * of the other 24 share their upper 32 bits with the word before them of
 * that kind.  So each 8-byte word is stored as a 2-bit tag and what the
 * tag leaves unknown:
 *
 *	SN_PACK_ZERO	0 bytes		the word is 0
 *	SN_PACK_SMALL	4 bytes		a 32-bit value, sign-extended
 *	SN_PACK_NEAR	4 bytes		the low half; the upper half is the
 *					anchor's: that of the last word
 *					stored NEAR or FULL
 *	SN_PACK_FULL	8 bytes		the word; it becomes the anchor
 *
 * The packed form is the tags, four to a byte, then the payloads in
 * order.  At worst it is n/32 bytes longer than the frames
 * (sn_hib_packed_max()); that frame is 120 bytes packed.
 *
 * The trade-off: a word-by-word encoder in the sweep and a decoder in
 * every thaw, against memory that stays allocated for as long as the
 * actor waits.  A thaw decodes a few hundred bytes (well under a
 * microsecond), where it already pays a system call to write them back.
 */
#ifndef SN_HIBPACK_H
#define SN_HIBPACK_H

#include <stddef.h>
#include <stdint.h>

/* The most bytes sn_hib_pack() writes for len bytes of frames. */
static inline size_t
sn_hib_packed_max(size_t len)
{
	size_t words = len / 8;

	return (words + 3) / 4 + words * 8;
}

/*
 * Pack len bytes (a multiple of 8) of frames at src, 8-byte aligned, into
 * dst, which has sn_hib_packed_max(len) bytes: returns the bytes used.
 * Reads src a word at a time without the sanitizers' checks (a stack holds
 * ASan's poisoned redzones), as the plain copy did.
 */
size_t sn_hib_pack(void *dst, const void *src, size_t len);

/*
 * Unpacking, a piece at a time, so that a caller with a small buffer (the
 * SIGSEGV handler) can write the frames back in several steps.
 */
struct sn_hib_unpack {
	const uint8_t *tags;		/* the packed copy's tags */
	const uint8_t *data;		/* its next payload */
	size_t word;			/* words unpacked so far */
	size_t words;			/* words in all */
	uint64_t anchor;		/* upper half for NEAR words */
};

void sn_hib_unpack_init(struct sn_hib_unpack *u, const void *packed,
    size_t len);

/* Unpack the next words, at most max, into out: how many (0 at the end). */
size_t sn_hib_unpack_some(struct sn_hib_unpack *u, uint64_t *out,
    size_t max);

#endif /* SN_HIBPACK_H */
