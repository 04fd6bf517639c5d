// SPDX-License-Identifier: GPL-2.0
// expect: livepatch: shadow data with a destructor is never lent out
//! Must not compile: lending out shadow data that owns memory, which a concurrent free()
//! would drop under the reader.

// Each file imports the same names; only the error under test matters.
#![allow(unused_imports)]

use kernel::livepatch::{Livepatch, Object, Patch, RawArg, Shadow, State};
use kernel::prelude::*;
use kernel::seq_file::SeqFile;

kernel::module_livepatch! {
    type: Bad,
    name: "shadow_lend_owned",
    author: "rust-klp",
    description: "a patch description the compiler refuses",
    license: "GPL",
}

static OWNED: Shadow<KBox<u32>> = Shadow::new(1);

struct Bad;

impl Livepatch for Bad {
    const PATCH: Patch = Patch::new(&[Object::vmlinux(&[
        kernel::klp_func!(cmdline_proc_show => fn show(m: &SeqFile, _v: RawArg) -> i32 { OWNED.with(m, |n| **n as i32).unwrap_or(0) }),
    ])]);
}
