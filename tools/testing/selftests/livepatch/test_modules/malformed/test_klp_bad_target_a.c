// SPDX-License-Identifier: GPL-2.0
/*
 * One half of test_klp_bad_target: the module has a static klp_bad_dup() in
 * each of its two files, so the name is ambiguous within the module.
 */
#include <linux/module.h>
#include <linux/kernel.h>

static noinline __used int klp_bad_dup(void)
{
	return 1;
}

int klp_bad_target_b(void);

static int __init klp_bad_target_init(void)
{
	return klp_bad_dup() + klp_bad_target_b() == 3 ? 0 : -EINVAL;
}

static void __exit klp_bad_target_exit(void)
{
}

module_init(klp_bad_target_init);
module_exit(klp_bad_target_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Livepatch test: the target of the malformed patches");
