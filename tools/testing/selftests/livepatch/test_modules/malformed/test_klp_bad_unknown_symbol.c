// SPDX-License-Identifier: GPL-2.0
/*
 * A function vmlinux does not have: klp_find_object_symbol() returns -EINVAL.
 */

#include "test_klp_bad.h"

static struct klp_func funcs[] = {
	{
		.old_name = KLP_BAD_MISSING,
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
};

KLP_BAD_LIVEPATCH(patch);
