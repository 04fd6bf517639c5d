// SPDX-License-Identifier: GPL-2.0
/*
 * An old_sympos past the two klp_bad_dup of the target module: -EINVAL.
 */

#include "test_klp_bad.h"

static int klp_bad_dup(void)
{
	return 0;
}

static struct klp_func funcs[] = {
	{
		.old_name = "klp_bad_dup",
		.new_func = klp_bad_dup,
		.old_sympos = 3,
	}, { }
};

static struct klp_object objs[] = {
	{
		.name = KLP_BAD_TARGET,
		.funcs = funcs,
	}, { }
};

static struct klp_patch patch = {
	.mod = THIS_MODULE,
	.objs = objs,
};

KLP_BAD_LIVEPATCH(patch);
