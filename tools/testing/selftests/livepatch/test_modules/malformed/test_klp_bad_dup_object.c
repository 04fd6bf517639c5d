// SPDX-License-Identifier: GPL-2.0
/*
 * vmlinux twice: the second object's kobject_add() returns -EEXIST.
 */

#include "test_klp_bad.h"

/* Each object its own funcs: a func belongs to one object's list. */
static struct klp_func funcs[] = {
	{
		.old_name = "cmdline_proc_show",
		.new_func = klp_bad_cmdline_proc_show,
	}, { }
};

static struct klp_func funcs2[] = {
	{
		.old_name = "cmdline_proc_show",
		.new_func = klp_bad_cmdline_proc_show,
	}, { }
};

static struct klp_object objs[] = {
	{
		.funcs = funcs,
	}, {
		.funcs = funcs2,
	}, { }
};

static struct klp_patch patch = {
	.mod = THIS_MODULE,
	.objs = objs,
};

KLP_BAD_LIVEPATCH(patch);
