// SPDX-License-Identifier: GPL-2.0
/* One of the two patches that stack in test-stress.sh. */

#include "test_klp_stress.h"

KLP_STRESS_MODULE(false);
