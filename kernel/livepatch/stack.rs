// SPDX-License-Identifier: GPL-2.0-or-later

//! The per-architecture layer of the consistency model: reliable stack traces.
//!
//! A task may switch to the target patch state only when its stack is known, entirely, to hold
//! no function that the transition changes. Architectures with `HAVE_RELIABLE_STACKTRACE`
//! (x86_64 with the ORC unwinder, ...) provide that through `stack_trace_save_tsk_reliable()`;
//! elsewhere tasks switch only at kernel exit, in the idle loop, or by force.

use core::sync::atomic::{AtomicPtr, Ordering};
use kernel::bindings;
use kernel::error::{code::*, Result};
use kernel::ffi::{c_uint, c_ulong};

/// The deepest stack checked; deeper stacks are unreliable.
const MAX_STACK_ENTRIES: usize = 100;

/// A buffer of `MAX_STACK_ENTRIES` return addresses per CPU, allocated by [`klp_stack_init`].
static KLP_STACK_ENTRIES: AtomicPtr<c_ulong> = AtomicPtr::new(core::ptr::null_mut());

/// Whether the architecture has reliable stack traces (`klp_have_reliable_stack()`).
pub(crate) fn klp_have_reliable_stack() -> bool {
    cfg!(CONFIG_STACKTRACE) && cfg!(CONFIG_HAVE_RELIABLE_STACKTRACE)
}

/// Allocates the per-CPU buffers.
pub(crate) fn klp_stack_init() -> Result {
    let size = MAX_STACK_ENTRIES * core::mem::size_of::<c_ulong>();
    // SAFETY: Allocates per-CPU memory, freed never (the core is built in).
    let entries = unsafe { bindings::__alloc_percpu(size, core::mem::align_of::<c_ulong>()) };
    if entries.is_null() {
        return Err(ENOMEM);
    }
    KLP_STACK_ENTRIES.store(entries.cast(), Ordering::Release);
    Ok(())
}

/// Saves the stack of `task` (inactive, or current) into this CPU's buffer and passes the
/// return addresses to `check`. `Err(EINVAL)` if the stack is unreliable.
///
/// Preemption is disabled (the buffer is this CPU's).
///
/// # Safety
///
/// `task` is current, or cannot run during the call (`task_call_func()`).
pub(crate) unsafe fn klp_with_reliable_stack<R>(
    task: *mut bindings::task_struct,
    check: impl FnOnce(&[c_ulong]) -> R,
) -> Result<R> {
    if !klp_have_reliable_stack() {
        return Err(EINVAL);
    }
    // SAFETY: The per-CPU buffer is allocated at init; preemption is disabled by the caller, so
    // this CPU's buffer is ours until we return.
    let entries: *mut c_ulong =
        unsafe { bindings::raw_cpu_ptr(KLP_STACK_ENTRIES.load(Ordering::Acquire).cast()) }.cast();
    // SAFETY: `task` is inactive or current (the function's safety requirement); the buffer has
    // `MAX_STACK_ENTRIES` entries.
    let ret = unsafe {
        bindings::stack_trace_save_tsk_reliable(task, entries, MAX_STACK_ENTRIES as c_uint)
    };
    if ret < 0 {
        return Err(EINVAL);
    }
    // SAFETY: The unwinder wrote `ret` entries (at most `MAX_STACK_ENTRIES`).
    let stack = unsafe { core::slice::from_raw_parts(entries, ret as usize) };
    Ok(check(stack))
}
