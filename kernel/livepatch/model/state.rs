// SPDX-License-Identifier: GPL-2.0-or-later

//! The patch states of tasks and of the transition (`<linux/livepatch.h>`).
//!
//! `task->patch_state` and `klp_target_state` hold one of three C `int` values, which are ABI
//! (the scheduler and the entry code read them): they are kept as they are.

use core::ffi::c_int;

/// No transition is running (`KLP_TRANSITION_IDLE`).
pub const KLP_TRANSITION_IDLE: c_int = -1;
/// The task runs, or is to run, the functions without the patch (`KLP_TRANSITION_UNPATCHED`).
pub const KLP_TRANSITION_UNPATCHED: c_int = 0;
/// The task runs, or is to run, the functions of the patch (`KLP_TRANSITION_PATCHED`).
pub const KLP_TRANSITION_PATCHED: c_int = 1;

/// A patch state, with the C values.
///
/// # Examples
///
/// ```
/// use klp_model::state::KlpTransitionState;
/// assert_eq!(KlpTransitionState::from_raw(1), Some(KlpTransitionState::Patched));
/// assert_eq!(KlpTransitionState::from_raw(2), None);
/// assert_eq!(KlpTransitionState::Idle as i32, -1);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(i32)]
pub enum KlpTransitionState {
    /// `KLP_TRANSITION_IDLE`.
    Idle = KLP_TRANSITION_IDLE,
    /// `KLP_TRANSITION_UNPATCHED`.
    Unpatched = KLP_TRANSITION_UNPATCHED,
    /// `KLP_TRANSITION_PATCHED`.
    Patched = KLP_TRANSITION_PATCHED,
}

impl KlpTransitionState {
    /// The state of a raw C value; `None` if it is none of the three.
    pub const fn from_raw(raw: c_int) -> Option<Self> {
        match raw {
            KLP_TRANSITION_IDLE => Some(Self::Idle),
            KLP_TRANSITION_UNPATCHED => Some(Self::Unpatched),
            KLP_TRANSITION_PATCHED => Some(Self::Patched),
            _ => None,
        }
    }

    /// The raw C value.
    pub const fn as_raw(self) -> c_int {
        self as c_int
    }
}

impl From<KlpTransitionState> for c_int {
    fn from(state: KlpTransitionState) -> c_int {
        state.as_raw()
    }
}

impl TryFrom<c_int> for KlpTransitionState {
    type Error = c_int;

    /// As [`KlpTransitionState::from_raw`]; the error is the unknown value.
    fn try_from(raw: c_int) -> Result<Self, c_int> {
        Self::from_raw(raw).ok_or(raw)
    }
}
