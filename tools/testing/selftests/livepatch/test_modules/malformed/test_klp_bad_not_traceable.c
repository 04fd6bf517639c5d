// SPDX-License-Identifier: GPL-2.0
/*
 * A second function that ftrace cannot patch (kernel/trace is built without
 * -pg): the first one is patched, then unpatched again; -EINVAL.
 */

#include "test_klp_bad.h"

static int klp_bad_tracing_is_on(void)
{
	return 0;
}

static struct klp_func funcs[] = {
	{
		.old_name = "cmdline_proc_show",
		.new_func = klp_bad_cmdline_proc_show,
	}, {
		.old_name = "tracing_is_on",
		.new_func = klp_bad_tracing_is_on,
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
