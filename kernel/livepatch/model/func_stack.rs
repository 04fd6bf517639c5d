// SPDX-License-Identifier: GPL-2.0-or-later

//! The func_stack of a patched function and the ftrace handler's choice (`patch.c`).
//!
//! Every patched function has one ftrace_ops and a stack of the `klp_func`s that replace it,
//! newest first. Outside a transition the top func wins. During a transition the top func
//! has `transition` set, and a task still in `KLP_TRANSITION_UNPATCHED` runs the func below
//! it, or the original function if there is none. A nop func runs the original function.

use super::state::{KlpTransitionState, KLP_TRANSITION_UNPATCHED};
use core::ffi::c_int;

/// What the handler reads of a func_stack: its top func and whether there is a func below.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StackTop {
    /// `transition` of the top func: its patch is in transition.
    pub transition: bool,
    /// `nop` of the top func: it stands for the original function.
    pub nop: bool,
    /// `nop` of the func below the top, `None` if the top func is the only one.
    pub next_nop: Option<bool>,
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
/// not a known state).
///
/// # Examples
///
/// ```
/// use klp_model::func_stack::{klp_select_func, Selected, StackTop};
/// use klp_model::state::KlpTransitionState::{Patched, Unpatched};
/// let top = StackTop { transition: true, nop: false, next_nop: None };
/// assert_eq!(klp_select_func(top, Some(Patched)), Selected::Top);
/// assert_eq!(klp_select_func(top, Some(Unpatched)), Selected::Original);
/// let nop = StackTop { transition: false, nop: true, next_nop: Some(false) };
/// assert_eq!(klp_select_func(nop, None), Selected::Original);
/// ```
pub fn klp_select_func(top: StackTop, patch_state: Option<KlpTransitionState>) -> Selected {
    let (selected, nop) = if top.transition && patch_state == Some(KlpTransitionState::Unpatched) {
        // Use the previously patched version of the function, or the original one.
        match top.next_nop {
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

/// The flags of a `klp_func` that the handler reads.
pub trait KlpFunc {
    /// `func->transition`.
    fn transition(&self) -> bool;
    /// `func->nop`.
    fn nop(&self) -> bool;
}

/// A func_stack of at most `N` funcs, newest first, without allocation: the model of
/// `klp_ops.func_stack`.
///
/// # Examples
///
/// ```
/// use klp_model::func_stack::{FuncStack, KlpFunc};
/// use klp_model::state::KlpTransitionState::Unpatched;
/// #[derive(PartialEq)]
/// struct F { id: u32, transition: bool }
/// impl KlpFunc for F {
///     fn transition(&self) -> bool { self.transition }
///     fn nop(&self) -> bool { false }
/// }
/// let mut stack = FuncStack::<F, 4>::new();
/// assert!(stack.push(F { id: 1, transition: false }).is_ok());
/// assert!(stack.push(F { id: 2, transition: true }).is_ok());
/// assert_eq!(stack.klp_ftrace_func(None).map(|f| f.id), Some(2));
/// assert_eq!(stack.klp_ftrace_func(Some(Unpatched)).map(|f| f.id), Some(1));
/// assert!(stack.remove(|f| f.id == 2).is_some());
/// assert_eq!(stack.top().map(|f| f.id), Some(1));
/// ```
#[derive(Debug, Clone)]
pub struct FuncStack<T, const N: usize> {
    /// The funcs, oldest first; the first `len` slots are filled.
    slots: [Option<T>; N],
    /// How many funcs there are.
    len: usize,
}

impl<T, const N: usize> Default for FuncStack<T, N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T, const N: usize> FuncStack<T, N> {
    /// An empty func_stack.
    pub fn new() -> Self {
        Self {
            slots: core::array::from_fn(|_| None),
            len: 0,
        }
    }

    /// The number of funcs.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the stack holds no func (the ops is then unregistered).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether the stack holds exactly one func (`list_is_singular()`).
    pub fn is_singular(&self) -> bool {
        self.len == 1
    }

    /// Puts `func` on top, as the newest (`list_add_rcu()`); gives it back if the stack is
    /// full.
    pub fn push(&mut self, func: T) -> Result<(), T> {
        match self.slots.get_mut(self.len) {
            Some(slot) => {
                *slot = Some(func);
                self.len = self.len.saturating_add(1);
                Ok(())
            }
            None => Err(func),
        }
    }

    /// Removes the newest func that `pred` accepts (`list_del_rcu()`) and returns it.
    pub fn remove(&mut self, mut pred: impl FnMut(&T) -> bool) -> Option<T> {
        let live = self.slots.get_mut(..self.len)?;
        let pos = live
            .iter()
            .rposition(|slot| slot.as_ref().is_some_and(&mut pred))?;
        let tail = live.get_mut(pos..)?;
        let removed = tail.first_mut()?.take();
        // The emptied slot moves past the last func.
        tail.rotate_left(1);
        self.len = self.len.saturating_sub(1);
        removed
    }

    /// The funcs, newest first.
    pub fn iter(&self) -> impl Iterator<Item = &T> + '_ {
        self.slots
            .get(..self.len)
            .unwrap_or(&[])
            .iter()
            .rev()
            .flatten()
    }

    /// The newest func: the one that wins outside a transition.
    pub fn top(&self) -> Option<&T> {
        self.iter().next()
    }

    /// The func below the newest one that `pred` accepts (`list_next_entry()`), if any.
    pub fn next_func(&self, mut pred: impl FnMut(&T) -> bool) -> Option<&T> {
        let mut funcs = self.iter();
        funcs.by_ref().find(|&func| pred(func))?;
        funcs.next()
    }

    /// The func whose `new_func` `klp_ftrace_handler()` runs for a task in `patch_state`
    /// (read only if the top func is in transition); `None` for the original function.
    pub fn klp_ftrace_func(&self, patch_state: Option<KlpTransitionState>) -> Option<&T>
    where
        T: KlpFunc,
    {
        let mut funcs = self.iter();
        // An empty stack has no ops registered: the original function runs.
        let top = funcs.next()?;
        let next = funcs.next();
        let stack = StackTop {
            transition: top.transition(),
            nop: top.nop(),
            next_nop: next.map(KlpFunc::nop),
        };
        let patch_state = if stack.transition { patch_state } else { None };
        match klp_select_func(stack, patch_state) {
            Selected::Top => Some(top),
            Selected::Next => next,
            Selected::Original => None,
        }
    }
}
