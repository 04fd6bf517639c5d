// SPDX-License-Identifier: GPL-2.0
/*
 * An old_name of KSYM_NAME_LEN characters: klp_init_func() returns -EINVAL.
 */

#include "test_klp_bad.h"

#define X8 "xxxxxxxx"
#define X64 X8 X8 X8 X8 X8 X8 X8 X8
static_assert(sizeof(X64 X64 X64 X64 X64 X64 X64 X64) > KSYM_NAME_LEN);

static struct klp_func funcs[] = {
	{
		.old_name = X64 X64 X64 X64 X64 X64 X64 X64,
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
