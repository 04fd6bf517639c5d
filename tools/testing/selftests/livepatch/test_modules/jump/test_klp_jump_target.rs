// SPDX-License-Identifier: GPL-2.0

//! Not a livepatch: the Rust target of the jump cases of test-direct.sh.
//!
//! Reading `/proc/test_klp_jump_target` runs the Rust function `target_show()`, which has no
//! ftrace location, as no Rust function has in 6.12. Reading `/proc/test_klp_jump_target_slow`
//! runs it with a delay of 2 s before it writes, so that it is on the reader's stack meanwhile.

use core::ffi::{c_int, c_void};
use kernel::bindings;
use kernel::c_str;
use kernel::prelude::*;
use kernel::seq_file::SeqFile;

module! {
    type: TestKlpJumpTarget,
    name: "test_klp_jump_target",
    author: "rust-klp",
    description: "Livepatch test: a Rust target module (jump redirector)",
    license: "GPL",
}

/// What both files show: the function the patches replace.
#[inline(never)]
pub fn target_show(m: &SeqFile, delay_ms: u32) {
    if delay_ms != 0 {
        // SAFETY: Sleeping is allowed in a `show()` callback.
        unsafe { bindings::msleep(delay_ms) };
    }
    kernel::seq_print!(m, "test_klp_jump_target: original\n");
}

/// The `show()` of a file: `target_show()` after `delay_ms`.
///
/// # Safety
///
/// Called by `seq_file` with the `seq_file` it owns for the call.
unsafe fn show(m: *mut bindings::seq_file, delay_ms: u32) -> c_int {
    // SAFETY: `SeqFile` is a transparent wrapper of the `seq_file` that is ours for the call.
    target_show(unsafe { &*m.cast::<SeqFile>() }, delay_ms);
    0
}

/// `/proc/test_klp_jump_target`.
///
/// # Safety
///
/// As for [`show`].
unsafe extern "C" fn fast_show(m: *mut bindings::seq_file, _v: *mut c_void) -> c_int {
    // SAFETY: The function's safety requirement.
    unsafe { show(m, 0) }
}

/// `/proc/test_klp_jump_target_slow`.
///
/// # Safety
///
/// As for [`show`].
unsafe extern "C" fn slow_show(m: *mut bindings::seq_file, _v: *mut c_void) -> c_int {
    // SAFETY: The function's safety requirement.
    unsafe { show(m, 2000) }
}

struct TestKlpJumpTarget;

impl kernel::Module for TestKlpJumpTarget {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let files = [
            (c_str!("test_klp_jump_target"), fast_show as ShowFn),
            (c_str!("test_klp_jump_target_slow"), slow_show as ShowFn),
        ];
        for (i, (name, show)) in files.into_iter().enumerate() {
            // SAFETY: A file of `/proc` with a `show()` that stays while the module is loaded:
            // the files are removed when it goes.
            let entry = unsafe {
                bindings::proc_create_single_data(
                    name.as_char_ptr(),
                    0o444,
                    core::ptr::null_mut(),
                    Some(show),
                    core::ptr::null_mut(),
                )
            };
            if entry.is_null() {
                remove(&files[..i]);
                return Err(ENOMEM);
            }
        }
        Ok(TestKlpJumpTarget)
    }
}

type ShowFn = unsafe extern "C" fn(*mut bindings::seq_file, *mut c_void) -> c_int;

/// Removes the files of `files`.
fn remove(files: &[(&CStr, ShowFn)]) {
    for (name, _) in files {
        // SAFETY: Removes a file of `/proc` by name.
        unsafe { bindings::remove_proc_entry(name.as_char_ptr(), core::ptr::null_mut()) };
    }
}

impl Drop for TestKlpJumpTarget {
    fn drop(&mut self) {
        remove(&[
            (c_str!("test_klp_jump_target"), fast_show as ShowFn),
            (c_str!("test_klp_jump_target_slow"), slow_show as ShowFn),
        ]);
    }
}
