// SPDX-License-Identifier: GPL-2.0-or-later

//! The jump redirector: functions without an ftrace location, switched under `stop_machine()`.
//!
//! A Rust function (Rust code has no `__fentry__` call in 6.12) or a C function built without
//! one cannot be redirected by ftrace. A patch whose module enables it with
//! `klp_enable_patch_jump()` redirects them instead with a `jmp` to the new function written
//! over their first instructions (`model::jump`), the consistency model of openEuler's
//! `CONFIG_LIVEPATCH_WO_FTRACE`: all CPUs are stopped, and the jumps are written only if no
//! task has one of the functions being switched on its reliable stack. Otherwise nothing is
//! written, and the switch is retried with a growing pause, then fails with `-EBUSY`.
//!
//! `patch.rs` keeps the func_stacks and decides where each jump goes; this module owns the
//! saved bytes, the checks of a site, the opt-in of patches and the switch itself.

use crate::model::jump::{klp_jump_insn, klp_jump_offset, KlpJumpRefusal, KLP_JUMP_LEN};
use crate::objects::{Func, Patch};
use crate::stack::klp_with_reliable_stack;
use crate::statics::Static;
use crate::{warn_on, KlpLocked};
use core::ptr::addr_of_mut;
use core::sync::atomic::{AtomicI32, AtomicU32, Ordering};
use kernel::alloc::{flags::GFP_KERNEL, KVVec};
use kernel::bindings;
use kernel::error::{code::*, Result};
use kernel::ffi::{c_int, c_void};
use kernel::prelude::*;

/// The jump of one old function: where it is written and the bytes it replaces.
pub(crate) struct KlpJump {
    /// The old function's address and size: the code no task may run during a switch.
    old: usize,
    size: usize,
    /// Where the jump is written, after the function's `ENDBR`.
    at: usize,
    /// The bytes the jump replaces.
    orig: [u8; KLP_JUMP_LEN],
    /// Where the jump goes now; 0 while the function runs its own code.
    to: usize,
}

impl KlpJump {
    /// The jump site of `func`'s old function, checked: long enough, and with no kprobe,
    /// jump label, static call or alternative in the bytes it replaces (unless `clean`: the
    /// caller found none in a span holding them, [`klp_jump_span_clean`]). A refusal is logged
    /// with the function's name.
    pub(crate) fn new(func: Func, clean: bool) -> Result<Self> {
        let (old, size) = (func.old_func() as usize, func.old_size() as usize);
        let mut first = [0u8; 4];
        // SAFETY: `old` is the address of a function that kallsyms knows, of `size` bytes;
        // the copy checks that it can be read.
        let read =
            unsafe { bindings::copy_from_kernel_nofault(first.as_mut_ptr().cast(), old as _, 4) };
        let at = match klp_jump_offset(u32::from_le_bytes(first), size) {
            Ok(offset) if read == 0 => old + offset,
            Ok(_) => return Err(refuse(func, "its code cannot be read", EFAULT)),
            Err(KlpJumpRefusal::TooShort) => {
                return Err(refuse(func, "it is shorter than a jump", EINVAL))
            }
        };
        // SAFETY: A hash lookup of each address, under RCU.
        let probed = unsafe {
            bindings::rcu_read_lock();
            let probed = (old..at + KLP_JUMP_LEN)
                .any(|addr| !bindings::get_kprobe(addr as *mut c_void).is_null());
            bindings::rcu_read_unlock();
            probed
        };
        if !clean && klp_jump_reserved(at, at + KLP_JUMP_LEN - 1) {
            return Err(refuse(func, "another patcher owns its first bytes", EBUSY));
        }
        if probed {
            return Err(refuse(func, "a kprobe is in its first bytes", EBUSY));
        }
        let mut orig = [0u8; KLP_JUMP_LEN];
        // SAFETY: As above: the bytes are inside the function.
        let read = unsafe {
            bindings::copy_from_kernel_nofault(orig.as_mut_ptr().cast(), at as _, KLP_JUMP_LEN)
        };
        if read != 0 {
            return Err(refuse(func, "its code cannot be read", EFAULT));
        }
        Ok(Self {
            old,
            size,
            at,
            orig,
            to: 0,
        })
    }

    /// Where the jump goes: 0 while the function runs its own code.
    pub(crate) fn to(&self) -> usize {
        self.to
    }

    /// The old function's code, `[start, end)`.
    pub(crate) fn old_range(&self) -> (usize, usize) {
        (self.old, self.old + self.size)
    }
}

/// Whether another patcher owns bytes in `[start, end]`: an ftrace location, a jump label, a
/// static call or an alternative. Each check scans all of its sites (the jump labels and static
/// calls of vmlinux and of the module holding `start`, which must hold `end` too).
fn klp_jump_reserved(start: usize, end: usize) -> bool {
    let (start, end) = (start as *mut c_void, end as *mut c_void);
    // SAFETY: Each only looks the range up in its tables. `alternatives_text_reserved()` walks
    // the modules' alternatives, which module loading changes under `text_mutex`: it must be
    // held there (lockdep asserts it). No caller holds it (they hold `klp_mutex`, which comes
    // before it, as in the switch).
    unsafe {
        bindings::ftrace_text_reserved(start, end) != 0
            || bindings::jump_label_text_reserved(start, end) != 0
            || bindings::static_call_text_reserved(start, end) != 0
            || {
                bindings::mutex_lock(addr_of_mut!(bindings::text_mutex));
                let reserved = bindings::alternatives_text_reserved(start, end) != 0;
                bindings::mutex_unlock(addr_of_mut!(bindings::text_mutex));
                reserved
            }
    }
}

/// Whether no other patcher owns bytes anywhere in the code of the functions `first` to `last`
/// (by address, of one object): then the jumps of all the functions between need no check of
/// their own, which scans every site each time.
pub(crate) fn klp_jump_span_clean(first: Func, last: Func) -> bool {
    let start = first.old_func() as usize;
    let end = (last.old_func() as usize + last.old_size() as usize).saturating_sub(1);
    start <= end && !klp_jump_reserved(start, end)
}

/// Logs why `func` cannot take the jump and returns `err`.
fn refuse(func: Func, why: &str, err: Error) -> Error {
    pr_err!(
        "cannot patch function '{}' with a jump: {why} ({})\n",
        func.name(),
        err.to_errno()
    );
    err
}

/// One jump of a switch: what it will write. The jump is not otherwise changed until the
/// switch is done (the caller holds `klp_mutex`).
pub(crate) struct KlpJumpChange {
    jump: *mut KlpJump,
    to: usize,
    bytes: [u8; KLP_JUMP_LEN],
}

impl KlpJumpChange {
    /// Makes `jump` go to `to` (0: the function's own code); `None` if `to` is beyond the
    /// reach of a jump.
    pub(crate) fn new(jump: &mut KlpJump, to: usize) -> Option<Self> {
        let bytes = if to == 0 {
            jump.orig
        } else {
            klp_jump_insn(jump.at, to)?
        };
        Some(Self { jump, to, bytes })
    }
}

/// Code that no task may be running during a switch, `[start, end)`, and the func it belongs
/// to, for the log.
pub(crate) struct KlpJumpRange {
    pub(crate) start: usize,
    pub(crate) end: usize,
    pub(crate) func: Func,
}

/// What the stopped CPUs share during a switch.
struct KlpJumpStop<'a> {
    changes: &'a [KlpJumpChange],
    ranges: &'a [KlpJumpRange],
    /// CPUs that entered the callback; the first one does the work.
    arrived: AtomicU32,
    /// 0 while the first CPU works, then 1 when written, -1 when refused.
    done: AtomicI32,
    /// Why the switch was refused: the func on a stack (`None`: an unreliable stack), and the
    /// task's pid.
    busy: Option<(Option<Func>, c_int)>,
}

/// The first task whose stack runs code of `ranges`, or is unreliable; other CPUs are stopped.
///
/// # Safety
///
/// Called from the `stop_machine()` callback: no other task runs.
unsafe fn klp_jump_busy(ranges: &[KlpJumpRange]) -> Option<(Option<Func>, c_int)> {
    let mut busy = None;
    // SAFETY: The tasks come from the walk. No task runs but the stopper threads, which run
    // `stop_machine()`'s loop and are skipped, and current, whose stack may be read.
    kernel::tasklist::for_each_process_thread(|task| unsafe {
        let current = bindings::get_current();
        if busy.is_some() || (task != current && (*task).on_cpu != 0) {
            return;
        }
        let hit = klp_with_reliable_stack(task, |stack| {
            ranges
                .iter()
                .find(|r| {
                    stack
                        .iter()
                        .any(|&ip| (r.start..r.end).contains(&(ip as usize)))
                })
                .map(|r| r.func)
        });
        busy = match hit {
            Ok(None) => None,
            Ok(Some(func)) => Some((Some(func), (*task).pid)),
            Err(_) => Some((None, (*task).pid)),
        };
    });
    busy
}

/// The `stop_machine()` callback, run by every online CPU: the first checks the stacks and
/// writes the jumps, the others wait for it, then all serialise their instruction stream.
///
/// # Safety
///
/// `data` is the live `KlpJumpStop` of [`klp_jump_switch`], and the callback runs under
/// `stop_machine()` on every online CPU, with `text_mutex` held by the caller.
unsafe extern "C" fn klp_jump_stop(data: *mut c_void) -> c_int {
    let stop = data.cast::<KlpJumpStop<'_>>();
    // SAFETY: `data` is live (the function's safety requirement); the atomics are shared, the
    // other fields are written by the first CPU only, and read by the caller only after
    // `stop_machine()` returns.
    unsafe {
        if (*stop).arrived.fetch_add(1, Ordering::AcqRel) != 0 {
            while (*stop).done.load(Ordering::Acquire) == 0 {
                core::hint::spin_loop();
            }
            bindings::sync_core();
            return 0;
        }
        let start = bindings::ktime_get();
        if !(*stop).ranges.is_empty() {
            (*stop).busy = klp_jump_busy((*stop).ranges);
        }
        if (*stop).busy.is_some() {
            (*stop).done.store(-1, Ordering::Release);
            return EBUSY.to_errno();
        }
        for change in (*stop).changes {
            // The other CPUs spin above, outside the code written, and no task is inside it
            // (checked above, or it is not reachable), so the bytes may be written in any
            // order; `text_poke_kgdb()` is `text_poke()` for a caller that holds `text_mutex`
            // on another CPU's behalf, as here.
            let bytes = change.bytes.as_ptr().cast();
            bindings::text_poke_kgdb((*change.jump).at as *mut c_void, bytes, KLP_JUMP_LEN);
            (*change.jump).to = change.to;
        }
        // Written by the stopped machine only, read by sysfs (`glue.c`).
        addr_of_mut!(klp_jump_pause_ns).write_volatile((bindings::ktime_get() - start) as u64);
        (*stop).done.store(1, Ordering::Release);
        bindings::sync_core();
    }
    0
}

extern "C" {
    /// How long the last switch that wrote its jumps held the machine stopped, in ns
    /// (`/sys/module/livepatch/parameters/jump_pause_ns`, `glue.c`).
    static mut klp_jump_pause_ns: u64;
}

/// The first pause before a switch is retried, in ms, doubled at each retry.
const KLP_JUMP_FIRST_PAUSE: u32 = 10;
/// How many times a switch is tried: with the doubling pauses, for about 10 s.
const KLP_JUMP_TRIES: u32 = 11;

/// Writes `changes` in one stop of the machine, once no task runs the code of `ranges` (none:
/// unchecked, for code nothing can be running); retried with growing pauses, then `-EBUSY`.
pub(crate) fn klp_jump_switch(
    _guard: &KlpLocked,
    changes: &[KlpJumpChange],
    ranges: &[KlpJumpRange],
) -> Result {
    let mut pause = KLP_JUMP_FIRST_PAUSE;
    for attempt in 0..KLP_JUMP_TRIES {
        let mut stop = KlpJumpStop {
            changes,
            ranges,
            arrived: AtomicU32::new(0),
            done: AtomicI32::new(0),
            busy: None,
        };
        let data: *mut c_void = (&mut stop as *mut KlpJumpStop<'_>).cast();
        // SAFETY: `stop` outlives the call; the CPU hotplug lock, then `text_mutex` (the order
        // of the jump label code) keep the online CPUs and the kernel text unchanged by others.
        let ret = unsafe {
            bindings::cpus_read_lock();
            bindings::mutex_lock(addr_of_mut!(bindings::text_mutex));
            let online = addr_of_mut!(bindings::__cpu_online_mask).cast();
            let ret = bindings::stop_machine_cpuslocked(Some(klp_jump_stop), data, online);
            bindings::mutex_unlock(addr_of_mut!(bindings::text_mutex));
            bindings::cpus_read_unlock();
            ret
        };
        let Some((func, pid)) = stop.busy else {
            warn_on(ret != 0);
            return kernel::error::to_result(ret);
        };
        if attempt == 0 || attempt + 1 == KLP_JUMP_TRIES {
            let last = attempt + 1 == KLP_JUMP_TRIES;
            let what = if last { "giving up" } else { "retrying" };
            match func {
                Some(func) => pr_notice!(
                    "function '{}' is on the stack of task {pid}: {what}\n",
                    func.name()
                ),
                None => pr_notice!("the stack of task {pid} is unreliable: {what}\n"),
            }
        }
        if attempt + 1 < KLP_JUMP_TRIES {
            // SAFETY: Sleeps; the caller holds only `klp_mutex`.
            unsafe { bindings::msleep(pause) };
            pause *= 2;
        }
    }
    Err(EBUSY)
}

/// The patches enabled with `klp_enable_patch_jump()`, until freed; under `klp_mutex`.
static KLP_JUMP_PATCHES: Static<KVVec<usize>> = Static::new(KVVec::new());

/// Whether `patch` may redirect functions with jumps.
pub(crate) fn klp_jump_allowed(_guard: &KlpLocked, patch: Patch) -> bool {
    // SAFETY: The set is changed under `klp_mutex`, which the token shows held.
    unsafe { (*KLP_JUMP_PATCHES.get()).contains(&(patch.as_ptr() as usize)) }
}

/// Lets `patch` redirect functions with jumps, until it is freed.
pub(crate) fn klp_jump_allow(_guard: &KlpLocked, patch: Patch) -> Result {
    // SAFETY: As in `klp_jump_allowed()`.
    unsafe { (*KLP_JUMP_PATCHES.get()).push(patch.as_ptr() as usize, GFP_KERNEL)? };
    Ok(())
}

/// Forgets `patch`, which is being freed.
pub(crate) fn klp_jump_forget(_guard: &KlpLocked, patch: Patch) {
    // SAFETY: As in `klp_jump_allowed()`. Shortening keeps the elements before the new
    // length, plain integers.
    unsafe {
        let set = &mut *KLP_JUMP_PATCHES.get();
        if let Some(i) = set.iter().position(|&p| p == patch.as_ptr() as usize) {
            let last = set.len() - 1;
            set.as_mut_slice().swap(i, last);
            set.set_len(last);
        }
    }
}
