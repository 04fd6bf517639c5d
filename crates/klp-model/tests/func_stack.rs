// SPDX-License-Identifier: GPL-2.0-or-later

//! The ftrace handler's choice (`model::func_stack`): against C's control flow, and in the
//! simulated core, where the newest func of the patches a task sees must win.

mod common;

use common::func_stack::{FuncStack, KlpFunc};
use common::{op, Sim};
use klp_model::func_stack::*;
use klp_model::state::{KlpTransitionState, KLP_TRANSITION_IDLE, KLP_TRANSITION_UNPATCHED};
use proptest::prelude::*;

/// `klp_ftrace_handler()` transcribed, with `goto unlock` as `Original`.
fn c_handler(transition: bool, nop: bool, next_nop: Option<bool>, patch_state: i32) -> Selected {
    let (mut func, mut func_nop) = (Selected::Top, nop);
    if transition && patch_state == KLP_TRANSITION_UNPATCHED {
        match next_nop {
            None => return Selected::Original,
            Some(n) => (func, func_nop) = (Selected::Next, n),
        }
    }
    if func_nop {
        return Selected::Original;
    }
    func
}

#[test]
fn select_matches_c_handler() {
    for transition in [false, true] {
        for nop in [false, true] {
            for next_nop in [None, Some(false), Some(true)] {
                for raw in [KLP_TRANSITION_IDLE, 0, 1, 2, -7] {
                    let top = StackTop { transition, nop };
                    // The shell reads the task's state only for a func in transition.
                    let state = if transition {
                        KlpTransitionState::from_raw(raw)
                    } else {
                        None
                    };
                    assert_eq!(
                        klp_select_func(top, state, || next_nop),
                        c_handler(transition, nop, next_nop, raw),
                        "{top:?} {next_nop:?} {raw}"
                    );
                }
            }
        }
    }
}

#[test]
fn checked_func_matches_c() {
    assert_eq!(klp_checked_func(0, true), KlpCheckedFunc::Func);
    assert_eq!(klp_checked_func(0, false), KlpCheckedFunc::Func);
    assert_eq!(klp_checked_func(1, true), KlpCheckedFunc::Original);
    assert_eq!(klp_checked_func(1, false), KlpCheckedFunc::Prev);
}

#[derive(Clone, Copy, Debug, PartialEq)]
struct F {
    id: u8,
    transition: bool,
    nop: bool,
}

impl KlpFunc for F {
    fn transition(&self) -> bool {
        self.transition
    }
    fn nop(&self) -> bool {
        self.nop
    }
}

#[derive(Clone, Debug)]
enum StackOp {
    Push(F),
    Remove(u8),
}

fn stack_op() -> impl Strategy<Value = StackOp> {
    let push = (0..6u8, any::<bool>(), any::<bool>()).prop_map(|(id, transition, nop)| {
        StackOp::Push(F {
            id,
            transition,
            nop,
        })
    });
    prop_oneof![3 => push, 2 => (0..6u8).prop_map(StackOp::Remove)]
}

proptest! {
    /// `FuncStack` behaves as a list with insertion at the head, and its handler choice is
    /// `klp_select_func` on its top two funcs.
    #[test]
    fn func_stack_is_a_list(ops in prop::collection::vec(stack_op(), 0..40)) {
        let mut stack = FuncStack::<F, 8>::new();
        let mut list: Vec<F> = Vec::new(); // newest first
        for op in ops {
            match op {
                StackOp::Push(f) => {
                    let full = list.len() == 8;
                    prop_assert_eq!(stack.push(f).is_err(), full);
                    if !full {
                        list.insert(0, f);
                    }
                }
                StackOp::Remove(id) => {
                    let want = list.iter().position(|f| f.id == id).map(|i| list.remove(i));
                    prop_assert_eq!(stack.remove(|f| f.id == id), want);
                }
            }
            prop_assert_eq!(stack.iter().copied().collect::<Vec<_>>(), list.clone());
            prop_assert_eq!(stack.len(), list.len());
            prop_assert_eq!(stack.is_singular(), list.len() == 1);
            prop_assert_eq!(stack.top(), list.first());
            if let Some(top) = list.first() {
                prop_assert_eq!(stack.next_func(|f| f == top), list.get(1));
            }
            for raw in [0, 1] {
                let state = KlpTransitionState::from_raw(raw);
                let want = list.first().and_then(|top| {
                    match c_handler(top.transition, top.nop, list.get(1).map(|f| f.nop), raw) {
                        Selected::Top => Some(top),
                        Selected::Next => list.get(1),
                        Selected::Original => None,
                    }
                });
                prop_assert_eq!(stack.klp_ftrace_func(state), want);
            }
        }
    }

    /// In the simulated core, after every operation, every task calling any function runs the
    /// newest func of the patches it sees: all patches in use outside a transition (newest func
    /// wins), and during one the patch in transition only once the task reached `PATCHED`.
    #[test]
    fn newest_func_wins(ntasks in 1..5usize, ops in prop::collection::vec(op(), 1..60)) {
        let mut sim = Sim::new(ntasks);
        for op in &ops {
            let _ = sim.apply(op);
            sim.check();
        }
    }
}
