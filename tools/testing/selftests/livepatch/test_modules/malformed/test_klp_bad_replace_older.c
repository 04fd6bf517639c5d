// SPDX-License-Identifier: GPL-2.0
/*
 * A replace patch with system state 1 at version 1 while an installed patch
 * has version 2: -EINVAL.
 */

#include "test_klp_bad.h"

KLP_BAD_STATE_PATCH(1, true);
