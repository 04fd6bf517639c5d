// SPDX-License-Identifier: GPL-2.0

#include <linux/rcupdate.h>

void rust_helper_rcu_read_lock_sched(void)
{
	rcu_read_lock_sched();
}

void rust_helper_rcu_read_unlock_sched(void)
{
	rcu_read_unlock_sched();
}

void rust_helper_rcu_read_lock(void)
{
	rcu_read_lock();
}

void rust_helper_rcu_read_unlock(void)
{
	rcu_read_unlock();
}
