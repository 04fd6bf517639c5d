// SPDX-License-Identifier: GPL-2.0-or-later

//! The func_stack of a patched function and the ftrace handler's choice (`patch.c`).
//!
//! Every patched function has one ftrace_ops and a stack of the `klp_func`s that replace it,
//! newest first. Outside a transition the top func wins. During a transition the top func
//! has `transition` set, and a task still in `KLP_TRANSITION_UNPATCHED` runs the func below
//! it, or the original function if there is none. A nop func runs the original function.

use super::state::{KlpTransitionState, KLP_TRANSITION_UNPATCHED};
use core::ffi::c_int;

/// What the handler reads of the top func of a func_stack on every call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StackTop {
    /// `transition` of the top func: its patch is in transition.
    pub transition: bool,
    /// `nop` of the top func: it stands for the original function.
    pub nop: bool,
}

/// The function that the handler makes the task run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Selected {
    /// `new_func` of the top func.
    Top,
    /// `new_func` of the func below the top.
    Next,
    /// The original function: the handler leaves the instruction pointer alone.
    Original,
}

/// The choice of `klp_ftrace_handler()`, given the top of the func_stack and, when the top
/// func is in transition, the `patch_state` of the current task (`None` when not read or
/// not a known state). `next_nop` reads `nop` of the func below the top (`None` if the top
/// func is the only one); it is called only for a task still unpatched in a transition, as C
/// reads the next func only then.
///
/// # Examples
///
/// ```
/// use klp_model::func_stack::{klp_select_func, Selected, StackTop};
/// use klp_model::state::KlpTransitionState::{Patched, Unpatched};
/// let top = StackTop { transition: true, nop: false };
/// assert_eq!(klp_select_func(top, Some(Patched), || unreachable!()), Selected::Top);
/// assert_eq!(klp_select_func(top, Some(Unpatched), || None), Selected::Original);
/// assert_eq!(klp_select_func(top, Some(Unpatched), || Some(false)), Selected::Next);
/// let nop = StackTop { transition: false, nop: true };
/// assert_eq!(klp_select_func(nop, None, || Some(false)), Selected::Original);
/// ```
pub fn klp_select_func(
    top: StackTop,
    patch_state: Option<KlpTransitionState>,
    next_nop: impl FnOnce() -> Option<bool>,
) -> Selected {
    let (selected, nop) = if top.transition && patch_state == Some(KlpTransitionState::Unpatched) {
        // Use the previously patched version of the function, or the original one.
        match next_nop() {
            Some(nop) => (Selected::Next, nop),
            None => return Selected::Original,
        }
    } else {
        (Selected::Top, top.nop)
    };
    // A nop replaces a patch with the original code: setting the pc would loop.
    if nop {
        Selected::Original
    } else {
        selected
    }
}

/// The function that must not be on a task's stack for it to switch, relative to a func of
/// the patch in transition (`klp_check_stack_func()`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KlpCheckedFunc {
    /// The func itself, to be unpatched: its `new_func`.
    Func,
    /// The func below it on the func_stack, to be patched: its `new_func`.
    Prev,
    /// The original function, to be patched: `old_func`.
    Original,
}

/// Which function [`KlpCheckedFunc`] a task switching to `target` must not be sleeping in,
/// for a func whose func_stack is `singular` (holds only that func) or not.
///
/// # Examples
///
/// ```
/// use klp_model::func_stack::{klp_checked_func, KlpCheckedFunc};
/// assert_eq!(klp_checked_func(1, true), KlpCheckedFunc::Original);
/// assert_eq!(klp_checked_func(1, false), KlpCheckedFunc::Prev);
/// assert_eq!(klp_checked_func(0, false), KlpCheckedFunc::Func);
/// ```
pub fn klp_checked_func(target: c_int, singular: bool) -> KlpCheckedFunc {
    if target == KLP_TRANSITION_UNPATCHED {
        KlpCheckedFunc::Func
    } else if singular {
        KlpCheckedFunc::Original
    } else {
        KlpCheckedFunc::Prev
    }
}
