/*
 * Chase-Lev work-stealing deque.
 *
 * D. Chase and Y. Lev, "Dynamic Circular Work-Stealing Deque", SPAA 2005,
 * with the C11 memory orders proven correct by N. M. Lê, A. Pop, A. Cohen
 * and F. Zappa Nardelli, "Correct and Efficient Work-Stealing for Weak
 * Memory Models", PPoPP 2013.  "Fig. 1" below is that paper's figure 1,
 * the C11 code of push, take (our pop) and steal.
 *
 * Indices top and bottom only grow (bottom dips by one inside pop and is
 * put back); the live items are [top, bottom), found at index & mask in
 * the current buffer.  Slots are atomics accessed relaxed: a thief may
 * read a slot the owner is writing, and the top CAS, not the slot access,
 * decides who gets the item, so the read needs to be race-free but not
 * ordered.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>

#include "deque.h"

struct sn_deque_buf {
	size_t mask;			/* slots - 1; slots is a power of two */
	unsigned log2_size;		/* slots == 1 << log2_size */
	struct sn_deque_buf *next;	/* on sn_deque.retired once replaced */
	_Atomic(void *) slot[];
};

/*
 * ThreadSanitizer does not model atomic_thread_fence, so under TSan the
 * release fence of push would not make the item's contents visible to a
 * thief and every user of the deque would see false races.  There we use
 * a release store to bottom instead, which gives thieves (who load bottom
 * with acquire) the same happens-before edge.
 */
#if defined(__SANITIZE_THREAD__)
#define SN_DEQUE_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define SN_DEQUE_TSAN 1
#endif
#endif

static struct sn_deque_buf *
buf_alloc(unsigned log2_size)
{
	struct sn_deque_buf *a;
	size_t n, i;

	/*
	 * Keep the slot count below 2^62 so bottom - top always fits in an
	 * int64_t, and the allocation size below SIZE_MAX.
	 */
	if (log2_size >= sizeof(size_t) * CHAR_BIT - 1 || log2_size > 62)
		return NULL;
	n = (size_t)1 << log2_size;
	if (n > (SIZE_MAX - sizeof(*a)) / sizeof(a->slot[0]))
		return NULL;

	a = malloc(sizeof(*a) + n * sizeof(a->slot[0]));
	if (a == NULL)
		return NULL;
	a->mask = n - 1;
	a->log2_size = log2_size;
	a->next = NULL;
	for (i = 0; i < n; i++)
		atomic_init(&a->slot[i], NULL);
	return a;
}

static void *
slot_load(struct sn_deque_buf *a, int64_t i)
{
	return atomic_load_explicit(&a->slot[(size_t)i & a->mask],
				    memory_order_relaxed);
}

static void
slot_store(struct sn_deque_buf *a, int64_t i, void *item)
{
	atomic_store_explicit(&a->slot[(size_t)i & a->mask], item,
			      memory_order_relaxed);
}

int
sn_deque_init(struct sn_deque *dq, unsigned log2_size)
{
	struct sn_deque_buf *a = buf_alloc(log2_size);

	if (a == NULL)
		return ENOMEM;
	atomic_init(&dq->top, 0);
	atomic_init(&dq->bottom, 0);
	atomic_init(&dq->buf, a);
	dq->retired = NULL;
	return 0;
}

void
sn_deque_destroy(struct sn_deque *dq)
{
	struct sn_deque_buf *a, *next;

	free(atomic_load_explicit(&dq->buf, memory_order_relaxed));
	atomic_store_explicit(&dq->buf, NULL, memory_order_relaxed);
	for (a = dq->retired; a != NULL; a = next) {
		next = a->next;
		free(a);
	}
	dq->retired = NULL;
}

/*
 * Owner only, when the buffer is full: copy the live range [t, b) into a
 * buffer twice the size and publish it.  The release store pairs with the
 * acquire load of buf in steal, so a thief that sees the new buffer also
 * sees the copied slots and its mask.
 *
 * Thieves that loaded the old buffer may still read from it, and we have
 * no cheap way to know when they are done, so it goes on the retired list
 * until sn_deque_destroy.  Its slots stay valid for them: the owner never
 * writes a retired buffer again.  Since each buffer is twice the size of
 * the one it replaced, the retired buffers together hold fewer slots than
 * the current one, so retired memory is bounded by the current buffer.
 */
static struct sn_deque_buf *
deque_grow(struct sn_deque *dq, struct sn_deque_buf *old, int64_t t,
    int64_t b)
{
	struct sn_deque_buf *a = buf_alloc(old->log2_size + 1);
	int64_t i;

	if (a == NULL)
		return NULL;
	for (i = t; i < b; i++)
		slot_store(a, i, slot_load(old, i));
	old->next = dq->retired;
	dq->retired = old;
	atomic_store_explicit(&dq->buf, a, memory_order_release);
	return a;
}

/*
 * Make the slot written at index b visible and the item stealable.
 * Fig. 1: a release fence then a relaxed store of bottom; thieves load
 * bottom with acquire, so a thief that sees the new bottom sees the slot
 * and whatever the owner wrote into the item before pushing it.
 */
static void
publish_bottom(struct sn_deque *dq, int64_t b)
{
#ifdef SN_DEQUE_TSAN
	atomic_store_explicit(&dq->bottom, b, memory_order_release);
#else
	atomic_thread_fence(memory_order_release);
	atomic_store_explicit(&dq->bottom, b, memory_order_relaxed);
#endif
}

int
sn_deque_push(struct sn_deque *dq, void *item)
{
	struct sn_deque_buf *a;
	int64_t b, t;

	/* Only the owner writes bottom and buf: relaxed reads of them. */
	b = atomic_load_explicit(&dq->bottom, memory_order_relaxed);
	/*
	 * Fig. 1: acquire, pairing with the thieves' top CAS, so a thief's
	 * read of a slot happens before we overwrite that slot when the
	 * buffer wraps around; otherwise it could take the new item while
	 * its CAS claims the old one.
	 */
	t = atomic_load_explicit(&dq->top, memory_order_acquire);
	a = atomic_load_explicit(&dq->buf, memory_order_relaxed);

	/*
	 * A stale top only makes the deque look fuller than it is, which
	 * at worst grows it early.
	 */
	if (b - t > (int64_t)a->mask) {
		a = deque_grow(dq, a, t, b);
		if (a == NULL)
			return ENOMEM;
	}
	slot_store(a, b, item);
	publish_bottom(dq, b + 1);
	return 0;
}

void *
sn_deque_pop(struct sn_deque *dq)
{
	struct sn_deque_buf *a;
	int64_t b, t;
	void *item;

	b = atomic_load_explicit(&dq->bottom, memory_order_relaxed) - 1;
	/*
	 * Empty as far as a relaxed look at top says: then it is empty,
	 * since only we move bottom and thieves only raise top, and the
	 * fence below (the dearest part of a pop) is not needed.  Most
	 * picks of a busy worker find its deque empty: a yield's, a
	 * message hop's.
	 */
	if (atomic_load_explicit(&dq->top, memory_order_relaxed) > b)
		return NULL;
	a = atomic_load_explicit(&dq->buf, memory_order_relaxed);
	/*
	 * Claim index b first, then look at top.  Fig. 1: the seq_cst
	 * fence orders this store before the load of top, against the
	 * thieves' seq_cst fence between their loads of top and bottom,
	 * so that the owner and a thief cannot both miss each other and
	 * take the same item: either we see their top increment or they
	 * see our lowered bottom.  A release or acquire would not stop
	 * the store-load reordering this is about.
	 */
	atomic_store_explicit(&dq->bottom, b, memory_order_relaxed);
	atomic_thread_fence(memory_order_seq_cst);
	t = atomic_load_explicit(&dq->top, memory_order_relaxed);

	if (t > b) {
		/* Empty: undo the claim. */
		atomic_store_explicit(&dq->bottom, b + 1, memory_order_relaxed);
		return NULL;
	}
	item = slot_load(a, b);
	if (t == b) {
		/*
		 * The last item: a thief may be going for it too, and the
		 * top CAS decides (Fig. 1, seq_cst on success).  Either way
		 * the deque is now empty with top == b + 1, so put bottom
		 * back to match.
		 */
		if (!atomic_compare_exchange_strong_explicit(&dq->top, &t,
							     t + 1,
							     memory_order_seq_cst,
							     memory_order_relaxed))
			item = NULL;
		atomic_store_explicit(&dq->bottom, b + 1, memory_order_relaxed);
	}
	return item;
}

void *
sn_deque_steal(struct sn_deque *dq)
{
	struct sn_deque_buf *a;
	int64_t b, t;
	void *item;

	/*
	 * Fig. 1: acquire top, seq_cst fence, acquire bottom.  The fence
	 * pairs with the one in pop (see there); the acquire on bottom
	 * pairs with the release in push so the slot is visible.
	 */
	t = atomic_load_explicit(&dq->top, memory_order_acquire);
	atomic_thread_fence(memory_order_seq_cst);
	b = atomic_load_explicit(&dq->bottom, memory_order_acquire);
	if (t >= b)
		return NULL;

	/*
	 * Fig. 1 uses consume here; compilers implement consume as
	 * acquire, and acquire is what pairs with the release store in
	 * deque_grow so a new buffer is seen with its contents.
	 */
	a = atomic_load_explicit(&dq->buf, memory_order_acquire);
	item = slot_load(a, t);
	/*
	 * Read the slot before claiming it: once top moves past t the
	 * owner may reuse the slot.  The CAS is seq_cst (Fig. 1) to
	 * order it with the owner's fence in pop; losing means another
	 * thief or the owner took item t.
	 */
	if (!atomic_compare_exchange_strong_explicit(&dq->top, &t, t + 1,
						     memory_order_seq_cst,
						     memory_order_relaxed))
		return NULL;
	return item;
}

size_t
sn_deque_size(const struct sn_deque *dq)
{
	/*
	 * Two relaxed loads, not a consistent snapshot: fine for a hint.
	 * The clamp covers pop's transient bottom - 1 and a top that has
	 * moved past the bottom we read.
	 */
	int64_t t = atomic_load_explicit(&dq->top, memory_order_relaxed);
	int64_t b = atomic_load_explicit(&dq->bottom, memory_order_relaxed);

	return b > t ? (size_t)(b - t) : 0;
}
