// SPDX-License-Identifier: GPL-2.0

//! Dynamic debug call sites written in Rust.
//!
//! C header: [`include/linux/dynamic_debug.h`](srctree/include/linux/dynamic_debug.h)
//!
//! [`dynamic_pr_debug!`] places a `struct _ddebug` descriptor in the `__dyndbg` section, exactly as
//! C's `pr_debug()` does under `CONFIG_DYNAMIC_DEBUG`, so that a Rust call site is listed in
//! `<debugfs>/dynamic_debug/control` with its module, function, file and line, and is switched
//! by the same queries (`file kernel/livepatch/* +p`, `func klp_try_switch_task -p`). The message
//! is printed by `__dynamic_pr_debug()` from a C format string: the text is byte for byte what
//! the C call site would print.
//!
//! Unlike C, the call site tests the descriptor's `print` flag with a plain load instead of a
//! static branch; the descriptor's static key stays unused (it has no jump entries).

use core::cell::UnsafeCell;
use core::ffi::c_char;

/// The layout of `struct _ddebug` (checked against the bindings below).
#[repr(C, align(8))]
struct DDebug {
    modname: *const c_char,
    function: *const c_char,
    filename: *const c_char,
    format: *const c_char,
    /// `lineno:18`, `class_id:6`, `flags:8`, in that order from bit 0.
    bits: u32,
    #[cfg(CONFIG_JUMP_LABEL)]
    key: bindings::static_key,
}

const _: () = assert!(core::mem::size_of::<DDebug>() == core::mem::size_of::<bindings::_ddebug>());

const LINENO_BITS: u32 = 18;
const CLASS_SHIFT: u32 = LINENO_BITS;
const FLAGS_SHIFT: u32 = LINENO_BITS + bindings::CLS_BITS;

/// A dynamic debug descriptor: one per call site, in the `__dyndbg` section.
///
/// Create it with [`dynamic_pr_debug!`], never by hand: the section is walked by the dynamic
/// debug core as an array of `struct _ddebug`.
#[repr(transparent)]
pub struct Descriptor(UnsafeCell<DDebug>);

// SAFETY: The dynamic debug core changes `flags` under its own mutex; the call site only loads
// them (a racy but harmless read, as in C without jump labels). Every pointer is to 'static data.
unsafe impl Sync for Descriptor {}

impl Descriptor {
    /// A descriptor for a call site. Every string must end with a NUL byte.
    ///
    /// # Examples
    ///
    /// ```
    /// use kernel::dynamic_debug::Descriptor;
    /// static D: Descriptor = Descriptor::new("mod\0", "func\0", "file.rs\0", "fmt\n\0", 1);
    /// assert!(!D.enabled());
    /// ```
    pub const fn new(
        modname: &'static str,
        function: &'static str,
        filename: &'static str,
        format: &'static str,
        lineno: u32,
    ) -> Self {
        assert!(modname.as_bytes()[modname.len() - 1] == 0);
        assert!(function.as_bytes()[function.len() - 1] == 0);
        assert!(filename.as_bytes()[filename.len() - 1] == 0);
        assert!(format.as_bytes()[format.len() - 1] == 0);
        let lineno = lineno & ((1 << LINENO_BITS) - 1);
        let class = bindings::_DPRINTK_CLASS_DFLT << CLASS_SHIFT;
        let flags = bindings::_DPRINTK_FLAGS_NONE << FLAGS_SHIFT;
        Self(UnsafeCell::new(DDebug {
            modname: modname.as_ptr().cast(),
            function: function.as_ptr().cast(),
            filename: filename.as_ptr().cast(),
            format: format.as_ptr().cast(),
            bits: lineno | class | flags,
            // SAFETY: An all-zero `static_key` is `STATIC_KEY_FALSE_INIT`.
            #[cfg(CONFIG_JUMP_LABEL)]
            key: unsafe { core::mem::zeroed() },
        }))
    }

    /// Whether the call site is switched on (`+p`).
    #[inline]
    pub fn enabled(&self) -> bool {
        // SAFETY: `bits` is a valid, aligned `u32` for the lifetime of the static; the dynamic
        // debug core may write it concurrently, hence the volatile load.
        let bits = unsafe { core::ptr::addr_of!((*self.0.get()).bits).read_volatile() };
        (bits >> FLAGS_SHIFT) & bindings::_DPRINTK_FLAGS_PRINT != 0
    }

    /// The descriptor as the C type, for `__dynamic_pr_debug()`.
    #[inline]
    pub fn as_ptr(&self) -> *mut bindings::_ddebug {
        self.0.get().cast()
    }
}

/// Prints a debug message from a dynamic debug call site, as C's `pr_debug()`.
///
/// The arguments are the module name (`KBUILD_MODNAME` of the C files this code stands for),
/// the function name the call site is listed under, the prefix that C's `pr_fmt()` adds, a C
/// format string literal and its arguments, which must be C types matching the format
/// (`c_int`, `*const c_char`, ...).
///
/// # Examples
///
/// ```
/// use kernel::dynamic_pr_debug;
/// let pid: core::ffi::c_int = 1;
/// // SAFETY: `%d` matches a `c_int`.
/// unsafe { dynamic_pr_debug!("demo", "demo_func", "demo: ", "pid %d\n", pid) };
/// ```
///
/// # Safety
///
/// The arguments must match the conversions of the format string, as for `printf`.
#[macro_export]
macro_rules! dynamic_pr_debug {
    ($modname:literal, $function:literal, $prefix:literal, $fmt:literal $(, $arg:expr)* $(,)?) => {{
        #[link_section = "__dyndbg"]
        #[used]
        static DESCRIPTOR: $crate::dynamic_debug::Descriptor = $crate::dynamic_debug::Descriptor::new(
            concat!($modname, "\0"),
            concat!($function, "\0"),
            concat!(file!(), "\0"),
            concat!($fmt, "\0"),
            line!(),
        );
        if DESCRIPTOR.enabled() {
            $crate::bindings::__dynamic_pr_debug(
                DESCRIPTOR.as_ptr(),
                concat!($prefix, $fmt, "\0").as_ptr().cast(),
                $($arg),*
            );
        }
    }};
}
