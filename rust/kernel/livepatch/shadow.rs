// SPDX-License-Identifier: GPL-2.0

//! Typed shadow variables: data that a patch attaches to an existing object (one it cannot
//! grow), keyed by the object's address and a numeric id (`klp_shadow_*()`).
//!
//! The core frees shadow data after an RCU grace period (`kfree_rcu()`), so [`Shadow`] hands
//! its data out only inside an RCU read-side critical section ([`Shadow::with`]) or by copy
//! ([`Shadow::get`]): no reference outlives a concurrent [`Shadow::free`]. Data that changes
//! after its creation changes through interior mutability (atomics).
//!
//! Data that owns something (a type with a destructor, such as a [`KBox`](crate::alloc::KBox))
//! is dropped when it is freed ([`Shadow::free`], [`Shadow::free_all`]: the core's `dtor`), and
//! it is never lent out, since a reader could still hold it when it is dropped: `with` and
//! `get` do not compile for it.

use super::func::RawArg;
use crate::ffi::{c_int, c_ulong, c_void};
use crate::{
    alloc::Flags,
    bindings,
    error::{code::*, Result},
};
use core::{
    marker::PhantomData,
    mem::{align_of, needs_drop, size_of},
};

/// What a shadow variable is attached to: an object's address.
pub trait ShadowKey: Copy {
    /// The address that identifies the object.
    fn shadow_key(&self) -> *mut c_void;
}

impl<T: ?Sized> ShadowKey for &T {
    fn shadow_key(&self) -> *mut c_void {
        (*self as *const T).cast::<c_void>().cast_mut()
    }
}

impl ShadowKey for RawArg {
    fn shadow_key(&self) -> *mut c_void {
        self.addr() as *mut c_void
    }
}

/// The shadow variables of one id, holding a `T` each.
///
/// # Examples
///
/// ```
/// use core::sync::atomic::{AtomicU32, Ordering};
/// use kernel::livepatch::Shadow;
/// use kernel::prelude::*;
///
/// static COUNT: Shadow<AtomicU32> = Shadow::new(1);
///
/// let object = 0u64;
/// COUNT.alloc(&object, AtomicU32::new(1), GFP_KERNEL)?;
/// COUNT.with(&object, |count| count.fetch_add(1, Ordering::Relaxed));
/// assert_eq!(COUNT.with(&object, |count| count.load(Ordering::Relaxed)), Some(2));
/// COUNT.free(&object);
/// assert!(COUNT.with(&object, |_| ()).is_none());
/// # Ok::<(), Error>(())
/// ```
pub struct Shadow<T> {
    id: c_ulong,
    _data: PhantomData<T>,
}

impl<T: Send + Sync> Shadow<T> {
    const CHECKS: () = {
        assert!(
            align_of::<T>() <= align_of::<c_ulong>(),
            "livepatch: shadow data is aligned to unsigned long at most"
        );
    };

    /// The shadow variables of `id`, shared with every patch that uses the same id.
    pub const fn new(id: u64) -> Self {
        #[allow(clippy::let_unit_value)]
        let () = Self::CHECKS;
        Shadow {
            id: id as c_ulong,
            _data: PhantomData,
        }
    }

    /// Attaches `value` to `obj`; `EEXIST` if `obj` already has one of this id (the core warns),
    /// `ENOMEM` if it cannot be allocated.
    pub fn alloc(&self, obj: impl ShadowKey, value: T, flags: Flags) -> Result {
        self.get_or_alloc_with(obj, flags, || value, true)
    }

    /// Attaches the value `init` makes to `obj`, unless it already has one; `ENOMEM` if it
    /// cannot be allocated. `init` runs under the core's shadow spinlock: it must not sleep.
    pub fn get_or_alloc(
        &self,
        obj: impl ShadowKey,
        flags: Flags,
        init: impl FnOnce() -> T,
    ) -> Result {
        self.get_or_alloc_with(obj, flags, init, false)
    }

    fn get_or_alloc_with<F: FnOnce() -> T>(
        &self,
        obj: impl ShadowKey,
        flags: Flags,
        init: F,
        must_be_new: bool,
    ) -> Result {
        let mut init = Some(init);
        let ctor_data = (&mut init as *mut Option<F>).cast::<c_void>();
        let (key, size, ctor) = (obj.shadow_key(), size_of::<T>(), Some(ctor::<T, F> as _));
        // SAFETY: `ctor::<T, F>` writes a `T` of `size` bytes into the new shadow data from
        // `ctor_data`, an `Option<F>` that lives until the call returns.
        let data = unsafe {
            if must_be_new {
                bindings::klp_shadow_alloc(key, self.id, size, flags.as_raw(), ctor, ctor_data)
            } else {
                bindings::klp_shadow_get_or_alloc(
                    key,
                    self.id,
                    size,
                    flags.as_raw(),
                    ctor,
                    ctor_data,
                )
            }
        };
        match data.is_null() {
            false => Ok(()),
            // Nothing was attached: the variable exists, or the allocation failed.
            true if must_be_new && self.exists(obj) => Err(EEXIST),
            true => Err(ENOMEM),
        }
    }

    /// Whether `obj` has data of this id.
    pub fn exists(&self, obj: impl ShadowKey) -> bool {
        // SAFETY: the data is not read, only found.
        unsafe { !bindings::klp_shadow_get(obj.shadow_key(), self.id).is_null() }
    }

    /// Calls `f` with the data attached to `obj`, if any, inside an RCU read-side critical
    /// section (so `f` must not sleep). Only for data without a destructor.
    pub fn with<R>(&self, obj: impl ShadowKey, f: impl FnOnce(&T) -> R) -> Option<R> {
        const {
            assert!(
                !needs_drop::<T>(),
                "livepatch: shadow data with a destructor is never lent out"
            )
        };
        // SAFETY: the RCU read lock keeps the data found below from being freed (the core frees
        // it with `kfree_rcu()`) until the unlock, after `f` returns; the data is a `T` that
        // `ctor` wrote, and only read (or changed through interior mutability) afterwards.
        unsafe {
            bindings::rcu_read_lock();
            let data = bindings::klp_shadow_get(obj.shadow_key(), self.id).cast::<T>();
            let result = data.as_ref().map(f);
            bindings::rcu_read_unlock();
            result
        }
    }

    /// A copy of the data attached to `obj`, if any.
    pub fn get(&self, obj: impl ShadowKey) -> Option<T>
    where
        T: Copy,
    {
        self.with(obj, |data| *data)
    }

    /// Detaches and frees the data attached to `obj`, if any, dropping it first. The drop runs
    /// under the core's shadow spinlock: it must not sleep.
    pub fn free(&self, obj: impl ShadowKey) {
        // SAFETY: the core detaches the data under its lock, so `dtor` drops each `T` once;
        // data with a destructor is never lent out (`with`), and readers of the other data are
        // protected by RCU.
        unsafe { bindings::klp_shadow_free(obj.shadow_key(), self.id, Self::DTOR) }
    }

    /// Detaches and frees the data of every object with this id, as [`Shadow::free`] does.
    pub fn free_all(&self) {
        // SAFETY: as for `free`.
        unsafe { bindings::klp_shadow_free_all(self.id, Self::DTOR) }
    }

    /// The core's destructor for `T`: none if `T` needs no drop.
    const DTOR: bindings::klp_shadow_dtor_t = if needs_drop::<T>() {
        Some(dtor::<T>)
    } else {
        None
    };
}

/// The destructor of a shadow variable: drops its `T`.
///
/// # Safety
///
/// `shadow_data` holds a `T` that `ctor` wrote, which nothing uses any more.
unsafe extern "C" fn dtor<T>(_obj: *mut c_void, shadow_data: *mut c_void) {
    // SAFETY: by the safety requirements, `shadow_data` holds a `T` that is no longer used.
    unsafe { core::ptr::drop_in_place(shadow_data.cast::<T>()) }
}

/// The constructor of a shadow variable: moves the value that `ctor_data`'s closure makes into
/// the new data.
///
/// # Safety
///
/// `shadow_data` has room for a `T` aligned to `unsigned long`; `ctor_data` is a valid
/// `Option<F>`.
unsafe extern "C" fn ctor<T, F: FnOnce() -> T>(
    _obj: *mut c_void,
    shadow_data: *mut c_void,
    ctor_data: *mut c_void,
) -> c_int {
    // SAFETY: by the safety requirements, `ctor_data` is a valid `Option<F>`.
    let init = unsafe { &mut *ctor_data.cast::<Option<F>>() };
    match init.take() {
        Some(init) => {
            // SAFETY: by the safety requirements, `shadow_data` can hold a `T`.
            unsafe { shadow_data.cast::<T>().write(init()) };
            0
        }
        None => EINVAL.to_errno(),
    }
}
