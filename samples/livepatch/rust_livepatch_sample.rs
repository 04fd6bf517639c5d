// SPDX-License-Identifier: GPL-2.0

//! Livepatch sample in Rust: `/proc/cmdline` shows "this has been live patched", as
//! `livepatch-sample.c` does.
//!
//! Example:
//!
//! ```text
//! $ cat /proc/cmdline
//! <your cmdline>
//! $ insmod rust_livepatch_sample.ko
//! $ cat /proc/cmdline
//! this has been live patched
//! $ echo 0 > /sys/kernel/livepatch/rust_livepatch_sample/enabled
//! $ cat /proc/cmdline
//! <your cmdline>
//! ```

use kernel::livepatch::{Livepatch, Object, Patch, RawArg};
use kernel::seq_file::SeqFile;

kernel::module_livepatch! {
    type: RustLivepatchSample,
    name: "rust_livepatch_sample",
    author: "rust-klp",
    description: "Rust livepatch sample: /proc/cmdline, live patched",
    license: "GPL",
}

struct RustLivepatchSample;

impl Livepatch for RustLivepatchSample {
    const PATCH: Patch = Patch::new(&[Object::vmlinux(&[kernel::klp_func!(
        cmdline_proc_show => fn livepatch_cmdline_proc_show(m: &SeqFile, _v: RawArg) -> i32 {
            kernel::seq_print!(m, "this has been live patched\n");
            0
        }
    )])]);
}
