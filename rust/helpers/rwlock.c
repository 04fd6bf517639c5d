// SPDX-License-Identifier: GPL-2.0

#include <linux/spinlock.h>

void rust_helper_read_lock(rwlock_t *lock)
{
	read_lock(lock);
}

void rust_helper_read_unlock(rwlock_t *lock)
{
	read_unlock(lock);
}
