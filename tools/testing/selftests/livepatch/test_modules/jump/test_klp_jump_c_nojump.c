// SPDX-License-Identifier: GPL-2.0
/* The same patch without jumps: refused as on the C core (test_klp_jump_c.h). */
#define ENABLE klp_enable_patch
#include "test_klp_jump_c.h"
MODULE_DESCRIPTION("Livepatch test: a notrace C function, refused without jumps");
