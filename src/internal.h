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

static inline void
sn_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#else
	atomic_signal_fence(memory_order_seq_cst);
#endif
}

#endif /* SN_INTERNAL_H */
