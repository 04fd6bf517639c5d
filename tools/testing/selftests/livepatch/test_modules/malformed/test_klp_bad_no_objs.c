// SPDX-License-Identifier: GPL-2.0
/*
 * A patch without objects: klp_enable_patch() returns -EINVAL.
 */

#include "test_klp_bad.h"

static struct klp_patch patch = {
	.mod = THIS_MODULE,
};

KLP_BAD_LIVEPATCH(patch);
