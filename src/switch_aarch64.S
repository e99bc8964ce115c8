/*
 * Register swap for the fast context backend (AArch64, AAPCS64).
 *
 * The same contract as switch_x86_64.S: a suspended context is its stack
 * pointer, and below it lie what the procedure call standard makes
 * callee-saved: x19-x28, the frame pointer x29, the link register x30
 * (where the context resumes), the low halves d8-d15 of v8-v15, and the
 * floating-point control register FPCR (rounding mode, flush-to-zero,
 * default NaN), which C code may change with fesetround() and expects to
 * keep across a call.  FPSR, the sticky exception flags, is status, not
 * control, and stays with the thread, as MXCSR's flags would if x86-64
 * kept them apart.  Everything else is caller-saved, so the compiler has
 * already spilled it around the call.
 *
 * The frame is 176 bytes, a multiple of 16: AArch64 faults on an sp-based
 * access whose sp is not 16-aligned, and the stack has no red zone below
 * sp to spare.
 *
 *	sp+0	x19 x20		sp+96	d8 d9
 *	sp+16	x21 x22		sp+112	d10 d11
 *	sp+32	x23 x24		sp+128	d12 d13
 *	sp+48	x25 x26		sp+144	d14 d15
 *	sp+64	x27 x28		sp+160	FPCR, padding
 *	sp+80	x29 x30
 *
 * context.c's frame_build() writes the same layout for a new context.
 */

/*
 * Branch Target Identification: when the compiler builds with it
 * (-mbranch-protection=bti or standard), every function that may be
 * reached by an indirect branch starts with a landing pad, and every
 * object says so in a GNU property note, or the linker leaves the whole
 * library unprotected.  sn_ctx_swap gets "bti c" (a NOP on cores without
 * BTI); sn_ctx_start is only ever entered by a RET, which BTI does not
 * check.  Return-address signing (pac-ret) is not claimed: the return
 * address of a new context is written by C code that cannot sign it.
 */
#if defined(__ARM_FEATURE_BTI_DEFAULT) && __ARM_FEATURE_BTI_DEFAULT
#define BTI_C	bti	c
#define SN_GNU_PROPERTY_BTI	1
#else
#define BTI_C
#define SN_GNU_PROPERTY_BTI	0
#endif

	.text

/* void sn_ctx_swap(void **save_sp, void *load_sp) */
	.globl	sn_ctx_swap
	.hidden	sn_ctx_swap
	.type	sn_ctx_swap, %function
	.p2align 4
sn_ctx_swap:
	.cfi_startproc
	BTI_C
	sub	sp, sp, #176
	.cfi_def_cfa_offset 176
	stp	x19, x20, [sp, #0]
	stp	x21, x22, [sp, #16]
	stp	x23, x24, [sp, #32]
	stp	x25, x26, [sp, #48]
	stp	x27, x28, [sp, #64]
	stp	x29, x30, [sp, #80]
	.cfi_rel_offset x29, 80
	.cfi_rel_offset x30, 88
	stp	d8, d9, [sp, #96]
	stp	d10, d11, [sp, #112]
	stp	d12, d13, [sp, #128]
	stp	d14, d15, [sp, #144]
	mrs	x2, fpcr
	str	x2, [sp, #160]
	mov	x3, sp
	str	x3, [x0]

	/* The CFI above holds on the stack switched to as well: its frame
	 * has the same layout. */
	mov	sp, x1
	ldp	x19, x20, [sp, #0]
	ldp	x21, x22, [sp, #16]
	ldp	x23, x24, [sp, #32]
	ldp	x25, x26, [sp, #48]
	ldp	x27, x28, [sp, #64]
	ldp	x29, x30, [sp, #80]
	ldp	d8, d9, [sp, #96]
	ldp	d10, d11, [sp, #112]
	ldp	d12, d13, [sp, #128]
	ldp	d14, d15, [sp, #144]
	/* A write to FPCR synchronises the FP pipeline on many cores; the
	 * two contexts almost always agree, so write it only when not. */
	ldr	x3, [sp, #160]
	cmp	x2, x3
	b.eq	1f
	msr	fpcr, x3
1:	add	sp, sp, #176
	.cfi_def_cfa_offset 0
	.cfi_restore x29
	.cfi_restore x30
	ret
	.cfi_endproc
	.size	sn_ctx_swap, .-sn_ctx_swap

/*
 * void sn_ctx_start(void)
 *
 * Where a new context (context.c's frame_build()) first returns to from
 * sn_ctx_swap: calls x19(x20, x21), which never returns.  x29 is 0, the
 * end of the frame-record chain, and the CFI marks the return address
 * undefined, so that debuggers and unwinders end an actor's backtrace
 * here instead of walking into garbage.
 */
	.globl	sn_ctx_start
	.hidden	sn_ctx_start
	.type	sn_ctx_start, %function
	.p2align 4
sn_ctx_start:
	.cfi_startproc
	.cfi_undefined x30
	mov	x0, x20
	mov	x1, x21
	blr	x19
	brk	#0x1
	.cfi_endproc
	.size	sn_ctx_start, .-sn_ctx_start

#if SN_GNU_PROPERTY_BTI
/* NT_GNU_PROPERTY_TYPE_0 with GNU_PROPERTY_AARCH64_FEATURE_1_AND = BTI. */
	.pushsection .note.gnu.property, "a"
	.p2align 3
	.word	4			/* name size: "GNU\0" */
	.word	16			/* descriptor size */
	.word	5			/* NT_GNU_PROPERTY_TYPE_0 */
	.asciz	"GNU"
	.word	0xc0000000		/* GNU_PROPERTY_AARCH64_FEATURE_1_AND */
	.word	4			/* its data size */
	.word	1			/* GNU_PROPERTY_AARCH64_FEATURE_1_BTI */
	.word	0			/* padding to 8 bytes */
	.popsection
#endif

	.section .note.GNU-stack,"",%progbits
