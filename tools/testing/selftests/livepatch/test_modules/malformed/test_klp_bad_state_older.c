// SPDX-License-Identifier: GPL-2.0
/*
 * System state 1 at version 1 while an installed patch has version 2:
 * klp_is_patch_compatible() refuses it, -EINVAL.
 */

#include "test_klp_bad.h"

KLP_BAD_STATE_PATCH(1, false);
