// SPDX-License-Identifier: GPL-2.0

//! Livepatch test in Rust: /proc/cmdline shows the module's name and "this has been live
//! patched", as `test_klp_livepatch.c` does.

use kernel::livepatch::{Livepatch, Object, Patch, RawArg};
use kernel::seq_file::SeqFile;

kernel::module_livepatch! {
    type: TestKlpRustLivepatch,
    name: "test_klp_rust_livepatch",
    author: "rust-klp",
    description: "Livepatch test in Rust: livepatch module",
    license: "GPL",
}

struct TestKlpRustLivepatch;

impl Livepatch for TestKlpRustLivepatch {
    const PATCH: Patch = Patch::new(&[Object::vmlinux(&[kernel::klp_func!(
        cmdline_proc_show => fn livepatch_cmdline_proc_show(m: &SeqFile, _v: RawArg) -> i32 {
            kernel::seq_print!(m, "test_klp_rust_livepatch: this has been live patched\n");
            0
        }
    )])]);
}
