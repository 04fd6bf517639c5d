// SPDX-License-Identifier: GPL-2.0
/*
 * Not a livepatch: another ftrace direct user, as a BPF trampoline is, on the
 * function named by the "symbol" parameter.  Its trampoline counts the calls
 * (the "calls" parameter) and returns to where ftrace sends it: into the
 * function, or, when it shares the function with a livepatch handler, into
 * the new function the handler chose.  Like a BPF trampoline, it agrees to
 * share the function with an IPMODIFY ftrace_ops (test-direct.sh).
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/ftrace.h>
#include <linux/atomic.h>

#if !defined(CONFIG_X86_64) || !defined(CONFIG_DYNAMIC_FTRACE_WITH_DIRECT_CALLS)
#error "test_klp_direct_user needs x86-64 ftrace direct calls"
#endif

#include <asm/ibt.h>
#include <asm/nospec-branch.h>

static char *symbol = "cmdline_proc_show";
module_param(symbol, charp, 0444);
MODULE_PARM_DESC(symbol, "the function to attach to (default=cmdline_proc_show)");

static atomic_t calls = ATOMIC_INIT(0);

static int calls_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%d\n", atomic_read(&calls));
}

static const struct kernel_param_ops calls_ops = {
	.get = calls_get,
};
module_param_cb(calls, &calls_ops, NULL, 0444);
MODULE_PARM_DESC(calls, "calls of the function that went through the trampoline");

void test_klp_direct_user_count(void);
void test_klp_direct_user_count(void)
{
	atomic_inc(&calls);
}

void test_klp_direct_user_tramp(void);

/*
 * The argument registers of the traced call are the function's: keep them
 * for it.
 */
asm (
"	.pushsection    .text, \"ax\", @progbits\n"
"	.type		test_klp_direct_user_tramp, @function\n"
"	.globl		test_klp_direct_user_tramp\n"
"   test_klp_direct_user_tramp:"
	ASM_ENDBR
"	pushq %rbp\n"
"	movq %rsp, %rbp\n"
	CALL_DEPTH_ACCOUNT
"	pushq %rdi\n"
"	pushq %rsi\n"
"	pushq %rdx\n"
"	pushq %rcx\n"
"	pushq %r8\n"
"	pushq %r9\n"
"	call test_klp_direct_user_count\n"
"	popq %r9\n"
"	popq %r8\n"
"	popq %rcx\n"
"	popq %rdx\n"
"	popq %rsi\n"
"	popq %rdi\n"
"	leave\n"
	ASM_RET
"	.size		test_klp_direct_user_tramp, .-test_klp_direct_user_tramp\n"
"	.popsection\n"
);

/* Sharing with an IPMODIFY ops: the trampoline returns where the handler chose. */
static int direct_user_ops_func(struct ftrace_ops *ops, enum ftrace_ops_cmd cmd)
{
	switch (cmd) {
	case FTRACE_OPS_CMD_ENABLE_SHARE_IPMODIFY_SELF:
	case FTRACE_OPS_CMD_ENABLE_SHARE_IPMODIFY_PEER:
	case FTRACE_OPS_CMD_DISABLE_SHARE_IPMODIFY_PEER:
		return 0;
	}
	return -EINVAL;
}

static struct ftrace_ops direct_user_ops = {
	.ops_func = direct_user_ops_func,
};

static int __init test_klp_direct_user_init(void)
{
	int ret;

	ret = ftrace_set_filter(&direct_user_ops, symbol, strlen(symbol), 0);
	if (ret)
		return ret;
	ret = register_ftrace_direct(&direct_user_ops,
				     (unsigned long)test_klp_direct_user_tramp);
	if (ret)
		ftrace_free_filter(&direct_user_ops);
	return ret;
}

static void __exit test_klp_direct_user_exit(void)
{
	unregister_ftrace_direct(&direct_user_ops,
				 (unsigned long)test_klp_direct_user_tramp, true);
}

module_init(test_klp_direct_user_init);
module_exit(test_klp_direct_user_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Livepatch test: another ftrace direct user on a function");
