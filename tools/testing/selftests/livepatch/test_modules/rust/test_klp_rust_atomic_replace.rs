// SPDX-License-Identifier: GPL-2.0

//! Livepatch test in Rust: a cumulative (atomic replace) patch of /proc/meminfo, as
//! `test_klp_atomic_replace.c` loaded with `replace=1`.

use kernel::livepatch::{Livepatch, Object, Patch, RawArg};
use kernel::seq_file::SeqFile;

kernel::module_livepatch! {
    type: TestKlpRustAtomicReplace,
    name: "test_klp_rust_atomic_replace",
    author: "rust-klp",
    description: "Livepatch test in Rust: atomic replace",
    license: "GPL",
}

struct TestKlpRustAtomicReplace;

impl Livepatch for TestKlpRustAtomicReplace {
    const PATCH: Patch = Patch::new(&[Object::vmlinux(&[kernel::klp_func!(
        meminfo_proc_show => fn livepatch_meminfo_proc_show(m: &SeqFile, _v: RawArg) -> i32 {
            kernel::seq_print!(m, "test_klp_rust_atomic_replace: this has been live patched\n");
            0
        }
    )])])
    .replace();
}
