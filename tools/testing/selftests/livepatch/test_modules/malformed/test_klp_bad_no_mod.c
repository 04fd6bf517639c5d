// SPDX-License-Identifier: GPL-2.0
/*
 * A patch without its module (.mod): klp_enable_patch() returns -EINVAL.
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
	.objs = objs,
};

KLP_BAD_LIVEPATCH(patch);
