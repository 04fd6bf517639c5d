// SPDX-License-Identifier: GPL-2.0
/*
 * Not a livepatch: the C target of the jump cases of test-direct.sh.  Reading
 * /proc/test_klp_jump_ctarget runs ctarget_show(), a C function built without
 * an ftrace location (notrace), which ftrace cannot patch.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/proc_fs.h>
#include <linux/seq_file.h>

static noinline notrace int ctarget_show(struct seq_file *m, void *v)
{
	seq_puts(m, "test_klp_jump_ctarget: original\n");
	return 0;
}

static int __init test_klp_jump_ctarget_init(void)
{
	if (!proc_create_single("test_klp_jump_ctarget", 0444, NULL, ctarget_show))
		return -ENOMEM;
	return 0;
}

static void __exit test_klp_jump_ctarget_exit(void)
{
	remove_proc_entry("test_klp_jump_ctarget", NULL);
}

module_init(test_klp_jump_ctarget_init);
module_exit(test_klp_jump_ctarget_exit);
MODULE_LICENSE("GPL");
MODULE_AUTHOR("rust-klp");
MODULE_DESCRIPTION("Livepatch test: a C target with a notrace function (jump redirector)");
