// SPDX-License-Identifier: GPL-2.0

//! Replacement functions: ordinary Rust functions with typed arguments, and the C-ABI entry
//! point that [`klp_func!`](crate::klp_func) generates for each.
//!
//! The ftrace handler of the core redirects a call of the patched function to its replacement
//! with the registers as the caller set them, so the replacement takes the patched function's C
//! arguments and returns its C result. Every argument and result type must be [`FfiSafe`]: a
//! type with the C ABI of a C type, such as an integer, a reference to a C structure's
//! abstraction ([`SeqFile`](crate::seq_file::SeqFile)), or a [`RawArg`] for an argument the
//! replacement only passes on or uses as a key.

use core::ffi::c_void;

/// A type that a replacement function may take or return: it has the ABI of a C type.
///
/// # Safety
///
/// The type is passed and returned as the C type it stands for (an integer of the same size, a
/// pointer), and every value the C side may pass is a valid value of the type.
pub unsafe trait FfiSafe {}

impl_for_integers!(FfiSafe);

// SAFETY: `()` is C's `void` as a result type.
unsafe impl FfiSafe for () {}

// SAFETY: `SeqFile` is a transparent wrapper of `struct seq_file`, so a reference to it is
// passed as a `struct seq_file *`; a `show()` callback always receives a valid one.
unsafe impl FfiSafe for &crate::seq_file::SeqFile {}

// SAFETY: `RawArg` is a transparent wrapper of a pointer, which it never dereferences.
unsafe impl FfiSafe for RawArg {}

/// A pointer argument that the replacement does not dereference: it passes it on, compares it,
/// or uses it as the key of a [`Shadow`](super::Shadow) variable.
#[repr(transparent)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RawArg(*mut c_void);

impl RawArg {
    /// The address, for comparisons and keys.
    pub fn addr(self) -> usize {
        self.0 as usize
    }
}

/// Checks at compile time that `T` may cross the C ABI; used by [`klp_func!`](crate::klp_func).
#[doc(hidden)]
pub const fn ffi_safe<T: FfiSafe>() {}

/// Describes a [`Func`](super::Func): the function to replace and its replacement, an
/// ordinary Rust function with typed arguments.
///
/// `old_name => fn new_name(args) -> ret { body }` replaces `old_name` (a unique symbol of its
/// object); `old_name @ N => ...` the `N`th symbol of that name (`old_sympos`). The macro
/// defines the Rust function and a C-ABI entry point that calls it, and checks that every
/// argument and result type is [`FfiSafe`](super::FfiSafe). The types must be those of the C
/// prototype of `old_name`, as they must in C: the compiler cannot see that prototype.
///
/// # Examples
///
/// ```
/// use kernel::livepatch::RawArg;
/// use kernel::seq_file::SeqFile;
///
/// const FUNC: kernel::livepatch::Func = kernel::klp_func!(
///     cmdline_proc_show => fn livepatch_cmdline_proc_show(m: &SeqFile, _v: RawArg) -> i32 {
///         kernel::seq_print!(m, "this has been live patched\n");
///         0
///     }
/// );
/// ```
///
/// A Rust function is named by its path, as a string: `"krate::module::function"` (the core
/// finds the mangled symbol, whose crate hash is not known in advance). Rust functions have no
/// ftrace location, so only a patch enabled with jumps ([`Patch::jump`](super::Patch::jump))
/// can replace them. `"path" => rust fn new_name(args) -> ret { body }` makes a replacement
/// with the Rust ABI, for a function with the Rust ABI: its types must then be those of the
/// Rust prototype of the replaced function, compiled by the same compiler.
///
/// ```
/// use kernel::seq_file::SeqFile;
///
/// const FUNC: kernel::livepatch::Func = kernel::klp_func!(
///     "test_klp_jump_target::target_show" => rust fn show(m: &SeqFile, _delay_ms: u32) {
///         kernel::seq_print!(m, "this has been live patched\n");
///     }
/// );
/// ```
#[macro_export]
macro_rules! klp_func {
    ($old:ident $(@ $sympos:literal)? =>
     fn $new:ident($($arg:ident : $ty:ty),* $(,)?) $(-> $ret:ty)? $body:block) => {
        $crate::klp_func!(@c ::core::stringify!($old), 0 $(+ $sympos)?;
                          fn $new($($arg: $ty),*) $(-> $ret)? $body)
    };
    ($old:literal $(@ $sympos:literal)? =>
     fn $new:ident($($arg:ident : $ty:ty),* $(,)?) $(-> $ret:ty)? $body:block) => {
        $crate::klp_func!(@c $old, 0 $(+ $sympos)?; fn $new($($arg: $ty),*) $(-> $ret)? $body)
    };
    ($old:literal $(@ $sympos:literal)? =>
     rust fn $new:ident($($arg:ident : $ty:ty),* $(,)?) $(-> $ret:ty)? $body:block) => {{
        fn __klp_new_func($($arg: $ty),*) $(-> $ret)? $body
        $crate::klp_func!(@func $old, 0 $(+ $sympos)?, __klp_new_func)
    }};
    (@c $old:expr, $sympos:expr;
     fn $new:ident($($arg:ident : $ty:ty),*) $(-> $ret:ty)? $body:block) => {{
        fn $new($($arg: $ty),*) $(-> $ret)? $body

        extern "C" fn __klp_new_func($($arg: $ty),*) $(-> $ret)? {
            $($crate::livepatch::ffi_safe::<$ty>();)*
            $($crate::livepatch::ffi_safe::<$ret>();)?
            $new($($arg),*)
        }
        $crate::klp_func!(@func $old, $sympos, __klp_new_func)
    }};
    (@func $old:expr, $sympos:expr, $new_func:ident) => {{
        const OLD_NAME: &::core::ffi::CStr =
            match ::core::ffi::CStr::from_bytes_with_nul(
                ::core::concat!($old, "\0").as_bytes(),
            ) {
                Ok(name) => name,
                Err(_) => ::core::panic!("livepatch: bad function name"),
            };
        // SAFETY: `$new_func` takes and returns the types the author gives as those of the
        // replaced function's prototype (C: `FfiSafe` types; Rust: the same Rust types), and
        // is part of the module for as long as it is loaded.
        unsafe {
            $crate::livepatch::Func::new(OLD_NAME, $sympos, $new_func as *const ::core::ffi::c_void)
        }
    }};
}
