// SPDX-License-Identifier: GPL-2.0
// expect: livepatch: a state id must not be 0
//! Must not compile: a state with id 0, which would end the C array of states.

// Each file imports the same names; only the error under test matters.
#![allow(unused_imports)]

use kernel::livepatch::{Livepatch, Object, Patch, RawArg, State};
use kernel::seq_file::SeqFile;

kernel::module_livepatch! {
    type: Bad,
    name: "state_id_zero",
    author: "rust-klp",
    description: "a patch description the compiler refuses",
    license: "GPL",
}

struct Bad;

impl Livepatch for Bad {
    const PATCH: Patch = Patch::new(&[Object::vmlinux(&[kernel::klp_func!(cmdline_proc_show => fn show(m: &SeqFile, _v: RawArg) -> i32 { kernel::seq_print!(m, "x\n"); 0 })])])
        .states(&[State::new(0, 1)]);
}
