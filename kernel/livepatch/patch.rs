// SPDX-License-Identifier: GPL-2.0-or-later

//! The redirector (`patch.c`): the ftrace_ops of the patched functions and their func_stacks.
//!
//! Every patched old function has one [`KlpOps`], whose func_stack holds its enabled
//! replacement functions (`klp_func`s), newest first. The switch between function versions
//! happens instantaneously by updating the func_stack list. The winner is the func at the top of
//! the func_stack, chosen by [`model::func_stack::klp_select_func`](crate::model::func_stack).
//!
//! Unlike the C core, the old functions first patched together (the funcs of one object) share
//! one registered `ftrace_ops`, a [`KlpOpsGroup`]: registering and unregistering an ftrace_ops
//! passes over every ftrace record, allocates or frees a trampoline and waits for RCU-tasks
//! grace periods, so a patch of a thousand functions pays that once instead of a thousand
//! times. The ftrace_ops come from a static pool (`fops.rs`), whose unregistration waits for
//! no grace period. The handler finds the group through the ftrace_ops and the function's
//! `KlpOps` in it by its address. A function whose last func is removed while others of its
//! group stay patched is taken out of the group's filter.
//!
//! The functions without an ftrace location of a patch that allows it (`jump.rs`) have their
//! klp_ops in a group that is never registered with ftrace: each has a [`KlpJump`], and
//! [`klp_jump_update`] writes the jumps where the func_stacks say, in one stop of the machine.

use crate::fops::KlpFops;
use crate::jump::{klp_jump_span_clean, klp_jump_switch, KlpJump, KlpJumpChange, KlpJumpRange};
use crate::model::func_stack::{klp_select_func, Selected, StackTop};
use crate::model::state::KlpTransitionState;
use crate::objects::{list_empty, Entries, Func, Object, Patch};
use crate::statics::Static;
use crate::{warn_on, warn_on_once, KlpListsFixed, KlpLocked};
use core::ptr::{addr_of, addr_of_mut, null_mut};
use core::sync::atomic::{fence, Ordering};
use kernel::alloc::{flags::GFP_KERNEL, KBox, KVVec};
use kernel::bindings;
use kernel::error::{code::*, to_result, Result};
use kernel::ffi::{c_ulong, c_void};
use kernel::prelude::*;

/// The stack of funcs for one old function (`struct klp_ops`, whose ftrace_ops its
/// [`KlpOpsGroup`] holds). The function is patched while the stack is not empty.
#[repr(C)]
pub(crate) struct KlpOps {
    /// The funcs for the old function, newest first: the active func is on top.
    func_stack: bindings::list_head,
    /// Whether the function is in the filter of its group's ftrace_ops.
    traced: bool,
    /// Whether the function's ftrace location calls the direct trampoline (`direct.rs`).
    direct: bool,
    /// Whether the log said that another direct user keeps the function on the handler.
    shared: bool,
    /// The jump of a function without an ftrace location (`jump.rs`); boxed, so that the
    /// klp_ops of the ftrace functions stay small.
    jump: Option<KBox<KlpJump>>,
}

/// One registered ftrace_ops and the klp_ops of the old functions it traces.
#[repr(C)]
struct KlpOpsGroup {
    /// The group's ftrace_ops, `None` for a group of jumps, which ftrace never sees. It is the
    /// first field, so that it is dropped first: its drop waits for the handlers that may
    /// still read the group.
    fops: Option<KlpFops>,
    /// Node in the list of all groups.
    node: bindings::list_head,
    /// The ftrace locations of the functions, ascending; never changed after registration.
    ips: KVVec<c_ulong>,
    /// The functions' addresses, `olds[i]` at `ips[i]`, so ascending too; never changed.
    olds: KVVec<usize>,
    /// The klp_ops of `ips[i]` is `ops[i]`; the vector is never resized, so entries stay put.
    ops: KVVec<KlpOps>,
    /// Whether `fops` is registered: it is not while all its functions are direct.
    registered: bool,
}

/// An empty list head, to be initialised where it will stay.
const UNLINKED: bindings::list_head = bindings::list_head {
    next: null_mut(),
    prev: null_mut(),
};

/// All groups, changed under `klp_mutex` with RCU list primitives: the handler walks it for a
/// late call (`klp_find_ops_late()`), and a group is freed after `klp_synchronize_handlers()`.
static KLP_GROUPS: Static<bindings::list_head> = Static::new(bindings::list_head {
    next: addr_of!(KLP_GROUPS) as *mut bindings::list_head,
    prev: addr_of!(KLP_GROUPS) as *mut bindings::list_head,
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

/// The index of `key` in the ascending `keys`: a binary search without a path to a panic (no
/// overflow check, no bounds check), for the handler.
#[inline(always)]
fn klp_search<T: Ord>(keys: &[T], key: &T) -> Option<usize> {
    let (mut low, mut high) = (0usize, keys.len());
    while low < high {
        let mid = low.wrapping_add(high.wrapping_sub(low) / 2);
        match keys.get(mid)?.cmp(key) {
            core::cmp::Ordering::Less => low = mid.wrapping_add(1),
            core::cmp::Ordering::Greater => high = mid,
            core::cmp::Ordering::Equal => return Some(mid),
        }
    }
    None
}

impl KlpOpsGroup {
    /// The group's ftrace_ops; null for a group of jumps, whose functions are never traced.
    ///
    /// # Safety
    ///
    /// `group` is live.
    unsafe fn fops(group: *mut Self) -> *mut bindings::ftrace_ops {
        // SAFETY: The function's safety requirement.
        unsafe { (*group).fops.as_ref().map_or(null_mut(), KlpFops::as_ptr) }
    }

    /// The klp_ops of the function at `ip`, if the group has it.
    ///
    /// # Safety
    ///
    /// `group` is live.
    #[inline(always)]
    unsafe fn find(group: *mut Self, ip: c_ulong) -> Option<*mut KlpOps> {
        // SAFETY: `group` is live (the function's safety requirement); `ips` is never changed
        // while it is, and `ops` has an entry for each of `ips`.
        unsafe {
            let i = klp_search(&(*group).ips, &ip)?;
            Some((*group).ops.as_ptr().add(i).cast_mut())
        }
    }
}

/// The registered groups.
///
/// # Safety
///
/// The caller holds `klp_mutex`, or a transition runs (which keeps the groups unchanged), for
/// the whole walk, during which only the current group may be unlinked.
unsafe fn klp_groups() -> Entries<KlpOpsGroup> {
    // SAFETY: `KLP_GROUPS` is a list of `KlpOpsGroup`s linked by `node`, unchanged but for the
    // current group during the walk (the function's safety requirement).
    unsafe { Entries::new(KLP_GROUPS.get(), core::mem::offset_of!(KlpOpsGroup, node)) }
}

/// The klp_ops of the function at the ftrace location `ip` in any group, for a call that
/// entered the trampoline of a slot before it served its current group (`fops.rs`).
///
/// # Safety
///
/// Called by the handler, with preemption disabled: a group is unlinked with
/// `list_del_rcu()` and freed after `klp_synchronize_handlers()`, so the walk reads live groups
/// as an RCU reader does.
#[cold]
unsafe fn klp_find_ops_late(ip: c_ulong) -> Option<*mut KlpOps> {
    let head = KLP_GROUPS.get();
    // SAFETY: The list is changed with RCU primitives and its groups are live while
    // preemption is disabled (the function's safety requirement).
    unsafe {
        let mut node = addr_of!((*head).next).read_volatile();
        while node != head {
            let group = kernel::container_of!(node, KlpOpsGroup, node).cast_mut();
            if let Some(ops) = KlpOpsGroup::find(group, ip) {
                return Some(ops);
            }
            node = addr_of!((*node).next).read_volatile();
        }
    }
    None
}

/// The klp_ops of the old function `old_func`, if it is patched: a binary search in each
/// group. With `klp_mutex` held, the groups are unchanged; in a transition without it (the
/// `cond_resched()` path, preemption disabled), a group a coming module adds is linked with RCU
/// and a group is freed only after `klp_synchronize_handlers()`.
pub(crate) fn klp_find_ops(_fixed: &KlpListsFixed, old_func: *mut c_void) -> Option<*mut KlpOps> {
    // SAFETY: The groups are unchanged during the walk (the caller's requirement); `olds` is
    // never changed and `ops` has an entry for each.
    unsafe {
        klp_groups().find_map(|group| {
            let i = klp_search(&(*group).olds, &(old_func as usize))?;
            let ops = (*group).ops.as_ptr().add(i).cast_mut();
            (!list_empty(KlpOps::func_stack(ops))).then_some(ops)
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
/// the variant of `synchronize_rcu()` of `klp_synchronize_handlers()` relies on.
///
/// # Safety
///
/// ftrace calls it at the entry of a function that `fops`, the [`KlpFops`] of a
/// [`KlpOpsGroup`], traces or traced, with the function's ftrace location `ip`, its caller's
/// `parent_ip` and the registers `fregs` of the call.
unsafe extern "C" fn klp_ftrace_handler(
    ip: c_ulong,
    parent_ip: c_ulong,
    fops: *mut bindings::ftrace_ops,
    fregs: *mut bindings::ftrace_regs,
) {
    // SAFETY: Called from ftrace with the traced function's addresses.
    let Some(_recursion) = (unsafe { RecursionGuard::try_lock(ip, parent_ip) }) else {
        warn_on_once(true);
        return;
    };

    // SAFETY: `fops` is a `KlpFops`'s, and preemption stays disabled (the recursion lock)
    // until the group is no longer used.
    let group = unsafe { KlpFops::group_of(fops) }.cast::<KlpOpsGroup>();
    // SAFETY: The group is live until its `KlpFops` is dropped, which waits for this handler.
    // A call that entered the trampoline of a slot before the slot served its group (or while
    // it served none) may not find its function there, but in another group, or nowhere: then
    // the original runs.
    let found = unsafe { (!group.is_null()).then(|| KlpOpsGroup::find(group, ip)) };
    // SAFETY: Preemption is disabled.
    let Some(ops) = found.flatten().or_else(|| unsafe { klp_find_ops_late(ip) }) else {
        return;
    };

    // SAFETY: `ops` is live while its group is. The func_stack is changed with RCU list
    // primitives, and a func leaves it at least one klp_synchronize_handlers() before it is
    // freed, so the entries read here stay valid while preemption is disabled.
    let target = unsafe {
        let head = KlpOps::func_stack(ops);
        let first = addr_of!((*head).next).read_volatile();
        // The last func of a function is removed before the function leaves the filter
        // (klp_release_ops()): meanwhile the original function runs.
        if first == head {
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

/// The ftrace flags of klp_ops: the handler modifies the instruction pointer. Unlike the C
/// core's, they are not `FTRACE_OPS_FL_DYNAMIC`: the ops are static (`fops.rs`).
const KLP_FTRACE_FLAGS: c_ulong = (bindings::FTRACE_OPS_FL_IPMODIFY
    | bindings::FTRACE_OPS_FL_PERMANENT) as c_ulong
    | if cfg!(CONFIG_HAVE_DYNAMIC_FTRACE_WITH_ARGS) {
        0
    } else {
        bindings::FTRACE_OPS_FL_SAVE_REGS as c_ulong
    };

/// Removes `func` from its func_stack; the function leaves its group in
/// [`klp_release_ops`], which every caller runs afterwards.
fn klp_unpatch_func(guard: &KlpLocked, func: Func) {
    if warn_on(!func.patched()) || warn_on(func.old_func().is_null()) {
        return;
    }
    if warn_on(klp_find_ops(guard, func.old_func()).is_none()) {
        return;
    }
    // SAFETY: `func` is on the stack of a live klp_ops, under `klp_mutex`. A handler that
    // still reads the func is done before the patch is freed (klp_synchronize_handlers()).
    unsafe { bindings::list_del_rcu(func.stack_node()) };
    func.set_patched(guard, false);
}

/// Gives the functions without funcs back to ftrace: a group none of whose functions has a
/// func left is unregistered and freed; from the others, those functions leave the filter. A
/// jump still written for a function without funcs (one of a module going away) is taken back
/// first, unchecked: no task can be running it.
fn klp_release_ops(guard: &KlpLocked) {
    warn_on(klp_jump_collect(guard, None, false).is_err());
    // SAFETY: The groups and their klp_ops are changed under `klp_mutex`, which the proof
    // shows held. Dropping a group's `KlpFops` unregisters it and waits for every handler that
    // may still read the group, before the rest of the group is freed; a function taken out of
    // a filter that stays registered gets no new calls, and its klp_ops is freed with the group.
    unsafe {
        for group in klp_groups() {
            let fops = KlpOpsGroup::fops(group);
            let ops = (*group).ops.as_mut_ptr();
            let len = (*group).ops.len();
            warn_on((0..len).any(|i| (*ops.add(i)).direct));
            if (0..len).all(|i| list_empty(KlpOps::func_stack(ops.add(i)))) {
                warn_on((0..len).any(|i| (*ops.add(i)).jump.as_ref().is_some_and(|j| j.to() != 0)));
                bindings::list_del_rcu(addr_of_mut!((*group).node));
                drop(KBox::from_raw(group));
                continue;
            }
            for i in 0..len {
                let entry = ops.add(i);
                if (*entry).traced && list_empty(KlpOps::func_stack(entry)) {
                    let ip = (*group).ips[i];
                    warn_on(bindings::ftrace_set_filter_ip(fops, ip, 1, 0) != 0);
                    (*entry).traced = false;
                }
            }
        }
    }
}

/// Registers one ftrace_ops for the old functions of `firsts` (their distinct ftrace
/// locations, ascending with the functions' addresses, and a func of each, none of them
/// patched yet), each with a new klp_ops whose func_stack holds that func. With `name_it`, a
/// failure is logged with the name of `firsts[0]`'s function, as the C core does for its one
/// function per ftrace_ops. With `jump`, the functions have no ftrace location (their addresses
/// stand for it) and get a [`KlpJump`] each instead, in a group that ftrace never sees.
fn klp_register_ops(
    guard: &KlpLocked,
    firsts: &[(c_ulong, Func)],
    name_it: bool,
    jump: bool,
) -> Result {
    // One check of the span of the functions for other patchers, rather than one each.
    let clean = jump
        && matches!((firsts.first(), firsts.last()), (Some(&(_, a)), Some(&(_, b))) if klp_jump_span_clean(a, b));
    let mut ips = KVVec::with_capacity(firsts.len(), GFP_KERNEL)?;
    let mut olds = KVVec::with_capacity(firsts.len(), GFP_KERNEL)?;
    let mut ops = KVVec::with_capacity(firsts.len(), GFP_KERNEL)?;
    for &(ip, func) in firsts {
        let old = func.old_func() as usize;
        // Both orders agree, as a function's ftrace location is inside it.
        if olds.last().is_some_and(|&last| last >= old) {
            return Err(EINVAL);
        }
        ips.push(ip, GFP_KERNEL)?;
        olds.push(old, GFP_KERNEL)?;
        let entry = KlpOps {
            func_stack: UNLINKED,
            traced: !jump,
            direct: false,
            shared: false,
            jump: match jump {
                true => Some(KBox::new(KlpJump::new(func, clean)?, GFP_KERNEL)?),
                false => None,
            },
        };
        ops.push(entry, GFP_KERNEL)?;
    }
    let fops = match jump {
        true => None,
        false => Some(KlpFops::new(Some(klp_ftrace_handler), KLP_FTRACE_FLAGS)?),
    };
    let group = KlpOpsGroup {
        fops,
        node: UNLINKED,
        ips,
        olds,
        ops,
        registered: !jump,
    };
    let group = KBox::into_raw(KBox::new(group, GFP_KERNEL)?);
    let failed = |what: &str, e: Error| {
        if let (true, Some((_, func))) = (name_it, firsts.first()) {
            let errno = e.to_errno();
            pr_err!(
                "failed to {what} for function '{}' ({errno})\n",
                func.name()
            );
        }
        e
    };
    // SAFETY: `group` is fresh and owned here until linked; its vectors are not resized, so
    // the list heads stay where they are initialised. Everything runs under `klp_mutex`.
    unsafe {
        if let Some(fops) = (*group).fops.as_mut() {
            fops.attach(group.cast());
        }
        let entries = (*group).ops.as_mut_ptr();
        for (i, &(_, func)) in firsts.iter().enumerate() {
            let ops = entries.add(i);
            bindings::INIT_LIST_HEAD(KlpOps::func_stack(ops));
            bindings::list_add_rcu(func.stack_node(), KlpOps::func_stack(ops));
        }
        bindings::list_add_rcu(addr_of_mut!((*group).node), KLP_GROUPS.get());
        if jump {
            for &(_, func) in firsts {
                func.set_patched(guard, true);
            }
            return Ok(());
        }

        let fops = KlpOpsGroup::fops(group);
        let (ips, count) = ((*group).ips.as_mut_ptr(), firsts.len() as core::ffi::c_uint);
        let result = to_result(bindings::ftrace_set_filter_ips(fops, ips, count, 0, 0))
            .map_err(|e| failed("set ftrace filter", e))
            .and_then(|()| {
                to_result(bindings::register_ftrace_function(fops))
                    .map_err(|e| failed("register ftrace handler", e))
            });
        if result.is_err() {
            for &(_, func) in firsts {
                bindings::list_del_rcu(func.stack_node());
            }
            bindings::list_del_rcu(addr_of_mut!((*group).node));
            drop(KBox::from_raw(group));
            return result;
        }
    }
    for &(_, func) in firsts {
        func.set_patched(guard, true);
    }
    Ok(())
}

/// Puts every func of `obj` on top of the func_stack of its old function. The functions
/// patched for the first time share one ftrace_ops; if that fails, because another IPMODIFY
/// user holds one of them, each is registered alone, which names the one that fails.
fn klp_patch_object_funcs(guard: &KlpLocked, obj: Object, jump: bool) -> Result {
    let (mut firsts, mut jumps) = (KVVec::new(), KVVec::new());
    for func in obj.funcs_list(guard) {
        if warn_on(func.old_func().is_null()) || warn_on(func.patched()) {
            return Err(EINVAL);
        }
        if klp_find_ops(guard, func.old_func()).is_none() {
            let old = func.old_func() as c_ulong;
            // SAFETY: Only an address is looked up.
            let ftrace_loc = unsafe { bindings::ftrace_location(old) };
            let (list, key) = match ftrace_loc {
                0 if jump => (&mut jumps, old),
                0 => {
                    pr_err!("failed to find location for function '{}'\n", func.name());
                    return Err(EINVAL);
                }
                ip => (&mut firsts, ip),
            };
            // Two funcs of one function (aliases): the second is stacked below.
            if !list.iter().any(|&(k, _)| k == key) {
                list.push((key, func), GFP_KERNEL)?;
            }
        }
    }
    if !jumps.is_empty() {
        jumps.sort_unstable_by_key(|&(old, _)| old);
        klp_register_ops(guard, &jumps, false, true)?;
    }
    let batched = firsts.len() > 1 && {
        firsts.sort_unstable_by_key(|&(ip, _)| ip);
        klp_register_ops(guard, &firsts, false, false).is_ok()
    };
    if !batched {
        // In the object's order, as on C, so that the first function that fails is named.
        for func in obj.funcs_list(guard) {
            if klp_find_ops(guard, func.old_func()).is_none() {
                // SAFETY: Only an address is looked up (found above).
                let ftrace_loc = unsafe { bindings::ftrace_location(func.old_func() as c_ulong) };
                klp_register_ops(guard, &[(ftrace_loc, func)], true, false)?;
            }
        }
    }
    for func in obj.funcs_list(guard) {
        if func.patched() {
            continue;
        }
        let Some(ops) = klp_find_ops(guard, func.old_func()) else {
            warn_on(true);
            return Err(EINVAL);
        };
        // SAFETY: `ops` is live, `func` is on no stack; under `klp_mutex`.
        unsafe { bindings::list_add_rcu(func.stack_node(), KlpOps::func_stack(ops)) };
        func.set_patched(guard, true);
    }
    Ok(())
}

/// Unpatches the funcs of `obj`: all, or the nops only.
fn klp_unpatch_object_funcs(guard: &KlpLocked, obj: Object, nops_only: bool) {
    for func in obj.funcs_list(guard) {
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
    klp_release_ops(guard);
}

/// Patches every func of `obj`; on failure, the ones already patched are unpatched. With
/// `jump`, the functions without an ftrace location get a jump (written by
/// [`klp_jump_update`]).
pub(crate) fn klp_patch_object(guard: &KlpLocked, obj: Object, jump: bool) -> Result {
    if warn_on(obj.patched()) {
        return Err(EINVAL);
    }
    if let Err(e) = klp_patch_object_funcs(guard, obj, jump) {
        klp_unpatch_object(guard, obj);
        return Err(e);
    }
    obj.set_patched(guard, true);
    Ok(())
}

/// Unpatches the patched objects of `patch`: all funcs, or the nops only.
pub(crate) fn klp_unpatch_objects(guard: &KlpLocked, patch: Patch, nops_only: bool) {
    for obj in patch.objects(guard) {
        if obj.patched() {
            klp_unpatch_object_funcs(guard, obj, nops_only);
        }
    }
    klp_release_ops(guard);
}

/// Writes the jumps of the functions without an ftrace location where their func_stacks say,
/// as a task in the state `target` of the running transition would run them (`None`: no
/// transition), the funcs of `leaving` already unpatched. With `check`, the switch waits until
/// no task runs a function it changes (`jump.rs`), `-EBUSY` if that does not happen; without,
/// for the functions of a module that nothing runs yet.
pub(crate) fn klp_jump_update(
    guard: &KlpLocked,
    target: Option<KlpTransitionState>,
    leaving: Option<Patch>,
    check: bool,
) -> Result {
    let owned = |func: Func| {
        leaving.is_some_and(|p| {
            p.objects(guard)
                .any(|o| o.funcs_list(guard).any(|f| f == func))
        })
    };
    klp_jump_collect(
        guard,
        Some(&|top: Func, next: Option<Func>| {
            let left = owned(top);
            let stack = StackTop {
                transition: top.transition() || left,
                nop: top.nop(),
            };
            let state = if left {
                Some(KlpTransitionState::Unpatched)
            } else {
                target
            };
            match klp_select_func(stack, state, || next.map(|f| f.nop())) {
                Selected::Top => Some(top.new_func() as usize),
                Selected::Next => next.map(|f| f.new_func() as usize),
                Selected::Original => None,
            }
        }),
        check,
    )
}

/// Switches every jump whose target changes: an empty func_stack's to the function's own
/// code, and with `choose`, another's to what it returns for its top func and the one below
/// (`None`: the function's own code). With `check`, no task may run the old function or a
/// func of the stack meanwhile.
fn klp_jump_collect(
    guard: &KlpLocked,
    choose: Option<&dyn Fn(Func, Option<Func>) -> Option<usize>>,
    check: bool,
) -> Result {
    let (mut changes, mut ranges) = (KVVec::new(), KVVec::new());
    // SAFETY: The groups, their klp_ops and func_stacks are changed under `klp_mutex`, which
    // the token shows held; the jumps are changed only by the switch below.
    unsafe {
        for group in klp_groups() {
            for i in 0..(*group).ops.len() {
                let entry = (*group).ops.as_mut_ptr().add(i);
                let Some(jump) = (*entry).jump.as_mut() else {
                    continue;
                };
                let head = KlpOps::func_stack(entry);
                let top = (!list_empty(head)).then(|| Func::from_stack_node((*head).next));
                let to = match (top, choose) {
                    (None, _) => 0,
                    (Some(top), Some(choose)) => {
                        choose(top, KlpOps::next_func(entry, top)).unwrap_or(0)
                    }
                    (Some(_), None) => continue,
                };
                if to == jump.to() {
                    continue;
                }
                let Some(change) = KlpJumpChange::new(jump, to) else {
                    let name = top.map_or(kernel::c_str!("?"), |f| f.name());
                    pr_err!("cannot patch function '{name}' with a jump: it is out of reach\n");
                    return Err(ERANGE);
                };
                if let Err(e) = changes.push(change, GFP_KERNEL) {
                    if check {
                        return Err(e.into());
                    }
                    // Unchecked, the jump can be switched alone: taking back the jumps of a
                    // going module must not depend on an allocation.
                    if let Some(change) = KlpJumpChange::new(jump, to) {
                        klp_jump_switch(guard, &[change], &[])?;
                    }
                    continue;
                }
                let Some(top) = top.filter(|_| check) else {
                    continue;
                };
                let (start, end) = jump.old_range();
                ranges.push(
                    KlpJumpRange {
                        start,
                        end,
                        func: top,
                    },
                    GFP_KERNEL,
                )?;
                let mut func = Some(top);
                while let Some(f) = func {
                    let start = f.new_func() as usize;
                    let end = start + f.new_size() as usize;
                    ranges.push(
                        KlpJumpRange {
                            start,
                            end,
                            func: f,
                        },
                        GFP_KERNEL,
                    )?;
                    func = KlpOps::next_func(entry, f);
                }
            }
        }
    }
    if changes.is_empty() {
        return Ok(());
    }
    klp_jump_switch(guard, &changes, &ranges)
}

/// Moves the settled patched functions to direct calls (`direct.rs`), once a transition is
/// complete or a module's objects are patched: each function with a func on its stack that is
/// in no transition and not a nop, and that no other direct user has. A group all of whose
/// functions go direct is unregistered; from the others, they leave the filter. Does nothing
/// when some functions are direct already, or on error: the functions then stay on the
/// handler, which is always correct. The caller makes sure that no transition runs.
#[cfg(CONFIG_LIVEPATCH_DIRECT)]
pub(crate) fn klp_direct_enter(guard: &KlpLocked) {
    use crate::direct::{klp_direct_active, klp_direct_register, klp_direct_taken};
    if klp_direct_active(guard) {
        return;
    }
    let mut entries = KVVec::new();
    let mut collected = Ok(());
    // SAFETY: The groups, their klp_ops and func_stacks are changed under `klp_mutex`, which
    // the token shows held, and no transition runs.
    unsafe {
        for group in klp_groups() {
            if !(*group).registered {
                continue;
            }
            for (i, &ip) in (*group).ips.iter().enumerate() {
                let entry = (*group).ops.as_mut_ptr().add(i);
                let head = KlpOps::func_stack(entry);
                if !(*entry).traced || list_empty(head) {
                    continue;
                }
                let top = Func::from_stack_node((*head).next);
                if klp_direct_taken(guard, ip) {
                    if !(*entry).shared {
                        let name = top.name();
                        pr_info!("function '{name}' has another direct ftrace user: it stays on the handler\n");
                        (*entry).shared = true;
                    }
                    continue;
                }
                if top.transition() || top.nop() || collected.is_err() {
                    continue;
                }
                collected = entries.push((ip, top.new_func() as c_ulong), GFP_KERNEL);
                (*entry).direct = collected.is_ok();
            }
        }
    }
    if collected.is_ok() && entries.is_empty() {
        return;
    }
    // On error, the loop below takes the marks back.
    let registered = collected
        .map_err(Error::from)
        .and_then(|()| klp_direct_register(guard, &entries));
    // SAFETY: As above; a group leaves ftrace only once its direct functions call the
    // trampoline, which follows the handler's choice meanwhile.
    unsafe {
        for group in klp_groups() {
            let fops = KlpOpsGroup::fops(group);
            let ops = (*group).ops.as_mut_ptr();
            let len = (*group).ops.len();
            if registered.is_err() {
                (0..len).for_each(|i| (*ops.add(i)).direct = false);
                continue;
            }
            let direct = |i: usize| (*ops.add(i)).direct;
            if !(0..len).any(direct) {
                continue;
            }
            if (0..len).all(|i| direct(i) || !(*ops.add(i)).traced) {
                if bindings::unregister_ftrace_function(fops) == 0 {
                    (*group).registered = false;
                    (0..len).for_each(|i| (*ops.add(i)).traced = false);
                }
                continue;
            }
            for i in (0..len).filter(|&i| direct(i)) {
                let ip = (*group).ips[i];
                if bindings::ftrace_set_filter_ip(fops, ip, 1, 0) == 0 {
                    (*ops.add(i)).traced = false;
                }
            }
        }
    }
}

/// Gives every direct function back to the handler, before a transition or a change of a
/// func_stack: the group of each is registered again, or its filter takes it back, before the
/// direct calls end. On error the direct calls stay, and so does what the handler got back.
#[cfg(CONFIG_LIVEPATCH_DIRECT)]
pub(crate) fn klp_direct_leave(guard: &KlpLocked) -> Result {
    use crate::direct::{klp_direct_active, klp_direct_restoring, klp_direct_unregister};
    if !klp_direct_active(guard) {
        return Ok(());
    }
    // SAFETY: The groups and their klp_ops are changed under `klp_mutex`, which the token
    // shows held. A registered group's filter takes the functions back before they leave the
    // direct ops, so that a call always finds one of them.
    unsafe {
        for group in klp_groups() {
            let fops = KlpOpsGroup::fops(group);
            let ops = (*group).ops.as_mut_ptr();
            let mut back = KVVec::new();
            for (i, &ip) in (*group).ips.iter().enumerate() {
                if (*ops.add(i)).direct && !(*ops.add(i)).traced {
                    back.push(ip, GFP_KERNEL)?;
                }
            }
            if back.is_empty() {
                continue;
            }
            let count = back.len() as core::ffi::c_uint;
            let reset = !(*group).registered as core::ffi::c_int;
            to_result(bindings::ftrace_set_filter_ips(
                fops,
                back.as_mut_ptr(),
                count,
                0,
                reset,
            ))?;
            if !(*group).registered {
                let register = || bindings::register_ftrace_function(fops);
                to_result(klp_direct_restoring(guard, register))?;
                (*group).registered = true;
            }
            for i in 0..(*group).ops.len() {
                let entry = ops.add(i);
                (*entry).traced |= (*entry).direct;
            }
        }
        klp_direct_unregister(guard);
        for group in klp_groups() {
            let ops = (*group).ops.as_mut_ptr();
            (0..(*group).ops.len()).for_each(|i| (*ops.add(i)).direct = false);
        }
    }
    Ok(())
}

/// Without direct calls, every patched function stays on the handler.
#[cfg(not(CONFIG_LIVEPATCH_DIRECT))]
pub(crate) fn klp_direct_enter(_guard: &KlpLocked) {}

/// Without direct calls, there is nothing to give back.
#[cfg(not(CONFIG_LIVEPATCH_DIRECT))]
pub(crate) fn klp_direct_leave(_guard: &KlpLocked) -> Result {
    Ok(())
}
