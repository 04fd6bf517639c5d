// SPDX-License-Identifier: GPL-2.0-or-later

//! The pre/post (un)patch callbacks of an object (`core.h`).
//!
//! Whether a callback runs is decided by [`KlpCallbacks`] of the model: an object's
//! `post_unpatch` runs only if its `pre_patch` ran and succeeded, and then once. Its state,
//! `post_unpatch_enabled`, lives in the object's `struct klp_callbacks`.

use crate::model::callbacks::KlpCallbacks;
use crate::objects::Object;
use kernel::bindings;
use kernel::error::{to_result, Result};

/// A callback of the patch module, for the model to run on `obj`.
fn callback<R>(
    obj: Object,
    f: Option<unsafe extern "C" fn(*mut bindings::klp_object) -> R>,
) -> Option<impl FnOnce() -> R> {
    // SAFETY: The callbacks of an accepted object are functions of its live patch module that
    // take the object (`struct klp_callbacks`).
    f.map(|f| move || unsafe { f(obj.as_ptr()) })
}

/// Runs `run` with the model's view of the callbacks of `obj`, and stores back the state it
/// leaves. Called under `klp_mutex`, which serializes every access to the state.
fn with_callbacks<R>(
    obj: Object,
    run: impl FnOnce(&mut KlpCallbacks, &bindings::klp_callbacks) -> R,
) -> R {
    let cb = obj.callbacks();
    // SAFETY: `callbacks` is embedded in the live object; its fields are plain data, written
    // under `klp_mutex` only. A copy is read, so no reference is held while a callback runs.
    let c = unsafe { cb.read() };
    let mut model = KlpCallbacks {
        post_unpatch_enabled: c.post_unpatch_enabled,
    };
    let result = run(&mut model, &c);
    // SAFETY: As above.
    unsafe { (*cb).post_unpatch_enabled = model.post_unpatch_enabled };
    result
}

/// Runs `pre_patch`; its success arms `post_unpatch`.
pub(crate) fn klp_pre_patch_callback(obj: Object) -> Result {
    to_result(with_callbacks(obj, |m, c| {
        m.klp_pre_patch_callback(callback(obj, c.pre_patch))
    }))
}

/// Runs `post_patch`.
pub(crate) fn klp_post_patch_callback(obj: Object) {
    with_callbacks(obj, |m, c| {
        m.klp_post_patch_callback(callback(obj, c.post_patch))
    })
}

/// Runs `pre_unpatch`.
pub(crate) fn klp_pre_unpatch_callback(obj: Object) {
    with_callbacks(obj, |m, c| {
        m.klp_pre_unpatch_callback(callback(obj, c.pre_unpatch))
    })
}

/// Runs `post_unpatch` if `pre_patch` armed it, and disarms it.
pub(crate) fn klp_post_unpatch_callback(obj: Object) {
    with_callbacks(obj, |m, c| {
        m.klp_post_unpatch_callback(callback(obj, c.post_unpatch))
    })
}
