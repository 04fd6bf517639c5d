// SPDX-License-Identifier: GPL-2.0
/* A C patch of a notrace C function, with jumps (test_klp_jump_c.h). */
#define ENABLE klp_enable_patch_jump
#include "test_klp_jump_c.h"
MODULE_DESCRIPTION("Livepatch test: a notrace C function, patched with a jump");
