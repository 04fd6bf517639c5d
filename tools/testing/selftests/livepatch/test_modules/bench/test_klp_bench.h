/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared by the livepatch benchmark modules (make bench, test-bench-smoke.sh).
 *
 * BENCH_FOR_ALL(m) expands m(a, b, c) for every three-digit number abc from
 * 000 to 999, in order: the target module defines its 1000 patchable
 * functions test_klp_bench_fn_000() ... test_klp_bench_fn_999() with it, the
 * patch module their 1000 replacements and klp_func entries.  abc is a name
 * suffix; BENCH_VAL(a, b, c) is its value (no octal literals).
 */
#ifndef _TEST_KLP_BENCH_H
#define _TEST_KLP_BENCH_H

#include <linux/ktime.h>
#include <linux/livepatch.h>
#include <linux/livepatch_jump.h>
#include <linux/moduleparam.h>

#define BENCH_NFUNCS 1000

#define BENCH_VAL(a, b, c) ((a) * 100 + (b) * 10 + (c))

#define BENCH_FOR_C(m, a, b)						\
	m(a, b, 0) m(a, b, 1) m(a, b, 2) m(a, b, 3) m(a, b, 4)		\
	m(a, b, 5) m(a, b, 6) m(a, b, 7) m(a, b, 8) m(a, b, 9)
#define BENCH_FOR_B(m, a)						\
	BENCH_FOR_C(m, a, 0) BENCH_FOR_C(m, a, 1) BENCH_FOR_C(m, a, 2)	\
	BENCH_FOR_C(m, a, 3) BENCH_FOR_C(m, a, 4) BENCH_FOR_C(m, a, 5)	\
	BENCH_FOR_C(m, a, 6) BENCH_FOR_C(m, a, 7) BENCH_FOR_C(m, a, 8)	\
	BENCH_FOR_C(m, a, 9)
#define BENCH_FOR_ALL(m)						\
	BENCH_FOR_B(m, 0) BENCH_FOR_B(m, 1) BENCH_FOR_B(m, 2)		\
	BENCH_FOR_B(m, 3) BENCH_FOR_B(m, 4) BENCH_FOR_B(m, 5)		\
	BENCH_FOR_B(m, 6) BENCH_FOR_B(m, 7) BENCH_FOR_B(m, 8)		\
	BENCH_FOR_B(m, 9)

#ifdef BENCH_PATCH_MODULE
/*
 * Transition timing of a patch module (defines BENCH_PATCH_MODULE), in ns, as read-only module
 * parameters (the modules print nothing of it: the kselftest compares the
 * kernel log word for word):
 *   enable_call_ns  klp_enable_patch() called to returned
 *   enable_ns       klp_enable_patch() called to the end of the patching
 *                   transition (the post_patch callback)
 *   disable_ns      start of the unpatching transition (pre_unpatch) to
 *                   its end (post_unpatch)
 * Both cores run the callbacks at the same points of a transition.
 */
static unsigned long long enable_call_ns, enable_ns, disable_ns;
module_param(enable_call_ns, ullong, 0444);
module_param(enable_ns, ullong, 0444);
module_param(disable_ns, ullong, 0444);
static u64 bench_t0;

static void bench_post_patch(struct klp_object *obj)
{
	WRITE_ONCE(enable_ns, ktime_get_ns() - bench_t0);
}

static void bench_pre_unpatch(struct klp_object *obj)
{
	bench_t0 = ktime_get_ns();
}

static void bench_post_unpatch(struct klp_object *obj)
{
	WRITE_ONCE(disable_ns, ktime_get_ns() - bench_t0);
}

#define BENCH_CALLBACKS {						\
	.post_patch = bench_post_patch,					\
	.pre_unpatch = bench_pre_unpatch,				\
	.post_unpatch = bench_post_unpatch,				\
}

/* With jump, klp_enable_patch_jump(), which only the Rust core has. */
static int bench_enable_patch(struct klp_patch *patch, bool jump)
{
	int ret;

	bench_t0 = ktime_get_ns();
	ret = jump ? klp_enable_patch_jump(patch) : klp_enable_patch(patch);
	enable_call_ns = ktime_get_ns() - bench_t0;
	return ret;
}

#endif /* BENCH_PATCH_MODULE */
#endif /* _TEST_KLP_BENCH_H */
