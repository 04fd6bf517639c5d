// SPDX-License-Identifier: GPL-2.0-or-later

//! The per-task consistency model (`model::transition`) under random operation sequences.

mod common;

use common::tasks::*;
use common::SimTask;
use klp_model::state::{KLP_TRANSITION_IDLE, KLP_TRANSITION_PATCHED, KLP_TRANSITION_UNPATCHED};
use klp_model::transition::*;
use proptest::prelude::*;

#[derive(Clone, Debug)]
enum TOp {
    /// `klp_init_transition()` to `PATCHED` (true) or `UNPATCHED`.
    Init(bool),
    Start,
    Cancel,
    /// `klp_try_complete_transition()`, with or without reliable stacks.
    Try(bool),
    Block(usize, bool),
    /// `klp_update_patch_state()` of a task (kernel exit).
    Exit(usize),
    Fork(usize),
    Reverse,
    Force,
}

fn top() -> impl Strategy<Value = TOp> {
    prop_oneof![
        2 => any::<bool>().prop_map(TOp::Init),
        2 => Just(TOp::Start),
        1 => Just(TOp::Cancel),
        4 => any::<bool>().prop_map(TOp::Try),
        4 => (0..8usize, any::<bool>()).prop_map(|(i, b)| TOp::Block(i, b)),
        2 => (0..8usize).prop_map(TOp::Exit),
        1 => (0..8usize).prop_map(TOp::Fork),
        1 => Just(TOp::Reverse),
        1 => Just(TOp::Force),
    ]
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Idle,
    Initialized,
    Started,
}

/// The model under test, and what the test remembers of the transition.
struct Driver {
    klp: KlpTransition,
    tasks: Vec<SimTask>,
    phase: Phase,
    /// The state every task started the transition in.
    initial: i32,
    reversals: u32,
}

impl Driver {
    fn new(n: usize) -> Self {
        Driver {
            klp: KlpTransition::new(),
            tasks: vec![SimTask::default(); n],
            phase: Phase::Idle,
            initial: 0,
            reversals: 0,
        }
    }

    fn target(&self) -> i32 {
        self.klp.klp_target_state()
    }

    fn check(&self) {
        match self.phase {
            Phase::Idle => {
                assert_eq!(self.target(), KLP_TRANSITION_IDLE);
                assert!(!self.klp.func_transition());
                for t in &self.tasks {
                    assert_eq!(t.st, KlpTaskState::IDLE, "a task outside a transition");
                }
            }
            Phase::Initialized => {
                assert!(self.klp.func_transition());
                for t in &self.tasks {
                    assert_eq!(
                        t.st,
                        KlpTaskState {
                            patch_state: self.initial,
                            patch_pending: false
                        }
                    );
                }
            }
            Phase::Started => {
                assert!(self.klp.func_transition());
                for t in &self.tasks {
                    let s = t.st.patch_state;
                    assert!(
                        s == KLP_TRANSITION_PATCHED || s == KLP_TRANSITION_UNPATCHED,
                        "{t:?}"
                    );
                    assert_eq!(
                        t.st.patch_pending,
                        s != self.target(),
                        "pending iff not in the target: {t:?}"
                    );
                }
            }
        }
    }

    /// Completes the transition once every task switched; checks where the tasks ended.
    fn complete(&mut self) {
        let target = self.target();
        assert!(
            self.tasks.iter().all(|t| t.st.patch_state == target),
            "complete with tasks not in the target"
        );
        // A reversed transition brings every task back where it started.
        let expected = if self.reversals % 2 == 0 {
            klp_reversed_target(self.initial)
        } else {
            self.initial
        };
        assert_eq!(target, expected);
        assert_eq!(
            self.klp.klp_complete_transition(&mut self.tasks[..]),
            target
        );
        self.phase = Phase::Idle;
        for t in &self.tasks {
            assert_eq!(
                t.st,
                KlpTaskState::IDLE,
                "a completed transition leaves every task idle, not pending"
            );
        }
    }

    fn try_complete(&mut self, reliable: bool) -> KlpTryComplete {
        let before = self.tasks.clone();
        let cnt = self.klp.klp_signals_cnt();
        let target = self.target();
        let ret = self
            .klp
            .klp_try_complete_transition(&mut self.tasks[..], reliable, |t| {
                if t.blocked {
                    Err(KlpSwitchError::FuncOnStack)
                } else {
                    Ok(())
                }
            });
        for (b, a) in before.iter().zip(&self.tasks) {
            let can = reliable && !b.blocked;
            if b.st.patch_state == target {
                assert_eq!(a.st, b.st, "a switched task is left alone");
            } else if can {
                assert_eq!(
                    a.st,
                    KlpTaskState {
                        patch_state: target,
                        patch_pending: false
                    },
                    "a free task switches"
                );
            } else {
                assert_eq!(
                    a.st, b.st,
                    "a blocked task, or one without reliable stacks, does not switch"
                );
            }
        }
        let all = self.tasks.iter().all(|t| t.st.patch_state == target);
        match ret {
            KlpTryComplete::Complete => assert!(all),
            KlpTryComplete::Retry { send_signals } => {
                assert!(!all);
                assert_eq!(send_signals, cnt != 0 && cnt % SIGNALS_TIMEOUT == 0);
                assert_eq!(self.klp.klp_signals_cnt(), cnt + 1);
            }
        }
        ret
    }

    fn apply(&mut self, op: &TOp) {
        let n = self.tasks.len();
        match (op, self.phase) {
            (TOp::Init(patch), Phase::Idle) => {
                let target = if *patch {
                    KLP_TRANSITION_PATCHED
                } else {
                    KLP_TRANSITION_UNPATCHED
                };
                assert!(!self.klp.klp_init_transition(&mut self.tasks[..], target));
                assert_eq!(self.target(), target);
                self.initial = klp_reversed_target(target);
                self.reversals = 0;
                self.phase = Phase::Initialized;
            }
            (TOp::Start, Phase::Initialized) => {
                self.klp.klp_start_transition(&mut self.tasks[..]);
                assert_eq!(self.klp.klp_signals_cnt(), 0);
                self.phase = Phase::Started;
            }
            (TOp::Cancel, Phase::Initialized) => {
                let before = self.klp.clone();
                if self.target() == KLP_TRANSITION_PATCHED {
                    assert!(self.klp.klp_cancel_transition());
                    assert_eq!(
                        self.klp.klp_complete_transition(&mut self.tasks[..]),
                        KLP_TRANSITION_UNPATCHED
                    );
                    self.phase = Phase::Idle;
                } else {
                    assert!(!self.klp.klp_cancel_transition());
                    assert_eq!(self.klp, before);
                }
            }
            (TOp::Try(reliable), Phase::Started)
                if self.try_complete(*reliable) == KlpTryComplete::Complete =>
            {
                self.complete();
            }
            (TOp::Block(i, b), _) => self.tasks[i % n].blocked = *b,
            (TOp::Exit(i), _) => {
                let before = self.tasks[i % n].st;
                self.klp.klp_update_patch_state(&mut self.tasks[i % n]);
                let after = self.tasks[i % n].st;
                let want = if before.patch_pending {
                    KlpTaskState {
                        patch_state: self.target(),
                        patch_pending: false,
                    }
                } else {
                    before
                };
                assert_eq!(after, want);
            }
            (TOp::Fork(i), _) if n < 8 => {
                let mut child = SimTask {
                    st: KlpTaskState {
                        patch_state: 7,
                        patch_pending: true,
                    },
                    blocked: false,
                };
                klp_copy_process(&mut child, &self.tasks[i % n]);
                assert_eq!(child.st, self.tasks[i % n].st);
                self.tasks.push(child);
            }
            (TOp::Reverse, Phase::Started) => {
                let before = self.tasks.clone();
                let old_target = self.target();
                self.klp.klp_reverse_transition(&mut self.tasks[..]);
                self.reversals += 1;
                assert_eq!(self.target(), klp_reversed_target(old_target));
                for (b, a) in before.iter().zip(&self.tasks) {
                    assert_eq!(a.st.patch_state, b.st.patch_state);
                    // The tasks that had switched must switch back; the others are there.
                    let switched = b.st.patch_state == old_target;
                    assert_eq!(
                        a.st.patch_pending, switched,
                        "after a reversal: {b:?} -> {a:?}"
                    );
                }
            }
            (TOp::Force, Phase::Started) => {
                self.klp.klp_force_transition(&mut self.tasks[..]);
                for t in &self.tasks {
                    assert_eq!(
                        t.st,
                        KlpTaskState {
                            patch_state: self.target(),
                            patch_pending: false
                        },
                        "forced"
                    );
                }
            }
            _ => {}
        }
        self.check();
    }

    /// Ends a started transition: with reliable stacks and no task sleeping in a changed
    /// function, or by force (then whatever the stacks).
    fn finish(&mut self, force: bool) {
        if self.phase != Phase::Started {
            return;
        }
        if force {
            self.apply(&TOp::Force);
            assert_eq!(
                self.try_complete(false),
                KlpTryComplete::Complete,
                "a forced transition completes"
            );
        } else {
            for t in &mut self.tasks {
                t.blocked = false;
            }
            assert_eq!(
                self.try_complete(true),
                KlpTryComplete::Complete,
                "every task reaches the target"
            );
        }
        self.complete();
        self.check();
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Random operations keep the protocol's invariants: during a transition a task is pending
    /// exactly when it is not in the target state; only tasks free to switch switch; a
    /// reversal makes exactly the switched tasks pending; a completed transition leaves every
    /// task idle and none pending; a transition reversed an odd number of times ends in the
    /// initial state; every task reaches the target once stacks are reliable, or by force.
    #[test]
    fn transition_protocol(
        ntasks in 1..6usize,
        ops in prop::collection::vec(top(), 1..80),
        force in any::<bool>(),
    ) {
        let mut d = Driver::new(ntasks);
        for op in &ops {
            d.apply(op);
        }
        d.finish(force);
    }

    /// A transition reversed before it completes brings every task back to its initial state.
    #[test]
    fn reversed_transition_returns(
        ntasks in 1..6usize,
        patch in any::<bool>(),
        blocked in prop::collection::vec(any::<bool>(), 6),
    ) {
        let mut d = Driver::new(ntasks);
        d.apply(&TOp::Init(patch));
        d.apply(&TOp::Start);
        for (i, b) in blocked.iter().enumerate() {
            d.apply(&TOp::Block(i, *b));
        }
        if d.try_complete(true) == KlpTryComplete::Complete {
            d.complete();
        } else {
            d.apply(&TOp::Reverse);
            d.finish(false);
        }
    }
}

#[test]
fn signals_every_fifteenth_retry() {
    let due: Vec<u32> = (0..50)
        .filter(|&c| klp_signals_due(c, SIGNALS_TIMEOUT))
        .collect();
    assert_eq!(due, [15, 30, 45]);
    assert!(!klp_signals_due(5, 0), "no division by zero");
}

#[test]
fn stack_has_func_bounds() {
    assert!(klp_stack_has_func(&[0x100], 0x100, 1));
    assert!(!klp_stack_has_func(&[0x101], 0x100, 1));
    assert!(!klp_stack_has_func(&[0xff], 0x100, 1));
    assert!(!klp_stack_has_func(&[], 0x100, 1));
    // C's unsigned arithmetic: a range that wraps holds nothing.
    assert!(!klp_stack_has_func(&[usize::MAX], usize::MAX, 2));
}
