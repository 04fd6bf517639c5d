// SPDX-License-Identifier: GPL-2.0

#include <linux/sync_core.h>

void rust_helper_sync_core(void)
{
	sync_core();
}
