// SPDX-License-Identifier: GPL-2.0
/*
 * An old_sympos past the only cmdline_proc_show of vmlinux: -EINVAL.
 */

#include "test_klp_bad.h"

static struct klp_func funcs[] = {
	{
		.old_name = "cmdline_proc_show",
		.new_func = klp_bad_cmdline_proc_show,
		.old_sympos = 2,
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
