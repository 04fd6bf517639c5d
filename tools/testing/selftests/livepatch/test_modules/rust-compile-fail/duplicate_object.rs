// SPDX-License-Identifier: GPL-2.0
// expect: livepatch: two objects of the patch name the same target
//! Must not compile: vmlinux twice.

// Each file imports the same names; only the error under test matters.
#![allow(unused_imports)]

use kernel::livepatch::{Livepatch, Object, Patch, RawArg, State};
use kernel::seq_file::SeqFile;

kernel::module_livepatch! {
    type: Bad,
    name: "duplicate_object",
    author: "rust-klp",
    description: "a patch description the compiler refuses",
    license: "GPL",
}

struct Bad;

impl Livepatch for Bad {
    const PATCH: Patch = Patch::new(&[
        Object::vmlinux(&[
            kernel::klp_func!(cmdline_proc_show => fn show(m: &SeqFile, _v: RawArg) -> i32 { kernel::seq_print!(m, "x\n"); 0 }),
        ]),
        Object::vmlinux(&[
            kernel::klp_func!(meminfo_proc_show => fn show2(m: &SeqFile, _v: RawArg) -> i32 { kernel::seq_print!(m, "y\n"); 0 }),
        ]),
    ]);
}
