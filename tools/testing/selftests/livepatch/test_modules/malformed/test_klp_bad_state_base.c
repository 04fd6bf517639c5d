// SPDX-License-Identifier: GPL-2.0
/*
 * Not malformed: a patch holding system state 1 at version 2, that the state
 * checks of test_klp_bad_state_older and the replace ones are made against.
 */

#include "test_klp_bad.h"

KLP_BAD_STATE_PATCH(2, false);
