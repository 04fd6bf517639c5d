// SPDX-License-Identifier: GPL-2.0
/*
 * Not a livepatch: a kprobe with a post handler on the function named by the
 * "symbol" parameter.  Such a kprobe on an ftrace location holds the function
 * with an IPMODIFY ftrace_ops, so a livepatch of it cannot register its
 * handler (-EBUSY) while this module is loaded (test-ftrace-ops.sh).
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/kprobes.h>

static char *symbol = "cmdline_proc_show";
module_param(symbol, charp, 0444);
MODULE_PARM_DESC(symbol, "the function to hold (default=cmdline_proc_show)");

static void holder_post_handler(struct kprobe *p, struct pt_regs *regs,
				unsigned long flags)
{
}

static struct kprobe kp = {
	.post_handler = holder_post_handler,
};

static int __init test_klp_kprobe_holder_init(void)
{
	kp.symbol_name = symbol;
	return register_kprobe(&kp);
}

static void __exit test_klp_kprobe_holder_exit(void)
{
	unregister_kprobe(&kp);
}

module_init(test_klp_kprobe_holder_init);
module_exit(test_klp_kprobe_holder_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Livepatch test: a kprobe that holds a function with IPMODIFY");
