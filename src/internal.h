/*
 * Small helpers shared by every part of the runtime.
 */
#ifndef SN_INTERNAL_H
#define SN_INTERNAL_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define SN_CACHELINE	64
#define SN_ALIGNED	__attribute__((aligned(SN_CACHELINE)))
#define SN_NOINLINE	__attribute__((noinline))
#define SN_NORETURN	__attribute__((noreturn))
#define SN_TLS		__thread __attribute__((tls_model("initial-exec")))

#define sn_likely(x)	__builtin_expect(!!(x), 1)
#define sn_unlikely(x)	__builtin_expect(!!(x), 0)

#define sn_load(p)		atomic_load_explicit((p), memory_order_relaxed)
#define sn_store(p, v)		atomic_store_explicit((p), (v), memory_order_relaxed)

/*
 * Bump a counter that only its owner thread writes but any thread may
 * read: a plain increment in the generated code, without a data race.
 */
#define sn_count(p, n)	sn_store((p), sn_load(p) + (n))

/* FNV-1a over len bytes: for short keys (names), where any spread will
 * do and a cheap loop beats a strong hash. */
static inline uint64_t
sn_hash_bytes(const void *key, size_t len)
{
	const unsigned char *b = key;
	uint64_t h = 0xcbf29ce484222325ull;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= b[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

static inline void
sn_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#elif defined(__riscv)
	/* Zihintpause's pause, spelt as its encoding (FENCE W,0) for
	 * assemblers that lack the name: a hint, so a NOP on older cores. */
	__asm__ __volatile__(".4byte 0x0100000f" ::: "memory");
#else
	atomic_signal_fence(memory_order_seq_cst);
#endif
}

/*
 * A lock for sections of a few dozen instructions, taken once or twice
 * per spawn: an exchange to take, a plain store to release, where a
 * pthread mutex pays an atomic on both.  A waiter yields now and then, so
 * a holder preempted with more threads than cores is not spun against
 * for a whole time slice.
 */
typedef struct {
	_Atomic unsigned char held;
} sn_spinlock_t;

void sn_spin_lock_slow(sn_spinlock_t *l);

static inline void
sn_spin_init(sn_spinlock_t *l)
{
	atomic_init(&l->held, 0);
}

static inline void
sn_spin_lock(sn_spinlock_t *l)
{
	if (sn_likely(!atomic_exchange_explicit(&l->held, 1,
	    memory_order_acquire)))
		return;
	sn_spin_lock_slow(l);
}

static inline void
sn_spin_unlock(sn_spinlock_t *l)
{
	atomic_store_explicit(&l->held, 0, memory_order_release);
}

/*
 * errno through a function of its own (api.c), for code that may have
 * switched threads since it last touched errno: __errno_location() is
 * declared const, and a compiler may reuse the address it computed on the
 * thread the actor left.  snow_errno() (runtime.h) reads it the same way.
 */
void sn_set_errno(int err);

/*
 * Name the calling thread (fmt with one unsigned, at most 15 bytes), so
 * that top -H, ps -L and debuggers show the runtime's threads as such:
 * snow-wrk-N for worker N, snow-blocking for the blocking pool.
 */
void sn_thread_name(const char *fmt, unsigned n);

#endif /* SN_INTERNAL_H */
