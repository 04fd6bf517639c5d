/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * livepatch_jump.h - the jump redirector of the Rust livepatch core
 *
 * A patch enabled with klp_enable_patch_jump() instead of klp_enable_patch()
 * may also replace functions that ftrace cannot redirect, because they have
 * no ftrace location: Rust functions (Rust code has no __fentry__ call in
 * 6.12) and C functions built without one (notrace).  Such a function gets a
 * jump to its replacement written at its entry, switched for every task at
 * once under stop_machine() when no task has the function on its stack.  See
 * Documentation/livepatch/rust-core.rst, "The jump redirector".
 */
#ifndef _LINUX_LIVEPATCH_JUMP_H_
#define _LINUX_LIVEPATCH_JUMP_H_

#include <linux/livepatch.h>

#if IS_ENABLED(CONFIG_LIVEPATCH_RUST)
int klp_enable_patch_jump(struct klp_patch *patch);
#else
/* The C core has no jump redirector. */
static inline int klp_enable_patch_jump(struct klp_patch *patch)
{
	return -EOPNOTSUPP;
}
#endif

#endif /* _LINUX_LIVEPATCH_JUMP_H_ */
