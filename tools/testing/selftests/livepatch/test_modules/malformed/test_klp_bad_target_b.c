// SPDX-License-Identifier: GPL-2.0
/*
 * One half of test_klp_bad_target: the module has a static klp_bad_dup() in
 * each of its two files, so the name is ambiguous within the module.
 */
#include <linux/module.h>
#include <linux/kernel.h>

static noinline __used int klp_bad_dup(void)
{
	return 2;
}

int klp_bad_target_b(void);

int klp_bad_target_b(void)
{
	return klp_bad_dup();
}
