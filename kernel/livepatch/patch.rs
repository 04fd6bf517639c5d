// SPDX-License-Identifier: GPL-2.0-or-later

//! The redirector (`patch.c`): one ftrace_ops per patched function and its `func_stack`.
//!
//! A single ftrace_ops is shared between all enabled replacement functions (`klp_func`s) which
//! have the same `old_func`. This allows the switch between function versions to happen
//! instantaneously by updating the func_stack list. The winner is the func at the top of the
//! func_stack (front of the list), chosen by
//! [`model::func_stack::klp_select_func`](crate::model::func_stack).

use crate::model::func_stack::{klp_select_func, Selected, StackTop};
use crate::model::state::KlpTransitionState;
use crate::objects::{list_is_singular, Entries, Func, Object, Patch};
use crate::statics::Static;
use crate::{warn_on, warn_on_once, KlpLocked};
use core::ptr::{addr_of, addr_of_mut};
use core::sync::atomic::{fence, Ordering};
use kernel::alloc::{flags::__GFP_ZERO, flags::GFP_KERNEL, KBox};
use kernel::bindings;
use kernel::error::{code::*, to_result, Result};
use kernel::ffi::{c_ulong, c_void};
use kernel::prelude::*;

/// A registered ftrace_ops and the stack of funcs for one old function (`struct klp_ops`).
#[repr(C)]
pub(crate) struct KlpOps {
    /// Node in the list of all klp_ops.
    node: bindings::list_head,
    /// The funcs for the old function, newest first: the active func is on top.
    func_stack: bindings::list_head,
    /// The registered ftrace ops.
    fops: bindings::ftrace_ops,
}

/// All klp_ops, changed under `klp_mutex`.
static KLP_OPS: Static<bindings::list_head> = Static::new(bindings::list_head {
    next: addr_of!(KLP_OPS) as *mut bindings::list_head,
    prev: addr_of!(KLP_OPS) as *mut bindings::list_head,
});

impl KlpOps {
    /// The func_stack head.
    ///
    /// # Safety
    ///
    /// `ops` is a live klp_ops.
    pub(crate) unsafe fn func_stack(ops: *mut KlpOps) -> *mut bindings::list_head {
        // SAFETY: The function's safety requirement.
        unsafe { addr_of_mut!((*ops).func_stack) }
    }

    /// The func below `func` on the func_stack of `ops`, if any: the previously patched
    /// version of the function.
    ///
    /// # Safety
    ///
    /// `ops` is live and `func` is on its func_stack.
    pub(crate) unsafe fn next_func(ops: *mut KlpOps, func: Func) -> Option<Func> {
        // SAFETY: `func` is on the stack (the function's safety requirement), so its next link is
        // either the head or another func's `stack_node`.
        unsafe {
            let next = addr_of!((*func.stack_node()).next).read_volatile();
            (next != Self::func_stack(ops)).then(|| Func::from_stack_node(next))
        }
    }
}

/// The klp_ops of the old function `old_func`, if it is patched. Needs `klp_mutex`, or a
/// running transition (which keeps the list unchanged).
pub(crate) fn klp_find_ops(old_func: *mut c_void) -> Option<*mut KlpOps> {
    // SAFETY: `KLP_OPS` is a list of `KlpOps` linked by `node`, unchanged during the walk (the
    // caller's requirement); every func_stack on it holds at least one func.
    unsafe {
        let mut ops = Entries::<KlpOps>::new(KLP_OPS.get(), core::mem::offset_of!(KlpOps, node));
        ops.find(|&ops| {
            Func::from_stack_node((*KlpOps::func_stack(ops)).next).old_func() == old_func
        })
    }
}

/// The ftrace recursion protection of the handler, held until dropped: preemption is
/// disabled meanwhile (`ftrace_test_recursion_trylock()`).
struct RecursionGuard(core::ffi::c_int);

impl RecursionGuard {
    /// Takes the protection; `None` if this context is already in the handler.
    ///
    /// # Safety
    ///
    /// Called from an ftrace handler, with the addresses it was given.
    #[inline(always)]
    unsafe fn try_lock(ip: c_ulong, parent_ip: c_ulong) -> Option<Self> {
        // SAFETY: The function's safety requirement.
        let bit = unsafe { bindings::ftrace_test_recursion_trylock(ip, parent_ip) };
        (bit >= 0).then_some(Self(bit))
    }
}

impl Drop for RecursionGuard {
    #[inline(always)]
    fn drop(&mut self) {
        // SAFETY: The bit was returned by the trylock of `try_lock()`, in this context.
        unsafe { bindings::ftrace_test_recursion_unlock(self.0) };
    }
}

/// The ftrace handler of every patched function: redirects the call to the func that the
/// current task must run.
///
/// It never allocates, sleeps or panics. Preemption is disabled by the recursion lock, which
/// the variant of `synchronize_rcu()` of `klp_synchronize_transition()` relies on.
///
/// # Safety
///
/// ftrace calls it at the entry of a function that `fops`, the `fops` of a registered
/// [`KlpOps`], traces, with the function's address `ip`, its caller's `parent_ip` and the
/// registers `fregs` of the call.
unsafe extern "C" fn klp_ftrace_handler(
    ip: c_ulong,
    parent_ip: c_ulong,
    fops: *mut bindings::ftrace_ops,
    fregs: *mut bindings::ftrace_regs,
) {
    // SAFETY: ftrace calls the handler with the `fops` registered in a live `KlpOps`, so its
    // container is in the same allocation.
    let ops = unsafe { kernel::container_of!(fops, KlpOps, fops) }.cast_mut();

    // SAFETY: Called from ftrace with the traced function's addresses.
    let Some(_recursion) = (unsafe { RecursionGuard::try_lock(ip, parent_ip) }) else {
        warn_on_once(true);
        return;
    };

    // SAFETY: `ops` is live while registered. The func_stack is changed with RCU list
    // primitives, and unregistering the ops (which ends before a klp_ops is freed) waits for
    // every handler, so the entries read here stay valid while preemption is disabled.
    let target = unsafe {
        let head = KlpOps::func_stack(ops);
        let first = addr_of!((*head).next).read_volatile();
        // The stack is never empty while the ops is registered.
        if warn_on_once(first == head) {
            return;
        }
        let top = Func::from_stack_node(first);
        // Order the func_stack read before the func->transition read; the write barrier is in
        // klp_enable_patch_locked().
        fence(Ordering::Acquire);
        let transition = top.transition();
        let task_state = if transition {
            // Order the func->transition read before the current->patch_state read; the write
            // barrier is in klp_init_transition().
            fence(Ordering::Acquire);
            let state = addr_of!((*bindings::get_current()).patch_state).read_volatile();
            warn_on_once(state == bindings::KLP_TRANSITION_IDLE);
            KlpTransitionState::from_raw(state)
        } else {
            None
        };
        let stack = StackTop {
            transition,
            nop: top.nop(),
        };
        // The func below is read only for a task still unpatched in a transition, once.
        let mut next = None;
        match klp_select_func(stack, task_state, || {
            next = KlpOps::next_func(ops, top);
            next.map(|f| f.nop())
        }) {
            Selected::Top => Some(top.new_func()),
            Selected::Next => next.map(|f| f.new_func()),
            Selected::Original => None,
        }
    };
    if let Some(new_func) = target {
        // SAFETY: `fregs` are the traced call's registers; the new function has the same
        // prototype as the traced one.
        unsafe { set_instruction_pointer(fregs, new_func as c_ulong) };
    }
}

/// `ftrace_regs_set_instruction_pointer()`: the traced call returns to `ip`.
///
/// On x86-64 the `ftrace_regs` are the architecture's `pt_regs` (`arch_ftrace_regs()`), and the
/// C macro is one store, written here so that the handler does not call a helper out of line;
/// elsewhere, the helper.
///
/// # Safety
///
/// `fregs` are the registers that ftrace passed to the running handler.
#[inline(always)]
unsafe fn set_instruction_pointer(fregs: *mut bindings::ftrace_regs, ip: c_ulong) {
    #[cfg(CONFIG_X86_64)]
    // SAFETY: On x86-64 `struct ftrace_regs` is `struct __arch_ftrace_regs` (the function's
    // safety requirement gives a live one).
    unsafe {
        (*fregs.cast::<bindings::__arch_ftrace_regs>()).regs.ip = ip
    };
    #[cfg(not(CONFIG_X86_64))]
    // SAFETY: The function's safety requirement.
    unsafe {
        bindings::ftrace_regs_set_instruction_pointer(fregs, ip)
    };
}

/// The ftrace flags of klp_ops: the handler modifies the instruction pointer.
const KLP_FTRACE_FLAGS: c_ulong = (bindings::FTRACE_OPS_FL_DYNAMIC
    | bindings::FTRACE_OPS_FL_IPMODIFY
    | bindings::FTRACE_OPS_FL_PERMANENT) as c_ulong
    | if cfg!(CONFIG_HAVE_DYNAMIC_FTRACE_WITH_ARGS) {
        0
    } else {
        bindings::FTRACE_OPS_FL_SAVE_REGS as c_ulong
    };

/// Removes `func` from its func_stack, unregistering the ops when it was the last func.
fn klp_unpatch_func(guard: &KlpLocked, func: Func) {
    if warn_on(!func.patched()) || warn_on(func.old_func().is_null()) {
        return;
    }
    let Some(ops) = klp_find_ops(func.old_func()) else {
        warn_on(true);
        return;
    };
    // SAFETY: `ops` is live and `func` is on its stack, under `klp_mutex`. Unregistering waits
    // for every running handler before the ops is freed.
    unsafe {
        if list_is_singular(KlpOps::func_stack(ops)) {
            let ftrace_loc = bindings::ftrace_location(func.old_func() as c_ulong);
            if warn_on(ftrace_loc == 0) {
                return;
            }
            let fops = addr_of_mut!((*ops).fops);
            warn_on(bindings::unregister_ftrace_function(fops) != 0);
            warn_on(bindings::ftrace_set_filter_ip(fops, ftrace_loc, 1, 0) != 0);
            bindings::list_del_rcu(func.stack_node());
            bindings::list_del(addr_of_mut!((*ops).node));
            drop(KBox::from_raw(ops));
        } else {
            bindings::list_del_rcu(func.stack_node());
        }
    }
    func.set_patched(guard, false);
}

/// Registers a new klp_ops for `func`, the first func of its old function.
fn klp_patch_func_first(func: Func) -> Result {
    // SAFETY: Only an address is looked up.
    let ftrace_loc = unsafe { bindings::ftrace_location(func.old_func() as c_ulong) };
    if ftrace_loc == 0 {
        pr_err!("failed to find location for function '{}'\n", func.name());
        return Err(EINVAL);
    }
    let ops = KBox::<KlpOps>::new_uninit(GFP_KERNEL | __GFP_ZERO)?;
    // SAFETY: Zeroed memory is a valid `KlpOps` (empty lists are initialised below, and a zeroed
    // ftrace_ops is initialised by ftrace on first use).
    let ops = KBox::into_raw(unsafe { ops.assume_init() });
    // SAFETY: `ops` is fresh and owned here until linked; everything runs under `klp_mutex`.
    unsafe {
        let fops = addr_of_mut!((*ops).fops);
        (*fops).func = Some(klp_ftrace_handler);
        (*fops).flags = KLP_FTRACE_FLAGS;
        bindings::list_add(addr_of_mut!((*ops).node), KLP_OPS.get());
        bindings::INIT_LIST_HEAD(KlpOps::func_stack(ops));
        bindings::list_add_rcu(func.stack_node(), KlpOps::func_stack(ops));

        let result = to_result(bindings::ftrace_set_filter_ip(fops, ftrace_loc, 0, 0))
            .inspect_err(|e| {
                pr_err!(
                    "failed to set ftrace filter for function '{}' ({})\n",
                    func.name(),
                    e.to_errno()
                )
            })
            .and_then(|()| {
                to_result(bindings::register_ftrace_function(fops)).inspect_err(|e| {
                    pr_err!(
                        "failed to register ftrace handler for function '{}' ({})\n",
                        func.name(),
                        e.to_errno()
                    );
                    bindings::ftrace_set_filter_ip(fops, ftrace_loc, 1, 0);
                })
            });
        if result.is_err() {
            bindings::list_del_rcu(func.stack_node());
            bindings::list_del(addr_of_mut!((*ops).node));
            drop(KBox::from_raw(ops));
        }
        result
    }
}

/// Puts `func` on top of the func_stack of its old function.
fn klp_patch_func(guard: &KlpLocked, func: Func) -> Result {
    if warn_on(func.old_func().is_null()) || warn_on(func.patched()) {
        return Err(EINVAL);
    }
    match klp_find_ops(func.old_func()) {
        None => klp_patch_func_first(func)?,
        // SAFETY: `ops` is live, `func` is on no stack; under `klp_mutex`.
        Some(ops) => unsafe { bindings::list_add_rcu(func.stack_node(), KlpOps::func_stack(ops)) },
    }
    func.set_patched(guard, true);
    Ok(())
}

/// Unpatches the funcs of `obj`: all, or the nops only.
fn klp_unpatch_object_funcs(guard: &KlpLocked, obj: Object, nops_only: bool) {
    for func in obj.funcs_list() {
        if nops_only && !func.nop() {
            continue;
        }
        if func.patched() {
            klp_unpatch_func(guard, func);
        }
    }
    if obj.dynamic() || !nops_only {
        obj.set_patched(guard, false);
    }
}

/// Unpatches every func of `obj`.
pub(crate) fn klp_unpatch_object(guard: &KlpLocked, obj: Object) {
    klp_unpatch_object_funcs(guard, obj, false);
}

/// Patches every func of `obj`; on failure, the ones already patched are unpatched.
pub(crate) fn klp_patch_object(guard: &KlpLocked, obj: Object) -> Result {
    if warn_on(obj.patched()) {
        return Err(EINVAL);
    }
    for func in obj.funcs_list() {
        if let Err(e) = klp_patch_func(guard, func) {
            klp_unpatch_object(guard, obj);
            return Err(e);
        }
    }
    obj.set_patched(guard, true);
    Ok(())
}

/// Unpatches the patched objects of `patch`: all funcs, or the nops only.
pub(crate) fn klp_unpatch_objects(guard: &KlpLocked, patch: Patch, nops_only: bool) {
    for obj in patch.objects() {
        if obj.patched() {
            klp_unpatch_object_funcs(guard, obj, nops_only);
        }
    }
}
