// SPDX-License-Identifier: GPL-2.0
/*
 * A func without new_func: klp_init_func() returns -EINVAL.
 */

#include "test_klp_bad.h"

static struct klp_func funcs[] = {
	{
		.old_name = "cmdline_proc_show",
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
};

KLP_BAD_LIVEPATCH(patch);
