// SPDX-License-Identifier: GPL-2.0-or-later

//! System states (`state.c`): what a patch changed in the system, with a version, so that
//! cumulative patches can take over or refuse.
//!
//! The compatibility rule is [`model::states`](crate::model::states).

use crate::model::states::{klp_is_state_compatible, KlpStateRef};
use crate::objects::{Handle, Patch};
use crate::{klp_for_each_patch, transition, warn_on_once, KlpLocked};
use core::ptr::null_mut;
use kernel::bindings;
use kernel::ffi::c_ulong;

/// The states of `patch` (`klp_for_each_state`): its array ends with id 0.
fn klp_states(patch: Patch) -> impl Iterator<Item = *mut bindings::klp_state> {
    let mut state = patch.states();
    core::iter::from_fn(move || {
        // SAFETY: The patch module's array, if any, ends with an entry of id 0 that is never
        // passed.
        if state.is_null() || unsafe { (*state).id } == 0 {
            return None;
        }
        let cur = state;
        // SAFETY: `cur` is not the last entry.
        state = unsafe { state.add(1) };
        Some(cur)
    })
}

/// The `(id, version)` of a state.
fn state_ref(state: *mut bindings::klp_state) -> KlpStateRef {
    // SAFETY: A state of a patch module's array.
    unsafe {
        KlpStateRef {
            id: (*state).id,
            version: (*state).version,
        }
    }
}

/// The state `id` of `patch`, or null.
///
/// # Safety
///
/// `patch` is a patch of a loaded livepatch module.
#[no_mangle]
pub unsafe extern "C" fn klp_get_state(
    patch: *mut bindings::klp_patch,
    id: c_ulong,
) -> *mut bindings::klp_state {
    // SAFETY: The function's safety requirement.
    let Some(patch) = (unsafe { Patch::from_raw(patch) }) else {
        return null_mut();
    };
    klp_states(patch)
        .find(|&state| state_ref(state).id == id)
        .unwrap_or(null_mut())
}

/// The state `id` of the newest patch in use before the patch in transition, or null. For the
/// callbacks of the patch in transition.
#[no_mangle]
pub extern "C" fn klp_get_prev_state(id: c_ulong) -> *mut bindings::klp_state {
    let Some(current) = transition::klp_transition_patch() else {
        warn_on_once(true);
        return null_mut();
    };
    // The caller is a callback of the transition, which holds `klp_mutex`.
    KlpLocked::with_held(|locked| {
        klp_for_each_patch(locked)
            .take_while(|&patch| patch != current)
            .filter_map(|patch| klp_states(patch).find(|&state| state_ref(state).id == id))
            .last()
    })
    .flatten()
    .unwrap_or(null_mut())
}

/// Whether `patch` is compatible with the states of the patches in use.
pub(crate) fn klp_is_patch_compatible(guard: &KlpLocked, patch: Patch) -> bool {
    klp_for_each_patch(guard).all(|old| {
        klp_states(old).all(|old_state| {
            let state = klp_states(patch)
                .map(state_ref)
                .find(|s| s.id == state_ref(old_state).id);
            klp_is_state_compatible(patch.replace(), state, state_ref(old_state))
        })
    })
}
