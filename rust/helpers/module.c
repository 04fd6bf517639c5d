// SPDX-License-Identifier: GPL-2.0

#include <linux/module.h>

bool rust_helper_try_module_get(struct module *module)
{
	return try_module_get(module);
}
