// SPDX-License-Identifier: GPL-2.0
// expect: the trait bound `&str: FfiSafe` is not satisfied
//! Must not compile: a replacement that takes a Rust type with no C ABI.

// Each file imports the same names; only the error under test matters.
#![allow(unused_imports)]

use kernel::livepatch::{Livepatch, Object, Patch, RawArg, State};
use kernel::seq_file::SeqFile;

kernel::module_livepatch! {
    type: Bad,
    name: "not_ffi_safe",
    author: "rust-klp",
    description: "a patch description the compiler refuses",
    license: "GPL",
}

struct Bad;

impl Livepatch for Bad {
    const PATCH: Patch = Patch::new(&[Object::vmlinux(&[
        kernel::klp_func!(cmdline_proc_show => fn show(m: &str, _v: RawArg) -> i32 { let _ = m; 0 }),
    ])]);
}
