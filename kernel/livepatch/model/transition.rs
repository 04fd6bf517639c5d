// SPDX-License-Identifier: GPL-2.0-or-later

//! The per-task consistency model (`transition.c`), as a state machine.
//!
//! A transition moves every task from the initial patch state to the target one,
//! `klp_target_state`. [`klp_init_transition`](KlpTransition::klp_init_transition) puts every
//! task in the initial state; [`klp_start_transition`](KlpTransition::klp_start_transition)
//! marks pending (`TIF_PATCH_PENDING`) the tasks not in the target state; a pending task
//! switches, clearing the flag, when its stack is reliable and holds no function that the
//! transition changes ([`klp_try_switch_task`]), on kernel exit ([`klp_update_patch_state`])
//! or by force; once no task is left,
//! [`klp_complete_transition`](KlpTransition::klp_complete_transition) puts every task back in
//! `KLP_TRANSITION_IDLE`. [`klp_reverse_transition`](KlpTransition::klp_reverse_transition)
//! flips the target: the tasks that had switched become pending again.
//!
//! The per-task steps are free functions over a [`KlpTask`], so that the kernel shell runs
//! them in its own task walks (under `tasklist_lock`, from `task_call_func()`, ...) with
//! the target it read; [`KlpTransition`] composes them over a set of tasks ([`KlpTasks`]), with
//! the global state, for the host model and tests.

use super::state::{
    KlpTransitionState, KLP_TRANSITION_IDLE, KLP_TRANSITION_PATCHED, KLP_TRANSITION_UNPATCHED,
};
use core::ffi::c_int;

/// Stragglers get signals every this many retries of the transition (`SIGNALS_TIMEOUT`).
pub const SIGNALS_TIMEOUT: u32 = 15;

/// The livepatch fields of one task.
pub trait KlpTask {
    /// `task->patch_state`.
    fn patch_state(&self) -> c_int;
    /// Sets `task->patch_state`.
    fn set_patch_state(&mut self, state: c_int);
    /// Whether the task has `TIF_PATCH_PENDING`.
    fn patch_pending(&self) -> bool;
    /// Sets or clears `TIF_PATCH_PENDING`.
    fn set_patch_pending(&mut self, pending: bool);
    /// Clears `TIF_PATCH_PENDING` and returns whether it was set; atomic in the kernel
    /// (`test_and_clear_tsk_thread_flag()`).
    fn test_and_clear_patch_pending(&mut self) -> bool {
        let pending = self.patch_pending();
        self.set_patch_pending(false);
        pending
    }
}

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

/// Why a task could not switch to the target state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KlpSwitchError {
    /// The architecture has no reliable stack traces: the task switches by other means.
    NoReliableStacktrace,
    /// The task is running on another CPU (`-EBUSY`).
    Running,
    /// Its stack trace is unreliable (`-EINVAL`).
    UnreliableStack,
    /// It sleeps in a function that the transition changes (`-EADDRINUSE`).
    FuncOnStack,
}

/// `!state` as C computes it, for the target and initial states: `PATCHED` and `UNPATCHED`
/// swap (anything but `UNPATCHED` becomes `UNPATCHED`).
///
/// # Examples
///
/// ```
/// use klp_model::transition::klp_reversed_target;
/// assert_eq!(klp_reversed_target(1), 0);
/// assert_eq!(klp_reversed_target(0), 1);
/// ```
pub fn klp_reversed_target(state: c_int) -> c_int {
    c_int::from(state == KLP_TRANSITION_UNPATCHED)
}

/// The state tasks start a transition to `target` in (`initial_state = !state`); `None`
/// when `target` is no target (idle or unknown).
///
/// # Examples
///
/// ```
/// use klp_model::state::KlpTransitionState::{Idle, Patched, Unpatched};
/// use klp_model::transition::klp_initial_state;
/// assert_eq!(klp_initial_state(Some(Patched)), Some(Unpatched));
/// assert_eq!(klp_initial_state(Some(Idle)), None);
/// ```
pub fn klp_initial_state(target: Option<KlpTransitionState>) -> Option<KlpTransitionState> {
    match target? {
        KlpTransitionState::Patched => Some(KlpTransitionState::Unpatched),
        KlpTransitionState::Unpatched => Some(KlpTransitionState::Patched),
        KlpTransitionState::Idle => None,
    }
}

/// Whether a straggler retry sends signals: every `timeout`-th retry, not the first
/// (`klp_signals_cnt && !(klp_signals_cnt % SIGNALS_TIMEOUT)`).
///
/// # Examples
///
/// ```
/// use klp_model::transition::{klp_signals_due, SIGNALS_TIMEOUT};
/// assert!(!klp_signals_due(0, SIGNALS_TIMEOUT));
/// assert!(klp_signals_due(30, SIGNALS_TIMEOUT));
/// ```
pub fn klp_signals_due(cnt: u32, timeout: u32) -> bool {
    cnt != 0 && cnt.checked_rem(timeout) == Some(0)
}

/// Whether a stack trace holds an address in `[addr, addr + size)`, computed in C's unsigned
/// arithmetic (`klp_check_stack_func()`).
///
/// # Examples
///
/// ```
/// use klp_model::transition::klp_stack_has_func;
/// assert!(klp_stack_has_func(&[0x10, 0x1ff], 0x100, 0x100));
/// assert!(!klp_stack_has_func(&[0x200], 0x100, 0x100));
/// ```
pub fn klp_stack_has_func(entries: &[usize], addr: usize, size: usize) -> bool {
    entries
        .iter()
        .any(|&address| address >= addr && address < addr.wrapping_add(size))
}

/// Puts `task` in the initial state of a transition; returns whether it was not idle, which
/// the kernel warns about (the loop body of `klp_init_transition()`).
pub fn klp_init_task<T: KlpTask + ?Sized>(task: &mut T, initial_state: c_int) -> bool {
    let warn = task.patch_state() != KLP_TRANSITION_IDLE;
    task.set_patch_state(initial_state);
    warn
}

/// Marks `task` pending if it is not in `target` (the loop body of `klp_start_transition()`).
pub fn klp_start_task<T: KlpTask + ?Sized>(task: &mut T, target: c_int) {
    if task.patch_state() != target {
        task.set_patch_pending(true);
    }
}

/// Switches a pending `task` to the target (`klp_update_patch_state()`: kernel exit, the idle
/// loop, force). `task` is current or inactive.
///
/// `target` reads `klp_target_state`, after the pending flag was cleared: in the kernel the
/// test-and-clear orders the two reads against `klp_init_transition()` and
/// `klp_reverse_transition()`, which write the target before setting the flags.
pub fn klp_update_patch_state<T: KlpTask + ?Sized>(task: &mut T, target: impl FnOnce() -> c_int) {
    if task.test_and_clear_patch_pending() {
        task.set_patch_state(target());
    }
}

/// Switches `task` to `target` if `check`, the verdict on it (running, reliability and
/// content of its stack), allows (`klp_check_and_switch_task()`).
pub fn klp_check_and_switch_task<T: KlpTask + ?Sized>(
    task: &mut T,
    target: c_int,
    check: Result<(), KlpSwitchError>,
) -> Result<(), KlpSwitchError> {
    check?;
    task.set_patch_pending(false);
    task.set_patch_state(target);
    Ok(())
}

/// Tries to switch `task` to `target` (`klp_try_switch_task()`): succeeds at once if it is
/// in `target` already; else, with reliable stack traces, runs `check_and_switch` (in the
/// kernel: [`klp_check_and_switch_task`] on the task, from `task_call_func()`).
///
/// # Examples
///
/// ```
/// use klp_model::transition::*;
/// let mut task = KlpTaskState { patch_state: 0, patch_pending: true };
/// let blocked = klp_try_switch_task(&mut task, 1, true, |t| {
///     klp_check_and_switch_task(t, 1, Err(KlpSwitchError::FuncOnStack))
/// });
/// assert_eq!(blocked, Err(KlpSwitchError::FuncOnStack));
/// let ok = klp_try_switch_task(&mut task, 1, true, |t| klp_check_and_switch_task(t, 1, Ok(())));
/// assert_eq!((ok, task), (Ok(()), KlpTaskState { patch_state: 1, patch_pending: false }));
/// ```
pub fn klp_try_switch_task<T: KlpTask + ?Sized>(
    task: &mut T,
    target: c_int,
    have_reliable_stack: bool,
    check_and_switch: impl FnOnce(&mut T) -> Result<(), KlpSwitchError>,
) -> Result<(), KlpSwitchError> {
    if task.patch_state() == target {
        return Ok(());
    }
    if !have_reliable_stack {
        return Err(KlpSwitchError::NoReliableStacktrace);
    }
    check_and_switch(task)
}

/// Switches the idle task of an offline CPU at once (in `klp_try_complete_transition()`).
pub fn klp_switch_offline_task<T: KlpTask + ?Sized>(task: &mut T, target: c_int) {
    if task.patch_state() != target {
        task.set_patch_pending(false);
        task.set_patch_state(target);
    }
}

/// Puts `task` back in `KLP_TRANSITION_IDLE`; returns whether it was still pending, which the
/// kernel warns about (the loop body of `klp_complete_transition()`).
pub fn klp_complete_task<T: KlpTask + ?Sized>(task: &mut T) -> bool {
    let warn = task.patch_pending();
    task.set_patch_state(KLP_TRANSITION_IDLE);
    warn
}

/// Gives a new task the patch state of its parent (`klp_copy_process()`).
pub fn klp_copy_process<C: KlpTask + ?Sized, P: KlpTask + ?Sized>(child: &mut C, parent: &P) {
    child.set_patch_pending(parent.patch_pending());
    child.set_patch_state(parent.patch_state());
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
