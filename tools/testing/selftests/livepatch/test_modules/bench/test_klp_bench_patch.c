// SPDX-License-Identifier: GPL-2.0
/*
 * Livepatch benchmark patch: replaces the first nfuncs (1 to 1000)
 * functions of test_klp_bench_target, test_klp_bench_fn_000() on, with
 * identical functions, and times the transitions (see test_klp_bench.h:
 * enable_call_ns, enable_ns, disable_ns).
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/livepatch.h>
#define BENCH_PATCH_MODULE
#include "test_klp_bench.h"

static unsigned int nfuncs = 1;
module_param(nfuncs, uint, 0444);
MODULE_PARM_DESC(nfuncs, "Number of functions to patch, 1 to 1000 (default 1)");

static bool jump;
module_param(jump, bool, 0444);
MODULE_PARM_DESC(jump, "Patch the notrace functions test_klp_bench_nt_*() with jumps (Rust core)");

#define BENCH_NEW(a, b, c)						\
static noinline int livepatch_fn_##a##b##c(int x)			\
{									\
	asm volatile("");						\
	return x + BENCH_VAL(a, b, c);					\
}
#define BENCH_FUNC(a, b, c) {						\
	.old_name = "test_klp_bench_fn_" #a #b #c,			\
	.new_func = livepatch_fn_##a##b##c,				\
},

BENCH_FOR_ALL(BENCH_NEW)

#define BENCH_NT_FUNC(a, b, c) {					\
	.old_name = "test_klp_bench_nt_" #a #b #c,			\
	.new_func = livepatch_fn_##a##b##c,				\
},

/* Entry nfuncs is cleared at init: it ends the array. */
static struct klp_func funcs[BENCH_NFUNCS + 1] = {
	BENCH_FOR_ALL(BENCH_FUNC)
	{ }
};
static struct klp_func nt_funcs[BENCH_NFUNCS + 1] = {
	BENCH_FOR_ALL(BENCH_NT_FUNC)
	{ }
};

static struct klp_object objs[] = {
	{
		.name = "test_klp_bench_target",
		.funcs = funcs,
		.callbacks = BENCH_CALLBACKS,
	}, { }
};

static struct klp_patch patch = {
	.mod = THIS_MODULE,
	.objs = objs,
};

static int test_klp_bench_patch_init(void)
{
	if (nfuncs < 1 || nfuncs > BENCH_NFUNCS)
		return -EINVAL;
	if (jump)
		objs[0].funcs = nt_funcs;
	memset(&objs[0].funcs[nfuncs], 0, sizeof(funcs[nfuncs]));
	return bench_enable_patch(&patch, jump);
}

static void test_klp_bench_patch_exit(void)
{
}

module_init(test_klp_bench_patch_init);
module_exit(test_klp_bench_patch_exit);
MODULE_LICENSE("GPL");
MODULE_INFO(livepatch, "Y");
MODULE_DESCRIPTION("Livepatch benchmark: patch 1 to 1000 functions of test_klp_bench_target");
