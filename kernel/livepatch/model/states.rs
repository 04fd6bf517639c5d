// SPDX-License-Identifier: GPL-2.0-or-later

//! System states (`state.c`): what a patch changed in the system, with a version.
//!
//! A new patch is compatible with the patches in use if, for every state of every one of
//! them, the new patch carries that state in a version at least as new, or does not carry
//! it and is not cumulative (`replace`): a cumulative patch takes over everything, so it must
//! handle every state already modified; a non-cumulative one may leave a state alone, but
//! must not downgrade one that it carries.
//!
//! A patch's states are a slice read as C reads its array: up to the first entry of id 0.

use core::ffi::c_uint;

/// The identity and version of a `struct klp_state`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KlpStateRef {
    /// `id`: the state modified; 0 ends a patch's array.
    pub id: usize,
    /// `version`: how the patch modifies it.
    pub version: c_uint,
}

/// The states of a patch (`klp_for_each_state()`): the entries before the first of id 0.
pub fn klp_states(states: &[KlpStateRef]) -> impl Iterator<Item = &KlpStateRef> + '_ {
    states.iter().take_while(|state| state.id != 0)
}

/// The state `id` of a patch, if it has one (`klp_get_state()`).
pub fn klp_get_state(states: &[KlpStateRef], id: usize) -> Option<KlpStateRef> {
    klp_states(states).find(|state| state.id == id).copied()
}

/// The state `id` of the newest patch that has it, among the patches in use before the
/// one in transition, oldest first (`klp_get_prev_state()`).
pub fn klp_get_prev_state<'a>(
    prev_patches: impl IntoIterator<Item = &'a [KlpStateRef]>,
    id: usize,
) -> Option<KlpStateRef> {
    prev_patches
        .into_iter()
        .filter_map(|states| klp_get_state(states, id))
        .last()
}

/// Whether a patch (`replace`: cumulative) whose own state of the id of `old_state` is
/// `state` can take over `old_state` (`klp_is_state_compatible()`).
///
/// # Examples
///
/// ```
/// use klp_model::states::{klp_is_state_compatible, KlpStateRef};
/// let old = KlpStateRef { id: 7, version: 2 };
/// assert!(klp_is_state_compatible(false, None, old));
/// assert!(!klp_is_state_compatible(true, None, old));
/// assert!(!klp_is_state_compatible(false, Some(KlpStateRef { id: 7, version: 1 }), old));
/// ```
pub fn klp_is_state_compatible(
    replace: bool,
    state: Option<KlpStateRef>,
    old_state: KlpStateRef,
) -> bool {
    match state {
        // A cumulative livepatch must handle all already modified states.
        None => !replace,
        Some(state) => state.version >= old_state.version,
    }
}

/// Whether a patch with `states`, cumulative if `replace`, is compatible with the states of
/// the patches in use (`klp_is_patch_compatible()`).
///
/// # Examples
///
/// ```
/// use klp_model::states::{klp_is_patch_compatible, KlpStateRef};
/// let old: &[KlpStateRef] = &[KlpStateRef { id: 1, version: 1 }];
/// let new = [KlpStateRef { id: 1, version: 2 }, KlpStateRef { id: 0, version: 0 }];
/// assert!(klp_is_patch_compatible(&new, true, [old]));
/// assert!(!klp_is_patch_compatible(&[], true, [old]));
/// assert!(klp_is_patch_compatible(&[], false, [old]));
/// ```
pub fn klp_is_patch_compatible<'a>(
    states: &[KlpStateRef],
    replace: bool,
    old_patches: impl IntoIterator<Item = &'a [KlpStateRef]>,
) -> bool {
    old_patches.into_iter().all(|old_states| {
        klp_states(old_states).all(|old_state| {
            klp_is_state_compatible(replace, klp_get_state(states, old_state.id), *old_state)
        })
    })
}
