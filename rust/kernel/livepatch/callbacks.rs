// SPDX-License-Identifier: GPL-2.0

//! Callbacks around the patching and unpatching of an object (`struct klp_callbacks`).
//!
//! The core runs them when the object is patched or unpatched: at enable and disable for a
//! loaded object, or when its module comes or goes. `pre_patch` may refuse the patching of the
//! object (the whole patch at enable, the module's load when it comes); `post_unpatch` runs only
//! if `pre_patch` succeeded. See `Documentation/livepatch/callbacks.rst`.

use crate::ffi::c_int;
use crate::{bindings, error::Result, str::CStr, types::Opaque};
use core::fmt;

/// The callbacks of an object; each defaults to doing nothing.
///
/// They run in process context, with the core's mutex held: they may sleep, and must not
/// enable or disable a patch.
///
/// # Examples
///
/// ```
/// use kernel::livepatch::{Callbacks, KlpObject};
/// use kernel::prelude::*;
///
/// struct Announce;
///
/// impl Callbacks for Announce {
///     fn pre_patch(obj: &KlpObject) -> Result {
///         pr_info!("patching {}\n", obj.name());
///         Ok(())
///     }
/// }
/// ```
pub trait Callbacks {
    /// Before the object is patched; an error refuses the patching.
    fn pre_patch(_obj: &KlpObject) -> Result {
        Ok(())
    }

    /// After the object is patched (the transition to patched has completed).
    fn post_patch(_obj: &KlpObject) {}

    /// Before the object is unpatched.
    fn pre_unpatch(_obj: &KlpObject) {}

    /// After the object is unpatched (the transition to unpatched has completed).
    fn post_unpatch(_obj: &KlpObject) {}
}

/// The state of a module, as `enum module_state`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModuleState {
    /// `MODULE_STATE_LIVE`: normal state.
    Live,
    /// `MODULE_STATE_COMING`: fully formed, running its init.
    Coming,
    /// `MODULE_STATE_GOING`: going away.
    Going,
    /// `MODULE_STATE_UNFORMED`: still being set up.
    Unformed,
}

impl fmt::Display for ModuleState {
    /// The state and what it means, as the livepatch tests and samples print it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ModuleState::Live => "[MODULE_STATE_LIVE] Normal state",
            ModuleState::Coming => "[MODULE_STATE_COMING] Full formed, running module_init",
            ModuleState::Going => "[MODULE_STATE_GOING] Going away",
            ModuleState::Unformed => "[MODULE_STATE_UNFORMED] Still setting it up",
        })
    }
}

/// An object of a patch, as the core hands it to a callback.
///
/// # Invariants
///
/// `self.0` is a `struct klp_object` of an enabled or enabling patch, valid while the callback
/// runs.
#[repr(transparent)]
pub struct KlpObject(Opaque<bindings::klp_object>);

impl KlpObject {
    /// # Safety
    ///
    /// `ptr` is a valid `struct klp_object` for `'a`.
    unsafe fn from_raw<'a>(ptr: *mut bindings::klp_object) -> &'a KlpObject {
        // SAFETY: `KlpObject` is a transparent wrapper of `klp_object`, valid for `'a` by the
        // safety requirements of this function.
        unsafe { &*ptr.cast::<KlpObject>() }
    }

    /// The object's name: its module's, or `vmlinux`.
    pub fn name(&self) -> &CStr {
        // SAFETY: by the type invariant the object is valid; its name is NULL (vmlinux) or a
        // NUL-terminated string of the patch module.
        unsafe {
            let name = (*self.0.get()).name;
            if name.is_null() {
                crate::c_str!("vmlinux")
            } else {
                CStr::from_char_ptr(name)
            }
        }
    }

    /// The state of the object's module; `None` for vmlinux.
    pub fn module_state(&self) -> Option<ModuleState> {
        // SAFETY: by the type invariant the object is valid; `mod` is NULL or the object's
        // module, which the core holds while it runs the object's callbacks.
        let state = unsafe {
            let module = (*self.0.get()).mod_;
            if module.is_null() {
                return None;
            }
            (*module).state
        };
        Some(match state {
            bindings::module_state_MODULE_STATE_LIVE => ModuleState::Live,
            bindings::module_state_MODULE_STATE_COMING => ModuleState::Coming,
            bindings::module_state_MODULE_STATE_GOING => ModuleState::Going,
            _ => ModuleState::Unformed,
        })
    }

    /// The version of the system state `id` as the patches in use set it up
    /// (`klp_get_prev_state()`), `None` if none of them declares it.
    ///
    /// For the callbacks of a patch being enabled or disabled: the core warns when no patch is
    /// in transition (a callback run for a module that comes or goes).
    pub fn prev_state_version(&self, id: u64) -> Option<u32> {
        // SAFETY: the core's mutex is held while a callback runs, which `klp_get_prev_state()`
        // needs; the state it returns belongs to a patch in use and is only read here.
        unsafe { bindings::klp_get_prev_state(id as crate::ffi::c_ulong).as_ref() }
            .map(|s| s.version)
    }
}

impl fmt::Display for KlpObject {
    /// `vmlinux`, or the module's name and state: `name -> [MODULE_STATE_LIVE] Normal state`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.module_state() {
            Some(state) => write!(f, "{} -> {}", self.name(), state),
            None => f.write_str("vmlinux"),
        }
    }
}

/// No callbacks.
pub(super) const NONE: bindings::klp_callbacks = bindings::klp_callbacks {
    pre_patch: None,
    post_patch: None,
    pre_unpatch: None,
    post_unpatch: None,
    post_unpatch_enabled: false,
};

/// The C callbacks that call those of `C`.
pub(super) const fn of<C: Callbacks>() -> bindings::klp_callbacks {
    bindings::klp_callbacks {
        pre_patch: Some(pre_patch::<C>),
        post_patch: Some(post_patch::<C>),
        pre_unpatch: Some(pre_unpatch::<C>),
        post_unpatch: Some(post_unpatch::<C>),
        post_unpatch_enabled: false,
    }
}

/// # Safety
///
/// The core calls it with an object of the patch.
unsafe extern "C" fn pre_patch<C: Callbacks>(obj: *mut bindings::klp_object) -> c_int {
    // SAFETY: the core passes a valid object, for the duration of the call.
    match C::pre_patch(unsafe { KlpObject::from_raw(obj) }) {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

/// # Safety
///
/// The core calls it with an object of the patch.
unsafe extern "C" fn post_patch<C: Callbacks>(obj: *mut bindings::klp_object) {
    // SAFETY: the core passes a valid object, for the duration of the call.
    C::post_patch(unsafe { KlpObject::from_raw(obj) })
}

/// # Safety
///
/// The core calls it with an object of the patch.
unsafe extern "C" fn pre_unpatch<C: Callbacks>(obj: *mut bindings::klp_object) {
    // SAFETY: the core passes a valid object, for the duration of the call.
    C::pre_unpatch(unsafe { KlpObject::from_raw(obj) })
}

/// # Safety
///
/// The core calls it with an object of the patch.
unsafe extern "C" fn post_unpatch<C: Callbacks>(obj: *mut bindings::klp_object) {
    // SAFETY: the core passes a valid object, for the duration of the call.
    C::post_unpatch(unsafe { KlpObject::from_raw(obj) })
}
