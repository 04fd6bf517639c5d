// SPDX-License-Identifier: GPL-2.0
/*
 * A livepatch whose new code can hold a task: it replaces cmdline_proc_show()
 * with a version that sleeps while the "block" parameter is Y.  A reader of
 * /proc/cmdline then sits in this module's new_func, which blocks a patch
 * stacked on top of this one (that patch replaces this version) and this
 * patch's own unpatching (test-klp-cli.sh, klp blockers in both directions).
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/livepatch.h>
#include <linux/seq_file.h>
#include <linux/delay.h>

static bool block;
module_param(block, bool, 0644);
MODULE_PARM_DESC(block, "readers of /proc/cmdline sleep in the new code while Y (default=N)");

static int klp_blocker_cmdline_proc_show(struct seq_file *m, void *v)
{
	seq_printf(m, "%s: this has been live patched\n", KBUILD_MODNAME);
	while (READ_ONCE(block))
		msleep(20);
	return 0;
}

static struct klp_func funcs[] = {
	{
		.old_name = "cmdline_proc_show",
		.new_func = klp_blocker_cmdline_proc_show,
	}, { }
};

static struct klp_object objs[] = {
	{
		/* name being NULL means vmlinux */
		.funcs = funcs,
	}, { }
};

static struct klp_patch patch = {
	.mod = THIS_MODULE,
	.objs = objs,
};

static int test_klp_blocker_init(void)
{
	return klp_enable_patch(&patch);
}

static void test_klp_blocker_exit(void)
{
}

module_init(test_klp_blocker_init);
module_exit(test_klp_blocker_exit);
MODULE_LICENSE("GPL");
MODULE_INFO(livepatch, "Y");
MODULE_DESCRIPTION("Livepatch test: new code that holds a task (klp blockers)");
