// SPDX-License-Identifier: GPL-2.0-or-later

//! The pre/post (un)patch callbacks of an object (`core.h`).
//!
//! `pre_patch` runs before an object is patched: when its patch is enabled, or when its
//! module loads while the patch is in use. If it fails, the object is not patched and the
//! operation stops. `post_patch` runs once the patching transition completed (at once for a
//! loading module), `pre_unpatch` before the object is unpatched, `post_unpatch` once the
//! unpatching completed. `post_unpatch` is armed (`post_unpatch_enabled`) only by a
//! successful `pre_patch` and disarmed when it runs: it runs at most once for each
//! successful `pre_patch`, after it.

use core::ffi::c_int;

/// Whether `post_unpatch` is armed after `pre_patch` returned `ret` (0 if there is none).
///
/// # Examples
///
/// ```
/// use klp_model::callbacks::post_unpatch_enabled_after_pre_patch;
/// assert!(post_unpatch_enabled_after_pre_patch(0));
/// assert!(!post_unpatch_enabled_after_pre_patch(-22));
/// ```
pub fn post_unpatch_enabled_after_pre_patch(ret: c_int) -> bool {
    ret == 0
}

/// Whether `post_unpatch` is armed after `klp_post_unpatch_callback()`: never.
pub fn post_unpatch_enabled_after_post_unpatch() -> bool {
    false
}

/// A callback of an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KlpCallback {
    /// `pre_patch`.
    PrePatch,
    /// `post_patch`.
    PostPatch,
    /// `pre_unpatch`.
    PreUnpatch,
    /// `post_unpatch`.
    PostUnpatch,
}

/// The callback that completing a transition to `target` runs on the loaded objects of the
/// patch (`klp_complete_transition()`): `post_patch` when patched, `post_unpatch` when
/// unpatched, none otherwise.
pub fn klp_complete_callback(target: c_int) -> Option<KlpCallback> {
    match target {
        super::state::KLP_TRANSITION_PATCHED => Some(KlpCallback::PostPatch),
        super::state::KLP_TRANSITION_UNPATCHED => Some(KlpCallback::PostUnpatch),
        _ => None,
    }
}

/// The state that `struct klp_callbacks` keeps: whether `post_unpatch` is armed.
///
/// The methods run a callback (`Some`: the object has one) as the helpers of `core.h` do.
///
/// # Examples
///
/// ```
/// use klp_model::callbacks::KlpCallbacks;
/// let mut cb = KlpCallbacks::default();
/// assert_eq!(cb.klp_pre_patch_callback(Some(|| -16)), -16);
/// let mut ran = false;
/// cb.klp_post_unpatch_callback(Some(|| ran = true));
/// assert!(!ran, "a failed pre_patch does not arm post_unpatch");
/// assert_eq!(cb.klp_pre_patch_callback(None::<fn() -> i32>), 0);
/// cb.klp_post_unpatch_callback(Some(|| ran = true));
/// assert!(ran && !cb.post_unpatch_enabled);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KlpCallbacks {
    /// `post_unpatch_enabled`: `pre_patch` succeeded and `post_unpatch` has not run since.
    pub post_unpatch_enabled: bool,
}

impl KlpCallbacks {
    /// `klp_pre_patch_callback()`: runs `pre_patch` and arms `post_unpatch` if it succeeds;
    /// returns its result.
    pub fn klp_pre_patch_callback(&mut self, pre_patch: Option<impl FnOnce() -> c_int>) -> c_int {
        let ret = pre_patch.map_or(0, |f| f());
        self.post_unpatch_enabled = post_unpatch_enabled_after_pre_patch(ret);
        ret
    }

    /// `klp_post_patch_callback()`: runs `post_patch`.
    pub fn klp_post_patch_callback(&self, post_patch: Option<impl FnOnce()>) {
        if let Some(f) = post_patch {
            f();
        }
    }

    /// `klp_pre_unpatch_callback()`: runs `pre_unpatch`.
    pub fn klp_pre_unpatch_callback(&self, pre_unpatch: Option<impl FnOnce()>) {
        if let Some(f) = pre_unpatch {
            f();
        }
    }

    /// `klp_post_unpatch_callback()`: runs `post_unpatch` if armed, and disarms it.
    pub fn klp_post_unpatch_callback(&mut self, post_unpatch: Option<impl FnOnce()>) {
        if let (true, Some(f)) = (self.post_unpatch_enabled, post_unpatch) {
            f();
        }
        self.post_unpatch_enabled = post_unpatch_enabled_after_post_unpatch();
    }
}
