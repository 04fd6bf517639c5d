// SPDX-License-Identifier: GPL-2.0-or-later

//! The ftrace_ops of the handler's groups (`patch.rs`), and the wait for the handlers that may
//! still run.
//!
//! ftrace treats an ftrace_ops that is not kernel core data as one that may be freed with its
//! trampoline (`FTRACE_OPS_FL_DYNAMIC`): unregistering it waits for an RCU-tasks-rude and an
//! RCU-tasks grace period, tens of milliseconds each, for the tasks that may still be in the
//! trampoline. The C core allocates its ftrace_ops, and every function it unpatches pays these
//! waits. This core takes its ftrace_ops from a static pool instead: ftrace never frees the
//! trampoline of such an ops (a later registration reuses it), so unregistering one waits for
//! nothing, and the trampoline calls the handler without `ftrace_ops_assist_func()`, whose
//! recursion protection the handler has itself.
//!
//! What may still run after an unregistration is a handler, with preemption disabled by its
//! recursion lock, and a task preempted in the trampoline before it calls the handler. The
//! handler finds its group through the ops' `private` ([`KlpFops::group_of`]), which is cleared
//! when the group is freed; [`klp_synchronize_handlers`] then waits for every handler that may
//! have read it, before the group is freed and the slot can serve another group. A late call
//! that reaches the handler through a reused slot may not find its function in that group:
//! the handler then looks for it in every group (`patch.rs`), and runs what a new call would.
//! When every slot is taken, an allocated ftrace_ops takes the C core's way.

use crate::statics::Static;
use crate::warn_on;
use core::ptr::{addr_of, addr_of_mut, null_mut};
use core::sync::atomic::{AtomicBool, Ordering};
use kernel::alloc::{flags::GFP_KERNEL, KBox};
use kernel::bindings;
use kernel::error::Result;
use kernel::ffi::{c_ulong, c_void};
use kernel::types::Opaque;

/// How many ftrace_ops the pool holds: one for each group at a time (the ftrace functions of a
/// patched object, or a function registered alone), 216 bytes each on x86-64.
const SLOTS: usize = 32;

/// The pool, in `.bss`, which ftrace counts as kernel core data.
// SAFETY: All-zero bytes are a valid `ftrace_ops` (pointers, integers and locks that ftrace
// initialises on first use), as for a C static without an initialiser.
static POOL: Static<[bindings::ftrace_ops; SLOTS]> = unsafe { Static::zeroed() };

/// Which slots of [`POOL`] a [`KlpFops`] holds.
static TAKEN: [AtomicBool; SLOTS] = [const { AtomicBool::new(false) }; SLOTS];

/// Where the ftrace_ops of a [`KlpFops`] lives.
enum Home {
    /// The slot of [`POOL`] with this index, taken in [`TAKEN`].
    Slot(usize),
    /// An allocation, when the pool is exhausted.
    Heap(KBox<Opaque<bindings::ftrace_ops>>),
}

/// The ftrace_ops of one group of the handler.
///
/// Dropping it unregisters the ops if it is registered, clears its `private`, frees its filter
/// and waits for the handlers that may still read the group it pointed to; only then does the
/// slot serve again.
pub(crate) struct KlpFops(Home);

impl KlpFops {
    /// An ftrace_ops calling `func` with `flags`, its `private` not set yet: a free slot, or an
    /// allocated ops if every slot is taken.
    pub(crate) fn new(func: bindings::ftrace_func_t, flags: c_ulong) -> Result<Self> {
        let slot = TAKEN.iter().position(|taken| {
            taken
                .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
        });
        let this = match slot {
            Some(i) => Self(Home::Slot(i)),
            None => {
                // SAFETY: All-zero bytes are a valid `ftrace_ops`, which C gets from
                // `kzalloc()`.
                let ops = Opaque::new(unsafe { core::mem::zeroed() });
                Self(Home::Heap(KBox::new(ops, GFP_KERNEL)?))
            }
        };
        let ops = this.as_ptr();
        // SAFETY: `ops` is this object's, not registered. The flags that ftrace set on an
        // earlier use of the slot (its trampoline, the initialised hashes) stay.
        unsafe {
            (*ops).func = func;
            (*ops).flags |= flags;
            (*ops).private = null_mut();
        }
        Ok(this)
    }

    /// The ftrace_ops, for ftrace's functions.
    pub(crate) fn as_ptr(&self) -> *mut bindings::ftrace_ops {
        match &self.0 {
            // SAFETY: The index is in the pool.
            Home::Slot(i) => unsafe { POOL.get().cast::<bindings::ftrace_ops>().add(*i) },
            Home::Heap(heap) => heap.get(),
        }
    }

    /// Makes the handler find `group` through the ops.
    pub(crate) fn attach(&mut self, group: *mut c_void) {
        // SAFETY: The ops is this object's; the handler reads `private` with a volatile load.
        unsafe { addr_of_mut!((*self.as_ptr()).private).write_volatile(group) };
    }

    /// The group that the handler called with `ops` serves: null if it was freed.
    ///
    /// # Safety
    ///
    /// `ops` is the ftrace_ops that ftrace passed to the handler of a [`KlpFops`], and the
    /// caller runs with preemption disabled until it no longer uses the group, which
    /// [`klp_synchronize_handlers`] then waits for.
    #[inline(always)]
    pub(crate) unsafe fn group_of(ops: *mut bindings::ftrace_ops) -> *mut c_void {
        // SAFETY: `ops` is in the pool, which lives forever, or an allocated one, which ftrace
        // unregisters with RCU-tasks waits before it is freed (the function's requirement).
        unsafe { addr_of!((*ops).private).read_volatile() }
    }
}

impl Drop for KlpFops {
    fn drop(&mut self) {
        let ops = self.as_ptr();
        // SAFETY: The ops is this object's. Once it is unregistered no new call reaches the
        // handler through it, and once `private` is cleared a late one finds no group; the wait
        // then covers the handlers that found it.
        unsafe {
            if (*ops).flags & bindings::FTRACE_OPS_FL_ENABLED as c_ulong != 0 {
                warn_on(bindings::unregister_ftrace_function(ops) != 0);
            }
            addr_of_mut!((*ops).private).write_volatile(null_mut());
            bindings::ftrace_free_filter(ops);
            // `ftrace_free_filter()` leaves the freed hashes in place; an ops that has none is
            // what a static one starts as, for the next use of the slot.
            let hashes = (*ops).func_hash;
            (*hashes).filter_hash = null_mut();
            (*hashes).notrace_hash = null_mut();
        }
        klp_synchronize_handlers();
        if let Home::Slot(i) = self.0 {
            TAKEN[i].store(false, Ordering::Release);
        }
    }
}

/// Does nothing: [`klp_synchronize_handlers`] only waits until it ran on every CPU.
extern "C" fn klp_sync(_work: *mut bindings::work_struct) {}

/// A hard `synchronize_rcu()` that also synchronises tasks in userspace and idle
/// (`klp_synchronize_transition()` of `transition.c`): functions where RCU is not watching may
/// be patched, so the handlers, which run with preemption disabled, are waited for by
/// scheduling on every CPU instead.
pub(crate) fn klp_synchronize_handlers() {
    // SAFETY: `klp_sync` is a valid work function; sleeping is allowed here.
    unsafe { bindings::schedule_on_each_cpu(Some(klp_sync)) };
}
