/*
 * Packing a hibernated stack; see hibpack.h.
 */
#include "config.h"

#include <string.h>

#include "context.h"
#include "hibpack.h"
#include "internal.h"

enum sn_pack_tag {
	SN_PACK_ZERO = 0,
	SN_PACK_SMALL = 1,
	SN_PACK_NEAR = 2,
	SN_PACK_FULL = 3
};

#define HI(w)	((w) >> 32)

/* Payloads are stored unaligned, in the machine's byte order: they are
 * read back by the process that wrote them. */
static inline uint8_t *
put32(uint8_t *d, uint32_t v)
{
	memcpy(d, &v, sizeof(v));
	return d + sizeof(v);
}

static inline uint8_t *
put64(uint8_t *d, uint64_t v)
{
	memcpy(d, &v, sizeof(v));
	return d + sizeof(v);
}

/*
 * The words are read through volatile and the payloads written with
 * fixed-size memcpy, which the compiler turns into plain moves: no call
 * ASan or TSan would intercept on the stack's side.
 */
SN_NO_SAN size_t
sn_hib_pack(void *dst, const void *src, size_t len)
{
	const volatile uint64_t *s = src;
	size_t words = len / 8, i;
	uint8_t *tags = dst, *d = tags + (words + 3) / 4;
	uint64_t anchor = 0;

	memset(tags, 0, (words + 3) / 4);
	for (i = 0; i < words; i++) {
		uint64_t w = s[i];
		unsigned tag;

		if (w == 0) {
			tag = SN_PACK_ZERO;
		} else if ((uint64_t)(int64_t)(int32_t)w == w) {
			tag = SN_PACK_SMALL;
			d = put32(d, (uint32_t)w);
		} else if (HI(w) == anchor) {
			tag = SN_PACK_NEAR;
			d = put32(d, (uint32_t)w);
		} else {
			tag = SN_PACK_FULL;
			d = put64(d, w);
			anchor = HI(w);
		}
		tags[i / 4] |= (uint8_t)(tag << (i % 4 * 2));
	}
	return (size_t)(d - (uint8_t *)dst);
}

void
sn_hib_unpack_init(struct sn_hib_unpack *u, const void *packed, size_t len)
{
	u->words = len / 8;
	u->word = 0;
	u->tags = packed;
	u->data = u->tags + (u->words + 3) / 4;
	u->anchor = 0;
}

size_t
sn_hib_unpack_some(struct sn_hib_unpack *u, uint64_t *out, size_t max)
{
	size_t n = 0;
	uint32_t lo;
	uint64_t w;

	for (; n < max && u->word < u->words; n++, u->word++) {
		switch (u->tags[u->word / 4] >> (u->word % 4 * 2) & 3) {
		case SN_PACK_ZERO:
			w = 0;
			break;
		case SN_PACK_SMALL:
			memcpy(&lo, u->data, sizeof(lo));
			u->data += sizeof(lo);
			w = (uint64_t)(int64_t)(int32_t)lo;
			break;
		case SN_PACK_NEAR:
			memcpy(&lo, u->data, sizeof(lo));
			u->data += sizeof(lo);
			w = u->anchor << 32 | lo;
			break;
		default:
			memcpy(&w, u->data, sizeof(w));
			u->data += sizeof(w);
			u->anchor = HI(w);
			break;
		}
		out[n] = w;
	}
	return n;
}
