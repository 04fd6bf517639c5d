// SPDX-License-Identifier: GPL-2.0

//! C structures of the patched code, declared in Rust ([`klp_c_struct!`](crate::klp_c_struct))
//! for replacement functions that make, take or free them.
//!
//! A C patch redeclares the structures of the code it patches; a Rust patch declares them with
//! [`klp_c_struct!`](crate::klp_c_struct). A replacement function then takes or returns such a
//! structure as a type that says who owns it:
//!
//! - `Option<KBox<T>>` as the result: the replacement hands an object it allocated (with
//!   `kmalloc()`, the allocator of [`KBox`]), or `NULL`, over to its caller, as a C function
//!   that allocates the structure does;
//! - `KBox<T>` as an argument: the caller hands the object over, as to a C function that frees
//!   it, and dropping the box frees it (`kfree()`).

use super::func::FfiSafe;
use crate::alloc::KBox;
use crate::types::Opaque;

/// A Rust declaration of a C structure of the patched code, made by
/// [`klp_c_struct!`](crate::klp_c_struct).
///
/// # Safety
///
/// The type is `#[repr(C)]` with the fields of the C structure, in its order and of its field
/// types' sizes and alignments; each field is a [`CField`].
pub unsafe trait CStruct: Sized {}

/// The type of a field of a [`CStruct`]: an integer, valid for every bit pattern, or an
/// [`Opaque`], which Rust code does not read and C code may change at any time.
///
/// # Safety
///
/// Every bit pattern is a valid value of the type, and C code may write it while Rust holds a
/// shared reference to the structure only if it is an [`Opaque`].
pub unsafe trait CField {}

impl_for_integers!(CField);

// SAFETY: an `Opaque` holds any bytes, and its content may change under a shared reference.
unsafe impl<T> CField for Opaque<T> {}

// SAFETY: `KBox<T>` is a transparent non-null pointer, passed as the `T *` of the C prototype.
// The author declares by this argument type that the caller passes a valid object it gives up,
// allocated with `kmalloc()`, the allocator of `KBox`.
unsafe impl<T: CStruct> FfiSafe for KBox<T> {}

// SAFETY: `Option<KBox<T>>` is a nullable pointer (`KBox` is a transparent `NonNull`), passed
// as the `T *` of the C prototype: the caller receives `NULL` or an object allocated with
// `kmalloc()`, to free with `kfree()`.
unsafe impl<T: CStruct> FfiSafe for Option<KBox<T>> {}

/// Checks at compile time that `T` may be a field of a [`CStruct`]; used by
/// [`klp_c_struct!`](crate::klp_c_struct).
#[doc(hidden)]
pub const fn c_field<T: CField>() {}

/// Declares a C structure of the patched code for replacement functions: a `#[repr(C)]` Rust
/// structure with the same fields, which must be integers or [`Opaque`](crate::types::Opaque).
///
/// As the argument and result types of [`klp_func!`](crate::klp_func), the fields must be
/// those of the C structure: the compiler cannot see it.
///
/// # Examples
///
/// The `struct dummy` of `samples/livepatch/livepatch-shadow-mod.c`, made and freed by
/// replacements of its `dummy_alloc()` and `dummy_free()`:
///
/// ```
/// use kernel::prelude::*;
/// use kernel::types::Opaque;
///
/// kernel::klp_c_struct! {
///     /// `struct dummy`.
///     struct Dummy {
///         /// `struct list_head list`, which only the C code uses.
///         list: Opaque<[usize; 2]>,
///         jiffies_expire: usize,
///     }
/// }
///
/// const ALLOC: kernel::livepatch::Func = kernel::klp_func!(
///     dummy_alloc => fn new_dummy_alloc() -> Option<KBox<Dummy>> {
///         KBox::new(Dummy { list: Opaque::uninit(), jiffies_expire: 0 }, GFP_KERNEL).ok()
///     }
/// );
///
/// const FREE: kernel::livepatch::Func = kernel::klp_func!(
///     dummy_free => fn new_dummy_free(d: KBox<Dummy>) {
///         pr_info!("freeing a dummy that expired at {}\n", d.jiffies_expire);
///     }
/// );
/// ```
#[macro_export]
macro_rules! klp_c_struct {
    ($(#[$meta:meta])* $vis:vis struct $name:ident {
        $($(#[$fmeta:meta])* $fvis:vis $field:ident : $ty:ty),* $(,)?
    }) => {
        $(#[$meta])*
        #[repr(C)]
        // The patch may not use every field of the C structure.
        #[allow(dead_code)]
        $vis struct $name {
            $($(#[$fmeta])* $fvis $field: $ty),*
        }

        const _: () = { $($crate::livepatch::c_field::<$ty>();)* };

        // SAFETY: `repr(C)` with `CField` fields (checked above); that they are the fields of
        // the C structure is the author's declaration, as the prototype of a replacement
        // function is.
        unsafe impl $crate::livepatch::CStruct for $name {}
    };
}
