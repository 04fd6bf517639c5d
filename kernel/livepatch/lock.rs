// SPDX-License-Identifier: GPL-2.0-or-later

//! `klp_mutex`, the coarse lock serializing access to klp data, and the proof that it is held.
//!
//! Only this module makes a [`KlpLocked`]: by taking the mutex ([`KlpMutexGuard::lock`]), or,
//! in a callback of the patch module, which the core calls with the mutex held, after checking
//! that it is held ([`KlpLocked::with_held`]). A proof lives no longer than the guard or the
//! closure it was given to. A proof that the patches' lists are fixed ([`KlpListsFixed`]) is a
//! [`KlpLocked`], or, in a transition, what [`KlpListsFixed::in_transition`] claims.

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

impl core::ops::Deref for KlpLocked {
    type Target = KlpListsFixed;

    fn deref(&self) -> &KlpListsFixed {
        &KlpListsFixed(())
    }
}

/// Proof that the object and function lists of the patches do not change meanwhile: they
/// change under `klp_mutex` only, so a [`KlpLocked`] is one (by `Deref`); so is a running
/// transition for the lists of its patch, which only [`KlpListsFixed::in_transition`] claims.
pub(crate) struct KlpListsFixed(());

impl KlpListsFixed {
    /// Runs `f` with the proof, without `klp_mutex`, for the lists of the patch in transition.
    ///
    /// # Safety
    ///
    /// A transition runs and cannot complete during the call: the caller is a task with
    /// `TIF_PATCH_PENDING` set, with preemption disabled, which the completion waits for
    /// (`klp_synchronize_handlers()`).
    pub(crate) unsafe fn in_transition<R>(f: impl FnOnce(&KlpListsFixed) -> R) -> R {
        f(&KlpListsFixed(()))
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
