// SPDX-License-Identifier: GPL-2.0-or-later
//! The host's composition of the per-task steps of `klp_model::transition` over a set of
//! tasks, with the global state of a transition: what the kernel's `transition.rs` does in
//! its task walks, for the simulator and the property tests. It calls only the model's
//! per-task functions, which the kernel calls too.

use core::ffi::c_int;
use klp_model::state::{
    KlpTransitionState, KLP_TRANSITION_IDLE, KLP_TRANSITION_PATCHED, KLP_TRANSITION_UNPATCHED,
};
use klp_model::transition::*;

/// A task's livepatch fields as plain values, for models and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KlpTaskState {
    /// `task->patch_state`.
    pub patch_state: c_int,
    /// `TIF_PATCH_PENDING`.
    pub patch_pending: bool,
}

impl KlpTaskState {
    /// A task outside any transition: `KLP_TRANSITION_IDLE`, not pending.
    pub const IDLE: Self = Self {
        patch_state: KLP_TRANSITION_IDLE,
        patch_pending: false,
    };
}

impl Default for KlpTaskState {
    fn default() -> Self {
        Self::IDLE
    }
}

impl KlpTask for KlpTaskState {
    fn patch_state(&self) -> c_int {
        self.patch_state
    }
    fn set_patch_state(&mut self, state: c_int) {
        self.patch_state = state;
    }
    fn patch_pending(&self) -> bool {
        self.patch_pending
    }
    fn set_patch_pending(&mut self, pending: bool) {
        self.patch_pending = pending;
    }
}

/// The set of tasks a transition walks: every thread and the idle tasks.
pub trait KlpTasks {
    /// The type of a task.
    type Task: KlpTask;
    /// Calls `f` on every task.
    fn for_each_task(&mut self, f: impl FnMut(&mut Self::Task));
}

impl<T: KlpTask> KlpTasks for [T] {
    type Task = T;
    fn for_each_task(&mut self, f: impl FnMut(&mut T)) {
        self.iter_mut().for_each(f);
    }
}

/// The target of the reversed transition: the initial state of the one to `state`
/// ([`klp_initial_state`], as the kernel's `klp_reverse_transition()` computes it).
pub fn klp_reversed_target(state: c_int) -> c_int {
    klp_initial_state(KlpTransitionState::from_raw(state))
        .map_or(KLP_TRANSITION_UNPATCHED, KlpTransitionState::as_raw)
}

/// The outcome of [`KlpTransition::klp_try_complete_transition`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KlpTryComplete {
    /// Every task is in the target state: complete the transition.
    Complete,
    /// Some tasks are not: retry later, after signalling the stragglers if `send_signals`.
    Retry {
        /// Whether to call `klp_send_signals()` first.
        send_signals: bool,
    },
}

/// The global state of the consistency model: `klp_target_state`, `klp_signals_cnt` and the
/// `transition` flag of the funcs of the patch in transition.
///
/// # Examples
///
/// ```
/// use klp_model::transition::*;
/// let mut tasks = [KlpTaskState::IDLE; 3];
/// let mut klp = KlpTransition::new();
/// klp.klp_init_transition(&mut tasks[..], 1);
/// klp.klp_start_transition(&mut tasks[..]);
/// assert!(tasks.iter().all(|t| t.patch_state == 0 && t.patch_pending));
/// let done = klp.klp_try_complete_transition(&mut tasks[..], true, |_| Ok(()));
/// assert_eq!(done, KlpTryComplete::Complete);
/// assert_eq!(klp.klp_complete_transition(&mut tasks[..]), 1);
/// assert!(tasks.iter().all(|t| *t == KlpTaskState::IDLE));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KlpTransition {
    /// `klp_target_state`.
    klp_target_state: c_int,
    /// `klp_signals_cnt`.
    klp_signals_cnt: u32,
    /// `func->transition` of every func of the patch in transition.
    func_transition: bool,
}

impl Default for KlpTransition {
    fn default() -> Self {
        Self::new()
    }
}

impl KlpTransition {
    /// No transition.
    pub const fn new() -> Self {
        Self {
            klp_target_state: KLP_TRANSITION_IDLE,
            klp_signals_cnt: 0,
            func_transition: false,
        }
    }

    /// `klp_target_state`: the state tasks switch to, `KLP_TRANSITION_IDLE` when none.
    pub fn klp_target_state(&self) -> c_int {
        self.klp_target_state
    }

    /// Whether a transition is running.
    pub fn in_transition(&self) -> bool {
        self.klp_target_state != KLP_TRANSITION_IDLE
    }

    /// `klp_signals_cnt`: the retries since the transition started.
    pub fn klp_signals_cnt(&self) -> u32 {
        self.klp_signals_cnt
    }

    /// `func->transition` of the funcs of the patch in transition.
    pub fn func_transition(&self) -> bool {
        self.func_transition
    }

    /// Prepares a transition to `state`: sets the target, puts every task in the initial
    /// state and the funcs in transition. Returns whether the kernel warns (a transition was
    /// running, or a task was not idle).
    pub fn klp_init_transition<S: KlpTasks + ?Sized>(
        &mut self,
        tasks: &mut S,
        state: c_int,
    ) -> bool {
        let mut warn = self.in_transition();
        let initial_state = klp_reversed_target(state);
        self.klp_target_state = state;
        tasks.for_each_task(|task| warn |= klp_init_task(task, initial_state));
        self.func_transition = true;
        warn
    }

    /// Starts the transition: marks pending every task not in the target state.
    pub fn klp_start_transition<S: KlpTasks + ?Sized>(&mut self, tasks: &mut S) {
        let target = self.klp_target_state;
        tasks.for_each_task(|task| klp_start_task(task, target));
        self.klp_signals_cnt = 0;
    }

    /// Tries to switch every task ([`klp_try_switch_task`], with `check` giving the verdict
    /// on a task's stack); counts a retry if some task did not switch.
    pub fn klp_try_complete_transition<S: KlpTasks + ?Sized>(
        &mut self,
        tasks: &mut S,
        have_reliable_stack: bool,
        mut check: impl FnMut(&S::Task) -> Result<(), KlpSwitchError>,
    ) -> KlpTryComplete {
        let target = self.klp_target_state;
        let mut complete = true;
        tasks.for_each_task(|task| {
            let verdict = klp_try_switch_task(task, target, have_reliable_stack, |task| {
                let check = check(task);
                klp_check_and_switch_task(task, target, check)
            });
            complete &= verdict.is_ok();
        });
        if complete {
            return KlpTryComplete::Complete;
        }
        let send_signals = klp_signals_due(self.klp_signals_cnt, SIGNALS_TIMEOUT);
        self.klp_signals_cnt = self.klp_signals_cnt.wrapping_add(1);
        KlpTryComplete::Retry { send_signals }
    }

    /// Completes the transition, once every task switched (or to cancel it): clears the
    /// funcs' transition flags, puts every task back in `KLP_TRANSITION_IDLE` and the target
    /// too. Returns the target that was reached, for the post callbacks.
    pub fn klp_complete_transition<S: KlpTasks + ?Sized>(&mut self, tasks: &mut S) -> c_int {
        self.func_transition = false;
        tasks.for_each_task(|task| {
            klp_complete_task(task);
        });
        core::mem::replace(&mut self.klp_target_state, KLP_TRANSITION_IDLE)
    }

    /// Cancels a patching transition that was initialised but not started: the target
    /// becomes `UNPATCHED`, for [`KlpTransition::klp_complete_transition`]. Returns `false`,
    /// changing nothing, if the target is not `PATCHED` (the kernel warns).
    pub fn klp_cancel_transition(&mut self) -> bool {
        if self.klp_target_state != KLP_TRANSITION_PATCHED {
            return false;
        }
        self.klp_target_state = KLP_TRANSITION_UNPATCHED;
        true
    }

    /// Reverses a started transition: clears every pending flag, flips the target and starts
    /// again, so the tasks that had switched are pending again.
    pub fn klp_reverse_transition<S: KlpTasks + ?Sized>(&mut self, tasks: &mut S) {
        tasks.for_each_task(|task| task.set_patch_pending(false));
        self.klp_target_state = klp_reversed_target(self.klp_target_state);
        self.klp_start_transition(tasks);
    }

    /// Switches every pending task to the target, whatever its stack
    /// (`klp_force_transition()`).
    pub fn klp_force_transition<S: KlpTasks + ?Sized>(&mut self, tasks: &mut S) {
        let target = self.klp_target_state;
        tasks.for_each_task(|task| klp_update_patch_state(task, || target));
    }

    /// [`klp_update_patch_state`] with the current target.
    pub fn klp_update_patch_state<T: KlpTask + ?Sized>(&self, task: &mut T) {
        klp_update_patch_state(task, || self.klp_target_state);
    }
}
