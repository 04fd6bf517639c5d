// SPDX-License-Identifier: GPL-2.0-or-later

//! The pre/post (un)patch callbacks of an object (`core.h`).
//!
//! Whether a callback runs is decided by [`model::callbacks`](crate::model::callbacks): an
//! object's `post_unpatch` runs only if its `pre_patch` ran and succeeded, and then once.

use crate::model::callbacks as model;
use crate::objects::Object;
use kernel::error::{to_result, Result};

/// Runs `pre_patch`; its success arms `post_unpatch`.
pub(crate) fn klp_pre_patch_callback(obj: Object) -> Result {
    let cb = obj.callbacks();
    // SAFETY: `callbacks` is the object's own structure; the callback, if any, is a function of
    // the patch module taking the object.
    let ret = unsafe { (*cb).pre_patch.map_or(0, |f| f(obj.as_ptr())) };
    // SAFETY: As above; written under `klp_mutex`.
    unsafe { (*cb).post_unpatch_enabled = model::post_unpatch_enabled_after_pre_patch(ret) };
    to_result(ret)
}

/// Runs `post_patch`.
pub(crate) fn klp_post_patch_callback(obj: Object) {
    // SAFETY: See `klp_pre_patch_callback()`.
    if let Some(f) = unsafe { (*obj.callbacks()).post_patch } {
        // SAFETY: A callback of the patch module, taking its object.
        unsafe { f(obj.as_ptr()) };
    }
}

/// Runs `pre_unpatch`.
pub(crate) fn klp_pre_unpatch_callback(obj: Object) {
    // SAFETY: See `klp_pre_patch_callback()`.
    if let Some(f) = unsafe { (*obj.callbacks()).pre_unpatch } {
        // SAFETY: A callback of the patch module, taking its object.
        unsafe { f(obj.as_ptr()) };
    }
}

/// Runs `post_unpatch` if `pre_patch` armed it, and disarms it.
pub(crate) fn klp_post_unpatch_callback(obj: Object) {
    let cb = obj.callbacks();
    // SAFETY: See `klp_pre_patch_callback()`.
    let (armed, f) = unsafe { ((*cb).post_unpatch_enabled, (*cb).post_unpatch) };
    if let (true, Some(f)) = (armed, f) {
        // SAFETY: A callback of the patch module, taking its object.
        unsafe { f(obj.as_ptr()) };
    }
    // SAFETY: See `klp_pre_patch_callback()`.
    unsafe { (*cb).post_unpatch_enabled = model::post_unpatch_enabled_after_post_unpatch() };
}
