// SPDX-License-Identifier: GPL-2.0-or-later

//! Direct calls to settled new functions (`CONFIG_LIVEPATCH_DIRECT`): the table that the
//! trampoline of `direct_tramp_64.S` reads, and the ftrace direct ops that makes the ftrace
//! locations call it.
//!
//! While no transition runs, a patched function's new function is fixed: the func at the top
//! of its func_stack. Its calls then need no handler: its ftrace location can call
//! `klp_direct_tramp`, which jumps to the new function, instead of ftrace's trampoline, which
//! saves the registers and calls the handler. [`crate::patch`] decides which functions go
//! direct and gives them back to the handler before the next transition; this file only holds
//! the mechanism: one static direct ftrace_ops, [`klp_direct_register`] for a set of functions
//! and [`klp_direct_unregister`] for all of them.
//!
//! The ops is static, so that ftrace does not wait for RCU-tasks grace periods when it is
//! unregistered (it is not a dynamic ops), and permanent, so that `ftrace_enabled` cannot be
//! turned off under a patch, as with the handler's ops. A table replaced while tasks may be in
//! the trampoline is freed after an RCU-tasks grace period: a task preempted in the trampoline
//! holds that grace period off.

use crate::statics::Static;
use crate::{warn_on, KlpLocked};
use core::sync::atomic::{AtomicBool, AtomicPtr, Ordering};
use kernel::alloc::{flags::GFP_KERNEL, KVec};
use kernel::bindings;
use kernel::error::{code::*, to_result, Result};
use kernel::ffi::{c_int, c_ulong};

extern "C" {
    /// The trampoline (`direct_tramp_64.S`); never called from Rust.
    fn klp_direct_tramp();
}

/// Words of the table before its slots: the mask, the number of words, an `rcu_head`.
const HEADER: usize = 4;
/// Where the `rcu_head` of a table is.
const RCU_HEAD: usize = 2;

/// The table with no entries, which the trampoline reads while no function is direct.
static EMPTY: Static<[c_ulong; HEADER + 2]> = Static::new([0; HEADER + 2]);

/// The published table (`direct_tramp_64.S` has its layout): written under `klp_mutex`, read
/// by the trampoline.
#[no_mangle]
#[allow(non_upper_case_globals)]
static klp_direct_table: AtomicPtr<c_ulong> = AtomicPtr::new(EMPTY.get().cast());

/// The direct ops of every direct function.
// SAFETY: All-zero bytes are a valid `ftrace_ops`, as for a C static without an initialiser.
static DIRECT_OPS: Static<bindings::ftrace_ops> = unsafe { Static::zeroed() };

/// Whether the livepatch handler's ops is being registered again on direct functions
/// ([`klp_direct_restoring`]).
static RESTORING: AtomicBool = AtomicBool::new(false);

/// Whether [`DIRECT_OPS`] is registered; changed under `klp_mutex`.
static REGISTERED: AtomicBool = AtomicBool::new(false);

/// Whether some functions are direct (`klp_mutex` held, as the token proves).
pub(crate) fn klp_direct_active(_guard: &KlpLocked) -> bool {
    REGISTERED.load(Ordering::Relaxed)
}

/// Whether another ftrace direct user (a BPF trampoline, for instance) has the function at
/// `ip`, which then stays on the handler.
pub(crate) fn klp_direct_taken(_guard: &KlpLocked, ip: c_ulong) -> bool {
    // SAFETY: Only a lookup, under RCU-sched inside.
    unsafe { bindings::ftrace_find_rec_direct(ip) != 0 }
}

/// Answers ftrace's questions on sharing a function with an IPMODIFY ops: with the
/// livepatch handler's own ops, yes (the trampoline then follows the handler's choice); with
/// anyone else's, no, as the C core's ops refuses a second IPMODIFY user. The handler's ops
/// is told apart by [`klp_direct_restoring`].
///
/// # Safety
///
/// Called by ftrace for [`DIRECT_OPS`].
unsafe extern "C" fn klp_direct_ops_func(
    _ops: *mut bindings::ftrace_ops,
    cmd: bindings::ftrace_ops_cmd,
) -> c_int {
    match cmd {
        bindings::ftrace_ops_cmd_FTRACE_OPS_CMD_ENABLE_SHARE_IPMODIFY_PEER
            if !RESTORING.load(Ordering::Relaxed) =>
        {
            EBUSY.to_errno()
        }
        _ => 0,
    }
}

/// Runs `f`, which registers the livepatch handler's ops on direct functions: ftrace asks
/// [`DIRECT_OPS`] whether it shares them, and the answer is yes meanwhile.
pub(crate) fn klp_direct_restoring<R>(_guard: &KlpLocked, f: impl FnOnce() -> R) -> R {
    RESTORING.store(true, Ordering::Relaxed);
    let result = f();
    RESTORING.store(false, Ordering::Relaxed);
    result
}

/// Frees a table after its grace period.
///
/// # Safety
///
/// `head` is the `rcu_head` of a table made by [`table_new`], no longer published.
unsafe extern "C" fn table_free(head: *mut bindings::callback_head) {
    // SAFETY: The head is at word `RCU_HEAD` of a vector whose length and capacity are its
    // word 1 (the function's safety requirement).
    unsafe {
        let table = head.cast::<c_ulong>().sub(RCU_HEAD);
        let words = *table.add(1) as usize;
        drop(KVec::from_raw_parts(table, words, words));
    }
}

/// Publishes `table` and frees the one it replaces once no task can be in the trampoline with
/// it.
fn table_publish(_guard: &KlpLocked, table: *mut c_ulong) {
    let old = klp_direct_table.swap(table, Ordering::Release);
    if old != EMPTY.get().cast() {
        // SAFETY: `old` was made by `table_new` and is no longer reachable for new lookups.
        unsafe {
            let head = old.add(RCU_HEAD).cast::<bindings::callback_head>();
            bindings::call_rcu_tasks(head, Some(table_free));
        }
    }
}

/// A table of the `(ftrace location, target)` pairs, keyed by the location's return address
/// (`location + MCOUNT_INSN_SIZE`, never 0), locations distinct, at most half full.
fn table_new(entries: &[(c_ulong, c_ulong)]) -> Result<*mut c_ulong> {
    let slots = entries
        .len()
        .checked_mul(2)
        .and_then(usize::checked_next_power_of_two)
        .ok_or(ENOMEM)?;
    let mut table = KVec::with_capacity(HEADER + 2 * slots, GFP_KERNEL)?;
    let words = table.capacity();
    table.extend_with(words, 0, GFP_KERNEL)?;
    let mask = ((slots - 1) << 4) as c_ulong;
    table[0] = mask;
    table[1] = words as c_ulong;
    for &(ip, target) in entries {
        let key = ip + bindings::MCOUNT_INSN_SIZE as c_ulong;
        let mut offset = key & mask;
        loop {
            let slot = HEADER + (offset as usize >> 3);
            if table[slot] == 0 {
                table[slot] = key;
                table[slot + 1] = target;
                break;
            }
            offset = (offset + 16) & mask;
        }
    }
    Ok(table.into_raw_parts().0)
}

/// Makes the ftrace locations `entries[i].0` call the trampoline, which jumps to the new
/// function `entries[i].1`. The functions stay registered with the handler's ops too, which
/// ftrace calls first until they leave it. On error nothing changed.
pub(crate) fn klp_direct_register(guard: &KlpLocked, entries: &[(c_ulong, c_ulong)]) -> Result {
    if warn_on(klp_direct_active(guard)) || entries.is_empty() {
        return Err(EINVAL);
    }
    let mut ips = KVec::with_capacity(entries.len(), GFP_KERNEL)?;
    for &(ip, _) in entries {
        ips.push(ip, GFP_KERNEL)?;
    }
    let table = table_new(entries)?;
    table_publish(guard, table);
    let fops = DIRECT_OPS.get();
    // SAFETY: `DIRECT_OPS` is not registered (checked above) and is changed only under
    // `klp_mutex`; ftrace initialises it on first use and resets it on unregistration.
    let result = unsafe {
        (*fops).ops_func = Some(klp_direct_ops_func);
        to_result(bindings::ftrace_set_filter_ips(
            fops,
            ips.as_mut_ptr(),
            ips.len() as _,
            0,
            1,
        ))
        .and_then(|()| {
            to_result(bindings::register_ftrace_direct(
                fops,
                klp_direct_tramp as usize as c_ulong,
            ))
        })
    };
    if let Err(e) = result {
        // The filter stays, to be reset by the next registration: `ftrace_free_filter()` is for
        // an ops about to be freed (it leaves the hash pointers dangling).
        table_publish(guard, EMPTY.get().cast());
        return Err(e);
    }
    // SAFETY: Registered above, under `klp_mutex`: ftrace changes its flags only when it is
    // registered or unregistered, which only this file does. Permanent, as the handler's ops.
    unsafe {
        (*fops).flags |= bindings::FTRACE_OPS_FL_PERMANENT as c_ulong;
    }
    REGISTERED.store(true, Ordering::Relaxed);
    Ok(())
}

/// Gives every direct function back to whatever else ftrace calls for it, which for a patched
/// function must already be the handler's ops.
pub(crate) fn klp_direct_unregister(guard: &KlpLocked) {
    if !klp_direct_active(guard) {
        return;
    }
    let fops = DIRECT_OPS.get();
    // SAFETY: Registered (checked above), under `klp_mutex`. The permanent flag is cleared as
    // ftrace set the flags at registration.
    unsafe {
        (*fops).flags &= !(bindings::FTRACE_OPS_FL_PERMANENT as c_ulong);
        let addr = klp_direct_tramp as usize as c_ulong;
        // The filter stays, as after a failed registration.
        warn_on(bindings::unregister_ftrace_direct(fops, addr, false) != 0);
    }
    REGISTERED.store(false, Ordering::Relaxed);
    table_publish(guard, EMPTY.get().cast());
}
