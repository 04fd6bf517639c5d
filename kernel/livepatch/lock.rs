// SPDX-License-Identifier: GPL-2.0-or-later

//! `klp_mutex`, the coarse lock serializing access to klp data, and the proof that it is held.
//!
//! Only this module makes a [`KlpLocked`]: by taking the mutex ([`KlpMutexGuard::lock`]), or,
//! in a callback of the patch module, which the core calls with the mutex held, after checking
//! that it is held ([`KlpLocked::with_held`]). A proof lives no longer than the guard or the
//! closure it was given to.

use core::ptr::addr_of_mut;
use kernel::bindings;

extern "C" {
    /// The coarse lock serializing access to klp data (`glue.c`).
    static mut klp_mutex: bindings::mutex;
}

/// Proof that `klp_mutex` is held.
///
/// Every access to klp data holds it, except within the functions which carefully avoid the
/// need for it: `klp_ftrace_handler()`, `klp_update_patch_state()` and
/// `__klp_sched_try_switch()`.
pub(crate) struct KlpLocked(());

impl KlpLocked {
    /// Runs `f` with the proof, in a context the core calls with `klp_mutex` held (the
    /// callbacks of a patch module); `None`, with a warning, if the mutex is not held.
    pub(crate) fn with_held<R>(f: impl FnOnce(&KlpLocked) -> R) -> Option<R> {
        // SAFETY: `klp_mutex` is a statically initialised mutex; only its owner is read.
        let held = unsafe { bindings::mutex_is_locked(addr_of_mut!(klp_mutex)) };
        if crate::warn_on_once(!held) {
            return None;
        }
        Some(f(&KlpLocked(())))
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
