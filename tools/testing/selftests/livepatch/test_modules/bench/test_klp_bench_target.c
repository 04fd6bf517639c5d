// SPDX-License-Identifier: GPL-2.0
/*
 * Livepatch benchmark target: 1000 patchable functions,
 * test_klp_bench_fn_000() ... test_klp_bench_fn_999(), each noinline with an
 * ftrace entry, 1000 more without one (notrace), test_klp_bench_nt_000() ...
 * test_klp_bench_nt_999(), for the jump redirector, and a timed in-kernel loop
 * of calls to test_klp_bench_fn_000() (or, with loop_fn=1,
 * test_klp_bench_nt_000()):
 *
 *   echo N > /sys/module/test_klp_bench_target/parameters/run_loop
 *
 * calls it N times, timed with ktime in chunks (rescheduling between them),
 * and leaves N in loop_calls and the time of the calls in loop_ns.
 * test_klp_bench_patch replaces the functions with identical ones.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/ktime.h>
#include <linux/sched.h>
#include "test_klp_bench.h"

#define BENCH_DECL(a, b, c) int test_klp_bench_fn_##a##b##c(int x);
#define BENCH_DEF(a, b, c)						\
noinline int test_klp_bench_fn_##a##b##c(int x)				\
{									\
	asm volatile("");						\
	return x + BENCH_VAL(a, b, c);					\
}

#define BENCH_NT_DECL(a, b, c) int test_klp_bench_nt_##a##b##c(int x);
#define BENCH_NT_DEF(a, b, c)						\
noinline notrace int test_klp_bench_nt_##a##b##c(int x)			\
{									\
	asm volatile("");						\
	return x + BENCH_VAL(a, b, c);					\
}

BENCH_FOR_ALL(BENCH_DECL)
BENCH_FOR_ALL(BENCH_DEF)
BENCH_FOR_ALL(BENCH_NT_DECL)
BENCH_FOR_ALL(BENCH_NT_DEF)

static unsigned int loop_fn;
module_param(loop_fn, uint, 0644);
MODULE_PARM_DESC(loop_fn, "The function run_loop calls: 0 test_klp_bench_fn_000(), 1 test_klp_bench_nt_000()");

/* Calls per chunk: a chunk stays well under a millisecond of guest time. */
#define BENCH_CHUNK 10000

static unsigned long long loop_calls, loop_ns;
module_param(loop_calls, ullong, 0444);
module_param(loop_ns, ullong, 0444);
static int bench_sink;

static int run_loop_set(const char *val, const struct kernel_param *kp)
{
	unsigned long long calls, done, total = 0;
	unsigned int i, n;
	int acc = 0;
	u64 t;
	int ret;

	ret = kstrtoull(val, 0, &calls);
	if (ret)
		return ret;
	if (!calls)
		return -EINVAL;

	for (done = 0; done < calls; done += n) {
		n = min_t(unsigned long long, calls - done, BENCH_CHUNK);
		t = ktime_get_ns();
		if (loop_fn)
			for (i = 0; i < n; i++)
				acc = test_klp_bench_nt_000(acc);
		else
			for (i = 0; i < n; i++)
				acc = test_klp_bench_fn_000(acc);
		total += ktime_get_ns() - t;
		cond_resched();
		if (signal_pending(current))
			return -EINTR;
	}
	WRITE_ONCE(bench_sink, acc);
	loop_calls = calls;
	loop_ns = total;
	return 0;
}

static const struct kernel_param_ops run_loop_ops = {
	.set = run_loop_set,
	.get = param_get_ullong,
};
module_param_cb(run_loop, &run_loop_ops, &loop_calls, 0644);
MODULE_PARM_DESC(run_loop, "Write N: time N calls of test_klp_bench_fn_000() (loop_calls, loop_ns)");

static int test_klp_bench_target_init(void)
{
	return 0;
}

static void test_klp_bench_target_exit(void)
{
}

module_init(test_klp_bench_target_init);
module_exit(test_klp_bench_target_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Livepatch benchmark: 1000 patchable functions and a timed call loop");
