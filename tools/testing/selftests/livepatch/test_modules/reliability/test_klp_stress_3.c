// SPDX-License-Identifier: GPL-2.0
/* The patch that replaces the two others (atomic replace) in test-stress.sh. */

#include "test_klp_stress.h"

KLP_STRESS_MODULE(true);
