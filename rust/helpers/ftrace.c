// SPDX-License-Identifier: GPL-2.0

#include <linux/ftrace.h>
#include <linux/trace_recursion.h>

/*
 * These run inside ftrace handlers: notrace, so that they are never traced
 * themselves.
 */

int notrace rust_helper_ftrace_test_recursion_trylock(unsigned long ip,
						      unsigned long parent_ip)
{
	return ftrace_test_recursion_trylock(ip, parent_ip);
}

void notrace rust_helper_ftrace_test_recursion_unlock(int bit)
{
	ftrace_test_recursion_unlock(bit);
}

void notrace rust_helper_ftrace_regs_set_instruction_pointer(struct ftrace_regs *fregs,
							     unsigned long ip)
{
	ftrace_regs_set_instruction_pointer(fregs, ip);
}
