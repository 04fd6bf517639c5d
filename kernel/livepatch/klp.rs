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
//! | [`patch`], [`fops`], [`direct`], [`jump`] | `patch.c` |
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
#[cfg(CONFIG_LIVEPATCH_DIRECT)]
mod direct;
mod enable;
mod fops;
pub mod init;
mod jump;
mod kobjects;
mod lifecycle;
mod lock;
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
    /// Actively used patches: enabled or in transition (`glue.c`).
    static mut klp_patches: bindings::list_head;
}

pub(crate) use lock::{KlpListsFixed, KlpLocked, KlpMutexGuard};

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
