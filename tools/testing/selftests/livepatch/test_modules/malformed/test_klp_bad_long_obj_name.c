// SPDX-License-Identifier: GPL-2.0
/*
 * An object name of MODULE_NAME_LEN characters: klp_init_object() returns
 * -EINVAL.
 */

#include "test_klp_bad.h"

static struct klp_func funcs[] = {
	{
		.old_name = "cmdline_proc_show",
		.new_func = klp_bad_cmdline_proc_show,
	}, { }
};

#define X8 "xxxxxxxx"
static_assert(sizeof(X8 X8 X8 X8 X8 X8 X8 X8) > MODULE_NAME_LEN);

static struct klp_object objs[] = {
	{
		.name = X8 X8 X8 X8 X8 X8 X8 X8,
		.funcs = funcs,
	}, { }
};

static struct klp_patch patch = {
	.mod = THIS_MODULE,
	.objs = objs,
};

KLP_BAD_LIVEPATCH(patch);
