// SPDX-License-Identifier: GPL-2.0-or-later

//! The kernel live patching core, in Rust.
//!
//! This crate replaces the C files of `kernel/livepatch` when `CONFIG_LIVEPATCH_RUST` is set.
//! It keeps the C ABI of `<linux/livepatch.h>`: patch modules describe their patch in
//! `struct klp_patch` and call `klp_enable_patch()`; the rest of the kernel calls the hooks
//! (`klp_module_coming()`, `klp_copy_process()`, `klp_update_patch_state()`, ...) by their C
//! names. See `Documentation/livepatch/rust-core.rst` for the design.
//!
//! | module | C file it stands for |
//! |---|---|
//! | [`init`], [`enable`], [`lifecycle`], [`kobjects`], [`sysfs`], [`module`], [`reloc`] | `core.c` |
//! | [`patch`] | `patch.c` |
//! | [`transition`], [`stack`] | `transition.c` |
//! | [`shadow`] | `shadow.c` |
//! | [`state`] | `state.c` |
//!
//! The decisions that need no kernel state live in [`model`], a pure crate also built and
//! property-tested on the host.

use core::ptr::addr_of_mut;
use kernel::bindings;

/// Prefix of the log lines, as C's `pr_fmt()` gives the C core.
const __LOG_PREFIX: &[u8] = b"livepatch\0";

/// Prints a dynamic debug message of the core, listed under the C function `$func` of a file
/// in `kernel/livepatch/`, exactly as the C core's `pr_debug()` call sites.
///
/// The arguments must be C types matching the format (`c_int`, `*const c_char`): the caller
/// wraps the macro in `unsafe` and says so.
macro_rules! klp_debug {
    ($func:literal, $fmt:literal $(, $arg:expr)* $(,)?) => {
        kernel::dynamic_pr_debug!("livepatch", $func, "livepatch: ", $fmt $(, $arg)*)
    };
}

#[path = "model/mod.rs"]
pub mod model;

mod callbacks;
mod enable;
pub mod init;
mod kobjects;
mod lifecycle;
pub mod module;
mod objects;
mod patch;
pub mod reloc;
pub mod shadow;
mod stack;
pub mod state;
mod statics;
mod sysfs;
pub mod transition;

extern "C" {
    /// The coarse lock serializing access to klp data (`glue.c`).
    static mut klp_mutex: bindings::mutex;
    /// Actively used patches: enabled or in transition (`glue.c`).
    static mut klp_patches: bindings::list_head;
}

/// Proof that `klp_mutex` is held.
///
/// Every access to klp data holds it, except within the functions which carefully avoid the
/// need for it: `klp_ftrace_handler()`, `klp_update_patch_state()` and
/// `__klp_sched_try_switch()`.
pub(crate) struct KlpLocked(());

impl KlpLocked {
    /// The proof, in a context called with `klp_mutex` held (the patch callbacks).
    ///
    /// # Safety
    ///
    /// `klp_mutex` is held by the caller's caller for as long as the proof is used.
    pub(crate) unsafe fn assume_held() -> &'static KlpLocked {
        &KlpLocked(())
    }
}

/// `klp_mutex`, held until dropped.
pub(crate) struct KlpMutexGuard(KlpLocked);

impl KlpMutexGuard {
    /// Takes `klp_mutex`.
    pub(crate) fn lock() -> Self {
        // SAFETY: `klp_mutex` is a statically initialised mutex.
        unsafe { bindings::mutex_lock(addr_of_mut!(klp_mutex)) };
        Self(KlpLocked(()))
    }
}

impl core::ops::Deref for KlpMutexGuard {
    type Target = KlpLocked;

    fn deref(&self) -> &KlpLocked {
        &self.0
    }
}

impl Drop for KlpMutexGuard {
    fn drop(&mut self) {
        // SAFETY: The guard exists only while this context holds `klp_mutex`.
        unsafe { bindings::mutex_unlock(addr_of_mut!(klp_mutex)) };
    }
}

/// The head of `klp_patches`.
pub(crate) fn klp_patches_head() -> *mut bindings::list_head {
    // Only the address is taken; the list is changed under `klp_mutex`.
    addr_of_mut!(klp_patches)
}

/// The patches of `klp_patches`, oldest first (`klp_for_each_patch_safe`).
///
/// The caller holds `klp_mutex`.
pub(crate) fn klp_for_each_patch(_locked: &KlpLocked) -> impl Iterator<Item = objects::Patch> {
    // SAFETY: `klp_patches` is a statically initialised list of `klp_patch`es linked by `list`,
    // changed only under `klp_mutex`, which the caller holds.
    // SAFETY: Patches on the list are accepted and live until freed, which unlinks them first.
    unsafe {
        objects::linked(
            klp_patches_head(),
            core::mem::offset_of!(bindings::klp_patch, list),
        )
    }
}

/// `WARN_ON(cond)`: a kernel warning with a backtrace if `cond` holds; returns `cond`.
///
/// Inline, and C is called only when `cond` holds: the ftrace handler checks its invariants on
/// every patched call, as the C core's `WARN_ON_ONCE()` does, at the cost of a branch.
#[inline(always)]
pub(crate) fn warn_on(cond: bool) -> bool {
    if cond {
        // SAFETY: `WARN_ON()` may be called from any context.
        unsafe { bindings::WARN_ON(true) }
    } else {
        false
    }
}

/// `WARN_ON_ONCE(cond)`: as [`warn_on`], warning once per boot.
#[inline(always)]
pub(crate) fn warn_on_once(cond: bool) -> bool {
    if cond {
        // SAFETY: `WARN_ON_ONCE()` may be called from any context.
        unsafe { bindings::WARN_ON_ONCE(true) }
    } else {
        false
    }
}
