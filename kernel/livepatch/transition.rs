// SPDX-License-Identifier: GPL-2.0-or-later

//! The consistency model (`transition.c`): every task switches from the initial to the target
//! patch state on its own, when none of the functions the transition changes is on its stack.
//!
//! A transition is initialised ([`klp_init_transition`]), started ([`klp_start_transition`]:
//! tasks get `TIF_PATCH_PENDING`), and completed by [`klp_try_complete_transition`], retried
//! from a delayed work every second, with fake signals to stragglers every
//! [`SIGNALS_TIMEOUT`] tries, until every task switched; it may be reversed or forced from sysfs.
//! Tasks also switch themselves on kernel exit ([`klp_update_patch_state`]) and in
//! `cond_resched()` ([`__klp_sched_try_switch`]).

use crate::fops::klp_synchronize_handlers;
use crate::model::callbacks::{klp_complete_callback, KlpCallback};
use crate::model::func_stack::{klp_checked_func, KlpCheckedFunc};
use crate::model::replace::klp_replaces_on_complete;
use crate::model::state::KlpTransitionState;
use crate::model::transition::{self as model, KlpSwitchError, KlpTask, SIGNALS_TIMEOUT};
use crate::objects::{list_is_singular, Func, Handle, Patch};
use crate::patch::{klp_find_ops, KlpOps};
use crate::statics::Static;
use crate::{
    callbacks, klp_for_each_patch, lifecycle, stack, warn_on_once, KlpListsFixed, KlpLocked,
    KlpMutexGuard,
};
use core::ptr::{addr_of, addr_of_mut, null_mut};
use core::sync::atomic::{fence, AtomicBool, AtomicI32, AtomicPtr, AtomicU32, Ordering};
use kernel::bindings;
use kernel::ffi::{c_char, c_int, c_ulong, c_void};
use kernel::prelude::*;
use kernel::tasklist::{for_each_possible_cpu, for_each_process_thread};

use KlpTransitionState::{Idle, Patched, Unpatched};

/// The patch in transition, null when none is.
static KLP_TRANSITION_PATCH: AtomicPtr<bindings::klp_patch> = AtomicPtr::new(null_mut());

/// The patch state tasks switch to, `KLP_TRANSITION_IDLE` when no transition runs.
///
/// Only [`set_klp_target_state`] writes it, so it always holds the C value of a
/// [`KlpTransitionState`].
static KLP_TARGET_STATE: AtomicI32 = AtomicI32::new(Idle.as_raw());

/// Retries of the transition, a second apart, since it started.
static KLP_SIGNALS_CNT: AtomicU32 = AtomicU32::new(0);

/// Quick retries of the transition since it started ([`model::klp_retry_delay_ms`]).
static KLP_QUICK_CNT: AtomicU32 = AtomicU32::new(0);

/// The work that retries the transition for the stragglers.
// SAFETY: A zeroed delayed work is initialised by `klp_transition_init()` before use.
static KLP_TRANSITION_WORK: Static<bindings::delayed_work> = unsafe { Static::zeroed() };

/// The patch in transition, if any.
pub(crate) fn klp_transition_patch() -> Option<Patch> {
    // SAFETY: A patch in transition is an accepted, live patch.
    unsafe { Patch::from_raw(KLP_TRANSITION_PATCH.load(Ordering::Relaxed)) }
}

/// The target state of the running transition, if one runs.
pub(crate) fn klp_transition_target() -> Option<KlpTransitionState> {
    klp_transition_patch().map(|_| klp_target_state())
}

/// `klp_target_state`.
fn klp_target_state() -> KlpTransitionState {
    KlpTransitionState::from_raw(KLP_TARGET_STATE.load(Ordering::Relaxed)).unwrap_or(Idle)
}

/// Sets `klp_target_state`.
fn set_klp_target_state(state: KlpTransitionState) {
    KLP_TARGET_STATE.store(state.as_raw(), Ordering::Relaxed);
}

/// "patching" or "unpatching", for the log lines.
fn klp_target_name(state: KlpTransitionState) -> &'static CStr {
    if state == Patched {
        kernel::c_str!("patching")
    } else {
        kernel::c_str!("unpatching")
    }
}

/// Sets up the transition's delayed work; called once from `klp_init()`.
pub(crate) fn klp_transition_init() -> Result {
    // SAFETY: The static work is not in use yet.
    unsafe { bindings::init_delayed_work(KLP_TRANSITION_WORK.get(), Some(klp_transition_work_fn)) };
    stack::klp_stack_init()
}

/// Finishes patching or unpatching the stragglers that failed to switch at the first try.
extern "C" fn klp_transition_work_fn(_work: *mut bindings::work_struct) {
    let guard = KlpMutexGuard::lock();
    if klp_transition_patch().is_some() {
        klp_try_complete_transition(&guard);
    }
}

/// Calls `f` for every task, idle tasks included.
fn for_each_task(mut f: impl FnMut(*mut bindings::task_struct)) {
    for_each_process_thread(&mut f);
    // SAFETY: Every possible CPU has an idle task.
    for_each_possible_cpu(|cpu| f(unsafe { bindings::idle_task(cpu as c_int) }));
}

/// A live task, as the model's [`KlpTask`]: `task->patch_state` and `TIF_PATCH_PENDING`.
///
/// # Invariants
///
/// The task is live while the handle is used: it comes from a task walk under `tasklist_lock`
/// or RCU, is current, an idle task, or the child `copy_process()` is creating.
struct Task(*mut bindings::task_struct);

impl KlpTask for Task {
    fn patch_state(&self) -> c_int {
        // SAFETY: The task is live (type invariant); the state is read as C reads it
        // (`READ_ONCE()`), since the handler of another CPU may read it concurrently.
        unsafe { addr_of!((*self.0).patch_state).read_volatile() }
    }

    fn set_patch_state(&mut self, state: c_int) {
        // SAFETY: The task is live (type invariant); written as C writes it (`WRITE_ONCE()`).
        unsafe { addr_of_mut!((*self.0).patch_state).write_volatile(state) }
    }

    fn patch_pending(&self) -> bool {
        // SAFETY: The task is live (type invariant); thread flags are atomic bits.
        unsafe { bindings::test_tsk_thread_flag(self.0, bindings::TIF_PATCH_PENDING as c_int) }
    }

    fn set_patch_pending(&mut self, pending: bool) {
        let flag = bindings::TIF_PATCH_PENDING as c_int;
        // SAFETY: The task is live (type invariant); thread flags are atomic bits.
        unsafe {
            if pending {
                bindings::set_tsk_thread_flag(self.0, flag)
            } else {
                bindings::clear_tsk_thread_flag(self.0, flag)
            }
        }
    }

    fn test_and_clear_patch_pending(&mut self) -> bool {
        // SAFETY: The task is live (type invariant). The atomic test-and-clear is also a full
        // barrier, which `klp_update_patch_state()` relies on.
        unsafe {
            bindings::test_and_clear_tsk_thread_flag(self.0, bindings::TIF_PATCH_PENDING as c_int)
        }
    }
}

/// The transition to the target patch state is complete: cleans up the data structures.
fn klp_complete_transition(guard: &KlpLocked) {
    let Some(patch) = klp_transition_patch() else {
        return;
    };
    let target = klp_target_state();
    // SAFETY: The format takes two strings.
    unsafe {
        klp_debug!(
            "klp_complete_transition",
            "'%s': completing %s transition\n",
            patch.name().as_char_ptr(),
            klp_target_name(target).as_char_ptr()
        )
    };

    if klp_replaces_on_complete(patch.replace(), target.as_raw()) {
        lifecycle::klp_unpatch_replaced_patches(guard, patch);
        lifecycle::klp_discard_nops(guard, patch);
    }

    if target == Unpatched {
        // Every task is unpatched: the new functions can leave the func_stacks, and the handler
        // must no longer see them before func->transition is cleared.
        crate::patch::klp_unpatch_objects(guard, patch, false);
        klp_synchronize_handlers();
    }

    for obj in patch.objects(guard) {
        for func in obj.funcs_list(guard) {
            func.set_transition(guard, false);
        }
    }

    // Prevent the handler from seeing KLP_TRANSITION_IDLE.
    if target == Patched {
        klp_synchronize_handlers();
    }

    for_each_task(|task| {
        warn_on_once(model::klp_complete_task(&mut Task(task)));
    });

    for obj in patch.objects(guard) {
        if !obj.is_loaded() {
            continue;
        }
        match klp_complete_callback(target.as_raw()) {
            Some(KlpCallback::PostPatch) => callbacks::klp_post_patch_callback(obj),
            Some(KlpCallback::PostUnpatch) => callbacks::klp_post_unpatch_callback(obj),
            _ => {}
        }
    }

    pr_notice!("'{}': {} complete\n", patch.name(), klp_target_name(target));

    set_klp_target_state(Idle);
    KLP_TRANSITION_PATCH.store(null_mut(), Ordering::Relaxed);
    crate::patch::klp_direct_enter(guard);
}

/// Cancels a patching transition that was initialised but not started (the error path of
/// enabling); a started one is reversed instead.
pub(crate) fn klp_cancel_transition(guard: &KlpLocked) {
    if warn_on_once(klp_target_state() != Patched) {
        return;
    }
    if let Some(patch) = klp_transition_patch() {
        // SAFETY: The format takes one string.
        unsafe {
            klp_debug!(
                "klp_cancel_transition",
                "'%s': canceling patching transition, going to unpatch\n",
                patch.name().as_char_ptr()
            )
        };
    }
    set_klp_target_state(Unpatched);
    klp_complete_transition(guard);
}

/// Switches the patch state of `task` to the target state if it is pending.
///
/// If `task` is not current, the caller ensures it is inactive: otherwise the handler might
/// read a wrong `patch_state`.
///
/// # Safety
///
/// `task` is a live task.
#[no_mangle]
pub unsafe extern "C" fn klp_update_patch_state(task: *mut bindings::task_struct) {
    // A variant of synchronize_rcu() is used to allow patching functions where RCU is not
    // watching, see klp_synchronize_handlers().
    // SAFETY: Paired with the enable below.
    unsafe { bindings::preempt_disable_notrace() };
    // The test-and-clear is also a read barrier: it orders the TIF_PATCH_PENDING read before
    // the klp_target_state read (writes in klp_init_transition() and klp_reverse_transition()),
    // and before a later func->transition read in the handler.
    // `task` is live (the function's safety requirement).
    model::klp_update_patch_state(&mut Task(task), || klp_target_state().as_raw());
    // SAFETY: Paired with the disable above.
    unsafe { bindings::preempt_enable_notrace() };
}

/// The address range that must not be on a task's stack for `func` to switch: the function
/// the task would leave, as [`klp_checked_func`] decides.
fn klp_stack_func_range(guard: &KlpListsFixed, func: Func, target: c_int) -> (c_ulong, c_ulong) {
    let original = (func.old_func() as c_ulong, func.old_size());
    // A func of a patched object is on the func_stack of its ops.
    let Some(ops) = klp_find_ops(guard, func.old_func()) else {
        return original;
    };
    // SAFETY: `ops` is live; its func_stack is an initialised list, unchanged during a
    // transition.
    let singular = unsafe { list_is_singular(KlpOps::func_stack(ops)) };
    let checked = |f: Func| (f.new_func() as c_ulong, f.new_size());
    match klp_checked_func(target, singular) {
        KlpCheckedFunc::Func => checked(func),
        KlpCheckedFunc::Original => original,
        // SAFETY: `ops` is live and `func` is on its func_stack.
        KlpCheckedFunc::Prev => unsafe { KlpOps::next_func(ops, func) }.map_or(original, checked),
    }
}

/// What [`klp_check_and_switch_task`] is given and gives back, through `task_call_func()`.
struct SwitchCheck<'a> {
    /// The caller's proof that the patch's lists are fixed, for their walk.
    guard: &'a KlpListsFixed,
    /// `klp_target_state`, as read by the caller.
    target: c_int,
    /// The verdict.
    verdict: Result<(), KlpSwitchError>,
    /// The name of the function found on the stack, for [`KlpSwitchError::FuncOnStack`].
    old_name: *const c_char,
}

/// The verdict on the stack of `task`: it must be reliable and hold no function that the
/// transition changes; else the function found on it.
///
/// # Safety
///
/// `task` is current, or cannot run during the call (`task_call_func()`).
unsafe fn klp_check_stack(
    guard: &KlpListsFixed,
    task: *mut bindings::task_struct,
    target: c_int,
) -> Result<(), (KlpSwitchError, Option<Func>)> {
    let patch = klp_transition_patch().ok_or((KlpSwitchError::UnreliableStack, None))?;
    // SAFETY: The function's safety requirement.
    let found = unsafe {
        stack::klp_with_reliable_stack(task, |entries| {
            patch
                .objects(guard)
                .filter(|obj| obj.patched())
                .find_map(|obj| {
                    obj.funcs_list(guard).find(|&func| {
                        let (addr, size) = klp_stack_func_range(guard, func, target);
                        model::klp_stack_has_func(entries, addr, size)
                    })
                })
        })
    };
    match found {
        Err(_) => Err((KlpSwitchError::UnreliableStack, None)),
        Ok(Some(func)) => Err((KlpSwitchError::FuncOnStack, Some(func))),
        Ok(None) => Ok(()),
    }
}

/// Switches `task` if it is not running elsewhere and its stack allows
/// ([`model::klp_check_and_switch_task`]); the callback of `task_call_func()`.
///
/// # Safety
///
/// `task` is current, or `task_call_func()` keeps it from running; `arg` points to the
/// caller's [`SwitchCheck`].
unsafe extern "C" fn klp_check_and_switch_task(
    task: *mut bindings::task_struct,
    arg: *mut c_void,
) -> c_int {
    // SAFETY: `arg` is the caller's `SwitchCheck`, not otherwise used during the call.
    let check = unsafe { &mut *arg.cast::<SwitchCheck<'_>>() };
    // SAFETY: `current` is always valid; `task` is live.
    let running = unsafe { bindings::task_curr(task) != 0 && task != bindings::get_current() };
    let verdict = if running {
        Err(KlpSwitchError::Running)
    } else {
        // SAFETY: `task` is current or cannot run (the function's safety requirement).
        unsafe { klp_check_stack(check.guard, task, check.target) }.map_err(|(e, func)| {
            if let Some(func) = func {
                check.old_name = func.old_name();
            }
            e
        })
    };
    check.verdict = model::klp_check_and_switch_task(&mut Task(task), check.target, verdict);
    0
}

/// Tries to switch `task` to the target patch state safely ([`model::klp_try_switch_task`]).
/// Fails if it is running, sleeping on a to-be-patched or to-be-unpatched function, or if its
/// stack is unreliable.
fn klp_try_switch_task(guard: &KlpListsFixed, task: *mut bindings::task_struct) -> bool {
    let target = klp_target_state().as_raw();
    let reliable = stack::klp_have_reliable_stack();
    let mut old_name: *const c_char = c"".as_ptr().cast();
    let verdict = model::klp_try_switch_task(&mut Task(task), target, reliable, |_| {
        let mut check = SwitchCheck {
            guard,
            target,
            verdict: Ok(()),
            old_name,
        };
        let arg: *mut c_void = addr_of_mut!(check).cast();
        // SAFETY: `current` is always valid.
        if task == unsafe { bindings::get_current() } {
            // SAFETY: Current, with preemption disabled by the callers.
            unsafe { klp_check_and_switch_task(task, arg) };
        } else {
            // SAFETY: `task` is live; `task_call_func()` keeps it from running during the
            // check, and `arg` is the `SwitchCheck` above.
            unsafe { bindings::task_call_func(task, Some(klp_check_and_switch_task), arg) };
        }
        old_name = check.old_name;
        check.verdict
    });

    // SAFETY: `comm` is a NUL-terminated array of the live task.
    let (comm, pid) = unsafe { ((*task).comm.as_ptr(), (*task).pid) };
    let func: *const c_char = c"klp_try_switch_task".as_ptr().cast();
    match verdict {
        // Without reliable stack traces, tasks switch by other means (e.g. at kernel exit).
        Ok(()) | Err(KlpSwitchError::NoReliableStacktrace) => {}
        // SAFETY: The format takes two strings and an int.
        Err(KlpSwitchError::Running) => unsafe {
            klp_debug!(
                "klp_try_switch_task",
                "%s: %s:%d is running\n",
                func,
                comm,
                pid
            )
        },
        // SAFETY: The format takes two strings and an int.
        Err(KlpSwitchError::UnreliableStack) => unsafe {
            klp_debug!(
                "klp_try_switch_task",
                "%s: %s:%d has an unreliable stack\n",
                func,
                comm,
                pid
            )
        },
        // SAFETY: The format takes two strings, an int and a string.
        Err(KlpSwitchError::FuncOnStack) => unsafe {
            klp_debug!(
                "klp_try_switch_task",
                "%s: %s:%d is sleeping on function %s\n",
                func,
                comm,
                pid,
                old_name
            )
        },
    }
    verdict.is_ok()
}

/// Tries to switch current from `cond_resched()`, where `klp_mutex` might deadlock.
///
/// Preemption is disabled instead, against other callers of [`klp_try_switch_task`]: thanks to
/// `task_call_func()` they cannot switch this task while it runs.
#[no_mangle]
pub extern "C" fn __klp_sched_try_switch() {
    // SAFETY: `current` is always valid.
    let current = unsafe { bindings::get_current() };
    if !Task(current).patch_pending() {
        return;
    }
    // SAFETY: Paired with the enable below.
    unsafe { bindings::preempt_disable() };
    // Current may have been patched between the check above and preempt_disable().
    if Task(current).patch_pending() {
        // Order the TIF_PATCH_PENDING read before the klp_target_state read; the write barriers
        // are in klp_init_transition() and klp_reverse_transition().
        fence(Ordering::Acquire);
        // SAFETY: Current has TIF_PATCH_PENDING, so a transition runs, and it cannot complete
        // while preemption is disabled here.
        unsafe { KlpListsFixed::in_transition(|fixed| klp_try_switch_task(fixed, current)) };
    }
    // SAFETY: Paired with the disable above.
    unsafe { bindings::preempt_enable() };
}

/// Sends a fake signal to every user task with `TIF_PATCH_PENDING`, and wakes up such
/// kthreads.
fn klp_send_signals() {
    if KLP_SIGNALS_CNT.load(Ordering::Relaxed) == SIGNALS_TIMEOUT {
        pr_notice!("signaling remaining tasks\n");
    }
    for_each_process_thread(|task| {
        if !Task(task).patch_pending() {
            return;
        }
        // A small race: the task may switch meanwhile, and the action is then meaningless but
        // harmless.
        // SAFETY: `task` comes from the walk under `tasklist_lock`, which keeps it live.
        unsafe {
            if (*task).flags & bindings::PF_KTHREAD != 0 {
                // Wake up a kthread which sleeps interruptibly and has not switched.
                bindings::wake_up_state(task, bindings::TASK_INTERRUPTIBLE);
            } else {
                // A fake signal to a user task which has not switched.
                bindings::set_notify_signal(task);
            }
        }
    });
}

/// Tries to switch every remaining task to the target patch state by checking the stacks of
/// the sleeping ones. If any task is still in the initial state, schedules a retry; otherwise
/// completes the transition.
pub(crate) fn klp_try_complete_transition(guard: &KlpLocked) {
    warn_on_once(klp_target_state() == Idle);

    let mut complete = true;
    for_each_process_thread(|task| complete &= klp_try_switch_task(guard, task));

    // Ditto for the idle "swapper" tasks.
    // SAFETY: CPU hotplug is held off until the unlock.
    unsafe { bindings::cpus_read_lock() };
    for_each_possible_cpu(|cpu| {
        // SAFETY: Every possible CPU has an idle task.
        let task = unsafe { bindings::idle_task(cpu as c_int) };
        // SAFETY: `cpu` is a possible CPU.
        if unsafe { bindings::cpu_online(cpu) } {
            if !klp_try_switch_task(guard, task) {
                complete = false;
                // Make the idle task go through the main loop.
                // SAFETY: `cpu` is online.
                unsafe { bindings::wake_up_if_idle(cpu as c_int) };
            }
        } else {
            // Offline idle tasks can switch immediately.
            model::klp_switch_offline_task(&mut Task(task), klp_target_state().as_raw());
        }
    });
    // SAFETY: Paired with the lock above.
    unsafe { bindings::cpus_read_unlock() };

    if !complete {
        let quick = KLP_QUICK_CNT.load(Ordering::Relaxed);
        let delay = match model::klp_retry_delay_ms(quick) {
            Some(ms) => {
                KLP_QUICK_CNT.store(quick.wrapping_add(1), Ordering::Relaxed);
                // SAFETY: A conversion.
                unsafe { bindings::__msecs_to_jiffies(ms) }
            }
            None => {
                let cnt = KLP_SIGNALS_CNT.load(Ordering::Relaxed);
                if model::klp_signals_due(cnt, SIGNALS_TIMEOUT) {
                    klp_send_signals();
                }
                if model::klp_cond_resched_due(cnt) {
                    klp_cond_resched(true);
                }
                KLP_SIGNALS_CNT.store(cnt.wrapping_add(1), Ordering::Relaxed);
                // SAFETY: A conversion; `HZ` jiffies is one second.
                unsafe { bindings::round_jiffies_relative(bindings::HZ as c_ulong) }
            }
        };
        // Some tasks could not switch: retry later, or wait for them to switch on kernel exit.
        // SAFETY: The work was initialised at init.
        unsafe { bindings::schedule_delayed_work(KLP_TRANSITION_WORK.get(), delay) };
        return;
    }

    // Done! Now clean up the data structures.
    klp_cond_resched(false);
    let Some(patch) = klp_transition_patch() else {
        return;
    };
    klp_complete_transition(guard);

    // Unused patches are freed here rather than in klp_complete_transition(), which also
    // serves klp_cancel_transition().
    if !patch.enabled() {
        lifecycle::klp_free_patch_async(guard, patch);
    } else if patch.replace() {
        lifecycle::klp_free_replaced_patches_async(guard, patch);
    }
}

/// Whether klp stack checking in `cond_resched()` is on; changed under `klp_mutex`.
static KLP_COND_RESCHED_ON: AtomicBool = AtomicBool::new(false);

/// Turns klp stack checking in `cond_resched()` on or off: it lets CPU-bound kthreads, which
/// the transition finds running, switch themselves.
///
/// Either way every `cond_resched()` call site is re-patched (a `text_poke` each), so the hook
/// is turned on only when a retry still finds stragglers
/// ([`model::klp_cond_resched_due`]), and off only if it is on.
fn klp_cond_resched(on: bool) {
    if KLP_COND_RESCHED_ON.swap(on, Ordering::Relaxed) == on {
        return;
    }
    #[cfg(all(CONFIG_PREEMPT_DYNAMIC, CONFIG_HAVE_PREEMPT_DYNAMIC_CALL))]
    // SAFETY: Process context: the static calls are updated under `sched_dynamic_mutex`.
    unsafe {
        if on {
            bindings::sched_dynamic_klp_enable()
        } else {
            bindings::sched_dynamic_klp_disable()
        }
    };
    #[cfg(not(all(CONFIG_PREEMPT_DYNAMIC, CONFIG_HAVE_PREEMPT_DYNAMIC_CALL)))]
    // SAFETY: The static key is defined in `glue.c`; process context.
    unsafe {
        let key = addr_of_mut!(bindings::klp_sched_try_switch_key.key);
        if on {
            bindings::static_key_enable(key)
        } else {
            bindings::static_key_disable(key)
        }
    };
}

/// Starts the transition: every task not in the target state gets `TIF_PATCH_PENDING` and will
/// switch in [`klp_try_complete_transition`], on kernel exit or at the idle loop's switch point.
pub(crate) fn klp_start_transition() {
    let target = klp_target_state();
    warn_on_once(target == Idle);
    if let Some(patch) = klp_transition_patch() {
        pr_notice!(
            "'{}': starting {} transition\n",
            patch.name(),
            klp_target_name(target)
        );
    }
    for_each_task(|task| {
        model::klp_start_task(&mut Task(task), target.as_raw());
    });
    KLP_SIGNALS_CNT.store(0, Ordering::Relaxed);
    KLP_QUICK_CNT.store(0, Ordering::Relaxed);
}

/// Initialises a transition of `patch` to `state`: the global target, every task in the
/// initial state, every func in transition.
pub(crate) fn klp_init_transition(guard: &KlpLocked, patch: Patch, state: KlpTransitionState) {
    warn_on_once(klp_target_state() != Idle);
    let initial = model::klp_initial_state(Some(state))
        .unwrap_or(Idle)
        .as_raw();

    KLP_TRANSITION_PATCH.store(patch.as_ptr(), Ordering::Relaxed);
    // The target has no effect until the TIF_PATCH_PENDING flags are set.
    set_klp_target_state(state);
    // SAFETY: The format takes two strings.
    unsafe {
        klp_debug!(
            "klp_init_transition",
            "'%s': initializing %s transition\n",
            patch.name().as_char_ptr(),
            klp_target_name(state).as_char_ptr()
        )
    };

    for_each_task(|task| {
        warn_on_once(model::klp_init_task(&mut Task(task), initial));
    });

    // Order the patch_state writes before the func->transition writes, so that the handler
    // never sees a func in transition with a task in KLP_TRANSITION_IDLE; and the
    // klp_target_state write before the TIF_PATCH_PENDING writes to come.
    fence(Ordering::Release);

    // When patching, the funcs reach the func_stacks shortly, in klp_patch_object(); when
    // unpatching, they are already visible to the handler.
    for obj in patch.objects(guard) {
        for func in obj.funcs_list(guard) {
            func.set_transition(guard, true);
        }
    }
}

/// Reverses the direction of the running transition, e.g. to cancel an enable or a disable
/// that tasks block.
pub(crate) fn klp_reverse_transition(guard: &KlpLocked) {
    let Some(patch) = klp_transition_patch() else {
        return;
    };
    let target = klp_target_state();
    let direction = if target == Patched {
        c"patching to unpatching"
    } else {
        c"unpatching to patching"
    };
    // SAFETY: The format takes two strings.
    unsafe {
        klp_debug!(
            "klp_reverse_transition",
            "'%s': reversing transition from %s\n",
            patch.name().as_char_ptr(),
            direction.as_ptr()
        )
    };

    // Clear every TIF_PATCH_PENDING against races with klp_update_patch_state() and
    // __klp_sched_try_switch() running in parallel, and wait until they all saw it.
    for_each_task(|task| Task(task).set_patch_pending(false));
    klp_synchronize_handlers();

    // All patching stopped: prepare the reverse transition.
    patch.set_enabled(guard, !patch.enabled());
    set_klp_target_state(model::klp_initial_state(Some(target)).unwrap_or(Idle));
    // Order the klp_target_state write before the TIF_PATCH_PENDING writes of
    // klp_start_transition().
    fence(Ordering::Release);
    klp_start_transition();
}

/// Brings the patch state of a new task, from `copy_process()`, up to date with its parent's.
///
/// Serialized against the transitions by `tasklist_lock`; `klp_update_patch_state(current)` and
/// `__klp_sched_try_switch()` cannot race as they run on current, the parent.
///
/// # Safety
///
/// `child` is the task being created by current.
#[no_mangle]
pub unsafe extern "C" fn klp_copy_process(child: *mut bindings::task_struct) {
    // SAFETY: `current` is always valid.
    let current = unsafe { bindings::get_current() };
    model::klp_copy_process(&mut Task(child), &Task(current));
}

/// Drops `TIF_PATCH_PENDING` of every task on the administrator's request, forcing the
/// transition to finish.
///
/// `klp_update_patch_state()` requires inactive tasks or current: this is not the case here,
/// so the consistency model may be broken, which the administrator accepts.
pub(crate) fn klp_force_transition(guard: &KlpLocked) {
    pr_warn!("forcing remaining tasks to the patched state\n");
    // SAFETY: Every task of the walks is live.
    for_each_task(|task| unsafe { klp_update_patch_state(task) });

    let Some(patch) = klp_transition_patch() else {
        return;
    };
    // Patches being removed are marked forced: their modules are never put.
    if klp_target_state() == Unpatched {
        patch.set_forced(guard, true);
    } else if patch.replace() {
        for old in klp_for_each_patch(guard) {
            if old != patch {
                old.set_forced(guard, true);
            }
        }
    }
}
