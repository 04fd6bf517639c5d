// SPDX-License-Identifier: GPL-2.0
/*
 * A replace patch without the system state 1 an installed patch has: -EINVAL.
 */

#include "test_klp_bad.h"

static struct klp_func funcs[] = {
	{
		.old_name = "cmdline_proc_show",
		.new_func = klp_bad_cmdline_proc_show,
	}, { }
};

static struct klp_object objs[] = {
	{
		.funcs = funcs,
	}, { }
};

static struct klp_patch patch = {
	.mod = THIS_MODULE,
	.objs = objs,
	.replace = true,
};

KLP_BAD_LIVEPATCH(patch);
