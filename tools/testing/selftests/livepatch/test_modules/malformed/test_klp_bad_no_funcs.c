// SPDX-License-Identifier: GPL-2.0
/*
 * An object without funcs: klp_enable_patch() returns -EINVAL.
 */

#include "test_klp_bad.h"

static struct klp_object objs[] = {
	{
		.name = KLP_BAD_TARGET,
	}, { }
};

static struct klp_patch patch = {
	.mod = THIS_MODULE,
	.objs = objs,
};

KLP_BAD_LIVEPATCH(patch);
