/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The common part of the malformed livepatch modules of test-malformed.sh.
 * Each test_klp_bad_*.c describes its patch, with one thing wrong, and ends
 * with KLP_BAD_LIVEPATCH(patch): a module whose init is klp_enable_patch().
 */
#ifndef _TEST_KLP_BAD_H
#define _TEST_KLP_BAD_H

#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/livepatch.h>
#include <linux/seq_file.h>

/* The bad modules' target module and its functions (test_klp_bad_target_*.c). */
#define KLP_BAD_TARGET "test_klp_bad_target"
#define KLP_BAD_MISSING "klp_bad_no_such_function"

/* A well-formed replacement of cmdline_proc_show(). */
static int __maybe_unused klp_bad_cmdline_proc_show(struct seq_file *m, void *v)
{
	seq_printf(m, "%s: this has been live patched\n", THIS_MODULE->name);
	return 0;
}

/* A module that enables patch_ in its init, without MODULE_INFO(livepatch). */
#define KLP_BAD_MODULE(patch_)						\
	static int __init klp_bad_init(void)				\
	{								\
		return klp_enable_patch(&patch_);			\
	}								\
	static void __exit klp_bad_exit(void)				\
	{								\
	}								\
	module_init(klp_bad_init);					\
	module_exit(klp_bad_exit);					\
	MODULE_LICENSE("GPL");						\
	MODULE_DESCRIPTION("Livepatch test: a malformed patch")

/* The same, marked as a livepatch module. */
#define KLP_BAD_LIVEPATCH(patch_)					\
	KLP_BAD_MODULE(patch_);						\
	MODULE_INFO(livepatch, "Y")

/*
 * A patch of cmdline_proc_show() holding system state 1 at version_, with
 * replace_: the state checks of test-malformed.sh.
 */
#define KLP_BAD_STATE_PATCH(version_, replace_)				\
	static struct klp_func funcs[] = {				\
		{							\
			.old_name = "cmdline_proc_show",		\
			.new_func = klp_bad_cmdline_proc_show,		\
		}, { }							\
	};								\
									\
	static struct klp_object objs[] = {				\
		{							\
			.funcs = funcs,					\
		}, { }							\
	};								\
									\
	static struct klp_state states[] = {				\
		{							\
			.id = 1,					\
			.version = version_,				\
		}, { }							\
	};								\
									\
	static struct klp_patch patch = {				\
		.mod = THIS_MODULE,					\
		.objs = objs,						\
		.states = states,					\
		.replace = replace_,					\
	};								\
									\
	KLP_BAD_LIVEPATCH(patch)

#endif
