// SPDX-License-Identifier: GPL-2.0

#include <linux/bug.h>

bool notrace rust_helper_WARN_ON(bool cond)
{
	return WARN_ON(cond);
}

bool notrace rust_helper_WARN_ON_ONCE(bool cond)
{
	return WARN_ON_ONCE(cond);
}
