// SPDX-License-Identifier: GPL-2.0
/*
 * System state 1 at version 1 while an installed patch has version 2:
 * klp_is_patch_compatible() refuses it, -EINVAL.
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

static struct klp_state states[] = {
	{
		.id = 1,
		.version = 1,
	}, { }
};

static struct klp_patch patch = {
	.mod = THIS_MODULE,
	.objs = objs,
	.states = states,
	.replace = false,
};

KLP_BAD_LIVEPATCH(patch);
