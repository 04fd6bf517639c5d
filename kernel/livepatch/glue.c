// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * glue.c - what the Rust livepatch core cannot express in Rust
 *
 * Symbol exports and statically initialised kernel objects.  No logic: the
 * functions named here are defined in Rust (klp.rs and its modules).
 */

#include <linux/export.h>
#include <linux/moduleloader.h>
#include <linux/moduleparam.h>
#include <linux/livepatch.h>
#include <linux/livepatch_jump.h>
#include <linux/livepatch_sched.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>

/* Serializes access to klp data, as in the C core (see klp.rs). */
DEFINE_MUTEX(klp_mutex);

/* Actively used patches: enabled or in transition (see klp.rs). */
LIST_HEAD(klp_patches);

/*
 * How long the last switch of the jump redirector held the machine stopped,
 * in ns (jump.rs): /sys/module/livepatch/parameters/jump_pause_ns.
 */
unsigned long long klp_jump_pause_ns;
module_param_named(jump_pause_ns, klp_jump_pause_ns, ullong, 0444);
MODULE_PARM_DESC(jump_pause_ns, "How long the last jump switch stopped the machine (ns)");

/* Protects the shadow variable hash (see shadow.rs). */
DEFINE_SPINLOCK(klp_shadow_lock);

EXPORT_SYMBOL_GPL(klp_enable_patch);
EXPORT_SYMBOL_GPL(klp_enable_patch_jump);

EXPORT_SYMBOL_GPL(klp_shadow_get);
EXPORT_SYMBOL_GPL(klp_shadow_alloc);
EXPORT_SYMBOL_GPL(klp_shadow_get_or_alloc);
EXPORT_SYMBOL_GPL(klp_shadow_free);
EXPORT_SYMBOL_GPL(klp_shadow_free_all);

EXPORT_SYMBOL_GPL(klp_get_state);
EXPORT_SYMBOL_GPL(klp_get_prev_state);

#if !(defined(CONFIG_PREEMPT_DYNAMIC) && defined(CONFIG_HAVE_PREEMPT_DYNAMIC_CALL))
/* Enables klp stack checking in cond_resched() during a transition. */
DEFINE_STATIC_KEY_FALSE(klp_sched_try_switch_key);
EXPORT_SYMBOL(klp_sched_try_switch_key);
#endif
EXPORT_SYMBOL(__klp_sched_try_switch);

/* The core's initcall (init.rs): creates /sys/kernel/livepatch. */
int klp_init(void);
static int __init klp_initcall(void)
{
	return klp_init();
}
module_init(klp_initcall);

/* For architectures without it, as in the C core: nothing to clear. */
void __weak clear_relocate_add(Elf_Shdr *sechdrs, const char *strtab,
			       unsigned int symindex, unsigned int relsec,
			       struct module *me)
{
}
