// SPDX-License-Identifier: GPL-2.0
/*
 * A livepatch of cmdline_proc_show() that fails the fail_nth-th memory
 * allocation of its own klp_enable_patch() call (fault injection's per-task
 * fail-nth, with failslab or fail_page_alloc armed): test-fault-injection.sh
 * loads it with fail_nth = 1, 2, ... until klp_enable_patch() makes fewer
 * allocations than that, and checks that every failure leaves nothing behind.
 * With jump=1 it patches the notrace ctarget_show() of test_klp_jump_ctarget
 * instead, with klp_enable_patch_jump() (the jump redirector).
 */

#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/livepatch.h>
#include <linux/livepatch_jump.h>
#include <linux/sched.h>
#include <linux/seq_file.h>

static int fail_nth;
module_param(fail_nth, int, 0);
MODULE_PARM_DESC(fail_nth, "Fail this allocation of klp_enable_patch() (0: none)");

static bool jump;
module_param(jump, bool, 0);
MODULE_PARM_DESC(jump, "Patch ctarget_show() of test_klp_jump_ctarget with klp_enable_patch_jump()");

static int klp_fault_cmdline_proc_show(struct seq_file *m, void *v)
{
	seq_printf(m, "%s: this has been live patched\n", THIS_MODULE->name);
	return 0;
}

static struct klp_func funcs[] = {
	{
		.old_name = "cmdline_proc_show",
		.new_func = klp_fault_cmdline_proc_show,
	}, { }
};

static struct klp_object objs[] = {
	{
		.funcs = funcs,
	}, { }
};

static struct klp_func jump_funcs[] = {
	{
		.old_name = "ctarget_show",
		.new_func = klp_fault_cmdline_proc_show,
	}, { }
};

static struct klp_object jump_objs[] = {
	{
		.name = "test_klp_jump_ctarget",
		.funcs = jump_funcs,
	}, { }
};

static struct klp_patch patch = {
	.mod = THIS_MODULE,
	.objs = objs,
};

#ifdef CONFIG_FAULT_INJECTION
/* Fail the n-th allocation of this task from now on. */
static int klp_fault_arm(int n)
{
	WRITE_ONCE(current->fail_nth, n);
	return 0;
}

/* Stop failing; how many allocations were still to come before the failure. */
static unsigned int klp_fault_disarm(void)
{
	unsigned int left = READ_ONCE(current->fail_nth);

	WRITE_ONCE(current->fail_nth, 0);
	return left;
}
#else
static int klp_fault_arm(int n)
{
	return n ? -EOPNOTSUPP : 0;
}

static unsigned int klp_fault_disarm(void)
{
	return 0;
}
#endif

static int __init test_klp_fault_init(void)
{
	unsigned int left;
	int ret;

	if (jump)
		patch.objs = jump_objs;
	ret = klp_fault_arm(fail_nth);
	if (ret)
		return ret;
	ret = jump ? klp_enable_patch_jump(&patch) : klp_enable_patch(&patch);
	left = klp_fault_disarm();

	if (left)
		pr_info("%s: klp_enable_patch() made fewer than %d allocations\n",
			THIS_MODULE->name, fail_nth);
	else if (fail_nth && !ret)
		pr_info("%s: allocation %d failed, klp_enable_patch() succeeded\n",
			THIS_MODULE->name, fail_nth);
	return ret;
}

static void __exit test_klp_fault_exit(void)
{
}

module_init(test_klp_fault_init);
module_exit(test_klp_fault_exit);
MODULE_LICENSE("GPL");
MODULE_INFO(livepatch, "Y");
MODULE_DESCRIPTION("Livepatch test: fault injection in klp_enable_patch()");
