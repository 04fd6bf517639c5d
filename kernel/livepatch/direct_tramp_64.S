/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * direct_tramp_64.S - the direct-call trampoline of the livepatch core (x86-64)
 *
 * Once a patched function's transition is complete, its ftrace location
 * calls klp_direct_tramp directly (an ftrace direct call, see direct.rs)
 * instead of ftrace's trampoline and the livepatch handler.  The trampoline
 * looks up its return address, the ftrace location + MCOUNT_INSN_SIZE, in
 * klp_direct_table, an open-addressing hash table published with RCU-tasks,
 * and jumps to the new function with the caller's return address on top of
 * the stack, as if the caller had called the new function.
 *
 * The table, at its address in klp_direct_table:
 *	 0	mask: (slots - 1) << 4, slots a power of two
 *	 8, 16	unused by the trampoline (the count and an rcu_head)
 *	32	slots of 16 bytes: the key (0 if empty), then the target
 * A key's first slot is at (key & mask); a lookup probes the next slots
 * until the key or an empty slot.  The table is at most half full.
 *
 * While ftrace also calls the handler for the function (when it switches a
 * function to or from the direct call), ftrace_regs_caller returns into the
 * trampoline with the handler's choice on top of the stack: a new function,
 * not a key, which the trampoline returns to.
 *
 * Only %r10, %r11 and the saved %rax are used: the argument registers and
 * the callee-saved ones reach the new function unchanged.  The unwind hint
 * is undefined: a task interrupted here has no reliable stack, so that a
 * transition never switches it while it is about to run a function chosen
 * before the transition.
 */

#include <linux/linkage.h>
#include <asm/nospec-branch.h>
#include <asm/unwind_hints.h>

	.section .text, "ax"

SYM_CODE_START(klp_direct_tramp)
	UNWIND_HINT_UNDEFINED
	ENDBR
	pushq	%rax
	movq	klp_direct_table(%rip), %r10
	movq	8(%rsp), %r11
.Lprobe:
	andq	(%r10), %r11
	movq	32(%r10, %r11), %rax
	cmpq	8(%rsp), %rax
	je	.Lfound
	testq	%rax, %rax
	jz	.Lnone
	addq	$16, %r11
	jmp	.Lprobe
.Lfound:
	movq	40(%r10, %r11), %r11
	popq	%rax
	/* Drop the return address into the old function. */
	leaq	8(%rsp), %rsp
	JMP_NOSPEC r11
.Lnone:
	popq	%rax
	RET
SYM_CODE_END(klp_direct_tramp)
