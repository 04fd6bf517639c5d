/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A patch of test-stress.sh: it patches cmdline_proc_show(), to show which
 * patch is in effect, and the getpid syscall, which the test's tasks call in
 * a loop.  Its "pids" parameter names those tasks, and its read-only
 * "pending" parameter counts the ones that have not called its getpid yet:
 * 0 once every task runs the patched code.
 *
 * Each test_klp_stress_*.c is KLP_STRESS_MODULE(replace).
 */
#ifndef _TEST_KLP_STRESS_H
#define _TEST_KLP_STRESS_H

#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/livepatch.h>
#include <linux/sched.h>
#include <linux/seq_file.h>
#include <linux/threads.h>

#if defined(__x86_64__)
#define FN_PREFIX __x64_
#elif defined(__s390x__)
#define FN_PREFIX __s390x_
#elif defined(__aarch64__)
#define FN_PREFIX __arm64_
#else
#define FN_PREFIX
#endif

#define KLP_STRESS_MAX_PIDS 128

static int pids[KLP_STRESS_MAX_PIDS];
static unsigned int npids;
module_param_array(pids, int, &npids, 0);
MODULE_PARM_DESC(pids, "The tasks that must come to call the patched getpid");

/* The tasks of pids that have not called the patched getpid yet. */
static DECLARE_BITMAP(waiting, PID_MAX_DEFAULT);
static atomic_t pending = ATOMIC_INIT(0);

static int pending_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%d\n", atomic_read(&pending));
}

static const struct kernel_param_ops pending_ops = {
	.get = pending_get,
};
module_param_cb(pending, &pending_ops, NULL, 0444);
MODULE_PARM_DESC(pending, "How many of pids have not called the patched getpid");

static int klp_stress_cmdline_proc_show(struct seq_file *m, void *v)
{
	seq_printf(m, "%s\n", THIS_MODULE->name);
	return 0;
}

static asmlinkage long klp_stress_getpid(void)
{
	pid_t pid = current->pid;

	if (pid < PID_MAX_DEFAULT && test_and_clear_bit(pid, waiting))
		atomic_dec(&pending);
	return task_tgid_vnr(current);
}

static struct klp_func funcs[] = {
	{
		.old_name = "cmdline_proc_show",
		.new_func = klp_stress_cmdline_proc_show,
	}, {
		.old_name = __stringify(FN_PREFIX) "sys_getpid",
		.new_func = klp_stress_getpid,
	}, { }
};

static struct klp_object objs[] = {
	{
		.funcs = funcs,
	}, { }
};

#define KLP_STRESS_MODULE(replace_)					\
	static struct klp_patch patch = {				\
		.mod = THIS_MODULE,					\
		.objs = objs,						\
		.replace = replace_,					\
	};								\
									\
	static int __init klp_stress_init(void)				\
	{								\
		unsigned int i;						\
									\
		for (i = 0; i < npids; i++)				\
			if (pids[i] > 0 && pids[i] < PID_MAX_DEFAULT &&	\
			    !test_and_set_bit(pids[i], waiting))	\
				atomic_inc(&pending);			\
		return klp_enable_patch(&patch);			\
	}								\
									\
	static void __exit klp_stress_exit(void)			\
	{								\
	}								\
									\
	module_init(klp_stress_init);					\
	module_exit(klp_stress_exit);					\
	MODULE_LICENSE("GPL");						\
	MODULE_INFO(livepatch, "Y");					\
	MODULE_DESCRIPTION("Livepatch test: a patch of the stress test")

#endif
