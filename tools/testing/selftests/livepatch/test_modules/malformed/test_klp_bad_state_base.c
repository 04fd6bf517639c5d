// SPDX-License-Identifier: GPL-2.0
/*
 * Not malformed: a patch holding system state 1 at version 2, that the state
 * checks of test_klp_bad_state_older and the replace ones are made against.
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
		.version = 2,
	}, { }
};

static struct klp_patch patch = {
	.mod = THIS_MODULE,
	.objs = objs,
	.states = states,
	.replace = false,
};

KLP_BAD_LIVEPATCH(patch);
