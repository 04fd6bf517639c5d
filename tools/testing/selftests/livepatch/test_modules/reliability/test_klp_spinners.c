// SPDX-License-Identifier: GPL-2.0
/*
 * CPU-bound kthreads for test-cond-resched.sh: one per online CPU, bound to
 * it, at the lowest priority. They never sleep and never return to user space:
 * they spin, calling cond_resched(). A transition mostly finds them running on
 * their CPU, where it cannot check their stacks; they switch only in
 * cond_resched() (klp_sched_try_switch()), once the livepatch core has turned
 * that hook on, or when found preempted.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cpumask.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/sched.h>
#include <linux/slab.h>

static struct task_struct **spinners;
static unsigned int nr_spinners;

static int test_klp_spin(void *data)
{
	while (!kthread_should_stop())
		cond_resched();
	return 0;
}

static void test_klp_spinners_stop(void)
{
	while (nr_spinners)
		kthread_stop(spinners[--nr_spinners]);
	kfree(spinners);
}

static int test_klp_spinners_init(void)
{
	unsigned int cpu;

	spinners = kcalloc(nr_cpu_ids, sizeof(*spinners), GFP_KERNEL);
	if (!spinners)
		return -ENOMEM;
	cpus_read_lock();
	for_each_online_cpu(cpu) {
		struct task_struct *t;

		t = kthread_create_on_cpu(test_klp_spin, NULL, cpu, "test_klp_spin/%u");
		if (IS_ERR(t)) {
			cpus_read_unlock();
			test_klp_spinners_stop();
			return PTR_ERR(t);
		}
		set_user_nice(t, MAX_NICE);
		spinners[nr_spinners++] = t;
		wake_up_process(t);
	}
	cpus_read_unlock();
	pr_info("%u spinning kthreads\n", nr_spinners);
	return 0;
}

static void test_klp_spinners_exit(void)
{
	test_klp_spinners_stop();
}

module_init(test_klp_spinners_init);
module_exit(test_klp_spinners_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Livepatch test: CPU-bound kthreads spinning in cond_resched()");
