// SPDX-License-Identifier: GPL-2.0-or-later

//! Shadow variables (`shadow.c`): data attached by a patch to an existing object, identified
//! by the object's address and an id.
//!
//! The variables live in a hash table keyed by the object's address. Lookups are lockless
//! under RCU; additions and removals hold `klp_shadow_lock` (a spinlock, with interrupts off,
//! as shadow variables may be used in any context), and freed variables wait for an RCU grace
//! period. Constructors and destructors run under the lock: they must not sleep.

use crate::statics::Static;
use crate::warn_on;
use core::ptr::{addr_of_mut, null_mut};
use kernel::bindings;
use kernel::ffi::{c_int, c_ulong, c_void};

/// log2 of the number of hash buckets.
const KLP_SHADOW_HASH_BITS: u32 = 12;

/// A shadow variable (`struct klp_shadow`): its node in the hash, and its data after it.
#[repr(C)]
struct KlpShadow {
    node: bindings::hlist_node,
    rcu_head: bindings::callback_head,
    obj: *mut c_void,
    id: c_ulong,
    data: [u64; 0],
}

// SAFETY: All-zero bucket heads are empty lists (`DEFINE_HASHTABLE()`).
static KLP_SHADOW_HASH: Static<[bindings::hlist_head; 1 << KLP_SHADOW_HASH_BITS]> =
    unsafe { Static::zeroed() };

extern "C" {
    /// Protects additions to and removals from the hash (`glue.c`).
    static mut klp_shadow_lock: bindings::spinlock_t;
}

/// `klp_shadow_lock`, held with interrupts off until dropped (`spin_lock_irqsave()`).
struct ShadowLockGuard(c_ulong);

impl ShadowLockGuard {
    /// Takes `klp_shadow_lock`.
    fn lock() -> Self {
        // SAFETY: `klp_shadow_lock` is a statically initialised spinlock (`glue.c`).
        Self(unsafe { bindings::spin_lock_irqsave(addr_of_mut!(klp_shadow_lock)) })
    }
}

impl Drop for ShadowLockGuard {
    fn drop(&mut self) {
        // SAFETY: This context took the lock in `lock()`; the flags are the ones it saved.
        unsafe { bindings::spin_unlock_irqrestore(addr_of_mut!(klp_shadow_lock), self.0) };
    }
}

/// The bucket of `obj` (`hash_min()` of the address, i.e. `hash_64()`).
fn klp_shadow_bucket(obj: *mut c_void) -> *mut bindings::hlist_head {
    const GOLDEN_RATIO_64: u64 = 0x61C8_8646_80B5_83EB;
    let hash = (obj as u64).wrapping_mul(GOLDEN_RATIO_64) >> (64 - KLP_SHADOW_HASH_BITS);
    // SAFETY: `hash` is below the number of buckets.
    unsafe {
        KLP_SHADOW_HASH
            .get()
            .cast::<bindings::hlist_head>()
            .add(hash as usize)
    }
}

/// The shadow variables of `obj`'s bucket (all of them may be other objects'), read as RCU
/// readers or under the lock do.
///
/// # Safety
///
/// The caller is in an RCU read-side section or holds `klp_shadow_lock`, for as long as it uses
/// the variables; only the current one may be removed during the walk (under the lock).
unsafe fn klp_shadow_walk(head: *mut bindings::hlist_head) -> impl Iterator<Item = *mut KlpShadow> {
    // SAFETY: The bucket is a valid hlist head.
    let mut node = unsafe { core::ptr::addr_of!((*head).first).read_volatile() };
    core::iter::from_fn(move || {
        if node.is_null() {
            return None;
        }
        let cur = node;
        // SAFETY: `cur` is a live node of the bucket (the function's safety requirement).
        node = unsafe { core::ptr::addr_of!((*cur).next).read_volatile() };
        // `node` is the first field of `KlpShadow`.
        Some(cur.cast::<KlpShadow>())
    })
}

/// Whether `shadow` is the variable `<obj, id>`.
///
/// # Safety
///
/// `shadow` is live.
unsafe fn klp_shadow_match(shadow: *mut KlpShadow, obj: *mut c_void, id: c_ulong) -> bool {
    // SAFETY: The function's safety requirement.
    unsafe { (*shadow).obj == obj && (*shadow).id == id }
}

/// The data of `shadow`.
///
/// # Safety
///
/// `shadow` is live.
unsafe fn klp_shadow_data(shadow: *mut KlpShadow) -> *mut c_void {
    // SAFETY: The function's safety requirement.
    unsafe { addr_of_mut!((*shadow).data).cast() }
}

/// The data of the shadow variable `<obj, id>`, or null.
///
/// # Safety
///
/// The returned data is valid until the variable is freed.
#[no_mangle]
pub unsafe extern "C" fn klp_shadow_get(obj: *mut c_void, id: c_ulong) -> *mut c_void {
    // SAFETY: The walk runs in an RCU read-side section.
    unsafe {
        bindings::rcu_read_lock();
        let data = klp_shadow_walk(klp_shadow_bucket(obj))
            .find(|&shadow| klp_shadow_match(shadow, obj, id))
            .map_or(null_mut(), |shadow| klp_shadow_data(shadow));
        bindings::rcu_read_unlock();
        data
    }
}

/// Adds the shadow variable `<obj, id>` unless it exists; see `klp_shadow_alloc()` and
/// `klp_shadow_get_or_alloc()`.
///
/// # Safety
///
/// `ctor`, if any, initialises `size` bytes of data without sleeping.
unsafe fn klp_shadow_get_or_alloc_inner(
    obj: *mut c_void,
    id: c_ulong,
    size: usize,
    gfp_flags: bindings::gfp_t,
    ctor: bindings::klp_shadow_ctor_t,
    ctor_data: *mut c_void,
    warn_on_exist: bool,
) -> *mut c_void {
    let exists = |data: *mut c_void| {
        if warn_on_exist {
            // SAFETY: The format takes a pointer (printed hashed) and an unsigned long.
            unsafe {
                bindings::__warn_printk(
                    c"Duplicate shadow variable <%p, %lx>\n".as_ptr().cast(),
                    obj,
                    id,
                )
            };
            warn_on(true);
            null_mut()
        } else {
            data
        }
    };
    // SAFETY: `klp_shadow_get()` only reads the hash, in its own RCU read-side section.
    let data = unsafe { klp_shadow_get(obj, id) };
    if !data.is_null() {
        return exists(data);
    }
    // Allocate a new shadow variable before taking the lock.
    let Some(total) = size.checked_add(core::mem::size_of::<KlpShadow>()) else {
        return null_mut();
    };
    // SAFETY: `krealloc()` of null allocates; `total` is the checked size of the variable.
    let new: *mut KlpShadow =
        unsafe { bindings::krealloc(null_mut(), total, gfp_flags | bindings::__GFP_ZERO) }.cast();
    if new.is_null() {
        return null_mut();
    }
    let guard = ShadowLockGuard::lock();
    // SAFETY: The hash is changed under `klp_shadow_lock`, held by `guard`; `new` is a fresh
    // allocation of `total` bytes, owned here until it is added to the hash.
    unsafe {
        // Look again under the lock: another CPU may have added it.
        let data = klp_shadow_get(obj, id);
        if !data.is_null() {
            drop(guard);
            bindings::kfree(new.cast());
            return exists(data);
        }
        (*new).obj = obj;
        (*new).id = id;
        if let Some(ctor) = ctor {
            let err: c_int = ctor(obj, klp_shadow_data(new), ctor_data);
            if err != 0 {
                drop(guard);
                bindings::kfree(new.cast());
                bindings::_printk(
                    c"\x013livepatch: Failed to construct shadow variable <%p, %lx> (%d)\n"
                        .as_ptr()
                        .cast(),
                    obj,
                    id,
                    err,
                );
                return null_mut();
            }
        }
        // No more failures: add it to the hash.
        bindings::hlist_add_head_rcu(addr_of_mut!((*new).node), klp_shadow_bucket(obj));
        klp_shadow_data(new)
    }
}

/// Allocates the shadow variable `<obj, id>` of `size` bytes, zeroed then initialised by
/// `ctor`; warns and returns null if it exists.
///
/// # Safety
///
/// See `klp_shadow_get_or_alloc_inner()`.
#[no_mangle]
pub unsafe extern "C" fn klp_shadow_alloc(
    obj: *mut c_void,
    id: c_ulong,
    size: usize,
    gfp_flags: bindings::gfp_t,
    ctor: bindings::klp_shadow_ctor_t,
    ctor_data: *mut c_void,
) -> *mut c_void {
    // SAFETY: The function's safety requirement.
    unsafe { klp_shadow_get_or_alloc_inner(obj, id, size, gfp_flags, ctor, ctor_data, true) }
}

/// The shadow variable `<obj, id>`, allocated as by `klp_shadow_alloc()` if it does not
/// exist.
///
/// # Safety
///
/// See `klp_shadow_get_or_alloc_inner()`.
#[no_mangle]
pub unsafe extern "C" fn klp_shadow_get_or_alloc(
    obj: *mut c_void,
    id: c_ulong,
    size: usize,
    gfp_flags: bindings::gfp_t,
    ctor: bindings::klp_shadow_ctor_t,
    ctor_data: *mut c_void,
) -> *mut c_void {
    // SAFETY: The function's safety requirement.
    unsafe { klp_shadow_get_or_alloc_inner(obj, id, size, gfp_flags, ctor, ctor_data, false) }
}

/// Removes `shadow` from the hash, calls `dtor` and frees it after a grace period.
///
/// # Safety
///
/// `klp_shadow_lock` is held and `shadow` is in the hash.
unsafe fn klp_shadow_free_struct(shadow: *mut KlpShadow, dtor: bindings::klp_shadow_dtor_t) {
    // SAFETY: The function's safety requirement; readers may still see it until the grace
    // period ends.
    unsafe {
        bindings::hlist_del_rcu(addr_of_mut!((*shadow).node));
        if let Some(dtor) = dtor {
            dtor((*shadow).obj, klp_shadow_data(shadow));
        }
        bindings::kvfree_call_rcu(addr_of_mut!((*shadow).rcu_head), shadow.cast());
    }
}

/// Frees the shadow variable `<obj, id>`, if it exists, calling `dtor` first.
///
/// # Safety
///
/// `dtor`, if any, does not sleep.
#[no_mangle]
pub unsafe extern "C" fn klp_shadow_free(
    obj: *mut c_void,
    id: c_ulong,
    dtor: bindings::klp_shadow_dtor_t,
) {
    let _guard = ShadowLockGuard::lock();
    // SAFETY: The hash is changed under `klp_shadow_lock`, held by the guard.
    unsafe {
        if let Some(shadow) =
            klp_shadow_walk(klp_shadow_bucket(obj)).find(|&s| klp_shadow_match(s, obj, id))
        {
            klp_shadow_free_struct(shadow, dtor);
        }
    }
}

/// Frees every shadow variable of id `id`, calling `dtor` first.
///
/// # Safety
///
/// `dtor`, if any, does not sleep.
#[no_mangle]
pub unsafe extern "C" fn klp_shadow_free_all(id: c_ulong, dtor: bindings::klp_shadow_dtor_t) {
    let _guard = ShadowLockGuard::lock();
    // SAFETY: The hash is changed under `klp_shadow_lock`, held by the guard; the buckets are
    // the hash's `1 << KLP_SHADOW_HASH_BITS` heads.
    unsafe {
        let buckets = KLP_SHADOW_HASH.get().cast::<bindings::hlist_head>();
        for i in 0..1usize << KLP_SHADOW_HASH_BITS {
            for shadow in klp_shadow_walk(buckets.add(i)) {
                if (*shadow).id == id {
                    klp_shadow_free_struct(shadow, dtor);
                }
            }
        }
    }
}
