// SPDX-License-Identifier: GPL-2.0

//! Livepatch modules in safe Rust.
//!
//! A livepatch module replaces functions of the running kernel (vmlinux or modules) with new
//! versions it carries. This module describes such a patch over the C ABI of
//! `<linux/livepatch.h>`, so a Rust patch works with either livepatch core, and makes the
//! module a livepatch module: [`module_livepatch!`](crate::module_livepatch) marks it
//! `livepatch=Y` and enables the patch when it loads.
//!
//! - A patch is a constant [`Patch`] of [`Object`]s, each replacing [`Func`]s made by
//!   [`klp_func!`](crate::klp_func) from ordinary Rust functions; the compiler refuses a
//!   description the kernel would refuse for its shape (see [`Patch::new`]).
//! - [`Callbacks`] run around the patching of an object; [`State`]s declare what system state
//!   a patch sets up, for cumulative patches to take over.
//! - [`Shadow`] variables attach typed data to existing kernel objects.
//! - [`klp_c_struct!`](crate::klp_c_struct) declares a C structure of the patched code, which
//!   replacements make, take or free as a [`KBox`](crate::alloc::KBox).
//!
//! C header: [`include/linux/livepatch.h`](srctree/include/linux/livepatch.h); see
//! `Documentation/livepatch/rust-api.rst`.
//!
//! # Examples
//!
//! The whole of a patch module that changes what `/proc/cmdline` shows:
//!
//! ```ignore
//! use kernel::livepatch::{Livepatch, Object, Patch, RawArg};
//! use kernel::seq_file::SeqFile;
//!
//! kernel::module_livepatch! {
//!     type: CmdlinePatch,
//!     name: "rust_livepatch_sample",
//!     author: "rust-klp",
//!     description: "/proc/cmdline, live patched in Rust",
//!     license: "GPL",
//! }
//!
//! struct CmdlinePatch;
//!
//! impl Livepatch for CmdlinePatch {
//!     const PATCH: Patch = Patch::new(&[Object::vmlinux(&[kernel::klp_func!(
//!         cmdline_proc_show => fn show(m: &SeqFile, _v: RawArg) -> i32 {
//!             kernel::seq_print!(m, "this has been live patched\n");
//!             0
//!         }
//!     )])]);
//! }
//! ```

/// Implements the unsafe marker trait `$trait` ([`FfiSafe`], [`CField`]) for the primitive
/// integer types.
macro_rules! impl_for_integers {
    ($trait:ident) => {
        impl_for_integers!($trait: i8, u8, i16, u16, i32, u32, i64, u64, isize, usize);
    };
    ($trait:ident: $($t:ty),*) => { $(
        // SAFETY: a primitive integer: every bit pattern is valid, and it is passed as the C
        // integer of the same size.
        unsafe impl $trait for $t {}
    )* };
}

mod callbacks;
mod cstruct;
mod desc;
mod func;
mod registration;
mod shadow;

pub use callbacks::{Callbacks, KlpObject, ModuleState};
#[doc(hidden)]
pub use cstruct::c_field;
pub use cstruct::{CField, CStruct};
pub use desc::{Func, Object, Patch, State};
#[doc(hidden)]
pub use func::ffi_safe;
pub use func::{FfiSafe, RawArg};
pub use registration::Registration;
pub use shadow::{Shadow, ShadowKey};

/// A livepatch: the type a [`module_livepatch!`](crate::module_livepatch) module enables.
pub trait Livepatch {
    /// What the patch patches.
    const PATCH: Patch;
}

/// Declares a livepatch module: the [`module!`](crate::prelude::module) fields, with `type`
/// a [`Livepatch`].
///
/// The module is marked as a livepatch module (`MODULE_INFO(livepatch, "Y")`), its init makes
/// the C structures of `type`'s patch and enables it (`klp_enable_patch()`), and it frees them
/// when it is removed, which the core allows once the patch is disabled. The patch description
/// is checked when the module is compiled.
///
/// # Examples
///
/// See the [module documentation](self).
#[macro_export]
macro_rules! module_livepatch {
    (type: $type:ident, $($field:ident: $value:tt),* $(,)?) => {
        /// The patch module: the registration of the patch it enabled at load.
        struct __KlpModule(#[allow(dead_code)] $crate::livepatch::Registration);

        impl $crate::Module for __KlpModule {
            fn init(module: &'static $crate::ThisModule) -> $crate::error::Result<Self> {
                $crate::livepatch::Registration::enable(
                    module,
                    &<$type as $crate::livepatch::Livepatch>::PATCH,
                )
                .map(__KlpModule)
            }
        }

        $crate::prelude::module! {
            type: __KlpModule,
            $($field: $value,)*
        }

        /// `MODULE_INFO(livepatch, "Y")`: the core enables only patches of such modules.
        #[cfg(MODULE)]
        #[link_section = ".modinfo"]
        #[used]
        static __KLP_MODINFO_LIVEPATCH: [u8; 12] = *b"livepatch=Y\0";

        // The description is checked by evaluating it.
        const _: $crate::livepatch::Patch = <$type as $crate::livepatch::Livepatch>::PATCH;
    };
}
