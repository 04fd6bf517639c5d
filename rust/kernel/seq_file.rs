// SPDX-License-Identifier: GPL-2.0

//! Sequential files (`seq_file`): the output side of a `show()` callback.
//!
//! C header: [`include/linux/seq_file.h`](srctree/include/linux/seq_file.h)

use crate::{bindings, types::Opaque};
use core::fmt;

/// A `struct seq_file` that a `show()` callback writes to.
///
/// # Invariants
///
/// `self.0` is a `struct seq_file` that the caller of the `show()` callback owns for the
/// duration of the call.
#[repr(transparent)]
pub struct SeqFile(Opaque<bindings::seq_file>);

impl SeqFile {
    /// Writes formatted text; use [`seq_print!`](crate::seq_print).
    #[doc(hidden)]
    pub fn call_printf(&self, args: fmt::Arguments<'_>) {
        // SAFETY: `self.0` is a valid `seq_file` by the type invariant; `%pA` formats the
        // `fmt::Arguments` that the pointer points to, which outlives the call.
        unsafe {
            bindings::seq_printf(
                self.0.get(),
                crate::c_str!("%pA").as_char_ptr(),
                (&args as *const fmt::Arguments<'_>).cast::<crate::ffi::c_void>(),
            );
        }
    }
}

/// Writes formatted text to a [`SeqFile`], as `seq_printf()` with Rust's formatting.
///
/// # Examples
///
/// ```
/// # use kernel::seq_file::SeqFile;
/// fn show(m: &SeqFile) {
///     kernel::seq_print!(m, "{}: {}\n", "answer", 42);
/// }
/// ```
#[macro_export]
macro_rules! seq_print {
    ($m:expr, $($arg:tt)+) => {
        $m.call_printf(::core::format_args!($($arg)+))
    };
}
