// SPDX-License-Identifier: GPL-2.0-or-later

//! The per-task consistency model (`transition.c`), as steps over one task.
//!
//! A transition moves every task from the initial patch state to the target one,
//! `klp_target_state`. `klp_init_transition()` puts every task in the initial state
//! ([`klp_init_task`]); `klp_start_transition()` marks pending (`TIF_PATCH_PENDING`) the
//! tasks not in the target state ([`klp_start_task`]); a pending task switches, clearing the
//! flag, when its stack is reliable and holds no function that the transition changes
//! ([`klp_try_switch_task`]), on kernel exit ([`klp_update_patch_state`]) or by force; once
//! no task is left, `klp_complete_transition()` puts every task back in
//! `KLP_TRANSITION_IDLE` ([`klp_complete_task`]). `klp_reverse_transition()` flips the target
//! ([`klp_initial_state`]): the tasks that had switched become pending again.
//!
//! The steps are free functions over a [`KlpTask`]: the kernel's `transition.rs` runs them in
//! its own task walks (under `tasklist_lock`, from `task_call_func()`, ...) with the target it
//! read, and the host simulator (`crates/klp-model/tests/common/transition.rs`) runs the same
//! functions over its simulated tasks.

use super::state::{KlpTransitionState, KLP_TRANSITION_IDLE};
use core::ffi::c_int;

/// Stragglers get signals every this many retries of the transition (`SIGNALS_TIMEOUT`).
pub const SIGNALS_TIMEOUT: u32 = 15;

/// How many quick retries a transition makes before the C core's retry every second.
pub const KLP_QUICK_RETRIES: u32 = 8;

/// The delay in ms before the next try of a transition after `quick` quick retries: 2 ms, then
/// twice as long each time ([`KLP_QUICK_RETRIES`] of them, 510 ms in all), then `None`: the C
/// core's second, a retry that counts towards the signals and the `cond_resched()` hook.
///
/// A task that the first try finds running (the other CPU's current task, a task just woken)
/// is usually asleep again milliseconds later; the C core waits a rounded second for it, so an
/// idle one-function enable takes 30 ms or 1 s depending on where it falls.
///
/// # Examples
///
/// ```
/// use klp_model::transition::{klp_retry_delay_ms, KLP_QUICK_RETRIES};
/// assert_eq!(klp_retry_delay_ms(0), Some(2));
/// assert_eq!(klp_retry_delay_ms(KLP_QUICK_RETRIES - 1), Some(256));
/// assert_eq!(klp_retry_delay_ms(KLP_QUICK_RETRIES), None);
/// ```
pub fn klp_retry_delay_ms(quick: u32) -> Option<u32> {
    if quick < KLP_QUICK_RETRIES {
        2u32.checked_shl(quick)
    } else {
        None
    }
}

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

/// Whether a straggler retry turns on klp stack checking in `cond_resched()`, with `cnt`
/// retries before it: from the first retry on, when a task still did not switch a second after
/// the transition started (CPU-bound kthreads, which are found running, switch only there).
///
/// The C core turns the hook on when every transition starts; re-patching the
/// `cond_resched()` call sites costs more than most transitions, which need no retry.
///
/// # Examples
///
/// ```
/// use klp_model::transition::klp_cond_resched_due;
/// assert!(!klp_cond_resched_due(0));
/// assert!(klp_cond_resched_due(1));
/// ```
pub fn klp_cond_resched_due(cnt: u32) -> bool {
    cnt >= 1
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
/// struct T(i32, bool);
/// impl KlpTask for T {
///     fn patch_state(&self) -> i32 { self.0 }
///     fn set_patch_state(&mut self, state: i32) { self.0 = state }
///     fn patch_pending(&self) -> bool { self.1 }
///     fn set_patch_pending(&mut self, pending: bool) { self.1 = pending }
/// }
/// let mut task = T(0, true);
/// let blocked = klp_try_switch_task(&mut task, 1, true, |t| {
///     klp_check_and_switch_task(t, 1, Err(KlpSwitchError::FuncOnStack))
/// });
/// assert_eq!(blocked, Err(KlpSwitchError::FuncOnStack));
/// let ok = klp_try_switch_task(&mut task, 1, true, |t| klp_check_and_switch_task(t, 1, Ok(())));
/// assert_eq!((ok, task.0, task.1), (Ok(()), 1, false));
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
