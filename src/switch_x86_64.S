/*
 * Register swap for the fast context backend (System V x86-64 ABI).
 *
 * A suspended context is its stack pointer; below it lie the callee-saved
 * registers and the x87/SSE control words, which the ABI also makes
 * callee-saved.  Everything else is caller-saved, so the compiler has
 * already spilled it around the call.
 */
	.text

/* Push the callee-saved state and store the stack pointer in *%rdi. */
.macro SAVE_CALLER
	pushq	%rbp
	pushq	%rbx
	pushq	%r12
	pushq	%r13
	pushq	%r14
	pushq	%r15
	subq	$16, %rsp
	stmxcsr	8(%rsp)
	fnstcw	(%rsp)
	movq	%rsp, (%rdi)
.endm

/* void sn_ctx_swap(void **save_sp, void *load_sp) */
	.globl	sn_ctx_swap
	.hidden	sn_ctx_swap
	.type	sn_ctx_swap, @function
	.p2align 4
sn_ctx_swap:
	SAVE_CALLER
	movq	%rsi, %rsp
	fldcw	(%rsp)
	ldmxcsr	8(%rsp)
	addq	$16, %rsp
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%rbx
	popq	%rbp
	ret
	.size	sn_ctx_swap, .-sn_ctx_swap

/*
 * void sn_ctx_start(void)
 *
 * Where a new context (context.c's frame_build()) first returns to from
 * sn_ctx_swap: calls r13(r12, rbx), which never returns.  The CFI marks
 * the return address undefined, so that debuggers and unwinders end an
 * actor's backtrace here instead of walking into garbage.
 */
	.globl	sn_ctx_start
	.hidden	sn_ctx_start
	.type	sn_ctx_start, @function
	.p2align 4
sn_ctx_start:
	.cfi_startproc
	.cfi_undefined rip
	movq	%r12, %rdi
	movq	%rbx, %rsi
	call	*%r13
	ud2
	.cfi_endproc
	.size	sn_ctx_start, .-sn_ctx_start

	.section .note.GNU-stack,"",@progbits
