// SPDX-License-Identifier: GPL-2.0-or-later

//! The simulator's func_stacks: the kernel keeps them as C lists (`patch.rs`); the choice of
//! the handler on them is the model's `klp_select_func()`, which both call.

use klp_model::func_stack::{klp_select_func, Selected, StackTop};
use klp_model::state::KlpTransitionState;

/// The flags of a `klp_func` that the handler reads.
pub trait KlpFunc {
    /// `func->transition`.
    fn transition(&self) -> bool;
    /// `func->nop`.
    fn nop(&self) -> bool;
}

/// A func_stack of at most `N` funcs, newest first: the simulator's `klp_ops.func_stack`, a
/// list in the kernel. The handler's choice on it is the model's [`klp_select_func`].
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
        };
        let patch_state = if stack.transition { patch_state } else { None };
        match klp_select_func(stack, patch_state, || next.map(KlpFunc::nop)) {
            Selected::Top => Some(top),
            Selected::Next => next,
            Selected::Original => None,
        }
    }
}
