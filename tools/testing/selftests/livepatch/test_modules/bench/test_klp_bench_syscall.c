// SPDX-License-Identifier: GPL-2.0
/*
 * Livepatch benchmark: patch the getpid syscall with an identical function
 * and time the transitions (see test_klp_bench.h), while tasks hammer it
 * (test_klp-call_getpid, as upstream's test-syscall.sh does).  Unlike
 * test_klp_syscall, it tracks no pids, so any number of tasks can run.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/sched.h>
#include <linux/livepatch.h>
#define BENCH_PATCH_MODULE
#include "test_klp_bench.h"

#if defined(__x86_64__)
#define FN_PREFIX __x64_
#elif defined(__s390x__)
#define FN_PREFIX __s390x_
#elif defined(__aarch64__)
#define FN_PREFIX __arm64_
#else
/* powerpc does not select ARCH_HAS_SYSCALL_WRAPPER */
#define FN_PREFIX
#endif

static asmlinkage long lp_sys_getpid(void)
{
	return task_tgid_vnr(current);
}

static struct klp_func vmlinux_funcs[] = {
	{
		.old_name = __stringify(FN_PREFIX) "sys_getpid",
		.new_func = lp_sys_getpid,
	}, { }
};

static struct klp_object objs[] = {
	{
		/* name being NULL means vmlinux */
		.funcs = vmlinux_funcs,
		.callbacks = BENCH_CALLBACKS,
	}, { }
};

static struct klp_patch patch = {
	.mod = THIS_MODULE,
	.objs = objs,
};

static int test_klp_bench_syscall_init(void)
{
	return bench_enable_patch(&patch, false);
}

static void test_klp_bench_syscall_exit(void)
{
}

module_init(test_klp_bench_syscall_init);
module_exit(test_klp_bench_syscall_exit);
MODULE_LICENSE("GPL");
MODULE_INFO(livepatch, "Y");
MODULE_DESCRIPTION("Livepatch benchmark: patch getpid, timed");
