// SPDX-License-Identifier: GPL-2.0
/*
 * A pre-patch callback that fails: the patch is refused with its error,
 * -EPERM.
 */

#include "test_klp_bad.h"

static struct klp_func funcs[] = {
	{
		.old_name = "cmdline_proc_show",
		.new_func = klp_bad_cmdline_proc_show,
	}, { }
};

static int klp_bad_pre_patch(struct klp_object *obj)
{
	return -EPERM;
}

static struct klp_object objs[] = {
	{
		.funcs = funcs,
		.callbacks = {
			.pre_patch = klp_bad_pre_patch,
		},
	}, { }
};

static struct klp_patch patch = {
	.mod = THIS_MODULE,
	.objs = objs,
};

KLP_BAD_LIVEPATCH(patch);
