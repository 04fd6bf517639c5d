// SPDX-License-Identifier: GPL-2.0

//! Livepatch shadow variables in Rust: the fix of `livepatch-shadow-fix1.c` for the memory
//! leak of `livepatch-shadow-mod.c`.
//!
//! `livepatch_shadow_mod` allocates a `struct dummy` every second (`dummy_alloc()`) and frees
//! the expired ones every three seconds (`dummy_free()`); each allocation also allocates an
//! integer that nothing frees. This patch replaces both functions: the new `dummy_alloc()`
//! attaches that memory to its dummy in a shadow variable, and the new `dummy_free()` frees
//! the shadow variable, which drops the memory. When the patch leaves the module (disabled, or
//! the module unloaded), the shadow variables that are left are freed too.
//!
//! Example (the patch may also be loaded first: the module is patched when it comes):
//!
//! ```text
//! $ insmod livepatch-shadow-mod.ko
//! $ insmod rust_livepatch_shadow_fix1.ko
//! rust_livepatch_shadow_fix1: livepatch_fix1_dummy_alloc: dummy expires @ fffeea60
//! rust_livepatch_shadow_fix1: livepatch_fix1_dummy_free: dummy expired @ fffee2a0
//! rust_livepatch_shadow_fix1: livepatch_fix1_dummy_free: dummy leaked!
//! rust_livepatch_shadow_fix1: livepatch_fix1_dummy_free: dummy expired @ fffeea60
//! rust_livepatch_shadow_fix1: livepatch_fix1_dummy_leak_dtor: prevented leak
//! $ echo 0 > /sys/kernel/livepatch/rust_livepatch_shadow_fix1/enabled
//! $ rmmod rust_livepatch_shadow_fix1
//! ```

use kernel::livepatch::{Callbacks, KlpObject, Livepatch, Object, Patch, Shadow};
use kernel::prelude::*;
use kernel::time::{jiffies, msecs_to_jiffies, Jiffies};
use kernel::types::Opaque;

kernel::module_livepatch! {
    type: RustLivepatchShadowFix1,
    name: "rust_livepatch_shadow_fix1",
    author: "rust-klp",
    description: "Rust livepatch sample: a shadow variable fixes a memory leak",
    license: "GPL",
}

/// How long a dummy lives, in milliseconds, as in livepatch-shadow-mod.c.
const EXPIRE_PERIOD_MS: u32 = 12 * 1000;

kernel::klp_c_struct! {
    /// `struct dummy` of livepatch-shadow-mod.c.
    struct Dummy {
        /// `struct list_head list`: only the C code uses it.
        list: Opaque<[usize; 2]>,
        jiffies_expire: Jiffies,
    }
}

/// The memory that the unpatched `dummy_alloc()` leaks: dropped with its shadow variable.
struct Leak {
    _memory: KBox<u32>,
}

impl Drop for Leak {
    fn drop(&mut self) {
        pr_info!("livepatch_fix1_dummy_leak_dtor: prevented leak\n");
    }
}

/// The leak of each dummy (`SV_LEAK`).
static LEAKS: Shadow<Leak> = Shadow::new(1);

/// Frees the shadow variables left when the patch leaves livepatch_shadow_mod.
struct FreeLeaks;

impl Callbacks for FreeLeaks {
    fn post_unpatch(_obj: &KlpObject) {
        LEAKS.free_all();
    }
}

struct RustLivepatchShadowFix1;

impl Livepatch for RustLivepatchShadowFix1 {
    const PATCH: Patch = Patch::new(&[Object::module(
        c"livepatch_shadow_mod",
        &[
            kernel::klp_func!(
                dummy_alloc => fn livepatch_fix1_dummy_alloc() -> Option<KBox<Dummy>> {
                    let expire = jiffies().wrapping_add(msecs_to_jiffies(EXPIRE_PERIOD_MS));
                    let dummy = Dummy { list: Opaque::uninit(), jiffies_expire: expire };
                    let d = KBox::new(dummy, GFP_KERNEL).ok()?;
                    let leak = Leak { _memory: KBox::new(0, GFP_KERNEL).ok()? };
                    if LEAKS.alloc(&*d, leak, GFP_KERNEL).is_err() {
                        pr_err!("livepatch_fix1_dummy_alloc: no shadow variable for the leak\n");
                        return None;
                    }
                    pr_info!("livepatch_fix1_dummy_alloc: dummy expires @ {:x}\n", expire);
                    Some(d)
                }
            ),
            kernel::klp_func!(
                dummy_free => fn livepatch_fix1_dummy_free(d: KBox<Dummy>) {
                    pr_info!("livepatch_fix1_dummy_free: dummy expired @ {:x}\n", d.jiffies_expire);
                    // Dummies allocated before the patch have no shadow variable.
                    if LEAKS.exists(&*d) {
                        LEAKS.free(&*d);
                    } else {
                        pr_info!("livepatch_fix1_dummy_free: dummy leaked!\n");
                    }
                }
            ),
        ],
    )
    .callbacks::<FreeLeaks>()]);
}
