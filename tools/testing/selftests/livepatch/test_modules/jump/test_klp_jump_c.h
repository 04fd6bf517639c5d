/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A C patch of ctarget_show() of test_klp_jump_ctarget, a notrace function:
 * enabled with ENABLE (klp_enable_patch_jump, or klp_enable_patch, which
 * refuses it as the C core does).
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/livepatch.h>
#include <linux/livepatch_jump.h>
#include <linux/seq_file.h>

static int livepatch_ctarget_show(struct seq_file *m, void *v)
{
	seq_printf(m, "%s: this has been live patched\n", THIS_MODULE->name);
	return 0;
}

static struct klp_func funcs[] = {
	{
		.old_name = "ctarget_show",
		.new_func = livepatch_ctarget_show,
	}, { }
};

static struct klp_object objs[] = {
	{
		.name = "test_klp_jump_ctarget",
		.funcs = funcs,
	}, { }
};

static struct klp_patch patch = {
	.mod = THIS_MODULE,
	.objs = objs,
};

static int __init test_klp_jump_init(void)
{
	return ENABLE(&patch);
}

static void __exit test_klp_jump_exit(void)
{
}

module_init(test_klp_jump_init);
module_exit(test_klp_jump_exit);
MODULE_LICENSE("GPL");
MODULE_AUTHOR("rust-klp");
MODULE_INFO(livepatch, "Y");
