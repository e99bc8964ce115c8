/*
 * Register swap for the fast context backend (RISC-V RV64, LP64D psABI).
 *
 * The same contract as switch_x86_64.S: a suspended context is its stack
 * pointer, and below it lie what the calling convention makes
 * callee-saved: s0-s11 (s0 is the frame pointer), the return address ra
 * (where the context resumes), fs0-fs11, and the dynamic rounding mode
 * frm of fcsr, which C code may change with fesetround() and expects to
 * keep across a call.  fflags, the sticky exception flags, is status,
 * not control, and stays with the thread.  Everything else is
 * caller-saved, so the compiler has already spilled it around the call.
 *
 * The frame is 208 bytes, keeping sp 16-aligned as the psABI wants; there
 * is no red zone below sp.
 *
 *	sp+0	ra		sp+104	fs0 ... sp+192 fs11
 *	sp+8	s0 ... sp+96 s11	sp+200	frm
 *
 * context.c's frame_build() writes the same layout for a new context.
 */
#if !defined(__riscv_float_abi_double) || __riscv_xlen != 64
#error "switch_riscv64.S is for the LP64D ABI (rv64gc); use --with-context=ucontext"
#endif

	.text

/* void sn_ctx_swap(void **save_sp, void *load_sp) */
	.globl	sn_ctx_swap
	.hidden	sn_ctx_swap
	.type	sn_ctx_swap, @function
	.p2align 2
sn_ctx_swap:
	.cfi_startproc
	addi	sp, sp, -208
	.cfi_def_cfa_offset 208
	sd	ra, 0(sp)
	.cfi_rel_offset ra, 0
	sd	s0, 8(sp)
	.cfi_rel_offset s0, 8
	sd	s1, 16(sp)
	sd	s2, 24(sp)
	sd	s3, 32(sp)
	sd	s4, 40(sp)
	sd	s5, 48(sp)
	sd	s6, 56(sp)
	sd	s7, 64(sp)
	sd	s8, 72(sp)
	sd	s9, 80(sp)
	sd	s10, 88(sp)
	sd	s11, 96(sp)
	fsd	fs0, 104(sp)
	fsd	fs1, 112(sp)
	fsd	fs2, 120(sp)
	fsd	fs3, 128(sp)
	fsd	fs4, 136(sp)
	fsd	fs5, 144(sp)
	fsd	fs6, 152(sp)
	fsd	fs7, 160(sp)
	fsd	fs8, 168(sp)
	fsd	fs9, 176(sp)
	fsd	fs10, 184(sp)
	fsd	fs11, 192(sp)
	frrm	t0
	sd	t0, 200(sp)
	sd	sp, 0(a0)

	/* The CFI above holds on the stack switched to as well: its frame
	 * has the same layout. */
	mv	sp, a1
	ld	ra, 0(sp)
	ld	s0, 8(sp)
	ld	s1, 16(sp)
	ld	s2, 24(sp)
	ld	s3, 32(sp)
	ld	s4, 40(sp)
	ld	s5, 48(sp)
	ld	s6, 56(sp)
	ld	s7, 64(sp)
	ld	s8, 72(sp)
	ld	s9, 80(sp)
	ld	s10, 88(sp)
	ld	s11, 96(sp)
	fld	fs0, 104(sp)
	fld	fs1, 112(sp)
	fld	fs2, 120(sp)
	fld	fs3, 128(sp)
	fld	fs4, 136(sp)
	fld	fs5, 144(sp)
	fld	fs6, 152(sp)
	fld	fs7, 160(sp)
	fld	fs8, 168(sp)
	fld	fs9, 176(sp)
	fld	fs10, 184(sp)
	fld	fs11, 192(sp)
	/* A CSR write may drain the pipeline; the two contexts almost
	 * always agree, so write frm only when not. */
	ld	t1, 200(sp)
	beq	t0, t1, 1f
	fsrm	t1
1:	addi	sp, sp, 208
	.cfi_def_cfa_offset 0
	.cfi_restore ra
	.cfi_restore s0
	ret
	.cfi_endproc
	.size	sn_ctx_swap, .-sn_ctx_swap

/*
 * void sn_ctx_start(void)
 *
 * Where a new context (context.c's frame_build()) first returns to from
 * sn_ctx_swap: calls s1(s2, s3), which never returns.  s0 is 0, the end
 * of the frame-pointer chain, and the CFI marks the return address
 * undefined, so that debuggers and unwinders end an actor's backtrace
 * here instead of walking into garbage.
 */
	.globl	sn_ctx_start
	.hidden	sn_ctx_start
	.type	sn_ctx_start, @function
	.p2align 2
sn_ctx_start:
	.cfi_startproc
	.cfi_undefined ra
	mv	a0, s2
	mv	a1, s3
	jalr	s1
	unimp
	.cfi_endproc
	.size	sn_ctx_start, .-sn_ctx_start

	.section .note.GNU-stack,"",@progbits
